//! PHOLD, the standard benchmark of discrete-event engines (Fujimoto 1990), as
//! `shared/tools/phold/phold_simpy.py` defines it.
//!
//! `lps` logical processes start with `events_per_lp` events each, due at `lookahead + Exp(mean)`.
//! Handling an event schedules exactly one new event: with probability `remote` at a uniformly
//! chosen *other* process, otherwise at the same one, due `lookahead + Exp(mean)` later. The
//! number of pending events therefore stays at `lps * events_per_lp` and the run measures the
//! engine's cost per event: queue operations, dispatch and random draws.
//!
//! Two implementations run the same model with the same random streams:
//!
//! - [`run_engine`]: every process is a [`Component`] of a [`Simulation`];
//! - [`run_baseline`]: a bare loop over `std::collections::BinaryHeap`, the floor any engine is
//!   measured against.
//!
//! Both order events by (time, push order) and draw from the same per-process streams, so they
//! process exactly the same events: their [`PholdOutcome::checksum`] must be equal, which a test
//! checks.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use rand::Rng;
use rand_distr::{Distribution, Exp1};
use serde::Serialize;

use crate::engine::{Component, ComponentId, Context, Simulation};
use crate::rng::{named_stream, SimRng};
use crate::time::{SimDuration, SimTime};

/// The parameters of one PHOLD run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PholdConfig {
    /// Number of logical processes.
    pub lps: u32,
    /// Initial events per process (the pending-set size is `lps * events_per_lp`).
    pub events_per_lp: u32,
    /// Probability that an event's successor goes to another process.
    pub remote: f64,
    /// Minimum delay between an event and its successor, in model seconds.
    pub lookahead: f64,
    /// Mean of the exponential part of the delay, in model seconds (the delay is
    /// `lookahead + Exp(mean)`; ROSS's `--mean`, by contrast, is the whole delay's mean).
    pub mean: f64,
    /// Events to handle before stopping.
    pub events: u64,
    /// Run seed.
    pub seed: u64,
}

/// The defaults are those of the SimPy PHOLD the engine is measured against
/// (`shared/tools/phold/phold_simpy.py`: 1000 processes, 16 events each, remote 0.25, lookahead
/// 0.1, mean 1.0), so that both run the same model from the same command line.
impl Default for PholdConfig {
    fn default() -> Self {
        PholdConfig {
            lps: 1000,
            events_per_lp: 16,
            remote: 0.25,
            lookahead: 0.1,
            mean: 1.0,
            events: 1_000_000,
            seed: 1,
        }
    }
}

/// Errors in a PHOLD configuration.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum PholdError {
    /// A parameter is out of its range; the message says which and what is expected.
    #[error("invalid PHOLD parameter `{field}`: {expected}, got {got}")]
    Invalid {
        /// The parameter's name as the command line spells it (two, as "lps` and `events-per-lp", when
        /// only their product is too large).
        field: &'static str,
        /// What is expected.
        expected: &'static str,
        /// The value given.
        got: String,
    },
    /// The engine's queue refused an event: more were pending than it holds (a configuration
    /// that [`PholdConfig::validate`] accepts never gets here).
    #[error("the event queue overflowed: more than {max} events pending at once")]
    QueueFull {
        /// The queue's bound.
        max: usize,
    },
}

/// The latest expected end of a PHOLD run, in model seconds: a tenth of what the engine's
/// nanosecond clock holds.
const MAX_HORIZON_S: f64 = 1.8e9;

/// The most pending events a PHOLD run may hold: what the engine's queue holds
/// ([`crate::queue::MAX_PENDING`], 2^24; a larger set would overflow it while the initial
/// events are scheduled, and the run would handle none). The pending set is allocated up
/// front, 16 bytes per event in the baseline heap and more in the engine's queue: 16 times the
/// largest configuration in `BENCHMARKS.md`, and a bound that keeps a typo from
/// aborting on a failed allocation.
pub const MAX_PENDING: u64 = crate::queue::MAX_PENDING as u64;

