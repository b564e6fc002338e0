//! `kubetwin plan`: a planner's report on one scenario at N pods. It answers: how long until N
//! pods run; which sites are slowest and why; whether etcd is healthy at these round trips; which
//! of the given control-plane placements is best; which timeouts misfire and what to set; with
//! `--drills`, what each single failure costs; with `--tuning`, what each setting would buy. Printed
//! on the terminal and written as `DIR/plan.md`, `DIR/plan.json` (the same answers for scripts)
//! and `DIR/startup.svg`, together or not at all.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use models::units::Dur;

use topologies::check::Size;

use crate::output::{write_atomic_set, UsageError};
use crate::plan;

/// Arguments of `kubetwin plan`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    kubetwin generate consortium --sites examples/consortium-32/sites.csv --out c32.toml \\\n      \
    --control-plane \"Keio University (Tokyo)\"\n  \
    kubetwin plan c32.toml --pods 1000 --reps 10 --out-dir plan-c32 \\\n      \
    --placements 'eth-zurich-zurich;keio-university-tokyo,eth-zurich-zurich,massachusetts-institute-of-technology-cambridge-ma'\n\n\
    Each placement option lists one site per master (master01, master02, master03; HAProxy moves with\n\
    the first), or one site for all; options are separated by ';' and the flag may repeat. Sites are\n\
    scenario site names or the CSV names they came from.")]
