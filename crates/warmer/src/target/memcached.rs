//! memcached servers being warmed, spoken to in the text protocol over
//! plain TCP.
//!
//! Each key belongs to the server ketama hashing picks ([`crate::ketama`],
//! as libmemcached does), so the application finds it where it looks. A
//! batch is cut into one pipeline per server: every command is sent
//! before the first reply is read, and every command has exactly one reply
//! line, so the replies line up with the keys.
//!
//! * Presence: `mg KEY` (meta get without flags: `HD` present, `EN`
//!   absent), which sends no value back. A server older than 1.6 does not
//!   know meta commands (found out when connecting); its keys are then
//!   not checked, and `add` alone keeps the values that are there.
//! * Writes: `add KEY 0 EXPTIME BYTES` (stored only when absent:
//!   `NOT_STORED` means present), or `set` to overwrite. Values are stored
//!   with flags 0, which clients read as plain bytes or a string.
//! * Expiry: memcached reads an expiry above 30 days as a Unix time, so a
//!   longer TTL is sent as now + TTL.
//! * Keys memcached cannot hold (over 250 bytes, spaces, control
//!   characters) are refused in the plan and never reach this module; a
//!   key like that would also desynchronise the pipeline, since memcached
//!   would read the value that follows as a command.
//!
//! Outages are ridden out as for Redis: a transport failure drops the
//! connection and the server's pipeline is sent again with back-off, for
//! up to the timeout from the start of the batch; after that the target
//! is lost, which also ends the waits of every other batch, and the run
//! stops. (Each step of sending a pipeline has the whole timeout, so that
//! a large batch on a slow link is not mistaken for a hung server.)
//! Sending `add` again is safe (a value that did get stored answers
//! `NOT_STORED`, and the key is counted as present); so is `set`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, timeout};

use hotkeys_contract::format_duration;

use super::{Failure, Write, Written};
use crate::config::WarmConfig;
use crate::error::WarmError;
use crate::ketama::{Continuum, ServerAddr};

/// The longest key the text protocol accepts.
pub const MAX_KEY_BYTES: usize = 250;

/// Expiries above this many seconds are read by memcached as Unix times.
const RELATIVE_EXPIRY_LIMIT: u64 = 30 * 24 * 3600;

/// Idle connections kept per server: enough for the writes in flight.
const IDLE_PER_SERVER: usize = 16;

/// The longest reply line read; memcached's are a few dozen bytes.
const MAX_REPLY_LINE: u64 = 4096;

/// Bytes written per timed step, so a large pipeline on a slow link is
/// not mistaken for a server that stopped reading.
const WRITE_STEP: usize = 1 << 20;

/// True when memcached's text protocol can carry `key`: 1 to 250 bytes,
/// none of them a space or a control character.
pub fn valid_key(key: &[u8]) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_BYTES && key.iter().all(|&b| b > b' ' && b != 0x7f)
}

/// The expiry to send for a TTL of `ttl_ms` at Unix time `now`: whole
/// seconds, rounded up (0 would mean "never expires"), as a Unix time
/// when above 30 days.
pub fn exptime(ttl_ms: u64, now: u64) -> u64 {
    let seconds = ttl_ms.div_ceil(1000).max(1);
    if seconds > RELATIVE_EXPIRY_LIMIT {
        now.saturating_add(seconds)
    } else {
        seconds
    }
}

type Conn = BufStream<TcpStream>;

/// memcached servers being warmed.
#[derive(Debug)]
pub struct MemcachedTarget {
    servers: Vec<Server>,
    continuum: Continuum,
    timeout: Duration,
    /// True once a server stayed unreachable for the whole timeout.
    lost: watch::Sender<bool>,
    /// False while requests fail at the transport level.
    reachable: watch::Sender<bool>,
    display: String,
}

#[derive(Debug)]
struct Server {
    addr: ServerAddr,
    idle: Mutex<Vec<Conn>>,
    /// The server knows meta commands (memcached 1.6 and later).
    meta: AtomicBool,
}

