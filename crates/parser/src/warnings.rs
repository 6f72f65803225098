//! What a person should know before trusting a run whose options ask for
//! fields the logs do not have. `rank` and `report` both ask here, so that
//! one rule decides when each warning is given and how it reads.

use crate::format::Records;
use crate::keys::KeyRules;
use crate::scan::ScanReport;

/// How to get response times into a log, for warnings about their absence.
pub const LATENCY_HINT: &str = "use a format with $request_time or %D, e.g. nginx-timed";

/// Whether the counted requests say nothing about latency: some were
/// counted and none of them logged a request or upstream time. `timed` is
/// how many counted requests logged one.
pub fn no_latency(matched: u64, timed: u64) -> bool {
    matched > 0 && timed == 0
}

/// For `rank --by cost` when [`no_latency`]: every key costs zero, and
/// which inputs are read with a format that has no time field.
pub fn zero_cost(scan: &ScanReport) -> String {
    let lacking = inputs_lacking(scan, |r| r.latency);
    let which = if lacking.is_empty() {
        "every response time in the inputs is logged as -".to_string()
    } else {
        format!(
            "{} record{} no response time",
            lacking,
            if lacking.contains(", ") || lacking.contains(" more") {
                ""
            } else {
                "s"
            }
        )
    };
    format!(
        "--by cost: no counted request has a response time, so every key costs 0 and the \
         ranking is by zero cost (ties in key order): {which} ({LATENCY_HINT})"
    )
}

/// Warnings for options that look at a field some inputs' formats do not
/// record: `--host` then filters out every request of those inputs,
/// `--exclude-client` and `--exclude-bots` exclude none of them.
pub fn missing_fields(scan: &ScanReport, rules: &KeyRules) -> Vec<String> {
    let mut warnings = Vec::new();
    if rules.filter.hosts.is_some() {
        let lacking = inputs_lacking(scan, |r| r.host);
        if !lacking.is_empty() {
            warnings.push(format!(
                "--host filters out every request of {lacking}: the log format records no host"
            ));
        }
    }
    let wants = rules.exclude.wants();
    if wants.client {
        let lacking = inputs_lacking(scan, |r| r.client);
        if !lacking.is_empty() {
            warnings.push(format!(
                "--exclude-client excludes no request of {lacking}: the log format records no \
                 client address"
            ));
        }
    }
    if wants.user_agent {
        let lacking = inputs_lacking(scan, |r| r.user_agent);
        if !lacking.is_empty() {
            warnings.push(format!(
                "--exclude-bots excludes no request of {lacking}: the log format records no user \
                 agent"
            ));
        }
    }
    warnings
}

/// "a.log (combined), b.log (common) and 3 more": the inputs whose format
/// does not record what `has` looks for, in input order; empty when none.
fn inputs_lacking(scan: &ScanReport, has: impl Fn(&Records) -> bool) -> String {
    const SHOWN: usize = 3;
    let lacking: Vec<String> = scan
        .formats
        .iter()
        .filter(|f| !has(&f.records))
        .map(|f| format!("{} ({})", f.input, f.format))
        .collect();
    let mut text = lacking
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if lacking.len() > SHOWN {
        text.push_str(&format!(" and {} more", lacking.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exclude::{BotList, Cidr, Networks};
    use crate::filter::Filter;
    use crate::scan::FormatUse;

    fn used(input: &str, format: &str, records: Records) -> FormatUse {
        FormatUse {
            input: input.into(),
            format: format.into(),
            detected: true,
            records,
        }
    }

    const COMBINED: Records = Records {
        host: false,
        latency: false,
        client: true,
        user_agent: true,
    };
    const COMMON: Records = Records {
        user_agent: false,
        ..COMBINED
    };
    const EVERYTHING: Records = Records {
        host: true,
        latency: true,
        client: true,
        user_agent: true,
    };

    fn scan(formats: Vec<FormatUse>) -> ScanReport {
        ScanReport {
            formats,
            ..ScanReport::default()
        }
    }

    #[test]
    fn no_latency_needs_counted_requests_without_any_time() {
        assert!(no_latency(5, 0));
        assert!(!no_latency(5, 1));
        assert!(!no_latency(0, 0));
    }

    #[test]
    fn zero_cost_names_the_inputs_without_times() {
        let s = scan(vec![
            used("a.log", "combined", COMBINED),
            used("t.log", "nginx-timed", EVERYTHING),
        ]);
        let w = zero_cost(&s);
        assert!(
            w.starts_with("--by cost: no counted request has a response time"),
            "{w}"
        );
        assert!(
            w.contains(": a.log (combined) records no response time ("),
            "{w}"
        );
        assert!(!w.contains("t.log"), "{w}");
        let s = scan(vec![used("t.log", "nginx-timed", EVERYTHING)]);
        assert!(zero_cost(&s).contains("every response time in the inputs is logged as -"));
        let s = scan(
            (0..5)
                .map(|i| used(&format!("{i}.log"), "common", COMMON))
                .collect(),
        );
        let w = zero_cost(&s);
        assert!(
            w.contains("0.log (common), 1.log (common), 2.log (common) and 2 more record no"),
            "{w}"
        );
    }

    #[test]
    fn missing_fields_only_for_the_options_given() {
        let s = scan(vec![
            used("a.log", "combined", COMBINED),
            used("c.log", "common", COMMON),
            used("j.log", "json", EVERYTHING),
        ]);
        assert!(missing_fields(&s, &KeyRules::default()).is_empty());
        let mut rules = KeyRules {
            filter: Filter {
                hosts: Some(vec![b"shop.example".to_vec()]),
                ..Filter::default()
            },
            ..KeyRules::default()
        };
        assert_eq!(
            missing_fields(&s, &rules),
            [
                "--host filters out every request of a.log (combined), c.log (common): the log \
              format records no host"
            ]
        );
        rules.filter = Filter::default();
        rules.exclude.clients = Networks(vec![Cidr::parse("10.0.0.0/8").unwrap()]);
        assert!(missing_fields(&s, &rules).is_empty());
        rules.exclude.bots = Some(BotList::new());
        assert_eq!(
            missing_fields(&s, &rules),
            [
                "--exclude-bots excludes no request of c.log (common): the log format records no \
              user agent"
            ]
        );
        let s = scan(vec![used("h.log", "custom", Records::default())]);
        let w = missing_fields(&s, &rules);
        assert!(w[0].starts_with("--exclude-client excludes no request of h.log (custom)"));
        assert_eq!(w.len(), 2);
    }
}
