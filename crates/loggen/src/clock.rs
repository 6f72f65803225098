//! When requests happen, and how their times are written.

use crate::Error;
use crate::write::{push_2digits, push_u64};

/// Relative request rate for each local hour (the value applies at the middle
/// of the hour; rates in between are interpolated). A shop's shape: trough
/// around 03:00–05:00, a morning ramp, peak mid-afternoon, a slow evening
/// decline. The night is about a fifth of the peak.
const HOURLY_RATE: [f64; 24] = [
    0.45, 0.32, 0.24, 0.20, 0.20, 0.25, 0.38, 0.55, 0.72, 0.84, 0.90, 0.93, 0.95, 0.97, 1.00, 1.00,
    0.98, 0.93, 0.88, 0.86, 0.85, 0.80, 0.70, 0.57,
];

/// The request rate at a local second of the day.
fn diurnal_rate(local_second_of_day: f64) -> f64 {
    let pos = local_second_of_day / 3600.0 - 0.5;
    let pos = if pos < 0.0 { pos + 24.0 } else { pos };
    let h = pos.floor();
    let frac = pos - h;
    let i = h as usize % 24;
    HOURLY_RATE[i] * (1.0 - frac) + HOURLY_RATE[(i + 1) % 24] * frac
}

/// Assigns non-decreasing times to lines `0..n` over a window.
///
/// Line `i` gets the quantile `(i + U)/n` of the rate curve, `U` uniform in
/// `[0, 1)`: stratified sampling, so times are sorted by construction, the
/// count per interval follows the curve closely, and gaps stay random.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    start_us: i64,
    duration_us: i64,
    /// Bucket length in microseconds and the normalised cumulative weight at
    /// the end of each bucket; empty when the rate is flat.
    bucket_us: f64,
    cumulative: Vec<f64>,
}

impl Schedule {
    pub(crate) fn new(
        start_unix: i64,
        duration_secs: u64,
        diurnal: bool,
        tz_offset_secs: i32,
    ) -> Self {
        let start_us = start_unix * 1_000_000;
        let duration_us = duration_secs as i64 * 1_000_000;
        if !diurnal {
            return Schedule {
                start_us,
                duration_us,
                bucket_us: 0.0,
                cumulative: Vec::new(),
            };
        }
        // One-minute buckets, coarser for windows longer than about 2 years
        // so the table stays small.
        let bucket_secs = (duration_secs / 1_000_000).max(60);
        let buckets = duration_secs.div_ceil(bucket_secs);
        let mut cumulative = Vec::with_capacity(buckets as usize);
        let mut total = 0.0;
        for b in 0..buckets {
            let from = b * bucket_secs;
            let len = bucket_secs.min(duration_secs - from);
            let mid = start_unix + i64::from(tz_offset_secs) + (from + len / 2) as i64;
            total += diurnal_rate(mid.rem_euclid(86_400) as f64) * len as f64;
            cumulative.push(total);
        }
        for c in &mut cumulative {
            *c /= total;
        }
        Schedule {
            start_us,
            duration_us,
            bucket_us: bucket_secs as f64 * 1e6,
            cumulative,
        }
    }

    /// The time (Unix µs) of quantile `u` in `[0, 1)`. `cursor` remembers the
    /// bucket of the previous call; quantiles must not decrease.
    pub(crate) fn at(&self, u: f64, cursor: &mut usize) -> i64 {
        let offset = if self.cumulative.is_empty() {
            u * self.duration_us as f64
        } else {
            let last = self.cumulative.len() - 1;
            while *cursor < last && self.cumulative[*cursor] <= u {
                *cursor += 1;
            }
            let j = *cursor;
            let lo = if j == 0 { 0.0 } else { self.cumulative[j - 1] };
            let hi = self.cumulative[j];
            let frac = if hi > lo {
                ((u - lo) / (hi - lo)).min(1.0)
            } else {
                0.0
            };
            (j as f64 + frac) * self.bucket_us
        };
        let offset = (offset as i64).clamp(0, self.duration_us - 1);
        self.start_us + offset
    }
}

