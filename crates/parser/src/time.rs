//! Timestamps as logs write them.
//!
//! Parsed by hand rather than with a general date library: the layouts are
//! fixed, and this runs once per line. [`TimeCache`] skips even that for the
//! common case of many lines in the same second.

use hotkeys_contract::timestamp::unix_micros;

/// How a time field is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeKind {
    /// nginx `$time_local`, Apache `%t` without brackets: `10/Oct/2000:13:55:36 -0700`.
    Clf,
    /// nginx `$time_iso8601`, RFC 3339: `2000-10-10T13:55:36-07:00`.
    Iso8601,
    /// Seconds since the epoch with optional fraction: nginx `$msec`, Caddy `ts`.
    EpochSeconds,
    /// Any of the above (JSON fields whose writer is unknown).
    Any,
}

/// Remembers the last timestamp text and its value.
#[derive(Default)]
pub struct TimeCache {
    last_raw: Vec<u8>,
    last_value: i64,
}

impl TimeCache {
    /// Unix microseconds, or `None` when the text is not a valid time.
    pub fn parse(&mut self, raw: &[u8], kind: TimeKind) -> Option<i64> {
        if !self.last_raw.is_empty() {
            if same_bytes(&self.last_raw, raw) {
                return Some(self.last_value);
            }
            if let Some(value) = self.same_minute(raw, kind) {
                return Some(value);
            }
        }
        let value = parse_time(raw, kind)?;
        self.last_raw.clear();
        self.last_raw.extend_from_slice(raw);
        self.last_value = value;
        Some(value)
    }

    /// A quiet log changes second on most lines; when only the seconds
    /// differ from the last time, the date arithmetic can be skipped.
    fn same_minute(&mut self, raw: &[u8], kind: TimeKind) -> Option<i64> {
        // Where the two seconds digits are in each fixed layout.
        let at = match kind {
            TimeKind::Clf => 18,
            TimeKind::Iso8601 => 17,
            _ => return None,
        };
        let last = &self.last_raw;
        if raw.len() < at + 2 || !same_bytes_except(raw, last, at..at + 2) {
            return None;
        }
        let seconds = |b: &[u8]| -> Option<i64> {
            let (t, u) = (b[at].wrapping_sub(b'0'), b[at + 1].wrapping_sub(b'0'));
            (t <= 6 && u <= 9)
                .then(|| i64::from(t * 10 + u))
                .filter(|s| *s <= 60)
        };
        let (old, new) = (seconds(last)?, seconds(raw)?);
        let value = self.last_value + (new - old) * 1_000_000;
        self.last_raw[at..at + 2].copy_from_slice(&raw[at..at + 2]);
        self.last_value = value;
        Some(value)
    }
}

/// Equality of two short byte strings.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    same_bytes_except(a, b, 0..0)
}

/// Whether `a` and `b` are equal outside the positions `skip`, compared
/// eight bytes at a time (the last word overlapping the one before): for
/// the 20-odd bytes of a timestamp this beats both a `memcmp` call and a
/// byte loop, and it runs on every line.
#[inline]
fn same_bytes_except(a: &[u8], b: &[u8], skip: std::ops::Range<usize>) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 8 {
        return a
            .iter()
            .zip(b)
            .enumerate()
            .all(|(i, (x, y))| x == y || skip.contains(&i));
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    // The lowest `n` bytes of a word.
    let low_bytes = |n: usize| {
        if n >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * n)) - 1
        }
    };
    let mut next = 0;
    loop {
        let at = usize::min(next, len - 8);
        next += 8;
        let (lo, hi) = (
            skip.start.clamp(at, at + 8) - at,
            skip.end.clamp(at, at + 8) - at,
        );
        let compared = !(low_bytes(hi) & !low_bytes(lo));
        if (word(a, at) ^ word(b, at)) & compared != 0 {
            return false;
        }
        if at == len - 8 {
            return true;
        }
    }
}

/// Unix microseconds of `raw` read as `kind` (every layout in turn for
/// [`TimeKind::Any`]), without the cache.
fn parse_time(raw: &[u8], kind: TimeKind) -> Option<i64> {
    match kind {
        TimeKind::Clf => parse_clf(raw),
        TimeKind::Iso8601 => parse_iso8601(raw),
        TimeKind::EpochSeconds => parse_epoch_seconds(raw),
        TimeKind::Any => parse_iso8601(raw)
            .or_else(|| parse_clf(raw))
            .or_else(|| parse_epoch_seconds(raw)),
    }
}

