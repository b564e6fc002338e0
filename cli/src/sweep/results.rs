//! Results files: `results.csv` and `results.json` (or a shard's `shard-K-of-N.*`), and reading
//! them back for `kubetwin plot`.
//!
//! Both files hold one row per point in the full point order. Columns: `pods`, `delay_ms`, one
//! per `--set` path (the path itself), then [`STAT_COLUMNS`], then each varying axis's paired
//! effect and, last, the numbers of the axes whose values carry a unit (`<path>_ms`, ...). `results.json` is
//! `{"sweep": <sweep.json>, "columns": [...], "points": [{column: value, ...}, ...]}`, a shard's
//! file has `"shard": "K/N"` after `sweep`. Numbers are written in the shortest form that reads
//! back to the same value; a missing value (no replication finished, or an effect without its
//! base point or its interval) is an empty CSV cell and `null` in JSON.

use std::path::Path;

use anyhow::Context;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value as Json;

use super::axes::Shard;
use super::point::{Row, STAT_COLUMNS};
use super::store::SweepFile;
use crate::output::UsageError;

/// The column names of a sweep's results.
pub(crate) fn columns(file: &SweepFile) -> Vec<String> {
    let mut c = vec!["pods".to_owned(), "delay_ms".to_owned()];
    c.extend(file.spec.set.iter().map(|a| a.path.clone()));
    c.extend(STAT_COLUMNS.iter().map(|s| (*s).to_owned()));
    c.extend(effect_columns(file));
    c.extend(
        typed_axes(file)
            .into_iter()
            .map(|(i, suffix)| format!("{}_{suffix}", file.spec.set[i].path)),
    );
    c
}

/// The units of axis values that get a numeric column ([`super::figure::numeric`]'s), each with
/// the column's suffix.
pub(crate) const TYPED_SUFFIXES: [(&str, &str); 3] = [("ms", "ms"), ("Mbit/s", "mbit_s"), ("%", "pct")];

/// The `--set` and `--fault` axes whose values are text with one unit (durations such as
/// `50ms`, rates such as `30Mbit`, percentages such as `1%`), each with the suffix of the
/// numeric column that gives its values as numbers (`_ms`, `_mbit_s`, `_pct`), last: a script
/// need not parse units.
fn typed_axes(file: &SweepFile) -> Vec<(usize, &'static str)> {
    file.spec
        .set
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let units: Vec<Option<&str>> = a
                .values
                .iter()
                .map(|v| {
                    v.is_string()
                        .then(|| super::figure::numeric(v).and_then(|(_, u)| u))
                        .flatten()
                })
                .collect();
            let unit = units.first().copied().flatten()?;
            let suffix = TYPED_SUFFIXES.iter().find(|(u, _)| *u == unit)?.1;
            units.iter().all(|u| *u == units[0]).then_some((i, suffix))
        })
        .collect()
}

