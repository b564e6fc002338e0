//! `kubetwin measure` against a stand-in `kubectl` (`testutils::StandInKubectl`, shared with the
//! validate crate's tests): a shell script that replays the captures in
//! `shared/data/kubectl-captures/namespace-run/`, logs every command line and keeps the namespaces
//! it "created", so a test sees what kubetwin asked for and what is left on the "cluster".

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use testutils::StandInKubectl;

use crate::support::{assert_exit, kubetwin, stderr, stdout};

/// The stand-in with room for the output and the `kubetwin measure` command around it.
struct StandIn {
    kubectl: StandInKubectl,
}

impl StandIn {
    fn new(tag: &str) -> Self {
        Self {
            kubectl: StandInKubectl::new(tag),
        }
    }

    fn set(&self, file: &str, content: &str) {
        self.kubectl.set(file, content);
    }

    fn out(&self) -> String {
        self.kubectl.dir().file("cells.csv")
    }

    fn raw_out(&self) -> String {
        self.kubectl.dir().file("cells.pods.csv")
    }

    /// `kubetwin measure` with the stand-in, its kubeconfig and `--out`, plus `extra`.
    fn command(&self, extra: &[&str]) -> std::process::Command {
        self.command_with(&self.kubectl.dir().file("kubectl"), extra)
    }

    /// `kubetwin measure` with `kubectl`, the stand-in's kubeconfig and `--out`, plus `extra`.
    fn command_with(&self, kubectl: &str, extra: &[&str]) -> std::process::Command {
        let mut cmd = kubetwin();
        cmd.args([
            "measure",
            "--kubectl",
            kubectl,
            "--kubeconfig",
            &self.kubectl.dir().file("kubeconfig"),
            "--out",
            &self.out(),
        ])
        .args(extra);
        cmd
    }

    fn measure(&self, extra: &[&str]) -> Output {
        self.command(extra).output().expect("run kubetwin measure")
    }

    fn calls(&self) -> Vec<Vec<String>> {
        self.kubectl.calls()
    }

    /// The namespaces named by the calls `VERB namespace NAME ...`.
    fn namespaces_of(&self, verb: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.len() > 2 && c[0] == verb && c[1] == "namespace")
            .map(|c| c[2].clone())
            .collect()
    }

    /// Namespaces still on the "cluster".
    fn remaining(&self) -> Vec<String> {
        self.kubectl.remaining()
    }
}

