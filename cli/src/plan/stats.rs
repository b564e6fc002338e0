//! What the replications say: time until N pods run, per-pod phases, waits, and per-site last
//! pods with the parts of their time.

use models::cluster::{PodTimeline, RunOutcome};
use models::spec::{Role, Scenario};
use sim_core::stats::{OnlineStats, Samples};

/// A mean with its Student-t 95 % confidence interval.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MeanCi {
    /// Mean.
    pub(crate) mean: f64,
    /// 95 % CI, when there are two values or more.
    pub(crate) ci: Option<(f64, f64)>,
}

impl MeanCi {
    /// The mean and CI of any quantity (a paired difference may be negative).
    fn of(s: &OnlineStats) -> Option<MeanCi> {
        // `+ 0.0` turns a -0.0 (a mean of differences that are all 0) into 0.0, which prints
        // as "0.00", not "-0.00".
        Some(MeanCi {
            mean: s.mean()? + 0.0,
            ci: s.ci95().map(|c| (c.lo + 0.0, c.hi + 0.0)),
        })
    }

    /// The mean and CI of a start-up time: the CI's lower bound clamped at 0 s
    /// ([`crate::output::startup_interval`]).
    fn of_times(s: &OnlineStats) -> Option<MeanCi> {
        MeanCi::of(s).map(|m| MeanCi {
            ci: m.ci.map(crate::output::startup_interval),
            ..m
        })
    }
}

/// One point of the start-up curve: time until `k` pods run, over replications.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CurvePoint {
    /// Pods running.
    pub(crate) k: u32,
    /// Mean time, seconds.
    pub(crate) mean: f64,
    /// Fastest replication.
    pub(crate) lo: f64,
    /// Slowest replication.
    pub(crate) hi: f64,
}

/// Time spent in one limiter or queue, mean per replication.
#[derive(Debug, Clone)]
pub(crate) struct WaitRow {
    /// `RunOutcome.waits` name.
    pub(crate) name: String,
    /// Waiting summed over its users, seconds.
    pub(crate) total_s: f64,
    /// Requests or jobs through it.
    pub(crate) count: f64,
}

/// Time until every pod runs, over replications.
#[derive(Debug, Clone)]
pub(crate) struct Startup {
    /// Replications run.
    pub(crate) reps: usize,
    /// Replications in which every pod ran before `workload.timeout`.
    pub(crate) finished: usize,
    /// Exact start-up time per finished replication, in replication order (None if unfinished).
    pub(crate) per_rep: Vec<Option<f64>>,
    /// Mean and CI of the exact time.
    pub(crate) time: Option<MeanCi>,
    /// Quantiles over replications (type 7): p50, p90, max.
    pub(crate) p50: f64,
    /// 90th percentile.
    pub(crate) p90: f64,
    /// Slowest replication.
    pub(crate) max: f64,
    /// Fastest replication.
    pub(crate) min: f64,
    /// Mean of what the thesis's observer would read (whole seconds).
    pub(crate) observed: Option<f64>,
    // The fields below cover the finished replications, or every replication up to the
    // timeout when none finished.
    /// Mean time until half the pods ran.
    pub(crate) half: Option<f64>,
    /// Mean time until 90 % of the pods ran.
    pub(crate) ninety: Option<f64>,
    /// Mean over replications of the per-pod mean of create_to_schedule, schedule_to_run,
    /// run_to_watch, pod_startup.
    pub(crate) phases: [Option<f64>; 4],
    /// The last pod's creation time, mean over replications.
    pub(crate) last_created: Option<f64>,
    /// The ReplicaSet controller's slow-start batches, mean per replication.
    pub(crate) batches: Option<f64>,
    /// Waits, largest first.
    pub(crate) waits: Vec<WaitRow>,
    /// The most requests one apiserver held at once in any replication (its max-in-flight
    /// filter's counts): read-only, mutating.
    pub(crate) peak_in_flight: [u32; 2],
    /// Requests the apiservers refused with `429`, summed over them, mean per replication.
    pub(crate) refused: f64,
    /// Time until k pods ran (at most ~200 points): the mean over the counted replications, the
    /// band (fastest, slowest) over every replication, an unfinished one up to the pods it ran.
    pub(crate) curve: Vec<CurvePoint>,
}

