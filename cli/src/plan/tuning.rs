//! Section (g) of the plan, "What each setting would buy" (`kubetwin plan --tuning`): the
//! scenario run again with one setting changed at a time, over the same replication seeds as the
//! scenario as given, ranked by what it saves. Each change is a real Kubernetes v1.16 flag at the
//! value the Kubernetes scalability tests run with, or an operator's choice about the image; a
//! change the scenario already has is left out. A last row makes them all at once: how far tuning
//! alone can take this rollout.

use models::spec::{PullPolicy, Scenario};

use super::stats::{self, MeanCi};

/// The client QPS and burst the Kubernetes scalability jobs give the controller-manager, the
/// scheduler and the kubelets (kubernetes/test-infra, sig-scalability jobs:
/// `CONTROLLER_MANAGER_TEST_ARGS`, `SCHEDULER_TEST_ARGS`, `KUBELET_TEST_ARGS` =
/// `--kube-api-qps=100 --kube-api-burst=100`).
const SCALABILITY_QPS: f64 = 100.0;

/// The burst that goes with [`SCALABILITY_QPS`].
const SCALABILITY_BURST: u32 = 100;

/// One setting to try.
#[derive(Debug, Clone)]
pub(crate) struct Tuning {
    /// The change as an operator makes it (a flag, or what to do).
    pub(crate) change: String,
    /// The same as `--set` values (`path=value`), for `kubetwin sweep`.
    pub(crate) set: Vec<String>,
    /// Where the value comes from.
    pub(crate) source: &'static str,
    /// Whether this is every other setting at once.
    pub(crate) combined: bool,
    /// The scenario edits it makes.
    edits: Vec<fn(&mut Scenario)>,
}

impl Tuning {
    /// `s` with this setting.
    pub(crate) fn applied(&self, s: &Scenario) -> Scenario {
        let mut t = s.clone();
        for edit in &self.edits {
            edit(&mut t);
        }
        t
    }
}

/// A setting's replications, summarized.
#[derive(Debug, Clone)]
pub(crate) struct TuningResult {
    /// The setting.
    pub(crate) tuning: Tuning,
    /// Replications in which every pod ran before `workload.timeout`.
    pub(crate) finished: usize,
    /// Replications run.
    pub(crate) reps: usize,
    /// Mean and CI of the time until every pod ran, over the finished replications.
    pub(crate) time: Option<MeanCi>,
    /// Paired difference to the scenario as given (the same seeds), seconds.
    pub(crate) diff: Option<MeanCi>,
}

/// A client's QPS and burst raised to at least [`SCALABILITY_QPS`] / [`SCALABILITY_BURST`], as
/// the flags and the `--set` values that give them.
fn raised(component: &str, path: &str, mut qps: f64, mut burst: u32) -> (String, Vec<String>) {
    raise(&mut qps, &mut burst);
    (
        format!("{component} `--kube-api-qps {qps} --kube-api-burst {burst}`"),
        vec![
            format!("{path}.kube_api_qps={qps}"),
            format!("{path}.kube_api_burst={burst}"),
        ],
    )
}

/// Raises a client's QPS and burst to at least [`SCALABILITY_QPS`] / [`SCALABILITY_BURST`].
fn raise(qps: &mut f64, burst: &mut u32) {
    *qps = qps.max(SCALABILITY_QPS);
    *burst = (*burst).max(SCALABILITY_BURST);
}

fn controller_manager_qps(s: &mut Scenario) {
    let c = &mut s.kubernetes.controller_manager;
    raise(&mut c.kube_api_qps, &mut c.kube_api_burst);
}

fn scheduler_qps(s: &mut Scenario) {
    let c = &mut s.kubernetes.scheduler;
    raise(&mut c.kube_api_qps, &mut c.kube_api_burst);
}

fn kubelet_qps(s: &mut Scenario) {
    let k = &mut s.kubernetes.kubelet;
    raise(&mut k.kube_api_qps, &mut k.kube_api_burst);
}

fn parallel_pulls(s: &mut Scenario) {
    s.kubernetes.kubelet.serialize_image_pulls = false;
}

fn if_not_present(s: &mut Scenario) {
    s.runtime.pull_policy = PullPolicy::IfNotPresent;
}

fn pre_pulled(s: &mut Scenario) {
    s.runtime.image_cached = true;
}