// The calendar arithmetic is the project's one copy, in the contract crate.
pub(crate) use hotkeys_contract::timestamp::{civil_from_days, days_from_civil};

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `$time_local` and `$time_iso8601` of the current second, rebuilt only
/// when the second changes (many lines share one).
pub(crate) struct TimeText {
    offset_secs: i32,
    second: Option<i64>,
    /// `01/May/2024:00:00:01 +0000`
    pub clf: Vec<u8>,
    /// `2024-05-01T00:00:01+00:00`
    pub iso: Vec<u8>,
}

impl TimeText {
    pub(crate) fn new(offset_secs: i32) -> Self {
        TimeText {
            offset_secs,
            second: None,
            clf: Vec::with_capacity(26),
            iso: Vec::with_capacity(25),
        }
    }

    pub(crate) fn set(&mut self, unix_us: i64) {
        let second = unix_us.div_euclid(1_000_000);
        if self.second == Some(second) {
            return;
        }
        self.second = Some(second);
        let local = second + i64::from(self.offset_secs);
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let sod = local.rem_euclid(86_400);
        let (hh, mm, ss) = (
            (sod / 3600) as u32,
            (sod / 60 % 60) as u32,
            (sod % 60) as u32,
        );
        let sign = if self.offset_secs < 0 { b'-' } else { b'+' };
        let off = self.offset_secs.unsigned_abs() / 60;
        let (oh, om) = (off / 60, off % 60);

        let c = &mut self.clf;
        c.clear();
        push_2digits(c, day);
        c.push(b'/');
        c.extend_from_slice(MONTHS[month as usize - 1]);
        c.push(b'/');
        push_u64(c, year as u64);
        for v in [hh, mm, ss] {
            c.push(b':');
            push_2digits(c, v);
        }
        c.push(b' ');
        c.push(sign);
        push_2digits(c, oh);
        push_2digits(c, om);

        let i = &mut self.iso;
        i.clear();
        push_u64(i, year as u64);
        i.push(b'-');
        push_2digits(i, month);
        i.push(b'-');
        push_2digits(i, day);
        i.push(b'T');
        push_2digits(i, hh);
        i.push(b':');
        push_2digits(i, mm);
        i.push(b':');
        push_2digits(i, ss);
        i.push(sign);
        push_2digits(i, oh);
        i.push(b':');
        push_2digits(i, om);
    }
}

/// Parses a UTC offset: `+0200`, `-05:30`, `+00`, `Z` or `UTC`. Returns
/// seconds east of UTC.
pub fn parse_tz_offset(text: &str) -> Result<i32, Error> {
    let bad = || {
        Error::new(format!(
            "invalid UTC offset {text:?} (expected e.g. +0000, +0200, -05:30)"
        ))
    };
    let s = text.trim();
    if s == "Z" || s.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    if !rest.is_ascii() {
        return Err(bad());
    }
    let digits: String = match rest.len() {
        2 | 4 => rest.to_owned(),
        5 if rest.as_bytes()[2] == b':' => format!("{}{}", &rest[..2], &rest[3..]),
        _ => return Err(bad()),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| bad())?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| bad())?
    } else {
        0
    };
    if hours > 23 || minutes > 59 {
        return Err(bad());
    }
    Ok(sign * (hours * 3600 + minutes * 60))
}

