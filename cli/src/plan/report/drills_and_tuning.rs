//! Sections (f) and (g) of the report: the scenario as given run again with one change, a
//! failure (f, `--drills`) or a setting (g, `--tuning`), each against the scenario as given over
//! the same seeds.

use std::fmt::Write as _;

use models::spec::{Fault, Role};

use crate::plan::drills::DrillResult;
use crate::plan::fmt::{ci, s2};
use crate::plan::stats::MeanCi;
use crate::plan::tuning::TuningResult;
use crate::plan::{Drills, Plan};

use super::{DRILLS_HEADING, TUNING_HEADING};

/// Section (f): what each single failure costs, worst first.
pub(super) fn drills_section(o: &mut String, p: &Plan, d: &Drills) {
    w!(o, "{}", DRILLS_HEADING);
    w!(o);
    w!(
        o,
        "The scenario as given, run again with one failure at {} {}, over the same {} as (a); ranked worst first (fewest replications in which every pod ran before `workload.timeout`, {}, then the largest cost). Δ is the paired difference to (a). What each failure sets off follows v1.16 and TCP (`docs/model.md`, \"Simplifications\"): HAProxy's checks, the clients' failovers, etcd's elections (simulated message by message: \"etcd without writes\"), the leader elections of the controller-manager and the scheduler (the last column counts the replications in which one was led again only after the run had ended: a standby pinned to a crashed master's apiserver waits for TCP to give its connection up, 925 to 946 s after the crash; with a short `--drill-for`, the run can also end before a takeover that comes in seconds), pulls into the image back-off, the node lifecycle controller's evictions from nodes silent for good. Kinds of failure with more than two drills are summed up first.",
        d.at,
        d.lasting.map_or("lasting for the rest of the run".to_owned(), |l| format!("lasting {l}")),
        seeds_text(p.reps),
        p.scenario.workload.timeout,
    );
    w!(o);
    // A drill that finished no replication stopped the rollout only if the scenario as given
    // finished every one: otherwise it may merely have been slower past the timeout.
    let given = &p.options[0].startup;
    kinds_summary(o, d, given.finished == given.reps);
    drills_table(o, d);
    drills_conclusion(o, p, d);
}

/// The drills summed up by kind (the first word of the label), for each kind with more than two:
/// how many stop the rollout (or, when the scenario as given did not finish every replication
/// either, how many finish none), and the range of the others' costs.
fn kinds_summary(o: &mut String, d: &Drills, given_finished_all: bool) {
    // By kind first: a consortium's 31 sites cut off one by one are one answer, not 31.
    let mut kinds: Vec<(&str, Vec<&DrillResult>)> = Vec::new();
    for r in &d.results {
        let kind = r.drill.label.split(' ').next().unwrap_or_default();
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, rows)) => rows.push(r),
            None => kinds.push((kind, vec![r])),
        }
    }
    for (kind, rows) in kinds.iter().filter(|(_, rows)| rows.len() > 2) {
        let stopped = rows
            .iter()
            .filter(|r| r.finished == 0 && !r.ran_unseen_throughout())
            .count();
        let costs: Vec<f64> = rows.iter().filter_map(|r| r.diff.map(|m| m.mean)).collect();
        let (lo, hi) = costs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &c| (l.min(c), h.max(c)));
        w!(
            o,
            "- `{kind}`, {} drills: {}{}.",
            rows.len(),
            match (stopped, given_finished_all) {
                (0, _) => String::new(),
                (1, true) => "1 stops the rollout".to_owned(),
                (n, true) => format!("{n} stop the rollout"),
                (1, false) => "1 finishes no replication".to_owned(),
                (n, false) => format!("{n} finish no replication"),
            },
            match (costs.is_empty(), stopped > 0) {
                (true, true) => String::new(),
                (true, false) => {
                    "no cost to pair: no replication finished both with and without the failure".to_owned()
                }
                (false, true) => format!("; the others cost {lo:+.2} to {hi:+.2} s (mean Δ)"),
                (false, false) => format!("they cost {lo:+.2} to {hi:+.2} s (mean Δ)"),
            }
        );
    }
    if kinds.iter().any(|(_, rows)| rows.len() > 2) {
        w!(o);
    }
}

