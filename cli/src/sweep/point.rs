//! One finished point: what its replications produced (the point file) and its results row.

use models::cluster::{self, RunOutcome};
use models::spec::Scenario;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sim_core::rng::replication_seed;
use sim_core::stats::{OnlineStats, Samples};
use sim_core::SimDuration;

use super::spec::{Point, SweepSpec};

/// The content of `points/<key>.json`: the raw per-replication numbers, from which the results
/// row is computed (so a row read back from a file is the row of a fresh run, bit for bit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PointRecord {
    /// The sweep this point belongs to.
    pub(crate) spec_hash: String,
    /// The point's key (its file name without `.json`).
    pub(crate) key: String,
    /// Position in the full point order.
    pub(crate) index: usize,
    /// Pods.
    pub(crate) pods: u32,
    /// Added delay as scenario files write it.
    pub(crate) delay: String,
    /// `--set` values in spec order.
    pub(crate) set: Vec<Json>,
    /// The point's seed; replication r ran with `replication_seed(seed, r)`.
    pub(crate) seed: u64,
    /// Start-up as observed (whole seconds) per replication; `null` when it did not finish.
    pub(crate) startup_observed_s: Vec<Option<f64>>,
    /// Exact start-up per replication.
    pub(crate) startup_exact_s: Vec<Option<f64>>,
    /// Mean per pod of each phase (create_to_schedule, schedule_to_run, run_to_watch, pod_startup: the ClusterLoader2 phases) per replication.
    pub(crate) phases_s: Vec<[Option<f64>; 4]>,
    /// The observer's resolution, seconds (`workload.resolution`): the interval of the observed
    /// start-up keeps at least the spread that reading gives it
    /// ([`sim_core::stats::OnlineStats::confidence_interval_read_at`]). Whole seconds in point
    /// files written before it was recorded.
    #[serde(default = "whole_second")]
    pub(crate) resolution_s: f64,
    /// etcd's simulated elections per replication: leaders elected after the first and seconds
    /// without writes (`models::cluster::EtcdReport`); `null` for a replication that did not
    /// simulate them (no fault, steady round trips between the masters). Left out of the file
    /// when no replication did, so such point files are as before.
    #[serde(default, skip_serializing_if = "no_etcd")]
    pub(crate) etcd: Vec<Option<[f64; 2]>>,
}

/// No replication simulated etcd's elections.
fn no_etcd(v: &[Option<[f64; 2]>]) -> bool {
    v.iter().all(Option::is_none)
}

/// kubectl's resolution, the default of `workload.resolution`.
fn whole_second() -> f64 {
    1.0
}

/// What one replication contributes: observed and exact start-up, the phase means, and etcd's
/// elections and seconds without writes if they were simulated.
type RepSummary = (Option<f64>, Option<f64>, [Option<f64>; 4], Option<[f64; 2]>);

/// What one replication contributes.
fn summarize(o: &RunOutcome) -> RepSummary {
    let mut s: [OnlineStats; 4] = Default::default();
    for p in o.counted_pods() {
        let values = [
            p.create_to_schedule(),
            p.schedule_to_run(),
            p.run_to_watch(),
            p.pod_startup(),
        ];
        for (acc, v) in s.iter_mut().zip(values) {
            if let Some(v) = v {
                acc.push(v);
            }
        }
    }
    let (observed, exact) = match (o.startup_observed_s, o.startup_exact_s) {
        (Some(v), Some(e)) => (Some(v), Some(e)),
        _ => (None, None),
    };
    let etcd = o.etcd.as_ref().map(|e| [e.elections as f64, e.stalled_s]);
    (observed, exact, s.map(|x| x.mean()), etcd)
}

