//! What warming the cache saves after a restart.
//!
//! At the restart time the cache is emptied. Cold, it fills from traffic;
//! warmed, it starts with the N keys most requested *before* the restart
//! (what `hotkeys rank` on the earlier logs would list), loaded so that the
//! most requested is the most recently used. The traffic after the restart
//! is then replayed through an LRU cache of the given size and every miss
//! is a request to the origin.
//!
//! Warming never hurts an LRU cache: a request for a key already requested
//! since the restart sees the same stack either way, and the first request
//! for a key can only find it in the warmed cache. For the same reason a
//! longer warm list never hurts either (the tests check both).
//!
//! With a SHARDS sample the replay runs on the sampled keys with the cache
//! size and N scaled by the rate, and the counts are scaled back: an
//! estimate, noisy for the first minute.

use serde::Serialize;

use crate::config::CacheSize;
use crate::curve::scale_bytes;
use crate::sampling::SampleRate;
use crate::stack::LruStack;
use crate::trace::Access;

/// Minutes after the restart that are reported.
pub const WINDOWS_MINUTES: [u64; 3] = [1, 5, 15];

const MINUTE_US: i64 = 60_000_000;

/// One warm-up list size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WarmupRow {
    /// Keys asked to be warmed; 0 is the cold cache.
    pub warm_top: u64,
    /// Keys that were warmed and fit in the cache.
    pub warmed_keys: u64,
    /// Origin requests in each window of [`WINDOWS_MINUTES`].
    pub origin_requests: Vec<u64>,
    /// Origin requests saved against the cold cache, per window.
    pub saved: Vec<u64>,
    /// Origin requests at the end of each minute after the restart
    /// (cumulative), for the chart.
    pub by_minute: Vec<u64>,
}

/// The warm-up section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warmup {
    /// When the cache restarts empty, RFC 3339 in UTC.
    pub restart_at: String,
    /// The same time in Unix microseconds.
    pub restart_at_unix_us: i64,
    /// Size of the simulated LRU cache, counted in `cache_unit`.
    pub cache_capacity: u64,
    /// `objects` or `bytes`.
    pub cache_unit: &'static str,
    /// Why this cache size: given, or derived.
    pub cache_size_from: String,
    /// `exact`, or `shards` when replayed on the sampled keys with the
    /// counts scaled back: an estimate.
    pub method: &'static str,
    /// Length of each window after the restart, in minutes: [`WINDOWS_MINUTES`].
    pub windows_minutes: Vec<u64>,
    /// Requests after the restart in each window.
    pub requests: Vec<u64>,
    /// How many of the 15 minutes the log covers.
    pub observed_minutes: f64,
    /// Keys requested before the restart, the pool the lists are taken from.
    pub keys_before_restart: u64,
    /// The cold cache first, then one row per warm list, shortest first.
    pub rows: Vec<WarmupRow>,
}

/// What the simulation needs.
pub struct WarmupInput<'a> {
    /// Time-ordered.
    pub accesses: &'a [Access],
    /// Key bytes by id, to order keys with equal counts.
    pub keys: &'a [Box<[u8]>],
    /// Object size per key.
    pub sizes: &'a [u64],
    /// When the cache restarts empty, Unix microseconds.
    pub restart_at: i64,
    /// The cache size for the whole trace (scaled by `rate` inside).
    pub capacity: CacheSize,
    /// Ascending, without 0.
    pub warm_top: &'a [u64],
    /// The rate `accesses` were sampled at; [`SampleRate::ALL`] when exact.
    pub rate: SampleRate,
}

