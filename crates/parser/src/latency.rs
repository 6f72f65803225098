//! A small latency distribution kept per key.
//!
//! A full HdrHistogram per key would cost kilobytes for every one of
//! millions of keys. Keys only need p50/p99, so each keeps a sparse
//! log-linear histogram: values below 32 µs exactly, above that 16 buckets
//! per power of two (at most 1/32 relative error). A key seen once holds
//! one bucket; only hot keys grow, and they are few.

/// Sorted `(bucket, count)` pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencySketch {
    buckets: Vec<(u16, u32)>,
}

const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
const EXACT_BELOW: u64 = 2 * SUB;

fn bucket_of(us: u64) -> u16 {
    if us < EXACT_BELOW {
        return us as u16;
    }
    let power = 63 - us.leading_zeros();
    let shift = power - SUB_BITS;
    let sub = (us >> shift) - SUB;
    (EXACT_BELOW + u64::from(power - SUB_BITS - 1) * SUB + sub) as u16
}

/// The middle of a bucket's range.
fn bucket_value(bucket: u16) -> u64 {
    let b = u64::from(bucket);
    if b < EXACT_BELOW {
        return b;
    }
    let power = (b - EXACT_BELOW) / SUB + u64::from(SUB_BITS) + 1;
    let sub = (b - EXACT_BELOW) % SUB;
    let shift = power - u64::from(SUB_BITS);
    let low = (SUB + sub) << shift;
    low + (1 << shift) / 2
}

impl LatencySketch {
    /// Adds one latency, in microseconds; kept to within 1/32 of its value
    /// (exactly below 32 µs).
    pub fn record(&mut self, us: u64) {
        self.add_count(bucket_of(us), 1);
    }

    fn add_count(&mut self, bucket: u16, count: u32) {
        match self.buckets.binary_search_by_key(&bucket, |&(b, _)| b) {
            Ok(i) => self.buckets[i].1 = self.buckets[i].1.saturating_add(count),
            Err(i) => self.buckets.insert(i, (bucket, count)),
        }
    }

    /// Adds every latency of `other`: the result is the sketch that would
    /// have recorded both inputs.
    pub fn merge(&mut self, other: &LatencySketch) {
        for &(b, c) in &other.buckets {
            self.add_count(b, c);
        }
    }

    /// Heap memory held, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<(u16, u32)>()
    }

    /// Latencies recorded (each bucket saturates at `u32::MAX`).
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&(_, c)| u64::from(c)).sum()
    }

    /// The value at quantile `q` (0..=1): the smallest recorded bucket whose
    /// cumulative count reaches `ceil(q * n)`. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for &(b, c) in &self.buckets {
            seen += u64::from(c);
            if seen >= rank {
                return Some(bucket_value(b));
            }
        }
        self.buckets.last().map(|&(b, _)| bucket_value(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut last = 0;
        for us in (0..5_000_000u64)
            .step_by(37)
            .chain([u64::MAX / 3, u64::MAX])
        {
            let b = bucket_of(us);
            assert!(b >= last, "bucket order at {us}");
            last = b;
            let v = bucket_value(b);
            let err = v.abs_diff(us) as f64 / us.max(1) as f64;
            assert!(err <= 1.0 / 32.0 + 1e-9, "{us} -> {v}");
        }
        for us in 0..EXACT_BELOW {
            assert_eq!(bucket_value(bucket_of(us)), us);
        }
    }

    #[test]
    fn quantiles_of_a_known_distribution() {
        let mut s = LatencySketch::default();
        assert_eq!(s.quantile(0.5), None);
        for us in 1..=1000u64 {
            s.record(us * 1000);
        }
        let p50 = s.quantile(0.5).unwrap() as f64;
        let p99 = s.quantile(0.99).unwrap() as f64;
        assert!((p50 / 500_000.0 - 1.0).abs() < 0.04, "{p50}");
        assert!((p99 / 990_000.0 - 1.0).abs() < 0.04, "{p99}");
        assert_eq!(s.count(), 1000);
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let (mut a, mut b, mut all) = Default::default();
        for i in 0..500u64 {
            let v = i * i % 7919;
            if i % 3 == 0 {
                LatencySketch::record(&mut a, v)
            } else {
                LatencySketch::record(&mut b, v)
            }
            LatencySketch::record(&mut all, v);
        }
        a.merge(&b);
        assert_eq!(a, all);
    }
}
