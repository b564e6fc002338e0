//! The control plane's availability over time when masters or etcd members fail.
//!
//! # Mechanism
//!
//! - **HAProxy** checks each backend every `inter` (checks of different servers are not in
//!   phase: each gets a random phase). A crashed master refuses the check's connection, which
//!   HAProxy knows one round trip after it starts; after `fall` consecutive failures it marks the
//!   server down, so detection takes at most `inter x fall + RTT` after the crash. After a repair,
//!   `rise` consecutive successes mark it up (HAProxy 1.8 configuration manual §5.2).
//! - **etcd**: when the leader's member stops, followers notice after the election timeout
//!   (randomized in `[election_timeout, 2 x election_timeout)` by etcd) and elect a new leader
//!   in one round trip; while fewer than a quorum of members run, nothing commits. Writes wait
//!   for a leader.
//! - An apiserver whose **etcd member** is gone (kubeadm's stacked apiserver talks only to its
//!   local member) answers every request with an error, while HAProxy's TCP check still
//!   passes; to its clients it is as dead as a crashed one, except that HAProxy may hand a
//!   reconnecting client back to it ([`Plan::serves`]).
//! - **Clients** pinned to a dead apiserver notice by their own timers, then reconnect through
//!   HAProxy, which sends them to a server it believes up (if it still believes the dead one up,
//!   they fail again and retry at their next timer):
//!   - a kubelet: its next node-status heartbeat times out after `--node-status-update-frequency`
//!     (the heartbeat client's timeout in v1.16), and the kubelet closes all its connections
//!     (`closeAllConns` on heartbeat failure, pkg/kubelet/kubelet_node_status.go);
//!   - the controller-manager and the scheduler: the leader cannot renew its lease; a standby on
//!     another master takes over once the lease expires (`--leader-elect-lease-duration`, retried
//!     every `--leader-elect-retry-period`) and works through its own connection;
//!   - the operator's `kubectl get -w`: assumed to notice like a kubelet (kubectl itself has no
//!     watch timeout; a person restarts it).

use rand::Rng;
use sim_core::{SimDuration, SimTime};

use crate::faults::covering;
use crate::spec::{Fault, Haproxy};

/// How a client notices that its apiserver died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRole {
    /// A kubelet: heartbeat timeout.
    Kubelet,
    /// A leader-elected controller (controller-manager, scheduler): lease expiry and takeover.
    Leader,
    /// The operator's kubectl.
    Operator,
}

/// Timers the clients and etcd use to notice failures.
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    /// Kubelet `--node-status-update-frequency` (also the heartbeat timeout).
    pub heartbeat: SimDuration,
    /// `--leader-elect-lease-duration`.
    pub lease: SimDuration,
    /// `--leader-elect-retry-period`.
    pub retry: SimDuration,
    /// etcd `--election-timeout`.
    pub election: SimDuration,
}

/// Availability of apiservers, etcd members and HAProxy's view of them, as functions of time.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Per master: windows when its apiserver (and etcd member) are down.
    pub apiserver_down: Vec<Vec<(SimTime, SimTime)>>,
    /// Per master: windows when its etcd member is down (its apiserver cannot serve).
    pub etcd_down: Vec<Vec<(SimTime, SimTime)>>,
    /// Per master: windows when HAProxy has it marked down.
    pub marked_down: Vec<Vec<(SimTime, SimTime)>>,
    /// Windows with no etcd leader (elections, lost quorum).
    pub no_leader: Vec<(SimTime, SimTime)>,
    /// Leader changes: (from when, member index), in time order.
    pub leaders: Vec<(SimTime, usize)>,
}

