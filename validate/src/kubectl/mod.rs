//! Talking to a real cluster through the `kubectl` binary, and reading what it prints.
//!
//! * [`KubectlRunner`] runs one command; [`Kubectl`] is the real one, spawning the program with
//!   `--kubeconfig` and `--request-timeout`. Tests swap in a stand-in (see `validate/tests/validate/`).
//! * [`KubectlError`] classifies failures from the stderr shapes captured from a real kubectl.
//! * [`PodList`], [`EventList`], [`Namespace`], [`Deployment`] and [`VersionInfo`] read `-o json` output;
//!   [`pod_watch_stream`] and [`watch_event_stream`] read the `-w -o json` streams, and
//!   [`PodWatch`] keeps such a watch running beside a measurement.
//! * [`Timestamp`] parses the RFC 3339 times in all of them.
//!
//! Every format here was checked against real output in `shared/data/kubectl-captures/` (kubectl and
//! kube-apiserver v1.35, kwok nodes); the tests read those files directly.

mod error;
mod events;
mod live_watch;
mod objects;
mod runner;
mod time;
mod version;
mod watch;

pub use error::KubectlError;
pub use events::{Event, EventList, ObjectReference, PodEventReason, PodLifecycle};
pub use live_watch::{PodWatch, WatchNext, WatchedChange};
pub use objects::{
    ContainerRunning, ContainerState, ContainerStatus, ContainerTerminated, ContainerWaiting, Deployment,
    DeploymentSpec, DeploymentStatus, Namespace, NamespaceStatus, ObjectMeta, Pod, PodCondition, PodConditionType,
    PodList, PodPhase, PodSpec, PodStatus, StartUpFailure, FAILING_WAIT_REASONS,
};
pub use runner::{
    stop_running_commands, CancellableKubectl, Kubectl, KubectlConfig, KubectlOutput, KubectlRunner, CANCEL_GRACE,
};
pub use time::{Timestamp, TimestampError};
pub use version::{BuildInfo, VersionInfo};
pub use watch::{parse_pod_watch, parse_watch_events, pod_watch_stream, watch_event_stream, WatchEvent};
