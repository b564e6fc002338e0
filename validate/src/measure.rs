//! Measuring pod start-up on a real cluster through kubectl.
//!
//! [`measure`] repeats one run [`MeasureOptions::runs`] times. A run:
//!
//! 1. creates a namespace of its own, `<prefix><run>-<random token>`; if the name is taken
//!    (`AlreadyExists`) it draws another name and never reuses the existing namespace;
//! 2. labels it [`MANAGED_BY_LABEL`]`=`[`MANAGED_BY_VALUE`] and [`RUN_TOKEN_LABEL`]`=<token>`;
//! 3. `kubectl create deployment NAME --image IMAGE`, reads the deployment's `creationTimestamp` (time zero
//!    of the run), then `kubectl scale deployment NAME --replicas N`;
//! 4. polls `kubectl get pods -o json` every [`MeasureOptions::poll_interval`] until N pods are
//!    running (see [`Pod::is_running`]) or [`MeasureOptions::run_timeout`] passes;
//! 5. reads `kubectl get events -o json` and turns the pods into [`RawPodRow`]s (see [`pod_timings`]
//!    and [`crate::dataset`] for what each time means);
//! 6. deletes the namespace.
//!
//! Step 6 also runs when an earlier step failed and when the cancel flag was raised (Ctrl-C), for every
//! namespace the run created. Before deleting, it reads the namespace back and deletes it only if both
//! labels are there with this run's values; a namespace it did not create is never touched, and one it
//! cannot verify is reported in [`RunFailure::leftover`] instead of deleted.
//!
//! [`measure_reporting`] also tells a progress display what each run is doing ([`Progress`]).
//!
//! The wall clock is behind [`Clock`] and kubectl behind [`KubectlRunner`], so tests run the whole
//! procedure against replayed kubectl output without sleeping.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::dataset::{self, DatasetError, MeasuredCell, RawPodRow};
use crate::kubectl::{
    Deployment, EventList, Kubectl, KubectlConfig, KubectlError, KubectlRunner, Namespace, Pod, PodConditionType,
    PodList, Timestamp, VersionInfo,
};

/// Label key that marks namespaces kubetwin created.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "kubetwin";
/// Label key holding the random token of the run that created the namespace.
pub const RUN_TOKEN_LABEL: &str = "kubetwin/run-token";

/// How often a waiting loop looks at the cancel flag.
const CANCEL_CHECK: Duration = Duration::from_millis(100);
/// Length of the random part of a namespace name.
const TOKEN_LEN: usize = 8;
/// Longest Kubernetes namespace name (a DNS-1123 label).
const MAX_NAMESPACE_LEN: usize = 63;

/// A source of elapsed time and of waiting, so tests can run without sleeping.
pub trait Clock {
    /// Time elapsed since some fixed start; never goes backwards.
    fn now(&self) -> Duration;
    /// Waits for `duration` (a test clock just advances).
    fn sleep(&mut self, duration: Duration);
}

