//! The messages of the model: API calls, replies, watch events and component timers, and the
//! client side of a connection through HAProxy.
//!
//! Every Kubernetes client (kubectl, controller-manager, scheduler, kubelets) holds one
//! long-lived connection through the load balancer to one apiserver (HAProxy in TCP mode pins
//! it, see [`crate::haproxy`]); requests and watch events travel client → lb → master and back.

use std::sync::Arc;

use rand::Rng;
use sim_core::{ComponentId, SimDuration, SimTime};

use crate::control_plane::Failover;
use crate::network::{HostId, Network};

/// Size of a request or reply carrying one object: 2,000 bytes. A minimal pod manifest encodes
/// to 2,068 bytes of protobuf, the format between components (kubernetes/perf-tests PR #4383),
/// and the scalability tests count about 4 KB for a pod with its status (kubernetes issue
/// #134375); this is the low end. It matters only on links slow enough to make a few KB count.
pub const OBJECT_BYTES: u64 = 2_000;

/// How many failovers in a row one request's send is moved past. A model bound, not a
/// Kubernetes figure: a request meets more only if its apiservers keep failing while it waits.
const CHAINED_FAILOVERS: usize = 8;

/// How long client-go v1.16 waits before it sends a GET again after a connection reset: it
/// makes up a response with `Retry-After: 1` and sleeps those seconds before the retry
/// (`rest/request.go`, `request`: "For the purpose of retry, we set the artificial
/// retry-after response").
pub const RESET_GET_RETRY_AFTER: SimDuration = SimDuration::from_secs(1);

/// How long client-go v1.16 sleeps after a `429 Too Many Requests` before it sends the request
/// again: the apiserver's max-in-flight filter answers with `Retry-After: 1`
/// (`apiserver/pkg/server/filters/maxinflight.go`, `retryAfter = "1"`), and `rest/request.go`'s
/// `checkWait` sleeps that many seconds.
pub const TOO_MANY_RETRY_AFTER: SimDuration = SimDuration::from_secs(1);

/// How many times client-go v1.16 sends a request that keeps meeting `Retry-After` before it
/// returns the error to its caller: `rest/request.go`, `request`: `maxRetries := 10`, the
/// attempt counted before `retries < maxRetries` is checked, so ten sends in all.
pub const CLIENT_GO_MAX_TRIES: u8 = 10;

/// What an API call touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obj {
    /// `POST deployments` (kubectl create deployment, one replica).
    CreateDeployment,
    /// `GET deployments/<name>`: `kubectl scale`'s resource builder reads the object it was
    /// named before it scales it (kubectl `ScaleOptions.RunScale`, `r.Infos()`).
    GetDeployment,
    /// `GET deployments/scale` (kubectl scale reads before it writes).
    GetScale,
    /// `PUT deployments/scale` to this many replicas.
    Scale(u32),
    /// `POST replicasets` with this many replicas.
    CreateReplicaSet(u32),
    /// `PUT replicasets` to this many replicas.
    UpdateReplicaSet(u32),
    /// A status write of a deployment or ReplicaSet (load only).
    ControllerStatus,
    /// `POST pods` (ReplicaSet controller).
    CreatePod,
    /// `POST pods/binding` of a pod to a worker (scheduler).
    Bind {
        /// Pod index.
        pod: u32,
        /// Worker index.
        node: u32,
    },
    /// `GET pods/<name>` by the kubelet's status manager (a quorum read in v1.16).
    GetPod(u32),
    /// `PATCH pods/<name>/status`.
    PatchStatus {
        /// Pod index.
        pod: u32,
        /// The phase written.
        phase: Phase,
    },
    /// `GET pods/<name>` of one of the node's hostNetwork DaemonSet pods (kube-proxy, the CNI
    /// agent), from the status manager's resync (load only).
    GetHostNetworkPod,
    /// `PATCH pods/<name>/status` of a hostNetwork pod that changes nothing: the apiserver's
    /// `GuaranteedUpdate` re-reads the object (quorum) and, finding the same bytes, writes
    /// nothing and sends no watch event (load only).
    PatchHostNetworkStatus,
    /// `GET secrets?fieldSelector=metadata.name=<token secret>&resourceVersion=0`: the first
    /// LIST of a kubelet's Secret reflector, served from the apiserver's watch cache.
    ListSecret,
    /// `POST events` (load only).
    Event,
    /// `GET nodes/<name>` with `resourceVersion=0`: the node status loop's read of its Node,
    /// served from the apiserver's watch cache (`tryUpdateNodeStatus`' first try, v1.16).
    GetNode,
    /// `PATCH nodes/<name>/status`, sent only when the status changed (here: the node's image
    /// list, after its first download) or `nodeStatusReportFrequency` has passed. A heartbeat.
    NodeStatus,
    /// `PUT leases/<name>` in `kube-node-lease`: the renewal, the node's heartbeat
    /// (`retryUpdateLease` of the Lease last written, v1.16).
    RenewLease,
}

