//! Figures of sweep results: pick x, y and series columns, filter the rest, draw lines with
//! confidence bands through [`crate::plot`].

use serde_json::Value as Json;

use super::results::Table;
use super::spec::plain;
use crate::plot::{Figure, Point, Series};

/// What to draw.
#[derive(Debug, Clone)]
pub(crate) struct PlotRequest {
    /// x column (name or alias: `delay`, `pods`, a `--set` path or its last part).
    pub(crate) x: String,
    /// y column (alias `startup` = `startup_mean_s`, drawn with its 95 % CI band).
    pub(crate) y: String,
    /// Columns whose values make one line each (none: one line).
    pub(crate) series: Vec<String>,
    /// `(column, value)`: keep only rows where the column has this value.
    pub(crate) filters: Vec<(String, String)>,
    /// Title; a default names the scenario and the replications.
    pub(crate) title: Option<String>,
}

/// Resolves a column name or alias to its index.
pub(crate) fn column(t: &Table, name: &str) -> Result<usize, String> {
    let alias = match name {
        "delay" => "delay_ms",
        "startup" | "mean" => "startup_mean_s",
        "exact" => "startup_exact_mean_s",
        "ci95_lo" => "startup_ci95_lo_s",
        "ci95_hi" => "startup_ci95_hi_s",
        "effect" => "delay_effect_mean_s",
        other => other,
    };
    let candidates = [
        alias.to_owned(),
        format!("{alias}_s"),
        format!("startup_{alias}_s"),
        format!("{alias}_ms"),
    ];
    for c in &candidates {
        if let Some(i) = t.columns.iter().position(|x| x == c) {
            return Ok(i);
        }
    }
    // A `--set` axis by a dotted ending of its path (`kube_api_qps`, `kubelet.kube_api_qps`);
    // else one of its columns after the statistics, its paired effect's mean by the axis's
    // ending with `_effect` (`kube_api_qps_effect`) or any such column by its full ending.
    let mut by_ending: Vec<usize> = (0..t.axes)
        .filter(|&i| t.columns[i].ends_with(&format!(".{name}")))
        .collect();
    if by_ending.is_empty() {
        by_ending = (t.axes..t.columns.len())
            .filter(|&i| {
                let c = &t.columns[i];
                c.ends_with(&format!(".{name}")) || c.ends_with(&format!(".{name}_mean_s"))
            })
            .collect();
    }
    if by_ending.len() == 1 {
        return Ok(by_ending[0]);
    }
    if by_ending.len() > 1 {
        let both: Vec<String> = by_ending
            .iter()
            .map(|&i| format!("{} ({})", t.columns[i], short(t, i)))
            .collect();
        return Err(format!(
            "`{name}` names several columns: {}; use the name in brackets",
            both.join(", ")
        ));
    }
    Err(format!(
        "no column `{name}`; columns: {} (aliases: delay, startup, exact, effect, p50, p90, p95, min, max, an axis's last part, and its effect as <last part>_effect)",
        t.columns.join(", ")
    ))
}

/// What a cell's numbers mean: the value and the unit it is in.
pub(crate) fn numeric(v: &Json) -> Option<(f64, Option<&'static str>)> {
    match v {
        Json::Number(n) => n.as_f64().map(|x| (x, None)),
        Json::String(s) => {
            if let Ok(d) = s.parse::<models::units::Dur>() {
                Some((d.get().as_millis_f64(), Some("ms")))
            } else if let Ok(b) = s.parse::<models::units::Bandwidth>() {
                Some((b.bits_per_s / 1e6, Some("Mbit/s")))
            } else if let Some(pct) = s.strip_suffix('%').and_then(|p| p.trim().parse::<f64>().ok()) {
                // A fault axis's loss (`1%`).
                pct.is_finite().then_some((pct, Some("%")))
            } else {
                None
            }
        }
        // A true/false setting is two categories, not a scale: drawn as lines, not along x.
        _ => None,
    }
}

