//! Reachability by classes of alike hosts ([`Network::reachability`]) against a path search from
//! every host (the routes [`Network::build`] stores for each route source).

use models::network::Network;
use models::spec::{Host, Link, LinkKind, Role, Scenario};
use models::units::{Bandwidth, Dur};

use crate::fixture::thesis;

fn lan(a: &str, b: &str) -> Link {
    Link {
        a: a.into(),
        b: b.into(),
        delay: Dur::millis(1),
        bandwidth: Bandwidth { bits_per_s: 1e9 },
        loss_pct: 0.0,
        kind: LinkKind::Lan,
    }
}

/// Who reaches whom, by a route search from every host.
fn by_search(s: &Scenario) -> Vec<Vec<bool>> {
    let names: Vec<&str> = s.hosts.iter().map(|h| h.name.as_str()).collect();
    let net = Network::build(s, &names).expect("a network");
    let ids: Vec<u32> = names.iter().map(|n| net.host(n).expect("a host")).collect();
    ids.iter()
        .map(|&a| ids.iter().map(|&b| a == b || net.route(a, b).is_some()).collect())
        .collect()
}

/// The thesis with and without its tunnels, and with links that make hosts of a site unlike:
/// a second attachment to another site's router, a direct link between two workers, a master
/// wired to a worker; and two machines alike that do not reach each other (each wired only to
/// node03, which forwards nothing). Every variant gives the same matrix both ways, and the
/// variants differ.
#[test]
fn reachability_by_classes_of_alike_hosts_is_the_search_from_every_host() {
    let extras: [&[(&str, &str)]; 4] = [
        &[],
        &[("node01", "vyos03")],
        &[("node03", "node04")],
        &[("master01", "node02"), ("node03", "node04")],
    ];
    let mut seen = Vec::new();
    for vpn in [false, true] {
        for extra in extras {
            let mut s = thesis();
            s.vpn.enabled = vpn;
            s.links.extend(extra.iter().map(|(a, b)| lan(a, b)));
            if extra.is_empty() {
                for x in ["x1", "x2"] {
                    s.hosts.push(Host {
                        name: x.into(),
                        site: "vlan30".into(),
                        role: Role::Worker,
                        address: String::new(),
                    });
                    s.links.push(lan(x, "node03"));
                }
            }
            let net = Network::build(&s, &[]).expect("a network");
            let ids: Vec<u32> = s.hosts.iter().map(|h| net.host(&h.name).expect("a host")).collect();
            let classes = net.reachability_among(&ids);
            assert_eq!(classes, by_search(&s), "vpn {vpn}, extra links {extra:?}");
            seen.push(classes);
        }
    }
    seen.dedup();
    assert!(seen.len() >= 5, "the variants reach differently: {}", seen.len());
}
