//! Bad flag values: exit code 2, a message naming the problem, no panic, nothing on stdout.

use crate::support::{assert_exit, run, stderr, usage_error};

#[test]
fn phold_probability_out_of_range() {
    usage_error(&["bench", "phold", "--remote", "1.5"], &["remote", "1.5", "[0, 1]"]);
}

#[test]
fn phold_zero_processes() {
    usage_error(&["bench", "phold", "--lps", "0"], &["--lps", "'0'"]);
}

#[test]
fn phold_non_positive_mean() {
    usage_error(&["bench", "phold", "--mean", "0", "--events", "10"], &["mean", "> 0"]);
}

/// A negative pod count is a pod count out of range, not an unknown argument (clap took `-1`
/// for a flag).
#[test]
fn a_negative_pod_count_is_named_as_one() {
    usage_error(
        &["run", "thesis-2019", "--pods", "-1"],
        &["--pods", "-1 is not in 1..="],
    );
    usage_error(
        &["plan", "thesis-2019", "--pods", "-3"],
        &["--pods", "-3 is not in 1..="],
    );
    usage_error(
        &["sweep", "thesis-2019", "--pods", "-4"],
        &["--pods", "`-4` is not a pod count"],
    );
    usage_error(
        &["measure", "--kubeconfig", "k", "--pods", "-2", "--out", "o.csv"],
        &["--pods", "-2 is not in 1..="],
    );
}

#[test]
fn delay_without_a_unit() {
    usage_error(&["run", "thesis-2019", "--delay", "100"], &["--delay", "unit", "100"]);
}

/// What the flags change is checked like the scenario itself, and the message names the flag.
#[test]
fn a_delay_or_fault_time_of_more_than_30_days() {
    usage_error(
        &["run", "thesis-2019", "--delay", "721h"],
        &["--delay", "`netem.delay`", "more than 30 days"],
    );
    usage_error(
        &["run", "thesis-2019", "--fault", "crash master02 at 721h"],
        &["--fault 'crash master02 at 721h': `at`:", "more than 30 days"],
    );
}

/// A `--fault` that overlaps a fault of the scenario file (or another `--fault`) names each as
/// the user wrote it: the flag by its text, the file's fault by its file and line, for `run`
/// and `sweep` alike.
#[test]
fn a_fault_flag_that_overlaps_the_files_fault_names_both() {
    let t = crate::support::TempDir::new("fault-overlap");
    let thesis = topologies::load::builtin("thesis-2019").unwrap();
    let line = thesis.lines().count() + 2;
    let path = t.file("fa.toml");
    std::fs::write(
        &path,
        format!("{thesis}\n[[faults]]\nkind = \"crash\"\nhost = \"master02\"\nat = \"5s\"\n"),
    )
    .unwrap();
    let file_fault = format!("the scenario file's faults[0] ({path}, line {line})");
    let err = usage_error(
        &["run", &path, "--reps", "2", "--fault", "crash master02 at 6s"],
        &["--fault 'crash master02 at 6s': `at`: it overlaps ", &file_fault],
    );
    assert!(!err.contains("faults[1]"), "{err}");
    usage_error(
        &[
            "sweep",
            &path,
            "--pods",
            "4",
            "--reps",
            "2",
            "--fault",
            "crash master02 at 6s",
            "--out",
            &t.file("s"),
        ],
        &["--fault 'crash master02 at 6s': `at`: it overlaps ", &file_fault],
    );
    usage_error(
        &[
            "run",
            "thesis-2019",
            "--fault",
            "crash master03 at 6s",
            "--fault",
            "crash  master03 at 7s",
        ],
        &["--fault 'crash  master03 at 7s': `at`: it overlaps --fault 'crash master03 at 6s', which"],
    );
    // A parameter file that writes faults replaces the scenario's: its fault is named, in it
    // (a review found the scenario file's line of a fault the parameter file had replaced).
    let params = t.file("pf.toml");
    std::fs::write(
        &params,
        "# faults\n[[faults]]\nkind = \"crash\"\nhost = \"master03\"\nat = \"5s\"\n",
    )
    .unwrap();
    let params_fault = format!("the parameter file's faults[0] ({params}, line 2)");
    for scenario in [path.as_str(), "thesis-2019"] {
        usage_error(
            &[
                "run",
                scenario,
                "--params",
                &params,
                "--reps",
                "2",
                "--fault",
                "crash master03 at 6s",
            ],
            &["--fault 'crash master03 at 6s': `at`: it overlaps ", &params_fault],
        );
    }
}

