//! What one log line says about one request.
//!
//! Every format (text templates, JSON lines) only *finds* the fields of a line
//! and stores them as raw byte slices in [`RawFields`]. Turning those slices
//! into numbers, times and a request target happens once, here, in
//! [`RawFields::to_request`], so every format gets the same rules for `-`,
//! units, request lines without a protocol, and so on.

use crate::time::{TimeCache, TimeKind};

/// The unit a latency field is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyUnit {
    /// nginx `$request_time`, Apache `%T`, Caddy `duration`: decimal seconds.
    Seconds,
    /// Apache `%{ms}T`.
    Millis,
    /// Apache `%D`, `%{us}T`.
    Micros,
}

/// Field slices found in one line, before any conversion.
///
/// Slices borrow from the line, or from the parser's scratch buffer when the
/// format had to unescape a value (JSON). `None` means the format has no such
/// field; a field present but written as `-` is `Some(b"-")`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawFields<'a> {
    /// The request's time as written, and the layout to read it with.
    pub time: Option<(&'a [u8], TimeKind)>,
    /// The whole request line, e.g. `GET /a?b=1 HTTP/1.1`.
    pub request_line: Option<&'a [u8]>,
    /// Method on its own (`$request_method`, `%m`); when present it wins
    /// over the method in `request_line`.
    pub method: Option<&'a [u8]>,
    /// Path and query as sent (`$request_uri`, `%U%q`, Caddy `request.uri`).
    pub target: Option<&'a [u8]>,
    /// Path only, without query (`$uri`); joined with `args` when no target.
    pub path: Option<&'a [u8]>,
    /// Query string without `?` (`$args`, `$query_string`).
    pub args: Option<&'a [u8]>,
    /// Protocol on its own, e.g. `HTTP/1.1` (`$server_protocol`, `%H`); when
    /// present it wins over the protocol in `request_line`.
    pub protocol: Option<&'a [u8]>,
    /// Response status as decimal text (`$status`, `%s`).
    pub status: Option<&'a [u8]>,
    /// Response size in bytes as decimal text: the body (`$body_bytes_sent`,
    /// `%b`) when logged, else the whole response (`$bytes_sent`, `%O`).
    pub bytes: Option<&'a [u8]>,
    /// Time taken to serve the request as written (`$request_time`, `%D`,
    /// `%T`), and the unit it is written in.
    pub request_time: Option<(&'a [u8], LatencyUnit)>,
    /// Time spent waiting on upstream servers as written
    /// (`$upstream_response_time`): one number or nginx's list of them.
    pub upstream_time: Option<(&'a [u8], LatencyUnit)>,
    /// Virtual host as logged (`$host`, `%v`), possibly with `:port`.
    pub host: Option<&'a [u8]>,
    /// Cache verdict as logged, e.g. `HIT` or `MISS` (`$upstream_cache_status`).
    pub cache_status: Option<&'a [u8]>,
    /// Client address as logged (`$remote_addr`, `%a`, `%h`); filled only
    /// when the run asks for it ([`Wants::client`](crate::format::Wants::client)).
    pub client: Option<&'a [u8]>,
    /// User agent as logged (`$http_user_agent`, `%{User-Agent}i`); filled
    /// only when the run asks for it
    /// ([`Wants::user_agent`](crate::format::Wants::user_agent)).
    pub user_agent: Option<&'a [u8]>,
}

/// One request, with its fields converted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request<'a> {
    /// Unix time in microseconds; `None` when not logged or `-`.
    pub time: Option<i64>,
    /// Method as logged, case kept (`GET`, `get`); `None` when not logged
    /// or `-`.
    pub method: Option<&'a [u8]>,
    /// Path and query as logged; `None` for a request line of `-` or one with
    /// no target (TLS garbage logged as `\x16\x03…`).
    pub target: Option<&'a [u8]>,
    /// Protocol, e.g. `HTTP/1.1`; `None` when not logged, and for a request
    /// line without one (`GET /x`).
    pub protocol: Option<&'a [u8]>,
    /// Response status (any value up to 65535 is accepted); `None` when not
    /// logged or `-`.
    pub status: Option<u16>,
    /// Response size in bytes (the body, when the format logs it); `None`
    /// when not logged or `-`.
    pub bytes: Option<u64>,
    /// Time taken to serve the request, in microseconds; `None` when not
    /// logged or `-`.
    pub request_time_us: Option<u64>,
    /// Time spent on upstream servers, in microseconds, summed over every
    /// upstream tried; `None` when not logged or no upstream was used (`-`).
    pub upstream_time_us: Option<u64>,
    /// Virtual host as logged, possibly with `:port`; `None` when not
    /// logged or `-`.
    pub host: Option<&'a [u8]>,
    /// Cache verdict as logged (`HIT`, `MISS`, …); `None` when not logged
    /// or `-`.
    pub cache_status: Option<&'a [u8]>,
    /// Client address as logged, e.g. `203.0.113.7` or `2001:db8::1`;
    /// `None` when not logged, `-`, or not asked for.
    pub client: Option<&'a [u8]>,
    /// User agent as logged, escapes kept; `None` when not logged, `-`, or
    /// not asked for.
    pub user_agent: Option<&'a [u8]>,
}

impl Request<'_> {
    /// The latency a warm cache would save: request time, else upstream time.
    pub fn latency_us(&self) -> Option<u64> {
        self.request_time_us.or(self.upstream_time_us)
    }
}

