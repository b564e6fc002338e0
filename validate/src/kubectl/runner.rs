//! Running kubectl: the [`KubectlRunner`] trait and the real [`Kubectl`] that spawns the binary.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::KubectlError;

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
}

impl<R: KubectlRunner + ?Sized> KubectlRunner for &mut R {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        (**self).run(args)
    }
}

impl<R: KubectlRunner + ?Sized> KubectlRunner for Box<R> {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
        (**self).run(args)
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
}

impl Default for KubectlConfig {
    fn default() -> Self {
        Self {
            program: PathBuf::from("kubectl"),
            kubeconfig: None,
            request_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// The real runner: spawns the kubectl program for every command and waits for it.
///
/// On Unix the child gets its own process group, so a Ctrl-C at the terminal reaches only kubetwin, which
/// then finishes the current command and cleans up (see [`crate::measure`]), instead of killing a
/// `kubectl delete` halfway. Standard input is closed.
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

impl KubectlRunner for Kubectl {
    fn run(&mut self, args: &[&str]) -> Result<KubectlOutput, KubectlError> {
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
        let output = command.output().map_err(|source| KubectlError::Spawn {
            program: self.config.program.clone(),
            source,
        })?;
        Ok(KubectlOutput {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            exit_code: output.status.code(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_flags_come_first() {
        let kubectl = Kubectl::new(KubectlConfig {
            program: "kubectl".into(),
            kubeconfig: Some("/tmp/kc".into()),
            request_timeout: Some(Duration::from_millis(1500)),
        });
        let args = kubectl.command_args(&["get", "pods"]);
        assert_eq!(
            args,
            ["--kubeconfig", "/tmp/kc", "--request-timeout=1500ms", "get", "pods"]
        );
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
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