#[test]
fn a_generated_link_delay_of_hours() {
    usage_error(
        &[
            "generate",
            "uniform",
            "--nodes",
            "4",
            "--sites",
            "2",
            "--out",
            "/nonexistent/x.toml",
            "--wan-delay",
            "721h",
        ],
        &["--wan-delay", "721h", "more than 10 s"],
    );
}

#[test]
fn zero_pods() {
    usage_error(&["run", "thesis-2019", "--pods", "0"], &["--pods", "'0'"]);
}

#[test]
fn zero_replications() {
    usage_error(&["run", "thesis-2019", "--reps", "0"], &["--reps", "'0'"]);
}

#[test]
fn unknown_format() {
    usage_error(&["run", "thesis-2019", "--format", "xml"], &["--format", "xml"]);
}

#[test]
fn unknown_scenario() {
    usage_error(&["run", "no-such-scenario"], &["no-such-scenario", "thesis-2019"]);
    usage_error(&["reach", "no-such-scenario"], &["no-such-scenario"]);
}

#[test]
fn unknown_subcommand_and_flag() {
    usage_error(&["frobnicate"], &["frobnicate"]);
    usage_error(&["run", "thesis-2019", "--no-such-flag"], &["--no-such-flag"]);
    // No subcommand: the help, on stderr, with exit code 2.
    let out = run(&[]);
    assert_exit(&out, 2, "kubetwin");
    assert!(stderr(&out).contains("Usage: kubetwin <COMMAND>"), "{}", stderr(&out));
}

#[test]
fn measure_without_kubeconfig() {
    usage_error(&["measure", "--pods", "4", "--out", "x.csv"], &["--kubeconfig"]);
}

#[test]
fn measure_with_zero_pods_or_runs() {
    usage_error(
        &["measure", "--kubeconfig", "kc", "--pods", "0", "--out", "x.csv"],
        &["--pods", "'0'"],
    );
    usage_error(
        &[
            "measure",
            "--kubeconfig",
            "kc",
            "--pods",
            "4",
            "--runs",
            "0",
            "--out",
            "x.csv",
        ],
        &["--runs", "'0'"],
    );
}

#[test]
fn measure_with_a_kubeconfig_that_does_not_exist() {
    usage_error(
        &[
            "measure",
            "--kubeconfig",
            "/nonexistent/kubetwin-kubeconfig",
            "--pods",
            "4",
            "--out",
            "x.csv",
        ],
        &["--kubeconfig", "/nonexistent/kubetwin-kubeconfig", "no such file"],
    );
    let dir = std::env::temp_dir();
    usage_error(
        &[
            "measure",
            "--kubeconfig",
            dir.to_str().unwrap(),
            "--pods",
            "4",
            "--out",
            "x.csv",
        ],
        &["--kubeconfig", "a directory, not a kubeconfig file"],
    );
    // A device (or a pipe) exists but serves one kubectl call at most.
    if std::path::Path::new("/dev/null").exists() {
        usage_error(
            &["measure", "--kubeconfig", "/dev/null", "--pods", "4", "--out", "x.csv"],
            &[
                "--kubeconfig /dev/null: not a regular file",
                "kubectl config view --raw > kubeconfig",
            ],
        );
    }
}

#[test]
fn measure_with_a_run_timeout_of_zero() {
    usage_error(
        &[
            "measure",
            "--kubeconfig",
            "/nonexistent/k",
            "--pods",
            "4",
            "--out",
            "x.csv",
            "--run-timeout",
            "0s",
        ],
        &["--run-timeout", "no time at all"],
    );
}

#[test]
fn measure_with_a_bad_namespace_prefix_or_image() {
    let kubeconfig = env!("CARGO_MANIFEST_DIR").to_string() + "/Cargo.toml";
    let base = ["measure", "--kubeconfig", &kubeconfig, "--pods", "4", "--out", "x.csv"];
    let with = |extra: &[&'static str]| {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    usage_error(
        &with(&["--namespace-prefix", "Kubetwin_"]),
        &["--namespace-prefix", "Kubetwin_"],
    );
    usage_error(&with(&["--image", "a b"]), &["--image", "a b"]);
}

