//! How added delay reaches pod start-up in the thesis scenario with default (uncalibrated)
//! parameters: the table's shape, and the round trips that make it.

use models::cluster::run;
use models::spec::NetemPlacement;

use crate::fixture::cell;

fn mean_startup(pods: u32, delay_ms: u64, placement: NetemPlacement, reps: u64) -> f64 {
    let total: f64 = (0..reps)
        .map(|r| {
            let mut s = cell(pods, delay_ms);
            s.netem.placement = placement;
            run(&s, sim_core::rng::replication_seed(7, r), false)
                .unwrap()
                .startup_exact_s
                .unwrap()
        })
        .sum();
    total / reps as f64
}

fn delta(pods: u32, placement: NetemPlacement) -> f64 {
    mean_startup(pods, 500, placement, 3) - mean_startup(pods, 100, placement, 3)
}

/// The thesis's shape with every default: from 100 to 500 ms, 4 pods change by under 2 s and
/// 100 pods by more.
#[test]
fn with_defaults_delay_matters_little_at_4_pods_and_more_at_100() {
    let default = models::spec::Netem::default().placement;
    let small = delta(4, default);
    let large = delta(100, default);
    assert!(small.abs() < 2.0, "4 pods: +{small:.2} s");
    assert!(large > small + 2.0, "100 pods: +{large:.2} s vs 4 pods: +{small:.2} s");
}

/// At 4 pods the delay reaches start-up only through the last pod's own round trips. With the
/// delay in one direction, the kubelet's watch event and the reply to the status manager's GET
/// cross it once each: 2 x 400 ms. In both directions, 4 crossings.
#[test]
fn at_4_pods_delay_adds_the_last_pods_own_trips() {
    let one_way = delta(4, NetemPlacement::MastersEgress);
    assert!((one_way - 0.8).abs() < 0.25, "masters-egress: +{one_way:.2} s");
    let both = delta(4, NetemPlacement::Both);
    assert!((both - 1.6).abs() < 0.35, "both: +{both:.2} s");
}

/// At 100 pods with delay in both directions, each status update's GET and PATCH cost a full
/// delayed round trip on the kubelet's single status goroutine; at 500 ms that chain (2 calls x
/// 1 s per pod) outlasts the node's pulls (about 1.6 s apart with default parameters) and becomes
/// the critical path. With the delay in one direction the chain needs 1 s per pod and keeps up,
/// so only the last pod's own trips count, as at 4 pods.
#[test]
fn at_100_pods_the_status_manager_carries_the_delay_only_when_it_saturates() {
    let both = delta(100, NetemPlacement::Both);
    let one_way = delta(100, NetemPlacement::MastersEgress);
    assert!(both > 10.0, "both: +{both:.2} s");
    assert!(one_way < 2.0, "masters-egress: +{one_way:.2} s");
}
