//! End-to-end tests of `hotkeys rank`: the real binary on real files.
//!
//! Expected values never come from hotkeys itself: they are written by hand
//! (small fixtures), counted by the log generator while generating
//! (`Truth`), computed by parsing the generated lines here, or produced by
//! `awk | sort | uniq -c`.

mod harness;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use harness::{
    Out, expect_code, fixture, generated, hotkeys, json, sample_logs, scratch, subcommand, u64_at,
    without_generated_at, write,
};
use hotkeys_loggen::{Config, Format, Truth};
use serde_json::Value;

/// Key bytes → requests. Ordered so that a failing comparison prints
/// readable, stable diffs.
type Counts = BTreeMap<Vec<u8>, u64>;

// ---------------------------------------------------------------------------
// Helpers

/// `hotkeys rank ARGS`.
fn rank(args: &[&dyn AsRef<OsStr>]) -> Out {
    rank_stdin(args, None)
}

fn rank_stdin(args: &[&dyn AsRef<OsStr>], stdin: Option<&[u8]>) -> Out {
    subcommand("rank", args, stdin)
}

/// Runs `hotkeys rank ARGS --format json --top 0`, asserts exit 0, and
/// returns the warm list.
#[track_caller]
fn rank_json(args: &[&dyn AsRef<OsStr>]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&[&"--format", &"json", &"--top", &"0"]);
    let out = rank(&all);
    expect_code(&out, 0);
    json(&out)
}

#[track_caller]
fn stat(doc: &Value, name: &str) -> u64 {
    u64_at(doc, &format!("/stats/{name}"))
}

fn entries(doc: &Value) -> &Vec<Value> {
    doc["keys"].as_array().expect("keys is an array")
}

/// The exact key bytes of an entry: `key_base64` when present, else `key`.
fn key_bytes(entry: &Value) -> Vec<u8> {
    match entry.get("key_base64") {
        Some(b64) => base64_decode(b64.as_str().expect("key_base64 is a string")),
        None => entry["key"]
            .as_str()
            .expect("key is a string")
            .as_bytes()
            .to_vec(),
    }
}

fn key_map(doc: &Value) -> Counts {
    let mut map = Counts::new();
    for e in entries(doc) {
        let requests = e["requests"].as_u64().expect("requests is an integer");
        let previous = map.insert(key_bytes(e), requests);
        assert!(previous.is_none(), "key listed twice: {e}");
    }
    map
}

/// Key bytes and requests in rank order.
fn ranked(doc: &Value) -> Vec<(Vec<u8>, u64)> {
    entries(doc)
        .iter()
        .map(|e| (key_bytes(e), e["requests"].as_u64().unwrap()))
        .collect()
}

fn entry<'a>(doc: &'a Value, key: &[u8]) -> &'a Value {
    entries(doc)
        .iter()
        .find(|e| key_bytes(e) == key)
        .unwrap_or_else(|| {
            panic!(
                "no entry for {:?} in {}",
                String::from_utf8_lossy(key),
                doc["keys"]
            )
        })
}

fn counts(pairs: &[(&[u8], u64)]) -> Counts {
    pairs.iter().map(|(k, n)| (k.to_vec(), *n)).collect()
}

/// Standard base64 with padding; hotkeys' only consumer-visible encoding.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    assert_eq!(text.len() % 4, 0, "base64 {text:?} is not padded");
    let mut out = Vec::new();
    for quad in text.as_bytes().chunks(4) {
        let mut acc = 0u32;
        let mut pad = 0;
        for &c in quad {
            let v = if c == b'=' {
                pad += 1;
                0
            } else {
                assert_eq!(pad, 0, "base64 {text:?}: data after padding");
                ALPHABET
                    .iter()
                    .position(|&a| a == c)
                    .unwrap_or_else(|| panic!("base64 {text:?}: bad byte")) as u32
            };
            acc = acc << 6 | v;
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    out
}

fn hostile() -> PathBuf {
    fixture("hostile.log")
}

/// gzip with one member per part: `zcat` and every conforming reader see
/// the concatenation, and logrotate plus `cat a.gz b.gz` produce exactly this.
fn gzip_members(data: &[u8], members: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let size = data.len().div_ceil(members);
    for part in data.chunks(size) {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(part).unwrap();
        out.extend(enc.finish().unwrap());
    }
    out
}

/// Requests per target of generated combined lines, counted without
/// hotkeys.
fn target_counts<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Counts {
    let mut map = Counts::new();
    for line in lines {
        *map.entry(request_target(line).to_vec()).or_insert(0) += 1;
    }
    map
}

/// The target of a generated combined line (between the first `"METHOD `
/// and the next space).
fn request_target(line: &[u8]) -> &[u8] {
    let quote = line.iter().position(|&b| b == b'"').expect("request quote");
    let request = &line[quote + 1..];
    let start = request
        .iter()
        .position(|&b| b == b' ')
        .expect("space after method")
        + 1;
    let len = request[start..]
        .iter()
        .position(|&b| b == b' ')
        .expect("space after target");
    &request[start..start + len]
}

fn lines_of(log: &[u8]) -> impl Iterator<Item = &[u8]> {
    log.split(|&b| b == b'\n').filter(|l| !l.is_empty())
}

/// `[01/May/2024:10:00:00 +0000]` of a generated combined line, in Unix
/// seconds. The generator writes UTC unless told otherwise.
fn clf_time(line: &[u8]) -> i64 {
    let open = line.iter().position(|&b| b == b'[').expect("[ in line");
    let s = std::str::from_utf8(&line[open + 1..open + 27]).unwrap();
    assert!(s.ends_with(" +0000"), "{s}");
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|&m| m == &s[3..6])
    .expect("month") as i64
        + 1;
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    days_from_civil(n(7..11), month, n(0..2)) * 86_400
        + n(12..14) * 3600
        + n(15..17) * 60
        + n(18..20)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm), so the test does not trust the parser's own date code.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------------------
// 1–4: the hostile corpus

/// Every key in hostile.log with `--all`, bytes exactly as logged: no
/// unescaping of `\"` or `\x22`, raw non-UTF-8 and control bytes kept.
fn hostile_all_counts() -> Counts {
    counts(&[
        (b"/ipv6", 3),
        (b"/quote?x=\\\"y\\\"", 1),
        (b"/x", 1),
        (b"*", 1),
        (b"/nobytes", 1),
        (b"/crlf", 1),
        (b"/caf\xc3\xa9/\xff\xfe", 1),
        (b"/term\x1b[2J", 1),
        (b"/api/cart", 1),
        (b"/esc\\x22quote", 1),
        (b"/head", 1),
        (b"/err", 1),
    ])
}

