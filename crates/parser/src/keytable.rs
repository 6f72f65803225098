//! The per-thread table of keys and their totals: the hot path of `rank`.
//!
//! With hundreds of thousands of distinct keys, a lookup is a chain of
//! cache misses (slot, then key bytes, then totals), and profiling showed
//! them to be half of all the time spent. Two things make them cheap:
//!
//! * **Compact layout.** A slot is 16 bytes: a 32-bit hash tag, the key's
//!   id, and where its bytes are; key bytes live back to back in one arena;
//!   totals sit in a dense array indexed by id. A lookup touches three small
//!   places (slot, key bytes, totals), each reachable from the slot alone,
//!   and a key costs its bytes plus about 100 bytes, not a heap allocation
//!   with its header.
//! * **Software pipelining.** [`KeyTable::add`] does not look a key up at
//!   once: it copies the key into a small ring, hashes it, prefetches its
//!   slot, and resolves the key queued [`DEPTH`] calls earlier, whose slot
//!   has arrived in cache meanwhile. Halfway down the ring the slot is read
//!   and the key bytes and totals it points to are prefetched too. The
//!   misses of many lines overlap instead of queueing.
//!
//! Deferred keys are resolved by [`KeyTable::flush`], which every reader of
//! the totals calls first, so the pipeline is invisible outside this file.
//!
//! The hash is foldhash's quality variant with a random per-table seed, so
//! targets chosen by whoever writes the logs cannot be lined up to collide
//! (linear probing would otherwise degrade to a scan).

use std::hash::BuildHasher;
use std::sync::Arc;

use crate::latency::LatencySketch;
use crate::prefetch::prefetch;

/// How many keys are in flight. Enough to cover a memory latency with the
/// work of parsing that many lines; small enough to stay in L1.
pub const DEPTH: usize = 16;

/// Totals of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Requests counted under the key; an upper bound in bounded-memory
    /// mode (see `error`).
    pub requests: u64,
    /// Response bytes summed over those requests (0 for a request that
    /// logged none); a lower bound once keys have been dropped in
    /// bounded-memory mode.
    pub bytes: u64,
    /// Latency summed over those requests, in microseconds (request time,
    /// else upstream time; 0 for a request that logged neither); a lower
    /// bound like `bytes`.
    pub cost_us: u64,
    /// How much `requests` may overstate the truth: non-zero only in
    /// bounded-memory mode, where a key can have been evicted and re-entered
    /// (see `crate::rank`).
    pub error: u64,
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, other: Totals) {
        self.requests += other.requests;
        self.bytes += other.bytes;
        self.cost_us += other.cost_us;
        self.error += other.error;
    }
}

/// What one request adds to its key.
#[derive(Clone, Copy, Debug, Default)]
pub struct Update<'a> {
    /// Response bytes of the request; 0 when it logged none.
    pub bytes: u64,
    /// The request's latency in microseconds
    /// ([`Request::latency_us`](crate::record::Request::latency_us)): added
    /// to the key's cost and, when `Some`, to its latency distribution.
    pub latency_us: Option<u64>,
    /// The route that made the key and the target it came from.
    pub route: Option<(usize, &'a [u8])>,
}

/// A key waiting in the pipeline, with what it adds: one request from a
/// log line, or a whole key's totals from another table being merged.
#[derive(Default)]
struct Pending {
    key: Vec<u8>,
    hash: u64,
    totals: Totals,
    /// One request's latency.
    latency_us: Option<u64>,
    /// Another table's latencies for this key.
    sketch: Option<Box<LatencySketch>>,
    route: Option<usize>,
    target: Vec<u8>,
}

/// One cell of the open-addressing index.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// `tag << 32 | (id + 1)`; 0 when the slot is empty.
    meta: u64,
    /// Where the key's bytes are (see [`KeyTable::spans`]), so following a
    /// slot to its key needs no other lookup.
    span: u64,
}

impl Slot {
    fn is_empty(self) -> bool {
        self.meta == 0
    }
    fn tag(self) -> u32 {
        (self.meta >> 32) as u32
    }
    fn id(self) -> usize {
        (self.meta as u32 - 1) as usize
    }
}
/// Key spans pack an arena offset and a length into one word.
const LEN_BITS: u32 = 24;
const MAX_KEY_LEN: usize = (1 << LEN_BITS) - 1;

