//! Measured pod start-up on disk: the per-cell summary CSV and the raw per-pod CSV.
//!
//! # Summary: one row per cell
//!
//! The schema of `shared/data/thesis-2019/pod-startup-calibration.csv`:
//!
//! ```text
//! # comment lines start with '#'
//! pods,delay_ms,mean_s,runs,resolution_s
//! 4,100,24.9,5,1
//! ```
//!
//! | column | meaning |
//! |---|---|
//! | `pods` | replicas of the deployment (positive integer) |
//! | `delay_ms` | the one-way network delay in force while measuring, in milliseconds (the cell's label); at most 2592000000 (30 days, the scenario's limit on a delay) |
//! | `mean_s` | mean over runs of the start-up time: from creating the deployment until every pod runs; at least 0.001 (errors are relative to it), at most 30 days |
//! | `runs` | how many runs the mean is over (positive integer, at most 4294967295) |
//! | `resolution_s` | resolution of the underlying times; 1 for kubectl's whole-second timestamps; at least 0.001 (1 ms, the scenario's shortest `workload.resolution`), at most 3600, and at most `mean_s` (a run's start-up reads whole ticks, so a mean below one tick has a run that read 0 s: the clock did not resolve the start-up) |
//! | `observed` (optional) | what "every pod runs" means, so the simulation is observed alike ([`Observed`]): `kubectl-watch` (absent: the thesis watched `kubectl get pods -w` until all were Running, which includes the kubelets' status reports; `kubetwin measure` watches alike) or `container-start` (the last container's `startedAt`, what [`summarize()`] computes for a cell that has a row without the watch's time) |
//!
//! A (`pods`, `delay_ms`) pair appears at most once. Columns may come in any order; every required
//! column must be there, `observed` may be, and no other. Read with [`read_cells`], written with
//! [`write_cells`] (atomically; the `observed` column only when a cell is not `kubectl-watch`).
//!
//! # Raw: one row per pod per run
//!
//! ```text
//! run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s
//! 1,web-64c966cf88-26sws,kwok-node-0,0,20,0,0,2,7
//! ```
//!
//! These `*_s` columns are **seconds since the deployment was created in that run** (the deployment's
//! `metadata.creationTimestamp`, stamped by the apiserver that created the deployment, so kubetwin's
//! own clock does not enter; the pods' stamps are their own hosts', below); the optional
//! `watch_running_s` below is not:
//!
//! | column | source in `kubectl get pods -o json` (fallback in `kubectl get events -o json`) |
//! |---|---|
//! | `created_s` | pod `metadata.creationTimestamp` |
//! | `scheduled_s` | `PodScheduled` condition's `lastTransitionTime` (the `Scheduled` event) |
//! | `started_s` | `Initialized` condition's `lastTransitionTime`: the kubelet has taken the pod and is about to pull and start it (`status.startTime`, then the first `Pulling` event) |
//! | `running_s` | the latest `state.running.startedAt` over the pod's containers: when its last container started on the node (the `Started` event), before the kubelet's status report makes `kubectl get pods` show it `Running` (hence `observed = container-start` for a cell summarized from it; `docs/validation.md`) |
//!
//! `run` numbers runs within a cell from 1; `pods` and `delay_ms` name the cell, as in the summary;
//! `node` is the node the pod ran on; each run of a cell has one row per pod (`pods` rows). A pod's
//! containers run after its kubelet took it, so `running_s` is not before `started_s` (both
//! stamped on its node). Stamps of different hosts are not ordered: `started_s` may read before
//! `scheduled_s` (a node's clock behind), and in a highly available control plane `scheduled_s`
//! before `created_s` (stamped by different masters); for the same reason a stamp may read up
//! to [`MAX_CLOCK_SKEW_S`] (an hour) before the deployment's creation, a negative value.
//! Timestamps written by the API server have whole seconds, so the
//! values are whole numbers except where an event's `eventTime` (microseconds) was the fallback.
//!
//! One optional column comes from kubetwin's own watch rather than from the pods' stamps:
//!
//! | column | meaning |
//! |---|---|
//! | `watch_running_s` (optional) | when `kubectl get pods -w` first showed the pod Running, in seconds since kubetwin started `kubectl create deployment`, on kubetwin's own clock, in whole milliseconds: the thesis's observation (it includes the kubelet's status report); empty when the watch did not show it |
//!
//! [`summarize()`] reduces a cell whose every row has `watch_running_s` as the thesis observed
//! (`kubectl-watch`, [`WATCH_RESOLUTION_S`]), any other by `running_s` (`container-start`).
//! Read with [`read_raw`], written with [`write_raw`] (the optional column only when a row has
//! it), reduced to cells by [`summarize()`]. A cell whose runs average less than one tick of
//! that clock is kept by `summarize` (a measurement is never lost) and refused for comparison by
//! [`check_resolved`], as a summary file's is at `resolution_s`; so is a `container-start` cell
//! some run of which stamps a kubelet's or container's instant before the deployment's creation.

use std::io;
use std::path::PathBuf;

/// The most pods a cell may have, and the bound of every command's `--pods`.
pub const MAX_PODS: u32 = 1_000_000;

