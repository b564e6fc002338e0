//! The scenario: everything a run needs, as plain data (loaded from TOML by `topologies`).
//!
//! Every default names its source: a Kubernetes v1.16 flag default (see `docs/sources.md` for
//! the file in the Kubernetes tree), another software's documentation, a measurement of the
//! testbed, or "calibrated" (a parameter no source gives, which `kubetwin calibrate` fits within
//! the stated range).

use serde::{Deserialize, Serialize};

use crate::units::{Bandwidth, Dur};

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name shown in reports.
    pub name: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Network segments (universities, or VLANs of one testbed).
    pub sites: Vec<Site>,
    /// Machines.
    pub hosts: Vec<Host>,
    /// Physical or virtual links between hosts and routers.
    pub links: Vec<Link>,
    /// The OpenVPN site-to-site overlay.
    #[serde(default)]
    pub vpn: Vpn,
    /// The load balancer in front of the apiservers.
    pub haproxy: Haproxy,
    /// Kubernetes component settings.
    #[serde(default)]
    pub kubernetes: Kubernetes,
    /// Container runtime, registry and image.
    #[serde(default)]
    pub runtime: Runtime,
    /// What is started and how it is observed.
    #[serde(default)]
    pub workload: Workload,
    /// Delay injected with `tc netem`.
    #[serde(default)]
    pub netem: Netem,
    /// Faults injected during the run, turmoil-style: something fails at `at` and, optionally,
    /// is repaired at `repair`.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

/// One fault: what fails, when, and when (if ever) it is repaired. The verbs follow turmoil's:
/// a host *crashes*, a tunnel is *partitioned*, a site is *isolated*; each may be repaired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    rename_all = "kebab-case",
    tag = "kind",
    deny_unknown_fields,
    try_from = "crate::fault_toml::FaultRecord"
)]
pub enum Fault {
    /// A host stops: the load balancer (no request reaches any apiserver), a master (its
    /// apiserver and etcd member), or a router (its site is cut off).
    Crash {
        /// The host's name.
        host: String,
        /// When, from the start of the run (the `kubectl create`).
        at: Dur,
        /// When it is back; never if absent.
        #[serde(default)]
        repair: Option<Dur>,
    },
    /// The etcd member that leads raft stops; its apiserver stays up but cannot serve.
    CrashEtcdLeader {
        /// When.
        at: Dur,
        /// When it is back.
        #[serde(default)]
        repair: Option<Dur>,
    },
    /// The OpenVPN tunnel between two sites stops carrying packets.
    Partition {
        /// One site.
        a: String,
        /// The other site.
        b: String,
        /// When.
        at: Dur,
        /// When it carries packets again.
        #[serde(default)]
        repair: Option<Dur>,
    },
    /// The tunnel between two sites gets worse: extra delay, jitter and loss, as `tc netem`
    /// would add them, while the fault lasts.
    Degrade {
        /// One site.
        a: String,
        /// The other site.
        b: String,
        /// Extra one-way delay (both directions).
        #[serde(default)]
        delay: Dur,
        /// Extra jitter (standard deviation, normal).
        #[serde(default)]
        jitter: Dur,
        /// Extra loss in percent.
        #[serde(default)]
        loss_pct: f64,
        /// When.
        at: Dur,
        /// When it is back to normal.
        #[serde(default)]
        repair: Option<Dur>,
    },
    /// A site's uplink fails: every tunnel to it stops.
    IsolateSite {
        /// The site.
        site: String,
        /// When.
        at: Dur,
        /// When it is back.
        #[serde(default)]
        repair: Option<Dur>,
    },
}

impl Fault {
    /// When the fault starts.
    pub fn at(&self) -> Dur {
        match self {
            Fault::Crash { at, .. }
            | Fault::CrashEtcdLeader { at, .. }
            | Fault::Partition { at, .. }
            | Fault::Degrade { at, .. }
            | Fault::IsolateSite { at, .. } => *at,
        }
    }

    /// When it is repaired, if ever.
    pub fn repair(&self) -> Option<Dur> {
        match self {
            Fault::Crash { repair, .. }
            | Fault::CrashEtcdLeader { repair, .. }
            | Fault::Partition { repair, .. }
            | Fault::Degrade { repair, .. }
            | Fault::IsolateSite { repair, .. } => *repair,
        }
    }

