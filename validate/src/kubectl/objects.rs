//! The parts of `kubectl get … -o json` output that kubetwin reads: pods, namespaces, deployments.
//!
//! Only the fields kubetwin uses are declared; everything else in the JSON is ignored, and a missing
//! optional field reads as empty, so objects from other Kubernetes versions still parse. Field names
//! follow the Kubernetes API (`creationTimestamp`, `lastTransitionTime`, …); shapes were checked against
//! `shared/data/kubectl-captures/*/pods*.json` and `deployment.json`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::{KubectlError, Timestamp};

/// Parses JSON output of kubectl, naming the command in the error.
pub(crate) fn from_json<'a, T: Deserialize<'a>>(what: &str, json: &'a str) -> Result<T, KubectlError> {
    serde_json::from_str(json).map_err(|source| KubectlError::Json {
        what: what.to_string(),
        source,
    })
}

/// `metadata` of any object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectMeta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`; `None` for cluster-wide objects.
    pub namespace: Option<String>,
    /// `metadata.uid`.
    pub uid: Option<String>,
    /// When the API server stored the object (whole seconds).
    pub creation_timestamp: Option<Timestamp>,
    /// Set once the object is being deleted.
    pub deletion_timestamp: Option<Timestamp>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
}

/// Output of `kubectl get pods -o json`: a `List` of pods.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct PodList {
    /// The pods, in the order kubectl printed them (by name).
    pub items: Vec<Pod>,
}

impl PodList {
    /// Parses the output of `kubectl get pods -o json`.
    ///
    /// # Errors
    /// [`KubectlError::Json`] when it is not a pod list.
    pub fn from_json(json: &str) -> Result<Self, KubectlError> {
        from_json("get pods -o json", json)
    }
}

/// One pod.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: PodSpec,
    /// `status`.
    pub status: PodStatus,
}

/// `spec` of a pod: only the node it was bound to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    /// The node the scheduler bound the pod to; `None` while pending.
    pub node_name: Option<String>,
}

/// `status.phase` of a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum PodPhase {
    /// Accepted, not all containers running yet.
    #[default]
    Pending,
    /// Bound to a node, all containers created, at least one running.
    Running,
    /// All containers exited with success.
    Succeeded,
    /// All containers exited, at least one with failure.
    Failed,
    /// The state could not be obtained, or a phase this version does not know.
    #[serde(other)]
    Unknown,
}

/// `status` of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStatus {
    /// `status.phase`; `Pending` when absent.
    pub phase: PodPhase,
    /// `status.conditions`.
    pub conditions: Vec<PodCondition>,
    /// `status.containerStatuses`.
    pub container_statuses: Vec<ContainerStatus>,
    /// When the kubelet acknowledged the pod (`status.startTime`).
    pub start_time: Option<Timestamp>,
}

/// The condition types of a pod that kubetwin reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PodConditionType {
    /// `PodScheduled`: the scheduler bound the pod.
    PodScheduled,
    /// `Initialized`: the kubelet has taken the pod and its init containers finished.
    Initialized,
    /// `ContainersReady`: every container is ready.
    ContainersReady,
    /// `Ready`: the pod can serve.
    Ready,
}

impl PodConditionType {
    /// The name in `status.conditions[].type`.
    pub fn as_str(self) -> &'static str {
        match self {
            PodConditionType::PodScheduled => "PodScheduled",
            PodConditionType::Initialized => "Initialized",
            PodConditionType::ContainersReady => "ContainersReady",
            PodConditionType::Ready => "Ready",
        }
    }
}

/// One entry of `status.conditions`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodCondition {
    /// `type`, e.g. `PodScheduled`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// When `status` last changed (whole seconds).
    pub last_transition_time: Option<Timestamp>,
    /// Why, in one word (`Unschedulable` for a `PodScheduled` that is `False`).
    pub reason: Option<String>,
    /// The detail (`0/4 nodes are available: 4 Insufficient cpu.`).
    pub message: Option<String>,
}

/// One entry of `status.containerStatuses`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerStatus {
    /// Container name.
    pub name: String,
    /// Whether the container passes its readiness probe.
    pub ready: bool,
    /// How often it restarted.
    pub restart_count: u32,
    /// The current state.
    pub state: ContainerState,
}

