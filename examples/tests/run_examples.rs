//! Every example runs, at a small size, and says what it should.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("example runs");
    assert!(
        out.status.success(),
        "{bin} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn thesis_example_compares_the_measured_cells() {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/thesis-2019/pod-startup-calibration.csv"
    );
    let out = run(env!("CARGO_BIN_EXE_thesis"), &["--data", data, "--reps", "3"]);
    assert!(out.contains("MAPE"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.trim_start().starts_with("100 ")).count(),
        2,
        "{out}"
    );
}

#[test]
fn latency_sweep_example_prints_one_row_per_point() {
    let out = run(
        env!("CARGO_BIN_EXE_latency_sweep"),
        &["--pods", "4,8", "--delay-ms", "0,250", "--reps", "3"],
    );
    assert_eq!(out.lines().count(), 1 + 4, "{out}");
    assert!(out.starts_with("pods,delay_ms,reps,mean_s"));
}

#[test]
fn fault_drill_example_reports_failover() {
    let out = run(env!("CARGO_BIN_EXE_fault_drill"), &["--pods", "8"]);
    assert!(out.contains("HAProxy marked the server down"), "{out}");
    assert!(out.contains("etcd committed no write from"), "{out}");
    assert!(out.contains("etcd (simulated): 1 leaders elected"), "{out}");
    assert_eq!(out.matches("pods Running after").count(), 4, "{out}");
}
