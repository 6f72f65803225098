//! The warm list: the ranked hot keys that `hotkeys rank` writes and the
//! warmer (and any other tool) reads. `docs/warm-list.md` is the reference
//! for people writing consumers; this module is its implementation.
//!
//! Keys are bytes, because log lines are: a key that is valid UTF-8 is
//! stored as text in `key`; any other key keeps a readable (lossy) `key` and
//! carries its exact bytes, base64-encoded, in `key_base64`. Every writer
//! and reader goes through [`WarmEntry::set_key`] and
//! [`WarmEntry::key_bytes`] so the two representations cannot drift.
//!
//! Version promise: adding fields keeps [`FORMAT_VERSION`] at 1 (readers,
//! this one included, ignore fields they do not know, and missing optional
//! fields take their defaults); changing or removing the meaning of a field
//! bumps it, and this reader then refuses the newer list with a message
//! saying to upgrade.

use std::fmt;
use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::timestamp::{format_rfc3339, now_micros};

/// The warm list format version this crate writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Header of the CSV form. `key_base64` is last so that tools which only
/// know the documented leading columns still find them where they expect.
pub const CSV_HEADER: [&str; 15] = [
    "rank",
    "key",
    "requests",
    "bytes",
    "cost_us",
    "share",
    "cumulative_share",
    "latency_p50_us",
    "latency_p99_us",
    "route",
    "origin_path",
    "ttl",
    "requests_min",
    "requests_max",
    "key_base64",
];

/// A complete warm list, as written by `hotkeys rank` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarmList {
    /// Format version, [`FORMAT_VERSION`] when written by this crate.
    pub version: u32,
    /// When the list was made, RFC 3339 in UTC.
    #[serde(default)]
    pub generated_at: String,
    /// The program that made it, e.g. `hotkeys 0.1.0`.
    #[serde(default)]
    pub generator: String,
    /// The metric keys are ranked by: `requests`, `bytes` or `cost`.
    #[serde(default)]
    pub ranked_by: String,
    /// True when the counts are estimates (e.g. sampled input or a bounded
    /// top-k sketch) rather than exact.
    #[serde(default)]
    pub approximate: bool,
    /// What was read to make the list.
    #[serde(default)]
    pub stats: Stats,
    /// The keys, best first.
    pub keys: Vec<WarmEntry>,
}

impl WarmList {
    /// An empty list stamped with the current time and this crate's
    /// version as the generator.
    pub fn new(ranked_by: &str) -> WarmList {
        WarmList {
            version: FORMAT_VERSION,
            // Whole seconds: sub-second precision only adds noise for readers.
            generated_at: format_rfc3339(now_micros() / 1_000_000 * 1_000_000),
            generator: concat!("hotkeys ", env!("CARGO_PKG_VERSION")).to_owned(),
            ranked_by: ranked_by.to_owned(),
            approximate: false,
            stats: Stats::default(),
            keys: Vec::new(),
        }
    }
}

/// Counts describing the input a list was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Input files (or streams) read.
    pub files: u64,
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Empty or whitespace-only lines.
    pub blank_lines: u64,
    /// Lines that became (counted towards) a key.
    pub matched: u64,
    /// Distinct keys among the matched lines (the list may hold fewer).
    pub distinct_keys: u64,
    /// Valid lines excluded by filters (status, method, time window, ...).
    pub filtered: u64,
    /// Valid lines the filters kept and an exclude option left out; not
    /// written when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub excluded: u64,
    /// `excluded` by reason; not written when `excluded` is zero.
    #[serde(skip_serializing_if = "ExcludedBy::is_zero")]
    pub excluded_by: ExcludedBy,
    /// Lines that could not be parsed in the log format.
    pub malformed: u64,
    /// Lines longer than the reader's limit, skipped.
    pub too_long: u64,
    /// Valid lines whose request had no target (`"-"`).
    pub no_target: u64,
    /// Valid lines that no route matched.
    pub unrouted: u64,
    /// Inputs that could not be read to the end (truncated, corrupt, I/O error).
    pub partial_inputs: u64,
    /// Bytes read, after decompression.
    pub bytes_read: u64,
    /// Time of the earliest line seen, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_time: Option<String>,
    /// Time of the latest line seen, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_time: Option<String>,
}

/// Lines left out by the exclude options, by option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExcludedBy {
    /// By `--exclude-path`: the target matched a pattern.
    pub path: u64,
    /// By `--exclude-client`: the client address is in a listed network.
    pub client: u64,
    /// By `--exclude-bots`: the user agent is a crawler, monitor or tool.
    pub bot: u64,
}

impl ExcludedBy {
    /// Whether nothing was excluded.
    pub fn is_zero(&self) -> bool {
        self.path == 0 && self.client == 0 && self.bot == 0
    }

