//! Round-trip times of a scenario's network as the plan needs them: etcd members, workers to the
//! apiservers through HAProxy, leaders to the apiservers, HAProxy to its backends, and the OpenVPN
//! tunnels; each with its netem jitter and loss, and the etcd verdicts.

use std::sync::Arc;

use models::etcd::{self, TimerHealth};
use models::network::{HostId, Network, TCP_RTO_MIN};
use models::raft::RaftTimers;
use models::spec::{Role, Scenario};
use sim_core::SimDuration;

use super::raft::{raft_figures, RaftFigures};

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
    /// timeout (the round trip plus `TCP_RTO_MIN`, 200 ms, Linux's on a steady path; doubling)
    /// for every loss whose chance is at least 1 %. At most 6 resends are counted: a loss whose
    /// sixth power is still 1 % (46.4 % or more) is an outage, not a slow round trip, and six
    /// doubling resends of even a 200-ms RTO add 12.6 s, longer than the renew deadline.
    pub(crate) fn p99_s(&self) -> f64 {
        let mut t = self.base_s + Z99 * self.sigma_s;
        let rto = self.base_s + TCP_RTO_MIN.as_secs_f64();
        let mut k = 1;
        while k <= 6 && self.loss.powi(k) >= 0.01 {
            t += rto * f64::from(1u32 << (k - 1));
            k += 1;
        }
        t
    }

    /// Estimated p99 of a datagram's round trip, seconds: `base + 2.326 σ`, without the TCP
    /// resends of [`Rtt::p99_s`] (a lost datagram is lost, not late).
    pub(crate) fn udp_p99_s(&self) -> f64 {
        Rtt { loss: 0.0, ..*self }.p99_s()
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
    worst_by(paths, Rtt::p99_s)
}

