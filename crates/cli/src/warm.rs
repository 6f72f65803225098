//! `hotkeys warm`: reads the warm list, prints the dry-run plan or runs
//! the warmer (all in `hotkeys-warmer`) with Ctrl-C, SIGTERM and SIGHUP as
//! a graceful stop, and reports the summary.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use hotkeys_contract::read_warm_list;
use hotkeys_contract::size::format_size;
use hotkeys_warmer::ketama::{Continuum, ServerAddr};
use hotkeys_warmer::{Action, Control, Outcome, Plan, StopReason, Summary};

use crate::config::{ListInput, WarmCommand};
use crate::destination::Destination;
use crate::exit::Exit;
use crate::progress::Progress;
use crate::text::escape;

pub fn run(options: WarmCommand) -> Result<Exit> {
    let control = Control::new();
    let running = stop_on_signals(control.clone());
    let summary_destination = options
        .summary
        .as_deref()
        .map(|path| Destination::prepare(Some(path), &[], "--summary"))
        .transpose()?;
    let bytes = read_input(&options.input)?;
    let list = read_warm_list(&bytes).with_context(|| match &options.input {
        ListInput::File(p) => format!("cannot read the warm list {}", p.display()),
        ListInput::Stdin => "cannot read the warm list from stdin".to_owned(),
    })?;
    let plan = Plan::build(&options.config, list.entries)?;

    if options.dry_run {
        let servers = options.config.memcached_servers()?;
        print_plan(&plan, &servers)?;
        let summary = Summary::of_plan(&plan, options.config.target_display());
        if !options.quiet {
            eprintln!(
                "hotkeys: dry run: {} keys would be fetched from {}, {} refused; nothing was sent to the origin or {}",
                plan.fetch_count(),
                escape(plan.origin.as_bytes()),
                summary.failed,
                if servers.is_empty() {
                    "Redis"
                } else {
                    "memcached"
                }
            );
        }
        write_summary(summary_destination, &summary)?;
        return Ok(if summary.failed > 0 {
            Exit::Partial
        } else {
            Exit::Success
        });
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bar = Progress::warming(&control, options.quiet);
    running.store(true, Ordering::SeqCst);
    let result = runtime.block_on(hotkeys_warmer::warm(&options.config, plan, &control));
    bar.finish();
    let summary = result?;
    report(&summary, options.quiet);
    write_summary(summary_destination, &summary)?;
    Ok(match summary.outcome() {
        Outcome::Complete => Exit::Success,
        Outcome::Partial => Exit::Partial,
        Outcome::Fatal => Exit::Failure,
    })
}

fn read_input(input: &ListInput) -> Result<Vec<u8>> {
    match input {
        ListInput::File(path) => std::fs::read(path)
            .with_context(|| format!("cannot read the warm list {}", path.display())),
        ListInput::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .context("cannot read the warm list from stdin")?;
            Ok(bytes)
        }
    }
}

/// SIGINT (Ctrl-C), SIGTERM (`kill`, systemd, Kubernetes) and SIGHUP (the
/// terminal closed) all stop a run the same way. Once the run has started
/// (the returned flag is set), the first stops fetching, the values
/// already fetched are written and the summary is reported; a second
/// leaves at once. Before that, nothing was fetched: the process ends as
/// `rank` does (128 + the signal's number), leaving `--summary` as it was.
///
/// A thread rather than tokio's signal streams: the list is read (maybe
/// from a stdin that never ends) before the runtime exists, and a signal
/// must end that wait too.
fn stop_on_signals(control: Control) -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let running = Arc::new(AtomicBool::new(false));
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return running;
    };
    let started = Arc::clone(&running);
    std::thread::spawn(move || {
        let mut stopping = false;
        for signal in signals.forever() {
            if !started.load(Ordering::SeqCst) {
                crate::destination::remove_pending();
                std::process::exit(128 + signal);
            }
            if stopping {
                eprintln!("hotkeys: quit without a summary");
                crate::destination::remove_pending();
                std::process::exit(Exit::Failure as i32);
            }
            stopping = true;
            let (name, again) = match signal {
                SIGINT => ("interrupted", "Ctrl-C again"),
                SIGTERM => ("interrupted by SIGTERM", "another signal"),
                _ => ("interrupted by SIGHUP", "another signal"),
            };
            eprintln!(
                "hotkeys: {name}: no new requests; writing the values already fetched ({again} to quit at once)"
            );
            control.stop(StopReason::Interrupted);
        }
    });
    running
}