/// Runs the point's replications in parallel (gathered in replication order) and returns its
/// record; `on_rep` is called after each replication (progress). With the record of its first
/// replications (`prior`, a [`super::store::StoredPoint::Prefix`]), runs only the others and
/// appends them: the record is the one computing every replication gives, bit for bit.
pub(crate) fn compute(
    spec: &SweepSpec,
    spec_hash: &str,
    point: &Point,
    scenario: &Scenario,
    prior: Option<&PointRecord>,
    on_rep: &(dyn Fn() + Sync),
) -> anyhow::Result<PointRecord> {
    let s = cluster::with_overrides(
        scenario,
        Some(point.pods),
        Some(SimDuration::from_nanos(point.delay_ns)),
    );
    let seed = spec.point_seed(point);
    let prepared = cluster::prepare(&s).map_err(|e| anyhow::anyhow!("point {}: {e}", spec.describe(point)))?;
    let done = prior.map_or(0, PointRecord::replications) as u64;
    let reps: Vec<_> = (done..spec.reps)
        .into_par_iter()
        .map(|r| {
            let o = prepared.run(replication_seed(seed, r), false)?;
            on_rep();
            Ok(summarize(&o))
        })
        .collect::<Result<_, cluster::ModelError>>()
        .map_err(|e| anyhow::anyhow!("point {}: {e}", spec.describe(point)))?;
    let mut rec = prior.cloned().unwrap_or_else(|| PointRecord {
        spec_hash: String::new(),
        key: spec.point_key(point),
        index: point.index,
        pods: point.pods,
        delay: super::axes::show_delay(point.delay_ns),
        set: point.set.clone(),
        seed,
        startup_observed_s: Vec::new(),
        startup_exact_s: Vec::new(),
        phases_s: Vec::new(),
        resolution_s: s.workload.resolution.secs_f64(),
        etcd: Vec::new(),
    });
    rec.spec_hash = spec_hash.to_owned();
    // A file leaves out an etcd column of nulls only: read back, it is empty.
    rec.etcd.resize(done as usize, None);
    rec.startup_observed_s.extend(reps.iter().map(|r| r.0));
    rec.startup_exact_s.extend(reps.iter().map(|r| r.1));
    rec.phases_s.extend(reps.iter().map(|r| r.2));
    rec.etcd.extend(reps.iter().map(|r| r.3));
    Ok(rec)
}

impl PointRecord {
    /// How many replications the record holds.
    pub(crate) fn replications(&self) -> usize {
        self.startup_observed_s.len()
    }

    /// [`PointRecord::check_against`] for the record read from the point file `path`: the
    /// error names the file and says how to have the point computed again.
    pub(crate) fn check_file(&self, path: &std::path::Path, spec: &SweepSpec, point: &Point) -> anyhow::Result<()> {
        // An input the command cannot use (exit code 2), as a point file cut short is.
        self.check_against(spec, point).map_err(|why| {
            crate::output::InputError(format!(
                "{} does not hold point {}: {why}; delete it, and rerunning the sweep (or its shard) computes that point again",
                path.display(),
                spec.describe(point)
            ))
            .into()
        })
    }

