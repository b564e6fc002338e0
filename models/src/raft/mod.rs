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
        // Capped so that a randomized timeout, up to twice this, fits a `u32` (etcd's own
        // bound, `maxElectionMs = 50000` over a 1-ms tick, is far below).
        u32::try_from(self.election.as_nanos() / tick)
            .map_or(1 << 30, |e| e.min(1 << 30))
            .max(1)
    }
}

/// How messages travel between members `from` and `to`: the one-way time of a small message
/// sent at `at` (its resends included), or `None` if it never arrives.
pub trait Links {
    /// Draws one message's flight.
    fn flight(&self, from: usize, to: usize, at: SimTime, rng: &mut SimRng) -> Option<SimDuration>;

    /// The flight of a message that is neither late nor lost (no jitter, no loss, no fault),
    /// if these links know it: bounds the warm-up of a run ([`steady_state`]).
    fn mean_flight(&self, _from: usize, _to: usize) -> Option<SimDuration> {
        None
    }
}

/// Round trips to open a connection between members: TCP's handshake, then TLS 1.2's full
/// handshake (two). kubeadm's etcd talks to its peers over https (`--peer-cert-file`,
/// `--peer-client-cert-auth`), and etcd 3.3.15 is built with Go 1.12.9 (etcd CHANGELOG-3.3),
/// whose TLS 1.3 is opt-in only (Go 1.12 release notes), so TLS 1.2 it is.
const CONNECT_ROUND_TRIPS: u32 = 3;

/// rafthttp's read deadline on a peer's stream (`ConnReadTimeout`, 5 s; etcd 3.3
/// `rafthttp/peer.go`): a stream that delivers nothing for this long is closed.
const CONN_READ_TIMEOUT: SimDuration = SimDuration::from_secs(5);

/// The scenario's network between the members' hosts, as rafthttp uses it. A message crosses
/// the route as `run` draws it; through an outage of its route, TCP holds it and resends it
/// after the repair, unless that comes after the stream's 5-s read deadline
/// (`ConnReadTimeout`): etcd then closes the stream, what it held is lost (raft resends
/// nothing, its next heartbeats replace it), and after the repair the next messages go on a new
/// connection (the pipeline's, until the peer dials a new stream), three round trips for TCP's
/// and TLS 1.2's handshakes before they leave.
#[derive(Debug, Clone)]
pub struct NetworkLinks {
    net: Arc<Network>,
    hosts: Vec<HostId>,
    /// `down[i][j]`: the windows when the route between members `i` and `j` carries nothing.
    down: Vec<Vec<Vec<(SimTime, SimTime)>>>,
}

impl NetworkLinks {
    /// Member `i` runs on `hosts[i]`.
    pub fn new(net: Arc<Network>, hosts: Vec<HostId>) -> NetworkLinks {
        let down = hosts
            .iter()
            .map(|&a| hosts.iter().map(|&b| net.route_down_windows(a, b)).collect())
            .collect();
        NetworkLinks { net, hosts, down }
    }

    /// Whether an outage `(s, e)` outlasts the stream: TCP's first resend after the repair
    /// comes after the read deadline of a stream last read at `s`.
    fn breaks_stream(s: SimTime, e: SimTime) -> bool {
        e == SimTime::MAX || crate::faults::next_retransmission(s, e) > s + CONN_READ_TIMEOUT
    }
}

