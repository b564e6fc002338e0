//! The kubelet and Docker on one worker.
//!
//! # Mechanism (Kubernetes v1.16, Docker 18.09)
//!
//! 1. The kubelet's pod watch (`fieldSelector spec.nodeName=<node>`) delivers the bound pod one
//!    network delay after the binding commits; `syncLoop` admits it and hands it to a pod worker,
//!    one goroutine per pod (pkg/kubelet/pod_workers.go).
//! 2. The pod worker's `syncPod` first reports the Pending status to the status manager, then
//!    waits for the pod's volumes: the service-account token Secret, which the node's first pod
//!    waits to be LISTed from the apiserver ([`crate::volume_manager`]); then it asks Docker
//!    for the sandbox: the pause container plus the CNI (Weave) network set-up.
//! 3. `EnsureImageExists` with `imagePullPolicy: Always` (the default for a `latest` tag) pulls
//!    every time. With `--serialize-image-pulls=true` (default) one puller serves the node's
//!    pods in turn (pkg/kubelet/images/puller.go `serialImagePuller`). A pull of a cached image
//!    still makes Docker's registry round trips ([`crate::spec::Runtime::registry_round_trips`]);
//!    the node's first pull also downloads the layers: at the node's own rate, or through its
//!    site's shared uplink when the site has one ([`crate::uplink`]). A pull refused by the
//!    `--registry-qps` limiter, or cut by its site's outage ([`crate::pull_outages`]), fails;
//!    the pod worker retries it after the image back-off ([`crate::image_backoff`]).
//! 4. Docker creates and starts the container. Docker's operations share the node's
//!    `runtime.slots`.
//! 5. PLEG relists every second (`plegRelistPeriod`, pkg/kubelet/kubelet.go), sees the container
//!    running, and the pod worker reports the Running status. The relists fall on a fixed grid
//!    whose phase is random per node; the model schedules only the relists that find something
//!    (the first grid tick after a container started), which gives the same times as ticking
//!    every second without the 5,000 x 3,600 idle events of an hour-long 5,000-node run.
//! 6. The status manager ([`crate::status_manager`]) is one goroutine that syncs statuses
//!    from its channel and, every 10 s, in a batch; each sync is a GET of the pod then a PATCH
//!    of its status, both through the kubelet's client limiter (`--kube-api-qps 5
//!    --kube-api-burst 10`). When it falls behind (long round trips, many pods), a stale Pending
//!    status still costs its two round trips unless a batch sent a newer one first.
//! 7. Events (Pulling, Pulled, Created, Started) go to the apiserver one at a time, as the
//!    broadcaster's sink writes them: each POST waits for its own limiter (`--event-qps 5
//!    --event-burst 10`) and then for its reply, and new events are dropped while 1,000 wait;
//!    they do not hold up the pod.
//! 8. The heartbeats (`kubelet/heartbeat.rs`): every 10 s the Lease controller PUTs the node's
//!    Lease, and the node status loop reads the Node from the apiserver's cache, PATCHing its
//!    status only on a change (the image list, after the first download) or once a minute;
//!    both on the unthrottled heartbeat client.

use rustc_hash::FxHashMap as HashMap;

use rand_distr::LogNormal;
use sim_core::limiter::TokenBucket;
use sim_core::rng::{uniform_within, SimRng};
use sim_core::server::FifoServer;
use sim_core::trace::Track;
use sim_core::{Component, ComponentId, Context, SimDuration, SimTime};

use crate::api::{CallLoss, Ev, Local, Obj, Phase, WatchEvent};
use crate::client::Client;
use crate::control_plane::{noise, sample};
use crate::draws::{pod_key, Purpose, STATUS_GOROUTINE};
use crate::image_backoff::PullRetry;
use crate::network::HostId;
use crate::pull_outages::{Outages, Transfer};
use crate::registry::RateWindows;
use crate::spec::{Kubelet as KubeletCfg, PullPolicy, Runtime};
use crate::status_manager::{StatusManager, Sync, STATUS_SYNC_PERIOD};
use crate::volume_manager;

