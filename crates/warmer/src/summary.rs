//! What a run did: counted while it runs (`Tally`), reported at the end
//! ([`Summary`], also written as JSON with `--summary`).
//!
//! Every key of the plan ends in exactly one of `warmed`, `skipped`,
//! `failed` and `unfinished`, and every key that was not written is listed
//! by name with its reason: nothing is lost silently.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use hotkeys_contract::WarmEntry;
use serde::Serialize;

use crate::control::{Control, StopReason};
use crate::plan::{Action, Plan};

/// The report of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Keys written.
    pub warmed: u64,
    /// Keys already present in the cache (checked before asking the
    /// origin, or found present by `SET … NX` or memcached's `add`).
    pub skipped: u64,
    /// Keys that could not be warmed, refused entries included.
    pub failed: u64,
    /// Keys not finished because the run stopped early.
    pub unfinished: u64,
    /// Keys in the plan: `warmed + skipped + failed + unfinished`.
    pub total: u64,
    /// Entries dropped because a hotter entry had the same key.
    pub duplicates: u64,
    /// Entries beyond `--max-keys`, not part of the run.
    pub beyond_max_keys: u64,
    /// `failed` by reason: `status_404`, `timeout`, `too_large`,
    /// `refused_dot_segment`, `redis_write`, …
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Value bytes written to the cache.
    pub bytes_written: u64,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: u64,
    /// Requests sent to the origin, retries included (one per pipeline for
    /// a Redis origin).
    pub origin_requests: u64,
    /// Retries among them.
    pub retries: u64,
    /// Times the origin paused the run with `Retry-After` (no request
    /// started until the pause was over).
    pub origin_pauses: u64,
    /// Time spent in those pauses, in milliseconds.
    pub origin_paused_ms: u64,
    /// Origin response times over all requests.
    pub origin_latency_ms: Option<Latency>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// The stop, explained.
    pub stop_detail: Option<String>,
    /// Nothing was sent anywhere (the plan only).
    pub dry_run: bool,
    /// The origin (redacted).
    pub origin: String,
    /// The cache warmed: the Redis URLs (redacted), or
    /// `memcached://host:port` for each memcached server. The name stays
    /// `redis` for the readers of the summary JSON.
    pub redis: String,
    /// Every failed key with its reason.
    pub failed_keys: Vec<KeyReport>,
    /// Every unfinished key.
    pub unfinished_keys: Vec<KeyReport>,
}

/// Origin response times, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// One key in the summary's lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    /// Its rank in the warm list.
    pub rank: u64,
    /// The key, as in the warm list: exact unless `key_base64` is present.
    pub key: String,
    /// Base64 of the exact key, when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_base64: Option<String>,
    /// Why it failed (absent for unfinished keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// More about the failure, when there is more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every key warmed or skipped.
    Complete,
    /// Some keys failed or were left unfinished.
    Partial,
    /// The run had to stop (circuit breaker, Redis or memcached lost).
    Fatal,
}

impl Summary {
    /// How the run ended.
    pub fn outcome(&self) -> Outcome {
        if self.stopped.is_some_and(StopReason::is_fatal) {
            Outcome::Fatal
        } else if self.failed > 0 || self.unfinished > 0 {
            Outcome::Partial
        } else {
            Outcome::Complete
        }
    }

    /// The summary as pretty JSON, ending in a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            // Serialising plain numbers and strings cannot fail.
            format!("{{\"error\": \"cannot serialise summary: {e}\"}}")
        });
        text.push('\n');
        text
    }

    /// The summary of a dry run: what the plan would do.
    pub fn of_plan(plan: &Plan, redis: String) -> Summary {
        let mut tally = Tally::new(plan, &Control::new());
        tally.dry_run = true;
        tally.finish(plan, Duration::ZERO, None, None, redis)
    }
}

/// Where one key stands. One byte per key: failures, which are few,
/// keep their reason in [`Tally::failures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Warmed,
    Skipped,
    Failed,
}

/// The running count of one run.
#[derive(Debug)]
pub(crate) struct Tally {
    control: Control,
    states: Vec<State>,
    /// Key index, reason, detail; in the order the failures happened.
    failures: Vec<(usize, String, Option<String>)>,
    warmed: u64,
    skipped: u64,
    failed: u64,
    bytes_written: u64,
    by_reason: BTreeMap<String, u64>,
    latency_us: Histogram<u64>,
    origin_requests: u64,
    retries: u64,
    origin_pauses: u64,
    origin_paused: Duration,
    dry_run: bool,
}

