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
use std::time::{Duration, Instant};

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
        (sender, PodWatch { changes, process: None })
    }

    /// A watch reading `stdout` of `process` as it prints.
    pub(super) fn of_process(stdout: impl Read + Send + 'static, process: WatchProcess) -> PodWatch {
        let (sender, mut watch) = PodWatch::channel();
        watch.process = Some(process);
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
