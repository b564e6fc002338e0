//! Reducing raw per-pod rows to measured cells.

use std::collections::{BTreeMap, HashSet};

use super::read::raw_key;
use super::{DatasetError, MeasuredCell, Observed, RawPodRow, KUBECTL_RESOLUTION_S};

/// The pods of one run seen so far (a set: a run may have a million rows), and their latest
/// `running_s`.
type RunPods<'a> = (HashSet<&'a str>, f64);

/// Reduces raw per-pod rows to one [`MeasuredCell`] per (`pods`, `delay_ms`), sorted by pods then delay.
///
/// A run's start-up time is the latest `running_s` among its pods, rounded down to whole seconds (the
/// resolution of kubectl's timestamps, so `resolution_s` is [`KUBECTL_RESOLUTION_S`]); the cell's
/// `mean_s` is the mean over its runs and `runs` their number.
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
            .or_insert((HashSet::new(), 0.0));
        if !run.0.insert(&row.pod) {
            return Err(DatasetError::Summary {
                message: format!("duplicate {}", raw_key(row)),
            });
        }
        run.1 = run.1.max(row.running_s);
    }
    let mut out = Vec::with_capacity(cells.len());
    for ((pods, delay_ms), runs) in cells {
        let mut total = 0.0;
        for (run, (names, max_running)) in &runs {
            if names.len() != pods as usize {
                return Err(DatasetError::Summary {
                    message: format!(
                        "run {run} of cell pods={pods} delay_ms={delay_ms} has {} pod rows, expected {pods}",
                        names.len()
                    ),
                });
            }
            total += max_running.floor();
        }
        let n = runs.len() as u32;
        out.push(MeasuredCell {
            pods,
            delay_ms,
            mean_s: total / f64::from(n),
            runs: n,
            resolution_s: KUBECTL_RESOLUTION_S,
            observed: Observed::ContainerStart,
        });
    }
    Ok(out)
}
