//! Matching text log lines against a compiled format template.
//!
//! nginx `log_format` and Apache `LogFormat` strings both compile to a
//! [`Template`]: literal text between fields. Matching walks the line once:
//! each literal must appear where expected, and each field runs up to the
//! byte that starts the next literal. Quoted fields (`"$request"`) end at the
//! first unescaped quote instead, so a request or user agent may contain the
//! delimiter.
//!
//! Fast path: matching stops after the last field the run uses (in
//! `combined` that is `$body_bytes_sent`, so the referer and user agent are
//! never scanned). The client address and the user agent count as used
//! only in a template made for a run that asks for them
//! ([`Template::for_wants`]): the exclude filters need them, every other
//! run would pay for scanning them. Auto-detection asks for a full match
//! instead, so it can tell `combined` from `common`. Templates that open
//! with the common log format's fields find those with a matcher
//! specialised for them first (`ClfHead`, internal to the crate), falling
//! back to the general walk.

use super::Wants;
use super::clf_head::ClfHead;
use crate::find::find_byte;
use crate::record::{LatencyUnit, LineError, RawFields};
use crate::time::TimeKind;

/// What a field of a template holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A field the tool does not use (remote user, referer, …).
    Opaque,
    /// The request's time, written in the given layout
    /// ([`RawFields::time`]).
    Time(TimeKind),
    /// The whole request line, `GET /a?b=1 HTTP/1.1` (nginx `$request`,
    /// Apache `%r`).
    RequestLine,
    /// The method alone (`$request_method`, `%m`).
    Method,
    /// Path and query as sent (`$request_uri`, or Apache `%U%q` merged).
    Target,
    /// Path without query (`$uri`, `%U`).
    Path,
    /// Query string without `?` (`$args`, `$query_string`).
    Args,
    /// Apache `%q`: the query string with its leading `?`, or empty.
    QueryWithMark,
    /// The protocol alone, e.g. `HTTP/1.1` (`$server_protocol`, `%H`).
    Protocol,
    /// Response status (`$status`, `%s`).
    Status,
    /// Response size in bytes (`$body_bytes_sent`, `%b`, `%O`, …).
    Bytes,
    /// Time taken to serve the request, in the given unit
    /// (`$request_time`, `%D`, `%T`).
    RequestTime(LatencyUnit),
    /// Time spent on upstream servers, in the given unit; may be nginx's
    /// list of several (`$upstream_response_time`).
    UpstreamTime(LatencyUnit),
    /// Virtual host (`$host`, `%v`).
    Host,
    /// Cache verdict (`$upstream_cache_status`).
    CacheStatus,
    /// Client address (`$remote_addr`, `%a`, `%h`); read only for a run
    /// that wants it.
    Client,
    /// User agent (`$http_user_agent`, `%{User-Agent}i`); read only for a
    /// run that wants it.
    UserAgent,
}

impl FieldKind {
    /// The kind as a run with `wants` reads it: a field it does not want is
    /// opaque, so matching can stop before it.
    fn for_wants(self, wants: Wants) -> FieldKind {
        match self {
            FieldKind::Client if !wants.client => FieldKind::Opaque,
            FieldKind::UserAgent if !wants.user_agent => FieldKind::Opaque,
            kind => kind,
        }
    }
}

/// One compiled piece of a format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text every line must show at this place, byte for byte.
    Literal(Vec<u8>),
    /// The field and the name it had in the format string, for messages.
    Field(FieldKind, String),
}

/// How a field's end is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// Up to the first unescaped `"` (the field sits between quotes).
    Quote,
    /// Up to the first occurrence of this byte.
    Byte(u8),
    /// nginx's list of upstream times: `0.1, 0.2 : 0.3` may contain the
    /// space that separates it from the next field.
    UpstreamList,
    /// To the next space, or the end of the line.
    UntilSpace,
}

