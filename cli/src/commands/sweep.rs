//! `kubetwin sweep`: every combination of pods, delay and scenario parameters, replications in
//! parallel, each finished point saved at once so that a rerun resumes, shardable across
//! machines (see [`crate::sweep`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use clap::{Args, ValueEnum};
use models::spec::Scenario;
use rayon::prelude::*;

use topologies::check::Size;

use crate::output::UsageError;
use crate::sweep::axes::{self, DelayAxis, PodsAxis, SetArg, Shard};
use crate::sweep::fault_axes::{self, FaultArg};
use crate::sweep::point::{self, PointRecord, Row};
use crate::sweep::spec::{self, Point, SweepSpec};
use crate::sweep::store::{StoredPoint, SweepDir, SweepFile};
use crate::sweep::{results, rows_from_dir, write_results};

/// Arguments of `kubetwin sweep`.
#[derive(Debug, Args)]
#[command(after_help = "\
Axes are comma-separated values or inclusive ranges START..END/STEP; every combination is a point.

Examples:
  kubetwin sweep thesis-2019 --pods 4,20,100 --delay 0ms..500ms/100ms --reps 30 --plot --out delay-sweep
  kubetwin sweep thesis-2019 --pods 4,100 --delay 100ms,500ms --set runtime.registry_rtt=100ms..400ms/100ms --out rtt-sweep
  kubetwin sweep thesis-2019 --pods 20 --fault 'crash lb at 30s repair {40s..120s/20s}' --reps 30 --plot --out lb-sweep
  kubetwin sweep thesis-2019 --pods 4,20,100 --delay 0ms..500ms/100ms --shard 2/4 --out shard-2

Rerunning the same command resumes: points already in DIR/points are not computed again.
Rerunning it with a larger --reps extends the sweep: each point keeps its replications and
runs only the new ones (the results are those of a fresh run with that --reps).
Shards are joined with `kubetwin merge`.")]
pub(crate) struct SweepArgs {
    /// A built-in scenario name (`thesis-2019`) or a scenario TOML file.
    scenario: String,
    /// Pod counts, e.g. 4,20,100 or 10..100/10 (default: the scenario's workload.replicas).
    #[arg(long, value_name = "LIST", value_parser = axes::parse_pods, allow_negative_numbers = true)]
    pods: Option<PodsAxis>,
    /// Added delays with units, e.g. 0ms,100ms or 0ms..500ms/100ms (default: the scenario's
    /// netem.delay).
    #[arg(long, value_name = "LIST", value_parser = axes::parse_delays, allow_hyphen_values = true)]
    delay: Option<DelayAxis>,
    /// A scenario parameter axis by its dotted path, e.g.
    /// kubernetes.kubelet.kube_api_qps=5,10,50 or runtime.registry_rtt=50ms..300ms/50ms
    /// (ranges for integer, number and duration fields; repeatable).
    #[arg(long = "set", value_name = "PATH=V1,V2,...", value_parser = axes::parse_set)]
    set: Vec<SetArg>,
    /// A fault, as `run --fault` writes it, in every point (repeatable); one {V1,V2,...} group
    /// in it makes it an axis, e.g. 'crash lb at 30s repair {40s..120s/20s}' (values, or
    /// ranges of durations), its column named by the keyword before the group (fault.repair).
    #[arg(long = "fault", value_name = "FAULT", value_parser = fault_axes::parse)]
    fault: Vec<FaultArg>,
    /// Replications per point (run in parallel; results do not depend on the thread count).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    reps: u64,
    /// Parameter file laid over the scenario (default: the built-in scenario's shipped
    /// calibration, if any).
    #[arg(long)]
    params: Option<PathBuf>,
    /// Experiment seed; every point runs replication r with the same seed derived from it
    /// (common random numbers: points differ by what their values do).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory: sweep.json, scenario.toml, points/, results.csv, results.json (startup.svg with --plot).
    #[arg(long, default_value = "sweep-out")]
    out: PathBuf,
    /// What to print on stdout when done (the files are written in every case).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Run only the points whose index modulo N is K-1 (K counts from 1), e.g. 2/4.
    #[arg(long, value_name = "K/N", value_parser = axes::parse_shard)]
    shard: Option<Shard>,
    /// Also write startup.svg: start-up against delay (or pods, when delay has one value; or
    /// the first --set or --fault axis of numbers, when neither varies), one line per value of
    /// each other axis that varies, with 95 % CI bands.
    #[arg(long)]
    plot: bool,
}