    /// The fault's window on the simulated clock: `[at, repair)`, open-ended if never repaired.
    pub fn window(&self) -> (sim_core::SimTime, sim_core::SimTime) {
        let start = sim_core::SimTime::ZERO + self.at().get();
        let end = self
            .repair()
            .map_or(sim_core::SimTime::MAX, |r| sim_core::SimTime::ZERO + r.get());
        (start, end)
    }
}
/// A network segment with its router.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Name, e.g. `vlan10`.
    pub name: String,
    /// The router host of this site (also its OpenVPN endpoint).
    pub router: String,
    /// Address prefix, informational (e.g. `192.168.10.0/24`).
    #[serde(default)]
    pub prefix: String,
    /// Round-trip time from this site to the image registry (Docker Hub), over the site's own
    /// internet uplink (not through the tunnels). Calibrated: no source gives the testbed's
    /// RTT to Docker Hub; range 5 ms .. 300 ms.
    #[serde(default)]
    pub registry_rtt: Option<Dur>,
    /// The site's internet uplink, which its nodes' image downloads share (fair shares, each
    /// download also held to `runtime.download_bandwidth`; [`crate::uplink`]). Unset: no shared
    /// bottleneck, each node downloads at its own rate. The thesis does not give its uplinks, so
    /// `thesis-2019` leaves it unset; `kubetwin generate consortium` sets the site's access
    /// bandwidth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink: Option<Bandwidth>,
    /// Latitude in degrees, for geographic scenarios.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude in degrees, for geographic scenarios.
    #[serde(default)]
    pub longitude: Option<f64>,
}

impl Role {
    /// The name scenario files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::LoadBalancer => "load-balancer",
            Role::Master => "master",
            Role::Worker => "worker",
            Role::Router => "router",
            Role::Client => "client",
        }
    }
}

/// The part a host plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// HAProxy in front of the apiservers.
    LoadBalancer,
    /// Control-plane node: apiserver, etcd member, scheduler, controller-manager.
    Master,
    /// Worker node: kubelet and Docker.
    Worker,
    /// Site router and OpenVPN endpoint.
    Router,
    /// The operator's machine running kubectl.
    Client,
}

/// A machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Unique name, e.g. `master01`.
    pub name: String,
    /// The site it sits in.
    pub site: String,
    /// Its role.
    pub role: Role,
    /// Address, informational.
    #[serde(default)]
    pub address: String,
}

/// What kind of medium a link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// A LAN or a host's attachment to its site router.
    #[default]
    Lan,
    /// The underlay between routers (the "internet" VLAN 0 in the thesis). Hosts behind
    /// different routers cannot use it directly: only routers' tunnels cross it.
    Wan,
}

/// A bidirectional link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// One end (host or router name).
    pub a: String,
    /// The other end.
    pub b: String,
    /// One-way propagation delay.
    pub delay: Dur,
    /// Capacity.
    #[serde(default = "default_link_bandwidth")]
    pub bandwidth: Bandwidth,
    /// Packet loss in percent (each direction).
    #[serde(default)]
    pub loss_pct: f64,
    /// LAN or WAN underlay.
    #[serde(default)]
    pub kind: LinkKind,
}

fn default_link_bandwidth() -> Bandwidth {
    // The thesis's VMs share one ESXi host's virtual switch; vmxnet3 advertises 10 Gbit/s.
    Bandwidth { bits_per_s: 10e9 }
}

/// Which router pairs have tunnels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum VpnTopology {
    /// A tunnel between every pair of site routers.
    #[default]
    FullMesh,
    /// Tunnels only between the hub site's router and every other router.
    HubAndSpoke {
        /// The hub site's name.
        hub: String,
    },
}

