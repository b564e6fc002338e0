//! How the scenario's faults move the control plane's clients: when each apiserver stops
//! serving ([`Plan`]), when each client notices and which apiserver HAProxy hands it next, and,
//! for the leader-elected controllers, who holds the lease after a loss and from when
//! ([`ControlPlane::set_faults`]). Worked out once, before the run; the clients are moved at
//! their reconnection times as [`crate::api::Ev::Rebind`].
//!
//! This module lays the faults' plan over the control plane and holds how a client reconnects
//! through HAProxy; [`super::failover_walk`] goes through the faults in time order, and
//! [`super::lease_takeover`] decides each leader election.

use std::cell::RefCell;

use rand::Rng;
use sim_core::{SimDuration, SimTime};

use super::lease_takeover::Takeover;
use super::{ControlPlane, Failover, Watcher};
use crate::failover::{ClientRole, LostApiserver, Plan, Timers};
use crate::network::HostId;

/// How many servers a client is handed in turn before the model gives up on it reaching one
/// (each try waits for the balancer, or for the client to notice a failure); a client refused
/// this many times in a row stays without a connection until the run ends. A model bound, not a
/// Kubernetes or HAProxy figure.
const BALANCER_TRIES: usize = 32;

impl ControlPlane {
    /// Lays the scenario's faults over the control plane: works out when apiservers, etcd
    /// members and HAProxy's view change ([`Plan`]), and how every client pinned to a dying
    /// apiserver fails over. Returns the failovers, which the caller delivers to the clients as
    /// [`Ev::Rebind`](crate::api::Ev::Rebind) at their reconnection times. Call after the watchers are set.
    /// `timers` hold the kubelets' heartbeat and the controller-manager's leader election,
    /// `scheduler_timers` the scheduler's own leader election.
    pub fn set_faults(
        &mut self,
        faults: &[crate::spec::Fault],
        names: &[String],
        haproxy: &crate::spec::Haproxy,
        timers: Timers,
        scheduler_timers: Timers,
        rng: &mut impl Rng,
    ) -> Vec<Failover> {
        if faults.is_empty() {
            return Vec::new();
        }
        // Drawn first, so that the leader elections' stream does not depend on how many draws
        // the faults' plan takes.
        let election_seed: u64 = rng.random();
        let lb_rtt: Vec<SimDuration> = self.masters.iter().map(|&m| self.base_rtt(self.lb, m)).collect();
        let lb_name = self.net.name(self.lb);
        self.server_timeout = (haproxy.timeout_server.get(), haproxy.independent_streams);
        self.lb_down = faults
            .iter()
            .filter(|f| matches!(f, crate::spec::Fault::Crash { host, .. } if host == lb_name))
            .map(|f| f.window())
            .collect();
        // In time order, whatever the order the scenario lists them in.
        self.lb_down.sort_unstable();
        let leader_crashes = self.crashed_etcd_leaders(faults);
        let cut = self.cut_off(faults, names, &leader_crashes);
        self.plan = Plan::build(faults, names, &leader_crashes, haproxy, &lb_rtt, &cut, rng);
        let mut probes = sim_core::rng::stream(election_seed, sim_core::rng::stable_key("apiserver liveness probes"));
        self.plan
            .kill_apiservers_without_their_member(&leader_crashes, haproxy, &lb_rtt, &mut probes);
        self.members_ever_down = self.plan.etcd_down.iter().any(|w| !w.is_empty());
        self.network_faults = faults.iter().any(|f| {
            matches!(
                f,
                crate::spec::Fault::Partition { .. }
                    | crate::spec::Fault::IsolateSite { .. }
                    | crate::spec::Fault::Crash { .. }
            )
        });
        let losses = self.apiserver_losses();
        // The leaders' tries and renewals wait for etcd's simulated elections as the run's
        // writes do ([`ControlPlane::write_ready`]); lent out while the failovers are worked out.
        let raft = RefCell::new(self.raft.take());
        let commits = |t: SimTime| raft.borrow_mut().as_mut().map_or(t, |r| r.write_ready(t));
        let mut out = self.fail_over_clients(&losses, (timers, scheduler_timers), &commits, election_seed, rng);
        self.raft = raft.into_inner();
        out.sort_by_key(|f| f.reconnect_at);
        self.failover_book.set(&out, &self.masters);
        self.failovers = out.clone();
        out
    }

