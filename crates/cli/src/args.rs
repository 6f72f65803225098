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
        and CDN prefetchers.",
    after_help = "Exit codes: 0 success, 1 usage or fatal error, 2 some input could not be read completely \
        (what could be read was used).\n\nExample:\n  hotkeys rank /var/log/nginx/ --top 1000 --format json -o warm.json"
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
    #[arg(short, long)]
    pub quiet: bool,
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
