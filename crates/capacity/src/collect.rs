//! The scan accumulator: everything a report needs, gathered in one pass.
//!
//! Each worker interns keys to dense `u32` ids in its own table (foldhash,
//! seeded at random per table, so chosen keys cannot be made to collide),
//! keeps totals per key, and appends a 16-byte [`Access`] per request
//! whose key is in the sample. Workers are merged left to right in input
//! order, each one's ids translated into the left one's, so the merged
//! accesses are in input order for any number of threads.
//!
//! Sampling is decided per key (see [`crate::sampling`]). In the automatic
//! mode a worker starts by keeping every request and steps down the rate
//! ladder as soon as it alone holds more than the limit; the final rate is
//! chosen at the end from the counts of all workers. A worker only steps
//! down when its own requests already exceed the limit at that rate, so the
//! final rate is never above what any worker kept: the result does not
//! depend on how the work was split.

use std::collections::HashMap;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use hdrhistogram::Histogram;
use hotkeys_parser::keys::{KeyCounts, KeyRules, KeyScratch};
use hotkeys_parser::record::Request;
use hotkeys_parser::scan::Accumulator;

use crate::config::CurveMethod;
use crate::histogram;
use crate::sampling::{LADDER, SampleRate, key_point};
use crate::trace::Access;

/// Marks an access without a response time in the latency column.
pub const NO_LATENCY: u32 = u32::MAX;

/// Most methods kept apart in the mix; hostile logs can invent any number.
const MAX_METHODS: usize = 32;

/// Totals of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyTotals {
    /// Counted requests for the key.
    pub requests: u64,
    /// Response bytes of those requests (0 for one without a size).
    pub bytes: u64,
    /// The largest response: the object's size in a cache.
    pub max_bytes: u64,
    /// How many sampling thresholds the key is under (see [`Sampler`]).
    depth: u8,
}

impl KeyTotals {
    fn merge(&mut self, other: &KeyTotals) {
        self.requests += other.requests;
        self.bytes += other.bytes;
        self.max_bytes = self.max_bytes.max(other.max_bytes);
    }
}

/// What happened to the requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests parsed (every line that was not blank or malformed).
    pub requests: u64,
    /// Counted under a key, or skipped and why: the same counts as `rank`'s.
    pub keys: KeyCounts,
    /// Counted requests without a time.
    pub untimed: u64,
    /// Earliest time of a counted request, Unix microseconds; `None` when
    /// none has a time.
    pub first_time: Option<i64>,
    /// Latest time of a counted request, Unix microseconds; `None` when
    /// none has a time.
    pub last_time: Option<i64>,
}

