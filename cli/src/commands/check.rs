//! `kubetwin check`: check a scenario without running it, or list every check it can fail.

use clap::Args;

/// Arguments of `kubetwin check`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  kubetwin check my-consortium.toml\n  kubetwin check --codes")]
pub(crate) struct CheckArgs {
    /// A built-in scenario name (`thesis-2019`) or a scenario TOML file: loaded and checked as
    /// `run` without `--pods` would (a command given sizes of its own judges those instead), every finding named with its file, line, field and stable code.
    #[arg(required_unless_present = "codes", conflicts_with = "codes")]
    scenario: Option<String>,
    /// List every check instead: its stable code, its name and what it requires.
    #[arg(long)]
    codes: bool,
}

/// Runs `kubetwin check`: exit code 0 for a scenario that loads and from which the model can be
/// built (its warnings printed), 2 with every error for one that cannot.
pub(crate) fn cmd(a: CheckArgs) -> anyhow::Result<()> {
    let Some(name) = a.scenario else {
        print!("{}", codes_table());
        return Ok(());
    };
    let loaded =
        topologies::load::by_name_or_path_with_warnings(&name).map_err(|e| crate::output::InputError(e.to_string()))?;
    crate::scenario::note_shadowed_file(&name);
    for w in &loaded.warnings {
        println!("{w}");
    }
    let s = &loaded.scenario;
    // What only building the model finds (a backend that is not a host, a network that cannot
    // be routed): the checks above should leave nothing, but `run` must not be the first to say.
    models::cluster::build(s, 0, false)
        .map_err(|e| crate::output::UsageError(format!("{}: the model cannot be built: {e}", loaded.origin)))?;
    let workers = s.hosts.iter().filter(|h| h.role == models::spec::Role::Worker).count();
    println!(
        "{}: scenario `{}` passes every error check ({}, {}, {}; {})",
        loaded.origin,
        s.name,
        crate::output::count(s.sites.len(), "site"),
        crate::output::count(s.hosts.len(), "host"),
        crate::output::count(workers, "worker"),
        crate::output::count(loaded.warnings.len(), "warning")
    );
    Ok(())
}

/// Every check as a text table: code, name, what it requires.
fn codes_table() -> String {
    let rows = topologies::check::checks_table();
    let width = rows.iter().map(|(_, name, _)| name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (code, name, help) in rows {
        out.push_str(&format!("{code}  {name:<width$}  {help}\n"));
    }
    out
}
