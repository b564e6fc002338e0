//! The control plane's availability over time when masters or etcd members fail.
//!
//! # Mechanism
//!
//! - **HAProxy** checks each backend (checks of different servers are not in phase: each gets
//!   a random phase) and starts the next check `inter` after the last one ended (`checks.c`,
//!   `process_chk_conn`: `t->expire = tick_add(now_ms, MS_TO_TICKS(srv_getinter(check) + rv))`
//!   once a check completes, in 1.5 through 2.x). A crashed master is a host that stops, as a
//!   powered-off machine does: it answers nothing, neither the check's SYN nor its clients'
//!   segments (whose clients notice by their own timers, below), so each check fails at its
//!   time-out, `inter` (HAProxy 1.8 uses it for the whole check when `timeout check` is not
//!   set, configuration manual §4.2), and a failing server is checked every `2 x inter`. After
//!   `fall` consecutive failures it marks the server down: `(2 fall - 1) x inter` after the
//!   first check that finds it dead, 10 to 12 s after the crash at the defaults. A check whose
//!   SYN's resend (Linux: 1 s after the first, then 3, 7, ... s) finds the server back within
//!   the time-out passes, so a master back within a second of a check's start is not marked
//!   down by it. After a repair, `rise` consecutive successes, each a round trip, mark it up
//!   (§5.2).
//! - **etcd**: who leads, and when writes can commit, come from etcd's elections simulated
//!   message by message over the run's network ([`crate::raft::Leadership`], which this plan
//!   asks only whom each `crash-etcd-leader` stopped). A member stops with its master.
//! - An apiserver whose **etcd member has stopped** (kubeadm's stacked apiserver talks only to
//!   its local member, `--etcd-servers=https://127.0.0.1:2379`) holds every write and quorum
//!   read, while HAProxy's TCP check still passes: etcd's client waits for its one endpoint to
//!   come back rather than fail the call (clientv3 `options.go`: `defaultFailFast =
//!   grpc.FailFast(false)`, "to minimize client request error responses due to transient
//!   failures"), until the request's context ends. Its watch cache stays ready but frozen: the
//!   cache's etcd watch does not end, clientv3 reopening it for as long as the endpoint is
//!   unavailable (`openWatchClient`, `isHaltErr`; kubernetes issue #68039), so reads at
//!   `resourceVersion=0` are still answered. To its clients it is as dead as a crashed one for
//!   everything that writes, except that HAProxy may hand a reconnecting client back to it
//!   ([`Plan::serves`]), until kubeadm's liveness probe on `/healthz`, whose etcd check fails,
//!   has the kubelet kill it 72 to 82 s after its member stopped; its port then refuses
//!   HAProxy's checks, which mark it down a few seconds later, until the member is back
//!   ([`crate::liveness`], [`Plan::kill_apiservers_without_their_member`]). Clients still
//!   pinned to it at the kill (by then the kubelets and the leaders have left it) notice by
//!   their own timers, where v1.16 resets their connections at once.
//! - An apiserver whose member **runs outside a quorum** (the others crashed, or a partition
//!   leaves it in a minority) still answers reads from its watch cache: v1.16's apiserver
//!   watches etcd without `WithRequireLeader` (added in v1.19, kubernetes PR #89881: such a
//!   watch "can hang forever if the etcd cluster loses quorum"), so the cache stays ready,
//!   frozen. Its writes and quorum reads wait for the member to be in a quorum with a leader
//!   (etcd holds a proposal while it knows no leader; each try times out after `5 s + 2 x
//!   election timeout` and the client tries again; the model folds the tries into one wait).
//!   HAProxy's TCP check passes, so when no apiserver serves anywhere, a reconnecting client
//!   stays on one that answers this way ([`Plan::takes_requests`]); while, or once, a quorum
//!   serves elsewhere, its clients move there.
//! - **Clients** pinned to a dead apiserver notice by their own timers, then reconnect through
//!   HAProxy, which sends them to a server it believes up (if it still believes the dead one up,
//!   they fail again and retry at their next timer):
//!   - a kubelet: its next node-status update makes up to five tries, each timing out after
//!     the heartbeat client's timeout (`--node-status-update-frequency`, capped at the node
//!     Lease's duration, in v1.16), and after
//!     the second failed try in a row the kubelet closes all its connections
//!     (`updateNodeStatus`: `if i > 0 && kl.onRepeatedHeartbeatFailure != nil`, which
//!     kubeadm's certificate rotation sets to `closeAllConns`; pkg/kubelet/kubelet_node_status.go):
//!     two timeouts after the update starts. The Lease controller calls the same hook on its
//!     second failed renewal (pkg/kubelet/nodelease/controller.go `retryUpdateLease`, `if i >
//!     0`, kubernetes PR #81663), on a grid of its own, and the first of the two loops to fail
//!     twice closes the connections ([`Plan::detection`]). An apiserver whose etcd member is
//!     gone ([`LostApiserver::MemberStopped`], [`LostApiserver::NoQuorum`]) fails the Lease
//!     renewal (a write) at every round, but a
//!     node-status round only when it has a PATCH to send (the first try's
//!     `resourceVersion=0` GET is answered from the frozen cache, but the PATCH waits on
//!     etcd's client; the second try's GET reads etcd): the model takes the Lease's two
//!     tries, each ending at the heartbeat client's timeout, or at etcd's `ReqTimeout` (7 s)
//!     when the member runs outside a quorum;
//!   - the controller-manager and the scheduler: the leader cannot renew its lease; unless a
//!     renewal gets through before `--leader-elect-renew-deadline`, it gives up, and a
//!     candidate takes over once the lease has expired in its eyes
//!     (`--leader-elect-lease-duration`, tried every `--leader-elect-retry-period`), through
//!     an apiserver that can write, and runs on that candidate's master from then
//!     (`ControlPlane::leader_after_loss`). The same holds when the load balancer itself
//!     crashes and the held renewal misses the renew deadline (it waits for TCP's next resend
//!     after the restart, which backs off: outages from about 6 s on the thesis); a standby
//!     learns its own connection is gone the same way, at TCP's next resend after the
//!     restart, and the restarted leader dials afresh (`ControlPlane::standby_link`);
//!   - the operator's `kubectl get -w`: assumed to notice like a kubelet (kubectl itself has no
//!     watch timeout; a person restarts it); cut off from the balancer with its host when it
//!     dials, it gets through at its first SYN after the repair (each dial's SYN resent 1, 3, 7
//!     and 15 s after it, and dialled again after client-go's 30-s time-out;
//!     [`crate::network::first_syn_at_or_after`]), where it was recorded reconnecting during the
//!     cut;
//!   - a kubelet cut off from the load balancer by a network fault (its site isolated, its
//!     tunnel partitioned, a router on the way crashed) notices the same way, since both its
//!     heartbeat loops' tries fail whatever the cause, and closes all its connections; it dials
//!     anew at once (its reflectors' watches) and at each node status tick, and the first of
//!     its dials' SYNs after the route carries again (within 4 s) connects through HAProxy's
//!     round robin
//!     (`ControlPlane::fail_over_clients`, `kubelet_cuts`), and what its old connections held
//!     comes through the new one. A cut repaired before it notices leaves its connections to
//!     TCP's resends. A crash of the load balancer itself is not counted as a cut: its clients'
//!     next segment after its restart is reset and they reconnect at once ([`crate::faults`]).

