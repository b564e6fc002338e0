//! Compare simulated and measured pod start-up, cell by cell.
//!
//! For every measured cell (pods, added delay) the scenario is simulated with the same workload
//! and delay, `reps` times, and observed the way the measurement was: a kubectl watch read in
//! whole seconds ([`models::observer`]).
//!
//! Every cell runs replication `r` with the same seed, `replication_seed(seed, r)`, as `kubetwin
//! run` and `plan` do: common random numbers. With the model's keyed draws
//! ([`models::draws`]) two cells that differ only in their delay differ by what the delay does,
//! so a delay effect (a difference of two cells) is measured on paired replications, far more
//! precisely than from independent ones (`shape`). Adding or removing a cell never changes
//! another cell's numbers, and replications run in parallel with results gathered in order, so
//! thread count changes nothing.

use models::cluster::{self, ModelError};
use models::spec::Scenario;
use rayon::prelude::*;
use serde::Serialize;
use sim_core::rng::{mix64, replication_seed};
use sim_core::stats::OnlineStats;
use sim_core::SimDuration;

use crate::dataset::{MeasuredCell, Observed};

/// What the simulation says about one cell.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SimulatedCell {
    /// Pods.
    pub pods: u32,
    /// Added one-way delay, ms.
    pub delay_ms: u32,
    /// Mean start-up as observed (whole seconds), s.
    pub observed_mean_s: f64,
    /// 95 % confidence interval of that mean, s (`None` with one replication).
    pub ci95: Option<(f64, f64)>,
    /// Mean exact start-up, s: the expectation of the whole-second observation (the clock's
    /// phase is uniform), and the smooth quantity calibration fits.
    pub exact_mean_s: f64,
    /// Observed start-up of each replication, s.
    pub samples: Vec<f64>,
    /// The resolution the replications were read at, s: the watch's tick for
    /// [`Observed::KubectlWatch`], 1 s for [`Observed::ContainerStart`] (Kubernetes' RFC 3339
    /// timestamps are whole seconds).
    pub resolution_s: f64,
}

/// Simulates one cell with `reps` replications, observed as the thesis observed it (a kubectl
/// watch read in whole seconds).
///
/// # Errors
///
/// As [`simulate_cell_observed`].
pub fn simulate_cell(
    scenario: &Scenario,
    pods: u32,
    delay_ms: u32,
    reps: u32,
    seed: u64,
) -> Result<SimulatedCell, ModelError> {
    simulate_cell_observed(scenario, pods, delay_ms, reps, seed, Observed::KubectlWatch)
}

/// Simulates the measured cell `c` with `reps` replications, observed as it was measured: by
/// `c.observed`, and for a kubectl watch at the cell's `resolution_s`.
///
/// # Errors
///
/// As [`simulate_cell_observed`].
pub fn simulate_measured(
    scenario: &Scenario,
    c: &MeasuredCell,
    reps: u32,
    seed: u64,
) -> Result<SimulatedCell, ModelError> {
    let tick = models::units::Dur(SimDuration::from_secs_f64(c.resolution_s));
    if c.observed == Observed::KubectlWatch && tick != scenario.workload.resolution {
        let mut s = scenario.clone();
        s.workload.resolution = tick;
        return simulate_cell_observed(&s, c.pods, c.delay_ms, reps, seed, c.observed);
    }
    simulate_cell_observed(scenario, c.pods, c.delay_ms, reps, seed, c.observed)
}

/// Simulates one cell with `reps` replications, observed as `observed` says the measurement
/// was. For [`Observed::ContainerStart`] a replication's start-up is its last container start,
/// read as the difference of two whole-second timestamps (the container's `startedAt` and the
/// deployment's `creationTimestamp`) on a clock of random phase, whose mean is the exact time.
///
/// # Errors
///
/// [`ModelError`] if the scenario cannot be assembled, and [`ModelError::Unfinished`] if a
/// replication did not finish within `workload.timeout` (a mean without it would be biased).
pub fn simulate_cell_observed(
    scenario: &Scenario,
    pods: u32,
    delay_ms: u32,
    reps: u32,
    seed: u64,
    observed_as: Observed,
) -> Result<SimulatedCell, ModelError> {
    // A cell the workers cannot hold would only time out: say why instead.
    if let Some(f) = topologies::check::workload_fits(&cluster::with_overrides(scenario, Some(pods), None)) {
        return Err(ModelError::Unfinished {
            scenario: scenario.name.clone(),
            message: format!("{pods} pods at +{delay_ms} ms: {}", f.message),
        });
    }
    let outs = run_cell(scenario, pods, delay_ms, reps, seed, |o, rep_seed| match observed_as {
        Observed::KubectlWatch => (o.startup_observed_s, o.startup_exact_s),
        Observed::ContainerStart => {
            let last = last_container_start(&o.pods);
            (last.map(|t| whole_second_difference(t, rep_seed)), last)
        }
    })?;
    let resolution_s = match observed_as {
        Observed::KubectlWatch => scenario.workload.resolution.secs_f64(),
        Observed::ContainerStart => 1.0,
    };
    let mut observed = OnlineStats::new();
    let mut exact = OnlineStats::new();
    let mut samples = Vec::with_capacity(outs.len());
    let mut incomplete = 0;
    for (o, e) in outs {
        match (o, e) {
            (Some(o), Some(e)) => {
                observed.push(o);
                exact.push(e);
                samples.push(o);
            }
            _ => incomplete += 1,
        }
    }
    if incomplete > 0 {
        return Err(ModelError::Unfinished {
            scenario: scenario.name.clone(),
            message: format!(
                "{pods} pods at +{delay_ms} ms: {incomplete} of {reps} replications did not finish within workload.timeout ({}); a mean over the others would understate the start-up: lengthen the timeout, or check the scenario's faults{}",
                scenario.workload.timeout,
                topologies::check::late_scale(&cluster::with_overrides(scenario, Some(pods), None))
                    .map_or_else(String::new, |h| format!("; {h}"))
            ),
        });
    }
    Ok(SimulatedCell {
        pods,
        delay_ms,
        observed_mean_s: observed.mean().unwrap_or(f64::NAN),
        // Readings that happen to coincide keep the spread that reading gives them.
        ci95: observed
            .confidence_interval_read_at(0.95, resolution_s)
            .map(|c| (c.lo, c.hi)),
        exact_mean_s: exact.mean().unwrap_or(f64::NAN),
        samples,
        resolution_s,
    })
}

