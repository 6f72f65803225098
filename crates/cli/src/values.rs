//! Typed option values: clap calls these while parsing, so a bad value is
//! a usage error that names its option, before any input is read. The
//! syntaxes themselves live in the libraries; this only adapts them.

use std::time::Duration;

use hotkeys_capacity::config::{CacheSize, RestartAt, parse_sample_rate, parse_warm_top};
use hotkeys_capacity::sampling::SampleRate;
use hotkeys_contract::duration::parse_duration;
use hotkeys_contract::size::parse_size;
use hotkeys_parser::exclude::{self, Cidr};
use hotkeys_parser::filter;
use hotkeys_parser::window::TimeBound;
use hotkeys_warmer::StatusSet;

// Lists given as one comma-separated value. Named types, so that clap
// takes each as one value instead of collecting repeated options.
/// `GET,HEAD`.
pub type Methods = Vec<Vec<u8>>;
/// `2xx,304`, as inclusive ranges.
pub type StatusRanges = Vec<(u16, u16)>;
/// `1000,64MiB`.
pub type CacheSizes = Vec<CacheSize>;
/// `100,1000,10000`.
pub type WarmTop = Vec<u64>;

/// A duration above zero: `90s`, `30m`, `1h30m`, `500ms`.
pub fn positive_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("must be above zero".to_owned());
    }
    Ok(d)
}

/// `--ttl`: a duration above zero and at most 100 years, the longest TTL
/// the warmer writes; a longer one is a typo to catch before the run, not
/// a write error per key.
pub fn ttl(text: &str) -> Result<Duration, String> {
    let d = positive_duration(text)?;
    if d > hotkeys_warmer::ttl::MAX_TTL {
        return Err("longer than 100 years (36500d), the longest TTL hotkeys writes".to_owned());
    }
    Ok(d)
}

/// A size in bytes: `4096`, `64MiB`, `2GB`.
pub fn size(text: &str) -> Result<u64, String> {
    parse_size(text).map_err(|e| e.to_string())
}

/// A size in bytes that fits in memory, above zero.
pub fn memory_size(text: &str) -> Result<usize, String> {
    match size(text)? {
        0 => Err("must be above zero".to_owned()),
        n => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
    }
}

/// `10%`, `10` or `12.5%` → 0.1, 0.1, 0.125.
pub fn percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p / 100.0),
        _ => Err("expected a percentage from 0 to 100, e.g. 10%".to_owned()),
    }
}

/// A rate per second above zero, e.g. `50` or `0.5`.
pub fn positive_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("expected a positive number per second, e.g. 50".to_owned()),
    }
}

/// `--since`/`--until`: an RFC 3339 time, a date, or a duration before the
/// newest request.
pub fn time_bound(text: &str) -> Result<TimeBound, String> {
    TimeBound::parse(text).map_err(|e| e.to_string())
}

/// `--restart-at`: `middle`, a time, or a duration before the last request.
pub fn restart_at(text: &str) -> Result<RestartAt, String> {
    if text == "middle" {
        return Ok(RestartAt::Middle);
    }
    Ok(match time_bound(text)? {
        TimeBound::At(t) => RestartAt::At(t),
        TimeBound::BeforeNewest(d) => {
            RestartAt::BeforeLast(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        }
    })
}

/// `--method GET,HEAD`.
pub fn methods(text: &str) -> Result<Methods, String> {
    filter::parse_methods(text)
}

/// `--status 2xx,304,400-404` for the filter.
pub fn status_ranges(text: &str) -> Result<StatusRanges, String> {
    filter::parse_statuses(text)
}

/// `--exclude-path REGEX`: checked here, so that a bad pattern is a usage
/// error naming its option; compiled with the others in `config.rs`.
pub fn path_pattern(text: &str) -> Result<String, String> {
    exclude::check_pattern(text).map(|()| text.to_owned())
}

/// `--exclude-client 10.0.0.0/8`.
pub fn cidr(text: &str) -> Result<Cidr, String> {
    Cidr::parse(text)
}

/// `--store-status 2xx,203` for the warmer.
pub fn status_set(text: &str) -> Result<StatusSet, String> {
    StatusSet::parse(text).map_err(|e| e.to_string())
}

/// A cache capacity: objects (`10000`) or bytes (`64MiB`).
pub fn cache_size(text: &str) -> Result<CacheSize, String> {
    CacheSize::parse(text).map_err(|e| e.to_string())
}

/// A comma-separated list of cache capacities.
pub fn cache_sizes(text: &str) -> Result<CacheSizes, String> {
    CacheSize::parse_list(text).map_err(|e| e.to_string())
}

/// A SHARDS sampling rate: `0.01` or `1%`.
pub fn sample_rate(text: &str) -> Result<SampleRate, String> {
    parse_sample_rate(text).map_err(|e| e.to_string())
}

/// Warm-up list sizes: `100,1000,10000`.
pub fn warm_top(text: &str) -> Result<WarmTop, String> {
    parse_warm_top(text).map_err(|e| e.to_string())
}

/// An HTTP header: `NAME: VALUE`.
pub fn header(text: &str) -> Result<(String, String), String> {
    text.split_once(':')
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| "expected NAME: VALUE".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(percent("10%"), Ok(0.1));
        assert_eq!(percent(" 12.5 % "), Ok(0.125));
        assert_eq!(percent("0"), Ok(0.0));
        assert!(percent("-1").is_err());
        assert!(percent("ten").is_err());
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(positive_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(positive_duration("0").unwrap_err().contains("above zero"));
        assert!(positive_duration("soon").is_err());
        assert_eq!(size("64MiB"), Ok(64 << 20));
        assert!(memory_size("0").is_err());
    }

    #[test]
    fn restart_times() {
        assert_eq!(restart_at("middle"), Ok(RestartAt::Middle));
        assert_eq!(
            restart_at("1970-01-01T00:00:01Z"),
            Ok(RestartAt::At(1_000_000))
        );
        assert_eq!(
            restart_at("6h"),
            Ok(RestartAt::BeforeLast(6 * 3_600_000_000))
        );
        assert!(restart_at("later").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn headers() {
        assert_eq!(
            header("Accept: application/json"),
            Ok(("Accept".to_owned(), "application/json".to_owned()))
        );
        assert!(header("nocolon").is_err());
        assert!(header(": x").is_err());
    }
}