use rand::Rng;
use sim_core::rng::uniform_within;
use sim_core::{SimDuration, SimTime};

use crate::cut_off::CutOff;
use crate::faults::covering;
use crate::spec::{Fault, Haproxy};

/// How a client notices that its apiserver died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRole {
    /// A kubelet: heartbeat timeout.
    Kubelet,
    /// A leader-elected controller (controller-manager, scheduler): lease expiry and takeover.
    Leader,
    /// The operator's kubectl.
    Operator,
}

/// What a client's lost apiserver still does: it decides which of a kubelet's two heartbeat
/// loops fail, and how soon each try does ([`Plan::detection`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostApiserver {
    /// Nothing answers: the apiserver, its master or the balancer's route to it is gone, or
    /// the apiserver does not listen (killed by its liveness probe: v1.16 would see its
    /// connection refused at once, the model as silent). Both of a kubelet's loops fail at
    /// every round, each try at the heartbeat client's timeout.
    Silent,
    /// The apiserver runs, its etcd member stopped: it answers reads from its frozen watch
    /// cache (the node status loop's `resourceVersion=0` GET) and holds what needs etcd, its
    /// etcd client waiting for its one endpoint (clientv3 `defaultFailFast =
    /// grpc.FailFast(false)`), until the kubelet's timeout. The Lease controller's PUTs fail
    /// at every round; the node status loop's rounds only when they have a PATCH to send,
    /// which the model leaves out (a report is due once a minute, `nodeStatusReportFrequency`).
    MemberStopped,
    /// The apiserver runs, its etcd member outside a quorum: as [`LostApiserver::MemberStopped`],
    /// but etcd answers each write "request timed out" after its `ReqTimeout`
    /// ([`crate::etcd::request_timeout`], 7 s), which fails the Lease's try then.
    NoQuorum,
}

/// Timers the clients and etcd use to notice failures.
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    /// Kubelet `--node-status-update-frequency`: the node status loop's period.
    pub heartbeat: SimDuration,
    /// How often the kubelet renews its node Lease: a quarter of `nodeLeaseDurationSeconds`
    /// ([`crate::spec::Kubelet::lease_renew_interval`]).
    pub node_lease_renew: SimDuration,
    /// The kubelet heartbeat client's timeout per request, both loops'
    /// ([`crate::spec::Kubelet::heartbeat_timeout`]).
    pub heartbeat_timeout: SimDuration,
    /// How long etcd holds a request before it answers "request timed out"
    /// ([`crate::etcd::request_timeout`]).
    pub etcd_request_timeout: SimDuration,
    /// `--leader-elect-lease-duration`.
    pub lease: SimDuration,
    /// `--leader-elect-renew-deadline`: how long a leader keeps trying to renew before it gives
    /// up leading.
    pub renew_deadline: SimDuration,
    /// `--leader-elect-retry-period`.
    pub retry: SimDuration,
}

/// The last resend of a check's SYN within its time-out `inter`
/// ([`crate::network::syn_resends`]): zero when none fits.
fn latest_syn_resend(inter: SimDuration) -> SimDuration {
    crate::network::syn_resends(inter).last().unwrap_or(SimDuration::ZERO)
}

/// When a check started at `c` reaches a server that is back at `e`: at once if it is back by
/// then, else at the first resend of its SYN at or after `e` within the check's time-out
/// `inter`; `None` if the check times out first.
fn check_answered(c: SimTime, e: SimTime, inter: SimDuration) -> Option<SimTime> {
    if e <= c {
        return Some(c);
    }
    crate::network::syn_resends(inter).map(|r| c + r).find(|&at| at >= e)
}

