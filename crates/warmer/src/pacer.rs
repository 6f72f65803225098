//! `--rate`: origin requests per second, evenly spaced.
//!
//! A token bucket would allow a burst of its whole capacity at the start
//! and after every pause; an origin that is being protected sees that
//! burst. The pacer instead hands out start times one interval apart, so
//! the origin sees a steady stream at the configured rate from the first
//! request on.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces request starts `1 / rate` seconds apart.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer for `rate` requests per second, or `None` for no limit (also
    /// for a rate that is not a positive, finite number).
    pub fn new(rate: Option<f64>) -> Option<Pacer> {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0)?;
        Some(Pacer {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(None),
        })
    }

    /// Reserves `n` consecutive slots and waits until the first of them.
    /// A batch of `n` requests (a Redis origin pipeline) therefore costs
    /// as much rate as `n` single requests.
    pub async fn wait(&self, n: u32) {
        let start = self.reserve(n, Instant::now());
        tokio::time::sleep_until(start).await;
    }

    fn reserve(&self, n: u32, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let start = match *next {
            Some(t) if t > now => t,
            _ => now,
        };
        *next = Some(start + self.interval.saturating_mul(n.max(1)));
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_limit_without_a_usable_rate() {
        assert!(Pacer::new(None).is_none());
        assert!(Pacer::new(Some(0.0)).is_none());
        assert!(Pacer::new(Some(-3.0)).is_none());
        assert!(Pacer::new(Some(f64::NAN)).is_none());
        assert!(Pacer::new(Some(0.5)).is_some());
    }

    #[test]
    fn slots_are_evenly_spaced_from_the_first_request() {
        let pacer = Pacer::new(Some(10.0)).unwrap();
        let t0 = Instant::now();
        let starts: Vec<Duration> = (0..5).map(|_| pacer.reserve(1, t0) - t0).collect();
        assert_eq!(
            starts,
            [0, 100, 200, 300, 400].map(Duration::from_millis).to_vec()
        );
        // A batch takes as many slots as it has requests.
        let batch = pacer.reserve(3, t0) - t0;
        assert_eq!(batch, Duration::from_millis(500));
        assert_eq!(pacer.reserve(1, t0) - t0, Duration::from_millis(800));
        // After an idle spell there is no burst to catch up.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(pacer.reserve(1, later), later);
        assert_eq!(pacer.reserve(1, later) - later, Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_honours_the_rate() {
        let pacer = Pacer::new(Some(20.0)).unwrap();
        let t0 = Instant::now();
        for _ in 0..21 {
            pacer.wait(1).await;
        }
        assert_eq!(Instant::now() - t0, Duration::from_secs(1));
    }
}
