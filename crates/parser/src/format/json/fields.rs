//! Which JSON keys feed which field: the built-in names and `--json-field SLOT=PATH[:UNIT]`.

use thiserror::Error;

use crate::record::LatencyUnit;

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
    "client",
    "user_agent",
];
pub(super) const SLOT_COUNT: usize = 15;
pub(super) const TIME: usize = 0;
pub(super) const REQUEST: usize = 1;
pub(super) const METHOD: usize = 2;
pub(super) const TARGET: usize = 3;
pub(super) const PATH: usize = 4;
pub(super) const ARGS: usize = 5;
pub(super) const PROTOCOL: usize = 6;
pub(super) const STATUS: usize = 7;
pub(super) const BYTES: usize = 8;
pub(super) const REQUEST_TIME: usize = 9;
pub(super) const UPSTREAM_TIME: usize = 10;
pub(super) const HOST: usize = 11;
pub(super) const CACHE_STATUS: usize = 12;
pub(super) const CLIENT: usize = 13;
pub(super) const USER_AGENT: usize = 14;

/// A bad `--json-field SLOT=PATH[:UNIT]` spec.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum JsonFieldError {
    /// The spec has no `=`; holds the whole spec.
    #[error("`{0}` is not SLOT=PATH[:UNIT]")]
    MissingEquals(String),
    /// The part before `=` names no slot; holds that part.
    #[error(
        "unknown slot `{0}`; expected one of time, request, method, target, path, args, \
         protocol, status, bytes, request_time, upstream_time, host, cache_status, client, \
         user_agent"
    )]
    UnknownSlot(String),
    /// Nothing after `=` (or before `:UNIT`); holds the slot name.
    #[error("empty path for slot `{0}`")]
    EmptyPath(String),
    /// The path has an empty key (`a..b`, `.a`, `a.`); holds the path.
    #[error("empty key in path `{0}` (keys are separated by single dots)")]
    EmptyKey(String),
    /// A latency slot with a unit other than `s`, `ms` or `us`.
    #[error("unknown unit `{unit}` for slot `{slot}`; expected s, ms or us")]
    UnknownUnit {
        /// The slot name as given.
        slot: String,
        /// The text after the last `:`.
        unit: String,
    },
    /// A `:UNIT` on a slot that is not a latency, e.g. `time=ts:ms`.
    #[error("slot `{slot}` takes no unit (`:{unit}`); only request_time and upstream_time do")]
    UnitNotAllowed {
        /// The slot name as given.
        slot: String,
        /// The text after the last `:`.
        unit: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Candidate {
    /// Keys from the top-level object down, e.g. `["request", "uri"]`.
    pub(super) path: Vec<Box<[u8]>>,
    pub(super) unit: LatencyUnit,
}

impl Candidate {
    fn new(path: &str, unit: LatencyUnit) -> Self {
        Candidate {
            path: path.split('.').map(|k| k.as_bytes().into()).collect(),
            unit,
        }
    }
}

/// Which JSON keys feed which field of [`RawFields`](crate::record::RawFields).
///
/// Each slot has a list of candidate paths; the first candidate (in list
/// order, not line order) present in a line with a string or number value wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonFields {
    pub(super) slots: [Vec<Candidate>; SLOT_COUNT],
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
                // Caddy's client_ip is the client behind trusted proxies
                // (older versions log only remote_ip, the peer).
                list(&["request.client_ip", "request.remote_ip", "remote_addr"]),
                // Caddy logs each header as a list of values: the first
                // is taken.
                list(&["request.headers.User-Agent", "http_user_agent"]),
            ],
        }
    }

    /// Which fields lines can fill: those with candidate keys.
    pub fn records(&self) -> crate::format::Records {
        let has = |slot: usize| !self.slots[slot].is_empty();
        crate::format::Records {
            host: has(HOST),
            latency: has(REQUEST_TIME) || has(UPSTREAM_TIME),
            client: has(CLIENT),
            user_agent: has(USER_AGENT),
        }
    }

    /// Overrides one slot from a `--json-field SLOT=PATH[:UNIT]` spec, e.g.
    /// `target=req.path`, `request_time=dur_ms:ms`, `time=@timestamp`.
    ///
    /// SLOT is one of time, request, method, target, path, args, protocol,
    /// status, bytes, request_time, upstream_time, host, cache_status,
    /// client, user_agent. PATH is
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
