//! Showing bytes from logs to people.
//!
//! Keys come from strangers. In a terminal, an escape sequence in a path
//! could rewrite the screen and a bidirectional override could make one
//! key look like another; in HTML, markup in a path must stay text. Both
//! renderers go through here.

use std::fmt::Write;

/// `bytes` as text safe for a terminal: invalid UTF-8 and control bytes as
/// `\xHH`, invisible or direction-changing characters as `\u{…}`.
pub fn terminal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_ascii_control() {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else if c.is_control() || is_invisible_format(c) {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn is_invisible_format(c: char) -> bool {
    matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2069 | 0xFEFF)
}

/// Text for HTML element content and quoted attribute values.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A key for an HTML page: made visible as for a terminal, then escaped.
pub fn html_key(bytes: &[u8]) -> String {
    html(&terminal(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_what_a_terminal_would_obey() {
        assert_eq!(terminal(b"/plain?q=1"), "/plain?q=1");
        assert_eq!(terminal(b"/a\x1b[2Jb"), "/a\\x1b[2Jb");
        assert_eq!(terminal(b"/\xff"), "/\\xff");
        assert_eq!(terminal("/x\u{202e}gnp".as_bytes()), "/x\\u{202e}gnp");
    }

    #[test]
    fn html_keys_stay_text() {
        assert_eq!(
            html_key(b"/<script>alert('x')</script>&\"\x1b"),
            "/&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\\x1b"
        );
    }
}
