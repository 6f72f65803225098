//! Hit-ratio curves of an LRU cache from stack distances: exact, or from a
//! SHARDS sample with its adjustment.
//!
//! One pass over the (time-ordered) trace fills [`Distances`]; evaluating
//! a capacity is then a sum over it. The exact curve is the special case
//! of a sample at rate 1: nothing is scaled and the adjustment is zero, so
//! both methods share one code path.
//!
//! **Scaling.** With keys sampled at rate R, a distance d measured on the
//! sample stands for d / R in the full trace, so a capacity C is looked up
//! at C * R. Object distances are whole numbers; a capacity that falls
//! between two of them takes the matching fraction of the next one
//! (interpolation), which matters for small capacities where one sampled
//! object stands for 1 / R objects.
//!
//! **SHARDS_adj.** The sample holds N_s requests where R * N were expected.
//! The difference comes mostly from a few very popular keys being in or out
//! of the sample, and popular keys have short distances, so the difference
//! is added to the shortest-distance bucket and every ratio is taken over
//! R * N. Without it, a log whose top key carries 10% of the traffic is off
//! by up to that 10% depending on one coin flip.

use hdrhistogram::Histogram;

use crate::config::CacheSize;
use crate::histogram;
use crate::sampling::SampleRate;
use crate::stack::{Distance, LruStack};
use crate::trace::Access;

/// Requests and bytes, the two things every ratio is a share of.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Weight {
    /// A number of requests; fractional once scaled or interpolated.
    pub requests: f64,
    /// Their response bytes.
    pub bytes: f64,
}

impl Weight {
    fn add(&mut self, requests: f64, bytes: f64) {
        self.requests += requests;
        self.bytes += bytes;
    }
}

/// The stack distances of one pass, summarised.
#[derive(Clone, Debug)]
pub struct Distances {
    /// Indexed by object distance (`[0]` unused): requests and their bytes.
    by_objects: Vec<Weight>,
    /// Byte distances at full precision for the byte capacities asked for:
    /// `at_byte_capacities[i]` counts distances in `(caps[i-1], caps[i]]`
    /// (caps already scaled by the rate).
    scaled_byte_caps: Vec<u64>,
    at_byte_capacities: Vec<Weight>,
    /// Byte distances to 0.1% for curves and thresholds: counts, and the
    /// same weighted by request bytes.
    byte_requests: Histogram<u64>,
    byte_bytes: Histogram<u64>,
    /// Requests in the pass.
    pub total: Weight,
    /// The first request of each key: a miss at any capacity.
    pub cold: Weight,
    /// Keys in the pass.
    pub distinct_keys: u64,
}

/// How the distances relate to the full trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// The rate the keys were sampled at; [`SampleRate::ALL`] when exact.
    pub rate: SampleRate,
    /// The full trace's requests and bytes (not only the sampled ones).
    pub full: Weight,
    /// Apply SHARDS_adj (always on in reports; off only to show why).
    pub adjust: bool,
}

/// Hit ratio and byte hit ratio at one capacity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ratios {
    /// Fraction (0 to 1) of the requests served from the cache.
    pub hit_ratio: f64,
    /// Fraction (0 to 1) of the response bytes served from the cache.
    pub byte_hit_ratio: f64,
}

impl Distances {
    /// Runs the stack over `trace` (time-ordered, keys indexing `sizes`).
    /// `byte_caps` are the byte capacities that must be exact, already
    /// multiplied by the sampling rate.
    pub fn measure(trace: &[Access], sizes: Vec<u64>, byte_caps: &[u64]) -> Distances {
        let mut scaled_byte_caps = byte_caps.to_vec();
        scaled_byte_caps.sort_unstable();
        scaled_byte_caps.dedup();
        let mut d = Distances {
            by_objects: Vec::new(),
            at_byte_capacities: vec![Weight::default(); scaled_byte_caps.len()],
            scaled_byte_caps,
            byte_requests: histogram::new(),
            byte_bytes: histogram::new(),
            total: Weight::default(),
            cold: Weight::default(),
            distinct_keys: 0,
        };
        let mut stack = LruStack::new(sizes);
        for a in trace {
            let bytes = f64::from(a.bytes);
            d.total.add(1.0, bytes);
            match stack.access(a.key) {
                None => {
                    d.cold.add(1.0, bytes);
                    d.distinct_keys += 1;
                }
                Some(distance) => d.record(distance, a.bytes),
            }
        }
        d
    }

