//! Researcher: pod start-up over a grid of pods and added delay, as CSV with 95 % intervals.
//!
//! The full tool is `kubetwin sweep` (resumable, shardable, with `--plot`); this example shows
//! the library calls underneath: a scenario, an override per point, replications with derived
//! seeds, and Student-t intervals.

use clap::Parser;
use sim_core::stats::OnlineStats;
use sim_core::SimDuration;

/// Sweep pods x delay on the thesis testbed.
#[derive(Debug, Parser)]
struct Args {
    /// Pod counts.
    #[arg(long, value_delimiter = ',', default_value = "4,20,100")]
    pods: Vec<u32>,
    /// Added one-way delays, ms.
    #[arg(long, value_delimiter = ',', default_value = "0,100,200,300,400,500")]
    delay_ms: Vec<u64>,
    /// Replications per point.
    #[arg(long, default_value_t = 30)]
    reps: u64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let (base, _) = topologies::params::resolve("thesis-2019", None)?;
    println!("pods,delay_ms,reps,mean_s,ci95_lo_s,ci95_hi_s");
    for &pods in &a.pods {
        for &d in &a.delay_ms {
            let s = models::cluster::with_overrides(&base, Some(pods), Some(SimDuration::from_millis(d)));
            let point_seed = sim_core::rng::mix64(a.seed ^ (u64::from(pods) << 32) ^ d);
            let mut st = OnlineStats::new();
            for r in 0..a.reps {
                let out = models::cluster::run(&s, sim_core::rng::replication_seed(point_seed, r), false)?;
                if let Some(v) = out.startup_observed_s {
                    st.push(v);
                }
            }
            let ci = st.ci95();
            println!(
                "{pods},{d},{},{:.3},{},{}",
                st.count(),
                st.mean().unwrap_or(f64::NAN),
                ci.map_or(String::new(), |c| format!("{:.3}", c.lo)),
                ci.map_or(String::new(), |c| format!("{:.3}", c.hi))
            );
        }
    }
    Ok(())
}
