//! `kubetwin measure`: pod start-up on a real cluster, through the real `kubectl`.
//!
//! A thin front end to [`validate::measure::measure_live`]: it turns the flags into
//! [`MeasureOptions`], installs a Ctrl-C handler that raises the cancel flag (the library then finishes
//! the current kubectl command and deletes the run's namespace), and writes the measured cell and the
//! raw per-pod rows. When a run fails, the runs completed before it are still written, and any
//! namespace that could not be removed is printed with the command that removes it. When the
//! files cannot be written at the end (a full disk), the runs are saved under the temporary
//! directory instead, or printed on stderr: a measurement is never lost to its output.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use validate::kubectl::{KubectlConfig, KubectlError};
use validate::measure::{
    measure_live, raw_path_for, CleanupOutcome, MeasureError, MeasureOptions, MeasureReport, Progress, RunFailure,
};

use crate::output::UsageError;

/// Arguments of `kubetwin measure`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    kubetwin measure --kubeconfig ~/.kube/config --pods 20 --runs 5 --delay-ms 100 --out cells.csv\n\n\
Each run creates its own namespace (<prefix><run>-<random>), labels it as kubetwin's, opens\n\
`kubectl get pods -w` in it, creates a deployment, scales it to --pods replicas, waits until\n\
every pod runs, reads the pods and events, then deletes the namespace. The namespace is deleted\n\
also when a run fails and on Ctrl-C (press Ctrl-C again to quit at once and leave it). Writes\n\
one row per pod per run (cells.csv -> cells.pods.csv) and the summary to --out: observed =\n\
kubectl-watch, as the thesis measured, when the watch showed every pod Running in every run\n\
(start-up: from starting `kubectl create deployment` until the watch showed the last pod\n\
Running, kubetwin's clock, resolution 0.001 s); else observed = container-start (until the last\n\
container's startedAt, resolution 1 s). validate and calibrate simulate the same end point.\n\
Exit code 0 when every run completed, 1 when a run failed or was cancelled (the completed runs\n\
are still written) or --out could not be written at the end (the runs are then saved in a\n\
directory of their own under the temporary directory, named in the error, or printed on\n\
stderr), 2 for bad arguments.")]
pub(crate) struct MeasureArgs {
    /// The kubeconfig of the cluster to measure (passed to kubectl as --kubeconfig).
    #[arg(long, value_name = "FILE")]
    kubeconfig: PathBuf,
    /// Pods per run: the replicas the deployment is scaled to.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000), allow_negative_numbers = true)]
    pods: u32,
    /// Runs, each in a fresh namespace; the summary's mean_s is over these runs.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    runs: u32,
    /// Container image of the deployment.
    #[arg(long, value_name = "IMAGE", default_value = "nginx")]
    image: String,
    /// Start of every namespace name kubetwin creates (lower-case letters, digits and '-').
    #[arg(long, value_name = "PREFIX", default_value = "kubetwin-")]
    namespace_prefix: String,
    /// The kubectl program to run; looked up on PATH when it has no '/'.
    #[arg(long, value_name = "PATH", default_value = "kubectl")]
    kubectl: PathBuf,
    /// The network delay in force on the cluster while measuring, in milliseconds. Only a label for
    /// the measured cell (the delay_ms column): kubetwin does not inject any delay.
    #[arg(long, value_name = "D", default_value_t = 0)]
    delay_ms: u32,
    /// Summary CSV to write, a name ending in .csv; the raw per-pod rows go beside it
    /// (cells.csv -> cells.pods.csv).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// How long one run may wait for every pod to run before it fails and cleans up, with a
    /// unit (e.g. 10m, 90s).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_run_timeout)]
    run_timeout: models::units::Dur,
    /// The longest one kubectl command may run before kubetwin stops it (with its process group)
    /// and treats it as failed, with a unit. kubectl's own --request-timeout (30 s) bounds each
    /// request, not a credential plugin or a wrapper that hangs. Not the run's watch (`get pods
    /// -w`, --request-timeout=0s), which runs until the run ends and is then stopped.
    #[arg(long, value_name = "DURATION", default_value = "90s", value_parser = parse_run_timeout)]
    kubectl_timeout: models::units::Dur,
    /// Do not keep `kubectl get pods -w` open beside each run: time start-up only from the
    /// pods' own timestamps (observed = container-start).
    #[arg(long)]
    no_watch: bool,
}

/// A positive duration (`--run-timeout`, `--kubectl-timeout`).
fn parse_run_timeout(s: &str) -> Result<models::units::Dur, String> {
    let d = s.parse::<models::units::Dur>().map_err(|e| e.to_string())?;
    if d.get().is_zero() {
        return Err(format!("`{s}` is no time at all; expected a duration such as 10m"));
    }
    Ok(d)
}

/// The command-line flag behind a field of [`MeasureOptions`], for usage errors.
fn flag_of(field: &str) -> String {
    match field {
        "pods" | "runs" | "image" | "namespace_prefix" | "delay_ms" => format!("--{}", field.replace('_', "-")),
        other => other.to_string(),
    }
}

/// Checks what can be checked before anything runs, so a long measurement is not lost at the end.
fn check_paths(a: &MeasureArgs) -> Result<(), UsageError> {
    if !a.kubeconfig.is_file() {
        // Every kubectl call reads the kubeconfig afresh, so a pipe (`<(kubectl config view
        // --raw)`) or a device would serve the first call at most.
        let what = if a.kubeconfig.is_dir() {
            "a directory, not a kubeconfig file"
        } else if a.kubeconfig.exists() {
            "not a regular file: each of the many kubectl calls reads it again, so a pipe or a device will not do \
             (write it to a file: kubectl config view --raw > kubeconfig)"
        } else {
            "no such file"
        };
        return Err(UsageError(format!("--kubeconfig {}: {what}", a.kubeconfig.display())));
    }
    // The raw rows' name comes from the summary's (cells.csv -> cells.pods.csv): a summary named
    // otherwise could share its raw file with another (`x` and `x.csv` both gave `x.pods.csv`), or
    // be another summary's raw file (`x.pods.csv` is `x.csv`'s).
    let name = a
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.ends_with(".csv") || name.ends_with(".pods.csv") {
        return Err(UsageError(format!(
            "--out {}: expected a summary file name ending in .csv but not in .pods.csv, such as cells.csv (its raw per-pod rows go beside it as cells.pods.csv)",
            a.out.display()
        )));
    }
    crate::output::check_output_file("--out", &a.out, "cells.csv")?;
    // The raw rows are written with the summary, beside it: a path that cannot take them would
    // lose every run at the end.
    let raw = raw_path_for(&a.out);
    if raw.is_dir() {
        return Err(UsageError(format!(
            "--out {}: the raw per-pod rows go to {}, which is a directory; give another --out or move it away",
            a.out.display(),
            raw.display()
        )));
    }
    crate::output::check_output_file("--out (its raw rows)", &raw, "cells.pods.csv")?;
    let inputs: [(&str, &Path); 2] = [("--kubeconfig", &a.kubeconfig), ("--kubectl", &a.kubectl)];
    crate::output::check_not_an_input("--out", &a.out, &inputs)?;
    crate::output::check_not_an_input("--out (its raw rows)", &raw_path_for(&a.out), &inputs)?;
    Ok(())
}

/// Raises `cancel` on the first Ctrl-C (SIGINT), or SIGTERM or SIGHUP as `kill`, `timeout` or a
/// closed terminal send them, and keeps the signal in `received`; a second one ends the process
/// at once, by that signal
/// ([`crate::interrupt::end_by`]). A signal that was ignored (SIGHUP under `nohup kubetwin
/// measure ...`) stays ignored: a logout does not end a measurement its user meant to outlive
/// the session.
///
/// `current` names the namespace of the run under way, once it has started, for the message of
/// a quit that leaves it; the quit stops the kubectl command running then, which could
/// otherwise outlive kubetwin in its own process group. `kubectl` is the command line that
/// reaches the measured cluster (`KUBECTL --kubeconfig FILE`): the clean-up commands the message
/// gives use it, so that pasted they go to that cluster, not to the user's current context.
fn install_ctrl_c(
    cancel: Arc<AtomicBool>,
    received: Arc<AtomicI32>,
    current: Arc<Mutex<Option<String>>>,
    kubectl: String,
) -> anyhow::Result<()> {
    let presses = AtomicU32::new(0);
    crate::interrupt::install(move |signal| {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            received.store(signal, Ordering::SeqCst);
            cancel.store(true, Ordering::SeqCst);
            // A closed terminal cannot take the message: the clean-up goes on without it.
            let _ = writeln!(
                std::io::stderr(),
                "\nkubetwin measure: interrupted (Ctrl-C, SIGTERM or SIGHUP): finishing the current kubectl command, then deleting the run's \
                 namespace (press Ctrl-C again to quit at once and leave it)"
            );
        } else {
            validate::kubectl::stop_running_commands();
            let named = current.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let which = match named {
                Some(ns) => format!(
                    "The namespace of the current run, {ns}, may be left (unless its deletion had \
                     been requested): delete it with `{kubectl} delete namespace {ns}`. A run that had \
                     not started yet may have left one too: its"
                ),
                None => "The namespace of the current run may be left: its".to_owned(),
            };
            crate::interrupt::end_by(
                signal,
                &format!(
                    "kubetwin measure: quitting without cleaning up. {which} name starts with the \
                     --namespace-prefix and the run number, and its labels include \
                     app.kubernetes.io/managed-by=kubetwin and the run's token. List them with \
                     `{kubectl} get namespaces -l app.kubernetes.io/managed-by=kubetwin --show-labels` \
                     and delete only the one this run created (other kubetwin runs on the cluster \
                     carry the same managed-by label)."
                ),
            );
        }
    })
}