    fn record(&mut self, distance: Distance, bytes: u32) {
        let b = f64::from(bytes);
        let i = distance.objects as usize;
        if i >= self.by_objects.len() {
            self.by_objects.resize(i + 1, Weight::default());
        }
        self.by_objects[i].add(1.0, b);
        let bucket = self
            .scaled_byte_caps
            .partition_point(|&c| c < distance.bytes);
        if let Some(w) = self.at_byte_capacities.get_mut(bucket) {
            w.add(1.0, b);
        }
        histogram::record(&mut self.byte_requests, distance.bytes, 1);
        if bytes > 0 {
            histogram::record(&mut self.byte_bytes, distance.bytes, u64::from(bytes));
        }
    }

    /// Ratios at `capacity` for the full trace.
    pub fn ratios(&self, capacity: CacheSize, scale: Scale) -> Ratios {
        let hits = match capacity {
            CacheSize::Objects(c) => self.object_hits(c as f64 * scale.rate.rate()),
            CacheSize::Bytes(c) => self.byte_hits(c, scale.rate),
        };
        finish(hits, self.total, scale)
    }

    /// Hits (unscaled, before adjustment) at a scaled object capacity.
    fn object_hits(&self, scaled: f64) -> Weight {
        let mut hits = Weight::default();
        let whole = scaled.floor();
        let last = (whole as usize).min(self.by_objects.len().saturating_sub(1));
        for w in self.by_objects.iter().take(last + 1) {
            hits.add(w.requests, w.bytes);
        }
        let frac = scaled - whole;
        if frac > 0.0
            && let Some(next) = self.by_objects.get(whole as usize + 1)
        {
            hits.add(next.requests * frac, next.bytes * frac);
        }
        hits
    }

    fn byte_hits(&self, capacity: u64, rate: SampleRate) -> Weight {
        let scaled = scale_bytes(capacity, rate);
        let mut hits = Weight::default();
        match self.scaled_byte_caps.binary_search(&scaled) {
            Ok(i) => {
                for w in &self.at_byte_capacities[..=i] {
                    hits.add(w.requests, w.bytes);
                }
            }
            // Not asked for in advance: from the 0.1% histograms.
            Err(_) => {
                hits.requests = self.byte_requests.count_between(0, scaled) as f64;
                hits.bytes = self.byte_bytes.count_between(0, scaled) as f64;
            }
        }
        hits
    }

