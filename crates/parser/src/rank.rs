//! Counting requests per key and ranking the keys.
//!
//! Each worker counts into its own [`KeyTable`]; tables are merged at the
//! end. Only the keys that make the ranking are copied out.
//!
//! # Bounded memory
//!
//! With a [`MemoryBudget`], counting is approximate once the keys no longer
//! fit: Space-Saving with batch eviction. When the workers' tables together
//! pass the budget's eviction mark, the table that noticed keeps the upper
//! half of its keys by estimated count and drops the rest. The largest
//! estimate it ever dropped is its *floor*: a key that is not in the table
//! occurred at most `floor` times so far. A key entering later is therefore
//! counted from `floor`, with `floor` as its possible error, which keeps
//! every estimate an upper bound and `estimate - error` a lower bound. Two
//! tables merge by adding each one's floor to the other's keys (a key
//! missing from one table may have been dropped there), which keeps both
//! bounds. A heavy key is never dropped for long: its estimate climbs above
//! the floor and stays in the kept half. When nothing is ever dropped, the
//! counts are exact and the ranking says so.

use std::cmp::Ordering as Order;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::ScanError;
use crate::filter::Filter;
use crate::input::Source;
use crate::keys::{KeyCounts, KeyRules, KeyScratch};
use crate::keytable::{KeyStore, KeyTable, Totals, Update};
use crate::latency::LatencySketch;
use crate::record::Request;
use crate::scan::{self, Accumulator, ScanOptions, ScanReport};
use crate::window::Window;

/// Everything a ranking run needs.
#[derive(Clone, Debug)]
pub struct RankConfig {
    /// What to read.
    pub inputs: Vec<Source>,
    /// How to read it.
    pub scan: ScanOptions,
    /// Which requests count and how they become keys.
    pub rules: KeyRules,
    /// Which requests count by time.
    pub window: Window,
    /// Bounded-memory counting (see the module docs); `None` is exact.
    pub memory: Option<MemoryBudget>,
    /// What ranks a key.
    pub by: RankBy,
    /// Keys kept in the ranking; 0 keeps all.
    pub top: usize,
}

impl RankConfig {
    /// The defaults of `hotkeys rank`: cacheable requests (GET and HEAD,
    /// 200-399), exact counts, the top 100 by requests.
    pub fn new(inputs: Vec<Source>) -> RankConfig {
        RankConfig {
            inputs,
            scan: ScanOptions::default(),
            rules: KeyRules {
                filter: Filter::cacheable(),
                ..KeyRules::default()
            },
            window: Window::default(),
            memory: None,
            by: RankBy::Requests,
            top: 100,
        }
    }
}

/// What a ranking run found.
#[derive(Debug)]
pub struct RankRun {
    /// The keys in rank order, with the counts behind them.
    pub ranking: Ranking,
    /// What was read: inputs, lines, formats, problems.
    pub scan: ScanReport,
}

/// Reads the inputs and ranks their keys.
pub fn run(config: &RankConfig) -> Result<RankRun, ScanError> {
    let (rules, options) = config
        .rules
        .for_run(&config.window, &config.inputs, &config.scan)?;
    // Exact counting shares one key store between workers; bounded counting
    // trims each worker's own table.
    let store = KeyStore::default();
    let (counter, scan) = scan::scan(&config.inputs, &options, || match &config.memory {
        Some(budget) => KeyCounter::bounded(&rules, budget),
        None => KeyCounter::with_store(&rules, &store),
    })?;
    Ok(RankRun {
        ranking: counter.into_ranking(config.by, config.top),
        scan,
    })
}

/// What ranks a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RankBy {
    /// Requests counted.
    #[default]
    Requests,
    /// Bytes served.
    Bytes,
    /// Summed latency: the origin time a warm cache would save.
    Cost,
}