/// Runs `reps` replications of the cell (`pods`, `delay_ms`) of `scenario` in parallel,
/// replication `r` seeded `replication_seed(seed, r)` whatever the cell (common random numbers),
/// and maps each outcome with `f`, which also gets the replication's seed. Results come in replication order, whatever the thread count.
///
/// # Errors
///
/// [`ModelError`] if the scenario cannot be assembled.
pub fn run_cell<T: Send>(
    scenario: &Scenario,
    pods: u32,
    delay_ms: u32,
    reps: u32,
    seed: u64,
    f: impl Fn(cluster::RunOutcome, u64) -> T + Sync,
) -> Result<Vec<T>, ModelError> {
    let s = cluster::with_overrides(
        scenario,
        Some(pods),
        Some(SimDuration::from_millis(u64::from(delay_ms))),
    );
    let prepared = cluster::prepare(&s)?;
    (0..reps)
        .into_par_iter()
        .map(|r| {
            let rep_seed = replication_seed(seed, u64::from(r));
            prepared.run(rep_seed, false).map(|o| f(o, rep_seed))
        })
        .collect()
}

/// The last container start of a run, if every pod's container started.
fn last_container_start(pods: &[cluster::PodTimeline]) -> Option<f64> {
    pods.iter().try_fold(0.0_f64, |last, p| p.started.map(|t| last.max(t)))
}

/// `t` seconds after time zero, read as the difference of two whole-second timestamps of a
/// clock whose phase (drawn from `seed`) is uniform: `floor(t + u) - floor(u)`.
fn whole_second_difference(t: f64, seed: u64) -> f64 {
    // A stream of its own: the replication seed mixed with an arbitrary fixed salt, so the
    // clock's phase does not reuse a draw the run made. 53 bits give a uniform in [0, 1).
    const CLOCK_PHASE_SALT: u64 = 0x5eed_c10c;
    let u = (mix64(seed ^ CLOCK_PHASE_SALT) >> 11) as f64 / (1u64 << 53) as f64;
    (t + u).floor() - u.floor()
}

/// One cell of a comparison.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CellComparison {
    /// Pods.
    pub pods: u32,
    /// Added delay, ms.
    pub delay_ms: u32,
    /// Measured mean, s.
    pub measured_s: f64,
    /// Simulated mean as observed, s.
    pub simulated_s: f64,
    /// 95 % CI of the simulated mean, s: the symmetric Student-t interval, whose lower bound
    /// can fall below 0 with few, spread replications (`kubetwin` reports it clamped at 0).
    pub ci95: Option<(f64, f64)>,
    /// `(simulated - measured) / measured`, percent.
    pub error_pct: f64,
    /// Whether the measured mean lies inside the simulated 95 % CI; `None` when there is no CI
    /// (one replication): there is nothing to be inside or outside of.
    pub measured_in_ci: Option<bool>,
    /// 95 % prediction interval, s, for a measured mean of as many runs as the measurement had:
    /// where that mean should fall if the model is right, given the run-to-run spread the
    /// simulation shows (including the whole-second reading). `None` with fewer than two
    /// finished replications. Symmetric, like [`ci95`](Self::ci95) (reported clamped at 0).
    pub pi95: Option<(f64, f64)>,
    /// Whether the measured mean lies inside [`pi95`](Self::pi95): a miss outside it is more
    /// than the noise of a measurement of that many runs. `None` when there is no PI (fewer
    /// than two replications), not `false`: one replication says nothing about the noise.
    pub measured_in_pi: Option<bool>,
    /// Runs the measured mean is over (the prediction interval's `m`).
    pub runs: u32,
    /// How the measured (and so the simulated) start-up was observed: `kubectl-watch` or
    /// `container-start` ([`Observed`]).
    pub observed: &'static str,
}

