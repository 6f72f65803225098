//! From input files to a [`Report`]: one parallel scan, then the analyses
//! on what it collected.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hotkeys_contract::size::format_size;
use hotkeys_contract::timestamp::{format_rfc3339, now_micros};
use hotkeys_parser::keys::KeyCounts;
use hotkeys_parser::scan::{ScanReport, scan};
use hotkeys_parser::warnings;

use crate::collect::{Collected, Collector};
use crate::config::{CacheSize, ReportConfig, RestartAt};
use crate::curve::{Distances, Scale, Weight, scale_bytes};
use crate::error::CapacityError;
use crate::keyname::KeyName;
use crate::latency::{self, KeyLatency, Latency, Percentiles};
use crate::popularity::{self, Popularity, log_points};
use crate::report::{
    CacheModel, CurvePoint, ExcludedBy, FormatInfo, InputStats, MixEntry, Needed, REPORT_VERSION,
    Report, Summary, TopKey,
};
use crate::trace::sort_by_time;
use crate::warmup::{self, Warmup, WarmupInput};
use crate::{rates, sizes};

/// Hit ratios whose capacities the report names.
pub const NEEDED_FOR: [f64; 4] = [0.8, 0.9, 0.95, 0.99];

/// Below this many sampled keys the SHARDS curve is flagged: with fewer,
/// the few popular keys that happen to be in the sample move the ratios at
/// small cache sizes by several points.
pub const MIN_TRUSTED_SAMPLED_KEYS: u64 = 10_000;

/// A report and what else a caller may want from the run.
pub struct Analysis {
    /// The report, for [`render`](crate::render).
    pub report: Report,
    /// What the scan saw: inputs, lines, formats, malformed line samples
    /// and inputs that could not be read to the end.
    pub scan: ScanReport,
    /// What became of the requests, as `rank` counts them.
    pub counts: KeyCounts,
    /// Request times of the counted requests, in microseconds, for `--hgrm`.
    pub request_time: Histogram<u64>,
    /// Upstream times of the counted requests, in microseconds: what
    /// `--hgrm` writes when the log has no request times.
    pub upstream_time: Histogram<u64>,
    /// How long the scan and the curve took.
    pub timings: Timings,
}

/// Where the time went.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    /// The parallel scan of the inputs; zero from [`analyze`] alone (only
    /// [`run`] scans).
    pub scan: Duration,
    /// The stack-distance pass of the hit-ratio curve.
    pub curve: Duration,
    /// Requests the curve pass replayed: every counted one, or only the
    /// SHARDS sample.
    pub curve_requests: u64,
}

/// Reads the inputs and builds the report.
pub fn run(config: &ReportConfig) -> Result<Analysis, CapacityError> {
    let (rules, options) = config
        .rules
        .for_run(&config.window, &config.inputs, &config.scan)?;
    let started = Instant::now();
    let (collector, scan_report) = scan(&config.inputs, &options, || {
        Collector::new(&rules, config.method)
    })?;
    let collected = collector.finish();
    let scan_time = started.elapsed();
    let mut analysis = analyze(collected, scan_report, config);
    analysis.timings.scan = scan_time;
    Ok(analysis)
}

/// Builds the report from a finished collection.
pub fn analyze(mut c: Collected, scan: ScanReport, config: &ReportConfig) -> Analysis {
    let totals = LogTotals::of(&c);
    let popularity = popularity_section(&c);
    let ranked = top_ids(&c, config.top_keys, |_| true);
    let top_keys = top_keys(&c, &ranked, totals.matched);
    let latency = latency_section(&c, config.top_keys, &ranked);
    // Times per request are only needed for the latency tables.
    c.latencies = Vec::new();
    sort_by_time(&mut c.accesses);
    let curve = curve_section(&c, config, &totals);
    let (warmup, warmup_unavailable) = warmup_section(&c, config, &totals, &curve.cache.needed);
    let mut warnings = warnings::missing_fields(&scan, &config.rules);
    warnings.extend(report_warnings(
        &c,
        &curve.cache,
        warmup.as_ref(),
        &latency,
        totals.matched,
    ));
    let report = Report {
        version: REPORT_VERSION,
        generated_at: format_rfc3339(now_micros()),
        generator: format!("hotkeys {}", env!("CARGO_PKG_VERSION")),
        input: input_stats(&scan),
        summary: summary(&c, &totals),
        rates: rates::analyze(&c.minutes),
        popularity,
        top_keys,
        sizes: sizes::analyze(&c.response_bytes, &totals.object_sizes),
        latency,
        cache: curve.cache,
        hit_ratio_curve: curve.hit_ratio_curve,
        warmup,
        warmup_unavailable,
        warnings,
    };
    Analysis {
        report,
        scan,
        counts: c.counts.keys,
        request_time: c.request_time,
        upstream_time: c.upstream_time,
        timings: curve.timings,
    }
}

