//! Scenario generators: great-circle delays, CSV errors, consortium and uniform scenarios that
//! load back and pass the checks.

use models::spec::{LinkKind, Role, Scenario, VpnTopology};
use models::units::Dur;
use models::vpn::tunnel_pairs;
use sim_core::SimDuration;
use topologies::generate::{
    self, fibre_one_way, haversine_km, sanitize_name, ConsortiumOptions, ControlPlane, GenerateError, GeoPoint,
    UniformOptions, WanLayout, PATH_INFLATION,
};
use topologies::{check, load, Severity};

const CONSORTIUM_32: &str = include_str!("../../../examples/consortium-32/sites.csv");

const TOKYO: GeoPoint = GeoPoint {
    latitude: 35.6762,
    longitude: 139.6503,
};
const LONDON: GeoPoint = GeoPoint {
    latitude: 51.5074,
    longitude: -0.1278,
};

fn gp(latitude: f64, longitude: f64) -> GeoPoint {
    GeoPoint { latitude, longitude }
}

/// No check errors, no warnings, and `to_toml` loads back to an equal scenario.
fn assert_round_trip(s: &Scenario) {
    let errors: Vec<_> = check::run(s)
        .into_iter()
        .filter(|f| f.severity() == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let text = generate::to_toml(s);
    let loaded = load::load_str_with_warnings(&text, "generated.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(&loaded.scenario, s);
}

fn csv_error(text: &str) -> (usize, usize, String, String) {
    match generate::consortium(text, "sites.csv", &ConsortiumOptions::default()) {
        Err(GenerateError::Csv {
            origin,
            line,
            column,
            field,
            message,
        }) => {
            assert_eq!(origin, "sites.csv");
            (line, column, field, message)
        }
        other => panic!("expected a CSV error, got {other:?}"),
    }
}

fn link_between<'a>(s: &'a Scenario, a: &str, b: &str) -> &'a models::spec::Link {
    s.links
        .iter()
        .find(|l| (l.a == a && l.b == b) || (l.a == b && l.b == a))
        .unwrap_or_else(|| panic!("no link {a} - {b}"))
}

#[test]
fn haversine_matches_known_distances() {
    let within = |got: f64, want: f64| (got - want).abs() / want < 0.01;
    let d = haversine_km(TOKYO, LONDON);
    assert!(within(d, 9560.0), "Tokyo-London {d} km");
    // New York - Los Angeles, about 3,940 km.
    let d = haversine_km(gp(40.7128, -74.0060), gp(34.0522, -118.2437));
    assert!(within(d, 3940.0), "NYC-LA {d} km");
    // Paris - London, about 344 km.
    let d = haversine_km(gp(48.8566, 2.3522), LONDON);
    assert!(within(d, 344.0), "Paris-London {d} km");
    // A quarter of the equator, and the same point.
    let d = haversine_km(gp(0.0, 0.0), gp(0.0, 90.0));
    assert!((d - std::f64::consts::FRAC_PI_2 * 6371.0).abs() < 1e-6, "{d}");
    assert_eq!(haversine_km(TOKYO, TOKYO), 0.0);
    // Antipodes do not produce NaN.
    let d = haversine_km(gp(0.0, 0.0), gp(0.0, 180.0));
    assert!((d - std::f64::consts::PI * 6371.0).abs() < 1e-6, "{d}");
}