/// One worker's keys with their [`Totals`], latency distributions and
/// routes (see the module docs for its layout and pipeline).
///
/// Each key has an id, `0..id_count()` in the order keys were first
/// resolved, that the per-key getters take; ids are only stable until
/// [`KeyTable::retain`] or [`KeyTable::clear`]. A key longer than 16 MiB
/// less one byte is cut to that length.
pub struct KeyTable {
    /// Length is a power of two.
    slots: Vec<Slot>,
    arena: Vec<u8>,
    /// Per id: `offset << LEN_BITS | len` into `arena`. Only read when
    /// going through keys by id (merge, ranking); lookups use the slot's
    /// copy.
    spans: Vec<u64>,
    totals: Vec<Totals>,
    /// Per id, only for keys that had a latency (sized lazily).
    latency: Vec<Option<Box<LatencySketch>>>,
    /// Per id, with routes only: the route and the smallest target seen.
    routes: Vec<Option<(usize, Box<[u8]>)>>,
    /// Shared by tables that exchange keys (see [`KeyTable::merge`]).
    hasher: Arc<foldhash::quality::RandomState>,
    /// Whether to keep per-key latency distributions (their size is not
    /// bounded, so bounded-memory mode does without them).
    sketches: bool,
    ring: Vec<Pending>,
    /// Ring positions: `head` is the oldest pending key, `len` how many.
    head: usize,
    len: usize,
}

impl Default for KeyTable {
    fn default() -> Self {
        KeyTable {
            slots: vec![Slot::default(); 1024],
            arena: Vec::new(),
            spans: Vec::new(),
            totals: Vec::new(),
            latency: Vec::new(),
            routes: Vec::new(),
            hasher: Arc::default(),
            sketches: true,
            ring: (0..DEPTH).map(|_| Pending::default()).collect(),
            head: 0,
            len: 0,
        }
    }
}

impl KeyTable {
    /// Keys already resolved (flush first to include pending ones).
    pub fn id_count(&self) -> usize {
        self.spans.len()
    }

    /// Distinct keys (pending ones included once they are resolved).
    pub fn len(&mut self) -> usize {
        self.flush();
        self.spans.len()
    }

