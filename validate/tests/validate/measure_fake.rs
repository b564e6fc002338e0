//! [`measure`] against [`FakeCluster`]: the happy path, a failure at every step, name clashes, a server
//! outage, tampered labels, time-outs and Ctrl-C. The invariant checked throughout: every namespace the run
//! created and labelled is deleted, and no other namespace ever is.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use validate::kubectl::KubectlError;
use validate::measure::{
    measure, measure_reporting, CleanupOutcome, LeftoverReason, MeasureError, MeasureOptions, MeasureReport, Progress,
    RunError, RunFailure, Step, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RUN_TOKEN_LABEL,
};

use crate::support::{capture, pending_pod_lists, Cmd, FakeClock, FakeCluster};

fn options(runs: u32) -> MeasureOptions {
    let mut opts = MeasureOptions::new(20);
    opts.runs = runs;
    opts
}

fn run(cluster: &mut FakeCluster, opts: &MeasureOptions) -> Result<MeasureReport, MeasureError> {
    let mut clock = FakeClock::default();
    measure(opts, cluster, &mut clock, &AtomicBool::new(false))
}

/// Namespaces the fake created for this measurement (its `create namespace` calls that succeeded).
fn created(cluster: &FakeCluster) -> Vec<String> {
    cluster.namespaces_of(Cmd::LabelNamespace)
}

/// The invariant: deleted exactly the labelled ones we created, and each at most once.
fn assert_deleted_exactly(cluster: &FakeCluster, expected: &[String]) {
    assert_eq!(
        cluster.namespaces_of(Cmd::DeleteNamespace),
        expected,
        "calls: {:#?}",
        cluster.calls
    );
    for ns in expected {
        assert!(!cluster.namespaces.contains_key(ns), "{ns} still exists");
    }
}

fn run_error(result: Result<MeasureReport, MeasureError>) -> (u32, RunError, Vec<String>, MeasureReport) {
    match result {
        Err(MeasureError::Run(failure)) => {
            let RunFailure {
                run,
                cause,
                leftover,
                partial,
                ..
            } = *failure;
            (
                run,
                cause,
                leftover.iter().map(|l| l.namespace.clone()).collect(),
                partial,
            )
        }
        other => panic!("expected a failed run, got {other:?}"),
    }
}

