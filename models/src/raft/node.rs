//! One etcd member's raft liveness state machine: terms, roles, votes, the election and
//! heartbeat timers and `CheckQuorum`, as etcd 3.3's `raft/raft.go` has them. The log is kept
//! only as far as elections need it, its last entry ([`Log`]): the apiservers write all the
//! time (leases, statuses), so a leader's log grows with the clock, a follower catches up with
//! every heartbeat it answers, and a member cut off falls behind, so that its vote requests are
//! refused (`isUpToDate`).
//!
//! Each function names the etcd function it follows. The machine is pure: the caller delivers
//! ticks and messages with the time, and sends what comes out in `out`.

use rand::Rng;

/// A member's role (`StateType`; etcd 3.3's server never turns on `PreVote`, so there is no
/// `StatePreCandidate`: the `--pre-vote` flag came in 3.4, etcd CHANGELOG-3.4, PR #9352).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Follows `lead` (or waits for a leader when there is none).
    Follower,
    /// Asked the others for their votes in its term.
    Candidate,
    /// Sends heartbeats.
    Leader,
}

/// The raft messages that decide who leads (`raftpb.MessageType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `MsgHeartbeat`, every heartbeat tick from the leader.
    Heartbeat,
    /// `MsgHeartbeatResp`: marks the follower recently active at the leader.
    HeartbeatResp,
    /// `MsgApp`: here only the empty entry a new leader appends (`becomeLeader`).
    App,
    /// `MsgAppResp`: a follower's answer to `MsgApp`, or a member's answer, at its higher term,
    /// to a leader of a lower term (which then steps down).
    AppResp,
    /// `MsgVote`.
    Vote,
    /// `MsgVoteResp`.
    VoteResp {
        /// The vote was granted.
        granted: bool,
    },
}

/// The last entry of a member's log: its term, then its position. With the apiservers writing
/// continually, a leader's position is the time it appended at, in nanoseconds.
/// `raftLog.isUpToDate` compares exactly this way: term first, then index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Log {
    /// Term of the last entry.
    pub(crate) term: u64,
    /// Its position.
    pub(crate) pos: u64,
}

/// A message between two members, stamped with its sender's term (`raft.send`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Msg {
    /// Sender.
    pub(crate) from: usize,
    /// Receiver.
    pub(crate) to: usize,
    /// Term it carries.
    pub(crate) term: u64,
    /// What it is.
    pub(crate) kind: Kind,
    /// The sender's last entry: what a leader's heartbeat brings a follower up to (etcd follows
    /// a heartbeat answered by a follower behind with `MsgApp`), and a candidate's log in its
    /// vote request.
    pub(crate) log: Log,
}

/// What a tick or a message changed, for the cluster's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Changed {
    /// The member started an election (`campaign`).
    pub(crate) campaigned: bool,
    /// The member became leader.
    pub(crate) elected: bool,
}

/// One member (`type raft struct`, the fields liveness needs).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    id: usize,
    members: usize,
    pub(crate) term: u64,
    pub(crate) role: Role,
    pub(crate) lead: Option<usize>,
    vote: Option<usize>,
    election_elapsed: u32,
    heartbeat_elapsed: u32,
    /// `electionTimeout` in ticks (`ElectionTick`).
    election_ticks: u32,
    /// `randomizedElectionTimeout`: drawn in `[election_ticks, 2 x election_ticks)` by every
    /// `reset`.
    randomized: u32,
    /// Votes received in the current term (`votes`).
    votes: Vec<Option<bool>>,
    /// `Progress.RecentActive` of each member, at the leader.
    recent_active: Vec<bool>,
    /// The last entry of its log (a leader's grows with the clock: [`Node::last_entry`]).
    log: Log,
    /// The time of the tick or message being handled, nanoseconds.
    now: u64,
}

impl Node {
    /// A follower of `lead` at `term` (the steady state a run starts from), or a leader when
    /// `lead` is itself.
    pub(crate) fn new(
        id: usize,
        members: usize,
        election_ticks: u32,
        term: u64,
        lead: usize,
        rng: &mut impl Rng,
    ) -> Node {
        let mut n = Node {
            id,
            members,
            term,
            role: Role::Follower,
            lead: None,
            vote: None,
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            election_ticks: election_ticks.max(1),
            randomized: 0,
            votes: vec![None; members],
            recent_active: vec![false; members],
            log: Log { term, pos: 0 },
            now: 0,
        };
        n.reset(term, rng);
        n.lead = Some(lead);
        if lead == id {
            n.role = Role::Leader;
            // A leader that has just heard from everyone.
            n.recent_active.fill(true);
        } else {
            n.vote = Some(lead);
        }
        n
    }

