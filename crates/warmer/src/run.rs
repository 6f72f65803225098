//! A warm run: check, fetch, write, count.
//!
//! Three stages connected by a channel:
//!
//! 1. The producer walks the plan in rank order, a batch at a time. Unless
//!    overwriting, it asks the cache which keys of the batch exist (one
//!    pipelined `EXISTS` per key for Redis, `mg` for memcached) and skips
//!    those before the origin is asked. It then starts the origin requests for the missing ones, each
//!    waiting for the throttle (in-flight limit, adaptive) and the pacer
//!    (rate limit), so requests start in rank order.
//! 2. Fetch tasks ask the origin, retry with back-off when it is worth it,
//!    feed the circuit breaker, and hand values to the writer.
//! 3. The writer gathers values into pipelines and writes them with
//!    `SET … PX ttl [NX]` (memcached: `add`, or `set`), several pipelines
//!    at once.
//!
//! Stopping (Ctrl-C, deadline, breaker, cache lost) ends stage 1 and
//! abandons the requests of stage 2; whatever stage 3 has received is
//! still written. The deadline also bounds the rest: connecting before it,
//! and writing after it for at most [`DEADLINE_GRACE`], so that a cache
//! that hangs cannot hold a run past its warm-up window.
//!
//! A value is only ever written whole: a response body is stored once it
//! has been read completely, and one `SET` (or `add`) is atomic.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::backoff::MAX_RETRY_AFTER;
use crate::breaker::{Breaker, Tripped};
use crate::config::{OriginKind, WarmConfig};
use crate::control::{Control, StopReason};
use crate::error::WarmError;
use crate::origin::FetchError;
use crate::origin::http::HttpOrigin;
use crate::origin::redis::RedisOrigin;
use crate::pacer::Pacer;
use crate::plan::{Action, Plan, Source};
use crate::summary::{Summary, Tally};
use crate::target::{Target, Write, Written};
use crate::throttle::{Heeded, OutOfPatience, Patience, Permit, Signal, Throttle};

/// Write pipelines in flight at once.
const WRITES_IN_FLIGHT: usize = 8;

/// How long after the deadline the values already fetched may still take
/// to be written. A healthy cache needs milliseconds; writes still waiting
/// then (on a cache that hangs) are abandoned and their keys unfinished.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

/// A fetched value on its way to the cache.
#[derive(Debug)]
struct Ready {
    index: usize,
    value: Vec<u8>,
    origin_ttl_ms: Option<u64>,
}

enum Origin {
    Http(HttpOrigin),
    Redis(Box<RedisOrigin>),
}

struct Run {
    config: WarmConfig,
    plan: Plan,
    control: Control,
    target: Target,
    origin: Origin,
    throttle: Arc<Throttle>,
    pacer: Option<Pacer>,
    tally: Mutex<Tally>,
    breaker: Mutex<Breaker>,
    patience: Mutex<Patience>,
    stop_detail: Mutex<Option<String>>,
}

