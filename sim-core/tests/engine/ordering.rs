//! Events run in time order; equal-time events run in the order they were scheduled.

use sim_core::{Component, ComponentId, Context, SimDuration, SimTime, Simulation};

#[derive(Debug)]
struct Tag(u32);

#[derive(Default)]
struct Recorder {
    seen: Vec<(SimTime, u32)>,
}

impl Component<Tag> for Recorder {
    fn on_event(&mut self, event: Tag, ctx: &mut Context<'_, Tag>) {
        self.seen.push((ctx.now(), event.0));
        // Tag 1 schedules three zero-delay events: they run after everything already due now.
        if event.0 == 1 {
            for k in 0..3 {
                ctx.send_self(SimDuration::ZERO, Tag(100 + k));
            }
        }
    }
}

#[test]
fn time_then_scheduling_order() {
    let mut sim = Simulation::new(0);
    let r = sim.add_component("r", Recorder::default()).unwrap();
    sim.schedule(r, SimTime::from_secs(2), Tag(3)).unwrap();
    sim.schedule(r, SimTime::from_secs(1), Tag(1)).unwrap();
    sim.schedule(r, SimTime::from_secs(1), Tag(2)).unwrap();
    sim.schedule(r, SimTime::ZERO, Tag(0)).unwrap();
    sim.run();
    let order: Vec<u32> = sim
        .component::<Recorder>(r)
        .unwrap()
        .seen
        .iter()
        .map(|&(_, t)| t)
        .collect();
    assert_eq!(order, vec![0, 1, 2, 100, 101, 102, 3]);
}

#[test]
fn run_until_stops_at_the_limit_and_sets_the_clock() {
    let mut sim = Simulation::new(0);
    let r = sim.add_component("r", Recorder::default()).unwrap();
    for s in [1, 2, 3, 4] {
        sim.schedule(r, SimTime::from_secs(s), Tag(10 + s as u32)).unwrap();
    }
    sim.run_until(SimTime::from_millis(2500));
    assert_eq!(sim.now(), SimTime::from_millis(2500));
    assert_eq!(sim.component::<Recorder>(r).unwrap().seen.len(), 2);
    sim.run();
    assert_eq!(sim.now(), SimTime::from_secs(4));
    assert_eq!(sim.component::<Recorder>(ComponentId(0)).unwrap().seen.len(), 4);
}