/// The real clock: [`Instant`] and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A clock starting now.
    pub fn new() -> Self {
        Self { start: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// What to measure and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureOptions {
    /// kubectl program, kubeconfig and request timeout; used by [`measure_live`] (with [`measure`] the
    /// runner given decides).
    pub kubectl: KubectlConfig,
    /// Replicas to scale the deployment to (at least 1).
    pub pods: u32,
    /// How many runs (at least 1). Default 5, as in the thesis.
    pub runs: u32,
    /// Container image of the deployment. Default `nginx`.
    pub image: String,
    /// Start of each namespace name. Default `kubetwin-`.
    pub namespace_prefix: String,
    /// Name of the deployment. Default `web`.
    pub deployment: String,
    /// The network delay in force while measuring, in milliseconds: only a label for the cell, kubetwin
    /// does not inject it. Default 0.
    pub delay_ms: u32,
    /// Pause between two `kubectl get pods`. Default 1 s.
    pub poll_interval: Duration,
    /// How long to wait for all pods to run, from the scale command on. Default 10 min.
    pub run_timeout: Duration,
    /// `--timeout` of `kubectl delete namespace --wait=true`. Default 120 s.
    pub delete_timeout: Duration,
    /// How many namespace names to try when they are taken. Default 5.
    pub namespace_attempts: u32,
    /// Attempts per command when the API server is unreachable: polling pods gives up after this many
    /// transient failures in a row, and each cleanup command is tried this many times. Default 3.
    pub retries: u32,
}

impl MeasureOptions {
    /// Options for `pods` replicas with every other field at its default.
    pub fn new(pods: u32) -> Self {
        Self {
            kubectl: KubectlConfig::default(),
            pods,
            runs: 5,
            image: "nginx".to_string(),
            namespace_prefix: "kubetwin-".to_string(),
            deployment: "web".to_string(),
            delay_ms: 0,
            poll_interval: Duration::from_secs(1),
            run_timeout: Duration::from_secs(600),
            delete_timeout: Duration::from_secs(120),
            namespace_attempts: 5,
            retries: 3,
        }
    }

    /// Checks every field, so that no kubectl command is built from a bad value.
    ///
    /// # Errors
    /// [`MeasureError::InvalidOptions`] naming the first bad field.
    pub fn validate(&self) -> Result<(), MeasureError> {
        let bad = |field, message: String| Err(MeasureError::InvalidOptions { field, message });
        if self.pods == 0 {
            return bad("pods", "must be at least 1".into());
        }
        if self.runs == 0 {
            return bad("runs", "must be at least 1".into());
        }
        if self.image.is_empty() || self.image.starts_with('-') || self.image.chars().any(char::is_whitespace) {
            return bad(
                "image",
                format!(
                    "must be an image reference, not empty, without spaces and not starting with `-` (kubectl would read it as a flag), got {:?}",
                    self.image
                ),
            );
        }
        let room = MAX_NAMESPACE_LEN - TOKEN_LEN - 1 - self.runs.to_string().len();
        let prefix = &self.namespace_prefix;
        if prefix.len() > room || !is_dns_label_chars(prefix) || prefix.starts_with('-') {
            return bad(
                "namespace_prefix",
                format!("must be at most {room} characters of a-z, 0-9 and '-', not starting with '-', got {prefix:?}"),
            );
        }
        let name = &self.deployment;
        if name.is_empty()
            || name.len() > 40
            || !is_dns_label_chars(name)
            || name.starts_with('-')
            || name.ends_with('-')
        {
            return bad(
                "deployment",
                format!("must be 1 to 40 characters of a-z, 0-9 and '-', starting and ending with a letter or digit, got {name:?}"),
            );
        }
        if self.poll_interval.is_zero() {
            return bad("poll_interval", "must be positive".into());
        }
        if self.run_timeout.is_zero() {
            return bad("run_timeout", "must be positive".into());
        }
        if self.delete_timeout < Duration::from_secs(1) {
            return bad("delete_timeout", "must be at least 1 s".into());
        }
        if self.namespace_attempts == 0 {
            return bad("namespace_attempts", "must be at least 1".into());
        }
        if self.retries == 0 {
            return bad("retries", "must be at least 1".into());
        }
        Ok(())
    }
}

fn is_dns_label_chars(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

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
    #[error("only {running} of {wanted} pods were running in namespace {namespace} after {waited:?}")]
    Timeout {
        /// The run's namespace.
        namespace: String,
        /// Pods running at the last poll.
        running: usize,
        /// Pods wanted.
        wanted: u32,
        /// How long it waited.
        waited: Duration,
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
        /// The field of [`MeasureOptions`].
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
        "; namespaces left behind: {} (check and remove with `kubectl delete namespace {}`)",
        list.join("; "),
        names.join(" ")
    )
}

/// How a run's namespace was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupOutcome {
    /// Deleted, and kubectl waited until it was gone.
    Deleted,
    /// Deletion was requested and is still in progress (cancelled run, or the wait timed out).
    DeletionRequested,
    /// It was already being deleted.
    AlreadyTerminating,
    /// It was already gone.
    AlreadyGone,
    /// It could not be deleted (it is listed among what may still exist).
    NotDeleted,
}

