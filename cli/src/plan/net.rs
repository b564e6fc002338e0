//! Round-trip times of a scenario's network as the plan needs them: etcd members, workers to the
//! apiservers through HAProxy, leaders to the apiservers, HAProxy to its backends, and the OpenVPN
//! tunnels; each with its netem jitter and loss, and the etcd verdicts.

use std::sync::Arc;

use models::etcd::{self, TimerHealth};
use models::network::{HostId, Network, TCP_RTO_MIN};
use models::raft::{self, NetworkLinks, RaftTimers};
use models::spec::{Role, Scenario};
use sim_core::rng::{keyed_seed, stable_key};
use sim_core::SimDuration;

/// One-sided standard-normal quantile at 99 %: the p99 of a normal jitter is mean + 2.326 σ.
const Z99: f64 = 2.326;

/// A round trip along a path: its propagation (plus netem delay), the standard deviation netem's
/// jitter adds, and the probability that at least one packet of the exchange is lost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Rtt {
    /// Mean round trip of a small message, seconds (`Network::base_one_way` there and back).
    pub(crate) base_s: f64,
    /// Standard deviation added by netem's normal jitter, seconds.
    pub(crate) sigma_s: f64,
    /// Probability that a one-packet exchange loses a packet (links' loss and netem's).
    pub(crate) loss: f64,
}

impl Rtt {
    /// Estimated p99 of the round trip, seconds: `base + 2.326 σ`, plus one TCP retransmission
    /// timeout (`TCP_RTO_MIN`, 200 ms, doubling) for every loss whose chance is at least 1 %.
    pub(crate) fn p99_s(&self) -> f64 {
        let mut t = self.base_s + Z99 * self.sigma_s;
        let rto = TCP_RTO_MIN.as_secs_f64();
        let mut k = 1;
        while k <= 6 && self.loss.powi(k) >= 0.01 {
            t += rto * f64::from(1u32 << (k - 1));
            k += 1;
        }
        t
    }

    fn add(self, o: Rtt) -> Rtt {
        Rtt {
            base_s: self.base_s + o.base_s,
            sigma_s: (self.sigma_s.powi(2) + o.sigma_s.powi(2)).sqrt(),
            loss: 1.0 - (1.0 - self.loss) * (1.0 - o.loss),
        }
    }
}

/// The worst of a set of paths and where it runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Worst {
    /// The path's round trip.
    pub(crate) rtt: Rtt,
    /// Its ends, for the report (`a -> lb -> b`).
    pub(crate) path: String,
}

/// etcd's timers against the members' round trips.
#[derive(Debug, Clone)]
pub(crate) struct EtcdHealth {
    /// Member names (the HAProxy backends, one stacked etcd member each).
    pub(crate) members: Vec<String>,
    /// Site of each member.
    pub(crate) sites: Vec<String>,
    /// Round trip between members i and j.
    pub(crate) rtt: Vec<Vec<Rtt>>,
    /// Index of the raft leader (`kubernetes.etcd.leader`, else the first member).
    pub(crate) leader: usize,
    /// The largest mean member round trip, seconds.
    pub(crate) max_rtt_s: f64,
    /// The largest p99 member round trip, seconds.
    pub(crate) max_rtt_p99_s: f64,
    /// WAL fsync, seconds.
    pub(crate) fsync_s: f64,
    /// Commit latency of a write proposed at the leader, seconds.
    pub(crate) commit_s: f64,
    /// Linearizable-read (read-index) latency at the leader, seconds.
    pub(crate) read_index_s: f64,
    /// Commit latency of a write entering at each member (forwarded to the leader), seconds.
    pub(crate) commit_at_s: Vec<f64>,
    /// `--heartbeat-interval`, seconds.
    pub(crate) heartbeat_s: f64,
    /// `--election-timeout`, seconds.
    pub(crate) election_s: f64,
    /// `timer_health` at the mean largest RTT.
    pub(crate) verdict: TimerHealth,
    /// `timer_health` at the p99 largest RTT.
    pub(crate) verdict_p99: TimerHealth,
    /// The members' leader elections simulated message by message.
    pub(crate) raft: RaftFigures,
    /// When the timers are not healthy: the recommended heartbeat and election timeout
    /// (seconds, `timeouts::etcd_recommendation`) and the elections simulated with them.
    pub(crate) raft_recommended: Option<((f64, f64), Box<RaftFigures>)>,
}