    /// The last entry of its log now: a leader appends all the time.
    pub(crate) fn last_entry(&self) -> Log {
        if self.role == Role::Leader {
            Log {
                term: self.term,
                pos: self.now,
            }
        } else {
            self.log
        }
    }

    /// Members needed for a decision (`quorum`).
    pub(crate) fn quorum(&self) -> usize {
        self.members / 2 + 1
    }

    /// `reset(term)`: a new term forgets the vote; every state change restarts both timers and
    /// draws a new randomized election timeout.
    fn reset(&mut self, term: u64, rng: &mut impl Rng) {
        if self.term != term {
            self.term = term;
            self.vote = None;
        }
        self.lead = None;
        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        self.randomized = self.election_ticks + rng.random_range(0..self.election_ticks);
        self.votes.fill(None);
        // `reset` gives every peer a fresh `Progress`, `RecentActive` false.
        self.recent_active.fill(false);
    }

    fn become_follower(&mut self, term: u64, lead: Option<usize>, rng: &mut impl Rng) {
        // A leader stepping down keeps what it had appended.
        self.log = self.last_entry();
        self.reset(term, rng);
        self.lead = lead;
        self.role = Role::Follower;
    }

    fn become_leader(&mut self, rng: &mut impl Rng, out: &mut Vec<Msg>) {
        self.reset(self.term, rng);
        self.lead = Some(self.id);
        self.role = Role::Leader;
        // `becomeLeader` appends an empty entry and the candidate broadcasts it (`bcastAppend`).
        self.broadcast(Kind::App, out);
    }

    fn broadcast(&self, kind: Kind, out: &mut Vec<Msg>) {
        for to in (0..self.members).filter(|&j| j != self.id) {
            out.push(self.msg(to, kind));
        }
    }

    fn msg(&self, to: usize, kind: Kind) -> Msg {
        Msg {
            from: self.id,
            to,
            term: self.term,
            kind,
            log: self.last_entry(),
        }
    }

    /// `campaign(campaignElection)`: a new term, its own vote, and a vote request to every other
    /// member.
    fn campaign(&mut self, rng: &mut impl Rng, out: &mut Vec<Msg>) -> Changed {
        self.reset(self.term + 1, rng);
        self.vote = Some(self.id);
        self.role = Role::Candidate;
        self.votes[self.id] = Some(true);
        let mut changed = Changed {
            campaigned: true,
            ..Changed::default()
        };
        if self.quorum() == 1 {
            self.become_leader(rng, out);
            changed.elected = true;
        } else {
            self.broadcast(Kind::Vote, out);
        }
        changed
    }

    /// One tick of the member's clock (`tickHeartbeat` at the leader, `tickElection` elsewhere).
    pub(crate) fn tick(&mut self, now: u64, rng: &mut impl Rng, out: &mut Vec<Msg>) -> Changed {
        self.now = now;
        if self.role == Role::Leader {
            self.heartbeat_elapsed += 1;
            self.election_elapsed += 1;
            if self.election_elapsed >= self.election_ticks {
                self.election_elapsed = 0;
                // `MsgCheckQuorum` (etcd runs raft with `CheckQuorum: true`).
                if !self.check_quorum_active() {
                    self.become_follower(self.term, None, rng);
                    return Changed::default();
                }
            }
            // `heartbeatTimeout` is one tick (`HeartbeatTick: 1`).
            if self.heartbeat_elapsed >= 1 {
                self.heartbeat_elapsed = 0;
                self.broadcast(Kind::Heartbeat, out);
            }
            return Changed::default();
        }
        self.election_elapsed += 1;
        if self.election_elapsed >= self.randomized {
            self.election_elapsed = 0;
            return self.campaign(rng, out);
        }
        Changed::default()
    }

    /// A member whose process starts again after a crash (`newRaft` from the write-ahead log):
    /// a follower of nobody at the term, vote and log it had persisted, with fresh timers.
    pub(crate) fn restart(&mut self, rng: &mut impl Rng) {
        self.become_follower(self.term, None, rng);
    }

