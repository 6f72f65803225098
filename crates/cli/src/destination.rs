//! Where an output goes, decided before any input is read: stdout, a
//! device or pipe written in place, or a regular file replaced atomically.
//!
//! A nightly job trusts the last good file, so a file output is written
//! next to its target and renamed over it only when the whole output is
//! there: a failed or interrupted run leaves the previous file as it was.
//! The temporary file is created when the destination is prepared, which
//! proves the directory writable before minutes of reading, and it is
//! removed on every exit that can run code: an error, a panic, or SIGINT,
//! SIGTERM and SIGHUP (see [`remove_on_signals`]). SIGKILL leaves it behind,
//! named `.hotkeys-*` beside the target.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use hotkeys_parser::input::Source;

/// Temporary files to remove if a signal ends the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A prepared output.
#[derive(Debug)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A device, FIFO, socket or a process's descriptor (`/dev/stdout`,
    /// `/proc/self/fd/1`): opened and written as it is, never replaced.
    InPlace(PathBuf),
    /// A regular file (or a link to one), replaced by `temp` when done.
    Replace(Replacement),
}

/// A temporary file waiting to replace its target.
#[derive(Debug)]
pub struct Replacement {
    /// The file that will be replaced: the final target of a symlink, so
    /// that the link itself stays a link.
    target: PathBuf,
    temp: PathBuf,
    file: Option<File>,
}

impl Destination {
    /// Decides how `path` is written (stdout for `None`), and refuses a
    /// path that is one of `inputs`. `what` names the option in messages.
    pub fn prepare(path: Option<&Path>, inputs: &[Source], what: &str) -> Result<Destination> {
        let Some(path) = path else {
            return Ok(Destination::Stdout);
        };
        if is_descriptor_link(path) {
            return Ok(Destination::InPlace(path.to_owned()));
        }
        // A symlink is written through: its target is what gets replaced.
        let target = match std::fs::canonicalize(path) {
            Ok(resolved) => resolved,
            Err(e) if e.kind() == io::ErrorKind::NotFound => resolve_dangling(path),
            Err(e) => {
                return Err(e).with_context(|| format!("{what} {}", path.display()));
            }
        };
        match std::fs::metadata(&target) {
            Ok(m) if m.is_dir() => bail!(
                "{what} {}: is a directory; give a file name",
                path.display()
            ),
            Ok(m) if !m.is_file() => return Ok(Destination::InPlace(path.to_owned())),
            _ => {}
        }
        if let Some(input) = inputs.iter().find(|i| same_file(i, &target)) {
            let Source::File(input) = input else {
                unreachable!("stdin is never a file")
            };
            bail!(
                "{what} {} is also an input ({}): give another output file",
                path.display(),
                input.display()
            );
        }
        Ok(Destination::Replace(
            Replacement::create(target)
                .with_context(|| format!("{what} {}: cannot write there", path.display()))?,
        ))
    }

    /// Runs `render` into the destination. `None`: the reader of stdout
    /// went away (`| head`), which is its choice, not an error.
    pub fn write<T>(
        self,
        render: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    ) -> Result<Option<T>> {
        match self {
            Destination::Stdout => match render_buffered(io::stdout().lock(), render) {
                Ok(s) => Ok(Some(s)),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(None),
                Err(e) => Err(e).context("cannot write to stdout"),
            },
            Destination::InPlace(path) => {
                let fail = || format!("cannot write {}", path.display());
                // Append, so that `-o /dev/stdout >> log` adds to the log
                // as the shell was told to.
                let file = OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .with_context(fail)?;
                render_buffered(file, render).with_context(fail).map(Some)
            }
            Destination::Replace(mut r) => {
                let fail = format!("cannot write {}", r.target.display());
                let file = r.file.take().expect("a replacement is written once");
                let result = render_buffered(&file, render).context(fail.clone())?;
                file.sync_all().context(fail.clone())?;
                r.persist().context(fail)?;
                Ok(Some(result))
            }
        }
    }
}

impl Replacement {
    /// Creates the temporary file beside `target`, with the mode the
    /// target has, or the mode a new file gets under the umask.
    fn create(target: PathBuf) -> io::Result<Replacement> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The pid tells runs apart; `create_new` skips names left behind
        // by a killed run that had the same pid.
        for attempt in 0..100u32 {
            let temp = dir.join(format!(".hotkeys-{}-{attempt}.{name}", std::process::id()));
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                // The kernel applies the umask, as for any new file.
                options.mode(0o666);
            }
            match options.open(&temp) {
                Ok(file) => {
                    if let Ok(existing) = std::fs::metadata(&target) {
                        file.set_permissions(existing.permissions())?;
                    }
                    register(&temp);
                    return Ok(Replacement {
                        target,
                        temp,
                        file: Some(file),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("no free temporary file name"))
    }

    fn persist(&mut self) -> io::Result<()> {
        std::fs::rename(&self.temp, &self.target)?;
        unregister(&self.temp);
        self.temp = PathBuf::new();
        Ok(())
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp);
            unregister(&self.temp);
        }
    }
}

