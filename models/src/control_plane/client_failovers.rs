//! How the scenario's faults move the control plane's clients: when each apiserver stops
//! serving ([`Plan`]), when each client notices and which apiserver HAProxy hands it next, and,
//! for the leader-elected controllers, who holds the lease after a loss and from when
//! ([`ControlPlane::set_faults`]). Worked out once, before the run; the clients are moved at
//! their reconnection times as [`crate::api::Ev::Rebind`].

use std::cell::RefCell;

use rand::Rng;
use sim_core::{SimDuration, SimTime};

use super::candidate_tries::CandidateTries;
use super::{ControlPlane, Failover, Watcher};
use crate::failover::{ClientRole, Plan, Timers};
use crate::network::{HostId, TCP_RETRIES2_TIMEOUT};

/// What the candidates of a leader election go by ([`ControlPlane::leader_after_loss`]).
#[derive(Clone, Copy)]
struct Election<'a> {
    /// The leader-election and heartbeat timers.
    timers: Timers,
    /// The first instant at or after a given one when etcd commits a write (its simulated
    /// elections have a leader with a quorum).
    commits: &'a dyn Fn(SimTime) -> SimTime,
    /// How the lease's present holder renewed it up to the loss.
    renewals: Renewals,
    /// By master: the apiserver the standby there has held its one connection to since before
    /// the run, or `None` where the candidate has dialled anew since (it led, or is the last
    /// holder): [`StandbyLink`].
    pinned: &'a [Option<usize>],
}

