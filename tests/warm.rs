//! End-to-end tests of `hotkeys warm`: the real binary against real
//! `redis-server` processes (standalone and a three-primary cluster),
//! real `memcached` processes and a real HTTP origin, all started by the
//! test on loopback ports and stopped when the test ends, also when it
//! fails.
//!
//! Expected values never come from hotkeys: they are what the test's
//! origin served or what the test stored in the origin Redis, and they are
//! read back from Redis or memcached directly.

mod harness;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use harness::{
    BIN, MAY_1, RUN_LIMIT, combined_line, command, expect_code, finish, fixture, hotkeys, scratch,
    spawn, u64_at, write,
};
use hotkeys_testkit::{MemcachedServer, Origin, RedisCluster, RedisServer, Reply, wait_until};
use serde_json::Value;

const HOUR_MS: i64 = 3_600_000;

// ---------------------------------------------------------------------------
// Reading the summary

fn read_summary(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("summary file written");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("summary is not JSON ({e}):\n{text}"))
}

#[track_caller]
fn count(summary: &Value, field: &str) -> u64 {
    u64_at(summary, &format!("/{field}"))
}

fn reason(summary: &Value, name: &str) -> u64 {
    summary["failed_by_reason"][name].as_u64().unwrap_or(0)
}

/// The keys listed under `field` (`failed_keys`, `unfinished_keys`).
fn listed(summary: &Value, field: &str) -> BTreeSet<String> {
    summary[field]
        .as_array()
        .unwrap_or_else(|| panic!("summary.{field} missing"))
        .iter()
        .map(|k| k["key"].as_str().expect("key is text").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------
// Logs and lists

/// A log in which `targets[i]` is requested `counts[i]` times.
fn log_of(entries: &[(&str, usize)]) -> String {
    let mut log = String::new();
    for (target, n) in entries {
        for _ in 0..*n {
            log.push_str(&combined_line(MAY_1 + 12 * 3600, "GET", target, 200, 512));
        }
    }
    log
}

/// A plain list of `n` product paths, hottest first.
fn product_keys(n: usize) -> String {
    (1..=n).map(|i| format!("/api/products/{i}\n")).collect()
}

/// The value the standard origin serves for `target`.
fn value_of(target: &str) -> Vec<u8> {
    format!("value of {target}").into_bytes()
}

/// An origin that serves `value of TARGET` for everything.
fn echo_origin() -> Origin {
    Origin::start(|r| Reply::ok(value_of(&r.target)))
}

#[track_caller]
fn assert_ttl_in_band(ttl_ms: i64, ttl: i64, jitter: f64, elapsed: Duration) {
    let low = (ttl as f64 * (1.0 - jitter)) as i64 - elapsed.as_millis() as i64 - 1000;
    assert!(
        ttl_ms > low && ttl_ms <= ttl,
        "TTL {ttl_ms} ms is outside the jitter band [{low}, {ttl}]"
    );
}

// ---------------------------------------------------------------------------
// Rank → warm → read back

#[test]
fn rank_then_warm_then_read_back_with_errors_left_out_and_hostile_targets_refused() {
    let dir = scratch();
    // A second server standing for "any other host": nothing may reach it.
    let elsewhere = Origin::start(|_| Reply::ok("stolen"));
    let origin = Origin::start(|r| match r.target.as_str() {
        "/missing" => Reply::status(404),
        "/broken" => Reply::status(500),
        "/big" => Reply::ok(vec![b'x'; 4096]),
        _ => Reply::ok(value_of(&r.target)),
    });
    let redis = RedisServer::start();

    let steal = format!("http://127.0.0.1:{}/steal", elsewhere.port());
    let mut entries: Vec<(String, usize)> = (1..=20)
        .map(|i| (format!("/api/products/{i}"), 100 - i))
        .collect();
    for (target, n) in [
        ("/missing", 50),
        ("/broken", 40),
        ("/big", 30),
        (steal.as_str(), 60),
        ("/a/../../etc/passwd", 55),
        ("/files/%2e%2e/%2e%2e/secret", 45),
        ("/a%0d%0aSet-Cookie:%20x=1", 35),
        ("/esc\u{1b}[2Jpath", 25),
    ] {
        entries.push((target.to_owned(), n));
    }
    let log: Vec<(&str, usize)> = entries.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    let log_path = write(dir.path(), "access.log", log_of(&log).as_bytes());
    let list = dir.path().join("warm.json");
    let out = hotkeys(
        &[
            "rank",
            log_path.to_str().unwrap(),
            "--top",
            "0",
            "--format",
            "json",
            "-o",
            list.to_str().unwrap(),
        ],
        None,
        &[],
    );
    expect_code(&out, 0);

    let summary_path = dir.path().join("summary.json");
    let started = Instant::now();
    let out = hotkeys(
        &[
            "warm",
            list.to_str().unwrap(),
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--max-value-size",
            "1KiB",
            "--summary",
            summary_path.to_str().unwrap(),
        ],
        None,
        &[],
    );
    let elapsed = started.elapsed();
    expect_code(&out, 2);

    // Values, TTLs within the jitter band, and spread by it.
    let mut ttls = BTreeSet::new();
    for i in 1..=20 {
        let key = format!("/api/products/{i}");
        assert_eq!(
            redis.get(key.as_bytes()),
            Some(value_of(&key)),
            "value of {key}"
        );
        let ttl = redis.pttl(key.as_bytes());
        assert_ttl_in_band(ttl, HOUR_MS, 0.10, elapsed);
        ttls.insert(ttl / 1000);
    }
    assert!(ttls.len() > 5, "jitter spreads expiry: {ttls:?}");
    // Error answers are never cached; nothing else was written.
    for key in ["/missing", "/broken", "/big"] {
        assert_eq!(redis.get(key.as_bytes()), None, "{key} must not be cached");
    }
    assert_eq!(redis.dbsize(), 20);

    let s = read_summary(&summary_path);
    assert_eq!(count(&s, "warmed"), 20);
    assert_eq!(count(&s, "skipped"), 0);
    assert_eq!(count(&s, "failed"), 8);
    assert_eq!(count(&s, "total"), 28);
    assert_eq!(reason(&s, "status_404"), 1);
    assert_eq!(reason(&s, "status_500"), 1);
    assert_eq!(reason(&s, "too_large"), 1);
    assert_eq!(reason(&s, "refused_absolute_form"), 1);
    assert_eq!(reason(&s, "refused_dot_segment"), 2);
    assert_eq!(reason(&s, "refused_control_character"), 2);
    assert_eq!(
        count(&s, "bytes_written"),
        (1..=20)
            .map(|i| value_of(&format!("/api/products/{i}")).len() as u64)
            .sum::<u64>()
    );
    assert!(s["origin_latency_ms"]["p99"].as_f64().is_some(), "{s}");

    // A 500 is retried (twice, by default); a 404 is the origin's final word.
    assert_eq!(origin.count_of("/broken"), 3);
    assert_eq!(origin.count_of("/missing"), 1);
    // Hostile targets never reached any host.
    assert_eq!(
        elsewhere.count(),
        0,
        "the absolute-form target reached its host"
    );
    for hit in origin.hits() {
        let t = &hit.target;
        assert!(
            t.starts_with("/api/products/")
                || ["/missing", "/broken", "/big"].contains(&t.as_str()),
            "unexpected request at the origin: {t}"
        );
        assert_eq!(
            hit.host.as_deref(),
            Some(format!("127.0.0.1:{}", origin.port()).as_str())
        );
    }
    // Keys from logs are shown escaped: no raw escape byte on the terminal.
    assert!(!out.stderr.contains('\u{1b}'), "{}", out.stderr);
    assert!(out.stderr.contains("\\x1b"), "{}", out.stderr);
    assert!(out.stderr.contains("20 warmed"), "{}", out.stderr);

    // Second run: everything present is skipped before the origin is asked.
    let before = origin.count();
    let out = hotkeys(
        &[
            "warm",
            list.to_str().unwrap(),
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--max-value-size",
            "1KiB",
            "--retries",
            "0",
            "--summary",
            summary_path.to_str().unwrap(),
        ],
        None,
        &[],
    );
    expect_code(&out, 2);
    let s = read_summary(&summary_path);
    assert_eq!(count(&s, "skipped"), 20);
    assert_eq!(count(&s, "warmed"), 0);
    let new_targets: BTreeSet<String> = origin.hits()[before..]
        .iter()
        .map(|h| h.target.clone())
        .collect();
    assert_eq!(
        new_targets,
        ["/big", "/broken", "/missing"].map(String::from).into(),
        "only the keys still missing were fetched"
    );

    // Dry run: the plan, and nothing sent to the origin or Redis.
    let fresh = RedisServer::start();
    let before = origin.count();
    let connections_before = connections_received(&fresh);
    let out = hotkeys(
        &[
            "warm",
            list.to_str().unwrap(),
            "--origin",
            &origin.url(),
            "--redis",
            &fresh.url(),
            "--dry-run",
        ],
        None,
        &[],
    );
    expect_code(&out, 2);
    assert!(
        out.text()
            .contains(&format!("{}/api/products/1\n", origin.url())),
        "{}",
        out.text()
    );
    assert!(out.text().contains("refused"), "{}", out.text());
    assert!(out.stderr.contains("nothing was sent"), "{}", out.stderr);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        origin.count(),
        before,
        "a dry run must not touch the origin"
    );
    assert_eq!(fresh.dbsize(), 0, "a dry run must not touch Redis");
    // Only this test's own INFO and DBSIZE connected since the first count.
    assert_eq!(
        connections_received(&fresh),
        connections_before + 2,
        "a dry run connected to Redis"
    );
}

fn connections_received(redis: &RedisServer) -> u64 {
    redis
        .info("stats")
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("total_connections_received in INFO stats")
}

#[test]
fn a_value_the_application_writes_meanwhile_is_never_clobbered() {
    let dir = scratch();
    let asked = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&asked);
    let origin = Origin::start(move |r| {
        if r.target == "/race" {
            flag.store(true, Ordering::SeqCst);
            Reply::ok("stale value from warm").after(Duration::from_millis(800))
        } else {
            Reply::ok(value_of(&r.target))
        }
    });
    let redis = RedisServer::start();
    let summary = dir.path().join("s.json");
    let child = spawn(
        command(
            &[
                "warm",
                "-",
                "--origin",
                &origin.url(),
                "--redis",
                &redis.url(),
                "--summary",
                summary.to_str().unwrap(),
            ],
            &[],
        ),
        Some(b"/race\n/other\n"),
    );
    // The key was missing when checked; the application writes it while
    // warm is still waiting for the origin.
    assert!(wait_until(Duration::from_secs(20), || asked.load(Ordering::SeqCst)));
    redis.set(b"/race", b"fresh value from the app", Some(60_000));
    let out = finish(child, RUN_LIMIT);
    expect_code(&out, 0);
    assert_eq!(
        redis.get(b"/race").as_deref(),
        Some(&b"fresh value from the app"[..])
    );
    assert_eq!(redis.get(b"/other"), Some(value_of("/other")));
    let s = read_summary(&summary);
    assert_eq!((count(&s, "warmed"), count(&s, "skipped")), (1, 1), "{s}");
}