    /// Whom each `crash-etcd-leader` stopped: the member etcd's simulated elections had
    /// leading then, as (from, until, member).
    fn crashed_etcd_leaders(&mut self, faults: &[crate::spec::Fault]) -> Vec<(SimTime, SimTime, Option<usize>)> {
        let last_leader_crash = faults
            .iter()
            .filter(|f| matches!(f, crate::spec::Fault::CrashEtcdLeader { .. }))
            .map(|f| f.window().0)
            .max();
        match (self.raft.as_mut(), last_leader_crash) {
            (Some(r), Some(by)) => r.crashed_leaders(by),
            _ => Vec::new(),
        }
    }

    /// What the network faults cut off: the balancer from a master, a member from a quorum
    /// (a member stopped by a crash of its master or of the etcd leader counts as down).
    fn cut_off(
        &self,
        faults: &[crate::spec::Fault],
        names: &[String],
        leader_crashes: &[(SimTime, SimTime, Option<usize>)],
    ) -> crate::cut_off::CutOff {
        let (net, lb, masters) = (&self.net, self.lb, &self.masters);
        crate::cut_off::cut_off(
            crate::cut_off::edges(faults, net.ping_restart()),
            masters.len(),
            |m, t| net.cut_between(lb, masters[m], t),
            |i, j, t| net.cut_between(masters[i], masters[j], t),
            |m, t| {
                faults.iter().any(|f| {
                    let (a, b) = f.window();
                    matches!(f, crate::spec::Fault::Crash { host, .. } if Some(host) == names.get(m)) && a <= t && t < b
                }) || leader_crashes
                    .iter()
                    .any(|&(a, b, who)| who == Some(m) && a <= t && t < b)
            },
        )
    }

    /// When each apiserver stops serving under the [`Plan`], in time order: (time, master).
    fn apiserver_losses(&self) -> Vec<(SimTime, usize)> {
        // Its crash, or the loss of its etcd member (kubeadm's stacked apiserver talks only to
        // its local member; HAProxy's TCP check still passes, but every request that needs etcd
        // fails, the kubelets' Lease renewals included: `Plan::lost_at`). A master out of the balancer's reach loses its
        // clients the same way: their heartbeats, leases and watches time out, and the
        // controllers on it cannot renew their leases through the balancer.
        let plan = &self.plan;
        let mut losses: Vec<(SimTime, usize)> = (0..self.masters.len())
            .flat_map(|m| {
                plan.apiserver_down[m]
                    .iter()
                    .chain(&plan.etcd_down[m])
                    .chain(&plan.unreachable[m])
                    .map(move |w| (w.0, m))
            })
            .collect();
        // A member outside a quorum keeps its clients while no apiserver serves anywhere (they
        // stay, or moved to it as the last resort); once a quorum serves elsewhere, their
        // writes keep failing there, and they notice and move as from a dead one.
        let edges = plan.edges();
        for m in 0..self.masters.len() {
            for &(s, e) in &plan.etcd_down[m] {
                let served_again = edges.iter().copied().filter(|&t| s < t && t < e).filter(|&t| {
                    let before = SimTime::from_nanos(t.as_nanos() - 1);
                    plan.any_serves(t) && !plan.any_serves(before) && plan.takes_requests(m, t)
                });
                losses.extend(served_again.map(|t| (t, m)));
            }
        }
        losses.sort();
        losses.dedup();
        losses
    }

