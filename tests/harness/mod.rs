//! What the end-to-end tests of `hotkeys rank`, `report` and `warm` share:
//! running the real binary, temporary files, reading its JSON, and log
//! input written or generated here rather than by hotkeys.

// Each test binary compiles this module whole and uses only part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hotkeys_loggen::{Config, Truth, generate};
use hotkeys_testkit::wait_until;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_hotkeys");

/// No run of the binary may take longer than this: a hang fails the test
/// instead of stalling the whole suite.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// 2024-05-01T00:00:00Z.
pub const MAY_1: i64 = 1_714_521_600;

// ---------------------------------------------------------------------------
// Running the binary

pub struct Out {
    pub code: i32,
    /// Bytes, not text: rank prints log keys exactly as logged.
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Out {
    #[track_caller]
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8")
    }

    /// Stdout and stderr, for checks that a secret appears in neither.
    pub fn all(&self) -> String {
        format!("{}\n{}", String::from_utf8_lossy(&self.stdout), self.stderr)
    }
}

/// `hotkeys ARGS` with a clean environment (no REDIS_URL, REDISCLI_AUTH
/// or proxy variables unless `env` sets them), so that the machine's own
/// settings cannot change what a test sees.
pub fn command<A: AsRef<OsStr>>(args: &[A], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for var in [
        "REDIS_URL",
        "REDISCLI_AUTH",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Spawns with piped output. Without `stdin`, stdin is /dev/null: never
/// the test harness's terminal, whose presence would change how hotkeys
/// treats a missing input list.
pub fn spawn(mut cmd: Command, stdin: Option<&[u8]>) -> Child {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn hotkeys");
    // Written from a thread: a large input would otherwise deadlock against
    // hotkeys filling its stdout pipe.
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin piped");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            // hotkeys may stop reading early (usage error, Ctrl-C): a
            // broken pipe is then expected and the exit code tells the story.
            let _ = pipe.write_all(&bytes);
        });
    }
    child
}

/// Waits for `child` for at most `limit`, killing it (and failing the
/// test) if it takes longer.
pub fn finish(mut child: Child, limit: Duration) -> Out {
    let mut stdout = child.stdout.take().expect("stdout piped");
    let mut stderr = child.stderr.take().expect("stderr piped");
    // Drained while waiting: a full pipe would stop hotkeys for good.
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    // Still None after the wait: the limit passed with hotkeys running.
    let mut status = None;
    wait_until(limit, || {
        status = child.try_wait().expect("wait for hotkeys");
        status.is_some()
    });
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        let err = err_reader.join().unwrap_or_default();
        panic!(
            "hotkeys did not finish within {limit:?}; stderr:\n{}",
            String::from_utf8_lossy(&err)
        );
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Out {
        code: status
            .code()
            .expect("hotkeys exited, not killed by a signal"),
        stdout,
        stderr,
    }
}

/// `hotkeys ARGS` with `stdin` and `env`, within [`RUN_LIMIT`].
pub fn hotkeys<A: AsRef<OsStr>>(args: &[A], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Out {
    finish(spawn(command(args, env), stdin), RUN_LIMIT)
}

/// `hotkeys NAME ARGS`: arguments may mix text and paths.
pub fn subcommand(name: &str, args: &[&dyn AsRef<OsStr>], stdin: Option<&[u8]>) -> Out {
    let mut all: Vec<&dyn AsRef<OsStr>> = vec![&name];
    all.extend_from_slice(args);
    hotkeys(&all, stdin, &[])
}

/// Asserts the exit code, showing the output when it is not the expected
/// one.
#[track_caller]
pub fn expect_code(out: &Out, code: i32) {
    // Enough of stdout to see what went wrong; a ranked list of 100,000
    // keys would bury stderr.
    const SHOWN: usize = 4096;
    let stdout = String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(SHOWN)]);
    let cut = if out.stdout.len() > SHOWN {
        "\n[…]"
    } else {
        ""
    };
    assert_eq!(
        out.code, code,
        "exit code; stdout:\n{stdout}{cut}\nstderr:\n{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------
// JSON

/// Stdout as JSON.
#[track_caller]
pub fn json(out: &Out) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            out.stderr
        )
    })
}

/// The integer at a JSON pointer (`/stats/matched`).
#[track_caller]
pub fn u64_at(doc: &Value, pointer: &str) -> u64 {
    doc.pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| {
            // The enclosing object, not the whole document: a report's
            // arrays would bury the fields that are there.
            let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p);
            panic!(
                "{pointer} missing or not an integer in {}",
                doc.pointer(parent).unwrap_or(doc)
            )
        })
}

/// The document minus the one field that legitimately differs between runs.
#[track_caller]
pub fn without_generated_at(mut doc: Value) -> Value {
    let removed = doc
        .as_object_mut()
        .expect("document is an object")
        .remove("generated_at");
    assert!(removed.is_some(), "generated_at missing");
    doc
}

// ---------------------------------------------------------------------------
// Files and logs

/// A path in the repository, from the root.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// A file or directory under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    repo_path("tests/fixtures").join(name)
}

/// The shipped `sample-logs` directory.
pub fn sample_logs() -> PathBuf {
    repo_path("sample-logs")
}

/// A scratch directory for one test's files, removed when dropped.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hotkeys-test-")
        .tempdir()
        .expect("temp dir")
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a test file");
    path
}

/// A generated log and what the generator counted while writing it.
pub fn generated(config: &Config) -> (Vec<u8>, Truth) {
    let mut log = Vec::new();
    let mut truth = Truth::new();
    generate(config, &mut log, Some(&mut truth)).expect("generate a log");
    (log, truth)
}