fn quantile(v: &[f64], p: f64) -> f64 {
    let mut s: Samples = v.iter().copied().collect();
    s.quantile(p).unwrap_or(f64::NAN)
}

/// Summarizes `outcomes` of a run of `pods` pods.
pub(crate) fn startup(outcomes: &[RunOutcome], pods: u32) -> Startup {
    let per_rep: Vec<Option<f64>> = outcomes.iter().map(|o| o.startup_exact_s).collect();
    let done: Vec<f64> = per_rep.iter().flatten().copied().collect();
    let stats: OnlineStats = done.iter().copied().collect();
    let observed: OnlineStats = outcomes.iter().filter_map(|o| o.startup_observed_s).collect();
    // The per-pod figures come from the same replications as the time: the finished ones. Only
    // when none finished do they describe every replication, up to the timeout.
    let counted: Vec<&RunOutcome> = if done.is_empty() {
        outcomes.iter().collect()
    } else {
        outcomes.iter().filter(|o| o.startup_exact_s.is_some()).collect()
    };
    let mut phases: [OnlineStats; 4] = Default::default();
    let mut last_created = OnlineStats::new();
    let batches: OnlineStats = counted.iter().map(|o| o.batches.len() as f64).collect();
    for o in &counted {
        let mut per: [OnlineStats; 4] = Default::default();
        for p in o.counted_pods() {
            let vals = [
                p.create_to_schedule(),
                p.schedule_to_run(),
                p.run_to_watch(),
                p.pod_startup(),
            ];
            for (acc, v) in per.iter_mut().zip(vals) {
                if let Some(v) = v {
                    acc.push(v);
                }
            }
        }
        for (acc, s) in phases.iter_mut().zip(&per) {
            if let Some(m) = s.mean() {
                acc.push(m);
            }
        }
        if let Some(m) = o.counted_pods().map(|p| p.created).reduce(f64::max) {
            last_created.push(m);
        }
    }
    let reps = counted.len().max(1) as f64;
    let mut waits: Vec<WaitRow> = Vec::new();
    for o in &counted {
        for w in &o.waits {
            match waits.iter_mut().find(|r| r.name == w.name) {
                Some(r) => {
                    r.total_s += w.total_s / reps;
                    r.count += w.count as f64 / reps;
                }
                None => waits.push(WaitRow {
                    name: w.name.clone(),
                    total_s: w.total_s / reps,
                    count: w.count as f64 / reps,
                }),
            }
        }
    }
    waits.sort_by(|a, b| b.total_s.total_cmp(&a.total_s));
    let in_flight = outcomes.iter().flat_map(|o| &o.in_flight);
    let peak_in_flight = in_flight
        .clone()
        .fold([0, 0], |[r, m], f| [r.max(f.peak_read_only), m.max(f.peak_mutating)]);
    let refused = in_flight.map(|f| f.refused as f64).sum::<f64>() / outcomes.len().max(1) as f64;
    // Time until k pods ran, per replication: the curve over every replication (an unfinished
    // one up to the pods it ran, as the figure's band says: fastest to slowest), the half and
    // 90 % figures over the counted ones.
    let sorted_of = |outs: &[&RunOutcome]| -> Vec<Vec<f64>> {
        outs.iter()
            .map(|o| {
                let mut v: Vec<f64> = o.counted_pods().filter_map(|p| p.watched).collect();
                v.sort_by(f64::total_cmp);
                v
            })
            .collect()
    };
    let every: Vec<&RunOutcome> = outcomes.iter().collect();
    let (sorted_all, sorted_counted) = (sorted_of(&every), sorted_of(&counted));
    let at = |sorted: &[Vec<f64>], k: u32| -> Option<CurvePoint> {
        let vals: Vec<f64> = sorted.iter().filter_map(|v| v.get(k as usize - 1).copied()).collect();
        if vals.is_empty() {
            return None;
        }
        Some(CurvePoint {
            k,
            mean: vals.iter().sum::<f64>() / vals.len() as f64,
            lo: vals.iter().copied().fold(f64::INFINITY, f64::min),
            hi: vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    };
    // The curve's mean over the counted replications: when some finished, those, one set that
    // reaches every k, so the mean never steps back where an unfinished replication stops (when
    // none finished, every replication, and it may); its band over every replication.
    let curve_at = |k: u32| -> Option<CurvePoint> {
        let all = at(&sorted_all, k)?;
        Some(CurvePoint {
            mean: at(&sorted_counted, k).map_or(all.mean, |c| c.mean),
            ..all
        })
    };
    let step = (pods / 200).max(1);
    let mut ks: Vec<u32> = (1..=pods).step_by(step as usize).collect();
    if ks.last() != Some(&pods) {
        ks.push(pods);
    }
    let curve: Vec<CurvePoint> = ks.into_iter().filter_map(curve_at).collect();
    let frac = |f: f64| at(&sorted_counted, ((f64::from(pods) * f).ceil() as u32).clamp(1, pods)).map(|c| c.mean);
    Startup {
        reps: outcomes.len(),
        finished: done.len(),
        time: MeanCi::of_times(&stats),
        p50: quantile(&done, 0.5),
        p90: quantile(&done, 0.9),
        max: stats.max().unwrap_or(f64::NAN),
        min: stats.min().unwrap_or(f64::NAN),
        per_rep,
        observed: observed.mean(),
        half: frac(0.5),
        ninety: frac(0.9),
        phases: phases.each_ref().map(OnlineStats::mean),
        last_created: last_created.mean(),
        batches: batches.mean(),
        waits,
        peak_in_flight,
        refused,
        curve,
    }
}

/// The parts of a pod's time, from the `kubectl create deployment` request to kubectl's watch
/// seeing it Running, in order.
pub(crate) const SEGMENTS: [(&str, &str); 9] = [
    (
        "until created",
        "the ReplicaSet controller's slow-start batches and the controller-manager's client limiter (20 QPS, burst 30)",
    ),
    ("schedule + bind", "scheduling cycle and the binding's etcd commit"),
    ("watch to kubelet", "the binding's watch event crossing to the worker"),
    ("sandbox", "Docker runtime queue and pause container + CNI"),
    ("puller queue", "waiting for the node's serialized image puller"),
    ("image pull", "registry round trips (16 per cached pull) and the first download"),
    ("create + start", "Docker runtime queue and container create + start"),
    (
        "PLEG + status",
        "PLEG relist (1 s), the status manager's one goroutine, the kubelet client limiter (5 QPS, burst 10), GET + PATCH to the apiserver",
    ),
    ("watch to kubectl", "the Running status reaching kubectl's watch"),
];

/// The nine segments of a finished pod, seconds (`SEGMENTS` order).
pub(crate) fn segments(p: &PodTimeline) -> Option<[f64; 9]> {
    let bound = p.bound?;
    let seen = p.kubelet_seen?;
    let sandbox = p.sandbox?;
    let pulled = p.pulled?;
    let pull_start = p.pull_start.unwrap_or(pulled);
    let started = p.started?;
    let running = p.running?;
    let watched = p.watched?;
    Some([
        p.created,
        bound - p.created,
        seen - bound,
        sandbox - seen,
        pull_start - sandbox,
        pulled - pull_start,
        started - pulled,
        running - started,
        watched - running,
    ])
}

/// One site's pods over the replications.
#[derive(Debug, Clone)]
pub(crate) struct SiteRow {
    /// Site name.
    pub(crate) site: String,
    /// Workers at the site.
    pub(crate) workers: usize,
    /// Pods that ran there, mean per replication.
    pub(crate) pods: f64,
    /// When its last pod was seen Running: mean and CI over replications with pods there.
    pub(crate) last: Option<MeanCi>,
    /// Replications in which the site had pods and they all ran (those `last` is over).
    pub(crate) reps_all_ran: usize,
    /// Slowest replication's last pod.
    pub(crate) last_max: f64,
    /// Replications in which a pod there never ran.
    pub(crate) unfinished: usize,
    /// Mean over the site's pods: create_to_schedule, schedule_to_run, run_to_watch.
    pub(crate) phases: [f64; 3],
    /// The last pod's segments, mean over replications (`SEGMENTS` order).
    pub(crate) last_segments: [f64; 9],
    /// Mean per pod: serialized image puller queue (exact, from the timelines).
    pub(crate) puller_wait: f64,
    /// Mean per pod: Docker runtime queue (estimated: sandbox and create + start minus their
    /// mean service times).
    pub(crate) docker_wait: f64,
    /// Mean per pod: status goroutine and kubelet client limiter (estimated: started -> Running
    /// committed, minus the mean PLEG wait and the unloaded GET + PATCH).
    pub(crate) status_wait: f64,
    /// Mean per pod: the image pull itself.
    pub(crate) pull: f64,
}

impl SiteRow {
    /// Whether any pod was placed at the site in any replication (else its phases and waits are
    /// no figures at all).
    pub(crate) fn had_pods(&self) -> bool {
        self.pods > 0.0
    }

    /// The ClusterLoader2 phase with the largest mean over the site's pods.
    pub(crate) fn dominant_phase(&self) -> (&'static str, f64) {
        let names = ["create_to_schedule", "schedule_to_run", "run_to_watch"];
        let (i, v) =
            self.phases.iter().enumerate().fold(
                (0, f64::NEG_INFINITY),
                |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) },
            );
        (names[i], v)
    }

    /// The limiter or queue with the most waiting per pod.
    pub(crate) fn top_wait(&self) -> (&'static str, f64) {
        let c = [
            ("serialized image puller queue", self.puller_wait),
            ("Docker runtime queue (est.)", self.docker_wait),
            ("status goroutine + kubelet 5 QPS limiter (est.)", self.status_wait),
        ];
        c.into_iter().fold(("none", 0.0), |b, x| if x.1 > b.1 { x } else { b })
    }

    /// The largest segment of the last pod's time.
    pub(crate) fn top_segment(&self) -> (usize, f64) {
        self.last_segments.iter().enumerate().fold(
            (0, f64::NEG_INFINITY),
            |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) },
        )
    }
}

