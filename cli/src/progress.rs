//! Progress of a long computation on stderr: a bar when stderr is a terminal, otherwise (a
//! log, a CI job, a batch system) a line a minute, so that a run of many minutes is never
//! silent. Nothing is written for work done within the first minute off a terminal, so short
//! runs and tests print nothing.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the line is written off a terminal.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Counts `total` steps (replications) of the work named `what`, from any thread.
pub(crate) struct Progress {
    bar: ProgressBar,
    what: &'static str,
    total: u64,
    done: AtomicU64,
    started: Instant,
    /// Off a terminal: when the last line was written.
    last_log: Option<Mutex<Instant>>,
}

impl Progress {
    /// A bar of `total` steps named `what` (e.g. "drill replications").
    pub(crate) fn new(total: u64, what: &'static str) -> Progress {
        let terminal = std::io::stderr().is_terminal() && total > 0;
        let bar = if terminal {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(&format!(
                    "{{bar:40.cyan/blue}} {{pos}}/{{len}} {what} ({{msg}}) {{elapsed_precise}} elapsed, {{eta}} left"
                ))
                .expect("a valid template")
                .progress_chars("=> "),
            );
            b
        } else {
            ProgressBar::hidden()
        };
        let now = Instant::now();
        Progress {
            bar,
            what,
            total,
            done: AtomicU64::new(0),
            started: now,
            last_log: (!terminal).then(|| Mutex::new(now)),
        }
    }

    /// The bar, to set its message.
    pub(crate) fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    /// One more step done.
    pub(crate) fn inc(&self) {
        self.bar.inc(1);
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(last) = &self.last_log else { return };
        let Ok(mut last) = last.lock() else { return };
        if last.elapsed() < LOG_EVERY || done >= self.total {
            return;
        }
        *last = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = elapsed / done as f64 * (self.total - done) as f64;
        eprintln!(
            "{done} of {} {} done in {:.0} s; about {:.0} s left",
            self.total, self.what, elapsed, left
        );
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
