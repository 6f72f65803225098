//! What was generated, counted at generation time.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};

/// The ground truth of one or more generated logs: how many lines were
/// written for each `(method, status, target)`.
///
/// It is counted from the generator's own decisions, never by reading the
/// output back, so it can check a parser and a ranking independently.
/// Passing the same `Truth` to several runs adds their counts up.
///
/// ```
/// use hotkeys_loggen::{Config, Truth, generate};
///
/// let mut truth = Truth::new();
/// generate(&Config::default(), std::io::sink(), Some(&mut truth))?;
/// assert_eq!(truth.total(), 10_000);
///
/// // Successful GETs per target, the way a cache-warming tool would count.
/// let gets = truth.counts_for(|method, status| method == "GET" && status == 200);
/// let top = truth.top(3, |method, status| method == "GET" && status == 200);
/// assert_eq!(gets[&top[0].0], top[0].1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Truth {
    counts: HashMap<(String, u16, Vec<u8>), u64>,
    total: u64,
}

impl Truth {
    /// An empty truth.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of lines counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Every `(method, status, target)` with its number of lines.
    pub fn counts(&self) -> &HashMap<(String, u16, Vec<u8>), u64> {
        &self.counts
    }

    /// The number of lines with exactly this method, status and target.
    pub fn count(&self, method: &str, status: u16, target: &[u8]) -> u64 {
        // The map owns its keys; a miss is the rare case in tests, so the
        // temporary key is acceptable.
        self.counts
            .get(&(method.to_owned(), status, target.to_vec()))
            .copied()
            .unwrap_or(0)
    }

    /// Lines per target, summed over the `(method, status)` pairs `keep`
    /// accepts.
    pub fn counts_for(&self, keep: impl Fn(&str, u16) -> bool) -> HashMap<Vec<u8>, u64> {
        let mut out: HashMap<Vec<u8>, u64> = HashMap::new();
        for ((method, status, target), &n) in &self.counts {
            if keep(method, *status) {
                *out.entry(target.clone()).or_insert(0) += n;
            }
        }
        out
    }

    /// The `n` targets with most lines among the `(method, status)` pairs
    /// `keep` accepts: count descending, ties by target ascending.
    pub fn top(&self, n: usize, keep: impl Fn(&str, u16) -> bool) -> Vec<(Vec<u8>, u64)> {
        let mut all: Vec<(Vec<u8>, u64)> = self.counts_for(keep).into_iter().collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// Adds `n` lines.
    pub fn add(&mut self, method: &str, status: u16, target: &[u8], n: u64) {
        *self
            .counts
            .entry((method.to_owned(), status, target.to_vec()))
            .or_insert(0) += n;
        self.total += n;
    }

    /// Writes one row per `(method, status, target)`:
    /// `count<TAB>method<TAB>status<TAB>target`, most frequent first (ties by
    /// target, method, status), no header. Targets never contain tabs or
    /// newlines, so no quoting is needed.
    pub fn write_tsv(&self, mut out: impl Write) -> io::Result<()> {
        let mut rows: Vec<_> = self.counts.iter().collect();
        rows.sort_unstable_by(|a, b| {
            b.1.cmp(a.1)
                .then_with(|| a.0.2.cmp(&b.0.2))
                .then_with(|| a.0.0.cmp(&b.0.0))
                .then_with(|| a.0.1.cmp(&b.0.1))
        });
        for ((method, status, target), n) in rows {
            write!(out, "{n}\t{method}\t{status}\t")?;
            out.write_all(target)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// Reads what [`Truth::write_tsv`] wrote.
    pub fn read_tsv(input: impl BufRead) -> io::Result<Self> {
        let mut truth = Truth::new();
        for (i, line) in input.split(b'\n').enumerate() {
            let line = line?;
            if line.is_empty() {
                continue;
            }
            let bad = || {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "truth line {}: expected count, method, status, target",
                        i + 1
                    ),
                )
            };
            let mut fields = line.splitn(4, |&b| b == b'\t');
            let mut next = || fields.next().ok_or_else(bad);
            let count = parse_num(next()?).ok_or_else(bad)?;
            let method = std::str::from_utf8(next()?).map_err(|_| bad())?.to_owned();
            let status = u16::try_from(parse_num(next()?).ok_or_else(bad)?).map_err(|_| bad())?;
            let target = next()?;
            truth.add(&method, status, target, count);
        }
        Ok(truth)
    }
}

fn parse_num(s: &[u8]) -> Option<u64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_filtering_and_tsv_round_trip() {
        let mut t = Truth::new();
        t.add("GET", 200, b"/a", 5);
        t.add("GET", 304, b"/a", 2);
        t.add("POST", 200, b"/b", 6);
        t.add("GET", 200, b"/c", 6);
        t.add("GET", 200, b"/a", 1);
        assert_eq!(t.total(), 20);
        assert_eq!(t.count("GET", 200, b"/a"), 6);
        assert_eq!(t.count("HEAD", 200, b"/a"), 0);
        let gets = t.counts_for(|m, _| m == "GET");
        assert_eq!(gets[&b"/a"[..]], 8);
        assert!(!gets.contains_key(&b"/b"[..]));
        assert_eq!(
            t.top(2, |_, _| true),
            vec![(b"/a".to_vec(), 8), (b"/b".to_vec(), 6)]
        );

        let mut tsv = Vec::new();
        t.write_tsv(&mut tsv).unwrap();
        assert_eq!(
            String::from_utf8(tsv.clone()).unwrap(),
            "6\tGET\t200\t/a\n6\tPOST\t200\t/b\n6\tGET\t200\t/c\n2\tGET\t304\t/a\n"
        );
        assert_eq!(Truth::read_tsv(&tsv[..]).unwrap(), t);
        assert!(Truth::read_tsv(&b"x\tGET\t200\t/a\n"[..]).is_err());
        assert!(Truth::read_tsv(&b"1\tGET\n"[..]).is_err());
    }
}
