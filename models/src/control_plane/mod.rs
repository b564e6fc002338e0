//! The control plane: kube-apiserver on each master, stacked etcd, and watch fan-out.
//!
//! # Mechanism (Kubernetes v1.16)
//!
//! - Each apiserver handles requests with a FIFO queue in front of `workers` slots, each request
//!   costing `service_time` of CPU ([`crate::spec::Apiserver`]).
//! - In front of that queue, v1.16's max-in-flight filter (`apiserver/pkg/server/filters/
//!   maxinflight.go`, no queueing: API priority and fairness came in 1.18) counts the requests
//!   each apiserver holds, from their arrival until their answer (the CPU queue, the handler,
//!   etcd), read-only and mutating apart. One beyond `--max-requests-inflight` (400) or
//!   `--max-mutating-requests-inflight` (200) is answered `429 Too Many Requests` with
//!   `Retry-After: 1` at no cost, unless its client is kubeadm's admin kubectl
//!   (`system:masters`), let in uncounted then. Its client sleeps the second and sends it again through its limiter
//!   ([`crate::api::Ev::TooManyRequests`]); after [`crate::api::CLIENT_GO_MAX_TRIES`] refusals
//!   client-go returns the error: the kubelet's status manager gives the sync up until the next
//!   one ([`crate::api::Obj::fails_with`]), every other client keeps sending it a second apart
//!   (their own requeues are not modelled). Not reached at thesis scale; reached by 333 kubelets
//!   of a 1,000-worker consortium failing over together to two 2-vCPU masters (`docs/model.md`,
//!   "Simplifications", which lists what the filter leaves out).
//! - A write then commits in etcd through the apiserver's local member, which forwards it to the
//!   leader if it is not the leader itself; see [`crate::etcd::commit_latency`]. A GET of a pod
//!   without a resourceVersion is a quorum read in v1.16
//!   (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go), costing a read-index round.
//! - Watch fan-out follows the apiserver's watch cache (pkg/storage/cacher): each apiserver
//!   receives every committed change from its own etcd member and dispatches it only to the
//!   watchers whose selector matches (a kubelet watches `spec.nodeName=<itself>`), so a change
//!   costs one message per interested watcher, never one per watcher per object. Watchers that
//!   would receive the event but do nothing with it (the scheduler seeing a status change) are
//!   not sent it: their informers would only update a cache.

use std::sync::Arc;

use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use sim_core::limiter::TokenBucket;
use sim_core::server::FifoServer;
use sim_core::trace::Track;
use sim_core::{Component, ComponentId, Context, SimDuration, SimTime};

use crate::api::{ApiCall, CallLoss, Ev, Local, Obj, Phase, WatchEvent, OBJECT_BYTES};
use crate::etcd;
use crate::failover::{ClientRole, Plan};
use crate::network::{HostId, Network};

pub mod candidate_tries;
mod client_failovers;
mod failover_walk;
mod lease_takeover;
mod node_controller;

/// Where a watcher is and which apiserver its connection is pinned to.
#[derive(Debug, Clone, Copy)]
pub struct Watcher {
    /// The watching component.
    pub id: ComponentId,
    /// Its host.
    pub host: HostId,
    /// Its apiserver's index.
    pub master: u8,
    /// How it notices a dead apiserver.
    pub role: ClientRole,
}

/// A client moved to another apiserver after its own one died.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Failover {
    /// The client.
    pub client: ComponentId,
    /// The apiserver it lost.
    pub from_master: u8,
    /// When that apiserver died.
    pub lost_at: SimTime,
    /// When the client is connected again.
    pub reconnect_at: SimTime,
    /// The apiserver it is connected to now.
    pub to_master: u8,
    /// Where the client runs from its reconnection: its own host, but for a leader-elected
    /// controller whose standby on another master took the lease.
    pub host: HostId,
    /// Where the client ran when it lost its apiserver (a leader-elected controller's former
    /// leader's master).
    pub from_host: HostId,
}

/// The state of objects in etcd that the model needs.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// Deployment replicas, once created.
    pub deployment: Option<u32>,
    /// ReplicaSet replicas, once created.
    pub replicaset: Option<u32>,
    /// Pods: bound worker and phase.
    pub pods: Vec<(Option<u32>, Option<Phase>)>,
    /// When each pod was created (commit time).
    pub created_at: Vec<SimTime>,
    /// When each pod's binding committed.
    pub bound_at: Vec<Option<SimTime>>,
    /// When each pod's Running status committed.
    pub running_at: Vec<Option<SimTime>>,
    /// When each pod was deleted (evicted), if it was.
    pub deleted_at: Vec<Option<SimTime>>,
}

/// Per-apiserver request statistics.
#[derive(Debug, Clone, Default)]
pub struct ApiStats {
    /// Requests handled.
    pub requests: u64,
    /// Writes committed.
    pub writes: u64,
    /// Total queueing time before a handler slot, seconds.
    pub queue_wait_s: f64,
    /// Requests answered `429 Too Many Requests` (each refusal of a request counts).
    pub refused: u64,
    /// The most requests held at once: read-only, mutating (the max-in-flight filter's counts).
    pub peak_in_flight: [u32; 2],
}

