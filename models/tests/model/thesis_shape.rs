//! How added delay reaches pod start-up in the thesis scenario with default (uncalibrated)
//! parameters: the table's shape, and the round trips that make it.

use models::cluster::run;
use models::spec::{NetemPlacement, Scenario};

use crate::fixture::cell;

/// The thesis cell with the delay placed as given, and v1.16.3's hostNetwork status resync
/// (`kubernetes.kubelet.host_network_status_resync`) on or off.
fn scenario(pods: u32, delay_ms: u64, placement: NetemPlacement, resync: bool) -> Scenario {
    let mut s = cell(pods, delay_ms);
    s.netem.placement = placement;
    s.kubernetes.kubelet.host_network_status_resync = resync;
    s
}

fn mean_startup(s: impl Fn() -> Scenario, reps: u64) -> f64 {
    let total: f64 = (0..reps)
        .map(|r| {
            run(&s(), sim_core::rng::replication_seed(7, r), false)
                .unwrap()
                .startup_exact_s
                .unwrap()
        })
        .sum();
    total / reps as f64
}

/// Mean change from 100 to 500 ms over `reps` paired replications. A pair shares its seed, but
/// the delay reorders events and so the draws: a pair's difference still varies (about 0.5 s SD
/// at 4 pods), hence 40 replications where the tests look at fractions of a second.
fn delta(pods: u32, placement: NetemPlacement, resync: bool, reps: u64) -> f64 {
    mean_startup(|| scenario(pods, 500, placement, resync), reps)
        - mean_startup(|| scenario(pods, 100, placement, resync), reps)
}

/// The thesis's shape with every default: from 100 to 500 ms, 4 pods change by a few seconds
/// (no more than the last pod's own 4 crossings, 1.6 s, its Secret LIST's 0.9 s and one
/// resync batch's 4 s), 100 pods by several times as much, absolutely and relatively.
#[test]
fn with_defaults_delay_matters_little_at_4_pods_and_more_at_100() {
    let default = models::spec::Netem::default().placement;
    let base_small = mean_startup(|| scenario(4, 100, default, true), 40);
    let base_large = mean_startup(|| scenario(100, 100, default, true), 3);
    let small = delta(4, default, true, 40);
    let large = delta(100, default, true, 3);
    assert!(small < 1.6 + 0.9 + 4.0, "4 pods: +{small:.2} s on {base_small:.1} s");
    assert!(small / base_small < 0.15, "4 pods: +{small:.2} s on {base_small:.1} s");
    assert!(large > 4.0 * small, "100 pods: +{large:.2} s vs 4 pods: +{small:.2} s");
    assert!(
        large / base_large > 3.0 * small / base_small,
        "100 pods: +{large:.2} s on {base_large:.1} s; 4 pods: +{small:.2} s on {base_small:.1} s"
    );
}

/// At 4 pods, without the hostNetwork resyncs, the delay reaches start-up only through the last
/// pod's own round trips. With the delay in one direction, the kubelet's watch event and the
/// reply to the status manager's GET cross it once each (2 x 400 ms), and the reply to the
/// token Secret's LIST once, which `WaitForAttachAndMount` sees at its next 300 ms poll: at
/// 0.3 s after the pod was added with 100 ms, at 0.6 s with 500 ms (+0.3 s). In both
/// directions, 4 crossings (1.6 s) and a LIST of 1.0 s round trip, seen at 1.2 s (+0.9 s).
#[test]
fn at_4_pods_delay_adds_the_last_pods_own_trips() {
    let one_way = delta(4, NetemPlacement::MastersEgress, false, 40);
    assert!((one_way - 1.1).abs() < 0.25, "masters-egress: +{one_way:.2} s");
    // The other way: the Secret LIST's request, the status GET's request and the PATCH.
    let back = delta(4, NetemPlacement::WorkersEgress, false, 40);
    assert!((back - 1.1).abs() < 0.25, "workers-egress: +{back:.2} s");
    let both = delta(4, NetemPlacement::Both, false, 40);
    assert!((both - 2.5).abs() < 0.35, "both: +{both:.2} s");
}

