//! Realistic, reproducible web access logs for testing and benchmarking
//! hotkeys.
//!
//! [`generate`] writes `lines` log lines of one simulated shop site in one of
//! five [`Format`]s, and can fill a [`Truth`]: the exact number of lines per
//! `(method, status, target)`, counted while generating, so a parser and a
//! ranking can be checked against numbers that never went through a parser.
//!
//! ```
//! use hotkeys_loggen::{Config, Format, Truth, generate};
//!
//! let config = Config { lines: 1_000, keys: 200, format: Format::NginxTimed, ..Config::default() };
//! let mut log = Vec::new();
//! let mut truth = Truth::new();
//! generate(&config, &mut log, Some(&mut truth))?;
//!
//! assert_eq!(log.iter().filter(|&&b| b == b'\n').count(), 1_000);
//! assert_eq!(truth.total(), 1_000);
//! // Same configuration, same bytes.
//! let mut again = Vec::new();
//! generate(&config, &mut again, None)?;
//! assert_eq!(log, again);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # What the traffic looks like
//!
//! * **Keys.** There are `keys` distinct request targets. Each line picks a
//!   popularity rank from a Zipf distribution with exponent `zipf` (rank `r`
//!   has probability ∝ `r^-zipf`; the CDF is tabulated once and searched, so
//!   millions of keys are fine at 12 bytes per key). Ranks map to keys through
//!   a pseudo-random permutation fixed by `site_seed`, so the hottest keys are
//!   not the first ids and the same site keeps the same hot keys across runs
//!   with different `seed`s. Targets look like a shop: `/products/{slug}-{id}`,
//!   `/api/products/{id}`, `/api/products/{id}/reviews?page=2`,
//!   `/api/users/{id}/profile`, `/api/cart/{hex}/items` (POSTed to),
//!   `/search?q=…`, `/category/{name}-{id}?sort=price`, `/blog/…`,
//!   `/static/js/{chunk}.{hash}.js`, `/images/{id}.jpg`, plus `/`,
//!   `/robots.txt`, `/login` and a few scanner probes (`/.env`) kept in the
//!   unpopular half. Targets never contain spaces, quotes or control bytes.
//! * **Methods.** GET; HEAD for 1.2% of ordinary requests and most of the
//!   uptime monitor's (about 1.5% overall); POST for 85% of the requests to
//!   write endpoints.
//! * **Statuses.** Mostly 200; 304 for a share of conditional requests to
//!   cacheable resources (up to 22% for scripts, 0 bytes); 302 for some page
//!   views (60% of `/account`); 301 on every request for 2% of pages
//!   (moved) and 404 for 1% of products and images (deleted), all outside
//!   the top 1% of ranks (a popular broken link gets fixed); 404 for the
//!   probes, plus 0.2–0.4% random 404s; 500/502/503 at 0.15/0.10/0.08%
//!   (three times that for search).
//! * **Sizes.** Stable per key: log-normal around a median for the kind of
//!   resource (2 KB API answers, 40 KB pages, 95 KB scripts, 85 KB photos).
//!   HEAD and 304 send 0 bytes; redirects and errors send small fixed bodies.
//! * **Latency.** A reverse proxy with a cache sits in front of an
//!   application. Cacheable keys are answered from cache (`HIT`) with a
//!   probability per kind (97% of scripts, 5% of searches); misses (`MISS`,
//!   `EXPIRED`) and private responses (`BYPASS`; POSTs: `-`) take the key's
//!   base origin latency (log-normal across keys; about 4% of application
//!   keys are 4–12× slower) times log-normal jitter per request.
//!   `$request_time` adds proxy overhead and transfer time, so it is always
//!   at least `$upstream_response_time`, which is `-` for cache hits.
//! * **Time.** Line `i` of `n` sits at quantile `(i + U)/n` of the rate
//!   curve over `[start, start + duration)`, so times never decrease. With
//!   `diurnal`, the rate follows local time of day (`tz_offset_secs`): a
//!   trough at 03:00–05:00 around a fifth of the 14:00–16:00 peak.
//! * **Clients.** A pool of clients (about one per five lines) where a few
//!   send much of the traffic. Each has one user agent (desktop and mobile
//!   browsers, Googlebot and bingbot from their published ranges, other
//!   crawlers, curl, python-requests, an uptime monitor), an IPv4 address or
//!   for 12% of browsers an IPv6 one, and a protocol (browsers mostly
//!   HTTP/2.0, some HTTP/3.0). Browsers send referers: another page of the
//!   site, a search engine, or none; robots and tools send `-`.
//!   `remote_user` is always `-`.
//!
//! # Determinism
//!
//! The output is a pure function of the [`Config`]: same configuration, same
//! bytes, on every platform, for good. The crate uses its own xoshiro256**
//! PRNG and evaluates `ln`/`exp` with basic IEEE arithmetic only, never
//! `rand` or the platform's libm. The random draws do not depend on the
//! format, so one seed yields the same requests (and the same [`Truth`]) in
//! every format.

