//! End-to-end tests of what the command line says about itself: `--help`
//! in narrow terminals.

mod harness;

use std::collections::BTreeSet;

use harness::{expect_code, hotkeys};

/// Every command with a help page, as its arguments: the top one first.
const COMMANDS: [&[&str]; 4] = [&[], &["rank"], &["warm"], &["report"]];

/// `hotkeys ARGS --help` in a terminal `columns` wide.
fn help(command: &[&str], columns: usize) -> String {
    let mut args = command.to_vec();
    args.push("--help");
    let out = hotkeys(&args, None, &[("COLUMNS", &columns.to_string())]);
    expect_code(&out, 0);
    out.text().to_owned()
}

/// The lines of the "Examples:" block of a help text.
fn example_lines(help: &str) -> Vec<&str> {
    help.lines()
        .skip_while(|l| *l != "Examples:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

/// The words of a command as sh splits them (quotes, backslash escapes,
/// backslash-newline continuations), or `None` when it ends inside a quote
/// or after a lone backslash: what a line broken in the wrong place gives.
fn shell_words(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            '\n' => {}
                            c @ ('"' | '\\' | '$' | '`') => w.push(c),
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        c => w.push(c),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => {}
                c => word.get_or_insert_with(String::new).push(c),
            },
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

#[test]
fn help_examples_survive_narrow_terminals() {
    for command in COMMANDS {
        let narrow = help(command, 60);
        let wide = help(command, 1000);
        let lines = example_lines(&narrow);
        assert!(
            !lines.is_empty(),
            "no examples in `hotkeys {command:?} --help`"
        );
        // The wrapper changed nothing: every line already fitted.
        assert_eq!(
            lines,
            example_lines(&wide),
            "`hotkeys {command:?} --help`: examples re-wrapped in 60 columns"
        );

        // One command per line at two spaces, its `\` continuations
        // indented further. (The wrapper indents the rest of a cut line
        // like its start, so a cut line looks like a new command: one that
        // starts with an option.)
        let mut commands: Vec<String> = Vec::new();
        let mut continued = false;
        for line in &lines {
            assert!(line.chars().count() <= 60, "longer than 60 columns: {line}");
            if continued {
                assert!(
                    line.starts_with("    "),
                    "continuation not indented: {line}"
                );
                let last = commands.last_mut().expect("a command before");
                last.push('\n');
                last.push_str(line);
            } else {
                assert!(
                    line.starts_with("  ")
                        && !line.starts_with("   ")
                        && !line.trim_start().starts_with('-'),
                    "an example line that is not a command: {line:?}"
                );
                commands.push(line.to_string());
            }
            continued = line.ends_with('\\');
        }
        assert!(!continued, "the last example ends with a continuation");

        for example in &commands {
            let words = shell_words(example)
                .unwrap_or_else(|| panic!("example ends inside a quote or escape:\n{example}"));
            // Every `hotkeys` in the pipeline names a subcommand and ends on
            // a word, not on an option still waiting for its value.
            for (i, _) in words.iter().enumerate().filter(|(_, w)| *w == "hotkeys") {
                let rest: Vec<&String> = words[i + 1..]
                    .iter()
                    .take_while(|w| !["|", "&&", ">", ">>"].contains(&w.as_str()))
                    .collect();
                assert!(
                    matches!(
                        rest.first().map(|w| w.as_str()),
                        Some("rank" | "warm" | "report")
                    ),
                    "not a hotkeys subcommand in:\n{example}"
                );
                let last = rest.last().expect("a subcommand");
                assert!(
                    !last.starts_with("--") || flags(&[rest[0].as_str()]).contains(*last),
                    "example ends on an option without its value:\n{example}"
                );
            }
        }
    }
}

#[test]
fn quiet_and_max_memory_have_their_own_help() {
    for command in [&["rank"][..], &["warm"], &["report"]] {
        let text = help(command, 80);
        let quiet = text
            .lines()
            .skip_while(|l| l.trim() != "-q, --quiet")
            .nth(1)
            .unwrap_or_else(|| panic!("no -q, --quiet in `hotkeys {command:?} --help`"));
        assert!(
            quiet.trim().starts_with("Print nothing"),
            "`hotkeys {command:?} --help`: -q is described as {quiet:?}"
        );
    }
    let rank = help(&["rank"], 80);
    let max_memory = rank
        .lines()
        .skip_while(|l| l.trim() != "--max-memory <SIZE>")
        .nth(1)
        .expect("--max-memory in rank --help");
    assert!(
        max_memory
            .trim()
            .starts_with("Count in at most SIZE of memory"),
        "--max-memory is described as {max_memory:?}"
    );
}

/// The options of a command that take no value.
fn flags(command: &[&str]) -> BTreeSet<String> {
    help(command, 1000)
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-') && !l.contains('<'))
        .flat_map(|l| l.split([' ', ',']))
        .filter(|w| w.starts_with("--"))
        .map(str::to_owned)
        .collect()
}