#[test]
fn delay_of_one_pair_by_hand() {
    // (0, 0) to (0, 90): a quarter of the equator, pi/2 x 6371 km = 10,007.543 km.
    // Fibre: 10,007,543 m / 2e8 m/s = 50.0377 ms; x 2.1 = 105.0792 ms -> 105079 us one way.
    assert_eq!(PATH_INFLATION, 2.1);
    let one_way = fibre_one_way(10_007.543, 2.1, Dur::default());
    assert_eq!(one_way.get(), SimDuration::from_micros(105_079));
    assert_eq!(
        fibre_one_way(10_007.543, 2.1, Dur::millis(1)).get(),
        SimDuration::from_micros(106_079)
    );

    let csv = "name,latitude,longitude,workers,access_bandwidth\n\
               A,0,0,1,100Mbit\n\
               B,0,90,1,\n";
    let opts = ConsortiumOptions {
        registry: gp(0.0, 90.0),
        ..ConsortiumOptions::default()
    };
    let s = generate::consortium(csv, "pair.csv", &opts).unwrap();
    let wan = link_between(&s, "a-gw", "b-gw");
    assert_eq!(wan.kind, LinkKind::Wan);
    assert_eq!(wan.delay.to_string(), "105079us");
    // min(100Mbit, default 1Gbit)
    assert_eq!(wan.bandwidth.bits_per_s, 100e6);
    // Registry RTT: the same formula, both ways: 2 x 105.0792 ms = 210.1584 ms.
    assert_eq!(
        s.sites[0].registry_rtt.unwrap().get(),
        SimDuration::from_micros(210_158)
    );
    assert_eq!(s.sites[1].registry_rtt.unwrap().get(), SimDuration::ZERO);
    // LAN attachments.
    let lan = link_between(&s, "b-w01", "b-gw");
    assert_eq!(
        (lan.kind, lan.delay, lan.bandwidth.bits_per_s),
        (LinkKind::Lan, Dur(SimDuration::from_micros(100)), 10e9)
    );
    assert_round_trip(&s);
}

#[test]
fn sanitized_names() {
    assert_eq!(sanitize_name("Keio University (Tokyo)"), "keio-university-tokyo");
    assert_eq!(sanitize_name("  École Polytechnique  "), "ecole-polytechnique");
    assert_eq!(sanitize_name("TU München"), "tu-munchen");
    assert_eq!(sanitize_name("--a__b--"), "a-b");
    assert_eq!(sanitize_name("???"), "");
}

