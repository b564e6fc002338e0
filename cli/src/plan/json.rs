//! `plan.json`: the report's answers for scripts (comparing designs, dashboards), written beside
//! `plan.md` with the same numbers. Times and round trips are seconds (the file says so in
//! `units`), rates bits per second, losses probabilities; an interval is `[lo, hi]` or `null`
//! when there is none (one replication, or none finished).

use serde_json::{json, Value};

use super::drills::DrillResult;
use super::net::{site_api_rtt, site_registry, Rtt, Worst};
use super::stats::{MeanCi, SiteRow, Startup, SEGMENTS};
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
        "slow_start_batches_mean": s.batches,
        "phases_per_pod": {
            "create_to_schedule": s.phases[0],
            "schedule_to_run": s.phases[1],
            "run_to_watch": s.phases[2],
            "pod_startup": s.phases[3],
        },
        "waits": s.waits.iter().map(|w| json!({
            "limiter_or_queue": w.name,
            "total": w.total_s,
            "requests_or_jobs": w.count,
        })).collect::<Vec<_>>(),
    })
}

/// A round trip: its mean, its estimated p99 (jitter and TCP retransmissions) and the chance
/// that a one-packet exchange loses a packet.
fn rtt(r: &Rtt) -> Value {
    json!({ "mean": r.base_s, "p99": r.p99_s(), "loss": r.loss })
}

/// The worst of a set of paths, and where it runs.
fn worst(w: &Worst) -> Value {
    json!({ "path": w.path, "rtt": rtt(&w.rtt) })
}

/// Per site, its workers' mean round trip to the apiservers and to the registry, seconds.
struct SiteRtts {
    api: std::collections::HashMap<String, f64>,
    registry: std::collections::HashMap<String, (f64, f64)>,
}

fn site(r: &SiteRow, rtts: &SiteRtts) -> Value {
    // A site that never had a pod has no phases; one whose pods never all ran, no last pod.
    let phases = r.had_pods().then(|| {
        json!({
            "create_to_schedule": r.phases[0],
            "schedule_to_run": r.phases[1],
            "run_to_watch": r.phases[2],
        })
    });
    let parts = r.last.is_some().then(|| {
        SEGMENTS
            .iter()
            .zip(r.last_segments)
            .map(|((name, _), v)| json!({ "part": name, "mean": v }))
            .collect::<Vec<_>>()
    });
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
        "phases_per_pod": phases,
        "last_pod_parts": parts,
        "api_rtt_mean": rtts.api.get(&r.site),
        "registry_rtt_mean": rtts.registry.get(&r.site).map(|r| r.0),
        "download_rate_least": rtts.registry.get(&r.site).map(|r| num(r.1)),
    })
}

fn option(p: &Plan, o: &OptionResult, recommended: bool) -> Value {
    let e = &o.net.etcd;
    // The registry's round trips move with the masters only when the registry is on one of
    // them (`runtime.registry_host`); the workers, and their order, never move.
    let placed = if o.is_current {
        None
    } else {
        super::placement::apply(&p.scenario, &o.placement).ok()
    };
    let rtts = SiteRtts {
        api: site_api_rtt(&p.scenario, &o.net.worker_api_mean_s),
        registry: site_registry(placed.as_ref().unwrap_or(&p.scenario)),
    };
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
            "leader": e.members.get(e.leader),
            "rtt": e.rtt.iter().map(|row| row.iter().map(rtt).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "fsync": e.fsync_s,
            "commit_at_each_apiserver": e.commit_at_s,
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
        "worst_paths": {
            "worker_to_apiserver": worst(&o.net.worker_api),
            "leader_to_apiserver": worst(&o.net.leader_api),
            "haproxy_to_backend": worst(&o.net.lb_backend),
            // Chosen by its keepalives' round trip (UDP, without TCP's resends: `udp_p99`).
            "tunnel": o.net.tunnel.as_ref().map(|w| {
                let mut v = worst(w);
                v["rtt"]["udp_p99"] = json!(w.rtt.udp_p99_s());
                v
            }),
            "tunnels": o.net.tunnels,
        },
        "sites": o.sites.iter().map(|r| site(r, &rtts)).collect::<Vec<_>>(),
        "timeouts": o.timeouts.iter().map(|t| json!({
            "setting": t.setting,
            "current": t.current,
            "guards": t.observed,
            "verdict": t.verdict.name(),
            "why": t.why,
            "recommended": t.recommended,
            "rule": t.rule,
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
        "units": { "time": "s", "rate": "bit/s", "loss": "probability" },
        "options": p.options.iter().enumerate().map(|(i, o)| option(p, o, i == recommended)).collect::<Vec<_>>(),
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
