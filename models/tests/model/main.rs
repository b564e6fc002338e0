//! Integration tests of the model, one module per mechanism or behaviour.

mod explore;
mod faults;
mod fixture;
mod mechanisms;
mod thesis_shape;
