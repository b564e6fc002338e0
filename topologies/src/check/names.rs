//! Names that point nowhere or twice (E001-E004, E016), names that cannot be names (E030), and
//! whether the network can be built from them at all.

use std::collections::HashSet;

use models::spec::{Role, Scenario, VpnTopology};

use super::{host, links, list, masters, Finding};

/// E001-E004, E016, and through [`links`] E022-E024: names that point nowhere or twice. Returns
/// whether the network can be built.
pub(super) fn names(s: &Scenario, f: &mut Vec<Finding>) -> bool {
    let before = f.len();
    let seen_sites = site_names(s, f);
    let seen_hosts = host_names(s, &seen_sites, f);
    link_ends(s, &seen_hosts, f);
    let structural = f.len() == before;
    name_syntax(s, f);
    links::wan_ends_are_routers(s, f);
    links::pairs_and_lan_sites(s, f);
    host_references(s, f);
    let before_hub = f.len();
    vpn_hub(s, &seen_sites, f);
    let hub_ok = f.len() == before_hub;
    netem_sides(s, &seen_sites, f);
    // The network also needs every site's router to exist and to be a host of that site
    // (E005, E025), and a hub-and-spoke VPN its hub (E016): without them, reachability would
    // report the symptom (every spoke cut off, E014), not the cause.
    structural && hub_ok && routers_in_their_sites(s)
}

/// The sites' names, as a list for messages.
fn sites(s: &Scenario) -> String {
    list(s.sites.iter().map(|x| x.name.as_str()))
}

/// The hosts' names, as a list for messages.
fn hosts(s: &Scenario) -> String {
    list(s.hosts.iter().map(|h| h.name.as_str()))
}

/// The longest name: a DNS subdomain's 253 characters (RFC 1123; Kubernetes's
/// `validation.DNS1123SubdomainMaxLength`).
pub(crate) const NAME_MAX: usize = 253;

/// Whether `name` is a DNS subdomain as Kubernetes validates a node's name (v1.16
/// `ValidateNodeName` = `NameIsDNSSubdomain`: `IsDNS1123Subdomain`): at most 253 characters of
/// lowercase letters, digits, `-` and `.`, each dot-separated label beginning and ending with a
/// letter or digit.
fn is_dns_subdomain(name: &str) -> bool {
    let label_ok = |l: &str| {
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        l.chars().next().is_some_and(alnum)
            && l.chars().last().is_some_and(alnum)
            && l.chars().all(|c| alnum(c) || c == '-')
    };
    !name.is_empty() && name.len() <= NAME_MAX && name.split('.').all(label_ok)
}

/// Whether `c` is a Unicode format character (general category Cf): invisible, and the bidi
/// controls among them (U+202A-U+202E, U+2066-U+2069, U+061C, U+200E, U+200F) reorder the text
/// after them, so a name holding one shows as another, or reverses the rest of a report's line.
/// The list is Unicode 15's Cf.
pub(crate) fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// The first format character of `text` ([`is_format_char`]), as `U+202E at character 7`.
fn format_char(text: &str) -> Option<String> {
    let (i, c) = text.chars().enumerate().find(|(_, c)| is_format_char(*c))?;
    Some(format!("U+{:04X} at character {}", u32::from(c), i + 1))
}

/// Why `name` cannot name a site, if it cannot: it is shown in tables (`plan.md`'s Markdown:
/// `|`), listed in `--placements` (`,` and `;` separate sites there) and read back by people.
fn site_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("is empty".into())
    } else if name.chars().count() > NAME_MAX {
        Some("is longer than 253 characters".into())
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("holds a space or a control character".into())
    } else if let Some(at) = format_char(name) {
        Some(format!(
            "holds the invisible format character {at} (a bidi control or a zero-width character, which makes the name show as another)"
        ))
    } else if name.contains(['|', ',', ';']) {
        Some("holds `|`, `,` or `;`, which tables and --placements use as separators".into())
    } else {
        None
    }
}

