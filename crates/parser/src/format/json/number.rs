//! JSON numbers: checking their grammar, and rewriting exponent forms as plain
//! decimals, the only form the later unit conversion reads.

use crate::record::LineError;

pub(super) const E_BAD_NUMBER: LineError = LineError("bad JSON number");

/// Exponents beyond this are left as written: rewriting them would write that
/// many zeros, and no latency, size or time needs them.
pub(super) const MAX_EXP_SHIFT: u32 = 400;

pub(super) struct Number {
    pub(super) end: usize,
    pub(super) neg: bool,
    /// `false` for the bare `-` tolerated in place of a number.
    pub(super) digits: bool,
    pub(super) int: (usize, usize),
    pub(super) frac: (usize, usize),
    pub(super) exp: Option<i32>,
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, or a lone `-`.
pub(super) fn scan_number(line: &[u8], p: usize) -> Result<Number, LineError> {
    let digit_run = |mut i: usize| {
        while line.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let neg = line.get(p) == Some(&b'-');
    let int_start = p + usize::from(neg);
    let int_end = match line.get(int_start) {
        Some(b'0') => int_start + 1,
        Some(b'1'..=b'9') => digit_run(int_start + 1),
        _ if neg => {
            return Ok(Number {
                end: p + 1,
                neg,
                digits: false,
                int: (p, p),
                frac: (p, p),
                exp: None,
            });
        }
        _ => return Err(E_BAD_NUMBER),
    };
    let mut end = int_end;
    let mut frac = (end, end);
    if line.get(end) == Some(&b'.') {
        let f_end = digit_run(end + 1);
        if f_end == end + 1 {
            return Err(E_BAD_NUMBER);
        }
        frac = (end + 1, f_end);
        end = f_end;
    }
    let mut exp = None;
    if let Some(b'e' | b'E') = line.get(end) {
        let mut i = end + 1;
        let negative = match line.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let e_end = digit_run(i);
        if e_end == i {
            return Err(E_BAD_NUMBER);
        }
        // Saturates: anything past MAX_EXP_SHIFT is treated alike.
        let mut v: i32 = 0;
        for &d in &line[i..e_end] {
            v = v.saturating_mul(10).saturating_add(i32::from(d - b'0'));
        }
        exp = Some(if negative { -v } else { v });
        end = e_end;
    }
    Ok(Number {
        end,
        neg,
        digits: true,
        int: (int_start, int_end),
        frac,
        exp,
    })
}

/// Writes `int.frac × 10^exp` as a plain decimal by moving the point along
/// the digit string, so the value is exact (no float round trip).
pub(super) fn write_plain_decimal(out: &mut Vec<u8>, neg: bool, int: &[u8], frac: &[u8], exp: i32) {
    let total = int.len() + frac.len();
    let all = || int.iter().chain(frac).copied();
    let lead = all().take_while(|&d| d == b'0').count();
    if neg {
        out.push(b'-');
    }
    if lead == total {
        out.push(b'0');
        return;
    }
    let sig_len = (total - lead) as i64;
    // Position of the point counted from the first significant digit.
    let point = int.len() as i64 - lead as i64 + i64::from(exp);
    let sig = all().skip(lead);
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', point.unsigned_abs() as usize));
        out.extend(sig);
    } else if point >= sig_len {
        out.extend(sig);
        out.extend(std::iter::repeat_n(b'0', (point - sig_len) as usize));
    } else {
        for (i, d) in sig.enumerate() {
            if i as i64 == point {
                out.push(b'.');
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::format::json::JsonLineParser;
    use crate::format::json::tests::{b, parse_with};
    use crate::time::TimeKind;

    #[test]
    fn exponents_become_plain_decimals() {
        let cases: &[(&str, &str)] = &[
            ("1.2e-05", "0.000012"),
            ("2.5E+3", "2500"),
            ("1e0", "1"),
            ("1.50e1", "15.0"),
            ("0.00012e2", "0.012"),
            ("0.5e1", "5"),
            ("0e10", "0"),
            ("-1.5e-1", "-0.15"),
            ("123.456e-2", "1.23456"),
            ("1.7e9", "1700000000"),
            ("1e999999999999", "1e999999999999"),
        ];
        let mut p = JsonLineParser::default();
        for (written, plain) in cases {
            let line = format!(r#"{{"duration": {written} }}"#);
            let raw = parse_with(&mut p, line.as_bytes());
            assert_eq!(
                raw.request_time.map(|r| r.0),
                b(plain),
                "{written} should read {plain}"
            );
        }
        let raw = parse_with(&mut p, br#"{"ts":1.7e9}"#);
        assert_eq!(raw.time, Some((&b"1700000000"[..], TimeKind::EpochSeconds)));
    }
}
