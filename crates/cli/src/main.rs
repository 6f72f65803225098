//! The `hotkeys` command. This crate only reads the command line, calls the
//! libraries and reports; the work happens in `hotkeys-parser` (rank),
//! `hotkeys-warmer` (warm) and `hotkeys-capacity` (report).

mod args;
mod config;
mod exit;
mod output;
mod progress;
mod rank;
mod report;
mod summary;
mod text;
mod warm;
mod window;

use clap::Parser;

use crate::args::{Cli, Command};
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
    let result = match cli.command {
        Command::Rank(args) => config::RankConfig::from_args(args).and_then(rank::run),
        Command::Warm(args) => warm::run(args),
        Command::Report(args) => report::ReportCommand::from_args(args).and_then(report::run),
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
