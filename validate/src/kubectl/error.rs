//! What went wrong when kubectl ran, classified from its exit code and stderr.
//!
//! The shapes come from the real stderr in `shared/data/kubectl-captures/namespace-run/*.err`:
//!
//! | capture | stderr | variant |
//! |---|---|---|
//! | `ns-create-again.err` | `Error from server (AlreadyExists): namespaces "kubetwin-run-1" already exists` | [`KubectlError::AlreadyExists`] |
//! | `get-missing.err`, `ns-get-after-delete.err` | `Error from server (NotFound): deployments.apps "nope" not found` | [`KubectlError::NotFound`] |
//! | `server-down.err` | `The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?` | [`KubectlError::ServerUnreachable`] |
//! | `bad-kubeconfig.err` | `error: stat /nonexistent: no such file or directory` | [`KubectlError::Kubeconfig`] |
//! | `scale-negative.err` | `error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0` | [`KubectlError::InvalidArgument`] |
//!
//! Each captured command exited with 1. A real kubectl may put klog lines (`E1125 12:41:03.041568 ...
//! memcache.go:265] ...`) before the message; they are skipped. Shapes that are not in the captures but
//! that kubectl is known to print (`Unable to connect to the server: ...`, `error loading config file`,
//! `timed out waiting for the condition`) are matched too; anything else becomes [`KubectlError::Failed`].

use std::io;
use std::path::PathBuf;

/// A kubectl invocation that could not run or did not succeed, or output that could not be read.
///
/// [`KubectlError::is_transient`] tells whether trying the same command again later may succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubectlError {
    /// The kubectl program could not be started (not found, not executable). Not transient.
    #[error("cannot run {}: {source}", program.display())]
    Spawn {
        /// The program that was started.
        program: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The object to create is already there (`Error from server (AlreadyExists)`). Not transient: pick
    /// another name.
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists {
        /// Resource kind as kubectl names it, e.g. `namespaces`.
        resource: String,
        /// Object name.
        name: String,
        /// The whole message line.
        message: String,
    },
    /// The object does not exist (`Error from server (NotFound)`). Not transient.
    #[error("{resource} \"{name}\" not found")]
    NotFound {
        /// Resource kind as kubectl names it, e.g. `deployments.apps`.
        resource: String,
        /// Object name.
        name: String,
        /// The whole message line.
        message: String,
    },
    /// The API server could not be reached (connection refused, unreachable, TLS or dial timeout).
    /// Transient: the server may come back.
    #[error("the Kubernetes API server is unreachable: {message}")]
    ServerUnreachable {
        /// kubectl's message.
        message: String,
    },
    /// The kubeconfig is missing or unreadable (`error: stat FILE: no such file or directory`, `error
    /// loading config file`, `invalid configuration`). Not transient: fix `--kubeconfig`.
    #[error("bad kubeconfig: {message}")]
    Kubeconfig {
        /// kubectl's message.
        message: String,
    },
    /// kubectl rejected its own arguments before talking to the server (`error: ...`). Not transient.
    #[error("kubectl rejected the command: {message}")]
    InvalidArgument {
        /// kubectl's message.
        message: String,
    },
    /// A `--wait` ran out of time (`timed out waiting for the condition`); the request itself was made.
    /// Transient: the operation is still in progress on the server.
    #[error("kubectl gave up waiting: {message}")]
    WaitTimedOut {
        /// kubectl's message.
        message: String,
    },
    /// The API server refused the request for another reason (`Error from server (Forbidden)`, `(Conflict)`,
    /// ...). Not transient, except for `ServiceUnavailable`, `Timeout`, `TooManyRequests` and
    /// `InternalError`.
    #[error("the API server refused the request ({reason}): {message}")]
    Server {
        /// The reason in parentheses, e.g. `Forbidden`.
        reason: String,
        /// The whole message line.
        message: String,
    },
    /// kubectl failed in a way not recognised above, or was killed by a signal (`exit_code` is `None`).
    /// Not transient.
    #[error("kubectl {args} failed ({}){}", exit_code.map_or_else(|| "killed by a signal".to_string(), |c| format!("exit code {c}")), if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed {
        /// The arguments, joined by spaces.
        args: String,
        /// The exit code, `None` when killed by a signal.
        exit_code: Option<i32>,
        /// stderr without klog lines, trimmed.
        stderr: String,
    },
    /// kubetwin stopped the command: it ran past [`KubectlConfig::command_timeout`](super::KubectlConfig),
    /// or past [`CANCEL_GRACE`](super::CANCEL_GRACE) after the cancel flag went up. Whether the
    /// server did what it asked is unknown. Transient when it timed out: the server may answer
    /// later.
    #[error("kubectl {args} was stopped after {:.1} s: {}", after.as_secs_f64(), if *interrupted { "still running after the interrupt" } else { "it ran past its time limit" })]
    Stopped {
        /// The arguments, joined by spaces.
        args: String,
        /// How long it had run.
        after: std::time::Duration,
        /// Stopped because of the cancel flag (else the time limit).
        interrupted: bool,
    },
    /// kubectl succeeded but its output is not the JSON expected. Not transient.
    #[error("cannot read the output of kubectl {what}: {source}")]
    Json {
        /// Which command's output, e.g. `get pods -o json`.
        what: String,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
}

