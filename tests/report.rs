//! End-to-end tests of `hotkeys report`: the real binary on the sample
//! logs, generated logs and hand-made traces.
//!
//! Expected values come from outside the report: the generator's `Truth`,
//! `hotkeys rank` (tested on its own against awk), a direct LRU simulation
//! written here, or the input written by hand.

mod harness;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use harness::{
    EXCLUDE_ARGS, MAY_1, Out, combined_line, expect_code, expected_with_exclusions, fixture,
    generated, json, sample_logs, scratch, subcommand, u64_at, without_generated_at, write,
};
use hotkeys_loggen::{Config, Format};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Helpers

/// `hotkeys report ARGS`.
fn report(args: &[&dyn AsRef<OsStr>]) -> Out {
    subcommand("report", args, None)
}

/// `hotkeys report ARGS --format json`, exit 0, parsed.
#[track_caller]
fn report_json(args: &[&dyn AsRef<OsStr>]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&[&"--format", &"json"]);
    let out = report(&all);
    expect_code(&out, 0);
    json(&out)
}

fn sample_log(name: &str) -> PathBuf {
    sample_logs().join(name)
}

fn f64_at(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} missing or not a number"))
}

fn array<'a>(v: &'a Value, pointer: &str) -> &'a Vec<Value> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{pointer} missing or not an array"))
}

// ---------------------------------------------------------------------------
// Text

#[test]
fn text_report_on_the_sample_logs_has_every_section() {
    let out = report(&[&sample_logs()]);
    expect_code(&out, 0);
    let text = out.text();
    for heading in [
        "1. SUMMARY",
        "2. REQUEST RATE",
        "3. POPULARITY",
        "4. RESPONSE SIZES",
        "5. LATENCY",
        "6. LRU HIT RATIO",
        "7. WARM-UP AFTER A RESTART",
    ] {
        assert!(text.contains(heading), "no {heading} in\n{text}");
    }
    for needle in [
        "method: exact (Mattson stack distances over all",
        "Zipf exponent",
        "one-hit wonders",
        "per minute",
        "request time",
        "FOR HIT RATIO",
        "top 1,000",
    ] {
        assert!(text.contains(needle), "no {needle:?} in\n{text}");
    }
    // The run is summarised on stderr, with how the curve was made.
    assert!(
        out.stderr.contains("hit-ratio curve: exact"),
        "{}",
        out.stderr
    );
    // Counted like `hotkeys rank` counts.
    let rank = subcommand(
        "rank",
        &[&sample_logs(), &"--format", &"json", &"--top", &"1"],
        None,
    );
    expect_code(&rank, 0);
    let rank = json(&rank);
    let matched = u64_at(&rank, "/stats/matched");
    let keys = u64_at(&rank, "/stats/distinct_keys");
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "hotkeys report: {} requests over {} keys",
            group(matched),
            group(keys)
        )
    );
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn text_escapes_keys_from_the_log() {
    let dir = scratch();
    let log: String = (0..5)
        .map(|i| combined_line(MAY_1 + i, "GET", "/a\x1b[2Jb", 200, 10))
        .collect();
    let path = write(dir.path(), "access.log", log.as_bytes());
    let out = report(&[&path]);
    expect_code(&out, 0);
    assert!(!out.text().contains('\x1b'));
    assert!(out.text().contains("/a\\x1b[2Jb"), "{}", out.text());
}

// ---------------------------------------------------------------------------
// JSON

