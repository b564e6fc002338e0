//! Semantic checks of a parsed scenario, each with a stable code, a name and a help text.
//!
//! Parsing ([`crate::load`]) already rejects what the types can see: unknown fields, wrong types,
//! durations without a unit. These checks see what needs the whole scenario: names that point
//! nowhere, roles that do not fit, numbers outside their range, timings that the real software
//! would refuse, and workers that no route joins to the control plane. [`run`] returns every
//! finding, not only the first; [`crate::load`] places each in the file.
//!
//! Codes are stable: a code is never reused for another check. `E…` codes reject the scenario;
//! `W…` codes are warnings returned beside it. [`checks_table`] lists them all (the README's
//! table is the same list).

use std::collections::{BTreeMap, HashMap, HashSet};

use models::network::Network;
use models::spec::{Role, Scenario, VpnTopology};
use models::units::Dur;
use sim_core::SimDuration;

use crate::error::{Diagnostic, Severity};

/// The longest duration any scenario field may hold: 30 days. A pod start-up scenario has no
/// use for more, and a value beyond it is almost always a unit slip (`"100h"` for `"100ms"`).
pub const MAX_DURATION_SECS: u64 = 30 * 24 * 3600;

/// The shortest period a scenario may set (E017). Every loop in the modelled software runs at
/// millisecond scale or slower (the fastest v1.16 default is the kubelet's 1 s PLEG relist;
/// HAProxy's `inter` accepts milliseconds); a nanosecond period would only make the run
/// schedule billions of events.
const MIN_PERIOD: sim_core::SimDuration = sim_core::SimDuration::from_millis(1);

/// One check: its stable code, its name and what to do about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// `E001`, `W001`, ...
    pub code: &'static str,
    /// Short kebab-case name.
    pub name: &'static str,
    /// Error (the scenario is rejected) or warning.
    pub severity: Severity,
    /// How to fix a finding.
    pub help: &'static str,
}

const fn err(code: &'static str, name: &'static str, help: &'static str) -> Check {
    Check {
        code,
        name,
        severity: Severity::Error,
        help,
    }
}

const fn warn(code: &'static str, name: &'static str, help: &'static str) -> Check {
    Check {
        code,
        name,
        severity: Severity::Warning,
        help,
    }
}

