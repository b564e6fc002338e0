//! `kubetwin calibrate` end to end (short fits: the optimizer's own tests are in the validate
//! crate).

use crate::support::{assert_exit, run, usage_error, TempDir};

/// The thesis corners, beside the checkout as CI lays it out.
const THESIS_CELLS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/thesis-2019/pod-startup-calibration.csv"
);

/// `kubetwin calibrate --data DATA --scenario thesis-2019 --out OUT` and `extra`.
fn calibrate<'a>(data: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["calibrate", "--data", data, "--scenario", "thesis-2019", "--out", out];
    args.extend_from_slice(extra);
    args
}

/// A parameter or placement named twice is refused before any file is read.
#[test]
fn a_parameter_or_placement_named_twice_is_a_usage_error() {
    for (flag, value) in [
        ("--free", "runtime.registry_rtt,runtime.registry_rtt"),
        ("--placement", "both,both"),
    ] {
        let repeated = value.split(',').next().unwrap();
        usage_error(
            &calibrate("/nonexistent/cells.csv", "/nonexistent/p.toml", &[flag, value]),
            &[flag, repeated, "twice"],
        );
    }
}

/// An output that cannot be written is found before the fit, not after it.
#[test]
fn an_output_in_a_missing_directory_is_refused_before_the_fit() {
    usage_error(
        &calibrate(THESIS_CELLS, "/nonexistent-dir/p.toml", &[]),
        &["--out", "/nonexistent-dir", "does not exist"],
    );
}

/// The parameter file's "Regenerate:" line holds every flag that changed the fit, so that
/// running it gives the same file.
#[test]
fn calibrate_records_every_flag_that_changes_the_fit() {
    let t = TempDir::new("cal-regen");
    let out = t.file("p.toml");
    let extra = [
        "--reps",
        "2",
        "--max-iters",
        "3",
        "--placement",
        "both",
        "--no-cross-validation",
    ];
    let o = run(&calibrate(THESIS_CELLS, &out, &extra));
    assert_exit(&o, 0, "calibrate");
    let text = std::fs::read_to_string(&out).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("# Regenerate:"))
        .expect("a Regenerate line");
    assert!(
        line.contains("--reps 2") && line.contains("--placement both") && line.contains("--max-iters 3"),
        "{line}"
    );
}