fn cleanup_text(c: CleanupOutcome) -> &'static str {
    match c {
        CleanupOutcome::Deleted => "namespace deleted",
        CleanupOutcome::DeletionRequested => "namespace deletion requested",
        CleanupOutcome::AlreadyTerminating => "namespace was already terminating",
        CleanupOutcome::AlreadyGone => "namespace was already gone",
        CleanupOutcome::NotDeleted => "namespace NOT deleted: see below",
    }
}

/// A warning for each run that began while the previous run's namespace was still being deleted
/// (kubectl's wait for the deletion timed out): that run's pods may still have been terminating
/// on the same nodes.
fn overlapping_runs(runs: &[validate::measure::RunRecord]) -> Vec<String> {
    runs.windows(2)
        .filter(|w| w[0].cleanup == CleanupOutcome::DeletionRequested)
        .map(|w| {
            format!(
                "run {} began while run {}'s namespace {} was still being deleted: its pods may have been terminating \
                 on the same nodes, competing with run {}'s; on a slow cluster, measure again once it is gone",
                w[1].run, w[0].run, w[0].namespace, w[1].run
            )
        })
        .collect()
}

/// Prints the runs of `report` and its summary cell(s) to stdout; with `watching` (no
/// `--no-watch`), warns of the runs the watch did not time.
fn print_report(report: &MeasureReport, watching: bool) {
    for r in &report.runs {
        let watched = r
            .watch_startup_s
            .map_or_else(String::new, |s| format!(", all shown Running by the watch after {s} s"));
        println!(
            "run {}: namespace {}, all containers running after {} s{watched} ({})",
            r.run,
            r.namespace,
            r.startup_s,
            cleanup_text(r.cleanup)
        );
        if let Some(why) = r
            .watch_lost
            .as_ref()
            .filter(|_| watching && r.watch_startup_s.is_none())
        {
            eprintln!("warning: run {}: no watch times: {why}", r.run);
        }
    }
    for w in overlapping_runs(&report.runs) {
        eprintln!("warning: {w}");
    }
    // A cell falls back to the containers' starts when one of its runs has no watch times: say
    // which, so that a blip in one run is not taken for a cluster without the watch.
    let unwatched: Vec<String> = report
        .runs
        .iter()
        .filter(|r| watching && r.watch_startup_s.is_none())
        .map(|r| r.run.to_string())
        .collect();
    if !unwatched.is_empty() {
        // The old-kubectl hint only where kubectl said so: a refused connection is not a version.
        let flag_unknown = report.runs.iter().any(|r| {
            r.watch_startup_s.is_none()
                && r.watch_lost
                    .as_deref()
                    .is_some_and(|w| w.contains("output-watch-events") || w.contains("unknown flag"))
        });
        eprintln!(
            "note: the summary is observed = container-start (the last container's startedAt, 1 s) because run{} {} \
             had no watch times (the warnings above say why){}",
            if unwatched.len() == 1 { "" } else { "s" },
            unwatched.join(", "),
            if flag_unknown {
                "; a kubectl older than 1.16 lacks --output-watch-events (--no-watch goes without the watch)"
            } else {
                ""
            }
        );
    }
    for c in &report.cells {
        println!(
            "{} pods, delay_ms={}: mean start-up {:.2} s over {} run{} (observed {}, resolution {} s)",
            c.pods,
            c.delay_ms,
            c.mean_s,
            c.runs,
            if c.runs == 1 { "" } else { "s" },
            c.observed.as_str(),
            c.resolution_s
        );
    }
    for node in validate::phases::clocks_behind(&report.rows) {
        eprintln!("warning: {node}");
    }
}