/// A column's axis label with its unit.
pub(crate) fn label(column: &str, unit: Option<&str>) -> String {
    let fixed = match column {
        "pods" => "pods (Deployment replicas)",
        "delay_ms" => "added netem delay (ms)",
        "startup_mean_s" => "start-up until all pods Running, mean (s)",
        "startup_ci95_lo_s" => "start-up, 95 % CI low (s)",
        "startup_ci95_hi_s" => "start-up, 95 % CI high (s)",
        "startup_p50_s" => "start-up, median of replications (s)",
        "startup_p90_s" => "start-up, 90th percentile of replications (s)",
        "startup_p95_s" => "start-up, 95th percentile of replications (s)",
        "startup_min_s" => "start-up, fastest replication (s)",
        "startup_max_s" => "start-up, slowest replication (s)",
        "startup_exact_mean_s" => "start-up, exact (not whole seconds), mean (s)",
        "create_to_schedule_s" => "create → scheduled, mean per pod (s)",
        "schedule_to_run_s" => "scheduled → running, mean per pod (s)",
        "run_to_watch_s" => "running → seen by kubectl, mean per pod (s)",
        "pod_startup_s" => "pod start-up (create → seen running), mean per pod (s)",
        "delay_effect_mean_s" => "delay's effect on start-up vs the smallest delay, paired mean (s)",
        "delay_effect_ci95_lo_s" => "delay's effect, 95 % CI low (s)",
        "delay_effect_ci95_hi_s" => "delay's effect, 95 % CI high (s)",
        "etcd_elections_mean" => "etcd leaders elected after the first, mean (simulated)",
        "etcd_stalled_mean_s" => "etcd: time without writes, mean (s)",
        "reps" => "replications",
        "incomplete" => "replications not finished",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_owned();
    }
    if let Some(axis) = column.strip_suffix("_effect_mean_s") {
        return format!("effect of {axis} on start-up vs its first value, paired mean (s)");
    }
    match (unit, column.strip_suffix("_s")) {
        (Some(u), _) => format!("{column} ({u})"),
        (None, Some(stem)) => format!("{stem} (s)"),
        (None, None) => column.to_owned(),
    }
}

/// Column `i` of `t` as a figure or a message names it: `delay`, `pods`, or a `--set` path's
/// shortest ending that no other axis shares ([`crate::sweep::axes::short_name`]).
fn short(t: &Table, i: usize) -> &str {
    match t.columns[i].as_str() {
        "delay_ms" => "delay",
        other => {
            let axes: Vec<&str> = t.columns[..t.axes].iter().map(String::as_str).collect();
            crate::sweep::axes::short_name(other, &axes)
        }
    }
}

fn show(v: &Json) -> String {
    match v {
        Json::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |x| x.to_string()),
        other => plain(other),
    }
}

fn matches(v: &Json, want: &str) -> bool {
    // An empty value selects the empty cells: a `--set` value "" (Docker Hub for
    // runtime.registry_host) reads back from results.csv as an empty cell.
    if want.is_empty() {
        return v.is_null() || plain(v).is_empty();
    }
    if let (Some((a, _)), Some((b, _))) = (numeric(v), numeric(&parse_value(want))) {
        return a == b;
    }
    plain(v) == want
}

fn parse_value(s: &str) -> Json {
    s.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| Json::String(s.to_owned()), Json::Number)
}

/// Rows of a figure's selection that it does not draw ([`left_out_note`] says so).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LeftOut {
    /// Rows without a finite number in the y column (a paired effect without its pair, a
    /// point none of whose replications finished, a value that is not a number).
    pub(crate) without_y: usize,
    /// Of those, the rows whose y cell holds something other than a number or nothing (`abc`,
    /// `NaN`), which no sweep writes: where each is (`line 3`) and what it holds.
    pub(crate) not_numbers: Vec<(String, String)>,
    /// Rows whose replications did not all finish: a statistic over the others would leave the
    /// slowest out and understate the start-up (a review found a 2-of-10 point drawn below the
    /// points without delay).
    pub(crate) unfinished: usize,
}

