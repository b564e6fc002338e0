//! The apiservers' max-in-flight filter (v1.16 `--max-requests-inflight`,
//! `--max-mutating-requests-inflight`): what it counts, whom it refuses with `429`, and what the
//! refused clients do.

use models::cluster::run;
use models::units::Dur;

use crate::fixture::cell;

/// At the thesis's scale no apiserver comes near its limits: a few requests at a time, none
/// refused. (A planner's thousand kubelets failing over to two masters do reach 200 mutating
/// requests: `docs/model.md`.)
#[test]
fn the_thesis_stays_far_below_the_in_flight_limits() {
    let out = run(&cell(100, 500), 1, false).unwrap();
    assert_eq!(out.in_flight.len(), 3);
    for f in &out.in_flight {
        assert_eq!(f.refused, 0, "{f:?}");
        assert!(f.peak_read_only < 40 && f.peak_mutating < 20, "{f:?}");
    }
    // The load spreads over the three apiservers, and each held something.
    assert!(out.in_flight.iter().all(|f| f.peak_mutating > 0), "{:?}", out.in_flight);
}

/// Writes that hold their apiserver 50 ms (a slow etcd disk) with room for two at a time: the
/// filter refuses the rest with `429`, the clients come back a second later through their
/// limiters, no apiserver ever counts more than its limit (kubectl, in `system:masters`, is let
/// in beyond it uncounted), and every pod still runs, later than without the limit.
#[test]
fn a_full_apiserver_refuses_with_429_and_every_pod_still_runs_later() {
    let slow = || {
        let mut s = cell(40, 100);
        s.kubernetes.etcd.fsync = Dur::millis(50);
        s
    };
    let mut limited = slow();
    limited.kubernetes.apiserver.max_mutating_requests_inflight = 2;
    let mut unlimited = slow();
    unlimited.kubernetes.apiserver.max_mutating_requests_inflight = 0;
    let (mut with, mut without) = (0.0, 0.0);
    for seed in 0..3 {
        let out = run(&limited, seed, false).unwrap();
        let refused: u64 = out.in_flight.iter().map(|f| f.refused).sum();
        assert!(refused > 0, "seed {seed}: {:?}", out.in_flight);
        assert!(
            out.in_flight.iter().all(|f| f.peak_mutating <= 2),
            "seed {seed}: {:?}",
            out.in_flight
        );
        with += out.startup_exact_s.expect("every pod runs");
        let free = run(&unlimited, seed, false).unwrap();
        assert!(free.in_flight.iter().all(|f| f.refused == 0), "{:?}", free.in_flight);
        assert!(
            free.in_flight.iter().any(|f| f.peak_mutating > 2),
            "{:?}",
            free.in_flight
        );
        without += free.startup_exact_s.unwrap();
    }
    assert!(
        with > without,
        "with the limit {with:.1} s, without {without:.1} s (3 runs)"
    );
}

/// A status PATCH or GET refused ten times is client-go's error: the status manager gives the
/// sync up until the next one (the trace names why), as it does for a lost connection.
#[test]
fn a_status_sync_refused_ten_times_fails_to_the_next_sync() {
    let mut s = cell(20, 100);
    // One write at a time per apiserver, each holding it 2 s: most writes are refused for
    // longer than client-go's ten tries a second apart.
    s.kubernetes.etcd.fsync = Dur::millis(2_000);
    s.kubernetes.apiserver.max_mutating_requests_inflight = 1;
    s.kubernetes.apiserver.max_requests_inflight = 1;
    let out = run(&s, 1, true).unwrap();
    let trace = out.trace.expect("traced");
    let failed = trace
        .records()
        .iter()
        .filter(|r| r.track.thread == "status manager" && r.name.ends_with("failed: 429 too many requests"))
        .count();
    assert!(failed > 0, "no status sync failed on 429s");
    let syncs_failed = out
        .waits
        .iter()
        .find(|w| w.name.starts_with("kubelet status syncs failed"))
        .expect("the failures are reported");
    assert!(
        syncs_failed.count >= failed as u64,
        "{syncs_failed:?} vs {failed} traced"
    );
}
