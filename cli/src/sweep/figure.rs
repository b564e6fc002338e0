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
    let by_last: Vec<usize> = (0..t.axes)
        .filter(|&i| t.columns[i].rsplit('.').next() == Some(name))
        .collect();
    if by_last.len() == 1 {
        return Ok(by_last[0]);
    }
    Err(format!(
        "no column `{name}`; columns: {} (aliases: delay, startup, exact, effect, p50, p90, p95, min, max)",
        t.columns.join(", ")
    ))
}

/// What a cell's numbers mean: the value and the unit it is in.
fn numeric(v: &Json) -> Option<(f64, Option<&'static str>)> {
    match v {
        Json::Number(n) => n.as_f64().map(|x| (x, None)),
        Json::String(s) => {
            if let Ok(d) = s.parse::<models::units::Dur>() {
                Some((d.get().as_millis_f64(), Some("ms")))
            } else if let Ok(b) = s.parse::<models::units::Bandwidth>() {
                Some((b.bits_per_s / 1e6, Some("Mbit/s")))
            } else {
                None
            }
        }
        Json::Bool(b) => Some((f64::from(u8::from(*b)), None)),
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
    match (unit, column.strip_suffix("_s")) {
        (Some(u), _) => format!("{column} ({u})"),
        (None, Some(stem)) => format!("{stem} (s)"),
        (None, None) => column.to_owned(),
    }
}

fn short(column: &str) -> &str {
    match column {
        "delay_ms" => "delay",
        other => other.rsplit('.').next().unwrap_or(other),
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

/// The figure `req` asks for, and how many of the selected rows have no number in the y
/// column and are left out (unfinished points; the caller says so).
pub(crate) fn figure(t: &Table, req: &PlotRequest) -> Result<(Figure, usize), String> {
    let xi = column(t, &req.x)?;
    let yi = column(t, &req.y)?;
    let si: Vec<usize> = req.series.iter().map(|s| column(t, s)).collect::<Result<_, _>>()?;
    let filters: Vec<(usize, &str)> = req
        .filters
        .iter()
        .map(|(c, v)| column(t, c).map(|i| (i, v.as_str())))
        .collect::<Result<_, _>>()?;
    let band = t.columns[yi].strip_suffix("_mean_s").and_then(|stem| {
        let lo = t.columns.iter().position(|c| *c == format!("{stem}_ci95_lo_s"))?;
        let hi = t.columns.iter().position(|c| *c == format!("{stem}_ci95_hi_s"))?;
        Some((lo, hi))
    });
    let rows: Vec<&Vec<Json>> = t
        .rows
        .iter()
        .filter(|r| filters.iter().all(|&(i, v)| matches(&r[i], v)))
        .collect();
    if t.rows.is_empty() {
        return Err("the table has no data rows, only its header: nothing to plot".to_owned());
    }
    if rows.is_empty() {
        return Err(format!(
            "no row is left to plot: the {} rows all fail --where (check its values)",
            t.rows.len()
        ));
    }
    for i in 0..t.axes {
        if i == xi || si.contains(&i) || filters.iter().any(|f| f.0 == i) {
            continue;
        }
        let mut distinct: Vec<String> = Vec::new();
        for r in &rows {
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
                short(c),
                distinct[0]
            ));
        }
    }
    let mut x_unit = None;
    let mut y_unit = None;
    let mut series: Vec<(Vec<String>, Series)> = Vec::new();
    let mut without_y = 0;
    for r in &rows {
        let Some((x, xu)) = numeric(&r[xi]) else {
            return Err(format!(
                "column {} is not numeric ({}), so it cannot be the x axis",
                t.columns[xi],
                show(&r[xi])
            ));
        };
        x_unit = x_unit.or(xu);
        let Some((y, yu)) = numeric(&r[yi]).filter(|(y, _)| y.is_finite()) else {
            without_y += 1;
            continue;
        };
        y_unit = y_unit.or(yu);
        let ci = band.and_then(|(lo, hi)| Some((r[lo].as_f64()?, r[hi].as_f64()?)));
        let key: Vec<String> = si.iter().map(|&i| show(&r[i])).collect();
        let idx = match series.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let label = if si.is_empty() {
                    label(&t.columns[yi], None)
                } else {
                    si.iter()
                        .zip(&key)
                        .map(|(&i, v)| format!("{} = {v}", short(&t.columns[i])))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
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
    let mut out: Vec<Series> = series.into_iter().map(|(_, s)| s).collect();
    for s in &mut out {
        s.points.sort_by(|a, b| a.x.total_cmp(&b.x));
        if s.points.windows(2).any(|w| w[0].x == w[1].x) {
            return Err(format!(
                "line {} has two points at the same x: add the column that tells them apart to --series",
                s.label
            ));
        }
    }
    if out.iter().all(|s| s.points.is_empty()) {
        return Err(format!("column {} has no values to plot", t.columns[yi]));
    }
    let title = req.title.clone().unwrap_or_else(|| {
        let scenario = t.sweep.as_ref().map_or("kubetwin sweep", |s| s.spec.scenario.as_str());
        let reps = t.columns.iter().position(|c| c == "reps").and_then(|i| {
            let first = rows[0][i].as_u64()?;
            rows.iter().all(|r| r[i].as_u64() == Some(first)).then_some(first)
        });
        match (band, reps) {
            (Some(_), Some(n)) => format!("{scenario}: mean of {n} replications with 95 % confidence band"),
            (None, Some(n)) => format!("{scenario}: {n} replications per point"),
            _ => scenario.to_owned(),
        }
    });
    Ok((
        Figure {
            title,
            x_label: label(&t.columns[xi], x_unit),
            y_label: label(&t.columns[yi], y_unit),
            series: out,
        },
        without_y,
    ))
}

/// What to tell the user about rows [`figure`] left out, if any.
pub(crate) fn left_out_note(without_y: usize, y: &str) -> Option<String> {
    (without_y > 0).then(|| {
        format!(
            "note: {without_y} row{} without a number in column {y} ({}) {} not drawn",
            if without_y == 1 { "" } else { "s" },
            if y == "effect" || y.starts_with("delay_effect") {
                "points with a replication that did not finish at their delay or at the smallest, or whose point at the smallest delay is in another shard"
            } else {
                "points whose replications did not finish, or values that are not numbers"
            },
            if without_y == 1 { "is" } else { "are" }
        )
    })
}