#[test]
fn csv_errors_name_line_and_column() {
    // Latitude out of range: line 3 (after a comment), column of the value.
    let (line, column, field, msg) = csv_error("# sites\nname,latitude,longitude,workers\nTokyo,95.5,139.6,2\n");
    assert_eq!((line, column, field.as_str()), (3, 7, "latitude"));
    assert!(
        msg.contains("95.5") && msg.contains("expected") && msg.contains("-90..=90"),
        "{msg}"
    );

    let (line, column, field, msg) = csv_error("name,latitude,longitude,workers\nTokyo,35,200,2\n");
    assert_eq!((line, column, field.as_str()), (2, 10, "longitude"));
    assert!(msg.contains("-180..=180"), "{msg}");

    let (line, column, field, msg) = csv_error("name,latitude,longitude,workers\nTokyo, north ,139.6,2\n");
    assert_eq!((line, column, field.as_str()), (2, 8, "latitude"));
    assert!(msg.contains("not a number"), "{msg}");

    // More workers in all than a generated scenario may have (a u32 count parsed fine, and
    // the generator then ran for minutes).
    let (line, column, field, msg) = csv_error("name,latitude,longitude,workers\nA,1,1,4294967295\nB,1,1,3\n");
    assert_eq!((line, column, field.as_str()), (2, 7, "workers"));
    assert!(msg.contains("expected at most 1000000 in all"), "{msg}");
    // Counts too large for a u32, or for any integer, are the same error, not "not a number".
    for huge in ["4294967296", "123456789012345678901234567890"] {
        let (line, column, field, msg) = csv_error(&format!("name,latitude,longitude,workers\nA,1,1,{huge}\n"));
        assert_eq!((line, column, field.as_str()), (2, 7, "workers"));
        assert!(
            msg.contains(&format!("{huge} workers at one site; expected at most 1000000 in all")),
            "{msg}"
        );
    }
    let (line, _, _, _) = csv_error("name,latitude,longitude,workers\nA,1,1,999999\nB,1,1,2\n");
    assert_eq!(line, 3, "the row that crosses the bound is named");

    // More sites than a generated scenario may have: the first row past the bound is named.
    let mut text = String::from("name,latitude,longitude,workers\n");
    for i in 0..=generate::MAX_SITES {
        text.push_str(&format!("site{i},1,1,1\n"));
    }
    let (line, _, field, msg) = csv_error(&text);
    assert_eq!((line, field.as_str()), (generate::MAX_SITES + 2, "name"));
    assert!(msg.contains("at most 1000 sites"), "{msg}");

    // A name whose host names would be longer than a node's name may be (253 characters): at
    // its own line and column, with the longest name allowed, not as a host of the scenario.
    let long = format!("Site{}", "x".repeat(246));
    let (line, column, field, msg) =
        csv_error(&format!("name,latitude,longitude,workers\nB,47,8,2\n{long},35,139,2\n"));
    assert_eq!((line, column, field.as_str()), (3, 1, "name"));
    assert!(
        msg.contains("250 characters once sanitized")
            && msg.contains("up to 254 characters (`<site>-w02`)")
            && msg.contains("expected a name of at most 249 characters"),
        "{msg}"
    );
    // 249 characters fit with 2 workers; with 0 workers, only the router `<site>-gw` counts.
    let fits = format!("Site{}", "x".repeat(245));
    generate::consortium(
        &format!("name,latitude,longitude,workers\n{fits},35,139,2\nB,47,8,2\n"),
        "sites.csv",
        &ConsortiumOptions::default(),
    )
    .expect("a 249-character site name with 2 workers fits");
    generate::consortium(
        &format!("name,latitude,longitude,workers\n{long},35,139,0\nB,47,8,2\n"),
        "sites.csv",
        &ConsortiumOptions::default(),
    )
    .expect("a 250-character site name with only its router fits");

    // A name in another script says how to keep it.
    let (_, _, field, msg) = csv_error("name,latitude,longitude,workers\n東京大学,35.7,139.8,2\n");
    assert_eq!(field, "name");
    assert!(
        msg.contains("no Latin letter or digit") && msg.contains("University of Tokyo (東京大学)"),
        "{msg}"
    );
    let s = generate::consortium(
        "name,latitude,longitude,workers\nUniversity of Tokyo (東京大学),35.7,139.8,2\nOsaka,34.7,135.5,1\n",
        "sites.csv",
        &ConsortiumOptions::default(),
    )
    .unwrap();
    assert_eq!(s.sites[0].name, "university-of-tokyo");

    // Duplicate names after sanitizing.
    let (line, column, field, msg) =
        csv_error("name,latitude,longitude,workers\nKeio Univ,35,139,2\nLondon,51,0,1\n\"keio univ\",35,139,2\n");
    assert_eq!((line, column, field.as_str()), (4, 1, "name"));
    assert!(
        msg.contains("already used on line 2") && msg.contains("expected"),
        "{msg}"
    );

    // A missing column in the header.
    let (line, _, field, msg) = csv_error("name,latitude,workers\nTokyo,35,2\n");
    assert_eq!((line, field.as_str()), (1, "header"));
    assert!(
        msg.contains("missing column `longitude`") && msg.contains("expected"),
        "{msg}"
    );

    // An unknown column in the header.
    let (line, column, _, msg) = csv_error("name,latitude,longitude,workers,colour\nTokyo,35,139,2,red\n");
    assert_eq!((line, column), (1, 33));
    assert!(msg.contains("unknown column `colour`"), "{msg}");

    // A row that is too short: the column just after its end.
    let (line, column, field, msg) = csv_error("name,latitude,longitude,workers\nTokyo,35,139\n");
    assert_eq!((line, column, field.as_str()), (2, 13, "workers"));
    assert!(msg.contains("missing value for `workers`"), "{msg}");

    // A row that is too long.
    let (line, column, _, _) = csv_error("name,latitude,longitude,workers\nTokyo,35,139,2,1Gbit\n");
    assert_eq!((line, column), (2, 16));

    // Workers not a count.
    let (line, column, field, msg) = csv_error("name,latitude,longitude,workers\nTokyo,35,139,-2\n");
    assert_eq!((line, column, field.as_str()), (2, 14, "workers"));
    assert!(msg.contains("whole number"), "{msg}");

    // Bad bandwidth.
    let (line, column, field, msg) =
        csv_error("name,latitude,longitude,workers,access_bandwidth\nTokyo,35,139,2,fast\n");
    assert_eq!((line, column, field.as_str()), (2, 16, "access_bandwidth"));
    assert!(msg.contains("1Gbit"), "{msg}");

    // 0 workers away from the control plane (the first site by default).
    let (line, column, field, msg) = csv_error("name,latitude,longitude,workers\nTokyo,35,139,2\nLondon,51,0,0\n");
    assert_eq!((line, column, field.as_str()), (3, 13, "workers"));
    assert!(msg.contains("control-plane site"), "{msg}");
    // 0 workers everywhere (the one site holds the control plane): the column, at its first row.
    let (line, column, field, msg) = csv_error("name,latitude,longitude,workers\nTokyo,35,139,0\n");
    assert_eq!((line, column, field.as_str()), (2, 14, "workers"));
    assert!(msg.contains("every site has 0 workers"), "{msg}");

    // Unterminated quote, empty file, header only.
    let (line, column, _, _) = csv_error("name,latitude,longitude,workers\n\"Tokyo,35,139,2\n");
    assert_eq!((line, column), (2, 1));
    let (line, _, field, _) = csv_error("# nothing\n");
    assert_eq!((line, field.as_str()), (1, "header"));
    let (line, _, _, msg) = csv_error("name,latitude,longitude,workers\n");
    assert_eq!(line, 1);
    assert!(msg.contains("no site rows"), "{msg}");

    // The Display form names origin, line and column.
    let err = generate::consortium(
        "name,latitude,longitude,workers\nTokyo,95,139,2\n",
        "my/sites.csv",
        &ConsortiumOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("my/sites.csv: line 2, column 7: `latitude`: "), "{err}");
}

