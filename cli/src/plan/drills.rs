//! Section (f) of the plan, "What one failure costs" (`kubetwin plan --drills`): the scenario
//! run again with each single failure a planner must know about — the load balancer, each
//! master, the etcd leader, a registry on the overlay, each site cut off, each VPN tunnel from
//! the load balancer's site — at one time, over the same replication seeds as the scenario as
//! given, and ranked worst first. A failure that no replication survives within
//! `workload.timeout` is a single point of failure of the rollout, unless in every replication
//! every pod ran and only the observing kubectl never saw them all (a failure that cuts it off
//! from the load balancer): that one is told apart.

use models::cluster::RunOutcome;
use models::spec::{Fault, Role, Scenario, VpnTopology};
use models::units::Dur;
use rayon::prelude::*;

use super::stats::{self, MeanCi};

/// One failure to drill.
#[derive(Debug, Clone)]
pub(crate) struct Drill {
    /// The failure, as `--fault` writes it.
    pub(crate) label: String,
    /// The fault added to the scenario.
    pub(crate) fault: Fault,
}

/// A drill's replications, summarized.
#[derive(Debug, Clone)]
pub(crate) struct DrillResult {
    /// The failure.
    pub(crate) drill: Drill,
    /// Replications in which the observing kubectl saw every pod run before
    /// `workload.timeout`.
    pub(crate) finished: usize,
    /// Replications run.
    pub(crate) reps: usize,
    /// Mean and CI of the time until every pod ran, over the finished replications.
    pub(crate) time: Option<MeanCi>,
    /// Paired difference to the scenario as given (the same seeds), seconds.
    pub(crate) diff: Option<MeanCi>,
    /// Pods evicted from nodes the failure silenced, mean per replication.
    pub(crate) evicted: f64,
    /// Seconds during which etcd committed no write (its elections simulated message by
    /// message), mean per replication; `None` if no replication simulated them.
    pub(crate) etcd_stalled: Option<f64>,
    /// Replications that had ended before the failure came (it changed nothing in them).
    pub(crate) after_run: usize,
    /// Requests the apiservers answered `429 Too Many Requests` (their max-in-flight limits
    /// reached), summed over the apiservers, mean per replication.
    pub(crate) refused: f64,
    /// Replications in which every pod ran but the observing kubectl never saw them all
    /// within the timeout (as when the failure cuts it off from the load balancer): not
    /// finished, yet the rollout was not stopped.
    pub(crate) ran_unseen: usize,
    /// Replications in which a leader-elected controller (the controller-manager, the
    /// scheduler) lost its leader to the failure and was led again only after the run had
    /// ended: a standby pinned to a crashed master's apiserver waits for TCP to give its
    /// connection up (the fault report's `failovers_after_run`).
    pub(crate) leaderless_past_run: usize,
}

impl DrillResult {
    /// Whether every pod ran in every replication, the observing kubectl seeing none of them
    /// through: the rollout went on unseen, and the failure stopped nothing.
    pub(crate) fn ran_unseen_throughout(&self) -> bool {
        self.ran_unseen == self.reps
    }
}

/// A failure left out of the drills, and why (what the scenario checks say of it).
#[derive(Debug, Clone)]
pub(crate) struct Skipped {
    /// The failure, as `--fault` writes it.
    pub(crate) label: String,
    /// The check's message.
    pub(crate) reason: String,
}

/// The drills of scenario `s` (crashes, then sites cut off, then tunnels): each failure at
/// `at`, lasting `lasting` (for the rest of the run if `None`). A failure the scenario checks
/// refuse (crashing the host the observing kubectl runs on: it would die with it and see
/// nothing, E020) is skipped, with the reason.
pub(crate) fn list(s: &Scenario, at: Dur, lasting: Option<Dur>) -> (Vec<Drill>, Vec<Skipped>) {
    let repair = lasting.map(|d| Dur(at.get() + d.get()));
    let crash = |host: &str| Fault::Crash {
        host: host.to_owned(),
        at,
        repair,
    };
    let mut faults = vec![crash(&s.haproxy.host)];
    faults.extend(
        s.hosts
            .iter()
            .filter(|h| h.role == Role::Master)
            .map(|m| crash(&m.name)),
    );
    faults.push(Fault::CrashEtcdLeader { at, repair });
    // The registry host, unless it is one of the hosts above.
    faults.extend(
        s.runtime
            .registry_host
            .as_deref()
            .filter(|r| *r != s.haproxy.host && !s.hosts.iter().any(|h| h.name == *r && h.role == Role::Master))
            .map(crash),
    );
    faults.extend(s.sites.iter().map(|site| Fault::IsolateSite {
        site: site.name.clone(),
        at,
        repair,
    }));
    // Each OpenVPN tunnel from the load balancer's site: the control plane's way to that site
    // (the site keeps its own way out to the internet and its registry).
    let lb_site = s
        .hosts
        .iter()
        .find(|h| h.name == s.haproxy.host)
        .map(|h| h.site.clone());
    if let (Some(lb_site), true) = (lb_site, s.vpn.enabled) {
        let others: Vec<&str> = match &s.vpn.topology {
            VpnTopology::FullMesh {} => s.sites.iter().map(|x| x.name.as_str()).collect(),
            VpnTopology::HubAndSpoke { hub } if *hub == lb_site => s.sites.iter().map(|x| x.name.as_str()).collect(),
            VpnTopology::HubAndSpoke { hub } => vec![hub.as_str()],
        };
        faults.extend(others.into_iter().filter(|o| *o != lb_site).map(|o| Fault::Partition {
            a: lb_site.clone(),
            b: o.to_owned(),
            at,
            repair,
        }));
    }
    let (mut drills, mut skipped) = (Vec::new(), Vec::new());
    for fault in faults {
        let label = crate::commands::run::fault_text(&fault);
        let mut t = s.clone();
        t.faults.push(fault.clone());
        match topologies::check::run_with_added_faults(&t)
            .into_iter()
            .find(|x| x.severity() == topologies::Severity::Error)
        {
            Some(e) => skipped.push(Skipped {
                label,
                reason: e.message,
            }),
            None => drills.push(Drill { label, fault }),
        }
    }
    (drills, skipped)
}

