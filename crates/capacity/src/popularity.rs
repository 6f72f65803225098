//! How requests spread over keys: coverage of the top keys, one-hit
//! wonders, the frequency histogram and a Zipf fit.
//!
//! **Zipf fit.** Popularity is often close to Zipf's law: the key of rank r
//! gets requests in proportion to r^-s. On a log-log plot of requests
//! against rank that is a line of slope -s, so s is fitted by least squares
//! on (ln r, ln count). Two things keep the fit honest:
//!
//! * the range stops at the last rank with at least [`MIN_FIT_COUNT`]
//!   requests: below that, counts are small integers whose noise and
//!   flat steps (hundreds of keys seen exactly twice) bend the tail;
//! * ranks are taken at log-spaced points (about 20 per decade), so the
//!   thousands of tail ranks do not outvote the few head ranks.
//!
//! R² says how straight the line is; a low value means the traffic is not
//! Zipf-like and the exponent should not be read as one.

use serde::Serialize;

/// Fewest requests a rank needs to be in the Zipf fit.
pub const MIN_FIT_COUNT: u64 = 10;

/// Fewest points for a fit worth reporting.
const MIN_FIT_POINTS: usize = 5;

/// Share of the traffic served by the top `top` keys.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coverage {
    /// The N of "the top N keys", as asked for.
    pub top: u64,
    /// Keys actually counted (fewer when the log has fewer keys).
    pub keys: u64,
    /// Fraction (0 to 1) of the counted requests that are for these keys.
    pub requests_share: f64,
    /// Fraction (0 to 1) of the response bytes that are for these keys.
    pub bytes_share: f64,
}

/// Keys requested exactly once.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OneHitWonders {
    /// Keys with exactly one counted request.
    pub keys: u64,
    /// `keys` as a fraction (0 to 1) of the distinct keys.
    pub share_of_keys: f64,
    /// Their requests as a fraction (0 to 1) of the counted requests: the
    /// misses no cache avoids.
    pub share_of_requests: f64,
}

/// Keys whose request count is in `min_requests..=max_requests`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrequencyBucket {
    /// Lowest request count of the range, a power of two.
    pub min_requests: u64,
    /// Highest request count of the range, inclusive: twice `min_requests`
    /// minus one.
    pub max_requests: u64,
    /// Keys whose request count falls in the range.
    pub keys: u64,
    /// The requests of those keys, summed.
    pub requests: u64,
}

/// A fitted Zipf exponent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZipfFit {
    /// s in `count ∝ rank^-s`: the negated slope of ln count against
    /// ln rank.
    pub exponent: f64,
    /// R² of that line, 0 to 1; a low value means the traffic is not
    /// Zipf-like.
    pub r_squared: f64,
    /// First rank fitted (always 1).
    pub fit_from_rank: u64,
    /// Last rank fitted: the last with at least [`MIN_FIT_COUNT`] requests.
    pub fit_to_rank: u64,
    /// Log-spaced ranks the line was fitted on.
    pub points: usize,
}

/// Everything about popularity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Popularity {
    /// Coverage of the top 10, 100, 1,000 and 10,000 keys
    /// ([`COVERAGE_TOPS`]).
    pub coverage: Vec<Coverage>,
    /// Denser coverage points, for the chart.
    pub coverage_curve: Vec<Coverage>,
    /// Keys requested exactly once.
    pub one_hit_wonders: OneHitWonders,
    /// Keys by request count in ranges 1, 2-3, 4-7, ..., ascending; ranges
    /// without keys are left out.
    pub frequency: Vec<FrequencyBucket>,
    /// `None` when too few ranks have at least [`MIN_FIT_COUNT`] requests
    /// to fit a line.
    pub zipf: Option<ZipfFit>,
}

/// The tops listed in the coverage table.
pub const COVERAGE_TOPS: [u64; 4] = [10, 100, 1_000, 10_000];

/// `keys`: (requests, bytes) per key, in any order.
pub fn analyze(keys: &[(u64, u64)]) -> Popularity {
    let mut sorted: Vec<(u64, u64)> = keys.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let total_requests: u64 = sorted.iter().map(|k| k.0).sum();
    let total_bytes: u64 = sorted.iter().map(|k| k.1).sum();
    let share = |part: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            part as f64 / total as f64
        }
    };
    // Running sums over the ranking, so any top is one lookup.
    let mut cumulative = Vec::with_capacity(sorted.len() + 1);
    cumulative.push((0u64, 0u64));
    for &(r, b) in &sorted {
        let (cr, cb) = *cumulative.last().expect("starts non-empty");
        cumulative.push((cr + r, cb + b));
    }
    let coverage_at = |top: u64| {
        let keys = top.min(sorted.len() as u64);
        let (r, b) = cumulative[keys as usize];
        Coverage {
            top,
            keys,
            requests_share: share(r, total_requests),
            bytes_share: share(b, total_bytes),
        }
    };
    let coverage = COVERAGE_TOPS.iter().map(|&t| coverage_at(t)).collect();
    let coverage_curve = log_points(sorted.len() as u64, 12)
        .into_iter()
        .map(coverage_at)
        .collect();

    let once = sorted.iter().filter(|k| k.0 == 1).count() as u64;
    let one_hit_wonders = OneHitWonders {
        keys: once,
        share_of_keys: share(once, sorted.len() as u64),
        share_of_requests: share(once, total_requests),
    };

    let counts: Vec<u64> = sorted.iter().map(|k| k.0).collect();
    Popularity {
        coverage,
        coverage_curve,
        one_hit_wonders,
        frequency: frequency(&counts),
        zipf: fit_zipf(&counts),
    }
}

