//! `hotkeys warm`: the command-line side of the warmer. The clap arguments
//! become a plain [`WarmConfig`] at the edge; the work happens in
//! `hotkeys-warmer`. This file reads the list, prints the dry-run plan,
//! draws the progress bar, turns Ctrl-C into a graceful stop, and reports
//! the summary.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use hotkeys_contract::duration::parse_duration;
use hotkeys_contract::read_warm_list;
use hotkeys_contract::routes::Routes;
use hotkeys_contract::size::{format_size, parse_size};
use hotkeys_warmer::breaker::BreakerConfig;
use hotkeys_warmer::{
    Action, Control, DEFAULT_REDIS_URL, Outcome, Plan, StatusSet, StopReason, Summary, WarmConfig,
    redact_url,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exit::Exit;
use crate::output;
use crate::text::escape;

pub const AFTER_HELP: &str = "\
Examples:
  hotkeys rank /var/log/nginx/ --top 1000 --format json -o warm.json \\
    && hotkeys warm warm.json --origin http://127.0.0.1:8080
  hotkeys warm warm.json --origin https://api.internal --routes routes.toml --rate 200 --deadline 2m
  hotkeys warm warm.json --origin http://app:8080 --cluster \\
    --redis redis://10.0.0.1:7000 --redis redis://10.0.0.2:7000
  hotkeys warm keys.txt --origin redis://replica:6379 --redis redis://new-primary:6379 --overwrite
  hotkeys rank access.log --format keys | hotkeys warm - --origin http://app:8080 --dry-run

Only the path of a logged request is used: scheme, host and port come from --origin. Absolute URLs, \
`..` segments and control characters in the list are refused; redirects are not followed.

Exit codes: 0 every key warmed or skipped, 2 some keys failed or were left unfinished (deadline, \
Ctrl-C), 1 fatal (bad arguments, Redis or the origin Redis unreachable, circuit breaker opened, \
Redis lost during the run).";

#[derive(Args, Debug)]
pub struct WarmArgs {
    /// The warm list: JSON from `hotkeys rank --format json`, NDJSON, CSV or
    /// plain keys (one per line); - or nothing for stdin.
    #[arg(value_name = "WARMLIST")]
    pub list: Option<PathBuf>,

    /// Where values come from: http(s)://host[:port][/prefix] (GET prefix +
    /// the entry's path) or redis(s)://host:port (the same key in a warm
    /// Redis, keeping its remaining TTL).
    #[arg(long, value_name = "URL")]
    pub origin: String,

    /// The Redis to fill [default: $REDIS_URL, else redis://127.0.0.1:6379].
    /// The password may be in the URL (redis://:PASSWORD@host:port) or in
    /// REDISCLI_AUTH. With --cluster, repeat for several seed nodes.
    #[arg(long, value_name = "URL")]
    pub redis: Vec<String>,

    /// The Redis is a Redis Cluster: --redis names seed nodes, slots are
    /// discovered, MOVED/ASK are followed.
    #[arg(long)]
    pub cluster: bool,

    /// Routes file (the same TOML as for rank): only entries that match a
    /// route are fetched, with the route's origin path and TTL.
    #[arg(long, value_name = "FILE")]
    pub routes: Option<PathBuf>,

    /// Write every key, replacing existing values. By default keys already
    /// present are skipped and writes use SET ... NX.
    #[arg(long)]
    pub overwrite: bool,

    /// TTL for every key, overriding routes, entries and a Redis origin's
    /// remaining TTL [default: the route's or entry's TTL, else 1h].
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,

    /// Shorten each configured TTL by a random 0 to PCT percent, so that
    /// warmed keys do not all expire in the same second.
    #[arg(long, value_name = "PCT", default_value = "10%")]
    pub ttl_jitter: String,

    /// Origin requests in flight at most (pipelines, for a Redis origin);
    /// lowered automatically while the origin is overloaded.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,

    /// Origin requests per second at most, evenly spaced (keys per second,
    /// for a Redis origin). No limit by default.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,

    /// Retries per key after a 429, 5xx, timeout or connection error, with
    /// exponential back-off and jitter (Retry-After is honoured). Never for
    /// other 4xx.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,

    /// Time limit for one origin request, body included.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,

    /// Time limit for connecting to Redis and for each reply; a Redis that
    /// stays unreachable this long stops the run.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub redis_timeout: String,

    /// Values larger than this are not stored (counted as too_large).
    #[arg(long, value_name = "SIZE", default_value = "4MiB")]
    pub max_value_size: String,

    /// HTTP statuses whose body is stored, e.g. 2xx or 200,203.
    #[arg(long, value_name = "LIST", default_value = "2xx")]
    pub store_status: String,

    /// Extra request header for an HTTP origin, e.g. -H 'Accept:
    /// application/json'. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Use the proxy settings of HTTP_PROXY, HTTPS_PROXY and NO_PROXY (they
    /// are ignored by default).
    #[arg(long)]
    pub use_env_proxy: bool,

    /// Warm only the N hottest entries of the list.
    #[arg(long, value_name = "N")]
    pub max_keys: Option<usize>,

    /// Stop after this long (e.g. the deploy's warm-up window): fetching
    /// stops, values already fetched are written.
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,

    /// Circuit breaker: how many recent origin requests are looked at.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub breaker_window: usize,

    /// Circuit breaker: stop when this share of the recent origin requests
    /// failed (5xx, 429, timeouts, connection errors).
    #[arg(long, value_name = "PCT", default_value = "50%")]
    pub breaker_threshold: String,

    /// Print the plan (rank, TTL, key, origin URL) without touching the
    /// origin or Redis.
    #[arg(long)]
    pub dry_run: bool,

    /// Write the summary as JSON to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Print nothing on stderr unless some keys were not warmed.
    #[arg(short, long)]
    pub quiet: bool,

    /// Keys per Redis pipeline (tuning and tests).
    #[arg(long, value_name = "N", default_value_t = 512, hide = true)]
    pub batch_size: usize,
}

/// Where the warm list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    File(PathBuf),
    Stdin,
}

