//! What can go wrong in a measurement, and what it leaves behind on the cluster.

use std::fmt;
use std::time::Duration;

use crate::dataset::DatasetError;
use crate::kubectl::{KubectlError, StartUpFailure};

use super::{MeasureReport, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RUN_TOKEN_LABEL};

/// The kubectl steps of a run, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// `kubectl version -o json` before the first run.
    CheckServer,
    /// `kubectl create namespace`.
    CreateNamespace,
    /// `kubectl label namespace`.
    LabelNamespace,
    /// `kubectl create deployment`.
    CreateDeployment,
    /// `kubectl get deployment -o json`.
    GetDeployment,
    /// `kubectl scale deployment`.
    ScaleDeployment,
    /// `kubectl get pods -o json`.
    GetPods,
    /// `kubectl get events -o json`.
    GetEvents,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::CheckServer => "kubectl version",
            Step::CreateNamespace => "kubectl create namespace",
            Step::LabelNamespace => "kubectl label namespace",
            Step::CreateDeployment => "kubectl create deployment",
            Step::GetDeployment => "kubectl get deployment",
            Step::ScaleDeployment => "kubectl scale deployment",
            Step::GetPods => "kubectl get pods",
            Step::GetEvents => "kubectl get events",
        })
    }
}

/// A pod or deployment lacked a time needed for the raw rows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{object} has no {missing}")]
pub struct TimingError {
    /// `pod NAME` or `deployment NAME`.
    pub object: String,
    /// What is missing, e.g. `running container (state.running.startedAt)`.
    pub missing: &'static str,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A kubectl command failed; `namespace` is the run's namespace if it had one.
    #[error("{step}{} failed: {source}", namespace.as_ref().map(|n| format!(" (namespace {n})")).unwrap_or_default())]
    Kubectl {
        /// The step.
        step: Step,
        /// The run's namespace, if created (or the name being created).
        namespace: Option<String>,
        /// What kubectl reported.
        source: KubectlError,
    },
    /// Every namespace name tried already existed.
    #[error("{attempts} namespace names were all taken (last {last_tried}); try another --namespace-prefix")]
    NoFreeNamespace {
        /// Names tried.
        attempts: u32,
        /// The last one.
        last_tried: String,
    },
    /// Not all pods ran in time.
    #[error("only {running} of {wanted} pods were running in namespace {namespace} after {:.1} s{}", waited.as_secs_f64(), if others.is_empty() { String::new() } else { format!("; the others: {others}") })]
    Timeout {
        /// The run's namespace.
        namespace: String,
        /// Pods running at the last poll.
        running: usize,
        /// Pods wanted.
        wanted: u32,
        /// How long it waited.
        waited: Duration,
        /// Where the pods not running stood at the last poll, counted by state (`12 not
        /// scheduled: 0/4 nodes are available: ...; 8 waiting: ContainerCreating`); empty if
        /// no poll answered.
        others: String,
    },
    /// A pod will not start without the kubelet's back-off, or at all (an image that cannot be
    /// pulled, a container that exits): its start-up time would time the back-off, so the run
    /// stops at once instead of waiting for the time-out.
    #[error("pod {pod}{} in namespace {namespace} cannot start: {failure}", node.as_ref().map(|n| format!(" (node {n})")).unwrap_or_default())]
    PodCannotStart {
        /// The run's namespace.
        namespace: String,
        /// The first such pod.
        pod: String,
        /// Its node, if bound.
        node: Option<String>,
        /// What Kubernetes says about it.
        failure: Box<StartUpFailure>,
    },
    /// The cancel flag was raised (Ctrl-C).
    #[error("cancelled")]
    Cancelled,
    /// The pods ran but a time needed for the rows is missing, or their number is off.
    #[error("cannot time the pods in namespace {namespace}: {source}")]
    Timing {
        /// The run's namespace.
        namespace: String,
        /// What is missing.
        source: TimingError,
    },
    /// The measurement succeeded (its rows are in the partial report) but the namespace could not be
    /// removed; `leftover` says why.
    #[error("the namespace could not be cleaned up")]
    Cleanup,
    /// The run's pods were timed, but what came out cannot be recorded (a pod without a
    /// name, a container started before its pod was created, a pod twice, fewer pods than
    /// requested): the run fails, the runs before it are kept.
    #[error("the pods timed in namespace {namespace} cannot be recorded: {message}")]
    BadRecord {
        /// The run's namespace.
        namespace: String,
        /// Which pod, and what is wrong with it.
        message: String,
    },
}

