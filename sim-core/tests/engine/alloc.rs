//! The event path allocates nothing per event in steady state, checked with a counting global
//! allocator (counting per thread, so tests running beside this one do not disturb it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sim_core::{Component, ComponentId, Context, SimDuration, SimTime, Simulation};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

/// A payload as large as a model's event, to show it travels inline.
#[derive(Debug, Clone, Copy)]
enum Msg {
    Request { from: u32, bytes: u64 },
    Reply { to: u32, status: u16 },
    Tick,
}

struct Node {
    peers: u32,
    handled: u64,
    timer: Option<sim_core::EventId>,
}

impl Component<Msg> for Node {
    fn on_event(&mut self, event: Msg, ctx: &mut Context<'_, Msg>) {
        use rand::Rng;
        self.handled += 1;
        let me = ctx.me().0;
        let delay = SimDuration::from_micros(ctx.rng().random_range(1..1000));
        let peer = ComponentId(ctx.rng().random_range(0..self.peers));
        match event {
            Msg::Request { from, bytes } => {
                ctx.send(
                    ComponentId(from),
                    delay,
                    Msg::Reply {
                        to: from,
                        status: (bytes % 500) as u16,
                    },
                );
            }
            Msg::Reply { to, status } => {
                self.handled += u64::from(to == me) + u64::from(status);
                ctx.send(peer, delay, Msg::Request { from: me, bytes: 512 });
            }
            Msg::Tick => {
                ctx.send(peer, delay, Msg::Request { from: me, bytes: 512 });
            }
        }
        // A timer re-armed and cancelled on every event exercises the cancellation set.
        if let Some(t) = self.timer.take() {
            ctx.cancel(t);
        }
        self.timer = Some(ctx.send_self(SimDuration::from_secs(3600), Msg::Tick));
        ctx.tracer().span(|| unreachable!("tracing is off"));
    }
}

#[test]
fn steady_state_event_loop_does_not_allocate() {
    let mut sim: Simulation<Msg> = Simulation::new(42);
    let peers = 64;
    for i in 0..peers {
        sim.add_component(
            format!("node-{i}"),
            Node {
                peers,
                handled: 0,
                timer: None,
            },
        )
        .unwrap();
    }
    for i in 0..peers {
        sim.schedule(ComponentId(i), SimTime::ZERO, Msg::Tick).unwrap();
    }
    // Warm-up: the queue, slab and cancellation set grow to their working size.
    assert_eq!(sim.run_events(200_000), 200_000);
    let before = allocations();
    assert_eq!(sim.run_events(200_000), 200_000);
    let during = allocations() - before;
    assert_eq!(during, 0, "{during} allocations in 200,000 steady-state events");
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test above against a counter that never counts.
    let before = allocations();
    let v: Vec<u64> = Vec::with_capacity(16);
    std::hint::black_box(&v);
    assert!(allocations() > before);
}