/// A literal the line must show, and the message when it does not.
#[derive(Clone, Debug)]
struct Literal {
    text: Box<[u8]>,
    error: LineError,
}

/// A field and the literal right after it (empty after the last field):
/// one step per field halves the iterations of the matching loop.
#[derive(Clone, Debug)]
struct Step {
    kind: FieldKind,
    end: End,
    error: LineError,
    then: Literal,
}

/// A compiled log format.
#[derive(Clone, Debug)]
pub struct Template {
    /// Literal text before the first field.
    lead: Literal,
    steps: Vec<Step>,
    /// How many steps it takes to reach the last used field.
    used_steps: usize,
    /// The fast path for the first steps, when they are the common log
    /// format's.
    head: Option<ClfHead>,
    pieces: Vec<Piece>,
}

impl Template {
    /// Builds a template from pieces, for a run that wants none of the
    /// optional fields (see [`Template::for_wants`]). Adjacent literals are
    /// merged and fields without a literal between them are rejected, since
    /// their boundary would be a guess.
    pub fn new(pieces: Vec<Piece>) -> Result<Template, String> {
        let mut merged: Vec<Piece> = Vec::new();
        for piece in pieces {
            match (merged.last_mut(), piece) {
                (Some(Piece::Literal(prev)), Piece::Literal(next)) => prev.extend_from_slice(&next),
                (_, Piece::Literal(lit)) if lit.is_empty() => {}
                (_, piece) => merged.push(piece),
            }
        }
        if !merged.iter().any(|p| matches!(p, Piece::Field(..))) {
            return Err("the format has no fields".into());
        }
        let literal = |text: &[u8]| Literal {
            text: text.into(),
            error: leak_message(format!(
                "expected {:?}",
                String::from_utf8_lossy(text).replace('\n', "\\n")
            )),
        };
        let (lead, fields) = match merged.split_first() {
            Some((Piece::Literal(text), rest)) => (literal(text), rest),
            _ => (literal(b""), &merged[..]),
        };
        let mut steps = Vec::new();
        for (i, piece) in fields.iter().enumerate() {
            let Piece::Field(kind, name) = piece else {
                continue;
            };
            let before = match i.checked_sub(1) {
                Some(j) => fields.get(j),
                None => merged.first().filter(|p| matches!(p, Piece::Literal(_))),
            };
            let after = fields.get(i + 1);
            let end = match (before, after) {
                (_, Some(Piece::Field(_, next))) => {
                    return Err(format!(
                        "fields {name} and {next} have nothing between them, so where one ends is unknown"
                    ));
                }
                (Some(Piece::Literal(b)), Some(Piece::Literal(a)))
                    if b.ends_with(b"\"") && a.starts_with(b"\"") =>
                {
                    End::Quote
                }
                _ if matches!(kind, FieldKind::UpstreamTime(_)) => End::UpstreamList,
                (_, Some(Piece::Literal(a))) => End::Byte(a[0]),
                (_, None) => End::UntilSpace,
            };
            let then = match after {
                Some(Piece::Literal(a)) => literal(a),
                _ => literal(b""),
            };
            steps.push(Step {
                kind: kind.for_wants(Wants::default()),
                end,
                error: leak_message(format!("bad or missing {name}")),
                then,
            });
        }
        let mut template = Template {
            lead,
            steps,
            used_steps: 0,
            head: None,
            pieces: merged,
        };
        template.plan();
        Ok(template)
    }

    /// The same format for a run that wants the optional fields in `wants`:
    /// matching then goes on to the last of them. Cheap (no compiling), so
    /// each worker may make its own.
    pub fn for_wants(&self, wants: Wants) -> Template {
        let mut template = self.clone();
        let kinds = self.pieces.iter().filter_map(|p| match p {
            Piece::Field(kind, _) => Some(*kind),
            Piece::Literal(_) => None,
        });
        for (step, kind) in template.steps.iter_mut().zip(kinds) {
            step.kind = kind.for_wants(wants);
        }
        template.plan();
        template
    }

