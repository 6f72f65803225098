//! The files that hotkeys' commands exchange.
pub mod timestamp;