impl Counts {
    fn merge(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.keys.add(o.keys);
        self.untimed += o.untimed;
        self.first_time = match (self.first_time, o.first_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_time = match (self.last_time, o.last_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Decides which requests are kept for the cache simulations.
///
/// `thresholds` are descending; a key's depth is how many it is under, and
/// at `level` the keys with a depth above `level` are kept.
#[derive(Clone, Debug)]
struct Sampler {
    thresholds: Vec<u64>,
    level: usize,
    limit: u64,
    /// Requests per key depth, to choose the final level.
    by_depth: Vec<u64>,
}

impl Sampler {
    fn new(method: CurveMethod) -> Sampler {
        let (thresholds, limit) = match method {
            CurveMethod::Auto { max_exact_requests } => (LADDER.to_vec(), max_exact_requests),
            CurveMethod::Exact => (vec![SampleRate::ALL.threshold()], u64::MAX),
            CurveMethod::Sampled(rate) => (vec![rate.threshold()], u64::MAX),
        };
        Sampler {
            by_depth: vec![0; thresholds.len() + 1],
            thresholds,
            level: 0,
            limit,
        }
    }

    fn depth(&self, point: u32) -> u8 {
        self.thresholds
            .iter()
            .take_while(|&&t| u64::from(point) < t)
            .count() as u8
    }

    fn keeps(&self, depth: u8) -> bool {
        usize::from(depth) > self.level
    }

    /// Requests all workers together would keep at `level`.
    fn kept_at(&self, level: usize) -> u64 {
        self.by_depth[level + 1..].iter().sum()
    }

    fn can_lower(&self) -> bool {
        self.level + 1 < self.thresholds.len()
    }

    fn rate(&self) -> SampleRate {
        SampleRate::from_threshold(self.thresholds[self.level])
    }
}

/// Requests per minute, with the current minute counted apart: a task reads
/// lines in time order, so most requests only touch that counter.
#[derive(Clone, Debug, Default)]
struct MinuteCounter {
    current: Option<(i64, u64)>,
    done: HashMap<i64, u64>,
}

impl MinuteCounter {
    fn add(&mut self, time_us: i64) {
        let minute = time_us.div_euclid(60_000_000);
        match &mut self.current {
            Some((m, n)) if *m == minute => *n += 1,
            _ => {
                self.flush();
                self.current = Some((minute, 1));
            }
        }
    }

    fn flush(&mut self) {
        if let Some((m, n)) = self.current.take() {
            *self.done.entry(m).or_insert(0) += n;
        }
    }

    fn merge(&mut self, mut other: MinuteCounter) {
        self.flush();
        other.flush();
        for (m, n) in other.done {
            *self.done.entry(m).or_insert(0) += n;
        }
    }
}

/// The accumulator behind `hotkeys report`.
pub struct Collector<'r> {
    rules: &'r KeyRules,
    scratch: KeyScratch,
    table: HashTable<(Box<[u8]>, u32)>,
    hasher: foldhash::fast::RandomState,
    keys: Vec<KeyTotals>,
    accesses: Vec<Access>,
    /// Response time per access (µs, saturated), or [`NO_LATENCY`].
    latencies: Vec<u32>,
    sampler: Sampler,
    counts: Counts,
    methods: Vec<(Box<[u8]>, u64)>,
    other_methods: u64,
    statuses: Vec<u64>,
    minutes: MinuteCounter,
    request_time: Histogram<u64>,
    upstream_time: Histogram<u64>,
    response_bytes: Histogram<u64>,
}

/// Status codes counted one by one; others are grouped.
const STATUS_SLOTS: usize = 1000;

impl<'r> Collector<'r> {
    /// An empty collector that makes keys with `rules` and keeps the
    /// accesses `method` asks for.
    pub fn new(rules: &'r KeyRules, method: CurveMethod) -> Self {
        Collector {
            rules,
            scratch: rules.scratch(),
            table: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            keys: Vec::new(),
            accesses: Vec::new(),
            latencies: Vec::new(),
            sampler: Sampler::new(method),
            counts: Counts::default(),
            methods: Vec::new(),
            other_methods: 0,
            // Index STATUS_SLOTS: no status or out of range.
            statuses: vec![0; STATUS_SLOTS + 1],
            minutes: MinuteCounter::default(),
            request_time: histogram::new(),
            upstream_time: histogram::new(),
            response_bytes: histogram::new(),
        }
    }

    /// Like `intern` for a key from another worker, taking ownership.
    fn intern_owned(&mut self, key: Box<[u8]>, totals: &KeyTotals) -> u32 {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(&*key);
        let entry = self
            .table
            .entry(hash, |(k, _)| *k == key, |(k, _)| hasher.hash_one(k));
        match entry {
            Entry::Occupied(e) => {
                let id = e.get().1;
                self.keys[id as usize].merge(totals);
                id
            }
            Entry::Vacant(e) => {
                let id = self.keys.len() as u32;
                e.insert((key, id));
                self.keys.push(*totals);
                id
            }
        }
    }

    fn count_mix(&mut self, r: &Request<'_>) {
        let method = r.method.unwrap_or(b"-");
        add_method(&mut self.methods, &mut self.other_methods, method, 1);
        let slot = r
            .status
            .map_or(STATUS_SLOTS, |s| usize::from(s).min(STATUS_SLOTS));
        self.statuses[slot] += 1;
    }

    /// Keeps only the accesses of keys sampled at `level`.
    fn lower_to(&mut self, level: usize) {
        if level <= self.sampler.level {
            return;
        }
        self.sampler.level = level;
        let keys = &self.keys;
        let sampler = &self.sampler;
        let mut write = 0;
        for read in 0..self.accesses.len() {
            let a = self.accesses[read];
            if sampler.keeps(keys[a.key as usize].depth) {
                self.accesses[write] = a;
                self.latencies[write] = self.latencies[read];
                write += 1;
            }
        }
        self.accesses.truncate(write);
        self.latencies.truncate(write);
    }

    fn lower_while_over_limit(&mut self) {
        while self.accesses.len() as u64 > self.sampler.limit && self.sampler.can_lower() {
            self.lower_to(self.sampler.level + 1);
        }
    }

    /// Ends collection: settles the sampling rate and hands over the data.
    pub fn finish(mut self) -> Collected {
        let s = &self.sampler;
        let level = (s.level..s.thresholds.len())
            .find(|&l| s.kept_at(l) <= s.limit)
            .unwrap_or(s.thresholds.len() - 1);
        self.lower_to(level);
        self.minutes.flush();
        let mut keys: Vec<Box<[u8]>> = vec![Box::default(); self.keys.len()];
        for (key, id) in self.table {
            keys[id as usize] = key;
        }
        let mut methods: Vec<(Vec<u8>, u64)> = self
            .methods
            .into_iter()
            .map(|(m, n)| (m.into_vec(), n))
            .collect();
        if self.other_methods > 0 {
            methods.push((b"(other)".to_vec(), self.other_methods));
        }
        let statuses = self
            .statuses
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(s, &n)| ((s < STATUS_SLOTS).then_some(s as u16), n))
            .collect();
        Collected {
            rate: self.sampler.rate(),
            keys,
            totals: self.keys,
            accesses: self.accesses,
            latencies: self.latencies,
            counts: self.counts,
            methods,
            statuses,
            minutes: self.minutes.done,
            request_time: self.request_time,
            upstream_time: self.upstream_time,
            response_bytes: self.response_bytes,
        }
    }
}

impl Accumulator for Collector<'_> {
    // The LRU simulations replay requests in input order.
    const ORDERED: bool = true;

    fn add(&mut self, r: &Request<'_>) {
        self.counts.requests += 1;
        self.count_mix(r);
        let id = match self.rules.key_of(r, &mut self.scratch) {
            Ok(keyed) => intern(
                &mut self.table,
                &self.hasher,
                &mut self.keys,
                &self.sampler,
                keyed.key,
            ),
            Err(why) => {
                self.counts.keys.skip(why);
                return;
            }
        };
        self.counts.keys.matched += 1;
        let bytes = r.bytes.unwrap_or(0);
        let totals = &mut self.keys[id as usize];
        totals.requests += 1;
        totals.bytes += bytes;
        totals.max_bytes = totals.max_bytes.max(bytes);
        let depth = totals.depth;
        if r.bytes.is_some() {
            histogram::record(&mut self.response_bytes, bytes, 1);
        }
        if let Some(us) = r.request_time_us {
            histogram::record(&mut self.request_time, us, 1);
        }
        if let Some(us) = r.upstream_time_us {
            histogram::record(&mut self.upstream_time, us, 1);
        }
        match r.time {
            Some(t) => {
                self.minutes.add(t);
                let c = &mut self.counts;
                c.first_time = Some(c.first_time.map_or(t, |f| f.min(t)));
                c.last_time = Some(c.last_time.map_or(t, |l| l.max(t)));
            }
            None => self.counts.untimed += 1,
        }
        self.sampler.by_depth[usize::from(depth)] += 1;
        if self.sampler.keeps(depth) {
            self.accesses.push(Access {
                time: r.time.unwrap_or(i64::MIN),
                key: id,
                bytes: u32::try_from(bytes).unwrap_or(u32::MAX),
            });
            self.latencies.push(
                r.latency_us()
                    .map_or(NO_LATENCY, |us| u32::try_from(us).unwrap_or(NO_LATENCY - 1)),
            );
            if self.accesses.len() as u64 > self.sampler.limit {
                self.lower_while_over_limit();
            }
        }
    }

    fn merge(&mut self, mut other: Self) {
        let level = self.sampler.level.max(other.sampler.level);
        self.lower_to(level);
        other.lower_to(level);
        let mut remap = vec![0u32; other.keys.len()];
        for (key, id) in std::mem::take(&mut other.table) {
            remap[id as usize] = self.intern_owned(key, &other.keys[id as usize]);
        }
        self.accesses.extend(other.accesses.iter().map(|a| Access {
            key: remap[a.key as usize],
            ..*a
        }));
        self.latencies.extend_from_slice(&other.latencies);
        for (d, n) in other.sampler.by_depth.iter().enumerate() {
            self.sampler.by_depth[d] += n;
        }
        self.lower_while_over_limit();

        self.counts.merge(&other.counts);
        for (m, n) in other.methods {
            add_method(&mut self.methods, &mut self.other_methods, &m, n);
        }
        self.other_methods += other.other_methods;
        for (s, n) in other.statuses.iter().enumerate() {
            self.statuses[s] += n;
        }
        self.minutes.merge(other.minutes);
        // Histograms created alike add without error; a failure could only
        // lose latency figures, never counts.
        let _ = self.request_time.add(&other.request_time);
        let _ = self.upstream_time.add(&other.upstream_time);
        let _ = self.response_bytes.add(&other.response_bytes);
    }
}

/// The id of `key`, interning it on first sight. A free function over the
/// collector's fields, so that the key can borrow the collector's scratch
/// buffer meanwhile.
fn intern(
    table: &mut HashTable<(Box<[u8]>, u32)>,
    hasher: &foldhash::fast::RandomState,
    keys: &mut Vec<KeyTotals>,
    sampler: &Sampler,
    key: &[u8],
) -> u32 {
    let hash = hasher.hash_one(key);
    match table.entry(hash, |(k, _)| **k == *key, |(k, _)| hasher.hash_one(k)) {
        Entry::Occupied(e) => e.get().1,
        Entry::Vacant(e) => {
            let id = keys.len() as u32;
            e.insert((key.into(), id));
            keys.push(KeyTotals {
                depth: sampler.depth(key_point(key)),
                ..KeyTotals::default()
            });
            id
        }
    }
}

fn add_method(methods: &mut Vec<(Box<[u8]>, u64)>, other: &mut u64, method: &[u8], n: u64) {
    if let Some(entry) = methods.iter_mut().find(|(m, _)| **m == *method) {
        entry.1 += n;
    } else if methods.len() < MAX_METHODS {
        methods.push((method.into(), n));
    } else {
        *other += n;
    }
}

/// The merged result of a scan.
pub struct Collected {
    /// The rate the accesses were sampled at.
    pub rate: SampleRate,
    /// Key bytes by id.
    pub keys: Vec<Box<[u8]>>,
    /// Totals by key id, over every counted request (sampled or not).
    pub totals: Vec<KeyTotals>,
    /// Sampled requests in input order.
    pub accesses: Vec<Access>,
    /// Parallel to `accesses`: each one's response time in microseconds
    /// (request time, else upstream time), or [`NO_LATENCY`].
    pub latencies: Vec<u32>,
    /// What became of the parsed requests, and their time span.
    pub counts: Counts,
    /// Every parsed request by method, as logged (`-` when missing; past
    /// 32 methods, the rest under `(other)`).
    pub methods: Vec<(Vec<u8>, u64)>,
    /// Every parsed request by status code, ascending; `None` (last): missing
    /// or out of range.
    pub statuses: Vec<(Option<u16>, u64)>,
    /// Counted requests per minute since the epoch.
    pub minutes: HashMap<i64, u64>,
    /// Request times of the counted requests, in microseconds.
    pub request_time: Histogram<u64>,
    /// Upstream times of the counted requests, in microseconds.
    pub upstream_time: Histogram<u64>,
    /// Response sizes of the counted requests that logged one, in bytes.
    pub response_bytes: Histogram<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotkeys_parser::filter::Filter;

