//! A registry on the overlay (`runtime.registry_host`, [`models::registry`]): pulls pay their
//! route's round trips, netem included, share the registry site's uplink, and meet the faults
//! on their route.

use models::cluster::{run, RunOutcome};
use models::network::Network;
use models::spec::{Fault, Host, Link, LinkKind, NetemPlacement, Role, Scenario};
use models::units::{Bandwidth, Dur};

use crate::fixture::{cell, pulls_by_node};

/// The thesis cell with a registry host `mirror` in `site`, attached to `router`.
fn with_mirror(pods: u32, delay_ms: u64, site: &str, router: &str) -> Scenario {
    let mut s = cell(pods, delay_ms);
    s.netem.placement = NetemPlacement::WorkersEgress;
    s.hosts.push(Host {
        name: "mirror".into(),
        site: site.into(),
        role: Role::Client,
        address: String::new(),
    });
    s.links.push(Link {
        a: "mirror".into(),
        b: router.into(),
        delay: Dur(sim_core::SimDuration::from_micros(100)),
        bandwidth: Bandwidth { bits_per_s: 10e9 },
        loss_pct: 0.0,
        kind: LinkKind::Lan,
    });
    s.runtime.registry_host = Some("mirror".into());
    s
}

/// A `degrade` of the tunnel between vlan10 (the mirror's site) and `site`: `delay_ms` each
/// way, `loss_pct`, from `at` s to `repair` s (`None`: never repaired).
fn degrade_from_vlan10(site: &str, delay_ms: u64, loss_pct: f64, at: u64, repair: Option<u64>) -> Fault {
    Fault::Degrade {
        a: "vlan10".into(),
        b: site.into(),
        delay: Dur::millis(delay_ms),
        jitter: Dur::default(),
        loss_pct,
        at: Dur::secs(at),
        repair: repair.map(Dur::secs),
    }
}

/// Each worker's round trip to the mirror and back, from the network itself, by worker index.
fn rtts(s: &Scenario) -> Vec<f64> {
    let net = Network::build(s, &["mirror"]).unwrap();
    let m = net.host("mirror").unwrap();
    ["node01", "node02", "node03", "node04"]
        .iter()
        .map(|w| {
            let h = net.host(w).unwrap();
            (net.base_one_way(h, m).unwrap() + net.base_one_way(m, h).unwrap()).as_secs_f64()
        })
        .collect()
}

/// `(place, node, seconds)` of every pull that found the image on its node (all but each
/// node's first), `place` being the pull's place in its node's pulls (1 for the second). A
/// pull's draws are keyed by that place ([`models::draws::pull_key`]), so two runs are matched
/// by (node, place), not by pod.
fn cached_pulls(out: &RunOutcome) -> Vec<(u32, u32, f64)> {
    for p in &out.pods {
        assert_eq!(p.pull_failures, 0, "pod {} failed a pull: places would shift", p.pod);
    }
    let mut pulls = Vec::new();
    for (node, on_node) in pulls_by_node(out).into_iter().enumerate() {
        let later = on_node.into_iter().enumerate().skip(1);
        pulls.extend(later.map(|(place, (_, took))| (place as u32, node as u32, took)));
    }
    pulls
}

