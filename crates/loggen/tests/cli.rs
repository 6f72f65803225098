//! The binary end to end: files, gzip, truth, exit codes.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output};

use hotkeys_loggen::{Config, Format, Truth, generate};

fn loggen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hotkeys-loggen"))
        .args(args)
        .output()
        .expect("run hotkeys-loggen")
}

/// A fresh scratch directory per test (no tempfile dependency needed).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotkeys-loggen-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn stdout_matches_the_library() {
    let out = loggen(&["-n", "300", "-k", "50", "-f", "caddy", "--seed", "4"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut want = Vec::new();
    let config = Config {
        lines: 300,
        keys: 50,
        format: Format::Caddy,
        seed: 4,
        ..Config::default()
    };
    generate(&config, &mut want, None).unwrap();
    assert_eq!(out.stdout, want);
}

#[test]
fn gzip_output_and_truth_file() {
    let dir = scratch("gzip");
    let log = dir.join("a.log.gz");
    let tsv = dir.join("a.tsv");
    let out = loggen(&[
        "-n",
        "2000",
        "--gzip",
        "-o",
        log.to_str().unwrap(),
        "--truth",
        tsv.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&log).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    let mut plain = Vec::new();
    let mut truth = Truth::new();
    generate(
        &Config {
            lines: 2000,
            ..Config::default()
        },
        &mut plain,
        Some(&mut truth),
    )
    .unwrap();
    assert_eq!(text, plain);

    let from_file =
        Truth::read_tsv(std::io::BufReader::new(std::fs::File::open(&tsv).unwrap())).unwrap();
    assert_eq!(from_file, truth);
    assert_eq!(from_file.total(), 2000);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn errors_exit_1_with_a_message() {
    for args in [
        &["--keys", "0"][..],
        &["--format", "apache"],
        &["--duration", "tomorrow"],
        &["--zipf", "-2"],
        &["-o", "/nonexistent-dir/x.log"],
    ] {
        let out = loggen(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.trim().is_empty(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let help = loggen(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--lines") && help.contains("Examples:") && help.contains("nginx-json"));
}
