//! Common random numbers: a pod's draws (Docker) depend on the run seed, its node and itself, a
//! pull's on the run seed, its node and its place in the node's pulls, not on what else happened
//! in the run ([`models::draws`]). Two runs with the same seed at different delays differ by
//! what the delay does, not by reshuffled Docker and pull times.

use models::cluster::run;

use crate::fixture::{cell, pulls_by_node};

#[test]
fn a_nodes_pulls_take_the_same_times_in_the_same_order_whatever_the_delay() {
    // 60 pods: 15 per node, so that a longer delay adds status syncs (and, before keyed draws,
    // draws of the status goroutine between the pods' Docker and pull draws) and changes when
    // the pods reach their image check (the first pod on a node waits for the Secret's LIST).
    let mut reordered = 0;
    for seed in [1, 2, 3, 4] {
        let near = run(&cell(60, 100), seed, false).unwrap();
        let far = run(&cell(60, 500), seed, false).unwrap();
        assert_ne!(
            near.startup_exact_s, far.startup_exact_s,
            "seed {seed}: the delay changed nothing, so the test shows nothing"
        );
        for p in near.pods.iter().chain(&far.pods) {
            // A failed attempt's place would not show: only a pod's last pull is recorded.
            assert_eq!(p.pull_failures, 0, "seed {seed}: pod {} failed a pull", p.pod);
        }
        let (a, b) = (pulls_by_node(&near), pulls_by_node(&far));
        assert_eq!(a.len(), 4);
        for (node, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x.len(), y.len(), "seed {seed}: node {node} holds other pods");
            for (n, ((p, s), (q, t))) in x.iter().zip(y).enumerate() {
                assert!(
                    (s - t).abs() < 1e-6,
                    "seed {seed}: node {node}'s pull {n} took {s} s at 100 ms (pod {p}), {t} s at 500 ms (pod {q})"
                );
                reordered += usize::from(p != q);
            }
        }
    }
    // Keyed by the pod, a pod taken in another place would bring its own time with it.
    assert!(reordered > 0, "no pull changed places: the test shows nothing");
}

/// A pull the kubelet's registry limiter refuses (`--registry-qps 5`, burst 10: it fails before
/// Docker is asked) draws nothing and takes no place in the node's pulls. With a registry 2 ms
/// away the cached pulls come faster than the limiter allows: against the same runs without
/// the limiter (`--registry-qps 0`), the refused pods wait out their back-off and come later,
/// but the pulls Docker made still take the same times in the same order.
#[test]
fn a_pull_the_registry_limiter_refuses_takes_no_place_in_the_nodes_pulls() {
    let near_registry = |qps: f64| {
        let mut s = cell(60, 100);
        s.runtime.registry_rtt = models::units::Dur::millis(2);
        s.kubernetes.kubelet.registry_qps = qps;
        s
    };
    for seed in [1, 2] {
        let free = run(&near_registry(0.0), seed, false).unwrap();
        let limited = run(&near_registry(5.0), seed, false).unwrap();
        assert!(
            free.pods.iter().all(|p| p.pull_failures == 0),
            "seed {seed}: no limiter, no failure"
        );
        let refused = limited.pods.iter().filter(|p| p.pull_failures > 0).count();
        assert!(
            refused > 0,
            "seed {seed}: the limiter refused no pull, so the test shows nothing"
        );
        // Each pod's recorded pull is its last, the one Docker made: a node's pulls in order.
        let (a, b) = (pulls_by_node(&free), pulls_by_node(&limited));
        for (node, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x.len(), y.len(), "seed {seed}: node {node} holds other pods");
            for (n, ((_, s), (_, t))) in x.iter().zip(y).enumerate() {
                assert!(
                    (s - t).abs() < 1e-6,
                    "seed {seed}: node {node}'s pull {n} took {s} s without the limiter, {t} s with it"
                );
            }
        }
    }
}

/// The apiserver keys a request's service time by its client's name, not by the client's place
/// among the run's components: uplinks so wide that they never bind add components ahead of the
/// kubelets and change nothing else, so every pod runs at the same instant with and without them.
#[test]
fn components_that_change_nothing_leave_every_draw_as_it_was() {
    for seed in [1, 4] {
        let plain = cell(40, 300);
        let mut wide = plain.clone();
        for site in &mut wide.sites {
            site.uplink = Some(models::units::Bandwidth { bits_per_s: 1e12 });
        }
        let (a, b) = (run(&plain, seed, false).unwrap(), run(&wide, seed, false).unwrap());
        for (p, q) in a.pods.iter().zip(&b.pods) {
            assert_eq!(p.pod, q.pod);
            let (x, y) = (p.running.unwrap(), q.running.unwrap());
            assert!(
                (x - y).abs() < 1e-6,
                "seed {seed}: pod {} Running at {x} s without uplinks, {y} s with them",
                p.pod
            );
        }
    }
}

/// Netem's jitter is drawn per message, keyed by the message (a call's request or reply, a
/// watch event), not from its sender's stream in the order messages go: a degradation that
/// slows only vlan30's tunnel reorders the control plane's messages to vlan30, and leaves
/// vlan20's pods, whose own messages draw what they drew, running at the same instants (before,
/// every reply and watch event after the first reordered one drew another number).
#[test]
fn jitter_drawn_per_message_leaves_the_pods_a_fault_does_not_reach_as_they_were() {
    let mut base = cell(16, 100);
    base.netem.jitter = models::units::Dur::millis(20);
    let mut slowed = base.clone();
    slowed.faults.push(models::spec::Fault::Degrade {
        a: "vlan10".into(),
        b: "vlan30".into(),
        delay: models::units::Dur::millis(300),
        jitter: models::units::Dur::default(),
        loss_pct: 0.0,
        at: models::units::Dur::secs(0),
        repair: None,
    });
    for seed in [1, 2, 3] {
        let (a, b) = (run(&base, seed, false).unwrap(), run(&slowed, seed, false).unwrap());
        let vlan30_later = a
            .pods
            .iter()
            .filter(|p| p.node.is_some_and(|n| n >= 2))
            .filter(|p| b.pods.iter().any(|q| q.pod == p.pod && q.watched > p.watched))
            .count();
        assert!(
            vlan30_later >= 4,
            "seed {seed}: the degradation slowed {vlan30_later} vlan30 pods, so the test shows little"
        );
        let (mut same, mut vlan20) = (0, 0);
        for p in a.pods.iter().filter(|p| p.node.is_some_and(|n| n < 2)) {
            let q = b.pods.iter().find(|q| q.pod == p.pod).unwrap();
            if q.node != p.node {
                continue;
            }
            vlan20 += 1;
            same += usize::from(q.watched == p.watched);
        }
        assert!(vlan20 >= 6, "seed {seed}: {vlan20} vlan20 pods compared");
        assert!(
            same * 10 >= vlan20 * 9,
            "seed {seed}: only {same} of {vlan20} vlan20 pods ran at the same instant"
        );
    }
}
