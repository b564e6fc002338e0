//! How added delay reaches pod start-up in the thesis scenario with default (uncalibrated)
//! parameters.

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

/// At 4 pods the delay reaches start-up only through the last pod's own round trips: the
/// kubelet's watch event and the Running status's GET reply cross the delayed direction once
/// each, so 100 -> 500 ms adds about 2 x 400 ms, well under 2 s.
#[test]
fn at_4_pods_delay_adds_two_one_way_trips() {
    let d =
        mean_startup(4, 500, NetemPlacement::MastersEgress, 3) - mean_startup(4, 100, NetemPlacement::MastersEgress, 3);
    assert!((d - 0.8).abs() < 0.25, "4 pods: +{d:.2} s");
}

/// At 100 pods with delay in both directions, each status update's GET and PATCH cost a full
/// delayed round trip on the kubelet's single status goroutine; at 500 ms that chain (25 pods x
/// 2 updates x 2 calls x 1 s) outlasts the node's pod starts and becomes the critical path, so
/// the delay adds far more than at 4 pods.
#[test]
fn at_100_pods_the_status_manager_carries_the_delay() {
    let small = mean_startup(4, 500, NetemPlacement::Both, 2) - mean_startup(4, 100, NetemPlacement::Both, 2);
    let large = mean_startup(100, 500, NetemPlacement::Both, 2) - mean_startup(100, 100, NetemPlacement::Both, 2);
    assert!(large > small + 5.0, "100 pods +{large:.2} s vs 4 pods +{small:.2} s");
}
