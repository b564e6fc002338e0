//! Who holds a leader-elected controller's lease after a fault, and from when (client-go
//! v1.16's leader election, [`ControlPlane::leader_after_loss`]): whether the leader's renewal
//! gets through in time, and otherwise which candidate's try takes the lease first, through
//! the balancer's crashes, etcd's stretches without writes and the standbys' pinned
//! connections ([`StandbyLink`]). The walk through the faults that asks this is
//! [`super::failover_walk`].

use rand::Rng;
use sim_core::{SimDuration, SimTime};

use super::candidate_tries::CandidateTries;
use super::failover_walk::{Kept, Pending};
use super::{ControlPlane, Failover, Watcher};
use crate::failover::{Plan, Timers};
use crate::network::TCP_RETRIES2_TIMEOUT;

/// What the candidates of a leader election go by ([`ControlPlane::leader_after_loss`]).
#[derive(Clone, Copy)]
pub(super) struct Election<'a> {
    /// The leader-election and heartbeat timers.
    pub(super) timers: Timers,
    /// The first instant at or after a given one when etcd commits a write (its simulated
    /// elections have a leader with a quorum).
    pub(super) commits: &'a dyn Fn(SimTime) -> SimTime,
    /// How the lease's present holder renewed it up to the loss.
    pub(super) renewals: Renewals,
    /// By master: the apiserver the standby there has held its one connection to since before
    /// the run, or `None` where the candidate has dialled anew since (it led, or is the last
    /// holder): [`StandbyLink`].
    pub(super) pinned: &'a [Option<usize>],
}

/// A standby's one HTTP/2 connection through the balancer, which every request of the program
/// shares (client-go v1.16's transport cache, `tlsConfigKey`, keys on the TLS settings alone,
/// so the leader-election client and the main clients share a transport): the apiserver it is
/// pinned to, and when that connection dies and its session ends
/// ([`ControlPlane::standby_link`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct StandbyLink {
    /// The apiserver.
    to: usize,
    /// When the connection stops carrying for good ([`SimTime::MAX`]: never before the run's
    /// end): a crash of the apiserver's master, a cut of it from the balancer that the session
    /// does not survive, or a crash of the balancer.
    dies: SimTime,
    /// When HAProxy ends the session, so that the standby's next try dials anew
    /// ([`SimTime::MAX`]: never).
    ends: SimTime,
}

/// How a leader renewed its lease up to a loss ([`ControlPlane::leader_after_loss`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Renewals {
    /// It has led from before the run: every retry period, at a phase of its own (drawn).
    Drawn,
    /// It took the lease at this instant during the run: every retry period from then.
    From(SimTime),
    /// Its renewals have been held since an earlier loss, which it was riding out: the last
    /// went through at this instant.
    HeldSince(SimTime),
}

impl Renewals {
    /// How a leader-elected client renewed its lease up to a loss at `s`: held since its last
    /// renewal if it is riding out an earlier loss (`kept`); every retry period from its
    /// takeover's try if it took the lease during the run (`pending`); otherwise drawn.
    pub(super) fn before(s: SimTime, kept: Option<Kept>, pending: Pending) -> Renewals {
        match (kept, pending.lapse) {
            (Some(k), _) if s < k.through => Renewals::HeldSince(k.renewed),
            (_, Some(_)) => Renewals::From(pending.tries_at),
            _ => Renewals::Drawn,
        }
    }
}

/// How many stretches without writes a candidate's try is followed past before the model gives
/// up on it (a bound on the loop, far above any run's count; not a Kubernetes figure).
const STRETCHES_PASSED_AT_MOST: usize = 4096;

/// What a leader-elected controller's loss of its apiserver comes to
/// ([`ControlPlane::leader_after_loss`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum LeaderFate {
    /// The leader keeps its lease: a renewal held on its connection goes through at `through`,
    /// in time; its last renewal before had gone through at `renewed`.
    Keeps {
        /// When the held renewal goes through.
        through: SimTime,
        /// When the renewal before it went through.
        renewed: SimTime,
    },
    /// A leader (a standby, or the restarted one) takes the lease.
    TakenOver(Takeover),
    /// No apiserver can write again before the run's end: the controller stays as it was.
    Stuck,
}