#[test]
fn json_report_has_the_documented_fields() {
    let doc = report_json(&[&sample_logs()]);
    assert_eq!(u64_at(&doc, "/version"), 1);
    for section in [
        "input",
        "summary",
        "rates",
        "popularity",
        "top_keys",
        "sizes",
        "latency",
        "cache",
        "hit_ratio_curve",
        "warmup",
        "warnings",
    ] {
        assert!(doc.get(section).is_some(), "no {section}");
    }
    let curve = array(&doc, "/hit_ratio_curve");
    assert!(curve.len() >= 10, "{curve:?}");
    let mut last: HashMap<String, (u64, f64)> = HashMap::new();
    for p in curve {
        let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["byte_hit_ratio", "capacity", "hit_ratio", "method", "unit"],
            "{p}"
        );
        let unit = p["unit"].as_str().unwrap().to_string();
        assert!(unit == "objects" || unit == "bytes", "{p}");
        assert_eq!(p["method"], "exact");
        let (c, h) = (
            p["capacity"].as_u64().unwrap(),
            p["hit_ratio"].as_f64().unwrap(),
        );
        assert!((0.0..=1.0).contains(&h));
        assert!((0.0..=1.0).contains(&p["byte_hit_ratio"].as_f64().unwrap()));
        // Larger LRU caches never do worse (LRU is a stack algorithm).
        if let Some((pc, ph)) = last.get(&unit) {
            assert!(c > *pc && h >= *ph, "{p} after {pc} {ph}");
        }
        last.insert(unit, (c, h));
    }
    assert_eq!(last.len(), 2, "both units");
    assert_eq!(doc["cache"]["method"], "exact");
    assert_eq!(f64_at(&doc, "/cache/sample_rate"), 1.0);
    assert_eq!(array(&doc, "/cache/needed").len(), 4);
    let s = &doc["summary"];
    assert!(u64_at(s, "/working_set_bytes") > 0);
    assert_eq!(
        u64_at(s, "/working_set_objects"),
        u64_at(s, "/distinct_keys")
    );
    let methods = array(s, "/methods");
    assert!(methods.iter().any(|m| m["name"] == "GET"));
    assert!(f64_at(&doc, "/popularity/zipf/exponent") > 0.5);
    assert!(u64_at(&doc, "/rates/per_minute/peak") >= u64_at(&doc, "/rates/per_minute/p99"));
    assert!(
        u64_at(&doc, "/latency/request_time/p99_us")
            >= u64_at(&doc, "/latency/request_time/p50_us")
    );
    let rows = array(&doc, "/warmup/rows");
    assert_eq!(rows.len(), 4, "cold and 100, 1000, 10000");
    assert_eq!(u64_at(&rows[0], "/warm_top"), 0);
}

#[test]
fn json_counts_equal_the_generators_truth() {
    let config = Config {
        lines: 30_000,
        keys: 3_000,
        format: Format::NginxTimed,
        ..Config::default()
    };
    let (log, truth) = generated(&config);
    let dir = scratch();
    let path = write(dir.path(), "access.log", &log);
    let doc = report_json(&[&path, &"--top-keys", &"5"]);
    let cacheable = |m: &str, s: u16| matches!(m, "GET" | "HEAD") && (200..400).contains(&s);
    let expected = truth.counts_for(cacheable);
    assert_eq!(
        u64_at(&doc, "/summary/requests"),
        expected.values().sum::<u64>()
    );
    assert_eq!(
        u64_at(&doc, "/summary/distinct_keys"),
        expected.len() as u64
    );
    assert_eq!(u64_at(&doc, "/summary/requests_parsed"), 30_000);
    let top = truth.top(5, cacheable);
    let listed: Vec<(Vec<u8>, u64)> = array(&doc, "/top_keys")
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap().as_bytes().to_vec(),
                u64_at(k, "/requests"),
            )
        })
        .collect();
    assert_eq!(listed, top);
    // Every request of the generated log has a time, so rates add up.
    let per_minute_mean = f64_at(&doc, "/rates/per_minute/mean");
    let minutes = u64_at(&doc, "/rates/per_minute/periods") as f64;
    assert!((per_minute_mean * minutes - expected.values().sum::<u64>() as f64).abs() < 1e-6);
}

#[test]
fn non_utf8_keys_carry_their_bytes_in_base64() {
    let dir = scratch();
    let mut log = Vec::new();
    for i in 0..3 {
        log.extend_from_slice(
            combined_line(MAY_1 + i, "GET", "/a\u{fffd}b", 200, 5)
                .replace("\u{fffd}", "\u{1}")
                .as_bytes(),
        );
    }
    // Replace the marker byte with an invalid UTF-8 byte.
    for b in log.iter_mut() {
        if *b == 1 {
            *b = 0xff;
        }
    }
    let path = write(dir.path(), "access.log", &log);
    let doc = report_json(&[&path]);
    let key = &array(&doc, "/top_keys")[0];
    assert_eq!(key["key"], "/a\u{fffd}b");
    assert_eq!(key["key_base64"], "L2H/Yg==");
}

