//! The process exit codes, in one place (they are documented in the README).

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything was read and done.
    Success = 0,
    /// Bad usage, or an error that stopped the run.
    Failure = 1,
    /// The run finished, but some input could not be read completely
    /// (damaged archive, unreadable file); what could be read was used.
    Partial = 2,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}
