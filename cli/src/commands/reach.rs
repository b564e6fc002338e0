//! `kubetwin reach`: which hosts reach which (the thesis's tables 4.6 and 4.7).

use clap::Args;

/// Arguments of `kubetwin reach`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  kubetwin reach thesis-2019 --no-vpn")]
pub(crate) struct ReachArgs {
    /// A built-in scenario name (`thesis-2019`) or a scenario TOML file.
    scenario: String,
    /// Show reachability with the OpenVPN tunnels down (thesis table 4.6).
    #[arg(long)]
    no_vpn: bool,
}

/// Runs `kubetwin reach`. A scenario that fails only E014 (hosts that cannot reach the control
/// plane) is shown all the same, its table first and its errors after, on stderr: that is the
/// scenario the table helps with.
pub(crate) fn cmd(a: ReachArgs) -> anyhow::Result<()> {
    let (loaded, unreachable) = topologies::load::by_name_or_path_despite_unreachable(&a.scenario)
        .map_err(|e| crate::output::InputError(e.to_string()))?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    print!(
        "{}",
        topologies::reach::reachability_table(&loaded.scenario, loaded.scenario.vpn.enabled && !a.no_vpn)
    );
    if !unreachable.is_empty() {
        eprintln!("{}: this scenario cannot run:", loaded.origin);
        for d in &unreachable {
            eprintln!("  {d}");
        }
    }
    Ok(())
}