#![forbid(unsafe_code)]

mod clients;
mod clock;
mod math;
mod site;
mod truth;
mod write;
mod zipf;

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

pub use clock::{parse_rfc3339, parse_tz_offset};
pub use truth::Truth;

use clients::{AgentKind, Clients, referer_is_internal, render_referer};
use clock::{Schedule, TimeText};
use math::{Rng, hash2};
use site::Site;
use write::{Line, write_line};
use zipf::Zipf;

/// The largest supported key space. The popularity tables take 12 bytes per
/// key (1.2 GB at this limit).
pub const MAX_KEYS: u64 = 100_000_000;

/// A log line layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// NCSA combined, nginx's default `combined`:
    /// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`.
    #[default]
    Combined,
    /// NCSA common: `combined` without referer and user agent.
    Common,
    /// `combined` followed by ` $request_time $upstream_response_time`
    /// (seconds with three decimals; upstream `-` on cache hits).
    NginxTimed,
    /// One JSON object per line, as nginx writes with `escape=json`: keys
    /// `time_iso8601`, `remote_addr`, `request`, `status` (number),
    /// `body_bytes_sent` (number), `request_time`, `upstream_response_time`,
    /// `upstream_cache_status`, `http_user_agent`, `host`.
    NginxJson,
    /// Caddy v2's structured access log (`http.log.access`), one JSON
    /// object per line with `ts` in Unix seconds and `request.uri`.
    Caddy,
}

impl Format {
    /// Every format, in the order of their names in [`Format::NAMES`].
    pub const ALL: [Format; 5] = [
        Format::Combined,
        Format::Common,
        Format::NginxTimed,
        Format::NginxJson,
        Format::Caddy,
    ];

    /// The names [`Format::from_str`] accepts.
    pub const NAMES: [&'static str; 5] =
        ["combined", "common", "nginx-timed", "nginx-json", "caddy"];

    /// The format's name, e.g. `nginx-timed`.
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|&f| f == self).expect("listed")]
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::NAMES
            .iter()
            .position(|&n| n == s)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| {
                Error::new(format!(
                    "unknown format {s:?} (expected one of: {})",
                    Self::NAMES.join(", ")
                ))
            })
    }
}

/// An invalid configuration or option value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Number of lines.
    pub lines: u64,
    /// Number of distinct request targets, `1..=MAX_KEYS`.
    pub keys: u64,
    /// Zipf exponent of key popularity (`0` is uniform; real sites are
    /// around `0.8..1.2`).
    pub zipf: f64,
    /// Seed of the traffic: which requests, clients and times.
    pub seed: u64,
    /// Seed of the site: its URLs, their sizes and latencies, and which keys
    /// are popular. Keep it fixed to make several logs of one site.
    pub site_seed: u64,
    /// Output layout.
    pub format: Format,
    /// Start of the time window, Unix seconds.
    pub start_unix: i64,
    /// Length of the time window in seconds (at least 1).
    pub duration_secs: u64,
    /// Follow a day/night rate curve instead of a flat rate.
    pub diurnal: bool,
    /// UTC offset of the server's local time, seconds east: the offset
    /// written in `$time_local`/`$time_iso8601` and the clock the diurnal
    /// curve follows.
    pub tz_offset_secs: i32,
    /// The site's host name (`host` fields and internal referers).
    pub host: String,
}

impl Default for Config {
    /// 10 000 combined lines over 1 000 keys, Zipf 1.0, seeds 1, during
    /// 2024-05-01 (UTC) with a diurnal curve, host `shop.example.com`.
    fn default() -> Self {
        Config {
            lines: 10_000,
            keys: 1_000,
            zipf: 1.0,
            seed: 1,
            site_seed: 1,
            format: Format::Combined,
            start_unix: 1_714_521_600, // 2024-05-01T00:00:00Z
            duration_secs: 86_400,
            diurnal: true,
            tz_offset_secs: 0,
            host: "shop.example.com".to_owned(),
        }
    }
}

/// 9999-12-31T23:59:59: four-digit years only.
const LAST_WRITABLE_SECOND: i64 = 253_402_300_799;