#[test]
fn zero_workers_allowed_at_the_control_plane_site() {
    let csv = "name,latitude,longitude,workers\nHQ,35,139,0\nTokyo,35.6,139.6,3\n";
    let s = generate::consortium(csv, "sites.csv", &ConsortiumOptions::default()).unwrap();
    assert_eq!(s.hosts.iter().filter(|h| h.role == Role::Worker).count(), 3);
    assert!(s.hosts.iter().any(|h| h.name == "master01" && h.site == "hq"));
    assert_round_trip(&s);
}

/// A name or description with line breaks or other control characters (a `--name` pasted
/// with a newline) is refused by the checks (E030: reports show them on one line, and a
/// terminal would take an escape as a command), and is still written safely: the file parses
/// back to the same scenario, nothing injected (the header comment shows them as spaces).
#[test]
fn control_characters_in_the_name_are_refused_and_still_written_safely() {
    let csv = "name,latitude,longitude,workers\nTokyo,35,139,2\nLondon,51,0,1\n";
    let mut s = generate::consortium(csv, "sites.csv", &ConsortiumOptions::default()).unwrap();
    s.name = "\"]\n[evil]\nx=\"\u{7}".into();
    s.description.push_str("\r\nsecond line\u{1b}[0m");
    let refused: Vec<(&str, String)> = check::run(&s).into_iter().map(|f| (f.code, f.field)).collect();
    assert_eq!(
        refused,
        [("E030", "name".to_owned()), ("E030", "description".to_owned())]
    );
    let text = generate::to_toml(&s);
    assert_eq!(load::parse_str(&text, "generated.toml").unwrap(), s);
}

