//! Which memcached server holds a key: ketama consistent hashing, placed
//! exactly as libmemcached places keys with
//! `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` (pylibmc's `ketama_weighted`),
//! so that the application reads each warmed key from the server it was
//! written to.
//!
//! * Each server puts 160 points on a circle of 2³² positions: 40 MD5
//!   digests of its point names, each cut into four little-endian 32-bit
//!   words. The `n`th name (from 0) is `host-n` when the port is 11211,
//!   memcached's default, and `host:port-n` otherwise, with the host
//!   exactly as configured (a name is not resolved, so `localhost` and
//!   `127.0.0.1` are different servers to the hash).
//! * A key's position is the first four bytes of its MD5 digest, read
//!   little-endian. It belongs to the server of the first point at or
//!   after that position, wrapping around to the first point.
//! * Points at the same position are ordered by server (the order the
//!   servers were given), and a single server takes every key.
//!
//! Adding a server moves only the keys that now fall just before its
//! points: about 1/(n+1) of them.
//!
//! `docs/warm.md` has a worked example, and how this was checked against
//! libmemcached itself.

use std::fmt;

use md5::{Digest, Md5};

/// memcached's default port: a server on it is hashed without the port.
pub const DEFAULT_PORT: u16 = 11211;

/// MD5 digests per server; each gives four points.
pub const DIGESTS_PER_SERVER: u32 = 40;

/// Points per server on the continuum.
pub const POINTS_PER_SERVER: usize = DIGESTS_PER_SERVER as usize * 4;