/// The figure `req` asks for, and the selected rows it leaves out (the caller says so).
pub(crate) fn figure(t: &Table, req: &PlotRequest) -> Result<(Figure, LeftOut), String> {
    let sel = Selection::resolve(t, req)?;
    let band = ci_columns(t, sel.y);
    let rows = selected_rows(t, &sel.filters)?;
    check_one_value_per_axis(t, &rows, &sel)?;
    let lines = read_lines(t, &rows, &sel, band)?;
    let series = sorted_lines(lines.series)?;
    if series.iter().all(|s| s.points.is_empty()) {
        let incomplete = t.columns.iter().position(|c| c == "incomplete");
        let unfinished = |r: &&Vec<serde_json::Value>| incomplete.is_some_and(|i| r[i].as_u64().is_some_and(|n| n > 0));
        if sel.y >= t.axes && !rows.is_empty() && rows.iter().all(unfinished) {
            return Err(format!(
                "column {} has no values to plot: in every selected point ({}) some replications did not finish \
                 within workload.timeout (the `incomplete` column), and plot leaves such points out",
                t.columns[sel.y],
                rows.len()
            ));
        }
        if t.columns[sel.y].starts_with("delay_effect") {
            let delay = t.columns.iter().position(|c| c == "delay_ms");
            let delays: std::collections::BTreeSet<String> =
                delay.map_or_else(Default::default, |d| t.rows.iter().map(|r| r[d].to_string()).collect());
            // A shard's JSON names the sweep's delays; its CSV, only its own rows'.
            let sweep_delays = t.sweep.as_ref().map(|f| f.spec.delay.len());
            if sweep_delays.is_some_and(|n| n > 1) {
                return Err(format!(
                    "column {} has no values to plot: the delay's effect is paired against the sweep's smallest delay, whose points are not in this file (a shard's); merge the shards to draw it",
                    t.columns[sel.y]
                ));
            }
            if delays.len() < 2 {
                return Err(format!(
                    "column {} has no values to plot: the delay's effect is paired against the sweep's smallest delay, and {} one delay; sweep two delays or more (--delay) to draw it, or merge the shards",
                    t.columns[sel.y],
                    if sweep_delays.is_some() { "the sweep has" } else { "this file has" }
                ));
            }
        }
        let why = if t.columns[sel.y].starts_with("etcd_") {
            ": etcd's elections are simulated only in a run with a fault or unsteady round trips between the masters (loss, jitter), and no selected point had one"
        } else if rows.iter().all(|r| r[sel.y].is_null()) {
            ": it is empty in every selected row"
        } else {
            ""
        };
        return Err(format!("column {} has no values to plot{why}", t.columns[sel.y]));
    }
    let title = req
        .title
        .clone()
        .unwrap_or_else(|| default_title(t, &rows, band.is_some(), &sel.filters));
    Ok((
        Figure {
            title,
            x_label: label(&t.columns[sel.x], lines.x_unit),
            y_label: label(&t.columns[sel.y], lines.y_unit),
            series,
        },
        lines.left_out,
    ))
}

/// The columns a [`PlotRequest`] names, as indices into the table.
struct Selection<'r> {
    /// x column.
    x: usize,
    /// y column.
    y: usize,
    /// Columns whose values make one line each.
    series: Vec<usize>,
    /// `(column, value)`: rows kept.
    filters: Vec<(usize, &'r str)>,
}

impl<'r> Selection<'r> {
    /// Resolves `req`'s columns in `t`: x, y, the series columns, then the `--where` columns.
    fn resolve(t: &Table, req: &'r PlotRequest) -> Result<Self, String> {
        let x = column(t, &req.x)?;
        let y = column(t, &req.y)?;
        let series: Vec<usize> = req.series.iter().map(|s| column(t, s)).collect::<Result<_, _>>()?;
        let filters: Vec<(usize, &str)> = req
            .filters
            .iter()
            .map(|(c, v)| column(t, c).map(|i| (i, v.as_str())))
            .collect::<Result<_, _>>()?;
        Ok(Selection { x, y, series, filters })
    }
}