/// What a leader-elected controller lost ([`ControlPlane::leader_after_loss`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum LeaderLoss {
    /// Its apiserver, that apiserver's etcd quorum, or its master's route to the balancer:
    /// the controller runs on and keeps trying to renew.
    Connection,
    /// The load balancer crashed: the controller runs on, and its renewals go through once
    /// the balancer is back and the connection it reset is made again.
    Balancer,
    /// Its own master crashed, and the controller with it.
    Host,
    /// A takeover decided earlier failed (the new leader's master went, or the apiserver it
    /// was connecting to): the candidates try on, the lease lapsing as it did.
    Takeover(Lapse),
}

/// How a lease a takeover is under way for lapsed: what the candidates go by if the takeover
/// fails and is decided again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Lapse {
    /// The holder's last renewal.
    renewed: SimTime,
    /// The master the holder ran on.
    leader_on: Option<usize>,
    /// When the holder's program runs again ([`SimTime::MAX`]: not before the run's end).
    restarted: SimTime,
}

/// Who takes a leader-elected controller's lease, and how ([`LeaderFate::TakenOver`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Takeover {
    /// The apiserver the new leader works through.
    pub(super) via: usize,
    /// When it dials it (its winning try).
    pub(super) at: SimTime,
    /// The master it runs on.
    pub(super) on: usize,
    /// How the lease lapsed.
    pub(super) lapse: Lapse,
}

/// How a candidate's tries for a lease meet the faults: the balancer's crashes, etcd's
/// stretches without writes, and a standby's pinned connection ([`StandbyLink`]).
struct CandidateClock<'a> {
    /// The control plane, with the faults' plan laid over it.
    cp: &'a ControlPlane,
    /// The leader-election timers.
    timers: Timers,
    /// The first instant at or after a given one when etcd commits a write.
    commits: &'a dyn Fn(SimTime) -> SimTime,
}

impl ControlPlane {
    /// What becomes of leader-elected controller `c` (the controller-manager, the scheduler:
    /// running on master `c.host`, working through apiserver `c.master`) after the `loss` at
    /// `s`. client-go's leader election (v1.16 `leaderelection.go`):
    /// - the leader renews its lease every `--leader-elect-retry-period` (its last renewal
    ///   drawn within the period before `s`); once a renewal fails it keeps trying until
    ///   `--leader-elect-renew-deadline` has passed from the start of that try, then gives up
    ///   (the controller-manager and the scheduler exit: `klog.Fatalf("leaderelection lost")`);
    /// - it **keeps** its lease if a renewal gets through its connection before then
    ///   ([`ControlPlane::write_through_held_connection`]);
    /// - otherwise a candidate **takes over** once the lease has expired in its eyes: a lease
    ///   duration after it first saw the record unchanged, at a try of its own (every retry
    ///   period), and only through an apiserver that can write. A standby that has run since
    ///   the last renewal saw it then, so without a quorum it takes over at its first try after
    ///   the quorum is back, once its own connection to the balancer carries (a try on a cut
    ///   route times out after the renew deadline, the leader-election client's `Timeout` in
    ///   v1.16's kube-scheduler and kube-controller-manager, but the next goes on the same
    ///   HTTP/2 connection, whose segments wait for TCP's resend after the repair); a candidate
    ///   started since (the restarted leader; a standby whose master crashed and came back)
    ///   first sees the record when the quorum is back, and waits a lease duration from then
    ///   (`observedTime`). A candidate tries at once when its program starts, then after
    ///   client-go's jittered waits ([`CandidateTries`]: 2 to 4.4 s at the default retry
    ///   period); the first try that can take the lease wins, and the controller runs on that
    ///   candidate's master from then.
    /// - a standby's tries go on its one connection, pinned since before the run
    ///   ([`StandbyLink`]): through its apiserver, held while that apiserver is cut off from the
    ///   balancer (until TCP's resend after the repair) or its member is out of a quorum; on a
    ///   connection to a crashed master they go nowhere (each times out, and the next goes on
    ///   the same connection: v1.16's HTTP/2 client has no health check, kubernetes PR #95981
    ///   added one in v1.20) until HAProxy ends the session, and its first try after dials anew
    ///   through HAProxy's round robin; a read on the dead connection fails too, so a standby
    ///   that had not read the last renewal before its connection died reads it only then,
    ///   and waits a lease duration from then (`observedTime`). The restarted last holder, a
    ///   candidate that has led, and a standby whose own master crashed and came back dial
    ///   anew, and each of their tries takes the round robin's pick; so does a standby once it
    ///   has dialled anew (a later loss of the server it dialled is not held against it).
    ///
    /// After a failed takeover ([`LeaderLoss::Takeover`]) no leader is left to keep the lease,
    /// and the others' tries go on from `s`. The new leader works through the apiserver HAProxy
    /// hands its connection; the model carries it on as the same client.
    pub(super) fn leader_after_loss(
        &self,
        c: &Watcher,
        s: SimTime,
        loss: LeaderLoss,
        election: Election<'_>,
        rr: &mut usize,
        rng: &mut impl Rng,
    ) -> LeaderFate {
        let Election {
            timers,
            commits,
            renewals,
            pinned,
        } = election;
        let (leader_on, renewed) = self.last_renewal(c, s, loss, renewals, timers, rng);
        let deadline = renewed + timers.retry + timers.renew_deadline;
        if let Some(through) = self.renewal_in_time(c, s, loss, leader_on, commits, deadline) {
            return LeaderFate::Keeps { through, renewed };
        }
        let Some(quorum) = self.plan.first_served_from((renewed + timers.lease).max(s)) else {
            return LeaderFate::Stuck;
        };
        // When the last holder's program runs again: once its master is back from the crash
        // that stopped it, or at once when it gave up at its renew deadline (the kubelet
        // restarts it).
        let restarted = match loss {
            LeaderLoss::Takeover(lapse) => lapse.restarted,
            LeaderLoss::Host => leader_on
                .and_then(|k| {
                    self.plan.apiserver_down[k]
                        .iter()
                        .filter(|w| w.0 <= quorum && w.1 > s)
                        .map(|w| w.1)
                        .max()
                })
                .unwrap_or(SimTime::MAX),
            LeaderLoss::Connection | LeaderLoss::Balancer => deadline,
        };
        let lapse = Lapse {
            renewed,
            leader_on,
            restarted,
        };
        // Each candidate's first chance from `s`, and its first try from then that gets a
        // write through; the earliest takes the lease, and the others find it taken.
        let clock = CandidateClock {
            cp: self,
            timers,
            commits,
        };
        let mut winner: Option<(SimTime, usize, usize, usize)> = None;
        for k in 0..self.masters.len() {
            if let Some((at, via, probe)) = clock.first_write(k, s, lapse, pinned, *rr, rng) {
                if winner.is_none_or(|(w, ..)| at < w) {
                    winner = Some((at, via, k, probe));
                }
            }
        }
        let Some((at, via, on, moved)) = winner else {
            return LeaderFate::Stuck;
        };
        // The round robin moves on as the winner's tries moved it.
        *rr = moved;
        LeaderFate::TakenOver(Takeover { via, at, on, lapse })
    }

