//! The `hotkeys` command. This crate only reads the command line, calls the
//! libraries and reports; the work happens in `hotkeys-parser` (rank),
//! `hotkeys-warmer` (warm) and `hotkeys-capacity` (report). Every
//! subcommand has the same shape: clap arguments ([`args`]) → a plain
//! configuration ([`config`]) → one library call → output and a summary on
//! stderr (`rank.rs`, `report.rs`, `warm.rs`). `completions` and `man`
//! only describe the command line itself (`manual.rs`).

#![forbid(unsafe_code)]

mod args;
mod config;
mod destination;
mod exit;
mod manual;
mod output;
mod progress;
mod rank;
mod report;
mod summary;
mod text;
mod values;
mod warm;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::config::{Env, RankCommand, ReportCommand, WarmCommand};
use crate::exit::Exit;

fn main() -> std::process::ExitCode {
    // clap exits with 2 on usage errors; 2 means partial input here.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Failure
            } else {
                Exit::Success
            }
            .into();
        }
    };
    let env = Env::from_process();
    if !matches!(cli.command, Command::Warm(_)) {
        // warm turns signals into a graceful stop of its own.
        destination::remove_on_signals();
    }
    let result = match cli.command {
        Command::Rank(args) => RankCommand::from_args(args, &env).and_then(rank::run),
        Command::Warm(args) => WarmCommand::from_args(args, &env).and_then(warm::run),
        Command::Report(args) => ReportCommand::from_args(args, &env).and_then(report::run),
        Command::Completions(args) => manual::completions(args.shell),
        Command::Man(args) => manual::write_pages(&args.dir),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            // Line by line: a TOML or regex error shows its source with a
            // caret under it, which only reads right on separate lines.
            let lines: Vec<String> = format!("{e:#}")
                .lines()
                .map(|l| text::escape(l.as_bytes()))
                .collect();
            eprintln!("hotkeys: error: {}", lines.join("\n"));
            Exit::Failure.into()
        }
    }
}
