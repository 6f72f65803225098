//! Response-time percentiles from HdrHistogram, overall and per key, and
//! the `.hgrm` percentile distribution that HdrHistogram's plotting tools
//! read.

use std::io::{self, Write};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::histogram;
use crate::keyname::KeyName;

/// Percentiles of one distribution, in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    /// Requests that logged this time.
    pub count: u64,
    /// Arithmetic mean, in microseconds.
    pub mean_us: f64,
    /// Median, in microseconds; like the other values, to HdrHistogram's 3
    /// significant digits.
    pub p50_us: u64,
    /// 90th percentile, in microseconds.
    pub p90_us: u64,
    /// 99th percentile, in microseconds.
    pub p99_us: u64,
    /// 99.9th percentile, in microseconds.
    pub p999_us: u64,
    /// Longest time, in microseconds.
    pub max_us: u64,
}

impl Percentiles {
    /// `None` for an empty histogram (the log has no such times).
    pub fn of(h: &Histogram<u64>) -> Option<Percentiles> {
        if h.is_empty() {
            return None;
        }
        Some(Percentiles {
            count: h.len(),
            mean_us: h.mean(),
            p50_us: h.value_at_quantile(0.5),
            p90_us: h.value_at_quantile(0.9),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        })
    }
}

/// One point of a percentile distribution chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DistributionPoint {
    /// Percentage of the requests, 0 to 100 (not a fraction).
    pub percentile: f64,
    /// The time, in microseconds, at or below which that percentage of
    /// requests were answered.
    pub value_us: u64,
}

/// Response times of one key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyLatency {
    /// The key, written as `key` (and `key_base64`) in JSON.
    #[serde(flatten)]
    pub key: KeyName,
    /// Counted requests for the key, with or without a time.
    pub requests: u64,
    /// Its response times: request time, else upstream time, per request.
    pub latency: Percentiles,
}

/// The latency section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    /// Time to answer the client (`$request_time`, `%D`, Caddy `duration`).
    pub request_time: Option<Percentiles>,
    /// Time spent waiting for the origin (`$upstream_response_time`).
    pub upstream_time: Option<Percentiles>,
    /// Request time by percentile, for the chart; empty without request
    /// times.
    pub request_time_distribution: Vec<DistributionPoint>,
    /// Upstream time by percentile, for the chart; empty without upstream
    /// times.
    pub upstream_time_distribution: Vec<DistributionPoint>,
    /// The most requested keys with response times (request time, else
    /// upstream time), most requested first.
    pub top_keys: Vec<KeyLatency>,
    /// `all` when every request was kept; `sample` when the top keys are
    /// those of the SHARDS sample (per-request times are only kept for it).
    pub top_keys_from: &'static str,
}

/// Points for a percentile chart: HdrHistogram's quantile iteration, five
/// steps per halving of the remaining distance to 100%.
pub fn distribution(h: &Histogram<u64>) -> Vec<DistributionPoint> {
    h.iter_quantiles(5)
        .map(|v| DistributionPoint {
            percentile: v.quantile_iterated_to() * 100.0,
            value_us: v.value_iterated_to(),
        })
        .collect()
}

/// The standard `.hgrm` text (HdrHistogram's `outputPercentileDistribution`
/// with five ticks per half distance), values in milliseconds.
pub fn write_hgrm(h: &Histogram<u64>, out: &mut dyn Write) -> io::Result<()> {
    const SCALE: f64 = 1_000.0;
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let value = v.value_iterated_to() as f64 / SCALE;
        let q = v.quantile_iterated_to();
        if q < 1.0 {
            writeln!(
                out,
                "{value:12.3} {q:2.12} {total:10} {:14.2}",
                1.0 / (1.0 - q)
            )?;
        } else {
            writeln!(out, "{value:12.3} {q:2.12} {total:10}")?;
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (h.mean() / SCALE, h.stdev() / SCALE, h.max() as f64 / SCALE)
    };
    writeln!(
        out,
        "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]"
    )?;
    writeln!(
        out,
        "#[Max     = {max:12.3}, Total count    = {:12}]",
        h.len()
    )?;
    // Sub-buckets: the power of two at or above 2 * 10^digits.
    let sub_buckets = (2 * 10u64.pow(u32::from(h.sigfig()))).next_power_of_two();
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {sub_buckets:12}]",
        h.buckets()
    )
}

/// Per-key histograms for `wanted` keys from the access records.
pub fn for_keys(wanted: &[u32], keys: &[u32], latencies: &[u32]) -> Vec<Histogram<u64>> {
    let mut slot = std::collections::HashMap::with_capacity(wanted.len());
    for (i, &k) in wanted.iter().enumerate() {
        slot.insert(k, i);
    }
    let mut hists: Vec<Histogram<u64>> = wanted.iter().map(|_| histogram::new()).collect();
    for (&k, &us) in keys.iter().zip(latencies) {
        if us == crate::collect::NO_LATENCY {
            continue;
        }
        if let Some(&i) = slot.get(&k) {
            histogram::record(&mut hists[i], u64::from(us), 1);
        }
    }
    hists
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(n: u64) -> Histogram<u64> {
        let mut h = Histogram::new(3).unwrap();
        for v in 1..=n {
            h.record(v * 1000).unwrap();
        }
        h
    }

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let p = Percentiles::of(&uniform(1000)).unwrap();
        assert_eq!(p.count, 1000);
        // 0.1% resolution.
        assert!((499_500..=500_500).contains(&p.p50_us), "{p:?}");
        assert!((989_000..=991_000).contains(&p.p99_us), "{p:?}");
        assert!((998_000..=1_000_500).contains(&p.max_us), "{p:?}");
        assert!(Percentiles::of(&Histogram::new(3).unwrap()).is_none());
    }

    #[test]
    fn hgrm_has_the_standard_layout() {
        let mut out = Vec::new();
        write_hgrm(&uniform(1000), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        let rows: Vec<Vec<&str>> = lines[2..]
            .iter()
            .take_while(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert!(rows.len() > 20);
        // Values in ms, percentiles rising to 1, counts to the total.
        let first: f64 = rows[0][0].parse().unwrap();
        assert!((first - 1.0).abs() < 0.01, "{first}");
        let last = rows.last().unwrap();
        assert_eq!(last.len(), 3);
        assert_eq!(last[1], "1.000000000000");
        assert_eq!(last[2], "1000");
        assert!(
            rows.windows(2)
                .all(|w| w[0][1].parse::<f64>().unwrap() <= w[1][1].parse::<f64>().unwrap())
        );
        assert!(
            text.contains("#[Max     =     1000.447, Total count    =         1000]")
                || text.contains("Total count    =         1000]"),
            "{text}"
        );
        assert!(lines.last().unwrap().starts_with("#[Buckets = "));
        assert!(
            lines
                .last()
                .unwrap()
                .ends_with("SubBuckets     =         2048]")
        );
    }

    #[test]
    fn per_key_histograms_skip_missing_times() {
        let h = for_keys(
            &[7, 3],
            &[3, 7, 3, 9, 3],
            &[10, 20, crate::collect::NO_LATENCY, 40, 30],
        );
        assert_eq!(h[0].len(), 1);
        assert_eq!(h[1].len(), 2);
        assert_eq!(h[1].max(), 30);
    }
}
