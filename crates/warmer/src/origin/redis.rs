//! A Redis origin: copy the same keys from a warm Redis (a replica of the
//! cache being rebuilt, say), with their remaining TTLs.
//!
//! Keys are read in pipelines of `GET` (and `PTTL`, unless an explicit TTL
//! makes it unnecessary) of one batch each. Only string values can be
//! copied; a key of another type is reported as such.

use redis::Value;

use super::FetchError;
use crate::config::WarmConfig;
use crate::connection::{RedisNode, explain, is_transport};
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
            .map_err(|e| fail(explain(&e, "--origin")))?;
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

    /// Reads `keys` in one pipeline: one `MGET`, and a `PTTL` per key
    /// when the remaining TTLs are wanted. The outer error is a failure of
    /// the whole request (connection, timeout); inner errors are per key.
    pub async fn fetch(
        &self,
        keys: &[&[u8]],
    ) -> Result<Vec<Result<Fetched, FetchError>>, FetchError> {
        let mut pipe = redis::Pipeline::with_capacity(1 + keys.len());
        pipe.ignore_errors();
        // One MGET costs the server far less than a GET per key; it answers
        // nil for a key of another type, which PTTL (or EXISTS) tells apart.
        pipe.cmd("MGET").arg(keys);
        if self.want_ttl {
            for key in keys {
                pipe.cmd("PTTL").arg(*key);
            }
        }
        let mut replies = self.send(&pipe).await?.into_iter();
        let values = match replies.next() {
            Some(Value::Array(values)) if values.len() == keys.len() => values,
            Some(Value::ServerError(e)) => return Err(FetchError::Origin(self.server_error(&e))),
            other => {
                return Err(FetchError::Origin(format!(
                    "unexpected MGET reply {other:?}"
                )));
            }
        };
        let ttls: Vec<Value> = if self.want_ttl {
            replies.collect()
        } else {
            self.exists_of_nils(keys, &values).await?
        };
        if ttls.len() != keys.len() {
            return Err(FetchError::Origin(format!(
                "{} TTL replies for {} keys",
                ttls.len(),
                keys.len()
            )));
        }
        Ok(values
            .into_iter()
            .zip(ttls)
            .map(|(value, ttl)| self.one(value, ttl))
            .collect())
    }

    /// Without PTTL, the keys MGET answered nil for are looked up with
    /// EXISTS (rare: missing keys and keys of another type). Returns, per
    /// key, `Int(-2)` for a missing key and `Nil` otherwise, in the shape
    /// of PTTL's answer.
    async fn exists_of_nils(
        &self,
        keys: &[&[u8]],
        values: &[Value],
    ) -> Result<Vec<Value>, FetchError> {
        let nils: Vec<usize> = (0..keys.len())
            .filter(|&i| matches!(values[i], Value::Nil))
            .collect();
        let mut out = vec![Value::Nil; keys.len()];
        if nils.is_empty() {
            return Ok(out);
        }
        let mut pipe = redis::Pipeline::with_capacity(nils.len());
        pipe.ignore_errors();
        for &i in &nils {
            pipe.cmd("EXISTS").arg(keys[i]);
        }
        for (&i, exists) in nils.iter().zip(self.send(&pipe).await?) {
            if matches!(exists, Value::Int(0)) {
                out[i] = Value::Int(-2);
            }
        }
        Ok(out)
    }

    async fn send(&self, pipe: &redis::Pipeline) -> Result<Vec<Value>, FetchError> {
        self.node.pipeline(pipe).await.map_err(|e| {
            if e.is_timeout() {
                FetchError::Timeout
            } else if is_transport(&e) {
                FetchError::Connection(self.secrets.scrub(&e.to_string()))
            } else {
                FetchError::Origin(self.secrets.scrub(&e.to_string()))
            }
        })
    }

    fn server_error(&self, e: &redis::ServerError) -> String {
        let text = match e.details() {
            Some(d) => format!("{} {d}", e.code()),
            None => e.code().to_owned(),
        };
        self.secrets.scrub(&text)
    }

    /// One key from its MGET value and its PTTL-shaped answer (-2: no
    /// such key).
    fn one(&self, value: Value, ttl: Value) -> Result<Fetched, FetchError> {
        let value = match value {
            Value::BulkString(bytes) => bytes,
            Value::Nil if matches!(ttl, Value::Int(-2)) => return Err(FetchError::Missing),
            Value::Nil => return Err(FetchError::WrongType),
            Value::ServerError(e) => return Err(FetchError::Origin(self.server_error(&e))),
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
