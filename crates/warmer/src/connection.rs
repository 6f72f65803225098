//! One Redis server, reached through a connection that is re-established
//! when it breaks.
//!
//! A multiplexed connection carries every pipeline of the run to that
//! server. When a request fails at the transport level (the server
//! restarted, the network dropped) the connection is discarded and the
//! next request opens a new one; callers decide whether and when to retry.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ConnectionInfo, IntoConnectionInfo, RedisError, Value};
use tokio::time::Instant;

use crate::redact::redact_url;

/// A Redis server and its current connection.
pub struct RedisNode {
    client: redis::Client,
    config: AsyncConnectionConfig,
    timeout: Duration,
    display: String,
    current: Mutex<Option<(u64, MultiplexedConnection)>>,
    connecting: tokio::sync::Mutex<()>,
    generation: AtomicU64,
}

impl std::fmt::Debug for RedisNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisNode")
            .field("display", &self.display)
            .finish_non_exhaustive()
    }
}

/// A connection handed out by [`RedisNode::connection`], tagged so that
/// discarding it cannot discard a newer one.
pub struct Handle {
    generation: u64,
    /// The connection itself (cheap to clone; clones share one socket).
    pub conn: MultiplexedConnection,
}

/// Connection settings from a URL, with `password` when the URL has none.
pub fn connection_info(url: &str, password: Option<&str>) -> Result<ConnectionInfo, RedisError> {
    crate::tls::install_crypto_provider();
    let info = url.into_connection_info()?;
    match password {
        Some(p) if info.redis_settings().password().is_none() => {
            let settings = info.redis_settings().clone().set_password(p);
            Ok(info.set_redis_settings(settings))
        }
        _ => Ok(info),
    }
}

/// True for failures of the connection rather than of a command: worth a
/// reconnect and a retry.
pub fn is_transport(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
}

/// `error` as a message that says what to do about it. `option` names
/// where the URL came from (`--redis or REDIS_URL`, `--origin`).
pub fn explain(error: &RedisError, option: &str) -> String {
    let text = error.to_string();
    let lower = text.to_ascii_lowercase();
    let advice = if lower.contains("wrongpass")
        || lower.contains("noauth")
        || lower.contains("invalid password")
        || lower.contains("authentication")
    {
        "give the password in the URL (redis://:PASSWORD@host:port) or in REDISCLI_AUTH".to_owned()
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        "the server's TLS certificate is not trusted: add its CA to the system store, or point \
         SSL_CERT_FILE at it"
            .to_owned()
    } else if is_transport(error) {
        format!("is the server running there? check {option}")
    } else {
        return text;
    };
    format!("{text} ({advice})")
}

impl RedisNode {
    /// A node for `info`; nothing is connected yet. `display` is how the
    /// node is named in messages (already redacted).
    pub fn new(
        info: ConnectionInfo,
        display: String,
        timeout: Duration,
    ) -> Result<RedisNode, RedisError> {
        let client = redis::Client::open(info)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        Ok(RedisNode {
            client,
            config,
            timeout,
            display,
            current: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
        })
    }

    /// A node from a URL (password from the URL, else `password`).
    pub fn from_url(
        url: &str,
        password: Option<&str>,
        timeout: Duration,
    ) -> Result<RedisNode, RedisError> {
        RedisNode::new(connection_info(url, password)?, redact_url(url), timeout)
    }

    /// How to name this node in messages.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The connection settings (to derive other nodes of a cluster).
    pub fn info(&self) -> &ConnectionInfo {
        self.client.get_connection_info()
    }

    fn current(&self) -> Option<Handle> {
        let slot = self.current.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(|(generation, conn)| Handle {
            generation: *generation,
            conn: conn.clone(),
        })
    }

