//! Cancelling scheduled events: timers that are re-armed, cancelled before or at their instant.

use sim_core::{Component, Context, EventId, SimDuration, SimTime, Simulation};

#[derive(Debug)]
enum Ev {
    Arm(u64),
    CancelAll,
    Fire(u64),
}

#[derive(Default)]
struct Timers {
    armed: Vec<EventId>,
    fired: Vec<(SimTime, u64)>,
}

impl Component<Ev> for Timers {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        match event {
            Ev::Arm(n) => {
                let id = ctx.send_self(SimDuration::from_secs(n), Ev::Fire(n));
                self.armed.push(id);
            }
            Ev::CancelAll => {
                for id in self.armed.drain(..) {
                    ctx.cancel(id);
                }
            }
            Ev::Fire(n) => self.fired.push((ctx.now(), n)),
        }
    }
}

#[test]
fn cancelled_events_never_fire_and_others_do() {
    let mut sim = Simulation::new(1);
    let t = sim.add_component("timers", Timers::default()).unwrap();
    sim.schedule(t, SimTime::ZERO, Ev::Arm(10)).unwrap();
    sim.schedule(t, SimTime::ZERO, Ev::Arm(20)).unwrap();
    sim.schedule(t, SimTime::from_secs(5), Ev::CancelAll).unwrap();
    sim.schedule(t, SimTime::from_secs(6), Ev::Arm(1)).unwrap();
    sim.run();
    let timers = sim.component::<Timers>(t).unwrap();
    assert_eq!(timers.fired, vec![(SimTime::from_secs(7), 1)]);
    assert_eq!(sim.events_processed(), 5, "two arms, one cancel-all, one arm, one fire");
}

#[test]
fn cancel_from_outside_between_runs() {
    let mut sim = Simulation::new(1);
    let t = sim.add_component("timers", Timers::default()).unwrap();
    sim.schedule(t, SimTime::ZERO, Ev::Arm(5)).unwrap();
    sim.run_until(SimTime::from_secs(1));
    assert_eq!(sim.pending(), 1);
    let id = sim.component::<Timers>(t).unwrap().armed[0];
    assert_eq!(id.time(), SimTime::from_secs(5));
    sim.cancel(id);
    sim.run();
    assert!(sim.component::<Timers>(t).unwrap().fired.is_empty());
}

#[test]
fn cancelling_a_fired_event_is_harmless() {
    let mut sim = Simulation::new(1);
    let t = sim.add_component("timers", Timers::default()).unwrap();
    sim.schedule(t, SimTime::ZERO, Ev::Arm(1)).unwrap();
    sim.run();
    let id = sim.component::<Timers>(t).unwrap().armed[0];
    sim.cancel(id);
    sim.schedule(t, SimTime::from_secs(2), Ev::Arm(1)).unwrap();
    sim.run();
    assert_eq!(sim.component::<Timers>(t).unwrap().fired.len(), 2);
}
