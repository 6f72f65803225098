//! Byte sizes such as `64MiB`, `10MB` and `1000`.
//!
//! Both binary (`KiB`, `MiB`, `GiB`, ... powers of 1024) and decimal (`kB`,
//! `MB`, `GB`, ... powers of 1000) units are accepted, case-insensitively,
//! because people copy sizes from tools that use either. The bare letters
//! `k`, `m`, `g` are refused: they are ambiguous between the two, and a cache
//! budget that is off by 7% is a quiet surprise.
//!
//! A fractional number (`1.5GiB`, `64.0 MiB`) is accepted so that the output
//! of [`format_size`] can be read back; the result is rounded down to whole
//! bytes.

/// Why a size could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Nothing but whitespace was given.
    #[error("empty size: expected a number of bytes or e.g. `64MiB`, `2GiB`, `10MB`")]
    Empty,
    /// The text does not start with a number.
    #[error(
        "invalid size {input:?}: expected a number, optionally followed by a unit (e.g. `64MiB`, `10MB`, `1000`)"
    )]
    ExpectedNumber {
        /// The text as given.
        input: String,
    },
    /// The unit is not one of the known ones.
    #[error(
        "invalid size {input:?}: unknown unit {unit:?}; expected B, KiB, MiB, GiB, TiB, PiB, EiB (powers of 1024) or kB, MB, GB, TB, PB, EB (powers of 1000)"
    )]
    UnknownUnit {
        /// The text as given.
        input: String,
        /// The unrecognised unit.
        unit: String,
    },
    /// A fraction of a single byte, e.g. `1.5` or `2.5B`.
    #[error("invalid size {input:?}: a fraction needs a unit larger than bytes (e.g. `1.5KiB`)")]
    FractionalBytes {
        /// The text as given.
        input: String,
    },
    /// The value does not fit in 64 bits.
    #[error("size {input:?} is too large (the limit is 16 EiB)")]
    Overflow {
        /// The text as given.
        input: String,
    },
}

/// More decimal places than this cannot change the result by a whole byte
/// for any unit up to EiB, and keeps the arithmetic inside `u128`.
const MAX_FRACTION_DIGITS: usize = 18;

fn unit_multiplier(unit: &str) -> Option<u64> {
    let m = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "pb" => 1_000_000_000_000_000,
        "eb" => 1_000_000_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        "pib" => 1 << 50,
        "eib" => 1 << 60,
        _ => return None,
    };
    Some(m)
}

/// Parses a byte size: `64MiB`, `2GiB`, `512KiB`, `10MB`, `10kB`, `1000`,
/// `1000B`. Units are case-insensitive; a space between number and unit
/// is allowed. Values that do not fit in a `u64` are an error.
///
/// ```
/// use hotkeys_contract::size::parse_size;
///
/// assert_eq!(parse_size("64MiB").unwrap(), 64 * 1024 * 1024);
/// assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
/// assert_eq!(parse_size("1000").unwrap(), 1000);
/// assert!(parse_size("10 parsecs").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let text = s.trim();
    if text.is_empty() {
        return Err(SizeError::Empty);
    }
    let input = || text.to_owned();
    let int_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (int_digits, rest) = text.split_at(int_end);
    let (frac_digits, rest) = match rest.strip_prefix('.') {
        Some(after_dot) => {
            let end = after_dot
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after_dot.len());
            after_dot.split_at(end)
        }
        None => ("", rest),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(SizeError::ExpectedNumber { input: input() });
    }
    let unit = rest.trim_start();
    let multiplier = unit_multiplier(unit).ok_or_else(|| SizeError::UnknownUnit {
        input: input(),
        unit: unit.to_owned(),
    })?;

    let whole: u64 = if int_digits.is_empty() {
        0
    } else {
        int_digits
            .parse()
            .map_err(|_| SizeError::Overflow { input: input() })?
    };
    let whole_bytes = whole
        .checked_mul(multiplier)
        .ok_or_else(|| SizeError::Overflow { input: input() })?;

    let frac_digits = frac_digits.trim_end_matches('0');
    if frac_digits.is_empty() {
        return Ok(whole_bytes);
    }
    if multiplier == 1 {
        return Err(SizeError::FractionalBytes { input: input() });
    }
    if frac_digits.len() > MAX_FRACTION_DIGITS {
        return Err(SizeError::ExpectedNumber { input: input() });
    }
    // Fits: at most 18 digits, so below 10^18 < 2^60.
    let frac: u128 = frac_digits
        .parse()
        .map_err(|_| SizeError::ExpectedNumber { input: input() })?;
    let scale = 10u128.pow(frac_digits.len() as u32);
    let frac_bytes = u64::try_from(frac * u128::from(multiplier) / scale)
        .map_err(|_| SizeError::Overflow { input: input() })?;
    whole_bytes
        .checked_add(frac_bytes)
        .ok_or_else(|| SizeError::Overflow { input: input() })
}

