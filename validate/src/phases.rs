//! Compare measured and simulated pod start-up phase by phase, from the raw per-pod rows that
//! `kubetwin measure` writes ([`crate::dataset::RawPodRow`]).
//!
//! A cell's start-up time says *whether* the twin is off; its phases say *where*. The raw rows
//! hold four instants per pod, from the pod object as kubectl returns it:
//!
//! | measured instant | set by | simulated instant ([`models::cluster::PodTimeline`]) |
//! |---|---|---|
//! | `created_s`: `metadata.creationTimestamp` | apiserver, on create | `created` (pod committed) |
//! | `scheduled_s`: `PodScheduled` condition | apiserver, on the binding | `bound` (binding committed) |
//! | `started_s`: `Initialized` condition | kubelet, first status | `kubelet_seen` (the watch delivered the pod) |
//! | `running_s`: containers' `state.running.startedAt` | kubelet from Docker | `started` (container started) |
//!
//! so the three phases compared are **scheduling** (created → scheduled), **watch to the
//! kubelet** (scheduled → kubelet took the pod) and **on the node** (kubelet took the pod →
//! container running: sandbox, serialized image puller, pull, create and start). The status
//! manager's report of Running comes after all four and is in the cell's start-up time only.
//! Measured instants are whole seconds (RFC 3339); a phase's mean over many pods is unbiased by
//! that truncation but each pod's value is off by up to a second.
//!
//! Where `measure` watched every pod of a cell (`watch_running_s`), the cell also compares the
//! mean per pod of the thesis's own observation: the time from the create until kubectl's watch
//! first showed the pod Running, the status manager's report included ([`WatchedRunning`]).
//! Those times are on kubetwin's clock, counted from the create as the simulation counts, so
//! the cluster's clocks do not enter.

use std::collections::BTreeMap;

use models::cluster::{ModelError, PodTimeline};
use models::spec::Scenario;
use serde::Serialize;

use crate::compare::run_cell;
use crate::dataset::RawPodRow;

/// Mean duration of each phase over a cell's pods, seconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PhaseMeans {
    /// created → scheduled.
    pub scheduling_s: f64,
    /// scheduled → the kubelet took the pod.
    pub watch_to_kubelet_s: f64,
    /// the kubelet took the pod → container running.
    pub on_node_s: f64,
    /// Pods averaged over (all runs or replications).
    pub pods: usize,
}

/// The mean time per pod from the create until kubectl's watch first showed the pod Running,
/// seconds: the thesis's observation for every pod, where a cell's start-up is the last pod's.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct WatchedRunning {
    /// From the raw rows' `watch_running_s`, over every pod of every run.
    pub measured_s: f64,
    /// From the simulated kubectl watch ([`PodTimeline::watched`]), over every pod of every
    /// replication.
    pub simulated_s: f64,
}

/// One cell's phases, measured and simulated.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseComparison {
    /// Pods.
    pub pods: u32,
    /// Added one-way delay, ms.
    pub delay_ms: u32,
    /// From the raw rows.
    pub measured: PhaseMeans,
    /// From the simulation's per-pod timelines.
    pub simulated: PhaseMeans,
    /// When the watch showed each pod Running, if every raw row of the cell has that time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watched_running: Option<WatchedRunning>,
}

/// Accumulates phase durations.
#[derive(Debug, Default)]
struct Sums {
    scheduling: f64,
    watch: f64,
    on_node: f64,
    n: usize,
}

impl Sums {
    fn push(&mut self, created: f64, scheduled: f64, kubelet: f64, running: f64) {
        self.scheduling += scheduled - created;
        self.watch += kubelet - scheduled;
        self.on_node += running - kubelet;
        self.n += 1;
    }

    fn means(&self) -> PhaseMeans {
        let n = self.n.max(1) as f64;
        PhaseMeans {
            scheduling_s: self.scheduling / n,
            watch_to_kubelet_s: self.watch / n,
            on_node_s: self.on_node / n,
            pods: self.n,
        }
    }
}

/// Measured phase means per cell (pods, delay), from raw rows, in cell order.
///
/// The rows are expected as [`crate::dataset::read_raw`] returns them: no pod bound before its
/// creation nor running before its kubelet took it (stamps of one clock), so the scheduling and
/// on-node phases are never negative; the watch-to-kubelet phase, across the control plane's and
/// a node's clocks, may be (see [`clocks_behind`]).
pub fn measured_phases(rows: &[RawPodRow]) -> BTreeMap<(u32, u32), PhaseMeans> {
    let mut cells: BTreeMap<(u32, u32), Sums> = BTreeMap::new();
    for r in rows {
        cells
            .entry((r.pods, r.delay_ms))
            .or_default()
            .push(r.created_s, r.scheduled_s, r.started_s, r.running_s);
    }
    cells.into_iter().map(|(k, s)| (k, s.means())).collect()
}

