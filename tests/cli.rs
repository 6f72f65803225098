//! End-to-end tests of what the command line says about itself: `--help`
//! in narrow terminals, `hotkeys completions` and `hotkeys man`.

mod harness;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use harness::{Out, expect_code, hotkeys, scratch, write};

/// Every command with a help page, as its arguments: the top one first.
const COMMANDS: [&[&str]; 6] = [
    &[],
    &["rank"],
    &["warm"],
    &["report"],
    &["completions"],
    &["man"],
];

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
                        Some("rank" | "warm" | "report" | "completions" | "man")
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

fn completions(shell: &str) -> Out {
    let out = hotkeys(&["completions", shell], None, &[]);
    expect_code(&out, 0);
    assert!(out.stderr.is_empty(), "stderr: {}", out.stderr);
    out
}

#[test]
fn bash_completion_is_valid_bash() {
    let dir = scratch();
    let out = completions("bash");
    let script = write(dir.path(), "hotkeys.bash", &out.stdout);
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("run bash -n");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Completes the subcommands and their options, not just the name.
    let text = out.text();
    for word in ["rank", "warm", "report", "--max-memory", "--origin"] {
        assert!(text.contains(word), "bash completion lacks {word}");
    }
}

#[test]
fn every_shell_gets_a_completion_script() {
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = completions(shell);
        assert!(
            out.text().contains("rank"),
            "{shell} completion does not mention rank"
        );
    }
    let out = hotkeys(&["completions", "tcsh"], None, &[]);
    expect_code(&out, 1);
    assert!(out.stderr.contains("possible values"), "{}", out.stderr);
}

/// The long option names `--help` lists for a command.
fn long_options(command: &[&str]) -> BTreeSet<String> {
    help(command, 1000)
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| l.split([' ', ',', '=']))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_owned)
        .collect()
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

/// A page as a person reads it: groff's plain-text rendering, with the
/// Unicode hyphens and minus signs some groff setups use turned back into
/// `-`. Fails on any groff warning.
fn render(page: &Path) -> String {
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .arg(page)
        .output()
        .expect("run groff (scripts/test installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "groff on {}: {stderr}",
        page.display()
    );
    String::from_utf8(out.stdout)
        .expect("groff writes UTF-8")
        .replace(['\u{2010}', '\u{2212}'], "-")
}

#[test]
fn man_pages_render_and_list_every_option() {
    let dir = scratch();
    let man_dir = dir.path().join("man1");
    let out = hotkeys(&[Path::new("man"), man_dir.as_path()], None, &[]);
    expect_code(&out, 0);

    let mut written: Vec<String> = std::fs::read_dir(&man_dir)
        .expect("man dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("name"))
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "hotkeys-completions.1",
            "hotkeys-man.1",
            "hotkeys-rank.1",
            "hotkeys-report.1",
            "hotkeys-warm.1",
            "hotkeys.1"
        ]
    );

    for command in COMMANDS {
        let name = match command {
            [] => "hotkeys".to_owned(),
            [sub, ..] => format!("hotkeys-{sub}"),
        };
        let text = render(&man_dir.join(format!("{name}.1")));
        for section in ["NAME", "SYNOPSIS", "OPTIONS", "EXAMPLES", "SEE ALSO"] {
            assert!(
                text.lines().any(|l| l == section),
                "{name}.1 has no {section} section:\n{text}"
            );
        }
        for option in long_options(command) {
            assert!(text.contains(&option), "{name}.1 does not mention {option}");
        }
        // Examples are not filled into one paragraph: each help example
        // line is a line of the page.
        for line in example_lines(&help(command, 1000)) {
            let line = line.trim();
            assert!(
                text.lines().any(|l| l.trim() == line),
                "{name}.1 lacks the example line {line:?}:\n{text}"
            );
        }
    }
    assert!(render(&man_dir.join("hotkeys-rank.1")).contains("EXIT STATUS"));
}

#[test]
fn man_replaces_older_pages_and_fails_on_a_file_as_dir() {
    let dir = scratch();
    let stale = write(dir.path(), "hotkeys-rank.1", b"stale");
    let out = hotkeys(&[Path::new("man"), dir.path()], None, &[]);
    expect_code(&out, 0);
    let page = std::fs::read_to_string(&stale).expect("page");
    assert!(page.contains(".TH hotkeys-rank 1"), "{page}");

    let out = hotkeys(&[Path::new("man"), stale.as_path()], None, &[]);
    expect_code(&out, 1);
    assert!(out.stderr.contains("hotkeys: error:"), "{}", out.stderr);
}