/// A pull makes its 16 round trips over the worker's route to the mirror: with the delay on the
/// workers' way out, the node's same pull (same place in its pulls, same draws) takes longer by
/// exactly the ratio of the routes' round trips, 100 ms against 500 ms of netem; and a node in the mirror's own site
/// does not pay the delay at all.
#[test]
fn a_pull_pays_its_routes_round_trips_netem_included() {
    for (site, router) in [("vlan10", "vyos01"), ("vlan20", "vyos02")] {
        let (near_s, far_s) = (with_mirror(20, 100, site, router), with_mirror(20, 500, site, router));
        let (near_rtt, far_rtt) = (rtts(&near_s), rtts(&far_s));
        let near = run(&near_s, 3, false).unwrap();
        let far = run(&far_s, 3, false).unwrap();
        let (a, b) = (cached_pulls(&near), cached_pulls(&far));
        let mut compared = 0;
        for &(place, node, took) in &a {
            let Some(&(_, _, far_took)) = b.iter().find(|x| (x.0, x.1) == (place, node)) else {
                continue;
            };
            let n = node as usize;
            let want = far_rtt[n] / near_rtt[n];
            let got = far_took / took;
            assert!(
                (got / want - 1.0).abs() < 1e-6,
                "mirror in {site}, pull {place} of node {n}: took {took:.4} s and {far_took:.4} s, ratio {got:.4}; the round trips' ratio is {want:.4}"
            );
            compared += 1;
        }
        assert!(compared >= 10, "mirror in {site}: only {compared} pulls compared");
        // With the mirror at the control plane's site every worker crosses the delay once; with
        // it in worker site vlan20, node01 and node02 reach it over their LAN and node03 and
        // node04 over the vlan30-vlan20 tunnel, which netem (between the control plane and the
        // workers) does not touch.
        for (n, rtt) in near_rtt.iter().enumerate() {
            let want = match (site, n) {
                ("vlan10", _) => 0.1 + 0.001_24,
                (_, 0 | 1) => 0.000_4,
                _ => 0.001_24,
            };
            assert!(
                (rtt - want).abs() < 0.000_05,
                "mirror in {site}, node {n}: {rtt} s, want {want} s"
            );
        }
    }
}

/// The mirror's site uplink carries every download of the other sites: four first pulls of
/// 51 MB at once through 20 Mbit/s take about four times as long as one alone would.
#[test]
fn downloads_share_the_registry_sites_uplink() {
    let mut s = with_mirror(4, 0, "vlan10", "vyos01");
    s.runtime.download_bandwidth = Bandwidth { bits_per_s: 100e6 };
    let alone = run(&s, 1, false).unwrap();
    s.sites[0].uplink = Some(Bandwidth { bits_per_s: 20e6 });
    let shared = run(&s, 1, false).unwrap();
    let took = |o: &RunOutcome| -> Vec<f64> {
        o.pods
            .iter()
            .map(|p| p.pulled.unwrap() - p.pull_start.unwrap())
            .collect()
    };
    let one_alone = 51e6 * 8.0 / 20e6; // 20.4 s at the uplink's whole rate
    for (a, b) in took(&alone).iter().zip(took(&shared)) {
        assert!(
            *a < 0.4 * one_alone,
            "at 100 Mbit/s a first pull takes about 4 s, not {a}"
        );
        assert!(b > 2.5 * one_alone, "four downloads share 20 Mbit/s: {b} s");
    }
}

/// The durations of the pulls that found the image on their node, matched between two runs by
/// node and place in the node's pulls: `(node, took in a, took in b)`.
fn matched_cached_pulls(a: &RunOutcome, b: &RunOutcome) -> Vec<(u32, f64, f64)> {
    let later = cached_pulls(b);
    cached_pulls(a)
        .into_iter()
        .filter_map(|(place, node, took)| {
            let &(_, _, other) = later.iter().find(|x| (x.0, x.1) == (place, node))?;
            Some((node, took, other))
        })
        .collect()
}

/// A `degrade` of the tunnel between the mirror's site and vlan20 adds its delay to both ways
/// of each of a vlan20 pull's 16 round trips (the node's same pull, same draws, takes longer by
/// exactly the ratio of the round trips); vlan30's pulls do not cross it and take what they
/// took.
#[test]
fn a_degradation_on_the_route_lengthens_every_round_trip_of_a_pull() {
    let base = with_mirror(20, 0, "vlan10", "vyos01");
    let mut slow = base.clone();
    slow.faults.push(degrade_from_vlan10("vlan20", 50, 0.0, 0, None));
    let rtt = rtts(&base);
    let pulls = matched_cached_pulls(&run(&base, 2, false).unwrap(), &run(&slow, 2, false).unwrap());
    let (mut crossing, mut other) = (0, 0);
    for (node, took, slow_took) in pulls {
        let n = node as usize;
        if n < 2 {
            let want = (rtt[n] + 0.1) / rtt[n];
            assert!(
                (slow_took / took / want - 1.0).abs() < 1e-6,
                "vlan20 node {n}: {took:.4} s, degraded {slow_took:.4} s; want the ratio {want:.2}"
            );
            crossing += 1;
        } else {
            // Equal to the nanosecond (both are differences of f64 instants).
            assert!(
                (took - slow_took).abs() < 1e-9,
                "vlan30 node {n}: {took} s against {slow_took} s"
            );
            other += 1;
        }
    }
    assert!(crossing >= 6 && other >= 6, "{crossing} and {other} pulls compared");
}

