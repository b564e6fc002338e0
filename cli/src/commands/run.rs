//! `kubetwin run`: replications of one scenario cell, as the thesis's observer saw them.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use models::cluster::{self, RunOutcome};
use rayon::prelude::*;
use serde_json::json;
use sim_core::stats::OnlineStats;
use sim_core::SimDuration;

use crate::output::{write_atomic, UsageError};

/// Arguments of `kubetwin run`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  kubetwin run thesis-2019 --pods 100 --delay 500ms --reps 10 --format json\nWith a fault:\n  kubetwin run thesis-2019 --pods 20 --fault 'crash master02 at 5s repair 60s'"
)]
pub(crate) struct RunArgs {
    /// A built-in scenario name (`thesis-2019`) or a scenario TOML file.
    scenario: String,
    /// Pods to scale the Deployment to (overrides the scenario's workload.replicas).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(validate::dataset::MAX_PODS)))]
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
    #[arg(long)]
    netem: Option<String>,
    /// Inject a fault (repeatable), turmoil-style:
    /// `crash HOST at T [repair T2]`, `crash-etcd-leader at T [repair T2]`,
    /// `partition SITE_A SITE_B at T [repair T2]`, `isolate-site SITE at T [repair T2]`,
    /// `degrade SITE_A SITE_B [delay D [JITTER]] [loss P%] at T [repair T2]`
    /// (times with units, from the `kubectl create`). Adds to the scenario's `[[faults]]`.
    #[arg(long = "fault", value_parser = parse_fault)]
    faults: Vec<models::spec::Fault>,
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
    /// One CSV row per replication.
    Csv,
}

/// Parses a `--fault` description.
pub(crate) fn parse_fault(text: &str) -> Result<models::spec::Fault, String> {
    use models::spec::Fault;
    let words: Vec<&str> = text.split_whitespace().collect();
    let usage = "expected `crash HOST at T [repair T2]`, `crash-etcd-leader at T [repair T2]`, \
                 `partition SITE_A SITE_B at T [repair T2]`, `isolate-site SITE at T [repair T2]` or \
                 `degrade SITE_A SITE_B [delay D [J]] [loss P%] at T [repair T2]`";
    let (head, rest) = match words.iter().position(|w| *w == "at") {
        Some(i) => (&words[..i], &words[i + 1..]),
        None => return Err(format!("`{text}`: no `at TIME`; {usage}")),
    };
    let dur = |w: &str| w.parse::<models::units::Dur>().map_err(|e| format!("`{text}`: {e}"));
    let (at, repair) = match rest {
        [t] => (dur(t)?, None),
        [t, "repair", r] => (dur(t)?, Some(dur(r)?)),
        _ => return Err(format!("`{text}`: {usage}")),
    };
    match head {
        ["crash", host] => Ok(Fault::Crash {
            host: (*host).to_owned(),
            at,
            repair,
        }),
        ["crash-etcd-leader"] => Ok(Fault::CrashEtcdLeader { at, repair }),
        ["partition", a, b] => Ok(Fault::Partition {
            a: (*a).to_owned(),
            b: (*b).to_owned(),
            at,
            repair,
        }),
        ["isolate-site", site] => Ok(Fault::IsolateSite {
            site: (*site).to_owned(),
            at,
            repair,
        }),
        ["degrade", a, b, rest @ ..] => {
            let mut netem = models::spec::Netem::default();
            netem.parse_tc(&rest.join(" ")).map_err(|e| format!("`{text}`: {e}"))?;
            Ok(Fault::Degrade {
                a: (*a).to_owned(),
                b: (*b).to_owned(),
                delay: netem.delay,
                jitter: netem.jitter,
                loss_pct: netem.loss_pct,
                at,
                repair,
            })
        }
        _ => Err(format!("`{text}`: {usage}")),
    }
}

