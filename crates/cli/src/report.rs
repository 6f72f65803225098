//! `hotkeys report`: the analysis (all in `hotkeys-capacity`), what a
//! person should know about it on stderr, and the outputs.

use anyhow::Result;
use hotkeys_capacity::analyze::{self, Analysis, group_digits};
use hotkeys_capacity::{latency, render};

use crate::config::ReportCommand;
use crate::destination::Destination;
use crate::exit::Exit;
use crate::progress::Progress;
use crate::summary::{counted_line, input_notes, nothing_read};
use crate::text::escape;

pub fn run(command: ReportCommand) -> Result<Exit> {
    let ReportCommand {
        mut config,
        format,
        output: output_path,
        hgrm,
        allow_empty,
        quiet,
    } = command;
    let destination = Destination::prepare(output_path.as_deref(), &config.inputs, "-o")?;
    let hgrm_destination = hgrm
        .as_deref()
        .map(|path| Destination::prepare(Some(path), &config.inputs, "--hgrm"))
        .transpose()?;
    let (progress, counter) = Progress::reading(&config.inputs, quiet);
    config.scan.progress = counter;

    let analysis = analyze::run(&config)?;
    progress.finish();
    report_to_stderr(&analysis, quiet);

    if let Some(why) = nothing_read(&analysis.scan, analysis.report.summary.requests_parsed)
        && !allow_empty
    {
        eprintln!(
            "hotkeys: error: nothing to report: {why}; no report was written{} (--allow-empty writes one)",
            if output_path.is_some() {
                " and -o was left as it was"
            } else {
                ""
            }
        );
        return Ok(Exit::Failure);
    }
    destination.write(|out| render::write(&analysis.report, format, out))?;
    if let (Some(path), Some(destination)) = (&hgrm, hgrm_destination) {
        let (histogram, which) = if analysis.request_time.is_empty() {
            (&analysis.upstream_time, "upstream time")
        } else {
            (&analysis.request_time, "request time")
        };
        if histogram.is_empty() && !quiet {
            eprintln!(
                "hotkeys: --hgrm: the log records no response times; {} holds an empty distribution",
                escape(path.as_os_str().as_encoded_bytes())
            );
        } else if !quiet && which == "upstream time" {
            eprintln!("hotkeys: --hgrm: no request times in the log; writing upstream times");
        }
        destination.write(|out| latency::write_hgrm(histogram, out))?;
    }
    Ok(if analysis.scan.problems.is_empty() {
        Exit::Success
    } else {
        Exit::Partial
    })
}

/// The run in a few lines on stderr: input, counts, how the curve was
/// computed and how long it took, warnings.
fn report_to_stderr(analysis: &Analysis, quiet: bool) {
    let scan = &analysis.scan;
    input_notes(scan, quiet);
    if quiet {
        return;
    }
    let r = &analysis.report;
    let s = &r.summary;
    eprintln!("{}", counted_line(scan, &analysis.counts, s.distinct_keys));
    let t = &analysis.timings;
    let secs = t.curve.as_secs_f64();
    let speed = if secs > 0.0 {
        format!(", {:.1}M requests/s", t.curve_requests as f64 / secs / 1e6)
    } else {
        String::new()
    };
    let c = &r.cache;
    if c.method == "exact" {
        eprintln!(
            "hotkeys: hit-ratio curve: exact (Mattson stack distances) over {} requests in {secs:.3}s{speed}",
            group_digits(t.curve_requests)
        );
    } else {
        eprintln!(
            "hotkeys: hit-ratio curve: SHARDS sample at rate {} ({} of {} requests, {} keys) in {secs:.3}s{speed}",
            c.sample_rate,
            group_digits(c.sampled_requests),
            group_digits(s.requests),
            group_digits(c.sampled_keys)
        );
    }
    for w in &r.warnings {
        eprintln!("hotkeys: warning: {}", escape(w.as_bytes()));
    }
}
