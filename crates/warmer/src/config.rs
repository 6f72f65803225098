//! Everything a warm run needs, as plain values. The command line (or any
//! other caller) fills a [`WarmConfig`]; nothing in this crate knows about
//! argument parsing.

use std::time::Duration;

use hotkeys_contract::Routes;

use crate::backoff::Backoff;
use crate::breaker::BreakerConfig;
use crate::error::WarmError;
use crate::ketama::ServerAddr;
use crate::origin_url::base_url;
use crate::redact::{Secrets, redact_url};
use crate::status::StatusSet;

/// The Redis URL used when none is given and `REDIS_URL` is unset.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// memcached's default item size limit (`memcached -I 1m`): a sensible
/// `max_value_size` for a memcached target. A value close to it may
/// still be refused by the server, whose limit includes the key and a
/// header; that key then fails as `too_large` too.
pub const MEMCACHED_ITEM_LIMIT: u64 = 1 << 20;

/// Settings of one warm run. [`WarmConfig::new`] gives the documented
/// defaults; change fields as needed, then call [`WarmConfig::validate`]
/// (the run does it too).
#[derive(Debug, Clone)]
pub struct WarmConfig {
    /// Where values come from: `http://` or `https://` (GET origin + path),
    /// or `redis://` / `rediss://` (the same key in a warm Redis).
    pub origin: String,
    /// The Redis to fill; with `cluster`, one or more seed nodes.
    pub redis: Vec<String>,
    /// Treat `redis` as the seeds of a Redis Cluster.
    pub cluster: bool,
    /// memcached servers to fill instead of Redis, as `host:port`; keys
    /// are spread over them by ketama hashing, as libmemcached does.
    /// When not empty, `redis` is not used.
    pub memcached: Vec<String>,
    /// Password for the target Redis when its URL has none (the command
    /// line takes it from `REDISCLI_AUTH`).
    pub redis_password: Option<String>,
    /// The routes file: which entries may be fetched, their origin paths
    /// and TTLs.
    pub routes: Option<Routes>,
    /// Write every key, replacing what is there; by default keys that
    /// exist are skipped and writes use `SET … NX`.
    pub overwrite: bool,
    /// A TTL for every key, overriding routes, entries and a Redis
    /// origin's remaining TTL.
    pub ttl: Option<Duration>,
    /// The TTL when nothing else gives one.
    pub default_ttl: Duration,
    /// Fraction (0 to <1) by which a configured TTL is randomly shortened.
    pub ttl_jitter: f64,
    /// Origin requests in flight at most (pipelines, for a Redis origin).
    pub concurrency: usize,
    /// Origin requests per second at most (keys, for a Redis origin).
    pub rate: Option<f64>,
    /// Retries per key after a retryable failure (429, 5xx, timeout,
    /// connection error); never for other 4xx.
    pub retries: u32,
    /// Delays between retries.
    pub backoff: Backoff,
    /// Limit for one origin request, body included.
    pub origin_timeout: Duration,
    /// The most one batch waits for Redis (or memcached) in all:
    /// connecting, each reply, reconnecting; so also how long a lost
    /// connection is retried before the run gives up.
    pub redis_timeout: Duration,
    /// Values (response bodies) larger than this are not stored.
    pub max_value_size: u64,
    /// HTTP statuses whose body is stored.
    pub store_statuses: StatusSet,
    /// Extra request headers for an HTTP origin.
    pub headers: Vec<(String, String)>,
    /// Use `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` from the environment;
    /// ignored by default, so a stray variable cannot reroute the traffic.
    pub use_env_proxy: bool,
    /// Warm only the first N entries of the list.
    pub max_keys: Option<usize>,
    /// Stop this long after the start, whatever is left: connecting must
    /// be done by then, and writing the values fetched takes at most one
    /// more second.
    pub deadline: Option<Duration>,
    /// When to give up on a failing origin.
    pub breaker: BreakerConfig,
    /// Keys per pipeline (EXISTS and SET, `mg` and `add` for memcached,
    /// and GET from a Redis origin).
    pub batch_size: usize,
}

/// Which kind of origin a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginKind {
    /// `http://` or `https://`.
    Http,
    /// `redis://` or `rediss://`.
    Redis,
}

