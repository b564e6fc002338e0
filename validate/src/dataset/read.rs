//! Reading the summary and raw CSV files: header checks, comment lines, and field errors that name
//! the file, line and column.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{
    DatasetError, MeasuredCell, Observed, RawPodRow, CELL_COLUMNS, CELL_OBSERVED_COLUMN, MAX_PODS, RAW_COLUMNS,
    RAW_WATCH_COLUMN,
};

/// Where text being read came from, for error messages.
fn source_path(source: impl AsRef<Path>) -> PathBuf {
    source.as_ref().to_path_buf()
}

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
    // A file of the other format, given where this one is read (`validate --data` a raw file):
    // say which it is.
    let has_all = |columns: &[&str]| columns.iter().all(|c| headers.iter().any(|h| h == *c));
    if expected != super::RAW_COLUMNS.as_slice() && has_all(&super::RAW_COLUMNS) {
        expected_list.push_str("; this header is the raw per-pod format's: give the file as raw measurements (--raw)");
    } else if expected != super::CELL_COLUMNS.as_slice() && has_all(&super::CELL_COLUMNS) {
        expected_list.push_str("; this header is the per-cell summary's: give the file as measured cells (--data)");
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
pub(super) struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a str) -> Self {
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

pub(super) fn csv_error(path: &Path, lines: &Lines<'_>, err: csv::Error) -> DatasetError {
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

/// A row of another length than the header's that is a header itself, [`DatasetError::HeaderAgain`]:
/// every field a name (none empty, none a number), one of them a column of the file's header.
fn header_again(path: &Path, lines: &Lines<'_>, headers: &csv::StringRecord, err: &csv::Error) -> Option<DatasetError> {
    let csv::ErrorKind::UnequalLengths { pos, .. } = err.kind() else {
        return None;
    };
    let line = lines.record_line(pos.as_ref());
    let start = *lines.starts.get(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let content = lines.text.get(start..)?.lines().next()?;
    let fields: Vec<&str> = content.split(',').map(str::trim).collect();
    let named = fields.iter().any(|f| headers.iter().any(|h| h == *f));
    let names = fields.iter().all(|f| !f.is_empty() && f.parse::<f64>().is_err());
    (named && names).then(|| DatasetError::HeaderAgain {
        path: path.to_path_buf(),
        line,
        columns: fields.join(","),
        first: headers.iter().collect::<Vec<_>>().join(","),
    })
}

/// `text` with every line ending made `\n`, Windows' `\r\n` and an old Mac file's lone `\r`
/// alike, so that a CSV reader ends its lines and comments there as in any other file: the csv crate ends a `#` comment only at
/// `\n`, and would take a whole such file after its first `#` for one comment. (A lone `\r`
/// inside a quoted field becomes `\n` too: the files read so hold numbers and labels.)
pub fn unix_line_endings(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        text.into()
    }
}

/// Reads all records after checking the header; calls `row` with each record's fields in `expected` order.
fn read_records<R: Read, T>(
    reader: R,
    path: &Path,
    expected: &'static [&'static str],
    optional: &'static [&'static str],
    mut row: impl FnMut(&[&str], u64) -> Result<T, DatasetError>,
) -> Result<Vec<T>, DatasetError> {
    let bytes =
        topologies::file::read_capped_from(reader, topologies::file::DATA_CSV).map_err(|source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let before = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
            let line = unix_line_endings(before).matches('\n').count() as u64 + 1;
            return Err(DatasetError::Csv {
                path: path.to_path_buf(),
                line,
                message: "invalid UTF-8".to_string(),
            });
        }
    };
    let text = unix_line_endings(&text);
    // A line of spaces or tabs only is blank, as an empty one is (the csv reader would take it
    // for a record of one empty field); the line numbers stay.
    let text: std::borrow::Cow<'_, str> = if text.lines().any(|l| !l.is_empty() && l.trim().is_empty()) {
        text.split('\n')
            .map(|l| if l.trim().is_empty() { "" } else { l })
            .collect::<Vec<_>>()
            .join("\n")
            .into()
    } else {
        text
    };
    let lines = Lines::new(&text);
    let mut csv_reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = csv_reader.headers().map_err(|e| csv_error(path, &lines, e))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers.get(0) == Some("")) {
        return Err(DatasetError::NoHeader {
            path: path.to_path_buf(),
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
        let record = record
            .map_err(|e| header_again(path, &lines, &headers, &e).unwrap_or_else(|| csv_error(path, &lines, e)))?;
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
pub(super) enum Kind {
    /// 1..=[`MAX_PODS`].
    PodCount,
    /// Seconds since the deployment's creation, 0..=[`MAX_SECONDS_SINCE_CREATION`].
    SinceCreation,
    /// Seconds on kubetwin's clock since it started `kubectl create deployment`,
    /// 0..=[`MAX_SECONDS_SINCE_CREATION`].
    SinceCreateCommand,
    PositiveInt,
    /// An added one-way delay in milliseconds: 0..=[`MAX_DELAY_MS`] (30 days, the scenario's
    /// limit on any duration, E015).
    DelayMs,
    NonNegativeSeconds,
    /// A measured start-up to compare with: at least [`MIN_START_UP_S`] (errors are relative
    /// to it) and at most [`MAX_SECONDS_SINCE_CREATION`].
    StartUpSeconds,
    /// A clock's resolution: at least [`MIN_RESOLUTION_S`] and at most [`MAX_RESOLUTION_S`].
    Resolution,
    Text,
}

impl Kind {
    pub(super) fn expectation(self, column: &str) -> String {
        match self {
            Kind::PodCount => format!("{column} must be a whole number in 1..={MAX_PODS}"),
            Kind::SinceCreation => format!(
                "{column} must be seconds since the deployment's creation, in -{MAX_CLOCK_SKEW_S}..={MAX_SECONDS_SINCE_CREATION} \
                 (30 days; below 0 only by the skew between two hosts' clocks, at most an hour)"
            ),
            Kind::SinceCreateCommand => format!(
                "{column} must be empty or seconds since `kubectl create deployment` was started, in \
                 0..={MAX_SECONDS_SINCE_CREATION} (30 days)"
            ),
            Kind::PositiveInt => format!("{column} must be a positive integer"),
            Kind::DelayMs => format!(
                "{column} must be a whole number of milliseconds in 0..={MAX_DELAY_MS} (30 days, the scenario's limit on a delay)"
            ),
            Kind::NonNegativeSeconds => format!("{column} must be a finite non-negative number of seconds"),
            Kind::StartUpSeconds => format!(
                "{column} must be a start-up time in seconds, at least {MIN_START_UP_S} (errors are relative to it) \
                 and at most {MAX_SECONDS_SINCE_CREATION} (30 days)"
            ),
            Kind::Resolution => format!(
                "{column} must be the observer's resolution in seconds, at least {MIN_RESOLUTION_S} (1 ms, the \
                 scenario's shortest workload.resolution) and at most {MAX_RESOLUTION_S} (kubectl's timestamps: 1)"
            ),
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
            message: if text == column {
                // The header again: two files joined with `cat`.
                format!(
                    "{}, got the column's own name: a header line again (files joined with `cat`? keep only the \
                     first file's header line)",
                    kind.expectation(column)
                )
            } else {
                format!("{}, got {}", kind.expectation(column), shown(text))
            },
        }
    }

    fn uint(&self, column: &'static str, kind: Kind, text: &str) -> Result<u32, DatasetError> {
        match text.parse::<u32>() {
            Ok(0) if matches!(kind, Kind::PositiveInt | Kind::PodCount) => Err(self.fail(column, kind, text)),
            Ok(v) if kind == Kind::PodCount && v > MAX_PODS => Err(self.fail(column, kind, text)),
            Ok(v) if kind == Kind::DelayMs && v > MAX_DELAY_MS => Err(self.fail(column, kind, text)),
            Ok(v) if !text.starts_with('+') => Ok(v),
            // A positive integer, only too large: say the limit rather than "must be a positive
            // integer" of one that is. (`parse` reports the overflow before a later sign or
            // point, so the digits are checked here.)
            Err(e)
                if kind == Kind::PositiveInt
                    && *e.kind() == std::num::IntErrorKind::PosOverflow
                    && text.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Err(DatasetError::Field {
                    path: self.path.to_path_buf(),
                    line: self.line,
                    column,
                    message: format!(
                        "{column} must be a positive integer of at most {}, got {}",
                        u32::MAX,
                        shown(text)
                    ),
                })
            }
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

pub(super) fn check_seconds(kind: Kind, v: f64) -> bool {
    v.is_finite()
        && match kind {
            Kind::StartUpSeconds => (MIN_START_UP_S..=MAX_SECONDS_SINCE_CREATION).contains(&v),
            Kind::Resolution => (MIN_RESOLUTION_S..=MAX_RESOLUTION_S).contains(&v),
            Kind::SinceCreation => (-MAX_CLOCK_SKEW_S..=MAX_SECONDS_SINCE_CREATION).contains(&v),
            Kind::SinceCreateCommand => (0.0..=MAX_SECONDS_SINCE_CREATION).contains(&v),
            _ => v >= 0.0,
        }
}

/// The latest a raw row's time may be: 30 days after the deployment's creation (no pod
/// start-up measurement runs that long; a larger value is a unit or parsing slip).
pub const MAX_SECONDS_SINCE_CREATION: f64 = 30.0 * 24.0 * 3600.0;

/// How far before the deployment's creation a raw row's stamp may read: a stamp of another
/// host than the apiserver that created the deployment (a node's kubelet, another master) reads
/// early by the skew between their clocks. kubectl's watch times, on kubetwin's own clock, do
/// not depend on it, so a run is kept. An hour is a bound of judgement, not a measurement: hosts
/// without NTP drift seconds a day, and a clock an hour off is set wrong, which stops the run.
pub const MAX_CLOCK_SKEW_S: f64 = 3600.0;

/// The shortest measured start-up a cell may give: a millisecond. No pod starts that fast (the
/// apiserver alone takes longer to commit it); less is a unit slip, and a start-up near 0 makes
/// every relative error explode.
pub const MIN_START_UP_S: f64 = 0.001;

/// The coarsest observer clock a cell may name: an hour. kubectl's timestamps read whole
/// seconds; a clock coarser than the start-ups it reads would round them all to 0.
pub const MAX_RESOLUTION_S: f64 = 3600.0;

/// The finest observer clock a cell may name: a millisecond, the floor the scenario puts on
/// `workload.resolution` (E017). The simulation reads the cell at this resolution; a finer one
/// would round to a zero tick (1e-10 s) or schedule an event per tick.
pub const MIN_RESOLUTION_S: f64 = 0.001;

/// The largest added delay a cell may name, in ms: 30 days, the scenario's limit on every
/// duration (E015, [`topologies::check::MAX_DURATION_SECS`]). A cell beyond it could only time
/// out in the simulation; it is a unit slip.
pub const MAX_DELAY_MS: u32 = (topologies::check::MAX_DURATION_SECS * 1000) as u32;
const _: () = assert!(topologies::check::MAX_DURATION_SECS * 1000 <= u32::MAX as u64);

/// Reads a summary CSV file.
///
/// # Errors
/// [`DatasetError`] naming the file, line and column of the first problem: unreadable file, malformed
/// CSV, missing, unknown or repeated column, a field that does not hold what its column needs, a
/// `resolution_s` above the cell's `mean_s` (a clock that did not resolve the start-up), or a cell
/// (`pods`, `delay_ms`) given twice.
pub fn read_cells(path: impl AsRef<Path>) -> Result<Vec<MeasuredCell>, DatasetError> {
    let path = path.as_ref();
    let file = topologies::file::open_capped(path, topologies::file::DATA_CSV).map_err(|source| DatasetError::Io {
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
            delay_ms: r.uint("delay_ms", Kind::DelayMs, f[1])?,
            mean_s: r.seconds("mean_s", Kind::StartUpSeconds, f[2])?,
            runs: r.uint("runs", Kind::PositiveInt, f[3])?,
            resolution_s: r.seconds("resolution_s", Kind::Resolution, f[4])?,
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
        if let Some(message) = unresolved(&cell) {
            return Err(DatasetError::Field {
                path: path.clone(),
                line,
                column: "resolution_s",
                message,
            });
        }
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

/// Why `cell`'s clock is too coarse for its mean, if it is: a run's start-up is read in whole
/// ticks of `resolution_s` (0, one tick, two ...), so a mean below one tick has a run that read
/// 0 s, a start-up the clock did not resolve; and the simulation, read on the same clock, would
/// compare ticks of 0 with it.
fn unresolved(cell: &MeasuredCell) -> Option<String> {
    (cell.resolution_s > cell.mean_s).then(|| {
        format!(
            "resolution_s must not exceed mean_s: each run's start-up reads a whole number of ticks of the \
             observer's clock, so a mean below one tick means a run read 0 s, a start-up the clock did not \
             resolve; got resolution_s {} and mean_s {} (kubectl's timestamps: 1)",
            cell.resolution_s, cell.mean_s
        )
    })
}

/// Reads a raw per-pod CSV file.
///
/// # Errors
/// [`DatasetError`] naming the file, line and column of the first problem, as for [`read_cells`]; a pod
/// given twice in the same run of the same cell is a duplicate. A row whose `running_s` is before its
/// `started_s` (stamps of one node's clock, see [`RawPodRow`]) is refused at its line and column; so is a run of a cell without one row per pod
/// ([`DatasetError::Run`], naming the run's lines, or [`DatasetError::Field`] at `pods` when the run's
/// rows are what another run of the same delay and number lacks).
pub fn read_raw(path: impl AsRef<Path>) -> Result<Vec<RawPodRow>, DatasetError> {
    let path = path.as_ref();
    let file = topologies::file::open_capped(path, topologies::file::DATA_CSV).map_err(|source| DatasetError::Io {
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
    // The line of each row, to name the rows of a run that lacks some.
    let mut lines: Vec<u64> = Vec::new();
    let rows = read_records(reader, &path, &RAW_COLUMNS, &[RAW_WATCH_COLUMN], |f, line| {
        let r = FieldReader { path: &path, line };
        let row = RawPodRow {
            run: r.uint("run", Kind::PositiveInt, f[0])?,
            pod: r.text("pod", f[1])?,
            node: r.text("node", f[2])?,
            delay_ms: r.uint("delay_ms", Kind::DelayMs, f[3])?,
            pods: r.uint("pods", Kind::PodCount, f[4])?,
            created_s: r.seconds("created_s", Kind::SinceCreation, f[5])?,
            scheduled_s: r.seconds("scheduled_s", Kind::SinceCreation, f[6])?,
            started_s: r.seconds("started_s", Kind::SinceCreation, f[7])?,
            running_s: r.seconds("running_s", Kind::SinceCreation, f[8])?,
            watch_running_s: match f[9] {
                "" => None,
                text => Some(r.seconds(RAW_WATCH_COLUMN, Kind::SinceCreateCommand, text)?),
            },
        };
        if let Some((column, message)) = out_of_order(&row) {
            return Err(DatasetError::Field {
                path: path.clone(),
                line,
                column,
                message,
            });
        }
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
        lines.push(line);
        Ok(row)
    })?;
    if rows.is_empty() {
        return Err(DatasetError::NoRows { path });
    }
    if let Some(bad) = BadRun::find(&rows) {
        let line = lines[bad.rows[0]];
        let message = bad.message(|rows| listed("line", "lines", rows.iter().map(|&i| lines[i] as usize)));
        return Err(match bad.completes {
            // The rows' own `pods` value is the slip: name it as a field.
            Some(_) => DatasetError::Field {
                path,
                line,
                column: "pods",
                message,
            },
            None => DatasetError::Run { path, line, message },
        });
    }
    Ok(rows)
}

/// The order a pod passes two instants stamped on one host's clock, and which: a row with the
/// later one before the earlier cannot come from a real cluster.
///
/// The node stamps `started_s` (its kubelet's `Initialized` condition, `startTime` or `Pulling`
/// event) and `running_s` (Docker's `startedAt`, or the kubelet's `Started` event): the
/// containers start after the kubelet took the pod. No other pair shares a host. `created_s`
/// (the `creationTimestamp`) and `scheduled_s` (the `PodScheduled` condition, or the
/// scheduler's `Scheduled` event) are stamped by the control plane, but in a highly available
/// one by different hosts: the apiserver that took the ReplicaSet controller's POST, the one
/// that took the binding, or the scheduler's, so a master whose clock is behind another's can
/// make a pod read as bound before it was created. Pairs across hosts are not ordered here (the
/// phase comparison warns of a node clock behind, [`crate::phases::clocks_behind`]).
const SAME_CLOCK: [SameClock; 1] = [SameClock {
    earlier: "started_s",
    later: "running_s",
    clock: "the node's clock (its kubelet takes the pod, then its containers start)",
    times: |r| (r.started_s, r.running_s),
}];

/// Two columns of a raw row stamped on one clock, in the order a pod passes them.
struct SameClock {
    earlier: &'static str,
    later: &'static str,
    /// Which clock, and why the order holds.
    clock: &'static str,
    /// The (earlier, later) values of a row.
    times: fn(&RawPodRow) -> (f64, f64),
}

/// The column and message of the first pair of [`SAME_CLOCK`] that `row` has out of order.
///
/// API timestamps are cut to the whole second and events' `eventTime` is not, so the later
/// instant may read up to a second before an exact earlier one (10 for an instant at 10.7 after
/// one at 10.5): only a later instant before the earlier one's whole second is refused.
pub(super) fn out_of_order(row: &RawPodRow) -> Option<(&'static str, String)> {
    SAME_CLOCK.iter().find_map(|pair| {
        let (e, l) = (pair.times)(row);
        let (earlier, later, clock) = (pair.earlier, pair.later, pair.clock);
        (l < e.floor()).then(|| {
            (
                later,
                format!(
                    "{later} must not be before {earlier}: both are stamped on {clock}; got {later} {l} and \
                     {earlier} {e} (only stamps of one clock are compared: a node's clock may differ from \
                     the control plane's)"
                ),
            )
        })
    })
}

/// A run of a cell whose rows are not one per pod, as found by [`BadRun::find`].
pub(super) struct BadRun {
    pods: u32,
    delay_ms: u32,
    run: u32,
    /// Indexes of its rows, in order.
    pub(super) rows: Vec<usize>,
    /// The run with the same `delay_ms` and number but another `pods` that these rows would
    /// make complete (its `pods` and row indexes): this run's `pods` is then most likely a slip.
    pub(super) completes: Option<(u32, Vec<usize>)>,
}

impl BadRun {
    /// The first run, in file order, that does not have exactly `pods` rows; one whose rows
    /// would complete another short run of the same `delay_ms` and number comes first, as the
    /// likely cause of both (a row whose `pods` was changed leaves its own run short).
    pub(super) fn find(rows: &[RawPodRow]) -> Option<BadRun> {
        let mut runs: HashMap<(u32, u32, u32), Vec<usize>> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            runs.entry((r.pods, r.delay_ms, r.run)).or_default().push(i);
        }
        let mut bad: Vec<((u32, u32, u32), Vec<usize>)> = runs
            .into_iter()
            .filter(|((pods, ..), at)| at.len() != *pods as usize)
            .collect();
        bad.sort_by_key(|(_, at)| at[0]);
        let completes = |&(pods, delay_ms, run): &(u32, u32, u32), n: usize| {
            bad.iter().find(|((p, d, r), at)| {
                *d == delay_ms && *r == run && *p != pods && at.len() < *p as usize && at.len() + n == *p as usize
            })
        };
        let (key, at, other) = bad
            .iter()
            .find_map(|(key, at)| completes(key, at.len()).map(|o| (key, at, Some(o))))
            .or_else(|| bad.first().map(|(key, at)| (key, at, None)))?;
        Some(BadRun {
            pods: key.0,
            delay_ms: key.1,
            run: key.2,
            rows: at.clone(),
            completes: other.map(|((p, ..), at)| (*p, at.clone())),
        })
    }

    /// What is wrong, with `rows` naming a run's rows (their lines, or their records).
    pub(super) fn message(&self, rows: impl Fn(&[usize]) -> String) -> String {
        let (pods, delay_ms, run) = (self.pods, self.delay_ms, self.run);
        let n = self.rows.len();
        let plural = if n == 1 { "row" } else { "rows" };
        let this = format!(
            "run {run} of cell pods={pods} delay_ms={delay_ms} has {n} pod {plural} ({}), expected {pods}",
            rows(&self.rows)
        );
        match &self.completes {
            Some((other, at)) => format!(
                "{this}, and run {run} of cell pods={other} delay_ms={delay_ms} has {} ({}), {n} short of {other}: \
                 expected pods={other} here",
                at.len(),
                rows(at)
            ),
            None => format!(
                "{this}: one row per pod of the run (is a pod's row missing, or its `run`, `pods` or `delay_ms` \
                 mislabelled?)"
            ),
        }
    }
}

/// `what` (singular) or `whats` (plural) and the numbers `at`, consecutive ones as ranges, at most
/// 8 ranges: `lines 2-6, 8, 10-21`.
pub(super) fn listed(what: &str, whats: &str, at: impl IntoIterator<Item = usize>) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut count = 0;
    for n in at {
        count += 1;
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => ranges.push((n, n)),
        }
    }
    let shown: Vec<String> = ranges
        .iter()
        .take(8)
        .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
        .collect();
    let more = if ranges.len() > 8 { ", ..." } else { "" };
    format!("{} {}{more}", if count == 1 { what } else { whats }, shown.join(", "))
}

pub(super) fn raw_key(row: &RawPodRow) -> String {
    format!(
        "pod {} in run {} of cell pods={} delay_ms={}",
        row.pod, row.run, row.pods, row.delay_ms
    )
}
