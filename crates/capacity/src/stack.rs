//! LRU stack distances (Mattson et al., 1970) in O(log M) per request.
//!
//! LRU is a stack algorithm: a cache of capacity C holds exactly the most
//! recently used objects that fit in C. So one pass over a trace that
//! measures, for every request, how much *distinct* data was touched since
//! the previous request for the same key (its stack distance) answers every
//! capacity at once: the request hits in a cache of capacity C exactly when
//! its distance is at most C.
//!
//! Each key's most recent request owns one slot in a time-ordered array; a
//! Fenwick (binary indexed) tree over the slots sums the objects and bytes
//! of the slots after a given one. A request frees its key's previous slot
//! and takes the next one. Slots run out after a while, and then the live
//! ones (one per key) are packed to the front, so the tree has O(M) slots
//! for M keys, not one per request.
//!
//! Capacity in bytes: an object's size is fixed per key (the largest
//! response seen for it). With fixed sizes byte-capacity LRU is still a
//! stack algorithm: the cache holds the longest run of most recently used
//! objects whose sizes add up to at most C. An object larger than C
//! therefore empties the cache, as it would in a cache that makes room for
//! a new object before checking that it fits.

/// Objects and bytes more recent than a request, itself included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Distance {
    /// Distinct keys requested since the key's previous request, plus one
    /// for itself: the request hits in a cache of at least this many objects.
    pub objects: u64,
    /// The sizes of those keys, its own included: the request hits in a
    /// cache of at least this many bytes.
    pub bytes: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Node {
    objects: u64,
    bytes: u64,
}

const FREE: u32 = u32::MAX;

/// The LRU stack of one trace, fed one request at a time.
pub struct LruStack {
    /// Fenwick tree, 1-based: `tree[i]` sums slots `i - lowbit(i) + 1 ..= i`.
    tree: Vec<Node>,
    /// The key holding each slot, or `FREE`.
    slot_key: Vec<u32>,
    /// Each key's slot, or `FREE` before its first request.
    key_slot: Vec<u32>,
    sizes: Vec<u64>,
    next_slot: u32,
    live: Node,
}

impl LruStack {
    /// A stack for keys `0..sizes.len()`, key `k` of `sizes[k]` bytes.
    pub fn new(sizes: Vec<u64>) -> LruStack {
        let keys = sizes.len();
        // Twice the keys: packing then happens at most every `keys`
        // requests and costs O(keys), so O(1) per request.
        let slots = (2 * keys).clamp(64, FREE as usize - 1);
        LruStack {
            tree: vec![Node::default(); slots + 1],
            slot_key: vec![FREE; slots],
            key_slot: vec![FREE; keys],
            sizes,
            next_slot: 0,
            live: Node::default(),
        }
    }

    /// Records a request for `key` and returns its stack distance, or
    /// `None` for the first request of the key (a miss at any capacity).
    pub fn access(&mut self, key: u32) -> Option<Distance> {
        let size = self.sizes[key as usize];
        let previous = self.key_slot[key as usize];
        let distance = if previous == FREE {
            None
        } else {
            let upto = self.prefix(previous);
            self.add(previous, -1, size);
            self.slot_key[previous as usize] = FREE;
            // Slots after `previous` are the keys used since, each once.
            Some(Distance {
                objects: self.live.objects - upto.objects + 1,
                bytes: self.live.bytes - upto.bytes + size,
            })
        };
        if previous != FREE {
            self.live.objects -= 1;
            self.live.bytes -= size;
        }
        if self.next_slot as usize == self.slot_key.len() {
            self.pack();
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        self.slot_key[slot as usize] = key;
        self.key_slot[key as usize] = slot;
        self.add(slot, 1, size);
        self.live.objects += 1;
        self.live.bytes += size;
        distance
    }

    /// Sum of slots `0..=slot`.
    fn prefix(&self, slot: u32) -> Node {
        let mut sum = Node::default();
        let mut i = slot as usize + 1;
        while i > 0 {
            let n = self.tree[i];
            sum.objects += n.objects;
            sum.bytes += n.bytes;
            i &= i - 1;
        }
        sum
    }

    fn add(&mut self, slot: u32, sign: i64, size: u64) {
        let mut i = slot as usize + 1;
        while i < self.tree.len() {
            let n = &mut self.tree[i];
            if sign > 0 {
                n.objects += 1;
                n.bytes += size;
            } else {
                n.objects -= 1;
                n.bytes -= size;
            }
            i += i & i.wrapping_neg();
        }
    }

    /// Moves the live slots to the front, in order, and rebuilds the tree
    /// in linear time.
    fn pack(&mut self) {
        let mut used = 0usize;
        for s in 0..self.slot_key.len() {
            let key = self.slot_key[s];
            if key != FREE {
                self.slot_key[used] = key;
                self.key_slot[key as usize] = used as u32;
                used += 1;
            }
        }
        self.slot_key[used..].fill(FREE);
        self.next_slot = used as u32;
        for (i, node) in self.tree.iter_mut().enumerate().skip(1) {
            *node = match self.slot_key.get(i - 1) {
                Some(&k) if k != FREE => Node {
                    objects: 1,
                    bytes: self.sizes[k as usize],
                },
                _ => Node::default(),
            };
        }
        for i in 1..self.tree.len() {
            let parent = i + (i & i.wrapping_neg());
            if parent < self.tree.len() {
                let child = self.tree[i];
                self.tree[parent].objects += child.objects;
                self.tree[parent].bytes += child.bytes;
            }
        }
    }
}

/// A direct LRU cache simulation: the reference the stack distances are
/// tested against. Quadratic, for tests only.
#[cfg(test)]
pub(crate) mod direct {
    use std::collections::VecDeque;

