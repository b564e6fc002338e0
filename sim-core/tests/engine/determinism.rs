//! The same seed gives a byte-identical run; a different seed gives a different one.

use sim_core::phold::{run_engine, PholdConfig, PholdOutcome};
use sim_core::trace::Track;
use sim_core::{Component, ComponentId, Context, SimDuration, SimTime, Simulation};

fn fingerprint(o: &PholdOutcome) -> String {
    format!("{} {} {:#x}", o.events, o.sim_end_s, o.checksum)
}

#[test]
fn phold_is_reproducible() {
    let cfg = PholdConfig {
        lps: 200,
        events_per_lp: 8,
        events: 100_000,
        seed: 11,
        ..PholdConfig::default()
    };
    let a = fingerprint(&run_engine(&cfg).unwrap());
    let b = fingerprint(&run_engine(&cfg).unwrap());
    let c = fingerprint(&run_engine(&PholdConfig { seed: 12, ..cfg }).unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

struct Jitter;

#[derive(Debug)]
struct Go(u32);

impl Component<Go> for Jitter {
    fn on_event(&mut self, event: Go, ctx: &mut Context<'_, Go>) {
        use rand_distr::{Distribution, Normal};
        let d: f64 = Normal::new(0.01, 0.002).unwrap().sample(ctx.rng());
        let start = ctx.now();
        let end = start + SimDuration::from_secs_f64(d);
        let n = event.0;
        ctx.tracer().span(|| {
            (
                Track::new("host", format!("job {n}")),
                "work".into(),
                "test",
                start,
                end,
            )
        });
        if n < 500 {
            ctx.send(ComponentId((n + 1) % 3), SimDuration::from_secs_f64(d), Go(n + 1));
        }
    }
}

fn traced_run(seed: u64) -> Vec<u8> {
    let mut sim = Simulation::new(seed);
    sim.set_tracing(true);
    for i in 0..3 {
        sim.add_component(format!("j{i}"), Jitter).unwrap();
    }
    sim.schedule(ComponentId(0), SimTime::ZERO, Go(0)).unwrap();
    sim.run();
    let mut out = Vec::new();
    sim.tracer().write_chrome_json(&mut out).unwrap();
    out
}

#[test]
fn traces_are_byte_identical_for_a_seed() {
    let a = traced_run(5);
    assert_eq!(a, traced_run(5));
    assert_ne!(a, traced_run(6));
    assert!(a.len() > 10_000);
}
