//! Assembles a scenario into a simulation, runs one replication, and collects what happened.
//!
//! The assembly's steps, in the order that [`build`] runs them, are in `cluster/assembly.rs`;
//! the collection of a finished run's [`RunOutcome`] is in `cluster/collect.rs`.

mod assembly;
mod attribution;
mod collect;

use serde::Serialize;
use sim_core::trace::Tracer;
use sim_core::{ComponentId, SimDuration, SimTime, Simulation};

use crate::api::Ev;
use crate::network::NetworkError;
use crate::spec::Scenario;
use assembly::{Assembly, Placement};
use collect::collect;

/// The kube-controller-manager's component name, as run reports and traces name it.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";

/// The kube-scheduler's component name, as run reports and traces name it.
pub const SCHEDULER: &str = "kube-scheduler";

/// Coefficient of variation of the service times (Docker operations, pulls, apiserver work).
/// Default 0.2: published Docker operation quantiles imply 0.04-0.17 (kubelet
/// `create_container` p50/p90 0.364/0.384 s, kubernetes issue #22585; dockerd container
/// create p50/p90/p99 88/102/132 ms, moby PR #25032), rounded up for a shared ESXi host. The
/// thesis reports only means, so its data cannot tell.
pub const SERVICE_TIME_CV: f64 = 0.2;

/// Errors in assembling a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The network could not be built.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The scenario lacks a part the model needs.
    #[error("scenario `{scenario}`: {message}")]
    Incomplete {
        /// Scenario name.
        scenario: String,
        /// What is missing.
        message: String,
    },
    /// A limiter setting is invalid.
    #[error("invalid client limiter: {0}")]
    Limiter(#[from] sim_core::limiter::LimiterError),
    /// A count the model is built from is out of its range.
    #[error("scenario `{scenario}`: `{field}` is {got}; expected {expected}")]
    OutOfRange {
        /// Scenario name.
        scenario: String,
        /// The setting's dotted path.
        field: &'static str,
        /// Its value.
        got: usize,
        /// What the model needs.
        expected: &'static str,
    },
    /// Replications did not finish within `workload.timeout` where a result needs every one
    /// of them (a mean over the others would understate the start-up).
    #[error("scenario `{scenario}`: {message}")]
    Unfinished {
        /// Scenario name.
        scenario: String,
        /// Which cell, how many replications, and what to do.
        message: String,
    },
    /// A replication stopped with its event queue full: work piled up faster than the model
    /// could do it. No scenario that passes the checks is known to get here (periodic work is
    /// one-at-a-time per component, and messages held past the run's end are not queued); the
    /// error keeps a future gap from becoming a crash.
    #[error(
        "scenario `{scenario}`: the run stopped at {at_s:.1} s of simulated time with {pending} events pending \
         at once, the engine's limit: work piles up faster than the modelled parts can do it; check the \
         scenario's periods, faults and scale, or shorten workload.timeout"
    )]
    EventFlood {
        /// Scenario name.
        scenario: String,
        /// Simulated time when it stopped, seconds.
        at_s: f64,
        /// Events pending then.
        pending: usize,
    },
}

/// One pod's timeline, in seconds from the `kubectl create deployment` request.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct PodTimeline {
    /// Pod index in creation order.
    pub pod: u32,
    /// Worker index it ran on.
    pub node: Option<u32>,
    /// Pod object committed.
    pub created: f64,
    /// Scheduler's decision.
    pub scheduled: Option<f64>,
    /// Binding committed.
    pub bound: Option<f64>,
    /// The kubelet's watch delivered it.
    pub kubelet_seen: Option<f64>,
    /// Its volumes were mounted (`WaitForAttachAndMount` returned; [`crate::volume_manager`]).
    pub volumes: Option<f64>,
    /// Sandbox ready.
    pub sandbox: Option<f64>,
    /// Image pull started (its last attempt, after any that failed).
    pub pull_start: Option<f64>,
    /// Image pulls that failed before it ([`crate::pull_outages`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub pull_failures: u32,
    /// Image pulled.
    pub pulled: Option<f64>,
    /// Container started.
    pub started: Option<f64>,
    /// Running status committed.
    pub running: Option<f64>,
    /// Running status seen by the kubectl watch.
    pub watched: Option<f64>,
    /// Deleted, evicted from a node that stopped reporting ([`crate::node_lifecycle`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evicted: Option<f64>,
}