#[test]
fn routes_give_keys_origin_paths_and_ttls_and_stdin_works() {
    let dir = scratch();
    let origin = echo_origin();
    let redis = RedisServer::start();
    let routes = write(
        dir.path(),
        "routes.toml",
        br#"
[[route]]
name = "product"
match = '^/api/products/(?P<id>[0-9]+)$'
key = "product:{id}"
origin = "/internal/products/{id}"
ttl = "30m"
query = "strip"
"#,
    );
    let log = log_of(&[
        ("/api/products/7?utm_source=mail", 9),
        ("/api/products/8", 5),
        ("/about", 20),
    ]);
    let out = hotkeys(
        &[
            "rank",
            "-",
            "--routes",
            routes.to_str().unwrap(),
            "--format",
            "json",
        ],
        Some(log.as_bytes()),
        &[],
    );
    expect_code(&out, 0);
    let list = out.stdout;

    let started = Instant::now();
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--routes",
            routes.to_str().unwrap(),
        ],
        Some(&list),
        &[("REDIS_URL", &redis.url())],
    );
    expect_code(&out, 0);
    for id in [7, 8] {
        let key = format!("product:{id}");
        assert_eq!(
            redis.get(key.as_bytes()),
            Some(value_of(&format!("/internal/products/{id}")))
        );
        assert_ttl_in_band(
            redis.pttl(key.as_bytes()),
            1_800_000,
            0.10,
            started.elapsed(),
        );
    }
    assert_eq!(redis.dbsize(), 2);

    // A plain key list goes through the routes too; unrouted keys are refused.
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--routes",
            routes.to_str().unwrap(),
            "--overwrite",
            "--ttl",
            "2m",
            "--ttl-jitter",
            "0",
        ],
        Some(b"/api/products/9?x=1\n/about\n"),
        &[],
    );
    expect_code(&out, 2);
    assert_eq!(
        redis.get(b"product:9"),
        Some(value_of("/internal/products/9"))
    );
    let ttl = redis.pttl(b"product:9");
    assert!(
        ttl > 110_000 && ttl <= 120_000,
        "--ttl overrides the route: {ttl}"
    );
    assert!(out.stderr.contains("refused_unrouted"), "{}", out.stderr);
    assert_eq!(origin.count_of("/about"), 0);
}

#[test]
fn the_rate_limit_is_honoured_at_the_origin() {
    let origin = echo_origin();
    let redis = RedisServer::start();
    let keys = product_keys(30);
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--rate",
            "20",
            "--concurrency",
            "8",
        ],
        Some(keys.as_bytes()),
        &[],
    );
    expect_code(&out, 0);
    let hits = origin.hits();
    assert_eq!(hits.len(), 30);
    let first = hits[0].at;
    let span = hits[29].at - first;
    // 30 requests at 20/s: the last starts 29 intervals after the first.
    assert!(
        span >= Duration::from_millis(1300),
        "30 requests in {span:?} exceed 20/s"
    );
    // Smooth, not bursty: no quarter second holds more than its share (5) plus slack.
    for (i, h) in hits.iter().enumerate() {
        let in_window = hits[i..]
            .iter()
            .take_while(|x| x.at - h.at < Duration::from_millis(250))
            .count();
        assert!(
            in_window <= 7,
            "{in_window} requests within 250 ms starting at request {i}"
        );
    }
    for i in 1..=30 {
        assert!(redis.get(format!("/api/products/{i}").as_bytes()).is_some());
    }
}

#[test]
fn passwords_are_never_printed() {
    const SECRET: &str = "s3cret-Pa55";
    let dir = scratch();
    let origin = Origin::start(|r| {
        if r.target == "/api/products/2" {
            Reply::status(404)
        } else {
            Reply::ok(value_of(&r.target))
        }
    });
    let redis = RedisServer::start_with(&["--requirepass", SECRET]);
    let keys = product_keys(3);
    let summary = dir.path().join("s.json");
    let summary_arg = summary.to_str().unwrap();
    let with_password = format!("redis://:{SECRET}@127.0.0.1:{}", redis.port());
    let wrong = format!("redis://:{SECRET}-wrong@127.0.0.1:{}", redis.port());
    let unreachable = format!("redis://:{SECRET}@127.0.0.1:1");
    let origin_with_password = format!("http://user:{SECRET}@127.0.0.1:{}", origin.port());

    /// Extra arguments, environment, expected exit code.
    type Run<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, i32);
    let runs: Vec<Run> = vec![
        (vec!["--redis".into(), with_password.clone()], vec![], 2),
        (
            vec!["--redis".into(), redis.url()],
            vec![("REDISCLI_AUTH", SECRET)],
            2,
        ),
        (vec!["--redis".into(), wrong], vec![], 1),
        (vec!["--redis".into(), unreachable], vec![], 1),
        (vec!["--redis".into(), redis.url()], vec![], 1),
        (
            vec!["--redis".into(), with_password.clone(), "--dry-run".into()],
            vec![],
            0,
        ),
    ];
    for (extra, env, code) in runs {
        let _ = std::fs::remove_file(&summary);
        let mut args = vec![
            "warm",
            "-",
            "--origin",
            &origin_with_password,
            "--summary",
            summary_arg,
            "--redis-timeout",
            "2s",
        ];
        args.extend(extra.iter().map(String::as_str));
        let out = hotkeys(&args, Some(keys.as_bytes()), &env);
        expect_code(&out, code);
        let summary_text = std::fs::read_to_string(&summary).unwrap_or_default();
        for text in [out.text(), &out.stderr, &summary_text] {
            assert!(
                !text.contains(SECRET),
                "the password was printed ({extra:?}):\n{text}"
            );
        }
        if code == 1 {
            assert!(out.stderr.contains("error:"), "{}", out.stderr);
        }
        if extra[1].contains(SECRET) {
            assert!(
                out.all().contains(":***@") || summary_text.contains(":***@"),
                "{}",
                out.all()
            );
        }
    }
    assert_eq!(
        redis.get(b"/api/products/1"),
        Some(value_of("/api/products/1"))
    );
}