impl PholdConfig {
    /// Checks every parameter.
    ///
    /// # Errors
    ///
    /// [`PholdError::Invalid`] naming the first bad parameter.
    pub fn validate(&self) -> Result<(), PholdError> {
        let bad = |field, expected, got: String| Err(PholdError::Invalid { field, expected, got });
        if self.lps == 0 {
            return bad("lps", "at least 1", self.lps.to_string());
        }
        if self.events_per_lp == 0 {
            return bad("events-per-lp", "at least 1", self.events_per_lp.to_string());
        }
        if !(0.0..=1.0).contains(&self.remote) {
            return bad("remote", "a probability in [0, 1]", crate::display::number(self.remote));
        }
        if self.remote > 0.0 && self.lps < 2 {
            return bad(
                "remote",
                "0 when there is a single LP (no other LP to send to)",
                crate::display::number(self.remote),
            );
        }
        if !(self.lookahead.is_finite() && self.lookahead >= 0.0) {
            return bad(
                "lookahead",
                "a finite number >= 0",
                crate::display::number(self.lookahead),
            );
        }
        if !(self.mean.is_finite() && self.mean > 0.0) {
            return bad("mean", "a finite number > 0", crate::display::number(self.mean));
        }
        if (self.lps as u64)
            .checked_mul(self.events_per_lp as u64)
            .is_none_or(|n| n > MAX_PENDING)
        {
            // The one that is too large even with the other at its least, 1; else both.
            let field = if u64::from(self.lps) > MAX_PENDING {
                "lps"
            } else if u64::from(self.events_per_lp) > MAX_PENDING {
                "events-per-lp"
            } else {
                "lps` and `events-per-lp"
            };
            return bad(
                field,
                "lps x events-per-lp at most 2^24 (16,777,216 pending events, allocated up front)",
                format!(
                    "{} x {} = {}",
                    self.lps,
                    self.events_per_lp,
                    u64::from(self.lps) * u64::from(self.events_per_lp)
                ),
            );
        }
        // The clock counts nanoseconds in 64 bits (about 584 years). Each LP's chain of
        // `events / (lps x events-per-lp)` successors advances by lookahead + mean on average;
        // a run expected to reach a tenth of the clock's range is refused rather than cut short.
        let per_chain = self.events as f64 / (self.lps as f64 * self.events_per_lp as f64);
        let horizon_s = per_chain * (self.lookahead + self.mean);
        if horizon_s > MAX_HORIZON_S {
            return bad(
                "lookahead",
                "lookahead and mean small enough that the run stays within the clock (expected end at most 1.8e9 model seconds)",
                format!("{} and mean {} (expected end {horizon_s:.3e} s)", crate::display::number(self.lookahead), crate::display::number(self.mean)),
            );
        }
        Ok(())
    }

    fn pending(&self) -> usize {
        self.lps as usize * self.events_per_lp as usize
    }
}

/// What one PHOLD run did and how fast.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PholdOutcome {
    /// Events handled.
    pub events: u64,
    /// Simulated time of the last handled event, in model seconds.
    pub sim_end_s: f64,
    /// An order-sensitive hash of (time, process) of every handled event: equal checksums mean
    /// the same events were handled in the same order.
    pub checksum: u64,
    /// Wall-clock seconds of the event loop (set-up excluded).
    pub wall_s: f64,
}

impl PholdOutcome {
    /// Events per wall-clock second.
    pub fn events_per_s(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.events as f64 / self.wall_s
        } else {
            f64::INFINITY
        }
    }
}

#[inline]
fn fold(checksum: u64, time: u64, lp: u32) -> u64 {
    (checksum ^ time ^ (u64::from(lp) << 40))
        .wrapping_mul(0x0000_0100_0000_01b3)
        .rotate_left(5)
}

/// Draws `lookahead + Exp(mean)` as a duration.
#[inline]
fn draw_delay(rng: &mut SimRng, lookahead: f64, mean: f64) -> SimDuration {
    let e: f64 = Exp1.sample(rng);
    SimDuration::from_secs_f64(lookahead + mean * e)
}

/// Picks the destination of a successor event.
#[inline]
fn draw_destination(rng: &mut SimRng, me: u32, lps: u32, remote: f64) -> u32 {
    if remote > 0.0 && rng.random::<f64>() < remote {
        let d = rng.random_range(0..lps - 1);
        if d >= me {
            d + 1
        } else {
            d
        }
    } else {
        me
    }
}

fn lp_name(i: u32) -> String {
    format!("lp-{i}")
}

/// The PHOLD event: carries nothing, as in ROSS.
#[derive(Clone, Copy, Debug)]
pub struct PholdEvent;

