//! JSON strings: finding their end and decoding their escapes, JSON's and
//! nginx's `\xHH`.

use memchr::memchr2;

use crate::record::LineError;

pub(super) const E_UNTERMINATED: LineError = LineError("unterminated JSON string");
pub(super) const E_BAD_ESCAPE: LineError = LineError("bad escape in JSON string");
pub(super) const E_BAD_X_ESCAPE: LineError = LineError("bad \\x escape in JSON string");
pub(super) const E_BAD_U_ESCAPE: LineError = LineError("bad \\u escape in JSON string");

/// Where a value's bytes are; turned into slices only once the line is done,
/// because the scratch buffer may still grow (and move) until then.
#[derive(Clone, Copy, Debug)]
pub(super) enum Span {
    Line(usize, usize),
    Scratch(usize, usize),
}

/// First `"` or `\` in `s`. Most log strings are short, where a call into
/// memchr's SIMD setup costs more than testing eight bytes at a time in a
/// register; long ones (user agents, headers) go to memchr.
#[inline]
fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = 0;
    while let Some(chunk) = s.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*chunk);
        // Only the lowest flagged byte is exact (borrows can flag higher
        // ones), and that is the one taken.
        let hits =
            zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
        if i >= 32 {
            return memchr2(b'"', b'\\', s.get(i..)?).map(|off| i + off);
        }
    }
    let tail = s.get(i..)?;
    tail.iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|off| i + off)
}

/// Reads a string whose opening quote is just before `start`; returns where
/// its bytes are and the position after the closing quote. With `out`, a
/// string with escapes is decoded onto the end of `out`; without, escapes are
/// only checked (skipped values must be as valid as wanted ones).
#[inline]
pub(super) fn read_string(
    line: &[u8],
    start: usize,
    out: Option<&mut Vec<u8>>,
) -> Result<(Span, usize), LineError> {
    let rest = line.get(start..).unwrap_or_default();
    match find_quote_or_backslash(rest) {
        Some(off) if rest[off] == b'"' => Ok((Span::Line(start, start + off), start + off + 1)),
        Some(off) => read_escaped_string(line, start, start + off, out),
        None => Err(E_UNTERMINATED),
    }
}

/// The rest of [`read_string`] once a backslash was found at `i`.
#[cold]
fn read_escaped_string(
    line: &[u8],
    start: usize,
    mut i: usize,
    mut out: Option<&mut Vec<u8>>,
) -> Result<(Span, usize), LineError> {
    let out_start = out.as_deref().map_or(0, Vec::len);
    let mut run = start;
    loop {
        // `i` is at a backslash; copy the plain run before it, then decode.
        if let Some(o) = out.as_deref_mut() {
            o.extend_from_slice(&line[run..i]);
        }
        i = unescape(line, i, out.as_deref_mut())?;
        run = i;
        i = match find_quote_or_backslash(&line[i..]) {
            Some(off) => i + off,
            None => return Err(E_UNTERMINATED),
        };
        if line[i] == b'"' {
            let span = match out {
                Some(o) => {
                    o.extend_from_slice(&line[run..i]);
                    Span::Scratch(out_start, o.len())
                }
                None => Span::Line(start, i),
            };
            return Ok((span, i + 1));
        }
    }
}

/// Decodes the escape at `line[i] == b'\\'`; returns the position after it.
fn unescape(line: &[u8], i: usize, out: Option<&mut Vec<u8>>) -> Result<usize, LineError> {
    let Some(&e) = line.get(i + 1) else {
        return Err(E_UNTERMINATED);
    };
    let (byte, next) = match e {
        b'"' => (b'"', i + 2),
        b'\\' => (b'\\', i + 2),
        b'/' => (b'/', i + 2),
        b'b' => (0x08, i + 2),
        b'f' => (0x0c, i + 2),
        b'n' => (b'\n', i + 2),
        b'r' => (b'\r', i + 2),
        b't' => (b'\t', i + 2),
        // nginx escape=default: one raw byte, which may be half a UTF-8
        // sequence, so it is pushed as a byte, not as a code point.
        b'x' => (hex(line, i + 2, 2).ok_or(E_BAD_X_ESCAPE)? as u8, i + 4),
        b'u' => {
            let (cp, next) = unicode_escape(line, i)?;
            if let Some(o) = out {
                let c = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
                o.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
            return Ok(next);
        }
        _ => return Err(E_BAD_ESCAPE),
    };
    if let Some(o) = out {
        o.push(byte);
    }
    Ok(next)
}

/// `\uXXXX` at `i`, combined with a following low surrogate escape when it is
/// a high surrogate. A surrogate without its partner cannot be UTF-8, so it
/// becomes U+FFFD rather than rejecting a line a browser may well have sent.
fn unicode_escape(line: &[u8], i: usize) -> Result<(u32, usize), LineError> {
    let cp = hex(line, i + 2, 4).ok_or(E_BAD_U_ESCAPE)?;
    match cp {
        0xD800..=0xDBFF => {
            if line.get(i + 6..i + 8) == Some(b"\\u")
                && let Some(lo @ 0xDC00..=0xDFFF) = hex(line, i + 8, 4)
            {
                Ok((0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00), i + 12))
            } else {
                Ok((0xFFFD, i + 6))
            }
        }
        0xDC00..=0xDFFF => Ok((0xFFFD, i + 6)),
        _ => Ok((cp, i + 6)),
    }
}