#[test]
fn hostile_corpus_all_counts_every_key_exactly() {
    let doc = rank_json(&[&hostile(), &"--all"]);
    assert_eq!(key_map(&doc), hostile_all_counts());
    for (name, want) in [
        ("files", 1),
        ("lines", 20),
        ("blank_lines", 2),
        ("malformed", 2),
        ("no_target", 2),
        ("matched", 14),
        ("filtered", 0),
        ("distinct_keys", 12),
        ("too_long", 0),
        ("unrouted", 0),
        ("partial_inputs", 0),
    ] {
        assert_eq!(stat(&doc, name), want, "stats.{name}");
    }
    // Every line lands in exactly one bucket.
    let buckets: u64 = [
        "blank_lines",
        "too_long",
        "malformed",
        "no_target",
        "filtered",
        "unrouted",
        "matched",
    ]
    .iter()
    .map(|n| stat(&doc, n))
    .sum();
    assert_eq!(buckets, stat(&doc, "lines"));

    // Only the non-UTF-8 key carries key_base64; its display form uses U+FFFD.
    for e in entries(&doc) {
        let is_utf8 = std::str::from_utf8(&key_bytes(e)).is_ok();
        assert_eq!(e.get("key_base64").is_none(), is_utf8, "{e}");
    }
    let cafe = entry(&doc, b"/caf\xc3\xa9/\xff\xfe");
    assert_eq!(cafe["key"], "/caf\u{e9}/\u{fffd}\u{fffd}");
    assert_eq!(cafe["key_base64"], "L2NhZsOpL//+");
    // Times with offsets from -08:00 to +14:00 normalise to UTC.
    assert_eq!(doc["stats"]["first_time"], "2024-04-30T20:00:03Z");
    assert_eq!(doc["stats"]["last_time"], "2024-05-01T18:00:02Z");
}

#[test]
fn bytes_read_is_the_size_of_the_input() {
    // hostile.log ends without a newline: the missing one is not input.
    let size = std::fs::metadata(hostile()).unwrap().len();
    let doc = rank_json(&[&hostile(), &"--all"]);
    assert_eq!(stat(&doc, "bytes_read"), size);

    let dir = scratch();
    let mut log = std::fs::read(hostile()).unwrap();
    log.push(b'\n');
    let path = write(dir.path(), "terminated.log", &log);
    let doc = rank_json(&[&path, &"--all"]);
    assert_eq!(stat(&doc, "bytes_read"), size + 1);
    // Lines skipped as too long were read all the same.
    let doc = rank_json(&[&path, &"--all", &"--max-line", &"100"]);
    assert_eq!(stat(&doc, "too_long"), 2);
    assert_eq!(stat(&doc, "bytes_read"), size + 1);
}

#[test]
fn hostile_corpus_default_filters_keep_cacheable_requests() {
    let doc = rank_json(&[&hostile()]);
    let want = counts(&[
        (b"/ipv6", 2),
        (b"/quote?x=\\\"y\\\"", 1),
        (b"/x", 1),
        (b"/nobytes", 1),
        (b"/crlf", 1),
        (b"/caf\xc3\xa9/\xff\xfe", 1),
        (b"/term\x1b[2J", 1),
        (b"/esc\\x22quote", 1),
        (b"/head", 1),
    ]);
    assert_eq!(key_map(&doc), want);
    // OPTIONS *, POST 201, GET 404 and GET 500 are filtered.
    assert_eq!(stat(&doc, "filtered"), 4);
    assert_eq!(stat(&doc, "matched"), 10);
    assert_eq!(stat(&doc, "distinct_keys"), 9);
    assert_eq!(stat(&doc, "malformed"), 2);
    assert_eq!(stat(&doc, "no_target"), 2);
    // Ranked by requests, ties by key bytes.
    let order: Vec<Vec<u8>> = ranked(&doc).into_iter().map(|(k, _)| k).collect();
    let mut want_order: Vec<(u64, Vec<u8>)> = want
        .iter()
        .map(|(k, n)| (u64::MAX - n, k.clone()))
        .collect();
    want_order.sort();
    assert_eq!(
        order,
        want_order.into_iter().map(|(_, k)| k).collect::<Vec<_>>()
    );
}

#[test]
fn table_output_escapes_what_a_terminal_would_obey() {
    let out = rank(&[&hostile()]);
    expect_code(&out, 0);
    assert!(!out.stdout.contains(&0x1b), "raw ESC in the table");
    let text = std::str::from_utf8(&out.stdout).expect("the table is valid UTF-8");
    assert!(text.contains("/term\\x1b[2J"), "{text}");
    assert!(text.contains("/caf\u{e9}/\\xff\\xfe"), "{text}");
    assert!(text.lines().next().unwrap().contains("KEY"), "{text}");
    // Header plus the nine cacheable keys.
    assert_eq!(text.lines().count(), 10, "{text}");
    assert!(!out.stderr.contains('\x1b'));
    assert!(out.stderr.contains("hostile.log:13"), "{}", out.stderr);
    assert!(out.stderr.contains("hostile.log:14"), "{}", out.stderr);
    let malformed_lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("malformed line"))
        .collect();
    assert_eq!(malformed_lines.len(), 2, "{}", out.stderr);
}

#[test]
fn too_long_lines_are_skipped_and_counted() {
    let dir = scratch();
    let mut log = std::fs::read(hostile()).unwrap();
    // hostile.log ends without a newline; finish its last line first.
    if !log.ends_with(b"\n") {
        log.push(b'\n');
    }
    log.extend_from_slice(b"10.0.0.99 - - [01/May/2024:10:00:20 +0000] \"GET /");
    log.extend(std::iter::repeat_n(b'a', 2 << 20));
    log.extend_from_slice(b" HTTP/1.1\" 200 1 \"-\" \"-\"\n");
    log.extend_from_slice(
        b"10.0.0.100 - - [01/May/2024:10:00:21 +0000] \"GET /after HTTP/1.1\" 200 7 \"-\" \"-\"\n",
    );
    let path = write(dir.path(), "long.log", &log);

    let doc = rank_json(&[&path, &"--all"]);
    assert_eq!(stat(&doc, "too_long"), 1);
    assert_eq!(stat(&doc, "lines"), 22);
    assert_eq!(stat(&doc, "matched"), 15);
    let mut want = hostile_all_counts();
    want.insert(b"/after".to_vec(), 1);
    assert_eq!(key_map(&doc), want);

    // With a 100-byte limit, the long user agent and TLS junk lines go.
    let text = std::fs::read(hostile()).unwrap();
    let longer = text
        .split(|&b| b == b'\n')
        .filter(|l| l.len() > 100)
        .count() as u64;
    assert_eq!(longer, 2, "fixture changed");
    let doc = rank_json(&[&hostile(), &"--all", &"--max-line", &"100"]);
    assert_eq!(stat(&doc, "too_long"), longer);
    assert_eq!(stat(&doc, "lines"), 20);
    // Line 2 (/quote) had a target, line 4 (TLS bytes) did not.
    assert_eq!(stat(&doc, "matched"), 13);
    assert_eq!(stat(&doc, "no_target"), 1);
    let mut want = hostile_all_counts();
    want.remove(&b"/quote?x=\\\"y\\\""[..]);
    assert_eq!(key_map(&doc), want);
}

// ---------------------------------------------------------------------------
// 5–7: inputs: rotation, compression, damage, stdin

/// Four generated parts of one site's log, oldest last as logrotate names
/// them, plus their ground truth.
fn rotated_parts() -> Vec<(Vec<u8>, Truth)> {
    (0..4u64)
        .map(|i| {
            generated(&Config {
                lines: 20_000,
                keys: 2_000,
                seed: 100 + i,
                start_unix: 1_714_521_600 - 86_400 * i as i64,
                ..Config::default()
            })
        })
        .collect()
}