/// Whether a count is zero (left out of the JSON).
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl PodTimeline {
    /// ClusterLoader2's `create_to_schedule`.
    pub fn create_to_schedule(&self) -> Option<f64> {
        Some(self.bound? - self.created)
    }
    /// ClusterLoader2's `schedule_to_run`.
    pub fn schedule_to_run(&self) -> Option<f64> {
        Some(self.started? - self.bound?)
    }
    /// ClusterLoader2's `run_to_watch`.
    pub fn run_to_watch(&self) -> Option<f64> {
        Some(self.watched? - self.started?)
    }
    /// ClusterLoader2's `pod_startup`.
    pub fn pod_startup(&self) -> Option<f64> {
        Some(self.watched? - self.created)
    }
}

/// Time spent waiting on one limiter or queue, summed over its users.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaitReport {
    /// What waits: e.g. `kubelet client (5 QPS, burst 10)`.
    pub name: String,
    /// Total waiting, seconds.
    pub total_s: f64,
    /// Requests or jobs that went through it.
    pub count: u64,
}

/// A client of the control plane connected again after losing its apiserver: a kubelet, the
/// observing kubectl, or a leader-elected controller whose lease a leader took again.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClientFailover {
    /// The client's component name (`kubelet/node03`, [`CONTROLLER_MANAGER`], ...).
    pub client: String,
    /// When it was connected again, s.
    pub at_s: f64,
    /// The master whose apiserver it is connected to.
    pub apiserver: String,
    /// The host it runs on from then: its own, but for a leader-elected controller whose
    /// standby on another master took the lease.
    pub runs_on: String,
}

impl ClientFailover {
    /// Whether the client is a leader-elected controller ([`CONTROLLER_MANAGER`],
    /// [`SCHEDULER`]), whose failover is a takeover of its lease.
    pub fn is_leader_elected(&self) -> bool {
        [CONTROLLER_MANAGER, SCHEDULER].contains(&self.client.as_str())
    }
}

/// What a fault did, in seconds from the start of the run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultReport {
    /// The fault, as the scenario wrote it.
    pub fault: String,
    /// When it happened.
    pub at_s: f64,
    /// When it was repaired, if it was.
    pub repair_s: Option<f64>,
    /// HAProxy marked the crashed apiserver down at this time (and up again), if it is one;
    /// of a network fault, the first master it cut off (every one is in `haproxy_marks`).
    pub haproxy_marked_down_s: Option<f64>,
    /// HAProxy marked it up again.
    pub haproxy_marked_up_s: Option<f64>,
    /// Every apiserver the fault took out that HAProxy marked down, in backend order: a site's
    /// isolation may cut off two masters.
    pub haproxy_marks: Vec<HaproxyMark>,
    /// Writes could commit again at this time, after the first stretch without them that the
    /// fault saw (under way when it began, begun while it lasted, or in the two election
    /// timeouts after its repair, when a member back from a partition deposes the leader): an
    /// etcd leader answered by a quorum again. `None` if writes never stopped, or had not
    /// resumed when the run ended.
    pub etcd_leader_back_s: Option<f64>,
    /// When that stretch without writes began (the quorum's last answer, or the stop that
    /// ended it), if there was one.
    pub etcd_stall_from_s: Option<f64>,
    /// Every stretch without writes the fault saw (the first is the one above): (from s, until
    /// s, `None` if writes had not resumed when the run ended).
    pub etcd_stalls: Vec<(f64, Option<f64>)>,
    /// Clients that failed over, in the order they were set off.
    pub failovers: Vec<ClientFailover>,
    /// Clients the fault set off that were not connected again (for a leader-elected
    /// controller: not led again) by the run's end, with when they would be: a standby pinned
    /// to a crashed apiserver waits for TCP to give its connection up, well after most runs
    /// end. A client that never reconnects is in neither list.
    pub failovers_after_run: Vec<ClientFailover>,
    /// Pods created while the fault lasted.
    pub pods_created_during: u32,
    /// Pods whose Running status committed while the fault lasted.
    pub pods_running_during: u32,
    /// Pods evicted while it lasted (or after, if never repaired): from nodes it silenced for
    /// good ([`crate::node_lifecycle`]).
    pub pods_evicted: u32,
    /// What the node lifecycle controller wrote to the nodes from the fault's start until the
    /// next fault's (or the run's end): the nodes it silenced marked NotReady after
    /// `--node-monitor-grace-period`, tainted `NoExecute` at `--node-eviction-rate`, and Ready
    /// again once heard from.
    pub node_marks: NodeMarks,
    /// The run had ended (every pod Running, or the time-out) before the fault happened: it
    /// changed nothing, and nothing above is reported for it.
    pub after_run: bool,
}