/// Why a line could not be read. Static text keeps the hot path free of
/// allocation; the scanner adds file and line number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineError(pub &'static str);

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Where a target split off a request line ends up when the line is joined
/// from `$uri` and `$args`.
#[derive(Default)]
pub struct JoinBuffer(Vec<u8>);

impl<'a> RawFields<'a> {
    /// Converts the raw slices. `join` holds a target built from path and
    /// query when the format logs them apart, so it must outlive the result.
    ///
    /// Always inlined: as a call, its 150-byte result went back through the
    /// stack, and reading it there stalled on the stores just made (the
    /// hottest instructions of `LineParser::parse` in `perf`).
    #[inline(always)]
    pub fn to_request(
        &self,
        times: &mut TimeCache,
        join: &'a mut JoinBuffer,
    ) -> Result<Request<'a>, LineError> {
        let mut req = Request::default();

        if let Some((raw, kind)) = self.time
            && !is_dash(raw)
        {
            req.time = Some(times.parse(raw, kind).ok_or(LineError("bad time"))?);
        }

        if let Some(line) = self.request_line {
            let (method, target, protocol) = split_request_line(line);
            req.method = method;
            req.target = target;
            req.protocol = protocol;
        }
        if let Some(m) = non_dash(self.method) {
            req.method = Some(m);
        }
        if let Some(p) = non_dash(self.protocol) {
            req.protocol = Some(p);
        }
        if let Some(t) = non_dash(self.target) {
            req.target = Some(t);
        } else if req.target.is_none()
            && let Some(path) = non_dash(self.path)
        {
            req.target = Some(match non_dash(self.args) {
                Some(args) if !args.is_empty() => {
                    let buf = &mut join.0;
                    buf.clear();
                    buf.extend_from_slice(path);
                    buf.push(b'?');
                    buf.extend_from_slice(args);
                    buf.as_slice()
                }
                _ => path,
            });
        }

        if let Some(s) = non_dash(self.status) {
            let status = parse_u64(s).ok_or(LineError("status is not a number"))?;
            req.status = Some(u16::try_from(status).map_err(|_| LineError("status out of range"))?);
        }
        if let Some(b) = non_dash(self.bytes) {
            req.bytes = Some(parse_u64(b).ok_or(LineError("bytes is not a number"))?);
        }
        if let Some((raw, unit)) = self.request_time {
            req.request_time_us = parse_latency(raw, unit)?;
        }
        if let Some((raw, unit)) = self.upstream_time {
            req.upstream_time_us = parse_latency(raw, unit)?;
        }
        req.host = non_dash(self.host);
        req.cache_status = non_dash(self.cache_status);
        req.client = non_dash(self.client);
        req.user_agent = non_dash(self.user_agent);
        Ok(req)
    }
}

fn is_dash(s: &[u8]) -> bool {
    s == b"-" || s.is_empty()
}

fn non_dash(s: Option<&[u8]>) -> Option<&[u8]> {
    s.filter(|s| !is_dash(s))
}

/// Method, target and protocol of a request line.
pub type RequestParts<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, Option<&'a [u8]>);

