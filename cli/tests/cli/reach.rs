//! `kubetwin reach`: the thesis's reachability tables 4.6 (no VPN) and 4.7 (with VPN).

use crate::support::{run, run_ok, stdout};

/// Whether `from` reaches `to` in a table printed by `kubetwin reach` (✓ or ·).
fn reaches(table: &str, from: &str, to: &str) -> bool {
    let mut lines = table.lines().skip_while(|l| !l.trim_start().starts_with("lb "));
    let header: Vec<&str> = lines.next().expect("header row").split_whitespace().collect();
    let col = header
        .iter()
        .position(|h| *h == to)
        .unwrap_or_else(|| panic!("no column {to}"));
    let row: Vec<&str> = lines
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|r| r.first() == Some(&from))
        .unwrap_or_else(|| panic!("no row {from}:\n{table}"));
    match row[col + 1] {
        "✓" => true,
        "·" => false,
        other => panic!("unexpected cell {other:?}"),
    }
}

#[test]
fn without_vpn_the_workers_do_not_reach_the_masters() {
    let table = run_ok(&["reach", "thesis-2019", "--no-vpn"]);
    assert!(!reaches(&table, "node01", "master01"), "{table}");
    assert!(!reaches(&table, "master01", "node01"), "{table}");
    assert!(reaches(&table, "node01", "node01"), "{table}");
    assert!(reaches(&table, "master01", "master02"), "{table}");
}

#[test]
fn with_vpn_they_do() {
    let table = run_ok(&["reach", "thesis-2019"]);
    assert!(reaches(&table, "node01", "master01"), "{table}");
    assert!(reaches(&table, "node04", "lb"), "{table}");
}

/// `reach` is where one looks at a scenario that fails E014: it shows the table of the scenario
/// as written (its VPN off here), then says why the scenario cannot run, and exits 0.
#[test]
fn a_scenario_that_fails_only_e014_is_shown_with_its_errors() {
    let dir = crate::support::TempDir::new("reach-e014");
    let path = dir.file("novpn.toml");
    let text = topologies::load::builtin("thesis-2019")
        .unwrap()
        .replacen("\nenabled = true", "\nenabled = false", 1);
    assert!(text.contains("\nenabled = false"));
    std::fs::write(&path, text).unwrap();
    let out = crate::support::run(&["reach", &path]);
    crate::support::assert_exit(&out, 0, "reach of an E014 scenario");
    let table = crate::support::stdout(&out);
    assert!(table.contains("without OpenVPN"), "{table}");
    assert!(!reaches(&table, "node01", "master01"), "{table}");
    let e = crate::support::stderr(&out);
    assert!(
        e.contains("cannot run") && e.contains("E014") && e.contains("vlan20"),
        "{e}"
    );
}

/// A machine-by-machine table of thousands of columns is refused (exit 2) with the site view
/// offered; the site view of the same scenario is drawn.
#[test]
fn a_host_table_too_wide_to_read_is_refused_and_the_site_view_offered() {
    let t = crate::support::TempDir::new("reach-wide");
    let file = t.file("wide.toml");
    let g = run(&["generate", "uniform", "--nodes", "2001", "--sites", "4", "--out", &file]);
    crate::support::assert_exit(&g, 0, "generate");
    crate::support::usage_error(&["reach", &file, "--by", "host"], &["2005 machines", "--by site"]);
    let out = run(&["reach", &file]);
    crate::support::assert_exit(&out, 0, "reach by site");
    assert!(
        stdout(&out).contains("every machine reaches every other"),
        "{}",
        stdout(&out)
    );
}