impl KubectlError {
    /// Whether the same command may succeed if tried again later (the server was unreachable or busy).
    pub fn is_transient(&self) -> bool {
        match self {
            KubectlError::ServerUnreachable { .. } | KubectlError::WaitTimedOut { .. } => true,
            KubectlError::Stopped { interrupted, .. } => !interrupted,
            KubectlError::Server { reason, .. } => {
                matches!(
                    reason.as_str(),
                    "ServiceUnavailable" | "Timeout" | "TooManyRequests" | "InternalError"
                )
            }
            _ => false,
        }
    }

    /// Whether the server may have done what the command asked although it failed: the
    /// request may have reached it and its answer never came back (a timeout, a command
    /// stopped or killed, a failure not recognised). A refused connection, a bad kubeconfig
    /// or argument, and an answer of the server's own (`AlreadyExists`, `Forbidden`, ...) say
    /// it did not; its `Timeout` reason ("may still be processing the request") says it may.
    pub fn may_have_been_done(&self) -> bool {
        match self {
            KubectlError::Spawn { .. }
            | KubectlError::AlreadyExists { .. }
            | KubectlError::NotFound { .. }
            | KubectlError::Kubeconfig { .. }
            | KubectlError::InvalidArgument { .. }
            | KubectlError::Json { .. } => false,
            KubectlError::ServerUnreachable { message } => !message.contains("was refused"),
            KubectlError::Server { reason, .. } => matches!(reason.as_str(), "Timeout" | "InternalError"),
            KubectlError::WaitTimedOut { .. } | KubectlError::Failed { .. } | KubectlError::Stopped { .. } => true,
        }
    }

    /// Classifies a failed run from its exit code and stderr.
    ///
    /// `args` is only used to describe [`KubectlError::Failed`]. Call this only when kubectl did not exit
    /// with 0.
    pub fn classify(args: &[&str], exit_code: Option<i32>, stderr: &str) -> KubectlError {
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !is_klog_line(l))
            .collect();
        if let Some(line) = lines.iter().find(|l| l.starts_with("Error from server (")) {
            return from_server_error(line);
        }
        if let Some(line) = lines.iter().find(|l| {
            (l.starts_with("The connection to the server") && l.contains("was refused"))
                || l.starts_with("Unable to connect to the server")
        }) {
            return KubectlError::ServerUnreachable {
                message: (*line).to_string(),
            };
        }
        if let Some(line) = lines.iter().find(|l| l.contains("timed out waiting for the condition")) {
            return KubectlError::WaitTimedOut {
                message: strip_error_prefix(line),
            };
        }
        if let Some(line) = lines.iter().find(|l| {
            (l.starts_with("error: stat ") && l.ends_with("no such file or directory"))
                || l.contains("error loading config file")
                || l.contains("invalid configuration")
                || l.contains("no configuration has been provided")
        }) {
            return KubectlError::Kubeconfig {
                message: strip_error_prefix(line),
            };
        }
        if let Some(line) = lines.iter().find(|l| l.starts_with("error: ")) {
            return KubectlError::InvalidArgument {
                message: strip_error_prefix(line),
            };
        }
        KubectlError::Failed {
            args: args.join(" "),
            exit_code,
            stderr: lines.join("\n"),
        }
    }
}

