//! Requests left out on purpose: by target (`--exclude-path`), by client
//! network (`--exclude-client`) or because a bot sent them
//! (`--exclude-bots`).
//!
//! The filter ([`crate::filter`]) keeps what a cache can serve; excluding
//! comes after it and drops traffic that a cache could serve but that
//! should not decide what is hot: health checks, internal monitors,
//! crawlers walking every page once. [`crate::keys::KeyRules::key_of`]
//! applies both, so `rank` and `report` agree on what was excluded, and
//! counts each exclusion under its [`Reason`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use regex::bytes::RegexSet;

use crate::format::Wants;
use crate::record::Request;

/// Where the bot list comes from, for `--help` and the docs. The test
/// `the_bot_list_version_is_the_locked_one` holds it to `Cargo.lock`.
pub const BOT_LIST_SOURCE: &str = "the isbot crate 0.1.3";

/// Why a request was excluded. A request that several exclusions match
/// counts under the first of path, client, bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Its target matched an `--exclude-path` pattern.
    Path,
    /// Its client address is in an `--exclude-client` network.
    Client,
    /// Its user agent is on the bot list (`--exclude-bots`).
    Bot,
}

/// What to exclude; the default excludes nothing.
#[derive(Clone, Debug, Default)]
pub struct Exclude {
    /// Targets (path and query, as logged) matching any of these.
    pub paths: Option<PathPatterns>,
    /// Clients in any of these networks.
    pub clients: Networks,
    /// User agents on this list.
    pub bots: Option<BotList>,
}

impl Exclude {
    /// Whether nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.paths.is_none() && self.clients.is_empty() && self.bots.is_none()
    }

    /// The optional fields the exclusions read: a run without client or bot
    /// exclusions never makes the parser look for them.
    pub fn wants(&self) -> Wants {
        Wants {
            client: !self.clients.is_empty(),
            user_agent: self.bots.is_some(),
        }
    }

    /// Why `r`, whose target is `target`, is excluded, if it is. A request
    /// without the field an exclusion looks at (no client or user agent
    /// logged) is not excluded by it.
    #[inline]
    pub fn reason(
        &self,
        r: &Request<'_>,
        target: &[u8],
        verdicts: &mut BotVerdicts,
    ) -> Option<Reason> {
        if self.is_empty() {
            return None;
        }
        if self.paths.as_ref().is_some_and(|p| p.matches(target)) {
            return Some(Reason::Path);
        }
        if !self.clients.is_empty() && r.client.is_some_and(|c| self.clients.contains_logged(c)) {
            return Some(Reason::Client);
        }
        if let (Some(bots), Some(ua)) = (&self.bots, r.user_agent)
            && verdicts.is_bot(bots, ua)
        {
            return Some(Reason::Bot);
        }
        None
    }
}

/// `--exclude-path` patterns, matched against the target's bytes.
#[derive(Clone)]
pub struct PathPatterns {
    set: RegexSet,
}

impl PathPatterns {
    /// Compiles the patterns; the error names the first that does not
    /// compile.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<PathPatterns, String> {
        for p in patterns {
            check_pattern(p.as_ref())?;
        }
        let set = RegexSet::new(patterns.iter().map(AsRef::as_ref))
            .map_err(|e| format!("cannot compile the path patterns: {e}"))?;
        Ok(PathPatterns { set })
    }

    /// Whether any pattern matches somewhere in `target` (anchor with `^`
    /// and `$` for more).
    pub fn matches(&self, target: &[u8]) -> bool {
        self.set.is_match(target)
    }
}

impl fmt::Debug for PathPatterns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.set.patterns()).finish()
    }
}