/// What `sweep` prints on stdout.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    /// A human-readable summary table.
    Table,
    /// The results as CSV (the bytes of results.csv).
    Csv,
    /// The results as JSON (the bytes of results.json).
    Json,
}

/// Runs `kubetwin sweep`.
pub(crate) fn cmd(a: SweepArgs) -> anyhow::Result<()> {
    // Everything that can be wrong with the command line is found before any work starts.
    crate::output::check_output_dir("--out", &a.out, "sweep.json, points/ and the results")?;
    let mut inputs: Vec<(&str, &std::path::Path)> = vec![("the scenario argument", std::path::Path::new(&a.scenario))];
    inputs.extend(a.params.as_deref().map(|p| ("--params", p)));
    let mut outputs: Vec<String> = ["sweep.json", "results.csv", "results.json", "startup.svg"]
        .map(str::to_owned)
        .to_vec();
    if let Some(s) = a.shard {
        outputs.extend(["csv", "json", "svg"].map(|e| format!("shard-{}-of-{}.{e}", s.k, s.n)));
    }
    let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    crate::output::check_dir_outputs_not_inputs("--out", &a.out, &outputs, &inputs)?;
    // A --pods axis replaces the file's size, which is then judged at load only if the axis has
    // it (check_pods_fit judges every size of the axis).
    let size = a.pods.as_ref().map_or(Size::OfTheFile, |p| Size::Given(&p.0));
    let (base, origin) = crate::scenario::resolve(&a.scenario, a.params.as_deref(), size)?;
    let base = with_fixed_faults(&base, &a.fault, &a.scenario, a.params.as_deref(), &origin, size)?;
    let spec = sweep_spec(&a, &base)?;
    let points = spec.points().map_err(|e| UsageError(e.to_string()))?;
    let combos = spec.set_combinations();
    let scenarios = combination_scenarios(&base, &spec, &combos, size)?;
    warn_if_netem_reaches_nothing(&spec, &scenarios, &combos)?;
    check_pods_fit(&spec, &scenarios, &combos)?;

    let dir = SweepDir::new(&a.out);
    let record = scenario_record(&base, &origin, &spec.scenario_digest);
    // Held until the results are written: a second run of the sweep meanwhile is refused.
    let (held_before, _lock) = dir.init_or_extend(&SweepFile::new(spec, points.len()), a.shard)?;
    dir.write_scenario(&record)?;
    // From here on the spec is the one read back from sweep.json, exactly as `merge` reads it.
    let file = dir.read_sweep()?.context("sweep.json vanished")?;
    let stale = dir.remove_stale_temporaries();
    let mine: Vec<&Point> = points
        .iter()
        .filter(|p| a.shard.is_none_or(|s| s.owns(p.index)))
        .collect();
    let todo = points_to_compute(&dir, &file, &mine)?;
    if let Some((first, _)) = todo.first() {
        dir.check_points_writable(&file.spec.point_key(first))?;
    }
    announce(&file, &origin, &dir, points.len(), a.shard, mine.len(), stale);
    if let Some(before) = held_before {
        eprintln!(
            "{} the sweep in {} to {} replications per point (it had {before}): each point keeps the replications \
             it holds (the first ones of a run of --reps {}) and runs the others",
            if file.spec.reps > before {
                "extending"
            } else {
                "setting"
            },
            dir.root().display(),
            file.spec.reps,
            file.spec.reps
        );
    }
    note_stray_point_files(&dir, &file.spec, &points)?;
    announce_skipped(mine.len() - todo.len(), &todo);
    compute_points(&dir, &file, &todo, &combos, &scenarios)?;

    let mine_owned: Vec<Point> = mine.into_iter().cloned().collect();
    let rows = rows_from_dir(&dir, &file, &mine_owned)?;
    let written = write_results(&dir, &file, a.shard, &rows, a.plot)?;
    warn_unfinished(&file.spec, &rows, &mine_owned);
    warn_coarse_clock(&file.spec, &rows, &mine_owned, &combos, &scenarios);
    for path in crate::sweep::point::axes_without_effect(&rows, &file.spec.set) {
        eprintln!(
            "note: every value of {path} gives the same start-ups, replication by replication, at every point: the setting does not bind in this sweep (its lines in a figure lie on one another)"
        );
    }
    eprintln!(
        "wrote {}",
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    print_results(a.format, &file, a.shard, &rows);
    // As `run` does when no replication finishes: a sweep with no finished replication at
    // all measured nothing (its files are written, for the record).
    anyhow::ensure!(
        rows.is_empty() || rows.iter().any(|r| r.incomplete < r.reps),
        "no replication of any point finished within workload.timeout: lengthen it, or check the scenario (its faults, loss, limits){}",
        late_scale_of_points(&file.spec, &mine_owned, &combos, &scenarios)
    );
    Ok(())
}

/// [`crate::output::late_scale_hint`] at the first of the `points` whose scale comes late, each
/// point's scenario being its combination's at its pods.
fn late_scale_of_points(spec: &SweepSpec, points: &[Point], combos: &[Vec<usize>], scenarios: &[Scenario]) -> String {
    let combo_of = combination_index(combos);
    points
        .iter()
        .filter_map(|p| {
            let combo = *combo_of.get(p.set_idx.as_slice())?;
            let sized = models::cluster::with_overrides(&scenarios[combo], Some(p.pods), None);
            topologies::check::late_scale(&sized).map(|h| format!("; at {}: {h}", spec.describe(p)))
        })
        .next()
        .unwrap_or_default()
}

/// `scenario.toml` of a sweep: the resolved scenario its points are computed from (after
/// `--params` or the shipped calibration, with the fixed `--fault`s), as a scenario file that
/// `run` reads back, under a header naming where it came from and its digest in the spec. The
/// axes are laid over it point by point (sweep.json). A file changed since, or parameters lost,
/// can be recovered from it.
fn scenario_record(base: &Scenario, origin: &str, digest: &str) -> String {
    // A TOML comment holds no control character but tab.
    let origin = origin.replace(|c: char| c.is_control(), " ");
    format!(
        "# The scenario every point of this sweep is computed from: {origin}, resolved (scenario_digest {digest}\n\
         # in sweep.json). Each point lays its pods, delay and --set or --fault values over it.\n\n{}",
        toml::to_string_pretty(base).expect("a Scenario serializes to TOML")
    )
}

/// Warns when the sweep's largest delay would sit on no route of the cluster's traffic (a
/// scenario of one site, or without the VPN: W007): its points at that delay are points
/// without it. Every `--set` combination is checked when an axis can move the netem or the
/// routes (`netem.*`, `vpn.*`, where kubectl or the registry runs, hosts, sites, links), the
/// first combination's scenario otherwise (the others share its routes).
fn warn_if_netem_reaches_nothing(
    spec: &SweepSpec,
    scenarios: &[Scenario],
    combos: &[Vec<usize>],
) -> anyhow::Result<()> {
    let Some(&delay) = spec.delays_ns()?.iter().max().filter(|&&d| d > 0) else {
        return Ok(());
    };
    const ROUTING: [&str; 8] = [
        "netem.",
        "vpn.",
        "workload.kubectl_host",
        "runtime.registry_host",
        "hosts",
        "sites",
        "links",
        "haproxy.",
    ];
    let moves_routes = spec.set.iter().any(|a| ROUTING.iter().any(|p| a.path.starts_with(p)));
    let checked = if moves_routes { scenarios.len() } else { 1 };
    for (scenario, idx) in scenarios.iter().zip(combos).take(checked) {
        let delayed = models::cluster::with_overrides(scenario, None, Some(sim_core::SimDuration::from_nanos(delay)));
        if topologies::check::netem_on_no_route(&delayed) {
            let values: Vec<String> = idx
                .iter()
                .zip(&spec.set)
                .map(|(&i, ax)| spec::flag_of(ax, &ax.values[i]))
                .collect();
            let at = if values.is_empty() {
                String::new()
            } else {
                format!(" (at {})", values.join(" "))
            };
            eprintln!(
                "warning: --delay{at}: {}",
                topologies::check::no_route_message(&delayed)
            );
            break;
        }
    }
    Ok(())
}

/// `base` (the scenario `scenario`, loaded from `origin`) with the `--fault`s that are not axes
/// in it, refused if their checks find an error (a host that does not exist, a repair before its
/// fault), each fault named as the user knows it; the workload's size judged only at `size`
/// [`Size::OfTheFile`] (a `--pods` axis is judged size by size).
fn with_fixed_faults(
    base: &Scenario,
    faults: &[FaultArg],
    scenario: &str,
    params: Option<&Path>,
    origin: &str,
    size: Size,
) -> Result<Scenario, UsageError> {
    let s = fault_axes::with_fixed_faults(base, faults);
    if s.faults.len() == base.faults.len() {
        return Ok(s);
    }
    let names = crate::commands::run::FaultNames::new(
        scenario,
        origin,
        params,
        base.faults.len(),
        s.faults[base.faults.len()..]
            .iter()
            .map(crate::commands::run::fault_text),
    );
    let errors: Vec<String> = topologies::check::run_with_added_faults(&s)
        .into_iter()
        .filter(|f| f.severity() == topologies::Severity::Error && size.judges(f.code, base.workload.replicas))
        .map(|f| {
            names
                .finding(&f)
                .unwrap_or_else(|| format!("--fault: `{}`: {}", f.field, f.message))
        })
        .collect();
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(UsageError(errors.join("; ")))
    }
}

