//! The scenario a command names: loaded with its parameters, its warnings shown on stderr.
//!
//! Errors stop the command (exit code 2); warnings (`W…` checks: a backend listed twice, a
//! master no backend names, periodic requests beyond the apiservers) do not, but a user who
//! runs a scenario should see them, before any output.

use std::path::Path;

use models::spec::Scenario;
use topologies::check::Size;
use topologies::Diagnostic;

use crate::output::InputError;

/// [`topologies::params::resolve`]: the scenario and where it came from, after printing its
/// warnings; its workload's size judged at load only at `size` [`Size::OfTheFile`] (a command
/// that runs sizes of its own judges them itself).
pub(crate) fn resolve(scenario: &str, params: Option<&Path>, size: Size) -> Result<(Scenario, String), InputError> {
    let loaded = topologies::params::resolve_at(scenario, params, size).map_err(|e| InputError(e.to_string()))?;
    note_shadowed_file(scenario);
    show(&loaded.warnings);
    Ok((loaded.scenario, loaded.origin))
}

/// [`topologies::load::by_name_or_path`], without the shipped parameters (for `calibrate`, which
/// fits them at the sizes of its measured cells), after printing its warnings; the workload's
/// size judged at load only at `size` [`Size::OfTheFile`].
pub(crate) fn without_params(scenario: &str, size: Size) -> Result<(Scenario, String), InputError> {
    let loaded = topologies::load::by_name_or_path_at(scenario, size).map_err(|e| InputError(e.to_string()))?;
    note_shadowed_file(scenario);
    show(&loaded.warnings);
    Ok((loaded.scenario, loaded.origin))
}

/// A built-in name wins over a file of that name in the working directory: says so on stderr,
/// and how to run the file instead, when there is one (a reviewer's `./thesis-2019` was
/// silently not read).
pub(crate) fn note_shadowed_file(scenario: &str) {
    if topologies::load::builtin(scenario).is_some() && Path::new(scenario).is_file() {
        eprintln!(
            "note: `{scenario}` names the built-in scenario; the file ./{scenario} is not read (give ./{scenario} to run the file)"
        );
    }
}

/// Prints each warning on stderr, as the loader words it (file, line, code, field, help).
fn show(warnings: &[Diagnostic]) {
    for w in warnings {
        eprintln!("{w}");
    }
}