#[test]
fn threads_and_chunks_never_change_the_report() {
    let (log, _) = generated(&Config {
        lines: 20_000,
        keys: 2_000,
        ..Config::default()
    });
    let dir = scratch();
    let path = write(dir.path(), "access.log", &log);
    let one = without_generated_at(report_json(&[&path, &"-j", &"1"]));
    for (threads, chunk) in [("2", "64KiB"), ("3", "7KiB"), ("2", "32MiB")] {
        let other = without_generated_at(report_json(&[
            &path,
            &"-j",
            &threads,
            &"--chunk-size",
            &chunk,
        ]));
        assert_eq!(one, other, "-j {threads} --chunk-size {chunk}");
    }
}

#[test]
fn stdin_reads_like_the_file() {
    let path = sample_log("access.log");
    let bytes = std::fs::read(&path).unwrap();
    let from_file = without_generated_at(report_json(&[&path]));
    let out = subcommand("report", &[&"-", &"--format", &"json"], Some(&bytes));
    expect_code(&out, 0);
    let mut from_stdin = without_generated_at(json(&out));
    // Only the input's name differs.
    from_stdin["input"]["formats"][0]["input"] = from_file["input"]["formats"][0]["input"].clone();
    assert_eq!(from_file, from_stdin);
}

// ---------------------------------------------------------------------------
// The hit-ratio curve against a direct LRU simulation

/// Hit ratio of an LRU cache of `capacity` objects on `trace`, simulated
/// request by request.
fn direct_lru(trace: &[u32], capacity: usize) -> f64 {
    let mut cache: VecDeque<u32> = VecDeque::new();
    let mut hits = 0usize;
    for &block in trace {
        if let Some(i) = cache.iter().position(|&b| b == block) {
            cache.remove(i);
            hits += 1;
        } else if cache.len() == capacity {
            cache.pop_back();
        }
        cache.push_front(block);
    }
    hits as f64 / trace.len() as f64
}

/// A block trace like the classic ones: loops over a working set, a hot
/// region and random blocks, with no timestamps to speak of.
fn block_trace() -> Vec<u32> {
    let mut trace = Vec::new();
    let mut x: u64 = 42;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..40u32 {
        for b in 0..150 {
            trace.push(1_000 + b);
        }
        for _ in 0..200 {
            trace.push((next() % 40) as u32);
        }
        for _ in 0..100 {
            trace.push(5_000 + (next() % 3_000) as u32);
        }
        trace.push(round);
    }
    trace
}

#[test]
fn exact_curve_reproduces_a_direct_lru_simulation_on_a_block_trace() {
    // One GET per block, all in the same second: only the input order tells
    // the requests apart, and it must survive chunking and threads.
    let trace = block_trace();
    let log: String = trace
        .iter()
        .map(|b| combined_line(MAY_1, "GET", &format!("/{b}"), 200, 4096))
        .collect();
    let dir = scratch();
    let path = write(dir.path(), "blocks.log", log.as_bytes());
    let sizes = [10usize, 40, 100, 160, 190, 250, 400, 1_000];
    let list = sizes.map(|s| s.to_string()).join(",");
    for (threads, chunk) in [("1", "32MiB"), ("2", "16KiB")] {
        let doc = report_json(&[
            &path,
            &"--exact",
            &"--cache-sizes",
            &list,
            &"-j",
            &threads,
            &"--chunk-size",
            &chunk,
        ]);
        let curve = array(&doc, "/hit_ratio_curve");
        assert_eq!(curve.len(), sizes.len());
        for (p, &size) in curve.iter().zip(&sizes) {
            assert_eq!(u64_at(p, "/capacity"), size as u64);
            let expected = direct_lru(&trace, size);
            let got = f64_at(p, "/hit_ratio");
            assert!(
                (got - expected).abs() < 1e-12,
                "{size} blocks: report {got}, direct LRU {expected} (-j {threads})"
            );
            // Every block is the same size: byte hit ratio is the same.
            assert!((f64_at(p, "/byte_hit_ratio") - expected).abs() < 1e-12);
        }
    }
    // Byte capacities: 4 KiB blocks, so 400 KiB holds 100 of them.
    let doc = report_json(&[&path, &"--exact", &"--cache-sizes", &"400KiB,1000KiB"]);
    let curve = array(&doc, "/hit_ratio_curve");
    assert_eq!(curve[0]["unit"], "bytes");
    assert!((f64_at(&curve[0], "/hit_ratio") - direct_lru(&trace, 100)).abs() < 1e-12);
    assert!((f64_at(&curve[1], "/hit_ratio") - direct_lru(&trace, 250)).abs() < 1e-12);
}