#[test]
fn a_tls_target_is_warmed_when_its_certificate_is_trusted() {
    let certs = fixture("tls");
    let redis = RedisServer::start_tls(&certs);
    assert!(redis.url().starts_with("rediss://"));
    let origin = echo_origin();
    let ca = certs.join("ca.pem");
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
        ],
        Some(b"/tls/a\n/tls/b\n"),
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    expect_code(&out, 0);
    assert_eq!(redis.get(b"/tls/a"), Some(value_of("/tls/a")));
    assert_eq!(redis.get(b"/tls/b"), Some(value_of("/tls/b")));

    // Trusting another certificate instead, the server is refused, with advice.
    let other = certs.join("server.pem");
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
        ],
        Some(b"/tls/c\n"),
        &[("SSL_CERT_FILE", other.to_str().unwrap())],
    );
    expect_code(&out, 1);
    assert!(out.stderr.contains("SSL_CERT_FILE"), "{}", out.stderr);
    assert_eq!(redis.get(b"/tls/c"), None);
}

#[test]
fn only_the_configured_statuses_are_stored() {
    let origin = Origin::start(|r| match r.target.as_str() {
        "/partial" => Reply::status(206),
        "/non-authoritative" => Reply::status(203),
        _ => Reply::ok(value_of(&r.target)),
    });
    let redis = RedisServer::start();
    let list = b"/plain\n/partial\n/non-authoritative\n";
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--store-status",
            "200,203",
        ],
        Some(list),
        &[],
    );
    expect_code(&out, 2);
    assert!(out.stderr.contains("status_206 1"), "{}", out.stderr);
    assert_eq!(redis.get(b"/plain"), Some(value_of("/plain")));
    assert_eq!(
        redis.get(b"/non-authoritative").as_deref(),
        Some(&b"status 203"[..])
    );
    assert_eq!(redis.get(b"/partial"), None);
}

#[test]
fn a_progress_bar_is_drawn_on_a_terminal_only() {
    let dir = scratch();
    let origin = echo_origin();
    let redis = RedisServer::start();
    let list = write(dir.path(), "keys.txt", product_keys(20).as_bytes());
    let command_line = format!(
        "{BIN} warm {} --origin {} --redis {} --rate 20",
        list.display(),
        origin.url(),
        redis.url()
    );
    // script(1) (util-linux, always on Debian) runs the command on a pseudo-terminal.
    let child = spawn(
        {
            let mut cmd = Command::new("script");
            cmd.args(["-qec", &command_line, "/dev/null"]);
            cmd
        },
        None,
    );
    let out = finish(child, RUN_LIMIT);
    expect_code(&out, 0);
    assert!(
        out.text().contains("warming"),
        "no progress bar on a terminal:\n{}",
        out.text()
    );
    assert!(out.text().contains("/20 keys"), "{}", out.text());
    assert!(out.text().contains("20 warmed"), "{}", out.text());

    // On a pipe: the summary only, no bar and no control characters.
    let fresh = RedisServer::start();
    let out = hotkeys(
        &[
            "warm",
            list.to_str().unwrap(),
            "--origin",
            &origin.url(),
            "--redis",
            &fresh.url(),
            "--rate",
            "20",
        ],
        None,
        &[],
    );
    expect_code(&out, 0);
    assert!(!out.stderr.contains("warming"), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains('\u{1b}'),
        "{:?}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------
// Redis Cluster

#[test]
fn cluster_mode_spreads_keys_and_follows_moved_and_ask() {
    let cluster = RedisCluster::start();
    let n = 60;
    // One key whose slot is mid-migration (ASK) and one whose slot moves
    // while its value is being fetched (MOVED).
    let ask_key = "/ask/key";
    let moved_key = "/moved/key";
    let ask_slot = cluster.keyslot(ask_key);
    let moved_slot = cluster.keyslot(moved_key);
    assert_ne!(
        cluster.owner(ask_slot),
        cluster.owner(moved_slot),
        "choose keys on different nodes"
    );
    let ask_from = cluster.owner(ask_slot);
    let ask_to = (ask_from + 1) % 3;
    cluster.begin_migration(ask_slot, ask_from, ask_to);

    let moved_fetched = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&moved_fetched);
    let origin = Origin::start(move |r| {
        if r.target == "/moved/key" {
            flag.store(true, Ordering::SeqCst);
            Reply::ok(value_of(&r.target)).after(Duration::from_millis(1500))
        } else {
            Reply::ok(value_of(&r.target))
        }
    });
    let mut keys = product_keys(n);
    keys.push_str("/ask/key\n/moved/key\n");
    let child = spawn(
        command(
            &[
                "warm",
                "-",
                "--origin",
                &origin.url(),
                "--cluster",
                "--redis",
                &cluster.seed_url(),
            ],
            &[],
        ),
        Some(keys.as_bytes()),
    );
    assert!(
        wait_until(Duration::from_secs(20), || moved_fetched
            .load(Ordering::SeqCst)),
        "the origin was never asked for {moved_key}"
    );
    let moved_from = cluster.owner(moved_slot);
    let moved_to = (moved_from + 1) % 3;
    cluster.move_empty_slot(moved_slot, moved_from, moved_to);
    let out = finish(child, RUN_LIMIT);
    expect_code(&out, 0);

    for i in 1..=n {
        let key = format!("/api/products/{i}");
        assert_eq!(cluster.get(key.as_bytes()), Some(value_of(&key)), "{key}");
        assert_ttl_in_band(
            cluster.pttl(key.as_bytes()),
            HOUR_MS,
            0.10,
            Duration::from_secs(30),
        );
    }
    let sizes = cluster.dbsizes();
    assert!(
        sizes.iter().all(|&s| s > 5),
        "keys spread over every node: {sizes:?}"
    );
    // MOVED: the value went to the slot's new owner.
    assert_eq!(cluster.owner(moved_slot), moved_to);
    assert_eq!(
        cluster.nodes()[moved_to].get(moved_key.as_bytes()),
        Some(value_of(moved_key))
    );
    // ASK: the value went to the importing node (readable there only
    // after ASKING while the slot is still migrating).
    assert_eq!(
        cluster.nodes()[ask_to].get_asking(ask_key.as_bytes()),
        Some(value_of(ask_key))
    );
    cluster.finish_migration(ask_slot, ask_to);
    assert_eq!(cluster.get(ask_key.as_bytes()), Some(value_of(ask_key)));
    assert_eq!(sizes.iter().sum::<u64>(), n as u64 + 2);

    // A second run skips everything (EXISTS per node, ASK/MOVED settled).
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--cluster",
            "--redis",
            &cluster.nodes()[2].url(),
        ],
        Some(keys.as_bytes()),
        &[],
    );
    expect_code(&out, 0);
    assert!(
        out.stderr.contains(&format!("{} skipped", n + 2)),
        "{}",
        out.stderr
    );
}

#[test]
fn cluster_flag_mismatches_are_explained() {
    let cluster = RedisCluster::start();
    let plain = RedisServer::start();
    let origin = echo_origin();
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &cluster.seed_url(),
        ],
        Some(b"/a\n"),
        &[],
    );
    expect_code(&out, 1);
    assert!(out.stderr.contains("add --cluster"), "{}", out.stderr);
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--cluster",
            "--redis",
            &plain.url(),
        ],
        Some(b"/a\n"),
        &[],
    );
    expect_code(&out, 1);
    assert!(out.stderr.contains("leave out --cluster"), "{}", out.stderr);
    assert_eq!(origin.count(), 0);
}

// ---------------------------------------------------------------------------
// A Redis origin

