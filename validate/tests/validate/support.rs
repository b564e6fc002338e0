//! Shared helpers: captured kubectl output, a scratch directory, a fake clock and a fake cluster.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use validate::kubectl::{KubectlError, KubectlOutput, KubectlRunner};
use validate::measure::Clock;

pub(crate) use testutils::captures_dir;

/// The thesis data directory.
pub(crate) fn thesis_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/thesis-2019"))
}

/// Reads a capture file, e.g. `namespace-run/pods.json`.
pub(crate) fn capture(rel: &str) -> String {
    let path = captures_dir().join(rel);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("capture {} is needed beside the checkout: {e}", path.display()))
}

/// A captured command output: the text, and the exit code from the `exit N` line the capture tool
/// appended (0 when there is none).
pub(crate) fn replay(rel: &str) -> (String, i32) {
    let text = capture(rel);
    let mut lines: Vec<&str> = text.lines().collect();
    let code = match lines.last().and_then(|l| l.strip_prefix("exit ")) {
        Some(code) => {
            let code = code.trim().parse().expect("exit code");
            lines.pop();
            code
        }
        None => 0,
    };
    let mut body = lines.join("\n");
    body.push('\n');
    (body, code)
}

/// A captured failure as kubectl output, with `kubetwin-run-1` replaced by `namespace`.
pub(crate) fn failure(rel: &str, namespace: &str) -> KubectlOutput {
    let (text, code) = replay(rel);
    assert_ne!(code, 0, "{rel} is not a failure");
    KubectlOutput::failed(text.replace("kubetwin-run-1", namespace), code)
}

pub(crate) use testutils::TempDir;

/// A clock that advances only when slept on.
#[derive(Debug, Default)]
pub(crate) struct FakeClock {
    pub(crate) now: Duration,
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.now
    }

    fn sleep(&mut self, duration: Duration) {
        self.now += duration;
    }
}

/// The kubectl commands the measurement issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    Version,
    CreateNamespace,
    LabelNamespace,
    CreateDeployment,
    GetDeployment,
    Scale,
    GetPods,
    GetEvents,
    GetNamespace,
    DeleteNamespace,
    Other,
}

impl Cmd {
    pub(crate) fn of<S: AsRef<str>>(args: &[S]) -> Cmd {
        let a: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        match a.as_slice() {
            ["version", ..] => Cmd::Version,
            ["create", "namespace", ..] => Cmd::CreateNamespace,
            ["label", "namespace", ..] => Cmd::LabelNamespace,
            ["create", "deployment", ..] => Cmd::CreateDeployment,
            ["get", "deployment", ..] => Cmd::GetDeployment,
            ["scale", "deployment", ..] => Cmd::Scale,
            ["get", "pods", ..] => Cmd::GetPods,
            ["get", "events", ..] => Cmd::GetEvents,
            ["get", "namespace", ..] => Cmd::GetNamespace,
            ["delete", "namespace", ..] => Cmd::DeleteNamespace,
            _ => Cmd::Other,
        }
    }
}

/// Successive `kubectl get pods -o json` answers while the pods come up: snapshots of the captured watch
/// stream (`watch-20-pods/watch-events-json.txt`) after `events` watch events each, as pod lists.
pub(crate) fn pending_pod_lists(events: &[usize]) -> Vec<String> {
    let text = capture("watch-20-pods/watch-events-json.txt");
    let stream: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&text)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("watch stream");
    events
        .iter()
        .map(|&n| {
            let mut pods: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            for event in &stream[..n] {
                let name = event["object"]["metadata"]["name"].as_str().expect("name").to_string();
                if event["type"] == "DELETED" {
                    pods.remove(&name);
                } else {
                    pods.insert(name, event["object"].clone());
                }
            }
            serde_json::json!({"apiVersion": "v1", "kind": "List", "items": pods.into_values().collect::<Vec<_>>()})
                .to_string()
        })
        .collect()
}

/// A stand-in for kubectl and the cluster behind it, replaying the `namespace-run` captures.
///
/// Namespaces are kept with their labels; creating one that exists answers with the captured
/// `AlreadyExists`. Failures can be injected per command or as a server outage over a range of calls.
#[derive(Debug, Default)]
pub(crate) struct FakeCluster {
    /// Every command run, as given to the runner.
    pub(crate) calls: Vec<Vec<String>>,
    /// Namespaces that exist, with their labels.
    pub(crate) namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// This many `create namespace` answer `AlreadyExists` (as if another tool had the name).
    pub(crate) already_exists: usize,
    /// The first command of this kind fails with this captured `.err` file.
    pub(crate) fail: Option<(Cmd, &'static str)>,
    /// Calls (0-based) in this range meet a server that is down (`server-down.err`).
    pub(crate) server_down: Option<Range<usize>>,
    /// After the first command of this kind, raise this flag (a Ctrl-C).
    pub(crate) cancel_after: Option<(Cmd, Arc<AtomicBool>)>,
    /// `get pods` answers, in order, before the captured final `pods.json`.
    pub(crate) pod_polls: Vec<String>,
    /// Keep answering the last of `pod_polls` forever (pods never all run).
    pub(crate) never_ready: bool,
    /// `label namespace` reports success but stores nothing (someone removed the labels).
    pub(crate) drop_labels: bool,
    /// The first command of this kind does its work, then is stopped by kubetwin's time limit
    /// before its answer comes ([`KubectlError::Stopped`]).
    pub(crate) stopped: Option<Cmd>,
}

impl FakeCluster {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Commands of one kind that were run.
    pub(crate) fn calls_of(&self, cmd: Cmd) -> Vec<&Vec<String>> {
        self.calls.iter().filter(|c| Cmd::of(c) == cmd).collect()
    }

