//! Reading large plain files through a memory map.
//!
//! Why: on a 1 GB log, a tenth of `rank`'s CPU time went to the kernel
//! copying page-cache pages into read buffers (`_copy_to_iter` in `perf`).
//! Through a map the parser reads the page cache itself.
//!
//! The danger of a map: when the file shrinks while it is mapped (logrotate's
//! `copytruncate` empties the live log), touching a page past its new end
//! raises SIGBUS, which would kill the process and lose everything counted so
//! far. So every range that is read through a map is registered here first,
//! and a SIGBUS handler looks the faulting address up: inside a registered
//! span, it puts a page of zeros where the vanished page was (the faulting
//! read then completes) and marks the span; [`MappedLines`] checks the mark
//! after each line and stops with an error, so the lines before the cut are
//! counted and the input is reported as not read to its end. A fault
//! anywhere else goes on to whatever handler was there before.
//!
//! Pages behind the reader are dropped from the process every few
//! megabytes (`MADV_DONTNEED`; the page cache keeps them), so a map does not
//! make the process's resident memory grow with the file.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::lines::{Line, LineSource};
use crate::prefetch::prefetch;

/// A whole file mapped read-only; unmapped when dropped.
pub struct FileMap {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value; sending it to
// another thread moves nothing but the address of immutable bytes, and
// `Drop` unmaps it from whichever thread holds it last.
unsafe impl Send for FileMap {}
// SAFETY: `&FileMap` only reads the mapping; every mutable state of a read
// (position, guard span) lives in `MappedLines`, one per reader.
unsafe impl Sync for FileMap {}

impl FileMap {
    /// Maps `len` bytes of `file` (its size when planned). `None` when the
    /// file cannot be mapped (a pipe, a file system without mmap, a 32-bit
    /// address space) or the SIGBUS guard cannot be installed: the caller
    /// reads it instead.
    ///
    /// # Safety
    ///
    /// The map hands out `&[u8]` over the file's pages, and Rust assumes
    /// that bytes behind a `&[u8]` do not change while it lives. So, for as
    /// long as the returned map lives, the caller must make sure that:
    ///
    /// * `len` is at most the file's size now (bytes past the end of the
    ///   file are not log text);
    /// * nothing changes the first `len` bytes of the file in place: this
    ///   process writes to them through no descriptor and no other map, and
    ///   the file is one that others only append to or truncate (a log),
    ///   never one rewritten in place. Appending is harmless: bytes past
    ///   `len` are not mapped;
    /// * nothing in the process replaces the SIGBUS action installed here or
    ///   unmaps, remaps or `mprotect`s any part of the map.
    ///
    /// Reading the file through other descriptors meanwhile is fine.
    ///
    /// The file shrinking under the map (logrotate's `copytruncate`) is the
    /// one change tolerated, and only because of the SIGBUS guard (see the
    /// module docs): bytes cut off read as zeros instead of the process
    /// being killed, and the reader fails at its next line once it has
    /// touched a vanished page. Without that guard a truncation would end
    /// the process.
    pub unsafe fn new(file: &File, len: u64) -> Option<FileMap> {
        let len = usize::try_from(len).ok().filter(|&l| l > 0)?;
        install_handler()?;
        // SAFETY: a fresh read-only shared mapping of a file we hold open;
        // the kernel picks the address. Failure is reported as MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        Some(FileMap { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes for as long as `self`
        // lives. Pages that vanish are replaced by zeros (see the module
        // docs), so every byte stays readable.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }

    /// The lines that start in `[start, end)` (the last one may run past
    /// `end`). `None` when the registry of guarded spans is full (thousands
    /// of threads): read the file instead.
    pub fn lines<'m>(
        &'m self,
        start: u64,
        end: u64,
        max_line: usize,
        progress: Option<&'m AtomicU64>,
    ) -> Option<MappedLines<'m>> {
        let start = usize::try_from(start).ok()?.min(self.len);
        let end = usize::try_from(end).ok()?.min(self.len);
        // Guarded to the end of the map: a long last line may run that far.
        let base = self.ptr as usize;
        let span = register(base + start, base + self.len)?;
        Some(MappedLines {
            map: self,
            pos: start,
            end,
            max_line,
            span,
            released: start,
            reported: start,
            progress,
        })
    }
}

