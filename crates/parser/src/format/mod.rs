//! Log formats: choosing one, detecting one, and parsing lines with it.
//!
//! Text formats compile to a [`template::Template`]; JSON lines use the
//! scanner in [`json`]. Either way a line becomes a [`Request`] through
//! [`LineParser::parse`].

pub mod apache;
mod clf_head;
pub mod json;
pub mod nginx;
pub mod template;

use std::sync::Arc;

use crate::record::{JoinBuffer, LineError, RawFields, Request};
use crate::time::TimeCache;
use json::{JsonFields, JsonLineParser};
use template::Template;

/// nginx's `combined` plus the two timing variables most setups append.
pub const NGINX_TIMED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time"#;

/// The built-in names `--log-format` accepts besides format strings.
pub const BUILTIN_NAMES: &[&str] = &[
    "auto",
    "combined",
    "common",
    "vcombined",
    "nginx-timed",
    "json",
    "caddy",
];

/// The formats auto-detection tries, most specific first: a line of a later
/// format never matches an earlier one, but `common` matches every
/// `combined` line, so order breaks ties.
const DETECTION_ORDER: &[&str] = &["vcombined", "nginx-timed", "combined", "common"];

/// The fields only some runs need. A format reads them only when asked:
/// in a text format they may sit after every other field (the user agent
/// ends `combined`), and a run that does not use them must not pay for
/// scanning that far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wants {
    /// The client address ([`Request::client`]).
    pub client: bool,
    /// The user agent ([`Request::user_agent`]).
    pub user_agent: bool,
}

impl Wants {
    /// The fields either asks for.
    pub fn union(self, other: Wants) -> Wants {
        Wants {
            client: self.client || other.client,
            user_agent: self.user_agent || other.user_agent,
        }
    }
}

/// Which fields the lines of a format carry, as far as the format says:
/// a text format has the field or not; a JSON line may have any key, so a
/// JSON format records every field it has candidate keys for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Records {
    /// The virtual host (`$host`, `%v`), which `--host` needs.
    pub host: bool,
    /// A request or upstream time, which ranking by cost needs.
    pub latency: bool,
    /// The client address, which `--exclude-client` needs.
    pub client: bool,
    /// The user agent, which `--exclude-bots` needs.
    pub user_agent: bool,
}

/// A log format, ready to parse lines.
#[derive(Clone, Debug)]
pub struct LogFormat {
    name: String,
    kind: FormatKind,
}

#[derive(Clone, Debug)]
enum FormatKind {
    Text(Arc<Template>),
    Json(Arc<JsonFields>),
}

/// What the user asked for with `--log-format`.
#[derive(Clone, Debug)]
pub enum FormatChoice {
    /// Detect each input's format from its first lines.
    Auto,
    /// Read every input with this format; lines it does not match are
    /// malformed.
    Fixed(LogFormat),
}

/// A `--log-format` value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("--log-format {given:?}: {reason}")]
pub struct FormatError {
    /// The `--log-format` value as the user gave it.
    pub given: String,
    /// Why it was refused: not a known name, or why the format string does
    /// not compile (no fields, two fields with nothing between them, …).
    pub reason: String,
}

impl FormatChoice {
    /// Reads a `--log-format` value: a built-in name, an nginx `log_format`
    /// string (has `$`), or an Apache `LogFormat` string (has `%`). The
    /// prefixes `nginx:` and `apache:` force one reading.
    pub fn parse(arg: &str, json_fields: &JsonFields) -> Result<FormatChoice, FormatError> {
        let error = |reason: String| FormatError {
            given: arg.to_string(),
            reason,
        };
        if arg == "auto" {
            return Ok(FormatChoice::Auto);
        }
        if let Some(format) = LogFormat::builtin(arg, json_fields) {
            return Ok(FormatChoice::Fixed(format));
        }
        let pieces = if let Some(f) = arg.strip_prefix("nginx:") {
            nginx::compile(f)
        } else if let Some(f) = arg.strip_prefix("apache:") {
            apache::compile(f)
        } else if arg.contains('$') {
            nginx::compile(arg)
        } else if arg.contains('%') {
            apache::compile(arg)
        } else {
            return Err(error(format!(
                "not a known format; use one of {} or an nginx log_format / Apache LogFormat string",
                BUILTIN_NAMES.join(", ")
            )));
        };
        let template = pieces.and_then(Template::new).map_err(error)?;
        Ok(FormatChoice::Fixed(LogFormat {
            name: "custom".into(),
            kind: FormatKind::Text(Arc::new(template)),
        }))
    }
}

