//! The time window of a run (`--since`, `--until`): absolute times, or
//! durations before the newest request, which need a first pass over the
//! input to find that request.

use std::time::Duration;

use hotkeys_contract::duration::parse_duration;

use crate::error::ScanError;
use crate::filter::Filter;
use crate::input::Source;
use crate::record::Request;
use crate::scan::{self, Accumulator, ScanOptions};
use crate::time::parse_iso8601;

/// One end of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBound {
    /// Unix microseconds.
    At(i64),
    /// This long before the newest request in the input.
    BeforeNewest(Duration),
}

/// A time bound that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?}: expected an RFC 3339 time (2024-05-01T12:00:00Z), a date (2024-05-01) or a \
     duration before the newest request (24h, 90m)"
)]
pub struct TimeBoundError(pub String);

impl TimeBound {
    /// `2024-05-01T12:00:00Z`, `2024-05-01` (midnight UTC), or a duration
    /// (`24h`, `90m`) before the newest request.
    pub fn parse(text: &str) -> Result<TimeBound, TimeBoundError> {
        if let Some(t) = parse_iso8601(text.as_bytes()) {
            return Ok(TimeBound::At(t));
        }
        if text.len() == 10
            && let Some(t) = parse_iso8601(format!("{text}T00:00:00Z").as_bytes())
        {
            return Ok(TimeBound::At(t));
        }
        parse_duration(text)
            .map(TimeBound::BeforeNewest)
            .map_err(|_| TimeBoundError(text.to_string()))
    }

    /// The bound in Unix microseconds, given the newest request time.
    pub fn resolve(self, newest: i64) -> i64 {
        match self {
            TimeBound::At(t) => t,
            TimeBound::BeforeNewest(d) => {
                newest.saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            }
        }
    }

    fn is_relative(self) -> bool {
        matches!(self, TimeBound::BeforeNewest(_))
    }
}

/// Which requests of the input a run looks at, by time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Only requests at or after this.
    pub since: Option<TimeBound>,
    /// Only requests before this.
    pub until: Option<TimeBound>,
}

/// A window that cannot be used with the given inputs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// Both ends are absolute and out of order.
    #[error("--since must be before --until")]
    Empty,
    /// A relative bound needs a second read, which stdin cannot give.
    #[error(
        "a relative --since/--until is measured from the newest request, which needs a second \
         read of the input; stdin cannot be read twice. Give files, or an RFC 3339 time."
    )]
    RelativeOnStdin,
    /// A relative bound needs a second read, which a pipe, FIFO or device
    /// cannot give (`<(zcat …)` is one).
    #[error(
        "a relative --since/--until is measured from the newest request, which needs a second \
         read of the input; {0} is not a regular file and cannot be read twice. Give regular \
         files, or an RFC 3339 time."
    )]
    RelativeOnStream(String),
}

impl Window {
    /// Whether an end is measured from the newest request.
    pub fn is_relative(&self) -> bool {
        [self.since, self.until]
            .into_iter()
            .flatten()
            .any(TimeBound::is_relative)
    }

    /// Checks the window against the inputs before anything is read.
    pub fn check(&self, inputs: &[Source]) -> Result<(), WindowError> {
        if let (Some(TimeBound::At(s)), Some(TimeBound::At(u))) = (self.since, self.until)
            && s >= u
        {
            return Err(WindowError::Empty);
        }
        if !self.is_relative() {
            return Ok(());
        }
        for input in inputs {
            match input {
                Source::Stdin => return Err(WindowError::RelativeOnStdin),
                // A missing file is reported by the scan like any other.
                Source::File(path) => {
                    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
                        return Err(WindowError::RelativeOnStream(path.display().to_string()));
                    }
                }
            }
        }
        Ok(())
    }

    /// Sets the filter's time bounds. A relative bound reads the input once
    /// more to find the newest request: an exact window is worth a second
    /// pass.
    pub fn apply(
        &self,
        inputs: &[Source],
        options: &ScanOptions,
        filter: &mut Filter,
    ) -> Result<(), ScanError> {
        let newest = if self.is_relative() {
            newest_request(inputs, options)?
        } else {
            0
        };
        filter.since = self.since.map(|b| b.resolve(newest));
        filter.until = self.until.map(|b| b.resolve(newest));
        Ok(())
    }
}

/// Counts nothing: the first pass of a relative window only needs the
/// scan's own report (the newest request time).
struct Nothing;

impl Accumulator for Nothing {
    fn add(&mut self, _: &Request<'_>) {}
    fn merge(&mut self, _: Self) {}
}

fn newest_request(inputs: &[Source], options: &ScanOptions) -> Result<i64, ScanError> {
    let quiet_pass = ScanOptions {
        progress: None,
        // Times only: no line needs matching past them.
        wants: Default::default(),
        ..options.clone()
    };
    let (_, report) = scan::scan(inputs, &quiet_pass, || Nothing)?;
    report.last_time.ok_or(ScanError::NoTimeForWindow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds() {
        assert_eq!(
            TimeBound::parse("1970-01-01T00:00:01Z"),
            Ok(TimeBound::At(1_000_000))
        );
        assert_eq!(
            TimeBound::parse("1970-01-02"),
            Ok(TimeBound::At(86_400_000_000))
        );
        assert_eq!(
            TimeBound::parse("24h"),
            Ok(TimeBound::BeforeNewest(Duration::from_secs(86_400)))
        );
        let err = TimeBound::parse("yesterday").unwrap_err().to_string();
        assert!(
            err.contains("yesterday") && err.contains("RFC 3339"),
            "{err}"
        );
        assert_eq!(
            TimeBound::BeforeNewest(Duration::from_secs(2)).resolve(5_000_000),
            3_000_000
        );
    }

    #[test]
    fn windows_are_checked_before_reading() {
        let at = |s| Some(TimeBound::At(s));
        let empty = Window {
            since: at(10),
            until: at(10),
        };
        assert_eq!(empty.check(&[]), Err(WindowError::Empty));
        let relative = Window {
            since: Some(TimeBound::BeforeNewest(Duration::from_secs(60))),
            until: None,
        };
        assert!(relative.is_relative());
        assert_eq!(
            relative.check(&[Source::Stdin]),
            Err(WindowError::RelativeOnStdin)
        );
        assert_eq!(relative.check(&[Source::File("a.log".into())]), Ok(()));
        // A FIFO (or a process substitution's pipe) cannot be read twice.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(matches!(
            relative.check(&[Source::File(fifo.clone())]),
            Err(WindowError::RelativeOnStream(_))
        ));
        // An absolute window reads once and takes any input.
        assert_eq!(Window::default().check(&[Source::File(fifo)]), Ok(()));
    }
}