/// Writes `report` to `out` and its raw rows beside it, both whole or neither; returns the raw
/// path.
///
/// The runs cost cluster time, so a write that fails (a full disk, a directory gone read-only
/// since the check before the first run) does not lose them: they are written to a directory
/// of their own under the system's temporary directory ([`rescue`]), or, if that fails too,
/// printed on stderr, and the error says where they are.
fn write(report: &MeasureReport, out: &Path) -> anyhow::Result<PathBuf> {
    let raw = raw_path_for(out);
    let what = || format!("cannot write {} and {}", out.display(), raw.display());
    let (summary, rows) = report.to_csv(out, &raw).with_context(what)?;
    match validate::atomic_file::write_atomic_set(&[(&raw, rows.as_bytes()), (out, summary.as_bytes())]) {
        Ok(()) => Ok(raw),
        Err(e) => {
            let runs = crate::output::count(report.runs.len(), "run");
            let kept = match rescue(report, out, &summary, &rows) {
                Ok((saved, saved_raw)) => format!(
                    "what the {runs} measured is saved instead in {} and {} (copy them from there)",
                    saved.display(),
                    saved_raw.display()
                ),
                Err(why) => {
                    eprintln!("----- {} -----", out.display());
                    eprint!("{summary}");
                    eprintln!("----- {} -----", raw.display());
                    eprint!("{rows}");
                    eprintln!("----- end -----");
                    format!(
                        "nor could they be saved under {} ({why}): what the {runs} measured is printed above, \
                         each file between its ----- lines",
                        std::env::temp_dir().display()
                    )
                }
            };
            Err(anyhow::anyhow!("{}: {e}; {kept}", what()))
        }
    }
}