    /// Whether this record is what computing `point` of `spec` writes: the point's own values
    /// and seed, one entry per replication, times that are finite, not negative and within 30
    /// days (the longest workload.timeout), a resolution that a scenario can have, and observed
    /// and exact start-ups that agree on which replications finished. A point file edited or damaged by hand fails here instead of
    /// entering the results.
    pub(crate) fn check_against(&self, spec: &SweepSpec, point: &Point) -> Result<(), String> {
        let want_delay = super::axes::show_delay(point.delay_ns);
        let mismatch = if self.index != point.index {
            Some(format!("index {} (expected {})", self.index, point.index))
        } else if self.pods != point.pods {
            Some(format!("pods {} (expected {})", self.pods, point.pods))
        } else if self.delay != want_delay {
            Some(format!("delay {} (expected {want_delay})", self.delay))
        } else if self.set != point.set {
            Some(format!("--set values {:?} (expected {:?})", self.set, point.set))
        } else if self.seed != spec.point_seed(point) {
            Some(format!("seed {} (expected {})", self.seed, spec.point_seed(point)))
        } else {
            None
        };
        if let Some(m) = mismatch {
            return Err(format!("it records {m}"));
        }
        let reps = spec.reps as usize;
        for (what, n) in [
            ("startup_observed_s", self.startup_observed_s.len()),
            ("startup_exact_s", self.startup_exact_s.len()),
            ("phases_s", self.phases_s.len()),
        ] {
            if n != reps {
                return Err(format!("{what} has {n} entries, not one per replication ({reps})"));
            }
        }
        if !self.etcd.is_empty() && self.etcd.len() != reps {
            return Err(format!(
                "etcd has {} entries, not one per replication ({reps})",
                self.etcd.len()
            ));
        }
        if let Some(e) = self
            .etcd
            .iter()
            .flatten()
            .find(|e| !e.iter().all(|x| x.is_finite() && *x >= 0.0))
        {
            return Err(format!("its etcd entry {e:?} is not two counts or times of at least 0"));
        }
        let times = self
            .startup_observed_s
            .iter()
            .chain(&self.startup_exact_s)
            .chain(self.phases_s.iter().flatten())
            .flatten();
        if let Some(t) = times.clone().copied().find(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(format!("it holds a time of {t} s"));
        }
        // No run lasts beyond its workload.timeout, which is at most 30 days (E015). (The point's
        // own timeout is not known here: `merge` reads point files without the scenario.)
        let longest = topologies::check::MAX_DURATION_SECS as f64;
        if let Some(t) = times.copied().find(|t| *t > longest) {
            return Err(format!(
                "it holds a time of {} s, more than any workload.timeout allows (30 days, {longest} s)",
                short_float(t)
            ));
        }
        if let Some([_, stalled]) = self.etcd.iter().flatten().find(|e| e[1] > longest) {
            return Err(format!(
                "its etcd entry has {} s without writes, more than any workload.timeout allows (30 days, {longest} s)",
                short_float(*stalled)
            ));
        }
        // workload.resolution is at least 1 ms (E017) and at most workload.timeout (E026).
        if !(self.resolution_s.is_finite() && (0.001..=longest).contains(&self.resolution_s)) {
            return Err(format!(
                "its resolution_s is {}, not a workload.resolution (1 ms to 30 days)",
                short_float(self.resolution_s)
            ));
        }
        // A replication finished or it did not: its observed and exact start-up are both there
        // or both null.
        if let Some(r) = self
            .startup_observed_s
            .iter()
            .zip(&self.startup_exact_s)
            .position(|(o, e)| o.is_some() != e.is_some())
        {
            return Err(format!(
                "startup_observed_s and startup_exact_s disagree on whether replication {r} finished"
            ));
        }
        Ok(())
    }
}

/// `x` as a message shows it: in scientific notation from 1e9 up (`1e308`, not 309 digits).
fn short_float(x: f64) -> String {
    if x.is_finite() && x.abs() >= 1e9 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// One row of the results.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// Pods.
    pub(crate) pods: u32,
    /// Added delay, ns.
    pub(crate) delay_ns: u64,
    /// `--set` values in spec order.
    pub(crate) set: Vec<Json>,
    /// Replications.
    pub(crate) reps: u64,
    /// Replications that did not finish within the scenario's timeout.
    pub(crate) incomplete: u64,
    /// The point's seed.
    pub(crate) seed: u64,
    /// Observed start-up: mean, CI low, CI high, p50, p90, p95, min, max.
    pub(crate) startup: [Option<f64>; 8],
    /// Exact start-up, mean.
    pub(crate) exact_mean: Option<f64>,
    /// Phase means (create_to_schedule, schedule_to_run, run_to_watch, pod_startup: the ClusterLoader2 phases).
    pub(crate) phases: [Option<f64>; 4],
    /// Observed start-up of each replication (`None`: it did not finish), for pairing.
    pub(crate) observed: Vec<Option<f64>>,
    /// The observer's resolution, seconds ([`PointRecord::resolution_s`]).
    pub(crate) resolution_s: f64,
    /// The delay's effect: this point minus the point of the same pods and `--set` values at the
    /// sweep's smallest delay, replication by replication: mean, 95 % CI low, high
    /// ([`pair_delay_effects`]). `None` until paired, or when that point is not at hand.
    pub(crate) delay_effect: [Option<f64>; 3],
    /// etcd's simulated elections: leaders elected after the first, and seconds without
    /// writes, means over the replications that simulated them; `None` when none did.
    pub(crate) etcd: [Option<f64>; 2],
    /// The effect of each `--set` or `--fault` axis with more than one value, in spec order:
    /// this point minus the point with that axis at its first value, replication by
    /// replication: mean, 95 % CI low, high ([`pair_set_effects`]). Empty until paired.
    pub(crate) set_effects: Vec<[Option<f64>; 3]>,
}