/// The drills, worst first: replications finished, mean time, its CI, the paired difference,
/// pods evicted, etcd's time without writes, and the replications whose controllers were led
/// again only after the run.
fn drills_table(o: &mut String, d: &Drills) {
    w!(o, "| rank | failure | replications finished | mean time | 95 % CI | Δ vs no failure (95 % CI) | pods evicted (mean) | etcd without writes (mean, simulated) | controllers led again only after the run |");
    w!(o, "|---:|---|---:|---:|---|---|---:|---:|---:|");
    for (rank, r) in d.results.iter().enumerate() {
        w!(
            o,
            "| {} | `{}` | {} | {:.1} | {} | {} of {} |",
            rank + 1,
            r.drill.label,
            versus_cells(r.finished, r.reps, r.time, r.diff),
            r.evicted,
            r.etcd_stalled.map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2} s")),
            r.leaderless_past_run,
            r.reps
        );
    }
    w!(o);
}

/// Why a crash of the etcd leader alone costs more than a whole master's crash, when it does
/// beyond the noise (the consortium's drills: +40.5 s against +21.2 s): its apiserver stays
/// up, so HAProxy keeps it, and its clients leave only when their own timers give up on it.
fn etcd_leader_costs_more(o: &mut String, p: &Plan, d: &Drills) {
    // A drill's cost and its interval, over replications that all finished (a paired
    // difference leaves the unfinished out): the leader's interval must lie above the master's,
    // and the master's above zero (a crash that changed nothing says nothing of failover).
    let cost = |r: &DrillResult| {
        (r.finished == r.reps)
            .then_some(r.diff?)
            .and_then(|m| Some((m.mean, m.ci?)))
    };
    let is_master = |host: &str| {
        p.scenario
            .hosts
            .iter()
            .any(|h| h.name == host && h.role == Role::Master)
    };
    let leader = d
        .results
        .iter()
        .filter(|r| matches!(r.drill.fault, Fault::CrashEtcdLeader { .. }))
        .filter_map(|r| Some((r, cost(r)?)))
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0));
    let master = d
        .results
        .iter()
        .filter(|r| matches!(&r.drill.fault, Fault::Crash { host, .. } if is_master(host)))
        .filter_map(|r| Some((r, cost(r)?)))
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0));
    if let (Some((l, (lc, (l_lo, _)))), Some((m, (mc, (m_lo, m_hi))))) = (leader, master) {
        if l_lo > m_hi && m_lo > 0.0 {
            w!(o);
            w!(
                o,
                "`{}` costs more than `{}` ({lc:+.2} s against {mc:+.2} s, their intervals apart) though it stops less: the master's apiserver stays up, answering its clients only errors, and HAProxy's checks (a TCP connect) keep it among the backends until kubeadm's liveness probe has it killed (72 to 82 s after the crash), so its clients leave it when their own timers give up (the kubelets after two failed Lease renewals, the controllers when their leases run out); a crashed master's are failed over by HAProxy's checks and TCP (`examples/consortium-32/README.md`).",
                l.drill.label,
                m.drill.label
            );
        }
    }
}

