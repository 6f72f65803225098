//! The one pass over a JSON line: its grammar, nesting and keys; strings and
//! numbers are read by their own modules.

use super::keys::{FoundSlots, NO_NODE, Node, ROOT, record};
use super::number::{MAX_EXP_SHIFT, scan_number, write_plain_decimal};
use super::string::{Span, read_string};
use crate::record::LineError;

/// Deepest nesting of objects and arrays (the line's own object included)
/// accepted; bounds the scanner's stack.
pub const MAX_DEPTH: usize = 64;

/// Stack entries besides node ids.
const ARRAY: u32 = u32::MAX;
const UNTRACKED: u32 = u32::MAX - 1;

const E_NOT_OBJECT: LineError = LineError("JSON line does not start with `{`");
const E_TRUNCATED: LineError = LineError("JSON line ends inside a value");
const E_EXPECTED_KEY: LineError = LineError("expected a quoted JSON key");
const E_MISSING_COLON: LineError = LineError("expected `:` after JSON key");
const E_BAD_VALUE: LineError = LineError("unexpected character where a JSON value should be");
const E_BAD_LITERAL: LineError = LineError("bad JSON literal (expected true, false or null)");
const E_OBJECT_SEP: LineError = LineError("expected `,` or `}` in JSON object");
const E_ARRAY_SEP: LineError = LineError("expected `,` or `]` in JSON array");
const E_TRAILING: LineError = LineError("unexpected data after JSON object");
const E_TOO_DEEP: LineError = LineError("JSON nested too deeply");

/// One pass over the line with an explicit stack (no recursion), checking
/// the grammar everywhere and decoding only the values a slot still wants:
/// values with escapes or an exponent onto the end of `scratch`.
pub(super) fn scan_line(
    line: &[u8],
    nodes: &[Node],
    scratch: &mut Vec<u8>,
    key_buf: &mut Vec<u8>,
    found: &mut FoundSlots,
) -> Result<(), LineError> {
    // Per open container: its key-tree node, UNTRACKED or ARRAY.
    let mut stack = [UNTRACKED; MAX_DEPTH];
    let mut depth = 0;
    let mut p = skip_ws(line, 0);
    if line.get(p) != Some(&b'{') {
        return Err(E_NOT_OBJECT);
    }
    // Key-tree node of the value at `p`.
    let mut val_node = ROOT;
    // The parser state is the place in this code rather than a variable
    // (a dispatch on it mispredicts): each pass of the outer loop reads
    // the value at `p`, then the inner loop closes containers up to the
    // next value.
    loop {
        let node = nodes.get(val_node as usize);
        match line.get(p) {
            Some(b'"') => {
                p = match node {
                    Some(n) if n.wants(found) => {
                        let (span, next) = read_string(line, p + 1, Some(scratch))?;
                        record(n, found, span, false);
                        next
                    }
                    _ => read_string(line, p + 1, None)?.1,
                };
            }
            Some(&open @ (b'{' | b'[')) => {
                if depth == MAX_DEPTH {
                    return Err(E_TOO_DEEP);
                }
                let (entry, close) = match node {
                    _ if open == b'[' => (ARRAY, b']'),
                    Some(n) if !n.children.is_empty() => (val_node, b'}'),
                    _ => (UNTRACKED, b'}'),
                };
                stack[depth] = entry;
                depth += 1;
                p = skip_ws(line, p + 1);
                if line.get(p) != Some(&close) {
                    if entry == ARRAY {
                        val_node = node.and_then(|n| n.first_item).unwrap_or(NO_NODE);
                    } else {
                        (p, val_node) = read_key(line, p, nodes, entry, key_buf)?;
                    }
                    continue;
                }
                p += 1;
                depth -= 1;
            }
            Some(b'-' | b'0'..=b'9') => {
                let num = scan_number(line, p)?;
                if let Some(n) = node
                    && n.wants(found)
                {
                    let span = match num.exp {
                        Some(exp) if exp.unsigned_abs() <= MAX_EXP_SHIFT => {
                            let start = scratch.len();
                            write_plain_decimal(
                                scratch,
                                num.neg,
                                &line[num.int.0..num.int.1],
                                &line[num.frac.0..num.frac.1],
                                exp,
                            );
                            Span::Scratch(start, scratch.len())
                        }
                        // Absurd exponents stay as written; the later
                        // conversion rejects them.
                        _ => Span::Line(p, num.end),
                    };
                    record(n, found, span, num.digits);
                }
                p = num.end;
            }
            Some(b't') => p = literal(line, p, b"true")?,
            Some(b'f') => p = literal(line, p, b"false")?,
            Some(b'n') => p = literal(line, p, b"null")?,
            None => return Err(E_TRUNCATED),
            Some(_) => return Err(E_BAD_VALUE),
        }
        loop {
            p = skip_ws(line, p);
            let Some(&top) = depth.checked_sub(1).and_then(|d| stack.get(d)) else {
                return match line.get(p) {
                    None => Ok(()),
                    Some(_) => Err(E_TRAILING),
                };
            };
            match (line.get(p), top == ARRAY) {
                (Some(b','), true) => {
                    p = skip_ws(line, p + 1);
                    val_node = NO_NODE;
                    break;
                }
                (Some(b','), false) => {
                    (p, val_node) = read_key(line, skip_ws(line, p + 1), nodes, top, key_buf)?;
                    break;
                }
                (Some(b']'), true) | (Some(b'}'), false) => {
                    p += 1;
                    depth -= 1;
                }
                (None, _) => return Err(E_TRUNCATED),
                (Some(_), true) => return Err(E_ARRAY_SEP),
                (Some(_), false) => return Err(E_OBJECT_SEP),
            }
        }
    }
}

