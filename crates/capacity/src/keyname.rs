//! A key from a log, ready for every output: exact bytes for people (with
//! escapes) and for JSON (the warm list's `key` + `key_base64` convention,
//! see `docs/warm-list.md`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;

/// A key as JSON shows it: `key` exact when valid UTF-8; otherwise `key`
/// is a display form (U+FFFD for invalid bytes) and `key_base64` holds the
/// exact bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyName {
    /// The key as text: exact when valid UTF-8, else with U+FFFD for each
    /// invalid sequence.
    pub key: String,
    /// The exact bytes in standard base64 when the key is not valid UTF-8;
    /// `None` (and absent from JSON) otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_base64: Option<String>,
    /// The exact key, for the text and HTML renderers to escape; not in
    /// JSON.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl KeyName {
    /// Both forms of the key `bytes`.
    pub fn new(bytes: &[u8]) -> KeyName {
        match std::str::from_utf8(bytes) {
            Ok(s) => KeyName {
                key: s.to_string(),
                key_base64: None,
                bytes: bytes.to_vec(),
            },
            Err(_) => KeyName {
                key: String::from_utf8_lossy(bytes).into_owned(),
                key_base64: Some(BASE64.encode(bytes)),
                bytes: bytes.to_vec(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_warm_list_convention() {
        let k = KeyName::new(b"a\xffb");
        assert_eq!(k.key, "a\u{fffd}b");
        assert_eq!(k.key_base64.as_deref(), Some("Yf9i"));
        let json = serde_json::to_string(&KeyName::new(b"/caf\xc3\xa9")).unwrap();
        assert_eq!(json, r#"{"key":"/café"}"#);
    }
}
