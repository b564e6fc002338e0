//! Collects what one finished replication produced ([`RunOutcome`]) from its components: etcd's
//! elections, every pod's timeline, the waits at each limiter and queue, the observed start-up,
//! and what each fault did.

use rand::Rng;
use sim_core::{SimTime, Simulation};

use super::{secs, ClientFailover, EtcdReport, FaultReport, Parts, PodTimeline, RunOutcome, WaitReport};
use crate::api::Ev;
use crate::control_plane::ControlPlane;
use crate::controllers::ControllerManager;
use crate::kubelet::Kubelet;
use crate::observer::Kubectl;
use crate::scheduler::Scheduler;
use crate::spec::Scenario;

/// The outcome of the run `sim` has finished.
pub(super) fn collect(sim: &mut Simulation<Ev>, parts: &Parts, scenario: &Scenario, seed: u64) -> RunOutcome {
    let etcd = etcd_report(sim, parts);
    let c = Components::of(sim, parts);
    let pods = pod_timelines(&c);
    let waits = wait_reports(&c, scenario, &pods);
    let exact = c.kubectl.done_at.map(secs);
    let observed = observed_startup(c.kubectl, scenario, seed);
    let trace = sim.tracer().enabled().then(|| sim.tracer().clone());
    let faults = fault_reports(sim, parts, scenario, etcd.as_ref());
    RunOutcome {
        startup_exact_s: exact,
        startup_observed_s: observed,
        pods,
        waits,
        batches: c.kcm.batches.iter().map(|&(t, n)| (secs(t), n)).collect(),
        events: sim.events_processed(),
        sim_end_s: secs(sim.now()),
        requests_per_apiserver: c.cp.stats.iter().map(|s| s.requests).collect(),
        in_flight: c
            .cp
            .stats
            .iter()
            .map(|s| super::InFlight {
                peak_read_only: s.peak_in_flight[0],
                peak_mutating: s.peak_in_flight[1],
                refused: s.refused,
            })
            .collect(),
        commit_latency_s: (0..c.cp.stats.len())
            .map(|i| c.cp.commit_latency(i).as_secs_f64())
            .collect(),
        faults,
        etcd,
        trace,
    }
}

/// The components a run's outcome is read from.
struct Components<'a> {
    /// The control plane.
    cp: &'a ControlPlane,
    /// kubectl.
    kubectl: &'a Kubectl,
    /// The scheduler.
    sched: &'a Scheduler,
    /// The controller-manager.
    kcm: &'a ControllerManager,
    /// Kubelets by worker index.
    kubelets: Vec<&'a Kubelet>,
}

