//! The routes file: which requests are cacheable, and under which cache key.
//!
//! A routes file is TOML with one `[[route]]` table per route (see
//! `docs/routes.md` for the user-facing reference). [`Routes`] is the
//! compiled form; [`Routes::resolve`] maps one request (method and target)
//! to a route index and writes its cache key.
//!
//! # Design
//!
//! `resolve` runs once per log line on every parsing thread, so it is built
//! to do no heap allocation once warmed up:
//!
//! * Patterns are compiled as [`regex::bytes::Regex`]. Log lines are bytes
//!   and may hold invalid UTF-8; matching bytes means a line never has to be
//!   validated or copied into a `String` before it can be routed.
//! * Capture positions go into [`CaptureLocations`] kept in a per-thread
//!   [`RouteScratch`], instead of the allocating `Captures` type. Routes
//!   whose key does not use a capture group only ask "does it match?",
//!   which the regex engine answers faster.
//! * Key and origin templates are split into literal and placeholder parts
//!   when the file is loaded, so expanding one is a series of slice copies
//!   into a caller-owned buffer, and unknown placeholders are reported at
//!   load time rather than discovered on some later log line.
//! * The query string is normalised *before* the regex runs, and the regex
//!   sees the normalised target. Normalising first means a pattern is
//!   written against one canonical shape (`/search?page=2&q=a`) instead of
//!   every parameter order and tracking suffix a client may send, and the
//!   key and origin templates see the same text the pattern matched.
//!   Normalising with `keep` or `strip` is a sub-slice of the input; only
//!   a parameter list needs to build the target in a scratch buffer.
//!
//! Patterns use the regex crate's default Unicode mode, in which `.` and
//! negated classes such as `[^/]` match whole UTF-8 characters and so do not
//! match bytes of invalid UTF-8; write `(?-u:.)` or `(?-u:[^/])` to match any
//! byte.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use regex::bytes::{CaptureLocations, Regex};
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::{DurationError, parse_duration};

/// A routes file as written, before compilation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutesFile {
    /// The `[[route]]` tables, in file order (which is match order).
    #[serde(default)]
    pub route: Vec<RouteSpec>,
}

/// One `[[route]]` table as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Unique name, reported in the warm list's `route` field.
    pub name: String,
    /// Regex matched against the normalised request target.
    #[serde(rename = "match")]
    pub pattern: String,
    /// Cache key template; `{target}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Origin path template; the normalised target when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Time to live in [`parse_duration`] syntax, e.g. `30m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Allowed request methods; any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// How the query string is normalised before matching; `keep` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<QuerySpec>,
}

/// The `query` setting of a route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum QuerySpec {
    /// `"keep"`: the target is used as it is.
    #[default]
    Keep,
    /// `"strip"`: `?` and everything after it are dropped.
    Strip,
    /// `["q", "page"]`: only these parameters are kept, sorted.
    Only(Vec<String>),
}

impl Serialize for QuerySpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            QuerySpec::Keep => s.serialize_str("keep"),
            QuerySpec::Strip => s.serialize_str("strip"),
            QuerySpec::Only(names) => names.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for QuerySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Hand-written rather than `#[serde(untagged)]`, whose error
        // ("did not match any variant") does not tell the user what to write.
        struct QueryVisitor;

        impl<'de> Visitor<'de> for QueryVisitor {
            type Value = QuerySpec;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#""keep", "strip" or a list of parameter names such as ["q", "page"]"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<QuerySpec, E> {
                match v {
                    "keep" => Ok(QuerySpec::Keep),
                    "strip" => Ok(QuerySpec::Strip),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<QuerySpec, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(QuerySpec::Only(names))
            }
        }

        d.deserialize_any(QueryVisitor)
    }
}

