//! The roles hosts play (E005-E009, E019, E025, W001, W002, W006): each site's router, HAProxy's host
//! and backends, and at least one master and one worker.

use std::collections::HashMap;

use models::spec::{Role, Scenario};

use super::{host, masters, Finding};

/// E005-E009, E019, E025, W001, W002, W006: roles.
pub(super) fn roles(s: &Scenario, f: &mut Vec<Finding>) {
    site_routers(s, f);
    haproxy_host(s, f);
    haproxy_backends(s, f);
    masters_and_workers(s, f);
}

/// E005, E025: a site's router that is not a defined host, not a router, or a host of another
/// site.
fn site_routers(s: &Scenario, f: &mut Vec<Finding>) {
    for (i, site) in s.sites.iter().enumerate() {
        match host(s, &site.router) {
            None => f.push(Finding::new(
                "E005",
                format!("sites[{i}].router"),
                format!(
                    "router `{}` of site `{}` is not a defined host; expected a host with role = \"router\"",
                    site.router, site.name
                ),
            )),
            Some(h) if h.role != Role::Router => f.push(Finding::new(
                "E005",
                format!("sites[{i}].router"),
                format!(
                    "router `{}` of site `{}` has role = \"{}\"; expected role = \"router\"",
                    site.router,
                    site.name,
                    h.role.as_str()
                ),
            )),
            // The network attaches a site's hosts to its router and ends the site's tunnels
            // there: another site's router would join the two sites' LANs, and an empty site
            // would borrow a router it does not have.
            Some(h) if h.site != site.name => f.push(Finding::new(
                "E025",
                format!("sites[{i}].router"),
                format!(
                    "router `{}` of site `{}` is a host of site `{}`; expected a router whose `site` is `{}`",
                    site.router, site.name, h.site, site.name
                ),
            )),
            Some(_) => {}
        }
    }
}

/// E006: HAProxy's host is not a defined host or not the load balancer. W006: a load balancer
/// that is not HAProxy's host.
fn haproxy_host(s: &Scenario, f: &mut Vec<Finding>) {
    match host(s, &s.haproxy.host) {
        None => f.push(Finding::new(
            "E006",
            "haproxy.host",
            format!(
                "haproxy host `{}` is not a defined host; expected a host with role = \"load-balancer\"",
                s.haproxy.host
            ),
        )),
        Some(h) if h.role != Role::LoadBalancer => f.push(Finding::new(
            "E006",
            "haproxy.host",
            format!(
                "haproxy host `{}` has role = \"{}\"; expected role = \"load-balancer\"",
                h.name,
                h.role.as_str()
            ),
        )),
        Some(_) => {}
    }
    // W006: the model runs one HAProxy, on haproxy.host; another load balancer (a keepalived
    // standby, say) carries nothing, and its crash changes nothing.
    for (i, h) in s.hosts.iter().enumerate() {
        if h.role == Role::LoadBalancer && h.name != s.haproxy.host {
            f.push(Finding::new(
                "W006",
                format!("hosts[{i}].role"),
                format!(
                    "load balancer `{}` is not haproxy.host (`{}`): the model runs one HAProxy, so `{}` carries no traffic and a crash of it changes nothing",
                    h.name, s.haproxy.host, h.name
                ),
            ));
        }
    }
}

/// E019, E032, E007, W001, W002: no backend, more than the model numbers, a backend that is
/// not a master, a backend listed twice, a master that is no backend.
fn haproxy_backends(s: &Scenario, f: &mut Vec<Finding>) {
    if s.haproxy.backends.is_empty() {
        f.push(Finding::new(
            "E019",
            "haproxy.backends",
            format!("haproxy has no backend; expected the masters: {}", masters(s)),
        ));
    }
    if s.haproxy.backends.len() > models::cluster::MAX_BACKENDS {
        f.push(Finding::new(
            "E032",
            "haproxy.backends",
            format!(
                "haproxy has {} backends; expected at most {} (the model numbers apiservers in a byte)",
                s.haproxy.backends.len(),
                models::cluster::MAX_BACKENDS
            ),
        ));
    }
    let mut seen = HashMap::new();
    for (i, b) in s.haproxy.backends.iter().enumerate() {
        match host(s, b) {
            None => f.push(Finding::new(
                "E007",
                format!("haproxy.backends[{i}]"),
                format!(
                    "backend `{b}` points nowhere: no host has that name; expected a master: {}",
                    masters(s)
                ),
            )),
            Some(h) if h.role != Role::Master => f.push(Finding::new(
                "E007",
                format!("haproxy.backends[{i}]"),
                format!(
                    "backend `{b}` points to a host with role = \"{}\", where no apiserver runs; expected a master: {}",
                    h.role.as_str(),
                    masters(s)
                ),
            )),
            Some(_) => {}
        }
        if let Some(first) = seen.insert(b.as_str(), i) {
            f.push(Finding::new(
                "W001",
                format!("haproxy.backends[{i}]"),
                format!("backend `{b}` is listed again (first as backends[{first}])"),
            ));
        }
    }
    for h in &s.hosts {
        if h.role == Role::Master && !s.haproxy.backends.is_empty() && !seen.contains_key(h.name.as_str()) {
            f.push(Finding::new(
                "W002",
                "haproxy.backends",
                format!("master `{}` is not a haproxy backend", h.name),
            ));
        }
    }
}

/// E008, E009: no master, no worker.
fn masters_and_workers(s: &Scenario, f: &mut Vec<Finding>) {
    if !s.hosts.iter().any(|h| h.role == Role::Master) {
        f.push(Finding::new(
            "E008",
            "hosts",
            "no host has role = \"master\"; expected at least one",
        ));
    }
    if !s.hosts.iter().any(|h| h.role == Role::Worker) {
        f.push(Finding::new(
            "E009",
            "hosts",
            "no host has role = \"worker\"; expected at least one",
        ));
    }
}