/// OpenVPN 2.3 site-to-site settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Vpn {
    /// Whether the tunnels are up (tables 4.6 vs 4.7 of the thesis). Default true, the testbed as
    /// the thesis ran its experiment (table 4.7: every machine reaches every other).
    pub enabled: bool,
    /// Tunnel layout.
    #[serde(default)]
    pub topology: VpnTopology,
    /// Bytes added to each packet: outer IPv4 (20) + UDP (8) + packet id and time (8, static-key
    /// mode, which VyOS's `mode site-to-site` uses) + HMAC-SHA1 (20) + BF-CBC IV (8) + 1-8
    /// bytes of CBC padding (4.5 on average); OpenVPN 2.3's defaults `--cipher BF-CBC --auth
    /// SHA1` (openvpn(8) manual). Default 68 (`docs/sources.md` §9).
    pub overhead_bytes: u32,
    /// Tunnel MTU: OpenVPN's default `--tun-mtu 1500` (openvpn(8)).
    pub tun_mtu: u32,
    /// Throughput of the router's single-threaded crypto (OpenVPN runs in one thread). Default
    /// 200 Mbit/s, assumed from a published measurement (not of the testbed): 213 Mbit/s for
    /// BF-CBC through OpenVPN in a KVM VM with one core
    /// saturated (cubewerk.de, "OpenVPN cipher performance benchmark", 2018; about 300 Mbit/s
    /// with AES-NI and AES-256-CBC). Pod start-up data cannot identify it (the control plane's
    /// messages are small); an `iperf3` through the tunnel measures it.
    pub crypto_throughput: Bandwidth,
    /// `--ping`: keepalive interval; `keepalive 10 60` is the manual's recommended helper.
    pub ping: Dur,
    /// `--ping-restart`: the tunnel restarts after this long without a packet (60 s from
    /// `keepalive 10 60`; the server side doubles it).
    pub ping_restart: Dur,
}

impl Default for Vpn {
    fn default() -> Self {
        Vpn {
            enabled: true,
            topology: VpnTopology::FullMesh,
            overhead_bytes: 68,
            tun_mtu: 1500,
            crypto_throughput: Bandwidth { bits_per_s: 200e6 },
            ping: Dur::secs(10),
            ping_restart: Dur::secs(60),
        }
    }
}

/// HAProxy 1.8 in TCP mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Haproxy {
    /// The host running HAProxy (the kubeadm control-plane endpoint).
    pub host: String,
    /// Backend servers (masters), in configuration order; `balance roundrobin` walks them.
    pub backends: Vec<String>,
    /// `inter`: time between health checks; HAProxy's default 2000 ms (configuration manual 5.2).
    #[serde(default = "default_inter")]
    pub inter: Dur,
    /// `rise`: consecutive successful checks to mark a server up; default 2.
    #[serde(default = "default_rise")]
    pub rise: u32,
    /// `fall`: consecutive failed checks to mark a server down; default 3.
    #[serde(default = "default_fall")]
    pub fall: u32,
    /// Time HAProxy spends splicing one message through (TCP mode, no parsing). Default 50 µs:
    /// HAProxy's sizing guide (doc/intro.txt §3.6) gives 83,000 TCP connections/s on one core,
    /// about 12 µs of CPU each with 85 % of it in the kernel; rounded up for a VM's virtual NIC.
    /// Too small to matter next to the network, and not identifiable from pod start-up data.
    #[serde(default = "default_proxy_time")]
    pub proxy_time: Dur,
}

fn default_inter() -> Dur {
    Dur::millis(2000)
}
fn default_rise() -> u32 {
    2
}
fn default_fall() -> u32 {
    3
}
fn default_proxy_time() -> Dur {
    Dur(sim_core::SimDuration::from_micros(50))
}

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
    /// (no request: 100) and weave-net 2.6 (`weave` and `weave-npc` request 10 each).
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
    /// Requests handled at once per apiserver. The flag `--max-requests-inflight` (400) only
    /// rejects beyond that; what serializes requests is CPU. Default 2: the thesis does not give
    /// the masters' vCPU count and kubeadm's minimum is 2 CPUs (kubeadm preflight check).
    pub workers: u32,
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
    /// recommends 500 sequential IOPS, "a typical local SSD or a high performance virtualized
    /// block device", and its FAQ asks for a `wal_fsync_duration_seconds` p99 under 10 ms. Not
    /// identifiable from start-up data.
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
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler {
            kube_api_qps: 50.0,
            kube_api_burst: 100,
            cycle_base: Dur::millis(1),
            cycle_per_node: Dur(sim_core::SimDuration::from_micros(20)),
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
    /// `--node-status-update-frequency`, default 10 s.
    pub node_status_update: Dur,
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

impl Kubelet {
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
            host_network_pods: 2,
            host_network_status_resync: true,
            max_pods: 110,
            token_secret_volume: true,
        }
    }
}

