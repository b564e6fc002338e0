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

/// Runs `kubetwin reach`.
pub(crate) fn cmd(a: ReachArgs) -> anyhow::Result<()> {
    let (scenario, _) = crate::scenario::without_params(&a.scenario)?;
    print!("{}", topologies::reach::reachability_table(&scenario, !a.no_vpn));
    Ok(())
}