/// Warms the keys of `plan`: the whole run, from connecting to the final
/// summary. Returns an error only when the run cannot start (the cache or
/// the origin unreachable, settings unusable); everything that happens to
/// single keys, and stops on the way, is in the [`Summary`].
pub async fn warm(
    config: &WarmConfig,
    plan: Plan,
    control: &Control,
) -> Result<Summary, WarmError> {
    config.validate()?;
    let started = Instant::now();
    let deadline = config.deadline.map(|limit| started + limit);
    let tally = Tally::new(&plan, control);
    let target = by_deadline(
        deadline,
        config,
        || format!("{} at {}", target_kind(config), config.target_display()),
        Target::connect(config),
    )
    .await?;
    let origin = match plan.kind {
        OriginKind::Http => Origin::Http(HttpOrigin::new(config)?),
        OriginKind::Redis => Origin::Redis(Box::new(
            by_deadline(
                deadline,
                config,
                || format!("the origin Redis at {}", plan.origin),
                RedisOrigin::connect(config),
            )
            .await?,
        )),
    };
    let run = Arc::new(Run {
        config: config.clone(),
        throttle: Throttle::new(config.concurrency),
        pacer: Pacer::new(config.rate),
        breaker: Mutex::new(Breaker::new(config.breaker)),
        patience: Mutex::new(Patience::new()),
        tally: Mutex::new(tally),
        stop_detail: Mutex::new(None),
        plan,
        control: control.clone(),
        target,
        origin,
    });
    let timer = deadline.map(|at| {
        let control = control.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            control.stop(StopReason::Deadline);
        })
    });

    let (values, inbox) = mpsc::channel::<Vec<Ready>>(config.concurrency.max(4) * 2);
    let writer = tokio::spawn(write_all(Arc::clone(&run), inbox));
    let writer_abort = writer.abort_handle();
    let work = async {
        produce(&run, values).await;
        // A writer that panicked has already lost its keys; they show as unfinished.
        let _ = writer.await;
    };
    let abandoned = match deadline {
        Some(at) => tokio::time::timeout_at(at + DEADLINE_GRACE, work)
            .await
            .is_err(),
        None => {
            work.await;
            false
        }
    };
    if abandoned {
        // Dropping `work` abandoned the fetches; the writes go with the writer.
        writer_abort.abort();
    }
    if let Some(task) = timer {
        task.abort();
    }

    let stopped = run.control.stop_reason();
    let deadline_text = hotkeys_contract::format_duration(config.deadline.unwrap_or_default());
    let abandoned_text = format!(
        "writes still waiting for {} {} after the deadline were abandoned",
        run.target.kind(),
        hotkeys_contract::format_duration(DEADLINE_GRACE)
    );
    let detail = lock(&run.stop_detail).clone().or_else(|| {
        stopped.map(|reason| match reason {
            StopReason::Interrupted => {
                "interrupted: fetching stopped, values already fetched were written".to_owned()
            }
            StopReason::Deadline if abandoned => {
                format!("the deadline ({deadline_text}) passed: fetching stopped; {abandoned_text}")
            }
            StopReason::Deadline => format!(
                "the deadline ({}) passed: fetching stopped, values already fetched were written",
                hotkeys_contract::format_duration(config.deadline.unwrap_or_default())
            ),
            StopReason::CircuitBreaker => "the origin failed too often".to_owned(),
            StopReason::RateLimited => "the origin kept asking to wait (Retry-After)".to_owned(),
            StopReason::RedisLost | StopReason::MemcachedLost => format!(
                "{} at {} became unreachable",
                run.target.kind(),
                run.target.display()
            ),
        })
    });
    // Another stop came first, and then its writes outlived the deadline too.
    let detail = match detail {
        Some(text) if abandoned && stopped != Some(StopReason::Deadline) => {
            Some(format!("{text}; {abandoned_text}"))
        }
        other => other,
    };
    let summary = lock(&run.tally).finish(
        &run.plan,
        started.elapsed(),
        stopped,
        detail,
        run.target.display().to_owned(),
    );
    Ok(summary)
}

/// Runs `connect` until `deadline`, if there is one; `what` names what
/// is connected to, for the error when the deadline comes first.
async fn by_deadline<T>(
    deadline: Option<Instant>,
    config: &WarmConfig,
    what: impl FnOnce() -> String,
    connect: impl Future<Output = Result<T, WarmError>>,
) -> Result<T, WarmError> {
    let Some(at) = deadline else {
        return connect.await;
    };
    tokio::time::timeout_at(at, connect)
        .await
        .unwrap_or_else(|_| {
            Err(WarmError::NoAnswerByDeadline {
                what: what(),
                deadline: hotkeys_contract::format_duration(config.deadline.unwrap_or_default()),
            })
        })
}

