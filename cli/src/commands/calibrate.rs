//! `kubetwin calibrate`: fit the model's unknown parameters to measured cells.

use std::path::{Path, PathBuf};

use clap::Args;
use models::spec::NetemPlacement;
use validate::calibrate::{calibrate, params_toml, CalibrateOptions, FreeParam, CALIBRATABLE};
use validate::dataset::read_cells;

use crate::output::{write_atomic, UsageError};

/// Arguments of `kubetwin calibrate`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  kubetwin calibrate --data ../shared/data/thesis-2019/pod-startup-calibration.csv --scenario thesis-2019 --out params.toml"
)]
pub(crate) struct CalibrateArgs {
    /// Measured cells: CSV with columns pods,delay_ms,mean_s,runs,resolution_s and optionally
    /// observed (kubectl-watch, the default, or container-start).
    #[arg(long)]
    data: PathBuf,
    /// A built-in scenario name or a scenario TOML file (calibrated from its own defaults, not
    /// from a shipped calibration).
    #[arg(long)]
    scenario: String,
    /// Where to write the fitted parameters (TOML, accepted by run/validate --params).
    #[arg(long)]
    out: PathBuf,
    /// Replications per cell per evaluation (common random numbers across evaluations).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    reps: u32,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Parameters to fit, comma-separated dotted paths (default: runtime.registry_rtt,
    /// runtime.download_bandwidth). Must be fewer than the measured cells.
    #[arg(long, value_delimiter = ',')]
    free: Vec<String>,
    /// Nelder-Mead iterations at most, per fit (at least 1: with none the "fit" would be the
    /// starting values).
    #[arg(long, default_value_t = DEFAULT_MAX_ITERS, value_parser = clap::value_parser!(u64).range(1..))]
    max_iters: u64,
    /// Skip leave-one-cell-out cross-validation.
    #[arg(long)]
    no_cross_validation: bool,
    /// Where the measured delay was injected, if known: masters-egress, workers-egress or both
    /// (comma-separated to compare several). Default: all three, and the best fit wins.
    #[arg(long, value_delimiter = ',', value_parser = parse_placement)]
    placement: Vec<NetemPlacement>,
}

/// The flags beyond data, scenario, output, reps and seed that change what `calibrate` writes,
/// as the file's "Regenerate:" line needs them (`--no-cross-validation` changes only the report).
fn regenerate_flags(a: &CalibrateArgs) -> String {
    let mut flags = String::new();
    if !a.free.is_empty() {
        flags.push_str(&format!(" --free {}", a.free.join(",")));
    }
    if !a.placement.is_empty() {
        let names: Vec<&str> = a.placement.iter().map(|p| p.as_str()).collect();
        flags.push_str(&format!(" --placement {}", names.join(",")));
    }
    if a.max_iters != DEFAULT_MAX_ITERS {
        flags.push_str(&format!(" --max-iters {}", a.max_iters));
    }
    flags
}

/// The first item of `items` that an earlier one repeats.
fn first_repeat<T: PartialEq>(items: &[T]) -> Option<&T> {
    items
        .iter()
        .enumerate()
        .find_map(|(i, x)| items[..i].contains(x).then_some(x))
}

/// `--max-iters` when not given: the library's default.
const DEFAULT_MAX_ITERS: u64 = validate::calibrate::DEFAULT_MAX_ITERS;

/// A `--placement` value, by the name scenario files use.
fn parse_placement(s: &str) -> Result<NetemPlacement, String> {
    [
        NetemPlacement::MastersEgress,
        NetemPlacement::WorkersEgress,
        NetemPlacement::Both,
    ]
    .into_iter()
    .find(|p| p.as_str() == s)
    .ok_or_else(|| format!("'{s}' is not a placement: expected masters-egress, workers-egress or both"))
}

/// Runs `kubetwin calibrate`.
pub(crate) fn cmd(a: CalibrateArgs) -> anyhow::Result<()> {
    if let Some(p) = first_repeat(&a.free) {
        return Err(UsageError(format!("--free names {p} twice; name each parameter once")).into());
    }
    if let Some(p) = first_repeat(&a.placement) {
        return Err(UsageError(format!("--placement names {} twice; name each once", p.as_str())).into());
    }
    crate::output::check_output_file("--out", &a.out, "params.toml")?;
    crate::output::check_not_an_input(
        "--out",
        &a.out,
        &[("--data", &a.data), ("--scenario", Path::new(&a.scenario))],
    )?;
    let cells = read_cells(&a.data).map_err(|e| UsageError(e.to_string()))?;
    let (scenario, origin) = crate::scenario::without_params(&a.scenario)?;
    let mut opts = CalibrateOptions::new(a.seed);
    opts.reps = a.reps;
    opts.max_iters = a.max_iters;
    opts.cross_validate = !a.no_cross_validation;
    if !a.placement.is_empty() {
        opts.placements = a.placement.clone();
    }
    if !a.free.is_empty() {
        opts.free = a
            .free
            .iter()
            .map(|p| FreeParam::by_path(p))
            .collect::<Result<_, _>>()
            .map_err(|e| UsageError(e.to_string()))?;
    }
    if opts.free.len() >= cells.len() {
        return Err(UsageError(format!(
            "{} free parameters need more than {} measured cells; free fewer (choose from {})",
            opts.free.len(),
            cells.len(),
            CALIBRATABLE.iter().map(|p| p.path).collect::<Vec<_>>().join(", ")
        ))
        .into());
    }
    let cal = calibrate(&scenario, &cells, &opts)?;
    println!(
        "calibrated {} ({origin}) on {} cells of {}",
        scenario.name,
        cells.len(),
        a.data.display()
    );
    for f in &cal.placements {
        println!("placement {:?}: RMS error {:.2} %", f.placement, f.rms_error_pct);
    }
    println!("best placement: {:?}", cal.best.placement);
    for p in &cal.best.params {
        println!(
            "  {:<36} {:>10.3} {:<7} range [{}, {}]{}",
            p.path,
            p.value,
            p.unit,
            p.range.0,
            p.range.1,
            if p.at_bound {
                "  AT A RANGE END: the data push it out of range"
            } else {
                ""
            }
        );
    }
    println!("fit per cell:");
    for (pods, d, m, s, e) in &cal.best.cells {
        println!("  {pods:>5} pods {d:>4} ms: measured {m:>7.1} s, simulated {s:>7.2} s, error {e:>+6.2} %");
    }
    if cal.cross_validation.is_empty() {
        println!("leave-one-cell-out: not run (needs more cells than free parameters + 1)");
    } else {
        println!("leave-one-cell-out (fit on the others, predict the held-out cell):");
        for h in &cal.cross_validation {
            println!(
                "  {:>5} pods {:>4} ms: measured {:>7.1} s, predicted {:>7.1} s, error {:>+6.2} %",
                h.pods, h.delay_ms, h.measured_s, h.predicted_s, h.error_pct
            );
        }
        println!("  cross-validated MAPE {:.2} %", cal.cv_mape_pct.unwrap_or(f64::NAN));
    }
    for w in &cal.warnings {
        println!("warning: {w}");
    }
    println!("{} model evaluations", cal.evaluations);
    let command = format!(
        "kubetwin calibrate --data {} --scenario {} --out {} --reps {} --seed {}{}",
        a.data.display(),
        a.scenario,
        a.out.display(),
        a.reps,
        a.seed,
        regenerate_flags(&a)
    );
    write_atomic(&a.out, params_toml(&cal, &command).as_bytes())?;
    println!("wrote {}", a.out.display());
    Ok(())
}