impl Config {
    /// Checks the values [`Generator::new`] needs.
    pub fn validate(&self) -> Result<(), Error> {
        if self.keys == 0 || self.keys > MAX_KEYS {
            return Err(Error::new(format!(
                "keys must be between 1 and {MAX_KEYS}, got {}",
                self.keys
            )));
        }
        if !self.zipf.is_finite() || self.zipf < 0.0 {
            return Err(Error::new(format!(
                "zipf exponent must be a finite number >= 0, got {}",
                self.zipf
            )));
        }
        if self.duration_secs == 0 {
            return Err(Error::new("duration must be at least one second"));
        }
        if self.tz_offset_secs.unsigned_abs() >= 86_400 {
            return Err(Error::new("UTC offset must be less than 24 hours"));
        }
        let offset = i64::from(self.tz_offset_secs);
        let end = i64::try_from(self.duration_secs)
            .ok()
            .and_then(|d| self.start_unix.checked_add(d))
            .and_then(|e| e.checked_add(offset));
        if self.start_unix.saturating_add(offset) < 0
            || end.is_none_or(|e| e > LAST_WRITABLE_SECOND + 1)
        {
            return Err(Error::new("the time window must lie between 1970 and 9999"));
        }
        if self.host.is_empty()
            || !self
                .host
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return Err(Error::new(format!("invalid host {:?}", self.host)));
        }
        Ok(())
    }
}

/// A prepared generator: validates a [`Config`] and builds its popularity
/// tables once, so it can write the same log repeatedly or answer questions
/// about the key space.
#[derive(Clone, Debug)]
pub struct Generator {
    config: Config,
    site: Site,
    zipf: Zipf,
    schedule: Schedule,
    /// Ranks below this are never permanently redirected or missing.
    well_kept: u64,
}

// Salts separating the random streams derived from `seed`.
const SALT_TRAFFIC: u64 = 101;
const SALT_CLIENTS: u64 = 102;

/// Output is handed to the writer in chunks of about this size, so callers
/// need no `BufWriter`.
const CHUNK: usize = 64 * 1024;

const GET: &str = "GET";
const HEAD: &str = "HEAD";
const POST: &str = "POST";