    /// The namespace named by each call of `cmd` (third argument).
    pub(crate) fn namespaces_of(&self, cmd: Cmd) -> Vec<String> {
        self.calls_of(cmd).iter().map(|c| c[2].clone()).collect()
    }

    fn answer(&mut self, args: &[&str]) -> KubectlOutput {
        let cmd = Cmd::of(args);
        let index = self.calls.len() - 1;
        let ns_arg = args.get(2).copied().unwrap_or("").to_string();
        if self.server_down.as_ref().is_some_and(|r| r.contains(&index)) {
            return failure("namespace-run/server-down.err", &ns_arg);
        }
        if let Some((fail_cmd, file)) = self.fail {
            if fail_cmd == cmd {
                self.fail = None;
                return failure(file, &ns_arg);
            }
        }
        match cmd {
            Cmd::Version => KubectlOutput::ok(capture("namespace-run/version.json")),
            Cmd::CreateNamespace => {
                if self.already_exists > 0 || self.namespaces.contains_key(&ns_arg) {
                    self.already_exists = self.already_exists.saturating_sub(1);
                    return failure("namespace-run/ns-create-again.err", &ns_arg);
                }
                self.namespaces.insert(ns_arg.clone(), BTreeMap::new());
                KubectlOutput::ok(format!("namespace/{ns_arg} created\n"))
            }
            Cmd::LabelNamespace => {
                let Some(labels) = self.namespaces.get_mut(&ns_arg) else {
                    return failure("namespace-run/ns-get-after-delete.err", &ns_arg);
                };
                if !self.drop_labels {
                    for kv in &args[3..] {
                        let (k, v) = kv.split_once('=').expect("label k=v");
                        labels.insert(k.to_string(), v.to_string());
                    }
                }
                KubectlOutput::ok(format!("namespace/{ns_arg} labeled\n"))
            }
            Cmd::GetNamespace => match self.namespaces.get(&ns_arg) {
                Some(labels) => KubectlOutput::ok(
                    serde_json::json!({
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": ns_arg, "labels": labels, "creationTimestamp": "2026-11-25T12:03:53Z"},
                        "spec": {"finalizers": ["kubernetes"]},
                        "status": {"phase": "Active"}
                    })
                    .to_string(),
                ),
                None => failure("namespace-run/ns-get-after-delete.err", &ns_arg),
            },
            Cmd::DeleteNamespace => {
                if self.namespaces.remove(&ns_arg).is_some() {
                    let (text, _) = replay("namespace-run/ns-delete.txt");
                    KubectlOutput::ok(text.replace("kubetwin-run-1", &ns_arg))
                } else {
                    failure("namespace-run/ns-get-after-delete.err", &ns_arg)
                }
            }
            Cmd::CreateDeployment => KubectlOutput::ok(capture("namespace-run/dep-create.txt")),
            Cmd::GetDeployment => KubectlOutput::ok(capture("namespace-run/deployment.json")),
            Cmd::Scale => KubectlOutput::ok(capture("namespace-run/dep-scale.txt")),
            Cmd::GetPods => {
                if self.never_ready {
                    return KubectlOutput::ok(
                        self.pod_polls
                            .last()
                            .cloned()
                            .unwrap_or_else(|| "{\"items\":[]}".into()),
                    );
                }
                if self.pod_polls.is_empty() {
                    KubectlOutput::ok(capture("namespace-run/pods.json"))
                } else {
                    KubectlOutput::ok(self.pod_polls.remove(0))
                }
            }
            Cmd::GetEvents => KubectlOutput::ok(capture("namespace-run/events.json")),
            Cmd::Other => KubectlOutput::failed(format!("error: unknown command {args:?}\n"), 1),
        }
    }
}

impl KubectlRunner for FakeCluster {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        self.calls.push(args.iter().map(ToString::to_string).collect());
        let out = self.answer(args);
        if self.stopped == Some(Cmd::of(args)) {
            self.stopped = None;
            return Err(KubectlError::Stopped {
                args: args.join(" "),
                after: std::time::Duration::from_secs(90),
                interrupted: false,
            });
        }
        if let Some((cmd, flag)) = &self.cancel_after {
            if *cmd == Cmd::of(args) {
                flag.store(true, Ordering::SeqCst);
            }
        }
        Ok(out)
    }
}

/// Wraps a runner and raises `flag` right after the first command of kind `cmd` (a Ctrl-C mid-run).
#[derive(Debug)]
pub(crate) struct CancelAfter<R> {
    pub(crate) inner: R,
    pub(crate) cmd: Cmd,
    pub(crate) flag: Arc<AtomicBool>,
}

impl<R: KubectlRunner> KubectlRunner for CancelAfter<R> {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        let out = self.inner.run(args);
        if Cmd::of(args) == self.cmd {
            self.flag.store(true, Ordering::SeqCst);
        }
        out
    }
}
