//! Capacity analysis of web access logs: the engine behind `hotkeys report`.
//!
//! This first part answers "what hit ratio would an LRU cache of size C
//! get on this traffic?" for every C at once:
//!
//! * [`stack`]: LRU stack distances (Mattson et al.) over a Fenwick tree,
//!   O(N log M) for N requests over M keys;
//! * [`curve`]: hit ratio and byte hit ratio at any capacity in objects or
//!   bytes, exact or from a SHARDS sample ([`sampling`]) with SHARDS_adj.
//!
//! # Example
//!
//! ```
//! use hotkeys_capacity::config::CacheSize;
//! use hotkeys_capacity::curve::{Distances, Scale, Weight};
//! use hotkeys_capacity::sampling::SampleRate;
//! use hotkeys_capacity::trace::Access;
//!
//! // Keys a b a c a b, 1000 bytes each.
//! let trace: Vec<Access> = [0, 1, 0, 2, 0, 1]
//!     .iter()
//!     .enumerate()
//!     .map(|(i, &key)| Access { time: i as i64, key, bytes: 1000 })
//!     .collect();
//! let d = Distances::measure(&trace, vec![1000; 3], &[3000]);
//! let scale = Scale { rate: SampleRate::ALL, full: d.total, adjust: true };
//! // Two objects: both repeats of a hit (one other key came between).
//! assert_eq!(d.ratios(CacheSize::Objects(2), scale).hit_ratio, 2.0 / 6.0);
//! // 3000 bytes hold three objects: b's repeat hits too.
//! assert_eq!(d.ratios(CacheSize::Bytes(3000), scale).hit_ratio, 3.0 / 6.0);
//! ```

pub mod config;
pub mod curve;
pub mod error;
pub mod histogram;
pub mod sampling;
pub mod stack;
pub mod trace;