/// `Redis` or `memcached`, before the target exists.
fn target_kind(config: &WarmConfig) -> &'static str {
    if config.memcached.is_empty() {
        "Redis"
    } else {
        "memcached"
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stage 1: existence checks and starting fetches, in rank order.
async fn produce(run: &Arc<Run>, values: mpsc::Sender<Vec<Ready>>) {
    let jobs: Vec<usize> = run
        .plan
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.action, Action::Fetch { .. }))
        .map(|(i, _)| i)
        .collect();
    let mut fetches = JoinSet::new();
    'plan: for batch in jobs.chunks(run.config.batch_size) {
        if run.control.stop_reason().is_some() {
            break;
        }
        while fetches.try_join_next().is_some() {}
        let missing = if run.config.overwrite {
            batch.to_vec()
        } else {
            let keys: Vec<&[u8]> = batch
                .iter()
                .map(|&i| run.plan.entries[i].key.as_slice())
                .collect();
            let found = tokio::select! {
                found = run.target.exists(&keys) => found,
                _ = run.control.stopped() => break 'plan,
            };
            let mut missing = Vec::with_capacity(batch.len());
            let mut tally = lock(&run.tally);
            for (&i, exists) in batch.iter().zip(found) {
                match exists {
                    Ok(true) => tally.skipped(i),
                    Ok(false) => missing.push(i),
                    Err(e) => tally.failed(i, e.reason.into(), Some(e.detail)),
                }
            }
            drop(tally);
            if run.target.is_lost() {
                target_lost(run);
                break;
            }
            missing
        };
        match run.origin {
            Origin::Http(_) => {
                for i in missing {
                    let Some(permit) = start_request(run, 1).await else {
                        break 'plan;
                    };
                    fetches.spawn(fetch_http(Arc::clone(run), i, permit, values.clone()));
                }
            }
            Origin::Redis(_) => {
                for keys in missing.chunks(run.config.batch_size) {
                    let Some(permit) = start_request(run, keys.len() as u32).await else {
                        break 'plan;
                    };
                    fetches.spawn(fetch_redis(
                        Arc::clone(run),
                        keys.to_vec(),
                        permit,
                        values.clone(),
                    ));
                }
            }
        }
    }
    drop(values);
    while fetches.join_next().await.is_some() {}
}

/// Waits for the cache to be reachable, the throttle and the pacer; `None`
/// when the run stops first. While the cache is failing no value could be
/// stored, so the origin is not asked for any.
async fn start_request(run: &Run, keys: u32) -> Option<Permit> {
    tokio::select! {
        () = run.target.reachable() => {}
        _ = run.control.stopped() => return None,
    }
    let permit = tokio::select! {
        permit = run.throttle.acquire() => permit,
        _ = run.control.stopped() => return None,
    };
    if let Some(pacer) = &run.pacer {
        tokio::select! {
            () = pacer.wait(keys) => {}
            _ = run.control.stopped() => return None,
        }
    }
    Some(permit)
}

/// Ends a request in the throttle (pauses capped) and tells the run's
/// patience what the origin said: a pause is counted, and one the run
/// will not wait for stops it.
fn finish_request(run: &Run, permit: Permit, signal: Signal) {
    permit.finish(capped(signal));
    let heeded = lock(&run.patience).heed(signal, Instant::now());
    match heeded {
        Ok(Heeded::Nothing) => {}
        Ok(Heeded::Paused(added)) => lock(&run.tally).paused(true, added),
        Ok(Heeded::Extended(added)) => lock(&run.tally).paused(false, added),
        Err(out) => {
            let limit = hotkeys_contract::format_duration(MAX_RETRY_AFTER);
            let why = match out {
                OutOfPatience::TooLong(wait) => format!(
                    "the origin asked to wait {} before the next request (Retry-After), longer than the {limit} hotkeys waits",
                    hotkeys_contract::format_duration(wait)
                ),
                OutOfPatience::TooMany(total) => format!(
                    "the origin kept asking to wait (Retry-After), {} in all without answering normally, more than the {limit} hotkeys waits",
                    hotkeys_contract::format_duration(total)
                ),
            };
            let mut detail = lock(&run.stop_detail);
            if detail.is_none() && run.control.stop_reason().is_none() {
                *detail = Some(format!(
                    "{why}: it is rate-limiting this run; try again later, or with a lower --rate"
                ));
            }
            drop(detail);
            run.control.stop(StopReason::RateLimited);
        }
    }
}

/// `signal` with its pause cut to what a run waits at most.
fn capped(signal: Signal) -> Signal {
    match signal {
        Signal::Overloaded { pause } => Signal::Overloaded {
            pause: pause.map(|p| p.min(MAX_RETRY_AFTER)),
        },
        other => other,
    }
}

