//! The harness itself: servers start, answer, survive a restart with
//! their data, and are gone after drop.

use std::time::Duration;

use hotkeys_testkit::{MemcachedServer, Origin, RedisCluster, RedisServer, Reply, wait_until};

#[test]
fn a_standalone_server_keeps_its_data_across_a_saving_restart() {
    let mut server = RedisServer::start();
    assert_ne!(server.port(), 6379);
    server.set(b"k", b"v", Some(60_000));
    server.stop_saving();
    assert!(!server.is_running());
    server.restart();
    assert_eq!(server.get(b"k").as_deref(), Some(&b"v"[..]));
    let dir = server.dir().to_path_buf();
    let port = server.port();
    drop(server);
    assert!(!dir.exists(), "the directory is removed");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the process is gone"
    );
}

#[test]
fn a_memcached_server_stores_reads_back_with_ttls_and_is_gone_after_drop() {
    let server = MemcachedServer::start_with(&["-vv"]);
    assert_ne!(server.port(), 11211);
    assert_eq!(server.addr(), format!("127.0.0.1:{}", server.port()));
    assert_eq!(server.get(b"k"), None);
    assert_eq!(server.ttl(b"k"), None);
    server.set(b"k", b"v\r\nwith bytes", 600);
    server.set(b"forever", b"x", 0);
    assert_eq!(server.get(b"k").as_deref(), Some(&b"v\r\nwith bytes"[..]));
    let ttl = server.ttl(b"k").unwrap();
    assert!((598..=600).contains(&ttl), "{ttl}");
    assert_eq!(server.ttl(b"forever"), Some(-1));
    assert_eq!(server.stat("curr_items"), 2);
    assert_eq!(server.stat("cmd_set"), 2);
    assert!(server.log().contains("set forever"), "-vv logs commands");
    let port = server.port();
    drop(server);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the process is gone"
    );
}

#[test]
fn a_password_protected_server() {
    let server = RedisServer::start_with(&["--requirepass", "pw"]);
    assert!(server.url_with_password().contains(":pw@"));
    assert_eq!(server.dbsize(), 0);
}

#[test]
fn a_cluster_of_three_primaries_with_redis_slots() {
    let cluster = RedisCluster::start();
    assert_eq!(cluster.nodes().len(), 3);
    // The values the warmer's own slot function is tested against.
    assert_eq!(cluster.keyslot("foo"), 12182);
    assert_eq!(cluster.keyslot("bar"), 5061);
    assert_eq!(cluster.keyslot("hello"), 866);
    let owner = cluster.owner(12182);
    cluster.nodes()[owner].set(b"foo", b"1", None);
    assert_eq!(cluster.get(b"foo").as_deref(), Some(&b"1"[..]));
}

#[test]
fn the_origin_answers_as_told_and_records_requests() {
    let origin = Origin::start(|r| match r.target.as_str() {
        "/missing" => Reply::status(404),
        _ => Reply::ok(format!("value of {}", r.target)).in_chunks(3, Duration::from_millis(5)),
    });
    let get = |path: &str| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", origin.port())).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(get("/missing").starts_with("HTTP/1.1 404"));
    let ok = get("/a?b=1");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(
        ok.contains("value of /a?b=1") || ok.contains("value"),
        "{ok}"
    );
    assert!(wait_until(Duration::from_secs(1), || origin.count() == 2));
    assert_eq!(origin.count_of("/a?b=1"), 1);
    assert_eq!(origin.hits()[0].host.as_deref(), Some("t"));
}
