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
//! | `delay_ms` | the one-way network delay in force while measuring, in milliseconds (the cell's label) |
//! | `mean_s` | mean over runs of the start-up time: from creating the deployment until every pod runs |
//! | `runs` | how many runs the mean is over (positive integer) |
//! | `resolution_s` | resolution of the underlying times; 1 for kubectl's whole-second timestamps |
//! | `observed` (optional) | what "every pod runs" means, so the simulation is observed alike ([`Observed`]): `kubectl-watch` (absent: the thesis watched `kubectl get pods -w` until all were Running, which includes the kubelets' status reports) or `container-start` (the last container's `startedAt`, what [`summarize`] and `kubetwin measure` compute) |
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
//! All `*_s` columns are **seconds since the deployment was created in that run** (the deployment's
//! `metadata.creationTimestamp`, taken from the same API server clock as the pod times, so client clock
//! skew does not enter):
//!
//! | column | source in `kubectl get pods -o json` (fallback in `kubectl get events -o json`) |
//! |---|---|
//! | `created_s` | pod `metadata.creationTimestamp` |
//! | `scheduled_s` | `PodScheduled` condition's `lastTransitionTime` (the `Scheduled` event) |
//! | `started_s` | `Initialized` condition's `lastTransitionTime`: the kubelet has taken the pod and is about to pull and start it (`status.startTime`, then the first `Pulling` event) |
//! | `running_s` | the latest `state.running.startedAt` over the pod's containers: the moment `kubectl get pods` shows it `Running` (the `Started` event) |
//!
//! `run` numbers runs within a cell from 1; `pods` and `delay_ms` name the cell, as in the summary;
//! `node` is the node the pod ran on. Timestamps written by the API server have whole seconds, so the
//! values are whole numbers except where an event's `eventTime` (microseconds) was the fallback.
//! Read with [`read_raw`], written with [`write_raw`], reduced to cells by [`summarize`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Until a kubectl watch showed every pod Running, read in whole seconds (the thesis): this
    /// includes the kubelets' status reports (PLEG, status manager, PATCH, watch).
    #[default]
    KubectlWatch,
    /// Until the last container started, from the containers' `state.running.startedAt` minus
    /// the deployment's `creationTimestamp`, both whole seconds (what `kubetwin measure`
    /// summarizes): ends before the kubelets report Running.
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

/// Resolution, in seconds, of start-up times computed from kubectl's timestamps.
pub const KUBECTL_RESOLUTION_S: f64 = 1.0;

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
    /// Raw rows cannot be summarized as they are.
    #[error("cannot summarize raw rows: {message}")]
    Summary {
        /// What is inconsistent, naming cell and run.
        message: String,
    },
}

/// Where text being read came from, for error messages.
fn source_path(source: impl AsRef<Path>) -> PathBuf {
    source.as_ref().to_path_buf()
}

// ---------------------------------------------------------------------------------------------------------
// Reading

/// A header checked against the expected columns: for each expected column, its index in the record.
struct Header {
    index: Vec<usize>,
    /// Positions of the optional columns, in the order given, if present.
    optional: Vec<Option<usize>>,
}

fn check_header(
    path: &Path,
    line: u64,
    headers: &csv::StringRecord,
    expected: &'static [&'static str],
    optional: &'static [&'static str],
) -> Result<Header, DatasetError> {
    let mut expected_list = expected.join(",");
    if !optional.is_empty() {
        expected_list.push_str(&format!("; optional: {}", optional.join(",")));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        let problem = if !expected.contains(&name) && !optional.contains(&name) {
            "unknown"
        } else if seen.insert(name, i).is_some() {
            "duplicate"
        } else {
            continue;
        };
        return Err(DatasetError::BadColumn {
            path: path.to_path_buf(),
            line,
            column: name.to_string(),
            problem,
            expected: expected_list,
        });
    }
    let index = expected
        .iter()
        .map(|column| {
            seen.get(column).copied().ok_or_else(|| DatasetError::MissingColumn {
                path: path.to_path_buf(),
                column,
                expected: expected_list.clone(),
            })
        })
        .collect::<Result<_, _>>()?;
    let optional = optional.iter().map(|column| seen.get(column).copied()).collect();
    Ok(Header { index, optional })
}