#[test]
fn a_redis_origin_is_copied_with_its_remaining_ttls() {
    let dir = scratch();
    let source = RedisServer::start();
    let target = RedisServer::start();
    source.set(b"with:ttl", b"v1", Some(120_000));
    source.set(b"no:ttl", b"v2", None);
    source.set(b"bin:\xff\x00", b"\x00\x01\xff", Some(60_000));
    source.command(&["HSET", "a:hash", "f", "v"]);
    source.set(b"too:big", &vec![b'x'; 2048], None);
    target.set(b"present", b"app wrote this", None);
    source.set(b"present", b"stale", None);
    let list = "{\"rank\":1,\"key\":\"with:ttl\"}\n{\"rank\":2,\"key\":\"no:ttl\"}\n\
                {\"rank\":3,\"key\":\"bin:\u{fffd}\\u0000\",\"key_base64\":\"YmluOv8A\"}\n\
                {\"rank\":4,\"key\":\"a:hash\"}\n{\"rank\":5,\"key\":\"gone\"}\n\
                {\"rank\":6,\"key\":\"too:big\"}\n{\"rank\":7,\"key\":\"present\"}\n";
    let summary = dir.path().join("s.json");
    let started = Instant::now();
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &source.url(),
            "--redis",
            &target.url(),
            "--max-value-size",
            "1KiB",
            "--summary",
            summary.to_str().unwrap(),
        ],
        Some(list.as_bytes()),
        &[],
    );
    expect_code(&out, 2);
    assert_eq!(target.get(b"with:ttl").as_deref(), Some(&b"v1"[..]));
    let ttl = target.pttl(b"with:ttl");
    assert!(
        ttl <= 120_000 && ttl > 120_000 - 5_000,
        "source TTL kept: {ttl}"
    );
    assert_eq!(target.get(b"no:ttl").as_deref(), Some(&b"v2"[..]));
    assert_ttl_in_band(target.pttl(b"no:ttl"), HOUR_MS, 0.10, started.elapsed());
    assert_eq!(
        target.get(b"bin:\xff\x00").as_deref(),
        Some(&b"\x00\x01\xff"[..])
    );
    assert_eq!(
        target.get(b"present").as_deref(),
        Some(&b"app wrote this"[..]),
        "never clobbered"
    );
    for absent in [&b"a:hash"[..], b"gone", b"too:big"] {
        assert_eq!(target.get(absent), None);
    }
    let s = read_summary(&summary);
    assert_eq!(
        (
            count(&s, "warmed"),
            count(&s, "skipped"),
            count(&s, "failed")
        ),
        (3, 1, 3)
    );
    assert_eq!(reason(&s, "wrong_type_at_origin"), 1);
    assert_eq!(reason(&s, "missing_at_origin"), 1);
    assert_eq!(reason(&s, "too_large"), 1);

    // --overwrite with an explicit TTL replaces values and TTLs.
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &source.url(),
            "--redis",
            &target.url(),
            "--overwrite",
            "--ttl",
            "10m",
            "--ttl-jitter",
            "0",
        ],
        Some(b"present\nwith:ttl\ngone\na:hash\n"),
        &[],
    );
    expect_code(&out, 2);
    // Without PTTL, missing keys and keys of another type are still told apart.
    assert!(
        out.stderr.contains("missing_at_origin 1") && out.stderr.contains("wrong_type_at_origin 1"),
        "{}",
        out.stderr
    );
    assert_eq!(target.get(b"present").as_deref(), Some(&b"stale"[..]));
    let ttl = target.pttl(b"with:ttl");
    assert!(ttl > 590_000 && ttl <= 600_000, "{ttl}");
}

#[test]
fn a_replica_warms_a_cold_cluster() {
    let replica = RedisServer::start();
    for i in 1..=40 {
        replica.set(
            format!("product:{i}").as_bytes(),
            format!("p{i}").as_bytes(),
            Some(300_000),
        );
    }
    let cluster = RedisCluster::start();
    let keys: String = (1..=40).map(|i| format!("product:{i}\n")).collect();
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &replica.url(),
            "--cluster",
            "--redis",
            &cluster.seed_url(),
        ],
        Some(keys.as_bytes()),
        &[],
    );
    expect_code(&out, 0);
    for i in 1..=40 {
        let key = format!("product:{i}");
        assert_eq!(
            cluster.get(key.as_bytes()),
            Some(format!("p{i}").into_bytes()),
            "{key}"
        );
        let ttl = cluster.pttl(key.as_bytes());
        assert!(
            ttl > 280_000 && ttl <= 300_000,
            "{key}: the replica's TTL, {ttl}"
        );
    }
    assert!(
        cluster.dbsizes().iter().all(|&n| n > 0),
        "{:?}",
        cluster.dbsizes()
    );
}

// ---------------------------------------------------------------------------
// Faults

#[test]
fn a_redis_restart_during_a_run_loses_nothing() {
    let dir = scratch();
    let origin = echo_origin();
    let mut redis = RedisServer::start();
    let keys = product_keys(80);
    let summary = dir.path().join("s.json");
    let child = spawn(
        command(
            &[
                "warm",
                "-",
                "--origin",
                &origin.url(),
                "--redis",
                &redis.url(),
                "--rate",
                "40",
                "--summary",
                summary.to_str().unwrap(),
            ],
            &[],
        ),
        Some(keys.as_bytes()),
    );
    assert!(
        wait_until(Duration::from_secs(20), || origin.count() >= 20),
        "the run did not start"
    );
    redis.stop_saving();
    std::thread::sleep(Duration::from_millis(500));
    redis.restart();
    let out = finish(child, RUN_LIMIT);
    expect_code(&out, 0);
    let s = read_summary(&summary);
    assert_eq!(count(&s, "warmed") + count(&s, "skipped"), 80, "{s}");
    for i in 1..=80 {
        let key = format!("/api/products/{i}");
        assert_eq!(
            redis.get(key.as_bytes()),
            Some(value_of(&key)),
            "{key} lost across the restart"
        );
    }
}

#[test]
fn redis_lost_for_good_is_fatal_and_every_unwritten_key_is_listed() {
    let dir = scratch();
    let origin = echo_origin();
    let mut redis = RedisServer::start();
    let keys = product_keys(80);
    let summary = dir.path().join("s.json");
    let started = Instant::now();
    let child = spawn(
        command(
            &[
                "warm",
                "-",
                "--origin",
                &origin.url(),
                "--redis",
                &redis.url(),
                "--rate",
                "40",
                "--redis-timeout",
                "1s",
                "--summary",
                summary.to_str().unwrap(),
            ],
            &[],
        ),
        Some(keys.as_bytes()),
    );
    assert!(
        wait_until(Duration::from_secs(20), || origin.count() >= 20),
        "the run did not start"
    );
    redis.stop_saving();
    let out = finish(child, Duration::from_secs(20));
    expect_code(&out, 1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "gave up promptly"
    );
    assert!(out.stderr.contains("unreachable"), "{}", out.stderr);
    let requests_after = origin.count();
    assert!(
        requests_after < 80,
        "fetching stopped once Redis was gone ({requests_after} requests)"
    );

    let s = read_summary(&summary);
    assert_eq!(s["stopped"], "redis_lost");
    let not_written: BTreeSet<String> = listed(&s, "failed_keys")
        .union(&listed(&s, "unfinished_keys"))
        .cloned()
        .collect();
    // The saved data is what Redis had: exactly the keys reported written.
    redis.restart();
    let present: BTreeSet<String> = redis
        .keys()
        .into_iter()
        .map(|k| String::from_utf8(k).unwrap())
        .collect();
    let all: BTreeSet<String> = (1..=80).map(|i| format!("/api/products/{i}")).collect();
    assert_eq!(present.len() as u64, count(&s, "warmed"), "{s}");
    assert!(present.is_disjoint(&not_written));
    assert_eq!(
        present
            .union(&not_written)
            .cloned()
            .collect::<BTreeSet<_>>(),
        all,
        "every key is either in Redis or listed as not written"
    );
}

