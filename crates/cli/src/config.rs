//! Turning parsed arguments into the libraries' plain configurations, one
//! per subcommand, plus what the binary itself does with the result (where
//! the output goes, how much to say). Every usage mistake that one option
//! alone cannot show is caught here, before any input is read.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use hotkeys_capacity::config::{CurveMethod, ReportConfig, ReportFormat};
use hotkeys_contract::routes::Routes;
use hotkeys_parser::exclude::{BotList, Exclude, Networks, PathPatterns};
use hotkeys_parser::filter::Filter;
use hotkeys_parser::format::FormatChoice;
use hotkeys_parser::format::json::JsonFields;
use hotkeys_parser::input::{self, Source};
use hotkeys_parser::keys::KeyRules;
use hotkeys_parser::rank::{MemoryBudget, RankBy, RankConfig};
use hotkeys_parser::scan::ScanOptions;
use hotkeys_parser::window::Window;
use hotkeys_warmer::breaker::BreakerConfig;
use hotkeys_warmer::{DEFAULT_REDIS_URL, MEMCACHED_ITEM_LIMIT, WarmConfig};

use crate::args::{
    InputArgs, OutputFormatArg, RankArgs, RankByArg, ReportArgs, ReportFormatArg, WarmArgs,
};

/// The longest line the key table can hold a key of.
const MAX_LINE_LIMIT: usize = 16 << 20;

/// The smallest `--max-memory` that holds the tables' fixed parts.
const MIN_MEMORY: usize = 4 << 20;

/// How a warm list is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
    Ndjson,
    Csv,
    Keys,
    Urls { base: String },
}

/// `hotkeys rank`: the run, and where its warm list goes.
#[derive(Debug)]
pub struct RankCommand {
    pub config: RankConfig,
    pub format: OutputFormat,
    pub output: Option<PathBuf>,
    /// Write an empty list when no request could be read.
    pub allow_empty: bool,
    pub quiet: bool,
}

/// `hotkeys report`: the analysis, and where its outputs go.
#[derive(Debug)]
pub struct ReportCommand {
    pub config: ReportConfig,
    pub format: ReportFormat,
    pub output: Option<PathBuf>,
    pub hgrm: Option<PathBuf>,
    /// Write the report even when no request could be read.
    pub allow_empty: bool,
    pub quiet: bool,
}

/// Where a warm list comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListInput {
    File(PathBuf),
    Stdin,
}

/// `hotkeys warm`: the run, its input, and what to report.
#[derive(Debug)]
pub struct WarmCommand {
    pub input: ListInput,
    pub config: WarmConfig,
    pub dry_run: bool,
    pub summary: Option<PathBuf>,
    pub quiet: bool,
}

/// What the process environment contributes.
#[derive(Debug, Default)]
pub struct Env {
    pub redis_url: Option<String>,
    pub rediscli_auth: Option<String>,
    pub stdin_is_terminal: bool,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Env {
            redis_url: var("REDIS_URL"),
            rediscli_auth: var("REDISCLI_AUTH"),
            stdin_is_terminal: std::io::stdin().is_terminal(),
        }
    }
}

/// The input side shared by every command that reads logs: what to read,
/// how to parse it, which requests count and how they become keys.
struct InputConfig {
    inputs: Vec<Source>,
    scan: ScanOptions,
    rules: KeyRules,
    window: Window,
    allow_empty: bool,
}

