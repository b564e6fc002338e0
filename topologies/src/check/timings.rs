//! Timings (E018, E026, E034, W003, W004, W005): those the real software refuses, an
//! observation clock coarser than the run, a scale that comes only as the run gives up, the
//! kubelets' periodic requests beyond what the apiservers serve, etcd timers too short for the
//! round trips between the masters, and an OpenVPN restart timeout that an idle tunnel's pings
//! cannot meet.

use models::network::Network;
use models::spec::{Role, Scenario};
use models::units::Dur;
use sim_core::SimDuration;

use super::Finding;

/// E018: timings the real software refuses. E026: an observation clock coarser than the run's
/// timeout. W005: an OpenVPN restart timeout no longer than its ping interval.
pub(super) fn timings(s: &Scenario, f: &mut Vec<Finding>) {
    // Start-up is read on a clock that ticks every `resolution` (models::observer): a tick
    // longer than the whole run reads every start-up as 0 s (or one tick, by the clock's
    // phase). A resolution of 0 is E017's.
    let w = &s.workload;
    if w.resolution.get() > w.timeout.get() {
        // Two ways out: a timeout at least one tick long, or a finer clock; the finer clock
        // only when it can be at least 1 ms (E017 refuses anything shorter).
        let finer = if w.timeout.get() >= SimDuration::from_millis(1) {
            format!(", or a workload.resolution of at most {}", w.timeout)
        } else {
            String::new()
        };
        f.push(Finding::new(
            "E026",
            "workload.resolution",
            format!(
                "resolution {} is longer than workload.timeout {}: the clock start-up is read on would not tick before the run gives up; expected a workload.timeout of at least {} (the default is \"1h\"){finer}",
                w.resolution, w.timeout, w.resolution
            ),
        ));
    }
    let e = &s.kubernetes.etcd;
    // etcd embed.Config.Validate: "--election-timeout should be at least as 5 times as
    // --heartbeat-interval".
    if e.election_timeout.secs_f64() < 5.0 * e.heartbeat.secs_f64() {
        f.push(Finding::new(
            "E018",
            "kubernetes.etcd.election_timeout",
            format!(
                "election_timeout {} is less than 5 x heartbeat {}; etcd refuses to start; expected at least {}",
                e.election_timeout,
                e.heartbeat,
                Dur(e.heartbeat.get() * 5)
            ),
        ));
    }
    let cm = &s.kubernetes.controller_manager;
    let sched = &s.kubernetes.scheduler;
    for (section, lease, renew, retry) in [
        (
            "kubernetes.controller_manager",
            cm.lease_duration,
            cm.renew_deadline,
            cm.retry_period,
        ),
        (
            "kubernetes.scheduler",
            sched.lease_duration,
            sched.renew_deadline,
            sched.retry_period,
        ),
    ] {
        leader_election(section, lease, renew, retry, f);
    }
    // W005: a tunnel with no traffic carries only its peer's pings, one every `ping`
    // (openvpn(8): `--ping n` sends one "if no packets have been sent for at least n
    // seconds"), and `--ping-restart n` restarts it after n seconds with no packet received.
    // VyOS writes the two options separately (`--ping 10 --ping-restart 60`, vyatta-openvpn
    // lib/Vyatta/OpenVPN/Config.pm), which OpenVPN does not check against each other: only its
    // `--keepalive` helper asks for a restart timeout of at least twice the ping (helper.c
    // `helper_keepalive`).
    // 0 turns the restart off (`--ping-restart 0`): nothing to warn of.
    let restart = s.vpn.ping_restart.get();
    if s.vpn.enabled && !restart.is_zero() && restart <= s.vpn.ping.get() {
        f.push(Finding::new(
            "W005",
            "vpn.ping_restart",
            format!(
                "ping_restart {} is not longer than ping {}: an idle tunnel hears nothing but its peer's pings, so OpenVPN would restart it whenever it is idle, which the model does not simulate; expected more than {} (OpenVPN's --keepalive asks for at least {})",
                s.vpn.ping_restart,
                s.vpn.ping,
                s.vpn.ping,
                Dur(s.vpn.ping.get() * 2)
            ),
        ));
    }
}

