//! When network faults cut the control plane's parts off from each other.
//!
//! A master is cut off from the load balancer while a fault stops the traffic on their route: a
//! partitioned tunnel on it, an isolated site at either end, or a crashed router on it (the
//! network knows the routes, [`crate::network::Network::cut_at`]). HAProxy's checks to it then
//! time out, and the clients pinned to it notice by their own timers, as for a crashed master
//! ([`crate::failover`]).
//!
//! An etcd member cut off from the others is as good as down for raft: a leader must reach a
//! quorum of running members directly (raft's messages are not relayed), and a member it does
//! not reach commits nothing. At each instant the model takes the running member that reaches
//! the most other running members directly as the leader's place; if it and those it reaches
//! make a quorum, the running members outside them count as down; if not, every member does.
//! (A crashed member reaches nobody, and so does a `crash-etcd-leader` victim, which the
//! caller names from etcd's simulated elections.)
//!
//! Masters at one site (the thesis's control plane) are never cut off from each other or from a
//! load balancer at their site: the site's LAN does not cross its router.

use sim_core::{SimDuration, SimTime};

/// A window `[from, to)`.
pub type Window = (SimTime, SimTime);

/// What the faults cut off, per master.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CutOff {
    /// Windows when the load balancer cannot reach the master.
    pub from_lb: Vec<Vec<Window>>,
    /// Windows when the master's etcd member is outside a quorum of members that reach each
    /// other.
    pub member: Vec<Vec<Window>>,
}

/// The instants at which `faults` may change what is cut off: their starts, their repairs,
/// and when a tunnel the fault silenced carries again (one silent for longer than
/// `ping_restart` carries again only at the end of its restart's pause,
/// [`crate::faults::vpn_carries_again`], up to [`crate::faults::OPENVPN_RESTART_PAUSE`] after
/// the repair: sampled only at the repair, a cut would last for ever). That pause's latest
/// end is an edge too: faults that overlap on one tunnel silence it from the first's start
/// to the last's repair, whose restart no single fault's window gives.
pub fn edges(faults: &[crate::spec::Fault], ping_restart: SimDuration) -> Vec<SimTime> {
    faults
        .iter()
        .flat_map(|f| {
            let (a, b) = f.window();
            let latest = b
                .checked_add(crate::faults::OPENVPN_RESTART_PAUSE)
                .unwrap_or(SimTime::MAX);
            [a, b, crate::faults::vpn_carries_again(a, b, ping_restart), latest]
        })
        .collect()
}

/// The windows during which the `n` masters are cut off, given the instants at which anything
/// may change (`edges`: the faults' starts and ends), whether the load balancer cannot reach
/// master `m` at `t` (`lb_cut`), whether masters `i` and `j` cannot reach each other
/// (`pair_cut`), and whether master `m` is crashed (`down`). The state between two edges is the
/// state at the first.
pub fn cut_off(
    mut edges: Vec<SimTime>,
    n: usize,
    lb_cut: impl Fn(usize, SimTime) -> bool,
    pair_cut: impl Fn(usize, usize, SimTime) -> bool,
    down: impl Fn(usize, SimTime) -> bool,
) -> CutOff {
    let mut out = CutOff {
        from_lb: vec![Vec::new(); n],
        member: vec![Vec::new(); n],
    };
    edges.retain(|&t| t != SimTime::MAX);
    edges.sort_unstable();
    edges.dedup();
    let quorum = n / 2 + 1;
    for (k, &t) in edges.iter().enumerate() {
        let until = edges.get(k + 1).copied().unwrap_or(SimTime::MAX);
        for (m, windows) in out.from_lb.iter_mut().enumerate() {
            if lb_cut(m, t) {
                push(windows, (t, until));
            }
        }
        // The leader's best place: the running member reaching the most running members.
        let running: Vec<usize> = (0..n).filter(|&m| !down(m, t)).collect();
        let group_of = |l: usize| -> Vec<usize> {
            running
                .iter()
                .copied()
                .filter(|&j| j == l || !pair_cut(l, j, t))
                .collect()
        };
        let best = running
            .iter()
            .map(|&l| group_of(l))
            .fold(Vec::new(), |best, g| if g.len() > best.len() { g } else { best });
        let live: &[usize] = if best.len() >= quorum { &best } else { &[] };
        for &m in &running {
            if !live.contains(&m) {
                push(&mut out.member[m], (t, until));
            }
        }
    }
    out
}

