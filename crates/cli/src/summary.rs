//! What every command tells a person on stderr about the input it read.

use hotkeys_contract::timestamp::format_rfc3339;
use hotkeys_parser::keys::KeyCounts;
use hotkeys_parser::scan::ScanReport;

use crate::text::escape;

/// Why a run found no request at all, if it did not: then a nightly job
/// must fail and keep its last good output rather than replace it with an
/// empty one. `requests` is how many requests were parsed.
pub fn nothing_read(report: &ScanReport, requests: u64) -> Option<String> {
    if requests > 0 {
        return None;
    }
    let unusable = report.malformed + report.too_long;
    Some(if report.inputs == 0 {
        "no input files (an empty directory?)".to_owned()
    } else if report.lines == 0 && report.problems.len() as u64 == report.inputs {
        "no input could be read".to_owned()
    } else if unusable > 0 && unusable + report.blank_lines == report.lines {
        format!("every line of the input was malformed or too long ({unusable} lines)")
    } else {
        "the input holds no request lines".to_owned()
    })
}

/// The run in one line: inputs, lines, time span, what was counted and
/// what was skipped and why. `rank` and `report` print the same line.
pub fn counted_line(report: &ScanReport, counts: &KeyCounts, distinct_keys: u64) -> String {
    let span = match (report.first_time, report.last_time) {
        (Some(a), Some(b)) => format!(", {} to {}", format_rfc3339(a), format_rfc3339(b)),
        _ => String::new(),
    };
    let mut skipped = vec![format!("{} filtered", counts.filtered)];
    let excluded = &counts.excluded;
    if excluded.total() > 0 {
        let by: Vec<String> = [
            ("path", excluded.path),
            ("client", excluded.client),
            ("bot", excluded.bot),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{what} {n}"))
        .collect();
        skipped.push(format!("{} excluded ({})", excluded.total(), by.join(", ")));
    }
    if counts.no_target > 0 {
        skipped.push(format!("{} without a target", counts.no_target));
    }
    if counts.unrouted > 0 {
        skipped.push(format!("{} matched no route", counts.unrouted));
    }
    if report.malformed > 0 {
        skipped.push(format!("{} malformed", report.malformed));
    }
    if report.too_long > 0 {
        skipped.push(format!("{} too long", report.too_long));
    }
    format!(
        "hotkeys: {} {}, {} lines{span}; {} requests counted under {} keys ({})",
        report.inputs,
        if report.inputs == 1 {
            "input"
        } else {
            "inputs"
        },
        report.lines,
        counts.matched,
        distinct_keys,
        skipped.join(", ")
    )
}

/// Inputs that could not be read completely (even with `--quiet`: they
/// change the exit code), then the formats used and the first malformed
/// lines.
pub fn input_notes(report: &ScanReport, quiet: bool) {
    for p in &report.problems {
        eprintln!("hotkeys: {}: {}", escape(p.input.as_bytes()), p.message);
    }
    if quiet {
        return;
    }
    for group in format_groups(report) {
        eprintln!("hotkeys: {group}");
    }
    for m in &report.malformed_samples {
        eprintln!(
            "hotkeys: {}:{}: malformed line: {}",
            escape(m.input.as_bytes()),
            m.line,
            m.reason
        );
    }
    let malformed_total = report.malformed;
    if malformed_total > report.malformed_samples.len() as u64 {
        eprintln!(
            "hotkeys: {} malformed lines in all (the first {} shown; --strict stops at the first)",
            malformed_total,
            report.malformed_samples.len()
        );
    }
}

/// "format combined (detected) for a.log, b.log and 3 more".
fn format_groups(report: &ScanReport) -> Vec<String> {
    let mut groups: Vec<(String, bool, Vec<&str>)> = Vec::new();
    for f in &report.formats {
        match groups
            .iter_mut()
            .find(|(name, d, _)| *name == f.format && *d == f.detected)
        {
            Some(g) => g.2.push(&f.input),
            None => groups.push((f.format.clone(), f.detected, vec![&f.input])),
        }
    }
    groups
        .into_iter()
        .map(|(name, detected, inputs)| {
            let how = if detected { " (detected)" } else { "" };
            let shown: Vec<String> = inputs
                .iter()
                .take(2)
                .map(|i| escape(i.as_bytes()))
                .collect();
            let more = match inputs.len() {
                n if n > 2 => format!(" and {} more", n - 2),
                _ => String::new(),
            };
            format!("log format {name}{how} for {}{more}", shown.join(", "))
        })
        .collect()
}
