//! The origin URL, and the URL each checked path is fetched from: both
//! are decided when the run is planned, before any request.

use reqwest::Url;

use crate::error::WarmError;
use crate::redact::redact_url;
use crate::refusal::Refusal;

/// The origin URL as a base for paths: http(s), a host, no query or
/// fragment. A path prefix (`https://api/v2`) is kept.
pub fn base_url(origin: &str) -> Result<Url, WarmError> {
    let fail = |reason: &str| WarmError::BadOrigin {
        url: redact_url(origin),
        reason: reason.to_owned(),
    };
    let url = Url::parse(origin).map_err(|e| fail(&format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(fail("expected an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(fail("the URL has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(fail(
            "the origin must not have a query or fragment: paths from the warm list are appended to it",
        ));
    }
    Ok(url)
}

/// `base` followed by `path` (an origin-form target that passed
/// [`check_origin_path`](crate::path::check_origin_path)). Bytes outside
/// ASCII, space, `#` and the other characters a URL cannot hold raw are
/// percent-encoded; `%` is kept, since logged targets are already encoded.
/// As a last line of defence the result must still point at the origin's
/// scheme, host, port and path prefix.
pub fn join(base: &Url, path: &[u8]) -> Result<Url, Refusal> {
    let mut text = String::with_capacity(base.as_str().len() + path.len());
    text.push_str(base.as_str().trim_end_matches('/'));
    for &b in path {
        let raw_ok = b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'#' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'^'
            );
        if raw_ok {
            text.push(char::from(b));
        } else {
            text.push_str(&format!("%{b:02X}"));
        }
    }
    let url = Url::parse(&text).map_err(|_| Refusal::InvalidCharacter)?;
    let same_place = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.username() == base.username()
        && url.password() == base.password();
    if !same_place {
        return Err(Refusal::AbsoluteForm);
    }
    if !url.path().starts_with(base.path().trim_end_matches('/')) {
        return Err(Refusal::DotSegment);
    }
    // Checked on the final text, percent-encoding and origin included.
    if url.as_str().len() > crate::plan::MAX_URL_BYTES {
        return Err(Refusal::UrlTooLong);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(base_url("https://api.example/v2/").is_ok());
        for (bad, why) in [
            ("ftp://x", "http://"),
            ("http://x/?a=1", "query"),
            ("http://x/#f", "query or fragment"),
            ("not a url", "not a URL"),
            ("http://:pw@/x", "not a URL"),
        ] {
            let e = base_url(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains(":pw@"), "{e}");
        }
    }

    #[test]
    fn joined_urls_stay_at_the_origin() {
        let base = base_url("http://o:81/v2/").unwrap();
        let j = |p: &[u8]| join(&base, p).map(|u| u.to_string());
        assert_eq!(j(b"/a?b=1").unwrap(), "http://o:81/v2/a?b=1");
        assert_eq!(j("/é".as_bytes()).unwrap(), "http://o:81/v2/%C3%A9");
        assert_eq!(j(b"/\xff").unwrap(), "http://o:81/v2/%FF");
        assert_eq!(
            j(b"/a b#c?q={x}").unwrap(),
            "http://o:81/v2/a%20b%23c?q=%7Bx%7D"
        );
        assert_eq!(
            j(b"/already%20encoded").unwrap(),
            "http://o:81/v2/already%20encoded"
        );
        // Checked paths never do this; the join refuses anyway.
        assert_eq!(j(b"/../../x"), Err(Refusal::DotSegment));
        let root = base_url("http://o:81").unwrap();
        assert_eq!(join(&root, b"@evil/x"), Err(Refusal::AbsoluteForm));
        let root = base_url("http://o").unwrap();
        assert_eq!(join(&root, b"/x").unwrap().as_str(), "http://o/x");
    }
}
