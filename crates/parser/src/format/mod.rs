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

    /// A parser with its own scratch state, for one thread.
    pub fn line_parser(&self) -> LineParser {
        let kind = match &self.kind {
            FormatKind::Text(t) => ParserKind::Text(Arc::clone(t)),
            FormatKind::Json(fields) => ParserKind::Json(JsonLineParser::new((**fields).clone())),
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
