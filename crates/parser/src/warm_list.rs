//! A ranking as a warm list: the documented document (`hotkeys_contract`)
//! that is the only thing `rank` hands to the warmer and to other tools.

use hotkeys_contract::routes::Routes;
use hotkeys_contract::timestamp::{format_rfc3339, now_micros};
use hotkeys_contract::warmlist::{ExcludedBy, FORMAT_VERSION, Stats, WarmEntry, WarmList};

use crate::rank::RankRun;

/// The warm list of a run. `routes` are the ones the keys were made with:
/// they give each entry its route name, origin path and TTL.
pub fn build(run: &RankRun, routes: Option<&Routes>) -> WarmList {
    let RankRun { ranking, scan } = run;
    let share = |x: u64| {
        if ranking.total == 0 {
            0.0
        } else {
            x as f64 / ranking.total as f64
        }
    };
    let mut scratch = routes.map(Routes::scratch);
    let mut cumulative = 0u64;
    let mut keys = Vec::with_capacity(ranking.keys.len());
    for (i, (key, stats)) in ranking.keys.iter().enumerate() {
        let metric = ranking.by.of(stats);
        cumulative += metric;
        let mut entry = WarmEntry {
            rank: i as u64 + 1,
            requests: stats.requests,
            bytes: stats.bytes,
            cost_us: stats.cost_us,
            share: share(metric),
            // Estimates are upper bounds: their running sum may pass the
            // true total, and a share of more than everything means nothing.
            cumulative_share: share(cumulative).min(1.0),
            latency_p50_us: stats.latency.quantile(0.5),
            latency_p99_us: stats.latency.quantile(0.99),
            requests_min: ranking.approximate.then(|| stats.requests - stats.error),
            requests_max: ranking.approximate.then_some(stats.requests),
            ..WarmEntry::default()
        };
        entry.set_key(key);
        match (routes, &stats.route, scratch.as_mut()) {
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
    let counts = &ranking.counts;
    WarmList {
        version: FORMAT_VERSION,
        generated_at: format_rfc3339(now_micros()),
        generator: format!("hotkeys {}", env!("CARGO_PKG_VERSION")),
        ranked_by: ranking.by.name().to_string(),
        approximate: ranking.approximate,
        stats: Stats {
            files: scan.inputs,
            lines: scan.lines,
            blank_lines: scan.blank_lines,
            matched: counts.matched,
            filtered: counts.filtered,
            excluded: counts.excluded.total(),
            excluded_by: ExcludedBy {
                path: counts.excluded.path,
                client: counts.excluded.client,
                bot: counts.excluded.bot,
            },
            malformed: scan.malformed,
            too_long: scan.too_long,
            no_target: counts.no_target,
            unrouted: counts.unrouted,
            partial_inputs: scan.problems.len() as u64,
            bytes_read: scan.bytes_read,
            distinct_keys: ranking.distinct_keys,
            first_time: scan.first_time.map(format_rfc3339),
            last_time: scan.last_time.map(format_rfc3339),
        },
        keys,
    }
}
