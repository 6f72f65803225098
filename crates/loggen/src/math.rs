//! Randomness and the little floating-point math the generator needs.
//!
//! Output must stay byte-identical for a given configuration on every
//! platform and every future Rust release. `rand` does not promise stable
//! streams across versions, and `f64::ln`/`f64::exp` call the platform's libm,
//! whose last bit may differ between systems. So the PRNG is written here
//! (xoshiro256** seeded through SplitMix64), and `ln`/`exp` are evaluated
//! with only `+ - * /` and bit manipulation, which IEEE 754 defines exactly.

/// SplitMix64's output function: a fast bijective 64-bit mixer, used both to
/// seed the PRNG and to derive stable per-key / per-client attributes.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a value under a salt; different salts give independent-looking
/// attributes of the same key.
pub(crate) fn hash2(salt: u64, value: u64) -> u64 {
    mix64(mix64(salt.wrapping_add(0x9e37_79b9_7f4a_7c15)) ^ value)
}

/// A uniform value in `[0, 1)` from the top 53 bits of a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An approximately standard normal value from one hash (Irwin–Hall with
/// four 16-bit uniforms). Bounded to about ±3.5, which is what per-key sizes
/// and latencies want anyway: no absurd outliers baked into a key.
pub(crate) fn hash_normal(h: u64) -> f64 {
    let sum: u64 = (0..4).map(|i| (h >> (16 * i)) & 0xffff).sum();
    let mean = 2.0 * 65_535.0;
    (sum as f64 - mean) / 65_535.0 * 1.732_050_807_568_877_2
}

/// xoshiro256** (Blackman & Vigna): small, fast, and fully specified, so the
/// stream for a seed never changes.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            mix64(state)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn f64(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// Uniform in `0..n` (multiply-shift; the bias is below 2^-30 for any
    /// `n` this crate uses).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Standard normal (Marsaglia's polar method: needs `ln` and `sqrt`, both
    /// exact-reproducible, and no trigonometry).
    pub(crate) fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.f64() - 1.0;
            let v = 2.0 * self.f64() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * ln(s) / s).sqrt();
            }
        }
    }

    /// `exp(sigma * N(0,1))`: a log-normal factor with median 1.
    pub(crate) fn lognormal(&mut self, sigma: f64) -> f64 {
        exp(sigma * self.normal())
    }
}

const LN2: f64 = core::f64::consts::LN_2;
const SQRT2: f64 = core::f64::consts::SQRT_2;

/// Natural logarithm, reproducible bit-for-bit everywhere.
///
/// Splits `x = m·2^e` with `m` in `[√½, √2)`, then `ln m = 2·atanh(t)` with
/// `t = (m-1)/(m+1)`, `|t| ≤ 0.172`, whose odd series converges to full
/// double precision in twelve terms.
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let (bits, bias) = if x < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range first.
        ((x * (1u64 << 54) as f64).to_bits(), 1023 + 54)
    } else {
        (x.to_bits(), 1023)
    };
    let mut e = ((bits >> 52) & 0x7ff) as i64 - bias;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT2 {
        m *= 0.5;
        e += 1;
    }
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    // Horner over t² with the coefficients 1/(2j+1); the series is
    // t·Σ t^(2j)/(2j+1).
    let mut sum = 0.0;
    for &c in ATANH_COEFFS.iter().rev() {
        sum = sum * t2 + c;
    }
    e as f64 * LN2 + 2.0 * t * sum
}

/// `1/(2j+1)` for `j = 0..12`, computed at compile time (IEEE division, so
/// the same everywhere).
const ATANH_COEFFS: [f64; 12] = {
    let mut c = [0.0; 12];
    let mut j = 0;
    while j < 12 {
        c[j] = 1.0 / (2 * j + 1) as f64;
        j += 1;
    }
    c
};

/// `1/k!` for `k = 0..=13`, computed at compile time.
const EXP_COEFFS: [f64; 14] = {
    let mut c = [1.0; 14];
    let mut k = 1;
    while k < 14 {
        c[k] = c[k - 1] / k as f64;
        k += 1;
    }
    c
};