/// The data lines (not `#` comments) of a CSV file.
fn data_lines(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn measures_and_writes_the_cell_and_the_raw_rows() {
    let s = StandIn::new("ok");
    let out = s.measure(&["--pods", "20", "--runs", "2", "--delay-ms", "100"]);
    assert_exit(&out, 0, "measure");
    let text = stdout(&out);
    assert!(text.contains("run 1: namespace kubetwin-1-"), "{text}");
    assert!(text.contains("mean start-up 8.00 s over 2 runs"), "{text}");
    // stderr is a pipe here, so progress comes as log lines: one as each run starts.
    let log = stderr(&out);
    for run in ["run 1/2: namespace kubetwin-1-", "run 2/2: namespace kubetwin-2-"] {
        assert!(log.contains(run), "stderr lacks {run:?}:\n{log}");
    }
    // The stand-in's watch (the captured stream of another run) ends without showing these pods:
    // each run says so, and the cell falls back to the containers' starts.
    assert!(
        log.contains("warning: run 2: no watch times: kubectl's watch ended before every pod was shown Running"),
        "{log}"
    );
    // Runs after the first find the image on the nodes: the user is told how to simulate them.
    assert!(
        log.contains("does not remove nginx from the nodes between runs")
            && log.contains("runtime.image_cached = true"),
        "{log}"
    );
    assert_eq!(
        data_lines(&s.out()),
        [
            "pods,delay_ms,mean_s,runs,resolution_s,observed",
            "20,100,8.0,2,1,container-start"
        ]
    );
    let raw = data_lines(&s.raw_out());
    assert_eq!(raw.len(), 1 + 40, "header and 20 pods x 2 runs");
    assert!(raw[0].starts_with("run,pod,node,delay_ms,pods"), "{}", raw[0]);
    let created = s.namespaces_of("create");
    assert_eq!(created.len(), 2);
    assert!(created.iter().all(|n| n.starts_with("kubetwin-")), "{created:?}");
    assert_eq!(s.namespaces_of("delete"), created);
    assert!(s.remaining().is_empty());
    // The deployment used the default image.
    let create = s
        .calls()
        .into_iter()
        .find(|c| c[..2] == ["create", "deployment"])
        .expect("create deployment issued");
    assert_eq!(create[2..5], ["web", "--image", "nginx"]);
}

/// With a watch that shows every pod Running (the run the watch streams were captured in,
/// replayed at 20 times its pace), the cell is the thesis's kind: a kubectl watch, read to the
/// millisecond, its mean the runs' last pods shown Running; the raw rows carry each pod's time,
/// and `validate` simulates the watch for it.
/// A watch that meets a server that is down (connection refused) falls back to the containers'
/// starts, and the note does not blame an old kubectl for it; the note about kubectl older
/// than 1.16 is for a watch that ended or failed over the flag (the stand-in's stream, which
/// ends, gets neither).
#[test]
fn a_lost_watch_is_not_blamed_on_an_old_kubectl() {
    let s = StandIn::new("watch-down");
    s.set("fail-watch", "namespace-run/server-down.err");
    let out = s.measure(&["--pods", "20", "--runs", "1"]);
    assert_exit(&out, 0, "measure");
    let log = stderr(&out);
    assert!(log.contains("warning: run 1: no watch times"), "{log}");
    assert!(
        log.contains("note: the summary is observed = container-start (the last container's startedAt, 1 s) because run 1 had no watch times (the warnings above say why)"),
        "{log}"
    );
    assert!(!log.contains("older than 1.16"), "{log}");
}

#[test]
fn a_watched_run_writes_a_kubectl_watch_cell() {
    let s = StandIn::new("watched");
    s.set("watch-20", "");
    s.set("watch-pace", "20\n");
    let out = s.measure(&["--pods", "20", "--runs", "2", "--delay-ms", "100"]);
    assert_exit(&out, 0, "measure");
    assert!(!stderr(&out).contains("no watch times"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("(observed kubectl-watch, resolution 0.001 s)"),
        "{}",
        stdout(&out)
    );
    let cells = data_lines(&s.out());
    assert_eq!(cells[0], "pods,delay_ms,mean_s,runs,resolution_s");
    let f: Vec<&str> = cells[1].split(',').collect();
    assert_eq!([f[0], f[1], f[3], f[4]], ["20", "100", "2", "0.001"], "{cells:?}");
    let raw = data_lines(&s.raw_out());
    assert!(raw[0].ends_with(",running_s,watch_running_s"), "{}", raw[0]);
    let last_shown = |run: &str| {
        raw[1..]
            .iter()
            .filter(|l| l.starts_with(&format!("{run},")))
            .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
            .fold(0.0, f64::max)
    };
    let mean: f64 = f[2].parse().unwrap();
    assert!(
        (mean - (last_shown("1") + last_shown("2")) / 2.0).abs() < 1e-9,
        "{cells:?}"
    );
    let v = validate_json("--data", &s.out());
    assert_eq!(v["cells"][0]["observed"], "kubectl-watch", "{v}");
    assert_eq!(s.namespaces_of("delete"), s.namespaces_of("create"));
    // `validate --raw` compares the watch's time pod by pod: the raw column's mean against the
    // simulated watch's, which shows the pods Running some seconds in.
    let shown: Vec<f64> = raw[1..]
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .collect();
    let v = validate_json("--raw", &s.raw_out());
    let w = &v["phases"][0]["watched_running"];
    let measured = w["measured_s"].as_f64().expect("a watched cell has watched_running");
    assert!(
        (measured - shown.iter().sum::<f64>() / shown.len() as f64).abs() < 1e-9,
        "{w}"
    );
    let simulated = w["simulated_s"].as_f64().unwrap();
    assert!(simulated > 5.0 && simulated < 60.0, "{w}");
    // The watch shows a pod Running after its container started (the status report comes
    // after), so later than the simulated phases add up to.
    let p = &v["phases"][0]["simulated"];
    let to_start = ["scheduling_s", "watch_to_kubelet_s", "on_node_s"]
        .iter()
        .map(|k| p[k].as_f64().unwrap())
        .sum::<f64>();
    assert!(simulated > to_start, "{w} against {p}");
    let text = stdout(&validate(&["--raw", &s.raw_out()]));
    assert!(text.contains("watched Running"), "{text}");
    assert!(text.contains(&format!("{measured:.2} / {simulated:.2}")), "{text}");
}

#[test]
fn failure_at_create_deployment_still_deletes_the_namespace() {
    let s = StandIn::new("fail");
    s.set("fail", "create deployment namespace-run/get-missing.err\n");
    let out = s.measure(&["--pods", "20", "--runs", "3"]);
    assert_exit(&out, 1, "measure with a failing create deployment");
    let err = stderr(&out);
    assert!(err.contains("run 1 of 3"), "{err}");
    assert!(err.contains("kubectl create deployment"), "{err}");
    assert!(err.contains("no run completed"), "{err}");
    assert!(
        err.contains("no namespace this measurement created is left on the cluster"),
        "{err}"
    );
    let created = s.namespaces_of("create");
    assert_eq!(created.len(), 1);
    // The stand-in's log shows the namespace delete was still issued, and nothing is left.
    assert_eq!(s.namespaces_of("delete"), created);
    assert!(s.remaining().is_empty());
    assert!(
        !std::path::Path::new(&s.out()).exists(),
        "nothing measured, nothing written"
    );
}

#[test]
fn a_failed_second_run_keeps_the_first() {
    // Calls (1-based), without the watch (whose process would log a call of its own, in no
    // set order): 1 version; run 1: 2 create ns, 3 label, 4 create deploy, 5 scale, 6 get
    // deploy, 7 get pods, 8 get events, 9 get ns, 10 delete ns; run 2: 11 create ns, 12 label,
    // 13 create deploy.
    let s = StandIn::new("partial");
    s.set("down", "13 14\n");
    let out = s.measure(&["--pods", "20", "--runs", "2", "--no-watch"]);
    assert_exit(&out, 1, "measure with the server down at run 2");
    let err = stderr(&out);
    assert!(err.contains("run 2 of 2"), "{err}");
    assert!(err.contains("unreachable"), "{err}");
    assert!(err.contains("kubectl create deployment"), "{err}");
    assert!(err.contains("wrote the 1 completed run"), "{err}");
    assert_eq!(
        data_lines(&s.out()),
        [
            "pods,delay_ms,mean_s,runs,resolution_s,observed",
            "20,0,8.0,1,1,container-start"
        ]
    );
    assert_eq!(data_lines(&s.raw_out()).len(), 1 + 20);
    assert_eq!(s.namespaces_of("delete"), s.namespaces_of("create"));
    assert!(s.remaining().is_empty());
}

/// `kubetwin measure` through a kubectl that first makes a directory of `--out` (after the check
/// before the first run, so that the final write fails), with `TMPDIR` set to `tmpdir`.
fn measure_into_a_lost_out(s: &StandIn, tmpdir: &str) -> Output {
    let wrapper = s.kubectl.dir().file("kubectl-in-the-way");
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = --probe ] || mkdir -p '{}'\nexec '{}' \"$@\"\n",
        s.out(),
        s.kubectl.dir().file("kubectl")
    );
    std::fs::write(&wrapper, script).unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    s.command_with(&wrapper, &["--pods", "20", "--runs", "2"])
        .env("TMPDIR", tmpdir)
        .output()
        .expect("run kubetwin measure")
}