/// Runs the cold simulation and one per warm list.
pub fn simulate(input: &WarmupInput<'_>, cache_size_from: String) -> Warmup {
    let WarmupInput {
        accesses,
        keys,
        sizes,
        restart_at,
        capacity,
        warm_top,
        rate,
    } = *input;
    let window_end = restart_at.saturating_add(WINDOWS_MINUTES[2] as i64 * MINUTE_US);
    let split = accesses.partition_point(|a| a.time < restart_at);
    let end = accesses.partition_point(|a| a.time < window_end);
    let (before, window) = (&accesses[..split], &accesses[split..end]);

    let scale = |n: u64| -> u64 {
        if rate.is_all() {
            n
        } else {
            (n as f64 / rate.rate()).round() as u64
        }
    };
    let scaled_top = |n: u64| -> usize {
        if rate.is_all() {
            n as usize
        } else {
            (n as f64 * rate.rate()).round() as usize
        }
    };

    let longest = warm_top.iter().map(|&n| scaled_top(n)).max().unwrap_or(0);
    let (ranked, keys_before) = rank_before(before, keys, longest);

    // Dense local ids for the keys involved: the warm lists and the window.
    let mut local = std::collections::HashMap::new();
    let mut local_sizes = Vec::new();
    let mut local_id = |k: u32| -> u32 {
        *local.entry(k).or_insert_with(|| {
            local_sizes.push(sizes[k as usize]);
            (local_sizes.len() - 1) as u32
        })
    };
    let ranked: Vec<u32> = ranked.into_iter().map(&mut local_id).collect();
    let replay: Vec<(i64, u32)> = window.iter().map(|a| (a.time, local_id(a.key))).collect();

    let window_minutes = |t: i64| -> usize { ((t - restart_at) / MINUTE_US) as usize };
    let mut requests = vec![0u64; WINDOWS_MINUTES.len()];
    for &(t, _) in &replay {
        for (i, &w) in WINDOWS_MINUTES.iter().enumerate() {
            if window_minutes(t) < w as usize {
                requests[i] += 1;
            }
        }
    }

    let hits = |d: Option<crate::stack::Distance>| match (d, capacity) {
        (None, _) => false,
        (Some(d), CacheSize::Objects(c)) => d.objects as f64 <= c as f64 * rate.rate(),
        (Some(d), CacheSize::Bytes(c)) => d.bytes <= scale_bytes(c, rate),
    };
    let mut rows: Vec<WarmupRow> = Vec::new();
    for &n in std::iter::once(&0).chain(warm_top) {
        let list = &ranked[..scaled_top(n).min(ranked.len())];
        let mut stack = LruStack::new(local_sizes.clone());
        for &k in list.iter().rev() {
            stack.access(k);
        }
        // Keys still cached after loading: those whose distance from the
        // top of the stack fits.
        let warmed = fitting_prefix(list, &local_sizes, capacity, rate);
        let mut by_minute = vec![0u64; WINDOWS_MINUTES[2] as usize];
        for &(t, k) in &replay {
            if !hits(stack.access(k)) {
                by_minute[window_minutes(t)] += 1;
            }
        }
        for m in 1..by_minute.len() {
            by_minute[m] += by_minute[m - 1];
        }
        let origin: Vec<u64> = WINDOWS_MINUTES
            .iter()
            .map(|&w| by_minute[w as usize - 1])
            .collect();
        rows.push(WarmupRow {
            warm_top: n,
            warmed_keys: scale(warmed as u64),
            origin_requests: origin.iter().map(|&o| scale(o)).collect(),
            saved: Vec::new(),
            by_minute: by_minute.into_iter().map(scale).collect(),
        });
    }
    let cold = rows[0].origin_requests.clone();
    for row in &mut rows {
        row.saved = cold
            .iter()
            .zip(&row.origin_requests)
            .map(|(c, o)| c.saturating_sub(*o))
            .collect();
    }
    let last_time = accesses.last().map_or(restart_at, |a| a.time);
    let observed = ((last_time - restart_at) as f64 / MINUTE_US as f64).clamp(0.0, 15.0);
    Warmup {
        restart_at: hotkeys_contract::timestamp::format_rfc3339(restart_at),
        restart_at_unix_us: restart_at,
        cache_capacity: capacity.value(),
        cache_unit: capacity.unit(),
        cache_size_from,
        method: if rate.is_all() { "exact" } else { "shards" },
        windows_minutes: WINDOWS_MINUTES.to_vec(),
        requests: requests.into_iter().map(scale).collect(),
        observed_minutes: observed,
        keys_before_restart: scale(keys_before),
        rows,
    }
}

/// The `longest` keys most requested in `before`, most requested first
/// (ties by key bytes, so the list is the same on every run), and how many
/// keys were requested at all.
fn rank_before(before: &[Access], keys: &[Box<[u8]>], longest: usize) -> (Vec<u32>, u64) {
    let mut counts: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    for a in before {
        *counts.entry(a.key).or_insert(0) += 1;
    }
    let distinct = counts.len() as u64;
    let mut ranked: Vec<(u32, u64)> = counts.into_iter().collect();
    let order = |a: &(u32, u64), b: &(u32, u64)| {
        b.1.cmp(&a.1)
            .then_with(|| keys[a.0 as usize].cmp(&keys[b.0 as usize]))
    };
    if longest < ranked.len() {
        if longest == 0 {
            ranked.clear();
        } else {
            ranked.select_nth_unstable_by(longest - 1, order);
            ranked.truncate(longest);
        }
    }
    ranked.sort_unstable_by(order);
    (ranked.into_iter().map(|(k, _)| k).collect(), distinct)
}