mod balancer_outage;
mod heartbeat;
mod image_pull;
mod status;

/// The first call id of the events a kubelet posts (ids `0xC000_0000..`, wrapping within that
/// range); the main client's ids start at 0 and the heartbeat client's at 2^31.
const EVENT_ID_BASE: u32 = 0xC000_0000;

/// The first call id of the kubelet's heartbeat client (its node status and Lease calls).
pub const HEARTBEAT_ID_BASE: u32 = 1 << 31;

/// The events a kubelet's broadcaster holds for its sink before it drops new ones:
/// `maxQueuedEvents = 1000` (client-go tools/record/event.go, with
/// `watch.DropIfChannelFull`).
const EVENT_QUEUE: usize = 1000;

/// The period of the kubelet's sync loop ticker: `syncTicker := time.NewTicker(time.Second)` in
/// `syncLoop` (pkg/kubelet/kubelet.go, v1.16). Each tick hands the pod workers the pods whose
/// requeue time has come (`getPodsToSync`).
pub const SYNC_LOOP_PERIOD: SimDuration = SimDuration::from_secs(1);

/// Times of one pod's life on its node.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PodTimes {
    /// The watch delivered the bound pod.
    pub seen: Option<SimTime>,
    /// `WaitForAttachAndMount` returned: the pod's volumes are mounted.
    pub volumes: Option<SimTime>,
    /// Sandbox ready.
    pub sandbox: Option<SimTime>,
    /// Image pull started (the puller took it; its last attempt).
    pub pull_start: Option<SimTime>,
    /// Image pulls that failed ([`crate::pull_outages`]).
    pub pull_failures: u32,
    /// Image pull finished.
    pub pulled: Option<SimTime>,
    /// Container started.
    pub started: Option<SimTime>,
    /// PLEG noticed the container.
    pub pleg: Option<SimTime>,
    /// The status goroutine started the sync (GET) that sends the Running status.
    pub running_sync_start: Option<SimTime>,
    /// The Running status PATCH was sent.
    pub status_sent: Option<SimTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Sandbox(u32),
    Start(u32),
}

#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The status manager's GET, sent at the time given.
    StatusGet(Sync, SimTime),
    /// Its PATCH, with the time the GET was sent.
    StatusPatch(Sync, SimTime),
    /// The Secret reflector's first LIST.
    SecretList,
}

/// The node's watch-based cache of the pods' token Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecretCache {
    /// No pod referring to the Secret has been added: no reflector.
    Unregistered,
    /// The reflector's LIST is out.
    Listing,
    /// The LIST came back at this time.
    Synced(SimTime),
}

/// The trace name of one status sync (GET + PATCH) on the kubelet's `status manager` track:
/// `pod-17 Running: GET + PATCH`, or `hostNetwork pod 1 resync: GET + PATCH`.
pub fn status_span_name(sync: Sync) -> String {
    match sync {
        Sync::Pod(pod, Phase::Pending) => format!("pod-{pod} Pending: GET + PATCH"),
        Sync::Pod(pod, Phase::Waiting(n)) => format!("pod-{pod} waiting for its image ({n}): GET + PATCH"),
        Sync::Pod(pod, Phase::Running) => format!("pod-{pod} Running: GET + PATCH"),
        Sync::HostNetwork(k) => format!("hostNetwork pod {k} resync: GET + PATCH"),
    }
}