/// E034, which depends on the workload's size (so [`super::workload_fits`] has it too): the
/// create makes the Deployment with one replica and kubectl scales it to the rest `scale_gap`
/// later (jittered up to 10 % longer, then a new connection and three round trips;
/// models::observer), so with more than one replica a gap as long as the timeout leaves no run
/// a moment to finish in.
pub(super) fn scale_before_timeout(s: &Scenario) -> Option<Finding> {
    let w = &s.workload;
    (w.replicas > 1 && w.scale_gap.get() >= w.timeout.get()).then(|| {
        Finding::new(
            "E034",
            "workload.scale_gap",
            format!(
                "scale_gap {} is not shorter than workload.timeout {}: kubectl would scale the Deployment to its {} replicas (workload.replicas, or the pods asked for; one replica needs no scale) only as the run gives up, so no replication could finish; expected a workload.scale_gap well shorter than the timeout, which must also hold the gap's jitter (up to 10 %) and the pods' start-up (thesis-2019 assumes \"300ms\", a new kubectl process), or a longer workload.timeout",
                w.scale_gap, w.timeout, w.replicas
            ),
        )
    })
}

/// When kubectl's scale comes late in the timeout, how little of it is left for the pods to
/// start: for the message of a run in which no replication finished, which E034 does not
/// refuse (a gap just short of the timeout, or a timeout too short for the start-up after
/// it). Given when the gap, with its jitter (`models::observer::SCALE_GAP_JITTER`), takes half
/// the timeout or more and there is a scale (more than one replica); `None` otherwise. Half is a
/// threshold of judgement, not a measurement: the hint is shown only when nothing finished, and
/// a gap of half the timeout is then a likely cause worth naming.
pub fn late_scale(s: &Scenario) -> Option<String> {
    let w = &s.workload;
    let latest = w.scale_gap.secs_f64() * (1.0 + models::observer::SCALE_GAP_JITTER);
    let timeout = w.timeout.secs_f64();
    (w.replicas > 1 && latest >= timeout / 2.0).then(|| {
        let left = (timeout - w.scale_gap.secs_f64()).max(0.0);
        format!(
            "kubectl scales the Deployment to its {} replicas only workload.scale_gap ({}, up to {:.0} % longer) after the create, which leaves at most {} of the timeout for the pods to start: shorten the gap or lengthen the timeout",
            w.replicas,
            w.scale_gap,
            models::observer::SCALE_GAP_JITTER * 100.0,
            Dur(SimDuration::from_secs_f64(left))
        )
    })
}

/// E018: leader-election timers of `section` that client-go's `leaderelection.NewLeaderElector`
/// refuses.
fn leader_election(section: &str, lease: Dur, renew: Dur, retry: Dur, f: &mut Vec<Finding>) {
    if lease.get() <= renew.get() {
        f.push(Finding::new(
            "E018",
            format!("{section}.renew_deadline"),
            format!(
                "renew_deadline {renew} is not below lease_duration {lease}; client-go refuses it; expected leaseDuration > renewDeadline"
            ),
        ));
    }
    if renew.secs_f64() <= models::control_plane::candidate_tries::JITTER_FACTOR * retry.secs_f64() {
        f.push(Finding::new(
            "E018",
            format!("{section}.retry_period"),
            format!(
                "renew_deadline {renew} is not above 1.2 x retry_period {retry}; client-go refuses it; expected renewDeadline > retryPeriod x 1.2"
            ),
        ));
    }
}