impl Links for NetworkLinks {
    fn flight(&self, from: usize, to: usize, at: SimTime, rng: &mut SimRng) -> Option<SimDuration> {
        let (a, b) = (self.hosts[from], self.hosts[to]);
        let windows = &self.down[from][to];
        if let Some((s, e)) = crate::faults::covering(windows, at) {
            // Held by TCP: it arrives only if the stream outlives the outage.
            return self
                .net
                .one_way_at(a, b, 0, at, rng)
                .filter(|_| !Self::breaks_stream(s, e))
                .filter(|d| *d != SimDuration::MAX);
        }
        let d = self
            .net
            .one_way_at(a, b, 0, at, rng)
            .filter(|d| *d != SimDuration::MAX)?;
        // Just after an outage that closed the stream: a new connection first.
        match windows.iter().rev().find(|w| w.1 <= at) {
            Some(&(s, e)) if Self::breaks_stream(s, e) => {
                let rtt = self.net.base_one_way(a, b)? + self.net.base_one_way(b, a)?;
                let connected = e + rtt * u64::from(CONNECT_ROUND_TRIPS);
                Some(if at < connected { (connected - at) + d } else { d })
            }
            _ => Some(d),
        }
    }

    fn mean_flight(&self, from: usize, to: usize) -> Option<SimDuration> {
        self.net.base_one_way(self.hosts[from], self.hosts[to])
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
        // Linux's timeout is the smoothed RTT plus max(4 x mean deviation, 200 ms); a normal
        // jitter of σ each way gives the round trip a mean deviation of about 0.8 x √2 σ.
        let deviation = (4.0 * 0.8 * std::f64::consts::SQRT_2 * self.jitter.as_secs_f64() - 0.2).max(0.0);
        let srtt = self.one_way * 2 + SimDuration::from_secs_f64(deviation);
        Some(d + retransmission_cost(losses, srtt))
    }

    fn mean_flight(&self, _from: usize, _to: usize) -> Option<SimDuration> {
        Some(self.one_way)
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

#[derive(Debug)]
enum Ev {
    /// Member `.0`'s clock, in its process's life `.1` (a restarted process ticks afresh).
    Tick(usize, u32),
    /// A message, to the receiver's process life `.1` (a restart loses the connection and what
    /// was on its way).
    Deliver(Msg, u32),
    /// Member `.0`'s process stops (a crash).
    Stop(usize),
    /// Member `.0`'s process starts again.
    Start(usize),
    /// `crash-etcd-leader`: the member leading now stops until `.0`.
    CrashLeader(SimTime),
    /// `--initial-election-tick-advance` for member `.0` in its process life `.1`.
    Advance(usize, u32),
}

/// How often etcd's server checks, after a start, whether its peers' connections are up
/// before it advances the election ticks (`adjustTicks`: every 50 ms, for at most
/// rafthttp's `ConnReadTimeout`, 5 s; etcd 3.3 `etcdserver/server.go`).
const ADVANCE_POLL: SimDuration = SimDuration::from_millis(50);
/// See [`ADVANCE_POLL`].
const ADVANCE_WAIT: SimDuration = SimDuration::from_secs(5);

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
    /// `acked[l][j]`: when member `l`, leading, last had an answer from member `j` at its term.
    acked: Vec<Vec<SimTime>>,
    /// When the last stall ended (a new one cannot start before).
    last_stall_end: SimTime,
    /// The quorum's last answer while writes could commit: where the next stall starts.
    last_ok_answer: SimTime,
    /// Scratch space of `quorum_heard_at`.
    scratch: Vec<SimTime>,
    /// Per member: its warm-up ends here at the latest (when the heartbeats or answers already
    /// under way when the run starts would have arrived; at once for a member they cannot reach).
    warm_by: Vec<SimTime>,
    /// When the last message on each directed stream is delivered (TCP keeps order).
    stream_free: Vec<Vec<SimTime>>,
    out: Vec<Msg>,
    seen: Liveness,
    stalled_since: Option<SimTime>,
    /// A leader failover trial: when to crash the leader (the first moment after it that
    /// writes commit), and when it was crashed; stop once writes commit again.
    crash_due: Option<SimTime>,
    crashed_at: Option<SimTime>,
    /// The crash left no quorum-backed leader.
    crash_stalled: bool,
    recovered_after: Option<SimDuration>,
    /// When a member last stopped while writes committed (a stall it opens starts then).
    stopped_at: Option<SimTime>,
    /// Per member: its process's life (bumped at every stop), and how many outages hold it
    /// down now.
    life: Vec<u32>,
    down: Vec<u32>,
    /// Leaders elected: (when, member), the first leader at time zero.
    leaders: Vec<(SimTime, usize)>,
    /// Stretches without writes that have ended, in time order.
    stall_log: Vec<(SimTime, SimTime)>,
    /// `crash-etcd-leader` faults met: (from, until, the member stopped, if one led).
    crashed_leaders: Vec<(SimTime, SimTime, Option<usize>)>,
}

impl Cluster {
    /// Since when a write could commit last: the latest, over live leaders, of the quorum's
    /// last answer (the `quorum`-th latest among the leader itself, now, and the live members
    /// at its term); `None` if no member leads. A leader still warming up holds its quorum.
    fn quorum_heard_at(&mut self, now: SimTime) -> Option<SimTime> {
        let quorum = self.nodes.len() / 2 + 1;
        let mut best: Option<SimTime> = None;
        for (l, n) in self.nodes.iter().enumerate() {
            if !self.alive[l] || n.role != Role::Leader {
                continue;
            }
            if !self.warm[l] {
                return Some(now);
            }
            // Every event asks this: a buffer kept between calls, no allocation.
            let heard = &mut self.scratch;
            heard.clear();
            heard.push(now);
            heard.extend(
                (0..self.nodes.len())
                    .filter(|&j| j != l && self.alive[j] && self.nodes[j].term == n.term)
                    .map(|j| self.acked[l][j]),
            );
            heard.sort_unstable_by(|a, b| b.cmp(a));
            if let Some(&q) = heard.get(quorum - 1) {
                best = best.max(Some(q));
            }
        }
        best
    }