impl MemcachedTarget {
    /// Connects to every server of `config.memcached` and checks that each
    /// is a memcached that answers.
    pub async fn connect(config: &WarmConfig) -> Result<MemcachedTarget, WarmError> {
        let addrs = config.memcached_servers()?;
        let display = addrs
            .iter()
            .map(|a| format!("memcached://{a}"))
            .collect::<Vec<_>>()
            .join(", ");
        let target = MemcachedTarget {
            continuum: Continuum::new(&addrs),
            servers: addrs
                .into_iter()
                .map(|addr| Server {
                    addr,
                    idle: Mutex::new(Vec::new()),
                    meta: AtomicBool::new(true),
                })
                .collect(),
            timeout: config.redis_timeout,
            lost: watch::Sender::new(false),
            reachable: watch::Sender::new(true),
            display,
        };
        for server in &target.servers {
            target
                .check(server)
                .await
                .map_err(|reason| WarmError::Memcached {
                    server: server.addr.to_string(),
                    reason,
                })?;
        }
        Ok(target)
    }

    /// `version` tells a memcached from anything else listening there;
    /// `mn` (meta no-op) whether it knows meta commands.
    async fn check(&self, server: &Server) -> Result<(), String> {
        let mut conn = connect(&server.addr, self.timeout)
            .await
            .map_err(|e| format!("{e}; is memcached running there? check --memcached"))?;
        let lines = self.exchange(&mut conn, b"version\r\nmn\r\n", 2).await?;
        if !lines[0].starts_with(b"VERSION ") {
            return Err(format!(
                "this does not look like memcached: it answered {:?} to `version`",
                String::from_utf8_lossy(&lines[0])
            ));
        }
        server.meta.store(lines[1] == b"MN", Ordering::Relaxed);
        give_back(server, conn);
        Ok(())
    }