/// `state` of a container: exactly one of the three is set by the kubelet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerState {
    /// Set while the container runs.
    pub running: Option<ContainerRunning>,
    /// Set while the container waits (e.g. `ContainerCreating`, `ImagePullBackOff`).
    pub waiting: Option<ContainerWaiting>,
    /// Set once the container exited.
    pub terminated: Option<ContainerTerminated>,
}

/// `state.running` of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerRunning {
    /// When the container (last) started (whole seconds).
    pub started_at: Option<Timestamp>,
}

/// `state.waiting` of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerWaiting {
    /// Why it waits, e.g. `ContainerCreating`.
    pub reason: Option<String>,
    /// The kubelet's detail, e.g. `Back-off pulling image "nginx"`.
    pub message: Option<String>,
}

/// The `state.waiting.reason`s with which a container will not start without the kubelet's back-off
/// (or at all): a start-up measured through one of them times the back-off, not the start-up.
///
/// Source: Kubernetes v1.16, `pkg/kubelet/images/types.go` (the image errors),
/// `pkg/kubelet/container/sync_result.go` (`CrashLoopBackOff`, `RunContainerError`, ...) and
/// `pkg/kubelet/kuberuntime/kuberuntime_container.go` (`CreateContainerConfigError`,
/// `CreateContainerError`). `ContainerCreating` and `PodInitializing`, the normal ones, are not here.
pub const FAILING_WAIT_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "ImageInspectError",
    "ErrImageNeverPull",
    "RegistryUnavailable",
    "InvalidImageName",
    "CrashLoopBackOff",
    "RunContainerError",
    "CreateContainerConfigError",
    "CreateContainerError",
    "PreStartHookError",
    "PostStartHookError",
    "CreatePodSandboxError",
    "ConfigPodSandboxError",
];

/// Why a pod will not start up on its own: what [`Pod::start_up_failure`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartUpFailure {
    /// The container concerned; `None` when the pod as a whole failed.
    pub container: Option<String>,
    /// The reason as Kubernetes gives it (`ImagePullBackOff`, `Error`, phase `Failed`).
    pub reason: String,
    /// The kubelet's message, when it gave one.
    pub message: Option<String>,
}

impl fmt::Display for StartUpFailure {
    /// The cluster's own words, with control characters escaped (`\n`, `\u{1b}`): a message
    /// from the kubelet goes to the user's terminal and must not break the line or colour it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |text: &str| -> String {
            text.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        };
        if let Some(container) = &self.container {
            write!(f, "container {}: ", shown(container))?;
        }
        f.write_str(&shown(&self.reason))?;
        if let Some(message) = &self.message {
            write!(f, " ({})", shown(message))?;
        }
        Ok(())
    }
}

/// `state.terminated` of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerTerminated {
    /// Exit code of the container.
    pub exit_code: i32,
    /// Why it terminated, e.g. `Completed`, `Error`.
    pub reason: Option<String>,
}

impl Pod {
    /// The pod's name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The node it is bound to, if any.
    pub fn node(&self) -> Option<&str> {
        self.spec.node_name.as_deref()
    }

