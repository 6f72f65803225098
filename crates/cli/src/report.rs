//! `hotkeys report`: arguments to a plain [`ReportConfig`], the analysis
//! (all in `hotkeys-capacity`), and the output.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use hotkeys_capacity::analyze::{self, Analysis, group_digits};
use hotkeys_capacity::config::{
    CacheSize, CurveMethod, ReportConfig, ReportFormat, RestartAt, parse_sample_rate,
    parse_warm_top,
};
use hotkeys_capacity::{latency, render};
use hotkeys_contract::timestamp::format_rfc3339;

use crate::args::{ReportArgs, ReportFormatArg};
use crate::config::{InputConfig, TimeBound, parse_time_bound};
use crate::exit::Exit;
use crate::output;
use crate::progress::Progress;
use crate::summary::input_notes;
use crate::text::escape;
use crate::window::{newest_if_needed, resolve};

/// Everything `hotkeys report` needs, without clap.
#[derive(Debug)]
pub struct ReportCommand {
    pub config: ReportConfig,
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
    pub format: ReportFormat,
    pub output: Option<PathBuf>,
    pub hgrm: Option<PathBuf>,
    pub quiet: bool,
}

impl ReportCommand {
    pub fn from_args(args: ReportArgs) -> Result<ReportCommand> {
        let InputConfig {
            inputs,
            scan,
            rules,
            since,
            until,
        } = InputConfig::from_args(args.input, "report")?;
        let cache_sizes = match &args.cache_sizes {
            Some(list) => CacheSize::parse_list(list).context("--cache-sizes")?,
            None => Vec::new(),
        };
        let method = match (&args.sample_rate, args.exact) {
            (_, true) => CurveMethod::Exact,
            (Some(r), false) => {
                CurveMethod::Sampled(parse_sample_rate(r).context("--sample-rate")?)
            }
            (None, false) => CurveMethod::Auto {
                max_exact_requests: args.max_exact_requests,
            },
        };
        let restart_at = match args.restart_at.as_deref() {
            None | Some("middle") => RestartAt::Middle,
            Some(text) => match parse_time_bound(text, "--restart-at")? {
                TimeBound::At(t) => RestartAt::At(t),
                TimeBound::BeforeNewest(d) => {
                    RestartAt::BeforeLast(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
                }
            },
        };
        let warm_top = parse_warm_top(&args.warm_top).context("--warm-top")?;
        let warm_cache_size = args
            .warm_cache_size
            .as_deref()
            .map(CacheSize::parse)
            .transpose()
            .context("--warm-cache-size")?;
        if let Some(path) = &args.hgrm
            && args.output.as_ref() == Some(path)
        {
            return Err(anyhow!("--hgrm and -o name the same file; give two files"));
        }
        Ok(ReportCommand {
            config: ReportConfig {
                inputs,
                scan,
                rules,
                cache_sizes,
                method,
                restart_at,
                warm_top,
                warm_cache_size,
                top_keys: args.top_keys,
            },
            since,
            until,
            format: match args.output_format {
                ReportFormatArg::Text => ReportFormat::Text,
                ReportFormatArg::Json => ReportFormat::Json,
                ReportFormatArg::Html => ReportFormat::Html,
            },
            output: args.output,
            hgrm: args.hgrm,
            quiet: args.quiet,
        })
    }
}

pub fn run(command: ReportCommand) -> Result<Exit> {
    let ReportCommand {
        mut config,
        since,
        until,
        format,
        output: output_path,
        hgrm,
        quiet,
    } = command;
    let progress = Progress::start(&config.inputs, quiet);
    config.scan.progress = progress.counter();
    let newest = newest_if_needed(&config.inputs, &config.scan, since, until)?.unwrap_or(0);
    config.rules.filter.since = since.map(|b| resolve(b, newest));
    config.rules.filter.until = until.map(|b| resolve(b, newest));

    let analysis = analyze::run(&config)?;
    progress.finish();
    report_to_stderr(&analysis, quiet);

    output::write_with(output_path.as_deref(), |out| {
        render::write(&analysis.report, format, out)
    })?;
    if let Some(path) = &hgrm {
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
        output::write_with(Some(path), |out| latency::write_hgrm(histogram, out))?;
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
    let span = match (scan.first_time, scan.last_time) {
        (Some(a), Some(b)) => format!(", {} to {}", format_rfc3339(a), format_rfc3339(b)),
        _ => String::new(),
    };
    let mut skipped = vec![format!("{} filtered", s.filtered)];
    if s.no_target > 0 {
        skipped.push(format!("{} without a target", s.no_target));
    }
    if s.unrouted > 0 {
        skipped.push(format!("{} matched no route", s.unrouted));
    }
    if scan.malformed > 0 {
        skipped.push(format!("{} malformed", scan.malformed));
    }
    if scan.too_long > 0 {
        skipped.push(format!("{} too long", scan.too_long));
    }
    eprintln!(
        "hotkeys: {} inputs, {} lines{span}; {} requests counted under {} keys ({})",
        scan.inputs,
        scan.lines,
        s.requests,
        s.distinct_keys,
        skipped.join(", ")
    );
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