/// Runs every drill's `reps` replications on `base` (in parallel, gathered in a fixed order)
/// and compares each with `reference`, the per-replication start-up of `base` itself.
///
/// # Errors
///
/// When the model cannot be built.
pub(crate) fn run(
    base: &Scenario,
    drills: &[Drill],
    reps: u64,
    seed: u64,
    reference: &[Option<f64>],
) -> anyhow::Result<Vec<DrillResult>> {
    // Drill by drill, each summarized as soon as it has run, so that only the drills under way
    // (a few per thread: a thread waiting on a drill's replications may start another) hold
    // their scenario, network and outcomes, not every drill at once (a consortium of hundreds of
    // sites has hundreds of drills).
    // Each variant runs on the base's network with its one fault added (no routing again).
    let prepared = models::cluster::prepare(base)?;
    let progress = crate::progress::Progress::new(drills.len() as u64 * reps, "drill replications");
    progress.bar().set_message(format!("{} drills", drills.len()));
    let mut results: Vec<DrillResult> = drills
        .par_iter()
        .map(|drill| -> anyhow::Result<DrillResult> {
            let mut s = base.clone();
            s.faults.push(drill.fault.clone());
            let variant = models::cluster::prepare_variant(&prepared, &s)?;
            let outs: Vec<RunOutcome> = (0..reps)
                .into_par_iter()
                .map(|r| {
                    let out = variant.run(sim_core::rng::replication_seed(seed, r), false);
                    progress.inc();
                    out
                })
                .collect::<Result<_, _>>()?;
            let outs = &outs;
            let startup = stats::startup(outs, base.workload.replicas);
            let evicted = outs
                .iter()
                .map(|o| o.faults.last().map_or(0.0, |f| f64::from(f.pods_evicted)))
                .sum::<f64>()
                / outs.len().max(1) as f64;
            let stalls: Vec<f64> = outs
                .iter()
                .filter_map(|o| o.etcd.as_ref().map(|e| e.stalled_s))
                .collect();
            let etcd_stalled = (!stalls.is_empty()).then(|| stalls.iter().sum::<f64>() / stalls.len() as f64);
            let pods = base.workload.replicas as usize;
            let ran_unseen = outs
                .iter()
                .filter(|o| {
                    o.startup_exact_s.is_none() && o.counted_pods().filter(|p| p.running.is_some()).count() >= pods
                })
                .count();
            let refused = outs
                .iter()
                .map(|o| o.in_flight.iter().map(|f| f.refused as f64).sum::<f64>())
                .sum::<f64>()
                / outs.len().max(1) as f64;
            Ok(DrillResult {
                ran_unseen,
                refused,
                after_run: outs
                    .iter()
                    .filter(|o| o.faults.last().is_some_and(|f| f.after_run))
                    .count(),
                drill: drill.clone(),
                finished: startup.finished,
                reps: startup.reps,
                time: startup.time,
                diff: stats::paired_diff(reference, &startup.per_rep),
                evicted,
                etcd_stalled,
                leaderless_past_run: outs
                    .iter()
                    .filter(|o| {
                        // A failure that came after the run ended left nothing leaderless in it.
                        o.faults.last().is_some_and(|f| {
                            !f.after_run && f.failovers_after_run.iter().any(|fo| fo.is_leader_elected())
                        })
                    })
                    .count(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    progress.finish();
    // Worst first: fewest finished replications, then the largest mean cost; ties keep the
    // drill order.
    results.sort_by(|a, b| {
        a.finished.cmp(&b.finished).then(
            b.diff
                .map_or(f64::INFINITY, |d| d.mean)
                .total_cmp(&a.diff.map_or(f64::INFINITY, |d| d.mean)),
        )
    });
    Ok(results)
}
