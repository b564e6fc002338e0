//! etcd's leader elections over the scenario's network, message by message: is etcd stable at
//! these round-trip times, and how long does a write wait when its leader fails?
//!
//! # Mechanism
//!
//! Each member runs etcd 3.3's raft liveness rules (`raft/node.rs`; kubeadm for Kubernetes v1.16
//! deploys etcd 3.3.15): the leader sends a heartbeat every tick (`--heartbeat-interval`, 100 ms)
//! and a follower that hears nothing from it for its randomized election timeout (drawn in
//! `[e, 2e)` ticks, `e = --election-timeout / --heartbeat-interval`, 1000 ms / 100 ms = 10, at
//! every change of state) starts an election at the next term. etcd runs raft with
//! `CheckQuorum`, which brings two more rules: a member that heard from its leader within an
//! election timeout ignores vote requests (the leader's lease), and a leader that heard from no
//! quorum during an election timeout steps down. etcd 3.3 has no pre-vote (its server never
//! sets raft's `PreVote`; the `--pre-vote` flag came in 3.4, off by default until 3.5), so a
//! member that was cut off comes back at a higher term, answers the leader's next heartbeat
//! with it, and deposes the leader: the cluster stalls through a new election although nothing
//! failed. (Sources: `docs/sources.md` §7, "Raft liveness in etcd 3.3".)
//!
//! Members talk over rafthttp's long-lived streams (`peer.pick` puts heartbeats on the message
//! stream while it is connected), one TCP connection per direction: every
//! message crosses the scenario's route between the two masters as [`Network::one_way_at`]
//! draws it (propagation, netem's delay, jitter and loss on the tunnel directions it crosses,
//! the degradations and outages of the scenario's faults, a lost copy resent after TCP's
//! retransmission timeout), and TCP delivers in order, so a message waits for every earlier
//! one on its stream: a loss holds back the heartbeats behind it (head-of-line blocking).
//!
//! What a run reports ([`Liveness`]): elections started, leaders elected, and the time during
//! which no leader had a quorum of live members at its term, so that no write could commit.
//!
//! # Left out
//!
//! - The log: every member is as up to date as every other, so any candidate may win, and the
//!   appends of the apiservers' writes, which also reset a follower's timer, are not sent
//!   (heartbeats alone keep a follower quiet, so a loaded cluster is, if anything, steadier).
//! - TCP's fast retransmit and tail-loss probes, which can recover a loss before the timeout
//!   on a busy stream: a loss here always costs the full timeout, so counts of elections caused
//!   by loss are upper bounds.
//! - rafthttp's 5-s connection timeouts (`ConnReadTimeout`, `ConnWriteTimeout`), after which a
//!   stalled stream is dropped and messages go by the HTTP pipeline: a stream stalled that long
//!   has started an election already.
//! - A restarted member's `--initial-election-tick-advance` (only members that run throughout
//!   are simulated).
//! - A leader whose own disk or CPU delays its heartbeats (etcd's "failed to send out heartbeat
//!   on time" warning): the members' machines are not modelled here.

mod node;

use std::sync::Arc;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use sim_core::rng::{named_stream, SimRng};
use sim_core::{Component, Context, SimDuration, SimTime, Simulation};

use crate::network::{retransmission_cost, HostId, Network};
use node::{Msg, Node, Role};

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
        u32::try_from(self.election.as_nanos() / tick)
            .unwrap_or(u32::MAX)
            .max(1)
    }
}

/// How messages travel between members `from` and `to`: the one-way time of a small message
/// sent at `at` (its resends included), or `None` if it never arrives.
pub trait Links {
    /// Draws one message's flight.
    fn flight(&self, from: usize, to: usize, at: SimTime, rng: &mut SimRng) -> Option<SimDuration>;
}

/// The scenario's network between the members' hosts.
#[derive(Debug, Clone)]
pub struct NetworkLinks {
    net: Arc<Network>,
    hosts: Vec<HostId>,
}