/// One worker's kubelet and container runtime.
#[derive(Debug)]
pub struct Kubelet {
    /// This worker's name (for traces).
    pub name: String,
    client: Client,
    events: TokenBucket,
    /// `--registry-qps` / `--registry-burst`: pulls that find no token fail at once.
    registry: TokenBucket,
    heartbeat: Client,
    runtime: FifoServer<Op>,
    puller: FifoServer<u32>,
    sandbox_time: SimDuration,
    start_time: SimDuration,
    cached_pull: SimDuration,
    /// The image's layers at the node's own rate: what a first pull adds to its round trips.
    download_time: SimDuration,
    /// With a registry on the overlay: the node's and the registry's hosts, whose route each
    /// pull's round trips are drawn over ([`Kubelet::with_overlay_route`]).
    overlay_route: Option<(HostId, HostId)>,
    /// The round trips of a pull (`runtime.registry_round_trips`).
    registry_round_trips: u32,
    pull_policy: PullPolicy,
    noise: Option<LogNormal<f64>>,
    /// The image is in Docker's store (a pull of it has ended, or the run began with it).
    image_present: bool,
    /// How the download of the image now in progress ends, if one is (no shared uplink).
    download: Option<Transfer>,
    /// When `degrade` faults on the route to a registry on the overlay hold the download
    /// below `download_bps`, and to what ([`crate::registry::RateWindows`]; no shared uplink:
    /// through one, the uplink applies them).
    download_windows: RateWindows,
    /// The site's shared uplink, when it has one: downloads go through it.
    uplink: Option<ComponentId>,
    /// When the site's way out (to the registry) is down.
    outages: Outages,
    /// Pods whose pull failed: their image back-off ([`crate::image_backoff`]).
    retries: HashMap<u32, PullRetry>,
    /// The image's layers, bits.
    image_bits: u64,
    /// The node's own download rate, bits per second (`runtime.download_bandwidth`).
    download_bps: f64,
    /// With an uplink: the pod whose pull is downloading the layers, if one is.
    downloading_pod: Option<u32>,
    /// With an uplink: pulls that started during that download (parallel pulls) and the end
    /// of their own registry round trips; they end with the download, or after those.
    download_waiters: Vec<(u32, SimTime)>,
    pleg_period: SimDuration,
    /// The pulls this node has asked Docker for, failed ones too (not those its registry
    /// limiter refused): the next one's key ([`pull_key`]).
    pulls_started: u32,
    /// Offset of this node's relist grid from time zero.
    pleg_phase: SimDuration,
    /// Whether a relist is scheduled.
    pleg_armed: bool,
    /// The Lease controller and the node status loop ([`heartbeat`]).
    heartbeats: heartbeat::Heartbeats,
    /// Containers started since the last relist.
    started_unseen: Vec<u32>,
    /// The status manager goroutine's queues; `status_busy` while its GET or PATCH is out.
    status: StatusManager,
    /// The status goroutine's own stream (Go's `select` and map order), apart from the pods'
    /// draws so that its choices never shift theirs.
    status_rng: SimRng,
    status_busy: bool,
    /// Offset of this node's `syncTicker` grid from time zero.
    status_tick_phase: SimDuration,
    /// Whether a ticker tick is scheduled.
    status_tick_armed: bool,
    /// Status syncs given up (connection lost, etcd timed out), with when, until the goroutine
    /// starts a sync of the same pod again ([`status`]).
    status_failed: Vec<(Sync, SimTime)>,
    /// How many status syncs were given up so, and how long their pods waited for the next
    /// try ([`Kubelet::status_failures`]).
    status_failures: u64,
    status_failure_wait: SimDuration,
    /// While the load balancer is down, from when the kubelet closes its connections until it
    /// is back ([`status`]).
    conns_closed: Vec<balancer_outage::Closed>,
    /// A status sync whose dial to the crashed balancer is still to give up, begun when.
    status_dialing: Option<(Sync, SimTime)>,
    /// Offset of this node's sync loop `syncTicker` grid from time zero.
    sync_tick_phase: SimDuration,
    pending: HashMap<u32, Pending>,
    /// Whether pods mount the token Secret (`kubernetes.kubelet.token_secret_volume`).
    token_secret_volume: bool,
    secret: SecretCache,
    /// Pods (and when they were added) whose mount waits for the Secret's LIST.
    awaiting_secret: Vec<(u32, SimTime)>,
    /// Phases of the volume manager's loops.
    volume_loops: volume_manager::Loops,
    /// Per-pod times, by pod index.
    pub times: HashMap<u32, PodTimes>,
    /// Events posted.
    pub events_posted: u64,
    /// Total time events waited from being recorded to being sent (the sink's queue and the
    /// event limiter).
    pub event_throttle: SimDuration,
    /// Events the broadcaster dropped, its queue full.
    pub events_dropped: u64,
    /// The event POST out, if one is (the sink writes one at a time).
    event_out: Option<u32>,
    /// When each event waiting for the sink was recorded.
    event_queue: std::collections::VecDeque<SimTime>,
}

