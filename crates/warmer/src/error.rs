//! Errors that stop a run before or instead of warming (exit code 1 on the
//! command line). Per-key failures are not errors: they are counted in the
//! [`Summary`](crate::Summary).
//!
//! URLs in these messages are always redacted, and text taken from other
//! libraries' errors has been scrubbed of the run's passwords.

/// Why a run could not start or had to stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WarmError {
    /// The origin URL is unusable.
    #[error("origin {url}: {reason}")]
    BadOrigin {
        /// The URL, redacted.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A Redis URL is unusable.
    #[error("Redis URL {url}: {reason}")]
    BadRedisUrl {
        /// The URL, redacted.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A setting is out of range or contradicts another.
    #[error("{0}")]
    Setting(String),
    /// The target Redis could not be reached or refused us.
    #[error("cannot use Redis at {url}: {reason}")]
    Redis {
        /// The URL, redacted.
        url: String,
        /// What went wrong, and what to do about it.
        reason: String,
    },
    /// A memcached server to fill could not be reached, or is not a
    /// memcached.
    #[error("cannot use memcached at {server}: {reason}")]
    Memcached {
        /// The server, `host:port`.
        server: String,
        /// What went wrong, and what to do about it.
        reason: String,
    },
    /// The origin Redis could not be reached or refused us.
    #[error("cannot use the origin Redis at {url}: {reason}")]
    OriginRedis {
        /// The URL, redacted.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The deadline passed while connecting to the cache or the origin
    /// Redis (a server that accepts connections but does not answer).
    #[error("{what} did not answer before the deadline ({deadline}); nothing was warmed")]
    NoAnswerByDeadline {
        /// What was being connected to, URLs redacted.
        what: String,
        /// The deadline, as given.
        deadline: String,
    },
    /// The HTTP client could not be built (bad header, TLS setup).
    #[error("cannot set up the HTTP client: {0}")]
    HttpClient(String),
}