/// Why a namespace the run created may still exist.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeftoverReason {
    /// Reading it back failed, so its labels could not be checked and it was not deleted.
    #[error("could not check its labels: {0}")]
    CheckFailed(KubectlError),
    /// It lacks kubetwin's labels (labelling failed, or someone changed them), so it was not deleted.
    #[error("it does not carry {MANAGED_BY_LABEL}={MANAGED_BY_VALUE} and this run's {RUN_TOKEN_LABEL} (found {found}), so it was not deleted")]
    NotLabelled {
        /// The kubetwin labels found, for the message.
        found: String,
    },
    /// `kubectl delete namespace` failed.
    #[error("kubectl delete failed: {0}")]
    DeleteFailed(KubectlError),
}

/// A namespace a run created and could not remove.
#[derive(Debug, thiserror::Error)]
#[error("{namespace}: {reason}")]
pub struct LeftoverNamespace {
    /// Its name.
    pub namespace: String,
    /// Why it is left.
    pub reason: LeftoverReason,
}

/// A measurement that could not be completed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeasureError {
    /// An option is out of range; nothing was run.
    #[error("invalid measure option `{field}`: {message}")]
    InvalidOptions {
        /// The field of [`MeasureOptions`](super::MeasureOptions).
        field: &'static str,
        /// What is expected.
        message: String,
    },
    /// The cluster could not be reached before the first run (`kubectl version`); nothing was created.
    #[error("cannot reach the cluster: {source}")]
    Preflight {
        /// What kubectl reported.
        source: KubectlError,
    },
    /// A run stopped; see [`RunFailure`]. Boxed to keep `Result<_, MeasureError>` small.
    #[error(transparent)]
    Run(Box<RunFailure>),
    /// The rows measured could not be summarized (a broken internal invariant; please report it).
    #[error("cannot summarize the measured rows: {0}")]
    Summary(DatasetError),
}

/// Run `run` stopped. Namespaces were cleaned up except those in `leftover`; `partial` holds the runs
/// completed before (and this one, if only its cleanup failed).
#[derive(Debug, thiserror::Error)]
#[error("run {run} of {runs}: {cause}{}", leftover_note(leftover))]
pub struct RunFailure {
    /// The run that stopped, from 1.
    pub run: u32,
    /// Runs planned.
    pub runs: u32,
    /// Why it stopped.
    pub cause: RunError,
    /// Namespaces that may still exist, with the reason.
    pub leftover: Vec<LeftoverNamespace>,
    /// What was measured until then.
    pub partial: MeasureReport,
}

impl MeasureError {
    /// Names of namespaces that may still exist.
    pub fn leftover_namespaces(&self) -> Vec<&str> {
        match self {
            MeasureError::Run(failure) => failure.leftover.iter().map(|l| l.namespace.as_str()).collect(),
            _ => Vec::new(),
        }
    }
}

fn leftover_note(leftover: &[LeftoverNamespace]) -> String {
    if leftover.is_empty() {
        return String::new();
    }
    let list: Vec<String> = leftover.iter().map(ToString::to_string).collect();
    let names: Vec<&str> = leftover.iter().map(|l| l.namespace.as_str()).collect();
    format!(
        "; namespaces left behind: {} (check and remove them on the measured cluster, with its kubeconfig: `kubectl --kubeconfig <it> delete namespace {}`)",
        list.join("; "),
        names.join(" ")
    )
}
