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
//!
//! Parts: `fields` names the keys that feed each field; `keys` compiles them
//! into the tree that `scan` looks keys up in while it walks a line, reading
//! tokens with `string` and `number`.

mod fields;
mod keys;
mod number;
mod scan;
mod string;

pub use fields::{JsonFieldError, JsonFields};
pub use scan::MAX_DEPTH;

use crate::format::Wants;
use crate::record::{LineError, RawFields};
use crate::time::TimeKind;
use fields::{
    ARGS, BYTES, CACHE_STATUS, CLIENT, HOST, METHOD, PATH, PROTOCOL, REQUEST, REQUEST_TIME,
    SLOT_COUNT, STATUS, TARGET, TIME, UPSTREAM_TIME, USER_AGENT,
};
use keys::{Found, FoundSlots, Node};
use string::Span;

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

impl JsonLineParser {
    /// A parser that fills each field, the optional ones included, from the
    /// first of its candidate keys in `fields` that a line has.
    pub fn new(fields: JsonFields) -> Self {
        Self::with_wants(
            fields,
            Wants {
                client: true,
                user_agent: true,
            },
        )
    }

    /// A parser like [`JsonLineParser::new`] that fills the optional fields
    /// (client, user agent) only when `wants` asks for them.
    pub fn with_wants(fields: JsonFields, wants: Wants) -> Self {
        JsonLineParser {
            nodes: keys::build(&fields, wants),
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
        scan::scan_line(
            line,
            &self.nodes,
            &mut self.scratch,
            &mut self.key_buf,
            &mut found,
        )?;
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
            client: found[CLIENT].map(bytes),
            user_agent: found[USER_AGENT].map(bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{JoinBuffer, LatencyUnit};
    use crate::time::TimeCache;

    pub(super) fn parse_with<'a>(p: &'a mut JsonLineParser, line: &'a [u8]) -> RawFields<'a> {
        match p.parse(line) {
            Ok(raw) => raw,
            Err(e) => panic!("{e}: {}", String::from_utf8_lossy(line)),
        }
    }

    pub(super) fn b(s: &str) -> Option<&[u8]> {
        Some(s.as_bytes())
    }

    pub(super) const CADDY: &[u8] = br#"{"level":"info","ts":1646861401.5241024,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"41342","client_ip":"127.0.0.1","proto":"HTTP/2.0","method":"GET","host":"localhost","uri":"/search?q=caf%C3%A9","headers":{"User-Agent":["curl/7.82.0"],"Accept":["*/*"],"Accept-Encoding":["gzip, deflate, br"]},"tls":{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"tls.example"}},"bytes_read":0,"user_id":"","duration":1.2e-05,"size":10900,"status":200,"resp_headers":{"Server":["Caddy"],"Content-Type":["text/html; charset=utf-8"]}}"#;

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
    fn client_and_user_agent_from_nginx_and_caddy() {
        let nginx = br#"{"time_iso8601":"2024-05-01T00:00:11+00:00","remote_addr":"23.233.128.113","request":"GET / HTTP/2.0","status":200,"http_user_agent":"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}"#;
        let mut p = JsonLineParser::default();
        let raw = parse_with(&mut p, nginx);
        assert_eq!(raw.client, b("23.233.128.113"));
        assert_eq!(
            raw.user_agent,
            b("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
        );
        // Caddy: client_ip before remote_ip; the first of the header's values.
        let raw = parse_with(&mut p, CADDY);
        assert_eq!(raw.client, b("127.0.0.1"));
        assert_eq!(raw.user_agent, b("curl/7.82.0"));
        let raw = parse_with(
            &mut p,
            br#"{"request":{"remote_ip":"10.0.0.9","client_ip":"198.51.100.2","headers":{"User-Agent":["abc","second"],"Accept":["x"]}},"status":200}"#,
        );
        assert_eq!(raw.client, b("198.51.100.2"));
        assert_eq!(raw.user_agent, b("abc"));
        let raw = parse_with(
            &mut p,
            br#"{"request":{"remote_ip":"10.0.0.9","headers":{"User-Agent":[]}},"status":200}"#,
        );
        assert_eq!(raw.client, b("10.0.0.9"));
        assert_eq!(raw.user_agent, None);
        // Only the user agent takes a list's first item: a status in a
        // list is no status.
        let raw = parse_with(&mut p, br#"{"status":[200],"http_user_agent":["ua"]}"#);
        assert_eq!(raw.status, None);
        assert_eq!(raw.user_agent, b("ua"));
        // A run that does not want them never fills them.
        let mut plain = JsonLineParser::with_wants(JsonFields::defaults(), Wants::default());
        let raw = parse_with(&mut plain, CADDY);
        assert_eq!((raw.client, raw.user_agent), (None, None));
        assert_eq!(raw.target, b("/search?q=caf%C3%A9"));
        let mut client_only = JsonLineParser::with_wants(
            JsonFields::defaults(),
            Wants {
                client: true,
                user_agent: false,
            },
        );
        let raw = parse_with(&mut client_only, nginx);
        assert_eq!((raw.client, raw.user_agent), (b("23.233.128.113"), None));
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
}