/// The node lifecycle controller's writes of one kind ([`NodeMarks`]): how many nodes, and
/// the first and last write, seconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct NodeMarkSpan {
    /// Nodes written (a node written twice counts twice).
    pub nodes: u32,
    /// The first write.
    pub first_s: Option<f64>,
    /// The last write.
    pub last_s: Option<f64>,
}

impl NodeMarkSpan {
    fn add(&mut self, t: f64) {
        self.nodes += 1;
        self.first_s = Some(self.first_s.map_or(t, |f| f.min(t)));
        self.last_s = Some(self.last_s.map_or(t, |l| l.max(t)));
    }
}

/// What the node lifecycle controller wrote to the nodes during a fault ([`FaultReport`]).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct NodeMarks {
    /// Marked NotReady (`Ready=Unknown`, tainted `unreachable:NoSchedule`).
    pub not_ready: NodeMarkSpan,
    /// Tainted `unreachable:NoExecute`: their pods evicted a toleration (300 s) later.
    pub no_execute: NodeMarkSpan,
    /// Ready again, their taints removed.
    pub ready_again: NodeMarkSpan,
}

impl NodeMarks {
    /// Adds a write of `mark` at `t` seconds.
    pub(crate) fn add(&mut self, mark: crate::node_lifecycle::Mark, t: f64) {
        use crate::node_lifecycle::Mark;
        match mark {
            Mark::NotReady => self.not_ready.add(t),
            Mark::NoExecute => self.no_execute.add(t),
            Mark::Ready => self.ready_again.add(t),
        }
    }
}

/// HAProxy's view of one apiserver a fault took out.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HaproxyMark {
    /// The master.
    pub apiserver: String,
    /// When HAProxy marked it down.
    pub down_s: f64,
    /// When it marked it up again, if it did within the run.
    pub up_s: Option<f64>,
}

/// etcd's leadership through one run, simulated message by message ([`crate::raft`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EtcdReport {
    /// Leaders elected after the first.
    pub elections: u64,
    /// Stretches during which no write could commit: (from s, until s), `until` `None` if
    /// writes had not resumed when the run ended.
    pub write_stalls: Vec<(f64, Option<f64>)>,
    /// Total time without writes within the run, seconds (a stretch still open counted to the
    /// run's end). Derived from `write_stalls` when the run ends; not in the JSON, which has
    /// the stretches.
    #[serde(skip)]
    pub stalled_s: f64,
}

