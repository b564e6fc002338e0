//! What a measurement returns: its runs, its raw rows and its cells, and where they are written.

use std::path::{Path, PathBuf};

use crate::dataset::{self, DatasetError, MeasuredCell, Observed, RawPodRow};
use crate::kubectl::Timestamp;

/// How a run's namespace was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupOutcome {
    /// Deleted, and kubectl waited until it was gone.
    Deleted,
    /// Deletion was requested and is still in progress (cancelled run, or the wait timed out).
    DeletionRequested,
    /// It was already being deleted.
    AlreadyTerminating,
    /// It was already gone.
    AlreadyGone,
    /// It could not be deleted (it is listed among what may still exist).
    NotDeleted,
}

/// One completed run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Run number, from 1.
    pub run: u32,
    /// The namespace it used.
    pub namespace: String,
    /// The deployment's `creationTimestamp`: time zero of the run.
    pub deployment_created: Timestamp,
    /// Start-up time: latest `running_s` of its pods, in seconds.
    pub startup_s: f64,
    /// Start-up time as the thesis observed it: the latest `watch_running_s` of its pods, in
    /// seconds since `kubectl create deployment` was started; `None` when the watch did not show
    /// every pod Running ([`Self::watch_lost`]).
    pub watch_startup_s: Option<f64>,
    /// Why the run has no watch times, if so (the watch was off, could not start, or ended).
    pub watch_lost: Option<String>,
    /// How its namespace was removed.
    pub cleanup: CleanupOutcome,
}

/// What [`measure`](super::measure) measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeasureReport {
    /// The API server's `gitVersion`, if it reported one.
    pub server_version: Option<String>,
    /// Lines describing the measurement, written as `#` comments above both CSV headers (each
    /// file adds a line on what its times count from).
    pub description: Vec<String>,
    /// The runs, in order.
    pub runs: Vec<RunRecord>,
    /// One row per pod per run.
    pub rows: Vec<RawPodRow>,
    /// The per-cell summary of `rows` ([`dataset::summarize`]): one cell when all runs completed.
    pub cells: Vec<MeasuredCell>,
}

impl MeasureReport {
    /// Writes the summary to `summary_path` and the raw rows to `raw_path` as one output: both
    /// files are replaced, or (on any failure) neither ([`crate::atomic_file::write_atomic_set`]).
    ///
    /// # Errors
    /// [`DatasetError`] when a file cannot be written.
    pub fn write(&self, summary_path: &Path, raw_path: &Path) -> Result<(), DatasetError> {
        let (cells, raw) = self.to_csv(summary_path, raw_path)?;
        crate::atomic_file::write_atomic_set(&[(raw_path, raw.as_bytes()), (summary_path, cells.as_bytes())])
    }

    /// The text [`write`](Self::write) puts in the summary and in the raw rows' file, in that
    /// order; the paths only name the files in errors.
    ///
    /// # Errors
    /// [`DatasetError`] when there is no cell or no row, or one that would not read back.
    pub fn to_csv(&self, summary_path: &Path, raw_path: &Path) -> Result<(String, String), DatasetError> {
        let with =
            |line: String| -> Vec<String> { self.description.iter().cloned().chain(std::iter::once(line)).collect() };
        let mut raw_times =
            "created_s to running_s: seconds since the deployment's creationTimestamp (whole-second API timestamps)"
                .to_string();
        if self.rows.iter().any(|r| r.watch_running_s.is_some()) {
            raw_times.push_str(
                "; watch_running_s: since kubetwin started kubectl create deployment (kubetwin's clock, whole ms)",
            );
        }
        let mut kinds: Vec<&str> = Vec::new();
        if self.cells.iter().any(|c| c.observed == Observed::KubectlWatch) {
            kinds.push(
                "kubectl-watch cells from the start of kubectl create deployment until the watch showed the last \
                 pod Running (kubetwin's clock, whole ms)",
            );
        }
        if self.cells.iter().any(|c| c.observed == Observed::ContainerStart) {
            kinds.push(
                "container-start cells from the deployment's creationTimestamp until the last container started \
                 (whole-second API timestamps)",
            );
        }
        fn text(lines: &[String]) -> Vec<&str> {
            lines.iter().map(String::as_str).collect()
        }
        let raw_comments = with(raw_times);
        let raw = dataset::raw_to_string(raw_path, &self.rows, &text(&raw_comments))?;
        let cell_comments = with(format!("mean_s: {}", kinds.join("; ")));
        let cells = dataset::cells_to_string(summary_path, &self.cells, &text(&cell_comments))?;
        Ok((cells, raw))
    }

    /// Writes the summary to `out` and the raw rows next to it ([`raw_path_for`]); returns the raw path.
    ///
    /// # Errors
    /// [`DatasetError`] when a file cannot be written.
    pub fn write_files(&self, out: &Path) -> Result<PathBuf, DatasetError> {
        let raw = raw_path_for(out);
        self.write(out, &raw)?;
        Ok(raw)
    }
}

/// Where the raw rows go for summary file `summary`: `cells.csv` → `cells.pods.csv`.
pub fn raw_path_for(summary: &Path) -> PathBuf {
    let stem = summary
        .file_stem()
        .map_or_else(|| "measure".into(), |s| s.to_string_lossy().into_owned());
    summary.with_file_name(format!("{stem}.pods.csv"))
}
