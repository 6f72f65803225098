//! The one way this crate makes and fills HdrHistograms.

use hdrhistogram::Histogram;

/// An auto-resizing histogram with 3 significant digits (0.1%).
pub fn new() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid configuration")
}

/// Adds `count` samples of `value`. An auto-resizing histogram only fails
/// for values beyond its largest possible range (near `u64::MAX`); those
/// are clamped rather than dropped, so counts stay right.
pub fn record(h: &mut Histogram<u64>, value: u64, count: u64) {
    if h.record_n(value, count).is_err() {
        h.saturating_record_n(value, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_fit_large_values() {
        let mut h = new();
        record(&mut h, 5, 1);
        record(&mut h, 3_000_000_000_000, 2);
        assert_eq!(h.len(), 3);
        assert!(h.max() >= 2_997_000_000_000, "{}", h.max());
    }
}
