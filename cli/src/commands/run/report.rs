//! How `run` reports its replications: one JSON object, one CSV row per replication, or the
//! human-readable table.

use models::cluster::RunOutcome;
use models::spec::Scenario;
use serde_json::json;
use sim_core::stats::OnlineStats;

use super::faults::fault_text;
use super::summary::{etcd_means, shown, StartupIntervals, Summary, PHASES};
use super::{Format, RunArgs};

/// Up to this many kubelets' reconnections after a fault are listed one by one; past it, one
/// line sums them up.
const KUBELET_LINES: usize = 8;

/// Said beside the observing kubectl's reconnection: `kubectl get -w` v1.16 neither times out
/// nor dials again by itself, so when it does is the model's assumption of a person watching
/// (`models::failover`, `ClientRole::Operator`), and the start-up kubectl shows in a fault run
/// depends on it.
const OPERATOR_ASSUMED: &str = " (assumed: the person watching restarts `kubectl get -w` one to two node-status periods after its apiserver is lost, 10 to 20 s at v1.16's defaults; kubectl v1.16 neither times out a watch nor dials again by itself, so the start-up it shows depends on this)";

/// Everything a report of `run` shows: the command line, the scenario as the flags left it, and
/// the replications with their summary.
pub(super) struct Report<'a> {
    /// The command line.
    pub(super) args: &'a RunArgs,
    /// The scenario that ran, flags applied.
    pub(super) scenario: &'a Scenario,
    /// Where the scenario came from (built-in, file, parameter file).
    pub(super) origin: &'a str,
    /// The replications, in order.
    pub(super) outcomes: &'a [RunOutcome],
    /// Their figures.
    pub(super) summary: Summary,
    /// The intervals of their observed start-up.
    pub(super) intervals: StartupIntervals,
}

impl Report<'_> {
    /// Prints the report in the format `--format` asks for.
    pub(super) fn print(&self) {
        match self.args.format {
            Format::Json => self.print_json(),
            Format::Csv => self.print_csv(),
            Format::Table => self.print_table(),
        }
    }

    /// `--format json`: one JSON object.
    fn print_json(&self) {
        let (a, scenario, origin, outcomes) = (self.args, self.scenario, self.origin, self.outcomes);
        let Summary {
            observed,
            exact,
            incomplete,
            phases,
            waits,
            in_flight,
        } = &self.summary;
        let StartupIntervals { ci, pi } = self.intervals;
        let delay_ms = scenario.netem.delay.get().as_millis_f64();
        let pods = scenario.workload.replicas;
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
            "startup_exact_s": { "mean": exact.mean(), "ci95": exact.ci95().map(shown).map(|(l, h)| vec![l, h]) },
            "phases": PHASES.iter().zip(phases).map(|(n, s)| ((*n).to_owned(), json!(s.mean()))).collect::<serde_json::Map<_, _>>(),
            "waits_s": waits.iter().map(|(n, v)| (n.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "events_mean": outcomes.iter().map(|o| o.events as f64).sum::<f64>() / a.reps as f64,
            // Each apiserver's max-in-flight filter: the most requests held at once in any
            // replication, against the limits, and the 429s per replication.
            "in_flight": scenario.haproxy.backends.iter().zip(in_flight).map(|(b, f)| json!({
                "apiserver": b,
                "peak_read_only": f.peak_read_only,
                "peak_mutating": f.peak_mutating,
                "refused_mean": f.refused_mean,
            })).collect::<Vec<_>>(),
            "in_flight_limits": {
                "max_requests_inflight": scenario.kubernetes.apiserver.max_requests_inflight,
                "max_mutating_requests_inflight": scenario.kubernetes.apiserver.max_mutating_requests_inflight,
            },
            // The reports come in the scenario's fault order; each names its fault in the
            // --fault syntax rather than the models' Debug form.
            "faults_rep0": outcomes[0].faults.iter().zip(&scenario.faults).map(|(r, f)| {
                let mut v = json!(r);
                v["fault"] = json!(fault_text(f));
                v
            }).collect::<Vec<_>>(),
            // `null` when nothing could change who leads etcd (no faults, steady round
            // trips between the masters), so that elections were not simulated.
            "etcd": etcd_means(outcomes).map(|(elections, stalled)| json!({
                "elections_mean": elections,
                "write_stalled_s_mean": stalled,
                "rep0": outcomes[0].etcd,
            })),
        });
        println!("{v}");
    }

    /// `--format csv`: a header, then one row per replication.
    fn print_csv(&self) {
        let (a, scenario) = (self.args, self.scenario);
        let delay_ms = scenario.netem.delay.get().as_millis_f64();
        let pods = scenario.workload.replicas;
        // `rep_seed`: the replication's own seed, drawn from `--seed` (sweep's `seed` column is
        // the experiment's `--seed` itself).
        println!("scenario,pods,delay_ms,rep,rep_seed,startup_observed_s,startup_exact_s,events");
        for (r, o) in self.outcomes.iter().enumerate() {
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

    /// `--format table`: the cell, the start-up, the phases, what each fault did, etcd's
    /// elections and the waits.
    fn print_table(&self) {
        let scenario = self.scenario;
        self.print_heading();
        self.print_startup();
        print_phases(&self.summary.phases);
        for (f, report) in scenario.faults.iter().zip(&self.outcomes[0].faults) {
            print_fault(
                f,
                report,
                scenario.kubernetes.controller_manager.node_monitor_grace_period,
            );
        }
        print_etcd(self.outcomes);
        print_waits(&self.summary.waits);
        print_in_flight(self.scenario, &self.summary.in_flight);
    }

    /// The table's first line: the scenario's origin, the cell, its netem, the replications.
    fn print_heading(&self) {
        let (a, scenario, origin) = (self.args, self.scenario, self.origin);
        let delay_ms = scenario.netem.delay.get().as_millis_f64();
        let pods = scenario.workload.replicas;
        println!(
            "{origin}: {pods} pods, +{delay_ms} ms netem{} ({}), {} replication{}, seed {}",
            if scenario.netem.jitter.get().is_zero() && scenario.netem.loss_pct == 0.0 {
                String::new()
            } else {
                format!(
                    " ± {} jitter, {} % loss",
                    scenario.netem.jitter,
                    compact(scenario.netem.loss_pct)
                )
            },
            scenario.netem.placement.as_str(),
            a.reps,
            if a.reps == 1 { "" } else { "s" },
            a.seed
        );
    }

    /// The table's start-up: as `kubectl -w` read it, with its intervals, the exact mean, and
    /// the replications that did not finish.
    fn print_startup(&self) {
        let (a, scenario) = (self.args, self.scenario);
        let Summary {
            observed,
            exact,
            incomplete,
            ..
        } = &self.summary;
        let incomplete = *incomplete;
        let StartupIntervals { ci, pi } = self.intervals;
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
                self.outcomes.len() - incomplete
            );
        }
    }
}

