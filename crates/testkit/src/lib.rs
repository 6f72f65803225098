//! Real servers for hotkeys' tests and benchmarks: `redis-server`
//! processes (standalone and a three-primary cluster) and `memcached`
//! processes on free loopback ports, and an HTTP origin running
//! in-process that answers however a test needs and records every
//! request it receives.
//!
//! Every server is stopped when its handle is dropped, also when a test
//! panics: the child process is killed and its directory removed. Nothing
//! here ever touches a Redis or memcached the machine already runs (ports
//! 6379 and 11211 are never used), and all traffic stays on 127.0.0.1.
//!
//! A test that needs `redis-server` or `memcached` and does not find it
//! fails with a message saying how to install it; it never skips
//! silently.

#![forbid(unsafe_code)]

pub mod memcached_server;
pub mod origin;
pub mod redis_server;

pub use memcached_server::MemcachedServer;
pub use origin::{Hit, Origin, Reply, Request};
pub use redis_server::{RedisCluster, RedisServer};

/// Waits until `ready()` is true, checking every 10 ms, for at most
/// `limit`. Returns whether it became true.
pub fn wait_until(limit: std::time::Duration, mut ready: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    loop {
        if ready() {
            return true;
        }
        if std::time::Instant::now() >= end {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
