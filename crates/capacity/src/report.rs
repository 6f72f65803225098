//! The report as data: what every renderer shows and what `--format json`
//! writes as is. Field names are the JSON schema (see `docs/report.md`).

use serde::Serialize;

use crate::keyname::KeyName;
use crate::latency::Latency;
use crate::popularity::Popularity;
use crate::rates::Rates;
use crate::sizes::Sizes;
use crate::warmup::Warmup;

/// Version of the JSON document. Adding fields keeps it; changing or
/// removing one bumps it.
pub const REPORT_VERSION: u32 = 1;

/// A whole capacity report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Version of the document's format: [`REPORT_VERSION`].
    pub version: u32,
    /// When the report was made, RFC 3339 in UTC.
    pub generated_at: String,
    /// The program and version that made it, e.g. `hotkeys 0.1.0`.
    pub generator: String,
    /// What was read: inputs, lines, bytes and formats.
    pub input: InputStats,
    /// Section 1: requests, keys, working set and time span.
    pub summary: Summary,
    /// `None` when no counted request has a time.
    pub rates: Option<Rates>,
    /// Section 3: how the requests spread over the keys.
    pub popularity: Popularity,
    /// The most requested keys, most requested first; as many as
    /// [`ReportConfig::top_keys`](crate::config::ReportConfig::top_keys) asks.
    pub top_keys: Vec<TopKey>,
    /// Section 4: response sizes by request and by object.
    pub sizes: Sizes,
    /// Section 5: response times; its percentiles are `None` when the log
    /// records no times.
    pub latency: Latency,
    /// Section 6: how the hit-ratio curve was computed, and what it says.
    pub cache: CacheModel,
    /// Hit ratios at the capacities asked for (or derived).
    pub hit_ratio_curve: Vec<CurvePoint>,
    /// Section 7: the restart simulation; `None` when no counted request
    /// has a time (see `warmup_unavailable`).
    pub warmup: Option<Warmup>,
    /// Why there is no warm-up section, when there is none.
    pub warmup_unavailable: Option<String>,
    /// Things a reader should know before trusting the figures.
    pub warnings: Vec<String>,
}

/// What was read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputStats {
    /// Inputs read: files, and stdin when it was one.
    pub files: u64,
    /// Every line read, blank, malformed and too long ones included.
    pub lines: u64,
    /// Empty or whitespace-only lines, skipped.
    pub blank_lines: u64,
    /// Lines their input's log format could not parse.
    pub malformed: u64,
    /// Lines longer than the line limit, skipped (not counted in `malformed`).
    pub too_long: u64,
    /// Log text read, in bytes after decompression.
    pub bytes_read: u64,
    /// Inputs that could not be read to their end; the lines before the
    /// problem were counted.
    pub partial_inputs: u64,
    /// The log format of each input, in input order.
    pub formats: Vec<FormatInfo>,
}

/// The log format of one input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FormatInfo {
    /// The input's name: its path, or `<stdin>`.
    pub input: String,
    /// Name of the log format it was read with, e.g. `combined`.
    pub format: String,
    /// `true` when the format was detected from the first lines, `false`
    /// when it was given.
    pub detected: bool,
}

/// Requests by method or by status.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MixEntry {
    /// The method as logged, or the status code; `-` when missing.
    pub name: String,
    /// Parsed requests with this method or status.
    pub requests: u64,
    /// `requests` as a fraction (0 to 1) of every parsed request.
    pub share: f64,
}

