//! The raft cluster simulated message by message: every member ([`Node`], `raft/node.rs`), the
//! streams between them and the counters of what the run saw, as one simulation component.

use rand::Rng;
use sim_core::rng::named_stream;
use sim_core::{Component, Context, SimDuration, SimTime, Simulation};

use super::links::{Links, CONNECT_ROUND_TRIPS};
use super::node::{self, Msg, Node, Role};
use super::{Liveness, RaftTimers};

/// The events of the raft cluster's simulation.
#[derive(Debug)]
pub(super) enum Ev {
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
pub(super) struct Cluster {
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
    /// What the run saw so far.
    pub(super) seen: Liveness,
    /// Since when writes have been stalled, if they are now.
    pub(super) stalled_since: Option<SimTime>,
    /// A leader failover trial: when to crash the leader (the first moment after it that
    /// writes commit), and when it was crashed; stop once writes commit again.
    pub(super) crash_due: Option<SimTime>,
    /// When the failover trial crashed the leader, if it did.
    pub(super) crashed_at: Option<SimTime>,
    /// The crash left no quorum-backed leader.
    crash_stalled: bool,
    /// The failover trial's result: writes committed again this long after the crash.
    pub(super) recovered_after: Option<SimDuration>,
    /// When a member last stopped while writes committed (a stall it opens starts then).
    stopped_at: Option<SimTime>,
    /// Per member: its process's life (bumped at every stop), and how many outages hold it
    /// down now.
    life: Vec<u32>,
    down: Vec<u32>,
    /// Leaders elected: (when, member), the first leader at time zero.
    pub(super) leaders: Vec<(SimTime, usize)>,
    /// Stretches without writes that have ended, in time order.
    pub(super) stall_log: Vec<(SimTime, SimTime)>,
    /// `crash-etcd-leader` faults met: (from, until, the member stopped, if one led).
    pub(super) crashed_leaders: Vec<(SimTime, SimTime, Option<usize>)>,
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

    /// Ends the stretch without writes begun at `since` at `now`, and counts it.
    pub(super) fn close_stall(&mut self, since: SimTime, now: SimTime) {
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
pub(super) fn build(
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
