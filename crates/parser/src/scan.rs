//! Reading many inputs in parallel and feeding each request to an
//! [`Accumulator`].
//!
//! Work is cut into tasks: a large plain file becomes byte ranges that are
//! read and parsed independently; a compressed file or stdin is one task
//! that decodes and parses as it goes. Tasks run on a rayon pool, each
//! thread folding into its own accumulator, merged at the end, so there is
//! no shared state on the hot path.
//!
//! A range owns every line that *starts* inside it: it begins reading one
//! byte early and drops the line in progress, and it reads past its end to
//! finish its last line. Line numbers are counted per task and fixed up
//! afterwards from the line counts of the earlier tasks of the same file.
//!
//! Results do not depend on the thread count or the chunk size: counts are
//! sums, and everything reported per line is ordered by (input, line).

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::ScanError;
use crate::format::json::JsonFields;
use crate::format::{FormatChoice, LogFormat, Records, Wants};
use crate::input::{self, Compression, CountingReader, Source};
use crate::lines::{Line, LineReader, LineSource};
#[cfg(unix)]
use crate::mapped::FileMap;
use crate::record::Request;

/// Something that consumes requests. One is made per worker; they are
/// merged pairwise at the end.
pub trait Accumulator: Send {
    /// Whether the accumulator needs requests in input order: then each
    /// task gets its own accumulator, and they are merged left to right in
    /// input order (source, then position), so `merge(self, other)` always
    /// has `other`'s requests after `self`'s. Otherwise one accumulator per
    /// worker sees tasks in whatever order the workers take them.
    const ORDERED: bool = false;

    /// Takes one parsed request. Every line that parses arrives here, before
    /// any filter or window: those are the accumulator's to apply.
    fn add(&mut self, request: &Request<'_>);
    /// Called once by each worker after its last task, on that worker's
    /// thread (so in parallel with the others), before any merge.
    fn finish(&mut self) {}
    /// Absorbs another worker's accumulator, so that `self` ends up as if it
    /// had seen both workers' requests.
    fn merge(&mut self, other: Self)
    where
        Self: Sized;
}

/// How to scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The format of every input, or detection per input.
    pub format: FormatChoice,
    /// Which JSON keys feed which field, for JSON-lines inputs (fixed or
    /// detected).
    pub json_fields: JsonFields,
    /// The optional fields the accumulator needs (client, user agent);
    /// lines are matched only as far as the last field needed.
    pub wants: Wants,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Plain files larger than this are split into ranges of this size.
    pub chunk_size: u64,
    /// Longer lines are counted as too long and skipped.
    pub max_line: usize,
    /// Stop at the first malformed line.
    pub strict: bool,
    /// How many malformed lines to keep for the report.
    pub max_samples: usize,
    /// Incremented with every input byte read (compressed bytes for
    /// compressed inputs), for a progress bar.
    pub progress: Option<Arc<AtomicU64>>,
    /// Read large plain files through a memory map (on Unix; elsewhere
    /// files are always read). When false, plain files are read with
    /// read(2) and never mapped: for file systems where a map is unsafe or
    /// slow, such as network file systems, or to keep the scan from
    /// installing its process-wide SIGBUS handler. The results are the
    /// same, except for a file truncated while it is read: through a map
    /// that is reported as a problem; read, the file just ends early.
    pub mmap: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            format: FormatChoice::Auto,
            json_fields: JsonFields::defaults(),
            wants: Wants::default(),
            threads: 0,
            chunk_size: 32 << 20,
            max_line: 1 << 20,
            strict: false,
            max_samples: 5,
            progress: None,
            mmap: true,
        }
    }
}

/// A line that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The input's name in messages: its path, or `<stdin>`.
    pub input: String,
    /// Line number within that input, counted from 1.
    pub line: u64,
    /// What was wrong with the line.
    pub reason: String,
}

/// An input that could not be read to its end. Lines read before the
/// problem were counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    /// The input's name in messages: its path, or `<stdin>`.
    pub input: String,
    /// What went wrong, and after which line when reading had begun.
    pub message: String,
}

/// The format used for one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatUse {
    /// The input's name in messages: its path, or `<stdin>`.
    pub input: String,
    /// The format's name, as [`LogFormat::name`] gives it.
    pub format: String,
    /// Whether the format was detected from the input's first lines rather
    /// than given with `--log-format`.
    pub detected: bool,
    /// Which fields the format's lines carry: an input whose format has no
    /// host, say, has every request filtered out by `--host`.
    pub records: Records,
}