/// When the summary and the raw rows cannot be written at the end (a full disk used to lose
/// every run), `--out` is left as it was, and the runs measured go to a directory of their own
/// under the temporary directory, named in the error.
#[test]
fn runs_that_cannot_be_written_to_out_are_saved_elsewhere() {
    let s = StandIn::new("lost-out");
    let tmp = s.kubectl.dir().file("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = measure_into_a_lost_out(&s, &tmp);
    assert_exit(&out, 1, "measure whose --out cannot be written");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot write {} and {}", s.out(), s.raw_out())),
        "{err}"
    );
    assert!(std::path::Path::new(&s.out()).is_dir(), "--out was replaced");
    assert!(
        !std::path::Path::new(&s.raw_out()).exists(),
        "half the output was written"
    );
    let saved: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let (cells, raw) = (saved[0].join("cells.csv"), saved[0].join("cells.pods.csv"));
    assert!(
        err.contains(&format!(
            "what the 2 runs measured is saved instead in {} and {}",
            cells.display(),
            raw.display()
        )),
        "{err}"
    );
    assert_eq!(
        data_lines(cells.to_str().unwrap()),
        [
            "pods,delay_ms,mean_s,runs,resolution_s,observed",
            "20,0,8.0,2,1,container-start"
        ]
    );
    assert_eq!(
        data_lines(raw.to_str().unwrap()).len(),
        1 + 40,
        "header and 20 pods x 2 runs"
    );
    assert!(s.remaining().is_empty());
}