struct RotatedSet {
    dir: tempfile::TempDir,
    files: Vec<PathBuf>,
    parts: Vec<Vec<u8>>,
}

fn write_rotated_set(gz_cut: Option<f64>) -> RotatedSet {
    let parts: Vec<Vec<u8>> = rotated_parts().into_iter().map(|(log, _)| log).collect();
    let dir = scratch();
    let mut gz = gzip_members(&parts[2], 2);
    if let Some(fraction) = gz_cut {
        gz.truncate((gz.len() as f64 * fraction) as usize);
    }
    let files = vec![
        write(dir.path(), "access.log", &parts[0]),
        write(dir.path(), "access.log.1", &parts[1]),
        write(dir.path(), "access.log.2.gz", &gz),
        write(
            dir.path(),
            "access.log.3.zst",
            &zstd::encode_all(&parts[3][..], 3).unwrap(),
        ),
    ];
    RotatedSet { dir, files, parts }
}

#[test]
fn rotated_compressed_set_counts_like_its_concatenation() {
    let set = write_rotated_set(None);
    let all = scratch();
    let concat = write(all.path(), "all.log", &set.parts.concat());

    let plain = rank_json(&[&concat, &"--all"]);
    assert_eq!(stat(&plain, "lines"), 80_000);
    assert_eq!(stat(&plain, "matched"), 80_000);
    let expected = target_counts(lines_of(&set.parts.concat()));
    assert_eq!(key_map(&plain), expected);

    let f = &set.files;
    let rotated = rank_json(&[&f[0], &f[1], &f[2], &f[3], &"--all"]);
    assert_eq!(key_map(&rotated), expected);
    assert_eq!(stat(&rotated, "lines"), 80_000);
    assert_eq!(stat(&rotated, "matched"), 80_000);
    assert_eq!(stat(&rotated, "files"), 4);
    assert_eq!(stat(&rotated, "partial_inputs"), 0);
    assert_eq!(stat(&rotated, "bytes_read"), stat(&plain, "bytes_read"));

    let from_dir = rank_json(&[&set.dir.path(), &"--all"]);
    assert_eq!(key_map(&from_dir), expected);
    assert_eq!(stat(&from_dir, "files"), 4);
    assert_eq!(stat(&from_dir, "lines"), 80_000);

    // Compression is recognised from the content, not the name.
    let renamed = scratch();
    let gz_without_suffix = write(
        renamed.path(),
        "access.log.2",
        &std::fs::read(&f[2]).unwrap(),
    );
    let doc = rank_json(&[&gz_without_suffix, &"--all"]);
    assert_eq!(key_map(&doc), target_counts(lines_of(&set.parts[2])));
    assert_eq!(stat(&doc, "lines"), 20_000);
    assert_eq!(stat(&doc, "bytes_read"), set.parts[2].len() as u64);
}

#[test]
fn truncated_gzip_is_partial_and_keeps_what_it_could_read() {
    let set = write_rotated_set(Some(0.6));
    let f = &set.files;
    let out = rank(&[
        &f[0],
        &f[1],
        &f[2],
        &f[3],
        &"--all",
        &"--top",
        &"0",
        &"--format",
        &"json",
    ]);
    expect_code(&out, 2);
    assert!(out.stderr.contains("access.log.2.gz"), "{}", out.stderr);
    let doc = json(&out);
    assert_eq!(stat(&doc, "partial_inputs"), 1);
    assert_eq!(stat(&doc, "files"), 4);

    let without: Vec<u8> = [&set.parts[0][..], &set.parts[1], &set.parts[3]].concat();
    let lines = stat(&doc, "lines");
    assert!(
        lines > 60_000 && lines < 80_000,
        "{lines} lines: not the lines before the damage"
    );

    // The other files count in full, and what the damaged one adds is
    // exactly a prefix of its lines.
    let got = key_map(&doc);
    let mut extra = got.clone();
    for (key, n) in target_counts(lines_of(&without)) {
        let have = extra
            .get_mut(&key)
            .unwrap_or_else(|| panic!("{:?} missing", String::from_utf8_lossy(&key)));
        assert!(
            *have >= n,
            "{:?}: {have} < {n}",
            String::from_utf8_lossy(&key)
        );
        *have -= n;
    }
    extra.retain(|_, n| *n > 0);
    let prefix = (stat(&doc, "matched") - 60_000) as usize;
    assert!(prefix > 0, "nothing of the damaged file was counted");
    assert_eq!(extra, target_counts(lines_of(&set.parts[2]).take(prefix)));
}

#[test]
fn missing_input_file_is_partial_and_the_rest_is_counted() {
    let dir = scratch();
    let (log, _) = generated(&Config {
        lines: 2_000,
        keys: 300,
        ..Config::default()
    });
    let a = write(dir.path(), "a.log", &log);
    let b = write(dir.path(), "b.log", &log);
    let missing = dir.path().join("gone.log");
    let out = rank(&[
        &a,
        &missing,
        &b,
        &"--all",
        &"--top",
        &"0",
        &"--format",
        &"json",
    ]);
    expect_code(&out, 2);
    assert!(out.stderr.contains("gone.log"), "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("os error 2").count(),
        1,
        "cause repeated: {}",
        out.stderr
    );
    let doc = json(&out);
    assert_eq!(stat(&doc, "partial_inputs"), 1);
    assert_eq!(stat(&doc, "lines"), 4_000);
    let want: Counts = target_counts(lines_of(&log))
        .into_iter()
        .map(|(k, n)| (k, 2 * n))
        .collect();
    assert_eq!(key_map(&doc), want);
}

#[test]
fn stdin_plain_gzip_and_implicit_read_like_the_file() {
    let dir = scratch();
    let (log, _) = generated(&Config {
        lines: 5_000,
        keys: 500,
        seed: 7,
        ..Config::default()
    });
    let path = write(dir.path(), "access.log", &log);
    let args: [&dyn AsRef<OsStr>; 6] = [&"--all", &"--top", &"0", &"--format", &"json", &"-q"];

    let mut file_args = vec![&path as &dyn AsRef<OsStr>];
    file_args.extend_from_slice(&args);
    let out = rank(&file_args);
    expect_code(&out, 0);
    let from_file = json(&out);
    assert_eq!(key_map(&from_file), target_counts(lines_of(&log)));
    let from_file = without_generated_at(from_file);

    let mut dash = vec![&"-" as &dyn AsRef<OsStr>];
    dash.extend_from_slice(&args);
    for (what, input, explicit) in [
        ("plain on -", log.clone(), true),
        ("gzip on -", gzip_members(&log, 1), true),
        ("plain, no inputs", log.clone(), false),
    ] {
        let out = rank_stdin(if explicit { &dash[..] } else { &args[..] }, Some(&input));
        expect_code(&out, 0);
        assert_eq!(without_generated_at(json(&out)), from_file, "{what}");
    }
}

// ---------------------------------------------------------------------------
// 8–10: agreement with independent counts; determinism

