//! The kubectl parsers and the error classifier, against real kubectl output in `shared/data/kubectl-captures/`.

use std::collections::{BTreeMap, BTreeSet};

use validate::kubectl::{
    parse_pod_watch, parse_watch_events, pod_watch_stream, Deployment, EventList, KubectlError, PodConditionType,
    PodList, PodPhase, Timestamp, VersionInfo, WatchEvent,
};
use validate::measure::pod_timings;

use crate::support::{capture, captures_dir, replay};

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn nodes(pods: &PodList) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for pod in &pods.items {
        *count.entry(pod.node().unwrap().to_string()).or_default() += 1;
    }
    count
}

#[test]
fn namespace_run_pods_are_20_running_pods_on_4_nodes() {
    let pods = PodList::from_json(&capture("namespace-run/pods.json")).unwrap();
    assert_eq!(pods.items.len(), 20);
    assert!(pods
        .items
        .iter()
        .all(|p| p.status.phase == PodPhase::Running && p.is_running()));
    assert!(pods
        .items
        .iter()
        .all(|p| p.metadata.namespace.as_deref() == Some("kubetwin-run-1")));
    let expected: BTreeMap<String, usize> = (0..4).map(|i| (format!("kwok-node-{i}"), 5)).collect();
    assert_eq!(nodes(&pods), expected);
    let first = &pods.items[0];
    assert_eq!(first.name(), "web-64c966cf88-26sws");
    assert_eq!(first.node(), Some("kwok-node-0"));
    assert_eq!(first.metadata.creation_timestamp, Some(ts("2026-11-25T12:03:54Z")));
    assert_eq!(
        first.condition_true_since(PodConditionType::PodScheduled),
        Some(ts("2026-11-25T12:03:54Z"))
    );
    assert_eq!(
        first.condition_true_since(PodConditionType::Initialized),
        Some(ts("2026-11-25T12:03:56Z"))
    );
    assert_eq!(
        first.condition_true_since(PodConditionType::ContainersReady),
        Some(ts("2026-11-25T12:04:01Z"))
    );
    assert_eq!(
        first.condition_true_since(PodConditionType::Ready),
        Some(ts("2026-11-25T12:04:01Z"))
    );
    assert_eq!(first.all_containers_running_since(), Some(ts("2026-11-25T12:04:01Z")));
    // Every pod was created in the same second; the last one ran 8 s later.
    assert!(pods
        .items
        .iter()
        .all(|p| p.metadata.creation_timestamp == Some(ts("2026-11-25T12:03:54Z"))));
    let last = pods
        .items
        .iter()
        .filter_map(|p| p.all_containers_running_since())
        .max()
        .unwrap();
    assert_eq!(last, ts("2026-11-25T12:04:02Z"));
}

#[test]
fn namespace_run_timings_match_timing_txt() {
    let deployment = Deployment::from_json(&capture("namespace-run/deployment.json")).unwrap();
    assert_eq!(deployment.metadata.name, "web");
    assert_eq!(deployment.spec.replicas, Some(20));
    assert_eq!(deployment.status.available_replicas, Some(20));
    let t0 = deployment.metadata.creation_timestamp.unwrap();
    assert_eq!(t0, ts("2026-11-25T12:03:54Z"));
    let pods = PodList::from_json(&capture("namespace-run/pods.json")).unwrap();
    let events = EventList::from_json(&capture("namespace-run/events.json")).unwrap();
    let timings = pod_timings(t0, &pods, &events).unwrap();
    assert_eq!(timings.len(), 20);
    for t in &timings {
        assert_eq!((t.created_s, t.scheduled_s), (0.0, 0.0), "{t:?}");
        assert!((1.0..=5.0).contains(&t.started_s), "{t:?}");
        assert!(t.started_s < t.running_s, "{t:?}");
    }
    let startup = timings.iter().map(|t| t.running_s).fold(0.0, f64::max);
    let first = timings.iter().map(|t| t.running_s).fold(f64::INFINITY, f64::min);
    // timing.txt: "create->rolled out 8.38 s"; the API's whole seconds give 8.
    assert_eq!(startup, 8.0);
    assert_eq!(first, 3.0);
    assert!(capture("namespace-run/timing.txt").contains("8.38 s"));
}