/// Whether the table's shape holds: the delay changes start-up little at few pods and more at
/// many.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Shape {
    /// Fewest pods among the cells.
    pub few_pods: u32,
    /// Most pods.
    pub many_pods: u32,
    /// The delays, ms, both delay effects are taken between: the smallest and the largest the
    /// cells give at both `few_pods` and `many_pods` (every delay of the one pod count when all
    /// cells share it), so that both are effects of one change of delay. `None` when there are
    /// not two such delays, or the cells at them are observed differently; the deltas are then
    /// each pod count's own (smallest to largest delay), shown but not compared.
    pub delays_ms: Option<(u32, u32)>,
    /// The cells at those delays are not all observed alike (`kubectl-watch` and
    /// `container-start`): no effect is taken across two observations.
    pub mixed_observation: bool,
    /// The delays of the cells at `few_pods`, ms, ascending.
    pub delays_at_few_ms: Vec<u32>,
    /// The delays of the cells at `many_pods`, ms, ascending.
    pub delays_at_many_ms: Vec<u32>,
    /// The cells can show the shape: they give a delay effect at `few_pods` and at `many_pods`,
    /// these differ, and both are between two delays both counts share (`delays_ms`), at cells
    /// observed alike. When false the half-widths and verdicts below are `None`
    /// (a delta is given where the cells have one; with every cell at one pod count, only the
    /// `few` ones), and [`Shape::untestable_because`] says what the cells lack.
    pub testable: bool,
    /// Measured change between `delays_ms` at `few_pods` (when not testable, between that count's
    /// own smallest and largest delay), s.
    pub measured_delta_few_s: Option<f64>,
    /// Measured change at `many_pods`, s.
    pub measured_delta_many_s: Option<f64>,
    /// Simulated change at `few_pods`, s.
    pub simulated_delta_few_s: Option<f64>,
    /// Simulated change at `many_pods`, s.
    pub simulated_delta_many_s: Option<f64>,
    /// Half-width of the simulated contrast's 95 % interval, s. The cells share their
    /// replications' seeds (common random numbers), so the contrast is computed per replication
    /// and this is its Student-t CI. Without paired replications (cells of different
    /// replication counts), the four cells' CI half-widths combined as independent.
    pub simulated_contrast_half_width_s: Option<f64>,
    /// Half-width of the 95 % interval in which the *measured* contrast should fall if the model
    /// is right, s: `t · √(Σ s²/runs + var(contrast)/n)` over the four cells, the measured
    /// means' own noise (independent runs, each cell's spread as the simulation shows it) plus
    /// the simulated contrast's. Without paired replications, the four cells' prediction-interval
    /// half-widths combined as independent.
    pub measured_contrast_half_width_s: Option<f64>,
    /// The simulated contrast's interval is from paired replications.
    pub paired: bool,
    /// The measured contrast lies within [`measured_contrast_half_width_s`] of the simulated
    /// one: the model's delay effect agrees with the measured one up to the measurements'
    /// noise. `None` when the cells do not give both deltas.
    ///
    /// [`measured_contrast_half_width_s`]: Self::measured_contrast_half_width_s
    pub contrast_within_noise: Option<bool>,
    /// The simulated contrast (delta at many pods minus delta at few) has the measured one's
    /// sign and is larger than its own 95 % half-width: the simulation resolves the shape, not
    /// just noise. `None` when the cells do not give both deltas, or there is no half-width (one
    /// replication).
    pub holds: Option<bool>,
}

impl Shape {
    /// What the cells lack to show the shape, when they cannot ([`Shape::testable`] false):
    /// every cell at one pod count, one delay only at the fewest or the most pods, fewer than two
    /// delays they share, or cells not all observed alike.
    pub fn untestable_because(&self) -> Option<String> {
        if self.testable {
            return None;
        }
        let (few, many) = (self.few_pods, self.many_pods);
        let one_delay = |pods: u32| format!("one delay at {pods} pods");
        let list = |d: &[u32]| d.iter().map(|d| format!("{d}")).collect::<Vec<_>>().join(", ");
        let shared = self
            .delays_at_few_ms
            .iter()
            .filter(|d| self.delays_at_many_ms.contains(d))
            .count();
        Some(if few == many {
            format!("every cell is at {few} pods")
        } else if self.delays_at_few_ms.len() < 2 || self.delays_at_many_ms.len() < 2 {
            match (self.delays_at_few_ms.len() < 2, self.delays_at_many_ms.len() < 2) {
                (true, true) => format!("there is {} and {}", one_delay(few), one_delay(many)),
                (true, false) => format!("there is {}, the fewest", one_delay(few)),
                _ => format!("there is {}, the most", one_delay(many)),
            }
        } else if shared < 2 && few != many {
            format!(
                "{few} and {many} pods share fewer than two delays ({few} pods at {} ms; {many} pods at {} ms): effects of two different changes of delay do not compare",
                list(&self.delays_at_few_ms),
                list(&self.delays_at_many_ms)
            )
        } else {
            "the cells at the delays compared are not all observed alike (kubectl-watch and container-start): an effect, or a contrast of two, would mix two observations".to_owned()
        })
    }
}

/// A whole comparison.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Comparison {
    /// Cell by cell.
    pub cells: Vec<CellComparison>,
    /// Mean absolute percentage error over cells.
    pub mape_pct: f64,
    /// Largest absolute error over cells, percent; NaN if any cell's error is NaN (never a
    /// "perfect" 0 that hides it).
    pub max_abs_error_pct: f64,
    /// The table's shape.
    pub shape: Shape,
    /// Replications per cell.
    pub reps: u32,
    /// Seed.
    pub seed: u64,
}

/// Compares `scenario` with the measured `cells`.
///
/// # Errors
///
/// [`ModelError`] if the scenario cannot be assembled.
pub fn compare(scenario: &Scenario, cells: &[MeasuredCell], reps: u32, seed: u64) -> Result<Comparison, ModelError> {
    let mut out = Vec::with_capacity(cells.len());
    let mut sims = Vec::with_capacity(cells.len());
    for c in cells {
        let sim = simulate_measured(scenario, c, reps, seed)?;
        let error_pct = (sim.observed_mean_s - c.mean_s) / c.mean_s * 100.0;
        let pi95 = sim
            .samples
            .iter()
            .copied()
            .collect::<OnlineStats>()
            .prediction_interval_for_mean_read_at(u64::from(c.runs), 0.95, sim.resolution_s)
            .map(|p| (p.lo, p.hi));
        out.push(CellComparison {
            pods: c.pods,
            delay_ms: c.delay_ms,
            measured_s: c.mean_s,
            simulated_s: sim.observed_mean_s,
            ci95: sim.ci95,
            error_pct,
            measured_in_ci: holds(sim.ci95, c.mean_s),
            pi95,
            measured_in_pi: holds(pi95, c.mean_s),
            runs: c.runs,
            observed: c.observed.as_str(),
        });
        sims.push(sim);
    }
    let n = out.len().max(1) as f64;
    let mape_pct = out.iter().map(|c| c.error_pct.abs()).sum::<f64>() / n;
    let max_abs_error_pct = max_abs(out.iter().map(|c| c.error_pct));
    let samples: Vec<&[f64]> = sims.iter().map(|s| s.samples.as_slice()).collect();
    let shape = shape(&out, &samples);
    Ok(Comparison {
        cells: out,
        mape_pct,
        max_abs_error_pct,
        shape,
        reps,
        seed,
    })
}