/// Parses an RFC 3339 time (`2024-05-01T00:00:00Z`, `2024-05-01T02:00:00+02:00`,
/// optional fraction, which is dropped) or a bare date (`2024-05-01`,
/// midnight UTC). Returns Unix seconds.
pub fn parse_rfc3339(text: &str) -> Result<i64, Error> {
    let bad = || {
        Error::new(format!(
            "invalid time {text:?} (expected RFC 3339, e.g. 2024-05-01T00:00:00Z)"
        ))
    };
    let s = text.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Result<u32, Error> {
        let part = s.get(range).ok_or_else(bad)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        std::str::from_utf8(part)
            .map_err(|_| bad())?
            .parse()
            .map_err(|_| bad())
    };
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return Err(bad());
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let max_day = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day == 0 || day > max_day {
        return Err(bad());
    }
    let days = days_from_civil(i64::from(year), month, day);
    if s.len() == 10 {
        return Ok(days * 86_400);
    }
    if s.len() < 20 || !matches!(s[10], b'T' | b't' | b' ') || s[13] != b':' || s[16] != b':' {
        return Err(bad());
    }
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if hh > 23 || mm > 59 || ss > 60 {
        return Err(bad());
    }
    let mut i = 19;
    if s[i] == b'.' {
        i += 1;
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
    }
    let zone = std::str::from_utf8(&s[i..]).map_err(|_| bad())?;
    let offset = if zone.eq_ignore_ascii_case("z") {
        0
    } else if zone.len() == 6 && zone.as_bytes()[3] == b':' {
        parse_tz_offset(zone).map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    Ok(days * 86_400 + i64::from(hh * 3600 + mm * 60 + ss) - i64::from(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_tz_offset("+0000").unwrap(), 0);
        assert_eq!(parse_tz_offset("+0200").unwrap(), 7200);
        assert_eq!(parse_tz_offset("-05:30").unwrap(), -19_800);
        assert_eq!(parse_tz_offset("+09").unwrap(), 32_400);
        assert_eq!(parse_tz_offset("Z").unwrap(), 0);
        for bad in ["0200", "+2", "+2400", "+0160", "+02:0", "+ab00"] {
            assert!(parse_tz_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3339() {
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:00Z").unwrap(),
            1_714_521_600
        );
        assert_eq!(parse_rfc3339("2024-05-01").unwrap(), 1_714_521_600);
        assert_eq!(
            parse_rfc3339("2024-05-01T02:00:00+02:00").unwrap(),
            1_714_521_600
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T00:00:01.999Z").unwrap(),
            1_714_521_601
        );
        assert_eq!(
            parse_rfc3339("2000-10-10T13:55:36-07:00").unwrap(),
            971_211_336
        );
        for bad in [
            "2024-02-30",
            "2024-13-01T00:00:00Z",
            "2024-05-01T00:00:00",
            "yesterday",
            "2024-05-01T25:00:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(19_844), (2024, 5, 1));
    }

    #[test]
    fn time_text_layouts() {
        let mut t = TimeText::new(0);
        t.set(1_714_521_601_123_456);
        assert_eq!(t.clf, b"01/May/2024:00:00:01 +0000");
        assert_eq!(t.iso, b"2024-05-01T00:00:01+00:00");
        let mut t = TimeText::new(-(5 * 3600 + 30 * 60));
        t.set(1_714_521_601_000_000);
        assert_eq!(t.clf, b"30/Apr/2024:18:30:01 -0530");
        assert_eq!(t.iso, b"2024-04-30T18:30:01-05:30");
    }

    #[test]
    fn diurnal_schedule_is_sorted_and_shaped() {
        let start = 1_714_521_600;
        let sched = Schedule::new(start, 86_400, true, 0);
        let n = 100_000u64;
        let mut cursor = 0;
        let mut rng = crate::math::Rng::new(5);
        let mut last = i64::MIN;
        let mut per_hour = [0u32; 24];
        for i in 0..n {
            let t = sched.at((i as f64 + rng.f64()) / n as f64, &mut cursor);
            assert!(t >= last);
            assert!(t >= start * 1_000_000 && t < (start + 86_400) * 1_000_000);
            last = t;
            per_hour[((t / 1_000_000 - start) / 3600) as usize] += 1;
        }
        // Quiet at night, busy in the afternoon.
        assert!(per_hour[15] > 3 * per_hour[3], "{per_hour:?}");
        assert!(per_hour[4] < per_hour[9]);

        // Flat schedule: equal halves.
        let flat = Schedule::new(start, 3600, false, 0);
        let mut cursor = 0;
        let first_half = (0..1000)
            .filter(|&i| {
                flat.at((i as f64 + 0.5) / 1000.0, &mut cursor) < (start + 1800) * 1_000_000
            })
            .count();
        assert_eq!(first_half, 500);
    }

    #[test]
    fn offset_shifts_the_peak() {
        // With +12:00 the local afternoon is the UTC night.
        let start = 1_714_521_600;
        let sched = Schedule::new(start, 86_400, true, 12 * 3600);
        let mut cursor = 0;
        let n = 10_000;
        let mut per_hour = [0u32; 24];
        for i in 0..n {
            let t = sched.at((i as f64 + 0.5) / n as f64, &mut cursor);
            per_hour[((t / 1_000_000 - start) / 3600) as usize] += 1;
        }
        assert!(per_hour[3] > 3 * per_hour[15], "{per_hour:?}");
    }
}
