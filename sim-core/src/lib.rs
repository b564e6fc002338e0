//! # kubetwin sim-core: the discrete-event engine
//!
//! The engine knows nothing of Kubernetes. It offers:
//!
//! - [`SimTime`] / [`SimDuration`]: an integer nanosecond clock;
//! - [`Simulation`]: components (implementing [`Component`]) exchange typed events through an
//!   event queue ordered by (time, sequence number), with cancellation;
//! - [`rng`]: per-component random streams derived from (run seed, component id);
//! - building blocks for models: [`limiter::TokenBucket`] (client-go QPS/burst),
//!   [`server::FifoServer`] (a queue in front of N slots), [`stats`] (Welford, quantiles,
//!   Student-t confidence intervals);
//! - [`trace`]: spans and instants written as Chrome trace-event JSON;
//! - [`display`]: numbers as error messages show them.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_code)]

pub mod display;
pub mod engine;
pub mod limiter;
pub mod phold;
pub mod queue;
pub mod rng;
pub mod server;
pub mod stats;
pub mod time;
pub mod trace;

pub use engine::{Component, ComponentId, Context, EventId, SimError, Simulation};
pub use time::{SimDuration, SimTime};