#[test]
fn an_origin_answering_503_then_recovering_is_waited_for() {
    let origin = Origin::start(|r| {
        if r.index < 4 {
            Reply::status(503).header("Retry-After", "1")
        } else {
            Reply::ok(value_of(&r.target))
        }
    });
    let redis = RedisServer::start();
    let keys = product_keys(10);
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--concurrency",
            "4",
            "--retries",
            "3",
        ],
        Some(keys.as_bytes()),
        &[],
    );
    expect_code(&out, 0);
    for i in 1..=10 {
        let key = format!("/api/products/{i}");
        assert_eq!(redis.get(key.as_bytes()), Some(value_of(&key)));
    }
    let hits = origin.hits();
    // Retry-After: 1 was honoured by every key, not only the four that got
    // it. The pause starts at the first 503, which answered the first
    // request: measuring from there, not from the fourth request's arrival,
    // keeps the check true on a loaded machine where that request's
    // connection may arrive late.
    let gap = hits[4].at - hits[0].at;
    assert!(
        gap >= Duration::from_millis(900),
        "request 5 came {gap:?} after the first request, which was answered 503"
    );
    assert_eq!(hits.len(), 14, "4 refusals and 10 successes");
}

#[test]
fn an_origin_that_keeps_failing_opens_the_circuit_breaker() {
    let dir = scratch();
    let origin = Origin::start(|_| Reply::status(503));
    let redis = RedisServer::start();
    let keys = product_keys(200);
    let summary = dir.path().join("s.json");
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--retries",
            "1",
            "--breaker-window",
            "20",
            "--summary",
            summary.to_str().unwrap(),
        ],
        Some(keys.as_bytes()),
        &[],
    );
    expect_code(&out, 1);
    assert!(
        out.stderr.contains("circuit breaker opened"),
        "{}",
        out.stderr
    );
    let s = read_summary(&summary);
    assert_eq!(s["stopped"], "circuit_breaker");
    assert!(count(&s, "unfinished") > 100, "{s}");
    assert!(
        origin.count() < 100,
        "the origin was hammered: {} requests",
        origin.count()
    );
    assert_eq!(redis.dbsize(), 0);
}

#[test]
fn ctrl_c_prints_the_summary_and_leaves_no_half_written_value() {
    let dir = scratch();
    let body: Vec<u8> = (0..65_536u32).map(|i| (i % 251) as u8).collect();
    let served = body.clone();
    let origin =
        Origin::start(move |_| Reply::ok(served.clone()).in_chunks(4, Duration::from_millis(100)));
    let redis = RedisServer::start();
    let keys = product_keys(40);
    let summary = dir.path().join("s.json");
    let child = spawn(
        command(
            &[
                "warm",
                "-",
                "--origin",
                &origin.url(),
                "--redis",
                &redis.url(),
                "--concurrency",
                "4",
                "--summary",
                summary.to_str().unwrap(),
            ],
            &[],
        ),
        Some(keys.as_bytes()),
    );
    assert!(
        wait_until(Duration::from_secs(20), || origin.count() >= 10),
        "the run did not start"
    );
    // SAFETY: kill(2) with a child's pid we own; no memory is involved.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "send SIGINT");
    let out = finish(child, Duration::from_secs(15));
    expect_code(&out, 2);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);
    assert!(
        out.stderr.contains("warmed"),
        "the summary is printed:\n{}",
        out.stderr
    );
    let s = read_summary(&summary);
    assert_eq!(s["stopped"], "interrupted");
    assert!(count(&s, "unfinished") > 0, "{s}");
    assert_eq!(count(&s, "warmed") + count(&s, "unfinished"), 40, "{s}");
    let stored = redis.keys();
    assert_eq!(stored.len() as u64, count(&s, "warmed"));
    for key in stored {
        assert_eq!(
            redis.get(&key).as_deref(),
            Some(&body[..]),
            "a partial value was written"
        );
    }
}

// ---------------------------------------------------------------------------
// Safety of the HTTP client, and the run's limits

#[test]
fn redirects_and_environment_proxies_are_not_followed() {
    let elsewhere = Origin::start(|_| Reply::ok("elsewhere"));
    let target = format!("http://127.0.0.1:{}/x", elsewhere.port());
    let origin = Origin::start(move |r| {
        if r.target == "/redirect" {
            Reply::status(302).header("Location", &target)
        } else {
            Reply::ok(value_of(&r.target))
        }
    });
    let redis = RedisServer::start();
    let proxy = format!("http://127.0.0.1:{}", elsewhere.port());
    let env = [
        ("HTTP_PROXY", proxy.as_str()),
        ("http_proxy", proxy.as_str()),
        ("ALL_PROXY", proxy.as_str()),
    ];
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
        ],
        Some(b"/redirect\n/plain\n"),
        &env,
    );
    expect_code(&out, 2);
    assert!(out.stderr.contains("status_302"), "{}", out.stderr);
    assert_eq!(
        elsewhere.count(),
        0,
        "a redirect or the environment proxy was followed"
    );
    assert_eq!(redis.get(b"/plain"), Some(value_of("/plain")));
    assert_eq!(redis.get(b"/redirect"), None);

    // Asked for, the proxy is used: the check above can fail.
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--use-env-proxy",
            "--overwrite",
        ],
        Some(b"/plain\n"),
        &env,
    );
    expect_code(&out, 0);
    assert_eq!(
        elsewhere.count(),
        1,
        "--use-env-proxy sends through the proxy"
    );
}

