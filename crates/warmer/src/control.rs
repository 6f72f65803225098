//! Steering a run from outside: stopping it (Ctrl-C, deadline) and
//! watching its progress (the progress bar), without the run knowing who
//! is watching.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio::sync::watch;

/// Why a run stopped before the end of its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Ctrl-C (or SIGTERM, SIGHUP, on the command line), or the caller's
    /// [`Control::stop`].
    Interrupted,
    /// The `deadline` passed.
    Deadline,
    /// The origin failed too often: the circuit breaker opened.
    CircuitBreaker,
    /// Redis stayed unreachable for longer than the Redis timeout.
    RedisLost,
    /// A memcached server stayed unreachable for longer than the timeout.
    MemcachedLost,
    /// The origin asked, with `Retry-After`, for a longer pause than a run
    /// waits ([`MAX_RETRY_AFTER`](crate::backoff::MAX_RETRY_AFTER)), or for
    /// pauses adding up to more than that without answering normally.
    RateLimited,
}

impl StopReason {
    /// True for the reasons that make a run fatal (exit code 1).
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            StopReason::CircuitBreaker
                | StopReason::RedisLost
                | StopReason::MemcachedLost
                | StopReason::RateLimited
        )
    }
}

/// Counters of a run in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Keys in the plan.
    pub total: u64,
    /// Keys written.
    pub warmed: u64,
    /// Keys already present.
    pub skipped: u64,
    /// Keys that failed (refused ones included).
    pub failed: u64,
}

impl Progress {
    /// Keys finished one way or another.
    pub fn done(&self) -> u64 {
        self.warmed + self.skipped + self.failed
    }
}

#[derive(Debug)]
struct Inner {
    stop: watch::Sender<Option<StopReason>>,
    total: AtomicU64,
    warmed: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
}

/// A handle shared by a run and whoever steers it. Clones share state.
#[derive(Debug, Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

impl Default for Control {
    fn default() -> Control {
        Control::new()
    }
}

impl Control {
    /// A handle for one run.
    pub fn new() -> Control {
        Control {
            inner: Arc::new(Inner {
                stop: watch::Sender::new(None),
                total: AtomicU64::new(0),
                warmed: AtomicU64::new(0),
                skipped: AtomicU64::new(0),
                failed: AtomicU64::new(0),
            }),
        }
    }

    /// Asks the run to stop: no new origin request starts, requests in
    /// flight are abandoned, values already fetched are still written.
    /// The first reason given is the one reported.
    pub fn stop(&self, reason: StopReason) {
        self.inner.stop.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// The reason the run was asked to stop, if it was.
    pub fn stop_reason(&self) -> Option<StopReason> {
        *self.inner.stop.borrow()
    }

    /// Resolves once the run is asked to stop.
    pub async fn stopped(&self) -> StopReason {
        let mut rx = self.inner.stop.subscribe();
        loop {
            if let Some(reason) = *rx.borrow_and_update() {
                return reason;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// The counters right now.
    pub fn progress(&self) -> Progress {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Progress {
            total: load(&self.inner.total),
            warmed: load(&self.inner.warmed),
            skipped: load(&self.inner.skipped),
            failed: load(&self.inner.failed),
        }
    }

    pub(crate) fn set_total(&self, total: u64) {
        self.inner.total.store(total, Ordering::Relaxed);
    }

    pub(crate) fn add_warmed(&self) {
        self.inner.warmed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_skipped(&self) {
        self.inner.skipped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_failed(&self) {
        self.inner.failed.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_wakes_waiters() {
        let control = Control::new();
        let waiter = tokio::spawn({
            let c = control.clone();
            async move { c.stopped().await }
        });
        control.stop(StopReason::Deadline);
        control.stop(StopReason::Interrupted);
        assert_eq!(waiter.await.unwrap(), StopReason::Deadline);
        assert_eq!(control.stop_reason(), Some(StopReason::Deadline));
        assert_eq!(control.stopped().await, StopReason::Deadline);
    }

    #[test]
    fn progress_counts() {
        let control = Control::new();
        control.set_total(3);
        control.add_warmed();
        control.add_failed();
        let p = control.progress();
        assert_eq!((p.total, p.done()), (3, 2));
        assert!(StopReason::RedisLost.is_fatal() && !StopReason::Deadline.is_fatal());
    }
}
