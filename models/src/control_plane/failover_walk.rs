//! The walk through a run's faults, in time order, that decides how each control-plane client
//! fails over ([`ControlPlane::set_faults`]): at each apiserver's loss, each cut of a kubelet off
//! from the balancer, and each crash of the balancer, which clients notice, where HAProxy hands
//! them, and, for the leader-elected controllers, who holds the lease
//! ([`ControlPlane::leader_after_loss`]).

use rand::Rng;
use sim_core::rng::{uniform_within, SimRng};
use sim_core::SimTime;

use super::lease_takeover::{Election, Lapse, LeaderFate, LeaderLoss, Renewals, Takeover};
use super::{ControlPlane, Failover, Watcher};
use crate::failover::{ClientRole, LostApiserver, Plan, Timers};

/// A leader-elected controller riding out the loss of its apiserver's quorum, its lease kept
/// ([`LeaderFate::Keeps`]): a later loss of the same stretch (such as a quorum serving
/// elsewhere) changes nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Kept {
    /// The apiserver.
    pub(super) apiserver: usize,
    /// When its held renewal goes through (its member back in a quorum).
    pub(super) through: SimTime,
    /// When the renewal before it went through.
    pub(super) renewed: SimTime,
}

/// A client's latest reconnection (a leader-elected controller's takeover), once decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Pending {
    /// When it dials (a takeover: when it tries for the lease).
    pub(super) tries_at: SimTime,
    /// When it is connected.
    pub(super) connected_at: SimTime,
    /// A takeover's: how the lease lapsed.
    pub(super) lapse: Option<Lapse>,
}

impl Pending {
    /// No reconnection yet.
    const NONE: Pending = Pending {
        tries_at: SimTime::ZERO,
        connected_at: SimTime::ZERO,
        lapse: None,
    };
}

/// What happens at an instant of the walk.
enum Event {
    /// Apiserver `m` stops serving ([`ControlPlane::apiserver_losses`]).
    Loss(usize),
    /// A network fault cuts kubelet `i` (an index into the walk's clients) off from the
    /// balancer, until the route carries again.
    Cut(usize, SimTime),
    /// The balancer crashes.
    BalancerCrash,
}

/// Where every client stands as the walk goes through the faults.
struct FailoverWalk<'a> {
    /// The control plane, with the faults' plan laid over it.
    cp: &'a ControlPlane,
    /// The kubelets' heartbeat and the controller-manager's leader election.
    timers: Timers,
    /// The scheduler's leader election.
    scheduler_timers: Timers,
    /// The first instant at or after a given one when etcd commits a write.
    commits: &'a dyn Fn(SimTime) -> SimTime,
    /// The clients, each moved as it fails over.
    clients: Vec<Watcher>,
    /// By client and master: the apiserver the standby there connected to before the run
    /// ([`ControlPlane::standby_pins`]).
    pins: Vec<Vec<Option<usize>>>,
    /// When each kubelet cut off reconnects after the repair: until then it is pinned to no
    /// apiserver whose loss it would notice.
    cut_reconnect: Vec<SimTime>,
    /// By client: the windows in which a kubelet is cut off from the balancer
    /// ([`ControlPlane::kubelet_cuts`]); a dial then gets through only once the route carries.
    cut_windows: Vec<Vec<(SimTime, SimTime)>>,
    /// The instant of each client's last reconnection decision: one per instant, or a client
    /// hit twice at once (a leader-elected one through its host and through its connection)
    /// would get two failovers, the later decision not necessarily winning.
    decided: Vec<Option<SimTime>>,
    /// Each leader-elected controller riding out a loss of its apiserver's quorum.
    kept: Vec<Option<Kept>>,
    /// Each client's latest reconnection.
    pending: Vec<Pending>,
    /// HAProxy's round robin, across every reconnection.
    rr: usize,
    /// The leader elections' draws, from a stream of their own, so that how many they take
    /// leaves the other clients' draws (when each notices a loss) as they were, and the
    /// candidates try alike whatever else the faults drew.
    election_rng: SimRng,
    /// The failovers so far, a takeover that failed replaced in place.
    out: Vec<Failover>,
}