#[test]
fn events_mix_event_time_and_first_timestamp() {
    let events = EventList::from_json(&capture("namespace-run/events.json")).unwrap();
    assert_eq!(events.items.len(), 52);
    let reasons: BTreeMap<&str, usize> = events.items.iter().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e.reason.as_str()).or_default() += 1;
        m
    });
    let expected: BTreeMap<&str, usize> = [
        ("Created", 20),
        ("Scheduled", 20),
        ("ScalingReplicaSet", 2),
        ("SuccessfulCreate", 10),
    ]
    .into();
    assert_eq!(reasons, expected);
    for e in events.items.iter().filter(|e| e.reason == "Scheduled") {
        assert!(e.event_time.is_some() && e.first_timestamp.is_none() && e.last_timestamp.is_none());
    }
    for e in events.items.iter().filter(|e| e.reason == "Created") {
        assert!(e.event_time.is_none() && e.first_timestamp.is_some());
        assert_eq!(e.count, Some(1));
    }
    let lifecycles = events.pod_lifecycles();
    assert_eq!(lifecycles.len(), 20);
    let p = lifecycles["web-64c966cf88-26sws"];
    assert_eq!(p.scheduled, Some(ts("2026-11-25T12:03:54.499379Z")));
    assert_eq!(p.created, Some(ts("2026-11-25T12:03:56Z")));
    // kwok's fake kubelet does not pull or start containers.
    assert!(lifecycles
        .values()
        .all(|l| l.pulling.is_none() && l.pulled.is_none() && l.started.is_none()));

    let watch_events = EventList::from_json(&capture("watch-20-pods/events.json")).unwrap();
    let registered = watch_events
        .items
        .iter()
        .filter(|e| e.reason == "RegisteredNode")
        .count();
    assert_eq!(registered, 3);
    assert_eq!(watch_events.pod_lifecycles().len(), 20);
}

#[test]
fn pods_final_in_the_watch_capture() {
    let pods = PodList::from_json(&capture("watch-20-pods/pods-final.json")).unwrap();
    assert_eq!(pods.items.len(), 20);
    let expected: BTreeMap<String, usize> = [
        ("kwok-node-0".to_string(), 7),
        ("kwok-node-1".to_string(), 6),
        ("kwok-node-2".to_string(), 7),
    ]
    .into();
    assert_eq!(nodes(&pods), expected);
    let created = pods
        .items
        .iter()
        .filter_map(|p| p.metadata.creation_timestamp)
        .min()
        .unwrap();
    let timings = pod_timings(created, &pods, &EventList::default()).unwrap();
    let startup = timings.iter().map(|t| t.running_s).fold(0.0, f64::max);
    // timing.txt: "create->all 20 Running (polled): 9.96s".
    assert_eq!(startup, 9.0);
    assert!(capture("watch-20-pods/timing.txt").contains("9.96s"));
}

#[test]
fn plain_watch_stream_has_140_pod_states() {
    let text = capture("watch-20-pods/watch-json.txt");
    let pods = parse_pod_watch(&text).unwrap();
    assert_eq!(pods.len(), 140);
    assert_eq!(pods[0].name(), "web-64c966cf88-jgv4d");
    assert_eq!(pods[0].status.phase, PodPhase::Pending);
    assert_eq!(pods[0].node(), None);
    let names: BTreeSet<&str> = pods.iter().map(|p| p.name()).collect();
    assert_eq!(names.len(), 20);
    // Streaming from a reader gives the same.
    let streamed: Vec<_> =
        pod_watch_stream(std::fs::File::open(captures_dir().join("watch-20-pods/watch-json.txt")).unwrap())
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(streamed, pods);
}