#[test]
fn a_deadline_stops_the_run_hottest_keys_first_and_max_keys_limits_it() {
    let dir = scratch();
    let origin =
        Origin::start(|r| Reply::ok(value_of(&r.target)).after(Duration::from_millis(200)));
    let redis = RedisServer::start();
    let keys = product_keys(50);
    let summary = dir.path().join("s.json");
    let started = Instant::now();
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--concurrency",
            "2",
            "--deadline",
            "1s",
            "--summary",
            summary.to_str().unwrap(),
        ],
        Some(keys.as_bytes()),
        &[],
    );
    expect_code(&out, 2);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "stopped at the deadline"
    );
    let s = read_summary(&summary);
    assert_eq!(s["stopped"], "deadline");
    let warmed = count(&s, "warmed");
    assert!((2..50).contains(&warmed), "{s}");
    // Work went hottest first: what was warmed is the top of the list.
    for i in 1..=warmed.saturating_sub(2) {
        let key = format!("/api/products/{i}");
        assert!(
            redis.get(key.as_bytes()).is_some(),
            "{key} should be among the first warmed"
        );
    }

    let fresh = RedisServer::start();
    let before = origin.count();
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &fresh.url(),
            "--max-keys",
            "3",
        ],
        Some(keys.as_bytes()),
        &[],
    );
    expect_code(&out, 0);
    assert_eq!(origin.count() - before, 3);
    assert_eq!(fresh.dbsize(), 3);
    assert!(
        out.stderr.contains("47 entries beyond --max-keys"),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_errors_are_fatal_and_explained() {
    let out = hotkeys(&["warm", "-", "--origin", "ftp://x"], Some(b"/a\n"), &[]);
    expect_code(&out, 1);
    assert!(out.stderr.contains("http://"), "{}", out.stderr);
    let out = hotkeys(
        &[
            "warm",
            "/nonexistent/list.json",
            "--origin",
            "http://127.0.0.1:1",
        ],
        None,
        &[],
    );
    expect_code(&out, 1);
    assert!(
        out.stderr.contains("cannot read the warm list"),
        "{}",
        out.stderr
    );
    let out = hotkeys(
        &["warm", "-", "--origin", "http://127.0.0.1:1"],
        Some(b"{\"version\": 9, \"keys\": []}"),
        &[],
    );
    expect_code(&out, 1);
    assert!(out.stderr.contains("upgrade hotkeys"), "{}", out.stderr);
    let out = hotkeys(&["warm", "--help"], None, &[]);
    expect_code(&out, 0);
    for expected in [
        "--origin",
        "--dry-run",
        "--rate",
        "Examples:",
        "Exit codes:",
    ] {
        assert!(
            out.text().contains(expected),
            "help lacks {expected}:\n{}",
            out.text()
        );
    }
}

// ---------------------------------------------------------------------------
// memcached as the target

/// Where libmemcached (ketama weighted, MD5) puts `key` among `ports` on
/// 127.0.0.1: written here from the algorithm's description, not taken
/// from hotkeys, so that the warmer is checked against an independent
/// model. 40 MD5 digests of "127.0.0.1:PORT-N" per server, four
/// little-endian points each; a key goes to the first point at or after
/// the little-endian first word of its MD5, wrapping around.
fn ketama_server(ports: &[u16], key: &[u8]) -> usize {
    use md5::{Digest, Md5};
    let word = |d: &[u8], w: usize| u32::from_le_bytes(d[4 * w..4 * w + 4].try_into().unwrap());
    let mut points: Vec<(u32, usize)> = Vec::new();
    for (server, port) in ports.iter().enumerate() {
        for n in 0..40 {
            let digest = Md5::digest(format!("127.0.0.1:{port}-{n}").as_bytes());
            points.extend((0..4).map(|w| (word(&digest, w), server)));
        }
    }
    points.sort();
    let position = word(&Md5::digest(key), 0);
    points
        .iter()
        .find(|(p, _)| *p >= position)
        .unwrap_or(&points[0])
        .1
}

/// `hotkeys warm - --origin ORIGIN --memcached …` plus `extra`, with a
/// summary file; returns the output and the summary.
fn warm_memcached(
    list: &[u8],
    origin: &str,
    servers: &[&MemcachedServer],
    extra: &[&str],
) -> (harness::Out, Value) {
    let dir = scratch();
    let summary = dir.path().join("summary.json");
    let mut args = vec![
        "warm".to_owned(),
        "-".to_owned(),
        "--origin".to_owned(),
        origin.to_owned(),
        "--summary".to_owned(),
        summary.to_str().unwrap().to_owned(),
    ];
    for server in servers {
        args.push("--memcached".to_owned());
        args.push(server.addr());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = hotkeys(&args, Some(list), &[]);
    let summary = read_summary(&summary);
    (out, summary)
}

#[test]
fn memcached_is_filled_with_values_and_ttls_and_bad_keys_are_refused_unsent() {
    let origin = Origin::start(|r| match r.target.as_str() {
        "/big" => Reply::ok(vec![b'x'; 1536 << 10]),
        "/missing" => Reply::status(404),
        _ => Reply::ok(value_of(&r.target)),
    });
    let memcached = MemcachedServer::start_with(&["-vv"]);
    let long = format!("/{}", "l".repeat(260));
    let mut list = product_keys(20);
    list.push_str(&format!("/a b\n{long}\n/big\n/missing\n"));
    let started = Instant::now();
    let (out, s) = warm_memcached(
        list.as_bytes(),
        &origin.url(),
        &[&memcached],
        &["--ttl", "10m"],
    );
    let elapsed = started.elapsed();
    expect_code(&out, 2);

    for i in 1..=20 {
        let key = format!("/api/products/{i}");
        assert_eq!(memcached.get(key.as_bytes()), Some(value_of(&key)), "{key}");
        // Seconds, within the 10% jitter band.
        let ttl = memcached.ttl(key.as_bytes()).unwrap();
        assert_ttl_in_band(ttl * 1000, 600_000, 0.10, elapsed);
    }
    assert_eq!(memcached.stat("curr_items"), 20);
    assert_eq!(count(&s, "warmed"), 20, "{s}");
    assert_eq!(count(&s, "failed"), 4, "{s}");
    assert_eq!(reason(&s, "refused_memcached_key"), 2, "{s}");
    assert_eq!(reason(&s, "too_large"), 1, "{s}");
    assert_eq!(reason(&s, "status_404"), 1, "{s}");
    assert_eq!(s["redis"], format!("memcached://{}", memcached.addr()));
    let refused = &s["failed_keys"][0];
    assert_eq!(refused["key"], "/a b");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .starts_with("key not valid for memcached"),
        "{refused}"
    );
    // Refused keys were never fetched, nor sent: memcached logs every
    // command with -vv, and saw exactly one write per warmed key.
    assert_eq!(origin.count_of("/a%20b"), 0);
    assert_eq!(origin.count_of(&long), 0);
    let log = memcached.log();
    assert!(!log.contains("/a b") && !log.contains("llllllll"), "{log}");
    assert_eq!(memcached.stat("cmd_set"), 20);
    assert!(
        out.stderr
            .contains("failed: /a b (rank 21): refused_memcached_key: key not valid for memcached"),
        "{}",
        out.stderr
    );
}

#[test]
fn memcached_keys_land_on_the_server_ketama_names_and_the_dry_run_says_which() {
    let origin = echo_origin();
    let servers = [
        MemcachedServer::start(),
        MemcachedServer::start(),
        MemcachedServer::start(),
    ];
    let refs: Vec<&MemcachedServer> = servers.iter().collect();
    let ports: Vec<u16> = servers.iter().map(MemcachedServer::port).collect();
    let list = product_keys(300);

    let (dry, _) = warm_memcached(list.as_bytes(), &origin.url(), &refs, &["--dry-run"]);
    expect_code(&dry, 0);
    assert!(
        dry.stderr
            .contains("nothing was sent to the origin or memcached"),
        "{}",
        dry.stderr
    );
    assert_eq!(origin.count(), 0);
    let plan = dry.text();
    assert!(plan.lines().next().unwrap().contains("SERVER"), "{plan}");
    for line in plan.lines().skip(1) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let (key, server) = (cells[2], cells[3]);
        let expected = &servers[ketama_server(&ports, key.as_bytes())];
        assert_eq!(server, expected.addr(), "{key}");
    }
    assert!(
        servers.iter().all(|s| s.stat("curr_items") == 0),
        "a dry run wrote"
    );

    let (out, s) = warm_memcached(list.as_bytes(), &origin.url(), &refs, &[]);
    expect_code(&out, 0);
    assert_eq!(count(&s, "warmed"), 300, "{s}");
    let mut per_server = [0u64; 3];
    for i in 1..=300 {
        let key = format!("/api/products/{i}");
        let home = ketama_server(&ports, key.as_bytes());
        per_server[home] += 1;
        for (j, server) in servers.iter().enumerate() {
            let found = server.get(key.as_bytes());
            if j == home {
                assert_eq!(found, Some(value_of(&key)), "{key} missing on its server");
            } else {
                assert_eq!(found, None, "{key} also on server {j}");
            }
        }
    }
    let stored: Vec<u64> = servers.iter().map(|s| s.stat("curr_items")).collect();
    assert_eq!(stored, per_server);
    assert!(per_server.iter().all(|&n| n > 50), "{per_server:?}");
}

#[test]
fn memcached_present_keys_are_skipped_unasked_and_overwrite_replaces_them() {
    let asked = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&asked);
    let origin = Origin::start(move |r| {
        if r.target == "/race" {
            flag.store(true, Ordering::SeqCst);
            Reply::ok("stale value from warm").after(Duration::from_millis(800))
        } else {
            Reply::ok(value_of(&r.target))
        }
    });
    let memcached = MemcachedServer::start();
    memcached.set(b"/api/products/1", b"from the app", 0);

    // `/race` is absent when checked; the application stores it while
    // warm waits for the origin, and `add` leaves the application's value.
    let dir = scratch();
    let summary = dir.path().join("s.json");
    let child = spawn(
        command(
            &[
                "warm",
                "-",
                "--origin",
                &origin.url(),
                "--memcached",
                &memcached.addr(),
                "--summary",
                summary.to_str().unwrap(),
            ],
            &[],
        ),
        Some(format!("{}/race\n", product_keys(3)).as_bytes()),
    );
    assert!(wait_until(Duration::from_secs(20), || asked.load(Ordering::SeqCst)));
    memcached.set(b"/race", b"fresh value from the app", 0);
    let out = finish(child, RUN_LIMIT);
    expect_code(&out, 0);
    let s = read_summary(&summary);
    assert_eq!((count(&s, "warmed"), count(&s, "skipped")), (2, 2), "{s}");
    assert_eq!(
        origin.count_of("/api/products/1"),
        0,
        "a present key was fetched"
    );
    assert_eq!(
        memcached.get(b"/api/products/1").as_deref(),
        Some(&b"from the app"[..])
    );
    assert_eq!(memcached.ttl(b"/api/products/1"), Some(-1));
    assert_eq!(
        memcached.get(b"/race").as_deref(),
        Some(&b"fresh value from the app"[..])
    );

    let (out, s) = warm_memcached(
        product_keys(3).as_bytes(),
        &origin.url(),
        &[&memcached],
        &["--overwrite", "--ttl", "5m", "--ttl-jitter", "0"],
    );
    expect_code(&out, 0);
    assert_eq!((count(&s, "warmed"), count(&s, "skipped")), (3, 0), "{s}");
    assert_eq!(
        memcached.get(b"/api/products/1"),
        Some(value_of("/api/products/1"))
    );
    let ttl = memcached.ttl(b"/api/products/1").unwrap();
    assert!((295..=300).contains(&ttl), "{ttl}");
}