impl WarmConfig {
    /// The defaults: target `redis://127.0.0.1:6379`, fill only what is
    /// missing, TTL 1h with 10% jitter, 16 requests in flight, no rate
    /// limit, 2 retries, 10s origin timeout, 5s Redis timeout, values up
    /// to 4 MiB, store 2xx, breaker at 50% errors over 50 keys, pipelines
    /// of 512 keys.
    pub fn new(origin: impl Into<String>) -> WarmConfig {
        WarmConfig {
            origin: origin.into(),
            redis: vec![DEFAULT_REDIS_URL.to_owned()],
            cluster: false,
            memcached: Vec::new(),
            redis_password: None,
            routes: None,
            overwrite: false,
            ttl: None,
            default_ttl: Duration::from_secs(3600),
            ttl_jitter: 0.1,
            concurrency: 16,
            rate: None,
            retries: 2,
            backoff: Backoff::default(),
            origin_timeout: Duration::from_secs(10),
            redis_timeout: Duration::from_secs(5),
            max_value_size: 4 << 20,
            store_statuses: StatusSet::successful(),
            headers: Vec::new(),
            use_env_proxy: false,
            max_keys: None,
            deadline: None,
            breaker: BreakerConfig::default(),
            batch_size: 512,
        }
    }

    /// The kind of origin, from the URL's scheme.
    pub fn origin_kind(&self) -> Result<OriginKind, WarmError> {
        let scheme = scheme(&self.origin);
        match scheme.as_deref() {
            Some("http" | "https") => Ok(OriginKind::Http),
            Some("redis" | "rediss") => Ok(OriginKind::Redis),
            _ => Err(WarmError::BadOrigin {
                url: redact_url(&self.origin),
                reason: "expected an http://, https://, redis:// or rediss:// URL".into(),
            }),
        }
    }

    /// Checks the settings that do not need a network: URL schemes, ranges.
    pub fn validate(&self) -> Result<(), WarmError> {
        let kind = self.origin_kind()?;
        if kind == OriginKind::Http {
            base_url(&self.origin)?;
        }
        if !self.memcached.is_empty() {
            if self.cluster {
                return Err(WarmError::Setting(
                    "memcached servers and a Redis Cluster cannot be filled together: leave out --cluster".into(),
                ));
            }
            self.memcached_servers()?;
        } else {
            self.validate_redis()?;
        }
        let positive = |d: Duration, what: &str| {
            if d.is_zero() {
                Err(WarmError::Setting(format!("{what} must be above zero")))
            } else {
                Ok(())
            }
        };
        let ttl_in_range = |ttl: Duration, what: &str| {
            if crate::ttl::ttl_in_range(ttl) {
                Ok(())
            } else {
                Err(WarmError::Setting(format!(
                    "{what} ({}) must be above zero and at most 100 years (36500d)",
                    hotkeys_contract::format_duration(ttl)
                )))
            }
        };
        if let Some(ttl) = self.ttl {
            ttl_in_range(ttl, "the TTL")?;
        }
        ttl_in_range(self.default_ttl, "the default TTL")?;
        if let Some(routes) = &self.routes {
            for i in 0..routes.len() {
                if let Some(ttl) = routes.ttl(i) {
                    ttl_in_range(ttl, &format!("the ttl of route {:?}", routes.name(i)))?;
                }
            }
        }
        positive(self.origin_timeout, "the origin timeout")?;
        positive(self.redis_timeout, "the Redis timeout")?;
        if !(0.0..1.0).contains(&self.ttl_jitter) {
            return Err(WarmError::Setting(
                "the TTL jitter must be at least 0% and below 100%".into(),
            ));
        }
        if self.concurrency == 0 || self.batch_size == 0 {
            return Err(WarmError::Setting(
                "concurrency and batch size must be at least 1".into(),
            ));
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(WarmError::Setting(
                "the rate must be a positive number of requests per second".into(),
            ));
        }
        if self.breaker.window == 0 || !(0.0..=1.0).contains(&self.breaker.threshold) {
            return Err(WarmError::Setting(
                "the breaker window must be at least 1 and its threshold between 0% and 100%"
                    .into(),
            ));
        }
        Ok(())
    }

    fn validate_redis(&self) -> Result<(), WarmError> {
        if self.redis.is_empty() {
            return Err(WarmError::Setting(
                "no Redis URL: give the Redis to fill".into(),
            ));
        }
        if self.redis.len() > 1 && !self.cluster {
            return Err(WarmError::Setting(
                "several Redis URLs are only meaningful as cluster seeds: add --cluster, or give one URL".into(),
            ));
        }
        for url in &self.redis {
            if !matches!(scheme(url).as_deref(), Some("redis" | "rediss")) {
                return Err(WarmError::BadRedisUrl {
                    url: redact_url(url),
                    reason: "expected a redis:// or rediss:// URL".into(),
                });
            }
        }
        Ok(())
    }

