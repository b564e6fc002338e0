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