#[test]
fn option_errors_name_the_option() {
    let csv = "name,latitude,longitude,workers\nTokyo,35,139,2\nLondon,51,0,1\n";
    let with = |opts: ConsortiumOptions| generate::consortium(csv, "s.csv", &opts).unwrap_err();
    let e = with(ConsortiumOptions {
        control_plane: ControlPlane::Single("Paris".into()),
        ..Default::default()
    });
    assert!(
        matches!(&e, GenerateError::Option { option, .. } if option == "control_plane"),
        "{e}"
    );
    assert!(e.to_string().contains("expected one of: tokyo, london"), "{e}");
    let e = with(ConsortiumOptions {
        control_plane: ControlPlane::Spread(["Tokyo".into(), "London".into(), "tokyo".into()]),
        ..Default::default()
    });
    assert!(e.to_string().contains("three different sites"), "{e}");
    let e = with(ConsortiumOptions {
        vpn: VpnTopology::HubAndSpoke { hub: "Mars".into() },
        ..Default::default()
    });
    assert!(
        matches!(&e, GenerateError::Option { option, .. } if option == "vpn.hub"),
        "{e}"
    );
    for path_inflation in [0.5, 1e308] {
        let e = with(ConsortiumOptions {
            path_inflation,
            ..Default::default()
        });
        assert!(
            matches!(&e, GenerateError::Option { option, .. } if option == "path_inflation"),
            "{path_inflation}: {e}"
        );
    }
}

#[test]
fn consortium_32_generates_and_loads() {
    let opts = ConsortiumOptions {
        name: "consortium-32".into(),
        command_line: "kubetwin generate consortium examples/consortium-32/sites.csv".into(),
        control_plane: ControlPlane::Single("Keio University (Tokyo)".into()),
        ..Default::default()
    };
    let s = generate::consortium(CONSORTIUM_32, "examples/consortium-32/sites.csv", &opts).unwrap();
    assert_eq!(s.name, "consortium-32");
    assert_eq!(s.sites.len(), 32);
    assert_eq!(s.hosts.iter().filter(|h| h.role == Role::Worker).count(), 320);
    assert_eq!(s.hosts.iter().filter(|h| h.role == Role::Router).count(), 32);
    assert_eq!(s.links.iter().filter(|l| l.kind == LinkKind::Wan).count(), 32 * 31 / 2);
    assert_eq!(s.sites[0].name, "keio-university-tokyo");
    assert!(s.hosts.iter().any(|h| h.name == "keio-university-tokyo-w10"));
    for m in ["master01", "master02", "master03", "lb"] {
        let h = s.hosts.iter().find(|h| h.name == m).unwrap();
        assert_eq!(h.site, "keio-university-tokyo");
    }
    assert_eq!(s.kubernetes.etcd.leader.as_deref(), Some("master01"));
    assert_eq!(s.workload.image, "nginx");
    // Plausible delays: Tokyo-London about 100 ms one way; Sydney-Melbourne a few ms.
    let tl = link_between(&s, "keio-university-tokyo-gw", "imperial-college-london-london-gw");
    let ms = tl.delay.get().as_millis_f64();
    assert!((95.0..106.0).contains(&ms), "{ms}");
    let sm = link_between(
        &s,
        "university-of-sydney-sydney-gw",
        "university-of-melbourne-melbourne-gw",
    );
    let ms = sm.delay.get().as_millis_f64();
    assert!((5.0..10.0).contains(&ms), "{ms}");
    // Every site has a registry RTT; Atlanta is nearer Ashburn than Perth is.
    let rtt = |name: &str| s.sites.iter().find(|x| x.name == name).unwrap().registry_rtt.unwrap();
    assert!(rtt("georgia-institute-of-technology-atlanta") < rtt("university-of-western-australia-perth"));
    let text = generate::to_toml(&s);
    assert!(
        text.starts_with("# consortium-32: a generated kubetwin scenario.\n"),
        "{text}"
    );
    assert!(text.contains("kubetwin generate consortium examples/consortium-32/sites.csv"));
    assert_round_trip(&s);
}