/// Fills every row's [`Row::delay_effect`]: its start-up minus that of the row with the same
/// pods and `--set` values at the delay `base_delay_ns` (the sweep's smallest), taken per
/// replication over the replications that finished in both ([`paired_effects`]).
pub(crate) fn pair_delay_effects(rows: &mut [Row], base_delay_ns: u64) {
    let effects = paired_effects(
        rows,
        |r| r.delay_ns == base_delay_ns,
        |r| (r.pods, 0, Json::Array(r.set.clone()).to_string()),
    );
    for (r, e) in rows.iter_mut().zip(effects) {
        r.delay_effect = e;
    }
}

/// Fills every row's [`Row::set_effects`], one per `--set` or `--fault` axis of `axes` that has
/// more than one value (in spec order): the row's start-up minus that of the row with the same
/// pods, delay and other axes' values at the axis's first value as given, per replication
/// ([`paired_effects`]): what changing that one setting from its first value does, with the
/// noise the shared seeds cancel.
pub(crate) fn pair_set_effects(rows: &mut [Row], axes: &[super::spec::SetAxis]) {
    let mut all: Vec<Vec<[Option<f64>; 3]>> = vec![Vec::new(); rows.len()];
    for (i, axis) in axes.iter().enumerate().filter(|(_, a)| a.values.len() > 1) {
        let first = &axis.values[0];
        let effects = paired_effects(rows, |r| r.set.get(i) == Some(first), |r| beside_axis(r, i));
        for (acc, e) in all.iter_mut().zip(effects) {
            acc.push(e);
        }
    }
    for (r, e) in rows.iter_mut().zip(all) {
        r.set_effects = e;
    }
}

/// What places `r` beside the other values of axis `i`: its pods, delay and every other axis's
/// value (axis `i`'s left out), as a key.
fn beside_axis(r: &Row, i: usize) -> (u32, u64, String) {
    let mut others = r.set.clone();
    if let Some(v) = others.get_mut(i) {
        *v = Json::Null;
    }
    (r.pods, r.delay_ns, Json::Array(others).to_string())
}

/// The paths of the `--set` and `--fault` axes of `axes` with more than one value whose values
/// give the same start-ups, replication by replication (whole seconds and the exact mean), at
/// every point of `rows` that another value of the axis shares: a setting that does not bind in
/// this sweep (client limits above what 20 pods ask, say), whose lines in a figure lie on one
/// another. None when no point has a partner (a shard with one value of the axis).
pub(crate) fn axes_without_effect<'a>(rows: &[Row], axes: &'a [super::spec::SetAxis]) -> Vec<&'a str> {
    axes.iter()
        .enumerate()
        .filter(|(_, a)| a.values.len() > 1)
        .filter(|&(i, _)| {
            let mut groups: std::collections::HashMap<(u32, u64, String), Vec<&Row>> = Default::default();
            for r in rows {
                groups.entry(beside_axis(r, i)).or_default().push(r);
            }
            let paired: Vec<&Vec<&Row>> = groups.values().filter(|g| g.len() > 1).collect();
            !paired.is_empty()
                && paired.iter().all(|g| {
                    g.windows(2).all(|w| {
                        w[0].observed == w[1].observed
                            && w[0].exact_mean.map(f64::to_bits) == w[1].exact_mean.map(f64::to_bits)
                    })
                })
        })
        .map(|(_, a)| a.path.as_str())
        .collect()
}

