//! Reachability before and after OpenVPN: the thesis's tables 4.6 and 4.7.

use topologies::load;
use topologies::reach::{reachability, reachability_table};

const MACHINES: [&str; 8] = [
    "lb", "master01", "master02", "master03", "node01", "node02", "node03", "node04",
];

fn group(h: &str) -> u8 {
    match h {
        "lb" | "master01" | "master02" | "master03" => 10,
        "node01" | "node02" => 20,
        _ => 30,
    }
}

#[test]
fn without_vpn_each_machine_reaches_only_its_segment() {
    let (s, _) = load::by_name_or_path("thesis-2019").unwrap();
    let r = reachability(&s, false).unwrap();
    assert_eq!(r.hosts, MACHINES);
    for a in MACHINES {
        for b in MACHINES {
            assert_eq!(r.reaches(a, b), group(a) == group(b), "{a} -> {b}");
        }
    }
    // Exactly the thesis's pairs: lb+masters (4 x 3), node01-node02 (2), node03-node04 (2).
    assert_eq!(r.pairs().len(), 12 + 2 + 2);
}

#[test]
fn with_vpn_every_machine_reaches_every_machine() {
    let (s, _) = load::by_name_or_path("thesis-2019").unwrap();
    let r = reachability(&s, true).unwrap();
    assert_eq!(r.hosts, MACHINES);
    assert_eq!(r.pairs().len(), 8 * 7);
}

#[test]
fn tables_print_ticks_and_dots() {
    let (s, _) = load::by_name_or_path("thesis-2019").unwrap();
    let before = reachability_table(&s, false);
    let expected = "\
reachability without OpenVPN (thesis table 4.6): row reaches column
               lb master01 master02 master03   node01   node02   node03   node04
lb              ✓        ✓        ✓        ✓        ·        ·        ·        ·
master01        ✓        ✓        ✓        ✓        ·        ·        ·        ·
master02        ✓        ✓        ✓        ✓        ·        ·        ·        ·
master03        ✓        ✓        ✓        ✓        ·        ·        ·        ·
node01          ·        ·        ·        ·        ✓        ✓        ·        ·
node02          ·        ·        ·        ·        ✓        ✓        ·        ·
node03          ·        ·        ·        ·        ·        ·        ✓        ✓
node04          ·        ·        ·        ·        ·        ·        ✓        ✓
";
    assert_eq!(before, expected);
    let after = reachability_table(&s, true);
    assert!(after.starts_with("reachability with OpenVPN (thesis table 4.7)"));
    assert!(!after.contains('·'));
    assert_eq!(after.matches('✓').count(), 64);
}

#[test]
fn a_broken_network_gives_a_sentence_not_a_panic() {
    let (mut s, _) = load::by_name_or_path("thesis-2019").unwrap();
    s.links[0].a = "ghost".into();
    let t = reachability_table(&s, true);
    assert!(t.contains("cannot be built") && t.contains("ghost"), "{t}");
}

/// Site by site, as `reach` shows a consortium: without the VPN each segment reaches only
/// itself (40 of the 56 ordered pairs of machines do not reach each other), with it every site
/// reaches every site.
#[test]
fn site_by_site_each_segment_then_every_site() {
    use topologies::reach::{site_reachability_table, SiteReach};
    let (s, _) = load::by_name_or_path("thesis-2019").unwrap();
    let before = reachability(&s, false).unwrap();
    let (sites, m) = before.by_site();
    assert_eq!(sites, ["vlan10", "vlan20", "vlan30"]);
    for (i, row) in m.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            let want = if i == j { SiteReach::All } else { SiteReach::None };
            assert_eq!(c, want, "{} -> {}", sites[i], sites[j]);
        }
    }
    assert_eq!(before.unreachable_pairs(), 56 - 16);
    let after = reachability(&s, true).unwrap();
    assert!(after.by_site().1.iter().flatten().all(|&c| c == SiteReach::All));
    let t = site_reachability_table(&s, true);
    assert!(t.contains("8 machines at 3 sites"), "{t}");
    assert!(t.ends_with("every machine reaches every other\n"), "{t}");
    assert!(site_reachability_table(&s, false).contains("40 ordered pairs"));
}