/// What the drills found: failures that came too late to drill anything, the single points of
/// failure of the rollout (or that there are none), and the failures left out.
fn drills_conclusion(o: &mut String, p: &Plan, d: &Drills) {
    // A failure after every replication had ended drilled nothing.
    let late: Vec<&str> = d
        .results
        .iter()
        .filter(|r| r.after_run == r.reps)
        .map(|r| r.drill.label.as_str())
        .collect();
    let stopped = d.stopped();
    if !late.is_empty() {
        w!(
            o,
            "{} of the {} failures came after every replication had ended (at {} the rollout was over): they changed nothing; give `--drill-at` a time within the rollout.",
            late.len(),
            d.results.len(),
            d.at
        );
        w!(o);
    }
    let given = &p.options[0].startup;
    if given.finished == 0 {
        w!(
            o,
            "**The scenario as given finished in no replication** within {}: the drills cannot single out a failure that stops the rollout.",
            p.scenario.workload.timeout
        );
    } else if given.finished < given.reps && !stopped.is_empty() {
        w!(
            o,
            "**No replication finished within {}** with: {}. The scenario as given finished only {} of {} within it, so these failures may have made the rollout slower rather than stopped it: raise `workload.timeout` to tell the two apart.",
            p.scenario.workload.timeout,
            stopped.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
            given.finished,
            given.reps
        );
    } else if late.len() == d.results.len() {
        w!(o, "**No failure took effect**: nothing was drilled.");
    } else if stopped.is_empty() {
        w!(
            o,
            "**No single failure drilled here stops the rollout**: in each, every pod ran in at least one replication."
        );
    } else {
        w!(
            o,
            "**Single points of failure of the rollout** (no replication finished within {}): {}.",
            p.scenario.workload.timeout,
            stopped.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        );
    }
    etcd_leader_costs_more(o, p, d);
    let unseen = d.ran_unseen();
    if !unseen.is_empty() {
        w!(o);
        w!(
            o,
            "**Ran out of the observing kubectl's sight**: with {}, every pod ran in every replication, but the observing kubectl (`workload.kubectl_host`: {}) never saw them all within the timeout, as when a failure cuts it off from the load balancer; they are not single points of failure of the rollout, and are timed only with kubectl on a host they leave connected.",
            unseen.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
            p.scenario.kubectl_host().unwrap_or("none")
        );
    }
    let refusing: Vec<String> = d
        .results
        .iter()
        .filter(|r| r.refused > 0.0)
        .map(|r| format!("`{}` ({:.0})", r.drill.label, r.refused))
        .collect();
    if !refusing.is_empty() {
        let api = &p.scenario.kubernetes.apiserver;
        w!(o);
        w!(
            o,
            "**Apiservers at their in-flight limits**: with {}, the apiservers answered that many requests per replication `429 Too Many Requests` (`--max-requests-inflight` {}, `--max-mutating-requests-inflight` {}: the requests one apiserver holds at once, from arrival to answer, its CPU queue and etcd's commit included). Their clients sent them again a second later through their limiters, and the times above include that; a status update refused ten times waited for the kubelet's next sync. `run` with the failure names the apiservers and how close each came.",
            refusing.join(", "),
            api.max_requests_inflight,
            api.max_mutating_requests_inflight
        );
    }
    for s in &d.skipped {
        w!(o);
        w!(o, "Not drilled: `{}`: {}", s.label, s.reason);
    }
    w!(o);
}

/// The seeds both sections ran on, as their introductions name them.
fn seeds_text(reps: u64) -> String {
    if reps == 1 {
        "replication seed".to_owned()
    } else {
        format!("{reps} replication seeds")
    }
}

/// A paired difference with its CI, as the drills and tuning tables show it.
fn diff_text(d: Option<MeanCi>) -> String {
    match d {
        Some(m) => format!(
            "{:+.2} s ({})",
            m.mean,
            m.ci.map_or("n/a".into(), |(lo, hi)| format!("[{lo:.2}, {hi:.2}] s"))
        ),
        None => "n/a".into(),
    }
}

/// The cells a variant of the scenario (a drill, a setting) shares in its table: replications
/// finished of run, mean time, its 95 % CI, and the paired difference to the scenario as given.
fn versus_cells(finished: usize, reps: usize, time: Option<MeanCi>, diff: Option<MeanCi>) -> String {
    format!(
        "{finished} of {reps} | {} | {} | {}",
        time.map_or("n/a".into(), |t| s2(t.mean)),
        time.map_or("n/a".into(), |t| ci(t.ci)),
        diff_text(diff)
    )
}

/// Section (g): what each setting would buy, the largest saving first, all at once last.
pub(super) fn tuning_section(o: &mut String, p: &Plan, rows: &[TuningResult]) {
    w!(o, "{}", TUNING_HEADING);
    w!(o);
    if rows.is_empty() {
        w!(o, "The scenario already has every setting this section tries (client QPS and burst of at least 100/100, parallel image pulls, `IfNotPresent`, the image pre-pulled): nothing to compare.");
        w!(o);
        return;
    }
    w!(
        o,
        "The scenario as given, run again with one setting changed at a time, over the same {} as (a); the settings under which the most replications finish first, then the largest saving{}. Δ is the paired difference to (a) over the replications that finish in both, negative when faster. The last but one column gives the change as `kubetwin sweep` takes it (`kubetwin sweep SCENARIO --pods {} --set PATH=A,B` explores one setting further). A pinned tag saves nothing for the pods that reach their image check while their node's first download is still under way: the image is not there yet, so they pull too (v1.16 `EnsureImageExists`).",
        seeds_text(p.reps),
        if rows.iter().any(|r| r.tuning.combined) {
            ", then all of them at once"
        } else {
            ""
        },
        p.pods,
    );
    w!(o);
    tuning_table(o, rows);
    tuning_conclusion(o, p, rows);
}

