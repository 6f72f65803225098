//! The circuit breaker: stop rather than hammer a failing origin.
//!
//! Warming exists to protect the origin, so a run that sees the origin
//! failing must stop instead of retrying its way through the whole list.
//! The breaker looks at the outcome of the last `window` keys (after their
//! retries) and opens when the share of origin errors among them reaches
//! the threshold. Only errors that say something about the origin's health
//! count (5xx, 429, timeouts, refused connections); a 404 is an answer.

use std::collections::VecDeque;

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// How many recent key outcomes are looked at (at least 1).
    pub window: usize,
    /// Error share (0 to 1) at which the breaker opens.
    pub threshold: f64,
}

impl Default for BreakerConfig {
    fn default() -> BreakerConfig {
        BreakerConfig {
            window: 50,
            threshold: 0.5,
        }
    }
}

/// Why the breaker opened, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tripped {
    /// Errors in the window.
    pub errors: usize,
    /// Size of the window.
    pub window: usize,
}

/// A sliding window of recent outcomes.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    recent: VecDeque<bool>,
    errors: usize,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Breaker {
        let window = config.window.max(1);
        Breaker {
            config: BreakerConfig { window, ..config },
            recent: VecDeque::with_capacity(window),
            errors: 0,
        }
    }

    /// Records one key's outcome (`true` for an origin error). Returns
    /// `Some` when the window is full and its error share has reached the
    /// threshold.
    pub fn record(&mut self, error: bool) -> Option<Tripped> {
        if self.recent.len() == self.config.window && self.recent.pop_front() == Some(true) {
            self.errors -= 1;
        }
        self.recent.push_back(error);
        self.errors += usize::from(error);
        let full = self.recent.len() == self.config.window;
        let share = self.errors as f64 / self.config.window as f64;
        (full && self.errors > 0 && share >= self.config.threshold).then_some(Tripped {
            errors: self.errors,
            window: self.config.window,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_on_a_full_window_at_the_threshold() {
        let mut b = Breaker::new(BreakerConfig {
            window: 4,
            threshold: 0.5,
        });
        assert_eq!(b.record(true), None);
        assert_eq!(b.record(true), None);
        assert_eq!(b.record(false), None, "window not full yet");
        assert_eq!(
            b.record(false),
            Some(Tripped {
                errors: 2,
                window: 4
            })
        );
    }

    #[test]
    fn old_outcomes_slide_out() {
        let mut b = Breaker::new(BreakerConfig {
            window: 4,
            threshold: 0.75,
        });
        for _ in 0..2 {
            assert_eq!(b.record(true), None);
        }
        for _ in 0..10 {
            assert_eq!(b.record(false), None);
        }
        assert_eq!(b.record(true), None);
        assert_eq!(b.record(true), None);
        assert_eq!(b.record(true).map(|t| t.errors), Some(3));
    }

    #[test]
    fn a_healthy_origin_never_opens_it() {
        let mut b = Breaker::new(BreakerConfig {
            window: 1,
            threshold: 0.0,
        });
        for _ in 0..100 {
            assert_eq!(b.record(false), None);
        }
        assert!(b.record(true).is_some());
    }
}