/// A few very hot keys may all fall outside a SHARDS sample; the best
/// possible hit ratio still follows from the exact counts (1 - keys /
/// requests), never 0%.
#[test]
fn an_empty_sample_keeps_the_exact_best_possible_hit_ratio() {
    let dir = scratch();
    let log: String = (0..2000)
        .map(|i| {
            combined_line(
                MAY_1 + i,
                "GET",
                if i % 2 == 0 { "/hot" } else { "/hot2" },
                200,
                10,
            )
        })
        .collect();
    let path = write(dir.path(), "hot.log", log.as_bytes());
    let doc = report_json(&[&path, &"--sample-rate", &"0.0001"]);
    // The premise: neither key is in the sample at this rate.
    assert_eq!(u64_at(&doc, "/cache/sampled_requests"), 0);
    let best = f64_at(&doc, "/cache/max_hit_ratio");
    assert!((best - (1.0 - 2.0 / 2000.0)).abs() < 1e-9, "{best}");
}

#[test]
fn sampling_is_named_and_a_small_sample_is_flagged() {
    let doc = report_json(&[&sample_logs(), &"--sample-rate", &"0.1"]);
    assert_eq!(doc["cache"]["method"], "shards");
    assert_eq!(f64_at(&doc, "/cache/sample_rate"), 0.1);
    assert!(u64_at(&doc, "/cache/sampled_requests") > 0);
    assert!(
        array(&doc, "/hit_ratio_curve")
            .iter()
            .all(|p| p["method"] == "shards")
    );
    let warnings = array(&doc, "/warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("SHARDS sample is small")),
        "{warnings:?}"
    );
    let out = report(&[&sample_logs(), &"--sample-rate", &"0.1"]);
    expect_code(&out, 0);
    assert!(
        out.text().contains("method: SHARDS sample at rate 0.1"),
        "{}",
        out.text()
    );
    assert!(
        out.stderr.contains("warning: the SHARDS sample is small"),
        "{}",
        out.stderr
    );
}

#[test]
fn large_inputs_are_sampled_unless_exact_is_asked_for() {
    // The limit is lowered so that the sample logs count as large.
    let doc = report_json(&[&sample_logs(), &"--max-exact-requests", &"2000"]);
    assert_eq!(doc["cache"]["method"], "shards");
    // 7,637 requests: 10% keeps about 760, below the limit.
    assert_eq!(f64_at(&doc, "/cache/sample_rate"), 0.1);
    let exact = report_json(&[&sample_logs(), &"--max-exact-requests", &"2000", &"--exact"]);
    assert_eq!(exact["cache"]["method"], "exact");
}

// ---------------------------------------------------------------------------
// Warm-up