    /// `advanceTicks`: etcd's server ticks a (re)started member's clock `ticks` times at once
    /// (`--initial-election-tick-advance`), so that it campaigns sooner if no leader speaks.
    /// A member that has become leader meanwhile is left alone.
    pub(crate) fn advance_ticks(&mut self, ticks: u32, now: u64, rng: &mut impl Rng, out: &mut Vec<Msg>) -> Changed {
        let mut changed = Changed::default();
        for _ in 0..ticks {
            if self.role == Role::Leader {
                break;
            }
            let c = self.tick(now, rng, out);
            changed.campaigned |= c.campaigned;
            changed.elected |= c.elected;
        }
        changed
    }

    /// Marks every member recently active at a leader: its next quorum check passes.
    pub(crate) fn hold_quorum(&mut self) {
        self.recent_active.fill(true);
    }

    /// `checkQuorumActive`: itself and the members heard from since the last check make a
    /// quorum; the marks are cleared for the next check.
    fn check_quorum_active(&mut self) -> bool {
        let id = self.id;
        let active = self
            .recent_active
            .iter()
            .enumerate()
            .filter(|&(j, &a)| j == id || a)
            .count();
        self.recent_active.fill(false);
        active >= self.quorum()
    }

    /// `Step` with `stepLeader`, `stepCandidate` and `stepFollower` for the messages above.
    pub(crate) fn step(&mut self, now: u64, m: Msg, rng: &mut impl Rng, out: &mut Vec<Msg>) -> Changed {
        self.now = now;
        if m.term > self.term {
            if m.kind == Kind::Vote {
                // "If a server receives a RequestVote request within the minimum election
                // timeout of hearing from a current leader, it does not update its term or
                // grant its vote."
                let in_lease = self.lead.is_some() && self.election_elapsed < self.election_ticks;
                if in_lease {
                    return Changed::default();
                }
            }
            let lead = matches!(m.kind, Kind::App | Kind::Heartbeat).then_some(m.from);
            self.become_follower(m.term, lead, rng);
        } else if m.term < self.term {
            // With CheckQuorum (`if r.checkQuorum && (m.Type == pb.MsgHeartbeat || m.Type ==
            // pb.MsgApp)` in 3.3) a member answers a stale leader's heartbeat or append, at its
            // own higher term, so that the stale leader steps down.
            if matches!(m.kind, Kind::Heartbeat | Kind::App) {
                out.push(self.msg(m.from, Kind::AppResp));
            }
            return Changed::default();
        }
        if m.kind == Kind::Vote {
            // 3.3's rule, `(r.Vote == None || m.Term > r.Term || r.Vote == m.From) &&
            // r.raftLog.isUpToDate(m.Index, m.LogTerm)` (the term is equal here). 3.4's
            // stricter `r.lead == None` came later (PR #9204).
            let can_vote = (self.vote.is_none() || self.vote == Some(m.from)) && m.log >= self.last_entry();
            if can_vote {
                out.push(self.msg(m.from, Kind::VoteResp { granted: true }));
                self.election_elapsed = 0;
                self.vote = Some(m.from);
            } else {
                out.push(self.msg(m.from, Kind::VoteResp { granted: false }));
            }
            return Changed::default();
        }
        match self.role {
            Role::Leader => {
                if matches!(m.kind, Kind::HeartbeatResp | Kind::AppResp) {
                    self.recent_active[m.from] = true;
                }
                Changed::default()
            }
            Role::Candidate => match m.kind {
                Kind::App | Kind::Heartbeat => {
                    self.become_follower(m.term, Some(m.from), rng);
                    self.follow(m, out);
                    Changed::default()
                }
                Kind::VoteResp { granted } => {
                    self.votes[m.from] = Some(granted);
                    let yes = self.votes.iter().filter(|v| **v == Some(true)).count();
                    let no = self.votes.iter().filter(|v| **v == Some(false)).count();
                    if yes >= self.quorum() {
                        self.become_leader(rng, out);
                        return Changed {
                            elected: true,
                            ..Changed::default()
                        };
                    }
                    if no >= self.quorum() {
                        self.become_follower(self.term, None, rng);
                    }
                    Changed::default()
                }
                _ => Changed::default(),
            },
            Role::Follower => {
                if matches!(m.kind, Kind::App | Kind::Heartbeat) {
                    self.follow(m, out);
                }
                Changed::default()
            }
        }
    }