impl ControlPlane {
    /// How the clients fail over, in time order, at each of the apiservers' `losses` and at
    /// each cut of a kubelet off from the load balancer ([`ControlPlane::kubelet_cuts`]):
    /// - at a loss, every client pinned to the dead apiserver, and every leader-elected
    ///   controller running on the dead master itself (its standby on another master takes
    ///   over), reconnects through HAProxy once it notices; a kubelet cut off, which reconnects
    ///   anew after the repair, is pinned to none;
    /// - at a cut that lasts longer than the kubelet takes to notice (the next round of the
    ///   first of its two heartbeat loops, then two timeouts: v1.16's `closeAllConns` runs
    ///   whatever the cause), the
    ///   kubelet's connections are gone, whichever apiserver they went to; it dials anew, and
    ///   its dials' first SYN after the route carries again connects through HAProxy
    ///   ([`FailoverWalk::kubelet_after_cut`]). A cut repaired before it notices leaves its
    ///   connections to TCP's resends; one never repaired leaves nothing to reconnect to.
    ///
    /// A client that finds no serving apiserver stays where it was; one whose reconnection is
    /// decided and not yet dialled is not moved again by a loss that ends before it dials (the
    /// server it was handed serves then). Unsorted.
    pub(super) fn fail_over_clients(
        &self,
        losses: &[(SimTime, usize)],
        (timers, scheduler_timers): (Timers, Timers),
        commits: &dyn Fn(SimTime) -> SimTime,
        election_seed: u64,
        rng: &mut impl Rng,
    ) -> Vec<Failover> {
        let clients = self.clients();
        let cuts = self.kubelet_cuts(&clients);
        let n = clients.len();
        let mut cut_windows = vec![Vec::new(); n];
        for &(cut, i, back) in &cuts {
            cut_windows[i].push((cut, back));
        }
        // The operator's kubectl, cut off with its host, dials nothing through either: its cuts
        // hold its reconnection (they close nothing of its own, as a kubelet's do).
        for (i, c) in clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.role == ClientRole::Operator)
        {
            cut_windows[i] = self.cuts_of(c.host);
        }
        let events = self.failover_events(losses, cuts);
        let mut walk = FailoverWalk {
            cp: self,
            timers,
            scheduler_timers,
            commits,
            pins: self.standby_pins(&clients, election_seed),
            clients,
            cut_reconnect: vec![SimTime::ZERO; n],
            cut_windows,
            decided: vec![None; n],
            kept: vec![None; n],
            pending: vec![Pending::NONE; n],
            rr: 0,
            election_rng: sim_core::rng::seeded(election_seed),
            out: Vec::new(),
        };
        for (s, event) in events {
            match event {
                Event::Loss(m) => walk.loss(s, m, rng),
                Event::Cut(i, back) => walk.cut(s, i, back, rng),
                Event::BalancerCrash => walk.balancer_crash(s),
            }
        }
        walk.out
    }

    /// The apiservers' `losses`, the kubelets' `cuts` from the balancer
    /// ([`ControlPlane::kubelet_cuts`], indices into the clients) and the balancer's crashes, in
    /// time order; at one instant the losses first, then the cuts, then the crashes.
    fn failover_events(
        &self,
        losses: &[(SimTime, usize)],
        cuts: Vec<(SimTime, usize, SimTime)>,
    ) -> Vec<(SimTime, Event)> {
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
        events.into_iter().map(|(s, _, _, e)| (s, e)).collect()
    }

    /// By client and master, the apiserver each standby's connection went to when its program
    /// started, before the run ([`super::lease_takeover::StandbyLink`]): HAProxy's round robin
    /// had handed out an unknown number of other connections by then (kubelets, kube-proxy,
    /// weave-net, kubectl, restarts), so the model draws it, uniformly among the backends, from
    /// a stream keyed by the controller and the standby's master (a run without faults draws
    /// nothing). The leader's master, and every client not leader-elected, has none.
    fn standby_pins(&self, clients: &[Watcher], election_seed: u64) -> Vec<Vec<Option<usize>>> {
        let n = self.masters.len();
        let pin_seed = sim_core::rng::keyed_seed(election_seed, sim_core::rng::stable_key("standby connections"));
        clients
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
            .collect()
    }
}