/// The apiservers, etcd and the watch cache, as one component.
#[derive(Debug)]
pub struct ControlPlane {
    net: Arc<Network>,
    lb: HostId,
    masters: Vec<HostId>,
    servers: Vec<FifoServer<(ApiCall, SimTime)>>,
    service_time: SimDuration,
    service_noise: Option<LogNormal<f64>>,
    watch_dispatch: SimDuration,
    proxy_time: SimDuration,
    /// Commit latency by [leader][apiserver].
    commit: Vec<Vec<SimDuration>>,
    /// Quorum-read latency by [leader][apiserver].
    read: Vec<Vec<SimDuration>>,
    /// Round-trip times between the masters' etcd members, by [member][member].
    member_rtt: Vec<Vec<SimDuration>>,
    /// etcd's WAL fsync.
    fsync: SimDuration,
    /// How long etcd lets a request wait before it answers "request timed out"
    /// ([`crate::etcd::request_timeout`]); a proposal lost with a leader cut off is tried
    /// again after it.
    etcd_request_timeout: SimDuration,
    /// Whether any etcd member is ever down in this run (else commits take the precomputed
    /// latencies).
    members_ever_down: bool,
    /// Whether the run has faults that may cut the network between members.
    network_faults: bool,
    /// Availability over time under the scenario's faults.
    pub plan: Plan,
    /// The etcd member leading at the start.
    first_leader: usize,
    /// etcd's leadership, simulated message by message when anything can change it (faults,
    /// or jitter or loss between the masters); without, the first leader leads throughout.
    raft: Option<crate::raft::Leadership>,
    /// Every client failover, in time order.
    pub failovers: Vec<Failover>,
    /// The same, as the clients' connections see them.
    pub failover_book: crate::api::FailoverBook,
    /// When the load balancer itself is down (crashed): it hands out no connection.
    lb_down: Vec<(SimTime, SimTime)>,
    /// HAProxy's `timeout server` (zero: none) and `option independent-streams`, which decide
    /// whether it ends a standby's session to a dead apiserver ([`ControlPlane::set_faults`]).
    server_timeout: (SimDuration, bool),
    /// The node lifecycle controller, when the run has faults that may silence nodes.
    lifecycle: Option<crate::node_lifecycle::NodeLifecycle>,
    /// The node lifecycle controller's client limiter, which its taint manager's deletions and
    /// eviction events wait for ([`ControlPlane::enable_node_lifecycle`]).
    lifecycle_client: TokenBucket,
    /// The masters as registered nodes, numbered after the workers: their kubelets' status
    /// posts count as heartbeats when they get through.
    master_nodes: crate::node_lifecycle::ControlPlaneNodes,
    /// Pods besides the workload's on a worker and on a master (DaemonSets, static pods), whose
    /// statuses `MarkAllPodsNotReady` updates too.
    system_pods: (u32, u32),
    /// The node lifecycle controller's writes so far, and their summed wait at its limiter.
    lifecycle_writes: u64,
    lifecycle_waited: SimDuration,
    /// What the node lifecycle controller wrote to the nodes, in order: (when it decided it at
    /// a check, node, change; its writes then wait at its client limiter, behind the pods'
    /// NotReady updates); the nodes numbered workers first, then the masters.
    pub node_marks: Vec<(SimTime, u32, crate::node_lifecycle::Mark)>,
    /// Workers whose `NoExecute` taint the controller wrote and has not removed.
    no_execute_written: std::collections::BTreeSet<u32>,
    /// Workers whose `NoSchedule` taint the scheduler has seen and no removal of it has.
    no_schedule_written: std::collections::BTreeSet<u32>,
    /// Workers whose `NoSchedule` taint's removal is on its way through the limiter.
    untaint_pending: std::collections::BTreeSet<u32>,
    /// Workers whose `NoSchedule` taint's write is on its way through the limiter.
    taint_pending: std::collections::BTreeSet<u32>,
    /// Worker index of each kubelet component (for its heartbeats).
    kubelet_index: rustc_hash::FxHashMap<ComponentId, u32>,
    /// Each component's stable key, by component index (the hash of its name): keys the
    /// service-time draw of its requests, so that the draw does not move when a scenario adds
    /// or removes other components (an uplink, a kubelet). Set by [`ControlPlane::set_client_keys`].
    client_keys: Vec<u64>,
    /// No controller-manager led at a check or an eviction since the last check that ran: the
    /// next leader's controller takes over ([`crate::node_lifecycle::NodeLifecycle::take_over`]).
    lifecycle_leaderless: bool,
    /// Evicted pods whose deletion their node has not confirmed: (pod, node).
    evicted_unconfirmed: Vec<(u32, u32)>,
    /// When the last watch event to each watcher is delivered, by component index: a watch
    /// delivers in order.
    watch_delivered: Vec<SimTime>,
    /// Object state.
    pub store: Store,
    /// The controller-manager's watches (deployments, replicasets, pods).
    pub kcm: Option<Watcher>,
    /// The scheduler's watch of pods.
    pub scheduler: Option<Watcher>,
    /// Kubelets' watches of their own pods, by worker index.
    pub kubelets: Vec<Watcher>,
    /// kubectl's `get pods -w`.
    pub observer: Option<Watcher>,
    /// Request statistics per apiserver.
    pub stats: Vec<ApiStats>,
    /// The requests each apiserver holds now, from their arrival until their answer:
    /// read-only, mutating.
    in_flight: Vec<[u32; 2]>,
    /// `--max-requests-inflight`, `--max-mutating-requests-inflight` (0: no limit).
    in_flight_limits: [u32; 2],
    /// kubeadm's admin kubectl's calls let in beyond the limit, uncounted: (client, call id).
    uncounted: Vec<(ComponentId, u32)>,
}