/// Docker, the registry and the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Runtime {
    /// Docker operations (sandbox, create, start) that run at once on a node. dockerd itself runs
    /// them all at once; they share the node's CPUs, which the model approximates as this many
    /// parallel slots, one per vCPU. Assumed 2, like [`Node::cpu_millis`]: the thesis does not
    /// give the worker VMs' size.
    pub slots: u32,
    /// Creating the pod sandbox: pause container and CNI (Weave) set-up. Calibratable
    /// (`calibrate --free`, range 0.2 s .. 5 s); the shipped calibration leaves it at its
    /// default, 1.5 s: kubelet's `run_podsandbox` operation metric has been reported at 2.6 s
    /// mean (kwok issue #199) and 4.8 s under a density test's load (kubernetes issue #66672).
    pub sandbox_time: Dur,
    /// Creating and starting the nginx container. Calibratable (`calibrate --free`, range
    /// 0.2 s .. 5 s); the shipped calibration leaves it at its default, 1.0 s: kubelet's
    /// `create_container` p50 0.36 s (kubernetes issue #22585) and `start_container` mean 0.47 s
    /// (v1.13, kubelet-exporter issue #5), 0.8 s together, rounded up for a shared ESXi host.
    pub container_start_time: Dur,
    /// Size of the image's layers to download on a node's first pull. nginx:latest (Debian
    /// based, 2019) is about 51 MB compressed on Docker Hub.
    pub image_bytes: u64,
    /// Download throughput from the registry on a first pull. Calibrated: range 1 .. 1000 Mbit.
    pub download_bandwidth: Bandwidth,
    /// TCP connections a first pull downloads over at once: Docker 18.09 fetches up to
    /// `--max-concurrent-downloads` layers at once (dockerd default 3), one connection each, and
    /// nginx:1.17 (2019) has two large layers (the debian:buster-slim base and the nginx
    /// install) and a small one, so 2. On a lossy route to a registry on the overlay each
    /// connection moves at most what TCP moves at that loss and round trip
    /// ([`crate::registry::tcp_rate_under_loss`]).
    pub layer_connections: u32,
    /// Registry round trips per pull when the image is cached: Docker 18.09 opens a new TCP+TLS
    /// connection per request (keep-alive off for registry traffic) and makes 4 requests (ping,
    /// token, manifest HEAD/GET): 4 x (1 TCP + 2 TLS 1.2 + 1 request) = 16 (docs/sources.md §10).
    pub registry_round_trips: u32,
    /// Registry RTT for sites that do not set their own. Calibrated: range 5 ms .. 300 ms.
    pub registry_rtt: Dur,
    /// A host of the scenario that serves the image: a private registry or a pull-through
    /// mirror on the overlay (`docker run registry:2`), reached through the simulated network.
    /// Each node's registry RTT is then its route's round trip, netem included, instead of
    /// `registry_rtt`; its download rate is held to the route's bottleneck; the registry
    /// site's `uplink`, if declared, is shared by the downloads of every node outside that
    /// site; and a pull meets the faults on its route ([`crate::pull_outages::overlay`]).
    /// Unset or `""` (the default): Docker Hub, over each site's own internet uplink (`""` lets
    /// a sweep compare the two: `--set 'runtime.registry_host="",master01'`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "empty_is_none")]
    pub registry_host: Option<String>,
    /// `imagePullPolicy`: `Always` for a `latest` tag (the apiserver's defaulting).
    pub pull_policy: PullPolicy,
    /// The image is already in every worker's image store when a run starts (pre-pulled, or
    /// left by an earlier run: kubelet image GC only removes images above
    /// `--image-gc-high-threshold`, 85 % disk, so a repeated experiment finds it there unless
    /// the operator removed it). Default false, a fresh node whose first pull downloads the
    /// layers: the thesis does not say, and its 4-pod start-up needs a download per node in
    /// every run (`docs/validation.md`, "The data").
    pub image_cached: bool,
}