impl NetworkLinks {
    /// Member `i` runs on `hosts[i]`.
    pub fn new(net: Arc<Network>, hosts: Vec<HostId>) -> NetworkLinks {
        NetworkLinks { net, hosts }
    }
}

impl Links for NetworkLinks {
    fn flight(&self, from: usize, to: usize, at: SimTime, rng: &mut SimRng) -> Option<SimDuration> {
        self.net
            .one_way_at(self.hosts[from], self.hosts[to], 0, at, rng)
            .filter(|d| *d != SimDuration::MAX)
    }
}

/// The same path between every two members: a one-way delay with a normal jitter (truncated at
/// zero) and a loss rate, each lost copy costing TCP a retransmission timeout
/// ([`retransmission_cost`] at twice the delay). For studies of the timers alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniformLinks {
    /// Mean one-way delay.
    pub one_way: SimDuration,
    /// Standard deviation of the jitter.
    pub jitter: SimDuration,
    /// Probability that a copy is lost.
    pub loss: f64,
}

impl Links for UniformLinks {
    fn flight(&self, _from: usize, _to: usize, _at: SimTime, rng: &mut SimRng) -> Option<SimDuration> {
        let mut d = self.one_way;
        if !self.jitter.is_zero() {
            let z: f64 = StandardNormal.sample(rng);
            d = SimDuration::from_secs_f64((d.as_secs_f64() + z * self.jitter.as_secs_f64()).max(0.0));
        }
        if self.loss >= 1.0 {
            return None;
        }
        let mut losses = 0;
        while self.loss > 0.0 && rng.random::<f64>() < self.loss {
            losses += 1;
        }
        Some(d + retransmission_cost(losses, self.one_way * 2))
    }
}

/// What a run saw.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Liveness {
    /// Simulated time.
    pub span: SimDuration,
    /// Elections started (a member's timer ran out and it asked for votes).
    pub campaigns: u64,
    /// Leaders elected.
    pub elections: u64,
    /// Times a quorum-backed leader was lost.
    pub stalls: u64,
    /// Total time without a leader backed by a quorum at its term: no write commits.
    pub stalled: SimDuration,
    /// The longest such stretch.
    pub longest_stall: SimDuration,
    /// Gaps between two heartbeats (or appends) of the same leader at a member longer than the
    /// election timeout: each can start an election, depending on the member's randomized
    /// timeout.
    pub gaps_over_timeout: u64,
    /// Such gaps longer than twice the election timeout, which outlast any randomized timeout:
    /// each starts an election whatever the draw.
    pub gaps_over_twice: u64,
    /// Elections the gaps start on average over the members' randomized timeouts: the sum over
    /// gaps of the chance that a timeout drawn uniformly in `[e, 2e)` ticks runs out within
    /// it. A member keeps its draw until its next change of state, so which gaps start an
    /// election in one run depends on a few draws; this expectation does not.
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

#[derive(Debug)]
enum Ev {
    Tick(usize),
    Deliver(Msg),
    /// Stop the member leading (the given one if none leads).
    CrashLeader(usize),
}

/// Every member, the streams between them and the counters; one component, so that the
/// counters see every member's state at once.
struct Cluster {
    nodes: Vec<Node>,
    alive: Vec<bool>,
    links: Box<dyn Links>,
    tick: SimDuration,
    /// Per member: the run has reached its steady state (below).
    warm: Vec<bool>,
    /// Members the first leader has heard from.
    heard: Vec<bool>,
    /// Per member: the last heartbeat or append it received (sender, term, when).
    last_heard: Vec<Option<(usize, u64, SimTime)>>,
    /// `--election-timeout`.
    election: SimDuration,
    /// `ElectionTick`.
    election_ticks: u32,
    /// Warm-up ends for every member here at the latest.
    warm_by: SimTime,
    /// When the last message on each directed stream is delivered (TCP keeps order).
    stream_free: Vec<Vec<SimTime>>,
    out: Vec<Msg>,
    seen: Liveness,
    stalled_since: Option<SimTime>,
    /// A leader failover trial: stop once a leader has a quorum again after the crash.
    crashed_at: Option<SimTime>,
    /// The crash left no quorum-backed leader.
    crash_stalled: bool,
    recovered_after: Option<SimDuration>,
}