/// Per-site rows, slowest (latest last pod) first. `unloaded_status_s[w]` is worker w's unloaded
/// GET + PATCH time (seconds), used to estimate the status wait.
pub(crate) fn sites(s: &Scenario, outcomes: &[RunOutcome], unloaded_status_s: &[f64]) -> Vec<SiteRow> {
    let workers: Vec<&str> = s
        .hosts
        .iter()
        .filter(|h| h.role == Role::Worker)
        .map(|h| h.site.as_str())
        .collect();
    let site_index = |name: &str| s.sites.iter().position(|x| x.name == name);
    let worker_site: Vec<Option<usize>> = workers.iter().map(|w| site_index(w)).collect();
    let n = s.sites.len();
    let sandbox_t = s.runtime.sandbox_time.secs_f64();
    let start_t = s.runtime.container_start_time.secs_f64();
    let pleg_half = s.kubernetes.kubelet.pleg_period.secs_f64() / 2.0;

    #[derive(Default, Clone)]
    struct Acc {
        pods: f64,
        last: OnlineStats,
        unfinished: usize,
        phases: [OnlineStats; 3],
        seg: [OnlineStats; 9],
        puller: OnlineStats,
        docker: OnlineStats,
        status: OnlineStats,
        pull: OnlineStats,
    }
    let mut acc: Vec<Acc> = vec![Acc::default(); n];
    for o in outcomes {
        // (last watched time, its segments) per site in this replication.
        let mut last: Vec<Option<(f64, Option<[f64; 9]>)>> = vec![None; n];
        let mut unfinished = vec![false; n];
        for p in o.counted_pods() {
            let Some(node) = p.node else { continue };
            let Some(Some(site)) = worker_site.get(node as usize).copied() else {
                continue;
            };
            let a = &mut acc[site];
            a.pods += 1.0 / outcomes.len() as f64;
            for (k, v) in [p.create_to_schedule(), p.schedule_to_run(), p.run_to_watch()]
                .into_iter()
                .enumerate()
            {
                if let Some(v) = v {
                    a.phases[k].push(v);
                }
            }
            let seg = segments(p);
            if let Some(g) = seg {
                a.puller.push(g[4]);
                a.pull.push(g[5]);
                a.docker.push(g[3] - sandbox_t + g[6] - start_t);
                let floor = pleg_half + unloaded_status_s.get(node as usize).copied().unwrap_or(0.0);
                a.status.push(g[7] - floor);
            }
            match p.watched {
                Some(w) => {
                    if last[site].is_none_or(|(t, _)| w > t) {
                        last[site] = Some((w, seg));
                    }
                }
                None => unfinished[site] = true,
            }
        }
        for (i, l) in last.iter().enumerate() {
            if unfinished[i] {
                acc[i].unfinished += 1;
            } else if let Some((t, seg)) = l {
                acc[i].last.push(*t);
                if let Some(g) = seg {
                    for (k, v) in g.iter().enumerate() {
                        acc[i].seg[k].push(*v);
                    }
                }
            }
        }
    }
    let mut rows: Vec<SiteRow> = s
        .sites
        .iter()
        .zip(acc)
        .map(|(site, a)| SiteRow {
            site: site.name.clone(),
            workers: worker_site.iter().filter(|w| **w == site_index(&site.name)).count(),
            pods: a.pods,
            last: MeanCi::of_times(&a.last),
            reps_all_ran: a.last.count() as usize,
            last_max: a.last.max().unwrap_or(f64::NAN),
            unfinished: a.unfinished,
            phases: a.phases.each_ref().map(|x| x.mean().unwrap_or(0.0)),
            last_segments: a.seg.each_ref().map(|x| x.mean().unwrap_or(0.0)),
            puller_wait: a.puller.mean().unwrap_or(0.0),
            docker_wait: a.docker.mean().unwrap_or(0.0).max(0.0),
            status_wait: a.status.mean().unwrap_or(0.0).max(0.0),
            pull: a.pull.mean().unwrap_or(0.0),
        })
        .filter(|r| r.workers > 0)
        .collect();
    rows.sort_by(|a, b| {
        let key = |r: &SiteRow| (r.unfinished, r.last.map_or(f64::NEG_INFINITY, |m| m.mean));
        let (ua, ta) = key(a);
        let (ub, tb) = key(b);
        ub.cmp(&ua).then(tb.total_cmp(&ta))
    });
    rows
}

