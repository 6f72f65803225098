//! Spatial sampling by key hash, the "S" in SHARDS.
//!
//! A key is in the sample when its hash falls below a threshold, so either
//! every request for a key is kept or none is. A cache simulated on the
//! sampled keys with every size scaled by the rate behaves like the full
//! cache (Waldspurger et al., "Efficient MRC Construction with SHARDS",
//! FAST 2015).
//!
//! The hash is fixed (not seeded per run): the same log must give the same
//! sample on every run and every machine. Thresholds are nested, so a key
//! sampled at 1% is also sampled at 10%: lowering the rate only ever drops
//! requests already collected, which is what lets collection start exact
//! and fall back to sampling when the input turns out to be large.

/// Rates are multiples of `1 / MODULUS`: a power of ten, so that rates
/// such as 0.01 are exact.
pub const MODULUS: u64 = 10_000_000;

/// The rates the automatic mode steps down through, as thresholds.
pub const LADDER: [u64; 5] = [
    MODULUS,
    MODULUS / 10,
    MODULUS / 100,
    MODULUS / 1_000,
    MODULUS / 10_000,
];

/// A key's position in sampling space: `0..MODULUS`, uniform over keys.
pub fn key_point(key: &[u8]) -> u32 {
    // FNV-1a spreads every byte; the murmur3 finaliser then mixes the high
    // bits, which are the ones kept.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    // The high 32 bits scaled to 0..MODULUS.
    (((h >> 32) * MODULUS) >> 32) as u32
}

/// A sampling rate, kept as the threshold it really uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleRate {
    threshold: u64,
}

impl SampleRate {
    /// Every key.
    pub const ALL: SampleRate = SampleRate { threshold: MODULUS };

    /// The nearest representable rate to `rate`, which must be in `(0, 1]`
    /// and not so small that no key could be sampled.
    pub fn new(rate: f64) -> Option<SampleRate> {
        if !(rate > 0.0 && rate <= 1.0) {
            return None;
        }
        let threshold = (rate * MODULUS as f64).round() as u64;
        (threshold >= 1).then_some(SampleRate { threshold })
    }

    /// The rate of `threshold` keys in [`MODULUS`], clamped to a valid rate.
    pub fn from_threshold(threshold: u64) -> SampleRate {
        SampleRate {
            threshold: threshold.clamp(1, MODULUS),
        }
    }

    /// Keys whose [`key_point`] is below this are sampled: the rate times
    /// [`MODULUS`].
    pub fn threshold(self) -> u64 {
        self.threshold
    }

    /// The rate as a fraction of keys.
    pub fn rate(self) -> f64 {
        self.threshold as f64 / MODULUS as f64
    }

    /// Whether every key is kept: the exact method.
    pub fn is_all(self) -> bool {
        self.threshold == MODULUS
    }

    /// Whether the key at `point` (its [`key_point`]) is in the sample.
    pub fn keeps(self, point: u32) -> bool {
        u64::from(point) < self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_stable_and_spread() {
        // Pinned: a change of hash changes every sampled report.
        assert_eq!(key_point(b"/"), key_point(b"/"));
        assert_ne!(key_point(b"/a"), key_point(b"/b"));
        let n = 200_000;
        let rate = SampleRate::new(0.01).unwrap();
        let kept = (0..n)
            .filter(|i| rate.keeps(key_point(format!("/products/{i}").as_bytes())))
            .count();
        // 2000 expected; five standard deviations is about 220.
        assert!((1780..=2220).contains(&kept), "{kept}");
    }

    #[test]
    fn rates_round_to_thresholds() {
        assert_eq!(SampleRate::new(1.0), Some(SampleRate::ALL));
        assert!(SampleRate::new(0.0).is_none());
        assert!(SampleRate::new(1.5).is_none());
        assert!(SampleRate::new(f64::NAN).is_none());
        assert!(SampleRate::new(1e-9).is_none());
        assert_eq!(SampleRate::new(0.01).unwrap().rate(), 0.01);
        assert_eq!(SampleRate::new(0.001).unwrap().rate(), 0.001);
        assert!(LADDER.windows(2).all(|w| w[0] > w[1]));
    }
}