impl InputConfig {
    /// `command` names the subcommand in messages (`hotkeys rank
    /// /var/log/nginx/`).
    fn from_args(args: InputArgs, command: &str, env: &Env) -> Result<InputConfig> {
        let inputs = if args.inputs.is_empty() {
            if env.stdin_is_terminal {
                bail!(
                    "no input: give log files or directories (hotkeys {command} /var/log/nginx/), \
                     or pipe logs in (zcat access.log.gz | hotkeys {command} -)"
                );
            }
            vec![Source::Stdin]
        } else {
            input::expand_inputs(&args.inputs)
        };
        if inputs.iter().filter(|s| **s == Source::Stdin).count() > 1 {
            bail!("stdin (-) can be read only once; give - one time");
        }

        let mut json_fields = JsonFields::defaults();
        for spec in &args.json_field {
            json_fields
                .set(spec)
                .with_context(|| format!("--json-field {spec:?}"))?;
        }
        let format = FormatChoice::parse(&args.log_format, &json_fields)?;

        let mut filter = if args.all {
            Filter::default()
        } else {
            Filter::cacheable()
        };
        if let Some(methods) = args.method {
            filter.methods = Some(methods);
        }
        if let Some(statuses) = args.status {
            filter.statuses = Some(statuses);
        }
        let hosts: Vec<Vec<u8>> = args
            .host
            .iter()
            .flat_map(|h| h.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| h.to_ascii_lowercase().into_bytes())
            .collect();
        if !hosts.is_empty() {
            filter.hosts = Some(hosts);
        }
        let window = Window {
            since: args.since,
            until: args.until,
        };
        window.check(&inputs)?;

        let exclude = Exclude {
            paths: if args.exclude_path.is_empty() {
                None
            } else {
                Some(
                    PathPatterns::new(&args.exclude_path)
                        .map_err(|e| anyhow!("--exclude-path: {e}"))?,
                )
            },
            clients: Networks(args.exclude_client),
            bots: args.exclude_bots.then(BotList::new),
        };

        let routes = args
            .routes
            .as_deref()
            .map(Routes::load)
            .transpose()
            .context("cannot use the routes file")?;

        // Key spans in the key table hold up to 16 MiB.
        if args.max_line > MAX_LINE_LIMIT {
            bail!("--max-line {}: at most 16MiB", args.max_line);
        }
        if args.chunk_size == 0 {
            bail!("--chunk-size must be above zero");
        }

        Ok(InputConfig {
            inputs,
            scan: ScanOptions {
                format,
                json_fields,
                wants: exclude.wants(),
                threads: usize::from(args.threads),
                chunk_size: args.chunk_size,
                max_line: args.max_line,
                strict: args.strict,
                mmap: !args.no_mmap,
                ..ScanOptions::default()
            },
            rules: KeyRules {
                filter,
                exclude,
                routes,
            },
            window,
            allow_empty: args.allow_empty,
        })
    }
}

impl RankCommand {
    pub fn from_args(args: RankArgs, env: &Env) -> Result<RankCommand> {
        let InputConfig {
            inputs,
            scan,
            rules,
            window,
            allow_empty,
        } = InputConfig::from_args(args.input, "rank", env)?;
        let by = match args.by {
            RankByArg::Requests => RankBy::Requests,
            RankByArg::Bytes => RankBy::Bytes,
            RankByArg::Cost => RankBy::Cost,
        };
        let memory = args
            .max_memory
            .map(|limit| memory_budget(limit, by))
            .transpose()?;

        let format = match args.output_format {
            OutputFormatArg::Table => OutputFormat::Table,
            OutputFormatArg::Json => OutputFormat::Json,
            OutputFormatArg::Ndjson => OutputFormat::Ndjson,
            OutputFormatArg::Csv => OutputFormat::Csv,
            OutputFormatArg::Keys => OutputFormat::Keys,
            OutputFormatArg::Urls => {
                let base = args.origin_base.clone().ok_or_else(|| {
                    anyhow!("--format urls needs --origin-base URL, e.g. --origin-base https://www.example.com")
                })?;
                if !(base.starts_with("http://") || base.starts_with("https://")) {
                    bail!("--origin-base {base:?}: expected an http:// or https:// URL");
                }
                OutputFormat::Urls { base }
            }
        };
        if args.origin_base.is_some() && !matches!(format, OutputFormat::Urls { .. }) {
            bail!("--origin-base is only used with --format urls");
        }

        Ok(RankCommand {
            config: RankConfig {
                inputs,
                scan,
                rules,
                window,
                memory,
                by,
                top: args.top,
            },
            format,
            output: args.output,
            allow_empty,
            quiet: args.quiet,
        })
    }
}