impl Obj {
    /// Whether the call writes to etcd.
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Obj::GetDeployment
                | Obj::GetScale
                | Obj::GetPod(_)
                | Obj::GetHostNetworkPod
                | Obj::PatchHostNetworkStatus
                | Obj::ListSecret
                | Obj::GetNode
        )
    }

    /// Whether the client gives this call up when it is lost as `loss` says, rather than send
    /// it again (once reconnected, or at once after an etcd time-out). Only the kubelet's status
    /// manager is modelled so: client-go v1.16 retries a GET after a connection reset
    /// (`Retry-After: 1`, `rest/request.go`: "in case of GET operations, we simply retry it")
    /// and returns every other error, the apiserver's error for an etcd time-out included, and
    /// `syncPod` then leaves the status unsent for the next `syncBatch`
    /// ([`crate::status_manager`]). The other clients' calls are sent again (their own retries,
    /// such as the controllers' rate-limited requeues, are not modelled; `docs/model.md`).
    pub fn fails_with(self, loss: CallLoss) -> bool {
        match self {
            Obj::PatchStatus { .. } | Obj::PatchHostNetworkStatus => true,
            Obj::GetPod(_) | Obj::GetHostNetworkPod => loss != CallLoss::Reset,
            _ => false,
        }
    }

    /// Whether the apiserver's max-in-flight filter counts the call against
    /// `--max-mutating-requests-inflight` rather than `--max-requests-inflight`: every verb but
    /// GET and LIST (`nonMutatingRequestVerbs`; watches are not calls here).
    pub fn is_mutating(self) -> bool {
        !self.is_get()
    }

    /// Whether the call is a GET (a LIST included): client-go retries it after a connection
    /// reset ([`RESET_GET_RETRY_AFTER`]).
    pub fn is_get(self) -> bool {
        matches!(
            self,
            Obj::GetDeployment
                | Obj::GetScale
                | Obj::GetPod(_)
                | Obj::GetHostNetworkPod
                | Obj::ListSecret
                | Obj::GetNode
        )
    }

    /// Whether the call, not writing, still reads etcd with a quorum read.
    pub fn is_quorum_read(self) -> bool {
        matches!(
            self,
            Obj::GetDeployment | Obj::GetScale | Obj::GetPod(_) | Obj::GetHostNetworkPod | Obj::PatchHostNetworkStatus
        )
    }

    /// A short label for traces.
    pub fn label(self) -> &'static str {
        match self {
            Obj::CreateDeployment => "POST deployments",
            Obj::GetDeployment => "GET deployments",
            Obj::GetScale => "GET deployments/scale",
            Obj::Scale(_) => "PUT deployments/scale",
            Obj::CreateReplicaSet(_) => "POST replicasets",
            Obj::UpdateReplicaSet(_) => "PUT replicasets",
            Obj::ControllerStatus => "PUT status",
            Obj::CreatePod => "POST pods",
            Obj::Bind { .. } => "POST pods/binding",
            Obj::GetPod(_) | Obj::GetHostNetworkPod => "GET pods",
            Obj::PatchHostNetworkStatus => "PATCH pods/status (no change)",
            Obj::PatchStatus { .. } => "PATCH pods/status",
            Obj::ListSecret => "LIST secrets (one, watch cache)",
            Obj::Event => "POST events",
            Obj::GetNode => "GET nodes (watch cache)",
            Obj::NodeStatus => "PATCH nodes/status",
            Obj::RenewLease => "PUT leases",
        }
    }
}