/// What a run that never finished may owe to faults never repaired: they are named, and for a
/// worker site cut off for good, the recovery that Kubernetes would make (eviction from
/// unreachable nodes); for a registry on the overlay that never comes back, that no pull from
/// it can succeed.
pub(crate) fn never_repaired_hint(scenario: &models::spec::Scenario) -> String {
    use models::spec::Fault;
    let open: Vec<&Fault> = scenario.faults.iter().filter(|f| f.repair().is_none()).collect();
    if open.is_empty() {
        return String::new();
    }
    let names: Vec<String> = open.iter().map(|f| format!("`{}`", fault_text(f))).collect();
    let registry = scenario.runtime.registry_host.as_deref();
    if open
        .iter()
        .any(|f| matches!(f, Fault::Crash { host, .. } if Some(host.as_str()) == registry))
    {
        return format!(
            "\nnever repaired: {}; the registry (runtime.registry_host) never comes back, so every pull from it fails into the image back-off: a pod starts only on a node that has the image with runtime.pull_policy = \"IfNotPresent\"; repair the registry",
            names.join(", ")
        );
    }
    if open
        .iter()
        .any(|f| matches!(f, Fault::Crash { host, .. } if *host == scenario.haproxy.host))
    {
        return format!(
            "\nnever repaired: {}; every client (kubelets, controllers, scheduler, kubectl) reaches the apiservers through the load balancer, the single point of failure of this control plane: nothing goes on until it is repaired",
            names.join(", ")
        );
    }
    let cuts = open.iter().any(|f| {
        matches!(
            f,
            Fault::IsolateSite { .. } | Fault::Partition { .. } | Fault::Crash { .. }
        )
    });
    let eviction = if cuts {
        format!(
            "; pods on workers cut off for good run again only once the node lifecycle controller has evicted them (node_monitor_grace_period, {}, then the {}-s toleration for an unreachable node), and it evicts nothing while no node of the zone is Ready, or while more than 2 nodes making at least 55 % of a cluster of at most 50 are NotReady (docs/model.md)",
            scenario.kubernetes.controller_manager.node_monitor_grace_period,
            models::node_lifecycle::UNREACHABLE_TOLERATION.as_secs_f64()
        )
    } else {
        String::new()
    };
    format!("\nnever repaired: {}{eviction}", names.join(", "))
}

/// How `run` and `plan` name a fault to the user (the models' reports carry Rust's Debug form,
/// `Crash { host: "master02", .. }`): in the `--fault` syntax, which [`parse_fault`] reads back,
/// e.g. `crash master02 at 5s repair 60s`.
pub(crate) fn fault_text(f: &models::spec::Fault) -> String {
    use models::spec::Fault;
    let head = match f {
        Fault::Crash { host, .. } => format!("crash {host}"),
        Fault::CrashEtcdLeader { .. } => "crash-etcd-leader".to_owned(),
        Fault::Partition { a, b, .. } => format!("partition {a} {b}"),
        Fault::IsolateSite { site, .. } => format!("isolate-site {site}"),
        Fault::Degrade {
            a,
            b,
            delay,
            jitter,
            loss_pct,
            ..
        } => {
            let mut t = format!("degrade {a} {b}");
            if !delay.get().is_zero() || !jitter.get().is_zero() {
                t.push_str(&format!(" delay {delay}"));
                if !jitter.get().is_zero() {
                    t.push_str(&format!(" {jitter}"));
                }
            }
            if *loss_pct != 0.0 {
                t.push_str(&format!(" loss {loss_pct}%"));
            }
            t
        }
    };
    let repair = f.repair().map_or(String::new(), |r| format!(" repair {r}"));
    format!("{head} at {}{repair}", f.at())
}

/// Parses a duration with a unit, as scenario files write them.
pub(crate) fn parse_delay(s: &str) -> Result<SimDuration, String> {
    s.parse::<models::units::Dur>()
        .map(|d| d.get())
        .map_err(|e| e.to_string())
}

const PHASES: [&str; 4] = ["create_to_schedule", "schedule_to_run", "run_to_watch", "pod_startup"];

fn phase_values(o: &RunOutcome) -> [OnlineStats; 4] {
    let mut s: [OnlineStats; 4] = Default::default();
    for p in o.counted_pods() {
        for (i, v) in [
            p.create_to_schedule(),
            p.schedule_to_run(),
            p.run_to_watch(),
            p.pod_startup(),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(v) = v {
                s[i].push(v);
            }
        }
    }
    s
}