/// A memcached server: `host:port` as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddr {
    /// The host name or IP address, without brackets for IPv6.
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl ServerAddr {
    /// Reads `HOST:PORT`, `HOST` (port 11211) or `[IPv6]:PORT`.
    pub fn parse(text: &str) -> Result<ServerAddr, String> {
        let text = text.trim();
        if text.contains("://") {
            return Err(format!("{text:?}: give HOST:PORT, without a scheme"));
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("{text:?}: missing ] after the IPv6 address"))?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(format!("{text:?}: expected :PORT after ]")),
                },
            }
        } else {
            match text.rsplit_once(':') {
                Some((host, _)) if host.contains(':') => {
                    return Err(format!(
                        "{text:?}: write an IPv6 address in brackets, e.g. [::1]:11211"
                    ));
                }
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            }
        };
        if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'/') {
            return Err(format!(
                "{text:?}: expected HOST:PORT, e.g. 127.0.0.1:11211"
            ));
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => {
                    return Err(format!(
                        "{text:?}: the port must be a number from 1 to 65535"
                    ));
                }
            },
        };
        Ok(ServerAddr {
            host: host.to_owned(),
            port,
        })
    }

    /// The name hashed for this server's `n`th digest.
    pub fn point_name(&self, n: u32) -> String {
        if self.port == DEFAULT_PORT {
            format!("{}-{n}", self.host)
        } else {
            format!("{}:{}-{n}", self.host, self.port)
        }
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A key's position on the continuum.
pub fn key_hash(key: &[u8]) -> u32 {
    let digest = Md5::digest(key);
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The four points of one MD5 digest of `name`.
pub fn digest_points(name: &str) -> [u32; 4] {
    let d = Md5::digest(name.as_bytes());
    std::array::from_fn(|w| {
        u32::from_le_bytes([d[4 * w], d[4 * w + 1], d[4 * w + 2], d[4 * w + 3]])
    })
}

/// The circle of points for a list of servers.
#[derive(Debug, Clone)]
pub struct Continuum {
    /// Position and server index, sorted by position, then server.
    points: Vec<(u32, usize)>,
    servers: usize,
}

impl Continuum {
    /// The continuum of `servers`, in the order given (it only matters for
    /// points at the same position).
    pub fn new(servers: &[ServerAddr]) -> Continuum {
        let mut points = Vec::with_capacity(servers.len() * POINTS_PER_SERVER);
        for (index, server) in servers.iter().enumerate() {
            for n in 0..DIGESTS_PER_SERVER {
                for value in digest_points(&server.point_name(n)) {
                    points.push((value, index));
                }
            }
        }
        points.sort_unstable();
        Continuum {
            points,
            servers: servers.len(),
        }
    }

    /// The index of the server that holds `key`. There must be at least
    /// one server.
    pub fn server_for(&self, key: &[u8]) -> usize {
        // libmemcached skips hashing when there is nothing to choose.
        if self.servers <= 1 {
            return 0;
        }
        let hash = key_hash(key);
        let at = self.points.partition_point(|&(value, _)| value < hash);
        self.points.get(at).unwrap_or(&self.points[0]).1
    }

    /// Every point, sorted: position and server index.
    pub fn points(&self) -> &[(u32, usize)] {
        &self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> ServerAddr {
        ServerAddr::parse(text).unwrap()
    }

    #[test]
    fn addresses_are_read_and_mistakes_explained() {
        assert_eq!(
            addr("10.0.0.1:11212"),
            ServerAddr {
                host: "10.0.0.1".into(),
                port: 11212
            }
        );
        assert_eq!(addr("cache-a").port, DEFAULT_PORT);
        assert_eq!(addr("[::1]:11300").host, "::1");
        assert_eq!(addr("[::1]:11300").to_string(), "[::1]:11300");
        assert_eq!(addr("[::1]").port, DEFAULT_PORT);
        for bad in [
            "",
            ":11211",
            "h:0",
            "h:x",
            "h:70000",
            "::1:11211",
            "[::1",
            "a b:1",
            "memcached://h:1",
        ] {
            assert!(ServerAddr::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn point_names_leave_out_the_default_port() {
        assert_eq!(addr("10.0.0.1:11211").point_name(0), "10.0.0.1-0");
        assert_eq!(addr("10.0.0.1:11211").point_name(39), "10.0.0.1-39");
        assert_eq!(addr("127.0.0.1:21211").point_name(7), "127.0.0.1:21211-7");
    }

    // Expected values computed independently with Python's hashlib:
    //   d = hashlib.md5(b"10.0.0.1-0").digest()
    //   [hex(int.from_bytes(d[4*w:4*w+4], "little")) for w in range(4)]
    // (the digest is 3c7894215ba8d63692f5edf1cfb8a940).
    #[test]
    fn points_are_the_little_endian_words_of_the_md5_digest() {
        assert_eq!(
            digest_points("10.0.0.1-0"),
            [0x2194_783c, 0x36d6_a85b, 0xf1ed_f592, 0x40a9_b8cf]
        );
        // hashlib.md5(b"127.0.0.1:21211-0") = 54ee7d59d7b62cfe9bbd7c5129873994
        assert_eq!(digest_points("127.0.0.1:21211-0")[0], 0x597d_ee54);
        // hashlib.md5(b"/api/products/1") = 794397c3493a9d016a0287bfac3f1182
        assert_eq!(key_hash(b"/api/products/1"), 0xc397_4379);
        // hashlib.md5(b"/") = 6666cd76f96956469e7be39d750cc7d9
        assert_eq!(key_hash(b"/"), 0x76cd_6666);
    }

    fn three() -> Vec<ServerAddr> {
        ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]
            .map(addr)
            .to_vec()
    }

    // The worked example of docs/warm.md, computed with an independent
    // Python model of the continuum (hashlib and bisect), which agreed
    // with libmemcached 1.1.4's memcached_generate_hash on 10,000 keys.
    #[test]
    fn the_worked_example_lands_where_libmemcached_puts_it() {
        let c = Continuum::new(&three());
        assert_eq!(c.points().len(), 3 * POINTS_PER_SERVER);
        assert!(c.points().windows(2).all(|w| w[0] <= w[1]));
        // 0xc3974379 is caught by 0xc4032f89, the 4th word of "10.0.0.2-0".
        assert_eq!(c.server_for(b"/api/products/1"), 1);
        assert_eq!(digest_points("10.0.0.2-0")[3], 0xc403_2f89);
        assert!(c.points().contains(&(0xc403_2f89, 1)));
        // 0xadf491fb is caught by 0xae046b64, the 4th word of "10.0.0.1-20".
        assert_eq!(digest_points("10.0.0.1-20")[3], 0xae04_6b64);
        assert_eq!(c.server_for(b"product:42"), 0);
        // 0x76cd6666 is caught by 0x77bc0ffc, the 1st word of "10.0.0.3-29".
        assert_eq!(digest_points("10.0.0.3-29")[0], 0x77bc_0ffc);
        assert_eq!(c.server_for(b"/"), 2);
    }

    #[test]
    fn positions_past_the_last_point_wrap_to_the_first() {
        let c = Continuum::new(&three());
        let last = c.points().last().unwrap().0;
        assert!(last < u32::MAX);
        let first = c.points()[0];
        // Find a key whose position is past the last point.
        let key = (0u32..)
            .map(|i| format!("k{i}"))
            .find(|k| key_hash(k.as_bytes()) > last)
            .unwrap();
        assert_eq!(c.server_for(key.as_bytes()), first.1);
    }

    #[test]
    fn one_server_takes_every_key() {
        let c = Continuum::new(&[addr("127.0.0.1:1")]);
        assert!((0..100).all(|i| c.server_for(format!("k{i}").as_bytes()) == 0));
    }

    #[test]
    fn keys_spread_evenly_and_a_fourth_server_moves_about_a_quarter() {
        let keys: Vec<String> = (0..20_000).map(|i| format!("/api/products/{i}")).collect();
        let servers = three();
        let before = Continuum::new(&servers);
        let mut counts = [0usize; 3];
        for k in &keys {
            counts[before.server_for(k.as_bytes())] += 1;
        }
        for n in counts {
            let share = n as f64 / keys.len() as f64;
            assert!((0.25..0.42).contains(&share), "uneven spread {counts:?}");
        }
        let mut four = servers.clone();
        four.push(addr("10.0.0.4:11211"));
        let after = Continuum::new(&four);
        let mut moved = 0;
        for k in &keys {
            let (a, b) = (
                before.server_for(k.as_bytes()),
                after.server_for(k.as_bytes()),
            );
            if a != b {
                // A key only ever moves to the new server.
                assert_eq!(b, 3, "{k} moved between old servers");
                moved += 1;
            }
        }
        let share = moved as f64 / keys.len() as f64;
        assert!((0.18..0.32).contains(&share), "{share} of keys moved");
    }
}
