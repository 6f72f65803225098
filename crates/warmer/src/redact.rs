//! Connection URLs as they may be shown: without their secrets.
//!
//! Every URL that reaches a message, a log line or the summary goes through
//! [`redact_url`]. Messages that wrap an underlying library's error also go
//! through [`Secrets::scrub`], because such a message could quote a
//! password we never formatted ourselves.

/// `url` with the password replaced by `***`: `redis://:***@host:6379`,
/// `https://user:***@example.com`. A user part without a colon is replaced
/// entirely (`redis://***@host`), because some people write the password
/// there. The value of any query parameter whose name mentions a password,
/// token, secret or auth is replaced too. Text that is not a URL is
/// returned unchanged.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..authority_start]);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..colon]);
                    out.push_str(":***");
                }
                None => out.push_str("***"),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let after = &rest[authority_len..];
    match after.find('?') {
        Some(q) => {
            out.push_str(&after[..q + 1]);
            let (query, fragment) = match after[q + 1..].find('#') {
                Some(h) => (&after[q + 1..q + 1 + h], &after[q + 1 + h..]),
                None => (&after[q + 1..], ""),
            };
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((name, _)) if is_secret_name(name) => format!("{name}=***"),
                    _ => param.to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
            out.push_str(fragment);
        }
        None => out.push_str(after),
    }
    out
}

fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "token", "secret", "auth", "key"]
        .iter()
        .any(|s| name.contains(s))
}

/// The passwords of one run, to be scrubbed from any text shown.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// Remembers `secret`; empty strings are ignored (they would match
    /// everywhere).
    pub fn add(&mut self, secret: &str) {
        if !secret.is_empty() && !self.values.iter().any(|s| s == secret) {
            self.values.push(secret.to_owned());
        }
    }

    /// Remembers the password (and a colon-less user part) of `url`, as
    /// [`redact_url`] would hide them, and percent-decoded as well, since
    /// that is how a client library sees and might quote them.
    pub fn add_from_url(&mut self, url: &str) {
        let Some(scheme_end) = url.find("://") else {
            return;
        };
        let rest = &url[scheme_end + 3..];
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            let secret = match userinfo.find(':') {
                Some(colon) => &userinfo[colon + 1..],
                None => userinfo,
            };
            self.add(secret);
            self.add(&percent_decode(secret));
        }
    }

    /// `text` with every remembered secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.values {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive() {
        assert_eq!(
            redact_url("redis://:s3cret@10.0.0.1:6379/0"),
            "redis://:***@10.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("rediss://alice:s3cret@cache.internal:6380"),
            "rediss://alice:***@cache.internal:6380"
        );
        assert_eq!(redact_url("redis://s3cret@host:1"), "redis://***@host:1");
        assert_eq!(
            redact_url("https://u:p%40ss@api.example/v1?x=1"),
            "https://u:***@api.example/v1?x=1"
        );
        // An @ in the path is not a user part.
        assert_eq!(
            redact_url("http://api.example/users/@me"),
            "http://api.example/users/@me"
        );
        assert_eq!(
            redact_url("redis://host:1/?password=s3cret&protocol=resp3"),
            "redis://host:1/?password=***&protocol=resp3"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn scrub_hides_secrets_in_foreign_messages() {
        let mut secrets = Secrets::default();
        secrets.add_from_url("redis://:p%40ss@host:1");
        secrets.add("");
        secrets.add("from-env");
        assert_eq!(
            secrets.scrub("AUTH p@ss failed; also p%40ss and from-env"),
            "AUTH *** failed; also *** and ***"
        );
        assert_eq!(secrets.scrub("nothing here"), "nothing here");
    }
}
