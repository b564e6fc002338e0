//! Who reaches whom: the thesis's tables 4.6 (before OpenVPN) and 4.7 (after).
//!
//! The matrix covers the machines of the scenario, routers left out: the routers are the
//! network itself, and they reach each other over the underlay (VLAN 0), which the routing
//! graph uses only to carry tunnels ([`models::network`]), so a router row would show gaps that
//! the real routers do not have. A cell is true when [`Network::reachability`] finds a path over
//! LAN links and tunnels, forwarded only by routers.

use models::network::{Network, NetworkError};
use models::spec::{Role, Scenario};

/// A host x host reachability matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reachability {
    /// Whether the VPN was up.
    pub vpn_enabled: bool,
    /// The machines, in file order (routers left out).
    pub hosts: Vec<String>,
    /// The site of each machine, in the same order.
    pub sites: Vec<String>,
    /// `reach[i][j]`: `hosts[i]` can send to `hosts[j]`.
    pub reach: Vec<Vec<bool>>,
}

impl Reachability {
    /// Whether `a` reaches `b` (false for unknown names).
    pub fn reaches(&self, a: &str, b: &str) -> bool {
        let i = self.hosts.iter().position(|h| h == a);
        let j = self.hosts.iter().position(|h| h == b);
        matches!((i, j), (Some(i), Some(j)) if self.reach[i][j])
    }

    /// Every ordered pair of distinct machines that reach each other.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, a) in self.hosts.iter().enumerate() {
            for (j, b) in self.hosts.iter().enumerate() {
                if i != j && self.reach[i][j] {
                    out.push((a.clone(), b.clone()));
                }
            }
        }
        out
    }
}

/// The reachability of `scenario`'s machines with the VPN forced up or down.
///
/// # Errors
///
/// [`NetworkError`] when the network cannot be built (unknown or duplicate names; a scenario that
/// passed [`crate::check`] never fails here).
pub fn reachability(scenario: &Scenario, vpn_enabled: bool) -> Result<Reachability, NetworkError> {
    let mut s = scenario.clone();
    s.vpn.enabled = vpn_enabled;
    let net = Network::build(&s, &[])?;
    let ids: Vec<u32> = s
        .hosts
        .iter()
        .filter(|h| h.role != Role::Router)
        .filter_map(|h| net.host(&h.name))
        .collect();
    let hosts: Vec<String> = ids.iter().map(|&id| net.name(id).to_owned()).collect();
    let site_of = |name: &String| {
        s.hosts
            .iter()
            .find(|h| &h.name == name)
            .map_or_else(String::new, |h| h.site.clone())
    };
    Ok(Reachability {
        vpn_enabled,
        sites: hosts.iter().map(site_of).collect(),
        hosts,
        reach: net.reachability_among(&ids),
    })
}

/// How many machines of one site reach every machine of another ([`Reachability::by_site`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteReach {
    /// Every machine of the row's site reaches every machine of the column's.
    All,
    /// Some pairs do, some do not.
    Some,
    /// No machine of the row's site reaches any of the column's.
    None,
}

impl Reachability {
    /// The matrix site by site, sites in order of their first machine: what a consortium's
    /// planner reads, where a matrix of hundreds of machines is not readable.
    pub fn by_site(&self) -> (Vec<String>, Vec<Vec<SiteReach>>) {
        let mut sites: Vec<String> = Vec::new();
        for s in &self.sites {
            if !sites.contains(s) {
                sites.push(s.clone());
            }
        }
        let index: Vec<usize> = self
            .sites
            .iter()
            .map(|s| sites.iter().position(|x| x == s).unwrap_or(0))
            .collect();
        let n = sites.len();
        // (pairs that reach, pairs) per site pair.
        let mut counts = vec![vec![(0usize, 0usize); n]; n];
        for (i, row) in self.reach.iter().enumerate() {
            for (j, &ok) in row.iter().enumerate() {
                let c = &mut counts[index[i]][index[j]];
                c.0 += usize::from(ok);
                c.1 += 1;
            }
        }
        let matrix = counts
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&(ok, all)| match ok {
                        0 => SiteReach::None,
                        _ if ok == all => SiteReach::All,
                        _ => SiteReach::Some,
                    })
                    .collect()
            })
            .collect();
        (sites, matrix)
    }

    /// Ordered pairs of distinct machines that do not reach each other.
    pub fn unreachable_pairs(&self) -> usize {
        // Counted, not listed: [`Reachability::pairs`] would name every pair of a consortium.
        self.reach
            .iter()
            .enumerate()
            .map(|(i, row)| row.iter().enumerate().filter(|&(j, &ok)| i != j && !ok).count())
            .sum()
    }
}