    /// Whether the table has no key, pending ones included (flushes).
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Counts one request for `key`. The update may be applied later (see
    /// the module docs); every reader flushes first.
    pub fn add(&mut self, key: &[u8], update: Update<'_>) {
        self.enqueue(key, |p| {
            p.totals = Totals {
                requests: 1,
                bytes: update.bytes,
                cost_us: update.latency_us.unwrap_or(0),
                error: 0,
            };
            p.latency_us = update.latency_us;
            p.sketch = None;
            p.route = update.route.map(|(r, _)| r);
            if let Some((_, target)) = update.route {
                p.target.extend_from_slice(target);
            }
        });
    }

    /// Puts `key` in the ring (hashing it and prefetching its slot),
    /// resolving the oldest pending key first when the ring is full.
    #[inline]
    fn enqueue(&mut self, key: &[u8], fill: impl FnOnce(&mut Pending)) {
        let key = &key[..key.len().min(MAX_KEY_LEN)];
        let hash = self.hasher.hash_one(key);
        self.enqueue_hashed(key, hash, fill);
    }

    /// [`KeyTable::enqueue`] with the hash already known (it must come from
    /// this table's hasher).
    #[inline]
    fn enqueue_hashed(&mut self, key: &[u8], hash: u64, fill: impl FnOnce(&mut Pending)) {
        prefetch(&self.slots[self.slot_index(hash)]);

        if self.len == DEPTH {
            self.resolve_oldest();
        }
        let tail = (self.head + self.len) % DEPTH;
        let p = &mut self.ring[tail];
        p.key.clear();
        p.key.extend_from_slice(key);
        p.hash = hash;
        p.target.clear();
        fill(p);
        self.len += 1;

        // Halfway down the ring the slot should be in cache: follow it to
        // the key bytes and totals it names, so they arrive in time too.
        if self.len > DEPTH / 2 {
            let middle = (self.head + self.len - 1 - DEPTH / 2) % DEPTH;
            let slot = self.slots[self.slot_index(self.ring[middle].hash)];
            if !slot.is_empty() && slot.tag() == tag(self.ring[middle].hash) {
                let (offset, len) = unpack(slot.span);
                // A key may straddle two cache lines.
                prefetch(self.arena[offset..].as_ptr());
                prefetch(self.arena[offset + len.saturating_sub(1)..].as_ptr());
                prefetch(&self.totals[slot.id()]);
            }
        }
    }

    /// A table hashing with `hasher`: tables that exchange keys share one,
    /// so a key's hash (and its shard in a [`KeyStore`]) is the same in all.
    pub fn with_hasher(hasher: Arc<foldhash::quality::RandomState>) -> Self {
        KeyTable {
            hasher,
            ..KeyTable::default()
        }
    }

    /// The hash this table uses for `key`.
    pub fn hash_of(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Empties the table but keeps its buffers for reuse.
    pub fn clear(&mut self) {
        self.flush();
        self.slots.fill(Slot::default());
        self.arena.clear();
        self.spans.clear();
        self.totals.clear();
        self.latency.clear();
        self.routes.clear();
    }

    /// A table that keeps no per-key latency distributions.
    pub fn without_latency_sketches() -> Self {
        KeyTable {
            sketches: false,
            ..KeyTable::default()
        }
    }

    /// Adds whole totals to `key` (used to carry keys between tables).
    pub fn add_totals(&mut self, key: &[u8], totals: Totals) {
        self.enqueue(key, |p| {
            p.totals = totals;
            p.latency_us = None;
            p.sketch = None;
            p.route = None;
        });
    }

    /// Adds `extra` to the count and the error of keys `from..`.
    pub fn raise_from(&mut self, from: usize, extra: u64) {
        self.flush();
        for t in self.totals.iter_mut().skip(from) {
            t.requests += extra;
            t.error += extra;
        }
    }

    /// Bytes this table holds on the heap, by capacity: what counts
    /// against a memory budget.
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let sketches: usize = self
            .latency
            .iter()
            .flatten()
            .map(|s| size_of::<LatencySketch>() + s.heap_bytes())
            .sum();
        let routes: usize = self
            .routes
            .iter()
            .flatten()
            .map(|(_, t)| t.len() + 16)
            .sum();
        self.slots.capacity() * size_of::<Slot>()
            + self.arena.capacity()
            + self.spans.capacity() * size_of::<u64>()
            + self.totals.capacity() * size_of::<Totals>()
            + self.latency.capacity() * size_of::<Option<Box<LatencySketch>>>()
            + self.routes.capacity() * size_of::<Option<(usize, Box<[u8]>)>>()
            + sketches
            + routes
    }

    /// Keeps only the keys in `keep` (ids), in a freshly sized table: the
    /// memory of dropped keys is returned, not just marked free.
    pub fn retain(&mut self, keep: &[u32]) {
        self.flush();
        let mut kept = KeyTable {
            sketches: self.sketches,
            hasher: Arc::clone(&self.hasher),
            ..KeyTable::default()
        };
        let want = (keep.len() * 2).next_power_of_two().max(1024);
        kept.slots = vec![Slot::default(); want];
        kept.arena
            .reserve_exact(keep.iter().map(|&id| self.key(id as usize).len()).sum());
        kept.spans.reserve_exact(keep.len());
        kept.totals.reserve_exact(keep.len());
        for &id in keep {
            let id = id as usize;
            let key = self.key(id);
            let new = kept.id_for(key, tag(kept.hasher.hash_one(key)));
            kept.totals[new] = self.totals[id];
            if let Some(route) = self.routes.get_mut(id).and_then(Option::take) {
                if kept.routes.len() <= new {
                    kept.routes.resize_with(new + 1, || None);
                }
                kept.routes[new] = Some(route);
            }
            if let Some(sketch) = self.latency.get_mut(id).and_then(Option::take) {
                if kept.latency.len() <= new {
                    kept.latency.resize_with(new + 1, || None);
                }
                kept.latency[new] = Some(sketch);
            }
        }
        *self = kept;
    }

    /// Resolves every pending key.
    pub fn flush(&mut self) {
        while self.len > 0 {
            self.resolve_oldest();
        }
    }

    /// A key's home slot comes from the tag bits, so that a slot alone
    /// says where it belongs in a table of any size: growing moves slots
    /// without reading or hashing a single key. (Tags of neighbouring slots
    /// then share their low bits; the high bits still tell keys apart, and
    /// a false match costs one comparison.)
    fn slot_index(&self, hash: u64) -> usize {
        tag(hash) as usize & (self.slots.len() - 1)
    }

    fn resolve_oldest(&mut self) {
        let head = self.head;
        // Only the buffers leave the ring (and come back), so their
        // capacity is reused and nothing else is moved.
        let key = std::mem::take(&mut self.ring[head].key);
        let p = &mut self.ring[head];
        let (hash, add, latency_us, route) = (p.hash, p.totals, p.latency_us, p.route);
        let sketch = p.sketch.take();
        let id = self.id_for(&key, tag(hash));
        self.ring[head].key = key;
        self.totals[id] += add;
        if self.sketches {
            if let Some(us) = latency_us {
                self.sketch_for(id).record(us);
            }
            if let Some(sketch) = sketch {
                self.sketch_for(id).merge(&sketch);
            }
        }
        if let Some(route) = route {
            let target = std::mem::take(&mut self.ring[head].target);
            self.note_route(id, route, &target);
            self.ring[head].target = target;
        }
        self.head = (head + 1) % DEPTH;
        self.len -= 1;
    }

    /// The id of `key`, whose hash has the tag `want`, inserting it if new.
    fn id_for(&mut self, key: &[u8], want: u32) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = want as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.is_empty() {
                break;
            }
            if slot.tag() == want && self.bytes(slot.span) == key {
                return slot.id();
            }
            i = (i + 1) & mask;
        }
        let id = self.spans.len();
        let span = (self.arena.len() as u64) << LEN_BITS | key.len() as u64;
        // Growing by half rather than doubling: these arrays are most of
        // the memory per key, and doubling leaves a quarter unused on
        // average.
        grow_by_half(&mut self.arena, key.len());
        grow_by_half(&mut self.spans, 1);
        grow_by_half(&mut self.totals, 1);
        self.arena.extend_from_slice(key);
        self.spans.push(span);
        self.totals.push(Totals::default());
        self.slots[i] = Slot {
            meta: u64::from(want) << 32 | (id as u64 + 1),
            span,
        };
        // At most 70% full: linear probing stays within a cache line or
        // two, and the 16-byte slots cost about 30 bytes per key.
        if self.spans.len() * 10 > self.slots.len() * 7 {
            self.grow();
        }
        id
    }

    /// Makes room for `keys` more keys of about `key_bytes` bytes in all,
    /// so that filling a table in bulk does not resize it step by step.
    pub fn reserve(&mut self, keys: usize, key_bytes: usize) {
        self.flush();
        let want = self.spans.len() + keys;
        let mut size = self.slots.len();
        while want * 10 > size * 7 {
            size *= 2;
        }
        if size > self.slots.len() {
            self.rehash(size);
        }
        self.spans.reserve_exact(keys);
        self.totals.reserve_exact(keys);
        self.arena.reserve_exact(key_bytes);
    }

    fn grow(&mut self) {
        self.rehash(self.slots.len() * 2);
    }

    fn rehash(&mut self, size: usize) {
        assert!(size <= 1 << 32, "slot indexes come from 32-bit tags");
        let mut slots = vec![Slot::default(); size];
        for &slot in self.slots.iter().filter(|s| !s.is_empty()) {
            let mut i = slot.tag() as usize & (size - 1);
            while !slots[i].is_empty() {
                i = (i + 1) & (size - 1);
            }
            slots[i] = slot;
        }
        self.slots = slots;
    }

    fn sketch_for(&mut self, id: usize) -> &mut LatencySketch {
        if self.latency.len() <= id {
            self.latency.resize_with(self.spans.len(), || None);
        }
        self.latency[id].get_or_insert_default()
    }

    /// Keeps the smallest (route, target) pair, so the choice does not
    /// depend on which thread saw which line.
    fn note_route(&mut self, id: usize, route: usize, target: &[u8]) {
        if self.routes.len() <= id {
            self.routes.resize_with(self.spans.len(), || None);
        }
        match &self.routes[id] {
            Some((r, t)) if (*r, &**t) <= (route, target) => {}
            _ => self.routes[id] = Some((route, target.into())),
        }
    }

    /// The bytes of key `id`.
    pub fn key(&self, id: usize) -> &[u8] {
        self.bytes(self.spans[id])
    }

    fn bytes(&self, span: u64) -> &[u8] {
        let (offset, len) = unpack(span);
        &self.arena[offset..offset + len]
    }

    /// Totals of key `id` (flush first).
    pub fn totals(&self, id: usize) -> Totals {
        self.totals[id]
    }

    /// Latency distribution of key `id` (flush first); `None` when none of
    /// its requests logged a latency, or the table keeps no distributions.
    pub fn latency(&self, id: usize) -> Option<&LatencySketch> {
        self.latency.get(id).and_then(|l| l.as_deref())
    }

    /// With routes: the index of the route that made key `id` and a target
    /// it came from, the smallest such pair seen so the pick does not depend
    /// on thread timing (flush first). `None` without routes.
    pub fn route(&self, id: usize) -> Option<&(usize, Box<[u8]>)> {
        self.routes.get(id).and_then(Option::as_ref)
    }

    /// Adds every key of `other` into `self`; their latency distributions
    /// and routes move over.
    pub fn merge(&mut self, mut other: KeyTable) {
        other.flush();
        self.flush();
        if Arc::ptr_eq(&self.hasher, &other.hasher) {
            self.merge_by_slots(&mut other);
            return;
        }
        // Through the same pipeline as single requests: a merge of two
        // large tables is as miss-bound as counting.
        for id in 0..other.spans.len() {
            self.take_from(&mut other, id, None);
        }
        self.flush();
    }

    /// [`KeyTable::merge`] of a table with the same hasher, as workers'
    /// tables have (they come from one [`KeyStore`]). `other`'s slots
    /// already hold each key's tag, so no key is hashed again or copied
    /// through the ring; since the tag also picks the home slot, walking
    /// `other`'s slots in order walks `self`'s in about the same order, and
    /// the key bytes and totals on both sides are asked for a few slots
    /// ahead. This merge is the serial tail of every `rank`: on the 1 GB
    /// benchmark it went from about 44 to 40 ms; what remains is mostly
    /// key comparisons waiting on memory and one growth of the slots.
    fn merge_by_slots(&mut self, other: &mut KeyTable) {
        const AHEAD: usize = 16;
        for j in 0..other.slots.len() {
            if let Some(&ahead) = other.slots.get(j + AHEAD)
                && !ahead.is_empty()
            {
                prefetch(other.arena[unpack(ahead.span).0..].as_ptr());
                prefetch(&other.totals[ahead.id()]);
                let home = self.slots[ahead.tag() as usize & (self.slots.len() - 1)];
                if !home.is_empty() && home.tag() == ahead.tag() {
                    prefetch(self.arena[unpack(home.span).0..].as_ptr());
                    prefetch(&self.totals[home.id()]);
                }
            }
            let slot = other.slots[j];
            if slot.is_empty() {
                continue;
            }
            let from = slot.id();
            let id = self.id_for(other.bytes(slot.span), slot.tag());
            self.totals[id] += other.totals[from];
            if self.sketches
                && let Some(sketch) = other.latency.get_mut(from).and_then(Option::take)
            {
                self.sketch_for(id).merge(&sketch);
            }
            if let Some((route, target)) = other.routes.get_mut(from).and_then(Option::take) {
                self.note_route(id, route, &target);
            }
        }
    }

    /// Adds the keys `ids` of `other`, with their hashes (from a hasher
    /// both tables share), into `self` (flush `other` first); their latency
    /// distributions and routes move over.
    pub fn merge_hashed(&mut self, other: &mut KeyTable, ids: &[(u32, u64)]) {
        // An empty table is being filled in bulk: size it once. (A later
        // merge mostly meets keys it has, so it grows as needed instead of
        // reserving for keys that will not be new.)
        if self.spans.is_empty() {
            let bytes = ids
                .iter()
                .map(|&(id, _)| other.key(id as usize).len())
                .sum();
            self.reserve(ids.len(), bytes);
        }
        for &(id, hash) in ids {
            self.take_from(other, id as usize, Some(hash));
        }
        self.flush();
    }

    fn take_from(&mut self, other: &mut KeyTable, id: usize, hash: Option<u64>) {
        let totals = other.totals[id];
        let sketch = other
            .latency
            .get_mut(id)
            .and_then(Option::take)
            .filter(|_| self.sketches);
        let route = other.routes.get_mut(id).and_then(Option::take);
        let key = other.key(id);
        let hash = hash.unwrap_or_else(|| self.hasher.hash_one(key));
        self.enqueue_hashed(key, hash, |p| {
            p.totals = totals;
            p.latency_us = None;
            p.sketch = sketch;
            p.route = route.as_ref().map(|(r, _)| *r);
            if let Some((_, target)) = &route {
                p.target.extend_from_slice(target);
            }
        });
    }
}

