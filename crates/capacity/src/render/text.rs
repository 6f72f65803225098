//! The report for a terminal: one section per question, aligned tables,
//! keys escaped.

use std::io::{self, Write};

use hotkeys_contract::size::format_size;

use crate::analyze::format_capacity;
use crate::config::CacheSize;
use crate::escape::terminal;
use crate::latency::Percentiles;
use crate::render::table::{Align, Table};
use crate::render::{count, duration, percent, span};
use crate::report::{MixEntry, Report};
use crate::warmup::Warmup;

use Align::{Left, Right};

/// Writes `r` as text for a terminal: aligned tables, keys escaped.
pub fn write(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    summary(r, out)?;
    if r.summary.requests == 0 {
        return Ok(());
    }
    rates(r, out)?;
    popularity(r, out)?;
    sizes(r, out)?;
    latency(r, out)?;
    hit_ratio(r, out)?;
    warmup(r, out)?;
    if !r.warnings.is_empty() {
        heading(out, "Warnings")?;
        for w in &r.warnings {
            writeln!(out, "  - {}", terminal(w.as_bytes()))?;
        }
    }
    Ok(())
}

fn heading(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(
        out,
        "\n{}\n{}",
        title.to_uppercase(),
        "=".repeat(title.chars().count())
    )
}

fn field(out: &mut dyn Write, name: &str, value: &str) -> io::Result<()> {
    writeln!(out, "  {name:<18} {value}")
}

