//! Which HTTP statuses count as a value worth storing (`--store-status`).

use std::fmt;

/// A set of HTTP status codes, written as classes (`2xx`), single codes
/// (`203`) and ranges (`200-206`), comma-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    ranges: Vec<(u16, u16)>,
}

/// Why a status list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid status list {input:?} at {item:?}: expected codes (200), classes (2xx) or ranges (200-206) from 100 to 599, comma-separated"
)]
pub struct StatusSetError {
    /// The list as given.
    pub input: String,
    /// The item that could not be read.
    pub item: String,
}

impl StatusSet {
    /// `2xx`: what the issue calls a successful answer.
    pub fn successful() -> StatusSet {
        StatusSet {
            ranges: vec![(200, 299)],
        }
    }

    /// Parses `2xx,304`, `200-206`, `200`.
    pub fn parse(text: &str) -> Result<StatusSet, StatusSetError> {
        let fail = |item: &str| StatusSetError {
            input: text.to_owned(),
            item: item.to_owned(),
        };
        let code = |s: &str| {
            s.parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c) && s.len() == 3)
        };
        let mut ranges = Vec::new();
        for item in text.split(',').map(str::trim) {
            let range = if let Some(class) = item.strip_suffix("xx").or(item.strip_suffix("XX")) {
                match class.parse::<u16>() {
                    Ok(c @ 1..=5) if class.len() == 1 => (c * 100, c * 100 + 99),
                    _ => return Err(fail(item)),
                }
            } else if let Some((a, b)) = item.split_once('-') {
                match (code(a.trim()), code(b.trim())) {
                    (Some(a), Some(b)) if a <= b => (a, b),
                    _ => return Err(fail(item)),
                }
            } else {
                let c = code(item).ok_or_else(|| fail(item))?;
                (c, c)
            };
            ranges.push(range);
        }
        Ok(StatusSet { ranges })
    }

    /// True when `status` is in the set.
    pub fn contains(&self, status: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| (a..=b).contains(&status))
    }
}

impl Default for StatusSet {
    fn default() -> StatusSet {
        StatusSet::successful()
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(a, b)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else if a % 100 == 0 && b == a + 99 {
                write!(f, "{}xx", a / 100)?;
            } else {
                write!(f, "{a}-{b}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_codes_and_ranges() {
        let set = StatusSet::parse("2xx, 304,400-404").unwrap();
        for yes in [200, 204, 299, 304, 400, 404] {
            assert!(set.contains(yes), "{yes}");
        }
        for no in [199, 300, 305, 405, 500] {
            assert!(!set.contains(no), "{no}");
        }
        assert_eq!(set.to_string(), "2xx,304,400-404");
        assert_eq!(StatusSet::default().to_string(), "2xx");
    }

    #[test]
    fn mistakes_are_named() {
        for bad in [
            "", "2x", "6xx", "20", "2000", "204-200", "abc", "200,", "0xx",
        ] {
            let e = StatusSet::parse(bad).unwrap_err();
            assert!(e.to_string().contains("expected codes"), "{bad}: {e}");
        }
    }
}
