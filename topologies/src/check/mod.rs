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
//!
//! The checks come in families, one submodule each, and [`run`] calls them in this order:
//! names that point nowhere or twice (`names`, which also runs the link checks of `links`), the
//! roles hosts play (`roles`), numbers out of range (`numbers`), durations too long or periods
//! too short (`durations`), timings the software refuses (`timings`), faults (`faults`), the
//! kubelets' periodic load (`timings` again) and, last, routes (`reachability`).

mod durations;
mod faults;
mod links;
mod names;
mod netem_path;
mod numbers;
mod reachability;
mod roles;
mod timings;

use std::collections::HashSet;

pub(crate) use names::NAME_MAX;

use models::spec::{Host, Role, Scenario};

use crate::error::{Diagnostic, Severity};

pub use durations::MAX_DURATION_SECS;
pub use netem_path::{netem_on_no_route, no_route_message};
pub use numbers::workload_fits;
pub use timings::late_scale;

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
        "a QPS must be a number in 1e-6..=1e9 (what the token bucket models); kubelet `event_qps` may be 0 (client-go's default, 5, whatever the flag's help says) and `registry_qps` may be 0 (unlimited)",
    ),
    err(
        "E012",
        "zero-count",
        "bursts, worker and slot counts, batch sizes, rise/fall and the layer connections must be at least 1",
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
        "workload.kubectl_host and runtime.registry_host must name hosts, kubernetes.etcd.leader a master, a hub-and-spoke VPN's hub and netem's near and far sides sites (each far site once, not the near one, and joined to it by a tunnel)",
    ),
    err(
        "E017",
        "zero-period",
        "periodic intervals (health checks, heartbeats, keepalives, relists, status updates, retries, the observation resolution) must be at least 1 ms: a shorter one floods the run with events and no software in the model runs a loop that fast",
    ),
    err(
        "E018",
        "inconsistent-timing",
        "the real software refuses these timings: etcd wants election_timeout >= 5 x heartbeat; client-go's leader election wants lease_duration > renew_deadline > 1.2 x retry_period",
    ),
    err(
        "E019",
        "no-backend",
        "haproxy.backends must list at least one master, as the HAProxy kubernetes-backend does",
    ),
    err(
        "E020",
        "bad-fault",
        "a fault must name an existing host (crash: the load balancer, a master, a router or the registry host of `runtime.registry_host`, not the host the observing kubectl runs on) or sites (partition and degrade: two sites a tunnel joins; isolate-site: one site), and be repaired after it happens; a degrade adds a delay, a jitter or a loss; two crashes of one host, two cut-offs of one site, two partitions of one tunnel or two crash-etcd-leader faults do not overlap (degradations may: they add up)",
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
    err(
        "E030",
        "bad-name",
        "a host's `name` is a DNS subdomain, as Kubernetes requires of a node's (lowercase letters, digits, `-` and `.`, at most 253 characters: `node01`); a site's `name` has no space, control character, pipe, comma or semicolon (tables and --placements separate with them); the scenario's `name` and `description` have no control character (reports show them on one line); neither has a Unicode format character (bidi controls such as U+202E, zero-width characters: the text would show as other text)",
    ),
    err(
        "E031",
        "max-pods-too-small",
        "kubernetes.kubelet.max_pods must exceed host_network_pods: the DaemonSet pods count against --max-pods, and a worker they fill holds no workload pod",
    ),
    err(
        "E032",
        "too-many-backends",
        "haproxy.backends lists at most 256 entries: the model numbers a client's apiserver in a byte (etcd's own guidance is 3, 5 or 7 members)",
    ),
    err(
        "E033",
        "tunnel-packet-too-large",
        "with the VPN on, vpn.tun_mtu + vpn.overhead_bytes must be at most 65,535 bytes: a full tun packet with OpenVPN's overhead added travels as one UDP packet in one IPv4 datagram (OpenVPN 2.3's default BF-CBC + HMAC-SHA1 overhead is 68 bytes)",
    ),
    err(
        "E034",
        "scale-after-timeout",
        "with more than one replica, workload.scale_gap, the time from kubectl's create of the Deployment (one replica) to its scale (thesis-2019 assumes \"300ms\", a new kubectl process), must be shorter than workload.timeout: a later scale comes only as the run gives up, and no replication could finish",
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
        "lengthen kubernetes.kubelet.node_status_update or node_lease_duration, turn off host_network_status_resync (the v1.16.3 bug, fixed in v1.18), or give the apiservers more workers (kubernetes.apiserver.workers) or the cluster more masters",
    ),
    warn(
        "W004",
        "etcd-unstable",
        "etcd's election timeout must exceed the largest round trip between members plus half a heartbeat interval: otherwise a new leader checks its quorum before its followers' first answers can come back and steps down, so a lost leader is replaced late or never; `run` simulates etcd's elections when the scenario has faults or jitter or loss between the masters (a crash drill then shows the failover that never comes), while with steady round trips and no fault the first leader keeps leading, as etcd's would (`plan` section (c) gives the rates): raise kubernetes.etcd.election_timeout (etcd's tuning guide: 10 x the RTT) or place the masters nearer each other",
    ),
    warn(
        "W005",
        "vpn-restarts-when-idle",
        "vpn.ping_restart must be longer than vpn.ping: an idle tunnel carries only its peer's pings, one per ping interval, so a shorter restart timeout restarts it whenever it is idle, and the model does not simulate those restarts; OpenVPN's own --keepalive asks for ping_restart >= 2 x ping (VyOS writes ping 10 s, ping-restart 60 s)",
    ),
    warn(
        "W006",
        "unused-load-balancer",
        "a host with role = \"load-balancer\" that haproxy.host does not name carries no traffic: the model runs one HAProxy (no keepalived standby taking its address over), so its crash changes nothing either; give it another role or remove it",
    ),
    warn(
        "W007",
        "netem-on-no-route",
        "netem's delay, jitter and loss sit on the OpenVPN tunnels between netem.near (by default the first master's site) and netem.far (by default every other site), as the thesis put tc on its VPN routers; a scenario of one site or without the VPN has no such tunnel, and one whose traffic crosses none (the workers' to the load balancer, the masters and the registry, the masters' to one another, the observing kubectl's) is not delayed at all: put workers at another site, or name the sites in netem.near and netem.far",
    ),
    warn(
        "W008",
        "address-clash",
        "each host has its own `address`, within its site's `prefix` when the site gives one: both are informational (the model routes by the scenario's links, not by address), but two hosts with one address, or an address outside its site's prefix, is a typo worth knowing about",
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

/// The masters' names, as a list for messages ("expected a master: ...").
fn masters(s: &Scenario) -> String {
    list(
        s.hosts
            .iter()
            .filter(|h| h.role == Role::Master)
            .map(|h| h.name.as_str()),
    )
}

/// Whether an OpenVPN tunnel joins sites `a` and `b` (two different defined sites): every pair
/// in a full mesh, the hub and each other site in a hub-and-spoke, none with the VPN off
/// (`models::vpn::tunnel_pairs`). Partitions, degradations and netem act on tunnels only.
fn tunnel_between(s: &Scenario, a: &str, b: &str) -> bool {
    use models::spec::VpnTopology;
    s.vpn.enabled
        && a != b
        && match &s.vpn.topology {
            VpnTopology::FullMesh {} => true,
            // A hub that is no site is E016's already: no tunnel finding on top of it.
            VpnTopology::HubAndSpoke { hub } => a == hub || b == hub || !s.sites.iter().any(|x| &x.name == hub),
        }
}

/// Which site pairs the scenario's tunnels join, for a message about a pair they do not.
fn tunnel_layout(s: &Scenario) -> String {
    use models::spec::VpnTopology;
    match (&s.vpn.topology, s.vpn.enabled) {
        (_, false) => "the VPN is off (vpn.enabled = false), so there are no tunnels".into(),
        (VpnTopology::HubAndSpoke { hub }, true) => {
            format!(
                "the VPN is hub-and-spoke: tunnels join the hub `{hub}` to each other site, and none joins two spokes"
            )
        }
        (VpnTopology::FullMesh {}, true) => "the VPN is a full mesh".into(),
    }
}

/// The first host named `name`, as a scan in file order finds it.
fn host<'a>(s: &'a Scenario, name: &str) -> Option<&'a Host> {
    s.hosts.iter().find(|h| h.name == name)
}

