//! Why an entry of the warm list is not fetched: the path checks, the
//! URL join and the planner each refuse for their own reasons.

/// Why an entry is not fetched. Refused entries count as failed keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Refusal {
    /// The logged target names a scheme or host (`http://other/…`,
    /// `//other/…`): only paths are ever used.
    AbsoluteForm,
    /// Not a path at all (`*`, `host:443`, a key such as `product:42`
    /// without an origin path).
    NotOriginForm,
    /// A `..` segment, possibly percent-encoded.
    DotSegment,
    /// A control character, raw or percent-encoded.
    ControlCharacter,
    /// A backslash, which some servers read as `/`.
    InvalidCharacter,
    /// A routes file is used and no route matches the entry.
    Unrouted,
    /// The entry names a route the routes file does not have.
    UnknownRoute,
    /// The key is empty.
    EmptyKey,
    /// The entry's `key_base64` does not decode.
    BadKey,
    /// The target is memcached and the key is longer than 250 bytes or
    /// has a space or a control character, which its text protocol cannot
    /// carry.
    MemcachedKey,
    /// The key is longer than [`MAX_KEY_BYTES`](crate::plan::MAX_KEY_BYTES).
    KeyTooLong,
    /// The URL to fetch is longer than
    /// [`MAX_URL_BYTES`](crate::plan::MAX_URL_BYTES), which the HTTP
    /// client cannot send.
    UrlTooLong,
    /// The entry's TTL is 0 or longer than [`MAX_TTL`](crate::ttl::MAX_TTL).
    BadTtl,
}

impl Refusal {
    /// The reason's name in the summary, e.g. `refused_dot_segment`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::AbsoluteForm => "refused_absolute_form",
            Refusal::NotOriginForm => "refused_not_a_path",
            Refusal::DotSegment => "refused_dot_segment",
            Refusal::ControlCharacter => "refused_control_character",
            Refusal::InvalidCharacter => "refused_invalid_character",
            Refusal::Unrouted => "refused_unrouted",
            Refusal::UnknownRoute => "refused_unknown_route",
            Refusal::EmptyKey => "refused_empty_key",
            Refusal::BadKey => "refused_bad_key",
            Refusal::MemcachedKey => "refused_memcached_key",
            Refusal::KeyTooLong => "refused_key_too_long",
            Refusal::UrlTooLong => "refused_url_too_long",
            Refusal::BadTtl => "refused_bad_ttl",
        }
    }

    /// A sentence for people.
    pub fn explain(self) -> &'static str {
        match self {
            Refusal::AbsoluteForm => {
                "the logged target names a scheme or host; only paths are sent to the origin"
            }
            Refusal::NotOriginForm => {
                "not a request path (give --routes, or a warm list with origin paths)"
            }
            Refusal::DotSegment => "the path has a `..` segment",
            Refusal::ControlCharacter => "the path has a control character",
            Refusal::InvalidCharacter => "the path has a backslash, which some servers read as `/`",
            Refusal::Unrouted => "no route in the routes file matches",
            Refusal::UnknownRoute => "the entry's route is not in the routes file",
            Refusal::EmptyKey => "the key is empty",
            Refusal::BadKey => "the entry's key_base64 does not decode",
            Refusal::MemcachedKey => {
                "key not valid for memcached: it takes 1 to 250 bytes, without spaces or control characters"
            }
            Refusal::KeyTooLong => {
                "key too long: hotkeys warms keys of at most 64 KiB (65,536 bytes)"
            }
            Refusal::UrlTooLong => {
                "origin URL too long: the HTTP client sends URLs of at most 65,534 bytes"
            }
            Refusal::BadTtl => {
                "the entry's ttl is 0 or over 100 years; give 1 second to 100 years (36500d), or --ttl"
            }
        }
    }
}
