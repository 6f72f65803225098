//! How long a warmed key lives.
//!
//! The precedence is: an explicit `--ttl`; otherwise, with a Redis origin,
//! the key's remaining TTL there (a copy should not outlive its source);
//! otherwise the route's TTL (or the warm list entry's); otherwise the
//! default of one hour. Configured TTLs get jitter, so that keys warmed in
//! the same second do not all expire in the same second and send their
//! traffic to the origin at once; a TTL copied from the source is kept
//! exact, since it already expires when the source's copy does.

use std::time::Duration;

/// The longest TTL written: 100 years (36,500 days). Redis itself takes
/// up to about 292 million years (`PX` in milliseconds, as a 64-bit
/// expiry time), but a TTL beyond a century is a typo or a unit mistake
/// (`99999999999999d`), and refusing it when the list is read or the
/// option parsed beats a write error per key. A TTL of 0 is refused too:
/// Redis would not take it, and rounding it up to 1 ms would store a
/// value that is gone at once while counting it as warmed.
pub const MAX_TTL: Duration = Duration::from_secs(36_500 * 24 * 3600);

/// True for a TTL hotkeys writes: above zero, at most [`MAX_TTL`].
pub fn ttl_in_range(ttl: Duration) -> bool {
    !ttl.is_zero() && ttl <= MAX_TTL
}

/// How a key's TTL is chosen, decided when the plan is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlRule {
    /// Use this TTL, minus jitter.
    Configured(Duration),
    /// Use the origin key's remaining TTL; when it has none, `fallback`
    /// minus jitter.
    FromOrigin {
        /// The TTL for keys that do not expire at the origin.
        fallback: Duration,
    },
}

impl TtlRule {
    /// The rule for one key. `explicit` is `--ttl`, `entry` the route's or
    /// the list entry's TTL.
    pub fn choose(
        explicit: Option<Duration>,
        entry: Option<Duration>,
        default: Duration,
        redis_origin: bool,
    ) -> TtlRule {
        if let Some(ttl) = explicit {
            return TtlRule::Configured(ttl);
        }
        let configured = entry.unwrap_or(default);
        if redis_origin {
            TtlRule::FromOrigin {
                fallback: configured,
            }
        } else {
            TtlRule::Configured(configured)
        }
    }

    /// The TTL in milliseconds to write. `origin_ms` is the remaining TTL
    /// the origin reported (`None`: the key does not expire there).
    /// `jitter` is the fraction (0 to 1) a configured TTL may be shortened
    /// by; `roll` is a random number in `[0, 1)`. Never below 1 ms.
    pub fn millis(&self, origin_ms: Option<u64>, jitter: f64, roll: f64) -> u64 {
        let configured = |ttl: Duration| {
            let ms = ttl.as_millis().min(u128::from(u64::MAX)) as u64;
            let cut = (ms as f64 * jitter.clamp(0.0, 1.0) * roll.clamp(0.0, 1.0)) as u64;
            ms.saturating_sub(cut).max(1)
        };
        match *self {
            TtlRule::Configured(ttl) => configured(ttl),
            TtlRule::FromOrigin { fallback } => match origin_ms {
                Some(ms) => ms.max(1),
                None => configured(fallback),
            },
        }
    }

    /// For the dry-run plan: `1h`, `30m (source TTL if any)`.
    pub fn describe(&self) -> String {
        use hotkeys_contract::format_duration;
        match self {
            TtlRule::Configured(ttl) => format_duration(*ttl),
            TtlRule::FromOrigin { fallback } => {
                format!("source's, else {}", format_duration(*fallback))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);
    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn precedence() {
        assert_eq!(
            TtlRule::choose(Some(MIN), Some(HOUR), HOUR, true),
            TtlRule::Configured(MIN)
        );
        assert_eq!(
            TtlRule::choose(None, Some(MIN), HOUR, false),
            TtlRule::Configured(MIN)
        );
        assert_eq!(
            TtlRule::choose(None, None, HOUR, false),
            TtlRule::Configured(HOUR)
        );
        assert_eq!(
            TtlRule::choose(None, Some(MIN), HOUR, true),
            TtlRule::FromOrigin { fallback: MIN }
        );
    }

    #[test]
    fn jitter_only_shortens_configured_ttls_within_the_band() {
        let rule = TtlRule::Configured(HOUR);
        assert_eq!(rule.millis(None, 0.1, 0.0), 3_600_000);
        assert_eq!(rule.millis(None, 0.1, 0.5), 3_420_000);
        assert_eq!(rule.millis(None, 0.1, 0.999_999), 3_240_001);
        assert_eq!(rule.millis(None, 0.0, 0.7), 3_600_000);
        assert_eq!(
            rule.millis(Some(5), 0.1, 0.5),
            3_420_000,
            "origin TTL ignored"
        );
        let copy = TtlRule::FromOrigin { fallback: HOUR };
        assert_eq!(
            copy.millis(Some(12_345), 0.1, 0.9),
            12_345,
            "source TTL kept exact"
        );
        assert_eq!(copy.millis(None, 0.1, 0.5), 3_420_000);
        assert_eq!(copy.millis(Some(0), 0.1, 0.5), 1);
        assert_eq!(
            TtlRule::Configured(Duration::ZERO).millis(None, 0.5, 0.5),
            1
        );
    }

    #[test]
    fn descriptions() {
        assert_eq!(TtlRule::Configured(HOUR).describe(), "1h");
        assert_eq!(
            TtlRule::FromOrigin { fallback: MIN }.describe(),
            "source's, else 1m"
        );
    }
}