/// The 95 % CI columns of a `<stem>_mean_s` column `y` (`<stem>_ci95_lo_s`, `<stem>_ci95_hi_s`),
/// if `y` is one and the table has both.
fn ci_columns(t: &Table, y: usize) -> Option<(usize, usize)> {
    t.columns[y].strip_suffix("_mean_s").and_then(|stem| {
        let lo = t.columns.iter().position(|c| *c == format!("{stem}_ci95_lo_s"))?;
        let hi = t.columns.iter().position(|c| *c == format!("{stem}_ci95_hi_s"))?;
        Some((lo, hi))
    })
}

/// The rows that pass every `--where` filter.
///
/// # Errors
///
/// When the table has no data rows, or no row passes.
fn selected_rows<'t>(t: &'t Table, filters: &[(usize, &str)]) -> Result<Vec<&'t Vec<Json>>, String> {
    let rows: Vec<&Vec<Json>> = t
        .rows
        .iter()
        .filter(|r| filters.iter().all(|&(i, v)| matches(&r[i], v)))
        .collect();
    if t.rows.is_empty() {
        return Err("the table has no data rows, only its header: nothing to plot".to_owned());
    }
    if rows.is_empty() {
        // Each --where that no row passes, with the values its column has.
        let unmatched: Vec<String> = filters
            .iter()
            .filter(|&&(i, v)| !t.rows.iter().any(|r| matches(&r[i], v)))
            .map(|&(i, v)| {
                let mut values: Vec<String> = Vec::new();
                for r in &t.rows {
                    let shown = show(&r[i]);
                    if !values.contains(&shown) {
                        values.push(shown);
                    }
                }
                let more = values.len().saturating_sub(20);
                values.truncate(20);
                let values: Vec<String> = values
                    .into_iter()
                    .map(|v| if v.is_empty() { "(empty)".to_owned() } else { v })
                    .collect();
                format!(
                    "{}={v} matches no row ({} has {}{})",
                    short(t, i),
                    short(t, i),
                    values.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        return Err(format!(
            "no row is left to plot: the {} rows all fail --where{}",
            t.rows.len(),
            if unmatched.is_empty() {
                " taken together (each value is in some row, but not in the same one)".to_owned()
            } else {
                format!(": {}", unmatched.join("; "))
            }
        ));
    }
    Ok(rows)
}

/// Checks that every sweep axis that is neither the x axis, nor a series column, nor filtered
/// has one value in `rows`: else points of different settings would be drawn as one line.
fn check_one_value_per_axis(t: &Table, rows: &[&Vec<Json>], sel: &Selection<'_>) -> Result<(), String> {
    // An axis's numeric column (`<path>_ms`, `_mbit_s`, `_pct`, after the statistics) stands for
    // the axis itself: drawn along it, the axis's text column varies with it.
    let stands_for = |i: usize, j: usize| {
        super::results::TYPED_SUFFIXES
            .iter()
            .any(|(_, suffix)| t.columns[j] == format!("{}_{suffix}", t.columns[i]))
    };
    for i in 0..t.axes {
        // The y column is the value drawn: that it varies is what the figure shows.
        if i == sel.x
            || i == sel.y
            || (sel.x >= t.axes && stands_for(i, sel.x))
            || sel.series.contains(&i)
            || sel.filters.iter().any(|f| f.0 == i)
        {
            continue;
        }
        let mut distinct: Vec<String> = Vec::new();
        for r in rows {
            let v = show(&r[i]);
            if !distinct.contains(&v) {
                distinct.push(v);
            }
        }
        if distinct.len() > 1 {
            let c = &t.columns[i];
            return Err(format!(
                "column {c} has several values ({}): add it to --series, or keep one with --where {}={}",
                distinct.join(", "),
                short(t, i),
                distinct[0]
            ));
        }
    }
    Ok(())
}

/// The lines as read from the rows, before their points are sorted.
struct Lines {
    /// One per distinct value of the series columns, in order of first appearance.
    series: Vec<Series>,
    /// Unit of the x values, from the first cell that has one.
    x_unit: Option<&'static str>,
    /// Unit of the y values, from the first cell that has one.
    y_unit: Option<&'static str>,
    /// Rows left out.
    left_out: LeftOut,
}

/// Reads one point per row into the line of its series columns' values; `band` gives the CI
/// columns, if any.
///
/// # Errors
///
/// When an x cell is not numeric.
fn read_lines(
    t: &Table,
    rows: &[&Vec<Json>],
    sel: &Selection<'_>,
    band: Option<(usize, usize)>,
) -> Result<Lines, String> {
    let (xi, yi, si) = (sel.x, sel.y, &sel.series);
    let mut x_unit = None;
    let mut y_unit = None;
    let mut series: Vec<(Vec<String>, Series)> = Vec::new();
    let mut left_out = LeftOut::default();
    // A statistic over the replications (not an axis) of a point some of whose replications
    // did not finish is not drawn.
    let incomplete = t
        .columns
        .iter()
        .position(|c| c == "incomplete")
        .filter(|_| yi >= t.axes);
    for r in rows {
        let Some((x, xu)) = numeric(&r[xi]) else {
            let shown = show(&r[xi]);
            return Err(format!(
                "column {} is not numeric (it holds {}), so it cannot be the x axis: draw one line per value with --series {} and another column as --x",
                t.columns[xi],
                if shown.is_empty() { "an empty value".to_owned() } else { format!("`{shown}`") },
                short(t, xi)
            ));
        };
        x_unit = x_unit.or(xu);
        let Some((y, yu)) = numeric(&r[yi]).filter(|(y, _)| y.is_finite()) else {
            left_out.without_y += 1;
            if !r[yi].is_null() {
                let at = t.rows.iter().position(|row| std::ptr::eq(row, *r));
                let line = at.and_then(|i| t.lines.get(i)).cloned().unwrap_or_default();
                left_out.not_numbers.push((line, show(&r[yi])));
            }
            continue;
        };
        if incomplete.is_some_and(|i| r[i].as_u64().is_some_and(|n| n > 0)) {
            left_out.unfinished += 1;
            continue;
        }
        y_unit = y_unit.or(yu);
        let ci = band.and_then(|(lo, hi)| Some((r[lo].as_f64()?, r[hi].as_f64()?)));
        let key: Vec<String> = si.iter().map(|&i| show(&r[i])).collect();
        let idx = match series.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let label = line_label(t, sel, &key);
                series.push((
                    key,
                    Series {
                        label,
                        points: Vec::new(),
                        measured: Vec::new(),
                    },
                ));
                series.len() - 1
            }
        };
        series[idx].1.points.push(Point { x, y, ci });
    }
    let mut series: Vec<Series> = series.into_iter().map(|(_, s)| s).collect();
    // Durations are read in milliseconds; an x axis of whole seconds and more (a fault's repair
    // at 60,000 ms) reads better in seconds.
    if x_unit == Some("ms") && series.iter().flat_map(|s| &s.points).all(|p| p.x >= 1000.0) {
        series
            .iter_mut()
            .flat_map(|s| &mut s.points)
            .for_each(|p| p.x /= 1000.0);
        x_unit = Some("s");
    }
    Ok(Lines {
        series,
        x_unit,
        y_unit,
        left_out,
    })
}

