//! JSON-lines access logs: one JSON object per line.
//!
//! Writers covered by the built-in field names ([`JsonFields::defaults`]):
//! - nginx `log_format … escape=json`: standard JSON escapes.
//! - nginx `log_format … escape=default`: `"`, `\` and bytes outside printable
//!   ASCII are written as `\xHH`, which is not JSON; they decode to the raw byte.
//! - Caddy's structured access log: nested `request` object, `ts` and
//!   `duration` as float seconds (Go may write them with an exponent).
//!
//! Any other writer works through [`JsonFields::set`].
//!
//! Lines come from strangers, so the scanner works on bytes, scans each object
//! once without building a tree, and only copies strings that had escapes.
//! Tolerance rules:
//! - Bytes are kept as they are: invalid UTF-8 and raw control characters
//!   inside strings pass through; a lone `\u` surrogate becomes U+FFFD.
//! - A bare `-` value (an nginx template with an unquoted `$upstream_response_time`
//!   and no upstream) reads as the text `-`, which later means "absent".
//! - `null`, `true`, `false`, objects and arrays do not fill a field, so the
//!   next candidate name can.
//! - A key that appears twice in one object: the first occurrence wins.
//! - Numbers stay text; exponent forms (`1.2e-05`) are rewritten as plain
//!   decimals (`0.000012`), exactly, because the later conversion reads only those.
//!
//! Anything else that is not JSON (unterminated strings, unknown escapes,
//! missing `:`/`,`, trailing data, more than [`MAX_DEPTH`] nested containers)
//! is a [`LineError`]; the whole line is checked, not only the wanted fields,
//! so whether a line is accepted does not depend on the configured fields.

use memchr::memchr2;
use thiserror::Error;

use crate::record::{LatencyUnit, LineError, RawFields};
use crate::time::TimeKind;

/// Deepest nesting of objects and arrays (the line's own object included)
/// accepted; bounds the scanner's stack.
pub const MAX_DEPTH: usize = 64;

const SLOT_NAMES: [&str; SLOT_COUNT] = [
    "time",
    "request",
    "method",
    "target",
    "path",
    "args",
    "protocol",
    "status",
    "bytes",
    "request_time",
    "upstream_time",
    "host",
    "cache_status",
];
const SLOT_COUNT: usize = 13;
const TIME: usize = 0;
const REQUEST: usize = 1;
const METHOD: usize = 2;
const TARGET: usize = 3;
const PATH: usize = 4;
const ARGS: usize = 5;
const PROTOCOL: usize = 6;
const STATUS: usize = 7;
const BYTES: usize = 8;
const REQUEST_TIME: usize = 9;
const UPSTREAM_TIME: usize = 10;
const HOST: usize = 11;
const CACHE_STATUS: usize = 12;

/// A bad `--json-field SLOT=PATH[:UNIT]` spec.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum JsonFieldError {
    #[error("`{0}` is not SLOT=PATH[:UNIT]")]
    MissingEquals(String),
    #[error(
        "unknown slot `{0}`; expected one of time, request, method, target, path, args, \
         protocol, status, bytes, request_time, upstream_time, host, cache_status"
    )]
    UnknownSlot(String),
    #[error("empty path for slot `{0}`")]
    EmptyPath(String),
    #[error("empty key in path `{0}` (keys are separated by single dots)")]
    EmptyKey(String),
    #[error("unknown unit `{unit}` for slot `{slot}`; expected s, ms or us")]
    UnknownUnit { slot: String, unit: String },
    #[error("slot `{slot}` takes no unit (`:{unit}`); only request_time and upstream_time do")]
    UnitNotAllowed { slot: String, unit: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    /// Keys from the top-level object down, e.g. `["request", "uri"]`.
    path: Vec<Box<[u8]>>,
    unit: LatencyUnit,
}

impl Candidate {
    fn new(path: &str, unit: LatencyUnit) -> Self {
        Candidate {
            path: path.split('.').map(|k| k.as_bytes().into()).collect(),
            unit,
        }
    }
}

/// Which JSON keys feed which field of [`RawFields`].
///
/// Each slot has a list of candidate paths; the first candidate (in list
/// order, not line order) present in a line with a string or number value wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonFields {
    slots: [Vec<Candidate>; SLOT_COUNT],
}

impl Default for JsonFields {
    fn default() -> Self {
        Self::defaults()
    }
}

impl JsonFields {
    /// Built-in candidates for nginx and Caddy; the first candidate present in
    /// a line wins.
    pub fn defaults() -> Self {
        let list = |paths: &[&str]| -> Vec<Candidate> {
            paths
                .iter()
                .map(|p| Candidate::new(p, LatencyUnit::Seconds))
                .collect()
        };
        JsonFields {
            slots: [
                list(&[
                    "ts",
                    "time",
                    "timestamp",
                    "@timestamp",
                    "time_iso8601",
                    "time_local",
                    "msec",
                ]),
                list(&["request"]),
                list(&["request.method", "request_method", "method"]),
                list(&["request.uri", "request_uri", "url"]),
                list(&["uri", "path"]),
                list(&["args", "query_string"]),
                list(&["request.proto", "server_protocol", "protocol"]),
                list(&["status"]),
                list(&["size", "body_bytes_sent", "bytes_sent"]),
                list(&["duration", "request_time"]),
                list(&["upstream_response_time"]),
                list(&["request.host", "host", "http_host", "server_name"]),
                list(&["upstream_cache_status", "cache_status"]),
            ],
        }
    }

