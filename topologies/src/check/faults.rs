//! Faults (E020): each names an existing host or site, is repaired after it happens, changes
//! something, and does not overlap another fault that takes the same thing down.

use models::spec::{Fault, Role, Scenario};
use sim_core::SimDuration;

use super::numbers::loss_message;
use super::{host, Finding};

/// E020: faults that name nothing, end before they begin, change nothing or overlap one another.
pub(super) fn faults(s: &Scenario, f: &mut Vec<Finding>) {
    // Where the observing kubectl runs: the first backend unless the workload names a host.
    let kubectl_host = s.kubectl_host();
    for (i, fault) in s.faults.iter().enumerate() {
        let mut bad = |field: &str, msg: String| f.push(Finding::new("E020", format!("faults[{i}].{field}"), msg));
        what_it_names(s, fault, kubectl_host, &mut bad);
        repaired_after(fault, &mut bad);
        if let Some((j, down)) = overlapped(&s.faults[..i], fault) {
            bad(
                "at",
                format!(
                    "it overlaps faults[{j}], which already takes the same {} down then; expected one fault per failure (end the first before the next begins)",
                    down.what()
                ),
            );
        }
    }
}

/// The hosts and sites `fault` names exist and can fail so (a crash, a tunnel's two sites, an
/// isolated site), and a degradation changes something.
fn what_it_names(s: &Scenario, fault: &Fault, kubectl_host: Option<&str>, bad: &mut impl FnMut(&str, String)) {
    match fault {
        Fault::Crash { host, .. } => crashed_host(s, host, kubectl_host, bad),
        Fault::Partition { a, b, .. } => tunnel_sites(s, "a partition", a, b, bad),
        Fault::Degrade {
            a,
            b,
            delay,
            jitter,
            loss_pct,
            ..
        } => {
            tunnel_sites(s, "a degraded tunnel", a, b, bad);
            if !(0.0..100.0).contains(loss_pct) {
                bad("loss_pct", loss_message(*loss_pct));
            } else if delay.get().is_zero() && jitter.get().is_zero() && *loss_pct == 0.0 {
                bad(
                    "delay",
                    "a degradation with no delay, jitter or loss changes nothing; expected at least one of them".into(),
                );
            }
        }
        Fault::IsolateSite { site, .. } => {
            if !site_defined(s, site) {
                bad("site", undefined_site(s, site));
            }
        }
        Fault::CrashEtcdLeader { .. } => {}
    }
}

/// A repair comes after its fault.
fn repaired_after(fault: &Fault, bad: &mut impl FnMut(&str, String)) {
    if let Some(r) = fault.repair() {
        if r <= fault.at() {
            bad(
                "repair",
                format!(
                    "repair at {r} is not after the fault at {}; expected a later time",
                    fault.at()
                ),
            );
        }
    }
}

/// The message for a site `name` that is not defined: the sites whose names contain it (as
/// `kubetwin generate` spells them: `eth-zurich` for `eth-zurich-zurich`), or else every site
/// when there are few.
fn undefined_site(s: &Scenario, name: &str) -> String {
    // `generate consortium` turns "ETH Zurich (Zurich)" into `eth-zurich-zurich`: compare in
    // that spelling.
    let spelled: String = name
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let like: Vec<&str> = s
        .sites
        .iter()
        .map(|x| x.name.as_str())
        .filter(|x| !spelled.is_empty() && x.contains(&spelled))
        .collect();
    if !like.is_empty() {
        format!("site `{name}` is not defined; did you mean {}?", quoted(&like))
    } else if s.sites.len() <= 12 {
        let all: Vec<&str> = s.sites.iter().map(|x| x.name.as_str()).collect();
        format!("site `{name}` is not defined; expected one of {}", quoted(&all))
    } else {
        format!(
            "site `{name}` is not defined; expected the name of one of the scenario's {} [[sites]] (as `kubetwin generate` spells them: lower case, words joined by `-`)",
            s.sites.len()
        )
    }
}

/// The message for a crash of host `name` that is not defined: the hosts that can crash, named
/// (the routers only when there are few; not the observing kubectl's host).
fn undefined_host(s: &Scenario, name: &str, kubectl_host: Option<&str>) -> String {
    let of = |role: Role| -> Vec<&str> {
        s.hosts
            .iter()
            .filter(|h| h.role == role && Some(h.name.as_str()) != kubectl_host)
            .map(|h| h.name.as_str())
            .collect()
    };
    let mut parts = vec![format!("the load balancer `{}`", s.haproxy.host)];
    let masters = of(Role::Master);
    if !masters.is_empty() {
        parts.push(format!("a master ({})", quoted(&masters)));
    }
    let routers = of(Role::Router);
    match routers.len() {
        0 => {}
        1..=6 => parts.push(format!("a router ({})", quoted(&routers))),
        n => parts.push(format!("one of the {n} sites' routers (such as `{}`)", routers[0])),
    }
    if let Some(r) = s.runtime.registry_host.as_deref() {
        parts.push(format!("the registry host `{r}`"));
    }
    let last = parts.pop().unwrap_or_default();
    let listed = if parts.is_empty() {
        last
    } else {
        format!("{} or {last}", parts.join(", "))
    };
    format!("host `{name}` is not defined; expected {listed}")
}