/// Sums over all keys that several sections need.
struct LogTotals {
    /// Largest response per key id: what the key takes up in a cache.
    object_sizes: Vec<u64>,
    working_set_objects: u64,
    working_set_bytes: u64,
    bytes_requested: u64,
    /// Requests that passed the filters and have a key.
    matched: u64,
}

impl LogTotals {
    fn of(c: &Collected) -> Self {
        let object_sizes: Vec<u64> = c.totals.iter().map(|t| t.max_bytes).collect();
        LogTotals {
            working_set_objects: c.totals.len() as u64,
            working_set_bytes: object_sizes.iter().sum(),
            bytes_requested: c.totals.iter().map(|t| t.bytes).sum(),
            matched: c.counts.keys.matched,
            object_sizes,
        }
    }
}

fn input_stats(scan: &ScanReport) -> InputStats {
    InputStats {
        files: scan.inputs,
        lines: scan.lines,
        blank_lines: scan.blank_lines,
        malformed: scan.malformed,
        too_long: scan.too_long,
        bytes_read: scan.bytes_read,
        partial_inputs: scan.problems.len() as u64,
        formats: scan
            .formats
            .iter()
            .map(|f| FormatInfo {
                input: f.input.clone(),
                format: f.format.clone(),
                detected: f.detected,
            })
            .collect(),
    }
}

fn summary(c: &Collected, totals: &LogTotals) -> Summary {
    Summary {
        requests_parsed: c.counts.requests,
        requests: totals.matched,
        filtered: c.counts.keys.filtered,
        excluded: c.counts.keys.excluded.total(),
        excluded_by: ExcludedBy {
            path: c.counts.keys.excluded.path,
            client: c.counts.keys.excluded.client,
            bot: c.counts.keys.excluded.bot,
        },
        no_target: c.counts.keys.no_target,
        unrouted: c.counts.keys.unrouted,
        distinct_keys: totals.working_set_objects,
        bytes_requested: totals.bytes_requested,
        working_set_objects: totals.working_set_objects,
        working_set_bytes: totals.working_set_bytes,
        first_time: c.counts.first_time.map(format_rfc3339),
        last_time: c.counts.last_time.map(format_rfc3339),
        span_seconds: c
            .counts
            .first_time
            .zip(c.counts.last_time)
            .map(|(a, b)| (b - a) as f64 / 1e6),
        methods: mix(
            c.methods
                .iter()
                .map(|(m, n)| (String::from_utf8_lossy(m).into_owned(), *n)),
            c.counts.requests,
        ),
        statuses: mix(
            c.statuses
                .iter()
                .map(|(s, n)| (s.map_or("-".to_string(), |s| s.to_string()), *n)),
            c.counts.requests,
        ),
    }
}

fn popularity_section(c: &Collected) -> Popularity {
    let per_key: Vec<(u64, u64)> = c.totals.iter().map(|t| (t.requests, t.bytes)).collect();
    popularity::analyze(&per_key)
}

