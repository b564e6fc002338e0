//! The real [`Kubectl`] runner pointed at a stand-in `kubectl` shell script that replays the captures.
//!
//! This exercises what [`crate::measure_fake`] cannot: spawning the program, the `--kubeconfig` and
//! `--request-timeout` flags, reading stdout, stderr and the exit code, and classifying real stderr. The
//! script keeps the namespaces it "created" as directories under its state folder, so the tests can see
//! what is left on the "cluster".

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use validate::kubectl::{Kubectl, KubectlConfig, KubectlError, KubectlRunner};
use validate::measure::{measure, MeasureError, MeasureOptions, MeasureReport, RunError, Step};

use testutils::StandInKubectl;

use crate::support::{CancelAfter, Cmd, FakeClock};

/// The shared stand-in (`testutils::StandInKubectl`) driven through the real runner.
struct StandIn {
    kubectl: StandInKubectl,
}

impl StandIn {
    fn new(tag: &str) -> Self {
        Self {
            kubectl: StandInKubectl::new(tag),
        }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.kubectl.kubeconfig()
    }

    fn runner(&self) -> Kubectl {
        Kubectl::new(KubectlConfig {
            program: self.kubectl.program(),
            kubeconfig: Some(self.kubeconfig()),
            request_timeout: Some(Duration::from_secs(5)),
            ..KubectlConfig::default()
        })
    }

    fn set(&self, file: &str, content: &str) {
        self.kubectl.set(file, content);
    }

    /// Every command line the script saw, without the connection flags (which are checked here).
    fn calls(&self) -> Vec<Vec<String>> {
        self.kubectl
            .calls_with_timeout()
            .into_iter()
            .map(|(timeout, call)| {
                assert_eq!(timeout, "--request-timeout=5s", "{call:?}");
                call
            })
            .collect()
    }

    fn namespaces_of(&self, cmd: Cmd) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| Cmd::of(c) == cmd)
            .map(|c| c[2].clone())
            .collect()
    }

    /// Namespaces still on the "cluster".
    fn remaining(&self) -> Vec<String> {
        self.kubectl.remaining()
    }

    /// A measurement of `runs` runs without the watch (`measure_watch.rs` and the tests below
    /// take the watch on; these tests count calls).
    fn measure(&self, runs: u32) -> Result<MeasureReport, MeasureError> {
        let mut opts = MeasureOptions::new(20);
        opts.runs = runs;
        opts.watch = false;
        measure(
            &opts,
            &mut self.runner(),
            &mut FakeClock::default(),
            &AtomicBool::new(false),
        )
    }
}

#[test]
fn measures_through_the_real_runner_and_cleans_up() {
    let stand_in = StandIn::new("ok");
    let report = stand_in.measure(2).unwrap();
    assert_eq!(report.rows.len(), 40);
    assert_eq!(report.cells[0].mean_s, 8.0);
    assert_eq!(report.server_version.as_deref(), Some("v1.35.0-alpha.lab"));
    let created = stand_in.namespaces_of(Cmd::CreateNamespace);
    assert_eq!(created.len(), 2);
    assert_eq!(stand_in.namespaces_of(Cmd::DeleteNamespace), created);
    assert!(stand_in.remaining().is_empty());
    // The report writes both files next to each other.
    let out = stand_in.kubectl.dir().path().join("cells.csv");
    let raw = report.write_files(&out).unwrap();
    assert_eq!(validate::dataset::read_cells(&out).unwrap(), report.cells);
    assert_eq!(validate::dataset::read_raw(&raw).unwrap(), report.rows);
}

