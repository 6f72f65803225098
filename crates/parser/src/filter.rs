//! Which requests count.
//!
//! The default keeps what a cache can serve: GET and HEAD answered with a
//! status from 200 to 399. Every other option narrows further.

use crate::record::Request;

/// Conditions a request must meet to be counted; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Upper-case method names.
    pub methods: Option<Vec<Vec<u8>>>,
    /// Inclusive status ranges.
    pub statuses: Option<Vec<(u16, u16)>>,
    /// Unix microseconds, inclusive.
    pub since: Option<i64>,
    /// Unix microseconds, exclusive.
    pub until: Option<i64>,
    /// Host names, lower-case; a logged `host:port` matches `host`.
    pub hosts: Option<Vec<Vec<u8>>>,
}

impl Filter {
    /// GET and HEAD with status 200–399.
    pub fn cacheable() -> Filter {
        Filter {
            methods: Some(vec![b"GET".to_vec(), b"HEAD".to_vec()]),
            statuses: Some(vec![(200, 399)]),
            ..Filter::default()
        }
    }

    /// Whether `r` meets every condition set. A condition on a field the
    /// request lacks (no method, status, time or host logged) rejects it.
    pub fn accepts(&self, r: &Request<'_>) -> bool {
        if let Some(methods) = &self.methods {
            match r.method {
                Some(m) if methods.iter().any(|x| x.eq_ignore_ascii_case(m)) => {}
                _ => return false,
            }
        }
        if let Some(statuses) = &self.statuses {
            match r.status {
                Some(s) if statuses.iter().any(|&(lo, hi)| (lo..=hi).contains(&s)) => {}
                _ => return false,
            }
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = r.time else { return false };
            if self.since.is_some_and(|since| t < since)
                || self.until.is_some_and(|until| t >= until)
            {
                return false;
            }
        }
        if let Some(hosts) = &self.hosts {
            let Some(host) = r.host else { return false };
            let bare = match memchr::memrchr(b':', host) {
                // Not for IPv6 literals such as `[::1]`, whose colons are the address.
                Some(i) if !host.ends_with(b"]") => &host[..i],
                _ => host,
            };
            if !hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(bare))
            {
                return false;
            }
        }
        true
    }
}

/// Parses `--method get,HEAD` into upper-case names.
pub fn parse_methods(list: &str) -> Result<Vec<Vec<u8>>, String> {
    let methods: Vec<Vec<u8>> = list
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| {
            if m.bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
            {
                Ok(m.to_ascii_uppercase().into_bytes())
            } else {
                Err(format!("{m:?} is not an HTTP method"))
            }
        })
        .collect::<Result<_, _>>()?;
    if methods.is_empty() {
        return Err("no method given".into());
    }
    Ok(methods)
}

/// Parses `--status 2xx,304,400-404` into inclusive ranges.
pub fn parse_statuses(list: &str) -> Result<Vec<(u16, u16)>, String> {
    let mut ranges = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad =
            || format!("{item:?} is not a status, a class such as 2xx, or a range such as 400-404");
        let range = if let Some(class) = item.strip_suffix("xx").or_else(|| item.strip_suffix("XX"))
        {
            let d: u16 = class.parse().map_err(|_| bad())?;
            if !(1..=9).contains(&d) {
                return Err(bad());
            }
            (d * 100, d * 100 + 99)
        } else if let Some((lo, hi)) = item.split_once('-') {
            let lo: u16 = lo.trim().parse().map_err(|_| bad())?;
            let hi: u16 = hi.trim().parse().map_err(|_| bad())?;
            if lo > hi {
                return Err(bad());
            }
            (lo, hi)
        } else {
            let s: u16 = item.parse().map_err(|_| bad())?;
            (s, s)
        };
        ranges.push(range);
    }
    if ranges.is_empty() {
        return Err("no status given".into());
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(method: &'a [u8], status: u16) -> Request<'a> {
        Request {
            method: Some(method),
            status: Some(status),
            target: Some(b"/"),
            ..Request::default()
        }
    }

    #[test]
    fn cacheable_default() {
        let f = Filter::cacheable();
        assert!(f.accepts(&req(b"GET", 200)));
        assert!(f.accepts(&req(b"HEAD", 304)));
        assert!(f.accepts(&req(b"get", 399)));
        assert!(!f.accepts(&req(b"POST", 200)));
        assert!(!f.accepts(&req(b"GET", 404)));
        assert!(!f.accepts(&req(b"GET", 199)));
        assert!(!f.accepts(&Request {
            status: None,
            ..req(b"GET", 200)
        }));
        assert!(Filter::default().accepts(&Request::default()));
    }

    #[test]
    fn time_window_and_hosts() {
        let f = Filter {
            since: Some(100),
            until: Some(200),
            hosts: Some(vec![b"shop.example".to_vec()]),
            ..Filter::default()
        };
        let at = |t: i64, host: &'static [u8]| Request {
            time: Some(t),
            host: Some(host),
            ..Request::default()
        };
        assert!(f.accepts(&at(100, b"shop.example")));
        assert!(f.accepts(&at(150, b"SHOP.example:443")));
        assert!(!f.accepts(&at(200, b"shop.example")));
        assert!(!f.accepts(&at(99, b"shop.example")));
        assert!(!f.accepts(&at(150, b"other.example")));
        assert!(!f.accepts(&Request {
            time: None,
            ..at(150, b"shop.example")
        }));
    }

    #[test]
    fn status_and_method_lists() {
        assert_eq!(
            parse_statuses("2xx, 304,400-404").unwrap(),
            vec![(200, 299), (304, 304), (400, 404)]
        );
        for bad in ["", "2x", "0xx", "abc", "404-400", "70000"] {
            assert!(parse_statuses(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_methods("get,Head").unwrap(),
            vec![b"GET".to_vec(), b"HEAD".to_vec()]
        );
        assert!(parse_methods("GET /").is_err());
        assert!(parse_methods(",").is_err());
    }
}
