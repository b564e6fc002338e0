//! `kubetwin calibrate`: fit the model's unknown parameters to measured cells.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use models::spec::{NetemPlacement, Scenario};
use validate::calibrate::{calibrate, params_toml, CalibrateOptions, Calibration, FreeParam, CALIBRATABLE};
use validate::dataset::read_cells;
use validate::uncertainty::{bootstrap, Bootstrap};

use topologies::check::Size;

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
    #[arg(long, default_value_t = DEFAULT_MAX_ITERS, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_iters: u64,
    /// Skip leave-one-cell-out cross-validation.
    #[arg(long)]
    no_cross_validation: bool,
    /// Where the measured delay was injected, if known: masters-egress, workers-egress or both
    /// (comma-separated to compare several). Default: all three, and the best fit wins.
    #[arg(long, value_delimiter = ',', value_parser = parse_placement)]
    placement: Vec<NetemPlacement>,
    /// Parametric bootstrap: redraw each measured mean B times within its noise (the
    /// simulated run-to-run spread over the square root of its runs, times the fit's Birge
    /// ratio √(χ²/dof) when χ² exceeds its degrees of freedom), refit each, and report the 2.5-97.5 %
    /// range of every parameter (and of the --predict cells). 0: none. 40 or more make the
    /// range's ends more than the extremes.
    #[arg(long, value_name = "B", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    bootstrap: u32,
    /// Redraw the measured means within the model's own noise even when the fit misses them
    /// by more (no Birge ratio): ranges that hold only if the model is right.
    #[arg(long, requires = "bootstrap")]
    no_birge: bool,
    /// Cells to predict with every bootstrap refit, as PODSxDELAY (e.g. 20x300ms), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_cell, value_name = "PODSxDELAY", requires = "bootstrap")]
    predict: Vec<(u32, u32)>,
}

/// A `--predict` cell: pods, then `x`, then a delay with its unit (whole milliseconds).
fn parse_cell(s: &str) -> Result<(u32, u32), String> {
    let (pods, delay) = s
        .split_once('x')
        .ok_or_else(|| format!("'{s}' is not a cell: expected PODSxDELAY, e.g. 20x300ms"))?;
    let pods: u32 = pods
        .parse()
        .ok()
        .filter(|&p| p >= 1)
        .ok_or_else(|| format!("'{pods}' in '{s}' is not a pod count: expected a whole number of at least 1"))?;
    let d = crate::commands::run::parse_delay(delay).map_err(|e| format!("'{delay}' in '{s}': {e}"))?;
    let ms = d.as_nanos() / 1_000_000;
    if u128::from(ms) * 1_000_000 != u128::from(d.as_nanos()) {
        return Err(format!("'{delay}' in '{s}': the delay must be whole milliseconds"));
    }
    let ms = u32::try_from(ms).map_err(|_| format!("'{delay}' in '{s}': the delay is too large"))?;
    Ok((pods, ms))
}

