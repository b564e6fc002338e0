//! # kubetwin topologies: scenario files
//!
//! A scenario is a TOML file that [`load`] turns into a [`models::spec::Scenario`]: the sites,
//! hosts and links of the testbed, the OpenVPN overlay, HAProxy, the Kubernetes settings, the
//! workload and the injected delay. Loading never panics; every error names the file, the line
//! and column, the field path and what is expected ([`ScenarioError`]). [`check`] holds the
//! semantic checks, each with a stable code; [`reach`] prints who reaches whom, as the thesis's
//! tables 4.6 and 4.7 do.
//!
//! The built-in scenario `thesis-2019` (`scenarios/thesis-2019.toml`) is the 2019 testbed of
//! the reference thesis, every value commented with its source. The README documents the
//! format field by field.
//!
//! ```
//! use topologies::load;
//!
//! let loaded = load::by_name_or_path_with_warnings("thesis-2019").unwrap();
//! assert!(loaded.warnings.is_empty());
//! assert_eq!(loaded.scenario.workload.replicas, 4);
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_code)]

pub mod check;
mod error;
pub mod file;
pub mod generate;
pub mod load;
mod locate;
/// Parameter files laid over a scenario (`--params`).
pub mod params;
pub mod reach;

pub use error::{Diagnostic, ScenarioError, Severity};

/// `n` and `noun`, plural unless `n` is 1: `1 site`, `3 sites`.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}