    /// The master the lease's last holder ran on and its last renewal before a `loss` at `s`
    /// (after a failed takeover, the holder before the candidate that failed). A leader's
    /// renewals go every retry period from its takeover, or from a phase drawn within the
    /// period; one riding out an earlier loss last renewed before it.
    fn last_renewal(
        &self,
        c: &Watcher,
        s: SimTime,
        loss: LeaderLoss,
        renewals: Renewals,
        timers: Timers,
        rng: &mut impl Rng,
    ) -> (Option<usize>, SimTime) {
        if let LeaderLoss::Takeover(lapse) = loss {
            return (lapse.leader_on, lapse.renewed);
        }
        // Drawn in every case, so that the stream's later draws do not depend on it.
        let since_renewal = Plan::retry_phase(timers, rng);
        let renewed = match renewals {
            Renewals::From(t) if t <= s => {
                let period = timers.retry.as_nanos().max(1);
                t + SimDuration::from_nanos(s.saturating_since(t).as_nanos() / period * period)
            }
            Renewals::HeldSince(t) => t.min(s),
            Renewals::From(_) | Renewals::Drawn => {
                SimTime::from_nanos(s.as_nanos().saturating_sub(since_renewal.as_nanos()))
            }
        };
        (self.masters.iter().position(|&h| h == c.host), renewed)
    }