/// How many keys of `list` (most recent first) an LRU cache keeps.
fn fitting_prefix(list: &[u32], sizes: &[u64], capacity: CacheSize, rate: SampleRate) -> usize {
    match capacity {
        CacheSize::Objects(c) => list.len().min((c as f64 * rate.rate()).floor() as usize),
        CacheSize::Bytes(c) => {
            let limit = scale_bytes(c, rate);
            let mut used = 0u64;
            list.iter()
                .take_while(|&&k| {
                    used = used.saturating_add(sizes[k as usize]);
                    used <= limit
                })
                .count()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::direct::{Capacity, hits};
    use proptest::prelude::*;

    fn key_names(n: usize) -> Vec<Box<[u8]>> {
        (0..n)
            .map(|i| format!("/k{i:03}").into_bytes().into())
            .collect()
    }

    /// A trace of `keys` (one request per second from t = 0).
    fn trace(keys: &[u32]) -> Vec<Access> {
        keys.iter()
            .enumerate()
            .map(|(i, &key)| Access {
                time: i as i64 * 1_000_000,
                key,
                bytes: 1,
            })
            .collect()
    }

    #[test]
    fn warming_by_hand() {
        // Before the restart: k0 x3, k1 x2, k2 x1. After: k0 k1 k3 k0.
        let t = trace(&[0, 0, 0, 1, 1, 2, 0, 1, 3, 0]);
        let names = key_names(4);
        let input = WarmupInput {
            accesses: &t,
            keys: &names,
            sizes: &[1, 1, 1, 1],
            restart_at: 6_000_000,
            capacity: CacheSize::Objects(10),
            warm_top: &[1, 2],
            rate: SampleRate::ALL,
        };
        let w = simulate(&input, "test".into());
        assert_eq!(w.requests, vec![4, 4, 4]);
        let origin: Vec<u64> = w.rows.iter().map(|r| r.origin_requests[0]).collect();
        // Cold: k0 k1 k3 miss; top 1 (k0): k1 k3; top 2: k3 only.
        assert_eq!(origin, vec![3, 2, 1]);
        assert_eq!(w.rows[2].saved[0], 2);
        assert_eq!(w.rows[2].warmed_keys, 2);
        assert_eq!(w.keys_before_restart, 3);
        assert!(w.observed_minutes < 1.0);
    }

    fn zipfish(us: &[f64], keys: u32) -> Vec<u32> {
        us.iter()
            .map(|u| ((keys as f64).powf(*u) as u32 - 1).min(keys - 1))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Warming never adds origin requests, a longer list never adds any
        /// either, and the counts are those of a direct LRU simulation that
        /// starts with the warm list.
        #[test]
        fn warming_never_hurts(
            us in proptest::collection::vec(0.0f64..1.0, 20..400),
            split in 0.1f64..0.9,
            capacity in 1u64..40,
            bytes in any::<bool>(),
        ) {
            let keys = 80u32;
            let seq = zipfish(&us, keys);
            let t = trace(&seq);
            let names = key_names(keys as usize);
            let sizes: Vec<u64> = (0..keys as u64).map(|k| 1 + k * 37 % 100).collect();
            let restart = (seq.len() as f64 * split) as i64 * 1_000_000;
            let cap = if bytes { CacheSize::Bytes(capacity * 50) } else { CacheSize::Objects(capacity) };
            let input = WarmupInput {
                accesses: &t,
                keys: &names,
                sizes: &sizes,
                restart_at: restart,
                capacity: cap,
                warm_top: &[1, 5, 20, 200],
                rate: SampleRate::ALL,
            };
            let w = simulate(&input, String::new());
            for pair in w.rows.windows(2) {
                for i in 0..WINDOWS_MINUTES.len() {
                    prop_assert!(pair[1].origin_requests[i] <= pair[0].origin_requests[i]);
                }
            }
            // Against the direct simulation (all requests fall in the first
            // 15 minutes when there are at most 900).
            let split_at = t.partition_point(|a| a.time < restart);
            let (before, after) = (&seq[..split_at], &seq[split_at..]);
            let (ranked, _) = rank_before(&t[..split_at], &names, 200);
            prop_assert!(before.iter().all(|k| ranked.contains(k) || ranked.len() == 200));
            for row in &w.rows {
                let warm = &ranked[..(row.warm_top as usize).min(ranked.len())];
                let direct_cap = match cap {
                    CacheSize::Objects(c) => Capacity::Objects(c),
                    CacheSize::Bytes(c) => Capacity::Bytes(c),
                };
                let misses = hits(after, &sizes, direct_cap, warm).iter().filter(|h| !**h).count() as u64;
                prop_assert_eq!(row.origin_requests[2], misses, "warm top {}", row.warm_top);
            }
        }
    }
}
