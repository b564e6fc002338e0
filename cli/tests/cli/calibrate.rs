//! `kubetwin calibrate` end to end (short fits: the optimizer's own tests are in the validate
//! crate).

use crate::support::{assert_exit, run, TempDir};

/// The parameter file's "Regenerate:" line holds every flag that changed the fit, so that
/// running it gives the same file.
#[test]
fn calibrate_records_every_flag_that_changes_the_fit() {
    let t = TempDir::new("cal-regen");
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/thesis-2019/pod-startup-calibration.csv"
    );
    let out = t.file("p.toml");
    let args = [
        "calibrate",
        "--data",
        data,
        "--scenario",
        "thesis-2019",
        "--out",
        &out,
        "--reps",
        "2",
        "--max-iters",
        "3",
        "--placement",
        "both",
        "--no-cross-validation",
    ];
    let o = run(&args);
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