impl Cluster {
    /// A leader is alive and a quorum of live members is at its term.
    fn writable(&self) -> bool {
        let quorum = self.nodes.len() / 2 + 1;
        self.nodes.iter().enumerate().any(|(l, n)| {
            self.alive[l]
                && n.role == Role::Leader
                && self
                    .nodes
                    .iter()
                    .enumerate()
                    .filter(|(j, m)| self.alive[*j] && m.term == n.term)
                    .count()
                    >= quorum
        })
    }

    fn account(&mut self, now: SimTime) {
        match (self.writable(), self.stalled_since) {
            (false, None) => {
                self.stalled_since = Some(now);
                self.seen.stalls += 1;
                self.crash_stalled |= self.crashed_at.is_some();
            }
            (true, Some(since)) => {
                self.close_stall(since, now);
                self.stalled_since = None;
            }
            _ => {}
        }
    }

    fn close_stall(&mut self, since: SimTime, now: SimTime) {
        let d = now.saturating_since(since);
        self.seen.stalled += d;
        self.seen.longest_stall = self.seen.longest_stall.max(d);
    }
}

impl Cluster {
    /// A run starts as if it had been going on: a follower's timer starts with the first
    /// heartbeat it receives (before that, in a cluster that was already running, the
    /// heartbeats sent before the run would have reached it), and the leader's quorum checks
    /// pass until it has heard from a quorum once (the answers to those heartbeats).
    fn warm_up(&mut self, m: Msg) {
        if self.warm[m.to] {
            return;
        }
        match self.nodes[m.to].role {
            Role::Leader => {
                self.heard[m.from] = true;
                let quorum = self.nodes.len() / 2 + 1;
                if self.heard.iter().filter(|h| **h).count() + 1 >= quorum {
                    self.warm[m.to] = true;
                }
            }
            _ => self.warm[m.to] = matches!(m.kind, node::Kind::Heartbeat | node::Kind::App),
        }
    }
}

impl Cluster {
    /// Counts a long gap in one leader's heartbeats at a member. Gaps across a change of
    /// leader or term are elections, not the network's doing, and are not counted.
    fn note_gap(&mut self, m: Msg, now: SimTime) {
        if !matches!(m.kind, node::Kind::Heartbeat | node::Kind::App) {
            return;
        }
        if let Some((from, term, at)) = self.last_heard[m.to] {
            if from == m.from && term == m.term {
                let gap = now.saturating_since(at);
                self.seen.gaps_over_timeout += u64::from(gap > self.election);
                self.seen.gaps_over_twice += u64::from(gap > self.election * 2);
                // The member's ticks in the gap; a draw of `k` ticks in `e..2e` runs out if
                // `k` fit.
                let e = u64::from(self.election_ticks);
                let ticks = gap.as_nanos() / self.tick.as_nanos().max(1);
                let fits = (ticks + 1).saturating_sub(e).min(e);
                self.seen.expected_campaigns += fits as f64 / e as f64;
            }
        }
        self.last_heard[m.to] = Some((m.from, m.term, now));
    }
}