impl Kubelet {
    /// A kubelet named `name` using `client` (main client), `heartbeat` (unthrottled), with
    /// registry round-trip time `registry_rtt`.
    ///
    /// # Panics
    ///
    /// If a kube-api, event or registry limiter setting is invalid (a QPS outside the token
    /// bucket's range, or a burst of 0); scenario checks reject those first.
    pub fn new(
        name: String,
        mut client: Client,
        heartbeat: Client,
        cfg: &KubeletCfg,
        rt: &Runtime,
        registry_rtt: SimDuration,
        cv: f64,
    ) -> Kubelet {
        client.limiter = TokenBucket::new(cfg.kube_api_qps, cfg.kube_api_burst).expect("checked kubelet QPS/burst");
        let cached_pull = registry_rtt * u64::from(rt.registry_round_trips);
        let download = SimDuration::from_secs_f64(rt.image_bytes as f64 * 8.0 / rt.download_bandwidth.bits_per_s);
        Kubelet {
            name,
            client,
            events: {
                let (qps, burst) = cfg.event_limits();
                TokenBucket::new(qps, burst).expect("checked event QPS/burst")
            },
            registry: if cfg.registry_qps == 0.0 {
                TokenBucket::unlimited()
            } else {
                TokenBucket::new(cfg.registry_qps, cfg.registry_burst).expect("checked registry QPS/burst")
            },
            heartbeat,
            runtime: FifoServer::new(rt.slots.max(1) as usize).expect("at least one slot"),
            // `--serialize-image-pulls=false` pulls in parallel: as many slots as a node could
            // ever have pods (far above `--max-pods`, 110), so no pull ever waits for another.
            puller: FifoServer::new(if cfg.serialize_image_pulls { 1 } else { 1 << 16 }).expect("at least one slot"),
            sandbox_time: rt.sandbox_time.get(),
            start_time: rt.container_start_time.get(),
            cached_pull,
            download_time: download,
            overlay_route: None,
            registry_round_trips: rt.registry_round_trips,
            pull_policy: rt.pull_policy,
            noise: noise(cv),
            image_present: rt.image_cached,
            download: None,
            download_windows: RateWindows::default(),
            uplink: None,
            outages: Outages::default(),
            retries: HashMap::default(),
            image_bits: rt.image_bytes.saturating_mul(8),
            download_bps: rt.download_bandwidth.bits_per_s,
            downloading_pod: None,
            download_waiters: Vec::new(),
            pleg_period: cfg.pleg_period.get(),
            pleg_phase: SimDuration::ZERO,
            pleg_armed: false,
            heartbeats: heartbeat::Heartbeats::new(cfg),
            started_unseen: Vec::new(),
            status: StatusManager::new(if cfg.host_network_status_resync {
                cfg.host_network_pods
            } else {
                0
            }),
            status_rng: sim_core::rng::seeded(0),
            status_busy: false,
            status_tick_phase: SimDuration::ZERO,
            status_tick_armed: false,
            status_failed: Vec::new(),
            status_failures: 0,
            status_failure_wait: SimDuration::ZERO,
            conns_closed: Vec::new(),
            status_dialing: None,
            sync_tick_phase: SimDuration::ZERO,
            pending: HashMap::default(),
            token_secret_volume: cfg.token_secret_volume,
            secret: SecretCache::Unregistered,
            awaiting_secret: Vec::new(),
            volume_loops: volume_manager::Loops::default(),
            times: HashMap::default(),
            pulls_started: 0,
            events_posted: 0,
            event_throttle: SimDuration::ZERO,
            events_dropped: 0,
            event_out: None,
            event_queue: std::collections::VecDeque::new(),
        }
    }