/// Reads `"key" :` at `p` in an object whose key-tree node is `obj`
/// (UNTRACKED: no key matters); returns where the value starts and its node.
fn read_key(
    line: &[u8],
    p: usize,
    nodes: &[Node],
    obj: u32,
    key_buf: &mut Vec<u8>,
) -> Result<(usize, u32), LineError> {
    match line.get(p) {
        Some(b'"') => {}
        None => return Err(E_TRUNCATED),
        Some(_) => return Err(E_EXPECTED_KEY),
    }
    let (next, node) = match nodes.get(obj as usize) {
        None => (read_string(line, p + 1, None)?.1, NO_NODE),
        Some(n) => {
            key_buf.clear();
            let (span, next) = read_string(line, p + 1, Some(key_buf))?;
            let key = match span {
                Span::Line(s, e) => line.get(s..e),
                Span::Scratch(s, e) => key_buf.get(s..e),
            };
            (next, n.child(key.unwrap_or_default()).unwrap_or(NO_NODE))
        }
    };
    let p = skip_ws(line, next);
    match line.get(p) {
        Some(b':') => Ok((skip_ws(line, p + 1), node)),
        None => Err(E_TRUNCATED),
        Some(_) => Err(E_MISSING_COLON),
    }
}

fn skip_ws(line: &[u8], mut p: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r' | b'\n') = line.get(p) {
        p += 1;
    }
    p
}