    /// Leader-elected controller `c`, which lost its lease at `lost`, leads again as `to` says:
    /// from the winning candidate's master, connected through the apiserver HAProxy handed it.
    pub(super) fn take_over(&self, c: &mut Watcher, lost: SimTime, to: Takeover) -> Failover {
        let from_host = c.host;
        c.host = self.masters[to.on];
        Failover {
            from_host,
            ..self.reconnect(c, lost, to.via, to.at)
        }
    }

    /// A takeover that replaces `earlier`, the one that failed or was deposed before its new
    /// leader was connected (which never led): the same loss, from the same master.
    pub(super) fn take_over_again(&self, c: &mut Watcher, earlier: &mut Failover, to: Takeover) -> Failover {
        *earlier = Failover {
            from_master: earlier.from_master,
            from_host: earlier.from_host,
            ..self.take_over(c, earlier.lost_at, to)
        };
        *earlier
    }

    /// How long a client on `host` takes to connect to apiserver `k` through the balancer
    /// (TCP's and TLS's handshakes, [`crate::network::apiserver_connect_time`]).
    pub(super) fn connect_time(&self, host: HostId, k: usize) -> SimDuration {
        crate::network::apiserver_connect_time(self.base_rtt(host, self.lb), self.base_rtt(self.lb, self.masters[k]))
    }

    /// Client `c`, which lost its connection at `lost`, dials apiserver `k` through the
    /// balancer at `t`: connected after TCP's and TLS's handshakes, and pinned to `k` from then.
    /// Handshakes that a crash of the balancer cuts short start again once it is back (never,
    /// [`SimTime::MAX`], if it does not come back).
    pub(super) fn reconnect(&self, c: &mut Watcher, lost: SimTime, k: usize, t: SimTime) -> Failover {
        let connect = self.connect_time(c.host, k);
        let mut reconnect_at = t + connect;
        for _ in 0..self.lb_down.len() {
            let dialled = reconnect_at - connect;
            let Some(&(_, back)) = self.lb_down.iter().find(|w| w.0 > dialled && w.0 < reconnect_at) else {
                break;
            };
            reconnect_at = back + connect;
        }
        let f = Failover {
            client: c.id,
            from_master: c.master,
            lost_at: lost,
            reconnect_at,
            to_master: k as u8,
            host: c.host,
            from_host: c.host,
        };
        c.master = k as u8;
        f
    }

