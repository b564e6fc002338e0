//! `kubetwin validate`: verdicts without an interval, data cells it must refuse, output checked
//! before the simulation.

use crate::support::{run_json, run_ok, usage_error, TempDir};

/// A small cells file (two cells at 4 pods) in `t`.
fn cells(t: &TempDir, rows: &str) -> String {
    let path = t.file("cells.csv");
    std::fs::write(&path, format!("pods,delay_ms,mean_s,runs,resolution_s\n{rows}")).unwrap();
    path
}

/// With `--reps 1` there is no CI or PI: the verdict says n/a (it used to say "measured mean
/// outside: more than its noise" for every cell) and the JSON gives null, not false.
#[test]
fn one_replication_gives_no_verdict() {
    let t = TempDir::new("validate-reps1");
    let data = cells(&t, "4,100,24.9,5,1\n4,500,25.5,5,1\n");
    let base = ["validate", "--data", &data, "--scenario", "thesis-2019", "--reps", "1"];
    let table = run_ok(&base);
    assert!(!table.contains("measured mean outside"), "{table}");
    assert_eq!(
        table.matches("inside or outside: n/a (needs 2 replications)").count(),
        2,
        "{table}"
    );
    let v = run_json(&[&base[..], &["--format", "json"]].concat());
    for c in v["cells"].as_array().expect("cells") {
        for key in ["ci95", "pi95", "measured_in_ci", "measured_in_pi"] {
            assert!(c[key].is_null(), "{key} in {c}");
        }
    }
    // With two replications the verdict is a boolean again.
    let v = run_json(&[
        "validate",
        "--data",
        &data,
        "--scenario",
        "thesis-2019",
        "--reps",
        "2",
        "--format",
        "json",
    ]);
    assert!(v["cells"][0]["measured_in_pi"].is_boolean(), "{v}");
}

/// The one `shape:` line of a validate table.
fn shape_line(table: &str) -> String {
    let lines: Vec<&str> = table.lines().filter(|l| l.starts_with("shape:")).collect();
    assert_eq!(lines.len(), 1, "{table}");
    lines[0].to_owned()
}

/// Cells that cannot show the shape (one cell; cells at one pod count) get one line saying
/// so, with the delay effect they do give; the shape line used to read "delay effect at 4 pods
/// measured n/a simulated n/a; at 4 pods measured n/a ...". The JSON says `testable: false`.
#[test]
fn cells_that_cannot_show_the_shape_say_so_in_one_line() {
    let t = TempDir::new("validate-shape");
    let single = cells(&t, "4,100,24.9,5,1\n");
    let base = [
        "validate",
        "--data",
        &single,
        "--scenario",
        "thesis-2019",
        "--reps",
        "2",
    ];
    let line = shape_line(&run_ok(&base));
    assert_eq!(
        line,
        "shape: not testable with these cells: it compares the delay effect (start-up at the largest delay both pod \
         counts share less at the smallest) at the fewest and the most pods, so it needs the same two delays at \
         both, observed alike, and every cell is at 4 pods"
    );
    let v = run_json(&[&base[..], &["--format", "json"]].concat());
    assert_eq!(v["shape"]["testable"], false, "{v}");
    assert!(
        v["shape"]["holds"].is_null() && v["shape"]["measured_delta_many_s"].is_null(),
        "{v}"
    );
    let two_delays = cells(&t, "4,100,24.9,5,1\n4,500,25.5,5,1\n");
    let base = [
        "validate",
        "--data",
        &two_delays,
        "--scenario",
        "thesis-2019",
        "--reps",
        "2",
    ];
    let line = shape_line(&run_ok(&base));
    assert!(
        line.contains("and every cell is at 4 pods; delay effect at 4 pods (100 to 500 ms) measured +0.6 s simulated ")
            && !line.contains("n/a")
            && line.matches("4 pods").count() == 2,
        "{line}"
    );
    let v = run_json(&[&base[..], &["--format", "json"]].concat());
    assert_eq!(v["shape"]["testable"], false, "{v}");
    assert!(v["shape"]["measured_delta_few_s"].is_number(), "{v}");
    assert!(
        v["shape"]["measured_delta_many_s"].is_null() && v["shape"]["paired"] == false,
        "{v}"
    );
}

/// A clock finer than 1 ms (E017's floor on workload.resolution) is refused at its line and
/// column; it used to simulate NaN start-ups and report a max error of 0 % with exit 0.
#[test]
fn a_resolution_under_1_ms_is_refused() {
    let t = TempDir::new("validate-resolution");
    let data = cells(&t, "4,100,24.9,5,1e-10\n");
    usage_error(
        &["validate", "--data", &data, "--scenario", "thesis-2019", "--reps", "2"],
        &[&format!("{data}:2: column `resolution_s`"), "at least 0.001"],
    );
}