/// The mean of `watch_running_s` per cell (pods, delay), over the cells whose every row has it
/// (a cell with one pod the watch did not show Running has none: its mean would leave out a
/// late pod).
pub fn measured_watched_running(rows: &[RawPodRow]) -> BTreeMap<(u32, u32), f64> {
    let mut cells: BTreeMap<(u32, u32), Option<(f64, usize)>> = BTreeMap::new();
    for r in rows {
        let cell = cells.entry((r.pods, r.delay_ms)).or_insert(Some((0.0, 0)));
        *cell = cell.zip(r.watch_running_s).map(|((sum, n), t)| (sum + t, n + 1));
    }
    cells
        .into_iter()
        .filter_map(|(k, c)| c.filter(|&(_, n)| n > 0).map(|(sum, n)| (k, sum / n as f64)))
        .collect()
}

/// The simulated instants that correspond to the measured ones, if the pod got that far.
fn simulated_instants(p: &PodTimeline) -> Option<(f64, f64, f64, f64)> {
    Some((p.created, p.bound?, p.kubelet_seen?, p.started?))
}

/// Simulated phase means of one cell over `reps` replications (seeded as
/// [`crate::compare::simulate_cell`] seeds the same cell, so the two agree run for run).
///
/// # Errors
///
/// [`ModelError`] if the scenario cannot be assembled.
pub fn simulated_phases(
    scenario: &Scenario,
    pods: u32,
    delay_ms: u32,
    reps: u32,
    seed: u64,
) -> Result<PhaseMeans, ModelError> {
    Ok(simulate(scenario, pods, delay_ms, reps, seed)?.0)
}

/// The simulated phase means of one cell, and the mean time per pod until the simulated
/// kubectl watch showed it Running (`None` unless it showed every pod of every replication, as
/// the measured mean needs every row).
fn simulate(
    scenario: &Scenario,
    pods: u32,
    delay_ms: u32,
    reps: u32,
    seed: u64,
) -> Result<(PhaseMeans, Option<f64>), ModelError> {
    let runs = run_cell(scenario, pods, delay_ms, reps, seed, |o, _| o.pods)?;
    let mut sums = Sums::default();
    for p in runs.iter().flatten() {
        if let Some((c, s, k, r)) = simulated_instants(p) {
            sums.push(c, s, k, r);
        }
    }
    Ok((sums.means(), watched_mean(&runs, pods)))
}

/// The mean time per pod until the simulated kubectl watch showed it Running, over every pod of
/// every replication in `runs` (each of `pods` pods); `None` unless each replication made all
/// its pods and the watch showed every one.
fn watched_mean(runs: &[Vec<PodTimeline>], pods: u32) -> Option<f64> {
    let all = runs
        .iter()
        .all(|r| r.len() == pods as usize && r.iter().all(|p| p.watched.is_some()));
    let times: Vec<f64> = runs.iter().flatten().filter_map(|p| p.watched).collect();
    (all && !times.is_empty()).then(|| times.iter().sum::<f64>() / times.len() as f64)
}

/// Compares every cell of the raw rows with the simulation, phase by phase.
///
/// # Errors
///
/// [`ModelError`] if the scenario cannot be assembled.
pub fn compare_phases(
    scenario: &Scenario,
    rows: &[RawPodRow],
    reps: u32,
    seed: u64,
) -> Result<Vec<PhaseComparison>, ModelError> {
    let watched = measured_watched_running(rows);
    measured_phases(rows)
        .into_iter()
        .map(|((pods, delay_ms), measured)| {
            let (simulated, simulated_watched) = simulate(scenario, pods, delay_ms, reps, seed)?;
            let watched_running =
                watched
                    .get(&(pods, delay_ms))
                    .zip(simulated_watched)
                    .map(|(&measured_s, simulated_s)| WatchedRunning {
                        measured_s,
                        simulated_s,
                    });
            Ok(PhaseComparison {
                pods,
                delay_ms,
                measured,
                simulated,
                watched_running,
            })
        })
        .collect()
}

/// A node whose clock is behind the control plane's, as the raw rows prove it.
///
/// `scheduled_s` is stamped by the apiserver (control-plane clock), `started_s` by the node's
/// kubelet (its own clock). Both are whole seconds, truncated, so a pod the kubelet took after its
/// binding can read `started_s − scheduled_s` no lower than 0; a negative value can only be the two
/// clocks' skew, by at least that much. The watch-to-kubelet phase of such a node is understated
/// and its on-node phase unchanged (both of its instants are on the node's clock). A node ahead of
/// the control plane cannot be told from a slow watch, so it is not reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockBehind {
    /// The node.
    pub node: String,
    /// Seconds its clock is at least behind the control plane's.
    pub at_least_s: f64,
    /// Its pods whose kubelet stamp precedes their binding.
    pub pods: usize,
}

impl std::fmt::Display for ClockBehind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "node {}'s clock is at least {} s behind the control plane's ({} pod{} taken by its kubelet \
             before the binding, by their stamps): its watch-to-kubelet phase reads short by as much, and so \
             does the start-up of a cell summarized from the containers' start (`container-start`: no watch), \
             read on the nodes' clocks; synchronize the clocks (NTP) and measure again",
            self.node,
            self.at_least_s,
            self.pods,
            if self.pods == 1 { "" } else { "s" }
        )
    }
}

