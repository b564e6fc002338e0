//! Measuring pod start-up on a real cluster through kubectl.
//!
//! [`measure`] repeats one run [`MeasureOptions::runs`] times. A run:
//!
//! 1. creates a namespace of its own, `<prefix><run>-<random token>`; if the name is taken
//!    (`AlreadyExists`) it draws another name and never reuses the existing namespace;
//! 2. labels it [`MANAGED_BY_LABEL`]`=`[`MANAGED_BY_VALUE`] and [`RUN_TOKEN_LABEL`]`=<token>`;
//! 3. opens `kubectl get pods -w --output-watch-events -o json` in the namespace, kept running
//!    beside the next steps (unless [`MeasureOptions::watch`] is off, or the runner cannot keep
//!    a command running), and gives it [`WATCH_HEAD_START`]: the thesis's observer, which times
//!    when each pod is *shown* Running (`watch_running_s`, on kubetwin's clock since it started
//!    the create);
//! 4. `kubectl create deployment NAME --image IMAGE`, then `kubectl scale deployment NAME --replicas N`,
//!    then reads the deployment's `creationTimestamp` (time zero of the pods' own stamps);
//! 5. polls `kubectl get pods -o json` every [`MeasureOptions::poll_interval`] until N pods are
//!    running (see [`Pod::is_running`](crate::kubectl::Pod::is_running)) or
//!    [`MeasureOptions::run_timeout`] passes; a pod that will not start without the kubelet's back-off
//!    (an image that cannot be pulled, a container that exits: see
//!    [`Pod::start_up_failure`](crate::kubectl::Pod::start_up_failure)) stops the run at once with
//!    [`RunError::PodCannotStart`], since its time would be the back-off's; once every pod runs,
//!    it gives the watch up to [`WATCH_SETTLE`] to show them all, then stops it (a run whose watch
//!    did not keeps its other times, and says why in [`RunRecord::watch_lost`]);
//! 6. reads `kubectl get events -o json` and turns the pods into
//!    [`RawPodRow`](crate::dataset::RawPodRow)s (see [`pod_timings`] and [`crate::dataset`] for what
//!    each time means);
//! 7. deletes the namespace.
//!
//! Step 7 also runs when an earlier step failed and when the cancel flag was raised (Ctrl-C), for every
//! namespace the run created. Before deleting, it reads the namespace back and deletes it only if both
//! labels are there with this run's values; a namespace it did not create is never touched, and one it
//! cannot verify is reported in [`RunFailure::leftover`] instead of deleted.
//!
//! [`measure_reporting`] also tells a progress display what each run is doing ([`Progress`]).
//!
//! The wall clock is behind [`Clock`] and kubectl behind [`KubectlRunner`], so tests run the whole
//! procedure against replayed kubectl output without sleeping.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::dataset;
use crate::kubectl::{Kubectl, KubectlRunner, VersionInfo};

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

/// Measures with the real kubectl ([`MeasureOptions::kubectl`]) and the system clock.
///
/// The caller owns Ctrl-C: install a handler (the CLI's uses `signal-hook`) that stores `true` in `cancel`;
/// the current kubectl command finishes (kubectl runs in its own process group and does not see the
/// terminal's Ctrl-C; one still running [`CANCEL_GRACE`](crate::kubectl::CANCEL_GRACE) later is
/// stopped), then the run's namespace is deleted and [`RunError::Cancelled`] is returned.
///
/// # Errors
/// As [`measure`].
pub fn measure_live(
    opts: &MeasureOptions,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<MeasureReport, MeasureError> {
    let mut runner = Kubectl::new(opts.kubectl.clone()).cancelled_by(cancel);
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
                "kubetwin measure: {} pods of image {}, {} runs asked for, delay_ms={} (a label: kubetwin does not inject delay)",
                opts.pods, opts.image, opts.runs, opts.delay_ms
            ),
            format!(
                "API server {}",
                server_version.as_deref().unwrap_or("of unknown version")
            ),
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

mod clock;
mod errors;
mod options;
mod report;
mod run;
mod timings;
mod watched;

pub use clock::*;
pub use errors::*;
pub use options::*;
pub use report::*;
use run::RunContext;
pub use timings::*;
pub use watched::{WATCH_HEAD_START, WATCH_SETTLE};

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::options::is_dns_label_chars;
    use super::run::unique_token;
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
        assert_eq!(check(|o| o.delay_ms = u32::MAX), "delay_ms");
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