/// One completed run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Run number, from 1.
    pub run: u32,
    /// The namespace it used.
    pub namespace: String,
    /// The deployment's `creationTimestamp`: time zero of the run.
    pub deployment_created: Timestamp,
    /// Start-up time: latest `running_s` of its pods, in seconds.
    pub startup_s: f64,
    /// How its namespace was removed.
    pub cleanup: CleanupOutcome,
}

/// What [`measure`] measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeasureReport {
    /// The API server's `gitVersion`, if it reported one.
    pub server_version: Option<String>,
    /// Lines describing the measurement, written as `#` comments above the CSV headers.
    pub description: Vec<String>,
    /// The runs, in order.
    pub runs: Vec<RunRecord>,
    /// One row per pod per run.
    pub rows: Vec<RawPodRow>,
    /// The per-cell summary of `rows` ([`dataset::summarize`]): one cell when all runs completed.
    pub cells: Vec<MeasuredCell>,
}

impl MeasureReport {
    /// Writes the summary to `summary_path` and the raw rows to `raw_path`, each atomically.
    ///
    /// # Errors
    /// [`DatasetError`] when a file cannot be written.
    pub fn write(&self, summary_path: &Path, raw_path: &Path) -> Result<(), DatasetError> {
        let comments: Vec<&str> = self.description.iter().map(String::as_str).collect();
        dataset::write_raw(raw_path, &self.rows, &comments)?;
        dataset::write_cells(summary_path, &self.cells, &comments)
    }

    /// Writes the summary to `out` and the raw rows next to it ([`raw_path_for`]); returns the raw path.
    ///
    /// # Errors
    /// [`DatasetError`] when a file cannot be written.
    pub fn write_files(&self, out: &Path) -> Result<PathBuf, DatasetError> {
        let raw = raw_path_for(out);
        self.write(out, &raw)?;
        Ok(raw)
    }
}

/// Where the raw rows go for summary file `summary`: `cells.csv` → `cells.pods.csv`.
pub fn raw_path_for(summary: &Path) -> PathBuf {
    let stem = summary
        .file_stem()
        .map_or_else(|| "measure".into(), |s| s.to_string_lossy().into_owned());
    summary.with_file_name(format!("{stem}.pods.csv"))
}

/// Start-up times of one pod, in seconds since the deployment was created (see [`crate::dataset`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PodTiming {
    /// Pod name.
    pub pod: String,
    /// Node it runs on.
    pub node: String,
    /// `metadata.creationTimestamp`.
    pub created_s: f64,
    /// `PodScheduled` condition, else the `Scheduled` event.
    pub scheduled_s: f64,
    /// `Initialized` condition, else `status.startTime`, else the first `Pulling` event.
    pub started_s: f64,
    /// Latest container `state.running.startedAt`, else the first `Started` event.
    pub running_s: f64,
}

/// Times every running pod of `pods` relative to `deployment_created`, sorted by pod name.
///
/// Pods being deleted are skipped. Conditions and container states come first, events second (see the
/// table in [`crate::dataset`]).
///
/// # Errors
/// [`TimingError`] for the first pod that is not running or lacks a node or a time.
pub fn pod_timings(
    deployment_created: Timestamp,
    pods: &PodList,
    events: &EventList,
) -> Result<Vec<PodTiming>, TimingError> {
    let lifecycles = events.pod_lifecycles();
    let mut out = Vec::new();
    for pod in pods.items.iter().filter(|p| !p.is_terminating()) {
        let missing = |missing| TimingError {
            object: format!("pod {}", pod.name()),
            missing,
        };
        let life = lifecycles.get(pod.name()).copied().unwrap_or_default();
        let since = |t: Timestamp| t.seconds_since(deployment_created);
        let node = pod
            .node()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing("node (spec.nodeName)"))?;
        let created = pod
            .metadata
            .creation_timestamp
            .ok_or_else(|| missing("metadata.creationTimestamp"))?;
        let scheduled = pod
            .condition_true_since(PodConditionType::PodScheduled)
            .or(life.scheduled)
            .ok_or_else(|| missing("PodScheduled condition or Scheduled event"))?;
        let started = pod
            .condition_true_since(PodConditionType::Initialized)
            .or(pod.status.start_time)
            .or(life.pulling)
            .ok_or_else(|| missing("Initialized condition, status.startTime or Pulling event"))?;
        let running = running_since(pod)
            .or(life.started)
            .ok_or_else(|| missing("running container (state.running.startedAt) or Started event"))?;
        out.push(PodTiming {
            pod: pod.name().to_string(),
            node: node.to_string(),
            created_s: since(created),
            scheduled_s: since(scheduled),
            started_s: since(started),
            running_s: since(running),
        });
    }
    out.sort_by(|a, b| a.pod.cmp(&b.pod));
    Ok(out)
}