    /// `stepFollower` on `MsgApp` / `MsgHeartbeat`: the leader is alive; answer it.
    fn follow(&mut self, m: Msg, out: &mut Vec<Msg>) {
        self.election_elapsed = 0;
        self.lead = Some(m.from);
        self.log = self.log.max(m.log);
        let reply = if m.kind == Kind::App {
            Kind::AppResp
        } else {
            Kind::HeartbeatResp
        };
        out.push(self.msg(m.from, reply));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::rng::seeded;

    /// A message whose sender's log is as long as the members' at the start.
    fn msg(from: usize, to: usize, term: u64, kind: Kind) -> Msg {
        let log = Log { term: 1, pos: 0 };
        Msg {
            from,
            to,
            term,
            kind,
            log,
        }
    }

    fn three(lead: usize) -> (Vec<Node>, sim_core::rng::SimRng) {
        let mut rng = seeded(7);
        let nodes = (0..3).map(|i| Node::new(i, 3, 10, 1, lead, &mut rng)).collect();
        (nodes, rng)
    }

    #[test]
    fn a_leader_heartbeats_every_tick_and_a_follower_answers() {
        let (mut n, mut rng) = three(0);
        let mut out = Vec::new();
        n[0].tick(0, &mut rng, &mut out);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|m| m.kind == Kind::Heartbeat && m.term == 1));
        let mut replies = Vec::new();
        n[1].step(0, out[0], &mut rng, &mut replies);
        assert_eq!(replies, vec![msg(1, 0, 1, Kind::HeartbeatResp)]);
    }

    #[test]
    fn a_silent_follower_campaigns_between_one_and_two_election_timeouts() {
        let (mut n, mut rng) = three(0);
        let mut out = Vec::new();
        let mut ticks = 0;
        loop {
            ticks += 1;
            if n[1].tick(0, &mut rng, &mut out).campaigned {
                break;
            }
            assert!(ticks < 20, "no campaign after 20 ticks");
        }
        assert!(ticks >= 10, "campaigned after {ticks} ticks");
        assert_eq!(n[1].term, 2);
        assert_eq!(n[1].role, Role::Candidate);
        assert_eq!(out.iter().filter(|m| m.kind == Kind::Vote).count(), 2);
    }

    #[test]
    fn a_follower_in_its_leaders_lease_ignores_a_vote_request() {
        let (mut n, mut rng) = three(0);
        let vote = msg(2, 1, 2, Kind::Vote);
        let mut out = Vec::new();
        n[1].step(0, vote, &mut rng, &mut out);
        assert!(out.is_empty());
        assert_eq!(n[1].term, 1);
        // Once the lease has run out (an election timeout without the leader), it votes.
        for _ in 0..10 {
            n[1].election_elapsed += 1;
        }
        n[1].step(0, vote, &mut rng, &mut out);
        assert_eq!(out, vec![msg(1, 2, 2, Kind::VoteResp { granted: true })]);
        assert_eq!((n[1].term, n[1].lead), (2, None));
    }

    #[test]
    fn a_member_at_a_higher_term_deposes_the_leader_through_its_heartbeat_answer() {
        // Without pre-vote, a follower that was cut off campaigns alone and raises its term;
        // the leader's next heartbeat reaches it and its answer makes the leader step down.
        let (mut n, mut rng) = three(0);
        let mut out = Vec::new();
        while !n[2].tick(0, &mut rng, &mut out).campaigned {}
        out.clear();
        let hb = msg(0, 2, 1, Kind::Heartbeat);
        n[2].step(0, hb, &mut rng, &mut out);
        assert_eq!(out, vec![msg(2, 0, 2, Kind::AppResp)]);
        let answer = out[0];
        out.clear();
        n[0].step(0, answer, &mut rng, &mut out);
        assert_eq!((n[0].role, n[0].term, n[0].lead), (Role::Follower, 2, None));
    }

    #[test]
    fn a_candidate_whose_log_is_behind_is_refused_but_still_raises_the_voters_term() {
        // Member 2 was cut off while the leader kept appending; member 1 was not.
        let (mut n, mut rng) = three(0);
        let mut out = Vec::new();
        let hb = Msg {
            log: Log { term: 1, pos: 500 },
            ..msg(0, 1, 1, Kind::Heartbeat)
        };
        n[1].step(600, hb, &mut rng, &mut out);
        while n[1].election_elapsed < 10 {
            n[1].election_elapsed += 1;
        }
        out.clear();
        let stale = Msg {
            log: Log { term: 1, pos: 100 },
            ..msg(2, 1, 2, Kind::Vote)
        };
        n[1].step(700, stale, &mut rng, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, Kind::VoteResp { granted: false });
        // `becomeFollower(m.Term, None)` came first: a new term, no leader, the timer restarted.
        assert_eq!((n[1].term, n[1].lead, n[1].election_elapsed), (2, None, 0));
    }

    #[test]
    fn votes_from_a_quorum_elect_and_the_new_leader_appends() {
        let (mut n, mut rng) = three(0);
        let mut out = Vec::new();
        // Member 0 is gone; member 1's lease runs out and it campaigns.
        while !n[1].tick(0, &mut rng, &mut out).campaigned {}
        let vote = out.iter().copied().find(|m| m.to == 2).unwrap();
        out.clear();
        while n[2].election_elapsed < 10 {
            n[2].election_elapsed += 1;
        }
        n[2].step(0, vote, &mut rng, &mut out);
        let resp = out[0];
        out.clear();
        let changed = n[1].step(0, resp, &mut rng, &mut out);
        assert!(changed.elected);
        assert_eq!(n[1].role, Role::Leader);
        assert_eq!(out.iter().filter(|m| m.kind == Kind::App).count(), 2);
    }

    #[test]
    fn a_leader_that_hears_from_no_quorum_steps_down_after_an_election_timeout() {
        let (mut n, mut rng) = three(0);
        let mut out = Vec::new();
        // The first check finds the marks `new` set; the second finds nobody.
        for _ in 0..20 {
            n[0].tick(0, &mut rng, &mut out);
        }
        assert_eq!((n[0].role, n[0].lead), (Role::Follower, None));
        // With answers between the checks it stays.
        let (mut n, mut rng) = three(0);
        for _ in 0..30 {
            n[0].tick(0, &mut rng, &mut out);
            let resp = msg(1, 0, 1, Kind::HeartbeatResp);
            n[0].step(0, resp, &mut rng, &mut out);
        }
        assert_eq!(n[0].role, Role::Leader);
    }

    /// A restart keeps what etcd writes to disk (`HardState`: term and vote; the log): a member
    /// that voted in a term and restarts in it does not vote again for another candidate.
    #[test]
    fn a_restarted_member_keeps_its_term_vote_and_log() {
        let (mut n, mut rng) = three(0);
        let mut out = Vec::new();
        // Outside any lease (no leader heard), member 2 votes for member 1 at term 2.
        n[2].lead = None;
        n[2].step(1_000, msg(1, 2, 2, Kind::Vote), &mut rng, &mut out);
        assert_eq!(out.pop().map(|m| m.kind), Some(Kind::VoteResp { granted: true }));
        let log = n[2].log;
        n[2].restart(&mut rng);
        assert_eq!(
            (n[2].term, n[2].vote, n[2].log, n[2].role, n[2].lead),
            (2, Some(1), log, Role::Follower, None)
        );
        n[2].step(2_000, msg(0, 2, 2, Kind::Vote), &mut rng, &mut out);
        assert_eq!(
            out.pop().map(|m| m.kind),
            Some(Kind::VoteResp { granted: false }),
            "one vote a term"
        );
    }

    /// `--initial-election-tick-advance`: advanced by `ElectionTick - 2`, a restarted member
    /// that hears nobody campaigns that many ticks sooner.
    #[test]
    fn an_advanced_restart_campaigns_sooner() {
        let ticks_to_campaign = |advance: bool| {
            let (mut n, mut rng) = three(0);
            let mut out = Vec::new();
            n[1].restart(&mut rng);
            if advance {
                n[1].advance_ticks(8, 0, &mut rng, &mut out);
            }
            (1..100u32)
                .find(|&k| n[1].tick(u64::from(k), &mut rng, &mut out).campaigned)
                .expect("it campaigns")
        };
        // The same seed draws the same randomized timeout for both.
        let advanced = ticks_to_campaign(true);
        let plain = ticks_to_campaign(false);
        assert!((10..20).contains(&plain), "{plain}");
        assert_eq!(plain - advanced, 8, "{plain} against {advanced}");
    }
}