/// Line numbers of the text being read.
///
/// The csv crate's `Position` of a record points where reading resumed after the previous record, i.e.
/// at any comment or blank lines before it, and its line count skips comments; this maps the byte offset
/// to the line the record really starts on.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    /// 1-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset).max(1)
    }

    /// 1-based line of the first non-comment, non-blank line at or after byte `offset`.
    fn record_line(&self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else { return 0 };
        let mut line = self.line_of(usize::try_from(position.byte()).unwrap_or(usize::MAX));
        while let Some(&start) = self.starts.get(line - 1) {
            let end = self.starts.get(line).copied().unwrap_or(self.text.len());
            let content = self.text.get(start..end).unwrap_or("").trim_end_matches(['\n', '\r']);
            if !(content.is_empty() || content.starts_with('#')) || line >= self.starts.len() {
                break;
            }
            line += 1;
        }
        line as u64
    }
}

fn csv_error(path: &Path, lines: &Lines<'_>, err: csv::Error) -> DatasetError {
    let line = lines.record_line(err.position());
    let message = err.to_string();
    match err.into_kind() {
        csv::ErrorKind::Io(source) => DatasetError::Io {
            path: path.to_path_buf(),
            source,
        },
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => DatasetError::RowLength {
            path: path.to_path_buf(),
            line: pos.as_ref().map_or(line, |p| lines.record_line(Some(p))),
            expected: expected_len,
            found: len,
        },
        _ => DatasetError::Csv {
            path: path.to_path_buf(),
            line,
            message,
        },
    }
}

/// Reads all records after checking the header; calls `row` with each record's fields in `expected` order.
fn read_records<R: Read, T>(
    mut reader: R,
    path: &Path,
    expected: &'static [&'static str],
    optional: &'static [&'static str],
    mut row: impl FnMut(&[&str], u64) -> Result<T, DatasetError>,
) -> Result<Vec<T>, DatasetError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..valid].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            return Err(DatasetError::Csv {
                path: path.to_path_buf(),
                line,
                message: "invalid UTF-8".to_string(),
            });
        }
    };
    let lines = Lines::new(&text);
    let mut csv_reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = csv_reader.headers().map_err(|e| csv_error(path, &lines, e))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers.get(0) == Some("")) {
        return Err(DatasetError::MissingColumn {
            path: path.to_path_buf(),
            column: expected[0],
            expected: expected.join(","),
        });
    }
    let header = check_header(
        path,
        lines.record_line(headers.position()),
        &headers,
        expected,
        optional,
    )?;
    let mut out = Vec::new();
    for record in csv_reader.records() {
        let record = record.map_err(|e| csv_error(path, &lines, e))?;
        let line = lines.record_line(record.position());
        // Required columns in `expected` order, then the optional ones ("" when absent).
        let fields: Vec<&str> = header
            .index
            .iter()
            .map(|&i| record.get(i).unwrap_or(""))
            .chain(
                header
                    .optional
                    .iter()
                    .map(|i| i.and_then(|i| record.get(i)).unwrap_or("")),
            )
            .collect();
        out.push(row(&fields, line)?);
    }
    Ok(out)
}

fn shown(text: &str) -> String {
    if text.is_empty() {
        "an empty field".to_string()
    } else {
        let cut: String = text.chars().take(40).collect();
        if cut.len() < text.len() {
            format!("{cut:?}…")
        } else {
            cut
        }
    }
}

/// Kinds of value a column holds, with the message used when a field does not fit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// 1..=[`MAX_PODS`].
    PodCount,
    /// Seconds since the deployment's creation, 0..=[`MAX_SECONDS_SINCE_CREATION`].
    SinceCreation,
    PositiveInt,
    NonNegativeInt,
    NonNegativeSeconds,
    PositiveSeconds,
    Text,
}

impl Kind {
    fn expectation(self, column: &str) -> String {
        match self {
            Kind::PodCount => format!("{column} must be a whole number in 1..={MAX_PODS}"),
            Kind::SinceCreation => format!(
                "{column} must be seconds since the deployment's creation, in 0..={MAX_SECONDS_SINCE_CREATION} (30 days)"
            ),
            Kind::PositiveInt => format!("{column} must be a positive integer"),
            Kind::NonNegativeInt => format!("{column} must be a non-negative integer"),
            Kind::NonNegativeSeconds => format!("{column} must be a finite non-negative number of seconds"),
            Kind::PositiveSeconds => format!("{column} must be a finite positive number of seconds"),
            Kind::Text => format!("{column} must not be empty"),
        }
    }
}