/// The flags beyond data, scenario, output, reps and seed that change what `calibrate` writes,
/// as the file's "Regenerate:" line needs them (`--no-cross-validation` leaves the header's
/// leave-one-cell-out MAPE "not computed"; `--predict` changes only the report).
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
    if a.no_cross_validation {
        flags.push_str(" --no-cross-validation");
    }
    if a.bootstrap > 0 {
        flags.push_str(&format!(" --bootstrap {}", a.bootstrap));
    }
    if a.no_birge {
        flags.push_str(" --no-birge");
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
    check_no_repeats(&a)?;
    crate::output::check_output_file("--out", &a.out, "params.toml")?;
    crate::output::check_not_an_input(
        "--out",
        &a.out,
        &[("--data", &a.data), ("--scenario", Path::new(&a.scenario))],
    )?;
    let cells = read_cells(&a.data).map_err(|e| crate::output::InputError(e.to_string()))?;
    // The cells' sizes, not the file's, are run: cells_fit judges them (the file's only if a
    // cell has it).
    let sizes: Vec<u32> = cells.iter().map(|c| c.pods).collect();
    let (scenario, origin) = crate::scenario::without_params(&a.scenario, Size::Given(&sizes))?;
    crate::commands::validate::cells_fit(&scenario, &cells, &a.data)?;
    let opts = options(&a, cells.len())?;
    check_predict(&a, &scenario)?;
    // Once the inputs are known to be usable: a refused command prints its error alone.
    crate::commands::validate::warn_of_impossible_means(&cells, &a.data);
    let cal = calibrate(&scenario, &cells, &opts)
        .with_context(|| format!("{}: the measured cells cannot be fitted", a.data.display()))?;
    print_fit(&a, &scenario, &origin, cells.len(), &cal);
    let mut text = params_toml(&cal, &regenerate_command(&a));
    if a.bootstrap > 0 {
        // The fit is written first, so that a bootstrap that fails loses nothing of it; the
        // file is written again with the ranges.
        write_atomic(&a.out, text.as_bytes())?;
        let b = bootstrap(&scenario, &cells, &cal, &opts, a.bootstrap, &a.predict, !a.no_birge)?;
        print_bootstrap(&cal, &b);
        insert_bootstrap_ranges(&mut text, &b);
    }
    write_atomic(&a.out, text.as_bytes())?;
    println!("wrote {}", a.out.display());
    Ok(())
}

/// Refuses a `--free`, `--placement` or `--predict` that names something twice, and a `--free`
/// name that is empty.
fn check_no_repeats(a: &CalibrateArgs) -> Result<(), UsageError> {
    if a.free.iter().any(|p| p.trim().is_empty()) {
        return Err(UsageError(format!(
            "--free {}: a parameter name is empty (a comma at an end, or two in a row); give dotted paths such as runtime.registry_rtt",
            a.free.join(",")
        )));
    }
    if let Some(p) = first_repeat(&a.free) {
        return Err(UsageError(format!("--free names {p} twice; name each parameter once")));
    }
    if let Some(p) = first_repeat(&a.placement) {
        return Err(UsageError(format!(
            "--placement names {} twice; name each once",
            p.as_str()
        )));
    }
    if let Some((pods, delay_ms)) = first_repeat(&a.predict) {
        return Err(UsageError(format!(
            "--predict names {pods}x{delay_ms}ms twice; name each cell once"
        )));
    }
    Ok(())
}