impl LogFormat {
    /// A built-in format by name (`auto` excepted).
    pub fn builtin(name: &str, json_fields: &JsonFields) -> Option<LogFormat> {
        let text = |f: &str, compile: fn(&str) -> Result<Vec<template::Piece>, String>| {
            let template = compile(f)
                .and_then(Template::new)
                .expect("built-in formats compile");
            FormatKind::Text(Arc::new(template))
        };
        let kind = match name {
            "combined" => text(apache::COMBINED, apache::compile),
            "common" => text(apache::COMMON, apache::compile),
            "vcombined" => text(apache::VCOMBINED, apache::compile),
            "nginx-timed" => text(NGINX_TIMED, nginx::compile),
            "json" | "caddy" => FormatKind::Json(Arc::new(json_fields.clone())),
            _ => return None,
        };
        Some(LogFormat {
            name: name.to_string(),
            kind,
        })
    }

    /// The format's name as shown to users (`custom` for format strings).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Picks the format that reads the most of `lines` (blank lines
    /// ignored), or `None` when no format reads any of them.
    pub fn detect(lines: &[&[u8]], json_fields: &JsonFields) -> Option<LogFormat> {
        let lines: Vec<&[u8]> = lines
            .iter()
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .collect();
        if lines.is_empty() {
            return None;
        }
        let json_like = lines
            .iter()
            .filter(|l| l.trim_ascii_start().starts_with(b"{"))
            .count();
        if json_like * 2 > lines.len() {
            return LogFormat::builtin("json", json_fields);
        }
        let mut best: Option<(usize, LogFormat)> = None;
        for name in DETECTION_ORDER {
            let format = LogFormat::builtin(name, json_fields)?;
            let FormatKind::Text(template) = &format.kind else {
                continue;
            };
            let score = lines
                .iter()
                .filter(|l| template.parse(l, true).is_ok())
                .count();
            if score > 0 && best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, format));
            }
        }
        best.map(|(_, f)| f)
    }

    /// Which fields its lines carry.
    pub fn records(&self) -> Records {
        match &self.kind {
            FormatKind::Text(t) => Records {
                host: t.has_field(|k| k == template::FieldKind::Host),
                latency: t.has_latency(),
                client: t.has_field(|k| k == template::FieldKind::Client),
                user_agent: t.has_field(|k| k == template::FieldKind::UserAgent),
            },
            FormatKind::Json(fields) => fields.records(),
        }
    }

    /// A parser with its own scratch state, for one thread, that reads none
    /// of the optional fields.
    pub fn line_parser(&self) -> LineParser {
        self.line_parser_with(Wants::default())
    }

    /// A parser with its own scratch state, for one thread, that also reads
    /// the optional fields in `wants`.
    pub fn line_parser_with(&self, wants: Wants) -> LineParser {
        let kind = match &self.kind {
            FormatKind::Text(t) if wants == Wants::default() => ParserKind::Text(Arc::clone(t)),
            FormatKind::Text(t) => ParserKind::Text(Arc::new(t.for_wants(wants))),
            FormatKind::Json(fields) => {
                ParserKind::Json(JsonLineParser::with_wants((**fields).clone(), wants))
            }
        };
        LineParser {
            kind,
            times: TimeCache::default(),
            join: JoinBuffer::default(),
        }
    }
}

enum ParserKind {
    Text(Arc<Template>),
    Json(JsonLineParser),
}

/// Parses lines of one format; owns the per-thread buffers that parsing
/// needs, so the hot loop does not allocate.
pub struct LineParser {
    kind: ParserKind,
    times: TimeCache,
    join: JoinBuffer,
}