impl<'a> Components<'a> {
    /// The components of `parts` in `sim`.
    fn of(sim: &'a Simulation<Ev>, parts: &Parts) -> Components<'a> {
        Components {
            cp: sim.component::<ControlPlane>(parts.cp).expect("control plane"),
            kubectl: sim.component::<Kubectl>(parts.kubectl).expect("kubectl"),
            sched: sim.component::<Scheduler>(parts.scheduler).expect("scheduler"),
            kcm: sim
                .component::<ControllerManager>(parts.kcm)
                .expect("controller-manager"),
            kubelets: parts
                .kubelets
                .iter()
                .map(|&k| sim.component::<Kubelet>(k).expect("kubelet"))
                .collect(),
        }
    }
}

/// etcd's elections up to the run's end (they are simulated as far as the run asked), if they
/// were simulated.
fn etcd_report(sim: &mut Simulation<Ev>, parts: &Parts) -> Option<EtcdReport> {
    let end = sim.now();
    sim.component_mut::<ControlPlane>(parts.cp)
        .expect("control plane")
        .etcd_history(end)
        .map(|(elections, stalls)| {
            let write_stalls = stalls
                .into_iter()
                .map(|(a, b)| (secs(a), (b != SimTime::MAX && b <= end).then(|| secs(b))))
                .collect();
            EtcdReport::new(elections, write_stalls, secs(end))
        })
}

/// Every pod's timeline, in creation order: the store's commits, the scheduler's decision, its
/// kubelet's steps and kubectl's watch.
fn pod_timelines(c: &Components<'_>) -> Vec<PodTimeline> {
    let store = &c.cp.store;
    let mut pods = Vec::with_capacity(store.pods.len());
    for (i, &(node, _)) in store.pods.iter().enumerate() {
        let p = i as u32;
        let kt = node
            .and_then(|n| c.kubelets[n as usize].times.get(&p).copied())
            .unwrap_or_default();
        pods.push(PodTimeline {
            pod: p,
            node,
            created: secs(store.created_at[i]),
            scheduled: c.sched.decided_at.get(i).copied().flatten().map(secs),
            bound: store.bound_at[i].map(secs),
            kubelet_seen: kt.seen.map(secs),
            volumes: kt.volumes.map(secs),
            sandbox: kt.sandbox.map(secs),
            pull_start: kt.pull_start.map(secs),
            pull_failures: kt.pull_failures,
            pulled: kt.pulled.map(secs),
            started: kt.started.map(secs),
            running: store.running_at[i].map(secs),
            watched: c.kubectl.running_seen.get(i).copied().flatten().map(secs),
            evicted: store.deleted_at[i].map(secs),
        });
    }
    pods
}

/// The waits at every limiter and queue, in report order: the API clients' limiters, then the
/// kubelets' own queues, then the apiservers'. Waits that are not finite are left out.
fn wait_reports(c: &Components<'_>, scenario: &Scenario, pods: &[PodTimeline]) -> Vec<WaitReport> {
    let mut waits = client_waits(c, scenario);
    if let Some((total_s, count)) = c.cp.lifecycle_client_wait() {
        // Only runs with faults have the node lifecycle controller.
        let cm = &scenario.kubernetes.controller_manager;
        waits.insert(
            1,
            WaitReport {
                name: format!(
                    "node lifecycle controller client ({} QPS, burst {})",
                    cm.kube_api_qps, cm.kube_api_burst
                ),
                total_s,
                count,
            },
        );
    }
    waits.extend(kubelet_waits(c, scenario, pods));
    waits.push(apiserver_wait(c, scenario));
    waits.retain(|w| w.total_s.is_finite());
    for w in &mut waits {
        // Rust sums no floats to -0.0, which reports print as "-0.00": a wait of nothing is 0.
        w.total_s += 0.0;
    }
    waits
}

/// The waits at the API clients' limiters (controller-manager, scheduler, kubelets) and at the
/// kubelets' event sinks.
fn client_waits(c: &Components<'_>, scenario: &Scenario) -> Vec<WaitReport> {
    let k = &scenario.kubernetes;
    let (kcm, sched, kubelets) = (c.kcm, c.sched, &c.kubelets);
    vec![
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
            name: {
                let (qps, burst) = k.kubelet.event_limits();
                format!("kubelet event sinks (one POST at a time, {qps} QPS, burst {burst})")
            },
            total_s: kubelets.iter().map(|k| k.event_throttle.as_secs_f64()).sum(),
            count: kubelets.iter().map(|k| k.events_posted).sum(),
        },
    ]
}

/// The waits in the kubelets' own queues: status goroutines, volume managers, image back-off,
/// the serialized puller and the Docker runtime.
fn kubelet_waits(c: &Components<'_>, scenario: &Scenario, pods: &[PodTimeline]) -> Vec<WaitReport> {
    let kubelets = &c.kubelets;
    let status_waits: Vec<(f64, u64)> = kubelets.iter().map(|k| k.status_wait()).collect();
    let failures: Vec<(u64, f64)> = kubelets.iter().map(|k| k.status_failures()).collect();
    let failed = WaitReport {
        name: "kubelet status syncs failed: conn., etcd, 429 (to next sync)".into(),
        total_s: failures.iter().map(|f| f.1).sum(),
        count: failures.iter().map(|f| f.0).sum(),
    };
    let mut waits = vec![
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
    ];
    // Runs with faults have the row (in each replication, so that reports that merge
    // replications keep it in its place); others only if a sync failed (on 429s).
    if !scenario.faults.is_empty() || failed.count > 0 {
        waits.insert(1, failed);
    }
    waits
}

/// The wait in the apiservers' queues, summed over the apiservers.
fn apiserver_wait(c: &Components<'_>, scenario: &Scenario) -> WaitReport {
    WaitReport {
        name: format!(
            "apiserver queues ({} workers each)",
            scenario.kubernetes.apiserver.workers
        ),
        total_s: c.cp.stats.iter().map(|s| s.queue_wait_s).sum(),
        count: c.cp.stats.iter().map(|s| s.requests).sum(),
    }
}

/// The start-up as the thesis's observer read it: whole seconds of `workload.resolution` from a
/// wall clock of random phase.
fn observed_startup(kubectl: &Kubectl, scenario: &Scenario, seed: u64) -> Option<f64> {
    // The observer's wall clock phase: its own stream, so it never shifts the model's numbers.
    let phase: f64 = sim_core::rng::named_stream(seed, "observer-clock-phase").random();
    kubectl.observed_at_resolution(phase, scenario.workload.resolution.secs_f64())
}