fn running_since(pod: &Pod) -> Option<Timestamp> {
    if pod.is_running() {
        pod.all_containers_running_since()
    } else {
        None
    }
}

/// Measures with the real kubectl ([`MeasureOptions::kubectl`]) and the system clock.
///
/// The caller owns Ctrl-C: install a handler (e.g. the `ctrlc` crate) that stores `true` in `cancel`;
/// the current kubectl command finishes (kubectl runs in its own process group and does not see the
/// terminal's Ctrl-C), then the run's namespace is deleted and [`RunError::Cancelled`] is returned.
///
/// # Errors
/// As [`measure`].
pub fn measure_live(
    opts: &MeasureOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<MeasureReport, MeasureError> {
    let mut runner = Kubectl::new(opts.kubectl.clone());
    let mut clock = SystemClock::new();
    measure_reporting(opts, &mut runner, &mut clock, cancel, progress)
}

/// What a measurement is doing, reported as it goes so that a user watching a long run sees it move.
/// Reporting never changes what is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress<'a> {
    /// Run `run` of `runs` has created and labelled its namespace and is about to create the
    /// deployment in it.
    RunStarted {
        /// The run, from 1.
        run: u32,
        /// Runs in the measurement.
        runs: u32,
        /// The run's namespace.
        namespace: &'a str,
    },
    /// A poll of the run's pods (`kubectl get pods`) answered.
    Polled {
        /// The run, from 1.
        run: u32,
        /// Pods Running at this poll.
        running: usize,
        /// Pods the deployment was scaled to.
        wanted: u32,
        /// Time since the deployment was scaled.
        waited: Duration,
    },
    /// The run has ended (measured, failed or cancelled) and its namespace is being deleted.
    CleaningUp {
        /// The run, from 1.
        run: u32,
        /// The namespace being deleted.
        namespace: &'a str,
    },
}

/// Runs the measurement described in the [module docs](self) with `runner` and `clock`.
///
/// `opts.kubectl` is not used: `runner` decides how kubectl runs. `cancel` is checked before every step
/// and while waiting; once it is set the run cleans up and stops.
///
/// # Errors
/// * [`MeasureError::InvalidOptions`] before anything runs;
/// * [`MeasureError::Preflight`] when `kubectl version` fails (server down, bad kubeconfig): nothing was
///   created;
/// * [`MeasureError::Run`] when a run fails or is cancelled, after cleaning up; it lists namespaces that
///   may be left and carries the runs completed so far.
pub fn measure(
    opts: &MeasureOptions,
    runner: &mut dyn KubectlRunner,
    clock: &mut dyn Clock,
    cancel: &AtomicBool,
) -> Result<MeasureReport, MeasureError> {
    measure_reporting(opts, runner, clock, cancel, &mut |_| {})
}