    /// Writes commit: a leader's quorum answered it within the last election timeout.
    fn writable(&mut self, now: SimTime) -> bool {
        self.quorum_heard_at(now)
            .is_some_and(|q| now.saturating_since(q) <= self.election)
    }

    fn account(&mut self, now: SimTime) {
        let heard = self.quorum_heard_at(now);
        let ok = heard.is_some_and(|q| now.saturating_since(q) <= self.election);
        if ok {
            self.last_ok_answer = heard.unwrap_or(now);
        }
        match (ok, self.stalled_since) {
            (false, None) => {
                // From the quorum's last answer while writes committed: a leader cut off, or
                // one whose followers moved on to a new term, stopped committing then. A
                // member stopped just now was answering until now.
                let since = match self.stopped_at {
                    Some(t) if t == now => now,
                    _ => self.last_ok_answer,
                }
                .max(self.last_stall_end);
                self.stalled_since = Some(since);
                self.seen.stalls += 1;
                self.crash_stalled |= self.crashed_at.is_some();
            }
            (true, Some(since)) => {
                self.close_stall(since, now);
                self.stalled_since = None;
                self.last_stall_end = now;
            }
            _ => {}
        }
    }

    fn close_stall(&mut self, since: SimTime, now: SimTime) {
        // A stretch that begins as the last one ended continues it.
        match self.stall_log.last_mut() {
            Some(last) if last.1 >= since => last.1 = last.1.max(now),
            _ => self.stall_log.push((since, now)),
        }
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
                self.count_gap(now.saturating_since(at));
            }
        }
        self.last_heard[m.to] = Some((m.from, m.term, now));
    }

    /// Counts one gap in a leader's heartbeats at a follower. Of a gap of `x` ticks, a follower
    /// at a uniform phase counts `floor(x + u)` ticks, `u` uniform in `[0, 1)`, so a draw of
    /// `k` ticks runs out with probability `clamp(x - k + 1, 0, 1)`.
    fn count_gap(&mut self, gap: SimDuration) {
        let e = f64::from(self.election_ticks);
        let x = gap.as_nanos() as f64 / self.tick.as_nanos().max(1) as f64;
        if x <= e - 1.0 {
            return;
        }
        self.seen.gaps_may_elect += 1;
        self.seen.gaps_must_elect += u64::from(x >= 2.0 * e - 1.0);
        let e = self.election_ticks;
        let chance: f64 = (e..2 * e).map(|k| (x - f64::from(k) + 1.0).clamp(0.0, 1.0)).sum();
        self.seen.expected_campaigns += chance / f64::from(e);
    }
}

