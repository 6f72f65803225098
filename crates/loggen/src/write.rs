//! Turning one request into one line of text in each format.
//!
//! Everything appends to a caller-owned `Vec<u8>` that is reused across
//! lines, and numbers are formatted by hand: `write!` through `fmt` costs
//! several times more per line, and the crate must produce gigabytes quickly.

use crate::Format;
use crate::clock::TimeText;

/// Appends a decimal integer.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `0..=99` as two digits.
pub(crate) fn push_2digits(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the low `width` hex digits of `n`, zero-padded, lower case.
pub(crate) fn push_hex(out: &mut Vec<u8>, n: u64, width: u32) {
    for i in (0..width).rev() {
        out.push(HEX[((n >> (4 * i)) & 0xf) as usize]);
    }
}

/// Appends a 16-bit group the way IPv6 text does: hex without leading zeros.
pub(crate) fn push_hex_group(out: &mut Vec<u8>, group: u16) {
    let width = (16 - group.leading_zeros()).div_ceil(4).max(1);
    push_hex(out, u64::from(group), width);
}

/// Appends microseconds as seconds with exactly three decimals (`0.012`),
/// truncating like nginx's millisecond clock.
fn push_millis(out: &mut Vec<u8>, micros: u64) {
    let ms = micros / 1000;
    push_u64(out, ms / 1000);
    out.push(b'.');
    let frac = (ms % 1000) as u32;
    out.push(b'0' + (frac / 100) as u8);
    push_2digits(out, frac % 100);
}

/// Appends `whole.fraction` with the fraction's trailing zeros (and a bare
/// dot) removed, as Go's shortest float formatting would print it.
fn push_trimmed_decimal(out: &mut Vec<u8>, whole: u64, mut frac: u64, mut digits: u32) {
    push_u64(out, whole);
    while digits > 0 && frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    if digits > 0 {
        out.push(b'.');
        let mut text = [b'0'; 20];
        let mut i = digits as usize;
        while i > 0 {
            i -= 1;
            text[i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        out.extend_from_slice(&text[..digits as usize]);
    }
}

/// Appends a value for a double-quoted field of an nginx text log, escaped as
/// nginx does by default: `"`, `\`, control and non-ASCII bytes as `\xHH`.
pub(crate) fn push_clf_escaped(out: &mut Vec<u8>, s: &[u8]) {
    let plain = |b: u8| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\';
    // A fold without early exit vectorises; values almost never need escaping.
    if s.iter().fold(true, |ok, &b| ok & plain(b)) {
        out.extend_from_slice(s);
        return;
    }
    for &b in s {
        if plain(b) {
            out.push(b);
        } else {
            out.extend_from_slice(b"\\x");
            out.push(HEX[usize::from(b >> 4)].to_ascii_uppercase());
            out.push(HEX[usize::from(b & 0xf)].to_ascii_uppercase());
        }
    }
}

/// Appends a JSON string literal, quotes included.
pub(crate) fn push_json_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    push_json_escaped(out, s);
    out.push(b'"');
}

/// Appends the inside of a JSON string literal.
fn push_json_escaped(out: &mut Vec<u8>, s: &[u8]) {
    if s.iter()
        .fold(true, |ok, &b| ok & (b >= 0x20 && b != b'"' && b != b'\\'))
    {
        out.extend_from_slice(s);
    } else {
        for &b in s {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                0..0x20 => {
                    out.extend_from_slice(b"\\u00");
                    push_hex(out, u64::from(b), 2);
                }
                _ => out.push(b),
            }
        }
    }
}

/// Everything a line can show about one request. Byte fields borrow the
/// generator's reused scratch buffers.
pub(crate) struct Line<'a> {
    pub time_us: i64,
    pub time: &'a TimeText,
    pub remote_addr: &'a [u8],
    pub remote_port: u16,
    pub method: &'static str,
    pub target: &'a [u8],
    pub protocol: &'static str,
    pub status: u16,
    pub body_bytes: u64,
    pub bytes_read: u64,
    pub referer: &'a [u8],
    pub user_agent: &'static str,
    pub request_us: u64,
    /// `None` when the reverse proxy answered from its cache.
    pub upstream_us: Option<u64>,
    pub cache_status: &'static str,
    pub content_type: &'static str,
    /// Caddy's nanosecond-resolution duration.
    pub duration_ns: u64,
    pub host: &'a [u8],
}

/// Appends `line` in `format`, newline included.
pub(crate) fn write_line(format: Format, out: &mut Vec<u8>, line: &Line<'_>) {
    match format {
        Format::Common => {
            clf_prefix(out, line);
        }
        Format::Combined => {
            clf_prefix(out, line);
            clf_agent(out, line);
        }
        Format::NginxTimed => {
            clf_prefix(out, line);
            clf_agent(out, line);
            out.push(b' ');
            push_millis(out, line.request_us);
            out.push(b' ');
            match line.upstream_us {
                Some(us) => push_millis(out, us),
                None => out.push(b'-'),
            }
        }
        Format::NginxJson => nginx_json(out, line),
        Format::Caddy => caddy(out, line),
    }
    out.push(b'\n');
}

/// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent`
fn clf_prefix(out: &mut Vec<u8>, line: &Line<'_>) {
    out.extend_from_slice(line.remote_addr);
    out.extend_from_slice(b" - - [");
    out.extend_from_slice(&line.time.clf);
    out.extend_from_slice(b"] \"");
    out.extend_from_slice(line.method.as_bytes());
    out.push(b' ');
    push_clf_escaped(out, line.target);
    out.push(b' ');
    out.extend_from_slice(line.protocol.as_bytes());
    out.extend_from_slice(b"\" ");
    push_u64(out, u64::from(line.status));
    out.push(b' ');
    push_u64(out, line.body_bytes);
}