/// A line's legend label: its series columns' values (`pods = 20, delay = 250`), or the y
/// column's label when there is one line.
fn line_label(t: &Table, sel: &Selection<'_>, key: &[String]) -> String {
    if sel.series.is_empty() {
        label(&t.columns[sel.y], None)
    } else {
        sel.series
            .iter()
            .zip(key)
            .map(|(&i, v)| {
                // The delay column's values are milliseconds; `--set` values carry their unit.
                let unit = if t.columns[i] == "delay_ms" { " ms" } else { "" };
                format!("{} = {v}{unit}", short(t, i))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `lines` with their points in x order.
///
/// # Errors
///
/// When a line has two points at the same x.
fn sorted_lines(mut lines: Vec<Series>) -> Result<Vec<Series>, String> {
    for s in &mut lines {
        s.points.sort_by(|a, b| a.x.total_cmp(&b.x));
        if s.points.windows(2).any(|w| w[0].x == w[1].x) {
            return Err(format!(
                "line {} has two points at the same x: add the column that tells them apart to --series",
                s.label
            ));
        }
    }
    Ok(lines)
}

/// The title when the request gives none: the scenario, the `--where` selection, and the
/// replications per point when all `rows` have the same number (with the band, if drawn).
fn default_title(t: &Table, rows: &[&Vec<Json>], band: bool, filters: &[(usize, &str)]) -> String {
    let name = t.sweep.as_ref().map_or("kubetwin sweep", |s| s.spec.scenario.as_str());
    let selection: Vec<String> = filters
        .iter()
        .map(|&(i, v)| match t.columns[i].as_str() {
            "delay_ms" => format!("delay {v} ms"),
            _ if v.is_empty() => format!("{} empty", short(t, i)),
            _ => format!("{} = {v}", short(t, i)),
        })
        .collect();
    let scenario = if selection.is_empty() {
        name.to_owned()
    } else {
        format!("{name} ({})", selection.join(", "))
    };
    let reps = t.columns.iter().position(|c| c == "reps").and_then(|i| {
        let first = rows[0][i].as_u64()?;
        rows.iter().all(|r| r[i].as_u64() == Some(first)).then_some(first)
    });
    match (band, reps) {
        // One replication has no interval, so no band.
        (_, Some(1)) => format!("{scenario}: 1 replication per point"),
        (true, Some(n)) => format!("{scenario}: mean of {n} replications with 95 % confidence band"),
        (false, Some(n)) => format!("{scenario}: {n} replications per point"),
        _ => scenario,
    }
}

/// What to tell the user about rows [`figure`] left out, if any.
pub(crate) fn left_out_note(left_out: LeftOut, y: &str) -> Option<String> {
    let rows = |n: usize| {
        if n == 1 {
            "1 row".to_owned()
        } else {
            format!("{n} rows")
        }
    };
    let are = |n: usize| if n == 1 { "is" } else { "are" };
    let mut notes = Vec::new();
    let without_y = left_out.without_y;
    if without_y > 0 {
        notes.push(format!(
            "note: {} without a number in column {y} ({}) {} not drawn",
            rows(without_y),
            if y == "effect" || y.starts_with("delay_effect") {
                "points with a replication that did not finish at their delay or at the smallest, or whose point at the smallest delay is in another shard"
            } else {
                "points whose replications did not finish, or values that are not numbers"
            },
            are(without_y),
        ));
        if !left_out.not_numbers.is_empty() {
            let cells: Vec<String> = left_out
                .not_numbers
                .iter()
                .map(|(line, value)| format!("{line} holds {value:?}"))
                .collect();
            notes.push(format!(
                "note: not a number in column {y}, where a sweep writes a number or nothing: {}",
                cells.join(", ")
            ));
        }
    }
    let unfinished = left_out.unfinished;
    if unfinished > 0 {
        notes.push(format!(
            "note: {} {} not drawn: some replications of {} did not finish within workload.timeout, and a \
             figure over the others would leave the slowest out (the results' `incomplete` column counts \
             them; lengthen the timeout with --set workload.timeout=...)",
            rows(unfinished),
            are(unfinished),
            if unfinished == 1 { "its point" } else { "their points" },
        ));
    }
    (!notes.is_empty()).then(|| notes.join("\n"))
}
