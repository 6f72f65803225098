//! Where log bytes come from: files, directories, stdin; compressed or not.
//!
//! Compression is recognised from the first bytes, never from the file name:
//! rotated logs are renamed by many tools and `access.log.2` may well be
//! gzip.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ScanError;

/// One log input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A file, plain or compressed. Directories are meant to be expanded
    /// into their files first, by [`expand_inputs`].
    File(PathBuf),
    /// Standard input, read once as a stream (so it cannot be split across
    /// threads or read a second time).
    Stdin,
}

impl Source {
    /// The name used in messages: the path, or `<stdin>`.
    pub fn display_name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }
}

/// Turns command-line arguments into sources: `-` is stdin, a directory
/// stands for every regular file inside it (sorted by name, not recursive;
/// hidden files skipped), anything else is a file.
///
/// Nothing here fails: a path that cannot be examined (missing, no
/// permission, an unreadable directory) stays in the list as a file, and
/// the scan reports it as an input it could not read while the other inputs
/// are still counted.
pub fn expand_inputs(args: &[PathBuf]) -> Vec<Source> {
    let mut sources = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        let listing = std::fs::metadata(arg)
            .ok()
            .filter(|m| m.is_dir())
            .and_then(|_| std::fs::read_dir(arg).ok());
        let Some(entries) = listing else {
            sources.push(Source::File(arg.clone()));
            continue;
        };
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            // metadata() follows symlinks, so a link to a log counts.
            let is_file = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
            if is_file && !hidden {
                files.push(entry.path());
            }
        }
        files.sort();
        sources.extend(files.into_iter().map(Source::File));
    }
    sources
}

/// How an input is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain text: no known magic number at the start.
    None,
    /// gzip, possibly several members one after another.
    Gzip,
    /// Zstandard, possibly several frames one after another.
    Zstd,
    /// bzip2, possibly several streams one after another.
    Bzip2,
}

impl Compression {
    /// Recognises the format from its magic number.
    pub fn detect(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Compression::Bzip2,
            _ => Compression::None,
        }
    }

    /// Lower-case name for messages: `plain`, `gzip`, `zstd` or `bzip2`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// Counts bytes as they are read, for the progress bar.
pub(crate) struct CountingReader<'p, R> {
    inner: R,
    counter: Option<&'p AtomicU64>,
}

impl<'p, R: Read> CountingReader<'p, R> {
    /// Reads from `inner`, adding each read's byte count to `counter`.
    pub(crate) fn new(inner: R, counter: Option<&'p AtomicU64>) -> Self {
        CountingReader { inner, counter }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = self.counter {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// A reader that first replays bytes already taken from `inner` (to sniff
/// the compression), then continues with `inner`.
pub type Replay<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Reads up to `n` bytes from the start of `reader` (fewer only at the end).
pub fn read_head<R: Read>(reader: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader.by_ref().take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Wraps `reader` in the decoder its first bytes call for. Every gzip member
/// and zstd frame is read, since `cat a.gz b.gz` and `logrotate`'s
/// `delaycompress` produce multi-member files.
pub fn decoder<'r, R: Read + 'r>(reader: R, compression: Compression) -> Box<dyn Read + 'r> {
    match compression {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            256 * 1024,
            reader,
        ))),
        Compression::Zstd => match zstd::stream::read::Decoder::new(reader) {
            Ok(d) => Box::new(d),
            Err(e) => Box::new(FailingReader(Some(e))),
        },
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
    }
}

/// Stands in for a decoder that could not even start, so the error surfaces
/// at the first read like any other damage.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("decoder failed")))
    }
}

/// Opens a file for reading, naming it in the error.
pub fn open_file(path: &Path) -> Result<File, ScanError> {
    File::open(path).map_err(|error| ScanError::Open {
        path: path.display().to_string(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn magic_numbers() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::detect(b"BZx"), Compression::None);
        assert_eq!(Compression::detect(b"1.2.3.4 - -"), Compression::None);
        assert_eq!(Compression::detect(b""), Compression::None);
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode_all(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decoder(bytes, Compression::detect(bytes)).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn every_gzip_member_and_zstd_frame_is_read() {
        let mut two = gzip(b"a\n");
        two.extend(gzip(b"b\n"));
        assert_eq!(decode_all(&two).unwrap(), b"a\nb\n");

        let mut z = zstd::encode_all(&b"c\n"[..], 1).unwrap();
        z.extend(zstd::encode_all(&b"d\n"[..], 1).unwrap());
        assert_eq!(decode_all(&z).unwrap(), b"c\nd\n");

        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(b"e\n").unwrap();
        assert_eq!(decode_all(&bz.finish().unwrap()).unwrap(), b"e\n");
    }

    #[test]
    fn truncated_gzip_is_an_error_after_its_good_part() {
        let data: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let gz = gzip(&data);
        let cut = &gz[..gz.len() / 2];
        let mut out = Vec::new();
        let err = decoder(cut, Compression::Gzip).read_to_end(&mut out);
        assert!(err.is_err());
    }

    #[test]
    fn directories_expand_to_their_sorted_visible_files() {
        let dir = tempdir();
        for name in ["b.log", "a.log", ".hidden"] {
            std::fs::write(dir.join(name), "x\n").unwrap();
        }
        std::fs::create_dir(dir.join("sub")).unwrap();
        let got = expand_inputs(&[dir.clone(), PathBuf::from("-")]);
        assert_eq!(
            got,
            vec![
                Source::File(dir.join("a.log")),
                Source::File(dir.join("b.log")),
                Source::Stdin
            ]
        );
        // Reported later by the scan, which goes on with the other inputs.
        let missing = expand_inputs(&[dir.join("nope")]);
        assert_eq!(missing, vec![Source::File(dir.join("nope"))]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hotkeys-input-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