/// One logical process as an engine component.
#[derive(Debug)]
struct Lp {
    lps: u32,
    remote: f64,
    lookahead: f64,
    mean: f64,
    checksum: u64,
}

impl Component<PholdEvent> for Lp {
    #[inline]
    fn on_event(&mut self, _event: PholdEvent, ctx: &mut Context<'_, PholdEvent>) {
        let me = ctx.me().0;
        self.checksum = fold(self.checksum, ctx.now().as_nanos(), me);
        let dest = draw_destination(ctx.rng(), me, self.lps, self.remote);
        let delay = draw_delay(ctx.rng(), self.lookahead, self.mean);
        ctx.send(ComponentId(dest), delay, PholdEvent);
    }
}

/// Runs PHOLD on the engine.
///
/// # Errors
///
/// [`PholdError`] if the configuration is invalid.
pub fn run_engine(cfg: &PholdConfig) -> Result<PholdOutcome, PholdError> {
    cfg.validate()?;
    let mut sim: Simulation<PholdEvent> = Simulation::new(cfg.seed);
    sim.reserve_events(cfg.pending() + 1);
    for i in 0..cfg.lps {
        let lp = Lp {
            lps: cfg.lps,
            remote: cfg.remote,
            lookahead: cfg.lookahead,
            mean: cfg.mean,
            checksum: 0,
        };
        sim.add_component(lp_name(i), lp)
            .expect("PHOLD process names are unique");
    }
    // Initial events, drawn from each process's own stream, in process order.
    for i in 0..cfg.lps {
        let id = ComponentId(i);
        for _ in 0..cfg.events_per_lp {
            let rng = sim.rng_mut(id).expect("every PHOLD process is registered");
            let at = SimTime::ZERO + draw_delay(rng, cfg.lookahead, cfg.mean);
            sim.schedule(id, at, PholdEvent)
                .expect("initial PHOLD events are valid");
        }
    }
    let start = Instant::now();
    let handled = sim.run_events(cfg.events);
    let wall_s = start.elapsed().as_secs_f64();
    if sim.overflowed() {
        return Err(PholdError::QueueFull {
            max: crate::queue::MAX_PENDING,
        });
    }
    let checksum = (0..cfg.lps)
        .map(|i| sim.component::<Lp>(ComponentId(i)).map_or(0, |lp| lp.checksum))
        .fold(0u64, |acc, c| acc.wrapping_mul(31).wrapping_add(c));
    Ok(PholdOutcome {
        events: handled,
        sim_end_s: sim.now().as_secs_f64(),
        checksum,
        wall_s,
    })
}