/// Columns of the summary CSV, in the order [`write_cells`] writes them.
pub const CELL_COLUMNS: [&str; 5] = ["pods", "delay_ms", "mean_s", "runs", "resolution_s"];

/// The summary CSV's optional last column: how start-up was observed ([`Observed`]); absent
/// means `kubectl-watch`, as in the thesis's file.
pub const CELL_OBSERVED_COLUMN: &str = "observed";

/// What a cell's start-up time is the time of, so that the simulation can be observed the same
/// way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Observed {
    /// Until a kubectl watch showed every pod Running, read at the cell's resolution (whole
    /// seconds in the thesis, whole milliseconds from `kubetwin measure`'s own watch): this
    /// includes the kubelets' status reports (PLEG, status manager, PATCH, watch).
    #[default]
    KubectlWatch,
    /// Until the last container started, from the containers' `state.running.startedAt` minus
    /// the deployment's `creationTimestamp`, both whole seconds (what `kubetwin measure`
    /// summarizes when its watch did not time every pod): ends before the kubelets report
    /// Running.
    ContainerStart,
}

impl Observed {
    /// The CSV value: `kubectl-watch` or `container-start`.
    pub fn as_str(self) -> &'static str {
        match self {
            Observed::KubectlWatch => "kubectl-watch",
            Observed::ContainerStart => "container-start",
        }
    }

    fn parse(text: &str) -> Option<Observed> {
        match text {
            "" | "kubectl-watch" => Some(Observed::KubectlWatch),
            "container-start" => Some(Observed::ContainerStart),
            _ => None,
        }
    }
}

/// Columns of the raw per-pod CSV, in the order [`write_raw`] writes them.
pub const RAW_COLUMNS: [&str; 9] = [
    "run",
    "pod",
    "node",
    "delay_ms",
    "pods",
    "created_s",
    "scheduled_s",
    "started_s",
    "running_s",
];

/// The raw CSV's optional last column: when kubetwin's watch showed the pod Running
/// ([`RawPodRow::watch_running_s`]).
pub const RAW_WATCH_COLUMN: &str = "watch_running_s";

/// Resolution, in seconds, of start-up times computed from kubectl's timestamps.
pub const KUBECTL_RESOLUTION_S: f64 = 1.0;

/// Resolution, in seconds, of the times kubetwin's own watch records
/// ([`RawPodRow::watch_running_s`]): its clock read in whole milliseconds (kubetwin's choice; the
/// finest a cell may name, [`MIN_RESOLUTION_S`]).
pub const WATCH_RESOLUTION_S: f64 = 0.001;

/// Measured start-up of one cell: mean over runs of the time until all pods run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeasuredCell {
    /// Replicas of the deployment.
    pub pods: u32,
    /// One-way network delay in force, in milliseconds.
    pub delay_ms: u32,
    /// Mean start-up time over the runs, in seconds.
    pub mean_s: f64,
    /// Number of runs.
    pub runs: u32,
    /// Resolution of the measured times, in seconds.
    pub resolution_s: f64,
    /// What the start-up time is the time of (the optional `observed` column).
    pub observed: Observed,
}

/// One pod in one run, with its start-up times in seconds since the deployment was created.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPodRow {
    /// Run number within the cell, from 1.
    pub run: u32,
    /// Pod name.
    pub pod: String,
    /// Node the pod ran on.
    pub node: String,
    /// One-way network delay in force, in milliseconds.
    pub delay_ms: u32,
    /// Replicas of the deployment in this run.
    pub pods: u32,
    /// Pod object created.
    pub created_s: f64,
    /// Pod bound to a node.
    pub scheduled_s: f64,
    /// Kubelet took the pod.
    pub started_s: f64,
    /// All containers running.
    pub running_s: f64,
    /// When kubetwin's `kubectl get pods -w` first showed the pod Running, in seconds since
    /// kubetwin started `kubectl create deployment` (kubetwin's clock, whole milliseconds);
    /// `None` when no watch showed it. Not comparable with the other times, which are the API
    /// server's and the node's stamps since the deployment's `creationTimestamp`.
    pub watch_running_s: Option<f64>,
}