/// Writes the summary and the raw rows of `report` (their text: `summary`, `rows`) into a new
/// directory under [`std::env::temp_dir`], named after the first run's namespace (whose random
/// token names the measurement) and the process, with the file names of `out`; returns their
/// paths.
fn rescue(report: &MeasureReport, out: &Path, summary: &str, rows: &str) -> Result<(PathBuf, PathBuf), String> {
    let token = report.runs.first().map_or("", |r| r.namespace.as_str());
    let dir = std::env::temp_dir().join(format!("kubetwin-measure-{token}-{}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let saved = dir.join(out.file_name().unwrap_or("cells.csv".as_ref()));
    let saved_raw = raw_path_for(&saved);
    validate::atomic_file::write_atomic_set(&[(&saved_raw, rows.as_bytes()), (&saved, summary.as_bytes())])
        .map_err(|e| e.to_string())?;
    Ok((saved, saved_raw))
}

/// `KUBECTL --kubeconfig FILE` as the user gave them, quoted for a shell: the start of a
/// command that reaches the measured cluster, to paste.
fn on_cluster(a: &MeasureArgs) -> String {
    use crate::output::shell_quote;
    format!(
        "{} --kubeconfig {}",
        shell_quote(&a.kubectl.to_string_lossy()),
        shell_quote(&a.kubeconfig.to_string_lossy())
    )
}

/// The part of a failed measurement that is worth keeping: writes the completed runs, prints the
/// namespaces left, and returns the error to report.
fn handle_failure(failure: &RunFailure, a: &MeasureArgs) -> anyhow::Error {
    let partial = &failure.partial;
    if partial.runs.is_empty() {
        eprintln!("no run completed; {} was not written", a.out.display());
    } else {
        print_report(partial, !a.no_watch);
        match write(partial, &a.out) {
            Ok(raw) => eprintln!(
                "wrote the {} completed run{} to {} and {}",
                partial.runs.len(),
                if partial.runs.len() == 1 { "" } else { "s" },
                a.out.display(),
                raw.display()
            ),
            Err(e) => eprintln!("warning: {e:#}"),
        }
    }
    if failure.leftover.is_empty() {
        eprintln!("no namespace this measurement created is left on the cluster (each was deleted, or its deletion requested)");
    } else {
        eprintln!("namespaces that may still exist on the cluster:");
        for l in &failure.leftover {
            eprintln!("  {}: {}", l.namespace, l.reason);
        }
        let names: Vec<&str> = failure.leftover.iter().map(|l| l.namespace.as_str()).collect();
        eprintln!("check them, then remove them with:");
        eprintln!("  {} delete namespace {}", on_cluster(a), names.join(" "));
    }
    anyhow::anyhow!(
        "measurement stopped at run {} of {}: {}",
        failure.run,
        failure.runs,
        failure.cause
    )
}

/// How often a log (stderr not a terminal) hears how many pods run while a run waits.
const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Shows on stderr what the measurement is doing: a bar of running pods on a terminal; otherwise
/// (a log) a line when a run starts and every [`LOG_EVERY`] while it waits.
struct ProgressDisplay {
    /// The bar, when stderr is a terminal.
    bar: Option<ProgressBar>,
    /// The wait at which the last log line was written.
    logged: std::time::Duration,
}

impl ProgressDisplay {
    fn new(pods: u32) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::with_draw_target(Some(u64::from(pods)), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} pods running ({msg}) {elapsed_precise}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            b
        });
        ProgressDisplay {
            bar,
            logged: std::time::Duration::ZERO,
        }
    }

    fn show(&mut self, p: Progress<'_>) {
        match &self.bar {
            Some(bar) => match p {
                Progress::RunStarted { run, runs, namespace } => {
                    bar.reset();
                    bar.set_message(format!("run {run}/{runs}, namespace {namespace}"));
                }
                Progress::Polled { running, .. } => bar.set_position(running as u64),
                Progress::CleaningUp { namespace, .. } => bar.set_message(format!("deleting namespace {namespace}")),
            },
            None => {
                if let Some(line) = self.log_line(p) {
                    // A progress line that cannot be written is dropped: the measurement, and
                    // the clean-up of its namespace, go on.
                    use std::io::Write as _;
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        }
    }

    /// The line a log gets for `p`, if any.
    fn log_line(&mut self, p: Progress<'_>) -> Option<String> {
        match p {
            Progress::RunStarted { run, runs, namespace } => {
                self.logged = std::time::Duration::ZERO;
                Some(format!(
                    "run {run}/{runs}: namespace {namespace}, creating the deployment"
                ))
            }
            Progress::Polled {
                run,
                running,
                wanted,
                waited,
            } if waited >= self.logged + LOG_EVERY => {
                self.logged = waited;
                Some(format!(
                    "run {run}: {running}/{wanted} pods running after {} s",
                    waited.as_secs()
                ))
            }
            Progress::Polled { .. } | Progress::CleaningUp { .. } => None,
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A warning per run with pods whose stamps read before the deployment's creation: a node's
/// or another master's clock behind the apiserver's that created the deployment. The runs are
/// kept (kubectl's watch times, on kubetwin's clock, do not depend on them); the phases between
/// stamps of different hosts read short by as much, and a `container-start` cell (no watch)
/// reads its start-up on the nodes' clocks.
fn skewed_clocks(rows: &[validate::dataset::RawPodRow]) -> Vec<String> {
    // Per run: pods stamped early, the earliest stamp, the nodes whose own stamps (the
    // kubelet's, the containers') are early, and whether the control plane's are (the pod's
    // creation or binding, by another master than the deployment's).
    #[derive(Default)]
    struct Early<'a> {
        pods: usize,
        earliest: f64,
        nodes: std::collections::BTreeSet<&'a str>,
        control_plane: bool,
    }
    let mut runs: std::collections::BTreeMap<u32, Early<'_>> = Default::default();
    for r in rows {
        let node = r.started_s.min(r.running_s);
        let cp = r.created_s.min(r.scheduled_s);
        if node.min(cp) < 0.0 {
            let e = runs.entry(r.run).or_default();
            e.pods += 1;
            e.earliest = e.earliest.min(node.min(cp));
            if node < 0.0 {
                e.nodes.insert(r.node.as_str());
            }
            e.control_plane |= cp < 0.0;
        }
    }
    runs.into_iter()
        .map(|(run, e)| {
            let mut whose = Vec::new();
            if !e.nodes.is_empty() {
                whose.push(format!(
                    "node{} {}",
                    if e.nodes.len() == 1 { "" } else { "s" },
                    e.nodes.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            if e.control_plane {
                whose.push("another master than the deployment's".to_owned());
            }
            format!(
                "run {run}: {} pod{} stamped up to {:.0} s before the deployment's creation, by the clock of {}, behind \
                 the apiserver's that created the deployment; kept, since kubectl's watch does not read the cluster's \
                 clocks, but the phases between two hosts' stamps read short by as much, and a cell without the watch \
                 (container-start) cannot be compared: synchronize the clocks with NTP",
                e.pods,
                if e.pods == 1 { "" } else { "s" },
                -e.earliest,
                whose.join(" and ")
            )
        })
        .collect()
}

/// Runs `kubetwin measure`.
pub(crate) fn cmd(a: MeasureArgs) -> anyhow::Result<()> {
    let mut opts = MeasureOptions::new(a.pods);
    opts.kubectl = KubectlConfig {
        program: a.kubectl.clone(),
        kubeconfig: Some(a.kubeconfig.clone()),
        command_timeout: Some(std::time::Duration::from_nanos(a.kubectl_timeout.get().as_nanos())),
        ..KubectlConfig::default()
    };
    opts.runs = a.runs;
    opts.image = a.image.clone();
    opts.namespace_prefix = a.namespace_prefix.clone();
    opts.delay_ms = a.delay_ms;
    opts.watch = !a.no_watch;
    opts.run_timeout = std::time::Duration::from_nanos(a.run_timeout.get().as_nanos());
    match opts.validate() {
        Err(MeasureError::InvalidOptions { field, message }) => {
            return Err(UsageError(format!("invalid value for {}: {message}", flag_of(field))).into())
        }
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    check_paths(&a)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicI32::new(0));
    let current = Arc::new(Mutex::new(None));
    let on_cluster = on_cluster(&a);
    install_ctrl_c(cancel.clone(), received.clone(), current.clone(), on_cluster)?;
    eprintln!(
        "measuring {} run{} of {} pods (image {}) with {} --kubeconfig {}; Ctrl-C stops and cleans up",
        a.runs,
        if a.runs == 1 { "" } else { "s" },
        a.pods,
        a.image,
        a.kubectl.display(),
        a.kubeconfig.display()
    );
    if a.runs > 1 {
        // The kubelet's image GC frees space only above 85 % disk use: run 1 leaves the image.
        eprintln!(
            "note: kubetwin does not remove {} from the nodes between runs: run 1 downloads it onto the nodes its pods \
             land on, and each later run finds it wherever an earlier run put a pod (unless the nodes' image GC or an \
             operator removed it), so the cell's mean mixes downloads and cached starts, which neither \
             runtime.image_cached = false nor true simulates. For a cell to compare, pre-pull the image on every node \
             before measuring and simulate with runtime.image_cached = true, or remove it between runs \
             (docs/validation.md, \"image downloaded per run\")",
            a.image
        );
    }
    let mut display = ProgressDisplay::new(a.pods);
    let result = measure_live(&opts, &cancel, &mut |p| {
        if let Progress::RunStarted { namespace, .. } = p {
            *current.lock().unwrap_or_else(PoisonError::into_inner) = Some(namespace.to_owned());
        }
        display.show(p);
    });
    display.finish();
    let outcome = match result {
        Ok(report) => {
            if let Some(v) = &report.server_version {
                println!("API server {v}");
            }
            print_report(&report, !a.no_watch);
            for w in skewed_clocks(&report.rows) {
                eprintln!("warning: {w}");
            }
            write(&report, &a.out).map(|raw| println!("wrote {} and {}", a.out.display(), raw.display()))
        }
        Err(MeasureError::Run(failure)) => Err(handle_failure(&failure, &a)),
        Err(MeasureError::Preflight {
            source: source @ KubectlError::Spawn { .. },
        }) => Err(crate::output::InputError(format!(
            "--kubectl {}: {source} (is kubectl installed? point --kubectl at it); nothing was created on the cluster",
            a.kubectl.display()
        ))
        .into()),
        Err(e @ MeasureError::Preflight { .. }) => Err(anyhow::anyhow!("{e}; nothing was created on the cluster")),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    };
    match received.load(Ordering::SeqCst) {
        0 => outcome,
        // Interrupted, and cleaned up (a signal during the last run's clean-up lets the run end
        // well): now end by the signal, as without a handler, so that a script's loop over
        // measurements stops on Ctrl-C.
        signal => crate::interrupt::end_by(
            signal,
            &match &outcome {
                Ok(()) => "kubetwin measure: interrupted after the last run; its results are written".to_owned(),
                Err(err) => format!("error: {err:#}"),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A run after one whose namespace deletion had not finished is warned of; one after a
    /// deleted namespace is not.
    #[test]
    fn a_run_after_an_unfinished_deletion_is_warned_of() {
        let run = |n: u32, cleanup| validate::measure::RunRecord {
            run: n,
            namespace: format!("kubetwin-{n}-x"),
            deployment_created: validate::kubectl::Timestamp::from_unix_seconds(0),
            startup_s: 8.0,
            watch_startup_s: None,
            watch_lost: None,
            cleanup,
        };
        let runs = [
            run(1, CleanupOutcome::Deleted),
            run(2, CleanupOutcome::DeletionRequested),
            run(3, CleanupOutcome::DeletionRequested),
        ];
        let w = overlapping_runs(&runs);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("run 3 began while run 2's namespace kubetwin-2-x was still being deleted"),
            "{}",
            w[0]
        );
    }

    /// A run whose pods read before the deployment's creation (a node 3 s behind) is named once,
    /// with its pods' nodes and how far; a run without is not.
    #[test]
    fn skewed_clocks_are_named_per_run() {
        let row = |run: u32, node: &str, started_s: f64| validate::dataset::RawPodRow {
            run,
            pod: format!("p{run}{node}"),
            node: node.into(),
            delay_ms: 0,
            pods: 2,
            created_s: 0.0,
            scheduled_s: 0.0,
            started_s,
            running_s: started_s + 4.0,
            watch_running_s: None,
        };
        let rows = [
            row(1, "n1", 2.0),
            row(1, "n2", 1.0),
            row(2, "n2", -3.0),
            row(2, "n3", -1.0),
        ];
        let w = skewed_clocks(&rows);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with(
                "run 2: 2 pods stamped up to 3 s before the deployment's creation, by the clock of nodes n2, n3, behind"
            ),
            "{}",
            w[0]
        );
        // A pod created before its deployment: the control plane's clocks, not the node's.
        let mut early = row(3, "n1", 2.0);
        early.created_s = -1.0;
        let w = skewed_clocks(&[early]);
        assert!(
            w[0].starts_with("run 3: 1 pod stamped up to 1 s before the deployment's creation, by the clock of another master than the deployment's, behind"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn a_log_hears_of_each_run_and_of_the_wait_every_30_s() {
        let mut d = ProgressDisplay {
            bar: None,
            logged: Duration::ZERO,
        };
        let poll = |run, running, secs| Progress::Polled {
            run,
            running,
            wanted: 100,
            waited: Duration::from_secs(secs),
        };
        let mut lines = Vec::new();
        let started = |run| Progress::RunStarted {
            run,
            runs: 2,
            namespace: "kubetwin-1-x",
        };
        let told = [
            started(1),
            poll(1, 0, 1),
            poll(1, 10, 29),
            poll(1, 40, 31),
            poll(1, 50, 45),
            poll(1, 90, 61),
            poll(1, 100, 62),
            Progress::CleaningUp {
                run: 1,
                namespace: "kubetwin-1-x",
            },
            started(2),
            poll(2, 60, 30),
        ];
        for p in told {
            lines.extend(d.log_line(p));
        }
        assert_eq!(
            lines,
            [
                "run 1/2: namespace kubetwin-1-x, creating the deployment",
                "run 1: 40/100 pods running after 31 s",
                "run 1: 90/100 pods running after 61 s",
                "run 2/2: namespace kubetwin-1-x, creating the deployment",
                "run 2: 60/100 pods running after 30 s",
            ]
        );
    }
}