#[test]
fn counts_agree_with_awk_sort_uniq() {
    let dir = scratch();
    let (log, _) = generated(&Config {
        lines: 100_000,
        keys: 5_000,
        zipf: 1.0,
        seed: 3,
        ..Config::default()
    });
    let path = write(dir.path(), "access.log", &log);

    let script = format!(
        "awk '{{print $7}}' '{}' | LC_ALL=C sort | LC_ALL=C uniq -c | LC_ALL=C sort -rn",
        path.display()
    );
    let awk = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run sh");
    assert!(
        awk.status.success(),
        "{}",
        String::from_utf8_lossy(&awk.stderr)
    );
    let mut want = Counts::new();
    for line in lines_of(&awk.stdout) {
        let text = std::str::from_utf8(line).unwrap().trim_start();
        let (n, key) = text.split_once(' ').expect("count key");
        assert!(
            want.insert(key.as_bytes().to_vec(), n.parse().unwrap())
                .is_none()
        );
    }
    assert_eq!(want.values().sum::<u64>(), 100_000);

    let doc = rank_json(&[&path, &"--all"]);
    assert_eq!(key_map(&doc), want);
    assert_eq!(stat(&doc, "distinct_keys"), want.len() as u64);

    let out = rank(&[&path, &"--all", &"--top", &"50", &"--format", &"json"]);
    expect_code(&out, 0);
    let top = json(&out);
    let mut best: Vec<(Vec<u8>, u64)> = want.into_iter().collect();
    best.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    best.truncate(50);
    let got = ranked(&top);
    assert!(
        got.windows(2).all(|w| w[0].1 >= w[1].1),
        "not in non-increasing order"
    );
    assert_eq!(got, best);
    let ranks: Vec<u64> = entries(&top)
        .iter()
        .map(|e| e["rank"].as_u64().unwrap())
        .collect();
    assert_eq!(ranks, (1..=50).collect::<Vec<_>>());
    // The whole input still counts towards distinct keys and shares.
    assert_eq!(stat(&top, "distinct_keys"), stat(&doc, "distinct_keys"));
    assert_eq!(stat(&top, "matched"), 100_000);
}

#[test]
fn default_filter_counts_equal_the_generators_truth() {
    let dir = scratch();
    let (log, truth) = generated(&Config {
        lines: 60_000,
        keys: 3_000,
        seed: 5,
        ..Config::default()
    });
    let path = write(dir.path(), "access.log", &log);
    let want: Counts = truth
        .counts_for(|method, status| {
            (method == "GET" || method == "HEAD") && (200..=399).contains(&status)
        })
        .into_iter()
        .collect();
    let doc = rank_json(&[&path]);
    assert_eq!(key_map(&doc), want);
    let total: u64 = want.values().sum();
    assert_eq!(stat(&doc, "matched"), total);
    assert_eq!(stat(&doc, "filtered"), truth.total() - total);
    // A filter that keeps nothing the truth excludes, and vice versa.
    assert!(
        total < truth.total() && total > truth.total() * 8 / 10,
        "suspicious truth: {total}"
    );
}

#[test]
fn threads_chunk_size_and_mmap_never_change_the_output() {
    let dir = scratch();
    // Timed lines, so latency histograms are merged across workers too.
    let (log, _) = generated(&Config {
        lines: 24_000,
        keys: 3_000,
        seed: 9,
        format: Format::NginxTimed,
        ..Config::default()
    });
    assert!(
        log.len() > 4_500_000 && log.len() < 7_000_000,
        "{} bytes",
        log.len()
    );
    let path = write(dir.path(), "timed.log", &log);
    let run = |extra: &[&dyn AsRef<OsStr>]| {
        let mut args: Vec<&dyn AsRef<OsStr>> = vec![&path, &"--all", &"--by", &"cost"];
        args.extend_from_slice(extra);
        without_generated_at(rank_json(&args))
    };
    let one = run(&[&"--threads", &"1"]);
    assert_eq!(stat(&one, "lines"), 24_000);
    assert!(entries(&one)[0].get("latency_p99_us").is_some());
    let two = run(&[&"--threads", &"2", &"--chunk-size", &"64KiB"]);
    assert_eq!(two, one, "--threads 2 --chunk-size 64KiB");
    let three = run(&[&"--threads", &"3", &"--chunk-size", &"4097"]);
    assert_eq!(three, one, "--threads 3 --chunk-size 4097");
    let read = run(&[&"--threads", &"2", &"--chunk-size", &"64KiB", &"--no-mmap"]);
    assert_eq!(read, one, "--no-mmap");
}

// ---------------------------------------------------------------------------
// 11: input formats

const NGINX_TIMED_FORMAT: &str = "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \
    \"$http_referer\" \"$http_user_agent\" $request_time $upstream_response_time";

#[test]
fn nginx_custom_format_sums_request_time_as_cost() {
    let dir = scratch();
    let mut log = String::new();
    for i in 0..5 {
        log.push_str(&format!(
            "203.0.113.{i} - - [01/May/2024:10:00:0{i} +0000] \"GET /timed?a=1 HTTP/1.1\" 200 512 \"-\" \
             \"Mozilla/5.0 (X11)\" 0.120 0.100, 0.015\n"
        ));
    }
    log.push_str("203.0.113.9 - - [01/May/2024:10:00:09 +0000] \"GET /fast HTTP/1.1\" 200 64 \"-\" \"curl\" 0.002 -\n");
    let path = write(dir.path(), "timed.log", log.as_bytes());
    let doc = rank_json(&[&path, &"--log-format", &NGINX_TIMED_FORMAT]);
    assert_eq!(key_map(&doc), counts(&[(b"/timed?a=1", 5), (b"/fast", 1)]));
    assert_eq!(stat(&doc, "malformed"), 0);
    let timed = entry(&doc, b"/timed?a=1");
    assert_eq!(timed["cost_us"], 600_000);
    assert_eq!(timed["bytes"], 2_560);
    for q in ["latency_p50_us", "latency_p99_us"] {
        let v = timed[q]
            .as_u64()
            .unwrap_or_else(|| panic!("{q} missing: {timed}"));
        assert!(v.abs_diff(120_000) <= 4_800, "{q} = {v}");
    }
    assert_eq!(entry(&doc, b"/fast")["cost_us"], 2_000);
}

