//! Where values come from: an HTTP API or a warm Redis.

pub mod http;
pub mod redis;

use std::time::Duration;

use crate::throttle::Signal;

/// Why one key's value could not be had from the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The origin answered with a status that is not stored.
    Status {
        /// The HTTP status.
        code: u16,
        /// The wait the origin asked for, if any.
        retry_after: Option<Duration>,
    },
    /// No complete answer within the timeout.
    Timeout,
    /// The connection failed (refused, reset, TLS, DNS).
    Connection(String),
    /// The value is larger than the limit.
    TooLarge,
    /// A Redis origin has no such key.
    Missing,
    /// A Redis origin holds the key, but not as a string.
    WrongType,
    /// A Redis origin answered with another error.
    Origin(String),
}

impl FetchError {
    /// The name of this failure in the summary: `status_404`, `timeout`, …
    pub fn reason(&self) -> String {
        match self {
            FetchError::Status { code, .. } => format!("status_{code}"),
            FetchError::Timeout => "timeout".into(),
            FetchError::Connection(_) => "connection".into(),
            FetchError::TooLarge => "too_large".into(),
            FetchError::Missing => "missing_at_origin".into(),
            FetchError::WrongType => "wrong_type_at_origin".into(),
            FetchError::Origin(_) => "origin_error".into(),
        }
    }

    /// Details for people, when the reason alone is not all.
    pub fn detail(&self) -> Option<&str> {
        match self {
            FetchError::Connection(d) | FetchError::Origin(d) => Some(d),
            _ => None,
        }
    }

    /// Worth another try: the origin may answer differently later. A 4xx
    /// other than 429 is the origin's final word.
    pub fn retryable(&self) -> bool {
        match self {
            FetchError::Status { code, .. } => matches!(code, 429 | 500..=599),
            FetchError::Timeout | FetchError::Connection(_) | FetchError::Origin(_) => true,
            FetchError::TooLarge | FetchError::Missing | FetchError::WrongType => false,
        }
    }

    /// Says the origin is struggling (counts towards the circuit breaker).
    pub fn is_origin_failure(&self) -> bool {
        match self {
            FetchError::Status { code, .. } => matches!(code, 429 | 500..=599),
            FetchError::Timeout | FetchError::Connection(_) | FetchError::Origin(_) => true,
            FetchError::TooLarge | FetchError::Missing | FetchError::WrongType => false,
        }
    }

    /// What the throttle should learn: slow down on 429, 502, 503, 504,
    /// timeouts and failed connections, honouring `Retry-After`.
    pub fn signal(&self) -> Signal {
        match self {
            FetchError::Status {
                code: 429 | 502..=504,
                retry_after,
            } => Signal::Overloaded {
                pause: *retry_after,
            },
            FetchError::Timeout | FetchError::Connection(_) => Signal::Overloaded { pause: None },
            _ => Signal::Healthy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> FetchError {
        FetchError::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn never_retry_a_plain_4xx() {
        for code in [400, 401, 403, 404, 408, 410, 451] {
            assert!(!status(code).retryable(), "{code}");
            assert!(!status(code).is_origin_failure(), "{code}");
            assert_eq!(status(code).signal(), Signal::Healthy);
        }
        for code in [429, 500, 502, 503, 504] {
            assert!(status(code).retryable(), "{code}");
        }
        assert!(!FetchError::TooLarge.retryable());
        assert!(!FetchError::Missing.retryable());
    }

    #[test]
    fn overload_signals_carry_the_pause() {
        let e = FetchError::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            e.signal(),
            Signal::Overloaded {
                pause: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(status(500).signal(), Signal::Healthy);
        assert_eq!(
            FetchError::Timeout.signal(),
            Signal::Overloaded { pause: None }
        );
        assert_eq!(status(404).reason(), "status_404");
    }
}
