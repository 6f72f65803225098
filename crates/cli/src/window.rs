//! Resolving `--since`/`--until` given as a duration before the newest
//! request, which needs a first pass over the input.

use anyhow::{Result, bail};
use hotkeys_parser::record::Request;
use hotkeys_parser::scan::{self, Accumulator, ScanOptions};

use crate::config::TimeBound;

/// The bound in Unix microseconds, given the newest request time.
pub fn resolve(bound: TimeBound, newest: i64) -> i64 {
    match bound {
        TimeBound::At(t) => t,
        TimeBound::BeforeNewest(d) => {
            newest.saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        }
    }
}

/// Counts nothing: the first pass of a relative time window only needs the
/// scan's own report (the newest request time).
struct Nothing;

impl Accumulator for Nothing {
    fn add(&mut self, _: &Request<'_>) {}
    fn merge(&mut self, _: Self) {}
}

/// The newest request time, when a relative bound needs it. This reads the
/// input once more: an exact window is worth a second pass.
pub fn newest_if_needed(
    inputs: &[hotkeys_parser::input::Source],
    options: &ScanOptions,
    since: Option<TimeBound>,
    until: Option<TimeBound>,
) -> Result<Option<i64>> {
    let relative = [since, until]
        .iter()
        .any(|b| matches!(b, Some(TimeBound::BeforeNewest(_))));
    if !relative {
        return Ok(None);
    }
    let quiet_pass = ScanOptions {
        progress: None,
        ..options.clone()
    };
    let (_, report) = scan::scan(inputs, &quiet_pass, || Nothing)?;
    match report.last_time {
        Some(t) => Ok(Some(t)),
        None => bail!(
            "--since/--until relative to the newest request: no request in the input has a time"
        ),
    }
}