/// The `ranked` keys as the report lists them, each with its share of the
/// `matched` requests.
fn top_keys(c: &Collected, ranked: &[u32], matched: u64) -> Vec<TopKey> {
    ranked
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let t = c.totals[id as usize];
            TopKey {
                rank: i as u64 + 1,
                key: KeyName::new(&c.keys[id as usize]),
                requests: t.requests,
                share: share(t.requests, matched),
                bytes: t.bytes,
                object_size: t.max_bytes,
            }
        })
        .collect()
}

/// The cache model and the hit ratios at the capacities asked for, with
/// what measuring them cost.
struct CurveSection {
    cache: CacheModel,
    hit_ratio_curve: Vec<CurvePoint>,
    timings: Timings,
}

/// One stack-distance pass over the time-sorted accesses, then read at the
/// capacities asked for, along both chart axes and at [`NEEDED_FOR`].
fn curve_section(c: &Collected, config: &ReportConfig, totals: &LogTotals) -> CurveSection {
    let rate = c.rate;
    let (capacities, capacities_from) = capacities(config, totals);
    let (distances, timings) = measure(c, totals, &capacities);
    let scale = Scale {
        rate,
        full: if rate.is_all() {
            distances.total
        } else {
            Weight {
                requests: totals.matched as f64,
                bytes: totals.bytes_requested as f64,
            }
        },
        adjust: true,
    };
    let method = if rate.is_all() { "exact" } else { "shards" };
    let point = |capacity: CacheSize| {
        let r = distances.ratios(capacity, scale);
        CurvePoint {
            capacity: capacity.value(),
            unit: capacity.unit(),
            hit_ratio: r.hit_ratio,
            byte_hit_ratio: r.byte_hit_ratio,
            method,
        }
    };
    let hit_ratio_curve: Vec<CurvePoint> = capacities.iter().map(|&c| point(c)).collect();
    let curve_objects = object_axis(&capacities, totals.working_set_objects)
        .into_iter()
        .map(|n| point(CacheSize::Objects(n)))
        .collect();
    let curve_bytes = byte_axis(&capacities, totals.working_set_bytes)
        .into_iter()
        .map(|b| point(CacheSize::Bytes(b)))
        .collect();
    let needed: Vec<Needed> = NEEDED_FOR
        .iter()
        .map(|&target| Needed {
            hit_ratio: target,
            objects: distances.objects_for(target, scale),
            bytes: distances.bytes_for(target, scale),
        })
        .collect();
    let max_hit_ratio = if distances.total.requests > 0.0 {
        // Every sampled first request stands for 1/R first requests.
        1.0 - distances.cold.requests / (scale.full.requests * rate.rate()).max(1.0)
    } else if totals.matched > 0 {
        // No key fell into the sample (a few very hot keys): the exact
        // counts still say how many requests were first for their key.
        1.0 - totals.working_set_objects as f64 / totals.matched as f64
    } else {
        0.0
    };
    let cache = CacheModel {
        method,
        sample_rate: rate.rate(),
        sampled_requests: distances.total.requests as u64,
        sampled_keys: distances.distinct_keys,
        adjusted: !rate.is_all(),
        capacities_from,
        max_hit_ratio: max_hit_ratio.clamp(0.0, 1.0),
        needed,
        curve_objects,
        curve_bytes,
    };
    CurveSection {
        cache,
        hit_ratio_curve,
        timings,
    }
}

/// The capacities the report names, and where they came from.
fn capacities(config: &ReportConfig, totals: &LogTotals) -> (Vec<CacheSize>, &'static str) {
    if config.cache_sizes.is_empty() {
        let defaults = default_capacities(totals.working_set_objects, totals.working_set_bytes);
        (defaults, "working set")
    } else {
        (config.cache_sizes.clone(), "--cache-sizes")
    }
}

/// The stack distances of all accesses, timed: the costliest step of a
/// report after the scan.
fn measure(c: &Collected, totals: &LogTotals, capacities: &[CacheSize]) -> (Distances, Timings) {
    let rate = c.rate;
    let scaled_byte_caps: Vec<u64> = capacities
        .iter()
        .filter_map(|c| match c {
            CacheSize::Bytes(b) => Some(scale_bytes(*b, rate)),
            CacheSize::Objects(_) => None,
        })
        .collect();
    let curve_started = Instant::now();
    let distances = Distances::measure(&c.accesses, totals.object_sizes.clone(), &scaled_byte_caps);
    let timings = Timings {
        scan: Duration::ZERO,
        curve: curve_started.elapsed(),
        curve_requests: c.accesses.len() as u64,
    };
    (distances, timings)
}

