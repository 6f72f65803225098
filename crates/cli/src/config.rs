//! Turning parsed arguments into a plain configuration, checking them on
//! the way. Every usage mistake is caught here, before any input is read.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use hotkeys_contract::duration::parse_duration;
use hotkeys_contract::routes::Routes;
use hotkeys_contract::size::parse_size;
use hotkeys_parser::filter::{self, Filter};
use hotkeys_parser::format::FormatChoice;
use hotkeys_parser::format::json::JsonFields;
use hotkeys_parser::input::{self, Source};
use hotkeys_parser::rank::{KeyRules, MemoryBudget, RankBy};
use hotkeys_parser::scan::ScanOptions;
use hotkeys_parser::time::parse_iso8601;

use crate::args::{InputArgs, OutputFormatArg, RankArgs, RankByArg};

/// Where the output goes and in which form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
    Ndjson,
    Csv,
    Keys,
    Urls { base: String },
}

/// A `--since`/`--until` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBound {
    /// Unix microseconds.
    At(i64),
    /// This long before the newest request in the input.
    BeforeNewest(Duration),
}

/// Everything `hotkeys rank` needs, without clap.
#[derive(Debug)]
pub struct RankConfig {
    pub inputs: Vec<Source>,
    pub scan: ScanOptions,
    pub rules: KeyRules,
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
    pub top: usize,
    pub by: RankBy,
    pub format: OutputFormat,
    pub output: Option<PathBuf>,
    pub quiet: bool,
}

/// The input side shared by every command that reads logs: what to read,
/// how to parse it, which requests count and how they become keys.
#[derive(Debug)]
pub struct InputConfig {
    pub inputs: Vec<Source>,
    pub scan: ScanOptions,
    pub rules: KeyRules,
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
}

impl InputConfig {
    /// Checks and converts the shared options; `command` names the
    /// subcommand in messages (`hotkeys rank /var/log/nginx/`).
    pub fn from_args(args: InputArgs, command: &str) -> Result<InputConfig> {
        let inputs = if args.inputs.is_empty() {
            if std::io::stdin().is_terminal() {
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
        if let Some(list) = &args.method {
            filter.methods =
                Some(filter::parse_methods(list).map_err(|e| anyhow!("--method: {e}"))?);
        }
        if let Some(list) = &args.status {
            filter.statuses =
                Some(filter::parse_statuses(list).map_err(|e| anyhow!("--status: {e}"))?);
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
        let since = args
            .since
            .as_deref()
            .map(|s| parse_time_bound(s, "--since"))
            .transpose()?;
        let until = args
            .until
            .as_deref()
            .map(|s| parse_time_bound(s, "--until"))
            .transpose()?;
        if let (Some(TimeBound::At(s)), Some(TimeBound::At(u))) = (since, until)
            && s >= u
        {
            bail!("--since must be before --until");
        }
        let relative = matches!(since, Some(TimeBound::BeforeNewest(_)))
            || matches!(until, Some(TimeBound::BeforeNewest(_)));
        if relative && inputs.contains(&Source::Stdin) {
            bail!(
                "a relative --since/--until is measured from the newest request, which needs a \
                 second read of the input; stdin cannot be read twice. Give files, or an RFC 3339 time."
            );
        }

        let routes = args
            .routes
            .as_deref()
            .map(Routes::load)
            .transpose()
            .context("cannot use the routes file")?;

        let max_line = parse_size(&args.max_line)
            .with_context(|| format!("--max-line {:?}", args.max_line))?;
        let chunk_size = parse_size(&args.chunk_size)
            .with_context(|| format!("--chunk-size {:?}", args.chunk_size))?;
        if max_line == 0 || chunk_size == 0 {
            bail!("--max-line and --chunk-size must be above zero");
        }
        // Key spans in the key table hold up to 16 MiB.
        if max_line > 16 << 20 {
            bail!("--max-line {:?}: at most 16MiB", args.max_line);
        }

        Ok(InputConfig {
            inputs,
            scan: ScanOptions {
                format,
                json_fields,
                threads: args.threads,
                chunk_size,
                max_line: usize::try_from(max_line).unwrap_or(usize::MAX),
                strict: args.strict,
                ..ScanOptions::default()
            },
            rules: KeyRules {
                filter,
                routes,
                memory: None,
            },
            since,
            until,
        })
    }
}

impl RankConfig {
    pub fn from_args(args: RankArgs) -> Result<RankConfig> {
        let InputConfig {
            inputs,
            scan,
            rules,
            since,
            until,
        } = InputConfig::from_args(args.input, "rank")?;
        let rules = KeyRules {
            memory: memory_budget(args.max_memory.as_deref(), args.by)?,
            ..rules
        };

        let format_out = match args.output_format {
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
        if args.origin_base.is_some() && !matches!(format_out, OutputFormat::Urls { .. }) {
            bail!("--origin-base is only used with --format urls");
        }

        Ok(RankConfig {
            inputs,
            scan,
            rules,
            since,
            until,
            top: args.top,
            by: match args.by {
                RankByArg::Requests => RankBy::Requests,
                RankByArg::Bytes => RankBy::Bytes,
                RankByArg::Cost => RankBy::Cost,
            },
            format: format_out,
            output: args.output,
            quiet: args.quiet,
        })
    }
}

/// The budget of `--max-memory`, which bounds request counts only.
fn memory_budget(text: Option<&str>, by: RankByArg) -> Result<Option<MemoryBudget>> {
    let Some(text) = text else { return Ok(None) };
    let limit = parse_size(text).with_context(|| format!("--max-memory {text:?}"))?;
    if limit < 4 << 20 {
        bail!("--max-memory {text:?}: at least 4MiB");
    }
    if by != RankByArg::Requests {
        bail!(
            "--max-memory ranks by requests only: its error bounds are request counts \
             (drop --by, or count exactly without --max-memory)"
        );
    }
    Ok(Some(MemoryBudget::new(
        usize::try_from(limit).unwrap_or(usize::MAX),
    )))
}

/// `2024-05-01T12:00:00Z`, `2024-05-01` (midnight UTC), or a duration.
pub fn parse_time_bound(text: &str, option: &str) -> Result<TimeBound> {
    if let Some(t) = parse_iso8601(text.as_bytes()) {
        return Ok(TimeBound::At(t));
    }
    if text.len() == 10
        && let Some(t) = parse_iso8601(format!("{text}T00:00:00Z").as_bytes())
    {
        return Ok(TimeBound::At(t));
    }
    match parse_duration(text) {
        Ok(d) => Ok(TimeBound::BeforeNewest(d)),
        Err(_) => bail!(
            "{option} {text:?}: expected an RFC 3339 time (2024-05-01T12:00:00Z), a date \
             (2024-05-01) or a duration before the newest request (24h, 90m)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds() {
        assert_eq!(
            parse_time_bound("1970-01-01T00:00:01Z", "--since").unwrap(),
            TimeBound::At(1_000_000)
        );
        assert_eq!(
            parse_time_bound("1970-01-02", "--since").unwrap(),
            TimeBound::At(86_400_000_000)
        );
        assert_eq!(
            parse_time_bound("24h", "--since").unwrap(),
            TimeBound::BeforeNewest(Duration::from_secs(86_400))
        );
        let err = parse_time_bound("yesterday", "--since")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--since") && err.contains("RFC 3339"), "{err}");
    }
}
