//! The Kubernetes v1.16 components' settings: nodes, apiserver, etcd, controller-manager,
//! scheduler and kubelet, each default named after its flag.

use serde::{Deserialize, Serialize};

use crate::units::Dur;

/// Kubernetes v1.16 component settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Kubernetes {
    /// kube-apiserver.
    pub apiserver: Apiserver,
    /// etcd (stacked on the masters, as kubeadm sets it up).
    pub etcd: Etcd,
    /// kube-controller-manager.
    pub controller_manager: ControllerManager,
    /// kube-scheduler.
    pub scheduler: Scheduler,
    /// kubelet.
    pub kubelet: Kubelet,
    /// What every worker node offers the scheduler.
    pub node: Node,
}

/// A worker node as the scheduler's default priorities see it (every worker alike): what it can
/// hold and what its DaemonSet pods already request. The scheduler scores nodes on these
/// ([`crate::scheduler::priorities`]); nothing else in the model uses them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Node {
    /// CPU capacity in millicores, which is also the allocatable CPU (v1.16 reserves none by
    /// default: `--kube-reserved` and `--system-reserved` are empty). Default 2,000 (2 vCPU),
    /// kubeadm's minimum ("2 CPUs or more", the kubeadm installation guide): the thesis does not
    /// give its worker VMs' size.
    pub cpu_millis: u32,
    /// Memory capacity in MiB. Default 4,096, twice kubeadm's minimum ("2 GB or more of RAM",
    /// the kubeadm installation guide): the thesis does not give its worker VMs' size.
    /// Allocatable is 100 MiB less, the v1.16 default `--eviction-hard` `memory.available<100Mi`.
    pub memory_mib: u32,
    /// CPU the worker's DaemonSet pods request, as the scheduler counts it (a container without
    /// a request counts 100 millicores: `DefaultMilliCPURequest`, v1.16
    /// pkg/scheduler/algorithm/priorities/util/non_zero.go). Default 120: kubeadm's kube-proxy
    /// (no request: 100) and weave-net 2.6 (`weave` and `weave-npc` request 10 each), assumed:
    /// the thesis names no CNI (docs/sources.md §13).
    pub daemonset_cpu_millis: u32,
    /// Memory the worker's DaemonSet pods request, as the scheduler counts it (a container
    /// without a request counts 200 MiB: `DefaultMemoryRequest`, same file). Default 600: three
    /// containers (kube-proxy, weave, weave-npc) without a memory request.
    pub daemonset_memory_mib: u32,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            cpu_millis: 2_000,
            memory_mib: 4_096,
            daemonset_cpu_millis: 120,
            daemonset_memory_mib: 600,
        }
    }
}

/// kube-apiserver settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Apiserver {
    /// Requests handled at once per apiserver: what serializes requests is CPU (the in-flight
    /// limits below only refuse beyond theirs). Default 2: the thesis does not give the masters'
    /// vCPU count and kubeadm's minimum is 2 CPUs (kubeadm preflight check).
    pub workers: u32,
    /// `--max-requests-inflight`: read-only requests (GET, LIST; watches are long-running and
    /// do not count) one apiserver holds at once, from their arrival until their answer; one
    /// more is answered `429 Too Many Requests` with `Retry-After: 1`, unless its user is in
    /// `system:masters` (kubeadm's admin kubectl). v1.16 default 400 (kube-apiserver flags;
    /// `apiserver/pkg/server/filters/maxinflight.go`); 0 = no limit.
    pub max_requests_inflight: u32,
    /// `--max-mutating-requests-inflight`: the same for writes (POST, PUT, PATCH, DELETE). v1.16
    /// default 200; 0 = no limit.
    pub max_mutating_requests_inflight: u32,
    /// CPU time to handle one API request (decode, admission, encode). Calibratable (`calibrate
    /// --free`, range 0.5 ms .. 50 ms); the shipped calibration leaves it at its default, 5 ms:
    /// measured apiserver latencies are about 0.5 ms for a single GET and 6-20 ms for pod and
    /// controller writes etcd included (kubemark density runs, kubernetes issues #24532,
    /// #25827, #52949), so 5 ms of CPU is at the high end for a write on small masters.
    pub service_time: Dur,
    /// Delay between an etcd commit and the watch event leaving the apiserver (the watch cache's
    /// dispatch: an in-memory hand-off in the `Cacher`). Assumed 1 ms: no published measurement
    /// for v1.16 (the dispatch-latency metric came much later); not identifiable from start-up
    /// data, and small beside any WAN round trip.
    pub watch_dispatch: Dur,
}

