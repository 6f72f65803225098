//! nginx `log_format` strings.
//!
//! A format is literal text with `$variable` or `${variable}` references.
//! Variables the tool understands fill request fields; any other variable
//! (`$http_x_forwarded_for`, `$ssl_protocol`, …) is kept as an opaque field
//! so lines still line up.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till1, take_while1};
use nom::combinator::{all_consuming, map};
use nom::multi::many0;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use super::template::{FieldKind, Piece};
use crate::record::LatencyUnit;
use crate::time::TimeKind;

enum Token<'a> {
    Literal(&'a str),
    Variable(&'a str),
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn variable(input: &str) -> IResult<&str, &str> {
    preceded(
        tag("$"),
        alt((
            delimited(tag("{"), take_while1(is_name_char), tag("}")),
            take_while1(is_name_char),
        )),
    )
    .parse(input)
}

fn tokens(input: &str) -> IResult<&str, Vec<Token<'_>>> {
    all_consuming(many0(alt((
        map(variable, Token::Variable),
        map(take_till1(|c| c == '$'), Token::Literal),
        // A `$` that starts no variable name is plain text.
        map(tag("$"), Token::Literal),
    ))))
    .parse(input)
}

/// The field an nginx variable fills.
pub fn field_kind(variable: &str) -> FieldKind {
    match variable {
        "time_local" => FieldKind::Time(TimeKind::Clf),
        "time_iso8601" => FieldKind::Time(TimeKind::Iso8601),
        "msec" => FieldKind::Time(TimeKind::EpochSeconds),
        "request" => FieldKind::RequestLine,
        "request_method" => FieldKind::Method,
        "request_uri" => FieldKind::Target,
        "uri" | "document_uri" => FieldKind::Path,
        "args" | "query_string" => FieldKind::Args,
        "server_protocol" => FieldKind::Protocol,
        "status" => FieldKind::Status,
        "body_bytes_sent" | "bytes_sent" => FieldKind::Bytes,
        "request_time" => FieldKind::RequestTime(LatencyUnit::Seconds),
        "upstream_response_time" => FieldKind::UpstreamTime(LatencyUnit::Seconds),
        "upstream_cache_status" => FieldKind::CacheStatus,
        "host" | "http_host" | "server_name" => FieldKind::Host,
        "remote_addr" => FieldKind::Client,
        "http_user_agent" => FieldKind::UserAgent,
        _ => FieldKind::Opaque,
    }
}

/// Compiles an nginx `log_format` string into template pieces.
pub fn compile(format: &str) -> Result<Vec<Piece>, String> {
    let (_, tokens) = tokens(format).map_err(|e| format!("cannot read nginx log_format: {e}"))?;
    let mut pieces: Vec<Piece> = tokens
        .into_iter()
        .map(|t| match t {
            Token::Literal(text) => Piece::Literal(text.as_bytes().to_vec()),
            Token::Variable(name) => Piece::Field(field_kind(name), format!("${name}")),
        })
        .collect();
    // `$body_bytes_sent` is what a cache stores; `$bytes_sent` adds headers
    // and only stands in when the body size is not logged.
    let has_body = pieces
        .iter()
        .any(|p| matches!(p, Piece::Field(_, n) if n == "$body_bytes_sent"));
    prefer_first(&mut pieces, has_body, "$bytes_sent", FieldKind::Bytes);
    let has_host = pieces
        .iter()
        .any(|p| matches!(p, Piece::Field(_, n) if n == "$host"));
    for other in ["$http_host", "$server_name"] {
        prefer_first(&mut pieces, has_host, other, FieldKind::Host);
    }
    Ok(pieces)
}

/// Turns `name` into an opaque field when a preferred field is present.
fn prefer_first(pieces: &mut [Piece], preferred_present: bool, name: &str, kind: FieldKind) {
    if !preferred_present {
        return;
    }
    for piece in pieces {
        if let Piece::Field(k, n) = piece
            && n == name
            && *k == kind
        {
            *k = FieldKind::Opaque;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::template::Template;

    const TIMED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time"#;

    #[test]
    fn compiles_the_issue_example_and_parses_a_line() {
        let t = Template::new(compile(TIMED).unwrap()).unwrap();
        let line = br#"2001:db8::1 - - [01/May/2024:10:00:00 +0200] "GET /p?q=1 HTTP/2.0" 200 512 "-" "Mozilla/5.0 (X11)" 0.120 0.100, 0.015"#;
        let raw = t.parse(line, true).unwrap();
        assert_eq!(raw.request_line, Some(&b"GET /p?q=1 HTTP/2.0"[..]));
        assert_eq!(raw.time.unwrap().0, b"01/May/2024:10:00:00 +0200");
        assert_eq!(raw.bytes, Some(&b"512"[..]));
        assert_eq!(raw.request_time.unwrap().0, b"0.120");
        assert_eq!(raw.upstream_time.unwrap().0, b"0.100, 0.015");
        assert!(t.has_latency());
    }

    #[test]
    fn braces_dollar_signs_and_unknown_variables() {
        let pieces = compile("${host}:$server_port $$x $ssl_protocol").unwrap();
        assert_eq!(
            pieces,
            vec![
                Piece::Field(FieldKind::Host, "$host".into()),
                Piece::Literal(b":".to_vec()),
                Piece::Field(FieldKind::Opaque, "$server_port".into()),
                Piece::Literal(b" ".to_vec()),
                Piece::Literal(b"$".to_vec()),
                Piece::Field(FieldKind::Opaque, "$x".into()),
                Piece::Literal(b" ".to_vec()),
                Piece::Field(FieldKind::Opaque, "$ssl_protocol".into()),
            ]
        );
    }

    #[test]
    fn every_listed_variable_is_understood() {
        for v in [
            "time_local",
            "time_iso8601",
            "request",
            "request_method",
            "request_uri",
            "uri",
            "args",
            "server_protocol",
            "status",
            "body_bytes_sent",
            "bytes_sent",
            "request_time",
            "upstream_response_time",
            "upstream_cache_status",
            "host",
            "remote_addr",
            "http_user_agent",
        ] {
            assert_ne!(field_kind(v), FieldKind::Opaque, "{v}");
        }
        for v in ["remote_user", "http_referer", "http_x_forwarded_for"] {
            assert_eq!(field_kind(v), FieldKind::Opaque, "{v}");
        }
    }

    #[test]
    fn body_bytes_win_over_bytes_sent() {
        let pieces = compile("$bytes_sent $body_bytes_sent").unwrap();
        assert_eq!(
            pieces[0],
            Piece::Field(FieldKind::Opaque, "$bytes_sent".into())
        );
        let pieces = compile("$bytes_sent $status").unwrap();
        assert_eq!(
            pieces[0],
            Piece::Field(FieldKind::Bytes, "$bytes_sent".into())
        );
    }

    #[test]
    fn uri_and_args_join_into_a_target() {
        let t = Template::new(compile("$uri?$args $status").unwrap()).unwrap();
        let raw = t.parse(b"/a?b=1 200", true).unwrap();
        assert_eq!(raw.path, Some(&b"/a"[..]));
        assert_eq!(raw.args, Some(&b"b=1"[..]));
    }
}