/// The table's phases: the mean per pod of each.
fn print_phases(phases: &[OnlineStats; 4]) {
    println!("mean per pod (ClusterLoader2 phases):");
    for (n, s) in PHASES.iter().zip(phases) {
        println!("  {n:<20} {:>8.3} s", nan(s.mean()));
    }
}

/// The table's waits per limiter or queue.
fn print_waits(waits: &[(String, f64)]) {
    println!("waiting per limiter / queue (summed over pods, mean per replication):");
    let width = waits.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0).max(62);
    for (n, v) in waits {
        println!("  {n:<width$} {v:>9.2} s");
    }
}

/// The table's max-in-flight filters: each apiserver's most requests held at once against its
/// limits, and its 429s.
fn print_in_flight(scenario: &models::spec::Scenario, in_flight: &[super::summary::InFlightSummary]) {
    let api = &scenario.kubernetes.apiserver;
    let limit = |n: u32| {
        if n == 0 {
            "no limit".to_owned()
        } else {
            format!("limit {n}")
        }
    };
    println!(
        "apiserver requests in flight, most at once in any replication (--max-requests-inflight {}, --max-mutating-requests-inflight {}):",
        api.max_requests_inflight, api.max_mutating_requests_inflight
    );
    for (b, f) in scenario.haproxy.backends.iter().zip(in_flight) {
        let refused = if f.refused_mean > 0.0 {
            format!("{:.1} requests refused with 429 per replication", f.refused_mean)
        } else {
            "none refused".to_owned()
        };
        println!(
            "  {:<10} {} read-only ({}), {} mutating ({}); {refused}",
            b,
            f.peak_read_only,
            limit(api.max_requests_inflight),
            f.peak_mutating,
            limit(api.max_mutating_requests_inflight),
        );
    }
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
    // A stopped member's apiserver answers HAProxy's TCP check until kubeadm's liveness
    // probe has it killed.
    let why = match fault {
        models::spec::Fault::CrashEtcdLeader { .. } => ", its apiserver killed by the liveness probe",
        _ => "",
    };
    // The crashed master is "it"; a network fault (or a router's crash) may cut off more than
    // one, each named.
    let crashed = match fault {
        models::spec::Fault::Crash { host, .. } => Some(host.as_str()),
        _ => None,
    };
    for mark in &f.haproxy_marks {
        let it = if crashed == Some(mark.apiserver.as_str()) {
            "it"
        } else {
            mark.apiserver.as_str()
        };
        println!(
            "  HAProxy marked {it} down at {:.2} s ({:.2} s after the fault{why})",
            mark.down_s,
            mark.down_s - f.at_s
        );
        if let Some(u) = mark.up_s {
            println!("  HAProxy marked {it} up again at {u:.2} s");
        }
    }
    for &(a, b) in &f.etcd_stalls {
        match b {
            Some(b) => println!("  etcd committed no write from {a:.2} s to {b:.2} s ({:.2} s)", b - a),
            None => println!("  etcd committed no write from {a:.2} s to the end of the run"),
        }
    }
    // Kubelets by the hundred in a consortium: past a few, one line for them all (each is in
    // the JSON's `failovers`).
    let kubelets: Vec<&models::cluster::ClientFailover> = f
        .failovers
        .iter()
        .filter(|fo| fo.client.starts_with("kubelet/"))
        .collect();
    let summarized = kubelets.len() > KUBELET_LINES;
    if summarized {
        let (first, last) = kubelets
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), fo| (a.min(fo.at_s), b.max(fo.at_s)));
        let mut to: Vec<(&str, usize)> = Vec::new();
        for fo in &kubelets {
            match to.iter_mut().find(|(m, _)| *m == fo.apiserver) {
                Some((_, n)) => *n += 1,
                None => to.push((&fo.apiserver, 1)),
            }
        }
        to.sort();
        let to: Vec<String> = to.iter().map(|(m, n)| format!("{n} to {m}")).collect();
        // A kubelet may reconnect twice (a second loss while the fault lasts): count both.
        let distinct: std::collections::BTreeSet<&str> = kubelets.iter().map(|fo| fo.client.as_str()).collect();
        let who = if distinct.len() == kubelets.len() {
            format!("{} kubelets reconnected", kubelets.len())
        } else {
            format!(
                "{} kubelets reconnected, {} times in all,",
                distinct.len(),
                kubelets.len()
            )
        };
        println!(
            "  {who} from {first:.2} s to {last:.2} s ({:.2}-{:.2} s after the fault): {} (each in the JSON's failovers)",
            first - f.at_s,
            last - f.at_s,
            to.join(", ")
        );
    }
    for fo in &f.failovers {
        let (client, t, to) = (&fo.client, fo.at_s, &fo.apiserver);
        let after = t - f.at_s;
        if summarized && client.starts_with("kubelet/") {
            continue;
        }
        if fo.is_leader_elected() {
            // A leader-elected controller: a leader (a standby, or the restarted one) took the
            // lease, runs on its master and works through that apiserver.
            let on = &fo.runs_on;
            println!("  {client} led again, on {on} through {to}, at {t:.2} s ({after:.2} s after the fault)");
        } else {
            println!(
                "  {client} reconnected to {to} at {t:.2} s ({after:.2} s after the fault){}",
                if client == "kubectl" { OPERATOR_ASSUMED } else { "" }
            );
        }
    }
    for fo in &f.failovers_after_run {
        let (client, t, to) = (&fo.client, fo.at_s, &fo.apiserver);
        let after = t - f.at_s;
        if fo.is_leader_elected() {
            println!(
                "  {client} not led again by the run's end; it would be, on {} through {to}, at {t:.2} s ({after:.2} s after the fault)",
                fo.runs_on
            );
        } else {
            println!(
                "  {client} not reconnected by the run's end; it would be, to {to}, at {t:.2} s ({after:.2} s after the fault){}",
                if client == "kubectl" { OPERATOR_ASSUMED } else { "" }
            );
        }
    }
    println!(
        "  pods created during the fault: {}; pods turned Running during it: {}",
        f.pods_created_during, f.pods_running_during
    );
    let span = |what: &str, m: &models::cluster::NodeMarkSpan| match (m.first_s, m.last_s) {
        (Some(a), Some(_)) if m.nodes == 1 => Some(format!("1 node {what} at {a:.2} s")),
        (Some(a), Some(b)) => Some(format!("{} nodes {what} from {a:.2} s to {b:.2} s", m.nodes)),
        _ => None,
    };
    let marks = &f.node_marks;
    let written: Vec<String> = [
        span("marked NotReady", &marks.not_ready),
        span("tainted NoExecute", &marks.no_execute),
        span("Ready again", &marks.ready_again),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !written.is_empty() {
        println!("  node lifecycle controller: {}", written.join("; "));
    }
    if f.pods_evicted > 0 {
        println!(
            "  pods evicted from nodes it silenced ({grace} NotReady, then the {}-s toleration): {}",
            models::node_lifecycle::UNREACHABLE_TOLERATION.as_secs_f64(),
            f.pods_evicted
        );
    }
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

/// A figure, or NaN (printed `NaN`) when there is none.
fn nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// `x` as `{}` prints it, or in scientific notation when it is very small or very large: a
/// loss of 1e-300 % printed in full took 300 characters of the table's first line.
fn compact(x: f64) -> String {
    if x == 0.0 || (1e-4..1e9).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn figures_print_short() {
        assert_eq!(compact(0.1), "0.1");
        assert_eq!(compact(2.0), "2");
        assert_eq!(compact(1e-300), "1e-300");
        assert_eq!(compact(123456.5), "123456.5");
        assert_eq!(compact(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(compact(0.00001), "1e-5");
    }
}
