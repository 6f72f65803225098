//! What a report is asked to do: a plain configuration, filled by the CLI
//! (or by a program using this crate) and never by clap.

use hotkeys_contract::size::parse_size;
use hotkeys_parser::input::Source;
use hotkeys_parser::keys::KeyRules;
use hotkeys_parser::scan::ScanOptions;
use hotkeys_parser::window::Window;

use crate::error::ConfigError;
use crate::sampling::SampleRate;

/// A cache capacity: a number of objects, or bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CacheSize {
    /// This many objects, whatever their sizes.
    Objects(u64),
    /// This many bytes, each object taking its key's largest response.
    Bytes(u64),
}

impl CacheSize {
    /// `10000` is objects; anything with a unit (`64MiB`, `2GB`, `512B`)
    /// is bytes.
    pub fn parse(text: &str) -> Result<CacheSize, ConfigError> {
        let t = text.trim();
        let err = |reason: String| ConfigError::CacheSize {
            input: text.to_string(),
            reason,
        };
        if t.is_empty() {
            return Err(err("empty".into()));
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            let n: u64 = t.parse().map_err(|_| err("too large".into()))?;
            if n == 0 {
                return Err(err("a cache of zero objects holds nothing".into()));
            }
            return Ok(CacheSize::Objects(n));
        }
        match parse_size(t) {
            Ok(0) => Err(err("a cache of zero bytes holds nothing".into())),
            Ok(n) => Ok(CacheSize::Bytes(n)),
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// A comma-separated list, e.g. `1000,10000,64MiB`.
    pub fn parse_list(text: &str) -> Result<Vec<CacheSize>, ConfigError> {
        let sizes = text
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(CacheSize::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if sizes.is_empty() {
            return Err(ConfigError::CacheSize {
                input: text.to_string(),
                reason: "no size given".into(),
            });
        }
        Ok(sizes)
    }

    /// `objects` or `bytes`, as written in JSON.
    pub fn unit(self) -> &'static str {
        match self {
            CacheSize::Objects(_) => "objects",
            CacheSize::Bytes(_) => "bytes",
        }
    }

    /// The number of objects or of bytes, without its unit.
    pub fn value(self) -> u64 {
        match self {
            CacheSize::Objects(n) | CacheSize::Bytes(n) => n,
        }
    }
}

/// How the hit-ratio curve is computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CurveMethod {
    /// Exact while the input has at most this many requests; above it,
    /// SHARDS at the largest rate of 10%, 1%, 0.1%, 0.01% that keeps at most
    /// this many requests in the sample.
    Auto {
        /// The limit, in counted requests ([`DEFAULT_MAX_EXACT_REQUESTS`]
        /// by default).
        max_exact_requests: u64,
    },
    /// Exact whatever the size (memory: 16 bytes per request).
    Exact,
    /// SHARDS at this rate.
    Sampled(SampleRate),
}

/// Requests above which the automatic method samples: 320 MB of records.
pub const DEFAULT_MAX_EXACT_REQUESTS: u64 = 20_000_000;

impl Default for CurveMethod {
    fn default() -> Self {
        CurveMethod::Auto {
            max_exact_requests: DEFAULT_MAX_EXACT_REQUESTS,
        }
    }
}

/// Parses a sampling rate such as `0.01` (or `1%`).
pub fn parse_sample_rate(text: &str) -> Result<SampleRate, ConfigError> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    };
    value
        .ok()
        .and_then(SampleRate::new)
        .ok_or_else(|| ConfigError::SampleRate {
            input: text.to_string(),
        })
}

/// Parses `100,1000,10000`.
pub fn parse_warm_top(text: &str) -> Result<Vec<u64>, ConfigError> {
    let mut list = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| ConfigError::WarmTop {
                    input: s.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if list.is_empty() {
        return Err(ConfigError::WarmTop {
            input: text.to_string(),
        });
    }
    list.sort_unstable();
    list.dedup();
    Ok(list)
}

/// When the simulated restart happens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RestartAt {
    /// Halfway between the first and the last request.
    #[default]
    Middle,
    /// Unix microseconds.
    At(i64),
    /// This many microseconds before the last counted request.
    BeforeLast(i64),
}