/// `10/Oct/2000:13:55:36 -0700` (surrounding brackets tolerated).
pub fn parse_clf(raw: &[u8]) -> Option<i64> {
    let s = raw.strip_prefix(b"[").unwrap_or(raw);
    let s = s.strip_suffix(b"]").unwrap_or(s);
    // dd/Mon/yyyy:HH:MM:SS +hhmm
    if s.len() != 26 || s[2] != b'/' || s[6] != b'/' || s[11] != b':' || s[20] != b' ' {
        return None;
    }
    let day = digits(&s[0..2])?;
    let month = month_number(&s[3..6])?;
    let year = digits(&s[7..11])?;
    let (hh, mm, ss) = hms(&s[12..20])?;
    let offset = offset_hhmm(&s[21..26], false)?;
    unix_micros((i64::from(year), month, day), (hh, mm, ss), 0, offset)
}

/// `2000-10-10T13:55:36-07:00`, `…Z`, `…+0000`, `… 13:55:36`, with an optional
/// fraction of a second. A missing offset means UTC.
pub fn parse_iso8601(raw: &[u8]) -> Option<i64> {
    if raw.len() < 19 || raw[4] != b'-' || raw[7] != b'-' || !matches!(raw[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let year = digits(&raw[0..4])?;
    let month = digits(&raw[5..7])?;
    let day = digits(&raw[8..10])?;
    let (hh, mm, ss) = hms(&raw[11..19])?;
    let mut rest = &raw[19..];
    let mut micros = 0u32;
    if let [b'.' | b',', frac @ ..] = rest {
        let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, &b) in frac[..n].iter().enumerate() {
            if i < 6 {
                micros = micros * 10 + u32::from(b - b'0');
            }
        }
        for _ in n..6 {
            micros *= 10;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        [] | [b'Z' | b'z'] => 0,
        _ => offset_hhmm(rest, true)?,
    };
    unix_micros((i64::from(year), month, day), (hh, mm, ss), micros, offset)
}

/// `1700000000.123` seconds since the epoch.
pub fn parse_epoch_seconds(raw: &[u8]) -> Option<i64> {
    let (int_part, frac) = match memchr::memchr(b'.', raw) {
        Some(dot) => (&raw[..dot], &raw[dot + 1..]),
        None => (raw, &b""[..]),
    };
    let secs = i64::try_from(crate::record::parse_u64(int_part)?).ok()?;
    let mut micros: i64 = 0;
    for (i, &b) in frac.iter().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        if i < 6 {
            micros = micros * 10 + i64::from(b - b'0');
        }
    }
    for _ in frac.len()..6 {
        micros *= 10;
    }
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

fn digits(s: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(b - b'0');
    }
    Some(n)
}

fn hms(s: &[u8]) -> Option<(u32, u32, u32)> {
    if s.len() != 8 || s[2] != b':' || s[5] != b':' {
        return None;
    }
    Some((digits(&s[0..2])?, digits(&s[3..5])?, digits(&s[6..8])?))
}

/// `+hhmm`, or with `colon_optional` also `+hh:mm` and `+hh`.
fn offset_hhmm(s: &[u8], colon_optional: bool) -> Option<i32> {
    let sign = match s.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &s[1..];
    let (h, m) = match body.len() {
        4 => (&body[0..2], &body[2..4]),
        5 if colon_optional && body[2] == b':' => (&body[0..2], &body[3..5]),
        2 if colon_optional => (body, &b"00"[..]),
        _ => return None,
    };
    let (h, m) = (digits(h)?, digits(m)?);
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60) as i32)
}