/// An optional name where `""` also means none.
fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name: Option<String> = Option::deserialize(d)?;
    Ok(name.filter(|n| !n.is_empty()))
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            slots: 2,
            sandbox_time: Dur::millis(1500),
            container_start_time: Dur::millis(1000),
            image_bytes: 51_000_000,
            download_bandwidth: Bandwidth { bits_per_s: 20e6 },
            layer_connections: 2,
            registry_round_trips: 16,
            registry_rtt: Dur::millis(100),
            registry_host: None,
            pull_policy: PullPolicy::Always,
            image_cached: false,
        }
    }
}

/// When the kubelet asks the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum PullPolicy {
    /// Every pod start contacts the registry.
    Always,
    /// Only when the image is absent.
    IfNotPresent,
}

/// What is started and how it is watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    /// Image, for reports (`nginx`).
    pub image: String,
    /// Pods after `kubectl scale`. A scenario choice (`--pods` sets it); default 4, the thesis's
    /// smallest cell.
    pub replicas: u32,
    /// Host where the operator runs kubectl (the observer); the first `haproxy.backends` entry
    /// if empty.
    pub kubectl_host: Option<String>,
    /// Time between the `create deployment` reply and the start of `kubectl scale`'s
    /// connection (a new kubectl process, [`crate::observer`]). Assumed 0.3 s: a cached `kubectl
    /// get` takes 0.04 s on a local cluster (kubernetes issue #73570), so most of this is the
    /// operator or script starting the next command; not identifiable from whole-second data.
    pub scale_gap: Dur,
    /// Resolution of the observation: `kubectl get -w` timestamps read in whole seconds.
    pub resolution: Dur,
    /// Give up after this much simulated time. A run-control limit, not part of the model:
    /// default 1 h, far past the few minutes the shipped scenarios take, so only a run that
    /// cannot finish (a fault that stops the rollout) meets it.
    pub timeout: Dur,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            image: "nginx".into(),
            replicas: 4,
            kubectl_host: None,
            scale_gap: Dur::millis(300),
            resolution: Dur::secs(1),
            timeout: Dur::secs(3600),
        }
    }
}

/// Where `tc netem` adds delay between the control-plane site and the worker sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NetemPlacement {
    /// On traffic leaving the control-plane site toward workers (one `tc` on the masters'
    /// side).
    MastersEgress,
    /// On traffic leaving the worker sites toward the control plane.
    WorkersEgress,
    /// Both directions, as a longer link would add it. The default; `docs/model.md` argues why.
    #[default]
    Both,
}

impl NetemPlacement {
    /// The name scenario files use.
    pub fn as_str(self) -> &'static str {
        match self {
            NetemPlacement::MastersEgress => "masters-egress",
            NetemPlacement::WorkersEgress => "workers-egress",
            NetemPlacement::Both => "both",
        }
    }
}

/// `tc qdisc ... netem delay D J distribution normal loss L%` between masters and workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Netem {
    /// Added one-way delay.
    pub delay: Dur,
    /// Jitter (standard deviation of a normal distribution, as `distribution normal`).
    pub jitter: Dur,
    /// Loss in percent.
    pub loss_pct: f64,
    /// Which direction(s).
    pub placement: NetemPlacement,
    /// The near side: the site whose tunnels carry the rule (`masters-egress` is traffic leaving
    /// it). The control-plane site if absent.
    pub near: Option<String>,
    /// The far sides: only tunnels between `near` and these sites; every other site if empty.
    pub far: Vec<String>,
}