/// What is wrong with one route.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RouteProblem {
    /// `name = ""`.
    #[error("the name is empty")]
    EmptyName,
    /// Another route already has this name.
    #[error("the name is already used by route #{}", .first + 1)]
    DuplicateName {
        /// Index of the earlier route with the same name.
        first: usize,
    },
    /// The `match` regex does not compile.
    #[error("invalid match regex {pattern:?}: {error}")]
    BadRegex {
        /// The pattern as written.
        pattern: String,
        /// The regex compiler's explanation.
        error: regex::Error,
    },
    /// The `ttl` is not a duration.
    #[error("invalid ttl: {error}")]
    BadTtl {
        /// Why the duration was refused.
        error: DurationError,
    },
    /// A TTL below one second or with a fractional second, which the warm
    /// list (and Redis `EXPIRE`) cannot express.
    #[error("ttl {ttl:?} is not a whole number of seconds (at least 1s)")]
    TtlNotWholeSeconds {
        /// The ttl as written.
        ttl: String,
    },
    /// A template names a placeholder that is neither a capture group nor
    /// a built-in one.
    #[error(
        "{field} template {template:?} uses unknown placeholder {{{placeholder}}}; available placeholders: {available}"
    )]
    UnknownPlaceholder {
        /// `key` or `origin`.
        field: &'static str,
        /// The template as written.
        template: String,
        /// The unknown name, without braces.
        placeholder: String,
        /// The placeholders this route offers, e.g. `{id}, {target}, {path}, {query}`.
        available: String,
    },
    /// A template's braces do not pair up.
    #[error("{field} template {template:?} is malformed: {reason}")]
    BadTemplate {
        /// `key` or `origin`.
        field: &'static str,
        /// The template as written.
        template: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `methods = []`, which could never match.
    #[error("methods is an empty list; leave it out to allow any method")]
    EmptyMethods,
    /// A method that is not an HTTP method token.
    #[error("invalid method {method:?}: expected an HTTP method such as GET or HEAD")]
    BadMethod {
        /// The method as written.
        method: String,
    },
    /// `query = ["q", ""]`.
    #[error("query lists an empty parameter name")]
    EmptyQueryParam,
}

/// Why a routes file could not be loaded.
///
/// Messages are complete on their own (they include the underlying error's
/// text), so print them with `{}`; no `source()` chain is exposed, which
/// keeps `anyhow`'s `{:#}` from printing the same cause twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoutesError {
    /// The file could not be read.
    #[error("cannot read routes file {}: {error}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The file was read, but its content is wrong.
    #[error("routes file {}: {error}", .path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with the content.
        error: Box<RoutesError>,
    },
    /// Not TOML, or not the shape of a routes file (e.g. an unknown key).
    // The TOML error's text ends in a newline; a message should not.
    #[error("{}", .error.to_string().trim_end())]
    Toml {
        /// The TOML parser's message, with line and column.
        error: toml::de::Error,
    },
    /// The file has no `[[route]]` table.
    #[error("routes file defines no [[route]]")]
    NoRoutes,
    /// One route is wrong.
    #[error("route #{} {name:?}: {problem}", .index + 1)]
    Route {
        /// Zero-based position in the file (messages count from 1).
        index: usize,
        /// The route's name as written.
        name: String,
        /// What is wrong.
        problem: RouteProblem,
    },
}

#[derive(Debug, Clone)]
enum Part {
    Literal(Box<[u8]>),
    Group(usize),
    Target,
    Path,
    Query,
}

#[derive(Debug, Clone)]
struct Template {
    parts: Box<[Part]>,
    uses_groups: bool,
}

/// A template split into literal text and placeholder names, before the
/// names are checked against the route's regex.
enum Piece {
    Literal(String),
    Placeholder(String),
}

