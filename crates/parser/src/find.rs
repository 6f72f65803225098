//! Finding a byte in the rest of a log line.
//!
//! Every field of a line ends at a delimiter, so the parsers search for one
//! byte many times per line; most fields are a few bytes long (`-`, a
//! status, an address), a few are long (the request line). `memchr` is
//! built for long haystacks: profiling showed its per-call dispatch costing
//! more than the search on short fields. [`find_byte`] checks 16 bytes per
//! step with SSE2 (part of every x86_64 CPU, so no runtime detection) and
//! stays within the slice; elsewhere it checks words of 8 bytes with
//! integer arithmetic and hands long fields to `memchr`.

/// Position of the first `needle` in `haystack`.
#[inline]
pub(crate) fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::find_byte(needle, haystack)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        portable::find_byte(needle, haystack)
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };

    #[inline]
    pub fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
        let len = haystack.len();
        if len < 16 {
            return super::portable::find_in_short(needle, haystack);
        }
        let ptr = haystack.as_ptr();
        // SAFETY: SSE2 is in the x86_64 baseline. Every load reads 16 bytes
        // at an offset at most `len - 16`, so within the slice; unaligned
        // loads are what `_mm_loadu_si128` is for.
        unsafe {
            let pattern = _mm_set1_epi8(needle as i8);
            let mask_at = |at: usize| -> u32 {
                let block = _mm_loadu_si128(ptr.add(at).cast::<__m128i>());
                _mm_movemask_epi8(_mm_cmpeq_epi8(block, pattern)) as u32
            };
            let mut at = 0;
            while at + 16 <= len {
                let mask = mask_at(at);
                if mask != 0 {
                    return Some(at + mask.trailing_zeros() as usize);
                }
                at += 16;
            }
            if at < len {
                // The last block overlaps bytes already searched, which
                // hold no match, so its first match is the first overall.
                let mask = mask_at(len - 16);
                if mask != 0 {
                    return Some(len - 16 + mask.trailing_zeros() as usize);
                }
            }
        }
        None
    }
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
mod portable {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;

    /// The lowest byte of `word` equal to `needle`, if any.
    #[inline]
    fn first_in_word(needle: u8, word: u64) -> Option<usize> {
        let x = word ^ (ONES * u64::from(needle));
        // A zero byte in `x` is a match; this sets its high bit (and maybe
        // ones above it, never below, so the lowest set bit is exact).
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
    }

    fn word_at(s: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"))
    }

    /// For haystacks under 16 bytes: one or two (overlapping) words.
    #[inline]
    pub fn find_in_short(needle: u8, haystack: &[u8]) -> Option<usize> {
        let len = haystack.len();
        if len < 8 {
            return haystack.iter().position(|&b| b == needle);
        }
        first_in_word(needle, word_at(haystack, 0))
            .or_else(|| first_in_word(needle, word_at(haystack, len - 8)).map(|i| len - 8 + i))
    }

    pub fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < 32 && at + 8 <= haystack.len() {
            if let Some(i) = first_in_word(needle, word_at(haystack, at)) {
                return Some(at + i);
            }
            at += 8;
        }
        if at < 32 {
            return find_in_short(needle, &haystack[at..]).map(|i| at + i);
        }
        memchr::memchr(needle, &haystack[at..]).map(|i| at + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn haystacks() -> impl Iterator<Item = Vec<u8>> {
        (0..80).flat_map(|len| {
            [0u8, 0x7f, 0x80, 0xfe].into_iter().map(move |fill| {
                (0..len)
                    .map(|i| {
                        if i % 11 == 10 {
                            b'a' + (i % 7) as u8
                        } else {
                            fill.wrapping_add(i as u8 % 3)
                        }
                    })
                    .collect()
            })
        })
    }

    #[test]
    fn agrees_with_memchr() {
        for hay in haystacks() {
            for needle in [b'a', b'c', b'g', b'z', 0x80, 0xff, 0] {
                let want = memchr::memchr(needle, &hay);
                assert_eq!(find_byte(needle, &hay), want, "{needle} in {hay:?}");
                assert_eq!(
                    portable::find_byte(needle, &hay),
                    want,
                    "{needle} in {hay:?}"
                );
            }
        }
    }

    #[test]
    fn finds_the_first_of_several_in_any_position() {
        for len in 1..70 {
            for first in 0..len {
                let mut hay = vec![b'x'; len];
                hay[first] = b' ';
                for later in (first..len).step_by(5) {
                    hay[later] = b' ';
                }
                assert_eq!(find_byte(b' ', &hay), Some(first), "{len} {first}");
                assert_eq!(
                    portable::find_byte(b' ', &hay),
                    Some(first),
                    "{len} {first}"
                );
            }
        }
    }
}