impl Cluster {
    /// A failover trial's crash: once it is due, at the first moment writes commit, the member
    /// leading them stops.
    fn crash_if_due(&mut self, now: SimTime) {
        let Some(due) = self.crash_due else {
            return;
        };
        if now < due || self.stalled_since.is_some() || !self.writable(now) {
            return;
        }
        let leader = (0..self.nodes.len())
            .filter(|&j| self.alive[j] && self.nodes[j].role == Role::Leader)
            .max_by_key(|&j| self.nodes[j].term);
        if let Some(l) = leader {
            self.alive[l] = false;
            self.crash_due = None;
            self.crashed_at = Some(now);
        }
    }
}

impl Cluster {
    /// Member `i`'s process stops: it neither ticks nor hears; what it had sent still arrives.
    /// If writes committed until now, a stall it causes (the leader gone, or its quorum) starts
    /// now, not at the quorum's last answer: the members were answering until they stopped.
    fn stop(&mut self, i: usize, now: SimTime) {
        self.down[i] += 1;
        if self.alive[i] && self.stalled_since.is_none() && self.writable(now) {
            self.stopped_at = Some(now);
        }
        if self.alive[i] {
            self.alive[i] = false;
            self.life[i] += 1;
        }
    }

    /// Member `i`'s process starts again once no outage holds it down: a follower at its
    /// persisted term, vote and log ([`Node::restart`]), its clock ticking from now, on new
    /// connections (nothing of the old streams is waited for), and, as etcd's server does with
    /// `--initial-election-tick-advance` (on by default), its election ticks advanced by
    /// `ElectionTick - 2` once connections to two peers are up (`ActivePeers() > 1`, checked
    /// every 50 ms for 5 s; etcd 3.3 `adjustTicks`). A connection is up when TCP's and TLS's
    /// handshakes ([`CONNECT_ROUND_TRIPS`]) and the stream's HTTP request have been answered:
    /// four round trips, drawn now. A member alone (a one-member cluster) advances by
    /// `ElectionTick - 1` at once, as `adjustTicks` does for a single node.
    fn start(&mut self, i: usize, now: SimTime, ctx: &mut Context<'_, Ev>) {
        self.down[i] = self.down[i].saturating_sub(1);
        if self.down[i] > 0 || self.alive[i] {
            return;
        }
        self.alive[i] = true;
        self.warm[i] = true;
        self.last_heard[i] = None;
        self.nodes[i].restart(ctx.rng());
        for j in 0..self.nodes.len() {
            self.stream_free[i][j] = now;
            self.stream_free[j][i] = now;
        }
        let life = self.life[i];
        ctx.send_self(self.tick, Ev::Tick(i, life));
        let mut up: Vec<SimDuration> = Vec::new();
        for j in (0..self.nodes.len()).filter(|&j| j != i && self.alive[j]) {
            let mut rt = Some(SimDuration::ZERO);
            for _ in 0..CONNECT_ROUND_TRIPS + 1 {
                let there = self.links.flight(i, j, now, ctx.rng());
                let back = self.links.flight(j, i, now, ctx.rng());
                rt = match (rt, there, back) {
                    (Some(t), Some(a), Some(b)) => Some(t + a + b),
                    _ => None,
                };
            }
            up.extend(rt);
        }
        up.sort_unstable();
        if self.nodes.len() == 1 {
            // A single member advances at once, without waiting for peers.
            ctx.send_self(SimDuration::ZERO, Ev::Advance(i, life));
        } else if let Some(&second) = up.get(1) {
            let polls = second.as_nanos().div_ceil(ADVANCE_POLL.as_nanos()).max(1);
            let at = ADVANCE_POLL * polls;
            if at <= ADVANCE_WAIT {
                ctx.send_self(at, Ev::Advance(i, life));
            }
        }
    }

