//! The warm list in each of its output formats, including the table for
//! people.

use std::io::{self, Write};

use anyhow::Result;
use hotkeys_contract::size::format_size;
use hotkeys_contract::warmlist::{self, WarmList};

use crate::config::OutputFormat;
use crate::destination::Destination;
use crate::text::escape;

/// Writes `list` to `destination` in `format`.
pub fn write(
    list: &WarmList,
    format: &OutputFormat,
    destination: Destination,
    quiet: bool,
) -> Result<()> {
    let Some(skipped) = destination.write(|out| render(list, format, out))? else {
        return Ok(());
    };
    if skipped > 0 && !quiet {
        eprintln!(
            "hotkeys: {skipped} keys contain a line break and were left out of the line-based output \
             (the json, ndjson and csv formats keep them)"
        );
    }
    Ok(())
}

/// Writes the list; returns how many keys the format could not hold.
fn render(list: &WarmList, format: &OutputFormat, out: &mut dyn Write) -> io::Result<u64> {
    match format {
        OutputFormat::Table => table(list, out).map(|()| 0),
        OutputFormat::Json => warmlist::write_json(list, out).map(|()| 0),
        OutputFormat::Ndjson => warmlist::write_ndjson(list, out).map(|()| 0),
        OutputFormat::Csv => warmlist::write_csv(list, out).map(|()| 0),
        OutputFormat::Keys => warmlist::write_keys(list, out),
        OutputFormat::Urls { base } => warmlist::write_urls(list, base, out),
    }
}

/// Aligned columns for people. Columns without data (latency in a log that
/// has none, routes when no routes file is used) are left out.
fn table(list: &WarmList, out: &mut dyn Write) -> io::Result<()> {
    let has_latency = list.keys.iter().any(|k| k.latency_p50_us.is_some());
    let has_routes = list.keys.iter().any(|k| k.route.is_some());
    let by_cost = list.ranked_by == "cost";

    let mut header: Vec<&str> = vec!["RANK", "REQUESTS"];
    if list.approximate {
        header.push("ERROR");
    }
    header.extend(["SHARE", "CUMUL", "BYTES"]);
    if by_cost || has_latency {
        header.push("COST");
    }
    if has_latency {
        header.extend(["P50", "P99"]);
    }
    if has_routes {
        header.push("ROUTE");
    }
    header.push("KEY");

    let rows: Vec<Vec<String>> = list
        .keys
        .iter()
        .map(|k| {
            let mut row = vec![k.rank.to_string(), k.requests.to_string()];
            if list.approximate {
                let low = k.requests_min.unwrap_or(k.requests);
                row.push(format!("-{}", k.requests - low));
            }
            row.extend([
                percent(k.share),
                percent(k.cumulative_share),
                format_size(k.bytes),
            ]);
            if by_cost || has_latency {
                row.push(duration(Some(k.cost_us)));
            }
            if has_latency {
                row.push(duration(k.latency_p50_us));
                row.push(duration(k.latency_p99_us));
            }
            if has_routes {
                row.push(
                    k.route
                        .as_deref()
                        .map_or("-".into(), |r| escape(r.as_bytes())),
                );
            }
            let key = k.key_bytes().unwrap_or_else(|_| k.key.clone().into_bytes());
            row.push(escape(&key));
            row
        })
        .collect();

    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let last = header.len() - 1;
    let line = |cells: &[&str], out: &mut dyn Write| -> io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                text.push_str(cell);
            } else if i == last - usize::from(has_routes) && has_routes {
                // Route names read better left-aligned.
                text.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                text.push_str(&format!("{cell:>w$}  ", w = widths[i]));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(&header, out)?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&cells, out)?;
    }
    if rows.is_empty() {
        writeln!(
            out,
            "(no keys: nothing in the input passed the filters; see the summary above)"
        )?;
    }
    Ok(())
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Microseconds for people: `850µs`, `12.3ms`, `4.20s`.
fn duration(us: Option<u64>) -> String {
    match us {
        None => "-".into(),
        Some(us) if us < 1_000 => format!("{us}µs"),
        Some(us) if us < 1_000_000 => format!("{:.1}ms", us as f64 / 1e3),
        Some(us) => format!("{:.2}s", us as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotkeys_contract::warmlist::WarmEntry;

    fn list(keys: &[(&[u8], u64, Option<u64>)]) -> WarmList {
        let total: u64 = keys.iter().map(|k| k.1).sum();
        let mut cum = 0;
        WarmList {
            keys: keys
                .iter()
                .enumerate()
                .map(|(i, (key, n, p50))| {
                    cum += n;
                    let mut e = WarmEntry {
                        rank: i as u64 + 1,
                        requests: *n,
                        bytes: n * 1000,
                        share: *n as f64 / total as f64,
                        cumulative_share: cum as f64 / total as f64,
                        latency_p50_us: *p50,
                        latency_p99_us: *p50,
                        ..WarmEntry::default()
                    };
                    e.set_key(key);
                    e
                })
                .collect(),
            ..WarmList::new("requests")
        }
    }

    fn table_text(l: &WarmList) -> String {
        let mut out = Vec::new();
        table(l, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_aligns_escapes_and_drops_empty_columns() {
        let text = table_text(&list(&[(b"/a", 30, None), (b"/\x1b[31mred", 10, None)]));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "RANK  REQUESTS  SHARE   CUMUL     BYTES  KEY");
        assert_eq!(lines[1], "   1        30  75.0%   75.0%  29.3 KiB  /a");
        assert!(lines[2].ends_with("/\\x1b[31mred"), "{}", lines[2]);
        assert!(!text.contains('\x1b'));

        let timed = table_text(&list(&[(b"/a", 3, Some(1_500))]));
        assert!(
            timed.starts_with("RANK  REQUESTS   SHARE   CUMUL    BYTES  COST    P50    P99  KEY\n"),
            "{timed}"
        );
        assert!(timed.contains("1.5ms"), "{timed}");
    }

    #[test]
    fn empty_table_says_why() {
        assert!(table_text(&list(&[])).contains("no keys"));
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(duration(Some(850)), "850µs");
        assert_eq!(duration(Some(12_345)), "12.3ms");
        assert_eq!(duration(Some(4_200_000)), "4.20s");
        assert_eq!(duration(None), "-");
    }
}