impl ControlPlane {
    /// A control plane on `masters`, reached through `lb`, with etcd led by `leader`.
    #[allow(clippy::too_many_arguments)] // one argument per scenario section; built once.
    pub fn new(
        net: Arc<Network>,
        lb: HostId,
        masters: Vec<HostId>,
        leader: usize,
        api: &crate::spec::Apiserver,
        etcd_cfg: &crate::spec::Etcd,
        proxy_time: SimDuration,
        cv: f64,
    ) -> ControlPlane {
        let n = masters.len();
        let rtt = |a: HostId, b: HostId| net.base_rtt(a, b);
        let latency = |leader: usize, fsync: SimDuration| {
            let follower_rtts: Vec<SimDuration> = (0..n)
                .filter(|&i| i != leader)
                .map(|i| rtt(masters[leader], masters[i]))
                .collect();
            let at_leader = (
                etcd::commit_latency(fsync, &follower_rtts),
                etcd::read_index_latency(&follower_rtts),
            );
            let forward = |i: usize| {
                if i == leader {
                    SimDuration::ZERO
                } else {
                    rtt(masters[i], masters[leader])
                }
            };
            (
                (0..n).map(|i| at_leader.0 + forward(i)).collect::<Vec<_>>(),
                (0..n).map(|i| at_leader.1 + forward(i)).collect::<Vec<_>>(),
            )
        };
        let (commit, read): (Vec<_>, Vec<_>) = (0..n).map(|l| latency(l, etcd_cfg.fsync.get())).unzip();
        let member_rtt = (0..n)
            .map(|i| (0..n).map(|j| rtt(masters[i], masters[j])).collect())
            .collect();
        let workers = api.workers.max(1) as usize;
        ControlPlane {
            lb,
            servers: (0..n)
                .map(|_| FifoServer::new(workers).expect("at least one worker"))
                .collect(),
            service_time: api.service_time.get(),
            service_noise: noise(cv),
            watch_dispatch: api.watch_dispatch.get(),
            proxy_time,
            commit,
            read,
            member_rtt,
            fsync: etcd_cfg.fsync.get(),
            etcd_request_timeout: crate::etcd::request_timeout(etcd_cfg.election_timeout.get()),
            members_ever_down: false,
            network_faults: false,
            plan: Plan::fault_free(n),
            first_leader: leader,
            raft: None,
            failovers: Vec::new(),
            failover_book: crate::api::FailoverBook::default(),
            lb_down: Vec::new(),
            server_timeout: (SimDuration::ZERO, false),
            lifecycle: None,
            lifecycle_client: TokenBucket::unlimited(),
            master_nodes: Default::default(),
            system_pods: (0, 0),
            lifecycle_writes: 0,
            lifecycle_waited: SimDuration::ZERO,
            node_marks: Vec::new(),
            no_execute_written: std::collections::BTreeSet::new(),
            no_schedule_written: std::collections::BTreeSet::new(),
            untaint_pending: std::collections::BTreeSet::new(),
            taint_pending: std::collections::BTreeSet::new(),
            kubelet_index: rustc_hash::FxHashMap::default(),
            client_keys: Vec::new(),
            watch_delivered: Vec::new(),
            lifecycle_leaderless: false,
            evicted_unconfirmed: Vec::new(),
            store: Store::default(),
            kcm: None,
            scheduler: None,
            kubelets: Vec::new(),
            observer: None,
            stats: vec![ApiStats::default(); n],
            in_flight: vec![[0; 2]; n],
            in_flight_limits: [api.max_requests_inflight, api.max_mutating_requests_inflight],
            uncounted: Vec::new(),
            masters,
            net,
        }
    }

    /// Commit latency of a write entering at apiserver `i` while the first leader leads.
    pub fn commit_latency(&self, i: usize) -> SimDuration {
        self.commit[self.first_leader][i]
    }

    /// Commit (`write`) or quorum-read latency, under `leader` at `t`, of a request entering at
    /// apiserver `m`: the nearest quorum of the members running at `t` that the leader reaches
    /// (a member down or cut off is no part of it).
    fn etcd_latency(&self, leader: usize, m: usize, t: SimTime, write: bool) -> SimDuration {
        let n = self.member_rtt.len();
        let unreachable = |i: usize| {
            self.plan.etcd_back(i, t).is_some()
                || (self.network_faults && self.net.cut_at(self.masters[leader], self.masters[i], t))
        };
        if !(self.members_ever_down || self.network_faults) || !(0..n).any(|i| i != leader && unreachable(i)) {
            return if write {
                self.commit[leader][m]
            } else {
                self.read[leader][m]
            };
        }
        let follower_rtts: Vec<SimDuration> = (0..n)
            .filter(|&i| i != leader)
            .map(|i| {
                if unreachable(i) {
                    SimDuration::MAX
                } else {
                    self.member_rtt[leader][i]
                }
            })
            .collect();
        let at_leader = if write {
            etcd::commit_latency(self.fsync, &follower_rtts)
        } else {
            etcd::read_index_latency(&follower_rtts)
        };
        at_leader
            + if m == leader {
                SimDuration::ZERO
            } else {
                self.member_rtt[m][leader]
            }
    }