/// Runs every check on `s`. Findings come grouped by check, each group in file order.
pub fn run(s: &Scenario) -> Vec<Finding> {
    let mut f = Vec::new();
    let structural_ok = all_but_reachability(s, &mut f);
    if structural_ok {
        reachability::reachability(s, &mut f);
    }
    f
}

/// Every check but reachability, for a scenario that passed [`run`] and then had faults added
/// (`plan --drills`' variants): no fault changes which host a route reaches, and reachability,
/// which builds the scenario's network, is the one check whose cost grows with the sites'
/// tunnels (E014, [`run`]).
pub fn run_with_added_faults(s: &Scenario) -> Vec<Finding> {
    let mut f = Vec::new();
    all_but_reachability(s, &mut f);
    f
}

/// The checks [`run`] runs before reachability; returns whether the names and roles are sound
/// enough for it.
fn all_but_reachability(s: &Scenario, f: &mut Vec<Finding>) -> bool {
    let structural_ok = names::names(s, f);
    roles::roles(s, f);
    numbers::numbers(s, f);
    durations::durations(s, f);
    timings::timings(s, f);
    faults::faults(s, f);
    timings::periodic_load(s, f);
    structural_ok
}

/// Which workload size a scenario's checks of its size judge when it is loaded: E013 (at least
/// one replica), E021 (the workers hold `workload.replicas`) and E034 (the scale to them comes
/// before the timeout). E031 (`--max-pods` leaves no room at all) holds whatever the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Size<'a> {
    /// The file's `workload.replicas`, which the command will run.
    #[default]
    OfTheFile,
    /// The sizes the command runs instead (`run --pods`, a sweep's `--pods`, `plan --pods`, the
    /// pods of `validate`'s and `calibrate`'s measured cells), which it judges itself
    /// ([`workload_fits`], or every check on the sized scenario): the file's size is judged at
    /// load only if it is one of them (a finding then placed where the file writes it), and
    /// not refused if the command will not run it. Every size a command takes is at least 1,
    /// so E013 judges nothing else.
    Given(&'a [u32]),
}