#[test]
fn warm_up_follows_the_options() {
    let (log, _) = generated(&Config {
        lines: 50_000,
        keys: 5_000,
        ..Config::default()
    });
    let dir = scratch();
    let path = write(dir.path(), "access.log", &log);
    let doc = report_json(&[
        &path,
        &"--restart-at",
        &"2024-05-01T14:00:00Z",
        &"--warm-top",
        &"50,500",
        &"--warm-cache-size",
        &"2000",
    ]);
    let w = &doc["warmup"];
    assert_eq!(w["restart_at"], "2024-05-01T14:00:00Z");
    assert_eq!(u64_at(w, "/cache_capacity"), 2000);
    assert_eq!(w["cache_unit"], "objects");
    let rows = array(w, "/rows");
    let tops: Vec<u64> = rows.iter().map(|r| u64_at(r, "/warm_top")).collect();
    assert_eq!(tops, [0, 50, 500]);
    let origin = |i: usize| u64_at(&rows[i], "/origin_requests/2");
    assert!(origin(2) <= origin(1) && origin(1) <= origin(0));
    assert!(origin(2) < origin(0), "warming 500 keys saves something");
    // Afternoon traffic: hundreds of requests in 15 minutes.
    assert!(u64_at(w, "/requests/2") > 300);

    // A duration counts back from the last request (every request counts
    // with --all, so the last line is the last request).
    let last_line = log.split(|&b| b == b'\n').rfind(|l| !l.is_empty()).unwrap();
    let last_line = std::str::from_utf8(last_line).unwrap();
    let stamp = &last_line[last_line.find('[').unwrap() + 1..][..20];
    assert!(stamp.starts_with("01/May/2024:"), "{stamp}");
    let clock: Vec<i64> = stamp[12..].split(':').map(|x| x.parse().unwrap()).collect();
    let last = MAY_1 + clock[0] * 3600 + clock[1] * 60 + clock[2];
    let before_end = report_json(&[&path, &"--all", &"--restart-at", &"1h"]);
    assert_eq!(
        u64_at(&before_end, "/warmup/restart_at_unix_us") as i64,
        (last - 3600) * 1_000_000
    );

    let outside = report_json(&[&path, &"--restart-at", &"2024-06-01"]);
    let warnings = array(&outside, "/warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("outside the log")),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------
// HTML

/// The report of the sample logs as HTML, written with -o.
fn sample_html(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("report.html");
    let out = report(&[&sample_logs(), &"--format", &"html", &"-o", &path]);
    expect_code(&out, 0);
    assert!(out.stdout.is_empty(), "-o leaves stdout empty");
    let html = std::fs::read_to_string(&path).expect("report written");
    (path, html)
}

#[test]
fn html_report_has_its_charts_and_nothing_external() {
    let dir = scratch();
    let (_, html) = sample_html(dir.path());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for id in [
        "chart-hit-ratio-objects",
        "chart-hit-ratio-bytes",
        "chart-coverage",
        "chart-rate",
        "chart-latency",
        "chart-warmup",
    ] {
        let start = html
            .find(&format!("<svg id=\"{id}\""))
            .unwrap_or_else(|| panic!("no chart {id}"));
        let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
        // A drawn line and labelled axes, not an empty frame.
        assert!(svg.contains("<path d=\"M"), "{id} has no line");
        assert!(svg.matches("<text").count() >= 8, "{id} has too few labels");
    }
    for section in [
        "summary",
        "rates",
        "popularity",
        "sizes",
        "latency",
        "hit-ratio",
        "warmup",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{section}\">")),
            "no {section}"
        );
    }
    for forbidden in [
        "http://", "https://", "<script", "<link", "@import", "<img", "<iframe",
    ] {
        assert!(!html.contains(forbidden), "the report contains {forbidden}");
    }
    // Only references inside the page.
    for (i, _) in html.match_indices("url(") {
        assert!(html[i..].starts_with("url(#"), "{}", &html[i..i + 40]);
    }
    for (i, _) in html.match_indices("href=\"") {
        assert!(html[i + 6..].starts_with('#'), "{}", &html[i..i + 40]);
    }
}

#[test]
fn html_escapes_keys_from_the_log() {
    let dir = scratch();
    // (A double quote cannot be inside a combined log's request field.)
    let evil = "/<script>alert('x')</script>?a=1&b=2";
    let log: String = (0..20)
        .map(|i| combined_line(MAY_1 + i * 60, "GET", evil, 200, 100))
        .collect();
    let path = write(dir.path(), "access.log", log.as_bytes());
    let out = report(&[&path, &"--format", &"html"]);
    expect_code(&out, 0);
    let html = out.text();
    assert!(!html.contains("<script"), "raw markup from the log");
    assert!(
        html.contains("/&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;?a=1&amp;b=2"),
        "escaped key missing"
    );
}

/// Renders the report in headless Chromium and checks a real picture came
/// out. Without Chromium the test fails: a rendering check that passes
/// unchecked would hide a broken report.
#[test]
fn html_renders_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect(
            "this test needs chromium to render the HTML report; \
             scripts/test installs it (apt-get install chromium)",
        );
    let dir = scratch();
    let (html, _) = sample_html(dir.path());
    let png = dir.path().join("report.png");
    let profile = dir.path().join("profile");
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,2400")
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run chromium");
    assert!(status.success(), "chromium failed: {status}");
    let bytes = std::fs::read(&png).expect("chromium wrote a screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // IHDR: width and height, big-endian, at bytes 16..24.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2400));
    // A blank page compresses to a few kilobytes; charts and tables do not.
    assert!(
        bytes.len() > 60_000,
        "screenshot of {} bytes looks empty",
        bytes.len()
    );
}

// ---------------------------------------------------------------------------
// --hgrm