struct FieldReader<'a> {
    path: &'a Path,
    line: u64,
}

impl FieldReader<'_> {
    fn fail(&self, column: &'static str, kind: Kind, text: &str) -> DatasetError {
        DatasetError::Field {
            path: self.path.to_path_buf(),
            line: self.line,
            column,
            message: format!("{}, got {}", kind.expectation(column), shown(text)),
        }
    }

    fn uint(&self, column: &'static str, kind: Kind, text: &str) -> Result<u32, DatasetError> {
        match text.parse::<u32>() {
            Ok(0) if matches!(kind, Kind::PositiveInt | Kind::PodCount) => Err(self.fail(column, kind, text)),
            Ok(v) if kind == Kind::PodCount && v > MAX_PODS => Err(self.fail(column, kind, text)),
            Ok(v) if !text.starts_with('+') => Ok(v),
            _ => Err(self.fail(column, kind, text)),
        }
    }

    fn seconds(&self, column: &'static str, kind: Kind, text: &str) -> Result<f64, DatasetError> {
        match text.parse::<f64>() {
            Ok(v) if check_seconds(kind, v) => Ok(v),
            _ => Err(self.fail(column, kind, text)),
        }
    }

    fn text(&self, column: &'static str, text: &str) -> Result<String, DatasetError> {
        if text.is_empty() {
            Err(self.fail(column, Kind::Text, text))
        } else {
            Ok(text.to_string())
        }
    }
}

fn check_seconds(kind: Kind, v: f64) -> bool {
    v.is_finite()
        && match kind {
            Kind::PositiveSeconds => v > 0.0,
            Kind::SinceCreation => (0.0..=MAX_SECONDS_SINCE_CREATION).contains(&v),
            _ => v >= 0.0,
        }
}

/// The latest a raw row's time may be: 30 days after the deployment's creation (no pod
/// start-up measurement runs that long; a larger value is a unit or parsing slip).
pub const MAX_SECONDS_SINCE_CREATION: f64 = 30.0 * 24.0 * 3600.0;

/// Reads a summary CSV file.
///
/// # Errors
/// [`DatasetError`] naming the file, line and column of the first problem: unreadable file, malformed
/// CSV, missing, unknown or repeated column, a field that does not hold what its column needs, or a cell
/// (`pods`, `delay_ms`) given twice.
pub fn read_cells(path: impl AsRef<Path>) -> Result<Vec<MeasuredCell>, DatasetError> {
    let path = path.as_ref();
    let file = fs::File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_cells_from(io::BufReader::new(file), path)
}

/// Reads summary CSV text from `reader`; `source` names it in errors.
///
/// # Errors
/// As [`read_cells`].
pub fn read_cells_from<R: Read>(reader: R, source: impl AsRef<Path>) -> Result<Vec<MeasuredCell>, DatasetError> {
    let path = source_path(source);
    let mut first_line: HashMap<(u32, u32), u64> = HashMap::new();
    let cells = read_records(reader, &path, &CELL_COLUMNS, &[CELL_OBSERVED_COLUMN], |f, line| {
        let r = FieldReader { path: &path, line };
        let cell = MeasuredCell {
            pods: r.uint("pods", Kind::PodCount, f[0])?,
            delay_ms: r.uint("delay_ms", Kind::NonNegativeInt, f[1])?,
            mean_s: r.seconds("mean_s", Kind::NonNegativeSeconds, f[2])?,
            runs: r.uint("runs", Kind::PositiveInt, f[3])?,
            resolution_s: r.seconds("resolution_s", Kind::PositiveSeconds, f[4])?,
            observed: Observed::parse(f[5]).ok_or_else(|| DatasetError::Field {
                path: path.clone(),
                line,
                column: CELL_OBSERVED_COLUMN,
                message: format!(
                    "observed must be `kubectl-watch` or `container-start`, got {}",
                    shown(f[5])
                ),
            })?,
        };
        if let Some(&first) = first_line.get(&(cell.pods, cell.delay_ms)) {
            return Err(DatasetError::Duplicate {
                path: path.clone(),
                line,
                first_line: first,
                what: format!("cell pods={} delay_ms={}", cell.pods, cell.delay_ms),
            });
        }
        first_line.insert((cell.pods, cell.delay_ms), line);
        Ok(cell)
    })?;
    if cells.is_empty() {
        return Err(DatasetError::NoRows { path });
    }
    Ok(cells)
}

