//! `hotkeys-loggen`: writes realistic, reproducible web access logs.

#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use clap::builder::TypedValueParser as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use hotkeys_contract::duration::parse_duration;
use hotkeys_loggen::{Config, Format, Generator, Truth, parse_rfc3339, parse_tz_offset};

const EXAMPLES: &str = "\
Examples:
  # One day of nginx combined log, 50 000 requests over 2 000 keys
  hotkeys-loggen --lines 50000 --keys 2000 -o access.log

  # A gzipped week of JSON lines, plus the exact per-key counts
  hotkeys-loggen -n 1000000 -f nginx-json --start 2024-05-01T00:00:00Z \\
      --duration 7d --gzip -o week.json.gz --truth week.truth.tsv

  # About 1 GB for a benchmark
  hotkeys-loggen --lines 4500000 --keys 500000 -o /tmp/big.log

The same options always produce the same bytes. Keep --site-seed fixed and
change --seed to make several logs of the same site (same hot keys).";

/// Generates web access logs whose request targets follow a Zipf
/// distribution, for testing and benchmarking hotkeys.
#[derive(Parser, Debug)]
#[command(name = "hotkeys-loggen", version, after_help = EXAMPLES)]
struct Cli {
    /// Number of lines to write.
    #[arg(short = 'n', long, default_value_t = 10_000, value_name = "N")]
    lines: u64,

    /// Number of distinct request targets (1 to 100000000).
    #[arg(short, long, default_value_t = 1_000, value_name = "K")]
    keys: u64,

    /// Zipf exponent of key popularity (0 = uniform; real sites ~0.8-1.2).
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    zipf: f64,

    /// Seed of the traffic (which requests, clients and times).
    #[arg(long, default_value_t = 1, value_name = "X")]
    seed: u64,

    /// Seed of the site (its URLs and which of them are popular).
    #[arg(long, default_value_t = 1, value_name = "X")]
    site_seed: u64,

    /// Log format.
    #[arg(
        short,
        long,
        default_value = "combined",
        value_name = "F",
        value_parser = clap::builder::PossibleValuesParser::new(Format::NAMES)
            .map(|name| name.parse::<Format>().expect("listed name")),
    )]
    format: Format,

    /// Start of the time window (RFC 3339, or a date for midnight UTC).
    #[arg(long, default_value = "2024-05-01T00:00:00Z", value_name = "RFC3339", value_parser = parse_rfc3339)]
    start: i64,

    /// Length of the time window: seconds, or e.g. 30m, 24h, 7d, 1h30m
    /// (units largest first, as everywhere in hotkeys).
    #[arg(long, default_value = "24h", value_name = "DURATION", value_parser = window_secs)]
    duration: u64,

    /// Spread lines evenly instead of following a day/night curve.
    #[arg(long)]
    no_diurnal: bool,

    /// UTC offset of the server's local time, e.g. +0200 or -05:30.
    #[arg(long, default_value = "+0000", value_name = "OFFSET", value_parser = parse_tz_offset, allow_hyphen_values = true)]
    tz_offset: i32,

    /// Host name of the site.
    #[arg(long, default_value = "shop.example.com", value_name = "NAME")]
    host: String,

    /// Compress the output with gzip.
    #[arg(long)]
    gzip: bool,

    /// Also write the exact line counts per (method, status, target) as TSV:
    /// count, method, status, target; most frequent first.
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,

    /// Write the log to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `--duration` in the project's one duration syntax. The generator's