    /// `crash-etcd-leader`: the member leading now (of the highest term, if a stale leader
    /// still thinks it leads) stops until `until`; nobody if no member leads (an election
    /// under way, or a leader that stepped down for want of a quorum).
    fn crash_leader(&mut self, now: SimTime, until: SimTime, ctx: &mut Context<'_, Ev>) {
        let leader = (0..self.nodes.len())
            .filter(|&j| self.alive[j] && self.nodes[j].role == Role::Leader)
            .max_by_key(|&j| self.nodes[j].term);
        self.crashed_leaders.push((now, until, leader));
        if let Some(l) = leader {
            self.stop(l, now);
            if until != SimTime::MAX {
                ctx.send_self(until.saturating_since(now), Ev::Start(l));
            }
        }
    }
}

impl Component<Ev> for Cluster {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        let actor = match &event {
            Ev::Tick(i, _) | Ev::Advance(i, _) | Ev::Stop(i) | Ev::Start(i) => *i,
            Ev::Deliver(m, _) => m.to,
            Ev::CrashLeader(_) => 0,
        };
        let changed = match event {
            Ev::Stop(i) => {
                self.stop(i, now);
                node::Changed::default()
            }
            Ev::Start(i) => {
                self.start(i, now, ctx);
                node::Changed::default()
            }
            Ev::CrashLeader(until) => {
                self.crash_leader(now, until, ctx);
                node::Changed::default()
            }
            Ev::Advance(i, life) => {
                if !self.alive[i] || life != self.life[i] {
                    return;
                }
                // A member alone advances all but one tick (`clusterN == 1` in `adjustTicks`).
                let keep = if self.nodes.len() == 1 { 1 } else { 2 };
                let ticks = self.election_ticks.saturating_sub(keep);
                self.nodes[i].advance_ticks(ticks, now.as_nanos(), ctx.rng(), &mut self.out)
            }
            Ev::Tick(i, life) => {
                if !self.alive[i] || life != self.life[i] {
                    return;
                }
                ctx.send_self(self.tick, Ev::Tick(i, life));
                if !self.warm[i] && now >= self.warm_by[i] {
                    self.warm[i] = true;
                }
                if !self.warm[i] {
                    if self.nodes[i].role != Role::Leader {
                        return;
                    }
                    self.nodes[i].hold_quorum();
                }
                self.nodes[i].tick(now.as_nanos(), ctx.rng(), &mut self.out)
            }
            Ev::Deliver(m, life) => {
                if !self.alive[m.to] || life != self.life[m.to] {
                    return;
                }
                self.warm_up(m);
                self.note_gap(m, now);
                let to = &self.nodes[m.to];
                if to.role == Role::Leader
                    && m.term == to.term
                    && matches!(m.kind, node::Kind::HeartbeatResp | node::Kind::AppResp)
                {
                    self.acked[m.to][m.from] = now;
                }
                self.nodes[m.to].step(now.as_nanos(), m, ctx.rng(), &mut self.out)
            }
        };
        if changed.elected {
            // A new leader has heard from nobody yet in its term.
            self.acked[actor].fill(SimTime::ZERO);
            self.leaders.push((now, actor));
        }
        self.seen.campaigns += u64::from(changed.campaigned);
        self.seen.elections += u64::from(changed.elected);
        self.crash_if_due(now);
        let me = ctx.me();
        for m in std::mem::take(&mut self.out) {
            // A member whose process is down takes no connection: what is sent to it is lost.
            if !self.alive[m.to] {
                continue;
            }
            if let Some(d) = self.links.flight(m.from, m.to, now, ctx.rng()) {
                let free = &mut self.stream_free[m.from][m.to];
                let at = (now + d).max(*free);
                *free = at;
                let life = self.life[m.to];
                ctx.send_at(me, at, Ev::Deliver(m, life));
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

/// The cluster of `members` members, `leader` leading, running as if it had been from `origin`
/// on (nothing happens before it: the first ticks and the warm-up start there).
fn build(
    links: Box<dyn Links>,
    members: usize,
    leader: usize,
    timers: RaftTimers,
    seed: u64,
    origin: SimTime,
) -> (Simulation<Ev>, sim_core::ComponentId) {
    let mut setup = named_stream(seed, "raft-setup");
    let ticks = timers.election_ticks();
    let nodes: Vec<Node> = (0..members)
        .map(|i| Node::new(i, members, ticks, 1, leader, &mut setup))
        .collect();
    // How long the heartbeats already under way at the start take to each follower (one draw
    // each), and their answers back to the leader: until then, a member of a running cluster
    // would not have noticed anything. A follower the leader cannot reach at the start (a
    // fault from time zero) runs its timer at once.
    let tick = timers.heartbeat.max(SimDuration::from_nanos(1));
    // Two ticks of margin: the first heartbeat leaves up to a tick after the start, and the
    // follower's own tick that counts it up to a tick after it arrives.
    // A draw is held to the mean flight plus an election timeout: in a cluster that had been
    // running, heartbeats that late would already have started an election, so the run
    // starts from their consequences rather than waiting for them (at a loss of 99 %, the
    // drawn resends would keep the warm-up, and so the leader's quorum, for hours).
    let bounded = |d: Option<SimDuration>, from: usize, to: usize| {
        d.map(|d| match links.mean_flight(from, to) {
            Some(mean) => d.min(mean + timers.election),
            None => d,
        })
    };
    let mut warm_by = vec![origin; members];
    let mut answers_by = origin;
    for f in (0..members).filter(|&f| f != leader) {
        let there = bounded(links.flight(leader, f, origin, &mut setup), leader, f);
        let back = bounded(links.flight(f, leader, origin, &mut setup), f, leader);
        if let Some(d) = there {
            warm_by[f] = origin + d + tick * 2;
            if let Some(b) = back {
                answers_by = answers_by.max(origin + d + b + tick * 2);
            }
        }
    }
    if members > 0 {
        warm_by[leader] = answers_by;
    }
    let cluster = Cluster {
        nodes,
        alive: vec![true; members],
        links,
        tick,
        warm: vec![members == 1; members],
        heard: vec![false; members],
        last_heard: vec![None; members],
        election: timers.election,
        election_ticks: timers.election_ticks(),
        acked: vec![vec![origin; members]; members],
        last_stall_end: origin,
        last_ok_answer: origin,
        scratch: Vec::with_capacity(members),
        warm_by,
        stream_free: vec![vec![SimTime::ZERO; members]; members],
        out: Vec::new(),
        seen: Liveness::default(),
        stalled_since: None,
        crash_due: None,
        crashed_at: None,
        crash_stalled: false,
        recovered_after: None,
        stopped_at: None,
        life: vec![0; members],
        down: vec![0; members],
        leaders: vec![(SimTime::ZERO, leader)],
        stall_log: Vec::new(),
        crashed_leaders: Vec::new(),
    };
    let mut sim = Simulation::new(seed);
    let id = sim
        .add_component("raft", cluster)
        .expect("one component, no name clash");
    for i in 0..members {
        // Each member's clock ticks from its own phase.
        let phase = SimDuration::from_nanos(setup.random_range(0..timers.heartbeat.as_nanos().max(1)));
        sim.schedule(id, origin + phase, Ev::Tick(i, 0)).expect("in the future");
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
            if self.settled || to <= self.sim.now() {
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