#[test]
fn hub_and_spoke_has_one_tunnel_per_spoke() {
    let opts = ConsortiumOptions {
        vpn: VpnTopology::HubAndSpoke {
            hub: "ETH Zurich (Zurich)".into(),
        },
        ..Default::default()
    };
    let s = generate::consortium(CONSORTIUM_32, "sites.csv", &opts).unwrap();
    assert_eq!(
        s.vpn.topology,
        VpnTopology::HubAndSpoke {
            hub: "eth-zurich-zurich".into()
        }
    );
    let names: Vec<String> = s.sites.iter().map(|x| x.name.clone()).collect();
    assert_eq!(tunnel_pairs(&s.vpn.topology, &names).len(), names.len() - 1);
    // The underlay stays a full mesh; only the tunnels follow the hub.
    assert_eq!(s.links.iter().filter(|l| l.kind == LinkKind::Wan).count(), 32 * 31 / 2);
    assert_round_trip(&s);
}

#[test]
fn spread_control_plane_uses_three_sites() {
    let opts = ConsortiumOptions {
        control_plane: ControlPlane::Spread([
            "keio-university-tokyo".into(),
            "Imperial College London (London)".into(),
            "University of Toronto (Toronto)".into(),
        ]),
        ..Default::default()
    };
    let s = generate::consortium(CONSORTIUM_32, "sites.csv", &opts).unwrap();
    let site_of = |n: &str| s.hosts.iter().find(|h| h.name == n).unwrap().site.clone();
    let sites: std::collections::HashSet<String> = ["master01", "master02", "master03"]
        .iter()
        .map(|m| site_of(m))
        .collect();
    assert_eq!(sites.len(), 3);
    assert_eq!(site_of("master01"), "keio-university-tokyo");
    assert_eq!(site_of("master02"), "imperial-college-london-london");
    assert_eq!(site_of("master03"), "university-of-toronto-toronto");
    assert_eq!(site_of("lb"), "keio-university-tokyo");
    assert_eq!(s.haproxy.backends, ["master01", "master02", "master03"]);
    assert_round_trip(&s);
}

/// `registry_site` adds the consortium's own registry host at that site, on its LAN, and
/// points the runtime at it; an unknown site names the option.
#[test]
fn a_registry_site_adds_the_registry_host_there() {
    let opts = ConsortiumOptions {
        registry_site: Some("Imperial College London (London)".into()),
        ..Default::default()
    };
    let s = generate::consortium(CONSORTIUM_32, "sites.csv", &opts).unwrap();
    let reg = s.hosts.iter().find(|h| h.name == generate::REGISTRY_HOST).unwrap();
    assert_eq!(reg.site, "imperial-college-london-london");
    assert_eq!(reg.role, Role::Client);
    assert_eq!(s.runtime.registry_host.as_deref(), Some(generate::REGISTRY_HOST));
    let l = link_between(&s, generate::REGISTRY_HOST, "imperial-college-london-london-gw");
    assert_eq!(l.kind, LinkKind::Lan);
    assert_round_trip(&s);
    let bad = ConsortiumOptions {
        registry_site: Some("Atlantis".into()),
        ..Default::default()
    };
    let e = generate::consortium(CONSORTIUM_32, "sites.csv", &bad)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("registry_site") && e.contains("`Atlantis` is not in the CSV"),
        "{e}"
    );
}

