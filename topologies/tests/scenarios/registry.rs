//! A registry on the overlay (`runtime.registry_host`): the host must exist, every worker must
//! reach it, and it is the one client host a fault may crash.

use topologies::load::{builtin, load_str};

use super::line_of;

/// thesis-2019 with `runtime.registry_host = "<registry>"` and `extra` appended.
fn with_registry(registry: &str, extra: &str) -> String {
    let text = builtin("thesis-2019").unwrap();
    let marker = "image_cached = false";
    assert!(text.contains(marker));
    let text = text.replacen(marker, &format!("{marker}\nregistry_host = \"{registry}\""), 1);
    format!("{text}\n{extra}")
}

/// A registry host `mirror` in site `site`, attached to `router` (none: no link).
fn mirror(site: &str, router: Option<&str>) -> String {
    let mut t = format!("[[hosts]]\nname = \"mirror\"\nsite = \"{site}\"\nrole = \"client\"\n\n");
    if let Some(r) = router {
        t += &format!("[[links]]\na = \"mirror\"\nb = \"{r}\"\ndelay = \"0.1ms\"\nbandwidth = \"10Gbit\"\n\n");
    }
    t
}

#[test]
fn a_registry_host_on_the_overlay_loads() {
    let s = load_str(&with_registry("mirror", &mirror("vlan10", Some("vyos01"))), "r.toml").unwrap();
    assert_eq!(s.runtime.registry_host.as_deref(), Some("mirror"));
}

#[test]
fn a_registry_host_that_is_no_host_is_named_with_its_line() {
    let text = with_registry("mirorr", &mirror("vlan10", Some("vyos01")));
    let e = load_str(&text, "r.toml").unwrap_err();
    let shown = e.to_string();
    let line = line_of(&text, "registry_host = ");
    assert!(e.has_code("E016"), "{shown}");
    assert!(
        shown.contains(&format!(
            "r.toml: line {line}, column 1: error[E016] `runtime.registry_host`: registry host `mirorr` is not a defined host; expected one of:"
        )),
        "{shown}"
    );
}

/// A registry in a site that no tunnel reaches: each worker site is named with what it cannot
/// reach, as for the control plane.
#[test]
fn workers_that_cannot_reach_the_registry_are_named_by_site() {
    let site = "[[sites]]\nname = \"vlan40\"\nrouter = \"vyos04\"\n\n\
                [[hosts]]\nname = \"vyos04\"\nsite = \"vlan40\"\nrole = \"router\"\n\n";
    let text = with_registry("mirror", &format!("{site}{}", mirror("vlan40", Some("vyos04"))));
    let e = load_str(&text, "r.toml").unwrap_err();
    let shown = e.to_string();
    assert!(e.has_code("E014"), "{shown}");
    for (from, hosts) in [("vlan20", "node01, node02"), ("vlan30", "node03, node04")] {
        assert!(
            shown.contains(&format!(
                "site {from} cannot reach site vlan40: no route from {hosts} to mirror"
            )),
            "{shown}"
        );
    }
}

/// Crashing the registry host is a fault the model knows; crashing another client host is not.
#[test]
fn the_registry_is_the_one_client_host_a_fault_may_crash() {
    let crash = "[[faults]]\nkind = \"crash\"\nhost = \"mirror\"\nat = \"5s\"\nrepair = \"20s\"\n";
    let text = with_registry("mirror", &format!("{}{crash}", mirror("vlan10", Some("vyos01"))));
    load_str(&text, "r.toml").unwrap();
    let text = format!(
        "{}\n{}{crash}",
        builtin("thesis-2019").unwrap(),
        mirror("vlan10", Some("vyos01"))
    );
    let e = load_str(&text, "r.toml").unwrap_err().to_string();
    assert!(
        e.contains("E020") && e.contains("crashing client `mirror` is not modelled"),
        "{e}"
    );
}

/// A registry in the workers' own site but linked to nothing: the finding says so inside the
/// site, not "site vlan20 cannot reach site vlan20".
#[test]
fn a_registry_unlinked_in_the_workers_site_is_named_inside_it() {
    let e = load_str(&with_registry("mirror", &mirror("vlan20", None)), "r.toml").unwrap_err();
    let shown = e.to_string();
    assert!(e.has_code("E014"), "{shown}");
    assert!(
        shown.contains("inside site vlan20, no route from node01, node02 to mirror"),
        "{shown}"
    );
    assert!(!shown.contains("site vlan20 cannot reach site vlan20"), "{shown}");
}