impl EtcdReport {
    /// The report of `write_stalls` in a run that ended at `end_s`.
    fn new(elections: u64, write_stalls: Vec<(f64, Option<f64>)>, end_s: f64) -> EtcdReport {
        let stalled_s = write_stalls
            .iter()
            .map(|&(a, b)| (b.unwrap_or(end_s).min(end_s) - a).max(0.0))
            .sum::<f64>()
            // An empty sum is -0.0, which prints as "-0.00".
            + 0.0;
        EtcdReport {
            elections,
            write_stalls,
            stalled_s,
        }
    }
}

/// What one apiserver's max-in-flight filter saw in a replication
/// ([`crate::control_plane`]): the most requests it held at once against
/// `--max-requests-inflight` and `--max-mutating-requests-inflight`, and its refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InFlight {
    /// The most read-only requests (GET, LIST) held at once.
    pub peak_read_only: u32,
    /// The most mutating requests held at once.
    pub peak_mutating: u32,
    /// Requests answered `429 Too Many Requests` (each refusal counts).
    pub refused: u64,
}

/// Everything one replication produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// Exact time from the create request until kubectl saw the last pod Running, seconds.
    pub startup_exact_s: Option<f64>,
    /// The same as the thesis's observer read it: whole seconds from a clock of random phase.
    pub startup_observed_s: Option<f64>,
    /// Every pod's timeline.
    pub pods: Vec<PodTimeline>,
    /// Waiting per limiter and queue.
    pub waits: Vec<WaitReport>,
    /// Slow-start batches of the ReplicaSet controller: (start s, size).
    pub batches: Vec<(f64, u32)>,
    /// Events handled.
    pub events: u64,
    /// Simulated time at the end, seconds.
    pub sim_end_s: f64,
    /// API requests handled per apiserver.
    pub requests_per_apiserver: Vec<u64>,
    /// What each apiserver's max-in-flight filter saw, in the backends' order.
    pub in_flight: Vec<InFlight>,
    /// etcd commit latency of a write entering at each apiserver, seconds.
    pub commit_latency_s: Vec<f64>,
    /// What each fault did.
    pub faults: Vec<FaultReport>,
    /// etcd's elections in this run, when they were simulated (`None`: nothing could change
    /// who leads, so the first leader led throughout).
    pub etcd: Option<EtcdReport>,
    /// The trace, when asked for.
    #[serde(skip)]
    pub trace: Option<Tracer>,
}

impl RunOutcome {
    /// Every client failover the faults set off, fault by fault.
    pub fn failovers(&self) -> impl Iterator<Item = &ClientFailover> {
        self.faults.iter().flat_map(|f| &f.failovers)
    }

    /// The pods that count for the deployment: every pod but those evicted (deleted from a node
    /// that stopped reporting, [`crate::node_lifecycle`]; their replacements count instead).
    pub fn counted_pods(&self) -> impl Iterator<Item = &PodTimeline> {
        self.pods.iter().filter(|p| p.evicted.is_none())
    }
}

/// The component ids of an assembled run.
#[derive(Debug, Clone)]
pub struct Parts {
    /// The control plane.
    pub cp: ComponentId,
    /// The controller-manager.
    pub kcm: ComponentId,
    /// The scheduler.
    pub scheduler: ComponentId,
    /// Kubelets by worker index.
    pub kubelets: Vec<ComponentId>,
    /// kubectl.
    pub kubectl: ComponentId,
}

fn incomplete(s: &Scenario, m: impl Into<String>) -> ModelError {
    ModelError::Incomplete {
        scenario: s.name.clone(),
        message: m.into(),
    }
}

/// A scenario made ready to run: its network built (links, tunnels, routes from the hosts all
/// Kubernetes traffic goes through) and its hosts found in it, once for all its replications.
/// The network depends on the scenario only, and at hundreds of sites building it costs more
/// than a small replication (BENCHMARKS.md, "Scale: many sites").
pub struct Prepared<'a> {
    scenario: &'a Scenario,
    place: Placement<'a>,
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("scenario", &self.scenario.name)
            .finish_non_exhaustive()
    }
}