#[test]
fn watch_events_stream_follows_each_pod_to_running_and_deletion() {
    let events = parse_watch_events(&capture("watch-20-pods/watch-events-json.txt")).unwrap();
    assert_eq!(events.len(), 140);
    let count = |f: fn(&WatchEvent) -> bool| events.iter().filter(|e| f(e)).count();
    assert_eq!(count(|e| matches!(e, WatchEvent::Added(_))), 20);
    assert_eq!(count(|e| matches!(e, WatchEvent::Modified(_))), 100);
    assert_eq!(count(|e| matches!(e, WatchEvent::Deleted(_))), 20);
    // The first time each pod is seen running, its start matches pods-final.json.
    let final_pods = PodList::from_json(&capture("watch-20-pods/pods-final.json")).unwrap();
    let final_start: BTreeMap<&str, Timestamp> = final_pods
        .items
        .iter()
        .map(|p| (p.name(), p.all_containers_running_since().unwrap()))
        .collect();
    let mut first_running: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for pod in events.iter().filter_map(WatchEvent::pod) {
        if pod.is_running() {
            first_running
                .entry(pod.name())
                .or_insert(pod.all_containers_running_since().unwrap());
        }
    }
    assert_eq!(first_running, final_start);
    // Deleted pods carry a deletionTimestamp and no longer count as running.
    assert!(events.iter().filter(|e| matches!(e, WatchEvent::Deleted(_))).all(|e| {
        let pod = e.pod().unwrap();
        pod.is_terminating() && !pod.is_running()
    }));
}

#[test]
fn version_json() {
    let version = VersionInfo::from_json(&capture("namespace-run/version.json")).unwrap();
    let client = version.client_version.unwrap();
    let server = version.server_version.unwrap();
    assert_eq!((client.major.as_str(), client.minor.as_str()), ("1", "35"));
    assert_eq!(server.git_version, "v1.35.0-alpha.lab");
    assert_eq!(server.platform, "linux/amd64");
    assert_eq!(version.kustomize_version.as_deref(), Some("v5.7.1"));
    // Server down: kubectl prints only the client part.
    let client_only = VersionInfo::from_json(r#"{"clientVersion":{"major":"1","minor":"35"}}"#).unwrap();
    assert!(client_only.server_version.is_none());
}

fn classify(rel: &str) -> KubectlError {
    let (stderr, code) = replay(rel);
    assert_eq!(code, 1, "{rel}");
    KubectlError::classify(&["x"], Some(code), &stderr)
}

#[test]
fn captured_error_shapes_are_classified() {
    match classify("namespace-run/ns-create-again.err") {
        KubectlError::AlreadyExists { resource, name, .. } => {
            assert_eq!((resource.as_str(), name.as_str()), ("namespaces", "kubetwin-run-1"))
        }
        other => panic!("{other:?}"),
    }
    match classify("namespace-run/get-missing.err") {
        KubectlError::NotFound { resource, name, .. } => {
            assert_eq!((resource.as_str(), name.as_str()), ("deployments.apps", "nope"))
        }
        other => panic!("{other:?}"),
    }
    match classify("namespace-run/ns-get-after-delete.err") {
        KubectlError::NotFound { resource, name, .. } => {
            assert_eq!((resource.as_str(), name.as_str()), ("namespaces", "kubetwin-run-1"))
        }
        other => panic!("{other:?}"),
    }
    let down = classify("namespace-run/server-down.err");
    assert!(matches!(&down, KubectlError::ServerUnreachable { message } if message.contains("127.0.0.1:6443")));
    assert!(down.is_transient());
    let kubeconfig = classify("namespace-run/bad-kubeconfig.err");
    assert!(
        matches!(&kubeconfig, KubectlError::Kubeconfig { message } if message == "stat /nonexistent: no such file or directory")
    );
    assert!(!kubeconfig.is_transient());
    let negative = classify("namespace-run/scale-negative.err");
    assert!(
        matches!(&negative, KubectlError::InvalidArgument { message } if message.starts_with("The --replicas=COUNT"))
    );
    assert_eq!(
        down.to_string(),
        "the Kubernetes API server is unreachable: The connection to the server 127.0.0.1:6443 was refused - did you \
         specify the right host or port?"
    );
}

#[test]
fn empty_namespace_listing_exits_zero() {
    // `kubectl get pods -n no-such-ns` succeeds with a note, so a missing namespace is not an error there.
    let (text, code) = replay("namespace-run/get-pods-missing-ns.txt");
    assert_eq!(code, 0);
    assert_eq!(text.trim(), "No resources found in no-such-ns namespace.");
}
