//! What every command tells a person on stderr about the input it read.

use hotkeys_parser::scan::ScanReport;

use crate::text::escape;

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