/// Without the token Secret volume (`automountServiceAccountToken: false`) the LIST is not
/// made and the volume wait is gone: the same cell starts earlier, by the LIST's share.
#[test]
fn without_the_token_volume_the_first_pods_do_not_wait_for_the_secret_list() {
    let with = mean_startup(|| scenario(4, 500, NetemPlacement::Both, false), 20);
    let without = mean_startup(
        || {
            let mut s = scenario(4, 500, NetemPlacement::Both, false);
            s.kubernetes.kubelet.token_secret_volume = false;
            s
        },
        20,
    );
    // The volume wait is 1.2 s at 500 ms both ways (the LIST's round trip, then the poll).
    assert!(
        (with - without - 1.2).abs() < 0.4,
        "with {with:.2} s, without {without:.2} s"
    );
}

/// With v1.16.3's resync of the two hostNetwork pods (4 calls every 10 s on the status
/// goroutine), the last pod's Running status sometimes waits behind a batch: the delay adds
/// more than the pod's own trips, and at most one batch's 4 round trips (2 s one way, 4 s both).
#[test]
fn at_4_pods_the_host_network_resyncs_add_a_wait_behind_their_batch() {
    for (placement, batch_s) in [(NetemPlacement::MastersEgress, 2.0), (NetemPlacement::Both, 4.0)] {
        let off = delta(4, placement, false, 40);
        let on = delta(4, placement, true, 40);
        assert!(
            on > off + 0.1 && on < off + batch_s,
            "{placement:?}: +{on:.2} s vs +{off:.2} s"
        );
    }
}

/// At 100 pods with delay in both directions, each status update's GET and PATCH cost a full
/// delayed round trip on the kubelet's single status goroutine; at 500 ms that chain (2 calls x
/// 1 s per status, plus the hostNetwork resyncs) outlasts the node's pulls (about 1.6 s apart
/// with default parameters) and becomes the critical path. With the delay in one direction the
/// chain needs half as long and keeps up, so the delay adds little more than at 4 pods.
#[test]
fn at_100_pods_the_status_manager_carries_the_delay_only_when_it_saturates() {
    let both = delta(100, NetemPlacement::Both, true, 3);
    let one_way = delta(100, NetemPlacement::MastersEgress, true, 3);
    assert!(both > 10.0, "both: +{both:.2} s");
    assert!(
        one_way < both / 4.0,
        "masters-egress: +{one_way:.2} s, both: +{both:.2} s"
    );
}

/// The total of the run's wait report whose name starts with `name`, over `count` waits, in one
/// replication of `s`.
fn wait_report(s: &Scenario, name: &str, count: u64) -> f64 {
    let out = run(s, sim_core::rng::replication_seed(7, 0), false).unwrap();
    let w = out.waits.iter().find(|w| w.name.starts_with(name)).unwrap();
    assert_eq!(w.count, count, "{w:?}");
    w.total_s
}

/// The same at the goroutine itself: the time Running statuses wait for it (the run's wait
/// report) grows with the delay by far more than the delay's share of the round trips.
#[test]
fn the_status_goroutine_queue_is_where_the_delay_goes_at_100_pods() {
    let wait = |delay_ms| {
        let s = scenario(100, delay_ms, NetemPlacement::Both, true);
        wait_report(&s, "kubelet status goroutines", 100)
    };
    let (short, long) = (wait(100), wait(500));
    assert!(
        long > 100.0 * short.max(0.1),
        "100 ms: {short:.1} s, 500 ms: {long:.1} s"
    );
}

/// The volume wait of a node's first pod is the token Secret's LIST round trip, seen by the
/// 300 ms mount poll: one way 0.1 s / 0.5 s round trips at 100 / 500 ms, seen at 0.3 / 0.6 s;
/// both ways 0.2 s / 1.0 s, seen at 0.3 / 1.2 s. With one pod per node every pod is a first pod.
#[test]
fn the_volume_wait_is_the_secret_list_rounded_up_to_the_mount_poll() {
    let per_pod = |placement, delay_ms| {
        let s = scenario(4, delay_ms, placement, true);
        wait_report(&s, "kubelet volume managers", 4) / 4.0
    };
    for (placement, at_100, at_500) in [
        (NetemPlacement::MastersEgress, 0.3, 0.6),
        (NetemPlacement::Both, 0.3, 1.2),
    ] {
        let (a, b) = (per_pod(placement, 100), per_pod(placement, 500));
        assert!(
            (a - at_100).abs() < 1e-6 && (b - at_500).abs() < 1e-6,
            "{placement:?}: {a} s, {b} s"
        );
    }
}