/// A row's values, in [`columns`] order: [`Row::values`], then its typed axes' numbers.
fn row_values(typed: &[(usize, &'static str)], r: &Row) -> Vec<Json> {
    let mut v = r.values();
    v.extend(typed.iter().map(|&(i, _)| {
        r.set
            .get(i)
            .and_then(super::figure::numeric)
            .and_then(|(x, _)| serde_json::Number::from_f64(x))
            .map_or(Json::Null, Json::Number)
    }));
    v
}

/// The columns of the `--set` and `--fault` axes' paired effects, after [`STAT_COLUMNS`]: for
/// each axis with more than one value, `<path>_effect_mean_s`, `<path>_effect_ci95_lo_s` and
/// `<path>_effect_ci95_hi_s` ([`super::point::pair_set_effects`]).
fn effect_columns(file: &SweepFile) -> Vec<String> {
    file.spec
        .set
        .iter()
        .filter(|a| a.values.len() > 1)
        .flat_map(|a| ["effect_mean_s", "effect_ci95_lo_s", "effect_ci95_hi_s"].map(|s| format!("{}_{s}", a.path)))
        .collect()
}

fn csv_cell(v: &Json) -> String {
    let text = match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    crate::output::csv_field(&text).into_owned()
}

/// `results.csv`.
pub(crate) fn to_csv(file: &SweepFile, rows: &[Row]) -> Vec<u8> {
    let mut out = columns(file)
        .iter()
        .map(|c| csv_cell(&Json::from(c.as_str())))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    let typed = typed_axes(file);
    for r in rows {
        out.push_str(&row_values(&typed, r).iter().map(csv_cell).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out.into_bytes()
}

struct Ordered<'a> {
    columns: &'a [String],
    values: Vec<Json>,
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.columns.len()))?;
        for (c, v) in self.columns.iter().zip(&self.values) {
            m.serialize_entry(c, v)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct ResultsJson<'a> {
    sweep: &'a SweepFile,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
    columns: &'a [String],
    points: Vec<Ordered<'a>>,
}

/// `results.json`.
pub(crate) fn to_json(file: &SweepFile, shard: Option<Shard>, rows: &[Row]) -> Vec<u8> {
    let columns = columns(file);
    let typed = typed_axes(file);
    let v = ResultsJson {
        sweep: file,
        shard: shard.map(|s| s.to_string()),
        columns: &columns,
        points: rows
            .iter()
            .map(|r| Ordered {
                columns: &columns,
                values: row_values(&typed, r),
            })
            .collect(),
    };
    super::store::to_json_bytes(&v)
}

/// A results table read back from a file.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    /// The sweep header, when read from JSON.
    pub(crate) sweep: Option<SweepFile>,
    /// Column names.
    pub(crate) columns: Vec<String>,
    /// How many leading columns are axes (those before `reps`).
    pub(crate) axes: usize,
    /// Rows, one value per column.
    pub(crate) rows: Vec<Vec<Json>>,
    /// Where each row is, for messages: `line 3` of a CSV file, `points[1]` of a JSON file.
    pub(crate) lines: Vec<String>,
}

impl Table {
    /// The table of freshly computed rows.
    pub(crate) fn of(file: &SweepFile, rows: &[Row]) -> Table {
        let columns = columns(file);
        Table {
            sweep: Some(file.clone()),
            axes: 2 + file.spec.set.len(),
            columns,
            rows: {
                let typed = typed_axes(file);
                rows.iter().map(|r| row_values(&typed, r)).collect()
            },
            lines: (0..rows.len()).map(|i| format!("points[{i}]")).collect(),
        }
    }

    /// Reads `results.json` (or a shard's JSON) or `results.csv`, by content.
    pub(crate) fn read(path: &Path) -> anyhow::Result<Table> {
        let text = topologies::file::read_capped_to_string(path, topologies::file::RESULTS)
            .with_context(|| format!("cannot read {}", path.display()))?;
        // A byte-order mark, as some Windows tools write, is not part of the content.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        // Old Mac files end their lines with a lone `\r`: they are read as line endings (after
        // one the csv reader would take a `#` comment for a record).
        let text = validate::dataset::unix_line_endings(text);
        let text: &str = &text;
        // A last line without its line ending, a `#` comment's included (which the csv reader
        // would take for a record), is ended.
        let ended;
        let text = if text.ends_with('\n') || text.is_empty() {
            text
        } else {
            ended = format!("{text}\n");
            &ended
        };
        let bad = |why: String| {
            UsageError(format!(
                "{} is not the results of a kubetwin sweep: {why}",
                path.display()
            ))
        };
        if text.trim().is_empty() {
            return Err(UsageError(format!(
                "{} is empty; expected the results.csv or results.json of a kubetwin sweep",
                path.display()
            ))
            .into());
        }
        // A file named `.json`, or a JSON list, is not read as CSV (where it would lack a
        // `reps` column): it is not a sweep's results.json.
        let json_name = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let first = text.trim_start().chars().next();
        let json_list = first == Some('[') && serde_json::from_str::<Json>(text).is_ok();
        if first != Some('{') && (json_name || json_list) {
            let what = match serde_json::from_str::<Json>(text) {
                Ok(Json::Array(_)) => "it holds a JSON list".to_owned(),
                Ok(_) => "it holds a single JSON value".to_owned(),
                Err(e) => format!("it is not JSON ({e})"),
            };
            return Err(UsageError(format!(
                "{} is not the results.json of a kubetwin sweep: {what}; expected an object that begins {{\"sweep\": {{\"format\": \"{}\", ...",
                path.display(),
                super::store::FORMAT
            ))
            .into());
        }
        // Where each row is, for the errors: a CSV line, or a JSON point.
        let mut lines: Vec<String> = Vec::new();
        let (sweep, columns, rows) = if first == Some('{') {
            let v: Json = serde_json::from_str(text).map_err(|e| bad(format!("invalid JSON ({e})")))?;
            // The header says what the file is: results of another format are not guessed at.
            let header = v.get("sweep").ok_or_else(|| {
                bad(format!(
                    "no \"sweep\" header (results.json begins with \"sweep\": {{\"format\": \"{}\", ...}})",
                    super::store::FORMAT
                ))
            })?;
            let sweep = SweepFile::from_json(header)
                .map_err(|why| UsageError(format!("{}: its \"sweep\" header: {why}", path.display())))?;
            let columns: Vec<String> = v
                .get("columns")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .ok_or_else(|| bad("no \"columns\" list".into()))?;
            let points = v
                .get("points")
                .and_then(Json::as_array)
                .ok_or_else(|| bad("no \"points\" list".into()))?;
            lines.extend((0..points.len()).map(|i| format!("points[{i}]")));
            let rows = points
                .iter()
                .map(|p| {
                    columns
                        .iter()
                        .map(|c| p.get(c).cloned().unwrap_or(Json::Null))
                        .collect()
                })
                .collect();
            (Some(sweep), columns, rows)
        } else {
            // `#` lines are comments, as in the measured data sets.
            let mut reader = csv::ReaderBuilder::new()
                .comment(Some(b'#'))
                .from_reader(text.as_bytes());
            let columns: Vec<String> = reader
                .headers()
                .map_err(|e| bad(format!("invalid CSV ({})", csv_problem(text, &e))))?
                .iter()
                .map(str::to_owned)
                .collect();
            let mut rows: Vec<Vec<Json>> = Vec::new();
            for rec in reader.records() {
                let rec = rec.map_err(|e| bad(format!("invalid CSV ({})", csv_problem(text, &e))))?;
                let line = rec.position().map_or(0, |p| record_line(text, p.byte()));
                rows.push(rec.iter().map(parse_cell).collect());
                lines.push(format!("line {line}"));
            }
            (None, columns, rows)
        };
        // As the measured data sets' readers do: two columns of one name would leave one unread.
        for (i, c) in columns.iter().enumerate() {
            if let Some(first) = columns[..i].iter().position(|d| d == c) {
                return Err(bad(format!("duplicate column `{c}` (columns {} and {})", first + 1, i + 1)).into());
            }
        }
        let axes = columns
            .iter()
            .position(|c| c == "reps")
            .ok_or_else(|| bad("no `reps` column".into()))?;
        for (row, at) in rows.iter().zip(&lines) {
            let row: &[Json] = row;
            check_stats(&columns, row).map_err(|why| UsageError(format!("{}: {at}: {why}", path.display())))?;
        }
        Ok(Table {
            sweep,
            columns,
            axes,
            rows,
            lines,
        })
    }
}

/// The line a CSV record starts on, from where the reader stood before it (`byte`): the csv
/// reader's own line count stops at a record's `\r` and stands before the comment lines it
/// skips, so the line endings and `#` lines between are passed over here.
fn record_line(text: &str, byte: u64) -> usize {
    let bytes = text.as_bytes();
    let mut at = usize::try_from(byte).unwrap_or(bytes.len()).min(bytes.len());
    loop {
        match bytes.get(at) {
            Some(b'\r' | b'\n') => at += 1,
            Some(b'#') => {
                at += bytes[at..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len() - at, |n| n + 1)
            }
            _ => break,
        }
    }
    bytes[..at].iter().filter(|&&c| c == b'\n').count() + 1
}

/// What is wrong with a CSV file, with the line counted as [`record_line`] counts it (the csv
/// crate's own count stops at a record's `\r` and before comment lines).
fn csv_problem(text: &str, e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos: Some(pos),
            expected_len,
            len,
        } => format!(
            "line {}: a row of {} where the header has {expected_len}",
            record_line(text, pos.byte()),
            crate::output::count(*len as usize, "field")
        ),
        _ => e.to_string(),
    }
}