    /// Sets the stable key of every component, by component index: the hash of its name
    /// ([`sim_core::rng::stable_key`]). A client without one is keyed by its index.
    pub fn set_client_keys(&mut self, keys: Vec<u64>) {
        self.client_keys = keys;
    }

    /// The stable key of client `c` (its component's name), or its index if none was set.
    fn client_key(&self, c: ComponentId) -> u64 {
        self.client_keys.get(c.index()).copied().unwrap_or(c.index() as u64)
    }

    /// A request lost with its connection, or held by an apiserver whose etcd member has
    /// stopped (etcd's client waits for its one endpoint, [`crate::failover`]) until its client
    /// gives up on the connection: the client sends it again once it has reconnected. HAProxy may send the
    /// new connection back to the same apiserver, serving again by then.
    fn lose(&mut self, call: ApiCall, ctx: &mut Context<'_, Ev>) {
        let m = call.master as usize;
        let now = ctx.now();
        let etcd_gone = self.plan.etcd_back(m, now);
        let (to, ready, from) = self.serving(call.client, call.master, call.host, now);
        if ready != SimTime::MAX && (to as usize != m || ready > now) {
            self.resend(call, to, ready, from, ctx);
        } else if let Some(back) = etcd_gone.filter(|&b| b != SimTime::MAX) {
            // No reconnection ahead: the client keeps retrying on this connection until the
            // member is back.
            ctx.send_at(ctx.me(), back, Ev::ApiArrive(call));
        }
    }

    /// The client sends `call` again through its new connection to apiserver `to`, open from
    /// `ready`, made from host `from` (another master's for a controller taken over there).
    fn resend(&self, call: ApiCall, to: u8, ready: SimTime, from: HostId, ctx: &mut Context<'_, Ev>) {
        let host = self.masters[to as usize];
        // The resend's draws: the request's own stream, after its first sending.
        let mut rng = ctx.keyed_rng(crate::draws::reply_key(self.client_key(call.client), call.id) ^ 1);
        let first = self.leg(from, self.lb, ready, &mut rng) + self.proxy_time;
        let up = first + self.leg(self.lb, host, ready + first, &mut rng);
        let call = ApiCall {
            master: to,
            host: from,
            lost: Some(CallLoss::Closed),
            ..call
        };
        ctx.send_at(ctx.me(), ready + up, Ev::ApiArrive(call));
    }

    /// When etcd answers a write (`write`) or a quorum read that apiserver `m` hands its member
    /// at `now` ([`SimTime::MAX`]: never), and whether it was held (its member outside a quorum,
    /// or its proposal lost with a leader cut off):
    /// - the member must be in a quorum and know a leader: etcd 3.3's raft node holds a proposal
    ///   while it knows no leader (`node.run`: `propc = nil`), and the apiserver's tries follow
    ///   one another (each ends at etcd's `ReqTimeout`, and the client sends again; its own
    ///   retry delays are not modelled), so the proposal goes in once both hold;
    /// - a leader that reaches no quorum (cut off, not yet stepped down) commits nothing: the
    ///   proposal is lost with its term, the try times out after `ReqTimeout`, and the next
    ///   try meets the leader elected meanwhile.
    fn etcd_answer(&mut self, m: usize, now: SimTime, write: bool) -> (SimTime, bool) {
        let mut t = now;
        // A leader is elected within a few election timeouts of a try's end; a bound on the
        // tries keeps a run that never elects one from looping.
        for _ in 0..64 {
            let in_quorum = self.plan.etcd_in_quorum_from(m, t);
            if in_quorum == SimTime::MAX {
                return (SimTime::MAX, true);
            }
            let ready = self.write_ready(in_quorum);
            if ready == SimTime::MAX {
                return (SimTime::MAX, true);
            }
            let leader = self.leader_at(ready);
            let latency = self.etcd_latency(leader, m, ready, write);
            if latency != SimDuration::MAX {
                let held = in_quorum > now || t > now;
                return (ready.checked_add(latency).unwrap_or(SimTime::MAX), held);
            }
            // The try that was running then (tries began at `now`, one per `ReqTimeout`) ends
            // at its time-out, and the next begins.
            t = match ready.checked_add(SimDuration::from_nanos(1)) {
                Some(after) => after.tick_at_or_after(now.since_start(), self.etcd_request_timeout),
                None => SimTime::MAX,
            };
            if t == SimTime::MAX {
                return (SimTime::MAX, true);
            }
        }
        (SimTime::MAX, true)
    }

    /// The failover that takes `call`'s client off apiserver `call.master` after `now` and
    /// before `until`, if one does: a write held for the member's quorum then goes with the old
    /// connection.
    fn moves_before(&self, call: &ApiCall, now: SimTime, until: SimTime) -> Option<Failover> {
        self.failovers
            .iter()
            .find(|f| {
                f.client == call.client && f.from_master == call.master && f.reconnect_at > now && f.lost_at < until
            })
            .copied()
    }

    /// Every client of the control plane.
    fn clients(&self) -> Vec<Watcher> {
        let mut v: Vec<Watcher> = [self.kcm, self.scheduler, self.observer]
            .into_iter()
            .flatten()
            .collect();
        v.extend(self.kubelets.iter().copied());
        v
    }

