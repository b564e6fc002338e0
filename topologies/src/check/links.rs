//! Links that join the wrong hosts (E022-E024): a WAN link that does not join two routers, a
//! LAN link across sites, a link from a host to itself, a second link between the same hosts.

use std::collections::HashMap;

use models::spec::{Host, LinkKind, Role, Scenario};

use super::Finding;

/// E022: a `kind = "wan"` link with an end that is not a router.
pub(super) fn wan_ends_are_routers(s: &Scenario, f: &mut Vec<Finding>) {
    // The WAN underlay joins the sites' routers; the network carries nothing over a "wan" link
    // with another end (the routes forward only through routers), so such a link would be
    // silently ignored. Hosts looked up in a map: a full mesh of 250 sites has 31,000 WAN links.
    let mut hosts: HashMap<&str, &Host> = HashMap::new();
    for h in &s.hosts {
        hosts.entry(h.name.as_str()).or_insert(h);
    }
    for (i, l) in s.links.iter().enumerate() {
        if l.kind != LinkKind::Wan {
            continue;
        }
        for (end, name) in [("a", &l.a), ("b", &l.b)] {
            if let Some(h) = hosts.get(name.as_str()).filter(|h| h.role != Role::Router) {
                f.push(Finding::new(
                    "E022",
                    format!("links[{i}].{end}"),
                    format!(
                        "a \"wan\" link joins two sites' routers, but `{name}` is a {}; expected a router, or kind = \"lan\" for a link inside a site",
                        h.role.as_str()
                    ),
                ));
            }
        }
    }
}

/// E023, E024: a LAN link across sites, a link from a host to itself, a second link between
/// the same hosts.
pub(super) fn pairs_and_lan_sites(s: &Scenario, f: &mut Vec<Finding>) {
    // Looked up once per link end: a map, so that 100,000 workers' links are not 10^10 steps.
    let mut sites: HashMap<&str, &str> = HashMap::new();
    for h in &s.hosts {
        sites.entry(h.name.as_str()).or_insert(h.site.as_str());
    }
    let site = |n: &str| sites.get(n).copied();
    let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, l) in s.links.iter().enumerate() {
        if l.a == l.b {
            f.push(Finding::new(
                "E024",
                format!("links[{i}].b"),
                format!("link joins `{}` to itself; expected two different hosts", l.a),
            ));
            continue;
        }
        let key = if l.a <= l.b {
            (l.a.as_str(), l.b.as_str())
        } else {
            (l.b.as_str(), l.a.as_str())
        };
        if let Some(first) = pairs.insert(key, i) {
            pairs.insert(key, first);
            f.push(Finding::new(
                "E024",
                format!("links[{i}]"),
                format!(
                    "`{}` and `{}` are already joined by links[{first}]; expected one link per pair of hosts",
                    l.a, l.b
                ),
            ));
        }
        if l.kind == LinkKind::Lan {
            if let (Some(x), Some(y)) = (site(&l.a), site(&l.b)) {
                if x != y {
                    f.push(Finding::new(
                        "E023",
                        format!("links[{i}]"),
                        format!(
                            "a \"lan\" link joins `{}` of site `{x}` and `{}` of site `{y}`; expected hosts of one site (a host attaches to its own site's router), or kind = \"wan\" between two routers",
                            l.a, l.b
                        ),
                    ));
                }
            }
        }
    }
}
