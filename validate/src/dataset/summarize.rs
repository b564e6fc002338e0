//! Reducing raw per-pod rows to measured cells.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::read::raw_key;
use super::{DatasetError, MeasuredCell, Observed, RawPodRow, KUBECTL_RESOLUTION_S, WATCH_RESOLUTION_S};

/// The pods of one run seen so far (a set: a run may have a million rows), their latest
/// `running_s`, and their latest `watch_running_s` while every pod so far has one.
type RunPods<'a> = (HashSet<&'a str>, f64, Option<f64>);

/// Reduces raw per-pod rows to one [`MeasuredCell`] per (`pods`, `delay_ms`), sorted by pods then delay.
///
/// When every row of a cell has `watch_running_s`, the cell is observed as the thesis observed
/// it ([`Observed::KubectlWatch`]): a run's start-up time is the latest `watch_running_s` among
/// its pods, on kubetwin's clock in whole milliseconds (`resolution_s` is
/// [`WATCH_RESOLUTION_S`]). Otherwise ([`Observed::ContainerStart`]) it is the latest
/// `running_s`, rounded down to whole seconds (the resolution of kubectl's timestamps, so
/// `resolution_s` is [`KUBECTL_RESOLUTION_S`]). The cell's `mean_s` is the mean over its runs
/// and `runs` their number.
///
/// # Errors
/// [`DatasetError::Summary`] when a run of a cell does not have exactly `pods` rows, or a pod appears twice
/// in the same run.
pub fn summarize(rows: &[RawPodRow]) -> Result<Vec<MeasuredCell>, DatasetError> {
    // (pods, delay_ms) -> run -> (pod names, max running_s)
    let mut cells: BTreeMap<(u32, u32), BTreeMap<u32, RunPods<'_>>> = BTreeMap::new();
    for row in rows {
        let run = cells
            .entry((row.pods, row.delay_ms))
            .or_default()
            .entry(row.run)
            .or_insert((HashSet::new(), 0.0, Some(0.0)));
        if !run.0.insert(&row.pod) {
            return Err(DatasetError::Summary {
                message: format!("duplicate {}", raw_key(row)),
            });
        }
        run.1 = run.1.max(row.running_s);
        run.2 = run.2.zip(row.watch_running_s).map(|(a, b)| a.max(b));
    }
    let mut out = Vec::with_capacity(cells.len());
    for ((pods, delay_ms), runs) in cells {
        let watched = runs.values().all(|r| r.2.is_some());
        let mut total = 0.0;
        for (run, (names, max_running, max_watched)) in &runs {
            if names.len() != pods as usize {
                return Err(DatasetError::Summary {
                    message: format!(
                        "run {run} of cell pods={pods} delay_ms={delay_ms} has {} pod rows, expected {pods}",
                        names.len()
                    ),
                });
            }
            total += match max_watched {
                // Whole milliseconds already; rounding only undoes the decimal text's error.
                Some(t) if watched => (t / WATCH_RESOLUTION_S).round(),
                _ => max_running.floor(),
            };
        }
        let n = runs.len() as u32;
        let (resolution_s, observed) = if watched {
            (WATCH_RESOLUTION_S, Observed::KubectlWatch)
        } else {
            (KUBECTL_RESOLUTION_S, Observed::ContainerStart)
        };
        out.push(MeasuredCell {
            pods,
            delay_ms,
            // Ticks per second divide last: 10234 ms / 1000 is 10.234, 10234 * 0.001 is not.
            mean_s: total / f64::from(n) / (1.0 / resolution_s).round(),
            runs: n,
            resolution_s,
            observed,
        });
    }
    Ok(out)
}