    /// Sets up etcd's elections for a run ending by `horizon` ([`crate::raft::Leadership`]):
    /// simulated when anything can change who leads, that is when the run has faults (a
    /// master's crash stops its member, `crash-etcd-leader` the leader's; the network's faults
    /// reach the members' messages) or when a message between two masters can be late or lost
    /// (netem's jitter or loss on their route). With neither, the first leader leads throughout:
    /// a constant delay, however long, starts no election (`docs/model.md`, "etcd's elections,
    /// message by message"). `names` are the masters' names in backend order.
    pub fn set_etcd(
        &mut self,
        faults: &[crate::spec::Fault],
        names: &[String],
        timers: crate::raft::RaftTimers,
        horizon: SimTime,
        seed: u64,
    ) {
        let n = self.masters.len();
        let steady = (0..n).all(|i| (0..n).all(|j| i == j || self.net.steady(self.masters[i], self.masters[j])));
        if faults.is_empty() && steady {
            self.raft = None;
            return;
        }
        // With steady links only the faults can change who leads: the simulation need not run
        // long before the first nor long after the last.
        let bounds = faults.iter().flat_map(|f| {
            let (a, b) = f.window();
            [Some(a), (b != SimTime::MAX).then_some(b)].into_iter().flatten()
        });
        let faults_between = steady.then(|| bounds.clone().min().zip(bounds.max())).flatten();
        let mut outages = crate::raft::Outages {
            members: vec![Vec::new(); n],
            leader_crashes: Vec::new(),
            faults_between,
        };
        for f in faults {
            match f {
                crate::spec::Fault::Crash { host, .. } => {
                    if let Some(i) = names.iter().position(|m| m == host) {
                        outages.members[i].push(f.window());
                    }
                }
                crate::spec::Fault::CrashEtcdLeader { .. } => outages.leader_crashes.push(f.window()),
                _ => {}
            }
        }
        let links = crate::raft::NetworkLinks::new(Arc::clone(&self.net), self.masters.clone());
        self.raft = Some(crate::raft::Leadership::new(
            Box::new(links),
            n,
            self.first_leader,
            timers,
            &outages,
            horizon,
            seed,
        ));
    }

    /// The first instant at or after `t` when a write can commit ([`SimTime::MAX`]: none
    /// before the run's end).
    pub fn write_ready(&mut self, t: SimTime) -> SimTime {
        match self.raft.as_mut() {
            Some(r) => r.write_ready(t),
            None => t,
        }
    }

    /// The etcd member leading writes at `t`.
    pub fn leader_at(&mut self, t: SimTime) -> usize {
        match self.raft.as_mut() {
            Some(r) => r.leader_at(t),
            None => self.first_leader,
        }
    }

    /// etcd's elections during the run, if they were simulated: leaders elected after the
    /// first, and the stretches without writes begun by `by`.
    pub fn etcd_history(&mut self, by: SimTime) -> Option<(u64, Vec<(SimTime, SimTime)>)> {
        let r = self.raft.as_mut()?;
        let stalls = r.stalls(by);
        Some((r.elections(by), stalls))
    }

    /// The round trip between `a` and `b` at the network's mean one-way latencies (a direction
    /// without a route counts as zero).
    fn base_rtt(&self, a: HostId, b: HostId) -> SimDuration {
        self.net.base_rtt(a, b)
    }

    /// The apiserver serving `client` (pinned to `pinned` from `host` before any failover) at
    /// `t`, from when it can (its reconnection), and where the client is then.
    fn serving(&self, client: ComponentId, pinned: u8, host: HostId, t: SimTime) -> (u8, SimTime, HostId) {
        let mut master = pinned;
        let mut ready = t;
        let mut from = host;
        for f in self.failovers.iter().filter(|f| f.client == client && f.lost_at <= t) {
            master = f.to_master;
            ready = ready.max(f.reconnect_at);
            from = f.host;
        }
        (master, ready, from)
    }

    /// The name of host `h`.
    pub fn host_name(&self, h: HostId) -> &str {
        self.net.name(h)
    }

    /// Whether network fault `f` lies between the load balancer and host `h` (a master's or a
    /// client's: a router, a tunnel or an isolated site on their route,
    /// [`Network::fault_on_route`]): whether it is this fault that cuts the host off when
    /// several do at once.
    pub fn fault_cuts_host_off(&self, f: &crate::spec::Fault, h: HostId) -> bool {
        self.net.fault_on_route(f, self.lb, h)
    }

    /// Whether fault `f` silences host `h` toward the control plane, or may: it crashes the
    /// host itself or the load balancer every client goes through, it cuts the host off from
    /// the balancer ([`ControlPlane::fault_cuts_host_off`]), or it loses packets on a tunnel
    /// between them (a `degrade` with loss, which can silence a node's heartbeats).
    pub fn fault_silences_host(&self, f: &crate::spec::Fault, h: HostId) -> bool {
        use crate::spec::Fault;
        match f {
            Fault::Crash { host, .. } if self.net.host(host) == Some(h) => true,
            Fault::Degrade { a, b, loss_pct, .. } => *loss_pct > 0.0 && self.net.tunnel_on_route(a, b, self.lb, h),
            _ => self.fault_crashes_balancer(f) || self.fault_cuts_host_off(f, h),
        }
    }

    /// Whether fault `f` crashes the load balancer: every client's connection goes with it.
    pub fn fault_crashes_balancer(&self, f: &crate::spec::Fault) -> bool {
        matches!(f, crate::spec::Fault::Crash { host, .. } if self.net.host(host) == Some(self.lb))
    }