#[test]
fn captured_failures_stop_the_run_and_the_namespace_is_deleted() {
    for (key, file, step) in [
        (
            "scale deployment",
            "namespace-run/scale-negative.err",
            Step::ScaleDeployment,
        ),
        (
            "create deployment",
            "namespace-run/get-missing.err",
            Step::CreateDeployment,
        ),
        ("get pods", "namespace-run/bad-kubeconfig.err", Step::GetPods),
    ] {
        let stand_in = StandIn::new("fail");
        stand_in.set("fail", &format!("{key} {file}\n"));
        match stand_in.measure(1) {
            Err(MeasureError::Run(failure)) => {
                let RunError::Kubectl { step: s, source, .. } = &failure.cause else {
                    panic!("{failure}")
                };
                let (s, leftover) = (*s, &failure.leftover);
                assert_eq!(s, step);
                assert!(leftover.is_empty());
                assert!(
                    matches!(
                        (step, source),
                        (Step::ScaleDeployment, KubectlError::InvalidArgument { .. })
                            | (Step::CreateDeployment, KubectlError::NotFound { .. })
                            | (Step::GetPods, KubectlError::Kubeconfig { .. })
                    ),
                    "{source:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        let created = stand_in.namespaces_of(Cmd::CreateNamespace);
        assert_eq!(created.len(), 1);
        assert_eq!(stand_in.namespaces_of(Cmd::DeleteNamespace), created);
        assert!(stand_in.remaining().is_empty());
    }
}

#[test]
fn bad_kubeconfig_is_caught_before_anything_is_created() {
    let stand_in = StandIn::new("kubeconfig");
    stand_in.set("fail", "version -o namespace-run/bad-kubeconfig.err\n");
    match stand_in.measure(1) {
        Err(MeasureError::Preflight {
            source: KubectlError::Kubeconfig { message },
        }) => {
            assert_eq!(message, "stat /nonexistent: no such file or directory")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stand_in.calls().len(), 1);
}

#[test]
fn server_down_midway() {
    // Calls (1-based): 1 version, 2 create ns, 3 label, 4 create deploy, 5 scale, 6 get deploy, 7.. get pods.
    // Down for the three tolerated polls, back for the cleanup: the namespace is deleted.
    let stand_in = StandIn::new("down-briefly");
    stand_in.set("down", "7 10\n");
    match stand_in.measure(1) {
        Err(MeasureError::Run(failure)) => {
            let (cause, leftover) = (&failure.cause, &failure.leftover);
            assert!(
                matches!(
                    cause,
                    RunError::Kubectl {
                        step: Step::GetPods,
                        source: KubectlError::ServerUnreachable { .. },
                        ..
                    }
                ),
                "{cause:?}"
            );
            assert!(leftover.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        stand_in.namespaces_of(Cmd::DeleteNamespace),
        stand_in.namespaces_of(Cmd::CreateNamespace)
    );
    assert!(stand_in.remaining().is_empty());

    // Down for good: the labels cannot be checked, so nothing is deleted and the namespace is reported.
    let stand_in = StandIn::new("down-for-good");
    stand_in.set("down", "7 1000\n");
    let err = stand_in.measure(1).unwrap_err();
    let created = stand_in.namespaces_of(Cmd::CreateNamespace);
    assert_eq!(err.leftover_namespaces(), [created[0].as_str()]);
    assert!(stand_in.namespaces_of(Cmd::DeleteNamespace).is_empty());
    assert_eq!(stand_in.remaining(), created);
}

#[test]
fn existing_namespaces_are_never_reused() {
    let stand_in = StandIn::new("exists");
    stand_in.set("already-exists", "2\n");
    std::fs::create_dir_all(stand_in.kubectl.state().join("ns/someone-elses")).unwrap();
    std::fs::write(
        stand_in.kubectl.state().join("ns/someone-elses/labels"),
        "app.kubernetes.io/managed-by=kubetwin\n",
    )
    .unwrap();
    let report = stand_in.measure(1).unwrap();
    let tried = stand_in.namespaces_of(Cmd::CreateNamespace);
    assert_eq!(tried.len(), 3);
    assert_eq!(report.runs[0].namespace, tried[2]);
    assert_eq!(stand_in.namespaces_of(Cmd::LabelNamespace), [tried[2].clone()]);
    assert_eq!(stand_in.namespaces_of(Cmd::DeleteNamespace), [tried[2].clone()]);
    assert_eq!(stand_in.remaining(), ["someone-elses"]);
}

#[test]
fn ctrl_c_after_scaling_cleans_up() {
    let stand_in = StandIn::new("cancel");
    let flag = Arc::new(AtomicBool::new(false));
    let mut runner = CancelAfter {
        inner: stand_in.runner(),
        cmd: Cmd::Scale,
        flag: flag.clone(),
    };
    let opts = MeasureOptions::new(20);
    let result = measure(&opts, &mut runner, &mut FakeClock::default(), &flag);
    assert!(
        matches!(&result, Err(MeasureError::Run(f)) if matches!(f.cause, RunError::Cancelled)),
        "{result:?}"
    );
    let deletes: Vec<Vec<String>> = stand_in
        .calls()
        .into_iter()
        .filter(|c| Cmd::of(c) == Cmd::DeleteNamespace)
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0][3], "--wait=false");
    assert!(stand_in.remaining().is_empty());
    assert!(stand_in.namespaces_of(Cmd::GetPods).is_empty());
}

#[test]
fn the_runner_reports_stdout_stderr_and_exit_code() {
    let stand_in = StandIn::new("raw");
    let mut runner = stand_in.runner();
    stand_in.set("fail", "get deployment namespace-run/get-missing.err\n");
    let out = runner.run(&["get", "deployment", "nope"]).unwrap();
    assert_eq!(out.exit_code, Some(1));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );
    let out = runner
        .run(&["create", "deployment", "web", "--image", "nginx", "-n", "x"])
        .unwrap();
    assert!(out.success());
    assert_eq!(out.stdout, "deployment.apps/web created\n");
}

/// The watch through the real runner: a real `kubectl get pods -w` process (the stand-in replays
/// the captured stream at 20 times its captured pace, then waits as a watch does), opened before
/// the create with no request timeout (kubectl's would end the watch), read as it prints, and
/// stopped with its process group once every pod was shown Running.
#[test]
fn the_watch_runs_as_a_process_beside_the_run_and_is_stopped_after_it() {
    let stand_in = StandIn::new("watch");
    stand_in.set("watch-20", "");
    stand_in.set("watch-pace", "20\n");
    let mut opts = MeasureOptions::new(20);
    opts.runs = 1;
    let mut runner = Spawns {
        inner: stand_in.runner(),
        order: Vec::new(),
    };
    let report = measure(
        &opts,
        &mut runner,
        &mut validate::measure::SystemClock::new(),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(runner.order, ["watch", "create"]);
    // In the order the stream first shows each pod Running, each is read no earlier than the
    // one before, and the pacing spreads them out.
    let stream =
        validate::kubectl::parse_watch_events(&crate::support::capture("watch-20-pods/watch-events-json.txt")).unwrap();
    let mut order: Vec<&str> = Vec::new();
    for pod in stream.iter().filter_map(|e| e.pod()).filter(|p| p.is_running()) {
        if !order.contains(&pod.name()) {
            order.push(pod.name());
        }
    }
    let at = |name: &str| {
        report
            .rows
            .iter()
            .find(|r| r.pod == name)
            .unwrap()
            .watch_running_s
            .unwrap()
    };
    let times: Vec<f64> = order.iter().map(|n| at(n)).collect();
    assert_eq!(times.len(), 20);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(times[19] > times[0], "{times:?}");
    assert_eq!(report.runs[0].watch_startup_s, Some(times[19]));
    assert_eq!(report.cells[0].observed, validate::dataset::Observed::KubectlWatch);
    let calls = stand_in.kubectl.calls_with_timeout();
    let watch = calls.iter().find(|(_, c)| c.contains(&"-w".to_string())).unwrap();
    assert_eq!(watch.0, "--request-timeout=0s");
    let pid = std::fs::read_to_string(stand_in.kubectl.state().join("watch.pid")).unwrap();
    let gone = (0..100).any(|_| {
        let alive = std::process::Command::new("kill")
            .args(["-0", pid.trim()])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        if alive {
            std::thread::sleep(Duration::from_millis(20));
        }
        !alive
    });
    assert!(gone, "the watch's process {} outlived the run", pid.trim());
}

/// The real runner, noting the order in which the watch and the create were started (the
/// stand-in's own log is written by concurrent processes, in no set order).
struct Spawns {
    inner: Kubectl,
    order: Vec<&'static str>,
}

impl KubectlRunner for Spawns {
    fn run(&mut self, args: &[&str]) -> Result<validate::kubectl::KubectlOutput, KubectlError> {
        if Cmd::of(args) == Cmd::CreateDeployment {
            self.order.push("create");
        }
        self.inner.run(args)
    }

    fn watch_pods(&mut self, args: &[&str]) -> Result<Option<validate::kubectl::PodWatch>, KubectlError> {
        self.order.push("watch");
        self.inner.watch_pods(args)
    }
}

/// A watch kubectl ends with an error (here the captured refused connection) leaves the run its
/// other times, and the run says what kubectl said.
#[test]
fn a_failed_watch_says_what_kubectl_said() {
    let stand_in = StandIn::new("watch-fails");
    stand_in.set("fail-watch", "namespace-run/server-down.err");
    let mut opts = MeasureOptions::new(20);
    opts.runs = 1;
    let report = measure(
        &opts,
        &mut stand_in.runner(),
        &mut FakeClock::default(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let lost = report.runs[0].watch_lost.as_deref().unwrap();
    assert!(
        lost.contains("it said: The connection to the server 127.0.0.1:6443 was refused"),
        "{lost}"
    );
    assert!(report.rows.iter().all(|r| r.watch_running_s.is_none()));
    assert_eq!(report.cells[0].observed, validate::dataset::Observed::ContainerStart);
}