const BINARY_UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// Formats a byte count with binary units and one decimal: `512 B`,
/// `1.5 KiB`, `64.0 MiB`. Rounds to the nearest tenth, moving up a unit
/// rather than printing `1024.0 KiB`.
pub fn format_size(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut exp = 1usize;
    while exp + 1 < BINARY_UNITS.len() && bytes >= 1u64 << (10 * (exp + 1)) {
        exp += 1;
    }
    // Integer tenths so the rounding is exact rather than float-dependent.
    let tenths_of = |exp: usize| {
        let unit = 1u128 << (10 * exp);
        (u128::from(bytes) * 10 + unit / 2) / unit
    };
    let mut tenths = tenths_of(exp);
    if tenths >= 10_240 && exp + 1 < BINARY_UNITS.len() {
        exp += 1;
        tenths = tenths_of(exp);
    }
    format!("{}.{} {}", tenths / 10, tenths % 10, BINARY_UNITS[exp])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KIB: u64 = 1024;
    const MIB: u64 = KIB * 1024;
    const GIB: u64 = MIB * 1024;

    #[test]
    fn binary_and_decimal_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 * MIB));
        assert_eq!(parse_size("2GiB"), Ok(2 * GIB));
        assert_eq!(parse_size("512KiB"), Ok(512 * KIB));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("10kB"), Ok(10_000));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("1000B"), Ok(1000));
        assert!(matches!(
            parse_size("16EiB"),
            Err(SizeError::Overflow { .. })
        ));
        assert_eq!(parse_size("15EiB"), Ok(15 << 60));
    }

    #[test]
    fn units_are_case_insensitive_and_may_follow_a_space() {
        assert_eq!(parse_size("64mib"), Ok(64 * MIB));
        assert_eq!(parse_size("64 MIB"), Ok(64 * MIB));
        assert_eq!(parse_size("10 KB"), Ok(10_000));
        assert_eq!(parse_size(" 7b "), Ok(7));
    }

    #[test]
    fn fractions_round_down_to_whole_bytes() {
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("64.0 MiB"), Ok(64 * MIB));
        assert_eq!(parse_size("0.1KiB"), Ok(102));
        assert_eq!(parse_size(".5MB"), Ok(500_000));
        assert_eq!(parse_size("1.0"), Ok(1));
        assert_eq!(
            parse_size("1.5"),
            Err(SizeError::FractionalBytes {
                input: "1.5".into()
            })
        );
    }

    #[test]
    fn errors_quote_the_input_and_say_what_was_expected() {
        assert_eq!(parse_size(""), Err(SizeError::Empty));
        let e = parse_size("MiB").unwrap_err();
        assert_eq!(
            e,
            SizeError::ExpectedNumber {
                input: "MiB".into()
            }
        );
        assert!(e.to_string().contains("\"MiB\""), "{e}");
        let e = parse_size("64M").unwrap_err();
        assert_eq!(
            e,
            SizeError::UnknownUnit {
                input: "64M".into(),
                unit: "M".into()
            }
        );
        assert!(e.to_string().contains("MiB"), "{e}");
        assert!(matches!(
            parse_size("1.2.3KiB"),
            Err(SizeError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_size("-1"),
            Err(SizeError::ExpectedNumber { .. })
        ));
        assert!(matches!(
            parse_size("."),
            Err(SizeError::ExpectedNumber { .. })
        ));
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        for s in [
            "18446744073709551616",
            "17EiB",
            "16384PiB",
            "16.0EiB",
            "20000000EB",
        ] {
            assert!(
                matches!(parse_size(s), Err(SizeError::Overflow { .. })),
                "{s}"
            );
        }
    }

    #[test]
    fn formats_with_binary_units() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(1024), "1.0 KiB");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(64 * MIB), "64.0 MiB");
        assert_eq!(format_size(MIB - 1), "1.0 MiB");
        assert_eq!(format_size(u64::MAX), "16.0 EiB");
    }

    proptest! {
        #[test]
        fn formatted_sizes_read_back_within_rounding(bytes in any::<u64>()) {
            let text = format_size(bytes);
            // 16.0 EiB is the rounded form of values just under 2^64.
            if let Ok(back) = parse_size(&text) {
                let diff = back.abs_diff(bytes) as f64;
                prop_assert!(diff <= bytes as f64 * 0.05 + 1.0, "{} -> {} -> {}", bytes, text, back);
            } else {
                prop_assert!(bytes > 15 << 60, "{} -> {}", bytes, text);
            }
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse_size(&s);
        }

        #[test]
        fn whole_numbers_with_units_are_exact(n in 0u64..1_000_000, i in 0usize..4) {
            let (unit, mult) = [("B", 1), ("KiB", KIB), ("MiB", MIB), ("kB", 1000)][i];
            prop_assert_eq!(parse_size(&format!("{n}{unit}")), Ok(n * mult));
        }
    }
}
