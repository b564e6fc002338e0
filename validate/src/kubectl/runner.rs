//! Running kubectl: the [`KubectlRunner`] trait and the real [`Kubectl`] that spawns the binary.

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{KubectlError, PodWatch};

/// How long a command already running when the cancel flag goes up may go on before it is
/// stopped: kubetwin's choice, long enough for a request already sent to get its answer (in
/// milliseconds from a healthy API server), short enough that the clean-up after a `SIGTERM`
/// fits in Kubernetes' default 30-s termination grace period (a measurement run as a Job).
pub const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// How often a running command is looked at (ended? past its limit? cancelled?).
const POLL: Duration = Duration::from_millis(20);

/// The process groups of the kubectl commands running now (one at a time in a measurement), so
/// that a quit without clean-up can stop them too ([`stop_running_commands`]).
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// What one kubectl invocation printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KubectlOutput {
    /// Standard output (invalid UTF-8 replaced).
    pub stdout: String,
    /// Standard error (invalid UTF-8 replaced).
    pub stderr: String,
    /// The exit code; `None` when the process was killed by a signal.
    pub exit_code: Option<i32>,
}

impl KubectlOutput {
    /// A successful run that printed `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Self {
        Self {
            stdout: stdout.into(),
            stderr: String::new(),
            exit_code: Some(0),
        }
    }

    /// A failed run that printed `stderr` and exited with `exit_code`.
    pub fn failed(stderr: impl Into<String>, exit_code: i32) -> Self {
        Self {
            stdout: String::new(),
            stderr: stderr.into(),
            exit_code: Some(exit_code),
        }
    }

    /// Whether kubectl exited with 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// stdout when kubectl exited with 0.
    ///
    /// # Errors
    /// Otherwise the classified failure (see [`KubectlError::classify`]); `args` describes the command.
    pub fn into_stdout(self, args: &[&str]) -> Result<String, KubectlError> {
        if self.success() {
            Ok(self.stdout)
        } else {
            Err(KubectlError::classify(args, self.exit_code, &self.stderr))
        }
    }
}

/// Something that runs kubectl commands: the real binary ([`Kubectl`]) or a stand-in in tests.
///
/// `args` are what follows `kubectl` on a command line, without the connection flags (`--kubeconfig`,
/// `--request-timeout`), which the runner adds itself.
pub trait KubectlRunner {
    /// Runs one command and returns what it printed, whatever its exit code.
    ///
    /// # Errors
    /// [`KubectlError::Spawn`] when the command could not be run at all. A command that ran and failed is
    /// an `Ok` with a non-zero [`KubectlOutput::exit_code`].
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError>;

    /// Runs one command and returns its stdout if it exited with 0.
    ///
    /// # Errors
    /// [`KubectlError::Spawn`], or the classified failure ([`KubectlError::classify`]).
    fn run_ok(&mut self, args: &[&str]) -> Result<String, KubectlError> {
        self.run(args)?.into_stdout(args)
    }

    /// Starts `kubectl get pods -w --output-watch-events -o json` (`args`), which runs until
    /// the returned watch is dropped, its entries read as kubectl prints them.
    ///
    /// `Ok(None)` when this runner cannot keep a command running (the default: a runner of
    /// one-shot commands); a measurement then goes without the watch.
    ///
    /// # Errors
    /// [`KubectlError::Spawn`] when the command could not be started.
    fn watch_pods(&mut self, args: &[&str]) -> Result<Option<PodWatch>, KubectlError> {
        let _ = args;
        Ok(None)
    }
}

impl<R: KubectlRunner + ?Sized> KubectlRunner for &mut R {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        (**self).run(args)
    }

    fn watch_pods(&mut self, args: &[&str]) -> Result<Option<PodWatch>, KubectlError> {
        (**self).watch_pods(args)
    }
}

impl<R: KubectlRunner + ?Sized> KubectlRunner for Box<R> {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        (**self).run(args)
    }

    fn watch_pods(&mut self, args: &[&str]) -> Result<Option<PodWatch>, KubectlError> {
        (**self).watch_pods(args)
    }
}

