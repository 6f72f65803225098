//! Apache `LogFormat` strings, and the built-in formats defined with them.
//!
//! A directive is `%` with optional conditions (`!400,501`), an optional
//! `<`/`>` (original or final request), an optional `{argument}` and a
//! letter. Directives the tool does not use become opaque fields.

use nom::branch::alt;
use nom::bytes::complete::{is_a, tag, take_till1, take_until};
use nom::character::complete::{anychar, one_of};
use nom::combinator::{all_consuming, map, opt, value};
use nom::multi::many0;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use super::template::{FieldKind, Piece};
use crate::record::LatencyUnit;
use crate::time::TimeKind;

/// NCSA common log format.
pub const COMMON: &str = r#"%h %l %u %t "%r" %>s %b"#;
/// NCSA combined: common plus referer and user agent (nginx's default too).
pub const COMBINED: &str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#;
/// Apache's `vhost_combined`: combined behind `host:port`.
pub const VCOMBINED: &str = r#"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#;

#[derive(Clone, Debug, PartialEq)]
enum Token<'a> {
    Literal(String),
    Directive { arg: Option<&'a str>, letter: char },
}

fn directive(input: &str) -> IResult<&str, Token<'_>> {
    let conditions = opt((opt(tag("!")), is_a("0123456789,")));
    let arg = opt(delimited(tag("{"), take_until("}"), tag("}")));
    map(
        preceded(tag("%"), (conditions, opt(one_of("<>")), arg, anychar)),
        |(_, _, arg, letter)| Token::Directive { arg, letter },
    )
    .parse(input)
}

/// Apache config strings escape quotes and control characters.
fn escape(input: &str) -> IResult<&str, Token<'_>> {
    preceded(
        tag("\\"),
        alt((
            value('\n', tag("n")),
            value('\t', tag("t")),
            value('"', tag("\"")),
            value('\\', tag("\\")),
        )),
    )
    .map(|c| Token::Literal(c.to_string()))
    .parse(input)
}

fn tokens(input: &str) -> IResult<&str, Vec<Token<'_>>> {
    all_consuming(many0(alt((
        value(Token::Literal("%".into()), tag("%%")),
        directive,
        escape,
        map(take_till1(|c| c == '%' || c == '\\'), |s: &str| {
            Token::Literal(s.to_string())
        }),
        map(tag("\\"), |s: &str| Token::Literal(s.to_string())),
    ))))
    .parse(input)
}

fn pieces_for(arg: Option<&str>, letter: char) -> Vec<Piece> {
    let name = match arg {
        Some(a) => format!("%{{{a}}}{letter}"),
        None => format!("%{letter}"),
    };
    let field = |kind| vec![Piece::Field(kind, name.clone())];
    match (letter, arg) {
        // `%t` writes its own brackets.
        ('t', None) => vec![
            Piece::Literal(b"[".to_vec()),
            Piece::Field(FieldKind::Time(TimeKind::Clf), name.clone()),
            Piece::Literal(b"]".to_vec()),
        ],
        ('t', Some("sec")) => field(FieldKind::Time(TimeKind::EpochSeconds)),
        ('r', _) => field(FieldKind::RequestLine),
        ('m', _) => field(FieldKind::Method),
        ('U', _) => field(FieldKind::Path),
        ('q', _) => field(FieldKind::QueryWithMark),
        ('H', _) => field(FieldKind::Protocol),
        ('s', _) => field(FieldKind::Status),
        ('b' | 'B' | 'O', _) => field(FieldKind::Bytes),
        ('D', _) => field(FieldKind::RequestTime(LatencyUnit::Micros)),
        ('T', None | Some("s")) => field(FieldKind::RequestTime(LatencyUnit::Seconds)),
        ('T', Some("ms")) => field(FieldKind::RequestTime(LatencyUnit::Millis)),
        ('T', Some("us")) => field(FieldKind::RequestTime(LatencyUnit::Micros)),
        ('v' | 'V', _) => field(FieldKind::Host),
        // `%a` is the client address (after mod_remoteip), `%h` the remote
        // host (an address unless HostnameLookups is on), `%{c}` the peer
        // of the connection.
        ('a' | 'h', None | Some("c")) => field(FieldKind::Client),
        ('i', Some(header)) if header.eq_ignore_ascii_case("User-Agent") => {
            field(FieldKind::UserAgent)
        }
        _ => field(FieldKind::Opaque),
    }
}

/// Which directive gives the client address when a format logs several:
/// the first of these present.
const CLIENT_PREFERENCE: [&str; 4] = ["%a", "%h", "%{c}a", "%{c}h"];

