//! The cache being warmed: Redis (standalone or Cluster) or a set of
//! memcached servers. A run sees only [`Target`]: a batch presence check
//! and a batch write, plus whether the cache is reachable, so the check,
//! fetch and write stages are the same for both.

pub mod memcached;
pub mod redis;
pub mod slots;

use crate::config::WarmConfig;
use crate::control::StopReason;
use crate::error::WarmError;

use self::memcached::MemcachedTarget;
use self::redis::RedisTarget;

/// A value to write.
#[derive(Debug)]
pub struct Write<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value.
    pub value: &'a [u8],
    /// Time to live in milliseconds.
    pub ttl_ms: u64,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The value was stored.
    Stored,
    /// The key was present (the application wrote it meanwhile): `SET …
    /// NX` answered nil, or memcached's `add` answered `NOT_STORED`.
    Present,
}

/// Why one key could not be checked or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The reason in the summary, e.g. `redis_write`, `too_large`.
    pub reason: &'static str,
    /// What happened, for people.
    pub detail: String,
}

/// The cache being warmed.
#[derive(Debug)]
pub enum Target {
    /// A standalone Redis or a Redis Cluster.
    Redis(RedisTarget),
    /// memcached servers, keys placed by ketama hashing.
    Memcached(MemcachedTarget),
}

impl Target {
    /// Connects to the cache `config` names: memcached when it lists
    /// memcached servers, else Redis.
    pub async fn connect(config: &WarmConfig) -> Result<Target, WarmError> {
        if config.memcached.is_empty() {
            Ok(Target::Redis(RedisTarget::connect(config).await?))
        } else {
            Ok(Target::Memcached(MemcachedTarget::connect(config).await?))
        }
    }

    /// The cache as shown in messages (redacted).
    pub fn display(&self) -> &str {
        match self {
            Target::Redis(t) => t.display(),
            Target::Memcached(t) => t.display(),
        }
    }

    /// The kind of cache, for messages: `Redis` or `memcached`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Redis(_) => "Redis",
            Target::Memcached(_) => "memcached",
        }
    }

    /// Why the run stops when this cache is lost.
    pub fn lost_reason(&self) -> StopReason {
        match self {
            Target::Redis(_) => StopReason::RedisLost,
            Target::Memcached(_) => StopReason::MemcachedLost,
        }
    }

    /// True once the cache stayed unreachable for longer than the timeout.
    pub fn is_lost(&self) -> bool {
        match self {
            Target::Redis(t) => t.is_lost(),
            Target::Memcached(t) => t.is_lost(),
        }
    }

    /// Resolves while the cache is reachable; during an outage, once a
    /// retry got through. Never resolves once it is lost.
    pub async fn reachable(&self) {
        match self {
            Target::Redis(t) => t.reachable().await,
            Target::Memcached(t) => t.reachable().await,
        }
    }

    /// Which of `keys` are present, in the order of `keys`.
    pub async fn exists(&self, keys: &[&[u8]]) -> Vec<Result<bool, Failure>> {
        match self {
            Target::Redis(t) => t
                .exists(keys)
                .await
                .into_iter()
                .map(|r| {
                    r.map_err(|detail| Failure {
                        reason: "redis_check",
                        detail,
                    })
                })
                .collect(),
            Target::Memcached(t) => t.exists(keys).await,
        }
    }

    /// Writes `items`; unless `overwrite`, only where the key is absent.
    /// Results are in the order of `items`.
    pub async fn write(
        &self,
        items: &[Write<'_>],
        overwrite: bool,
    ) -> Vec<Result<Written, Failure>> {
        match self {
            Target::Redis(t) => t
                .write(items, overwrite)
                .await
                .into_iter()
                .map(|r| {
                    r.map_err(|detail| Failure {
                        reason: "redis_write",
                        detail,
                    })
                })
                .collect(),
            Target::Memcached(t) => t.write(items, overwrite).await,
        }
    }
}
