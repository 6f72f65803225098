//! The one path from a parsed request to a cache key.
//!
//! Every command that counts keys (`rank`, `report`, and whatever comes
//! next) asks [`KeyRules::key_of`] what a request becomes, and tallies the
//! answer in a [`KeyCounts`]. Keeping the filter, the exclusions, the routes
//! and the reasons for skipping a request in one place is what makes `rank`
//! and `report` agree on every count.

use hotkeys_contract::routes::{RouteScratch, Routes};

use crate::error::ScanError;
use crate::exclude::{BotVerdicts, Exclude, Reason};
use crate::filter::Filter;
use crate::input::Source;
use crate::record::Request;
use crate::scan::ScanOptions;
use crate::window::Window;

/// Which requests count and how they become keys.
#[derive(Clone, Debug, Default)]
pub struct KeyRules {
    /// Which requests count.
    pub filter: Filter,
    /// Which of the requests the filter keeps are left out on purpose.
    pub exclude: Exclude,
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
    bots: BotVerdicts,
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
    /// The filter kept it and an exclusion left it out.
    Excluded(Reason),
    /// Routes were given and none matched.
    Unrouted,
}

impl KeyRules {
    /// The rules and scan options of one run over `inputs`: the window
    /// resolved into the filter (a relative window reads the input once
    /// more), and the fields the exclusions need asked of the parser.
    pub fn for_run(
        &self,
        window: &Window,
        inputs: &[Source],
        scan: &ScanOptions,
    ) -> Result<(KeyRules, ScanOptions), ScanError> {
        let mut rules = self.clone();
        window.apply(inputs, scan, &mut rules.filter)?;
        let options = ScanOptions {
            wants: scan.wants.union(rules.exclude.wants()),
            ..scan.clone()
        };
        Ok((rules, options))
    }

    /// Buffers for one worker.
    pub fn scratch(&self) -> KeyScratch {
        KeyScratch {
            route: self.routes.as_ref().map(Routes::scratch),
            key: Vec::new(),
            bots: BotVerdicts::default(),
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
        if let Some(why) = self.exclude.reason(r, target, &mut scratch.bots) {
            return Err(Skip::Excluded(why));
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
    /// Requests the filter kept and an exclusion left out, by reason.
    pub excluded: Excluded,
    /// Requests with no target (a request line of `-`).
    pub no_target: u64,
    /// With routes: requests no route matched.
    pub unrouted: u64,
}

/// Requests excluded, by [`Reason`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Excluded {
    /// By `--exclude-path`.
    pub path: u64,
    /// By `--exclude-client`.
    pub client: u64,
    /// By `--exclude-bots`.
    pub bot: u64,
}

impl Excluded {
    /// Every excluded request.
    pub fn total(&self) -> u64 {
        self.path + self.client + self.bot
    }
}

impl KeyCounts {
    /// Every request looked at: counted or skipped for any reason.
    pub fn requests(&self) -> u64 {
        self.matched + self.filtered + self.excluded.total() + self.no_target + self.unrouted
    }

    /// Counts one skipped request.
    #[inline]
    pub fn skip(&mut self, why: Skip) {
        match why {
            Skip::NoTarget => self.no_target += 1,
            Skip::Filtered => self.filtered += 1,
            Skip::Excluded(Reason::Path) => self.excluded.path += 1,
            Skip::Excluded(Reason::Client) => self.excluded.client += 1,
            Skip::Excluded(Reason::Bot) => self.excluded.bot += 1,
            Skip::Unrouted => self.unrouted += 1,
        }
    }

    /// Adds another worker's counts.
    pub fn add(&mut self, other: KeyCounts) {
        self.matched += other.matched;
        self.filtered += other.filtered;
        self.excluded.path += other.excluded.path;
        self.excluded.client += other.excluded.client;
        self.excluded.bot += other.excluded.bot;
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
            ..KeyRules::default()
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
            routes: Some(product_routes()),
            ..KeyRules::default()
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
            Skip::Excluded(Reason::Path),
            Skip::Excluded(Reason::Bot),
            Skip::Excluded(Reason::Bot),
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
                excluded: Excluded {
                    path: 2,
                    client: 0,
                    bot: 4
                },
                no_target: 2,
                unrouted: 2
            }
        );
        assert_eq!(total.excluded.total(), 6);
    }

    #[test]
    fn exclusions_come_after_the_filter_and_before_the_routes() {
        use crate::exclude::{Cidr, Networks, PathPatterns};
        let rules = KeyRules {
            filter: Filter::cacheable(),
            exclude: Exclude {
                paths: Some(PathPatterns::new(&["^/p/1$"]).unwrap()),
                clients: Networks(vec![Cidr::parse("10.0.0.0/8").unwrap()]),
                bots: None,
            },
            routes: Some(product_routes()),
        };
        let mut scratch = rules.scratch();
        let from = |client: &'static [u8], target: &'static [u8], status| Request {
            client: Some(client),
            ..get(Some(target), status)
        };
        let mut why = |r: Request<'_>| rules.key_of(&r, &mut scratch).map(|k| k.route);
        assert_eq!(why(from(b"10.0.0.1", b"/p/1", 500)), Err(Skip::Filtered));
        assert_eq!(
            why(from(b"10.0.0.1", b"/p/1", 200)),
            Err(Skip::Excluded(Reason::Path))
        );
        assert_eq!(
            why(from(b"10.0.0.1", b"/q", 200)),
            Err(Skip::Excluded(Reason::Client))
        );
        assert_eq!(why(from(b"192.0.2.1", b"/q", 200)), Err(Skip::Unrouted));
        assert_eq!(why(from(b"192.0.2.1", b"/p/2", 200)), Ok(Some(0)));
    }
}