/// Whether the closed interval holds `x`; `None` when there is no interval.
fn holds(interval: Option<(f64, f64)>, x: f64) -> Option<bool> {
    interval.map(|(lo, hi)| lo <= x && x <= hi)
}

/// The largest `|e|`, 0 for none, and NaN if any `e` is NaN: `f64::max` drops a NaN, which
/// turned a cell simulated as NaN into a maximum error of 0.0.
fn max_abs(errors: impl IntoIterator<Item = f64>) -> f64 {
    errors
        .into_iter()
        .map(f64::abs)
        .fold(0.0, |m, e| if m.is_nan() || e.is_nan() { f64::NAN } else { m.max(e) })
}

/// The delays of the cells at `pods`, ascending.
fn delays_at(cells: &[CellComparison], pods: u32) -> Vec<u32> {
    let mut d: Vec<u32> = cells.iter().filter(|c| c.pods == pods).map(|c| c.delay_ms).collect();
    d.sort_unstable();
    d.dedup();
    d
}

/// The two delays both delay effects are taken between: the smallest and the largest that the
/// cells give at both `few` and `many` pods (so that the two effects are of the same change of
/// delay), if two differ.
fn common_delay_ends(cells: &[CellComparison], few: u32, many: u32) -> Option<(u32, u32)> {
    let at_many = delays_at(cells, many);
    let common: Vec<u32> = delays_at(cells, few)
        .into_iter()
        .filter(|d| at_many.contains(d))
        .collect();
    let (lo, hi) = (*common.first()?, *common.last()?);
    (hi > lo).then_some((lo, hi))
}

/// The indices of the cells at `pods` with the delays `ends` (low, high), if both are there.
fn delay_end_indices(cells: &[CellComparison], pods: u32, ends: Option<(u32, u32)>) -> Option<(usize, usize)> {
    let (lo, hi) = ends?;
    let at = |d: u32| cells.iter().position(|c| c.pods == pods && c.delay_ms == d);
    Some((at(lo)?, at(hi)?))
}

/// The cells at `pods` with the delays `ends`.
fn delay_ends(
    cells: &[CellComparison],
    pods: u32,
    ends: Option<(u32, u32)>,
) -> Option<(&CellComparison, &CellComparison)> {
    delay_end_indices(cells, pods, ends).map(|(lo, hi)| (&cells[lo], &cells[hi]))
}

/// The contrast's half-widths (simulated CI, measured PI) from paired replications: `samples[i]`
/// holds cell `i`'s replications in replication order, replication `r` of every cell run with
/// the same seed. `None` unless the four cells have as many replications, at least two.
fn paired_contrast_half_widths(
    cells: &[CellComparison],
    samples: &[&[f64]],
    few: u32,
    many: u32,
    ends: Option<(u32, u32)>,
) -> Option<(f64, f64)> {
    let (a, b) = delay_end_indices(cells, few, ends)?;
    let (c, d) = delay_end_indices(cells, many, ends)?;
    let n = samples.get(a)?.len();
    if n < 2 || [b, c, d].iter().any(|&i| samples.get(i).map(|s| s.len()) != Some(n)) {
        return None;
    }
    let contrast: OnlineStats = (0..n)
        .map(|r| (samples[d][r] - samples[c][r]) - (samples[b][r] - samples[a][r]))
        .collect();
    let t = OnlineStats::student_t((n - 1) as f64, 0.95)?;
    let var_mean = contrast.variance()? / n as f64;
    let mut measured_var = var_mean;
    for i in [a, b, c, d] {
        let s: OnlineStats = samples[i].iter().copied().collect();
        measured_var += s.variance()? / f64::from(cells[i].runs.max(1));
    }
    Some((t * var_mean.sqrt(), t * measured_var.sqrt()))
}

fn delta(
    cells: &[CellComparison],
    pods: u32,
    ends: Option<(u32, u32)>,
    value: impl Fn(&CellComparison) -> f64,
) -> Option<f64> {
    delay_ends(cells, pods, ends).map(|(lo, hi)| value(hi) - value(lo))
}

/// Root of the summed squared half-widths of an interval (`interval` picks it: the CI or the
/// PI) of the four cells the contrast uses.
fn contrast_half_width(
    cells: &[CellComparison],
    few: u32,
    many: u32,
    ends: Option<(u32, u32)>,
    interval: impl Fn(&CellComparison) -> Option<(f64, f64)>,
) -> Option<f64> {
    let (a, b) = delay_ends(cells, few, ends)?;
    let (c, d) = delay_ends(cells, many, ends)?;
    let mut sum = 0.0;
    for x in [a, b, c, d] {
        let (lo, hi) = interval(x)?;
        sum += ((hi - lo) / 2.0).powi(2);
    }
    Some(sum.sqrt())
}