/// The fit's options from the flags, refusing more free parameters than `cells` (the number of
/// measured cells) can determine.
fn options(a: &CalibrateArgs, cells: usize) -> Result<CalibrateOptions, UsageError> {
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
    if opts.free.len() >= cells {
        return Err(UsageError(format!(
            "{} need at least {} measured cells, got {}; free fewer (choose from {})",
            crate::output::count(opts.free.len(), "free parameter"),
            opts.free.len() + 1,
            cells,
            CALIBRATABLE.iter().map(|p| p.path).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(opts)
}

/// Refuses bootstrap refits with one replication, `--predict` without bootstrap refits, and a
/// cell to predict that cannot simulate with `scenario`.
fn check_predict(a: &CalibrateArgs, scenario: &Scenario) -> Result<(), UsageError> {
    if a.bootstrap > 0 && a.reps < 2 {
        return Err(UsageError(
            "--bootstrap needs --reps 2 or more: its refits redraw each measured mean within the simulated run-to-run spread, which one replication does not show".into(),
        ));
    }
    if a.bootstrap == 0 && !a.predict.is_empty() {
        return Err(UsageError(
            "--predict needs --bootstrap B (B at least 1): its ranges come from the refits".into(),
        ));
    }
    // The cells to predict must simulate with the scenario as it stands (the fit moves only the
    // free parameters): checked before the fit, not after it.
    for &(pods, delay_ms) in &a.predict {
        let sized = models::cluster::with_overrides(
            scenario,
            Some(pods),
            Some(sim_core::SimDuration::from_millis(u64::from(delay_ms))),
        );
        let errors: Vec<String> = topologies::check::run(&sized)
            .into_iter()
            .filter(|f| topologies::check::lookup(f.code).is_none_or(|c| c.severity == topologies::Severity::Error))
            .map(|f| format!("`{}`: {}", f.field, f.message))
            .collect();
        if !errors.is_empty() {
            return Err(UsageError(format!(
                "--predict {pods}x{delay_ms}ms: {}",
                errors.join("; ")
            )));
        }
    }
    Ok(())
}

/// Prints the fit: each placement's error, the best one's parameters and cells, the
/// leave-one-cell-out cross-validation, the warnings and the evaluations.
fn print_fit(a: &CalibrateArgs, scenario: &Scenario, origin: &str, cells: usize, cal: &Calibration) {
    println!(
        "calibrated {} ({origin}) on {} cells of {}",
        scenario.name,
        cells,
        a.data.display()
    );
    for f in &cal.placements {
        println!(
            "placement {}: RMS error {:.2} % (of the mean exact start-up, which the fit uses); {}",
            f.placement.as_str(),
            f.rms_error_pct,
            goodness_of_fit(f)
        );
    }
    println!("best placement: {} (least RMS error)", cal.best.placement.as_str());
    if cal.best.p_value.is_some_and(|p| p < 0.05) {
        println!(
            "  the best fit misses the cells by more than their noise (chi-square p < 0.05): the model lacks something these cells show, and ranges that take it as right are too narrow (--bootstrap widens the cells' noise by the Birge ratio to match, unless --no-birge)"
        );
    }
    // The first-order ranges take the cells' noise as the fit's only error; when the fit misses
    // the cells by more (a Birge ratio above 1), the range widened by it is what the bootstrap's
    // refits show (docs/validation.md), so it is printed beside.
    let birge = validate::uncertainty::birge_ratio(&cal.best);
    let widened = |h: f64| {
        if birge > 1.0 && !a.no_birge {
            format!(
                "; {} with the noise × the fit's Birge ratio {birge:.2}",
                validate::calibrate::range_text(h * birge)
            )
        } else {
            String::new()
        }
    };
    for p in &cal.best.params {
        println!(
            "  {:<36} {:>10.3} {:<7} range [{}, {}]{}{}",
            p.path,
            p.value,
            p.unit,
            p.range.0,
            p.range.1,
            p.noise_range_pct.map_or(String::new(), |h| format!(
                "  {} (95 %, from the cells' noise{})",
                validate::calibrate::range_text(h),
                widened(h)
            )),
            match (p.at_bound, cal.best.converged) {
                (true, true) => "  AT A RANGE END: the data push it out of range",
                (true, false) => "  near a range end (the search did not converge: see the warning)",
                _ => "",
            }
        );
    }
    if a.reps < 2 {
        println!(
            "  (no 95 % ranges beside the values: one replication shows no run-to-run spread; give --reps 2 or more)"
        );
    }
    println!(
        "fit per cell (simulated: the mean exact start-up, which the fit uses; `validate` shows the whole-second reading, whose mean is the same up to its noise):"
    );
    for (pods, d, m, s, e) in &cal.best.cells {
        println!("  {pods:>5} pods {d:>4} ms: measured {m:>7.2} s, simulated {s:>7.2} s, error {e:>+6.2} %");
    }
    print_cross_validation(a, cal);
    for w in &cal.warnings {
        println!("warning: {w}");
    }
    println!("{} model evaluations", cal.evaluations);
}

/// A fit's χ² against the cells' noise, its degrees of freedom and p-value.
fn goodness_of_fit(f: &validate::calibrate::PlacementFit) -> String {
    if f.chi_square.is_nan() {
        return "no chi-square test against the cells' noise (one replication shows no run-to-run spread; give --reps 2 or more)".to_owned();
    }
    match f.p_value {
        Some(p) => format!(
            "chi-square {:.1} on {} against the cells' noise, p = {}",
            f.chi_square,
            if f.dof == 1 {
                "1 degree of freedom".to_owned()
            } else {
                format!("{} degrees of freedom", f.dof)
            },
            if p < 0.001 {
                format!("{p:.1e}")
            } else {
                format!("{p:.3}")
            }
        ),
        None => format!(
            "chi-square {:.1} against the cells' noise (no degrees of freedom left to test it)",
            f.chi_square
        ),
    }
}

/// Prints the leave-one-cell-out predictions, or why there are none.
fn print_cross_validation(a: &CalibrateArgs, cal: &Calibration) {
    if a.no_cross_validation {
        println!("leave-one-cell-out: not run (--no-cross-validation)");
    } else if cal.cross_validation.is_empty() {
        println!("leave-one-cell-out: not run (needs more cells than free parameters + 1)");
    } else {
        println!("leave-one-cell-out (fit on the others, placement included; predict the held-out cell):");
        for h in &cal.cross_validation {
            println!(
                "  {:>5} pods {:>4} ms: measured {:>7.2} s, predicted {:>7.2} s, error {:>+6.2} % (placement {})",
                h.pods,
                h.delay_ms,
                h.measured_s,
                h.predicted_s,
                h.error_pct,
                h.placement.as_str()
            );
        }
        println!(
            "  cross-validated MAPE {:.2} % (of the whole-second reading, as measured; not comparable with the fit's RMS)",
            cal.cv_mape_pct.unwrap_or(f64::NAN)
        );
    }
}

/// The command that writes the same file again, for its "Regenerate:" line.
fn regenerate_command(a: &CalibrateArgs) -> String {
    format!(
        "kubetwin calibrate --data {} --scenario {} --out {} --reps {} --seed {}{}",
        a.data.display(),
        a.scenario,
        a.out.display(),
        a.reps,
        a.seed,
        regenerate_flags(a)
    )
}

/// Prints the bootstrap `b` of the fit `cal`: each parameter's range over the refits, and each
/// `--predict` cell's.
fn print_bootstrap(cal: &Calibration, b: &Bootstrap) {
    println!(
        "bootstrap ({} refits at {}; each measured mean redrawn within {}):",
        b.refits,
        cal.best.placement.as_str(),
        b.cell_noise_s
            .iter()
            .map(|n| format!("±{n:.2} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if b.birge_ratio > 1.0 {
        println!(
            "  (the simulated spread over √runs times the Birge ratio {:.2} = √(χ²/dof): the fit misses the cells by that many times their noise; --no-birge for the model's own noise)",
            b.birge_ratio
        );
    }
    for p in &b.params {
        println!(
            "  {:<36} {:>10.3} {:<7} 95 % [{:.3}, {:.3}], median {:.3}",
            p.path, p.fitted, p.unit, p.spread.lo, p.spread.hi, p.spread.median
        );
    }
    for c in &b.predictions {
        println!(
            "  {:>5} pods {:>4} ms: predicted {:>7.2} s, 95 % [{:.2}, {:.2}] s over the refits",
            c.pods, c.delay_ms, c.predicted_s, c.spread.lo, c.spread.hi
        );
    }
    println!("  {} model evaluations", b.evaluations);
    println!(
        "  (the refits share the fit's simulation seed: the simulated means' own Monte-Carlo error is not in these ranges; fit again with another --seed, or more --reps, to see it)"
    );
}

/// How the bootstrap `b` widened the cells' noise, for the parameter file's header: nothing
/// when it did not.
fn birge_note(b: &Bootstrap) -> String {
    if b.birge_ratio > 1.0 {
        format!(", noise × Birge ratio {:.2}", b.birge_ratio)
    } else {
        String::new()
    }
}

/// Adds the bootstrap's parameter ranges to `text`, the parameter file, as comment lines.
fn insert_bootstrap_ranges(text: &mut String, b: &Bootstrap) {
    // The ranges go into the header, before the first table.
    let at = text.find("\n[").map_or(text.len(), |i| i);
    let ranges: String = b
        .params
        .iter()
        .map(|p| {
            format!(
                "# Bootstrap ({} refits{}): {} 95 % [{:.3}, {:.3}] {}.\n",
                b.refits,
                birge_note(b),
                p.path,
                p.spread.lo,
                p.spread.hi,
                p.unit
            )
        })
        .collect();
    text.insert_str(at, &ranges);
}