fn hex(line: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = line.get(at..at.checked_add(n)?)?;
    let mut v = 0u32;
    for &d in digits {
        let x = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        v = v << 4 | u32::from(x);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::json::JsonLineParser;
    use crate::format::json::tests::{b, parse_with};
    use proptest::prelude::*;

    #[test]
    fn unicode_escapes() {
        let mut p = JsonLineParser::default();
        let raw = parse_with(&mut p, br#"{"uri":"/caf\u00e9/\ud83d\ude00/\u00C9\/"}"#);
        assert_eq!(raw.path, b("/café/😀/É/"));
        let raw = parse_with(&mut p, br#"{"uri":"a\ud83db\ude00c\ud83d\u0041\ud83d"}"#);
        assert_eq!(raw.path, b("a\u{FFFD}b\u{FFFD}c\u{FFFD}A\u{FFFD}"));
        let raw = parse_with(&mut p, br#"{"uri":"\b\f\n\r\t\\\u0000"}"#);
        assert_eq!(raw.path, Some(&b"\x08\x0c\n\r\t\\\0"[..]));
        // Escapes in keys are decoded before matching.
        let raw = parse_with(&mut p, br#"{"st\u0061tus":"201"}"#);
        assert_eq!(raw.status, b("201"));
    }

    /// Writes `s` as a JSON string with every character as `\u` escapes
    /// (surrogate pairs above the BMP).
    fn u_escaped(s: &str) -> String {
        let mut out = String::from("\"");
        for unit in s.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out.push('"');
        out
    }

    /// Writes bytes the way nginx escape=default does.
    fn x_escaped(bytes: &[u8]) -> String {
        let mut out = String::from("\"");
        for &c in bytes {
            if c == b'"' || c == b'\\' || !(0x20..0x7f).contains(&c) {
                out.push_str(&format!("\\x{c:02X}"));
            } else {
                out.push(char::from(c));
            }
        }
        out.push('"');
        out
    }

    proptest! {
        #[test]
        fn quote_search_matches_naive(
            // Mostly plain bytes, so hits also land past the 32-byte switch to memchr.
            s in proptest::collection::vec(
                prop_oneof![40 => Just(b'a'), 1 => Just(b'"'), 1 => Just(b'\\'), 1 => any::<u8>()],
                0..120,
            ),
            skip in 0..100usize,
        ) {
            let s = &s[skip.min(s.len())..];
            let naive = s.iter().position(|&c| c == b'"' || c == b'\\');
            prop_assert_eq!(find_quote_or_backslash(s), naive);
        }

        #[test]
        fn strings_decode_like_serde(s in any::<String>(), status in any::<u16>()) {
            let line = serde_json::json!({
                "x": {"uri": "nested, ignored"},
                "uri": s,
                "status": status,
                "z": [s, null, true],
            })
            .to_string();
            let mut p = JsonLineParser::default();
            let raw = p.parse(line.as_bytes()).unwrap();
            prop_assert_eq!(raw.path, Some(s.as_bytes()));
            let status = status.to_string();
            prop_assert_eq!(raw.status, Some(status.as_bytes()));

            let line = format!(r#"{{"uri":{},"host":{}}}"#, u_escaped(&s), x_escaped(s.as_bytes()));
            let raw = p.parse(line.as_bytes()).unwrap();
            prop_assert_eq!(raw.path, Some(s.as_bytes()));
            prop_assert_eq!(raw.host, Some(s.as_bytes()));
        }

        #[test]
        fn any_bytes_survive_x_escapes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let line = format!(r#"{{"request":{}}}"#, x_escaped(&bytes));
            let mut p = JsonLineParser::default();
            let raw = p.parse(line.as_bytes()).unwrap();
            prop_assert_eq!(raw.request_line, Some(&bytes[..]));
        }
    }
}
