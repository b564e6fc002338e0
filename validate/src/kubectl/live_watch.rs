//! A `kubectl get pods -w` kept running beside a measurement: [`PodWatch`].
//!
//! The thesis timed pod start-up by watching `kubectl get pods -w` until every pod showed
//! Running. A measurement does the same: it opens the watch before it creates the deployment and
//! stamps each change with the instant kubetwin read it ([`WatchedChange::received`]), so a
//! pod's "shown Running" time includes everything the thesis's included (the kubelet's status
//! report and the watch event that carries it to the client).

use std::io::Read;
use std::process::Child;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How much of the end of a watch's standard error is kept, in bytes: room for kubectl's error
/// lines (an unknown flag, a refused watch) without holding a chatty process's whole output.
const STDERR_TAIL: usize = 2048;

/// How long [`PodWatch::stderr_tail`] waits for the end of the standard error of a watch whose
/// output has ended: the process is exiting, and its last lines follow within milliseconds.
const STDERR_WAIT: Duration = Duration::from_millis(500);

/// The end of a watch's standard error ([`STDERR_TAIL`] bytes), and the thread that reads it.
type StderrTail = (Arc<Mutex<Vec<u8>>>, JoinHandle<()>);

use super::{watch_event_stream, KubectlError, WatchEvent};

/// One entry of the watch's stream, and when kubetwin read it.
#[derive(Debug)]
pub struct WatchedChange {
    /// The entry, or the error that ended the stream (output that is not a watch event).
    pub event: Result<WatchEvent, KubectlError>,
    /// When kubetwin had read the entry whole.
    pub received: Instant,
}

/// What [`PodWatch::next_within`] found.
#[derive(Debug)]
pub enum WatchNext {
    /// The next entry (boxed: a pod is large beside the other variants).
    Change(Box<WatchedChange>),
    /// Nothing came in the time given; the watch still runs.
    Quiet,
    /// The stream has ended (kubectl exited, or printed what is not a watch event) and every
    /// entry was taken.
    Ended,
}

/// A running `kubectl get pods -w --output-watch-events -o json`, read on a thread of its own,
/// or any other source of watch entries ([`PodWatch::channel`]). Dropping it stops the kubectl
/// process with its process group.
#[derive(Debug)]
pub struct PodWatch {
    changes: Receiver<WatchedChange>,
    process: Option<WatchProcess>,
    /// The end of the process's standard error, and the thread that reads it.
    stderr: Option<StderrTail>,
}

/// The kubectl process behind a [`PodWatch`], listed among the running commands while it lives.
#[derive(Debug)]
pub(super) struct WatchProcess {
    pub(super) child: Child,
    pub(super) registered: super::runner::Registered,
}

impl PodWatch {
    /// A watch fed by the returned sender: entries sent arrive in order; dropping every sender
    /// ends the stream. What a runner that is no process (a test's) hands out.
    pub fn channel() -> (Sender<WatchedChange>, PodWatch) {
        let (sender, changes) = mpsc::channel();
        (
            sender,
            PodWatch {
                changes,
                process: None,
                stderr: None,
            },
        )
    }

    /// A watch reading `stdout` of `process` as it prints, and keeping the end of its `stderr`.
    pub(super) fn of_process(
        stdout: impl Read + Send + 'static,
        stderr: impl Read + Send + 'static,
        process: WatchProcess,
    ) -> PodWatch {
        let (sender, mut watch) = PodWatch::channel();
        watch.process = Some(process);
        let tail = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&tail);
        let reader = std::thread::spawn(move || {
            let mut stderr = stderr;
            let mut chunk = [0u8; 512];
            while let Ok(n) = stderr.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut tail = kept.lock().unwrap_or_else(PoisonError::into_inner);
                tail.extend_from_slice(&chunk[..n]);
                let excess = tail.len().saturating_sub(STDERR_TAIL);
                tail.drain(..excess);
            }
        });
        watch.stderr = Some((tail, reader));
        std::thread::spawn(move || {
            // Buffered, so an entry is parsed as soon as its bytes arrive (a read returns what the
            // pipe holds) without a system call per byte.
            for event in watch_event_stream(std::io::BufReader::new(stdout)) {
                let change = WatchedChange {
                    event,
                    received: Instant::now(),
                };
                if sender.send(change).is_err() {
                    break;
                }
            }
        });
        watch
    }

    /// The last lines the watch's process printed on its standard error (empty for a watch that
    /// is no process). Once its output has ended, waits a moment for them.
    pub fn stderr_tail(&self) -> String {
        let Some((tail, reader)) = &self.stderr else {
            return String::new();
        };
        let waited = Instant::now();
        while !reader.is_finished() && waited.elapsed() < STDERR_WAIT {
            std::thread::sleep(Duration::from_millis(10));
        }
        let bytes = tail.lock().unwrap_or_else(PoisonError::into_inner);
        // The tail may begin inside a character cut off with what came before it.
        let start = bytes.iter().take(3).take_while(|&&b| b & 0xC0 == 0x80).count();
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    }

    /// The next entry, waiting at most `timeout` for it.
    pub fn next_within(&mut self, timeout: Duration) -> WatchNext {
        match self.changes.recv_timeout(timeout) {
            Ok(change) => WatchNext::Change(Box::new(change)),
            Err(RecvTimeoutError::Timeout) => WatchNext::Quiet,
            Err(RecvTimeoutError::Disconnected) => WatchNext::Ended,
        }
    }
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        if let Some(mut p) = self.process.take() {
            super::runner::stop(&mut p.child);
            drop(p.registered);
        }
    }
}