impl Tally {
    /// A tally for `plan`, with its refused entries already failed.
    pub(crate) fn new(plan: &Plan, control: &Control) -> Tally {
        control.set_total(plan.entries.len() as u64);
        let mut tally = Tally {
            control: control.clone(),
            states: vec![State::Pending; plan.entries.len()],
            failures: Vec::new(),
            warmed: 0,
            skipped: 0,
            failed: 0,
            bytes_written: 0,
            by_reason: BTreeMap::new(),
            latency_us: Histogram::new(3).expect("3 significant figures is a valid precision"),
            origin_requests: 0,
            retries: 0,
            origin_pauses: 0,
            origin_paused: Duration::ZERO,
            dry_run: false,
        };
        for (i, entry) in plan.entries.iter().enumerate() {
            if let Action::Refuse(why) = entry.action {
                tally.failed(i, why.code().to_owned(), Some(why.explain().to_owned()));
            }
        }
        tally
    }

    fn settle(&mut self, i: usize, state: State) -> bool {
        match self.states.get_mut(i) {
            Some(slot) if *slot == State::Pending => {
                *slot = state;
                true
            }
            _ => false,
        }
    }

    /// Key `i` was written (`bytes` of value).
    pub(crate) fn warmed(&mut self, i: usize, bytes: usize) {
        if self.settle(i, State::Warmed) {
            self.warmed += 1;
            self.bytes_written += bytes as u64;
            self.control.add_warmed();
        }
    }

    /// Key `i` was already present.
    pub(crate) fn skipped(&mut self, i: usize) {
        if self.settle(i, State::Skipped) {
            self.skipped += 1;
            self.control.add_skipped();
        }
    }

    /// Key `i` failed.
    pub(crate) fn failed(&mut self, i: usize, reason: String, detail: Option<String>) {
        if self.settle(i, State::Failed) {
            self.failed += 1;
            *self.by_reason.entry(reason.clone()).or_default() += 1;
            self.failures.push((i, reason, detail));
            self.control.add_failed();
        }
    }

    /// One origin request took `took`; `retry` if it was a retry.
    pub(crate) fn request(&mut self, took: Duration, retry: bool) {
        self.origin_requests += 1;
        self.retries += u64::from(retry);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        // Auto-resizing histogram: recording cannot fail for u64 values.
        let _ = self.latency_us.record(us);
    }

    /// The origin paused the run (`Retry-After`): a new pause when `new`,
    /// else the one running was extended; `added` is the time it adds.
    pub(crate) fn paused(&mut self, new: bool, added: Duration) {
        self.origin_pauses += u64::from(new);
        self.origin_paused += added;
    }