    /// When leader `c`'s renewal, held on its connection through a `loss` at `s` that leaves
    /// the controller running (of its apiserver's connection, or of the balancer), gets through
    /// and commits, if before its renew `deadline`: it waits for its own master's route to the
    /// balancer (`leader_on`), if cut, or for the balancer's restart, then for the apiserver's
    /// connection ([`ControlPlane::write_through_held_connection`]), then for etcd (`commits`).
    fn renewal_in_time(
        &self,
        c: &Watcher,
        s: SimTime,
        loss: LeaderLoss,
        leader_on: Option<usize>,
        commits: &dyn Fn(SimTime) -> SimTime,
        deadline: SimTime,
    ) -> Option<SimTime> {
        let plan = &self.plan;
        let m = c.master as usize;
        let carried = match loss {
            LeaderLoss::Balancer => self.renewal_after_balancer_restart(c, s),
            LeaderLoss::Connection => leader_on.map_or(s, |h| self.request_held_for_cut(h, s)),
            LeaderLoss::Host | LeaderLoss::Takeover(_) => return None,
        };
        if carried == SimTime::MAX || !plan.throughout(s, carried, |u| plan.apiserver_up(m, u)) {
            return None;
        }
        let through = self.write_through_held_connection(m, carried);
        let through = if through == SimTime::MAX {
            through
        } else {
            commits(through)
        };
        (through < deadline).then_some(through)
    }

    /// The standbys of leader-elected controller `c` still on the connections they made before
    /// the run, at `s` (`pins`, by master): all but those on a master from which `c` has led
    /// since, by the takeovers in `out` connected by then (a leader that loses its lease
    /// exits, and its program dials anew when it runs again), and those on a master that has
    /// crashed by then (the program starts again with its master, and dials anew).
    pub(super) fn still_pinned(
        &self,
        pins: &[Option<usize>],
        c: &Watcher,
        out: &[Failover],
        s: SimTime,
    ) -> Vec<Option<usize>> {
        pins.iter()
            .zip(&self.masters)
            .enumerate()
            .map(|(k, (&p, &h))| {
                let led = out
                    .iter()
                    .any(|f| f.client == c.id && f.host == h && f.reconnect_at <= s);
                let restarted = self.plan.apiserver_down[k].iter().any(|w| w.0 <= s);
                p.filter(|_| !led && !restarted)
            })
            .collect()
    }

    /// The connection to apiserver `to` that a standby has held since before the run, whose
    /// tries are `tries` ([`StandbyLink`]; their `balancer_rtt` is its connection's round trip). It dies at the first crash of `to`'s master, at the
    /// first cut of that master from the balancer that the session does not survive, or at a
    /// crash of the balancer, whichever comes first. A crashed host sends no reset, and
    /// Go 1.12's HTTP/2 client has no health check of its own: after the balancer's crash the
    /// standby learns its connection is gone when TCP's next resend of its first try since
    /// the crash reaches the restarted balancer, whose kernel answers with a reset (the held
    /// renewal's rule, [`ControlPlane::renewal_after_balancer_restart`]). HAProxy leaves a session
    /// to a server it marks down alone (`on-marked-down` unset), and ends it:
    /// - once the crashed master is back: TCP's next resend of what the standby's tries left
    ///   unacknowledged reaches its fresh kernel, which answers with a reset (after a cut the
    ///   resend is answered, and the session carries on);
    /// - when TCP gives up resending, [`TCP_RETRIES2_TIMEOUT`] after the crash or cut;
    /// - at `timeout server`, if the server side is silent that long: from the crash with
    ///   `option independent-streams`; without it (HAProxy's default) every try the standby
    ///   sends refreshes the timeout ("If the server suddenly disappears, the output data
    ///   accumulates in the system's socket buffers, both timeouts are correctly refreshed, and
    ///   there is no way to know the server does not receive them, so we don't timeout":
    ///   configuration manual 4.2, `option independent-streams`), so it fires only if it is
    ///   shorter than `renew_deadline`, the leader-election client's timeout, which is the
    ///   silence between a try that hangs and its stream's reset: at the standby's first try
    ///   after the crash, plus the timeout. The jittered waits between tries (at most 2.2 retry
    ///   periods) are taken as no longer.
    pub(super) fn standby_link(
        &self,
        to: usize,
        renew_deadline: SimDuration,
        tries: &mut CandidateTries,
    ) -> StandbyLink {
        let reset = self.lb_down.first().map_or(SimTime::MAX, |w| w.0);
        let reset_known = if reset == SimTime::MAX {
            SimTime::MAX
        } else {
            self.learns_of_balancer_crash(reset, self.balancer_takes_connections(reset), tries)
        };
        let (timeout, independent) = self.server_timeout;
        let mut timed_out = |from: SimTime| {
            if timeout.is_zero() {
                SimTime::MAX
            } else if independent {
                from + timeout
            } else if timeout < renew_deadline {
                // Its first try after the silence began; a standby tries at least every
                // renew deadline, so a try further off is one the model's tries, which start
                // at the last renewal, do not go back to: counted from the silence then.
                let first = tries.at_or_after(from);
                if first.saturating_since(from) > renew_deadline {
                    from + timeout
                } else {
                    first + timeout
                }
            } else {
                SimTime::MAX
            }
        };
        let crashes = self.plan.apiserver_down[to].iter().map(|&w| (w, true));
        let cuts = self.plan.unreachable[to].iter().map(|&w| (w, false));
        let mut silences: Vec<((SimTime, SimTime), bool)> = crashes.chain(cuts).collect();
        silences.sort_by_key(|w| w.0);
        for ((from, back), crashed) in silences {
            if from >= reset {
                break;
            }
            let resumes = crate::faults::next_retransmission(from, back, self.base_rtt(self.lb, self.masters[to]));
            let closed = timed_out(from).min(from + TCP_RETRIES2_TIMEOUT);
            let ends = if crashed {
                resumes.min(closed)
            } else if closed < resumes {
                closed
            } else {
                continue;
            };
            // HAProxy's resend and its timeout end the session only while HAProxy runs: once
            // it has crashed, the standby learns of it as above.
            return StandbyLink {
                to,
                dies: from,
                ends: if ends < reset { ends } else { reset_known },
            };
        }
        StandbyLink {
            to,
            dies: reset,
            ends: reset_known,
        }
    }

