//! Fault entries in scenario files.

use models::spec::Fault;

fn thesis_with(extra: &str) -> String {
    format!("{}\n{extra}", topologies::load::builtin("thesis-2019").unwrap())
}

#[test]
fn fault_entries_load() {
    let text = thesis_with(
        "[[faults]]\nkind = \"crash\"\nhost = \"master02\"\nat = \"30s\"\nrepair = \"90s\"\n\n\
         [[faults]]\nkind = \"partition\"\na = \"vlan10\"\nb = \"vlan20\"\nat = \"10s\"\n\n\
         [[faults]]\nkind = \"crash-etcd-leader\"\nat = \"5s\"\n",
    );
    let s = topologies::load::load_str(&text, "f.toml").unwrap();
    assert_eq!(s.faults.len(), 3);
    assert!(matches!(&s.faults[0], Fault::Crash { host, .. } if host == "master02"));
    assert_eq!(s.faults[2].repair(), None);
}

#[test]
fn bad_faults_name_line_and_field() {
    let text = thesis_with("[[faults]]\nkind = \"crash\"\nhost = \"master09\"\nat = \"30s\"\n");
    let e = topologies::load::load_str(&text, "f.toml").unwrap_err().to_string();
    assert!(
        e.contains("E020") && e.contains("faults[0].host") && e.contains("master09") && e.contains("line"),
        "{e}"
    );
    let text = thesis_with("[[faults]]\nkind = \"crash\"\nhost = \"lb\"\nat = \"30s\"\nrepair = \"10s\"\n");
    let e = topologies::load::load_str(&text, "f.toml").unwrap_err().to_string();
    assert!(e.contains("faults[0].repair"), "{e}");
    let text = thesis_with("[[faults]]\nkind = \"meltdown\"\nat = \"30s\"\n");
    let e = topologies::load::load_str(&text, "f.toml").unwrap_err().to_string();
    assert!(
        e.contains("f.toml") && e.contains("line") && e.contains("meltdown"),
        "{e}"
    );
}

/// The `[[faults]]` example in topologies/README.md loads.
#[test]
fn readme_fault_example_loads() {
    let readme = include_str!("../../README.md");
    let section = &readme[readme.find("### `[[faults]]`").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let s = topologies::load::load_str(&thesis_with(block), "readme.toml").unwrap();
    assert_eq!(s.faults.len(), 2);
}

/// The observing kubectl runs on `workload.kubectl_host` (master01 in thesis-2019): crashing that
/// host would lose the measurement itself, so the scenario says so instead of running on as if
/// kubectl had survived.
#[test]
fn crashing_the_kubectl_host_is_refused() {
    let text = thesis_with("[[faults]]\nkind = \"crash\"\nhost = \"master01\"\nat = \"5s\"\n");
    let e = topologies::load::load_str(&text, "f.toml").unwrap_err().to_string();
    assert!(
        e.contains("E020") && e.contains("faults[0].host") && e.contains("workload.kubectl_host"),
        "{e}"
    );
    // Another master is fine.
    let text = thesis_with("[[faults]]\nkind = \"crash\"\nhost = \"master03\"\nat = \"5s\"\n");
    topologies::load::load_str(&text, "f.toml").unwrap();
}

/// A degradation that adds no delay, no jitter and no loss changes nothing: refused, so that a
/// forgotten `delay` does not pass as a fault that had no effect.
#[test]
fn a_degradation_that_changes_nothing_is_refused() {
    let text = thesis_with("[[faults]]\nkind = \"degrade\"\na = \"vlan10\"\nb = \"vlan20\"\nat = \"5s\"\n");
    let e = topologies::load::load_str(&text, "f.toml").unwrap_err().to_string();
    assert!(
        e.contains("E020") && e.contains("faults[0].delay") && e.contains("changes nothing"),
        "{e}"
    );
    let lossy =
        thesis_with("[[faults]]\nkind = \"degrade\"\na = \"vlan10\"\nb = \"vlan20\"\nloss_pct = 1.0\nat = \"5s\"\n");
    assert!(topologies::load::load_str(&lossy, "f.toml").is_ok());
}

/// Two faults that take the same host down at overlapping times are refused (which one a
/// repair ends, and whose failovers a report lists, would be unstated); one after the other's
/// repair is fine.
#[test]
fn overlapping_faults_on_the_same_host_are_refused() {
    let two = |second_at: &str| {
        thesis_with(&format!(
            "[[faults]]\nkind = \"crash\"\nhost = \"master02\"\nat = \"5s\"\nrepair = \"30s\"\n\n\
             [[faults]]\nkind = \"crash\"\nhost = \"master02\"\nat = \"{second_at}\"\n"
        ))
    };
    let e = topologies::load::load_str(&two("10s"), "f.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("E020") && e.contains("faults[1].at") && e.contains("overlaps faults[0]"),
        "{e}"
    );
    assert!(topologies::load::load_str(&two("30s"), "f.toml").is_ok());
}