/// Splits `METHOD SP target [SP protocol]`.
///
/// A request line of `-` (nginx's entry for a connection closed before a
/// request arrived) and a single token (binary garbage, logged `\x16\x03…`)
/// have no target; both are valid lines that yield no key. The protocol is
/// the last token only when it looks like one, so `GET /x` (HTTP/0.9 style)
/// keeps `/x` as its target.
pub fn split_request_line(line: &[u8]) -> RequestParts<'_> {
    if is_dash(line) {
        return (None, None, None);
    }
    let Some(sp) = crate::find::find_byte(b' ', line) else {
        return (Some(line), None, None);
    };
    let method = &line[..sp];
    let rest = trim_spaces(&line[sp + 1..]);
    if rest.is_empty() {
        return (Some(method), None, None);
    }
    if let Some(last_sp) = last_space(rest) {
        let proto = &rest[last_sp + 1..];
        if proto.starts_with(b"HTTP/") {
            let target = trim_spaces(&rest[..last_sp]);
            return (
                Some(method),
                (!target.is_empty()).then_some(target),
                Some(proto),
            );
        }
    }
    (Some(method), Some(rest), None)
}

/// Position of the last space. Request lines nearly always end in
/// ` HTTP/1.1` or ` HTTP/2.0`, so that place is looked at first: it saves
/// a `memrchr` call over the whole target on every line.
#[inline]
fn last_space(s: &[u8]) -> Option<usize> {
    if let [.., b' ', b'H', b'T', b'T', b'P', b'/', major, b'.', minor] = s
        && *major != b' '
        && *minor != b' '
    {
        return Some(s.len() - 9);
    }
    memchr::memrchr(b' ', s)
}

fn trim_spaces(mut s: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' '] = s {
        s = rest;
    }
    s
}

/// Parses a plain unsigned decimal; `None` on anything else or overflow.
///
/// Nineteen digits cannot overflow a `u64`, so only a twentieth is added
/// with checks: this runs twice a line (status and bytes), and the checked
/// arithmetic on every digit showed in profiles.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (head, last) = s.split_at(s.len().min(19));
    let digit = |b: u8| {
        Some(b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
            .map(u64::from)
    };
    let mut n: u64 = 0;
    for &b in head {
        n = n * 10 + digit(b)?;
    }
    match last {
        [] => Some(n),
        [b] => n.checked_mul(10)?.checked_add(digit(*b)?),
        _ => None,
    }
}

/// Parses a latency field into microseconds.
///
/// nginx writes `-` when there was no upstream, and a list such as
/// `0.010, 0.020 : 0.005` when it tried several upstreams (`,` between
/// servers, `:` between internal redirects). The time spent on the origin is
/// the sum, which is what a warm cache saves.
fn parse_latency(raw: &[u8], unit: LatencyUnit) -> Result<Option<u64>, LineError> {
    let mut total: Option<u64> = None;
    for part in raw.split(|&b| b == b',' || b == b':') {
        let part = trim_spaces(part);
        if is_dash(part) {
            continue;
        }
        let us = parse_decimal_scaled(part, unit).ok_or(LineError("latency is not a number"))?;
        total = Some(total.unwrap_or(0).saturating_add(us));
    }
    Ok(total)
}