    /// The memcached servers, in the order given (the order ketama
    /// uses); empty when the target is Redis.
    pub fn memcached_servers(&self) -> Result<Vec<ServerAddr>, WarmError> {
        let mut servers: Vec<ServerAddr> = Vec::with_capacity(self.memcached.len());
        for text in &self.memcached {
            let addr = ServerAddr::parse(text)
                .map_err(|e| WarmError::Setting(format!("memcached server {e}")))?;
            if servers.contains(&addr) {
                return Err(WarmError::Setting(format!(
                    "memcached server {addr} is listed twice"
                )));
            }
            servers.push(addr);
        }
        Ok(servers)
    }

    /// The cache being filled, for messages and the summary: the Redis
    /// URLs (redacted), or `memcached://host:port` for each server.
    pub fn target_display(&self) -> String {
        if self.memcached.is_empty() {
            self.redis
                .iter()
                .map(|u| redact_url(u))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            self.memcached
                .iter()
                .map(|m| match ServerAddr::parse(m) {
                    Ok(addr) => format!("memcached://{addr}"),
                    Err(_) => format!("memcached://{}", m.trim()),
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    /// The passwords this run knows, so that messages can be scrubbed of
    /// them.
    pub fn secrets(&self) -> Secrets {
        let mut secrets = Secrets::default();
        secrets.add_from_url(&self.origin);
        for url in &self.redis {
            secrets.add_from_url(url);
        }
        if let Some(p) = &self.redis_password {
            secrets.add(p);
        }
        secrets
    }
}

fn scheme(url: &str) -> Option<String> {
    url.split_once("://").map(|(s, _)| s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        WarmConfig::new("http://127.0.0.1:8080").validate().unwrap();
        WarmConfig::new("redis://10.0.0.2:6379/0")
            .validate()
            .unwrap();
    }

    #[test]
    fn mistakes_are_explained_without_passwords() {
        let e = WarmConfig::new("ftp://user:hunter2@x")
            .validate()
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("expected an http://"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");

        let mut c = WarmConfig::new("http://x");
        c.redis = vec!["redis://a:1".into(), "redis://b:1".into()];
        assert!(c.validate().unwrap_err().to_string().contains("--cluster"));
        c.cluster = true;
        c.validate().unwrap();
        c.redis = vec!["http://:pw@a:1".into()];
        let text = c.validate().unwrap_err().to_string();
        assert!(
            text.contains("redis://") && !text.contains(":pw@"),
            "{text}"
        );

        let mut c = WarmConfig::new("http://x");
        c.ttl_jitter = 1.0;
        assert!(c.validate().is_err());
        c.ttl_jitter = 0.1;
        c.rate = Some(0.0);
        assert!(c.validate().is_err());
        c.rate = None;
        c.ttl = Some(Duration::ZERO);
        assert!(c.validate().is_err());
        c.ttl = Some(crate::ttl::MAX_TTL + Duration::from_secs(1));
        assert!(c.validate().unwrap_err().to_string().contains("100 years"));
        c.ttl = Some(crate::ttl::MAX_TTL);
        c.validate().unwrap();
    }

    #[test]
    fn a_route_ttl_beyond_a_century_names_the_route() {
        let mut c = WarmConfig::new("http://x");
        c.routes = Some(
            Routes::from_toml_str(
                "[[route]]\nname = \"ok\"\nmatch = 'a'\nttl = \"1h\"\n\
                 [[route]]\nname = \"forever\"\nmatch = 'b'\nttl = \"99999999d\"\n",
            )
            .unwrap(),
        );
        let text = c.validate().unwrap_err().to_string();
        assert!(
            text.contains("\"forever\"") && text.contains("100 years"),
            "{text}"
        );
    }

    #[test]
    fn memcached_servers_are_checked() {
        let mut c = WarmConfig::new("http://x");
        c.memcached = vec!["10.0.0.1:11211".into(), "cache-b".into()];
        assert_eq!(c.memcached_servers().unwrap()[1].port, 11211);
        assert_eq!(
            c.target_display(),
            "memcached://10.0.0.1:11211, memcached://cache-b:11211"
        );
        c.validate().unwrap();
        c.memcached.push("cache-b:11211".into());
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("listed twice")
        );
        c.memcached = vec!["h:port".into()];
        assert!(c.validate().unwrap_err().to_string().contains("port"));
        c.memcached = vec!["h:1".into()];
        c.cluster = true;
        assert!(c.validate().unwrap_err().to_string().contains("--cluster"));
        assert_eq!(
            WarmConfig::new("http://x").target_display(),
            DEFAULT_REDIS_URL
        );
    }

    #[test]
    fn secrets_come_from_every_url_and_the_environment_password() {
        let mut c = WarmConfig::new("redis://:origin-pw@a:1");
        c.redis = vec!["redis://:target-pw@b:1".into()];
        c.redis_password = Some("env-pw".into());
        let scrubbed = c.secrets().scrub("origin-pw target-pw env-pw");
        assert_eq!(scrubbed, "*** *** ***");
    }
}