    /// The host of node `node` as the node lifecycle controller numbers them: the workers'
    /// kubelets first, then the masters.
    pub fn node_host(&self, node: u32) -> Option<HostId> {
        let n = node as usize;
        match self.kubelets.get(n) {
            Some(k) => Some(k.host),
            None => self.masters.get(n - self.kubelets.len()).copied(),
        }
    }

    /// Host of apiserver `i`.
    pub fn master_host(&self, i: u8) -> HostId {
        self.masters[i as usize]
    }

    /// When a message that apiserver `master` sends at `at` reaches `client` on `host`. One
    /// still on its way when a failover tears the client's connection down (its master cut off:
    /// the network holds it until the repair) is lost with the connection; the client has it
    /// again through its new connection once reconnected (a watch lists again; a request whose
    /// reply is lost is retried, which the model folds into the reply), and how the connection
    /// was lost if it was: torn down by that failover, or reset by a balancer that is down when
    /// the message leaves (the network holds it until the balancer is back, [`crate::faults`]).
    fn down_to(
        &self,
        client: ComponentId,
        master: u8,
        host: HostId,
        at: SimTime,
        rng: &mut impl Rng,
    ) -> (SimTime, Option<CallLoss>) {
        let reset = self.net.host_down_at(self.lb, at).then_some(CallLoss::Reset);
        let due = at + self.to_client(master, host, at, rng);
        match self.failover_book.interrupting(client, master, at, due) {
            Some((f, _)) => (
                f.reconnect_at + self.to_client(f.to_master, f.host, f.reconnect_at, rng),
                Some(CallLoss::Closed),
            ),
            None => (due, reset),
        }
    }

    fn to_client(&self, master: u8, host: HostId, at: SimTime, rng: &mut impl Rng) -> SimDuration {
        let m = self.masters[master as usize];
        let first = self.leg(m, self.lb, at, rng) + self.proxy_time;
        first + self.leg(self.lb, host, at + first, rng)
    }

    fn leg(&self, a: HostId, b: HostId, at: SimTime, rng: &mut impl Rng) -> SimDuration {
        self.net
            .one_way_at(a, b, OBJECT_BYTES, at, rng)
            .unwrap_or(SimDuration::MAX)
    }

    fn notify(&mut self, w: Option<Watcher>, ev: WatchEvent, ctx: &mut Context<'_, Ev>) {
        if let Some(w) = w {
            let now = ctx.now();
            let (master, ready, host) = self.serving(w.id, w.master, w.host, now);
            let start = ready.max(now) + self.watch_dispatch;
            let mut rng = ctx.keyed_rng(crate::draws::watch_key(self.client_key(w.id), &ev));
            let (due, _) = self.down_to(w.id, master, host, start, &mut rng);
            // A watch is one stream, in the order of the changes (their resourceVersions): an
            // event never overtakes an earlier one to the same watcher, whatever the jitter
            // or the reconnection each met (a review found a ReplicaSet's older size applied
            // after its newer one, and the replacements of evicted pods never created).
            let i = w.id.0 as usize;
            if self.watch_delivered.len() <= i {
                self.watch_delivered.resize(i + 1, SimTime::ZERO);
            }
            let due = due.max(self.watch_delivered[i]);
            self.watch_delivered[i] = due;
            ctx.send_at(w.id, due, Ev::Watch(ev));
        }
    }

    /// Whether apiserver `m`'s max-in-flight filter lets `call` in; if it does, the call is
    /// counted until [`ControlPlane::release`]. kubeadm's admin kubectl (`system:masters`) is
    /// let in when the limit is reached, uncounted: `maxinflight.go` serves such a user in its
    /// `default:` branch, without taking a slot.
    fn admit(&mut self, m: usize, call: &ApiCall) -> bool {
        let class = usize::from(call.obj.is_mutating());
        let limit = self.in_flight_limits[class];
        if limit > 0 && self.in_flight[m][class] >= limit {
            if self.observer.is_some_and(|o| o.id == call.client) {
                self.uncounted.push((call.client, call.id));
                return true;
            }
            return false;
        }
        self.in_flight[m][class] += 1;
        let peak = &mut self.stats[m].peak_in_flight[class];
        *peak = (*peak).max(self.in_flight[m][class]);
        true
    }

    /// `call`, let in at its apiserver, is answered or lost there: it no longer counts (if it
    /// did).
    fn release(&mut self, call: &ApiCall) {
        if let Some(i) = self.uncounted.iter().position(|&k| k == (call.client, call.id)) {
            self.uncounted.swap_remove(i);
            return;
        }
        let n = &mut self.in_flight[call.master as usize][usize::from(call.obj.is_mutating())];
        *n = n.saturating_sub(1);
    }

    /// Apiserver `m` answers `call` `429 Too Many Requests`: its client sleeps `Retry-After`
    /// and sends it again ([`Ev::TooManyRequests`]), or, refused for the
    /// [`crate::api::CLIENT_GO_MAX_TRIES`]-th time, takes the error if it gives such a call up
    /// ([`crate::api::Obj::fails_with`]). An answer whose connection fails on its way back is
    /// taken as the refusal all the same.
    fn refuse(&mut self, m: usize, call: ApiCall, ctx: &mut Context<'_, Ev>) {
        self.stats[m].refused += 1;
        let refused = call.refused.saturating_add(1);
        let key = crate::draws::refusal_key(self.client_key(call.client), call.id, refused);
        let mut rng = ctx.keyed_rng(key);
        let (due, _) = self.down_to(call.client, call.master, call.host, ctx.now(), &mut rng);
        if refused >= crate::api::CLIENT_GO_MAX_TRIES && call.obj.fails_with(CallLoss::TooManyRequests) {
            let lost = Some(CallLoss::TooManyRequests);
            ctx.send_at(
                call.client,
                due,
                Ev::Reply {
                    id: call.id,
                    object: 0,
                    lost,
                },
            );
            return;
        }
        if let Some(wake) = due.checked_add(crate::api::TOO_MANY_RETRY_AFTER) {
            ctx.send_at(call.client, wake, Ev::TooManyRequests(ApiCall { refused, ..call }));
        }
    }