impl Default for Apiserver {
    fn default() -> Self {
        Apiserver {
            workers: 2,
            max_requests_inflight: 400,
            max_mutating_requests_inflight: 200,
            service_time: Dur::millis(5),
            watch_dispatch: Dur::millis(1),
        }
    }
}

/// etcd settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Etcd {
    /// `--heartbeat-interval`: etcd's default 100 ms (etcd tuning guide).
    pub heartbeat: Dur,
    /// `--election-timeout`: etcd's default 1000 ms (etcd tuning guide).
    pub election_timeout: Dur,
    /// WAL fsync latency. Default 2 ms = 1/500 s: etcd's hardware guide (op-guide/hardware.md)
    /// says 50 sequential IOPS are typically required and recommends 500 "for heavily loaded
    /// clusters" ("a typical local SSD or a high performance virtualized block device"); its
    /// FAQ asks for a `wal_fsync_duration_seconds` p99 under 10 ms. The default is the
    /// recommended disk, not a measured one. Not identifiable from start-up data.
    pub fsync: Dur,
    /// The initial leader (a master's name); the first master if empty.
    pub leader: Option<String>,
}

impl Default for Etcd {
    fn default() -> Self {
        Etcd {
            heartbeat: Dur::millis(100),
            election_timeout: Dur::millis(1000),
            fsync: Dur::millis(2),
            leader: None,
        }
    }
}

/// kube-controller-manager settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControllerManager {
    /// `--kube-api-qps`, v1.16 default 20.
    pub kube_api_qps: f64,
    /// `--kube-api-burst`, v1.16 default 30.
    pub kube_api_burst: u32,
    /// `controller.SlowStartInitialBatchSize`, 1 in v1.16 (pkg/controller/controller_utils.go).
    pub slow_start_initial_batch: u32,
    /// `BurstReplicas`, 500 in v1.16 (pkg/controller/replicaset/replica_set.go).
    pub burst_replicas: u32,
    /// `--leader-elect-lease-duration`, default 15 s.
    pub lease_duration: Dur,
    /// `--leader-elect-renew-deadline`, default 10 s.
    pub renew_deadline: Dur,
    /// `--leader-elect-retry-period`, default 2 s.
    pub retry_period: Dur,
    /// `--node-monitor-grace-period`, default 40 s in v1.16.
    pub node_monitor_grace_period: Dur,
}

impl Default for ControllerManager {
    fn default() -> Self {
        ControllerManager {
            kube_api_qps: 20.0,
            kube_api_burst: 30,
            slow_start_initial_batch: 1,
            burst_replicas: 500,
            lease_duration: Dur::secs(15),
            renew_deadline: Dur::secs(10),
            retry_period: Dur::secs(2),
            node_monitor_grace_period: Dur::secs(40),
        }
    }
}