/// Compiles an Apache `LogFormat` string into template pieces.
pub fn compile(format: &str) -> Result<Vec<Piece>, String> {
    let (_, tokens) = tokens(format).map_err(|e| format!("cannot read Apache LogFormat: {e}"))?;
    let mut pieces = Vec::new();
    for token in tokens {
        match token {
            Token::Literal(text) => pieces.push(Piece::Literal(text.into_bytes())),
            Token::Directive { arg, letter } => pieces.extend(pieces_for(arg, letter)),
        }
    }
    // `%U%q` is the usual way to log path and query; with nothing between
    // them they are one field, the request target.
    let mut joined: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        if let (Some(Piece::Field(FieldKind::Path, _)), Piece::Field(FieldKind::QueryWithMark, _)) =
            (joined.last(), &piece)
        {
            joined.pop();
            joined.push(Piece::Field(FieldKind::Target, "%U%q".into()));
            continue;
        }
        joined.push(piece);
    }
    if let Some(preferred) = CLIENT_PREFERENCE.iter().find(|name| {
        joined
            .iter()
            .any(|p| matches!(p, Piece::Field(FieldKind::Client, n) if n == *name))
    }) {
        for p in &mut joined {
            if let Piece::Field(k @ FieldKind::Client, n) = p
                && n != preferred
            {
                *k = FieldKind::Opaque;
            }
        }
    }
    // Body bytes (%b/%B) are what a cache stores; %O only stands in.
    let has_body = joined
        .iter()
        .any(|p| matches!(p, Piece::Field(FieldKind::Bytes, n) if n != "%O"));
    if has_body {
        for p in &mut joined {
            if let Piece::Field(k @ FieldKind::Bytes, n) = p
                && n == "%O"
            {
                *k = FieldKind::Opaque;
            }
        }
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::template::Template;

    fn template(f: &str) -> Template {
        Template::new(compile(f).unwrap()).unwrap()
    }

    #[test]
    fn combined_line() {
        let t = template(COMBINED);
        let raw = t
            .parse(
                br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08""#,
                true,
            )
            .unwrap();
        assert_eq!(raw.time.unwrap().0, b"10/Oct/2000:13:55:36 -0700");
        assert_eq!(raw.request_line, Some(&b"GET /apache_pb.gif HTTP/1.0"[..]));
        assert_eq!(raw.status, Some(&b"200"[..]));
        assert_eq!(raw.bytes, Some(&b"2326"[..]));
    }

    #[test]
    fn vcombined_uses_body_bytes_from_o_and_host() {
        let t = template(VCOMBINED);
        let raw = t
            .parse(
                br#"www.example.com:443 ::1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 99 "-" "curl""#,
                true,
            )
            .unwrap();
        assert_eq!(raw.host, Some(&b"www.example.com"[..]));
        assert_eq!(raw.bytes, Some(&b"99"[..]));
    }

    #[test]
    fn modifiers_arguments_escapes_and_percent() {
        let pieces =
            compile(r#"%!400,501{User-agent}i %>s %{ms}T %D \"%m %U%q %H\" 100%%"#).unwrap();
        assert_eq!(
            pieces[0],
            Piece::Field(FieldKind::UserAgent, "%{User-agent}i".into())
        );
        assert!(pieces.contains(&Piece::Field(FieldKind::Status, "%s".into())));
        assert!(pieces.contains(&Piece::Field(
            FieldKind::RequestTime(LatencyUnit::Millis),
            "%{ms}T".into()
        )));
        assert!(pieces.contains(&Piece::Field(FieldKind::Target, "%U%q".into())));
        let t = Template::new(pieces).unwrap();
        let raw = t
            .parse(br#"curl 404 12 12000 "GET /a?x=1 HTTP/1.1" 100%"#, true)
            .unwrap();
        assert_eq!(raw.target, Some(&b"/a?x=1"[..]));
        assert_eq!(raw.method, Some(&b"GET"[..]));
        assert_eq!(
            raw.request_time.unwrap(),
            (&b"12000"[..], LatencyUnit::Micros)
        );
    }

    #[test]
    fn query_alone_drops_its_mark() {
        let t = template("%U %q %s");
        let raw = t.parse(b"/a ?x=1 200", true).unwrap();
        assert_eq!(raw.args, Some(&b"x=1"[..]));
    }

    #[test]
    fn common_matches_combined_lines_but_not_the_reverse() {
        let common = template(COMMON);
        let combined = template(COMBINED);
        let c = br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 5"#;
        let full = br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 5 "-" "ua""#;
        assert!(common.parse(c, true).is_ok());
        assert!(common.parse(full, true).is_ok());
        assert!(combined.parse(full, true).is_ok());
        assert!(combined.parse(c, true).is_err());
        // The fast path only needs the fields up to the bytes.
        assert!(combined.parse(c, false).is_ok());
    }
}
