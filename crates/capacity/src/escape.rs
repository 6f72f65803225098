//! Showing bytes from logs to people.
//!
//! Keys come from strangers. In a terminal, an escape sequence in a path
//! could rewrite the screen and a bidirectional override could make one
//! key look like another; in HTML, markup in a path must stay text. Both
//! renderers go through here.

pub use hotkeys_contract::display::terminal;

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