/// window is counted in whole seconds, so a fraction is refused rather than
/// silently dropped.
fn window_secs(text: &str) -> Result<u64, String> {
    let window = parse_duration(text).map_err(|e| e.to_string())?;
    if window.is_zero() || window.subsec_nanos() != 0 {
        return Err(format!(
            "duration {text:?} is not a whole number of seconds (at least 1s)"
        ));
    }
    Ok(window.as_secs())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else exits 1.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) means the reader has what it wanted.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotkeys-loggen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> io::Result<()> {
    let config = Config {
        lines: cli.lines,
        keys: cli.keys,
        zipf: cli.zipf,
        seed: cli.seed,
        site_seed: cli.site_seed,
        format: cli.format,
        start_unix: cli.start,
        duration_secs: cli.duration,
        diurnal: !cli.no_diurnal,
        tz_offset_secs: cli.tz_offset,
        host: cli.host,
    };
    let generator = Generator::new(config)?;
    // Open both files before the (possibly long) generation so a bad path
    // fails at once.
    let truth_file = cli.truth.as_deref().map(create).transpose()?;
    let out: Box<dyn Write> = match &cli.output {
        Some(path) => Box::new(create(path)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut truth = truth_file.as_ref().map(|_| Truth::new());

    if cli.gzip {
        let mut encoder = GzEncoder::new(out, Compression::default());
        generator.write(&mut encoder, truth.as_mut())?;
        encoder.finish()?.flush()?;
    } else {
        let mut out = out;
        generator.write(&mut out, truth.as_mut())?;
        out.flush()?;
    }

    if let (Some(file), Some(truth), Some(path)) = (truth_file, truth, &cli.truth) {
        let mut w = BufWriter::new(file);
        truth
            .write_tsv(&mut w)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

fn create(path: &Path) -> io::Result<File> {
    File::create(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn window_durations() {
        for (text, secs) in [
            ("3600", 3600),
            ("90s", 90),
            ("30m", 1800),
            ("24h", 86_400),
            ("7d", 604_800),
            ("1h30m", 5400),
            ("1h 30m", 5400),
            ("2000ms", 2),
        ] {
            assert_eq!(window_secs(text), Ok(secs), "{text}");
        }
        for bad in [
            "",
            "0",
            "0h",
            "h",
            "5x",
            "1.5h",
            "-3h",
            "3h-",
            "99999999999999999999d",
            // Out of order or repeated: a typo, not a sum.
            "30m1h",
            "1m1m",
            "500ms",
            "1500ms",
        ] {
            assert!(window_secs(bad).is_err(), "{bad}");
        }
        let message = window_secs("1500ms").unwrap_err();
        assert!(message.contains("whole number of seconds"), "{message}");
    }

    #[test]
    fn options_parse() {
        let cli = Cli::try_parse_from([
            "hotkeys-loggen",
            "-n",
            "5",
            "--keys",
            "7",
            "--format",
            "nginx-json",
            "--start",
            "2024-05-02",
            "--duration",
            "1h30m",
            "--tz-offset",
            "-0500",
            "--no-diurnal",
        ])
        .unwrap();
        assert_eq!((cli.lines, cli.keys, cli.format), (5, 7, Format::NginxJson));
        assert_eq!(
            (cli.start, cli.duration, cli.tz_offset),
            (1_714_608_000, 5400, -18_000)
        );
        assert!(cli.no_diurnal && !cli.gzip);

        let defaults = Cli::try_parse_from(["hotkeys-loggen"]).unwrap();
        let config = Config::default();
        assert_eq!(
            (
                defaults.lines,
                defaults.keys,
                defaults.seed,
                defaults.site_seed,
                defaults.format
            ),
            (
                config.lines,
                config.keys,
                config.seed,
                config.site_seed,
                config.format
            )
        );
        assert_eq!(
            (defaults.start, defaults.duration),
            (config.start_unix, config.duration_secs)
        );
        assert_eq!(defaults.host, config.host);

        for bad in [
            &["hotkeys-loggen", "--format", "apache"][..],
            &["hotkeys-loggen", "--duration", "5x"],
            &["hotkeys-loggen", "--start", "May 1st"],
            &["hotkeys-loggen", "--tz-offset", "+25:00"],
            &["hotkeys-loggen", "--lines", "-1"],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
