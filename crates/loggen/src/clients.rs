//! Who sends the requests: addresses, user agents, protocols.
//!
//! A run has a pool of clients whose attributes are a pure function of the
//! traffic seed and the client index. A few clients send much of the traffic
//! (index drawn as `⌊pool·u²⌋`), like real logs where a crawler or an office
//! NAT dominates.

use crate::math::{Rng, hash2, unit};
use crate::write::{push_hex_group, push_u64};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AgentKind {
    Browser,
    Googlebot,
    Bingbot,
    Bot,
    Tool,
    Monitor,
}

/// A user agent string with its relative weight among clients.
struct Agent {
    ua: &'static str,
    weight: u32,
    kind: AgentKind,
}

const fn agent(ua: &'static str, weight: u32, kind: AgentKind) -> Agent {
    Agent { ua, weight, kind }
}

use AgentKind::{Bingbot, Bot, Browser, Googlebot, Monitor, Tool};

static AGENTS: &[Agent] = &[
    agent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        220,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        90,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
        70,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        50,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        20,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
        60,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
        140,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        120,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        30,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        20,
        Browser,
    ),
    agent(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        40,
        Googlebot,
    ),
    agent(
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
        20,
        Bingbot,
    ),
    agent(
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        10,
        Bot,
    ),
    agent(
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        10,
        Bot,
    ),
    agent(
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        10,
        Bot,
    ),
    agent("curl/8.5.0", 20, Tool),
    agent("python-requests/2.31.0", 20, Tool),
    agent("Go-http-client/1.1", 10, Tool),
    agent("Wget/1.21.4", 5, Tool),
    agent(
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        10,
        Monitor,
    ),
];

/// First octets of public IPv4 space that real access logs are full of
/// (private, loopback, multicast and reserved blocks left out).
const IPV4_FIRST: [u8; 48] = [
    2, 5, 23, 24, 31, 37, 45, 46, 47, 49, 50, 62, 66, 67, 68, 71, 73, 77, 78, 79, 80, 81, 82, 83,
    84, 85, 86, 88, 89, 90, 91, 92, 93, 94, 95, 98, 103, 104, 107, 109, 151, 176, 178, 185, 188,
    193, 195, 212,
];

/// Residential and mobile IPv6 prefixes (first two groups).
const IPV6_PREFIX: [(u16, u16); 6] = [
    (0x2a01, 0xcb00),
    (0x2a02, 0x8108),
    (0x2600, 0x1700),
    (0x2001, 0x0b07),
    (0x2a00, 0x23c5),
    (0x2603, 0x8000),
];

/// External referers of landing requests.
const EXTERNAL_REFERERS: [&str; 6] = [
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://www.facebook.com/",
    "https://t.co/",
];

const SALT_AGENT: u64 = 11;
const SALT_ADDRESS: u64 = 12;
const SALT_PROTOCOL: u64 = 13;

/// One client of the pool.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Client {
    hash: u64,
    pub kind: AgentKind,
    pub user_agent: &'static str,
    /// As written in the request line and in Caddy's `proto`.
    pub protocol: &'static str,
}

/// The client pool of one run.
pub(crate) struct Clients {
    seed: u64,
    size: u64,
    total_weight: u64,
}

impl Clients {
    pub(crate) fn new(seed: u64, lines: u64) -> Self {
        Clients {
            seed,
            // Enough distinct clients for the volume, like a site whose
            // visitors each make a handful of requests.
            size: (lines / 5).clamp(50, 5_000_000),
            total_weight: AGENTS.iter().map(|a| u64::from(a.weight)).sum(),
        }
    }

    pub(crate) fn pick(&self, rng: &mut Rng) -> Client {
        let u = rng.f64();
        let index = (self.size as f64 * u * u) as u64;
        let hash = hash2(self.seed, index);
        let mut pick = hash2(SALT_AGENT, hash) % self.total_weight;
        let mut chosen = &AGENTS[0];
        for a in AGENTS {
            if pick < u64::from(a.weight) {
                chosen = a;
                break;
            }
            pick -= u64::from(a.weight);
        }
        let p = unit(hash2(SALT_PROTOCOL, hash));
        let protocol = match chosen.kind {
            Browser if p < 0.60 => "HTTP/2.0",
            Browser if p < 0.75 => "HTTP/3.0",
            _ => "HTTP/1.1",
        };
        Client {
            hash,
            kind: chosen.kind,
            user_agent: chosen.ua,
            protocol,
        }
    }

