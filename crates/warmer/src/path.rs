//! Deciding whether a logged request target may be sent to the origin.
//!
//! Log lines are written by whoever sent the request, so a target is
//! attacker-controlled. Only the *path* of a request is ever used; the
//! scheme, host and port always come from `--origin`. A target is accepted
//! only in origin form (`/path?query`) and without anything an origin or a
//! proxy in front of it might read as "somewhere else": dot-dot segments
//! (also percent-encoded, also with `\` or `;` tricks), control characters
//! (also percent-encoded), and backslashes, which some servers read as
//! `/`.

use crate::redact::hex;
use crate::refusal::Refusal;

/// How many rounds of percent-decoding are looked through when searching
/// for dot-dot segments: enough for `%252e%252e` (double encoding) and
/// one more.
const DECODE_ROUNDS: usize = 3;

/// Checks that `target` is an origin-form request target that is safe to
/// append to the origin URL.
pub fn check_origin_path(target: &[u8]) -> Result<(), Refusal> {
    if target.is_empty() {
        return Err(Refusal::NotOriginForm);
    }
    if has_scheme(target) || target.starts_with(b"//") || target.starts_with(b"\\\\") {
        return Err(Refusal::AbsoluteForm);
    }
    if target[0] != b'/' {
        return Err(Refusal::NotOriginForm);
    }
    for &b in target {
        if b < 0x20 || b == 0x7f {
            return Err(Refusal::ControlCharacter);
        }
        // Some servers read `\` as `/`: it could smuggle a separator past
        // the dot-segment check. Other characters a URL cannot hold raw
        // (space, `#`, quotes, braces) are percent-encoded when the URL is
        // built, as rank does for origin paths.
        if b == b'\\' {
            return Err(Refusal::InvalidCharacter);
        }
    }
    // Encoded control characters, anywhere (path and query): an origin that
    // decodes them may write them into headers, logs or file names.
    let mut layer = target.to_vec();
    for _ in 0..DECODE_ROUNDS {
        let decoded = percent_decode(&layer);
        if decoded.iter().any(|&b| b < 0x20 || b == 0x7f) {
            return Err(Refusal::ControlCharacter);
        }
        if decoded == layer {
            break;
        }
        layer = decoded;
    }
    // Dot-dot segments in the path, at every decoding depth.
    let path = &target[..target
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(target.len())];
    let mut layer = path.to_vec();
    for _ in 0..=DECODE_ROUNDS {
        if has_dot_dot_segment(&layer) {
            return Err(Refusal::DotSegment);
        }
        let decoded = percent_decode(&layer);
        if decoded == layer {
            break;
        }
        layer = decoded;
    }
    Ok(())
}

/// `scheme://` at the start (RFC 3986 scheme: a letter, then letters,
/// digits, `+`, `-` or `.`), as in `http://other-host/`. A bare `name:` is
/// not counted: `product:42` is a cache key, not an absolute URL.
fn has_scheme(target: &[u8]) -> bool {
    let Some(colon) = target.iter().position(|&b| b == b':') else {
        return false;
    };
    let scheme = &target[..colon];
    target[colon + 1..].starts_with(b"//")
        && !scheme.is_empty()
        && scheme[0].is_ascii_alphabetic()
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// A `..` segment between `/` or `\` separators, including the `..;x`
/// form that some servers treat as `..` (path parameters).
fn has_dot_dot_segment(path: &[u8]) -> bool {
    path.split(|&b| b == b'/' || b == b'\\').any(|segment| {
        let name = &segment[..segment
            .iter()
            .position(|&b| b == b';')
            .unwrap_or(segment.len())];
        name == b".."
    })
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%'
            && i + 2 < input.len()
            && let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(target: &str) -> Result<(), Refusal> {
        check_origin_path(target.as_bytes())
    }

    #[test]
    fn origin_form_paths_pass() {
        for ok in [
            "/",
            "/api/products/42",
            "/search?q=red+shoes&page=2",
            "/caf%C3%A9/%20x",
            "/a/./b",
            "/a/..b/c..",
            "/files/...",
            "/q?next=../x",
            "/café",
            "/a:b/c",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn other_hosts_are_refused() {
        for bad in [
            "http://other-host/steal",
            "HTTPS://other/x",
            "//other-host/x",
            "\\\\other-host\\x",
        ] {
            assert_eq!(check(bad), Err(Refusal::AbsoluteForm), "{bad}");
        }
        for bad in [
            "*",
            "example.com:443",
            "product:42",
            "api/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(check(bad), Err(Refusal::NotOriginForm), "{bad}");
        }
        assert_eq!(check(""), Err(Refusal::NotOriginForm));
    }

    #[test]
    fn dot_dot_segments_are_refused_however_written() {
        for bad in [
            "/a/../../etc/passwd",
            "/..",
            "/a/..",
            "/a/%2e%2e/b",
            "/a/%2E%2e/b",
            "/a/.%2e/b",
            "/a/%252e%252e/b",
            "/a/..%2fb",
            "/a/..%5cb",
            "/a\\..\\b",
            "/a/..;x/b",
            "/a/%2e%2e;jsessionid=1/b",
        ] {
            let got = check(bad);
            assert!(
                got == Err(Refusal::DotSegment) || got == Err(Refusal::InvalidCharacter),
                "{bad}: {got:?}"
            );
        }
        assert_eq!(check("/a/%252e%252e/b"), Err(Refusal::DotSegment));
    }

    #[test]
    fn control_characters_are_refused_raw_or_encoded() {
        for bad in [
            "/a\r\nSet-Cookie: x",
            "/a\x1b[2J",
            "/a\x7f",
            "/a%0d%0aSet-Cookie:x",
            "/a%00b",
            "/q?x=%0A",
            "/a%250a",
        ] {
            assert_eq!(
                check_origin_path(bad.as_bytes()),
                Err(Refusal::ControlCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn backslashes_are_refused_and_other_odd_characters_left_to_encoding() {
        assert_eq!(check("/a\\b"), Err(Refusal::InvalidCharacter));
        for ok in ["/a b", "/a#frag", "/a\"b", "/a<b>", "/q?x={1}|^`"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }
}
