//! Numeric safety: each extreme either works or is rejected with a message naming the field.

use models::cluster;
use sim_core::SimDuration;

fn error_of(overlay: &str) -> String {
    let (base, _) = topologies::load::by_name_or_path("thesis-2019").unwrap();
    topologies::params::apply(&base, overlay, "n.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn a_run_of_years_is_rejected_before_the_clock_overflows() {
    let e = error_of("[workload]\ntimeout = \"100000h\"\n");
    assert!(
        e.contains("workload.timeout") && e.contains("E015") && e.contains("line 2"),
        "{e}"
    );
    // u64 nanoseconds hold 584 years; a duration beyond 1e9 s is refused by the unit parser.
    let e = error_of("[workload]\ntimeout = \"1e12s\"\n");
    assert!(e.contains("too large") && e.contains("line 2"), "{e}");
}

#[test]
fn zero_capacities_and_zero_qps_are_rejected() {
    for (overlay, field) in [
        ("[runtime]\nslots = 0\n", "runtime.slots"),
        ("[kubernetes.apiserver]\nworkers = 0\n", "kubernetes.apiserver.workers"),
        (
            "[kubernetes.kubelet]\nkube_api_qps = 0.0\n",
            "kubernetes.kubelet.kube_api_qps",
        ),
        (
            "[kubernetes.controller_manager]\nkube_api_burst = 0\n",
            "kubernetes.controller_manager.kube_api_burst",
        ),
    ] {
        let e = error_of(overlay);
        assert!(e.contains(field) && e.contains("line 2"), "{field}: {e}");
    }
}

#[test]
fn a_delay_longer_than_the_run_finishes_nothing_and_says_so() {
    let (s, _) = topologies::load::by_name_or_path("thesis-2019").unwrap();
    let mut s = cluster::with_overrides(&s, Some(2), Some(SimDuration::from_secs(5000)));
    s.workload.timeout = models::units::Dur::secs(600);
    let out = cluster::run(&s, 1, false).unwrap();
    assert!(out.startup_exact_s.is_none());
    assert!(out.sim_end_s <= 600.0 + 1e-9);
}

#[test]
fn huge_but_legal_numbers_run() {
    let (s, _) = topologies::load::by_name_or_path("thesis-2019").unwrap();
    let mut s = cluster::with_overrides(&s, Some(4), None);
    s.kubernetes.kubelet.kube_api_qps = 1e9;
    s.kubernetes.kubelet.kube_api_burst = u32::MAX;
    s.runtime.slots = 1_000_000;
    let out = cluster::run(&s, 1, false).unwrap();
    assert!(out.startup_exact_s.is_some());
}