    /// The final report.
    pub(crate) fn finish(
        &self,
        plan: &Plan,
        elapsed: Duration,
        stopped: Option<StopReason>,
        stop_detail: Option<String>,
        redis: String,
    ) -> Summary {
        let report = |i: usize, reason: Option<String>, detail: Option<String>| {
            let entry = &plan.entries[i];
            let shown = WarmEntry::with_key(entry.rank, &entry.key);
            KeyReport {
                rank: entry.rank,
                key: shown.key,
                key_base64: shown.key_base64,
                reason,
                detail,
            }
        };
        let mut failures: Vec<&(usize, String, Option<String>)> = self.failures.iter().collect();
        failures.sort_by_key(|(i, _, _)| *i);
        let failed_keys: Vec<KeyReport> = failures
            .into_iter()
            .map(|(i, reason, detail)| report(*i, Some(reason.clone()), detail.clone()))
            .collect();
        let unfinished_keys: Vec<KeyReport> = if self.dry_run {
            Vec::new()
        } else {
            self.states
                .iter()
                .enumerate()
                .filter(|(_, s)| **s == State::Pending)
                .map(|(i, _)| report(i, None, None))
                .collect()
        };
        let ms = |us: u64| us as f64 / 1000.0;
        let origin_latency_ms = (!self.latency_us.is_empty()).then(|| Latency {
            p50: ms(self.latency_us.value_at_quantile(0.5)),
            p99: ms(self.latency_us.value_at_quantile(0.99)),
            max: ms(self.latency_us.max()),
        });
        Summary {
            warmed: self.warmed,
            skipped: self.skipped,
            failed: self.failed,
            unfinished: unfinished_keys.len() as u64,
            total: plan.entries.len() as u64,
            duplicates: plan.duplicates,
            beyond_max_keys: plan.beyond_max_keys,
            failed_by_reason: self.by_reason.clone(),
            bytes_written: self.bytes_written,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            origin_requests: self.origin_requests,
            retries: self.retries,
            origin_pauses: self.origin_pauses,
            origin_paused_ms: u64::try_from(self.origin_paused.as_millis()).unwrap_or(u64::MAX),
            origin_latency_ms,
            stopped,
            stop_detail,
            dry_run: self.dry_run,
            origin: plan.origin.clone(),
            redis,
            failed_keys,
            unfinished_keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WarmConfig;

    fn plan() -> Plan {
        let entries = ["/a", "/b", "http://x/c", "/d", "/\u{1b}e"]
            .iter()
            .enumerate()
            .map(|(i, k)| WarmEntry::with_key(i as u64 + 1, k.as_bytes()));
        Plan::build(&WarmConfig::new("http://o"), entries).unwrap()
    }

    #[test]
    fn every_key_ends_in_exactly_one_bucket() {
        let plan = plan();
        let control = Control::new();
        let mut tally = Tally::new(&plan, &control);
        tally.warmed(0, 10);
        tally.warmed(0, 10);
        tally.skipped(1);
        tally.failed(3, "status_404".into(), None);
        tally.request(Duration::from_millis(4), false);
        tally.request(Duration::from_millis(8), true);
        let s = tally.finish(
            &plan,
            Duration::from_millis(1234),
            Some(StopReason::Deadline),
            None,
            "redis://r".into(),
        );
        assert_eq!(
            (s.warmed, s.skipped, s.failed, s.unfinished, s.total),
            (1, 1, 3, 0, 5)
        );
        assert_eq!(s.bytes_written, 10);
        assert_eq!(s.failed_by_reason["status_404"], 1);
        assert_eq!(s.failed_by_reason["refused_absolute_form"], 1);
        assert_eq!(s.failed_by_reason["refused_control_character"], 1);
        assert_eq!(s.failed_keys.len(), 3);
        assert_eq!((s.origin_requests, s.retries), (2, 1));
        let lat = s.origin_latency_ms.unwrap();
        assert!(
            lat.p50 >= 3.9 && lat.p50 <= 4.1 && lat.max >= 7.9,
            "{lat:?}"
        );
        assert_eq!(s.outcome(), Outcome::Partial);
        assert_eq!(control.progress().done(), 5);

        let json: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
        assert_eq!(json["warmed"], 1);
        assert_eq!(json["skipped"], 1);
        assert_eq!(json["failed"], 3);
        assert_eq!(json["stopped"], "deadline");
        assert_eq!(json["failed_keys"][2]["key"], "/\u{1b}e");
    }

    #[test]
    fn pending_keys_are_unfinished_and_fatal_stops_are_fatal() {
        let plan = plan();
        let tally = Tally::new(&plan, &Control::new());
        let s = tally.finish(
            &plan,
            Duration::ZERO,
            Some(StopReason::CircuitBreaker),
            Some("x".into()),
            String::new(),
        );
        assert_eq!(s.unfinished, 3);
        assert_eq!(s.unfinished_keys[0].key, "/a");
        assert_eq!(s.unfinished_keys[0].reason, None);
        assert_eq!(s.outcome(), Outcome::Fatal);
        let dry = Summary::of_plan(&plan, String::new());
        assert!(dry.dry_run);
        assert_eq!((dry.unfinished, dry.failed), (0, 2));
    }

    #[test]
    fn non_utf8_keys_are_reported_exactly() {
        let plan = Plan::build(
            &WarmConfig::new("redis://o"),
            [WarmEntry::with_key(1, b"k\xff")],
        )
        .unwrap();
        let s = Tally::new(&plan, &Control::new()).finish(
            &plan,
            Duration::ZERO,
            None,
            None,
            String::new(),
        );
        assert_eq!(s.unfinished_keys[0].key_base64.as_deref(), Some("a/8="));
    }
}