#[test]
fn hgrm_is_hdrhistograms_percentile_distribution() {
    let dir = scratch();
    let hgrm = dir.path().join("latency.hgrm");
    let doc = report_json(&[&sample_log("nginx-timed.log"), &"--hgrm", &hgrm]);
    let text = std::fs::read_to_string(&hgrm).expect(".hgrm written");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    );
    assert_eq!(lines.next(), Some(""));
    let mut rows: Vec<(f64, f64, u64)> = Vec::new();
    let mut footer = Vec::new();
    for l in lines {
        if l.starts_with("#[") {
            footer.push(l);
            continue;
        }
        let cols: Vec<&str> = l.split_whitespace().collect();
        assert!(cols.len() == 4 || cols.len() == 3, "{l:?}");
        rows.push((
            cols[0].parse().unwrap(),
            cols[1].parse().unwrap(),
            cols[2].parse().unwrap(),
        ));
    }
    assert!(rows.len() > 20);
    assert!(
        rows.windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1 && w[0].2 <= w[1].2)
    );
    let last = rows.last().unwrap();
    assert_eq!(last.1, 1.0);
    let count = u64_at(&doc, "/latency/request_time/count");
    assert_eq!(last.2, count);
    // Milliseconds: the maximum matches the report's microseconds.
    let max_ms = u64_at(&doc, "/latency/request_time/max_us") as f64 / 1000.0;
    assert!(
        (last.0 - max_ms).abs() <= max_ms * 0.002 + 0.001,
        "{} vs {max_ms}",
        last.0
    );
    assert_eq!(footer.len(), 3);
    assert!(footer[0].starts_with("#[Mean    = "));
    assert!(
        footer[1].contains(&format!("Total count    = {count:>12}]")),
        "{}",
        footer[1]
    );
    assert!(footer[2].starts_with("#[Buckets = "));
}

// ---------------------------------------------------------------------------
// Exit codes and usage errors

