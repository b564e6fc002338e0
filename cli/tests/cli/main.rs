//! Integration tests of the `kubetwin` binary, one module per concern.
//!
//! Every test runs the built binary (`CARGO_BIN_EXE_kubetwin`) as a user would and checks its exit
//! code, stdout and stderr. The `measure` tests point it at a stand-in `kubectl` shell script that
//! replays the captures in `shared/data/kubectl-captures/` (beside the repository checkout, as CI lays
//! it out).

mod bad_args;
mod bench;
mod calibrate;
mod check;
mod help;
mod intervals;
#[cfg(unix)]
mod measure;
mod plan;
mod reach;
mod run;
mod support;
mod sweep;
mod validate;