/// The raw rows' file is named after the summary's, so summaries not named `*.csv` could share
/// one (`x` and `x.csv` both wrote `x.pods.csv`), and `x.pods.csv` is `x.csv`'s raw file.
#[test]
fn measure_into_a_summary_not_named_csv() {
    let kubeconfig = env!("CARGO_MANIFEST_DIR").to_string() + "/Cargo.toml";
    for out in ["x", "x.txt", "x.pods.csv", "dir/x.csv.bak"] {
        usage_error(
            &["measure", "--kubeconfig", &kubeconfig, "--pods", "4", "--out", out],
            &["--out", out, "ending in .csv but not in .pods.csv"],
        );
    }
}

#[test]
fn measure_into_a_missing_directory() {
    let kubeconfig = env!("CARGO_MANIFEST_DIR").to_string() + "/Cargo.toml";
    usage_error(
        &[
            "measure",
            "--kubeconfig",
            &kubeconfig,
            "--pods",
            "4",
            "--out",
            "/nonexistent/kubetwin/cells.csv",
        ],
        &["--out", "/nonexistent/kubetwin", "does not exist"],
    );
}

#[test]
fn unknown_netem_placement_for_calibrate() {
    usage_error(
        &[
            "calibrate",
            "--data",
            "cells.csv",
            "--scenario",
            "thesis-2019",
            "--out",
            "p.toml",
            "--placement",
            "diagonal",
        ],
        &["--placement", "diagonal", "masters-egress, workers-egress or both"],
    );
}

/// An output that names one of the command's inputs is refused before anything runs, and the input
/// is left as it was.
#[test]
fn an_output_that_is_an_input_is_refused() {
    let t = crate::support::TempDir::new("out-is-input");
    let data = t.path().join("cells.csv");
    let text = "pods,delay_ms,mean_s,runs,resolution_s\n4,100,24.9,5,1\n4,500,25.5,5,1\n";
    std::fs::write(&data, text).unwrap();
    let link = t.path().join("link.csv");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let d = data.to_str().unwrap();
    let l = link.to_str().unwrap();
    usage_error(
        &["calibrate", "--data", d, "--scenario", "thesis-2019", "--out", l],
        &["--out", "the file --data reads"],
    );
    usage_error(
        &["validate", "--data", d, "--scenario", "thesis-2019", "--plot", d],
        &["--plot", "the file --data reads"],
    );
    usage_error(
        &["plot", d, "--x", "delay_ms", "--y", "mean_s", "--out", l],
        &["--out", "the file the plot reads"],
    );
    assert_eq!(std::fs::read_to_string(&data).unwrap(), text);
    // A command that writes into a directory: none of its files may be an input there.
    let dir = t.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let scenario = crate::support::THESIS_TOML;
    let params = "[runtime]\nregistry_rtt = \"200ms\"\n";
    std::fs::write(dir.join("plan.md"), scenario).unwrap();
    std::fs::write(dir.join("plan.json"), params).unwrap();
    std::fs::write(dir.join("results.csv"), scenario).unwrap();
    let o = dir.to_str().unwrap();
    let md = dir.join("plan.md");
    let json = dir.join("plan.json");
    let csv = dir.join("results.csv");
    usage_error(
        &[
            "plan",
            md.to_str().unwrap(),
            "--pods",
            "4",
            "--reps",
            "1",
            "--out-dir",
            o,
        ],
        &["--out-dir", "plan.md is the file the scenario argument reads"],
    );
    usage_error(
        &[
            "plan",
            "thesis-2019",
            "--params",
            json.to_str().unwrap(),
            "--pods",
            "4",
            "--reps",
            "1",
            "--out-dir",
            o,
        ],
        &["plan.json is the file --params reads"],
    );
    usage_error(
        &["sweep", csv.to_str().unwrap(), "--pods", "4", "--reps", "1", "--out", o],
        &["--out", "results.csv is the file the scenario argument reads"],
    );
    assert_eq!(std::fs::read_to_string(&md).unwrap(), scenario);
    assert_eq!(std::fs::read_to_string(&json).unwrap(), params);
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), scenario);
    // A shard writes its own files.
    let shard_csv = dir.join("shard-1-of-2.csv");
    std::fs::write(&shard_csv, scenario).unwrap();
    usage_error(
        &[
            "sweep",
            shard_csv.to_str().unwrap(),
            "--pods",
            "4,8",
            "--reps",
            "1",
            "--shard",
            "1/2",
            "--out",
            o,
        ],
        &["shard-1-of-2.csv is the file the scenario argument reads"],
    );
    assert_eq!(std::fs::read_to_string(&shard_csv).unwrap(), scenario);
    // A figure is SVG text: a name that says otherwise is refused before any work.
    let png = t.path().join("fig.png");
    usage_error(
        &[
            "plot",
            d,
            "--x",
            "delay_ms",
            "--y",
            "mean_s",
            "--out",
            png.to_str().unwrap(),
        ],
        &[
            "--out",
            "fig.png: the figure is written as SVG, so its name must end in .svg",
        ],
    );
    usage_error(
        &[
            "validate",
            "--data",
            d,
            "--scenario",
            "thesis-2019",
            "--plot",
            png.to_str().unwrap(),
        ],
        &["--plot", "must end in .svg"],
    );
    assert!(!png.exists());
    // A device takes the SVG whatever its name.
    if std::path::Path::new("/dev/null").exists() {
        let out = run(&["plot", d, "--x", "delay_ms", "--y", "mean_s", "--out", "/dev/null"]);
        assert!(!stderr(&out).contains("must end in .svg"), "{}", stderr(&out));
    }
}

