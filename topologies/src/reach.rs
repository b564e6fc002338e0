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
    let full = net.reachability();
    let ids: Vec<u32> = s
        .hosts
        .iter()
        .filter(|h| h.role != Role::Router)
        .filter_map(|h| net.host(&h.name))
        .collect();
    Ok(Reachability {
        vpn_enabled,
        hosts: ids.iter().map(|&id| net.name(id).to_owned()).collect(),
        reach: ids
            .iter()
            .map(|&a| ids.iter().map(|&b| full[a as usize][b as usize]).collect())
            .collect(),
    })
}

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