impl RankBy {
    /// The name used on the command line and in the warm list's
    /// `ranked_by`: `requests`, `bytes` or `cost`.
    pub fn name(self) -> &'static str {
        match self {
            RankBy::Requests => "requests",
            RankBy::Bytes => "bytes",
            RankBy::Cost => "cost",
        }
    }

    /// The ranked metric of a key.
    pub fn of(self, stats: &KeyStats) -> u64 {
        match self {
            RankBy::Requests => stats.requests,
            RankBy::Bytes => stats.bytes,
            RankBy::Cost => stats.cost_us,
        }
    }

    fn metric(self, t: &Totals) -> u64 {
        match self {
            RankBy::Requests => t.requests,
            RankBy::Bytes => t.bytes,
            RankBy::Cost => t.cost_us,
        }
    }
}

/// Memory shared by every worker's key table.
#[derive(Clone, Debug)]
pub struct MemoryBudget {
    /// Bytes all tables may hold together, as the user gave them.
    pub limit: usize,
    /// Bytes held now, summed over workers.
    used: Arc<AtomicUsize>,
}

impl MemoryBudget {
    /// A budget of `limit` bytes for all key tables together, nothing used
    /// yet. Tables are trimmed at 45% of it, so that peaks while they grow
    /// and merge stay within it.
    pub fn new(limit: usize) -> Self {
        MemoryBudget {
            limit,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Tables are trimmed above this share of the limit: a growing vector
    /// briefly holds its old and new buffers, and the final merge needs
    /// room for one table to grow while the other still exists, so peaks
    /// stay within the limit.
    fn eviction_mark(&self) -> usize {
        self.limit / 100 * 45
    }
}

/// Bounded-memory state of one worker.
#[derive(Debug, Default)]
struct Eviction {
    /// Ids below this came through the last eviction with their estimate
    /// and error in their totals; later ids count from `floor`.
    survivors: usize,
    /// Largest estimate dropped so far.
    floor: u64,
    /// Whether anything was ever dropped (here or in a merged table).
    happened: bool,
    /// What this table last reported to the shared budget.
    reported: usize,
    /// Requests since the last look at the memory in use.
    since_check: u32,
}

/// How many requests pass between two looks at the memory in use.
const CHECK_EVERY: u32 = 1024;

/// A worker's local table moves its keys to the store past this many keys:
/// large enough that a few hundred thousand hot keys stay local for the
/// whole run, small enough that workers never hold full copies of a huge
/// key set.
const LOCAL_KEYS: usize = 512 * 1024;

/// Totals of one ranked key.
#[derive(Clone, Debug, Default)]
pub struct KeyStats {
    /// Requests counted under the key; an upper bound when the ranking is
    /// approximate.
    pub requests: u64,
    /// Response bytes summed over those requests; a lower bound when the
    /// ranking is approximate.
    pub bytes: u64,
    /// Latency summed over those requests, in microseconds (request time,
    /// else upstream time): the origin time a warm cache would save. A
    /// lower bound when the ranking is approximate.
    pub cost_us: u64,
    /// How much `requests` may overstate the true count (bounded-memory
    /// mode only; the true count is in `requests - error ..= requests`).
    pub error: u64,
    /// Distribution of the requests' latencies, in microseconds; empty when
    /// none was logged, and always empty in bounded-memory mode.
    pub latency: LatencySketch,
    /// With routes: the route that made the key and the smallest target
    /// that produced it (smallest, so the choice does not depend on which
    /// thread saw which line).
    pub route: Option<(usize, Box<[u8]>)>,
}

/// The accumulator behind `hotkeys rank`.
pub struct KeyCounter<'r> {
    rules: &'r KeyRules,
    /// Bounded-memory counting (see the module docs); `None` is exact.
    memory: Option<&'r MemoryBudget>,
    /// This worker's keys; with a store, only those not yet moved there.
    keys: KeyTable,
    /// Where keys end up in exact counting with a shared store.
    store: Option<&'r KeyStore>,
    counts: KeyCounts,
    /// Counted requests that logged a latency.
    timed: u64,
    scratch: KeyScratch,
    eviction: Eviction,
}

impl<'r> KeyCounter<'r> {
    /// An exact counter with a table of its own.
    pub fn new(rules: &'r KeyRules) -> Self {
        KeyCounter {
            rules,
            memory: None,
            keys: KeyTable::default(),
            store: None,
            counts: KeyCounts::default(),
            timed: 0,
            scratch: rules.scratch(),
            eviction: Eviction::default(),
        }
    }