#[test]
fn uniform_small_shapes() {
    let s = generate::uniform(10, 3, &UniformOptions::default());
    let per_site: Vec<usize> = s
        .sites
        .iter()
        .map(|x| {
            s.hosts
                .iter()
                .filter(|h| h.site == x.name && h.role == Role::Worker)
                .count()
        })
        .collect();
    assert_eq!(per_site, [4, 3, 3]);
    assert!(s.hosts.iter().any(|h| h.name == "s02-w0003"));
    assert_eq!(s.links.iter().filter(|l| l.kind == LinkKind::Wan).count(), 3);
    assert!(s
        .links
        .iter()
        .filter(|l| l.kind == LinkKind::Wan)
        .all(|l| l.delay == Dur::millis(10)));
    assert_eq!(s.vpn.topology, VpnTopology::FullMesh {});
    assert_round_trip(&s);

    // Masters sized as kube-up sizes them for the cluster, unless told otherwise.
    assert_eq!(s.kubernetes.apiserver.workers, generate::kube_up_master_vcpus(10));
    for (nodes, vcpus) in [
        (5, 1),
        (6, 2),
        (100, 4),
        (101, 8),
        (500, 16),
        (501, 32),
        (3000, 32),
        (5000, 64),
    ] {
        assert_eq!(generate::kube_up_master_vcpus(nodes), vcpus, "{nodes} nodes");
    }
    // Never below kubeadm's 2 CPUs, where kube-up would give 1.
    assert_eq!(
        generate::uniform(3, 1, &UniformOptions::default())
            .kubernetes
            .apiserver
            .workers,
        2
    );
    let sized = UniformOptions {
        master_vcpus: Some(3),
        ..Default::default()
    };
    assert_eq!(generate::uniform(12, 6, &sized).kubernetes.apiserver.workers, 3);

    let ring = UniformOptions {
        layout: WanLayout::Ring,
        wan_delay: Dur::millis(7),
        ..Default::default()
    };
    let s = generate::uniform(12, 6, &ring);
    let wan: Vec<(&str, &str)> = s
        .links
        .iter()
        .filter(|l| l.kind == LinkKind::Wan)
        .map(|l| (l.a.as_str(), l.b.as_str()))
        .collect();
    assert_eq!(
        wan,
        [
            ("s00-gw", "s01-gw"),
            ("s01-gw", "s02-gw"),
            ("s02-gw", "s03-gw"),
            ("s03-gw", "s04-gw"),
            ("s04-gw", "s05-gw"),
            ("s00-gw", "s05-gw"),
        ]
    );
    assert_round_trip(&s);
    // One site: no WAN links, still valid.
    assert_round_trip(&generate::uniform(3, 1, &UniformOptions::default()));
    assert_round_trip(&generate::uniform(3, 2, &ring));
}

#[test]
fn uniform_5000_nodes_10_sites() {
    // How long this takes is measured, not asserted (topologies/README.md, "Uniform scale
    // scenarios"; BENCHMARKS.md): a shared machine makes any wall-time bound flaky.
    let s = generate::uniform(5000, 10, &UniformOptions::default());
    assert_eq!(s.hosts.iter().filter(|h| h.role == Role::Worker).count(), 5000);
    assert_eq!(s.sites.len(), 10);
    assert!(s.hosts.iter().any(|h| h.name == "s03-w0500"));
    assert!(!s.hosts.iter().any(|h| h.name == "s03-w0501"));
    let text = generate::to_toml(&s);
    let loaded = load::load_str_with_warnings(&text, "uniform.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.scenario, s);
    // Masters of kube-up's 64 vCPUs serve 5,000 kubelets' periodic requests (a Lease PUT and a
    // Node GET every 10 s, v1.16.3's hostNetwork status resync: 3,000/s) without a warning.
    assert_eq!(s.kubernetes.apiserver.workers, 64);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    // With the thesis's 2-vCPU masters they exceed the control plane's 1,200/s: the load warns
    // (W003), at the resync, the larger part.
    let small = UniformOptions {
        master_vcpus: Some(2),
        ..Default::default()
    };
    let text = generate::to_toml(&generate::uniform(5000, 10, &small));
    let loaded = load::load_str_with_warnings(&text, "uniform.toml").unwrap_or_else(|e| panic!("{e}"));
    let codes: Vec<(&str, &str)> = loaded.warnings.iter().map(|w| (w.code, w.field.as_str())).collect();
    assert_eq!(codes, [("W003", "kubernetes.kubelet.host_network_status_resync")]);
}