    /// When leader-elected controller `c`'s renewal, held on its connection through the load
    /// balancer that crashed at `s`, gets to its apiserver: HAProxy's restart lost the
    /// connection, so TCP's next resend after the restart is answered with a reset, and the
    /// client dials again (TCP's and TLS's handshakes) and sends it ([`crate::faults`];
    /// [`SimTime::MAX`] if the balancer never comes back).
    pub(super) fn renewal_after_balancer_restart(&self, c: &Watcher, s: SimTime) -> SimTime {
        let back = self.balancer_takes_connections(s);
        if back == SimTime::MAX {
            return SimTime::MAX;
        }
        crate::faults::next_retransmission(s, back, self.base_rtt(c.host, self.lb))
            + self.connect_time(c.host, c.master as usize)
    }

    /// When a candidate whose try at `g` falls in an outage of the balancer, back at `back`,
    /// can dial anew: one that held its connection through the balancer since before the crash
    /// learns that it is gone only when TCP's next resend of its first try since the crash,
    /// after the restart, meets a reset (the crashed host sent none), or when TCP gives the
    /// connection up first; one started during the outage dials at once, and gets through once
    /// the balancer is back.
    pub(super) fn dials_again_after_balancer_crash(
        &self,
        g: SimTime,
        back: SimTime,
        tries: &CandidateTries,
    ) -> SimTime {
        match crate::faults::covering(&self.lb_down, g) {
            Some((crash, _)) if tries.connected_before(crash) => self.learns_of_balancer_crash(crash, back, tries),
            _ => back,
        }
    }

    /// When a candidate whose tries are `tries`, connected through the balancer that crashed
    /// at `crash` and takes connections again at `back`, learns that its connection is gone:
    /// when TCP's next resend of its first try since the crash, after the restart, is answered
    /// with a reset (the crashed host sent none), or when TCP gives the connection up first; a
    /// first try after the restart meets the reset itself, and the try after it dials anew.
    fn learns_of_balancer_crash(&self, crash: SimTime, back: SimTime, tries: &CandidateTries) -> SimTime {
        // On a copy: drawing the tries up to the crash must not move the draws the takeover
        // makes (a crash long after the run would restart their phase).
        let first = tries.clone().at_or_after(crash);
        if first >= back && back != SimTime::MAX {
            first + SimDuration::from_nanos(1)
        } else {
            crate::faults::next_retransmission(first, back, tries.balancer_rtt).min(first + TCP_RETRIES2_TIMEOUT)
        }
    }