/// A size the workers' --max-pods cannot hold is refused up front by every command that sets the
/// size, naming the flag (it would only time out).
#[test]
fn more_pods_than_the_workers_hold() {
    let holds = "4 workers x (110 max_pods - 2 DaemonSet pods) hold 432";
    usage_error(&["run", "thesis-2019", "--pods", "433"], &["--pods", holds]);
    usage_error(&["plan", "thesis-2019", "--pods", "1000"], &["--pods", holds]);
    let t = crate::support::TempDir::new("no-room");
    let out = t.path().join("sw");
    usage_error(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "100",
            "--set",
            "kubernetes.kubelet.max_pods=30,20",
            "--out",
            out.to_str().unwrap(),
        ],
        &["--pods 100 --set kubernetes.kubelet.max_pods=20", "hold 72"],
    );
    assert!(!out.exists(), "nothing is written for a refused sweep");
}

/// `generate`: an empty name and an output in a directory that does not exist are usage
/// errors, before anything is generated.
#[test]
fn generate_refuses_an_empty_name_and_a_missing_directory() {
    let base = ["generate", "uniform", "--nodes", "3", "--sites", "3", "--out"];
    usage_error(
        &[&base[..], &["/tmp/kubetwin-never/g.toml"]].concat(),
        &["--out /tmp/kubetwin-never/g.toml: the directory /tmp/kubetwin-never does not exist"],
    );
    usage_error(
        &[
            "generate", "uniform", "--nodes", "3", "--sites", "3", "--out", "g.toml", "--name", " ",
        ],
        &["--name", "cannot be empty"],
    );
}

/// An input the command cannot use exits with 2 like a bad flag, whichever command reads it:
/// a missing or unreadable file, a directory given for a file, a file given for a directory.
/// Without clap's pointer to `--help`: the message says what is wrong with the file.
#[test]
fn inputs_that_cannot_be_used_exit_with_2() {
    let t = crate::support::TempDir::new("bad-inputs");
    let file = t.file("afile");
    std::fs::write(&file, "not a sweep\n").unwrap();
    let dir = t.file("");
    let svg = t.file("x.svg");
    let cases: [&[&str]; 5] = [
        &[
            "plot",
            "/nonexistent/results.csv",
            "--x",
            "pods",
            "--y",
            "mean_s",
            "--out",
            &svg,
        ],
        &["plot", &dir, "--x", "pods", "--y", "mean_s", "--out", &svg],
        &["merge", &file, "--out", &t.file("merged")],
        &["run", "/nonexistent/scenario.toml"],
        &[
            "validate",
            "--data",
            "/nonexistent/cells.csv",
            "--scenario",
            "thesis-2019",
        ],
    ];
    for args in cases {
        let out = run(args);
        assert_exit(&out, 2, &format!("{args:?}"));
        let e = stderr(&out);
        assert!(!e.contains("--help"), "{args:?}: {e}");
    }
}