/// Builds `scenario`'s network and finds its hosts, for [`Prepared::build`] and
/// [`Prepared::run`].
///
/// # Errors
///
/// [`ModelError`] when the scenario lacks a load balancer, masters or workers, names hosts
/// that do not exist, or gives a client limiter or a count the model cannot run with.
/// (`topologies` checks scenarios fully before this is called; these are the settings whose
/// violation would otherwise stop the model half-built.)
pub fn prepare(scenario: &Scenario) -> Result<Prepared<'_>, ModelError> {
    check_settings(scenario)?;
    Ok(Prepared {
        scenario,
        place: Placement::resolve(scenario)?,
    })
}

/// The most apiservers (`haproxy.backends` entries) the model numbers: it keeps a client's
/// apiserver in a byte, 0 to 255.
pub const MAX_BACKENDS: usize = u8::MAX as usize + 1;

/// Refuses the client limiters and the counts the model's parts are built from when they
/// cannot be: every client's QPS and burst (as [`sim_core::limiter::TokenBucket::new`]
/// takes them), the apiserver's workers, the runtime's slots, HAProxy's `rise` and `fall`
/// (at least 1), and its backends (at most [`MAX_BACKENDS`]).
fn check_settings(s: &Scenario) -> Result<(), ModelError> {
    use sim_core::limiter::TokenBucket;
    let k = &s.kubernetes;
    let (event_qps, event_burst) = k.kubelet.event_limits();
    TokenBucket::new(k.kubelet.kube_api_qps, k.kubelet.kube_api_burst)?;
    TokenBucket::new(event_qps, event_burst)?;
    if k.kubelet.registry_qps != 0.0 {
        TokenBucket::new(k.kubelet.registry_qps, k.kubelet.registry_burst)?;
    }
    TokenBucket::new(k.scheduler.kube_api_qps, k.scheduler.kube_api_burst)?;
    TokenBucket::new(k.controller_manager.kube_api_qps, k.controller_manager.kube_api_burst)?;
    let out_of_range = |field, got: usize, expected| ModelError::OutOfRange {
        scenario: s.name.clone(),
        field,
        got,
        expected,
    };
    let counts = [
        ("kubernetes.apiserver.workers", k.apiserver.workers),
        ("runtime.slots", s.runtime.slots),
        ("haproxy.rise", s.haproxy.rise),
        ("haproxy.fall", s.haproxy.fall),
    ];
    if let Some(&(field, _)) = counts.iter().find(|c| c.1 == 0) {
        return Err(out_of_range(field, 0, "at least 1"));
    }
    if s.haproxy.backends.len() > MAX_BACKENDS {
        return Err(out_of_range(
            "haproxy.backends",
            s.haproxy.backends.len(),
            "at most 256 entries",
        ));
    }
    Ok(())
}

/// `variant` made ready to run, reusing `base`'s network when the two differ only in their
/// faults (each of `plan --drills`' failures is the scenario plus one fault): the same outcome
/// as [`prepare`]`(variant)`, without routing the network again. Otherwise it is
/// [`prepare`]`(variant)`.
///
/// # Errors
///
/// As [`prepare`].
pub fn prepare_variant<'b>(base: &Prepared<'_>, variant: &'b Scenario) -> Result<Prepared<'b>, ModelError> {
    if !assembly::same_but_faults(base.scenario, variant) {
        return prepare(variant);
    }
    Ok(Prepared {
        scenario: variant,
        place: Placement::for_variant(&base.place, variant)?,
    })
}