/// Netem's jitter and loss reach each round trip of a pull (the delay on the workers' way
/// out: one jittered, lossy crossing per round trip). Jitter spreads the pulls about the same
/// mean; a loss of 5 % costs a resend on about one round trip in twenty.
#[test]
fn netem_jitter_and_loss_reach_each_round_trip_of_a_pull() {
    let base = with_mirror(40, 100, "vlan10", "vyos01");
    let base_out = run(&base, 5, false).unwrap();
    let ratios = |s: &Scenario| -> (f64, f64, usize) {
        let pulls = matched_cached_pulls(&base_out, &run(s, 5, false).unwrap());
        let r: Vec<f64> = pulls.iter().map(|&(_, a, b)| b / a).collect();
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64;
        (mean, var.sqrt(), r.len())
    };
    let mut jittered = base.clone();
    jittered.netem.jitter = Dur::millis(50);
    let (mean, sd, n) = ratios(&jittered);
    assert!(n >= 20, "{n} pulls compared");
    // 16 draws of N(100 ms, 50 ms) on a round trip of 101.24 ms: a relative spread of 0.12.
    assert!((mean - 1.0).abs() < 0.06, "jitter moved the mean pull by {mean:.3}x");
    assert!(sd > 0.06 && sd < 0.2, "jitter spread the pulls by {sd:.3}");
    let mut lossy = base.clone();
    lossy.netem.loss_pct = 5.0;
    let (mean, _, n) = ratios(&lossy);
    assert!(n >= 20, "{n} pulls compared");
    // A resend costs the round trip plus 200 ms, about 0.3 s: 16 x 0.05 x 0.3 s on 1.62 s.
    assert!(mean > 1.06 && mean < 1.3, "5 % loss made the pulls {mean:.3}x as long");
}

/// A node outside the mirror's site also crosses its own site's uplink, shared with that
/// site's other downloads: vlan20's two nodes behind 10 Mbit/s download at about 5 Mbit/s
/// each, vlan30's, without an uplink, at their own 100 Mbit/s.
#[test]
fn a_nodes_own_site_uplink_holds_its_download_to_its_share() {
    let mut s = with_mirror(4, 0, "vlan10", "vyos01");
    s.runtime.download_bandwidth = Bandwidth { bits_per_s: 100e6 };
    s.sites[1].uplink = Some(Bandwidth { bits_per_s: 10e6 });
    let out = run(&s, 1, false).unwrap();
    let bits = 51e6 * 8.0;
    for p in &out.pods {
        let took = p.pulled.unwrap() - p.pull_start.unwrap();
        if p.node.unwrap() < 2 {
            assert!(took > 0.6 * bits / 5e6, "vlan20 at 5 Mbit/s: {took} s");
        } else {
            assert!(took < 2.0 * bits / 100e6, "vlan30 at 100 Mbit/s: {took} s");
        }
    }
}

