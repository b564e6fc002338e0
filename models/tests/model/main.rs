//! Integration tests of the model, one module per mechanism or behaviour.

mod common_random_numbers;
mod determinism;
mod faults;
mod fixture;
mod in_flight;
mod mechanisms;
mod raft;
mod reachability;
mod registry;
mod settings;
mod thesis_shape;
