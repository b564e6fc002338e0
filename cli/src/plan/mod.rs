//! The planner's report behind `kubetwin plan`: replications of a scenario at N pods, and of each
//! control-plane placement given, turned into answers with units and sources.
//!
//! - [`stats`]: time until N pods run, phases, waits, per-site last pods;
//! - [`net`]: round trips (mean and p99 with netem jitter and loss) and etcd health;
//! - [`placement`]: moving the masters and the load balancer to other sites;
//! - [`timeouts`]: which timers misfire at those round trips, and what to set;
//! - [`drills`]: what each single failure costs (`--drills`);
//! - [`tuning`]: what each setting would buy (`--tuning`);
//! - [`report`]: the Markdown; [`svg`]: the figure; [`json`]: the same answers for scripts.

pub(crate) mod drills;
pub(crate) mod fmt;
pub(crate) mod json;
pub(crate) mod net;
pub(crate) mod placement;
pub(crate) mod raft;
pub(crate) mod report;
pub(crate) mod stats;
pub(crate) mod svg;
pub(crate) mod timeouts;
pub(crate) mod tuning;

use models::cluster::{self, RunOutcome};
use models::spec::{Role, Scenario};
use rayon::prelude::*;

use self::net::NetFigures;
use self::placement::Placement;
use self::stats::{MeanCi, SiteRow, Startup};

/// One control-plane placement, simulated.
#[derive(Debug, Clone)]
pub(crate) struct OptionResult {
    /// Where the masters are.
    pub(crate) placement: Placement,
    /// Whether this is the scenario as given.
    pub(crate) is_current: bool,
    /// Time until N pods run.
    pub(crate) startup: Startup,
    /// Round trips and etcd.
    pub(crate) net: NetFigures,
    /// Per-site rows, slowest first.
    pub(crate) sites: Vec<SiteRow>,
    /// Paired difference to the scenario as given (same seeds), seconds.
    pub(crate) diff: Option<MeanCi>,
    /// Timeout rows at this placement's round trips.
    pub(crate) timeouts: Vec<timeouts::TimeoutRow>,
}

/// Everything the report says.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Where the scenario came from.
    pub(crate) origin: String,
    /// The scenario as simulated (pods overridden).
    pub(crate) scenario: Scenario,
    /// Pods.
    pub(crate) pods: u32,
    /// Replications per option.
    pub(crate) reps: u64,
    /// Experiment seed.
    pub(crate) seed: u64,
    /// The scenario as given: `options[0]`; then each `--placements` option.
    pub(crate) options: Vec<OptionResult>,
    /// `--placements` options that are where the masters already are: `options[0]`, not
    /// simulated twice (their labels).
    pub(crate) as_given: Vec<String>,
    /// What each single failure costs, when asked for (`--drills`).
    pub(crate) drills: Option<Drills>,
    /// What each setting would buy, when asked for (`--tuning`): the largest saving first, the
    /// combined row last.
    pub(crate) tuning: Option<Vec<tuning::TuningResult>>,
}

/// Section (f): the failures drilled and what each cost.
#[derive(Debug, Clone)]
pub(crate) struct Drills {
    /// When each failure happens.
    pub(crate) at: models::units::Dur,
    /// How long it lasts (for the rest of the run if `None`).
    pub(crate) lasting: Option<models::units::Dur>,
    /// The drills, worst first.
    pub(crate) results: Vec<drills::DrillResult>,
    /// Failures left out, with the reason.
    pub(crate) skipped: Vec<drills::Skipped>,
}

impl Drills {
    /// The failures with which no replication finished (the observing kubectl saw every pod
    /// run in none), among those that came while a replication still ran.
    pub(crate) fn finished_none(&self) -> Vec<&str> {
        self.finished_none_where(|_| true)
    }

    /// Of [`Drills::finished_none`], those not [`Drills::ran_unseen`]: the rollout stopped, or
    /// went on past the timeout.
    pub(crate) fn stopped(&self) -> Vec<&str> {
        self.finished_none_where(|r| !r.ran_unseen_throughout())
    }

    /// Of [`Drills::finished_none`], those with which every pod ran in every replication but
    /// the observing kubectl never saw them all within the timeout (a failure that cuts it off
    /// from the load balancer does this): the rollout went on unseen.
    pub(crate) fn ran_unseen(&self) -> Vec<&str> {
        self.finished_none_where(drills::DrillResult::ran_unseen_throughout)
    }

    fn finished_none_where(&self, keep: impl Fn(&drills::DrillResult) -> bool) -> Vec<&str> {
        self.results
            .iter()
            .filter(|r| r.finished == 0 && r.after_run < r.reps && keep(r))
            .map(|r| r.drill.label.as_str())
            .collect()
    }

    /// The single points of failure of the rollout: the failures with which no replication
    /// finished, unless every pod ran unseen in each ([`Drills::stopped`]), when the scenario
    /// as given (`given`) finished every one. Otherwise none can be named: a failure that
    /// finished nothing may only have been slower past the timeout.
    pub(crate) fn single_points_of_failure(&self, given: &stats::Startup) -> Vec<&str> {
        if given.finished == given.reps {
            self.stopped()
        } else {
            Vec::new()
        }
    }
}