/// The codes of the checks [`Size::Given`] leaves to the command.
const SIZE_CODES: &[&str] = &["E013", "E021", "E034"];

impl Size<'_> {
    /// Whether a finding of `code` in a scenario whose file gives `replicas` is judged: every
    /// finding at [`Size::OfTheFile`]; at [`Size::Given`], those of the file's size only when
    /// the command runs that size. Public for a command that checks the unsized scenario again
    /// (with faults added) after loading it.
    pub fn judges(self, code: &str, replicas: u32) -> bool {
        match self {
            Size::OfTheFile => true,
            Size::Given(sizes) => !SIZE_CODES.contains(&code) || sizes.contains(&replicas),
        }
    }
}

/// Runs the checks and places the findings in `text` (the source of `s`): (errors, warnings),
/// each in file order; the size checks only at [`Size::OfTheFile`].
pub(crate) fn located(s: &Scenario, text: &str, origin: &str, size: Size) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    located_or(s, text, origin, false, size, |loc, field| Some(loc.locate(field)))
}

/// As [`located`], for findings that `text` (an overlay) may not write: those get line 0 (shown
/// without a line) and an origin that says the file was laid over a scenario, naming the fields
/// it sets with their lines when `name_sets` (a user's file, not a program's text).
pub(crate) fn located_in_overlay(
    s: &Scenario,
    text: &str,
    origin: &str,
    name_sets: bool,
    size: Size,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    located_or(s, text, origin, name_sets, size, |loc, field| loc.find(field))
}

fn located_or(
    s: &Scenario,
    text: &str,
    origin: &str,
    name_sets: bool,
    size: Size,
    place: impl Fn(&crate::locate::Locator<'_>, &str) -> Option<(usize, usize)>,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let findings: Vec<Finding> = run(s)
        .into_iter()
        .filter(|f| size.judges(f.code, s.workload.replicas))
        .collect();
    if findings.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let loc = crate::locate::Locator::new(text);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for fd in findings {
        let d = match place(&loc, &fd.field) {
            Some((line, column)) => fd.at(origin, line, column),
            None if name_sets => fd.at(&laid_over(origin, &loc), 0, 0),
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

/// Where a finding of a scenario with `origin` laid over it is, when `origin` does not write
/// its field: in the scenario as changed by what `origin` sets, which it names with their lines
/// (the first four), since one of them is likely the cause.
fn laid_over(origin: &str, overlay: &crate::locate::Locator<'_>) -> String {
    const SHOWN: usize = 4;
    let fields = overlay.written_fields();
    let mut sets: Vec<String> = fields
        .iter()
        .take(SHOWN)
        .map(|(field, line)| format!("{field} at line {line}"))
        .collect();
    if fields.len() > SHOWN {
        sets.push(format!("{} more", fields.len() - SHOWN));
    }
    if sets.is_empty() {
        return format!("the scenario with {origin} laid over it");
    }
    format!(
        "the scenario with {origin} laid over it ({origin} sets {})",
        sets.join(", ")
    )
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