/// Section 1.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Every request parsed from the input.
    pub requests_parsed: u64,
    /// Requests counted (the filters passed; with routes, a route matched).
    pub requests: u64,
    /// Parsed requests the filters (method, status, host, time) excluded.
    pub filtered: u64,
    /// Requests the filters kept and an exclude option left out; not
    /// written when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub excluded: u64,
    /// `excluded` by option; not written when `excluded` is zero.
    #[serde(skip_serializing_if = "ExcludedBy::is_zero")]
    pub excluded_by: ExcludedBy,
    /// Parsed requests without a target (a request line of `-`).
    pub no_target: u64,
    /// With routes: requests no route matched; 0 without routes.
    pub unrouted: u64,
    /// Keys among the counted requests.
    pub distinct_keys: u64,
    /// Response bytes of the counted requests (0 for a response without a
    /// logged size).
    pub bytes_requested: u64,
    /// Every distinct key once, at its largest response size: what a cache
    /// holding everything would store.
    pub working_set_objects: u64,
    /// The sum of each key's largest response, in bytes.
    pub working_set_bytes: u64,
    /// Time of the earliest counted request, RFC 3339 in UTC; `None`
    /// without times.
    pub first_time: Option<String>,
    /// Time of the latest counted request, RFC 3339 in UTC; `None`
    /// without times.
    pub last_time: Option<String>,
    /// Seconds from `first_time` to `last_time`; `None` without times.
    pub span_seconds: Option<f64>,
    /// Of every parsed request, before filtering.
    pub methods: Vec<MixEntry>,
    /// Of every parsed request by status code, before filtering; most
    /// requests first.
    pub statuses: Vec<MixEntry>,
}

/// Requests left out by the exclude options, by option: the same counts
/// the warm list carries.
pub use hotkeys_contract::warmlist::ExcludedBy;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A most requested key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopKey {
    /// 1 for the most requested key; ties are ordered by key bytes.
    pub rank: u64,
    /// The key, written as `key` (and `key_base64`) in JSON.
    #[serde(flatten)]
    pub key: KeyName,
    /// Counted requests for the key.
    pub requests: u64,
    /// `requests` as a fraction (0 to 1) of all counted requests.
    pub share: f64,
    /// Response bytes of all its requests.
    pub bytes: u64,
    /// Largest response seen: the size it takes in a cache.
    pub object_size: u64,
}

/// The hit ratio of an LRU cache of one capacity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// The cache size, counted in `unit`.
    pub capacity: u64,
    /// `objects` or `bytes`.
    pub unit: &'static str,
    /// Fraction (0 to 1) of the counted requests the cache serves.
    pub hit_ratio: f64,
    /// Fraction (0 to 1) of the response bytes the cache serves.
    pub byte_hit_ratio: f64,
    /// `exact` or `shards`.
    pub method: &'static str,
}

/// The capacity a hit ratio needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Needed {
    /// The target, one of [`NEEDED_FOR`](crate::analyze::NEEDED_FOR).
    pub hit_ratio: f64,
    /// `None`: no capacity reaches it (too many first requests).
    pub objects: Option<u64>,
    /// Rounded up to the byte histogram's 0.1%.
    pub bytes: Option<u64>,
}

/// How the curve was computed and what it says.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheModel {
    /// `exact` (Mattson stack distances) or `shards` (sampled).
    pub method: &'static str,
    /// Fraction of the keys simulated: 1 when exact.
    pub sample_rate: f64,
    /// Requests and keys in the simulation (all of them when exact).
    pub sampled_requests: u64,
    /// Distinct keys in the simulation.
    pub sampled_keys: u64,
    /// Whether SHARDS_adj was applied (always, for `shards`).
    pub adjusted: bool,
    /// `--cache-sizes`, or `working set` for the derived spread.
    pub capacities_from: &'static str,
    /// The best any cache can do: the share of requests that are not the
    /// first request of their key.
    pub max_hit_ratio: f64,
    /// The smallest capacity for each target hit ratio, lowest target first.
    pub needed: Vec<Needed>,
    /// Hit ratios at about 20 object counts per decade up to the working
    /// set (or the largest count asked for), for the chart.
    pub curve_objects: Vec<CurvePoint>,
    /// Hit ratios at about 60 byte sizes spread geometrically up to the
    /// working set (or the largest size asked for), for the chart.
    pub curve_bytes: Vec<CurvePoint>,
}
