//! Progress bars on stderr for long runs, and only on a terminal: scripts
//! and CI logs get no control characters. A side thread polls the run's
//! counters, so the workers only pay for relaxed atomic adds.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hotkeys_parser::input::Source;
use hotkeys_warmer::Control;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar redrawn from a side thread until it is finished or dropped.
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// No bar at all.
    fn none() -> Progress {
        Progress {
            done: Arc::new(AtomicBool::new(false)),
            thread: None,
        }
    }

    /// Draws `bar` with `template`, calling `update` every 100 ms.
    fn start(
        bar: ProgressBar,
        template: &str,
        update: impl Fn(&ProgressBar) + Send + 'static,
    ) -> Progress {
        let mut progress = Progress::none();
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let done = Arc::clone(&progress.done);
        progress.thread = Some(std::thread::spawn(move || {
            // Short runs finish before the bar would be worth drawing.
            std::thread::sleep(Duration::from_millis(300));
            while !done.load(Ordering::Relaxed) {
                update(&bar);
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        }));
        progress
    }

    /// Bytes read of the inputs' total (a spinner for stdin). Returns the
    /// counter for the scanner to add to.
    pub fn reading(inputs: &[Source], quiet: bool) -> (Progress, Option<Arc<AtomicU64>>) {
        if !wanted(quiet) {
            return (Progress::none(), None);
        }
        let total: u64 = inputs
            .iter()
            .filter_map(|s| match s {
                Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                Source::Stdin => None,
            })
            .sum();
        let bar = if inputs.contains(&Source::Stdin) {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::new(total)
        };
        let counter = Arc::new(AtomicU64::new(0));
        let read = Arc::clone(&counter);
        let progress = Progress::start(
            bar,
            "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {wide_bar}",
            move |bar| bar.set_position(read.load(Ordering::Relaxed)),
        );
        (progress, Some(counter))
    }

    /// Keys done of the warm list, with the failures so far.
    pub fn warming(control: &Control, quiet: bool) -> Progress {
        if !wanted(quiet) {
            return Progress::none();
        }
        let control = control.clone();
        Progress::start(
            ProgressBar::new(0),
            "{spinner} warming {pos}/{len} keys ({per_sec}, {eta} left) {msg} {wide_bar}",
            move |bar| {
                let p = control.progress();
                bar.set_length(p.total);
                bar.set_position(p.done());
                bar.set_message(if p.failed > 0 {
                    format!("{} failed", p.failed)
                } else {
                    String::new()
                });
            },
        )
    }

    /// Removes the bar before the run's summary is printed.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}