/// A problem reading, writing or summarizing a data set. None of these leave a partly written file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The file could not be read, created, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The text is not well-formed CSV.
    #[error("{}:{line}: malformed CSV: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line, counting comment lines.
        line: u64,
        /// The CSV reader's message.
        message: String,
    },
    /// A line after the header names columns again, other ones than the header's (and so other
    /// field counts): two files of different columns joined with `cat`.
    #[error(
        "{}:{line}: a header line again, with other columns ({columns}) than the file's first ({first}): files \
         joined with `cat`? join only files of the same columns, and keep only the first file's header line",
        path.display()
    )]
    HeaderAgain {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The line's column names.
        columns: String,
        /// The file's header.
        first: String,
    },
    /// A row has more or fewer fields than the header.
    #[error("{}:{line}: expected {expected} fields as in the header, found {found}", path.display())]
    RowLength {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Fields in the header.
        expected: u64,
        /// Fields in this row.
        found: u64,
    },
    /// The file has no header line: it is empty, or holds only comments and blank lines.
    #[error("{}: no header line (the file is empty, or comments only); expected a header with the columns {expected}", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
        /// The expected columns, comma-separated.
        expected: String,
    },
    /// The header lacks a column.
    #[error("{}: missing column `{column}` (expected columns: {expected})", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: &'static str,
        /// All expected columns, comma-separated.
        expected: String,
    },
    /// The header has a column this format does not know, or has one twice.
    #[error("{}:{line}: {problem} column `{column}` (expected columns: {expected})", path.display())]
    BadColumn {
        /// The file.
        path: PathBuf,
        /// 1-based line of the header.
        line: u64,
        /// The column as written.
        column: String,
        /// `unknown` or `duplicate`.
        problem: &'static str,
        /// All expected columns, comma-separated.
        expected: String,
    },
    /// A field does not hold what its column needs.
    #[error("{}:{line}: column `{column}`: {message}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The column.
        column: &'static str,
        /// What is expected and what was found, e.g. `runs must be a positive integer, got 0`.
        message: String,
    },
    /// The file has a header but no data row.
    #[error("{}: no data rows; expected at least one cell after the header", path.display())]
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// A row repeats the key of an earlier row.
    #[error("{}:{line}: duplicate {what}, first given on line {first_line}", path.display())]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// 1-based line of the repeat.
        line: u64,
        /// 1-based line of the first occurrence.
        first_line: u64,
        /// The key, e.g. `cell pods=4 delay_ms=100`.
        what: String,
    },
    /// A value to be written is invalid, so the file would not read back; nothing was written.
    #[error("{}: record {index}: column `{column}`: {message}", path.display())]
    InvalidRecord {
        /// The file that was to be written.
        path: PathBuf,
        /// 0-based index of the record in the slice given.
        index: usize,
        /// The column.
        column: &'static str,
        /// What is expected and what was found.
        message: String,
    },
    /// Two records to be written share a key; nothing was written.
    #[error("{}: records {first} and {second}: duplicate {what}", path.display())]
    DuplicateRecord {
        /// The file that was to be written.
        path: PathBuf,
        /// 0-based index of the first.
        first: usize,
        /// 0-based index of the repeat.
        second: usize,
        /// The key.
        what: String,
    },
    /// A run of a cell in a raw file does not have one row per pod.
    #[error("{}:{line}: {message}", path.display())]
    Run {
        /// The file.
        path: PathBuf,
        /// 1-based line of the run's first row.
        line: u64,
        /// The run, its cell, its rows' lines and how many rows it should have.
        message: String,
    },
    /// Raw rows cannot be summarized as they are.
    #[error("cannot summarize raw rows: {message}")]
    Summary {
        /// What is inconsistent, naming cell and run.
        message: String,
    },
    /// Raw rows summarize to a cell whose start-up their clock did not resolve
    /// ([`check_resolved`]).
    #[error("the raw rows cannot be compared: {message}")]
    Unresolved {
        /// The cell, its runs that read 0 s and the clock.
        message: String,
    },
}

mod read;
mod summarize;
mod write;

pub use read::*;
pub use summarize::*;
pub use write::*;

#[cfg(test)]
mod tests {
    use super::*;

    const THESIS: &str = "# Pod start-up time of an nginx Deployment.\n# Source: the 2019 thesis.\n\
                          pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n4,500,25.5,5,1\n\
                          100,100,125.4,5,1\n100,500,141.0,5,1\n";

    fn cells(text: &str) -> Result<Vec<MeasuredCell>, DatasetError> {
        read_cells_from(text.as_bytes(), "cells.csv")
    }

    /// A file saved with old Mac line endings (a lone `\r`) reads as the same file with `\n`,
    /// comments included, and its errors name the same lines.
    #[test]
    fn old_mac_line_endings_read_as_any_other() {
        let mac = THESIS.replace('\n', "\r");
        assert_eq!(cells(&mac).unwrap(), cells(THESIS).unwrap());
        let ragged = THESIS.replace("4,500,25.5,5,1", "4,500,25.5,5,1,9").replace('\n', "\r");
        let err = cells(&ragged).unwrap_err().to_string();
        assert!(err.starts_with("cells.csv:5:"), "{err}");
        let mut bytes = THESIS.replace('\n', "\r").into_bytes();
        let at = THESIS.find("100,100").unwrap(); // line 6
        bytes[at] = 0xff;
        let err = read_cells_from(bytes.as_slice(), "cells.csv").unwrap_err().to_string();
        assert!(err.starts_with("cells.csv:6:") && err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn reads_the_thesis_shape() {
        let got = cells(THESIS).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[3],
            MeasuredCell {
                pods: 100,
                delay_ms: 500,
                mean_s: 141.0,
                runs: 5,
                resolution_s: 1.0,
                observed: Observed::KubectlWatch,
            }
        );
    }

    #[test]
    fn a_raw_time_of_more_than_30_days_is_refused() {
        let head = "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n";
        let err = read_raw_from(format!("{head}1,a,n,0,1,0,0,1,1e300\n").as_bytes(), "raw.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv:2: column `running_s`: running_s must be seconds since the deployment's creation, in -3600..=2592000 (30 days; below 0 only by the skew between two hosts' clocks, at most an hour), got 1e300"
        );
        assert!(read_raw_from(format!("{head}1,a,n,0,1,0,0,1,7\n").as_bytes(), "raw.csv").is_ok());
    }

    #[test]
    fn a_file_without_cells_or_with_too_many_pods_is_refused() {
        let err = cells("# only a header\npods,delay_ms,mean_s,runs,resolution_s\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv: no data rows; expected at least one cell after the header"
        );
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n1000001,100,1,5,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:2: column `pods`: pods must be a whole number in 1..=1000000, got 1000001"
        );
        assert!(matches!(
            cells_to_string("c.csv", &[], &[]),
            Err(DatasetError::NoRows { .. })
        ));
    }