/// Every check, in code order.
pub const CHECKS: &[Check] = &[
    err(
        "E001",
        "unknown-site",
        "every host's `site` must be the `name` of a [[sites]] entry",
    ),
    err(
        "E002",
        "unknown-link-end",
        "a link's `a` and `b` must be `name`s of [[hosts]] entries (routers are hosts too)",
    ),
    err("E003", "duplicate-host", "give every [[hosts]] entry its own `name`"),
    err("E004", "duplicate-site", "give every [[sites]] entry its own `name`"),
    err(
        "E005",
        "router-not-router",
        "a site's `router` must name a host with role = \"router\" (its OpenVPN endpoint)",
    ),
    err(
        "E006",
        "haproxy-host-not-lb",
        "haproxy.host must name a host with role = \"load-balancer\"",
    ),
    err(
        "E007",
        "backend-points-nowhere",
        "every haproxy backend must name a host with role = \"master\" (the apiservers)",
    ),
    err(
        "E008",
        "no-master",
        "add at least one host with role = \"master\": the control plane runs there",
    ),
    err(
        "E009",
        "no-worker",
        "add at least one host with role = \"worker\": pods run there",
    ),
    err(
        "E010",
        "out-of-range",
        "loss percentages lie in 0..100 (100 % loss is a partition: use a [[faults]] entry), latitudes in -90..=90 and longitudes in -180..=180; NaN and infinity are refused",
    ),
    err(
        "E011",
        "non-positive-rate",
        "a QPS must be a number in 1e-6..=1e9 (what the token bucket models); only kubelet `event_qps` may be 0, which the kubelet documents as unlimited",
    ),
    err(
        "E012",
        "zero-count",
        "bursts, worker and slot counts, batch sizes, rise/fall, the tunnel MTU and the layer connections must be at least 1",
    ),
    err("E013", "zero-replicas", "workload.replicas must be at least 1: nothing would start"),
    err(
        "E014",
        "unreachable",
        "every worker and master must reach the load balancer and every master (the kubectl host the load balancer, every worker the registry host if the runtime names one): enable the VPN, add tunnels or links",
    ),
    err(
        "E015",
        "duration-too-large",
        "durations are at most 30 days; check the unit (`ms` versus `m` or `h`)",
    ),
    err(
        "E016",
        "unknown-reference",
        "workload.kubectl_host and runtime.registry_host must name hosts, kubernetes.etcd.leader a master, a hub-and-spoke VPN's hub and netem's near and far sides sites (each far site once, and not the near one)",
    ),
    err(
        "E017",
        "zero-period",
        "periodic intervals (health checks, heartbeats, keepalives, relists, status updates, retries, the observation resolution) must be at least 1 ms: a shorter one floods the run with events and no software in the model runs a loop that fast",
    ),
    err(
        "E018",
        "inconsistent-timing",
        "the real software refuses these timings: etcd wants election_timeout >= 5 x heartbeat; client-go's leader election wants lease_duration > renew_deadline > 1.2 x retry_period; OpenVPN's keepalive wants ping_restart >= 2 x ping",
    ),
    err(
        "E019",
        "no-backend",
        "haproxy.backends must list at least one master, as the HAProxy kubernetes-backend does",
    ),
    err(
        "E020",
        "bad-fault",
        "a fault must name an existing host (crash: the load balancer, a master, a router or the registry host of `runtime.registry_host`, not the host the observing kubectl runs on) or site (partition, degrade, isolate-site), and be repaired after it happens; a degrade adds a delay, a jitter or a loss; two crashes of one host, two cut-offs of one site, two partitions of one tunnel or two crash-etcd-leader faults do not overlap (degradations may: they add up)",
    ),
    err(
        "E021",
        "no-room",
        "the workers must hold the workload: each takes at most kubernetes.kubelet.max_pods pods (110 by default), its DaemonSet pods (host_network_pods) included; pods beyond stay Pending and the run never ends",
    ),
    err(
        "E022",
        "wan-not-between-routers",
        "a `kind = \"wan\"` link must join two routers (the underlay between sites); inside a site use `kind = \"lan\"`",
    ),
    err(
        "E023",
        "lan-across-sites",
        "a `kind = \"lan\"` link joins two hosts of one site (a host to its site's router, or two hosts of the site); sites are joined by a `kind = \"wan\"` link between their routers and by the tunnels",
    ),
    err(
        "E024",
        "bad-link",
        "a link joins two different hosts, and each pair of hosts has one link: a second link between the same hosts would leave which delay applies unstated",
    ),
    err(
        "E025",
        "router-of-another-site",
        "a site's `router` must be a host of that site (its `site` is the site's `name`): each site has its own OpenVPN endpoint, which its hosts reach over the site's LAN",
    ),
    err(
        "E026",
        "resolution-beyond-timeout",
        "workload.resolution, the tick of the clock start-up is read on (kubectl's whole seconds: \"1s\"), must be at most workload.timeout: a coarser clock cannot tick before the run gives up, and every start-up reads 0 s or a whole tick",
    ),
    err(
        "E027",
        "node-too-small",
        "kubernetes.node's capacity must hold what its DaemonSet pods request (daemonset_cpu_millis at most cpu_millis; daemonset_memory_mib at most memory_mib less the 100 MiB v1.16's default --eviction-hard keeps back), and memory_mib must exceed those 100 MiB: a node with less has nothing left for pods",
    ),
    err(
        "E028",
        "tun-mtu-too-small",
        "vpn.tun_mtu must be at least 100: OpenVPN refuses a smaller tun MTU (TUN_MTU_MIN, its mtu.h: \"a fatal error\")",
    ),
    err(
        "E029",
        "bad-address",
        "a host's `address` is an IPv4 address (`192.168.10.101`) and a site's `prefix` an IPv4 prefix (`192.168.10.0/24`), or empty: both are informational, but a malformed one is a typo worth knowing about",
    ),
    warn(
        "W001",
        "duplicate-backend",
        "a backend listed twice gets twice the round-robin share; the thesis's printed HAProxy listing names master02 twice where master03 was meant",
    ),
    warn(
        "W002",
        "master-not-a-backend",
        "a master that no haproxy backend names never receives API traffic through the load balancer",
    ),
    warn(
        "W003",
        "periodic-overload",
        "lengthen kubernetes.kubelet.node_status_update, turn off host_network_status_resync (the v1.16.3 bug, fixed in v1.18), or give the apiservers more workers (kubernetes.apiserver.workers) or the cluster more masters",
    ),
    warn(
        "W004",
        "etcd-unstable",
        "etcd's election timeout must exceed the largest round trip between members plus half a heartbeat interval: otherwise a new leader checks its quorum before its followers' first answers can come back and steps down, so a lost leader is replaced late or never; `run` simulates etcd's elections when the scenario has faults or jitter or loss between the masters (a crash drill then shows the failover that never comes), while with steady round trips and no fault the first leader keeps leading, as etcd's would (`plan` section (c) gives the rates): raise kubernetes.etcd.election_timeout (etcd's tuning guide: 10 x the RTT) or place the masters nearer each other",
    ),
];

/// The checks as `(code, name, help)` rows, in code order (for the README's table, which a test keeps equal).
pub fn checks_table() -> Vec<(&'static str, &'static str, &'static str)> {
    CHECKS.iter().map(|c| (c.code, c.name, c.help)).collect()
}

/// The check with `code`, if there is one.
pub fn lookup(code: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.code == code)
}

/// The check of a finding; a code outside [`CHECKS`] (a hand-made [`Finding`]) counts as an
/// error without help rather than a panic.
fn check_of(code: &'static str) -> Check {
    lookup(code).copied().unwrap_or(Check {
        code,
        name: "unknown-check",
        severity: Severity::Error,
        help: "",
    })
}

/// A finding of [`run`], not yet placed in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check's code.
    pub code: &'static str,
    /// Field path (`hosts[4].site`).
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl Finding {
    fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            code,
            field: field.into(),
            message: message.into(),
        }
    }

    /// Error or warning.
    pub fn severity(&self) -> Severity {
        check_of(self.code).severity
    }

    /// This finding placed at `line`/`column` of `origin`.
    pub fn at(&self, origin: &str, line: usize, column: usize) -> Diagnostic {
        let c = check_of(self.code);
        Diagnostic {
            code: c.code,
            name: c.name,
            severity: c.severity,
            origin: origin.to_owned(),
            line,
            column,
            field: self.field.clone(),
            message: self.message.clone(),
            help: c.help,
        }
    }
}

/// At most 12 names, comma-separated, for "expected one of" lists.
fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    // A name given twice (an E003) is listed once.
    let mut seen = HashSet::new();
    let names: Vec<&str> = names.into_iter().filter(|n| seen.insert(*n)).collect();
    let mut s = names.iter().take(12).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 12 {
        s.push_str(&format!(", ... ({} in all)", names.len()));
    }
    if s.is_empty() {
        s.push_str("(none defined)");
    }
    s
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::LoadBalancer => "load-balancer",
        Role::Master => "master",
        Role::Worker => "worker",
        Role::Router => "router",
        Role::Client => "client",
    }
}