    /// A counter that stays within `budget`, shared by all workers; counts
    /// become estimates once the keys no longer fit.
    pub fn bounded(rules: &'r KeyRules, budget: &'r MemoryBudget) -> Self {
        KeyCounter {
            memory: Some(budget),
            // Latency distributions grow without a bound of their own.
            keys: KeyTable::without_latency_sketches(),
            ..KeyCounter::new(rules)
        }
    }

    /// An exact counter that moves its keys into `store`, shared by all
    /// workers, once its table holds too many (see [`KeyStore`]).
    pub fn with_store(rules: &'r KeyRules, store: &'r KeyStore) -> Self {
        KeyCounter {
            keys: store.local_table(),
            store: Some(store),
            ..KeyCounter::new(rules)
        }
    }

    /// The store, once any worker has moved keys into it.
    fn store_in_use(&self) -> Option<&'r KeyStore> {
        self.store.filter(|s| s.is_used())
    }

    fn move_to_store(&mut self) {
        if let Some(store) = self.store {
            let start = (self.counts.matched as usize).wrapping_mul(31);
            store.absorb(&mut self.keys, start);
        }
    }

    /// Tells the shared budget what this table holds, and trims the table
    /// when all tables together are over the mark.
    fn check_memory(&mut self) {
        let Some(budget) = self.memory else {
            return;
        };
        let now = self.keys.memory_bytes();
        let e = &mut self.eviction;
        let total = if now >= e.reported {
            budget.used.fetch_add(now - e.reported, Ordering::Relaxed) + (now - e.reported)
        } else {
            budget.used.fetch_sub(e.reported - now, Ordering::Relaxed) - (e.reported - now)
        };
        e.reported = now;
        if total > budget.eviction_mark() {
            self.evict();
            self.check_memory_after_evict();
        }
    }

    fn check_memory_after_evict(&mut self) {
        let Some(budget) = self.memory else {
            return;
        };
        let now = self.keys.memory_bytes();
        let e = &mut self.eviction;
        if now < e.reported {
            budget.used.fetch_sub(e.reported - now, Ordering::Relaxed);
        } else {
            budget.used.fetch_add(now - e.reported, Ordering::Relaxed);
        }
        e.reported = now;
    }

    /// Makes every key's estimate and error explicit in its totals.
    fn settle(&mut self) {
        let e = &mut self.eviction;
        if e.floor > 0 {
            self.keys.raise_from(e.survivors, e.floor);
        }
        e.survivors = self.keys.len();
    }

    /// Keeps the upper half of the keys by estimated count.
    fn evict(&mut self) {
        self.settle();
        let n = self.keys.len();
        if n < 2 {
            return;
        }
        let keep = n / 2;
        let keys = &self.keys;
        let mut ids: Vec<u32> = (0..n as u32).collect();
        ids.select_nth_unstable_by(keep, |a, b| {
            let (ta, tb) = (keys.totals(*a as usize), keys.totals(*b as usize));
            tb.requests.cmp(&ta.requests)
        });
        let dropped = ids[keep..]
            .iter()
            .map(|&id| keys.totals(id as usize).requests)
            .max()
            .unwrap_or(0);
        ids.truncate(keep);
        self.keys.retain(&ids);
        let e = &mut self.eviction;
        e.floor = e.floor.max(dropped);
        e.survivors = keep;
        e.happened = true;
    }