/// How long to wait before retry `attempt` of a failed request, or `None`
/// when it must not be retried.
fn retry_delay(
    run: &Run,
    error: &FetchError,
    attempt: u32,
    rng: &mut fastrand::Rng,
) -> Option<Duration> {
    if !error.retryable() || attempt >= run.config.retries {
        return None;
    }
    let backoff = run.config.backoff.delay(attempt, rng);
    match error {
        FetchError::Status {
            retry_after: Some(wait),
            ..
        } => {
            if *wait > MAX_RETRY_AFTER {
                None
            } else {
                // The origin's wait, plus a little jitter so that the keys
                // it paused do not all return in the same millisecond.
                Some(*wait + backoff / 4)
            }
        }
        _ => Some(backoff),
    }
}

/// Records one origin request's outcome (one key's, for a pipeline) in the
/// breaker; opens it if needed. Every attempt counts, retries included: an
/// origin failing fast must trip the breaker before the retries of a whole
/// window of keys have run out.
fn judge(run: &Run, error: Option<&FetchError>) {
    let tripped = lock(&run.breaker).record(error.is_some_and(FetchError::is_origin_failure));
    if let Some(Tripped { errors, window }) = tripped {
        let last = error.map(FetchError::reason).unwrap_or_default();
        let mut detail = lock(&run.stop_detail);
        if detail.is_none() && run.control.stop_reason().is_none() {
            *detail = Some(format!(
                "circuit breaker opened: {errors} of the last {window} keys failed at the origin (last: {last}); \
                 stopped so as not to hammer a failing origin"
            ));
        }
        drop(detail);
        run.control.stop(StopReason::CircuitBreaker);
    }
}

/// Stage 2, HTTP: one key, with retries.
async fn fetch_http(run: Arc<Run>, index: usize, first: Permit, values: mpsc::Sender<Vec<Ready>>) {
    let Origin::Http(origin) = &run.origin else {
        return;
    };
    let Action::Fetch {
        source: Source::Url(url),
        ..
    } = &run.plan.entries[index].action
    else {
        return;
    };
    let mut rng = fastrand::Rng::new();
    let mut permit = first;
    let mut attempt = 0;
    let result = loop {
        let started = Instant::now();
        let result = tokio::select! {
            r = origin.fetch(url) => r,
            _ = run.control.stopped() => return,
        };
        lock(&run.tally).request(started.elapsed(), attempt > 0);
        let signal = match &result {
            Ok(_) => Signal::Healthy,
            Err(e) => e.signal(),
        };
        finish_request(&run, permit, signal);
        judge(&run, result.as_ref().err());
        let error = match result {
            Ok(value) => break Ok(value),
            Err(e) => e,
        };
        let Some(delay) = retry_delay(&run, &error, attempt, &mut rng) else {
            break Err(error);
        };
        attempt += 1;
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = run.control.stopped() => return,
        }
        permit = match start_request(&run, 1).await {
            Some(p) => p,
            None => return,
        };
    };
    match result {
        Ok(value) => {
            let _ = values
                .send(vec![Ready {
                    index,
                    value,
                    origin_ttl_ms: None,
                }])
                .await;
        }
        Err(error) => {
            lock(&run.tally).failed(index, error.reason(), error.detail().map(str::to_owned));
        }
    }
}