impl Plan {
    /// Works out the windows for `faults` over `masters` (names, in backend order), with etcd
    /// first led by `leader`. `lb_rtt[i]` is the RTT between the balancer and master `i`;
    /// `member_rtt` the largest RTT between members.
    ///
    /// Faults naming hosts that are not masters are ignored here (the network handles them).
    #[allow(clippy::too_many_arguments)] // each is one independent input of the plan; built once per run.
    pub fn build(
        faults: &[Fault],
        masters: &[String],
        leader: usize,
        haproxy: &Haproxy,
        timers: Timers,
        lb_rtt: &[SimDuration],
        member_rtt: SimDuration,
        rng: &mut impl Rng,
    ) -> Plan {
        let n = masters.len();
        let mut p = Plan {
            apiserver_down: vec![Vec::new(); n],
            etcd_down: vec![Vec::new(); n],
            marked_down: vec![Vec::new(); n],
            no_leader: Vec::new(),
            leaders: vec![(SimTime::ZERO, leader)],
        };
        let mut member_faults: Vec<(SimTime, SimTime, Option<usize>)> = Vec::new();
        for f in faults {
            let w = f.window();
            match f {
                Fault::Crash { host, .. } => {
                    if let Some(i) = masters.iter().position(|m| m == host) {
                        p.apiserver_down[i].push(w);
                        p.etcd_down[i].push(w);
                        member_faults.push((w.0, w.1, Some(i)));
                    }
                }
                Fault::CrashEtcdLeader { .. } => member_faults.push((w.0, w.1, None)),
                Fault::Partition { .. } | Fault::IsolateSite { .. } | Fault::Degrade { .. } => {}
            }
        }
        // HAProxy's view, from its check schedule.
        let inter = haproxy.inter.get().max(SimDuration::from_millis(1));
        for i in 0..n {
            let phase = SimDuration::from_secs_f64(rng.random::<f64>() * inter.as_secs_f64());
            let rtt = lb_rtt.get(i).copied().unwrap_or(SimDuration::ZERO);
            let first_check_at = |t: SimTime| {
                let (t, ph, iv) = (t.as_nanos(), phase.as_nanos(), inter.as_nanos());
                SimTime::from_nanos(if t <= ph { ph } else { ph + (t - ph).div_ceil(iv) * iv })
            };
            for &(s, e) in &p.apiserver_down[i].clone() {
                let c0 = first_check_at(s);
                let down_at = c0 + inter * u64::from(haproxy.fall.max(1) - 1) + rtt;
                if e <= c0 + inter * u64::from(haproxy.fall.max(1) - 1) {
                    continue; // repaired before the fall-th failed check
                }
                let up_at = if e == SimTime::MAX {
                    SimTime::MAX
                } else {
                    first_check_at(e) + inter * u64::from(haproxy.rise.max(1) - 1) + rtt
                };
                p.marked_down[i].push((down_at, up_at));
            }
        }
        // etcd leadership, in time order.
        member_faults.sort_by_key(|f| f.0);
        let quorum = n / 2 + 1;
        let mut current = leader;
        for (s, e, who) in member_faults {
            let victim = who.unwrap_or(current);
            if who.is_none() {
                p.etcd_down[victim].push((s, e));
            }
            if victim != current {
                continue;
            }
            let alive_at = |t: SimTime, i: usize| covering(&p.etcd_down[i], t).is_none();
            // The election ends after a randomized timeout and a round of votes, once a quorum
            // runs again.
            let timeout = timers.election.as_secs_f64() * (1.0 + rng.random::<f64>());
            let mut end = s + SimDuration::from_secs_f64(timeout) + member_rtt;
            for _ in 0..16 {
                let alive = (0..n).filter(|&i| alive_at(end, i)).count();
                if alive >= quorum {
                    break;
                }
                // Wait for the next repair of a dead member.
                let next = (0..n)
                    .filter_map(|i| covering(&p.etcd_down[i], end).map(|w| w.1))
                    .min()
                    .unwrap_or(SimTime::MAX);
                if next == SimTime::MAX {
                    end = SimTime::MAX;
                    break;
                }
                end = next + member_rtt;
            }
            p.no_leader.push((s, end));
            if end == SimTime::MAX {
                break;
            }
            let new = (0..n).find(|&i| i != victim && alive_at(end, i)).unwrap_or(victim);
            p.leaders.push((end, new));
            current = new;
        }
        p
    }

    /// Whether apiserver `m` answers at `t`.
    pub fn apiserver_up(&self, m: usize, t: SimTime) -> bool {
        covering(&self.apiserver_down[m], t).is_none()
    }

    /// Whether apiserver `m` serves requests at `t`: it runs and so does its etcd member.
    pub fn serves(&self, m: usize, t: SimTime) -> bool {
        self.apiserver_up(m, t) && self.etcd_back(m, t).is_none()
    }

    /// When apiserver `m`'s etcd member is back, if it is down at `t`.
    pub fn etcd_back(&self, m: usize, t: SimTime) -> Option<SimTime> {
        covering(&self.etcd_down[m], t).map(|w| w.1)
    }

    /// Whether HAProxy sends new connections to `m` at `t`.
    pub fn haproxy_up(&self, m: usize, t: SimTime) -> bool {
        covering(&self.marked_down[m], t).is_none()
    }

    /// When HAProxy marked `m` down after the crash starting at `s`, if it did.
    pub fn marked_down_after(&self, m: usize, s: SimTime) -> Option<(SimTime, SimTime)> {
        self.marked_down[m].iter().copied().find(|w| w.0 >= s)
    }

    /// The etcd leader at `t`.
    pub fn leader_at(&self, t: SimTime) -> usize {
        self.leaders.iter().rev().find(|l| l.0 <= t).map_or(0, |l| l.1)
    }

    /// The first instant at or after `t` when a leader exists.
    pub fn write_ready(&self, t: SimTime) -> SimTime {
        let mut t = t;
        while let Some((_, e)) = covering(&self.no_leader, t) {
            t = e;
            if t == SimTime::MAX {
                break;
            }
        }
        t
    }