/// The sweep the flags describe over `base`: its axes (the scenario's own pods and delay when
/// not given), replications and seed, with the version and seed rule that make its hash.
fn sweep_spec(a: &SweepArgs, base: &Scenario) -> anyhow::Result<SweepSpec> {
    let mut set = spec::resolve_sets(base, &a.set).map_err(UsageError)?;
    set.extend(fault_axes::axes(&a.fault));
    let base_json = serde_json::to_string(base).context("the scenario does not serialize")?;
    Ok(SweepSpec {
        kubetwin_version: env!("CARGO_PKG_VERSION").to_owned(),
        model_digest: spec::MODEL_DIGEST.to_owned(),
        seeds: crate::sweep::store::SEED_RULE.to_owned(),
        scenario: base.name.clone(),
        scenario_digest: format!("{:016x}", spec::digest(base_json.as_bytes())),
        pods: a.pods.clone().map_or_else(|| vec![base.workload.replicas], |p| p.0),
        delay: a
            .delay
            .clone()
            .map_or_else(|| vec![base.netem.delay.get()], |d| d.0)
            .into_iter()
            .map(|d| axes::show_delay(d.as_nanos()))
            .collect(),
        set,
        faults: a
            .fault
            .iter()
            .filter_map(|f| match f {
                FaultArg::Fixed(f) => Some(crate::commands::run::fault_text(f)),
                FaultArg::Axis { .. } => None,
            })
            .collect(),
        reps: a.reps,
        seed: a.seed,
    })
}

