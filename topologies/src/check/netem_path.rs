//! W007: a netem rule that no route of the cluster's traffic crosses. `tc netem` sits on the
//! tunnel directions between the near site (`netem.near`, by default the first master's) and
//! the far ones (`models::network`): a scenario of one site, one without the VPN, or a near site
//! whose tunnels carry none of the cluster's traffic (a worker's to the balancer, the masters or
//! the registry, the masters' to one another, the observing kubectl's), puts the delay, jitter
//! and loss on nothing, and a
//! run "at +500 ms" is a run without it.

use models::network::Network;
use models::spec::{Role, Scenario};

use super::Finding;

/// Whether `s`'s netem adds anything (a delay, jitter or loss).
fn active(s: &Scenario) -> bool {
    let n = &s.netem;
    !n.delay.get().is_zero() || !n.jitter.get().is_zero() || n.loss_pct > 0.0
}

/// The hosts whose routes carry the model's traffic and serve as route sources: the load
/// balancer, the masters, the observing kubectl's host and a registry on the overlay.
fn sources(s: &Scenario) -> Vec<&str> {
    let mut v = vec![s.haproxy.host.as_str()];
    v.extend(
        s.hosts
            .iter()
            .filter(|h| h.role == Role::Master)
            .map(|h| h.name.as_str()),
    );
    v.extend(s.workload.kubectl_host.as_deref());
    v.extend(
        s.runtime
            .registry_host
            .as_deref()
            .filter(|r| s.hosts.iter().any(|h| h.name == *r)),
    );
    v
}

/// Whether some route the model's traffic takes crosses a tunnel direction that netem delays:
/// between the [`sources`] (the apiservers' clients through the balancer, etcd between the
/// masters, the observing kubectl, the registry) and the workers or one another, in `net`
/// built with at least those sources.
fn crossed(s: &Scenario, net: &Network) -> bool {
    let sources: Vec<_> = sources(s).into_iter().filter_map(|n| net.host(n)).collect();
    let mut ends = sources.clone();
    ends.extend(
        s.hosts
            .iter()
            .filter(|h| h.role == Role::Worker)
            .filter_map(|h| net.host(&h.name)),
    );
    sources.iter().any(|&a| {
        ends.iter()
            .filter(|&&b| b != a)
            .filter_map(|&b| net.route(a, b))
            .any(|(r, _)| r.netem_forward > 0 || r.netem_reverse > 0)
    })
}

/// Whether `s` has a netem rule that no route of its traffic crosses (and so a delay, jitter or
/// loss that changes nothing). For commands that set the delay themselves (`run --delay`,
/// `sweep --delay`, `validate`'s and `calibrate`'s cells): call it on the scenario with the
/// delay laid over. `false` when the network cannot be built (other checks name why).
pub fn netem_on_no_route(s: &Scenario) -> bool {
    if !active(s) || !s.hosts.iter().any(|h| h.role == Role::Worker) {
        return false;
    }
    Network::build(s, &sources(s)).is_ok_and(|net| !crossed(s, &net))
}

/// W007, with the network the reachability check built (its route sources are [`sources`]).
pub(super) fn netem_path(s: &Scenario, net: &Network, f: &mut Vec<Finding>) {
    if !active(s) || !s.hosts.iter().any(|h| h.role == Role::Worker) || crossed(s, net) {
        return;
    }
    let field = if !s.netem.delay.get().is_zero() {
        "netem.delay"
    } else if !s.netem.jitter.get().is_zero() {
        "netem.jitter"
    } else {
        "netem.loss_pct"
    };
    f.push(Finding::new("W007", field, no_route_message(s)));
}

/// What W007 says of `s`: where netem sits and why nothing crosses it.
pub fn no_route_message(s: &Scenario) -> String {
    let near = s
        .netem
        .near
        .clone()
        .or_else(|| s.hosts.iter().find(|h| h.role == Role::Master).map(|h| h.site.clone()))
        .unwrap_or_else(|| "(no master)".to_owned());
    let why = if !s.vpn.enabled {
        "the VPN is off (vpn.enabled = false), so there is no tunnel"
    } else if s.sites.len() < 2 {
        "the scenario has one site, so there is no tunnel"
    } else {
        "no route of the cluster's traffic (a worker's to the load balancer, a master or the registry, the masters' to one another, the observing kubectl's) crosses a tunnel between them"
    };
    format!(
        "netem (delay {}, jitter {}, loss {} %) sits on the OpenVPN tunnels between the near site {near} and {}, and {why}: it delays nothing, and a run at this delay is a run without it; expected workers at another site than {near} joined by the VPN, or netem.near and netem.far naming sites whose tunnels the workers' traffic crosses",
        s.netem.delay,
        s.netem.jitter,
        s.netem.loss_pct,
        if s.netem.far.is_empty() {
            "every other site".to_owned()
        } else {
            s.netem.far.join(", ")
        }
    )
}
