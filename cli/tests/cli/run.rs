//! `kubetwin run`: the JSON report, determinism across runs and thread counts, seeds, CSV, the trace.

use crate::support::{assert_exit, kubetwin, num, run_json, run_ok, stderr, stderr_of, stdout, TempDir};

/// `run thesis-2019 --pods 4 --delay 100ms --reps REPS --format FORMAT EXTRA...`
fn cell_reps(reps: &str, format: &str, extra: &[&str]) -> Vec<String> {
    [
        "run",
        "thesis-2019",
        "--pods",
        "4",
        "--delay",
        "100ms",
        "--reps",
        reps,
        "--format",
        format,
    ]
    .iter()
    .chain(extra)
    .map(ToString::to_string)
    .collect()
}

/// The cell of the brief, with 3 replications.
fn cell(format: &str, extra: &[&str]) -> Vec<String> {
    cell_reps("3", format, extra)
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// stdout of `kubetwin ARGS` with `RAYON_NUM_THREADS` set to `threads`.
fn with_threads(a: &[&str], threads: &str) -> Vec<u8> {
    let out = kubetwin()
        .args(a)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("run kubetwin");
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

#[test]
fn json_report_has_the_documented_fields() {
    let v = run_json(&args(&cell("json", &[])));
    assert_eq!(v["scenario"], "thesis-2019");
    assert_eq!(num(&v, "/pods"), 4.0);
    assert_eq!(num(&v, "/delay_ms"), 100.0);
    assert_eq!(num(&v, "/reps"), 3.0);
    assert_eq!(num(&v, "/seed"), 1.0);
    let mean = num(&v, "/startup_s/mean");
    assert!(mean > 0.0 && mean < 600.0, "{v}");
    let ci = v["startup_s"]["ci95"].as_array().expect("ci95 is an array");
    assert_eq!(ci.len(), 2, "{v}");
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(lo <= mean && mean <= hi, "{lo} <= {mean} <= {hi}");
    // Where a 5-run measured mean should fall: around the CI, and wider (its spread is that of
    // 5 runs, not of the simulated mean).
    assert_eq!(num(&v, "/startup_s/measured_runs"), 5.0);
    let pi = v["startup_s"]["pi95_of_measured_mean"].as_array().expect("a PI");
    let (plo, phi) = (pi[0].as_f64().unwrap(), pi[1].as_f64().unwrap());
    assert!(plo <= lo && hi <= phi, "PI [{plo}, {phi}] around CI [{lo}, {hi}]");
    let samples: Vec<f64> = v["startup_s"]["samples"]
        .as_array()
        .expect("samples is an array")
        .iter()
        .map(|s| s.as_f64().expect("a number"))
        .collect();
    assert_eq!(samples.len(), 3, "{v}");
    assert!((samples.iter().sum::<f64>() / 3.0 - mean).abs() < 1e-9, "{v}");
    // kubectl -w shows whole seconds.
    assert!(samples.iter().all(|s| s.fract() == 0.0), "{samples:?}");
    let phases = v["phases"].as_object().expect("phases is an object");
    for p in ["create_to_schedule", "schedule_to_run", "run_to_watch", "pod_startup"] {
        assert!(
            phases.get(p).and_then(serde_json::Value::as_f64).is_some(),
            "phase {p} in {v}"
        );
    }
}

#[test]
fn same_command_same_bytes_whatever_the_thread_count() {
    let a = cell("json", &[]);
    let first = with_threads(&args(&a), "2");
    let second = with_threads(&args(&a), "2");
    assert_eq!(first, second, "two identical runs differ");
    let one_thread = with_threads(&args(&a), "1");
    assert_eq!(first, one_thread, "RAYON_NUM_THREADS=1 and =2 differ");
    let t = cell("table", &[]);
    assert_eq!(with_threads(&args(&t), "1"), with_threads(&args(&t), "2"));
    // Many pods per node and a long delay: sums over hundreds of per-pod waits (the status
    // goroutines' among them), which must not depend on a hash map's per-process order.
    let busy = [
        "run",
        "thesis-2019",
        "--pods",
        "100",
        "--delay",
        "500ms",
        "--reps",
        "2",
        "--format",
        "json",
    ];
    assert_eq!(
        with_threads(&busy, "2"),
        with_threads(&busy, "2"),
        "two busy runs differ"
    );
}

#[test]
fn another_seed_gives_other_samples() {
    let a = run_json(&args(&cell("json", &[])));
    let b = run_json(&args(&cell("json", &["--seed", "2"])));
    assert_eq!(num(&b, "/seed"), 2.0);
    assert_ne!(
        a["startup_s"]["samples"], b["startup_s"]["samples"],
        "seeds 1 and 2 gave the same samples"
    );
    // More replications extend the same sequence: replication r's seed depends on (seed, r) only.
    let c = run_json(&args(&cell_reps("4", "json", &[])));
    let three = a["startup_s"]["samples"].as_array().unwrap();
    let four = c["startup_s"]["samples"].as_array().unwrap();
    assert_eq!(&four[..3], &three[..], "{a}\n{c}");
}

#[test]
fn csv_has_one_row_per_replication() {
    let text = run_ok(&args(&cell("csv", &[])));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "scenario,pods,delay_ms,rep,rep_seed,startup_observed_s,startup_exact_s,events"
    );
    assert_eq!(lines.len(), 4, "{text}");
    for (r, line) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 8, "{line}");
        assert_eq!(
            (f[0], f[1], f[2], f[3]),
            ("thesis-2019", "4", "100", r.to_string().as_str())
        );
    }
}