    /// Whether it is being deleted.
    pub fn is_terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some()
    }

    /// Where a pod that does not run yet stands, in a few words: not scheduled (with the
    /// scheduler's reason), a container's waiting reason (`ContainerCreating`), or its phase.
    pub fn waiting_for(&self) -> String {
        if let Some(c) = self
            .status
            .conditions
            .iter()
            .find(|c| c.type_ == PodConditionType::PodScheduled.as_str() && c.status == "False")
        {
            return match &c.message {
                Some(m) => format!("not scheduled: {m}"),
                None => "not scheduled".to_owned(),
            };
        }
        let waiting = self
            .status
            .container_statuses
            .iter()
            .find_map(|c| c.state.waiting.as_ref()?.reason.clone());
        match waiting {
            Some(reason) => format!("waiting: {reason}"),
            None => format!("{:?}", self.status.phase),
        }
    }

    /// Whether it counts as started up: phase `Running`, not being deleted, every container running.
    ///
    /// This is what `kubectl get pods` shows as `Running`; readiness is not required.
    pub fn is_running(&self) -> bool {
        self.status.phase == PodPhase::Running
            && !self.is_terminating()
            && !self.status.container_statuses.is_empty()
            && self.status.container_statuses.iter().all(|c| c.state.running.is_some())
    }

    /// Why the pod will not start up without a back-off or at all, if so: phase `Failed` or
    /// `Succeeded` (a web server that exits), a container that terminated, or one waiting for one of
    /// the [`FAILING_WAIT_REASONS`]. `None` for a pod on its way up (or running).
    pub fn start_up_failure(&self) -> Option<StartUpFailure> {
        if matches!(self.status.phase, PodPhase::Failed | PodPhase::Succeeded) {
            return Some(StartUpFailure {
                container: None,
                reason: format!("phase {:?}", self.status.phase),
                message: None,
            });
        }
        self.status.container_statuses.iter().find_map(|c| {
            let named = |reason: String, message: Option<String>| StartUpFailure {
                container: Some(c.name.clone()),
                reason,
                message,
            };
            if let Some(t) = &c.state.terminated {
                let why = t.reason.as_deref().unwrap_or("terminated");
                return Some(named(format!("{why}, exit code {}", t.exit_code), None));
            }
            let waiting = c.state.waiting.as_ref()?;
            let reason = waiting.reason.as_deref()?;
            FAILING_WAIT_REASONS
                .contains(&reason)
                .then(|| named(reason.to_string(), waiting.message.clone()))
        })
    }

    /// When condition `kind` last turned `True`; `None` if it is absent or not `True`.
    pub fn condition_true_since(&self, kind: PodConditionType) -> Option<Timestamp> {
        self.status
            .conditions
            .iter()
            .find(|c| c.type_ == kind.as_str() && c.status == "True")
            .and_then(|c| c.last_transition_time)
    }

    /// When the last of its containers started running; `None` unless every container is running.
    pub fn all_containers_running_since(&self) -> Option<Timestamp> {
        if self.status.container_statuses.is_empty() {
            return None;
        }
        self.status
            .container_statuses
            .iter()
            .map(|c| c.state.running.as_ref().and_then(|r| r.started_at))
            .try_fold(None, |latest: Option<Timestamp>, t| {
                t.map(|t| Some(latest.map_or(t, |l| l.max(t))))
            })
            .flatten()
    }
}

/// Output of `kubectl get namespace NAME -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Namespace {
    /// `metadata`, with the labels kubetwin checks before deleting.
    pub metadata: ObjectMeta,
    /// `status`.
    pub status: NamespaceStatus,
}

/// `status` of a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct NamespaceStatus {
    /// `Active` or `Terminating`.
    pub phase: Option<String>,
}

impl Namespace {
    /// Parses the output of `kubectl get namespace NAME -o json`.
    ///
    /// # Errors
    /// [`KubectlError::Json`] when it is not a namespace.
    pub fn from_json(json: &str) -> Result<Self, KubectlError> {
        from_json("get namespace -o json", json)
    }

    /// Whether the namespace is already being deleted.
    pub fn is_terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some() || self.status.phase.as_deref() == Some("Terminating")
    }
}

/// Output of `kubectl get deployment NAME -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Deployment {
    /// `metadata`; its `creation_timestamp` is time zero of a measurement run.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: DeploymentSpec,
    /// `status`.
    pub status: DeploymentStatus,
}

/// `spec` of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct DeploymentSpec {
    /// Desired pods.
    pub replicas: Option<u32>,
}

/// `status` of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentStatus {
    /// Pods created.
    pub replicas: Option<u32>,
    /// Pods ready.
    pub ready_replicas: Option<u32>,
    /// Pods available.
    pub available_replicas: Option<u32>,
}

