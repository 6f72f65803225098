//! `redis-server` processes owned by a test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use redis::{Commands, ConnectionLike, Value};
use tempfile::TempDir;

use crate::wait_until;

const INSTALL_HINT: &str = "the warm tests need redis-server and redis-cli on PATH: \
    install the Debian package redis-server (apt-get install redis-server), or run scripts/test as root, which installs it";

/// How long a server may take to accept connections.
const START_LIMIT: Duration = Duration::from_secs(10);

/// A loopback port that was free a moment ago (never 6379).
pub fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        if port != 6379 {
            return port;
        }
    }
}

/// One `redis-server` child process with its own directory.
pub struct RedisServer {
    port: u16,
    dir: TempDir,
    args: Vec<String>,
    password: Option<String>,
    /// For a TLS-only server: the CA certificate (PEM) clients trust.
    tls_ca: Option<Vec<u8>>,
    child: Option<Child>,
}

impl RedisServer {
    /// A plain server: no persistence, no password.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// A server with extra `redis-server` arguments, e.g.
    /// `["--requirepass", "s3cret"]`.
    pub fn start_with(args: &[&str]) -> RedisServer {
        RedisServer::launch(args, None)
    }

    /// A server that accepts only TLS connections, with the certificate
    /// `server.pem`/`server.key` and the CA `ca.pem` found in `certs`.
    pub fn start_tls(certs: &Path) -> RedisServer {
        let file = |name: &str| certs.join(name).to_string_lossy().into_owned();
        let ca = std::fs::read(certs.join("ca.pem")).expect("read the test CA");
        let (cert, key, ca_file) = (file("server.pem"), file("server.key"), file("ca.pem"));
        RedisServer::launch(
            &[
                "--tls-cert-file",
                &cert,
                "--tls-key-file",
                &key,
                "--tls-ca-cert-file",
                &ca_file,
                "--tls-auth-clients",
                "no",
            ],
            Some(ca),
        )
    }

    fn launch(args: &[&str], tls_ca: Option<Vec<u8>>) -> RedisServer {
        let dir = tempfile::Builder::new()
            .prefix("hotkeys-redis-")
            .tempdir()
            .expect("create a directory for redis-server");
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let password = args
            .iter()
            .position(|a| a == "--requirepass")
            .and_then(|i| args.get(i + 1).cloned());
        let mut server = RedisServer {
            port: 0,
            dir,
            args,
            password,
            tls_ca,
            child: None,
        };
        // A port found free can be taken before redis-server binds it;
        // another one is then tried.
        for _ in 0..5 {
            server.port = free_port();
            if server.spawn() {
                return server;
            }
        }
        panic!(
            "redis-server did not start on a free port after 5 tries; its log:\n{}",
            server.log()
        );
    }