/// Availability of apiservers, etcd members and HAProxy's view of them, as functions of time.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Per master: windows when its apiserver (and etcd member) are down.
    pub apiserver_down: Vec<Vec<(SimTime, SimTime)>>,
    /// Per master: windows when its etcd member is not in a working quorum, stopped or cut
    /// off (its apiserver cannot write).
    pub etcd_down: Vec<Vec<(SimTime, SimTime)>>,
    /// Per master: windows when its etcd member is stopped (crashed with its master, or a
    /// `crash-etcd-leader` victim): its apiserver answers nothing that needs etcd, which the model
    /// takes as every request it sends to it (it answers only `resourceVersion=0` reads from its
    /// frozen cache, of which only a kubelet's node status read tells: [`Plan::lost_at`]).
    pub etcd_stopped: Vec<Vec<(SimTime, SimTime)>>,
    /// Per master: windows when HAProxy has it marked down.
    pub marked_down: Vec<Vec<(SimTime, SimTime)>>,
    /// Per master: windows when the load balancer cannot reach it ([`crate::cut_off`]).
    pub unreachable: Vec<Vec<(SimTime, SimTime)>>,
    /// Per master: windows in which its apiserver does not listen for want of its stopped etcd
    /// member, from the liveness probe's kill or its master's return from a crash, until the
    /// member is back ([`crate::liveness`]).
    pub apiserver_killed: Vec<Vec<(SimTime, SimTime)>>,
    /// Per master: the phase of HAProxy's checks of it (they start at `phase + k x inter`).
    pub check_phases: Vec<SimDuration>,
}

impl Plan {
    /// The plan of `n` masters that nothing takes down: every window list empty, no check
    /// phases drawn yet.
    pub fn fault_free(n: usize) -> Plan {
        Plan {
            apiserver_down: vec![Vec::new(); n],
            etcd_down: vec![Vec::new(); n],
            etcd_stopped: vec![Vec::new(); n],
            marked_down: vec![Vec::new(); n],
            unreachable: vec![Vec::new(); n],
            apiserver_killed: vec![Vec::new(); n],
            check_phases: Vec::with_capacity(n),
        }
    }

    /// Works out the windows for `faults` over `masters` (names, in backend order).
    /// `leader_crashes` are the `crash-etcd-leader` faults as etcd's simulated elections met
    /// them (`crate::raft::Leadership::crashed_leaders`: from, until, the member leading then,
    /// if one did). `lb_rtt[i]` is the RTT between the balancer and master `i`.
    ///
    /// Faults naming hosts that are not masters are ignored here (the network handles them).
    pub fn build(
        faults: &[Fault],
        masters: &[String],
        leader_crashes: &[(SimTime, SimTime, Option<usize>)],
        haproxy: &Haproxy,
        lb_rtt: &[SimDuration],
        cut: &CutOff,
        rng: &mut impl Rng,
    ) -> Plan {
        let n = masters.len();
        let mut p = Plan::fault_free(n);
        // Members cut off from a quorum serve nothing; masters the balancer cannot reach fail
        // its checks, by time-out.
        for m in 0..n {
            for &w in cut.member.get(m).into_iter().flatten() {
                p.etcd_down[m].push(w);
            }
            p.unreachable[m] = cut.from_lb.get(m).cloned().unwrap_or_default();
        }
        for f in faults {
            if let Fault::Crash { host, .. } = f {
                if let Some(i) = masters.iter().position(|m| m == host) {
                    p.apiserver_down[i].push(f.window());
                    p.etcd_down[i].push(f.window());
                    p.etcd_stopped[i].push(f.window());
                }
            }
        }
        for &(from, until, member) in leader_crashes {
            if let Some(l) = member.filter(|&l| l < n) {
                p.etcd_down[l].push((from, until));
                p.etcd_stopped[l].push((from, until));
            }
        }
        // HAProxy's view, from its check schedule.
        let inter = haproxy.inter.get().max(SimDuration::from_millis(1));
        for i in 0..n {
            let phase = uniform_within(rng, inter);
            p.check_phases.push(phase);
            let rtt = lb_rtt.get(i).copied().unwrap_or(SimDuration::ZERO);
            let first_check_at = |t: SimTime| t.tick_at_or_after(phase, inter);
            // A crashed master and one out of reach alike never answer: each check fails at its
            // time-out, `inter`, and the next starts `inter` after that; a check whose SYN's
            // resend finds the server back passes ([`check_answered`]).
            // A server down through back-to-back windows (a crash repaired as the next one
            // begins) keeps failing its checks: one window, or HAProxy's count would restart.
            let merged = crate::faults::merged(p.apiserver_down[i].iter().chain(&p.unreachable[i]).copied().collect());
            let failing_period = inter + inter;
            let healthy_period = inter + rtt;
            // A server down again before its `rise`-th good check is never marked up in between:
            // its mark-down runs on (`carried`).
            let mut carried: Option<SimTime> = None;
            for (k, &(s, e)) in merged.iter().enumerate() {
                let c0 = first_check_at(s);
                let down_at = match carried.take() {
                    Some(down_at) => down_at,
                    None => {
                        let last_failing = c0 + failing_period * u64::from(haproxy.fall.max(1) - 1);
                        if check_answered(last_failing, e, inter).is_some() {
                            continue; // back before the fall-th check gave up
                        }
                        last_failing + inter
                    }
                };
                let up_at = if e == SimTime::MAX {
                    SimTime::MAX
                } else {
                    // The first check on the failing checks' grid that it answers (at once, or
                    // its SYN's resend), then `rise - 1` more, each `inter` after the last.
                    let from = SimTime::from_nanos(e.as_nanos().saturating_sub(latest_syn_resend(inter).as_nanos()));
                    let since = from.saturating_since(c0).as_nanos();
                    let period = failing_period.as_nanos().max(1);
                    let back = c0 + SimDuration::from_nanos(since.div_ceil(period).saturating_mul(period));
                    let answered = check_answered(back, e, inter).unwrap_or(back.max(e));
                    answered + rtt + healthy_period * u64::from(haproxy.rise.max(1) - 1)
                };
                if merged.get(k + 1).is_some_and(|next| next.0 < up_at) {
                    carried = Some(down_at);
                    continue;
                }
                p.marked_down[i].push((down_at, up_at));
            }
        }
        p
    }