/// A pod phase as the kubelet reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Accepted, containers being created.
    Pending,
    /// Still Pending, the container waiting after a failed image pull: the `n`-th such status
    /// (its reason `ErrImagePull` or `ImagePullBackOff`, [`crate::image_backoff`]).
    Waiting(u16),
    /// Containers running.
    Running,
}

/// How a call was lost while it (or its reply) was out: with its connection, or to an etcd
/// that could not commit it in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallLoss {
    /// The load balancer crashed: HAProxy's restart answers the client's next segment with a
    /// reset (`ECONNRESET`, [`crate::faults`]).
    Reset,
    /// A failover tore the connection down (the kubelet's `closeAllConns` after two failed
    /// node-status tries, or a client giving up on a dead apiserver,
    /// [`crate::control_plane`]): the call ends with the closed connection's error, not a reset.
    Closed,
    /// Its apiserver's etcd try timed out (`etcdserver: request timed out`, etcd's
    /// `ReqTimeout` with no leader or no quorum), and the apiserver answered with that error.
    EtcdTimedOut,
    /// Its apiserver refused it [`CLIENT_GO_MAX_TRIES`] times with `429 Too Many Requests`
    /// (its in-flight limit reached), and client-go returned that error.
    TooManyRequests,
}

/// One API call in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiCall {
    /// Who asked (gets the reply).
    pub client: ComponentId,
    /// The client's host.
    pub host: HostId,
    /// Which apiserver (index into the masters) the client's connection is pinned to.
    pub master: u8,
    /// The client's own id for the call, echoed in the reply.
    pub id: u32,
    /// What it does.
    pub obj: Obj,
    /// How it was lost on the way, if it was (the network held it at a crashed balancer, a
    /// failover tore the connection down, or its etcd try timed out): a call the client gives
    /// up on such a loss ([`Obj::fails_with`]) is answered with the failure and not served.
    pub lost: Option<CallLoss>,
    /// How many times an apiserver has refused it with `429 Too Many Requests` so far.
    pub refused: u8,
}

impl ApiCall {
    /// Whether the client gave this call up when it was lost ([`Obj::fails_with`]).
    pub fn given_up(&self) -> bool {
        self.lost.is_some_and(|l| self.obj.fails_with(l))
    }
}

/// A change delivered through a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEvent {
    /// The Deployment's spec.replicas is now this.
    Deployment(u32),
    /// The ReplicaSet exists with spec.replicas this.
    ReplicaSet(u32),
    /// A pod was created (unscheduled).
    PodAdded(u32),
    /// A pod was bound to a worker.
    PodBound {
        /// Pod index.
        pod: u32,
        /// Worker index.
        node: u32,
    },
    /// A pod's status phase changed.
    PodPhase {
        /// Pod index.
        pod: u32,
        /// New phase.
        phase: Phase,
    },
    /// A pod was deleted (evicted from a node that stopped reporting,
    /// [`crate::node_lifecycle`]).
    PodDeleted(u32),
    /// An evicted pod's object is gone (its kubelet, heard from again, confirmed the deletion):
    /// its node has room again.
    PodGone {
        /// Worker index.
        node: u32,
    },
    /// A node was marked NotReady (`schedulable: false`, tainted `unreachable:NoSchedule`) or
    /// Ready again.
    NodeSchedulable {
        /// Worker index.
        node: u32,
        /// Whether the scheduler may place pods there.
        schedulable: bool,
    },
}