    /// Where matching stops, and whether the fast path applies, for the
    /// steps' kinds as they are.
    fn plan(&mut self) {
        self.used_steps = self
            .steps
            .iter()
            .rposition(|s| s.kind != FieldKind::Opaque)
            .map_or(0, |i| i + 1);
        self.head = ClfHead::detect(
            &self.lead.text,
            self.steps.iter().map(|s| (s.kind, s.end, &*s.then.text)),
        );
    }

    /// The same template without its [`ClfHead`] fast path, so tests can
    /// hold the two to the same results.
    #[cfg(test)]
    pub(crate) fn without_head(mut self) -> Template {
        self.head = None;
        self
    }

    /// Whether lines are matched with the [`ClfHead`] fast path first.
    #[cfg(test)]
    pub(crate) fn has_head(&self) -> bool {
        self.head.is_some()
    }

    /// The pieces the template was built from.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Whether lines of this format carry a latency.
    pub fn has_latency(&self) -> bool {
        self.has_field(|k| matches!(k, FieldKind::RequestTime(_) | FieldKind::UpstreamTime(_)))
    }

    /// Whether the format has a field of a kind `is` accepts.
    pub fn has_field(&self, is: impl Fn(FieldKind) -> bool) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Field(kind, _) if is(*kind)))
    }

    /// Finds the fields of `line`. With `full`, every piece must match (used
    /// to detect formats); otherwise matching stops after the last used field.
    pub fn parse<'a>(&self, line: &'a [u8], full: bool) -> Result<RawFields<'a>, LineError> {
        let mut raw = RawFields::default();
        self.parse_into(line, full, &mut raw)?;
        Ok(raw)
    }

    /// [`Template::parse`] into the caller's fields: the struct is large,
    /// and filling it in place saves a copy per line on the hot path.
    pub fn parse_into<'a>(
        &self,
        line: &'a [u8],
        full: bool,
        raw: &mut RawFields<'a>,
    ) -> Result<(), LineError> {
        let steps = if full {
            &self.steps[..]
        } else {
            &self.steps[..self.used_steps]
        };
        if let Some(head) = self.head
            && let Some(rest) = head.parse(line, raw)
        {
            // The head ends inside a step: its field is read, the literal
            // after it is not.
            return finish_steps(steps, head.steps() - 1, rest, full, raw);
        }
        let mut rest = line;
        if !starts_with_short(rest, &self.lead.text) {
            return Err(self.lead.error);
        }
        rest = &rest[self.lead.text.len()..];
        let Some(first) = steps.first() else {
            return Ok(());
        };
        let len = field_len(rest, first.end).ok_or(first.error)?;
        let (value, after) = rest.split_at(len);
        store(raw, first.kind, value);
        finish_steps(steps, 0, after, full, raw)
    }
}

/// Matches what follows step `i` of `steps`, whose field has been read:
/// its literal, then the steps after it.
fn finish_steps<'a>(
    steps: &[Step],
    mut i: usize,
    mut rest: &'a [u8],
    full: bool,
    raw: &mut RawFields<'a>,
) -> Result<(), LineError> {
    loop {
        // The fast path stops at the last used field: what follows it
        // is not looked at.
        if i + 1 == steps.len() && !full {
            return Ok(());
        }
        let then = &steps[i].then;
        if !starts_with_short(rest, &then.text) {
            return Err(then.error);
        }
        rest = &rest[then.text.len()..];
        i += 1;
        let Some(step) = steps.get(i) else {
            return Ok(());
        };
        let len = field_len(rest, step.end).ok_or(step.error)?;
        let (value, after) = rest.split_at(len);
        store(raw, step.kind, value);
        rest = after;
    }
}

/// Messages are built once per compiled format and live for the whole run;
/// leaking them keeps [`LineError`] a plain `&'static str`, so reporting a
/// malformed line never allocates on the hot path.
fn leak_message(message: String) -> LineError {
    LineError(Box::leak(message.into_boxed_str()))
}

