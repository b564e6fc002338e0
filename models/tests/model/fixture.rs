//! A thesis-like scenario built in code (the shipped TOML lives in `topologies`).

use models::spec::*;
use models::units::{Bandwidth, Dur};

fn host(name: &str, site: &str, role: Role) -> Host {
    Host {
        name: name.into(),
        site: site.into(),
        role,
        address: String::new(),
    }
}

fn link(a: &str, b: &str, delay_us: u64, kind: LinkKind) -> Link {
    Link {
        a: a.into(),
        b: b.into(),
        delay: Dur(sim_core::SimDuration::from_micros(delay_us)),
        bandwidth: Bandwidth { bits_per_s: 10e9 },
        loss_pct: 0.0,
        kind,
    }
}

/// The 2019 testbed: three sites, lb + 3 masters, 4 workers, full-mesh OpenVPN.
pub(crate) fn thesis() -> Scenario {
    let site = |n: &str, r: &str| Site {
        name: n.into(),
        router: r.into(),
        prefix: String::new(),
        registry_rtt: None,
        uplink: None,
        latitude: None,
        longitude: None,
    };
    let mut hosts = vec![
        host("vyos01", "vlan10", Role::Router),
        host("vyos02", "vlan20", Role::Router),
        host("vyos03", "vlan30", Role::Router),
        host("lb", "vlan10", Role::LoadBalancer),
    ];
    let mut links = vec![
        link("vyos01", "vyos02", 420, LinkKind::Wan),
        link("vyos01", "vyos03", 420, LinkKind::Wan),
        link("vyos02", "vyos03", 420, LinkKind::Wan),
        link("lb", "vyos01", 100, LinkKind::Lan),
    ];
    for m in ["master01", "master02", "master03"] {
        hosts.push(host(m, "vlan10", Role::Master));
        links.push(link(m, "vyos01", 100, LinkKind::Lan));
    }
    for (n, site, r) in [
        ("node01", "vlan20", "vyos02"),
        ("node02", "vlan20", "vyos02"),
        ("node03", "vlan30", "vyos03"),
        ("node04", "vlan30", "vyos03"),
    ] {
        hosts.push(host(n, site, Role::Worker));
        links.push(link(n, r, 100, LinkKind::Lan));
    }
    Scenario {
        name: "thesis-fixture".into(),
        description: String::new(),
        sites: vec![
            site("vlan10", "vyos01"),
            site("vlan20", "vyos02"),
            site("vlan30", "vyos03"),
        ],
        hosts,
        links,
        vpn: Vpn::default(),
        haproxy: Haproxy {
            host: "lb".into(),
            backends: vec!["master01".into(), "master02".into(), "master03".into()],
            inter: Dur::millis(2000),
            rise: 2,
            fall: 3,
            proxy_time: Dur(sim_core::SimDuration::from_micros(50)),
            timeout_server: Dur::secs(50),
            independent_streams: false,
        },
        kubernetes: Kubernetes::default(),
        runtime: Runtime::default(),
        workload: Workload::default(),
        netem: Netem::default(),
        faults: Vec::new(),
    }
}

/// The thesis scenario with `pods` replicas and `delay_ms` added by netem.
pub(crate) fn cell(pods: u32, delay_ms: u64) -> Scenario {
    let mut s = thesis();
    s.workload.replicas = pods;
    s.netem.delay = Dur::millis(delay_ms);
    s
}

/// Each node's image pulls in the order they ran: (pod, seconds the pull took).
pub(crate) fn pulls_by_node(out: &models::cluster::RunOutcome) -> Vec<Vec<(u32, f64)>> {
    let nodes = out
        .pods
        .iter()
        .filter_map(|p| p.node)
        .max()
        .map_or(0, |n| n as usize + 1);
    let mut by_node: Vec<Vec<(f64, u32, f64)>> = vec![Vec::new(); nodes];
    for p in &out.pods {
        if let (Some(n), Some(start), Some(end)) = (p.node, p.pull_start, p.pulled) {
            by_node[n as usize].push((start, p.pod, end - start));
        }
    }
    by_node
        .into_iter()
        .map(|mut pulls| {
            pulls.sort_by(|a, b| a.0.total_cmp(&b.0));
            pulls.into_iter().map(|(_, pod, d)| (pod, d)).collect()
        })
        .collect()
}
