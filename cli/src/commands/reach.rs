//! `kubetwin reach`: which hosts reach which (the thesis's tables 4.6 and 4.7).

use clap::Args;

/// Arguments of `kubetwin reach`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  kubetwin reach thesis-2019 --no-vpn\n  kubetwin reach consortium-32.toml --by site"
)]
pub(crate) struct ReachArgs {
    /// A built-in scenario name (`thesis-2019`) or a scenario TOML file.
    scenario: String,
    /// Show reachability with the OpenVPN tunnels down (thesis table 4.6).
    #[arg(long)]
    no_vpn: bool,
    /// One row per machine (`host`) or per site (`site`). Default: machines up to 24 of them,
    /// sites past that (a consortium of hundreds of machines).
    #[arg(long, value_name = "VIEW", value_parser = ["host", "site"])]
    by: Option<String>,
}

/// The most machines `reach` takes: its matrix holds a byte for every ordered pair (1.6 GB
/// here; 20,000 machines at ten sites take 5 s and 0.5 GB, BENCHMARKS.md).
const MAX_MACHINES: usize = 40_000;

/// The most machines `reach --by host` draws one by one: 2,000 columns already print 48 MB.
const MAX_MACHINES_BY_HOST: usize = 2_000;

/// Runs `kubetwin reach`. A scenario that fails only E014 (hosts that cannot reach the control
/// plane) is shown all the same, its table first and its errors after, on stderr: that is the
/// scenario the table helps with.
pub(crate) fn cmd(a: ReachArgs) -> anyhow::Result<()> {
    let (loaded, unreachable) = topologies::load::by_name_or_path_despite_unreachable(&a.scenario)
        .map_err(|e| crate::output::InputError(e.to_string()))?;
    crate::scenario::note_shadowed_file(&a.scenario);
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    let vpn = loaded.scenario.vpn.enabled && !a.no_vpn;
    let machines = loaded
        .scenario
        .hosts
        .iter()
        .filter(|h| h.role != models::spec::Role::Router)
        .count();
    // The table is worked out pair by pair: a byte per ordered pair of machines.
    if machines > MAX_MACHINES {
        return Err(crate::output::InputError(format!(
            "{}: {machines} machines make a table of {} cells, a byte each, more than `reach` works out ({MAX_MACHINES} machines, \
             about {:.1} GB); `kubetwin check` checks every route a run needs at any size (check E014)",
            loaded.origin,
            machines * machines,
            (MAX_MACHINES * MAX_MACHINES) as f64 / 1e9
        ))
        .into());
    }
    let by_site = match a.by.as_deref() {
        Some(view) => view == "site",
        None => machines > topologies::reach::HOSTS_SHOWN_ONE_BY_ONE,
    };
    if !by_site && machines > MAX_MACHINES_BY_HOST {
        return Err(crate::output::InputError(format!(
            "--by host: {machines} machines make a table of {machines} columns, more than `reach` draws one by one \
             ({MAX_MACHINES_BY_HOST}); --by site shows them site by site"
        ))
        .into());
    }
    let table = if by_site {
        topologies::reach::site_reachability_table(&loaded.scenario, vpn)
    } else {
        topologies::reach::reachability_table(&loaded.scenario, vpn)
    };
    print!("{table}");
    if !unreachable.is_empty() {
        eprintln!("{}: this scenario cannot run:", loaded.origin);
        for d in &unreachable {
            eprintln!("  {d}");
        }
    }
    Ok(())
}