/// Refuses summarized cells (`from_raw`, [`summarize`]'s) whose mean is below one tick of the
/// clock their runs were read on, as [`read_cells`](super::read_cells) refuses such a cell of a
/// summary file: a run then read 0 s, a start-up its clock did not resolve, and a comparison
/// with the simulation read the same way would divide by it. `summarize` itself keeps them, so
/// that `measure` never loses a measurement it took; a comparison calls this first.
///
/// It refuses too a `container-start` cell (no watch) some run of which stamps a container's
/// start or its kubelet's taking the pod before the deployment's creation: that start-up is
/// read on the nodes' clocks, which such a node's is behind by more than the stamp shows
/// (the raw format keeps the row, [`super::MAX_CLOCK_SKEW_S`]).
///
/// # Errors
/// [`DatasetError::Unresolved`] naming the first such cell, its runs that read 0 s and the clock,
/// or the runs and nodes whose clock is behind.
pub fn check_resolved(from_raw: &[MeasuredCell], rows: &[RawPodRow]) -> Result<(), DatasetError> {
    for cell in from_raw.iter().filter(|c| c.observed == Observed::ContainerStart) {
        let early: Vec<&RawPodRow> = rows
            .iter()
            .filter(|r| (r.pods, r.delay_ms) == (cell.pods, cell.delay_ms) && (r.started_s < 0.0 || r.running_s < 0.0))
            .collect();
        if !early.is_empty() {
            let runs: BTreeSet<u32> = early.iter().map(|r| r.run).collect();
            let nodes: BTreeSet<&str> = early.iter().map(|r| r.node.as_str()).collect();
            return Err(DatasetError::Unresolved {
                message: format!(
                    "cell pods={} delay_ms={}: observed = container-start (no watch times), so its start-up is read on the nodes' clocks, and run{} {} stamp{} the kubelet's or the containers' start before the deployment's creation (node{} {}: a clock behind the control plane's), so the start-up would read short by an unknown amount; expected the watch's times (kubetwin measure without --no-watch) or clocks synchronized by NTP",
                    cell.pods,
                    cell.delay_ms,
                    if runs.len() == 1 { "" } else { "s" },
                    runs.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
                    if runs.len() == 1 { "s" } else { "" },
                    if nodes.len() == 1 { "" } else { "s" },
                    nodes.into_iter().collect::<Vec<_>>().join(", "),
                ),
            });
        }
    }
    let Some(cell) = from_raw.iter().find(|c| c.resolution_s > c.mean_s) else {
        return Ok(());
    };
    let (column, clock) = match cell.observed {
        Observed::KubectlWatch => ("watch_running_s", "whole milliseconds of kubetwin's clock"),
        Observed::ContainerStart => ("running_s", "whole seconds, as kubectl's timestamps"),
    };
    // The cell's runs, and those where a pod reached a whole tick; the others read 0.
    let of_cell = rows
        .iter()
        .filter(|r| (r.pods, r.delay_ms) == (cell.pods, cell.delay_ms));
    // As `summarize` reads them: the watch's time rounded to whole milliseconds, the
    // containers' start floored to whole seconds.
    let reached_a_tick = |r: &&RawPodRow| match cell.observed {
        Observed::KubectlWatch => r
            .watch_running_s
            .is_some_and(|t| (t / WATCH_RESOLUTION_S).round() >= 1.0),
        Observed::ContainerStart => r.running_s.floor() >= KUBECTL_RESOLUTION_S,
    };
    let ticked: BTreeSet<u32> = of_cell.clone().filter(reached_a_tick).map(|r| r.run).collect();
    let zero: BTreeSet<u32> = of_cell.map(|r| r.run).filter(|run| !ticked.contains(run)).collect();
    let runs: Vec<String> = zero.iter().map(u32::to_string).collect();
    Err(DatasetError::Unresolved {
        message: format!(
            "cell pods={} delay_ms={}: its runs' start-ups average {} s, below one tick ({} s) of the clock they are read on (the latest {column} of a run's pods, in {clock}): run{} {} read 0 s, a start-up the clock did not resolve; expected runs whose start-ups average at least one tick",
            cell.pods,
            cell.delay_ms,
            cell.mean_s,
            cell.resolution_s,
            if runs.len() == 1 { "" } else { "s" },
            runs.join(", "),
        ),
    })
}