/// A partition between the mirror's site and one worker site stalls that site's pulls until
/// the tunnel carries again; the other site's pulls are the same, draw for draw.
#[test]
fn a_partition_on_the_route_stalls_only_the_pulls_that_cross_it() {
    let base = with_mirror(8, 0, "vlan10", "vyos01");
    let mut cut = base.clone();
    cut.faults.push(Fault::Partition {
        a: "vlan10".into(),
        b: "vlan30".into(),
        at: Dur::secs(3),
        repair: Some(Dur::secs(40)),
    });
    let (a, b) = (run(&base, 2, false).unwrap(), run(&cut, 2, false).unwrap());
    assert!(b.startup_exact_s.unwrap() > 40.0, "{:?}", b.startup_exact_s);
    let mut stalled = 0;
    for p in &a.pods {
        let q = b.pods.iter().find(|q| q.pod == p.pod).unwrap();
        let node = p.node.unwrap();
        if node < 2 {
            assert_eq!(q.node, Some(node));
            assert_eq!(
                (p.pull_start, p.pulled),
                (q.pull_start, q.pulled),
                "pod {} on vlan20",
                p.pod
            );
        } else if p.pull_start.unwrap() < 3.0 {
            assert!(
                q.pulled.unwrap() > 40.0,
                "pod {} on vlan30 pulled at {:?}",
                p.pod,
                q.pulled
            );
            stalled += 1;
        }
    }
    assert!(
        stalled >= 2,
        "each vlan30 node's first pull was under way at the cut: {stalled}"
    );
}

/// The mirror crashes while the first pulls download: it comes back without their
/// connections, which fail at the nodes' first keepalive probe after the restart (34 s), and
/// Docker's download manager dials again 5 s later and asks for the rest of the layers: no
/// pull fails, and the downloads end after 39 s.
#[test]
fn a_registry_crash_cuts_the_downloads_under_way_and_docker_resumes_them() {
    let mut s = with_mirror(8, 0, "vlan10", "vyos01");
    s.faults.push(Fault::Crash {
        host: "mirror".into(),
        at: Dur::secs(4),
        repair: Some(Dur::secs(20)),
    });
    let out = run(&s, 1, false).unwrap();
    let failed: u32 = out.pods.iter().map(|p| p.pull_failures).sum();
    assert_eq!(failed, 0, "Docker resumed the cut downloads");
    assert!(out.startup_exact_s.is_some(), "every pod still starts");
    let clean = run(&with_mirror(8, 0, "vlan10", "vyos01"), 1, false).unwrap();
    // Each node's first pull, under way at the cut, ends what it lost later than without the
    // crash: 35 s from the cut to Docker's new attempt, and its new connection's round trips
    // (milliseconds on the testbed's LAN), not its whole download again.
    let mut resumed = 0;
    for p in out.pods.iter().filter(|p| p.pull_start.unwrap() < 4.0) {
        let q = clean.pods.iter().find(|q| q.pod == p.pod).unwrap();
        let lost = p.pulled.unwrap() - q.pulled.unwrap();
        assert!((35.0..35.1).contains(&lost), "pod {}: {lost} s later", p.pod);
        resumed += 1;
    }
    assert!(
        resumed >= 4,
        "every node's first pull was under way at the cut: {resumed}"
    );
    assert_eq!(clean.pods.iter().map(|p| p.pull_failures).sum::<u32>(), 0);
    assert!(out.startup_exact_s.unwrap() > clean.startup_exact_s.unwrap() + 20.0);
}

