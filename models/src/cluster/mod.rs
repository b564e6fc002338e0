//! Assembles a scenario into a simulation, runs one replication, and collects what happened.
//!
//! The assembly's steps, in the order that [`build`] runs them, are in `cluster/assembly.rs`.

mod assembly;

use rand::Rng;
use serde::Serialize;
use sim_core::trace::Tracer;
use sim_core::{ComponentId, SimDuration, SimTime, Simulation};

use crate::api::Ev;
use crate::control_plane::ControlPlane;
use crate::controllers::ControllerManager;
use crate::kubelet::Kubelet;
use crate::network::NetworkError;
use crate::observer::Kubectl;
use crate::scheduler::Scheduler;
use crate::spec::Scenario;
use assembly::{Assembly, Placement};

/// Coefficient of variation of the service times (Docker operations, pulls, apiserver work).
/// Default 0.2: published Docker operation quantiles imply 0.05-0.17 (kubelet
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

/// What a fault did, in seconds from the start of the run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultReport {
    /// The fault, as the scenario wrote it.
    pub fault: String,
    /// When it happened.
    pub at_s: f64,
    /// When it was repaired, if it was.
    pub repair_s: Option<f64>,
    /// HAProxy marked the crashed apiserver down at this time (and up again), if it is one.
    pub haproxy_marked_down_s: Option<f64>,
    /// HAProxy marked it up again.
    pub haproxy_marked_up_s: Option<f64>,
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
    /// Clients that failed over: (client, reconnected at s, new apiserver).
    pub failovers: Vec<(String, f64, String)>,
    /// Pods created while the fault lasted.
    pub pods_created_during: u32,
    /// Pods whose Running status committed while the fault lasted.
    pub pods_running_during: u32,
    /// Pods evicted while it lasted (or after, if never repaired): from nodes it silenced for
    /// good ([`crate::node_lifecycle`]).
    pub pods_evicted: u32,
    /// The run had ended (every pod Running, or the time-out) before the fault happened: it
    /// changed nothing, and nothing above is reported for it.
    pub after_run: bool,
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