/// Reads a raw per-pod CSV file.
///
/// # Errors
/// [`DatasetError`] naming the file, line and column of the first problem, as for [`read_cells`]; a pod
/// given twice in the same run of the same cell is a duplicate.
pub fn read_raw(path: impl AsRef<Path>) -> Result<Vec<RawPodRow>, DatasetError> {
    let path = path.as_ref();
    let file = fs::File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_raw_from(io::BufReader::new(file), path)
}

/// Reads raw per-pod CSV text from `reader`; `source` names it in errors.
///
/// # Errors
/// As [`read_raw`].
pub fn read_raw_from<R: Read>(reader: R, source: impl AsRef<Path>) -> Result<Vec<RawPodRow>, DatasetError> {
    let path = source_path(source);
    let mut first_line: HashMap<(u32, u32, u32, String), u64> = HashMap::new();
    let rows = read_records(reader, &path, &RAW_COLUMNS, &[], |f, line| {
        let r = FieldReader { path: &path, line };
        let row = RawPodRow {
            run: r.uint("run", Kind::PositiveInt, f[0])?,
            pod: r.text("pod", f[1])?,
            node: r.text("node", f[2])?,
            delay_ms: r.uint("delay_ms", Kind::NonNegativeInt, f[3])?,
            pods: r.uint("pods", Kind::PodCount, f[4])?,
            created_s: r.seconds("created_s", Kind::SinceCreation, f[5])?,
            scheduled_s: r.seconds("scheduled_s", Kind::SinceCreation, f[6])?,
            started_s: r.seconds("started_s", Kind::SinceCreation, f[7])?,
            running_s: r.seconds("running_s", Kind::SinceCreation, f[8])?,
        };
        let key = (row.pods, row.delay_ms, row.run, row.pod.clone());
        if let Some(&first) = first_line.get(&key) {
            return Err(DatasetError::Duplicate {
                path: path.clone(),
                line,
                first_line: first,
                what: raw_key(&row),
            });
        }
        first_line.insert(key, line);
        Ok(row)
    })?;
    if rows.is_empty() {
        return Err(DatasetError::NoRows { path });
    }
    Ok(rows)
}

fn raw_key(row: &RawPodRow) -> String {
    format!(
        "pod {} in run {} of cell pods={} delay_ms={}",
        row.pod, row.run, row.pods, row.delay_ms
    )
}

// ---------------------------------------------------------------------------------------------------------
// Writing

/// Writes `cells` to `path` as summary CSV, atomically: the text goes to a temporary file in the same
/// directory, which then replaces `path` in one rename, so a reader never sees half a file.
///
/// Each of `comments` becomes a `# ` line above the header (line breaks in it become spaces).
///
/// # Errors
/// [`DatasetError::InvalidRecord`] or [`DatasetError::DuplicateRecord`] for cells that would not read back
/// (nothing is written); [`DatasetError::Io`] when the file cannot be written.
pub fn write_cells(path: impl AsRef<Path>, cells: &[MeasuredCell], comments: &[&str]) -> Result<(), DatasetError> {
    let path = path.as_ref();
    let text = cells_to_string(path, cells, comments)?;
    write_atomic(path, text.as_bytes())
}

