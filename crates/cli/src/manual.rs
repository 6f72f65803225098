//! `hotkeys man DIR` and `hotkeys completions SHELL`: the manual pages and
//! shell completion scripts, generated from the clap definitions in
//! [`crate::args`], so that they describe exactly the options of the binary
//! that wrote them.

use std::io;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;
use roff::{Roff, roman};

use crate::args::Cli;
use crate::destination::Destination;
use crate::exit::Exit;

/// Prints the completion script for `shell` to stdout.
pub fn completions(shell: Shell) -> Result<Exit> {
    // Rendered into memory first: clap_complete panics when a write fails,
    // and a reader that stops early (`| head`) is no reason to panic.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hotkeys", &mut script);
    Destination::Stdout.write(|out| out.write_all(&script))?;
    Ok(Exit::Success)
}

/// Writes one page per command into `dir`: `hotkeys.1` and
/// `hotkeys-SUBCOMMAND.1`.
pub fn write_pages(dir: &Path) -> Result<Exit> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pages = pages()?;
    for (name, page) in &pages {
        Destination::prepare(Some(&dir.join(name)), &[], "man")?
            .write(|out| out.write_all(page))?;
    }
    let names: Vec<&str> = pages.iter().map(|(name, _)| name.as_str()).collect();
    eprintln!(
        "hotkeys: wrote {} to {}",
        names.join(", "),
        crate::text::escape(dir.as_os_str().as_encoded_bytes())
    );
    Ok(Exit::Success)
}

/// Every page as (file name, roff source), the top command first.
fn pages() -> io::Result<Vec<(String, Vec<u8>)>> {
    // Built once from the top: that gives each subcommand its display name
    // (`hotkeys-rank`, the page's name) and its bin name (`hotkeys rank`,
    // the synopsis).
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let mut commands = vec![top.clone()];
    commands.extend(top.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    let names: Vec<String> = commands.iter().map(page_name).collect();
    commands
        .iter()
        .map(|cmd| {
            let name = page_name(cmd);
            let see_also: Vec<&str> = names
                .iter()
                .filter(|n| **n != name)
                .map(String::as_str)
                .collect();
            Ok((format!("{name}.1"), page(cmd, &see_also)?))
        })
        .collect()
}

fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned()
}

/// One page: clap_mangen's sections, then the text after the options in
/// the sections a man page reader looks for, then the other pages.
fn page(cmd: &clap::Command, see_also: &[&str]) -> io::Result<Vec<u8>> {
    // The footer names the program and its version on every page, not the
    // subcommand alone (clap_mangen's default).
    let man = Man::new(cmd.clone())
        .source(format!("hotkeys {}", env!("CARGO_PKG_VERSION")))
        .manual("hotkeys manual");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut out)?;
    }
    // clap_mangen would put the whole text into one filled paragraph,
    // joining the example commands into a single line.
    if let Some(after) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
        after_help_sections(&after.to_string()).to_writer(&mut out)?;
    }
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out)?;
    }
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    let refs: Vec<String> = see_also.iter().map(|n| format!("{n}(1)")).collect();
    roff.text([roman(refs.join(", "))]);
    roff.to_writer(&mut out)?;
    Ok(out)
}

/// The text after the options, as written in `args.rs`: paragraphs
/// separated by blank lines; "Examples:" followed by indented command
/// lines; "Exit codes: ..."; anything else is a note.
fn after_help_sections(text: &str) -> Roff {
    let mut examples: Vec<&str> = Vec::new();
    let mut exit_status: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut lines = paragraph.lines();
        match lines.next() {
            Some(first) if first.trim_end().ends_with("Examples:") => {
                examples.extend(lines.map(|l| l.strip_prefix("  ").unwrap_or(l)));
            }
            Some(first) if first.starts_with("Exit codes:") => {
                exit_status.push(paragraph.replace('\n', " "));
            }
            Some(_) => notes.push(paragraph.replace('\n', " ")),
            None => {}
        }
    }
    let mut roff = Roff::new();
    for (heading, paragraphs) in [("EXIT STATUS", &exit_status), ("NOTES", &notes)] {
        if paragraphs.is_empty() {
            continue;
        }
        roff.control("SH", [heading]);
        for (i, p) in paragraphs.iter().enumerate() {
            if i > 0 {
                roff.control("PP", []);
            }
            roff.text([roman(p.as_str())]);
        }
    }
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        // No filling: each command and its `\` continuations stay as
        // written, ready to be pasted into a shell.
        roff.control("nf", []);
        for line in examples {
            roff.text([roman(line)]);
        }
        roff.control("fi", []);
    }
    roff
}
