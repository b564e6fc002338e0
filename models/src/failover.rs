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

use crate::cut_off::CutOff;
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
    /// Per master: windows when the load balancer cannot reach it ([`crate::cut_off`]).
    pub unreachable: Vec<Vec<(SimTime, SimTime)>>,
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
        cut: &CutOff,
        rng: &mut impl Rng,
    ) -> Plan {
        let n = masters.len();
        let mut p = Plan {
            apiserver_down: vec![Vec::new(); n],
            etcd_down: vec![Vec::new(); n],
            marked_down: vec![Vec::new(); n],
            unreachable: vec![Vec::new(); n],
            no_leader: Vec::new(),
            leaders: vec![(SimTime::ZERO, leader)],
        };
        let mut member_faults: Vec<(SimTime, SimTime, Option<usize>)> = Vec::new();
        // Members cut off from a quorum count as down for raft; masters the balancer cannot
        // reach fail its checks, by time-out.
        for m in 0..n {
            for &w in cut.member.get(m).into_iter().flatten() {
                p.etcd_down[m].push(w);
                member_faults.push((w.0, w.1, Some(m)));
            }
            p.unreachable[m] = cut.from_lb.get(m).cloned().unwrap_or_default();
        }
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
            // A dead server refuses the check's connection within a round trip; one out of reach
            // never answers, and the check fails at its time-out (`inter`: HAProxy 1.8 uses it
            // for the whole check when `timeout check` is not set, configuration manual §4.2).
            let refused = p.apiserver_down[i].iter().map(|&w| (w, rtt));
            let timed_out = p.unreachable[i].iter().map(|&w| (w, inter));
            let mut windows: Vec<((SimTime, SimTime), SimDuration)> = refused.chain(timed_out).collect();
            windows.sort_by_key(|w| w.0);
            for ((s, e), answer) in windows {
                let c0 = first_check_at(s);
                let down_at = c0 + inter * u64::from(haproxy.fall.max(1) - 1) + answer;
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
        p.etcd_leadership(member_faults, leader, timers.election, member_rtt, rng);
        p
    }

    /// etcd's leadership over time (`leaders`, `no_leader`), given when members go down:
    /// `member_faults` holds each member crash (`Some(i)`) and each `crash-etcd-leader` (`None`:
    /// whoever leads when it starts; nothing if no member leads then, as during an election).
    ///
    /// Writes commit only while a leader leads a quorum of running members (its own included).
    /// A leader whose member stops is replaced by an election among the others: the first of
    /// their randomized timeouts, each in `[election, 2 x election)`, and a round of votes
    /// (`member_rtt`), once a quorum runs. A leader that loses its quorum stops committing at once; etcd's raft runs with
    /// `CheckQuorum`, so after an election timeout without a quorum it steps down, and the
    /// quorum's return then starts an election (a quorum back sooner finds it still leading).
    fn etcd_leadership(
        &mut self,
        mut member_faults: Vec<(SimTime, SimTime, Option<usize>)>,
        first: usize,
        election: SimDuration,
        member_rtt: SimDuration,
        rng: &mut impl Rng,
    ) {
        let n = self.etcd_down.len();
        let quorum = n / 2 + 1;
        member_faults.sort_by_key(|f| f.0);
        let mut pending = member_faults.into_iter().peekable();
        let mut leader = Some(first);
        // Since when writes cannot commit, and when the quorum was lost, if it is.
        let mut blocked: Option<SimTime> = None;
        let mut quorum_lost: Option<SimTime> = None;
        // The end of the election under way, if one is.
        let mut election_end: Option<SimTime> = None;
        // The first of the running members' randomized timeouts to run out starts the election
        // that wins (on a LAN; `crate::raft` simulates it message by message, and a test holds
        // the two together).
        let elect = |from: SimTime, voters: usize, rng: &mut dyn rand::RngCore| {
            let first = (0..voters.max(1)).map(|_| rng.random::<f64>()).fold(1.0, f64::min);
            from + SimDuration::from_secs_f64(election.as_secs_f64() * (1.0 + first)) + member_rtt
        };
        let mut t = SimTime::ZERO;
        loop {
            let alive = |p: &Plan, i: usize, t: SimTime| covering(&p.etcd_down[i], t).is_none();
            let live = (0..n).filter(|&i| alive(self, i, t)).count();
            // What the state is at `t`, all of `t`'s changes applied.
            if live < quorum {
                quorum_lost.get_or_insert(t);
                election_end = None;
            } else if let Some(lost) = quorum_lost.take() {
                // The quorum is back: a leader still in office (not yet stepped down) goes on;
                // otherwise an election starts.
                let stepped_down = t.saturating_since(lost) >= election;
                if stepped_down || leader.is_none_or(|l| !alive(self, l, t)) {
                    leader = None;
                    election_end = Some(elect(t, live, rng));
                }
            }
            if let Some(l) = leader {
                if !alive(self, l, t) {
                    leader = None;
                    if live >= quorum {
                        election_end = Some(elect(t, live, rng));
                    }
                }
            }
            if election_end.is_some_and(|e| e <= t) {
                election_end = None;
                // The member with the lowest index among those running wins (the vote is a
                // race of randomized timeouts; which member wins changes only commit paths).
                let new = (0..n).find(|&i| alive(self, i, t)).unwrap_or(first);
                leader = Some(new);
                self.leaders.push((t, new));
            }
            let can_commit = leader.is_some() && live >= quorum;
            match (can_commit, blocked) {
                (false, None) => blocked = Some(t),
                (true, Some(since)) => {
                    self.no_leader.push((since, t));
                    blocked = None;
                }
                _ => {}
            }
            // The next instant anything changes: a fault starts, a member returns, an election
            // ends.
            let next_fault = pending.peek().map(|f| f.0);
            let next_repair = (0..n)
                .flat_map(|i| self.etcd_down[i].iter().map(|w| w.1))
                .filter(|&e| e > t)
                .min();
            let next = [next_fault, next_repair, election_end].into_iter().flatten().min();
            let Some(next) = next.filter(|&x| x != SimTime::MAX) else {
                break;
            };
            t = next;
            while let Some(&(s, e, who)) = pending.peek() {
                if s > t {
                    break;
                }
                pending.next();
                match who {
                    Some(_) => {} // already in `etcd_down`
                    None => {
                        // `crash-etcd-leader`: the member leading now, if any.
                        // A leader without a quorum for an election timeout has stepped down
                        // (CheckQuorum): there is none to crash then.
                        let in_office = quorum_lost.is_none_or(|lost| t.saturating_since(lost) < election);
                        if let Some(l) = leader.filter(|_| in_office) {
                            self.etcd_down[l].push((s, e));
                        }
                    }
                }
            }
        }
        if let Some(since) = blocked {
            self.no_leader.push((since, SimTime::MAX));
        }
    }

    /// Whether apiserver `m` answers at `t`.
    pub fn apiserver_up(&self, m: usize, t: SimTime) -> bool {
        covering(&self.apiserver_down[m], t).is_none()
    }

    /// Whether apiserver `m` serves requests at `t`: it runs, so does its etcd member (in a
    /// quorum), and the load balancer reaches it.
    pub fn serves(&self, m: usize, t: SimTime) -> bool {
        self.apiserver_up(m, t) && self.etcd_back(m, t).is_none() && covering(&self.unreachable[m], t).is_none()
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

    /// Three masters `m1`..`m3`, `m1` leading etcd, whose member stops for good at 10 s.
    fn leader_lost_at_10s(lb_rtt: &[SimDuration], member_rtt: SimDuration, rng: &mut sim_core::rng::SimRng) -> Plan {
        let masters: Vec<String> = vec!["m1".into(), "m2".into(), "m3".into()];
        let f = [Fault::CrashEtcdLeader {
            at: Dur::secs(10),
            repair: None,
        }];
        Plan::build(
            &f,
            &masters,
            0,
            &haproxy(),
            timers(),
            lb_rtt,
            member_rtt,
            &CutOff::default(),
            rng,
        )
    }

    /// The drills' election (the first of the running members' timeouts, then a vote) against
    /// etcd's raft simulated message by message (`crate::raft`) on a LAN: a crashed leader is
    /// replaced as fast on average.
    #[test]
    fn a_leader_crash_is_repaired_as_fast_as_the_message_level_raft_says() {
        use crate::raft::{leader_failover, RaftTimers, UniformLinks};
        let rtt = SimDuration::from_micros(400);
        let trials = 300;
        let mut formula = 0.0;
        let mut simulated = 0.0;
        for seed in 0..trials {
            let mut rng = sim_core::rng::SimRng::seed_from_u64(seed);
            let p = leader_lost_at_10s(&[rtt; 3], rtt, &mut rng);
            let (s, e) = p.no_leader[0];
            assert_eq!(s, SimTime::from_secs(10));
            formula += e.saturating_since(s).as_secs_f64();
            let links = UniformLinks {
                one_way: SimDuration::from_micros(200),
                jitter: SimDuration::ZERO,
                loss: 0.0,
            };
            let raft = RaftTimers {
                heartbeat: SimDuration::from_millis(100),
                election: timers().election,
            };
            let limit = SimDuration::from_secs(60);
            let d = leader_failover(Box::new(links), 3, 0, raft, SimDuration::from_secs(10), limit, seed)
                .replaced()
                .unwrap();
            simulated += d.as_secs_f64();
        }
        let (formula, simulated) = (formula / trials as f64, simulated / trials as f64);
        // The first of two uniform timeouts in [1, 2) s runs out after 1.33 s on average; the
        // simulation counts from the last heartbeat (up to a tick before the crash) and in
        // whole ticks, and sometimes needs a second round (a vote ignored in the voter's lease).
        assert!((formula - 4.0 / 3.0).abs() < 0.06, "formula {formula} s");
        assert!(
            (simulated - formula).abs() < 0.2,
            "simulated {simulated} s, formula {formula} s"
        );
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
                &CutOff::default(),
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
            &CutOff::default(),
            &mut rng,
        );
        let (_, up) = p.marked_down_after(1, SimTime::from_secs(30)).unwrap();
        assert!(up >= SimTime::from_secs(62) && up <= SimTime::from_secs(64), "{up}");
        assert!(p.apiserver_up(1, SimTime::from_secs(61)));
    }

    #[test]
    fn losing_the_etcd_leader_elects_another_after_the_timeout() {
        let mut rng = sim_core::rng::SimRng::seed_from_u64(3);
        let p = leader_lost_at_10s(&[SimDuration::ZERO; 3], SimDuration::from_millis(1), &mut rng);
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
            &CutOff::default(),
            &mut rng,
        );
        // The quorum is back at 100 s; its election takes a timeout of 1 to 2 s.
        let ready = p.write_ready(SimTime::from_secs(20));
        assert!(
            ready >= SimTime::from_secs(101) && ready < SimTime::from_secs(102),
            "{ready:?}"
        );
        assert_eq!(p.leader_at(ready), 1);
    }

    fn build(f: &[Fault], seed: u64) -> Plan {
        let masters: Vec<String> = vec!["m1".into(), "m2".into(), "m3".into()];
        let mut rng = sim_core::rng::SimRng::seed_from_u64(seed);
        Plan::build(
            f,
            &masters,
            0,
            &haproxy(),
            timers(),
            &[SimDuration::ZERO; 3],
            SimDuration::ZERO,
            &CutOff::default(),
            &mut rng,
        )
    }

    #[test]
    fn two_followers_down_stop_the_commits_although_the_leader_runs() {
        // The audit's case: m2 and m3 crash, m1 (the leader) runs alone: no quorum, no writes.
        let p = build(&[crash("m2", 5, None), crash("m3", 5, None)], 1);
        assert_eq!(p.write_ready(SimTime::from_secs(4)), SimTime::from_secs(4));
        assert_eq!(p.write_ready(SimTime::from_secs(6)), SimTime::MAX);
        assert_eq!(p.no_leader, vec![(SimTime::from_secs(5), SimTime::MAX)]);
        // One back before the leader steps down (an election timeout, 1 s): it goes on leading.
        let brief = Fault::Crash {
            host: "m3".into(),
            at: Dur::secs(10),
            repair: Some(Dur::millis(10_500)),
        };
        let p = build(&[crash("m2", 5, None), brief], 1);
        assert_eq!(p.write_ready(SimTime::from_secs(10)), SimTime::from_millis(10_500));
        assert_eq!(p.leader_at(SimTime::from_secs(12)), 0);
        assert_eq!(p.leaders.len(), 1, "no election");
        // Back after it stepped down: an election first.
        let p = build(&[crash("m2", 5, None), crash("m3", 10, Some(30))], 1);
        let ready = p.write_ready(SimTime::from_secs(12));
        assert!(
            ready > SimTime::from_secs(31) && ready < SimTime::from_secs(32),
            "{ready:?}"
        );
    }

    #[test]
    fn the_order_of_the_crashes_does_not_decide_whether_etcd_commits() {
        // The same final state, one member of three, reached in either order: no writes.
        for f in [
            [crash("m1", 5, None), crash("m3", 20, None)],
            [crash("m3", 5, None), crash("m1", 20, None)],
        ] {
            let p = build(&f, 2);
            assert_eq!(p.write_ready(SimTime::from_secs(25)), SimTime::MAX, "{f:?}");
        }
    }

    #[test]
    fn crashing_the_etcd_leader_after_it_stepped_down_crashes_nobody() {
        // m2 and m3 down from 10 s to 30 s: m1 has no quorum and steps down at 11 s (an
        // election timeout later); a leader crash at 20 s finds no leader.
        let f = [
            crash("m2", 10, Some(30)),
            crash("m3", 10, Some(30)),
            Fault::CrashEtcdLeader {
                at: Dur::secs(20),
                repair: Some(Dur::secs(200)),
            },
        ];
        let p = build(&f, 4);
        assert!(p.etcd_down[0].is_empty(), "{:?}", p.etcd_down);
        let ready = p.write_ready(SimTime::from_secs(25));
        assert!(
            ready > SimTime::from_secs(31) && ready < SimTime::from_secs(32),
            "{ready:?}"
        );
    }

    #[test]
    fn crashing_the_etcd_leader_during_an_election_crashes_nobody() {
        let leader_crash = |at: u64| Fault::CrashEtcdLeader {
            at: Dur::secs(at),
            repair: Some(Dur::secs(100)),
        };
        // The first crash takes m1 at 0 s; the election that follows ends after 1 to 2 s. The
        // second, at 0.5 s, finds no leader: it must not crash the member about to win.
        let mut second = leader_crash(0);
        if let Fault::CrashEtcdLeader { at, .. } = &mut second {
            *at = Dur::millis(500);
        }
        let p = build(&[leader_crash(0), second], 3);
        let down: Vec<usize> = (0..3).filter(|&i| !p.etcd_down[i].is_empty()).collect();
        assert_eq!(down, vec![0]);
        let ready = p.write_ready(SimTime::ZERO);
        assert!(
            ready > SimTime::from_secs(1) && ready < SimTime::from_secs(2),
            "{ready:?}"
        );
        assert!(p.etcd_back(p.leader_at(ready), ready).is_none(), "a dead member leads");
    }
}
