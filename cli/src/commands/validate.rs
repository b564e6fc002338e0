//! `kubetwin validate`: measured against simulated pod start-up, cell by cell.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use models::spec::Scenario;
use serde_json::json;
use validate::compare::{compare, Comparison};
use validate::dataset::{read_cells, read_raw, summarize, MeasuredCell, RawPodRow};
use validate::phases::{clocks_behind, compare_phases, ClockBehind, PhaseComparison};

use topologies::check::Size;

use crate::output::UsageError;

/// Arguments of `kubetwin validate`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("measured").args(["data", "raw"]).required(true).multiple(true)))]
#[command(
    after_help = "For each cell: the simulated mean with the 95 % CI of that mean, the error, and the 95 % prediction interval (PI) of a mean of as many runs as the cell's `runs` column: a measured mean outside its PI differs from the model by more than that measurement's noise. With --reps 1 there is no CI or PI: the table says n/a, and the JSON gives null for ci95, pi95, measured_in_ci and measured_in_pi.\n\nExample:\n  kubetwin validate --data ../shared/data/thesis-2019/pod-startup-calibration.csv --scenario thesis-2019 --format json"
)]
pub(crate) struct ValidateArgs {
    /// Measured cells: CSV with columns pods,delay_ms,mean_s,runs,resolution_s and optionally
    /// observed (kubectl-watch, the default, or container-start); `#` comments.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Raw per-pod measurements as `kubetwin measure` writes them: adds a phase-by-phase
    /// comparison (scheduling, watch to the kubelet, on the node), and gives the cells when
    /// `--data` is not given.
    #[arg(long)]
    raw: Option<PathBuf>,
    /// A built-in scenario name or a scenario TOML file.
    #[arg(long)]
    scenario: String,
    /// Parameter file laid over the scenario (default: the built-in scenario's shipped
    /// calibration, if any).
    #[arg(long)]
    params: Option<PathBuf>,
    /// Replications per cell.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    reps: u32,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also draw measured (crosses) against simulated (lines, with bands or bars where a measured
    /// mean should fall: the 95 % prediction interval) start-up as SVG.
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    /// A table.
    Table,
    /// One JSON object.
    Json,
}

/// Refuses, before anything is simulated, a measured cell at a delay the scenario's netem cannot
/// apply (no route of the cluster's traffic crosses it), or with more pods than the scenario's
/// workers hold (it would only time out), naming the data file and the cell.
pub(crate) fn cells_fit(scenario: &Scenario, cells: &[MeasuredCell], data: &Path) -> Result<(), UsageError> {
    // A measured delay the scenario's netem cannot apply would be compared with a run without
    // it (a scenario of one site, or without the VPN).
    if let Some(c) = cells.iter().find(|c| c.delay_ms > 0) {
        let delayed = models::cluster::with_overrides(
            scenario,
            None,
            Some(sim_core::SimDuration::from_millis(u64::from(c.delay_ms))),
        );
        if topologies::check::netem_on_no_route(&delayed) {
            return Err(UsageError(format!(
                "{}: the cell of {} pods at {} ms cannot be simulated on scenario {}: {}",
                data.display(),
                c.pods,
                c.delay_ms,
                scenario.name,
                topologies::check::no_route_message(&delayed)
            )));
        }
    }
    for c in cells {
        if let Some(f) =
            topologies::check::workload_fits(&models::cluster::with_overrides(scenario, Some(c.pods), None))
        {
            return Err(UsageError(format!(
                "{}: the cell of {} pods at {} ms cannot run on scenario {}: `{}`: {}",
                data.display(),
                c.pods,
                c.delay_ms,
                scenario.name,
                f.field,
                f.message
            )));
        }
    }
    Ok(())
}

/// Refuses a cell of the raw rows (their pods and delay) that cannot run on `scenario`, naming
/// the raw file, as [`cells_fit`] does for the summarized cells.
fn raw_cells_fit(scenario: &Scenario, rows: &[RawPodRow], raw: &Path) -> Result<(), UsageError> {
    let mut cells: Vec<(u32, u32)> = rows.iter().map(|r| (r.pods, r.delay_ms)).collect();
    cells.sort_unstable();
    cells.dedup();
    for (pods, delay_ms) in cells {
        if let Some(f) = topologies::check::workload_fits(&models::cluster::with_overrides(scenario, Some(pods), None))
        {
            return Err(UsageError(format!(
                "{}: the raw rows' cell of {pods} pods at {delay_ms} ms cannot run on scenario {}: `{}`: {}",
                raw.display(),
                scenario.name,
                f.field,
                f.message
            )));
        }
    }
    Ok(())
}