/// Every key of a run, in shards that workers fill from their own tables.
///
/// With one private table per worker, every worker ends up holding most of
/// the keys: on 3M distinct keys, two workers held nearly two full copies
/// (250 bytes per key at peak). Workers therefore move the keys of their
/// table here once it grows past a limit, and, once any worker has, when
/// they finish. Shards keep locks short and let workers move keys at the
/// same time, and each shard grows on its own, so no resize ever copies
/// everything at once. Key sets that never pass the limit skip the store:
/// rebuilding them here cost 20% of a run on 500k keys.
pub struct KeyStore {
    shards: Vec<std::sync::Mutex<KeyTable>>,
    hasher: Arc<foldhash::quality::RandomState>,
    /// Whether any keys were moved here. Until then workers merge their
    /// tables pairwise: for key sets that fit in a worker, that is faster
    /// than rebuilding them here.
    used: std::sync::atomic::AtomicBool,
}

/// log2 of the shard count.
const SHARD_BITS: u32 = 6;

impl Default for KeyStore {
    fn default() -> Self {
        let hasher = Arc::<foldhash::quality::RandomState>::default();
        KeyStore {
            shards: (0..1 << SHARD_BITS)
                .map(|_| std::sync::Mutex::new(KeyTable::with_hasher(Arc::clone(&hasher))))
                .collect(),
            hasher,
            used: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl KeyStore {
    /// A worker's local table, hashing like the store.
    pub fn local_table(&self) -> KeyTable {
        KeyTable::with_hasher(Arc::clone(&self.hasher))
    }

    /// Moves every key of `local` into the store and empties `local`.
    /// `start` spreads workers over different shards first.
    pub fn absorb(&self, local: &mut KeyTable, start: usize) {
        self.used.store(true, std::sync::atomic::Ordering::Relaxed);
        local.flush();
        let shards = self.shards.len();
        let mut by_shard: Vec<Vec<(u32, u64)>> = vec![Vec::new(); shards];
        for id in 0..local.spans.len() {
            // The top bits pick the shard; slots use the low bits.
            let hash = local.hash_of(local.key(id));
            by_shard[(hash >> (64 - SHARD_BITS)) as usize].push((id as u32, hash));
        }
        for i in 0..shards {
            let shard = (start + i) % shards;
            if by_shard[shard].is_empty() {
                continue;
            }
            let mut table = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
            table.merge_hashed(local, &by_shard[shard]);
        }
        local.clear();
    }

    /// Whether any worker has moved keys here.
    pub fn is_used(&self) -> bool {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every shard, locked (for reading once the workers are done).
    pub fn lock_all(&self) -> Vec<std::sync::MutexGuard<'_, KeyTable>> {
        self.shards
            .iter()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }
}

/// Makes room for `extra` more items, growing by half when full.
fn grow_by_half<T>(v: &mut Vec<T>, extra: usize) {
    if v.capacity() - v.len() < extra {
        v.reserve_exact((v.len() / 2).max(extra).max(64));
    }
}

fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

/// `(offset, len)` of a key span.
fn unpack(span: u64) -> (usize, usize) {
    (
        (span >> LEN_BITS) as usize,
        (span & MAX_KEY_LEN as u64) as usize,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn reference(keys: &[Vec<u8>]) -> HashMap<Vec<u8>, u64> {
        let mut m = HashMap::new();
        for k in keys {
            *m.entry(k.clone()).or_default() += 1;
        }
        m
    }

    fn table_counts(t: &mut KeyTable) -> HashMap<Vec<u8>, u64> {
        t.flush();
        (0..t.len())
            .map(|id| (t.key(id).to_vec(), t.totals(id).requests))
            .collect()
    }

    #[test]
    fn counts_like_a_hash_map_through_growth_and_the_pipeline() {
        let keys: Vec<Vec<u8>> = (0..20_000u64)
            .map(|i| format!("/k/{}", i.wrapping_mul(2_654_435_761) % 5_003).into_bytes())
            .collect();
        let mut t = KeyTable::default();
        for k in &keys {
            t.add(
                k,
                Update {
                    bytes: 3,
                    ..Update::default()
                },
            );
        }
        assert_eq!(table_counts(&mut t), reference(&keys));
        let total: u64 = (0..t.len()).map(|id| t.totals(id).bytes).sum();
        assert_eq!(total, 3 * keys.len() as u64);
    }

    #[test]
    fn empty_and_binary_keys_are_keys() {
        let keys = vec![
            b"".to_vec(),
            b"\0\xff".to_vec(),
            b"".to_vec(),
            vec![b'x'; 300],
        ];
        let mut t = KeyTable::default();
        for k in &keys {
            t.add(k, Update::default());
        }
        assert_eq!(table_counts(&mut t), reference(&keys));
    }

    #[test]
    fn merge_equals_one_table() {
        // Tables with their own hashers merge through the pipeline; tables
        // sharing one merge slot by slot, also into a smaller table that
        // must grow on the way.
        for (shared, a_share) in [(false, 2), (true, 2), (true, 5)] {
            let keys: Vec<Vec<u8>> = (0..3000u64)
                .map(|i| format!("/m/{}", i % 701).into_bytes())
                .collect();
            let table = || {
                if shared {
                    KeyTable::with_hasher(Arc::clone(&SHARED_HASHER))
                } else {
                    KeyTable::default()
                }
            };
            let (mut a, mut b, mut all) = (table(), table(), KeyTable::default());
            for (i, k) in keys.iter().enumerate() {
                let u = Update {
                    bytes: i as u64,
                    latency_us: Some(i as u64),
                    route: Some((i % 3, k)),
                };
                if i % a_share == 0 {
                    a.add(k, u)
                } else {
                    b.add(k, u)
                }
                all.add(k, u);
            }
            a.merge(b);
            all.flush();
            let flat = |t: &mut KeyTable| {
                let mut v: Vec<_> = (0..t.len())
                    .map(|id| {
                        (
                            t.key(id).to_vec(),
                            t.totals(id),
                            t.latency(id).cloned(),
                            t.route(id).cloned(),
                        )
                    })
                    .collect();
                v.sort_by(|x, y| x.0.cmp(&y.0));
                v
            };
            assert_eq!(flat(&mut a), flat(&mut all), "shared hasher: {shared}");
        }
    }

    static SHARED_HASHER: std::sync::LazyLock<Arc<foldhash::quality::RandomState>> =
        std::sync::LazyLock::new(Arc::default);

    #[test]
    fn smallest_route_and_target_wins() {
        let mut t = KeyTable::default();
        t.add(
            b"k",
            Update {
                route: Some((1, b"/b")),
                ..Update::default()
            },
        );
        t.add(
            b"k",
            Update {
                route: Some((1, b"/a")),
                ..Update::default()
            },
        );
        t.add(
            b"k",
            Update {
                route: Some((2, b"/0")),
                ..Update::default()
            },
        );
        t.flush();
        assert_eq!(
            t.route(0).map(|(r, x)| (*r, x.to_vec())),
            Some((1, b"/a".to_vec()))
        );
    }
}