impl LineParser {
    /// Parses one line (without its line ending).
    ///
    /// Matching and conversion share one frame (the conversion is always
    /// inlined here): the field and request structs are a few hundred
    /// bytes, and as separate calls their moves between frames were 7% of
    /// `rank`'s time (`memmove` in `perf`). Forcing this function itself
    /// into the scanner's loop measured no better.
    #[inline]
    pub fn parse<'a>(&'a mut self, line: &'a [u8]) -> Result<Request<'a>, LineError> {
        let req = match &mut self.kind {
            ParserKind::Text(t) => {
                let mut raw = RawFields::default();
                t.parse_into(line, false, &mut raw)?;
                raw.to_request(&mut self.times, &mut self.join)?
            }
            ParserKind::Json(p) => p.parse(line)?.to_request(&mut self.times, &mut self.join)?,
        };
        if req.method.is_none() && req.target.is_none() && req.status.is_none() {
            return Err(LineError("no request fields found"));
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(lines: &[&str]) -> Option<String> {
        let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        LogFormat::detect(&lines, &JsonFields::defaults()).map(|f| f.name().to_string())
    }

    const COMBINED_LINE: &str =
        r#"1.2.3.4 - - [01/May/2024:00:00:01 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8""#;

    #[test]
    fn detects_each_builtin() {
        assert_eq!(detect(&[COMBINED_LINE]).as_deref(), Some("combined"));
        assert_eq!(
            detect(&[r#"1.2.3.4 - - [01/May/2024:00:00:01 +0000] "GET /a HTTP/1.1" 200 10"#])
                .as_deref(),
            Some("common")
        );
        assert_eq!(
            detect(&[&format!("{COMBINED_LINE} 0.010 -")]).as_deref(),
            Some("nginx-timed")
        );
        assert_eq!(
            detect(&[&format!("shop.example:443 {COMBINED_LINE}")]).as_deref(),
            Some("vcombined")
        );
        assert_eq!(
            detect(&[r#"{"status":200,"request":"GET / HTTP/1.1"}"#, ""]).as_deref(),
            Some("json")
        );
        assert_eq!(detect(&["", "   "]), None);
        assert_eq!(detect(&["complete garbage"]), None);
    }

    #[test]
    fn detection_prefers_the_format_most_lines_match() {
        // `common` reads every line here, `combined` only one.
        let common = r#"1.2.3.4 - - [01/May/2024:00:00:01 +0000] "GET /a HTTP/1.1" 200 10"#;
        assert_eq!(
            detect(&[common, common, COMBINED_LINE]).as_deref(),
            Some("common")
        );
        let vhost = format!("shop.example:443 {COMBINED_LINE}");
        assert_eq!(
            detect(&[&vhost, COMBINED_LINE, COMBINED_LINE]).as_deref(),
            Some("combined")
        );
        assert_eq!(
            detect(&[&vhost, &vhost, COMBINED_LINE]).as_deref(),
            Some("vcombined")
        );
    }

    #[test]
    fn format_arguments() {
        let fields = JsonFields::defaults();
        assert!(matches!(
            FormatChoice::parse("auto", &fields),
            Ok(FormatChoice::Auto)
        ));
        for &name in &BUILTIN_NAMES[1..] {
            let FormatChoice::Fixed(f) = FormatChoice::parse(name, &fields).unwrap() else {
                panic!("{name} should be fixed");
            };
            assert_eq!(f.name(), name);
        }
        assert!(matches!(
            FormatChoice::parse("$remote_addr $status", &fields),
            Ok(FormatChoice::Fixed(_))
        ));
        assert!(matches!(
            FormatChoice::parse("%h %>s", &fields),
            Ok(FormatChoice::Fixed(_))
        ));
        let err = FormatChoice::parse("combind", &fields).unwrap_err();
        assert!(err.to_string().contains("combined, common"), "{err}");
        let err = FormatChoice::parse("$a$b", &fields).unwrap_err();
        assert!(err.to_string().contains("nothing between them"), "{err}");
    }

    #[test]
    fn parser_rejects_lines_without_request_fields() {
        let f = LogFormat::builtin("json", &JsonFields::defaults()).unwrap();
        let mut p = f.line_parser();
        assert!(p.parse(br#"{"unrelated":1}"#).is_err());
        let req = p
            .parse(br#"{"request":"GET /x HTTP/1.1","status":200}"#)
            .unwrap();
        assert_eq!(req.target, Some(&b"/x"[..]));
    }
}
