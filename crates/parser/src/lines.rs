//! Splitting a byte stream into lines with bounded memory.
//!
//! Logs are written by strangers, so a "line" may be gigabytes without a
//! newline. The reader keeps one fixed buffer; a line longer than the limit
//! is skipped to its end and reported as too long, never held whole.

use std::io::{self, Read};

/// One line handed out by [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's bytes without the `\n` (a `\r` before it is kept).
    Complete(&'a [u8]),
    /// A line longer than the limit; its bytes were skipped.
    TooLong,
}

/// Where the scanner gets lines from: a [`LineReader`] over any reader, or
/// a mapped file (`crate::mapped`).
pub trait LineSource {
    /// The next line and the stream offset of its first byte; `None` at the
    /// end.
    fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>>;
    /// Stream offset just past everything handed out so far.
    fn position(&self) -> u64;
}

impl<R: Read> LineSource for LineReader<R> {
    fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        LineReader::next_line(self)
    }
    fn position(&self) -> u64 {
        LineReader::position(self)
    }
}

/// Reads lines from `R` into a fixed-size buffer.
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Where to resume looking for `\n` (bytes before it have none).
    searched: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    max_line: usize,
    eof: bool,
}

/// How much is read at once.
const READ_SIZE: usize = 512 * 1024;

impl<R: Read> LineReader<R> {
    /// `start_offset` is the stream position of the first byte `reader`
    /// yields (non-zero when reading a range of a file).
    pub fn new(reader: R, max_line: usize, start_offset: u64) -> Self {
        Self::with_read_size(reader, max_line, start_offset, READ_SIZE)
    }

    /// Like [`LineReader::new`], reading `read_size` bytes at first: a short
    /// byte range should not read (and zero) a whole block. The buffer grows
    /// as lines need it, up to `max_line` plus one block.
    pub fn with_read_size(reader: R, max_line: usize, start_offset: u64, read_size: usize) -> Self {
        LineReader {
            reader,
            buf: vec![0; read_size.clamp(64, READ_SIZE)],
            start: 0,
            end: 0,
            searched: 0,
            base: start_offset,
            max_line,
            eof: false,
        }
    }

    /// Stream offset just past everything handed out so far: after the
    /// last line's `\n`, or the end of a skipped long line.
    pub fn position(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The next line and the stream offset of its first byte; `None` at the
    /// end. A last line without `\n` is returned as a complete line. On a
    /// read error the unfinished line is dropped, since it may be cut short.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.searched..self.end]) {
                let line_start = self.start;
                let line_end = self.searched + i;
                self.start = line_end + 1;
                self.searched = self.start;
                let offset = self.base + line_start as u64;
                // Judged by length alone, not by how much happened to be
                // buffered, so every way of reading a file agrees.
                if line_end - line_start > self.max_line {
                    return Ok(Some((offset, Line::TooLong)));
                }
                return Ok(Some((
                    offset,
                    Line::Complete(&self.buf[line_start..line_end]),
                )));
            }
            self.searched = self.end;
            if self.end - self.start > self.max_line {
                let offset = self.base + self.start as u64;
                self.skip_rest_of_line()?;
                return Ok(Some((offset, Line::TooLong)));
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let (line_start, line_end) = (self.start, self.end);
                self.start = self.end;
                self.searched = self.end;
                let offset = self.base + line_start as u64;
                return Ok(Some((
                    offset,
                    Line::Complete(&self.buf[line_start..line_end]),
                )));
            }
            self.fill()?;
        }
    }

    /// Moves unconsumed bytes to the front and reads more after them.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.searched -= self.start;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.max_line + READ_SIZE);
            self.buf.resize(grown, 0);
        }
        let n = read_retrying(&mut self.reader, &mut self.buf[self.end..])?;
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Ok(())
    }

    /// Drops bytes up to and including the next `\n`, or to the end.
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                self.start += i + 1;
                self.searched = self.start;
                return Ok(());
            }
            self.base += self.end as u64;
            self.start = 0;
            self.end = 0;
            self.searched = 0;
            if self.eof {
                return Ok(());
            }
            self.fill()?;
        }
    }
}

fn read_retrying<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Every line `source` hands out, with its offset (`None` for a line over
/// the limit): what tests of line sources compare.
#[cfg(test)]
pub(crate) fn drain(source: &mut impl LineSource) -> io::Result<Vec<(u64, Option<Vec<u8>>)>> {
    let mut out = Vec::new();
    while let Some((offset, line)) = source.next_line()? {
        out.push((
            offset,
            match line {
                Line::Complete(l) => Some(l.to_vec()),
                Line::TooLong => None,
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(data: &[u8], max_line: usize) -> Vec<(u64, Option<Vec<u8>>)> {
        drain(&mut LineReader::new(data, max_line, 0)).unwrap()
    }

    #[test]
    fn lines_offsets_and_last_line_without_newline() {
        let got = collect(b"a\n\nbc\r\nd", 16);
        assert_eq!(
            got,
            vec![
                (0, Some(b"a".to_vec())),
                (2, Some(b"".to_vec())),
                (3, Some(b"bc\r".to_vec())),
                (7, Some(b"d".to_vec())),
            ]
        );
        assert!(collect(b"", 16).is_empty());
        assert_eq!(collect(b"\n", 16), vec![(0, Some(Vec::new()))]);
    }

    #[test]
    fn too_long_lines_are_skipped_with_bounded_memory() {
        let mut data = vec![b'x'; 3 * (READ_SIZE + 100)];
        data.extend_from_slice(b"\nok\n");
        data.extend(vec![b'y'; 40]);
        let got = collect(&data, 32);
        assert_eq!(got[0], (0, None));
        assert_eq!(
            got[1],
            ((3 * (READ_SIZE + 100) + 1) as u64, Some(b"ok".to_vec()))
        );
        assert_eq!(got[2].1, None, "a too-long last line without newline");
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_kept() {
        let mut data = vec![b'z'; 32];
        data.push(b'\n');
        assert_eq!(collect(&data, 32), vec![(0, Some(vec![b'z'; 32]))]);
    }

    #[test]
    fn reads_in_small_pieces_give_the_same_lines() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let data = b"first line\nsecond\n\nthird without end";
        let mut r = LineReader::new(Trickle(data), 64, 100);
        let mut got = Vec::new();
        while let Some((off, Line::Complete(l))) = r.next_line().unwrap() {
            got.push((off, l.to_vec()));
        }
        assert_eq!(got.len(), 4);
        assert_eq!(got[1], (111, b"second".to_vec()));
        assert_eq!(got[3], (119, b"third without end".to_vec()));
    }

    #[test]
    fn read_errors_surface() {
        struct Broken(bool);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 {
                    return Err(io::Error::other("disk on fire"));
                }
                self.0 = true;
                buf[..4].copy_from_slice(b"a\nbc");
                Ok(4)
            }
        }
        let mut r = LineReader::new(Broken(false), 64, 0);
        assert_eq!(r.next_line().unwrap().unwrap().1, Line::Complete(b"a"));
        assert!(r.next_line().is_err());
    }
}