/// Object counts for the chart, up to the working set or the largest count
/// asked for.
fn object_axis(capacities: &[CacheSize], working_set_objects: u64) -> Vec<u64> {
    let max_objects = capacities
        .iter()
        .filter_map(|c| matches!(c, CacheSize::Objects(_)).then_some(c.value()))
        .chain([working_set_objects])
        .max()
        .unwrap_or(0);
    log_points(max_objects, 20)
}

/// Byte sizes for the chart, up to the working set or the largest size
/// asked for.
fn byte_axis(capacities: &[CacheSize], working_set_bytes: u64) -> Vec<u64> {
    let max_bytes = capacities
        .iter()
        .filter_map(|c| matches!(c, CacheSize::Bytes(_)).then_some(c.value()))
        .chain([working_set_bytes])
        .max()
        .unwrap_or(0);
    // From a thousandth of the working set (or the smallest size asked
    // for): smaller caches hold less than one typical object.
    let min_bytes = capacities
        .iter()
        .filter_map(|c| matches!(c, CacheSize::Bytes(_)).then_some(c.value()))
        .chain([working_set_bytes / 1000])
        .min()
        .unwrap_or(1);
    geometric(min_bytes, max_bytes, 60)
}

/// The restart simulation, or why there is none: without times no restart
/// can be placed.
fn warmup_section(
    c: &Collected,
    config: &ReportConfig,
    totals: &LogTotals,
    needed: &[Needed],
) -> (Option<Warmup>, Option<String>) {
    let (Some(first), Some(last)) = (c.counts.first_time, c.counts.last_time) else {
        return (
            None,
            Some("no counted request has a time, so no restart can be placed".to_string()),
        );
    };
    let restart = restart_time(config.restart_at, first, last);
    let (capacity, from) =
        warm_capacity(config.warm_cache_size, needed, totals.working_set_objects);
    let w = warmup::simulate(
        &WarmupInput {
            accesses: &c.accesses,
            keys: &c.keys,
            sizes: &totals.object_sizes,
            restart_at: restart,
            capacity,
            warm_top: &config.warm_top,
            rate: c.rate,
        },
        from,
    );
    (Some(w), None)
}

/// Where `--restart-at` puts the restart in a log from `first` to `last`.
fn restart_time(at: RestartAt, first: i64, last: i64) -> i64 {
    match at {
        RestartAt::Middle => first + (last - first) / 2,
        RestartAt::At(t) => t,
        RestartAt::BeforeLast(us) => last.saturating_sub(us),
    }
}

/// The cache size the warm-up simulation runs with, and how it was chosen.
fn warm_capacity(
    given: Option<CacheSize>,
    needed: &[Needed],
    working_set_objects: u64,
) -> (CacheSize, String) {
    match given {
        Some(size) => (size, "given with --warm-cache-size".to_string()),
        None => match needed[1].objects {
            Some(n) => (
                CacheSize::Objects(n.max(1)),
                "the smallest size with a 90% hit ratio".to_string(),
            ),
            None => (
                CacheSize::Objects(working_set_objects.max(1)),
                "the whole working set, as no size reaches a 90% hit ratio".to_string(),
            ),
        },
    }
}