/// Builds the simulation of `scenario` seeded with `seed`.
///
/// # Errors
///
/// [`ModelError`] when the scenario lacks a load balancer, masters or workers, or names hosts
/// that do not exist. (`topologies` checks scenarios fully before this is called.)
pub fn build(scenario: &Scenario, seed: u64, trace: bool) -> Result<(Simulation<Ev>, Parts), ModelError> {
    // The steps run in the order components are created, connections are handed out and
    // events are scheduled (`assembly`'s module docs).
    let place = Placement::resolve(scenario)?;
    let mut a = Assembly::new(scenario, seed, trace, &place)?;
    // kube-controller-manager and kube-scheduler leaders run on the first master and reach the
    // apiservers through the balancer (kubeadm 1.16 kubeconfigs; docs/sources.md §6).
    let kcm = a.add_controller_manager()?;
    let scheduler = a.add_scheduler(place.workers.len())?;
    let images = a.add_image_sources(&place.workers)?;
    let (kubelets, kubelet_watch) = a.add_kubelets(&place.workers, &images)?;
    let kubectl = a.add_kubectl(place.kubectl_host)?;
    a.register_clients(&kcm, &scheduler, &kubectl, &kubelets, kubelet_watch);
    a.set_up_etcd();
    a.plan_faults()?;
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

/// Runs one replication of `scenario` with run seed `seed`.
///
/// # Errors
///
/// See [`build`].
pub fn run(scenario: &Scenario, seed: u64, trace: bool) -> Result<RunOutcome, ModelError> {
    let (mut sim, parts) = build(scenario, seed, trace)?;
    sim.run_until(SimTime::ZERO + scenario.workload.timeout.get());
    check_flood(&sim, scenario)?;
    Ok(collect(&mut sim, &parts, scenario, seed))
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

fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

fn collect(sim: &mut Simulation<Ev>, parts: &Parts, scenario: &Scenario, seed: u64) -> RunOutcome {
    // etcd's elections up to the run's end (they are simulated as far as the run asked).
    let end = sim.now();
    let etcd = sim
        .component_mut::<ControlPlane>(parts.cp)
        .expect("control plane")
        .etcd_history(end)
        .map(|(elections, stalls)| {
            let write_stalls = stalls
                .into_iter()
                .map(|(a, b)| (secs(a), (b != SimTime::MAX && b <= end).then(|| secs(b))))
                .collect();
            EtcdReport::new(elections, write_stalls, secs(end))
        });
    let cp = sim.component::<ControlPlane>(parts.cp).expect("control plane");
    let kubectl = sim.component::<Kubectl>(parts.kubectl).expect("kubectl");
    let sched = sim.component::<Scheduler>(parts.scheduler).expect("scheduler");
    let kcm = sim
        .component::<ControllerManager>(parts.kcm)
        .expect("controller-manager");
    let kubelets: Vec<&Kubelet> = parts
        .kubelets
        .iter()
        .map(|&k| sim.component::<Kubelet>(k).expect("kubelet"))
        .collect();
    let store = &cp.store;
    let mut pods = Vec::with_capacity(store.pods.len());
    for (i, &(node, _)) in store.pods.iter().enumerate() {
        let p = i as u32;
        let kt = node
            .and_then(|n| kubelets[n as usize].times.get(&p).copied())
            .unwrap_or_default();
        pods.push(PodTimeline {
            pod: p,
            node,
            created: secs(store.created_at[i]),
            scheduled: sched.decided_at.get(i).copied().flatten().map(secs),
            bound: store.bound_at[i].map(secs),
            kubelet_seen: kt.seen.map(secs),
            volumes: kt.volumes.map(secs),
            sandbox: kt.sandbox.map(secs),
            pull_start: kt.pull_start.map(secs),
            pull_failures: kt.pull_failures,
            pulled: kt.pulled.map(secs),
            started: kt.started.map(secs),
            running: store.running_at[i].map(secs),
            watched: kubectl.running_seen.get(i).copied().flatten().map(secs),
            evicted: store.deleted_at[i].map(secs),
        });
    }
    let k = &scenario.kubernetes;
    let status_waits: Vec<(f64, u64)> = kubelets.iter().map(|k| k.status_wait()).collect();
    let mut waits = vec![
        WaitReport {
            name: format!(
                "controller-manager clients ({} QPS, burst {} each)",
                k.controller_manager.kube_api_qps, k.controller_manager.kube_api_burst
            ),
            total_s: kcm.clients().iter().map(|c| c.throttled().as_secs_f64()).sum(),
            count: kcm.clients().iter().map(|c| c.sent).sum(),
        },
        WaitReport {
            name: format!(
                "scheduler client ({} QPS, burst {})",
                k.scheduler.kube_api_qps, k.scheduler.kube_api_burst
            ),
            total_s: sched.client().throttled().as_secs_f64(),
            count: sched.client().sent,
        },
        WaitReport {
            name: format!(
                "kubelet clients ({} QPS, burst {})",
                k.kubelet.kube_api_qps, k.kubelet.kube_api_burst
            ),
            total_s: kubelets.iter().map(|k| k.client().throttled().as_secs_f64()).sum(),
            count: kubelets.iter().map(|k| k.client().sent).sum(),
        },
        WaitReport {
            name: format!(
                "kubelet event sinks (one POST at a time, {} QPS, burst {})",
                k.kubelet.event_qps, k.kubelet.event_burst
            ),
            total_s: kubelets.iter().map(|k| k.event_throttle.as_secs_f64()).sum(),
            count: kubelets.iter().map(|k| k.events_posted).sum(),
        },
        WaitReport {
            name: "kubelet status goroutines (Running statuses queued)".into(),
            total_s: status_waits.iter().map(|w| w.0).sum(),
            count: status_waits.iter().map(|w| w.1).sum(),
        },
        WaitReport {
            name: "kubelet volume managers (token Secret LIST, 300 ms mount poll)".into(),
            total_s: pods.iter().filter_map(|p| Some(p.volumes? - p.kubelet_seen?)).sum(),
            count: pods.iter().filter(|p| p.volumes.is_some()).count() as u64,
        },
        WaitReport {
            name: "image back-off after failed pulls (ErrImagePull)".into(),
            total_s: kubelets.iter().map(|k| k.backoff_wait_s()).sum(),
            count: pods.iter().map(|p| u64::from(p.pull_failures)).sum(),
        },
        WaitReport {
            name: "serialized image puller queue".into(),
            total_s: kubelets.iter().map(|k| k.puller_wait_s()).sum(),
            count: pods.iter().filter(|p| p.pulled.is_some()).count() as u64,
        },
        WaitReport {
            name: format!("Docker runtime queue ({} slots)", scenario.runtime.slots),
            total_s: kubelets.iter().map(|k| k.runtime_wait_s()).sum(),
            count: 2 * pods.iter().filter(|p| p.started.is_some()).count() as u64,
        },
        WaitReport {
            name: format!("apiserver queues ({} workers each)", k.apiserver.workers),
            total_s: cp.stats.iter().map(|s| s.queue_wait_s).sum(),
            count: cp.stats.iter().map(|s| s.requests).sum(),
        },
    ];
    waits.retain(|w| w.total_s.is_finite());
    for w in &mut waits {
        // Rust sums no floats to -0.0, which reports print as "-0.00": a wait of nothing is 0.
        w.total_s += 0.0;
    }
    let exact = kubectl.done_at.map(secs);
    // The observer's wall clock phase: its own stream, so it never shifts the model's numbers.
    let phase: f64 = sim_core::rng::named_stream(seed, "observer-clock-phase").random();
    let observed = kubectl.observed_at_resolution(phase, scenario.workload.resolution.secs_f64());
    let trace = sim.tracer().enabled().then(|| sim.tracer().clone());
    let faults = fault_reports(sim, parts, scenario, etcd.as_ref());
    RunOutcome {
        startup_exact_s: exact,
        startup_observed_s: observed,
        pods,
        waits,
        batches: kcm.batches.iter().map(|&(t, n)| (secs(t), n)).collect(),
        events: sim.events_processed(),
        sim_end_s: secs(sim.now()),
        requests_per_apiserver: cp.stats.iter().map(|s| s.requests).collect(),
        commit_latency_s: (0..cp.stats.len())
            .map(|i| cp.commit_latency(i).as_secs_f64())
            .collect(),
        faults,
        etcd,
        trace,
    }
}

fn fault_reports(
    sim: &Simulation<Ev>,
    parts: &Parts,
    scenario: &Scenario,
    etcd: Option<&EtcdReport>,
) -> Vec<FaultReport> {
    let cp = sim.component::<ControlPlane>(parts.cp).expect("control plane");
    let masters = &scenario.haproxy.backends;
    // What the fault set off is planned ahead (HAProxy's marks, the failovers); only what
    // happened before the run ended is reported.
    let end = sim.now();
    let secs_opt = |t: SimTime| (t != SimTime::MAX && t <= end).then(|| t.as_secs_f64());
    scenario
        .faults
        .iter()
        .map(|f| {
            let (start, fault_end) = f.window();
            let in_window = |t: &SimTime| *t >= start && *t < fault_end;
            // The master the fault takes out: the one it crashes, or the first one it cuts off
            // from the balancer.
            let master = match f {
                crate::spec::Fault::Crash { host, .. } => masters.iter().position(|m| m == host),
                _ => (0..masters.len()).find(|&m| cp.plan.unreachable[m].iter().any(|w| w.0 == start)),
            };
            // Its own mark-down comes before its repair and the check that finds it (a later
            // fault's does not count).
            let marked = master
                .and_then(|m| cp.plan.marked_down_after(m, start))
                .filter(|w| w.0 <= end && w.0 < fault_end + scenario.haproxy.inter.get());
            // The first stall under way at the fault or begun while it lasted, or in the two
            // election timeouts after its repair: a member back from a partition deposes the
            // leader then (etcd 3.3 has no pre-vote).
            // One the fault cut off starts at the quorum's last answer, at most about a
            // heartbeat before it (answers come every tick); one begun earlier is another
            // fault's.
            let election = scenario.kubernetes.etcd.election_timeout.get().as_secs_f64();
            let heartbeat = scenario.kubernetes.etcd.heartbeat.get().as_secs_f64();
            let (from, until) = (start.as_secs_f64(), fault_end.as_secs_f64() + 2.0 * election);
            let seen: Vec<(f64, Option<f64>)> = etcd
                .map(|e| {
                    e.write_stalls
                        .iter()
                        .filter(|w| w.1.is_none_or(|b| b > from) && w.0 < until && w.0 >= from - 2.0 * heartbeat)
                        .copied()
                        .collect()
                })
                .unwrap_or_default();
            let stall = seen.first();
            let leader_back = stall.and_then(|w| w.1);
            let failovers = cp
                .failovers
                .iter()
                // A fault that takes out one master claims the failovers away from it; two
                // faults starting together then each list their own.
                .filter(|fo| fo.lost_at == start && master.is_none_or(|m| fo.from_master as usize == m))
                .filter(|fo| fo.reconnect_at <= end)
                .map(|fo| {
                    (
                        sim.name(fo.client).unwrap_or("?").to_owned(),
                        fo.reconnect_at.as_secs_f64(),
                        masters.get(fo.to_master as usize).cloned().unwrap_or_default(),
                    )
                })
                .collect();
            FaultReport {
                fault: format!("{f:?}"),
                at_s: start.as_secs_f64(),
                repair_s: (fault_end != SimTime::MAX).then(|| fault_end.as_secs_f64()),
                haproxy_marked_down_s: marked.map(|w| w.0.as_secs_f64()),
                haproxy_marked_up_s: marked.and_then(|w| secs_opt(w.1)),
                etcd_leader_back_s: leader_back,
                etcd_stall_from_s: stall.map(|w| w.0),
                etcd_stalls: seen.clone(),
                failovers,
                pods_created_during: cp.store.created_at.iter().filter(|t| in_window(t)).count() as u32,
                pods_running_during: cp.store.running_at.iter().flatten().filter(|t| in_window(t)).count() as u32,
                pods_evicted: cp.store.deleted_at.iter().flatten().filter(|t| in_window(t)).count() as u32,
                after_run: start > end,
            }
        })
        .collect()
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
