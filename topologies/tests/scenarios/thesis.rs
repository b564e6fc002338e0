//! The built-in thesis-2019 scenario: loads, passes the checks, matches testbed.md.

use models::network::Network;
use models::spec::{LinkKind, Role, VpnTopology};
use topologies::load;

use super::{edit, thesis_text};

#[test]
fn thesis_loads_without_findings() {
    let loaded = load::by_name_or_path_with_warnings("thesis-2019").unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.origin, "thesis-2019 (built-in)");
    // The file on disk is the same scenario.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/thesis-2019.toml");
    assert_eq!(load::load_file(path).unwrap(), loaded.scenario);
    let (by_path, origin) = load::by_name_or_path(path).unwrap();
    assert_eq!(by_path, loaded.scenario);
    assert_eq!(origin, path);
}

#[test]
fn thesis_matches_the_tables_of_testbed_md() {
    let s = load::load_str(super::thesis_text(), "thesis-2019.toml").unwrap();
    let sites: Vec<(&str, &str, &str)> = s
        .sites
        .iter()
        .map(|x| (x.name.as_str(), x.router.as_str(), x.prefix.as_str()))
        .collect();
    assert_eq!(
        sites,
        [
            ("vlan10", "vyos01", "192.168.10.0/24"),
            ("vlan20", "vyos02", "192.168.20.0/24"),
            ("vlan30", "vyos03", "192.168.30.0/24"),
        ]
    );
    let hosts: Vec<(&str, &str, Role, &str)> = s
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.site.as_str(), h.role, h.address.as_str()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("lb", "vlan10", Role::LoadBalancer, "192.168.10.253"),
            ("master01", "vlan10", Role::Master, "192.168.10.101"),
            ("master02", "vlan10", Role::Master, "192.168.10.102"),
            ("master03", "vlan10", Role::Master, "192.168.10.103"),
            ("node01", "vlan20", Role::Worker, "192.168.20.101"),
            ("node02", "vlan20", Role::Worker, "192.168.20.102"),
            ("node03", "vlan30", Role::Worker, "192.168.30.101"),
            ("node04", "vlan30", Role::Worker, "192.168.30.102"),
            ("vyos01", "vlan10", Role::Router, "192.168.10.1"),
            ("vyos02", "vlan20", Role::Router, "192.168.20.1"),
            ("vyos03", "vlan30", Role::Router, "192.168.30.1"),
        ]
    );
    // Every machine attaches to its site's router; the routers meet on the WAN underlay.
    for h in s.hosts.iter().filter(|h| h.role != Role::Router) {
        let router = &s.sites.iter().find(|x| x.name == h.site).unwrap().router;
        assert!(
            s.links
                .iter()
                .any(|l| l.kind == LinkKind::Lan && l.a == h.name && l.b == *router),
            "{} has no LAN link to {router}",
            h.name
        );
    }
    assert_eq!(s.links.iter().filter(|l| l.kind == LinkKind::Wan).count(), 3);
    assert!(s.vpn.enabled);
    assert_eq!(s.vpn.topology, VpnTopology::FullMesh {});
    assert_eq!(s.haproxy.host, "lb");
    assert_eq!(s.haproxy.backends, ["master01", "master02", "master03"]);
    assert_eq!(
        (s.haproxy.inter.to_string(), s.haproxy.rise, s.haproxy.fall),
        ("2s".into(), 2, 3)
    );
    assert_eq!(s.workload.image, "nginx");
    assert_eq!(s.workload.replicas, 4);
    assert_eq!(s.workload.kubectl_host.as_deref(), Some("master01"));
    assert!(s.netem.delay.get().is_zero());
    assert_eq!(s.netem.placement, models::spec::NetemPlacement::Both);
    // [kubernetes] and [runtime] are written out at spec.rs's defaults.
    assert_eq!(s.kubernetes, models::spec::Kubernetes::default());
    assert_eq!(s.runtime, models::spec::Runtime::default());
    assert_eq!(s.vpn, models::spec::Vpn::default());
}

/// The thesis's ping master01 -> node01: rtt avg 1.243 ms, TTL 62 (two routed hops).
#[test]
fn master01_to_node01_rtt_is_the_measured_ping() {
    let (s, _) = load::by_name_or_path("thesis-2019").unwrap();
    let net = Network::build(&s, &["master01"]).unwrap();
    let (m, n) = (net.host("master01").unwrap(), net.host("node01").unwrap());
    let rtt = net.base_one_way(m, n).unwrap() + net.base_one_way(n, m).unwrap();
    let ms = rtt.as_secs_f64() * 1e3;
    assert!((ms - 1.243).abs() < 0.01, "RTT {ms} ms");
    let (route, _) = net.route(m, n).unwrap();
    let hops: Vec<&str> = route.hops.iter().map(|&h| net.name(h)).collect();
    assert_eq!(hops, ["master01", "vyos01", "vyos02", "node01"]);
    assert_eq!(route.tunnels, 1);
}