#[test]
fn table_names_the_phases() {
    let text = run_ok(&args(&cell("table", &[])));
    for w in ["thesis-2019", "mean", "95% CI", "pod_startup", "schedule_to_run"] {
        assert!(text.contains(w), "table lacks {w}:\n{text}");
    }
}

#[test]
fn trace_is_chrome_json_with_complete_events() {
    let dir = TempDir::new("trace");
    let path = dir.file("trace.json");
    run_ok(&args(&cell_reps("1", "json", &["--trace", &path])));
    let text = std::fs::read_to_string(&path).expect("trace written");
    let v: serde_json::Value = serde_json::from_str(&text).expect("trace is JSON");
    let events = v["traceEvents"].as_array().expect("traceEvents is an array");
    let complete: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert!(!complete.is_empty(), "no \"X\" events in the trace");
    for e in &complete {
        assert!(e["name"].is_string(), "{e}");
        assert!(e["ts"].is_number() && e["dur"].is_number(), "{e}");
    }
    // Nothing but the trace is left in the directory (the write is atomic).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["trace.json"]);
}

/// `kubetwin run ... | head`: a reader that goes away early ends the run quietly (exit 141, as a
/// process killed by SIGPIPE), without a panic report.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = kubetwin()
        .args(["run", "thesis-2019", "--pods", "4", "--reps", "400", "--format", "csv"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(141), "{err}");
}