    /// The smallest capacity, in objects, with a hit ratio of at least
    /// `target`; `None` when no capacity reaches it (too many first
    /// requests).
    pub fn objects_for(&self, target: f64, scale: Scale) -> Option<u64> {
        if denominator(self.total, scale).requests <= 0.0 {
            return None;
        }
        let need = target * denominator(self.total, scale).requests
            - adjustment(self.total, scale).requests;
        let mut sum = 0.0;
        for (d, w) in self.by_objects.iter().enumerate().skip(1) {
            if sum + w.requests >= need - 1e-9 {
                // The fraction of bucket `d` needed, then back to full-trace
                // objects.
                let frac = if w.requests > 0.0 {
                    ((need - sum) / w.requests).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                let scaled = (d - 1) as f64 + frac;
                return Some(((scaled / scale.rate.rate()) - 1e-9).ceil().max(1.0) as u64);
            }
            sum += w.requests;
        }
        None
    }

    /// The smallest capacity in bytes with a hit ratio of at least `target`,
    /// rounded up to the 0.1% resolution of the byte histogram.
    pub fn bytes_for(&self, target: f64, scale: Scale) -> Option<u64> {
        if denominator(self.total, scale).requests <= 0.0 {
            return None;
        }
        let need = target * denominator(self.total, scale).requests
            - adjustment(self.total, scale).requests;
        if need <= 0.0 {
            return Some(0);
        }
        let mut sum = 0.0;
        for v in self.byte_requests.iter_recorded() {
            sum += v.count_since_last_iteration() as f64;
            if sum >= need - 1e-9 {
                let scaled = v.value_iterated_to();
                return Some((scaled as f64 / scale.rate.rate()).ceil() as u64);
            }
        }
        None
    }

    /// The largest object distance seen, in full-trace objects.
    pub fn max_objects(&self, rate: SampleRate) -> u64 {
        ((self.by_objects.len().saturating_sub(1)) as f64 / rate.rate()).ceil() as u64
    }

    /// The largest byte distance seen, in full-trace bytes.
    pub fn max_bytes(&self, rate: SampleRate) -> u64 {
        (self.byte_requests.max() as f64 / rate.rate()).ceil() as u64
    }
}

/// A byte capacity in the sample's terms.
pub fn scale_bytes(capacity: u64, rate: SampleRate) -> u64 {
    if rate.is_all() {
        capacity
    } else {
        (capacity as f64 * rate.rate()).floor() as u64
    }
}

/// What the ratios are shares of: the expected sample of the full trace.
fn denominator(sampled: Weight, scale: Scale) -> Weight {
    if scale.adjust {
        Weight {
            requests: scale.full.requests * scale.rate.rate(),
            bytes: scale.full.bytes * scale.rate.rate(),
        }
    } else {
        sampled
    }
}

/// SHARDS_adj: expected minus actual sampled requests (and bytes), counted
/// as hits at the shortest distance.
fn adjustment(sampled: Weight, scale: Scale) -> Weight {
    if scale.adjust {
        let expected = denominator(sampled, scale);
        Weight {
            requests: expected.requests - sampled.requests,
            bytes: expected.bytes - sampled.bytes,
        }
    } else {
        Weight::default()
    }
}

fn finish(hits: Weight, sampled: Weight, scale: Scale) -> Ratios {
    let adj = adjustment(sampled, scale);
    let den = denominator(sampled, scale);
    let ratio = |h: f64, a: f64, d: f64| {
        if d > 0.0 {
            ((h + a) / d).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    Ratios {
        hit_ratio: ratio(hits.requests, adj.requests, den.requests),
        byte_hit_ratio: ratio(hits.bytes, adj.bytes, den.bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::direct::{Capacity, hits};
    use proptest::prelude::*;

    fn exact_scale(trace: &[Access]) -> Scale {
        Scale {
            rate: SampleRate::ALL,
            full: Weight {
                requests: trace.len() as f64,
                bytes: trace.iter().map(|a| f64::from(a.bytes)).sum(),
            },
            adjust: true,
        }
    }

    fn accesses(keys: &[u32], bytes: &[u32]) -> Vec<Access> {
        keys.iter()
            .zip(bytes)
            .enumerate()
            .map(|(i, (&key, &bytes))| Access {
                time: i as i64,
                key,
                bytes,
            })
            .collect()
    }

    /// Hit ratio and byte hit ratio of a direct simulation.
    fn direct(trace: &[Access], sizes: &[u64], capacity: Capacity) -> Ratios {
        let keys: Vec<u32> = trace.iter().map(|a| a.key).collect();
        let h = hits(&keys, sizes, capacity, &[]);
        let total_bytes: u64 = trace.iter().map(|a| u64::from(a.bytes)).sum();
        let hit_bytes: u64 = trace
            .iter()
            .zip(&h)
            .filter(|(_, h)| **h)
            .map(|(a, _)| u64::from(a.bytes))
            .sum();
        Ratios {
            hit_ratio: h.iter().filter(|&&h| h).count() as f64 / trace.len() as f64,
            byte_hit_ratio: if total_bytes == 0 {
                0.0
            } else {
                hit_bytes as f64 / total_bytes as f64
            },
        }
    }

    /// Keys drawn from a Zipf(1) law over `keys` keys, by inversion of a
    /// tabulated CDF: the skew of real traffic.
    fn zipf_keys(keys: usize, uniforms: &[f64]) -> Vec<u32> {
        let weights: Vec<f64> = (1..=keys).map(|r| 1.0 / r as f64).collect();
        let total: f64 = weights.iter().sum();
        let mut cdf = Vec::with_capacity(keys);
        let mut acc = 0.0;
        for w in weights {
            acc += w / total;
            cdf.push(acc);
        }
        uniforms
            .iter()
            .map(|u| cdf.partition_point(|&c| c < *u).min(keys - 1) as u32)
            .collect()
    }

    fn trace_strategy() -> impl Strategy<Value = (Vec<Access>, Vec<u64>)> {
        let keys = 50usize;
        (
            prop_oneof![
                proptest::collection::vec(0u32..keys as u32, 1..300),
                proptest::collection::vec(0.0f64..1.0, 1..300)
                    .prop_map(move |us| zipf_keys(keys, &us)),
            ],
            proptest::collection::vec(1u64..3_000, keys),
            proptest::collection::vec(0u32..2, 300),
        )
            .prop_map(|(keys, sizes, zero)| {
                // Requests send the object's size, or nothing (a 304).
                let bytes: Vec<u32> = keys
                    .iter()
                    .zip(&zero)
                    .map(|(&k, &z)| if z == 0 { 0 } else { sizes[k as usize] as u32 })
                    .collect();
                (accesses(&keys, &bytes), sizes)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The exact curve equals a direct LRU simulation at every object
        /// capacity and at byte capacities given in advance, for uniform
        /// and Zipf traces.
        #[test]
        fn exact_curve_equals_direct_simulation(
            (trace, sizes) in trace_strategy(),
            object_caps in proptest::collection::vec(1u64..60, 1..6),
            byte_caps in proptest::collection::vec(0u64..60_000, 1..6),
        ) {
            let d = Distances::measure(&trace, sizes.clone(), &byte_caps);
            let scale = exact_scale(&trace);
            for &c in &object_caps {
                prop_assert_eq!(d.ratios(CacheSize::Objects(c), scale), direct(&trace, &sizes, Capacity::Objects(c)), "objects {}", c);
            }
            for &c in &byte_caps {
                prop_assert_eq!(d.ratios(CacheSize::Bytes(c), scale), direct(&trace, &sizes, Capacity::Bytes(c)), "bytes {}", c);
            }
        }

        /// The capacity named for a target is the smallest that reaches it.
        #[test]
        fn objects_for_is_the_smallest_capacity_reaching_the_target(
            (trace, sizes) in trace_strategy(),
            target in 0.05f64..0.95,
        ) {
            let d = Distances::measure(&trace, sizes, &[]);
            let scale = exact_scale(&trace);
            match d.objects_for(target, scale) {
                Some(c) => {
                    prop_assert!(d.ratios(CacheSize::Objects(c), scale).hit_ratio >= target - 1e-9);
                    if c > 1 {
                        prop_assert!(d.ratios(CacheSize::Objects(c - 1), scale).hit_ratio < target);
                    }
                }
                None => {
                    let best = 1.0 - d.cold.requests / d.total.requests;
                    prop_assert!(best < target, "{} reachable", best);
                }
            }
        }
    }

    #[test]
    fn bytes_for_reaches_the_target_within_the_histogram_resolution() {
        let keys = zipf_keys(
            300,
            &(0..5_000)
                .map(|i| (i as f64 * 0.618_034) % 1.0)
                .collect::<Vec<_>>(),
        );
        let sizes: Vec<u64> = (0..300).map(|k| 1_000 + (k * 7_919 % 50_000)).collect();
        let bytes: Vec<u32> = keys.iter().map(|&k| sizes[k as usize] as u32).collect();
        let trace = accesses(&keys, &bytes);
        let d = Distances::measure(&trace, sizes.clone(), &[]);
        let scale = exact_scale(&trace);
        for target in [0.5, 0.8, 0.9] {
            let c = d.bytes_for(target, scale).unwrap();
            let at = direct(&trace, &sizes, Capacity::Bytes(c)).hit_ratio;
            assert!(at >= target, "{target}: {c} gives {at}");
            let below = direct(&trace, &sizes, Capacity::Bytes(c * 998 / 1000)).hit_ratio;
            assert!(below < target + 0.01, "{target}: {c} is far too large");
        }
    }

    #[test]
    fn empty_trace_has_zero_ratios() {
        let d = Distances::measure(&[], vec![], &[100]);
        let r = d.ratios(CacheSize::Bytes(100), exact_scale(&[]));
        assert_eq!(
            r,
            Ratios {
                hit_ratio: 0.0,
                byte_hit_ratio: 0.0
            }
        );
        assert_eq!(d.objects_for(0.5, exact_scale(&[])), None);
        assert_eq!(d.bytes_for(0.5, exact_scale(&[])), None);
    }
}
