//! Shared helpers: running the binary and a scratch directory.

use std::process::{Command, Output};

/// A `kubetwin` command, not yet run.
pub(crate) fn kubetwin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubetwin"));
    cmd.env_remove("RAYON_NUM_THREADS");
    cmd
}

/// Runs `kubetwin ARGS` to completion.
pub(crate) fn run(args: &[&str]) -> Output {
    kubetwin().args(args).output().expect("run the kubetwin binary")
}

/// stdout as text.
pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

/// stderr as text.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Runs `kubetwin ARGS`, expects exit code 0, and returns stdout.
pub(crate) fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "kubetwin {args:?} failed with {:?}\nstderr:\n{}",
        out.status,
        stderr(&out)
    );
    stdout(&out)
}

/// Asserts that `out` ended with `code` and did not panic.
pub(crate) fn assert_exit(out: &Output, code: i32, what: &str) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: exit status {:?}\nstdout:\n{}\nstderr:\n{err}",
        out.status,
        stdout(out)
    );
    assert!(!err.contains("panicked"), "{what} panicked:\n{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{what} panicked:\n{err}");
}

/// Runs `kubetwin ARGS`, parses stdout as exactly one JSON value.
pub(crate) fn run_json(args: &[&str]) -> serde_json::Value {
    let text = run_ok(args);
    assert_eq!(text.lines().count(), 1, "one line of JSON expected:\n{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{text}"))
}

/// The number at `pointer` (e.g. `/startup_s/mean`) in `v`.
pub(crate) fn num(v: &serde_json::Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} is not a number in {v}"))
}

pub(crate) use testutils::TempDir;

/// Runs `kubetwin ARGS`, expects exit code `code` (and no panic), and returns stderr.
pub(crate) fn stderr_of(args: &[&str], code: i32) -> String {
    let out = run(args);
    assert_exit(&out, code, &format!("kubetwin {args:?}"));
    stderr(&out)
}

/// Runs `kubetwin ARGS` and expects a usage error (exit 2, message on stderr, nothing on stdout) mentioning every needle.
pub(crate) fn usage_error(args: &[&str], needles: &[&str]) -> String {
    let out = run(args);
    let what = format!("kubetwin {args:?}");
    assert_exit(&out, 2, &what);
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{what}: {err}");
    for n in needles {
        assert!(err.contains(n), "{what}: stderr lacks {n:?}:\n{err}");
    }
    assert!(stdout(&out).is_empty(), "{what} printed to stdout: {}", stdout(&out));
    err
}

/// The built-in thesis scenario's text, for tests that write an edited copy of it.
pub(crate) const THESIS_TOML: &str = include_str!("../../../topologies/scenarios/thesis-2019.toml");