/// `a`, `b` or `c`, each in backquotes.
fn quoted(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match q.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => q.join(""),
    }
}

/// Whether `name` is a defined site.
fn site_defined(s: &Scenario, name: &str) -> bool {
    s.sites.iter().any(|x| x.name == name)
}

/// A crash of a host that is not defined, or that the model cannot crash: a worker, a client
/// that is not the registry host, the host the observing kubectl runs on.
fn crashed_host(s: &Scenario, name: &str, kubectl_host: Option<&str>, bad: &mut impl FnMut(&str, String)) {
    match host(s, name) {
        None => bad("host", undefined_host(s, name, kubectl_host)),
        Some(h) if h.role == Role::Worker => bad(
            "host",
            format!(
                "crashing worker `{name}` is not modelled (its kubelet and pods would die with it, even if it serves the registry); expected the load balancer, a master, a router or a client host that serves the registry (runtime.registry_host)"
            ),
        ),
        Some(h) if h.role == Role::Client && s.runtime.registry_host.as_deref() != Some(name) => bad(
            "host",
            format!(
                "crashing client `{name}` is not modelled; expected the load balancer, a master, a router or the registry host (runtime.registry_host)"
            ),
        ),
        // The observer (`kubectl get pods -w`) would die with its host, and nothing
        // would see the pods run: the measurement itself would be lost.
        Some(_) if Some(name) == kubectl_host => bad(
            "host",
            format!(
                "`{name}` runs the observing kubectl (workload.kubectl_host), which would die with it and see nothing; crash another host, or run kubectl elsewhere (workload.kubectl_host)"
            ),
        ),
        Some(_) => {}
    }
}

/// The two sites of a tunnel fault (`what`: "a partition", "a degraded tunnel"): each defined,
/// and not the same site twice.
fn tunnel_sites(s: &Scenario, what: &str, a: &str, b: &str, bad: &mut impl FnMut(&str, String)) {
    for (field, n) in [("a", a), ("b", b)] {
        if !site_defined(s, n) {
            bad(field, undefined_site(s, n));
        }
    }
    if a == b {
        bad("b", format!("{what} needs two different sites, got `{a}` twice"));
    } else if site_defined(s, a) && site_defined(s, b) && !super::tunnel_between(s, a, b) {
        // The fault acts on the tunnel between the two sites: without one it would change
        // nothing, while the run's header still named it.
        bad(
            "b",
            format!(
                "{what} acts on the tunnel between `{a}` and `{b}`, and there is none: {}; expected two sites a tunnel joins (isolate-site cuts every tunnel of one site)",
                super::tunnel_layout(s)
            ),
        );
    }
}

/// What a fault takes down, for the faults that must not overlap one another: the same host
/// crashed, the same site cut off or the same tunnel cut again while it still is would leave
/// which failure a repair ends, and which one HAProxy's marks and the failovers belong to,
/// unstated. Degradations may overlap: they add up.
#[derive(Debug, PartialEq, Eq)]
enum Down {
    /// A crashed host.
    Host(String),
    /// An isolated site.
    Site(String),
    /// A partitioned tunnel, its two sites in order (`"a b"`, `a <= b`).
    Tunnel(String),
    /// The etcd leader.
    EtcdLeader,
}

impl Down {
    /// What `x` takes down, or `None` for a degradation.
    fn of(x: &Fault) -> Option<Down> {
        match x {
            Fault::Crash { host, .. } => Some(Down::Host(host.clone())),
            Fault::IsolateSite { site, .. } => Some(Down::Site(site.clone())),
            Fault::Partition { a, b, .. } => Some(Down::Tunnel(if a <= b {
                format!("{a} {b}")
            } else {
                format!("{b} {a}")
            })),
            Fault::CrashEtcdLeader { .. } => Some(Down::EtcdLeader),
            Fault::Degrade { .. } => None,
        }
    }

    /// Its name in messages.
    fn what(&self) -> &'static str {
        match self {
            Down::Host(_) => "host",
            Down::Site(_) => "site",
            Down::Tunnel(_) => "tunnel",
            Down::EtcdLeader => "etcd leader",
        }
    }
}

/// When a fault holds: from `at` until its repair, or for ever.
fn window(x: &Fault) -> (SimDuration, SimDuration) {
    (x.at().get(), x.repair().map_or(SimDuration::MAX, |r| r.get()))
}

/// The first of `earlier` that takes down what `fault` does while `fault` holds, with what
/// both take down.
fn overlapped(earlier: &[Fault], fault: &Fault) -> Option<(usize, Down)> {
    let mine = Down::of(fault)?;
    let (a0, a1) = window(fault);
    let j = earlier.iter().position(|g| {
        Down::of(g).as_ref() == Some(&mine) && {
            let (b0, b1) = window(g);
            a0 < b1 && b0 < a1
        }
    })?;
    Some((j, mine))
}
