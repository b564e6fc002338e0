//! Validation run: the 2019 thesis testbed against its measured corner cells.
//!
//! ```text
//!   kubectl (master01) --> lb (HAProxy) --> master01..03 (apiserver + etcd)
//!                              |  OpenVPN full mesh (vyos01..03)
//!                   node01, node02 (vlan20)   node03, node04 (vlan30)
//! ```
//!
//! Loads `thesis-2019` with its shipped calibration, simulates every measured cell and prints
//! measured against simulated start-up with a 95 % confidence interval.

use std::path::PathBuf;

use clap::Parser;

/// Compare the thesis testbed's simulation with its measurements.
#[derive(Debug, Parser)]
struct Args {
    /// Measured cells (CSV: pods,delay_ms,mean_s,runs,resolution_s).
    #[arg(long, default_value = "../shared/data/thesis-2019/pod-startup-calibration.csv")]
    data: PathBuf,
    /// Replications per cell.
    #[arg(long, default_value_t = 30)]
    reps: u32,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let (scenario, origin) = topologies::params::resolve("thesis-2019", None)?;
    let cells = validate::dataset::read_cells(&a.data)?;
    let cmp = validate::compare::compare(&scenario, &cells, a.reps, a.seed)?;
    println!("{origin}, {} replications per cell", a.reps);
    println!(
        "{:>5} {:>9} {:>11} {:>12} {:>8}",
        "pods", "delay ms", "measured s", "simulated s", "error %"
    );
    for c in &cmp.cells {
        println!(
            "{:>5} {:>9} {:>11.1} {:>12.1} {:>+8.1}",
            c.pods, c.delay_ms, c.measured_s, c.simulated_s, c.error_pct
        );
    }
    println!("MAPE {:.2} %", cmp.mape_pct);
    Ok(())
}
