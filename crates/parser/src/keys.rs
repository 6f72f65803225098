//! The one path from a parsed request to a cache key.
//!
//! Every command that counts keys (`rank`, `report`, and whatever comes
//! next) asks [`KeyRules::key_of`] what a request becomes, and tallies the
//! answer in a [`KeyCounts`]. Keeping the filter, the routes and the
//! reasons for skipping a request in one place is what makes `rank` and
//! `report` agree on every count.

use hotkeys_contract::routes::{RouteScratch, Routes};

use crate::filter::Filter;
use crate::record::Request;

/// Which requests count and how they become keys.
#[derive(Clone, Debug, Default)]
pub struct KeyRules {
    /// Which requests count.
    pub filter: Filter,
    /// With routes, only requests matching a route become keys, built from
    /// the route's key template; without, the key is the target as logged.
    pub routes: Option<Routes>,
}

/// Per-worker buffers for [`KeyRules::key_of`], so that resolving a route
/// allocates nothing once warmed up.
#[derive(Debug, Default)]
pub struct KeyScratch {
    route: Option<RouteScratch>,
    key: Vec<u8>,
}

/// A request that became a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keyed<'a> {
    /// The cache key.
    pub key: &'a [u8],
    /// The request target it came from, as logged.
    pub target: &'a [u8],
    /// With routes: the index of the route that made the key.
    pub route: Option<usize>,
}

/// Why a request did not become a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// No request target (a request line of `-`, or binary junk).
    NoTarget,
    /// The filter excluded it.
    Filtered,
    /// Routes were given and none matched.
    Unrouted,
}

impl KeyRules {
    /// Buffers for one worker.
    pub fn scratch(&self) -> KeyScratch {
        KeyScratch {
            route: self.routes.as_ref().map(Routes::scratch),
            key: Vec::new(),
        }
    }

    /// What `r` becomes: a key, or the reason it is skipped. The key
    /// borrows from `r` or, when a route built it, from `scratch`.
    #[inline]
    pub fn key_of<'s>(
        &self,
        r: &Request<'s>,
        scratch: &'s mut KeyScratch,
    ) -> Result<Keyed<'s>, Skip> {
        let target = r.target.ok_or(Skip::NoTarget)?;
        if !self.filter.accepts(r) {
            return Err(Skip::Filtered);
        }
        match (&self.routes, &mut scratch.route) {
            (Some(routes), Some(route_scratch)) => {
                match routes.resolve(r.method, target, route_scratch, &mut scratch.key) {
                    Some(route) => Ok(Keyed {
                        key: &scratch.key,
                        target,
                        route: Some(route),
                    }),
                    None => Err(Skip::Unrouted),
                }
            }
            _ => Ok(Keyed {
                key: target,
                target,
                route: None,
            }),
        }
    }
}

/// What became of the requests: counted under a key, or skipped and why.
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

impl KeyCounts {
    /// Counts one skipped request.
    #[inline]
    pub fn skip(&mut self, why: Skip) {
        match why {
            Skip::NoTarget => self.no_target += 1,
            Skip::Filtered => self.filtered += 1,
            Skip::Unrouted => self.unrouted += 1,
        }
    }

    /// Adds another worker's counts.
    pub fn add(&mut self, other: KeyCounts) {
        self.matched += other.matched;
        self.filtered += other.filtered;
        self.no_target += other.no_target;
        self.unrouted += other.unrouted;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One route, `/p/ID` → `product:ID`, for the tests of every counter.
    pub(crate) fn product_routes() -> Routes {
        Routes::from_toml_str(
            r#"
            [[route]]
            name = "product"
            match = '^/p/(?P<id>[0-9]+)$'
            key = "product:{id}"
            "#,
        )
        .unwrap()
    }

    fn get(target: Option<&[u8]>, status: u16) -> Request<'_> {
        Request {
            method: Some(b"GET"),
            target,
            status: Some(status),
            ..Request::default()
        }
    }

    #[test]
    fn without_routes_the_key_is_the_target() {
        let rules = KeyRules {
            filter: Filter::cacheable(),
            routes: None,
        };
        let mut scratch = rules.scratch();
        let keyed = rules.key_of(&get(Some(b"/a?b=1"), 200), &mut scratch);
        assert_eq!(
            keyed,
            Ok(Keyed {
                key: b"/a?b=1",
                target: b"/a?b=1",
                route: None
            })
        );
        assert_eq!(
            rules.key_of(&get(Some(b"/a"), 500), &mut scratch),
            Err(Skip::Filtered)
        );
        assert_eq!(
            rules.key_of(&get(None, 200), &mut scratch),
            Err(Skip::NoTarget)
        );
    }

    #[test]
    fn routes_build_keys_and_leave_the_rest_unrouted() {
        let rules = KeyRules {
            filter: Filter::default(),
            routes: Some(product_routes()),
        };
        let mut scratch = rules.scratch();
        let keyed = rules
            .key_of(&get(Some(b"/p/7"), 200), &mut scratch)
            .unwrap();
        assert_eq!(
            (keyed.key, keyed.target, keyed.route),
            (&b"product:7"[..], &b"/p/7"[..], Some(0))
        );
        assert_eq!(
            rules.key_of(&get(Some(b"/q"), 200), &mut scratch),
            Err(Skip::Unrouted)
        );
    }

    #[test]
    fn counts_tally_every_reason() {
        let mut c = KeyCounts::default();
        for why in [
            Skip::NoTarget,
            Skip::Filtered,
            Skip::Filtered,
            Skip::Unrouted,
        ] {
            c.skip(why);
        }
        c.matched = 5;
        let mut total = KeyCounts::default();
        total.add(c);
        total.add(c);
        assert_eq!(
            total,
            KeyCounts {
                matched: 10,
                filtered: 4,
                no_target: 2,
                unrouted: 2
            }
        );
    }
}