/// A row's statistics as a sweep writes them: `reps` a whole number of at least 1,
/// `incomplete` a whole number up to `reps`, and each 95 %
/// interval's low end at most its mean, its mean at most its high end; the error says which
/// column holds what instead. (A statistic that is not a number leaves its row out of a plot,
/// with a note naming its line.)
fn check_stats(columns: &[String], row: &[Json]) -> Result<(), String> {
    let value = |name: &str| columns.iter().position(|c| c == name).and_then(|i| row.get(i));
    let reps = value("reps");
    if let Some(reps) = reps {
        if reps.as_u64().is_none_or(|r| r < 1) {
            return Err(format!(
                "`reps` holds {reps}; expected a whole number of replications, at least 1"
            ));
        }
    }
    if let (Some(incomplete), Some(reps)) = (value("incomplete"), reps.and_then(Json::as_u64)) {
        if !incomplete.is_null() && incomplete.as_u64().is_none_or(|n| n > reps) {
            return Err(format!(
                "`incomplete` holds {incomplete}; expected a whole number of replications from 0 to `reps` ({reps})"
            ));
        }
    }
    for stat in ["startup", "delay_effect"] {
        let (lo, hi) = (format!("{stat}_ci95_lo_s"), format!("{stat}_ci95_hi_s"));
        let mean = format!("{stat}_mean_s");
        let number = |c: &str| value(c).and_then(Json::as_f64);
        if let (Some(l), Some(h)) = (number(&lo), number(&hi)) {
            if l > h {
                return Err(format!(
                    "`{lo}` {l} is above `{hi}` {h}; expected the interval's low end first"
                ));
            }
            if let Some(m) = number(&mean).filter(|m| *m < l || *m > h) {
                return Err(format!(
                    "`{mean}` {m} is outside its own 95 % interval [{l}, {h}]; expected a mean from `{lo}` to `{hi}`"
                ));
            }
        }
    }
    Ok(())
}

