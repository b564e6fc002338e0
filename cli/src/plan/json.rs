//! `plan.json`: the report's answers for scripts (comparing designs, dashboards), written beside
//! `plan.md` with the same numbers. Times are seconds; an interval is `[lo, hi]` or `null` when
//! there is none (one replication, or none finished).

use serde_json::{json, Value};

use super::drills::DrillResult;
use super::stats::{MeanCi, SiteRow, Startup};
use super::tuning::TuningResult;
use super::{net, OptionResult, Plan};

fn mean_ci(m: Option<MeanCi>) -> Value {
    match m {
        Some(m) => json!({ "mean": m.mean, "ci95": m.ci.map(|(lo, hi)| vec![lo, hi]) }),
        None => Value::Null,
    }
}

/// A number, or `null` for a NaN (no value).
fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn startup(s: &Startup) -> Value {
    json!({
        "reps": s.reps,
        "finished": s.finished,
        "time": mean_ci(s.time),
        "p50": num(s.p50),
        "p90": num(s.p90),
        "min": num(s.min),
        "max": num(s.max),
        "observed_mean": s.observed,
        "half_pods": s.half,
        "ninety_pct_pods": s.ninety,
        "last_pod_created": s.last_created,
        "peak_in_flight_read_only": s.peak_in_flight[0],
        "peak_in_flight_mutating": s.peak_in_flight[1],
        "refused_429_mean": s.refused,
        "per_rep": s.per_rep,
    })
}

fn site(r: &SiteRow) -> Value {
    json!({
        "site": r.site,
        "workers": r.workers,
        "pods_mean": r.pods,
        "last_pod_running": mean_ci(r.last),
        "reps_all_ran": r.reps_all_ran,
        "last_pod_running_max": num(r.last_max),
        "unfinished_reps": r.unfinished,
        "dominant_phase": r.had_pods().then(|| r.dominant_phase().0),
        "puller_wait_per_pod": r.had_pods().then_some(r.puller_wait),
        "docker_wait_per_pod_est": r.had_pods().then_some(r.docker_wait),
        "status_wait_per_pod_est": r.had_pods().then_some(r.status_wait),
        "pull_per_pod": r.had_pods().then_some(r.pull),
    })
}

fn option(o: &OptionResult, recommended: bool) -> Value {
    let e = &o.net.etcd;
    json!({
        "masters_at": o.placement.sites,
        "label": o.placement.label(),
        "as_given": o.is_current,
        "recommended": recommended,
        "startup": startup(&o.startup),
        "diff_vs_as_given": mean_ci(o.diff),
        "etcd": {
            "members": e.members,
            "sites": e.sites,
            "max_rtt": e.max_rtt_s,
            "max_rtt_p99": e.max_rtt_p99_s,
            "commit": e.commit_s,
            "read_index": e.read_index_s,
            "heartbeat": e.heartbeat_s,
            "election_timeout": e.election_s,
            "timer_health": net::verdict_text(e.verdict).0,
            "timer_health_p99": net::verdict_text(e.verdict_p99).0,
            "raft": {
                "simulated_hours": e.raft.steady.span.as_secs_f64() / 3600.0,
                "campaigns": e.raft.steady.campaigns,
                "elections": e.raft.steady.elections,
                "campaigns_per_hour": e.raft.campaigns_per_hour(),
                "depositions_per_hour_at_least": e.raft.at_least_per_hour(),
                "depositions_per_hour_at_most": e.raft.at_most_per_hour(),
                "stalled": e.raft.steady.stalled.as_secs_f64(),
                "longest_stall": e.raft.steady.longest_stall.as_secs_f64(),
                "heartbeat_gaps_may_elect": e.raft.steady.gaps_may_elect,
                "heartbeat_gaps_must_elect": e.raft.steady.gaps_must_elect,
                "unstable": e.raft.unstable(),
                "failover_trials": e.raft.trials,
                "failover_repaired": e.raft.failover_s.len(),
                "failover_mean": e.raft.failover_mean_s(),
                "failover_p90": e.raft.failover_quantile_s(0.9),
                "failover_max": e.raft.failover_s.last(),
                "failover_no_leader_to_crash": e.raft.no_leader,
            },
            "raft_at_recommended_timers": e.raft_recommended.as_ref().map(|((hb, el), r)| json!({
                "heartbeat": hb,
                "election_timeout": el,
                "depositions_per_hour_at_least": r.at_least_per_hour(),
                "depositions_per_hour_at_most": r.at_most_per_hour(),
                "elections": r.steady.elections,
                "stalled": r.steady.stalled.as_secs_f64(),
                "failover_trials": r.trials,
                "failover_repaired": r.failover_s.len(),
                "failover_mean": r.failover_mean_s(),
            })),
        },
        "worst_worker_api_rtt": o.net.worker_api.rtt.base_s,
        "sites": o.sites.iter().map(site).collect::<Vec<_>>(),
        "timeouts": o.timeouts.iter().map(|t| json!({
            "setting": t.setting,
            "current": t.current,
            "verdict": t.verdict.name(),
            "recommended": t.recommended,
        })).collect::<Vec<_>>(),
    })
}

fn drill(r: &DrillResult) -> Value {
    json!({
        "failure": r.drill.label,
        "finished": r.finished,
        "reps": r.reps,
        "time": mean_ci(r.time),
        "diff_vs_no_failure": mean_ci(r.diff),
        "pods_evicted_mean": r.evicted,
        "etcd_stalled_s_mean": r.etcd_stalled,
        "refused_429_mean": r.refused,
        "controllers_led_again_after_run": r.leaderless_past_run,
        "ran_unseen_by_kubectl": r.ran_unseen,
    })
}

fn tuning(r: &TuningResult) -> Value {
    json!({
        "change": r.tuning.change,
        "set": r.tuning.set,
        "source": r.tuning.source,
        "combined": r.tuning.combined,
        "finished": r.finished,
        "reps": r.reps,
        "time": mean_ci(r.time),
        "diff_vs_as_given": mean_ci(r.diff),
    })
}

/// The plan as JSON.
pub(crate) fn to_json(p: &Plan, recommended: usize) -> Value {
    json!({
        "scenario": p.scenario.name,
        "origin": p.origin,
        "pods": p.pods,
        "reps": p.reps,
        "seed": p.seed,
        "options": p.options.iter().enumerate().map(|(i, o)| option(o, i == recommended)).collect::<Vec<_>>(),
        "drills": p.drills.as_ref().map(|d| json!({
            "at": d.at.secs_f64(),
            "lasting": d.lasting.map(|l| l.secs_f64()),
            "results": d.results.iter().map(drill).collect::<Vec<_>>(),
            "single_points_of_failure": d.single_points_of_failure(&p.options[0].startup),
            "finished_no_replication": d.finished_none(),
            "ran_unseen_by_kubectl": d.ran_unseen(),
            "skipped": d.skipped.iter().map(|s| json!({ "failure": s.label, "reason": s.reason })).collect::<Vec<_>>(),
        })),
        "tuning": p.tuning.as_ref().map(|t| t.iter().map(tuning).collect::<Vec<_>>()),
    })
}