/// Component timers and local completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// Start of the run: open connections, arm periodic timers.
    Start,
    /// A Docker operation finished for a pod.
    RuntimeDone(u32),
    /// An image pull finished for a pod.
    PullDone(u32),
    /// An image pull failed for a pod ([`crate::pull_outages`]).
    PullFailed(u32),
    /// The pod worker syncs a pod again after a failed sync ([`crate::image_backoff`]).
    PodResync(u32),
    /// PLEG relist.
    Pleg,
    /// The node status loop's tick (`--node-status-update-frequency`).
    NodeStatus,
    /// The node Lease controller's tick (a quarter of `nodeLeaseDurationSeconds`).
    LeaseRenew,
    /// The kubelet status manager's `syncTicker`.
    StatusTick,
    /// The load balancer crashed: the kubelet times when it will close its connections.
    BalancerCrashed,
    /// The kubelet closes all its connections (`closeAllConns`, after two failed node-status
    /// tries) while the load balancer is down: the status sync out fails.
    ConnectionsClosed,
    /// A status sync's dial to the crashed load balancer gave up.
    StatusDialFailed,
    /// `WaitForAttachAndMount` found the pod's volumes mounted.
    VolumesMounted(u32),
    /// A scheduling cycle finished for a pod.
    Scheduled(u32),
    /// kubectl's next command.
    Kubectl,
    /// HAProxy health-check round.
    HealthCheck,
    /// A site uplink's first download in progress ends ([`crate::uplink`]).
    UplinkDue,
    /// The node lifecycle controller's periodic check ([`crate::node_lifecycle`]).
    NodeMonitor,
    /// A node's `NoExecute` taint (of the given generation) has outlasted its pods'
    /// toleration: they are evicted (worker index, taint generation).
    Evict(u32, u32),
    /// The taint manager's deletion of a pod, held back by its client's limiter, reaches the
    /// apiserver (pod, worker index).
    DeletePod(u32, u32),
    /// The node lifecycle controller's write of a worker's `NoSchedule` taint (or of its
    /// removal), held back by its client's limiter, reaches the apiserver: the scheduler sees
    /// the node unschedulable (or schedulable again).
    NodeTaintWritten {
        /// Worker index.
        node: u32,
        /// Whether the node takes pods again (the taint removed).
        schedulable: bool,
    },
}

/// Everything that travels through the event queue.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// A call reaches its apiserver.
    ApiArrive(ApiCall),
    /// An apiserver handler finished its CPU work on a call.
    ApiServed(ApiCall),
    /// A write is committed in etcd (or a quorum read is confirmed).
    EtcdDone(ApiCall),
    /// The reply reaches the client: call id and, for creations, the new object's index.
    Reply {
        /// The client's call id.
        id: u32,
        /// Index of a created object, or 0.
        object: u32,
        /// How the call was lost while it or its reply was out, if it was. A call the client
        /// gives up on such a loss ([`Obj::fails_with`]) has failed; for any other the reply
        /// stands for the client's own retry (on its new connection, or after etcd's time-out).
        lost: Option<CallLoss>,
    },
    /// A call its apiserver refused with `429 Too Many Requests`, back at its client once the
    /// client has slept the answer's `Retry-After` ([`TOO_MANY_RETRY_AFTER`]): the client sends
    /// it again through its limiter (client-go's `tryThrottle` before every retry).
    TooManyRequests(ApiCall),
    /// A watch event reaches a client.
    Watch(WatchEvent),
    /// A timer or local completion.
    Local(Local),
    /// A kubelet's first pull starts downloading the image's layers through its site's shared
    /// uplink ([`crate::uplink`]), which sends `Local(PullDone(pod))` back when they are in.
    DownloadStart {
        /// The kubelet that pulls.
        kubelet: ComponentId,
        /// The pod whose pull it is.
        pod: u32,
        /// The layers' size, bits.
        bits: u64,
        /// The most this download may take, bits per second (the node's own rate).
        cap_bps: f64,
        /// Failed attempts before this one: 0 for a new download; Docker's next attempt
        /// after a cut resumes with the bits left ([`crate::pull_outages::Outages::resume`]).
        failures: u32,
        /// When Docker's first progress message reached dockershim (the registry's requests
        /// done, the manifest in): the origin of its progress checks
        /// ([`crate::pull_outages::Outages::for_pull`]).
        pull_start: SimTime,
    },
    /// The client's connection now goes to apiserver `master` (on host `host`): it failed over.
    Rebind {
        /// The new apiserver's index.
        master: u8,
        /// Its host.
        host: HostId,
        /// The client's own host from then: its own but for a leader-elected controller whose
        /// standby on another master took the lease.
        from: HostId,
    },
}