/// A standby's one HTTP/2 connection through the balancer, which every request of the program
/// shares (client-go v1.16's transport cache, `tlsConfigKey`, keys on the TLS settings alone,
/// so the leader-election client and the main clients share a transport): the apiserver it is
/// pinned to, and when that connection dies and its session ends
/// ([`ControlPlane::standby_link`]).
#[derive(Debug, Clone, Copy, PartialEq)]
struct StandbyLink {
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
enum Renewals {
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
    /// renewal if it is riding out an earlier loss (`kept`: its apiserver, when the held
    /// renewal goes through, when the one before went through); every retry period from its
    /// takeover's try if it took the lease during the run (`pending`: that try, its
    /// connection, and the lapse it took over from); otherwise drawn.
    fn before(
        s: SimTime,
        kept: Option<(usize, SimTime, SimTime)>,
        pending: (SimTime, SimTime, Option<Lapse>),
    ) -> Renewals {
        match (kept, pending) {
            (Some((_, through, renewed)), _) if s < through => Renewals::HeldSince(renewed),
            (_, (tries_at, _, Some(_))) => Renewals::From(tries_at),
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
enum LeaderFate {
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
enum LeaderLoss {
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
struct Lapse {
    /// The holder's last renewal.
    renewed: SimTime,
    /// The master the holder ran on.
    leader_on: Option<usize>,
    /// When the holder's program runs again ([`SimTime::MAX`]: not before the run's end).
    restarted: SimTime,
}

/// Who takes a leader-elected controller's lease, and how ([`LeaderFate::TakenOver`]).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Takeover {
    /// The apiserver the new leader works through.
    via: usize,
    /// When it dials it (its winning try).
    at: SimTime,
    /// The master it runs on.
    on: usize,
    /// How the lease lapsed.
    lapse: Lapse,
}

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
            |m, t| net.cut_at(lb, masters[m], t) || net.cut_at(masters[m], lb, t),
            |i, j, t| net.cut_at(masters[i], masters[j], t) || net.cut_at(masters[j], masters[i], t),
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
        // its local member; HAProxy's TCP check still passes, but every request fails, the
        // kubelets' heartbeats included). A master out of the balancer's reach loses its
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

    /// How the clients fail over, in time order, at each of the apiservers' `losses` and at
    /// each cut of a kubelet off from the load balancer ([`ControlPlane::kubelet_cuts`]):
    /// - at a loss, every client pinned to the dead apiserver, and every leader-elected
    ///   controller running on the dead master itself (its standby on another master takes
    ///   over), reconnects through HAProxy once it notices; a kubelet cut off, which reconnects
    ///   anew after the repair, is pinned to none;
    /// - at a cut that lasts longer than the kubelet takes to notice (its next node-status
    ///   update, then two timeouts: v1.16's `closeAllConns` runs whatever the cause), the
    ///   kubelet's connections are gone, whichever apiserver they went to; its requests dial
    ///   anew, and the first after the route carries again (its next node-status update,
    ///   within a period) connects through HAProxy. A cut repaired before it notices leaves its
    ///   connections to TCP's resends; one never repaired leaves nothing to reconnect to.
    ///
    /// A client that finds no serving apiserver stays where it was; one whose reconnection is
    /// decided and not yet dialled is not moved again by a loss that ends before it dials (the
    /// server it was handed serves then). Unsorted.
    fn fail_over_clients(
        &self,
        losses: &[(SimTime, usize)],
        (timers, scheduler_timers): (Timers, Timers),
        commits: &dyn Fn(SimTime) -> SimTime,
        election_seed: u64,
        rng: &mut impl Rng,
    ) -> Vec<Failover> {
        // Each leader-elected client's own timers: the scheduler's flags or the
        // controller-manager's.
        let scheduler = self.scheduler.map(|w| w.id);
        let timers_of = |c: &Watcher| {
            if Some(c.id) == scheduler {
                scheduler_timers
            } else {
                timers
            }
        };
        let mut clients = self.clients();
        let cuts = self.kubelet_cuts(&clients);
        // The apiserver each standby's connection went to when its program started, before the
        // run ([`StandbyLink`]): HAProxy's round robin had handed out an unknown number of other
        // connections by then (kubelets, kube-proxy, weave-net, kubectl, restarts), so the model
        // draws it, uniformly among the backends, from a stream keyed by the controller and the
        // standby's master (a run without faults draws nothing). The leader's master has none.
        let n = self.masters.len();
        let pin_seed = sim_core::rng::keyed_seed(election_seed, sim_core::rng::stable_key("standby connections"));
        let pins: Vec<Vec<Option<usize>>> = clients
            .iter()
            .map(|c| {
                (0..n)
                    .map(|k| {
                        let key = self.client_key(c.id) ^ sim_core::rng::stable_key(self.net.name(self.masters[k]));
                        let standby = c.role == ClientRole::Leader && self.masters[k] != c.host;
                        standby.then(|| sim_core::rng::stream(pin_seed, key).random_range(0..n))
                    })
                    .collect()
            })
            .collect();
        // The losses and the cuts in time order; at one instant the losses first.
        enum Event {
            Loss(usize),
            Cut(usize, SimTime),
            BalancerCrash,
        }
        let mut events: Vec<(SimTime, u8, usize, Event)> = losses
            .iter()
            .enumerate()
            .map(|(n, &(s, m))| (s, 0, n, Event::Loss(m)))
            .chain(
                cuts.into_iter()
                    .enumerate()
                    .map(|(n, (cut, i, back))| (cut, 1, n, Event::Cut(i, back))),
            )
            .chain(
                self.lb_down
                    .iter()
                    .enumerate()
                    .map(|(n, w)| (w.0, 2, n, Event::BalancerCrash)),
            )
            .collect();
        events.sort_by_key(|e| (e.0, e.1, e.2));
        // When each kubelet cut off reconnects after the repair: until then it is pinned to no
        // apiserver whose loss it would notice.
        let mut cut_reconnect = vec![SimTime::ZERO; clients.len()];
        // The instant of each client's last reconnection decision: one per instant, or a
        // client hit twice at once (a leader-elected one through its host and through its
        // connection) would get two failovers, the later decision not necessarily winning.
        let mut decided: Vec<Option<SimTime>> = vec![None; clients.len()];
        // A leader-elected controller that keeps its lease through the loss of its apiserver's
        // quorum: that apiserver, and when its member is back in a quorum (a later loss of the
        // same stretch, such as a quorum serving elsewhere, changes nothing).
        let mut kept: Vec<Option<(usize, SimTime, SimTime)>> = vec![None; clients.len()];
        // When a client's reconnection (a leader-elected controller's takeover), once decided,
        // dials (tries for the lease), when it is connected, and (a takeover) how the lease
        // lapsed.
        let mut pending: Vec<(SimTime, SimTime, Option<Lapse>)> =
            vec![(SimTime::ZERO, SimTime::ZERO, None); clients.len()];
        // HAProxy's round robin, across every reconnection.
        let mut rr = 0usize;
        // The leader elections' draws come from a stream of their own, so that how many they
        // take leaves the other clients' draws (when each notices a loss) as they were, and
        // the candidates try alike whatever else the faults drew.
        let election_rng = &mut sim_core::rng::seeded(election_seed);
        let mut out = Vec::new();
        for (s, _, _, event) in events {
            match event {
                Event::Loss(m) => {
                    let host = self.masters[m];
                    // A master that still takes requests lost only its member's quorum: the
                    // controllers running there talk through the balancer and keep going; its
                    // crash or its cut-off from the balancer stops them too.
                    let host_down = !self.plan.takes_requests(m, s);
                    let hit = |c: &Watcher| {
                        c.master as usize == m || (c.role == ClientRole::Leader && c.host == host && host_down)
                    };
                    for (i, c) in clients.iter_mut().enumerate() {
                        if !hit(c) || cut_reconnect[i] > s || decided[i] == Some(s) {
                            continue;
                        }
                        if c.role == ClientRole::Leader {
                            if matches!(kept[i], Some((k, back, _)) if k == m && s < back) {
                                continue;
                            }
                            // Its own master crashed (its etcd member stopped, or its route
                            // to the balancer cut, the controller runs on).
                            let through_host = c.host == host && !self.plan.apiserver_up(m, s);
                            let (tries_at, connected_at, lapse) = pending[i];
                            if s < connected_at {
                                // A takeover is under way: the candidates' timing is settled
                                // (its apiserver was picked serving when it tries). If it
                                // fails, it is decided again among the candidates, the lease
                                // lapsing as it did, and rewritten in place: the new leader's
                                // own master crashes, or is cut from the balancer, before it
                                // leads; or the apiserver it connects to goes while it
                                // connects (its try fails; it tries on with the others).
                                let winner_lost = c.host == host && host_down;
                                let connection_lost = m == c.master as usize && s >= tries_at;
                                let Some(lapse) = lapse.filter(|_| winner_lost || connection_lost) else {
                                    continue;
                                };
                                let taken = out.iter().rposition(|f: &Failover| f.client == c.id);
                                let pinned = self.still_pinned(&pins[i], c, &out, s);
                                let fate = self.leader_after_loss(
                                    c,
                                    s,
                                    LeaderLoss::Takeover(lapse),
                                    Election {
                                        timers: timers_of(c),
                                        commits,
                                        renewals: Renewals::Drawn,
                                        pinned: &pinned,
                                    },
                                    &mut rr,
                                    election_rng,
                                );
                                if let (Some(j), LeaderFate::TakenOver(to)) = (taken, fate) {
                                    decided[i] = Some(s);
                                    let f = self.take_over_again(c, &mut out[j], to);
                                    pending[i] = (to.at, f.reconnect_at, Some(to.lapse));
                                }
                                continue;
                            }
                            let loss = if through_host {
                                LeaderLoss::Host
                            } else {
                                LeaderLoss::Connection
                            };
                            let renewals = Renewals::before(s, kept[i], pending[i]);
                            let pinned = self.still_pinned(&pins[i], c, &out, s);
                            let election = Election {
                                timers: timers_of(c),
                                commits,
                                renewals,
                                pinned: &pinned,
                            };
                            let fate = self.leader_after_loss(c, s, loss, election, &mut rr, election_rng);
                            match fate {
                                LeaderFate::Keeps { through, renewed } => kept[i] = Some((m, through, renewed)),
                                LeaderFate::TakenOver(to) => {
                                    decided[i] = Some(s);
                                    kept[i] = None;
                                    let f = self.take_over(c, s, to);
                                    pending[i] = (to.at, f.reconnect_at, Some(to.lapse));
                                    out.push(f);
                                }
                                LeaderFate::Stuck => {}
                            }
                            continue;
                        }
                        if s < pending[i].0 {
                            // Its reconnection is decided and not yet made: the server it was
                            // handed serves when it dials (the pick saw the plan then).
                            continue;
                        }
                        let Some((k, t)) = self.reconnection(c.role, s, timers, &mut rr, rng) else {
                            continue;
                        };
                        let kept_running = self.plan.takes_requests(m, s) && self.plan.takes_requests(m, t);
                        if k == m && c.master as usize == m && kept_running {
                            // Its own apiserver, which kept running and answering from its
                            // cache (its loss is its quorum's, not a crash that closed the
                            // connection), while no quorum serves anywhere: the client stays (a
                            // loss of its host at the same instant still moves it).
                            continue;
                        }
                        decided[i] = Some(s);
                        let f = self.reconnect(c, s, k, t);
                        pending[i] = (t, f.reconnect_at, None);
                        out.push(f);
                    }
                }
                Event::Cut(i, back) => {
                    let noticed = s + Plan::detection(ClientRole::Kubelet, timers, rng);
                    let tried = back + SimDuration::from_secs_f64(rng.random::<f64>() * timers.heartbeat.as_secs_f64());
                    if noticed >= back || cut_reconnect[i] > s {
                        continue;
                    }
                    let Some((k, t)) = self.first_serving(tried, timers.heartbeat, false, &mut rr) else {
                        continue;
                    };
                    let f = self.reconnect(&mut clients[i], s, k, t);
                    cut_reconnect[i] = f.reconnect_at;
                    out.push(f);
                }
                Event::BalancerCrash => {
                    // The leaders' renewals go nowhere until the balancer is back (the other
                    // clients' connections come back with it, [`crate::faults`]). A leader
                    // whose own takeover's try is still to come is left to it; one who has
                    // taken the lease, connecting or not, renews it through the balancer like
                    // any other, and one riding out an earlier loss (its renewal held until its
                    // quorum is back) has it held until the balancer is back too.
                    for (i, c) in clients.iter_mut().enumerate() {
                        let busy = s < pending[i].0;
                        if c.role != ClientRole::Leader || busy || decided[i] == Some(s) {
                            continue;
                        }
                        let connected_at = pending[i].1;
                        let renewals = Renewals::before(s, kept[i], pending[i]);
                        let pinned = self.still_pinned(&pins[i], c, &out, s);
                        let election = Election {
                            timers: timers_of(c),
                            commits,
                            renewals,
                            pinned: &pinned,
                        };
                        match self.leader_after_loss(c, s, LeaderLoss::Balancer, election, &mut rr, election_rng) {
                            LeaderFate::TakenOver(to) => {
                                decided[i] = Some(s);
                                kept[i] = None;
                                // A new leader deposed before it was connected never led: the
                                // takeover it made is replaced by this one.
                                let connecting = (s < connected_at)
                                    .then(|| out.iter().rposition(|f: &Failover| f.client == c.id))
                                    .flatten();
                                let f = match connecting {
                                    Some(j) => self.take_over_again(c, &mut out[j], to),
                                    None => {
                                        let f = self.take_over(c, s, to);
                                        out.push(f);
                                        f
                                    }
                                };
                                pending[i] = (to.at, f.reconnect_at, Some(to.lapse));
                            }
                            LeaderFate::Keeps { through, renewed } => {
                                kept[i] = Some((c.master as usize, through, renewed));
                            }
                            LeaderFate::Stuck => {}
                        }
                    }
                }
            }
        }
        out
    }

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
    fn leader_after_loss(
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
        let plan = &self.plan;
        let m = c.master as usize;
        // The master the lease's last holder ran on (after a failed takeover, the one before
        // the candidate that failed), and its last renewal.
        let (leader_on, renewed) = match loss {
            LeaderLoss::Takeover(lapse) => (lapse.leader_on, lapse.renewed),
            LeaderLoss::Connection | LeaderLoss::Balancer | LeaderLoss::Host => {
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
        };
        let deadline = renewed + timers.retry + timers.renew_deadline;
        if matches!(loss, LeaderLoss::Connection | LeaderLoss::Balancer) {
            // Its request waits for its own master's route to the balancer, if cut, then for
            // the apiserver's.
            let carried = if loss == LeaderLoss::Balancer {
                self.renewal_after_balancer_restart(c, s)
            } else {
                leader_on.map_or(s, |h| self.request_held_for_cut(h, s))
            };
            let renewed_again = if carried != SimTime::MAX && plan.throughout(s, carried, |u| plan.apiserver_up(m, u)) {
                // And commits once etcd's elections let it.
                let through = self.write_through_held_connection(m, carried);
                if through == SimTime::MAX {
                    through
                } else {
                    commits(through)
                }
            } else {
                SimTime::MAX
            };
            if renewed_again < deadline {
                return LeaderFate::Keeps {
                    through: renewed_again,
                    renewed,
                };
            }
        }
        let Some(quorum) = plan.first_served_from((renewed + timers.lease).max(s)) else {
            return LeaderFate::Stuck;
        };
        let host_back = |k: usize, from: SimTime| {
            plan.apiserver_down[k]
                .iter()
                .filter(|w| w.0 <= quorum && w.1 > from)
                .map(|w| w.1)
                .max()
        };
        // When the last holder's program runs again: once its master is back from the crash
        // that stopped it, or at once when it gave up at its renew deadline (the kubelet
        // restarts it).
        let restarted = match loss {
            LeaderLoss::Takeover(lapse) => lapse.restarted,
            LeaderLoss::Host => leader_on.and_then(|k| host_back(k, s)).unwrap_or(SimTime::MAX),
            LeaderLoss::Connection | LeaderLoss::Balancer => deadline,
        };
        // Its try at or after `t` ([`CandidateTries`]: client-go's jittered waits), as of when
        // it is answered. A try while the balancer itself is down goes nowhere: the next after
        // it is back. One while etcd commits nothing (its simulated elections have no leader
        // with a quorum: `commits`) is held, etcd's client waiting, and answered once writes
        // resume if that is within the leader-election client's timeout (the renew deadline);
        // if not, it times out, and the try answered is the first within a timeout of the
        // resumption (the model's tries keep their draws rather than sliding behind the
        // timed-out one).
        let try_from = |t: SimTime, tries: &mut CandidateTries| {
            let mut t = t;
            // Each pass moves past a stretch without writes, or returns.
            for _ in 0..STRETCHES_PASSED_AT_MOST {
                let mut g = tries.at_or_after(t);
                for _ in 0..=self.lb_down.len() {
                    let back = self.balancer_takes_connections(g);
                    if back == g {
                        break;
                    }
                    g = tries.at_or_after(back);
                }
                let resumed = if g == SimTime::MAX { g } else { commits(g) };
                if resumed == g || resumed == SimTime::MAX {
                    return resumed;
                }
                if resumed.saturating_since(g) <= timers.renew_deadline {
                    // A crash of the balancer while it is held drops it: the next try after
                    // the balancer is back.
                    match self.lb_down.iter().find(|w| w.0 > g && w.0 <= resumed) {
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
        };
        // A candidate takes the lease at its first try a lease duration after the try that
        // first read the record as it is now (client-go's `observedTime`): for a standby that
        // has run since the renewal, its first try after it that could read (the balancer up,
        // a quorum serving; one that could not saw an older record); for a candidate started
        // since (the last holder restarted; a standby whose master crashed and came back), its
        // first once it runs that could.
        let observed = |from: SimTime, tries: &mut CandidateTries| {
            let tried = try_from(from, tries);
            plan.first_served_from(tried)
                .map(|t| if t == tried { t } else { try_from(t, tries) })
        };
        // When a try a candidate makes at `t` gets through, and whether on its standby's own
        // connection ([`StandbyLink`]: through its apiserver, held while that is cut off or out of
        // a quorum); a try on a dead connection goes nowhere until the session ends, and the
        // first try after dials anew, through HAProxy's round robin (`None`), as every try of a
        // candidate not so pinned does.
        let on_link = |t: SimTime, link: Option<StandbyLink>, tries: &mut CandidateTries| match link {
            Some(l) if t < l.ends && t != SimTime::MAX => {
                // A try after a cut's repair queues behind what the tries during the cut left
                // unacknowledged, until TCP's resend.
                let through = if t < l.dies {
                    self.write_through_held_connection(l.to, self.request_held_for_cut(l.to, t))
                } else {
                    SimTime::MAX
                };
                if through < l.dies {
                    (through, Some(l.to))
                } else {
                    (try_from(l.ends, tries), None)
                }
            }
            _ => (t, None),
        };
        let fresh = |started: SimTime, tries: &mut CandidateTries, link: Option<StandbyLink>| {
            observed(started, tries).map(|t| try_from(on_link(t, link, tries).0 + timers.lease, tries))
        };
        // Each candidate's first chance from `s`, and its first try from then that gets a
        // write through (HAProxy's round robin as it stands; a standby's try on a route cut
        // from the balancer goes at TCP's resend after the repair); the earliest takes the
        // lease, and the others find it taken.
        let mut winner: Option<(SimTime, usize, usize, usize)> = None;
        for k in 0..self.masters.len() {
            // When its program runs from: a standby since before the renewal (trying all
            // along); the last holder once restarted (trying at once). A crash of its master
            // before it wins stops it; it runs again, a fresh candidate, once the master is back.
            let (mut started, mut tries) = if Some(k) == leader_on {
                (restarted, CandidateTries::starting(restarted, timers.retry, rng))
            } else {
                (renewed, CandidateTries::running_at(renewed, timers.retry, rng))
            };
            // A standby still on the connection it made before the run.
            let mut link = pinned
                .get(k)
                .copied()
                .flatten()
                .filter(|_| Some(k) != leader_on)
                .map(|to| self.standby_link(to, timers.renew_deadline, &mut tries));
            let mut taken = None;
            for _ in 0..=plan.apiserver_down[k].len() {
                // Its first try from then, and from `s`, that a quorum serves.
                let chance = fresh(started, &mut tries, link)
                    .and_then(|lapsed| observed(lapsed.max(s), &mut tries))
                    // A try on a route cut from the balancer goes at TCP's resend after the
                    // repair.
                    .map(|t| on_link(self.request_held_for_cut(k, t).max(t), link, &mut tries));
                let mut probe = *rr;
                // Its write commits once etcd's elections let it.
                taken = chance
                    .filter(|&(t, _)| t != SimTime::MAX)
                    .and_then(|(t, on)| match on {
                        Some(via) => Some((via, t)),
                        None => self.first_serving(t, timers.retry, true, &mut probe),
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
                tries = CandidateTries::starting(back, timers.retry, rng);
                // Restarted with its master: it dials anew.
                link = None;
            }
            if let Some((at, via, probe)) = taken {
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
        let lapse = Lapse {
            renewed,
            leader_on,
            restarted,
        };
        LeaderFate::TakenOver(Takeover { via, at, on, lapse })
    }

    /// The standbys of leader-elected controller `c` still on the connections they made before
    /// the run, at `s` (`pins`, by master): all but those on a master from which `c` has led
    /// since, by the takeovers in `out` connected by then (a leader that loses its lease
    /// exits, and its program dials anew when it runs again), and those on a master that has
    /// crashed by then (the program starts again with its master, and dials anew).
    fn still_pinned(&self, pins: &[Option<usize>], c: &Watcher, out: &[Failover], s: SimTime) -> Vec<Option<usize>> {
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
    /// tries are `tries` ([`StandbyLink`]). It dies at the first crash of `to`'s master, at the
    /// first cut of that master from the balancer that the session does not survive, or at a
    /// crash of the balancer (which resets it), whichever comes first. HAProxy leaves a session
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
    fn standby_link(&self, to: usize, renew_deadline: SimDuration, tries: &mut CandidateTries) -> StandbyLink {
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
        let reset = self.lb_down.first().map_or(SimTime::MAX, |w| w.0);
        let crashes = self.plan.apiserver_down[to].iter().map(|&w| (w, true));
        let cuts = self.plan.unreachable[to].iter().map(|&w| (w, false));
        let mut silences: Vec<((SimTime, SimTime), bool)> = crashes.chain(cuts).collect();
        silences.sort_by_key(|w| w.0);
        for ((from, back), crashed) in silences {
            if from >= reset {
                break;
            }
            let resumes = crate::faults::next_retransmission(from, back);
            let closed = timed_out(from).min(from + TCP_RETRIES2_TIMEOUT);
            let ends = if crashed {
                resumes.min(closed)
            } else if closed < resumes {
                closed
            } else {
                continue;
            };
            return StandbyLink {
                to,
                dies: from,
                ends: ends.min(reset),
            };
        }
        StandbyLink {
            to,
            dies: reset,
            ends: reset,
        }
    }

    /// When leader-elected controller `c`'s renewal, held on its connection through the load
    /// balancer that crashed at `s`, gets to its apiserver: HAProxy's restart lost the
    /// connection, so TCP's next resend after the restart is answered with a reset, and the
    /// client dials again (TCP's and TLS's handshakes) and sends it ([`crate::faults`];
    /// [`SimTime::MAX`] if the balancer never comes back).
    fn renewal_after_balancer_restart(&self, c: &Watcher, s: SimTime) -> SimTime {
        let back = self.balancer_takes_connections(s);
        if back == SimTime::MAX {
            return SimTime::MAX;
        }
        crate::faults::next_retransmission(s, back) + self.connect_time(c.host, c.master as usize)
    }

    /// When a request that a controller on master `k` has on its connection to the balancer
    /// at `t` gets through: at `t`, or, if a network fault has cut that route, at TCP's first
    /// resend after the repair ([`SimTime::MAX`] if never repaired).
    fn request_held_for_cut(&self, k: usize, t: SimTime) -> SimTime {
        let held = self.plan.unreachable[k]
            .iter()
            .filter(|w| w.0 <= t)
            .map(|&(cut, repaired)| crate::faults::next_retransmission(cut, repaired))
            .max();
        held.map_or(t, |h| h.max(t))
    }

    /// The first instant from `s` when a write sent on a connection to apiserver `m` that a
    /// client holds on to gets through ([`SimTime::MAX`]: not before the run's end, or never
    /// on this connection): the apiserver keeps running (a crash of its master takes the
    /// connection with it); a cut from the balancer holds the request until TCP's first resend
    /// after the repair; a member outside a quorum, or stopped, holds it until the member is
    /// back in a quorum.
    fn write_through_held_connection(&self, m: usize, s: SimTime) -> SimTime {
        let plan = &self.plan;
        let mut t = s;
        // Each step moves past a window: at most one per window of the plan.
        for _ in 0..=plan.edges().len() {
            if t == SimTime::MAX {
                break;
            }
            if let Some((cut, repaired)) = crate::faults::covering(&plan.unreachable[m], t) {
                // Never repaired: the resend is never (`SimTime::MAX`).
                t = crate::faults::next_retransmission(cut, repaired);
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

    /// Leader-elected controller `c`, which lost its lease at `lost`, leads again as `to` says:
    /// from the winning candidate's master, connected through the apiserver HAProxy handed it.
    fn take_over(&self, c: &mut Watcher, lost: SimTime, to: Takeover) -> Failover {
        c.host = self.masters[to.on];
        self.reconnect(c, lost, to.via, to.at)
    }

    /// A takeover that replaces `earlier`, the one that failed or was deposed before its new
    /// leader was connected (which never led): the same loss, from the same master.
    fn take_over_again(&self, c: &mut Watcher, earlier: &mut Failover, to: Takeover) -> Failover {
        *earlier = Failover {
            from_master: earlier.from_master,
            ..self.take_over(c, earlier.lost_at, to)
        };
        *earlier
    }

    /// How long a client on `host` takes to connect to apiserver `k` through the balancer
    /// (TCP's and TLS's handshakes, [`crate::network::apiserver_connect_time`]).
    fn connect_time(&self, host: HostId, k: usize) -> SimDuration {
        crate::network::apiserver_connect_time(self.base_rtt(host, self.lb), self.base_rtt(self.lb, self.masters[k]))
    }

    /// Client `c`, which lost its connection at `lost`, dials apiserver `k` through the
    /// balancer at `t`: connected after TCP's and TLS's handshakes, and pinned to `k` from then.
    /// Handshakes that a crash of the balancer cuts short start again once it is back (never,
    /// [`SimTime::MAX`], if it does not come back).
    fn reconnect(&self, c: &mut Watcher, lost: SimTime, k: usize, t: SimTime) -> Failover {
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
        };
        c.master = k as u8;
        f
    }

    /// The windows in which a network fault cuts each kubelet among `clients` off from the
    /// load balancer or back, as (cut, index in `clients`, when the route carries again),
    /// merged per kubelet; never-repaired cuts and the balancer's own crashes (whose clients
    /// come back as [`crate::faults`] says) left out.
    fn kubelet_cuts(&self, clients: &[Watcher]) -> Vec<(SimTime, usize, SimTime)> {
        let lb_down = &self.lb_down;
        let mut out = Vec::new();
        for (i, c) in clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.role == ClientRole::Kubelet)
        {
            let mut windows = self.net.route_down_windows(c.host, self.lb);
            windows.extend(self.net.route_down_windows(self.lb, c.host));
            windows.sort_unstable();
            let mut merged: Vec<(SimTime, SimTime)> = Vec::new();
            for w in windows {
                match merged.last_mut() {
                    Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
                    _ => merged.push(w),
                }
            }
            for (cut, back) in merged {
                let by_lb = lb_down.iter().any(|&(a, b)| a <= cut && cut < b);
                if back != SimTime::MAX && !by_lb {
                    out.push((cut, i, back));
                }
            }
        }
        out
    }

    /// The first apiserver that HAProxy's round robin (`rr`) hands a new connection at `from`
    /// and that serves (with etcd's quorum if the client needs `writes`), trying again every
    /// `period` (at most 32 tries), and when.
    fn first_serving(
        &self,
        from: SimTime,
        period: SimDuration,
        writes: bool,
        rr: &mut usize,
    ) -> Option<(usize, SimTime)> {
        let mut t = from;
        for _ in 0..32 {
            t = self.balancer_takes_connections(t);
            if t == SimTime::MAX {
                return None;
            }
            if let Some(k) = self.haproxy_pick(t, writes, rr) {
                return Some((k, t));
            }
            t = t.checked_add(period)?;
        }
        None
    }

    /// When a client dialling the balancer at `t` gets through to it: at once, or, while the
    /// balancer itself is down (crashed), once it is back (the client's SYN is answered then;
    /// [`SimTime::MAX`] if never).
    fn balancer_takes_connections(&self, t: SimTime) -> SimTime {
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
    /// needs `writes` (a leader election, which only a quorum can decide).
    fn haproxy_pick(&self, t: SimTime, writes: bool, rr: &mut usize) -> Option<usize> {
        let n = self.masters.len();
        let k = (0..n).map(|k| (*rr + k) % n).find(|&k| self.plan.haproxy_up(k, t))?;
        *rr = (k + 1) % n;
        let last_resort = || !writes && self.plan.takes_requests(k, t) && !self.plan.any_serves(t);
        (self.plan.serves(k, t) || last_resort()).then_some(k)
    }

    /// The apiserver that a client of `role` whose own one died at `lost` reaches, and when:
    /// after each time it takes to notice, HAProxy's round robin (`rr`) hands it the next server
    /// the balancer believes up, until one that serves (at most 32 tries). `None` if none does
    /// before the run's end.
    fn reconnection(
        &self,
        role: ClientRole,
        lost: SimTime,
        timers: Timers,
        rr: &mut usize,
        rng: &mut impl Rng,
    ) -> Option<(usize, SimTime)> {
        let mut t = lost;
        for _ in 0..32 {
            t = self.balancer_takes_connections(t + Plan::detection(role, timers, rng));
            if t == SimTime::MAX {
                return None;
            }
            if let Some(k) = self.haproxy_pick(t, false, rr) {
                return Some((k, t));
            }
        }
        None
    }
}
