//! Human-written durations such as `90s`, `30m`, `1h30m`, `2d` and `500ms`.
//!
//! Route TTLs and command-line options share this syntax so that a value
//! copied from one place works in the other. A duration is either a plain
//! integer (seconds) or one or more `<integer><unit>` components with units
//! `d`, `h`, `m`, `s` and `ms`, written from the largest unit to the smallest,
//! each unit at most once. Requiring that order turns typos such as `1m1m`
//! or `30m1h` into errors instead of silently summing them.

use std::time::Duration;

use nom::{
    IResult, Parser, branch::alt, bytes::complete::tag, character::complete::digit1,
    combinator::value,
};

/// Why a duration could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing but whitespace was given.
    #[error(
        "empty duration: expected a number of seconds or e.g. `90s`, `30m`, `1h30m`, `2d`, `500ms`"
    )]
    Empty,
    /// A digit was expected at byte offset `at`.
    #[error(
        "invalid duration {input:?}: expected a number at byte {at} (durations look like `90s`, `1h30m`, `500ms`)"
    )]
    ExpectedNumber {
        /// The text as given.
        input: String,
        /// Byte offset into `input` (after leading whitespace was skipped).
        at: usize,
    },
    /// A number was not followed by a known unit.
    #[error("invalid duration {input:?}: expected a unit (d, h, m, s or ms) after {number:?}")]
    ExpectedUnit {
        /// The text as given.
        input: String,
        /// The number that lacks a unit.
        number: String,
    },
    /// Units were repeated or out of order.
    #[error(
        "invalid duration {input:?}: expected units from largest to smallest, each at most once (e.g. `1h30m`, `2m30s`)"
    )]
    UnitOrder {
        /// The text as given.
        input: String,
    },
    /// The value does not fit in a [`Duration`].
    #[error("duration {input:?} is too large")]
    Overflow {
        /// The text as given.
        input: String,
    },
}

/// Units from largest to smallest; the discriminant order is what
/// enforces the "largest first" rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    Day,
    Hour,
    Minute,
    Second,
    Milli,
}

impl Unit {
    fn of(self, n: u64) -> Option<Duration> {
        let secs_per = match self {
            Unit::Milli => return Some(Duration::from_millis(n)),
            Unit::Second => 1,
            Unit::Minute => 60,
            Unit::Hour => 3_600,
            Unit::Day => 86_400,
        };
        n.checked_mul(secs_per).map(Duration::from_secs)
    }
}

fn unit(input: &str) -> IResult<&str, Unit> {
    // `ms` before `m`, or `500ms` would read as 500 minutes and a stray `s`.
    alt((
        value(Unit::Milli, tag("ms")),
        value(Unit::Day, tag("d")),
        value(Unit::Hour, tag("h")),
        value(Unit::Minute, tag("m")),
        value(Unit::Second, tag("s")),
    ))
    .parse(input)
}

fn number(input: &str) -> IResult<&str, &str> {
    digit1.parse(input)
}

/// Parses a duration: a plain integer (seconds) or components such as
/// `1h30m`, `90s`, `2d`, `500ms`. Surrounding whitespace is ignored.
///
/// ```
/// use std::time::Duration;
/// use hotkeys_contract::duration::parse_duration;
///
/// assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
/// assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
/// assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
/// assert!(parse_duration("30x").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let text = s.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let input = || text.to_owned();
    let mut rest = text;
    let mut total = Duration::ZERO;
    let mut last: Option<Unit> = None;
    loop {
        let at = text.len() - rest.len();
        let Ok((after_digits, digits)) = number(rest) else {
            return Err(DurationError::ExpectedNumber { input: input(), at });
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| DurationError::Overflow { input: input() })?;
        if after_digits.is_empty() && last.is_none() {
            return Ok(Duration::from_secs(n));
        }
        let Ok((after_unit, u)) = unit(after_digits) else {
            return Err(DurationError::ExpectedUnit {
                input: input(),
                number: digits.to_owned(),
            });
        };
        if last.is_some_and(|prev| prev >= u) {
            return Err(DurationError::UnitOrder { input: input() });
        }
        last = Some(u);
        total = u
            .of(n)
            .and_then(|d| total.checked_add(d))
            .ok_or_else(|| DurationError::Overflow { input: input() })?;
        // Allow `1h 30m`, which people type when copying from prose.
        let after_space = after_unit.trim_start();
        if after_space.is_empty() {
            return Ok(total);
        }
        rest = after_space;
    }
}

