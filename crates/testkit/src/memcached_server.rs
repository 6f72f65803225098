//! `memcached` processes owned by a test, and a small synchronous client
//! in the text protocol for setting up and reading back.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::redis_server::free_port;
use crate::wait_until;

const INSTALL_HINT: &str = "the memcached warm tests need memcached on PATH: \
    install the Debian package memcached (apt-get install memcached), or run scripts/test as root, which installs it";

/// How long a server may take to accept connections.
const START_LIMIT: Duration = Duration::from_secs(10);

/// One `memcached` child process on a free loopback port (TCP only), its
/// output in its own directory. Killed when dropped.
pub struct MemcachedServer {
    port: u16,
    dir: TempDir,
    args: Vec<String>,
    child: Option<Child>,
}

impl MemcachedServer {
    /// A plain server: 64 MiB, default item size limit (1 MiB).
    pub fn start() -> MemcachedServer {
        MemcachedServer::start_with(&[])
    }

    /// A server with extra `memcached` arguments, e.g. `["-vv"]` to log
    /// every command (see [`MemcachedServer::log`]).
    pub fn start_with(args: &[&str]) -> MemcachedServer {
        let dir = tempfile::Builder::new()
            .prefix("hotkeys-memcached-")
            .tempdir()
            .expect("create a directory for memcached");
        let mut server = MemcachedServer {
            port: 0,
            dir,
            args: args.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        // A port found free can be taken before memcached binds it.
        for _ in 0..5 {
            // Never memcached's default port, which a machine's own
            // memcached may be about to take.
            server.port = free_port();
            if server.port == 11211 {
                continue;
            }
            if server.spawn() {
                return server;
            }
        }
        panic!(
            "memcached did not start on a free port after 5 tries; its output:\n{}",
            server.log()
        );
    }

    /// Starts the process on `self.port`; false when it exited at once.
    fn spawn(&mut self) -> bool {
        let log = File::create(self.dir.path().join("memcached.log")).expect("memcached log file");
        let mut cmd = Command::new("memcached");
        cmd.args(["-l", "127.0.0.1", "-U", "0", "-p"])
            .arg(self.port.to_string());
        // memcached refuses to run as root unless told which user to be.
        if running_as_root() {
            cmd.args(["-u", "root"]);
        }
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("memcached not found: {INSTALL_HINT}")
            }
            Err(e) => panic!("cannot start memcached: {e}"),
        };
        self.child = Some(child);
        let mut exited = false;
        let ready = wait_until(START_LIMIT, || {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                exited = true;
                return true;
            }
            self.try_command("version")
                .is_ok_and(|reply| reply.starts_with("VERSION "))
        });
        if exited {
            self.child = None;
            return false;
        }
        assert!(
            ready,
            "memcached on port {} did not answer within {START_LIMIT:?}; output:\n{}",
            self.port,
            self.log()
        );
        true
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`, as `--memcached` takes it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What memcached printed (every command, with `-vv`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("memcached.log")).unwrap_or_default()
    }

    fn connect(&self) -> std::io::Result<BufReader<TcpStream>> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        Ok(BufReader::new(stream))
    }

    fn try_command(&self, line: &str) -> std::io::Result<String> {
        let mut conn = self.connect()?;
        conn.get_mut().write_all(format!("{line}\r\n").as_bytes())?;
        read_line(&mut conn)
    }

    /// Sends one command line and returns the first line of the reply
    /// (without `\r\n`).
    pub fn command(&self, line: &str) -> String {
        self.try_command(line)
            .unwrap_or_else(|e| panic!("memcached on port {}: {line:?}: {e}", self.port))
    }

    /// The value of `key`, read with `mg KEY v`.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.meta_get(key, "v").map(|(value, _)| value)
    }

    /// The remaining TTL of `key` in seconds (`-1`: no expiry), read with
    /// `mg KEY t`; `None` when the key is absent.
    pub fn ttl(&self, key: &[u8]) -> Option<i64> {
        let (_, flags) = self.meta_get(key, "t")?;
        let t = flags
            .iter()
            .find_map(|f| f.strip_prefix('t'))
            .expect("mg with t returns the TTL");
        Some(t.parse().expect("TTL is a number"))
    }

    /// `mg KEY FLAGS`: the value (empty unless `v` is asked) and the
    /// returned flags, or `None` for a miss.
    fn meta_get(&self, key: &[u8], flags: &str) -> Option<(Vec<u8>, Vec<String>)> {
        let mut conn = self.connect().expect("connect to test memcached");
        let mut request = b"mg ".to_vec();
        request.extend_from_slice(key);
        request.extend_from_slice(format!(" {flags}\r\n").as_bytes());
        conn.get_mut().write_all(&request).expect("send mg");
        let line = read_line(&mut conn).expect("mg reply");
        let mut words = line.split(' ');
        match words.next() {
            Some("EN") => None,
            Some("HD") => Some((Vec::new(), words.map(str::to_owned).collect())),
            Some("VA") => {
                let size: usize = words.next().and_then(|s| s.parse().ok()).expect("VA size");
                let flags = words.map(str::to_owned).collect();
                let mut value = vec![0; size + 2];
                conn.read_exact(&mut value).expect("value");
                value.truncate(size);
                Some((value, flags))
            }
            _ => panic!("unexpected mg reply {line:?}"),
        }
    }

    /// `set KEY 0 EXPTIME` with `value` (exptime 0: no expiry).
    pub fn set(&self, key: &[u8], value: &[u8], exptime: u64) {
        let mut conn = self.connect().expect("connect to test memcached");
        let mut request = b"set ".to_vec();
        request.extend_from_slice(key);
        request.extend_from_slice(format!(" 0 {exptime} {}\r\n", value.len()).as_bytes());
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
        conn.get_mut().write_all(&request).expect("send set");
        let reply = read_line(&mut conn).expect("set reply");
        assert_eq!(reply, "STORED", "set {:?}", String::from_utf8_lossy(key));
    }

    /// `stats`: every `STAT name value` line.
    pub fn stats(&self) -> BTreeMap<String, String> {
        let mut conn = self.connect().expect("connect to test memcached");
        conn.get_mut().write_all(b"stats\r\n").expect("send stats");
        let mut stats = BTreeMap::new();
        loop {
            let line = read_line(&mut conn).expect("stats reply");
            if line == "END" {
                return stats;
            }
            let mut words = line.splitn(3, ' ');
            if let (Some("STAT"), Some(name), Some(value)) =
                (words.next(), words.next(), words.next())
            {
                stats.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// A numeric statistic, e.g. `curr_items` or `cmd_set` (which counts
    /// `add` and `set`).
    pub fn stat(&self, name: &str) -> u64 {
        self.stats()
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("memcached stat {name} missing"))
    }

    /// Kills the server at once.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for MemcachedServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_line(conn: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "memcached closed the connection",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// True when this process runs as root: the owner of `/proc/self` is the
/// process's user.
fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }
    #[cfg(not(unix))]
    {
        false
    }
}
