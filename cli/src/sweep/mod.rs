//! What-if sweeps: every combination of pods, delay and scenario parameters, resumable, sharded
//! across machines and merged back (`kubetwin sweep`, `merge`, `plot`).
//!
//! - [`axes`]: parsing `--pods`, `--delay`, `--set`, `--shard`;
//! - [`spec`]: the sweep spec and its hash, the points in their fixed order, keys and seeds;
//! - [`point`]: computing one point and its results row;
//! - [`store`]: the sweep directory, written file by file atomically;
//! - [`results`]: `results.csv` / `results.json` and reading them back;
//! - [`figure`]: figures of results.
//!
//! A sweep directory holds `sweep.json` (the spec and its hash), `scenario.toml` (the resolved
//! scenario, for the record), `points/<key>.json` (one per
//! finished point, written as soon as it finishes), and the results: `results.csv`,
//! `results.json` (and `startup.svg` with `--plot`) for a whole sweep, `shard-K-of-N.csv` and
//! `.json` for a shard. The results are always assembled from the point files, so a sweep
//! computed in one go, resumed after a kill, or merged from shards writes the same bytes.

pub(crate) mod axes;
pub(crate) mod fault_axes;
pub(crate) mod figure;
pub(crate) mod point;
pub(crate) mod results;
pub(crate) mod spec;
pub(crate) mod store;

use std::path::{Path, PathBuf};

use axes::Shard;
use point::Row;
use spec::Point;
use store::{SweepDir, SweepFile};

/// Reads the rows of `points`, in their order, from the point files of `dir`, with their delay
/// effects paired among them ([`point::pair_delay_effects`]) when the sweep has two delays or
/// more, and the effects of its `--set` and `--fault` axes ([`point::pair_set_effects`]).
pub(crate) fn rows_from_dir(dir: &SweepDir, file: &SweepFile, points: &[Point]) -> anyhow::Result<Vec<Row>> {
    let mut rows = points
        .iter()
        .map(|p| {
            let key = file.spec.point_key(p);
            let rec = dir.read_point(&key, file)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "point {} ({}) is missing from {}",
                    file.spec.describe(p),
                    key,
                    dir.points_dir().display()
                )
            })?;
            rec.check_file(&dir.point_path(&key), &file.spec, p)?;
            Row::from_record(&rec)
        })
        .collect::<anyhow::Result<Vec<Row>>>()?;
    // With one delay there is no effect to pair: its columns stay empty, not a row of zeros
    // that a figure would draw as "no effect" (a review's sweep over a repair time did).
    let delays = file.spec.delays_ns()?;
    if delays.len() > 1 {
        let base_delay = delays.into_iter().min().unwrap_or(0);
        point::pair_delay_effects(&mut rows, base_delay);
    }
    point::pair_set_effects(&mut rows, &file.spec.set);
    Ok(rows)
}

/// Tells the user about `stray` files in `points/` (not named after a point of the sweep), which
/// `sweep` and `merge` both leave alone and do not read.
pub(crate) fn note_stray_files(dir: &SweepDir, stray: &[PathBuf]) {
    if stray.is_empty() {
        return;
    }
    let names: Vec<String> = stray
        .iter()
        .take(5)
        .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
        .collect();
    eprintln!(
        "note: {} file{} in {} {} not named after a point of this sweep and {} not read: {}{}",
        stray.len(),
        if stray.len() == 1 { "" } else { "s" },
        dir.points_dir().display(),
        if stray.len() == 1 { "is" } else { "are" },
        if stray.len() == 1 { "is" } else { "are" },
        names.join(", "),
        if stray.len() > 5 { ", ..." } else { "" }
    );
}

/// The paths of the `--set` and `--fault` axes with more than one value, in spec order.
fn varying_axes(spec: &spec::SweepSpec) -> Vec<&str> {
    spec.set
        .iter()
        .filter(|a| a.values.len() > 1)
        .map(|a| a.path.as_str())
        .collect()
}

/// The default figure of a sweep: start-up against delay (or pods, when delay has one value;
/// or the first `--set` or `--fault` axis that varies and whose values are numbers, durations,
/// rates or percentages, when neither does), one line per value of every other axis that
/// varies.
pub(crate) fn default_plot(file: &SweepFile) -> figure::PlotRequest {
    let spec = &file.spec;
    let varying = varying_axes(spec);
    let numeric_axis = spec
        .set
        .iter()
        .find(|a| a.values.len() > 1 && a.values.iter().all(|v| figure::numeric(v).is_some()))
        .map(|a| a.path.as_str());
    let x = match (spec.delay.len() > 1, spec.pods.len() > 1, numeric_axis) {
        (true, _, _) | (false, false, None) => "delay",
        (false, true, _) => "pods",
        (false, false, Some(axis)) => axis,
    };
    let mut series: Vec<String> = [("pods", spec.pods.len()), ("delay", spec.delay.len())]
        .into_iter()
        .filter(|&(name, n)| n > 1 && name != x)
        .map(|(name, _)| name.to_owned())
        .collect();
    series.extend(varying.iter().filter(|p| **p != x).map(|p| (*p).to_owned()));
    figure::PlotRequest {
        x: x.to_owned(),
        y: "startup".to_owned(),
        series,
        filters: Vec::new(),
        title: None,
    }
}

