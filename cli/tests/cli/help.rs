//! `--help` of the top level and of every subcommand: exit code 0, every flag named, an example.

use crate::support::{assert_exit, run, stdout};

/// Runs `kubetwin ARGS --help` and returns the help text after checking the exit code.
fn help(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--help");
    let out = run(&all);
    assert_exit(&out, 0, &format!("{all:?}"));
    stdout(&out)
}

fn assert_mentions(text: &str, words: &[&str], what: &str) {
    for w in words {
        assert!(text.contains(w), "{what} --help does not mention {w}:\n{text}");
    }
}

#[test]
fn top_level_lists_every_subcommand() {
    let text = help(&[]);
    assert_mentions(
        &text,
        &["run", "reach", "check", "bench", "measure", "--help", "--version"],
        "kubetwin",
    );
    // `kubetwin help` and `-h` work too.
    assert_exit(&run(&["-h"]), 0, "kubetwin -h");
    assert_exit(&run(&["help", "measure"]), 0, "kubetwin help measure");
}

#[test]
fn run_help_names_every_flag() {
    let text = help(&["run"]);
    assert_mentions(
        &text,
        &[
            "<SCENARIO>",
            "--pods",
            "--delay",
            "--reps",
            "--seed",
            "--format",
            "--trace",
            "table",
            "json",
            "csv",
            "Example:",
        ],
        "run",
    );
}

#[test]
fn check_help_names_every_flag() {
    let text = help(&["check"]);
    assert_mentions(&text, &["[SCENARIO]", "--codes", "Examples:"], "check");
}

#[test]
fn reach_help_names_every_flag() {
    let text = help(&["reach"]);
    assert_mentions(&text, &["<SCENARIO>", "--no-vpn", "--by", "Examples:"], "reach");
}

#[test]
fn bench_help_lists_phold() {
    let text = help(&["bench"]);
    assert_mentions(&text, &["phold", "Example:"], "bench");
}

#[test]
fn bench_phold_help_names_every_flag() {
    let text = help(&["bench", "phold"]);
    assert_mentions(
        &text,
        &[
            "--lps",
            "--events-per-lp",
            "--remote",
            "--lookahead",
            "--mean",
            "--events",
            "--seed",
            "--baseline",
            "--format",
        ],
        "bench phold",
    );
}

#[test]
fn measure_help_names_every_flag() {
    let text = help(&["measure"]);
    assert_mentions(
        &text,
        &[
            "--kubeconfig",
            "--pods",
            "--runs",
            "--image",
            "--namespace-prefix",
            "--kubectl",
            "--delay-ms",
            "--out",
            "[default: 5]",
            "[default: nginx]",
            "[default: kubetwin-]",
            "Example:",
            "kubetwin measure --kubeconfig",
            "Ctrl-C",
        ],
        "measure",
    );
}