/// The path of `paths` whose `key` is the largest (the first of equals).
fn worst_by(paths: impl Iterator<Item = (Rtt, String)>, key: impl Fn(&Rtt) -> f64) -> Worst {
    let mut best: Option<Worst> = None;
    for (rtt, path) in paths {
        if best.as_ref().is_none_or(|b| key(&rtt) > key(&b.rtt)) {
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
    let hosts = Hosts::build(s, &masters)?;
    let etcd = etcd_health(s, &hosts, &masters, seed);
    let (worker_api, worker_api_mean_s) = worker_paths(s, &hosts)?;
    let leader_api = leader_paths(&hosts);
    let lb_backend = lb_paths(&hosts);
    let (tunnel, tunnels) = vpn_tunnels(s, &hosts)?;
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

/// The scenario's network, built with routes from the hosts the figures start at, and those hosts.
struct Hosts<'s> {
    /// The network.
    net: Arc<Network>,
    /// HAProxy's host name.
    lb_name: &'s str,
    /// HAProxy's host.
    lb: HostId,
    /// The masters, in [`masters`] order.
    masters: Vec<HostId>,
    /// The sites' routers (the OpenVPN endpoints), in site order.
    routers: Vec<&'s str>,
}

impl<'s> Hosts<'s> {
    /// Builds the network of `s` with routes from HAProxy, the `masters` and the routers.
    fn build(s: &'s Scenario, masters: &[String]) -> anyhow::Result<Self> {
        let lb_name = s.haproxy.host.as_str();
        let mut sources: Vec<&str> = vec![lb_name];
        sources.extend(masters.iter().map(String::as_str));
        let routers: Vec<&str> = s.sites.iter().map(|x| x.router.as_str()).collect();
        sources.extend(routers.iter().copied());
        let net = Arc::new(Network::build(s, &sources)?);
        let lb = host_id(&net, lb_name)?;
        let masters = masters
            .iter()
            .map(|m| host_id(&net, m))
            .collect::<anyhow::Result<_>>()?;
        Ok(Hosts {
            net,
            lb_name,
            lb,
            masters,
            routers,
        })
    }

    /// The host called `n`.
    fn id(&self, n: &str) -> anyhow::Result<HostId> {
        host_id(&self.net, n)
    }
}

/// The host of `net` called `n`.
fn host_id(net: &Network, n: &str) -> anyhow::Result<HostId> {
    net.host(n).ok_or_else(|| anyhow::anyhow!("host `{n}` is not defined"))
}

/// A duration of `x` seconds (none if negative).
fn duration(x: f64) -> SimDuration {
    SimDuration::from_secs_f64(x.max(0.0))
}

/// etcd's figures: the member round trips, commit and read latencies, the timers' verdicts, and
/// the leader elections simulated with the scenario's timers (and, when those are not healthy,
/// with the recommended ones, on the same seeds).
fn etcd_health(s: &Scenario, hosts: &Hosts<'_>, masters: &[String], seed: u64) -> EtcdHealth {
    let (net, m_ids) = (&hosts.net, &hosts.masters);
    let n = m_ids.len();
    let rtt: Vec<Vec<Rtt>> = (0..n)
        .map(|i| (0..n).map(|j| path_rtt(net, &[m_ids[i], m_ids[j]])).collect())
        .collect();
    let leader = s
        .kubernetes
        .etcd
        .leader
        .as_ref()
        .and_then(|l| masters.iter().position(|m| m == l))
        .unwrap_or(0);
    let follower: Vec<SimDuration> = (0..n)
        .filter(|&i| i != leader)
        .map(|i| duration(rtt[leader][i].base_s))
        .collect();
    let fsync = s.kubernetes.etcd.fsync.get();
    let commit = etcd::commit_latency(fsync, &follower);
    let read = etcd::read_index_latency(&follower);
    let commit_at_s = (0..n)
        .map(|i| secs(commit) + if i == leader { 0.0 } else { rtt[i][leader].base_s })
        .collect();
    let (max_rtt_s, max_rtt_p99_s) = largest_member_rtts(&rtt);
    let hb = s.kubernetes.etcd.heartbeat.get();
    let el = s.kubernetes.etcd.election_timeout.get();
    let network_faults = faults_reach_members(s, masters);
    let quiet = !network_faults && rtt.iter().flatten().all(|r| r.sigma_s == 0.0 && r.loss == 0.0);
    let timers = RaftTimers {
        heartbeat: hb,
        election: el,
    };
    let mut etcd = EtcdHealth {
        members: masters.to_vec(),
        sites: m_ids.iter().map(|&m| net.site_name(m).to_owned()).collect(),
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
        verdict: etcd::timer_health(hb, el, duration(max_rtt_s)),
        verdict_p99: etcd::timer_health(hb, el, duration(max_rtt_p99_s)),
        raft: raft_figures(net, m_ids, leader, timers, quiet, network_faults, seed),
        raft_recommended: None,
    };
    // What the recommended timers would do, simulated on the same seeds: fewer spurious
    // elections, and a slower failover.
    if etcd.verdict_p99 != TimerHealth::Healthy {
        let (hb, el) = super::timeouts::etcd_recommendation(&etcd);
        let t = RaftTimers {
            heartbeat: duration(hb),
            election: duration(el),
        };
        let r = raft_figures(net, m_ids, leader, t, quiet, network_faults, seed);
        etcd.raft_recommended = Some(((hb, el), Box::new(r)));
    }
    etcd
}

/// The largest mean and the largest p99 round trip between two members, seconds.
fn largest_member_rtts(rtt: &[Vec<Rtt>]) -> (f64, f64) {
    let mut max_rtt_s: f64 = 0.0;
    let mut max_rtt_p99_s: f64 = 0.0;
    for (i, row) in rtt.iter().enumerate() {
        for r in row.iter().skip(i + 1) {
            max_rtt_s = max_rtt_s.max(r.base_s);
            max_rtt_p99_s = max_rtt_p99_s.max(r.p99_s());
        }
    }
    (max_rtt_s, max_rtt_p99_s)
}

/// Whether any of the scenario's faults reaches messages between the members.
fn faults_reach_members(s: &Scenario, masters: &[String]) -> bool {
    // Faults that reach messages between members: a crashed master is the failover trials'
    // subject, not the network's.
    s.faults.iter().any(|f| match f {
        models::spec::Fault::Crash { host, .. } => !masters.contains(host),
        models::spec::Fault::CrashEtcdLeader { .. } => false,
        _ => true,
    })
}

/// Workers to the apiservers, through HAProxy: the worst path, and per worker (in scenario order)
/// its mean round trip over the masters.
fn worker_paths(s: &Scenario, hosts: &Hosts<'_>) -> anyhow::Result<(Worst, Vec<f64>)> {
    let Hosts {
        net,
        lb_name,
        lb,
        masters: m_ids,
        ..
    } = hosts;
    let (lb, n) = (*lb, m_ids.len());
    let workers: Vec<HostId> = s
        .hosts
        .iter()
        .filter(|h| h.role == Role::Worker)
        .map(|h| hosts.id(&h.name))
        .collect::<anyhow::Result<_>>()?;
    let mut worker_api_mean_s = Vec::with_capacity(workers.len());
    let mut all = Vec::with_capacity(workers.len() * n);
    for &w in &workers {
        let mut sum = 0.0;
        for &m in m_ids {
            let r = path_rtt(net, &[w, lb, m]);
            sum += r.base_s;
            all.push((r, format!("{} -> {} -> {}", net.name(w), lb_name, net.name(m))));
        }
        worker_api_mean_s.push(sum / n as f64);
    }
    Ok((worst(all.into_iter()), worker_api_mean_s))
}

/// The worst path from a master (any may lead) through HAProxy to an apiserver.
fn leader_paths(hosts: &Hosts<'_>) -> Worst {
    let Hosts {
        net,
        lb_name,
        lb,
        masters: m_ids,
        ..
    } = hosts;
    worst(m_ids.iter().flat_map(|&l| {
        m_ids.iter().map(move |&b| {
            (
                path_rtt(net, &[l, *lb, b]),
                format!("{} -> {} -> {}", net.name(l), lb_name, net.name(b)),
            )
        })
    }))
}

/// The worst path from HAProxy to one of its backends.
fn lb_paths(hosts: &Hosts<'_>) -> Worst {
    let Hosts {
        net,
        lb_name,
        lb,
        masters: m_ids,
        ..
    } = hosts;
    worst(
        m_ids
            .iter()
            .map(|&b| (path_rtt(net, &[*lb, b]), format!("{} -> {}", lb_name, net.name(b)))),
    )
}

/// The worst round trip between the ends of an OpenVPN tunnel (none without tunnels), and how
/// many tunnels there are. Worst by its p99 without TCP's resends ([`Rtt::udp_p99_s`]): what it
/// guards is the keepalives, UDP datagrams that are never resent (their loss is counted apart).
fn vpn_tunnels(s: &Scenario, hosts: &Hosts<'_>) -> anyhow::Result<(Option<Worst>, usize)> {
    if !s.vpn.enabled {
        return Ok((None, 0));
    }
    let (net, routers) = (&hosts.net, &hosts.routers);
    let names: Vec<String> = s.sites.iter().map(|x| x.name.clone()).collect();
    let pairs = models::vpn::tunnel_pairs(&s.vpn.topology, &names);
    let count = pairs.len();
    let r_ids: Vec<HostId> = routers.iter().map(|r| hosts.id(r)).collect::<anyhow::Result<_>>()?;
    let w = worst_by(
        pairs.into_iter().map(|(a, b)| {
            (
                path_rtt(net, &[r_ids[a], r_ids[b]]),
                format!("{} <-> {}", routers[a], routers[b]),
            )
        }),
        Rtt::udp_p99_s,
    );
    Ok(((count > 0).then_some(w), count))
}

/// The verdict's name and what it means for elections.
pub(crate) fn verdict_text(v: TimerHealth) -> (&'static str, &'static str) {
    match v {
        TimerHealth::Healthy => (
            "healthy",
            "heartbeat at least half the largest member RTT and election timeout at least 10 x it: spurious elections are unlikely",
        ),
        TimerHealth::AtRisk => (
            "at risk",
            "outside the tuning guide (heartbeat below half the largest RTT, or election timeout under 10 RTTs): a delayed or lost heartbeat can start a spurious election, which stalls every write for about an election timeout",
        ),
        TimerHealth::Unstable => (
            "unstable",
            "the election timeout is at most the RTT plus half a heartbeat interval: a new leader checks its quorum before its followers' first answers come back and steps down, so a lost leader is replaced late or never",
        ),
    }
}

/// Per site, (mean registry RTT of its workers, s; the least download rate they get, bits per
/// second). For Docker Hub, the site's or the runtime's `registry_rtt` and
/// `runtime.download_bandwidth`; for a registry on the overlay (`runtime.registry_host`), the
/// route's round trip, netem included, and the rate held to the route's bottleneck, as
/// `models::registry` gives each node.
pub(crate) fn site_registry(s: &Scenario) -> std::collections::HashMap<String, (f64, f64)> {
    let hub = |site: &str| {
        s.sites
            .iter()
            .find(|x| x.name == site)
            .and_then(|x| x.registry_rtt)
            .unwrap_or(s.runtime.registry_rtt)
            .secs_f64()
    };
    let overlay = s.runtime.registry_host.as_deref().and_then(|r| {
        let net = models::network::Network::build(s, &[r]).ok()?;
        let reg = models::registry::OverlayRegistry::new(s, &net, r).ok()?;
        Some((reg, net))
    });
    let own = s.runtime.download_bandwidth.bits_per_s;
    let mut sum: std::collections::HashMap<String, (f64, usize, f64)> = std::collections::HashMap::new();
    for h in s.hosts.iter().filter(|h| h.role == Role::Worker) {
        let pull = overlay
            .as_ref()
            .and_then(|(reg, net)| reg.pull_from(s, net, net.host(&h.name)?).ok());
        let e = sum.entry(h.site.clone()).or_insert((0.0, 0, own));
        match pull {
            Some(p) => {
                e.0 += p.rtt.as_secs_f64();
                e.2 = e.2.min(p.runtime.download_bandwidth.bits_per_s);
            }
            None => e.0 += hub(&h.site),
        }
        e.1 += 1;
    }
    sum.into_iter()
        .map(|(k, (t, c, bps))| (k, (t / c as f64, bps)))
        .collect()
}

/// Mean RTT from each site's workers to the apiservers through HAProxy, seconds, from each
/// worker's ([`NetFigures::worker_api_mean_s`], in the scenario's order of the workers, which no
/// placement of the masters changes).
pub(crate) fn site_api_rtt(s: &Scenario, worker_api_mean_s: &[f64]) -> std::collections::HashMap<String, f64> {
    let mut sum: std::collections::HashMap<String, (f64, usize)> = std::collections::HashMap::new();
    for (h, r) in s.hosts.iter().filter(|h| h.role == Role::Worker).zip(worker_api_mean_s) {
        let e = sum.entry(h.site.clone()).or_insert((0.0, 0));
        e.0 += r;
        e.1 += 1;
    }
    sum.into_iter().map(|(k, (t, c))| (k, t / c as f64)).collect()
}
