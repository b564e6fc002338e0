//! etcd's leadership through one run of the model ([`Leadership`]): the raft cluster simulated
//! as far as the run's questions need, with the members' processes stopped and started as the
//! run's faults say ([`Outages`]).

use sim_core::{SimDuration, SimTime, Simulation};

use super::cluster::{build, Cluster, Ev};
use super::{Links, RaftTimers};

/// When members' processes are down during a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outages {
    /// Per member: windows `[from, until)` when its process is stopped (its master crashed);
    /// `until` [`SimTime::MAX`] for never repaired.
    pub members: Vec<Vec<(SimTime, SimTime)>>,
    /// `crash-etcd-leader` windows: whoever leads at `from` stops until `until`.
    pub leader_crashes: Vec<(SimTime, SimTime)>,
    /// `Some((first, last))` when the links are steady but for the run's faults (no jitter, no
    /// loss): the earliest and the latest instant at which a fault begins or ends. Nothing can
    /// change who leads before the first, nor, once a leader holds its quorum, after the last,
    /// so the simulation starts shortly before the first and stops once settled after the last
    /// ([`SETTLE`] election timeouts each side). `None`: simulate the whole run.
    pub faults_between: Option<(SimTime, SimTime)>,
}

/// Election timeouts simulated before a run's first fault and after its last one before the
/// cluster counts as settled: the warm-up, held messages resent after a repair, a restarted
/// member's tick advance (5 s at most) and an election or two fit well within ten.
pub const SETTLE: u32 = 10;

/// etcd's leadership through one run of the scenario, simulated message by message as far as
/// the run asks: when writes can commit, and which member leads them. The run asks in time
/// order; each question simulates ahead by an election timeout and two ticks, because a
/// stretch without writes is only known for one when the leader's quorum check could first
/// fail ([`Liveness::stalled`] counts it from the quorum's last answer).
///
/// [`Liveness::stalled`]: super::Liveness::stalled
pub struct Leadership {
    sim: Simulation<Ev>,
    id: sim_core::ComponentId,
    lookahead: SimDuration,
    horizon: SimTime,
    /// When to check whether the cluster has settled after the last fault, if ever.
    settle_check: Option<SimTime>,
    /// [`SETTLE`] election timeouts.
    settle: SimDuration,
    /// Settled: a leader holds its quorum and nothing can change any more.
    settled: bool,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("now", &self.sim.now())
            .field("horizon", &self.horizon)
            .finish_non_exhaustive()
    }
}

impl Leadership {
    /// `members` members, `leader` leading at the start (as [`steady_state`] starts), with the
    /// processes stopped as `outages` says; nothing is simulated past `horizon`.
    ///
    /// [`steady_state`]: super::steady_state
    pub fn new(
        links: Box<dyn Links>,
        members: usize,
        leader: usize,
        timers: RaftTimers,
        outages: &Outages,
        horizon: SimTime,
        seed: u64,
    ) -> Leadership {
        let members = members.max(1);
        let settle = timers.election * u64::from(SETTLE);
        let origin = outages
            .faults_between
            .map_or(SimTime::ZERO, |(first, _)| first - settle);
        let (mut sim, id) = build(links, members, leader.min(members - 1), timers, seed, origin);
        for (i, windows) in outages.members.iter().enumerate().take(members) {
            for &(from, until) in windows {
                // A window's stop and start are scheduled in time order with the others;
                // an outage from time zero stops the member before its first tick.
                let _ = sim.schedule(id, from, Ev::Stop(i));
                if until != SimTime::MAX {
                    let _ = sim.schedule(id, until, Ev::Start(i));
                }
            }
        }
        for &(from, until) in &outages.leader_crashes {
            let _ = sim.schedule(id, from, Ev::CrashLeader(until));
        }
        let tick = timers.heartbeat.max(SimDuration::from_nanos(1));
        Leadership {
            sim,
            id,
            lookahead: timers.election + tick * 2,
            horizon,
            settle_check: outages.faults_between.map(|(_, last)| last + settle),
            settle,
            settled: false,
        }
    }