/// When the temporary directory cannot take the runs either, they are printed on stderr.
#[test]
fn runs_that_cannot_be_saved_anywhere_are_printed() {
    let s = StandIn::new("lost-everywhere");
    let out = measure_into_a_lost_out(&s, &s.kubectl.dir().file("no-such-dir"));
    assert_exit(&out, 1, "measure whose --out and TMPDIR cannot be written");
    let err = stderr(&out);
    assert!(err.contains("nor could they be saved under"), "{err}");
    let printed: Vec<&str> = err
        .lines()
        .skip_while(|l| *l != format!("----- {} -----", s.out()))
        .take_while(|l| *l != "----- end -----")
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert_eq!(printed.len(), 1 + 2 + 1 + 41, "{err}");
    assert_eq!(printed[2], "20,0,8.0,2,1,container-start", "{err}");
    assert_eq!(printed[3], format!("----- {} -----", s.raw_out()), "{err}");
    assert!(printed[4].starts_with("run,pod,node,delay_ms,pods"), "{err}");
}

#[test]
fn namespaces_left_behind_are_printed_with_the_command_to_remove_them() {
    // The server goes down at run 1's create deployment (call 4, without the watch) and stays
    // down: the cleanup cannot check the labels, so it deletes nothing and reports the namespace.
    let s = StandIn::new("leftover");
    s.set("down", "4 1000\n");
    let out = s.measure(&["--pods", "20", "--runs", "1", "--no-watch"]);
    assert_exit(&out, 1, "measure with the server down for good");
    let created = s.namespaces_of("create");
    assert_eq!(created.len(), 1);
    assert!(s.namespaces_of("delete").is_empty());
    assert_eq!(s.remaining(), created);
    let err = stderr(&out);
    assert!(err.contains("may still exist"), "{err}");
    let command = format!(
        "{} --kubeconfig {} delete namespace {}",
        s.kubectl.dir().file("kubectl"),
        s.kubectl.dir().file("kubeconfig"),
        created[0]
    );
    assert!(err.contains(&command), "stderr lacks {command:?}:\n{err}");
}

#[test]
fn a_cluster_that_cannot_be_reached_creates_nothing() {
    let s = StandIn::new("preflight");
    s.set("fail", "version -o namespace-run/bad-kubeconfig.err\n");
    let out = s.measure(&["--pods", "4"]);
    assert_exit(&out, 1, "measure with a bad kubeconfig");
    let err = stderr(&out);
    assert!(
        err.contains("bad kubeconfig") && err.contains("nothing was created"),
        "{err}"
    );
    assert_eq!(s.calls().len(), 1);

    let missing = s
        .command_with("/nonexistent/kubectl", &["--pods", "4"])
        .output()
        .unwrap();
    // An input kubetwin cannot use, as a missing --kubeconfig is: exit code 2.
    assert_exit(&missing, 2, "measure with a missing kubectl");
    assert!(stderr(&missing).contains("--kubectl"), "{}", stderr(&missing));
}

#[test]
fn ctrl_c_cleans_up() {
    interrupted_measure_cleans_up("-INT");
}

/// `kill`, `timeout` and a Kubernetes Job's deletion send SIGTERM: the same cleanup.
#[test]
fn sigterm_cleans_up() {
    interrupted_measure_cleans_up("-TERM");
}

/// A closed terminal sends SIGHUP: the same cleanup.
#[test]
fn sighup_cleans_up() {
    // kubetwin keeps a SIGHUP ignored when it started ignored (`nohup`), as it should; a test
    // run that ignores it would then wait out measure's own time-out and fail obscurely.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let ignored = status
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & 1 != 0);
        assert!(
            !ignored,
            "SIGHUP is ignored by whatever runs these tests (nohup?), so kubetwin, rightly, keeps ignoring it; run the tests where SIGHUP is delivered"
        );
    }
    interrupted_measure_cleans_up("-HUP");
}