/// Formats a duration in the syntax [`parse_duration`] reads, largest units
/// first: `1h30m`, `45s`, `1d2h`, `1s500ms`, `0s`. Anything below a
/// millisecond is dropped, so `parse_duration(&format_duration(d))` returns
/// `d` for whole-millisecond durations.
pub fn format_duration(d: Duration) -> String {
    let total_ms = d.as_millis();
    if total_ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let secs = total_ms / 1000;
    let ms = total_ms % 1000;
    let parts = [
        (secs / 86_400, "d"),
        (secs / 3_600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
        (ms, "ms"),
    ];
    for (n, suffix) in parts {
        if n != 0 {
            out.push_str(&n.to_string());
            out.push_str(suffix);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_duration("90s"), Ok(secs(90)));
        assert_eq!(parse_duration("30m"), Ok(secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(secs(172_800)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m500ms"), Ok(Duration::from_millis(60_500)));
        assert_eq!(parse_duration("120"), Ok(secs(120)));
        assert_eq!(parse_duration("0"), Ok(secs(0)));
        assert_eq!(parse_duration(" 1h 30m "), Ok(secs(5400)));
        assert_eq!(
            parse_duration("1d2h3m4s5ms"),
            Ok(Duration::from_millis(93_784_005))
        );
    }

    #[test]
    fn errors_say_what_was_expected_and_quote_the_input() {
        assert_eq!(parse_duration("  "), Err(DurationError::Empty));
        let e = parse_duration("30x").unwrap_err();
        assert_eq!(
            e,
            DurationError::ExpectedUnit {
                input: "30x".into(),
                number: "30".into()
            }
        );
        assert!(e.to_string().contains("\"30x\""), "{e}");
        assert!(e.to_string().contains("expected a unit"), "{e}");

        let e = parse_duration("1h-5m").unwrap_err();
        assert_eq!(
            e,
            DurationError::ExpectedNumber {
                input: "1h-5m".into(),
                at: 2
            }
        );
        assert!(e.to_string().contains("expected a number"), "{e}");

        assert!(matches!(
            parse_duration("h"),
            Err(DurationError::ExpectedNumber { at: 0, .. })
        ));
        assert!(matches!(
            parse_duration("1.5h"),
            Err(DurationError::ExpectedUnit { .. })
        ));
        assert!(matches!(
            parse_duration("30m1h"),
            Err(DurationError::UnitOrder { .. })
        ));
        assert!(matches!(
            parse_duration("1m1m"),
            Err(DurationError::UnitOrder { .. })
        ));
        assert!(matches!(
            parse_duration("1w"),
            Err(DurationError::ExpectedUnit { .. })
        ));
        assert!(matches!(
            parse_duration("5M"),
            Err(DurationError::ExpectedUnit { .. })
        ));
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        assert!(matches!(
            parse_duration("99999999999999999999"),
            Err(DurationError::Overflow { .. })
        ));
        assert!(matches!(
            parse_duration("18446744073709551615d"),
            Err(DurationError::Overflow { .. })
        ));
        // Each component fits, the sum does not.
        let big = format!("{}d{}h", u64::MAX / 86_400, u64::MAX / 3_600);
        assert!(matches!(
            parse_duration(&big),
            Err(DurationError::Overflow { .. })
        ));
    }

    #[test]
    fn formats_largest_units_first() {
        assert_eq!(format_duration(secs(5400)), "1h30m");
        assert_eq!(format_duration(secs(45)), "45s");
        assert_eq!(format_duration(secs(90)), "1m30s");
        assert_eq!(format_duration(secs(86_400 + 7_200)), "1d2h");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_micros(999)), "0s");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ms in any::<u64>()) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn never_panics_on_duration_like_text(s in "[0-9dhms ]{0,24}") {
            let _ = parse_duration(&s);
        }
    }
}