/// A delay beyond 30 days (E015) is refused at its line and column; it used to run until
/// workload.timeout and blame the scenario, with no line.
#[test]
fn a_delay_over_30_days_is_refused() {
    let t = TempDir::new("validate-delay");
    let data = cells(&t, "4,100,24.9,5,1\n4,2592000001,24.9,5,1\n");
    let err = usage_error(
        &["validate", "--data", &data, "--scenario", "thesis-2019", "--reps", "2"],
        &[&format!("{data}:3: column `delay_ms`"), "2592000000 (30 days"],
    );
    assert!(!err.contains("timeout"), "{err}");
}

/// `--plot` is checked before the cells are simulated: a directory there used to be found after
/// the simulation, and the comparison was never printed.
#[test]
fn a_plot_path_that_cannot_be_written_is_refused_up_front() {
    let t = TempDir::new("validate-plot");
    let data = cells(&t, "4,100,24.9,5,1\n");
    let sub = t.file("vdir");
    std::fs::create_dir(&sub).unwrap();
    let base = ["validate", "--data", &data, "--scenario", "thesis-2019", "--reps", "2"];
    usage_error(&[&base[..], &["--plot", &sub]].concat(), &["--plot", "is a directory"]);
    let missing = t.file("nonexistent/v.svg");
    usage_error(
        &[&base[..], &["--plot", &missing]].concat(),
        &["--plot", "does not exist"],
    );
}

/// A cell with more pods than the scenario's workers hold is refused before anything runs,
/// naming the data file and the cell, in validate and in calibrate alike.
#[test]
fn a_cell_the_workers_cannot_hold_is_named_with_its_file() {
    let t = TempDir::new("val-fit");
    let data = cells(&t, "4,100,24.9,5,1\n100000,100,900,5,1\n");
    let needles = [
        data.as_str(),
        "the cell of 100000 pods at 100 ms cannot run on scenario thesis-2019",
    ];
    usage_error(&["validate", "--data", &data, "--scenario", "thesis-2019"], &needles);
    let out = t.file("p.toml");
    usage_error(
        &["calibrate", "--data", &data, "--scenario", "thesis-2019", "--out", &out],
        &needles,
    );
}

/// The JSON object issue 4 names: `cells` (each with `pods`, `delay_ms`, `measured_s`,
/// `simulated_s`, `ci95`, `error_pct`), `mape_pct` and `max_abs_error_pct`, whose figures agree
/// with one another (error = simulated against measured; MAPE and max over the cells).
#[test]
fn the_json_object_has_the_keys_scripts_read() {
    let t = TempDir::new("validate-json-keys");
    let data = cells(&t, "4,100,24.9,5,1\n4,500,25.5,5,1\n");
    let v = run_json(&[
        "validate",
        "--data",
        &data,
        "--scenario",
        "thesis-2019",
        "--reps",
        "3",
        "--format",
        "json",
    ]);
    let cells = v["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 2, "{v}");
    let mut errors = Vec::new();
    for (c, (pods, delay, measured)) in cells.iter().zip([(4, 100, 24.9), (4, 500, 25.5)]) {
        assert_eq!(c["pods"], pods, "{c}");
        assert_eq!(c["delay_ms"], delay, "{c}");
        assert_eq!(c["measured_s"], measured, "{c}");
        let simulated = c["simulated_s"].as_f64().expect("simulated_s");
        let ci: Vec<f64> = c["ci95"]
            .as_array()
            .expect("ci95")
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!(ci.len() == 2 && ci[0] <= simulated && simulated <= ci[1], "{c}");
        let error = c["error_pct"].as_f64().expect("error_pct");
        assert!((error - 100.0 * (simulated - measured) / measured).abs() < 1e-6, "{c}");
        errors.push(error.abs());
    }
    let mape = v["mape_pct"].as_f64().expect("mape_pct");
    let max = v["max_abs_error_pct"].as_f64().expect("max_abs_error_pct");
    assert!((mape - (errors[0] + errors[1]) / 2.0).abs() < 1e-6, "{v}");
    assert!((max - errors[0].max(errors[1])).abs() < 1e-6, "{v}");
}

/// `thesis-2019` without `--params` runs with the shipped calibration: its source names the
/// file, and its figures are those of `--params` given that file, not the scenario's own
/// starting values.
#[test]
fn the_built_in_thesis_runs_with_its_shipped_calibration() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../topologies/params/thesis-2019.toml");
    let t = TempDir::new("validate-shipped");
    let none = t.file("none.toml");
    std::fs::write(&none, "").unwrap();
    let base = [
        "run",
        "thesis-2019",
        "--pods",
        "4",
        "--delay",
        "500ms",
        "--reps",
        "3",
        "--format",
        "json",
    ];
    let by_default = run_json(&base);
    assert!(
        by_default["source"]
            .as_str()
            .is_some_and(|s| s.ends_with("topologies/params/thesis-2019.toml (shipped)")),
        "{}",
        by_default["source"]
    );
    let given = run_json(&[&base[..], &["--params", shipped]].concat());
    let own_values = run_json(&[&base[..], &["--params", &none]].concat());
    assert_eq!(by_default["startup_exact_s"], given["startup_exact_s"]);
    assert_ne!(by_default["startup_exact_s"], own_values["startup_exact_s"]);
}