#[test]
fn two_runs_measure_and_clean_up() {
    let mut cluster = FakeCluster::new();
    cluster.pod_polls = pending_pod_lists(&[20, 60, 90]);
    let report = run(&mut cluster, &options(2)).unwrap();
    assert_eq!(report.server_version.as_deref(), Some("v1.35.0-alpha.lab"));
    assert_eq!(report.rows.len(), 40);
    assert_eq!(report.runs.len(), 2);
    assert!(report
        .runs
        .iter()
        .all(|r| r.startup_s == 8.0 && r.cleanup == CleanupOutcome::Deleted));
    assert_eq!(report.cells.len(), 1);
    assert_eq!(
        (report.cells[0].pods, report.cells[0].runs, report.cells[0].mean_s),
        (20, 2, 8.0)
    );
    // Four polls in run 1 (three pending snapshots, then all running), one in run 2.
    assert_eq!(cluster.calls_of(Cmd::GetPods).len(), 5);

    let namespaces = created(&cluster);
    assert_eq!(namespaces.len(), 2);
    assert_ne!(namespaces[0], namespaces[1]);
    assert!(namespaces[0].starts_with("kubetwin-1-") && namespaces[1].starts_with("kubetwin-2-"));
    assert_deleted_exactly(&cluster, &namespaces);
    assert!(cluster
        .calls_of(Cmd::DeleteNamespace)
        .iter()
        .all(|c| c[3] == "--wait=true"));
    // Labelled with both labels before anything else happened in it; checked before deletion.
    let label = &cluster.calls_of(Cmd::LabelNamespace)[0];
    assert_eq!(label[3], format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"));
    assert!(label[4].starts_with(&format!("{RUN_TOKEN_LABEL}=")));
    assert_eq!(cluster.namespaces_of(Cmd::GetNamespace), namespaces);

    let first_run: Vec<Cmd> = cluster.calls.iter().take(11).map(|c| Cmd::of(c)).collect();
    assert_eq!(
        first_run,
        [
            Cmd::Version,
            Cmd::CreateNamespace,
            Cmd::LabelNamespace,
            Cmd::CreateDeployment,
            Cmd::Scale,
            Cmd::GetDeployment,
            Cmd::GetPods,
            Cmd::GetPods,
            Cmd::GetPods,
            Cmd::GetPods,
            Cmd::GetEvents,
        ]
    );
    let ns = &namespaces[0];
    assert_eq!(
        cluster.calls[3],
        ["create", "deployment", "web", "--image", "nginx", "-n", ns.as_str()]
    );
    // Scaled at once after the create, as the thesis's operator did.
    assert_eq!(
        cluster.calls[4],
        ["scale", "deployment", "web", "--replicas", "20", "-n", ns.as_str()]
    );
}

/// Each step failing with a captured error: the run stops at that step, and the namespace is deleted
/// whenever it was created.
/// [`Progress`] with the namespace owned, so that a test can keep what it was told.
#[derive(Debug, PartialEq)]
enum Told {
    Started(u32, u32, String),
    Polled(u32, usize, u32, Duration),
    CleaningUp(u32, String),
}

#[test]
fn progress_follows_each_run_from_its_namespace_to_its_cleanup() {
    let mut cluster = FakeCluster::new();
    cluster.pod_polls = pending_pod_lists(&[20, 60, 90]);
    let mut told = Vec::new();
    let report = measure_reporting(
        &options(2),
        &mut cluster,
        &mut FakeClock::default(),
        &AtomicBool::new(false),
        &mut |p| {
            told.push(match p {
                Progress::RunStarted { run, runs, namespace } => Told::Started(run, runs, namespace.to_string()),
                Progress::Polled {
                    run,
                    running,
                    wanted,
                    waited,
                } => Told::Polled(run, running, wanted, waited),
                Progress::CleaningUp { run, namespace } => Told::CleaningUp(run, namespace.to_string()),
            })
        },
    )
    .unwrap();
    let ns: Vec<&str> = report.runs.iter().map(|r| r.namespace.as_str()).collect();
    let polled: Vec<(u32, usize)> = told
        .iter()
        .filter_map(|t| match t {
            Told::Polled(run, running, wanted, _) => {
                assert_eq!(*wanted, 20);
                Some((*run, *running))
            }
            _ => None,
        })
        .collect();
    // Every poll is told, with what it found: run 1 sees the pods come up, run 2 finds them all running.
    assert_eq!(polled.len(), cluster.calls_of(Cmd::GetPods).len());
    assert_eq!(polled.last(), Some(&(2, 20)));
    assert!(
        polled.windows(2).all(|w| w[0].0 < w[1].0 || w[0].1 <= w[1].1),
        "{polled:?}"
    );
    assert!(
        polled.iter().any(|&(run, running)| run == 1 && running < 20),
        "{polled:?}"
    );
    // Each run is announced with its own namespace before its polls, and cleaned up after them.
    let order: Vec<&Told> = told.iter().filter(|t| !matches!(t, Told::Polled(..))).collect();
    assert_eq!(
        order,
        [
            &Told::Started(1, 2, ns[0].to_string()),
            &Told::CleaningUp(1, ns[0].to_string()),
            &Told::Started(2, 2, ns[1].to_string()),
            &Told::CleaningUp(2, ns[1].to_string()),
        ]
    );
    let first_poll = told.iter().position(|t| matches!(t, Told::Polled(..))).unwrap();
    assert_eq!(first_poll, 1);
    // The wait is measured from the scaling: it grows within a run and starts again with the next.
    let waits: Vec<Duration> = told
        .iter()
        .filter_map(|t| match t {
            Told::Polled(1, _, _, w) => Some(*w),
            _ => None,
        })
        .collect();
    assert!(waits.windows(2).all(|w| w[0] < w[1]), "{waits:?}");
}

#[test]
fn a_failure_at_any_step_still_deletes_the_namespace() {
    let cases: [(Cmd, &str, Step); 6] = [
        (
            Cmd::CreateNamespace,
            "namespace-run/server-down.err",
            Step::CreateNamespace,
        ),
        (
            Cmd::CreateDeployment,
            "namespace-run/ns-create-again.err",
            Step::CreateDeployment,
        ),
        (Cmd::GetDeployment, "namespace-run/get-missing.err", Step::GetDeployment),
        (Cmd::Scale, "namespace-run/scale-negative.err", Step::ScaleDeployment),
        (Cmd::GetPods, "namespace-run/bad-kubeconfig.err", Step::GetPods),
        // A refused connection here is tried again (`a_refused_read_after_the_pods_run_is_tried_again`).
        (Cmd::GetEvents, "namespace-run/bad-kubeconfig.err", Step::GetEvents),
    ];
    for (cmd, err_file, step) in cases {
        let mut cluster = FakeCluster::new();
        cluster.fail = Some((cmd, err_file));
        let (run, cause, leftover, partial) = run_error(run(&mut cluster, &options(3)));
        assert_eq!(run, 1, "{cmd:?}");
        assert!(
            matches!(cause, RunError::Kubectl { step: s, .. } if s == step),
            "{cmd:?}: {cause:?}"
        );
        assert!(leftover.is_empty(), "{cmd:?}: {leftover:?}");
        assert!(partial.rows.is_empty());
        let namespaces = created(&cluster);
        assert_eq!(namespaces.len(), usize::from(cmd != Cmd::CreateNamespace), "{cmd:?}");
        assert_deleted_exactly(&cluster, &namespaces);
        // After a failure kubetwin does not wait for the deletion to finish.
        assert!(cluster
            .calls_of(Cmd::DeleteNamespace)
            .iter()
            .all(|c| c[3] == "--wait=false"));
    }
}

#[test]
fn a_failure_in_run_two_keeps_run_one() {
    let mut cluster = FakeCluster::new();
    cluster.fail = Some((Cmd::Scale, "namespace-run/scale-negative.err"));
    let mut runner = ScaleFailsOnRun {
        inner: cluster,
        scales: 0,
    };
    let result = measure(
        &options(3),
        &mut runner,
        &mut FakeClock::default(),
        &AtomicBool::new(false),
    );
    let (run, cause, leftover, partial) = run_error(result);
    assert_eq!(run, 2);
    assert!(matches!(
        cause,
        RunError::Kubectl {
            step: Step::ScaleDeployment,
            ..
        }
    ));
    assert!(leftover.is_empty());
    assert_eq!(partial.runs.len(), 1);
    assert_eq!(partial.rows.len(), 20);
    assert_eq!(partial.cells.len(), 1);
    let namespaces = created(&runner.inner);
    assert_eq!(namespaces.len(), 2);
    assert_deleted_exactly(&runner.inner, &namespaces);
}

/// Lets the first `scale` through and fails the second with the fake's configured failure.
#[derive(Debug)]
struct ScaleFailsOnRun {
    inner: FakeCluster,
    scales: usize,
}

impl validate::kubectl::KubectlRunner for ScaleFailsOnRun {
    fn run(&mut self, args: &[&str]) -> Result<validate::kubectl::KubectlOutput, KubectlError> {
        if Cmd::of(args) == Cmd::Scale {
            self.scales += 1;
            if self.scales == 1 {
                let saved = self.inner.fail.take();
                let out = self.inner.run(args);
                self.inner.fail = saved;
                return out;
            }
        }
        self.inner.run(args)
    }
}

#[test]
fn taken_names_are_skipped_never_reused_nor_deleted() {
    let mut cluster = FakeCluster::new();
    let foreign: BTreeMap<String, String> = [(MANAGED_BY_LABEL.to_string(), "someone-else".to_string())].into();
    cluster.namespaces.insert("kubetwin-team".to_string(), foreign.clone());
    cluster.already_exists = 2;
    let report = run(&mut cluster, &options(1)).unwrap();
    let tried = cluster.namespaces_of(Cmd::CreateNamespace);
    assert_eq!(tried.len(), 3);
    assert!(tried[0] != tried[1] && tried[1] != tried[2] && tried[0] != tried[2]);
    assert_eq!(created(&cluster), [tried[2].clone()]);
    assert_eq!(report.runs[0].namespace, tried[2]);
    assert_deleted_exactly(&cluster, &[tried[2].clone()]);
    assert_eq!(cluster.namespaces.get("kubetwin-team"), Some(&foreign));

    let mut cluster = FakeCluster::new();
    cluster.already_exists = 100;
    let (_, cause, leftover, _) = run_error(run(&mut cluster, &options(1)));
    assert!(
        matches!(cause, RunError::NoFreeNamespace { attempts: 5, .. }),
        "{cause:?}"
    );
    assert!(leftover.is_empty());
    assert!(cluster.calls_of(Cmd::DeleteNamespace).is_empty());
    assert!(cluster.calls_of(Cmd::LabelNamespace).is_empty());
}

#[test]
fn unreachable_server_before_the_first_run_creates_nothing() {
    for file in ["namespace-run/server-down.err", "namespace-run/bad-kubeconfig.err"] {
        let mut cluster = FakeCluster::new();
        cluster.fail = Some((Cmd::Version, file));
        match run(&mut cluster, &options(5)) {
            Err(MeasureError::Preflight { source }) => assert!(
                matches!(
                    source,
                    KubectlError::ServerUnreachable { .. } | KubectlError::Kubeconfig { .. }
                ),
                "{source:?}"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(cluster.calls.len(), 1);
    }
}

#[test]
fn a_short_outage_while_polling_is_ridden_out() {
    let mut cluster = FakeCluster::new();
    cluster.pod_polls = pending_pod_lists(&[40]);
    // Calls: 0 version, 1 create ns, 2 label, 3 create deploy, 4 scale, 5 get deploy, 6 get pods (pending),
    // 7 and 8 get pods during the outage, 9 get pods (all running).
    cluster.server_down = Some(7..9);
    let report = run(&mut cluster, &options(1)).unwrap();
    assert_eq!(report.rows.len(), 20);
    assert_eq!(cluster.calls_of(Cmd::GetPods).len(), 4);
    assert_deleted_exactly(&cluster, &created(&cluster));
}

#[test]
fn a_long_outage_fails_the_run_and_cleans_up_once_the_server_is_back() {
    let mut cluster = FakeCluster::new();
    // Down for the three tolerated polls (6, 7, 8); back for the cleanup.
    cluster.server_down = Some(6..9);
    let (_, cause, leftover, _) = run_error(run(&mut cluster, &options(1)));
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
    assert_deleted_exactly(&cluster, &created(&cluster));
}

#[test]
fn a_server_that_stays_down_leaves_the_namespace_reported_not_deleted() {
    let mut cluster = FakeCluster::new();
    cluster.server_down = Some(6..usize::MAX);
    let result = run(&mut cluster, &options(1));
    let message = result.as_ref().map(|_| ()).unwrap_err().to_string();
    let (_, cause, leftover, _) = run_error(result);
    assert!(matches!(
        cause,
        RunError::Kubectl {
            step: Step::GetPods,
            ..
        }
    ));
    let namespaces = created(&cluster);
    assert_eq!(leftover, namespaces);
    // Its labels could not be checked, so no delete was sent; the check was retried.
    assert!(cluster.calls_of(Cmd::DeleteNamespace).is_empty());
    assert_eq!(cluster.calls_of(Cmd::GetNamespace).len(), 3);
    // The hint sends the user to the measured cluster, not to kubectl's current context.
    assert!(
        message.contains(&format!(
            "`kubectl --kubeconfig <it> delete namespace {}`",
            namespaces[0]
        )),
        "{message}"
    );
}

#[test]
fn a_namespace_without_our_labels_is_never_deleted() {
    let mut cluster = FakeCluster::new();
    cluster.drop_labels = true;
    let result = run(&mut cluster, &options(1));
    match &result {
        Err(MeasureError::Run(failure)) => {
            let RunFailure {
                cause,
                leftover,
                partial,
                ..
            } = &**failure;
            assert!(matches!(cause, RunError::Cleanup), "{cause:?}");
            assert!(matches!(leftover[0].reason, LeftoverReason::NotLabelled { .. }));
            // The measurement itself succeeded and is kept.
            assert_eq!(partial.rows.len(), 20);
            assert_eq!(partial.cells.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(cluster.calls_of(Cmd::DeleteNamespace).is_empty());
}

/// A failed label step leaves this run's own namespace without labels: the create that made it
/// succeeded, under a name with the run's fresh random token, so it is deleted (a review found
/// it reported as someone else's and left).
#[test]
fn a_namespace_left_unlabelled_by_a_failed_label_step_is_deleted() {
    let mut cluster = FakeCluster::new();
    cluster.fail = Some((Cmd::LabelNamespace, "namespace-run/server-down.err"));
    let (_, cause, leftover, _) = run_error(run(&mut cluster, &options(1)));
    assert!(matches!(
        cause,
        RunError::Kubectl {
            step: Step::LabelNamespace,
            ..
        }
    ));
    assert!(leftover.is_empty(), "{leftover:?}");
    assert_eq!(
        cluster.namespaces_of(Cmd::DeleteNamespace),
        cluster.namespaces_of(Cmd::CreateNamespace)
    );
    assert!(cluster.namespaces.is_empty());
}

/// A `create namespace` stopped before its answer came may have made the namespace: the
/// clean-up looks for it and deletes it (a review's stand-in created it, then timed out, and
/// kubetwin said nothing was left). One refused by a server that is down is not looked for.
#[test]
fn a_namespace_whose_create_timed_out_is_looked_for_and_deleted() {
    let mut cluster = FakeCluster::new();
    cluster.stopped = Some(Cmd::CreateNamespace);
    let (_, cause, leftover, _) = run_error(run(&mut cluster, &options(1)));
    assert!(matches!(
        cause,
        RunError::Kubectl {
            step: Step::CreateNamespace,
            ..
        }
    ));
    assert!(leftover.is_empty(), "{leftover:?}");
    assert_eq!(
        cluster.namespaces_of(Cmd::DeleteNamespace),
        cluster.namespaces_of(Cmd::CreateNamespace)
    );
    assert!(cluster.namespaces.is_empty());

    let mut cluster = FakeCluster::new();
    cluster.fail = Some((Cmd::CreateNamespace, "namespace-run/server-down.err"));
    let (_, _, leftover, _) = run_error(run(&mut cluster, &options(1)));
    assert!(leftover.is_empty());
    assert!(cluster.calls_of(Cmd::GetNamespace).is_empty());
}

#[test]
fn pods_that_never_run_time_out_and_clean_up() {
    let mut cluster = FakeCluster::new();
    cluster.pod_polls = pending_pod_lists(&[60]);
    cluster.never_ready = true;
    let mut opts = options(1);
    opts.run_timeout = Duration::from_secs(30);
    let mut clock = FakeClock::default();
    let result = measure(&opts, &mut cluster, &mut clock, &AtomicBool::new(false));
    let (_, cause, leftover, _) = run_error(result);
    match cause {
        RunError::Timeout {
            running,
            wanted,
            waited,
            others,
            ..
        } => {
            assert!(running < 20);
            assert_eq!(wanted, 20);
            assert_eq!(waited, Duration::from_secs(30));
            // Where the others stood at the last poll, counted: what the user needs to act on.
            assert_eq!(others, "14 waiting: ContainerCreating; 3 Pending", "running {running}");
        }
        other => panic!("{other:?}"),
    }
    assert!(leftover.is_empty());
    assert_eq!(cluster.calls_of(Cmd::GetPods).len(), 31);
    assert_deleted_exactly(&cluster, &created(&cluster));
}

/// The pod lists of a run in which one pod's image cannot be pulled: the captured watch stream after 20
/// and 60 events, with the first container still `ContainerCreating` at the second poll switched to
/// the kubelet's `ImagePullBackOff` (its message as v1.16's image manager words it).
fn pod_lists_with_a_pull_back_off() -> (Vec<String>, String) {
    let mut lists = pending_pod_lists(&[20, 60]);
    let mut list: serde_json::Value = serde_json::from_str(&lists[1]).unwrap();
    let pod = list["items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating")
        .expect("a pod still creating its container");
    pod["status"]["containerStatuses"][0]["state"]["waiting"] = serde_json::json!({
        "reason": "ImagePullBackOff",
        "message": "Back-off pulling image \"nginx\""
    });
    let name = pod["metadata"]["name"].as_str().unwrap().to_string();
    lists[1] = list.to_string();
    (lists, name)
}

#[test]
fn a_pod_backing_off_stops_the_run_at_once_and_cleans_up() {
    let mut cluster = FakeCluster::new();
    let (polls, stuck) = pod_lists_with_a_pull_back_off();
    cluster.pod_polls = polls;
    let result = run(&mut cluster, &options(2));
    let (run, cause, leftover, partial) = run_error(result);
    assert_eq!(run, 1);
    match &cause {
        RunError::PodCannotStart { pod, failure, .. } => {
            assert_eq!(pod, &stuck);
            assert_eq!(failure.reason, "ImagePullBackOff");
        }
        other => panic!("{other:?}"),
    }
    let text = cause.to_string();
    assert!(
        text.contains(&stuck) && text.contains("Back-off pulling image \"nginx\""),
        "{text}"
    );
    assert!(leftover.is_empty());
    assert!(partial.rows.is_empty());
    assert_eq!(cluster.calls_of(Cmd::GetPods).len(), 2, "no waiting for the time-out");
    assert_deleted_exactly(&cluster, &created(&cluster));
}

#[test]
fn ctrl_c_mid_run_cleans_up() {
    for after in [
        Cmd::CreateNamespace,
        Cmd::LabelNamespace,
        Cmd::Scale,
        Cmd::GetPods,
        Cmd::GetEvents,
    ] {
        let flag = Arc::new(AtomicBool::new(false));
        let mut cluster = FakeCluster::new();
        cluster.pod_polls = pending_pod_lists(&[20, 40]);
        cluster.cancel_after = Some((after, flag.clone()));
        let mut clock = FakeClock::default();
        let result = measure(&options(3), &mut cluster, &mut clock, &flag);
        let (run, cause, leftover, partial) = run_error(result);
        assert!(matches!(cause, RunError::Cancelled), "{after:?}: {cause:?}");
        assert!(leftover.is_empty(), "{after:?}");
        if after == Cmd::GetEvents {
            // Run 1 had everything it needed: it is kept, and run 2 never starts.
            assert_eq!(run, 2);
            assert_eq!(partial.rows.len(), 20);
            assert_eq!(partial.runs[0].cleanup, CleanupOutcome::DeletionRequested);
        } else {
            assert_eq!(run, 1, "{after:?}");
            assert!(partial.rows.is_empty());
        }
        let namespaces = created(&cluster);
        assert_eq!(namespaces.len(), 1, "{after:?}");
        assert_deleted_exactly(&cluster, &namespaces);
        assert!(cluster
            .calls_of(Cmd::DeleteNamespace)
            .iter()
            .all(|c| c[3] == "--wait=false"));
        // Nothing of the run is attempted after the flag, except labelling a namespace just created (so that
        // it can be cleaned up) and the cleanup.
        let after = if after == Cmd::CreateNamespace {
            Cmd::LabelNamespace
        } else {
            after
        };
        let last_step = cluster.calls.iter().rposition(|c| Cmd::of(c) == after).unwrap();
        assert!(cluster.calls[last_step + 1..]
            .iter()
            .all(|c| matches!(Cmd::of(c), Cmd::GetNamespace | Cmd::DeleteNamespace)));
    }
}

#[test]
fn a_cancel_before_the_first_run_creates_nothing() {
    let mut cluster = FakeCluster::new();
    let mut clock = FakeClock::default();
    let (_, cause, _, _) = run_error(measure(&options(1), &mut cluster, &mut clock, &AtomicBool::new(true)));
    assert!(matches!(cause, RunError::Cancelled));
    assert!(cluster.calls_of(Cmd::CreateNamespace).is_empty());
}

#[test]
fn a_failed_delete_is_reported_with_the_measurement_kept() {
    let mut cluster = FakeCluster::new();
    cluster.fail = Some((Cmd::DeleteNamespace, "namespace-run/scale-negative.err"));
    let (_, cause, leftover, partial) = run_error(run(&mut cluster, &options(2)));
    assert!(matches!(cause, RunError::Cleanup));
    assert_eq!(leftover, created(&cluster));
    assert_eq!(partial.runs.len(), 1);
    assert_eq!(partial.rows.len(), 20);
    // The run's own line does not claim the namespace went.
    assert_eq!(partial.runs[0].cleanup, validate::measure::CleanupOutcome::NotDeleted);
}

#[test]
fn invalid_options_run_nothing() {
    let mut cluster = FakeCluster::new();
    let mut opts = options(1);
    opts.image = "-it".into();
    assert!(matches!(
        run(&mut cluster, &opts),
        Err(MeasureError::InvalidOptions { field: "image", .. })
    ));
    assert!(cluster.calls.is_empty());
}

/// A pod whose record cannot be written (here a container that started before its pod was
/// created) fails its own run; the runs before it are kept and written. (It used to pass the run
/// and fail the writing of every run at the end.)
#[test]
fn a_bad_pod_record_fails_its_run_and_keeps_the_earlier_ones() {
    let good = capture("namespace-run/pods.json");
    let mut bad: serde_json::Value = serde_json::from_str(&good).unwrap();
    let status = &mut bad["items"][0]["status"]["containerStatuses"][0];
    status["state"]["running"]["startedAt"] = serde_json::json!("2000-01-01T00:00:00Z");
    let mut cluster = FakeCluster::new();
    cluster.pod_polls = vec![good, bad.to_string()];
    let (run, cause, leftover, partial) = run_error(run(&mut cluster, &options(2)));
    assert_eq!(run, 2);
    let text = cause.to_string();
    assert!(
        matches!(cause, RunError::BadRecord { .. }) && text.contains("running_s"),
        "{text}"
    );
    // A start stamped before the creation can only be the node's clock: the message says so.
    assert!(text.contains("clock is behind") && text.contains("NTP"), "{text}");
    assert!(leftover.is_empty());
    assert_eq!(partial.runs.len(), 1);
    assert_eq!(partial.rows.len(), 20);
    assert_deleted_exactly(&cluster, &created(&cluster));
}
