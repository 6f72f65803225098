//! Reads web access logs and ranks the keys people request most.
//!
//! This crate is the engine behind `hotkeys rank`:
//!
//! * [`format`](mod@format): log formats. nginx `log_format` and Apache
//!   `LogFormat` strings compile to one template matcher; JSON lines (nginx,
//!   Caddy) have their own tolerant scanner; `auto` detects the format of
//!   each input.
//! * [`input`]: files, directories and stdin, with gzip, zstd and bzip2
//!   recognised from the content.
//! * [`lines`]: line splitting with bounded memory, whatever the input.
//!   On Unix, large plain files are read through a memory map instead
//!   (unless [`scan::ScanOptions::mmap`] is off), safe against the file
//!   shrinking underneath.
//! * [`scan`]: parallel reading (large plain files in byte ranges, each
//!   compressed file in one task) into per-thread [`scan::Accumulator`]s.
//! * [`filter`], [`exclude`] and [`keys`]: which requests count, which are
//!   left out on purpose (paths, client networks, bots), and how each
//!   becomes a key (optionally through a routes file from
//!   `hotkeys-contract`): the one path from request to key, shared by every
//!   command that counts keys.
//! * [`window`]: `--since`/`--until`, absolute or before the newest request.
//! * [`rank`]: counting per key (exactly, or in bounded memory) and the
//!   ranking; [`rank::run`] does a whole run. [`warm_list`] turns a ranking
//!   into the warm list, the contract with the warmer.
//! * [`record`] and [`time`]: the fields of one request and their
//!   conversions, shared by every format.
//! * [`warnings`]: what `rank` and `report` say when an option needs a
//!   field the logs do not record.
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
//! use hotkeys_parser::rank::{self, RankConfig};
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
//! // The defaults count what a cache can serve (GET/HEAD, 200-399) and
//! // keep the top 100 by requests.
//! let config = RankConfig::new(vec![Source::File(log)]);
//! let run = rank::run(&config)?;
//! let list = hotkeys_parser::warm_list::build(&run, config.rules.routes.as_ref());
//!
//! assert_eq!(run.scan.lines, 3);
//! assert_eq!(run.scan.formats[0].format, "combined");
//! assert_eq!(&*run.ranking.keys[0].0, b"/a");
//! assert_eq!(run.ranking.keys[0].1.requests, 2);
//! assert_eq!(list.keys[0].key, "/a");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod exclude;
pub mod filter;
mod find;
pub mod format;
pub mod input;
pub mod keys;
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
pub mod warm_list;
pub mod warnings;
pub mod window;