#[test]
fn a_redis_origin_is_copied_into_memcached_with_ttls_beyond_30_days() {
    let source = RedisServer::start();
    const DAY_MS: u64 = 86_400_000;
    source.set(b"session:short", b"s", Some(600_000));
    source.set(b"catalog:long", b"l", Some(40 * DAY_MS));
    source.set(b"config:forever", b"f", None);
    let memcached = MemcachedServer::start();
    let (out, s) = warm_memcached(
        b"session:short\ncatalog:long\nconfig:forever\n",
        &source.url(),
        &[&memcached],
        &["--ttl-jitter", "0"],
    );
    expect_code(&out, 0);
    assert_eq!(count(&s, "warmed"), 3, "{s}");
    let ttl = |key: &[u8]| memcached.ttl(key).expect("key warmed");
    assert!((590..=600).contains(&ttl(b"session:short")));
    // Sent as a Unix time: sent as 3,456,000 seconds, memcached would have
    // read a date in 1970 and dropped the value at once.
    let long = ttl(b"catalog:long");
    assert!((40 * 86_400 - 10..=40 * 86_400).contains(&long), "{long}");
    assert_eq!(memcached.get(b"catalog:long").as_deref(), Some(&b"l"[..]));
    // No TTL at the origin: the default hour.
    assert!((3590..=3600).contains(&ttl(b"config:forever")));
}

#[test]
fn memcached_unreachable_or_lost_is_fatal_and_explained() {
    let origin = echo_origin();
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--memcached",
            "127.0.0.1:1",
        ],
        Some(b"/a\n"),
        &[],
    );
    expect_code(&out, 1);
    assert!(
        out.stderr
            .contains("cannot use memcached at 127.0.0.1:1: cannot connect"),
        "{}",
        out.stderr
    );
    // A Redis is not a memcached.
    let redis = RedisServer::start();
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--memcached",
            &format!("127.0.0.1:{}", redis.port()),
        ],
        Some(b"/a\n"),
        &[],
    );
    expect_code(&out, 1);
    assert!(
        out.stderr.contains("does not look like memcached"),
        "{}",
        out.stderr
    );
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--memcached",
            "127.0.0.1:1",
            "--redis",
            &redis.url(),
        ],
        Some(b"/a\n"),
        &[],
    );
    expect_code(&out, 1);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
    assert_eq!(origin.count(), 0);

    // Lost during the run: the run stops, and every key is accounted for.
    let mut memcached = MemcachedServer::start();
    let dir = scratch();
    let summary = dir.path().join("s.json");
    let child = spawn(
        command(
            &[
                "warm",
                "-",
                "--origin",
                &origin.url(),
                "--memcached",
                &memcached.addr(),
                "--rate",
                "40",
                "--redis-timeout",
                "1s",
                "--summary",
                summary.to_str().unwrap(),
            ],
            &[],
        ),
        Some(product_keys(200).as_bytes()),
    );
    assert!(
        wait_until(Duration::from_secs(20), || origin.count() >= 20),
        "the run did not start"
    );
    memcached.kill();
    let out = finish(child, RUN_LIMIT);
    expect_code(&out, 1);
    let s = read_summary(&summary);
    assert_eq!(s["stopped"], "memcached_lost", "{s}");
    assert!(
        s["stop_detail"]
            .as_str()
            .unwrap()
            .contains("stayed unreachable"),
        "{s}"
    );
    assert_eq!(
        count(&s, "warmed") + count(&s, "failed") + count(&s, "unfinished"),
        200,
        "{s}"
    );
    assert!(count(&s, "unfinished") > 0, "{s}");
}

// ---------------------------------------------------------------------------
// A hung Redis, over-long keys, bad TTLs, signals, an origin that asks for
// long pauses (issue 15)

/// Sends `signal` to process `pid`.
fn send_signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a process this test started; no memory is involved.
    let sent = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(sent, 0, "send signal {signal} to {pid}");
}

/// A redis-server frozen with SIGSTOP: its sockets stay open and the
/// kernel still accepts connections, but nothing is ever answered, as
/// with a hung server or a stalled VM. Thawed (SIGCONT) when dropped,
/// before the server itself is stopped.
struct Frozen(u32);

impl Frozen {
    fn new(redis: &RedisServer) -> Frozen {
        let pid = redis.pid().expect("redis-server is running");
        send_signal(pid, libc::SIGSTOP);
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        send_signal(self.0, libc::SIGCONT);
    }
}

/// `hotkeys warm -` on `keys` from `origin` into `redis` with `extra`
/// options, started in the background.
fn spawn_warm(
    origin: &Origin,
    redis: &RedisServer,
    keys: &str,
    extra: &[&str],
) -> std::process::Child {
    let origin_url = origin.url();
    let redis_url = redis.url();
    let mut args = vec!["warm", "-", "--origin", &origin_url, "--redis", &redis_url];
    args.extend_from_slice(extra);
    spawn(command(&args, &[]), Some(keys.as_bytes()))
}

#[test]
fn a_redis_that_hangs_mid_run_stops_it_within_the_redis_timeout() {
    let dir = scratch();
    let origin = Origin::start(|r| Reply::ok(value_of(&r.target)).after(Duration::from_millis(10)));
    let redis = RedisServer::start();
    let summary = dir.path().join("s.json");
    let child = spawn_warm(
        &origin,
        &redis,
        &product_keys(3000),
        &[
            "--concurrency",
            "8",
            "--redis-timeout",
            "1s",
            "--summary",
            summary.to_str().unwrap(),
        ],
    );
    assert!(
        wait_until(Duration::from_secs(20), || origin.count() >= 50),
        "the run did not start"
    );
    let frozen = Frozen::new(&redis);
    let since = Instant::now();
    let out = finish(child, Duration::from_secs(30));
    let took = since.elapsed();
    drop(frozen);
    expect_code(&out, 1);
    // Every wait for Redis (a reply, a reconnection, the wait for another
    // task's reconnection) shares one --redis-timeout: 1 s, plus the time
    // to stop and write the summary.
    assert!(
        took < Duration::from_secs(2),
        "a hung Redis held the run for {took:?} with --redis-timeout 1s"
    );
    assert!(out.stderr.contains("unreachable"), "{}", out.stderr);
    let s = read_summary(&summary);
    assert_eq!(s["stopped"], "redis_lost", "{s}");
    assert_eq!(
        count(&s, "warmed") + count(&s, "skipped") + count(&s, "failed") + count(&s, "unfinished"),
        3000
    );
}

#[test]
fn the_deadline_bounds_a_run_whose_redis_hangs() {
    let dir = scratch();
    let origin = Origin::start(|r| Reply::ok(value_of(&r.target)).after(Duration::from_millis(10)));
    let redis = RedisServer::start();
    let summary = dir.path().join("s.json");

    // Hung during the run: stopped at the deadline plus at most a second
    // of writing, not after the 30 s Redis timeout.
    let started = Instant::now();
    let child = spawn_warm(
        &origin,
        &redis,
        &product_keys(3000),
        &[
            "--concurrency",
            "8",
            "--redis-timeout",
            "30s",
            "--deadline",
            "2s",
            "--summary",
            summary.to_str().unwrap(),
        ],
    );
    assert!(
        wait_until(Duration::from_secs(20), || origin.count() >= 20),
        "the run did not start"
    );
    let frozen = Frozen::new(&redis);
    let out = finish(child, Duration::from_secs(40));
    let took = started.elapsed();
    expect_code(&out, 2);
    // 2 s, then 1 s for the writes still waiting; the rest is slack for a
    // loaded machine.
    assert!(
        took < Duration::from_secs(5),
        "--deadline 2s, yet the run took {took:?} with Redis hung"
    );
    let s = read_summary(&summary);
    assert_eq!(s["stopped"], "deadline", "{s}");
    assert!(count(&s, "unfinished") > 0, "{s}");
    let detail = s["stop_detail"].as_str().unwrap_or_default();
    assert!(detail.contains("abandoned"), "{detail}");

    // Hung from the start: the connection attempt is bounded too.
    let started = Instant::now();
    let child = spawn_warm(
        &origin,
        &redis,
        &product_keys(10),
        &["--redis-timeout", "30s", "--deadline", "1s"],
    );
    let out = finish(child, Duration::from_secs(40));
    let took = started.elapsed();
    drop(frozen);
    expect_code(&out, 1);
    assert!(
        took < Duration::from_secs(3),
        "--deadline 1s, yet connecting to a hung Redis took {took:?}"
    );
    assert!(out.stderr.contains("deadline"), "{}", out.stderr);
}

