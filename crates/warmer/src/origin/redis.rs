//! A Redis origin: copy the same keys from a warm Redis (a replica of the
//! cache being rebuilt, say), with their remaining TTLs.
//!
//! Keys are read in pipelines of `GET` (and `PTTL`, unless an explicit TTL
//! makes it unnecessary) of one batch each. Only string values can be
//! copied; a key of another type is reported as such.

use redis::Value;

use super::FetchError;
use crate::config::WarmConfig;
use crate::connection::{RedisNode, is_transport};
use crate::error::WarmError;
use crate::redact::{Secrets, redact_url};

/// One key's value from the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The value.
    pub value: Vec<u8>,
    /// Remaining TTL at the origin in milliseconds; `None` when the key
    /// does not expire there (or the TTL was not asked for).
    pub ttl_ms: Option<u64>,
}

/// The origin Redis of a run.
#[derive(Debug)]
pub struct RedisOrigin {
    node: RedisNode,
    max_value_size: u64,
    want_ttl: bool,
    secrets: Secrets,
}

impl RedisOrigin {
    /// Connects to the origin of `config` and checks it answers.
    pub async fn connect(config: &WarmConfig) -> Result<RedisOrigin, WarmError> {
        let secrets = config.secrets();
        let fail = |reason: String| WarmError::OriginRedis {
            url: redact_url(&config.origin),
            reason: secrets.scrub(&reason),
        };
        let node = RedisNode::from_url(&config.origin, None, config.redis_timeout)
            .map_err(|e| fail(e.to_string()))?;
        node.command(&redis::cmd("PING"))
            .await
            .map_err(|e| fail(e.to_string()))?;
        let mut info = redis::cmd("INFO");
        info.arg("cluster");
        let text = match node.command(&info).await {
            Ok(Value::BulkString(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(Value::VerbatimString { text, .. }) => text,
            _ => String::new(),
        };
        if text.contains("cluster_enabled:1") {
            return Err(fail(
                "this is a Redis Cluster node; a Redis origin must be a standalone server or replica"
                    .into(),
            ));
        }
        Ok(RedisOrigin {
            node,
            max_value_size: config.max_value_size,
            want_ttl: config.ttl.is_none(),
            secrets,
        })
    }

    /// Reads `keys` in one pipeline. The outer error is a failure of the
    /// whole request (connection, timeout); inner errors are per key.
    pub async fn fetch(
        &self,
        keys: &[&[u8]],
    ) -> Result<Vec<Result<Fetched, FetchError>>, FetchError> {
        let per_key = if self.want_ttl { 2 } else { 1 };
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for key in keys {
            pipe.cmd("GET").arg(*key);
            if self.want_ttl {
                pipe.cmd("PTTL").arg(*key);
            }
        }
        let values = self.node.pipeline(&pipe).await.map_err(|e| {
            if e.is_timeout() {
                FetchError::Timeout
            } else if is_transport(&e) {
                FetchError::Connection(self.secrets.scrub(&e.to_string()))
            } else {
                FetchError::Origin(self.secrets.scrub(&e.to_string()))
            }
        })?;
        if values.len() != keys.len() * per_key {
            return Err(FetchError::Origin(format!(
                "{} replies to {} commands",
                values.len(),
                keys.len() * per_key
            )));
        }
        let mut values = values.into_iter();
        let mut out = Vec::with_capacity(keys.len());
        for _ in keys {
            let value = values.next().unwrap_or(Value::Nil);
            let ttl = if self.want_ttl {
                values.next().unwrap_or(Value::Nil)
            } else {
                Value::Nil
            };
            out.push(self.one(value, ttl));
        }
        Ok(out)
    }

    fn one(&self, value: Value, ttl: Value) -> Result<Fetched, FetchError> {
        let value = match value {
            Value::BulkString(bytes) => bytes,
            Value::Nil => return Err(FetchError::Missing),
            Value::ServerError(e) if e.code() == "WRONGTYPE" => return Err(FetchError::WrongType),
            Value::ServerError(e) => {
                let text = match e.details() {
                    Some(d) => format!("{} {d}", e.code()),
                    None => e.code().to_owned(),
                };
                return Err(FetchError::Origin(self.secrets.scrub(&text)));
            }
            other => {
                return Err(FetchError::Origin(format!(
                    "unexpected GET reply {other:?}"
                )));
            }
        };
        if value.len() as u64 > self.max_value_size {
            return Err(FetchError::TooLarge);
        }
        let ttl_ms = match ttl {
            // -2: the key expired between GET and PTTL.
            Value::Int(-2) => return Err(FetchError::Missing),
            Value::Int(ms) if ms > 0 => Some(ms as u64),
            _ => None,
        };
        Ok(Fetched { value, ttl_ms })
    }
}