/// Stage 2, Redis origin: one pipeline of keys, with retries of the whole
/// pipeline when the request itself fails.
async fn fetch_redis(
    run: Arc<Run>,
    indices: Vec<usize>,
    first: Permit,
    values: mpsc::Sender<Vec<Ready>>,
) {
    let Origin::Redis(origin) = &run.origin else {
        return;
    };
    let keys: Vec<&[u8]> = indices
        .iter()
        .map(|&i| run.plan.entries[i].key.as_slice())
        .collect();
    let mut rng = fastrand::Rng::new();
    let mut permit = first;
    let mut attempt = 0;
    let result = loop {
        let started = Instant::now();
        let result = tokio::select! {
            r = origin.fetch(&keys) => r,
            _ = run.control.stopped() => return,
        };
        lock(&run.tally).request(started.elapsed(), attempt > 0);
        let signal = match &result {
            Ok(_) => Signal::Healthy,
            Err(e) => e.signal(),
        };
        finish_request(&run, permit, signal);
        match &result {
            Ok(per_key) => {
                for fetched in per_key {
                    judge(&run, fetched.as_ref().err());
                }
            }
            Err(e) => judge(&run, Some(e)),
        }
        let error = match result {
            Ok(per_key) => break Ok(per_key),
            Err(e) => e,
        };
        let Some(delay) = retry_delay(&run, &error, attempt, &mut rng) else {
            break Err(error);
        };
        attempt += 1;
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = run.control.stopped() => return,
        }
        permit = match start_request(&run, keys.len() as u32).await {
            Some(p) => p,
            None => return,
        };
    };
    match result {
        Ok(per_key) => {
            let mut ready = Vec::with_capacity(indices.len());
            let mut failures = Vec::new();
            for (&index, fetched) in indices.iter().zip(per_key) {
                match fetched {
                    Ok(f) => ready.push(Ready {
                        index,
                        value: f.value,
                        origin_ttl_ms: f.ttl_ms,
                    }),
                    Err(e) => failures.push((index, e)),
                }
            }
            {
                let mut tally = lock(&run.tally);
                for (index, e) in &failures {
                    tally.failed(*index, e.reason(), e.detail().map(str::to_owned));
                }
            }
            if !ready.is_empty() {
                let _ = values.send(ready).await;
            }
        }
        Err(error) => {
            let mut tally = lock(&run.tally);
            for &index in &indices {
                tally.failed(index, error.reason(), error.detail().map(str::to_owned));
            }
        }
    }
}

/// Stage 3: gathers fetched values into pipelines and writes them.
async fn write_all(run: Arc<Run>, mut inbox: mpsc::Receiver<Vec<Ready>>) {
    let mut writes = JoinSet::new();
    let mut rng = fastrand::Rng::new();
    while let Some(mut batch) = inbox.recv().await {
        while batch.len() < run.config.batch_size {
            match inbox.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        while writes.len() >= WRITES_IN_FLIGHT {
            writes.join_next().await;
        }
        let ttls: Vec<u64> = batch
            .iter()
            .map(|ready| match &run.plan.entries[ready.index].action {
                Action::Fetch { ttl, .. } => {
                    ttl.millis(ready.origin_ttl_ms, run.config.ttl_jitter, rng.f64())
                }
                Action::Refuse(_) => 1,
            })
            .collect();
        writes.spawn(write_batch(Arc::clone(&run), batch, ttls));
    }
    while writes.join_next().await.is_some() {}
}

async fn write_batch(run: Arc<Run>, batch: Vec<Ready>, ttls: Vec<u64>) {
    let items: Vec<Write<'_>> = batch
        .iter()
        .zip(&ttls)
        .map(|(ready, &ttl_ms)| Write {
            key: &run.plan.entries[ready.index].key,
            value: &ready.value,
            ttl_ms,
        })
        .collect();
    let results = run.target.write(&items, run.config.overwrite).await;
    let mut tally = lock(&run.tally);
    for (ready, result) in batch.iter().zip(results) {
        match result {
            Ok(Written::Stored) => tally.warmed(ready.index, ready.value.len()),
            Ok(Written::Present) => tally.skipped(ready.index),
            Err(e) => tally.failed(ready.index, e.reason.into(), Some(e.detail)),
        }
    }
    drop(tally);
    if run.target.is_lost() {
        target_lost(&run);
    }
}

/// Stops the run because the cache is gone: fetching more would only load
/// the origin for values that cannot be stored.
fn target_lost(run: &Run) {
    let mut detail = lock(&run.stop_detail);
    if detail.is_none() && run.control.stop_reason().is_none() {
        // memcached shares the Redis timeout setting (`--redis-timeout`).
        let timeout = match run.target {
            Target::Redis(_) => "the Redis timeout",
            Target::Memcached(_) => "the timeout (--redis-timeout)",
        };
        *detail = Some(format!(
            "{} at {} stayed unreachable for longer than {timeout} ({}); \
             stopped fetching, and every key not written is listed",
            run.target.kind(),
            run.target.display(),
            hotkeys_contract::format_duration(run.config.redis_timeout)
        ));
    }
    drop(detail);
    run.control.stop(run.target.lost_reason());
}
