//! `kubetwin run`: replications of one scenario cell, as the thesis's observer saw them.
//!
//! [`cmd`] resolves the scenario and lays the flags over it, runs the replications in parallel,
//! and reports them ([`report`]) from their summary ([`summary`]); the `--fault` syntax is in
//! [`faults`].

mod faults;
mod report;
mod summary;

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use models::cluster::{self, RunOutcome};
use models::spec::Scenario;
use rayon::prelude::*;
use sim_core::SimDuration;

use topologies::check::Size;

use crate::output::{write_atomic, UsageError};

pub(crate) use faults::{fault_text, never_repaired_hint, parse_fault, FaultNames};
use report::Report;
use summary::{StartupIntervals, Summary};

/// Arguments of `kubetwin run`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  kubetwin run thesis-2019 --pods 100 --delay 500ms --reps 10 --format json\nWith a fault:\n  kubetwin run thesis-2019 --pods 20 --fault 'crash master02 at 5s repair 60s'"
)]
pub(crate) struct RunArgs {
    /// A built-in scenario name (`thesis-2019`) or a scenario TOML file.
    scenario: String,
    /// Pods to scale the Deployment to (overrides the scenario's workload.replicas).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(validate::dataset::MAX_PODS)), allow_negative_numbers = true)]
    pods: Option<u32>,
    /// Delay added by netem between the control-plane site and the workers, with a unit
    /// (e.g. 100ms, 0.5s); overrides the scenario's netem.delay.
    #[arg(long, value_parser = parse_delay, allow_negative_numbers = true)]
    delay: Option<SimDuration>,
    /// Replications (run in parallel; results do not depend on the thread count).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    reps: u64,
    /// Experiment seed; replication r runs with a seed derived from (seed, r).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Parameter file laid over the scenario (default: the built-in scenario's shipped
    /// calibration, if any).
    #[arg(long)]
    params: Option<PathBuf>,
    /// Netem as `tc` writes it, between the control-plane site and the workers (or the scenario's
    /// `netem.near`/`far`): e.g. "delay 100ms 10ms distribution normal loss 0.1%". Overrides the
    /// scenario's netem delay, jitter and loss; `--delay` then overrides the delay alone.
    #[arg(long, value_parser = parse_netem)]
    netem: Option<String>,
    /// Inject a fault (repeatable), turmoil-style:
    /// `crash HOST at T [repair T2]`, `crash-etcd-leader at T [repair T2]`,
    /// `partition SITE_A SITE_B at T [repair T2]`, `isolate-site SITE at T [repair T2]`,
    /// `degrade SITE_A SITE_B [delay D [JITTER]] [loss P%] at T [repair T2]`
    /// (times with units, from the `kubectl create`). Adds to the scenario's `[[faults]]`.
    #[arg(long = "fault", value_parser = faults::parse_flag_fault)]
    faults: Vec<faults::FlagFault>,
    /// Write a Chrome trace (Perfetto, chrome://tracing) of replication 0 to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Runs that a measured mean would average (the thesis's figures are means of 5 runs,
    /// section 5.3): the output adds the 95 % prediction interval such a mean should fall in,
    /// which is wider than the CI of the simulated mean.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    measured_runs: u64,
}

/// Output formats of `run`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    /// Human-readable table.
    Table,
    /// One JSON object.
    Json,
    /// One CSV row per replication: scenario, pods, delay_ms, rep (0 first), rep_seed (the
    /// replication's own seed, derived from --seed), startup_observed_s, startup_exact_s,
    /// events.
    Csv,
}

/// Parses a duration with a unit, as scenario files write them.
pub(crate) fn parse_delay(s: &str) -> Result<SimDuration, String> {
    s.parse::<models::units::Dur>()
        .map(|d| d.get())
        .map_err(|e| e.to_string())
}