impl Drop for FileMap {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no slice of it
        // outlives `self` (they borrow it).
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// How far behind the reader pages are dropped, and how often progress is
/// reported: often enough to keep resident memory small, rarely enough that
/// the system calls and shared counters cost nothing measurable.
const RELEASE_EVERY: usize = 4 << 20;

/// How far ahead of the line being read its bytes are asked for: one page
/// (a quarter page, two pages or four measured no better).
const PREFETCH_AHEAD: usize = 4096;

/// Lines of a mapped file that start in a range of it.
pub struct MappedLines<'m> {
    map: &'m FileMap,
    pos: usize,
    end: usize,
    max_line: usize,
    span: usize,
    /// Pages before this offset were dropped from the process.
    released: usize,
    /// Bytes before this offset were added to `progress`.
    reported: usize,
    progress: Option<&'m AtomicU64>,
}

impl MappedLines<'_> {
    /// Drops whole pages behind the reader and reports progress.
    fn release_behind(&mut self) {
        let page = page_size();
        let until = self.pos / page * page;
        if until > self.released {
            let from = self.released.div_ceil(page) * page;
            if until > from {
                // SAFETY: whole pages inside our own mapping that nothing
                // refers to any more: every line before `pos` was handed out
                // and consumed by the caller (lines borrow `self` mutably
                // through `next_line`, so none is alive here).
                unsafe {
                    libc::madvise(
                        self.map.ptr.cast::<u8>().add(from).cast(),
                        until - from,
                        libc::MADV_DONTNEED,
                    )
                };
            }
            self.released = until;
        }
        if let Some(p) = self.progress {
            p.fetch_add((self.pos - self.reported) as u64, Ordering::Relaxed);
        }
        self.reported = self.pos;
    }
}

impl LineSource for MappedLines<'_> {
    fn position(&self) -> u64 {
        self.pos as u64
    }

    fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        if self.pos - self.released >= RELEASE_EVERY {
            self.release_behind();
        }
        let bytes = self.map.bytes();
        let start = self.pos;
        if start >= self.end {
            self.release_behind();
            return Ok(None);
        }
        // A page ahead: the hardware prefetcher does not cross into the
        // next page by itself, and the newline search below was the first
        // touch of every line, waiting on memory (a tenth of `rank` in
        // `perf`, 6-9% less wall time with this hint). Beyond the end of
        // the map it is a hint that goes nowhere.
        prefetch(bytes.as_ptr().wrapping_add(start + PREFETCH_AHEAD));
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        // Checked after the bytes were touched: a page that vanished while
        // this line was searched is a page of zeros now, not log text.
        if SPANS[self.span].vanished.load(Ordering::Relaxed) {
            return Err(io::Error::other(
                "part of the file vanished while it was read (truncated by log rotation, or a disk error)",
            ));
        }
        self.pos = (end + 1).min(bytes.len());
        let line = if end - start > self.max_line {
            Line::TooLong
        } else {
            Line::Complete(&bytes[start..end])
        };
        Ok(Some((start as u64, line)))
    }
}

impl Drop for MappedLines<'_> {
    fn drop(&mut self) {
        unregister(self.span);
    }
}

/// An address range being read through a map.
struct Span {
    start: AtomicUsize,
    end: AtomicUsize,
    vanished: AtomicBool,
}

/// One span per range being read at the same time: one per worker thread.
const SPANS_MAX: usize = 1024;

static SPANS: [Span; SPANS_MAX] = [const {
    Span {
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        vanished: AtomicBool::new(false),
    }
}; SPANS_MAX];

fn register(start: usize, end: usize) -> Option<usize> {
    // `start` is claimed first and `end` set after: the handler ignores a
    // span until its end is set.
    let index = SPANS.iter().position(|s| {
        s.start
            .compare_exchange(0, start.max(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    })?;
    SPANS[index].vanished.store(false, Ordering::Relaxed);
    SPANS[index].end.store(end, Ordering::Release);
    Some(index)
}

fn unregister(index: usize) {
    SPANS[index].end.store(0, Ordering::Release);
    SPANS[index].start.store(0, Ordering::Release);
}

fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions; an unknown name is an
        // error return (-1), which falls back to 4096 here.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(size).unwrap_or(4096)
    })
}

/// The SIGBUS action that was in place before ours, for faults that are
/// not ours. Set once, before our handler is installed.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// Installs the SIGBUS handler once. `None` if it cannot be installed:
/// then nothing is mapped.
fn install_handler() -> Option<()> {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed = *INSTALLED.get_or_init(|| {
        page_size();
        // SAFETY: plain sigaction calls with zeroed, then filled, structs;
        // the handler only does async-signal-safe work (atomics, mmap,
        // sigaction, calling the previous handler).
        unsafe {
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) != 0 {
                return false;
            }
            let _ = PREVIOUS.set(previous);
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0
        }
    });
    installed.then_some(())
}

extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let mut ours = false;
    for span in &SPANS {
        let end = span.end.load(Ordering::Acquire);
        let start = span.start.load(Ordering::Acquire);
        if start <= addr && addr < end {
            span.vanished.store(true, Ordering::Relaxed);
            ours = true;
        }
    }
    if ours {
        let page = addr & !(page_size() - 1);
        // SAFETY: replaces one page of a mapping we own, which the file no
        // longer backs, with zeros; mmap is async-signal-safe.
        let zeros = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                page_size(),
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            return;
        }
    }
    // Not ours (or no page to put there): what would have happened without
    // us. With the default action, restoring it and returning makes the
    // faulting instruction run again and the process end as it would have.
    let Some(previous) = PREVIOUS.get() else {
        return;
    };
    let handler = previous.sa_sigaction;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // SAFETY: restores the saved action; sigaction is async-signal-safe.
        unsafe { libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut()) };
    } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed with SA_SIGINFO, so
        // this is its signature.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(handler) };
        f(signal, info, context);
    } else {
        // SAFETY: a plain handler takes the signal number alone.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
        f(signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::{LineReader, drain};
    use std::io::Write;

    /// A temporary file holding `text`, and a map of all of it.
    fn mapped_file(text: &[u8]) -> (tempfile::NamedTempFile, FileMap) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text).unwrap();
        let reader = File::open(file.path()).unwrap();
        // SAFETY: the file holds exactly `text` and no test writes to it
        // again; the one that truncates it tests the tolerated change.
        let map = unsafe { FileMap::new(&reader, text.len() as u64) }.unwrap();
        (file, map)
    }

    #[test]
    fn lines_like_the_line_reader() {
        let texts: [&[u8]; 5] = [
            b"a\n\nbc\r\nlong line here\nd",
            b"\n",
            b"x\n\n",
            b"abcd\nabcde\nabc\n",
            b"abcde",
        ];
        for text in texts {
            let (_path, map) = mapped_file(text);
            for max_line in [4, 5, 64] {
                let got = drain(&mut map.lines(0, text.len() as u64, max_line, None).unwrap());
                let want = drain(&mut LineReader::new(text, max_line, 0));
                assert_eq!(got.unwrap(), want.unwrap(), "{text:?}, max {max_line}");
            }
        }
        let text = b"a\n\nbc\r\nlong line here\nd";
        let (_path, map) = mapped_file(text);
        // A range owns the lines that start in it; the last may run past it.
        let got = drain(&mut map.lines(1, 7, 4, None).unwrap()).unwrap();
        assert_eq!(
            got,
            vec![
                (1, Some(b"".to_vec())),
                (2, Some(b"".to_vec())),
                (3, Some(b"bc\r".to_vec()))
            ]
        );
    }

    #[test]
    fn progress_counts_every_byte_once() {
        let text: Vec<u8> = b"0123456789\n".repeat(1_000_000);
        let (_path, map) = mapped_file(&text);
        let progress = AtomicU64::new(0);
        let mut lines = map
            .lines(0, text.len() as u64, 64, Some(&progress))
            .unwrap();
        assert_eq!(drain(&mut lines).unwrap().len(), 1_000_000);
        assert_eq!(progress.load(Ordering::Relaxed), text.len() as u64);
    }

    #[test]
    fn a_file_truncated_under_the_map_is_an_error_not_a_crash() {
        let page = page_size();
        let line = b"x".repeat(99);
        let mut text = Vec::new();
        while text.len() < 8 * page {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        let (path, map) = mapped_file(&text);
        let mut lines = map.lines(0, text.len() as u64, 1 << 20, None).unwrap();
        // The first page is read, then the file loses all but two pages.
        let mut read = 0;
        while let Some((offset, _)) = lines.next_line().unwrap() {
            read += 1;
            if offset as usize > page / 2 {
                break;
            }
        }
        std::fs::OpenOptions::new()
            .write(true)
            .open(path.path())
            .unwrap()
            .set_len(2 * page as u64)
            .unwrap();
        let error = loop {
            match lines.next_line() {
                Ok(Some((offset, _))) => {
                    read += 1;
                    assert!(offset < 3 * page as u64, "read past the cut: {offset}");
                }
                Ok(None) => panic!("the cut went unnoticed"),
                Err(e) => break e,
            }
        };
        assert!(error.to_string().contains("vanished"), "{error}");
        assert!(read >= 2 * page / 100 - 1, "lines before the cut: {read}");
        // Other maps are unaffected.
        let (_other_path, other) = mapped_file(b"ok\n");
        let got = drain(&mut other.lines(0, 3, 16, None).unwrap()).unwrap();
        assert_eq!(got, vec![(0, Some(b"ok".to_vec()))]);
    }
}
