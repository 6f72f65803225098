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
    pub version: u32,
    pub generated_at: String,
    pub generator: String,
    pub input: InputStats,
    pub summary: Summary,
    /// `None` when no counted request has a time.
    pub rates: Option<Rates>,
    pub popularity: Popularity,
    pub top_keys: Vec<TopKey>,
    pub sizes: Sizes,
    pub latency: Latency,
    pub cache: CacheModel,
    /// Hit ratios at the capacities asked for (or derived).
    pub hit_ratio_curve: Vec<CurvePoint>,
    pub warmup: Option<Warmup>,
    /// Why there is no warm-up section, when there is none.
    pub warmup_unavailable: Option<String>,
    /// Things a reader should know before trusting the figures.
    pub warnings: Vec<String>,
}

/// What was read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputStats {
    pub files: u64,
    pub lines: u64,
    pub blank_lines: u64,
    pub malformed: u64,
    pub too_long: u64,
    pub bytes_read: u64,
    pub partial_inputs: u64,
    pub formats: Vec<FormatInfo>,
}

/// The log format of one input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FormatInfo {
    pub input: String,
    pub format: String,
    pub detected: bool,
}

/// Requests by method or by status.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MixEntry {
    /// The method as logged, or the status code; `-` when missing.
    pub name: String,
    pub requests: u64,
    pub share: f64,
}

/// Section 1.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Every request parsed from the input.
    pub requests_parsed: u64,
    /// Requests counted (the filters passed; with routes, a route matched).
    pub requests: u64,
    pub filtered: u64,
    pub no_target: u64,
    pub unrouted: u64,
    pub distinct_keys: u64,
    pub bytes_requested: u64,
    /// Every distinct key once, at its largest response size: what a cache
    /// holding everything would store.
    pub working_set_objects: u64,
    pub working_set_bytes: u64,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    pub span_seconds: Option<f64>,
    /// Of every parsed request, before filtering.
    pub methods: Vec<MixEntry>,
    pub statuses: Vec<MixEntry>,
}

/// A most requested key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopKey {
    pub rank: u64,
    #[serde(flatten)]
    pub key: KeyName,
    pub requests: u64,
    pub share: f64,
    pub bytes: u64,
    /// Largest response seen: the size it takes in a cache.
    pub object_size: u64,
}

/// The hit ratio of an LRU cache of one capacity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    pub capacity: u64,
    /// `objects` or `bytes`.
    pub unit: &'static str,
    pub hit_ratio: f64,
    pub byte_hit_ratio: f64,
    /// `exact` or `shards`.
    pub method: &'static str,
}

/// The capacity a hit ratio needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Needed {
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
    pub sample_rate: f64,
    /// Requests and keys in the simulation (all of them when exact).
    pub sampled_requests: u64,
    pub sampled_keys: u64,
    /// Whether SHARDS_adj was applied (always, for `shards`).
    pub adjusted: bool,
    /// `--cache-sizes`, or `working set` for the derived spread.
    pub capacities_from: &'static str,
    /// The best any cache can do: the share of requests that are not the
    /// first request of their key.
    pub max_hit_ratio: f64,
    pub needed: Vec<Needed>,
    /// Dense curves for charts.
    pub curve_objects: Vec<CurvePoint>,
    pub curve_bytes: Vec<CurvePoint>,
}