/// A combined log line at `time` (Unix seconds) for `target`.
pub fn combined_line(time: i64, method: &str, target: &str, status: u16, bytes: u64) -> String {
    let days = time.div_euclid(86_400);
    let secs = time.rem_euclid(86_400);
    // 2024-05-01 is day 19844 since the epoch; tests stay within May 2024.
    let day = days - 19_844 + 1;
    assert!((1..=31).contains(&day), "tests use May 2024");
    format!(
        "10.0.0.1 - - [{day:02}/May/2024:{:02}:{:02}:{:02} +0000] \"{method} {target} HTTP/1.1\" {status} {bytes} \"-\" \"test\"\n",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

// ---------------------------------------------------------------------------
// The sample logs read without hotkeys, for the exclude options

/// One request of `sample-logs/`, read here: text lines split at their
/// quotes, JSON lines with serde_json, gzip with flate2.
#[derive(Clone, Debug)]
pub struct SampleRequest {
    pub method: String,
    /// `None` for a request line without a target.
    pub target: Option<String>,
    pub status: u64,
    pub client: String,
    pub user_agent: String,
}

/// Every request of every file in `sample-logs/`.
pub fn sample_requests() -> Vec<SampleRequest> {
    let mut requests = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(sample_logs())
        .expect("sample-logs")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    for path in names {
        let raw = std::fs::read(&path).expect("read a sample log");
        let text = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut s = String::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_string(&mut s)
                .expect("gunzip");
            s
        } else {
            String::from_utf8(raw).expect("sample logs are UTF-8")
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            requests.push(if line.starts_with('{') {
                json_request(line)
            } else {
                text_request(line)
            });
        }
    }
    requests
}

/// A `combined` or `nginx-timed` line: `client - - [time] "request" status
/// bytes "referer" "agent"[ times]`. The sample logs have no escaped quotes.
fn text_request(line: &str) -> SampleRequest {
    let parts: Vec<&str> = line.split('"').collect();
    assert_eq!(parts.len(), 7, "{line}");
    let (method, target) = split_request(parts[1]);
    SampleRequest {
        method,
        target,
        status: parts[2].split_whitespace().next().unwrap().parse().unwrap(),
        client: line.split(' ').next().unwrap().to_string(),
        user_agent: parts[5].to_string(),
    }
}

/// An nginx JSON line, or Caddy's (nested `request`, headers as lists).
fn json_request(line: &str) -> SampleRequest {
    let v: Value = serde_json::from_str(line).expect("a JSON line");
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    match &v["request"] {
        Value::Object(r) => SampleRequest {
            method: text(&r["method"]),
            target: r["uri"].as_str().map(str::to_string),
            status: v["status"].as_u64().unwrap(),
            client: text(
                r.get("client_ip")
                    .or_else(|| r.get("remote_ip"))
                    .expect("a client"),
            ),
            user_agent: text(&r["headers"]["User-Agent"][0]),
        },
        request => {
            let (method, target) = split_request(request.as_str().unwrap());
            SampleRequest {
                method,
                target,
                status: v["status"].as_u64().unwrap(),
                client: text(&v["remote_addr"]),
                user_agent: text(&v["http_user_agent"]),
            }
        }
    }
}

fn split_request(request: &str) -> (String, Option<String>) {
    let mut words = request.split(' ');
    let method = words.next().unwrap_or_default().to_string();
    (method, words.next().map(str::to_string))
}

/// The exclude options the sample-log tests give, and how this file
/// decides each of them by hand (not with hotkeys' code).
pub const EXCLUDE_ARGS: [&str; 9] = [
    "--exclude-path",
    "^/api/",
    "--exclude-path",
    "^/static/",
    "--exclude-client",
    "66.0.0.0/8",
    "--exclude-client",
    "2a00::/15",
    "--exclude-bots",
];

/// What [`EXCLUDE_ARGS`] should make of the sample logs with the default
/// filter (GET and HEAD, 200 to 399).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expected {
    pub matched: u64,
    pub filtered: u64,
    pub no_target: u64,
    pub path: u64,
    pub client: u64,
    pub bot: u64,
    pub keys: std::collections::BTreeMap<String, u64>,
}

/// A crawler, monitor or tool among the user agents of the sample logs:
/// the samples hold Googlebot, bingbot, YandexBot, AhrefsBot, UptimeRobot,
/// facebookexternalhit, curl, Wget, python-requests and Go-http-client,
/// and browsers (Chrome, Safari, Firefox, Edge, Samsung Internet) that
/// contain none of these words.
pub fn is_sample_bot(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    [
        "bot",
        "facebookexternalhit/",
        "curl/",
        "wget/",
        "python-requests/",
        "go-http-client/",
    ]
    .iter()
    .any(|word| ua.contains(word))
}

pub fn expected_with_exclusions() -> Expected {
    let mut e = Expected::default();
    for r in sample_requests() {
        let Some(target) = &r.target else {
            e.no_target += 1;
            continue;
        };
        let cacheable =
            matches!(r.method.as_str(), "GET" | "HEAD") && (200..400).contains(&r.status);
        // 66.0.0.0/8 and 2a00::/15 (2a00:… and 2a01:…), as text.
        let client = r.client.to_ascii_lowercase();
        let excluded_client =
            client.starts_with("66.") || client.starts_with("2a00:") || client.starts_with("2a01:");
        if !cacheable {
            e.filtered += 1;
        } else if target.starts_with("/api/") || target.starts_with("/static/") {
            e.path += 1;
        } else if excluded_client {
            e.client += 1;
        } else if is_sample_bot(&r.user_agent) {
            e.bot += 1;
        } else {
            e.matched += 1;
            *e.keys.entry(target.clone()).or_default() += 1;
        }
    }
    e
}