    fn start_service(&mut self, call: ApiCall, arrived: SimTime, ctx: &mut Context<'_, Ev>) {
        // Keyed by the request, so that other requests' timing does not change its draw.
        let mut rng = ctx.keyed_rng(crate::draws::call_key(self.client_key(call.client), call.id));
        let st = sample(self.service_time, self.service_noise.as_ref(), &mut rng);
        let wait = ctx.now() - arrived;
        self.stats[call.master as usize].queue_wait_s += wait.as_secs_f64();
        ctx.send_self(st, Ev::ApiServed(call));
    }

    /// Applies a committed call, replies, and fans the change out.
    fn apply(&mut self, call: ApiCall, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        let mut object = 0;
        match call.obj {
            Obj::CreateDeployment => {
                self.store.deployment = Some(1);
                self.notify(self.kcm, WatchEvent::Deployment(1), ctx);
            }
            Obj::Scale(n) => {
                self.store.deployment = Some(n);
                self.notify(self.kcm, WatchEvent::Deployment(n), ctx);
            }
            Obj::CreateReplicaSet(n) | Obj::UpdateReplicaSet(n) => {
                self.store.replicaset = Some(n);
                self.notify(self.kcm, WatchEvent::ReplicaSet(n), ctx);
            }
            Obj::CreatePod => {
                let pod = self.store.pods.len() as u32;
                object = pod;
                self.store.pods.push((None, None));
                self.store.created_at.push(now);
                self.store.bound_at.push(None);
                self.store.running_at.push(None);
                self.store.deleted_at.push(None);
                self.notify(self.kcm, WatchEvent::PodAdded(pod), ctx);
                self.notify(self.scheduler, WatchEvent::PodAdded(pod), ctx);
                self.notify(self.observer, WatchEvent::PodAdded(pod), ctx);
            }
            Obj::Bind { pod, node } => {
                if let Some(p) = self.store.pods.get_mut(pod as usize) {
                    p.0 = Some(node);
                    self.store.bound_at[pod as usize] = Some(now);
                    let kubelet = self.kubelets.get(node as usize).copied();
                    self.notify(kubelet, WatchEvent::PodBound { pod, node }, ctx);
                    self.notify(self.observer, WatchEvent::PodBound { pod, node }, ctx);
                }
            }
            Obj::PatchStatus { pod, phase } => {
                if let Some(p) = self.store.pods.get_mut(pod as usize) {
                    if p.1 != Some(phase) {
                        p.1 = Some(phase);
                        if phase == Phase::Running {
                            self.store.running_at[pod as usize] = Some(now);
                        }
                        self.notify(self.observer, WatchEvent::PodPhase { pod, phase }, ctx);
                    }
                }
            }
            // A Lease renewal or a node status write: the node lifecycle controller takes
            // either as the node's heartbeat (`tryUpdateNodeHealth`, v1.16).
            Obj::NodeStatus | Obj::RenewLease => {
                if let Some(l) = self.lifecycle.as_mut() {
                    if let Some(&node) = self.kubelet_index.get(&call.client) {
                        l.heartbeat(node, now);
                        self.node_heard(node, ctx);
                    }
                }
            }
            Obj::GetDeployment
            | Obj::GetScale
            | Obj::GetPod(_)
            | Obj::GetHostNetworkPod
            | Obj::PatchHostNetworkStatus
            | Obj::ListSecret
            | Obj::ControllerStatus
            | Obj::Event
            | Obj::GetNode => {}
        }
        self.reply(call, object, ctx);
    }

    /// Sends the reply to `call` (with `object`, the index of what it created), through the
    /// client's connection as it is now. It carries how the call was lost, on the way there or
    /// back, if it was. A GET that the balancer's restart reset comes
    /// [`crate::api::RESET_GET_RETRY_AFTER`] later: client-go sleeps that long before it sends
    /// it again (a GET changes nothing, so serving it early and answering late is the same).
    fn reply(&self, call: ApiCall, object: u32, ctx: &mut Context<'_, Ev>) {
        let mut rng = ctx.keyed_rng(crate::draws::reply_key(self.client_key(call.client), call.id));
        let (due, lost) = self.down_to(call.client, call.master, call.host, ctx.now(), &mut rng);
        let lost = call.lost.max(lost);
        let due = match lost {
            Some(CallLoss::Reset) if call.obj.is_get() => due
                .checked_add(crate::api::RESET_GET_RETRY_AFTER)
                .unwrap_or(SimTime::MAX),
            _ => due,
        };
        ctx.send_at(
            call.client,
            due,
            Ev::Reply {
                id: call.id,
                object,
                lost,
            },
        );
    }
}