    fn cluster(&self) -> &Cluster {
        self.sim.component::<Cluster>(self.id).expect("the raft component")
    }

    /// Where the simulation ends: the horizon, and a lookahead past it, so that a stall begun
    /// before the horizon is known.
    fn end(&self) -> SimTime {
        self.horizon + self.lookahead
    }

    /// Simulates up to `to` (at most [`Leadership::end`]), unless the cluster has settled.
    fn advance(&mut self, to: SimTime) {
        let to = to.min(self.end());
        loop {
            // `<`, not `<=`: events due at the clock's own time (a fault at 0 s, before anything ran)
            // must run before a question about that instant is answered.
            if self.settled || to < self.sim.now() {
                return;
            }
            match self.settle_check {
                Some(check) if check <= to => {
                    if self.sim.now() < check {
                        self.sim.run_until(check);
                    }
                    if self.cluster().stalled_since.is_none() {
                        self.settled = true;
                        return;
                    }
                    // Writes still stalled: look again later.
                    self.settle_check = Some(check + self.settle);
                }
                _ => {
                    self.sim.run_until(to);
                    return;
                }
            }
        }
    }

    /// The first instant at or after `t` when a write can commit: `t` itself unless a stretch
    /// without writes covers it; [`SimTime::MAX`] if none comes before the horizon.
    pub fn write_ready(&mut self, t: SimTime) -> SimTime {
        let mut t = t;
        loop {
            self.advance(t + self.lookahead);
            let c = self.cluster();
            if let Some((_, end)) = crate::faults::covering(&c.stall_log, t) {
                t = end;
                continue;
            }
            match c.stalled_since {
                Some(since) if since <= t => {
                    if self.sim.now() >= self.end() || self.sim.overflowed() {
                        return SimTime::MAX;
                    }
                    // Simulate on until the stretch ends (the next pass finds it closed).
                    let next = self.sim.now() + self.lookahead;
                    self.advance(next);
                }
                _ => return t,
            }
        }
    }

    /// The member leading at `t` (the last elected by then).
    pub fn leader_at(&mut self, t: SimTime) -> usize {
        self.advance(t + self.lookahead);
        let c = self.cluster();
        c.leaders.iter().rev().find(|l| l.0 <= t).map_or(0, |l| l.1)
    }

    /// The `crash-etcd-leader` faults up to `by`: (from, until, the member it stopped, if one
    /// led then).
    pub fn crashed_leaders(&mut self, by: SimTime) -> Vec<(SimTime, SimTime, Option<usize>)> {
        self.advance(by);
        self.cluster().crashed_leaders.clone()
    }

    /// The stretches without writes that began by `by`, in time order, as far as they are
    /// known a lookahead past `by`; one still under way then ends at [`SimTime::MAX`] (the
    /// caller cuts the stretches at its own end).
    pub fn stalls(&mut self, by: SimTime) -> Vec<(SimTime, SimTime)> {
        self.advance(by + self.lookahead);
        let c = self.cluster();
        let mut v: Vec<(SimTime, SimTime)> = c.stall_log.iter().copied().filter(|w| w.0 <= by).collect();
        if let Some(since) = c.stalled_since.filter(|s| *s <= by) {
            v.push((since, SimTime::MAX));
        }
        v
    }

    /// Events simulated so far (ticks and deliveries): what the run's questions cost.
    pub fn events(&self) -> u64 {
        self.sim.events_processed()
    }

    /// Leaders elected after the first, up to `by` (later questions may have simulated further:
    /// what they saw is not counted).
    pub fn elections(&mut self, by: SimTime) -> u64 {
        self.advance(by);
        let c = self.cluster();
        c.leaders.iter().filter(|l| l.0 > SimTime::ZERO && l.0 <= by).count() as u64
    }
}
