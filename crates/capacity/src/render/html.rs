//! The report as one self-contained HTML page: inline CSS, inline SVG
//! charts, no script, no font, no link to anything outside the file. It
//! can be mailed, attached to a ticket or opened offline.
//!
//! Every string that comes from a log (keys, methods, file names) goes
//! through [`crate::escape`]: made visible like in a terminal, then
//! entity-escaped.

use std::fmt::Write as _;
use std::io::{self, Write};

use hotkeys_contract::size::format_size;

use crate::analyze::format_capacity;
use crate::config::CacheSize;
use crate::escape::{html, html_key, terminal};
use crate::latency::Percentiles;
use crate::render::svg::{Axis, Chart, Scale, Series, Style, Ticks};
use crate::render::{count, duration, percent, span};
use crate::report::{CurvePoint, MixEntry, Report};

const STYLE: &str = "
body { font-family: system-ui, sans-serif; color: #1d1d1f; background: #fff; margin: 0; }
main { max-width: 960px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 26px; margin: 16px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #0072b2; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p, li { line-height: 1.45; }
.lead { color: #555; margin: 0 0 8px; }
nav { font-size: 14px; margin: 8px 0 0; }
nav a { margin-right: 14px; color: #0072b2; text-decoration: none; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 14px; }
th, td { padding: 4px 10px; text-align: right; border-bottom: 1px solid #e6e6e6; white-space: nowrap; }
th { background: #f3f5f8; font-weight: 600; }
td.l, th.l { text-align: left; }
td.key { text-align: left; font-family: ui-monospace, monospace; white-space: normal; word-break: break-all; max-width: 420px; }
table.kv th { text-align: left; background: none; font-weight: 600; }
table.kv td { text-align: left; white-space: normal; }
.chart { display: block; max-width: 100%; height: auto; margin: 10px 0; }
.note { color: #555; font-size: 13px; }
.warn { background: #fff4e0; border-left: 4px solid #e69f00; padding: 8px 12px; }
";

/// Writes `r` as one self-contained HTML page.
pub fn write(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut h = String::with_capacity(256 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>hotkeys report</title>\n<style>");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<main>\n");
    header(&mut h, r);
    summary(&mut h, r);
    if r.summary.requests > 0 {
        rates(&mut h, r);
        popularity(&mut h, r);
        sizes(&mut h, r);
        latency(&mut h, r);
        hit_ratio(&mut h, r);
        warmup(&mut h, r);
    }
    if !r.warnings.is_empty() {
        h.push_str("<section id=\"warnings\"><h2>Warnings</h2><ul>");
        for w in &r.warnings {
            let _ = write!(h, "<li>{}</li>", html(&terminal(w.as_bytes())));
        }
        h.push_str("</ul></section>\n");
    }
    let _ = writeln!(
        h,
        "<p class=\"note\">Made by {} at {}. Methods and fields: docs/report.md in the hotkeys repository.</p>",
        html(&r.generator),
        html(&r.generated_at)
    );
    h.push_str("</main>\n</body>\n</html>\n");
    out.write_all(h.as_bytes())
}

fn header(h: &mut String, r: &Report) {
    let s = &r.summary;
    h.push_str("<h1>hotkeys capacity report</h1>\n");
    let when = match (&s.first_time, &s.last_time, s.span_seconds) {
        (Some(a), Some(b), Some(secs)) => format!(", {} to {} ({})", html(a), html(b), span(secs)),
        _ => String::new(),
    };
    let _ = writeln!(
        h,
        "<p class=\"lead\">{} requests over {} keys from {} input{}{}.</p>",
        count(s.requests),
        count(s.distinct_keys),
        count(r.input.files),
        if r.input.files == 1 { "" } else { "s" },
        when
    );
    h.push_str(
        "<nav><a href=\"#summary\">Summary</a><a href=\"#rates\">Rate</a><a href=\"#popularity\">Popularity</a>\
         <a href=\"#sizes\">Sizes</a><a href=\"#latency\">Latency</a><a href=\"#hit-ratio\">Hit ratio</a>\
         <a href=\"#warmup\">Warm-up</a></nav>\n",
    );
    h.push_str("<section id=\"glance\"><h2>At a glance</h2><ul>");
    for line in crate::render::highlights(r) {
        let _ = write!(h, "<li>{}</li>", html(&line));
    }
    h.push_str("</ul></section>\n");
    if !r.warnings.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"warn\">{} warning{}: see <a href=\"#warnings\">the end of the report</a>.</p>",
            r.warnings.len(),
            if r.warnings.len() == 1 { "" } else { "s" }
        );
    }
}

/// `<table>` with a header row; `left` columns are left-aligned, `key`
/// columns hold keys. Cells must already be escaped.
fn table(
    h: &mut String,
    header: &[&str],
    left: &[usize],
    key: Option<usize>,
    rows: &[Vec<String>],
) {
    h.push_str("<table><tr>");
    for (i, c) in header.iter().enumerate() {
        let class = if left.contains(&i) || key == Some(i) {
            " class=\"l\""
        } else {
            ""
        };
        let _ = write!(h, "<th{class}>{}</th>", html(c));
    }
    h.push_str("</tr>");
    for row in rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if key == Some(i) {
                " class=\"key\""
            } else if left.contains(&i) {
                " class=\"l\""
            } else {
                ""
            };
            let _ = write!(h, "<td{class}>{c}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>\n");
}

fn kv(h: &mut String, rows: &[(&str, String)]) {
    h.push_str("<table class=\"kv\">");
    for (k, v) in rows {
        let _ = write!(h, "<tr><th>{}</th><td>{v}</td></tr>", html(k));
    }
    h.push_str("</table>\n");
}

fn mix(entries: &[MixEntry]) -> String {
    entries
        .iter()
        .take(10)
        .map(|e| {
            format!(
                "{} {}",
                html(&terminal(e.name.as_bytes())),
                percent(e.share)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary(h: &mut String, r: &Report) {
    let s = &r.summary;
    h.push_str("<section id=\"summary\"><h2>1. Summary</h2>\n");
    let span_text = match (&s.first_time, &s.last_time, s.span_seconds) {
        (Some(a), Some(b), Some(secs)) => format!("{} to {} ({})", html(a), html(b), span(secs)),
        _ => "unknown (no request has a time)".into(),
    };
    // A directory of a thousand rotated files should not fill the page.
    const SHOWN_INPUTS: usize = 10;
    let mut formats: Vec<String> = r
        .input
        .formats
        .iter()
        .take(SHOWN_INPUTS)
        .map(|f| {
            format!(
                "{} ({}{})",
                html(&terminal(f.input.as_bytes())),
                html(&f.format),
                if f.detected { ", detected" } else { "" }
            )
        })
        .collect();
    if r.input.formats.len() > SHOWN_INPUTS {
        formats.push(format!("and {} more", r.input.formats.len() - SHOWN_INPUTS));
    }
    kv(
        h,
        &[
            (
                "Requests",
                format!(
                    "{} counted of {} parsed ({} filtered, {}{} without a target, {} matched no route)",
                    count(s.requests),
                    count(s.requests_parsed),
                    count(s.filtered),
                    if s.excluded > 0 {
                        format!(
                            "{} excluded ({}), ",
                            count(s.excluded),
                            s.excluded_by.describe(count)
                        )
                    } else {
                        String::new()
                    },
                    count(s.no_target),
                    count(s.unrouted)
                ),
            ),
            ("Distinct keys", count(s.distinct_keys)),
            ("Bytes requested", format_size(s.bytes_requested)),
            (
                "Working set",
                format!(
                    "{} objects, {} (each key once, at its largest response)",
                    count(s.working_set_objects),
                    format_size(s.working_set_bytes)
                ),
            ),
            ("Time span", span_text),
            ("Methods", mix(&s.methods)),
            ("Statuses", mix(&s.statuses)),
            (
                "Input",
                format!(
                    "{} lines, {} read, {} malformed; {}",
                    count(r.input.lines),
                    format_size(r.input.bytes_read),
                    count(r.input.malformed),
                    formats.join(", ")
                ),
            ),
        ],
    );
    h.push_str("<p class=\"note\">Methods and statuses count every parsed request, before filtering.</p></section>\n");
}

fn rates(h: &mut String, r: &Report) {
    h.push_str("<section id=\"rates\"><h2>2. Request rate</h2>\n");
    let Some(rates) = &r.rates else {
        h.push_str("<p>No request has a time.</p></section>\n");
        return;
    };
    let points: Vec<(f64, f64)> = rates
        .series
        .iter()
        .map(|p| (p.start_unix as f64, p.requests_per_minute))
        .collect();
    let x_min = points.first().map_or(0.0, |p| p.0);
    let x_max = points
        .last()
        .map_or(1.0, |p| p.0 + rates.series_period_seconds as f64);
    let y_max = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let period = rates.series_period_seconds / 60;
    let chart = Chart {
        title: "Request rate over time".into(),
        x: Axis {
            label: "time (UTC)".into(),
            scale: Scale::Linear,
            ticks: Ticks::Time,
            min: x_min,
            max: x_max.max(x_min + 60.0),
        },
        y: Axis {
            label: "requests per minute".into(),
            scale: Scale::Linear,
            ticks: Ticks::Count,
            min: 0.0,
            max: nice_max(y_max),
        },
        series: vec![Series {
            name: if period == 1 {
                "requests per minute".into()
            } else {
                format!("requests per minute, averaged over {period} minutes")
            },
            points,
            style: Style::Solid,
        }],
    };
    h.push_str(&chart.to_svg("chart-rate"));
    let rows: Vec<Vec<String>> = [
        ("per minute", &rates.per_minute),
        ("per hour", &rates.per_hour),
    ]
    .iter()
    .map(|(name, s)| {
        vec![
            name.to_string(),
            format!("{:.1}", s.mean),
            count(s.p50),
            count(s.p99),
            count(s.peak),
            html(&s.peak_at),
        ]
    })
    .collect();
    table(
        h,
        &["requests", "mean", "p50", "p99", "peak", "peak at"],
        &[0, 5],
        None,
        &rows,
    );
    h.push_str("<p class=\"note\">Every minute (hour) between the first and the last request is one value; quiet ones count as zero.</p></section>\n");
}

/// A round upper bound for a linear axis.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&m| m >= v)
        .unwrap_or(v)
}

fn popularity(h: &mut String, r: &Report) {
    let p = &r.popularity;
    h.push_str("<section id=\"popularity\"><h2>3. Popularity</h2>\n");
    let max_keys = p.coverage_curve.last().map_or(1, |c| c.top).max(2) as f64;
    let chart = Chart {
        title: "Coverage: share of traffic served by the top N keys".into(),
        x: Axis {
            label: "top N keys (log scale)".into(),
            scale: Scale::Log,
            ticks: Ticks::Count,
            min: 1.0,
            max: max_keys,
        },
        y: Axis {
            label: "share of traffic".into(),
            scale: Scale::Linear,
            ticks: Ticks::Percent,
            min: 0.0,
            max: 1.0,
        },
        series: vec![
            Series {
                name: "requests".into(),
                points: p
                    .coverage_curve
                    .iter()
                    .map(|c| (c.top as f64, c.requests_share))
                    .collect(),
                style: Style::Solid,
            },
            Series {
                name: "bytes".into(),
                points: p
                    .coverage_curve
                    .iter()
                    .map(|c| (c.top as f64, c.bytes_share))
                    .collect(),
                style: Style::Dashed,
            },
        ],
    };
    h.push_str(&chart.to_svg("chart-coverage"));
    let rows: Vec<Vec<String>> = p
        .coverage
        .iter()
        .map(|c| {
            vec![
                format!("top {}", count(c.top)),
                count(c.keys),
                percent(c.requests_share),
                percent(c.bytes_share),
            ]
        })
        .collect();
    table(
        h,
        &["keys", "counted", "of requests", "of bytes"],
        &[0],
        None,
        &rows,
    );
    let o = &p.one_hit_wonders;
    let _ = writeln!(
        h,
        "<p><b>One-hit wonders:</b> {} keys were requested once ({} of keys, {} of requests); no cache can serve them.</p>",
        count(o.keys),
        percent(o.share_of_keys),
        percent(o.share_of_requests)
    );
    match &p.zipf {
        Some(z) => {
            let _ = writeln!(
                h,
                "<p><b>Zipf exponent {:.2}</b> (R² {:.3}), fitted on the rank-frequency curve over ranks {} to {}: \
                 the keys with at least {} requests. Around 1 is typical of web traffic; higher means more skew.</p>",
                z.exponent,
                z.r_squared,
                count(z.fit_from_rank),
                count(z.fit_to_rank),
                crate::popularity::MIN_FIT_COUNT
            );
        }
        None => {
            let _ = writeln!(
                h,
                "<p><b>Zipf exponent:</b> not fitted (too few keys with at least {} requests).</p>",
                crate::popularity::MIN_FIT_COUNT
            );
        }
    }
    h.push_str("<h3>Keys by request count</h3>\n");
    let total: u64 = p.frequency.iter().map(|b| b.requests).sum();
    let rows: Vec<Vec<String>> = p
        .frequency
        .iter()
        .map(|b| {
            vec![
                if b.min_requests == b.max_requests {
                    count(b.min_requests)
                } else {
                    format!("{} to {}", count(b.min_requests), count(b.max_requests))
                },
                count(b.keys),
                percent(b.requests as f64 / total.max(1) as f64),
            ]
        })
        .collect();
    table(
        h,
        &["requests per key", "keys", "of requests"],
        &[0],
        None,
        &rows,
    );
    if !r.top_keys.is_empty() {
        h.push_str("<h3>Most requested keys</h3>\n");
        let rows: Vec<Vec<String>> = r
            .top_keys
            .iter()
            .map(|k| {
                vec![
                    k.rank.to_string(),
                    count(k.requests),
                    percent(k.share),
                    format_size(k.bytes),
                    format_size(k.object_size),
                    html_key(&k.key.bytes),
                ]
            })
            .collect();
        table(
            h,
            &["rank", "requests", "share", "bytes", "object size", "key"],
            &[],
            Some(5),
            &rows,
        );
    }
    h.push_str("</section>\n");
}

fn sizes(h: &mut String, r: &Report) {
    let s = &r.sizes;
    h.push_str("<section id=\"sizes\"><h2>4. Response sizes</h2>\n");
    let rows: Vec<Vec<String>> = [("by request", &s.by_request), ("by object", &s.by_object)]
        .iter()
        .map(|(name, d)| {
            vec![
                name.to_string(),
                count(d.count),
                format_size(d.mean.round() as u64),
                format_size(d.p50),
                format_size(d.p90),
                format_size(d.p99),
                format_size(d.max),
            ]
        })
        .collect();
    table(
        h,
        &["", "count", "mean", "p50", "p90", "p99", "max"],
        &[0],
        None,
        &rows,
    );
    let rows: Vec<Vec<String>> = s
        .buckets
        .iter()
        .filter(|b| b.requests + b.objects > 0)
        .map(|b| {
            vec![
                match (b.min, b.max) {
                    (0, Some(1)) => "0 B".to_string(),
                    (lo, Some(hi)) => format!("{} to {}", format_size(lo), format_size(hi)),
                    (lo, None) => format!("{} and more", format_size(lo)),
                },
                count(b.requests),
                count(b.objects),
            ]
        })
        .collect();
    table(h, &["size", "requests", "objects"], &[0], None, &rows);
    h.push_str("<p class=\"note\">An object is a key at its largest response: what a cache stores. Request sizes come from a histogram with 0.1% resolution.</p></section>\n");
}

fn percentile_cells(p: &Percentiles) -> Vec<String> {
    vec![
        count(p.count),
        duration(p.mean_us.round() as u64),
        duration(p.p50_us),
        duration(p.p90_us),
        duration(p.p99_us),
        duration(p.p999_us),
        duration(p.max_us),
    ]
}

fn latency(h: &mut String, r: &Report) {
    let l = &r.latency;
    h.push_str("<section id=\"latency\"><h2>5. Latency</h2>\n");
    if l.request_time.is_none() && l.upstream_time.is_none() {
        h.push_str("<p>The log records no response times (use a format with <code>$request_time</code> or <code>%D</code>, such as <code>nginx-timed</code>).</p></section>\n");
        return;
    }
    // Percentile axis in "nines": 90% at 1, 99% at 2, ...
    let nines = |p: f64| -(1.0 - p / 100.0).max(1e-7).log10();
    let mut series = Vec::new();
    let mut all: Vec<(f64, f64)> = Vec::new();
    for (name, dist, count) in [
        (
            "request time",
            &l.request_time_distribution,
            l.request_time.as_ref().map(|p| p.count),
        ),
        (
            "upstream time",
            &l.upstream_time_distribution,
            l.upstream_time.as_ref().map(|p| p.count),
        ),
    ] {
        let Some(count) = count else { continue };
        // The last point (100%) is drawn at the resolution the count gives.
        let cap = (count as f64).log10().max(1.0);
        let points: Vec<(f64, f64)> = dist
            .iter()
            .map(|p| (nines(p.percentile).min(cap), (p.value_us as f64).max(1.0)))
            .collect();
        all.extend(&points);
        series.push(Series {
            name: name.into(),
            points,
            style: if name == "upstream time" {
                Style::Dashed
            } else {
                Style::Solid
            },
        });
    }
    let x_max = all.iter().map(|p| p.0).fold(1.0, f64::max);
    // From the first percentile: the fastest 1% (often 0 µs cache hits)
    // would stretch a log axis over decades nobody looks at.
    let y_min = [&l.request_time_distribution, &l.upstream_time_distribution]
        .iter()
        .filter_map(|d| d.iter().find(|p| p.percentile >= 1.0))
        .map(|p| (p.value_us as f64).max(1.0))
        .fold(f64::INFINITY, f64::min);
    let y_min = if y_min.is_finite() { y_min } else { 1.0 };
    let y_max = all.iter().map(|p| p.1).fold(1.0, f64::max);
    let chart = Chart {
        title: "Latency by percentile".into(),
        x: Axis {
            label: "percentile".into(),
            scale: Scale::Linear,
            ticks: Ticks::Nines,
            min: 0.0,
            max: x_max,
        },
        y: Axis {
            label: "response time (log scale)".into(),
            scale: Scale::Log,
            ticks: Ticks::Micros,
            min: 10f64.powf(y_min.log10().floor()),
            max: 10f64.powf(y_max.log10().ceil()),
        },
        series,
    };
    h.push_str(&chart.to_svg("chart-latency"));
    let mut rows = Vec::new();
    for (name, p) in [
        ("request time", &l.request_time),
        ("upstream time", &l.upstream_time),
    ] {
        if let Some(p) = p {
            let mut row = vec![name.to_string()];
            row.extend(percentile_cells(p));
            rows.push(row);
        }
    }
    table(
        h,
        &["", "count", "mean", "p50", "p90", "p99", "p99.9", "max"],
        &[0],
        None,
        &rows,
    );
    h.push_str("<p class=\"note\">Request time: until the client had the answer. Upstream time: waiting for the origin (absent when a proxy cache answered). From HdrHistogram, 0.1% resolution.</p>\n");
    if !l.top_keys.is_empty() {
        let _ = writeln!(
            h,
            "<h3>Most requested keys{}</h3>",
            if l.top_keys_from == "all" {
                ""
            } else {
                " of the SHARDS sample"
            }
        );
        let rows: Vec<Vec<String>> = l
            .top_keys
            .iter()
            .map(|k| {
                let p = &k.latency;
                vec![
                    count(k.requests),
                    duration(p.p50_us),
                    duration(p.p90_us),
                    duration(p.p99_us),
                    duration(p.p999_us),
                    duration(p.max_us),
                    html_key(&k.key.bytes),
                ]
            })
            .collect();
        table(
            h,
            &["requests", "p50", "p90", "p99", "p99.9", "max", "key"],
            &[],
            Some(6),
            &rows,
        );
    }
    h.push_str("</section>\n");
}

fn curve_chart(
    id: &str,
    title: &str,
    unit: &str,
    dense: &[CurvePoint],
    asked: &[&CurvePoint],
) -> String {
    let x_max = dense.iter().map(|p| p.capacity).max().unwrap_or(2).max(2) as f64;
    let x_min = dense
        .iter()
        .map(|p| p.capacity)
        .filter(|&c| c > 0)
        .min()
        .unwrap_or(1) as f64;
    let (label, ticks) = if unit == "objects" {
        ("cache size (objects, log scale)", Ticks::Count)
    } else {
        ("cache size (bytes, log scale)", Ticks::Bytes)
    };
    let line = |f: fn(&CurvePoint) -> f64, pts: &[&CurvePoint]| -> Vec<(f64, f64)> {
        pts.iter().map(|p| (p.capacity as f64, f(p))).collect()
    };
    let dense_refs: Vec<&CurvePoint> = dense.iter().collect();
    let mut series = vec![
        Series {
            name: "hit ratio".into(),
            points: line(|p| p.hit_ratio, &dense_refs),
            style: Style::Solid,
        },
        Series {
            name: "byte hit ratio".into(),
            points: line(|p| p.byte_hit_ratio, &dense_refs),
            style: Style::Dashed,
        },
    ];
    if !asked.is_empty() {
        series.push(Series {
            name: "table sizes (hit ratio)".into(),
            points: line(|p| p.hit_ratio, asked),
            style: Style::Dots,
        });
    }
    let chart = Chart {
        title: title.into(),
        x: Axis {
            label: label.into(),
            scale: Scale::Log,
            ticks,
            min: x_min,
            max: x_max,
        },
        y: Axis {
            label: "hit ratio".into(),
            scale: Scale::Linear,
            ticks: Ticks::Percent,
            min: 0.0,
            max: 1.0,
        },
        series,
    };
    chart.to_svg(id)
}

fn hit_ratio(h: &mut String, r: &Report) {
    let c = &r.cache;
    h.push_str("<section id=\"hit-ratio\"><h2>6. LRU hit ratio by cache size</h2>\n");
    if c.method == "exact" {
        let _ = writeln!(
            h,
            "<p>Method: <b>exact</b>, Mattson stack distances over all {} requests: every figure is what an LRU cache of that size would have done on this traffic.</p>",
            count(c.sampled_requests)
        );
    } else {
        let _ = writeln!(
            h,
            "<p>Method: <b>SHARDS</b> spatial sampling at rate {} ({} requests of {} keys in the sample), with the SHARDS_adj correction. Expect about a point of error; use <code>--exact</code> for exact figures.</p>",
            c.sample_rate,
            count(c.sampled_requests),
            count(c.sampled_keys)
        );
    }
    let asked_objects: Vec<&CurvePoint> = r
        .hit_ratio_curve
        .iter()
        .filter(|p| p.unit == "objects")
        .collect();
    let asked_bytes: Vec<&CurvePoint> = r
        .hit_ratio_curve
        .iter()
        .filter(|p| p.unit == "bytes")
        .collect();
    if !c.curve_objects.is_empty() {
        h.push_str(&curve_chart(
            "chart-hit-ratio-objects",
            "Hit ratio by cache size in objects",
            "objects",
            &c.curve_objects,
            &asked_objects,
        ));
    }
    if !c.curve_bytes.is_empty() {
        h.push_str(&curve_chart(
            "chart-hit-ratio-bytes",
            "Hit ratio by cache size in bytes",
            "bytes",
            &c.curve_bytes,
            &asked_bytes,
        ));
    }
    let rows: Vec<Vec<String>> = r
        .hit_ratio_curve
        .iter()
        .map(|p| {
            let size = if p.unit == "objects" {
                CacheSize::Objects(p.capacity)
            } else {
                CacheSize::Bytes(p.capacity)
            };
            vec![
                format_capacity(size),
                percent(p.hit_ratio),
                percent(p.byte_hit_ratio),
            ]
        })
        .collect();
    table(
        h,
        &["cache size", "hit ratio", "byte hit ratio"],
        &[0],
        None,
        &rows,
    );
    if c.capacities_from == "working set" {
        h.push_str("<p class=\"note\">Sizes spread over the working set; choose others with <code>--cache-sizes</code>.</p>\n");
    }
    h.push_str("<h3>Cache size needed</h3>\n");
    let rows: Vec<Vec<String>> = c
        .needed
        .iter()
        .map(|n| {
            vec![
                percent(n.hit_ratio),
                n.objects.map_or("unreachable".into(), count),
                n.bytes.map_or("unreachable".into(), format_size),
            ]
        })
        .collect();
    table(h, &["hit ratio", "objects", "bytes"], &[0], None, &rows);
    let _ = writeln!(
        h,
        "<p class=\"note\">Best possible hit ratio: {}; the first request of every key misses whatever the size.</p></section>",
        percent(c.max_hit_ratio)
    );
}

fn warmup(h: &mut String, r: &Report) {
    h.push_str("<section id=\"warmup\"><h2>7. Warm-up benefit after a restart</h2>\n");
    let Some(w) = &r.warmup else {
        let _ = writeln!(
            h,
            "<p>Not simulated: {}.</p></section>",
            html(r.warmup_unavailable.as_deref().unwrap_or("no data"))
        );
        return;
    };
    let size = if w.cache_unit == "objects" {
        CacheSize::Objects(w.cache_capacity)
    } else {
        CacheSize::Bytes(w.cache_capacity)
    };
    let _ = writeln!(
        h,
        "<p>The cache restarts empty at <b>{}</b> and serves the traffic that followed, cold or warmed with the keys most requested before the restart. \
         Cache: LRU, <b>{}</b>: {}.{}</p>",
        html(&w.restart_at),
        html(&format_capacity(size)),
        html(&w.cache_size_from),
        if w.method == "shards" {
            " Figures are estimated from the SHARDS sample."
        } else {
            ""
        }
    );
    let series: Vec<Series> = w
        .rows
        .iter()
        .map(|row| {
            let mut points = vec![(0.0, 0.0)];
            points.extend(
                row.by_minute
                    .iter()
                    .enumerate()
                    .map(|(m, &o)| ((m + 1) as f64, o as f64)),
            );
            Series {
                name: if row.warm_top == 0 {
                    "cold".into()
                } else {
                    format!("warm top {}", count(row.warm_top))
                },
                points,
                style: if row.warm_top == 0 {
                    Style::Dashed
                } else {
                    Style::Solid
                },
            }
        })
        .collect();
    let y_max = w
        .rows
        .iter()
        .flat_map(|r| r.by_minute.iter())
        .copied()
        .max()
        .unwrap_or(0) as f64;
    let chart = Chart {
        title: "Origin requests after the restart".into(),
        x: Axis {
            label: "minutes after the restart".into(),
            scale: Scale::Linear,
            ticks: Ticks::Count,
            min: 0.0,
            max: 15.0,
        },
        y: Axis {
            label: "origin requests (cumulative)".into(),
            scale: Scale::Linear,
            ticks: Ticks::Count,
            min: 0.0,
            max: nice_max(y_max),
        },
        series,
    };
    h.push_str(&chart.to_svg("chart-warmup"));
    let mut header: Vec<String> = vec!["warmed".into(), "keys in cache".into()];
    header.extend(w.windows_minutes.iter().map(|m| format!("origin, {m} min")));
    header.push(format!(
        "saved, {} min",
        w.windows_minutes.last().copied().unwrap_or(0)
    ));
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let cold_last = w
        .rows
        .first()
        .and_then(|r| r.origin_requests.last().copied())
        .unwrap_or(0);
    let mut rows: Vec<Vec<String>> = w
        .rows
        .iter()
        .map(|row| {
            let mut cells = vec![
                if row.warm_top == 0 {
                    "cold".into()
                } else {
                    format!("top {}", count(row.warm_top))
                },
                count(row.warmed_keys),
            ];
            cells.extend(row.origin_requests.iter().map(|&o| count(o)));
            let saved = row.saved.last().copied().unwrap_or(0);
            cells.push(if row.warm_top == 0 {
                "-".into()
            } else {
                format!(
                    "{} ({})",
                    count(saved),
                    percent(saved as f64 / cold_last.max(1) as f64)
                )
            });
            cells
        })
        .collect();
    let mut total = vec!["all requests".to_string(), String::new()];
    total.extend(w.requests.iter().map(|&n| count(n)));
    total.push(String::new());
    rows.push(total);
    table(h, &header_refs, &[0], None, &rows);
    let _ = writeln!(
        h,
        "<p class=\"note\">{} keys were requested before the restart. Keys in cache: the warmed keys that fit.</p></section>",
        count(w.keys_before_restart)
    );
}
