//! `hotkeys rank`: the ranking run (in `hotkeys-parser`), what a person
//! should know about it on stderr, and the warm list in its output format.

use anyhow::Result;
use hotkeys_parser::rank::{self, RankBy, RankConfig, RankRun};
use hotkeys_parser::{warm_list, warnings};

use crate::config::RankCommand;
use crate::destination::Destination;
use crate::exit::Exit;
use crate::output;
use crate::progress::Progress;
use crate::summary::{counted_line, input_notes, nothing_read};
use crate::text::escape;

pub fn run(command: RankCommand) -> Result<Exit> {
    let RankCommand {
        mut config,
        format,
        output: output_path,
        allow_empty,
        quiet,
    } = command;
    let destination = Destination::prepare(output_path.as_deref(), &config.inputs, "-o")?;
    let (progress, counter) = Progress::reading(&config.inputs, quiet);
    config.scan.progress = counter;
    let run = rank::run(&config)?;
    progress.finish();
    report_to_stderr(&run, &config, quiet);

    if let Some(why) = nothing_read(&run.scan, run.ranking.counts.requests())
        && !allow_empty
    {
        eprintln!(
            "hotkeys: error: nothing to rank: {why}; no output was written{} (--allow-empty writes an empty list)",
            if output_path.is_some() {
                " and -o was left as it was"
            } else {
                ""
            }
        );
        return Ok(Exit::Failure);
    }
    let list = warm_list::build(&run, config.rules.routes.as_ref());
    output::write(&list, &format, destination, quiet)?;

    Ok(if run.scan.problems.is_empty() {
        Exit::Success
    } else {
        Exit::Partial
    })
}

/// Input problems are shown even with --quiet: they change the exit code.
fn report_to_stderr(run: &RankRun, config: &RankConfig, quiet: bool) {
    input_notes(&run.scan, quiet);
    if quiet {
        return;
    }
    let ranking = &run.ranking;
    if ranking.approximate {
        eprintln!(
            "hotkeys: counts are estimates: the keys did not fit in --max-memory; each count is an \
             upper bound, with its lower bound in requests_min (json, ndjson, csv) and ERROR (table)"
        );
    }
    eprintln!(
        "{}",
        counted_line(&run.scan, &ranking.counts, ranking.distinct_keys)
    );
    let mut notes = warnings::missing_fields(&run.scan, &config.rules);
    if config.by == RankBy::Cost && warnings::no_latency(ranking.counts.matched, ranking.timed) {
        notes.push(warnings::zero_cost(&run.scan));
    }
    for w in notes {
        eprintln!("hotkeys: warning: {}", escape(w.as_bytes()));
    }
}