    /// When a request that a controller on master `k` has on its connection to the balancer
    /// at `t` gets through: at `t`, or, if a network fault has cut that route, at TCP's first
    /// resend after the repair ([`SimTime::MAX`] if never repaired).
    pub(super) fn request_held_for_cut(&self, k: usize, t: SimTime) -> SimTime {
        let held = self.plan.unreachable[k]
            .iter()
            .filter(|w| w.0 <= t)
            .map(|&(cut, repaired)| {
                crate::faults::next_retransmission(cut, repaired, self.base_rtt(self.masters[k], self.lb))
            })
            .max();
        held.map_or(t, |h| h.max(t))
    }

    /// The first instant from `s` when a write sent on a connection to apiserver `m` that a
    /// client holds on to gets through ([`SimTime::MAX`]: not before the run's end, or never
    /// on this connection): the apiserver keeps running (a crash of its master takes the
    /// connection with it); a cut from the balancer holds the request until TCP's first resend
    /// after the repair; a member outside a quorum, or stopped, holds it until the member is
    /// back in a quorum.
    pub(super) fn write_through_held_connection(&self, m: usize, s: SimTime) -> SimTime {
        let plan = &self.plan;
        let mut t = s;
        // Each step moves past a window: at most one per window of the plan.
        for _ in 0..=plan.edges().len() {
            if t == SimTime::MAX {
                break;
            }
            if let Some((cut, repaired)) = crate::faults::covering(&plan.unreachable[m], t) {
                // Never repaired: the resend is never (`SimTime::MAX`).
                t = crate::faults::next_retransmission(cut, repaired, self.base_rtt(self.lb, self.masters[m]));
            } else if let Some(back) = plan.etcd_back(m, t) {
                t = back;
            } else {
                return if plan.throughout(s, t, |u| plan.apiserver_up(m, u)) && plan.apiserver_up(m, t) {
                    t
                } else {
                    SimTime::MAX
                };
            }
        }
        SimTime::MAX
    }
}

