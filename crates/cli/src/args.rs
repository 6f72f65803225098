//! The command line as clap sees it, for every subcommand. Nothing outside
//! this file and `config.rs` knows about clap: [`crate::config`] turns these
//! structs into the libraries' plain configurations. Option values are
//! typed here ([`crate::values`]), so a bad value is a usage error.

// The doc comments below are clap's --help text, written for a terminal:
// `[:port]` and bare URLs are meant literally, not as rustdoc links.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use hotkeys_capacity::config::{CacheSize, RestartAt};
use hotkeys_capacity::sampling::SampleRate;
use hotkeys_parser::exclude::Cidr;
use hotkeys_parser::window::TimeBound;
use hotkeys_warmer::StatusSet;

use crate::values;

#[derive(Parser, Debug)]
#[command(
    name = "hotkeys",
    version,
    about = "Rank the hot keys in web access logs, to warm a cache before traffic arrives.",
    long_about = "Rank the hot keys in web access logs, to warm a cache before traffic arrives.\n\n\
        hotkeys reads nginx, Apache, Caddy and JSON access logs (plain, rotated, gzip, zstd, bzip2) \
        in parallel and ranks the most requested keys. Its warm list feeds cache warmers, scripts \
        and CDN prefetchers. `hotkeys report` sizes the cache from the same logs.",
    after_help = TOP_AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Rank the most requested keys in access logs.
    #[command(after_help = RANK_AFTER_HELP)]
    Rank(RankArgs),

    /// Fill Redis or memcached with the keys of a warm list, fetched from
    /// the origin.
    #[command(after_help = WARM_AFTER_HELP)]
    Warm(WarmArgs),

    /// Capacity analysis: LRU hit ratio by cache size, popularity, request
    /// rate, sizes, latency and what warming the top keys saves.
    #[command(
        long_about = "Capacity analysis of access logs, for sizing and warming a cache: a summary of \
            the traffic, the request rate over time, popularity (coverage of the top keys, one-hit \
            wonders, Zipf exponent), response sizes, latency percentiles, the hit ratio of an LRU \
            cache by size (exact, or SHARDS-sampled for large inputs) with the sizes needed for \
            80/90/95/99%, and the origin requests after a restart, cold against warmed with the \
            top N keys.\n\nSame inputs, formats, filters and routes as `hotkeys rank`.",
        after_help = REPORT_AFTER_HELP
    )]
    Report(ReportArgs),

    /// Print a shell completion script for hotkeys to stdout.
    #[command(after_help = COMPLETIONS_AFTER_HELP)]
    Completions(CompletionsArgs),

    /// Write the manual pages (hotkeys.1, hotkeys-rank.1, ...) into a
    /// directory.
    #[command(after_help = MAN_AFTER_HELP)]
    Man(ManArgs),
}

// The texts after the options. clap re-wraps them to the terminal's width
// at spaces, so every line of an example stays short enough for a
// 60-column terminal (the test `help_examples_survive_narrow_terminals`
// checks it) and longer commands continue with `\`: a command broken by
// the wrapper could not be pasted into a shell. `hotkeys man` turns the
// same texts into EXAMPLES, NOTES and EXIT STATUS sections.

const TOP_AFTER_HELP: &str = "\
Examples:
  hotkeys rank /var/log/nginx/ --top 1000 --format json \\
    -o warm.json
  hotkeys warm warm.json --origin http://127.0.0.1:8080
  hotkeys report /var/log/nginx/ --format html \\
    -o report.html

Shell completions: `hotkeys completions SHELL`. Manual pages: `hotkeys man DIR`.

Exit codes: 0 success, 1 usage or fatal error, 2 partial: some input could not be read \
completely (rank, report), or some keys were not warmed (warm).";

const RANK_AFTER_HELP: &str = "\
Examples:
  hotkeys rank access.log access.log.1 access.log.2.gz
  hotkeys rank /var/log/nginx/ --since 24h --top 500 \\
    --format json -o warm.json
  zcat old.log.gz | hotkeys rank - --all --format csv
  hotkeys rank access.log --log-format \\
    '[$time_local] \"$request\" $status $request_time'
  hotkeys rank access.log --routes routes.toml --by cost

Exit codes: 0 success, 1 usage or fatal error, 2 some input could not be read completely.";

