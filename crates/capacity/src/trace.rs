//! The compact per-request record the cache simulations replay.

/// One request, as the simulations need it: 16 bytes, so a 4.5M-request
/// log fits in 72 MB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Unix microseconds; `i64::MIN` when the line had no time.
    pub time: i64,
    /// Interned key id.
    pub key: u32,
    /// Response bytes, saturated at 4 GiB.
    pub bytes: u32,
}

/// Puts `accesses` in time order. The sort is stable: requests with the
/// same time keep their input order, which the scanner makes the same for
/// any number of threads, and logs with one-second timestamps have many
/// such ties.
pub fn sort_by_time(accesses: &mut [Access]) {
    // Logs are mostly in order already; the standard stable sort finds
    // the ordered runs and merges them.
    accesses.sort_by_key(|a| a.time);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Access>(), 16);
    }

    #[test]
    fn ties_keep_input_order() {
        let a = |time, key| Access {
            time,
            key,
            bytes: 0,
        };
        let mut v = vec![a(2, 0), a(1, 1), a(2, 2), a(1, 3), a(i64::MIN, 4)];
        sort_by_time(&mut v);
        let keys: Vec<u32> = v.iter().map(|x| x.key).collect();
        assert_eq!(keys, [4, 1, 3, 0, 2]);
    }
}
