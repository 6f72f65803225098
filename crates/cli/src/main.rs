//! The `hotkeys` command. This crate only reads the command line, calls the
//! libraries and reports; the work happens in `hotkeys-parser` (rank),
//! `hotkeys-warmer` (warm) and `hotkeys-capacity` (report). Every
//! subcommand has the same shape: clap arguments ([`args`]) → a plain
//! configuration ([`config`]) → one library call → output and a summary on
//! stderr (`rank.rs`, `report.rs`, `warm.rs`). `completions` and `man`
//! only describe the command line itself (`manual.rs`).

mod args;
mod config;
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
            eprintln!(
                "hotkeys: error: {}",
                text::escape(format!("{e:#}").as_bytes())
            );
            Exit::Failure.into()
        }
    }
}