    /// Overrides one slot from a `--json-field SLOT=PATH[:UNIT]` spec, e.g.
    /// `target=req.path`, `request_time=dur_ms:ms`, `time=@timestamp`.
    ///
    /// SLOT is one of time, request, method, target, path, args, protocol,
    /// status, bytes, request_time, upstream_time, host, cache_status. PATH is
    /// a dotted path into nested objects (Caddy: `request.uri`); it also
    /// matches a flat key spelled with the dots (`"request.uri": …`), as
    /// written by log shippers that flatten objects. UNIT, for request_time
    /// and upstream_time only, is `s` (default), `ms` or `us`; so a key
    /// containing `:` cannot be named. Replaces the slot's candidate list.
    pub fn set(&mut self, spec: &str) -> Result<(), JsonFieldError> {
        let (slot_name, rest) = spec
            .split_once('=')
            .ok_or_else(|| JsonFieldError::MissingEquals(spec.to_owned()))?;
        let slot_name = slot_name.trim();
        let slot = SLOT_NAMES
            .iter()
            .position(|n| *n == slot_name)
            .ok_or_else(|| JsonFieldError::UnknownSlot(slot_name.to_owned()))?;
        let (path, unit) = match rest.rsplit_once(':') {
            None => (rest, LatencyUnit::Seconds),
            Some((path, unit)) => {
                if slot != REQUEST_TIME && slot != UPSTREAM_TIME {
                    return Err(JsonFieldError::UnitNotAllowed {
                        slot: slot_name.to_owned(),
                        unit: unit.to_owned(),
                    });
                }
                let unit = match unit {
                    "s" => LatencyUnit::Seconds,
                    "ms" => LatencyUnit::Millis,
                    "us" => LatencyUnit::Micros,
                    _ => {
                        return Err(JsonFieldError::UnknownUnit {
                            slot: slot_name.to_owned(),
                            unit: unit.to_owned(),
                        });
                    }
                };
                (path, unit)
            }
        };
        if path.is_empty() {
            return Err(JsonFieldError::EmptyPath(slot_name.to_owned()));
        }
        if path.split('.').any(str::is_empty) {
            return Err(JsonFieldError::EmptyKey(path.to_owned()));
        }
        self.slots[slot] = vec![Candidate::new(path, unit)];
        Ok(())
    }
}

/// A candidate path ends at this node.
#[derive(Clone, Copy, Debug)]
struct Terminal {
    slot: u8,
    /// Index in the slot's candidate list: lower wins.
    prio: u8,
    unit: LatencyUnit,
}

/// One object level of the key tree built from all candidate paths, so that
/// each key of a line is looked up once whatever the number of slots.
#[derive(Debug, Default)]
struct Node {
    /// Sorted by key length; `by_len[len]` is the range of keys that long,
    /// which rejects most keys of a line without looking at their bytes.
    children: Vec<Child>,
    by_len: Vec<(u32, u32)>,
    terminals: Vec<Terminal>,
}

#[derive(Debug)]
struct Child {
    key: Box<[u8]>,
    /// First eight bytes of `key`: one register compare settles nearly every
    /// lookup without chasing the pointer or calling memcmp.
    head: u64,
    id: u32,
}

fn key_head(key: &[u8]) -> u64 {
    if let Some(head) = key.first_chunk::<8>() {
        return u64::from_le_bytes(*head);
    }
    let mut head = [0u8; 8];
    for (h, &k) in head.iter_mut().zip(key) {
        *h = k;
    }
    u64::from_le_bytes(head)
}

impl Node {
    fn child(&self, key: &[u8]) -> Option<u32> {
        let &(lo, hi) = self.by_len.get(key.len())?;
        let head = key_head(key);
        let tail = key.get(8..).unwrap_or_default();
        self.children
            .get(lo as usize..hi as usize)?
            .iter()
            .find(|c| c.head == head && (tail.is_empty() || c.key.get(8..) == Some(tail)))
            .map(|c| c.id)
    }

    fn wants(&self, found: &FoundSlots) -> bool {
        self.terminals.iter().any(|t| beats(t, found))
    }
}

fn beats(t: &Terminal, found: &FoundSlots) -> bool {
    found[usize::from(t.slot)].is_none_or(|f| t.prio < f.prio)
}

/// Where a value's bytes are; turned into slices only once the line is done,
/// because the scratch buffer may still grow (and move) until then.
#[derive(Clone, Copy, Debug)]
enum Span {
    Line(usize, usize),
    Scratch(usize, usize),
}

#[derive(Clone, Copy, Debug)]
struct Found {
    prio: u8,
    span: Span,
    number: bool,
    unit: LatencyUnit,
}

type FoundSlots = [Option<Found>; SLOT_COUNT];

const ROOT: u32 = 0;
/// Value has no node in the key tree.
const NO_NODE: u32 = u32::MAX;
/// Stack entries besides node ids.
const ARRAY: u32 = u32::MAX;
const UNTRACKED: u32 = u32::MAX - 1;

/// Parses JSON access-log lines into [`RawFields`].
#[derive(Debug)]
pub struct JsonLineParser {
    nodes: Vec<Node>,
    /// Unescaped values of the current line.
    scratch: Vec<u8>,
    /// Unescaped key being looked up (keys with escapes are rare).
    key_buf: Vec<u8>,
}

impl Default for JsonLineParser {
    fn default() -> Self {
        Self::new(JsonFields::defaults())
    }
}

const E_NOT_OBJECT: LineError = LineError("JSON line does not start with `{`");
const E_TRUNCATED: LineError = LineError("JSON line ends inside a value");
const E_UNTERMINATED: LineError = LineError("unterminated JSON string");
const E_EXPECTED_KEY: LineError = LineError("expected a quoted JSON key");
const E_MISSING_COLON: LineError = LineError("expected `:` after JSON key");
const E_BAD_VALUE: LineError = LineError("unexpected character where a JSON value should be");
const E_BAD_LITERAL: LineError = LineError("bad JSON literal (expected true, false or null)");
const E_BAD_NUMBER: LineError = LineError("bad JSON number");
const E_BAD_ESCAPE: LineError = LineError("bad escape in JSON string");
const E_BAD_X_ESCAPE: LineError = LineError("bad \\x escape in JSON string");
const E_BAD_U_ESCAPE: LineError = LineError("bad \\u escape in JSON string");
const E_OBJECT_SEP: LineError = LineError("expected `,` or `}` in JSON object");
const E_ARRAY_SEP: LineError = LineError("expected `,` or `]` in JSON array");
const E_TRAILING: LineError = LineError("unexpected data after JSON object");
const E_TOO_DEEP: LineError = LineError("JSON nested too deeply");

impl JsonLineParser {
    pub fn new(fields: JsonFields) -> Self {
        let mut nodes = vec![Node::default()];
        for (slot, candidates) in fields.slots.iter().enumerate() {
            for (prio, cand) in candidates.iter().enumerate() {
                let terminal = Terminal {
                    slot: slot as u8,
                    prio: u8::try_from(prio).unwrap_or(u8::MAX),
                    unit: cand.unit,
                };
                insert(&mut nodes, &cand.path, terminal);
                if cand.path.len() > 1 {
                    let flat = cand.path.join(&b'.');
                    insert(&mut nodes, &[flat.into()], terminal);
                }
            }
        }
        for node in &mut nodes {
            node.children.sort_by_key(|c| c.key.len());
            let max_len = node.children.last().map_or(0, |c| c.key.len());
            node.by_len = vec![(0, 0); max_len + 1];
            let mut i = 0;
            while i < node.children.len() {
                let len = node.children[i].key.len();
                let start = i;
                while i < node.children.len() && node.children[i].key.len() == len {
                    i += 1;
                }
                node.by_len[len] = (start as u32, i as u32);
            }
        }
        JsonLineParser {
            nodes,
            scratch: Vec::new(),
            key_buf: Vec::new(),
        }
    }

