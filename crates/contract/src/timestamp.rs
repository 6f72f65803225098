//! Unix-microsecond timestamps and their RFC 3339 text form.
//!
//! Logs and warm lists only need the proleptic Gregorian calendar and fixed
//! UTC offsets, so the conversions are written out here (Howard Hinnant's
//! days-from-civil algorithm) rather than pulling in a time-zone library.

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 for a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01: (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days in a month, for validating parsed dates.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Unix microseconds from a wall-clock time and its UTC offset in seconds.
/// Returns `None` for an impossible date or time.
pub fn unix_micros(
    date: (i64, u32, u32),
    time: (u32, u32, u32),
    micros: u32,
    offset_secs: i32,
) -> Option<i64> {
    let (year, month, day) = date;
    let (hour, minute, second) = time;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
        || micros >= 1_000_000
    {
        return None;
    }
    let secs = days_from_civil(year, month, day) * SECS_PER_DAY
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second)
        - i64::from(offset_secs);
    Some(secs * MICROS_PER_SEC + i64::from(micros))
}

/// Formats Unix microseconds as RFC 3339 in UTC, e.g. `2024-05-01T12:00:00Z`
/// (fractional seconds only when there are any).
pub fn format_rfc3339(unix_us: i64) -> String {
    let secs = unix_us.div_euclid(MICROS_PER_SEC);
    let micros = unix_us.rem_euclid(MICROS_PER_SEC);
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, sod / 60 % 60, sod % 60);
    if micros == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{micros:06}Z")
    }
}

/// The current time as Unix microseconds.
pub fn now_micros() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-146_097 * 2..146_097 * 2).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn offsets_and_validation() {
        // 10/Oct/2000:13:55:36 -0700 is 20:55:36 UTC.
        assert_eq!(
            unix_micros((2000, 10, 10), (13, 55, 36), 0, -7 * 3600),
            Some(971_211_336_000_000)
        );
        assert_eq!(unix_micros((2023, 2, 29), (0, 0, 0), 0, 0), None);
        assert!(unix_micros((2024, 2, 29), (0, 0, 0), 0, 0).is_some());
        assert_eq!(unix_micros((2024, 13, 1), (0, 0, 0), 0, 0), None);
        assert_eq!(unix_micros((2024, 1, 1), (24, 0, 0), 0, 0), None);
    }

    #[test]
    fn rfc3339_text() {
        assert_eq!(format_rfc3339(971_211_336_000_000), "2000-10-10T20:55:36Z");
        assert_eq!(format_rfc3339(1_500), "1970-01-01T00:00:00.001500Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999Z");
    }
}
