//! A uniform scale scenario.

use models::spec::{LinkKind, Role, Scenario, Site};

use super::pieces::{add_control_plane, description, digits, empty_scenario, host, link};
use super::{UniformOptions, WanLayout, LAN_BANDWIDTH, LAN_DELAY};

/// A scale scenario: `sites` sites (`s00`, `s01`, ...; at least 1), `nodes` workers spread evenly
/// over them (the first `nodes % sites` sites get one more), named `s03-w0042` (1-based within
/// the site), the control plane (`lb`, `master01`..`master03`) at `s00`, a full-mesh VPN, WAN
/// links as [`UniformOptions::layout`] says, masters of [`UniformOptions::master_vcpus`]. Builds
/// only the struct: 5,000 nodes take milliseconds.
///
/// `nodes = 0` gives a scenario without workers, which the checks reject (E009).
pub fn uniform(nodes: usize, sites: usize, opts: &UniformOptions) -> Scenario {
    let sites = sites.max(1);
    let sw = digits(sites - 1).max(2);
    let per_site_max = nodes.div_ceil(sites);
    let ww = digits(per_site_max).max(4);
    let names: Vec<String> = (0..sites).map(|i| format!("s{i:0sw$}")).collect();
    let routers: Vec<String> = names.iter().map(|n| format!("{n}-gw")).collect();
    let layout = match opts.layout {
        WanLayout::AllPairs => "every pair of sites",
        WanLayout::Ring => "ring neighbours",
    };
    let summary = format!(
        "{} evenly over {}, control plane at {}, full-mesh VPN, WAN links of {} one way between {layout}",
        crate::count(nodes as u64, "worker"),
        crate::count(sites as u64, "site"),
        names[0],
        opts.wan_delay
    );
    let mut s = empty_scenario(
        &opts.name,
        description(summary, &opts.command_line),
        &opts.kubernetes,
        &opts.runtime,
        &opts.workload,
    );
    // kube-up's size, but at least kubeadm's 2 CPUs (its preflight check), which built the
    // thesis's control plane.
    s.kubernetes.apiserver.workers = opts
        .master_vcpus
        .unwrap_or_else(|| super::kube_up_master_vcpus(nodes).max(2));
    s.hosts.reserve(nodes + sites + 4);
    s.links.reserve(nodes + 4 + sites * sites.saturating_sub(1) / 2);
    for (name, router) in names.iter().zip(&routers) {
        s.sites.push(Site {
            name: name.clone(),
            router: router.clone(),
            prefix: String::new(),
            registry_rtt: None,
            // No shared bottleneck: the scale scenario measures the control plane, not uplinks.
            uplink: None,
            latitude: None,
            longitude: None,
        });
    }
    add_control_plane(&mut s, [(&names[0], &routers[0]); 3], (&names[0], &routers[0]));
    for (i, (name, router)) in names.iter().zip(&routers).enumerate() {
        let count = nodes / sites + usize::from(i < nodes % sites);
        for w in 1..=count {
            let host_name = format!("{name}-w{w:0ww$}");
            s.links
                .push(link(&host_name, router, LAN_DELAY, LAN_BANDWIDTH, LinkKind::Lan));
            s.hosts.push(host(host_name, name, Role::Worker));
        }
    }
    for (name, router) in names.iter().zip(&routers) {
        s.hosts.push(host(router.clone(), name, Role::Router));
    }
    let wan = |a: usize, b: usize| {
        link(
            &routers[a],
            &routers[b],
            opts.wan_delay,
            opts.wan_bandwidth,
            LinkKind::Wan,
        )
    };
    match opts.layout {
        WanLayout::AllPairs => {
            for a in 0..sites {
                for b in a + 1..sites {
                    s.links.push(wan(a, b));
                }
            }
        }
        WanLayout::Ring => {
            for a in 0..sites {
                let b = (a + 1) % sites;
                // Two sites share one link; one site has none.
                if a < b || (b == 0 && sites > 2) {
                    s.links.push(wan(a.min(b), a.max(b)));
                }
            }
        }
    }
    s
}