    /// "path 10, bot 2": the options that excluded something, each count
    /// written with `count`.
    pub fn describe(&self, count: impl Fn(u64) -> String) -> String {
        [
            ("path", self.path),
            ("client", self.client),
            ("bot", self.bot),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{what} {}", count(*n)))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One ranked key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WarmEntry {
    /// 1 for the hottest key.
    pub rank: u64,
    /// The key as text: exact when `key_base64` is absent, otherwise a
    /// display form with U+FFFD in place of invalid bytes.
    pub key: String,
    /// Standard base64 (with padding) of the exact key bytes, present only
    /// when the key is not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_base64: Option<String>,
    /// Requests counted for the key.
    #[serde(default)]
    pub requests: u64,
    /// Response bytes sent for the key.
    #[serde(default)]
    pub bytes: u64,
    /// Sum of the key's response times in microseconds (0 if the log has none).
    #[serde(default)]
    pub cost_us: u64,
    /// The key's fraction of the ranking metric over all matched lines.
    #[serde(default)]
    pub share: f64,
    /// Sum of `share` over this and all better-ranked keys.
    #[serde(default)]
    pub cumulative_share: f64,
    /// Median response time in microseconds, when the log has timings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50_us: Option<u64>,
    /// 99th-percentile response time in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99_us: Option<u64>,
    /// Name of the route that produced the key, when routes were used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Path to request from the origin to fill the key (see
    /// [`WarmEntry::set_origin_path`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_path: Option<String>,
    /// Time to live in seconds, from the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// In an approximate list: the smallest the true request count can be
    /// (`requests` is then the largest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_min: Option<u64>,
    /// In an approximate list: the largest the true request count can be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_max: Option<u64>,
}

impl WarmEntry {
    /// An entry with the given rank and key and zero counts.
    pub fn with_key(rank: u64, key: &[u8]) -> WarmEntry {
        let mut entry = WarmEntry {
            rank,
            ..WarmEntry::default()
        };
        entry.set_key(key);
        entry
    }

    /// Stores `bytes` as the key: as text when it is valid UTF-8, otherwise
    /// as a lossy display form plus base64 of the exact bytes.
    pub fn set_key(&mut self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                self.key = text.to_owned();
                self.key_base64 = None;
            }
            Err(_) => {
                self.key = String::from_utf8_lossy(bytes).into_owned();
                self.key_base64 = Some(BASE64.encode(bytes));
            }
        }
    }

    /// The exact key bytes.
    pub fn key_bytes(&self) -> Result<Vec<u8>, WarmListError> {
        match &self.key_base64 {
            None => Ok(self.key.as_bytes().to_vec()),
            Some(b64) => BASE64
                .decode(b64)
                .map_err(|error| WarmListError::KeyBase64 {
                    key: self.key.clone(),
                    error,
                }),
        }
    }

    /// Stores `path` as the origin path, percent-encoding what would make it
    /// unusable in a URL: bytes that are not UTF-8, ASCII control
    /// characters, space and `#` (which would start a fragment). Anything
    /// else, `%` included, is kept as it is, because targets in logs are
    /// already percent-encoded and must not be encoded twice.
    pub fn set_origin_path(&mut self, path: &[u8]) {
        let mut out = String::with_capacity(path.len());
        encode_path(path, &mut out);
        self.origin_path = Some(out);
    }
}

fn encode_path(bytes: &[u8], out: &mut String) {
    fn percent(b: u8, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_ascii_control() || c == ' ' || c == '#' {
                // ASCII, so the cast keeps the byte.
                percent(c as u8, out);
            } else {
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            percent(b, out);
        }
    }
}

/// The readable forms of a warm list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListFormat {
    /// One JSON document with a header and `keys`.
    Json,
    /// One JSON [`WarmEntry`] object per line.
    Ndjson,
    /// CSV with the [`CSV_HEADER`] columns.
    Csv,
    /// One raw key per line.
    Keys,
}

impl ListFormat {
    /// The format's name as used in messages and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ListFormat::Json => "json",
            ListFormat::Ndjson => "ndjson",
            ListFormat::Csv => "csv",
            ListFormat::Keys => "keys",
        }
    }
}

