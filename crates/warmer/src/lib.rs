//! Warm a Redis (standalone or Redis Cluster) or a pool of memcached
//! servers with the keys of a hotkeys warm list, before traffic arrives.
//!
//! `hotkeys rank` turns access logs into a warm list: the hottest cache
//! keys, each with the path that fills it and, with a routes file, a TTL.
//! This crate reads such a list, fetches each value from the origin (the
//! application's HTTP API, or a warm Redis such as a replica) and writes it
//! into the cache, hottest first:
//!
//! * **without overloading the origin**: a ceiling on requests in flight
//!   that halves when the origin says it is overloaded (429, 503, a
//!   timeout) and honours `Retry-After` ([`throttle`]); a smooth rate
//!   limit ([`pacer`]); retries with exponential back-off and jitter, never
//!   for a plain 4xx ([`backoff`]); and a circuit breaker that stops the
//!   run when the origin keeps failing ([`breaker`]);
//! * **without caching errors**: only 2xx bodies (or the configured
//!   statuses), up to a size limit, are stored;
//! * **without clobbering**: by default keys that exist are skipped before
//!   the origin is asked (pipelined `EXISTS`; `mg` for memcached), and
//!   writes use `SET … PX ttl NX` (memcached: `add`), so a value the
//!   application wrote meanwhile stays;
//! * **where the application looks**: memcached keys go to the server
//!   libmemcached's ketama hashing picks ([`ketama`]);
//! * **safely with hostile logs**: only the path of a logged request is
//!   used, never its scheme or host; absolute-form targets, `..` segments
//!   and control characters are refused ([`path`]); redirects are not
//!   followed, environment proxies are ignored unless asked for, and
//!   passwords never appear in messages ([`redact`]).
//!
//! The work is split in two steps. [`Plan::build`] decides, without any
//! network access, what happens to each entry: its key, the URL or Redis
//! key its value comes from, its TTL rule, or why it is refused. A dry run
//! stops there. [`warm`] then carries the plan out and returns a
//! [`Summary`]; a [`Control`] lets the caller stop it (Ctrl-C, deadline)
//! and watch its progress.
//!
//! This crate depends on `hotkeys-contract` (the warm list and routes
//! file) and never on the log parser. It is async (tokio); TLS
//! (`https://`, `rediss://`) uses rustls with the ring provider, so no
//! system OpenSSL is needed.
//!
//! # Example
//!
//! Plan a run from a plain list of keys; the logged absolute URL is
//! refused before anything is sent:
//!
//! ```
//! use std::time::Duration;
//! use hotkeys_contract::read_warm_list;
//! use hotkeys_warmer::{Action, Plan, Summary, WarmConfig};
//!
//! let list = read_warm_list(b"/api/products/1\n/api/products/2\nhttp://elsewhere.example/x\n")?;
//! let mut config = WarmConfig::new("http://127.0.0.1:8080");
//! config.ttl = Some(Duration::from_secs(600));
//! let plan = Plan::build(&config, list.entries)?;
//!
//! assert_eq!(plan.fetch_count(), 2);
//! assert_eq!(
//!     plan.describe_source(&plan.entries[0]),
//!     "http://127.0.0.1:8080/api/products/1"
//! );
//! assert!(matches!(plan.entries[2].action, Action::Refuse(_)));
//!
//! // What a dry run reports.
//! let summary = Summary::of_plan(&plan, "redis://127.0.0.1:6379".into());
//! assert_eq!(summary.failed_by_reason["refused_absolute_form"], 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Carrying the plan out needs a Redis and the origin:
//!
//! ```no_run
//! # use hotkeys_warmer::{Control, Plan, WarmConfig};
//! # async fn example(config: WarmConfig, plan: Plan) -> Result<(), hotkeys_warmer::WarmError> {
//! let control = Control::new();
//! let summary = hotkeys_warmer::warm(&config, plan, &control).await?;
//! println!("{} warmed, {} skipped, {} failed", summary.warmed, summary.skipped, summary.failed);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod backoff;
pub mod breaker;
pub mod config;
mod connection;
pub mod control;
pub mod error;
pub mod ketama;
mod origin;
mod origin_url;
pub mod pacer;
pub mod path;
pub mod plan;
pub mod redact;
mod refusal;
mod run;
pub mod status;
pub mod summary;
mod target;
pub mod throttle;
mod tls;
pub mod ttl;

pub use config::{DEFAULT_REDIS_URL, MEMCACHED_ITEM_LIMIT, OriginKind, WarmConfig};
pub use control::{Control, Progress, StopReason};
pub use error::WarmError;
pub use plan::{Action, Plan, PlanEntry, Source};
pub use redact::redact_url;
pub use refusal::Refusal;
pub use run::warm;
pub use status::StatusSet;
pub use summary::{KeyReport, Latency, Outcome, Summary};
pub use ttl::TtlRule;