/// Runs PHOLD on a bare `std::collections::BinaryHeap` loop, with the same streams and the same
/// (time, push order) tie-break as the engine.
///
/// # Errors
///
/// [`PholdError`] if the configuration is invalid.
pub fn run_baseline(cfg: &PholdConfig) -> Result<PholdOutcome, PholdError> {
    cfg.validate()?;
    let mut rngs: Vec<SimRng> = (0..cfg.lps).map(|i| named_stream(cfg.seed, &lp_name(i))).collect();
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::with_capacity(cfg.pending() + 1);
    let mut seq = 0u64;
    for (i, rng) in rngs.iter_mut().enumerate() {
        for _ in 0..cfg.events_per_lp {
            let at = draw_delay(rng, cfg.lookahead, cfg.mean).as_nanos();
            heap.push(Reverse((at, seq, i as u32)));
            seq += 1;
        }
    }
    let mut checksums = vec![0u64; cfg.lps as usize];
    let mut now = 0u64;
    let mut handled = 0u64;
    let start = Instant::now();
    while handled < cfg.events {
        let Some(Reverse((t, _, lp))) = heap.pop() else { break };
        now = t;
        handled += 1;
        let c = &mut checksums[lp as usize];
        *c = fold(*c, t, lp);
        let rng = &mut rngs[lp as usize];
        let dest = draw_destination(rng, lp, cfg.lps, cfg.remote);
        let at = (SimTime::from_nanos(t) + draw_delay(rng, cfg.lookahead, cfg.mean)).as_nanos();
        heap.push(Reverse((at, seq, dest)));
        seq += 1;
    }
    let wall_s = start.elapsed().as_secs_f64();
    let checksum = checksums
        .iter()
        .fold(0u64, |acc, &c| acc.wrapping_mul(31).wrapping_add(c));
    Ok(PholdOutcome {
        events: handled,
        sim_end_s: SimTime::from_nanos(now).as_secs_f64(),
        checksum,
        wall_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> PholdConfig {
        PholdConfig {
            lps: 50,
            events_per_lp: 4,
            events: 20_000,
            seed: 3,
            ..PholdConfig::default()
        }
    }

    #[test]
    fn engine_and_bare_heap_handle_the_same_events() {
        let a = run_engine(&small()).unwrap();
        let b = run_baseline(&small()).unwrap();
        assert_eq!(a.events, 20_000);
        assert_eq!(a.checksum, b.checksum);
        assert_eq!(a.sim_end_s, b.sim_end_s);
    }

    #[test]
    fn same_seed_same_run_other_seed_other_run() {
        let a = run_engine(&small()).unwrap();
        let b = run_engine(&small()).unwrap();
        let c = run_engine(&PholdConfig { seed: 4, ..small() }).unwrap();
        assert_eq!((a.checksum, a.sim_end_s), (b.checksum, b.sim_end_s));
        assert_ne!(a.checksum, c.checksum);
    }

    #[test]
    fn simulated_time_advances_at_the_expected_rate() {
        // Each LP-event chain advances by lookahead + mean = 1.1 model seconds per event on
        // average, and lps * events_per_lp chains run side by side.
        let cfg = PholdConfig {
            lps: 100,
            events_per_lp: 10,
            events: 200_000,
            seed: 9,
            ..PholdConfig::default()
        };
        let out = run_engine(&cfg).unwrap();
        let expected = 200_000.0 / 1000.0 * 1.1;
        assert!(
            (out.sim_end_s - expected).abs() / expected < 0.05,
            "{} vs {expected}",
            out.sim_end_s
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let err = run_engine(&PholdConfig { remote: 1.5, ..small() }).unwrap_err();
        assert!(err.to_string().contains("remote"), "{err}");
        let err = run_engine(&PholdConfig { lps: 0, ..small() }).unwrap_err();
        assert!(err.to_string().contains("lps"), "{err}");
        assert!(run_engine(&PholdConfig {
            lps: 1,
            remote: 0.0,
            ..small()
        })
        .is_ok());
        // A lookahead that would run the clock past its end is refused, not cut short.
        let err = run_engine(&PholdConfig {
            lookahead: 1e308,
            ..small()
        })
        .unwrap_err();
        assert!(err.to_string().contains("within the clock"), "{err}");
        // A pending set too large to allocate is refused before anything is allocated.
        let err = run_baseline(&PholdConfig {
            lps: 65_536,
            events_per_lp: 65_536,
            ..small()
        })
        .unwrap_err();
        assert!(err.to_string().contains("at most 2^24"), "{err}");
        // The figure given is the product that is too large, not one factor.
        assert!(err.to_string().contains("65536 x 65536 = 4294967296"), "{err}");
        assert!(PholdConfig {
            lps: 1 << 12,
            events_per_lp: 1 << 12,
            ..small()
        }
        .validate()
        .is_ok());
        // One more event than the engine's queue holds is refused, not run as nothing.
        let err = PholdConfig {
            lps: (1 << 12) + 1,
            events_per_lp: 1 << 12,
            ..small()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("at most 2^24"), "{err}");
        let default = PholdConfig {
            lps: 1000,
            events_per_lp: 16,
            remote: 0.25,
            lookahead: 0.1,
            mean: 1.0,
            events: 5_000_000,
            seed: 1,
        };
        assert!(default.validate().is_ok());
    }

    /// Too many pending events blame the parameter that is too large: `lps` for 10^9 LPs at the
    /// default 16 events each (it blamed `events-per-lp`), both when neither is alone.
    #[test]
    fn too_many_pending_events_blame_the_right_parameter() {
        let blamed = |lps, events_per_lp| {
            let cfg = PholdConfig {
                lps,
                events_per_lp,
                ..small()
            };
            match cfg.validate() {
                Err(PholdError::Invalid { field, .. }) => field,
                other => panic!("{lps} x {events_per_lp}: {other:?}"),
            }
        };
        assert_eq!(blamed(1_000_000_000, 16), "lps");
        assert_eq!(blamed(1_000_000_000, 1), "lps");
        assert_eq!(blamed(16, 1_000_000_000), "events-per-lp");
        assert_eq!(blamed(65_536, 65_536), "lps` and `events-per-lp");
    }
}
