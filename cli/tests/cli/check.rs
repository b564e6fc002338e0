//! `kubetwin check`: a scenario checked without running it, and the list of every check.

use crate::support::{run_ok, usage_error, TempDir};

/// The built-in scenario passes, and the summary says what was checked.
#[test]
fn the_thesis_scenario_passes_every_error_check() {
    let out = run_ok(&["check", "thesis-2019"]);
    assert!(
        out.contains("scenario `thesis-2019` passes every error check (3 sites, 11 hosts, 4 workers; 0 warnings)"),
        "{out}"
    );
}

/// A broken scenario exits 2 with every error, each with its line, field and code, and prints
/// nothing on stdout.
#[test]
fn a_broken_scenario_names_every_error_with_line_and_code() {
    let t = TempDir::new("check-broken");
    let path = t.file("broken.toml");
    let text =
        topologies::load::builtin("thesis-2019")
            .unwrap()
            .replacen("router = \"vyos02\"", "router = \"node01\"", 1);
    std::fs::write(&path, text).unwrap();
    usage_error(
        &["check", &path],
        &[
            "2 errors in the scenario",
            "error[E005] `sites[1].router`: router `node01` of site `vlan20` has role = \"worker\"",
            "error[E014]",
            "line 26, column 1",
        ],
    );
}

/// `--codes` lists every check once, in code order, with its name and help; it takes no
/// scenario, and without one nor the other the command says what it needs.
#[test]
fn codes_lists_every_check_once() {
    let out = run_ok(&["check", "--codes"]);
    let table = topologies::check::checks_table();
    assert_eq!(out.lines().count(), table.len(), "{out}");
    for ((code, name, help), line) in table.iter().zip(out.lines()) {
        assert!(
            line.starts_with(code) && line.contains(name) && line.ends_with(help),
            "{line}"
        );
    }
    usage_error(&["check", "thesis-2019", "--codes"], &["cannot be used with"]);
    usage_error(&["check"], &["<SCENARIO>"]);
}