/// The budget of `--max-memory`, which bounds request counts only.
fn memory_budget(limit: usize, by: RankBy) -> Result<MemoryBudget> {
    if limit < MIN_MEMORY {
        bail!("--max-memory {limit}: at least 4MiB");
    }
    if by != RankBy::Requests {
        bail!(
            "--max-memory ranks by requests only: its error bounds are request counts \
             (drop --by, or count exactly without --max-memory)"
        );
    }
    Ok(MemoryBudget::new(limit))
}

impl ReportCommand {
    pub fn from_args(args: ReportArgs, env: &Env) -> Result<ReportCommand> {
        let InputConfig {
            inputs,
            scan,
            rules,
            window,
            allow_empty,
        } = InputConfig::from_args(args.input, "report", env)?;
        let method = match (args.sample_rate, args.exact) {
            (_, true) => CurveMethod::Exact,
            (Some(rate), false) => CurveMethod::Sampled(rate),
            (None, false) => CurveMethod::Auto {
                max_exact_requests: args.max_exact_requests,
            },
        };
        if let Some(path) = &args.hgrm
            && args.output.as_ref() == Some(path)
        {
            bail!("--hgrm and -o name the same file; give two files");
        }
        Ok(ReportCommand {
            config: ReportConfig {
                inputs,
                scan,
                rules,
                window,
                cache_sizes: args.cache_sizes.unwrap_or_default(),
                method,
                restart_at: args.restart_at,
                warm_top: args.warm_top,
                warm_cache_size: args.warm_cache_size,
                top_keys: args.top_keys,
            },
            format: match args.output_format {
                ReportFormatArg::Text => ReportFormat::Text,
                ReportFormatArg::Json => ReportFormat::Json,
                ReportFormatArg::Html => ReportFormat::Html,
            },
            output: args.output,
            hgrm: args.hgrm,
            allow_empty,
            quiet: args.quiet,
        })
    }
}

