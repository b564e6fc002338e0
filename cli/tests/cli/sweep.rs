//! `kubetwin sweep`, `merge` and `plot`: row counts, determinism across runs and thread counts,
//! shards merged byte for byte, resume after a deleted point and after `kill -9`, usage errors,
//! figures, and the Kubernetes example.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use crate::support::{assert_exit, kubetwin, run, stderr, usage_error, TempDir};

/// The small sweep of the tests: 2 pod counts x 3 delays, 3 replications.
const SMALL: [&str; 8] = [
    "sweep",
    "thesis-2019",
    "--pods",
    "4,8",
    "--delay",
    "0ms..200ms/100ms",
    "--reps",
    "3",
];

/// `SMALL` plus `extra`, into `out`.
fn small(out: &str, extra: &[&str]) -> Vec<String> {
    SMALL
        .iter()
        .chain(["--out", out].iter())
        .chain(extra)
        .map(ToString::to_string)
        .collect()
}

/// Runs `kubetwin ARGS` with `RAYON_NUM_THREADS=threads` (all cores when `None`), expects
/// success, returns stderr.
fn sweep_ok(args: &[String], threads: Option<&str>) -> String {
    let mut cmd = kubetwin();
    cmd.args(args);
    if let Some(t) = threads {
        cmd.env("RAYON_NUM_THREADS", t);
    }
    let out = cmd.output().expect("run kubetwin");
    assert_exit(&out, 0, &format!("kubetwin {args:?}"));
    stderr(&out)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The point files of a sweep directory, sorted.
fn point_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("points"))
        .expect("a points directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p).and_then(|m| m.modified()).expect("mtime")
}

#[test]
fn one_row_per_point_in_csv_and_json() {
    let t = TempDir::new("sweep-rows");
    let out = t.file("s");
    let err = sweep_ok(&small(&out, &["--set", "kubernetes.kubelet.kube_api_qps=5,50"]), None);
    assert!(err.contains("12 points"), "{err}");
    let csv = String::from_utf8(read(&t.path().join("s/results.csv"))).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 2 * 3 * 2, "{csv}");
    assert!(
        lines[0].starts_with("pods,delay_ms,kubernetes.kubelet.kube_api_qps,reps,incomplete,seed,startup_mean_s,"),
        "{}",
        lines[0]
    );
    for col in [
        "startup_ci95_lo_s",
        "startup_ci95_hi_s",
        "startup_p50_s",
        "startup_p90_s",
        "startup_p95_s",
        "startup_min_s",
        "startup_max_s",
        "startup_exact_mean_s",
        "create_to_schedule_s",
        "schedule_to_run_s",
        "run_to_watch_s",
        "pod_startup_s",
        "delay_effect_mean_s",
        "delay_effect_ci95_lo_s",
        "delay_effect_ci95_hi_s",
        "etcd_elections_mean",
        "etcd_stalled_mean_s",
    ] {
        assert!(lines[0].split(',').any(|c| c == col), "no column {col}: {}", lines[0]);
    }
    // Point order: pods outermost, then delay, then --set.
    assert!(lines[1].starts_with("4,0,5.0,3,0,"), "{}", lines[1]);
    assert!(lines[2].starts_with("4,0,50.0,3,0,"), "{}", lines[2]);
    assert!(lines[12].starts_with("8,200,50.0,3,0,"), "{}", lines[12]);
    let v = json(&t.path().join("s/results.json"));
    let points = v["points"].as_array().expect("points");
    assert_eq!(points.len(), 12);
    let p = &points[0];
    let (mean, lo, hi) = (
        p["startup_mean_s"].as_f64().unwrap(),
        p["startup_ci95_lo_s"].as_f64().unwrap(),
        p["startup_ci95_hi_s"].as_f64().unwrap(),
    );
    assert!(lo <= mean && mean <= hi && mean > 5.0 && mean < 300.0, "{p}");
    assert!(p["startup_min_s"].as_f64().unwrap() <= p["startup_p50_s"].as_f64().unwrap());
    assert!(p["startup_p50_s"].as_f64().unwrap() <= p["startup_max_s"].as_f64().unwrap());
    assert_eq!(v["sweep"]["spec"]["reps"], 3);
    assert_eq!(v["sweep"]["spec"]["set"][0]["path"], "kubernetes.kubelet.kube_api_qps");
    assert_eq!(
        v["sweep"]["spec_hash"],
        json(&t.path().join("s/sweep.json"))["spec_hash"]
    );
    assert_eq!(point_files(&t.path().join("s")).len(), 12);
}

#[test]
fn same_command_same_bytes_whatever_the_thread_count() {
    let t = TempDir::new("sweep-det");
    let (a, b, c) = (t.file("a"), t.file("b"), t.file("c"));
    sweep_ok(&small(&a, &[]), None);
    sweep_ok(&small(&b, &[]), Some("1"));
    sweep_ok(&small(&c, &[]), Some("2"));
    for f in ["results.csv", "results.json"] {
        let first = read(&t.path().join("a").join(f));
        assert_eq!(first, read(&t.path().join("b").join(f)), "{f}: all cores vs 1 thread");
        assert_eq!(first, read(&t.path().join("c").join(f)), "{f}: all cores vs 2 threads");
    }
    // stdout in CSV is results.csv.
    let out = kubetwin().args(small(&a, &["--format", "csv"])).output().unwrap();
    assert_eq!(out.stdout, read(&t.path().join("a/results.csv")));
}

#[test]
fn a_point_does_not_depend_on_the_other_points() {
    let t = TempDir::new("sweep-indep");
    let (a, b) = (t.file("a"), t.file("b"));
    sweep_ok(&small(&a, &[]), None);
    let other: Vec<String> = [
        "sweep",
        "thesis-2019",
        "--pods",
        "8,2",
        "--delay",
        "100ms",
        "--reps",
        "3",
        "--out",
        &b,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    sweep_ok(&other, None);
    let row = |dir: &str, pods: u64, delay: u64| {
        let v = json(&Path::new(dir).join("results.json"));
        v["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pods"] == pods && p["delay_ms"] == delay)
            .cloned()
            .expect("the point")
    };
    // Everything but the delay effect, which is relative to the sweep's smallest delay (0 ms in
    // `a`, 100 ms in `b`).
    let own = |mut p: serde_json::Value| {
        let o = p.as_object_mut().unwrap();
        let effect: Vec<String> = o.keys().filter(|k| k.starts_with("delay_effect")).cloned().collect();
        assert_eq!(effect.len(), 3, "{o:?}");
        for k in effect {
            o.remove(&k);
        }
        p
    };
    assert_eq!(own(row(&a, 8, 100)), own(row(&b, 8, 100)));
    // `b` has one delay: no effect to pair, so none (not a zero a figure would draw as "no
    // effect"); `a`'s smallest delay is its own base, exactly 0.
    for k in [
        "delay_effect_mean_s",
        "delay_effect_ci95_lo_s",
        "delay_effect_ci95_hi_s",
    ] {
        assert!(row(&b, 8, 100)[k].is_null(), "{k}");
    }
    assert_eq!(row(&a, 8, 0)["delay_effect_mean_s"], 0.0);
    let err = usage_error(
        &[
            "plot",
            &format!("{b}/results.json"),
            "--x",
            "pods",
            "--y",
            "effect",
            "--out",
            &t.file("effect.svg"),
        ],
        &["column delay_effect_mean_s has no values to plot: the delay's effect is paired against the sweep's smallest delay, and the sweep has one delay"],
    );
    assert!(err.contains("sweep two delays or more (--delay)"), "{err}");
    // A CSV does not name the sweep's delays: it speaks of the file's.
    usage_error(
        &[
            "plot",
            &format!("{b}/results.csv"),
            "--x",
            "pods",
            "--y",
            "effect",
            "--out",
            &t.file("effect.svg"),
        ],
        &["and this file has one delay"],
    );
}