/// Simulated hours of etcd's steady state per plan: at the defaults' ten heartbeats a second
/// this is about 1.5 million events, some 0.1 s (BENCHMARKS.md), and a rate of spurious
/// elections down to one every two hours shows at least once on average.
pub(crate) const RAFT_HOURS: u64 = 6;

/// Most heartbeat intervals simulated: six hours at etcd's default 100 ms.
const RAFT_TICKS: u64 = 216_000;

/// Leader crashes simulated per plan.
pub(crate) const FAILOVER_TRIALS: u64 = 100;

/// A crash whose cluster has no quorum-backed leader this long after it counts as not repaired:
/// two minutes, what the kubelets' and controllers' clients of v1.16 retry through before their
/// requests time out (client-go's 60-s request timeout, twice).
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
    /// themselves (votes, or a new leader's first quorum check, too late).
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
fn raft_figures(
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
    // At most RAFT_TICKS heartbeats: etcd allows a heartbeat of 1 ms (E-checks), which over
    // six hours would be a hundred million events.
    let span = SimDuration::from_secs(RAFT_HOURS * 3600).min(timers.heartbeat * RAFT_TICKS);
    let steady = raft::steady_state(links(), n, leader, timers, span, keyed_seed(seed, key));
    let trials = if n > n / 2 + 1 { FAILOVER_TRIALS } else { 0 };
    let outcomes: Vec<raft::Failover> = (0..trials)
        .map(|t| {
            // Each member leads in turn: after any election any member may lead.
            raft::leader_failover_outcome(
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

/// Every round trip the report uses, for one scenario (one control-plane placement).
#[derive(Debug, Clone)]
pub(crate) struct NetFigures {
    /// etcd.
    pub(crate) etcd: EtcdHealth,
    /// Worst worker -> lb -> apiserver round trip (by p99).
    pub(crate) worker_api: Worst,
    /// Mean worker -> lb -> apiserver round trip, averaged over the masters, per worker (in
    /// scenario order of the workers).
    pub(crate) worker_api_mean_s: Vec<f64>,
    /// Worst leader (any master) -> lb -> apiserver round trip.
    pub(crate) leader_api: Worst,
    /// Worst HAProxy -> backend round trip.
    pub(crate) lb_backend: Worst,
    /// Worst round trip between the two ends of an OpenVPN tunnel (over the overlay), if any.
    pub(crate) tunnel: Option<Worst>,
    /// Tunnels counted.
    pub(crate) tunnels: usize,
}

/// The masters the model uses: the HAProxy backends, duplicates dropped, in configuration order.
pub(crate) fn masters(s: &Scenario) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for b in &s.haproxy.backends {
        if !out.contains(b) {
            out.push(b.clone());
        }
    }
    out
}

fn secs(d: SimDuration) -> f64 {
    d.as_secs_f64()
}

fn leg(net: &Network, a: HostId, b: HostId) -> Rtt {
    if a == b {
        return Rtt::default();
    }
    let Some((route, reversed)) = net.route(a, b) else {
        return Rtt {
            base_s: f64::INFINITY,
            ..Rtt::default()
        };
    };
    let netem = if reversed {
        route.netem_reverse
    } else {
        route.netem_forward
    };
    let rule = net.netem();
    Rtt {
        base_s: net.base_one_way(a, b).map_or(f64::INFINITY, secs),
        // Once per delayed tunnel direction crossed: independent jitters add in quadrature.
        sigma_s: secs(rule.jitter) * f64::from(netem).sqrt(),
        loss: 1.0 - (1.0 - route.loss) * (1.0 - rule.loss).powi(i32::from(netem)),
    }
}

/// Round trip along `hops` and back.
fn path_rtt(net: &Network, hops: &[HostId]) -> Rtt {
    let mut r = Rtt::default();
    for w in hops.windows(2) {
        r = r.add(leg(net, w[0], w[1])).add(leg(net, w[1], w[0]));
    }
    r
}

fn worst(paths: impl Iterator<Item = (Rtt, String)>) -> Worst {
    let mut best: Option<Worst> = None;
    for (rtt, path) in paths {
        if best.as_ref().is_none_or(|b| rtt.p99_s() > b.rtt.p99_s()) {
            best = Some(Worst { rtt, path });
        }
    }
    best.unwrap_or_default()
}

/// Computes the figures of `s`.
///
/// # Errors
///
/// When the network cannot be built (the scenario checks catch this first).
pub(crate) fn figures(s: &Scenario, seed: u64) -> anyhow::Result<NetFigures> {
    let masters = masters(s);
    anyhow::ensure!(!masters.is_empty(), "haproxy.backends is empty: there is no apiserver");
    let lb_name = s.haproxy.host.as_str();
    let mut sources: Vec<&str> = vec![lb_name];
    sources.extend(masters.iter().map(String::as_str));
    let routers: Vec<&str> = s.sites.iter().map(|x| x.router.as_str()).collect();
    sources.extend(routers.iter().copied());
    let net = Arc::new(Network::build(s, &sources)?);
    let id = |n: &str| net.host(n).ok_or_else(|| anyhow::anyhow!("host `{n}` is not defined"));
    let lb = id(lb_name)?;
    let m_ids: Vec<HostId> = masters.iter().map(|m| id(m)).collect::<anyhow::Result<_>>()?;
    let site_of = |h: HostId| net.site_name(h).to_owned();

    // etcd.
    let n = m_ids.len();
    let rtt: Vec<Vec<Rtt>> = (0..n)
        .map(|i| (0..n).map(|j| path_rtt(&net, &[m_ids[i], m_ids[j]])).collect())
        .collect();
    let leader = s
        .kubernetes
        .etcd
        .leader
        .as_ref()
        .and_then(|l| masters.iter().position(|m| m == l))
        .unwrap_or(0);
    let dur = |x: f64| SimDuration::from_secs_f64(x.max(0.0));
    let follower: Vec<SimDuration> = (0..n)
        .filter(|&i| i != leader)
        .map(|i| dur(rtt[leader][i].base_s))
        .collect();
    let fsync = s.kubernetes.etcd.fsync.get();
    let commit = etcd::commit_latency(fsync, &follower);
    let read = etcd::read_index_latency(&follower);
    let commit_at_s = (0..n)
        .map(|i| secs(commit) + if i == leader { 0.0 } else { rtt[i][leader].base_s })
        .collect();
    let mut max_rtt_s: f64 = 0.0;
    let mut max_rtt_p99_s: f64 = 0.0;
    for (i, row) in rtt.iter().enumerate() {
        for r in row.iter().skip(i + 1) {
            max_rtt_s = max_rtt_s.max(r.base_s);
            max_rtt_p99_s = max_rtt_p99_s.max(r.p99_s());
        }
    }
    let hb = s.kubernetes.etcd.heartbeat.get();
    let el = s.kubernetes.etcd.election_timeout.get();
    // Faults that reach messages between members: a crashed master is the failover trials'
    // subject, not the network's.
    let network_faults = s.faults.iter().any(|f| match f {
        models::spec::Fault::Crash { host, .. } => !masters.contains(host),
        models::spec::Fault::CrashEtcdLeader { .. } => false,
        _ => true,
    });
    let quiet = !network_faults && rtt.iter().flatten().all(|r| r.sigma_s == 0.0 && r.loss == 0.0);
    let timers = RaftTimers {
        heartbeat: hb,
        election: el,
    };
    let mut etcd = EtcdHealth {
        members: masters.clone(),
        sites: m_ids.iter().map(|&m| site_of(m)).collect(),
        rtt,
        leader,
        max_rtt_s,
        max_rtt_p99_s,
        fsync_s: secs(fsync),
        commit_s: secs(commit),
        read_index_s: secs(read),
        commit_at_s,
        heartbeat_s: secs(hb),
        election_s: secs(el),
        verdict: etcd::timer_health(hb, el, dur(max_rtt_s)),
        verdict_p99: etcd::timer_health(hb, el, dur(max_rtt_p99_s)),
        raft: raft_figures(&net, &m_ids, leader, timers, quiet, network_faults, seed),
        raft_recommended: None,
    };
    // What the recommended timers would do, simulated on the same seeds: fewer spurious
    // elections, and a slower failover.
    if etcd.verdict_p99 != TimerHealth::Healthy {
        let (hb, el) = super::timeouts::etcd_recommendation(&etcd);
        let t = RaftTimers {
            heartbeat: dur(hb),
            election: dur(el),
        };
        let r = raft_figures(&net, &m_ids, leader, t, quiet, network_faults, seed);
        etcd.raft_recommended = Some(((hb, el), Box::new(r)));
    }

    // Workers to the apiservers, through HAProxy.
    let workers: Vec<HostId> = s
        .hosts
        .iter()
        .filter(|h| h.role == Role::Worker)
        .map(|h| id(&h.name))
        .collect::<anyhow::Result<_>>()?;
    let mut worker_api_mean_s = Vec::with_capacity(workers.len());
    let mut all = Vec::with_capacity(workers.len() * n);
    for &w in &workers {
        let mut sum = 0.0;
        for &m in &m_ids {
            let r = path_rtt(&net, &[w, lb, m]);
            sum += r.base_s;
            all.push((r, format!("{} -> {} -> {}", net.name(w), lb_name, net.name(m))));
        }
        worker_api_mean_s.push(sum / n as f64);
    }
    let worker_api = worst(all.into_iter());
    let leader_api = worst(m_ids.iter().flat_map(|&l| {
        let net = &net;
        m_ids.iter().map(move |&b| {
            (
                path_rtt(net, &[l, lb, b]),
                format!("{} -> {} -> {}", net.name(l), lb_name, net.name(b)),
            )
        })
    }));
    let lb_backend = worst(
        m_ids
            .iter()
            .map(|&b| (path_rtt(&net, &[lb, b]), format!("{} -> {}", lb_name, net.name(b)))),
    );
    let (tunnel, tunnels) = if s.vpn.enabled {
        let names: Vec<String> = s.sites.iter().map(|x| x.name.clone()).collect();
        let pairs = models::vpn::tunnel_pairs(&s.vpn.topology, &names);
        let count = pairs.len();
        let r_ids: Vec<HostId> = routers.iter().map(|r| id(r)).collect::<anyhow::Result<_>>()?;
        let w = worst(pairs.into_iter().map(|(a, b)| {
            (
                path_rtt(&net, &[r_ids[a], r_ids[b]]),
                format!("{} <-> {}", routers[a], routers[b]),
            )
        }));
        ((count > 0).then_some(w), count)
    } else {
        (None, 0)
    };
    Ok(NetFigures {
        etcd,
        worker_api,
        worker_api_mean_s,
        leader_api,
        lb_backend,
        tunnel,
        tunnels,
    })
}

/// The verdict's name and what it means for elections.
pub(crate) fn verdict_text(v: TimerHealth) -> (&'static str, &'static str) {
    match v {
        TimerHealth::Healthy => (
            "healthy",
            "heartbeat at or above the largest member RTT and election timeout at least 10 x it: spurious elections are unlikely",
        ),
        TimerHealth::AtRisk => (
            "at risk",
            "outside the tuning guide (heartbeat below the largest RTT, or election timeout under 10 RTTs): a delayed or lost heartbeat can start a spurious election, which stalls every write for about an election timeout",
        ),
        TimerHealth::Unstable => (
            "unstable",
            "the election timeout is at most the RTT plus half a heartbeat interval: a new leader checks its quorum before its followers' first answers come back and steps down, so a lost leader is replaced late or never",
        ),
    }
}
