//! Response sizes: per request (what the network carries) and per object
//! (what a cache stores: each key's largest response).

use hdrhistogram::Histogram;
use serde::Serialize;

/// A size distribution, in bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SizeStats {
    /// Sizes measured: responses with a logged size, or keys. All fields
    /// are 0 when there is none.
    pub count: u64,
    /// Their sum; by request, the histogram's mean times `count`, rounded.
    pub total: u64,
    /// Mean size.
    pub mean: f64,
    /// Median size (by request to the histogram's 0.1%, by object exact).
    pub p50: u64,
    /// The size 90% of them do not exceed.
    pub p90: u64,
    /// The size 99% of them do not exceed.
    pub p99: u64,
    /// Largest size.
    pub max: u64,
}

/// Requests and objects in one size range, `min..max` (`max` exclusive;
/// `None` for the open last range).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SizeBucket {
    /// Lower bound in bytes, inclusive.
    pub min: u64,
    /// Upper bound in bytes, exclusive; `None` for the last range.
    pub max: Option<u64>,
    /// Counted responses in the range (those that logged a size).
    pub requests: u64,
    /// Keys whose largest response is in the range.
    pub objects: u64,
}

/// The sizes section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sizes {
    /// From a 0.1% histogram of every counted response that logged a size.
    pub by_request: SizeStats,
    /// Exact, over keys.
    pub by_object: SizeStats,
    /// Every range, empty ones too: 0, under 1 KiB, then powers of four up
    /// to 16 MiB and above.
    pub buckets: Vec<SizeBucket>,
}

/// Range bounds: 0, 1 B, 1 KiB, 4 KiB, ..., 16 MiB (powers of four).
fn bounds() -> Vec<u64> {
    let mut b = vec![0, 1];
    let mut x = 1024u64;
    while x <= 16 << 20 {
        b.push(x);
        x *= 4;
    }
    b
}

/// `by_request`: response bytes of every request; `object_sizes`: one per
/// key.
pub fn analyze(by_request: &Histogram<u64>, object_sizes: &[u64]) -> Sizes {
    let bounds = bounds();
    let mut buckets: Vec<SizeBucket> = bounds
        .iter()
        .enumerate()
        .map(|(i, &min)| SizeBucket {
            min,
            max: bounds.get(i + 1).copied(),
            requests: 0,
            objects: 0,
        })
        .collect();
    let bucket_of = |v: u64| bounds.partition_point(|&b| b <= v) - 1;
    for v in by_request.iter_recorded() {
        // The bin's lowest value decides: a bin never straddles 0 or 1.
        let low = by_request.lowest_equivalent(v.value_iterated_to());
        buckets[bucket_of(low)].requests += v.count_since_last_iteration();
    }
    for &s in object_sizes {
        buckets[bucket_of(s)].objects += 1;
    }
    Sizes {
        by_request: from_histogram(by_request),
        by_object: exact(object_sizes),
        buckets,
    }
}

fn from_histogram(h: &Histogram<u64>) -> SizeStats {
    if h.is_empty() {
        return SizeStats::default();
    }
    SizeStats {
        count: h.len(),
        total: (h.mean() * h.len() as f64).round() as u64,
        mean: h.mean(),
        p50: h.value_at_quantile(0.5),
        p90: h.value_at_quantile(0.9),
        p99: h.value_at_quantile(0.99),
        max: h.max(),
    }
}

fn exact(values: &[u64]) -> SizeStats {
    if values.is_empty() {
        return SizeStats::default();
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    let at = |q: f64| v[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
    let total: u64 = v.iter().sum();
    SizeStats {
        count: n as u64,
        total,
        mean: total as f64 / n as f64,
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: v[n - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_and_buckets() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in [0, 0, 500, 2_000, 2_000, 100_000] {
            h.record(v).unwrap();
        }
        let s = analyze(&h, &[0, 500, 2_000, 100_000]);
        assert_eq!(s.by_request.count, 6);
        assert_eq!(s.by_request.p50, 500);
        assert_eq!(s.by_object.p50, 500);
        assert_eq!(s.by_object.max, 100_000);
        assert_eq!(s.by_object.total, 102_500);
        let rows: Vec<(u64, u64, u64)> = s
            .buckets
            .iter()
            .filter(|b| b.requests + b.objects > 0)
            .map(|b| (b.min, b.requests, b.objects))
            .collect();
        assert_eq!(rows, [(0, 2, 1), (1, 1, 1), (1024, 2, 1), (65_536, 1, 1)]);
        assert_eq!(s.buckets.last().unwrap().max, None);
        assert_eq!(
            analyze(&Histogram::new(3).unwrap(), &[]).by_object,
            SizeStats::default()
        );
    }
}