/// How to reach kubectl and the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubectlConfig {
    /// The kubectl program; looked up on `PATH` when it has no slash. Default `kubectl`.
    pub program: PathBuf,
    /// Passed as `--kubeconfig FILE`; `None` leaves kubectl to its defaults (`KUBECONFIG`, `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// Passed as `--request-timeout=…`, so that an API server that accepts connections but never answers
    /// cannot hang a command. Default 30 s. `None` leaves kubectl's default (no timeout).
    pub request_timeout: Option<Duration>,
    /// The longest one command may run: past it, kubetwin stops it (its whole process group) and
    /// reports [`KubectlError::Stopped`]. kubectl's `--request-timeout` bounds each HTTP request,
    /// but a command may send several (discovery first), and nothing bounds an exec credential
    /// plugin or a wrapper script. Default 90 s: three request timeouts. `None`: no limit.
    pub command_timeout: Option<Duration>,
}

impl Default for KubectlConfig {
    fn default() -> Self {
        Self {
            program: PathBuf::from("kubectl"),
            kubeconfig: None,
            request_timeout: Some(Duration::from_secs(30)),
            command_timeout: Some(Duration::from_secs(90)),
        }
    }
}

/// The real runner: spawns the kubectl program for every command and waits for it, at most
/// [`KubectlConfig::command_timeout`].
///
/// On Unix the child gets its own process group, so a Ctrl-C at the terminal reaches only kubetwin, which
/// then finishes the current command and cleans up (see [`crate::measure`]), instead of killing a
/// `kubectl delete` halfway; a command that does not end is stopped with its whole group. Standard
/// input is closed.
#[derive(Debug, Clone)]
pub struct Kubectl {
    config: KubectlConfig,
}

impl Kubectl {
    /// A runner with the given configuration.
    pub fn new(config: KubectlConfig) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &KubectlConfig {
        &self.config
    }

    /// The full argument list passed to the program for `args`: connection flags first.
    pub fn command_args(&self, args: &[&str]) -> Vec<OsString> {
        let mut all = Vec::with_capacity(args.len() + 3);
        if let Some(kubeconfig) = &self.config.kubeconfig {
            all.push(OsString::from("--kubeconfig"));
            all.push(kubeconfig.clone().into_os_string());
        }
        if let Some(timeout) = self.config.request_timeout {
            all.push(OsString::from(format!("--request-timeout={}", go_duration(timeout))));
        }
        all.extend(args.iter().map(OsString::from));
        all
    }
}

/// A Go duration string (`30s`, `1500ms`) as kubectl's flags expect.
fn go_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl Kubectl {
    /// Runs one command. Once `cancel` is raised, a command that was already running when it
    /// went up is given [`CANCEL_GRACE`] more, then stopped; one started after (a clean-up) runs
    /// as any other.
    fn run_watched(&self, args: &[&str], cancel: Option<&AtomicBool>) -> Result<KubectlOutput, KubectlError> {
        let mut command = self.command(args);
        let spawn_error = |source| KubectlError::Spawn {
            program: self.config.program.clone(),
            source,
        };
        let raised = || cancel.is_some_and(|c| c.load(Ordering::SeqCst));
        let cancelled_before = raised();
        let mut child = command.spawn().map_err(spawn_error)?;
        let running = Registered::new(child.id());
        // Read both pipes while the command runs, so that a full pipe cannot block it.
        let stdout = read_all(child.stdout.take());
        let stderr = read_all(child.stderr.take());
        let started = Instant::now();
        let mut cancelled_at: Option<Instant> = None;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(source) => {
                    stop(&mut child);
                    return Err(spawn_error(source));
                }
            }
            if !cancelled_before && cancelled_at.is_none() && raised() {
                cancelled_at = Some(Instant::now());
            }
            let timed_out = self.config.command_timeout.filter(|&limit| started.elapsed() >= limit);
            let interrupted = cancelled_at.filter(|at| at.elapsed() >= CANCEL_GRACE);
            if timed_out.is_some() || interrupted.is_some() {
                stop(&mut child);
                // The pipes' readers are left: a process that left the group could hold them.
                return Err(KubectlError::Stopped {
                    args: args.join(" "),
                    after: started.elapsed(),
                    interrupted: interrupted.is_some(),
                });
            }
            std::thread::sleep(POLL);
        };
        drop(running);
        let text = |reader: std::thread::JoinHandle<Vec<u8>>| {
            String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned()
        };
        Ok(KubectlOutput {
            stdout: text(stdout),
            stderr: text(stderr),
            exit_code: status.code(),
        })
    }

    /// The command for `args`: connection flags first, standard input closed, both outputs
    /// piped, in a process group of its own.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.config.program);
        command
            .args(self.command_args(args))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        command
    }

    /// Starts the watch `args`, read on a thread of its own; the end of its standard error is
    /// kept, for the reason a watch ended ([`PodWatch::stderr_tail`]). It runs without the
    /// command time limit, until dropped,
    /// and with `--request-timeout=0s`: kubectl's request timeout bounds a watch's request too,
    /// and would end it ("A value of zero means don't timeout requests", `kubectl options`).
    fn spawn_watch(&self, args: &[&str]) -> Result<PodWatch, KubectlError> {
        let unbounded = Kubectl::new(KubectlConfig {
            request_timeout: Some(Duration::ZERO),
            ..self.config.clone()
        });
        let mut child = unbounded.command(args).spawn().map_err(|source| KubectlError::Spawn {
            program: self.config.program.clone(),
            source,
        })?;
        let registered = Registered::new(child.id());
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            stop(&mut child);
            return Err(KubectlError::Spawn {
                program: self.config.program.clone(),
                source: std::io::Error::other("no output pipes"),
            });
        };
        Ok(PodWatch::of_process(
            stdout,
            stderr,
            super::live_watch::WatchProcess { child, registered },
        ))
    }

    /// This runner, its commands stopped [`CANCEL_GRACE`] after `cancel` is raised while they
    /// run.
    pub fn cancelled_by(self, cancel: &AtomicBool) -> CancellableKubectl<'_> {
        CancellableKubectl { kubectl: self, cancel }
    }
}