impl fmt::Display for ListFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a warm list could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WarmListError {
    /// The list declares a format version newer than this crate reads.
    #[error(
        "warm list format version {found} is newer than this hotkeys supports (version {FORMAT_VERSION}); upgrade hotkeys to read it"
    )]
    TooNew {
        /// The declared version.
        found: u64,
    },
    /// `version` is not a positive integer.
    #[error("warm list has an invalid version {found}: expected a positive integer")]
    BadVersion {
        /// The value as it appeared, in JSON.
        found: String,
    },
    /// The JSON document is malformed or not shaped like a warm list.
    #[error("json warm list: {message}")]
    Json {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong, with its position.
        message: String,
    },
    /// An entry of the JSON document is unusable.
    #[error("json warm list, keys[{index}] (rank {rank}): {message}")]
    Entry {
        /// Zero-based position in `keys`.
        index: usize,
        /// The entry's rank.
        rank: u64,
        /// What is wrong.
        message: String,
    },
    /// A line of an NDJSON, CSV or keys list is unusable.
    #[error("{format} warm list, line {line}: {message}")]
    Line {
        /// The detected format.
        format: ListFormat,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// `key_base64` does not decode.
    #[error("key_base64 of key {key:?} is not valid base64: {error}")]
    KeyBase64 {
        /// The entry's display key.
        key: String,
        /// The decoder's explanation.
        error: base64::DecodeError,
    },
}

/// A warm list as read back, whatever its format.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadList {
    /// The format detected from the content.
    pub format: ListFormat,
    /// The declared version (JSON only; the other formats have no header).
    pub list_version: Option<u32>,
    /// Entries in rank order.
    pub entries: Vec<WarmEntry>,
}