/// A measured delay on a scenario whose netem no worker's route crosses (one site: no tunnel)
/// would be compared with a run without it: validate and calibrate refuse the cell, naming it
/// and why; `run --delay` and `sweep --delay` run it with a warning.
#[test]
fn a_delay_the_scenario_cannot_apply_is_refused() {
    let t = crate::support::TempDir::new("validate-no-tunnel");
    let one = t.file("one.toml");
    crate::support::run_ok(&["generate", "uniform", "--nodes", "3", "--sites", "1", "--out", &one]);
    let data = t.file("cells.csv");
    std::fs::write(
        &data,
        "pods,delay_ms,mean_s,runs,resolution_s\n2,0,20,5,1\n2,500,22,5,1\n4,0,21,5,1\n",
    )
    .unwrap();
    let because = "the cell of 2 pods at 500 ms cannot be simulated on scenario one: netem (delay 500ms, jitter 0s, loss 0 %) sits on the OpenVPN tunnels between the near site s00 and every other site, and the scenario has one site, so there is no tunnel";
    crate::support::usage_error(
        &["validate", "--data", &data, "--scenario", &one, "--reps", "1"],
        &[because],
    );
    crate::support::usage_error(
        &[
            "calibrate",
            "--data",
            &data,
            "--scenario",
            &one,
            "--out",
            &t.file("p.toml"),
            "--reps",
            "1",
        ],
        &[because],
    );
    let warned = "warning: --delay: netem (delay 500ms, jitter 0s, loss 0 %) sits on the OpenVPN tunnels";
    let err = crate::support::stderr_of(&["run", &one, "--delay", "500ms", "--reps", "1"], 0);
    assert!(err.contains(warned), "{err}");
    let err = crate::support::stderr_of(
        &[
            "sweep",
            &one,
            "--delay",
            "0ms,500ms",
            "--reps",
            "1",
            "--out",
            &t.file("s"),
        ],
        0,
    );
    assert!(err.contains(warned), "{err}");
    // Without a delay there is nothing to warn of.
    let err = crate::support::stderr_of(&["run", &one, "--reps", "1"], 0);
    assert!(!err.contains("netem"), "{err}");
    // A --set axis that moves netem is checked combination by combination: on the thesis
    // testbed with netem between vlan10 and vlan30 only, near = vlan20 puts it on a tunnel
    // (vlan20-vlan30) that no route of the cluster takes.
    let text = crate::support::THESIS_TOML.replacen("[netem]\n", "[netem]\nnear = \"vlan10\"\nfar = [\"vlan30\"]\n", 1);
    assert_ne!(text, crate::support::THESIS_TOML);
    let nf = t.file("nf.toml");
    std::fs::write(&nf, text).unwrap();
    let err = crate::support::stderr_of(
        &[
            "sweep",
            &nf,
            "--pods",
            "4",
            "--delay",
            "0ms,500ms",
            "--set",
            "netem.near=vlan10,vlan20",
            "--reps",
            "1",
            "--out",
            &t.file("nf"),
        ],
        0,
    );
    assert!(
        err.contains("warning: --delay (at --set netem.near=vlan20): netem (delay 500ms"),
        "{err}"
    );
    assert!(!err.contains("netem.near=vlan10)"), "{err}");
}

/// Cells whose pod counts share no pair of delays (4 pods at 100 and 500 ms, 100 pods at 100
/// and 300 ms) are not compared, and the line gives both counts' effects with the delays each
/// spans, where it used to compare a 400-ms effect with a 200-ms one.
#[test]
fn unlike_delay_effects_are_shown_not_compared() {
    let t = crate::support::TempDir::new("validate-unlike");
    let data = t.file("cells.csv");
    std::fs::write(
        &data,
        "pods,delay_ms,mean_s,runs,resolution_s\n4,100,25,5,1\n4,500,26,5,1\n100,100,125,5,1\n100,300,128,5,1\n",
    )
    .unwrap();
    let line = shape_line(&run_ok(&[
        "validate",
        "--data",
        &data,
        "--scenario",
        "thesis-2019",
        "--reps",
        "2",
    ]));
    assert!(
        line.contains(
            "and 4 and 100 pods share fewer than two delays (4 pods at 100, 500 ms; 100 pods at 100, 300 ms)"
        ) && line.contains("; delay effect at 4 pods (100 to 500 ms) measured +1.0 s")
            && line.contains("; delay effect at 100 pods (100 to 300 ms) measured +3.0 s")
            && !line.contains("holds"),
        "{line}"
    );
}