/// The failovers as the connections look them up: by client, with the apiservers' hosts.
#[derive(Debug, Default)]
struct Book {
    by_client: rustc_hash::FxHashMap<ComponentId, Vec<Failover>>,
    hosts: Vec<HostId>,
}

/// Every client's failovers, known once the faults are laid over the control plane
/// ([`crate::control_plane::ControlPlane::set_faults`]) and shared by every connection; kept by
/// client, so that a lookup costs the client's own failovers only.
#[derive(Debug, Clone, Default)]
pub struct FailoverBook(Arc<std::sync::OnceLock<Book>>);

impl FailoverBook {
    /// Records `failovers` between the apiservers on `hosts` (once; later calls are ignored).
    /// None leaves the book unset, so that a run without failovers looks nothing up.
    pub fn set(&self, failovers: &[Failover], hosts: &[HostId]) {
        if failovers.is_empty() {
            return;
        }
        let mut by_client: rustc_hash::FxHashMap<ComponentId, Vec<Failover>> = rustc_hash::FxHashMap::default();
        for f in failovers {
            by_client.entry(f.client).or_default().push(*f);
        }
        let _ = self.0.set(Book {
            by_client,
            hosts: hosts.to_vec(),
        });
    }

    /// The failover that tears down `client`'s connection to `master` while a message sent on
    /// it at `sent` is still on its way (due at `due`), if one does, and the host of the
    /// apiserver it goes to (the client's own host from then is the failover's `host`).
    pub fn interrupting(
        &self,
        client: ComponentId,
        master: u8,
        sent: SimTime,
        due: SimTime,
    ) -> Option<(Failover, HostId)> {
        let book = self.0.get()?;
        let f = book
            .by_client
            .get(&client)?
            .iter()
            .filter(|f| f.from_master == master && sent < f.reconnect_at && f.reconnect_at < due)
            .min_by_key(|f| f.reconnect_at)
            .copied()?;
        Some((f, *book.hosts.get(f.to_master as usize)?))
    }
}

/// The client end of a connection through the load balancer to one apiserver.
#[derive(Debug, Clone)]
pub struct Conn {
    /// The shared network.
    pub net: Arc<Network>,
    /// The client's host.
    pub host: HostId,
    /// The load balancer's host.
    pub lb: HostId,
    /// The apiserver's host.
    pub master_host: HostId,
    /// The apiserver's index.
    pub master: u8,
    /// HAProxy's splice time per message.
    pub proxy_time: SimDuration,
    /// The clients' failovers.
    pub failovers: FailoverBook,
}

impl Conn {
    /// A call `obj` (the client's `id`) sent at `at`, and when it reaches its apiserver. A call
    /// still on its way when a failover tears the connection down (a master cut off: the
    /// network holds the message until the repair) is lost with the connection, and the client
    /// sends it again on its new connection once it has reconnected; one sent while the
    /// balancer is down is held until it is back and its connection reset. Either way the call
    /// is marked [`ApiCall::lost`], so that a call its client gives up on such a loss fails.
    pub fn deliver(
        &self,
        client: ComponentId,
        id: u32,
        obj: Obj,
        at: SimTime,
        rng: &mut impl Rng,
    ) -> (SimTime, ApiCall) {
        let mut call = self.call(client, id, obj);
        if self.net.host_down_at(self.lb, at) {
            call.lost = Some(CallLoss::Reset);
        }
        let mut sent = at;
        let mut due = at + self.up(OBJECT_BYTES, at, rng);
        // A few chained failovers at most; each moves the send later.
        for _ in 0..CHAINED_FAILOVERS {
            let Some((f, to_host)) = self.failovers.interrupting(client, call.master, sent, due) else {
                break;
            };
            call.master = f.to_master;
            call.host = f.host;
            call.lost = Some(CallLoss::Closed);
            sent = f.reconnect_at;
            due = sent + self.up_to(f.host, to_host, OBJECT_BYTES, sent, rng);
        }
        (due, call)
    }

