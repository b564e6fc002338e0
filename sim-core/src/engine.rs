//! The simulation driver and the handle each component uses while it handles an event.
//!
//! A model defines one event type `E` (usually an enum) and its components implement
//! [`Component<E>`]. The [`Simulation`] owns the clock, the pending-event queue, every component
//! and every component's random stream; while a component handles an event it sees a
//! [`Context`] through which it reads the clock, draws random numbers, schedules and cancels
//! events and records trace spans. This is dslab-core's `Simulation` / `SimulationContext` split,
//! with a typed event instead of a downcast payload, so a missing match arm is a compile error.
//!
//! # Cost per event
//!
//! One queue pop (O(4 log_4 n), see [`crate::queue`]), one virtual call, and whatever the
//! component does. Events are stored inline in the queue, so there is no heap allocation per
//! event once the queue has grown to its peak size (a test with a counting allocator checks it).

use rustc_hash::FxHashSet as HashSet;
use std::any::Any;

use crate::queue::DaryHeap;
use crate::rng::{keyed_seed, named_stream, stable_key, stream, SimRng};
use crate::time::{SimDuration, SimTime};
use crate::trace::Tracer;

/// Dense index of a component in its simulation, handed out by [`Simulation::add_component`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId(pub u32);

impl ComponentId {
    /// The index as a `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Identifies one scheduled event, for [`Context::cancel`] and [`Simulation::cancel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventId {
    time: SimTime,
    seq: u64,
}

impl EventId {
    /// When the event is (or was) due.
    pub fn time(self) -> SimTime {
        self.time
    }
}

/// A part of the model that reacts to events: an apiserver, a kubelet, a PHOLD process.
pub trait Component<E>: Any {
    /// Handles `event`, delivered at `ctx.now()`.
    fn on_event(&mut self, event: E, ctx: &mut Context<'_, E>);
}

/// Errors of building or driving a simulation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// Two components were given the same name; names key the random streams, so they must be
    /// unique. Fatal for the build; the simulation is unchanged.
    #[error("a component named `{0}` already exists; component names must be unique")]
    DuplicateName(String),
    /// An event was addressed to a component id this simulation never handed out.
    #[error("no component with id {0}")]
    NoSuchComponent(u32),
    /// An event was scheduled before the current time.
    #[error("cannot schedule an event at {at}, before the current time {now}")]
    InThePast {
        /// The requested instant.
        at: SimTime,
        /// The clock when it was requested.
        now: SimTime,
    },
}

/// Fewest cancelled entries worth a sweep of the queue.
const COMPACT_MIN: usize = 64;

struct Envelope<E> {
    to: ComponentId,
    event: E,
}

/// The queue, clock and cancellation set: the part of the simulation a [`Context`] may touch.
struct Scheduler<E> {
    now: SimTime,
    queue: DaryHeap<Envelope<E>, 4>,
    cancelled: HashSet<u64>,
    stop: bool,
    n_components: u32,
    /// Events due after this are not queued ([`Simulation::set_horizon`]).
    horizon: SimTime,
    /// Most events pending at once ([`Simulation::limit_pending`]).
    max_pending: usize,
    /// The queue reached `max_pending`: the run stopped ([`Simulation::overflowed`]).
    overflow: bool,
    /// The `(time, seq)` key of the last event taken off the queue: an event whose key is not
    /// after it has fired (or been dropped as cancelled) already.
    last_popped: Option<(u64, u64)>,
}

impl<E> Scheduler<E> {
    fn push(&mut self, to: ComponentId, at: SimTime, event: E) -> EventId {
        debug_assert!(
            to.0 < self.n_components,
            "event addressed to unknown component {}",
            to.0
        );
        // Never delivered: at `SimTime::MAX` ("never"), past the end of the run, or the queue is
        // full, which stops the run (its result is not to be used). The id stays unique, so
        // cancelling it is safe.
        if at <= self.horizon && at != SimTime::MAX {
            match self
                .queue
                .try_push(at.as_nanos(), Envelope { to, event }, self.max_pending)
            {
                Ok(key) => return EventId { time: at, seq: key.seq },
                Err(_) => {
                    self.overflow = true;
                    self.stop = true;
                }
            }
        }
        EventId {
            time: at,
            seq: self.queue.skip_seq(),
        }
    }