/// How the report is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// Aligned tables for a terminal.
    #[default]
    Text,
    /// One JSON document: the [`Report`](crate::report::Report) as it is.
    Json,
    /// One self-contained page with SVG charts.
    Html,
}

/// The warm-up lists simulated by default.
pub const DEFAULT_WARM_TOP: [u64; 3] = [100, 1_000, 10_000];

/// Everything a report needs.
#[derive(Clone, Debug)]
pub struct ReportConfig {
    /// The logs to read, in order: files, or stdin.
    pub inputs: Vec<Source>,
    /// How they are read: log format, threads, line limit, progress.
    pub scan: ScanOptions,
    /// Which requests count and how they become keys, as for `rank`.
    pub rules: KeyRules,
    /// Which requests count by time, as for `rank`.
    pub window: Window,
    /// Capacities for the hit-ratio table; empty: a spread derived from the
    /// working set.
    pub cache_sizes: Vec<CacheSize>,
    /// Exact or sampled hit-ratio curve; automatic by default.
    pub method: CurveMethod,
    /// When the warm-up simulation restarts the cache; halfway through the
    /// log by default.
    pub restart_at: RestartAt,
    /// Top-N lists to warm, ascending.
    pub warm_top: Vec<u64>,
    /// Cache size for the warm-up simulation; `None`: the smallest size
    /// with a 90% hit ratio, or the whole working set if none reaches it.
    pub warm_cache_size: Option<CacheSize>,
    /// Keys listed in the per-key tables.
    pub top_keys: usize,
}

impl ReportConfig {
    /// Defaults for `inputs`: cacheable requests (GET and HEAD, 200-399),
    /// automatic method, restart in the middle, warm top 100/1k/10k.
    pub fn new(inputs: Vec<Source>) -> ReportConfig {
        ReportConfig {
            inputs,
            scan: ScanOptions::default(),
            rules: KeyRules {
                filter: hotkeys_parser::filter::Filter::cacheable(),
                ..KeyRules::default()
            },
            window: Window::default(),
            cache_sizes: Vec::new(),
            method: CurveMethod::default(),
            restart_at: RestartAt::Middle,
            warm_top: DEFAULT_WARM_TOP.to_vec(),
            warm_cache_size: None,
            top_keys: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_sizes_numbers_are_objects_units_are_bytes() {
        assert_eq!(
            CacheSize::parse_list("1000, 64MiB,2GiB,10MB,512B").unwrap(),
            vec![
                CacheSize::Objects(1000),
                CacheSize::Bytes(64 << 20),
                CacheSize::Bytes(2 << 30),
                CacheSize::Bytes(10_000_000),
                CacheSize::Bytes(512),
            ]
        );
        for bad in [
            "",
            "0",
            "0MiB",
            "10k",
            "-5",
            "lots",
            "99999999999999999999999",
        ] {
            let e = CacheSize::parse_list(bad).unwrap_err().to_string();
            assert!(e.contains("number of objects"), "{bad}: {e}");
        }
    }

    #[test]
    fn rates_and_lists() {
        assert!((parse_sample_rate("0.01").unwrap().rate() - 0.01).abs() < 1e-6);
        assert!((parse_sample_rate("1%").unwrap().rate() - 0.01).abs() < 1e-6);
        assert_eq!(parse_sample_rate("1").unwrap(), SampleRate::ALL);
        for bad in ["0", "2", "-0.1", "x", "1e-12"] {
            assert!(parse_sample_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_warm_top("1000,100, 100").unwrap(), vec![100, 1000]);
        assert!(parse_warm_top("0").is_err());
        assert!(parse_warm_top(",").is_err());
        assert!(parse_warm_top("1.5").is_err());
    }
}