impl WarmCommand {
    pub fn from_args(args: WarmArgs, env: &Env) -> Result<WarmCommand> {
        let input = match args.list.as_deref() {
            Some(p) if p == Path::new("-") => ListInput::Stdin,
            Some(p) => ListInput::File(p.to_owned()),
            None if env.stdin_is_terminal => bail!(
                "no warm list: give a file (hotkeys warm warm.json --origin URL) or pipe one in \
                 (hotkeys rank access.log --format json | hotkeys warm - --origin URL)"
            ),
            None => ListInput::Stdin,
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
        config.memcached = args.memcached;
        config.redis_password = env.rediscli_auth.clone();
        config.routes = args
            .routes
            .as_deref()
            .map(Routes::load)
            .transpose()
            .context("cannot use the routes file")?;
        config.overwrite = args.overwrite;
        config.ttl = args.ttl;
        if args.ttl_jitter >= 1.0 {
            bail!("--ttl-jitter must be below 100%");
        }
        config.ttl_jitter = args.ttl_jitter;
        config.concurrency = usize::try_from(args.concurrency).unwrap_or(usize::MAX);
        config.rate = args.rate;
        config.retries = args.retries;
        config.origin_timeout = args.timeout;
        config.redis_timeout = args.redis_timeout;
        config.max_value_size = match args.max_value_size {
            Some(size) => size,
            None if !config.memcached.is_empty() => MEMCACHED_ITEM_LIMIT,
            None => config.max_value_size,
        };
        config.store_statuses = args.store_status;
        config.headers = args.headers;
        config.use_env_proxy = args.use_env_proxy;
        config.max_keys = args.max_keys;
        config.deadline = args.deadline;
        config.breaker = BreakerConfig {
            window: usize::try_from(args.breaker_window).unwrap_or(usize::MAX),
            threshold: args.breaker_threshold,
        };
        config.batch_size = args.batch_size.max(1);
        config.validate()?;
        Ok(WarmCommand {
            input,
            config,
            dry_run: args.dry_run,
            summary: args.summary,
            quiet: args.quiet,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn warm(args: &[&str], env: Env) -> Result<WarmCommand> {
        let mut all = vec!["hotkeys", "warm"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| anyhow!("{e}"))?;
        let Command::Warm(args) = cli.command else {
            bail!("not warm");
        };
        WarmCommand::from_args(args, &env)
    }

    #[test]
    fn warm_defaults_and_environment() {
        let o = warm(&["--origin", "http://o:1"], Env::default()).unwrap();
        assert_eq!(o.input, ListInput::Stdin);
        assert_eq!(o.config.redis, [DEFAULT_REDIS_URL]);
        assert_eq!(o.config.ttl, None);
        assert_eq!(o.config.ttl_jitter, 0.1);
        assert_eq!(o.config.max_value_size, 4 << 20);
        let env = Env {
            redis_url: Some("redis://cache:6380".into()),
            rediscli_auth: Some("pw".into()),
            stdin_is_terminal: false,
        };
        let o = warm(&["-", "--origin", "http://o:1"], env).unwrap();
        assert_eq!(o.config.redis, ["redis://cache:6380"]);
        assert_eq!(o.config.redis_password.as_deref(), Some("pw"));
        let o = warm(
            &[
                "list.json",
                "--origin",
                "http://o:1",
                "--redis",
                "redis://x:1",
            ],
            Env {
                redis_url: Some("redis://ignored:1".into()),
                ..Env::default()
            },
        )
        .unwrap();
        assert_eq!(o.input, ListInput::File("list.json".into()));
        assert_eq!(o.config.redis, ["redis://x:1"]);
    }

    #[test]
    fn warm_values_are_parsed() {
        let o = warm(
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
    fn memcached_is_a_target_beside_redis() {
        let o = warm(
            &[
                "--origin",
                "http://o:1",
                "--memcached",
                "10.0.0.1:11211",
                "--memcached",
                "10.0.0.2:11212",
            ],
            Env {
                redis_url: Some("redis://ignored:1".into()),
                ..Env::default()
            },
        )
        .unwrap();
        assert_eq!(o.config.memcached, ["10.0.0.1:11211", "10.0.0.2:11212"]);
        assert_eq!(o.config.max_value_size, 1 << 20, "memcached's item limit");
        let o = warm(
            &[
                "--origin",
                "http://o:1",
                "--memcached",
                "h:1",
                "--max-value-size",
                "8MiB",
            ],
            Env::default(),
        )
        .unwrap();
        assert_eq!(o.config.max_value_size, 8 << 20);

        let err = |args: &[&str]| warm(args, Env::default()).unwrap_err().to_string();
        for other in [&["--redis", "redis://x:1"][..], &["--cluster"][..]] {
            let mut args = vec!["--origin", "http://o", "--memcached", "h:1"];
            args.extend_from_slice(other);
            let e = err(&args);
            assert!(e.contains("cannot be used with"), "{e}");
        }
        let e = err(&["--origin", "http://o", "--memcached", "h:x"]);
        assert!(e.contains("port"), "{e}");
    }

    #[test]
    fn warm_mistakes_say_what_to_do() {
        let err = |args: &[&str]| warm(args, Env::default()).unwrap_err().to_string();
        assert!(err(&["--origin", "ftp://x"]).contains("http://"));
        assert!(err(&["--origin", "http://o", "--ttl", "soon"]).contains("--ttl"));
        assert!(err(&["--origin", "http://o", "--ttl", "0"]).contains("above zero"));
        let e = err(&["--origin", "http://o", "--ttl", "36501d"]);
        assert!(e.contains("--ttl") && e.contains("100 years"), "{e}");
        assert!(warm(&["--origin", "http://o", "--ttl", "36500d"], Env::default()).is_ok());
        assert!(err(&["--origin", "http://o", "--ttl-jitter", "150%"]).contains("percentage"));
        assert!(err(&["--origin", "http://o", "--ttl-jitter", "100%"]).contains("below 100%"));
        assert!(err(&["--origin", "http://o", "--rate", "0"]).contains("--rate"));
        assert!(err(&["--origin", "http://o", "-c", "0"]).contains("--concurrency"));
        assert!(
            err(&["--origin", "http://o", "--breaker-window", "0"]).contains("--breaker-window")
        );
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
        let no_list = warm(
            &["--origin", "http://o"],
            Env {
                stdin_is_terminal: true,
                ..Env::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(no_list.contains("no warm list"), "{no_list}");
    }
}