/// The scenario of each combination of the `--set` values (`combos`, indices into each axis),
/// printing the warnings a combination adds to the base's; the workload's size judged at load only
/// at `size` [`Size::OfTheFile`].
fn combination_scenarios(
    base: &Scenario,
    spec: &SweepSpec,
    combos: &[Vec<usize>],
    size: Size,
) -> Result<Vec<Scenario>, UsageError> {
    let known = spec::warning_keys(base);
    combos
        .iter()
        .map(|idx| {
            let values: Vec<_> = idx.iter().zip(&spec.set).map(|(&i, ax)| ax.values[i].clone()).collect();
            let (scenario, warnings) = spec::scenario_with_warnings(base, &known, &spec.set, &values, size)?;
            // What a combination adds to the base's warnings (shown when it was loaded).
            for w in warnings {
                // No file line to show: the origin is the `--set` values.
                eprintln!(
                    "{}: warning[{}] `{}`: {}\n    help: {}",
                    w.origin, w.code, w.field, w.message, w.help
                );
            }
            Ok(scenario)
        })
        .collect::<Result<_, String>>()
        .map_err(UsageError)
}

/// Refuses a pod count that does not fit the workers of some combination's scenario.
fn check_pods_fit(spec: &SweepSpec, scenarios: &[Scenario], combos: &[Vec<usize>]) -> Result<(), UsageError> {
    // The pods axis is applied per point: each size must fit every combination's workers.
    for (scenario, idx) in scenarios.iter().zip(combos) {
        for &pods in &spec.pods {
            let sized = models::cluster::with_overrides(scenario, Some(pods), None);
            if let Some(f) = topologies::check::workload_fits(&sized) {
                let values: Vec<String> = idx
                    .iter()
                    .zip(&spec.set)
                    .map(|(&i, ax)| format!(" {}", spec::flag_of(ax, &ax.values[i])))
                    .collect();
                return Err(UsageError(format!(
                    "--pods {pods}{}: `{}`: {}",
                    values.concat(),
                    f.field,
                    f.message
                )));
            }
        }
    }
    Ok(())
}

/// A point to compute, with the record of its first replications when the sweep extends it.
type ToCompute<'p> = (&'p Point, Option<PointRecord>);