/// What a reader should know before trusting the numbers: a small sample,
/// a restart the log cannot show, fields the log lacks.
fn report_warnings(
    c: &Collected,
    cache: &CacheModel,
    warmup: Option<&Warmup>,
    latency: &Latency,
    matched: u64,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if cache.adjusted && cache.sampled_keys < MIN_TRUSTED_SAMPLED_KEYS {
        warnings.push(format!(
            "the SHARDS sample is small ({} keys, {} requests at rate {}): hit ratios at small cache \
             sizes may be off by several points; use a higher --sample-rate, or --exact",
            cache.sampled_keys, cache.sampled_requests, cache.sample_rate
        ));
    }
    if let (Some(w), Some(first), Some(last)) = (warmup, c.counts.first_time, c.counts.last_time) {
        let restart = w.restart_at_unix_us;
        if restart < first || restart > last {
            warnings.push(format!(
                "the restart time {} is outside the log ({} to {}): nothing to compare",
                format_rfc3339(restart),
                format_rfc3339(first),
                format_rfc3339(last)
            ));
        }
        if w.observed_minutes < 15.0 && restart <= last {
            warnings.push(format!(
                "the log ends {:.1} minutes after the restart: later warm-up windows are incomplete",
                w.observed_minutes
            ));
        }
    }
    if c.counts.untimed > 0 && c.counts.first_time.is_some() {
        warnings.push(format!(
            "{} counted requests have no time; the cache simulations replay them first",
            c.counts.untimed
        ));
    }
    // The same rule as `rank --by cost`'s warning: counted requests, none
    // with a time.
    let timed = latency.request_time.as_ref().map_or(0, |p| p.count)
        + latency.upstream_time.as_ref().map_or(0, |p| p.count);
    if warnings::no_latency(matched, timed) {
        warnings.push(format!(
            "the log records no response times ({})",
            warnings::LATENCY_HINT
        ));
    }
    warnings
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

fn mix(entries: impl Iterator<Item = (String, u64)>, total: u64) -> Vec<MixEntry> {
    let mut v: Vec<MixEntry> = entries
        .map(|(name, requests)| MixEntry {
            name,
            requests,
            share: share(requests, total),
        })
        .collect();
    v.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.name.cmp(&b.name))
    });
    v
}

/// The `n` most requested keys among those `keep` accepts, most requested
/// first, ties by key bytes.
fn top_ids(c: &Collected, n: usize, keep: impl Fn(u32) -> bool) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..c.totals.len() as u32).filter(|&id| keep(id)).collect();
    let order = |a: &u32, b: &u32| {
        c.totals[*b as usize]
            .requests
            .cmp(&c.totals[*a as usize].requests)
            .then_with(|| c.keys[*a as usize].cmp(&c.keys[*b as usize]))
    };
    if n == 0 {
        return Vec::new();
    }
    if n < ids.len() {
        ids.select_nth_unstable_by(n - 1, order);
        ids.truncate(n);
    }
    ids.sort_unstable_by(order);
    ids
}

fn latency_section(c: &Collected, n: usize, ranked: &[u32]) -> Latency {
    let (ids, from) = if c.rate.is_all() {
        (ranked.to_vec(), "all")
    } else {
        let mut sampled = vec![false; c.totals.len()];
        for a in &c.accesses {
            sampled[a.key as usize] = true;
        }
        (top_ids(c, n, |id| sampled[id as usize]), "sample")
    };
    let keys: Vec<u32> = c.accesses.iter().map(|a| a.key).collect();
    let hists = latency::for_keys(&ids, &keys, &c.latencies);
    let top_keys = ids
        .iter()
        .zip(&hists)
        .filter_map(|(&id, h)| {
            Percentiles::of(h).map(|latency| KeyLatency {
                key: KeyName::new(&c.keys[id as usize]),
                requests: c.totals[id as usize].requests,
                latency,
            })
        })
        .collect();
    Latency {
        request_time: Percentiles::of(&c.request_time),
        upstream_time: Percentiles::of(&c.upstream_time),
        request_time_distribution: latency::distribution(&c.request_time),
        upstream_time_distribution: latency::distribution(&c.upstream_time),
        top_keys,
        top_keys_from: from,
    }
}