/// `kubetwin run ... > /dev/full`: a standard output that cannot be written (a full disk) is an
/// error with a message and exit code 1, not a panic (a review found exit 101 and a backtrace).
#[test]
#[cfg(target_os = "linux")]
fn an_unwritable_stdout_is_an_error_not_a_panic() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = kubetwin()
        .args(["run", "thesis-2019", "--pods", "4", "--reps", "1"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("error: cannot write to standard output"), "{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
}

/// After a fault, the kubelets' reconnections are summed up in one line once there are more
/// than a few (a consortium's hundred filled the screen), with every one kept in the JSON.
#[test]
fn many_kubelets_reconnecting_are_one_line() {
    let dir = TempDir::new("many-kubelets");
    let scenario = dir.file("u30.toml");
    let o = kubetwin()
        .args([
            "generate", "uniform", "--nodes", "30", "--sites", "3", "--out", &scenario,
        ])
        .output()
        .unwrap();
    assert_exit(&o, 0, "generate uniform");
    let args = [
        "run",
        &scenario,
        "--pods",
        "60",
        "--reps",
        "1",
        "--fault",
        "crash-etcd-leader at 5s",
    ];
    let out = kubetwin().args(args).output().unwrap();
    assert_exit(&out, 0, "run with a crashed etcd leader");
    let text = stdout(&out);
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("kubelets reconnected from"))
        .collect();
    assert_eq!(summary.len(), 1, "{text}");
    assert!(!text.contains("kubelet/"), "{text}");

    let json = kubetwin().args(args).args(["--format", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let listed = v["faults_rep0"][0]["failovers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["client"].as_str().is_some_and(|c| c.starts_with("kubelet/")))
        .count();
    let n: usize = summary[0].trim().split(' ').next().unwrap().parse().unwrap();
    assert!(n > 8 && n == listed, "{n} summed up, {listed} in the JSON");
}

/// The observing kubectl's reconnection after its apiserver is lost is the model's assumption of
/// a person restarting `kubectl get -w`, and the report says so beside it (found by a review:
/// kubectl v1.16 neither times out a watch nor dials again by itself).
#[test]
fn kubectls_reconnection_is_said_to_be_assumed() {
    let out = kubetwin()
        .args([
            "run",
            "thesis-2019",
            "--pods",
            "20",
            "--reps",
            "1",
            "--fault",
            "crash-etcd-leader at 10s",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0, "run with a crashed etcd leader");
    let text = stdout(&out);
    let kubectl = text
        .lines()
        .find(|l| l.trim_start().starts_with("kubectl reconnected to"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        kubectl.contains("(assumed: the person watching restarts `kubectl get -w`"),
        "{kubectl}"
    );
}

/// A scenario's warnings reach the user on stderr, and the run goes on: the thesis's HAProxy
/// listing as printed (master02 twice) warns W002 and W001 at its line; stdout is the report
/// alone. The built-in scenario warns nothing.
#[test]
fn scenario_warnings_are_shown_and_the_run_goes_on() {
    let dir = TempDir::new("warn");
    let text = crate::support::THESIS_TOML.to_owned().replace(
        r#"backends = ["master01", "master02", "master03"]"#,
        r#"backends = ["master01", "master02", "master02"]"#,
    );
    let path = dir.file("printed.toml");
    std::fs::write(&path, text).unwrap();
    let out = kubetwin()
        .args(["run", &path, "--pods", "4", "--reps", "1", "--format", "json"])
        .output()
        .expect("run kubetwin");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning[W002] `haproxy.backends`") && err.contains("warning[W001] `haproxy.backends[2]`"),
        "{err}"
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("stdout is the JSON report alone");
    let clean = kubetwin()
        .args(["run", "thesis-2019", "--pods", "4", "--reps", "1"])
        .output()
        .expect("run kubetwin");
    assert!(!stderr(&clean).contains("warning["), "{}", stderr(&clean));
}

/// A clock coarser than the start-up (as coarse as the timeout, which E026 allows) used to
/// report a mean of 0.00 s without a word; the run warns of it on stderr, and a clock of
/// kubectl's whole seconds does not.
#[test]
fn a_clock_coarser_than_the_start_up_is_warned_of() {
    let dir = TempDir::new("coarse-clock");
    let text = crate::support::THESIS_TOML.replacen("resolution = \"1s\"", "resolution = \"1h\"", 1);
    assert_ne!(text, crate::support::THESIS_TOML);
    let path = dir.file("coarse.toml");
    std::fs::write(&path, text).unwrap();
    let out = kubetwin()
        .args(["run", &path, "--pods", "4", "--reps", "2", "--format", "json"])
        .output()
        .expect("run kubetwin");
    assert_exit(&out, 0, "a coarse clock runs");
    let err = stderr(&out);
    assert!(
        err.contains("warning: workload.resolution (3600s) is longer than the start-up itself (exact mean"),
        "{err}"
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("stdout is the JSON report alone");
    let fine = kubetwin()
        .args(["run", "thesis-2019", "--pods", "4", "--reps", "2"])
        .output()
        .expect("run kubetwin");
    assert!(!stderr(&fine).contains("workload.resolution"), "{}", stderr(&fine));
}

/// `--trace` is checked before the replications run: a directory, or a file in a directory that
/// does not exist, used to be found after all of them, with nothing printed.
#[test]
fn a_trace_path_that_cannot_be_written_is_refused_up_front() {
    let dir = TempDir::new("trace-bad");
    let sub = dir.file("sub");
    std::fs::create_dir(&sub).unwrap();
    crate::support::usage_error(
        &args(&cell_reps("1", "json", &["--trace", &sub])),
        &["--trace", "is a directory"],
    );
    let missing = dir.file("nonexistent/t.json");
    crate::support::usage_error(
        &args(&cell_reps("1", "json", &["--trace", &missing])),
        &["--trace", "does not exist"],
    );
}

/// A run in which no replication finishes fails, and leaves no trace file: it used to write one
/// with an empty `traceEvents` before reporting the failure.
#[test]
fn a_failed_run_leaves_no_trace_file() {
    let dir = TempDir::new("trace-fail");
    let path = dir.file("trace.json");
    let out = kubetwin()
        .args(args(&cell_reps(
            "1",
            "json",
            &["--fault", "crash lb at 0s", "--trace", &path],
        )))
        .output()
        .expect("run kubetwin");
    crate::support::assert_exit(&out, 1, "a run that never finishes");
    assert!(stderr(&out).contains("no replication finished"), "{}", stderr(&out));
    assert!(!std::path::Path::new(&path).exists(), "the failed run wrote {path}");
}

/// A fault is named as `--fault` writes it, in the table and in the JSON, not in Rust's Debug
/// form (`Crash { host: "master02", at: 5s, repair: None }`).
#[test]
fn faults_are_shown_in_the_fault_syntax() {
    let fault = ["--fault", "crash master02 at 5s"];
    let table = run_ok(&args(&cell_reps("1", "table", &fault)));
    assert!(
        table.contains("fault (replication 0): crash master02 at 5s, never repaired"),
        "{table}"
    );
    assert!(!table.contains("Crash {"), "{table}");
    let v = run_json(&args(&cell_reps("1", "json", &fault)));
    assert_eq!(v["faults_rep0"][0]["fault"], "crash master02 at 5s", "{v}");
}

/// A run that never finishes because faults are never repaired names them, and says when the
/// node lifecycle controller would not evict the cut-off pods (here every worker is cut off:
/// 4 NotReady nodes of 7, the masters' included, a partly disrupted small cluster, no
/// eviction).
#[test]
fn a_run_held_up_by_a_fault_never_repaired_says_which() {
    let out = crate::support::run(&args(&cell_reps(
        "1",
        "table",
        &[
            "--fault",
            "isolate-site vlan20 at 5s",
            "--fault",
            "isolate-site vlan30 at 5s",
            "--fault",
            "crash master02 at 5s repair 9s",
        ],
    )));
    crate::support::assert_exit(&out, 1, "a run that never finishes");
    let e = stderr(&out);
    assert!(
        e.contains("never repaired: `isolate-site vlan20 at 5s`, `isolate-site vlan30 at 5s`"),
        "{e}"
    );
    assert!(!e.contains("crash master02"), "a repaired fault is not named: {e}");
    assert!(e.contains("evicts nothing while no node of the zone is Ready"), "{e}");
}

/// A registry on the overlay that crashes for good holds every pod back: the error says that
/// the registry never comes back, not that evictions would help.
#[test]
fn a_registry_that_never_comes_back_is_named_as_the_cause() {
    let e = stderr_of_registry_down("master02", &["crash master02 at 2s"]);
    assert!(
        e.contains("never repaired: `crash master02 at 2s`; the registry"),
        "{e}"
    );
    assert!(!e.contains("node lifecycle controller"), "{e}");
}

/// stderr of a 4-pod run of the thesis testbed with its registry on `registry` and `faults`,
/// which must fail the run (exit 1).
fn stderr_of_registry_down(registry: &str, faults: &[&str]) -> String {
    let t = crate::support::TempDir::new("run-registry-down");
    let text = topologies::load::builtin("thesis-2019").unwrap().replacen(
        "image_cached = false",
        &format!("image_cached = false\nregistry_host = \"{registry}\""),
        1,
    );
    let path = t.file("mirror.toml");
    std::fs::write(&path, text).unwrap();
    let mut args = vec!["run", &path, "--pods", "4", "--reps", "1"];
    for f in faults {
        args.extend(["--fault", f]);
    }
    let out = crate::support::run(&args);
    crate::support::assert_exit(&out, 1, "a run whose registry never comes back");
    stderr(&out)
}

/// A fault still in force at the timeout that cuts the observing kubectl off from the load
/// balancer is named as the cause of a run that cannot finish: alone when kubectl's site holds
/// no worker; after the eviction rules when workers are cut off too (they say whether the pods
/// could be moved; kubectl could not see it either way). One repaired in time, one that leaves
/// kubectl connected, and one that comes after the rollout change nothing of the kind; one
/// repaired at the timeout itself held for the whole run. A registry cut off from some workers
/// names them; a crashed load balancer, the deeper cause, is named before it.
#[test]
fn kubectl_or_a_registry_cut_off_at_the_timeout_is_named_as_the_cause() {
    let t = crate::support::TempDir::new("run-cut-off");
    let thesis = topologies::load::builtin("thesis-2019").unwrap();
    // kubectl on a desk at a site of its own, joined to the control plane's by the WAN.
    let desk = thesis.replacen("kubectl_host = \"master01\"", "kubectl_host = \"desk\"", 1)
        + "\n[[sites]]\nname = \"ops\"\nrouter = \"vyos04\"\n\n\
           [[hosts]]\nname = \"vyos04\"\nsite = \"ops\"\nrole = \"router\"\n\n\
           [[hosts]]\nname = \"desk\"\nsite = \"ops\"\nrole = \"client\"\n\n\
           [[links]]\na = \"desk\"\nb = \"vyos04\"\ndelay = \"0.1ms\"\nbandwidth = \"10Gbit\"\nkind = \"lan\"\n\n\
           [[links]]\na = \"vyos04\"\nb = \"vyos01\"\ndelay = \"0.42ms\"\nbandwidth = \"10Gbit\"\nkind = \"wan\"\n";
    let path = t.file("kubectl-desk.toml");
    std::fs::write(&path, desk).unwrap();
    let out = crate::support::run(&[
        "run",
        &path,
        "--pods",
        "4",
        "--reps",
        "1",
        "--fault",
        "isolate-site ops at 0s",
    ]);
    crate::support::assert_exit(&out, 1, "a run whose kubectl alone is cut off");
    let e = stderr(&out);
    assert!(
        e.contains("never repaired: `isolate-site ops at 0s`; they still cut the observing kubectl on desk (workload.kubectl_host) off from the load balancer lb at the timeout"),
        "{e}"
    );
    assert!(!e.contains("node lifecycle controller"), "{e}");
    let on_node01 = thesis.replacen("kubectl_host = \"master01\"", "kubectl_host = \"node01\"", 1);
    assert_ne!(on_node01, thesis);
    let path = t.file("kubectl-node01.toml");
    std::fs::write(&path, on_node01).unwrap();
    let run = |fault: &str| crate::support::run(&["run", &path, "--pods", "4", "--reps", "1", "--fault", fault]);
    for (fault, shown) in [
        (
            "isolate-site vlan20 at 0s",
            "never repaired: `isolate-site vlan20 at 0s`",
        ),
        ("crash vyos02 at 0s", "never repaired: `crash vyos02 at 0s`"),
        (
            "partition vlan10 vlan20 at 5s repair 2h",
            "in force at the timeout (3600s): `partition vlan10 vlan20 at 5s repair 7200s`",
        ),
    ] {
        let out = run(fault);
        crate::support::assert_exit(&out, 1, "a run whose kubectl is cut off at the timeout");
        let e = stderr(&out);
        assert!(e.contains(&format!("{shown}; pods on workers cut off")), "{e}");
        assert!(
            e.contains("; the observing kubectl is cut off from the load balancer too, so it could not see even a rollout the evictions let through"),
            "{e}"
        );
    }
    // The control plane's site cut off from the workers: the eviction rules are the deeper
    // cause, wherever kubectl runs; that kubectl is cut off too is said after them.
    let out = run("isolate-site vlan10 at 10s");
    crate::support::assert_exit(&out, 1, "a run whose control plane is cut off");
    let e = stderr(&out);
    assert!(e.contains("node lifecycle controller"), "{e}");
    assert!(
        e.contains("; the observing kubectl is cut off from the load balancer too"),
        "{e}"
    );
    assert!(!e.contains("run kubectl on a host"), "{e}");
    // A fault repaired at the timeout itself held for the whole run: it is named.
    let out = run("crash lb at 10s repair 3600s");
    crate::support::assert_exit(&out, 1, "a run whose balancer is back only at the timeout");
    let e = stderr(&out);
    assert!(
        e.contains("in force at the timeout (3600s): `crash lb at 10s repair 3600s`; every client"),
        "{e}"
    );
    for fault in [
        "isolate-site vlan20 at 0s repair 100s",
        "isolate-site vlan30 at 0s",
        "isolate-site vlan20 at 10min",
    ] {
        crate::support::assert_exit(&run(fault), 0, fault);
    }
    let e = stderr_of_registry_down("node04", &["isolate-site vlan30 at 0s"]);
    assert!(
        e.contains("never repaired: `isolate-site vlan30 at 0s`; they still cut the registry on node04 (runtime.registry_host) off from node01, node02 at the timeout, whose pulls"),
        "{e}"
    );
    assert!(!e.contains("node lifecycle controller"), "{e}");
    let e = stderr_of_registry_down("node04", &["isolate-site vlan30 at 0s", "crash lb at 2s"]);
    assert!(e.contains("the single point of failure of this control plane"), "{e}");
}

/// Two of three masters crashed for good leave etcd without a quorum: the error says so, not
/// that evictions would help.
#[test]
fn masters_crashed_for_good_beyond_the_quorum_are_named_as_the_cause() {
    let out = crate::support::run(&args(&cell_reps(
        "1",
        "table",
        &["--fault", "crash master02 at 2s", "--fault", "crash master03 at 2s"],
    )));
    crate::support::assert_exit(&out, 1, "a run without an etcd quorum");
    let e = stderr(&out);
    assert!(
        e.contains("2 of the 3 etcd members are gone for good, so etcd has no quorum"),
        "{e}"
    );
    assert!(!e.contains("node lifecycle controller"), "{e}");
    // A crash of etcd's leader after a master's stops another member.
    let out = crate::support::run(&args(&cell_reps(
        "1",
        "table",
        &["--fault", "crash master02 at 2s", "--fault", "crash-etcd-leader at 5s"],
    )));
    crate::support::assert_exit(&out, 1, "a run without an etcd quorum");
    let e = stderr(&out);
    assert!(e.contains("2 of the 3 etcd members are gone for good"), "{e}");
}

/// The table names the observer's resolution when it is not kubectl's whole second, and prints
/// the readings to the millisecond then.
#[test]
fn the_table_names_a_resolution_other_than_whole_seconds() {
    let dir = TempDir::new("run-resolution");
    let text = crate::support::THESIS_TOML.to_owned();
    let fine = text
        .lines()
        .map(|l| {
            if l.starts_with("resolution = ") {
                "resolution = \"100ms\""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.file("fine.toml");
    std::fs::write(&path, fine).unwrap();
    let out = run_ok(&["run", &path, "--pods", "4", "--reps", "2"]);
    assert!(out.contains("(read every 100ms, workload.resolution):"), "{out}");
    let min = out.split("min ").nth(1).and_then(|s| s.split(' ').next()).unwrap();
    assert_eq!(min.split('.').nth(1).map(str::len), Some(3), "{out}");
    let whole = run_ok(&["run", "thesis-2019", "--pods", "4", "--reps", "2"]);
    assert!(whole.contains("(whole seconds):"), "{whole}");
}

/// A run some of whose replications do not finish exits 0 and warns on stderr in every format,
/// as the README says: a script reading the JSON or the CSV used to get no word of it.
#[test]
fn a_run_with_unfinished_replications_warns_on_stderr_in_every_format() {
    let dir = TempDir::new("run-unfinished");
    let text = crate::support::THESIS_TOML.to_owned();
    assert!(text.contains("timeout = \"1h\" "));
    let path = dir.file("t30.toml");
    // 30 s: about the 4-pod start-up, so that some of 10 replications finish and some do not.
    std::fs::write(&path, text.replacen("timeout = \"1h\" ", "timeout = \"30s\" ", 1)).unwrap();
    for format in ["table", "json", "csv"] {
        let o = kubetwin()
            .args(["run", &path, "--pods", "4", "--reps", "10", "--format", format])
            .output()
            .unwrap();
        assert_exit(&o, 0, format);
        let err = stderr(&o);
        assert!(
            err.contains("replications did not finish within workload.timeout (30s)"),
            "{format}: {err}"
        );
    }
}

/// A file named like a built-in scenario is not read in its place, and the run says so.
#[test]
fn a_file_named_like_a_built_in_is_named_as_not_read() {
    let dir = TempDir::new("run-shadow");
    std::fs::write(dir.path().join("thesis-2019"), "not a scenario").unwrap();
    let o = kubetwin()
        .current_dir(dir.path())
        .args(["run", "thesis-2019", "--pods", "4", "--reps", "1"])
        .output()
        .unwrap();
    assert_exit(&o, 0, "the built-in runs");
    assert!(
        stderr(&o).contains("the file ./thesis-2019 is not read (give ./thesis-2019 to run the file)"),
        "{}",
        stderr(&o)
    );
    let o = kubetwin()
        .current_dir(dir.path())
        .args(["run", "./thesis-2019", "--pods", "4", "--reps", "1"])
        .output()
        .unwrap();
    assert_exit(&o, 2, "the file, which is no scenario");
    // `check`, where a user checks their own file, says it too.
    let o = kubetwin()
        .current_dir(dir.path())
        .args(["check", "thesis-2019"])
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("the file ./thesis-2019 is not read"),
        "{}",
        stderr(&o)
    );
}

/// A size the file gives but the command replaces (`--pods`, a sweep's pods axis, `plan`'s
/// `--pods`, the measured cells of `validate` and `calibrate`) is not judged at load: a file of
/// 100,000 replicas its workers cannot hold used to be refused with E021 even when only 4 pods
/// were asked for. The size the command runs is still judged, and so is the file's when the
/// command runs it.
#[test]
fn a_file_size_the_command_replaces_is_not_refused() {
    let dir = TempDir::new("replaced-size");
    let text = crate::support::THESIS_TOML.replacen("replicas = 4 ", "replicas = 100000 ", 1);
    assert_ne!(text, crate::support::THESIS_TOML);
    let path = dir.file("huge.toml");
    std::fs::write(&path, text).unwrap();
    let data = dir.file("cells.csv");
    std::fs::write(
        &data,
        "pods,delay_ms,mean_s,runs,resolution_s\n4,100,25,5,1\n4,300,25,5,1\n4,500,26,5,1\n",
    )
    .unwrap();
    let runs = |args: &[&str], what: &str| {
        let err = stderr_of(args, 0);
        assert!(!err.contains("E021"), "{what}: {err}");
    };
    runs(&["run", &path, "--pods", "4", "--reps", "1"], "run --pods");
    runs(
        &[
            "sweep",
            &path,
            "--pods",
            "4",
            "--reps",
            "1",
            "--out",
            &dir.file("sweep"),
        ],
        "sweep --pods",
    );
    // A fixed --fault and a --fault axis, checked again with the faults added: not refused for
    // the file's size either (a review found both blaming the fault).
    runs(
        &[
            "sweep",
            &path,
            "--pods",
            "4",
            "--fault",
            "crash master02 at 5s repair 10s",
            "--reps",
            "1",
            "--out",
            &dir.file("sweep-fault"),
        ],
        "sweep --pods --fault",
    );
    runs(
        &[
            "sweep",
            &path,
            "--pods",
            "4",
            "--fault",
            "crash master02 at 5s repair {10s,20s}",
            "--reps",
            "1",
            "--out",
            &dir.file("sweep-fault-axis"),
        ],
        "sweep --pods --fault axis",
    );
    // A --set combination is loaded as the file is: not refused for the file's size either.
    runs(
        &[
            "sweep",
            &path,
            "--pods",
            "4",
            "--set",
            "kubernetes.kubelet.max_pods=50",
            "--reps",
            "1",
            "--out",
            &dir.file("sweep-set"),
        ],
        "sweep --pods --set",
    );
    runs(
        &["validate", "--data", &data, "--scenario", &path, "--reps", "1"],
        "validate",
    );
    runs(
        &[
            "plan",
            &path,
            "--pods",
            "4",
            "--reps",
            "1",
            "--out-dir",
            &dir.file("plan"),
        ],
        "plan --pods",
    );
    runs(
        &[
            "calibrate",
            "--data",
            &data,
            "--scenario",
            &path,
            "--out",
            &dir.file("fit.toml"),
            "--reps",
            "1",
            "--max-iters",
            "1",
            "--no-cross-validation",
            "--placement",
            "masters-egress",
        ],
        "calibrate",
    );
    // The file's own size, where the command runs it, and a size asked for that does not fit.
    let line = crate::support::THESIS_TOML
        .lines()
        .position(|l| l.starts_with("replicas = 4 "))
        .unwrap()
        + 1;
    for args in [
        vec!["run", &path, "--reps", "1"],
        vec!["sweep", &path, "--reps", "1", "--out", &dir.file("sweep-file-size")],
    ] {
        let err = stderr_of(&args, 2);
        assert!(
            err.contains(&format!(
                "huge.toml: line {line}, column 1: error[E021] `workload.replicas`"
            )),
            "{args:?}: {err}"
        );
    }
    // Asked for the file's own size, the finding is placed in the file, as without --pods.
    let err = stderr_of(&["run", &path, "--pods", "100000", "--reps", "1"], 2);
    assert!(
        err.contains(&format!(
            "huge.toml: line {line}, column 1: error[E021] `workload.replicas`"
        )),
        "{err}"
    );
    // Another size that does not fit is named by the flag.
    let err = stderr_of(&["run", &path, "--pods", "500", "--reps", "1"], 2);
    assert!(
        err.contains("--pods 500: `workload.replicas`: 500 pods do not fit"),
        "{err}"
    );
}

/// E034 (the scale after the timeout) judges the size run: a file of 4 replicas whose scale
/// comes an hour after the create runs with `--pods 1` (no scale), and `--pods 2` is refused,
/// naming the flag and the field.
#[test]
fn a_late_scale_is_judged_at_the_pods_asked_for() {
    let dir = TempDir::new("late-scale");
    let text = crate::support::THESIS_TOML.replacen("scale_gap = \"300ms\"", "scale_gap = \"1h\"", 1);
    assert_ne!(text, crate::support::THESIS_TOML);
    let path = dir.file("late.toml");
    std::fs::write(&path, text).unwrap();
    stderr_of(&["run", &path, "--pods", "1", "--reps", "1"], 0);
    // validate's raw rows are judged at their size too, with --data (which the phases use them
    // beside): a review found 2 pods simulated as 1, exit 0.
    let data = dir.file("one.csv");
    std::fs::write(&data, "pods,delay_ms,mean_s,runs,resolution_s\n1,0,20,5,1\n").unwrap();
    let raw = dir.file("raw2.csv");
    std::fs::write(
        &raw,
        "run,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n\
         1,a,n1,0,2,0,0.1,20,21\n\
         1,b,n2,0,2,0,0.1,20,22\n",
    )
    .unwrap();
    let err = stderr_of(
        &[
            "validate",
            "--data",
            &data,
            "--raw",
            &raw,
            "--scenario",
            &path,
            "--reps",
            "1",
        ],
        2,
    );
    assert!(
        err.contains(
            "raw2.csv: the raw rows' cell of 2 pods at 0 ms cannot run on scenario thesis-2019: `workload.scale_gap`"
        ),
        "{err}"
    );
    let err = stderr_of(&["run", &path, "--pods", "2", "--reps", "1"], 2);
    assert!(
        err.contains("--pods 2: `workload.scale_gap`: scale_gap 3600s is not shorter than workload.timeout 3600s"),
        "{err}"
    );
    let err = stderr_of(
        &[
            "plan",
            &path,
            "--pods",
            "2",
            "--reps",
            "1",
            "--out-dir",
            &dir.file("plan"),
        ],
        2,
    );
    assert!(err.contains("--pods 2: `workload.scale_gap`: scale_gap 3600s"), "{err}");
}

/// A scale just before the timeout passes E034 and no replication finishes: the failure says
/// how little of the timeout the gap left, where it used to offer faults and limits alone. A
/// run that fails with the gap short of half the timeout does not blame it.
#[test]
fn a_scale_too_late_to_finish_is_named_when_nothing_finishes() {
    let dir = TempDir::new("late-scale-fail");
    let text = crate::support::THESIS_TOML.replacen("scale_gap = \"300ms\"", "scale_gap = \"3590s\"", 1);
    assert_ne!(text, crate::support::THESIS_TOML);
    let path = dir.file("late.toml");
    std::fs::write(&path, text).unwrap();
    let hint = "kubectl scales the Deployment to its 4 replicas only workload.scale_gap (3590s, up to 10 % longer) after the create, which leaves at most 10s of the timeout for the pods to start";
    let err = stderr_of(&["run", &path, "--reps", "1"], 1);
    assert!(err.contains(hint), "{}", err);
    let err = stderr_of(&["sweep", &path, "--reps", "1", "--out", &dir.file("sweep")], 1);
    assert!(err.contains(&format!("; at pods=4 delay=0s: {hint}")), "{err}");
    let data = dir.file("cells.csv");
    std::fs::write(&data, "pods,delay_ms,mean_s,runs,resolution_s\n4,0,25,5,1\n").unwrap();
    let err = stderr_of(&["validate", "--data", &data, "--scenario", &path, "--reps", "1"], 1);
    assert!(err.contains(hint), "{}", err);
    let err = stderr_of(
        &[
            "plan",
            &path,
            "--pods",
            "4",
            "--reps",
            "1",
            "--out-dir",
            &dir.file("plan"),
        ],
        1,
    );
    assert!(err.contains(hint), "{}", err);
    let short = crate::support::THESIS_TOML.replacen("timeout = \"1h\"", "timeout = \"10s\"", 1);
    assert_ne!(short, crate::support::THESIS_TOML);
    let path = dir.file("short.toml");
    std::fs::write(&path, short).unwrap();
    let err = stderr_of(&["run", &path, "--reps", "1"], 1);
    assert!(
        err.contains("no replication finished within workload.timeout (10s)"),
        "{err}"
    );
    assert!(!err.contains("scale_gap"), "{err}");
}