/// Prints what fault `fault` did (`f`, its report from replication 0).
fn print_fault(fault: &models::spec::Fault, f: &models::cluster::FaultReport, grace: models::units::Dur) {
    // The text holds the times (`crash lb at 5s repair 60s`).
    println!(
        "fault (replication 0): {}{}",
        fault_text(fault),
        if f.repair_s.is_none() { ", never repaired" } else { "" }
    );
    if f.after_run {
        println!("  it came after the run had ended: it changed nothing");
        return;
    }
    if let Some(d) = f.haproxy_marked_down_s {
        println!(
            "  HAProxy marked it down at {d:.2} s ({:.2} s after the fault)",
            d - f.at_s
        );
    }
    if let Some(u) = f.haproxy_marked_up_s {
        println!("  HAProxy marked it up again at {u:.2} s");
    }
    for &(a, b) in &f.etcd_stalls {
        match b {
            Some(b) => println!("  etcd committed no write from {a:.2} s to {b:.2} s ({:.2} s)", b - a),
            None => println!("  etcd committed no write from {a:.2} s to the end of the run"),
        }
    }
    for (client, t, to) in &f.failovers {
        println!(
            "  {client} reconnected to {to} at {t:.2} s ({:.2} s after the fault)",
            t - f.at_s
        );
    }
    println!(
        "  pods created during the fault: {}; pods turned Running during it: {}",
        f.pods_created_during, f.pods_running_during
    );
    if f.pods_evicted > 0 {
        println!(
            "  pods evicted from nodes it silenced ({grace} NotReady, then the {}-s toleration): {}",
            models::node_lifecycle::UNREACHABLE_TOLERATION.as_secs_f64(),
            f.pods_evicted
        );
    }
}

/// etcd's elections over the replications, when they were simulated (faults, or jitter or loss
/// between the masters): leaders elected after the first, and seconds without writes, each a
/// mean per replication.
fn etcd_means(outcomes: &[models::cluster::RunOutcome]) -> Option<(f64, f64)> {
    let reports: Vec<&models::cluster::EtcdReport> = outcomes.iter().filter_map(|o| o.etcd.as_ref()).collect();
    if reports.is_empty() {
        return None;
    }
    let n = reports.len() as f64;
    let elections = reports.iter().map(|e| e.elections as f64).sum::<f64>() / n;
    let stalled = reports.iter().map(|e| e.stalled_s).sum::<f64>() / n;
    Some((elections, stalled))
}

