//! What can go wrong, as types.

use hotkeys_parser::error::ScanError;

/// A report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    /// Reading the input failed as a whole (not one line or one file: those
    /// are counted in the scan report).
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// Writing a rendered report failed.
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
}

/// An option value that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A cache size that is neither a positive number of objects nor a
    /// positive size with a unit.
    #[error(
        "cache size {input:?}: {reason}; give a number of objects (10000) or a size with a unit (64MiB, 2GiB)"
    )]
    CacheSize {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A sample rate that is not a fraction (or percentage) above 0 and at
    /// most 1, or too small to keep any key.
    #[error("sample rate {input:?}: expected a fraction above 0 and at most 1, e.g. 0.01")]
    SampleRate {
        /// The text as given.
        input: String,
    },
    /// A warm-up list size that is not a positive whole number, or an
    /// empty list.
    #[error("warm-up list size {input:?}: expected a whole number of keys, e.g. 100,1000,10000")]
    WarmTop {
        /// The entry in question, or the whole list when it is empty.
        input: String,
    },
}
