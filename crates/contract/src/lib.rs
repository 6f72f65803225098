//! The files that hotkeys' commands exchange, and the small value syntaxes
//! they share.
//!
//! hotkeys reads web access logs, ranks the most requested cache keys and
//! writes them as a *warm list*; a warmer later reads that list to fill a
//! cache. The log parser and the warmer never depend on each other: both
//! depend on this crate, which owns the formats between them.
//!
//! * [`routes`]: the routes file (TOML) that says which requests are
//!   cacheable and what their cache key is, and the allocation-free
//!   [`Routes::resolve`] that applies it to each log line.
//! * [`warmlist`]: the warm list ([`WarmList`], format version
//!   [`FORMAT_VERSION`]) with writers for JSON, NDJSON, CSV, plain keys and
//!   URLs, and a reader that detects the format from the content.
//! * [`duration`] and [`size`]: `1h30m`-style durations and `64MiB`-style
//!   sizes, used by route TTLs and command-line options alike.
//! * [`timestamp`]: RFC 3339 text for Unix-microsecond times.
//!
//! The user-facing references are `docs/warm-list.md` and `docs/routes.md`.
//! Inputs to this crate may come from anywhere, so every parser returns a
//! typed error rather than panicking.
//!
//! # Example
//!
//! Route one request, record it in a warm list, write the list and read it
//! back:
//!
//! ```
//! use hotkeys_contract::{Routes, WarmEntry, WarmList, warmlist};
//!
//! let routes = Routes::from_toml_str(
//!     r#"
//!     [[route]]
//!     name = "product"
//!     match = '^/api/products/(?P<id>[0-9]+)$'
//!     key = "product:{id}"
//!     ttl = "30m"
//!     query = "strip"
//!     "#,
//! )?;
//!
//! // One scratch per thread; `resolve` reuses it and `key` on every line.
//! let mut scratch = routes.scratch();
//! let mut key = Vec::new();
//! let target = b"/api/products/42?utm_source=mail";
//! let route = routes
//!     .resolve(Some(b"GET"), target, &mut scratch, &mut key)
//!     .ok_or("no route matched")?;
//! assert_eq!(key, b"product:42");
//!
//! let mut entry = WarmEntry::with_key(1, &key);
//! entry.requests = 1234;
//! entry.route = Some(routes.name(route).to_owned());
//! entry.ttl = routes.ttl(route).map(|ttl| ttl.as_secs());
//! entry.set_origin_path(&routes.origin_path(route, target, &mut scratch));
//!
//! let mut list = WarmList::new("requests");
//! list.keys.push(entry);
//! let mut json = Vec::new();
//! warmlist::write_json(&list, &mut json)?;
//!
//! let read = warmlist::read_warm_list(&json)?;
//! assert_eq!(read.format, warmlist::ListFormat::Json);
//! assert_eq!(read.entries[0].key, "product:42");
//! assert_eq!(read.entries[0].origin_path.as_deref(), Some("/api/products/42"));
//! assert_eq!(read.entries[0].ttl, Some(1800));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod display;
pub mod duration;
pub mod routes;
pub mod size;
pub mod timestamp;
pub mod warmlist;

pub use duration::{DurationError, format_duration, parse_duration};
pub use routes::{RouteScratch, Routes, RoutesError};
pub use size::{SizeError, format_size, parse_size};
pub use warmlist::{
    FORMAT_VERSION, ListFormat, ReadList, Stats, WarmEntry, WarmList, WarmListError, read_warm_list,
};