    /// Starts the process on `self.port`; false when it exited at once
    /// (port taken).
    fn spawn(&mut self) -> bool {
        let mut cmd = Command::new("redis-server");
        if self.tls_ca.is_some() {
            cmd.args(["--port", "0", "--tls-port"]);
        } else {
            cmd.arg("--port");
        }
        cmd.arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.dir.path().join("redis.log"))
            .args(["--daemonize", "no"])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("redis-server not found: {INSTALL_HINT}")
            }
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        self.child = Some(child);
        let ready = wait_until(START_LIMIT, || {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                return true;
            }
            self.ping()
        });
        let exited = self
            .child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
        if exited {
            self.child = None;
            return false;
        }
        assert!(
            ready,
            "redis-server on port {} did not answer PING within {START_LIMIT:?}; log:\n{}",
            self.port,
            self.log()
        );
        true
    }

    fn client(&self) -> redis::RedisResult<redis::Client> {
        match &self.tls_ca {
            None => redis::Client::open(self.url_with_password()),
            Some(ca) => {
                // The redis crate's TLS needs a process-wide rustls provider.
                let _ = rustls::crypto::ring::default_provider().install_default();
                redis::Client::build_with_tls(
                    self.url_with_password(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(ca.clone()),
                    },
                )
            }
        }
    }

    fn ping(&self) -> bool {
        let Ok(client) = self.client() else {
            return false;
        };
        client
            .get_connection_with_timeout(Duration::from_millis(200))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id while the server runs: for tests that freeze it
    /// (SIGSTOP) to stand for a server that hangs without closing its
    /// connections.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `redis://127.0.0.1:PORT` (`rediss://` for TLS), without the
    /// password.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.port)
    }

    fn scheme(&self) -> &'static str {
        if self.tls_ca.is_some() {
            "rediss"
        } else {
            "redis"
        }
    }

    /// The URL with the password, when the server has one.
    pub fn url_with_password(&self) -> String {
        match &self.password {
            Some(p) => format!("{}://:{p}@127.0.0.1:{}", self.scheme(), self.port),
            None => self.url(),
        }
    }

    /// The server's directory (its log and dump live there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    /// A new synchronous connection (for setting up and reading back).
    pub fn connection(&self) -> redis::Connection {
        self.client()
            .expect("redis URL")
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect to test redis on port {}: {e}", self.port))
    }

    /// `GET key`.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.connection().get(key).expect("GET")
    }

    /// `GET key` preceded by `ASKING`, to read a key in a slot that is
    /// being imported by this node.
    pub fn get_asking(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut c = self.connection();
        let (value,): (Option<Vec<u8>>,) = redis::pipe()
            .cmd("ASKING")
            .ignore()
            .cmd("GET")
            .arg(key)
            .query(&mut c)
            .expect("ASKING + GET");
        value
    }

    /// `PTTL key` (-2: no key, -1: no expiry).
    pub fn pttl(&self, key: &[u8]) -> i64 {
        self.connection().pttl(key).expect("PTTL")
    }

    /// `SET key value`, with a TTL in milliseconds when given.
    pub fn set(&self, key: &[u8], value: &[u8], ttl_ms: Option<u64>) {
        let mut c = self.connection();
        match ttl_ms {
            Some(ms) => redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ms)
                .exec(&mut c),
            None => redis::cmd("SET").arg(key).arg(value).exec(&mut c),
        }
        .expect("SET");
    }

    /// `DBSIZE`.
    pub fn dbsize(&self) -> u64 {
        redis::cmd("DBSIZE")
            .query(&mut self.connection())
            .expect("DBSIZE")
    }

    /// Every key.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.connection().keys("*").expect("KEYS")
    }

    /// Runs a command and returns its reply.
    pub fn command(&self, args: &[&str]) -> Value {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        self.connection()
            .req_command(&cmd)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// `INFO section` as text.
    pub fn info(&self, section: &str) -> String {
        info_text(self.command(&["INFO", section]))
    }

    /// Stops the server, saving its data to disk first (`SHUTDOWN SAVE`),
    /// so that [`RedisServer::restart`] brings the same keys back.
    pub fn stop_saving(&mut self) {
        let _ = redis::cmd("SHUTDOWN")
            .arg("SAVE")
            .exec(&mut self.connection());
        if let Some(mut child) = self.child.take() {
            let gone = wait_until(Duration::from_secs(10), || {
                matches!(child.try_wait(), Ok(Some(_)))
            });
            if !gone {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Kills the server at once (no save).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart a stopped server");
        for _ in 0..50 {
            if self.spawn() {
                return;
            }
            // The old socket may linger a moment.
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "redis-server did not restart on port {}; log:\n{}",
            self.port,
            self.log()
        );
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Redis Cluster of three primaries (no replicas), each its own
/// `redis-server`, created with `redis-cli --cluster create`.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three cluster-enabled servers, joins them and waits until
    /// every node reports `cluster_state:ok` and sees all 16384 slots.
    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                ])
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    panic!("redis-cli not found: {INSTALL_HINT}")
                }
                panic!("cannot run redis-cli: {e}")
            });
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let cluster = RedisCluster { nodes };
        let ok = wait_until(Duration::from_secs(30), || cluster.is_settled());
        assert!(
            ok,
            "the test cluster did not reach cluster_state:ok within 30s"
        );
        cluster
    }

    fn is_settled(&self) -> bool {
        self.nodes.iter().all(|n| {
            let info = info_text(n.command(&["CLUSTER", "INFO"]));
            info.contains("cluster_state:ok") && info.contains("cluster_slots_assigned:16384")
        })
    }

    /// The nodes.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// A seed URL (the first node).
    pub fn seed_url(&self) -> String {
        self.nodes[0].url()
    }

    /// The slot of `key`, as the cluster computes it.
    pub fn keyslot(&self, key: &str) -> u16 {
        match self.nodes[0].command(&["CLUSTER", "KEYSLOT", key]) {
            Value::Int(n) => n as u16,
            other => panic!("CLUSTER KEYSLOT: {other:?}"),
        }
    }

    /// The index of the node that owns `slot`, according to node 0.
    pub fn owner(&self, slot: u16) -> usize {
        let Value::Array(ranges) = self.nodes[0].command(&["CLUSTER", "SLOTS"]) else {
            panic!("CLUSTER SLOTS");
        };
        for range in ranges {
            let Value::Array(f) = range else { continue };
            let (Value::Int(a), Value::Int(b)) = (&f[0], &f[1]) else {
                continue;
            };
            if (*a..=*b).contains(&i64::from(slot))
                && let Value::Array(node) = &f[2]
                && let Value::Int(port) = &node[1]
            {
                return self
                    .nodes
                    .iter()
                    .position(|n| i64::from(n.port()) == *port)
                    .expect("owner is one of ours");
            }
        }
        panic!("slot {slot} has no owner");
    }

    /// The node id of node `i`.
    pub fn node_id(&self, i: usize) -> String {
        match self.nodes[i].command(&["CLUSTER", "MYID"]) {
            Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::SimpleString(s) => s,
            other => panic!("CLUSTER MYID: {other:?}"),
        }
    }

    /// `GET key` on the node that owns it.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let slot = self.keyslot(&String::from_utf8_lossy(key));
        self.nodes[self.owner(slot)].get(key)
    }

    /// `PTTL key` on the node that owns it.
    pub fn pttl(&self, key: &[u8]) -> i64 {
        let slot = self.keyslot(&String::from_utf8_lossy(key));
        self.nodes[self.owner(slot)].pttl(key)
    }

    /// Keys stored on each node.
    pub fn dbsizes(&self) -> Vec<u64> {
        self.nodes.iter().map(RedisServer::dbsize).collect()
    }

    /// Marks `slot` as migrating from node `from` to node `to` and leaves
    /// it so: `from` answers `ASK` for keys it does not have.
    pub fn begin_migration(&self, slot: u16, from: usize, to: usize) {
        let (from_id, to_id) = (self.node_id(from), self.node_id(to));
        let slot = slot.to_string();
        self.nodes[to].command(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", &from_id]);
        self.nodes[from].command(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", &to_id]);
    }

    /// Moves `slot` (which must hold no keys) from node `from` to node
    /// `to`, telling every node: afterwards `from` answers `MOVED`.
    pub fn move_empty_slot(&self, slot: u16, from: usize, to: usize) {
        self.begin_migration(slot, from, to);
        self.finish_migration(slot, to);
    }

    /// Completes a migration begun with [`RedisCluster::begin_migration`]
    /// (keys already in the slot on the old node are moved too).
    pub fn finish_migration(&self, slot: u16, to: usize) {
        let to_id = self.node_id(to);
        let slot_text = slot.to_string();
        let from = self.owner(slot);
        if from != to {
            // Move whatever the old owner still has in the slot.
            loop {
                let keys = match self.nodes[from].command(&[
                    "CLUSTER",
                    "GETKEYSINSLOT",
                    &slot_text,
                    "100",
                ]) {
                    Value::Array(k) => k,
                    _ => Vec::new(),
                };
                if keys.is_empty() {
                    break;
                }
                for key in keys {
                    let Value::BulkString(key) = key else {
                        continue;
                    };
                    let key = String::from_utf8_lossy(&key).into_owned();
                    let port = self.nodes[to].port().to_string();
                    self.nodes[from].command(&["MIGRATE", "127.0.0.1", &port, &key, "0", "5000"]);
                }
            }
        }
        // The new owner first, so that it bumps its epoch and wins.
        self.nodes[to].command(&["CLUSTER", "SETSLOT", &slot_text, "NODE", &to_id]);
        for (i, node) in self.nodes.iter().enumerate() {
            if i != to {
                node.command(&["CLUSTER", "SETSLOT", &slot_text, "NODE", &to_id]);
            }
        }
    }

    /// Node directories, for debugging.
    pub fn dirs(&self) -> Vec<PathBuf> {
        self.nodes.iter().map(|n| n.dir().to_path_buf()).collect()
    }
}

/// The text of an `INFO`-style reply.
fn info_text(reply: Value) -> String {
    match reply {
        Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::VerbatimString { text, .. } => text,
        _ => String::new(),
    }
}
