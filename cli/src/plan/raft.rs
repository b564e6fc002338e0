//! etcd's leader elections over the members' routes, as the plan reports them: the steady
//! state's depositions and write stalls, and leader failovers (`models::raft`), with their
//! figures in words for sections (c) and (d).

use std::sync::Arc;

use models::network::{HostId, Network};
use models::raft::{self, NetworkLinks, RaftTimers};
use sim_core::rng::{keyed_seed, stable_key};
use sim_core::SimDuration;

/// Simulated hours of etcd's steady state per plan: at the defaults' ten heartbeats a second
/// this is about 1.5 million events, some 0.1 s (BENCHMARKS.md), and a rate of spurious
/// elections down to one every two hours shows at least once on average.
pub(crate) const RAFT_HOURS: u64 = 6;

/// Leader crashes simulated per plan: enough for the p90 the report prints to rest on ten
/// trials, and, with the leader rotating, over thirty crashes of each of three members (a
/// modelling choice, not a Kubernetes default; 100 trials of a few simulated seconds each cost
/// milliseconds).
pub(crate) const FAILOVER_TRIALS: u64 = 100;

/// A crash whose cluster has no quorum-backed leader this long after it counts as not repaired:
/// two minutes, twice kube-apiserver's `--request-timeout` (v1.16 default 1m0s), so that a
/// write waiting for etcd would have timed out at least once (a reporting threshold, not a
/// Kubernetes timer).
pub(crate) const FAILOVER_LIMIT: SimDuration = SimDuration::from_secs(120);

/// When the leader crashes in a failover trial: the first moment writes commit after ten seconds
/// of steady state (past the run's warm-up at etcd's default timers).
const FAILOVER_AT: SimDuration = SimDuration::from_secs(10);

/// etcd's leader elections over the members' routes (`models::raft`).
#[derive(Debug, Clone, Default)]
pub(crate) struct RaftFigures {
    /// Simulated steady state.
    pub(crate) steady: raft::Liveness,
    /// Leader crashes tried.
    pub(crate) trials: u64,
    /// Time until writes commit again, seconds, of the trials in which they did within
    /// [`FAILOVER_LIMIT`], ascending.
    pub(crate) failover_s: Vec<f64>,
    /// Trials in which writes never committed after the crash was due, so that no leader was
    /// crashed.
    pub(crate) no_leader: u64,
    /// etcd members.
    pub(crate) members: usize,
    /// No jitter, loss or fault reaches the members' routes: nothing can open a gap.
    pub(crate) quiet: bool,
    /// The scenario has network faults (they reach the members' messages): they happen once
    /// in the simulated span, not every hour.
    pub(crate) faults: bool,
}

impl RaftFigures {
    /// Elections started per simulated hour, in the run.
    pub(crate) fn campaigns_per_hour(&self) -> f64 {
        self.steady.per_hour(self.steady.campaigns)
    }

    /// At least this many depositions of the leader per hour: the heartbeat gaps that outlast
    /// any randomized timeout (`Liveness::gaps_must_elect`).
    pub(crate) fn at_least_per_hour(&self) -> f64 {
        self.steady.per_hour(self.steady.gaps_must_elect)
    }

    /// At most this many depositions per hour: every gap that can start an election weighed by
    /// the chance that a fresh randomized timeout runs out within it
    /// (`Liveness::expected_campaigns`). A member keeps its draw until the next change of
    /// state, and the draws that ride out more gaps last longer, so a cluster's long-run rate
    /// (one over the mean time between elections) is below this mean over draws.
    pub(crate) fn at_most_per_hour(&self) -> f64 {
        let h = self.steady.span.as_secs_f64() / 3600.0;
        if h > 0.0 {
            self.steady.expected_campaigns / h
        } else {
            0.0
        }
    }

    /// When no election was started: the 95 % upper bound of the rate (a Poisson count of zero
    /// bounds its mean by 3.0), per hour.
    pub(crate) fn campaigns_per_hour_bound(&self) -> f64 {
        3.0 / (self.steady.span.as_secs_f64() / 3600.0).max(1e-9)
    }

    /// Leaders elected per hour beyond what the gaps explain: elections that fail by
    /// themselves (votes, or a new leader's first quorum check, too late). The margin, 1.5 x the
    /// bound + 1 per hour, is kubetwin's: over a 6-hour run it is at least 3.4 standard
    /// deviations of a Poisson count at the bound, whatever the rate (the least at 2 per hour),
    /// so chance alone does not call a cluster unstable.
    pub(crate) fn unstable(&self) -> bool {
        let elected = self.steady.per_hour(self.steady.elections);
        elected > 0.0 && elected > self.at_most_per_hour() * 1.5 + 1.0
    }

    /// Mean failover time of the trials that had one, seconds.
    pub(crate) fn failover_mean_s(&self) -> Option<f64> {
        (!self.failover_s.is_empty()).then(|| self.failover_s.iter().sum::<f64>() / self.failover_s.len() as f64)
    }