    /// Requests seen so far by this counter: matched, and skipped by reason.
    pub fn counts(&self) -> KeyCounts {
        self.counts
    }

    /// Keys in this counter's own table (flushes it). With a shared store,
    /// keys already moved there are not included.
    pub fn distinct_keys(&mut self) -> usize {
        self.keys.len()
    }

    /// Ranks the keys by `by` (ties broken by key bytes, so the order is
    /// the same on every run) and keeps the first `top` (0 = all).
    pub fn into_ranking(mut self, by: RankBy, top: usize) -> Ranking {
        if self.memory.is_some() {
            self.settle();
        }
        self.keys.flush();
        let locked;
        let tables: Vec<&KeyTable> = match self.store_in_use() {
            Some(store) => {
                self.move_to_store();
                locked = store.lock_all();
                locked.iter().map(|t| &**t).collect()
            }
            None => vec![&self.keys],
        };
        let distinct: usize = tables.iter().map(|t| t.id_count()).sum();
        // (metric, table, id) of every key; only the kept ones are copied.
        let mut all: Vec<(u64, u32, u32)> = Vec::with_capacity(distinct);
        for (ti, t) in tables.iter().enumerate() {
            all.extend(
                (0..t.id_count()).map(|id| (by.metric(&t.totals(id)), ti as u32, id as u32)),
            );
        }
        // Shares are of the requests the filters let through. In bounded
        // mode the kept keys' counts are upper bounds and the dropped keys'
        // are gone, so only the request counter itself gives that total
        // (in exact mode both sums are the same).
        let total = match by {
            RankBy::Requests => self.counts.matched,
            RankBy::Bytes | RankBy::Cost => all.iter().map(|e| e.0).sum(),
        };
        let key = |e: &(u64, u32, u32)| tables[e.1 as usize].key(e.2 as usize);
        let order = |a: &(u64, u32, u32), b: &(u64, u32, u32)| -> Order {
            b.0.cmp(&a.0).then_with(|| key(a).cmp(key(b)))
        };
        if top > 0 && top < all.len() {
            // The cut is found by metric alone: with the key as tie-breaker,
            // selecting among hundreds of thousands of keys with equal small
            // counts compared their bytes all over memory. Only keys at or
            // above the cut are then ordered in full.
            let cut = all
                .select_nth_unstable_by(top - 1, |a, b| b.0.cmp(&a.0))
                .1
                .0;
            all.retain(|e| e.0 >= cut);
            if all.len() > top {
                all.select_nth_unstable_by(top - 1, order);
                all.truncate(top);
            }
        }
        all.sort_unstable_by(order);
        let keys = all
            .iter()
            .map(|e| {
                let (table, id) = (tables[e.1 as usize], e.2 as usize);
                let t = table.totals(id);
                let stats = KeyStats {
                    requests: t.requests,
                    bytes: t.bytes,
                    cost_us: t.cost_us,
                    error: t.error,
                    latency: table.latency(id).cloned().unwrap_or_default(),
                    route: table.route(id).cloned(),
                };
                (Box::from(table.key(id)), stats)
            })
            .collect();
        Ranking {
            by,
            total,
            distinct_keys: distinct as u64,
            approximate: self.eviction.happened,
            counts: self.counts,
            timed: self.timed,
            keys,
        }
    }
}

