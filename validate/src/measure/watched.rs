//! When kubetwin's own `kubectl get pods -w` showed each pod Running: the thesis's observation.
//!
//! The watch is opened before the deployment is created, and each entry is stamped when kubetwin
//! read it ([`WatchedChange::received`]). A pod's time is its first entry that shows it Running
//! ([`Pod::is_running`]), counted from the moment kubetwin started `kubectl create deployment`, on
//! kubetwin's clock. The poll of `kubectl get pods` still decides when the run ends; the watch
//! only times, and a run whose watch failed keeps its other times and says why
//! ([`RunRecord::watch_lost`](super::RunRecord::watch_lost)).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::kubectl::{Pod, PodList, PodWatch, WatchEvent, WatchNext, WatchedChange};

use super::{Clock, CANCEL_CHECK};

/// How long, after the poll found every pod Running, the watch may take to show them too, by
/// default ([`MeasureOptions::watch_settle`](super::MeasureOptions::watch_settle)): kubetwin's
/// choice. The watch carries the same change the poll read, so it lags by a round trip
/// at most; 5 s is ample over any VPN and short enough not to hold a run up when the watch is
/// gone.
pub const WATCH_SETTLE: Duration = Duration::from_secs(5);

/// How long the watch runs before the deployment is created: kubetwin's choice. Long enough for
/// its kubectl to start, list and open the watch before the create's kubectl competes with it for
/// the client's CPU (tens of milliseconds to a nearby control plane); a watch that connects later
/// still shows every pod, through its initial list, since pods take seconds to run.
pub const WATCH_HEAD_START: Duration = Duration::from_secs(1);

/// One run's watch: the entries read so far, and why it gave no times if so.
#[derive(Debug)]
pub(super) struct WatchTimes {
    watch: Option<PodWatch>,
    /// The clock's reading when `kubectl create deployment` was started: the run's zero.
    zero: Duration,
    /// When each pod was first shown Running, on the clock.
    shown: HashMap<String, Duration>,
    /// Why the watch gave out, once it did.
    lost: Option<String>,
}

impl WatchTimes {
    /// A run timed by `watch`, or (`Err`) without a watch, for the reason given.
    pub(super) fn new(watch: Result<PodWatch, String>) -> Self {
        let (watch, lost) = match watch {
            Ok(w) => (Some(w), None),
            Err(why) => (None, Some(why)),
        };
        Self {
            watch,
            zero: Duration::ZERO,
            shown: HashMap::new(),
            lost,
        }
    }

    /// Whether a watch runs.
    pub(super) fn is_watching(&self) -> bool {
        self.watch.is_some()
    }

    /// Sets the run's zero: the clock now reads the start of `kubectl create deployment`.
    pub(super) fn start_now(&mut self, clock: &dyn Clock) {
        self.zero = clock.now();
    }

    /// Takes every entry read so far, without waiting.
    pub(super) fn take_ready(&mut self, clock: &dyn Clock) {
        while let Some(watch) = self.watch.as_mut() {
            let next = watch.next_within(Duration::ZERO);
            if !self.take_next(next, clock) {
                return;
            }
        }
    }

    /// Waits, at most `grace` (of real time, whatever `clock` is) and not past a cancel, until
    /// the watch has shown every pod of `pods` that runs; then stops it.
    pub(super) fn settle(&mut self, pods: &PodList, clock: &dyn Clock, cancel: &AtomicBool, grace: Duration) {
        self.wait_for(pods, clock, cancel, grace);
        self.watch = None;
    }

    fn wait_for(&mut self, pods: &PodList, clock: &dyn Clock, cancel: &AtomicBool, grace: Duration) {
        let running: Vec<&Pod> = pods.items.iter().filter(|p| p.is_running()).collect();
        // Real time: entries arriving do not use the grace up.
        let deadline = Instant::now() + grace;
        loop {
            self.take_ready(clock);
            if running.iter().all(|p| self.shown.contains_key(p.name())) {
                return;
            }
            let Some(watch) = self.watch.as_mut() else { return };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || cancel.load(Ordering::SeqCst) {
                let missing = running.iter().filter(|p| !self.shown.contains_key(p.name())).count();
                self.give_out(format!(
                    "kubectl's watch had not shown {missing} of the {} running pods Running {} s after a poll found them so",
                    running.len(),
                    grace.as_secs_f64()
                ));
                return;
            }
            let next = watch.next_within(left.min(CANCEL_CHECK));
            self.take_next(next, clock);
        }
    }

    /// When the watch showed each of `names` Running, in seconds since the run's zero, in whole
    /// milliseconds ([`crate::dataset::WATCH_RESOLUTION_S`]); or, when one was not shown, why
    /// (a watch that ended after showing them all still gave their times).
    pub(super) fn times<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Result<Vec<f64>, String> {
        names
            .into_iter()
            .map(|name| {
                self.shown
                    .get(name)
                    .map(|&at| at.saturating_sub(self.zero).as_millis() as f64 / 1000.0)
                    .ok_or_else(|| {
                        self.lost
                            .clone()
                            .unwrap_or_else(|| format!("kubectl's watch never showed pod {name} Running"))
                    })
            })
            .collect()
    }

    /// Takes what the watch gave: an entry, or its end; `false` when nothing came.
    fn take_next(&mut self, next: WatchNext, clock: &dyn Clock) -> bool {
        match next {
            WatchNext::Change(change) => self.take(*change, clock),
            WatchNext::Quiet => return false,
            WatchNext::Ended => self.watch_ended(),
        }
        true
    }

    fn take(&mut self, change: WatchedChange, clock: &dyn Clock) {
        match change.event {
            Ok(WatchEvent::Added(pod) | WatchEvent::Modified(pod)) if pod.is_running() => {
                self.shown
                    .entry(pod.name().to_string())
                    .or_insert_with(|| clock.at(change.received));
            }
            Ok(WatchEvent::Error(message)) => self.give_out(format!("kubectl's watch ended with an error: {message}")),
            Ok(_) => {}
            Err(e) => self.give_out(format!("kubectl's watch printed what is not a watch event: {e}")),
        }
    }

    /// The watch's stream ended: gives out with what kubectl printed on its standard error
    /// (an unknown flag, a refused watch), if anything.
    fn watch_ended(&mut self) {
        let tail = self.watch.as_ref().map(PodWatch::stderr_tail).unwrap_or_default();
        // One line for a warning: kubectl's lines joined.
        let said = tail
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" | ");
        let why = if said.is_empty() {
            "kubectl's watch ended before every pod was shown Running".to_string()
        } else {
            format!("kubectl's watch ended before every pod was shown Running; it said: {said}")
        };
        self.give_out(why);
    }

    /// Stops the watch, keeping the first reason it gave out.
    fn give_out(&mut self, why: String) {
        self.watch = None;
        self.lost.get_or_insert(why);
    }
}