impl Generator {
    /// Validates `config` and precomputes its tables (about 100 ms and
    /// 60 MB for 5M keys).
    pub fn new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        Ok(Generator {
            site: Site::new(config.keys, config.site_seed),
            zipf: Zipf::new(config.keys, config.zipf),
            schedule: Schedule::new(
                config.start_unix,
                config.duration_secs,
                config.diurnal,
                config.tz_offset_secs,
            ),
            well_kept: 20 + config.keys / 100,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The target of popularity rank `rank` (1 = most popular), or `None`
    /// outside `1..=keys`.
    pub fn target_of_rank(&self, rank: u64) -> Option<Vec<u8>> {
        if rank == 0 || rank > self.zipf.len() {
            return None;
        }
        let mut out = Vec::new();
        let key = self.site.info(self.site.key_of_rank(rank - 1));
        self.site.render_target(&key, &mut out);
        Some(out)
    }

    /// The probability that a line requests rank `rank` (1 = most popular),
    /// or `None` outside `1..=keys`.
    pub fn share_of_rank(&self, rank: u64) -> Option<f64> {
        (rank >= 1 && rank <= self.zipf.len()).then(|| self.zipf.share(rank - 1))
    }

    /// Writes the log to `out` (in large chunks) and, when given, adds what
    /// was written to `truth`.
    pub fn write(&self, mut out: impl Write, truth: Option<&mut Truth>) -> io::Result<()> {
        let c = &self.config;
        let host = c.host.as_bytes();
        let mut rng = Rng::new(hash2(SALT_TRAFFIC, c.seed));
        let clients = Clients::new(hash2(SALT_CLIENTS, c.seed), c.lines);
        let mut time = TimeText::new(c.tz_offset_secs);
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        let mut target = Vec::with_capacity(256);
        let mut addr = Vec::with_capacity(64);
        let mut referer = Vec::with_capacity(256);
        let mut page = Vec::with_capacity(256);
        // (key id, method, status) packed into one integer; targets are
        // rendered once per distinct entry at the end.
        let mut counts: Option<HashMap<u64, u64, MixState>> =
            truth.as_ref().map(|_| HashMap::default());
        let mut cursor = 0;
        let mut last_time = i64::MIN;

        for i in 0..c.lines {
            // Every draw happens on every line whatever the format, so the
            // format never changes which requests are made.
            let quantile = (i as f64 + rng.f64()) / c.lines as f64;
            let time_us = self.schedule.at(quantile, &mut cursor).max(last_time);
            last_time = time_us;
            let rank = self.zipf.sample(&mut rng);
            let key = self.site.info(self.site.key_of_rank(rank));
            let client = clients.pick(&mut rng);
            let came_from = rng.f64();
            let r_referer = rng.f64();
            let r_method = rng.f64();
            let r_status = rng.f64();
            let r_cache = rng.f64();
            let jitter = rng.lognormal(key.class.latency_sigma);
            let remote_port = 32_768 + rng.below(28_232) as u16;
            let extra_ns = rng.below(1000);
            let body_read = 60 + rng.below(900);

            let method = if key.class.writes {
                if r_method < 0.85 { POST } else { GET }
            } else if client.kind == AgentKind::Monitor {
                if r_method < 0.7 { HEAD } else { GET }
            } else if r_method < 0.012 {
                HEAD
            } else {
                GET
            };
            let status = pick_status(&key, rank < self.well_kept, method, r_status);

            let body_bytes = if method == HEAD || status == 304 {
                0
            } else {
                match (status, key.class.json) {
                    (200, _) => key.size,
                    (301, _) => 162,
                    (302, _) => 138,
                    (404, true) => 27,
                    (404, false) => 153,
                    (500, true) => 35,
                    (500, false) => 177,
                    (503, true) => 38,
                    (503, false) => 197,
                    _ => 157,
                }
            };

            let (cache_status, hit) = match key.class.hit {
                _ if method == POST => ("-", false),
                None => ("BYPASS", false),
                Some(p) if status < 400 && r_cache < p => ("HIT", true),
                Some(p) if status < 400 && r_cache < p + (1.0 - p) * 0.15 => ("EXPIRED", false),
                Some(_) => ("MISS", false),
            };
            // Microseconds to send the body at about 25 MB/s.
            let transfer = body_bytes as f64 / 25.0;
            let (request_us, upstream_us) = if hit {
                (((120.0 + transfer) * jitter) as u64, None)
            } else {
                let origin = match status {
                    502 => 400.0 * jitter,
                    503 => 900.0 * jitter,
                    301 | 302 | 404 => key.latency_us * 0.3 * jitter,
                    304 => key.latency_us * 0.6 * jitter,
                    _ => key.latency_us * jitter,
                };
                // The proxy's overhead is added to the float before
                // truncating, so the request time is never below upstream.
                ((origin + 150.0 + transfer) as u64, Some(origin as u64))
            };

            time.set(time_us);
            target.clear();
            self.site.render_target(&key, &mut target);
            addr.clear();
            clients.render_addr(&client, &mut addr);
            page.clear();
            if referer_is_internal(client.kind, r_referer) {
                let from = self
                    .site
                    .info(self.site.key_of_rank(self.zipf.rank_at(came_from)));
                if from.class.content_type.starts_with("text/html") {
                    self.site.render_target(&from, &mut page);
                } else {
                    page.push(b'/');
                }
            }
            referer.clear();
            render_referer(client.kind, r_referer, host, &page, &mut referer);

            let line = Line {
                time_us,
                time: &time,
                remote_addr: &addr,
                remote_port,
                method,
                target: &target,
                protocol: client.protocol,
                status,
                body_bytes,
                bytes_read: if method == POST { body_read } else { 0 },
                referer: &referer,
                user_agent: client.user_agent,
                request_us,
                upstream_us,
                cache_status,
                content_type: key.class.content_type,
                duration_ns: request_us * 1000 + extra_ns,
                host,
            };
            write_line(c.format, &mut buf, &line);
            if buf.len() >= CHUNK {
                out.write_all(&buf)?;
                buf.clear();
            }

            if let Some(counts) = counts.as_mut() {
                let m = match method {
                    GET => 0,
                    HEAD => 1,
                    _ => 2,
                };
                *counts
                    .entry(key.id << 24 | m << 16 | u64::from(status))
                    .or_insert(0) += 1;
            }
        }
        out.write_all(&buf)?;
        out.flush()?;

        if let (Some(truth), Some(counts)) = (truth, counts) {
            for (packed, n) in counts {
                let key = self.site.info(packed >> 24);
                let method = [GET, HEAD, POST][(packed >> 16 & 0xff) as usize];
                target.clear();
                self.site.render_target(&key, &mut target);
                truth.add(method, packed as u16, &target, n);
            }
        }
        Ok(())
    }
}

/// Hashes the packed truth counters with one [`math::mix64`]: they are
/// trusted integers, so SipHash's flood resistance would only cost time.
#[derive(Clone, Copy, Default)]
struct MixState;

#[derive(Default)]
struct MixHasher(u64);

impl std::hash::BuildHasher for MixState {
    type Hasher = MixHasher;

    fn build_hasher(&self) -> MixHasher {
        MixHasher(0)
    }
}

impl std::hash::Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = math::mix64(self.0 ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = math::mix64(self.0 ^ n);
    }
}

/// The status of one request: the key's permanent status if it has one,
/// else server errors, then client-side outcomes, then 200.
///
/// `well_kept` keys (the most popular ones) are never moved or deleted: a
/// broken link that hot gets fixed. Scanner probes stay 404 regardless.
fn pick_status(key: &site::KeyInfo, well_kept: bool, method: &str, r: f64) -> u16 {
    if let Some(status) = key.forced_status
        && (!well_kept || key.class.always_404)
    {
        return status;
    }
    let class = key.class;
    let e = class.error_factor;
    let mut edge = 0.0;
    for (status, p) in [(500, 0.0015 * e), (502, 0.0010 * e), (503, 0.0008 * e)] {
        edge += p;
        if r < edge {
            return status;
        }
    }
    if method == POST {
        return 200;
    }
    for (status, p) in [(404, class.p404), (302, class.p302), (304, class.p304)] {
        edge += p;
        if r < edge {
            return status;
        }
    }
    200
}

/// Writes the log `config` describes to `out` and, when given, adds its
/// ground truth to `truth`. Invalid configurations are reported as
/// [`io::ErrorKind::InvalidInput`].
pub fn generate(config: &Config, out: impl Write, truth: Option<&mut Truth>) -> io::Result<()> {
    Generator::new(config.clone())?.write(out, truth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn run(config: &Config) -> (String, Truth) {
        let mut out = Vec::new();
        let mut truth = Truth::new();
        generate(config, &mut out, Some(&mut truth)).unwrap();
        (String::from_utf8(out).unwrap(), truth)
    }

    fn small(format: Format) -> Config {
        Config {
            lines: 5_000,
            keys: 500,
            format,
            ..Config::default()
        }
    }

    /// `dd/Mon/yyyy:HH:MM:SS +0000` to Unix seconds (UTC offsets only).
    fn clf_seconds(s: &str) -> i64 {
        assert_eq!(s.len(), 26, "{s}");
        assert!(s.ends_with(" +0000"), "{s}");
        let month = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .position(|&m| m == &s[3..6])
        .unwrap() as u32
            + 1;
        let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
        clock::days_from_civil(n(7..11), month, n(0..2) as u32) * 86_400
            + n(12..14) * 3600
            + n(15..17) * 60
            + n(18..20)
    }

    /// A combined/common/nginx-timed line cut at its quotes.
    struct Clf<'a> {
        addr: &'a str,
        time: &'a str,
        method: &'a str,
        target: &'a str,
        protocol: &'a str,
        status: u16,
        bytes: u64,
        referer: Option<&'a str>,
        agent: Option<&'a str>,
        rest: &'a str,
    }

    fn parse_clf(line: &str) -> Clf<'_> {
        let parts: Vec<&str> = line.split('"').collect();
        let head: Vec<&str> = parts[0].split(' ').collect();
        assert_eq!(head.len(), 6, "{line}");
        assert_eq!((head[1], head[2]), ("-", "-"), "{line}");
        let time = &parts[0][head[0].len() + 6..parts[0].len() - 2];
        assert!(parts[0].ends_with("] "), "{line}");
        let request: Vec<&str> = parts[1].split(' ').collect();
        assert_eq!(request.len(), 3, "{line}");
        let mid: Vec<&str> = parts[2].trim().split(' ').collect();
        assert_eq!(mid.len(), 2, "{line}");
        let (referer, agent, rest) = if parts.len() == 3 {
            (None, None, "")
        } else {
            assert_eq!(parts.len(), 7, "{line}");
            assert_eq!(parts[4], " ", "{line}");
            (Some(parts[3]), Some(parts[5]), parts[6])
        };
        Clf {
            addr: head[0],
            time,
            method: request[0],
            target: request[1],
            protocol: request[2],
            status: mid[0].parse().unwrap(),
            bytes: mid[1].parse().unwrap(),
            referer,
            agent,
            rest,
        }
    }