fn invalid_data(e: WarmListError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Writes the list as one pretty-printed JSON document (fields in
/// declaration order) followed by a newline.
pub fn write_json<W: Write>(list: &WarmList, mut w: W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut w, list)?;
    w.write_all(b"\n")
}

/// Writes one compact JSON [`WarmEntry`] per line, without the header.
pub fn write_ndjson<W: Write>(list: &WarmList, mut w: W) -> io::Result<()> {
    for entry in &list.keys {
        serde_json::to_writer(&mut w, entry)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes CSV with the [`CSV_HEADER`] columns; absent values are empty
/// cells. `key` holds the display key; `key_base64` is filled only for keys
/// that are not UTF-8, and then holds the exact bytes.
pub fn write_csv<W: Write>(list: &WarmList, w: W) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(CSV_HEADER)?;
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    for e in &list.keys {
        csv.write_record([
            e.rank.to_string().as_str(),
            &e.key,
            &e.requests.to_string(),
            &e.bytes.to_string(),
            &e.cost_us.to_string(),
            &e.share.to_string(),
            &e.cumulative_share.to_string(),
            &opt(e.latency_p50_us),
            &opt(e.latency_p99_us),
            e.route.as_deref().unwrap_or_default(),
            e.origin_path.as_deref().unwrap_or_default(),
            &opt(e.ttl),
            &opt(e.requests_min),
            &opt(e.requests_max),
            e.key_base64.as_deref().unwrap_or_default(),
        ])?;
    }
    csv.flush()
}

fn has_line_break(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b == b'\n' || b == b'\r')
}

/// Writes each key's exact bytes on a line of its own. Keys containing
/// `\n` or `\r` cannot be written this way; they are skipped and their
/// number returned.
pub fn write_keys<W: Write>(list: &WarmList, mut w: W) -> io::Result<u64> {
    let mut skipped = 0;
    for entry in &list.keys {
        let key = entry.key_bytes().map_err(invalid_data)?;
        if has_line_break(&key) {
            skipped += 1;
            continue;
        }
        w.write_all(&key)?;
        w.write_all(b"\n")?;
    }
    Ok(skipped)
}

/// Writes one URL per line: `base` without its trailing `/`, then the
/// entry's `origin_path`, or its key when there is none (with a `/` put
/// in between when the path does not start with one). The path is
/// percent-encoded as [`WarmEntry::set_origin_path`] does. Entries whose
/// key contains `\n` or `\r` are skipped and counted, as in [`write_keys`].
pub fn write_urls<W: Write>(list: &WarmList, base: &str, mut w: W) -> io::Result<u64> {
    let base = base.trim_end_matches('/');
    let mut skipped = 0;
    let mut path = String::new();
    for entry in &list.keys {
        let key = entry.key_bytes().map_err(invalid_data)?;
        if has_line_break(&key) {
            skipped += 1;
            continue;
        }
        path.clear();
        match &entry.origin_path {
            Some(origin) => encode_path(origin.as_bytes(), &mut path),
            None => encode_path(&key, &mut path),
        }
        w.write_all(base.as_bytes())?;
        if !path.starts_with('/') {
            w.write_all(b"/")?;
        }
        w.write_all(path.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(skipped)
}

/// Splits into (1-based line number, line without `\n` or a trailing `\r`).
fn numbered_lines(input: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    input
        .split(|&b| b == b'\n')
        .zip(1u64..)
        .map(|(line, n)| (n, line.strip_suffix(b"\r").unwrap_or(line)))
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Which format `input` is in, judged from its content:
///
/// * the first non-blank line starts with `{`: JSON when it is not itself a
///   complete JSON object, or it is one with both `version` and `keys`
///   (a one-line JSON list); otherwise NDJSON;
/// * the first non-blank line starts with `rank,key`: CSV;
/// * anything else: plain keys, one per line.
pub fn detect_format(input: &[u8]) -> ListFormat {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let Some((_, first)) = numbered_lines(input).find(|(_, l)| !is_blank(l)) else {
        return ListFormat::Keys;
    };
    let first = first.trim_ascii_start();
    if first.starts_with(b"{") {
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(first) {
            Ok(obj) if !(obj.contains_key("version") && obj.contains_key("keys")) => {
                ListFormat::Ndjson
            }
            _ => ListFormat::Json,
        }
    } else if first.starts_with(b"rank,key") {
        ListFormat::Csv
    } else {
        ListFormat::Keys
    }
}

/// Reads a warm list in any of the formats [`detect_format`] recognises.
/// Entries come back sorted by rank (stably, so equal ranks keep their
/// order); in the keys format the rank is the line's position among the
/// non-blank lines.
///
/// A plain-keys file whose first key starts with `{` or `rank,key` is taken
/// for JSON or CSV; write such lists as NDJSON instead.
pub fn read_warm_list(input: &[u8]) -> Result<ReadList, WarmListError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let format = detect_format(input);
    let (list_version, mut entries) = match format {
        ListFormat::Json => {
            let (version, entries) = read_json(input)?;
            (Some(version), entries)
        }
        ListFormat::Ndjson => (None, read_ndjson(input)?),
        ListFormat::Csv => (None, read_csv(input)?),
        ListFormat::Keys => (None, read_keys(input)),
    };
    entries.sort_by_key(|e| e.rank);
    Ok(ReadList {
        format,
        list_version,
        entries,
    })
}

fn json_error(e: &serde_json::Error) -> WarmListError {
    WarmListError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

/// serde_json appends "at line L column C", which for NDJSON is relative
/// to the line and misleading next to the file's own line number.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&suffix) {
        Some(message) => format!("{message} (column {})", e.column()),
        None => text,
    }
}

fn read_json(input: &[u8]) -> Result<(u32, Vec<WarmEntry>), WarmListError> {
    // Look at the version before the entries: a newer version may have
    // entries this crate cannot parse, and "upgrade" is the useful message.
    #[derive(Deserialize)]
    struct Probe {
        version: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(input).map_err(|e| json_error(&e))?;
    let Some(raw) = probe.version else {
        return Err(WarmListError::Json {
            line: 1,
            column: 1,
            message: "not a warm list: the object has no `version` field".to_owned(),
        });
    };
    let version = match raw.as_u64() {
        Some(0) | None => {
            return Err(WarmListError::BadVersion {
                found: raw.to_string(),
            });
        }
        Some(v) if v > u64::from(FORMAT_VERSION) => return Err(WarmListError::TooNew { found: v }),
        Some(v) => u32::try_from(v).unwrap_or(FORMAT_VERSION),
    };
    let list: WarmList = serde_json::from_slice(input).map_err(|e| json_error(&e))?;
    for (index, entry) in list.keys.iter().enumerate() {
        entry.key_bytes().map_err(|e| WarmListError::Entry {
            index,
            rank: entry.rank,
            message: e.to_string(),
        })?;
    }
    Ok((version, list.keys))
}

fn read_ndjson(input: &[u8]) -> Result<Vec<WarmEntry>, WarmListError> {
    let mut entries = Vec::new();
    for (line, text) in numbered_lines(input) {
        if is_blank(text) {
            continue;
        }
        let fail = |message| WarmListError::Line {
            format: ListFormat::Ndjson,
            line,
            message,
        };
        let entry: WarmEntry =
            serde_json::from_slice(text).map_err(|e| fail(without_position(&e)))?;
        entry.key_bytes().map_err(|e| fail(e.to_string()))?;
        entries.push(entry);
    }
    Ok(entries)
}

fn read_keys(input: &[u8]) -> Vec<WarmEntry> {
    numbered_lines(input)
        .filter(|(_, line)| !is_blank(line))
        .zip(1u64..)
        .map(|((_, line), rank)| WarmEntry::with_key(rank, line))
        .collect()
}

/// Column positions in a CSV list, found by header name so that columns
/// added later (or reordered by a spreadsheet) do not break reading.
#[derive(Default)]
struct CsvColumns {
    rank: Option<usize>,
    key: Option<usize>,
    key_base64: Option<usize>,
    requests: Option<usize>,
    bytes: Option<usize>,
    cost_us: Option<usize>,
    share: Option<usize>,
    cumulative_share: Option<usize>,
    latency_p50_us: Option<usize>,
    latency_p99_us: Option<usize>,
    route: Option<usize>,
    origin_path: Option<usize>,
    ttl: Option<usize>,
    requests_min: Option<usize>,
    requests_max: Option<usize>,
}

fn read_csv(input: &[u8]) -> Result<Vec<WarmEntry>, WarmListError> {
    let csv_err = |line: u64, message: String| WarmListError::Line {
        format: ListFormat::Csv,
        line,
        message,
    };
    let error_line = |e: &csv::Error| e.position().map_or(1, |p| p.line());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|e| csv_err(error_line(&e), e.to_string()))?
        .clone();
    let mut cols = CsvColumns::default();
    for (i, name) in header.iter().enumerate() {
        let slot = match name {
            b"rank" => &mut cols.rank,
            b"key" => &mut cols.key,
            b"key_base64" => &mut cols.key_base64,
            b"requests" => &mut cols.requests,
            b"bytes" => &mut cols.bytes,
            b"cost_us" => &mut cols.cost_us,
            b"share" => &mut cols.share,
            b"cumulative_share" => &mut cols.cumulative_share,
            b"latency_p50_us" => &mut cols.latency_p50_us,
            b"latency_p99_us" => &mut cols.latency_p99_us,
            b"route" => &mut cols.route,
            b"origin_path" => &mut cols.origin_path,
            b"ttl" => &mut cols.ttl,
            b"requests_min" => &mut cols.requests_min,
            b"requests_max" => &mut cols.requests_max,
            _ => continue,
        };
        slot.get_or_insert(i);
    }
    let (Some(rank_col), Some(key_col)) = (cols.rank, cols.key) else {
        return Err(csv_err(
            1,
            "the header needs `rank` and `key` columns".to_owned(),
        ));
    };

    let mut entries = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_err(error_line(&e), e.to_string())),
        }
        let line = record.position().map_or(0, |p| p.line());
        let fail = |message: String| csv_err(line, message);
        let text = |col: Option<usize>, name: &str| -> Result<Option<&str>, WarmListError> {
            let Some(cell) = col.and_then(|c| record.get(c)) else {
                return Ok(None);
            };
            if cell.is_empty() {
                return Ok(None);
            }
            std::str::from_utf8(cell).map(Some).map_err(|_| {
                fail(format!(
                    "column `{name}` is not valid UTF-8 (non-UTF-8 keys go in `key_base64`)"
                ))
            })
        };
        let number = |col: Option<usize>, name: &str| -> Result<Option<u64>, WarmListError> {
            text(col, name)?
                .map(|s| {
                    s.parse::<u64>().map_err(|_| {
                        fail(format!(
                            "column `{name}`: expected a whole number, found {s:?}"
                        ))
                    })
                })
                .transpose()
        };
        let fraction = |col: Option<usize>, name: &str| -> Result<f64, WarmListError> {
            text(col, name)?
                .map(|s| {
                    s.parse::<f64>().map_err(|_| {
                        fail(format!("column `{name}`: expected a number, found {s:?}"))
                    })
                })
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let Some(rank) = number(Some(rank_col), "rank")? else {
            return Err(fail("column `rank` is empty".to_owned()));
        };
        let mut entry = WarmEntry {
            rank,
            key: text(Some(key_col), "key")?.unwrap_or_default().to_owned(),
            key_base64: text(cols.key_base64, "key_base64")?.map(str::to_owned),
            requests: number(cols.requests, "requests")?.unwrap_or_default(),
            bytes: number(cols.bytes, "bytes")?.unwrap_or_default(),
            cost_us: number(cols.cost_us, "cost_us")?.unwrap_or_default(),
            share: fraction(cols.share, "share")?,
            cumulative_share: fraction(cols.cumulative_share, "cumulative_share")?,
            latency_p50_us: number(cols.latency_p50_us, "latency_p50_us")?,
            latency_p99_us: number(cols.latency_p99_us, "latency_p99_us")?,
            route: text(cols.route, "route")?.map(str::to_owned),
            origin_path: text(cols.origin_path, "origin_path")?.map(str::to_owned),
            ttl: number(cols.ttl, "ttl")?,
            requests_min: number(cols.requests_min, "requests_min")?,
            requests_max: number(cols.requests_max, "requests_max")?,
        };
        // Normalise through set_key so a redundant key_base64 on a UTF-8 key
        // does not survive, and a bad one is reported with its line.
        let bytes = entry.key_bytes().map_err(|e| fail(e.to_string()))?;
        entry.set_key(&bytes);
        entries.push(entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(rank: u64, key: &[u8]) -> WarmEntry {
        let mut e = WarmEntry::with_key(rank, key);
        e.requests = 1000 / rank;
        e.bytes = 512 * rank;
        e.cost_us = 7 * rank;
        e.share = 0.1 / rank as f64;
        e.cumulative_share = 0.3 + 0.01 * rank as f64;
        e
    }

    fn sample() -> WarmList {
        let mut list = WarmList::new("requests");
        list.generated_at = "2024-05-01T12:00:00Z".into();
        list.stats = Stats {
            files: 2,
            lines: 10,
            matched: 6,
            unrouted: 1,
            first_time: Some("2024-05-01T00:00:00Z".into()),
            ..Stats::default()
        };
        let mut a = entry(1, b"product:42");
        a.latency_p50_us = Some(1200);
        a.latency_p99_us = Some(9000);
        a.route = Some("product".into());
        a.set_origin_path(b"/api/products/42");
        a.ttl = Some(1800);
        let b = entry(2, b"/f/\xff\xfe name");
        let c = entry(3, b"search:q=\"a,b\"");
        let d = entry(4, "caf\u{e9}/\u{1F600}".as_bytes());
        list.keys = vec![a, b, c, d];
        list
    }

    fn written(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        out
    }

    #[test]
    fn set_key_keeps_utf8_as_text_and_other_bytes_exactly() {
        let e = WarmEntry::with_key(1, b"plain");
        assert_eq!((e.key.as_str(), e.key_base64.as_deref()), ("plain", None));
        let e = WarmEntry::with_key(1, b"a\xffb");
        assert_eq!(e.key, "a\u{FFFD}b");
        assert_eq!(e.key_base64.as_deref(), Some("Yf9i"));
        assert_eq!(e.key_bytes().unwrap(), b"a\xffb");
        let mut e = e;
        e.set_key(b"again");
        assert_eq!(e.key_base64, None, "a UTF-8 key must clear the old base64");
        e.key_base64 = Some("not base64!".into());
        let err = e.key_bytes().unwrap_err().to_string();
        assert!(err.contains("not valid base64"), "{err}");
    }

    #[test]
    fn origin_paths_are_usable_in_urls() {
        let mut e = WarmEntry::default();
        e.set_origin_path(b"/a b/\x01\x7f/%20/caf\xc3\xa9/\xff#frag?q=1");
        assert_eq!(
            e.origin_path.as_deref(),
            Some("/a%20b/%01%7F/%20/caf\u{e9}/%FF%23frag?q=1")
        );
    }

    #[test]
    fn json_round_trips_with_a_stable_layout() {
        let list = sample();
        let out = written(|w| write_json(&list, w));
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.ends_with("}\n"));
        assert!(text.starts_with("{\n  \"version\": 1,\n  \"generated_at\": \"2024-05-01T12:00:00Z\",\n  \"generator\": \"hotkeys "));
        let stats = text.find("\"stats\"").unwrap();
        assert!(
            text.find("\"approximate\"").unwrap() < stats && stats < text.find("\"keys\"").unwrap()
        );
        assert!(!text.contains("last_time"), "None fields are omitted");
        assert!(!text.contains("null"), "None fields are omitted");
        let back = read_warm_list(&out).unwrap();
        assert_eq!(back.format, ListFormat::Json);
        assert_eq!(back.list_version, Some(1));
        assert_eq!(back.entries, list.keys);
        assert_eq!(serde_json::from_slice::<WarmList>(&out).unwrap(), list);
    }

    #[test]
    fn exclusions_are_written_only_when_there_were_some() {
        let mut list = sample();
        let out = written(|w| write_json(&list, w));
        let text = std::str::from_utf8(&out).unwrap();
        assert!(!text.contains("excluded"), "{text}");
        list.stats.excluded = 5;
        list.stats.excluded_by = ExcludedBy {
            path: 3,
            client: 0,
            bot: 2,
        };
        let out = written(|w| write_json(&list, w));
        let text = std::str::from_utf8(&out).unwrap();
        let filtered = text.find("\"filtered\"").unwrap();
        let excluded = text.find("\"excluded\": 5").unwrap();
        let by = text
            .find("\"excluded_by\": {\n      \"path\": 3,\n      \"client\": 0,\n      \"bot\": 2\n    }")
            .unwrap_or_else(|| panic!("{text}"));
        assert!(filtered < excluded && excluded < by);
        assert_eq!(serde_json::from_slice::<WarmList>(&out).unwrap(), list);
    }

    #[test]
    fn ndjson_round_trips() {
        let list = sample();
        let out = written(|w| write_ndjson(&list, w));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), list.keys.len());
        let back = read_warm_list(&out).unwrap();
        assert_eq!((back.format, back.list_version), (ListFormat::Ndjson, None));
        assert_eq!(back.entries, list.keys);
        assert_eq!(back.entries[1].key_bytes().unwrap(), b"/f/\xff\xfe name");
    }

    #[test]
    fn csv_round_trips_including_commas_quotes_and_non_utf8() {
        let list = sample();
        let out = written(|w| write_csv(&list, w));
        let text = String::from_utf8(out.clone()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), CSV_HEADER.join(","));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("1,product:42,1000,512,7,0.1,")
        );
        assert!(text.contains(r#","search:q=""a,b""","#), "{text}");
        let back = read_warm_list(&out).unwrap();
        assert_eq!(back.format, ListFormat::Csv);
        assert_eq!(back.entries, list.keys);
        assert_eq!(back.entries[1].key_bytes().unwrap(), b"/f/\xff\xfe name");
        assert_eq!(back.entries[2].key, "search:q=\"a,b\"");
    }

    #[test]
    fn keys_round_trip_as_raw_bytes_and_skip_line_breaks() {
        let mut list = sample();
        list.keys.push(entry(5, b"two\nlines"));
        list.keys.push(entry(6, b"cr\r"));
        let mut out = Vec::new();
        assert_eq!(write_keys(&list, &mut out).unwrap(), 2);
        assert_eq!(
            out,
            b"product:42\n/f/\xff\xfe name\nsearch:q=\"a,b\"\ncaf\xc3\xa9/\xf0\x9f\x98\x80\n"
        );
        let back = read_warm_list(&out).unwrap();
        assert_eq!(back.format, ListFormat::Keys);
        let keys: Vec<Vec<u8>> = back
            .entries
            .iter()
            .map(|e| e.key_bytes().unwrap())
            .collect();
        let expected: Vec<Vec<u8>> = list.keys[..4]
            .iter()
            .map(|e| e.key_bytes().unwrap())
            .collect();
        assert_eq!(keys, expected);
        assert_eq!(
            back.entries.iter().map(|e| e.rank).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn plain_keys_skip_blank_lines_and_tolerate_crlf() {
        let back = read_warm_list(b"\r\na\r\n  \n\nb\r\n\xff\n").unwrap();
        let keys: Vec<(u64, Vec<u8>)> = back
            .entries
            .iter()
            .map(|e| (e.rank, e.key_bytes().unwrap()))
            .collect();
        assert_eq!(
            keys,
            [
                (1, b"a".to_vec()),
                (2, b"b".to_vec()),
                (3, b"\xff".to_vec())
            ]
        );
        assert_eq!(read_warm_list(b"").unwrap().entries, []);
    }

    #[test]
    fn urls_use_origin_path_or_key() {
        let mut list = sample();
        list.keys.push(entry(5, b"bad\nkey"));
        let mut out = Vec::new();
        assert_eq!(
            write_urls(&list, "https://shop.example/", &mut out).unwrap(),
            1
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "https://shop.example/api/products/42\n\
             https://shop.example/f/%FF%FE%20name\n\
             https://shop.example/search:q=\"a,b\"\n\
             https://shop.example/caf\u{e9}/\u{1F600}\n"
        );
    }

    #[test]
    fn output_is_sorted_by_rank_whatever_the_input_order() {
        let text = b"{\"rank\":3,\"key\":\"c\"}\n{\"rank\":1,\"key\":\"a\"}\n{\"rank\":2,\"key\":\"b\",\"future_field\":[1]}\n";
        let back = read_warm_list(text).unwrap();
        let keys: Vec<&str> = back.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn detection() {
        assert_eq!(
            detect_format(b"{\n  \"version\": 1,\n  \"keys\": []\n}\n"),
            ListFormat::Json
        );
        assert_eq!(
            detect_format(b"{\"version\":1,\"keys\":[]}"),
            ListFormat::Json
        );
        assert_eq!(
            detect_format(b"\n{\"rank\":1,\"key\":\"a\"}\n"),
            ListFormat::Ndjson
        );
        assert_eq!(
            detect_format(b"\xEF\xBB\xBFrank,key,requests\n"),
            ListFormat::Csv
        );
        assert_eq!(detect_format(b"ranked\n"), ListFormat::Keys);
        assert_eq!(detect_format(b"/a\n/b\n"), ListFormat::Keys);
        assert_eq!(detect_format(b""), ListFormat::Keys);
    }

    #[test]
    fn newer_versions_are_refused_with_advice() {
        let e = read_warm_list(b"{\"version\": 2, \"keys\": [{\"shape\": \"new\"}]}").unwrap_err();
        assert!(matches!(e, WarmListError::TooNew { found: 2 }));
        assert!(e.to_string().contains("upgrade hotkeys"), "{e}");
        for bad in [
            &b"{\"version\": 0, \"keys\": []}"[..],
            b"{\"version\": \"1\", \"keys\": []}",
        ] {
            let e = read_warm_list(bad).unwrap_err();
            assert!(matches!(e, WarmListError::BadVersion { .. }), "{e}");
        }
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let e = read_warm_list(b"{\"rank\":1,\"key\":\"a\"}\n\n{\"rank\":2}\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ndjson warm list, line 3: missing field `key` (column 10)"
        );
        let e = read_warm_list(b"{\"rank\":1,\"key\":\"a\"}\noops\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("ndjson warm list, line 2: expected value"),
            "{e}"
        );
        let e = read_warm_list(b"{\"rank\":1,\"key\":\"a\",\"key_base64\":\"%%\"}\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("ndjson warm list, line 1: key_base64"),
            "{e}"
        );

        let e = read_warm_list(b"rank,key,requests\n1,a,5\n2,b,lots\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "csv warm list, line 3: column `requests`: expected a whole number, found \"lots\""
        );
        let e = read_warm_list(b"rank,key\n1,a\n2,b,extra\n").unwrap_err();
        assert!(e.to_string().starts_with("csv warm list, line 3: "), "{e}");
        let e = read_warm_list(b"rank,keys\n1,a\n").unwrap_err();
        assert!(e.to_string().contains("`rank` and `key`"), "{e}");
        let e = read_warm_list(b"rank,key\n1,\xff\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("line 2: column `key` is not valid UTF-8"),
            "{e}"
        );
        let e = read_warm_list(b"rank,key\n,a\n").unwrap_err();
        assert!(
            e.to_string().contains("line 2: column `rank` is empty"),
            "{e}"
        );

        let e = read_warm_list(
            b"{\n  \"version\": 1,\n  \"keys\": [\n    {\"rank\": \"one\", \"key\": \"a\"}\n  ]\n}",
        )
        .unwrap_err();
        assert!(matches!(e, WarmListError::Json { line: 4, .. }), "{e}");
        let e = read_warm_list(b"{\n  \"version\": 1,\n  \"keys\": [\n").unwrap_err();
        assert!(matches!(e, WarmListError::Json { .. }), "{e}");
        let e = read_warm_list(
            b"{\"version\":1,\"keys\":[{\"rank\":1,\"key\":\"a\",\"key_base64\":\"!\"}]}",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("json warm list, keys[0] (rank 1): key_base64"),
            "{e}"
        );
        let e = read_warm_list(b"{\n\"keys\": []\n}").unwrap_err();
        assert!(e.to_string().contains("no `version`"), "{e}");
    }

    #[test]
    fn readers_accept_additive_fields_and_defaults() {
        let text =
            br#"{"version":1,"new_header":true,"keys":[{"rank":1,"key":"a","new_field":"x"}]}"#;
        let back = read_warm_list(text).unwrap();
        assert_eq!(back.entries, [WarmEntry::with_key(1, b"a")]);
        // CSV columns are found by name, so order and extras do not matter.
        let back = read_warm_list(b"rank,key,extra,ttl\n2,b,?,60\n1,a,?,\n").unwrap();
        assert_eq!(back.entries[0].key, "a");
        assert_eq!(back.entries[0].ttl, None);
        assert_eq!(back.entries[1].ttl, Some(60));
    }

    fn arb_entry() -> impl Strategy<Value = WarmEntry> {
        (
            1u64..1000,
            proptest::collection::vec(any::<u8>(), 0..24),
            any::<u64>(),
            0.0f64..1.0,
            proptest::option::of(any::<u64>()),
            // Non-empty: CSV cannot tell an empty string from an absent value.
            proptest::option::of("[a-z ,\"]{1,8}"),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 1..12)),
        )
            .prop_map(|(rank, key, n, share, lat, route, origin)| {
                let mut e = WarmEntry::with_key(rank, &key);
                e.requests = n;
                e.share = share;
                e.cumulative_share = share / 2.0;
                e.latency_p99_us = lat;
                e.route = route;
                if let Some(o) = origin {
                    e.set_origin_path(&o);
                }
                e
            })
    }

    proptest! {
        #[test]
        fn every_structured_format_round_trips(mut keys in proptest::collection::vec(arb_entry(), 0..8)) {
            keys.sort_by_key(|e| e.rank);
            let mut list = WarmList::new("bytes");
            list.keys = keys;
            type Writer = fn(&WarmList, &mut Vec<u8>) -> io::Result<()>;
            let writers: [Writer; 3] = [
                |l, w| write_json(l, w),
                |l, w| write_ndjson(l, w),
                |l, w| write_csv(l, w),
            ];
            for write in writers {
                let mut out = Vec::new();
                write(&list, &mut out).unwrap();
                let back = read_warm_list(&out).unwrap();
                prop_assert_eq!(&back.entries, &list.keys);
            }
        }

        #[test]
        fn reading_never_panics(input in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read_warm_list(&input);
        }

        #[test]
        fn reading_json_like_text_never_panics(input in "[{}\\[\\]\":,0-9a-z \n]{0,120}") {
            let _ = read_warm_list(input.as_bytes());
        }
    }
}
