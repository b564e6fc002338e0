//! Reachability (E014): every worker and master reaches the load balancer and every master,
//! every worker the registry host, the kubectl host the load balancer. W004 and W007, which
//! need the same network, are checked here too (`timings::etcd_timers`, `netem_path`).

use std::collections::{BTreeMap, HashMap};

use models::network::Network;
use models::spec::{Host, Role, Scenario};

use super::{netem_path, timings, Finding};

/// The hosts of a cut-off site that reach some targets of another site (or of their own) in
/// neither direction, each with those targets, in file order.
type HostsEachWay<'a> = Vec<(&'a str, Vec<&'a str>)>;

/// By the cut-off host's site, then the target's site (indices into `sites`).
type CutOff<'a> = BTreeMap<usize, BTreeMap<usize, HostsEachWay<'a>>>;

/// E014: the load balancer, the masters, the kubectl host and the registry host are the route
/// sources; every worker and master must reach the balancer and every master, every worker the
/// registry host (if the runtime names one), the kubectl host the balancer.
/// Reported per site, as a planner reads it (which sites cannot reach which), with the hosts
/// each way: one finding at the `[[sites]]` entry of every site some host of which is cut off.
pub(super) fn reachability(s: &Scenario, f: &mut Vec<Finding>) {
    let ends = RouteEnds::of(s);
    let Ok(net) = Network::build(s, &ends.sources()) else {
        return;
    };
    timings::etcd_timers(s, &net, &ends.masters, f);
    netem_path::netem_path(s, &net, f);
    let cut = cut_off(s, &net, &ends);
    report(s, cut, f);
}

/// The hosts routes must join: the route sources, and the targets each host must reach.
struct RouteEnds<'a> {
    /// The load balancer (HAProxy's host).
    lb: &'a str,
    /// The masters, in file order.
    masters: Vec<&'a str>,
    /// The host the observing kubectl runs on, if the workload names one.
    kubectl: Option<&'a str>,
    /// The registry host, if the runtime names a defined host.
    registry: Option<&'a str>,
}

impl<'a> RouteEnds<'a> {
    /// The ends of `s`'s routes.
    fn of(s: &'a Scenario) -> Self {
        RouteEnds {
            lb: s.haproxy.host.as_str(),
            masters: s
                .hosts
                .iter()
                .filter(|h| h.role == Role::Master)
                .map(|h| h.name.as_str())
                .collect(),
            kubectl: s.workload.kubectl_host.as_deref(),
            registry: s
                .runtime
                .registry_host
                .as_deref()
                .filter(|r| s.hosts.iter().any(|h| h.name == *r)),
        }
    }

    /// The route sources: the load balancer, the masters, the kubectl host, the registry host.
    fn sources(&self) -> Vec<&'a str> {
        let mut sources = vec![self.lb];
        sources.extend(&self.masters);
        sources.extend(self.kubectl);
        sources.extend(self.registry);
        sources
    }

    /// What `h` must reach, or `None` if it need reach nothing.
    fn targets(&self, h: &Host) -> Option<Vec<&'a str>> {
        let lb = self.lb;
        Some(match h.role {
            Role::Worker => std::iter::once(lb)
                .chain(self.masters.iter().copied())
                .chain(self.registry)
                .filter(|t| *t != h.name)
                .collect(),
            Role::Master => std::iter::once(lb)
                .chain(self.masters.iter().copied())
                .filter(|t| *t != h.name)
                .collect(),
            _ if Some(h.name.as_str()) == self.kubectl && h.name != lb => vec![lb],
            _ => return None,
        })
    }
}

/// Every host's site index (`None` for a site that is not defined). The first host of a name
/// decides, as a scan in file order would.
fn host_sites(s: &Scenario) -> HashMap<&str, Option<usize>> {
    let mut site_index: HashMap<&str, usize> = HashMap::new();
    for (i, x) in s.sites.iter().enumerate() {
        site_index.entry(x.name.as_str()).or_insert(i);
    }
    let mut host_site: HashMap<&str, Option<usize>> = HashMap::new();
    for h in &s.hosts {
        host_site
            .entry(h.name.as_str())
            .or_insert_with(|| site_index.get(h.site.as_str()).copied());
    }
    host_site
}

/// The hosts that reach some of their targets in neither direction, with those targets.
fn cut_off<'a>(s: &'a Scenario, net: &Network, ends: &RouteEnds<'a>) -> CutOff<'a> {
    // Maps, not scans: every host asks for its own site and its targets' (quadratic otherwise).
    let host_site = host_sites(s);
    let site_of = |host: &str| host_site.get(host).copied().flatten();
    let mut cut: CutOff<'a> = BTreeMap::new();
    for h in &s.hosts {
        let Some(targets) = ends.targets(h) else {
            continue;
        };
        let (Some(id), Some(from_site)) = (net.host(&h.name), site_of(&h.name)) else {
            continue;
        };
        for t in targets {
            let (Some(tid), Some(to_site)) = (net.host(t), site_of(t)) else {
                continue;
            };
            if net.route(tid, id).is_none() && net.route(id, tid).is_none() {
                let hosts = cut.entry(from_site).or_default().entry(to_site).or_default();
                let at = match hosts.iter().position(|(from, _)| *from == h.name) {
                    Some(at) => at,
                    None => {
                        hosts.push((&h.name, Vec::new()));
                        hosts.len() - 1
                    }
                };
                if !hosts[at].1.contains(&t) {
                    hosts[at].1.push(t);
                }
            }
        }
    }
    cut
}

/// One E014 finding per site some host of which is cut off.
fn report(s: &Scenario, cut: CutOff<'_>, f: &mut Vec<Finding>) {
    for (from_site, by_target) in cut {
        let name = &s.sites[from_site].name;
        let parts: Vec<String> = by_target
            .iter()
            .map(|(&to_site, hosts)| {
                let routes = no_routes(hosts);
                if to_site == from_site {
                    format!("inside site {name}, {routes}: link each to the site's router")
                } else {
                    format!("site {name} cannot reach site {}: {routes}", s.sites[to_site].name)
                }
            })
            .collect();
        f.push(Finding::new(
            "E014",
            format!("sites[{from_site}].name"),
            format!(
                "{}; expected a route over LAN links and VPN tunnels (vpn.enabled = {})",
                parts.join("; "),
                s.vpn.enabled
            ),
        ));
    }
}

/// "no route from A, B to X, Y; from C to Z": the hosts that miss the same targets together,
/// in the order the first of each group comes, so that no host is named with a target it
/// reaches (or with itself).
fn no_routes(hosts: &HostsEachWay<'_>) -> String {
    let mut groups: Vec<(Vec<&str>, &[&str])> = Vec::new();
    for (from, to) in hosts {
        match groups.iter_mut().find(|(_, t)| *t == to.as_slice()) {
            Some((froms, _)) => froms.push(from),
            None => groups.push((vec![from], to)),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(from, to)| format!("from {} to {}", from.join(", "), to.join(", ")))
        .collect();
    format!("no route {}", parts.join("; "))
}