fn literal(line: &[u8], p: usize, word: &[u8]) -> Result<usize, LineError> {
    // Byte loop rather than slice `==`: the latter calls memcmp, which costs
    // more than the compare for four bytes.
    for (i, &w) in word.iter().enumerate() {
        if line.get(p + i) != Some(&w) {
            return Err(E_BAD_LITERAL);
        }
    }
    Ok(p + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::json::JsonLineParser;
    use crate::format::json::number::E_BAD_NUMBER;
    use crate::format::json::string::{
        E_BAD_ESCAPE, E_BAD_U_ESCAPE, E_BAD_X_ESCAPE, E_UNTERMINATED,
    };
    use crate::format::json::tests::{CADDY, b, parse_with};
    use proptest::prelude::*;

    #[test]
    fn malformed_lines() {
        let cases: &[(&[u8], LineError)] = &[
            (b"", E_NOT_OBJECT),
            (b"  [1]", E_NOT_OBJECT),
            (b"GET / HTTP/1.1", E_NOT_OBJECT),
            (br#"{"uri":"/x"#, E_UNTERMINATED),
            (br#"{"uri":"/x\"}"#, E_UNTERMINATED),
            (br#"{"a":"x\"#, E_UNTERMINATED),
            (br#"{"uri" "/x"}"#, E_MISSING_COLON),
            (br#"{"a":"\q"}"#, E_BAD_ESCAPE),
            (br#"{"uri":"\q"}"#, E_BAD_ESCAPE),
            (br#"{"headers":{"A\q":["x"]}}"#, E_BAD_ESCAPE),
            (br#"{"a":"\'"}"#, E_BAD_ESCAPE),
            (br#"{"a":"\x4"}"#, E_BAD_X_ESCAPE),
            (br#"{"a":"\x4g"}"#, E_BAD_X_ESCAPE),
            (br#"{"a":"\u12"}"#, E_BAD_U_ESCAPE),
            (br#"{"a":"\u12G4"}"#, E_BAD_U_ESCAPE),
            (br#"{"uri":"\ud83d\uZZZZ"}"#, E_BAD_U_ESCAPE),
            (br#"{"a":1} x"#, E_TRAILING),
            (br#"{"a":1}}"#, E_TRAILING),
            (br#"{"a":1}{"b":2}"#, E_TRAILING),
            (br#"{"a":tru}"#, E_BAD_LITERAL),
            (br#"{"a":nul"#, E_BAD_LITERAL),
            (br#"{"a":1.}"#, E_BAD_NUMBER),
            (br#"{"a":1e}"#, E_BAD_NUMBER),
            (br#"{"a":01}"#, E_OBJECT_SEP),
            (br#"{"a":0.1, 0.2}"#, E_EXPECTED_KEY),
            (br#"{"a":1,}"#, E_EXPECTED_KEY),
            (br#"{a:1}"#, E_EXPECTED_KEY),
            (br#"{"a":1 "b":2}"#, E_OBJECT_SEP),
            (br#"{"a":[1,2}"#, E_ARRAY_SEP),
            (br#"{"a":x}"#, E_BAD_VALUE),
            (br#"{"a":}"#, E_BAD_VALUE),
            (br#"{"a":1"#, E_TRUNCATED),
            (br#"{"a":"#, E_TRUNCATED),
            (br#"{"a""#, E_TRUNCATED),
            (b"{", E_TRUNCATED),
        ];
        let mut p = JsonLineParser::default();
        for (line, want) in cases {
            assert_eq!(
                p.parse(line).err(),
                Some(*want),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn whitespace_around_tokens() {
        let mut p = JsonLineParser::default();
        let raw = parse_with(
            &mut p,
            b" \t{ \"status\" :\t200 ,\r\"size\" : [ ] , \"host\":\"h\" , \"x\" : { } }\t\r \n",
        );
        assert_eq!(raw.status, b("200"));
        assert_eq!(raw.host, b("h"));
        assert_eq!(raw.bytes, None);
    }

    fn nested(depth: usize) -> Vec<u8> {
        let mut line = Vec::new();
        for _ in 0..depth - 1 {
            line.extend_from_slice(br#"{"a":"#);
        }
        line.extend_from_slice(b"{}");
        line.extend(std::iter::repeat_n(b'}', depth - 1));
        line
    }

    #[test]
    fn nesting_is_bounded() {
        let mut p = JsonLineParser::default();
        assert!(p.parse(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(p.parse(&nested(MAX_DEPTH + 1)).err(), Some(E_TOO_DEEP));
        let mut arrays = br#"{"a":"#.to_vec();
        arrays.extend(std::iter::repeat_n(b'[', 100_000));
        assert_eq!(p.parse(&arrays).err(), Some(E_TOO_DEEP));
    }

    proptest! {
        #[test]
        fn never_panics_on_random_bytes(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut p = JsonLineParser::default();
            let _ = p.parse(&line);
            let mut with_brace = b"{".to_vec();
            with_brace.extend_from_slice(&line);
            let _ = p.parse(&with_brace);
        }

        #[test]
        fn never_panics_on_json_alphabet(
            line in proptest::collection::vec(
                prop::sample::select(&b"{}[]\":,\\ux0123456789abcdefE+-.ntrl \xff"[..]), 0..120)
        ) {
            let mut p = JsonLineParser::default();
            let mut with_brace = b"{".to_vec();
            with_brace.extend_from_slice(&line);
            let _ = p.parse(&with_brace);
        }

        #[test]
        fn truncated_lines_are_errors(cut in 0..CADDY.len()) {
            let mut p = JsonLineParser::default();
            prop_assert!(p.parse(&CADDY[..cut]).is_err());
        }

        #[test]
        fn mutated_lines_agree_with_serde_on_validity(
            at in 0..CADDY.len(),
            byte in any::<u8>(),
            op in 0..3u8,
        ) {
            let mut line = CADDY.to_vec();
            match op {
                0 => line[at] = byte,
                1 => line.insert(at, byte),
                _ => { line.remove(at); }
            }
            let mut p = JsonLineParser::default();
            let ours = p.parse(&line);
            if let Ok(serde_json::Value::Object(_)) = serde_json::from_slice(&line) {
                prop_assert!(ours.is_ok(), "{:?}: {}", ours, String::from_utf8_lossy(&line));
            }
        }
    }
}
