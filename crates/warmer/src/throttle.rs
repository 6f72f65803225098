//! Adaptive concurrency: `--concurrency` is a ceiling, not a target.
//!
//! The throttle starts with the full number of in-flight origin requests.
//! When the origin says it is overloaded (429, 503, a timeout) the limit is
//! halved, and when it asks for a pause (`Retry-After`) no new request
//! starts until the pause is over. Each success then raises the limit by
//! about one request per round trip, back up to the ceiling: additive
//! increase, multiplicative decrease, the scheme TCP uses for the same
//! problem.
//!
//! [`Patience`] bounds those pauses: one `Retry-After` longer than
//! [`MAX_RETRY_AFTER`], or pauses adding up to more than that with no
//! normal answer in between, stop the run. Without it an origin answering
//! `429 Retry-After: 3600` held a run for many minutes: each wave of
//! requests waited out a pause, and the circuit breaker's window filled
//! only a few keys per wave once the in-flight limit had been halved.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::backoff::MAX_RETRY_AFTER;

/// Several requests that fail in the same burst are one overload signal:
/// the limit is halved at most once per this interval.
const CUT_INTERVAL: Duration = Duration::from_millis(250);

/// What one finished request says about the origin's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The origin answered normally (any status it was not struggling with).
    Healthy,
    /// The origin is overloaded; `pause` is how long it asked us to wait.
    Overloaded {
        /// From `Retry-After`, when there was one.
        pause: Option<Duration>,
    },
    /// Nothing to learn (e.g. the request was cancelled).
    Neutral,
}

#[derive(Debug)]
struct State {
    limit: f64,
    in_flight: usize,
    paused_until: Option<Instant>,
    last_cut: Option<Instant>,
}

/// Limits in-flight origin requests and adapts the limit to the origin.
#[derive(Debug)]
pub struct Throttle {
    ceiling: usize,
    state: Mutex<State>,
    changed: Notify,
}

/// One in-flight request. Report how it went with [`Permit::finish`];
/// dropping it counts as [`Signal::Neutral`].
#[derive(Debug)]
pub struct Permit {
    throttle: Arc<Throttle>,
    finished: bool,
}

impl Throttle {
    /// A throttle allowing at most `ceiling` (at least 1) requests at once.
    pub fn new(ceiling: usize) -> Arc<Throttle> {
        let ceiling = ceiling.max(1);
        Arc::new(Throttle {
            ceiling,
            state: Mutex::new(State {
                limit: ceiling as f64,
                in_flight: 0,
                paused_until: None,
                last_cut: None,
            }),
            changed: Notify::new(),
        })
    }

    /// The current limit, rounded down (for progress and tests).
    pub fn limit(&self) -> usize {
        self.lock().limit as usize
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a request may start: not paused, and fewer requests in
    /// flight than the current limit.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let pause = {
                let mut s = self.lock();
                let now = Instant::now();
                match s.paused_until {
                    Some(until) if until > now => Some(until),
                    _ => {
                        s.paused_until = None;
                        if s.in_flight < (s.limit as usize).max(1) {
                            s.in_flight += 1;
                            return Permit {
                                throttle: Arc::clone(self),
                                finished: false,
                            };
                        }
                        None
                    }
                }
            };
            match pause {
                Some(until) => tokio::time::sleep_until(until).await,
                None => changed.await,
            }
        }
    }

    fn release(&self, signal: Signal) {
        {
            let mut s = self.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            let now = Instant::now();
            match signal {
                Signal::Healthy => {
                    s.limit = (s.limit + 1.0 / s.limit).min(self.ceiling as f64);
                }
                Signal::Overloaded { pause } => {
                    if s.last_cut
                        .is_none_or(|t| now.duration_since(t) >= CUT_INTERVAL)
                    {
                        s.limit = (s.limit / 2.0).max(1.0);
                        s.last_cut = Some(now);
                    }
                    if let Some(pause) = pause {
                        let until = now + pause;
                        if s.paused_until.is_none_or(|p| p < until) {
                            s.paused_until = Some(until);
                        }
                    }
                }
                Signal::Neutral => {}
            }
        }
        self.changed.notify_waiters();
    }
}

/// How long the origin has kept a run paused (`Retry-After`) since it last
/// answered normally, against a limit.
#[derive(Debug)]
pub struct Patience {
    limit: Duration,
    /// Pause time since the last normal answer.
    spent: Duration,
    /// The end of the current pause.
    until: Option<Instant>,
}

/// What a [`Patience`] made of one request's [`Signal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heeded {
    /// No pause, or one within a pause already running.
    Nothing,
    /// A pause begins, this long.
    Paused(Duration),
    /// The pause already running lasts this much longer.
    Extended(Duration),
}

/// The origin asks for more waiting than a run gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfPatience {
    /// One `Retry-After` longer than the limit.
    TooLong(Duration),
    /// Pauses in a row, with no normal answer in between, adding up to
    /// more than the limit.
    TooMany(Duration),
}

impl Patience {
    /// Patience for pauses up to [`MAX_RETRY_AFTER`], one or in all.
    pub fn new() -> Patience {
        Patience::with_limit(MAX_RETRY_AFTER)
    }

