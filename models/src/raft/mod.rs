//! etcd's leader elections over the scenario's network, message by message: is etcd stable at
//! these round-trip times, and how long does a write wait when its leader fails?
//!
//! # Mechanism
//!
//! Each member runs etcd 3.3's raft liveness rules (`raft/node.rs`; kubeadm for Kubernetes v1.16
//! deploys etcd 3.3.15): the leader sends a heartbeat every tick (`--heartbeat-interval`, 100 ms)
//! and a follower that hears nothing from it for its randomized election timeout (drawn from
//! `e..2e` ticks, `e = --election-timeout / --heartbeat-interval`, 1000 ms / 100 ms = 10, at
//! every change of state) starts an election at the next term. etcd runs raft with
//! `CheckQuorum`, which brings two more rules: a member that heard from its leader within an
//! election timeout ignores vote requests (the leader's lease), and a leader that heard from no
//! quorum during an election timeout steps down (a new leader, which starts with every follower
//! inactive, included). Votes go only to candidates whose log is as up to date as the voter's;
//! of the log the model keeps the last entry, a leader's growing with the clock. etcd 3.3 has no pre-vote (its server never
//! sets raft's `PreVote`; the `--pre-vote` flag came in 3.4, off by default until 3.5), so a
//! member that was cut off comes back at a higher term, answers the leader's next heartbeat
//! with it, and deposes the leader: the cluster stalls through a new election although nothing
//! failed. (Sources: `docs/sources.md` §7, "Raft liveness in etcd 3.3".)
//!
//! Members talk over rafthttp's long-lived streams (`peer.pick` puts heartbeats on the message
//! stream while it is connected), one TCP connection per direction: every
//! message crosses the scenario's route between the two masters as [`Network::one_way_at`]
//! draws it (propagation, netem's delay, jitter and loss on the tunnel directions it crosses,
//! the degradations and outages of the scenario's network faults, a lost copy resent after TCP's
//! retransmission timeout), and TCP delivers in order, so a message waits for every earlier
//! one on its stream: a loss holds back the heartbeats behind it (head-of-line blocking).
//!
//! In a run of the model ([`Leadership`]) members also stop and start again with their masters
//! (a restart keeps the term, vote and log on disk and advances the election ticks as etcd's
//! server does), and `crash-etcd-leader` stops whoever leads.
//!
//! What a steady-state run reports ([`Liveness`]): elections started, leaders elected, the gaps in the
//! leader's heartbeats that can start elections, and the time during which no leader had heard
//! from a quorum at its term within an election timeout, so that no write could commit.
//!
//! # Left out
//!
//! - The log's contents: the apiservers are taken to write continually, so a leader's last entry
//!   is the time, and a follower's is the leader's when it sent its last heartbeat. The appends
//!   themselves, which also reset a follower's timer, are not sent (heartbeats alone keep a
//!   follower quiet, so a loaded cluster is, if anything, steadier).
//! - TCP's fast retransmit and tail-loss probes, which can recover a loss before the timeout
//!   on a busy stream: a loss here always costs the full timeout, so counts of elections caused
//!   by loss are upper bounds.
//! - Of rafthttp's connection handling, all but the stream's 5-s read deadline and a new
//!   connection's handshake after it ([`NetworkLinks`]): the pipeline's own timeouts, the
//!   peer's re-dial of its stream (messages go by the pipeline meanwhile, at the same speed
//!   here), `ConnWriteTimeout` (heartbeats are too small to fill a socket's buffer).
//! - A leader whose own disk or CPU delays its heartbeats (etcd's "failed to send out heartbeat
//!   on time" warning): the members' machines are not modelled here.
//!
//! # Layout
//!
//! Here: the timers, and the studies of a cluster in steady state ([`steady_state`],
//! [`leader_failover`]). `links.rs`: how messages travel between members ([`Links`]);
//! `node.rs`: one member's raft rules; `cluster.rs`: the members, the streams between them and
//! the counters, as one simulation component; `leadership.rs`: the same simulation as a run of
//! the model asks it ([`Leadership`]).
//!
//! [`Network::one_way_at`]: crate::network::Network::one_way_at

mod cluster;
mod leadership;
mod links;
mod node;

use sim_core::{SimDuration, SimTime};

use cluster::{build, Cluster};
pub use leadership::{Leadership, Outages, SETTLE};
pub use links::{Links, NetworkLinks, UniformLinks};

/// etcd's timers (`--heartbeat-interval`, `--election-timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftTimers {
    /// `--heartbeat-interval`: the raft tick, and the leader's heartbeat period.
    pub heartbeat: SimDuration,
    /// `--election-timeout`.
    pub election: SimDuration,
}

impl RaftTimers {
    /// `ElectionTick`: etcd divides the election timeout by the tick in whole milliseconds
    /// (`int(cfg.ElectionMs / cfg.TickMs)`); at least 1.
    pub fn election_ticks(&self) -> u32 {
        let tick = self.heartbeat.as_nanos().max(1);
        // Capped so that a randomized timeout, up to twice this, fits a `u32` (etcd's own
        // bound, `maxElectionMs = 50000` over a 1-ms tick, is far below).
        u32::try_from(self.election.as_nanos() / tick)
            .map_or(1 << 30, |e| e.min(1 << 30))
            .max(1)
    }
}