    /// kubeadm's liveness probe kills an apiserver whose member a `crash-etcd-leader` stopped
    /// (its master up), and HAProxy marks it down ([`crate::liveness`]); a master back from a
    /// crash while that member is still stopped cannot start its apiserver either, and stays
    /// marked down. Either way HAProxy marks it up only once the member is back.
    /// `leader_crashes`, `haproxy` and `lb_rtt` as for [`Plan::build`], which must have made
    /// this plan. `probes` draws each such apiserver's probe phase, once (a kubelet's probe
    /// worker keeps its period), from a stream of its own, so that the other faults' draws stay
    /// as they were.
    pub fn kill_apiservers_without_their_member(
        &mut self,
        leader_crashes: &[(SimTime, SimTime, Option<usize>)],
        haproxy: &Haproxy,
        lb_rtt: &[SimDuration],
        probes: &mut impl Rng,
    ) {
        let n = self.apiserver_down.len();
        let mut probe_phases: Vec<Option<SimDuration>> = vec![None; n];
        let checks = (haproxy.fall, haproxy.rise);
        for &(from, until, member) in leader_crashes {
            let Some(m) = member.filter(|&m| m < n) else {
                continue;
            };
            let rtt = lb_rtt.get(m).copied().unwrap_or(SimDuration::ZERO);
            let check_phase = self.check_phases.get(m).copied().unwrap_or(SimDuration::ZERO);
            let marked = |stop: SimTime| {
                crate::liveness::marked_down(stop, until, check_phase, haproxy.inter.get(), rtt, checks)
            };
            if self.apiserver_up(m, from) {
                let phase =
                    *probe_phases[m].get_or_insert_with(|| uniform_within(probes, crate::liveness::PROBE_PERIOD));
                if let Some(killed) = crate::liveness::killed_at(from, until, phase) {
                    if let Some(w) = marked(killed) {
                        self.marked_down[m].push(w);
                        self.apiserver_killed[m].push((killed, until));
                    }
                }
            }
            // Back from a crash, its apiserver finds no member: the checks that found the master
            // dead go on failing until the member is back.
            let returns: Vec<SimTime> = self.apiserver_down[m]
                .iter()
                .map(|w| w.1)
                .filter(|&back| from < back && back < until)
                .collect();
            for back in returns {
                self.apiserver_killed[m].push((back, until));
                let member_up = marked(back).map(|w| w.1);
                match self.marked_down[m].iter_mut().find(|w| w.0 <= back && back <= w.1) {
                    Some(w) => w.1 = w.1.max(member_up.unwrap_or(w.1)),
                    None => self.marked_down[m].extend(marked(back)),
                }
            }
            // One window where marks overlap (HAProxy's count does not restart).
            self.marked_down[m] = crate::faults::merged(std::mem::take(&mut self.marked_down[m]));
            self.apiserver_killed[m].sort_unstable();
        }
    }

    /// Whether apiserver `m` answers at `t`.
    pub fn apiserver_up(&self, m: usize, t: SimTime) -> bool {
        covering(&self.apiserver_down[m], t).is_none()
    }

    /// Whether apiserver `m` serves requests at `t`: it runs, so does its etcd member (in a
    /// quorum), and the load balancer reaches it.
    pub fn serves(&self, m: usize, t: SimTime) -> bool {
        // A stopped member is down too (`etcd_stopped` windows are among `etcd_down`'s).
        self.takes_requests(m, t) && self.etcd_back(m, t).is_none()
    }

    /// When apiserver `m`'s etcd member is back, if it is down at `t`.
    pub fn etcd_back(&self, m: usize, t: SimTime) -> Option<SimTime> {
        covering(&self.etcd_down[m], t).map(|w| w.1)
    }

    /// The first instant at or after `t` when apiserver `m`'s etcd member is in a working
    /// quorum ([`SimTime::MAX`]: never), across back-to-back windows.
    pub fn etcd_in_quorum_from(&self, m: usize, t: SimTime) -> SimTime {
        let mut t = t;
        while let Some(back) = self.etcd_back(m, t) {
            t = back; // a window ends after every instant it covers
        }
        t
    }

    /// Whether apiserver `m`'s etcd member is stopped at `t` (not merely outside a quorum).
    pub fn etcd_stopped(&self, m: usize, t: SimTime) -> bool {
        covering(&self.etcd_stopped[m], t).is_some()
    }