/// kube-scheduler settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scheduler {
    /// Client QPS: `clientConnection.qps`, v1.16 default 50.
    pub kube_api_qps: f64,
    /// Client burst: `clientConnection.burst`, v1.16 default 100.
    pub kube_api_burst: u32,
    /// Fixed CPU cost of one scheduling cycle. Default 1 ms, from scheduler_perf: predicates and
    /// priorities take 0.6 + 1.7 ms (p50) per pod at 100 nodes (kubernetes issue #84306, Nov.
    /// 2019), and this with [`Scheduler::cycle_per_node`] gives 3 ms there.
    pub cycle_base: Dur,
    /// Extra cost per node filtered and scored. Default 20 µs per node, from scheduler_perf: 91
    /// pods/s at 500 nodes (kubernetes PR #85861, Jan. 2020; the model gives 90 pods/s at 5,000
    /// nodes trimmed to the 500 that `percentageOfNodesToScore` keeps), and at least 100 pods/s
    /// at 5,000 nodes with that trimming (PR #74041, rate-limited by the test).
    pub cycle_per_node: Dur,
    /// kube-scheduler's own `--leader-elect-lease-duration` (`leaderElection.leaseDuration`),
    /// v1.16 default 15 s (component-base `RecommendedDefaultLeaderElectionConfiguration`, the
    /// controller-manager's default too; each component's flags set its own).
    pub lease_duration: Dur,
    /// `--leader-elect-renew-deadline`, v1.16 default 10 s (same source).
    pub renew_deadline: Dur,
    /// `--leader-elect-retry-period`, v1.16 default 2 s (same source).
    pub retry_period: Dur,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler {
            kube_api_qps: 50.0,
            kube_api_burst: 100,
            cycle_base: Dur::millis(1),
            cycle_per_node: Dur(sim_core::SimDuration::from_micros(20)),
            lease_duration: Dur::secs(15),
            renew_deadline: Dur::secs(10),
            retry_period: Dur::secs(2),
        }
    }
}

/// kubelet settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Kubelet {
    /// `--kube-api-qps`, v1.16 default 5.
    pub kube_api_qps: f64,
    /// `--kube-api-burst`, v1.16 default 10.
    pub kube_api_burst: u32,
    /// `--event-qps`, v1.16 default 5. The flag's help says 0 means unlimited, but the kubelet
    /// hands the value to client-go, which reads 0 as its default, 5 ([`Kubelet::event_limits`]).
    pub event_qps: f64,
    /// `--event-burst`, v1.16 default 10; 0 is client-go's default, 10.
    pub event_burst: u32,
    /// `--serialize-image-pulls`, v1.16 default true.
    pub serialize_image_pulls: bool,
    /// `--registry-qps`, v1.16 default 5; 0 means unlimited. A pull that finds no token fails
    /// at once with "pull QPS exceeded" (pkg/kubelet/images/helpers.go `throttledImageService`,
    /// `TryAccept`) and goes into the image back-off ([`crate::image_backoff`]).
    pub registry_qps: f64,
    /// `--registry-burst`, v1.16 default 10 (used only when `registry_qps` > 0).
    pub registry_burst: u32,
    /// PLEG relist period: `plegRelistPeriod = time.Second` in pkg/kubelet/kubelet.go.
    pub pleg_period: Dur,
    /// `--node-status-update-frequency`, default 10 s: how often the kubelet computes its node's
    /// status, reads the Node (from the apiserver's cache) and, if the status changed or
    /// `node_status_report` has passed, PATCHes it. Also the heartbeat client's timeout.
    pub node_status_update: Dur,
    /// `nodeStatusReportFrequency`, v1.16 default 1 min (5 min from v1.17, kubernetes PR
    /// #84007): with `NodeLease` (beta, on in v1.16) a node status that has not changed is
    /// PATCHed only this often.
    pub node_status_report: Dur,
    /// `nodeLeaseDurationSeconds`, default 40 s. The kubelet renews its Lease in
    /// `kube-node-lease` every quarter of it (`nodeLeaseRenewIntervalFraction = 0.25`,
    /// pkg/kubelet/kubelet.go): one PUT every 10 s of the Lease it last wrote
    /// (pkg/kubelet/nodelease/controller.go, v1.16 with kubernetes PRs #81174 and #81663). The node
    /// lifecycle controller takes the renewal as the node's heartbeat.
    pub node_lease_duration: Dur,
    /// hostNetwork pods on every worker besides the workload: kubeadm's kube-proxy DaemonSet
    /// and the CNI agent's DaemonSet (weave-net for the thesis) both set `hostNetwork: true`.
    /// Default 2.
    pub host_network_pods: u32,
    /// Whether the kubelet re-sends every hostNetwork pod's status at each 10 s `syncBatch`:
    /// v1.16.3 sets such a pod's `PodIP` but not `PodIPs`, the apiserver fills `PodIPs` in,
    /// and `needsReconcile` finds the copies different at every tick. Fixed by kubernetes PR
    /// #88988 (March 2020, cherry-pick #88992 to release-1.16). Default true (the thesis ran
    /// v1.16.3); set false for a kubelet with the fix.
    pub host_network_status_resync: bool,
    /// `--max-pods`, v1.16 default 110: the scheduler's `PodFitsResources` predicate places no
    /// more pods on a node (its DaemonSet pods, [`Kubelet::host_network_pods`], included).
    pub max_pods: u32,
    /// Whether the workload's pods mount their service account's token Secret, so that each
    /// node's first pod waits for the kubelet's Secret reflector to LIST it from the apiserver
    /// ([`crate::volume_manager`]). v1.16 default true: the ServiceAccount admission plugin adds
    /// the volume unless the pod or its service account sets
    /// `automountServiceAccountToken: false`.
    pub token_secret_volume: bool,
}