/// What a scan saw, apart from what the accumulator collected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Inputs given, including those that could not be read.
    pub inputs: u64,
    /// Every line read, including blank, malformed and too long ones.
    pub lines: u64,
    /// Lines empty or all whitespace: skipped, and not malformed.
    pub blank_lines: u64,
    /// Lines the format could not read (too long ones not included).
    pub malformed: u64,
    /// Lines longer than [`ScanOptions::max_line`], skipped unread.
    pub too_long: u64,
    /// Log text read (after decompression).
    pub bytes_read: u64,
    /// Earliest request time, Unix microseconds, over every parsed line
    /// (before any filter or window); `None` when no line had a time.
    pub first_time: Option<i64>,
    /// Latest request time, as `first_time`.
    pub last_time: Option<i64>,
    /// The first malformed lines, in input and line order.
    pub malformed_samples: Vec<Malformed>,
    /// Inputs that could not be read completely, in input order.
    pub problems: Vec<InputProblem>,
    /// The format each input was read with, in input order; an input that
    /// was empty, unreadable, or in no known format has none.
    pub formats: Vec<FormatUse>,
}

/// Scans `sources` and returns the merged accumulator and the report.
pub fn scan<A, F>(
    sources: &[Source],
    options: &ScanOptions,
    new_accumulator: F,
) -> Result<(A, ScanReport), ScanError>
where
    A: Accumulator,
    F: Fn() -> A + Sync,
{
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ScanError::ThreadPool {
            threads,
            message: e.to_string(),
        })?;

    let mut report = ScanReport {
        inputs: sources.len() as u64,
        ..ScanReport::default()
    };
    let mut planning_problems = Vec::new();
    // Ordered accumulators get one per task, and each merge re-interns the
    // keys of one into another (a report spent half its time there with
    // 32 MiB ranges): cut a file into about one range per worker instead.
    let chunk_size = if A::ORDERED {
        let largest = sources
            .iter()
            .filter_map(|s| match s {
                Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                Source::Stdin => None,
            })
            .max()
            .unwrap_or(0);
        options.chunk_size.max(largest.div_ceil(threads as u64))
    } else {
        options.chunk_size
    };
    let tasks = plan(sources, options, chunk_size, &mut planning_problems);
    let abort = AtomicBool::new(false);

    // One accumulator per worker, fed from a shared queue of tasks: every
    // extra accumulator would be a whole key table to merge at the end
    // (rayon's `fold` makes several per thread), and the queue balances
    // uneven tasks.
    let queue: Vec<Mutex<Option<Task>>> = tasks.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let finished: Mutex<Vec<(A, Vec<TaskOutcome>)>> = Mutex::new(Vec::with_capacity(threads));
    pool.scope(|scope| {
        for _ in 0..threads.min(queue.len()).max(1) {
            scope.spawn(|_| {
                let mut acc = new_accumulator();
                let mut outcomes = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = queue.get(i) else { break };
                    let task = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                    let Some(task) = task else { continue };
                    if A::ORDERED {
                        let mut own = new_accumulator();
                        let outcome = run_task(task, sources, options, &abort, &mut own);
                        own.finish();
                        finished
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((own, vec![outcome]));
                    } else {
                        outcomes.push(run_task(task, sources, options, &abort, &mut acc));
                    }
                }
                if !A::ORDERED {
                    acc.finish();
                    finished
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((acc, outcomes));
                }
            });
        }
    });
    let mut finished = finished.into_inner().unwrap_or_else(|e| e.into_inner());
    if A::ORDERED {
        // One task each: put them back in input order before merging.
        finished.sort_by_key(|(_, o)| o.first().map(|o| (o.source, o.range_start)));
    }
    let mut outcomes: Vec<TaskOutcome> = Vec::new();
    let mut accumulators = Vec::with_capacity(finished.len());
    for (acc, o) in finished {
        accumulators.push(acc);
        outcomes.extend(o);
    }
    // Pairwise merges run in parallel; rayon keeps their left-to-right
    // order, which ordered accumulators rely on.
    let accumulator = pool
        .install(|| {
            accumulators.into_par_iter().reduce_with(|mut a, b| {
                a.merge(b);
                a
            })
        })
        .unwrap_or_else(&new_accumulator);

    outcomes.sort_by_key(|o| (o.source, o.range_start));
    let mut problems: Vec<(usize, u64, InputProblem)> = planning_problems;
    let mut samples: Vec<(usize, u64, String)> = Vec::new();
    let mut lines_before = 0u64;
    let mut current_source = usize::MAX;
    for o in &outcomes {
        if o.source != current_source {
            current_source = o.source;
            lines_before = 0;
        }
        report.lines += o.lines;
        report.blank_lines += o.blank_lines;
        report.malformed += o.malformed;
        report.too_long += o.too_long;
        report.bytes_read += o.bytes_read;
        report.first_time = min_opt(report.first_time, o.first_time);
        report.last_time = max_opt(report.last_time, o.last_time);
        let name = sources[o.source].display_name();
        samples.extend(
            o.samples
                .iter()
                .map(|(line, reason)| (o.source, lines_before + line, reason.to_string())),
        );
        if let Some(format) = &o.format {
            report.formats.push(format.clone());
        }
        if let Some(message) = &o.problem {
            let after = lines_before + o.lines;
            problems.push((
                o.source,
                o.range_start,
                InputProblem {
                    input: name,
                    message: if after == 0 {
                        message.clone()
                    } else {
                        format!("{message} (after line {after}; the lines before it were counted)")
                    },
                },
            ));
        }
        lines_before += o.lines;
    }
    samples.sort();
    if options.strict
        && let Some((source, line, reason)) = samples.first()
    {
        return Err(ScanError::Strict {
            input: sources[*source].display_name(),
            line: *line,
            reason: reason.clone(),
        });
    }
    samples.truncate(options.max_samples);
    report.malformed_samples = samples
        .into_iter()
        .map(|(source, line, reason)| Malformed {
            input: sources[source].display_name(),
            line,
            reason,
        })
        .collect();
    problems.sort_by_key(|(source, start, _)| (*source, *start));
    report.problems = problems.into_iter().map(|(_, _, p)| p).collect();
    Ok((accumulator, report))
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// How much of an input is read to recognise its compression and format.
const HEAD_SIZE: usize = 64 * 1024;