impl Accumulator for KeyCounter<'_> {
    fn add(&mut self, r: &Request<'_>) {
        let keyed = match self.rules.key_of(r, &mut self.scratch) {
            Ok(keyed) => keyed,
            Err(why) => {
                self.counts.skip(why);
                return;
            }
        };
        self.counts.matched += 1;
        let latency_us = r.latency_us();
        self.timed += u64::from(latency_us.is_some());
        self.keys.add(
            keyed.key,
            Update {
                bytes: r.bytes.unwrap_or(0),
                latency_us,
                route: keyed.route.map(|route| (route, keyed.target)),
            },
        );
        self.eviction.since_check += 1;
        if self.eviction.since_check >= CHECK_EVERY {
            self.eviction.since_check = 0;
            if self.memory.is_some() {
                self.check_memory();
            } else if self.store.is_some() && self.keys.id_count() > LOCAL_KEYS {
                self.move_to_store();
            }
        }
    }

    fn finish(&mut self) {
        if self.store_in_use().is_some() {
            self.move_to_store();
        }
    }

    fn merge(&mut self, mut other: Self) {
        self.timed += other.timed;
        if self.store_in_use().is_some() {
            other.move_to_store();
            self.counts.add(other.counts);
            return;
        }
        if self.memory.is_some() {
            // A key missing from one table may have been dropped there with
            // up to that table's floor: count it in, as estimate and error.
            self.settle();
            other.settle();
            let (mine, theirs) = (self.eviction.floor, other.eviction.floor);
            self.keys.raise_from(0, theirs);
            other.keys.raise_from(0, mine);
            self.eviction.floor = mine + theirs;
            self.eviction.happened |= other.eviction.happened;
        }
        // Merging the smaller table into the larger moves fewer keys.
        if other.keys.len() > self.keys.len() {
            std::mem::swap(&mut self.keys, &mut other.keys);
            std::mem::swap(&mut self.eviction.reported, &mut other.eviction.reported);
        }
        let released = other.eviction.reported;
        self.counts.add(other.counts);
        self.keys.merge(other.keys);
        if let Some(budget) = self.memory {
            budget.used.fetch_sub(released, Ordering::Relaxed);
            self.eviction.survivors = self.keys.len();
            self.check_memory();
        }
    }
}

/// Keys in rank order.
#[derive(Debug)]
pub struct Ranking {
    /// The metric the keys are ordered by, and that `total` sums.
    pub by: RankBy,
    /// The metric summed over every key (not only the kept ones); for
    /// requests, the requests counted, also when the counts are estimates.
    pub total: u64,
    /// Distinct keys counted; a lower bound when `approximate`.
    pub distinct_keys: u64,
    /// Whether keys were dropped to stay within the memory budget, so that
    /// counts are estimates with errors (see [`KeyStats::error`]).
    pub approximate: bool,
    /// Requests matched and skipped (by reason) over the whole run.
    pub counts: KeyCounts,
    /// Matched requests that logged a latency (request or upstream time):
    /// with none, every key costs 0.
    pub timed: u64,
    /// The kept keys (the `top` asked for, or all when it was 0), highest
    /// metric first; ties are broken by key bytes, so the order is the same
    /// on every run.
    pub keys: Vec<(Box<[u8]>, KeyStats)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Filter;