/// Up to this many machines, `reach` shows them one by one; past it, site by site.
pub const HOSTS_SHOWN_ONE_BY_ONE: usize = 24;

/// The matrix as text: `✓` where the row's host reaches the column's, `·` where it does not.
///
/// ```
/// let (s, _) = topologies::load::by_name_or_path("thesis-2019").unwrap();
/// let t = topologies::reach::reachability_table(&s, false);
/// assert!(t.lines().any(|l| l.starts_with("node01") && l.contains('·')));
/// ```
///
/// A scenario whose network cannot be built gives a one-line explanation instead.
pub fn reachability_table(scenario: &Scenario, vpn_enabled: bool) -> String {
    match reachability(scenario, vpn_enabled) {
        Ok(r) => render(&r),
        Err(e) => format!("no reachability table: the network cannot be built: {e}\n"),
    }
}

/// The matrix site by site ([`Reachability::by_site`]): `✓` where every machine of the row's
/// site reaches every machine of the column's, `~` where some do, `·` where none does; columns
/// are numbered as the rows. Then a line that counts the pairs of machines that do not reach
/// each other. A scenario whose network cannot be built gives a one-line explanation instead.
pub fn site_reachability_table(scenario: &Scenario, vpn_enabled: bool) -> String {
    let r = match reachability(scenario, vpn_enabled) {
        Ok(r) => r,
        Err(e) => return format!("no reachability table: the network cannot be built: {e}\n"),
    };
    let (sites, matrix) = r.by_site();
    let title = if r.vpn_enabled {
        "with OpenVPN"
    } else {
        "without OpenVPN"
    };
    let mut out = format!(
        "reachability {title}, site by site ({} at {}): row reaches column; \
         ✓ every machine, ~ some, · none\n",
        crate::count(r.hosts.len() as u64, "machine"),
        crate::count(sites.len() as u64, "site")
    );
    let num = sites.len().to_string().len();
    let name_w = sites.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    let cell = num.max(1);
    out.push_str(&format!("{:num$} {:name_w$}", "", ""));
    for j in 1..=sites.len() {
        out.push_str(&format!(" {j:>cell$}"));
    }
    out.push('\n');
    for (i, (site, row)) in sites.iter().zip(&matrix).enumerate() {
        out.push_str(&format!("{:>num$} {site:<name_w$}", i + 1));
        for &c in row {
            let mark = match c {
                SiteReach::All => "✓",
                SiteReach::Some => "~",
                SiteReach::None => "·",
            };
            out.push_str(&format!(" {mark:>cell$}"));
        }
        out.push('\n');
    }
    match r.unreachable_pairs() {
        0 => out.push_str("every machine reaches every other\n"),
        n => out.push_str(&format!(
            "{n} ordered pairs of machines do not reach each other (`--by host` lists every machine)\n"
        )),
    }
    out
}

fn render(r: &Reachability) -> String {
    let title = if r.vpn_enabled {
        "with OpenVPN (thesis table 4.7)"
    } else {
        "without OpenVPN (thesis table 4.6)"
    };
    let w = r.hosts.iter().map(|h| h.chars().count()).max().unwrap_or(0).max(4);
    let mut out = format!("reachability {title}: row reaches column\n");
    out.push_str(&format!("{:<w$}", ""));
    for h in &r.hosts {
        out.push_str(&format!(" {h:>w$}"));
    }
    out.push('\n');
    for (i, h) in r.hosts.iter().enumerate() {
        out.push_str(&format!("{h:<w$}"));
        for &ok in &r.reach[i] {
            let mark = if ok { "✓" } else { "·" };
            out.push_str(&format!(" {mark:>w$}"));
        }
        out.push('\n');
    }
    out
}