/// For every row, its start-up minus that of its base row (the row `is_base` accepts with the
/// same `identity`), replication by replication over the replications that finished in both:
/// mean, 95 % CI low, high. Every point runs replication `r` with the same seed and the model
/// keys its draws (common random numbers, `docs/model.md`), so the difference is the change's
/// effect with far less noise than either point has; its CI is Student-t over the
/// per-replication differences, floored at the whole-second reading's own spread (not clamped:
/// an effect may be negative). The base row itself gets 0. A replication that did not finish
/// in either leaves the effect unknown (`None`), as `validate` refuses such a cell: the
/// unfinished are the slowest, and dropping them would bias the effect down. A row whose base
/// is not among `rows` (a shard without it) gets `None`, so a shard's rows never pair with
/// another point than the whole sweep's would.
fn paired_effects<K: std::hash::Hash + Eq>(
    rows: &[Row],
    is_base: impl Fn(&Row) -> bool,
    identity: impl Fn(&Row) -> K,
) -> Vec<[Option<f64>; 3]> {
    // The base rows by identity: one pass, not a search per row (a sweep may hold a million
    // points).
    let bases: std::collections::HashMap<K, usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, b)| is_base(b))
        .map(|(i, b)| (identity(b), i))
        .collect();
    rows.iter()
        .map(|r| {
            let Some(base) = bases.get(&identity(r)).map(|&i| &rows[i]) else {
                return [None; 3];
            };
            // Every replication must have finished in both: the ones that time out are the
            // slowest, and leaving them out would bias the effect down.
            let diffs: Option<OnlineStats> = r
                .observed
                .iter()
                .zip(&base.observed)
                .map(|(x, b)| Some((*x)? - (*b)?))
                .collect();
            let Some(diffs) = diffs.filter(|_| r.observed.len() == base.observed.len()) else {
                return [None; 3];
            };
            if is_base(r) {
                // The base point against itself: zero, exactly, not a measurement.
                return [Some(0.0); 3];
            }
            // Differences of whole-second readings that happen to coincide keep the spread
            // that reading gives them.
            let ci = diffs.confidence_interval_read_at(0.95, r.resolution_s);
            [diffs.mean(), ci.map(|c| c.lo), ci.map(|c| c.hi)]
        })
        .collect()
}

/// The statistics columns after the axes, in order.
pub(crate) const STAT_COLUMNS: [&str; 21] = [
    "reps",
    "incomplete",
    "seed",
    "startup_mean_s",
    "startup_ci95_lo_s",
    "startup_ci95_hi_s",
    "startup_p50_s",
    "startup_p90_s",
    "startup_p95_s",
    "startup_min_s",
    "startup_max_s",
    "startup_exact_mean_s",
    "create_to_schedule_s",
    "schedule_to_run_s",
    "run_to_watch_s",
    "pod_startup_s",
    "delay_effect_mean_s",
    "delay_effect_ci95_lo_s",
    "delay_effect_ci95_hi_s",
    "etcd_elections_mean",
    "etcd_stalled_mean_s",
];

impl Row {
    /// The row of a record.
    pub(crate) fn from_record(r: &PointRecord) -> anyhow::Result<Row> {
        let delay_ns = crate::commands::run::parse_delay(&r.delay)
            .map_err(|e| anyhow::anyhow!("point {}: delay {:?}: {e}", r.key, r.delay))?
            .as_nanos();
        let mut observed: Samples = r.startup_observed_s.iter().flatten().copied().collect();
        let stats = observed.stats();
        // A start-up interval: its lower bound is reported clamped at 0 s.
        let ci = stats
            .confidence_interval_read_at(0.95, r.resolution_s)
            .map(|c| crate::output::startup_interval((c.lo, c.hi)));
        let startup = [
            stats.mean(),
            ci.map(|c| c.0),
            ci.map(|c| c.1),
            observed.quantile(0.5),
            observed.quantile(0.9),
            observed.quantile(0.95),
            stats.min(),
            stats.max(),
        ];
        let exact: OnlineStats = r.startup_exact_s.iter().flatten().copied().collect();
        let mut phases: [OnlineStats; 4] = Default::default();
        for rep in &r.phases_s {
            for (acc, v) in phases.iter_mut().zip(rep) {
                if let Some(v) = v {
                    acc.push(*v);
                }
            }
        }
        let mut etcd: [OnlineStats; 2] = Default::default();
        for e in r.etcd.iter().flatten() {
            etcd[0].push(e[0]);
            etcd[1].push(e[1]);
        }
        Ok(Row {
            pods: r.pods,
            delay_ns,
            set: r.set.clone(),
            reps: r.startup_observed_s.len() as u64,
            incomplete: r.startup_observed_s.iter().filter(|v| v.is_none()).count() as u64,
            seed: r.seed,
            startup,
            exact_mean: exact.mean(),
            phases: phases.map(|p| p.mean()),
            observed: r.startup_observed_s.clone(),
            resolution_s: r.resolution_s,
            delay_effect: [None; 3],
            etcd: etcd.map(|s| s.mean()),
            set_effects: Vec::new(),
        })
    }

    /// The delay in milliseconds, as an integer when whole.
    pub(crate) fn delay_ms(&self) -> Json {
        if self.delay_ns.is_multiple_of(1_000_000) {
            Json::from(self.delay_ns / 1_000_000)
        } else {
            Json::from(self.delay_ns as f64 / 1e6)
        }
    }