    /// Appends the client's address (IPv4, or IPv6 for some browsers).
    pub(crate) fn render_addr(&self, client: &Client, out: &mut Vec<u8>) {
        let h = hash2(SALT_ADDRESS, client.hash);
        let octets: [u8; 4] = match client.kind {
            // Crawlers come from their operators' published ranges.
            Googlebot => [66, 249, 64 + (h % 16) as u8, 1 + (h >> 8) as u8 % 254],
            Bingbot => {
                if h.is_multiple_of(2) {
                    [157, 55, 39, (1 + (h >> 8) % 254) as u8]
                } else {
                    [40, 77, 167, (1 + (h >> 8) % 254) as u8]
                }
            }
            Browser if h % 100 < 12 => {
                let (a, b) = IPV6_PREFIX[((h >> 8) % IPV6_PREFIX.len() as u64) as usize];
                push_hex_group(out, a);
                out.push(b':');
                push_hex_group(out, b);
                // Nonzero groups, so the full form is also the canonical
                // (RFC 5952) form: no `::` needed.
                let mut bits = hash2(SALT_ADDRESS + 1, h);
                for _ in 0..6 {
                    out.push(b':');
                    push_hex_group(out, (bits as u16).max(1));
                    bits = bits.rotate_right(16) ^ (bits >> 7);
                }
                return;
            }
            _ => [
                IPV4_FIRST[((h >> 8) % IPV4_FIRST.len() as u64) as usize],
                (h >> 16) as u8,
                (h >> 24) as u8,
                1 + ((h >> 32) % 254) as u8,
            ],
        };
        for (i, octet) in octets.iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            push_u64(out, u64::from(*octet));
        }
    }
}

/// Whether [`render_referer`] will use the internal page for this draw (so
/// the caller renders that page only when needed).
pub(crate) fn referer_is_internal(kind: AgentKind, r: f64) -> bool {
    kind == Browser && (0.35..0.80).contains(&r)
}

/// Appends the referer for a request: `-` for robots, tools and direct
/// visits, a search engine for landings, otherwise another page of the site.
/// `page` is the path of a popular page the visitor came from.
pub(crate) fn render_referer(kind: AgentKind, r: f64, host: &[u8], page: &[u8], out: &mut Vec<u8>) {
    if referer_is_internal(kind, r) {
        out.extend_from_slice(b"https://");
        out.extend_from_slice(host);
        out.extend_from_slice(page);
    } else if kind != Browser || r < 0.35 {
        out.push(b'-');
    } else {
        let i = ((r - 0.80) / 0.20 * EXTERNAL_REFERERS.len() as f64) as usize;
        out.extend_from_slice(EXTERNAL_REFERERS[i.min(EXTERNAL_REFERERS.len() - 1)].as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv6Addr};

    #[test]
    fn addresses_parse_and_are_canonical() {
        let clients = Clients::new(1, 100_000);
        let mut rng = Rng::new(3);
        let (mut v4, mut v6) = (0, 0);
        for _ in 0..20_000 {
            let c = clients.pick(&mut rng);
            let mut text = Vec::new();
            clients.render_addr(&c, &mut text);
            let s = String::from_utf8(text).unwrap();
            match s.parse::<IpAddr>().unwrap_or_else(|_| panic!("{s}")) {
                IpAddr::V4(a) => {
                    assert!(
                        !a.is_private() && !a.is_loopback() && !a.is_unspecified(),
                        "{s}"
                    );
                    v4 += 1;
                }
                IpAddr::V6(a) => {
                    assert_eq!(Ipv6Addr::to_string(&a), s);
                    v6 += 1;
                }
            }
        }
        let share = v6 as f64 / (v4 + v6) as f64;
        assert!(share > 0.04 && share < 0.15, "IPv6 share {share}");
    }

    #[test]
    fn a_client_keeps_its_identity_and_few_clients_dominate() {
        let clients = Clients::new(9, 50_000);
        let mut rng = Rng::new(4);
        let mut by_ua = std::collections::HashMap::new();
        let mut addr_counts = std::collections::HashMap::new();
        for _ in 0..50_000 {
            let c = clients.pick(&mut rng);
            let mut a = Vec::new();
            clients.render_addr(&c, &mut a);
            // One address, one agent (bots excepted: their ranges are small).
            if c.kind == Browser {
                let prev = by_ua.insert(a.clone(), c.user_agent);
                assert!(prev.is_none_or(|p| p == c.user_agent));
            }
            *addr_counts.entry(a).or_insert(0u32) += 1;
        }
        let max = *addr_counts.values().max().unwrap();
        assert!(max > 200, "the busiest client sent only {max}");
        assert!(addr_counts.len() > 1000);
    }

    #[test]
    fn referers() {
        let mut out = Vec::new();
        render_referer(Googlebot, 0.9, b"h", b"/x", &mut out);
        assert_eq!(out, b"-");
        out.clear();
        render_referer(Browser, 0.5, b"shop.example.com", b"/x", &mut out);
        assert_eq!(out, b"https://shop.example.com/x");
        out.clear();
        render_referer(Browser, 0.999_999, b"h", b"/x", &mut out);
        assert_eq!(out, b"https://t.co/");
    }
}