    /// Patience for pauses up to `limit`, one or in all.
    pub fn with_limit(limit: Duration) -> Patience {
        Patience {
            limit,
            spent: Duration::ZERO,
            until: None,
        }
    }

    /// Takes in what one finished request said, at `now`.
    pub fn heed(&mut self, signal: Signal, now: Instant) -> Result<Heeded, OutOfPatience> {
        match signal {
            Signal::Healthy => {
                self.spent = Duration::ZERO;
                Ok(Heeded::Nothing)
            }
            Signal::Overloaded { pause: Some(pause) } => {
                if pause > self.limit {
                    return Err(OutOfPatience::TooLong(pause));
                }
                let end = now + pause;
                let running = self.until.filter(|&until| until > now);
                let added = end.saturating_duration_since(running.unwrap_or(now));
                if added.is_zero() {
                    return Ok(Heeded::Nothing);
                }
                self.until = Some(end);
                self.spent += added;
                if self.spent > self.limit {
                    return Err(OutOfPatience::TooMany(self.spent));
                }
                Ok(match running {
                    Some(_) => Heeded::Extended(added),
                    None => Heeded::Paused(added),
                })
            }
            Signal::Overloaded { pause: None } | Signal::Neutral => Ok(Heeded::Nothing),
        }
    }
}

impl Default for Patience {
    fn default() -> Patience {
        Patience::new()
    }
}

impl Permit {
    /// Ends the request, telling the throttle how it went.
    pub fn finish(mut self, signal: Signal) {
        self.finished = true;
        self.throttle.release(signal);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.finished {
            self.throttle.release(Signal::Neutral);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limits_in_flight_requests() {
        let t = Throttle::new(2);
        let a = t.acquire().await;
        let _b = t.acquire().await;
        let third = tokio::spawn({
            let t = Arc::clone(&t);
            async move { t.acquire().await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!third.is_finished(), "a third request waits");
        a.finish(Signal::Healthy);
        let _c = tokio::time::timeout(Duration::from_secs(1), third)
            .await
            .expect("a finished request frees its place")
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn overload_halves_once_per_burst_and_success_climbs_back() {
        let t = Throttle::new(16);
        for _ in 0..4 {
            t.acquire().await.finish(Signal::Overloaded { pause: None });
        }
        assert_eq!(t.limit(), 8, "one burst, one cut");
        tokio::time::sleep(CUT_INTERVAL).await;
        t.acquire().await.finish(Signal::Overloaded { pause: None });
        assert_eq!(t.limit(), 4);
        for _ in 0..200 {
            t.acquire().await.finish(Signal::Healthy);
        }
        assert_eq!(t.limit(), 16, "back to the ceiling, never above");
        for _ in 0..20 {
            t.acquire().await.finish(Signal::Overloaded { pause: None });
            tokio::time::sleep(CUT_INTERVAL).await;
        }
        assert_eq!(t.limit(), 1, "never below one");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_every_new_request() {
        let t = Throttle::new(4);
        let t0 = Instant::now();
        t.acquire().await.finish(Signal::Overloaded {
            pause: Some(Duration::from_secs(2)),
        });
        let _p = t.acquire().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(2));
    }

    #[test]
    fn patience_ends_at_one_long_pause_or_at_many_without_an_answer() {
        let secs = Duration::from_secs;
        let pause = |s| Signal::Overloaded {
            pause: Some(secs(s)),
        };
        let t0 = Instant::now();
        let mut p = Patience::with_limit(secs(30));
        assert_eq!(
            p.heed(pause(3600), t0),
            Err(OutOfPatience::TooLong(secs(3600)))
        );

        let mut p = Patience::with_limit(secs(30));
        assert_eq!(p.heed(pause(10), t0), Ok(Heeded::Paused(secs(10))));
        // The same pause reported by the other requests of the wave.
        assert_eq!(p.heed(pause(10), t0), Ok(Heeded::Nothing));
        assert_eq!(
            p.heed(pause(10), t0 + secs(2)),
            Ok(Heeded::Extended(secs(2)))
        );
        assert_eq!(
            p.heed(pause(10), t0 + secs(12)),
            Ok(Heeded::Paused(secs(10)))
        );
        // 22 s so far; 10 more make 32, over the 30 allowed.
        assert_eq!(
            p.heed(pause(10), t0 + secs(22)),
            Err(OutOfPatience::TooMany(secs(32)))
        );

        // A normal answer starts the count again; errors without a pause
        // neither count nor reset it.
        let mut p = Patience::with_limit(secs(30));
        assert!(p.heed(pause(20), t0).is_ok());
        assert!(
            p.heed(Signal::Overloaded { pause: None }, t0 + secs(20))
                .is_ok()
        );
        assert!(p.heed(Signal::Healthy, t0 + secs(20)).is_ok());
        assert_eq!(
            p.heed(pause(20), t0 + secs(21)),
            Ok(Heeded::Paused(secs(20)))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn dropped_permits_are_returned() {
        let t = Throttle::new(1);
        drop(t.acquire().await);
        let _again = tokio::time::timeout(Duration::from_secs(1), t.acquire())
            .await
            .expect("a dropped permit frees its place");
    }
}