fn mix_line(entries: &[MixEntry]) -> String {
    let shown: Vec<String> = entries
        .iter()
        .take(8)
        .map(|e| format!("{} {}", terminal(e.name.as_bytes()), percent(e.share)))
        .collect();
    let more = entries.len().saturating_sub(8);
    if more > 0 {
        format!("{}, {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn summary(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    writeln!(
        out,
        "hotkeys report: {} requests over {} keys",
        count(s.requests),
        count(s.distinct_keys)
    )?;
    writeln!(out)?;
    for line in crate::render::highlights(r) {
        writeln!(out, "  * {line}")?;
    }
    heading(out, "1. Summary")?;
    let mut skipped = vec![format!("{} filtered", count(s.filtered))];
    if s.excluded > 0 {
        skipped.push(format!(
            "{} excluded ({})",
            count(s.excluded),
            s.excluded_by.describe(count)
        ));
    }
    if s.no_target > 0 {
        skipped.push(format!("{} without a target", count(s.no_target)));
    }
    if s.unrouted > 0 {
        skipped.push(format!("{} matched no route", count(s.unrouted)));
    }
    field(
        out,
        "requests",
        &format!(
            "{} counted of {} parsed ({})",
            count(s.requests),
            count(s.requests_parsed),
            skipped.join(", ")
        ),
    )?;
    field(out, "distinct keys", &count(s.distinct_keys))?;
    field(out, "bytes requested", &format_size(s.bytes_requested))?;
    field(
        out,
        "working set",
        &format!(
            "{} objects, {} (each key once, at its largest response)",
            count(s.working_set_objects),
            format_size(s.working_set_bytes)
        ),
    )?;
    match (&s.first_time, &s.last_time, s.span_seconds) {
        (Some(a), Some(b), Some(secs)) => {
            field(out, "time span", &format!("{a} to {b} ({})", span(secs)))?
        }
        _ => field(out, "time span", "unknown (no request has a time)")?,
    }
    field(out, "methods", &mix_line(&s.methods))?;
    field(out, "statuses", &mix_line(&s.statuses))?;
    writeln!(
        out,
        "  (methods and statuses: every parsed request, before filtering)"
    )
}

fn rates(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    heading(out, "2. Request rate")?;
    let Some(rates) = &r.rates else {
        return writeln!(out, "  no request has a time");
    };
    let mut t = Table::new(
        &["", "MEAN", "P50", "P99", "PEAK", "PEAK AT"],
        &[Left, Right, Right, Right, Right, Left],
    );
    for (name, s) in [
        ("per minute", &rates.per_minute),
        ("per hour", &rates.per_hour),
    ] {
        t.row(vec![
            name.into(),
            format!("{:.1}", s.mean),
            count(s.p50),
            count(s.p99),
            count(s.peak),
            s.peak_at.clone(),
        ]);
    }
    t.write(out)?;
    writeln!(
        out,
        "  (requests per period; quiet periods count as zero; peak {:.1}/s)",
        rates.per_minute.peak as f64 / 60.0
    )
}

fn popularity(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let p = &r.popularity;
    heading(out, "3. Popularity")?;
    let mut t = Table::new(
        &["TOP", "KEYS", "REQUESTS", "BYTES"],
        &[Left, Right, Right, Right],
    );
    for c in &p.coverage {
        t.row(vec![
            count(c.top),
            count(c.keys),
            percent(c.requests_share),
            percent(c.bytes_share),
        ]);
    }
    t.write(out)?;
    let o = &p.one_hit_wonders;
    writeln!(
        out,
        "\n  one-hit wonders: {} keys requested once ({} of keys, {} of requests)",
        count(o.keys),
        percent(o.share_of_keys),
        percent(o.share_of_requests)
    )?;
    match &p.zipf {
        Some(z) => writeln!(
            out,
            "  Zipf exponent {:.2} (R² {:.3}; fitted on ranks {}-{}, the keys with at least {} requests)",
            z.exponent,
            z.r_squared,
            count(z.fit_from_rank),
            count(z.fit_to_rank),
            crate::popularity::MIN_FIT_COUNT
        )?,
        None => writeln!(
            out,
            "  Zipf exponent: not fitted (too few keys with at least {} requests)",
            crate::popularity::MIN_FIT_COUNT
        )?,
    }
    writeln!(out, "\n  Keys by request count:")?;
    let mut f = Table::new(&["REQUESTS", "KEYS", "OF REQUESTS"], &[Left, Right, Right]);
    let total: u64 = p.frequency.iter().map(|b| b.requests).sum();
    for b in &p.frequency {
        let range = if b.min_requests == b.max_requests {
            count(b.min_requests)
        } else {
            format!("{}-{}", count(b.min_requests), count(b.max_requests))
        };
        f.row(vec![
            range,
            count(b.keys),
            percent(b.requests as f64 / total.max(1) as f64),
        ]);
    }
    f.write(out)?;
    if !r.top_keys.is_empty() {
        writeln!(out, "\n  Most requested keys:")?;
        let mut k = Table::new(
            &["RANK", "REQUESTS", "SHARE", "BYTES", "SIZE", "KEY"],
            &[Right, Right, Right, Right, Right, Left],
        );
        for key in &r.top_keys {
            k.row(vec![
                key.rank.to_string(),
                count(key.requests),
                percent(key.share),
                format_size(key.bytes),
                format_size(key.object_size),
                terminal(&key.key.bytes),
            ]);
        }
        k.write(out)?;
    }
    Ok(())
}

fn sizes(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.sizes;
    heading(out, "4. Response sizes")?;
    let mut t = Table::new(
        &["", "COUNT", "MEAN", "P50", "P90", "P99", "MAX"],
        &[Left, Right, Right, Right, Right, Right, Right],
    );
    for (name, d) in [("by request", &s.by_request), ("by object", &s.by_object)] {
        t.row(vec![
            name.into(),
            count(d.count),
            format_size(d.mean.round() as u64),
            format_size(d.p50),
            format_size(d.p90),
            format_size(d.p99),
            format_size(d.max),
        ]);
    }
    t.write(out)?;
    writeln!(out, "  (an object is a key at its largest response)\n")?;
    let mut b = Table::new(&["SIZE", "REQUESTS", "OBJECTS"], &[Left, Right, Right]);
    for bucket in s.buckets.iter().filter(|b| b.requests + b.objects > 0) {
        let range = match (bucket.min, bucket.max) {
            (0, Some(1)) => "0 B".to_string(),
            (lo, Some(hi)) => format!("{} - {}", format_size(lo), format_size(hi)),
            (lo, None) => format!("{} and more", format_size(lo)),
        };
        b.row(vec![range, count(bucket.requests), count(bucket.objects)]);
    }
    b.write(out)
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

fn latency(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let l = &r.latency;
    heading(out, "5. Latency")?;
    if l.request_time.is_none() && l.upstream_time.is_none() {
        return writeln!(out, "  the log records no response times");
    }
    let header = ["", "COUNT", "MEAN", "P50", "P90", "P99", "P99.9", "MAX"];
    let align = [Left, Right, Right, Right, Right, Right, Right, Right];
    let mut t = Table::new(&header, &align);
    for (name, p) in [
        ("request time", &l.request_time),
        ("upstream time", &l.upstream_time),
    ] {
        if let Some(p) = p {
            let mut row = vec![name.to_string()];
            row.extend(percentile_cells(p));
            t.row(row);
        }
    }
    t.write(out)?;
    if !l.top_keys.is_empty() {
        let scope = if l.top_keys_from == "all" {
            "Most requested keys"
        } else {
            "Most requested keys of the SHARDS sample"
        };
        writeln!(out, "\n  {scope} (request time, else upstream time):")?;
        let mut k = Table::new(
            &["REQUESTS", "P50", "P90", "P99", "P99.9", "MAX", "KEY"],
            &[Right, Right, Right, Right, Right, Right, Left],
        );
        for key in &l.top_keys {
            let p = &key.latency;
            k.row(vec![
                count(key.requests),
                duration(p.p50_us),
                duration(p.p90_us),
                duration(p.p99_us),
                duration(p.p999_us),
                duration(p.max_us),
                terminal(&key.key.bytes),
            ]);
        }
        k.write(out)?;
    }
    Ok(())
}

fn hit_ratio(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let c = &r.cache;
    heading(out, "6. LRU hit ratio")?;
    if c.method == "exact" {
        writeln!(
            out,
            "  method: exact (Mattson stack distances over all {} requests)",
            count(c.sampled_requests)
        )?;
    } else {
        writeln!(
            out,
            "  method: SHARDS sample at rate {} ({} requests, {} keys; adjusted with SHARDS_adj)",
            c.sample_rate,
            count(c.sampled_requests),
            count(c.sampled_keys)
        )?;
    }
    let mut t = Table::new(
        &["CAPACITY", "HIT RATIO", "BYTE HIT RATIO"],
        &[Left, Right, Right],
    );
    for p in &r.hit_ratio_curve {
        let size = if p.unit == "objects" {
            CacheSize::Objects(p.capacity)
        } else {
            CacheSize::Bytes(p.capacity)
        };
        t.row(vec![
            format_capacity(size),
            percent(p.hit_ratio),
            percent(p.byte_hit_ratio),
        ]);
    }
    t.write(out)?;
    if c.capacities_from == "working set" {
        writeln!(
            out,
            "  (sizes spread over the working set; choose others with --cache-sizes)\n"
        )?;
    } else {
        writeln!(out)?;
    }
    let mut n = Table::new(
        &["FOR HIT RATIO", "OBJECTS", "BYTES"],
        &[Left, Right, Right],
    );
    for need in &c.needed {
        n.row(vec![
            percent(need.hit_ratio),
            need.objects.map_or("unreachable".into(), count),
            need.bytes.map_or("unreachable".into(), format_size),
        ]);
    }
    n.write(out)?;
    writeln!(
        out,
        "  best possible hit ratio: {} (the first request of every key misses)",
        percent(c.max_hit_ratio)
    )
}

fn warmup(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    heading(out, "7. Warm-up after a restart")?;
    let Some(w) = &r.warmup else {
        return writeln!(
            out,
            "  not simulated: {}",
            r.warmup_unavailable.as_deref().unwrap_or("no data")
        );
    };
    warmup_table(w, out)
}

fn warmup_table(w: &Warmup, out: &mut dyn Write) -> io::Result<()> {
    let size = if w.cache_unit == "objects" {
        CacheSize::Objects(w.cache_capacity)
    } else {
        CacheSize::Bytes(w.cache_capacity)
    };
    writeln!(
        out,
        "  restart at {}; LRU cache of {}: {}{}",
        w.restart_at,
        format_capacity(size),
        w.cache_size_from,
        if w.method == "shards" {
            "; estimated from the SHARDS sample"
        } else {
            ""
        }
    )?;
    let mut header = vec!["WARMED".to_string(), "KEYS".to_string()];
    for m in &w.windows_minutes {
        header.push(format!("ORIGIN {m} MIN"));
    }
    header.push(format!(
        "SAVED {} MIN",
        w.windows_minutes.last().copied().unwrap_or(0)
    ));
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut align = vec![Left];
    align.resize(header.len(), Right);
    let mut t = Table::new(&header_refs, &align);
    let cold_last = w
        .rows
        .first()
        .and_then(|r| r.origin_requests.last().copied())
        .unwrap_or(0);
    for row in &w.rows {
        let name = if row.warm_top == 0 {
            "cold".to_string()
        } else {
            format!("top {}", count(row.warm_top))
        };
        let mut cells = vec![name, count(row.warmed_keys)];
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
        t.row(cells);
    }
    let mut total = vec!["requests".to_string(), String::new()];
    total.extend(w.requests.iter().map(|&n| count(n)));
    total.push(String::new());
    t.row(total);
    t.write(out)?;
    writeln!(
        out,
        "  (origin requests in the first minutes after the restart; warmed: the keys most\n   requested before it that fit in the cache; {} keys were requested before it)",
        count(w.keys_before_restart)
    )
}