    /// Whether apiserver `m` answers requests at `t`, perhaps only from its watch cache: it
    /// runs, so does its etcd member (in a quorum or not), and the load balancer reaches it.
    pub fn takes_requests(&self, m: usize, t: SimTime) -> bool {
        self.apiserver_up(m, t) && !self.etcd_stopped(m, t) && covering(&self.unreachable[m], t).is_none()
    }

    /// Whether some apiserver serves at `t` ([`Plan::serves`]) and HAProxy hands it new
    /// connections.
    pub fn any_serves(&self, t: SimTime) -> bool {
        (0..self.apiserver_down.len()).any(|m| self.serves(m, t) && self.haproxy_up(m, t))
    }

    /// The first instant at or after `t` when some apiserver serves ([`Plan::any_serves`]);
    /// `None` if none ever does again.
    pub fn first_served_from(&self, t: SimTime) -> Option<SimTime> {
        if self.any_serves(t) {
            return Some(t);
        }
        self.edges().into_iter().find(|&e| e > t && self.any_serves(e))
    }

    /// Whether `holds` is true over `[a, b)`: the plan's windows change only at their edges,
    /// so at `a` and at each edge inside.
    pub fn throughout(&self, a: SimTime, b: SimTime, holds: impl Fn(SimTime) -> bool) -> bool {
        holds(a) && self.edges().into_iter().filter(|&e| a < e && e < b).all(holds)
    }

    /// Whether master `m` (and so the standby controllers on it) runs throughout `[a, b]`.
    pub fn host_up_throughout(&self, m: usize, a: SimTime, b: SimTime) -> bool {
        !self.apiserver_down[m].iter().any(|&(s, e)| s <= b && e > a)
    }

    /// Every instant at which a window of the plan opens or closes, in order.
    pub fn edges(&self) -> Vec<SimTime> {
        let mut all: Vec<SimTime> = [
            &self.apiserver_down,
            &self.etcd_down,
            &self.marked_down,
            &self.unreachable,
        ]
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|w| [w.0, w.1])
        .filter(|&t| t != SimTime::MAX)
        .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Whether HAProxy sends new connections to `m` at `t`.
    pub fn haproxy_up(&self, m: usize, t: SimTime) -> bool {
        covering(&self.marked_down[m], t).is_none()
    }

    /// When HAProxy marked `m` down after the crash starting at `s`, if it did.
    pub fn marked_down_after(&self, m: usize, s: SimTime) -> Option<(SimTime, SimTime)> {
        self.marked_down[m].iter().copied().find(|w| w.0 >= s)
    }

    /// What a client of apiserver `m` meets there at `t` ([`LostApiserver`]), if `m` does not
    /// serve it: an apiserver that runs, listens and that the balancer reaches answers from its
    /// cache, with its etcd member stopped or outside a quorum.
    pub fn lost_at(&self, m: usize, t: SimTime) -> LostApiserver {
        let listens = self.apiserver_up(m, t)
            && covering(&self.apiserver_killed[m], t).is_none()
            && covering(&self.unreachable[m], t).is_none();
        if !listens {
            LostApiserver::Silent
        } else if self.etcd_stopped(m, t) {
            LostApiserver::MemberStopped
        } else {
            LostApiserver::NoQuorum
        }
    }

    /// How long after `s` a client of `role` notices its apiserver is gone, given what that
    /// apiserver still does (`lost`, which only a kubelet's timers tell apart).
    pub fn detection(role: ClientRole, lost: LostApiserver, timers: Timers, rng: &mut impl Rng) -> SimDuration {
        match role {
            ClientRole::Kubelet => {
                // Each failing loop's next round (uniformly placed in its period: the loops
                // run at independent phases), then two tries that each time out; the second
                // failure of the first round to fail twice closes the connections.
                // Both phases are drawn whatever `lost` is, so that the draws that follow are
                // the same.
                let status = uniform_within(rng, timers.heartbeat);
                let lease = uniform_within(rng, timers.node_lease_renew);
                let (first_round, try_fails) = match lost {
                    LostApiserver::Silent => (status.min(lease), timers.heartbeat_timeout),
                    LostApiserver::MemberStopped => (lease, timers.heartbeat_timeout),
                    LostApiserver::NoQuorum => (lease, timers.heartbeat_timeout.min(timers.etcd_request_timeout)),
                };
                first_round + try_fails * 2
            }
            ClientRole::Operator => {
                // Assumed (docs/sources.md §13): kubectl v1.16's watch has no timeout on a silent
                // connection; the person watching notices within a heartbeat period of the next one.
                uniform_within(rng, timers.heartbeat) + timers.heartbeat
            }
            ClientRole::Leader => {
                // The lease, renewed every retry period, expires a lease duration after the last
                // renewal; the standby tries after client-go's jittered waits.
                let since_renewal = Self::retry_phase(timers, rng);
                timers.lease.saturating_sub(since_renewal)
                    + crate::control_plane::candidate_tries::next_try_in(timers.retry, rng)
            }
        }
    }