#[test]
fn apache_custom_format_reads_microseconds() {
    let dir = scratch();
    let log = "198.51.100.1 - frank [01/May/2024:10:00:00 +0200] \"GET /apache/page HTTP/1.1\" 200 2326 2500\n\
               198.51.100.2 - - [01/May/2024:10:00:01 +0200] \"GET /apache/page HTTP/1.1\" 304 - 1500\n";
    let path = write(dir.path(), "apache.log", log.as_bytes());
    // Written as in httpd.conf, where quotes inside the directive are escaped.
    let doc = rank_json(&[&path, &"--log-format", &r#"%h %l %u %t \"%r\" %>s %b %D"#]);
    assert_eq!(key_map(&doc), counts(&[(b"/apache/page", 2)]));
    let e = entry(&doc, b"/apache/page");
    assert_eq!(e["cost_us"], 4_000);
    assert_eq!(e["bytes"], 2_326);
    // The same format without the config-file escaping.
    let doc = rank_json(&[&path, &"--log-format", &r#"%h %l %u %t "%r" %>s %b %D"#]);
    assert_eq!(entry(&doc, b"/apache/page")["cost_us"], 4_000);
    assert_eq!(doc["stats"]["first_time"], "2024-05-01T08:00:00Z");
}

#[test]
fn common_and_vcombined_formats() {
    let dir = scratch();
    let common = "1.2.3.4 - - [01/May/2024:10:00:00 +0000] \"GET /common HTTP/1.1\" 200 10\n\
                  1.2.3.4 - - [01/May/2024:10:00:01 +0000] \"GET /common HTTP/1.1\" 200 10\n\
                  1.2.3.5 - bob [01/May/2024:10:00:02 +0000] \"GET /c2 HTTP/1.0\" 304 -\n";
    let path = write(dir.path(), "common.log", common.as_bytes());
    let doc = rank_json(&[&path, &"--log-format", &"common"]);
    assert_eq!(key_map(&doc), counts(&[(b"/common", 2), (b"/c2", 1)]));
    assert_eq!(entry(&doc, b"/common")["bytes"], 20);
    assert_eq!(stat(&doc, "malformed"), 0);
    let auto = rank(&[&path]);
    assert!(
        auto.stderr.contains("log format common (detected)"),
        "{}",
        auto.stderr
    );

    let vcombined = "shop.example:443 1.2.3.4 - - [01/May/2024:10:00:00 +0000] \"GET /v HTTP/2.0\" 200 77 \"-\" \"curl/8\"\n\
                     img.example:80 1.2.3.4 - - [01/May/2024:10:00:01 +0000] \"GET /v HTTP/1.1\" 200 23 \"https://a/\" \"x\"\n";
    let path = write(dir.path(), "vcombined.log", vcombined.as_bytes());
    let doc = rank_json(&[&path, &"--log-format", &"vcombined"]);
    assert_eq!(key_map(&doc), counts(&[(b"/v", 2)]));
    assert_eq!(entry(&doc, b"/v")["bytes"], 100);
    // The virtual host is known, so --host selects on it.
    let doc = rank_json(&[
        &path,
        &"--log-format",
        &"vcombined",
        &"--host",
        &"SHOP.example",
    ]);
    assert_eq!(key_map(&doc), counts(&[(b"/v", 1)]));
    assert_eq!(entry(&doc, b"/v")["bytes"], 77);
}

#[test]
fn auto_detection_names_the_format() {
    let dir = scratch();
    let (log, _) = generated(&Config {
        lines: 200,
        keys: 50,
        ..Config::default()
    });
    let path = write(dir.path(), "combined.log", &log);
    let out = rank(&[&path]);
    expect_code(&out, 0);
    assert!(
        out.stderr.contains("log format combined (detected)"),
        "{}",
        out.stderr
    );

    let (log, truth) = generated(&Config {
        lines: 200,
        keys: 50,
        format: Format::NginxTimed,
        ..Config::default()
    });
    let path = write(dir.path(), "timed.log", &log);
    let out = rank(&[&path, &"--format", &"json", &"--top", &"0", &"--all"]);
    expect_code(&out, 0);
    assert!(
        out.stderr.contains("log format nginx-timed (detected)"),
        "{}",
        out.stderr
    );
    assert_eq!(
        key_map(&json(&out)),
        truth.counts_for(|_, _| true).into_iter().collect()
    );
}

#[test]
fn nginx_escape_json_lines() {
    let dir = scratch();
    // nginx's escape=json: quotes and backslashes escaped, control bytes
    // as \u00XX; the key is the request target after JSON unescaping.
    let log = concat!(
        r#"{"time_iso8601":"2024-05-01T10:00:00+00:00","remote_addr":"203.0.113.9","request":"GET /j?q=\"a\" HTTP/1.1","status":200,"body_bytes_sent":321,"request_time":"0.050","upstream_response_time":"0.040","http_user_agent":"Mozilla \"x\" \u001b[2J"}"#,
        "\n",
        r#"{"time_iso8601":"2024-05-01T10:00:01+00:00","remote_addr":"203.0.113.9","request":"GET /j?q=\"a\" HTTP/1.1","status":200,"body_bytes_sent":321,"request_time":"0.070","upstream_response_time":"-","http_user_agent":"curl"}"#,
        "\n",
        r#"{"time_iso8601":"2024-05-01T10:00:02+00:00","remote_addr":"203.0.113.9","request":"POST /cart HTTP/1.1","status":201,"body_bytes_sent":0,"request_time":"0.010","upstream_response_time":"0.010","http_user_agent":"curl"}"#,
        "\n",
    );
    let path = write(dir.path(), "nginx.json.log", log.as_bytes());
    for format in ["json", "auto"] {
        let doc = rank_json(&[&path, &"--log-format", &format]);
        assert_eq!(
            key_map(&doc),
            counts(&[(b"/j?q=\"a\"", 2)]),
            "--log-format {format}"
        );
        assert_eq!(stat(&doc, "filtered"), 1, "--log-format {format}");
        assert_eq!(stat(&doc, "malformed"), 0, "--log-format {format}");
        let e = entry(&doc, b"/j?q=\"a\"");
        assert_eq!(e["cost_us"], 120_000, "--log-format {format}");
        assert_eq!(e["bytes"], 642, "--log-format {format}");
        assert_eq!(doc["stats"]["last_time"], "2024-05-01T10:00:02Z");
    }

    // A generated nginx JSON log agrees with its truth.
    let (log, truth) = generated(&Config {
        lines: 5_000,
        keys: 500,
        format: Format::NginxJson,
        ..Config::default()
    });
    let path = write(dir.path(), "generated.json.log", &log);
    let doc = rank_json(&[&path, &"--all"]);
    assert_eq!(
        key_map(&doc),
        truth.counts_for(|_, _| true).into_iter().collect()
    );
    assert_eq!(stat(&doc, "malformed"), 0);
}

#[test]
fn nginx_escape_default_json_line_decodes_hex_escapes() {
    let dir = scratch();
    // escape=default writes `"` and bytes >= 0x7f as \xHH, which is not
    // JSON; the key must be the bytes nginx escaped, not the escape text.
    let line = br#"{"time_iso8601":"2024-05-01T10:00:00+00:00","request":"GET /caf\xC3\xA9?q=\x22a\x22 HTTP/1.1","status":200,"body_bytes_sent":5,"request_time":"0.010"}"#;
    let mut log = line.to_vec();
    log.push(b'\n');
    let path = write(dir.path(), "default.log", &log);
    let doc = rank_json(&[&path, &"--log-format", &"json"]);
    assert_eq!(
        key_map(&doc),
        counts(&[("/caf\u{e9}?q=\"a\"".as_bytes(), 1)])
    );
    assert_eq!(stat(&doc, "malformed"), 0);
    assert_eq!(
        entry(&doc, "/caf\u{e9}?q=\"a\"".as_bytes())["cost_us"],
        10_000
    );
}

#[test]
fn caddy_access_log_line() {
    let dir = scratch();
    let line = r#"{"level":"info","ts":1714521601.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"::1","proto":"HTTP/2.0","method":"GET","host":"shop.example","uri":"/api/p/1?x=2","headers":{"User-Agent":["curl"]}},"duration":0.0123,"size":512,"status":200}"#;
    let path = write(dir.path(), "caddy.log", format!("{line}\n").as_bytes());
    for format in ["json", "caddy", "auto"] {
        let doc = rank_json(&[&path, &"--log-format", &format]);
        assert_eq!(
            key_map(&doc),
            counts(&[(b"/api/p/1?x=2", 1)]),
            "--log-format {format}"
        );
        let e = entry(&doc, b"/api/p/1?x=2");
        assert_eq!(e["cost_us"], 12_300, "--log-format {format}");
        assert_eq!(e["bytes"], 512, "--log-format {format}");
        assert_eq!(
            doc["stats"]["first_time"], "2024-05-01T00:00:01.500000Z",
            "--log-format {format}"
        );
    }
    let doc = rank_json(&[&path, &"--host", &"other.example"]);
    assert_eq!(stat(&doc, "filtered"), 1);
}

// ---------------------------------------------------------------------------
// 12: output formats

/// Minimal RFC 4180 reader: enough to check what hotkeys writes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "CSV does not end with a newline"
    );
    rows
}

#[test]
fn output_formats_hold_the_same_list() {
    let h = hostile();
    let doc = rank_json(&[&h, &"--all"]);
    let list = entries(&doc);
    assert_eq!(list.len(), 12);

    let out = rank(&[&h, &"--all", &"--top", &"0", &"--format", &"csv"]);
    expect_code(&out, 0);
    let rows = parse_csv(out.text());
    assert_eq!(
        rows[0].join(","),
        "rank,key,requests,bytes,cost_us,share,cumulative_share,latency_p50_us,latency_p99_us,route,origin_path,ttl,requests_min,requests_max,key_base64"
    );
    assert_eq!(rows.len(), 1 + list.len());
    for (row, e) in rows[1..].iter().zip(list) {
        assert_eq!(row.len(), 15, "{row:?}");
        // An exact list has no bounds.
        assert_eq!((row[12].as_str(), row[13].as_str()), ("", ""));
        assert_eq!(row[0], e["rank"].to_string());
        assert_eq!(row[1], e["key"].as_str().unwrap());
        assert_eq!(row[2], e["requests"].to_string());
        assert_eq!(row[3], e["bytes"].to_string());
        assert_eq!(row[10], e["origin_path"].as_str().unwrap());
        assert_eq!(
            row[14],
            e.get("key_base64").and_then(Value::as_str).unwrap_or("")
        );
    }

    let out = rank(&[&h, &"--all", &"--top", &"0", &"--format", &"keys"]);
    expect_code(&out, 0);
    let mut want = Vec::new();
    for e in list {
        want.extend(key_bytes(e));
        want.push(b'\n');
    }
    assert_eq!(out.stdout, want, "keys: raw bytes in rank order");

    let out = rank(&[&h, &"--all", &"--top", &"0", &"--format", &"ndjson"]);
    expect_code(&out, 0);
    let objects: Vec<Value> = out
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(&objects, list);
    let ranks: Vec<u64> = objects
        .iter()
        .map(|o| o["rank"].as_u64().unwrap())
        .collect();
    assert_eq!(ranks, (1..=12).collect::<Vec<_>>());

    let out = rank(&[
        &h,
        &"--all",
        &"--top",
        &"0",
        &"--format",
        &"urls",
        &"--origin-base",
        &"https://cdn.example/",
    ]);
    expect_code(&out, 0);
    let urls: Vec<&str> = out.text().lines().collect();
    let want: Vec<String> = list
        .iter()
        .map(|e| {
            let path = e["origin_path"].as_str().unwrap();
            let slash = if path.starts_with('/') { "" } else { "/" };
            format!("https://cdn.example{slash}{path}")
        })
        .collect();
    assert_eq!(urls, want);
    assert!(
        urls.contains(&"https://cdn.example/caf\u{e9}/%FF%FE"),
        "{urls:?}"
    );
    assert!(urls.contains(&"https://cdn.example/term%1B[2J"), "{urls:?}");
    assert!(urls.contains(&"https://cdn.example/*"), "{urls:?}");

    let out = rank(&[&h, &"--format", &"urls"]);
    expect_code(&out, 1);
    assert!(out.stderr.contains("--origin-base"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn output_file_is_written_whole_and_stdout_stays_empty() {
    let dir = scratch();
    let h = hostile();
    let target = dir.path().join("warm.json");
    let out = rank(&[&h, &"--all", &"--format", &"json", &"-o", &target]);
    expect_code(&out, 0);
    assert!(out.stdout.is_empty());
    let written: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    let printed = rank(&[&h, &"--all", &"--format", &"json"]);
    assert_eq!(
        without_generated_at(written),
        without_generated_at(json(&printed))
    );

    // CSV has no timestamp: byte for byte. Replacing an existing file too.
    let csv = dir.path().join("warm.csv");
    std::fs::write(&csv, "old content\n").unwrap();
    let out = rank(&[&h, &"--all", &"--format", &"csv", &"--output", &csv]);
    expect_code(&out, 0);
    assert!(out.stdout.is_empty());
    let printed = rank(&[&h, &"--all", &"--format", &"csv"]);
    assert_eq!(std::fs::read(&csv).unwrap(), printed.stdout);

    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["warm.csv", "warm.json"], "stray files left behind");
}

/// `-o /dev/null` must write into the device, not rename a file over it (as
/// root that replaced the machine's /dev/null with a regular file). A named
/// pipe stands in for the device: same rule, no root needed.
#[test]
fn output_to_a_device_or_pipe_is_written_in_place() {
    use std::os::unix::fs::FileTypeExt;

    let dir = scratch();
    let fifo = dir.path().join("keys.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo touches nothing else.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let h = hostile();
    let out = rank(&[&h, &"--all", &"--format", &"keys", &"-o", &fifo]);
    expect_code(&out, 0);
    let received = reader.join().unwrap();
    let printed = rank(&[&h, &"--all", &"--format", &"keys"]);
    assert_eq!(received, printed.stdout);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

/// Temporary files hotkeys left in `dir`.
fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".hotkeys-"))
        .collect()
}

/// `-o` through a symlink writes what the link points to: the link to a
/// process's stdout stays a link and the output reaches that stdout; a
/// link to a regular file keeps being a link to the replaced file.
#[test]
fn output_through_a_symlink_writes_its_target() {
    let dir = scratch();
    let h = hostile();
    let to_stdout = dir.path().join("L");
    std::os::unix::fs::symlink("/proc/self/fd/1", &to_stdout).unwrap();
    let out = rank(&[&h, &"--all", &"--format", &"keys", &"-o", &to_stdout]);
    expect_code(&out, 0);
    let printed = rank(&[&h, &"--all", &"--format", &"keys"]);
    assert_eq!(out.stdout, printed.stdout);
    assert!(std::fs::symlink_metadata(&to_stdout).unwrap().is_symlink());

    let real = write(dir.path(), "real.txt", b"old");
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink("real.txt", &link).unwrap();
    expect_code(
        &rank(&[&h, &"--all", &"--format", &"keys", &"-o", &link]),
        0,
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read(&real).unwrap(), printed.stdout);
    assert!(leftovers(dir.path()).is_empty());
}

/// A new output file gets the mode the umask gives; a replaced one keeps
/// its own (a warm job running as another user must still read it).
#[test]
fn output_mode_follows_the_umask_or_the_replaced_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let h = hostile();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let fresh = dir.path().join("fresh.json");
    let status = Command::new("sh")
        .arg("-c")
        .arg("umask 027 && exec \"$0\" rank \"$1\" -q -o \"$2\"")
        .arg(harness::BIN)
        .arg(&h)
        .arg(&fresh)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(mode(&fresh), 0o640);
    let shared = write(dir.path(), "shared.json", b"old");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    expect_code(&rank(&[&h, &"-q", &"-o", &shared]), 0);
    assert_eq!(mode(&shared), 0o644);
    assert_ne!(std::fs::read(&shared).unwrap(), b"old");
}

/// A run that read nothing fails and leaves the last good output alone:
/// an empty directory, a missing only input, every line malformed.
#[test]
fn a_run_that_read_nothing_keeps_the_last_good_output() {
    let dir = scratch();
    let list = dir.path().join("warm.json");
    expect_code(
        &rank(&[&sample_logs(), &"--format", &"json", &"-o", &list]),
        0,
    );
    let good = std::fs::read(&list).unwrap();
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let garbage = write(dir.path(), "garbage.log", b"not a log line\nnor this\n");
    let missing = dir.path().join("missing.log");
    let cases: Vec<(Vec<&dyn AsRef<OsStr>>, &str)> = vec![
        (vec![&empty_dir], "no input files"),
        (vec![&missing], "no input could be read"),
        (
            vec![&garbage, &"-f", &"combined"],
            "every line of the input was malformed",
        ),
    ];
    for (mut args, why) in cases {
        args.extend([&"--format" as &dyn AsRef<OsStr>, &"json", &"-o", &list]);
        let out = rank(&args);
        expect_code(&out, 1);
        assert!(out.stderr.contains(why), "{why}: {}", out.stderr);
        assert!(out.stderr.contains("left as it was"), "{}", out.stderr);
        assert_eq!(
            std::fs::read(&list).unwrap(),
            good,
            "{why}: -o was replaced"
        );
    }
    // Asked for, the empty list is written.
    let out = rank(&[
        &empty_dir,
        &"--allow-empty",
        &"--format",
        &"json",
        &"-o",
        &list,
    ]);
    expect_code(&out, 0);
    assert_eq!(json_file(&list)["keys"].as_array().unwrap().len(), 0);
    assert!(leftovers(dir.path()).is_empty());
}

fn json_file(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `-o` into a directory that does not exist, or onto an input, is a
/// usage error found before any input is read: stdin is left open and
/// unread, and the run must still end at once.
#[test]
fn output_mistakes_are_found_before_reading() {
    let dir = scratch();
    let missing = dir.path().join("no/such/dir/warm.json");
    let log = write(dir.path(), "access.log", b"");
    for (args, needle) in [
        (
            vec![OsStr::new("-"), OsStr::new("-o"), missing.as_os_str()],
            "cannot write there",
        ),
        (
            vec![log.as_os_str(), OsStr::new("-o"), log.as_os_str()],
            "also an input",
        ),
    ] {
        let mut cmd = harness::command(&[OsStr::new("rank")], &[]);
        cmd.args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let _open_stdin = child.stdin.take();
        let out = harness::finish(child, std::time::Duration::from_secs(20));
        expect_code(&out, 1);
        assert!(out.stderr.contains(needle), "{}", out.stderr);
    }
}

/// SIGTERM, SIGINT or SIGHUP while reading removes the temporary file and
/// leaves the previous output as it was.
#[test]
fn signals_remove_the_temporary_output() {
    let dir = scratch();
    let list = write(dir.path(), "warm.json", b"previous");
    for (signal, code) in [
        (libc::SIGTERM, 143),
        (libc::SIGINT, 130),
        (libc::SIGHUP, 129),
    ] {
        let mut cmd = harness::command(&[OsStr::new("rank")], &[]);
        cmd.args([OsStr::new("-"), OsStr::new("-o"), list.as_os_str()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(
                b"1.2.3.4 - - [01/May/2024:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"x\"\n",
            )
            .unwrap();
        // The temporary file exists from the start: wait for it, then stop
        // hotkeys while it waits for more input.
        let started = std::time::Instant::now();
        while leftovers(dir.path()).is_empty() {
            assert!(
                started.elapsed().as_secs() < 20,
                "no temporary file appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: sends a signal to the child we started; touches no memory.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let out = harness::finish(child, std::time::Duration::from_secs(20));
        drop(stdin);
        expect_code(&out, code);
        assert!(leftovers(dir.path()).is_empty(), "signal {signal}");
        assert_eq!(std::fs::read(&list).unwrap(), b"previous");
    }
}

// ---------------------------------------------------------------------------
// 13: usage errors

#[track_caller]
fn expect_usage_error(args: &[&dyn AsRef<OsStr>], needles: &[&str]) {
    let out = rank(args);
    expect_code(&out, 1);
    assert!(out.stdout.is_empty(), "output despite the error");
    for needle in needles {
        assert!(
            out.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            out.stderr
        );
    }
}

#[test]
fn usage_errors_exit_1_with_a_clear_message() {
    let h = hostile();
    expect_usage_error(
        &[&h, &"--log-format", &"combind"],
        &["combind", "combined", "common", "vcombined", "nginx-timed"],
    );
    expect_usage_error(&[&h, &"--status", &"2x"], &["--status", "2x"]);
    expect_usage_error(&[&h, &"--since", &"yesterday"], &["--since", "yesterday"]);
    expect_usage_error(&[&h, &"--max-line", &"10 parsecs"], &["--max-line"]);
    expect_usage_error(&[&h, &"--top", &"many"], &["--top", "many"]);

    let dir = scratch();
    let routes = write(
        dir.path(),
        "routes.toml",
        b"[[route]]\nname = \"fine\"\nmatch = '^/a$'\n\n[[route]]\nname = \"broken\"\nmatch = '(unclosed'\n",
    );
    expect_usage_error(
        &[&h, &"--routes", &routes],
        &["routes.toml", "route #2", "\"broken\"", "regex"],
    );

    let out = hotkeys(&["--help"], None, &[]);
    expect_code(&out, 0);
    assert!(out.text().contains("Exit codes"), "{}", out.text());
    let out = rank(&[&"--help"]);
    expect_code(&out, 0);
    let help = out.text();
    assert!(
        help.contains("Exit codes: 0 success, 1 usage or fatal error, 2"),
        "{help}"
    );

    let out = rank(&[&h, &"--strict"]);
    expect_code(&out, 1);
    assert!(out.stderr.contains("hostile.log:13"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("hostile.log:14"),
        "--strict went on after the first error"
    );
}

#[test]
fn json_field_errors_name_the_option() {
    expect_usage_error(
        &[&hostile(), &"--json-field", &"nope=x"],
        &["--json-field", "nope"],
    );
}

// ---------------------------------------------------------------------------
// 14–16: routes, time windows, the shipped sample logs

#[test]
fn routes_turn_targets_into_keys() {
    let dir = scratch();
    let routes = write(
        dir.path(),
        "routes.toml",
        br#"
[[route]]
name = "product"
match = '^/api/products/(?P<id>[0-9]+)$'
key = "product:{id}"
ttl = "30m"

[[route]]
name = "search"
match = '^/search(\?.*)?$'
key = "search:{query}"
query = ["q", "page"]
"#,
    );
    let mut log = String::new();
    let mut line = |target: &str| {
        log.push_str(&format!(
            "10.1.1.1 - - [01/May/2024:10:00:00 +0000] \"GET {target} HTTP/1.1\" 200 100 \"-\" \"curl\"\n"
        ));
    };
    for _ in 0..3 {
        line("/api/products/7");
    }
    line("/search?q=a&page=2&utm=x");
    line("/search?page=2&q=a");
    line("/about");
    let path = write(dir.path(), "access.log", log.as_bytes());

    let doc = rank_json(&[&path, &"--routes", &routes]);
    assert_eq!(
        key_map(&doc),
        counts(&[(b"product:7", 3), (b"search:page=2&q=a", 2)])
    );
    assert_eq!(stat(&doc, "unrouted"), 1);
    assert_eq!(stat(&doc, "matched"), 5);
    assert_eq!(stat(&doc, "distinct_keys"), 2);

    let product = entry(&doc, b"product:7");
    assert_eq!(product["rank"], 1);
    assert_eq!(product["route"], "product");
    assert_eq!(product["ttl"], 1800);
    assert_eq!(product["origin_path"], "/api/products/7");
    assert_eq!(product["bytes"], 300);
    let search = entry(&doc, b"search:page=2&q=a");
    assert_eq!(search["route"], "search");
    assert_eq!(search["origin_path"], "/search?page=2&q=a");
    assert!(search.get("ttl").is_none(), "{search}");
}

/// 40 000 lines over four days, and each line's time.
fn four_days() -> (Vec<u8>, Vec<(i64, Vec<u8>)>) {
    let (log, _) = generated(&Config {
        lines: 40_000,
        keys: 2_000,
        seed: 21,
        duration_secs: 4 * 86_400,
        ..Config::default()
    });
    let timed = lines_of(&log)
        .map(|l| (clf_time(l), request_target(l).to_vec()))
        .collect();
    (log, timed)
}

fn window_counts(timed: &[(i64, Vec<u8>)], keep: impl Fn(i64) -> bool) -> Counts {
    let mut map = Counts::new();
    for (t, key) in timed {
        if keep(*t) {
            *map.entry(key.clone()).or_insert(0) += 1;
        }
    }
    map
}

#[test]
fn time_windows_count_exactly_the_lines_inside() {
    let dir = scratch();
    let (log, timed) = four_days();
    let path = write(dir.path(), "access.log", &log);
    let newest = timed.iter().map(|(t, _)| *t).max().unwrap();
    assert!(
        newest - timed[0].0 > 3 * 86_400,
        "the log does not span four days"
    );

    let doc = rank_json(&[&path, &"--all", &"--since", &"24h"]);
    let want = window_counts(&timed, |t| t >= newest - 86_400);
    let inside: u64 = want.values().sum();
    assert!(inside > 5_000 && inside < 15_000, "{inside}");
    assert_eq!(key_map(&doc), want);
    assert_eq!(stat(&doc, "matched"), inside);
    assert_eq!(stat(&doc, "filtered"), 40_000 - inside);

    // 08:30+02:00 is 06:30Z; --until excludes its own instant.
    let since = 1_714_521_600 + 86_400 + 6 * 3600 + 1800;
    let until = 1_714_521_600 + 2 * 86_400 + 12 * 3600;
    let doc = rank_json(&[
        &path,
        &"--all",
        &"--since",
        &"2024-05-02T08:30:00+02:00",
        &"--until",
        &"2024-05-03T12:00:00Z",
    ]);
    let want = window_counts(&timed, |t| t >= since && t < until);
    let inside: u64 = want.values().sum();
    assert!(inside > 10_000, "{inside}");
    assert_eq!(key_map(&doc), want);
    assert_eq!(stat(&doc, "filtered"), 40_000 - inside);

    let out = rank_stdin(&[&"-", &"--since", &"24h"], Some(&log[..10_000]));
    expect_code(&out, 1);
    assert!(out.stderr.contains("stdin"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn sample_logs_rank_cleanly() {
    let dir = sample_logs();
    let files = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert!(files > 0, "{} is empty or missing", dir.display());

    let out = rank(&[&dir]);
    expect_code(&out, 0);
    let table = out.text();
    assert!(
        table.lines().next().unwrap_or("").contains("KEY"),
        "{table}"
    );
    assert!(table.lines().count() > 10, "fewer than 10 keys:\n{table}");

    let doc = rank_json(&[&dir]);
    assert!(entries(&doc).len() >= 10);
    assert_eq!(stat(&doc, "partial_inputs"), 0);
    assert_eq!(stat(&doc, "malformed"), 0);
}

#[test]
fn max_memory_keeps_true_counts_within_the_reported_bounds() {
    let dir = scratch();
    // The long tail of 120k keys needs far more than 4 MiB of tables; the
    // hot keys still stand out.
    let (log, truth) = generated(&Config {
        lines: 200_000,
        keys: 120_000,
        zipf: 0.9,
        seed: 17,
        ..Config::default()
    });
    let path = write(dir.path(), "access.log", &log);
    let exact: Counts = truth.counts_for(|_, _| true).into_iter().collect();

    let doc = rank_json(&[&path, &"--all", &"--max-memory", &"4MiB"]);
    assert_eq!(doc["approximate"], Value::Bool(true));
    let list = entries(&doc);
    // Keys were dropped to stay in budget; every kept one is bracketed.
    assert!(
        list.len() < exact.len() / 2,
        "{} of {} keys kept",
        list.len(),
        exact.len()
    );
    for e in list {
        let real = exact.get(&key_bytes(e)).copied().unwrap_or(0);
        let (low, high) = (
            e["requests_min"].as_u64().unwrap(),
            e["requests_max"].as_u64().unwrap(),
        );
        assert_eq!(high, e["requests"].as_u64().unwrap());
        assert!(
            low <= real && real <= high,
            "{}: {real} not in {low}..={high}",
            e["key"]
        );
    }
    let mut best: Vec<(&Vec<u8>, &u64)> = exact.iter().collect();
    best.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let listed: std::collections::HashSet<Vec<u8>> = list.iter().take(100).map(key_bytes).collect();
    let found = best
        .iter()
        .take(50)
        .filter(|(k, _)| listed.contains(*k))
        .count();
    assert!(
        found >= 49,
        "only {found} of the exact top 50 in the bounded top 100"
    );

    // When the keys fit, the bounded mode is exact and says so.
    let roomy = rank_json(&[&path, &"--all", &"--max-memory", &"512MiB"]);
    assert_eq!(roomy["approximate"], Value::Bool(false));
    assert_eq!(key_map(&roomy), exact);
    assert!(entries(&roomy)[0].get("requests_min").is_none());

    // Its bounds are request counts, so it ranks by requests only.
    let out = rank(&[&path, &"--max-memory", &"64MiB", &"--by", &"bytes"]);
    expect_code(&out, 1);
    assert!(
        out.stderr.contains("--max-memory ranks by requests only"),
        "{}",
        out.stderr
    );
}