/// The points share their replications' seeds and the model keys its draws, so the delay's
/// effect, taken replication by replication, is far less noisy than the two points it compares:
/// its interval is narrower than the two points' intervals combined as if independent.
#[test]
fn the_delay_effect_is_paired_and_narrower_than_independent_points_would_give() {
    let t = TempDir::new("sweep-effect");
    let out = t.file("e");
    let args: Vec<String> = [
        "sweep",
        "thesis-2019",
        "--pods",
        "20",
        "--delay",
        "100ms,500ms",
        "--reps",
        "8",
        "--out",
        &out,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    sweep_ok(&args, None);
    let v = json(&Path::new(&out).join("results.json"));
    let points = v["points"].as_array().unwrap();
    let f = |p: &serde_json::Value, k: &str| p[k].as_f64().unwrap_or_else(|| panic!("{k} in {p}"));
    let (near, far) = (&points[0], &points[1]);
    assert_eq!(f(near, "delay_effect_mean_s"), 0.0);
    let effect = f(far, "delay_effect_mean_s");
    assert!((effect - (f(far, "startup_mean_s") - f(near, "startup_mean_s"))).abs() < 1e-9);
    let half = |p: &serde_json::Value, lo: &str, hi: &str| (f(p, hi) - f(p, lo)) / 2.0;
    let paired = half(far, "delay_effect_ci95_lo_s", "delay_effect_ci95_hi_s");
    let independent =
        half(near, "startup_ci95_lo_s", "startup_ci95_hi_s").hypot(half(far, "startup_ci95_lo_s", "startup_ci95_hi_s"));
    assert!(
        paired < 0.7 * independent,
        "paired ±{paired:.2} s against ±{independent:.2} s for independent points"
    );
}

/// `--set runtime.registry_host=HOST` moves the registry onto the overlay: with it on a master,
/// behind the workers' delay, every pull's 16 round trips pay the delay, so the 4-pod delay
/// effect grows from about 1 s (Docker Hub over the sites' own uplinks) to several seconds. A
/// host that does not exist is refused before any work, naming the field.
#[test]
fn a_registry_behind_the_delay_lengthens_every_pull() {
    let t = TempDir::new("sweep-registry");
    let out = t.file("r");
    let args: Vec<String> = [
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--delay",
        "100ms,500ms",
        "--set",
        "runtime.registry_host=\"\",master01",
        "--reps",
        "4",
        "--out",
        &out,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    sweep_ok(&args, None);
    let v = json(&Path::new(&out).join("results.json"));
    let effect = |host: &str| {
        v["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["delay_ms"] == 500 && p["runtime.registry_host"] == host)
            .and_then(|p| p["delay_effect_mean_s"].as_f64())
            .unwrap_or_else(|| panic!("no 500 ms point for registry `{host}` in {v}"))
    };
    let (hub, mirror) = (effect(""), effect("master01"));
    assert!(hub < 3.0, "Docker Hub: +{hub} s");
    assert!(
        mirror > hub + 4.0,
        "a registry behind 400 ms more: +{mirror} s against +{hub} s"
    );
    // The Docker Hub rows read back from results.csv as empty cells, and `--where COLUMN=`
    // selects them.
    let svg = t.file("hub.svg");
    let csv = Path::new(&out).join("results.csv").display().to_string();
    let o = run(&[
        "plot",
        &csv,
        "--x",
        "delay",
        "--y",
        "startup",
        "--where",
        "runtime.registry_host=",
        "--out",
        &svg,
    ]);
    assert_exit(&o, 0, "plot --where runtime.registry_host=");
    usage_error(
        &[
            "sweep",
            "thesis-2019",
            "--set",
            "runtime.registry_host=mirror",
            "--out",
            &out,
        ],
        &["runtime.registry_host", "E016", "`mirror` is not a defined host"],
    );
}

#[test]
fn shards_merge_into_the_unsharded_bytes() {
    let t = TempDir::new("sweep-shards");
    let (whole, s1, s2, merged) = (t.file("whole"), t.file("s1"), t.file("s2"), t.file("merged"));
    sweep_ok(&small(&whole, &[]), None);
    let e1 = sweep_ok(&small(&s1, &["--shard", "1/2"]), None);
    let e2 = sweep_ok(&small(&s2, &["--shard", "2/2"]), None);
    assert!(e1.contains("shard 1/2 has 3"), "{e1}");
    assert!(e2.contains("shard 2/2 has 3"), "{e2}");
    assert_eq!(point_files(&t.path().join("s1")).len(), 3);
    let shard_csv = String::from_utf8(read(&t.path().join("s1/shard-1-of-2.csv"))).unwrap();
    assert_eq!(shard_csv.lines().count(), 1 + 3, "{shard_csv}");
    assert_eq!(json(&t.path().join("s2/shard-2-of-2.json"))["shard"], "2/2");
    let out = run(&["merge", &s1, &s2, "--out", &merged]);
    assert_exit(&out, 0, "merge");
    for f in ["results.csv", "results.json", "sweep.json", "scenario.toml"] {
        assert_eq!(
            read(&t.path().join("whole").join(f)),
            read(&t.path().join("merged").join(f)),
            "{f} of the merged shards differs from the unsharded sweep's"
        );
    }
    let names = |d: &str| -> Vec<_> {
        point_files(&t.path().join(d))
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("whole"), names("merged"));

    // Missing points are listed.
    let gone = point_files(&t.path().join("s2"))[0].clone();
    let gone_key = gone.file_stem().unwrap().to_string_lossy().into_owned();
    std::fs::remove_file(&gone).unwrap();
    let out = run(&["merge", &s1, &s2, "--out", &t.file("m2")]);
    assert_exit(&out, 2, "merge with a missing point");
    let err = stderr(&out);
    assert!(
        err.contains("1 of 6 points are missing") && err.contains(&gone_key),
        "{err}"
    );

    // A point computed twice with different results is refused.
    let twin = point_files(&t.path().join("s1"))[0].clone();
    let mut rec = json(&twin);
    let first = rec["startup_exact_s"][0].as_f64().expect("a finished replication");
    rec["startup_exact_s"][0] = serde_json::json!(first + 1.0);
    let copy = t.path().join("s2/points").join(twin.file_name().unwrap());
    std::fs::write(&copy, serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
    let out = run(&["merge", &s1, &s2, "--out", &t.file("m3")]);
    assert_exit(&out, 2, "merge with a conflicting point");
    assert!(
        stderr(&out).contains("computed twice with different results"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn merge_refuses_another_sweep() {
    let t = TempDir::new("sweep-other");
    let (a, b) = (t.file("a"), t.file("b"));
    sweep_ok(&small(&a, &["--shard", "1/2"]), None);
    sweep_ok(&small(&b, &["--shard", "2/2", "--seed", "7"]), None);
    let err = usage_error(
        &["merge", &a, &b, "--out", &t.file("m")],
        &["different sweeps", &a, &b, "seed"],
    );
    assert!(!t.path().join("m").exists(), "merge wrote before refusing: {err}");
    usage_error(
        &["merge", &t.file("nothing"), "--out", &t.file("m")],
        &["not a sweep directory"],
    );
    // A file among the inputs (a shell pattern matched a log beside the shards).
    let log = t.file("a.stderr");
    std::fs::write(&log, "log").unwrap();
    usage_error(
        &["merge", &a, &log, "--out", &t.file("m")],
        &["a.stderr is not a directory"],
    );
    // An --out inside an input lands among that sweep's files.
    let inside = t.path().join("a/points/merged");
    usage_error(
        &["merge", &a, &a, "--out", inside.to_str().unwrap()],
        &["inside the input sweep directory"],
    );
    assert!(!inside.exists());
}

#[test]
fn a_different_sweep_into_the_same_directory_is_refused() {
    let t = TempDir::new("sweep-samedir");
    let out = t.file("s");
    sweep_ok(&small(&out, &[]), None);
    usage_error(
        &["sweep", "thesis-2019", "--pods", "4", "--reps", "3", "--out", &out],
        &["holds another sweep", "pods"],
    );
    assert_eq!(point_files(&t.path().join("s")).len(), 6);
}

/// `SMALL` with `reps` replications, into `out`.
fn small_with_reps(out: &str, reps: &str, extra: &[&str]) -> Vec<String> {
    let mut args = small(out, extra);
    let at = args.iter().position(|a| a == "--reps").expect("SMALL has --reps") + 1;
    args[at] = reps.to_owned();
    args
}

/// Asserts that two sweep directories hold the same bytes: sweep.json, results and every point
/// file.
fn assert_same_sweep(a: &Path, b: &Path) {
    for f in ["sweep.json", "scenario.toml", "results.csv", "results.json"] {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    let (pa, pb) = (point_files(a), point_files(b));
    assert_eq!(pa.len(), pb.len());
    for (x, y) in pa.iter().zip(&pb) {
        assert!(read(x) == read(y), "{} and {} differ", x.display(), y.display());
    }
}

/// A rerun with a larger --reps keeps each point's replications and runs only the new ones; the
/// directory then holds what a fresh sweep with that --reps writes, byte for byte, also when the
/// extension was cut short. Fewer replications, or another change with them, are refused.
#[test]
fn a_larger_reps_extends_the_sweep_to_the_bytes_of_a_fresh_run() {
    let t = TempDir::new("sweep-extend");
    let (ext, fresh) = (t.file("ext"), t.file("fresh"));
    let (ext_dir, fresh_dir) = (t.path().join("ext"), t.path().join("fresh"));
    // Its figure, drawn by the first run, is drawn again by the extension (it kept the old one).
    sweep_ok(&small_with_reps(&ext, "3", &["--plot"]), None);
    let short_point = point_files(&ext_dir)[4].clone();
    let short_text = read(&short_point);

    let err = sweep_ok(&small_with_reps(&ext, "5", &[]), None);
    assert!(
        err.contains("extending the sweep") && err.contains("to 5 replications per point (it had 3): each point keeps"),
        "{err}"
    );
    assert!(
        err.contains("computing 6 points (6 of them from the replications they hold)"),
        "{err}"
    );
    sweep_ok(&small_with_reps(&fresh, "5", &["--plot"]), Some("1"));
    assert_same_sweep(&ext_dir, &fresh_dir);
    assert!(read(&ext_dir.join("startup.svg")) == read(&fresh_dir.join("startup.svg")));

    // The replications a point holds are kept, not computed again: a (valid) value edited in
    // them stays, and the new ones are the fresh run's.
    let mut edited: serde_json::Value = serde_json::from_slice(&short_text).unwrap();
    let first = edited["startup_exact_s"][0].as_f64().expect("a finished replication");
    edited["startup_exact_s"][0] = serde_json::json!(first + 0.001);
    std::fs::write(&short_point, serde_json::to_vec_pretty(&edited).unwrap()).unwrap();
    sweep_ok(&small_with_reps(&ext, "5", &[]), None);
    let (got, want) = (
        json(&short_point),
        json(&fresh_dir.join("points").join(short_point.file_name().unwrap())),
    );
    assert_eq!(got["startup_exact_s"][0], serde_json::json!(first + 0.001));
    assert_eq!(
        got["startup_exact_s"].as_array().unwrap()[1..],
        want["startup_exact_s"].as_array().unwrap()[1..]
    );

    // An extension cut short: one point still holds its first 3 replications.
    std::fs::write(&short_point, &short_text).unwrap();
    usage_error(
        &["merge", &ext, "--out", &t.file("merged")],
        &[
            "holds the first 3 of the sweep's 5 replications",
            "rerun that sweep command",
        ],
    );
    let err = sweep_ok(&small_with_reps(&ext, "5", &[]), None);
    assert!(
        err.contains("skipped 5 points already done, computing 1 point (1 of them"),
        "{err}"
    );
    assert_same_sweep(&ext_dir, &fresh_dir);

    // Fewer replications than the directory holds.
    usage_error(
        &small_with_reps(&ext, "4", &[])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[
            "with points of up to 5 replications each, more than --reps 4",
            "rerun with --reps 5 or more",
        ],
    );
    // A run with more replications killed before it extended any point (its sweep.json written,
    // every point still of 3) does not hold the directory to its count: any --reps from 3 on.
    let (killed, killed_dir) = (t.file("killed"), t.path().join("killed"));
    sweep_ok(&small_with_reps(&killed, "3", &[]), None);
    std::fs::copy(ext_dir.join("sweep.json"), killed_dir.join("sweep.json")).unwrap();
    usage_error(
        &small_with_reps(&killed, "2", &[])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &["points of up to 3 replications each", "rerun with --reps 3 or more"],
    );
    sweep_ok(&small_with_reps(&killed, "4", &[]), None);
    assert_eq!(json(&killed_dir.join("sweep.json"))["spec"]["reps"], 4);

    // More replications and another seed: another sweep.
    usage_error(
        &small_with_reps(&ext, "7", &["--seed", "9"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &["holds another sweep", "seed", "reps"],
    );
    assert_same_sweep(&ext_dir, &fresh_dir);
}

/// A second run of a sweep (or of one shard, or the whole sweep beside a shard) while the first
/// computes is refused, naming the lock file, and leaves the first run's files alone; other
/// shards of the sweep run beside a shard, and once the first run ends the same command resumes.
/// A refused run leaves no lock file in a directory of another sweep.
#[test]
fn a_second_run_of_the_same_sweep_is_refused_while_the_first_computes() {
    let t = TempDir::new("sweep-lock");
    let out = t.file("s");
    let dir = t.path().join("s");
    std::fs::create_dir_all(&dir).unwrap();
    let args = |extra: &[&str]| small(&out, extra);
    let refused = |extra: &[&str], says: &str| {
        let o = run(&args(extra).iter().map(String::as_str).collect::<Vec<_>>());
        assert_exit(&o, 1, &format!("{extra:?} beside a running sweep"));
        let e = stderr(&o);
        assert!(
            e.contains("is in use: a kubetwin sweep") && e.contains(says),
            "{extra:?}: {e}"
        );
    };
    // This test holds the lock a run of the whole sweep would hold.
    let whole = std::fs::File::create(dir.join(".lock")).unwrap();
    whole.lock().unwrap();
    refused(&[], "of the whole sweep, or of a shard of it,");
    refused(&["--shard", "1/2"], "of the whole sweep");
    assert!(!dir.join("sweep.json").exists() && point_files(&dir).is_empty());
    drop(whole);
    // And then those of a run of shard 2/2.
    let shared = std::fs::File::create(dir.join(".lock")).unwrap();
    shared.lock_shared().unwrap();
    let shard = std::fs::File::create(dir.join(".lock-shard-2-of-2")).unwrap();
    shard.lock().unwrap();
    refused(&["--shard", "2/2"], "of shard 2/2");
    refused(&[], "of the whole sweep, or of a shard of it,");
    sweep_ok(&args(&["--shard", "1/2"]), None);
    drop((shared, shard));
    let e = sweep_ok(&args(&[]), None);
    assert!(e.contains("skipped 3 points already done, computing 3 points"), "{e}");
    // A shard does not change the sweep's replications while another shard runs under them.
    let sibling = std::fs::File::open(dir.join(".lock")).unwrap();
    sibling.lock_shared().unwrap();
    usage_error(
        &small_with_reps(&out, "5", &["--shard", "1/2"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[
            "another shard of this sweep is computing",
            "with --reps 3",
            "run shard 1/2 with --reps 3 too",
        ],
    );
    assert_eq!(json(&dir.join("sweep.json"))["spec"]["reps"], 3);
    drop(sibling);
    sweep_ok(&small_with_reps(&out, "5", &["--shard", "1/2"]), None);
    assert_eq!(json(&dir.join("sweep.json"))["spec"]["reps"], 5);
    // A run refused as another sweep's leaves that directory as it was.
    let before: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    usage_error(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "4",
            "--reps",
            "3",
            "--shard",
            "1/3",
            "--out",
            &out,
        ],
        &["holds another sweep"],
    );
    let after: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before.len(), after.len(), "{after:?}");
}

#[test]
fn a_rerun_resumes_and_recomputes_nothing() {
    let t = TempDir::new("sweep-resume");
    let out = t.file("s");
    let dir = t.path().join("s");
    sweep_ok(&small(&out, &["--plot"]), None);
    let csv = read(&dir.join("results.csv"));
    let js = read(&dir.join("results.json"));
    let files = point_files(&dir);
    let before: Vec<SystemTime> = files.iter().map(|p| mtime(p)).collect();
    std::fs::remove_file(&files[2]).unwrap();
    std::fs::remove_file(dir.join("results.csv")).unwrap();
    std::fs::remove_file(dir.join("results.json")).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let err = sweep_ok(&small(&out, &["--plot"]), None);
    assert!(
        err.contains("skipped 5 points already done, computing 1 point"),
        "{err}"
    );
    assert_eq!(read(&dir.join("results.csv")), csv);
    assert_eq!(read(&dir.join("results.json")), js);
    for (i, (p, t0)) in files.iter().zip(&before).enumerate() {
        if i != 2 {
            assert_eq!(mtime(p), *t0, "{} was written again", p.display());
        }
    }
    assert!(files[2].exists());
    // Everything done: nothing computed.
    let err = sweep_ok(&small(&out, &[]), None);
    assert!(
        err.contains("skipped 6 points already done, computing 0 points"),
        "{err}"
    );
}

/// A point file edited by hand (another pod count, or its samples removed) does not slip into
/// the results of a resumed sweep, or of a merge: it is refused, with the file named, as an
/// input the command cannot use (exit code 2, as for a point file cut short; it was 1).
#[test]
fn a_tampered_point_file_is_refused_on_resume() {
    let t = TempDir::new("sweep-tamper");
    let out = t.file("s");
    let dir = t.path().join("s");
    sweep_ok(&small(&out, &[]), None);
    let files = point_files(&dir);
    let original = read(&files[0]);
    for edit in [
        ("pods", serde_json::json!(8)),
        ("startup_observed_s", serde_json::json!([])),
    ] {
        let mut v = json(&files[0]);
        v[edit.0] = edit.1;
        std::fs::write(&files[0], serde_json::to_vec(&v).unwrap()).unwrap();
        let o = run(&small(&out, &[]).iter().map(String::as_str).collect::<Vec<_>>());
        assert_exit(&o, 2, edit.0);
        let err = stderr(&o);
        assert!(
            err.contains(&files[0].display().to_string()) && err.contains("does not hold point"),
            "{}: {err}",
            edit.0
        );
        let o = run(&["merge", &out, "--out", &t.file("merged")]);
        assert_exit(&o, 2, &format!("merge of a point file with {} edited", edit.0));
        assert!(stderr(&o).contains("does not hold point"), "{}", stderr(&o));
    }
    // A point file past the results' size cap (sparse: made at once) is refused as well.
    std::fs::File::create(&files[0])
        .unwrap()
        .set_len((1 << 30) + 1)
        .unwrap();
    let o = run(&small(&out, &[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert_exit(&o, 2, "a point file larger than 1 GiB");
    assert!(stderr(&o).contains("larger than 1 GiB"), "{}", stderr(&o));
    let o = run(&["merge", &out, "--out", &t.file("merged")]);
    assert_exit(&o, 2, "merge of a point file larger than 1 GiB");
    assert!(stderr(&o).contains("larger than 1 GiB"), "{}", stderr(&o));
    std::fs::write(&files[0], original).unwrap();
    sweep_ok(&small(&out, &[]), None);
}

/// Ctrl-C, SIGTERM or SIGHUP in the middle of a sweep: it dies by the signal at once, as without
/// a handler (a script's loop stops on Ctrl-C), and leaves no temporary file of the point it was
/// writing (point files are fsynced, so a sweep of fast points spends much of its time writing;
/// before the handler, an interrupt left one 3 times in 3). A signal ignored when it started
/// (SIGINT for a script's background job, SIGHUP under `nohup`) stays ignored.
#[cfg(unix)]
#[test]
fn an_interrupted_sweep_leaves_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    let t = TempDir::new("sweep-interrupt");
    let start_sweep = |dir: &Path, ignoring: Option<&str>| {
        let args = [
            "sweep",
            "thesis-2019",
            "--pods",
            "4,20",
            "--delay",
            "0ms..3600000ms/1000ms",
            "--reps",
            "2",
            "--out",
            dir.to_str().unwrap(),
        ];
        let bin = env!("CARGO_BIN_EXE_kubetwin");
        let mut cmd = match ignoring {
            // `trap ''` ignores the signal, and `exec` keeps it ignored in kubetwin.
            Some(signal) => {
                let mut sh = std::process::Command::new("sh");
                sh.args(["-c", &format!("trap '' {signal}; exec \"$0\" \"$@\""), bin])
                    .args(args);
                sh
            }
            None => {
                let mut k = kubetwin();
                k.args(args);
                k
            }
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the sweep");
        let start = Instant::now();
        while !dir.join("points").is_dir() || point_files(dir).len() < 20 {
            // A guard against a hang, not a timing check: a 4- or 20-pod point takes milliseconds.
            assert!(
                start.elapsed() < Duration::from_secs(600),
                "no 20 point files within 600 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        child
    };
    let kill = |signal: &str, pid: u32| {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    };
    // The test runner itself may ignore SIGHUP (`nohup cargo test`), and then kubetwin does too.
    let hup_ignored = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .is_some_and(|mask| mask & 1 != 0)
    });
    for (signal, number) in [("INT", 2), ("TERM", 15), ("HUP", 1)] {
        if signal == "HUP" && hup_ignored {
            continue;
        }
        let dir = t.path().join(signal);
        let child = start_sweep(&dir, None);
        kill(signal, child.id());
        let out = child.wait_with_output().expect("the sweep ends");
        assert_eq!(out.status.signal(), Some(number), "{signal}: {:?}", out.status);
        assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
        let temporaries: Vec<_> = [dir.clone(), dir.join("points")]
            .iter()
            .flat_map(|d| std::fs::read_dir(d).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".tmp-"))
            .collect();
        assert!(temporaries.is_empty(), "{signal} left {temporaries:?}");
        assert!(
            point_files(&dir).len() < 2 * 3601,
            "the sweep finished before the signal; make it bigger"
        );
    }
    // Started with SIGINT ignored, it goes on after one; SIGTERM still ends it.
    let dir = t.path().join("ignored");
    let mut child = start_sweep(&dir, Some("INT"));
    kill("INT", child.id());
    let after_int = point_files(&dir).len();
    let start = Instant::now();
    while point_files(&dir).len() <= after_int + 20 {
        let ended = child.try_wait().expect("wait for the sweep");
        assert!(ended.is_none(), "the ignored SIGINT ended the sweep: {ended:?}");
        assert!(start.elapsed() < Duration::from_secs(600), "no point file within 600 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    kill("TERM", child.id());
    let out = child.wait_with_output().expect("the sweep ends");
    assert_eq!(out.status.signal(), Some(15), "{:?}", out.status);
    assert_eq!(stderr(&out).matches("interrupted").count(), 1, "{}", stderr(&out));
}

#[test]
fn killed_sweep_resumes_to_the_uninterrupted_results() {
    let t = TempDir::new("sweep-kill");
    let args = |out: &str| -> Vec<String> {
        [
            "sweep",
            "thesis-2019",
            "--pods",
            "40..400/40",
            "--delay",
            "0ms..900ms/100ms",
            "--reps",
            "3",
            "--out",
            out,
        ]
        .iter()
        .map(ToString::to_string)
        .collect()
    };
    let (killed, clean) = (t.file("killed"), t.file("clean"));
    let dir = t.path().join("killed");
    let mut child = kubetwin()
        .args(args(&killed))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sweep");
    let start = Instant::now();
    loop {
        let n = std::fs::read_dir(dir.join("points")).map_or(0, |d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
            })
            .count()
        });
        if n > 0 {
            break;
        }
        // A guard against a hang, not a timing check: a point takes well under a second.
        assert!(start.elapsed() < Duration::from_secs(600), "no point file within 600 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("kill -9 the sweep");
    child.wait().unwrap();
    let done_at_kill = point_files(&dir).len();
    assert!(
        done_at_kill < 100,
        "the sweep finished before it was killed; make it bigger"
    );
    // Nothing half-written: every JSON file parses.
    for entry in std::fs::read_dir(dir.join("points"))
        .unwrap()
        .chain(std::fs::read_dir(&dir).unwrap())
    {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            json(&p);
        }
    }
    let err = sweep_ok(&args(&killed), None);
    let word = if done_at_kill == 1 { "point" } else { "points" };
    assert!(
        err.contains(&format!("skipped {done_at_kill} {word} already done")),
        "{err}"
    );
    sweep_ok(&args(&clean), None);
    let files = point_files(&dir);
    assert_eq!(files.len(), 100);
    let indexes: BTreeSet<u64> = files.iter().map(|p| json(p)["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, (0..100).collect::<BTreeSet<u64>>(), "every point exactly once");
    for f in ["results.csv", "results.json"] {
        assert_eq!(read(&dir.join(f)), read(&t.path().join("clean").join(f)), "{f}");
    }
}

#[test]
fn bad_axes_are_usage_errors_before_any_work() {
    let t = TempDir::new("sweep-bad");
    let out = t.file("s");
    let base = |flag: &str, value: &str| -> Vec<String> {
        ["sweep", "thesis-2019", flag, value, "--out", &out]
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let cases: [(&str, &str, &[&str]); 9] = [
        ("--delay", "500", &["--delay", "no unit", "500"]),
        ("--delay", "500ms..0ms/100ms", &["--delay", "reversed"]),
        ("--delay", "..500ms/100ms", &["--delay", "empty range"]),
        ("--delay", "", &["--delay", "empty"]),
        ("--delay", "0ms..500ms/0ms", &["--delay", "zero step"]),
        ("--pods", "4,,8", &["--pods", "empty value"]),
        ("--shard", "3/2", &["--shard", "3/2", "between 1 and N"]),
        ("--shard", "0/2", &["--shard", "0/2", "counts from 1"]),
        ("--set", "kubernetes.kubelet.kube_api_qps", &["--set", "PATH=V1"]),
    ];
    for (flag, value, needles) in cases {
        let a = base(flag, value);
        usage_error(&a.iter().map(String::as_str).collect::<Vec<_>>(), needles);
    }
    usage_error(
        &["sweep", "thesis-2019", "--set", "runtime.slots=0,2", "--out", &out],
        &["runtime.slots", "E012"],
    );
    usage_error(
        &["sweep", "thesis-2019", "--set", "workload.replicas=4", "--out", &out],
        &["--pods"],
    );
    assert!(!t.path().join("s").exists(), "a refused sweep created its directory");
}

#[test]
fn unknown_set_path_lists_the_valid_ones() {
    let err = usage_error(
        &[
            "sweep",
            "thesis-2019",
            "--set",
            "kubernetes.kubelet.qps=5,10",
            "--out",
            "/nonexistent/never",
        ],
        &[
            "unknown scenario path `kubernetes.kubelet.qps`",
            "kubernetes.kubelet.kube_api_qps",
            "runtime.registry_rtt",
            "netem.placement",
        ],
    );
    assert!(!err.contains("workload.replicas ("), "axes are not --set paths:\n{err}");
}

#[test]
fn plot_draws_lines_with_labelled_axes() {
    let t = TempDir::new("sweep-plot");
    let out = t.file("s");
    sweep_ok(&small(&out, &["--plot"]), None);
    let svg = String::from_utf8(read(&t.path().join("s/startup.svg"))).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("added netem delay (ms)"),
        "startup.svg"
    );
    for input in ["results.json", "results.csv"] {
        let fig = t.file(&format!("{input}.svg"));
        let res = t.path().join("s").join(input);
        let o = run(&[
            "plot",
            res.to_str().unwrap(),
            "--x",
            "delay",
            "--y",
            "startup",
            "--series",
            "pods",
            "--out",
            &fig,
        ]);
        assert_exit(&o, 0, "plot");
        let svg = std::fs::read_to_string(&fig).unwrap();
        assert!(svg.contains("<svg"), "{input}");
        for label in [
            "added netem delay (ms)",
            "start-up until all pods Running, mean (s)",
            "pods = 4",
            "pods = 8",
        ] {
            assert!(svg.contains(label), "{input}: the SVG lacks {label:?}");
        }
    }
    // The default title says which rows --where kept: a figure of one delay does not pass for
    // the whole sweep.
    let fig = t.file("where.svg");
    let res = t.path().join("s/results.json");
    let o = run(&[
        "plot",
        res.to_str().unwrap(),
        "--x",
        "pods",
        "--where",
        "delay=100",
        "--out",
        &fig,
    ]);
    assert_exit(&o, 0, "plot --where");
    let svg = std::fs::read_to_string(&fig).unwrap();
    assert!(
        svg.contains("thesis-2019 (delay 100 ms): "),
        "the title lacks the selection:\n{svg}"
    );
    // A title with a control character (XML forbids them, escaped or not) still makes
    // well-formed SVG: the character is shown as U+FFFD.
    let fig = t.file("ctl.svg");
    let res = t.path().join("s/results.csv");
    let o = run(&[
        "plot",
        res.to_str().unwrap(),
        "--x",
        "delay",
        "--series",
        "pods",
        "--title",
        "bell\u{7}title\u{fffe}",
        "--out",
        &fig,
    ]);
    assert_exit(&o, 0, "plot with a control character in the title");
    let svg = std::fs::read_to_string(&fig).unwrap();
    assert!(
        !svg.contains('\u{7}') && !svg.contains('\u{fffe}') && svg.contains("bell\u{fffd}title\u{fffd}"),
        "{svg:.400}"
    );
    // `results.csv` with one field of data line `row` (0 is the first) set to `value`, as `name`.
    let text = std::fs::read_to_string(&res).unwrap();
    let tampered = |row: usize, column: &str, value: &str, name: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let col = lines[0].split(',').position(|c| c == column).unwrap();
        let mut fields: Vec<String> = lines[row + 1].split(',').map(str::to_owned).collect();
        fields[col] = value.into();
        lines[row + 1] = fields.join(",");
        let path = t.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    // `plot` of `p` by delay, a series per pod count; `refused` checks it is a usage error.
    let args = |p: &Path, svg: &str| -> Vec<String> {
        ["plot", p.to_str().unwrap(), "--x", "delay", "--series", "pods", "--out"]
            .into_iter()
            .map(str::to_owned)
            .chain([t.file(svg)])
            .collect()
    };
    let plot = |p: &Path, svg: &str| run(&args(p, svg).iter().map(String::as_str).collect::<Vec<_>>());
    let refused = |p: &Path, says: &[&str]| {
        usage_error(&args(p, "t.svg").iter().map(String::as_str).collect::<Vec<_>>(), says);
    };
    // A row whose mean is not a number is left out, and the user is told.
    let o = plot(&tampered(0, "startup_mean_s", "abc", "bad.csv"), "bad.svg");
    assert_exit(&o, 0, "plot with a bad value");
    assert!(
        stderr(&o).contains("note: 1 row without a number in column startup")
            && stderr(&o).contains(
                "not a number in column startup, where a sweep writes a number or nothing: line 2 holds \"abc\""
            ),
        "{}",
        stderr(&o)
    );
    // A row no sweep writes is refused, naming the file's line: an interval upside down, no
    // replication.
    let upside_down = tampered(1, "startup_ci95_lo_s", "1e9", "upside-down.csv");
    refused(
        &upside_down,
        &["upside-down.csv: line 3: `startup_ci95_lo_s` 1000000000 is above `startup_ci95_hi_s`"],
    );
    refused(
        &tampered(1, "reps", "0", "no-reps.csv"),
        &["no-reps.csv: line 3: `reps` holds 0; expected a whole number of replications, at least 1"],
    );
    // More replications unfinished than were run, fewer than none, a mean outside its own
    // interval.
    for (column, value, says) in [
        (
            "incomplete",
            "4",
            "`incomplete` holds 4; expected a whole number of replications from 0 to `reps` (3)",
        ),
        (
            "incomplete",
            "-1",
            "`incomplete` holds -1; expected a whole number of replications from 0 to `reps` (3)",
        ),
        (
            "startup_mean_s",
            "-1e9",
            "`startup_mean_s` -1000000000 is outside its own 95 % interval [",
        ),
        (
            "startup_mean_s",
            "1e9",
            "`startup_mean_s` 1000000000 is outside its own 95 % interval [",
        ),
        (
            "delay_effect_mean_s",
            "5",
            "`delay_effect_mean_s` 5 is outside its own 95 % interval [",
        ),
    ] {
        refused(
            &tampered(1, column, value, "impossible.csv"),
            &[&format!("impossible.csv: line 3: {says}")],
        );
    }
    // A NaN is a non-number too, named by its line, beside a row that is drawn.
    let o = plot(&tampered(1, "startup_mean_s", "NaN", "nan.csv"), "nan.svg");
    assert_exit(&o, 0, "plot with a NaN");
    assert!(stderr(&o).contains("line 3 holds \"NaN\""), "{}", stderr(&o));
    // A last `#` line without its line ending is a comment too.
    let unended = t.path().join("unended.csv");
    std::fs::write(&unended, text.clone() + "# the end").unwrap();
    let o = plot(&unended, "u.svg");
    assert_exit(&o, 0, "plot of a file ending in a comment without a line ending");
    // The line is the row's own with Windows line endings and `#` lines before it.
    let windows = t.path().join("windows.csv");
    let crlf =
        std::fs::read_to_string(&upside_down)
            .unwrap()
            .lines()
            .enumerate()
            .fold(String::new(), |mut out, (i, l)| {
                if i == 2 {
                    out.push_str("# a note\r\n\r\n");
                }
                out.push_str(l);
                out.push_str("\r\n");
                out
            });
    std::fs::write(&windows, &crlf).unwrap();
    refused(
        &windows,
        &["windows.csv: line 5: `startup_ci95_lo_s` 1000000000 is above"],
    );
    // And with an old Mac file's lone `\r`, whose `#` line the csv reader would take for a row.
    let mac = t.path().join("mac.csv");
    std::fs::write(&mac, crlf.replace("\r\n", "\r")).unwrap();
    refused(&mac, &["mac.csv: line 5: `startup_ci95_lo_s` 1000000000 is above"]);
    // A row of the wrong width is named by its own line.
    let ragged = t.path().join("ragged.csv");
    let mut rows: Vec<&str> = text.lines().collect();
    rows.insert(2, "# a note");
    rows.insert(4, "100,1");
    std::fs::write(&ragged, rows.join("\n") + "\n").unwrap();
    refused(
        &ragged,
        &["ragged.csv is not the results of a kubetwin sweep: invalid CSV (line 5: a row of 2 fields"],
    );
    assert!(!Path::new(&t.file("t.svg")).exists());
    usage_error(
        &["plot", res.to_str().unwrap(), "--x", "delay", "--out", &t.file("x.svg")],
        &["pods", "several values", "--series"],
    );
    usage_error(
        &["plot", res.to_str().unwrap(), "--x", "nope", "--out", &t.file("x.svg")],
        &["no column `nope`", "delay_ms"],
    );
}

#[test]
fn kubernetes_example_runs_one_shard_per_index() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let yaml = std::fs::read_to_string(root.join("examples/k8s/sweep-indexed-job.yaml")).expect("the Job manifest");
    assert!(!yaml.contains('\t'), "YAML must not contain tabs");
    let field = |key: &str| -> String {
        let line = yaml
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .unwrap_or_else(|| panic!("no {key} in the manifest"));
        line.split_once(':').unwrap().1.trim().to_owned()
    };
    assert_eq!(field("kind"), "PersistentVolumeClaim");
    assert!(yaml.contains("kind: Job") && yaml.contains("apiVersion: batch/v1"));
    assert_eq!(field("completionMode"), "Indexed");
    let n: u32 = field("completions").parse().expect("completions is a number");
    let parallelism: u32 = field("parallelism").parse().expect("parallelism is a number");
    assert!(n >= 2 && parallelism >= 1 && parallelism <= n);
    assert!(
        yaml.contains(&format!("--shard $((JOB_COMPLETION_INDEX+1))/{n}")),
        "each index runs shard index+1 of {n}"
    );
    assert!(yaml.contains("--out /results/shard-${JOB_COMPLETION_INDEX}"));
    assert!(yaml.contains("kubetwin sweep thesis-2019"));
    assert!(yaml.contains("claimName: kubetwin-results") && yaml.contains("mountPath: /results"));
    let merge = std::fs::read_to_string(root.join("examples/k8s/merge-job.yaml")).expect("the merge Job");
    assert!(merge.contains("kubetwin merge /results/shard-* --out /results/merged"));
    let docker = std::fs::read_to_string(root.join("Dockerfile")).expect("the Dockerfile");
    // The build stage is the workspace's rust-version.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let msrv = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("the workspace's rust-version")
        .trim_matches('"');
    assert!(docker.contains(&format!("FROM rust:{msrv} AS build")), "{msrv}");
    assert!(docker.contains("cargo build --release --locked -p kubetwin"));
    assert!(docker.contains("FROM debian:bookworm-slim"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("## Sweeps on a cluster")
            && readme.contains("kubetwin merge /results/shard-* --out /results/merged")
    );
}

/// A warning that only some `--set` values bring is shown, naming them: 1 ms node-status
/// updates overload the apiservers (W003), 10 s ones do not.
#[test]
fn warnings_of_set_values_are_shown_with_the_values() {
    let t = TempDir::new("sweep-warn");
    let out = t.file("w");
    let o = run(&[
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--reps",
        "1",
        "--set",
        "kubernetes.kubelet.node_status_update=10s,1ms",
        "--out",
        &out,
    ]);
    assert_exit(&o, 0, "sweep");
    let err = stderr(&o);
    assert!(
        err.contains("--set kubernetes.kubelet.node_status_update=1ms: warning[W003]"),
        "{err}"
    );
    assert!(!err.contains("node_status_update=10s: warning"), "{err}");
}

/// The `kubetwin sweep` commands of the README and the docs, run in order, do not clash: two
/// different sweeps never share an output directory (a sweep refuses a directory that holds
/// another one). The README's planner sweep used the default `sweep-out` of the researcher sweep
/// before it, and two `--out qps` sweeps had different axes.
#[test]
fn documented_sweeps_have_output_directories_of_their_own() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut docs = vec![root.join("README.md"), root.join("examples/consortium-32/README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            docs.push(path);
        }
    }
    // out dir -> (spec, where)
    let mut seen: std::collections::BTreeMap<String, (Vec<String>, String)> = Default::default();
    let mut sweeps = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        // Indented code lines, with `\` continuations joined.
        let mut commands = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            let Some(code) = line.strip_prefix("    ") else {
                continue;
            };
            let (code, more) = match code.trim_end().strip_suffix('\\') {
                Some(c) => (c, true),
                None => (code, false),
            };
            current.push_str(code);
            current.push(' ');
            if !more {
                commands.push(std::mem::take(&mut current));
            }
        }
        for command in commands {
            let command = command.split(" # ").next().unwrap_or_default();
            let words: Vec<&str> = command.split_whitespace().collect();
            let Some(at) = words.iter().position(|w| *w == "sweep") else {
                continue;
            };
            if at == 0 || !["kubetwin", "--"].contains(&words[at - 1]) || words.contains(&"...") {
                continue;
            }
            sweeps += 1;
            let mut out = "sweep-out".to_owned();
            let mut spec = Vec::new();
            let mut rest = words[at + 1..].iter();
            while let Some(w) = rest.next() {
                match *w {
                    "--out" => out = rest.next().unwrap().to_string(),
                    "--format" => {
                        rest.next();
                    }
                    "--plot" => {}
                    _ => spec.push(w.to_string()),
                }
            }
            let here = format!("{}: {command}", doc.display());
            if let Some((other, there)) = seen.get(&out) {
                assert_eq!(other, &spec, "two sweeps write {out}:\n  {there}\n  {here}");
            } else {
                seen.insert(out, (spec, here));
            }
        }
    }
    assert!(
        sweeps >= 6,
        "only {sweeps} documented sweeps found: the parser missed them"
    );
}

/// A point file whose times exceed any workload.timeout, or whose observed and exact start-ups
/// disagree on which replications finished, is refused on resume; both used to enter the
/// results (a 1e308 s mean, or an observed mean over fewer replications than the exact one).
#[test]
fn a_point_file_with_impossible_times_is_refused_on_resume() {
    let t = TempDir::new("sweep-impossible");
    let out = t.file("s");
    let dir = t.path().join("s");
    sweep_ok(&small(&out, &[]), None);
    let files = point_files(&dir);
    let original = read(&files[0]);
    let exact = json(&files[0])["startup_exact_s"].clone();
    let mut half = json(&files[0])["startup_observed_s"].clone();
    half[0] = serde_json::Value::Null;
    for (edit, why) in [
        (
            serde_json::json!([1e308, 1e308, 1e308]),
            "more than any workload.timeout allows",
        ),
        (half, "disagree on whether replication 0 finished"),
    ] {
        let mut v = json(&files[0]);
        v["startup_observed_s"] = edit;
        assert!(exact[0].is_number(), "replication 0 finished: {exact}");
        std::fs::write(&files[0], serde_json::to_vec(&v).unwrap()).unwrap();
        let o = run(&small(&out, &[]).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(!o.status.success(), "{why}: accepted");
        let err = stderr(&o);
        assert!(err.contains("does not hold point") && err.contains(why), "{err}");
    }
    std::fs::write(&files[0], original).unwrap();
    sweep_ok(&small(&out, &[]), None);
}

/// A point file's observer resolution must be one a scenario can have (1 ms to 30 days), and
/// its etcd entries' seconds without writes must fit in a run: `0`, `-1`, `1e308` and a stall
/// of 1e308 s used to be merged silently.
#[test]
fn a_point_file_with_an_impossible_resolution_or_etcd_stall_is_refused_on_resume() {
    let t = TempDir::new("sweep-resolution");
    let out = t.file("s");
    let dir = t.path().join("s");
    sweep_ok(&small(&out, &[]), None);
    let files = point_files(&dir);
    let original = read(&files[0]);
    let reps = json(&files[0])["startup_exact_s"].as_array().unwrap().len();
    let edits: Vec<(&str, serde_json::Value, &str)> = vec![
        ("resolution_s", serde_json::json!(0.0), "its resolution_s is 0"),
        ("resolution_s", serde_json::json!(-1.0), "its resolution_s is -1"),
        (
            "resolution_s",
            serde_json::json!(1e308),
            "its resolution_s is 1e308, not a workload.resolution",
        ),
        (
            "etcd",
            serde_json::Value::Array(vec![serde_json::json!([1.0, 1e308]); reps]),
            "has 1e308 s without writes, more than any workload.timeout allows",
        ),
    ];
    for (field, value, why) in edits {
        let mut v = json(&files[0]);
        v[field] = value;
        std::fs::write(&files[0], serde_json::to_vec(&v).unwrap()).unwrap();
        let o = run(&small(&out, &[]).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(!o.status.success(), "{field} {why}: accepted");
        let err = stderr(&o);
        assert!(err.contains("does not hold point") && err.contains(why), "{err}");
    }
    std::fs::write(&files[0], original).unwrap();
    sweep_ok(&small(&out, &[]), None);
}

/// A shard holds a point whose point at the smallest delay is in another shard: its delay
/// effect is empty, and `plot --y effect` says why it left it out.
#[test]
fn a_shards_effect_without_its_base_point_is_left_out_and_said_so() {
    let t = TempDir::new("sweep-effect-shard");
    let out = t.file("s");
    // Points 0..5: (4, 0), (4, 100), (4, 200), (8, 0), (8, 100), (8, 200); shard 2/2 holds
    // 1, 3 and 5: (4, 100) without its base, (8, 0) and (8, 200) with theirs.
    let args: Vec<String> = [
        "sweep",
        "thesis-2019",
        "--pods",
        "4,8",
        "--delay",
        "0ms,100ms,200ms",
        "--reps",
        "2",
        "--shard",
        "2/2",
        "--out",
        &out,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    sweep_ok(&args, None);
    let shard = Path::new(&out).join("shard-2-of-2.json");
    let v = json(&shard);
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    assert!(points[0]["delay_effect_mean_s"].is_null(), "{}", points[0]);
    assert_eq!(points[1]["delay_effect_mean_s"], 0.0);
    assert!(points[2]["delay_effect_mean_s"].is_number(), "{}", points[2]);
    let fig = t.file("e.svg");
    let o = run(&[
        "plot",
        shard.to_str().unwrap(),
        "--x",
        "delay",
        "--y",
        "effect",
        "--series",
        "pods",
        "--out",
        &fig,
    ]);
    assert_exit(&o, 0, "plot");
    assert!(stderr(&o).contains("another shard"), "{}", stderr(&o));
}

/// A sweep in which no replication of any point finishes measured nothing: it exits 1, as
/// `run` does, after writing its files; one in which some point finishes exits 0 with a
/// warning naming the others.
#[test]
fn a_sweep_where_nothing_finishes_fails_after_writing_its_files() {
    let t = TempDir::new("sweep-timeout");
    let out = t.path().join("s");
    let out_s = out.to_str().unwrap();
    let args = small(out_s, &["--set", "workload.timeout=1s"]);
    let o = kubetwin().args(&args).output().unwrap();
    assert_exit(&o, 1, "sweep with a 1-s timeout");
    assert!(
        stderr(&o).contains("no replication of any point finished"),
        "{}",
        stderr(&o)
    );
    assert!(out.join("results.csv").is_file());
    let some = t.path().join("some");
    let args = small(some.to_str().unwrap(), &["--set", "workload.timeout=1s,600s"]);
    let err = sweep_ok(&args, None);
    assert!(err.contains("did not finish within workload.timeout"), "{err}");
}

/// An error a `--set` value brings is named by the value, not by a line of the overlay the
/// sweep writes for it (which the user never saw).
#[test]
fn errors_of_set_values_are_named_by_the_values() {
    let err = usage_error(
        &[
            "sweep",
            "thesis-2019",
            "--set",
            "kubernetes.kubelet.kube_api_qps=-1",
            "--out",
            "/nonexistent/never",
        ],
        &["--set kubernetes.kubelet.kube_api_qps=-1.0: error[E011]"],
    );
    assert!(!err.contains("line "), "{err}");
    // Values the scenario's types refuse (they used to be placed at "line 2, column 1").
    for (set, expected) in [
        (
            "kubernetes.kubelet.kube_api_burst=-1",
            "expected a whole number from 0 to 4294967295",
        ),
        (
            "kubernetes.kubelet.kube_api_burst=99999999999",
            "expected a whole number from 0 to 4294967295",
        ),
        ("netem.placement=sideways", "expected one of `masters-egress`"),
    ] {
        let err = usage_error(
            &["sweep", "thesis-2019", "--set", set, "--out", "/nonexistent/never"],
            &[&format!("--set {set}: "), expected],
        );
        assert!(!err.contains("line ") && !err.contains("column "), "{err}");
    }
}

/// A double-quoted `--set` string keeps its commas (it used to be split into `"a` and `b"`); a
/// quote left open is a usage error.
#[test]
fn a_quoted_set_value_keeps_its_commas() {
    let t = TempDir::new("sweep-quoted");
    let out = t.file("s");
    let args: Vec<String> = [
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--reps",
        "1",
        "--set",
        r#"workload.image="a,b",c"#,
        "--out",
        &out,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let err = sweep_ok(&args, None);
    assert!(err.contains("2 points"), "{err}");
    let v = json(&t.path().join("s/results.json"));
    let images: Vec<&str> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["workload.image"].as_str().unwrap())
        .collect();
    assert_eq!(images, ["a,b", "c"]);
    usage_error(
        &[
            "sweep",
            "thesis-2019",
            "--set",
            r#"workload.image="a,b"#,
            "--out",
            &t.file("u"),
        ],
        &["does not close"],
    );
    assert!(!t.path().join("u").exists());
}

/// A figure that cannot be drawn does not keep `sweep --plot` from writing its results: an
/// empty shard exits 0 and a sweep where nothing finishes exits 1, as without `--plot`, both
/// with their results files and a warning that names no flag of `plot`. Both used to fail
/// with "cannot plot: ... (check --where)" and write no results.
#[test]
fn a_figure_that_cannot_be_drawn_leaves_the_results_written() {
    let t = TempDir::new("sweep-noplot");
    let empty = t.path().join("empty");
    let args: Vec<&str> = vec![
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--reps",
        "2",
        "--shard",
        "2/3",
        "--plot",
        "--out",
        empty.to_str().unwrap(),
    ];
    let err = sweep_ok(&args.iter().map(ToString::to_string).collect::<Vec<_>>(), None);
    assert!(
        err.contains("warning: ") && err.contains("shard-2-of-3.svg not written"),
        "{err}"
    );
    assert!(!err.contains("--where"), "{err}");
    assert!(empty.join("shard-2-of-3.csv").is_file() && empty.join("shard-2-of-3.json").is_file());
    assert!(!empty.join("shard-2-of-3.svg").exists());

    let none = t.path().join("none");
    let args = small(none.to_str().unwrap(), &["--set", "workload.timeout=1s", "--plot"]);
    let o = kubetwin().args(&args).output().unwrap();
    assert_exit(&o, 1, "sweep --plot with a 1-s timeout");
    let err = stderr(&o);
    assert!(
        err.contains("startup.svg not written") && err.contains("no replication of any point finished"),
        "{err}"
    );
    assert!(!err.contains("--where"), "{err}");
    assert!(none.join("results.csv").is_file() && none.join("results.json").is_file());
    assert!(!none.join("startup.svg").exists());
}

/// A boolean `--set` axis plots from results.csv as from results.json, as one line per value:
/// the CSV's `true` / `false` cells used to read back as strings, and then it was drawn along x
/// as 0 and 1 (ticks -1 to 2, a line and a band between false and true), which no setting
/// means. As x it is refused, saying to draw it as lines.
#[test]
fn a_boolean_axis_plots_from_csv_as_from_json() {
    let t = TempDir::new("sweep-bool");
    let out = t.file("s");
    let args: Vec<String> = [
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--reps",
        "2",
        "--set",
        "runtime.image_cached=false,true",
        "--out",
        &out,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    sweep_ok(&args, None);
    for input in ["results.json", "results.csv"] {
        let res = t.path().join("s").join(input);
        let fig = t.file(&format!("{input}.svg"));
        usage_error(
            &["plot", res.to_str().unwrap(), "--x", "image_cached", "--out", &fig],
            &["is not numeric (it holds `false`)", "--series image_cached"],
        );
        let o = run(&[
            "plot",
            res.to_str().unwrap(),
            "--x",
            "pods",
            "--series",
            "image_cached",
            "--out",
            &fig,
        ]);
        assert_exit(&o, 0, &format!("plot {input} --series image_cached"));
        let svg = std::fs::read_to_string(&fig).unwrap();
        for value in ["false", "true"] {
            assert!(svg.contains(&format!("image_cached = {value}")), "{input}: {svg}");
        }
        let o = run(&[
            "plot",
            res.to_str().unwrap(),
            "--x",
            "delay",
            "--where",
            "image_cached=true",
            "--out",
            &fig,
        ]);
        assert_exit(&o, 0, &format!("plot {input} --where image_cached=true"));
    }
}

/// Output paths of `sweep`, `merge` and `plot` that cannot be written are usage errors found
/// before any work, as for the other commands (they used to fail at the end with "Not a
/// directory" or "No such file or directory", exit 1).
#[test]
fn output_paths_that_cannot_be_written_are_refused_up_front() {
    let t = TempDir::new("sweep-outpaths");
    let file = t.file("afile");
    std::fs::write(&file, "x").unwrap();
    for out in [file.clone(), format!("{file}/sub")] {
        usage_error(
            &["sweep", "thesis-2019", "--pods", "4", "--reps", "1", "--out", &out],
            &["--out", "afile is a file, not a directory"],
        );
    }
    // A device is named for what it is (it was called a file).
    if cfg!(unix) {
        usage_error(
            &[
                "sweep",
                "thesis-2019",
                "--pods",
                "4",
                "--reps",
                "1",
                "--out",
                "/dev/null",
            ],
            &["--out /dev/null is a character device, not a directory"],
        );
    }
    let s = t.file("s");
    sweep_ok(&small(&s, &[]), None);
    let csv = format!("{s}/results.csv");
    usage_error(&["merge", &s, "--out", &csv], &["--out", "is a file, not a directory"]);
    usage_error(
        &[
            "plot",
            &csv,
            "--x",
            "delay",
            "--series",
            "pods",
            "--out",
            &t.file("nodir/x.svg"),
        ],
        &["--out", "the directory", "does not exist"],
    );
    usage_error(
        &["plot", &csv, "--x", "delay", "--series", "pods", "--out", &s],
        &["--out", "is a directory; give a file name such as"],
    );
    // Under a file: named as the file it is, not as a missing directory.
    let under = format!("{csv}/x.svg");
    let err = usage_error(
        &["plot", &csv, "--x", "delay", "--series", "pods", "--out", &under],
        &["--out", &format!("{csv} is a file, not a directory")],
    );
    assert!(!err.contains("does not exist"), "{err}");
}

/// A file in `points/` not named after a point of the sweep is left alone by `sweep` and by
/// `merge` alike, and both say so (`merge` used to fail on it as "not a point file").
#[test]
fn sweep_and_merge_both_leave_stray_files_in_points_alone() {
    let t = TempDir::new("sweep-stray");
    let s = t.file("s");
    let args: Vec<String> = ["sweep", "thesis-2019", "--pods", "4", "--reps", "1", "--out", &s]
        .iter()
        .map(ToString::to_string)
        .collect();
    sweep_ok(&args, None);
    std::fs::write(t.path().join("s/points/zzz.json"), "{}").unwrap();
    let err = sweep_ok(&args, None);
    assert!(err.contains("zzz.json") && err.contains("not read"), "{err}");
    let o = run(&["merge", &s, "--out", &t.file("m")]);
    assert_exit(&o, 0, "merge beside a stray file");
    assert!(
        stderr(&o).contains("zzz.json") && stderr(&o).contains("not read"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        read(&t.path().join("s/results.csv")),
        read(&t.path().join("m/results.csv"))
    );
    assert!(!t.path().join("m/points/zzz.json").exists());
}

/// The y axis scales to the values drawn: it reaches below 0 for negative values (a delay
/// effect's interval; they used to be cut off at 0, and a value far below panicked plotters),
/// is not stretched to 1 for sub-second values (which lay flat on the floor), and labels large
/// values in scientific notation (9 digits ran over the axis's title, 1e300 off the figure).
#[test]
fn plot_scales_its_y_axis_to_the_values() {
    let t = TempDir::new("plot-scale");
    let header = "pods,delay_ms,reps,startup_mean_s,startup_ci95_lo_s,startup_ci95_hi_s\n";
    let ticks = |rows: &str| -> Vec<String> {
        let csv = t.file("r.csv");
        std::fs::write(&csv, format!("{header}{rows}")).unwrap();
        let fig = t.file("r.svg");
        let out = run(&["plot", &csv, "--out", &fig]);
        assert_exit(&out, 0, rows);
        let svg = std::fs::read_to_string(&fig).unwrap();
        svg.split("</text>")
            .filter_map(|s| s.rsplit('>').next())
            .map(|s| s.trim().to_owned())
            .filter(|s| s.parse::<f64>().is_ok())
            .collect()
    };
    let has = |ticks: &[String], t: &str| ticks.iter().any(|x| x == t);
    let neg = ticks("4,0,5,0.5,0.4,0.6\n4,100,5,-2,-3,1\n");
    assert!(has(&neg, "-3") && has(&neg, "1"), "{neg:?}");
    let deep = ticks("4,0,5,0.5,0.4,0.6\n4,100,5,-1e7,-1e7,1\n");
    assert!(has(&deep, "-1e7"), "{deep:?}");
    let small = ticks("4,0,5,0.011,0.010,0.012\n4,100,5,0.0127,0.012,0.013\n");
    assert!(has(&small, "0.012") && !has(&small, "1"), "{small:?}");
    let huge = ticks("4,0,5,3e8,2e8,4e8\n4,100,5,2e8,1e8,3e8\n");
    assert!(has(&huge, "3e8") && !huge.iter().any(|x| x.len() > 12), "{huge:?}");
    let enormous = ticks("4,0,5,1e300,1e300,1e300\n4,100,5,2e300,2e300,2e300\n");
    assert!(enormous.iter().all(|x| x.len() < 80), "{enormous:?}");
}

/// plot's refusals say what the file has and why a column is empty, and an axis drawn as y is
/// not asked to be a line of its own (`--y delay` was told to "add it to --series").
#[test]
fn plot_refusals_name_what_the_file_holds() {
    let t = TempDir::new("plot-refusals");
    let out = t.file("s");
    sweep_ok(&small(&out, &[]), None);
    let res = t.path().join("s/results.csv");
    let res = res.to_str().unwrap();
    let fig = t.file("f.svg");
    usage_error(
        &[
            "plot", res, "--x", "delay", "--series", "pods", "--where", "pods=21", "--out", &fig,
        ],
        &["pods=21 matches no row (pods has 4, 8)"],
    );
    usage_error(
        &[
            "plot", res, "--x", "delay", "--series", "pods", "--where", "pods=4", "--where", "delay=7", "--out", &fig,
        ],
        &["delay=7 matches no row (delay has 0, 100, 200)"],
    );
    usage_error(
        &[
            "plot",
            res,
            "--x",
            "delay",
            "--y",
            "etcd_elections_mean",
            "--series",
            "pods",
            "--out",
            &fig,
        ],
        &[
            "no values to plot",
            "etcd's elections are simulated only in a run with a fault",
        ],
    );
    assert!(!Path::new(&fig).exists());
    let o = run(&[
        "plot", res, "--x", "exact", "--y", "delay", "--series", "pods", "--out", &fig,
    ]);
    assert_exit(&o, 0, "plot --y delay");
}

/// `plot --out /dev/stdout` writes the figure to standard output, a pipe or a file the shell
/// opened, where it used to be refused: a pipe names no file to replace ("cannot create a file in
/// /proc/self/fd"), and a redirected file's name does not end in .svg.
#[test]
fn plot_writes_to_standard_output() {
    let t = TempDir::new("plot-stdout");
    let out = t.file("s");
    sweep_ok(&small(&out, &[]), None);
    let res = t.path().join("s/results.json");
    let args = [
        "plot",
        res.to_str().unwrap(),
        "--series",
        "pods",
        "--out",
        "/dev/stdout",
    ];
    let piped = run(&args);
    assert_exit(&piped, 0, "plot --out /dev/stdout into a pipe");
    assert!(
        piped.stdout.starts_with(b"<svg"),
        "{}",
        String::from_utf8_lossy(&piped.stdout)
    );
    // `>>`: the figure goes after what the file held, through the shell's stream (reopening
    // the path wrote it over the file's start).
    let file = t.path().join("redirected");
    std::fs::write(&file, "prev\n").unwrap();
    let appending = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
    let status = kubetwin().args(args).stdout(Stdio::from(appending)).status().unwrap();
    assert!(status.success());
    assert_eq!(
        read(&file),
        [b"prev\n".as_slice(), &piped.stdout].concat(),
        "the same figure through a redirection"
    );
    let names: Vec<String> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
}

/// Values of a results file that `plotters` cannot draw are refused, naming the value, and no
/// figure is written: an x span or a y axis beyond the largest `f64` used to hang (plotters
/// searched for tick marks forever).
#[test]
fn plot_refuses_values_too_far_out_to_draw() {
    let t = TempDir::new("plot-extreme");
    let header = "pods,delay_ms,reps,startup_mean_s,startup_ci95_lo_s,startup_ci95_hi_s\n";
    for (rows, needles) in [
        (
            "4,-9e307,5,1,1,1\n4,9e307,5,2,1,2\n",
            &["cannot draw the figure", "the x values", "from -9e307 to 9e307"][..],
        ),
        (
            "4,0,5,1.7e308,1,1.7e308\n4,100,5,2,1,2\n",
            &["cannot draw the figure", "the y value 1.7e308", "too large"][..],
        ),
        // Two crossing lines fill every corner: the legend's room raises the axis past any
        // number (checked before the legend was placed, this hung).
        (
            "4,0,5,1.62e308,1.62e308,1.62e308\n4,100,5,0,0,0\n20,0,5,0,0,0\n20,100,5,1.62e308,1.62e308,1.62e308\n",
            &["cannot draw the figure", "the y value 1.62e308", "too large"][..],
        ),
    ] {
        let csv = t.file("r.csv");
        std::fs::write(&csv, format!("{header}{rows}")).unwrap();
        let fig = t.file("x.svg");
        // Spawned with a deadline: without the check, two of these never end.
        let mut child = kubetwin()
            .args(["plot", &csv, "--out", &fig, "--series", "pods"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("plot of {rows:?} still running after 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        let what = format!("plot of {rows:?}");
        assert_exit(&out, 2, &what);
        let err = stderr(&out);
        for n in needles {
            assert!(err.contains(n), "{what}: stderr lacks {n:?}:\n{err}");
        }
        assert!(!Path::new(&fig).exists(), "{what} wrote {fig}");
    }
}

/// `plot` leaves out a point some of whose replications did not finish, and says why: the mean
/// of those that did would understate it (a review found a 2-of-10 point at 500 ms drawn below
/// the point without delay).
#[test]
fn plot_leaves_out_points_whose_replications_did_not_all_finish() {
    let t = TempDir::new("plot-unfinished");
    let out = t.file("sweep");
    let o = kubetwin()
        .args(["sweep", "thesis-2019", "--pods", "4,100", "--reps", "6", "--out", &out])
        .args(["--set", "workload.timeout=130s"])
        .output()
        .expect("run kubetwin");
    assert_exit(&o, 0, "a sweep whose 100-pod point does not always finish");
    let csv = std::fs::read_to_string(format!("{out}/results.csv")).unwrap();
    let row100 = csv.lines().find(|l| l.starts_with("100,")).expect("a 100-pod row");
    let incomplete: u32 = row100.split(',').nth(4).unwrap().parse().unwrap();
    assert!(incomplete > 0 && incomplete < 6, "{row100}");
    let o = kubetwin()
        .args([
            "plot",
            &format!("{out}/results.json"),
            "--x",
            "pods",
            "--out",
            &t.file("f.svg"),
        ])
        .output()
        .expect("run kubetwin plot");
    assert_exit(&o, 0, "plot");
    let err = stderr(&o);
    assert!(
        err.contains("1 row is not drawn: some replications of its point did not finish"),
        "{err}"
    );
    // A sweep none of whose points finished has nothing to draw, and says why (it said only
    // that the column had no values).
    let none = t.file("none");
    let o = kubetwin()
        .args([
            "sweep",
            "thesis-2019",
            "--pods",
            "4",
            "--delay",
            "700h,710h",
            "--reps",
            "2",
            "--out",
            &none,
        ])
        .output()
        .expect("run kubetwin");
    assert_exit(&o, 1, "a sweep no replication of which finished");
    let o = kubetwin()
        .args(["plot", &format!("{none}/results.csv"), "--out", &t.file("g.svg")])
        .output()
        .expect("run kubetwin plot");
    assert_exit(&o, 2, "plot of points none of which finished");
    assert!(
        stderr(&o).contains("in every selected point (2) some replications did not finish"),
        "{}",
        stderr(&o)
    );
}

/// A point some of whose replications did not finish says how many did, in the table as in the
/// results (`incomplete`): its figures leave the others out. Points that all finished show no
/// such column.
#[test]
fn the_table_says_how_many_replications_finished() {
    let t = TempDir::new("sweep-incomplete");
    let params = t.file("lossy.toml");
    std::fs::write(
        &params,
        "[workload]\ntimeout = \"150s\"\n\n[[faults]]\nkind = \"degrade\"\na = \"vlan10\"\nb = \"vlan20\"\nloss_pct = 35.0\nat = \"0s\"\n",
    )
    .unwrap();
    let table = |out: &str, extra: &[&str]| {
        let args: Vec<String> = ["sweep", "thesis-2019", "--pods", "4,20", "--reps", "4", "--out", out]
            .iter()
            .chain(extra)
            .map(ToString::to_string)
            .collect();
        let o = kubetwin().args(&args).output().expect("run kubetwin");
        assert_exit(&o, 0, "a sweep with unfinished replications");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let lossy = table(&t.file("lossy"), &["--params", &params]);
    assert!(lossy.contains("finished"), "{lossy}");
    let row20 = lossy
        .lines()
        .find(|l| l.trim_start().starts_with("20 "))
        .expect("a row for 20 pods");
    assert!(row20.trim_end().ends_with("0/4"), "{lossy}");
    let clean = table(&t.file("clean"), &[]);
    assert!(!clean.contains("finished"), "{clean}");
}

/// Runs `kubetwin ARGS` (strings), expecting success; returns stderr.
fn ok(args: &[&str]) -> String {
    sweep_ok(&args.iter().map(ToString::to_string).collect::<Vec<_>>(), None)
}

/// `plot` reads its file as the measured data sets' readers do: a byte-order mark and `#`
/// comment lines are skipped (a BOM sent a JSON file to the CSV reader, a comment made "found
/// record with 23 fields, but the previous record has 1"), and two columns of one name are
/// refused, naming the file and the column (the first was plotted, silently).
#[test]
fn plot_skips_a_bom_and_comments_and_refuses_duplicate_columns() {
    let t = TempDir::new("plot-read");
    let s = t.file("s");
    ok(&[
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--delay",
        "0ms,100ms",
        "--reps",
        "1",
        "--out",
        &s,
    ]);
    let fig = t.file("f.svg");
    let json_text = std::fs::read_to_string(format!("{s}/results.json")).unwrap();
    let csv_text = std::fs::read_to_string(format!("{s}/results.csv")).unwrap();
    for (name, text) in [
        ("bom.json", format!("\u{feff}{json_text}")),
        ("bom.csv", format!("\u{feff}{csv_text}")),
        ("comment.csv", format!("# a comment\n{csv_text}")),
    ] {
        let input = t.file(name);
        std::fs::write(&input, text).unwrap();
        let o = run(&["plot", &input, "--out", &fig]);
        assert_exit(&o, 0, &format!("plot {name}"));
    }
    let dup: String = csv_text
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{}{l}\n", if i == 0 { "startup_mean_s," } else { "999," }))
        .collect();
    let input = t.file("dup.csv");
    std::fs::write(&input, dup).unwrap();
    usage_error(
        &["plot", &input, "--out", &fig],
        &[&input, "duplicate column `startup_mean_s` (columns 1 and 7)"],
    );
}

/// `plot` and `merge` read only the sweep format they know: a results.json or sweep.json of
/// another format, or a results.json without its `sweep` header, is refused, naming the file
/// and both formats (they were plotted and merged as if they were kubetwin-sweep/1). `merge`
/// also recomputes each sweep.json's hash from the spec it holds, instead of trusting it.
#[test]
fn plot_and_merge_refuse_another_sweep_format_and_an_edited_spec() {
    let t = TempDir::new("sweep-format");
    let shard = |k: &str| {
        let out = t.file(&format!("s{k}"));
        let spec = ["thesis-2019", "--pods", "4,8", "--reps", "1", "--shard"];
        ok(&[&["sweep"], &spec[..], &[&format!("{k}/2"), "--out", &out]].concat());
        out
    };
    let (s1, s2) = (shard("1"), shard("2"));
    let fig = t.file("f.svg");
    let results = json(&Path::new(&s1).join("shard-1-of-2.json"));
    let mut v2 = results.clone();
    v2["sweep"]["format"] = "kubetwin-sweep/2".into();
    let mut headless = results.clone();
    headless.as_object_mut().unwrap().remove("sweep");
    for (name, v, needles) in [
        (
            "v2.json",
            v2,
            &["format kubetwin-sweep/2", "reads only format kubetwin-sweep/1"][..],
        ),
        ("headless.json", headless, &["no \"sweep\" header"][..]),
    ] {
        let input = t.file(name);
        std::fs::write(&input, serde_json::to_vec(&v).unwrap()).unwrap();
        usage_error(
            &["plot", &input, "--x", "pods", "--out", &fig],
            &[&[input.as_str()][..], needles].concat(),
        );
    }
    let edited = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let dir = t.path().join(name);
        std::fs::create_dir_all(dir.join("points")).unwrap();
        for f in point_files(Path::new(&s2)) {
            std::fs::copy(&f, dir.join("points").join(f.file_name().unwrap())).unwrap();
        }
        let mut sweep = json(&Path::new(&s2).join("sweep.json"));
        edit(&mut sweep);
        std::fs::write(dir.join("sweep.json"), serde_json::to_vec(&sweep).unwrap()).unwrap();
        dir.to_str().unwrap().to_owned()
    };
    let v2 = edited("v2", &|s| {
        s["format"] = "kubetwin-sweep/2".into();
        s["spec"]["kubetwin_version"] = "9.9.9".into();
    });
    let merged = t.file("m");
    usage_error(
        &["merge", &s1, &v2, "--out", &merged],
        &[
            &format!("{v2}/sweep.json"),
            "format kubetwin-sweep/2 (written by kubetwin 9.9.9)",
            "reads only format kubetwin-sweep/1",
        ],
    );
    let respec = edited("respec", &|s| s["spec"]["reps"] = 2.into());
    usage_error(
        &["merge", &s1, &respec, "--out", &merged],
        &[&format!("{respec}/sweep.json"), "is not the hash of the spec it holds"],
    );
    assert!(!Path::new(&merged).exists(), "merge wrote {merged}");
    ok(&["merge", &s1, &s2, "--out", &merged]);
}

/// A `--set` value that serde_json's default parser reads one ulp off (62.260999999999996 as
/// 62.261) reads back as written, so its sweep.json's spec hashes as it did when written: the
/// sweep resumes and merges, and the results hold the value given.
#[test]
fn a_set_value_reads_back_as_written() {
    let t = TempDir::new("sweep-float");
    let s = t.file("s");
    let args = [
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--reps",
        "1",
        "--set",
        "kubernetes.kubelet.kube_api_qps=62.260999999999996",
        "--out",
        &s,
    ];
    ok(&args);
    let again = ok(&args);
    assert!(again.contains("skipped 1 point already done"), "{again}");
    let merged = t.file("m");
    ok(&["merge", &s, "--out", &merged]);
    let csv = String::from_utf8(read(&Path::new(&merged).join("results.csv"))).unwrap();
    assert!(
        csv.lines().nth(1).unwrap().starts_with("4,0,62.260999999999996,"),
        "{csv}"
    );
}

/// An `--out` directory that cannot take a sweep's files is a usage error found before any
/// work, for `sweep` and `merge` alike (exit code 2, as an output that cannot be written is
/// for `run`, `plot` or `plan`; both exited 1 with "cannot create .../points").
#[test]
fn an_out_directory_that_cannot_take_the_files_is_a_usage_error() {
    let t = TempDir::new("sweep-outdir");
    let s = t.file("s");
    let sweep = |out: &str| -> Vec<String> {
        ["sweep", "thesis-2019", "--pods", "4", "--reps", "1", "--out", out]
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    sweep_ok(&sweep(&s), None);
    // A file where points/ goes: root or not, it cannot be created.
    for name in ["sw", "m"] {
        std::fs::create_dir(t.path().join(name)).unwrap();
        std::fs::write(t.path().join(name).join("points"), "x").unwrap();
    }
    let (sw, m) = (t.file("sw"), t.file("m"));
    let args = sweep(&sw);
    usage_error(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[&format!("--out {sw}: cannot create {sw}/points")],
    );
    usage_error(
        &["merge", &s, "--out", &m],
        &[&format!("--out {m}: cannot create {m}/points")],
    );
    // A read-only directory, unless the tests run as root (whom it does not stop).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = t.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        if std::fs::write(ro.join("probe"), "").is_err() {
            let (rsw, rm) = (format!("{}/sw", ro.display()), format!("{}/m", ro.display()));
            let args = sweep(&rsw);
            usage_error(
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                &[&format!("--out {rsw}")],
            );
            usage_error(&["merge", &s, "--out", &rm], &[&format!("--out {rm}")]);
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A `--fault` with a `{...}` group is an axis: one point per value, its column named by the
/// keyword before the group, each point the `run` of that fault (same seed, same numbers), and
/// the default figure drawn against it. A `--fault` without a group is in every point.
#[test]
fn a_fault_with_a_group_is_an_axis_and_each_point_is_the_run_of_its_fault() {
    let t = TempDir::new("sweep-fault-axis");
    let out = t.file("f");
    // `sweep` and `run` alike, with `lb` the balancer's crash.
    let common = |verb: &str, lb: &str| -> Vec<String> {
        [
            verb,
            "thesis-2019",
            "--pods",
            "20",
            "--delay",
            "100ms",
            "--reps",
            "3",
            "--fault",
            lb,
        ]
        .into_iter()
        .chain(["--fault", "degrade vlan10 vlan20 delay 50ms at 5s repair 15s"])
        .map(str::to_owned)
        .collect()
    };
    let mut args = common("sweep", "crash lb at 30s repair {40s..80s/40s}");
    args.extend(["--plot", "--out", &out].map(str::to_owned));
    sweep_ok(&args, None);
    let results = json(&t.path().join("f/results.json"));
    let points = results["points"].as_array().expect("points");
    let repairs: Vec<&str> = points
        .iter()
        .map(|p| p["fault.repair"].as_str().expect("a repair"))
        .collect();
    assert_eq!(repairs, ["40s", "80s"]);
    for (p, repair) in points.iter().zip(["40s", "80s"]) {
        let fault = format!("crash lb at 30s repair {repair}");
        let mut run_args = common("run", &fault);
        run_args.extend(["--format", "json"].map(str::to_owned));
        let run_out = run(&run_args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_exit(&run_out, 0, &fault);
        let r: serde_json::Value = serde_json::from_slice(&run_out.stdout).expect("run's JSON");
        assert_eq!(p["startup_exact_mean_s"], r["startup_exact_s"]["mean"], "{fault}");
    }
    // Nothing runs before the balancer is back.
    let mean = |i: usize| points[i]["startup_mean_s"].as_f64().expect("a mean");
    assert!(mean(0) > 40.0 && mean(1) > 80.0, "{} {}", mean(0), mean(1));
    let svg = String::from_utf8(read(&t.path().join("f/startup.svg"))).unwrap();
    assert!(
        svg.contains("fault.repair (s)"),
        "the figure is drawn against the fault axis"
    );
    // The fixed fault is part of the scenario: without it the sweep is another one.
    let spec = json(&t.path().join("f/sweep.json"));
    let without = t.file("g");
    let mut args_without = args.clone();
    args_without.drain(10..12);
    *args_without.last_mut().unwrap() = without.clone();
    sweep_ok(&args_without, None);
    let other = json(&t.path().join("g/sweep.json"));
    assert_ne!(spec["spec"]["scenario_digest"], other["spec"]["scenario_digest"]);
    assert_eq!(spec["spec"]["set"], other["spec"]["set"]);
    // ... and named in the spec, which results.json carries.
    assert_eq!(
        spec["spec"]["faults"],
        serde_json::json!(["degrade vlan10 vlan20 delay 50ms at 5s repair 15s"])
    );
    assert!(other["spec"].get("faults").is_none(), "no field without fixed faults");
    // An axis of values that are not numbers is drawn as lines against the delay, as before.
    let hosts = t.file("h");
    sweep_ok(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "4",
            "--delay",
            "100ms",
            "--reps",
            "1",
            "--fault",
            "crash {master02,master03} at 30s",
            "--plot",
            "--out",
            &hosts,
        ]
        .map(str::to_owned),
        None,
    );
    let svg = String::from_utf8(read(&t.path().join("h/startup.svg"))).unwrap();
    assert!(
        svg.contains("added netem delay (ms)") && svg.contains("master03"),
        "{svg}"
    );
}

/// A fault axis whose value makes a fault the scenario refuses, and a group that does not
/// close, are usage errors that name the fault.
#[test]
fn a_fault_axis_value_the_scenario_refuses_names_the_fault() {
    let t = TempDir::new("sweep-fault-bad");
    let out = t.file("f");
    for (fault, says) in [
        (
            "crash {lb,nohost} at 30s",
            &["--fault 'crash nohost at 30s'", "faults[0].host", "nohost"][..],
        ),
        (
            "crash lb at 30s repair {20s,60s}",
            &["--fault 'crash lb at 30s repair 20s'", "not after the fault"],
        ),
        ("crash lb at {30s", &["never closed"]),
    ] {
        usage_error(
            &["sweep", "thesis-2019", "--pods", "4", "--fault", fault, "--out", &out],
            says,
        );
    }
    assert!(!t.path().join("f").exists(), "nothing written");
}

/// A JSON file that is not a sweep's results.json (a list, a number, text that is not JSON in a
/// `.json` file) and an empty file are named as such, with what a results.json begins with;
/// they were read as CSV without a `reps` column.
#[test]
fn plot_says_what_a_results_json_begins_with() {
    let t = TempDir::new("plot-not-json");
    let begins = "expected an object that begins {\"sweep\": {\"format\": \"kubetwin-sweep/1\"";
    for (name, text, what) in [
        ("j3.json", "[1,2,3]\n", "it holds a JSON list"),
        ("list.txt", " [{\"reps\": 1}]", "it holds a JSON list"),
        ("n.json", "42", "it holds a single JSON value"),
        ("bad.json", "reps,x\n1,2\n", "it is not JSON ("),
    ] {
        let path = t.file(name);
        std::fs::write(&path, text).unwrap();
        usage_error(
            &["plot", &path, "--out", &t.file("f.svg")],
            &[
                &format!("{name} is not the results.json of a kubetwin sweep: {what}"),
                begins,
            ],
        );
    }
    // A TOML file (its first line a `[table]`) is not taken for JSON.
    let toml = t.file("s.toml");
    std::fs::write(&toml, "[workload]\nreplicas = 4\n").unwrap();
    let err = usage_error(&["plot", &toml, "--out", &t.file("f.svg")], &["s.toml"]);
    assert!(!err.contains("JSON"), "{err}");
    let empty = t.file("empty.json");
    std::fs::write(&empty, "\n").unwrap();
    usage_error(
        &["plot", &empty, "--out", &t.file("f.svg")],
        &["empty.json is empty; expected the results.csv or results.json of a kubetwin sweep"],
    );
}

/// Counts of one are singular: "merged 1 point ... from 1 directory", "1 site, 1 worker" (they
/// said "1 points", "1 directories", "1 sites").
#[test]
fn counts_of_one_are_singular() {
    let t = TempDir::new("singular");
    let out = t.file("s");
    run_ok_quiet(&["sweep", "thesis-2019", "--pods", "4", "--reps", "1", "--out", &out]);
    let o = run(&["merge", &out, "--out", &t.file("m")]);
    assert_exit(&o, 0, "merge of one directory");
    let err = stderr(&o);
    assert!(
        err.contains("merged 1 point of sweep") && err.contains("from 1 directory ("),
        "{err}"
    );
    let g = run(&[
        "generate",
        "uniform",
        "--nodes",
        "1",
        "--sites",
        "1",
        "--out",
        &t.file("u.toml"),
    ]);
    assert_exit(&g, 0, "generate uniform of one worker at one site");
    let text = String::from_utf8(g.stdout).unwrap();
    assert!(
        text.contains("scenario `u`, 1 site, 1 worker, 3 masters") && text.contains("1 worker evenly over 1 site,"),
        "{text}"
    );
}

/// Runs `kubetwin ARGS`, expecting exit code 0.
fn run_ok_quiet(args: &[&str]) {
    let o = run(args);
    assert_exit(&o, 0, &format!("{args:?}"));
}

/// A point whose clock ticks less often than its pods start is warned of, as `run` warns of
/// it, by its values; a point read in kubectl's whole seconds is not.
#[test]
fn a_point_read_on_a_clock_coarser_than_its_start_up_is_warned_of() {
    let t = TempDir::new("sweep-coarse-clock");
    let out = t.file("out");
    let o = run(&[
        "sweep",
        "thesis-2019",
        "--pods",
        "4",
        "--set",
        "workload.resolution=1s,1h",
        "--reps",
        "2",
        "--out",
        &out,
    ]);
    assert_exit(&o, 0, "the sweep runs");
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.starts_with("warning: workload.resolution is longer than the start-up itself"))
        .unwrap_or_else(|| panic!("no warning:\n{err}"));
    assert!(
        line.contains("workload.resolution=3600s (resolution 3600s, exact mean"),
        "{line}"
    );
    assert!(!line.contains("workload.resolution=1s"), "{line}");
    assert!(line.ends_with("(kubectl's whole seconds: \"1s\")"), "{line}");
}

/// A finding a `--set` combination causes is placed in the scenario with the values laid over
/// it, without the lines of the overlay text the sweep wrote (a user's parameter file gets
/// them: `a_finding_outside_the_file_is_not_given_a_line_of_it`).
#[test]
fn a_set_combinations_findings_name_no_lines_of_the_sweeps_own_text() {
    let t = TempDir::new("sweep-set-finding");
    let out = t.file("out");
    let e = usage_error(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "4",
            "--set",
            "vpn.enabled=false",
            "--set",
            "runtime.slots=1",
            "--out",
            &out,
        ],
        &["the scenario with --set vpn.enabled=false --set runtime.slots=1 laid over it: error[E014]"],
    );
    assert!(!e.contains(" at line "), "{e}");
}

/// The default figure draws start-up against delay, else pods, else the first numeric axis; a
/// `--set` axis with more values than the one drawn is the study's own axis, and sweep says how
/// to draw against it (the command it prints works). A sweep whose drawn axis has the most
/// values gets no note.
#[test]
fn a_longer_axis_than_the_figures_is_pointed_to() {
    let t = TempDir::new("sweep-longer-axis");
    let out = t.file("s");
    let err = sweep_ok(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "4,8",
            "--set",
            "runtime.registry_rtt=50ms,100ms,200ms",
            "--reps",
            "1",
            "--plot",
            "--out",
            &out,
        ]
        .map(str::to_owned),
        None,
    );
    let results = format!("{out}/results.csv");
    let suggested = format!("`kubetwin plot {results} --x runtime.registry_rtt --series pods --out FILE.svg`");
    assert!(
        err.contains("note: startup.svg draws start-up against pods by the default rule") && err.contains(&suggested),
        "{err}"
    );
    let fig = t.file("rtt.svg");
    let out2 = run(&[
        "plot",
        &results,
        "--x",
        "runtime.registry_rtt",
        "--series",
        "pods",
        "--out",
        &fig,
    ]);
    assert_exit(&out2, 0, "the suggested plot");
    let err = sweep_ok(&small(&t.file("small"), &["--plot"]), None);
    assert!(!err.contains("note: startup.svg"), "{err}");
}

/// A `--set` axis's effect is paired as the delay's is: each point minus the point with the
/// axis at its first value, same pods and delay, replication by replication. Its mean is the
/// difference of the two points' means (every replication finished), its interval is narrower
/// than the point's own, and `plot` draws it with its band and a label that says what it is.
#[test]
fn a_set_axis_effect_is_paired_with_its_first_value() {
    let t = TempDir::new("sweep-set-effect");
    let out = t.file("s");
    sweep_ok(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "20",
            "--delay",
            "100ms,500ms",
            "--set",
            "runtime.image_cached=false,true",
            "--reps",
            "5",
            "--out",
            &out,
        ]
        .map(str::to_owned),
        None,
    );
    let v = json(&Path::new(&out).join("results.json"));
    let points = v["points"].as_array().unwrap();
    let col = "runtime.image_cached_effect_mean_s";
    for delay in [100, 500] {
        let at = |cached: bool| {
            points
                .iter()
                .find(|p| p["delay_ms"] == delay && p["runtime.image_cached"] == cached)
                .unwrap()
        };
        let (base, cached) = (at(false), at(true));
        assert_eq!(base[col], 0.0);
        let effect = cached[col].as_f64().unwrap();
        let diff = cached["startup_mean_s"].as_f64().unwrap() - base["startup_mean_s"].as_f64().unwrap();
        assert!((effect - diff).abs() < 1e-9, "{effect} vs {diff}");
        assert!(effect < -5.0, "a pre-pulled image saves its pull: {effect}");
        let width = |p: &serde_json::Value, stem: &str| {
            p[format!("{stem}_ci95_hi_s")].as_f64().unwrap() - p[format!("{stem}_ci95_lo_s")].as_f64().unwrap()
        };
        assert!(
            width(cached, "runtime.image_cached_effect") < width(cached, "startup"),
            "{cached}"
        );
    }
    let fig = t.file("effect.svg");
    let out = run(&[
        "plot",
        &format!("{out}/results.csv"),
        "--x",
        "delay",
        "--y",
        col,
        "--series",
        "runtime.image_cached",
        "--out",
        &fig,
    ]);
    assert_exit(&out, 0, "plot of the set axis's effect");
    let svg = std::fs::read_to_string(&fig).unwrap();
    assert!(
        svg.contains("effect of runtime.image_cached on start-up vs its first value, paired mean (s)"),
        "{svg}"
    );
    // The axis's last part with `_effect` names the same column.
    let short = t.file("short.svg");
    let out = run(&[
        "plot",
        &format!("{}/results.csv", t.file("s")),
        "--x",
        "delay",
        "--y",
        "image_cached_effect",
        "--series",
        "image_cached",
        "--out",
        &short,
    ]);
    assert_exit(&out, 0, "plot of the effect by its short name");
    assert_eq!(std::fs::read(&fig).unwrap(), std::fs::read(&short).unwrap());
}

/// A sweep records the scenario its points are computed from (`scenario.toml`, the resolved
/// scenario under a header naming its origin and digest): `run` reads it back and gives the
/// sweep's point, so a sweep can be reproduced after its scenario file or parameters changed.
#[test]
fn a_sweep_records_the_scenario_it_ran() {
    let t = TempDir::new("sweep-scenario-record");
    let out = t.file("s");
    sweep_ok(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "4",
            "--delay",
            "100ms",
            "--reps",
            "3",
            "--out",
            &out,
        ]
        .map(str::to_owned),
        None,
    );
    let record = format!("{out}/scenario.toml");
    let text = std::fs::read_to_string(&record).unwrap();
    let digest = json(&Path::new(&out).join("sweep.json"))["spec"]["scenario_digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.starts_with("# The scenario every point of this sweep is computed from: thesis-2019 (built-in) + topologies/params/thesis-2019.toml (shipped)")
            && text.contains(&format!("(scenario_digest {digest}")),
        "{text}"
    );
    let point = json(&Path::new(&out).join("results.json"))["points"][0]["startup_exact_mean_s"].clone();
    let again = run(&[
        "run", &record, "--pods", "4", "--delay", "100ms", "--reps", "3", "--format", "json",
    ]);
    assert_exit(&again, 0, "run of the recorded scenario");
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["startup_exact_s"]["mean"], point);
}

/// A sweep directory written before the spec recorded the model's digest is named as an
/// earlier build's, not as a hand-edited file (its hash, of a spec that now has the field,
/// would not match); its results.json still plots.
#[test]
fn an_earlier_builds_sweep_is_named_as_such() {
    let t = TempDir::new("sweep-earlier-build");
    let out = t.file("s");
    let args = ["sweep", "thesis-2019", "--pods", "4", "--reps", "1", "--out", &out].map(str::to_owned);
    sweep_ok(&args, None);
    for file in ["sweep.json", "results.json"] {
        let path = Path::new(&out).join(file);
        let mut v = json(&path);
        let spec = if file == "sweep.json" {
            &mut v["spec"]
        } else {
            &mut v["sweep"]["spec"]
        };
        spec.as_object_mut().unwrap().remove("model_digest").expect("the field");
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out2 = run(&args);
    let err = stderr(&out2);
    assert_ne!(out2.status.code(), Some(0), "{err}");
    assert!(
        err.contains("sweep.json: written by an earlier build of kubetwin (its spec records no model_digest)"),
        "{err}"
    );
    assert!(!err.contains("edited"), "{err}");
    let fig = t.file("f.svg");
    let plotted = run(&["plot", &format!("{out}/results.json"), "--x", "pods", "--out", &fig]);
    assert_exit(&plotted, 0, "plot of an earlier build's results");
}

/// An axis whose values are text with a unit (a duration, a percentage) gets a numeric column
/// beside it at the end, so that a script need not parse `50ms`; a boolean axis, already a
/// value a script reads, gets none.
#[test]
fn axes_with_units_get_numeric_columns() {
    let t = TempDir::new("sweep-typed");
    let out = t.file("s");
    sweep_ok(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "4",
            "--set",
            "runtime.registry_rtt=50ms,0.2s",
            "--set",
            "runtime.image_cached=false,true",
            "--fault",
            "degrade vlan10 vlan20 loss {1%,2.5%} at 5s repair 15s",
            "--reps",
            "1",
            "--out",
            &out,
        ]
        .map(str::to_owned),
        None,
    );
    let v = json(&Path::new(&out).join("results.json"));
    let columns: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        columns[columns.len() - 2..],
        ["runtime.registry_rtt_ms", "fault.loss_pct"]
    );
    assert!(!columns
        .iter()
        .any(|c| c.starts_with("runtime.image_cached_") && !c.contains("effect")));
    for p in v["points"].as_array().unwrap() {
        let ms = match p["runtime.registry_rtt"].as_str().unwrap() {
            "50ms" => 50.0,
            "200ms" => 200.0,
            other => panic!("{other}"),
        };
        assert_eq!(p["runtime.registry_rtt_ms"], ms, "{p}");
        let pct: f64 = p["fault.loss"].as_str().unwrap().trim_end_matches('%').parse().unwrap();
        assert_eq!(p["fault.loss_pct"], pct, "{p}");
    }
    let csv = std::fs::read_to_string(Path::new(&out).join("results.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",runtime.registry_rtt_ms,fault.loss_pct"),
        "{csv}"
    );
    // The numeric column stands for its axis in a figure: drawn along it, the text column it
    // repeats is not another axis to fix.
    let fig = t.file("rtt.svg");
    let drawn = run(&[
        "plot",
        &format!("{out}/results.csv"),
        "--x",
        "registry_rtt_ms",
        "--series",
        "image_cached,fault.loss",
        "--out",
        &fig,
    ]);
    assert_exit(&drawn, 0, "plot along the numeric column");
}

/// An axis whose values give the same start-ups in every replication (the kubelet's client
/// limit at 20 pods, far above what they ask) is named as not binding, so that a figure whose
/// lines lie on one another is not read as missing lines; an axis that matters is not.
#[test]
fn an_axis_that_does_not_bind_is_named() {
    let t = TempDir::new("sweep-no-bind");
    let err = sweep_ok(
        &[
            "sweep",
            "thesis-2019",
            "--pods",
            "20",
            "--set",
            "kubernetes.kubelet.kube_api_qps=5,50",
            "--set",
            "runtime.image_cached=false,true",
            "--reps",
            "2",
            "--out",
            &t.file("s"),
        ]
        .map(str::to_owned),
        None,
    );
    assert!(
        err.contains("note: every value of kubernetes.kubelet.kube_api_qps gives the same start-ups, replication by replication, at every point"),
        "{err}"
    );
    assert!(!err.contains("every value of runtime.image_cached"), "{err}");
}