/// E030: a host name that is not a DNS subdomain (every worker and master is a Kubernetes node,
/// and the load balancer and routers are named alike), a site name that tables and lists
/// cannot show, a scenario name or description that is not one line.
fn name_syntax(s: &Scenario, f: &mut Vec<Finding>) {
    // A newline or a terminal's escape in the scenario's own name or description would break
    // the report's line it heads, or drive the terminal.
    for (field, text) in [("name", &s.name), ("description", &s.description)] {
        if text.chars().any(char::is_control) {
            f.push(Finding::new(
                "E030",
                field.to_owned(),
                format!("the scenario's {field} {text:?} holds a control character (a line break, a tab or a terminal escape); expected one line of text"),
            ));
        } else if let Some(at) = format_char(text) {
            f.push(Finding::new(
                "E030",
                field.to_owned(),
                format!("the scenario's {field} {text:?} holds the invisible format character {at} (a bidi control reorders the rest of a report's line); expected text without one"),
            ));
        }
    }
    for (i, site) in s.sites.iter().enumerate() {
        if let Some(problem) = site_name_problem(&site.name) {
            f.push(Finding::new(
                "E030",
                format!("sites[{i}].name"),
                format!(
                    "site name {:?} {problem}; expected up to 253 characters without spaces, control or format characters, `|`, `,` or `;`, such as \"eth-zurich\"",
                    site.name
                ),
            ));
        }
    }
    for (i, h) in s.hosts.iter().enumerate() {
        if !is_dns_subdomain(&h.name) {
            f.push(Finding::new(
                "E030",
                format!("hosts[{i}].name"),
                format!(
                    "host name {:?} is not a DNS subdomain, as Kubernetes requires of a node's name; expected lowercase letters, digits, `-` and `.`, each part beginning and ending with a letter or digit, at most 253 characters, such as \"node01\"",
                    h.name
                ),
            ));
        }
    }
}

/// E004: a site name used twice. Returns the site names.
fn site_names<'a>(s: &'a Scenario, f: &mut Vec<Finding>) -> HashSet<&'a str> {
    let mut seen_sites = HashSet::new();
    for (i, site) in s.sites.iter().enumerate() {
        if !seen_sites.insert(site.name.as_str()) {
            f.push(Finding::new(
                "E004",
                format!("sites[{i}].name"),
                format!("site name `{}` is used twice; expected a new name", site.name),
            ));
        }
    }
    seen_sites
}

/// E003, E001: a host name used twice, a host in a site that is not defined. Returns the host
/// names.
fn host_names<'a>(s: &'a Scenario, seen_sites: &HashSet<&str>, f: &mut Vec<Finding>) -> HashSet<&'a str> {
    let mut seen_hosts = HashSet::new();
    for (i, h) in s.hosts.iter().enumerate() {
        if !seen_hosts.insert(h.name.as_str()) {
            f.push(Finding::new(
                "E003",
                format!("hosts[{i}].name"),
                format!("host name `{}` is used twice; expected a new name", h.name),
            ));
        }
        if !seen_sites.contains(h.site.as_str()) {
            f.push(Finding::new(
                "E001",
                format!("hosts[{i}].site"),
                format!(
                    "host `{}` is in site `{}`, which is not defined; expected one of: {}",
                    h.name,
                    h.site,
                    sites(s)
                ),
            ));
        }
    }
    seen_hosts
}

/// E002: a link end that is not a defined host.
fn link_ends(s: &Scenario, seen_hosts: &HashSet<&str>, f: &mut Vec<Finding>) {
    for (i, l) in s.links.iter().enumerate() {
        for (end, name) in [("a", &l.a), ("b", &l.b)] {
            if !seen_hosts.contains(name.as_str()) {
                f.push(Finding::new(
                    "E002",
                    format!("links[{i}].{end}"),
                    format!("link end `{name}` is not a defined host; expected one of: {}", hosts(s)),
                ));
            }
        }
    }
}