/// Parses `123`, `0.123` or `1.5e-3`-free decimals into microseconds
/// without going through floating point, so sums are exact.
fn parse_decimal_scaled(s: &[u8], unit: LatencyUnit) -> Option<u64> {
    let (int_part, frac_part) = match memchr::memchr(b'.', s) {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &b""[..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let int = if int_part.is_empty() {
        0
    } else {
        parse_u64(int_part)?
    };
    let frac_digits = match unit {
        LatencyUnit::Seconds => 6,
        LatencyUnit::Millis => 3,
        LatencyUnit::Micros => 0,
    };
    let mut frac: u64 = 0;
    for (i, &b) in frac_part.iter().enumerate() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // Digits beyond a microsecond are dropped (truncation, as nginx's
        // own millisecond output would be).
        if i < frac_digits {
            frac = frac * 10 + u64::from(d);
        }
    }
    let written = frac_part.len().min(frac_digits);
    frac *= 10u64.pow((frac_digits - written) as u32);
    int.checked_mul(10u64.pow(frac_digits as u32))?
        .checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_shapes() {
        assert_eq!(
            split_request_line(b"GET /a?b=1 HTTP/1.1"),
            (
                Some(&b"GET"[..]),
                Some(&b"/a?b=1"[..]),
                Some(&b"HTTP/1.1"[..])
            )
        );
        assert_eq!(
            split_request_line(b"GET /x"),
            (Some(&b"GET"[..]), Some(&b"/x"[..]), None)
        );
        assert_eq!(
            split_request_line(b"OPTIONS * HTTP/1.1"),
            (
                Some(&b"OPTIONS"[..]),
                Some(&b"*"[..]),
                Some(&b"HTTP/1.1"[..])
            )
        );
        assert_eq!(split_request_line(b"-"), (None, None, None));
        assert_eq!(
            split_request_line(br"\x16\x03\x01\x00"),
            (Some(&br"\x16\x03\x01\x00"[..]), None, None)
        );
    }

    #[test]
    fn last_space_shortcut_agrees_with_memrchr() {
        let cases: [&[u8]; 9] = [
            b"/a HTTP/1.1",
            b"/a b HTTP/2.0",
            b"/a HTTP/1. ",
            b"/a HTTP/ .1",
            b"/aHTTP/1.1",
            b" HTTP/1.1",
            b"HTTP/1.1",
            b"/a HTTP/1.1 HTTP/1.1",
            b"/a  HTTP/3.0",
        ];
        for s in cases {
            assert_eq!(
                last_space(s),
                memchr::memrchr(b' ', s),
                "{}",
                String::from_utf8_lossy(s)
            );
        }
    }

    #[test]
    fn latency_units_and_lists() {
        assert_eq!(
            parse_latency(b"0.123", LatencyUnit::Seconds),
            Ok(Some(123_000))
        );
        assert_eq!(
            parse_latency(b"1", LatencyUnit::Seconds),
            Ok(Some(1_000_000))
        );
        assert_eq!(
            parse_latency(b"0.0000019", LatencyUnit::Seconds),
            Ok(Some(1))
        );
        assert_eq!(parse_latency(b"250", LatencyUnit::Micros), Ok(Some(250)));
        assert_eq!(parse_latency(b"1.5", LatencyUnit::Millis), Ok(Some(1_500)));
        assert_eq!(parse_latency(b"-", LatencyUnit::Seconds), Ok(None));
        assert_eq!(
            parse_latency(b"0.010, 0.020 : 0.005", LatencyUnit::Seconds),
            Ok(Some(35_000))
        );
        assert_eq!(
            parse_latency(b"0.010, -", LatencyUnit::Seconds),
            Ok(Some(10_000))
        );
        assert!(parse_latency(b"abc", LatencyUnit::Seconds).is_err());
        assert!(parse_latency(b".", LatencyUnit::Seconds).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
        assert_eq!(
            parse_u64(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_u64(b"00000000000000000001"), Some(1));
        assert_eq!(parse_u64(b"1844674407370955161x"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"1 "), None);
    }

    #[test]
    fn target_joined_from_path_and_args() {
        let raw = RawFields {
            path: Some(b"/p"),
            args: Some(b"a=1"),
            ..RawFields::default()
        };
        let mut times = TimeCache::default();
        let mut join = JoinBuffer::default();
        let req = raw.to_request(&mut times, &mut join).unwrap();
        assert_eq!(req.target, Some(&b"/p?a=1"[..]));

        let raw = RawFields {
            path: Some(b"/p"),
            args: Some(b"-"),
            status: Some(b"-"),
            bytes: Some(b"-"),
            ..RawFields::default()
        };
        let mut join = JoinBuffer::default();
        let req = raw.to_request(&mut times, &mut join).unwrap();
        assert_eq!(req.target, Some(&b"/p"[..]));
        assert_eq!(req.status, None);
        assert_eq!(req.bytes, None);
    }

    #[test]
    fn bad_numbers_are_errors() {
        let mut times = TimeCache::default();
        for raw in [
            RawFields {
                status: Some(b"2x0"),
                ..RawFields::default()
            },
            RawFields {
                status: Some(b"70000"),
                ..RawFields::default()
            },
            RawFields {
                bytes: Some(b"12k"),
                ..RawFields::default()
            },
        ] {
            let mut join = JoinBuffer::default();
            assert!(raw.to_request(&mut times, &mut join).is_err());
        }
    }
}