/// A CSV cell as the JSON value `results.json` holds for it: empty is `null`, numbers are
/// numbers, `true` / `false` are booleans (a boolean `--set` axis), anything else is a string.
fn parse_cell(s: &str) -> Json {
    if s.is_empty() {
        Json::Null
    } else if let Ok(b) = s.parse::<bool>() {
        Json::Bool(b)
    } else if let Ok(i) = s.parse::<i64>() {
        Json::from(i)
    } else if let Ok(u) = s.parse::<u64>() {
        Json::from(u)
    } else if let Some(n) = s.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Json::Number(n)
    } else {
        Json::String(s.to_owned())
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    /// A record's line passes over the blank and `#` lines before it, whichever the line
    /// endings (an old Mac file's lone `\r` are made `\n` before: [`Table::read`]).
    #[test]
    fn record_lines_count_every_kind_of_line_ending() {
        for end in ["\n", "\r\n"] {
            let text = ["a,b", "1,2", "# a note", "", "3,4", ""].join(end);
            // The reader stands at the end of "1,2" before the third record.
            let before = text.find("1,2").unwrap() + 3;
            assert_eq!(record_line(&text, before as u64), 5, "{end:?}");
            assert_eq!(record_line(&text, 0), 1, "{end:?}");
        }
    }

    /// A row of the wrong width is named by its own line.
    #[test]
    fn a_ragged_row_is_named_by_its_line() {
        for end in ["\n", "\r\n"] {
            let text = ["reps,x", "# note", "1,2", "3", ""].join(end);
            let mut reader = csv::ReaderBuilder::new()
                .comment(Some(b'#'))
                .from_reader(text.as_bytes());
            let e = reader.records().find_map(Result::err).expect("the ragged row");
            assert_eq!(
                csv_problem(&text, &e),
                "line 4: a row of 1 field where the header has 2",
                "{end:?}"
            );
        }
    }
}