/// The settings tried, in `rows`' order (the combined row unranked): replications finished, mean
/// time, its CI, the paired difference, the `--set` options and the source.
fn tuning_table(o: &mut String, rows: &[TuningResult]) {
    w!(o, "| rank | change | replications finished | mean time | 95 % CI | Δ vs as given (95 % CI) | as options | why (source) |");
    w!(o, "|---:|---|---:|---:|---|---|---|---|");
    for (rank, r) in rows.iter().enumerate() {
        w!(
            o,
            "| {} | {} | {} | {} | {} |",
            if r.tuning.combined {
                "—".to_owned()
            } else {
                (rank + 1).to_string()
            },
            r.tuning.change,
            versus_cells(r.finished, r.reps, r.time, r.diff),
            if r.tuning.combined {
                "every row's above".to_owned()
            } else {
                // Single-quoted where a shell would eat a TOML string's double quotes.
                let arg = |v: &String| if v.contains('"') { format!("'{v}'") } else { v.clone() };
                r.tuning
                    .set
                    .iter()
                    .map(|v| format!("`--set {}`", arg(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            r.tuning.source,
        );
    }
    w!(o);
}

/// What the settings found: one that rescues replications the scenario as given loses, and the
/// largest saving beyond the replications' noise (or that there is none).
fn tuning_conclusion(o: &mut String, p: &Plan, rows: &[TuningResult]) {
    let given = &p.options[0].startup;
    let single = || rows.iter().filter(|r| !r.tuning.combined);
    // A setting under which more replications finish than as given rescues a rollout.
    if let Some(r) = single().find(|r| r.finished > given.finished) {
        w!(
            o,
            "With **{}**, {} of {} replications finish within {}; as given, {}.",
            r.tuning.change,
            r.finished,
            r.reps,
            p.scenario.workload.timeout,
            given.finished
        );
        w!(o);
    }
    // A saving counts when its whole CI is below zero (with one replication, when its value is),
    // and only for a setting that finishes at least as often as the scenario as given.
    let saves =
        |r: &&TuningResult| r.finished >= given.finished && r.diff.is_some_and(|d| d.ci.map_or(d.mean, |c| c.1) < 0.0);
    let key = |r: &&TuningResult| r.diff.map_or(f64::INFINITY, |d| d.mean);
    match single().filter(saves).min_by(|a, b| key(a).total_cmp(&key(b))) {
        Some(best) => {
            // Savings whose intervals overlap the largest's are as large within the noise: each
            // is paired with the scenario as given, not with the others.
            let overlaps = |r: &&TuningResult| {
                !std::ptr::eq(*r, best)
                    && matches!(
                        (r.diff.and_then(|d| d.ci), best.diff.and_then(|d| d.ci)),
                        (Some((lo, hi)), Some((best_lo, best_hi))) if lo <= best_hi && best_lo <= hi
                    )
            };
            let rivals: Vec<String> = single()
                .filter(saves)
                .filter(overlaps)
                .map(|r| format!("**{}** ({})", r.tuning.change, diff_text(r.diff)))
                .collect();
            w!(
                o,
                "The largest saving beyond the replications' noise{} is **{}**: {}, from the {} of (a){}.",
                if p.reps == 1 {
                    " (one replication: no interval)"
                } else {
                    ""
                },
                best.tuning.change,
                diff_text(best.diff),
                given.time.map_or("n/a".into(), |t| s2(t.mean)),
                if rivals.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} save{} as much within the noise (the intervals overlap, each paired with the scenario as given)",
                        rivals.join(" and "),
                        if rivals.len() == 1 { "s" } else { "" }
                    )
                }
            );
        }
        None => {
            w!(
                o,
                "**No single setting saves time beyond the replications' noise**: this rollout is bound by what these settings do not touch (the network's round trips, the registry, Docker's own times)."
            );
        }
    }
    w!(o);
}