    /// The servers as shown in messages.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// True once a server stayed unreachable for longer than the timeout.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Resolves once the target is lost.
    async fn until_lost(&self) {
        let mut rx = self.lost.subscribe();
        if rx.wait_for(|lost| *lost).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Every pending key fails: the target is lost.
    fn fail_lost(&self, pending: &[usize], results: &mut [Option<Result<Vec<u8>, String>>]) {
        let reason = format!("memcached ({}) is unreachable", self.display);
        for &i in pending {
            results[i] = Some(Err(reason.clone()));
        }
    }

    /// Resolves while every server is reachable; during an outage, once a
    /// retry got through. Never resolves once the target is lost.
    pub async fn reachable(&self) {
        let mut rx = self.reachable.subscribe();
        loop {
            if *rx.borrow_and_update() {
                return;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    fn set_reachable(&self, reachable: bool) {
        self.reachable.send_if_modified(|current| {
            let changed = *current != reachable;
            *current = reachable;
            changed
        });
    }

    /// The index of the server that holds `key`.
    pub fn server_for(&self, key: &[u8]) -> usize {
        self.continuum.server_for(key)
    }

    /// Which of `keys` are present, with one `mg KEY` per key. Keys on a
    /// server without meta commands are reported absent: `add` keeps
    /// their values anyway.
    pub async fn exists(&self, keys: &[&[u8]]) -> Vec<Result<bool, Failure>> {
        let asked: Vec<usize> = (0..keys.len())
            .filter(|&i| {
                self.servers[self.server_for(keys[i])]
                    .meta
                    .load(Ordering::Relaxed)
            })
            .collect();
        let asked_keys: Vec<&[u8]> = asked.iter().map(|&i| keys[i]).collect();
        let replies = self
            .execute(&asked_keys, |i, buf| {
                buf.extend_from_slice(b"mg ");
                buf.extend_from_slice(asked_keys[i]);
                buf.extend_from_slice(b"\r\n");
            })
            .await;
        let mut results: Vec<Result<bool, Failure>> = vec![Ok(false); keys.len()];
        for (i, reply) in asked.into_iter().zip(replies) {
            results[i] = match reply {
                Ok(line) if line == b"HD" => Ok(true),
                Ok(line) if line == b"EN" => Ok(false),
                Ok(line) => Err(failure("memcached_check", &line)),
                Err(detail) => Err(Failure {
                    reason: "memcached_check",
                    detail,
                }),
            };
        }
        results
    }

    /// Writes `items` with `add` (only where absent), or `set` when
    /// `overwrite`.
    pub async fn write(
        &self,
        items: &[Write<'_>],
        overwrite: bool,
    ) -> Vec<Result<Written, Failure>> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let keys: Vec<&[u8]> = items.iter().map(|w| w.key).collect();
        let verb: &[u8] = if overwrite { b"set " } else { b"add " };
        self.execute(&keys, |i, buf| {
            let w = &items[i];
            buf.extend_from_slice(verb);
            buf.extend_from_slice(w.key);
            let header = format!(" 0 {} {}\r\n", exptime(w.ttl_ms, now), w.value.len());
            buf.extend_from_slice(header.as_bytes());
            buf.extend_from_slice(w.value);
            buf.extend_from_slice(b"\r\n");
        })
        .await
        .into_iter()
        .map(|reply| match reply {
            Ok(line) if line == b"STORED" => Ok(Written::Stored),
            Ok(line) if line == b"NOT_STORED" && !overwrite => Ok(Written::Present),
            Ok(line) if line.starts_with(b"SERVER_ERROR object too large") => Err(Failure {
                reason: "too_large",
                detail: "memcached refused it: larger than its item size limit (memcached -I)"
                    .into(),
            }),
            Ok(line) => Err(failure("memcached_write", &line)),
            Err(detail) => Err(Failure {
                reason: "memcached_write",
                detail,
            }),
        })
        .collect()
    }

    /// Sends one command per key, each to the server that holds the key,
    /// one pipeline per server, riding out short outages. `build(i, buf)`
    /// appends the command for `keys[i]` (it may be called again for a
    /// retry). Replies are in the order of `keys`: the reply line, or why
    /// there is none.
    async fn execute<F>(&self, keys: &[&[u8]], build: F) -> Vec<Result<Vec<u8>, String>>
    where
        F: Fn(usize, &mut Vec<u8>) + Sync,
    {
        let mut results: Vec<Option<Result<Vec<u8>, String>>> = vec![None; keys.len()];
        let mut pending: Vec<usize> = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            if valid_key(key) {
                pending.push(i);
            } else {
                // The plan refuses these; a caller that skipped it must
                // still not desynchronise a pipeline.
                results[i] = Some(Err("key not valid for memcached".into()));
            }
        }
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut last_failure = String::new();
        while !pending.is_empty() {
            if self.is_lost() {
                self.fail_lost(&pending, &mut results);
                break;
            }
            let mut groups: Vec<Vec<usize>> = vec![Vec::new(); self.servers.len()];
            for &i in &pending {
                groups[self.server_for(keys[i])].push(i);
            }
            let sends = groups
                .into_iter()
                .enumerate()
                .filter(|(_, indices)| !indices.is_empty())
                .map(|(s, indices)| {
                    let build = &build;
                    async move {
                        let mut buf = Vec::new();
                        for &i in &indices {
                            build(i, &mut buf);
                        }
                        let result = self.pipeline(s, &buf, indices.len()).await;
                        (s, indices, result)
                    }
                });
            let outcomes = tokio::select! {
                outcomes = futures_util::future::join_all(sends) => outcomes,
                () = self.until_lost() => {
                    self.fail_lost(&pending, &mut results);
                    break;
                }
            };
            let mut next = Vec::new();
            for (s, indices, result) in outcomes {
                match result {
                    Ok(lines) => {
                        for (i, line) in indices.into_iter().zip(lines) {
                            results[i] = Some(Ok(line));
                        }
                    }
                    Err(e) => {
                        last_failure = format!("{}: {e}", self.servers[s].addr);
                        next.extend(indices);
                    }
                }
            }
            self.set_reachable(next.is_empty());
            pending = next;
            if pending.is_empty() {
                break;
            }
            // As for Redis: quick after a restart, gentle while it lasts.
            let delay = Duration::from_millis(50 << attempt.min(4)).min(Duration::from_secs(1));
            if started.elapsed() + delay >= self.timeout {
                self.lost.send_replace(true);
                let reason = format!(
                    "memcached failed for {:.1}s: {last_failure}",
                    started.elapsed().as_secs_f64()
                );
                for &i in &pending {
                    results[i] = Some(Err(reason.clone()));
                }
                break;
            }
            attempt += 1;
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.until_lost() => {
                    self.fail_lost(&pending, &mut results);
                    break;
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("no reply".into())))
            .collect()
    }

    /// One pipeline to server `s`: `commands`, then `count` reply lines.
    /// An error is a transport failure (worth a retry on a new connection).
    async fn pipeline(
        &self,
        s: usize,
        commands: &[u8],
        count: usize,
    ) -> Result<Vec<Vec<u8>>, String> {
        let server = &self.servers[s];
        let pooled = server.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => connect(&server.addr, self.timeout).await?,
        };
        match self.exchange(&mut conn, commands, count).await {
            Ok(lines) => {
                // A reply outside the protocol may mean the stream is out
                // of step; such a connection is not used again.
                if lines.iter().all(|l| known_reply(l)) {
                    give_back(server, conn);
                }
                Ok(lines)
            }
            Err(e) => {
                // The other idle connections went through the same outage.
                server
                    .idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear();
                Err(e)
            }
        }
    }

    /// Writes `commands` and reads `count` reply lines, each step within
    /// the timeout.
    async fn exchange(
        &self,
        conn: &mut Conn,
        commands: &[u8],
        count: usize,
    ) -> Result<Vec<Vec<u8>>, String> {
        let limit = self.timeout;
        let late = || format!("no answer within {}", format_duration(limit));
        for step in commands.chunks(WRITE_STEP) {
            timeout(limit, conn.write_all(step))
                .await
                .map_err(|_| late())?
                .map_err(|e| e.to_string())?;
        }
        timeout(limit, conn.flush())
            .await
            .map_err(|_| late())?
            .map_err(|e| e.to_string())?;
        let mut lines = Vec::with_capacity(count);
        for _ in 0..count {
            let mut line = Vec::new();
            let read = timeout(
                limit,
                (&mut *conn)
                    .take(MAX_REPLY_LINE)
                    .read_until(b'\n', &mut line),
            )
            .await
            .map_err(|_| late())?
            .map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the server closed the connection".into());
            }
            if !line.ends_with(b"\r\n") {
                return Err("the server sent an incomplete or overlong reply line".into());
            }
            line.truncate(line.len() - 2);
            lines.push(line);
        }
        Ok(lines)
    }
}

async fn connect(addr: &ServerAddr, limit: Duration) -> Result<Conn, String> {
    let stream = timeout(limit, TcpStream::connect((addr.host.as_str(), addr.port)))
        .await
        .map_err(|_| format!("cannot connect within {}", format_duration(limit)))?
        .map_err(|e| format!("cannot connect: {e}"))?;
    // Pipelines are written whole; waiting to fill packets only adds latency.
    let _ = stream.set_nodelay(true);
    Ok(BufStream::new(stream))
}

fn give_back(server: &Server, conn: Conn) {
    let mut idle = server.idle.lock().unwrap_or_else(|e| e.into_inner());
    if idle.len() < IDLE_PER_SERVER {
        idle.push(conn);
    }
}

/// A reply line of the commands this module sends.
fn known_reply(line: &[u8]) -> bool {
    matches!(
        line,
        b"HD" | b"EN" | b"STORED" | b"NOT_STORED" | b"EXISTS" | b"NOT_FOUND"
    ) || line.starts_with(b"SERVER_ERROR ")
}

fn failure(reason: &'static str, line: &[u8]) -> Failure {
    Failure {
        reason,
        detail: format!("memcached answered {:?}", String::from_utf8_lossy(line)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex as StdMutex};

    use super::*;

    #[test]
    fn keys_memcached_cannot_carry_are_told_apart() {
        assert!(valid_key(b"product:42"));
        assert!(valid_key(b"/caf\xc3\xa9?q=1"));
        assert!(valid_key(&[b'k'; MAX_KEY_BYTES]));
        assert!(!valid_key(&[b'k'; MAX_KEY_BYTES + 1]));
        assert!(!valid_key(b""));
        assert!(!valid_key(b"a b"));
        assert!(!valid_key(b"a\r\nflush_all"));
        assert!(!valid_key(b"a\tb"));
        assert!(!valid_key(b"a\x7fb"));
    }

    #[test]
    fn ttls_become_seconds_and_long_ones_unix_times() {
        let now = 1_800_000_000;
        assert_eq!(exptime(1, now), 1, "never 0, which means no expiry");
        assert_eq!(exptime(1_000, now), 1);
        assert_eq!(exptime(1_001, now), 2);
        assert_eq!(exptime(3_600_000, now), 3600);
        let month = RELATIVE_EXPIRY_LIMIT * 1000;
        assert_eq!(exptime(month, now), RELATIVE_EXPIRY_LIMIT);
        assert_eq!(exptime(month + 1000, now), now + RELATIVE_EXPIRY_LIMIT + 1);
        assert_eq!(exptime(365 * 86_400_000, now), now + 365 * 86_400);
    }

    /// A server that speaks like memcached 1.5: no meta commands. Answers
    /// `add` with NOT_STORED for the key `present`, and records every
    /// command line.
    async fn old_memcached() -> (String, Arc<StdMutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let mut conn = BufStream::new(socket);
                    loop {
                        let mut line = String::new();
                        if conn.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let words: Vec<&str> = line.split_whitespace().collect();
                        log.lock().unwrap().push(line.trim_end().to_owned());
                        let reply: &[u8] = match words.first().copied() {
                            Some("version") => b"VERSION 1.5.22\r\n",
                            Some("add") => {
                                let len: usize = words[4].parse().unwrap();
                                let mut data = vec![0; len + 2];
                                conn.read_exact(&mut data).await.unwrap();
                                if words[1] == "present" {
                                    b"NOT_STORED\r\n"
                                } else {
                                    b"STORED\r\n"
                                }
                            }
                            _ => b"ERROR\r\n",
                        };
                        conn.write_all(reply).await.unwrap();
                        conn.flush().await.unwrap();
                    }
                });
            }
        });
        (addr, seen)
    }

    #[tokio::test]
    async fn a_server_without_meta_commands_is_not_asked_and_add_keeps_its_values() {
        let (addr, seen) = old_memcached().await;
        let mut config = WarmConfig::new("http://127.0.0.1:1");
        config.memcached = vec![addr];
        let target = MemcachedTarget::connect(&config).await.unwrap();
        let found = target.exists(&[b"present", b"absent"]).await;
        assert_eq!(found, [Ok(false), Ok(false)]);
        let written = target
            .write(
                &[
                    Write {
                        key: b"present",
                        value: b"new",
                        ttl_ms: 60_000,
                    },
                    Write {
                        key: b"absent",
                        value: b"v",
                        ttl_ms: 1,
                    },
                ],
                false,
            )
            .await;
        assert_eq!(written, [Ok(Written::Present), Ok(Written::Stored)]);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            ["version", "mn", "add present 0 60 3", "add absent 0 1 1"]
        );
    }

    #[tokio::test]
    async fn something_else_listening_is_refused_at_the_start() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let mut conn = BufStream::new(socket);
            let mut line = String::new();
            conn.read_line(&mut line).await.unwrap();
            conn.write_all(b"-ERR unknown command 'version'\r\n-ERR unknown command 'mn'\r\n")
                .await
                .unwrap();
            conn.flush().await.unwrap();
            let _ = conn.read_line(&mut line).await;
        });
        let mut config = WarmConfig::new("http://127.0.0.1:1");
        config.memcached = vec![addr.clone()];
        let e = MemcachedTarget::connect(&config)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&addr) && e.contains("does not look like memcached"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_clear_fatal_error() {
        let mut config = WarmConfig::new("http://127.0.0.1:1");
        config.memcached = vec!["127.0.0.1:1".into()];
        let e = MemcachedTarget::connect(&config)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cannot use memcached at 127.0.0.1:1: cannot connect"),
            "{e}"
        );
        assert!(e.contains("check --memcached"), "{e}");
    }

    #[test]
    fn reply_lines_outside_the_protocol_are_noticed() {
        assert!(known_reply(b"STORED"));
        assert!(known_reply(b"SERVER_ERROR out of memory storing object"));
        assert!(!known_reply(b"ERROR"));
        assert!(!known_reply(b"CLIENT_ERROR bad data chunk"));
        assert!(!known_reply(b"VALUE k 0 1"));
    }
}