/// Runs `kubetwin run`.
pub(crate) fn cmd(a: RunArgs) -> anyhow::Result<()> {
    if let Some(trace) = &a.trace {
        check_trace_path(&a, trace)?;
    }
    let (scenario, origin) = scenario_with_flags(&a)?;
    if (a.delay.is_some() || a.netem.is_some()) && topologies::check::netem_on_no_route(&scenario) {
        // The file's own netem is warned of at load (W007); the flags' here.
        let flag = if a.delay.is_some() { "--delay" } else { "--netem" };
        eprintln!("warning: {flag}: {}", topologies::check::no_route_message(&scenario));
    }
    let outcomes = run_replications(&a, &scenario)?;
    let summary = Summary::of(&outcomes, a.reps);
    ensure_some_finished(&scenario, &outcomes, summary.incomplete)?;
    let intervals = StartupIntervals::of(&summary.observed, &scenario, a.measured_runs);
    let unfinished = summary.incomplete;
    let exact_mean = summary.exact.mean();
    Report {
        args: &a,
        scenario: &scenario,
        origin: &origin,
        outcomes: &outcomes,
        summary,
        intervals,
    }
    .print();
    // On stderr whatever the format (a script reading JSON or CSV sees it too), as `sweep` warns.
    // Some finished (else `ensure_some_finished` failed the run), so there are at least two.
    if unfinished > 0 {
        eprintln!(
            "warning: {unfinished} of {} replications did not finish within workload.timeout ({}): the figures are over the {} that did, so they understate the start-up",
            outcomes.len(),
            scenario.workload.timeout,
            outcomes.len() - unfinished
        );
    }
    // A clock that ticks less often than the pods start reads each start-up as 0 or one tick
    // (by its phase, models::observer): E026 lets it be as coarse as the timeout.
    let tick = scenario.workload.resolution;
    if let Some(exact_mean) = exact_mean.filter(|&m| m < tick.get().as_secs_f64()) {
        eprintln!(
            "warning: workload.resolution ({tick}) is longer than the start-up itself (exact mean {exact_mean:.3} s): each reading is 0 s or one tick, by the clock's phase, so the readings and their intervals say next to nothing; {}",
            finer_clock_advice(exact_mean)
        );
    }
    // Only a run that succeeds leaves its trace: a failed command writes no new file. Written
    // after the report, so that a trace the disk cannot take (the path was checked writable
    // up front) costs the trace and an exit status of 1, not the report.
    if let Some(path) = &a.trace {
        write_trace(path, &outcomes[0])?;
    }
    Ok(())
}

/// What to do about a clock coarser than a start-up of `mean_s` seconds: kubectl's whole
/// seconds where they are well below the start-up (10 s and more), else milliseconds.
pub(crate) fn finer_clock_advice(mean_s: f64) -> &'static str {
    if mean_s >= 10.0 {
        "expected a resolution well below the start-up (kubectl's whole seconds: \"1s\")"
    } else {
        "expected a resolution well below the start-up, such as \"1ms\" (kubectl's whole seconds are too coarse for a start-up of a few seconds)"
    }
}

/// Refuses a `--trace` path that is one of the inputs or cannot be written.
fn check_trace_path(a: &RunArgs, trace: &Path) -> Result<(), UsageError> {
    let mut inputs: Vec<(&str, &Path)> = vec![("--scenario", Path::new(&a.scenario))];
    inputs.extend(a.params.as_deref().map(|p| ("--params", p)));
    crate::output::check_not_an_input("--trace", trace, &inputs)?;
    // Before the replications run, not after: a bad path used to lose every result.
    crate::output::check_output_file("--trace", trace, "trace.json")?;
    Ok(())
}

/// A `--netem`: not blank (it would change nothing, where the user meant to set something).
fn parse_netem(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("no netem arguments; expected them as tc writes them, such as \"delay 100ms 10ms distribution normal loss 0.1%\", or no --netem to keep the scenario's netem".into())
    } else {
        Ok(s.to_owned())
    }
}

/// The scenario to run, with where it came from: resolved with its parameters, then `--netem`,
/// `--pods`, `--delay` and the `--fault`s laid over it, and checked.
fn scenario_with_flags(a: &RunArgs) -> anyhow::Result<(Scenario, String)> {
    // --pods replaces the file's size, which is then judged at load only if it is the same
    // (flag_errors judges the size run).
    let size = a
        .pods
        .as_ref()
        .map_or(Size::OfTheFile, |p| Size::Given(std::slice::from_ref(p)));
    let (base, origin) = crate::scenario::resolve(&a.scenario, a.params.as_deref(), size)?;
    let mut base = base;
    if let Some(tc) = &a.netem {
        base.netem.parse_tc(tc).map_err(UsageError)?;
    }
    let mut scenario = cluster::with_overrides(&base, a.pods, a.delay);
    let fault_names = FaultNames::new(
        &a.scenario,
        &origin,
        a.params.as_deref(),
        base.faults.len(),
        a.faults.iter().map(|f| f.text.clone()),
    );
    scenario.faults.extend(a.faults.iter().map(|f| f.fault.clone()));
    let diags = flag_errors(&scenario, a.delay.is_some(), &fault_names);
    if !diags.is_empty() {
        return Err(UsageError(diags.join("; ")).into());
    }
    Ok((scenario, origin))
}