enum TaskKind {
    /// Lines starting in `[start, end)` of a plain file, read through
    /// `map` (shared by the file's ranges) when the file could be mapped,
    /// with read calls otherwise.
    Range {
        start: u64,
        end: u64,
        #[cfg(unix)]
        map: Option<Arc<FileMap>>,
    },
    /// A whole input, read sequentially (decompressing as needed). `head`
    /// holds the bytes already read from `file` while planning.
    Stream {
        file: Option<std::fs::File>,
        head: Vec<u8>,
        compression: Compression,
    },
}

struct Task {
    source: usize,
    kind: TaskKind,
    /// Known up front for plain files; detected in the task otherwise.
    format: Option<LogFormat>,
    detected: bool,
}

/// Opens each file once to recognise it and cuts the work into tasks.
/// Streams come first: they cannot be split, so starting them early keeps
/// the last thread from finishing long after the others.
fn plan(
    sources: &[Source],
    options: &ScanOptions,
    chunk_size: u64,
    problems: &mut Vec<(usize, u64, InputProblem)>,
) -> Vec<Task> {
    let mut streams = Vec::new();
    let mut ranges = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let path = match source {
            Source::Stdin => {
                streams.push(Task {
                    source: index,
                    kind: TaskKind::Stream {
                        file: None,
                        head: Vec::new(),
                        compression: Compression::None,
                    },
                    format: None,
                    detected: false,
                });
                continue;
            }
            Source::File(path) => path,
        };
        let mut problem = |message: String| {
            problems.push((
                index,
                0,
                InputProblem {
                    input: source.display_name(),
                    message,
                },
            ));
        };
        let mut file = match input::open_file(path) {
            Ok(f) => f,
            Err(e) => {
                problem(format!("not read: {}", error_text(&e)));
                continue;
            }
        };
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let (head, head_is_cut, head_error) = read_head(&mut file, options.max_line);
        if let Some(e) = head_error {
            problem(format!("not read: {e}"));
            continue;
        }
        let compression = Compression::detect(&head);
        if compression != Compression::None || size <= chunk_size {
            streams.push(Task {
                source: index,
                kind: TaskKind::Stream {
                    file: Some(file),
                    head,
                    compression,
                },
                format: None,
                detected: false,
            });
            continue;
        }
        let (format, detected) = match choose_format(&head, head_is_cut, options) {
            Ok(Some(choice)) => choice,
            Ok(None) => continue,
            Err(message) => {
                problem(message);
                continue;
            }
        };
        #[cfg(unix)]
        let map = if options.mmap {
            // SAFETY: `size` is the file's size read from this descriptor
            // just now; the scanner never writes to the files it reads, and
            // nothing in the workspace sets a SIGBUS action or touches the
            // map's pages. Logs are appended to and cut by rotation, not
            // rewritten in place; the cut is what the map's guard is for.
            unsafe { FileMap::new(&file, size) }.map(Arc::new)
        } else {
            None
        };
        let mut start = 0;
        while start < size {
            let end = (start + chunk_size).min(size);
            ranges.push(Task {
                source: index,
                kind: TaskKind::Range {
                    start,
                    end,
                    #[cfg(unix)]
                    map: map.clone(),
                },
                format: Some(format.clone()),
                detected,
            });
            start = end;
        }
    }
    streams.extend(ranges);
    streams
}

