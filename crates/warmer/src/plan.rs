//! From warm list entries to the work of a run: for each key, where its
//! value comes from and how long it lives, or why it is refused.
//!
//! The plan is made before anything is sent anywhere, so a dry run shows
//! exactly what a real run would do, and a refused entry never gets near
//! the network. Entries stay in rank order: the hottest keys are warmed
//! first, so a run cut short by `--deadline` or `--max-keys` has done what
//! matters most.

use std::collections::HashSet;
use std::time::Duration;

use hotkeys_contract::{Routes, WarmEntry};
use reqwest::Url;

use crate::config::{OriginKind, WarmConfig};
use crate::error::WarmError;
use crate::origin_url::{base_url, join};
use crate::path::check_origin_path;
use crate::redact::redact_url;
use crate::target::memcached::valid_key;
use crate::ttl::{TtlRule, ttl_in_range};

/// The longest key warmed. Redis takes keys up to 512 MB, but a key this
/// long in an access log is junk or an attack (a request line that fills
/// the log's line limit), and it would cost the cache memory for nothing.
/// With an HTTP origin the URL limit, [`MAX_URL_BYTES`], is met first.
pub const MAX_KEY_BYTES: usize = 64 * 1024;

/// The longest URL fetched from an HTTP origin: the HTTP client (the
/// `http` crate's `Uri`, under reqwest) refuses longer ones before
/// sending anything, so an entry that needs one is refused in the plan
/// instead of failing as a connection error at run time.
pub const MAX_URL_BYTES: usize = 65_534;

// A refusal is what the plan holds for a refused entry, and callers name
// it `plan::Refusal`; it lives lower down because the path checks make it too.
pub use crate::refusal::Refusal;

/// Where a key's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// GET this URL (origin + the entry's path). Boxed: a plan holds one
    /// entry per key, and most of an entry's size would be the URL's.
    Url(Box<Url>),
    /// The same key in the origin Redis.
    SameKey,
}

/// What the run does with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fetch the value and write it.
    Fetch {
        /// Where the value comes from.
        source: Source,
        /// How its TTL is chosen.
        ttl: TtlRule,
    },
    /// Leave it alone, for this reason.
    Refuse(Refusal),
}

/// One key of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    /// The entry's rank in the list.
    pub rank: u64,
    /// The key to write (exact bytes).
    pub key: Vec<u8>,
    /// What to do.
    pub action: Action,
}

/// The keys of a run in rank order, each with its source and TTL, or the
/// reason it is refused.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The keys, hottest first.
    pub entries: Vec<PlanEntry>,
    /// Entries left out because an earlier (hotter) entry has the same key.
    pub duplicates: u64,
    /// Entries left out by `max_keys`.
    pub beyond_max_keys: u64,
    /// The origin, redacted, for messages.
    pub origin: String,
    /// The kind of origin.
    pub kind: OriginKind,
}

impl Plan {
    /// Plans `entries` (in rank order, as `read_warm_list` returns them).
    /// Fails only when the configuration itself is unusable.
    pub fn build(
        config: &WarmConfig,
        entries: impl IntoIterator<Item = WarmEntry>,
    ) -> Result<Plan, WarmError> {
        config.validate()?;
        let kind = config.origin_kind()?;
        let base = match kind {
            OriginKind::Http => Some(base_url(&config.origin)?),
            OriginKind::Redis => None,
        };
        let mut planner = Planner {
            config,
            memcached: !config.memcached.is_empty(),
            kind,
            base,
            routes: config.routes.as_ref(),
            scratch: config
                .routes
                .as_ref()
                .map(Routes::scratch)
                .unwrap_or_default(),
        };
        let mut plan = Plan {
            entries: Vec::new(),
            duplicates: 0,
            beyond_max_keys: 0,
            origin: redact_url(&config.origin),
            kind,
        };
        let limit = config.max_keys.unwrap_or(usize::MAX);
        let entries = entries.into_iter();
        plan.entries.reserve(entries.size_hint().0.min(limit));
        for (i, entry) in entries.enumerate() {
            if i >= limit {
                plan.beyond_max_keys += 1;
                continue;
            }
            plan.entries.push(planner.plan(entry));
        }
        // The first (hottest) entry of a key wins. Marked in a second pass
        // so the set borrows the keys instead of copying them.
        let mut seen: HashSet<&[u8], foldhash::fast::RandomState> =
            HashSet::with_capacity_and_hasher(plan.entries.len(), Default::default());
        let first: Vec<bool> = plan
            .entries
            .iter()
            .map(|e| seen.insert(e.key.as_slice()))
            .collect();
        drop(seen);
        plan.duplicates = first.iter().filter(|&&f| !f).count() as u64;
        let mut first = first.into_iter();
        plan.entries.retain(|_| first.next().unwrap_or(true));
        Ok(plan)
    }