/// `e^x`, reproducible bit-for-bit everywhere.
///
/// Reduces `x = k·ln2 + r` with `|r| ≤ ln2/2` (ln 2 split in a high part with
/// trailing zero bits and a low correction so `k·LN2_HI` is exact), sums the
/// Taylor polynomial of `e^r`, then scales by `2^k` through the exponent bits.
pub(crate) fn exp(x: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    if x.is_nan() {
        return x;
    }
    if x > 709.7 {
        return f64::INFINITY;
    }
    if x < -745.2 {
        return 0.0;
    }
    // Rounded by hand: `f64::round` may be a libm call, and any integer
    // within ±1 of x/ln2 reduces correctly anyway.
    let t = x * core::f64::consts::LOG2_E;
    let k = if t >= 0.0 {
        (t + 0.5) as i64
    } else {
        (t - 0.5) as i64
    } as f64;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Degree 13 leaves a truncation error below 2^-53 for |r| <= 0.35.
    let mut sum = 0.0;
    for &c in EXP_COEFFS.iter().rev() {
        sum = sum * r + c;
    }
    scale_pow2(sum, k as i32)
}

/// `x · 2^k` for `k` in about `-1076..=1024`, in steps that keep each factor a
/// normal number.
fn scale_pow2(x: f64, k: i32) -> f64 {
    let pow2 = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    if k > 1023 {
        x * pow2(1023) * pow2(k - 1023)
    } else if k < -1022 {
        x * pow2(-1022) * pow2(k + 1022)
    } else {
        x * pow2(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_and_exp_match_libm_closely() {
        let mut x: f64 = 1e-300;
        while x < 1e300 {
            let rel = (ln(x) - x.ln()).abs() / x.ln().abs().max(1.0);
            assert!(rel < 1e-15, "ln({x}) = {} vs {}", ln(x), x.ln());
            x *= 1.37;
        }
        for &x in &[
            1.0,
            2.0,
            0.5,
            SQRT2,
            1.000_000_1,
            5e-324,
            f64::MIN_POSITIVE / 3.0,
        ] {
            let rel = (ln(x) - x.ln()).abs() / x.ln().abs().max(1e-300);
            assert!(rel < 1e-14, "ln({x})");
        }
        let mut x: f64 = -740.0;
        while x < 709.0 {
            let want = x.exp();
            let rel = (exp(x) - want).abs() / want;
            // Subnormal results lose relative precision by nature.
            let tol = if want < 1e-300 { 1e-6 } else { 1e-14 };
            assert!(rel < tol, "exp({x}) = {} vs {want}", exp(x));
            x += 0.731;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(ln(1.0), 0.0);
        assert!(ln(-1.0).is_nan());
        assert_eq!(exp(1000.0), f64::INFINITY);
    }

    #[test]
    fn rng_stream_is_pinned() {
        // Pinned values: if these change, every generated log changes.
        let mut rng = Rng::new(1);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        let mut again = Rng::new(1);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(2).next_u64(), first[0]);
        assert_eq!(mix64(0), 0);
        assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut rng = Rng::new(7);
        let n = 200_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let z = rng.normal();
            s += z;
            s2 += z * z;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");

        let mut counts = [0u32; 10];
        for _ in 0..n {
            let u = rng.f64();
            assert!((0.0..1.0).contains(&u));
            counts[rng.below(10) as usize] += 1;
        }
        for c in counts {
            assert!((c as f64 / n as f64 - 0.1).abs() < 0.005, "{counts:?}");
        }
    }

    #[test]
    fn hash_normal_is_centred() {
        let n = 100_000u64;
        let (mut s, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let z = hash_normal(mix64(i));
            s += z;
            s2 += z * z;
        }
        let mean = s / n as f64;
        assert!(mean.abs() < 0.02);
        assert!((s2 / n as f64 - 1.0).abs() < 0.03);
    }
}