pub(crate) struct PlanArgs {
    /// A built-in scenario name (`thesis-2019`) or a scenario TOML file.
    scenario: String,
    /// Pods to scale the Deployment to.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(validate::dataset::MAX_PODS)), allow_negative_numbers = true)]
    pods: u32,
    /// Replications per option (run in parallel; results do not depend on the thread count).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    reps: u64,
    /// Experiment seed; replication r runs with a seed derived from (seed, r), the same for every
    /// placement option.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Parameter file laid over the scenario (default: the built-in scenario's shipped
    /// calibration, if any).
    #[arg(long)]
    params: Option<PathBuf>,
    /// Control-plane placements to compare: `A,B,C;D,E,F` (one site per master, or one site for
    /// all); may repeat.
    #[arg(long, value_name = "A,B,C;D,E,F")]
    placements: Vec<String>,
    /// Add section (f), what one failure costs: the scenario again with each single failure (the
    /// load balancer, each master but the one running the observing kubectl, the etcd leader, a
    /// registry on the overlay, each site cut off,
    /// each VPN tunnel from the load balancer's site)
    /// at --drill-at, on the same seeds, ranked worst first.
    #[arg(long)]
    drills: bool,
    /// When each drilled failure happens, from the `kubectl create`.
    #[arg(long, default_value = "10s", value_parser = parse_time, value_name = "DURATION", requires = "drills")]
    drill_at: Dur,
    /// How long each drilled failure lasts (default: for the rest of the run).
    #[arg(long, value_parser = parse_time, value_name = "DURATION", requires = "drills")]
    drill_for: Option<Dur>,
    /// Add section (g), what each setting would buy: the scenario again with one setting changed
    /// at a time (the controller-manager's, scheduler's and kubelets' client QPS and burst at the
    /// Kubernetes scalability tests' 100/100, parallel image pulls, a pinned image tag, the image
    /// pre-pulled; each only if the scenario does not have it already), then all at once, on the
    /// same seeds, the largest saving first.
    #[arg(long)]
    tuning: bool,
    /// Directory for plan.md, plan.json and startup.svg (created if missing; default
    /// `plan-<scenario name>`).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// A time with a unit (`10s`, `2m`), as scenario files write durations.
fn parse_time(s: &str) -> Result<Dur, String> {
    s.parse::<Dur>().map_err(|e| e.to_string())
}

/// Refuses, before any work, drill times that no drill could use: a failure that lasts no time,
/// one at or after `workload.timeout` (no run lasts that long), or times the scenario checks
/// refuse for every fault (more than 30 days).
fn check_drill_times(s: &models::spec::Scenario, at: Dur, lasting: Option<Dur>) -> Result<(), UsageError> {
    if lasting.is_some_and(|l| l.get().is_zero()) {
        return Err(UsageError(
            "--drill-for 0s: a failure that lasts no time drills nothing; give a duration such as 30s, or leave it out for failures that last"
                .into(),
        ));
    }
    if at.get() >= s.workload.timeout.get() {
        return Err(UsageError(format!(
            "--drill-at {at} is not before workload.timeout ({}): every run has ended by then; give a time within the rollout",
            s.workload.timeout
        )));
    }
    let mut t = s.clone();
    t.faults.push(models::spec::Fault::CrashEtcdLeader {
        at,
        repair: lasting.map(|l| Dur(at.get() + l.get())),
    });
    if let Some(e) = topologies::check::run(&t)
        .into_iter()
        .find(|f| f.severity() == topologies::Severity::Error && f.field.starts_with("faults["))
    {
        return Err(UsageError(format!("--drill-at / --drill-for: {}", e.message)));
    }
    Ok(())
}

/// Runs `kubetwin plan`.
pub(crate) fn cmd(a: PlanArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    // --pods, not the file's size, is planned, and judged below (the file's only if the same).
    let (scenario, origin) = crate::scenario::resolve(
        &a.scenario,
        a.params.as_deref(),
        Size::Given(std::slice::from_ref(&a.pods)),
    )?;
    let placements = plan::placement::parse(&a.placements, &scenario).map_err(UsageError)?;
    if a.drills {
        check_drill_times(&scenario, a.drill_at, a.drill_for)?;
    }
    if let Some(f) = topologies::check::workload_fits(&models::cluster::with_overrides(&scenario, Some(a.pods), None)) {
        return Err(UsageError(format!("--pods {}: `{}`: {}", a.pods, f.field, f.message)).into());
    }
    let dir = a
        .out_dir
        .unwrap_or_else(|| PathBuf::from(format!("plan-{}", topologies::generate::sanitize_name(&scenario.name))));
    // The output is checked before the plan is computed (which may take minutes), not after.
    let mut inputs: Vec<(&str, &Path)> = vec![("the scenario argument", Path::new(&a.scenario))];
    inputs.extend(a.params.as_deref().map(|p| ("--params", p)));
    crate::output::check_dir_outputs_not_inputs("--out-dir", &dir, &["plan.md", "startup.svg", "plan.json"], &inputs)?;
    let created = prepare_out_dir(&dir)?;
    if created {
        validate::atomic_file::created_output_dir(&dir, false);
    }
    let md_path = dir.join("plan.md");
    let svg_path = dir.join("startup.svg");
    let json_path = dir.join("plan.json");
    let written = (|| {
        for path in [&md_path, &svg_path, &json_path] {
            check_plan_file(&dir, path)?;
        }
        let extra = plan::Extra {
            drills: a.drills.then_some((a.drill_at, a.drill_for)),
            tuning: a.tuning,
        };
        let report = plan::build(&scenario, &origin, a.pods, a.reps, a.seed, &placements, extra)?;
        nothing_finished(&report)?;
        let text = plan::report::markdown(&report);
        let svg = report.svg()?;
        let json =
            serde_json::to_string_pretty(&plan::json::to_json(&report, plan::report::recommended_option(&report)))?;
        // One output: the report, its figure and its JSON are replaced together or (on any
        // failure) not at all.
        write_atomic_set(&[
            (&md_path, text.as_bytes()),
            (&svg_path, svg.as_bytes()),
            (&json_path, json.as_bytes()),
        ])
        .context("cannot write the plan")?;
        anyhow::Ok((report, text))
    })();
    if created {
        validate::atomic_file::created_output_dir(&dir, true);
    }
    let (report, text) = match written {
        Ok(done) => done,
        Err(e) => {
            if created {
                // Leave no empty directory behind (fails harmlessly if anything is in it).
                let _ = std::fs::remove_dir(&dir);
            }
            return Err(e);
        }
    };
    print!("{text}");
    println!();
    // stdout is the same, bit for bit, whatever the thread count; the wall time goes to stderr.
    // What was run besides the placement options: the drills and the settings.
    let extra: String = [
        report
            .drills
            .as_ref()
            .map(|d| format!(", {}", crate::output::count(d.results.len(), "drill"))),
        report
            .tuning
            .as_ref()
            .map(|t| format!(", {}", crate::output::count(t.len(), "setting"))),
    ]
    .into_iter()
    .flatten()
    .collect();
    println!(
        "wrote {}, {} and {} ({}{extra} x {} of {})",
        md_path.display(),
        svg_path.display(),
        json_path.display(),
        crate::output::count(report.options.len(), "option"),
        crate::output::count(a.reps as usize, "replication"),
        crate::output::count(a.pods as usize, "pod"),
    );
    warn_coarse_clock(&report);
    eprintln!("plan computed and written in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// Warns on stderr, as `run` and `sweep` do, when the scenario's clock ticks less often than
/// the pods of the plan's first option start: plan.md's observer reading (which says so too)
/// is then 0 s or one tick. The plan's other figures are exact times, which the clock does not
/// touch.
fn warn_coarse_clock(report: &plan::Plan) {
    let tick = report.scenario.workload.resolution;
    let exact = report.options[0].startup.time.as_ref().map(|t| t.mean);
    if let Some(mean) = exact.filter(|&m| m < tick.secs_f64()) {
        eprintln!(
            "warning: workload.resolution ({tick}) is longer than the start-up itself (exact mean {mean:.3} s): each reading behind plan.md's observer figure is 0 s or one tick, by the clock's phase, so the figure says next to nothing (the plan's other figures are exact times); {}",
            crate::commands::run::finer_clock_advice(mean)
        );
    }
}

/// Refuses a plan in which no replication of any placement option finished within
/// `workload.timeout`, as `run` and `sweep` do: such a plan has no time to report and nothing to
/// recommend, so no file is written and the command fails with the reason.
fn nothing_finished(report: &plan::Plan) -> anyhow::Result<()> {
    if report.options.iter().any(|o| o.startup.finished > 0) {
        return Ok(());
    }
    let scenario = &report.scenario;
    anyhow::bail!(
        "no replication finished within workload.timeout ({}) in any of the {} x {}, so there is no plan to report and no file was written; lengthen the timeout or check the scenario (its faults, loss, limits){}{}{}",
        scenario.workload.timeout,
        crate::output::count(report.options.len(), "placement option"),
        crate::output::count(report.reps as usize, "replication"),
        crate::output::late_scale_hint(scenario),
        crate::commands::run::never_repaired_hint(scenario),
        rescues(report)
    )
}

/// With `--tuning`, the settings under which replications do finish when none of the scenario's
/// own does, most finished first, each with the `--set` values that give it; empty otherwise.
fn rescues(report: &plan::Plan) -> String {
    let found: Vec<String> = report
        .tuning
        .iter()
        .flatten()
        .filter(|r| r.finished > 0)
        .map(|r| {
            let set: Vec<String> = r.tuning.set.iter().map(|v| format!("--set '{v}'")).collect();
            format!(
                "{}: {} of {} ({})",
                r.tuning.change,
                r.finished,
                r.reps,
                if r.tuning.combined {
                    "all of them".to_owned()
                } else {
                    set.join(" ")
                }
            )
        })
        .collect();
    if found.is_empty() {
        String::new()
    } else {
        format!(
            "\nsettings (--tuning) under which replications do finish: {}",
            found.join("; ")
        )
    }
}

/// Checks, before the plan is computed, that `path`, a file the plan writes in its `--out-dir`
/// `dir`, can be written: a directory in its place is in the way (the flag names a directory,
/// so a file name is no advice to give).
fn check_plan_file(dir: &Path, path: &Path) -> Result<(), UsageError> {
    if path.is_dir() {
        return Err(UsageError(format!(
            "--out-dir {}: {} is a directory, in the way of the file plan writes there; move it away or give another --out-dir",
            dir.display(),
            path.display()
        )));
    }
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    crate::output::check_output_file(&format!("--out-dir {}:", dir.display()), path, &name)
}

/// Makes sure `dir` is a directory that exists, creating it (and its parents) if missing, before
/// the plan is computed. Returns whether it was created here. A path that is a file, or under a
/// file, is a usage error that says so.
fn prepare_out_dir(dir: &Path) -> Result<bool, UsageError> {
    if dir.is_dir() {
        return Ok(false);
    }
    crate::output::check_output_dir("--out-dir", dir, "plan.md, plan.json and startup.svg")?;
    std::fs::create_dir_all(dir)
        .map_err(|e| UsageError(format!("--out-dir {}: cannot create it: {e}", dir.display())))?;
    Ok(true)
}