/// klog's header: a severity letter, `MMDD`, a space, then `hh:mm:ss.uuuuuu`.
fn is_klog_line(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 14
        && matches!(b[0], b'I' | b'W' | b'E' | b'F')
        && b[1..5].iter().all(u8::is_ascii_digit)
        && b[5] == b' '
        && b[6..8].iter().all(u8::is_ascii_digit)
        && b[8] == b':'
}

fn strip_error_prefix(line: &str) -> String {
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// `Error from server (Reason): resource "name" rest...`
fn from_server_error(line: &str) -> KubectlError {
    let message = line.to_string();
    let rest = &line["Error from server (".len()..];
    let Some((reason, after)) = rest.split_once("): ") else {
        return KubectlError::Server {
            reason: String::new(),
            message,
        };
    };
    let object = after
        .split_once(" \"")
        .and_then(|(resource, quoted)| quoted.split_once('"').map(|(name, _)| (resource, name)))
        .filter(|(resource, _)| !resource.contains(' '))
        .map(|(r, n)| (r.to_string(), n.to_string()));
    // A reason about no named object (`Error from server (NotFound): the server could not find
    // the requested resource`, from a server that is not a Kubernetes apiserver, or lacks the
    // API) keeps the server's own words.
    match (reason, object) {
        ("AlreadyExists", Some((resource, name))) => KubectlError::AlreadyExists {
            resource,
            name,
            message,
        },
        ("NotFound", Some((resource, name))) => KubectlError::NotFound {
            resource,
            name,
            message,
        },
        _ => KubectlError::Server {
            reason: reason.to_string(),
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by adversarial testing: a proxy answering 404 for the API made kubetwin say
    /// `"" not found`, losing the server's message.
    #[test]
    fn a_not_found_about_no_named_object_keeps_the_servers_words() {
        let line = "Error from server (NotFound): the server could not find the requested resource\n";
        let err = KubectlError::classify(&["version", "-o", "json"], Some(1), line);
        assert!(
            matches!(err, KubectlError::Server { ref reason, .. } if reason == "NotFound"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("the server could not find the requested resource"),
            "{err}"
        );
    }

    #[test]
    fn klog_lines_are_skipped() {
        let stderr = "E1125 12:41:03.041568    5862 memcache.go:265] \"Unhandled Error\" err=\"couldn't get current \
                      server API group list: dial tcp 127.0.0.1:6443: connect: connection refused\"\n\
                      The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n";
        let err = KubectlError::classify(&["get", "ns"], Some(1), stderr);
        assert!(
            matches!(err, KubectlError::ServerUnreachable { ref message } if message.starts_with("The connection"))
        );
        assert!(err.is_transient());
    }

    #[test]
    fn unknown_shapes_fall_back_to_failed() {
        let err = KubectlError::classify(&["frob"], None, "something odd\n");
        match err {
            KubectlError::Failed {
                args,
                exit_code,
                stderr,
            } => {
                assert_eq!(
                    (args.as_str(), exit_code, stderr.as_str()),
                    ("frob", None, "something odd")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let forbidden = KubectlError::classify(
            &[],
            Some(1),
            "Error from server (Forbidden): namespaces is forbidden: User \"x\" cannot create resource",
        );
        assert!(matches!(forbidden, KubectlError::Server { ref reason, .. } if reason == "Forbidden"));
        assert!(!forbidden.is_transient());
        let odd = KubectlError::classify(&[], Some(1), "Error from server (");
        assert!(matches!(odd, KubectlError::Server { .. }));
    }

    #[test]
    fn other_kubeconfig_shapes() {
        let err = KubectlError::classify(
            &[],
            Some(1),
            "error: error loading config file \"/tmp/kc\": couldn't get version/kind; json parse error",
        );
        assert!(matches!(err, KubectlError::Kubeconfig { .. }));
        let wait = KubectlError::classify(
            &[],
            Some(1),
            "error: timed out waiting for the condition on namespaces/x",
        );
        assert!(matches!(wait, KubectlError::WaitTimedOut { .. }));
    }
}