    /// The `q`-quantile of the trials' failover times counting the unrepaired ones as the
    /// slowest (`None` if it falls among those).
    pub(crate) fn failover_quantile_s(&self, q: f64) -> Option<f64> {
        if self.trials == 0 {
            return None;
        }
        let k = ((q * self.trials as f64).ceil() as usize).clamp(1, self.trials as usize) - 1;
        self.failover_s.get(k).copied()
    }

    /// How long the steady state was simulated: `6 hours`, or a duration when shorter.
    pub(crate) fn span_text(&self) -> String {
        let secs = self.steady.span.as_secs_f64();
        if secs >= 3600.0 {
            format!("{:.0} hours", secs / 3600.0)
        } else {
            super::fmt::dur(secs)
        }
    }

    /// The steady state in words: how often the leader is deposed and what it costs writes.
    pub(crate) fn steady_text(&self) -> String {
        let l = &self.steady;
        let span = self.span_text();
        let fmt = super::fmt::dur;
        let this_run = format!(
            "{} elections started, {} leaders elected, writes stalled {} in all, {} at the longest",
            l.campaigns,
            l.elections,
            fmt(l.stalled.as_secs_f64()),
            fmt(l.longest_stall.as_secs_f64())
        );
        if l.gaps_may_elect == 0 && l.campaigns == 0 {
            if self.quiet {
                return format!(
                    "none: without jitter, loss or faults on the members' routes no heartbeat gap can open ({span} simulated)"
                );
            }
            return format!(
                "none in {span} simulated (fewer than {:.1} per hour at 95 %): no heartbeat gap long enough to start one",
                self.campaigns_per_hour_bound()
            );
        }
        if l.gaps_may_elect == 0 {
            return format!(
                "no gap in a leader's heartbeats, yet in {span}: {this_run}. Members cut off by the scenario's network faults campaign alone, raising their term, and depose the leader when they return"
            );
        }
        let mut t = format!(
            "heartbeat gaps depose the leader **{:.1} to {:.1} times per hour**: at least the {} gaps in {span} of the longest randomized timeout or more, at most all {} gaps long enough for some timeout, each weighed by the chance that a fresh draw runs out within it (a member keeps its draw until the next election, and the draws that ride out more gaps last longer, so the long run is below the upper figure); each deposition is an election or more. This run: {this_run}",
            self.at_least_per_hour(),
            self.at_most_per_hour(),
            l.gaps_must_elect,
            l.gaps_may_elect,
        );
        if self.faults {
            t.push_str(&format!(
                " (the scenario's network faults happen once in the {span}, and count in these rates as such)"
            ));
        }
        if self.unstable() {
            t.push_str(&format!(
                ". **Unstable**: {:.1} leaders elected per hour, more than the gaps explain: elections fail by themselves (a candidate's votes, or a new leader's first answers, come back after its timer has run out)",
                l.per_hour(l.elections)
            ));
        }
        t
    }

    /// What the simulation says about the static verdict above, in one sentence.
    pub(crate) fn summary(&self, election_s: f64, max_rtt_s: f64) -> String {
        let fmt = super::fmt::dur;
        let l = &self.steady;
        let hours = l.span.as_secs_f64() / 3600.0;
        if self.trials == 0 && self.members >= 2 {
            return format!(
                "Simulated: with {} members, losing one leaves no quorum, so no failure is survived: etcd needs 3 members to survive one.",
                self.members
            );
        }
        if self.trials > 0 && self.failover_s.is_empty() {
            return format!(
                "Simulated: a leader that fails is **never replaced** (none of {} crashes within {}): at a member round trip of up to {}, a candidate's votes or a new leader's first answers come back after its timer has run out (a new leader must hear from a quorum within one election timeout, {}); raise `--election-timeout` well above the round trip.",
                self.trials,
                fmt(FAILOVER_LIMIT.as_secs_f64()),
                fmt(max_rtt_s),
                fmt(election_s)
            );
        }
        let lost = self.trials - self.failover_s.len() as u64 - self.no_leader;
        let failover = match self.failover_mean_s() {
            Some(m) if lost > 0 => format!(
                "; a lost leader is replaced in {} on average when it is, but in **{lost} of {} trials not within {}** (some members are too far from the others to lead them)",
                fmt(m),
                self.trials,
                fmt(FAILOVER_LIMIT.as_secs_f64())
            ),
            Some(m) => format!("; a lost leader is replaced in {} on average", fmt(m)),
            None => String::new(),
        };
        if l.campaigns > 0 && l.gaps_may_elect == 0 {
            return format!(
                "Simulated: no leader's heartbeats paused, but members cut off by the scenario's network faults started {} elections alone, raising their term, and depose the leader when they return (writes stalled {} in the {}){failover}.",
                l.campaigns,
                fmt(l.stalled.as_secs_f64()),
                self.span_text()
            );
        }
        if l.campaigns == 0 && l.gaps_may_elect == 0 {
            format!(
                "Simulated: no heartbeat gap long enough to start an election in {}. A constant delay, however long, holds back every heartbeat alike; only jitter, loss or an outage opens a gap{failover}.",
                self.span_text()
            )
        } else {
            format!(
                "Simulated: jitter, loss or the scenario's network faults depose the leader {:.1} to {:.1} times per hour, each stalling every write until a new leader hears from a quorum (this run: {} stalled per hour){failover}.",
                self.at_least_per_hour(),
                self.at_most_per_hour(),
                fmt(l.stalled.as_secs_f64() / hours.max(1e-9))
            )
        }
    }