    /// The main client (for limiter statistics).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Time pods waited for the serialized puller, seconds.
    pub fn puller_wait_s(&self) -> f64 {
        self.puller.waits().sum()
    }

    /// Status syncs given up (connection lost, etcd timed out), and the time from each to the
    /// start of the next sync of its pod, seconds (syncs never tried again before the end of
    /// the run count in the first figure only).
    pub fn status_failures(&self) -> (u64, f64) {
        (self.status_failures, self.status_failure_wait.as_secs_f64())
    }

    /// Time Running statuses waited for the status goroutine (from the PLEG relist that set
    /// them to the start of their sync), seconds, and how many.
    pub fn status_wait(&self) -> (f64, u64) {
        // Summed in pod order: a hash map's iteration order varies between processes, and so
        // would the last bits of a floating-point sum.
        let mut waits: Vec<(u32, f64)> = self
            .times
            .iter()
            .filter_map(|(&pod, t)| Some((pod, (t.running_sync_start? - t.pleg?).as_secs_f64())))
            .collect();
        waits.sort_unstable_by_key(|w| w.0);
        waits.iter().fold((0.0, 0), |(sum, n), w| (sum + w.1, n + 1))
    }

    /// Time pods spent between a failed pull and their next attempt (the image back-off and
    /// the pod worker's requeue), seconds, summed in pod order.
    pub fn backoff_wait_s(&self) -> f64 {
        let mut waits: Vec<(u32, f64)> = self
            .retries
            .iter()
            .map(|(&pod, r)| (pod, r.waited.as_secs_f64()))
            .collect();
        waits.sort_unstable_by_key(|w| w.0);
        // (`Sum` of no f64 is -0.0.)
        waits.iter().fold(0.0, |sum, w| sum + w.1)
    }

    /// Time Docker operations waited for a runtime slot, seconds.
    pub fn runtime_wait_s(&self) -> f64 {
        self.runtime.waits().sum()
    }

    fn times(&mut self, pod: u32) -> &mut PodTimes {
        self.times.entry(pod).or_default()
    }

    /// Records an event. Events are fire-and-forget from the pod's point of view
    /// (`generateEvent` hands them to the broadcaster in a goroutine of their own); the
    /// broadcaster's sink goroutine writes them one at a time, each POST waiting for the
    /// event limiter and then for its reply (client-go tools/record `recordToSink`), and the
    /// broadcaster drops what finds its queue full.
    fn post_event(&mut self, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        if self.event_out.is_none() {
            return self.send_event(now, ctx);
        }
        if self.event_queue.len() >= EVENT_QUEUE {
            self.events_dropped += 1;
        } else {
            self.event_queue.push_back(now);
        }
    }

    /// The sink writes the event recorded at `recorded`.
    fn send_event(&mut self, recorded: SimTime, ctx: &mut Context<'_, Ev>) {
        let at = self.events.reserve(ctx.now());
        self.event_throttle += at - recorded;
        // Call ids of their own (the main client counts from 0, the heartbeat client from
        // 2^31), so that each event has its own keyed apiserver draw.
        let id = EVENT_ID_BASE | (self.events_posted as u32 & !EVENT_ID_BASE);
        self.events_posted += 1;
        let mut rng = ctx.keyed_rng(crate::draws::request_key(id));
        let (due, call) = self.client.conn.deliver(ctx.me(), id, Obj::Event, at, &mut rng);
        ctx.send_at(self.client.cp, due, Ev::ApiArrive(call));
        self.event_out = Some(id);
    }

    /// Sends `call` again after a `429 Too Many Requests`, through the limiter it first waited
    /// for: an event's through the event sink's, a heartbeat's through the heartbeat client,
    /// any other through the main client.
    fn send_again(&mut self, call: crate::api::ApiCall, ctx: &mut Context<'_, Ev>) {
        if call.id & EVENT_ID_BASE == EVENT_ID_BASE {
            crate::client::send_again(&self.client.conn, self.client.cp, &mut self.events, call, ctx);
        } else if call.id >= HEARTBEAT_ID_BASE {
            self.heartbeat.send_again(call, ctx);
        } else {
            self.client.send_again(call, ctx);
        }
    }