/// Runs `kubetwin validate`.
pub(crate) fn cmd(a: ValidateArgs) -> anyhow::Result<()> {
    if let Some(plot) = &a.plot {
        check_plot_path(&a, plot)?;
    }
    let raw = match &a.raw {
        Some(path) => Some(read_raw(path).map_err(|e| crate::output::InputError(e.to_string()))?),
        None => None,
    };
    let (cells, data_path) = measured_cells(&a, raw.as_deref())?;
    if let (Some(rows), Some(data)) = (&raw, &a.data) {
        warn_if_raw_disagrees(&cells, data, rows, a.raw.as_deref().unwrap_or(Path::new("--raw")));
    }
    // The cells' sizes, not the file's, are run: cells_fit judges them (the file's only if a
    // cell has it).
    let sizes: Vec<u32> = cells.iter().map(|c| c.pods).collect();
    let (scenario, origin) = crate::scenario::resolve(&a.scenario, a.params.as_deref(), Size::Given(&sizes))?;
    cells_fit(&scenario, &cells, data_path)?;
    if let (Some(rows), Some(raw_path), Some(_)) = (&raw, &a.raw, &a.data) {
        // With --data, the raw rows' cells are simulated for the phases alone, and may be
        // others than the data's: judged too.
        raw_cells_fit(&scenario, rows, raw_path)?;
    }
    if a.data.is_some() {
        warn_of_impossible_means(&cells, data_path);
    }
    let cmp = compare_cells(&scenario, &cells, a.reps, a.seed)
        .with_context(|| format!("{}: a measured cell cannot be simulated", data_path.display()))?;
    let phases = match &raw {
        Some(rows) => Some(compare_phases(&scenario, rows, a.reps, a.seed)?),
        None => None,
    };
    let behind = raw.as_deref().map(clocks_behind);
    for node in behind.iter().flatten() {
        eprintln!("warning: {node}");
    }
    if let Some(path) = &a.plot {
        write_plot(&scenario, &cmp, path)?;
    }
    let validation = Validation {
        args: &a,
        scenario: &scenario,
        origin: &origin,
        data_path,
        cmp,
        phases,
        behind,
    };
    match a.format {
        Format::Json => validation.print_json(),
        Format::Table => validation.print_table(),
    }
    Ok(())
}

/// Warns when the raw rows of `--raw` (`raw`) do not summarize to `--data`'s cells: the phases
/// would then compare other measurements than the cells (a summary and the raw file of two
/// different measurements).
fn warn_if_raw_disagrees(cells: &[MeasuredCell], data: &Path, rows: &[RawPodRow], raw: &Path) {
    let from_raw = match summarize(rows) {
        Ok(cells) => cells,
        Err(e) => {
            eprintln!(
                "warning: {}: {e}; it cannot be checked against {}",
                raw.display(),
                data.display()
            );
            return;
        }
    };
    for d in validate::dataset::raw_disagreements(cells, &from_raw) {
        eprintln!(
            "warning: {} does not match {}: {d}; the phase comparison uses the raw rows",
            raw.display(),
            data.display()
        );
    }
}

/// Refuses a `--plot` path that is one of the inputs or cannot be written.
fn check_plot_path(a: &ValidateArgs, plot: &Path) -> Result<(), UsageError> {
    let mut inputs: Vec<(&str, &Path)> = vec![("--scenario", Path::new(&a.scenario))];
    inputs.extend(a.data.as_deref().map(|p| ("--data", p)));
    inputs.extend(a.raw.as_deref().map(|p| ("--raw", p)));
    inputs.extend(a.params.as_deref().map(|p| ("--params", p)));
    crate::output::check_not_an_input("--plot", plot, &inputs)?;
    // Before the cells are simulated, not after: a bad path used to lose the comparison.
    crate::output::check_figure_file("--plot", plot, "validation.svg")?;
    Ok(())
}

/// Warns of the cells of `path` whose mean no mean of their runs at their resolution can be
/// ([`validate::dataset::impossible_means`]).
pub(crate) fn warn_of_impossible_means(cells: &[MeasuredCell], path: &Path) {
    for w in validate::dataset::impossible_means(cells) {
        eprintln!("warning: {}: {w}", path.display());
    }
}