/// What the process environment contributes.
#[derive(Debug, Default)]
struct Env {
    redis_url: Option<String>,
    rediscli_auth: Option<String>,
}

impl Env {
    fn from_process() -> Env {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Env {
            redis_url: var("REDIS_URL"),
            rediscli_auth: var("REDISCLI_AUTH"),
        }
    }
}

/// `hotkeys warm`, without clap.
#[derive(Debug)]
struct Options {
    input: Input,
    config: WarmConfig,
    dry_run: bool,
    summary: Option<PathBuf>,
    quiet: bool,
}

impl Options {
    fn from_args(args: WarmArgs, env: &Env, stdin_is_terminal: bool) -> Result<Options> {
        let input = match args.list.as_deref() {
            Some(p) if p == Path::new("-") => Input::Stdin,
            Some(p) => Input::File(p.to_owned()),
            None if stdin_is_terminal => bail!(
                "no warm list: give a file (hotkeys warm warm.json --origin URL) or pipe one in \
                 (hotkeys rank access.log --format json | hotkeys warm - --origin URL)"
            ),
            None => Input::Stdin,
        };
        let mut config = WarmConfig::new(args.origin.trim());
        config.redis = if args.redis.is_empty() {
            vec![
                env.redis_url
                    .clone()
                    .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned()),
            ]
        } else {
            args.redis
        };
        config.cluster = args.cluster;
        config.redis_password = env.rediscli_auth.clone();
        config.routes = args
            .routes
            .as_deref()
            .map(Routes::load)
            .transpose()
            .context("cannot use the routes file")?;
        config.overwrite = args.overwrite;
        config.ttl = args
            .ttl
            .as_deref()
            .map(|t| duration("--ttl", t))
            .transpose()?;
        config.ttl_jitter = percent("--ttl-jitter", &args.ttl_jitter)?;
        if config.ttl_jitter >= 1.0 {
            bail!("--ttl-jitter must be below 100%");
        }
        config.concurrency = args.concurrency;
        if config.concurrency == 0 {
            bail!("--concurrency must be at least 1");
        }
        config.rate = args.rate;
        if args.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            bail!("--rate must be a positive number of requests per second, e.g. --rate 50");
        }
        config.retries = args.retries;
        config.origin_timeout = duration("--timeout", &args.timeout)?;
        config.redis_timeout = duration("--redis-timeout", &args.redis_timeout)?;
        config.max_value_size = parse_size(&args.max_value_size)
            .with_context(|| format!("--max-value-size {:?}", args.max_value_size))?;
        config.store_statuses =
            StatusSet::parse(&args.store_status).map_err(|e| anyhow!("--store-status: {e}"))?;
        config.headers = args
            .headers
            .iter()
            .map(|h| {
                h.split_once(':')
                    .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                    .filter(|(n, _)| !n.is_empty())
                    .ok_or_else(|| anyhow!("--header {h:?}: expected NAME: VALUE"))
            })
            .collect::<Result<_>>()?;
        config.use_env_proxy = args.use_env_proxy;
        config.max_keys = args.max_keys;
        config.deadline = args
            .deadline
            .as_deref()
            .map(|d| duration("--deadline", d))
            .transpose()?;
        config.breaker = BreakerConfig {
            window: args.breaker_window,
            threshold: percent("--breaker-threshold", &args.breaker_threshold)?,
        };
        if args.breaker_window == 0 {
            bail!("--breaker-window must be at least 1");
        }
        config.batch_size = args.batch_size.max(1);
        config.validate()?;
        Ok(Options {
            input,
            config,
            dry_run: args.dry_run,
            summary: args.summary,
            quiet: args.quiet,
        })
    }
}