/// What each of the scenario's faults did, as far as the run got.
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
    // The masters each fault takes out: the one it crashes, the one whose etcd member it stops,
    // or those it cuts off from the balancer: cut off from its start, and on the route it cuts
    // (a fault starting together with it may cut off others).
    let plan = &cp.plan;
    let taken_out: Vec<Vec<usize>> = scenario
        .faults
        .iter()
        .map(|f| {
            let start = f.window().0;
            match f {
                crate::spec::Fault::Crash { host, .. } if masters.contains(host) => {
                    masters.iter().position(|m| m == host).into_iter().collect()
                }
                crate::spec::Fault::CrashEtcdLeader { .. } => (0..masters.len())
                    .find(|&m| plan.apiserver_up(m, start) && plan.etcd_stopped[m].iter().any(|w| w.0 == start))
                    .into_iter()
                    .collect(),
                _ => (0..masters.len())
                    .filter(|&m| {
                        plan.unreachable[m].iter().any(|w| w.0 == start)
                            && cp.fault_cuts_host_off(f, cp.master_host(m as u8))
                    })
                    .collect(),
            }
        })
        .collect();
    let attribution = super::attribution::Attribution::new(scenario, cp, &taken_out);
    let owner = |lost, from, host| attribution.failover_owner(lost, from, host);
    let mark_owners = attribution.mark_owners();
    scenario
        .faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (start, fault_end) = f.window();
            let in_window = |t: &SimTime| *t >= start && *t < fault_end;
            // HAProxy's TCP check still passes on a master whose member alone stopped, until
            // the liveness probe has its apiserver killed ([`crate::liveness`]).
            // A crashed master and those a network fault (or a router's crash) cuts off are
            // checked from the start; the balancer's own crash takes none out (HAProxy is down
            // with it) and marks nothing.
            let checked_from: Vec<(usize, SimTime)> = match f {
                crate::spec::Fault::CrashEtcdLeader { .. } => taken_out[i]
                    .iter()
                    .filter_map(|&m| {
                        plan.apiserver_killed[m]
                            .iter()
                            .find(|w| in_window(&w.0))
                            .map(|w| (m, w.0))
                    })
                    .collect(),
                _ => taken_out[i].iter().map(|&m| (m, start)).collect(),
            };
            // Its own mark-down comes before its repair and the check that finds it (a later
            // fault's does not count).
            let marks: Vec<(usize, (SimTime, SimTime))> = checked_from
                .iter()
                .filter_map(|&(m, from)| cp.plan.marked_down_after(m, from).map(|w| (m, w)))
                .filter(|(_, w)| w.0 <= end && w.0 < fault_end + scenario.haproxy.inter.get())
                .collect();
            let marked = marks.first().map(|&(_, w)| w);
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
            let report = |fo: &crate::control_plane::Failover| ClientFailover {
                client: sim.name(fo.client).unwrap_or("?").to_owned(),
                at_s: fo.reconnect_at.as_secs_f64(),
                apiserver: masters.get(fo.to_master as usize).cloned().unwrap_or_default(),
                runs_on: cp.host_name(fo.host).to_owned(),
            };
            // A fault that takes out one master claims the failovers away from it; two faults
            // starting together then each list their own.
            let (failovers, failovers_after_run): (Vec<_>, Vec<_>) = cp
                .failovers
                .iter()
                .filter(|fo| owner(fo.lost_at, fo.from_master as usize, fo.from_host) == Some(i))
                .filter(|fo| fo.reconnect_at != SimTime::MAX)
                .partition(|fo| fo.reconnect_at <= end);
            let failovers = failovers.into_iter().map(report).collect();
            let failovers_after_run = failovers_after_run.into_iter().map(report).collect();
            FaultReport {
                fault: format!("{f:?}"),
                at_s: start.as_secs_f64(),
                repair_s: (fault_end != SimTime::MAX).then(|| fault_end.as_secs_f64()),
                haproxy_marked_down_s: marked.map(|w| w.0.as_secs_f64()),
                haproxy_marked_up_s: marked.and_then(|w| secs_opt(w.1)),
                haproxy_marks: marks
                    .iter()
                    .map(|&(m, w)| super::HaproxyMark {
                        apiserver: masters[m].clone(),
                        down_s: w.0.as_secs_f64(),
                        up_s: secs_opt(w.1),
                    })
                    .collect(),
                etcd_leader_back_s: leader_back,
                etcd_stall_from_s: stall.map(|w| w.0),
                etcd_stalls: seen.clone(),
                failovers,
                failovers_after_run,
                pods_created_during: cp.store.created_at.iter().filter(|t| in_window(t)).count() as u32,
                pods_running_during: cp.store.running_at.iter().flatten().filter(|t| in_window(t)).count() as u32,
                pods_evicted: cp.store.deleted_at.iter().flatten().filter(|t| in_window(t)).count() as u32,
                node_marks: {
                    let mut marks = super::NodeMarks::default();
                    for (&(t, _, mark), owner) in cp.node_marks.iter().zip(&mark_owners) {
                        if t <= end && *owner == Some(i) {
                            marks.add(mark, t.as_secs_f64());
                        }
                    }
                    marks
                },
                after_run: start > end,
            }
        })
        .collect()
}