/// What a partition on the route does to a pull, to the resend: the route carries again at
/// the repair, and the pull's connection resumes at its own first resend after it (its RTT
/// plus 200 ms, doubling from the cut), once, not twice; a pull that dials after the repair
/// connects at once.
#[test]
fn a_pull_resumes_at_its_own_first_resend_after_the_routes_repair() {
    use models::pull_outages::Transfer;
    use models::registry::OverlayRegistry;
    use sim_core::{SimDuration, SimTime};
    let mut s = with_mirror(4, 300, "vlan10", "vyos01");
    s.netem.placement = NetemPlacement::Both;
    s.faults.push(Fault::Partition {
        a: "vlan10".into(),
        b: "vlan20".into(),
        at: Dur::secs(5),
        repair: Some(Dur::secs(20)),
    });
    let net = Network::build(&s, &["mirror"]).unwrap();
    let reg = OverlayRegistry::new(&s, &net, "mirror").unwrap();
    let pull = reg.pull_from(&s, &net, net.host("node01").unwrap()).unwrap();
    let rtt = pull.rtt.as_secs_f64();
    assert!((rtt - 0.60124).abs() < 1e-9, "{rtt}");
    // Resends at 5 s + (RTT + 0.2 s) x (2^k - 1): the first at or after 20 s is k = 5.
    let resend = 5.0 + (rtt + 0.2) * 31.0;
    let s_at = |x: f64| SimTime::ZERO + SimDuration::from_secs_f64(x);
    match pull.outages.transfer(s_at(4.0), SimDuration::from_secs(2)) {
        Transfer::Done(t) => assert!(
            (t.as_secs_f64() - (resend + 1.0)).abs() < 1e-6,
            "{t:?}, want {}",
            resend + 1.0
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(pull.outages.connect(s_at(21.0)), Transfer::Done(s_at(21.0)));
    // node03, in vlan30, does not cross the partitioned tunnel.
    let other = reg.pull_from(&s, &net, net.host("node03").unwrap()).unwrap();
    assert!(other.outages.is_empty());
}

/// A download through the registry site's shared uplink meets its own route's faults: with
/// the hub of a hub-and-spoke VPN at vlan10 and the mirror at vlan30, cutting the vlan10-vlan30
/// tunnel stalls vlan20's downloads (their route goes through the hub) as isolating vlan30
/// does; the two faults cut the same tunnel, so the runs are the same.
#[test]
fn a_download_through_the_shared_uplink_meets_its_routes_faults() {
    let mut base = with_mirror(8, 0, "vlan30", "vyos03");
    base.vpn.topology = models::spec::VpnTopology::HubAndSpoke { hub: "vlan10".into() };
    base.sites[2].uplink = Some(Bandwidth { bits_per_s: 100e6 });
    let with = |f: Fault| {
        let mut s = base.clone();
        s.faults.push(f);
        run(&s, 1, false).unwrap()
    };
    let cut = with(Fault::Partition {
        a: "vlan10".into(),
        b: "vlan30".into(),
        at: Dur::secs(3),
        repair: Some(Dur::secs(30)),
    });
    let isolated = with(Fault::IsolateSite {
        site: "vlan30".into(),
        at: Dur::secs(3),
        repair: Some(Dur::secs(30)),
    });
    let clean = run(&base, 1, false).unwrap();
    let vlan20_pulled = |o: &RunOutcome| -> Vec<f64> {
        o.pods
            .iter()
            .filter(|p| p.node.unwrap() < 2)
            .map(|p| p.pulled.unwrap())
            .collect()
    };
    for (a, b) in vlan20_pulled(&cut).iter().zip(vlan20_pulled(&isolated)) {
        assert!((a - b).abs() < 1e-6, "partition {a} s, isolation {b} s");
    }
    // Each vlan20 node's first pull (its download) was under way at the cut: it ends after the
    // repair, where it ended well before it without the fault.
    for node in 0..2 {
        let first = |o: &RunOutcome| {
            o.pods
                .iter()
                .filter(|p| p.node == Some(node))
                .min_by(|a, b| a.pull_start.unwrap().total_cmp(&b.pull_start.unwrap()))
                .map(|p| p.pulled.unwrap())
                .unwrap()
        };
        assert!(
            first(&clean) < 30.0 && first(&cut) > 30.0,
            "node {node}: {} s, clean {} s",
            first(&cut),
            first(&clean)
        );
    }
}

/// Between two worker sites through the control plane's hub, a route crosses the delayed link
/// twice: with the delay both ways it pays it twice each way; with it on one side, once.
#[test]
fn a_route_through_the_hub_pays_the_delay_once_per_delayed_crossing() {
    for (placement, crossings) in [
        (NetemPlacement::Both, 2),
        (NetemPlacement::WorkersEgress, 1),
        (NetemPlacement::MastersEgress, 1),
    ] {
        let mut s = with_mirror(4, 300, "vlan30", "vyos03");
        s.netem.placement = placement;
        s.vpn.topology = models::spec::VpnTopology::HubAndSpoke { hub: "vlan10".into() };
        let net = Network::build(&s, &["mirror"]).unwrap();
        let (n, m) = (net.host("node01").unwrap(), net.host("mirror").unwrap());
        for (a, b) in [(n, m), (m, n)] {
            let got = net.base_one_way(a, b).unwrap().as_secs_f64();
            let prop = net.route(a, b).unwrap().0.propagation.as_secs_f64();
            assert!(
                (got - prop - 0.3 * f64::from(crossings)).abs() < 1e-9,
                "{placement:?}: {got} s one way, propagation {prop} s"
            );
        }
    }
}

/// The campus uplink is a fluid, not a fixed split: a vlan20 node downloading while its
/// neighbour has nothing to pull gets the campus's whole 10 Mbit/s, twice what an equal split
/// between the two workers would give it.
#[test]
fn a_lone_download_gets_its_whole_campus_uplink() {
    let bits = 51e6 * 8.0;
    let mut alone_seen = 0;
    for seed in 0..6 {
        let mut s = with_mirror(2, 0, "vlan10", "vyos01");
        s.runtime.download_bandwidth = Bandwidth { bits_per_s: 100e6 };
        s.sites[1].uplink = Some(Bandwidth { bits_per_s: 10e6 });
        let out = run(&s, seed, false).unwrap();
        let on_vlan20: Vec<_> = out.pods.iter().filter(|p| p.node.unwrap() < 2).collect();
        if on_vlan20.len() == 1 {
            let p = on_vlan20[0];
            let took = p.pulled.unwrap() - p.pull_start.unwrap();
            assert!(
                took < 0.75 * bits / 5e6,
                "seed {seed}: alone on 10 Mbit/s, yet {took} s"
            );
            alone_seen += 1;
        }
    }
    assert!(
        alone_seen > 0,
        "no seed put a single pod in vlan20: the test shows nothing"
    );
}

/// On a lossy route the layers flow no faster than TCP moves them at that loss: with the
/// delay (and 1 % loss) on the registry's way to the workers, each node's first pull downloads
/// at two connections' Mathis rate, about 2.6 Mbit/s (1,370-byte segments, `--mssfix`), not at its 100 Mbit/s. The node's first
/// pull without loss (the same draws: one pod per node) gives its draw of the service-time
/// noise, which scales both.
#[test]
fn a_lossy_route_holds_a_download_to_what_tcp_moves_at_that_loss() {
    let mut clean = with_mirror(4, 100, "vlan10", "vyos01");
    clean.netem.placement = NetemPlacement::MastersEgress;
    clean.runtime.download_bandwidth = Bandwidth { bits_per_s: 100e6 };
    let mut lossy = clean.clone();
    lossy.netem.loss_pct = 1.0;
    let rtt = rtts(&clean);
    let (a, b) = (run(&clean, 1, false).unwrap(), run(&lossy, 1, false).unwrap());
    let bits = 51e6 * 8.0;
    let mut compared = 0;
    for p in &a.pods {
        let q = b.pods.iter().find(|q| q.pod == p.pod).unwrap();
        let n = p.node.unwrap() as usize;
        if q.node != p.node {
            continue;
        }
        let round_trips = 16.0 * rtt[n];
        let factor = (p.pulled.unwrap() - p.pull_start.unwrap()) / (round_trips + bits / 100e6);
        let mathis = models::registry::tcp_rate_under_loss(TUNNEL_MSS, rtt[n], 0.01);
        let want = factor * (round_trips + bits / (2.0 * mathis));
        let took = q.pulled.unwrap() - q.pull_start.unwrap();
        // The round trips' own losses add TCP resends, a few seconds at most.
        assert!(
            took >= want - 1e-6 && took <= want + factor * 10.0,
            "node {n}: the lossy first pull took {took:.1} s, want {want:.1} s (at {:.2} Mbit/s)",
            2.0 * mathis / 1e6
        );
        compared += 1;
    }
    assert_eq!(compared, 4);
}

/// Each node's first pull, by node index: when it started and when it ended. `None` for a node
/// that pulled nothing.
fn first_pulls(out: &RunOutcome) -> Vec<Option<(f64, f64)>> {
    let mut first: Vec<Option<(f64, f64)>> = vec![None; 4];
    for p in &out.pods {
        assert_eq!(p.pull_failures, 0, "pod {} failed a pull", p.pod);
        let (Some(n), Some(start), Some(end)) = (p.node, p.pull_start, p.pulled) else {
            continue;
        };
        let slot = &mut first[n as usize];
        if slot.is_none_or(|(s, _)| start < s) {
            *slot = Some((start, end));
        }
    }
    first
}

/// The mirror at vlan10 with no netem delay, nodes downloading at 100 Mbit/s, through the
/// mirror site's uplink when `through_uplink` (10 Gbit/s: four downloads at 100 Mbit/s never
/// fill it, so each keeps its own cap and the times are those without it). With
/// `degrade_until`, a `degrade` of the vlan10-vlan20 tunnel from the start, 50 ms each way and
/// 1 % loss, repaired then (`None`: never).
fn mirror_with_degrade(through_uplink: bool, degrade_until: Option<Option<u64>>) -> Scenario {
    let mut s = with_mirror(4, 0, "vlan10", "vyos01");
    s.runtime.download_bandwidth = Bandwidth { bits_per_s: 100e6 };
    if through_uplink {
        s.sites[0].uplink = Some(Bandwidth { bits_per_s: 10e9 });
    }
    if let Some(repair) = degrade_until {
        s.faults.push(degrade_from_vlan10("vlan20", 50, 1.0, 0, repair));
    }
    s
}

/// The run of [`mirror_with_degrade`] with and without the degradation, checked node by node:
/// vlan30's first pulls (whose route does not cross the degraded tunnel) take what they took to
/// the nanosecond; for vlan20's, `want(rt_end, factor)` gives when the pull ends if its round
/// trips end at `rt_end`, `factor` being the node's draw of the service-time noise (from the
/// clean run: same node, same place in its pulls, same draws).
///
/// The round trips made under the degradation lose 1 % of their messages, and TCP's resends of
/// those (each about the round trip plus 200 ms, doubling) are drawn: the round trips end at
/// least at `16 x (RTT + 100 ms)` after the pull starts (times the noise) and, with 32 messages
/// at 1 %, seldom a second later; 10 s (times the noise) bounds them as the lossy-route test
/// does. The pull's end is checked between `want` at the earliest end of the round trips and
/// `want` at that plus 10 s.
fn check_degraded_first_pulls(through_uplink: bool, repair: Option<u64>, want: impl Fn(f64, f64) -> f64) {
    let clean_s = mirror_with_degrade(through_uplink, None);
    let rtt = rtts(&clean_s);
    let clean = first_pulls(&run(&clean_s, 1, false).unwrap());
    let slow = first_pulls(&run(&mirror_with_degrade(through_uplink, Some(repair)), 1, false).unwrap());
    let bits = 51e6 * 8.0;
    let mut compared = 0;
    for n in 0..4 {
        let (Some((s0, e0)), Some((s1, e1))) = (clean[n], slow[n]) else {
            continue;
        };
        let (took0, took1) = (e0 - s0, e1 - s1);
        if n >= 2 {
            assert!(
                (took0 - took1).abs() < 1e-9,
                "vlan30 node {n} does not cross the degraded tunnel: {took0} s against {took1} s"
            );
        } else {
            let factor = took0 / (16.0 * rtt[n] + bits / 100e6);
            let earliest = s1 + factor * 16.0 * (rtt[n] + 0.1);
            let (lo, hi) = (want(earliest, factor), want(earliest + factor * 10.0, factor));
            assert!(
                e1 >= lo - 1e-6 && e1 <= hi + 1e-6,
                "vlan20 node {n}: the degraded first pull ended at {e1:.3} s (started {s1:.3} s), want {lo:.3} to {hi:.3} s; clean it took {took0:.3} s"
            );
        }
        compared += 1;
    }
    assert_eq!(compared, 4, "one pod per node");
}

/// The TCP segment through a tunnel: OpenVPN's default `--mssfix 1450` less its 40 bytes of
/// overhead inside UDP and the 40 of the IP and TCP headers (`models::vpn::clamped_mtu`), where
/// the tun MTU alone would give 1,460.
const TUNNEL_MSS: f64 = 1370.0;

/// Two connections' Mathis rate on vlan20's route to the mirror under the degradation: RTT
/// 1.24 ms + 2 x 50 ms, 1 % loss, 1,370-byte segments: about 2.6 Mbit/s.
fn degraded_rate() -> f64 {
    let rtt = rtts(&mirror_with_degrade(false, None))[0];
    2.0 * models::registry::tcp_rate_under_loss(TUNNEL_MSS, rtt + 0.1, 0.01)
}

/// A `degrade` with loss in force over the whole download holds a first pull's layers to what
/// two TCP connections move at the degraded round trip and loss (Mathis: about 2.6 Mbit/s, so
/// about 155 s for 51 MB, where the clean route's 100 Mbit/s take 4 s); vlan30's pulls, whose
/// route does not cross the tunnel, are untouched.
#[test]
fn a_lossy_degradation_over_the_whole_download_holds_it_to_tcps_rate() {
    let rate = degraded_rate();
    assert!((rate / 1e6 - 2.63).abs() < 0.05, "{} Mbit/s", rate / 1e6);
    let bits = 51e6 * 8.0;
    for through_uplink in [false, true] {
        check_degraded_first_pulls(through_uplink, None, |rt_end, factor| rt_end + factor * bits / rate);
    }
}

/// A degradation repaired halfway through the download holds it to Mathis's rate until the
/// repair and no longer: the layers left then come at the node's 100 Mbit/s. Repaired at 40 s,
/// vlan20's downloads (starting a few seconds in) move about 90 Mbit at 2.6 Mbit/s and the
/// rest in about 3 s: they end near 43 s, not at 155 s, nor at 10 s.
#[test]
fn a_degradation_repaired_during_the_download_holds_it_only_until_the_repair() {
    let (slow, fast, repair) = (degraded_rate(), 100e6, 40.0);
    let bits = 51e6 * 8.0;
    let piecewise = |rt_end: f64, factor: f64| {
        let b = factor * bits;
        assert!(
            rt_end + 10.0 < repair && rt_end + b / slow > repair,
            "the repair at {repair} s must fall during the download (round trips end at {rt_end:.2} s)"
        );
        repair + (b - slow * (repair - rt_end)) / fast
    };
    for through_uplink in [false, true] {
        check_degraded_first_pulls(through_uplink, Some(40), piecewise);
    }
}

/// The rate windows of a node's pull follow the degradations on its route, and only those: a
/// lossy degradation of vlan10-vlan20 from 5 s to 30 s gives node01 (vlan20) one window, at
/// Mathis's rate for the degraded RTT and loss, from the fault's start to its repair; node03
/// (vlan30) does not cross that tunnel, and the degradation of the one it crosses has no loss,
/// on a route without loss: it gets none (without loss Mathis's rate is unbounded, and only the
/// round trips are slowed).
#[test]
fn a_pulls_rate_windows_follow_the_degradations_on_its_route() {
    use models::registry::OverlayRegistry;
    use sim_core::{SimDuration, SimTime};
    let mut s = mirror_with_degrade(false, None);
    s.faults.push(degrade_from_vlan10("vlan20", 50, 1.0, 5, Some(30)));
    s.faults.push(degrade_from_vlan10("vlan30", 80, 0.0, 5, Some(30)));
    let net = Network::build(&s, &["mirror"]).unwrap();
    let reg = OverlayRegistry::new(&s, &net, "mirror").unwrap();
    let node01 = reg.pull_from(&s, &net, net.host("node01").unwrap()).unwrap();
    let at = |x: u64| SimTime::ZERO + SimDuration::from_secs(x);
    let w = node01.download_windows.windows();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!((w[0].0, w[0].1), (at(5), at(30)));
    assert!((w[0].2 / degraded_rate() - 1.0).abs() < 1e-12, "{} bit/s", w[0].2);
    let node03 = reg.pull_from(&s, &net, net.host("node03").unwrap()).unwrap();
    assert!(node03.download_windows.is_empty(), "{:?}", node03.download_windows);
}