    fn millis(s: &str) -> u64 {
        let (a, b) = s.split_once('.').unwrap();
        assert_eq!(b.len(), 3, "{s}");
        a.parse::<u64>().unwrap() * 1000 + b.parse::<u64>().unwrap()
    }

    #[test]
    fn same_config_same_bytes_other_seed_other_bytes() {
        for format in Format::ALL {
            let config = small(format);
            let (a, _) = run(&config);
            let (b, _) = run(&config);
            assert_eq!(a, b, "{format}");
            let (c, _) = run(&Config {
                seed: 2,
                ..config.clone()
            });
            assert_ne!(a, c, "{format}");
        }
    }

    #[test]
    fn output_is_pinned() {
        // Guards "byte-identical forever": any change to the generator that
        // alters output must be deliberate and change these constants.
        let (text, _) = run(&Config {
            lines: 2_000,
            ..Config::default()
        });
        let fnv = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        assert_eq!(text.lines().next().unwrap(), PINNED_FIRST_LINE);
        assert_eq!(fnv, PINNED_FNV, "{fnv:#x}");
    }

    const PINNED_FIRST_LINE: &str = "88.222.117.30 - - [01/May/2024:00:00:37 +0000] \"GET /images/products/10548/800x800.webp HTTP/1.1\" 200 85164 \"-\" \"Wget/1.21.4\"";
    const PINNED_FNV: u64 = 0x3d3b_380f_487e_05c2;