/// The dry-run plan on stdout: rank, TTL, key, where the value would
/// come from (or why the entry is refused), and for memcached the server
/// ketama hashing puts the key on.
fn print_plan(plan: &Plan, servers: &[ServerAddr]) -> Result<()> {
    let continuum = (!servers.is_empty()).then(|| Continuum::new(servers));
    let rows: Vec<Vec<String>> = plan
        .entries
        .iter()
        .map(|e| {
            let ttl = match &e.action {
                Action::Fetch { ttl, .. } => ttl.describe(),
                Action::Refuse(_) => "-".to_owned(),
            };
            let mut row = vec![e.rank.to_string(), ttl, escape(&e.key)];
            if let Some(c) = &continuum {
                row.push(match &e.action {
                    Action::Fetch { .. } => servers[c.server_for(&e.key)].to_string(),
                    Action::Refuse(_) => "-".to_owned(),
                });
            }
            row.push(escape(plan.describe_source(e).as_bytes()));
            row
        })
        .collect();
    let mut header: Vec<String> = ["RANK", "TTL", "KEY"].map(str::to_owned).to_vec();
    if continuum.is_some() {
        header.push("SERVER".to_owned());
    }
    header.push("SOURCE".to_owned());
    // A column is as wide as its widest cell up to MAX_ALIGNED; a longer
    // cell (a key of 64 KiB) overflows its own row only, instead of padding
    // every row to its width.
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count().min(MAX_ALIGNED));
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // The rank is right-aligned, the last column is not padded. Padding is
    // written by hand: format!'s width is limited to u16 and panics above.
    let mut line = |cells: &Vec<String>| {
        let last = cells.len() - 1;
        let mut text = String::new();
        pad(&mut text, widths[0], &cells[0]);
        text.push_str(&cells[0]);
        for (cell, &w) in cells[1..last].iter().zip(&widths[1..last]) {
            text.push_str("  ");
            text.push_str(cell);
            pad(&mut text, w, cell);
        }
        text.push_str("  ");
        text.push_str(&cells[last]);
        writeln!(out, "{text}")
    };
    let written = std::iter::once(&header)
        .chain(&rows)
        .try_for_each(&mut line);
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("cannot write to stdout"),
    }
}

/// The widest a dry-run column grows for alignment, in characters.
const MAX_ALIGNED: usize = 120;

/// Spaces that bring `cell` to `width` characters (none when it is wider).
fn pad(text: &mut String, width: usize, cell: &str) {
    let n = width.saturating_sub(cell.chars().count());
    text.extend(std::iter::repeat_n(' ', n));
}

/// Failed and unfinished keys shown on stderr; the rest are in --summary.
const KEYS_SHOWN: usize = 10;

/// The summary for people, on stderr.
fn report(summary: &Summary, quiet: bool) {
    let complete = summary.outcome() == Outcome::Complete;
    if quiet && complete {
        return;
    }
    eprintln!(
        "hotkeys: {} warmed, {} skipped (already present), {} failed, {} unfinished, of {} keys in {:.2}s; {} written",
        summary.warmed,
        summary.skipped,
        summary.failed,
        summary.unfinished,
        summary.total,
        summary.elapsed_ms as f64 / 1000.0,
        format_size(summary.bytes_written)
    );
    if !summary.failed_by_reason.is_empty() {
        let reasons: Vec<String> = summary
            .failed_by_reason
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        eprintln!("hotkeys: failed by reason: {}", reasons.join(", "));
    }
    if !quiet {
        if let Some(lat) = &summary.origin_latency_ms {
            eprintln!(
                "hotkeys: origin: {} requests ({} retries), latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                summary.origin_requests, summary.retries, lat.p50, lat.p99, lat.max
            );
        }
        if summary.duplicates > 0 {
            eprintln!(
                "hotkeys: {} entries had the key of a hotter entry and were left out",
                summary.duplicates
            );
        }
        if summary.beyond_max_keys > 0 {
            eprintln!(
                "hotkeys: {} entries beyond --max-keys were left out",
                summary.beyond_max_keys
            );
        }
    }
    for key in summary.failed_keys.iter().take(KEYS_SHOWN) {
        let text = key_text(key);
        let reason = key.reason.as_deref().unwrap_or("failed");
        match &key.detail {
            Some(detail) => eprintln!(
                "hotkeys: failed: {} (rank {}): {reason}: {}",
                escape(&text),
                key.rank,
                escape(detail.as_bytes())
            ),
            None => eprintln!(
                "hotkeys: failed: {} (rank {}): {reason}",
                escape(&text),
                key.rank
            ),
        }
    }
    if summary.failed_keys.len() > KEYS_SHOWN {
        eprintln!(
            "hotkeys: ... and {} more failed keys (--summary FILE lists them all)",
            summary.failed_keys.len() - KEYS_SHOWN
        );
    }
    if let Some(detail) = &summary.stop_detail {
        eprintln!("hotkeys: stopped: {}", escape(detail.as_bytes()));
    }
    if summary.unfinished > 0 {
        eprintln!(
            "hotkeys: {} keys were not finished (--summary FILE lists them all)",
            summary.unfinished
        );
    }
}

/// The exact key bytes of a report.
fn key_text(key: &hotkeys_warmer::KeyReport) -> Vec<u8> {
    let mut entry = hotkeys_contract::WarmEntry::with_key(key.rank, key.key.as_bytes());
    entry.key_base64 = key.key_base64.clone();
    entry
        .key_bytes()
        .unwrap_or_else(|_| key.key.clone().into_bytes())
}

/// Writes the summary JSON (atomically, for a file: see
/// [`Destination`]), so a script never reads half a summary.
fn write_summary(destination: Option<Destination>, summary: &Summary) -> Result<()> {
    let Some(destination) = destination else {
        return Ok(());
    };
    destination
        .write(|out| out.write_all(summary.to_json().as_bytes()))
        .context("cannot write the summary")?;
    Ok(())
}
