//! One run: its namespace, its deployment, the wait until every pod runs, and the clean-up.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::dataset::RawPodRow;
use crate::kubectl::{Deployment, EventList, KubectlError, KubectlRunner, Namespace, PodList, Timestamp};

use super::watched::{WatchTimes, WATCH_HEAD_START};
use super::{
    pod_timings, CleanupOutcome, Clock, LeftoverNamespace, LeftoverReason, MeasureOptions, Progress, RunError,
    RunRecord, Step, TimingError, CANCEL_CHECK, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RUN_TOKEN_LABEL, TOKEN_LEN,
};

/// A namespace this run created (or may have: a `create` whose answer never came): its name,
/// the token in its label, and whether the labels were written.
pub(super) struct Created {
    pub(super) name: String,
    pub(super) token: String,
    /// The `label namespace` step succeeded: from then on, a namespace of this name without the
    /// labels has been changed by someone else, and is not deleted.
    pub(super) labelled: bool,
}

pub(super) struct RunOutcome {
    pub(super) measured: Option<(RunRecord, Vec<RawPodRow>)>,
    pub(super) error: Option<RunError>,
    pub(super) leftover: Vec<LeftoverNamespace>,
}

pub(super) struct RunContext<'a> {
    pub(super) opts: &'a MeasureOptions,
    pub(super) runner: &'a mut dyn KubectlRunner,
    pub(super) clock: &'a mut dyn Clock,
    pub(super) cancel: &'a AtomicBool,
    pub(super) run: u32,
    pub(super) progress: &'a mut dyn FnMut(Progress<'_>),
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
        self.runner.run_ok(args).map_err(kubectl_failed(step, namespace))
    }

    /// [`Self::kubectl`] for a command that may be sent again (a read, or a scale to a fixed
    /// count): a transient failure (a refused connection, a time-out) is retried, a poll
    /// interval apart, up to `retries` tries in all, as the pod polls are. One blip after the
    /// pods run no longer costs the run.
    fn kubectl_idempotent(&mut self, step: Step, namespace: &str, args: &[&str]) -> Result<String, RunError> {
        let mut attempt = 1;
        loop {
            self.check_cancel()?;
            match self.runner.run_ok(args) {
                Err(e) if e.is_transient() && attempt < self.opts.retries => {
                    attempt += 1;
                    self.pause(self.opts.poll_interval)?;
                }
                other => return other.map_err(kubectl_failed(step, namespace)),
            }
        }
    }

    pub(super) fn run_once(&mut self) -> RunOutcome {
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

    /// The run itself: a fresh namespace (in `created` as soon as it exists, so that `run_once`
    /// cleans it up whatever happens next), labelled as this run's; the deployment created, then
    /// scaled; the wait until every pod runs; and each pod's timings from the pods and the events.
    fn measure_in_namespace(&mut self, created: &mut Option<Created>) -> Result<(RunRecord, Vec<RawPodRow>), RunError> {
        let ns = self.create_namespace(created)?;
        let token = created.as_ref().map(|c| c.token.clone()).unwrap_or_default();
        self.label_namespace(&ns, &token)?;
        if let Some(c) = created.as_mut() {
            c.labelled = true;
        }
        self.check_cancel()?;
        (self.progress)(Progress::RunStarted {
            run: self.run,
            runs: self.opts.runs,
            namespace: &ns,
        });
        let mut watch = self.start_watch(&ns)?;
        if watch.is_watching() {
            self.pause(WATCH_HEAD_START)?;
        }
        watch.start_now(self.clock);
        // Create, then scale at once, as the thesis's operator did (and the simulation's, after
        // `workload.scale_gap`); the deployment's creationTimestamp is read after.
        self.create_deployment(&ns)?;
        self.scale_deployment(&ns)?;
        let t0 = self.deployment_created(&ns)?;
        let pods = self.wait_until_running(&ns, &mut watch)?;
        watch.settle(&pods, self.clock, self.cancel, self.opts.watch_settle);
        let events = self.get_events(&ns)?;
        let (rows, watch_lost) = self.pod_rows(&ns, t0, &pods, &events, &watch)?;
        check_rows(&ns, &rows)?;
        let startup_s = rows.iter().map(|r| r.running_s).fold(0.0, f64::max);
        let watch_startup_s = rows
            .iter()
            .map(|r| r.watch_running_s)
            .try_fold(0.0, |max: f64, t| t.map(|t| max.max(t)));
        let record = RunRecord {
            run: self.run,
            namespace: ns,
            deployment_created: t0,
            startup_s,
            watch_startup_s,
            watch_lost,
            cleanup: CleanupOutcome::Deleted,
        };
        Ok((record, rows))
    }

    /// Opens the run's own `kubectl get pods -w` ([`WatchTimes`]) in `ns`, unless the options
    /// or the runner go without one.
    fn start_watch(&mut self, ns: &str) -> Result<WatchTimes, RunError> {
        if !self.opts.watch {
            return Ok(WatchTimes::new(Err("the watch was turned off (--no-watch)".into())));
        }
        self.check_cancel()?;
        let args = ["get", "pods", "-n", ns, "-w", "--output-watch-events", "-o", "json"];
        Ok(WatchTimes::new(match self.runner.watch_pods(&args) {
            Ok(Some(watch)) => Ok(watch),
            Ok(None) => Err("this kubectl runner cannot keep a watch running".into()),
            Err(e) => Err(format!("kubectl's watch could not be started: {e}")),
        }))
    }

    /// Labels `ns` as managed by kubetwin and as this run's (`token`), which `clean_up` checks
    /// before it deletes anything.
    fn label_namespace(&mut self, ns: &str, token: &str) -> Result<(), RunError> {
        let managed = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
        let run_token = format!("{RUN_TOKEN_LABEL}={token}");
        // Not cancellable: a namespace left unlabelled could not be cleaned up.
        self.runner
            .run_ok(&["label", "namespace", ns, &managed, &run_token])
            .map_err(kubectl_failed(Step::LabelNamespace, ns))?;
        Ok(())
    }

    /// Creates the deployment in `ns`.
    fn create_deployment(&mut self, ns: &str) -> Result<(), RunError> {
        let opts = self.opts;
        self.kubectl(
            Step::CreateDeployment,
            ns,
            &[
                "create",
                "deployment",
                &opts.deployment,
                "--image",
                &opts.image,
                "-n",
                ns,
            ],
        )?;
        Ok(())
    }

    /// Reads the deployment in `ns` back: its `creationTimestamp` is the time zero of the pods'
    /// own stamps.
    fn deployment_created(&mut self, ns: &str) -> Result<Timestamp, RunError> {
        let name = self.opts.deployment.as_str();
        let json = self.kubectl_idempotent(
            Step::GetDeployment,
            ns,
            &["get", "deployment", name, "-n", ns, "-o", "json"],
        )?;
        let deployment = Deployment::from_json(&json).map_err(kubectl_failed(Step::GetDeployment, ns))?;
        deployment.metadata.creation_timestamp.ok_or_else(|| RunError::Timing {
            namespace: ns.to_string(),
            source: TimingError {
                object: format!("deployment {name}"),
                missing: "metadata.creationTimestamp",
            },
        })
    }

    /// Scales the deployment in `ns` to the pods asked for.
    fn scale_deployment(&mut self, ns: &str) -> Result<(), RunError> {
        let opts = self.opts;
        let name = opts.deployment.as_str();
        let replicas = opts.pods.to_string();
        self.kubectl_idempotent(
            Step::ScaleDeployment,
            ns,
            &["scale", "deployment", name, "--replicas", &replicas, "-n", ns],
        )?;
        Ok(())
    }

    /// The events of `ns`, once every pod runs.
    fn get_events(&mut self, ns: &str) -> Result<EventList, RunError> {
        let json = self.kubectl_idempotent(Step::GetEvents, ns, &["get", "events", "-n", ns, "-o", "json"])?;
        EventList::from_json(&json).map_err(kubectl_failed(Step::GetEvents, ns))
    }

    /// One raw row per running pod, timed from `t0`; an error unless every pod asked for was timed.
    /// With the watch's times when it showed every pod Running; else without, and why.
    fn pod_rows(
        &self,
        ns: &str,
        t0: Timestamp,
        pods: &PodList,
        events: &EventList,
        watch: &WatchTimes,
    ) -> Result<(Vec<RawPodRow>, Option<String>), RunError> {
        let opts = self.opts;
        let timings = pod_timings(t0, pods, events).map_err(|source| RunError::Timing {
            namespace: ns.to_string(),
            source,
        })?;
        if timings.len() != opts.pods as usize {
            return Err(bad_record(
                ns,
                format!(
                    "{} running pods were timed, {} were requested",
                    timings.len(),
                    opts.pods
                ),
            ));
        }
        let (shown, lost) = match watch.times(timings.iter().map(|t| t.pod.as_str())) {
            Ok(times) => (times.into_iter().map(Some).collect(), None),
            Err(why) => (vec![None; timings.len()], Some(why)),
        };
        let rows = timings
            .into_iter()
            .zip(shown)
            .map(|(t, watch_running_s)| RawPodRow {
                run: self.run,
                pod: t.pod,
                node: t.node,
                delay_ms: opts.delay_ms,
                pods: opts.pods,
                created_s: t.created_s,
                scheduled_s: t.scheduled_s,
                started_s: t.started_s,
                running_s: t.running_s,
                watch_running_s,
            })
            .collect();
        Ok((rows, lost))
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
                        labelled: false,
                    });
                    return Ok(name);
                }
                Err(KubectlError::AlreadyExists { .. }) => last_tried = name,
                Err(source) => {
                    // A create whose answer never came may have made the namespace: the
                    // clean-up looks for it (the name carries this run's fresh random token).
                    if source.may_have_been_done() {
                        *created = Some(Created {
                            name: name.clone(),
                            token,
                            labelled: false,
                        });
                    }
                    return Err(RunError::Kubectl {
                        step: Step::CreateNamespace,
                        namespace: Some(name),
                        source,
                    });
                }
            }
        }
        Err(RunError::NoFreeNamespace {
            attempts: self.opts.namespace_attempts,
            last_tried,
        })
    }

    /// Polls the pods until every one runs; takes what the watch has read at each poll.
    fn wait_until_running(&mut self, ns: &str, watch: &mut WatchTimes) -> Result<PodList, RunError> {
        let start = self.clock.now();
        let mut failures = 0;
        let mut running = 0;
        let mut others = String::new();
        loop {
            self.check_cancel()?;
            watch.take_ready(self.clock);
            match self.runner.run_ok(&["get", "pods", "-n", ns, "-o", "json"]) {
                Ok(json) => {
                    failures = 0;
                    let pods = PodList::from_json(&json).map_err(kubectl_failed(Step::GetPods, ns))?;
                    if let Some((pod, failure)) = pods.items.iter().find_map(|p| Some((p, p.start_up_failure()?))) {
                        return Err(RunError::PodCannotStart {
                            namespace: ns.to_string(),
                            pod: pod.name().to_string(),
                            node: pod.node().map(str::to_string),
                            failure: Box::new(failure),
                        });
                    }
                    running = pods.items.iter().filter(|p| p.is_running()).count();
                    others = not_running_states(&pods);
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
                Err(source) => return Err(kubectl_failed(Step::GetPods, ns)(source)),
            }
            let waited = self.clock.now().saturating_sub(start);
            if waited >= self.opts.run_timeout {
                return Err(RunError::Timeout {
                    namespace: ns.to_string(),
                    running,
                    wanted: self.opts.pods,
                    waited,
                    others,
                });
            }
            self.pause(self.opts.poll_interval.min(self.opts.run_timeout - waited))?;
        }
    }

    /// Runs a cleanup command, retrying transient failures (but not a `--wait` that timed out),
    /// and a read stopped by the interrupt's grace once more. After the interrupt a deletion is
    /// sent again without waiting.
    fn cleanup_command(&mut self, args: &[&str]) -> Result<String, KubectlError> {
        let mut attempt = 1;
        let mut stopped_read_retried = false;
        loop {
            let now: Vec<&str> = if self.cancelled() {
                args.iter()
                    .map(|&a| if a == "--wait=true" { "--wait=false" } else { a })
                    .collect()
            } else {
                args.to_vec()
            };
            match self.runner.run_ok(&now) {
                // A read (`get namespace`) the interrupt's grace stopped: the check is needed
                // before anything is deleted, and a fresh one takes a moment.
                Err(KubectlError::Stopped { interrupted: true, .. }) if args[0] == "get" && !stopped_read_retried => {
                    stopped_read_retried = true;
                }
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
        let labelled_ours = labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY_VALUE)
            && labels.get(RUN_TOKEN_LABEL) == Some(&ns.token);
        // Before its labels were written, this run's namespace has none of kubetwin's: a name
        // with this run's random token, made by this run's create, is this run's.
        let not_yet_labelled =
            !ns.labelled && !labels.contains_key(MANAGED_BY_LABEL) && !labels.contains_key(RUN_TOKEN_LABEL);
        let ours = namespace.metadata.name == ns.name && (labelled_ours || not_yet_labelled);
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
        // kubectl's own wait must end before kubetwin stops the command at its time limit
        // (`--kubectl-timeout`, 90 s, under the 120-s deletion time-out): a wait cut short by
        // the limit read as a failed deletion, retried, and the run failed.
        let limit = self
            .opts
            .kubectl
            .command_timeout
            .map(|t| t.saturating_sub(Duration::from_secs(5)));
        let wait_for = match limit {
            Some(l) if l >= Duration::from_secs(1) => self.opts.delete_timeout.min(l),
            _ => self.opts.delete_timeout,
        };
        let timeout = format!("--timeout={}s", wait_for.as_secs());
        match self.cleanup_command(&["delete", "namespace", &ns.name, wait, &timeout]) {
            Ok(_) if hurry => Ok(CleanupOutcome::DeletionRequested),
            Ok(_) => Ok(CleanupOutcome::Deleted),
            Err(KubectlError::NotFound { .. }) => Ok(CleanupOutcome::AlreadyGone),
            Err(KubectlError::WaitTimedOut { .. }) => Ok(CleanupOutcome::DeletionRequested),
            // Ctrl-C while kubectl waited for the deletion: it was stopped, the deletion perhaps
            // not yet sent. Check again and, unless it is terminating, ask without waiting.
            Err(KubectlError::Stopped { interrupted: true, .. }) if !hurry => self.clean_up(ns, true),
            Err(e) => Err(left(LeftoverReason::DeleteFailed(e))),
        }
    }
}

/// The pods of `pods` not running, counted by where they stand ([`crate::kubectl::Pod::waiting_for`]), most
/// first: what a run that timed out was waiting for.
fn not_running_states(pods: &PodList) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for p in pods.items.iter().filter(|p| !p.is_running()) {
        let state = p.waiting_for();
        match counts.iter_mut().find(|(s, _)| *s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The error of kubectl's `step` in namespace `ns` that failed with its `source`.
fn kubectl_failed(step: Step, ns: &str) -> impl FnOnce(KubectlError) -> RunError + '_ {
    move |source| RunError::Kubectl {
        step,
        namespace: Some(ns.to_string()),
        source,
    }
}

/// A run in `ns` whose records cannot be kept, and why.
fn bad_record(ns: &str, message: String) -> RunError {
    RunError::BadRecord {
        namespace: ns.to_string(),
        message,
    }
}

/// Checks `rows` as the raw file's writer will check them, so that a bad pod fails its own run
/// and not, at the end, the writing of every run.
fn check_rows(ns: &str, rows: &[RawPodRow]) -> Result<(), RunError> {
    let message = match crate::dataset::raw_to_string("raw", rows, &[]) {
        Ok(_) => return Ok(()),
        Err(crate::dataset::DatasetError::InvalidRecord { index, message, .. }) => {
            let row = &rows[index];
            // Its kubelet and Docker stamp these two on the node's clock, the creation
            // on the control plane's: before the creation, only skew explains them.
            let skew = if row.started_s < 0.0 || row.running_s < 0.0 {
                format!(
                    " (node {}'s clock is behind the control plane's: its kubelet stamped the pod \
                     before the apiserver created it; synchronize the clocks with NTP)",
                    row.node
                )
            } else {
                String::new()
            };
            format!("pod `{}`: {message}{skew}", row.pod)
        }
        Err(other) => other.to_string(),
    };
    Err(bad_record(ns, message))
}

/// A fresh random token of [`TOKEN_LEN`] characters from `[a-z0-9]`.
///
/// Drawn from the standard library's randomly keyed hasher (a new key per call), mixed with a counter and
/// the time, so two kubetwin processes, or two runs in one, do not pick the same name.
pub(super) fn unique_token() -> String {
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