/// W003: the kubelets' periodic requests alone (node status, and the hostNetwork pods' status
/// resync) need more than the apiservers serve, so their queues grow through the whole run.
/// The apiservers' rate is the model's: each serving master runs `kubernetes.apiserver.workers`
/// requests at a time of `service_time` each (`models::control_plane`).
pub(super) fn periodic_load(s: &Scenario, f: &mut Vec<Finding>) {
    let k = &s.kubernetes.kubelet;
    let workers = s.hosts.iter().filter(|h| h.role == Role::Worker).count() as f64;
    let serving = s
        .hosts
        .iter()
        .filter(|h| h.role == Role::Master && s.haproxy.backends.contains(&h.name))
        .count() as f64;
    let (status_period, service) = (
        k.node_status_update.secs_f64(),
        s.kubernetes.apiserver.service_time.secs_f64(),
    );
    if workers == 0.0 || serving == 0.0 || status_period <= 0.0 || service <= 0.0 {
        return; // other checks name these
    }
    // Per worker: the node status loop's GET of its Node every period, and the Lease's PUT every
    // renewal (the status PATCH, once a minute or on a change, left out).
    let lease = k.lease_renew_interval().as_secs_f64();
    let node_status = workers / status_period + if lease > 0.0 { workers / lease } else { 0.0 };
    let resync_period = models::status_manager::STATUS_SYNC_PERIOD.as_secs_f64();
    let resync = if k.host_network_status_resync {
        workers * f64::from(k.host_network_pods) * 2.0 / resync_period
    } else {
        0.0
    };
    let capacity = serving * f64::from(s.kubernetes.apiserver.workers) / service;
    if node_status + resync <= capacity {
        return;
    }
    let field = if resync > node_status {
        "kubernetes.kubelet.host_network_status_resync"
    } else {
        "kubernetes.kubelet.node_status_update"
    };
    f.push(Finding::new(
        "W003",
        field,
        format!(
            "the {workers} kubelets' periodic requests alone come to {} (node status GET every {} and Lease PUT \
             every {}: {}; \
             hostNetwork status resyncs, {} pods x GET + PATCH every {resync_period} s: {}), more than \
             the apiservers serve ({serving} x {} workers / {} = {}): they keep the apiservers saturated, every \
             other request waits behind them, and the pods may never all run",
            per_second(node_status + resync),
            k.node_status_update,
            models::units::Dur(k.lease_renew_interval()),
            per_second(node_status),
            if k.host_network_status_resync {
                k.host_network_pods
            } else {
                0
            },
            per_second(resync),
            s.kubernetes.apiserver.workers,
            s.kubernetes.apiserver.service_time,
            per_second(capacity)
        ),
    ));
}

/// A rate of requests, `12/s` or, below 10/s, with the figures that show it (`0.01/s`): a
/// 10-minute service time made the apiservers' capacity read `0/s`.
fn per_second(rate: f64) -> String {
    if rate >= 10.0 || rate == 0.0 {
        format!("{rate:.0}/s")
    } else {
        let decimals = (1.0 - rate.log10().floor()).clamp(1.0, 6.0) as usize;
        format!("{rate:.decimals$}/s")
    }
}

/// W004: etcd's members are so far apart that a new leader cannot hear from a quorum within its
/// first election timeout ([`models::etcd::timer_health`] at the largest mean round trip between
/// two masters). The reachability check calls it with the network it builds.
pub(super) fn etcd_timers(s: &Scenario, net: &Network, masters: &[&str], f: &mut Vec<Finding>) {
    let ids: Vec<(&str, _)> = masters.iter().filter_map(|m| Some((*m, net.host(m)?))).collect();
    let mut farthest: Option<(SimDuration, &str, &str)> = None;
    for (i, &(m, a)) in ids.iter().enumerate() {
        for &(n, b) in &ids[i + 1..] {
            let (Some(there), Some(back)) = (net.base_one_way(a, b), net.base_one_way(b, a)) else {
                continue; // E014 names it
            };
            if farthest.is_none_or(|(r, ..)| there + back > r) {
                farthest = Some((there + back, m, n));
            }
        }
    }
    let Some((rtt, m, n)) = farthest else {
        return;
    };
    let etcd = &s.kubernetes.etcd;
    let (heartbeat, election) = (etcd.heartbeat.get(), etcd.election_timeout.get());
    if models::etcd::timer_health(heartbeat, election, rtt) == models::etcd::TimerHealth::Unstable {
        f.push(Finding::new(
            "W004",
            "kubernetes.etcd.election_timeout",
            format!(
                "masters `{m}` and `{n}` are {:.0} ms apart (round trip), and that plus half the heartbeat interval of {} is \
                 {:.0} ms, at or beyond the election timeout of {}: a new leader checks its quorum an election timeout after it won, \
                 before its followers' first answers can come back, and steps down, so a lost leader is replaced late or never; \
                 `run` simulates these elections under faults or jitter or loss between the masters, and `plan` section (c) \
                 gives their rates",
                rtt.as_millis_f64(),
                etcd.heartbeat,
                (rtt + SimDuration::from_nanos(heartbeat.as_nanos() / 2)).as_millis_f64(),
                etcd.election_timeout,
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::per_second;

    #[test]
    fn rates_keep_their_figures() {
        assert_eq!(per_second(1234.4), "1234/s");
        assert_eq!(per_second(10.0), "10/s");
        assert_eq!(per_second(2.5), "2.5/s");
        assert_eq!(per_second(0.01), "0.010/s");
        assert_eq!(per_second(6.0 / 600.0), "0.010/s");
        assert_eq!(per_second(0.0), "0/s");
    }
}