    /// Capacity in objects or in bytes.
    #[derive(Clone, Copy, Debug)]
    pub enum Capacity {
        Objects(u64),
        Bytes(u64),
    }

    /// Whether each request of `trace` hits in an LRU cache of `capacity`
    /// that starts with `warm` (most recently used first).
    pub fn hits(trace: &[u32], sizes: &[u64], capacity: Capacity, warm: &[u32]) -> Vec<bool> {
        // Front = most recently used.
        let mut cache: VecDeque<u32> = VecDeque::new();
        let mut used = 0u64;
        let fits = |cache: &VecDeque<u32>, used: u64| match capacity {
            Capacity::Objects(c) => cache.len() as u64 <= c,
            Capacity::Bytes(c) => used <= c,
        };
        let touch = |key: u32, cache: &mut VecDeque<u32>, used: &mut u64| -> bool {
            let hit = match cache.iter().position(|&k| k == key) {
                Some(i) => {
                    cache.remove(i);
                    *used -= sizes[key as usize];
                    true
                }
                None => false,
            };
            cache.push_front(key);
            *used += sizes[key as usize];
            while !fits(cache, *used) {
                let evicted = cache.pop_back().expect("over capacity means not empty");
                *used -= sizes[evicted as usize];
            }
            hit
        };
        for &k in warm.iter().rev() {
            touch(k, &mut cache, &mut used);
        }
        trace
            .iter()
            .map(|&k| touch(k, &mut cache, &mut used))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::direct::{Capacity, hits};
    use super::*;
    use proptest::prelude::*;

    fn distances(trace: &[u32], sizes: &[u64]) -> Vec<Option<Distance>> {
        let mut stack = LruStack::new(sizes.to_vec());
        trace.iter().map(|&k| stack.access(k)).collect()
    }

    #[test]
    fn distances_by_hand() {
        // a b c a a b: a's second request has seen b and c.
        let d = distances(&[0, 1, 2, 0, 0, 1], &[10, 20, 30]);
        assert_eq!(d[..3], [None, None, None]);
        assert_eq!(
            d[3],
            Some(Distance {
                objects: 3,
                bytes: 60
            })
        );
        assert_eq!(
            d[4],
            Some(Distance {
                objects: 1,
                bytes: 10
            })
        );
        assert_eq!(
            d[5],
            Some(Distance {
                objects: 3,
                bytes: 60
            })
        );
    }

    #[test]
    fn packing_keeps_distances() {
        // Two keys and 64 slots: many packs over 10 000 requests.
        let trace: Vec<u32> = (0..10_000u32).map(|i| (i * 7 % 3) % 2).collect();
        let d = distances(&trace, &[5, 7]);
        for (i, di) in d.iter().enumerate().skip(2) {
            let expected = if trace[i] == trace[i - 1] { 1 } else { 2 };
            assert_eq!(di.unwrap().objects, expected, "request {i}");
        }
    }

    /// Zipf-like keys: small ids are requested far more often.
    fn skewed_trace(keys: u32) -> impl Strategy<Value = Vec<u32>> {
        proptest::collection::vec(0.0f64..1.0, 1..400).prop_map(move |us| {
            us.iter()
                .map(|u| ((keys as f64).powf(*u) as u32 - 1).min(keys - 1))
                .collect()
        })
    }

    fn hit_at(d: Option<Distance>, capacity: Capacity) -> bool {
        match (d, capacity) {
            (None, _) => false,
            (Some(d), Capacity::Objects(c)) => d.objects <= c,
            (Some(d), Capacity::Bytes(c)) => d.bytes <= c,
        }
    }

    fn check_against_direct(trace: &[u32], sizes: &[u64], capacity: Capacity) {
        let d = distances(trace, sizes);
        let stack: Vec<bool> = d.iter().map(|&d| hit_at(d, capacity)).collect();
        assert_eq!(stack, hits(trace, sizes, capacity, &[]), "{capacity:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every request hits or misses exactly as in a real LRU cache, for
        /// object capacities.
        #[test]
        fn same_as_direct_lru_objects_uniform(
            trace in proptest::collection::vec(0u32..40, 1..400),
            capacity in 1u64..45,
        ) {
            check_against_direct(&trace, &[1; 40], Capacity::Objects(capacity));
        }

        #[test]
        fn same_as_direct_lru_objects_skewed(trace in skewed_trace(200), capacity in 1u64..60) {
            check_against_direct(&trace, &[1; 200], Capacity::Objects(capacity));
        }

        /// And for byte capacities with objects of different sizes,
        /// including objects larger than the cache.
        #[test]
        fn same_as_direct_lru_bytes(
            trace in skewed_trace(60),
            sizes in proptest::collection::vec(0u64..5_000, 60),
            capacity in 0u64..40_000,
        ) {
            check_against_direct(&trace, &sizes, Capacity::Bytes(capacity));
        }
    }
}