    #[test]
    fn line_count_is_exact() {
        for lines in [0, 1, 2, 999, 20_001] {
            for format in Format::ALL {
                let (text, truth) = run(&Config {
                    lines,
                    ..small(format)
                });
                assert_eq!(text.lines().count() as u64, lines, "{format}");
                assert_eq!(text.bytes().filter(|&b| b == b'\n').count() as u64, lines);
                assert_eq!(truth.total(), lines);
            }
        }
    }

    #[test]
    fn truth_matches_the_lines_and_ignores_the_format() {
        let config = Config {
            lines: 20_000,
            ..small(Format::Combined)
        };
        let (text, truth) = run(&config);
        let mut counted = Truth::new();
        for line in text.lines() {
            let l = parse_clf(line);
            counted.add(l.method, l.status, l.target.as_bytes(), 1);
        }
        assert_eq!(counted, truth);
        assert_eq!(truth.counts().values().sum::<u64>(), 20_000);
        for format in Format::ALL {
            assert_eq!(
                run(&Config {
                    format,
                    ..config.clone()
                })
                .1,
                truth,
                "{format}"
            );
        }
    }

    #[test]
    fn popularity_follows_zipf() {
        let config = Config {
            lines: 200_000,
            keys: 1_000,
            zipf: 1.0,
            seed: 11,
            ..Config::default()
        };
        let generator = Generator::new(config.clone()).unwrap();
        let mut truth = Truth::new();
        generator.write(io::sink(), Some(&mut truth)).unwrap();
        let per_target = truth.counts_for(|_, _| true);
        let count = |rank: u64| {
            per_target
                .get(&generator.target_of_rank(rank).unwrap())
                .copied()
                .unwrap_or(0)
        };
        let h1000: f64 = (1..=1000).map(|k| 1.0 / f64::from(k)).sum();
        let share = count(1) as f64 / 200_000.0;
        assert!((share - 1.0 / h1000).abs() < 0.005, "rank-1 share {share}");
        assert!((generator.share_of_rank(1).unwrap() - 1.0 / h1000).abs() < 1e-12);
        for rank in 2..=10 {
            assert!(count(rank) < count(rank - 1), "rank {rank}");
        }
        // The hottest keys are not simply the first ids.
        assert_ne!(generator.target_of_rank(1).unwrap(), b"/");
        assert_eq!(generator.target_of_rank(0), None);
        assert_eq!(generator.target_of_rank(1001), None);
        // A new traffic seed keeps the site's hot keys.
        let other = Generator::new(Config { seed: 99, ..config }).unwrap();
        assert_eq!(other.target_of_rank(1), generator.target_of_rank(1));
    }

    #[test]
    fn targets_are_distinct() {
        let generator = Generator::new(Config {
            keys: 100_000,
            ..Config::default()
        })
        .unwrap();
        let mut seen = HashSet::new();
        for rank in 1..=100_000 {
            let t = generator.target_of_rank(rank).unwrap();
            assert!(t.iter().all(|&b| b.is_ascii_graphic() && b != b'"'));
            assert!(seen.insert(t));
        }
    }