/// Keys by request count in power-of-two buckets: 1, 2-3, 4-7, ...
fn frequency(counts_desc: &[u64]) -> Vec<FrequencyBucket> {
    let mut buckets: Vec<FrequencyBucket> = Vec::new();
    for &c in counts_desc.iter().rev() {
        if c == 0 {
            continue;
        }
        let power = 63 - c.leading_zeros();
        let min = 1u64 << power;
        match buckets.last_mut() {
            Some(b) if b.min_requests == min => {
                b.keys += 1;
                b.requests += c;
            }
            _ => buckets.push(FrequencyBucket {
                min_requests: min,
                max_requests: min.saturating_mul(2) - 1,
                keys: 1,
                requests: c,
            }),
        }
    }
    buckets
}

/// Ranks from 1 to `n`, about `per_decade` per factor of ten, always
/// including 1 and `n`.
pub fn log_points(n: u64, per_decade: u32) -> Vec<u64> {
    let mut points = Vec::new();
    if n == 0 {
        return points;
    }
    let step = 10f64.powf(1.0 / f64::from(per_decade));
    let mut x = 1.0f64;
    while (x as u64) < n {
        let p = x.round() as u64;
        if points.last() != Some(&p) {
            points.push(p);
        }
        x *= step;
    }
    if points.last() != Some(&n) {
        points.push(n);
    }
    points
}

/// Fits `count ∝ rank^-s` on counts sorted in descending order.
pub fn fit_zipf(counts_desc: &[u64]) -> Option<ZipfFit> {
    let last = counts_desc.partition_point(|&c| c >= MIN_FIT_COUNT) as u64;
    if last == 0 {
        return None;
    }
    let points: Vec<(f64, f64)> = log_points(last, 20)
        .into_iter()
        .map(|r| ((r as f64).ln(), (counts_desc[r as usize - 1] as f64).ln()))
        .collect();
    if points.len() < MIN_FIT_POINTS {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let r_squared = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    Some(ZipfFit {
        exponent: -slope,
        r_squared,
        fit_from_rank: 1,
        fit_to_rank: last,
        points: points.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_and_one_hit_wonders() {
        // 10 keys: one with 50 requests, one with 20, eight seen once.
        let mut keys = vec![(50, 500), (20, 2000)];
        keys.extend(std::iter::repeat_n((1, 10), 8));
        let p = analyze(&keys);
        assert_eq!(p.coverage[0].top, 10);
        assert_eq!(p.coverage[0].keys, 10);
        assert!((p.coverage[0].requests_share - 1.0).abs() < 1e-12);
        let top2 = p.coverage_curve.iter().find(|c| c.top == 2).unwrap();
        assert!((top2.requests_share - 70.0 / 78.0).abs() < 1e-12);
        assert!((top2.bytes_share - 2500.0 / 2580.0).abs() < 1e-12);
        assert_eq!(p.one_hit_wonders.keys, 8);
        assert!((p.one_hit_wonders.share_of_keys - 0.8).abs() < 1e-12);
        assert_eq!(
            p.frequency
                .iter()
                .map(|b| (b.min_requests, b.keys))
                .collect::<Vec<_>>(),
            [(1, 8), (16, 1), (32, 1)]
        );
        // Too few keys with 10+ requests to fit.
        assert!(p.zipf.is_none());
    }

    #[test]
    fn exact_power_law_fits_exactly() {
        for s in [0.8, 1.0, 1.2] {
            let counts: Vec<u64> = (1..=5000u64)
                .map(|r| (1e6 * (r as f64).powf(-s)).round() as u64)
                .collect();
            let fit = fit_zipf(&counts).unwrap();
            assert!((fit.exponent - s).abs() < 0.01, "{s}: {fit:?}");
            assert!(fit.r_squared > 0.999, "{fit:?}");
            assert!(counts[fit.fit_to_rank as usize - 1] >= MIN_FIT_COUNT);
        }
    }

    #[test]
    fn log_points_cover_the_range() {
        assert_eq!(log_points(1, 10), vec![1]);
        assert_eq!(log_points(0, 10), Vec::<u64>::new());
        let p = log_points(1000, 10);
        assert_eq!(p[0], 1);
        assert_eq!(*p.last().unwrap(), 1000);
        assert!(p.windows(2).all(|w| w[0] < w[1]));
        assert!(p.len() >= 25 && p.len() <= 32, "{}", p.len());
    }
}