/// The errors the checks find in `scenario`, each named by the flag that caused it
/// (`delay_given`: whether `--delay` was), faults as `fault_names` names them.
fn flag_errors(scenario: &Scenario, delay_given: bool, fault_names: &FaultNames) -> Vec<String> {
    // The loaded scenario passed its checks; what the flags changed is checked here (a fault
    // naming no host, a delay of more than 30 days, ...), and named by the flag.
    topologies::check::run(scenario)
        .into_iter()
        .filter(|f| topologies::check::lookup(f.code).is_none_or(|c| c.severity == topologies::Severity::Error))
        .map(|f| {
            if let Some(e) = fault_names.finding(&f) {
                return e;
            }
            let flag = match f.field.as_str() {
                x if x.starts_with("faults[") => "--fault".to_owned(),
                "netem.delay" if delay_given => "--delay".to_owned(),
                x if x.starts_with("netem.") => "--netem".to_owned(),
                // As plan and sweep name it: with the size.
                _ => format!("--pods {}", scenario.workload.replicas),
            };
            format!("{flag}: `{}`: {}", f.field, f.message)
        })
        .collect()
}

/// Runs the `--reps` replications in parallel, replication r with a seed derived from
/// (`--seed`, r), replication 0 traced if `--trace` is given.
fn run_replications(a: &RunArgs, scenario: &Scenario) -> anyhow::Result<Vec<RunOutcome>> {
    let reps: Vec<u64> = (0..a.reps).collect();
    let prepared = cluster::prepare(scenario)?;
    let outcomes: Vec<RunOutcome> = reps
        .par_iter()
        .map(|&r| prepared.run(sim_core::rng::replication_seed(a.seed, r), a.trace.is_some() && r == 0))
        .collect::<Result<_, _>>()?;
    Ok(outcomes)
}

/// Fails when no replication finished (`incomplete` of `outcomes` did not), saying how far
/// they got and what faults never repaired may explain it.
fn ensure_some_finished(scenario: &Scenario, outcomes: &[RunOutcome], incomplete: usize) -> anyhow::Result<()> {
    let most_running = outcomes
        .iter()
        .map(|o| o.counted_pods().filter(|p| p.watched.is_some()).count())
        .max()
        .unwrap_or(0);
    anyhow::ensure!(
        incomplete < outcomes.len(),
        "no replication finished within workload.timeout ({}): at most {most_running} of the {} pods were seen Running in any of them; lengthen the timeout or check the scenario (its faults, loss, limits){}{}",
        scenario.workload.timeout,
        scenario.workload.replicas,
        crate::output::late_scale_hint(scenario),
        never_repaired_hint(scenario)
    );
    Ok(())
}

/// Writes replication 0's Chrome trace to `path`.
fn write_trace(path: &Path, rep0: &RunOutcome) -> anyhow::Result<()> {
    let tracer = rep0.trace.as_ref().expect("replication 0 was traced");
    let mut buf = Vec::new();
    tracer.write_chrome_json(&mut buf)?;
    write_atomic(path, &buf).map_err(|e| anyhow::anyhow!("cannot write the trace to {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// kubectl's whole seconds are offered only where they are well below the start-up.
    #[test]
    fn a_finer_clock_is_offered_below_ten_seconds() {
        assert!(super::finer_clock_advice(23.6).contains("\"1s\""));
        for mean in [0.75, 1.2, 9.9] {
            let advice = super::finer_clock_advice(mean);
            assert!(
                advice.contains("\"1ms\"") && !advice.contains("\"1s\""),
                "{mean}: {advice}"
            );
        }
    }
}
