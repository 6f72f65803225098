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
use crate::status::StatusSet;

/// Bytes of an error response read (and thrown away) so that the
/// connection can be reused; larger error bodies close it instead.
const DRAIN_LIMIT: usize = 64 * 1024;

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
        crate::tls::install_crypto_provider();
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
