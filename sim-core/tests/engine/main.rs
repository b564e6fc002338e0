//! Integration tests of the engine, one module per concern.

mod alloc;
mod cancel;
mod determinism;
mod ordering;
mod rng_streams;