/// Literals are a few bytes (` [`, `\" `): comparing them in line is
/// cheaper than a call to `memcmp` per literal per line.
#[inline]
fn starts_with_short(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack.iter().zip(prefix).all(|(a, b)| a == b)
}

fn field_len(rest: &[u8], end: End) -> Option<usize> {
    match end {
        // A missing delimiter means the field runs to the end of the line;
        // if a literal was still expected, that step reports the mismatch.
        End::Byte(b) => Some(find_byte(b, rest).unwrap_or(rest.len())),
        End::Quote => unescaped_quote(rest),
        End::UntilSpace => Some(find_byte(b' ', rest).unwrap_or(rest.len())),
        End::UpstreamList => Some(upstream_list_len(rest)),
    }
}

/// Position of the first `"` not escaped by a backslash. Apache writes `\"`
/// and `\\`; nginx writes `\x22`, so counting backslashes handles both.
pub(crate) fn unescaped_quote(s: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = find_byte(b'"', &s[from..]) {
        let at = from + i;
        let backslashes = s[..at].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Length of `0.010, 0.020 : 0.005` or `-`: numbers and dashes joined by
/// `, ` or ` : `.
fn upstream_list_len(s: &[u8]) -> usize {
    let token = |s: &[u8]| {
        s.iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.' || **b == b'-')
            .count()
    };
    let mut len = token(s);
    loop {
        let rest = &s[len..];
        let sep = if rest.starts_with(b", ") {
            2
        } else if rest.starts_with(b" : ") {
            3
        } else {
            return len;
        };
        let next = token(&rest[sep..]);
        if next == 0 {
            return len;
        }
        len += sep + next;
    }
}

fn store<'a>(raw: &mut RawFields<'a>, kind: FieldKind, value: &'a [u8]) {
    match kind {
        FieldKind::Opaque => {}
        FieldKind::Time(k) => raw.time = Some((value, k)),
        FieldKind::RequestLine => raw.request_line = Some(value),
        FieldKind::Method => raw.method = Some(value),
        FieldKind::Target => raw.target = Some(value),
        FieldKind::Path => raw.path = Some(value),
        FieldKind::Args => raw.args = Some(value),
        FieldKind::QueryWithMark => raw.args = Some(value.strip_prefix(b"?").unwrap_or(value)),
        FieldKind::Protocol => raw.protocol = Some(value),
        FieldKind::Status => raw.status = Some(value),
        // A format may log both body and total bytes; the body is what a
        // cache stores, and it comes first in the kinds the compilers emit.
        FieldKind::Bytes => {
            if raw.bytes.is_none() {
                raw.bytes = Some(value);
            }
        }
        FieldKind::RequestTime(u) => raw.request_time = Some((value, u)),
        FieldKind::UpstreamTime(u) => raw.upstream_time = Some((value, u)),
        FieldKind::Host => raw.host = Some(value),
        FieldKind::CacheStatus => raw.cache_status = Some(value),
        FieldKind::Client => raw.client = Some(value),
        FieldKind::UserAgent => raw.user_agent = Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Piece {
        Piece::Literal(s.as_bytes().to_vec())
    }
    fn field(kind: FieldKind, name: &str) -> Piece {
        Piece::Field(kind, name.to_string())
    }

    fn request_template() -> Template {
        Template::new(vec![
            field(FieldKind::Opaque, "$remote_addr"),
            lit(" \""),
            field(FieldKind::RequestLine, "$request"),
            lit("\" "),
            field(FieldKind::Status, "$status"),
            lit(" "),
            field(
                FieldKind::UpstreamTime(LatencyUnit::Seconds),
                "$upstream_response_time",
            ),
            lit(" \""),
            field(FieldKind::Opaque, "$http_user_agent"),
            lit("\""),
        ])
        .unwrap()
    }

    #[test]
    fn quoted_fields_skip_escaped_quotes() {
        let t = request_template();
        let raw = t
            .parse(br#"::1 "GET /a\"b HTTP/1.1" 200 0.1 "x\\""#, true)
            .unwrap();
        assert_eq!(raw.request_line, Some(&br#"GET /a\"b HTTP/1.1"#[..]));
        assert_eq!(raw.status, Some(&b"200"[..]));
    }

    #[test]
    fn upstream_lists_keep_their_spaces() {
        let t = request_template();
        let raw = t
            .parse(
                br#"1.2.3.4 "GET / HTTP/1.1" 502 0.010, 0.020 : 0.005 "ua""#,
                true,
            )
            .unwrap();
        assert_eq!(raw.upstream_time.unwrap().0, b"0.010, 0.020 : 0.005");
        let raw = t
            .parse(br#"1.2.3.4 "GET / HTTP/1.1" 200 - "ua""#, true)
            .unwrap();
        assert_eq!(raw.upstream_time.unwrap().0, b"-");
    }

    #[test]
    fn fast_path_stops_after_last_used_field_but_full_does_not() {
        let t = request_template();
        let truncated = br#"1.2.3.4 "GET / HTTP/1.1" 200 0.1 "no closing quote"#;
        assert!(t.parse(truncated, false).is_ok());
        assert_eq!(
            t.parse(truncated, true),
            Err(LineError("bad or missing $http_user_agent"))
        );
    }

    #[test]
    fn literal_mismatch_names_the_literal() {
        let t = request_template();
        let err = t.parse(b"1.2.3.4 GET / 200", true).unwrap_err();
        assert_eq!(err.0, r#"expected " \"""#);
    }

    #[test]
    fn adjacent_fields_are_rejected_and_literals_merge() {
        assert!(
            Template::new(vec![
                field(FieldKind::Status, "a"),
                field(FieldKind::Bytes, "b")
            ])
            .is_err()
        );
        let t = Template::new(vec![lit("["), lit("x"), field(FieldKind::Status, "s")]).unwrap();
        assert_eq!(t.pieces().len(), 2);
        assert!(Template::new(vec![lit("only text")]).is_err());
    }

    #[test]
    fn last_field_ends_at_space_or_end() {
        let t = Template::new(vec![
            field(FieldKind::Opaque, "a"),
            lit(" "),
            field(FieldKind::Status, "s"),
        ])
        .unwrap();
        assert_eq!(t.parse(b"x 200", true).unwrap().status, Some(&b"200"[..]));
        assert_eq!(
            t.parse(b"x 200 trailing", true).unwrap().status,
            Some(&b"200"[..])
        );
    }

    #[test]
    fn first_body_bytes_win() {
        let t = Template::new(vec![
            field(FieldKind::Bytes, "$body_bytes_sent"),
            lit(" "),
            field(FieldKind::Bytes, "$bytes_sent"),
        ])
        .unwrap();
        assert_eq!(t.parse(b"10 250", true).unwrap().bytes, Some(&b"10"[..]));
    }

    const BOTH: Wants = Wants {
        client: true,
        user_agent: true,
    };
    const CLIENT: Wants = Wants {
        client: true,
        user_agent: false,
    };

    #[test]
    fn client_and_user_agent_only_for_runs_that_want_them() {
        let combined =
            Template::new(super::super::apache::compile(super::super::apache::COMBINED).unwrap())
                .unwrap();
        let line = br#"203.0.113.9 - - [01/May/2024:00:00:01 +0000] "GET /a HTTP/1.1" 200 10 "-" "Mozilla/5.0 (X11) \"q\"""#;
        let raw = combined.parse(line, false).unwrap();
        assert_eq!((raw.client, raw.user_agent), (None, None));
        let raw = combined.for_wants(CLIENT).parse(line, false).unwrap();
        assert_eq!(raw.client, Some(&b"203.0.113.9"[..]));
        assert_eq!(raw.user_agent, None);
        let raw = combined.for_wants(BOTH).parse(line, false).unwrap();
        assert_eq!(raw.client, Some(&b"203.0.113.9"[..]));
        assert_eq!(raw.user_agent, Some(&br#"Mozilla/5.0 (X11) \"q\""#[..]));
        assert_eq!(raw.request_line, Some(&b"GET /a HTTP/1.1"[..]));
        // Without the user agent, matching still stops at the bytes: a cut
        // user agent is only an error for a run that reads it.
        let cut =
            br#"203.0.113.9 - - [01/May/2024:00:00:01 +0000] "GET /a HTTP/1.1" 200 10 "-" "Mozi"#;
        assert!(combined.parse(cut, false).is_ok());
        assert!(combined.for_wants(CLIENT).parse(cut, false).is_ok());
        assert_eq!(
            combined.for_wants(BOTH).parse(cut, false),
            Err(LineError("bad or missing %{User-Agent}i"))
        );
        // Back to wanting nothing is the template it was.
        let back = combined.for_wants(BOTH).for_wants(Wants::default());
        assert_eq!(back.used_steps, combined.used_steps);
        assert_eq!(back.has_head(), combined.has_head());
    }

    #[test]
    fn client_and_user_agent_in_custom_formats() {
        let nginx = Template::new(
            super::super::nginx::compile(
                r#"$host $remote_addr [$time_local] "$request" $status "$http_user_agent" $request_time"#,
            )
            .unwrap(),
        )
        .unwrap()
        .for_wants(BOTH);
        let raw = nginx
            .parse(
                br#"shop.example 2001:db8::7 [01/May/2024:00:00:01 +0000] "GET / HTTP/2.0" 200 "curl/8.5.0" 0.004"#,
                false,
            )
            .unwrap();
        assert_eq!(raw.client, Some(&b"2001:db8::7"[..]));
        assert_eq!(raw.user_agent, Some(&b"curl/8.5.0"[..]));
        assert_eq!(raw.request_time.unwrap().0, b"0.004");

        // Apache: %a (after mod_remoteip) wins over %h when both are logged.
        let apache = |f: &str| {
            Template::new(super::super::apache::compile(f).unwrap())
                .unwrap()
                .for_wants(BOTH)
        };
        let t = apache(r#"%h %a %t "%r" %>s %b "%{user-agent}i""#);
        let raw = t
            .parse(
                br#"10.0.0.2 198.51.100.4 [01/May/2024:00:00:01 +0000] "GET / HTTP/1.1" 200 5 "Wget/1.21.4""#,
                false,
            )
            .unwrap();
        assert_eq!(raw.client, Some(&b"198.51.100.4"[..]));
        assert_eq!(raw.user_agent, Some(&b"Wget/1.21.4"[..]));
        let t = apache(r#"%a %l %u %t "%r" %>s %b"#);
        assert!(t.has_head(), "%a opens the common head as %h does");
        let raw = t
            .parse(
                br#"::1 - - [01/May/2024:00:00:01 +0000] "GET / HTTP/1.1" 200 5"#,
                false,
            )
            .unwrap();
        assert_eq!(raw.client, Some(&b"::1"[..]));
        assert_eq!(raw.user_agent, None);
    }

    #[test]
    fn short_prefixes() {
        assert!(starts_with_short(b"abc", b"ab") && !starts_with_short(b"a", b"ab"));
        assert!(starts_with_short(b"", b"") && !starts_with_short(b"xb", b"ab"));
    }

    #[test]
    fn unescaped_quote_counts_backslashes() {
        assert_eq!(unescaped_quote(br#"ab"c"#), Some(2));
        assert_eq!(unescaped_quote(br#"a\"b"c"#), Some(4));
        assert_eq!(unescaped_quote(br#"a\\"b"#), Some(3));
        assert_eq!(unescaped_quote(br#"a\\\"b"#), None);
    }
}