impl Prepared<'_> {
    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        self.scenario
    }

    /// Builds the simulation seeded with `seed` (as [`build`]).
    ///
    /// # Errors
    ///
    /// As [`build`].
    pub fn build(&self, seed: u64, trace: bool) -> Result<(Simulation<Ev>, Parts), ModelError> {
        assemble(self.scenario, seed, trace, &self.place)
    }

    /// Runs one replication with run seed `seed` (as [`run`]).
    ///
    /// # Errors
    ///
    /// As [`build`].
    pub fn run(&self, seed: u64, trace: bool) -> Result<RunOutcome, ModelError> {
        let (mut sim, parts) = self.build(seed, trace)?;
        let scenario = self.scenario;
        sim.run_until(SimTime::ZERO + scenario.workload.timeout.get());
        check_flood(&sim, scenario)?;
        Ok(collect(&mut sim, &parts, scenario, seed))
    }
}

/// Builds the simulation of `scenario` seeded with `seed`. To run several replications, use
/// [`prepare`] once and [`Prepared::build`] for each.
///
/// # Errors
///
/// [`ModelError`] when the scenario lacks a load balancer, masters or workers, or names hosts
/// that do not exist. (`topologies` checks scenarios fully before this is called.)
pub fn build(scenario: &Scenario, seed: u64, trace: bool) -> Result<(Simulation<Ev>, Parts), ModelError> {
    prepare(scenario)?.build(seed, trace)
}

/// The simulation of `scenario` on `place`, seeded with `seed`.
fn assemble(
    scenario: &Scenario,
    seed: u64,
    trace: bool,
    place: &Placement<'_>,
) -> Result<(Simulation<Ev>, Parts), ModelError> {
    // The steps run in the order components are created, connections are handed out and
    // events are scheduled (`assembly`'s module docs).
    let mut a = Assembly::new(scenario, seed, trace, place)?;
    // kube-controller-manager and kube-scheduler leaders run on the first master and reach the
    // apiservers through the balancer (kubeadm 1.16 kubeconfigs; docs/sources.md §6).
    let kcm = a.add_controller_manager()?;
    let scheduler = a.add_scheduler(place.workers.len())?;
    let images = a.add_image_sources(&place.workers)?;
    let (kubelets, kubelet_watch) = a.add_kubelets(&place.workers, &images)?;
    let kubectl = a.add_kubectl(place.kubectl_host)?;
    a.register_clients(&kcm, &scheduler, &kubectl, &kubelets, kubelet_watch);
    a.set_up_etcd();
    a.plan_faults(&place.workers)?;
    a.schedule_starts(&kubelets, kubectl.id)?;
    let cp = a.cp;
    Ok((
        a.into_simulation(),
        Parts {
            cp,
            kcm: kcm.id,
            scheduler: scheduler.id,
            kubelets,
            kubectl: kubectl.id,
        },
    ))
}

/// Runs one replication of `scenario` with run seed `seed`. To run several, use [`prepare`]
/// once and [`Prepared::run`] for each: the outcome is the same.
///
/// # Errors
///
/// See [`build`].
pub fn run(scenario: &Scenario, seed: u64, trace: bool) -> Result<RunOutcome, ModelError> {
    prepare(scenario)?.run(seed, trace)
}

/// [`ModelError::EventFlood`] if `sim` stopped with its event queue full.
///
/// # Errors
///
/// When [`Simulation::overflowed`].
pub fn check_flood(sim: &Simulation<Ev>, scenario: &Scenario) -> Result<(), ModelError> {
    if !sim.overflowed() {
        return Ok(());
    }
    Err(ModelError::EventFlood {
        scenario: scenario.name.clone(),
        at_s: sim.now().as_secs_f64(),
        pending: sim.pending(),
    })
}

/// `t` in seconds.
fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

/// A scenario with the workload and the injected delay overridden (what `--pods` and `--delay`
/// do).
pub fn with_overrides(scenario: &Scenario, pods: Option<u32>, delay: Option<SimDuration>) -> Scenario {
    let mut s = scenario.clone();
    if let Some(p) = pods {
        s.workload.replicas = p;
    }
    if let Some(d) = delay {
        s.netem.delay = crate::units::Dur(d);
    }
    s
}