    /// Elections and failover in a few words, for a table cell.
    pub(crate) fn brief(&self) -> String {
        let fmt = super::fmt::dur;
        let l = &self.steady;
        let elections = if l.campaigns == 0 && l.gaps_may_elect == 0 {
            format!("no election in {}", self.span_text())
        } else if self.unstable() {
            format!("**unstable**: {:.1} leaders/h", l.per_hour(l.elections))
        } else {
            let once = if self.faults { " (faults once)" } else { "" };
            format!(
                "leader deposed {:.1}-{:.1}/h{once}",
                self.at_least_per_hour(),
                self.at_most_per_hour()
            )
        };
        let done = self.failover_s.len() as u64;
        let lost = self.trials - done - self.no_leader;
        let failover = match (self.trials, done) {
            (0, _) if self.members >= 2 => "; a lost member leaves no quorum".into(),
            (0, _) => String::new(),
            (_, 0) => "; a lost leader never replaced".into(),
            _ if lost > 0 => format!("; a lost leader not replaced in {lost} of {}", self.trials),
            _ => format!("; failover {}", self.failover_mean_s().map_or("n/a".into(), fmt)),
        };
        format!("{elections}{failover}")
    }

    /// The failover trials in words.
    pub(crate) fn failover_text(&self) -> String {
        let fmt = super::fmt::dur;
        if self.trials == 0 {
            return if self.members < 2 {
                "n/a (a single member has nobody to fail over to)".into()
            } else {
                format!("n/a: losing one of {} members leaves no quorum", self.members)
            };
        }
        let done = self.failover_s.len() as u64;
        let limit = fmt(FAILOVER_LIMIT.as_secs_f64());
        if done == 0 {
            return format!(
                "**never** within {limit} in {} trials: a candidate's votes or a new leader's first answers come back after its timer has run out",
                self.trials
            );
        }
        let slowest = if done < self.trials {
            format!("over {limit}")
        } else {
            self.failover_s.last().map_or("n/a".into(), |x| fmt(*x))
        };
        let mut t = format!(
            "mean {}, p90 {}, slowest {slowest} ({} trials, each member leading in turn",
            self.failover_mean_s().map_or("n/a".into(), fmt),
            self.failover_quantile_s(0.9).map_or(format!("over {limit}"), fmt),
            self.trials
        );
        let lost = self.trials - done - self.no_leader;
        if lost > 0 {
            t.push_str(&format!("; **{lost} of them not within {limit}**"));
        }
        if self.no_leader > 0 {
            t.push_str(&format!(
                "; in {} no leader was committing writes to be crashed",
                self.no_leader
            ));
        }
        t.push(')');
        t
    }
}

/// Runs etcd's raft over the members' routes: [`RAFT_HOURS`] of steady state, and
/// [`FAILOVER_TRIALS`] leader crashes.
pub(crate) fn raft_figures(
    net: &Arc<Network>,
    members: &[HostId],
    leader: usize,
    timers: RaftTimers,
    quiet: bool,
    faults: bool,
    seed: u64,
) -> RaftFigures {
    let links = || Box::new(NetworkLinks::new(Arc::clone(net), members.to_vec()));
    let n = members.len();
    let key = stable_key("plan-raft");
    // At most the heartbeats of RAFT_HOURS at etcd's default heartbeat: etcd allows a heartbeat
    // of 1 ms (E-checks), which over six hours would be a hundred million events.
    let hours = SimDuration::from_secs(RAFT_HOURS * 3600);
    let most_ticks = hours.as_nanos() / models::spec::Etcd::default().heartbeat.get().as_nanos();
    let span = hours.min(timers.heartbeat * most_ticks);
    let steady = raft::steady_state(links(), n, leader, timers, span, keyed_seed(seed, key));
    let trials = if n > n / 2 + 1 { FAILOVER_TRIALS } else { 0 };
    let outcomes: Vec<raft::Failover> = (0..trials)
        .map(|t| {
            // Each member leads in turn: after any election any member may lead.
            raft::leader_failover(
                links(),
                n,
                (leader + t as usize) % n.max(1),
                timers,
                FAILOVER_AT,
                FAILOVER_LIMIT,
                keyed_seed(seed, key + 1 + t),
            )
        })
        .collect();
    let mut failover_s: Vec<f64> = outcomes
        .iter()
        .filter_map(|o| o.replaced().map(SimDuration::as_secs_f64))
        .collect();
    failover_s.sort_by(f64::total_cmp);
    let no_leader = outcomes
        .iter()
        .filter(|o| **o == raft::Failover::NoLeaderToCrash)
        .count() as u64;
    RaftFigures {
        steady,
        // Trials only where the others are a quorum (three members or more).
        trials,
        failover_s,
        no_leader,
        members: n,
        quiet,
        faults,
    }
}