/// `/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1` and links to them name an
/// open descriptor of this process: written in place, whatever it is.
fn is_descriptor_link(path: &Path) -> bool {
    let mut current = path.to_owned();
    for _ in 0..16 {
        let text = current.to_string_lossy();
        if ["/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/"]
            .iter()
            .any(|p| text.starts_with(p))
            || (text.starts_with("/proc/") && text.contains("/fd/"))
        {
            return true;
        }
        match std::fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                }
            }
            Err(_) => return false,
        }
    }
    false
}

/// The file a dangling symlink (or a new path) would create.
fn resolve_dangling(path: &Path) -> PathBuf {
    let mut current = path.to_owned();
    for _ in 0..16 {
        match std::fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                }
            }
            Err(_) => break,
        }
    }
    current
}

/// Whether `input` is the file at `target`.
fn same_file(input: &Source, target: &Path) -> bool {
    let Source::File(input) = input else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(input), std::fs::metadata(target)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    std::fs::canonicalize(input).is_ok_and(|p| p == target)
}

fn register(path: &Path) {
    if let Ok(mut pending) = PENDING.lock() {
        pending.push(path.to_owned());
    }
}

fn unregister(path: &Path) {
    if let Ok(mut pending) = PENDING.lock() {
        pending.retain(|p| p != path);
    }
}

/// Removes the pending temporary files when SIGINT, SIGTERM or SIGHUP ends
/// the process, then exits as the signal would have (128 + its number).
pub fn remove_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            remove_pending();
            std::process::exit(128 + signal);
        }
    });
}

/// Removes every temporary file not yet renamed into place: for exits that
/// skip destructors.
pub fn remove_pending() {
    if let Ok(pending) = PENDING.lock() {
        for path in pending.iter() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Runs `render` into a large buffer over `sink` and flushes it.
fn render_buffered<W: Write, T>(
    sink: W,
    render: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    let mut out = BufWriter::with_capacity(256 * 1024, sink);
    let result = render(&mut out)?;
    out.flush()?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_text(dest: Destination, text: &str) {
        dest.write(|out| out.write_all(text.as_bytes())).unwrap();
    }

    #[test]
    fn a_file_is_replaced_whole_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let dest = Destination::prepare(Some(&path), &[], "-o").unwrap();
        // Until written, the old content stays.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        write_text(dest, "new");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "a temporary file left"
        );
    }

    #[test]
    fn a_symlink_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_text(Destination::prepare(Some(&link), &[], "-o").unwrap(), "new");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        // A dangling link creates its target.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink("made.json", &dangling).unwrap();
        write_text(
            Destination::prepare(Some(&dangling), &[], "-o").unwrap(),
            "x",
        );
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("made.json")).unwrap(),
            "x"
        );
    }

    #[test]
    fn an_abandoned_output_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.json");
        std::fs::write(&path, "old").unwrap();
        let dest = Destination::prepare(Some(&path), &[], "-o").unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        drop(dest);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn mistakes_are_found_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        std::fs::write(&log, "x").unwrap();
        let err = Destination::prepare(Some(&log), &[Source::File(log.clone())], "-o")
            .unwrap_err()
            .to_string();
        assert!(err.contains("also an input"), "{err}");
        let missing = dir.path().join("no/such/dir/list.json");
        let err = format!(
            "{:#}",
            Destination::prepare(Some(&missing), &[], "-o").unwrap_err()
        );
        assert!(err.contains("cannot write there"), "{err}");
        let err = Destination::prepare(Some(dir.path()), &[], "-o")
            .unwrap_err()
            .to_string();
        assert!(err.contains("directory"), "{err}");
    }

    #[test]
    fn descriptors_are_written_in_place() {
        assert!(is_descriptor_link(Path::new("/dev/stdout")));
        assert!(is_descriptor_link(Path::new("/proc/self/fd/1")));
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("L");
        std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
        assert!(is_descriptor_link(&link));
        assert!(!is_descriptor_link(&dir.path().join("plain")));
    }
}