    /// A pod was added: its worker waits for its volumes (none but the token Secret), then
    /// asks Docker for the sandbox. With no volume `WaitForAttachAndMount` returns at once.
    fn mount_volumes(&mut self, pod: u32, ctx: &mut Context<'_, Ev>) {
        if !self.token_secret_volume {
            self.volumes_mounted(pod, ctx);
            return;
        }
        let now = ctx.now();
        match self.secret {
            SecretCache::Synced(at) => self.schedule_mount(pod, now, at, ctx),
            SecretCache::Listing => self.awaiting_secret.push((pod, now)),
            SecretCache::Unregistered => {
                // `RegisterPod` starts the Secret's reflector when the pod is added, before
                // its worker's first sync.
                let id = self.client.send(Obj::ListSecret, ctx);
                self.pending.insert(id, Pending::SecretList);
                self.secret = SecretCache::Listing;
                self.awaiting_secret.push((pod, now));
            }
        }
    }

    /// Schedules the end of `WaitForAttachAndMount` for a pod added at `added`, the node's
    /// Secret cache having synced at `synced`.
    fn schedule_mount(&mut self, pod: u32, added: SimTime, synced: SimTime, ctx: &mut Context<'_, Ev>) {
        let mounted = volume_manager::mounted_at(added, synced, self.volume_loops);
        let ready = volume_manager::wait_returns(added, mounted);
        ctx.send_at(ctx.me(), ready, Ev::Local(Local::VolumesMounted(pod)));
    }

    /// `WaitForAttachAndMount` returned for `pod`: on to the sandbox.
    /// Pulls nothing from the registry while the site's way out is down (`outages`: its router
    /// crashed, or the site isolated).
    pub fn with_outages(mut self, outages: Outages) -> Kubelet {
        self.outages = outages;
        self
    }

    /// Pulls from the registry on host `registry` of the overlay, over the route from the node's
    /// host `node` ([`crate::registry`]): each of a pull's round trips is drawn as the network
    /// carries it when it is made (netem's jitter and loss, the degradations then in force on
    /// the route's tunnels, [`crate::network::Network::round_trips_at`]), instead of the mean round trip
    /// `registry_rtt` given to [`Kubelet::new`].
    pub fn with_overlay_route(mut self, node: HostId, registry: HostId) -> Kubelet {
        self.overlay_route = Some((node, registry));
        self
    }

    /// A first pull's download, without a shared uplink, is held to each window's rate while
    /// it is in force (the `degrade` faults on the route to a registry on the overlay,
    /// [`crate::registry::NodePull::download_windows`]).
    pub fn with_download_windows(mut self, windows: RateWindows) -> Kubelet {
        self.download_windows = windows;
        self
    }

    /// Downloads the image's layers through the site's shared uplink `uplink` ([`crate::uplink`])
    /// instead of at the node's own rate alone.
    pub fn with_uplink(mut self, uplink: ComponentId) -> Kubelet {
        self.uplink = Some(uplink);
        self
    }

    fn volumes_mounted(&mut self, pod: u32, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        self.times(pod).volumes = Some(now);
        let seen = self.times(pod).seen;
        self.trace_span(pod, "volumes", seen, now, ctx);
        if let Some(op) = self.runtime.arrive(now, Op::Sandbox(pod)) {
            self.run_op(op, ctx);
        }
    }

    fn run_op(&mut self, op: Op, ctx: &mut Context<'_, Ev>) {
        let mean = match op {
            Op::Sandbox(_) => self.sandbox_time,
            Op::Start(_) => self.start_time,
        };
        let (pod, purpose) = match op {
            Op::Sandbox(p) => (p, Purpose::Sandbox),
            Op::Start(p) => (p, Purpose::ContainerStart),
        };
        let d = sample(mean, self.noise.as_ref(), &mut ctx.keyed_rng(pod_key(pod, purpose)));
        ctx.send_self(d, Ev::Local(Local::RuntimeDone(pod)));
    }

