//! An HTTP origin: `GET origin + path`, carefully.
//!
//! The client never follows redirects (a `Location` is chosen by whoever
//! controls the response, and could point anywhere), ignores proxy
//! variables unless asked, and stops reading a body at the size limit.

use std::time::SystemTime;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use super::FetchError;
use crate::backoff::parse_retry_after;
use crate::config::WarmConfig;
use crate::error::WarmError;
use crate::redact::redact_url;
use crate::refusal::Refusal;
use crate::status::StatusSet;

/// Bytes of an error response read (and thrown away) so that the
/// connection can be reused; larger error bodies close it instead.
const DRAIN_LIMIT: usize = 64 * 1024;

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
    Ok(url)
}

/// The HTTP client of a run.
#[derive(Debug, Clone)]
pub struct HttpOrigin {
    client: reqwest::Client,
    max_value_size: u64,
    store: StatusSet,
}

impl HttpOrigin {
    /// A client set up from `config`: no redirects, no environment proxy
    /// unless `use_env_proxy`, the origin timeout for the whole request.
    pub fn new(config: &WarmConfig) -> Result<HttpOrigin, WarmError> {
        crate::install_crypto_provider();
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| WarmError::HttpClient(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::from_str(value.trim())
                .map_err(|_| WarmError::HttpClient(format!("invalid value for header {name}")))?;
            headers.append(name, value);
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .timeout(config.origin_timeout)
            .connect_timeout(config.origin_timeout)
            .pool_max_idle_per_host(config.concurrency)
            .user_agent(concat!("hotkeys-warm/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers);
        if !config.use_env_proxy {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| WarmError::HttpClient(error_chain(&e)))?;
        Ok(HttpOrigin {
            client,
            max_value_size: config.max_value_size,
            store: config.store_statuses.clone(),
        })
    }

    /// GETs `url` and returns the body, when the status is one to store
    /// and the body fits the limit.
    pub async fn fetch(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(classify)?;
        let code = response.status().as_u16();
        if !self.store.contains(code) {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let mut drained = 0;
            while drained < DRAIN_LIMIT {
                match response.chunk().await {
                    Ok(Some(chunk)) => drained += chunk.len(),
                    _ => break,
                }
            }
            return Err(FetchError::Status { code, retry_after });
        }
        let limit = self.max_value_size;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge);
        }
        let capacity = response.content_length().unwrap_or(0).min(limit);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn classify(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        FetchError::Timeout
    } else {
        FetchError::Connection(error_chain(&error))
    }
}

/// The error and its causes, without the URL (which the summary shows
/// redacted where it is needed).
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut current: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = current {
        let part = e.to_string();
        let part = part.split(" for url (").next().unwrap_or(&part).to_owned();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        current = e.source();
    }
    text
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

    #[tokio::test]
    async fn the_client_builds_and_rejects_bad_headers() {
        let mut config = WarmConfig::new("http://127.0.0.1:1");
        config.headers = vec![("Accept".into(), "application/json".into())];
        HttpOrigin::new(&config).unwrap();
        config.headers = vec![("Bad Name".into(), "x".into())];
        let e = HttpOrigin::new(&config).unwrap_err().to_string();
        assert!(e.contains("invalid header name"), "{e}");
    }
}
