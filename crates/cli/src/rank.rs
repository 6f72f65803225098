//! `hotkeys rank`: scan, count, rank, write the warm list.

use anyhow::Result;
use hotkeys_contract::timestamp::{format_rfc3339, now_micros};
use hotkeys_contract::warmlist::{FORMAT_VERSION, Stats, WarmEntry, WarmList};
use hotkeys_parser::keytable::KeyStore;
use hotkeys_parser::rank::{KeyCounter, KeyRules, Ranking};
use hotkeys_parser::scan::{self, ScanReport};

use crate::config::RankConfig;
use crate::exit::Exit;
use crate::output;
use crate::progress::Progress;
use crate::summary::input_notes;
use crate::window::{newest_if_needed, resolve};

pub fn run(config: RankConfig) -> Result<Exit> {
    let RankConfig {
        inputs,
        scan: mut options,
        mut rules,
        since,
        until,
        top,
        by,
        format,
        output: output_path,
        quiet,
    } = config;
    let progress = Progress::start(&inputs, quiet);
    options.progress = progress.counter();

    if let Some(newest) = newest_if_needed(&inputs, &options, since, until)? {
        rules.filter.since = since.map(|b| resolve(b, newest));
        rules.filter.until = until.map(|b| resolve(b, newest));
    } else {
        rules.filter.since = since.map(|b| resolve(b, 0));
        rules.filter.until = until.map(|b| resolve(b, 0));
    }

    // Exact counting shares one key store between workers; bounded counting
    // trims each worker's own table.
    let store = KeyStore::default();
    let (counter, report) = scan::scan(&inputs, &options, || match rules.memory {
        Some(_) => KeyCounter::new(&rules),
        None => KeyCounter::with_store(&rules, &store),
    })?;
    progress.finish();
    let ranking = counter.into_ranking(by, top);
    report_to_stderr(&report, &ranking, quiet);

    let list = warm_list(&ranking, &report, &rules);
    output::write(&list, &format, output_path.as_deref(), quiet)?;

    Ok(if report.problems.is_empty() {
        Exit::Success
    } else {
        Exit::Partial
    })
}

/// Builds the warm list document from a ranking.
fn warm_list(ranking: &Ranking, report: &ScanReport, rules: &KeyRules) -> WarmList {
    let mut keys = Vec::with_capacity(ranking.keys.len());
    let mut cumulative = 0u64;
    let share = |x: u64| {
        if ranking.total == 0 {
            0.0
        } else {
            x as f64 / ranking.total as f64
        }
    };
    let mut scratch = rules.routes.as_ref().map(|r| r.scratch());
    for (i, (key, stats)) in ranking.keys.iter().enumerate() {
        let metric = match ranking.by {
            hotkeys_parser::rank::RankBy::Requests => stats.requests,
            hotkeys_parser::rank::RankBy::Bytes => stats.bytes,
            hotkeys_parser::rank::RankBy::Cost => stats.cost_us,
        };
        cumulative += metric;
        let mut entry = WarmEntry {
            rank: i as u64 + 1,
            requests: stats.requests,
            bytes: stats.bytes,
            cost_us: stats.cost_us,
            share: share(metric),
            cumulative_share: share(cumulative),
            latency_p50_us: stats.latency.quantile(0.5),
            latency_p99_us: stats.latency.quantile(0.99),
            requests_min: ranking.approximate.then(|| stats.requests - stats.error),
            requests_max: ranking.approximate.then_some(stats.requests),
            ..WarmEntry::default()
        };
        entry.set_key(key);
        match (&rules.routes, &stats.route, scratch.as_mut()) {
            (Some(routes), Some((route, target)), Some(scratch)) => {
                entry.route = Some(routes.name(*route).to_string());
                entry.set_origin_path(&routes.origin_path(*route, target, scratch));
                entry.ttl = routes.ttl(*route).map(|d| d.as_secs());
            }
            // Without routes the key is the request target itself.
            _ => entry.set_origin_path(key),
        }
        keys.push(entry);
    }
    WarmList {
        version: FORMAT_VERSION,
        generated_at: format_rfc3339(now_micros()),
        generator: format!("hotkeys {}", env!("CARGO_PKG_VERSION")),
        ranked_by: ranking.by.name().to_string(),
        approximate: ranking.approximate,
        stats: Stats {
            files: report.inputs,
            lines: report.lines,
            blank_lines: report.blank_lines,
            matched: ranking.counts.matched,
            filtered: ranking.counts.filtered,
            malformed: report.malformed,
            too_long: report.too_long,
            no_target: ranking.counts.no_target,
            unrouted: ranking.counts.unrouted,
            partial_inputs: report.problems.len() as u64,
            bytes_read: report.bytes_read,
            distinct_keys: ranking.distinct_keys,
            first_time: report.first_time.map(format_rfc3339),
            last_time: report.last_time.map(format_rfc3339),
        },
        keys,
    }
}

/// What a person should know about the run, on stderr. Input problems are
/// shown even with --quiet: they change the exit code.
fn report_to_stderr(report: &ScanReport, ranking: &Ranking, quiet: bool) {
    input_notes(report, quiet);
    if quiet {
        return;
    }
    let c = &ranking.counts;
    let span = match (report.first_time, report.last_time) {
        (Some(a), Some(b)) => format!(", {} to {}", format_rfc3339(a), format_rfc3339(b)),
        _ => String::new(),
    };
    let mut skipped = vec![format!("{} filtered", c.filtered)];
    if c.no_target > 0 {
        skipped.push(format!("{} without a target", c.no_target));
    }
    if c.unrouted > 0 {
        skipped.push(format!("{} matched no route", c.unrouted));
    }
    if report.malformed > 0 {
        skipped.push(format!("{} malformed", report.malformed));
    }
    if report.too_long > 0 {
        skipped.push(format!("{} too long", report.too_long));
    }
    if ranking.approximate {
        eprintln!(
            "hotkeys: counts are estimates: the keys did not fit in --max-memory; each count is an \
             upper bound, with its lower bound in requests_min (json, ndjson, csv) and ERROR (table)"
        );
    }
    eprintln!(
        "hotkeys: {} {}, {} lines{span}; {} requests counted under {} keys ({})",
        report.inputs,
        if report.inputs == 1 {
            "input"
        } else {
            "inputs"
        },
        report.lines,
        c.matched,
        ranking.distinct_keys,
        skipped.join(", ")
    );
}