fn split_template(text: &str) -> Result<Vec<Piece>, &'static str> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|&(_, n)| n == '{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().is_some_and(|&(_, n)| n == '}') => {
                chars.next();
                literal.push('}');
            }
            '}' => return Err("`}` without a matching `{` (write `}}` for a literal brace)"),
            '{' => {
                let rest = &text[i + 1..];
                let Some(end) = rest.find(['{', '}']) else {
                    return Err("`{` is never closed (write `{{` for a literal brace)");
                };
                if rest[end..].starts_with('{') {
                    return Err("`{` is never closed (write `{{` for a literal brace)");
                }
                let name = &rest[..end];
                if name.is_empty() {
                    return Err("`{}` names no placeholder");
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Placeholder(name.to_owned()));
                // Skip the name and the closing brace.
                for _ in 0..=name.chars().count() {
                    chars.next();
                }
            }
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

const BUILT_INS: [&str; 3] = ["target", "path", "query"];

fn compile_template(
    field: &'static str,
    text: &str,
    regex: &Regex,
) -> Result<Template, RouteProblem> {
    let pieces = split_template(text).map_err(|reason| RouteProblem::BadTemplate {
        field,
        template: text.to_owned(),
        reason,
    })?;
    let mut parts = Vec::with_capacity(pieces.len());
    let mut uses_groups = false;
    for piece in pieces {
        let part = match piece {
            Piece::Literal(s) => Part::Literal(s.into_bytes().into_boxed_slice()),
            Piece::Placeholder(name) => {
                // A group the user named explicitly wins over a built-in of
                // the same name: it is the more specific of the two.
                if let Some(g) = regex.capture_names().position(|n| n == Some(name.as_str())) {
                    uses_groups = true;
                    Part::Group(g)
                } else {
                    match name.as_str() {
                        "target" => Part::Target,
                        "path" => Part::Path,
                        "query" => Part::Query,
                        _ => {
                            return Err(RouteProblem::UnknownPlaceholder {
                                field,
                                template: text.to_owned(),
                                placeholder: name,
                                available: available_placeholders(regex),
                            });
                        }
                    }
                }
            }
        };
        parts.push(part);
    }
    Ok(Template {
        parts: parts.into_boxed_slice(),
        uses_groups,
    })
}

fn available_placeholders(regex: &Regex) -> String {
    let mut names: Vec<&str> = regex.capture_names().flatten().collect();
    for b in BUILT_INS {
        if !names.contains(&b) {
            names.push(b);
        }
    }
    names
        .iter()
        .map(|n| format!("{{{n}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn split_query(target: &[u8]) -> (&[u8], Option<&[u8]>) {
    match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    }
}

impl Template {
    fn default_key() -> Template {
        Template {
            parts: Box::new([Part::Target]),
            uses_groups: false,
        }
    }

    fn expand(&self, norm: &[u8], locs: Option<&CaptureLocations>, out: &mut Vec<u8>) {
        for part in &*self.parts {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Group(g) => {
                    // A group that did not take part in the match expands to nothing.
                    if let Some((start, end)) = locs.and_then(|l| l.get(*g)) {
                        out.extend_from_slice(norm.get(start..end).unwrap_or_default());
                    }
                }
                Part::Target => out.extend_from_slice(norm),
                Part::Path => out.extend_from_slice(split_query(norm).0),
                Part::Query => out.extend_from_slice(split_query(norm).1.unwrap_or_default()),
            }
        }
    }
}

#[derive(Debug, Clone)]
enum QueryRule {
    Keep,
    Strip,
    Only(Box<[Box<[u8]>]>),
}

impl QueryRule {
    fn normalise<'a>(
        &self,
        target: &'a [u8],
        buf: &'a mut Vec<u8>,
        params: &mut Vec<(usize, usize)>,
    ) -> &'a [u8] {
        let keep = match self {
            QueryRule::Keep => return target,
            QueryRule::Strip => return split_query(target).0,
            QueryRule::Only(keep) => keep,
        };
        let (path, Some(query)) = split_query(target) else {
            return target;
        };
        params.clear();
        let mut start = 0;
        for piece in query.split(|&b| b == b'&') {
            let end = start + piece.len();
            let name = piece.split(|&b| b == b'=').next().unwrap_or_default();
            if keep.iter().any(|k| **k == *name) {
                params.push((start, end));
            }
            start = end + 1;
        }
        // Sorting whole `name=value` pairs makes the result independent of
        // the order the client sent them in, including repeated names.
        params.sort_unstable_by(|a, b| query[a.0..a.1].cmp(&query[b.0..b.1]));
        buf.clear();
        buf.extend_from_slice(path);
        for (n, &(s, e)) in params.iter().enumerate() {
            buf.push(if n == 0 { b'?' } else { b'&' });
            buf.extend_from_slice(&query[s..e]);
        }
        buf
    }
}

#[derive(Debug, Clone)]
struct Route {
    name: String,
    regex: Regex,
    key: Template,
    origin: Option<Template>,
    ttl: Option<Duration>,
    methods: Option<Box<[Box<[u8]>]>>,
    query: QueryRule,
}