/// Checks one `--exclude-path` pattern, with the regex crate's own message
/// (it points at the mistake) when it does not compile.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    regex::bytes::Regex::new(pattern)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// An IPv4 or IPv6 network, such as `10.0.0.0/8` or `2001:db8::/32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Reads `ADDRESS/PREFIX`, or a bare address (a network of one: /32 for
    /// IPv4, /128 for IPv6). An address with bits set past the prefix is
    /// refused, with the network it was probably meant to be: `10.1.0.0/8`
    /// is more likely a typo for `/16` than a way to write `10.0.0.0/8`.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv4 or IPv6 address"))?;
        let bits = match network {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix {
            None => bits,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= bits => n,
                _ => {
                    let family = if bits == 32 { "IPv4" } else { "IPv6" };
                    return Err(format!(
                        "/{p}: the prefix of an {family} network is a number from 0 to {bits}"
                    ));
                }
            },
        };
        let cidr = Cidr { network, prefix };
        let masked = cidr.masked();
        if masked != network {
            return Err(format!(
                "{text} has bits set past the /{prefix} prefix; the network is {masked}/{prefix}"
            ));
        }
        Ok(cidr)
    }

    /// The network address with every bit past the prefix cleared.
    fn masked(self) -> IpAddr {
        match self.network {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask32(self.prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask128(self.prefix))),
        }
    }

    /// Whether `addr` is in the network. An IPv4 address and its IPv4-mapped
    /// IPv6 form (`::ffff:10.1.2.3`, as dual-stack servers log it) are the
    /// same client.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let p = self.prefix;
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => in_v4(net, p, a),
            (IpAddr::V4(net), IpAddr::V6(a)) => {
                a.to_ipv4_mapped().is_some_and(|a| in_v4(net, p, a))
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => in_v6(net, p, a),
            (IpAddr::V6(net), IpAddr::V4(a)) => in_v6(net, p, a.to_ipv6_mapped()),
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        Cidr::parse(text)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn in_v4(net: Ipv4Addr, prefix: u8, a: Ipv4Addr) -> bool {
    (u32::from(net) ^ u32::from(a)) & mask32(prefix) == 0
}

fn in_v6(net: Ipv6Addr, prefix: u8, a: Ipv6Addr) -> bool {
    (u128::from(net) ^ u128::from(a)) & mask128(prefix) == 0
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

/// `--exclude-client` networks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Networks(pub Vec<Cidr>);

impl Networks {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the client address as logged is in one of the networks. The
    /// address may carry a port (`10.1.2.3:51234`, `[2001:db8::1]:443`, as
    /// some servers log it); anything that is not an address (a host name
    /// logged by Apache's HostnameLookups, `unix:`, junk) is in none.
    pub fn contains_logged(&self, logged: &[u8]) -> bool {
        parse_logged_address(logged).is_some_and(|a| self.0.iter().any(|n| n.contains(a)))
    }
}

/// The address in a logged client field, if it holds one.
pub fn parse_logged_address(logged: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = plain_ipv4(logged) {
        return Some(IpAddr::V4(v4));
    }
    // The longest IPv6 socket address with a port is 47 bytes.
    if logged.len() > 64 {
        return None;
    }
    let text = std::str::from_utf8(logged).ok()?;
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Reads the commonest client field, a dotted IPv4 address, straight from
/// the bytes: the standard parser (UTF-8 check, then a general grammar)
/// was most of the cost of `--exclude-client`, run once a line. Accepts
/// only what the standard parser accepts, with the same value (four
/// decimal parts of at most 255, no leading zeros); anything else is left
/// to it.
fn plain_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    if s.len() < 7 || s.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut part = 0;
    let mut value: u16 = 0;
    let mut digits = 0;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                if digits == 1 && value == 0 {
                    return None;
                }
                value = value * 10 + u16::from(b - b'0');
                digits += 1;
                if digits > 3 {
                    return None;
                }
            }
            b'.' if digits > 0 && part < 3 => {
                octets[part] = u8::try_from(value).ok()?;
                part += 1;
                value = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if part != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// The bot list of [`BOT_LIST_SOURCE`], shared by every worker.
#[derive(Clone)]
pub struct BotList {
    bots: Arc<isbot::Bots>,
}

impl BotList {
    /// Compiles the list (a few milliseconds: one large regex).
    pub fn new() -> BotList {
        BotList {
            bots: Arc::new(isbot::Bots::default()),
        }
    }

    /// Whether `user_agent` is a crawler, monitor or tool on the list. The
    /// list matches text: a user agent that is not UTF-8 is read with
    /// U+FFFD in place of its invalid bytes.
    pub fn is_bot(&self, user_agent: &[u8]) -> bool {
        match std::str::from_utf8(user_agent) {
            Ok(text) => self.bots.is_bot(text),
            Err(_) => self.bots.is_bot(&String::from_utf8_lossy(user_agent)),
        }
    }
}

impl Default for BotList {
    fn default() -> Self {
        BotList::new()
    }
}

impl fmt::Debug for BotList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BotList({BOT_LIST_SOURCE})")
    }
}

/// One worker's memory of bot verdicts. A log holds a few thousand
/// distinct user agents in millions of lines, and the list is one large
/// regex run on a lower-cased copy: remembering verdicts saves nearly every
/// run of it. Bounded, since user agents are chosen by whoever sends the
/// requests.
#[derive(Debug, Default)]
pub struct BotVerdicts {
    seen: std::collections::HashMap<Box<[u8]>, bool, foldhash::fast::RandomState>,
}

/// Verdicts kept before the memory starts over.
const MAX_VERDICTS: usize = 4096;

/// Longer user agents are judged every time rather than remembered.
const MAX_REMEMBERED_LEN: usize = 512;

impl BotVerdicts {
    fn is_bot(&mut self, bots: &BotList, user_agent: &[u8]) -> bool {
        if let Some(&verdict) = self.seen.get(user_agent) {
            return verdict;
        }
        let verdict = bots.is_bot(user_agent);
        if user_agent.len() <= MAX_REMEMBERED_LEN {
            if self.seen.len() >= MAX_VERDICTS {
                self.seen.clear();
            }
            self.seen.insert(user_agent.into(), verdict);
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Cidr {
        Cidr::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_networks() {
        let n = cidr("10.0.0.0/8");
        assert!(n.contains(ip("10.0.0.0")));
        assert!(n.contains(ip("10.255.255.255")));
        assert!(!n.contains(ip("11.0.0.0")));
        assert!(!n.contains(ip("9.255.255.255")));
        let n = cidr("192.168.1.128/25");
        assert!(n.contains(ip("192.168.1.200")));
        assert!(!n.contains(ip("192.168.1.127")));
        let one = cidr("203.0.113.7");
        assert_eq!(one, cidr("203.0.113.7/32"));
        assert!(one.contains(ip("203.0.113.7")) && !one.contains(ip("203.0.113.8")));
        let all = cidr("0.0.0.0/0");
        assert!(all.contains(ip("255.255.255.255")) && all.contains(ip("0.0.0.0")));
        assert!(!all.contains(ip("2001:db8::1")));
        assert_eq!(cidr(" 10.0.0.0/8 ").to_string(), "10.0.0.0/8");
    }

    #[test]
    fn ipv6_networks() {
        let n = cidr("2001:db8::/32");
        assert!(n.contains(ip("2001:db8::1")));
        assert!(n.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!n.contains(ip("2001:db9::")));
        assert!(!n.contains(ip("10.0.0.1")));
        let n = cidr("2600:1700:2d17::/48");
        assert!(n.contains(ip("2600:1700:2d17:f3cd:34c6:4a36:2aba:2da")));
        assert!(!n.contains(ip("2600:1700:2d18::1")));
        let one = cidr("::1");
        assert_eq!(one, cidr("::1/128"));
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        assert!(cidr("::/0").contains(ip("ffff::1")));
    }

    #[test]
    fn mapped_ipv4_is_the_same_client() {
        assert!(cidr("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
        assert!(!cidr("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
        assert!(cidr("::ffff:10.0.0.0/104").contains(ip("10.9.9.9")));
        assert!(cidr("::ffff:10.0.0.0/104").contains(ip("::ffff:10.9.9.9")));
        // Only the mapped form: the old "compatible" ::a.b.c.d is not IPv4.
        assert!(!cidr("10.0.0.0/8").contains(ip("::10.1.2.3")));
    }

    #[test]
    fn bad_networks_say_what_is_wrong() {
        let err = |text: &str| Cidr::parse(text).unwrap_err();
        assert_eq!(err("10.0.0/8"), "\"10.0.0\" is not an IPv4 or IPv6 address");
        assert_eq!(
            err("example.com"),
            "\"example.com\" is not an IPv4 or IPv6 address"
        );
        assert_eq!(err(""), "\"\" is not an IPv4 or IPv6 address");
        assert_eq!(
            err("10.0.0.0/33"),
            "/33: the prefix of an IPv4 network is a number from 0 to 32"
        );
        assert_eq!(
            err("2001:db8::/129"),
            "/129: the prefix of an IPv6 network is a number from 0 to 128"
        );
        assert_eq!(
            err("10.0.0.0/"),
            "/: the prefix of an IPv4 network is a number from 0 to 32"
        );
        assert_eq!(
            err("10.0.0.0/-1"),
            "/-1: the prefix of an IPv4 network is a number from 0 to 32"
        );
        assert_eq!(
            err("10.1.0.0/8"),
            "10.1.0.0/8 has bits set past the /8 prefix; the network is 10.0.0.0/8"
        );
        assert_eq!(
            err("2001:db8::1/32"),
            "2001:db8::1/32 has bits set past the /32 prefix; the network is 2001:db8::/32"
        );
        assert!(err("10.0.0.0/8/8").contains("from 0 to 32"));
    }

    #[test]
    fn ipv4_shortcut() {
        for (text, want) in [
            ("10.1.2.3", Some([10, 1, 2, 3])),
            ("0.0.0.0", Some([0, 0, 0, 0])),
            ("255.255.255.255", Some([255, 255, 255, 255])),
            ("256.0.0.1", None),
            ("01.2.3.4", None),
            ("1.2.3", None),
            ("1.2.3.4.", None),
            (".1.2.3", None),
            ("1..2.3", None),
            ("1.2.3.4:80", None),
            ("1234.1.1.1", None),
        ] {
            assert_eq!(
                plain_ipv4(text.as_bytes()),
                want.map(Ipv4Addr::from),
                "{text}"
            );
        }
    }

    #[test]
    fn logged_addresses() {
        let nets = Networks(vec![cidr("10.0.0.0/8"), cidr("2001:db8::/32")]);
        for yes in [
            &b"10.1.2.3"[..],
            b"10.1.2.3:51234",
            b"2001:db8::7",
            b"[2001:db8::7]:443",
            b"::ffff:10.0.0.1",
        ] {
            assert!(
                nets.contains_logged(yes),
                "{}",
                String::from_utf8_lossy(yes)
            );
        }
        for no in [
            &b"11.1.2.3"[..],
            b"-",
            b"",
            b"host.example.com",
            b"10.1.2.3 ",
            b"10.1.2.3, 10.0.0.1",
            b"unix:",
            b"\xff\xfe",
            b"[2001:db8::7]",
        ] {
            assert!(!nets.contains_logged(no), "{}", String::from_utf8_lossy(no));
        }
        assert!(!nets.contains_logged(&[b'1'; 100]));
    }

    /// User agents from `sample-logs/access.log` (`grep -o '"[^"]*bot[^"]*"'
    /// | sort | uniq -c`), and tools and monitors seen in real logs.
    const BOTS: &[&str] = &[
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.5.0",
        "python-requests/2.31.0",
        "Go-http-client/1.1",
        "Wget/1.21.4",
        "Googlebot/2.1",
    ];

    /// Browsers from the same logs, which must not count as bots.
    const BROWSERS: &[&str] = &[
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ];

    #[test]
    fn crawlers_and_tools_are_bots_and_browsers_are_not() {
        let list = BotList::new();
        let mut verdicts = BotVerdicts::default();
        for _ in 0..2 {
            for ua in BOTS {
                assert!(list.is_bot(ua.as_bytes()), "not a bot: {ua}");
                assert!(verdicts.is_bot(&list, ua.as_bytes()), "remembered: {ua}");
            }
            for ua in BROWSERS {
                assert!(!list.is_bot(ua.as_bytes()), "a bot: {ua}");
                assert!(!verdicts.is_bot(&list, ua.as_bytes()), "remembered: {ua}");
            }
        }
        // Not UTF-8: judged on the readable rest.
        assert!(list.is_bot(b"Googlebot/2.1 \xff\xfe"));
        assert!(!list.is_bot(b"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) \xff Firefox/125.0"));
    }

    #[test]
    fn verdict_memory_is_bounded() {
        let list = BotList::new();
        let mut verdicts = BotVerdicts::default();
        for i in 0..MAX_VERDICTS + 10 {
            let ua = format!("agent {i}");
            assert!(!verdicts.is_bot(&list, ua.as_bytes()));
            assert!(verdicts.seen.len() <= MAX_VERDICTS);
        }
        let long = format!("{}bot", "x".repeat(MAX_REMEMBERED_LEN));
        let before = verdicts.seen.len();
        assert!(verdicts.is_bot(&list, long.as_bytes()));
        assert_eq!(verdicts.seen.len(), before);
    }

    #[test]
    fn the_bot_list_version_is_the_locked_one() {
        let lock = include_str!("../../../Cargo.lock");
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"isbot\""))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
            .expect("isbot in Cargo.lock");
        assert_eq!(
            BOT_LIST_SOURCE,
            format!("the isbot crate {}", version.trim_matches('"'))
        );
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        static LIST: std::sync::LazyLock<BotList> = std::sync::LazyLock::new(BotList::new);

        proptest! {
            /// Client fields, user agents and `--exclude-client` values come
            /// from strangers: any bytes are an answer, never a panic.
            #[test]
            fn any_bytes_are_safe(
                logged in proptest::collection::vec(any::<u8>(), 0..80),
                text in "[0-9a-f:./\\[\\]%-]{0,48}",
            ) {
                let nets = Networks(vec![cidr("10.0.0.0/8"), cidr("2001:db8::/32"), cidr("::/0")]);
                let _ = nets.contains_logged(&logged);
                let _ = nets.contains_logged(text.as_bytes());
                if let Ok(n) = Cidr::parse(&text) {
                    prop_assert_eq!(Cidr::parse(&n.to_string()), Ok(n));
                }
                let mut verdicts = BotVerdicts::default();
                prop_assert_eq!(verdicts.is_bot(&LIST, &logged), LIST.is_bot(&logged));
            }

            /// The IPv4 shortcut reads what the standard parser reads, as it
            /// reads it, and nothing it refuses.
            #[test]
            fn the_ipv4_shortcut_agrees_with_the_standard_parser(
                text in "[0-9.]{0,16}|([0-9]{1,4}\\.){3}[0-9]{1,4}",
            ) {
                let std = text.parse::<Ipv4Addr>().ok();
                let fast = plain_ipv4(text.as_bytes());
                prop_assert!(fast.is_none() || fast == std, "{text}: {fast:?} vs {std:?}");
                prop_assert_eq!(
                    parse_logged_address(text.as_bytes()),
                    text.parse::<IpAddr>().ok(),
                    "{}", text
                );
            }
        }
    }

    #[test]
    fn path_patterns() {
        let p = PathPatterns::new(&["^/health", r"\.(css|js)$", "(?-u)\\xff"]).unwrap();
        assert!(p.matches(b"/healthz"));
        assert!(p.matches(b"/static/app.js"));
        assert!(!p.matches(b"/static/app.js?v=2"));
        assert!(!p.matches(b"/api/health"));
        assert!(p.matches(b"/a\xffb"));
        let err = PathPatterns::new(&["ok", "(unclosed"]).unwrap_err();
        assert!(err.contains("(unclosed"), "{err}");
        assert!(check_pattern("[z-a]").is_err());
    }

    fn request<'a>(client: Option<&'a [u8]>, user_agent: Option<&'a [u8]>) -> Request<'a> {
        Request {
            client,
            user_agent,
            ..Request::default()
        }
    }

    #[test]
    fn reasons_in_order_path_client_bot() {
        let exclude = Exclude {
            paths: Some(PathPatterns::new(&["^/health$"]).unwrap()),
            clients: Networks(vec![cidr("10.0.0.0/8")]),
            bots: Some(BotList::new()),
        };
        assert_eq!(
            exclude.wants(),
            Wants {
                client: true,
                user_agent: true
            }
        );
        let mut v = BotVerdicts::default();
        let bot = Some(&b"curl/8.5.0"[..]);
        let inside = Some(&b"10.1.1.1"[..]);
        let outside = Some(&b"192.0.2.1"[..]);
        let mut why = |r: Request<'_>, t: &[u8]| exclude.reason(&r, t, &mut v);
        assert_eq!(why(request(inside, bot), b"/health"), Some(Reason::Path));
        assert_eq!(why(request(inside, bot), b"/a"), Some(Reason::Client));
        assert_eq!(why(request(outside, bot), b"/a"), Some(Reason::Bot));
        assert_eq!(why(request(outside, Some(b"Mozilla/5.0")), b"/a"), None);
        assert_eq!(why(request(None, None), b"/a"), None);
        let none = Exclude::default();
        assert!(none.is_empty());
        assert_eq!(none.wants(), Wants::default());
        assert_eq!(none.reason(&request(inside, bot), b"/health", &mut v), None);
    }
}
