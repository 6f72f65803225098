//! A fast path for the head most text formats share:
//! `%h %l %u %t "%r" %>s %b` (Apache `common` and `combined`, and nginx's
//! `combined`, which writes `%l` as a literal `-`).
//!
//! Why it exists: the general matcher in [`super::template`] walks a list of
//! steps, and for each one dispatches on how the field ends, which field it
//! is and which literal follows. On `combined` lines that bookkeeping was
//! about 600 instructions a line, the largest single cost of `rank`
//! (callgrind). Here the same seven fields are found by straight-line code.
//!
//! It must find exactly what the template finds: it is only used for a
//! template whose first steps are this head (checked when the template is
//! built), each field still ends at the first byte that ends it in the
//! template, and any line it does not accept in full goes to the general
//! matcher, which then reports the error. A property test in `template.rs`
//! holds the two to the same results.

use super::template::{End, FieldKind, unescaped_quote};
use crate::find::find_byte;
use crate::record::RawFields;
use crate::time::TimeKind;

/// How the identity field (`%l`) is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ident {
    /// Apache `%l`: a field of its own.
    Field,
    /// nginx `combined`: the literal ` - ` between address and user.
    Dash,
}

/// The head's steps as the template compiles them: field kind, how the
/// field ends, and the literal after it. The bytes field ends at a space
/// or, when it is the last field of the format, at a space or the end.
type StepShape = (FieldKind, End, &'static [u8]);

const APACHE: &[StepShape] = &[
    (FieldKind::Opaque, End::Byte(b' '), b" "),
    (FieldKind::Opaque, End::Byte(b' '), b" "),
    (FieldKind::Opaque, End::Byte(b' '), b" ["),
    (FieldKind::Time(TimeKind::Clf), End::Byte(b']'), b"] \""),
    (FieldKind::RequestLine, End::Quote, b"\" "),
    (FieldKind::Status, End::Byte(b' '), b" "),
];

const NGINX: &[StepShape] = &[
    (FieldKind::Opaque, End::Byte(b' '), b" - "),
    (FieldKind::Opaque, End::Byte(b' '), b" ["),
    (FieldKind::Time(TimeKind::Clf), End::Byte(b']'), b"] \""),
    (FieldKind::RequestLine, End::Quote, b"\" "),
    (FieldKind::Status, End::Byte(b' '), b" "),
];

/// The head of a template, when it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClfHead {
    ident: Ident,
    /// Whether the first field is kept as the client address: only for a
    /// run that wants it, so that the others skip it as before.
    client: bool,
}

impl ClfHead {
    /// Recognises the head in a template's leading literal and steps
    /// (kind, end, following literal).
    pub fn detect<'s>(
        lead: &[u8],
        steps: impl IntoIterator<Item = (FieldKind, End, &'s [u8])>,
    ) -> Option<ClfHead> {
        if !lead.is_empty() {
            return None;
        }
        let steps: Vec<_> = steps.into_iter().collect();
        for (ident, shape) in [(Ident::Field, APACHE), (Ident::Dash, NGINX)] {
            let Some((bytes, before)) = steps.get(..=shape.len()).and_then(<[_]>::split_last)
            else {
                continue;
            };
            // The address may be read or skipped; the shapes say skipped.
            let client = before.first().is_some_and(|s| s.0 == FieldKind::Client);
            let head_matches = before.iter().zip(shape).enumerate().all(|(i, (a, b))| {
                let kind = if i == 0 && client {
                    FieldKind::Opaque
                } else {
                    a.0
                };
                kind == b.0 && a.1 == b.1 && a.2 == b.2
            });
            let bytes_matches =
                bytes.0 == FieldKind::Bytes && matches!(bytes.1, End::Byte(b' ') | End::UntilSpace);
            if head_matches && bytes_matches {
                return Some(ClfHead { ident, client });
            }
        }
        None
    }

    /// How many template steps the head covers.
    pub fn steps(self) -> usize {
        match self.ident {
            Ident::Field => APACHE.len() + 1,
            Ident::Dash => NGINX.len() + 1,
        }
    }

    /// Finds the head's fields in `line` and returns what follows the bytes
    /// field, or `None` when the line does not have the head (the caller
    /// then asks the general matcher, for its error).
    #[inline]
    pub fn parse<'a>(self, line: &'a [u8], raw: &mut RawFields<'a>) -> Option<&'a [u8]> {
        let rest = if self.client {
            let end = find_byte(b' ', line)?;
            raw.client = Some(&line[..end]);
            &line[end + 1..]
        } else {
            skip_field(line)?
        };
        let rest = match self.ident {
            Ident::Field => skip_field(rest)?,
            Ident::Dash => rest.strip_prefix(b"- ")?,
        };
        let rest = skip_field(rest)?.strip_prefix(b"[")?;
        let end = find_byte(b']', rest)?;
        raw.time = Some((&rest[..end], TimeKind::Clf));
        let rest = rest[end..].strip_prefix(b"] \"")?;
        let end = unescaped_quote(rest)?;
        raw.request_line = Some(&rest[..end]);
        let rest = rest[end..].strip_prefix(b"\" ")?;
        let end = find_byte(b' ', rest)?;
        raw.status = Some(&rest[..end]);
        let rest = &rest[end + 1..];
        let end = find_byte(b' ', rest).unwrap_or(rest.len());
        raw.bytes = Some(&rest[..end]);
        Some(&rest[end..])
    }
}

