//! The measurement's own `kubectl get pods -w`: each pod timed when the watch showed it Running,
//! as the thesis observed, from the captured watch stream (`watch-20-pods/`).
//!
//! [`Watched`] wraps [`FakeCluster`]: its pod polls are snapshots of the captured stream, and at
//! each poll it hands the watch the stream's entries up to that snapshot, so which poll's time
//! each pod gets is known. The real runner and a real process are in `stand_in.rs`.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use validate::dataset::{Observed, WATCH_RESOLUTION_S};
use validate::kubectl::{
    parse_watch_events, KubectlError, KubectlOutput, KubectlRunner, PodWatch, WatchEvent, WatchedChange,
};
use validate::measure::{measure, Clock, MeasureOptions, MeasureReport, WATCH_HEAD_START};

use crate::support::{capture, pending_pod_lists, Cmd, FakeCluster};

/// The captured stream of `kubectl get pods -w --output-watch-events -o json`.
fn stream() -> Vec<WatchEvent> {
    parse_watch_events(&capture("watch-20-pods/watch-events-json.txt")).unwrap()
}

/// Where in [`stream`] each pod is first shown Running, by name.
fn first_running() -> Vec<(String, usize)> {
    let mut first: Vec<(String, usize)> = Vec::new();
    for (i, e) in stream().iter().enumerate() {
        if let Some(p) = e.pod().filter(|p| p.is_running()) {
            if !first.iter().any(|(n, _)| n == p.name()) {
                first.push((p.name().to_string(), i));
            }
        }
    }
    first
}

/// Hands the watch `event`, read now (a watch already stopped drops it).
fn send(sender: &Sender<WatchedChange>, event: WatchEvent) {
    let _ = sender.send(WatchedChange {
        event: Ok(event),
        received: Instant::now(),
    });
}

/// A fake cluster whose pod polls are the stream's snapshots after `cuts` entries, and whose
/// watch gets the stream's entries up to each poll's cut as that poll is answered.
struct Watched {
    cluster: FakeCluster,
    cuts: Vec<usize>,
    polls: usize,
    sent: usize,
    sender: Option<Sender<WatchedChange>>,
    /// Drop the watch's sender after this many entries: kubectl's watch ended.
    end_after: Option<usize>,
    /// Entries sent again with the last poll's (a pod shown Running a second time, as a
    /// readiness change shows it).
    resend_at_last: std::ops::Range<usize>,
    /// At the last poll, send the rest from a thread of its own: 100 bookmarks this far apart,
    /// then the entries themselves.
    late_rest: Option<Duration>,
    /// The run's clock, to note when the watch and the create came.
    clock: SharedClock,
    watch_at: Option<Duration>,
    create_at: Option<Duration>,
}

/// A fake clock (it advances only when slept on) that the runner can read too.
#[derive(Debug, Clone, Default)]
struct SharedClock(Arc<Mutex<Duration>>);

impl Clock for SharedClock {
    fn now(&self) -> Duration {
        *self.0.lock().unwrap()
    }

    fn sleep(&mut self, duration: Duration) {
        *self.0.lock().unwrap() += duration;
    }
}

impl Watched {
    fn new(cuts: &[usize]) -> Self {
        let mut cluster = FakeCluster::new();
        cluster.pod_polls = pending_pod_lists(cuts);
        Self {
            cluster,
            cuts: cuts.to_vec(),
            polls: 0,
            sent: 0,
            sender: None,
            end_after: None,
            resend_at_last: 0..0,
            late_rest: None,
            clock: SharedClock::default(),
            watch_at: None,
            create_at: None,
        }
    }

    fn feed(&mut self, upto: usize) {
        let upto = self.end_after.map_or(upto, |end| upto.min(end));
        let Some(sender) = &self.sender else { return };
        for event in stream().into_iter().take(upto).skip(self.sent) {
            send(sender, event);
        }
        self.sent = self.sent.max(upto);
        if self.end_after.is_some_and(|end| self.sent >= end) {
            self.sender = None;
        }
    }
}

impl KubectlRunner for Watched {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        if Cmd::of(args) == Cmd::CreateDeployment {
            self.create_at = Some(self.clock.now());
        }
        match Cmd::of(args) {
            // The stream's run: its deployment was created in the second its first pods were.
            Cmd::GetDeployment => {
                self.cluster.calls.push(args.iter().map(ToString::to_string).collect());
                Ok(KubectlOutput::ok(capture("namespace-run/deployment.json").replace(
                    "\"creationTimestamp\": \"2026-11-25T12:03:54Z\"",
                    "\"creationTimestamp\": \"2026-11-25T11:58:27Z\"",
                )))
            }
            Cmd::GetPods => {
                let out = self.cluster.run(args);
                let cut = self.cuts.get(self.polls).copied().unwrap_or(usize::MAX);
                self.polls += 1;
                if let (Some(after), true) = (self.late_rest, self.polls == self.cuts.len()) {
                    let sender = self.sender.clone().unwrap();
                    let (from, to) = (self.sent, cut);
                    self.sent = cut;
                    std::thread::spawn(move || {
                        for _ in 0..100 {
                            std::thread::sleep(after);
                            send(&sender, WatchEvent::Bookmark);
                        }
                        for event in stream().into_iter().take(to).skip(from) {
                            send(&sender, event);
                        }
                    });
                    return out;
                }
                self.feed(cut);
                if self.polls == self.cuts.len() {
                    if let Some(sender) = &self.sender {
                        for event in stream().drain(self.resend_at_last.clone()) {
                            send(sender, event);
                        }
                    }
                }
                out
            }
            _ => self.cluster.run(args),
        }
    }

    fn watch_pods(&mut self, args: &[&str]) -> Result<Option<PodWatch>, KubectlError> {
        assert_eq!(args[..2], ["get", "pods"]);
        assert!(
            args.contains(&"-w") && args.contains(&"--output-watch-events"),
            "{args:?}"
        );
        // Opened before the deployment is created, so it misses no pod.
        assert!(self.cluster.calls_of(Cmd::CreateDeployment).is_empty());
        self.watch_at = Some(self.clock.now());
        let (sender, watch) = PodWatch::channel();
        self.sender = Some(sender);
        Ok(Some(watch))
    }
}