/// The capacities shown when none are given: object counts 1-2-5 from a
/// thousandth of the working set up to all of it, and byte sizes in
/// powers of four (1 KiB, 4 KiB, ...) over the same range.
pub fn default_capacities(objects: u64, bytes: u64) -> Vec<CacheSize> {
    let mut out = Vec::new();
    if objects > 0 {
        let low = (objects / 1000).max(1);
        let mut decade = 1u64;
        'outer: loop {
            for m in [1, 2, 5] {
                let n = decade.saturating_mul(m);
                if n >= objects {
                    break 'outer;
                }
                if n >= low {
                    out.push(CacheSize::Objects(n));
                }
            }
            decade = decade.saturating_mul(10);
        }
        out.push(CacheSize::Objects(objects));
    }
    if bytes > 0 {
        let low = bytes / 1000;
        let mut size = 1024u64;
        while size < bytes {
            if size >= low {
                out.push(CacheSize::Bytes(size));
            }
            size = size.saturating_mul(4);
        }
        out.push(CacheSize::Bytes(bytes));
    }
    out
}

/// About `n` values spread geometrically over `from..=to`.
fn geometric(from: u64, to: u64, n: u32) -> Vec<u64> {
    if to == 0 {
        return Vec::new();
    }
    let from = from.max(1).min(to);
    let ratio = (to as f64 / from as f64).powf(1.0 / f64::from(n.max(1)));
    let mut out = Vec::new();
    let mut x = from as f64;
    while (x as u64) < to {
        let v = x.round() as u64;
        if out.last() != Some(&v) {
            out.push(v);
        }
        if ratio <= 1.0 {
            break;
        }
        x *= ratio;
    }
    out.push(to);
    out
}

/// A capacity for people: `12,000 objects` or `64.0 MiB`.
pub fn format_capacity(size: CacheSize) -> String {
    match size {
        CacheSize::Objects(1) => "1 object".to_string(),
        CacheSize::Objects(n) => format!("{} objects", group_digits(n)),
        CacheSize::Bytes(b) => format_size(b),
    }
}

