//! `kubetwin plan`: a planner's report on one scenario at N pods. It answers: how long until N
//! pods run; which sites are slowest and why; whether etcd is healthy at these round trips; which
//! of the given control-plane placements is best; which timeouts misfire and what to set. Printed
//! on the terminal and written as `DIR/plan.md` and `DIR/startup.svg`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

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
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(validate::dataset::MAX_PODS)))]
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
    /// Directory for plan.md and startup.svg (created if missing; default `plan-<scenario name>`).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// Runs `kubetwin plan`.
pub(crate) fn cmd(a: PlanArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let (scenario, origin) = crate::scenario::resolve(&a.scenario, a.params.as_deref())?;
    let placements = plan::placement::parse(&a.placements, &scenario).map_err(UsageError)?;
    if let Some(f) = topologies::check::workload_fits(&models::cluster::with_overrides(&scenario, Some(a.pods), None)) {
        return Err(UsageError(format!("--pods: {}", f.message)).into());
    }
    let report = plan::build(&scenario, &origin, a.pods, a.reps, a.seed, &placements)?;
    let text = plan::report::markdown(&report);
    let svg = report.svg()?;
    let dir = a
        .out_dir
        .unwrap_or_else(|| PathBuf::from(format!("plan-{}", topologies::generate::sanitize_name(&scenario.name))));
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let md_path = dir.join("plan.md");
    let svg_path = dir.join("startup.svg");
    // One output: the report and its figure are replaced together or (on any failure) not at all.
    write_atomic_set(&[(&md_path, text.as_bytes()), (&svg_path, svg.as_bytes())]).context("cannot write the plan")?;
    print!("{text}");
    println!();
    println!(
        "wrote {} and {} ({} option(s) x {} replications of {} pods in {:.1} s)",
        md_path.display(),
        svg_path.display(),
        report.options.len(),
        a.reps,
        a.pods,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