impl Netem {
    /// Reads the arguments of `tc qdisc ... netem` that kubetwin models:
    /// `delay TIME [JITTER [CORRELATION]] [distribution normal] [loss PERCENT%]`.
    ///
    /// # Errors
    ///
    /// A message naming the word that is not understood.
    pub fn parse_tc(&mut self, args: &str) -> Result<(), String> {
        let words: Vec<&str> = args.split_whitespace().collect();
        for (k, w) in words.iter().enumerate() {
            if matches!(*w, "delay" | "distribution" | "loss") && words[..k].contains(w) {
                return Err(format!("netem `{args}`: `{w}` is given twice; give it once"));
            }
        }
        let mut i = 0;
        let dur = |w: &str| w.parse::<Dur>().map_err(|e| format!("netem `{args}`: {e}"));
        while i < words.len() {
            match words[i] {
                "delay" => {
                    let d = words
                        .get(i + 1)
                        .ok_or_else(|| format!("netem `{args}`: `delay` needs a time"))?;
                    self.delay = dur(d)?;
                    i += 2;
                    if let Some(j) = words.get(i).filter(|w| w.starts_with(|c: char| c.is_ascii_digit())) {
                        self.jitter = dur(j)?;
                        i += 1;
                        // netem's delay correlation (`delay 100ms 10ms 25%`) is not modelled:
                        // refused rather than dropped without a word.
                        if let Some(c) = words.get(i).filter(|w| w.ends_with('%')) {
                            return Err(format!(
                                "netem `{args}`: the delay correlation `{c}` is not modelled (jitter is drawn independently for each message); give the delay and the jitter only"
                            ));
                        }
                    }
                }
                "distribution" => match words.get(i + 1) {
                    Some(&"normal") => i += 2,
                    other => {
                        return Err(format!(
                            "netem `{args}`: only `distribution normal` is modelled, got {}",
                            other.map_or("nothing".to_owned(), |w| format!("`{w}`"))
                        ))
                    }
                },
                "loss" => {
                    let w = words
                        .get(i + 1)
                        .ok_or_else(|| format!("netem `{args}`: `loss` needs a percentage"))?;
                    let v: f64 = w
                        .trim_end_matches('%')
                        .parse()
                        .map_err(|_| format!("netem `{args}`: expected a loss like `0.1%`, got `{w}`"))?;
                    if !(0.0..100.0).contains(&v) {
                        return Err(format!(
                            "netem `{args}`: loss must be at least 0 and below 100 % (100 % is a partition: use a fault), got {v}"
                        ));
                    }
                    self.loss_pct = v;
                    i += 2;
                }
                w => {
                    return Err(format!(
                        "netem `{args}`: `{w}` is not understood; expected delay, distribution normal or loss"
                    ))
                }
            }
        }
        Ok(())
    }
}

impl Default for Netem {
    fn default() -> Self {
        Netem {
            delay: Dur::default(),
            jitter: Dur::default(),
            loss_pct: 0.0,
            placement: NetemPlacement::Both,
            near: None,
            far: Vec::new(),
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

    #[test]
    fn tc_netem_arguments_parse() {
        let mut n = Netem::default();
        n.parse_tc("delay 100ms 10ms distribution normal loss 0.1%").unwrap();
        assert_eq!(
            (n.delay, n.jitter, n.loss_pct),
            (Dur::millis(100), Dur::millis(10), 0.1)
        );
        let mut n = Netem::default();
        n.parse_tc("delay 300ms 20ms loss 1%").unwrap();
        assert_eq!(
            (n.delay, n.jitter, n.loss_pct),
            (Dur::millis(300), Dur::millis(20), 1.0)
        );
        // What the model does not have is refused, not dropped: a delay correlation, a keyword
        // given twice (tc would keep one of them), 100 % loss (a partition).
        let mut n = Netem::default();
        assert!(n
            .parse_tc("delay 300ms 20ms 25%")
            .unwrap_err()
            .contains("correlation `25%` is not modelled"));
        assert!(n
            .parse_tc("delay 100ms delay 200ms")
            .unwrap_err()
            .contains("`delay` is given twice"));
        assert!(n.parse_tc("loss 100%").unwrap_err().contains("partition"));
        assert!(n.parse_tc("delay 100").unwrap_err().contains("needs a unit"));
        assert!(n
            .parse_tc("delay 1ms distribution pareto")
            .unwrap_err()
            .contains("distribution normal"));
        assert!(n.parse_tc("rate 1mbit").unwrap_err().contains("`rate`"));
        assert!(n.parse_tc("loss 120%").unwrap_err().contains("below 100 %"));
    }
}