    fn get<'a>(target: &'a [u8], bytes: u64, latency: Option<u64>) -> Request<'a> {
        Request {
            method: Some(b"GET"),
            status: Some(200),
            target: Some(target),
            bytes: Some(bytes),
            request_time_us: latency,
            ..Request::default()
        }
    }

    /// The cut is chosen by count first; ties at the cut must still be
    /// decided by key, whatever order the table holds them in.
    #[test]
    fn ties_at_the_cut_are_decided_by_key() {
        let rules = KeyRules::default();
        let mut c = KeyCounter::new(&rules);
        c.add(&get(b"/top", 1, None));
        c.add(&get(b"/top", 1, None));
        c.add(&get(b"/top", 1, None));
        // 200 keys with 2 requests each, inserted in descending key order,
        // and more keys with one request below them.
        for i in (0..200).rev() {
            let t = format!("/k{i:03}");
            c.add(&get(t.as_bytes(), 1, None));
            c.add(&get(t.as_bytes(), 1, None));
        }
        for i in 0..500 {
            c.add(&get(format!("/one{i}").as_bytes(), 1, None));
        }
        let r = c.into_ranking(RankBy::Requests, 4);
        let order: Vec<(&[u8], u64)> = r.keys.iter().map(|(k, s)| (&**k, s.requests)).collect();
        assert_eq!(
            order,
            vec![
                (&b"/top"[..], 3),
                (b"/k000", 2),
                (b"/k001", 2),
                (b"/k002", 2)
            ]
        );
        assert_eq!(r.distinct_keys, 701);
    }

    #[test]
    fn counts_ranks_and_breaks_ties_by_key() {
        let rules = KeyRules {
            filter: Filter::cacheable(),
            ..KeyRules::default()
        };
        let mut c = KeyCounter::new(&rules);
        for (t, n) in [(&b"/b"[..], 3), (b"/a", 3), (b"/c", 5), (b"/d", 1)] {
            for _ in 0..n {
                c.add(&get(t, 10, Some(100)));
            }
        }
        c.add(&Request {
            status: Some(404),
            ..get(b"/a", 1, None)
        });
        c.add(&Request {
            target: None,
            ..get(b"/a", 1, None)
        });
        let r = c.into_ranking(RankBy::Requests, 3);
        let order: Vec<&[u8]> = r.keys.iter().map(|(k, _)| &**k).collect();
        assert_eq!(order, vec![&b"/c"[..], b"/a", b"/b"]);
        assert_eq!(r.total, 12);
        assert_eq!(r.distinct_keys, 4);
        assert_eq!(
            r.counts,
            KeyCounts {
                matched: 12,
                filtered: 1,
                no_target: 1,
                unrouted: 0,
                ..KeyCounts::default()
            }
        );
        // Every counted request had a latency; the skipped ones do not count.
        assert_eq!(r.timed, 12);
        assert_eq!(r.keys[0].1.cost_us, 500);
        // The sketch keeps 1/32 relative precision.
        let p50 = r.keys[0].1.latency.quantile(0.5).unwrap();
        assert!((97..=103).contains(&p50), "{p50}");
    }

    #[test]
    fn merging_workers_equals_one_worker() {
        let rules = KeyRules::default();
        let targets: Vec<Vec<u8>> = (0..300)
            .map(|i| format!("/k{}", i * 7 % 41).into_bytes())
            .collect();
        let mut one = KeyCounter::new(&rules);
        let (mut a, mut b) = (KeyCounter::new(&rules), KeyCounter::new(&rules));
        for (i, t) in targets.iter().enumerate() {
            let r = get(t, i as u64, Some(i as u64));
            one.add(&r);
            if i % 2 == 0 { a.add(&r) } else { b.add(&r) }
        }
        a.merge(b);
        let x = one.into_ranking(RankBy::Bytes, 0);
        let y = a.into_ranking(RankBy::Bytes, 0);
        let flat = |r: &Ranking| -> Vec<(Vec<u8>, u64, u64, u64)> {
            r.keys
                .iter()
                .map(|(k, s)| (k.to_vec(), s.requests, s.bytes, s.cost_us))
                .collect()
        };
        assert_eq!(flat(&x), flat(&y));
        assert_eq!(x.keys.len(), 41);
    }

    #[test]
    fn routes_make_keys_and_count_the_rest_as_unrouted() {
        let rules = KeyRules {
            routes: Some(crate::keys::tests::product_routes()),
            ..KeyRules::default()
        };
        let mut c = KeyCounter::new(&rules);
        for t in [&b"/p/2"[..], b"/p/1", b"/p/2", b"/other"] {
            c.add(&get(t, 1, None));
        }
        let r = c.into_ranking(RankBy::Requests, 0);
        assert_eq!(&*r.keys[0].0, b"product:2");
        assert_eq!(
            r.keys[0].1.route.as_ref().map(|(i, t)| (*i, t.to_vec())),
            Some((0, b"/p/2".to_vec()))
        );
        assert_eq!(r.counts.unrouted, 1);
        assert_eq!(r.counts.matched, 3);
    }

    /// A skewed stream of `n` requests over `keys` keys (rank r drawn with
    /// probability proportional to 1/r), from a fixed seed.
    fn zipf_stream(n: usize, keys: usize, seed: u64) -> Vec<Vec<u8>> {
        let weights: Vec<f64> = (1..=keys).map(|r| 1.0 / r as f64).collect();
        let total: f64 = weights.iter().sum();
        let mut cdf = Vec::with_capacity(keys);
        let mut acc = 0.0;
        for w in &weights {
            acc += w / total;
            cdf.push(acc);
        }
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                let rank = cdf.partition_point(|&c| c < u).min(keys - 1);
                format!("/item/{rank}").into_bytes()
            })
            .collect()
    }

    fn count_bounded(stream: &[Vec<u8>], limit: usize, workers: usize) -> Ranking {
        let rules = KeyRules::default();
        let budget = MemoryBudget::new(limit);
        let mut counters: Vec<KeyCounter> = (0..workers)
            .map(|_| KeyCounter::bounded(&rules, &budget))
            .collect();
        for (i, t) in stream.iter().enumerate() {
            counters[i % workers].add(&get(t, 1, Some(5)));
        }
        let mut first = counters.remove(0);
        for c in counters {
            first.merge(c);
        }
        first.into_ranking(RankBy::Requests, 0)
    }

    #[test]
    fn bounded_mode_is_exact_when_the_keys_fit() {
        let stream = zipf_stream(50_000, 2_000, 7);
        let r = count_bounded(&stream, 64 << 20, 2);
        assert!(!r.approximate);
        let mut truth = std::collections::HashMap::<Vec<u8>, u64>::new();
        for t in &stream {
            *truth.entry(t.clone()).or_default() += 1;
        }
        assert_eq!(r.keys.len(), truth.len());
        for (k, stats) in &r.keys {
            assert_eq!(stats.requests, truth[&k.to_vec()]);
            assert_eq!(stats.error, 0);
        }
    }

    #[test]
    fn bounded_mode_brackets_every_true_count_and_keeps_the_heavy_keys() {
        let stream = zipf_stream(300_000, 60_000, 11);
        let mut truth = std::collections::HashMap::<Vec<u8>, u64>::new();
        for t in &stream {
            *truth.entry(t.clone()).or_default() += 1;
        }
        // Far less memory than 60k keys need: eviction must happen.
        let r = count_bounded(&stream, 1 << 20, 3);
        assert!(r.approximate);
        assert!(r.keys.len() < truth.len() / 2, "{} keys kept", r.keys.len());
        for (k, stats) in &r.keys {
            let real = truth.get(&k.to_vec()).copied().unwrap_or(0);
            assert!(
                stats.requests - stats.error <= real && real <= stats.requests,
                "{}: true {real} outside {}..={}",
                String::from_utf8_lossy(k),
                stats.requests - stats.error,
                stats.requests
            );
        }
        let mut exact: Vec<(&Vec<u8>, &u64)> = truth.iter().collect();
        exact.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let found: std::collections::HashSet<Vec<u8>> =
            r.keys.iter().take(20).map(|(k, _)| k.to_vec()).collect();
        let hits = exact
            .iter()
            .take(20)
            .filter(|(k, _)| found.contains(*k))
            .count();
        assert!(hits >= 19, "only {hits} of the exact top 20 found");
    }

    #[test]
    fn workers_sharing_a_store_count_like_one_table() {
        let rules = KeyRules::default();
        let store = KeyStore::default();
        let stream = zipf_stream(40_000, 5_000, 3);
        let mut workers: Vec<KeyCounter> = (0..3)
            .map(|_| KeyCounter::with_store(&rules, &store))
            .collect();
        let mut alone = KeyCounter::new(&rules);
        for (i, t) in stream.iter().enumerate() {
            let r = get(t, i as u64 % 7, Some(i as u64 % 13));
            workers[i % 3].add(&r);
            alone.add(&r);
            // Move keys to the store mid-run too, as a full local table does.
            if i % 9_999 == 0 {
                workers[i % 3].move_to_store();
            }
        }
        for w in &mut workers {
            w.finish();
        }
        let mut first = workers.remove(0);
        for w in workers {
            first.merge(w);
        }
        type Row = (Vec<u8>, u64, u64, u64, Option<u64>);
        let flat = |r: Ranking| -> Vec<Row> {
            r.keys
                .into_iter()
                .map(|(k, s)| {
                    (
                        k.to_vec(),
                        s.requests,
                        s.bytes,
                        s.cost_us,
                        s.latency.quantile(0.5),
                    )
                })
                .collect()
        };
        let shared = first.into_ranking(RankBy::Requests, 0);
        let single = alone.into_ranking(RankBy::Requests, 0);
        assert_eq!(shared.counts, single.counts);
        assert_eq!(shared.distinct_keys, single.distinct_keys);
        assert_eq!(flat(shared), flat(single));
    }

    mod property {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        fn arbitrary_key() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                8 => (0..40u32).prop_map(|i| format!("/k/{i}").into_bytes()),
                1 => Just(Vec::new()),
                1 => proptest::collection::vec(any::<u8>(), 0..12),
                1 => (0..3usize).prop_map(|i| vec![b'x'; 200 + i]),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// The key table's pipeline, the shared store and the moves into
            /// it never change a count.
            #[test]
            fn store_and_pipeline_count_exactly(
                keys in proptest::collection::vec(arbitrary_key(), 0..400),
                workers in 1usize..4,
                moves in proptest::collection::vec(0usize..400, 0..4),
            ) {
                let rules = KeyRules::default();
                let store = KeyStore::default();
                let mut counters: Vec<KeyCounter> =
                    (0..workers).map(|_| KeyCounter::with_store(&rules, &store)).collect();
                let mut truth: BTreeMap<Vec<u8>, (u64, u64)> = BTreeMap::new();
                for (i, k) in keys.iter().enumerate() {
                    counters[i % workers].add(&get(k, i as u64, None));
                    let t = truth.entry(k.clone()).or_default();
                    t.0 += 1;
                    t.1 += i as u64;
                    if moves.contains(&i) {
                        counters[i % workers].move_to_store();
                    }
                }
                for c in &mut counters {
                    c.finish();
                }
                let mut first = counters.remove(0);
                for c in counters {
                    first.merge(c);
                }
                let r = first.into_ranking(RankBy::Requests, 0);
                let got: BTreeMap<Vec<u8>, (u64, u64)> =
                    r.keys.iter().map(|(k, s)| (k.to_vec(), (s.requests, s.bytes))).collect();
                prop_assert_eq!(got, truth);
                // Rank order: by count, then by key bytes.
                for w in r.keys.windows(2) {
                    let (a, b) = (&w[0], &w[1]);
                    prop_assert!(a.1.requests > b.1.requests || (a.1.requests == b.1.requests && a.0 < b.0));
                }
            }

            /// In bounded mode every reported count brackets the truth,
            /// however small the budget and however the work is split.
            #[test]
            fn bounded_counts_bracket_the_truth(
                seed in any::<u64>(),
                workers in 1usize..4,
                keys in 2000usize..6000,
            ) {
                let stream = zipf_stream(30_000, keys, seed);
                let mut truth = std::collections::HashMap::<Vec<u8>, u64>::new();
                for t in &stream {
                    *truth.entry(t.clone()).or_default() += 1;
                }
                // 64 KiB cannot hold 2000 keys: eviction must happen.
                let r = count_bounded(&stream, 64 << 10, workers);
                prop_assert!(r.approximate);
                for (k, s) in &r.keys {
                    let real = truth.get(&k.to_vec()).copied().unwrap_or(0);
                    prop_assert!(s.requests - s.error <= real && real <= s.requests);
                }
            }
        }
    }
}