    fn get(target: &[u8], time: i64) -> Request<'_> {
        Request {
            time: Some(time),
            method: Some(b"GET"),
            target: Some(target),
            status: Some(200),
            bytes: Some(100),
            request_time_us: Some(5),
            ..Request::default()
        }
    }

    fn rules() -> KeyRules {
        KeyRules {
            filter: Filter::cacheable(),
            ..KeyRules::default()
        }
    }

    fn keys_in_order(c: &Collected) -> Vec<&[u8]> {
        c.accesses
            .iter()
            .map(|a| &*c.keys[a.key as usize])
            .collect()
    }

    #[test]
    fn merging_keeps_input_order_and_totals() {
        let rules = rules();
        let targets: Vec<Vec<u8>> = (0..200)
            .map(|i| format!("/k{}", i % 13).into_bytes())
            .collect();
        let mut one = Collector::new(&rules, CurveMethod::Exact);
        for (i, t) in targets.iter().enumerate() {
            one.add(&get(t, i as i64));
        }
        // Three workers over consecutive parts, merged left to right.
        let mut parts: Vec<Collector> = (0..3)
            .map(|_| Collector::new(&rules, CurveMethod::Exact))
            .collect();
        for (i, t) in targets.iter().enumerate() {
            parts[i * 3 / targets.len()].add(&get(t, i as i64));
        }
        let mut merged = parts.remove(0);
        for p in parts {
            merged.merge(p);
        }
        let (a, b) = (one.finish(), merged.finish());
        assert_eq!(keys_in_order(&a), keys_in_order(&b));
        assert_eq!(a.counts, b.counts);
        let totals = |c: &Collected| -> Vec<(Vec<u8>, u64)> {
            let mut v: Vec<_> = c
                .keys
                .iter()
                .zip(&c.totals)
                .map(|(k, t)| (k.to_vec(), t.requests))
                .collect();
            v.sort();
            v
        };
        assert_eq!(totals(&a), totals(&b));
        assert_eq!(a.minutes, b.minutes);
        assert_eq!(a.request_time.len(), 200);
    }