/// [`measure`], telling `progress` what it is doing ([`Progress`]) as it goes.
///
/// # Errors
/// As [`measure`].
pub fn measure_reporting(
    opts: &MeasureOptions,
    runner: &mut dyn KubectlRunner,
    clock: &mut dyn Clock,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<MeasureReport, MeasureError> {
    opts.validate()?;
    let version_args = ["version", "-o", "json"];
    let version = runner
        .run_ok(&version_args)
        .and_then(|json| VersionInfo::from_json(&json))
        .map_err(|source| MeasureError::Preflight { source })?;
    let server_version = version.server_version.map(|v| v.git_version).filter(|v| !v.is_empty());
    let mut report = MeasureReport {
        description: vec![
            format!(
                "kubetwin measure: {} pods of image {}, {} runs, delay_ms={} (a label: kubetwin does not inject delay)",
                opts.pods, opts.image, opts.runs, opts.delay_ms
            ),
            format!(
                "API server {}",
                server_version.as_deref().unwrap_or("of unknown version")
            ),
            "times in seconds since the deployment's creationTimestamp (whole-second API timestamps)".to_string(),
        ],
        server_version,
        ..MeasureReport::default()
    };
    for run in 1..=opts.runs {
        let mut ctx = RunContext {
            opts,
            runner: &mut *runner,
            clock: &mut *clock,
            cancel,
            run,
            progress: &mut *progress,
        };
        let outcome = ctx.run_once();
        if let Some((record, rows)) = outcome.measured {
            report.runs.push(record);
            report.rows.extend(rows);
        }
        if outcome.error.is_some() || !outcome.leftover.is_empty() {
            report.cells = dataset::summarize(&report.rows).unwrap_or_default();
            return Err(MeasureError::Run(Box::new(RunFailure {
                run,
                runs: opts.runs,
                cause: outcome.error.unwrap_or(RunError::Cleanup),
                leftover: outcome.leftover,
                partial: report,
            })));
        }
    }
    report.cells = dataset::summarize(&report.rows).map_err(MeasureError::Summary)?;
    Ok(report)
}

/// A namespace this run created: its name and the token in its label.
struct Created {
    name: String,
    token: String,
}

struct RunOutcome {
    measured: Option<(RunRecord, Vec<RawPodRow>)>,
    error: Option<RunError>,
    leftover: Vec<LeftoverNamespace>,
}

struct RunContext<'a> {
    opts: &'a MeasureOptions,
    runner: &'a mut dyn KubectlRunner,
    clock: &'a mut dyn Clock,
    cancel: &'a AtomicBool,
    run: u32,
    progress: &'a mut dyn FnMut(Progress<'_>),
}