#[test]
fn over_long_keys_are_refused_in_the_plan_and_never_sent() {
    let dir = scratch();
    let origin = echo_origin();
    let redis = RedisServer::start();
    let long = format!("/{}", "k".repeat(100 * 1024));
    // The longest URL the HTTP client can send is 65,534 bytes: a path
    // that makes exactly that is warmed, one byte more is refused.
    let room = 65_534 - origin.url().len();
    let longest = format!("/{}", "u".repeat(room - 1));
    let too_long_url = format!("/{}", "v".repeat(room));
    let list = format!(
        "/api/products/1\n{long}\n/api/products/2\n{longest}\n{too_long_url}\n/api/products/3\n"
    );
    let summary = dir.path().join("s.json");
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--summary",
            summary.to_str().unwrap(),
        ],
        Some(list.as_bytes()),
        &[],
    );
    expect_code(&out, 2);
    for i in 1..=3 {
        let key = format!("/api/products/{i}");
        assert_eq!(redis.get(key.as_bytes()), Some(value_of(&key)));
    }
    assert_eq!(redis.get(longest.as_bytes()), Some(value_of(&longest)));
    let s = read_summary(&summary);
    assert_eq!(s["stopped"], Value::Null, "{s}");
    assert_eq!(reason(&s, "refused_key_too_long"), 1, "{s}");
    assert_eq!(reason(&s, "refused_url_too_long"), 1, "{s}");
    assert_eq!(count(&s, "failed"), 2, "{s}");
    assert_eq!(count(&s, "retries"), 0, "{s}");
    assert_eq!(
        listed(&s, "failed_keys"),
        BTreeSet::from([long.clone(), too_long_url.clone()])
    );
    // Only the four good keys reached the origin, once each.
    assert_eq!(origin.count(), 4);
    assert!(
        out.stderr.contains("key too long"),
        "{}",
        &out.stderr[..out.stderr.len().min(2000)]
    );

    let out = hotkeys(
        &["warm", "-", "--origin", &origin.url(), "--dry-run"],
        Some(list.as_bytes()),
        &[],
    );
    expect_code(&out, 2);
    assert!(out.text().contains("refused: key too long"));
    assert!(out.text().contains("refused: origin URL too long"));
    assert_eq!(origin.count(), 4, "a dry run sends nothing");
}

#[test]
fn ttls_of_zero_or_beyond_a_century_are_refused_before_anything_is_sent() {
    let dir = scratch();
    let origin = echo_origin();
    let redis = RedisServer::start();
    let list = "rank,key,ttl\n1,/zero,0\n2,/forever,99999999999999\n3,/minute,60\n";
    let summary = dir.path().join("s.json");
    let out = hotkeys(
        &[
            "warm",
            "-",
            "--origin",
            &origin.url(),
            "--redis",
            &redis.url(),
            "--summary",
            summary.to_str().unwrap(),
        ],
        Some(list.as_bytes()),
        &[],
    );
    expect_code(&out, 2);
    let ttl = redis.pttl(b"/minute");
    assert!(ttl > 50_000 && ttl <= 60_000, "{ttl}");
    assert_eq!(redis.get(b"/zero"), None);
    assert_eq!(redis.get(b"/forever"), None);
    assert_eq!(
        (origin.count_of("/zero"), origin.count_of("/forever")),
        (0, 0)
    );
    let s = read_summary(&summary);
    assert_eq!(reason(&s, "refused_bad_ttl"), 2, "{s}");
    assert_eq!(count(&s, "warmed"), 1, "{s}");
    for key in ["/zero", "/forever"] {
        assert!(
            out.stderr.contains(&format!("failed: {key} (rank"))
                && out.stderr.contains("refused_bad_ttl"),
            "{}",
            out.stderr
        );
    }

    for bad in ["99999999999999d", "36501d"] {
        let out = hotkeys(
            &[
                "warm",
                "-",
                "--origin",
                &origin.url(),
                "--redis",
                &redis.url(),
                "--ttl",
                bad,
            ],
            Some(b"/minute\n"),
            &[],
        );
        expect_code(&out, 1);
        assert!(
            out.stderr.contains("--ttl") && out.stderr.contains("100 years"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(origin.count(), 1, "a refused --ttl sends nothing");
}

#[test]
fn sigterm_and_sighup_stop_like_ctrl_c_and_the_summary_is_the_new_one() {
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        let dir = scratch();
        let origin =
            Origin::start(|r| Reply::ok(value_of(&r.target)).after(Duration::from_millis(200)));
        let redis = RedisServer::start();
        let summary = write(dir.path(), "s.json", b"{\"previous\": \"run\"}");
        let child = spawn_warm(
            &origin,
            &redis,
            &product_keys(40),
            &["--concurrency", "2", "--summary", summary.to_str().unwrap()],
        );
        assert!(
            wait_until(Duration::from_secs(20), || origin.count() >= 4),
            "the run did not start"
        );
        send_signal(child.id(), signal);
        let out = finish(child, Duration::from_secs(15));
        expect_code(&out, 2);
        let s = read_summary(&summary);
        assert_eq!(s["stopped"], "interrupted", "signal {signal}: {s}");
        let warmed = count(&s, "warmed");
        assert!(warmed >= 1 && count(&s, "unfinished") > 0, "{s}");
        assert_eq!(redis.dbsize(), warmed, "{s}");
        assert_eq!(
            warmed + count(&s, "skipped") + count(&s, "failed") + count(&s, "unfinished"),
            40
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["s.json"], "a temporary file was left behind");
    }

    // Before the run (the list still being read), a signal ends the
    // process as for rank: the old summary stays, no temporary file.
    let dir = scratch();
    let summary = write(dir.path(), "s.json", b"{\"previous\": \"run\"}");
    let mut cmd = command(
        &[
            "warm",
            "-",
            "--origin",
            "http://127.0.0.1:1",
            "--summary",
            summary.to_str().unwrap(),
        ],
        &[],
    );
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn hotkeys");
    let stdin = child.stdin.take();
    assert!(
        wait_until(Duration::from_secs(20), || {
            std::fs::read_dir(dir.path()).unwrap().count() == 2
        }),
        "the summary was not prepared"
    );
    send_signal(child.id(), libc::SIGTERM);
    let out = finish(child, Duration::from_secs(15));
    drop(stdin);
    expect_code(&out, 143);
    assert_eq!(std::fs::read(&summary).unwrap(), b"{\"previous\": \"run\"}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn an_origin_asking_for_an_hour_long_pause_stops_the_run_at_once() {
    let dir = scratch();
    let origin = Origin::start(|_| Reply::status(429).header("Retry-After", "3600"));
    let redis = RedisServer::start();
    let summary = dir.path().join("s.json");
    let started = Instant::now();
    let child = spawn_warm(
        &origin,
        &redis,
        &product_keys(100),
        &["--summary", summary.to_str().unwrap()],
    );
    let out = finish(child, Duration::from_secs(60));
    let took = started.elapsed();
    expect_code(&out, 1);
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(out.stderr.contains("Retry-After"), "{}", out.stderr);
    let s = read_summary(&summary);
    assert_eq!(s["stopped"], "rate_limited", "{s}");
    assert!(origin.count() <= 16, "{} requests", origin.count());
    assert_eq!(redis.dbsize(), 0);
    assert_eq!(count(&s, "origin_pauses"), 0, "{s}");

    // A short pause is waited for, and counted.
    let origin = Origin::start(|r| {
        if r.index < 2 {
            Reply::status(429).header("Retry-After", "1")
        } else {
            Reply::ok(value_of(&r.target))
        }
    });
    let child = spawn_warm(
        &origin,
        &redis,
        &product_keys(4),
        &["--concurrency", "2", "--summary", summary.to_str().unwrap()],
    );
    let out = finish(child, Duration::from_secs(30));
    expect_code(&out, 0);
    let s = read_summary(&summary);
    assert_eq!(count(&s, "origin_pauses"), 1, "{s}");
    assert!(count(&s, "origin_paused_ms") >= 900, "{s}");
    assert_eq!(s["stopped"], Value::Null, "{s}");
}