/// client-go's `rest.DefaultQPS`: what a client configured with QPS 0 gets (`RESTClientFor`).
pub const CLIENT_GO_DEFAULT_QPS: f64 = 5.0;

/// client-go's `rest.DefaultBurst`: what a client configured with burst 0 gets.
pub const CLIENT_GO_DEFAULT_BURST: u32 = 10;

/// `nodeLeaseRenewIntervalFraction` (pkg/kubelet/kubelet.go, v1.16): the Lease is renewed every
/// this fraction of its duration.
const NODE_LEASE_RENEW_FRACTION: f64 = 0.25;

impl Kubelet {
    /// How often the kubelet renews its node Lease: a quarter of `nodeLeaseDurationSeconds`.
    pub fn lease_renew_interval(&self) -> sim_core::SimDuration {
        sim_core::SimDuration::from_secs_f64(self.node_lease_duration.secs_f64() * NODE_LEASE_RENEW_FRACTION)
    }

    /// The heartbeat client's timeout per request, which both heartbeat loops use:
    /// `--node-status-update-frequency`, capped at `nodeLeaseDurationSeconds`
    /// (cmd/kubelet/app/server.go, `heartbeatClientConfig.Timeout`, v1.16 with `NodeLease` on).
    pub fn heartbeat_timeout(&self) -> sim_core::SimDuration {
        self.node_status_update.get().min(self.node_lease_duration.get())
    }

    /// The event client's QPS and burst as v1.16 runs them. The kubelet copies `--event-qps`
    /// and `--event-burst` into the event client's configuration (cmd/kubelet/app/server.go),
    /// and client-go replaces a 0 by its defaults, so 0 is not unlimited, whatever the flag's
    /// help says (kubernetes issue #117101, "When eventRecordQPS is set to 0, the actual QPS
    /// is 5"; later releases changed the help text, not v1.16).
    pub fn event_limits(&self) -> (f64, u32) {
        let qps = if self.event_qps == 0.0 {
            CLIENT_GO_DEFAULT_QPS
        } else {
            self.event_qps
        };
        let burst = if self.event_burst == 0 {
            CLIENT_GO_DEFAULT_BURST
        } else {
            self.event_burst
        };
        (qps, burst)
    }
}

impl Default for Kubelet {
    fn default() -> Self {
        Kubelet {
            kube_api_qps: 5.0,
            kube_api_burst: 10,
            event_qps: 5.0,
            event_burst: 10,
            serialize_image_pulls: true,
            registry_qps: 5.0,
            registry_burst: 10,
            pleg_period: Dur::secs(1),
            node_status_update: Dur::secs(10),
            node_status_report: Dur::secs(60),
            node_lease_duration: Dur::secs(40),
            host_network_pods: 2,
            host_network_status_resync: true,
            max_pods: 110,
            token_secret_volume: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_event_qps_or_burst_is_client_gos_default_not_unlimited() {
        let k = |event_qps, event_burst| Kubelet {
            event_qps,
            event_burst,
            ..Kubelet::default()
        };
        assert_eq!(k(0.0, 0).event_limits(), (5.0, 10));
        assert_eq!(k(0.0, 3).event_limits(), (5.0, 3));
        assert_eq!(k(50.0, 0).event_limits(), (50.0, 10));
        assert_eq!(k(2.0, 4).event_limits(), (2.0, 4));
    }
}