    /// How long before an instant a leader last renewed its lease: uniformly within
    /// `--leader-elect-retry-period`, the period of its renewals (client-go's `wait.Until`,
    /// without jitter).
    pub fn retry_phase(timers: Timers, rng: &mut impl Rng) -> SimDuration {
        uniform_within(rng, timers.retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Dur;
    use rand::SeedableRng;

    fn haproxy() -> Haproxy {
        Haproxy {
            host: "lb".into(),
            backends: vec!["m1".into(), "m2".into(), "m3".into()],
            inter: Dur::millis(2000),
            rise: 2,
            fall: 3,
            proxy_time: Dur::millis(0),
            timeout_server: Dur::secs(50),
            independent_streams: false,
        }
    }

    fn crash(host: &str, at: u64, repair: Option<u64>) -> Fault {
        Fault::Crash {
            host: host.into(),
            at: Dur::secs(at),
            repair: repair.map(Dur::secs),
        }
    }

    fn masters() -> Vec<String> {
        vec!["m1".into(), "m2".into(), "m3".into()]
    }

    /// A kubelet closes its connections at the second failed try of the first of its failing
    /// loops' rounds. With both failing (node status every 10 s, Lease every 8 s here, at
    /// independent phases) that round comes min(U(0, 10), U(0, 8)) after the loss, 4 - 64/60 s on
    /// average; with only the Lease failing, 4 s. Then two tries: the heartbeat client's timeout
    /// (9 s here) each, or etcd's request timeout (7 s here) for a member outside a quorum.
    #[test]
    fn a_kubelet_notices_at_the_first_of_its_failing_loops_rounds() {
        let s = |secs| SimDuration::from_secs(secs);
        let timers = Timers {
            heartbeat: s(10),
            node_lease_renew: s(8),
            heartbeat_timeout: s(9),
            etcd_request_timeout: s(7),
            lease: s(15),
            renew_deadline: s(10),
            retry: s(2),
        };
        let draws = |lost| {
            let mut rng = sim_core::rng::SimRng::seed_from_u64(7);
            (0..20_000)
                .map(|_| Plan::detection(ClientRole::Kubelet, lost, timers, &mut rng).as_secs_f64())
                .collect::<Vec<f64>>()
        };
        for (lost, tries, mean_round) in [
            (LostApiserver::Silent, 18.0, 4.0 - 64.0 / 60.0),
            (LostApiserver::MemberStopped, 18.0, 4.0),
            (LostApiserver::NoQuorum, 14.0, 4.0),
        ] {
            let d = draws(lost);
            assert!(d.iter().all(|&x| (tries..tries + 8.0).contains(&x)), "{lost:?}");
            let got = d.iter().sum::<f64>() / d.len() as f64;
            // The standard error of the mean of 20,000 draws is under 0.02 s.
            let mean = tries + mean_round;
            assert!((got - mean).abs() < 0.1, "{lost:?}: mean {got}, expected {mean}");
        }
    }

    /// An apiserver that runs, listens and that the balancer reaches answers its cached reads,
    /// whatever its etcd member does; a crashed one, one killed by its liveness probe, or one
    /// cut off from the balancer answers nothing.
    #[test]
    fn what_a_lost_apiserver_still_answers() {
        let mut plan = Plan::fault_free(5);
        let window = vec![(SimTime::from_secs(10), SimTime::from_secs(20))];
        plan.apiserver_down[0].clone_from(&window);
        plan.unreachable[1].clone_from(&window);
        plan.etcd_stopped[2].clone_from(&window);
        plan.etcd_down[2].clone_from(&window);
        plan.etcd_down[3].clone_from(&window);
        plan.etcd_stopped[4].clone_from(&window);
        plan.etcd_down[4].clone_from(&window);
        plan.apiserver_killed[4].clone_from(&window);
        let at = SimTime::from_secs(15);
        assert_eq!(plan.lost_at(0, at), LostApiserver::Silent);
        assert_eq!(plan.lost_at(1, at), LostApiserver::Silent);
        assert_eq!(plan.lost_at(2, at), LostApiserver::MemberStopped);
        assert_eq!(plan.lost_at(3, at), LostApiserver::NoQuorum);
        assert_eq!(plan.lost_at(4, at), LostApiserver::Silent);
    }

    /// A killed master answers no check: each times out at `inter` (2 s) and the next starts
    /// `inter` after, so the third failure marks it down 10 s after the first check that found
    /// it dead, 10 to 12 s after the crash whatever the check phase.
    #[test]
    fn haproxy_marks_a_dead_master_down_after_fall_timed_out_checks() {
        let rtt = SimDuration::from_micros(400);
        for seed in 0..200 {
            let mut rng = sim_core::rng::SimRng::seed_from_u64(seed);
            let f = [crash("m2", 30, None)];
            let p = Plan::build(&f, &masters(), &[], &haproxy(), &[rtt; 3], &CutOff::default(), &mut rng);
            let (down, up) = p.marked_down_after(1, SimTime::from_secs(30)).unwrap();
            let detection = down - SimTime::from_secs(30);
            assert!(detection < SimDuration::from_secs(12), "seed {seed}: {detection}");
            assert!(
                detection >= SimDuration::from_secs(10),
                "seed {seed}: {detection}: three checks that each time out after 2 s, 4 s apart"
            );
            assert_eq!(up, SimTime::MAX);
            assert!(!p.haproxy_up(1, SimTime::from_secs(42)));
            assert!(p.haproxy_up(0, SimTime::from_secs(42)));
        }
    }

    /// A check's SYN goes again 1 s after the first, within the 2-s time-out: a master back
    /// within a second of a check's start answers it. With `fall 1`, `rise 1`, a master down
    /// from 0 to 1 s is never marked down, whatever the phase (the first check starts in
    /// [0, 2) s and resends at or after 1 s); one down until 10 s, marked down at 2 to 4 s,
    /// is marked up by the first check that starts 1 s or less before the repair (by its
    /// resend) or after it: between 10 and 13 s.
    #[test]
    fn a_check_whose_syn_resend_finds_the_master_back_passes() {
        let quick = Haproxy {
            fall: 1,
            rise: 1,
            ..haproxy()
        };
        let zero = [SimDuration::ZERO; 3];
        for seed in 0..50 {
            let mut rng = sim_core::rng::SimRng::seed_from_u64(seed);
            let at = |ms: u64| SimTime::from_nanos(ms * 1_000_000);
            let short = [Fault::Crash {
                host: "m2".into(),
                at: Dur::secs(0),
                repair: Some(Dur::millis(1000)),
            }];
            let p = Plan::build(&short, &masters(), &[], &quick, &zero, &CutOff::default(), &mut rng);
            assert!(p.marked_down[1].is_empty(), "seed {seed}: {:?}", p.marked_down[1]);
            let long = [crash("m2", 0, Some(10))];
            let p = Plan::build(&long, &masters(), &[], &quick, &zero, &CutOff::default(), &mut rng);
            let (down, up) = p.marked_down[1][0];
            assert!(down >= at(2000) && down < at(4000), "seed {seed}: {down}");
            // Checks every 4 s from the first: the one that starts in [9, 13) s answers at
            // 10 s at the earliest (its resend), else at its start.
            assert!(up >= at(10_000) && up < at(13_000), "seed {seed}: {up}");
        }
    }

    #[test]
    fn a_repaired_master_comes_back_after_rise_checks() {
        let mut rng = sim_core::rng::SimRng::seed_from_u64(1);
        let f = [crash("m2", 30, Some(60))];
        let zero = [SimDuration::ZERO; 3];
        let p = Plan::build(&f, &masters(), &[], &haproxy(), &zero, &CutOff::default(), &mut rng);
        let (_, up) = p.marked_down_after(1, SimTime::from_secs(30)).unwrap();
        // The first check after the repair starts within a failing period (4 s) of it; the
        // second success, 2 s later, marks it up.
        assert!(up >= SimTime::from_secs(62) && up < SimTime::from_secs(66), "{up}");
        assert!(p.apiserver_up(1, SimTime::from_secs(61)));
        assert!(!p.serves(1, SimTime::from_secs(45)), "its etcd member is down with it");
    }

    /// `crash-etcd-leader` stops the member the elections had leading, not its apiserver, which
    /// then serves nothing; a crash that found no leader stops nobody.
    #[test]
    fn a_crashed_etcd_leader_takes_its_apiserver_out_of_service_but_not_down() {
        let f = [Fault::CrashEtcdLeader {
            at: Dur::secs(10),
            repair: Some(Dur::secs(50)),
        }];
        let mut rng = sim_core::rng::SimRng::seed_from_u64(2);
        let zero = [SimDuration::ZERO; 3];
        let met = [(SimTime::from_secs(10), SimTime::from_secs(50), Some(1))];
        let p = Plan::build(&f, &masters(), &met, &haproxy(), &zero, &CutOff::default(), &mut rng);
        assert!(p.apiserver_up(1, SimTime::from_secs(20)));
        assert!(!p.serves(1, SimTime::from_secs(20)));
        assert_eq!(p.etcd_back(1, SimTime::from_secs(20)), Some(SimTime::from_secs(50)));
        assert!(p.serves(0, SimTime::from_secs(20)) && p.serves(2, SimTime::from_secs(20)));
        let nobody = [(SimTime::from_secs(10), SimTime::from_secs(50), None)];
        let p = Plan::build(&f, &masters(), &nobody, &haproxy(), &zero, &CutOff::default(), &mut rng);
        assert!((0..3).all(|m| p.etcd_down[m].is_empty()));
    }

    /// kubeadm's liveness probe kills the apiserver of a stopped leader member 72 to 82 s after
    /// it stopped; HAProxy, its checks refused, marks it down 4 to 6 s later, its master still
    /// up, and up again once the member is back. A member back within 70 s is never killed for.
    #[test]
    fn the_liveness_probe_kills_an_apiserver_without_its_member_and_haproxy_marks_it_down() {
        let at = |s: f64| SimTime::ZERO + SimDuration::from_secs_f64(s);
        let zero = [SimDuration::ZERO; 3];
        for seed in 0..50 {
            let mut rng = sim_core::rng::SimRng::seed_from_u64(seed);
            let mut probes = sim_core::rng::SimRng::seed_from_u64(seed + 1000);
            let (from, back) = (at(10.0), at(300.0));
            let f = [Fault::CrashEtcdLeader {
                at: Dur::secs(10),
                repair: Some(Dur::secs(300)),
            }];
            let met = [(from, back, Some(0))];
            let mut p = Plan::build(&f, &masters(), &met, &haproxy(), &zero, &CutOff::default(), &mut rng);
            assert!(p.haproxy_up(0, at(299.0)), "its TCP check passes until the kill");
            p.kill_apiservers_without_their_member(&met, &haproxy(), &zero, &mut probes);
            let (killed, until) = p.apiserver_killed[0][0];
            assert!(killed >= at(82.0) && killed < at(92.0), "seed {seed}: {killed}");
            assert_eq!(until, back);
            let (down, up) = p.marked_down[0][0];
            assert!(
                down >= killed + SimDuration::from_secs(4) && down < killed + SimDuration::from_secs(6),
                "seed {seed}: {down}"
            );
            assert!(up > back && up < back + SimDuration::from_secs(5), "seed {seed}: {up}");
            assert!(p.apiserver_up(0, at(200.0)) && !p.haproxy_up(0, at(200.0)));
            let short = [(from, at(75.0), Some(0))];
            let f = [Fault::CrashEtcdLeader {
                at: Dur::secs(10),
                repair: Some(Dur::secs(75)),
            }];
            let mut p = Plan::build(&f, &masters(), &short, &haproxy(), &zero, &CutOff::default(), &mut rng);
            p.kill_apiservers_without_their_member(&short, &haproxy(), &zero, &mut probes);
            assert!(
                p.apiserver_killed[0].is_empty() && p.marked_down[0].is_empty(),
                "seed {seed}"
            );
        }
    }

    /// A crash of the same master does not give the apiserver back while its member stays
    /// stopped: one overlapping the kill's mark-down leaves one window, until the member is
    /// back; one repaired before the kill leaves it down from the crash on (back from the
    /// crash, it cannot start).
    #[test]
    fn a_crash_of_the_master_keeps_an_apiserver_without_its_member_down() {
        let at = |s: f64| SimTime::ZERO + SimDuration::from_secs_f64(s);
        let zero = [SimDuration::ZERO; 3];
        for seed in 0..50 {
            for (crash_at, crash_repair) in [(50, 100), (30, 85), (30, 40)] {
                let mut rng = sim_core::rng::SimRng::seed_from_u64(seed);
                let mut probes = sim_core::rng::SimRng::seed_from_u64(seed + 1000);
                let f = [
                    Fault::CrashEtcdLeader {
                        at: Dur::secs(10),
                        repair: Some(Dur::secs(300)),
                    },
                    crash("m1", crash_at, Some(crash_repair)),
                ];
                let met = [(at(10.0), at(300.0), Some(0))];
                let mut p = Plan::build(&f, &masters(), &met, &haproxy(), &zero, &CutOff::default(), &mut rng);
                p.kill_apiservers_without_their_member(&met, &haproxy(), &zero, &mut probes);
                let what = format!("seed {seed}, crash {crash_at}-{crash_repair} s: {:?}", p.marked_down[0]);
                assert_eq!(p.marked_down[0].len(), 1, "{what}");
                let (down, up) = p.marked_down[0][0];
                assert!(down < at(crash_repair as f64 + 6.0), "{what}");
                assert!(up > at(300.0) && up < at(305.0), "{what}");
                assert!(!p.haproxy_up(0, at(crash_repair as f64 + 10.0)), "{what}");
            }
        }
    }

    /// A member outside a quorum (here: the other two crashed) stops its apiserver's writes,
    /// not its answers from the cache; a member stopped stops both. Writes come back when the
    /// member is in a quorum again, across back-to-back windows.
    #[test]
    fn a_member_outside_a_quorum_still_answers_from_the_cache() {
        let f = [crash("m2", 10, Some(100)), crash("m3", 10, Some(100))];
        let at = SimTime::from_secs;
        let cut = CutOff {
            from_lb: vec![Vec::new(); 3],
            member: vec![vec![(at(10), at(60)), (at(60), at(100))], Vec::new(), Vec::new()],
        };
        let mut rng = sim_core::rng::SimRng::seed_from_u64(3);
        let zero = [SimDuration::ZERO; 3];
        let p = Plan::build(&f, &masters(), &[], &haproxy(), &zero, &cut, &mut rng);
        assert!(!p.serves(0, at(20)) && p.takes_requests(0, at(20)));
        assert!(!p.takes_requests(1, at(20)) && !p.etcd_stopped(0, at(20)) && p.etcd_stopped(1, at(20)));
        assert!(!p.any_serves(at(20)) && p.any_serves(at(5)) && p.any_serves(at(100)));
        assert_eq!(p.etcd_in_quorum_from(0, at(20)), at(100));
        assert_eq!(p.etcd_in_quorum_from(0, at(5)), at(5));
        let never = CutOff {
            from_lb: vec![Vec::new(); 3],
            member: vec![vec![(at(10), SimTime::MAX)], Vec::new(), Vec::new()],
        };
        let p = Plan::build(&f, &masters(), &[], &haproxy(), &zero, &never, &mut rng);
        assert_eq!(p.etcd_in_quorum_from(0, at(20)), SimTime::MAX);
    }

    /// A crash repaired as the next begins is one outage to HAProxy: its fall count does not
    /// restart (found by adversarial testing: the second window was marked down 4 s later).
    #[test]
    fn back_to_back_crashes_are_one_outage_to_haproxy() {
        let zero = [SimDuration::ZERO; 3];
        let marked = |f: &[Fault]| {
            let mut rng = sim_core::rng::SimRng::seed_from_u64(5);
            let p = Plan::build(f, &masters(), &[], &haproxy(), &zero, &CutOff::default(), &mut rng);
            p.marked_down_after(1, SimTime::from_secs(5)).unwrap()
        };
        let one = marked(&[crash("m2", 5, Some(20))]);
        let two = marked(&[crash("m2", 5, Some(10)), crash("m2", 10, Some(20))]);
        assert_eq!(one, two);
        assert!(
            one.0 >= SimTime::from_secs(15) && one.0 < SimTime::from_secs(17),
            "{one:?}"
        );
    }
}