/// Runs every check on `s`. Findings come grouped by check, each group in file order.
pub fn run(s: &Scenario) -> Vec<Finding> {
    let mut f = Vec::new();
    let structural_ok = names(s, &mut f);
    roles(s, &mut f);
    numbers(s, &mut f);
    durations(s, &mut f);
    timings(s, &mut f);
    faults(s, &mut f);
    periodic_load(s, &mut f);
    if structural_ok {
        reachability(s, &mut f);
    }
    f
}

/// W003: the kubelets' periodic requests alone (node status, and the hostNetwork pods' status
/// resync) need more than the apiservers serve, so their queues grow through the whole run.
/// The apiservers' rate is the model's: each serving master runs `kubernetes.apiserver.workers`
/// requests at a time of `service_time` each (`models::control_plane`).
fn periodic_load(s: &Scenario, f: &mut Vec<Finding>) {
    let k = &s.kubernetes.kubelet;
    let workers = s.hosts.iter().filter(|h| h.role == Role::Worker).count() as f64;
    let serving = s
        .hosts
        .iter()
        .filter(|h| h.role == Role::Master && s.haproxy.backends.contains(&h.name))
        .count() as f64;
    let (status_period, service) = (
        k.node_status_update.secs_f64(),
        s.kubernetes.apiserver.service_time.secs_f64(),
    );
    if workers == 0.0 || serving == 0.0 || status_period <= 0.0 || service <= 0.0 {
        return; // other checks name these
    }
    let node_status = workers / status_period;
    let resync_period = models::status_manager::STATUS_SYNC_PERIOD.as_secs_f64();
    let resync = if k.host_network_status_resync {
        workers * f64::from(k.host_network_pods) * 2.0 / resync_period
    } else {
        0.0
    };
    let capacity = serving * f64::from(s.kubernetes.apiserver.workers) / service;
    if node_status + resync <= capacity {
        return;
    }
    let field = if resync > node_status {
        "kubernetes.kubelet.host_network_status_resync"
    } else {
        "kubernetes.kubelet.node_status_update"
    };
    f.push(Finding::new(
        "W003",
        field,
        format!(
            "the {workers} kubelets' periodic requests alone come to {:.0}/s (node status every {}: {:.0}/s; \
             hostNetwork status resyncs, {} pods x GET + PATCH every {resync_period} s: {:.0}/s), more than \
             the apiservers serve ({serving} x {} workers / {} = {:.0}/s): they keep the apiservers saturated, every \
             other request waits behind them, and the pods may never all run",
            node_status + resync,
            k.node_status_update,
            node_status,
            if k.host_network_status_resync {
                k.host_network_pods
            } else {
                0
            },
            resync,
            s.kubernetes.apiserver.workers,
            s.kubernetes.apiserver.service_time,
            capacity
        ),
    ));
}

/// E023, E024: a LAN link across sites, a link from a host to itself, a second link between
/// the same hosts.
fn links(s: &Scenario, f: &mut Vec<Finding>) {
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
        if l.kind == models::spec::LinkKind::Lan {
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

/// E001-E004, E016: names that point nowhere or twice. Returns whether the network can be built.
fn names(s: &Scenario, f: &mut Vec<Finding>) -> bool {
    let before = f.len();
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
                    list(s.sites.iter().map(|x| x.name.as_str()))
                ),
            ));
        }
    }
    for (i, l) in s.links.iter().enumerate() {
        for (end, name) in [("a", &l.a), ("b", &l.b)] {
            if !seen_hosts.contains(name.as_str()) {
                f.push(Finding::new(
                    "E002",
                    format!("links[{i}].{end}"),
                    format!(
                        "link end `{name}` is not a defined host; expected one of: {}",
                        list(s.hosts.iter().map(|h| h.name.as_str()))
                    ),
                ));
            }
        }
    }
    let structural = f.len() == before;
    let host = |n: &str| s.hosts.iter().find(|h| h.name == n);
    // The WAN underlay joins the sites' routers; the network carries nothing over a "wan" link
    // with another end (the routes forward only through routers), so such a link would be
    // silently ignored.
    for (i, l) in s.links.iter().enumerate() {
        if l.kind != models::spec::LinkKind::Wan {
            continue;
        }
        for (end, name) in [("a", &l.a), ("b", &l.b)] {
            if let Some(h) = host(name).filter(|h| h.role != models::spec::Role::Router) {
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
    links(s, f);
    for (field, what, name) in [
        ("workload.kubectl_host", "kubectl host", &s.workload.kubectl_host),
        ("runtime.registry_host", "registry host", &s.runtime.registry_host),
    ] {
        if let Some(n) = name.as_deref().filter(|n| host(n).is_none()) {
            f.push(Finding::new(
                "E016",
                field,
                format!(
                    "{what} `{n}` is not a defined host; expected one of: {}",
                    list(s.hosts.iter().map(|h| h.name.as_str()))
                ),
            ));
        }
    }
    if let Some(l) = &s.kubernetes.etcd.leader {
        if host(l).is_none_or(|h| h.role != Role::Master) {
            f.push(Finding::new(
                "E016",
                "kubernetes.etcd.leader",
                format!("etcd leader `{l}` is not a master; expected one of: {}", masters(s)),
            ));
        }
    }
    if let VpnTopology::HubAndSpoke { hub } = &s.vpn.topology {
        if !seen_sites.contains(hub.as_str()) {
            f.push(Finding::new(
                "E016",
                "vpn.topology.hub",
                format!(
                    "VPN hub `{hub}` is not a defined site; expected one of: {}",
                    list(s.sites.iter().map(|x| x.name.as_str()))
                ),
            ));
        }
    }
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
                    list(s.sites.iter().map(|x| x.name.as_str()))
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
        } else {
            continue;
        };
        f.push(Finding::new("E016", format!("netem.far[{i}]"), message));
    }
    // The network also needs every site's router to exist and to be a host of that site
    // (E005, E025): without them, reachability would report the symptom, not the cause.
    structural
        && s.sites
            .iter()
            .all(|site| host(&site.router).is_some_and(|h| h.site == site.name))
}