    /// The current connection, or a new one, by `deadline`: the wait
    /// for another task's connection attempt counts too, so that tasks
    /// queued behind a server that accepts but never answers do not each
    /// spend a full timeout in turn.
    pub async fn connection(&self, deadline: Instant) -> Result<Handle, RedisError> {
        if let Some(handle) = self.current() {
            return Ok(handle);
        }
        // One connect at a time: concurrent callers wait and share it.
        let Ok(_connecting) = tokio::time::timeout_at(deadline, self.connecting.lock()).await
        else {
            return Err(timed_out("timed out waiting for a connection"));
        };
        if let Some(handle) = self.current() {
            return Ok(handle);
        }
        let connect = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config);
        let conn = match tokio::time::timeout_at(deadline, connect).await {
            Ok(result) => result?,
            Err(_) => return Err(timed_out("timed out connecting")),
        };
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, conn.clone()));
        Ok(Handle { generation, conn })
    }

    /// Forgets `handle`'s connection (it failed), unless a newer one has
    /// already replaced it.
    pub fn discard(&self, handle: &Handle) {
        let mut slot = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|(g, _)| *g == handle.generation) {
            *slot = None;
        }
    }

    /// Sends `pipe` and returns one value per (not ignored) command; a
    /// command's error is a `Value::ServerError` in its place. A transport
    /// failure discards the connection. Connecting (if needed) and the
    /// reply together end by `deadline`.
    pub async fn pipeline_by(
        &self,
        pipe: &redis::Pipeline,
        deadline: Instant,
    ) -> Result<Vec<Value>, RedisError> {
        let mut handle = self.connection(deadline).await?;
        let sent = pipe.query_async::<Vec<Value>>(&mut handle.conn);
        let result = match tokio::time::timeout_at(deadline, sent).await {
            Ok(result) => result,
            Err(_) => Err(timed_out("timed out waiting for a reply")),
        };
        if let Err(e) = &result
            && is_transport(e)
        {
            self.discard(&handle);
        }
        result
    }

    /// [`RedisNode::pipeline_by`] within the node's timeout from now.
    pub async fn pipeline(&self, pipe: &redis::Pipeline) -> Result<Vec<Value>, RedisError> {
        self.pipeline_by(pipe, Instant::now() + self.timeout).await
    }

    /// Sends one command, by `deadline`.
    pub async fn command_by(
        &self,
        cmd: &redis::Cmd,
        deadline: Instant,
    ) -> Result<Value, RedisError> {
        let mut pipe = redis::pipe();
        pipe.add_command(cmd.clone());
        let mut values = self.pipeline_by(&pipe, deadline).await?;
        match values.pop() {
            Some(Value::ServerError(e)) => Err(e.into()),
            Some(v) => Ok(v),
            None => Err(RedisError::from(std::io::Error::other("empty reply"))),
        }
    }

    /// Sends one command, within the node's timeout from now.
    pub async fn command(&self, cmd: &redis::Cmd) -> Result<Value, RedisError> {
        self.command_by(cmd, Instant::now() + self.timeout).await
    }
}

/// A timeout, as a transport failure (worth a reconnect and a retry).
fn timed_out(what: &str) -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        what.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_password_fills_only_a_missing_one() {
        let info = connection_info("redis://127.0.0.1:1", Some("env")).unwrap();
        assert_eq!(info.redis_settings().password(), Some("env"));
        let info = connection_info("redis://:url@127.0.0.1:1", Some("env")).unwrap();
        assert_eq!(info.redis_settings().password(), Some("url"));
        let info = connection_info("redis://127.0.0.1:1/3", None).unwrap();
        assert_eq!(info.redis_settings().password(), None);
        assert_eq!(info.redis_settings().db(), 3);
    }

    #[test]
    fn explanations_say_what_to_do() {
        let refused = RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        ));
        assert!(
            explain(&refused, "--origin")
                .ends_with("(is the server running there? check --origin)")
        );
        let auth = RedisError::from((
            redis::ErrorKind::AuthenticationFailed,
            "WRONGPASS invalid username-password pair",
        ));
        assert!(explain(&auth, "--redis").contains("REDISCLI_AUTH"));
        let tls = RedisError::from(std::io::Error::other(
            "invalid peer certificate: UnknownIssuer",
        ));
        assert!(explain(&tls, "--redis").contains("SSL_CERT_FILE"));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_transport_failure() {
        // Port 1 on loopback: nothing listens there.
        let node =
            RedisNode::from_url("redis://127.0.0.1:1", None, Duration::from_secs(2)).unwrap();
        let e = node.command(&redis::cmd("PING")).await.unwrap_err();
        assert!(is_transport(&e), "{e:?}");
    }
}
