//! Errors that stop a scan. Problems with single lines or single inputs are
//! not errors: they are counted and reported in the scan's results, and
//! the run goes on.

/// Why a scan could not run or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    // The cause is part of the message, and deliberately not a `source`:
    // `{:#}` would print it twice.
    /// A file could not be opened (from [`crate::input::open_file`]; a scan
    /// itself reports such an input as a problem and goes on).
    #[error("cannot open {path}: {error}")]
    Open {
        /// The path as given, for messages.
        path: String,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// The worker pool could not be started.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool {
        /// Size asked of the pool: [`ScanOptions::threads`](crate::scan::ScanOptions::threads),
        /// or the number of cores when that was 0.
        threads: usize,
        /// Why the pool could not be built.
        message: String,
    },
    /// `--strict`: the first malformed or too long line, in input order.
    #[error("{input}:{line}: {reason} (--strict stops at the first malformed line)")]
    Strict {
        /// The input's name in messages: its path, or `<stdin>`.
        input: String,
        /// Line number within that input, counted from 1.
        line: u64,
        /// What was wrong with the line.
        reason: String,
    },
    /// A window relative to the newest request (`--since 24h`) was asked
    /// for, but no line in the inputs carries a time to measure from.
    #[error("--since/--until relative to the newest request: no request in the input has a time")]
    NoTimeForWindow,
}