/// Prints etcd's simulated elections: the means, and replication 0's stretches without writes.
fn print_etcd(outcomes: &[models::cluster::RunOutcome]) {
    let Some((elections, stalled)) = etcd_means(outcomes) else {
        return;
    };
    println!(
        "etcd's elections (simulated message by message: the run has faults, or jitter or loss between the masters):"
    );
    println!(
        "  leaders elected after the first: {elections:.2}; writes stalled {stalled:.2} s (means per replication)"
    );
    if let Some(e) = outcomes.first().and_then(|o| o.etcd.as_ref()) {
        if !e.write_stalls.is_empty() {
            let shown: Vec<String> = e
                .write_stalls
                .iter()
                .take(8)
                .map(|&(a, b)| match b {
                    Some(b) => format!("{a:.2}-{b:.2} s"),
                    None => format!("from {a:.2} s to the end"),
                })
                .collect();
            let more = e.write_stalls.len().saturating_sub(shown.len());
            println!(
                "  replication 0, without writes: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
}

fn nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// Runs `kubetwin run`.
pub(crate) fn cmd(a: RunArgs) -> anyhow::Result<()> {
    if let Some(trace) = &a.trace {
        let mut inputs: Vec<(&str, &Path)> = vec![("--scenario", Path::new(&a.scenario))];
        inputs.extend(a.params.as_deref().map(|p| ("--params", p)));
        crate::output::check_not_an_input("--trace", trace, &inputs)?;
        // Before the replications run, not after: a bad path used to lose every result.
        crate::output::check_output_file("--trace", trace, "trace.json")?;
    }
    let (base, origin) = crate::scenario::resolve(&a.scenario, a.params.as_deref())?;
    let mut base = base;
    if let Some(tc) = &a.netem {
        base.netem.parse_tc(tc).map_err(UsageError)?;
    }
    let mut scenario = cluster::with_overrides(&base, a.pods, a.delay);
    scenario.faults.extend(a.faults.iter().cloned());
    // The loaded scenario passed its checks; what the flags changed is checked here (a fault
    // naming no host, a delay of more than 30 days, ...), and named by the flag.
    let diags: Vec<String> = topologies::check::run(&scenario)
        .into_iter()
        .filter(|f| topologies::check::lookup(f.code).is_none_or(|c| c.severity == topologies::Severity::Error))
        .map(|f| {
            let flag = match f.field.as_str() {
                x if x.starts_with("faults[") => "--fault",
                "netem.delay" if a.delay.is_some() => "--delay",
                x if x.starts_with("netem.") => "--netem",
                _ => "--pods",
            };
            format!("{flag}: `{}`: {}", f.field, f.message)
        })
        .collect();
    if !diags.is_empty() {
        return Err(UsageError(diags.join("; ")).into());
    }
    let reps: Vec<u64> = (0..a.reps).collect();
    let outcomes: Vec<RunOutcome> = reps
        .par_iter()
        .map(|&r| {
            cluster::run(
                &scenario,
                sim_core::rng::replication_seed(a.seed, r),
                a.trace.is_some() && r == 0,
            )
        })
        .collect::<Result<_, _>>()?;
    let mut observed = OnlineStats::new();
    let mut exact = OnlineStats::new();
    let mut incomplete = 0;
    for o in &outcomes {
        match (o.startup_observed_s, o.startup_exact_s) {
            (Some(v), Some(e)) => {
                observed.push(v);
                exact.push(e);
            }
            _ => incomplete += 1,
        }
    }
    let mut phases: [OnlineStats; 4] = Default::default();
    for o in &outcomes {
        for (acc, s) in phases.iter_mut().zip(phase_values(o)) {
            if let Some(m) = s.mean() {
                acc.push(m);
            }
        }
    }
    let mut waits: Vec<(String, f64)> = Vec::new();
    for o in &outcomes {
        for w in &o.waits {
            match waits.iter_mut().find(|(n, _)| *n == w.name) {
                Some(e) => e.1 += w.total_s / a.reps as f64,
                None => waits.push((w.name.clone(), w.total_s / a.reps as f64)),
            }
        }
    }
    let most_running = outcomes
        .iter()
        .map(|o| o.counted_pods().filter(|p| p.watched.is_some()).count())
        .max()
        .unwrap_or(0);
    anyhow::ensure!(
        incomplete < outcomes.len(),
        "no replication finished within workload.timeout ({}): at most {most_running} of the {} pods were seen Running in any of them; lengthen the timeout or check the scenario (its faults, loss, limits){}",
        scenario.workload.timeout,
        scenario.workload.replicas,
        never_repaired_hint(&scenario)
    );
    // Only a run that succeeds leaves its trace: a failed command writes no new file.
    if let Some(path) = &a.trace {
        let tracer = outcomes[0].trace.as_ref().expect("replication 0 was traced");
        let mut buf = Vec::new();
        tracer.write_chrome_json(&mut buf)?;
        write_atomic(path, &buf).map_err(|e| anyhow::anyhow!("cannot write the trace to {}: {e}", path.display()))?;
    }
    let delay_ms = scenario.netem.delay.get().as_millis_f64();
    let pods = scenario.workload.replicas;
    // Start-up intervals: reported with their lower bound clamped at 0 s.
    let interval = |c: sim_core::stats::ConfidenceInterval| crate::output::startup_interval((c.lo, c.hi));
    // Whole-second readings that happen to coincide keep the spread that reading gives them.
    let res = scenario.workload.resolution.secs_f64();
    let ci = observed.confidence_interval_read_at(0.95, res).map(interval);
    let pi = observed
        .prediction_interval_for_mean_read_at(a.measured_runs, 0.95, res)
        .map(interval);
    match a.format {
        Format::Json => {
            let samples: Vec<f64> = outcomes.iter().filter_map(|o| o.startup_observed_s).collect();
            let v = json!({
                "scenario": scenario.name,
                "source": origin,
                "pods": pods,
                "delay_ms": delay_ms,
                "placement": scenario.netem.placement,
                "reps": a.reps,
                "seed": a.seed,
                "incomplete": incomplete,
                "startup_s": {
                    "mean": observed.mean(),
                    "ci95": ci.map(|(l, h)| vec![l, h]),
                    "pi95_of_measured_mean": pi.map(|(l, h)| vec![l, h]),
                    "measured_runs": a.measured_runs,
                    "min": observed.min(),
                    "max": observed.max(),
                    "samples": samples,
                    "resolution_s": scenario.workload.resolution.secs_f64(),
                },
                "startup_exact_s": { "mean": exact.mean(), "ci95": exact.ci95().map(interval).map(|(l, h)| vec![l, h]) },
                "phases": PHASES.iter().zip(&phases).map(|(n, s)| ((*n).to_owned(), json!(s.mean()))).collect::<serde_json::Map<_, _>>(),
                "waits_s": waits.iter().map(|(n, v)| (n.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "events_mean": outcomes.iter().map(|o| o.events as f64).sum::<f64>() / a.reps as f64,
                // The reports come in the scenario's fault order; each names its fault in the
                // --fault syntax rather than the models' Debug form.
                "faults_rep0": outcomes[0].faults.iter().zip(&scenario.faults).map(|(r, f)| {
                    let mut v = json!(r);
                    v["fault"] = json!(fault_text(f));
                    v
                }).collect::<Vec<_>>(),
                // `null` when nothing could change who leads etcd (no faults, steady round
                // trips between the masters), so that elections were not simulated.
                "etcd": etcd_means(&outcomes).map(|(elections, stalled)| json!({
                    "elections_mean": elections,
                    "write_stalled_s_mean": stalled,
                    "rep0": outcomes[0].etcd,
                })),
            });
            println!("{v}");
        }
        Format::Csv => {
            println!("scenario,pods,delay_ms,rep,seed,startup_observed_s,startup_exact_s,events");
            for (r, o) in outcomes.iter().enumerate() {
                println!(
                    "{},{},{},{},{},{},{},{}",
                    crate::output::csv_field(&scenario.name),
                    pods,
                    delay_ms,
                    r,
                    sim_core::rng::replication_seed(a.seed, r as u64),
                    o.startup_observed_s.map_or(String::new(), |v| v.to_string()),
                    o.startup_exact_s.map_or(String::new(), |v| format!("{v:.6}")),
                    o.events
                );
            }
        }
        Format::Table => {
            println!(
                "{origin}: {pods} pods, +{delay_ms} ms netem{} ({}), {} replication{}, seed {}",
                if scenario.netem.jitter.get().is_zero() && scenario.netem.loss_pct == 0.0 {
                    String::new()
                } else {
                    format!(
                        " ± {} jitter, {} % loss",
                        scenario.netem.jitter, scenario.netem.loss_pct
                    )
                },
                scenario.netem.placement.as_str(),
                a.reps,
                if a.reps == 1 { "" } else { "s" },
                a.seed
            );
            let resolution = scenario.workload.resolution;
            // Readings are whole multiples of the resolution: whole seconds print without
            // decimals, finer ones with the milliseconds.
            let whole_seconds = resolution.get().as_nanos().is_multiple_of(1_000_000_000);
            let places = if whole_seconds { 0 } else { 3 };
            if resolution.get() == sim_core::SimDuration::from_secs(1) {
                println!("start-up as kubectl -w shows it (whole seconds):");
            } else {
                println!("start-up as kubectl -w shows it (read every {resolution}, workload.resolution):");
            }
            println!(
                "  mean {:.2} s   95% CI {}   min {:.places$} s   max {:.places$} s",
                nan(observed.mean()),
                ci.map_or("n/a (1 rep)".into(), |(l, h)| format!("[{l:.2}, {h:.2}]")),
                nan(observed.min()),
                nan(observed.max())
            );
            if let Some((l, h)) = pi {
                println!(
                    "  a mean of {} measured run{} should fall in [{l:.2}, {h:.2}] (95% prediction interval)",
                    a.measured_runs,
                    if a.measured_runs == 1 { "" } else { "s" }
                );
            }
            println!("  exact mean {:.3} s", nan(exact.mean()));
            if incomplete > 0 {
                println!(
                    "  {incomplete} of {} replications did not finish within workload.timeout: the figures above are over the {} that did, so they understate the start-up",
                    a.reps,
                    outcomes.len() - incomplete
                );
            }
            println!("mean per pod (ClusterLoader2 phases):");
            for (n, s) in PHASES.iter().zip(&phases) {
                println!("  {n:<20} {:>8.3} s", nan(s.mean()));
            }
            for (f, report) in scenario.faults.iter().zip(&outcomes[0].faults) {
                print_fault(
                    f,
                    report,
                    scenario.kubernetes.controller_manager.node_monitor_grace_period,
                );
            }
            print_etcd(&outcomes);
            println!("waiting per limiter / queue (summed over pods, mean per replication):");
            for (n, v) in &waits {
                println!("  {n:<62} {v:>9.2} s");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Faults are shown in the `--fault` syntax (not Rust's Debug form), and that text reads back
    /// as the same fault.
    #[test]
    fn a_fault_is_shown_as_the_fault_flag_writes_it() {
        for text in [
            "crash master02 at 5s",
            "crash lb at 5s repair 60s",
            "crash-etcd-leader at 1500ms repair 100s",
            "partition vlan10 vlan20 at 0s repair 30s",
            "isolate-site vlan30 at 3s",
            "degrade vlan10 vlan20 delay 300ms 50ms loss 5% at 10s repair 40s",
            "degrade vlan10 vlan20 loss 0.1% at 0s",
            "degrade vlan10 vlan20 delay 2s at 0s repair 10s",
        ] {
            let fault = parse_fault(text).unwrap();
            assert_eq!(fault_text(&fault), text);
            assert_eq!(parse_fault(&fault_text(&fault)).unwrap(), fault);
        }
    }
}
