//! Writing a [`Report`]: aligned text for a terminal, JSON for programs,
//! one self-contained HTML page for people.

pub mod html;
pub mod json;
pub(crate) mod svg;
pub(crate) mod table;
pub mod text;

use std::io::{self, Write};

use crate::analyze::group_digits;
use crate::config::ReportFormat;
use crate::report::Report;

/// Writes `report` in `format`.
pub fn write(report: &Report, format: ReportFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        ReportFormat::Text => text::write(report, out),
        ReportFormat::Json => json::write(report, out),
        ReportFormat::Html => html::write(report, out),
    }
}

/// The few sentences a reader wants first, in plain text (no log data in
/// them, so they need no escaping).
pub fn highlights(r: &Report) -> Vec<String> {
    use hotkeys_contract::size::format_size;
    let mut out = Vec::new();
    let c = &r.cache;
    if r.summary.requests == 0 {
        return vec!["No request passed the filters: nothing to analyse.".into()];
    }
    let reachable: Vec<String> = c
        .needed
        .iter()
        .filter_map(|n| match (n.objects, n.bytes) {
            (Some(o), Some(b)) => Some(format!(
                "{} needs {} objects or {}",
                percent(n.hit_ratio),
                count(o),
                format_size(b)
            )),
            (Some(o), None) => Some(format!(
                "{} needs {} objects",
                percent(n.hit_ratio),
                count(o)
            )),
            _ => None,
        })
        .collect();
    let best = format!(
        "the best possible is {} since {} of requests are the first for their key",
        percent(c.max_hit_ratio),
        percent(1.0 - c.max_hit_ratio)
    );
    out.push(if reachable.is_empty() {
        format!("LRU hit ratio: no size reaches 80%; {best}.")
    } else {
        format!("LRU hit ratio: {}; {best}.", reachable.join(", "))
    });
    let p = &r.popularity;
    if let Some(top) = p.coverage.iter().find(|c| c.top == 100) {
        let zipf = p.zipf.as_ref().map_or(String::new(), |z| {
            format!(" (Zipf exponent {:.2})", z.exponent)
        });
        out.push(format!(
            "Popularity: the top {} keys get {} of requests{zipf}; {} of keys are requested only once.",
            count(top.keys),
            percent(top.requests_share),
            percent(p.one_hit_wonders.share_of_keys)
        ));
    }
    if let Some(rates) = &r.rates {
        out.push(format!(
            "Rate: peak {} requests per minute at {} ({:.1} per second); median minute {}, busiest hour {}.",
            count(rates.per_minute.peak),
            rates.per_minute.peak_at,
            rates.per_minute.peak as f64 / 60.0,
            count(rates.per_minute.p50),
            count(rates.per_hour.peak)
        ));
    }
    if let Some(l) = r
        .latency
        .request_time
        .as_ref()
        .or(r.latency.upstream_time.as_ref())
    {
        let which = if r.latency.request_time.is_some() {
            "Request"
        } else {
            "Upstream"
        };
        out.push(format!(
            "{which} time: p50 {}, p99 {}, max {}.",
            duration(l.p50_us),
            duration(l.p99_us),
            duration(l.max_us)
        ));
    }
    if let Some(w) = &r.warmup {
        let cold = w
            .rows
            .first()
            .and_then(|r| r.origin_requests.last().copied())
            .unwrap_or(0);
        let best = w
            .rows
            .iter()
            .map(|r| r.saved.last().copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        // The shortest list that saves nearly as much as the longest.
        if let Some(row) = w
            .rows
            .iter()
            .skip(1)
            .find(|r| r.saved.last().copied().unwrap_or(0) as f64 >= 0.95 * best as f64)
            .filter(|_| best > 0)
        {
            let saved = row.saved.last().copied().unwrap_or(0);
            out.push(format!(
                "Warm-up: warming the top {} keys saves {} of {} origin requests ({}) in the first {} minutes after a restart.",
                count(row.warm_top),
                count(saved),
                count(cold),
                percent(saved as f64 / cold.max(1) as f64),
                w.windows_minutes.last().copied().unwrap_or(0)
            ));
        }
    }
    out
}

/// `0.1234` as `12.3%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Microseconds as `850µs`, `12.3ms`, `4.20s`.
pub fn duration(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    group_digits(n)
}

/// Seconds as `45s`, `12.5 min`, `3.2 h`, `4.0 days`.
pub fn span(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.0}s")
    } else if seconds < 3600.0 {
        format!("{:.1} min", seconds / 60.0)
    } else if seconds < 2.0 * 86_400.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} days", seconds / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_for_people() {
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(duration(850), "850µs");
        assert_eq!(duration(12_345), "12.3ms");
        assert_eq!(duration(4_200_000), "4.20s");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(span(30.0), "30s");
        assert_eq!(span(4.0 * 86_400.0), "4.0 days");
    }
}
