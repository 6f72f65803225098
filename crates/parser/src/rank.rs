//! Counting requests per key and ranking the keys.
//!
//! Each worker counts into its own [`KeyTable`]; tables are merged at the
//! end. Only the keys that make the ranking are copied out.

use std::cmp::Ordering;

use hotkeys_contract::routes::{RouteScratch, Routes};

use crate::filter::Filter;
use crate::keytable::{KeyTable, Totals, Update};
use crate::latency::LatencySketch;
use crate::record::Request;
use crate::scan::Accumulator;

/// What ranks a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankBy {
    Requests,
    /// Bytes served.
    Bytes,
    /// Summed latency: the origin time a warm cache would save.
    Cost,
}

impl RankBy {
    pub fn name(self) -> &'static str {
        match self {
            RankBy::Requests => "requests",
            RankBy::Bytes => "bytes",
            RankBy::Cost => "cost",
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

/// Which requests count and how they become keys.
#[derive(Clone, Debug, Default)]
pub struct KeyRules {
    pub filter: Filter,
    /// With routes, only requests matching a route become keys.
    pub routes: Option<Routes>,
}

/// Totals of one ranked key.
#[derive(Clone, Debug, Default)]
pub struct KeyStats {
    pub requests: u64,
    pub bytes: u64,
    pub cost_us: u64,
    pub latency: LatencySketch,
    /// With routes: the route that made the key and the smallest target
    /// that produced it (smallest, so the choice does not depend on which
    /// thread saw which line).
    pub route: Option<(usize, Box<[u8]>)>,
}

/// Lines that did not become keys, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyCounts {
    /// Requests counted under a key.
    pub matched: u64,
    /// Valid requests the filter excluded.
    pub filtered: u64,
    /// Requests with no target (a request line of `-`).
    pub no_target: u64,
    /// With routes: requests no route matched.
    pub unrouted: u64,
}

/// The accumulator behind `hotkeys rank`.
pub struct KeyCounter<'r> {
    rules: &'r KeyRules,
    keys: KeyTable,
    counts: KeyCounts,
    route_scratch: Option<RouteScratch>,
    key_buf: Vec<u8>,
}

impl<'r> KeyCounter<'r> {
    pub fn new(rules: &'r KeyRules) -> Self {
        KeyCounter {
            rules,
            keys: KeyTable::default(),
            counts: KeyCounts::default(),
            route_scratch: rules.routes.as_ref().map(Routes::scratch),
            key_buf: Vec::new(),
        }
    }

    pub fn counts(&self) -> KeyCounts {
        self.counts
    }

    pub fn distinct_keys(&mut self) -> usize {
        self.keys.len()
    }

    /// Ranks the keys by `by` (ties broken by key bytes, so the order is
    /// the same on every run) and keeps the first `top` (0 = all).
    pub fn into_ranking(mut self, by: RankBy, top: usize) -> Ranking {
        let table = &mut self.keys;
        let distinct = table.len();
        let metric: Vec<u64> = (0..distinct)
            .map(|id| by.metric(&table.totals(id)))
            .collect();
        let total = metric.iter().sum();
        let mut ids: Vec<u32> = (0..distinct as u32).collect();
        let order = |a: &u32, b: &u32| -> Ordering {
            let (a, b) = (*a as usize, *b as usize);
            metric[b]
                .cmp(&metric[a])
                .then_with(|| table.key(a).cmp(table.key(b)))
        };
        if top > 0 && top < ids.len() {
            ids.select_nth_unstable_by(top - 1, order);
            ids.truncate(top);
        }
        ids.sort_unstable_by(order);
        let keys = ids
            .into_iter()
            .map(|id| {
                let id = id as usize;
                let t = table.totals(id);
                let stats = KeyStats {
                    requests: t.requests,
                    bytes: t.bytes,
                    cost_us: t.cost_us,
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
            counts: self.counts,
            keys,
        }
    }
}

impl Accumulator for KeyCounter<'_> {
    fn add(&mut self, r: &Request<'_>) {
        let Some(target) = r.target else {
            self.counts.no_target += 1;
            return;
        };
        if !self.rules.filter.accepts(r) {
            self.counts.filtered += 1;
            return;
        }
        let route = match (&self.rules.routes, &mut self.route_scratch) {
            (Some(routes), Some(scratch)) => {
                match routes.resolve(r.method, target, scratch, &mut self.key_buf) {
                    Some(route) => Some(route),
                    None => {
                        self.counts.unrouted += 1;
                        return;
                    }
                }
            }
            _ => None,
        };
        self.counts.matched += 1;
        let key: &[u8] = if route.is_some() {
            &self.key_buf
        } else {
            target
        };
        self.keys.add(
            key,
            Update {
                bytes: r.bytes.unwrap_or(0),
                latency_us: r.latency_us(),
                route: route.map(|route| (route, target)),
            },
        );
    }

    fn merge(&mut self, mut other: Self) {
        // Merging the smaller table into the larger moves fewer keys.
        if other.keys.len() > self.keys.len() {
            std::mem::swap(&mut self.keys, &mut other.keys);
        }
        let c = other.counts;
        self.keys.merge(other.keys);
        self.counts.matched += c.matched;
        self.counts.filtered += c.filtered;
        self.counts.no_target += c.no_target;
        self.counts.unrouted += c.unrouted;
    }
}

/// Keys in rank order.
#[derive(Debug)]
pub struct Ranking {
    pub by: RankBy,
    /// The metric summed over every key (not only the kept ones).
    pub total: u64,
    pub distinct_keys: u64,
    pub counts: KeyCounts,
    pub keys: Vec<(Box<[u8]>, KeyStats)>,
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn counts_ranks_and_breaks_ties_by_key() {
        let rules = KeyRules {
            filter: Filter::cacheable(),
            routes: None,
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
                unrouted: 0
            }
        );
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
        let routes = Routes::from_toml_str(
            r#"
            [[route]]
            name = "product"
            match = '^/p/(?P<id>[0-9]+)$'
            key = "product:{id}"
            "#,
        )
        .unwrap();
        let rules = KeyRules {
            filter: Filter::default(),
            routes: Some(routes),
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
}
