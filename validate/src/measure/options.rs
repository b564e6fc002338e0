//! What to measure and how: [`MeasureOptions`] and its checks.

use std::time::Duration;

use crate::kubectl::KubectlConfig;

use super::{MeasureError, MAX_NAMESPACE_LEN, TOKEN_LEN};

/// What to measure and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureOptions {
    /// kubectl program, kubeconfig and request timeout; used by [`measure_live`](super::measure_live)
    /// (with [`measure`](super::measure) the runner given decides).
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
    /// does not inject it. At most [`MAX_DELAY_MS`](crate::dataset::MAX_DELAY_MS). Default 0.
    pub delay_ms: u32,
    /// Whether each run also keeps `kubectl get pods -w` open, to time when each pod was shown
    /// Running as the thesis did ([`RawPodRow::watch_running_s`](crate::dataset::RawPodRow)).
    /// Default true.
    pub watch: bool,
    /// How long the watch may take, after a poll found every pod Running, to show them too;
    /// past it the run keeps no watch times. Default [`WATCH_SETTLE`](super::WATCH_SETTLE).
    pub watch_settle: Duration,
    /// Pause between two `kubectl get pods`. Default 1 s.
    pub poll_interval: Duration,
    /// How long to wait for all pods to run, from the scale command on. Default 10 min.
    pub run_timeout: Duration,
    /// `--timeout` of `kubectl delete namespace --wait=true`. Default 120 s, and at most 5 s
    /// under the kubectl command's time limit (`kubectl.command_timeout`, 90 s), so that
    /// kubectl's wait ends before kubetwin would stop it.
    pub delete_timeout: Duration,
    /// How many namespace names to try when they are taken. Default 5.
    pub namespace_attempts: u32,
    /// Attempts per command when the API server is unreachable: polling pods gives up after this many
    /// transient failures in a row, and each command that may be sent again (`get deployment`,
    /// `scale`, `get events`, the clean-up) is tried this many times. Default 3: enough to ride out
    /// an apiserver restart or a VPN blip a poll interval long, few enough that a cluster that
    /// is gone fails the run within seconds.
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
            watch: true,
            watch_settle: super::WATCH_SETTLE,
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
        if self.delay_ms > crate::dataset::MAX_DELAY_MS {
            return bad(
                "delay_ms",
                format!(
                    "must be at most {} ms (30 days, the scenario's limit on a delay: a cell beyond it could not be simulated), got {}",
                    crate::dataset::MAX_DELAY_MS,
                    self.delay_ms
                ),
            );
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

pub(super) fn is_dns_label_chars(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
