//! The report as one JSON document: the [`Report`] fields as they are.
//! Keys from logs are JSON strings (with `key_base64` for bytes that are
//! not UTF-8, as in the warm list), so nothing needs escaping by hand.

use std::io::{self, Write};

use crate::report::Report;

/// Writes `report` as one indented JSON document and a newline.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