    /// The windows in which a network fault cuts each kubelet among `clients` off from the
    /// load balancer or back, as (cut, index in `clients`, when the route carries again,
    /// [`SimTime::MAX`] if never), merged per kubelet. The balancer's own crashes are left out
    /// (their clients come back as [`crate::faults`] says): a cut that begins while the
    /// balancer is down begins, for its kubelets, when the balancer is back.
    pub(super) fn kubelet_cuts(&self, clients: &[Watcher]) -> Vec<(SimTime, usize, SimTime)> {
        clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.role == ClientRole::Kubelet)
            .flat_map(|(i, c)| self.cuts_of(c.host).into_iter().map(move |(cut, back)| (cut, i, back)))
            .collect()
    }

    /// The windows in which a network fault cuts `host` off from the load balancer or back, as
    /// (cut, when the route carries again, [`SimTime::MAX`] if never), merged; a cut that
    /// begins while the balancer is down begins when it is back.
    pub(super) fn cuts_of(&self, host: HostId) -> Vec<(SimTime, SimTime)> {
        let mut windows = self.net.route_down_windows(host, self.lb);
        windows.extend(self.net.route_down_windows(self.lb, host));
        crate::faults::merged(windows)
            .into_iter()
            .filter_map(|(cut, back)| {
                let mut cut = cut;
                while let Some(&(_, lb_back)) = self.lb_down.iter().find(|&&(a, b)| a <= cut && cut < b) {
                    cut = lb_back;
                }
                (cut < back).then_some((cut, back))
            })
            .collect()
    }

    /// The first apiserver that HAProxy's round robin (`rr`) hands a new connection at `from`
    /// and that serves (with etcd's quorum if the client needs `writes`), trying again every
    /// `period` (at most [`BALANCER_TRIES`] tries), and when.
    pub(super) fn first_serving(
        &self,
        from: SimTime,
        period: SimDuration,
        writes: bool,
        rr: &mut usize,
    ) -> Option<(usize, SimTime)> {
        let mut t = from;
        for _ in 0..BALANCER_TRIES {
            t = self.balancer_takes_connections(t);
            if t == SimTime::MAX {
                return None;
            }
            if let Ok(k) = self.haproxy_pick(t, writes, rr) {
                return Some((k, t));
            }
            t = t.checked_add(period)?;
        }
        None
    }

    /// When a client dialling the balancer at `t` gets through to it: at once, or, while the
    /// balancer itself is down (crashed), once it is back (the client's SYN is answered then;
    /// [`SimTime::MAX`] if never).
    pub(super) fn balancer_takes_connections(&self, t: SimTime) -> SimTime {
        let mut t = t;
        // Back-to-back crashes: each window ends after every instant it covers.
        while let Some((_, back)) = crate::faults::covering(&self.lb_down, t) {
            t = back;
        }
        t
    }

    /// The server HAProxy's round robin (`rr`) hands a new connection at `t`, among those it
    /// believes up (the round robin moves on), if that server serves; or if it answers from its
    /// cache while no apiserver serves anywhere (etcd has lost its quorum: every server is as
    /// good as another, and the client stays until the quorum is back), unless the client
    /// needs `writes` (a leader election, which only a quorum can decide). Otherwise the server
    /// handed, which does not serve (`Err(None)`: HAProxy believes none up).
    fn haproxy_pick(&self, t: SimTime, writes: bool, rr: &mut usize) -> Result<usize, Option<usize>> {
        let n = self.masters.len();
        let k = (0..n)
            .map(|k| (*rr + k) % n)
            .find(|&k| self.plan.haproxy_up(k, t))
            .ok_or(None)?;
        *rr = (k + 1) % n;
        let last_resort = || !writes && self.plan.takes_requests(k, t) && !self.plan.any_serves(t);
        if self.plan.serves(k, t) || last_resort() {
            Ok(k)
        } else {
            Err(Some(k))
        }
    }

    /// The apiserver that a client of `role` whose own one, `m`, stopped serving it at `lost`
    /// reaches, and when: after each time it takes to notice (which for a kubelet depends on
    /// what the server it is on still answers, [`Plan::lost_at`]), HAProxy's round robin (`rr`)
    /// hands it the next server the balancer believes up, until one that serves (at most
    /// [`BALANCER_TRIES`] tries). `None` if none does before the run's end.
    pub(super) fn reconnection(
        &self,
        role: ClientRole,
        (m, lost): (usize, SimTime),
        timers: Timers,
        rr: &mut usize,
        rng: &mut impl Rng,
    ) -> Option<(usize, SimTime)> {
        let mut t = lost;
        let mut on = self.plan.lost_at(m, lost);
        for _ in 0..BALANCER_TRIES {
            t = self.balancer_takes_connections(t + Plan::detection(role, on, timers, rng));
            if t == SimTime::MAX {
                return None;
            }
            match self.haproxy_pick(t, false, rr) {
                Ok(k) => return Some((k, t)),
                // No server up: HAProxy closes the connection at once, and a v1.16 client dials
                // again at its next request. The model has it try again only when it would
                // notice a silent server (a simplification that keeps a client trying through
                // a long outage of every master within `BALANCER_TRIES`).
                Err(None) => on = LostApiserver::Silent,
                Err(Some(k)) => on = self.plan.lost_at(k, t),
            }
        }
        None
    }
}