/// The table's shape; `samples` are the cells' replications (empty slices when not at hand).
fn shape(cells: &[CellComparison], samples: &[&[f64]]) -> Shape {
    let few = cells.iter().map(|c| c.pods).min().unwrap_or(0);
    let many = cells.iter().map(|c| c.pods).max().unwrap_or(0);
    // Both effects of one change of delay: a 400-ms effect at few pods against a 200-ms one at
    // many would compare unlike things. With every cell at one pod count, its own ends.
    let common = common_delay_ends(cells, few, many);
    // Without a shared pair, a pod count's own delays still give its effect (shown, never
    // compared).
    let ends_at = |pods: u32| {
        common.or_else(|| {
            let d = delays_at(cells, pods);
            (d.len() > 1).then(|| (d[0], d[d.len() - 1]))
        })
    };
    let (mut ends_few, mut ends_many) = (ends_at(few), ends_at(many));
    // The cells observed alike: a container-start cell beside a kubectl-watch one gives a
    // "delay effect" of the two observations' difference.
    let observed: Vec<&str> = [(few, ends_few), (many, ends_many)]
        .into_iter()
        .filter_map(|(p, e)| delay_ends(cells, p, e))
        .flat_map(|(lo, hi)| [lo.observed, hi.observed])
        .collect();
    let mixed_observation = observed.windows(2).any(|w| w[0] != w[1]);
    if mixed_observation {
        (ends_few, ends_many) = (None, None);
    }
    let ends = common.filter(|_| !mixed_observation);
    let md_few = delta(cells, few, ends_few, |c| c.measured_s);
    let md_many = delta(cells, many, ends_many, |c| c.measured_s);
    let sd_few = delta(cells, few, ends_few, |c| c.simulated_s);
    let sd_many = delta(cells, many, ends_many, |c| c.simulated_s);
    // With every cell at one pod count the delta at the most pods would be the one at the
    // fewest, twice over.
    let (md_many, sd_many) = if few == many { (None, None) } else { (md_many, sd_many) };
    let testable = ends.is_some() && md_few.is_some() && md_many.is_some();
    let paired = if testable {
        paired_contrast_half_widths(cells, samples, few, many, ends)
    } else {
        None
    };
    let (half, measured_half) = match paired {
        Some((h, m)) => (Some(h), Some(m)),
        None if testable => (
            contrast_half_width(cells, few, many, ends, |c| c.ci95),
            contrast_half_width(cells, few, many, ends, |c| c.pi95),
        ),
        None => (None, None),
    };
    let contrast_within_noise = match (sd_few, sd_many, md_few, md_many, measured_half) {
        (Some(sf), Some(sm), Some(mf), Some(mm), Some(h)) => Some(((mm - mf) - (sm - sf)).abs() <= h),
        _ => None,
    };
    let holds = match (sd_few, sd_many, md_few, md_many, half) {
        (Some(sf), Some(sm), Some(mf), Some(mm), Some(h)) => Some((sm > sf) == (mm > mf) && (sm - sf).abs() > h),
        _ => None,
    };
    Shape {
        few_pods: few,
        many_pods: many,
        delays_ms: ends,
        mixed_observation,
        delays_at_few_ms: delays_at(cells, few),
        delays_at_many_ms: delays_at(cells, many),
        testable,
        measured_delta_few_s: md_few,
        measured_delta_many_s: md_many,
        simulated_delta_few_s: sd_few,
        simulated_delta_many_s: sd_many,
        simulated_contrast_half_width_s: half,
        measured_contrast_half_width_s: measured_half,
        paired: paired.is_some(),
        contrast_within_noise,
        holds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thesis() -> Scenario {
        topologies::load::by_name_or_path("thesis-2019").unwrap().0
    }

    fn cell(pods: u32, delay_ms: u32, mean_s: f64) -> MeasuredCell {
        MeasuredCell {
            pods,
            delay_ms,
            mean_s,
            runs: 5,
            resolution_s: 1.0,
            observed: Default::default(),
        }
    }

    /// A kubectl-watch cell is read at its own resolution, not the scenario's.
    #[test]
    fn a_cell_is_observed_at_its_resolution() {
        let s = thesis();
        let coarse = MeasuredCell {
            resolution_s: 5.0,
            ..cell(4, 100, 25.0)
        };
        let sim = simulate_measured(&s, &coarse, 6, 1).unwrap();
        assert!(sim.samples.iter().all(|x| x % 5.0 == 0.0), "{:?}", sim.samples);
        let fine = simulate_measured(&s, &cell(4, 100, 25.0), 6, 1).unwrap();
        assert!(fine.samples.iter().any(|x| x % 5.0 != 0.0), "{:?}", fine.samples);
    }

    /// The prediction interval of a coarse cell reads at the cell's resolution, as its
    /// replications were read: never narrower than the confidence interval of their mean.
    #[test]
    fn a_coarse_cells_prediction_interval_is_read_at_its_resolution() {
        let s = thesis();
        let coarse = MeasuredCell {
            resolution_s: 5.0,
            ..cell(4, 100, 28.0)
        };
        let c = compare(&s, &[coarse], 3, 1).unwrap();
        let (ci, pi) = (c.cells[0].ci95.unwrap(), c.cells[0].pi95.unwrap());
        assert!(pi.1 - pi.0 >= ci.1 - ci.0, "PI {pi:?} narrower than CI {ci:?}");
    }

    /// A cell whose replications do not all finish is an error that says so, not a mean over
    /// the ones that did (which printed NaN, or an understated mean, as a result).
    #[test]
    fn a_cell_that_does_not_finish_is_an_error() {
        let mut s = thesis();
        s.workload.timeout = models::units::Dur::secs(5);
        let err = compare(&s, &[cell(4, 100, 25.0)], 3, 1).unwrap_err();
        assert!(matches!(err, ModelError::Unfinished { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("4 pods at +100 ms: 3 of 3 replications did not finish within workload.timeout (5s)"),
            "{text}"
        );
    }

    #[test]
    fn a_cell_does_not_depend_on_the_other_cells() {
        let s = thesis();
        let alone = compare(&s, &[cell(4, 100, 25.0)], 4, 3).unwrap();
        let with = compare(&s, &[cell(8, 300, 30.0), cell(4, 100, 25.0)], 4, 3).unwrap();
        assert_eq!(alone.cells[0], with.cells[1]);
    }

    #[test]
    fn errors_and_summary_are_computed_from_the_cells() {
        let s = thesis();
        let c = compare(
            &s,
            &[
                cell(4, 100, 25.0),
                cell(4, 500, 26.0),
                cell(12, 100, 40.0),
                cell(12, 500, 44.0),
            ],
            3,
            1,
        )
        .unwrap();
        for x in &c.cells {
            assert!((x.error_pct - (x.simulated_s - x.measured_s) / x.measured_s * 100.0).abs() < 1e-9);
        }
        let mape = c.cells.iter().map(|x| x.error_pct.abs()).sum::<f64>() / 4.0;
        assert!((c.mape_pct - mape).abs() < 1e-9);
        assert_eq!((c.shape.few_pods, c.shape.many_pods), (4, 12));
        assert_eq!(c.shape.measured_delta_many_s, Some(4.0));
        assert!(c.shape.holds.is_some());
    }

    #[test]
    fn the_prediction_interval_holds_a_measured_mean_of_as_many_runs_as_the_cell_had() {
        let s = thesis();
        // The "measurement" is the simulator's own mean of 5 whole-second runs (other seeds).
        let truth = simulate_cell(&s, 4, 100, 5, 99).unwrap();
        let mut one = cell(4, 100, truth.observed_mean_s);
        let c = compare(&s, std::slice::from_ref(&one), 12, 1).unwrap().cells[0].clone();
        let (lo, hi) = c.pi95.expect("12 replications give an interval");
        let (clo, chi) = c.ci95.unwrap();
        // Wider than the CI of the simulated mean, centred on the same mean.
        assert!(lo < clo && chi < hi, "pi [{lo}, {hi}] vs ci [{clo}, {chi}]");
        assert!(((lo + hi) / 2.0 - c.simulated_s).abs() < 1e-9);
        assert_eq!(c.measured_in_pi, Some(true), "{c:?}");
        // One run is noisier than a mean of five: a wider interval.
        one.runs = 1;
        let single = compare(&s, &[one], 12, 1).unwrap().cells[0].clone();
        let (slo, shi) = single.pi95.unwrap();
        assert!(shi - slo > hi - lo);
        // A measured mean 20 s away is outside either.
        let far = compare(&s, &[cell(4, 100, c.simulated_s + 20.0)], 12, 1).unwrap().cells[0].clone();
        assert_eq!(far.measured_in_pi, Some(false));
    }

    /// With one replication there is no CI or PI: whether the measured mean is inside one is
    /// unknown (`None`), not `false` (which printed "measured mean outside" for every cell).
    #[test]
    fn with_one_replication_inside_or_outside_is_unknown() {
        let c = compare(&thesis(), &[cell(4, 100, 25.0)], 1, 1).unwrap().cells[0].clone();
        assert_eq!((c.ci95, c.pi95), (None, None), "{c:?}");
        assert_eq!((c.measured_in_ci, c.measured_in_pi), (None, None), "{c:?}");
        let two = compare(&thesis(), &[cell(4, 100, 1000.0)], 2, 1).unwrap().cells[0].clone();
        assert_eq!(
            (two.measured_in_ci, two.measured_in_pi),
            (Some(false), Some(false)),
            "{two:?}"
        );
    }

    /// A NaN error is not a maximum error of 0 %.
    #[test]
    fn the_largest_error_keeps_a_nan() {
        assert_eq!(max_abs([-3.0, 2.0]), 3.0);
        assert_eq!(max_abs([]), 0.0);
        assert!(max_abs([1.0, f64::NAN, 2.0]).is_nan());
        assert!(max_abs([f64::NAN]).is_nan());
    }

    fn compared(pods: u32, delay_ms: u32, measured_s: f64, simulated_s: f64, half: f64) -> CellComparison {
        CellComparison {
            pods,
            delay_ms,
            measured_s,
            simulated_s,
            ci95: Some((simulated_s - half, simulated_s + half)),
            error_pct: 0.0,
            measured_in_ci: Some(true),
            pi95: Some((simulated_s - 2.0 * half, simulated_s + 2.0 * half)),
            measured_in_pi: Some(true),
            runs: 5,
            observed: "kubectl-watch",
        }
    }

    /// The shape of cells given as (pods, delay ms, measured s, simulated s), each with a CI
    /// of ±1 s and three paired replications.
    fn shape_of(cells: &[(u32, u32, f64, f64)]) -> Shape {
        let cells: Vec<CellComparison> = cells
            .iter()
            .map(|&(p, d, m, sim)| compared(p, d, m, sim, 1.0))
            .collect();
        let samples = vec![&[20.0, 21.0, 22.0][..]; cells.len()];
        shape(&cells, &samples)
    }

    /// Cells without two delays at each of two pod counts cannot show the shape: it used to be
    /// reported as the delay effect "at 4 pods ...; at 4 pods ...", all n/a. It says so, and
    /// keeps a delay effect the cells do give, once.
    #[test]
    fn cells_that_cannot_show_the_shape_say_what_they_lack() {
        let of = shape_of;
        let single = of(&[(4, 100, 24.9, 24.0)]);
        assert!(!single.testable);
        assert_eq!(single.untestable_because().as_deref(), Some("every cell is at 4 pods"));
        assert_eq!(
            (single.measured_delta_few_s, single.measured_delta_many_s),
            (None, None)
        );
        let one_count = of(&[(4, 100, 24.9, 24.0), (4, 500, 25.5, 25.0)]);
        assert_eq!(
            one_count.untestable_because().as_deref(),
            Some("every cell is at 4 pods")
        );
        assert_eq!(
            (one_count.measured_delta_few_s, one_count.simulated_delta_few_s),
            (Some(25.5 - 24.9), Some(1.0))
        );
        assert_eq!(
            (one_count.measured_delta_many_s, one_count.simulated_delta_many_s),
            (None, None)
        );
        assert_eq!(
            (
                one_count.simulated_contrast_half_width_s,
                one_count.measured_contrast_half_width_s,
                one_count.paired,
                one_count.holds,
                one_count.contrast_within_noise
            ),
            (None, None, false, None, None)
        );
        assert_eq!(
            of(&[(4, 100, 24.9, 24.0), (20, 300, 30.0, 42.0)])
                .untestable_because()
                .as_deref(),
            Some("there is one delay at 4 pods and one delay at 20 pods")
        );
        assert_eq!(
            of(&[(4, 100, 24.9, 24.0), (100, 100, 125.4, 130.0), (100, 500, 141.0, 135.0)])
                .untestable_because()
                .as_deref(),
            Some("there is one delay at 4 pods, the fewest")
        );
        assert_eq!(
            of(&[(4, 100, 24.9, 24.0), (4, 500, 25.5, 25.0), (100, 100, 125.4, 130.0)])
                .untestable_because()
                .as_deref(),
            Some("there is one delay at 100 pods, the most")
        );
        let four = of(&[
            (4, 100, 24.9, 24.0),
            (4, 500, 25.5, 25.0),
            (100, 100, 125.4, 130.0),
            (100, 500, 141.0, 135.0),
        ]);
        assert!(four.testable && four.paired && four.holds.is_some(), "{four:?}");
        assert_eq!(four.untestable_because(), None);
    }

    /// Both delay effects are of one change of delay: cells at 4 pods (100, 500 ms) and 100
    /// pods (100, 300 ms) used to compare a 400-ms effect with a 200-ms one. With a shared pair
    /// among more delays, that pair is used; without one, the shape is not tested, and each
    /// count's own effect is kept to show. Cells observed differently at the ends are not
    /// compared either.
    #[test]
    fn the_shape_compares_one_change_of_delay_observed_alike() {
        let of = shape_of;
        let unlike = of(&[
            (4, 100, 25.0, 24.0),
            (4, 500, 26.0, 25.0),
            (100, 100, 125.0, 130.0),
            (100, 300, 128.0, 131.0),
        ]);
        assert!(
            !unlike.testable && unlike.delays_ms.is_none() && unlike.holds.is_none(),
            "{unlike:?}"
        );
        assert_eq!(
            unlike.untestable_because().as_deref(),
            Some("4 and 100 pods share fewer than two delays (4 pods at 100, 500 ms; 100 pods at 100, 300 ms): effects of two different changes of delay do not compare")
        );
        assert_eq!(
            unlike.measured_delta_few_s,
            Some(1.0),
            "each count's own effect, to show"
        );
        let shared = of(&[
            (4, 100, 25.0, 24.0),
            (4, 300, 25.5, 24.5),
            (4, 500, 26.0, 25.0),
            (100, 100, 125.0, 130.0),
            (100, 300, 128.0, 131.0),
        ]);
        assert_eq!(shared.delays_ms, Some((100, 300)));
        assert!(shared.testable, "{shared:?}");
        assert_eq!(
            (shared.measured_delta_few_s, shared.measured_delta_many_s),
            (Some(0.5), Some(3.0))
        );
        let mut cells: Vec<CellComparison> = [
            (4, 100, 25.0, 24.0),
            (4, 500, 26.0, 25.0),
            (100, 100, 125.0, 130.0),
            (100, 500, 141.0, 135.0),
        ]
        .iter()
        .map(|&(p, d, m, sim)| compared(p, d, m, sim, 1.0))
        .collect();
        cells[3].observed = "container-start";
        let samples = vec![&[20.0, 21.0, 22.0][..]; cells.len()];
        let mixed = shape(&cells, &samples);
        assert!(
            mixed.mixed_observation && !mixed.testable && mixed.measured_delta_many_s.is_none(),
            "{mixed:?}"
        );
        assert!(mixed
            .untestable_because()
            .unwrap()
            .starts_with("the cells at the delays compared are not all observed alike"));
    }

    #[test]
    fn the_shape_holds_only_when_the_simulated_contrast_beats_its_noise() {
        let table = |sim_many_500: f64, half: f64| {
            shape(
                &[
                    compared(4, 100, 24.9, 24.0, half),
                    compared(4, 500, 25.5, 24.5, half),
                    compared(100, 100, 125.4, 130.0, half),
                    compared(100, 500, 141.0, sim_many_500, half),
                ],
                &[],
            )
        };
        // Contrast +4.5 s, noise sqrt(4) x 1 s = 2 s: resolved, right sign.
        let s = table(135.0, 1.0);
        assert_eq!(s.simulated_contrast_half_width_s, Some(2.0));
        assert_eq!(s.holds, Some(true));
        // Same contrast, noise 4 s: not resolved.
        assert_eq!(table(135.0, 2.5).holds, Some(false));
        // Contrast of the wrong sign, however precise.
        assert_eq!(table(129.0, 0.1).holds, Some(false));
        // A near-zero contrast (the old rule called +0.1 vs -0.2 a match).
        assert_eq!(table(130.6, 1.0).holds, Some(false));
        // Measured contrast +15.0 s against simulated +4.5 s: 10.5 s apart, beyond a prediction
        // noise of sqrt(4) x 2 s = 4 s, within sqrt(4) x 6 s = 12 s.
        let s = table(135.0, 1.0);
        assert_eq!(s.measured_contrast_half_width_s, Some(4.0));
        assert_eq!(s.contrast_within_noise, Some(false));
        assert_eq!(table(135.0, 3.0).contrast_within_noise, Some(true));
        // One replication: no interval, so no verdict either way (it used to say "does not hold").
        let single: Vec<CellComparison> = [
            (4, 100, 24.9, 24.0),
            (4, 500, 25.5, 24.5),
            (100, 100, 125.4, 130.0),
            (100, 500, 141.0, 135.0),
        ]
        .map(|(p, d, m, sim)| CellComparison {
            ci95: None,
            pi95: None,
            measured_in_ci: None,
            measured_in_pi: None,
            ..compared(p, d, m, sim, 0.0)
        })
        .to_vec();
        let s = shape(&single, &[]);
        assert_eq!(
            (s.simulated_contrast_half_width_s, s.holds, s.contrast_within_noise),
            (None, None, None)
        );
        assert_eq!(s.simulated_delta_many_s, Some(5.0));
    }

    /// Replications that share their seeds vary together: the contrast is taken per
    /// replication, and its noise is the contrast's own, not the cells' spread added up.
    #[test]
    fn the_contrast_of_paired_replications_has_its_own_noise() {
        // A common run-to-run swing of ±10 s in every cell; the contrast varies by ±0.5 s.
        let swing = [-10.0, 10.0, -5.0, 5.0, 0.0, 0.0];
        let wobble = [0.5, -0.5, 0.5, -0.5, 0.5, -0.5];
        let few_lo: Vec<f64> = swing.iter().map(|w| 24.0 + w).collect();
        let few_hi: Vec<f64> = swing.iter().map(|w| 24.5 + w).collect();
        let many_lo: Vec<f64> = swing.iter().map(|w| 130.0 + w).collect();
        let many_hi: Vec<f64> = swing.iter().zip(&wobble).map(|(w, e)| 135.0 + w + e).collect();
        let cells = [
            compared(4, 100, 24.9, 24.0, 8.0),
            compared(4, 500, 25.5, 24.5, 8.0),
            compared(100, 100, 125.4, 130.0, 8.0),
            compared(100, 500, 141.0, 135.0, 8.0),
        ];
        let samples = [&few_lo[..], &few_hi, &many_lo, &many_hi];
        let s = shape(&cells, &samples);
        assert!(s.paired);
        // The contrast per replication: 4.5 ± 0.5, sd sqrt(0.3) = 0.548; t(5) = 2.571.
        let half = s.simulated_contrast_half_width_s.unwrap();
        let expected = 2.570_581_836 * (0.3_f64 / 6.0).sqrt();
        assert!((half - expected).abs() < 1e-6, "{half} vs {expected}");
        assert_eq!(s.holds, Some(true), "resolved: 4.5 s against ±{half:.2} s");
        // Independent cells with the same CIs (±8 s each) would not resolve it.
        let unpaired = shape(&cells, &[]);
        assert!(!unpaired.paired);
        assert_eq!(unpaired.holds, Some(false));
        // The measured contrast's noise keeps each measured mean's own runs: the cells' spread
        // over 5 runs each, plus the simulated contrast's.
        let var = |x: &[f64]| x.iter().copied().collect::<OnlineStats>().variance().unwrap();
        let measured_var = (var(&few_lo) + var(&few_hi) + var(&many_lo) + var(&many_hi)) / 5.0 + 0.3 / 6.0;
        let m = s.measured_contrast_half_width_s.unwrap();
        assert!((m - 2.570_581_836 * measured_var.sqrt()).abs() < 1e-6, "{m}");
        // Cells of unequal replication counts are not paired.
        let short = &many_hi[..5];
        assert!(!shape(&cells, &[&few_lo[..], &few_hi, &many_lo, short]).paired);
    }

    #[test]
    fn a_container_start_cell_is_simulated_up_to_the_last_container_start() {
        let s = thesis();
        let watch = simulate_cell_observed(&s, 4, 100, 6, 3, Observed::KubectlWatch).unwrap();
        let start = simulate_cell_observed(&s, 4, 100, 6, 3, Observed::ContainerStart).unwrap();
        // Same replications; the watch sees Running after the PLEG relist (0.5 s on average),
        // the status GET + PATCH (2 x 200 ms) and the watch event: later, by seconds at most.
        let gap = watch.exact_mean_s - start.exact_mean_s;
        assert!(
            gap > 0.4 && gap < 3.0,
            "watch {} vs container start {}",
            watch.exact_mean_s,
            start.exact_mean_s
        );
        // Read in whole seconds on a clock of random phase: integers near the exact times.
        assert!(start.samples.iter().all(|x| x.fract() == 0.0), "{:?}", start.samples);
        assert!((start.observed_mean_s - start.exact_mean_s).abs() < 1.0, "{start:?}");
    }
}