    #[test]
    fn filtered_requests_count_in_the_mix_only() {
        let rules = rules();
        let mut c = Collector::new(&rules, CurveMethod::Exact);
        c.add(&get(b"/a", 0));
        c.add(&Request {
            method: Some(b"POST"),
            ..get(b"/a", 1)
        });
        c.add(&Request {
            target: None,
            ..get(b"/a", 2)
        });
        let r = c.finish();
        assert_eq!(r.counts.requests, 3);
        assert_eq!(r.counts.keys.matched, 1);
        assert_eq!(r.counts.keys.filtered, 1);
        assert_eq!(r.counts.keys.no_target, 1);
        assert_eq!(r.accesses.len(), 1);
        assert_eq!(r.methods, vec![(b"GET".to_vec(), 2), (b"POST".to_vec(), 1)]);
        assert_eq!(r.statuses, vec![(Some(200), 3)]);
    }

    #[test]
    fn automatic_sampling_is_the_same_however_the_work_is_split() {
        let rules = rules();
        let method = CurveMethod::Auto {
            max_exact_requests: 500,
        };
        let targets: Vec<Vec<u8>> = (0..5_000)
            .map(|i| format!("/k{}", i * 7 % 997).into_bytes())
            .collect();
        let run = |workers: usize| {
            let mut parts: Vec<Collector> = (0..workers)
                .map(|_| Collector::new(&rules, method))
                .collect();
            for (i, t) in targets.iter().enumerate() {
                parts[i * workers / targets.len()].add(&get(t, i as i64));
            }
            let mut merged = parts.remove(0);
            for p in parts {
                merged.merge(p);
            }
            let c = merged.finish();
            let keys: Vec<Vec<u8>> = keys_in_order(&c).iter().map(|k| k.to_vec()).collect();
            (c.rate, keys)
        };
        let (rate, keys) = run(1);
        // 5000 requests over a limit of 500: 10% keeps about 500.
        assert!(rate.rate() < 1.0, "{rate:?}");
        assert!(keys.len() <= 500, "{}", keys.len());
        assert!(!keys.is_empty());
        for workers in [2, 3, 7] {
            assert_eq!(run(workers), (rate, keys.clone()), "{workers} workers");
        }
        // Under the limit, everything is kept.
        let small = Collector::new(
            &rules,
            CurveMethod::Auto {
                max_exact_requests: 10_000,
            },
        );
        assert!(small.finish().rate.is_all());
    }
}