#[test]
fn exit_codes() {
    // Success, and --help.
    expect_code(&report(&[&sample_log("access.log")]), 0);
    let help = report(&[&"--help"]);
    expect_code(&help, 0);
    assert!(help.text().contains("hotkeys report sample-logs/"));
    assert!(help.text().contains("--cache-sizes"));
    // Usage errors: 1, with a message that says what to give.
    for (args, message) in [
        (vec!["--cache-sizes", "10k"], "number of objects"),
        (vec!["--sample-rate", "2"], "at most 1"),
        (
            vec!["--sample-rate", "0.1", "--exact"],
            "cannot be used with",
        ),
        (vec!["--warm-top", "x"], "whole number of keys"),
        (vec!["--restart-at", "soon"], "RFC 3339"),
        (vec!["--format", "pdf"], "invalid value"),
    ] {
        let path = sample_log("access.log");
        let mut all: Vec<&dyn AsRef<OsStr>> = vec![&path];
        all.extend(args.iter().map(|a| a as &dyn AsRef<OsStr>));
        let out = report(&all);
        expect_code(&out, 1);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    // A missing input is partial input: 2, and the report of the rest.
    let dir = scratch();
    let out = report(&[
        &sample_log("access.log"),
        &dir.path().join("missing.log"),
        &"--format",
        &"json",
    ]);
    expect_code(&out, 2);
    let doc = json(&out);
    assert_eq!(u64_at(&doc, "/input/partial_inputs"), 1);
    assert_eq!(u64_at(&doc, "/summary/requests_parsed"), 1_400);
    assert!(out.stderr.contains("missing.log"), "{}", out.stderr);
}

#[test]
fn output_file_is_written_whole_and_nothing_else() {
    let dir = scratch();
    let path = dir.path().join("report.json");
    let out = report(&[
        &sample_log("access.log"),
        &"--format",
        &"json",
        &"-o",
        &path,
    ]);
    expect_code(&out, 0);
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(u64_at(&doc, "/summary/requests_parsed"), 1_400);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "report.json")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A key as both JSON documents write it: the display text, and the
/// exact bytes in base64 when they are not UTF-8.
fn key_id(entry: &Value) -> (String, Option<String>) {
    (
        entry["key"].as_str().expect("key").to_string(),
        entry
            .get("key_base64")
            .and_then(Value::as_str)
            .map(str::to_string),
    )
}

/// `rank` and `report` share one path from request to key, so they must
/// agree on every count: matched, filtered, no target, unrouted, distinct
/// keys and each key's requests, on hostile lines and on the sample logs,
/// with and without routes and filters.
#[test]
fn rank_and_report_agree_on_every_count() {
    let dir = scratch();
    let routes = write(
        dir.path(),
        "routes.toml",
        br#"
[[route]]
name = "product"
match = '^/api/products/(?P<id>[0-9]+)'
key = "product:{id}"
"#,
    );
    let hostile = fixture("hostile.log");
    let logs = sample_logs();
    let cases: Vec<Vec<&dyn AsRef<OsStr>>> = vec![
        vec![&hostile],
        vec![&hostile, &"--all"],
        vec![&logs],
        vec![&logs, &"--all", &"--method", &"GET,POST"],
        vec![&logs, &"--routes", &routes],
        vec![&logs, &"--routes", &routes, &"--status", &"200"],
        EXCLUDE_ARGS
            .iter()
            .map(|a| a as &dyn AsRef<OsStr>)
            .chain([&logs as &dyn AsRef<OsStr>])
            .collect(),
        vec![
            &logs,
            &"--routes",
            &routes,
            &"--exclude-client",
            &"66.0.0.0/8",
            &"--exclude-bots",
        ],
        vec![&logs, &"--all", &"--exclude-bots"],
    ];
    for args in cases {
        let routed = args.iter().any(|a| a.as_ref() == "--routes");
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        let mut report_args = args.clone();
        report_args.extend([&"--top-keys" as &dyn AsRef<OsStr>, &"1000000"]);
        let doc = report_json(&report_args);
        let mut rank_args = args.clone();
        rank_args.extend([&"--format" as &dyn AsRef<OsStr>, &"json", &"--top", &"0"]);
        let rank = subcommand("rank", &rank_args, None);
        expect_code(&rank, 0);
        let rank = json(&rank);
        for (in_report, in_rank) in [
            ("/summary/requests", "/stats/matched"),
            ("/summary/filtered", "/stats/filtered"),
            ("/summary/no_target", "/stats/no_target"),
            ("/summary/unrouted", "/stats/unrouted"),
            ("/summary/distinct_keys", "/stats/distinct_keys"),
        ] {
            assert_eq!(
                u64_at(&doc, in_report),
                u64_at(&rank, in_rank),
                "{in_report} for {shown:?}"
            );
        }
        // Left out of both when zero.
        let optional = |v: &Value, p: &str| v.pointer(p).map(|n| n.as_u64().expect("a count"));
        for (in_report, in_rank) in [
            ("/summary/excluded", "/stats/excluded"),
            ("/summary/excluded_by/path", "/stats/excluded_by/path"),
            ("/summary/excluded_by/client", "/stats/excluded_by/client"),
            ("/summary/excluded_by/bot", "/stats/excluded_by/bot"),
        ] {
            assert_eq!(
                optional(&doc, in_report),
                optional(&rank, in_rank),
                "{in_report} for {shown:?}"
            );
        }
        let excluding = args.iter().any(|a| a.as_ref() == "--exclude-bots");
        assert_eq!(
            optional(&rank, "/stats/excluded").is_some_and(|n| n > 0),
            excluding,
            "{shown:?}"
        );
        let per_key = |entries: &Vec<Value>| -> BTreeMap<(String, Option<String>), u64> {
            entries
                .iter()
                .map(|e| (key_id(e), u64_at(e, "/requests")))
                .collect()
        };
        let from_report = per_key(array(&doc, "/top_keys"));
        let from_rank = per_key(array(&rank, "/keys"));
        assert!(!from_rank.is_empty(), "no keys for {shown:?}");
        assert_eq!(from_report, from_rank, "per-key requests for {shown:?}");
        if routed {
            assert!(
                from_rank.keys().all(|(k, _)| k.starts_with("product:")),
                "a key not made by the route for {shown:?}"
            );
            assert!(u64_at(&rank, "/stats/unrouted") > 0, "{shown:?}");
        }
    }
}

#[test]
fn empty_and_untimed_inputs_give_short_honest_reports() {
    let dir = scratch();
    let empty = write(dir.path(), "empty.log", b"");
    // A nightly job must not replace its last report with an empty one.
    let refused = report(&[&empty]);
    expect_code(&refused, 1);
    assert!(
        refused.stderr.contains("nothing to report"),
        "{}",
        refused.stderr
    );
    // Asked for, the empty report says why it is empty.
    let out = report(&[&empty, &"--allow-empty"]);
    expect_code(&out, 0);
    assert!(
        out.text().contains("No request passed the filters"),
        "{}",
        out.text()
    );
    assert!(!out.text().contains("LRU HIT RATIO"));
    let doc = report_json(&[&empty, &"--allow-empty"]);
    assert!(array(&doc, "/hit_ratio_curve").is_empty());
    assert!(doc["warmup"].is_null());
    assert!(doc["cache"]["needed"][0]["bytes"].is_null());
    let html = report(&[&empty, &"--allow-empty", &"--format", &"html"]);
    expect_code(&html, 0);
    assert!(!html.text().contains("<svg"));

    // A format without times: no rates and no restart, but a curve.
    let untimed = write(
        dir.path(),
        "untimed.log",
        b"GET /a 200 10\nGET /b 200 20\nGET /a 200 10\n",
    );
    let doc = report_json(&[
        &untimed,
        &"--log-format",
        &"$request_method $uri $status $body_bytes_sent",
    ]);
    assert!(doc["rates"].is_null());
    assert!(doc["warmup"].is_null());
    assert!(
        doc["warmup_unavailable"]
            .as_str()
            .unwrap()
            .contains("no counted request has a time")
    );
    let curve = array(&doc, "/hit_ratio_curve");
    // Two objects hold both keys: the second /a hits.
    let two = curve
        .iter()
        .find(|p| p["unit"] == "objects" && p["capacity"] == 2)
        .unwrap();
    assert!((f64_at(two, "/hit_ratio") - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn exclude_options_count_what_an_independent_reading_finds() {
    let want = expected_with_exclusions();
    let logs = sample_logs();
    let mut args: Vec<&dyn AsRef<OsStr>> = vec![&logs, &"--top-keys", &"1000000"];
    args.extend(EXCLUDE_ARGS.iter().map(|a| a as &dyn AsRef<OsStr>));
    let doc = report_json(&args);
    let s = &doc["summary"];
    assert_eq!(u64_at(s, "/requests"), want.matched);
    assert_eq!(u64_at(s, "/filtered"), want.filtered);
    assert_eq!(u64_at(s, "/no_target"), want.no_target);
    assert_eq!(u64_at(s, "/excluded"), want.path + want.client + want.bot);
    assert_eq!(u64_at(s, "/excluded_by/path"), want.path);
    assert_eq!(u64_at(s, "/excluded_by/client"), want.client);
    assert_eq!(u64_at(s, "/excluded_by/bot"), want.bot);
    let keys: BTreeMap<String, u64> = array(&doc, "/top_keys")
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap().to_string(),
                u64_at(k, "/requests"),
            )
        })
        .collect();
    assert_eq!(keys, want.keys);

    args.truncate(1);
    args.extend(EXCLUDE_ARGS.iter().map(|a| a as &dyn AsRef<OsStr>));
    let out = report(&args);
    expect_code(&out, 0);
    let excluded = format!(
        "{} excluded (path {}, client {}, bot {})",
        group(want.path + want.client + want.bot),
        group(want.path),
        group(want.client),
        group(want.bot)
    );
    assert!(
        out.text().contains(&excluded),
        "no {excluded:?} in\n{}",
        out.text()
    );
    // Without exclude options the summary has no such fields.
    let plain = report_json(&[&logs]);
    assert!(plain["summary"].get("excluded").is_none());
    assert!(plain["summary"].get("excluded_by").is_none());
}

#[test]
fn host_and_latency_warnings_only_when_they_apply() {
    let logs = sample_logs();
    let has = |doc: &Value, text: &str| {
        array(doc, "/warnings")
            .iter()
            .any(|w| w.as_str().unwrap().contains(text))
    };
    let host = "--host filters out every request of";
    let doc = report_json(&[&logs, &"--host", &"shop.example.com"]);
    assert!(has(&doc, host), "{}", doc["warnings"]);
    let out = report(&[&logs, &"--host", &"shop.example.com"]);
    expect_code(&out, 0);
    assert!(
        out.stderr.contains(&format!("warning: {host}")),
        "{}",
        out.stderr
    );
    let quiet = report(&[&logs, &"--host", &"shop.example.com", &"-q"]);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let doc = report_json(&[&logs]);
    assert!(!has(&doc, host), "{}", doc["warnings"]);
    let doc = report_json(&[&logs.join("nginx-json.log"), &"--host", &"shop.example.com"]);
    assert!(!has(&doc, host), "{}", doc["warnings"]);

    // One rule with `rank --by cost`: no counted request with a time.
    let times = "the log records no response times";
    let doc = report_json(&[&logs.join("access.log")]);
    assert!(has(&doc, times), "{}", doc["warnings"]);
    let doc = report_json(&[&logs.join("access.log"), &logs.join("nginx-timed.log")]);
    assert!(!has(&doc, times), "{}", doc["warnings"]);
}