/// Paired difference `b - a` over replications where both finished: mean and 95 % CI.
pub(crate) fn paired_diff(a: &[Option<f64>], b: &[Option<f64>]) -> Option<MeanCi> {
    let s: OnlineStats = a.iter().zip(b).filter_map(|(x, y)| Some((*y)? - (*x)?)).collect();
    MeanCi::of(&s)
}

#[cfg(test)]
mod tests {
    use super::startup;
    use models::cluster::{run, RunOutcome};
    use models::units::Dur;

    /// With a timeout that some replications miss, every figure comes from the replications
    /// that finished, as the report's banner says: the same as for those replications alone.
    #[test]
    fn figures_cover_only_the_finished_replications() {
        let (mut s, _) = topologies::load::by_name_or_path("thesis-2019").unwrap();
        s.workload.replicas = 20;
        s.workload.timeout = Dur::secs(34);
        let outs: Vec<RunOutcome> = (1..=6).map(|seed| run(&s, seed, false).unwrap()).collect();
        let finished: Vec<RunOutcome> = outs.iter().filter(|o| o.startup_exact_s.is_some()).cloned().collect();
        assert!(
            (1..outs.len()).contains(&finished.len()),
            "{} of {} finished: pick another timeout",
            finished.len(),
            outs.len()
        );
        let all = startup(&outs, 20);
        let only = startup(&finished, 20);
        assert_eq!((all.reps, all.finished), (6, finished.len()));
        assert_eq!(all.time.map(|t| t.mean), only.time.map(|t| t.mean));
        assert_eq!(all.half, only.half);
        assert_eq!(all.ninety, only.ninety);
        assert_eq!(all.phases, only.phases);
        assert_eq!(all.last_created, only.last_created);
        let waits = |s: &super::Startup| {
            s.waits
                .iter()
                .map(|w| (w.name.clone(), w.total_s, w.count))
                .collect::<Vec<_>>()
        };
        assert_eq!(waits(&all), waits(&only));
        // The curve, though, covers every replication: the slowest band edge is an unfinished one.
        let last = |s: &super::Startup| s.curve.iter().find(|c| c.k == 10).map(|c| c.hi);
        assert!(last(&all) >= last(&only), "{:?} {:?}", last(&all), last(&only));
    }
}