fn month_number(s: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS
        .iter()
        .position(|m| m[..] == *s)
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OCT10_2055_UTC: i64 = 971_211_336_000_000;

    #[test]
    fn clf_with_any_offset() {
        assert_eq!(
            parse_clf(b"10/Oct/2000:13:55:36 -0700"),
            Some(OCT10_2055_UTC)
        );
        assert_eq!(
            parse_clf(b"[10/Oct/2000:20:55:36 +0000]"),
            Some(OCT10_2055_UTC)
        );
        assert_eq!(
            parse_clf(b"11/Oct/2000:02:25:36 +0530"),
            Some(OCT10_2055_UTC)
        );
        assert_eq!(parse_clf(b"10/Oct/2000:13:55:36"), None);
        assert_eq!(parse_clf(b"10/Foo/2000:13:55:36 -0700"), None);
        assert_eq!(parse_clf(b"31/Feb/2000:13:55:36 -0700"), None);
    }

    #[test]
    fn iso8601_variants() {
        for s in [
            &b"2000-10-10T13:55:36-07:00"[..],
            b"2000-10-10T20:55:36Z",
            b"2000-10-10T20:55:36+00:00",
            b"2000-10-10T20:55:36+0000",
            b"2000-10-10 20:55:36",
            b"2000-10-10T20:55:36.000Z",
        ] {
            assert_eq!(
                parse_iso8601(s),
                Some(OCT10_2055_UTC),
                "{}",
                String::from_utf8_lossy(s)
            );
        }
        assert_eq!(
            parse_iso8601(b"2000-10-10T20:55:36.25Z"),
            Some(OCT10_2055_UTC + 250_000)
        );
        assert_eq!(parse_iso8601(b"2000-10-10T20:55:36.Z"), None);
        assert_eq!(parse_iso8601(b"2000-10-10T20:55"), None);
    }

    #[test]
    fn epoch_seconds() {
        assert_eq!(parse_epoch_seconds(b"971211336"), Some(OCT10_2055_UTC));
        assert_eq!(
            parse_epoch_seconds(b"971211336.5"),
            Some(OCT10_2055_UTC + 500_000)
        );
        assert_eq!(
            parse_epoch_seconds(b"971211336.1234567"),
            Some(OCT10_2055_UTC + 123_456)
        );
        assert_eq!(parse_epoch_seconds(b"abc"), None);
    }

    #[test]
    fn cache_within_a_minute_agrees_with_a_full_parse() {
        let mut cache = TimeCache::default();
        for text in [
            &b"10/Oct/2000:13:55:36 -0700"[..],
            b"10/Oct/2000:13:55:59 -0700",
            b"10/Oct/2000:13:55:00 -0700",
            b"10/Oct/2000:13:56:00 -0700",
            b"10/Oct/2000:13:56:7x -0700",
            b"10/Oct/2000:13:56:61 -0700",
            b"10/Oct/2000:13:56:01 +0200",
        ] {
            assert_eq!(
                cache.parse(text, TimeKind::Clf),
                parse_clf(text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        for text in [
            &b"2000-10-10T13:55:36Z"[..],
            b"2000-10-10T13:55:09Z",
            b"2000-10-10T13:55:09.5Z",
        ] {
            assert_eq!(cache.parse(text, TimeKind::Iso8601), parse_iso8601(text));
        }
    }

    #[test]
    fn same_bytes_is_equality() {
        let texts: [&[u8]; 6] = [
            b"",
            b"a",
            b"abcdefgh",
            b"abcdefgi",
            b"abcdefghijklmnopq",
            b"abcdefghijklmnopr",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(same_bytes(a, b), a == b);
            }
        }
    }

    #[test]
    fn same_bytes_except_ignores_exactly_the_skipped_positions() {
        for len in 0..30 {
            let a: Vec<u8> = (0..len).map(|i| i as u8).collect();
            for skip_at in 0..len.max(1) {
                let skip = skip_at..(skip_at + 2).min(len);
                for changed in 0..len {
                    let mut b = a.clone();
                    b[changed] ^= 0x40;
                    assert_eq!(
                        same_bytes_except(&a, &b, skip.clone()),
                        skip.contains(&changed),
                        "len {len}, skip {skip:?}, changed {changed}"
                    );
                }
                assert!(same_bytes_except(&a, &a, skip.clone()));
            }
        }
    }

    #[test]
    fn cache_returns_same_value_and_rejects_bad_text() {
        let mut cache = TimeCache::default();
        let a = cache.parse(b"10/Oct/2000:13:55:36 -0700", TimeKind::Clf);
        let b = cache.parse(b"10/Oct/2000:13:55:36 -0700", TimeKind::Clf);
        assert_eq!(a, b);
        assert_eq!(cache.parse(b"garbage", TimeKind::Clf), None);
        assert_eq!(
            cache.parse(b"971211336", TimeKind::Any),
            Some(OCT10_2055_UTC)
        );
    }
}