/// Nodes whose clocks the raw rows prove to be behind the control plane's (see [`ClockBehind`]),
/// by node name.
pub fn clocks_behind(rows: &[RawPodRow]) -> Vec<ClockBehind> {
    let mut nodes: BTreeMap<&str, ClockBehind> = BTreeMap::new();
    for r in rows {
        let lead = r.started_s - r.scheduled_s;
        if lead < 0.0 {
            let n = nodes.entry(&r.node).or_insert_with(|| ClockBehind {
                node: r.node.clone(),
                at_least_s: 0.0,
                pods: 0,
            });
            n.at_least_s = n.at_least_s.max(-lead);
            n.pods += 1;
        }
    }
    nodes.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(run: u32, pod: &str, pods: u32, delay_ms: u32, t: [f64; 4]) -> RawPodRow {
        RawPodRow {
            run,
            pod: pod.into(),
            node: "node01".into(),
            delay_ms,
            pods,
            created_s: t[0],
            scheduled_s: t[1],
            started_s: t[2],
            running_s: t[3],
            watch_running_s: None,
        }
    }

    #[test]
    fn measured_phases_are_per_cell_means_over_pods_and_runs() {
        let rows = [
            row(1, "a", 2, 100, [0.0, 1.0, 2.0, 10.0]),
            row(1, "b", 2, 100, [0.0, 1.0, 3.0, 14.0]),
            row(2, "a", 2, 100, [0.0, 2.0, 3.0, 12.0]),
            row(2, "b", 2, 100, [1.0, 2.0, 4.0, 16.0]),
            row(1, "a", 1, 500, [0.0, 0.0, 1.0, 5.0]),
        ];
        let m = measured_phases(&rows);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![(1, 500), (2, 100)]);
        let c = m[&(2, 100)];
        assert_eq!(c.pods, 4);
        assert!((c.scheduling_s - 1.25).abs() < 1e-12, "{c:?}");
        assert!((c.watch_to_kubelet_s - 1.5).abs() < 1e-12, "{c:?}");
        assert!((c.on_node_s - 10.0).abs() < 1e-12, "{c:?}");
        assert_eq!(m[&(1, 500)].on_node_s, 4.0);
    }

    /// A cell's watched-Running mean is over every pod of every run, and only for a cell whose
    /// every row has the watch's time.
    #[test]
    fn the_watched_running_mean_needs_every_row_of_its_cell() {
        let watched = |mut r: RawPodRow, t: f64| {
            r.watch_running_s = Some(t);
            r
        };
        let rows = [
            watched(row(1, "a", 2, 100, [0.0, 1.0, 2.0, 10.0]), 11.5),
            watched(row(1, "b", 2, 100, [0.0, 1.0, 3.0, 14.0]), 15.0),
            watched(row(2, "a", 2, 100, [0.0, 2.0, 3.0, 12.0]), 12.25),
            watched(row(1, "a", 1, 500, [0.0, 0.0, 1.0, 5.0]), 6.0),
            row(2, "a", 1, 500, [0.0, 0.0, 1.0, 5.0]),
        ];
        let m = measured_watched_running(&rows);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![(2, 100)]);
        assert!((m[&(2, 100)] - 12.916_666_666_666_666).abs() < 1e-12, "{m:?}");
        assert!(measured_watched_running(&rows[4..]).is_empty());
    }

    /// The simulated mean needs every pod of every replication, as the measured one needs
    /// every row: a replication that made fewer pods, or whose watch missed one, gives none.
    #[test]
    fn the_simulated_watched_mean_needs_every_pod() {
        let pod = |watched: Option<f64>| PodTimeline {
            watched,
            ..PodTimeline::default()
        };
        let full = vec![
            vec![pod(Some(10.0)), pod(Some(12.0))],
            vec![pod(Some(11.0)), pod(Some(15.0))],
        ];
        assert_eq!(watched_mean(&full, 2), Some(12.0));
        assert_eq!(watched_mean(&full, 3), None, "a replication short of a pod");
        let missed = vec![vec![pod(Some(10.0)), pod(None)]];
        assert_eq!(watched_mean(&missed, 2), None);
        assert_eq!(watched_mean(&[], 2), None);
    }

    #[test]
    fn a_kubelet_stamp_before_the_binding_proves_the_node_clock_behind() {
        let mut late = row(1, "a", 2, 100, [0.0, 5.0, 3.0, 9.0]);
        late.node = "node02".into();
        let mut later = row(2, "b", 2, 100, [0.0, 6.0, 2.0, 8.0]);
        later.node = "node02".into();
        let rows = [row(1, "c", 2, 100, [0.0, 1.0, 1.0, 4.0]), late, later];
        assert_eq!(
            clocks_behind(&rows),
            vec![ClockBehind {
                node: "node02".into(),
                at_least_s: 4.0,
                pods: 2
            }]
        );
        assert!(clocks_behind(&rows[..1]).is_empty(), "same second is no evidence");
    }
}