    /// A clock finer than 1 ms (the scenario's floor on `workload.resolution`, E017) used to be
    /// read and simulated with a 0-ns tick: NaN start-ups, a "0 %" max error and exit 0.
    #[test]
    fn a_resolution_under_1_ms_is_refused_at_its_line_and_column() {
        let head = "pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n";
        for tiny in ["1e-10", "0.0001", "0.000999"] {
            let err = cells(&format!("{head}4,500,25.5,5,{tiny}\n")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "cells.csv:3: column `resolution_s`: resolution_s must be the observer's resolution in seconds, \
                     at least 0.001 (1 ms, the scenario's shortest workload.resolution) and at most 3600 \
                     (kubectl's timestamps: 1), got {tiny}"
                )
            );
        }
        assert_eq!(
            cells(&format!("{head}4,500,25.5,5,0.001\n")).unwrap()[1].resolution_s,
            0.001
        );
        let cell = MeasuredCell {
            resolution_s: 1e-10,
            ..cells(THESIS).unwrap()[0]
        };
        assert!(matches!(
            cells_to_string("c.csv", &[cell], &[]),
            Err(DatasetError::InvalidRecord {
                column: "resolution_s",
                ..
            })
        ));
    }

    /// A clock coarser than the cell's mean (a mean of 24.9 s read on a 3600-s clock) used to be
    /// read and simulated: start-ups of 0 s or whole hours, errors of -100 % or +2800 %.
    #[test]
    fn a_resolution_above_the_mean_is_refused_at_its_line_and_column() {
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n# c\n4,100,24.9,5,3600\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:3: column `resolution_s`: resolution_s must not exceed mean_s: each run's start-up reads a \
             whole number of ticks of the observer's clock, so a mean below one tick means a run read 0 s, a \
             start-up the clock did not resolve; got resolution_s 3600 and mean_s 24.9 (kubectl's timestamps: 1)"
        );
        let err = cells("runs,resolution_s,pods,delay_ms,mean_s\n5,1,4,100,0.5\n").unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::Field {
                    column: "resolution_s",
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
        // One tick is resolved: a mean of exactly the resolution reads.
        assert_eq!(
            cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,1,5,1\n").unwrap()[0].mean_s,
            1.0
        );
        assert_eq!(
            cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,3600,5,3600\n").unwrap()[0].resolution_s,
            3600.0
        );
    }

    /// A positive integer beyond what `runs` holds used to be told it "must be a positive
    /// integer"; it is told the limit.
    #[test]
    fn runs_beyond_the_limit_are_told_the_limit() {
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,4294967296,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:2: column `runs`: runs must be a positive integer of at most 4294967295, got 4294967296"
        );
        assert_eq!(
            cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,4294967295,1\n").unwrap()[0].runs,
            u32::MAX
        );
        // What is not a positive integer is still told so.
        for bad in ["+4294967296", "-4294967296", "4294967296.5"] {
            let err = cells(&format!("pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,{bad},1\n")).unwrap_err();
            assert!(
                err.to_string()
                    .ends_with(&format!("runs must be a positive integer, got {bad}")),
                "{err}"
            );
        }
        let head = "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n";
        let err = read_raw_from(format!("{head}99999999999,a,n,0,1,0,0,1,1\n").as_bytes(), "raw.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv:2: column `run`: run must be a positive integer of at most 4294967295, got 99999999999"
        );
    }

    /// A delay of more than 30 days (E015's limit on the scenario's durations) used to be read,
    /// then simulated until the workload timed out, with an error that blamed the scenario.
    #[test]
    fn a_delay_of_more_than_30_days_is_refused_at_its_line_and_column() {
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n# c\n4,2592000001,24.9,5,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:3: column `delay_ms`: delay_ms must be a whole number of milliseconds in 0..=2592000000 \
             (30 days, the scenario's limit on a delay), got 2592000001"
        );
        assert_eq!(
            cells("pods,delay_ms,mean_s,runs,resolution_s\n4,2592000000,24.9,5,1\n").unwrap()[0].delay_ms,
            2_592_000_000
        );
        let head = "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n";
        let err = read_raw_from(format!("{head}1,a,n,4294967295,1,0,0,1,1\n").as_bytes(), "raw.csv").unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::Field {
                    column: "delay_ms",
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
        let cell = MeasuredCell {
            delay_ms: u32::MAX,
            ..cells(THESIS).unwrap()[0]
        };
        assert!(matches!(
            cells_to_string("c.csv", &[cell], &[]),
            Err(DatasetError::InvalidRecord { column: "delay_ms", .. })
        ));
    }

    #[test]
    fn field_errors_name_file_line_column_and_expectation() {
        let err = cells("# c\npods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n-3,100,1,5,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:4: column `pods`: pods must be a whole number in 1..=1000000, got -3"
        );
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,NaN,5,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:2: column `mean_s`: mean_s must be a start-up time in seconds, at least 0.001 (errors are relative to it) and at most 2592000 (30 days), got NaN"
        );
        // A start-up of 0 would make every error infinite; one of 1e300 s or a clock of
        // 1e300 s is a unit slip.
        for (mean, resolution, column) in [
            ("0", "1", "mean_s"),
            ("1e300", "1", "mean_s"),
            ("25", "1e300", "resolution_s"),
        ] {
            let text = format!("pods,delay_ms,mean_s,runs,resolution_s\n4,100,{mean},5,{resolution}\n");
            let err = cells(&text).unwrap_err();
            assert!(
                matches!(err, DatasetError::Field { column: c, line: 2, .. } if c == column),
                "{err}"
            );
        }
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,,1,5,1\n").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("delay_ms must be a whole number of milliseconds in 0..=2592000000 (30 days, the scenario's limit on a delay), got an empty field"),
            "{err}"
        );
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,1,0,1\n").unwrap_err();
        assert!(
            err.to_string().contains("runs must be a positive integer, got 0"),
            "{err}"
        );
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,1,5,0\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("resolution_s must be the observer's resolution in seconds, at least 0.001 (1 ms"),
            "{err}"
        );
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n+4,100,1,5,1\n").unwrap_err();
        assert!(matches!(err, DatasetError::Field { column: "pods", .. }), "{err}");
    }

    #[test]
    fn header_problems() {
        let err = cells("pods,delay_ms,mean_s,runs\n4,100,24.9,5\n").unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::MissingColumn {
                    column: "resolution_s",
                    ..
                }
            ),
            "{err}"
        );
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s,note\n4,100,24.9,5,1,x\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:1: unknown column `note` (expected columns: pods,delay_ms,mean_s,runs,resolution_s; optional: observed)"
        );
        let err = cells("pods,pods,delay_ms,mean_s,runs,resolution_s\n").unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::BadColumn {
                    problem: "duplicate",
                    ..
                }
            ),
            "{err}"
        );
        for empty in ["", "# comments only\n\n"] {
            let err = cells(empty).unwrap_err();
            assert!(matches!(err, DatasetError::NoHeader { .. }), "{err}");
        }
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:2: expected 5 fields as in the header, found 4"
        );
        // Two files of different columns joined with `cat` (the second with the optional
        // `observed` column): the second header is named, not counted.
        let joined = "pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n# b.csv\npods,delay_ms,mean_s,runs,resolution_s,observed\n4,500,25.5,5,1,x\n";
        let err = cells(joined).unwrap_err();
        assert!(matches!(err, DatasetError::HeaderAgain { line: 4, .. }), "{err}");
        assert!(
            err.to_string().starts_with(
                "cells.csv:4: a header line again, with other columns (pods,delay_ms,mean_s,runs,resolution_s,observed) than the file's first (pods,delay_ms,mean_s,runs,resolution_s)"
            ),
            "{err}"
        );
        // A short row of numbers, or of text naming no column, is a short row.
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\nx,y\n").unwrap_err();
        assert!(matches!(err, DatasetError::RowLength { .. }), "{err}");
        // A short row with an empty field is a short row, though another field names a column.
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n,pods,x\n").unwrap_err();
        assert!(matches!(err, DatasetError::RowLength { .. }), "{err}");
    }

    #[test]
    fn columns_in_any_order_and_duplicate_cells() {
        let got = cells("runs,resolution_s,pods,delay_ms,mean_s\n5,1,4,100,24.9\n").unwrap();
        assert_eq!(got[0].pods, 4);
        assert_eq!(got[0].mean_s, 24.9);
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n# x\n4,100,25,5,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:4: duplicate cell pods=4 delay_ms=100, first given on line 2"
        );
    }

    #[test]
    fn writes_what_it_reads() {
        let read = cells(THESIS).unwrap();
        let text = cells_to_string("out.csv", &read, &["from the thesis", "two\nlines"]).unwrap();
        assert!(text
            .starts_with("# from the thesis\n# two lines\npods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n"));
        assert!(text.contains("100,500,141.0,5,1\n"), "{text}");
        assert_eq!(cells(&text).unwrap(), read);
        let mut bad = read.clone();
        bad[1].mean_s = f64::INFINITY;
        let err = cells_to_string("out.csv", &bad, &[]).unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::InvalidRecord {
                    index: 1,
                    column: "mean_s",
                    ..
                }
            ),
            "{err}"
        );
        bad[1] = bad[0];
        assert!(matches!(
            cells_to_string("out.csv", &bad, &[]),
            Err(DatasetError::DuplicateRecord {
                first: 0,
                second: 1,
                ..
            })
        ));
    }

    fn row(run: u32, pod: &str, running_s: f64) -> RawPodRow {
        RawPodRow {
            run,
            pod: pod.into(),
            node: "n0".into(),
            delay_ms: 100,
            pods: 2,
            created_s: 0.0,
            scheduled_s: 0.0,
            started_s: 1.0,
            running_s,
            watch_running_s: None,
        }
    }

    #[test]
    fn summarize_takes_the_latest_pod_per_run_and_the_mean_over_runs() {
        let rows = [row(1, "a", 3.0), row(1, "b", 7.0), row(2, "a", 9.5), row(2, "b", 2.0)];
        let got = summarize(&rows).unwrap();
        assert_eq!(
            got,
            [MeasuredCell {
                pods: 2,
                delay_ms: 100,
                mean_s: 8.0,
                runs: 2,
                resolution_s: 1.0,
                observed: Observed::ContainerStart,
            }]
        );
        let err = summarize(&rows[..3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot summarize raw rows: run 2 of cell pods=2 delay_ms=100 has 1 pod rows, expected 2"
        );
        let err = summarize(&[row(1, "a", 3.0), row(1, "a", 7.0)]).unwrap_err();
        assert!(err.to_string().contains("duplicate pod a in run 1"), "{err}");
        assert_eq!(summarize(&[]).unwrap(), []);
    }

    /// A container-start cell (no watch) whose run stamps a container before the deployment's
    /// creation reads its start-up on a node clock behind the control plane's: it cannot be
    /// compared (a review found a run of such a node averaged in as 0 s, an error of +84 %);
    /// the same rows with the watch's times can.
    #[test]
    fn a_container_start_cell_on_a_clock_behind_cannot_be_compared() {
        let mut rows = vec![
            row(1, "a", 20.0),
            row(1, "b", 25.0),
            row(2, "a", 24.0),
            row(2, "b", 26.0),
        ];
        rows[3].running_s = -5.0;
        rows[3].started_s = -7.0;
        rows[3].node = "n3".into();
        let cells = summarize(&rows).unwrap();
        let err = check_resolved(&cells, &rows).unwrap_err();
        assert!(matches!(err, DatasetError::Unresolved { .. }), "{err}");
        assert!(
            err.to_string().contains("cell pods=2 delay_ms=100: observed = container-start (no watch times), so its start-up is read on the nodes' clocks, and run 2 stamps the kubelet's or the containers' start before the deployment's creation (node n3: a clock behind"),
            "{err}"
        );
        for r in &mut rows {
            r.watch_running_s = Some(26.5);
        }
        let watched = summarize(&rows).unwrap();
        assert_eq!(watched[0].observed, Observed::KubectlWatch);
        check_resolved(&watched, &rows).unwrap();
    }

    /// A cell whose runs average less than one tick of their clock cannot be compared (as a
    /// summary file's refused at `resolution_s`); the runs that read 0 s are named.
    #[test]
    fn a_cell_below_one_tick_cannot_be_compared() {
        let rows = [row(1, "a", 0.0), row(1, "b", 0.6), row(2, "a", 0.2), row(2, "b", 1.4)];
        let cells = summarize(&rows).unwrap();
        assert_eq!(
            cells[0].mean_s, 0.5,
            "summarize keeps it: measure must not lose its runs"
        );
        let err = check_resolved(&cells, &rows).unwrap_err();
        assert!(matches!(err, DatasetError::Unresolved { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("cell pods=2 delay_ms=100"), "{text}");
        assert!(text.contains("run 1 read 0 s"), "{text}");
        assert!(text.contains("latest running_s"), "{text}");
        // One tick on average is enough, as for a summary file.
        let rows = [row(1, "a", 0.0), row(1, "b", 0.6), row(2, "a", 0.2), row(2, "b", 2.4)];
        check_resolved(&summarize(&rows).unwrap(), &rows).unwrap();
        // The watch's clock ticks every millisecond.
        let rows = [watched(1, "a", 0.0, 0.0004), watched(1, "b", 0.0, 0.0001)];
        let err = check_resolved(&summarize(&rows).unwrap(), &rows)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("latest watch_running_s") && err.contains("run 1 read 0 s"),
            "{err}"
        );
        let rows = [watched(1, "a", 0.0, 0.0004), watched(1, "b", 0.0, 0.002)];
        check_resolved(&summarize(&rows).unwrap(), &rows).unwrap();
        // A run read as summarize reads it: 0.7 ms rounds to one tick, so only runs 2 and 3
        // read 0 (the mean, 1/3 ms, is below a tick).
        let rows = [
            watched(1, "a", 0.0, 0.0007),
            watched(1, "b", 0.0, 0.0001),
            watched(2, "a", 0.0, 0.0),
            watched(2, "b", 0.0, 0.0002),
            watched(3, "a", 0.0, 0.0),
            watched(3, "b", 0.0, 0.0),
        ];
        let err = check_resolved(&summarize(&rows).unwrap(), &rows)
            .unwrap_err()
            .to_string();
        assert!(err.contains("runs 2, 3 read 0 s"), "{err}");
    }

    fn watched(run: u32, pod: &str, running_s: f64, watch_running_s: f64) -> RawPodRow {
        RawPodRow {
            watch_running_s: Some(watch_running_s),
            ..row(run, pod, running_s)
        }
    }

    /// A cell whose every row has the watch's time is a kubectl watch at 1 ms, its runs timed by
    /// their last pod shown Running; a cell where one row lacks it falls back to the containers'
    /// starts, for every run.
    #[test]
    fn summarize_takes_the_watch_when_every_row_has_it() {
        let rows = [
            watched(1, "a", 3.0, 4.101),
            watched(1, "b", 7.0, 8.346),
            watched(2, "a", 9.5, 10.2),
            watched(2, "b", 2.0, 3.003),
        ];
        let got = summarize(&rows).unwrap();
        assert_eq!(
            (got[0].observed, got[0].resolution_s, got[0].mean_s, got[0].runs),
            (Observed::KubectlWatch, WATCH_RESOLUTION_S, 9.273, 2)
        );
        let mut one_missing = rows.clone();
        one_missing[2].watch_running_s = None;
        let got = summarize(&one_missing).unwrap();
        assert_eq!(
            (got[0].observed, got[0].resolution_s, got[0].mean_s),
            (Observed::ContainerStart, 1.0, 8.0)
        );
    }

    /// The watch's column is written only when a row has a time for it, read back (an empty field
    /// is no time), and a bad value is named at its line and column.
    #[test]
    fn the_watch_column_round_trips() {
        let rows = vec![watched(1, "a", 3.0, 4.101), row(1, "b", 7.25)];
        let text = raw_to_string("raw.csv", &rows, &[]).unwrap();
        assert!(
            text.starts_with(&format!("{},{RAW_WATCH_COLUMN}\n", RAW_COLUMNS.join(","))),
            "{text}"
        );
        assert!(text.ends_with(",7.25,\n"), "{text}");
        assert_eq!(read_raw_from(text.as_bytes(), "raw.csv").unwrap(), rows);
        let plain = raw_to_string("raw.csv", &[row(1, "a", 3.0), row(1, "b", 7.25)], &[]).unwrap();
        assert!(!plain.contains(RAW_WATCH_COLUMN), "{plain}");
        let err = read_raw_from(
            "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s,watch_running_s\n1,a,n,0,2,0,0,1,1,-2\n"
                .as_bytes(),
            "raw.csv",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv:2: column `watch_running_s`: watch_running_s must be empty or seconds since `kubectl create \
             deployment` was started, in 0..=2592000 (30 days), got -2"
        );
        let mut bad = rows;
        bad[0].watch_running_s = Some(f64::NAN);
        assert!(matches!(
            raw_to_string("raw.csv", &bad, &[]),
            Err(DatasetError::InvalidRecord {
                index: 0,
                column: RAW_WATCH_COLUMN,
                ..
            })
        ));
    }

    #[test]
    fn raw_round_trip_and_errors() {
        let rows = vec![row(1, "a", 3.0), row(1, "b", 7.25)];
        let text = raw_to_string("raw.csv", &rows, &["c"]).unwrap();
        assert_eq!(read_raw_from(text.as_bytes(), "raw.csv").unwrap(), rows);
        let err = read_raw_from(
            "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n1,a,n,0,2,0,0,1,-3601\n".as_bytes(),
            "raw.csv",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv:2: column `running_s`: running_s must be seconds since the deployment's creation, in -3600..=2592000 (30 days; below 0 only by the skew between two hosts' clocks, at most an hour), got -3601"
        );
        // A node's clock 3 s behind the apiserver's: its stamps read before the deployment's
        // creation, and are kept (kubectl's watch times do not depend on them).
        let skewed = read_raw_from(
            "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n1,a,n,0,1,-1,0,-2,-1\n".as_bytes(),
            "raw.csv",
        )
        .unwrap();
        assert_eq!(
            (skewed[0].created_s, skewed[0].started_s, skewed[0].running_s),
            (-1.0, -2.0, -1.0)
        );
        let err = read_raw_from(
            "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n1,a,n,0,2,0,0,1,1\n1,a,m,0,2,0,0,1,1\n"
                .as_bytes(),
            "raw.csv",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::Duplicate {
                    line: 3,
                    first_line: 2,
                    ..
                }
            ),
            "{err}"
        );
        let mut bad = rows.clone();
        bad[0].node = String::new();
        assert!(matches!(
            raw_to_string("raw.csv", &bad, &[]),
            Err(DatasetError::InvalidRecord { column: "node", .. })
        ));
    }

    const RAW_HEAD: &str = "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n";

    /// A row running before its kubelet took it used to be read and gave a negative phase with
    /// exit 0. Only stamps of one host are compared: a kubelet's stamp before the binding is a
    /// node clock behind the control plane's, read (and warned of by the phase comparison), and
    /// a binding stamped before the creation is two masters' clocks apart in a highly available
    /// control plane: both are read, not refused.
    #[test]
    fn stamps_of_one_host_out_of_order_are_refused_at_their_line_and_column() {
        let raw = |rows: &str| read_raw_from(format!("{RAW_HEAD}# c\n{rows}").as_bytes(), "raw.csv");
        // Bound "before" created: two masters' clocks.
        assert!(raw("1,a,n,0,1,30,29,31,32\n").is_ok());
        let err = raw("1,a,n,0,1,30,31,9,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv:3: column `running_s`: running_s must not be before started_s: both are stamped on the \
             node's clock (its kubelet takes the pod, then its containers start); got running_s 1 and \
             started_s 9 (only stamps of one clock are compared: a node's clock may differ from the control \
             plane's)"
        );
        assert!(
            matches!(
                err,
                DatasetError::Field {
                    line: 3,
                    column: "running_s",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("running_s must not be before started_s: both are stamped on the node's clock"),
            "{err}"
        );
        // Across the clocks: the kubelet's stamp before the binding (a node clock behind).
        assert!(raw("1,a,n,0,1,0,5,3,9\n").is_ok());
        // A whole-second stamp after an exact one (an event's eventTime) in the same second.
        assert!(raw("1,a,n,0,1,0.5,0,10.5,10\n").is_ok());
        let err = raw("1,a,n,0,1,0,0,10.5,9.9\n").unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::Field {
                    column: "running_s",
                    ..
                }
            ),
            "{err}"
        );
        // The writer refuses what the reader would.
        let mut bad = row(1, "a", 3.0);
        bad.pods = 1;
        bad.started_s = 4.0;
        assert!(matches!(
            raw_to_string("raw.csv", &[bad], &[]),
            Err(DatasetError::InvalidRecord {
                index: 0,
                column: "running_s",
                ..
            })
        ));
    }

    /// A 4-pod run's rows, `pods` of row `i` (0-based) written as `pods_of_i`.
    fn run_of_4(changed: Option<(usize, u32)>, skip: Option<usize>) -> String {
        let mut text = RAW_HEAD.to_string();
        for i in 0..4 {
            if skip == Some(i) {
                continue;
            }
            let pods = changed.filter(|&(j, _)| j == i).map_or(4, |(_, p)| p);
            text.push_str(&format!("1,p{i},n,100,{pods},0,0,1,5\n"));
        }
        text
    }

    /// A row whose `pods` was changed (4 to 5) used to fail only when summarized, with no line:
    /// "run 1 of cell pods=4 delay_ms=100 has 3 pod rows, expected 4". The reader now names the
    /// row at fault and what it should say; a run that lacks a row names the run's lines.
    #[test]
    fn a_run_without_one_row_per_pod_is_refused_naming_its_lines() {
        let err = read_raw_from(run_of_4(Some((2, 5)), None).as_bytes(), "raw.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv:4: column `pods`: run 1 of cell pods=5 delay_ms=100 has 1 pod row (line 4), expected 5, \
             and run 1 of cell pods=4 delay_ms=100 has 3 (lines 2-3, 5), 1 short of 4: expected pods=4 here"
        );
        let err = read_raw_from(run_of_4(None, Some(1)).as_bytes(), "raw.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv:2: run 1 of cell pods=4 delay_ms=100 has 3 pod rows (lines 2-4), expected 4: one row per \
             pod of the run (is a pod's row missing, or its `run`, `pods` or `delay_ms` mislabelled?)"
        );
        assert!(read_raw_from(run_of_4(None, None).as_bytes(), "raw.csv").is_ok());
        let rows = [row(1, "a", 3.0)];
        let err = raw_to_string("raw.csv", &rows, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv: record 0: column `pods`: run 1 of cell pods=2 delay_ms=100 has 1 pod row (record 0), \
             expected 2: one row per pod of the run (is a pod's row missing, or its `run`, `pods` or \
             `delay_ms` mislabelled?)"
        );
    }

    #[test]
    fn listed_numbers_are_ranges_and_capped() {
        assert_eq!(read::listed("line", "lines", [7]), "line 7");
        assert_eq!(read::listed("line", "lines", [2, 3, 4, 6, 8, 9]), "lines 2-4, 6, 8-9");
        assert_eq!(
            read::listed("line", "lines", (1..40).step_by(2)),
            "lines 1, 3, 5, 7, 9, 11, 13, 15, ..."
        );
    }

    proptest::proptest! {
        #[test]
        fn cells_round_trip(
            raw in proptest::collection::btree_map((1u32..10_000, 0u32..100_000), (10.0f64..1e6, 1u32..100, 0.001f64..10.0), 1..20)
        ) {
            let want: Vec<MeasuredCell> = raw
                .into_iter()
                .map(|((pods, delay_ms), (mean_s, runs, resolution_s))| MeasuredCell { pods, delay_ms, mean_s, runs, resolution_s, observed: Observed::KubectlWatch })
                .collect();
            let text = cells_to_string("p.csv", &want, &["x"]).unwrap();
            proptest::prop_assert_eq!(cells(&text).unwrap(), want);
        }

        #[test]
        fn reading_garbage_never_panics(text in "\\PC{0,200}") {
            let _ = cells(&text);
            let _ = read_raw_from(text.as_bytes(), "g.csv");
        }
    }
}
