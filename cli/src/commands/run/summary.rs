//! What the replications of `run` add up to, whatever the output format: the start-up as the
//! observer read it and exactly, the ClusterLoader2 phases, the waits per limiter or queue,
//! etcd's elections, and the start-up intervals.

use models::cluster::RunOutcome;
use models::spec::Scenario;
use sim_core::stats::{ConfidenceInterval, OnlineStats};

/// The ClusterLoader2 phases of a pod's start-up, in the order [`Summary::phases`] holds them.
pub(super) const PHASES: [&str; 4] = ["create_to_schedule", "schedule_to_run", "run_to_watch", "pod_startup"];

/// One replication's phases ([`PHASES`]), over its counted pods.
fn phase_values(o: &RunOutcome) -> [OnlineStats; 4] {
    let mut s: [OnlineStats; 4] = Default::default();
    for p in o.counted_pods() {
        for (i, v) in [
            p.create_to_schedule(),
            p.schedule_to_run(),
            p.run_to_watch(),
            p.pod_startup(),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(v) = v {
                s[i].push(v);
            }
        }
    }
    s
}

/// The replications' figures, gathered once for every output format.
pub(super) struct Summary {
    /// Start-up as `kubectl -w` shows it, over the replications that finished.
    pub(super) observed: OnlineStats,
    /// The exact start-up, over the same replications.
    pub(super) exact: OnlineStats,
    /// Replications that did not finish within workload.timeout.
    pub(super) incomplete: usize,
    /// Each phase of [`PHASES`]: the replications' means per pod.
    pub(super) phases: [OnlineStats; 4],
    /// Seconds waited per limiter or queue (summed over pods, mean per replication), in the
    /// order the replications first name them.
    pub(super) waits: Vec<(String, f64)>,
    /// Each apiserver's max-in-flight filter, in the backends' order: the most read-only and
    /// mutating requests it held at once in any replication, and its 429s per replication.
    pub(super) in_flight: Vec<InFlightSummary>,
}

/// One apiserver's max-in-flight filter over the replications.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct InFlightSummary {
    /// The most read-only requests held at once, in any replication.
    pub(super) peak_read_only: u32,
    /// The most mutating requests held at once, in any replication.
    pub(super) peak_mutating: u32,
    /// Requests refused with `429`, mean per replication.
    pub(super) refused_mean: f64,
}

impl Summary {
    /// Gathers the figures of `outcomes`, the `reps` replications.
    pub(super) fn of(outcomes: &[RunOutcome], reps: u64) -> Self {
        let mut observed = OnlineStats::new();
        let mut exact = OnlineStats::new();
        let mut incomplete = 0;
        for o in outcomes {
            match (o.startup_observed_s, o.startup_exact_s) {
                (Some(v), Some(e)) => {
                    observed.push(v);
                    exact.push(e);
                }
                _ => incomplete += 1,
            }
        }
        let mut phases: [OnlineStats; 4] = Default::default();
        for o in outcomes {
            for (acc, s) in phases.iter_mut().zip(phase_values(o)) {
                if let Some(m) = s.mean() {
                    acc.push(m);
                }
            }
        }
        let mut waits: Vec<(String, f64)> = Vec::new();
        for o in outcomes {
            for w in &o.waits {
                match waits.iter_mut().find(|(n, _)| *n == w.name) {
                    Some(e) => e.1 += w.total_s / reps as f64,
                    None => waits.push((w.name.clone(), w.total_s / reps as f64)),
                }
            }
        }
        let mut in_flight: Vec<InFlightSummary> = Vec::new();
        for o in outcomes {
            in_flight.resize(in_flight.len().max(o.in_flight.len()), InFlightSummary::default());
            for (acc, f) in in_flight.iter_mut().zip(&o.in_flight) {
                acc.peak_read_only = acc.peak_read_only.max(f.peak_read_only);
                acc.peak_mutating = acc.peak_mutating.max(f.peak_mutating);
                acc.refused_mean += f.refused as f64 / reps as f64;
            }
        }
        Summary {
            observed,
            exact,
            incomplete,
            phases,
            waits,
            in_flight,
        }
    }
}

/// A start-up interval as it is reported: with its lower bound clamped at 0 s.
pub(super) fn shown(c: ConfidenceInterval) -> (f64, f64) {
    crate::output::startup_interval((c.lo, c.hi))
}

/// The intervals of the observed start-up, as reported (see [`shown`]).
pub(super) struct StartupIntervals {
    /// The 95 % confidence interval of the simulated mean (none with 1 replication).
    pub(super) ci: Option<(f64, f64)>,
    /// The 95 % prediction interval of a mean of `--measured-runs` measured runs.
    pub(super) pi: Option<(f64, f64)>,
}

impl StartupIntervals {
    /// The intervals of `observed`, read at the resolution of `scenario`'s workload, the
    /// prediction interval for a mean of `measured_runs` runs.
    pub(super) fn of(observed: &OnlineStats, scenario: &Scenario, measured_runs: u64) -> Self {
        // Whole-second readings that happen to coincide keep the spread that reading gives them.
        let res = scenario.workload.resolution.secs_f64();
        let ci = observed.confidence_interval_read_at(0.95, res).map(shown);
        let pi = observed
            .prediction_interval_for_mean_read_at(measured_runs, 0.95, res)
            .map(shown);
        StartupIntervals { ci, pi }
    }
}

/// etcd's elections over the replications, when they were simulated (faults, or jitter or loss
/// between the masters): leaders elected after the first, and seconds without writes, each a
/// mean per replication.
pub(super) fn etcd_means(outcomes: &[models::cluster::RunOutcome]) -> Option<(f64, f64)> {
    let reports: Vec<&models::cluster::EtcdReport> = outcomes.iter().filter_map(|o| o.etcd.as_ref()).collect();
    if reports.is_empty() {
        return None;
    }
    let n = reports.len() as f64;
    let elections = reports.iter().map(|e| e.elections as f64).sum::<f64>() / n;
    let stalled = reports.iter().map(|e| e.stalled_s).sum::<f64>() / n;
    Some((elections, stalled))
}
