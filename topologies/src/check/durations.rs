//! Durations (E015, E017): none longer than 30 days, no period shorter than a millisecond.

use models::spec::Scenario;
use models::units::Dur;

use super::Finding;

/// The longest duration any scenario field may hold: 30 days. A pod start-up scenario has no
/// use for more, and a value beyond it is almost always a unit slip (`"100h"` for `"100ms"`).
pub const MAX_DURATION_SECS: u64 = 30 * 24 * 3600;

/// The shortest period a scenario may set (E017). Every loop in the modelled software runs at
/// millisecond scale or slower (the fastest are the Secret cache's 10 ms poll, the volume
/// manager's 100 ms loops and etcd's 100 ms heartbeat; HAProxy's `inter` accepts
/// milliseconds); a nanosecond period would only make the run schedule billions of events.
const MIN_PERIOD: sim_core::SimDuration = sim_core::SimDuration::from_millis(1);

/// Every duration of the scenario with its field path.
fn all_durations(s: &Scenario) -> Vec<(String, Dur)> {
    let mut d: Vec<(String, Dur)> = Vec::new();
    for (i, site) in s.sites.iter().enumerate() {
        if let Some(r) = site.registry_rtt {
            d.push((format!("sites[{i}].registry_rtt"), r));
        }
    }
    for (i, l) in s.links.iter().enumerate() {
        d.push((format!("links[{i}].delay"), l.delay));
    }
    for (i, f) in s.faults.iter().enumerate() {
        d.push((format!("faults[{i}].at"), f.at()));
        if let Some(r) = f.repair() {
            d.push((format!("faults[{i}].repair"), r));
        }
        if let models::spec::Fault::Degrade { delay, jitter, .. } = f {
            d.push((format!("faults[{i}].delay"), *delay));
            d.push((format!("faults[{i}].jitter"), *jitter));
        }
    }
    let k = &s.kubernetes;
    let named: [(&str, Dur); 31] = [
        ("vpn.ping", s.vpn.ping),
        ("vpn.ping_restart", s.vpn.ping_restart),
        ("haproxy.inter", s.haproxy.inter),
        ("haproxy.proxy_time", s.haproxy.proxy_time),
        ("haproxy.timeout_server", s.haproxy.timeout_server),
        ("kubernetes.apiserver.service_time", k.apiserver.service_time),
        ("kubernetes.apiserver.watch_dispatch", k.apiserver.watch_dispatch),
        ("kubernetes.etcd.heartbeat", k.etcd.heartbeat),
        ("kubernetes.etcd.election_timeout", k.etcd.election_timeout),
        ("kubernetes.etcd.fsync", k.etcd.fsync),
        (
            "kubernetes.controller_manager.lease_duration",
            k.controller_manager.lease_duration,
        ),
        (
            "kubernetes.controller_manager.renew_deadline",
            k.controller_manager.renew_deadline,
        ),
        (
            "kubernetes.controller_manager.retry_period",
            k.controller_manager.retry_period,
        ),
        (
            "kubernetes.controller_manager.node_monitor_grace_period",
            k.controller_manager.node_monitor_grace_period,
        ),
        ("kubernetes.scheduler.cycle_base", k.scheduler.cycle_base),
        ("kubernetes.scheduler.cycle_per_node", k.scheduler.cycle_per_node),
        ("kubernetes.scheduler.lease_duration", k.scheduler.lease_duration),
        ("kubernetes.scheduler.renew_deadline", k.scheduler.renew_deadline),
        ("kubernetes.scheduler.retry_period", k.scheduler.retry_period),
        ("kubernetes.kubelet.pleg_period", k.kubelet.pleg_period),
        ("kubernetes.kubelet.node_status_update", k.kubelet.node_status_update),
        ("kubernetes.kubelet.node_status_report", k.kubelet.node_status_report),
        ("kubernetes.kubelet.node_lease_duration", k.kubelet.node_lease_duration),
        ("runtime.sandbox_time", s.runtime.sandbox_time),
        ("runtime.container_start_time", s.runtime.container_start_time),
        ("runtime.registry_rtt", s.runtime.registry_rtt),
        ("workload.scale_gap", s.workload.scale_gap),
        ("workload.resolution", s.workload.resolution),
        ("workload.timeout", s.workload.timeout),
        ("netem.delay", s.netem.delay),
        ("netem.jitter", s.netem.jitter),
    ];
    d.extend(named.into_iter().map(|(name, v)| (name.to_owned(), v)));
    d
}

/// E015, E017: durations too large, periods too short (under [`MIN_PERIOD`]).
pub(super) fn durations(s: &Scenario, f: &mut Vec<Finding>) {
    for (field, v) in all_durations(s) {
        if v.get().as_nanos() > MAX_DURATION_SECS * 1_000_000_000 {
            f.push(Finding::new(
                "E015",
                field,
                format!("{v} is more than 30 days; expected at most \"720h\" (2592000s)"),
            ));
        }
    }
    let k = &s.kubernetes;
    let periods: [(&str, Dur); 11] = [
        ("haproxy.inter", s.haproxy.inter),
        ("vpn.ping", s.vpn.ping),
        ("kubernetes.etcd.heartbeat", k.etcd.heartbeat),
        (
            "kubernetes.controller_manager.retry_period",
            k.controller_manager.retry_period,
        ),
        ("kubernetes.scheduler.retry_period", k.scheduler.retry_period),
        ("kubernetes.kubelet.pleg_period", k.kubelet.pleg_period),
        ("kubernetes.kubelet.node_status_update", k.kubelet.node_status_update),
        ("kubernetes.kubelet.node_status_report", k.kubelet.node_status_report),
        ("kubernetes.kubelet.node_lease_duration", k.kubelet.node_lease_duration),
        ("workload.resolution", s.workload.resolution),
        ("workload.timeout", s.workload.timeout),
    ];
    for (field, v) in periods {
        if v.get().is_zero() {
            f.push(Finding::new(
                "E017",
                field,
                "a period of 0 would repeat forever at one instant; expected a duration of at least \"1ms\", such as \"1s\"",
            ));
        } else if v.get() < MIN_PERIOD {
            f.push(Finding::new(
                "E017",
                field,
                format!("{v} is under 1 ms; expected a period of at least \"1ms\", such as \"1s\""),
            ));
        }
    }
}