/// The settings worth trying on `s`: those it does not already have, each at the larger of its
/// value and the one tried; then, if there are two or more, all of them at once.
pub(crate) fn list(s: &Scenario) -> Vec<Tuning> {
    let k = &s.kubernetes;
    let below = |qps: f64, burst: u32| qps < SCALABILITY_QPS || burst < SCALABILITY_BURST;
    let mut out = Vec::new();
    // The three API clients, each as (component, `--set` path, QPS, burst, why, edit).
    type Client = (&'static str, &'static str, f64, u32, &'static str, fn(&mut Scenario));
    let clients: [Client; 3] = [
        (
            "kube-controller-manager",
            "kubernetes.controller_manager",
            k.controller_manager.kube_api_qps,
            k.controller_manager.kube_api_burst,
            "the ReplicaSet controller creates pods through this client; the Kubernetes scalability jobs run it at 100/100",
            controller_manager_qps,
        ),
        (
            "kube-scheduler",
            "kubernetes.scheduler",
            k.scheduler.kube_api_qps,
            k.scheduler.kube_api_burst,
            "the scheduler binds pods through this client; the Kubernetes scalability jobs run it at 100/100",
            scheduler_qps,
        ),
        (
            "kubelet",
            "kubernetes.kubelet",
            k.kubelet.kube_api_qps,
            k.kubelet.kube_api_burst,
            "the status manager's GETs and PATCHes go through this client; the Kubernetes scalability jobs run it at 100/100 (v1.27 made 50/100 the default)",
            kubelet_qps,
        ),
    ];
    for (component, path, qps, burst, source, edit) in clients {
        if below(qps, burst) {
            let (change, set) = raised(component, path, qps, burst);
            out.push(Tuning {
                change,
                set,
                source,
                combined: false,
                edits: vec![edit],
            });
        }
    }
    if k.kubelet.serialize_image_pulls {
        out.push(Tuning {
            change: "kubelet `--serialize-image-pulls=false`".into(),
            set: vec!["kubernetes.kubelet.serialize_image_pulls=false".into()],
            source: "pulls on a node run in parallel; the flag's help advises against it only for Docker older than 1.9 or the aufs storage driver",
            combined: false,
            edits: vec![parallel_pulls],
        });
    }
    if s.runtime.pull_policy == PullPolicy::Always {
        out.push(Tuning {
            change: "a pinned image tag (`imagePullPolicy: IfNotPresent`)".into(),
            set: vec!["runtime.pull_policy=\"IfNotPresent\"".into()],
            source: "a tag other than `latest` defaults the policy to IfNotPresent (v1.16 `SetDefaults_Container`): a node asks the registry only for its first pod",
            combined: false,
            edits: vec![if_not_present],
        });
    }
    if !s.runtime.image_cached {
        out.push(Tuning {
            change: "the image pre-pulled on every worker".into(),
            set: vec!["runtime.image_cached=true".into()],
            source: "an operator's choice (a pre-pull DaemonSet, or a node image): no first pull downloads the layers",
            combined: false,
            edits: vec![pre_pulled],
        });
    }
    if out.len() > 1 {
        out.push(Tuning {
            change: "all of the above at once".into(),
            set: out.iter().flat_map(|t| t.set.iter().cloned()).collect(),
            source: "how far tuning alone takes this rollout",
            combined: true,
            edits: out.iter().flat_map(|t| t.edits.iter().copied()).collect(),
        });
    }
    out
}

/// Runs every setting's `reps` replications on `base` (in parallel, gathered in a fixed order)
/// and compares each with `reference`, the per-replication start-up of `base` itself (paired over
/// the replications both finish); the most replications finished first, then the largest
/// saving, the combined row last.
///
/// # Errors
///
/// When the model cannot be built.
pub(crate) fn run(
    base: &Scenario,
    tunings: &[Tuning],
    reps: u64,
    seed: u64,
    reference: &[Option<f64>],
) -> anyhow::Result<Vec<TuningResult>> {
    let scenarios: Vec<Scenario> = tunings.iter().map(|t| t.applied(base)).collect();
    let outcomes = super::replicate(&scenarios.iter().collect::<Vec<_>>(), reps, seed)?;
    let mut results: Vec<TuningResult> = tunings
        .iter()
        .zip(&outcomes)
        .map(|(tuning, outs)| {
            let startup = stats::startup(outs, base.workload.replicas);
            TuningResult {
                tuning: tuning.clone(),
                finished: startup.finished,
                reps: startup.reps,
                time: startup.time,
                diff: stats::paired_diff(reference, &startup.per_rep),
            }
        })
        .collect();
    // The combined row last; the others by the replications they finish (most first: a setting
    // that rescues a rollout outranks any saving), then by their mean saving, largest first (one
    // with no paired replication last). Ties keep the list's order.
    let key = |r: &TuningResult| r.diff.map_or(f64::INFINITY, |d| d.mean);
    results.sort_by(|a, b| {
        a.tuning
            .combined
            .cmp(&b.tuning.combined)
            .then(b.finished.cmp(&a.finished))
            .then(key(a).total_cmp(&key(b)))
    });
    Ok(results)
}