/// ` "$http_referer" "$http_user_agent"`
fn clf_agent(out: &mut Vec<u8>, line: &Line<'_>) {
    out.extend_from_slice(b" \"");
    push_clf_escaped(out, line.referer);
    out.extend_from_slice(b"\" \"");
    push_clf_escaped(out, line.user_agent.as_bytes());
    out.push(b'"');
}

fn nginx_json(out: &mut Vec<u8>, line: &Line<'_>) {
    out.extend_from_slice(b"{\"time_iso8601\":");
    push_json_str(out, &line.time.iso);
    out.extend_from_slice(b",\"remote_addr\":");
    push_json_str(out, line.remote_addr);
    // The request line is one nginx variable, escaped as a whole; the
    // method and protocol never need escaping, so only the target can.
    out.extend_from_slice(b",\"request\":\"");
    out.extend_from_slice(line.method.as_bytes());
    out.push(b' ');
    push_json_escaped(out, line.target);
    out.push(b' ');
    out.extend_from_slice(line.protocol.as_bytes());
    out.extend_from_slice(b"\",\"status\":");
    push_u64(out, u64::from(line.status));
    out.extend_from_slice(b",\"body_bytes_sent\":");
    push_u64(out, line.body_bytes);
    out.extend_from_slice(b",\"request_time\":\"");
    push_millis(out, line.request_us);
    out.extend_from_slice(b"\",\"upstream_response_time\":\"");
    match line.upstream_us {
        Some(us) => push_millis(out, us),
        None => out.push(b'-'),
    }
    out.extend_from_slice(b"\",\"upstream_cache_status\":");
    push_json_str(out, line.cache_status.as_bytes());
    out.extend_from_slice(b",\"http_user_agent\":");
    push_json_str(out, line.user_agent.as_bytes());
    out.extend_from_slice(b",\"host\":");
    push_json_str(out, line.host);
    out.push(b'}');
}

fn caddy(out: &mut Vec<u8>, line: &Line<'_>) {
    out.extend_from_slice(b"{\"level\":\"info\",\"ts\":");
    let secs = line.time_us.div_euclid(1_000_000);
    push_trimmed_decimal(
        out,
        secs as u64,
        line.time_us.rem_euclid(1_000_000) as u64,
        6,
    );
    out.extend_from_slice(
        b",\"logger\":\"http.log.access\",\"msg\":\"handled request\",\"request\":{\"remote_ip\":",
    );
    push_json_str(out, line.remote_addr);
    out.extend_from_slice(b",\"remote_port\":\"");
    push_u64(out, u64::from(line.remote_port));
    out.extend_from_slice(b"\",\"proto\":\"");
    out.extend_from_slice(line.protocol.as_bytes());
    out.extend_from_slice(b"\",\"method\":\"");
    out.extend_from_slice(line.method.as_bytes());
    out.extend_from_slice(b"\",\"host\":");
    push_json_str(out, line.host);
    out.extend_from_slice(b",\"uri\":");
    push_json_str(out, line.target);
    out.extend_from_slice(b",\"headers\":{\"User-Agent\":[");
    push_json_str(out, line.user_agent.as_bytes());
    out.extend_from_slice(b"]}},\"bytes_read\":");
    push_u64(out, line.bytes_read);
    out.extend_from_slice(b",\"user_id\":\"\",\"duration\":");
    push_trimmed_decimal(
        out,
        line.duration_ns / 1_000_000_000,
        line.duration_ns % 1_000_000_000,
        9,
    );
    out.extend_from_slice(b",\"size\":");
    push_u64(out, line.body_bytes);
    out.extend_from_slice(b",\"status\":");
    push_u64(out, u64::from(line.status));
    out.extend_from_slice(b",\"resp_headers\":{\"Content-Type\":[");
    push_json_str(out, line.content_type.as_bytes());
    out.extend_from_slice(b"]}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers() {
        assert_eq!(text(|o| push_u64(o, 0)), "0");
        assert_eq!(text(|o| push_u64(o, u64::MAX)), u64::MAX.to_string());
        assert_eq!(text(|o| push_2digits(o, 7)), "07");
        assert_eq!(text(|o| push_hex(o, 0xab, 4)), "00ab");
        assert_eq!(text(|o| push_hex_group(o, 0)), "0");
        assert_eq!(text(|o| push_hex_group(o, 0x0db8)), "db8");
        assert_eq!(text(|o| push_hex_group(o, 0xffff)), "ffff");
        assert_eq!(text(|o| push_millis(o, 12_345)), "0.012");
        assert_eq!(text(|o| push_millis(o, 3_000_999)), "3.000");
        assert_eq!(text(|o| push_trimmed_decimal(o, 5, 120_000, 6)), "5.12");
        assert_eq!(text(|o| push_trimmed_decimal(o, 5, 0, 6)), "5");
        assert_eq!(
            text(|o| push_trimmed_decimal(o, 0, 1_234, 9)),
            "0.000001234"
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(text(|o| push_clf_escaped(o, b"/a?b=1")), "/a?b=1");
        assert_eq!(
            text(|o| push_clf_escaped(o, b"a\"b\\c\n\xff")),
            "a\\x22b\\x5Cc\\x0A\\xFF"
        );
        assert_eq!(text(|o| push_json_str(o, b"x")), "\"x\"");
        assert_eq!(
            text(|o| push_json_str(o, b"a\"b\\c\n\t\x01")),
            "\"a\\\"b\\\\c\\n\\t\\u0001\""
        );
        let v: String = serde_json::from_str(&text(|o| push_json_str(o, b"q\"\\\x1f\r"))).unwrap();
        assert_eq!(v, "q\"\\\u{1f}\r");
    }
}