    /// Entries that will be fetched.
    pub fn fetch_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.action, Action::Fetch { .. }))
            .count()
    }

    /// Where an entry's value comes from, for people: the URL (redacted),
    /// or `GET` on the origin Redis.
    pub fn describe_source(&self, entry: &PlanEntry) -> String {
        match &entry.action {
            Action::Fetch {
                source: Source::Url(url),
                ..
            } => redact_url(url.as_str()),
            Action::Fetch {
                source: Source::SameKey,
                ..
            } => format!("GET from {}", self.origin),
            Action::Refuse(r) => format!("refused: {}", r.explain()),
        }
    }
}

struct Planner<'a> {
    config: &'a WarmConfig,
    /// The target is memcached, whose keys have limits of their own.
    memcached: bool,
    kind: OriginKind,
    base: Option<Url>,
    routes: Option<&'a Routes>,
    scratch: hotkeys_contract::RouteScratch,
}

impl Planner<'_> {
    fn plan(&mut self, mut entry: WarmEntry) -> PlanEntry {
        let rank = entry.rank;
        let refuse = |key: Vec<u8>, why| PlanEntry {
            rank,
            key,
            action: Action::Refuse(why),
        };
        // A UTF-8 key is moved, not copied: lists can hold millions.
        let key = match &entry.key_base64 {
            None => std::mem::take(&mut entry.key).into_bytes(),
            Some(_) => match entry.key_bytes() {
                Ok(bytes) => bytes,
                Err(_) => return refuse(entry.key.into_bytes(), Refusal::BadKey),
            },
        };
        if key.is_empty() {
            return refuse(key, Refusal::EmptyKey);
        }
        let entry_ttl = entry.ttl.map(Duration::from_secs);
        let (key, target, entry_ttl) = match self.routes {
            None => {
                let target = entry.origin_path.map(String::into_bytes);
                (key, target, entry_ttl)
            }
            Some(routes) => match &entry.route {
                Some(name) => {
                    let Some(route) = (0..routes.len()).find(|&i| routes.name(i) == name) else {
                        return refuse(key, Refusal::UnknownRoute);
                    };
                    let target = entry.origin_path.map(String::into_bytes);
                    (key, target, routes.ttl(route).or(entry_ttl))
                }
                None => {
                    let target = entry
                        .origin_path
                        .map_or_else(|| key.clone(), String::into_bytes);
                    let mut routed = Vec::new();
                    let Some(route) =
                        routes.resolve(Some(b"GET"), &target, &mut self.scratch, &mut routed)
                    else {
                        return refuse(key, Refusal::Unrouted);
                    };
                    let origin_path = routes.origin_path(route, &target, &mut self.scratch);
                    (routed, Some(origin_path), routes.ttl(route).or(entry_ttl))
                }
            },
        };
        if key.is_empty() {
            return refuse(key, Refusal::EmptyKey);
        }
        if key.len() > MAX_KEY_BYTES {
            return refuse(key, Refusal::KeyTooLong);
        }
        let source = match (&self.base, self.kind) {
            (Some(base), OriginKind::Http) => {
                let path = target.as_deref().unwrap_or(&key);
                if let Err(why) = check_origin_path(path) {
                    return refuse(key, why);
                }
                match join(base, path) {
                    Ok(url) => Source::Url(Box::new(url)),
                    Err(why) => return refuse(key, why),
                }
            }
            _ => Source::SameKey,
        };
        if self.memcached && !valid_key(&key) {
            return refuse(key, Refusal::MemcachedKey);
        }
        // Routes' TTLs were checked with the configuration; a bad one here
        // is the entry's own, and matters only when no --ttl overrides it.
        if self.config.ttl.is_none() && entry_ttl.is_some_and(|t| !ttl_in_range(t)) {
            return refuse(key, Refusal::BadTtl);
        }
        let ttl = TtlRule::choose(
            self.config.ttl,
            entry_ttl,
            self.config.default_ttl,
            self.kind == OriginKind::Redis,
        );
        PlanEntry {
            rank,
            key,
            action: Action::Fetch { source, ttl },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rank: u64, key: &str) -> WarmEntry {
        WarmEntry::with_key(rank, key.as_bytes())
    }

    fn url_of(e: &PlanEntry) -> &str {
        match &e.action {
            Action::Fetch {
                source: Source::Url(u),
                ..
            } => u.as_str(),
            other => panic!("not fetched: {other:?}"),
        }
    }

    #[test]
    fn paths_go_under_the_origin_and_nowhere_else() {
        let config = WarmConfig::new("http://127.0.0.1:8080/base/");
        let mut with_path = entry(3, "k3");
        with_path.set_origin_path(b"/api/x?y=1");
        let plan = Plan::build(
            &config,
            [
                entry(1, "/api/products/1"),
                entry(2, "http://evil.example/steal"),
                with_path,
                entry(4, "/a/../../etc/passwd"),
                entry(5, "/caf\u{e9}"),
                entry(6, "/api/products/1"),
                entry(7, "product:7"),
            ],
        )
        .unwrap();
        assert_eq!(plan.duplicates, 1);
        let e = &plan.entries;
        assert_eq!(url_of(&e[0]), "http://127.0.0.1:8080/base/api/products/1");
        assert_eq!(e[1].action, Action::Refuse(Refusal::AbsoluteForm));
        assert_eq!(e[2].key, b"k3");
        assert_eq!(url_of(&e[2]), "http://127.0.0.1:8080/base/api/x?y=1");
        assert_eq!(e[3].action, Action::Refuse(Refusal::DotSegment));
        assert_eq!(url_of(&e[4]), "http://127.0.0.1:8080/base/caf%C3%A9");
        assert_eq!(e[5].action, Action::Refuse(Refusal::NotOriginForm));
        assert_eq!(plan.fetch_count(), 3);
    }

    #[test]
    fn ttls_follow_the_precedence() {
        let mut config = WarmConfig::new("http://o");
        let mut e = entry(1, "/a");
        e.ttl = Some(60);
        let plan = Plan::build(&config, [e.clone(), entry(2, "/b")]).unwrap();
        let ttl = |p: &Plan, i: usize| match &p.entries[i].action {
            Action::Fetch { ttl, .. } => *ttl,
            other => panic!("{other:?}"),
        };
        assert_eq!(ttl(&plan, 0), TtlRule::Configured(Duration::from_secs(60)));
        assert_eq!(
            ttl(&plan, 1),
            TtlRule::Configured(Duration::from_secs(3600))
        );
        config.ttl = Some(Duration::from_secs(5));
        let plan = Plan::build(&config, [e]).unwrap();
        assert_eq!(ttl(&plan, 0), TtlRule::Configured(Duration::from_secs(5)));
    }

    #[test]
    fn entry_ttls_of_zero_or_beyond_a_century_are_refused_unless_overridden() {
        let mut config = WarmConfig::new("http://o");
        let with_ttl = |rank, key: &str, ttl| {
            let mut e = entry(rank, key);
            e.ttl = Some(ttl);
            e
        };
        let century = crate::ttl::MAX_TTL.as_secs();
        let entries = || {
            [
                with_ttl(1, "/zero", 0),
                with_ttl(2, "/century", century),
                with_ttl(3, "/beyond", century + 1),
            ]
        };
        let plan = Plan::build(&config, entries()).unwrap();
        let e = &plan.entries;
        assert_eq!(e[0].action, Action::Refuse(Refusal::BadTtl));
        assert!(matches!(e[1].action, Action::Fetch { .. }));
        assert_eq!(e[2].action, Action::Refuse(Refusal::BadTtl));
        config.ttl = Some(Duration::from_secs(60));
        assert_eq!(Plan::build(&config, entries()).unwrap().fetch_count(), 3);
    }

    #[test]
    fn with_routes_only_routed_entries_are_fetched() {
        let routes = Routes::from_toml_str(
            r#"
            [[route]]
            name = "product"
            match = '^/api/products/(?P<id>[0-9]+)$'
            key = "product:{id}"
            origin = "/internal/products/{id}"
            ttl = "30m"
            query = "strip"
            "#,
        )
        .unwrap();
        let mut config = WarmConfig::new("http://o:1");
        config.routes = Some(routes);
        let mut named = entry(3, "product:9");
        named.route = Some("product".into());
        named.set_origin_path(b"/internal/products/9");
        let mut unknown = entry(4, "x:1");
        unknown.route = Some("gone".into());
        let plan = Plan::build(
            &config,
            [
                entry(1, "/api/products/42?utm=x"),
                entry(2, "/about"),
                named,
                unknown,
            ],
        )
        .unwrap();
        let e = &plan.entries;
        assert_eq!(e[0].key, b"product:42");
        assert_eq!(url_of(&e[0]), "http://o:1/internal/products/42");
        assert!(matches!(
            e[0].action,
            Action::Fetch {
                ttl: TtlRule::Configured(d),
                ..
            } if d == Duration::from_secs(1800)
        ));
        assert_eq!(e[1].action, Action::Refuse(Refusal::Unrouted));
        assert_eq!(e[2].key, b"product:9");
        assert_eq!(url_of(&e[2]), "http://o:1/internal/products/9");
        assert_eq!(e[3].action, Action::Refuse(Refusal::UnknownRoute));
    }

    #[test]
    fn a_redis_origin_copies_the_same_key_with_its_ttl() {
        let mut config = WarmConfig::new("redis://:pw@replica:6379");
        config.max_keys = Some(2);
        let plan = Plan::build(
            &config,
            [entry(1, "product:1"), entry(2, "\u{1b}[2J"), entry(3, "c")],
        )
        .unwrap();
        assert_eq!(plan.entries.len(), 2);
        assert_eq!(plan.beyond_max_keys, 1);
        assert_eq!(
            plan.entries[0].action,
            Action::Fetch {
                source: Source::SameKey,
                ttl: TtlRule::FromOrigin {
                    fallback: Duration::from_secs(3600)
                }
            }
        );
        assert_eq!(
            plan.describe_source(&plan.entries[0]),
            "GET from redis://:***@replica:6379"
        );
    }

    #[test]
    fn keys_memcached_cannot_carry_are_refused_for_memcached_only() {
        let long = format!("/{}", "x".repeat(250));
        let entries = || {
            [
                entry(1, "/a b"),
                entry(2, &long),
                entry(3, "/fine"),
                entry(4, "/a/../b"),
            ]
        };
        let mut config = WarmConfig::new("http://o");
        let plan = Plan::build(&config, entries()).unwrap();
        assert_eq!(plan.fetch_count(), 3, "Redis takes any key");
        config.memcached = vec!["127.0.0.1:11211".into()];
        let plan = Plan::build(&config, entries()).unwrap();
        let e = &plan.entries;
        assert_eq!(e[0].action, Action::Refuse(Refusal::MemcachedKey));
        assert_eq!(e[1].action, Action::Refuse(Refusal::MemcachedKey));
        assert_eq!(url_of(&e[2]), "http://o/fine");
        // The path's own refusal is the more telling one.
        assert_eq!(e[3].action, Action::Refuse(Refusal::DotSegment));
        assert!(
            plan.describe_source(&e[0])
                .starts_with("refused: key not valid for memcached")
        );
    }

    #[test]
    fn keys_and_urls_beyond_the_limits_are_refused_exactly_at_them() {
        let base = "http://127.0.0.1:8080";
        let config = WarmConfig::new(base);
        let path = |len: usize| format!("/{}", "p".repeat(len - 1));
        // The URL limit: the origin's text and the path together.
        let fits = path(MAX_URL_BYTES - base.len());
        let over = path(MAX_URL_BYTES - base.len() + 1);
        let key_limit = path(MAX_KEY_BYTES);
        let plan = Plan::build(
            &config,
            [entry(1, &fits), entry(2, &over), entry(3, &key_limit)],
        )
        .unwrap();
        assert_eq!(url_of(&plan.entries[0]).len(), MAX_URL_BYTES);
        assert_eq!(plan.entries[1].action, Action::Refuse(Refusal::UrlTooLong));
        assert_eq!(plan.entries[2].action, Action::Refuse(Refusal::UrlTooLong));
        // Percent-encoding counts: 3 bytes in the URL for 1 in the key.
        let encoded = format!("{}\u{e9}", path(MAX_URL_BYTES - base.len() - 5));
        let plan = Plan::build(&config, [entry(1, &encoded)]).unwrap();
        assert_eq!(plan.entries[0].action, Action::Refuse(Refusal::UrlTooLong));

        // A Redis origin has no URL; the key limit is what applies.
        let config = WarmConfig::new("redis://replica:6379");
        let plan = Plan::build(
            &config,
            [
                entry(1, &"k".repeat(MAX_KEY_BYTES)),
                entry(2, &"k".repeat(MAX_KEY_BYTES + 1)),
            ],
        )
        .unwrap();
        assert!(matches!(plan.entries[0].action, Action::Fetch { .. }));
        assert_eq!(plan.entries[1].action, Action::Refuse(Refusal::KeyTooLong));
        assert!(
            plan.describe_source(&plan.entries[1])
                .starts_with("refused: key too long")
        );
    }

    #[test]
    fn credentials_in_the_origin_are_not_shown() {
        let config = WarmConfig::new("https://user:pw@api.example");
        let plan = Plan::build(&config, [entry(1, "/x")]).unwrap();
        assert_eq!(
            plan.describe_source(&plan.entries[0]),
            "https://user:***@api.example/x"
        );
    }
}