/// A multiplicative noise with mean 1 and coefficient of variation `cv` (log-normal), or none.
pub fn noise(cv: f64) -> Option<LogNormal<f64>> {
    if cv > 0.0 && cv.is_finite() {
        let sigma2 = (1.0 + cv * cv).ln();
        LogNormal::new(-sigma2 / 2.0, sigma2.sqrt()).ok()
    } else {
        None
    }
}

/// `mean` scaled by one draw of `noise` (or `mean` itself).
pub fn sample(mean: SimDuration, noise: Option<&LogNormal<f64>>, rng: &mut impl Rng) -> SimDuration {
    match noise {
        Some(n) => SimDuration::from_secs_f64(mean.as_secs_f64() * n.sample(rng)),
        None => mean,
    }
}

impl Component<Ev> for ControlPlane {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        match event {
            Ev::ApiArrive(call) if call.given_up() => {
                // It failed at the client when its connection was lost; the reply tells it
                // when (it never reached an apiserver, or was sent again by nobody).
                self.reply(call, 0, ctx);
            }
            Ev::ApiArrive(call) => {
                let m = call.master as usize;
                let now = ctx.now();
                let in_failover = self
                    .failovers
                    .iter()
                    .any(|f| f.client == call.client && f.lost_at <= now && now < f.reconnect_at);
                // An apiserver whose member runs outside a quorum takes the request: it answers
                // cached reads, and its writes wait for the quorum ([`crate::failover`]).
                if in_failover || !self.plan.apiserver_up(m, now) || self.plan.etcd_stopped(m, now) {
                    self.lose(call, ctx);
                    return;
                }
                if !self.admit(m, &call) {
                    self.refuse(m, call, ctx);
                    return;
                }
                self.stats[m].requests += 1;
                if let Some((c, t)) = self.servers[m].arrive(now, (call, now)) {
                    self.start_service(c, t, ctx);
                }
            }
            Ev::ApiServed(call) => {
                let m = call.master as usize;
                let now = ctx.now();
                if let Some((c, t)) = self.servers[m].complete(now) {
                    self.start_service(c, t, ctx);
                }
                if !self.plan.apiserver_up(m, now) || self.plan.etcd_stopped(m, now) {
                    // Its apiserver died while the request waited or was handled: it goes with
                    // the connection; or its etcd member stopped: it is held until the member is
                    // back or its client gives up on the connection. Either way the client sends
                    // it again.
                    self.release(&call);
                    self.lose(call, ctx);
                    return;
                }
                if ctx.tracer().enabled() {
                    let host = self.net.name(self.masters[m]).to_owned();
                    let label = call.obj.label();
                    ctx.tracer()
                        .instant(|| (Track::new(host, "apiserver"), label.into(), "api", now));
                }
                let write = call.obj.is_write();
                if !write && !call.obj.is_quorum_read() {
                    // Served from the watch cache, with or without an etcd quorum.
                    ctx.send_self(SimDuration::ZERO, Ev::EtcdDone(call));
                    return;
                }
                // Writes and quorum reads need an etcd leader, and this apiserver's member in its
                // quorum; one that never comes before the run's end is never answered.
                let (done, held) = self.etcd_answer(m, now, write);
                if held {
                    // A client that takes an etcd time-out as final is answered at its first
                    // try's end, unless its connection goes first.
                    let first_try_ends = now.checked_add(self.etcd_request_timeout).unwrap_or(SimTime::MAX);
                    let timed_out = ApiCall {
                        lost: Some(CallLoss::EtcdTimedOut),
                        ..call
                    };
                    let gives_up = done > first_try_ends && timed_out.given_up();
                    let answered = if gives_up { first_try_ends } else { done };
                    if let Some(f) = self.moves_before(&call, now, answered) {
                        // Its client fails over first (a quorum serves elsewhere): the request
                        // comes again through the new connection.
                        self.release(&call);
                        self.resend(call, f.to_master, f.reconnect_at, f.host, ctx);
                        return;
                    }
                    if gives_up {
                        ctx.send_at(ctx.me(), first_try_ends, Ev::EtcdDone(timed_out));
                        return;
                    }
                }
                if done == SimTime::MAX {
                    // Never answered (no quorum for the rest of the run): its slot goes back
                    // (v1.16's would be held through each of its client's tries).
                    self.release(&call);
                    return;
                }
                if write {
                    self.stats[m].writes += 1;
                }
                ctx.send_at(ctx.me(), done, Ev::EtcdDone(call));
            }
            // A call whose etcd try timed out, given up by its client: the error, not the change.
            Ev::EtcdDone(call) if call.given_up() => {
                self.release(&call);
                self.reply(call, 0, ctx);
            }
            Ev::EtcdDone(call) => {
                self.release(&call);
                self.apply(call, ctx);
            }
            Ev::Local(Local::NodeMonitor) => self.monitor_nodes(ctx),
            Ev::Local(Local::Evict(node, generation)) => self.evict(node, generation, ctx),
            Ev::Local(Local::DeletePod(pod, node)) => self.delete_pod(pod, node, ctx),
            Ev::Local(Local::NodeTaintWritten { node, schedulable }) => {
                self.taint_write_made(node, schedulable, ctx);
            }
            Ev::Reply { .. }
            | Ev::TooManyRequests(_)
            | Ev::Watch(_)
            | Ev::Local(_)
            | Ev::Rebind { .. }
            | Ev::DownloadStart { .. } => {}
        }
    }
}
