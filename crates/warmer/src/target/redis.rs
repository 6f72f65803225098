//! The Redis being warmed: a standalone server or a Redis Cluster.
//!
//! Work arrives in batches of keys. A batch is cut into one pipeline per
//! node (not per slot: a node serving thousands of slots still gets one
//! round trip), and the pipelines go out concurrently. Replies are read
//! per command, so one key's redirect does not disturb the others:
//!
//! * `MOVED slot host:port`: the slot map is stale; the command goes to the
//!   named node and the map is refreshed from `CLUSTER SLOTS`.
//! * `ASK slot host:port`: the slot is being migrated; the command goes to
//!   the named node once, preceded by `ASKING`.
//! * `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`: wait and retry.
//! * a transport failure (the server restarted, the network dropped): the
//!   connection is re-established and the pipeline sent again, with
//!   back-off, for up to the Redis timeout. After that the target is
//!   considered lost and every later request fails at once, so that the
//!   run stops rather than fetch values it cannot store.
//!
//! The Redis timeout is one budget per batch, not per wait: connecting,
//! waiting for another task's connection attempt, each reply, the pauses
//! between retries and slot map refreshes all end by the batch's start
//! plus the timeout. A server that accepts connections but never answers
//! (hung, or stopped with SIGSTOP) therefore costs one timeout, and the
//! first batch to give up marks the target lost, which ends the waits of
//! every other batch at once.
//!
//! Retrying a write is safe: `SET … NX` that already succeeded answers
//! nil the second time (the key is then counted as present), and a plain
//! `SET` rewrites the same value.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::{ConnectionAddr, ConnectionInfo, ServerErrorKind, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::WarmConfig;
use crate::connection::{RedisNode, explain, is_transport};
use crate::error::WarmError;
use crate::redact::{Secrets, redact_url};

use super::slots::{SLOTS, parse_cluster_slots, slot, split_address};
use super::{Write, Written};

/// Redirects one command may follow before it fails.
const MAX_REDIRECTS: u32 = 5;

/// The Redis being warmed.
#[derive(Debug)]
pub struct RedisTarget {
    topology: Topology,
    timeout: Duration,
    /// True once Redis stayed unreachable for the whole timeout.
    lost: watch::Sender<bool>,
    /// False while requests fail at the transport level.
    reachable: watch::Sender<bool>,
    secrets: Secrets,
    display: String,
}

#[derive(Debug)]
enum Topology {
    Standalone(Arc<RedisNode>),
    Cluster(Box<Cluster>),
}

#[derive(Debug)]
struct Cluster {
    /// Settings (TLS, password, database) shared by every node.
    template: ConnectionInfo,
    seeds: Vec<Arc<RedisNode>>,
    nodes: RwLock<HashMap<String, Arc<RedisNode>>>,
    /// Slot → primary address.
    slots: RwLock<Vec<Option<Arc<str>>>>,
}

/// Where one pending command goes.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Route {
    /// The standalone server; in a cluster, the first seed, for a slot
    /// whose owner is not known (it answers with a redirect).
    Default,
    /// The cluster node at this `host:port`.
    Node(Arc<str>),
}