fn measure_watched(cluster: &mut Watched, opts: &MeasureOptions) -> MeasureReport {
    // The clock reads 2.5 s when the run starts; its zero is the create's start, later.
    let mut clock = cluster.clock.clone();
    clock.sleep(Duration::from_millis(2500));
    measure(opts, cluster, &mut clock, &AtomicBool::new(false)).unwrap()
}

fn options() -> MeasureOptions {
    let mut opts = MeasureOptions::new(20);
    opts.runs = 1;
    opts.watch_settle = Duration::from_millis(200);
    opts
}

/// Polls 1 s apart see the stream cut after 60, 75, 78 and 80 entries (all 20 Running; the
/// capture's 60 later entries are the deletion). What the watch read
/// during a poll is taken at the next one (a second later), and after the last at once: so a
/// pod first shown Running among the first 60 entries reads 1 s, among the next 15 2 s, and
/// later 3 s, counted from the create, not from the clock's start; the first 60 entries shown
/// again with the last poll do not move their pods. The cell is a kubectl watch at 1 ms, and its
/// start-up the last pod's.
#[test]
fn each_pod_is_timed_when_the_watch_first_showed_it_running() {
    let mut cluster = Watched::new(&[60, 75, 78, 80]);
    cluster.resend_at_last = 0..60;
    let report = measure_watched(&mut cluster, &options());
    let first = first_running();
    assert_eq!(first.len(), 20);
    for row in &report.rows {
        let at = first.iter().find(|(n, _)| *n == row.pod).unwrap().1;
        let expected = match at {
            0..60 => 1.0,
            60..75 => 2.0,
            _ => 3.0,
        };
        assert_eq!(row.watch_running_s, Some(expected), "{} (entry {at})", row.pod);
    }
    let cell = report.cells[0];
    assert_eq!(
        (cell.observed, cell.resolution_s, cell.mean_s),
        (Observed::KubectlWatch, WATCH_RESOLUTION_S, 3.0)
    );
    let run = &report.runs[0];
    assert_eq!((run.watch_startup_s, run.watch_lost.as_deref()), (Some(3.0), None));
    // The watch had its head start before the create, whose start is the zero.
    let (watch_at, create_at) = (cluster.watch_at.unwrap(), cluster.create_at.unwrap());
    assert_eq!(create_at - watch_at, WATCH_HEAD_START);
    assert_eq!(watch_at, Duration::from_millis(2500));
}

/// A watch that ends before showing every pod Running gives the run no watch times: its rows
/// keep the pods' own stamps, the cell is summarized by container start, and the run says why.
#[test]
fn a_watch_that_ends_early_leaves_the_run_its_other_times() {
    let mut cluster = Watched::new(&[60, 80]);
    cluster.end_after = Some(70);
    let report = measure_watched(&mut cluster, &options());
    assert!(report.rows.iter().all(|r| r.watch_running_s.is_none()));
    assert_eq!(report.cells[0].observed, Observed::ContainerStart);
    let run = &report.runs[0];
    assert_eq!(run.watch_startup_s, None);
    assert!(
        run.watch_lost
            .as_deref()
            .unwrap()
            .contains("watch ended before every pod"),
        "{:?}",
        run.watch_lost
    );
    assert!(run.startup_s > 0.0);
}

/// A watch still open but quiet when every pod runs is given `watch_settle`, then the run goes
/// on without its times, saying how many pods it missed.
#[test]
fn a_quiet_watch_is_given_up_after_its_grace() {
    let mut cluster = Watched::new(&[60, 80]);
    cluster.cuts = vec![60, 70];
    let report = measure_watched(&mut cluster, &options());
    assert!(report.rows.iter().all(|r| r.watch_running_s.is_none()));
    let lost = report.runs[0].watch_lost.clone().unwrap();
    assert!(
        lost.contains("had not shown 10 of the 20 running pods Running 0.2 s"),
        "{lost}"
    );
    assert_eq!(report.cells[0].observed, Observed::ContainerStart);
}

/// `--no-watch`: no watch is opened, and the run says so.
#[test]
fn the_watch_can_be_turned_off() {
    let mut cluster = Watched::new(&[60, 80]);
    let mut opts = options();
    opts.watch = false;
    let report = measure_watched(&mut cluster, &opts);
    assert!(cluster.sender.is_none() && cluster.sent == 0);
    assert!(report.runs[0].watch_lost.as_deref().unwrap().contains("--no-watch"));
    assert_eq!(report.cells[0].observed, Observed::ContainerStart);
}

/// The grace is time, not entries: a watch busy with other entries (100 bookmarks 5 ms apart)
/// that shows the last pods half a second after the poll found them running still times them.
/// (A grace counted in waits of up to 100 ms, one used by each entry, ran out after 50.)
#[test]
fn entries_do_not_use_up_the_grace() {
    let mut cluster = Watched::new(&[60, 80]);
    cluster.late_rest = Some(Duration::from_millis(5));
    let mut opts = options();
    opts.watch_settle = validate::measure::WATCH_SETTLE;
    let report = measure_watched(&mut cluster, &opts);
    assert_eq!(report.runs[0].watch_lost, None);
    assert!(report.rows.iter().all(|r| r.watch_running_s.is_some()));
}