    /// The values of the columns `pods, delay_ms, <set paths>, STAT_COLUMNS...`, as JSON.
    pub(crate) fn values(&self) -> Vec<Json> {
        let num = |v: Option<f64>| {
            v.and_then(serde_json::Number::from_f64)
                .map_or(Json::Null, Json::Number)
        };
        let mut out = vec![Json::from(self.pods), self.delay_ms()];
        out.extend(self.set.iter().cloned());
        out.push(Json::from(self.reps));
        out.push(Json::from(self.incomplete));
        out.push(Json::from(self.seed));
        out.extend(self.startup.iter().map(|&v| num(v)));
        out.push(num(self.exact_mean));
        out.extend(self.phases.iter().map(|&v| num(v)));
        out.extend(self.delay_effect.iter().map(|&v| num(v)));
        out.extend(self.etcd.iter().map(|&v| num(v)));
        out.extend(self.set_effects.iter().flatten().map(|&v| num(v)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pods: u32, delay_ms: u64, set: i64, observed: &[Option<f64>]) -> Row {
        Row {
            pods,
            delay_ns: delay_ms * 1_000_000,
            set: vec![Json::from(set)],
            reps: observed.len() as u64,
            incomplete: 0,
            seed: 1,
            startup: [None; 8],
            exact_mean: None,
            phases: [None; 4],
            observed: observed.to_vec(),
            resolution_s: 1.0,
            delay_effect: [None; 3],
            etcd: [None; 2],
            set_effects: Vec::new(),
        }
    }

    #[test]
    fn the_delay_effect_is_paired_with_the_smallest_delay_of_the_same_pods_and_set() {
        let mut rows = vec![
            row(4, 100, 1, &[Some(10.0), Some(20.0), Some(30.0), Some(40.0)]),
            row(4, 500, 1, &[Some(11.0), Some(21.5), Some(31.0), Some(41.0)]),
            // Another --set value, without a point at the base delay.
            row(4, 500, 2, &[Some(50.0), Some(60.0), Some(70.0), Some(80.0)]),
            row(4, 300, 2, &[Some(45.0), Some(58.0), Some(66.0), Some(79.0)]),
            // Another pod count where a replication did not finish: unknown, not biased.
            row(8, 100, 1, &[Some(5.0), None]),
            row(8, 500, 1, &[Some(9.0), Some(1.0)]),
            // One replication: a mean, no interval.
            row(2, 100, 1, &[Some(5.0)]),
            row(2, 500, 1, &[Some(7.0)]),
        ];
        pair_delay_effects(&mut rows, 100_000_000);
        assert_eq!(rows[0].delay_effect, [Some(0.0), Some(0.0), Some(0.0)]);
        // Differences 1, 1.5, 1, 1.
        let [mean, lo, hi] = rows[1].delay_effect;
        assert!((mean.unwrap() - 4.5 / 4.0).abs() < 1e-12);
        // t(3) * s / sqrt(4), with s = 1/4 below the whole-second reading's own spread, 1/sqrt(6).
        let half = 3.182_446_305 * (1.0_f64 / 6.0 / 4.0).sqrt();
        assert!(
            (hi.unwrap() - mean.unwrap() - half).abs() < 1e-6,
            "{:?}",
            rows[1].delay_effect
        );
        assert!((mean.unwrap() - lo.unwrap() - half).abs() < 1e-6);
        // Set 2 has no point at 100 ms: nothing to pair with.
        assert_eq!(rows[2].delay_effect, [None; 3]);
        assert_eq!(rows[3].delay_effect, [None; 3]);
        assert_eq!(rows[5].delay_effect, [None; 3]);
        assert_eq!(rows[4].delay_effect, [None; 3]);
        assert_eq!(rows[7].delay_effect, [Some(2.0), None, None]);
        // With 300 ms as the base, set 2 pairs: 5, 2, 4, 1.
        pair_delay_effects(&mut rows, 300_000_000);
        assert_eq!(rows[2].delay_effect[0], Some(3.0));
        assert_eq!(rows[3].delay_effect[..1], [Some(0.0)]);
        assert_eq!(rows[1].delay_effect, [None; 3]);
    }

    /// Each varying axis's effect pairs a row with the row of the same pods, delay and other
    /// axes at that axis's first value; an axis of one value has no columns; a base missing
    /// (a shard) leaves `None`.
    #[test]
    fn each_set_axis_is_paired_with_its_first_value() {
        let axis = |path: &str, values: &[i64]| super::super::spec::SetAxis {
            path: path.into(),
            values: values.iter().map(|&v| Json::from(v)).collect(),
            fault: None,
        };
        let two = |pods, delay_ms, a: i64, b: i64, obs: &[Option<f64>]| {
            let mut r = row(pods, delay_ms, a, obs);
            r.set.push(Json::from(b));
            r
        };
        let mut rows = vec![
            two(4, 100, 1, 7, &[Some(10.0), Some(20.0)]),
            two(4, 100, 2, 7, &[Some(13.0), Some(22.0)]),
            two(4, 100, 3, 7, &[Some(9.0), None]),
            // Another delay: paired with its own first value's row, which is missing.
            two(4, 500, 2, 7, &[Some(30.0), Some(40.0)]),
        ];
        pair_set_effects(&mut rows, &[axis("a", &[1, 2, 3]), axis("b", &[7])]);
        assert_eq!(rows[0].set_effects, [[Some(0.0); 3]]);
        assert_eq!(rows[1].set_effects[0][0], Some(2.5));
        assert!(rows[1].set_effects[0][1].unwrap() < 2.5 && rows[1].set_effects[0][2].unwrap() > 2.5);
        assert_eq!(rows[2].set_effects, [[None; 3]], "an unfinished replication");
        assert_eq!(rows[3].set_effects, [[None; 3]], "no base at 500 ms");
        // The second axis has one value: no effect of it; the first's three values come last.
        assert_eq!(rows[1].set_effects.len(), 1);
        let values = rows[1].values();
        assert_eq!(values[values.len() - 3], Json::from(2.5));
    }

    #[test]
    fn a_point_without_set_is_the_validate_cell() {
        let (base, _) = topologies::params::resolve("thesis-2019", None).unwrap();
        let spec = SweepSpec {
            kubetwin_version: "t".into(),
            model_digest: "d".into(),
            seeds: String::new(),
            scenario: base.name.clone(),
            scenario_digest: "d".into(),
            pods: vec![4],
            delay: vec!["100ms".into()],
            set: Vec::new(),
            faults: Vec::new(),
            reps: 3,
            seed: 9,
        };
        let p = &spec.points().unwrap()[0];
        let rec = compute(&spec, "h", p, &base, None, &|| {}).unwrap();
        let cell = validate::compare::simulate_cell(&base, 4, 100, 3, 9).unwrap();
        let observed: Vec<f64> = rec.startup_observed_s.iter().flatten().copied().collect();
        assert_eq!(observed, cell.samples);
        let row = Row::from_record(&rec).unwrap();
        assert_eq!(row.startup[0], Some(cell.observed_mean_s));
        assert_eq!(row.exact_mean, Some(cell.exact_mean_s));
    }

    /// etcd's columns: means over the replications that simulated the elections; a record of
    /// a point that simulated none writes no `etcd` field, and one without it (written before
    /// the field existed) reads as none.
    #[test]
    fn etcd_means_come_from_the_replications_that_simulated_elections() {
        let mut rec = PointRecord {
            spec_hash: "h".into(),
            key: "k".into(),
            index: 0,
            pods: 4,
            delay: "100ms".into(),
            set: Vec::new(),
            seed: 1,
            startup_observed_s: vec![Some(20.0), Some(21.0)],
            startup_exact_s: vec![Some(20.2), Some(21.1)],
            phases_s: vec![[None; 4]; 2],
            resolution_s: 1.0,
            etcd: vec![Some([1.0, 1.5]), Some([3.0, 2.5])],
        };
        let row = Row::from_record(&rec).unwrap();
        assert_eq!(row.etcd, [Some(2.0), Some(2.0)]);
        rec.etcd = vec![None, None];
        let text = serde_json::to_string(&rec).unwrap();
        assert!(!text.contains("etcd"), "{text}");
        let back: PointRecord = serde_json::from_str(&text).unwrap();
        assert!(back.etcd.is_empty());
        assert_eq!(Row::from_record(&back).unwrap().etcd, [None, None]);
    }
}