impl Route {
    fn allows(&self, method: Option<&[u8]>) -> bool {
        match (&self.methods, method) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(allowed), Some(m)) => allowed.iter().any(|a| **a == *m),
        }
    }

    fn compile(spec: RouteSpec) -> Result<Route, RouteProblem> {
        if spec.name.is_empty() {
            return Err(RouteProblem::EmptyName);
        }
        let regex = Regex::new(&spec.pattern).map_err(|error| RouteProblem::BadRegex {
            pattern: spec.pattern.clone(),
            error,
        })?;
        let key = match &spec.key {
            Some(text) => compile_template("key", text, &regex)?,
            None => Template::default_key(),
        };
        let origin = spec
            .origin
            .as_deref()
            .map(|text| compile_template("origin", text, &regex))
            .transpose()?;
        let ttl = spec
            .ttl
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|error| RouteProblem::BadTtl { error })?;
        if let (Some(text), Some(ttl)) = (&spec.ttl, ttl)
            && (ttl.subsec_nanos() != 0 || ttl.is_zero())
        {
            return Err(RouteProblem::TtlNotWholeSeconds { ttl: text.clone() });
        }
        let methods = match spec.methods {
            None => None,
            Some(list) if list.is_empty() => return Err(RouteProblem::EmptyMethods),
            Some(list) => Some(
                list.into_iter()
                    .map(|m| {
                        if !m.is_empty() && m.bytes().all(is_token_byte) {
                            Ok(m.to_ascii_uppercase().into_bytes().into_boxed_slice())
                        } else {
                            Err(RouteProblem::BadMethod { method: m })
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .into_boxed_slice(),
            ),
        };
        let query = match spec.query.unwrap_or_default() {
            QuerySpec::Keep => QueryRule::Keep,
            QuerySpec::Strip => QueryRule::Strip,
            QuerySpec::Only(names) => {
                if names.iter().any(String::is_empty) {
                    return Err(RouteProblem::EmptyQueryParam);
                }
                QueryRule::Only(
                    names
                        .into_iter()
                        .map(|n| n.into_bytes().into_boxed_slice())
                        .collect(),
                )
            }
        };
        Ok(Route {
            name: spec.name,
            regex,
            key,
            origin,
            ttl,
            methods,
            query,
        })
    }
}

/// RFC 9110 `tchar`: the bytes an HTTP method may contain.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Distinguishes compiled route sets, so a scratch made for one is never
/// used with another's regexes (whose capture slots may differ).
static NEXT_ROUTES_ID: AtomicU64 = AtomicU64::new(1);

/// A compiled routes file. Cheap to share between threads (`Send + Sync`);
/// each thread keeps its own [`RouteScratch`].
#[derive(Debug, Clone)]
pub struct Routes {
    id: u64,
    routes: Box<[Route]>,
}

/// Per-thread buffers reused by [`Routes::resolve`] and
/// [`Routes::origin_path`]. Get one from [`Routes::scratch`]; a default or
/// foreign scratch also works, it is rebuilt on first use.
#[derive(Debug, Clone, Default)]
pub struct RouteScratch {
    owner: u64,
    locs: Vec<CaptureLocations>,
    norm: Vec<u8>,
    params: Vec<(usize, usize)>,
}

impl Routes {
    /// Parses and compiles a routes file's text.
    pub fn from_toml_str(text: &str) -> Result<Routes, RoutesError> {
        let file: RoutesFile = toml::from_str(text).map_err(|error| RoutesError::Toml { error })?;
        Routes::compile(file)
    }

    /// Reads, parses and compiles a routes file. Errors name the file.
    pub fn load(path: &Path) -> Result<Routes, RoutesError> {
        let text = std::fs::read_to_string(path).map_err(|error| RoutesError::Read {
            path: path.to_owned(),
            error,
        })?;
        Routes::from_toml_str(&text).map_err(|error| RoutesError::InFile {
            path: path.to_owned(),
            error: Box::new(error),
        })
    }

    /// Compiles an already parsed routes file.
    pub fn compile(file: RoutesFile) -> Result<Routes, RoutesError> {
        if file.route.is_empty() {
            return Err(RoutesError::NoRoutes);
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut routes = Vec::with_capacity(file.route.len());
        for (index, spec) in file.route.into_iter().enumerate() {
            let name = spec.name.clone();
            let fail = |problem| RoutesError::Route {
                index,
                name: name.clone(),
                problem,
            };
            if let Some(&first) = seen.get(&name) {
                return Err(fail(RouteProblem::DuplicateName { first }));
            }
            seen.insert(name.clone(), index);
            routes.push(Route::compile(spec).map_err(fail)?);
        }
        Ok(Routes {
            id: NEXT_ROUTES_ID.fetch_add(1, Ordering::Relaxed),
            routes: routes.into_boxed_slice(),
        })
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Always false for a loaded file (an empty one is refused); present
    /// for the usual `len`/`is_empty` pairing.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Name of route `i`; empty if there is no such route.
    pub fn name(&self, i: usize) -> &str {
        self.routes.get(i).map_or("", |r| r.name.as_str())
    }

    /// TTL of route `i`, if it has one (and exists).
    pub fn ttl(&self, i: usize) -> Option<Duration> {
        self.routes.get(i).and_then(|r| r.ttl)
    }

    /// Buffers for one thread's calls to [`resolve`](Routes::resolve).
    pub fn scratch(&self) -> RouteScratch {
        RouteScratch {
            owner: self.id,
            locs: self
                .routes
                .iter()
                .map(|r| r.regex.capture_locations())
                .collect(),
            norm: Vec::new(),
            params: Vec::new(),
        }
    }

    fn adopt(&self, scratch: &mut RouteScratch) {
        if scratch.owner != self.id {
            *scratch = self.scratch();
        }
    }

    /// Finds the first route, in file order, that allows `method` and whose
    /// regex matches the normalised `target`; clears `key`, writes the cache
    /// key into it and returns the route's index. Returns `None` (with `key`
    /// empty) when no route matches.
    ///
    /// A `method` of `None` (the log line had none) passes only routes
    /// without `methods`. Methods are compared exactly against the
    /// upper-cased `methods` of the file.
    ///
    /// Allocates nothing once `scratch` and `key` have grown to fit.
    pub fn resolve(
        &self,
        method: Option<&[u8]>,
        target: &[u8],
        scratch: &mut RouteScratch,
        key: &mut Vec<u8>,
    ) -> Option<usize> {
        key.clear();
        self.adopt(scratch);
        let RouteScratch {
            locs, norm, params, ..
        } = scratch;
        for (i, (route, loc)) in self.routes.iter().zip(locs.iter_mut()).enumerate() {
            if !route.allows(method) {
                continue;
            }
            let normalised = route.query.normalise(target, norm, params);
            if route.key.uses_groups {
                if route.regex.captures_read(loc, normalised).is_none() {
                    continue;
                }
                route.key.expand(normalised, Some(loc), key);
            } else {
                if !route.regex.is_match(normalised) {
                    continue;
                }
                route.key.expand(normalised, None, key);
            }
            return Some(i);
        }
        None
    }

    /// The path to fetch from the origin for `target`, which matched route
    /// `route`: its `origin` template expanded, or the normalised target
    /// when the route has none. If the target does not match that route
    /// (or there is no such route) the normalised target is returned, so
    /// the result is always a path the origin can be asked for.
    pub fn origin_path(&self, route: usize, target: &[u8], scratch: &mut RouteScratch) -> Vec<u8> {
        self.adopt(scratch);
        let Some(r) = self.routes.get(route) else {
            return target.to_vec();
        };
        let RouteScratch {
            locs, norm, params, ..
        } = scratch;
        let normalised = r.query.normalise(target, norm, params);
        let Some(template) = &r.origin else {
            return normalised.to_vec();
        };
        let mut out = Vec::new();
        if template.uses_groups {
            let Some(loc) = locs.get_mut(route) else {
                return normalised.to_vec();
            };
            if r.regex.captures_read(loc, normalised).is_none() {
                return normalised.to_vec();
            }
            template.expand(normalised, Some(loc), &mut out);
        } else {
            template.expand(normalised, None, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = r#"
[[route]]
name = "product"
match = '^/api/products/(?P<id>[0-9]+)$'
key = "product:{id}"
origin = "/api/products/{id}"
ttl = "30m"
methods = ["GET"]
query = "strip"

[[route]]
name = "search"
match = '^/search(\?.*)?$'
key = "search:{query}"
ttl = "90s"
query = ["q", "page"]

[[route]]
name = "static"
match = '^/static/'
methods = ["get", "head"]
"#;

    fn routes(text: &str) -> Routes {
        Routes::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn resolve(r: &Routes, method: Option<&str>, target: &str) -> Option<(String, String)> {
        let mut scratch = r.scratch();
        let mut key = b"stale".to_vec();
        let found = r.resolve(
            method.map(str::as_bytes),
            target.as_bytes(),
            &mut scratch,
            &mut key,
        );
        match found {
            Some(i) => Some((r.name(i).to_owned(), String::from_utf8(key).unwrap())),
            None => {
                assert!(key.is_empty(), "key not cleared on a miss");
                None
            }
        }
    }

    fn err(text: &str) -> String {
        Routes::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn resolves_the_example_file() {
        let r = routes(EXAMPLE);
        assert_eq!(r.len(), 3);
        assert!(!r.is_empty());
        assert_eq!(r.name(0), "product");
        assert_eq!(r.ttl(0), Some(Duration::from_secs(1800)));
        assert_eq!(r.ttl(2), None);
        assert_eq!(r.ttl(99), None);
        assert_eq!(r.name(99), "");

        let hit = |m, t| resolve(&r, m, t);
        assert_eq!(
            hit(Some("GET"), "/api/products/42?utm_source=x"),
            Some(("product".into(), "product:42".into()))
        );
        assert_eq!(hit(Some("POST"), "/api/products/42"), None);
        assert_eq!(
            hit(None, "/api/products/42"),
            None,
            "no method: only routes without methods"
        );
        assert_eq!(
            hit(None, "/search?page=2&q=a&utm=x"),
            Some(("search".into(), "search:page=2&q=a".into()))
        );
        assert_eq!(
            hit(Some("GET"), "/static/app.js?v=3"),
            Some(("static".into(), "/static/app.js?v=3".into()))
        );
        assert_eq!(
            hit(Some("HEAD"), "/static/x"),
            Some(("static".into(), "/static/x".into()))
        );
        assert_eq!(
            hit(Some("get"), "/static/x"),
            None,
            "methods compare exactly"
        );
        assert_eq!(hit(Some("GET"), "/elsewhere"), None);
    }

    #[test]
    fn query_lists_keep_only_named_params_sorted() {
        let r = routes(
            r#"
[[route]]
name = "search"
match = '^/search'
query = ["q", "page"]
"#,
        );
        let key = |t| resolve(&r, None, t).map(|(_, k)| k);
        assert_eq!(
            key("/search?page=2&q=a&utm=x").as_deref(),
            Some("/search?page=2&q=a")
        );
        assert_eq!(
            key("/search?q=a&page=2").as_deref(),
            Some("/search?page=2&q=a")
        );
        assert_eq!(key("/search?utm=x&fbclid=y").as_deref(), Some("/search"));
        assert_eq!(key("/search?").as_deref(), Some("/search"));
        assert_eq!(key("/search").as_deref(), Some("/search"));
        // Names are compared as raw bytes: no decoding, no prefix matching.
        assert_eq!(
            key("/search?q%31=1&qq=2&q=&page").as_deref(),
            Some("/search?page&q=")
        );
        assert_eq!(key("/search?q=b&q=a&&").as_deref(), Some("/search?q=a&q=b"));
    }

    #[test]
    fn the_regex_sees_the_normalised_target() {
        let r = routes(
            r#"
[[route]]
name = "exact"
match = '^/search\?q=[a-z]+$'
query = ["q"]

[[route]]
name = "bare"
match = '^/item/[0-9]+$'
query = "strip"
"#,
        );
        assert_eq!(
            resolve(&r, None, "/search?x=1&q=abc")
                .map(|h| h.1)
                .as_deref(),
            Some("/search?q=abc")
        );
        assert_eq!(
            resolve(&r, None, "/item/7?ref=home")
                .map(|h| h.1)
                .as_deref(),
            Some("/item/7")
        );
    }

    #[test]
    fn the_examples_in_docs_routes_md_hold() {
        let r = routes(
            r#"
[[route]]
name = "search"
match = '^/search(\?.*)?$'
key = "search:{query}"
ttl = "90s"
methods = ["GET"]
query = ["q", "page", "sort"]

[[route]]
name = "category"
match = '^/c/(?P<slug>[a-z0-9-]+)(\?.*)?$'
key = "category:{slug}:{query}"
query = ["page", "sort", "filter"]

[[route]]
name = "user"
match = '^/users/(?P<id>[0-9]+)(?:/(?P<tab>[a-z]+))?$'
key = "user:{id}:{tab}"
query = "strip"
"#,
        );
        let target = b"/search?sort=price&q=red+shoes&utm_campaign=spring&page=2";
        let (_, key) = resolve(&r, Some("GET"), std::str::from_utf8(target).unwrap()).unwrap();
        assert_eq!(key, "search:page=2&q=red+shoes&sort=price");
        assert_eq!(
            r.origin_path(0, target, &mut r.scratch()),
            b"/search?page=2&q=red+shoes&sort=price"
        );
        let key = |t| resolve(&r, None, t).map(|h| h.1);
        assert_eq!(
            key("/c/shoes?utm_source=mail&page=3&fbclid=x").as_deref(),
            Some("category:shoes:page=3")
        );
        assert_eq!(key("/c/shoes").as_deref(), Some("category:shoes:"));
        assert_eq!(key("/users/7/posts").as_deref(), Some("user:7:posts"));
        assert_eq!(key("/users/7").as_deref(), Some("user:7:"));
    }

    #[test]
    fn first_route_in_file_order_wins() {
        let r = routes(
            r#"
[[route]]
name = "specific"
match = '^/a/b$'
key = "s"

[[route]]
name = "general"
match = '^/a/'
key = "g"
"#,
        );
        assert_eq!(resolve(&r, None, "/a/b").unwrap().0, "specific");
        assert_eq!(resolve(&r, None, "/a/c").unwrap().0, "general");
    }

    #[test]
    fn templates_expand_groups_built_ins_and_braces() {
        let r = routes(
            r#"
[[route]]
name = "t"
match = '^/(?P<kind>[a-z]+)(?:/(?P<id>[0-9]+))?'
key = "{{{kind}}}:{id}|{path}|{query}|{target}}}"
"#,
        );
        assert_eq!(
            resolve(&r, None, "/user/9?x=1").unwrap().1,
            "{user}:9|/user/9|x=1|/user/9?x=1}"
        );
        // The optional group did not take part: it expands to nothing.
        assert_eq!(
            resolve(&r, None, "/user").unwrap().1,
            "{user}:|/user||/user}"
        );
    }

    #[test]
    fn a_named_group_wins_over_a_built_in() {
        let r = routes(
            r#"
[[route]]
name = "t"
match = '^/x/(?P<path>.*)$'
key = "{path}"
"#,
        );
        assert_eq!(resolve(&r, None, "/x/y/z").unwrap().1, "y/z");
    }

    #[test]
    fn origin_paths() {
        let r = routes(EXAMPLE);
        let mut s = r.scratch();
        assert_eq!(
            r.origin_path(0, b"/api/products/42?utm=1", &mut s),
            b"/api/products/42"
        );
        // No origin template: the normalised target.
        assert_eq!(
            r.origin_path(1, b"/search?utm=1&q=z", &mut s),
            b"/search?q=z"
        );
        assert_eq!(r.origin_path(2, b"/static/a?b", &mut s), b"/static/a?b");
        // Target that does not match route 0, and a route that does not exist.
        assert_eq!(r.origin_path(0, b"/nope?x", &mut s), b"/nope");
        assert_eq!(r.origin_path(7, b"/nope?x", &mut s), b"/nope?x");
    }

    #[test]
    fn matches_bytes_that_are_not_utf8() {
        let r = routes(
            r#"
[[route]]
name = "any"
match = '^/f/(?P<name>(?-u:[^/])+)$'
key = "f:{name}"
"#,
        );
        let mut s = r.scratch();
        let mut key = Vec::new();
        assert_eq!(r.resolve(None, b"/f/\xff\xfe", &mut s, &mut key), Some(0));
        assert_eq!(key, b"f:\xff\xfe");
    }

    #[test]
    fn a_scratch_from_other_routes_is_rebuilt_not_misused() {
        let a = routes(EXAMPLE);
        let b = routes(
            r#"
[[route]]
name = "three"
match = '^/(?P<a>.)(?P<b>.)(?P<c>.)(?P<d>.)(?P<e>.)$'
key = "{e}{d}{c}{b}{a}"
"#,
        );
        let mut s = a.scratch();
        let mut key = Vec::new();
        assert_eq!(b.resolve(None, b"/abcde", &mut s, &mut key), Some(0));
        assert_eq!(key, b"edcba");
        let mut d = RouteScratch::default();
        assert_eq!(
            a.resolve(Some(b"GET"), b"/api/products/1", &mut d, &mut key),
            Some(0)
        );
        assert_eq!(key, b"product:1");
    }

    #[test]
    fn routes_are_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Routes>();
        fn sendable<T: Send>() {}
        sendable::<RouteScratch>();
    }

    #[test]
    fn load_errors_name_the_route_and_the_problem() {
        let e = err("");
        assert_eq!(e, "routes file defines no [[route]]");
        let e = err("[[route]]\nname = \"a\"\nmatch = '(unclosed'\n");
        assert!(
            e.starts_with("route #1 \"a\": invalid match regex \"(unclosed\": "),
            "{e}"
        );
        let e = err(
            "[[route]]\nname = \"a\"\nmatch = 'x'\n[[route]]\nname = \"b\"\nmatch = 'y'\nttl = \"10 minutes\"\n",
        );
        assert!(e.starts_with("route #2 \"b\": invalid ttl: "), "{e}");
        assert!(e.contains("\"10 minutes\""), "{e}");
        for ttl in ["1500ms", "0s", "0"] {
            let e = err(&format!(
                "[[route]]\nname = \"a\"\nmatch = 'x'\nttl = \"{ttl}\"\n"
            ));
            assert!(
                e.ends_with("is not a whole number of seconds (at least 1s)"),
                "{e}"
            );
        }
        assert_eq!(
            routes("[[route]]\nname = \"a\"\nmatch = 'x'\nttl = \"2000ms\"\n").ttl(0),
            Some(Duration::from_secs(2))
        );
        let e = err(
            "[[route]]\nname = \"p\"\nmatch = '^/p/(?P<id>[0-9]+)$'\nkey = \"product:{idd}\"\n",
        );
        assert_eq!(
            e,
            "route #1 \"p\": key template \"product:{idd}\" uses unknown placeholder {idd}; \
             available placeholders: {id}, {target}, {path}, {query}"
        );
        let e = err("[[route]]\nname = \"p\"\nmatch = 'x'\norigin = \"/{nope}\"\n");
        assert!(
            e.contains("origin template \"/{nope}\" uses unknown placeholder {nope}"),
            "{e}"
        );
        let e = err("[[route]]\nname = \"a\"\nmatch = 'x'\n[[route]]\nname = \"a\"\nmatch = 'y'\n");
        assert_eq!(e, "route #2 \"a\": the name is already used by route #1");
        let e = err("[[route]]\nname = \"\"\nmatch = 'x'\n");
        assert_eq!(e, "route #1 \"\": the name is empty");
        let e = err("[[route]]\nname = \"a\"\nmatch = 'x'\nmethods = []\n");
        assert!(e.contains("methods is an empty list"), "{e}");
        let e = err("[[route]]\nname = \"a\"\nmatch = 'x'\nmethods = [\"G ET\"]\n");
        assert!(e.contains("invalid method \"G ET\""), "{e}");
        let e = err("[[route]]\nname = \"a\"\nmatch = 'x'\nquery = [\"q\", \"\"]\n");
        assert!(e.contains("empty parameter name"), "{e}");
    }

    #[test]
    fn malformed_templates_are_refused() {
        for (template, reason) in [
            ("a{b", "never closed"),
            ("a{b{c}", "never closed"),
            ("a}b", "without a matching"),
            ("{}", "names no placeholder"),
        ] {
            let e = err(&format!(
                "[[route]]\nname = \"a\"\nmatch = 'x'\nkey = \"{template}\"\n"
            ));
            assert!(
                e.contains("is malformed") && e.contains(reason),
                "{template}: {e}"
            );
        }
    }

    #[test]
    fn toml_shape_errors_are_reported() {
        let e = err("[[route]]\nname = \"a\"\nmatch = 'x'\nttl_seconds = 5\n");
        assert!(e.contains("ttl_seconds"), "{e}");
        assert_eq!(e, e.trim_end(), "no trailing newline");
        let e = err("[[route]]\nname = \"a\"\nmatch = 'x'\nquery = \"drop\"\n");
        assert!(e.contains(r#""keep", "strip" or a list"#), "{e}");
        let e = err("[[route]]\nmatch = 'x'\n");
        assert!(e.contains("name"), "{e}");
        let e = err("[[routes]]\nname = \"a\"\nmatch = 'x'\n");
        assert!(e.contains("routes"), "{e}");
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("routes.toml");
        let e = Routes::load(&path).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot read routes file ") && e.contains("routes.toml"),
            "{e}"
        );
        std::fs::write(&path, "# nothing yet\n").unwrap();
        let e = Routes::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("routes.toml") && e.ends_with("routes file defines no [[route]]"),
            "{e}"
        );
        std::fs::write(&path, EXAMPLE).unwrap();
        assert_eq!(Routes::load(&path).unwrap().len(), 3);
    }

    #[test]
    fn spec_round_trips_through_toml() {
        let file: RoutesFile = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(
            file.route[1].query,
            Some(QuerySpec::Only(vec!["q".into(), "page".into()]))
        );
        assert_eq!(file.route[0].query, Some(QuerySpec::Strip));
        let text = toml::to_string(&file).unwrap();
        let again: RoutesFile = toml::from_str(&text).unwrap();
        assert_eq!(file, again);
    }

    proptest! {
        #[test]
        fn param_order_does_not_change_the_key(
            mut params in proptest::collection::vec(("[a-c]{1,2}", "[a-z0-9=%]{0,3}"), 0..6),
            seed in any::<u64>(),
        ) {
            let r = routes("[[route]]\nname = \"s\"\nmatch = '^/s'\nquery = [\"a\", \"b\", \"ab\"]\n");
            let target = |ps: &[(String, String)]| {
                let q: Vec<String> = ps.iter().map(|(n, v)| format!("{n}={v}")).collect();
                format!("/s?{}", q.join("&"))
            };
            let first = resolve(&r, None, &target(&params)).unwrap().1;
            let n = params.len().max(1);
            params.rotate_left((seed as usize) % n);
            params.reverse();
            let second = resolve(&r, None, &target(&params)).unwrap().1;
            prop_assert_eq!(&first, &second);
            // Normalising a normalised target changes nothing.
            let third = resolve(&r, None, &first).unwrap().1;
            prop_assert_eq!(&first, &third);
        }

        #[test]
        fn resolve_never_panics(
            method in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
            target in proptest::collection::vec(any::<u8>(), 0..64),
            route in 0usize..5,
        ) {
            let r = routes(EXAMPLE);
            let mut s = r.scratch();
            let mut key = Vec::new();
            let _ = r.resolve(method.as_deref(), &target, &mut s, &mut key);
            let _ = r.origin_path(route, &target, &mut s);
        }

        #[test]
        fn loading_never_panics(text in "\\PC{0,200}") {
            let _ = Routes::from_toml_str(&text);
        }
    }
}
