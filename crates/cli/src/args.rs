//! The command line as clap sees it. Nothing outside this file and
//! `config.rs` knows about clap: [`crate::config`] turns these structs into
//! a plain configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "hotkeys",
    version,
    about = "Rank the hot keys in web access logs, to warm a cache before traffic arrives.",
    long_about = "Rank the hot keys in web access logs, to warm a cache before traffic arrives.\n\n\
        hotkeys reads nginx, Apache, Caddy and JSON access logs (plain, rotated, gzip, zstd, bzip2) \
        in parallel and ranks the most requested keys. Its warm list feeds cache warmers, scripts \
        and CDN prefetchers. `hotkeys report` sizes the cache from the same logs.",
    after_help = "Exit codes: 0 success, 1 usage or fatal error, 2 partial: some input could not be read \
        completely (rank, report), or some keys were not warmed (warm).\n\nExample:\n  hotkeys rank /var/log/nginx/ --top 1000 --format json -o warm.json \
        && hotkeys warm warm.json --origin http://127.0.0.1:8080"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Rank the most requested keys in access logs.
    #[command(after_help = "Examples:\n  \
            hotkeys rank access.log access.log.1 access.log.2.gz\n  \
            hotkeys rank /var/log/nginx/ --since 24h --top 500 --format json -o warm.json\n  \
            zcat old.log.gz | hotkeys rank - --all --format csv\n  \
            hotkeys rank access.log --log-format '$remote_addr [$time_local] \"$request\" $status $body_bytes_sent $request_time'\n  \
            hotkeys rank access.log --routes routes.toml --by cost\n\n\
            Exit codes: 0 success, 1 usage or fatal error, 2 some input could not be read completely.")]
    Rank(RankArgs),

    /// Fill Redis with the keys of a warm list, fetched from the origin.
    #[command(after_help = crate::warm::AFTER_HELP)]
    Warm(crate::warm::WarmArgs),

    /// Capacity analysis: LRU hit ratio by cache size, popularity, request
    /// rate, sizes, latency and what warming the top keys saves.
    #[command(
        long_about = "Capacity analysis of access logs, for sizing and warming a cache: a summary of \
            the traffic, the request rate over time, popularity (coverage of the top keys, one-hit \
            wonders, Zipf exponent), response sizes, latency percentiles, the hit ratio of an LRU \
            cache by size (exact, or SHARDS-sampled for large inputs) with the sizes needed for \
            80/90/95/99%, and the origin requests after a restart, cold against warmed with the \
            top N keys.\n\nSame inputs, formats, filters and routes as `hotkeys rank`.",
        after_help = "Examples:\n  \
            hotkeys report sample-logs/\n  \
            hotkeys report /var/log/nginx/ --format html -o report.html\n  \
            hotkeys report access.log --cache-sizes 1000,10000,100000,256MiB,1GiB --exact\n  \
            hotkeys report big/*.gz --sample-rate 0.01 --format json -o report.json\n  \
            hotkeys report access.log --restart-at 2024-05-02T08:00:00Z --warm-cache-size 2GiB\n  \
            zcat access.log.*.gz | hotkeys report - --hgrm latency.hgrm\n\n\
            Capacities: plain numbers are objects (10000); with a unit they are bytes (64MiB, 2GiB, 500MB).\n\
            Details and the JSON schema: docs/report.md.\n\n\
            Exit codes: 0 success, 1 usage or fatal error, 2 some input could not be read completely."
    )]
    Report(ReportArgs),
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
    #[arg(long, value_name = "LIST")]
    pub method: Option<String>,

    /// Only these statuses, e.g. 2xx,304 or 200-299.
    #[arg(long, value_name = "LIST")]
    pub status: Option<String>,

    /// Only requests at or after TIME: RFC 3339 (2024-05-01T00:00:00Z), or a
    /// duration (24h, 90m) before the newest request in the input.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only requests before TIME (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Only requests for this host (repeatable; comma-separated lists too).
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,

    /// Worker threads; 0 uses every core.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Stop with an error at the first malformed line.
    #[arg(long)]
    pub strict: bool,

    /// Lines longer than this are counted as too long and skipped.
    #[arg(long, value_name = "SIZE", default_value = "1MiB")]
    pub max_line: String,

    /// Size of the byte ranges a large plain file is split into (tuning and
    /// tests).
    #[arg(long, value_name = "SIZE", default_value = "32MiB", hide = true)]
    pub chunk_size: String,
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

    /// Print nothing but errors on stderr.
    /// Count in at most SIZE of memory (e.g. 64MiB): for key spaces too
    /// large to count exactly. Counts become estimates with error bounds
    /// once the keys no longer fit; while they fit, they stay exact.
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<String>,

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
    #[arg(long, value_name = "LIST")]
    pub cache_sizes: Option<String>,

    /// Exact hit-ratio curve (Mattson stack distances) whatever the input
    /// size; 16 bytes of memory per request.
    #[arg(long, conflicts_with = "sample_rate")]
    pub exact: bool,

    /// SHARDS: simulate only the keys sampled at this rate (e.g. 0.01) and
    /// scale. Default: exact up to 20 million requests, sampled above.
    #[arg(long, value_name = "R")]
    pub sample_rate: Option<String>,

    /// When the simulated restart happens: RFC 3339 (2024-05-01T12:00:00Z),
    /// a date, or a duration before the last request (6h). Default: halfway
    /// between the first and the last request.
    #[arg(long, value_name = "TIME")]
    pub restart_at: Option<String>,

    /// Warm-up list sizes to compare with a cold cache after the restart.
    #[arg(long, value_name = "LIST", default_value = "100,1000,10000")]
    pub warm_top: String,

    /// Cache size in the warm-up simulation, objects or bytes (e.g. 50000
    /// or 2GiB). Default: the smallest size with a 90% hit ratio (the whole
    /// working set when no size reaches it).
    #[arg(long, value_name = "SIZE")]
    pub warm_cache_size: Option<String>,

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