/// The points of `mine` that `dir` does not hold whole yet, each with its first replications
/// if it holds those (a sweep extended to more replications), refusing a point file that holds
/// another point.
fn points_to_compute<'p>(dir: &SweepDir, file: &SweepFile, mine: &[&'p Point]) -> anyhow::Result<Vec<ToCompute<'p>>> {
    let spec = &file.spec;
    let mut todo = Vec::new();
    for p in mine {
        let key = spec.point_key(p);
        match dir.read_stored_point(&key, file)? {
            None => todo.push((*p, None)),
            Some(StoredPoint::Whole(rec)) => rec.check_file(&dir.point_path(&key), spec, p)?,
            Some(StoredPoint::Prefix(rec)) => {
                rec.check_file(&dir.point_path(&key), &spec.with_reps(rec.replications() as u64), p)?;
                todo.push((*p, Some(rec)));
            }
        }
    }
    Ok(todo)
}

/// Says on stderr which sweep runs where: its hash, its `points`, the `mine` of them that the
/// shard runs, and the `stale` temporary files removed.
fn announce(
    file: &SweepFile,
    origin: &str,
    dir: &SweepDir,
    points: usize,
    shard: Option<Shard>,
    mine: usize,
    stale: usize,
) {
    eprintln!(
        "sweep {} ({origin}): {} x {}{}, in {}",
        file.spec_hash,
        crate::output::count(points, "point"),
        crate::output::count(file.spec.reps as usize, "replication"),
        shard.map_or(String::new(), |s| format!("; shard {s} has {mine} of them")),
        dir.root().display()
    );
    if stale > 0 {
        eprintln!("removed {stale} temporary files left by an interrupted run");
    }
}

/// Notes the files in `dir`'s points/ that are named after no point of the sweep.
fn note_stray_point_files(dir: &SweepDir, spec: &SweepSpec, points: &[Point]) -> anyhow::Result<()> {
    let keys: std::collections::BTreeSet<String> = points.iter().map(|p| spec.point_key(p)).collect();
    crate::sweep::note_stray_files(dir, &dir.point_files_of(&keys)?.1);
    Ok(())
}

/// Says on stderr how many points a rerun skips and how many it computes (of which how many it
/// extends).
fn announce_skipped(skipped: usize, todo: &[ToCompute]) {
    let points_word = |n: usize| if n == 1 { "point" } else { "points" };
    let extending = todo.iter().filter(|(_, prior)| prior.is_some()).count();
    eprintln!(
        "skipped {skipped} {} already done, computing {} {}{}",
        points_word(skipped),
        todo.len(),
        points_word(todo.len()),
        if extending > 0 {
            format!(" ({extending} of them from the replications they hold)")
        } else {
            String::new()
        }
    );
}

/// Computes the points of `todo` in parallel, each with its combination's scenario, and writes
/// each to `dir` as soon as it is done, with a progress bar on a terminal.
fn compute_points(
    dir: &SweepDir,
    file: &SweepFile,
    todo: &[ToCompute],
    combos: &[Vec<usize>],
    scenarios: &[Scenario],
) -> anyhow::Result<()> {
    let spec = &file.spec;
    let reps_to_run = todo
        .iter()
        .map(|(_, prior)| spec.reps - prior.as_ref().map_or(0, |r| r.replications() as u64))
        .sum();
    let progress = crate::progress::Progress::new(reps_to_run, "replications");
    let bar = progress.bar();
    let done = AtomicUsize::new(0);
    bar.set_message(format!("0/{} points", todo.len()));
    let on_rep = || progress.inc();
    let combo_of = combination_index(combos);
    let result = todo.par_iter().try_for_each(|(p, prior)| -> anyhow::Result<()> {
        let combo = *combo_of
            .get(p.set_idx.as_slice())
            .expect("a point's combination exists");
        let rec = point::compute(spec, &file.spec_hash, p, &scenarios[combo], prior.as_ref(), &on_rep)?;
        dir.write_point(&rec)?;
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        bar.set_message(format!("{n}/{} points", todo.len()));
        Ok(())
    });
    progress.finish();
    result
}

/// Warns of the points of `mine` (their `rows`) with replications that did not finish.
fn warn_unfinished(spec: &SweepSpec, rows: &[Row], mine: &[Point]) {
    let unfinished: Vec<String> = rows
        .iter()
        .zip(mine)
        .filter(|(r, _)| r.incomplete > 0)
        .map(|(r, p)| format!("{} ({} of {})", spec.describe(p), r.incomplete, r.reps))
        .collect();
    if !unfinished.is_empty() {
        eprintln!(
            "warning: replications that did not finish within workload.timeout: {}",
            unfinished.join(", ")
        );
    }
}