    /// Schedules the first relist strictly after now on this node's grid, if none is pending.
    fn arm_pleg(&mut self, ctx: &mut Context<'_, Ev>) {
        if self.pleg_armed {
            return;
        }
        self.pleg_armed = true;
        let next = ctx.now().next_tick(self.pleg_phase, self.pleg_period);
        ctx.send_at(ctx.me(), next, Ev::Local(Local::Pleg));
    }

    fn trace_span(
        &self,
        pod: u32,
        name: &'static str,
        start: Option<SimTime>,
        end: SimTime,
        ctx: &mut Context<'_, Ev>,
    ) {
        if let (true, Some(s)) = (ctx.tracer().enabled(), start) {
            let host = self.name.clone();
            ctx.tracer()
                .span(|| (Track::new(host, format!("pod-{pod}")), name.into(), "phase", s, end));
        }
    }
}

/// The kubelet's event handlers, one per kind of event (`on_event` dispatches).
impl Kubelet {
    /// The reply to call `id`: one of the heartbeat loops', or the main client's.
    fn any_reply(&mut self, id: u32, lost: Option<CallLoss>, ctx: &mut Context<'_, Ev>) {
        if !self.heartbeats.reply(id, &self.name, &mut self.heartbeat, ctx) {
            self.reply(id, lost, ctx);
        }
    }

    /// Draws the phases of the kubelet's periodic loops (PLEG, heartbeat, status ticks, volume
    /// manager, sync loop) relative to the experiment, and starts the heartbeat.
    fn start(&mut self, ctx: &mut Context<'_, Ev>) {
        // Phase of the PLEG loop and of the heartbeat relative to the experiment: random.
        self.pleg_phase = uniform_within(ctx.rng(), self.pleg_period);
        self.heartbeats.start(ctx);
        self.plan_closed_connections(ctx);
        self.status_tick_phase = uniform_within(ctx.rng(), STATUS_SYNC_PERIOD);
        let mut phase = |period: SimDuration| uniform_within(ctx.rng(), period);
        self.volume_loops = volume_manager::Loops {
            populator_phase: phase(volume_manager::POPULATOR_PERIOD),
            reconciler_phase: phase(volume_manager::RECONCILER_PERIOD),
        };
        // Drawn last, so that the draws before it are those of runs before it existed.
        self.sync_tick_phase = phase(SYNC_LOOP_PERIOD);
        self.status_rng = ctx.keyed_rng(STATUS_GOROUTINE);
    }

    /// A Docker operation of `pod` finished: its sandbox (then the image check follows) or its
    /// container's create and start (then PLEG will see it).
    fn runtime_done(&mut self, pod: u32, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        // Which operation finished: a pod whose sandbox is not recorded was in Sandbox.
        let sandbox_done = self.times(pod).sandbox.is_none();
        if let Some(next) = self.runtime.complete(now) {
            self.run_op(next, ctx);
        }
        if sandbox_done {
            self.times(pod).sandbox = Some(now);
            let mounted = self.times(pod).volumes;
            self.trace_span(pod, "sandbox", mounted, now, ctx);
            self.ensure_image(pod, ctx);
        } else {
            self.times(pod).started = Some(now);
            let pulled = self.times(pod).pulled;
            self.trace_span(pod, "create+start", pulled, now, ctx);
            self.started_unseen.push(pod);
            self.arm_pleg(ctx);
            self.post_event(ctx); // Created
            self.post_event(ctx); // Started
        }
    }

