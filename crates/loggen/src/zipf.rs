//! Zipf-distributed ranks.

use crate::math::{Rng, exp, ln};

/// Samples ranks `0..n` (rank `r` is the `r+1`-th most popular) with
/// probability proportional to `(r+1)^-s`.
///
/// The CDF is tabulated once (8 bytes per rank, 40 MB for 5M keys) so each
/// draw is one uniform and a search, exact for any exponent, including
/// `s <= 1` where rejection samplers get awkward. A guide table (the first
/// rank of each of `GUIDE` equal slices of `[0, 1)`) narrows the search to a
/// few neighbouring entries, which matters once the CDF outgrows the caches.
#[derive(Clone, Debug)]
pub(crate) struct Zipf {
    cdf: Vec<f64>,
    guide: Vec<u32>,
}

const GUIDE: usize = 1 << 16;

impl Zipf {
    pub(crate) fn new(n: u64, s: f64) -> Self {
        assert!(n > 0, "Zipf over no ranks");
        let mut cdf = Vec::with_capacity(n as usize);
        let mut total = 0.0;
        for k in 1..=n {
            // k^-s; s == 0 (uniform) is exact as well: exp(0) == 1.
            total += exp(-s * ln(k as f64));
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        // Rounding could leave the last entry a hair under 1, and a draw
        // above it would fall off the end.
        *cdf.last_mut().expect("n > 0") = 1.0;
        // A power of two, so `u * slices` and `g / slices` are exact and the
        // slice a draw falls in agrees with the table.
        let slices = GUIDE.min(cdf.len().next_power_of_two());
        let mut guide = Vec::with_capacity(slices + 1);
        let mut rank = 0;
        for g in 0..slices {
            let u = g as f64 / slices as f64;
            while cdf[rank] <= u {
                rank += 1;
            }
            guide.push(rank as u32);
        }
        guide.push(cdf.len() as u32 - 1);
        Zipf { cdf, guide }
    }

    pub(crate) fn len(&self) -> u64 {
        self.cdf.len() as u64
    }

    /// A 0-based rank.
    pub(crate) fn sample(&self, rng: &mut Rng) -> u64 {
        self.rank_at(rng.f64())
    }

    /// The rank whose CDF interval holds `u` in `[0, 1)`: the first with
    /// `cdf > u`.
    pub(crate) fn rank_at(&self, u: f64) -> u64 {
        let slices = self.guide.len() - 1;
        let g = ((u * slices as f64) as usize).min(slices - 1);
        // cdf[guide[g]] > g/slices, and the answer is at most guide[g+1]
        // because cdf[guide[g+1]] > (g+1)/slices > u.
        let lo = self.guide[g] as usize;
        let hi = self.guide[g + 1] as usize;
        (lo + self.cdf[lo..=hi].partition_point(|&c| c <= u)) as u64
    }

    /// The probability of a 0-based rank.
    pub(crate) fn share(&self, rank: u64) -> f64 {
        let r = rank as usize;
        let below = if r == 0 { 0.0 } else { self.cdf[r - 1] };
        self.cdf[r] - below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_one_share_matches_harmonic_number() {
        let zipf = Zipf::new(1000, 1.0);
        let h1000: f64 = (1..=1000).map(|k| 1.0 / k as f64).sum();
        assert!((zipf.share(0) - 1.0 / h1000).abs() < 1e-12);

        let mut rng = Rng::new(42);
        let n = 200_000;
        let mut counts = vec![0u64; 1000];
        for _ in 0..n {
            counts[zipf.sample(&mut rng) as usize] += 1;
        }
        let share = counts[0] as f64 / n as f64;
        assert!((share - 0.1336).abs() < 0.005, "rank-1 share {share}");
        for r in 1..10 {
            assert!(
                counts[r] < counts[r - 1],
                "ranks 1..10 must decrease: {:?}",
                &counts[..10]
            );
        }
        // Rank 2 gets half of rank 1 under s = 1.
        let ratio = counts[1] as f64 / counts[0] as f64;
        assert!((ratio - 0.5).abs() < 0.03, "ratio {ratio}");
    }

    #[test]
    fn guided_search_equals_plain_search() {
        let mut rng = Rng::new(8);
        for (n, s) in [
            (1, 1.0),
            (3, 0.0),
            (1000, 1.0),
            (200_000, 0.9),
            (70_000, 2.5),
        ] {
            let zipf = Zipf::new(n, s);
            for _ in 0..20_000 {
                let u = rng.f64();
                assert_eq!(
                    zipf.rank_at(u),
                    zipf.cdf.partition_point(|&c| c <= u) as u64,
                    "n {n} u {u}"
                );
            }
            for u in [0.0, 1.0 - f64::EPSILON / 2.0] {
                assert_eq!(
                    zipf.rank_at(u),
                    zipf.cdf.partition_point(|&c| c <= u) as u64
                );
            }
            for g in 0..zipf.guide.len().min(5000) {
                let u = g as f64 / (zipf.guide.len() - 1) as f64;
                if u < 1.0 {
                    assert_eq!(
                        zipf.rank_at(u),
                        zipf.cdf.partition_point(|&c| c <= u) as u64
                    );
                }
            }
        }
    }

    #[test]
    fn exponent_zero_is_uniform_and_one_rank_works() {
        let zipf = Zipf::new(4, 0.0);
        for r in 0..4 {
            assert!((zipf.share(r) - 0.25).abs() < 1e-12);
        }
        let single = Zipf::new(1, 1.2);
        let mut rng = Rng::new(1);
        assert!((0..100).all(|_| single.sample(&mut rng) == 0));
    }

    #[test]
    fn steeper_exponent_concentrates_more() {
        let flat = Zipf::new(10_000, 0.8);
        let steep = Zipf::new(10_000, 1.4);
        assert!(steep.share(0) > flat.share(0) * 2.0);
        assert_eq!(flat.len(), 10_000);
    }
}