fn duration(option: &str, text: &str) -> Result<Duration> {
    let d = parse_duration(text).with_context(|| option.to_owned())?;
    if d.is_zero() {
        bail!("{option} must be above zero");
    }
    Ok(d)
}

/// `10%`, `10` or `12.5%` → 0.1, 0.1, 0.125.
fn percent(option: &str, text: &str) -> Result<f64> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p / 100.0),
        _ => bail!("{option} {text:?}: expected a percentage from 0 to 100, e.g. 10%"),
    }
}

pub fn run(args: WarmArgs) -> Result<Exit> {
    let options = Options::from_args(args, &Env::from_process(), std::io::stdin().is_terminal())?;
    let bytes = read_input(&options.input)?;
    let list = read_warm_list(&bytes).with_context(|| match &options.input {
        Input::File(p) => format!("cannot read the warm list {}", p.display()),
        Input::Stdin => "cannot read the warm list from stdin".to_owned(),
    })?;
    let plan = Plan::build(&options.config, list.entries)?;
    let redis_shown = options
        .config
        .redis
        .iter()
        .map(|u| redact_url(u))
        .collect::<Vec<_>>()
        .join(", ");

    if options.dry_run {
        print_plan(&plan)?;
        let summary = Summary::of_plan(&plan, redis_shown);
        if !options.quiet {
            eprintln!(
                "hotkeys: dry run: {} keys would be fetched from {}, {} refused; nothing was sent to the origin or Redis",
                plan.fetch_count(),
                escape(plan.origin.as_bytes()),
                summary.failed
            );
        }
        write_summary(options.summary.as_deref(), &summary)?;
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
    let control = Control::new();
    let bar = WarmProgress::start(&control, options.quiet);
    let result = runtime.block_on(async {
        let interrupts = tokio::spawn(stop_on_ctrl_c(control.clone()));
        let result = hotkeys_warmer::warm(&options.config, plan, &control).await;
        interrupts.abort();
        result
    });
    bar.finish();
    let summary = result?;
    report(&summary, options.quiet);
    write_summary(options.summary.as_deref(), &summary)?;
    Ok(match summary.outcome() {
        Outcome::Complete => Exit::Success,
        Outcome::Partial => Exit::Partial,
        Outcome::Fatal => Exit::Failure,
    })
}

fn read_input(input: &Input) -> Result<Vec<u8>> {
    match input {
        Input::File(path) => std::fs::read(path)
            .with_context(|| format!("cannot read the warm list {}", path.display())),
        Input::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .context("cannot read the warm list from stdin")?;
            Ok(bytes)
        }
    }
}

