//! Errors that stop a scan. Problems with single lines or single inputs are
//! not errors: they are counted and reported in the scan's results, and
//! the run goes on.

/// Why a scan could not run or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    // The cause is part of the message, and deliberately not a `source`:
    // `{:#}` would print it twice.
    #[error("cannot open {path}: {error}")]
    Open { path: String, error: std::io::Error },
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool { threads: usize, message: String },
    #[error("{input}:{line}: {reason} (--strict stops at the first malformed line)")]
    Strict {
        input: String,
        line: u64,
        reason: String,
    },
    #[error("--since/--until relative to the newest request: no request in the input has a time")]
    NoTimeForWindow,
}
