//! A progress bar on stderr for long runs, and only on a terminal: scripts
//! and CI logs get no control characters.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hotkeys_parser::input::Source;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Polls the scanner's byte counter from a side thread, so workers only
/// pay for one relaxed atomic add per read.
pub struct Progress {
    counter: Option<Arc<AtomicU64>>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    pub fn start(inputs: &[Source], quiet: bool) -> Progress {
        let mut progress = Progress {
            counter: None,
            done: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        if quiet || !std::io::stderr().is_terminal() {
            return progress;
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
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {wide_bar}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let counter = Arc::new(AtomicU64::new(0));
        let (c, done) = (Arc::clone(&counter), Arc::clone(&progress.done));
        progress.thread = Some(std::thread::spawn(move || {
            // Short runs finish before the bar would be worth drawing.
            std::thread::sleep(Duration::from_millis(300));
            while !done.load(Ordering::Relaxed) {
                bar.set_position(c.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        }));
        progress.counter = Some(counter);
        progress
    }

    pub fn counter(&self) -> Option<Arc<AtomicU64>> {
        self.counter.clone()
    }

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
