//! Reads web access logs and ranks the keys people request most.
//!
//! This crate is the engine behind `hotkeys rank`:
//!
//! * [`format`]: log formats. nginx `log_format` and Apache `LogFormat`
//!   strings compile to one template matcher; JSON lines (nginx, Caddy) have
//!   their own tolerant scanner; `auto` detects the format of each input.
//! * [`input`]: files, directories and stdin, with gzip, zstd and bzip2
//!   recognised from the content.
//! * [`lines`]: line splitting with bounded memory, whatever the input.
//!   On Unix, large plain files are read through a memory map instead
//!   (unless [`scan::ScanOptions::mmap`] is off), safe against the file
//!   shrinking underneath.
//! * [`scan`]: parallel reading (large plain files in byte ranges, each
//!   compressed file in one task) into per-thread [`scan::Accumulator`]s.
//! * [`filter`] and [`rank`]: which requests count, how they become keys
//!   (optionally through a routes file from `hotkeys-contract`), and the
//!   ranking.
//! * [`record`] and [`time`]: the fields of one request and their
//!   conversions, shared by every format.
//!
//! Lines are bytes, never `str`: invalid UTF-8 never drops a line and keys
//! are kept exactly as logged. Problems with single lines or single inputs
//! are counted and reported, never fatal.
//!
//! # Example
//!
//! Rank the targets of a small combined log:
//!
//! ```
//! use hotkeys_parser::input::Source;
//! use hotkeys_parser::rank::{KeyCounter, KeyRules, RankBy};
//! use hotkeys_parser::scan::{ScanOptions, scan};
//!
//! let dir = std::env::temp_dir().join(format!("hotkeys-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let log = dir.join("access.log");
//! std::fs::write(&log, concat!(
//!     "1.2.3.4 - - [01/May/2024:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 10 \"-\" \"curl\"\n",
//!     "1.2.3.4 - - [01/May/2024:10:00:01 +0000] \"GET /b HTTP/1.1\" 200 10 \"-\" \"curl\"\n",
//!     "1.2.3.4 - - [01/May/2024:10:00:02 +0000] \"GET /a HTTP/1.1\" 200 10 \"-\" \"curl\"\n",
//! ))?;
//!
//! // The default rules count what a cache can serve: GET/HEAD, 200-399.
//! let rules = KeyRules { filter: hotkeys_parser::filter::Filter::cacheable(), ..KeyRules::default() };
//! let (counter, report) = scan(&[Source::File(log)], &ScanOptions::default(), || {
//!     KeyCounter::new(&rules)
//! })?;
//! let ranking = counter.into_ranking(RankBy::Requests, 10);
//!
//! assert_eq!(report.lines, 3);
//! assert_eq!(report.formats[0].format, "combined");
//! assert_eq!(&*ranking.keys[0].0, b"/a");
//! assert_eq!(ranking.keys[0].1.requests, 2);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod filter;
mod find;
pub mod format;
pub mod input;
pub mod keytable;
pub mod latency;
pub mod lines;
// Built on POSIX mmap and a SIGBUS handler. Elsewhere the scanner reads
// every range of a large file with read calls, as it does on Unix for a
// file that cannot be mapped.
#[cfg(unix)]
mod mapped;
mod prefetch;
pub mod rank;
pub mod record;
pub mod scan;
pub mod time;