fn error_text(e: &ScanError) -> String {
    match e {
        ScanError::Open { error, .. } => error.to_string(),
        other => other.to_string(),
    }
}

/// Whole lines the head should hold for detection; fewer, and it is read
/// further.
const HEAD_LINES: usize = 4;

/// The first bytes of an input, for detecting its format (and, raw, its
/// compression): `HEAD_SIZE` bytes, or more when those hold fewer than
/// `HEAD_LINES` whole lines (a first line of 200 KiB must not hide the
/// lines after it), up to `max_line + HEAD_SIZE`. Also whether the input
/// goes on past the head, and the read error that ended it early, if any
/// (the bytes before the error are kept).
fn read_head(reader: &mut impl Read, max_line: usize) -> (Vec<u8>, bool, Option<io::Error>) {
    let limit = max_line.saturating_add(HEAD_SIZE);
    let mut head = Vec::new();
    let mut want = HEAD_SIZE;
    loop {
        let before = head.len();
        if let Err(e) = reader.take(want as u64).read_to_end(&mut head) {
            return (head, false, Some(e));
        }
        if head.len() - before < want {
            return (head, false, None);
        }
        let whole_lines = memchr::memchr_iter(b'\n', &head).take(HEAD_LINES).count();
        if whole_lines >= HEAD_LINES || head.len() >= limit {
            return (head, true, None);
        }
        want = head.len().min(limit - head.len());
    }
}

/// The format for an input whose first bytes are `head`: the one asked
/// for, or the one detected. `Ok(None)` for an input with no lines at all.
fn choose_format(
    head: &[u8],
    head_is_cut: bool,
    options: &ScanOptions,
) -> Result<Option<(LogFormat, bool)>, String> {
    if let FormatChoice::Fixed(f) = &options.format {
        return Ok(Some((f.clone(), false)));
    }
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if head_is_cut && lines.len() > 1 {
        lines.pop();
    }
    if lines.iter().all(|l| l.trim_ascii().is_empty()) {
        return Ok(None);
    }
    // Lines the scan skips as too long say nothing about the format.
    lines.retain(|l| l.len() <= options.max_line);
    if lines.is_empty() {
        return Err(format!(
            "not read: its first line is longer than --max-line ({} bytes), so no format can \
             be detected; pass --log-format",
            options.max_line
        ));
    }
    lines.truncate(64);
    match LogFormat::detect(&lines, &options.json_fields) {
        Some(f) => Ok(Some((f, true))),
        None => Err(
            "not read: no known log format matches its first lines; pass --log-format".to_string(),
        ),
    }
}