impl Deployment {
    /// Parses the output of `kubectl get deployment NAME -o json`.
    ///
    /// # Errors
    /// [`KubectlError::Json`] when it is not a deployment.
    pub fn from_json(json: &str) -> Result<Self, KubectlError> {
        from_json("get deployment -o json", json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_and_unknown_fields() {
        let pod: Pod = serde_json::from_str(
            r#"{"metadata":{"name":"p","extra":1},"status":{"phase":"Weird","conditions":[
                {"type":"PodScheduled","status":"False","lastTransitionTime":"2026-11-25T12:03:54Z"}]}}"#,
        )
        .unwrap();
        assert_eq!(pod.status.phase, PodPhase::Unknown);
        assert_eq!(pod.condition_true_since(PodConditionType::PodScheduled), None);
        assert_eq!(pod.all_containers_running_since(), None);
        assert!(!pod.is_running());
        let err = PodList::from_json("{\"items\": 3}").unwrap_err();
        assert!(err.to_string().contains("get pods -o json"), "{err}");
    }

    #[test]
    fn all_containers_running_needs_every_container() {
        let json = r#"{"status":{"phase":"Running","containerStatuses":[
            {"name":"a","state":{"running":{"startedAt":"2026-11-25T12:00:05Z"}}},
            {"name":"b","state":{"running":{"startedAt":"2026-11-25T12:00:07Z"}}}]}}"#;
        let mut pod: Pod = serde_json::from_str(json).unwrap();
        assert_eq!(
            pod.all_containers_running_since(),
            Some(Timestamp::parse("2026-11-25T12:00:07Z").unwrap())
        );
        assert!(pod.is_running());
        pod.status.container_statuses[0].state.running = None;
        assert_eq!(pod.all_containers_running_since(), None);
        assert!(!pod.is_running());
    }

    /// A pod of the captured watch stream still creating its container (`ContainerCreating`).
    fn creating() -> Pod {
        serde_json::from_str(
            r#"{"metadata":{"name":"web-1"},"spec":{"nodeName":"node01"},"status":{"phase":"Pending",
            "containerStatuses":[{"name":"nginx","ready":false,"restartCount":0,
            "state":{"waiting":{"reason":"ContainerCreating"}}}]}}"#,
        )
        .unwrap()
    }

    /// Where a pod that does not run stands: a container's waiting reason, the scheduler's
    /// message for one it could not place (v1.16's `PodScheduled` condition: `False`,
    /// `Unschedulable`, "0/4 nodes are available: ..."), else its phase.
    #[test]
    fn a_pod_not_running_says_what_it_waits_for() {
        assert_eq!(creating().waiting_for(), "waiting: ContainerCreating");
        let mut unschedulable = creating();
        unschedulable.status.container_statuses.clear();
        assert_eq!(unschedulable.waiting_for(), "Pending");
        unschedulable.status.conditions.push(PodCondition {
            type_: "PodScheduled".into(),
            status: "False".into(),
            last_transition_time: None,
            reason: Some("Unschedulable".into()),
            message: Some("0/4 nodes are available: 4 Insufficient cpu.".into()),
        });
        assert_eq!(
            unschedulable.waiting_for(),
            "not scheduled: 0/4 nodes are available: 4 Insufficient cpu."
        );
    }

    #[test]
    fn a_pod_on_its_way_up_has_no_start_up_failure() {
        assert_eq!(creating().start_up_failure(), None);
        let mut initializing = creating();
        initializing.status.container_statuses[0]
            .state
            .waiting
            .as_mut()
            .unwrap()
            .reason = Some("PodInitializing".into());
        assert_eq!(initializing.start_up_failure(), None);
        assert_eq!(Pod::default().start_up_failure(), None, "no status yet");
    }

    #[test]
    fn back_off_terminated_and_failed_pods_cannot_start() {
        let mut backing_off = creating();
        let waiting = backing_off.status.container_statuses[0].state.waiting.as_mut().unwrap();
        waiting.reason = Some("ImagePullBackOff".into());
        waiting.message = Some("Back-off pulling image \"nginxx\"".into());
        let failure = backing_off.start_up_failure().unwrap();
        assert_eq!(failure.container.as_deref(), Some("nginx"));
        assert_eq!(
            failure.to_string(),
            "container nginx: ImagePullBackOff (Back-off pulling image \"nginxx\")"
        );
        let mut loud = failure.clone();
        loud.message = Some("two\nlines \u{1b}[31mred".into());
        assert_eq!(
            loud.to_string(),
            "container nginx: ImagePullBackOff (two\\nlines \\u{1b}[31mred)"
        );

        let mut exited = creating();
        exited.status.container_statuses[0].state = ContainerState {
            terminated: Some(ContainerTerminated {
                exit_code: 1,
                reason: Some("Error".into()),
            }),
            ..ContainerState::default()
        };
        assert_eq!(
            exited.start_up_failure().unwrap().to_string(),
            "container nginx: Error, exit code 1"
        );

        let mut failed = creating();
        failed.status.phase = PodPhase::Failed;
        assert_eq!(failed.start_up_failure().unwrap().to_string(), "phase Failed");
    }
}