impl RedisTarget {
    /// Connects to the Redis of `config` and checks it is what the
    /// configuration says: a writable standalone server, or (with
    /// `cluster`) a cluster whose slots are all served.
    pub async fn connect(config: &WarmConfig) -> Result<RedisTarget, WarmError> {
        let secrets = config.secrets();
        let password = config.redis_password.as_deref();
        // Connecting and checking share one timeout, as a batch does.
        let deadline = Instant::now() + config.redis_timeout;
        let display = config
            .redis
            .iter()
            .map(|u| redact_url(u))
            .collect::<Vec<_>>()
            .join(", ");
        let fail = |url: &str, reason: String| WarmError::Redis {
            url: redact_url(url),
            reason: secrets.scrub(&reason),
        };
        let mut seeds = Vec::new();
        for url in &config.redis {
            let node = RedisNode::from_url(url, password, config.redis_timeout)
                .map_err(|e| fail(url, e.to_string()))?;
            seeds.push(Arc::new(node));
        }
        let topology = if config.cluster {
            let template = seeds[0].info().clone();
            let cluster = Cluster {
                template,
                seeds,
                nodes: RwLock::new(HashMap::new()),
                slots: RwLock::new(vec![None; SLOTS]),
            };
            cluster
                .refresh(config.redis_timeout, deadline)
                .await
                .map_err(|reason| WarmError::Redis {
                    url: display.clone(),
                    reason: secrets.scrub(&reason),
                })?;
            let unserved = cluster
                .slots
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .filter(|s| s.is_none())
                .count();
            if unserved > 0 {
                return Err(WarmError::Redis {
                    url: display,
                    reason: format!(
                        "{unserved} of the cluster's {SLOTS} slots have no node; fix the cluster (redis-cli --cluster check) before warming it"
                    ),
                });
            }
            Topology::Cluster(Box::new(cluster))
        } else {
            let node = seeds.remove(0);
            check_standalone(&node, deadline)
                .await
                .map_err(|reason| fail(&config.redis[0], reason))?;
            Topology::Standalone(node)
        };
        Ok(RedisTarget {
            topology,
            timeout: config.redis_timeout,
            lost: watch::Sender::new(false),
            reachable: watch::Sender::new(true),
            secrets,
            display,
        })
    }