/// What a run saw.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Liveness {
    /// Simulated time (shorter than asked only if the event queue overflowed, which etcd's
    /// timers, at least 1 ms, cannot cause).
    pub span: SimDuration,
    /// Elections started (a member's timer ran out and it asked for votes).
    pub campaigns: u64,
    /// Leaders elected.
    pub elections: u64,
    /// Times a quorum-backed leader was lost.
    pub stalls: u64,
    /// Total time during which no write could commit: no leader, or none that a quorum at its
    /// term had answered within the last election timeout. A stretch counts from the quorum's
    /// last answer, so a leader cut off stalls writes from its last heartbeat round.
    pub stalled: SimDuration,
    /// The longest such stretch.
    pub longest_stall: SimDuration,
    /// Gaps between two heartbeats (or appends) of the same leader at a follower long enough to
    /// start an election with some randomized timeout: more than `e - 1` ticks (`e` =
    /// `ElectionTick`; a follower counts its own ticks, which fall anywhere in the first tick
    /// after a heartbeat). A gap still open at the end of the run (a member cut off for good)
    /// is not counted: it deposes nobody.
    pub gaps_may_elect: u64,
    /// Such gaps of at least `2e - 1` ticks, the longest randomized timeout (1.9 s at etcd's
    /// defaults): each starts an election whatever the draw.
    pub gaps_must_elect: u64,
    /// Elections the gaps start on average over fresh randomized timeouts: the sum over gaps of
    /// the chance that a timeout drawn uniformly from `e..2e` ticks runs out within the gap, at
    /// a uniform tick phase. A member keeps its draw until its next change of state, so which
    /// gaps start an election in one run depends on a few draws; this expectation does not.
    pub expected_campaigns: f64,
    /// Events the engine handled (ticks and deliveries).
    pub events: u64,
}

impl Liveness {
    /// `count` per simulated hour.
    pub fn per_hour(&self, count: u64) -> f64 {
        let h = self.span.as_secs_f64() / 3600.0;
        if h > 0.0 {
            count as f64 / h
        } else {
            0.0
        }
    }
}

/// `members` members (raft `leader` leading at the start, every follower in its lease) run for
/// `span`: what the links' delays, jitter, loss and faults make of the leadership.
pub fn steady_state(
    links: Box<dyn Links>,
    members: usize,
    leader: usize,
    timers: RaftTimers,
    span: SimDuration,
    seed: u64,
) -> Liveness {
    if members == 0 {
        return Liveness::default();
    }
    let (mut sim, id) = build(links, members, leader.min(members - 1), timers, seed, SimTime::ZERO);
    sim.run_until(SimTime::ZERO + span);
    // An overflowed queue stops the run early; what it saw up to then is still a result.
    let end = sim.now();
    let events = sim.events_processed();
    let c = sim.component_mut::<Cluster>(id).expect("the raft component");
    if let Some(since) = c.stalled_since.take() {
        c.close_stall(since, end);
    }
    c.seen.span = end.saturating_since(SimTime::ZERO);
    c.seen.events = events;
    c.seen
}

/// How a failover trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failover {
    /// Writes commit again this long after the crash.
    Replaced(SimDuration),
    /// The leader crashed, and writes did not commit again within the limit.
    NotReplaced,
    /// Writes never committed after the crash was due, so there was no leader to crash: the
    /// cluster was already without one.
    NoLeaderToCrash,
}

impl Failover {
    /// The failover time, if there was one.
    pub fn replaced(self) -> Option<SimDuration> {
        match self {
            Failover::Replaced(d) => Some(d),
            _ => None,
        }
    }
}

/// The leader's member stops at the first moment writes commit `crash_after` into a steady run:
/// how long until writes commit again (a new leader answered by a quorum of the others), or
/// why there is no such time: not within `limit` of the crash, the others no quorum, or no
/// leader committing writes to crash.
pub fn leader_failover(
    links: Box<dyn Links>,
    members: usize,
    leader: usize,
    timers: RaftTimers,
    crash_after: SimDuration,
    limit: SimDuration,
    seed: u64,
) -> Failover {
    if members < 2 || members - 1 < members / 2 + 1 {
        return Failover::NotReplaced;
    }
    let leader = leader.min(members - 1);
    let (mut sim, id) = build(links, members, leader, timers, seed, SimTime::ZERO);
    let crash = SimTime::ZERO + crash_after;
    sim.component_mut::<Cluster>(id).expect("the raft component").crash_due = Some(crash);
    sim.run_until(crash + limit);
    let c = sim.component::<Cluster>(id).expect("the raft component");
    match (c.recovered_after, c.crashed_at) {
        (Some(d), _) => Failover::Replaced(d),
        (None, Some(_)) => Failover::NotReplaced,
        (None, None) => Failover::NoLeaderToCrash,
    }
}
