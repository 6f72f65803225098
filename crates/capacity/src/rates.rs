//! Request rate over time, per minute and per hour.
//!
//! Quiet minutes count: every minute from the first request's to the last
//! request's is one value, with zero for a minute without requests, so the
//! median of a site that sleeps at night is not the median of its busy
//! hours. Empty minutes are counted, never stored, so a log with one stray
//! timestamp from 1970 costs nothing.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Rate statistics at one granularity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateStats {
    /// Requests per period.
    pub mean: f64,
    /// Median requests per period, quiet periods counting as zero.
    pub p50: u64,
    /// 99th percentile of requests per period (nearest rank).
    pub p99: u64,
    /// Requests in the busiest period.
    pub peak: u64,
    /// Start of the busiest period (the earliest, on ties), RFC 3339.
    pub peak_at: String,
    /// Periods between the first and the last request, inclusive.
    pub periods: u64,
}

/// One point of the rate chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatePoint {
    /// Start of the point's period, RFC 3339 in UTC.
    pub start: String,
    /// Unix seconds of `start`, for plotting.
    pub start_unix: i64,
    /// Average requests per minute over the point's period.
    pub requests_per_minute: f64,
}

/// The rate section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rates {
    /// Over every minute from the first counted request's to the last's.
    pub per_minute: RateStats,
    /// Over every clock hour (UTC) from the first counted request's to the
    /// last's.
    pub per_hour: RateStats,
    /// Seconds per chart point: a minute for logs of a few hours, longer
    /// periods so that a chart has at most [`MAX_POINTS`] points.
    pub series_period_seconds: u64,
    /// The chart's points in time order. Quiet periods are zero points,
    /// unless a stray far-off time would make too many of them.
    pub series: Vec<RatePoint>,
}

/// Most points in the rate chart: about two pixels each on a chart 800
/// pixels wide, so that noise does not hide the shape of the day.
pub const MAX_POINTS: u64 = 400;

/// Chart periods, in minutes.
const PERIODS: [i64; 10] = [1, 2, 5, 10, 15, 30, 60, 120, 360, 1440];

/// Rates from counts per minute since the epoch; `None` without any.
pub fn analyze(minutes: &HashMap<i64, u64>) -> Option<Rates> {
    let first = *minutes.keys().min()?;
    let last = *minutes.keys().max()?;
    let per_minute = stats(minutes, first, last, 1);
    let mut hours: HashMap<i64, u64> = HashMap::new();
    for (&m, &n) in minutes {
        *hours.entry(m.div_euclid(60)).or_insert(0) += n;
    }
    let per_hour = stats(&hours, first.div_euclid(60), last.div_euclid(60), 60);

    let span = (last - first + 1) as u64;
    let period = PERIODS
        .iter()
        .copied()
        .find(|&p| span.div_ceil(p as u64) <= MAX_POINTS)
        .unwrap_or(PERIODS[PERIODS.len() - 1]);
    let mut buckets: BTreeMap<i64, u64> = BTreeMap::new();
    for (&m, &n) in minutes {
        *buckets.entry(m.div_euclid(period)).or_insert(0) += n;
    }
    let (b0, b1) = (first.div_euclid(period), last.div_euclid(period));
    let series = if b1 - b0 < (MAX_POINTS as i64) * 2 {
        (b0..=b1)
            .map(|b| point(b * period, buckets.get(&b).copied().unwrap_or(0), period))
            .collect()
    } else {
        // A stray far-away timestamp: plot the periods that have requests.
        buckets
            .iter()
            .map(|(&b, &n)| point(b * period, n, period))
            .collect()
    };
    Some(Rates {
        per_minute,
        per_hour,
        series_period_seconds: period as u64 * 60,
        series,
    })
}

fn point(minute: i64, requests: u64, period_minutes: i64) -> RatePoint {
    RatePoint {
        start: hotkeys_contract::timestamp::format_rfc3339(minute * 60_000_000),
        start_unix: minute * 60,
        requests_per_minute: requests as f64 / period_minutes as f64,
    }
}

/// Statistics over the periods `first..=last`, those missing from `counts`
/// being zero. `minutes_per_period` converts a period index to a time.
fn stats(counts: &HashMap<i64, u64>, first: i64, last: i64, minutes_per_period: i64) -> RateStats {
    let periods = (last - first + 1) as u64;
    let mut nonzero: Vec<u64> = counts.values().copied().filter(|&n| n > 0).collect();
    nonzero.sort_unstable();
    let zeros = periods - nonzero.len() as u64;
    let total: u64 = nonzero.iter().sum();
    // Nearest rank over all periods, the zeros first.
    let quantile = |q: f64| -> u64 {
        let rank = ((q * periods as f64).ceil() as u64).clamp(1, periods);
        if rank <= zeros {
            0
        } else {
            nonzero[(rank - zeros - 1) as usize]
        }
    };
    let (peak_period, peak) = counts
        .iter()
        .map(|(&p, &n)| (p, n))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .unwrap_or((first, 0));
    RateStats {
        mean: total as f64 / periods as f64,
        p50: quantile(0.5),
        p99: quantile(0.99),
        peak,
        peak_at: hotkeys_contract::timestamp::format_rfc3339(
            peak_period * minutes_per_period * 60_000_000,
        ),
        periods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-01T00:00:00Z in minutes.
    const MAY_1: i64 = 1_714_521_600 / 60;

    #[test]
    fn quiet_minutes_count_as_zero() {
        // Ten minutes: 100 requests in the third, 1 in the first and last.
        let minutes: HashMap<i64, u64> = [(MAY_1, 1), (MAY_1 + 2, 100), (MAY_1 + 9, 1)].into();
        let r = analyze(&minutes).unwrap();
        let m = &r.per_minute;
        assert_eq!(m.periods, 10);
        assert!((m.mean - 10.2).abs() < 1e-9);
        assert_eq!(m.p50, 0);
        assert_eq!(m.p99, 100);
        assert_eq!(m.peak, 100);
        assert_eq!(m.peak_at, "2024-05-01T00:02:00Z");
        assert_eq!(r.per_hour.periods, 1);
        assert_eq!(r.per_hour.peak, 102);
        assert_eq!(r.per_hour.peak_at, "2024-05-01T00:00:00Z");
        assert_eq!(r.series_period_seconds, 60);
        assert_eq!(r.series.len(), 10);
        assert_eq!(r.series[2].requests_per_minute, 100.0);
        assert!(analyze(&HashMap::new()).is_none());
    }

    #[test]
    fn long_spans_get_longer_periods_and_stray_times_cost_nothing() {
        // A week, one request a minute.
        let week: HashMap<i64, u64> = (0..7 * 1440).map(|m| (MAY_1 + m, 1)).collect();
        let r = analyze(&week).unwrap();
        assert_eq!(r.series_period_seconds, 30 * 60);
        assert!(r.series.len() as u64 <= MAX_POINTS);
        assert!(
            r.series
                .iter()
                .all(|p| (p.requests_per_minute - 1.0).abs() < 1e-9)
        );

        let stray: HashMap<i64, u64> = [(0, 1), (MAY_1, 5)].into();
        let r = analyze(&stray).unwrap();
        assert_eq!(r.series.len(), 2);
        assert_eq!(r.per_minute.p99, 0);
        assert_eq!(r.per_minute.peak, 5);
    }
}