/// `word` as a shell reads it back: as it is when it holds only safe characters, else in single
/// quotes (a path with a space in a suggested command).
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=,@%".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A `--set` or `--fault` axis with numeric values and more of them than the figure's x axis
/// `x` (`delay`, `pods` or an axis's path): the study's own axis, which the default rule passed
/// over.
fn longer_numeric_axis(file: &SweepFile, x: &str) -> Option<String> {
    let spec = &file.spec;
    let x_values = match x {
        "delay" => spec.delay.len(),
        "pods" => spec.pods.len(),
        path => spec.set.iter().find(|a| a.path == path).map_or(0, |a| a.values.len()),
    };
    spec.set
        .iter()
        .filter(|a| a.path != x && a.values.len() > x_values && a.values.iter().all(|v| figure::numeric(v).is_some()))
        // The first of the longest, in the order the axes were given.
        .rev()
        .max_by_key(|a| a.values.len())
        .map(|a| a.path.clone())
}

/// Writes the results of `rows` into `dir`: `results.csv` and `results.json` (and `startup.svg`
/// with `plot`, or when an earlier run drew it, which would show the old points) for a whole
/// sweep, `shard-K-of-N.*` for a shard. Returns the files written.
///
/// A figure that cannot be drawn (a shard with no point, a sweep where nothing finished) does not
/// keep the results from being written: the figure is left out with a warning, and the exit code
/// is what it would be without `plot`.
pub(crate) fn write_results(
    dir: &SweepDir,
    file: &SweepFile,
    shard: Option<Shard>,
    rows: &[Row],
    plot: bool,
) -> anyhow::Result<Vec<PathBuf>> {
    let stem = match shard {
        None => "results".to_owned(),
        Some(s) => format!("shard-{}-of-{}", s.k, s.n),
    };
    let csv = dir.root().join(format!("{stem}.csv"));
    let json = dir.root().join(format!("{stem}.json"));
    let csv_text = results::to_csv(file, rows);
    let json_text = results::to_json(file, shard, rows);
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![(csv, csv_text), (json, json_text)];
    let svg = dir.root().join(match shard {
        None => "startup.svg".to_owned(),
        Some(_) => format!("{stem}.svg"),
    });
    // A figure drawn by an earlier run is drawn again: it would show the old points.
    if plot || svg.exists() {
        match svg_of(file, rows, &files[0].0) {
            Ok(bytes) => files.push((svg, bytes)),
            Err(why) => eprintln!("warning: {} not written: {why}", svg.display()),
        }
    }
    // One output: the results files are replaced together or (on any failure) not at all.
    let set: Vec<(&Path, &[u8])> = files.iter().map(|(p, b)| (p.as_path(), b.as_slice())).collect();
    crate::output::write_atomic_set(&set)?;
    let written = files.into_iter().map(|(p, _)| p).collect();
    Ok(written)
}

/// The default figure of `rows` as SVG bytes, or why it cannot be drawn; a note on stderr when
/// an axis with more values than the figure's x axis could be drawn along (`results_csv` names
/// the file to draw it from).
fn svg_of(file: &SweepFile, rows: &[Row], results_csv: &Path) -> Result<Vec<u8>, String> {
    if rows.is_empty() {
        // Only a shard can have no point; `figure`'s message is about `plot --where`.
        return Err("this shard has no point, so there is nothing to plot".to_owned());
    }
    if rows.iter().all(|r| r.incomplete >= r.reps) {
        return Err("no replication of any point finished, so there is no start-up time to plot".to_owned());
    }
    let spec = &file.spec;
    let varying = varying_axes(spec);
    let req = default_plot(file);
    if let Some(other) = longer_numeric_axis(file, &req.x) {
        // Every other varying axis a line each, as the default figure does.
        let mut series: Vec<&str> = [("pods", spec.pods.len()), ("delay", spec.delay.len())]
            .into_iter()
            .filter(|&(_, n)| n > 1)
            .map(|(name, _)| name)
            .collect();
        series.extend(varying.iter().filter(|p| **p != other));
        let series = if series.is_empty() {
            String::new()
        } else {
            format!(" --series {}", series.join(","))
        };
        eprintln!(
            "note: startup.svg draws start-up against {} by the default rule (delay, else pods, else the first numeric axis that varies); `kubetwin plot {} --x {other}{series} --out FILE.svg` draws it against {other}, which has more values",
            req.x,
            shell_word(&results_csv.display().to_string())
        );
    }
    let table = results::Table::of(file, rows);
    let (fig, left_out) = figure::figure(&table, &req).map_err(|e| format!("cannot plot: {e}"))?;
    if let Some(note) = figure::left_out_note(left_out, &req.y) {
        eprintln!("{note}");
    }
    crate::plot::render_svg(&fig)
        .map(String::into_bytes)
        .map_err(|e| format!("cannot draw the figure: {e:#}"))
}

#[cfg(test)]
mod tests {
    /// A suggested command's path reads back in a shell: quoted when it holds a space or a
    /// quote, as it is otherwise.
    #[test]
    fn a_path_is_quoted_for_the_shell_when_it_needs_it() {
        assert_eq!(super::shell_word("out/results.csv"), "out/results.csv");
        assert_eq!(super::shell_word("my out/results.csv"), "'my out/results.csv'");
        assert_eq!(super::shell_word("it's/results.csv"), "'it'\\''s/results.csv'");
    }
}