/// First Ctrl-C: stop fetching, write what was fetched, report. Second:
/// leave at once.
async fn stop_on_ctrl_c(control: Control) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    eprintln!(
        "hotkeys: interrupted: no new requests; writing the values already fetched (Ctrl-C again to quit at once)"
    );
    control.stop(StopReason::Interrupted);
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("hotkeys: quit without a summary");
        std::process::exit(Exit::Failure as i32);
    }
}

/// The dry-run plan on stdout: rank, TTL, key, and where the value would
/// come from (or why the entry is refused).
fn print_plan(plan: &Plan) -> Result<()> {
    let rows: Vec<[String; 4]> = plan
        .entries
        .iter()
        .map(|e| {
            let ttl = match &e.action {
                Action::Fetch { ttl, .. } => ttl.describe(),
                Action::Refuse(_) => "-".to_owned(),
            };
            [
                e.rank.to_string(),
                ttl,
                escape(&e.key),
                escape(plan.describe_source(e).as_bytes()),
            ]
        })
        .collect();
    let header = ["RANK", "TTL", "KEY", "SOURCE"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = |cells: &[String; 4]| {
        writeln!(
            out,
            "{:>w0$}  {:<w1$}  {:<w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
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

/// Writes the summary JSON atomically (see [`output::write_with`]), so a
/// script never reads half a summary.
fn write_summary(path: Option<&Path>, summary: &Summary) -> Result<()> {
    let Some(path) = path else {
        return Ok(());
    };
    output::write_with(Some(path), |out| {
        out.write_all(summary.to_json().as_bytes())
    })
    .with_context(|| format!("cannot write the summary {}", path.display()))?;
    Ok(())
}

/// A progress bar on stderr, only on a terminal: keys done of total, rate,
/// failures. Polls the run's counters from a side thread.
struct WarmProgress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl WarmProgress {
    fn start(control: &Control, quiet: bool) -> WarmProgress {
        let done = Arc::new(AtomicBool::new(false));
        let mut progress = WarmProgress {
            done: Arc::clone(&done),
            thread: None,
        };
        if quiet || !std::io::stderr().is_terminal() {
            return progress;
        }
        let control = control.clone();
        progress.thread = Some(std::thread::spawn(move || {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} warming {pos}/{len} keys ({per_sec}, {eta} left) {msg} {wide_bar}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            // Short runs finish before the bar would be worth drawing.
            std::thread::sleep(Duration::from_millis(300));
            while !done.load(Ordering::Relaxed) {
                let p = control.progress();
                bar.set_length(p.total);
                bar.set_position(p.done());
                bar.set_message(if p.failed > 0 {
                    format!("{} failed", p.failed)
                } else {
                    String::new()
                });
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        }));
        progress
    }

    fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WarmProgress {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn options(args: &[&str], env: Env) -> Result<Options> {
        let mut all = vec!["hotkeys", "warm"];
        all.extend_from_slice(args);
        let cli = crate::args::Cli::try_parse_from(all).map_err(|e| anyhow!("{e}"))?;
        let crate::args::Command::Warm(args) = cli.command else {
            bail!("not warm");
        };
        Options::from_args(args, &env, false)
    }

    #[test]
    fn defaults_and_environment() {
        let o = options(&["--origin", "http://o:1"], Env::default()).unwrap();
        assert_eq!(o.input, Input::Stdin);
        assert_eq!(o.config.redis, [DEFAULT_REDIS_URL]);
        assert_eq!(o.config.ttl, None);
        assert_eq!(o.config.ttl_jitter, 0.1);
        assert_eq!(o.config.max_value_size, 4 << 20);
        let env = Env {
            redis_url: Some("redis://cache:6380".into()),
            rediscli_auth: Some("pw".into()),
        };
        let o = options(&["-", "--origin", "http://o:1"], env).unwrap();
        assert_eq!(o.config.redis, ["redis://cache:6380"]);
        assert_eq!(o.config.redis_password.as_deref(), Some("pw"));
        let o = options(
            &[
                "list.json",
                "--origin",
                "http://o:1",
                "--redis",
                "redis://x:1",
            ],
            Env {
                redis_url: Some("redis://ignored:1".into()),
                rediscli_auth: None,
            },
        )
        .unwrap();
        assert_eq!(o.input, Input::File("list.json".into()));
        assert_eq!(o.config.redis, ["redis://x:1"]);
    }

    #[test]
    fn values_are_parsed() {
        let o = options(
            &[
                "--origin",
                "http://o:1",
                "--ttl",
                "30m",
                "--ttl-jitter",
                "5",
                "--rate",
                "20",
                "--deadline",
                "2m",
                "--max-value-size",
                "1KiB",
                "--store-status",
                "200,203",
                "-H",
                "Accept: application/json",
                "--breaker-threshold",
                "75%",
            ],
            Env::default(),
        )
        .unwrap();
        let c = o.config;
        assert_eq!(c.ttl, Some(Duration::from_secs(1800)));
        assert_eq!(c.ttl_jitter, 0.05);
        assert_eq!(c.rate, Some(20.0));
        assert_eq!(c.deadline, Some(Duration::from_secs(120)));
        assert_eq!(c.max_value_size, 1024);
        assert!(c.store_statuses.contains(203) && !c.store_statuses.contains(201));
        assert_eq!(
            c.headers,
            [("Accept".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(c.breaker.threshold, 0.75);
    }

    #[test]
    fn mistakes_say_what_to_do() {
        let err = |args: &[&str]| options(args, Env::default()).unwrap_err().to_string();
        assert!(err(&["--origin", "ftp://x"]).contains("http://"));
        assert!(err(&["--origin", "http://o", "--ttl", "soon"]).contains("--ttl"));
        assert!(err(&["--origin", "http://o", "--ttl", "0"]).contains("above zero"));
        assert!(err(&["--origin", "http://o", "--ttl-jitter", "150%"]).contains("percentage"));
        assert!(err(&["--origin", "http://o", "--rate", "0"]).contains("--rate"));
        assert!(err(&["--origin", "http://o", "-H", "nocolon"]).contains("NAME: VALUE"));
        assert!(
            err(&[
                "--origin",
                "http://o",
                "--redis",
                "redis://a:1",
                "--redis",
                "redis://b:1"
            ])
            .contains("--cluster")
        );
        let e = err(&["--origin", "http://o", "--redis", "http://:pw@x:1"]);
        assert!(e.contains("redis://") && !e.contains("pw@"), "{e}");
        let no_list = Options::from_args(
            match crate::args::Cli::try_parse_from(["hotkeys", "warm", "--origin", "http://o"])
                .unwrap()
                .command
            {
                crate::args::Command::Warm(a) => a,
                _ => unreachable!(),
            },
            &Env::default(),
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(no_list.contains("no warm list"), "{no_list}");
    }

    #[test]
    fn percentages() {
        assert_eq!(percent("x", "10%").unwrap(), 0.1);
        assert_eq!(percent("x", " 12.5 % ").unwrap(), 0.125);
        assert_eq!(percent("x", "0").unwrap(), 0.0);
        assert!(percent("x", "-1").is_err());
        assert!(percent("x", "ten").is_err());
    }
}