    fn cancel(&mut self, id: EventId) {
        // An event taken off the queue already (due before `now`, or at `now` and handled), and
        // one never queued (at "never", past the horizon), are not in the queue: remembering
        // either would only leak.
        let queued = id.time != SimTime::MAX && id.time <= self.horizon && id.seq < self.queue.next_seq();
        if queued && self.last_popped.is_none_or(|last| (id.time.as_nanos(), id.seq) > last) {
            self.cancelled.insert(id.seq);
            // Cancelled entries wait in the queue until they reach its head. A component that
            // re-arms a far-off timer on every event would grow the queue without bound, so once
            // they make up half of it, sweep them out: O(n) every n/2 cancellations, O(1)
            // amortised, and the queue never holds more than twice its live events.
            if self.cancelled.len() >= COMPACT_MIN && self.cancelled.len() * 2 >= self.queue.len() {
                let cancelled = &mut self.cancelled;
                self.queue.retain_seq(|seq| !cancelled.contains(&seq));
                cancelled.clear();
            }
        }
    }
}

/// What a component sees while it handles one event.
pub struct Context<'a, E> {
    me: ComponentId,
    sched: &'a mut Scheduler<E>,
    rng: &'a mut SimRng,
    keyed: u64,
    tracer: &'a mut Tracer,
}

impl<E> std::fmt::Debug for Context<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("me", &self.me)
            .field("now", &self.sched.now)
            .finish()
    }
}

impl<E> Context<'_, E> {
    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.sched.now
    }

    /// The id of the component handling the event.
    #[inline]
    pub fn me(&self) -> ComponentId {
        self.me
    }

    /// This component's random stream.
    #[inline]
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// A stream of this component's own, keyed by `key`: the same for the same run seed,
    /// component and key, whatever was drawn before. For common random numbers: a draw keyed
    /// by what it is for (this pod's sandbox, that client's request) stays the same when a
    /// change of parameters reorders or adds draws elsewhere. Distinct from [`Context::rng`].
    #[inline]
    pub fn keyed_rng(&self, key: u64) -> SimRng {
        stream(self.keyed, key)
    }

    /// Delivers `event` to `to` after `delay`. O(log n).
    #[inline]
    pub fn send(&mut self, to: ComponentId, delay: SimDuration, event: E) -> EventId {
        let at = self.sched.now + delay;
        self.sched.push(to, at, event)
    }

    /// Delivers `event` to this component after `delay` (a timer). O(log n).
    #[inline]
    pub fn send_self(&mut self, delay: SimDuration, event: E) -> EventId {
        let me = self.me;
        self.send(me, delay, event)
    }

    /// Delivers `event` to `to` at instant `at`, or now if `at` is in the past. O(log n).
    #[inline]
    pub fn send_at(&mut self, to: ComponentId, at: SimTime, event: E) -> EventId {
        let at = at.max(self.sched.now);
        self.sched.push(to, at, event)
    }

    /// Cancels a scheduled event; cancelling one that already fired does nothing. O(1)
    /// amortised: the cancelled entry is dropped when it reaches the head of the queue, or in a
    /// sweep once cancelled entries make up half the queue.
    #[inline]
    pub fn cancel(&mut self, id: EventId) {
        self.sched.cancel(id);
    }

    /// Ends the run after this event: [`Simulation::run`] returns.
    pub fn stop(&mut self) {
        self.sched.stop = true;
    }

    /// The trace recorder; check [`Tracer::enabled`] (or use its closures) so that building a
    /// span costs nothing when tracing is off.
    #[inline]
    pub fn tracer(&mut self) -> &mut Tracer {
        self.tracer
    }
}

/// Drives one run: owns the clock, the queue, the components and their random streams.
pub struct Simulation<E> {
    seed: u64,
    sched: Scheduler<E>,
    components: Vec<Box<dyn Component<E>>>,
    names: Vec<String>,
    keys: HashSet<u64>,
    rngs: Vec<SimRng>,
    /// Per component: the seed of its keyed streams ([`Context::keyed_rng`]).
    keyed: Vec<u64>,
    tracer: Tracer,
    processed: u64,
}

