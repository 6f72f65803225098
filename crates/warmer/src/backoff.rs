//! Waiting before a retry: exponential back-off with jitter, and the
//! origin's own `Retry-After` when it sends one.
//!
//! Jitter matters because the keys of one run fail together (the origin
//! had a bad second): without it, every retry would arrive in the same
//! instant again.

use std::time::{Duration, SystemTime};

/// The longest `Retry-After` a run honours, and the longest the origin may
/// keep a run paused in all without answering normally in between (see
/// [`Patience`](crate::throttle::Patience)). A warm-up window is minutes:
/// an origin that asks for more is not going to be warmed in time, and
/// the run stops with a reason instead of waiting.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Exponential back-off: attempt `n` (0 for the first retry) waits between
/// half and all of `base * 2^n`, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first retry (before jitter).
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The delay before retry `attempt` (0-based), with "equal jitter": the
    /// delay still grows with each attempt, and two keys that failed
    /// together do not come back together.
    pub fn delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max);
        let half = ceiling / 2;
        half + half.mul_f64(rng.f64())
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds (`120`) or an
/// HTTP date. A date in the past means "now". `None` when the value is
/// neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_stay_jittered_and_capped() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let mut rng = fastrand::Rng::with_seed(7);
        for attempt in 0..8 {
            let ceiling =
                (Duration::from_millis(100) * 2u32.pow(attempt)).min(Duration::from_secs(1));
            let mut seen = Vec::new();
            for _ in 0..50 {
                let d = backoff.delay(attempt, &mut rng);
                assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
                seen.push(d);
            }
            seen.dedup();
            assert!(seen.len() > 10, "jitter spreads the delays");
        }
        assert!(backoff.delay(u32::MAX, &mut rng) <= Duration::from_secs(1));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_564_800); // 2024-05-01T12:00:00Z
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
