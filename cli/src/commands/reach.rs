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
    let by_site = match a.by.as_deref() {
        Some(view) => view == "site",
        None => machines > topologies::reach::HOSTS_SHOWN_ONE_BY_ONE,
    };
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