/// `1234567` as `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::Collector;
    use crate::config::CurveMethod;
    use crate::sampling::SampleRate;
    use hotkeys_loggen::{Config, generate};
    use hotkeys_parser::filter::Filter;
    use hotkeys_parser::format::json::JsonFields;
    use hotkeys_parser::format::{LineParser, LogFormat};
    use hotkeys_parser::keys::KeyRules;
    use hotkeys_parser::scan::Accumulator;
    use std::io::{self, Write};

    /// Feeds a generated log to collectors line by line as it is written,
    /// the way the scanner does, without a file: these logs are hundreds of
    /// megabytes.
    struct Feed<'r> {
        parser: LineParser,
        collectors: Vec<Collector<'r>>,
        partial: Vec<u8>,
    }

    impl Write for Feed<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.partial.extend_from_slice(buf);
            let mut start = 0;
            while let Some(n) = self.partial[start..].iter().position(|&b| b == b'\n') {
                let line = &self.partial[start..start + n];
                let request = self.parser.parse(line).expect("generated lines parse");
                for c in &mut self.collectors {
                    c.add(&request);
                }
                start += n + 1;
            }
            self.partial.drain(..start);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Every request counts: the generator's Zipf law covers all of them.
    fn all_requests() -> KeyRules {
        KeyRules {
            filter: Filter::default(),
            ..KeyRules::default()
        }
    }

    /// Collects a generated combined log once per method.
    fn collect(log: &Config, rules: &KeyRules, methods: &[CurveMethod]) -> Vec<Collected> {
        let mut feed = Feed {
            parser: LogFormat::builtin("combined", &JsonFields::defaults())
                .unwrap()
                .line_parser(),
            collectors: methods.iter().map(|&m| Collector::new(rules, m)).collect(),
            partial: Vec::new(),
        };
        generate(log, &mut feed, None).unwrap();
        assert!(feed.partial.is_empty());
        feed.collectors.into_iter().map(Collector::finish).collect()
    }

    fn report(c: Collected, config: &ReportConfig) -> Report {
        analyze(c, ScanReport::default(), config).report
    }

    fn base_config() -> ReportConfig {
        let mut config = ReportConfig::new(Vec::new());
        config.rules = all_requests();
        config.warm_top = vec![10];
        config
    }

    fn mean_absolute_error(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
    }

    fn hit_ratios(r: &Report) -> Vec<f64> {
        r.hit_ratio_curve.iter().map(|p| p.hit_ratio).collect()
    }

    /// Ten capacities from 1% to 90% of the keys.
    fn ten_object_sizes(keys: usize) -> Vec<CacheSize> {
        [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 0.9]
            .iter()
            .map(|f| CacheSize::Objects((keys as f64 * f) as u64))
            .collect()
    }

    #[test]
    fn zipf_fit_is_within_five_hundredths_on_generated_logs() {
        let rules = all_requests();
        for s in [0.8, 1.0, 1.2] {
            let log = Config {
                lines: 300_000,
                keys: 20_000,
                zipf: s,
                seed: 11,
                ..Config::default()
            };
            let c = collect(&log, &rules, &[CurveMethod::Exact]).remove(0);
            let fit = report(c, &base_config())
                .popularity
                .zipf
                .expect("enough keys to fit");
            assert!((fit.exponent - s).abs() <= 0.05, "Zipf {s}: fitted {fit:?}");
            assert!(fit.r_squared > 0.98, "Zipf {s}: {fit:?}");
        }
    }

    #[test]
    fn sampled_curve_is_within_a_hundredth_of_the_exact_one() {
        // Large enough for a 1% sample to hold thousands of keys, as SHARDS
        // needs: 4M requests over 2M keys (about 1.3M of them requested).
        let log = Config {
            lines: 4_000_000,
            keys: 2_000_000,
            zipf: 1.0,
            seed: 3,
            ..Config::default()
        };
        let rules = all_requests();
        let rate = SampleRate::new(0.01).unwrap();
        let mut both = collect(
            &log,
            &rules,
            &[CurveMethod::Exact, CurveMethod::Sampled(rate)],
        );
        let (exact, sampled) = (both.remove(0), both.remove(0));
        assert_eq!(exact.totals.len(), sampled.totals.len());
        let config = ReportConfig {
            cache_sizes: ten_object_sizes(exact.totals.len()),
            ..base_config()
        };
        let (e, s) = (report(exact, &config), report(sampled, &config));
        assert_eq!((e.cache.method, s.cache.method), ("exact", "shards"));
        assert!(s.cache.sampled_keys > 5_000, "{}", s.cache.sampled_keys);
        let (e, s) = (hit_ratios(&e), hit_ratios(&s));
        assert_eq!(e.len(), 10);
        // The curve is not flat: the comparison means something.
        assert!(e[9] - e[0] > 0.25, "{e:?}");
        let mae = mean_absolute_error(&e, &s);
        assert!(mae <= 0.01, "MAE {mae}: exact {e:?} sampled {s:?}");
    }

    #[test]
    fn shards_adjustment_corrects_a_skewed_sample() {
        // Zipf 1.2: the top keys carry a large share of the traffic, so
        // which of them are in a 1% sample moves every ratio. The site is
        // chosen so that none of the top hundred is: a sample far smaller than
        // expected, the common case for skewed traffic.
        let rate = SampleRate::new(0.01).unwrap();
        let log = (1..)
            .map(|site_seed| Config {
                lines: 1_000_000,
                keys: 500_000,
                zipf: 1.2,
                seed: 5,
                site_seed,
                ..Config::default()
            })
            .find(|config| {
                let site = hotkeys_loggen::Generator::new(config.clone()).unwrap();
                (1..=100).all(|rank| {
                    !rate.keeps(crate::sampling::key_point(
                        &site.target_of_rank(rank).unwrap(),
                    ))
                })
            })
            .unwrap();
        let rules = all_requests();
        let mut both = collect(
            &log,
            &rules,
            &[CurveMethod::Exact, CurveMethod::Sampled(rate)],
        );
        let (exact, mut sampled) = (both.remove(0), both.remove(0));
        let sizes = ten_object_sizes(exact.totals.len());
        let truth = hit_ratios(&report(
            exact,
            &ReportConfig {
                cache_sizes: sizes.clone(),
                ..base_config()
            },
        ));

        sort_by_time(&mut sampled.accesses);
        let object_sizes: Vec<u64> = sampled.totals.iter().map(|t| t.max_bytes).collect();
        let d = Distances::measure(&sampled.accesses, object_sizes, &[]);
        let full = Weight {
            requests: sampled.counts.keys.matched as f64,
            bytes: sampled.totals.iter().map(|t| t.bytes).sum::<u64>() as f64,
        };
        let curve = |adjust: bool| -> Vec<f64> {
            sizes
                .iter()
                .map(|&size| d.ratios(size, Scale { rate, full, adjust }).hit_ratio)
                .collect()
        };
        let (adjusted, plain) = (curve(true), curve(false));
        let (mae_adjusted, mae_plain) = (
            mean_absolute_error(&adjusted, &truth),
            mean_absolute_error(&plain, &truth),
        );
        // The sample is far from its expected size...
        let expected = full.requests * rate.rate();
        let off = (d.total.requests - expected).abs() / expected;
        assert!(
            off > 0.1,
            "sampled {} of {expected} expected",
            d.total.requests
        );
        // ...and the adjustment is what makes the curve usable.
        assert!(mae_adjusted <= 0.015, "adjusted MAE {mae_adjusted}");
        assert!(
            mae_plain > 3.0 * mae_adjusted && mae_plain > 0.05,
            "unadjusted MAE {mae_plain} against adjusted {mae_adjusted}"
        );
    }

    #[test]
    fn warming_more_keys_never_adds_origin_requests_on_a_generated_log() {
        let log = Config {
            lines: 200_000,
            keys: 20_000,
            zipf: 0.9,
            seed: 9,
            ..Config::default()
        };
        let rules = all_requests();
        for capacity in [
            CacheSize::Objects(500),
            CacheSize::Objects(20_000),
            CacheSize::Bytes(64 << 20),
        ] {
            let c = collect(&log, &rules, &[CurveMethod::Exact]).remove(0);
            let config = ReportConfig {
                warm_top: vec![10, 100, 1_000, 10_000],
                warm_cache_size: Some(capacity),
                ..base_config()
            };
            let w = report(c, &config).warmup.expect("timed log");
            assert_eq!(w.rows.len(), 5);
            assert!(w.requests[2] > 1_000, "{:?}", w.requests);
            for pair in w.rows.windows(2) {
                for i in 0..3 {
                    assert!(
                        pair[1].origin_requests[i] <= pair[0].origin_requests[i],
                        "{capacity:?}: top {} gives {:?}, top {} gives {:?}",
                        pair[1].warm_top,
                        pair[1].origin_requests,
                        pair[0].warm_top,
                        pair[0].origin_requests
                    );
                }
            }
            // And warming helps at all.
            assert!(w.rows[3].saved[2] > 0, "{capacity:?}: {:?}", w.rows);
        }
    }

    #[test]
    fn default_capacities_spread_over_the_working_set() {
        let caps = default_capacities(500_000, 1 << 30);
        let objects: Vec<u64> = caps
            .iter()
            .filter(|c| matches!(c, CacheSize::Objects(_)))
            .map(|c| c.value())
            .collect();
        assert_eq!(
            objects,
            [
                500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000
            ]
        );
        let bytes: Vec<u64> = caps
            .iter()
            .filter(|c| matches!(c, CacheSize::Bytes(_)))
            .map(|c| c.value())
            .collect();
        assert_eq!(bytes, [4 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30]);
        assert_eq!(default_capacities(1, 0), vec![CacheSize::Objects(1)]);
        assert!(default_capacities(0, 0).is_empty());
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(1234567), "1,234,567");
        assert_eq!(format_capacity(CacheSize::Objects(12000)), "12,000 objects");
        assert_eq!(format_capacity(CacheSize::Bytes(64 << 20)), "64.0 MiB");
        let g = geometric(10, 1000, 4);
        assert_eq!(g.first(), Some(&10));
        assert_eq!(g.last(), Some(&1000));
    }
}
