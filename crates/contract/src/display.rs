//! Showing bytes from logs to a person, in a terminal.
//!
//! Keys and log excerpts come from strangers. Printed raw, an escape
//! sequence in a request path could rewrite the terminal, and bidirectional
//! overrides could make one key look like another. Everything that is not
//! printable text is shown as an escape instead.

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
    matches!(c as u32,
        0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2069 | 0xFEFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(terminal(b"/plain/path?q=1"), "/plain/path?q=1");
        assert_eq!(terminal("/caf\u{e9}".as_bytes()), "/caf\u{e9}");
        assert_eq!(terminal(b"/a\x1b[2Jb"), "/a\\x1b[2Jb");
        assert_eq!(terminal(b"/\xff\xfe"), "/\\xff\\xfe");
        assert_eq!(
            terminal("/x\u{202e}gnp.exe".as_bytes()),
            "/x\\u{202e}gnp.exe"
        );
        assert_eq!(terminal(b"tab\there\r\n"), "tab\\x09here\\x0d\\x0a");
        assert_eq!(terminal("\u{85}".as_bytes()), "\\u{85}");
    }
}