impl KubectlRunner for Kubectl {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        self.run_watched(args, None)
    }

    fn watch_pods(&mut self, args: &[&str]) -> Result<Option<PodWatch>, KubectlError> {
        self.spawn_watch(args).map(Some)
    }
}

/// The real runner with a cancel flag ([`Kubectl::cancelled_by`]): what a measurement uses, so
/// that a hung command does not hold up the clean-up after Ctrl-C.
#[derive(Debug)]
pub struct CancellableKubectl<'a> {
    kubectl: Kubectl,
    cancel: &'a AtomicBool,
}

impl KubectlRunner for CancellableKubectl<'_> {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        self.kubectl.run_watched(args, Some(self.cancel))
    }

    fn watch_pods(&mut self, args: &[&str]) -> Result<Option<PodWatch>, KubectlError> {
        self.kubectl.spawn_watch(args).map(Some)
    }
}

/// Everything `pipe` gives until it closes, read on a thread of its own.
fn read_all(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A running command's process group, listed in [`RUNNING`] while it lives.
#[derive(Debug)]
pub(super) struct Registered(u32);

impl Registered {
    fn new(pid: u32) -> Self {
        running().push(pid);
        Registered(pid)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        running().retain(|&p| p != self.0);
    }
}

/// [`RUNNING`], usable after a panic elsewhere while it was held.
fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills `child` and every process of its group (a wrapper's own children too), and reaps it.
pub(super) fn stop(child: &mut Child) {
    kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

/// Sends `SIGKILL` to process group `pid` (the group a command was started in).
#[allow(unsafe_code)] // One libc call that takes no pointers; see SAFETY.
fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) takes no pointers; a group that is already gone gives ESRCH.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Stops every kubectl command running now, with its process group: for a quit that leaves no
/// time for them to end (a second Ctrl-C). Returns how many there were.
pub fn stop_running_commands() -> usize {
    let pids = running().clone();
    for &pid in &pids {
        kill_group(pid);
    }
    pids.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::WatchNext;

    #[test]
    fn connection_flags_come_first() {
        let kubectl = Kubectl::new(KubectlConfig {
            program: "kubectl".into(),
            kubeconfig: Some("/tmp/kc".into()),
            request_timeout: Some(Duration::from_millis(1500)),
            ..KubectlConfig::default()
        });
        let args = kubectl.command_args(&["get", "pods"]);
        assert_eq!(
            args,
            ["--kubeconfig", "/tmp/kc", "--request-timeout=1500ms", "get", "pods"]
        );
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
    }

    /// A stand-in program that runs `script` with sh, its output and exit code its own.
    #[cfg(unix)]
    fn script(dir: &std::path::Path, script: &str) -> Kubectl {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("kubectl");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Kubectl::new(KubectlConfig {
            program: path,
            command_timeout: Some(Duration::from_millis(600)),
            ..KubectlConfig::default()
        })
    }

    /// A scratch directory of this test's own.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kubetwin-runner-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A command that hangs (here a wrapper whose own child sleeps) is stopped at its time limit,
    /// with its whole process group: the child that held the pipes is gone too.
    #[test]
    #[cfg(unix)]
    fn a_command_past_its_time_limit_is_stopped_with_its_group() {
        let dir = scratch("hang");
        let pid_file = dir.join("child.pid");
        let mut kubectl = script(&dir, &format!("sleep 30 & echo $! > {}; wait", pid_file.display()));
        let err = kubectl.run(&["get", "pods"]).unwrap_err();
        match &err {
            KubectlError::Stopped {
                args,
                after,
                interrupted,
            } => {
                assert_eq!(args, "get pods");
                assert!(!interrupted);
                assert!(*after >= Duration::from_millis(600), "{after:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.is_transient());
        let child = std::fs::read_to_string(&pid_file).unwrap();
        // kill -0 fails once the process is gone (reaped by init after the group's SIGKILL).
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !Command::new("kill")
                .args(["-0", child.trim()])
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success()
        });
        assert!(gone, "the wrapper's child {} outlived the stop", child.trim());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A command running when the cancel flag goes up has [`CANCEL_GRACE`] more; one started
    /// after it (a clean-up) is not cut short; and output larger than a pipe's buffer is read
    /// whole.
    #[test]
    #[cfg(unix)]
    fn the_cancel_flag_stops_only_a_command_already_running() {
        let dir = scratch("cancel");
        let mut config = script(&dir, "sleep 30").config.clone();
        config.command_timeout = None;
        let cancel = AtomicBool::new(false);
        let mut runner = Kubectl::new(config.clone()).cancelled_by(&cancel);
        let raised = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(100));
                cancel.store(true, Ordering::SeqCst);
            });
            runner.run(&["get", "pods"])
        });
        match raised {
            Err(KubectlError::Stopped {
                interrupted: true,
                after,
                ..
            }) => assert!(after >= CANCEL_GRACE),
            other => panic!("{other:?}"),
        }
        let big = script(&dir, "head -c 300000 /dev/zero | tr '\\0' x; echo done >&2")
            .config
            .clone();
        let out = Kubectl::new(big)
            .cancelled_by(&cancel)
            .run(&["delete", "namespace"])
            .unwrap();
        assert_eq!(
            (out.stdout.len(), out.stderr.as_str(), out.exit_code),
            (300_000, "done\n", Some(0))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A watch whose output ends before its last words on stderr (kubectl closing its stdout,
    /// then printing the error) still reports them: the tail waits for the stderr to end; and
    /// a tail cut inside a character starts at the next whole one.
    #[test]
    #[cfg(unix)]
    fn a_watch_reports_what_it_printed_last_on_stderr() {
        let dir = scratch("watch-stderr");
        let mut kubectl = script(&dir, "exec 1>&-; sleep 0.3; echo 'error: the watch ended' >&2; exit 1");
        let mut watch = kubectl.watch_pods(&["get", "pods", "-w"]).unwrap().unwrap();
        let ended = (0..100).any(|_| matches!(watch.next_within(Duration::from_millis(50)), WatchNext::Ended));
        assert!(ended);
        assert_eq!(watch.stderr_tail(), "error: the watch ended\n");
        // 'é' (2 bytes), then 2,047 bytes of 'x': the 2,048-byte tail starts inside 'é'.
        let mut long = script(&dir, "printf 'é' >&2; printf 'x%.0s' $(seq 2047) >&2");
        let mut watch = long.watch_pods(&["get", "pods", "-w"]).unwrap().unwrap();
        while !matches!(watch.next_within(Duration::from_millis(50)), WatchNext::Ended) {}
        assert_eq!(watch.stderr_tail(), "x".repeat(2047));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let mut kubectl = Kubectl::new(KubectlConfig {
            program: "/nonexistent/kubetwin-no-such-kubectl".into(),
            ..KubectlConfig::default()
        });
        let err = kubectl.run(&["version"]).unwrap_err();
        assert!(matches!(err, KubectlError::Spawn { .. }), "{err:?}");
    }
}