/// E016: the kubectl host and the registry host that are not defined hosts, an etcd leader that
/// is not a master.
fn host_references(s: &Scenario, f: &mut Vec<Finding>) {
    for (field, what, name) in [
        ("workload.kubectl_host", "kubectl host", &s.workload.kubectl_host),
        ("runtime.registry_host", "registry host", &s.runtime.registry_host),
    ] {
        if let Some(n) = name.as_deref().filter(|n| host(s, n).is_none()) {
            f.push(Finding::new(
                "E016",
                field,
                format!("{what} `{n}` is not a defined host; expected one of: {}", hosts(s)),
            ));
        }
    }
    if let Some(l) = &s.kubernetes.etcd.leader {
        if host(s, l).is_none_or(|h| h.role != Role::Master) {
            f.push(Finding::new(
                "E016",
                "kubernetes.etcd.leader",
                format!("etcd leader `{l}` is not a master; expected one of: {}", masters(s)),
            ));
        }
    }
}

/// E016: a hub-and-spoke VPN's hub that is not a defined site.
fn vpn_hub(s: &Scenario, seen_sites: &HashSet<&str>, f: &mut Vec<Finding>) {
    if let VpnTopology::HubAndSpoke { hub } = &s.vpn.topology {
        if !seen_sites.contains(hub.as_str()) {
            f.push(Finding::new(
                "E016",
                "vpn.topology.hub",
                format!("VPN hub `{hub}` is not a defined site; expected one of: {}", sites(s)),
            ));
        }
    }
}

/// E016: netem's near and far sides that are not defined sites, a far site that is the near
/// one, is named twice or has no tunnel to the near one.
fn netem_sides(s: &Scenario, seen_sites: &HashSet<&str>, f: &mut Vec<Finding>) {
    let netem_sites = s.netem.near.iter().map(|n| ("netem.near".to_owned(), n));
    let far_sites = s
        .netem
        .far
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("netem.far[{i}]"), n));
    for (field, name) in netem_sites.chain(far_sites) {
        if !seen_sites.contains(name.as_str()) {
            f.push(Finding::new(
                "E016",
                field,
                format!(
                    "netem site `{name}` is not a defined site; expected one of: {}",
                    sites(s)
                ),
            ));
        }
    }
    // Netem acts between the near side and each far site: a far site that is the near one (or
    // named twice) would add nothing, while the run's header still reported the delay.
    let near = s
        .netem
        .near
        .clone()
        .or_else(|| s.hosts.iter().find(|h| h.role == Role::Master).map(|h| h.site.clone()));
    for (i, name) in s.netem.far.iter().enumerate() {
        let message = if Some(name) == near.as_ref() {
            format!("`{name}` is the near side of netem itself (netem.near, or the control plane's site); expected a different site")
        } else if s.netem.far[..i].contains(name) {
            format!("`{name}` is named twice; name each far site once")
        } else if let Some(near) = near.as_deref().filter(|n| {
            seen_sites.contains(n) && seen_sites.contains(name.as_str()) && !super::tunnel_between(s, n, name)
        }) {
            // netem sits on the near router's tunnel to each far site: none, no delay.
            format!(
                "no tunnel joins `{name}` to netem's near side `{near}`, so netem would delay nothing between them: {}; expected a site with a tunnel to `{near}`",
                super::tunnel_layout(s)
            )
        } else {
            continue;
        };
        f.push(Finding::new("E016", format!("netem.far[{i}]"), message));
    }
}

/// Whether every site's router exists and is a host of that site (what E005 and E025 check).
fn routers_in_their_sites(s: &Scenario) -> bool {
    s.sites
        .iter()
        .all(|site| host(s, &site.router).is_some_and(|h| h.site == site.name))
}