    /// Parses one line (no trailing newline needed). Slices in the result
    /// borrow from `line`, or from `self` for values that had escapes or an
    /// exponent.
    pub fn parse<'a>(&'a mut self, line: &'a [u8]) -> Result<RawFields<'a>, LineError> {
        let mut found: FoundSlots = [None; SLOT_COUNT];
        self.scratch.clear();
        self.scan(line, &mut found)?;
        let scratch: &'a [u8] = &self.scratch;
        let bytes = |f: Found| -> &'a [u8] {
            match f.span {
                Span::Line(s, e) => line.get(s..e),
                Span::Scratch(s, e) => scratch.get(s..e),
            }
            .unwrap_or_default()
        };
        Ok(RawFields {
            time: found[TIME].map(|f| {
                let kind = if f.number {
                    TimeKind::EpochSeconds
                } else {
                    TimeKind::Any
                };
                (bytes(f), kind)
            }),
            request_line: found[REQUEST].map(bytes),
            method: found[METHOD].map(bytes),
            target: found[TARGET].map(bytes),
            path: found[PATH].map(bytes),
            args: found[ARGS].map(bytes),
            protocol: found[PROTOCOL].map(bytes),
            status: found[STATUS].map(bytes),
            bytes: found[BYTES].map(bytes),
            request_time: found[REQUEST_TIME].map(|f| (bytes(f), f.unit)),
            upstream_time: found[UPSTREAM_TIME].map(|f| (bytes(f), f.unit)),
            host: found[HOST].map(bytes),
            cache_status: found[CACHE_STATUS].map(bytes),
        })
    }

    /// One pass over the line with an explicit stack (no recursion), checking
    /// the grammar everywhere and decoding only the values a slot still wants.
    fn scan(&mut self, line: &[u8], found: &mut FoundSlots) -> Result<(), LineError> {
        let Self {
            nodes,
            scratch,
            key_buf,
        } = self;
        let nodes: &[Node] = nodes;
        // Per open container: its key-tree node, UNTRACKED or ARRAY.
        let mut stack = [UNTRACKED; MAX_DEPTH];
        let mut depth = 0;
        let mut p = skip_ws(line, 0);
        if line.get(p) != Some(&b'{') {
            return Err(E_NOT_OBJECT);
        }
        // Key-tree node of the value at `p`.
        let mut val_node = ROOT;
        // The parser state is the place in this code rather than a variable
        // (a dispatch on it mispredicts): each pass of the outer loop reads
        // the value at `p`, then the inner loop closes containers up to the
        // next value.
        loop {
            let node = nodes.get(val_node as usize);
            match line.get(p) {
                Some(b'"') => {
                    p = match node {
                        Some(n) if n.wants(found) => {
                            let (span, next) = read_string(line, p + 1, Some(scratch))?;
                            record(n, found, span, false);
                            next
                        }
                        _ => read_string(line, p + 1, None)?.1,
                    };
                }
                Some(&open @ (b'{' | b'[')) => {
                    if depth == MAX_DEPTH {
                        return Err(E_TOO_DEEP);
                    }
                    let (entry, close) = match node {
                        _ if open == b'[' => (ARRAY, b']'),
                        Some(n) if !n.children.is_empty() => (val_node, b'}'),
                        _ => (UNTRACKED, b'}'),
                    };
                    stack[depth] = entry;
                    depth += 1;
                    p = skip_ws(line, p + 1);
                    if line.get(p) != Some(&close) {
                        if entry == ARRAY {
                            val_node = NO_NODE;
                        } else {
                            (p, val_node) = read_key(line, p, nodes, entry, key_buf)?;
                        }
                        continue;
                    }
                    p += 1;
                    depth -= 1;
                }
                Some(b'-' | b'0'..=b'9') => {
                    let num = scan_number(line, p)?;
                    if let Some(n) = node
                        && n.wants(found)
                    {
                        let span = match num.exp {
                            Some(exp) if exp.unsigned_abs() <= MAX_EXP_SHIFT => {
                                let start = scratch.len();
                                write_plain_decimal(
                                    scratch,
                                    num.neg,
                                    &line[num.int.0..num.int.1],
                                    &line[num.frac.0..num.frac.1],
                                    exp,
                                );
                                Span::Scratch(start, scratch.len())
                            }
                            // Absurd exponents stay as written; the later
                            // conversion rejects them.
                            _ => Span::Line(p, num.end),
                        };
                        record(n, found, span, num.digits);
                    }
                    p = num.end;
                }
                Some(b't') => p = literal(line, p, b"true")?,
                Some(b'f') => p = literal(line, p, b"false")?,
                Some(b'n') => p = literal(line, p, b"null")?,
                None => return Err(E_TRUNCATED),
                Some(_) => return Err(E_BAD_VALUE),
            }
            loop {
                p = skip_ws(line, p);
                let Some(&top) = depth.checked_sub(1).and_then(|d| stack.get(d)) else {
                    return match line.get(p) {
                        None => Ok(()),
                        Some(_) => Err(E_TRAILING),
                    };
                };
                match (line.get(p), top == ARRAY) {
                    (Some(b','), true) => {
                        p = skip_ws(line, p + 1);
                        val_node = NO_NODE;
                        break;
                    }
                    (Some(b','), false) => {
                        (p, val_node) = read_key(line, skip_ws(line, p + 1), nodes, top, key_buf)?;
                        break;
                    }
                    (Some(b']'), true) | (Some(b'}'), false) => {
                        p += 1;
                        depth -= 1;
                    }
                    (None, _) => return Err(E_TRUNCATED),
                    (Some(_), true) => return Err(E_ARRAY_SEP),
                    (Some(_), false) => return Err(E_OBJECT_SEP),
                }
            }
        }
    }
}