    /// Latency of a `bytes`-long message sent at `at` from the client on `from` to the
    /// apiserver on `master_host` through the balancer.
    fn up_to(&self, from: HostId, master_host: HostId, bytes: u64, at: SimTime, rng: &mut impl Rng) -> SimDuration {
        let first = self.leg(from, self.lb, bytes, at, rng) + self.proxy_time;
        first + self.leg(self.lb, master_host, bytes, at + first, rng)
    }

    /// Latency of a `bytes`-long message sent at `at` from the client to its apiserver
    /// (including any wait for a failed balancer or tunnel on the way).
    pub fn up(&self, bytes: u64, at: SimTime, rng: &mut impl Rng) -> SimDuration {
        self.up_to(self.host, self.master_host, bytes, at, rng)
    }

    fn leg(&self, a: HostId, b: HostId, bytes: u64, at: SimTime, rng: &mut impl Rng) -> SimDuration {
        // Scenario checks guarantee a route between every client and the balancer, and between
        // the balancer and every master; a missing one is a broken invariant of the build.
        self.net
            .one_way_at(a, b, bytes, at, rng)
            .unwrap_or_else(|| panic!("no route {} -> {}", self.net.name(a), self.net.name(b)))
    }

    /// Moves the connection to another apiserver (after a failover), made from `from` (the
    /// client's host from then: another master's for a leader-elected controller taken over
    /// by its standby there).
    pub fn rebind(&mut self, master: u8, master_host: HostId, from: HostId) {
        self.master = master;
        self.master_host = master_host;
        self.host = from;
    }

    /// A call from this client.
    pub fn call(&self, client: ComponentId, id: u32, obj: Obj) -> ApiCall {
        ApiCall {
            client,
            host: self.host,
            master: self.master,
            id,
            obj,
            lost: None,
            refused: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the kubelet's status syncs give up on a lost connection: its PATCHes whatever the
    /// loss, its GETs unless reset (client-go v1.16 retries a GET after a reset); every other
    /// client's call is sent again on its new connection.
    #[test]
    fn only_status_syncs_give_up_and_a_reset_get_is_retried() {
        let patch = Obj::PatchStatus {
            pod: 0,
            phase: Phase::Running,
        };
        for loss in [CallLoss::Reset, CallLoss::Closed] {
            assert!(patch.fails_with(loss) && Obj::PatchHostNetworkStatus.fails_with(loss));
            for other in [
                Obj::CreatePod,
                Obj::Bind { pod: 0, node: 0 },
                Obj::NodeStatus,
                Obj::ListSecret,
            ] {
                assert!(!other.fails_with(loss), "{other:?}");
            }
        }
        assert!(!Obj::GetPod(0).fails_with(CallLoss::Reset));
        assert!(Obj::GetPod(0).is_get() && Obj::GetNode.is_get() && !patch.is_get());
        assert!(Obj::GetPod(0).fails_with(CallLoss::EtcdTimedOut) && patch.fails_with(CallLoss::EtcdTimedOut));
        assert!(!Obj::CreatePod.fails_with(CallLoss::EtcdTimedOut));
        assert!(Obj::GetPod(0).fails_with(CallLoss::Closed) && Obj::GetHostNetworkPod.fails_with(CallLoss::Closed));
    }
}