/// Runs `reps` replications of each of `scenarios`, replication `r` with
/// `replication_seed(seed, r)` in every one of them (common random numbers: their differences
/// are paired), all in parallel and gathered in a fixed order, so that nothing depends on the
/// thread count. Returns each scenario's outcomes, in replication order.
///
/// # Errors
///
/// When the model cannot be built for one of them.
pub(crate) fn replicate(scenarios: &[&Scenario], reps: u64, seed: u64) -> anyhow::Result<Vec<Vec<RunOutcome>>> {
    let jobs: Vec<(usize, u64)> = (0..scenarios.len())
        .flat_map(|v| (0..reps).map(move |r| (v, r)))
        .collect();
    // Each scenario's network is built once, for all its replications.
    let prepared: Vec<cluster::Prepared<'_>> = scenarios
        .par_iter()
        .map(|s| cluster::prepare(s))
        .collect::<Result<_, _>>()?;
    let mut outcomes: Vec<RunOutcome> = jobs
        .par_iter()
        .map(|&(v, r)| prepared[v].run(sim_core::rng::replication_seed(seed, r), false))
        .collect::<Result<_, _>>()?;
    let mut per_scenario = Vec::with_capacity(scenarios.len());
    for _ in 0..scenarios.len() {
        let rest = outcomes.split_off(reps as usize);
        per_scenario.push(std::mem::replace(&mut outcomes, rest));
    }
    Ok(per_scenario)
}

/// The optional sections a plan is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Extra {
    /// Section (f) (`--drills`): each failure at this time, lasting this long (for the rest of
    /// the run if `None`).
    pub(crate) drills: Option<(models::units::Dur, Option<models::units::Dur>)>,
    /// Section (g) (`--tuning`).
    pub(crate) tuning: bool,
}

/// Unloaded time of the kubelet's status update (GET + PATCH) per worker, seconds: 1.5 round trips
/// to the apiserver (GET there and back, PATCH there), two apiserver service times, a read index
/// and a commit.
fn unloaded_status(s: &Scenario, n: &NetFigures) -> Vec<f64> {
    let fixed = 2.0 * s.kubernetes.apiserver.service_time.secs_f64()
        + n.etcd.read_index_s
        + n.etcd.commit_at_s.iter().sum::<f64>() / n.etcd.commit_at_s.len().max(1) as f64;
    n.worker_api_mean_s.iter().map(|r| 1.5 * r + fixed).collect()
}

/// Simulates the scenario and every placement (all replications in parallel, results in a fixed
/// order, so the report does not depend on the thread count) and analyses them.
///
/// # Errors
///
/// When a placement cannot be applied, or the model cannot be built.
pub(crate) fn build(
    scenario: &Scenario,
    origin: &str,
    pods: u32,
    reps: u64,
    seed: u64,
    placements: &[Placement],
    extra: Extra,
) -> anyhow::Result<Plan> {
    let base = cluster::with_overrides(scenario, Some(pods), None);
    let current = placement::current(&base);
    let mut variants: Vec<(Placement, bool, Scenario)> = vec![(current.clone(), true, base.clone())];
    let mut as_given = Vec::new();
    for p in placements {
        if *p == current {
            as_given.push(p.label());
            continue;
        }
        let s = placement::apply(&base, p).map_err(crate::output::UsageError)?;
        variants.push((p.clone(), false, s));
    }
    let scenarios: Vec<&Scenario> = variants.iter().map(|v| &v.2).collect();
    let outcomes = replicate(&scenarios, reps, seed)?;
    // Each option's round trips and etcd simulation are seeded alone, so computing them in
    // parallel (gathered in option order) changes nothing but the wall time.
    let nets: Vec<net::NetFigures> = {
        use rayon::prelude::*;
        scenarios
            .par_iter()
            .map(|s| net::figures(s, seed))
            .collect::<anyhow::Result<_>>()?
    };
    let mut options: Vec<OptionResult> = Vec::new();
    for (((placement, is_current, s), outs), net) in variants.iter().zip(&outcomes).zip(nets) {
        let unloaded = unloaded_status(s, &net);
        options.push(OptionResult {
            timeouts: timeouts::rows(s, &net),
            placement: placement.clone(),
            is_current: *is_current,
            startup: stats::startup(outs, pods),
            sites: stats::sites(s, outs, &unloaded),
            net,
            diff: None,
        });
    }
    let reference = options[0].startup.per_rep.clone();
    for o in options.iter_mut().skip(1) {
        o.diff = stats::paired_diff(&reference, &o.startup.per_rep);
    }
    let drills = match extra.drills {
        Some((at, lasting)) => {
            let (list, skipped) = drills::list(&base, at, lasting);
            Some(Drills {
                at,
                lasting,
                results: drills::run(&base, &list, reps, seed, &reference)?,
                skipped,
            })
        }
        None => None,
    };
    let tuning = if extra.tuning {
        Some(tuning::run(&base, &tuning::list(&base), reps, seed, &reference)?)
    } else {
        None
    };
    Ok(Plan {
        origin: origin.to_owned(),
        scenario: base,
        pods,
        reps,
        seed,
        options,
        as_given,
        drills,
        tuning,
    })
}

impl Plan {
    /// Workers in the scenario.
    pub(crate) fn workers(&self) -> usize {
        self.scenario.hosts.iter().filter(|h| h.role == Role::Worker).count()
    }

    /// The SVG figure.
    pub(crate) fn svg(&self) -> anyhow::Result<String> {
        let curves: Vec<svg::Curve> = self
            .options
            .iter()
            .map(|o| svg::Curve {
                label: if o.is_current {
                    format!(
                        "as given, masters {}: mean; band = fastest..slowest replication",
                        o.placement.label()
                    )
                } else {
                    format!("masters {}: mean", o.placement.label())
                },
                points: o.startup.curve.clone(),
            })
            .collect();
        let st = &self.options[0].startup;
        let finished = if st.finished < st.reps {
            format!(
                "{} of {} replications finished within {}",
                st.finished, st.reps, self.scenario.workload.timeout
            )
        } else {
            crate::output::count(self.reps as usize, "replication")
        };
        svg::render(
            &format!("{}: time until {} pods run ({finished})", self.scenario.name, self.pods),
            self.pods,
            &curves,
            &self.options[0].sites,
        )
    }
}