/// Reads `"key" :` at `p` in an object whose key-tree node is `obj`
/// (UNTRACKED: no key matters); returns where the value starts and its node.
fn read_key(
    line: &[u8],
    p: usize,
    nodes: &[Node],
    obj: u32,
    key_buf: &mut Vec<u8>,
) -> Result<(usize, u32), LineError> {
    match line.get(p) {
        Some(b'"') => {}
        None => return Err(E_TRUNCATED),
        Some(_) => return Err(E_EXPECTED_KEY),
    }
    let (next, node) = match nodes.get(obj as usize) {
        None => (read_string(line, p + 1, None)?.1, NO_NODE),
        Some(n) => {
            key_buf.clear();
            let (span, next) = read_string(line, p + 1, Some(key_buf))?;
            let key = match span {
                Span::Line(s, e) => line.get(s..e),
                Span::Scratch(s, e) => key_buf.get(s..e),
            };
            (next, n.child(key.unwrap_or_default()).unwrap_or(NO_NODE))
        }
    };
    let p = skip_ws(line, next);
    match line.get(p) {
        Some(b':') => Ok((skip_ws(line, p + 1), node)),
        None => Err(E_TRUNCATED),
        Some(_) => Err(E_MISSING_COLON),
    }
}

fn insert(nodes: &mut Vec<Node>, path: &[Box<[u8]>], terminal: Terminal) {
    let mut at = ROOT as usize;
    for key in path {
        let existing = nodes[at]
            .children
            .iter()
            .find(|c| c.key == *key)
            .map(|c| c.id);
        at = match existing {
            Some(id) => id as usize,
            None => {
                let id = nodes.len();
                nodes.push(Node::default());
                nodes[at].children.push(Child {
                    key: key.clone(),
                    head: key_head(key),
                    id: id as u32,
                });
                id
            }
        };
    }
    nodes[at].terminals.push(terminal);
}

fn record(node: &Node, found: &mut FoundSlots, span: Span, number: bool) {
    for t in &node.terminals {
        if beats(t, found) {
            found[usize::from(t.slot)] = Some(Found {
                prio: t.prio,
                span,
                number,
                unit: t.unit,
            });
        }
    }
}

fn skip_ws(line: &[u8], mut p: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r' | b'\n') = line.get(p) {
        p += 1;
    }
    p
}

fn literal(line: &[u8], p: usize, word: &[u8]) -> Result<usize, LineError> {
    // Byte loop rather than slice `==`: the latter calls memcmp, which costs
    // more than the compare for four bytes.
    for (i, &w) in word.iter().enumerate() {
        if line.get(p + i) != Some(&w) {
            return Err(E_BAD_LITERAL);
        }
    }
    Ok(p + word.len())
}

/// First `"` or `\` in `s`. Most log strings are short, where a call into
/// memchr's SIMD setup costs more than testing eight bytes at a time in a
/// register; long ones (user agents, headers) go to memchr.
#[inline]
fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = 0;
    while let Some(chunk) = s.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*chunk);
        // Only the lowest flagged byte is exact (borrows can flag higher
        // ones), and that is the one taken.
        let hits =
            zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
        if i >= 32 {
            return memchr2(b'"', b'\\', s.get(i..)?).map(|off| i + off);
        }
    }
    let tail = s.get(i..)?;
    tail.iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|off| i + off)
}

/// Reads a string whose opening quote is just before `start`; returns where
/// its bytes are and the position after the closing quote. With `out`, a
/// string with escapes is decoded onto the end of `out`; without, escapes are
/// only checked (skipped values must be as valid as wanted ones).
#[inline]
fn read_string(
    line: &[u8],
    start: usize,
    out: Option<&mut Vec<u8>>,
) -> Result<(Span, usize), LineError> {
    let rest = line.get(start..).unwrap_or_default();
    match find_quote_or_backslash(rest) {
        Some(off) if rest[off] == b'"' => Ok((Span::Line(start, start + off), start + off + 1)),
        Some(off) => read_escaped_string(line, start, start + off, out),
        None => Err(E_UNTERMINATED),
    }
}

/// The rest of [`read_string`] once a backslash was found at `i`.
#[cold]
fn read_escaped_string(
    line: &[u8],
    start: usize,
    mut i: usize,
    mut out: Option<&mut Vec<u8>>,
) -> Result<(Span, usize), LineError> {
    let out_start = out.as_deref().map_or(0, Vec::len);
    let mut run = start;
    loop {
        // `i` is at a backslash; copy the plain run before it, then decode.
        if let Some(o) = out.as_deref_mut() {
            o.extend_from_slice(&line[run..i]);
        }
        i = unescape(line, i, out.as_deref_mut())?;
        run = i;
        i = match find_quote_or_backslash(&line[i..]) {
            Some(off) => i + off,
            None => return Err(E_UNTERMINATED),
        };
        if line[i] == b'"' {
            let span = match out {
                Some(o) => {
                    o.extend_from_slice(&line[run..i]);
                    Span::Scratch(out_start, o.len())
                }
                None => Span::Line(start, i),
            };
            return Ok((span, i + 1));
        }
    }
}

/// Decodes the escape at `line[i] == b'\\'`; returns the position after it.
fn unescape(line: &[u8], i: usize, out: Option<&mut Vec<u8>>) -> Result<usize, LineError> {
    let Some(&e) = line.get(i + 1) else {
        return Err(E_UNTERMINATED);
    };
    let (byte, next) = match e {
        b'"' => (b'"', i + 2),
        b'\\' => (b'\\', i + 2),
        b'/' => (b'/', i + 2),
        b'b' => (0x08, i + 2),
        b'f' => (0x0c, i + 2),
        b'n' => (b'\n', i + 2),
        b'r' => (b'\r', i + 2),
        b't' => (b'\t', i + 2),
        // nginx escape=default: one raw byte, which may be half a UTF-8
        // sequence, so it is pushed as a byte, not as a code point.
        b'x' => (hex(line, i + 2, 2).ok_or(E_BAD_X_ESCAPE)? as u8, i + 4),
        b'u' => {
            let (cp, next) = unicode_escape(line, i)?;
            if let Some(o) = out {
                let c = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
                o.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
            return Ok(next);
        }
        _ => return Err(E_BAD_ESCAPE),
    };
    if let Some(o) = out {
        o.push(byte);
    }
    Ok(next)
}

/// `\uXXXX` at `i`, combined with a following low surrogate escape when it is
/// a high surrogate. A surrogate without its partner cannot be UTF-8, so it
/// becomes U+FFFD rather than rejecting a line a browser may well have sent.
fn unicode_escape(line: &[u8], i: usize) -> Result<(u32, usize), LineError> {
    let cp = hex(line, i + 2, 4).ok_or(E_BAD_U_ESCAPE)?;
    match cp {
        0xD800..=0xDBFF => {
            if line.get(i + 6..i + 8) == Some(b"\\u")
                && let Some(lo @ 0xDC00..=0xDFFF) = hex(line, i + 8, 4)
            {
                Ok((0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00), i + 12))
            } else {
                Ok((0xFFFD, i + 6))
            }
        }
        0xDC00..=0xDFFF => Ok((0xFFFD, i + 6)),
        _ => Ok((cp, i + 6)),
    }
}