impl FailoverWalk<'_> {
    /// Apiserver `m` stops serving at `s`: every client pinned to it, and every leader-elected
    /// controller running on its master if that master no longer takes requests, fails over
    /// (a master that still takes requests lost only its member's quorum: the controllers
    /// running there talk through the balancer and keep going; its crash or its cut-off from
    /// the balancer stops them too). A kubelet cut off, not yet reconnected, is pinned to none.
    fn loss(&mut self, s: SimTime, m: usize, rng: &mut impl Rng) {
        let host = self.cp.masters[m];
        let host_down = !self.cp.plan.takes_requests(m, s);
        for i in 0..self.clients.len() {
            let c = &self.clients[i];
            let hit = c.master as usize == m || (c.role == ClientRole::Leader && c.host == host && host_down);
            if !hit || self.cut_reconnect[i] > s || self.decided[i] == Some(s) {
                continue;
            }
            if c.role == ClientRole::Leader {
                self.leader_loss(i, s, m, host_down);
            } else {
                self.client_loss(i, s, m, rng);
            }
        }
    }

    /// Leader-elected client `i` loses apiserver `m` at `s` (`host_down`: with the master it
    /// runs on, if that is `m`'s). One riding out the loss of `m`'s quorum carries on; one whose
    /// takeover is under way has it decided again if it fails ([`FailoverWalk::retake`]);
    /// otherwise the lease is kept or taken over ([`ControlPlane::leader_after_loss`]).
    fn leader_loss(&mut self, i: usize, s: SimTime, m: usize, host_down: bool) {
        if matches!(self.kept[i], Some(k) if k.apiserver == m && s < k.through) {
            return;
        }
        let pending = self.pending[i];
        if s < pending.connected_at {
            self.retake(i, s, m, host_down);
            return;
        }
        // Its own master crashed (its etcd member stopped, or its route to the balancer cut,
        // the controller runs on).
        let c = &self.clients[i];
        let through_host = c.host == self.cp.masters[m] && !self.cp.plan.apiserver_up(m, s);
        let loss = if through_host {
            LeaderLoss::Host
        } else {
            LeaderLoss::Connection
        };
        match self.decide(i, s, loss, Renewals::before(s, self.kept[i], pending)) {
            LeaderFate::Keeps { through, renewed } => {
                self.kept[i] = Some(Kept {
                    apiserver: m,
                    through,
                    renewed,
                })
            }
            LeaderFate::TakenOver(to) => {
                self.kept[i] = None;
                self.record_takeover(i, s, to, None);
            }
            LeaderFate::Stuck => {}
        }
    }

    /// A takeover under way for leader-elected client `i` meets the loss of apiserver `m` at
    /// `s`. The candidates' timing is settled (its apiserver was picked serving when it tries);
    /// if the takeover fails, it is decided again among the candidates, the lease lapsing as it
    /// did, and rewritten in place: the new leader's own master crashes, or is cut from the
    /// balancer, before it leads (`host_down`); or the apiserver it connects to goes while it
    /// connects (its try fails; it tries on with the others).
    fn retake(&mut self, i: usize, s: SimTime, m: usize, host_down: bool) {
        let c = &self.clients[i];
        let pending = self.pending[i];
        let winner_lost = c.host == self.cp.masters[m] && host_down;
        let connection_lost = m == c.master as usize && s >= pending.tries_at;
        let Some(lapse) = pending.lapse.filter(|_| winner_lost || connection_lost) else {
            return;
        };
        let taken = self.out.iter().rposition(|f| f.client == c.id);
        let fate = self.decide(i, s, LeaderLoss::Takeover(lapse), Renewals::Drawn);
        if let (Some(j), LeaderFate::TakenOver(to)) = (taken, fate) {
            self.record_takeover(i, s, to, Some(j));
        }
    }

    /// Client `i`, not leader-elected, loses apiserver `m` at `s`: once it notices, HAProxy
    /// hands it the next server that serves. One whose reconnection is decided and not yet
    /// made stays with it (the server it was handed serves when it dials: the pick saw the plan
    /// then). One handed its own apiserver back, which kept running and answering from its
    /// cache while no quorum serves anywhere (its loss is its quorum's, not a crash that closed
    /// the connection), stays (a loss of its host at the same instant still moves it).
    fn client_loss(&mut self, i: usize, s: SimTime, m: usize, rng: &mut impl Rng) {
        let cp = self.cp;
        if s < self.pending[i].tries_at {
            return;
        }
        let Some((k, t)) = cp.reconnection(self.clients[i].role, (m, s), self.timers, &mut self.rr, rng) else {
            return;
        };
        let handshake = cp.connect_time(self.clients[i].host, k);
        if let Some(back) = self.cut_during(i, t, t + handshake) {
            // A client whose dial meets a cut of its route to the balancer (the dial, or its
            // handshake's answers) gets through at its first SYN after the repair: each dial's
            // SYN is resent 1, 3, 7 and 15 s after it, and a dial that times out is made again.
            // A kubelet never connects if the cut is never repaired.
            self.decided[i] = Some(s);
            if self.clients[i].role == ClientRole::Kubelet {
                self.kubelet_after_cut(i, s, t, back, rng);
            } else {
                let syn = |back| crate::network::first_syn_at_or_after(t, back, crate::network::CLIENT_DIAL_TIMEOUT);
                self.reconnect_from(i, s, back, syn);
            }
            return;
        }
        let kept_running = cp.plan.takes_requests(m, s) && cp.plan.takes_requests(m, t);
        if k == m && self.clients[i].master as usize == m && kept_running {
            return;
        }
        self.decided[i] = Some(s);
        let f = cp.reconnect(&mut self.clients[i], s, k, t);
        self.pending[i] = Pending {
            tries_at: t,
            connected_at: f.reconnect_at,
            lapse: None,
        };
        if self.cut_during(i, s, f.reconnect_at).is_some() {
            // A cut while it waited to notice, over before it dialled: this reconnection is
            // the one after it too.
            self.cut_reconnect[i] = f.reconnect_at;
        }
        self.out.push(f);
    }

    /// Kubelet `i` is cut off from the balancer at `s` until `back`. If it notices before the
    /// repair (the next round of the first of its two heartbeat loops, both failing, then two
    /// timeouts: v1.16's `closeAllConns` runs whatever the cause), its connections are gone,
    /// whichever apiserver they went to, and it dials anew ([`FailoverWalk::kubelet_after_cut`]). A cut
    /// repaired before it notices leaves its connections to TCP's resends.
    fn cut(&mut self, s: SimTime, i: usize, back: SimTime, rng: &mut impl Rng) {
        if back == SimTime::MAX {
            // Cut off for good: it never reaches the balancer again, nor any apiserver.
            self.cut_reconnect[i] = SimTime::MAX;
            return;
        }
        let noticed = s + Plan::detection(ClientRole::Kubelet, LostApiserver::Silent, self.timers, rng);
        if noticed >= back || self.cut_reconnect[i] > s {
            return;
        }
        self.kubelet_after_cut(i, s, noticed, back, rng);
    }

    /// Kubelet `i`, its connection lost at `s`, dials from `from` on while cut off from the
    /// balancer until `back` (never repaired: [`SimTime::MAX`]), and gets through at the first
    /// SYN after the repair of any of its dials, each sent at once and resent 1, 3, 7 and 15 s
    /// later within its time-out:
    /// - its reflectors watch again at once when their watches end with the closed connections
    ///   (client-go v1.16 `ListAndWatch` sends the next watch when the last ended without an
    ///   error of its own), and dial again after a dial times out at client-go's 30 s, a second
    ///   later (`wait.Until(..., period: time.Second)`, which the model leaves out);
    /// - its node status loop dials at each of its ticks (`--node-status-update-frequency`, at
    ///   a phase drawn here), each dial ending with its request at the heartbeat client's
    ///   timeout (the dial runs under the request's context), so SYNs at 0, 1, 3 and 7 s. A
    ///   simplification: v1.16's rounds make five tries back to back, then pause a period.
    ///
    /// It gets through within 4 s of the repair. The Lease controller's dials, another grid of
    /// tries at the heartbeat timeout's pace at the Lease's own phase, are left out. Every
    /// request of the kubelet then goes through that connection (HTTP/2, one transport for the
    /// main and the heartbeat clients).
    fn kubelet_after_cut(&mut self, i: usize, s: SimTime, from: SimTime, back: SimTime, rng: &mut impl Rng) {
        if back == SimTime::MAX {
            self.cut_reconnect[i] = SimTime::MAX;
            return;
        }
        let period = self.timers.heartbeat;
        let ticks = (uniform_within(rng, period), period);
        let timeout = crate::network::CLIENT_DIAL_TIMEOUT;
        let heartbeat_dial = timeout.min(self.timers.heartbeat_timeout);
        let syn = |back| {
            crate::network::first_syn_at_or_after(from, back, timeout).min(
                crate::network::first_periodic_syn_at_or_after(from, ticks, back, heartbeat_dial),
            )
        };
        self.reconnect_from(i, s, back, syn);
    }

    /// The end of the first cut of kubelet `i` from the balancer that overlaps `from..=until`
    /// ([`SimTime::MAX`] if it is never repaired), if one does.
    fn cut_during(&self, i: usize, from: SimTime, until: SimTime) -> Option<SimTime> {
        self.cut_windows[i]
            .iter()
            .find(|&&(cut, back)| cut <= until && from < back)
            .map(|&(_, back)| back)
    }

    /// Client `i`, its connection lost at `s`, dials at `first_try(back)` after its cut ends at
    /// `back` (its dial's first SYN then):
    /// HAProxy hands it the first server that serves, trying every node-status period. A dial
    /// that meets a later cut waits for that one's repair, and tries as it would after it.
    fn reconnect_from(&mut self, i: usize, s: SimTime, back: SimTime, first_try: impl Fn(SimTime) -> SimTime) {
        let mut back = back;
        let (k, t) = loop {
            let Some((k, t)) = self
                .cp
                .first_serving(first_try(back), self.timers.heartbeat, false, &mut self.rr)
            else {
                return;
            };
            let handshake = self.cp.connect_time(self.clients[i].host, k);
            match self.cut_during(i, t, t + handshake) {
                Some(SimTime::MAX) => {
                    self.cut_reconnect[i] = SimTime::MAX;
                    return;
                }
                Some(later) if later > back => back = later,
                _ => break (k, t),
            }
        };
        let f = self.cp.reconnect(&mut self.clients[i], s, k, t);
        self.cut_reconnect[i] = f.reconnect_at;
        self.out.push(f);
    }

    /// The balancer crashes at `s`. The leaders' renewals go nowhere until the balancer is back
    /// (the other clients' connections come back with it, [`crate::faults`]). A leader whose
    /// own takeover's try is still to come is left to it; one who has taken the lease,
    /// connecting or not, renews it through the balancer like any other, and one riding out an
    /// earlier loss (its renewal held until its quorum is back) has it held until the balancer
    /// is back too. A new leader deposed before it was connected never led: the takeover it
    /// made is replaced by the new one.
    fn balancer_crash(&mut self, s: SimTime) {
        for i in 0..self.clients.len() {
            let pending = self.pending[i];
            let busy = s < pending.tries_at;
            if self.clients[i].role != ClientRole::Leader || busy || self.decided[i] == Some(s) {
                continue;
            }
            let renewals = Renewals::before(s, self.kept[i], pending);
            match self.decide(i, s, LeaderLoss::Balancer, renewals) {
                LeaderFate::TakenOver(to) => {
                    self.kept[i] = None;
                    let id = self.clients[i].id;
                    let connecting = (s < pending.connected_at)
                        .then(|| self.out.iter().rposition(|f| f.client == id))
                        .flatten();
                    self.record_takeover(i, s, to, connecting);
                }
                LeaderFate::Keeps { through, renewed } => {
                    self.kept[i] = Some(Kept {
                        apiserver: self.clients[i].master as usize,
                        through,
                        renewed,
                    });
                }
                LeaderFate::Stuck => {}
            }
        }
    }

    /// The fate of leader-elected client `i`'s lease after `loss` at `s`, its leader having
    /// renewed as `renewals` says ([`ControlPlane::leader_after_loss`]).
    fn decide(&mut self, i: usize, s: SimTime, loss: LeaderLoss, renewals: Renewals) -> LeaderFate {
        let c = &self.clients[i];
        let timers = if Some(c.id) == self.cp.scheduler.map(|w| w.id) {
            self.scheduler_timers
        } else {
            self.timers
        };
        let pinned = self.cp.still_pinned(&self.pins[i], c, &self.out, s);
        let election = Election {
            timers,
            commits: self.commits,
            renewals,
            pinned: &pinned,
        };
        self.cp
            .leader_after_loss(c, s, loss, election, &mut self.rr, &mut self.election_rng)
    }

    /// Leader-elected client `i` leads again as `to` says after a loss at `s`: a new failover,
    /// or in place of failover `replacing`, a takeover that failed or whose leader was deposed
    /// before it was connected (which never led).
    fn record_takeover(&mut self, i: usize, s: SimTime, to: Takeover, replacing: Option<usize>) {
        self.decided[i] = Some(s);
        let c = &mut self.clients[i];
        let f = match replacing {
            Some(j) => self.cp.take_over_again(c, &mut self.out[j], to),
            None => {
                let f = self.cp.take_over(c, s, to);
                self.out.push(f);
                f
            }
        };
        self.pending[i] = Pending {
            tries_at: to.at,
            connected_at: f.reconnect_at,
            lapse: Some(to.lapse),
        };
    }
}