impl CandidateClock<'_> {
    /// The candidate's try at or after `t` ([`CandidateTries`]: client-go's jittered waits), as
    /// of when it is answered. A try while the balancer itself is down goes nowhere: the next
    /// after it is back. One while etcd commits nothing (its simulated elections have no leader
    /// with a quorum: `commits`) is held, etcd's client waiting, and answered once writes
    /// resume if that is within the leader-election client's timeout (the renew deadline); if
    /// not, it times out, and the try answered is the first within a timeout of the resumption
    /// (the model's tries keep their draws rather than sliding behind the timed-out one).
    fn try_from(&self, t: SimTime, tries: &mut CandidateTries) -> SimTime {
        let (cp, timers, commits) = (self.cp, self.timers, self.commits);
        let mut t = t;
        // Each pass moves past a stretch without writes, or returns.
        for _ in 0..STRETCHES_PASSED_AT_MOST {
            let mut g = tries.at_or_after(t);
            for _ in 0..=cp.lb_down.len() {
                let back = cp.balancer_takes_connections(g);
                if back == g {
                    break;
                }
                g = tries.at_or_after(cp.dials_again_after_balancer_crash(g, back, tries));
            }
            let resumed = if g == SimTime::MAX { g } else { commits(g) };
            if resumed == g || resumed == SimTime::MAX {
                return resumed;
            }
            if resumed.saturating_since(g) <= timers.renew_deadline {
                // A crash of the balancer while it is held drops it: the next try after the
                // balancer is back.
                match cp.lb_down.iter().find(|w| w.0 > g && w.0 <= resumed) {
                    Some(&(_, back)) => {
                        t = back;
                        continue;
                    }
                    None => return resumed,
                }
            }
            t = resumed - timers.renew_deadline;
        }
        SimTime::MAX
    }

    /// The candidate's first try from `from` that reads the lease record as it is now: a try
    /// that could read (the balancer up, a quorum serving; one that could not saw an older
    /// record). It takes the lease at its first try a lease duration after (client-go's
    /// `observedTime`). `None` if no quorum serves again.
    fn observed(&self, from: SimTime, tries: &mut CandidateTries) -> Option<SimTime> {
        let tried = self.try_from(from, tries);
        self.cp
            .plan
            .first_served_from(tried)
            .map(|t| if t == tried { t } else { self.try_from(t, tries) })
    }

    /// When a try the candidate makes at `t` gets through, and whether on its standby's own
    /// connection (`link`, [`StandbyLink`]: through its apiserver, held while that is cut off
    /// or out of a quorum); a try on a dead connection goes nowhere until the session ends,
    /// and the first try after dials anew, through HAProxy's round robin (`None`), as every try
    /// of a candidate not so pinned does.
    fn on_link(&self, t: SimTime, link: Option<StandbyLink>, tries: &mut CandidateTries) -> (SimTime, Option<usize>) {
        let cp = self.cp;
        match link {
            Some(l) if t < l.ends && t != SimTime::MAX => {
                // A try after a cut's repair queues behind what the tries during the cut left
                // unacknowledged, until TCP's resend.
                let through = if t < l.dies {
                    cp.write_through_held_connection(l.to, cp.request_held_for_cut(l.to, t))
                } else {
                    SimTime::MAX
                };
                if through < l.dies {
                    (through, Some(l.to))
                } else {
                    (self.try_from(l.ends, tries), None)
                }
            }
            _ => (t, None),
        }
    }

    /// When the lease has lapsed in the eyes of a candidate running from `started`: a lease
    /// duration after its try that first read the record as it is now (for a standby that has
    /// run since the renewal, its first try after it; for a candidate started since, its first
    /// once it runs), at its first try from then.
    fn lapsed(&self, started: SimTime, tries: &mut CandidateTries, link: Option<StandbyLink>) -> Option<SimTime> {
        self.observed(started, tries)
            .map(|t| self.try_from(self.on_link(t, link, tries).0 + self.timers.lease, tries))
    }

    /// Candidate `k`'s (the controller's program on master `k`) first try from `s` that gets a
    /// write through and takes the lease that lapsed as `lapse` says, with HAProxy's round
    /// robin standing at `rr`: when it commits, the apiserver it goes through, and where the
    /// round robin stands after its tries. A standby's try on a route cut from the balancer
    /// goes at TCP's resend after the repair; one pinned to an apiserver (`pinned`, by master)
    /// goes on that connection ([`StandbyLink`]). A standby runs since before the renewal,
    /// trying all along; the last holder once restarted, trying at once. A crash of its
    /// master before it wins stops it; it runs again, a fresh candidate that dials anew, once
    /// the master is back. `None` if it never gets a write through.
    fn first_write(
        &self,
        k: usize,
        s: SimTime,
        lapse: Lapse,
        pinned: &[Option<usize>],
        rr: usize,
        rng: &mut impl Rng,
    ) -> Option<(SimTime, usize, usize)> {
        let (cp, timers, commits) = (self.cp, self.timers, self.commits);
        let plan = &cp.plan;
        let (mut started, tries) = if Some(k) == lapse.leader_on {
            (
                lapse.restarted,
                CandidateTries::starting(lapse.restarted, timers.retry, rng),
            )
        } else {
            (
                lapse.renewed,
                CandidateTries::running_at(lapse.renewed, timers.retry, rng),
            )
        };
        let mut tries = tries.with_balancer_rtt(cp.base_rtt(cp.masters[k], cp.lb));
        // A standby still on the connection it made before the run.
        let mut link = pinned
            .get(k)
            .copied()
            .flatten()
            .filter(|_| Some(k) != lapse.leader_on)
            .map(|to| cp.standby_link(to, timers.renew_deadline, &mut tries));
        let mut taken = None;
        for _ in 0..=plan.apiserver_down[k].len() {
            // Its first try from then, and from `s`, that a quorum serves.
            let chance = self
                .lapsed(started, &mut tries, link)
                .and_then(|lapsed| self.observed(lapsed.max(s), &mut tries))
                .map(|t| self.on_link(cp.request_held_for_cut(k, t).max(t), link, &mut tries));
            let mut probe = rr;
            // Its write commits once etcd's elections let it.
            taken = chance
                .filter(|&(t, _)| t != SimTime::MAX)
                .and_then(|(t, on)| match on {
                    Some(via) => Some((via, t)),
                    None => cp.first_serving(t, timers.retry, true, &mut probe),
                })
                .map(|(via, at)| (commits(at), via, probe))
                .filter(|&(at, ..)| at != SimTime::MAX);
            let Some((at, ..)) = taken else {
                break;
            };
            let Some(back) = plan.apiserver_down[k]
                .iter()
                .filter(|w| w.0 < at && w.1 > started)
                .map(|w| w.1)
                .max()
            else {
                break;
            };
            taken = None;
            started = back;
            tries =
                CandidateTries::starting(back, timers.retry, rng).with_balancer_rtt(cp.base_rtt(cp.masters[k], cp.lb));
            // Restarted with its master: it dials anew.
            link = None;
        }
        taken
    }
}