fn hex(line: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = line.get(at..at.checked_add(n)?)?;
    let mut v = 0u32;
    for &d in digits {
        let x = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        v = v << 4 | u32::from(x);
    }
    Some(v)
}

/// Exponents beyond this are left as written: rewriting them would write that
/// many zeros, and no latency, size or time needs them.
const MAX_EXP_SHIFT: u32 = 400;

struct Number {
    end: usize,
    neg: bool,
    /// `false` for the bare `-` tolerated in place of a number.
    digits: bool,
    int: (usize, usize),
    frac: (usize, usize),
    exp: Option<i32>,
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, or a lone `-`.
fn scan_number(line: &[u8], p: usize) -> Result<Number, LineError> {
    let digit_run = |mut i: usize| {
        while line.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let neg = line.get(p) == Some(&b'-');
    let int_start = p + usize::from(neg);
    let int_end = match line.get(int_start) {
        Some(b'0') => int_start + 1,
        Some(b'1'..=b'9') => digit_run(int_start + 1),
        _ if neg => {
            return Ok(Number {
                end: p + 1,
                neg,
                digits: false,
                int: (p, p),
                frac: (p, p),
                exp: None,
            });
        }
        _ => return Err(E_BAD_NUMBER),
    };
    let mut end = int_end;
    let mut frac = (end, end);
    if line.get(end) == Some(&b'.') {
        let f_end = digit_run(end + 1);
        if f_end == end + 1 {
            return Err(E_BAD_NUMBER);
        }
        frac = (end + 1, f_end);
        end = f_end;
    }
    let mut exp = None;
    if let Some(b'e' | b'E') = line.get(end) {
        let mut i = end + 1;
        let negative = match line.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let e_end = digit_run(i);
        if e_end == i {
            return Err(E_BAD_NUMBER);
        }
        // Saturates: anything past MAX_EXP_SHIFT is treated alike.
        let mut v: i32 = 0;
        for &d in &line[i..e_end] {
            v = v.saturating_mul(10).saturating_add(i32::from(d - b'0'));
        }
        exp = Some(if negative { -v } else { v });
        end = e_end;
    }
    Ok(Number {
        end,
        neg,
        digits: true,
        int: (int_start, int_end),
        frac,
        exp,
    })
}

/// Writes `int.frac × 10^exp` as a plain decimal by moving the point along
/// the digit string, so the value is exact (no float round trip).
fn write_plain_decimal(out: &mut Vec<u8>, neg: bool, int: &[u8], frac: &[u8], exp: i32) {
    let total = int.len() + frac.len();
    let all = || int.iter().chain(frac).copied();
    let lead = all().take_while(|&d| d == b'0').count();
    if neg {
        out.push(b'-');
    }
    if lead == total {
        out.push(b'0');
        return;
    }
    let sig_len = (total - lead) as i64;
    // Position of the point counted from the first significant digit.
    let point = int.len() as i64 - lead as i64 + i64::from(exp);
    let sig = all().skip(lead);
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', point.unsigned_abs() as usize));
        out.extend(sig);
    } else if point >= sig_len {
        out.extend(sig);
        out.extend(std::iter::repeat_n(b'0', (point - sig_len) as usize));
    } else {
        for (i, d) in sig.enumerate() {
            if i as i64 == point {
                out.push(b'.');
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::JoinBuffer;
    use crate::time::TimeCache;
    use proptest::prelude::*;

    fn parse_with<'a>(p: &'a mut JsonLineParser, line: &'a [u8]) -> RawFields<'a> {
        match p.parse(line) {
            Ok(raw) => raw,
            Err(e) => panic!("{e}: {}", String::from_utf8_lossy(line)),
        }
    }

    fn b(s: &str) -> Option<&[u8]> {
        Some(s.as_bytes())
    }

    const CADDY: &[u8] = br#"{"level":"info","ts":1646861401.5241024,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"41342","client_ip":"127.0.0.1","proto":"HTTP/2.0","method":"GET","host":"localhost","uri":"/search?q=caf%C3%A9","headers":{"User-Agent":["curl/7.82.0"],"Accept":["*/*"],"Accept-Encoding":["gzip, deflate, br"]},"tls":{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"tls.example"}},"bytes_read":0,"user_id":"","duration":1.2e-05,"size":10900,"status":200,"resp_headers":{"Server":["Caddy"],"Content-Type":["text/html; charset=utf-8"]}}"#;

    #[test]
    fn nginx_escape_json() {
        let line = br#"{"time_local":"10/Oct/2000:13:55:36 -0700","remote_addr":"10.0.0.1","request":"GET /search?q=caf\u00e9 HTTP/1.1","status": 200,"body_bytes_sent":"512","request_time":"0.123","upstream_response_time":"0.010, 0.020","http_host":"example.com","upstream_cache_status":"MISS","http_user_agent":"Mozilla \"x\"\u001f"}"#;
        let mut p = JsonLineParser::default();
        let raw = parse_with(&mut p, line);
        assert_eq!(
            raw.time,
            Some((&b"10/Oct/2000:13:55:36 -0700"[..], TimeKind::Any))
        );
        assert_eq!(raw.request_line, b("GET /search?q=café HTTP/1.1"));
        assert_eq!(raw.method, None);
        assert_eq!(raw.target, None);
        assert_eq!(raw.path, None);
        assert_eq!(raw.args, None);
        assert_eq!(raw.protocol, None);
        assert_eq!(raw.status, b("200"));
        assert_eq!(raw.bytes, b("512"));
        assert_eq!(
            raw.request_time,
            Some((&b"0.123"[..], LatencyUnit::Seconds))
        );
        assert_eq!(
            raw.upstream_time,
            Some((&b"0.010, 0.020"[..], LatencyUnit::Seconds))
        );
        assert_eq!(raw.host, b("example.com"));
        assert_eq!(raw.cache_status, b("MISS"));

        let mut times = TimeCache::default();
        let mut join = JoinBuffer::default();
        let req = raw.to_request(&mut times, &mut join).unwrap();
        assert_eq!(req.target, b("/search?q=café"));
        assert_eq!(req.status, Some(200));
        assert_eq!(req.upstream_time_us, Some(30_000));
        assert_eq!(req.time, Some(971_211_336_000_000));
    }

    #[test]
    fn nginx_escape_default() {
        let mut line = br#"{"time_iso8601":"2000-10-10T20:55:36+00:00","request_method":"GET","request_uri":"/caf\xC3\xA9?q=\x22x\x22","server_protocol":"HTTP/1.1","status":"404","bytes_sent":"0","upstream_response_time":-,"http_user_agent":"\xFF\x5c","uri":"/raw"#.to_vec();
        // Invalid UTF-8 written raw (another writer, or a forged line).
        line.extend_from_slice(b"\xff\xfe\xc3\"}");
        let mut p = JsonLineParser::default();
        let raw = parse_with(&mut p, &line);
        assert_eq!(
            raw.time,
            Some((&b"2000-10-10T20:55:36+00:00"[..], TimeKind::Any))
        );
        assert_eq!(raw.method, b("GET"));
        assert_eq!(raw.target, b("/café?q=\"x\""));
        assert_eq!(raw.protocol, b("HTTP/1.1"));
        assert_eq!(raw.status, b("404"));
        assert_eq!(raw.bytes, b("0"));
        assert_eq!(raw.upstream_time, Some((&b"-"[..], LatencyUnit::Seconds)));
        assert_eq!(raw.path, Some(&b"/raw\xff\xfe\xc3"[..]));
        assert_eq!(raw.host, None);

        let mut times = TimeCache::default();
        let mut join = JoinBuffer::default();
        let req = raw.to_request(&mut times, &mut join).unwrap();
        assert_eq!(req.upstream_time_us, None);
        assert_eq!(req.target, b("/café?q=\"x\""));
    }

    #[test]
    fn caddy_every_slot() {
        let mut p = JsonLineParser::default();
        let raw = parse_with(&mut p, CADDY);
        assert_eq!(
            raw.time,
            Some((&b"1646861401.5241024"[..], TimeKind::EpochSeconds))
        );
        // `request` is an object here, not a request line.
        assert_eq!(raw.request_line, None);
        assert_eq!(raw.method, b("GET"));
        assert_eq!(raw.target, b("/search?q=caf%C3%A9"));
        assert_eq!(raw.path, None);
        assert_eq!(raw.args, None);
        // Not request.tls.proto ("h2").
        assert_eq!(raw.protocol, b("HTTP/2.0"));
        assert_eq!(raw.status, b("200"));
        assert_eq!(raw.bytes, b("10900"));
        assert_eq!(
            raw.request_time,
            Some((&b"0.000012"[..], LatencyUnit::Seconds))
        );
        assert_eq!(raw.upstream_time, None);
        // Not request.tls.server_name.
        assert_eq!(raw.host, b("localhost"));
        assert_eq!(raw.cache_status, None);

        let mut times = TimeCache::default();
        let mut join = JoinBuffer::default();
        let req = raw.to_request(&mut times, &mut join).unwrap();
        assert_eq!(req.time, Some(1_646_861_401_524_102));
        assert_eq!(req.request_time_us, Some(12));
        assert_eq!(req.bytes, Some(10900));
    }

    #[test]
    fn caddy_parses_again_with_reused_buffers() {
        let mut p = JsonLineParser::default();
        for _ in 0..3 {
            let raw = parse_with(&mut p, CADDY);
            assert_eq!(
                raw.request_time,
                Some((&b"0.000012"[..], LatencyUnit::Seconds))
            );
        }
        let raw = parse_with(&mut p, br#"{"duration":0.5}"#);
        assert_eq!(raw.request_time, Some((&b"0.5"[..], LatencyUnit::Seconds)));
        assert_eq!(raw.status, None);
    }

    #[test]
    fn unicode_escapes() {
        let mut p = JsonLineParser::default();
        let raw = parse_with(&mut p, br#"{"uri":"/caf\u00e9/\ud83d\ude00/\u00C9\/"}"#);
        assert_eq!(raw.path, b("/café/😀/É/"));
        let raw = parse_with(&mut p, br#"{"uri":"a\ud83db\ude00c\ud83d\u0041\ud83d"}"#);
        assert_eq!(raw.path, b("a\u{FFFD}b\u{FFFD}c\u{FFFD}A\u{FFFD}"));
        let raw = parse_with(&mut p, br#"{"uri":"\b\f\n\r\t\\\u0000"}"#);
        assert_eq!(raw.path, Some(&b"\x08\x0c\n\r\t\\\0"[..]));
        // Escapes in keys are decoded before matching.
        let raw = parse_with(&mut p, br#"{"st\u0061tus":"201"}"#);
        assert_eq!(raw.status, b("201"));
    }

    #[test]
    fn null_bool_and_containers_do_not_fill_a_slot() {
        let mut p = JsonLineParser::default();
        let line = br#"{"duration":null,"request_time":"0.5","status":null,"request":{"host":null,"x":[1,{"y":2}]},"host":true,"http_host":"h2","time":{"a":1},"msec":1700000000.5,"method":false}"#;
        let raw = parse_with(&mut p, line);
        assert_eq!(raw.request_time, Some((&b"0.5"[..], LatencyUnit::Seconds)));
        assert_eq!(raw.status, None);
        assert_eq!(raw.host, b("h2"));
        assert_eq!(raw.request_line, None);
        assert_eq!(raw.method, None);
        assert_eq!(
            raw.time,
            Some((&b"1700000000.5"[..], TimeKind::EpochSeconds))
        );
    }

    #[test]
    fn candidate_order_and_duplicate_keys() {
        let mut p = JsonLineParser::default();
        // List order wins over line order.
        let raw = parse_with(
            &mut p,
            br#"{"host":"a","server_name":"s","request":{"host":"b"}}"#,
        );
        assert_eq!(raw.host, b("b"));
        // First occurrence of a duplicate key wins, also with escapes.
        let raw = parse_with(
            &mut p,
            br#"{"status":200,"status":500,"uri":"/\u0061","uri":"/b","request":{"uri":"/c"},"request":{"uri":"/d"}}"#,
        );
        assert_eq!(raw.status, b("200"));
        assert_eq!(raw.path, b("/a"));
        assert_eq!(raw.target, b("/c"));
        // Same length and first eight bytes as a wanted key.
        let raw = parse_with(
            &mut p,
            br#"{"upstream_response_tim_":"9","upstream_response_time":"1"}"#,
        );
        assert_eq!(raw.upstream_time, Some((&b"1"[..], LatencyUnit::Seconds)));
        // A valid line without wanted fields is not an error.
        let raw = parse_with(&mut p, br#"{"level":"info","n":[1,2,{"a":[]}]}"#);
        assert!(raw.time.is_none() && raw.status.is_none() && raw.target.is_none());
        assert!(parse_with(&mut p, b"{}").host.is_none());
    }

    #[test]
    fn exponents_become_plain_decimals() {
        let cases: &[(&str, &str)] = &[
            ("1.2e-05", "0.000012"),
            ("2.5E+3", "2500"),
            ("1e0", "1"),
            ("1.50e1", "15.0"),
            ("0.00012e2", "0.012"),
            ("0.5e1", "5"),
            ("0e10", "0"),
            ("-1.5e-1", "-0.15"),
            ("123.456e-2", "1.23456"),
            ("1.7e9", "1700000000"),
            ("1e999999999999", "1e999999999999"),
        ];
        let mut p = JsonLineParser::default();
        for (written, plain) in cases {
            let line = format!(r#"{{"duration": {written} }}"#);
            let raw = parse_with(&mut p, line.as_bytes());
            assert_eq!(
                raw.request_time.map(|r| r.0),
                b(plain),
                "{written} should read {plain}"
            );
        }
        let raw = parse_with(&mut p, br#"{"ts":1.7e9}"#);
        assert_eq!(raw.time, Some((&b"1700000000"[..], TimeKind::EpochSeconds)));
    }

    #[test]
    fn custom_fields() {
        let mut fields = JsonFields::defaults();
        fields.set("target=req.path").unwrap();
        fields.set("request_time=dur:ms").unwrap();
        fields.set("time=@timestamp").unwrap();
        fields.set("upstream_time=up:us").unwrap();
        let mut p = JsonLineParser::new(fields);
        let raw = parse_with(
            &mut p,
            br#"{"request_uri":"/other","req":{"path":"/p"},"duration":1,"dur":12.5,"ts":1,"@timestamp":"2000-10-10T20:55:36Z","up":"250"}"#,
        );
        assert_eq!(raw.target, b("/p"));
        assert_eq!(raw.request_time, Some((&b"12.5"[..], LatencyUnit::Millis)));
        assert_eq!(raw.upstream_time, Some((&b"250"[..], LatencyUnit::Micros)));
        assert_eq!(
            raw.time,
            Some((&b"2000-10-10T20:55:36Z"[..], TimeKind::Any))
        );
        // The list was replaced: the old candidate no longer counts.
        let raw = parse_with(&mut p, br#"{"request_uri":"/other"}"#);
        assert_eq!(raw.target, None);
        // A flattened key spelled with the dots matches too.
        let raw = parse_with(&mut p, br#"{"req.path":"/flat"}"#);
        assert_eq!(raw.target, b("/flat"));
    }

    #[test]
    fn bad_field_specs() {
        let mut f = JsonFields::defaults();
        let err = |f: &mut JsonFields, s: &str| f.set(s).unwrap_err();
        assert_eq!(
            err(&mut f, "nope=x"),
            JsonFieldError::UnknownSlot("nope".into())
        );
        assert_eq!(
            err(&mut f, "target="),
            JsonFieldError::EmptyPath("target".into())
        );
        assert_eq!(
            err(&mut f, "time=a:ms"),
            JsonFieldError::UnitNotAllowed {
                slot: "time".into(),
                unit: "ms".into()
            }
        );
        assert_eq!(
            err(&mut f, "request_time=d:min"),
            JsonFieldError::UnknownUnit {
                slot: "request_time".into(),
                unit: "min".into()
            }
        );
        assert_eq!(
            err(&mut f, "request_time=:ms"),
            JsonFieldError::EmptyPath("request_time".into())
        );
        assert_eq!(
            err(&mut f, "target"),
            JsonFieldError::MissingEquals("target".into())
        );
        assert_eq!(
            err(&mut f, "target=a..b"),
            JsonFieldError::EmptyKey("a..b".into())
        );
        assert!(err(&mut f, "nope=x").to_string().contains("`nope`"));
        assert!(err(&mut f, "time=a:ms").to_string().contains("`time`"));
        assert!(
            err(&mut f, "request_time=d:min")
                .to_string()
                .contains("`min`")
        );
        // Failed specs leave the fields unchanged.
        assert_eq!(f, JsonFields::defaults());
    }

    #[test]
    fn malformed_lines() {
        let cases: &[(&[u8], LineError)] = &[
            (b"", E_NOT_OBJECT),
            (b"  [1]", E_NOT_OBJECT),
            (b"GET / HTTP/1.1", E_NOT_OBJECT),
            (br#"{"uri":"/x"#, E_UNTERMINATED),
            (br#"{"uri":"/x\"}"#, E_UNTERMINATED),
            (br#"{"a":"x\"#, E_UNTERMINATED),
            (br#"{"uri" "/x"}"#, E_MISSING_COLON),
            (br#"{"a":"\q"}"#, E_BAD_ESCAPE),
            (br#"{"uri":"\q"}"#, E_BAD_ESCAPE),
            (br#"{"headers":{"A\q":["x"]}}"#, E_BAD_ESCAPE),
            (br#"{"a":"\'"}"#, E_BAD_ESCAPE),
            (br#"{"a":"\x4"}"#, E_BAD_X_ESCAPE),
            (br#"{"a":"\x4g"}"#, E_BAD_X_ESCAPE),
            (br#"{"a":"\u12"}"#, E_BAD_U_ESCAPE),
            (br#"{"a":"\u12G4"}"#, E_BAD_U_ESCAPE),
            (br#"{"uri":"\ud83d\uZZZZ"}"#, E_BAD_U_ESCAPE),
            (br#"{"a":1} x"#, E_TRAILING),
            (br#"{"a":1}}"#, E_TRAILING),
            (br#"{"a":1}{"b":2}"#, E_TRAILING),
            (br#"{"a":tru}"#, E_BAD_LITERAL),
            (br#"{"a":nul"#, E_BAD_LITERAL),
            (br#"{"a":1.}"#, E_BAD_NUMBER),
            (br#"{"a":1e}"#, E_BAD_NUMBER),
            (br#"{"a":01}"#, E_OBJECT_SEP),
            (br#"{"a":0.1, 0.2}"#, E_EXPECTED_KEY),
            (br#"{"a":1,}"#, E_EXPECTED_KEY),
            (br#"{a:1}"#, E_EXPECTED_KEY),
            (br#"{"a":1 "b":2}"#, E_OBJECT_SEP),
            (br#"{"a":[1,2}"#, E_ARRAY_SEP),
            (br#"{"a":x}"#, E_BAD_VALUE),
            (br#"{"a":}"#, E_BAD_VALUE),
            (br#"{"a":1"#, E_TRUNCATED),
            (br#"{"a":"#, E_TRUNCATED),
            (br#"{"a""#, E_TRUNCATED),
            (b"{", E_TRUNCATED),
        ];
        let mut p = JsonLineParser::default();
        for (line, want) in cases {
            assert_eq!(
                p.parse(line).err(),
                Some(*want),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn whitespace_around_tokens() {
        let mut p = JsonLineParser::default();
        let raw = parse_with(
            &mut p,
            b" \t{ \"status\" :\t200 ,\r\"size\" : [ ] , \"host\":\"h\" , \"x\" : { } }\t\r \n",
        );
        assert_eq!(raw.status, b("200"));
        assert_eq!(raw.host, b("h"));
        assert_eq!(raw.bytes, None);
    }

    fn nested(depth: usize) -> Vec<u8> {
        let mut line = Vec::new();
        for _ in 0..depth - 1 {
            line.extend_from_slice(br#"{"a":"#);
        }
        line.extend_from_slice(b"{}");
        line.extend(std::iter::repeat_n(b'}', depth - 1));
        line
    }

    #[test]
    fn nesting_is_bounded() {
        let mut p = JsonLineParser::default();
        assert!(p.parse(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(p.parse(&nested(MAX_DEPTH + 1)).err(), Some(E_TOO_DEEP));
        let mut arrays = br#"{"a":"#.to_vec();
        arrays.extend(std::iter::repeat_n(b'[', 100_000));
        assert_eq!(p.parse(&arrays).err(), Some(E_TOO_DEEP));
    }

    /// Writes `s` as a JSON string with every character as `\u` escapes
    /// (surrogate pairs above the BMP).
    fn u_escaped(s: &str) -> String {
        let mut out = String::from("\"");
        for unit in s.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out.push('"');
        out
    }

    /// Writes bytes the way nginx escape=default does.
    fn x_escaped(bytes: &[u8]) -> String {
        let mut out = String::from("\"");
        for &c in bytes {
            if c == b'"' || c == b'\\' || !(0x20..0x7f).contains(&c) {
                out.push_str(&format!("\\x{c:02X}"));
            } else {
                out.push(char::from(c));
            }
        }
        out.push('"');
        out
    }

    proptest! {
        #[test]
        fn never_panics_on_random_bytes(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut p = JsonLineParser::default();
            let _ = p.parse(&line);
            let mut with_brace = b"{".to_vec();
            with_brace.extend_from_slice(&line);
            let _ = p.parse(&with_brace);
        }

        #[test]
        fn never_panics_on_json_alphabet(
            line in proptest::collection::vec(
                prop::sample::select(&b"{}[]\":,\\ux0123456789abcdefE+-.ntrl \xff"[..]), 0..120)
        ) {
            let mut p = JsonLineParser::default();
            let mut with_brace = b"{".to_vec();
            with_brace.extend_from_slice(&line);
            let _ = p.parse(&with_brace);
        }

        #[test]
        fn quote_search_matches_naive(
            // Mostly plain bytes, so hits also land past the 32-byte switch to memchr.
            s in proptest::collection::vec(
                prop_oneof![40 => Just(b'a'), 1 => Just(b'"'), 1 => Just(b'\\'), 1 => any::<u8>()],
                0..120,
            ),
            skip in 0..100usize,
        ) {
            let s = &s[skip.min(s.len())..];
            let naive = s.iter().position(|&c| c == b'"' || c == b'\\');
            prop_assert_eq!(find_quote_or_backslash(s), naive);
        }

        #[test]
        fn truncated_lines_are_errors(cut in 0..CADDY.len()) {
            let mut p = JsonLineParser::default();
            prop_assert!(p.parse(&CADDY[..cut]).is_err());
        }

        #[test]
        fn mutated_lines_agree_with_serde_on_validity(
            at in 0..CADDY.len(),
            byte in any::<u8>(),
            op in 0..3u8,
        ) {
            let mut line = CADDY.to_vec();
            match op {
                0 => line[at] = byte,
                1 => line.insert(at, byte),
                _ => { line.remove(at); }
            }
            let mut p = JsonLineParser::default();
            let ours = p.parse(&line);
            if let Ok(serde_json::Value::Object(_)) = serde_json::from_slice(&line) {
                prop_assert!(ours.is_ok(), "{:?}: {}", ours, String::from_utf8_lossy(&line));
            }
        }

        #[test]
        fn strings_decode_like_serde(s in any::<String>(), status in any::<u16>()) {
            let line = serde_json::json!({
                "x": {"uri": "nested, ignored"},
                "uri": s,
                "status": status,
                "z": [s, null, true],
            })
            .to_string();
            let mut p = JsonLineParser::default();
            let raw = p.parse(line.as_bytes()).unwrap();
            prop_assert_eq!(raw.path, Some(s.as_bytes()));
            let status = status.to_string();
            prop_assert_eq!(raw.status, Some(status.as_bytes()));

            let line = format!(r#"{{"uri":{},"host":{}}}"#, u_escaped(&s), x_escaped(s.as_bytes()));
            let raw = p.parse(line.as_bytes()).unwrap();
            prop_assert_eq!(raw.path, Some(s.as_bytes()));
            prop_assert_eq!(raw.host, Some(s.as_bytes()));
        }

        #[test]
        fn any_bytes_survive_x_escapes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let line = format!(r#"{{"request":{}}}"#, x_escaped(&bytes));
            let mut p = JsonLineParser::default();
            let raw = p.parse(line.as_bytes()).unwrap();
            prop_assert_eq!(raw.request_line, Some(&bytes[..]));
        }
    }
}