/// The thesis's HAProxy listing as printed names master02 twice: a warning, not an error.
#[test]
fn printed_listing_with_master02_twice_warns() {
    let text = super::edit(
        r#"backends = ["master01", "master02", "master03"]"#,
        r#"backends = ["master01", "master02", "master02"]"#,
    );
    let loaded = load::load_str_with_warnings(&text, "printed.toml").unwrap();
    // In file order: W002 names the `backends` key, W001 the third element on the same line.
    let codes: Vec<&str> = loaded.warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, ["W002", "W001"]);
    let w = loaded.warnings[1].to_string();
    let line = super::line_of(&text, "backends = [");
    assert!(
        w.starts_with(&format!("printed.toml: line {line}, column 37: warning[W001]")),
        "{w}"
    );
    assert!(w.contains("`haproxy.backends[2]`") && w.contains("master02"), "{w}");
    assert!(loaded.warnings[0].message.contains("master03"));
}

#[test]
fn checks_table_is_stable_and_documented() {
    let table = topologies::check::checks_table();
    let readme = include_str!("../../README.md");
    for (code, name, help) in &table {
        assert!(!help.is_empty());
        assert!(
            readme.contains(&format!("| {code} | {name} |")),
            "README lacks the row of {code} {name}"
        );
    }
    let codes: Vec<&str> = table.iter().map(|r| r.0).collect();
    for c in ["E001", "E002", "E007", "E014", "E015", "W001"] {
        assert!(codes.contains(&c));
    }
    // And the README's rows are the table's, word for word, none more.
    let rows: Vec<String> = table.iter().map(|(c, n, h)| format!("| {c} | {n} | {h} |")).collect();
    let documented: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("| E0") || l.starts_with("| W0"))
        .collect();
    assert_eq!(
        documented, rows,
        "topologies/README.md's check table differs from CHECKS"
    );
}

/// Masters far apart (master03 moved to vlan30, 500 ms of netem both ways on its tunnel, a 1-s
/// round trip) with the default election timeout of 1 s: a new leader checks its quorum before
/// the first answers can come back, so a lost leader is never replaced; the scenario loads with
/// a warning that says so. With a 2-s timeout, or with the masters together, no warning.
#[test]
fn masters_too_far_apart_for_etcds_timers_are_warned_of() {
    let far = edit(
        "name = \"master03\"\nsite = \"vlan10\"",
        "name = \"master03\"\nsite = \"vlan30\"",
    )
    .replacen(
        "a = \"master03\"\nb = \"vyos01\"",
        "a = \"master03\"\nb = \"vyos03\"",
        1,
    )
    .replacen(
        "delay = \"0ms\"                  # section 5.3",
        "delay = \"500ms\"  # section 5.3",
        1,
    );
    let unstable = far.clone();
    let far = far.replacen("election_timeout = \"1000ms\"", "election_timeout = \"2000ms\"", 1);
    assert_ne!(far, unstable, "the thesis file's election timeout changed shape");
    let warnings = |text: &str| {
        topologies::load::load_str_with_warnings(text, "far.toml")
            .expect("loads")
            .warnings
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
    };
    let w = warnings(&unstable);
    assert!(
        w.iter().any(|w| w.contains("warning[W004]")
            && w.contains("masters `master01` and `master03` are 100")
            && w.contains("election timeout of 1s")),
        "{w:?}"
    );
    for quiet in [far.as_str(), thesis_text()] {
        assert!(
            !warnings(quiet).iter().any(|w| w.contains("W004")),
            "{:?}",
            warnings(quiet)
        );
    }
}

/// Loading is deterministic: the same text gives the same scenario and the same messages.
#[test]
fn loading_is_deterministic() {
    let a = load::load_str(super::thesis_text(), "a.toml").unwrap();
    let b = load::load_str(super::thesis_text(), "a.toml").unwrap();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    let broken = super::edit("enabled = true", "enabled = false").replacen("replicas = 4 ", "replicas = 0 ", 1);
    let e1 = load::load_str(&broken, "b.toml").unwrap_err().to_string();
    let e2 = load::load_str(&broken, "b.toml").unwrap_err().to_string();
    assert_eq!(e1, e2);
    assert_eq!(topologies::check::lookup("E014").map(|c| c.name), Some("unreachable"));
    assert!(topologies::check::lookup("E999").is_none());
}

/// W003: heartbeats every millisecond from four kubelets need 4,000 requests/s, more than three
/// apiservers of 2 workers x 5 ms serve (1,200/s): a warning at the period, with both rates.
/// The thesis as given (0.4 + 3.2 requests/s) has none.
#[test]
fn periodic_requests_beyond_the_apiservers_warn() {
    let text = super::edit(r#"node_status_update = "10s""#, r#"node_status_update = "1ms""#);
    let loaded = load::load_str_with_warnings(&text, "busy.toml").unwrap();
    let w: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(loaded.warnings.len(), 1, "{w:?}");
    assert_eq!(loaded.warnings[0].code, "W003");
    let line = super::line_of(&text, "node_status_update = ");
    assert!(
        w[0].starts_with(&format!("busy.toml: line {line}, column 1: warning[W003]")),
        "{}",
        w[0]
    );
    assert!(w[0].contains("4002/s") && w[0].contains("1200/s"), "{}", w[0]);
}
