//! `kubetwin bench phold` and `bench raft`: the JSON reports.

use crate::support::{num, run_json, run_ok};

#[test]
fn phold_json_with_baseline() {
    let v = run_json(&[
        "bench",
        "phold",
        "--lps",
        "100",
        "--events-per-lp",
        "4",
        "--events",
        "20000",
        "--baseline",
        "--format",
        "json",
    ]);
    assert!(v.is_object(), "{v}");
    assert_eq!(num(&v, "/lps"), 100.0);
    assert_eq!(num(&v, "/events_per_lp"), 4.0);
    assert_eq!(num(&v, "/events"), 20000.0);
    for key in ["wall_s", "events_per_s", "baseline_events_per_s", "ratio"] {
        let x = num(&v, &format!("/{key}"));
        assert!(x.is_finite() && x > 0.0, "{key} = {x} in {v}");
    }
    let ratio = num(&v, "/events_per_s") / num(&v, "/baseline_events_per_s");
    assert!((ratio - num(&v, "/ratio")).abs() < 1e-9 * ratio, "{v}");
}

#[test]
fn phold_without_baseline_has_no_ratio() {
    let v = run_json(&["bench", "phold", "--lps", "10", "--events", "1000", "--format", "json"]);
    assert!(
        v.get("ratio").is_none() && v.get("baseline_events_per_s").is_none(),
        "{v}"
    );
    // The checksum depends on the seed only, not on the run.
    let again = run_json(&["bench", "phold", "--lps", "10", "--events", "1000", "--format", "json"]);
    assert_eq!(v["checksum"], again["checksum"]);
    assert_eq!(v["sim_end_s"], again["sim_end_s"]);
}

#[test]
fn phold_table() {
    let text = run_ok(&["bench", "phold", "--lps", "10", "--events", "1000", "--baseline"]);
    assert!(
        text.contains("engine") && text.contains("bare heap") && text.contains("ratio"),
        "{text}"
    );
}

/// Pods the workers cannot hold are refused with E021's message and exit 2, as `run` refuses
/// them; `bench scale` used to simulate six hours and report "all pods Running at never".
#[test]
fn scale_refuses_pods_the_workers_cannot_hold() {
    let holds = "1 worker x (110 max_pods - 2 DaemonSet pods) hold 108";
    let err = crate::support::usage_error(
        &["bench", "scale", "--nodes", "1", "--pods", "200", "--sites", "1"],
        &["--pods", holds],
    );
    let dir = crate::support::TempDir::new("bench-e021");
    let s = dir.file("one-node.toml");
    crate::support::run_ok(&["generate", "uniform", "--nodes", "1", "--sites", "1", "--out", &s]);
    let run_err = crate::support::usage_error(&["run", &s, "--pods", "200"], &["--pods", holds]);
    let message = |e: &str| e.lines().next().unwrap_or_default().to_owned();
    assert_eq!(message(&err), message(&run_err));
}

/// `bench raft`: the JSON report, the same run for the same seed, and bad paths refused.
#[test]
fn raft_json_is_deterministic_and_bad_input_exits_2() {
    let args = ["bench", "raft", "--hours", "2", "--loss", "3", "--format", "json"];
    let v = run_json(&args);
    assert_eq!(num(&v, "/members"), 3.0);
    assert!(num(&v, "/events") > 100_000.0, "{v}");
    assert!(num(&v, "/campaigns") > 0.0, "{v}");
    let (lo, hi) = (
        num(&v, "/depositions_per_hour_at_least"),
        num(&v, "/depositions_per_hour_at_most"),
    );
    assert!(lo <= hi && hi > 0.0, "{v}");
    let again = run_json(&args);
    for key in ["/events", "/campaigns", "/elections", "/stalled_s"] {
        assert_eq!(num(&v, key), num(&again, key), "{key}");
    }
    crate::support::usage_error(&["bench", "raft", "--loss", "200"], &["--loss", "0 to 100"]);
    // 100 % loss is a partition, refused as everywhere else; it used to report 0 leaders.
    for full in ["100", "100.0", "1e2"] {
        crate::support::usage_error(
            &["bench", "raft", "--loss", full],
            &["--loss", "that is a partition", "expected a loss below 100"],
        );
    }
    assert!(
        num(
            &run_json(&["bench", "raft", "--hours", "1", "--loss", "99.9", "--format", "json"]),
            "/members"
        ) == 3.0
    );
    // With no leader for most of the run, no deposition rate: it read "0.00 to 0.00" (found by
    // a robustness audit); with one, the rate is given.
    let lossy = crate::support::run_ok(&["bench", "raft", "--hours", "1", "--loss", "99.999"]);
    assert!(
        lossy.contains("no leader held for most of the run") && !lossy.contains("depositions of the leader per hour"),
        "{lossy}"
    );
    let fair = crate::support::run_ok(&["bench", "raft", "--hours", "1", "--loss", "3"]);
    assert!(
        fair.contains("depositions of the leader per hour") && !fair.contains("no leader held"),
        "{fair}"
    );
    crate::support::usage_error(&["bench", "raft", "--one-way", "5min"], &["--one-way", "60 s"]);
    crate::support::usage_error(
        &["bench", "raft", "--heartbeat", "1ns", "--election", "5ns"],
        &["at least 1ms"],
    );
    crate::support::usage_error(&["bench", "raft", "--members", "99"], &["--members"]);
    crate::support::usage_error(
        &["bench", "raft", "--heartbeat", "200ms", "--election", "500ms"],
        &["--election", "5 x the heartbeat"],
    );
}

/// PHOLD's times take a bare number of seconds, as before, or a duration with a unit, as every
/// other duration flag does (`--lookahead 0ms` was "invalid float literal"), and anything else is
/// said to be neither; too many pending events blame `--lps` when it is the one too large (they
/// blamed events-per-lp).
#[test]
fn phold_times_take_units_and_the_pending_bound_blames_lps() {
    let base = [
        "bench",
        "phold",
        "--lps",
        "10",
        "--events-per-lp",
        "2",
        "--events",
        "1000",
    ];
    let ok = |extra: &[&str]| run_json(&[&base[..], extra, &["--format", "json"]].concat());
    let v = ok(&["--lookahead", "0ms", "--mean", "500ms"]);
    assert_eq!(v["lookahead"], 0.0, "{v}");
    assert_eq!(v["mean"], 0.5, "{v}");
    assert_eq!(ok(&["--lookahead", "0.25"])["lookahead"], 0.25);
    crate::support::usage_error(
        &[&base[..], &["--lookahead", "soon"]].concat(),
        &["--lookahead", "seconds, as a number (e.g. 0.5)", "with a unit"],
    );
    let err = crate::support::usage_error(&["bench", "phold", "--lps", "1000000000"], &["`lps`"]);
    assert!(!err.contains("`events-per-lp`"), "{err}");
}