impl RunContext<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn check_cancel(&self) -> Result<(), RunError> {
        if self.cancelled() {
            Err(RunError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Waits `duration` in slices, returning early once cancelled; stops if the clock does not advance.
    fn pause(&mut self, duration: Duration) -> Result<(), RunError> {
        let end = self.clock.now().saturating_add(duration);
        loop {
            self.check_cancel()?;
            let now = self.clock.now();
            if now >= end {
                return Ok(());
            }
            self.clock.sleep((end - now).min(CANCEL_CHECK));
            if self.clock.now() <= now {
                return Ok(());
            }
        }
    }

    fn kubectl(&mut self, step: Step, namespace: &str, args: &[&str]) -> Result<String, RunError> {
        self.check_cancel()?;
        self.runner.run_ok(args).map_err(|source| RunError::Kubectl {
            step,
            namespace: Some(namespace.to_string()),
            source,
        })
    }

    fn run_once(&mut self) -> RunOutcome {
        let mut created = None;
        let body = self.measure_in_namespace(&mut created);
        let cancelled = self.cancelled();
        // A kubectl command interrupted by the cancellation reports the cancellation, not the symptom.
        let body = match body {
            Err(RunError::Kubectl { .. } | RunError::Timeout { .. }) if cancelled => Err(RunError::Cancelled),
            other => other,
        };
        let cleanup = created.as_ref().map(|ns| {
            (self.progress)(Progress::CleaningUp {
                run: self.run,
                namespace: &ns.name,
            });
            self.clean_up(ns, cancelled || body.is_err())
        });
        let mut outcome = RunOutcome {
            measured: None,
            error: None,
            leftover: Vec::new(),
        };
        match body {
            Ok((mut record, rows)) => {
                match &cleanup {
                    Some(Ok(how)) => record.cleanup = *how,
                    Some(Err(_)) => record.cleanup = CleanupOutcome::NotDeleted,
                    None => {}
                }
                outcome.measured = Some((record, rows));
            }
            Err(e) => outcome.error = Some(e),
        }
        if let Some(Err(left)) = cleanup {
            outcome.leftover.push(left);
        }
        outcome
    }

    fn measure_in_namespace(&mut self, created: &mut Option<Created>) -> Result<(RunRecord, Vec<RawPodRow>), RunError> {
        let opts = self.opts;
        let ns = self.create_namespace(created)?;
        let token = created.as_ref().map(|c| c.token.clone()).unwrap_or_default();
        let managed = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
        let run_token = format!("{RUN_TOKEN_LABEL}={token}");
        // Not cancellable: a namespace left unlabelled could not be cleaned up.
        self.runner
            .run_ok(&["label", "namespace", &ns, &managed, &run_token])
            .map_err(|source| RunError::Kubectl {
                step: Step::LabelNamespace,
                namespace: Some(ns.clone()),
                source,
            })?;
        self.check_cancel()?;
        (self.progress)(Progress::RunStarted {
            run: self.run,
            runs: opts.runs,
            namespace: &ns,
        });
        let name = opts.deployment.as_str();
        self.kubectl(
            Step::CreateDeployment,
            &ns,
            &["create", "deployment", name, "--image", &opts.image, "-n", &ns],
        )?;
        let json = self.kubectl(
            Step::GetDeployment,
            &ns,
            &["get", "deployment", name, "-n", &ns, "-o", "json"],
        )?;
        let deployment = Deployment::from_json(&json).map_err(|source| RunError::Kubectl {
            step: Step::GetDeployment,
            namespace: Some(ns.clone()),
            source,
        })?;
        let t0 = deployment.metadata.creation_timestamp.ok_or_else(|| RunError::Timing {
            namespace: ns.clone(),
            source: TimingError {
                object: format!("deployment {name}"),
                missing: "metadata.creationTimestamp",
            },
        })?;
        let replicas = opts.pods.to_string();
        self.kubectl(
            Step::ScaleDeployment,
            &ns,
            &["scale", "deployment", name, "--replicas", &replicas, "-n", &ns],
        )?;
        let pods = self.wait_until_running(&ns)?;
        let json = self.kubectl(Step::GetEvents, &ns, &["get", "events", "-n", &ns, "-o", "json"])?;
        let events = EventList::from_json(&json).map_err(|source| RunError::Kubectl {
            step: Step::GetEvents,
            namespace: Some(ns.clone()),
            source,
        })?;
        let timing_error = |source| RunError::Timing {
            namespace: ns.clone(),
            source,
        };
        let timings = pod_timings(t0, &pods, &events).map_err(timing_error)?;
        let bad_record = |message: String| RunError::BadRecord {
            namespace: ns.clone(),
            message,
        };
        if timings.len() != opts.pods as usize {
            return Err(bad_record(format!(
                "{} running pods were timed, {} were requested",
                timings.len(),
                opts.pods
            )));
        }
        let rows: Vec<RawPodRow> = timings
            .into_iter()
            .map(|t| RawPodRow {
                run: self.run,
                pod: t.pod,
                node: t.node,
                delay_ms: opts.delay_ms,
                pods: opts.pods,
                created_s: t.created_s,
                scheduled_s: t.scheduled_s,
                started_s: t.started_s,
                running_s: t.running_s,
            })
            .collect();
        // Checked as the raw file's writer will check it, so that a bad pod fails its own run
        // and not, at the end, the writing of every run.
        if let Err(e) = crate::dataset::raw_to_string("raw", &rows, &[]) {
            return Err(bad_record(match e {
                crate::dataset::DatasetError::InvalidRecord { index, message, .. } => {
                    format!("pod `{}`: {message}", rows[index].pod)
                }
                other => other.to_string(),
            }));
        }
        let startup_s = rows.iter().map(|r| r.running_s).fold(0.0, f64::max);
        let record = RunRecord {
            run: self.run,
            namespace: ns,
            deployment_created: t0,
            startup_s,
            cleanup: CleanupOutcome::Deleted,
        };
        Ok((record, rows))
    }

    fn create_namespace(&mut self, created: &mut Option<Created>) -> Result<String, RunError> {
        let mut last_tried = String::new();
        for _ in 0..self.opts.namespace_attempts {
            self.check_cancel()?;
            let token = unique_token();
            let name = format!("{}{}-{}", self.opts.namespace_prefix, self.run, token);
            match self.runner.run_ok(&["create", "namespace", &name]) {
                Ok(_) => {
                    *created = Some(Created {
                        name: name.clone(),
                        token,
                    });
                    return Ok(name);
                }
                Err(KubectlError::AlreadyExists { .. }) => last_tried = name,
                Err(source) => {
                    return Err(RunError::Kubectl {
                        step: Step::CreateNamespace,
                        namespace: Some(name),
                        source,
                    })
                }
            }
        }
        Err(RunError::NoFreeNamespace {
            attempts: self.opts.namespace_attempts,
            last_tried,
        })
    }

    fn wait_until_running(&mut self, ns: &str) -> Result<PodList, RunError> {
        let start = self.clock.now();
        let mut failures = 0;
        let mut running = 0;
        loop {
            self.check_cancel()?;
            match self.runner.run_ok(&["get", "pods", "-n", ns, "-o", "json"]) {
                Ok(json) => {
                    failures = 0;
                    let pods = PodList::from_json(&json).map_err(|source| RunError::Kubectl {
                        step: Step::GetPods,
                        namespace: Some(ns.to_string()),
                        source,
                    })?;
                    running = pods.items.iter().filter(|p| p.is_running()).count();
                    (self.progress)(Progress::Polled {
                        run: self.run,
                        running,
                        wanted: self.opts.pods,
                        waited: self.clock.now().saturating_sub(start),
                    });
                    if running >= self.opts.pods as usize {
                        return Ok(pods);
                    }
                }
                Err(source) if source.is_transient() && failures + 1 < self.opts.retries => failures += 1,
                Err(source) => {
                    return Err(RunError::Kubectl {
                        step: Step::GetPods,
                        namespace: Some(ns.to_string()),
                        source,
                    })
                }
            }
            let waited = self.clock.now().saturating_sub(start);
            if waited >= self.opts.run_timeout {
                return Err(RunError::Timeout {
                    namespace: ns.to_string(),
                    running,
                    wanted: self.opts.pods,
                    waited,
                });
            }
            self.pause(self.opts.poll_interval.min(self.opts.run_timeout - waited))?;
        }
    }

    /// Runs a cleanup command, retrying transient failures (but not a `--wait` that timed out).
    fn cleanup_command(&mut self, args: &[&str]) -> Result<String, KubectlError> {
        let mut attempt = 1;
        loop {
            match self.runner.run_ok(args) {
                Err(e)
                    if e.is_transient()
                        && !matches!(e, KubectlError::WaitTimedOut { .. })
                        && attempt < self.opts.retries =>
                {
                    attempt += 1;
                    // Not cancellable: cleanup goes on after Ctrl-C.
                    self.clock.sleep(self.opts.poll_interval);
                }
                other => return other,
            }
        }
    }

    /// Deletes `ns` if it still carries this run's labels. `hurry` skips waiting for the deletion.
    fn clean_up(&mut self, ns: &Created, hurry: bool) -> Result<CleanupOutcome, LeftoverNamespace> {
        let left = |reason| LeftoverNamespace {
            namespace: ns.name.clone(),
            reason,
        };
        let namespace = match self.cleanup_command(&["get", "namespace", &ns.name, "-o", "json"]) {
            Ok(json) => Namespace::from_json(&json).map_err(|e| left(LeftoverReason::CheckFailed(e)))?,
            Err(KubectlError::NotFound { .. }) => return Ok(CleanupOutcome::AlreadyGone),
            Err(e) => return Err(left(LeftoverReason::CheckFailed(e))),
        };
        let labels = &namespace.metadata.labels;
        let ours = namespace.metadata.name == ns.name
            && labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY_VALUE)
            && labels.get(RUN_TOKEN_LABEL) == Some(&ns.token);
        if !ours {
            let found: Vec<String> = [MANAGED_BY_LABEL, RUN_TOKEN_LABEL]
                .iter()
                .map(|k| format!("{k}={}", labels.get(*k).map_or("<none>", String::as_str)))
                .collect();
            return Err(left(LeftoverReason::NotLabelled {
                found: found.join(", "),
            }));
        }
        if namespace.is_terminating() {
            return Ok(CleanupOutcome::AlreadyTerminating);
        }
        let wait = if hurry { "--wait=false" } else { "--wait=true" };
        let timeout = format!("--timeout={}s", self.opts.delete_timeout.as_secs());
        match self.cleanup_command(&["delete", "namespace", &ns.name, wait, &timeout]) {
            Ok(_) if hurry => Ok(CleanupOutcome::DeletionRequested),
            Ok(_) => Ok(CleanupOutcome::Deleted),
            Err(KubectlError::NotFound { .. }) => Ok(CleanupOutcome::AlreadyGone),
            Err(KubectlError::WaitTimedOut { .. }) => Ok(CleanupOutcome::DeletionRequested),
            Err(e) => Err(left(LeftoverReason::DeleteFailed(e))),
        }
    }
}

/// A fresh random token of [`TOKEN_LEN`] characters from `[a-z0-9]`.
///
/// Drawn from the standard library's randomly keyed hasher (a new key per call), mixed with a counter and
/// the time, so two kubetwin processes, or two runs in one, do not pick the same name.
fn unique_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    let mut v = hasher.finish();
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..TOKEN_LEN)
        .map(|_| {
            let c = DIGITS[(v % 36) as usize] as char;
            v /= 36;
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_dns_safe_and_differ() {
        let a = unique_token();
        let b = unique_token();
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(is_dns_label_chars(&a));
        assert_ne!(a, b);
    }

    #[test]
    fn options_are_checked() {
        assert!(MeasureOptions::new(4).validate().is_ok());
        let check = |f: fn(&mut MeasureOptions)| {
            let mut o = MeasureOptions::new(4);
            f(&mut o);
            match o.validate() {
                Err(MeasureError::InvalidOptions { field, .. }) => field,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(check(|o| o.pods = 0), "pods");
        assert_eq!(check(|o| o.runs = 0), "runs");
        assert_eq!(check(|o| o.image = "--privileged".into()), "image");
        assert_eq!(check(|o| o.image = "a b".into()), "image");
        assert_eq!(check(|o| o.namespace_prefix = "Kubetwin-".into()), "namespace_prefix");
        assert_eq!(check(|o| o.namespace_prefix = "x".repeat(60)), "namespace_prefix");
        assert_eq!(check(|o| o.namespace_prefix = "-x".into()), "namespace_prefix");
        assert_eq!(check(|o| o.deployment = "web-".into()), "deployment");
        assert_eq!(check(|o| o.poll_interval = Duration::ZERO), "poll_interval");
        assert_eq!(
            check(|o| o.delete_timeout = Duration::from_millis(10)),
            "delete_timeout"
        );
        let mut long = MeasureOptions::new(1);
        long.runs = u32::MAX;
        long.namespace_prefix = "p".repeat(MAX_NAMESPACE_LEN - TOKEN_LEN - 1 - 10);
        assert!(long.validate().is_ok());
        let name = format!("{}{}-{}", long.namespace_prefix, long.runs, unique_token());
        assert_eq!(name.len(), MAX_NAMESPACE_LEN);
    }

    #[test]
    fn raw_path_sits_next_to_the_summary() {
        assert_eq!(
            raw_path_for(Path::new("out/cells.csv")),
            Path::new("out/cells.pods.csv")
        );
        assert_eq!(raw_path_for(Path::new("cells")), Path::new("cells.pods.csv"));
    }
}