fn masters(s: &Scenario) -> String {
    list(
        s.hosts
            .iter()
            .filter(|h| h.role == Role::Master)
            .map(|h| h.name.as_str()),
    )
}

/// E005-E009, E019, E025, W001, W002: roles.
fn roles(s: &Scenario, f: &mut Vec<Finding>) {
    let host = |n: &str| s.hosts.iter().find(|h| h.name == n);
    for (i, site) in s.sites.iter().enumerate() {
        match host(&site.router) {
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
                    role_name(h.role)
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
    match host(&s.haproxy.host) {
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
                role_name(h.role)
            ),
        )),
        Some(_) => {}
    }
    if s.haproxy.backends.is_empty() {
        f.push(Finding::new(
            "E019",
            "haproxy.backends",
            format!("haproxy has no backend; expected the masters: {}", masters(s)),
        ));
    }
    let mut seen = HashMap::new();
    for (i, b) in s.haproxy.backends.iter().enumerate() {
        match host(b) {
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
                    role_name(h.role),
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

/// A loss percentage: 0 up to, but not including, 100 (see [`LOSS_IS_A_PARTITION`]).
fn pct(f: &mut Vec<Finding>, field: &str, v: f64) {
    if !(0.0..100.0).contains(&v) {
        f.push(Finding::new("E010", field, loss_message(v)));
    }
}

/// Why 100 % loss is refused: nothing gets through, which the model expresses as a partition
/// (a fault with a time and a repair) rather than as TCP retransmitting for ever.
const LOSS_IS_A_PARTITION: &str =
    "100 % loss carries nothing: that is a partition, a [[faults]] entry of kind `partition` or `isolate-site`";

fn loss_message(v: f64) -> String {
    if v == 100.0 {
        format!("{LOSS_IS_A_PARTITION}; expected a loss below 100")
    } else {
        format!(
            "{} is not a loss percentage; expected a number in 0..100 (100 excluded)",
            sim_core::display::number(v)
        )
    }
}

/// E011: a client QPS must be one the token bucket accepts
/// ([`sim_core::limiter::MIN_QPS`]..=[`sim_core::limiter::MAX_QPS`]), or 0 where the flag means
/// "unlimited".
fn qps(f: &mut Vec<Finding>, field: &str, v: f64, zero_ok: bool) {
    use sim_core::limiter::{MAX_QPS, MIN_QPS};
    let ok = (MIN_QPS..=MAX_QPS).contains(&v) || (zero_ok && v == 0.0);
    if !ok {
        let expected = if zero_ok {
            format!("a number in {MIN_QPS}..={MAX_QPS}, or 0 (unlimited)")
        } else {
            format!("a number in {MIN_QPS}..={MAX_QPS}")
        };
        f.push(Finding::new(
            "E011",
            field,
            format!(
                "QPS {} is out of range; expected {expected}",
                sim_core::display::number(v)
            ),
        ));
    }
}

fn count(f: &mut Vec<Finding>, field: &str, v: u32) {
    if v == 0 {
        f.push(Finding::new("E012", field, "0 is out of range; expected at least 1"));
    }
}

/// E010-E013: numbers.
fn numbers(s: &Scenario, f: &mut Vec<Finding>) {
    for (i, site) in s.sites.iter().enumerate() {
        if let Some(lat) = site.latitude {
            if !(-90.0..=90.0).contains(&lat) {
                f.push(Finding::new(
                    "E010",
                    format!("sites[{i}].latitude"),
                    format!("latitude {lat} is out of range; expected degrees in -90..=90"),
                ));
            }
        }
        if let Some(lon) = site.longitude {
            if !(-180.0..=180.0).contains(&lon) {
                f.push(Finding::new(
                    "E010",
                    format!("sites[{i}].longitude"),
                    format!("longitude {lon} is out of range; expected degrees in -180..=180"),
                ));
            }
        }
    }
    for (i, l) in s.links.iter().enumerate() {
        pct(f, &format!("links[{i}].loss_pct"), l.loss_pct);
    }
    pct(f, "netem.loss_pct", s.netem.loss_pct);
    let k = &s.kubernetes;
    qps(
        f,
        "kubernetes.controller_manager.kube_api_qps",
        k.controller_manager.kube_api_qps,
        false,
    );
    qps(f, "kubernetes.scheduler.kube_api_qps", k.scheduler.kube_api_qps, false);
    qps(f, "kubernetes.kubelet.kube_api_qps", k.kubelet.kube_api_qps, false);
    // kubelet --event-qps: "If > 0, limit event creations per second to this value. If 0,
    // unlimited." (v1.16 kubelet flags); its burst matters only when it is limited.
    qps(f, "kubernetes.kubelet.event_qps", k.kubelet.event_qps, true);
    // kubelet --registry-qps: "If > 0, limit registry pull QPS to this value. If 0, unlimited."
    qps(f, "kubernetes.kubelet.registry_qps", k.kubelet.registry_qps, true);
    count(
        f,
        "kubernetes.controller_manager.kube_api_burst",
        k.controller_manager.kube_api_burst,
    );
    count(f, "kubernetes.scheduler.kube_api_burst", k.scheduler.kube_api_burst);
    count(f, "kubernetes.kubelet.kube_api_burst", k.kubelet.kube_api_burst);
    if k.kubelet.event_qps > 0.0 {
        count(f, "kubernetes.kubelet.event_burst", k.kubelet.event_burst);
    }
    if k.kubelet.registry_qps > 0.0 {
        count(f, "kubernetes.kubelet.registry_burst", k.kubelet.registry_burst);
    }
    count(f, "kubernetes.apiserver.workers", k.apiserver.workers);
    count(
        f,
        "kubernetes.controller_manager.slow_start_initial_batch",
        k.controller_manager.slow_start_initial_batch,
    );
    count(
        f,
        "kubernetes.controller_manager.burst_replicas",
        k.controller_manager.burst_replicas,
    );
    count(f, "runtime.slots", s.runtime.slots);
    count(f, "runtime.layer_connections", s.runtime.layer_connections);
    count(f, "haproxy.rise", s.haproxy.rise);
    count(f, "haproxy.fall", s.haproxy.fall);
    count(f, "vpn.tun_mtu", s.vpn.tun_mtu);
    count(f, "kubernetes.node.cpu_millis", k.node.cpu_millis);
    count(f, "kubernetes.node.memory_mib", k.node.memory_mib);
    node_size(&k.node, f);
    if s.vpn.tun_mtu > 0 && s.vpn.tun_mtu < OPENVPN_TUN_MTU_MIN {
        f.push(Finding::new(
            "E028",
            "vpn.tun_mtu",
            format!(
                "OpenVPN refuses a tun MTU of {} bytes; expected at least {OPENVPN_TUN_MTU_MIN} (TUN_MTU_MIN; its default is 1500)",
                s.vpn.tun_mtu
            ),
        ));
    }
    addresses(s, f);
    if s.workload.replicas == 0 {
        f.push(Finding::new(
            "E013",
            "workload.replicas",
            "replicas = 0 starts no pod; expected at least 1",
        ));
    }
    room(s, f);
}

/// OpenVPN's smallest tun MTU: `TUN_MTU_MIN` in its `mtu.h` ("It is a fatal error if mtu is
/// less than this value for tun device"), 100 in 2.3 and since.
const OPENVPN_TUN_MTU_MIN: u32 = 100;

/// v1.16's default `--eviction-hard` keeps `memory.available<100Mi` back from pods.
const EVICTION_HARD_MIB: u32 = 100;

/// E027: the node's capacity holds its DaemonSet pods' requests.
fn node_size(n: &models::spec::Node, f: &mut Vec<Finding>) {
    if n.memory_mib > 0 && n.memory_mib <= EVICTION_HARD_MIB {
        f.push(Finding::new(
            "E027",
            "kubernetes.node.memory_mib",
            format!(
                "{} MiB is all kept back by the default --eviction-hard (memory.available<100Mi); expected more than {EVICTION_HARD_MIB}",
                n.memory_mib
            ),
        ));
    }
    if n.cpu_millis > 0 && n.daemonset_cpu_millis > n.cpu_millis {
        f.push(Finding::new(
            "E027",
            "kubernetes.node.daemonset_cpu_millis",
            format!(
                "the DaemonSet pods request {} millicores of a node's {} (kubernetes.node.cpu_millis); expected at most {}",
                n.daemonset_cpu_millis, n.cpu_millis, n.cpu_millis
            ),
        ));
    }
    let allocatable = n.memory_mib.saturating_sub(EVICTION_HARD_MIB);
    if allocatable > 0 && n.daemonset_memory_mib > allocatable {
        f.push(Finding::new(
            "E027",
            "kubernetes.node.daemonset_memory_mib",
            format!(
                "the DaemonSet pods request {} MiB of a node's {allocatable} MiB allocatable (memory_mib {} less 100 MiB for --eviction-hard); expected at most {allocatable}",
                n.daemonset_memory_mib, n.memory_mib
            ),
        ));
    }
}

/// E029: the informational addresses are well formed.
fn addresses(s: &Scenario, f: &mut Vec<Finding>) {
    for (i, h) in s.hosts.iter().enumerate() {
        if !h.address.is_empty() && h.address.parse::<std::net::Ipv4Addr>().is_err() {
            f.push(Finding::new(
                "E029",
                format!("hosts[{i}].address"),
                format!(
                    "`{}` (host `{}`) is not an IPv4 address; expected four numbers 0-255 such as 192.168.10.101, or nothing",
                    h.address, h.name
                ),
            ));
        }
    }
    for (i, site) in s.sites.iter().enumerate() {
        if site.prefix.is_empty() {
            continue;
        }
        let ok = site.prefix.split_once('/').is_some_and(|(ip, len)| {
            ip.parse::<std::net::Ipv4Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 32)
        });
        if !ok {
            f.push(Finding::new(
                "E029",
                format!("sites[{i}].prefix"),
                format!(
                    "`{}` (site `{}`) is not an IPv4 prefix; expected an address and a length 0-32 such as 192.168.10.0/24, or nothing",
                    site.prefix, site.name
                ),
            ));
        }
    }
}

/// E021: the workers' `--max-pods` can hold the workload.
fn room(s: &Scenario, f: &mut Vec<Finding>) {
    f.extend(workload_fits(s));
}

/// E021 alone, for callers that change only the workload's size (a sweep's pods axis, `plan
/// --pods`) and need not re-run every check: the finding if the workers' `--max-pods` cannot hold
/// `workload.replicas`.
pub fn workload_fits(s: &Scenario) -> Option<Finding> {
    let kubelet = &s.kubernetes.kubelet;
    let workers = s.hosts.iter().filter(|h| h.role == Role::Worker).count() as u64;
    let per_worker = u64::from(kubelet.max_pods.saturating_sub(kubelet.host_network_pods));
    let room = workers * per_worker;
    (workers > 0 && u64::from(s.workload.replicas) > room).then(|| {
        Finding::new(
            "E021",
            "workload.replicas",
            format!(
                "{} pods do not fit: {workers} worker(s) x ({} max_pods - {} DaemonSet pods) hold {room}; expected at most {room} replicas, more workers, or a higher kubernetes.kubelet.max_pods",
                s.workload.replicas, kubelet.max_pods, kubelet.host_network_pods
            ),
        )
    })
}

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
    let named: [(&str, Dur); 25] = [
        ("vpn.ping", s.vpn.ping),
        ("vpn.ping_restart", s.vpn.ping_restart),
        ("haproxy.inter", s.haproxy.inter),
        ("haproxy.proxy_time", s.haproxy.proxy_time),
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
        ("kubernetes.kubelet.pleg_period", k.kubelet.pleg_period),
        ("kubernetes.kubelet.node_status_update", k.kubelet.node_status_update),
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
fn durations(s: &Scenario, f: &mut Vec<Finding>) {
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
    let periods: [(&str, Dur); 8] = [
        ("haproxy.inter", s.haproxy.inter),
        ("vpn.ping", s.vpn.ping),
        ("kubernetes.etcd.heartbeat", k.etcd.heartbeat),
        (
            "kubernetes.controller_manager.retry_period",
            k.controller_manager.retry_period,
        ),
        ("kubernetes.kubelet.pleg_period", k.kubelet.pleg_period),
        ("kubernetes.kubelet.node_status_update", k.kubelet.node_status_update),
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

/// E020: faults that name nothing, end before they begin, change nothing or overlap one another.
fn faults(s: &Scenario, f: &mut Vec<Finding>) {
    use models::spec::{Fault, Role};
    let site = |n: &str| s.sites.iter().any(|x| x.name == n);
    // Where the observing kubectl runs: the first backend unless the workload names a host.
    let kubectl_host = s
        .workload
        .kubectl_host
        .as_deref()
        .or(s.haproxy.backends.first().map(String::as_str));
    for (i, fault) in s.faults.iter().enumerate() {
        let mut bad = |field: &str, msg: String| f.push(Finding::new("E020", format!("faults[{i}].{field}"), msg));
        match fault {
            Fault::Crash { host, .. } => match s.hosts.iter().find(|h| h.name == *host) {
                None => bad(
                    "host",
                    format!("host `{host}` is not defined; expected the load balancer, a master, a router or the registry host"),
                ),
                Some(h) if h.role == Role::Worker => bad(
                    "host",
                    format!(
                        "crashing worker `{host}` is not modelled (its kubelet and pods would die with it, even if it serves the registry); expected the load balancer, a master, a router or a client host that serves the registry (runtime.registry_host)"
                    ),
                ),
                Some(h) if h.role == Role::Client && s.runtime.registry_host.as_deref() != Some(host.as_str()) => bad(
                    "host",
                    format!(
                        "crashing client `{host}` is not modelled; expected the load balancer, a master, a router or the registry host (runtime.registry_host)"
                    ),
                ),
                // The observer (`kubectl get pods -w`) would die with its host, and nothing
                // would see the pods run: the measurement itself would be lost.
                Some(_) if Some(host.as_str()) == kubectl_host => bad(
                    "host",
                    format!(
                        "`{host}` runs the observing kubectl (workload.kubectl_host), which would die with it and see nothing; crash another host, or run kubectl elsewhere (workload.kubectl_host)"
                    ),
                ),
                Some(_) => {}
            },
            Fault::Partition { a, b, .. } => {
                for (field, n) in [("a", a), ("b", b)] {
                    if !site(n) {
                        bad(field, format!("site `{n}` is not defined"));
                    }
                }
                if a == b {
                    bad("b", format!("a partition needs two different sites, got `{a}` twice"));
                }
            }
            Fault::Degrade {
                a,
                b,
                delay,
                jitter,
                loss_pct,
                ..
            } => {
                for (field, n) in [("a", a), ("b", b)] {
                    if !site(n) {
                        bad(field, format!("site `{n}` is not defined"));
                    }
                }
                if a == b {
                    bad(
                        "b",
                        format!("a degraded tunnel needs two different sites, got `{a}` twice"),
                    );
                }
                if !(0.0..100.0).contains(loss_pct) {
                    bad("loss_pct", loss_message(*loss_pct));
                } else if delay.get().is_zero() && jitter.get().is_zero() && *loss_pct == 0.0 {
                    bad(
                        "delay",
                        "a degradation with no delay, jitter or loss changes nothing; expected at least one of them".into(),
                    );
                }
            }
            Fault::IsolateSite { site: n, .. } => {
                if !site(n) {
                    bad("site", format!("site `{n}` is not defined"));
                }
            }
            Fault::CrashEtcdLeader { .. } => {}
        }
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
        // The same host crashed, the same site cut off or the same tunnel cut again while it
        // still is: which failure a repair ends, and which one HAProxy's marks and the failovers
        // belong to, would be unstated.
        let target = |x: &Fault| -> Option<(u8, String)> {
            match x {
                Fault::Crash { host, .. } => Some((0, host.clone())),
                Fault::IsolateSite { site, .. } => Some((1, site.clone())),
                Fault::Partition { a, b, .. } => {
                    Some((2, if a <= b { format!("{a} {b}") } else { format!("{b} {a}") }))
                }
                Fault::CrashEtcdLeader { .. } => Some((3, String::new())),
                Fault::Degrade { .. } => None,
            }
        };
        let window = |x: &Fault| (x.at().get(), x.repair().map_or(sim_core::SimDuration::MAX, |r| r.get()));
        if let Some(mine) = target(fault) {
            let (a0, a1) = window(fault);
            if let Some(j) = s.faults[..i].iter().position(|g| {
                target(g).as_ref() == Some(&mine) && {
                    let (b0, b1) = window(g);
                    a0 < b1 && b0 < a1
                }
            }) {
                bad(
                    "at",
                    format!(
                        "it overlaps faults[{j}], which already takes the same {} down then; expected one fault per failure (end the first before the next begins)",
                        match mine.0 {
                            0 => "host",
                            1 => "site",
                            2 => "tunnel",
                            _ => "etcd leader",
                        }
                    ),
                );
            }
        }
    }
}

/// E018: timings the real software refuses. E026: an observation clock coarser than the run's
/// timeout.
fn timings(s: &Scenario, f: &mut Vec<Finding>) {
    // Start-up is read on a clock that ticks every `resolution` (models::observer): a tick
    // longer than the whole run reads every start-up as 0 s (or one tick, by the clock's
    // phase). A resolution of 0 is E017's.
    let w = &s.workload;
    if w.resolution.get() > w.timeout.get() {
        f.push(Finding::new(
            "E026",
            "workload.resolution",
            format!(
                "resolution {} is longer than workload.timeout {}: the clock start-up is read on would not tick before the run gives up; expected at most {}, such as \"1s\" (kubectl's whole seconds)",
                w.resolution, w.timeout, w.timeout
            ),
        ));
    }
    let e = &s.kubernetes.etcd;
    // etcd embed.Config.Validate: "--election-timeout should be at least as 5 times as
    // --heartbeat-interval".
    if e.election_timeout.secs_f64() < 5.0 * e.heartbeat.secs_f64() {
        f.push(Finding::new(
            "E018",
            "kubernetes.etcd.election_timeout",
            format!(
                "election_timeout {} is less than 5 x heartbeat {}; etcd refuses to start; expected at least {}",
                e.election_timeout,
                e.heartbeat,
                Dur(e.heartbeat.get() * 5)
            ),
        ));
    }
    let cm = &s.kubernetes.controller_manager;
    // client-go leaderelection.NewLeaderElector.
    if cm.lease_duration.get() <= cm.renew_deadline.get() {
        f.push(Finding::new(
            "E018",
            "kubernetes.controller_manager.renew_deadline",
            format!(
                "renew_deadline {} is not below lease_duration {}; client-go refuses it; expected leaseDuration > renewDeadline",
                cm.renew_deadline, cm.lease_duration
            ),
        ));
    }
    if cm.renew_deadline.secs_f64() <= 1.2 * cm.retry_period.secs_f64() {
        f.push(Finding::new(
            "E018",
            "kubernetes.controller_manager.retry_period",
            format!(
                "renew_deadline {} is not above 1.2 x retry_period {}; client-go refuses it; expected renewDeadline > retryPeriod x 1.2",
                cm.renew_deadline, cm.retry_period
            ),
        ));
    }
    // OpenVPN options.c: the restart timeout of --keepalive must be at least twice the ping.
    if s.vpn.enabled && s.vpn.ping_restart.secs_f64() < 2.0 * s.vpn.ping.secs_f64() {
        f.push(Finding::new(
            "E018",
            "vpn.ping_restart",
            format!(
                "ping_restart {} is less than 2 x ping {}; OpenVPN refuses it; expected at least {}",
                s.vpn.ping_restart,
                s.vpn.ping,
                Dur(s.vpn.ping.get() * 2)
            ),
        ));
    }
}

/// The hosts of a cut-off site that reach no target of another site, and those targets.
type HostsEachWay<'a> = (Vec<&'a str>, Vec<&'a str>);

/// E014: the load balancer, the masters, the kubectl host and the registry host are the route
/// sources; every worker and master must reach the balancer and every master, every worker the
/// registry host (if the runtime names one), the kubectl host the balancer.
/// Reported per site, as a planner reads it (which sites cannot reach which), with the hosts
/// each way: one finding at the `[[sites]]` entry of every site some host of which is cut off.
/// W004: etcd's members are so far apart that a new leader cannot hear from a quorum within its
/// first election timeout
/// ([`models::etcd::timer_health`] at the largest mean round trip between two masters).
fn etcd_timers(s: &Scenario, net: &Network, masters: &[&str], f: &mut Vec<Finding>) {
    let ids: Vec<(&str, _)> = masters.iter().filter_map(|m| Some((*m, net.host(m)?))).collect();
    let mut farthest: Option<(SimDuration, &str, &str)> = None;
    for (i, &(m, a)) in ids.iter().enumerate() {
        for &(n, b) in &ids[i + 1..] {
            let (Some(there), Some(back)) = (net.base_one_way(a, b), net.base_one_way(b, a)) else {
                continue; // E014 names it
            };
            if farthest.is_none_or(|(r, ..)| there + back > r) {
                farthest = Some((there + back, m, n));
            }
        }
    }
    let Some((rtt, m, n)) = farthest else {
        return;
    };
    let etcd = &s.kubernetes.etcd;
    let (heartbeat, election) = (etcd.heartbeat.get(), etcd.election_timeout.get());
    if models::etcd::timer_health(heartbeat, election, rtt) == models::etcd::TimerHealth::Unstable {
        f.push(Finding::new(
            "W004",
            "kubernetes.etcd.election_timeout",
            format!(
                "masters `{m}` and `{n}` are {:.0} ms apart (round trip), and that plus half a heartbeat interval ({}) is \
                 {:.0} ms, at or beyond the election timeout of {}: a new leader checks its quorum an election timeout after it won, \
                 before its followers' first answers can come back, and steps down, so a lost leader is replaced late or never; \
                 `run` simulates these elections under faults or jitter or loss between the masters, and `plan` section (c) \
                 gives their rates",
                rtt.as_millis_f64(),
                etcd.heartbeat,
                (rtt + SimDuration::from_nanos(heartbeat.as_nanos() / 2)).as_millis_f64(),
                etcd.election_timeout,
            ),
        ));
    }
}

fn reachability(s: &Scenario, f: &mut Vec<Finding>) {
    let lb = s.haproxy.host.as_str();
    let masters: Vec<&str> = s
        .hosts
        .iter()
        .filter(|h| h.role == Role::Master)
        .map(|h| h.name.as_str())
        .collect();
    let mut sources = vec![lb];
    sources.extend(&masters);
    let kubectl = s.workload.kubectl_host.as_deref();
    sources.extend(kubectl);
    let registry = s
        .runtime
        .registry_host
        .as_deref()
        .filter(|r| s.hosts.iter().any(|h| h.name == *r));
    sources.extend(registry);
    let Ok(net) = Network::build(s, &sources) else {
        return;
    };
    etcd_timers(s, &net, &masters, f);
    // Maps, not scans: every host asks for its own site and its targets' (quadratic otherwise).
    let mut site_index: HashMap<&str, usize> = HashMap::new();
    for (i, x) in s.sites.iter().enumerate() {
        site_index.entry(x.name.as_str()).or_insert(i);
    }
    // The first host of a name decides, as a scan in file order would.
    let mut host_site: HashMap<&str, Option<usize>> = HashMap::new();
    for h in &s.hosts {
        host_site
            .entry(h.name.as_str())
            .or_insert_with(|| site_index.get(h.site.as_str()).copied());
    }
    let site_of = |host: &str| host_site.get(host).copied().flatten();
    // By the cut-off host's site, then the target's site: the hosts each side, in file order.
    let mut cut: BTreeMap<usize, BTreeMap<usize, HostsEachWay<'_>>> = BTreeMap::new();
    for h in &s.hosts {
        let targets: Vec<&str> = match h.role {
            Role::Worker => std::iter::once(lb)
                .chain(masters.iter().copied())
                .chain(registry)
                .filter(|t| *t != h.name)
                .collect(),
            Role::Master => std::iter::once(lb)
                .chain(masters.iter().copied())
                .filter(|t| *t != h.name)
                .collect(),
            _ if Some(h.name.as_str()) == kubectl && h.name != lb => vec![lb],
            _ => continue,
        };
        let (Some(id), Some(from_site)) = (net.host(&h.name), site_of(&h.name)) else {
            continue;
        };
        for t in targets {
            let (Some(tid), Some(to_site)) = (net.host(t), site_of(t)) else {
                continue;
            };
            if net.route(tid, id).is_none() && net.route(id, tid).is_none() {
                let (from, to) = cut.entry(from_site).or_default().entry(to_site).or_default();
                if !from.contains(&h.name.as_str()) {
                    from.push(&h.name);
                }
                if !to.contains(&t) {
                    to.push(t);
                }
            }
        }
    }
    for (from_site, by_target) in cut {
        let name = &s.sites[from_site].name;
        let parts: Vec<String> = by_target
            .iter()
            .map(|(&to_site, (from, to))| {
                if to_site == from_site {
                    format!(
                        "inside site {name}, no route from {} to {}: link each to the site's router",
                        from.join(", "),
                        to.join(", ")
                    )
                } else {
                    format!(
                        "site {name} cannot reach site {}: no route from {} to {}",
                        s.sites[to_site].name,
                        from.join(", "),
                        to.join(", ")
                    )
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

/// Runs the checks and places the findings in `text` (the source of `s`): (errors, warnings),
/// each in file order.
pub(crate) fn located(s: &Scenario, text: &str, origin: &str) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    located_or(s, text, origin, |loc, field| Some(loc.locate(field)))
}

/// As [`located`], for findings that `place` may not find in `text`: those get line 0 (shown
/// without a line) and an origin that says the file was laid over a scenario.
pub(crate) fn located_in_overlay(s: &Scenario, text: &str, origin: &str) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    located_or(s, text, origin, |loc, field| loc.find(field))
}

fn located_or(
    s: &Scenario,
    text: &str,
    origin: &str,
    place: impl Fn(&crate::locate::Locator<'_>, &str) -> Option<(usize, usize)>,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let findings = run(s);
    if findings.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let loc = crate::locate::Locator::new(text);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for fd in findings {
        let d = match place(&loc, &fd.field) {
            Some((line, column)) => fd.at(origin, line, column),
            None => fd.at(&format!("the scenario with {origin} laid over it"), 0, 0),
        };
        match d.severity {
            Severity::Error => errors.push(d),
            Severity::Warning => warnings.push(d),
        }
    }
    errors.sort_by_key(|d| (d.line, d.column));
    warnings.sort_by_key(|d| (d.line, d.column));
    (errors, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_ordered() {
        let codes: Vec<&str> = CHECKS.iter().map(|c| c.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
        assert!(CHECKS
            .iter()
            .all(|c| c.code.starts_with('E') == (c.severity == Severity::Error)));
        assert_eq!(checks_table().len(), CHECKS.len());
    }

    #[test]
    fn lists_are_capped() {
        let names: Vec<String> = (0..20).map(|i| format!("h{i}")).collect();
        let s = list(names.iter().map(String::as_str));
        assert!(s.ends_with("(20 in all)"), "{s}");
        assert_eq!(list([]), "(none defined)");
    }
}