/// Small slips get the message that fixes them: `validate` with neither data file names both
/// (`--raw` alone is enough); a fault in capitals says the keywords are lower-case; a scenario
/// name with a line break is refused before it reaches a report.
#[test]
fn slips_are_named_for_what_fixes_them() {
    usage_error(&["validate", "--scenario", "thesis-2019"], &["--data", "--raw"]);
    usage_error(
        &["run", "thesis-2019", "--fault", "CRASH LB AT 1S"],
        &["the keywords are lower-case"],
    );
    let t = crate::support::TempDir::new("slips");
    let out = t.file("x.toml");
    usage_error(
        &[
            "generate", "uniform", "--nodes", "4", "--sites", "2", "--name", "a\nb", "--out", &out,
        ],
        &["control character"],
    );
    assert!(!std::path::Path::new(&out).exists());
}

/// Raw rows whose start-ups read 0 s are refused as a summary file's cell below one tick is,
/// naming the run, instead of compared into an infinite error.
#[test]
fn raw_rows_the_clock_did_not_resolve_are_refused() {
    let t = crate::support::TempDir::new("raw-zero");
    let raw = t.file("raw.csv");
    std::fs::write(
        &raw,
        "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n\
         1,a,n1,0,2,0,0,0.5,0.6\n\
         1,b,n2,0,2,0,0,0,0\n",
    )
    .unwrap();
    usage_error(
        &["validate", "--raw", &raw, "--scenario", "thesis-2019", "--reps", "2"],
        &["raw.csv", "cell pods=2 delay_ms=0", "run 1 read 0 s", "one tick"],
    );
}

/// A file one past its kind's size cap (sparse, so it is made and refused at once), and an
/// endless device, are refused with the cap and what such a file weighs (exit 2) rather than
/// read until the process is killed.
#[test]
fn inputs_larger_than_their_cap_are_refused() {
    const MIB: u64 = 1 << 20;
    let dir = crate::support::TempDir::new("too-large");
    let big = |name: &str, bytes: u64| {
        let path = dir.file(name);
        std::fs::File::create(&path).unwrap().set_len(bytes + 1).unwrap();
        path
    };
    let toml = big("big.toml", 256 * MIB);
    usage_error(
        &["check", &toml],
        &["big.toml", "larger than 256 MiB; a scenario is a few KiB"],
    );
    usage_error(
        &["run", "thesis-2019", "--params", &toml],
        &[
            "big.toml",
            "larger than 256 MiB; a parameter file is a few hundred bytes",
        ],
    );
    let csv = big("sites.csv", 64 * MIB);
    usage_error(
        &["generate", "consortium", "--sites", &csv, "--out", &dir.file("g.toml")],
        &[
            "sites.csv",
            "larger than 64 MiB; a sites CSV has one short line per site",
        ],
    );
    let data = big("data.csv", 1024 * MIB);
    usage_error(
        &["validate", "--data", &data, "--scenario", "thesis-2019"],
        &["data.csv", "larger than 1 GiB; a measurement CSV is a few MiB"],
    );
    let results = big("results.csv", 1024 * MIB);
    usage_error(
        &["plot", &results, "--out", &dir.file("f.svg")],
        &[
            "results.csv",
            "larger than 1 GiB; a sweep's results are about a KiB per point",
        ],
    );
    if std::path::Path::new("/dev/zero").exists() {
        usage_error(&["check", "/dev/zero"], &["/dev/zero", "larger than 256 MiB"]);
    }
}

/// A netem loss with its `%` given thrice, a distribution without a delay to shape, and a
/// blank `--netem` are refused (they were taken as 5 %, ignored, and ignored).
#[test]
fn netem_typos_and_blanks_are_refused() {
    usage_error(
        &["run", "thesis-2019", "--fault", "degrade vlan10 vlan20 loss 5%%% at 0s"],
        &["--fault", "expected a loss like `0.1%`, got `5%%%`"],
    );
    usage_error(
        &["run", "thesis-2019", "--netem", "distribution normal"],
        &["`distribution` shapes the jitter of a delay, and no `delay` is given"],
    );
    for blank in ["", "   "] {
        usage_error(
            &["run", "thesis-2019", "--netem", blank],
            &["--netem", "no netem arguments; expected them as tc writes them"],
        );
    }
}