/// Each combination's index by its indices into the `--set` axes: a point finds its scenario
/// through a map, not a scan of every combination (quadratic: a fifth of a 40,000-point sweep's
/// time).
fn combination_index(combos: &[Vec<usize>]) -> std::collections::HashMap<&[usize], usize> {
    combos.iter().enumerate().map(|(i, c)| (c.as_slice(), i)).collect()
}

/// Warns of the points of `mine` (their `rows`) whose clock ticks less often than their pods
/// start (`run` warns of it too): each reading is then 0 s or one tick, by the clock's phase.
fn warn_coarse_clock(spec: &SweepSpec, rows: &[Row], mine: &[Point], combos: &[Vec<usize>], scenarios: &[Scenario]) {
    let combo_of = combination_index(combos);
    let mut shortest = f64::INFINITY;
    let coarse: Vec<String> = rows
        .iter()
        .zip(mine)
        .filter_map(|(r, p)| {
            let combo = *combo_of.get(p.set_idx.as_slice())?;
            let tick = scenarios[combo].workload.resolution;
            let exact = r.exact_mean.filter(|&m| m < tick.get().as_secs_f64())?;
            shortest = shortest.min(exact);
            Some(format!(
                "{} (resolution {tick}, exact mean {exact:.3} s)",
                spec.describe(p)
            ))
        })
        .collect();
    if !coarse.is_empty() {
        eprintln!(
            "warning: workload.resolution is longer than the start-up itself, so each reading is 0 s or one tick and says next to nothing, at: {}; {}",
            coarse.join(", "),
            super::run::finer_clock_advice(shortest)
        );
    }
}

/// Prints the `rows` on stdout in `format`: CSV and JSON as the results files hold them.
fn print_results(format: Format, file: &SweepFile, shard: Option<Shard>, rows: &[Row]) {
    match format {
        Format::Csv => print!("{}", String::from_utf8_lossy(&results::to_csv(file, rows))),
        Format::Json => print!("{}", String::from_utf8_lossy(&results::to_json(file, shard, rows))),
        Format::Table => print_table(file, rows),
    }
}

/// `--format table`: one line per point, its axes' values and its start-up; when a point has
/// replications that did not finish, how many of them finished (its figures leave the others
/// out, so they understate the start-up).
fn print_table(file: &SweepFile, rows: &[Row]) {
    let spec = &file.spec;
    let f = |v: Option<f64>, w: usize| v.map_or_else(|| format!("{:>w$}", "n/a"), |v| format!("{v:>w$.2}"));
    let mut head = format!("{:>6} {:>9}", "pods", "delay_ms");
    let paths: Vec<&str> = spec.set.iter().map(|a| a.path.as_str()).collect();
    let names: Vec<&str> = paths
        .iter()
        .map(|p| crate::sweep::axes::short_name(p, &paths))
        .collect();
    let widths: Vec<usize> = names.iter().map(|n| n.len().max(14)).collect();
    for (name, w) in names.iter().zip(&widths) {
        head.push_str(&format!(" {name:>w$}"));
    }
    let any_incomplete = rows.iter().any(|r| r.incomplete > 0);
    let finished_head = if any_incomplete {
        format!(" {:>9}", "finished")
    } else {
        String::new()
    };
    println!(
        "{head} {:>8} {:>18} {:>8} {:>8} {:>10}{finished_head}",
        "mean_s", "ci95_s", "p50_s", "p95_s", "exact_s"
    );
    for r in rows {
        let mut line = format!("{:>6} {:>9}", r.pods, r.delay_ms().to_string());
        for (v, w) in r.set.iter().zip(&widths) {
            line.push_str(&format!(" {:>w$}", spec::plain(v)));
        }
        let ci = match (r.startup[1], r.startup[2]) {
            (Some(lo), Some(hi)) => format!("[{lo:.2}, {hi:.2}]"),
            _ => "n/a".to_owned(),
        };
        let finished = if any_incomplete {
            format!(" {:>9}", format!("{}/{}", r.reps - r.incomplete, r.reps))
        } else {
            String::new()
        };
        println!(
            "{line} {} {ci:>18} {} {} {}{finished}",
            f(r.startup[0], 8),
            f(r.startup[3], 8),
            f(r.startup[5], 8),
            f(r.exact_mean, 10)
        );
    }
}