/// Under `nohup` SIGHUP stays ignored: the measurement outlives a logout (ctrlc's handler
/// would otherwise replace nohup's disposition); SIGTERM still cleans up.
#[test]
fn under_nohup_a_hangup_does_not_stop_the_measurement() {
    let s = StandIn::new("nohup");
    let inner = s.command(&["--pods", "21", "--runs", "2"]);
    let mut cmd = std::process::Command::new("nohup");
    cmd.arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nohup kubetwin measure");
    let polls = || s.calls().iter().filter(|c| is_call(c, "get", "pods")).count();
    // Guards against a hang, not timing checks.
    let deadline = Instant::now() + Duration::from_secs(300);
    while polls() == 0 {
        assert!(Instant::now() < deadline, "kubetwin never polled the pods");
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = |signal: &str| {
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    };
    kill("-HUP");
    let after_hangup = polls();
    let deadline = Instant::now() + Duration::from_secs(60);
    while polls() <= after_hangup {
        assert!(Instant::now() < deadline, "the hangup stopped the polling");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill("-TERM");
    let out = child.wait_with_output().expect("kubetwin ends");
    assert_died_by(&out, "-TERM");
    let err = stderr(&out);
    assert_eq!(err.matches("interrupted").count(), 1, "the hangup was ignored: {err}");
    let created = s.namespaces_of("create");
    let deletes = s
        .calls()
        .into_iter()
        .filter(|c| c[..2] == ["delete", "namespace"])
        .count();
    assert_eq!((created.len(), deletes), (1, 1));
}

/// That `kubetwin measure` ended by `signal` (`-INT`, `-TERM`, `-HUP`), as a process without a
/// handler does, after cleaning up: a shell script's loop then stops on Ctrl-C.
fn assert_died_by(out: &std::process::Output, signal: &str) {
    use std::os::unix::process::ExitStatusExt;
    let number = match signal {
        "-INT" => 2,
        "-TERM" => 15,
        "-HUP" => 1,
        other => panic!("no such signal in these tests: {other}"),
    };
    let err = stderr(out);
    assert_eq!(out.status.signal(), Some(number), "{:?}\n{err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
}

/// Starts `kubetwin measure` with `args` against `s`, its output piped.
fn spawn_measure(s: &StandIn, args: &[&str]) -> std::process::Child {
    s.command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubetwin measure")
}

/// Whether `call` is `kubectl VERB KIND` itself, not the run's watch (`get pods -w`, which
/// starts a second before the create and runs beside the polls).
fn is_call(call: &[String], verb: &str, kind: &str) -> bool {
    call[..2] == [verb, kind] && !call.iter().any(|a| a == "-w")
}

/// Waits until kubetwin has run `kubectl VERB KIND` (not the watch) against `s`. A guard
/// against a hang, not a timing check: every call these tests wait for comes within seconds.
fn wait_for_call(s: &StandIn, verb: &str, kind: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while !s.calls().iter().any(|c| is_call(c, verb, kind)) {
        assert!(Instant::now() < deadline, "kubetwin never ran kubectl {verb} {kind}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` (`-INT`, ...) to `child`.
fn send(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// Starts `kubetwin measure` with `args` against `s`, sends it `signal` once it polls the pods,
/// and returns its output after checking that it died by the signal.
fn measure_signalled_while_polling(s: &StandIn, args: &[&str], signal: &str) -> Output {
    let child = spawn_measure(s, args);
    wait_for_call(s, "get", "pods");
    send(&child, signal);
    let out = child.wait_with_output().expect("kubetwin ends");
    assert_died_by(&out, signal);
    out
}

/// Runs `kubetwin measure` with `args` against `s`, sends it Ctrl-C once it has run `kubectl
/// VERB KIND`, checks that it died by the signal, and returns its stderr.
fn measure_interrupted_at(s: &StandIn, args: &[&str], [verb, kind]: [&str; 2]) -> String {
    let child = spawn_measure(s, args);
    wait_for_call(s, verb, kind);
    send(&child, "-INT");
    let out = child.wait_with_output().expect("kubetwin ends");
    assert_died_by(&out, "-INT");
    stderr(&out)
}

fn interrupted_measure_cleans_up(signal: &str) {
    // 21 pods wanted, the stand-in always shows 20 running: kubetwin polls until interrupted.
    let s = StandIn::new("ctrl-c");
    let out = measure_signalled_while_polling(&s, &["--pods", "21", "--runs", "2"], signal);
    let err = stderr(&out);
    assert!(err.contains("interrupted") && err.contains("cancelled"), "{err}");
    let created = s.namespaces_of("create");
    assert_eq!(created.len(), 1, "no second run after Ctrl-C");
    let deletes: Vec<Vec<String>> = s
        .calls()
        .into_iter()
        .filter(|c| c[..2] == ["delete", "namespace"])
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0][2], created[0]);
    assert_eq!(deletes[0][3], "--wait=false");
    assert!(s.remaining().is_empty());
}

/// A read refused once after the pods run (`get events`: the API server restarting, a VPN blip)
/// is tried again, as the pod polls are, instead of losing the run.
#[test]
fn a_refused_read_after_the_pods_run_is_tried_again() {
    // Which call the run's `get events` is, from a run without failures.
    // Without the watch, whose process logs its call beside the run's, in no set order.
    let probe = StandIn::new("events-probe");
    assert_exit(
        &probe.measure(&["--pods", "20", "--runs", "1", "--no-watch"]),
        0,
        "measure",
    );
    let n = 1 + probe
        .calls()
        .iter()
        .position(|c| c[..2] == ["get", "events"])
        .expect("the run reads its events");
    let s = StandIn::new("events-down");
    s.set("down", &format!("{n} {}", n + 1));
    let out = s.measure(&["--pods", "20", "--runs", "1", "--no-watch"]);
    assert_exit(&out, 0, "measure with one refused get events");
    let reads = s.calls().iter().filter(|c| c[..2] == ["get", "events"]).count();
    assert_eq!(reads, 2, "{}", stderr(&out));
    assert!(s.remaining().is_empty());
}

/// Ctrl-C while a finished run's namespace is being deleted (`--wait=true`, which takes tens of
/// seconds on a real cluster): the waiting kubectl is stopped after the grace, and the
/// namespace is deleted all the same, without waiting (it used to be reported left).
#[test]
fn ctrl_c_during_a_waiting_deletion_still_deletes_the_namespace() {
    let s = StandIn::new("wait-int");
    s.set("hang", "delete namespace --wait=true");
    let err = measure_interrupted_at(&s, &["--pods", "20", "--runs", "2"], ["delete", "namespace"]);
    let deletes: Vec<Vec<String>> = s
        .calls()
        .into_iter()
        .filter(|c| c[..2] == ["delete", "namespace"])
        .collect();
    assert_eq!(deletes.len(), 2, "{deletes:?}\n{err}");
    assert_eq!(
        (deletes[0][3].as_str(), deletes[1][3].as_str()),
        ("--wait=true", "--wait=false")
    );
    // kubectl's own wait ends before --kubectl-timeout (90 s) stops it: not the 120-s default.
    assert_eq!(deletes[0][4], "--timeout=85s");
    assert!(s.remaining().is_empty(), "{:?}\n{err}", s.remaining());
    assert!(!err.contains("may still exist"), "{err}");
}

/// Ctrl-C while a finished run's clean-up checks its namespace's labels, and the check hangs
/// past the grace: the check is made again and the namespace deleted (it was reported left: no
/// label check, no delete).
#[test]
fn a_namespace_check_stopped_by_the_grace_is_made_again() {
    let s = StandIn::new("check-again");
    s.set("hang1", "get namespace");
    let err = measure_interrupted_at(&s, &["--pods", "20", "--runs", "2"], ["get", "namespace"]);
    let checks = s.calls().iter().filter(|c| c[..2] == ["get", "namespace"]).count();
    assert_eq!(checks, 2, "{err}");
    assert!(s.remaining().is_empty(), "{:?}\n{err}", s.remaining());
}

/// A second signal during the clean-up quits at once; the hint it leaves for the namespace names
/// the measured cluster's kubectl and kubeconfig (a bare `kubectl delete namespace`, pasted,
/// would go to the user's current context, perhaps another cluster).
#[test]
fn a_second_signal_leaves_a_hint_for_the_measured_cluster() {
    let s = StandIn::new("twice");
    // The namespace's deletion hangs: the second signal comes while it is under way.
    s.set("hang", "delete namespace");
    let child = spawn_measure(&s, &["--pods", "21", "--runs", "2"]);
    wait_for_call(&s, "get", "pods");
    send(&child, "-INT");
    wait_for_call(&s, "delete", "namespace");
    send(&child, "-INT");
    let out = child.wait_with_output().expect("kubetwin ends");
    assert_died_by(&out, "-INT");
    let err = stderr(&out);
    let ns = &s.namespaces_of("create")[0];
    let on_cluster = format!(
        "{} --kubeconfig {}",
        s.kubectl.dir().file("kubectl"),
        s.kubectl.dir().file("kubeconfig")
    );
    for hint in [
        format!("`{on_cluster} delete namespace {ns}`"),
        format!("`{on_cluster} get namespaces -l app.kubernetes.io/managed-by=kubetwin --show-labels`"),
    ] {
        assert!(err.contains(&hint), "no {hint} in:\n{err}");
    }
}

/// A kubectl command that hangs is stopped at `--kubectl-timeout` (the polls fail until the
/// run's own time-out), and the run's namespace is still deleted (a review's hung `get pods`
/// held `measure` past its --run-timeout and past SIGTERM).
#[test]
fn a_hung_kubectl_is_stopped_and_the_namespace_still_deleted() {
    let s = StandIn::new("hang");
    s.set("hang", "get pods");
    let out = s.measure(&[
        "--pods",
        "20",
        "--runs",
        "1",
        "--kubectl-timeout",
        "300ms",
        "--run-timeout",
        "1s",
    ]);
    assert_exit(&out, 1, "a hung kubectl");
    let err = stderr(&out);
    assert!(err.contains("only 0 of 20 pods were running"), "{err}");
    assert!(s.namespaces_of("get").len() <= 1, "the clean-up looks once");
    assert_eq!(s.namespaces_of("delete"), s.namespaces_of("create"));
    assert!(s.remaining().is_empty());
}

/// SIGTERM while a kubectl command hangs: the command is stopped a grace period later, the
/// namespace deleted, and kubetwin dies by the signal.
#[test]
fn sigterm_during_a_hung_kubectl_still_cleans_up() {
    let s = StandIn::new("hang-term");
    s.set("hang", "get pods");
    measure_signalled_while_polling(&s, &["--pods", "20", "--runs", "1"], "-TERM");
    assert_eq!(s.namespaces_of("delete"), s.namespaces_of("create"));
    assert!(s.remaining().is_empty());
}

/// The live-cluster loop end to end on captured output: `measure` writes raw rows, `validate
/// --raw` compares them with the simulation cell by cell and phase by phase.
#[test]
fn measured_raw_rows_feed_validate_phase_by_phase() {
    let s = StandIn::new("phases");
    let out = s.measure(&["--pods", "20", "--runs", "2", "--delay-ms", "100"]);
    assert_exit(&out, 0, "measure");
    let raw = s.raw_out();
    let v = validate_json("--raw", &raw);
    assert_eq!(v["cells"][0]["measured_s"], 8.0, "{v}");
    // Timestamps end at the container start; the simulation is read at the same point.
    assert_eq!(v["cells"][0]["observed"], "container-start", "{v}");
    let phases = v["phases"].as_array().expect("phases with --raw");
    assert_eq!(phases.len(), 1, "{v}");
    let p = &phases[0];
    assert_eq!((p["pods"].as_u64(), p["delay_ms"].as_u64()), (Some(20), Some(100)));
    assert_eq!(p["measured"]["pods"], 40, "20 pods x 2 runs");
    assert_eq!(p["simulated"]["pods"], 40, "20 pods x 2 replications");
    // No watch in this measurement: no watched-Running comparison.
    assert!(p.get("watched_running").is_none(), "{p}");
    // The measured means are those of the raw file's columns.
    let lines = data_lines(&raw);
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mean = |a: &str, b: &str| {
        let vals: Vec<f64> = lines[1..]
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                f[col(b)].parse::<f64>().unwrap() - f[col(a)].parse::<f64>().unwrap()
            })
            .collect();
        vals.iter().sum::<f64>() / vals.len() as f64
    };
    let close = |x: &serde_json::Value, y: f64| (x.as_f64().unwrap() - y).abs() < 1e-9;
    assert!(
        close(&p["measured"]["scheduling_s"], mean("created_s", "scheduled_s")),
        "{p}"
    );
    assert!(
        close(&p["measured"]["watch_to_kubelet_s"], mean("scheduled_s", "started_s")),
        "{p}"
    );
    assert!(
        close(&p["measured"]["on_node_s"], mean("started_s", "running_s")),
        "{p}"
    );
    // The simulated phases are durations a pod really spends: scheduling is quick, the node's
    // work (sandbox, pulls, start) is the longest.
    let sim = |k: &str| p["simulated"][k].as_f64().unwrap();
    assert!(sim("scheduling_s") >= 0.0 && sim("watch_to_kubelet_s") > 0.0, "{p}");
    assert!(
        sim("on_node_s") > sim("scheduling_s") + sim("watch_to_kubelet_s"),
        "{p}"
    );
    // The captured cluster ran on one host's clock: no node is behind.
    assert_eq!(v["clocks_behind"], serde_json::json!([]), "{v}");
    // Without --raw there is no phase table.
    let v = validate_json("--data", &s.out());
    assert!(v["phases"].is_null(), "{v}");

    // The same rows as if one node's clock were 5 s behind the control plane's: relative to its
    // kubelet's stamps, the bindings (control-plane clock) come 5 s later.
    let node = col("node");
    let skewed_node = lines[1].split(',').nth(node).unwrap().to_string();
    let mut text = std::fs::read_to_string(&raw).unwrap();
    text = text
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
            if f.len() > node && f[node] == skewed_node {
                let c = col("scheduled_s");
                f[c] = (f[c].parse::<f64>().unwrap() + 5.0).to_string();
            }
            f.join(",") + "\n"
        })
        .collect();
    let skewed = s.kubectl.dir().file("skewed.pods.csv");
    std::fs::write(&skewed, text).unwrap();
    let v = validate_json("--raw", &skewed);
    let behind = v["clocks_behind"].as_array().expect("clocks_behind with --raw");
    assert_eq!(behind.len(), 1, "{v}");
    assert_eq!(behind[0]["node"], skewed_node.as_str());
    assert!(behind[0]["at_least_s"].as_f64().unwrap() >= 4.0, "{v}");
}

/// `kubetwin validate FLAG FILE --scenario thesis-2019 --reps 2 --format json`, parsed.
fn validate_json(flag: &str, file: &str) -> serde_json::Value {
    let out = validate(&[flag, file, "--format", "json"]);
    serde_json::from_str(&stdout(&out)).expect("one JSON object")
}

/// `kubetwin validate ARGS --scenario thesis-2019 --reps 2`, which must succeed.
fn validate(args: &[&str]) -> std::process::Output {
    let out = kubetwin()
        .arg("validate")
        .args(args)
        .args(["--scenario", "thesis-2019", "--reps", "2"])
        .output()
        .expect("run kubetwin validate");
    assert_exit(&out, 0, &format!("validate {}", args.join(" ")));
    out
}

/// `validate --data SUMMARY --raw ROWS` warns when the rows are not those of the summary (two
/// measurements' files mixed up); the pair one `measure` wrote passes quietly.
#[test]
fn validate_warns_when_the_raw_rows_are_not_the_summarys() {
    let s = StandIn::new("pair");
    assert_exit(
        &s.measure(&["--pods", "20", "--runs", "2", "--delay-ms", "100"]),
        0,
        "measure",
    );
    let warnings_for = |data: &str| stderr(&validate(&["--data", data, "--raw", &s.raw_out()]));
    let err = warnings_for(&s.out());
    assert!(!err.contains("does not match"), "{err}");
    // The summary of another cell, and of the same cell with another mean.
    let other = s.kubectl.dir().file("other.csv");
    std::fs::write(&other, "pods,delay_ms,mean_s,runs,resolution_s\n20,0,8,2,1\n").unwrap();
    let err = warnings_for(&other);
    assert!(
        err.contains("does not match")
            && err.contains("the raw rows' cell pods=20 delay_ms=100 is not among the measured cells"),
        "{err}"
    );
    std::fs::write(&other, "pods,delay_ms,mean_s,runs,resolution_s\n20,100,9.5,2,1\n").unwrap();
    let err = warnings_for(&other);
    assert!(
        err.contains("cell pods=20 delay_ms=100: the raw rows give 2 runs with a mean of 8.00 s, the measured cells 2 runs with 9.50 s"),
        "{err}"
    );
}

/// The raw rows' file (`<out>.pods.csv`) is checked before the first run, like `--out`: a
/// directory there used to be found only after every run on the cluster, losing them all.
#[test]
fn a_raw_rows_path_that_cannot_be_written_is_refused_before_measuring() {
    let s = StandIn::new("raw-dir");
    std::fs::create_dir(s.raw_out()).unwrap();
    let out = s.measure(&["--pods", "20", "--runs", "1"]);
    assert_exit(&out, 2, "measure with a directory at the raw rows' path");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the raw per-pod rows go to {}, which is a directory",
            s.raw_out()
        )),
        "{err}"
    );
    assert!(s.calls().is_empty(), "kubectl was run: {:?}", s.calls());
    assert!(!std::path::Path::new(&s.out()).exists());
}

/// `--delay-ms` beyond 30 days is refused up front: it used to be written into a cells file
/// that `validate` could not simulate.
#[test]
fn a_delay_over_30_days_is_refused_before_measuring() {
    let s = StandIn::new("delay-range");
    let out = s.measure(&["--pods", "20", "--runs", "1", "--delay-ms", "2592000001"]);
    assert_exit(&out, 2, "measure --delay-ms 2592000001");
    let err = stderr(&out);
    assert!(
        err.contains("--delay-ms") && err.contains("at most 2592000000 ms"),
        "{err}"
    );
    assert!(s.calls().is_empty(), "kubectl was run: {:?}", s.calls());
}