/// What one task saw.
struct TaskOutcome {
    source: usize,
    range_start: u64,
    lines: u64,
    blank_lines: u64,
    malformed: u64,
    too_long: u64,
    bytes_read: u64,
    first_time: Option<i64>,
    last_time: Option<i64>,
    /// Malformed lines: (line number within the task, reason).
    samples: Vec<(u64, &'static str)>,
    format: Option<FormatUse>,
    problem: Option<String>,
}

fn run_task<A: Accumulator>(
    task: Task,
    sources: &[Source],
    options: &ScanOptions,
    abort: &AtomicBool,
    acc: &mut A,
) -> TaskOutcome {
    let mut outcome = TaskOutcome {
        source: task.source,
        range_start: 0,
        lines: 0,
        blank_lines: 0,
        malformed: 0,
        too_long: 0,
        bytes_read: 0,
        first_time: None,
        last_time: None,
        samples: Vec::new(),
        format: None,
        problem: None,
    };
    let progress = options.progress.as_deref();
    let source = &sources[task.source];
    match task.kind {
        TaskKind::Range {
            start,
            end,
            #[cfg(unix)]
            map,
        } => {
            outcome.range_start = start;
            let format = task.format.expect("ranges are planned with a format");
            if start == 0 {
                outcome.format = Some(FormatUse {
                    input: source.display_name(),
                    format: format.name().to_string(),
                    detected: task.detected,
                    records: format.records(),
                });
            }
            let from = start.saturating_sub(1);
            #[cfg(unix)]
            if let Some(mut lines) = map
                .as_deref()
                .and_then(|m| m.lines(from, end, options.max_line, progress))
            {
                read_range(
                    &mut lines,
                    (start, end),
                    &format,
                    options,
                    abort,
                    acc,
                    &mut outcome,
                );
                return outcome;
            }
            let Source::File(path) = source else {
                unreachable!("only files are split into ranges")
            };
            let opened = input::open_file(path)
                .map_err(|e| error_text(&e))
                .and_then(|mut f| {
                    f.seek(SeekFrom::Start(from)).map_err(|e| e.to_string())?;
                    Ok(f)
                });
            match opened {
                Ok(file) => {
                    let reader = CountingReader::new(file, progress);
                    let read_size = usize::try_from(end - from).unwrap_or(usize::MAX);
                    let mut lines =
                        LineReader::with_read_size(reader, options.max_line, from, read_size);
                    read_range(
                        &mut lines,
                        (start, end),
                        &format,
                        options,
                        abort,
                        acc,
                        &mut outcome,
                    );
                }
                Err(message) => outcome.problem = Some(format!("not read: {message}")),
            }
        }
        TaskKind::Stream {
            file,
            head,
            compression,
        } => {
            // Files were sniffed while planning; stdin is sniffed here.
            let (compression, raw): (Compression, Box<dyn Read>) = match file {
                Some(f) => (
                    compression,
                    Box::new(CountingReader::new(Cursor::new(head).chain(f), progress)),
                ),
                None => {
                    let mut stdin = CountingReader::new(io::stdin().lock(), progress);
                    match input::read_head(&mut stdin, 4) {
                        Ok(magic) => (
                            Compression::detect(&magic),
                            Box::new(Cursor::new(magic).chain(stdin)),
                        ),
                        Err(e) => {
                            outcome.problem = Some(format!("read error: {e}"));
                            return outcome;
                        }
                    }
                }
            };
            let mut decoded = input::decoder(raw, compression);
            let (text_head, head_is_cut, head_error) = read_head(&mut decoded, options.max_line);
            let (format, detected) = match choose_format(&text_head, head_is_cut, options) {
                Ok(Some(choice)) => choice,
                Ok(None) => {
                    if let Some(e) = head_error {
                        outcome.problem = Some(describe_stream_error(compression, &e));
                    }
                    return outcome;
                }
                Err(message) => {
                    outcome.problem = Some(match head_error {
                        Some(e) => describe_stream_error(compression, &e),
                        None => message,
                    });
                    return outcome;
                }
            };
            outcome.format = Some(FormatUse {
                input: source.display_name(),
                format: format.name().to_string(),
                detected,
                records: format.records(),
            });
            let rest: Box<dyn Read> = match head_error {
                Some(e) => Box::new(ErrorAfter(Some(e))),
                None => decoded,
            };
            let mut lines =
                LineReader::new(Cursor::new(text_head).chain(rest), options.max_line, 0);
            if let Err(e) = read_lines(&mut lines, None, &format, options, abort, acc, &mut outcome)
            {
                outcome.problem = Some(describe_stream_error(compression, &e));
            }
        }
    }
    outcome
}

fn describe_stream_error(compression: Compression, e: &io::Error) -> String {
    match compression {
        Compression::None => format!("read error: {e}"),
        c => format!("damaged or truncated {} data: {e}", c.name()),
    }
}

/// Replays a read error that happened while the head was read.
struct ErrorAfter(Option<io::Error>);

impl Read for ErrorAfter {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Reads the lines that start in `[start, end)` from `lines`, which begins
/// one byte before `start`; a read error becomes the range's problem.
fn read_range<A: Accumulator>(
    lines: &mut impl LineSource,
    (start, end): (u64, u64),
    format: &LogFormat,
    options: &ScanOptions,
    abort: &AtomicBool,
    acc: &mut A,
    outcome: &mut TaskOutcome,
) {
    // The line in progress at `start - 1` belongs to the range before.
    let skipped = if start > 0 {
        lines.next_line().map(|_| ())
    } else {
        Ok(())
    };
    let read =
        skipped.and_then(|()| read_lines(lines, Some(end), format, options, abort, acc, outcome));
    if let Err(e) = read {
        outcome.problem = Some(format!("read error: {e}"));
    }
}

/// The hot loop: split, parse, accumulate. `end` bounds a range: lines
/// starting at or after it belong to the next range.
fn read_lines<A: Accumulator>(
    lines: &mut impl LineSource,
    end: Option<u64>,
    format: &LogFormat,
    options: &ScanOptions,
    abort: &AtomicBool,
    acc: &mut A,
    outcome: &mut TaskOutcome,
) -> io::Result<()> {
    let mut parser = format.line_parser_with(options.wants);
    // Bytes read are measured between stream positions, so skipped long
    // lines and a last line without `\n` count as what they are. The
    // position at the top of a round is the end of the previous line: the
    // last one this task owned when the loop stops.
    let first = lines.position();
    let mut owned_end;
    let result = loop {
        owned_end = lines.position();
        let (offset, line) = match lines.next_line() {
            Ok(Some(next)) => next,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        if end.is_some_and(|end| offset >= end) || abort.load(Ordering::Relaxed) {
            break Ok(());
        }
        outcome.lines += 1;
        let line = match line {
            Line::Complete(l) => l,
            Line::TooLong => {
                outcome.too_long += 1;
                note_malformed(
                    outcome,
                    options,
                    abort,
                    "line longer than the limit (--max-line)",
                );
                continue;
            }
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() {
            outcome.blank_lines += 1;
            continue;
        }
        match parser.parse(line) {
            Ok(request) => {
                if let Some(t) = request.time {
                    outcome.first_time = Some(outcome.first_time.map_or(t, |f| f.min(t)));
                    outcome.last_time = Some(outcome.last_time.map_or(t, |l| l.max(t)));
                }
                acc.add(&request);
            }
            Err(e) => {
                outcome.malformed += 1;
                note_malformed(outcome, options, abort, e.0);
            }
        }
    };
    outcome.bytes_read += owned_end - first;
    result
}

fn note_malformed(
    outcome: &mut TaskOutcome,
    options: &ScanOptions,
    abort: &AtomicBool,
    reason: &'static str,
) {
    if outcome.samples.len() < options.max_samples.max(1) {
        outcome.samples.push((outcome.lines, reason));
    }
    if options.strict {
        abort.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;

    /// Counts targets, enough to compare scans.
    #[derive(Default)]
    struct Targets(std::collections::BTreeMap<Vec<u8>, u64>);

    impl Accumulator for Targets {
        fn add(&mut self, r: &Request<'_>) {
            if let Some(t) = r.target {
                *self.0.entry(t.to_vec()).or_default() += 1;
            }
        }
        fn merge(&mut self, other: Self) {
            for (k, v) in other.0 {
                *self.0.entry(k).or_default() += v;
            }
        }
    }

    fn line(i: usize) -> String {
        format!(
            "10.0.0.{} - - [01/May/2024:00:00:{:02} +0000] \"GET /k{} HTTP/1.1\" 200 {} \"-\" \"ua\"\n",
            i % 250,
            i % 60,
            i % 17,
            i
        )
    }

    fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hotkeys-scan-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn run(sources: &[Source], options: &ScanOptions) -> (Targets, ScanReport) {
        scan(sources, options, Targets::default).unwrap()
    }

    #[test]
    fn ranges_give_the_same_result_as_one_stream() {
        let mut text = String::new();
        for i in 0..1000 {
            text.push_str(&line(i));
            if i % 97 == 0 {
                text.push_str("garbage line\n\n");
            }
        }
        let path = temp_file("ranges.log", text.as_bytes());
        let sources = vec![Source::File(path)];
        let whole = run(
            &sources,
            &ScanOptions {
                threads: 1,
                ..ScanOptions::default()
            },
        );
        for chunk in [1u64, 7, 100, 4096, 50_000] {
            for threads in [1, 2, 3] {
                for mmap in [true, false] {
                    let options = ScanOptions {
                        threads,
                        chunk_size: chunk,
                        mmap,
                        ..ScanOptions::default()
                    };
                    let got = run(&sources, &options);
                    let case = format!("chunk {chunk} threads {threads} mmap {mmap}");
                    assert_eq!(got.0.0, whole.0.0, "{case}");
                    assert_eq!(got.1, whole.1, "{case}");
                }
            }
        }
        assert_eq!(whole.1.bytes_read, text.len() as u64);
        assert_eq!(whole.1.lines, 1000 + 11 * 2);
        assert_eq!(whole.1.malformed, 11);
        assert_eq!(whole.1.blank_lines, 11);
        assert_eq!(whole.1.malformed_samples[0].line, 2);
        // line(97) is line 100: 97 lines and two extra per garbage block before it.
        assert_eq!(whole.1.malformed_samples[1].line, 101);
        assert_eq!(whole.1.formats[0].format, "combined");
    }

    /// Keeps targets in the order it saw them; merging appends.
    #[derive(Default)]
    struct InOrder(Vec<Vec<u8>>);

    impl Accumulator for InOrder {
        const ORDERED: bool = true;
        fn add(&mut self, r: &Request<'_>) {
            self.0.extend(r.target.map(<[u8]>::to_vec));
        }
        fn merge(&mut self, other: Self) {
            self.0.extend(other.0);
        }
    }

    #[test]
    fn ordered_accumulators_see_input_order_whatever_the_chunking() {
        let text: String = (0..3000).map(line).collect();
        let a = temp_file("ordered-a.log", text.as_bytes());
        let b = temp_file("ordered-b.log", line(7).as_bytes());
        let sources = vec![Source::File(a), Source::File(b)];
        let serial = scan(
            &sources,
            &ScanOptions {
                threads: 1,
                ..ScanOptions::default()
            },
            InOrder::default,
        )
        .unwrap()
        .0;
        assert_eq!(serial.0.len(), 3001);
        for (chunk, threads) in [(4096, 2), (1000, 3), (50_000, 2)] {
            let options = ScanOptions {
                threads,
                chunk_size: chunk,
                ..ScanOptions::default()
            };
            let got = scan(&sources, &options, InOrder::default).unwrap().0;
            assert!(
                got.0 == serial.0,
                "chunk {chunk} threads {threads}: order differs"
            );
        }
    }

    #[test]
    fn truncated_gzip_keeps_what_was_read_and_names_the_problem() {
        let text: String = (0..30_000).map(line).collect();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        let gz = e.finish().unwrap();
        let path = temp_file("cut.log.gz", &gz[..gz.len() * 2 / 3]);
        let (targets, report) = run(&[Source::File(path)], &ScanOptions::default());
        let counted: u64 = targets.0.values().sum();
        assert!(counted > 10_000 && counted < 30_000, "{counted}");
        assert_eq!(counted, report.lines);
        assert_eq!(report.problems.len(), 1);
        assert!(
            report.problems[0].message.contains("gzip"),
            "{:?}",
            report.problems
        );
    }

    #[test]
    fn missing_and_undetectable_inputs_are_problems_not_errors() {
        let good = temp_file("good.log", line(1).as_bytes());
        let junk = temp_file("junk.log", b"this is not a log\n");
        let sources = vec![
            Source::File(good),
            Source::File(PathBuf::from("/nonexistent/x.log")),
            Source::File(junk),
        ];
        let (targets, report) = run(&sources, &ScanOptions::default());
        assert_eq!(targets.0.values().sum::<u64>(), 1);
        assert_eq!(report.problems.len(), 2);
        assert!(report.problems[0].input.contains("nonexistent"));
        assert!(report.problems[1].message.contains("--log-format"));
    }

    /// A first line longer than the detection head (but under --max-line,
    /// or over it) does not hide the format of the lines after it, in a
    /// plain file read in ranges and in a compressed stream alike.
    #[test]
    fn a_long_first_line_does_not_hide_the_format() {
        let long = format!("{}\n", "x".repeat(200 * 1024));
        let text = format!("{long}{}{}", line(1), line(2));
        let plain = temp_file("long-first.log", text.as_bytes());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
        let gzipped = temp_file("long-first.log.gz", &gz.finish().unwrap());
        for max_line in [1 << 20, 300 * 1024] {
            for chunk_size in [32 << 20, 4096] {
                let options = ScanOptions {
                    max_line,
                    chunk_size,
                    ..ScanOptions::default()
                };
                for path in [&plain, &gzipped] {
                    let (targets, report) = run(&[Source::File(path.clone())], &options);
                    let case = format!("{} max_line {max_line} chunk {chunk_size}", path.display());
                    assert!(report.problems.is_empty(), "{case}: {:?}", report.problems);
                    assert_eq!(report.formats[0].format, "combined", "{case}");
                    assert_eq!(targets.0.values().sum::<u64>(), 2, "{case}");
                }
            }
        }
        // A first line over --max-line: detection says so, and the format
        // given by name reads the rest, the long line counted as too long.
        let options = ScanOptions {
            max_line: 64 * 1024,
            ..ScanOptions::default()
        };
        let (_, report) = run(&[Source::File(plain.clone())], &options);
        assert!(
            report.problems[0]
                .message
                .contains("longer than --max-line"),
            "{:?}",
            report.problems
        );
        // A problem before any line says so without "after line 0".
        assert!(!report.problems[0].message.contains("after line 0"));
        let named = ScanOptions {
            format: FormatChoice::parse("combined", &JsonFields::defaults()).unwrap(),
            ..options
        };
        let (targets, report) = run(&[Source::File(plain)], &named);
        assert_eq!((targets.0.values().sum::<u64>(), report.too_long), (2, 1));
    }

    #[test]
    fn strict_stops_at_the_first_malformed_line() {
        let text = format!("{}bad\n{}", line(1), line(2));
        let path = temp_file("strict.log", text.as_bytes());
        let options = ScanOptions {
            strict: true,
            format: FormatChoice::parse("combined", &JsonFields::defaults()).unwrap(),
            ..ScanOptions::default()
        };
        let err = scan(&[Source::File(path)], &options, Targets::default)
            .err()
            .unwrap();
        assert!(matches!(err, ScanError::Strict { line: 2, .. }), "{err}");
    }

    /// Cuts a file to nothing when it sees its first request.
    struct Truncates(Option<PathBuf>);

    impl Accumulator for Truncates {
        fn add(&mut self, _: &Request<'_>) {
            if let Some(path) = self.0.take() {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
            }
        }
        fn merge(&mut self, _: Self) {}
    }

    /// Tells whether ranges are mapped by what a map alone does: a file cut
    /// while it is read is reported as vanished through a map, and just
    /// ends early when read.
    #[test]
    fn mmap_off_reads_ranges_instead_of_mapping_them() {
        let text: String = (0..20_000).map(line).collect();
        for mmap in [true, false] {
            let path = temp_file(&format!("cut-while-read-{mmap}.log"), text.as_bytes());
            let options = ScanOptions {
                threads: 1,
                chunk_size: 64 << 10,
                mmap,
                ..ScanOptions::default()
            };
            let cut = path.clone();
            let (_, report) = scan(&[Source::File(path)], &options, || {
                Truncates(Some(cut.clone()))
            })
            .unwrap();
            assert!(
                report.lines > 0 && report.lines < 20_000,
                "{}",
                report.lines
            );
            if mmap && cfg!(unix) {
                assert!(!report.problems.is_empty(), "the cut went unnoticed");
                for p in &report.problems {
                    assert!(p.message.contains("vanished"), "{}", p.message);
                }
            } else {
                assert_eq!(report.problems, [], "mmap {mmap}");
            }
        }
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        fn arbitrary_line() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                6 => (0..40usize, 0..3usize).prop_map(|(k, ending)| {
                    let mut l = line(k).into_bytes();
                    l.pop();
                    if ending == 1 {
                        l.push(b'\r');
                    }
                    l
                }),
                1 => Just(b"garbage".to_vec()),
                1 => Just(Vec::new()),
                1 => (100..300usize).prop_map(|n| vec![b'x'; n]),
                1 => proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..80),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            /// Any chunking and thread count gives exactly the serial result,
            /// whether ranges are mapped or read.
            #[test]
            fn chunking_never_changes_the_result(
                lines in proptest::collection::vec(arbitrary_line(), 1..120),
                final_newline in any::<bool>(),
                chunk in 1u64..600,
                threads in 1usize..4,
            ) {
                let mut text = lines.join(&b'\n');
                if final_newline {
                    text.push(b'\n');
                }
                let path = temp_file(&format!("prop-{chunk}-{threads}.log"), &text);
                let sources = vec![Source::File(path)];
                let base = ScanOptions {
                    format: FormatChoice::parse("combined", &JsonFields::defaults()).unwrap(),
                    max_line: 200,
                    ..ScanOptions::default()
                };
                let serial = run(&sources, &ScanOptions { threads: 1, chunk_size: u64::MAX, ..base.clone() });
                let mapped = run(&sources, &ScanOptions { threads, chunk_size: chunk, ..base.clone() });
                let read = run(&sources, &ScanOptions { threads, chunk_size: chunk, mmap: false, ..base });
                prop_assert_eq!(&mapped.0.0, &serial.0.0);
                prop_assert_eq!(&mapped.1, &serial.1);
                prop_assert_eq!(&read.0.0, &serial.0.0);
                prop_assert_eq!(&read.1, &serial.1);
                prop_assert_eq!(serial.1.lines, lines.len() as u64 - u64::from(!final_newline && lines.last().is_some_and(|l| l.is_empty())));
            }
        }
    }
}
