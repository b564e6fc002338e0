//! Reported start-up intervals never go below 0 s. Two replications far apart give a symmetric
//! Student-t interval that reaches below 0 (`[0, 84.7]` here, `[-29.7, 84.7]` unclamped); every command that reports a
//! start-up interval shows its lower bound clamped at 0, and keeps the upper bound.
//!
//! All four use seed 5: `run`, `sweep`, `validate` and `plan` seed replication `r` of any cell
//! alike (`replication_seed(seed, r)`), so the same two replications show in each.
//!
//! Each case checks that it is exercised: the symmetric interval, `2 * mean - hi`, would have
//! been negative. If a model change makes it positive, pick another seed.

use std::path::Path;

use crate::support::{num, run_json, run_ok, TempDir};

/// `(lo, hi)` of a JSON `[lo, hi]`.
fn pair(v: &serde_json::Value) -> (f64, f64) {
    let a = v.as_array().unwrap_or_else(|| panic!("not an interval: {v}"));
    (a[0].as_f64().unwrap(), a[1].as_f64().unwrap())
}

/// Asserts that `(lo, hi)` around `mean` was clamped: it would have reached below 0.
fn assert_clamped(what: &str, mean: f64, (lo, hi): (f64, f64)) {
    assert!(
        2.0 * mean - hi < 0.0,
        "{what}: not exercised (mean {mean}, hi {hi}): pick another seed"
    );
    assert_eq!(lo, 0.0, "{what}: [{lo}, {hi}] around {mean}");
}

#[test]
fn run_clamps_the_ci_and_the_pi() {
    let v = run_json(&[
        "run",
        "thesis-2019",
        "--pods",
        "4",
        "--reps",
        "2",
        "--seed",
        "5",
        "--format",
        "json",
    ]);
    let mean = num(&v, "/startup_s/mean");
    assert_clamped("run ci95", mean, pair(&v["startup_s"]["ci95"]));
    assert_clamped("run pi95", mean, pair(&v["startup_s"]["pi95_of_measured_mean"]));
}

#[test]
fn sweep_clamps_the_ci_in_its_results() {
    let t = TempDir::new("intervals-sweep");
    let out = t.file("s");
    run_ok(&[
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--reps",
        "2",
        "--seed",
        "5",
        "--out",
        &out,
    ]);
    let csv = std::fs::read_to_string(Path::new(&out).join("results.csv")).unwrap();
    let mut lines = csv.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    // Empty cells (etcd's columns, not simulated here) read as NaN.
    let row: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|x| if x.is_empty() { f64::NAN } else { x.parse().unwrap() })
        .collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_clamped(
        "sweep startup_ci95",
        col("startup_mean_s"),
        (col("startup_ci95_lo_s"), col("startup_ci95_hi_s")),
    );
}

#[test]
fn validate_clamps_the_ci_and_the_pi() {
    let t = TempDir::new("intervals-validate");
    let data = t.file("cells.csv");
    std::fs::write(&data, "pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n").unwrap();
    let v = run_json(&[
        "validate",
        "--data",
        &data,
        "--scenario",
        "thesis-2019",
        "--reps",
        "2",
        "--seed",
        "5",
        "--format",
        "json",
    ]);
    let c = &v["cells"][0];
    let mean = num(c, "/simulated_s");
    assert_clamped("validate ci95", mean, pair(&c["ci95"]));
    assert_clamped("validate pi95", mean, pair(&c["pi95"]));
}

#[test]
fn plan_clamps_the_ci_of_the_time() {
    let t = TempDir::new("intervals-plan");
    let out_dir = t.file("p");
    run_ok(&[
        "plan",
        "thesis-2019",
        "--pods",
        "4",
        "--reps",
        "2",
        "--seed",
        "5",
        "--out-dir",
        &out_dir,
    ]);
    let md = std::fs::read_to_string(Path::new(&out_dir).join("plan.md")).unwrap();
    let cell = |prefix: &str| -> String {
        let line = md
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}:\n{md}"));
        line[prefix.len()..].split(" |").next().unwrap().to_owned()
    };
    let mean: f64 = cell("| **mean** | **").trim_end_matches(" s**").parse().unwrap();
    let ci = cell("| 95 % CI of the mean | ");
    let (lo, hi) = ci
        .trim_start_matches('[')
        .trim_end_matches("] s")
        .split_once(", ")
        .map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap()))
        .unwrap_or_else(|| panic!("{ci}"));
    assert_clamped("plan CI", mean, (lo, hi));
    assert!(!md.contains("[-"), "{md}");
}