/// The summary CSV text for `cells`, as [`write_cells`] writes it; `target` names the file in errors.
///
/// # Errors
/// As [`write_cells`], without the I/O.
pub fn cells_to_string(
    target: impl AsRef<Path>,
    cells: &[MeasuredCell],
    comments: &[&str],
) -> Result<String, DatasetError> {
    let path = target.as_ref();
    if cells.is_empty() {
        // It would not read back ([`read_cells`] wants a cell).
        return Err(DatasetError::NoRows {
            path: path.to_path_buf(),
        });
    }
    let mut seen: HashMap<(u32, u32), usize> = HashMap::new();
    for (index, cell) in cells.iter().enumerate() {
        let invalid = |column, kind: Kind, value: &dyn fmt::Display| DatasetError::InvalidRecord {
            path: path.to_path_buf(),
            index,
            column,
            message: format!("{}, got {value}", kind.expectation(column)),
        };
        if cell.pods == 0 || cell.pods > MAX_PODS {
            return Err(invalid("pods", Kind::PodCount, &cell.pods));
        }
        if !check_seconds(Kind::NonNegativeSeconds, cell.mean_s) {
            return Err(invalid("mean_s", Kind::NonNegativeSeconds, &cell.mean_s));
        }
        if cell.runs == 0 {
            return Err(invalid("runs", Kind::PositiveInt, &cell.runs));
        }
        if !check_seconds(Kind::PositiveSeconds, cell.resolution_s) {
            return Err(invalid("resolution_s", Kind::PositiveSeconds, &cell.resolution_s));
        }
        if let Some(first) = seen.insert((cell.pods, cell.delay_ms), index) {
            return Err(DatasetError::DuplicateRecord {
                path: path.to_path_buf(),
                first,
                second: index,
                what: format!("cell pods={} delay_ms={}", cell.pods, cell.delay_ms),
            });
        }
    }
    let mut text = comment_lines(comments);
    let io_error = |e: csv::Error| csv_error(path, &Lines::new(""), e);
    let mut writer = csv::Writer::from_writer(Vec::new());
    // The `observed` column only when some cell needs it: a thesis-style file stays as it was.
    let with_observed = cells.iter().any(|c| c.observed != Observed::KubectlWatch);
    let mut header: Vec<&str> = CELL_COLUMNS.to_vec();
    if with_observed {
        header.push(CELL_OBSERVED_COLUMN);
    }
    writer.write_record(&header).map_err(io_error)?;
    for cell in cells {
        let mut record = vec![
            cell.pods.to_string(),
            cell.delay_ms.to_string(),
            with_decimal(cell.mean_s),
            cell.runs.to_string(),
            cell.resolution_s.to_string(),
        ];
        if with_observed {
            record.push(cell.observed.as_str().to_string());
        }
        writer.write_record(&record).map_err(io_error)?;
    }
    text.push_str(&finish(path, writer)?);
    Ok(text)
}

/// Writes `rows` to `path` as raw per-pod CSV, atomically (see [`write_cells`]).
///
/// # Errors
/// [`DatasetError::InvalidRecord`] or [`DatasetError::DuplicateRecord`] for rows that would not read back
/// (nothing is written); [`DatasetError::Io`] when the file cannot be written.
pub fn write_raw(path: impl AsRef<Path>, rows: &[RawPodRow], comments: &[&str]) -> Result<(), DatasetError> {
    let path = path.as_ref();
    let text = raw_to_string(path, rows, comments)?;
    write_atomic(path, text.as_bytes())
}

/// The raw per-pod CSV text for `rows`, as [`write_raw`] writes it; `target` names the file in errors.
///
/// # Errors
/// As [`write_raw`], without the I/O.
pub fn raw_to_string(target: impl AsRef<Path>, rows: &[RawPodRow], comments: &[&str]) -> Result<String, DatasetError> {
    let path = target.as_ref();
    if rows.is_empty() {
        // It would not read back ([`read_raw`] wants a row).
        return Err(DatasetError::NoRows {
            path: path.to_path_buf(),
        });
    }
    let mut seen: HashMap<(u32, u32, u32, &str), usize> = HashMap::new();
    for (index, row) in rows.iter().enumerate() {
        let invalid = |column, kind: Kind, value: &dyn fmt::Display| DatasetError::InvalidRecord {
            path: path.to_path_buf(),
            index,
            column,
            message: format!("{}, got {value}", kind.expectation(column)),
        };
        if row.run == 0 {
            return Err(invalid("run", Kind::PositiveInt, &row.run));
        }
        for (column, text) in [("pod", &row.pod), ("node", &row.node)] {
            if text.trim().is_empty() {
                return Err(invalid(column, Kind::Text, &"an empty field"));
            }
            if text.trim() != text.as_str() || text.starts_with('#') {
                return Err(DatasetError::InvalidRecord {
                    path: path.to_path_buf(),
                    index,
                    column,
                    message: format!("{column} must not start with '#' or space, nor end with space, got {text:?}"),
                });
            }
        }
        if row.pods == 0 || row.pods > MAX_PODS {
            return Err(invalid("pods", Kind::PodCount, &row.pods));
        }
        for (column, v) in [
            ("created_s", row.created_s),
            ("scheduled_s", row.scheduled_s),
            ("started_s", row.started_s),
            ("running_s", row.running_s),
        ] {
            if !check_seconds(Kind::SinceCreation, v) {
                return Err(invalid(column, Kind::SinceCreation, &v));
            }
        }
        if let Some(first) = seen.insert((row.pods, row.delay_ms, row.run, row.pod.as_str()), index) {
            return Err(DatasetError::DuplicateRecord {
                path: path.to_path_buf(),
                first,
                second: index,
                what: raw_key(row),
            });
        }
    }
    let mut text = comment_lines(comments);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let io_error = |e: csv::Error| csv_error(path, &Lines::new(""), e);
    writer.write_record(RAW_COLUMNS).map_err(io_error)?;
    for row in rows {
        writer
            .write_record([
                row.run.to_string(),
                row.pod.clone(),
                row.node.clone(),
                row.delay_ms.to_string(),
                row.pods.to_string(),
                row.created_s.to_string(),
                row.scheduled_s.to_string(),
                row.started_s.to_string(),
                row.running_s.to_string(),
            ])
            .map_err(io_error)?;
    }
    text.push_str(&finish(path, writer)?);
    Ok(text)
}

