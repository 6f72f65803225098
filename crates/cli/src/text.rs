//! Showing bytes from logs to a person: the one escaping rule of the
//! project lives in `hotkeys_contract::display`, shared with the report.

pub use hotkeys_contract::display::terminal as escape;