/// Adds `w` to `windows`, merging it with the last one if they touch.
fn push(windows: &mut Vec<Window>, w: Window) {
    match windows.last_mut() {
        Some(last) if last.1 == w.0 => last.1 = w.1,
        _ => windows.push(w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Fault;
    use crate::units::Dur;

    /// OpenVPN's `--ping-restart` in these tests (VyOS 1.2's 60 s).
    const PING_RESTART: SimDuration = SimDuration::from_secs(60);

    /// A full mesh of tunnels between sites whose routers are `r-<site>`: `f` cuts sites `a`
    /// and `b` apart at `t` (until the tunnels carry again after their restart, if any).
    fn cuts(f: &Fault, a: &str, b: &str, t: SimTime) -> bool {
        let (from, to) = f.window();
        let to = crate::faults::vpn_carries_again(from, to, PING_RESTART);
        if a == b || t < from || t >= to {
            return false;
        }
        match f {
            Fault::Partition { a: x, b: y, .. } => (x == a && y == b) || (x == b && y == a),
            Fault::IsolateSite { site, .. } => site == a || site == b,
            Fault::Crash { host, .. } => *host == format!("r-{a}") || *host == format!("r-{b}"),
            Fault::CrashEtcdLeader { .. } | Fault::Degrade { .. } => false,
        }
    }

    /// [`cut_off`] for a balancer at site `lb` and masters at `masters`.
    fn plan(faults: &[Fault], lb: &str, masters: &[&str]) -> CutOff {
        let any = |a: &str, b: &str, t| faults.iter().any(|f| cuts(f, a, b, t));
        cut_off(
            edges(faults, PING_RESTART),
            masters.len(),
            |m, t| any(lb, masters[m], t),
            |i, j, t| any(masters[i], masters[j], t),
            |m, t| {
                faults.iter().any(|f| {
                    matches!(f, Fault::Crash { host, .. } if host == &format!("m-{}", masters[m])) && {
                        let (a, b) = f.window();
                        a <= t && t < b
                    }
                })
            },
        )
    }

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    #[test]
    fn a_control_plane_at_one_site_is_never_cut_off() {
        let f = [Fault::IsolateSite {
            site: "tokyo".into(),
            at: Dur::secs(5),
            repair: None,
        }];
        let c = plan(&f, "tokyo", &["tokyo", "tokyo", "tokyo"]);
        assert!(c.from_lb.iter().chain(&c.member).all(Vec::is_empty), "{c:?}");
    }

    #[test]
    fn an_isolated_master_site_is_cut_from_the_balancer_and_the_quorum() {
        let f = [Fault::IsolateSite {
            site: "zurich".into(),
            at: Dur::secs(5),
            repair: Some(Dur::secs(60)),
        }];
        let c = plan(&f, "tokyo", &["tokyo", "zurich", "mit"]);
        assert_eq!(c.from_lb, vec![vec![], vec![(s(5), s(60))], vec![]]);
        assert_eq!(c.member, vec![vec![], vec![(s(5), s(60))], vec![]]);
    }

    /// A partition that outlasts `ping-restart` (10 s to 71 s) restarts the tunnel at 70 s;
    /// it carries again at the end of the 2-s pause, 72 s, and the cut ends there, not at the
    /// latest a pause could end (73 s).
    #[test]
    fn a_cut_ends_when_the_restarted_tunnel_carries_again() {
        let f = [Fault::Partition {
            a: "tokyo".into(),
            b: "zurich".into(),
            at: Dur::secs(10),
            repair: Some(Dur::secs(71)),
        }];
        let c = plan(&f, "tokyo", &["tokyo", "zurich", "mit"]);
        assert_eq!(c.from_lb, vec![vec![], vec![(s(10), s(72))], vec![]]);
    }

    #[test]
    fn the_balancers_site_cut_off_cuts_it_from_every_other_master() {
        // Tokyo's router down: the balancer (at Tokyo) reaches only master 0; etcd keeps its
        // quorum of Zurich and MIT, and Tokyo's member is the one outside it.
        let f = [Fault::Crash {
            host: "r-tokyo".into(),
            at: Dur::secs(5),
            repair: Some(Dur::secs(20)),
        }];
        let c = plan(&f, "tokyo", &["tokyo", "zurich", "mit"]);
        assert_eq!(c.from_lb, vec![vec![], vec![(s(5), s(20))], vec![(s(5), s(20))]]);
        assert_eq!(c.member, vec![vec![(s(5), s(20))], vec![], vec![]]);
    }

    #[test]
    fn with_every_pair_cut_no_group_has_a_quorum() {
        let part = |a: &str, b: &str| Fault::Partition {
            a: a.into(),
            b: b.into(),
            at: Dur::secs(10),
            repair: Some(Dur::secs(30)),
        };
        let f = [part("tokyo", "zurich"), part("zurich", "mit"), part("mit", "tokyo")];
        let c = plan(&f, "tokyo", &["tokyo", "zurich", "mit"]);
        assert!(c.member.iter().all(|w| w == &vec![(s(10), s(30))]), "{c:?}");
        // One pair cut leaves a leader at the third site reaching both.
        let c = plan(&f[..1], "tokyo", &["tokyo", "zurich", "mit"]);
        assert!(c.member.iter().all(Vec::is_empty), "{c:?}");
        // ... unless that third member is crashed: the other two cannot reach each other, and
        // no leader has a quorum.
        let crash = Fault::Crash {
            host: "m-mit".into(),
            at: Dur::secs(0),
            repair: None,
        };
        let c = plan(&[f[0].clone(), crash], "tokyo", &["tokyo", "zurich", "mit"]);
        assert_eq!(c.member[0], vec![(s(10), s(30))], "{c:?}");
        assert_eq!(c.member[1], vec![(s(10), s(30))], "{c:?}");
        assert!(c.member[2].is_empty(), "a crashed member is down already: {c:?}");
    }
}