    /// The target as shown in messages (redacted).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// True once Redis stayed unreachable for longer than the timeout.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Resolves once Redis is lost.
    async fn until_lost(&self) {
        let mut rx = self.lost.subscribe();
        if rx.wait_for(|lost| *lost).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Every pending key fails: Redis is lost.
    fn fail_lost(&self, pending: &[usize], results: &mut [Option<Result<Value, String>>]) {
        let reason = format!("Redis at {} is unreachable", self.display);
        for &i in pending {
            results[i] = Some(Err(reason.clone()));
        }
    }

    /// Resolves while Redis is reachable (at once, normally); during an
    /// outage, once a retry got through. Never resolves once Redis is lost.
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

    /// Which of `keys` exist, with one pipelined `EXISTS` per key (a
    /// multi-key `EXISTS` only returns a count, and in a cluster needs
    /// one slot).
    pub async fn exists(&self, keys: &[&[u8]]) -> Vec<Result<bool, String>> {
        self.execute(keys, |i, pipe| {
            pipe.cmd("EXISTS").arg(keys[i]);
        })
        .await
        .into_iter()
        .map(|r| match r? {
            Value::Int(n) => Ok(n > 0),
            other => Err(format!("unexpected EXISTS reply {other:?}")),
        })
        .collect()
    }

    /// Writes `items` with `SET key value PX ttl`, plus `NX` unless
    /// `overwrite`.
    pub async fn write(
        &self,
        items: &[Write<'_>],
        overwrite: bool,
    ) -> Vec<Result<Written, String>> {
        let keys: Vec<&[u8]> = items.iter().map(|w| w.key).collect();
        self.execute(&keys, |i, pipe| {
            let w = &items[i];
            let set = pipe
                .cmd("SET")
                .arg(w.key)
                .arg(w.value)
                .arg("PX")
                .arg(w.ttl_ms);
            if !overwrite {
                set.arg("NX");
            }
        })
        .await
        .into_iter()
        .map(|r| match r? {
            Value::Okay => Ok(Written::Stored),
            Value::SimpleString(s) if s == "OK" => Ok(Written::Stored),
            Value::Nil => Ok(Written::Present),
            other => Err(format!("unexpected SET reply {other:?}")),
        })
        .collect()
    }

    /// Runs one command per key, routed to the node serving each key,
    /// following redirects and riding out short outages, all within the
    /// Redis timeout from now. `build(i, pipe)` appends the command for
    /// `keys[i]` (it may be called again for a retry). Results are in the
    /// order of `keys`.
    pub async fn execute<F>(&self, keys: &[&[u8]], build: F) -> Vec<Result<Value, String>>
    where
        F: Fn(usize, &mut redis::Pipeline) + Sync,
    {
        let mut results: Vec<Option<Result<Value, String>>> = vec![None; keys.len()];
        let mut pending: Vec<usize> = (0..keys.len()).collect();
        let mut asking: HashMap<usize, Arc<str>> = HashMap::new();
        let mut redirects = vec![0u32; keys.len()];
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut attempt = 0u32;
        let mut last_failure = String::new();

        while !pending.is_empty() {
            if self.is_lost() {
                self.fail_lost(&pending, &mut results);
                break;
            }
            // Group by node; keys of one node share a pipeline.
            let mut groups: HashMap<Route, Vec<usize>> = HashMap::new();
            for &i in &pending {
                let route = match asking.get(&i) {
                    Some(addr) => Route::Node(Arc::clone(addr)),
                    None => self.route(keys[i]),
                };
                groups.entry(route).or_default().push(i);
            }
            let sends = groups.into_iter().map(|(route, indices)| {
                let asking = &asking;
                let build = &build;
                async move {
                    let node = self.node(&route);
                    let mut pipe = redis::Pipeline::with_capacity(indices.len());
                    pipe.ignore_errors();
                    for &i in &indices {
                        if asking.contains_key(&i) {
                            pipe.cmd("ASKING").ignore();
                        }
                        build(i, &mut pipe);
                    }
                    let result = match node {
                        Ok(node) => node.pipeline_by(&pipe, deadline).await.map_err(|e| {
                            let transport = is_transport(&e);
                            (e.to_string(), transport)
                        }),
                        Err(e) => Err((e, true)),
                    };
                    (indices, result)
                }
            });
            // Another batch that gave up on Redis ends this one's waits too.
            let outcomes = tokio::select! {
                outcomes = futures_util::future::join_all(sends) => outcomes,
                () = self.until_lost() => {
                    self.fail_lost(&pending, &mut results);
                    break;
                }
            };

            let mut next = Vec::new();
            let mut transport_failed = false;
            let mut wait = false;
            let mut refresh = false;
            for (indices, result) in outcomes {
                match result {
                    Err((message, true)) => {
                        transport_failed = true;
                        last_failure = message;
                        next.extend(indices);
                    }
                    Err((message, false)) => {
                        for i in indices {
                            results[i] = Some(Err(self.secrets.scrub(&message)));
                        }
                    }
                    Ok(values) if values.len() != indices.len() => {
                        let message = format!(
                            "Redis answered {} replies to {} commands",
                            values.len(),
                            indices.len()
                        );
                        for i in indices {
                            results[i] = Some(Err(message.clone()));
                        }
                    }
                    Ok(values) => {
                        for (i, value) in indices.into_iter().zip(values) {
                            let Value::ServerError(error) = value else {
                                asking.remove(&i);
                                results[i] = Some(Ok(value));
                                continue;
                            };
                            let redirect = error.details().and_then(parse_redirect);
                            match (error.kind(), redirect) {
                                (Some(ServerErrorKind::Moved), Some((slot, addr)))
                                    if redirects[i] < MAX_REDIRECTS =>
                                {
                                    redirects[i] += 1;
                                    asking.remove(&i);
                                    self.learn(slot, &addr);
                                    refresh = true;
                                    next.push(i);
                                }
                                (Some(ServerErrorKind::Ask), Some((_, addr)))
                                    if redirects[i] < MAX_REDIRECTS =>
                                {
                                    redirects[i] += 1;
                                    asking.insert(i, Arc::from(addr.as_str()));
                                    next.push(i);
                                }
                                (
                                    Some(
                                        ServerErrorKind::TryAgain
                                        | ServerErrorKind::ClusterDown
                                        | ServerErrorKind::BusyLoading
                                        | ServerErrorKind::MasterDown,
                                    ),
                                    _,
                                ) => {
                                    wait = true;
                                    last_failure = server_error_text(&error);
                                    next.push(i);
                                }
                                _ => {
                                    asking.remove(&i);
                                    results[i] =
                                        Some(Err(self.secrets.scrub(&server_error_text(&error))));
                                }
                            }
                        }
                    }
                }
            }
            self.set_reachable(!transport_failed);
            pending = next;
            if pending.is_empty() {
                break;
            }
            if transport_failed || wait {
                // 50 ms, doubling, at most 1 s: quick for a restart, gentle
                // for a server that is loading its data.
                let delay = Duration::from_millis(50 << attempt.min(4)).min(Duration::from_secs(1));
                if Instant::now() + delay >= deadline {
                    if transport_failed {
                        self.lost.send_replace(true);
                    }
                    let reason = self.secrets.scrub(&format!(
                        "Redis at {} failed for {:.1}s: {last_failure}",
                        self.display,
                        started.elapsed().as_secs_f64()
                    ));
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
                if transport_failed {
                    refresh = true;
                }
            }
            if refresh && let Topology::Cluster(cluster) = &self.topology {
                // Best effort: a failed refresh leaves the learned entries.
                let _ = cluster.refresh(self.timeout, deadline).await;
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("no reply".into())))
            .collect()
    }

    fn route(&self, key: &[u8]) -> Route {
        match &self.topology {
            Topology::Standalone(_) => Route::Default,
            Topology::Cluster(cluster) => {
                let slots = cluster.slots.read().unwrap_or_else(|e| e.into_inner());
                match &slots[usize::from(slot(key))] {
                    Some(addr) => Route::Node(Arc::clone(addr)),
                    None => Route::Default,
                }
            }
        }
    }

    fn node(&self, route: &Route) -> Result<Arc<RedisNode>, String> {
        match (&self.topology, route) {
            (Topology::Standalone(node), _) => Ok(Arc::clone(node)),
            (Topology::Cluster(cluster), Route::Node(addr)) => cluster.node(addr, self.timeout),
            (Topology::Cluster(cluster), Route::Default) => Ok(Arc::clone(&cluster.seeds[0])),
        }
    }

    fn learn(&self, slot: u16, addr: &str) {
        if let Topology::Cluster(cluster) = &self.topology {
            let mut slots = cluster.slots.write().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = slots.get_mut(usize::from(slot)) {
                *entry = Some(Arc::from(addr));
            }
        }
    }
}

impl Cluster {
    /// The node at `addr`, connecting lazily with the seed's settings.
    fn node(&self, addr: &str, timeout: Duration) -> Result<Arc<RedisNode>, String> {
        if let Some(node) = self
            .nodes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(addr)
        {
            return Ok(Arc::clone(node));
        }
        let (host, port) =
            split_address(addr).ok_or_else(|| format!("bad node address {addr:?}"))?;
        let tls = match self.template.addr() {
            ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => Some((*insecure, tls_params.clone())),
            _ => None,
        };
        let scheme = if tls.is_some() { "rediss" } else { "redis" };
        let addr_info = match tls {
            Some((insecure, tls_params)) => ConnectionAddr::TcpTls {
                host,
                port,
                insecure,
                tls_params,
            },
            None => ConnectionAddr::Tcp(host, port),
        };
        let info = self.template.clone().set_addr(addr_info);
        let node = RedisNode::new(info, format!("{scheme}://{addr}"), timeout)
            .map_err(|e| e.to_string())?;
        let node = Arc::new(node);
        let mut nodes = self.nodes.write().unwrap_or_else(|e| e.into_inner());
        Ok(Arc::clone(nodes.entry(addr.to_owned()).or_insert(node)))
    }

    /// Reloads the slot map from the first node that answers `CLUSTER
    /// SLOTS` by `deadline`: the known primaries first, then the seeds.
    /// `timeout` is the Redis timeout, for nodes met for the first time.
    async fn refresh(&self, timeout: Duration, deadline: Instant) -> Result<(), String> {
        let mut candidates: Vec<Arc<RedisNode>> = self
            .nodes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        candidates.extend(self.seeds.iter().cloned());
        let mut problems = Vec::new();
        for node in candidates {
            let mut cmd = redis::cmd("CLUSTER");
            cmd.arg("SLOTS");
            let reply = match node.command_by(&cmd, deadline).await {
                Ok(reply) => reply,
                Err(e) => {
                    let text = explain(&e, "--redis");
                    if text.contains("cluster support disabled") {
                        return Err(format!(
                            "{} is not a cluster node; leave out --cluster to warm a standalone Redis",
                            node.display()
                        ));
                    }
                    problems.push(format!("{}: {text}", node.display()));
                    continue;
                }
            };
            let asked_host = match node.info().addr() {
                ConnectionAddr::Tcp(host, _) | ConnectionAddr::TcpTls { host, .. } => host.clone(),
                _ => String::new(),
            };
            let ranges = parse_cluster_slots(&reply, &asked_host)?;
            let mut map: Vec<Option<Arc<str>>> = vec![None; SLOTS];
            for range in ranges {
                let addr: Arc<str> = Arc::from(range.primary.as_str());
                self.node(&addr, timeout)?;
                for s in range.start..=range.end {
                    map[usize::from(s)] = Some(Arc::clone(&addr));
                }
            }
            *self.slots.write().unwrap_or_else(|e| e.into_inner()) = map;
            return Ok(());
        }
        Err(format!(
            "no cluster node answered CLUSTER SLOTS ({})",
            problems.join("; ")
        ))
    }
}

/// Checks, by `deadline`, that a standalone target is reachable and
/// writable.
async fn check_standalone(node: &RedisNode, deadline: Instant) -> Result<(), String> {
    let pong = node
        .command_by(&redis::cmd("PING"), deadline)
        .await
        .map_err(|e| explain(&e, "--redis or REDIS_URL"))?;
    if !matches!(
        pong,
        Value::SimpleString(_) | Value::Okay | Value::BulkString(_)
    ) {
        return Err(format!("unexpected PING reply {pong:?}"));
    }
    let mut info = redis::cmd("INFO");
    info.arg("cluster");
    let text = match node.command_by(&info, deadline).await {
        Ok(Value::BulkString(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(Value::VerbatimString { text, .. }) => text,
        _ => String::new(),
    };
    if text.contains("cluster_enabled:1") {
        return Err(
            "this is a Redis Cluster node: add --cluster (and give one or more nodes as seeds)"
                .into(),
        );
    }
    if let Ok(Value::Array(role)) = node.command_by(&redis::cmd("ROLE"), deadline).await
        && let Some(Value::BulkString(name)) = role.first()
        && name == b"slave"
    {
        return Err("this is a read-only replica: point --redis at the primary".into());
    }
    Ok(())
}

/// `"3999 127.0.0.1:6381"` → slot and address.
fn parse_redirect(details: &str) -> Option<(u16, String)> {
    let mut parts = details.split_ascii_whitespace();
    let slot = parts.next()?.parse().ok()?;
    let addr = parts.next()?.to_owned();
    Some((slot, addr))
}

fn server_error_text(error: &redis::ServerError) -> String {
    match error.details() {
        Some(d) => format!("{} {d}", error.code()),
        None => error.code().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_are_read() {
        assert_eq!(
            parse_redirect("3999 127.0.0.1:6381"),
            Some((3999, "127.0.0.1:6381".into()))
        );
        assert_eq!(parse_redirect("x y"), None);
        assert_eq!(parse_redirect(""), None);
    }

    #[tokio::test]
    async fn an_unreachable_target_is_a_clear_fatal_error() {
        let mut config = WarmConfig::new("http://127.0.0.1:1");
        config.redis = vec!["redis://:topsecret@127.0.0.1:1".into()];
        config.redis_timeout = Duration::from_secs(1);
        let e = RedisTarget::connect(&config).await.unwrap_err().to_string();
        assert!(e.contains("redis://:***@127.0.0.1:1"), "{e}");
        assert!(
            e.contains("is the server running there? check --redis or REDIS_URL"),
            "{e}"
        );
        assert!(!e.contains("topsecret"), "{e}");
    }
}