impl Component<Ev> for Cluster {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        let changed = match event {
            Ev::Tick(i) => {
                if !self.alive[i] {
                    return;
                }
                ctx.send_self(self.tick, Ev::Tick(i));
                if !self.warm[i] && now >= self.warm_by {
                    self.warm[i] = true;
                }
                if !self.warm[i] {
                    if self.nodes[i].role != Role::Leader {
                        return;
                    }
                    self.nodes[i].hold_quorum();
                }
                self.nodes[i].tick(ctx.rng(), &mut self.out)
            }
            Ev::Deliver(m) => {
                if !self.alive[m.to] {
                    return;
                }
                self.warm_up(m);
                self.note_gap(m, now);
                self.nodes[m.to].step(m, ctx.rng(), &mut self.out)
            }
            Ev::CrashLeader(fallback) => {
                // Whoever leads now (the highest term, should an old leader not know yet).
                let i = (0..self.nodes.len())
                    .filter(|&j| self.alive[j] && self.nodes[j].role == Role::Leader)
                    .max_by_key(|&j| self.nodes[j].term)
                    .unwrap_or(fallback);
                self.alive[i] = false;
                self.crashed_at = Some(now);
                node::Changed::default()
            }
        };
        self.seen.campaigns += u64::from(changed.campaigned);
        self.seen.elections += u64::from(changed.elected);
        let me = ctx.me();
        for m in std::mem::take(&mut self.out) {
            if let Some(d) = self.links.flight(m.from, m.to, now, ctx.rng()) {
                let free = &mut self.stream_free[m.from][m.to];
                let at = (now + d).max(*free);
                *free = at;
                ctx.send_at(me, at, Ev::Deliver(m));
            }
        }
        self.account(now);
        if let Some(crash) = self.crashed_at {
            if self.stalled_since.is_none() && self.crash_stalled {
                self.recovered_after = Some(now.saturating_since(crash));
                ctx.stop();
            }
        }
    }
}

fn build(
    links: Box<dyn Links>,
    members: usize,
    leader: usize,
    timers: RaftTimers,
    seed: u64,
) -> (Simulation<Ev>, sim_core::ComponentId) {
    let mut setup = named_stream(seed, "raft-setup");
    let ticks = timers.election_ticks();
    let nodes: Vec<Node> = (0..members)
        .map(|i| Node::new(i, members, ticks, 1, leader, &mut setup))
        .collect();
    let cluster = Cluster {
        nodes,
        alive: vec![true; members],
        links,
        tick: timers.heartbeat.max(SimDuration::from_nanos(1)),
        warm: vec![members == 1; members],
        heard: vec![false; members],
        last_heard: vec![None; members],
        election: timers.election,
        election_ticks: timers.election_ticks(),
        // Ten election timeouts: a member no heartbeat reaches by then (a fault from the start)
        // runs its timers anyway.
        warm_by: SimTime::ZERO + timers.election * 10,
        stream_free: vec![vec![SimTime::ZERO; members]; members],
        out: Vec::new(),
        seen: Liveness::default(),
        stalled_since: None,
        crashed_at: None,
        crash_stalled: false,
        recovered_after: None,
    };
    let mut sim = Simulation::new(seed);
    let id = sim
        .add_component("raft", cluster)
        .expect("one component, no name clash");
    for i in 0..members {
        // Each member's clock ticks from its own phase.
        let phase = SimDuration::from_nanos(setup.random_range(0..timers.heartbeat.as_nanos().max(1)));
        sim.schedule(id, SimTime::ZERO + phase, Ev::Tick(i))
            .expect("in the future");
    }
    (sim, id)
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
    let (mut sim, id) = build(links, members, leader.min(members - 1), timers, seed);
    let end = SimTime::ZERO + span;
    sim.run_until(end);
    let events = sim.events_processed();
    let c = sim.component_mut::<Cluster>(id).expect("the raft component");
    if let Some(since) = c.stalled_since.take() {
        c.close_stall(since, end);
    }
    c.seen.span = span;
    c.seen.events = events;
    c.seen
}

/// The leader's member stops `crash_after` into a steady run: how long until a leader backed by
/// a quorum of the others is elected, or `None` if none is within `limit` of the crash (or no
/// quorum is left).
pub fn leader_failover(
    links: Box<dyn Links>,
    members: usize,
    leader: usize,
    timers: RaftTimers,
    crash_after: SimDuration,
    limit: SimDuration,
    seed: u64,
) -> Option<SimDuration> {
    if members < 2 {
        return None;
    }
    let leader = leader.min(members - 1);
    let (mut sim, id) = build(links, members, leader, timers, seed);
    let crash = SimTime::ZERO + crash_after;
    sim.schedule(id, crash, Ev::CrashLeader(leader)).expect("in the future");
    sim.run_until(crash + limit);
    let c = sim.component::<Cluster>(id).expect("the raft component");
    c.recovered_after
}