    /// A reply to one of the kubelet's own requests: the Secret's LIST, or a status sync's GET
    /// (the PATCH follows) or PATCH (the status goroutine takes its next sync). `lost`: how the
    /// call was lost while it was out, if it was; a status sync gives up on some such losses
    /// ([`Obj::fails_with`]).
    fn reply(&mut self, id: u32, lost: Option<CallLoss>, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        match self.pending.remove(&id) {
            Some(Pending::SecretList) => {
                self.secret = SecretCache::Synced(now);
                for (pod, added) in std::mem::take(&mut self.awaiting_secret) {
                    self.schedule_mount(pod, added, now, ctx);
                }
            }
            Some(Pending::StatusGet(sync, sent)) if lost.is_some_and(|l| status::get_of(sync).fails_with(l)) => {
                self.status_sync_failed(sync, sent, lost, ctx);
            }
            Some(Pending::StatusGet(sync, sent)) => {
                let id = self.client.send(status::patch_of(sync), ctx);
                self.pending.insert(id, Pending::StatusPatch(sync, sent));
                if let Sync::Pod(pod, Phase::Running) = sync {
                    self.times(pod).status_sent = Some(now);
                }
            }
            Some(Pending::StatusPatch(sync, sent)) if lost.is_some_and(|l| status::patch_of(sync).fails_with(l)) => {
                self.status_sync_failed(sync, sent, lost, ctx);
            }
            Some(Pending::StatusPatch(sync, sent)) => {
                if ctx.tracer().enabled() {
                    // The status manager's round trips, one span per sync: the goroutine
                    // that carries the injected delay at scale.
                    let host = self.name.clone();
                    let name = status_span_name(sync);
                    ctx.tracer()
                        .span(|| (Track::new(host, "status manager"), name.into(), "api", sent, now));
                }
                self.status.sent(sync);
                self.status_busy = false;
                self.next_status(ctx);
            }
            None => {}
        }
    }
}

impl Component<Ev> for Kubelet {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        match event {
            Ev::Local(Local::Start) => self.start(ctx),
            Ev::Watch(WatchEvent::PodBound { pod, .. }) => {
                self.times(pod).seen = Some(now);
                // `HandlePodAdditions` registers the pod (starting the Secret's reflector, whose
                // LIST goes out first); its worker's `syncPod` then reports Pending and waits
                // for the volumes.
                self.mount_volumes(pod, ctx);
                self.set_status(pod, Phase::Pending, ctx);
            }
            Ev::Local(Local::VolumesMounted(pod)) => self.volumes_mounted(pod, ctx),
            Ev::Local(Local::RuntimeDone(pod)) => self.runtime_done(pod, ctx),
            Ev::Local(Local::PullDone(pod)) => self.pull_done(pod, ctx),
            Ev::Local(Local::PullFailed(pod)) => self.pull_failed(pod, ctx),
            Ev::Local(Local::PodResync(pod)) => self.pod_resync(pod, ctx),
            Ev::Local(Local::Pleg) => {
                self.pleg_armed = false;
                for pod in std::mem::take(&mut self.started_unseen) {
                    self.times(pod).pleg = Some(now);
                    self.set_status(pod, Phase::Running, ctx);
                }
            }
            Ev::Local(Local::StatusTick) => {
                self.status_tick_armed = false;
                self.status.tick();
                self.next_status(ctx);
                if self.status.has_work() {
                    self.arm_status_tick(ctx);
                }
            }
            Ev::Local(Local::BalancerCrashed) => self.balancer_crashed(ctx),
            Ev::Local(Local::ConnectionsClosed) => self.connections_closed(ctx),
            Ev::Local(Local::StatusDialFailed) => {
                if let Some((sync, sent)) = self.status_dialing.take() {
                    self.status_sync_failed(sync, sent, Some(CallLoss::Closed), ctx);
                }
            }
            Ev::Local(Local::NodeStatus) => self.heartbeats.status_tick(&mut self.heartbeat, ctx),
            Ev::Local(Local::LeaseRenew) => self.heartbeats.lease_tick(&mut self.heartbeat, ctx),
            Ev::Rebind { master, host, from } => {
                self.client.rebind(master, host, from);
                self.heartbeat.rebind(master, host, from);
            }
            Ev::Reply { id, .. } if self.event_out == Some(id) => {
                self.event_out = None;
                if let Some(recorded) = self.event_queue.pop_front() {
                    self.send_event(recorded, ctx);
                }
            }
            Ev::Reply { id, lost, .. } => self.any_reply(id, lost, ctx),
            Ev::TooManyRequests(call) => self.send_again(call, ctx),
            _ => {}
        }
    }
}
