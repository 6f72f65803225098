//! Capacity analysis of web access logs: the engine behind `hotkeys report`.
//!
//! From the same inputs, formats, filters and routes as `hotkeys rank`,
//! one parallel scan ([`collect`]) gathers per-key totals, rates,
//! histograms and a compact 16-byte record per request, and the analyses
//! answer the questions asked before sizing or warming a cache:
//!
//! * [`popularity`]: coverage of the top keys, one-hit wonders, the
//!   frequency histogram and a Zipf exponent with its fit range and R²;
//! * [`rates`]: requests per minute and per hour (mean, p50, p99, peak);
//! * [`sizes`] and [`latency`]: response sizes and HdrHistogram response
//!   time percentiles, overall and per key, and the `.hgrm` export;
//! * [`stack`] and [`curve`]: the LRU hit-ratio curve, exact (Mattson stack
//!   distances over a Fenwick tree, O(N log M)) or sampled ([`sampling`]:
//!   SHARDS with its adjustment), for capacities in objects or bytes;
//! * [`warmup`]: origin requests after a restart, cold against warmed with
//!   the top N keys ranked before it.
//!
//! [`analyze::run`] does all of it and returns a [`report::Report`], which
//! [`render`] writes as aligned text, JSON or a self-contained HTML page
//! with SVG charts.
//!
//! # Example
//!
//! ```
//! use hotkeys_capacity::config::{CacheSize, ReportConfig};
//! use hotkeys_capacity::{analyze, render};
//! use hotkeys_parser::input::Source;
//!
//! let dir = std::env::temp_dir().join(format!("hotkeys-capacity-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let log = dir.join("access.log");
//! // a b a c a b, one second apart, 1000 bytes each.
//! let lines: String = ["/a", "/b", "/a", "/c", "/a", "/b"]
//!     .iter()
//!     .enumerate()
//!     .map(|(i, path)| format!(
//!         "1.2.3.4 - - [01/May/2024:10:00:0{i} +0000] \"GET {path} HTTP/1.1\" 200 1000 \"-\" \"curl\"\n"
//!     ))
//!     .collect();
//! std::fs::write(&log, lines)?;
//!
//! let mut config = ReportConfig::new(vec![Source::File(log)]);
//! config.cache_sizes = vec![CacheSize::Objects(1), CacheSize::Objects(2), CacheSize::Bytes(3000)];
//! let analysis = analyze::run(&config)?;
//! let report = &analysis.report;
//!
//! assert_eq!(report.summary.requests, 6);
//! assert_eq!(report.summary.distinct_keys, 3);
//! // One object: no key is requested twice in a row. Two objects: both
//! // repeats of /a hit (one other key came between). Three objects' worth
//! // of bytes: the repeat of /b hits too.
//! let ratios: Vec<f64> = report.hit_ratio_curve.iter().map(|p| p.hit_ratio).collect();
//! assert_eq!(ratios, [0.0, 2.0 / 6.0, 3.0 / 6.0]);
//! assert_eq!(report.cache.method, "exact");
//!
//! let mut json = Vec::new();
//! render::json::write(report, &mut json)?;
//! assert!(String::from_utf8(json)?.contains("\"hit_ratio_curve\""));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod analyze;
pub mod collect;
pub mod config;
pub mod curve;
pub mod error;
pub mod escape;
pub mod histogram;
pub mod keyname;
pub mod latency;
pub mod popularity;
pub mod rates;
pub mod render;
pub mod report;
pub mod sampling;
pub mod sizes;
pub mod stack;
pub mod trace;
pub mod warmup;