/// Where raw rows, summarized as `from_raw` ([`summarize`]), disagree with the measured `cells`
/// they were given with: a cell of the rows that the cells lack, or one with other runs or
/// another mean. Each is a sentence for a warning; none when `kubetwin measure` wrote both
/// files together. The means are compared to within 0.01 s: a summary file rounds nothing
/// coarser.
pub fn raw_disagreements(cells: &[MeasuredCell], from_raw: &[MeasuredCell]) -> Vec<String> {
    from_raw
        .iter()
        .filter_map(|r| {
            let name = format!("pods={} delay_ms={}", r.pods, r.delay_ms);
            match cells.iter().find(|c| (c.pods, c.delay_ms) == (r.pods, r.delay_ms)) {
                None => Some(format!("the raw rows' cell {name} is not among the measured cells")),
                Some(c) if c.runs != r.runs || (c.mean_s - r.mean_s).abs() > 0.01 => Some(format!(
                    "cell {name}: the raw rows give {} runs with a mean of {:.2} s, the measured cells {} runs with {:.2} s",
                    r.runs, r.mean_s, c.runs, c.mean_s
                )),
                Some(_) => None,
            }
        })
        .collect()
}

/// Cells whose mean cannot be the mean of `runs` readings at `resolution_s`: such a mean is a
/// multiple of `resolution_s / runs` (five whole-second runs: 0.2 s), up to the rounding of the
/// mean as written (read from its decimals, at most three). Each is a sentence for a warning:
/// the runs or the resolution are then not what the file says, and every noise figure that
/// takes them (prediction intervals, the calibration's χ² and bootstrap) is off by as much.
pub fn impossible_means(cells: &[MeasuredCell]) -> Vec<String> {
    cells
        .iter()
        .filter(|c| c.runs > 0 && c.resolution_s > 0.0)
        .filter_map(|c| {
            // The decimals the mean was written with: the fewest that give it back.
            let decimals = (0..=3).find(|&d| {
                let x = c.mean_s * 10f64.powi(d);
                (x - x.round()).abs() < 1e-6
            })?;
            let half_unit = 0.5 * 10f64.powi(-decimals);
            let step = c.resolution_s / f64::from(c.runs);
            let below = (c.mean_s / step).floor() * step;
            let above = below + step;
            let nearest = if c.mean_s - below <= above - c.mean_s { below } else { above };
            // The step's own decimals, to print the multiples as such (25.0, not 25).
            let prec = (0..=6)
                .find(|&d| {
                    let x = step * 10f64.powi(d);
                    (x - x.round()).abs() < 1e-6
                })
                .unwrap_or(6) as usize;
            ((nearest - c.mean_s).abs() > half_unit + 1e-9).then(|| {
                format!(
                    "cell pods={} delay_ms={}: a mean of {} runs read to {} s is a multiple of {step:.prec$} s, so it cannot be {} (the nearest are {below:.prec$} and {above:.prec$}); the runs or the resolution may not be what the file says, and the noise figures that assume them (prediction intervals, calibrate's chi-square and bootstrap) would be off",
                    c.pods, c.delay_ms, c.runs, c.resolution_s, c.mean_s,
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(mean_s: f64, runs: u32) -> MeasuredCell {
        MeasuredCell {
            pods: 4,
            delay_ms: 100,
            mean_s,
            runs,
            resolution_s: 1.0,
            observed: Default::default(),
        }
    }

    /// Five whole-second runs average to a multiple of 0.2 s: 125.4 can be one (627 / 5), 24.9
    /// cannot, written to 0.1 s (24.8 and 25.0 are the nearest); 24.87 written to 0.01 s is
    /// not either, but 24.9 from 7 runs can be (174 / 7 = 24.857, 24.9 to one decimal).
    #[test]
    fn a_mean_that_no_runs_at_that_resolution_give_is_named() {
        assert!(impossible_means(&[cell(125.4, 5), cell(141.0, 5)]).is_empty());
        let w = impossible_means(&[cell(24.9, 5)]);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("a multiple of 0.2 s, so it cannot be 24.9 (the nearest are 24.8 and 25.0)"),
            "{}",
            w[0]
        );
        assert_eq!(impossible_means(&[cell(24.87, 5)]).len(), 1);
        assert!(impossible_means(&[cell(24.9, 7)]).is_empty());
    }
}
