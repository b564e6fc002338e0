//! Writing the summary and raw CSV files, atomically, after checking that what is written reads back.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::Path;

use crate::atomic_file::write_atomic;

use super::read::{check_seconds, csv_error, listed, out_of_order, raw_key, BadRun, Kind, Lines, MAX_DELAY_MS};
use super::{
    DatasetError, MeasuredCell, Observed, RawPodRow, CELL_COLUMNS, CELL_OBSERVED_COLUMN, MAX_PODS, RAW_COLUMNS,
    RAW_WATCH_COLUMN,
};

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
        if cell.delay_ms > MAX_DELAY_MS {
            return Err(invalid("delay_ms", Kind::DelayMs, &cell.delay_ms));
        }
        if !check_seconds(Kind::Resolution, cell.resolution_s) {
            return Err(invalid("resolution_s", Kind::Resolution, &cell.resolution_s));
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
        if row.delay_ms > MAX_DELAY_MS {
            return Err(invalid("delay_ms", Kind::DelayMs, &row.delay_ms));
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
        if let Some(v) = row
            .watch_running_s
            .filter(|&v| !check_seconds(Kind::SinceCreateCommand, v))
        {
            return Err(invalid(RAW_WATCH_COLUMN, Kind::SinceCreateCommand, &v));
        }
        if let Some((column, message)) = out_of_order(row) {
            return Err(DatasetError::InvalidRecord {
                path: path.to_path_buf(),
                index,
                column,
                message,
            });
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
    if let Some(bad) = BadRun::find(rows) {
        return Err(DatasetError::InvalidRecord {
            path: path.to_path_buf(),
            index: bad.rows[0],
            column: "pods",
            message: bad.message(|at| listed("record", "records", at.iter().copied())),
        });
    }
    let mut text = comment_lines(comments);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let io_error = |e: csv::Error| csv_error(path, &Lines::new(""), e);
    // The watch's column only when a row has it: a measurement without the watch reads as before.
    let with_watch = rows.iter().any(|r| r.watch_running_s.is_some());
    let header = RAW_COLUMNS
        .iter()
        .copied()
        .chain(with_watch.then_some(RAW_WATCH_COLUMN));
    writer.write_record(header).map_err(io_error)?;
    for row in rows {
        let watch = with_watch.then(|| row.watch_running_s.map_or_else(String::new, |v| v.to_string()));
        writer
            .write_record(
                [
                    row.run.to_string(),
                    row.pod.clone(),
                    row.node.clone(),
                    row.delay_ms.to_string(),
                    row.pods.to_string(),
                    row.created_s.to_string(),
                    row.scheduled_s.to_string(),
                    row.started_s.to_string(),
                    row.running_s.to_string(),
                ]
                .into_iter()
                .chain(watch),
            )
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