    #[test]
    fn times_are_sorted_and_inside_the_window() {
        let config = Config {
            lines: 30_000,
            duration_secs: 6 * 3600,
            ..small(Format::Combined)
        };
        let (text, _) = run(&config);
        let mut last = config.start_unix;
        for line in text.lines() {
            let t = clf_seconds(parse_clf(line).time);
            assert!(t >= last, "{line}");
            last = t;
        }
        assert!(last < config.start_unix + 6 * 3600);

        // Caddy's microsecond stamps too, over a flat window.
        let config = Config {
            format: Format::Caddy,
            diurnal: false,
            duration_secs: 60,
            ..config
        };
        let (text, _) = run(&config);
        let mut last = 0.0;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let ts = v["ts"].as_f64().unwrap();
            assert!(
                ts >= last
                    && ts >= config.start_unix as f64
                    && ts < (config.start_unix + 60) as f64
            );
            last = ts;
        }
    }

    #[test]
    fn combined_common_and_timed_lines_have_their_fields() {
        let (combined, _) = run(&small(Format::Combined));
        let (common, _) = run(&small(Format::Common));
        let (timed, _) = run(&small(Format::NginxTimed));
        let mut hits = 0;
        for ((c, m), t) in combined.lines().zip(common.lines()).zip(timed.lines()) {
            let l = parse_clf(c);
            assert!(l.addr.parse::<std::net::IpAddr>().is_ok(), "{c}");
            clf_seconds(l.time);
            assert!(["GET", "HEAD", "POST"].contains(&l.method));
            assert!(l.target.starts_with('/'));
            assert!(l.protocol.starts_with("HTTP/"));
            assert!((200..600).contains(&l.status));
            if l.method == "HEAD" || l.status == 304 {
                assert_eq!(l.bytes, 0, "{c}");
            }
            let referer = l.referer.unwrap();
            assert!(referer == "-" || referer.starts_with("https://"), "{c}");
            assert!(!l.agent.unwrap().is_empty());
            assert_eq!(l.rest, "");
            // `common` is the first seven fields of `combined`.
            assert!(c.starts_with(m) && c[m.len()..].starts_with(" \""), "{m}");
            assert!(parse_clf(m).referer.is_none());
            // `nginx-timed` is `combined` plus two times.
            let extra = t.strip_prefix(c).unwrap();
            let (request, upstream) = extra.trim_start().split_once(' ').unwrap();
            let request = millis(request);
            if upstream == "-" {
                hits += 1;
            } else {
                assert!(millis(upstream) <= request, "{t}");
            }
        }
        assert!(hits > 500 && hits < 4500, "{hits} cache hits");
    }

    #[test]
    fn nginx_json_lines_parse() {
        let (text, _) = run(&small(Format::NginxJson));
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let o = v.as_object().unwrap();
            let keys: Vec<&str> = o.keys().map(String::as_str).collect();
            let mut want = vec![
                "time_iso8601",
                "remote_addr",
                "request",
                "status",
                "body_bytes_sent",
                "request_time",
                "upstream_response_time",
                "upstream_cache_status",
                "http_user_agent",
                "host",
            ];
            want.sort_unstable();
            let mut keys = keys.clone();
            keys.sort_unstable();
            assert_eq!(keys, want);
            let time = o["time_iso8601"].as_str().unwrap();
            assert_eq!(parse_rfc3339(time).unwrap() / 86_400, 19_844, "{time}");
            assert!(time.ends_with("+00:00"));
            assert!(o["status"].is_u64() && o["body_bytes_sent"].is_u64());
            assert_eq!(o["request"].as_str().unwrap().split(' ').count(), 3);
            let request = millis(o["request_time"].as_str().unwrap());
            let cache = o["upstream_cache_status"].as_str().unwrap();
            match o["upstream_response_time"].as_str().unwrap() {
                "-" => assert_eq!(cache, "HIT"),
                up => assert!(millis(up) <= request && cache != "HIT"),
            }
            assert!(["HIT", "MISS", "EXPIRED", "BYPASS", "-"].contains(&cache));
            assert_eq!(o["host"], "shop.example.com");
        }
    }

    #[test]
    fn caddy_lines_parse() {
        let (text, _) = run(&small(Format::Caddy));
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["level"], "info");
            assert_eq!(v["logger"], "http.log.access");
            assert_eq!(v["msg"], "handled request");
            assert!(v["ts"].is_f64() || v["ts"].is_u64());
            let r = &v["request"];
            assert!(
                r["remote_ip"]
                    .as_str()
                    .unwrap()
                    .parse::<std::net::IpAddr>()
                    .is_ok()
            );
            assert!(r["remote_port"].as_str().unwrap().parse::<u16>().is_ok());
            assert!(r["proto"].as_str().unwrap().starts_with("HTTP/"));
            assert!(r["uri"].as_str().unwrap().starts_with('/'));
            assert_eq!(r["host"], "shop.example.com");
            assert_eq!(r["headers"]["User-Agent"].as_array().unwrap().len(), 1);
            assert!(v["duration"].as_f64().unwrap() >= 0.0);
            assert!(v["size"].is_u64() && v["status"].is_u64() && v["bytes_read"].is_u64());
            assert_eq!(v["user_id"], "");
            assert!(v["resp_headers"]["Content-Type"][0].is_string());
            if r["method"] == "POST" {
                assert!(v["bytes_read"].as_u64().unwrap() > 0);
            }
        }
    }

    #[test]
    fn statuses_methods_and_clients_look_real() {
        let (text, truth) = run(&Config {
            lines: 100_000,
            keys: 5_000,
            ..Config::default()
        });
        let share = |keep: &dyn Fn(&str, u16) -> bool| -> f64 {
            truth
                .counts()
                .iter()
                .filter(|((m, s, _), _)| keep(m, *s))
                .map(|(_, n)| *n)
                .sum::<u64>() as f64
                / truth.total() as f64
        };
        let ok = share(&|_, s| s == 200);
        assert!(ok > 0.75 && ok < 0.95, "200: {ok}");
        let not_modified = share(&|_, s| s == 304);
        assert!(
            not_modified > 0.02 && not_modified < 0.15,
            "304: {not_modified}"
        );
        for status in [301, 302, 404, 500, 502, 503] {
            let s = share(&|_, s| s == status);
            assert!(s > 0.0002 && s < 0.05, "{status}: {s}");
        }
        let get = share(&|m, _| m == "GET");
        assert!(get > 0.9, "GET {get}");
        assert!(share(&|m, _| m == "HEAD") > 0.003);
        assert!(share(&|m, _| m == "POST") > 0.003);

        let mut v6 = 0;
        let mut agents = HashSet::new();
        let mut referers = 0;
        for line in text.lines() {
            let l = parse_clf(line);
            v6 += usize::from(l.addr.contains(':'));
            agents.insert(l.agent.unwrap());
            referers += usize::from(l.referer.unwrap() != "-");
        }
        assert!(v6 > 2_000 && v6 < 15_000, "{v6} IPv6 lines");
        assert!(agents.len() >= 15);
        assert!(agents.iter().any(|a| a.contains("Googlebot")) && agents.contains("curl/8.5.0"));
        assert!(referers > 20_000 && referers < 80_000, "{referers}");
    }

    #[test]
    fn diurnal_and_offset() {
        let (text, _) = run(&Config {
            lines: 24_000,
            ..Config::default()
        });
        let mut per_hour = [0u32; 24];
        for line in text.lines() {
            let t = clf_seconds(parse_clf(line).time);
            per_hour[((t - 1_714_521_600) / 3600) as usize] += 1;
        }
        assert!(per_hour[15] > 3 * per_hour[4], "{per_hour:?}");

        let (flat, _) = run(&Config {
            lines: 24_000,
            diurnal: false,
            ..Config::default()
        });
        let night = flat
            .lines()
            .filter(|l| parse_clf(l).time.starts_with("01/May/2024:04"))
            .count();
        assert!((800..1200).contains(&night), "{night}");

        let (shifted, _) = run(&Config {
            lines: 10,
            tz_offset_secs: 2 * 3600,
            format: Format::NginxJson,
            ..Config::default()
        });
        assert!(shifted.contains("+02:00\""));
        let (shifted, _) = run(&Config {
            lines: 1000,
            tz_offset_secs: -3600,
            ..Config::default()
        });
        assert!(
            shifted.lines().next().unwrap().contains("[30/Apr/2024:23:"),
            "{shifted}"
        );
    }

    #[test]
    fn bad_configs_are_rejected() {
        let bad = [
            Config {
                keys: 0,
                ..Config::default()
            },
            Config {
                keys: MAX_KEYS + 1,
                ..Config::default()
            },
            Config {
                zipf: -1.0,
                ..Config::default()
            },
            Config {
                zipf: f64::NAN,
                ..Config::default()
            },
            Config {
                duration_secs: 0,
                ..Config::default()
            },
            Config {
                start_unix: -10,
                ..Config::default()
            },
            Config {
                start_unix: LAST_WRITABLE_SECOND,
                ..Config::default()
            },
            Config {
                tz_offset_secs: 86_400,
                ..Config::default()
            },
            Config {
                host: "a b".into(),
                ..Config::default()
            },
        ];
        for config in bad {
            let err = generate(&config, io::sink(), None).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{config:?}");
        }
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn format_names() {
        for (format, name) in Format::ALL.iter().zip(Format::NAMES) {
            assert_eq!(format.name(), name);
            assert_eq!(name.parse::<Format>().unwrap(), *format);
            assert_eq!(format.to_string(), name);
        }
        assert!(
            "apache"
                .parse::<Format>()
                .unwrap_err()
                .to_string()
                .contains("nginx-json")
        );
    }
}