/// What follows the first field and its space. Most `%l` and `%u` fields
/// are `-`, checked before searching.
#[inline]
fn skip_field(s: &[u8]) -> Option<&[u8]> {
    if let Some(rest) = s.strip_prefix(b"- ") {
        return Some(rest);
    }
    let end = find_byte(b' ', s)?;
    Some(&s[end + 1..])
}

#[cfg(test)]
mod tests {
    use super::super::template::Template;
    use super::super::{NGINX_TIMED, Wants, apache, nginx};
    use proptest::prelude::*;

    const NGINX_COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

    /// Formats with the head, and how each is compiled: for a plain run,
    /// and for runs that read the client address and the user agent.
    fn formats() -> Vec<(&'static str, Template)> {
        let apache = |f| Template::new(apache::compile(f).unwrap()).unwrap();
        let nginx = |f| Template::new(nginx::compile(f).unwrap()).unwrap();
        let client = Wants {
            client: true,
            user_agent: false,
        };
        let both = Wants {
            client: true,
            user_agent: true,
        };
        vec![
            ("common", apache(apache::COMMON)),
            ("combined", apache(apache::COMBINED)),
            ("apache with %D", apache(r#"%h %l %u %t "%r" %>s %b %D"#)),
            ("nginx combined", nginx(NGINX_COMBINED)),
            ("nginx-timed", nginx(NGINX_TIMED)),
            ("common, client", apache(apache::COMMON).for_wants(client)),
            (
                "combined, client and agent",
                apache(apache::COMBINED).for_wants(both),
            ),
            (
                "apache %a, client",
                apache(r#"%a %l %u %t "%r" %>s %b"#).for_wants(client),
            ),
            (
                "nginx combined, client",
                nginx(NGINX_COMBINED).for_wants(client),
            ),
            (
                "nginx-timed, client and agent",
                nginx(NGINX_TIMED).for_wants(both),
            ),
        ]
    }

    #[test]
    fn the_head_is_found_where_it_is_and_only_there() {
        for (name, t) in formats() {
            assert!(t.has_head(), "{name}");
        }
        for f in [
            apache::VCOMBINED,
            r#"%h %l %u %t "%r" %>s"#,
            r#"%h %l %u [%{%d/%b/%Y %T}t] "%r" %>s %b"#,
            r#"%h %u %t "%r" %>s %b"#,
        ] {
            let t = Template::new(apache::compile(f).unwrap()).unwrap();
            assert!(!t.has_head(), "{f}");
        }
        let t = Template::new(nginx::compile("$remote_addr $status").unwrap()).unwrap();
        assert!(!t.has_head());
    }

    /// Field values that are ordinary, empty, or hold the bytes the
    /// matcher looks for.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => Just("-".to_string()),
            2 => Just("1.2.3.4".to_string()),
            2 => Just("01/May/2024:00:00:01 +0000".to_string()),
            2 => Just("GET /a?b=1 HTTP/1.1".to_string()),
            2 => Just("200".to_string()),
            1 => Just(String::new()),
            1 => Just("a b".to_string()),
            1 => Just(r#"x\"y"#.to_string()),
            1 => Just(r#"x\\"#.to_string()),
            1 => Just("]".to_string()),
            1 => Just("[a] \"b\"".to_string()),
            1 => Just("0.010, 0.020 : 0.005".to_string()),
            2 => "[ -~]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// On any line, well formed or not, the fast path finds the same
        /// fields as the general matcher, or lets it report the same error.
        #[test]
        fn fast_path_matches_like_the_general_matcher(
            values in proptest::collection::vec(value(), 12),
            cut in 0usize..400,
            flip in proptest::option::of((0usize..400, any::<u8>())),
        ) {
            for (name, t) in formats() {
                let general = t.clone().without_head();
                // A line of this format with the generated values, then cut
                // short or with one byte changed.
                let mut line = Vec::new();
                let mut values = values.iter();
                for piece in t.pieces() {
                    match piece {
                        super::super::template::Piece::Literal(text) => line.extend_from_slice(text),
                        super::super::template::Piece::Field(..) => {
                            line.extend_from_slice(values.next().unwrap().as_bytes())
                        }
                    }
                }
                line.truncate(cut.max(line.len() / 2));
                if let Some((at, byte)) = flip
                    && at < line.len()
                {
                    line[at] = byte;
                }
                for full in [false, true] {
                    prop_assert_eq!(
                        t.parse(&line, full),
                        general.parse(&line, full),
                        "{} (full: {}): {}",
                        name,
                        full,
                        String::from_utf8_lossy(&line)
                    );
                }
            }
        }
    }
}