/// The measured cells and the file they come from: `--data`'s, or else those summarized from
/// `raw`, the rows of `--raw`.
fn measured_cells<'a>(
    a: &'a ValidateArgs,
    raw: Option<&[RawPodRow]>,
) -> anyhow::Result<(Vec<MeasuredCell>, &'a PathBuf)> {
    Ok(match (&a.data, raw) {
        (Some(path), _) => (
            read_cells(path).map_err(|e| crate::output::InputError(e.to_string()))?,
            path,
        ),
        (None, Some(rows)) => {
            let raw = a.raw.as_ref().expect("raw rows come from --raw");
            let refused =
                |e: validate::dataset::DatasetError| crate::output::InputError(format!("{}: {e}", raw.display()));
            let cells = summarize(rows).map_err(refused)?;
            validate::dataset::check_resolved(&cells, rows).map_err(refused)?;
            (cells, raw)
        }
        (None, None) => return Err(UsageError("give --data or --raw".into()).into()),
    })
}

/// Simulates `cells` and compares them with their measurements, the start-up intervals as they
/// are shown.
fn compare_cells(scenario: &Scenario, cells: &[MeasuredCell], reps: u32, seed: u64) -> anyhow::Result<Comparison> {
    let mut cmp = compare(scenario, cells, reps, seed)?;
    // What is shown of the start-up intervals has its lower bound clamped at 0 s (the verdicts
    // and the shape's half-widths were computed from the symmetric intervals).
    for c in &mut cmp.cells {
        c.ci95 = c.ci95.map(crate::output::startup_interval);
        c.pi95 = c.pi95.map(crate::output::startup_interval);
    }
    Ok(cmp)
}

/// Draws `--plot`: measured (crosses) against simulated start-up (lines, with the bands where a
/// measured mean should fall), one series per pod count.
fn write_plot(scenario: &Scenario, cmp: &Comparison, path: &Path) -> anyhow::Result<()> {
    let mut pods: Vec<u32> = cmp.cells.iter().map(|c| c.pods).collect();
    pods.sort_unstable();
    pods.dedup();
    let series = pods
        .iter()
        .map(|&p| {
            let mut row: Vec<_> = cmp.cells.iter().filter(|c| c.pods == p).collect();
            row.sort_by_key(|c| c.delay_ms);
            // The band is where a measured mean of the cell's runs should fall if the model is
            // right (the prediction interval), what the markers are held to; one replication
            // gives none.
            let band = if row.iter().any(|c| c.pi95.or(c.ci95).is_some()) {
                " (band: 95 % PI of a measured mean)"
            } else {
                ""
            };
            crate::plot::Series {
                label: format!("{p} pods: simulated{band}; x measured"),
                points: row
                    .iter()
                    .map(|c| crate::plot::Point {
                        x: f64::from(c.delay_ms),
                        y: c.simulated_s,
                        ci: c.pi95.or(c.ci95),
                    })
                    .collect(),
                measured: row.iter().map(|c| (f64::from(c.delay_ms), c.measured_s)).collect(),
            }
        })
        .collect();
    let fig = crate::plot::Figure {
        title: format!("{}: pod start-up, measured vs simulated", scenario.name),
        x_label: "added one-way delay (ms)".into(),
        y_label: "time until all pods Running (s)".into(),
        series,
    };
    crate::plot::write_svg(&fig, path)?;
    Ok(())
}

/// What `validate` reports: the command line, the scenario, the data, and the comparisons.
struct Validation<'a> {
    /// The command line.
    args: &'a ValidateArgs,
    /// The scenario simulated.
    scenario: &'a Scenario,
    /// Where the scenario came from (built-in, file, parameter file).
    origin: &'a str,
    /// The file the measured cells come from.
    data_path: &'a Path,
    /// Measured against simulated start-up, cell by cell.
    cmp: Comparison,
    /// Measured against simulated phases, with `--raw`.
    phases: Option<Vec<PhaseComparison>>,
    /// The nodes whose clocks are behind the control plane's, with `--raw`.
    behind: Option<Vec<ClockBehind>>,
}