const REPORT_AFTER_HELP: &str = "\
Examples:
  hotkeys report sample-logs/
  hotkeys report /var/log/nginx/ --format html \\
    -o report.html
  hotkeys report access.log --exact \\
    --cache-sizes 1000,10000,100000,256MiB,1GiB
  hotkeys report big/*.gz --sample-rate 0.01 \\
    --format json -o report.json
  hotkeys report access.log --warm-cache-size 2GiB \\
    --restart-at 2024-05-02T08:00:00Z
  zcat access.log.*.gz \\
    | hotkeys report - --hgrm latency.hgrm

Capacities: plain numbers are objects (10000); with a unit they are bytes (64MiB, 2GiB, 500MB). \
Details and the JSON schema: docs/report.md.

Exit codes: 0 success, 1 usage or fatal error, 2 some input could not be read completely.";

const COMPLETIONS_AFTER_HELP: &str = "\
Examples:
  hotkeys completions bash \\
    > ~/.local/share/bash-completion/completions/hotkeys
  hotkeys completions zsh > ~/.zfunc/_hotkeys
  hotkeys completions fish \\
    > ~/.config/fish/completions/hotkeys.fish

For zsh, the directory must be in $fpath before compinit runs (fpath+=~/.zfunc in ~/.zshrc). \
Completions are generated from the same definitions as --help, so they always match this binary.

Exit codes: 0 success, 1 usage error.";

const MAN_AFTER_HELP: &str = "\
Examples:
  hotkeys man ~/.local/share/man/man1 && man hotkeys-rank
  hotkeys man pages/ && man -l pages/hotkeys-warm.1

One page per command: hotkeys.1 and hotkeys-SUBCOMMAND.1. DIR is created if needed; pages are \
written atomically and replace older ones. They are generated from the same definitions as --help, \
so they always match this binary.

Exit codes: 0 success, 1 usage error or DIR could not be written.";

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Directory to write the pages into, e.g. /usr/local/share/man/man1.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Where requests come from and which count: shared by every command
/// that reads logs, so `rank` and `report` read the same input the same way.
#[derive(Args, Debug)]
pub struct InputArgs {
    /// Log files, directories (every regular file inside) or - for stdin.
    /// Compression (gzip, zstd, bzip2) is recognised from the content.
    /// Without inputs, reads stdin.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Input format: auto, combined, common, vcombined, nginx-timed, json,
    /// caddy, or an nginx log_format / Apache LogFormat string.
    #[arg(short = 'f', long, value_name = "FORMAT", default_value = "auto")]
    pub log_format: String,

    /// For JSON logs: take a field from another key, SLOT=PATH[:UNIT], e.g.
    /// target=req.path or request_time=dur_ms:ms. Repeatable.
    #[arg(long, value_name = "SLOT=PATH")]
    pub json_field: Vec<String>,

    /// Routes file (TOML) mapping request targets to cache keys; only
    /// requests that match a route are counted.
    #[arg(long, value_name = "FILE")]
    pub routes: Option<PathBuf>,

    /// Count every request that has a target, not only cacheable ones
    /// (by default: GET and HEAD with status 200-399).
    #[arg(long)]
    pub all: bool,

    /// Only these methods, e.g. GET,HEAD.
    #[arg(long, value_name = "LIST", value_parser = values::methods)]
    pub method: Option<values::Methods>,

    /// Only these statuses, e.g. 2xx,304 or 200-299.
    #[arg(long, value_name = "LIST", value_parser = values::status_ranges)]
    pub status: Option<values::StatusRanges>,

    /// Only requests at or after TIME: RFC 3339 (2024-05-01T00:00:00Z), or a
    /// duration (24h, 90m) before the newest request in the input.
    #[arg(long, value_name = "TIME", value_parser = values::time_bound)]
    pub since: Option<TimeBound>,

    /// Only requests before TIME (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = values::time_bound)]
    pub until: Option<TimeBound>,

    /// Only requests for this host (repeatable; comma-separated lists too).
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,

    /// Leave out requests whose target (path and query, as logged) matches
    /// REGEX somewhere (anchor with ^ and $), e.g. '^/health'. Repeatable.
    #[arg(long, value_name = "REGEX", value_parser = values::path_pattern)]
    pub exclude_path: Vec<String>,

    /// Leave out requests from clients in this network: 10.0.0.0/8,
    /// 2001:db8::/32, or one address. Repeatable.
    #[arg(long, value_name = "CIDR", value_parser = values::cidr)]
    pub exclude_client: Vec<Cidr>,

    /// Leave out requests whose user agent is a crawler, monitor or tool
    /// (Googlebot, curl, python-requests, ...), by the crawler list of the
    /// isbot crate 0.1.3. Requests without a logged user agent are kept.
    #[arg(long)]
    pub exclude_bots: bool,

    /// Worker threads; 0 uses every core. At most 256: each worker keeps
    /// tables of its own, and thousands of them only cost memory and time.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u16).range(0..=256))]
    pub threads: u16,

    /// Stop with an error at the first malformed line.
    #[arg(long)]
    pub strict: bool,

    /// Write the output even when no request could be read (no input
    /// files, every input unreadable or every line malformed). By default
    /// such a run fails with exit 1 and leaves -o untouched.
    #[arg(long)]
    pub allow_empty: bool,

    /// Read plain files with read(2), never through a memory map: for
    /// network file systems, where a map can be slow or unsafe.
    #[arg(long)]
    pub no_mmap: bool,

    /// Lines longer than this are counted as too long and skipped (at most
    /// 16MiB).
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = values::memory_size)]
    pub max_line: usize,

    /// Size of the byte ranges a large plain file is split into (tuning and
    /// tests).
    #[arg(long, value_name = "SIZE", default_value = "32MiB", hide = true, value_parser = values::size)]
    pub chunk_size: u64,
}

const WARM_AFTER_HELP: &str = "\
Examples:
  hotkeys rank /var/log/nginx/ --top 1000 --format json \\
    -o warm.json
  hotkeys warm warm.json --origin http://127.0.0.1:8080
  hotkeys warm warm.json --origin https://api.internal \\
    --routes routes.toml --rate 200 --deadline 2m
  hotkeys warm warm.json --origin http://app:8080 \\
    --cluster --redis redis://10.0.0.1:7000 \\
    --redis redis://10.0.0.2:7000
  hotkeys warm keys.txt --origin redis://replica:6379 \\
    --redis redis://new-primary:6379 --overwrite
  hotkeys warm warm.json --origin http://app:8080 \\
    --memcached 10.0.0.1:11211 --memcached 10.0.0.2:11211
  hotkeys rank access.log --format keys \\
    | hotkeys warm - --origin http://app:8080 --dry-run

Only the path of a logged request is used: scheme, host and port come from --origin. Absolute URLs, \
`..` segments and control characters in the list are refused; redirects are not followed.

Exit codes: 0 every key warmed or skipped, 2 some keys failed or were left unfinished (deadline, \
Ctrl-C, SIGTERM, SIGHUP), 1 fatal (bad arguments, Redis, memcached or the origin Redis unreachable, circuit breaker \
opened, the origin asking to wait over 30s with Retry-After, the cache lost during the run).";

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

    /// Fill this memcached server instead of Redis (repeatable). Keys are
    /// spread over several servers by ketama consistent hashing, as
    /// libmemcached does (pylibmc: ketama_weighted), so clients configured
    /// that way find them.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["redis", "cluster"])]
    pub memcached: Vec<String>,

    /// Routes file (the same TOML as for rank): only entries that match a
    /// route are fetched, with the route's origin path and TTL.
    #[arg(long, value_name = "FILE")]
    pub routes: Option<PathBuf>,

    /// Write every key, replacing existing values. By default keys already
    /// present are skipped and writes use SET ... NX (memcached: add).
    #[arg(long)]
    pub overwrite: bool,

    /// TTL for every key, overriding routes, entries and a Redis origin's
    /// remaining TTL, at most 100 years [default: the route's or entry's
    /// TTL, else 1h].
    #[arg(long, value_name = "DURATION", value_parser = values::ttl)]
    pub ttl: Option<Duration>,

    /// Shorten each configured TTL by a random 0 to PCT percent, so that
    /// warmed keys do not all expire in the same second.
    #[arg(long, value_name = "PCT", default_value = "10%", value_parser = values::percent)]
    pub ttl_jitter: f64,

    /// Origin requests in flight at most (pipelines, for a Redis origin);
    /// lowered automatically while the origin is overloaded.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    pub concurrency: u64,

    /// Origin requests per second at most, evenly spaced (keys per second,
    /// for a Redis origin). No limit by default.
    #[arg(long, value_name = "R", value_parser = values::positive_rate)]
    pub rate: Option<f64>,

    /// Retries per key after a 429, 5xx, timeout or connection error, with
    /// exponential back-off and jitter (Retry-After is honoured up to 30s;
    /// a longer one stops the run). Never for other 4xx.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,

    /// Time limit for one origin request, body included.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = values::positive_duration)]
    pub timeout: Duration,

    /// The most one batch waits for Redis (or memcached) in all:
    /// connecting, replies, reconnecting; a cache that stays unreachable
    /// this long stops the run.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = values::positive_duration)]
    pub redis_timeout: Duration,

    /// Values larger than this are not stored (counted as too_large)
    /// [default: 4MiB; 1MiB, memcached's item limit, with --memcached].
    #[arg(long, value_name = "SIZE", value_parser = values::size)]
    pub max_value_size: Option<u64>,

    /// HTTP statuses whose body is stored, e.g. 2xx or 200,203.
    #[arg(long, value_name = "LIST", default_value = "2xx", value_parser = values::status_set)]
    pub store_status: StatusSet,

    /// Extra request header for an HTTP origin, e.g. -H 'Accept:
    /// application/json'. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = values::header)]
    pub headers: Vec<(String, String)>,

    /// Use the proxy settings of HTTP_PROXY, HTTPS_PROXY and NO_PROXY (they
    /// are ignored by default).
    #[arg(long)]
    pub use_env_proxy: bool,

    /// Warm only the N hottest entries of the list.
    #[arg(long, value_name = "N")]
    pub max_keys: Option<usize>,

    /// Stop after this long (e.g. the deploy's warm-up window): fetching
    /// stops, values already fetched are written within 1s more, even if
    /// the cache hangs.
    #[arg(long, value_name = "DURATION", value_parser = values::positive_duration)]
    pub deadline: Option<Duration>,

    /// Circuit breaker: how many recent origin requests are looked at.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub breaker_window: u64,

    /// Circuit breaker: stop when this share of the recent origin requests
    /// failed (5xx, 429, timeouts, connection errors).
    #[arg(long, value_name = "PCT", default_value = "50%", value_parser = values::percent)]
    pub breaker_threshold: f64,

    /// Print the plan (rank, TTL, key, origin URL; the server of each key
    /// with --memcached) without touching the origin or the cache.
    #[arg(long)]
    pub dry_run: bool,

    /// Write the summary as JSON to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Print nothing on stderr unless some keys were not warmed.
    #[arg(short, long)]
    pub quiet: bool,

    /// Keys per Redis or memcached pipeline (tuning and tests).
    #[arg(long, value_name = "N", default_value_t = 512, hide = true)]
    pub batch_size: usize,
}

#[derive(Args, Debug)]
pub struct RankArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// How many keys to list; 0 lists all.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 100)]
    pub top: usize,

    /// What ranks a key: requests, bytes served, or cost (summed latency:
    /// the origin time a warm cache saves).
    #[arg(long, value_enum, default_value_t = RankByArg::Requests)]
    pub by: RankByArg,

    /// Output format.
    #[arg(long = "format", value_enum, default_value_t = OutputFormatArg::Table)]
    pub output_format: OutputFormatArg,

    /// Base URL for --format urls, e.g. https://www.example.com.
    #[arg(long, value_name = "URL")]
    pub origin_base: Option<String>,

    /// Write the output to FILE (atomically: a reader never sees half of it).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Count in at most SIZE of memory (e.g. 64MiB): for key spaces too
    /// large to count exactly. Counts become estimates with error bounds
    /// once the keys no longer fit; while they fit, they stay exact.
    #[arg(long, value_name = "SIZE", value_parser = values::memory_size)]
    pub max_memory: Option<usize>,

    /// Print nothing but errors on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long = "format", value_enum, default_value_t = ReportFormatArg::Text)]
    pub output_format: ReportFormatArg,

    /// Write the report to FILE (atomically: a reader never sees half of it).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Cache sizes for the hit-ratio table, comma-separated: numbers are
    /// objects (10000), sizes with a unit are bytes (64MiB, 2GiB). Default: a
    /// spread from 0.1% to all of the working set, in objects and in bytes.
    #[arg(long, value_name = "LIST", value_parser = values::cache_sizes)]
    pub cache_sizes: Option<values::CacheSizes>,

    /// Exact hit-ratio curve (Mattson stack distances) whatever the input
    /// size; 16 bytes of memory per request.
    #[arg(long, conflicts_with = "sample_rate")]
    pub exact: bool,

    /// SHARDS: simulate only the keys sampled at this rate (e.g. 0.01) and
    /// scale. Default: exact up to 20 million requests, sampled above.
    #[arg(long, value_name = "R", value_parser = values::sample_rate)]
    pub sample_rate: Option<SampleRate>,

    /// When the simulated restart happens: RFC 3339 (2024-05-01T12:00:00Z),
    /// a date, or a duration before the last request (6h). Default: halfway
    /// between the first and the last request.
    #[arg(long, value_name = "TIME", default_value = "middle", value_parser = values::restart_at)]
    pub restart_at: RestartAt,

    /// Warm-up list sizes to compare with a cold cache after the restart.
    #[arg(long, value_name = "LIST", default_value = "100,1000,10000", value_parser = values::warm_top)]
    pub warm_top: values::WarmTop,

    /// Cache size in the warm-up simulation, objects or bytes (e.g. 50000
    /// or 2GiB). Default: the smallest size with a 90% hit ratio (the whole
    /// working set when no size reaches it).
    #[arg(long, value_name = "SIZE", value_parser = values::cache_size)]
    pub warm_cache_size: Option<CacheSize>,

    /// Keys listed in the per-key tables (most requested, latency).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top_keys: usize,

    /// Also write the request-time distribution (upstream time when the log
    /// has no request time) to FILE in HdrHistogram's .hgrm format, in
    /// milliseconds, for HdrHistogram's plotting tools.
    #[arg(long, value_name = "FILE")]
    pub hgrm: Option<PathBuf>,

    /// Print nothing but errors on stderr.
    #[arg(short, long)]
    pub quiet: bool,

    /// Requests above which the default method samples (tests).
    #[arg(long, value_name = "N", hide = true, default_value_t = hotkeys_capacity::config::DEFAULT_MAX_EXACT_REQUESTS)]
    pub max_exact_requests: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    /// Aligned tables for a terminal.
    Text,
    /// Every figure, for programs.
    Json,
    /// One self-contained page with charts.
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RankByArg {
    Requests,
    Bytes,
    Cost,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormatArg {
    /// Aligned columns for people.
    Table,
    /// The warm list: one JSON document with stats and keys.
    Json,
    /// One JSON object per key.
    Ndjson,
    /// Comma-separated, with a header row.
    Csv,
    /// One key per line.
    Keys,
    /// One origin URL per key (needs --origin-base).
    Urls,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Cli;

    /// The example commands of a help text, each with its `\`
    /// continuations joined.
    fn examples(after_help: &str) -> Vec<String> {
        let mut commands: Vec<String> = Vec::new();
        let mut continued = false;
        for line in after_help
            .lines()
            .skip_while(|l| *l != "Examples:")
            .skip(1)
            .take_while(|l| !l.is_empty())
        {
            let text = line.trim().trim_end_matches('\\');
            match commands.last_mut() {
                Some(last) if continued => last.push_str(text),
                _ => commands.push(text.to_owned()),
            }
            continued = line.ends_with('\\');
        }
        commands
    }

    /// Words split at spaces, with single or double quotes around a word
    /// removed (enough for the examples, which quote whole words only).
    fn words(command: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut quote = None;
        let mut word = String::new();
        for c in command.chars() {
            match (c, quote) {
                ('\'' | '"', None) => quote = Some(c),
                (c, Some(q)) if c == q => quote = None,
                (' ', None) => words.extend((!word.is_empty()).then(|| std::mem::take(&mut word))),
                (c, _) => word.push(c),
            }
        }
        assert!(quote.is_none(), "unterminated quote in {command:?}");
        words.extend((!word.is_empty()).then_some(word));
        words
    }

    #[test]
    fn every_help_example_parses() {
        let top = Cli::command();
        let mut texts = vec![top.get_after_help().expect("top after_help").to_string()];
        for sub in top.get_subcommands() {
            let text = sub.get_after_help().unwrap_or_else(|| {
                panic!("hotkeys {} has no examples", sub.get_name());
            });
            texts.push(text.to_string());
        }
        let mut parsed = 0;
        for text in &texts {
            for example in examples(text) {
                let words = words(&example);
                // Each `hotkeys ...` in a pipeline, up to the next operator.
                for (i, _) in words.iter().enumerate().filter(|(_, w)| *w == "hotkeys") {
                    let args: Vec<&str> = words[i..]
                        .iter()
                        .map(String::as_str)
                        .take_while(|w| !["|", "&&", ">", ">>"].contains(w))
                        .collect();
                    if let Err(e) = Cli::try_parse_from(&args) {
                        panic!("example {example:?} does not parse:\n{e}");
                    }
                    parsed += 1;
                }
            }
        }
        assert!(parsed >= 20, "only {parsed} examples found");
    }
}