fn finish(path: &Path, writer: csv::Writer<Vec<u8>>) -> Result<String, DatasetError> {
    let bytes = writer.into_inner().map_err(|e| DatasetError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    // The csv writer only writes the UTF-8 strings it is given.
    String::from_utf8(bytes).map_err(|e| DatasetError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    })
}

fn comment_lines(comments: &[&str]) -> String {
    let mut text = String::new();
    for comment in comments {
        let one_line: String = comment
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        text.push_str("# ");
        text.push_str(one_line.trim_end());
        text.push('\n');
    }
    text
}

/// `141.0` rather than `141`, as in the thesis file.
fn with_decimal(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `contents` atomically: writes a temporary file next to it, syncs it, and renames
/// it over `path`. On failure the temporary file is removed and `path` is left as it was.
///
/// # Errors
/// [`DatasetError::Io`] when the directory is not writable, the disk is full, or `path` names no file.
pub fn write_atomic(path: impl AsRef<Path>, contents: &[u8]) -> Result<(), DatasetError> {
    let path = path.as_ref();
    let io_err = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let Some(file_name) = path.file_name() else {
        return Err(io_err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        )));
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if let Err(source) = result {
        let _ = fs::remove_file(&temp);
        return Err(io_err(source));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Summarizing

/// The pods of one run seen so far, and their latest `running_s`.
type RunPods<'a> = (Vec<&'a str>, f64);

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
            .or_insert((Vec::new(), 0.0));
        if run.0.contains(&row.pod.as_str()) {
            return Err(DatasetError::Summary {
                message: format!("duplicate {}", raw_key(row)),
            });
        }
        run.0.push(&row.pod);
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

#[cfg(test)]
mod tests {
    use super::*;

    const THESIS: &str = "# Pod start-up time of an nginx Deployment.\n# Source: the 2019 thesis.\n\
                          pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n4,500,25.5,5,1\n\
                          100,100,125.4,5,1\n100,500,141.0,5,1\n";

    fn cells(text: &str) -> Result<Vec<MeasuredCell>, DatasetError> {
        read_cells_from(text.as_bytes(), "cells.csv")
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
            "raw.csv:2: column `running_s`: running_s must be seconds since the deployment's creation, in 0..=2592000 (30 days), got 1e300"
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
            "cells.csv:2: column `mean_s`: mean_s must be a finite non-negative number of seconds, got NaN"
        );
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,,1,5,1\n").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("delay_ms must be a non-negative integer, got an empty field"),
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
                .contains("resolution_s must be a finite positive number"),
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
        let err = cells("").unwrap_err();
        assert!(matches!(err, DatasetError::MissingColumn { .. }), "{err}");
        let err = cells("pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells.csv:2: expected 5 fields as in the header, found 4"
        );
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

    #[test]
    fn raw_round_trip_and_errors() {
        let rows = vec![row(1, "a", 3.0), row(1, "b", 7.25)];
        let text = raw_to_string("raw.csv", &rows, &["c"]).unwrap();
        assert_eq!(read_raw_from(text.as_bytes(), "raw.csv").unwrap(), rows);
        let err = read_raw_from(
            "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n1,a,n,0,2,0,0,1,-1\n".as_bytes(),
            "raw.csv",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw.csv:2: column `running_s`: running_s must be seconds since the deployment's creation, in 0..=2592000 (30 days), got -1"
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

    proptest::proptest! {
        #[test]
        fn cells_round_trip(
            raw in proptest::collection::btree_map((1u32..10_000, 0u32..100_000), (0.0f64..1e6, 1u32..100, 0.001f64..10.0), 1..20)
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