impl Validation<'_> {
    /// `--format json`: one JSON object.
    fn print_json(&self) {
        let (a, scenario, cmp) = (self.args, self.scenario, &self.cmp);
        let cells: Vec<_> = cmp
            .cells
            .iter()
            .map(|c| {
                json!({"pods": c.pods, "delay_ms": c.delay_ms, "measured_s": c.measured_s,
                    "simulated_s": c.simulated_s, "ci95": c.ci95.map(|(l, h)| vec![l, h]),
                    "error_pct": c.error_pct, "measured_in_ci": c.measured_in_ci,
                    "pi95": c.pi95.map(|(l, h)| vec![l, h]), "measured_in_pi": c.measured_in_pi,
                    "runs": c.runs, "observed": c.observed})
            })
            .collect();
        let v = json!({
            "scenario": scenario.name,
            "source": self.origin,
            "data": self.data_path.display().to_string(),
            "reps": a.reps,
            "seed": a.seed,
            "placement": scenario.netem.placement,
            "cells": cells,
            "mape_pct": cmp.mape_pct,
            "max_abs_error_pct": cmp.max_abs_error_pct,
            "shape": cmp.shape,
            "phases": self.phases,
            "clocks_behind": self.behind,
        });
        println!("{v}");
    }

    /// `--format table`: the cells, the errors, the shape of the delay effect, and with `--raw`
    /// the phases.
    fn print_table(&self) {
        let (a, scenario, cmp) = (self.args, self.scenario, &self.cmp);
        println!(
            "{} ({}) vs {}: {} per cell, seed {}",
            scenario.name,
            self.origin,
            self.data_path.display(),
            crate::output::count(a.reps as usize, "replication"),
            a.seed
        );
        print_cells(cmp);
        println!("MAPE {:.2} %, max |error| {:.2} %", cmp.mape_pct, cmp.max_abs_error_pct);
        print_shape(cmp);
        if let Some(phases) = &self.phases {
            print_phases(phases);
        }
    }
}

/// A measured mean as the data file gives it: one decimal, or as many as it has up to three
/// (15.88, not 15.9; 0.001, not 0.0); a mean of millisecond readings that needs more (three
/// runs: 0.45766…) to three, the resolution of its readings.
fn as_measured(x: f64) -> String {
    (1..=3)
        .map(|d| format!("{x:.d$}"))
        .find(|s| s.parse::<f64>() == Ok(x))
        .unwrap_or_else(|| format!("{x:.3}"))
}

/// The table of cells: measured and simulated start-up, its intervals and error.
fn print_cells(cmp: &Comparison) {
    println!(
        "{:>5} {:>9} {:>11} {:>12} {:>16} {:>8} {:>14}",
        "pods", "delay ms", "measured s", "simulated s", "95% CI", "error %", "95% PI"
    );
    let interval = |i: Option<(f64, f64)>| i.map_or("n/a".to_owned(), |(l, h)| format!("[{l:.1}, {h:.1}]"));
    for c in &cmp.cells {
        println!(
            "{:>5} {:>9} {:>11} {:>12.1} {:>16} {:>+8.1} {:>14} ({}){}",
            c.pods,
            c.delay_ms,
            as_measured(c.measured_s),
            c.simulated_s,
            interval(c.ci95),
            c.error_pct,
            interval(c.pi95),
            crate::output::count(c.runs as usize, "run"),
            match c.measured_in_pi {
                Some(true) => "",
                Some(false) => "  measured mean outside: more than its noise",
                None => "  inside or outside: n/a (needs 2 replications)",
            }
        );
        if c.observed != "kubectl-watch" {
            println!("{:>16} (observed: {}; simulated alike)", "", c.observed);
        }
    }
    println!("(CI: of the simulated mean; PI: where a mean of the measurement's runs falls if the model is right)");
}