impl<E> std::fmt::Debug for Simulation<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("seed", &self.seed)
            .field("now", &self.sched.now)
            .field("components", &self.components.len())
            .field("pending", &self.sched.queue.len())
            .field("processed", &self.processed)
            .finish()
    }
}

impl<E: 'static> Simulation<E> {
    /// A new simulation at time zero whose random streams derive from `seed`. There is no
    /// default seed: every run names its seed.
    pub fn new(seed: u64) -> Self {
        Simulation {
            seed,
            sched: Scheduler {
                now: SimTime::ZERO,
                queue: DaryHeap::new(),
                cancelled: HashSet::default(),
                stop: false,
                n_components: 0,
                horizon: SimTime::MAX,
                max_pending: crate::queue::MAX_PENDING,
                overflow: false,
                last_popped: None,
            },
            components: Vec::new(),
            names: Vec::new(),
            keys: HashSet::default(),
            rngs: Vec::new(),
            keyed: Vec::new(),
            tracer: Tracer::disabled(),
            processed: 0,
        }
    }

    /// Reserves room for `events` pending events in all, so that a run of known size never
    /// reallocates; events already pending stay, in their order.
    pub fn reserve_events(&mut self, events: usize) {
        let pending = self.sched.queue.len();
        self.sched.queue.reserve(events.saturating_sub(pending));
    }

    /// Events due after `horizon` are not queued from now on: the run is not to go past it, so
    /// they could never be delivered. Without a horizon a component that keeps scheduling
    /// far-off events (a message held until a host that never comes back is repaired, due at
    /// [`SimTime::MAX`]) fills the queue with them. [`SimTime::MAX`], the default, keeps every
    /// event.
    pub fn set_horizon(&mut self, horizon: SimTime) {
        self.sched.horizon = horizon;
    }

    /// Bounds the events pending at once to `max` (at most [`crate::queue::MAX_PENDING`], the
    /// default): past it the run stops ([`Simulation::overflowed`]).
    pub fn limit_pending(&mut self, max: usize) {
        self.sched.max_pending = max.min(crate::queue::MAX_PENDING);
    }

    /// Whether the run stopped because its limit of pending events ([`Simulation::limit_pending`])
    /// was reached; the event that found the queue full was dropped, so the state is not a
    /// result. A run schedules that many only when something grows without bound, e.g. requests
    /// queued at a server that cannot keep up. Further runs and steps do nothing.
    pub fn overflowed(&self) -> bool {
        self.sched.overflow
    }

    /// Turns trace recording on or off (off by default).
    pub fn set_tracing(&mut self, on: bool) {
        self.tracer.set_enabled(on);
    }

    /// Registers a component under a unique `name` (used in traces and to key its random stream).
    ///
    /// # Errors
    ///
    /// [`SimError::DuplicateName`] if the name (or its stable key) is taken.
    pub fn add_component(
        &mut self,
        name: impl Into<String>,
        component: impl Component<E>,
    ) -> Result<ComponentId, SimError> {
        let name = name.into();
        let key = stable_key(&name);
        if !self.keys.insert(key) {
            return Err(SimError::DuplicateName(name));
        }
        let id = ComponentId(self.components.len() as u32);
        self.rngs.push(named_stream(self.seed, &name));
        self.keyed.push(keyed_seed(self.seed, key));
        self.components.push(Box::new(component));
        self.names.push(name);
        self.sched.n_components += 1;
        Ok(id)
    }

    /// The name a component was registered under.
    pub fn name(&self, id: ComponentId) -> Option<&str> {
        self.names.get(id.index()).map(String::as_str)
    }

    /// Number of registered components.
    pub fn component_count(&self) -> usize {
        self.components.len()
    }

    /// Read access to a component's state, if `id` is a `T`.
    pub fn component<T: Component<E>>(&self, id: ComponentId) -> Option<&T> {
        let c: &dyn Any = self.components.get(id.index())?.as_ref();
        c.downcast_ref::<T>()
    }

    /// Write access to a component's state between events, if `id` is a `T`.
    pub fn component_mut<T: Component<E>>(&mut self, id: ComponentId) -> Option<&mut T> {
        let c: &mut dyn Any = self.components.get_mut(id.index())?.as_mut();
        c.downcast_mut::<T>()
    }

    /// A component's random stream, for set-up draws made from outside the component (they
    /// advance the same stream the component later draws from).
    pub fn rng_mut(&mut self, id: ComponentId) -> Option<&mut SimRng> {
        self.rngs.get_mut(id.index())
    }

    /// Schedules `event` for `to` at instant `at`, from outside any component.
    ///
    /// # Errors
    ///
    /// [`SimError::NoSuchComponent`] for an unknown id, [`SimError::InThePast`] if `at < now`.
    pub fn schedule(&mut self, to: ComponentId, at: SimTime, event: E) -> Result<EventId, SimError> {
        if to.0 >= self.sched.n_components {
            return Err(SimError::NoSuchComponent(to.0));
        }
        if at < self.sched.now {
            return Err(SimError::InThePast {
                at,
                now: self.sched.now,
            });
        }
        Ok(self.sched.push(to, at, event))
    }

    /// Cancels a scheduled event from outside any component.
    pub fn cancel(&mut self, id: EventId) {
        self.sched.cancel(id);
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.sched.now
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Events handled so far (cancelled events not counted).
    pub fn events_processed(&self) -> u64 {
        self.processed
    }

    /// Events waiting in the queue (including cancelled ones not yet dropped).
    pub fn pending(&self) -> usize {
        self.sched.queue.len()
    }

    /// Handles the next event; returns `false` when none is pending.
    pub fn step(&mut self) -> bool {
        // The run loops check `stop`, which an overflow sets; a single step checks here.
        !self.sched.overflow && self.step_until(SimTime::MAX)
    }

    #[inline]
    fn step_until(&mut self, limit: SimTime) -> bool {
        loop {
            match self.sched.queue.peek_time() {
                Some(t) if t <= limit.as_nanos() => {}
                _ => return false,
            }
            let Some((key, env)) = self.sched.queue.pop() else {
                return false;
            };
            self.sched.last_popped = Some((key.time, key.seq));
            if !self.sched.cancelled.is_empty() && self.sched.cancelled.remove(&key.seq) {
                if self.sched.queue.is_empty() {
                    self.sched.cancelled.clear();
                }
                continue;
            }
            self.sched.now = SimTime::from_nanos(key.time);
            self.processed += 1;
            let i = env.to.index();
            let mut ctx = Context {
                me: env.to,
                sched: &mut self.sched,
                rng: &mut self.rngs[i],
                keyed: self.keyed[i],
                tracer: &mut self.tracer,
            };
            self.components[i].on_event(env.event, &mut ctx);
            return true;
        }
    }

    /// Runs until no event is pending or a component calls [`Context::stop`].
    pub fn run(&mut self) {
        self.run_until(SimTime::MAX);
    }

    /// Runs every event due at or before `limit`, then sets the clock to `limit` (unless a
    /// component stopped the run first or `limit` is [`SimTime::MAX`]).
    pub fn run_until(&mut self, limit: SimTime) {
        self.sched.stop = self.sched.overflow;
        while !self.sched.stop && self.step_until(limit) {}
        if !self.sched.stop && limit != SimTime::MAX && limit > self.sched.now {
            self.sched.now = limit;
        }
    }

    /// Runs until `events` more events have been handled, the queue empties or a component stops
    /// the run; returns how many were handled.
    pub fn run_events(&mut self, events: u64) -> u64 {
        self.sched.stop = self.sched.overflow;
        let start = self.processed;
        while !self.sched.stop && self.processed - start < events && self.step_until(SimTime::MAX) {}
        self.processed - start
    }

    /// The trace recorded so far.
    pub fn tracer(&self) -> &Tracer {
        &self.tracer
    }

    /// Mutable access to the trace recorder (to add spans from outside components).
    pub fn tracer_mut(&mut self) -> &mut Tracer {
        &mut self.tracer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum Ev {
        Ping(u32),
        Timer,
    }

    #[derive(Default)]
    struct Log {
        seen: Vec<(SimTime, u32)>,
        timer: Option<EventId>,
    }

    impl Component<Ev> for Log {
        fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
            match event {
                Ev::Ping(n) => {
                    self.seen.push((ctx.now(), n));
                    if n == 0 {
                        self.timer = Some(ctx.send_self(SimDuration::from_secs(5), Ev::Timer));
                    }
                    if n == 1 {
                        if let Some(t) = self.timer.take() {
                            ctx.cancel(t);
                        }
                    }
                }
                Ev::Timer => self.seen.push((ctx.now(), 999)),
            }
        }
    }

    #[test]
    fn cancelled_timer_never_fires() {
        let mut sim = Simulation::new(1);
        let a = sim.add_component("a", Log::default()).unwrap();
        sim.schedule(a, SimTime::from_secs(1), Ev::Ping(0)).unwrap();
        sim.schedule(a, SimTime::from_secs(2), Ev::Ping(1)).unwrap();
        sim.run();
        let log = sim.component::<Log>(a).unwrap();
        assert_eq!(log.seen, vec![(SimTime::from_secs(1), 0), (SimTime::from_secs(2), 1)]);
        assert_eq!(sim.events_processed(), 2);
    }

    #[test]
    fn uncancelled_timer_fires() {
        let mut sim = Simulation::new(1);
        let a = sim.add_component("a", Log::default()).unwrap();
        sim.schedule(a, SimTime::from_secs(1), Ev::Ping(0)).unwrap();
        sim.run();
        assert_eq!(
            sim.component::<Log>(a).unwrap().seen.last(),
            Some(&(SimTime::from_secs(6), 999))
        );
    }

    /// Reserving room mid-run keeps what is pending, in order, and a later event's key still
    /// cancels it.
    #[test]
    fn reserving_room_keeps_the_pending_events() {
        let mut sim = Simulation::new(1);
        let a = sim.add_component("a", Log::default()).unwrap();
        sim.schedule(a, SimTime::from_secs(1), Ev::Ping(0)).unwrap();
        sim.schedule(a, SimTime::from_secs(1), Ev::Ping(1)).unwrap();
        sim.step();
        sim.reserve_events(1000);
        // Ping(1), and the timer Ping(0) armed.
        assert_eq!(sim.pending(), 2);
        let late = sim.schedule(a, SimTime::from_secs(1), Ev::Ping(3)).unwrap();
        sim.cancel(late);
        sim.run();
        let seen: Vec<u32> = sim.component::<Log>(a).unwrap().seen.iter().map(|e| e.1).collect();
        // Ping(1) cancelled the timer; the late ping was cancelled before it fired.
        assert_eq!(seen, vec![0, 1], "{seen:?}");
    }

    #[test]
    fn events_past_the_horizon_are_not_queued_and_stay_cancellable() {
        let mut sim = Simulation::new(1);
        let a = sim.add_component("a", Log::default()).unwrap();
        sim.set_horizon(SimTime::from_secs(3));
        sim.schedule(a, SimTime::from_secs(1), Ev::Ping(0)).unwrap();
        sim.schedule(a, SimTime::from_secs(2), Ev::Ping(1)).unwrap();
        sim.step();
        // Ping(0) armed its timer for 6 s, past the horizon: nothing queued for it.
        assert_eq!(sim.pending(), 1);
        sim.run();
        // Ping(1) cancelled the timer that was never queued; Ping(1) itself was delivered.
        let log = sim.component::<Log>(a).unwrap();
        assert_eq!(log.seen, vec![(SimTime::from_secs(1), 0), (SimTime::from_secs(2), 1)]);
        assert!(!sim.overflowed());
    }

    /// [`SimTime::MAX`] means "never" (`time.rs`): such an event is not queued, so it never
    /// fires, and cancelling it leaves nothing behind.
    #[test]
    fn an_event_at_the_end_of_time_never_fires() {
        let mut sim = Simulation::new(1);
        let a = sim.add_component("a", Log::default()).unwrap();
        let never = sim.schedule(a, SimTime::MAX, Ev::Ping(7)).unwrap();
        assert_eq!(sim.pending(), 0);
        sim.run();
        assert!(sim.component::<Log>(a).unwrap().seen.is_empty());
        sim.cancel(never);
        assert!(sim.sched.cancelled.is_empty());
    }

    /// Cancelling an event that has fired, at the current instant or before, remembers
    /// nothing; cancelling one still due at the current instant keeps it from firing.
    #[test]
    fn cancelling_a_fired_event_leaves_nothing_behind() {
        let mut sim = Simulation::new(1);
        let a = sim.add_component("a", Log::default()).unwrap();
        let first = sim.schedule(a, SimTime::from_secs(1), Ev::Ping(5)).unwrap();
        let second = sim.schedule(a, SimTime::from_secs(1), Ev::Ping(6)).unwrap();
        sim.step();
        assert_eq!(sim.now(), SimTime::from_secs(1));
        sim.cancel(first);
        assert!(sim.sched.cancelled.is_empty(), "the fired event was remembered");
        sim.cancel(second);
        assert_eq!(sim.sched.cancelled.len(), 1);
        sim.run();
        assert_eq!(sim.component::<Log>(a).unwrap().seen, vec![(SimTime::from_secs(1), 5)]);
    }

    /// Doubles its pending events on every event it handles.
    struct Flood;

    impl Component<Ev> for Flood {
        fn on_event(&mut self, _: Ev, ctx: &mut Context<'_, Ev>) {
            ctx.send_self(SimDuration::from_secs(1), Ev::Timer);
            ctx.send_self(SimDuration::from_secs(1), Ev::Timer);
        }
    }

    #[test]
    fn a_full_queue_stops_the_run_and_says_so() {
        let mut sim = Simulation::new(1);
        let a = sim.add_component("flood", Flood).unwrap();
        sim.limit_pending(100);
        sim.schedule(a, SimTime::ZERO, Ev::Timer).unwrap();
        sim.run_until(SimTime::from_secs(1_000));
        assert!(sim.overflowed());
        assert_eq!(sim.pending(), 100);
        // Less than a second of doubling past 64 pending events: stopped, not run to 1,000 s.
        assert!(sim.now() < SimTime::from_secs(8), "{:?}", sim.now());
        let processed = sim.events_processed();
        sim.run();
        assert!(!sim.step());
        assert_eq!(sim.events_processed(), processed, "nothing runs after an overflow");
    }

    #[test]
    fn duplicate_names_and_bad_schedules_are_errors() {
        let mut sim: Simulation<Ev> = Simulation::new(1);
        let a = sim.add_component("a", Log::default()).unwrap();
        assert_eq!(
            sim.add_component("a", Log::default()),
            Err(SimError::DuplicateName("a".into()))
        );
        assert_eq!(
            sim.schedule(ComponentId(7), SimTime::ZERO, Ev::Timer).unwrap_err(),
            SimError::NoSuchComponent(7)
        );
        sim.run_until(SimTime::from_secs(3));
        assert!(matches!(
            sim.schedule(a, SimTime::from_secs(1), Ev::Timer),
            Err(SimError::InThePast { .. })
        ));
    }

    /// Records, at each `Ping(n)`, `n` plain draws from its stream and then its keyed draw 7.
    #[derive(Default)]
    struct Keyed {
        keyed: Vec<u64>,
        plain: Vec<u64>,
    }

    impl Component<Ev> for Keyed {
        fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
            if let Ev::Ping(n) = event {
                use rand::Rng;
                for _ in 0..n {
                    self.plain.push(ctx.rng().random());
                }
                self.keyed.push(ctx.keyed_rng(7).random());
            }
        }
    }

    fn keyed_draws(seed: u64, name: &str, plain: u32) -> (u64, Vec<u64>) {
        let mut sim = Simulation::new(seed);
        let a = sim.add_component(name, Keyed::default()).unwrap();
        sim.schedule(a, SimTime::ZERO, Ev::Ping(plain)).unwrap();
        sim.run();
        let k = sim.component::<Keyed>(a).unwrap();
        (k.keyed[0], k.plain.clone())
    }

    #[test]
    fn keyed_draws_ignore_earlier_draws_and_differ_by_seed_component_and_stream() {
        let (k0, _) = keyed_draws(1, "a", 0);
        let (k5, plain) = keyed_draws(1, "a", 5);
        assert_eq!(k0, k5, "draws from the main stream moved a keyed draw");
        assert!(!plain.contains(&k0), "the keyed stream repeats the main one");
        assert_ne!(keyed_draws(2, "a", 0).0, k0, "another seed");
        assert_ne!(keyed_draws(1, "b", 0).0, k0, "another component");
    }
}
