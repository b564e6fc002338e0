//! Random streams belong to components by name: adding a component never shifts another's draws.

use rand::Rng;
use sim_core::{Component, ComponentId, Context, SimDuration, SimTime, Simulation};

#[derive(Debug, Clone, Copy)]
struct Draw;

#[derive(Default)]
struct Drawer {
    draws: Vec<u64>,
}

impl Component<Draw> for Drawer {
    fn on_event(&mut self, _: Draw, ctx: &mut Context<'_, Draw>) {
        self.draws.push(ctx.rng().random());
        if self.draws.len() < 50 {
            let ms = ctx.rng().random_range(1..100);
            ctx.send_self(SimDuration::from_millis(ms), Draw);
        }
    }
}

fn run(names: &[&str]) -> Vec<(String, Vec<u64>)> {
    let mut sim = Simulation::new(2024);
    for n in names {
        let id = sim.add_component(*n, Drawer::default()).unwrap();
        sim.schedule(id, SimTime::ZERO, Draw).unwrap();
    }
    sim.run();
    (0..names.len() as u32)
        .map(|i| {
            let id = ComponentId(i);
            (
                sim.name(id).unwrap().to_owned(),
                sim.component::<Drawer>(id).unwrap().draws.clone(),
            )
        })
        .collect()
}

#[test]
fn adding_a_component_changes_no_other_components_draws() {
    let base = run(&["apiserver", "kubelet/node01"]);
    let more = run(&["etcd", "apiserver", "kubelet/node02", "kubelet/node01"]);
    for (name, draws) in &base {
        let other = more.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(
            draws, &other.1,
            "{name} drew differently once other components were added"
        );
    }
    assert_ne!(base[0].1, base[1].1);
}