    /// How long after `s` a client of `role` notices its apiserver is gone.
    pub fn detection(role: ClientRole, timers: Timers, rng: &mut impl Rng) -> SimDuration {
        match role {
            ClientRole::Kubelet | ClientRole::Operator => {
                // The next heartbeat (uniformly placed in its period) times out one period later.
                SimDuration::from_secs_f64(rng.random::<f64>() * timers.heartbeat.as_secs_f64()) + timers.heartbeat
            }
            ClientRole::Leader => {
                // The lease, renewed every retry period, expires a lease duration after the last
                // renewal; the standby retries every retry period.
                let since_renewal = SimDuration::from_secs_f64(rng.random::<f64>() * timers.retry.as_secs_f64());
                let wait = SimDuration::from_secs_f64(rng.random::<f64>() * timers.retry.as_secs_f64());
                timers.lease.saturating_sub(since_renewal) + wait
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Dur;
    use rand::SeedableRng;

    fn haproxy() -> Haproxy {
        Haproxy {
            host: "lb".into(),
            backends: vec!["m1".into(), "m2".into(), "m3".into()],
            inter: Dur::millis(2000),
            rise: 2,
            fall: 3,
            proxy_time: Dur::millis(0),
        }
    }

    fn timers() -> Timers {
        Timers {
            heartbeat: SimDuration::from_secs(10),
            lease: SimDuration::from_secs(15),
            retry: SimDuration::from_secs(2),
            election: SimDuration::from_secs(1),
        }
    }

    fn crash(host: &str, at: u64, repair: Option<u64>) -> Fault {
        Fault::Crash {
            host: host.into(),
            at: Dur::secs(at),
            repair: repair.map(Dur::secs),
        }
    }

    /// A killed master is marked down within inter x fall + one RTT, whatever the check phase.
    #[test]
    fn haproxy_detects_a_dead_master_within_inter_times_fall_plus_rtt() {
        let masters: Vec<String> = vec!["m1".into(), "m2".into(), "m3".into()];
        let rtt = SimDuration::from_micros(400);
        for seed in 0..200 {
            let mut rng = sim_core::rng::SimRng::seed_from_u64(seed);
            let p = Plan::build(
                &[crash("m2", 30, None)],
                &masters,
                0,
                &haproxy(),
                timers(),
                &[rtt; 3],
                rtt,
                &mut rng,
            );
            let (down, up) = p.marked_down_after(1, SimTime::from_secs(30)).unwrap();
            let detection = down - SimTime::from_secs(30);
            assert!(detection <= SimDuration::from_secs(6) + rtt, "seed {seed}: {detection}");
            assert!(
                detection >= SimDuration::from_secs(4),
                "seed {seed}: {detection}: three checks 2 s apart"
            );
            assert_eq!(up, SimTime::MAX);
            assert!(!p.haproxy_up(1, SimTime::from_secs(40)));
            assert!(p.haproxy_up(0, SimTime::from_secs(40)));
        }
    }

    #[test]
    fn a_repaired_master_comes_back_after_rise_checks() {
        let masters: Vec<String> = vec!["m1".into(), "m2".into(), "m3".into()];
        let mut rng = sim_core::rng::SimRng::seed_from_u64(1);
        let p = Plan::build(
            &[crash("m2", 30, Some(60))],
            &masters,
            0,
            &haproxy(),
            timers(),
            &[SimDuration::ZERO; 3],
            SimDuration::ZERO,
            &mut rng,
        );
        let (_, up) = p.marked_down_after(1, SimTime::from_secs(30)).unwrap();
        assert!(up >= SimTime::from_secs(62) && up <= SimTime::from_secs(64), "{up}");
        assert!(p.apiserver_up(1, SimTime::from_secs(61)));
    }

    #[test]
    fn losing_the_etcd_leader_elects_another_after_the_timeout() {
        let masters: Vec<String> = vec!["m1".into(), "m2".into(), "m3".into()];
        let mut rng = sim_core::rng::SimRng::seed_from_u64(3);
        let f = [Fault::CrashEtcdLeader {
            at: Dur::secs(10),
            repair: None,
        }];
        let p = Plan::build(
            &f,
            &masters,
            0,
            &haproxy(),
            timers(),
            &[SimDuration::ZERO; 3],
            SimDuration::from_millis(1),
            &mut rng,
        );
        let (s, e) = p.no_leader[0];
        assert_eq!(s, SimTime::from_secs(10));
        assert!(
            e >= SimTime::from_millis(11_001) && e < SimTime::from_millis(12_002),
            "{e}"
        );
        assert_eq!(p.leader_at(SimTime::from_secs(20)), 1);
        assert_eq!(p.write_ready(SimTime::from_millis(10_500)), e);
        assert!(p.apiserver_up(0, SimTime::from_secs(20)), "only the member died");
        assert_eq!(p.etcd_back(0, SimTime::from_secs(20)), Some(SimTime::MAX));
    }

    #[test]
    fn two_of_three_members_down_means_no_writes_until_one_returns() {
        let masters: Vec<String> = vec!["m1".into(), "m2".into(), "m3".into()];
        let mut rng = sim_core::rng::SimRng::seed_from_u64(3);
        let f = [crash("m2", 5, Some(100)), crash("m1", 10, None)];
        let p = Plan::build(
            &f,
            &masters,
            0,
            &haproxy(),
            timers(),
            &[SimDuration::ZERO; 3],
            SimDuration::ZERO,
            &mut rng,
        );
        assert_eq!(p.write_ready(SimTime::from_secs(20)), SimTime::from_secs(100));
        assert_eq!(p.leader_at(SimTime::from_secs(101)), 1);
    }
}