/// Whether the delay effect has the measured shape (small at few pods, larger at many), and
/// whether the measured and simulated contrasts agree within the noise.
fn print_shape(cmp: &Comparison) {
    let s = &cmp.shape;
    let f = |v: Option<f64>| v.map_or("n/a".to_owned(), |x| format!("{x:+.1} s"));
    if let Some(lack) = s.untestable_because() {
        // One line: the four-cell comparison cannot be made; a delay effect the cells do give
        // is still worth seeing.
        // Each count's effect the cells give, with the delays it spans (the shared pair, else
        // that count's own smallest and largest).
        let span = |delays: &[u32]| {
            s.delays_ms
                .or_else(|| Some((*delays.first()?, *delays.last()?)))
                .map_or(String::new(), |(lo, hi)| format!(" ({lo} to {hi} ms)"))
        };
        let effect: String = [
            (
                s.few_pods,
                &s.delays_at_few_ms,
                s.measured_delta_few_s,
                s.simulated_delta_few_s,
            ),
            (
                s.many_pods,
                &s.delays_at_many_ms,
                s.measured_delta_many_s,
                s.simulated_delta_many_s,
            ),
        ]
        .into_iter()
        .filter(|(_, _, m, _)| m.is_some())
        .map(|(pods, delays, m, sim)| {
            format!(
                "; delay effect at {pods} pods{} measured {} simulated {}",
                span(delays),
                f(m),
                f(sim)
            )
        })
        .collect();
        println!(
            "shape: not testable with these cells: it compares the delay effect (start-up at the largest delay both pod counts share less at the smallest) at the fewest and the most pods, so it needs the same two delays at both, observed alike, and {lack}{effect}"
        );
        return;
    }
    // The simulated contrast (the delay effect at the most pods less that at the fewest) with
    // its 95 % CI's half-width; the verdict says whether it is resolved.
    let contrast = s
        .simulated_delta_many_s
        .zip(s.simulated_delta_few_s)
        .map(|(m, f)| m - f);
    println!(
        "shape: delay effect{} at {} pods measured {} simulated {}; at {} pods measured {} simulated {} (simulated contrast {} ± {}, 95 % CI{}) -> {}",
        s.delays_ms.map_or(String::new(), |(lo, hi)| format!(" from {lo} to {hi} ms")),
        s.few_pods,
        f(s.measured_delta_few_s),
        f(s.simulated_delta_few_s),
        s.many_pods,
        f(s.measured_delta_many_s),
        f(s.simulated_delta_many_s),
        f(contrast),
        s.simulated_contrast_half_width_s
            .map_or("n/a".to_owned(), |h| format!("{h:.1} s")),
        if s.paired { ", paired replications" } else { "" },
        // The cells give both delay effects here, so no verdict means no interval: one
        // replication.
        match s.holds {
            Some(true) => "holds",
            Some(false) => "does NOT hold",
            None => "not testable with one replication (give --reps 2 or more)",
        }
    );
    if let (Some(ok), Some(h)) = (s.contrast_within_noise, s.measured_contrast_half_width_s) {
        println!(
            "delay effect, measured vs simulated contrast: {} within the measurements' noise (±{h:.1} s)",
            if ok { "agree" } else { "do NOT agree" }
        );
    }
}

/// The phase table: per cell, measured and simulated mean of each phase.
fn print_phases(phases: &[PhaseComparison]) {
    println!("phases (mean per pod, s; measured / simulated):");
    println!(
        "{:>5} {:>9} {:>17} {:>17} {:>17} {:>12} {:>19}",
        "pods", "delay ms", "scheduling", "watch to kubelet", "on the node", "pods m / s", "watched Running"
    );
    for p in phases {
        let pair = |m: f64, s: f64| format!("{m:.2} / {s:.2}");
        println!(
            "{:>5} {:>9} {:>17} {:>17} {:>17} {:>12} {:>19}",
            p.pods,
            p.delay_ms,
            pair(p.measured.scheduling_s, p.simulated.scheduling_s),
            pair(p.measured.watch_to_kubelet_s, p.simulated.watch_to_kubelet_s),
            pair(p.measured.on_node_s, p.simulated.on_node_s),
            format!("{} / {}", p.measured.pods, p.simulated.pods),
            p.watched_running
                .map_or("-".into(), |w| pair(w.measured_s, w.simulated_s))
        );
    }
    if phases.iter().any(|p| p.watched_running.is_some()) {
        println!(
            "  watched Running: from the create until kubectl's watch first showed the pod Running (the thesis's observation, pod by pod; kubetwin's clock); '-' where a run did not watch every pod"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::as_measured;

    /// A measured mean shows as the data file gives it (a review saw 15.88 as 15.9, 0.001 as 0.0).
    #[test]
    fn a_measured_mean_keeps_its_decimals() {
        assert_eq!(as_measured(24.9), "24.9");
        assert_eq!(as_measured(141.0), "141.0");
        assert_eq!(as_measured(15.88), "15.88");
        assert_eq!(as_measured(0.001), "0.001");
        // A mean of three runs read to the millisecond (`measure`'s watch) stays in its column.
        assert_eq!(as_measured(1.373 / 3.0), "0.458");
    }
}
