//! `kubetwin bench`: performance measurements of the engine (and, later, of the model).

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use sim_core::phold::{run_baseline, run_engine, PholdConfig, PholdError};

use crate::output::UsageError;

/// Arguments of `kubetwin bench`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  kubetwin bench phold --lps 1000 --events-per-lp 16 --events 2000000 --baseline --format json"
)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    which: BenchKind,
}

#[derive(Debug, Subcommand)]
enum BenchKind {
    /// PHOLD, the standard discrete-event benchmark (ROSS's definition): N logical processes,
    /// E initial events each; each event schedules one successor at now + lookahead + Exp(mean),
    /// at a random other process with probability --remote, else at itself.
    Phold(PholdArgs),
}

/// Output format of a benchmark.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum BenchFormat {
    /// Human-readable lines.
    Table,
    /// One JSON object.
    Json,
}

#[derive(Debug, Args)]
struct PholdArgs {
    /// Number of logical processes (LPs).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    lps: u32,
    /// Initial events per LP; the pending-event set holds lps x events-per-lp events throughout.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    events_per_lp: u32,
    /// Probability in [0, 1] that an event's successor goes to another LP.
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true)]
    remote: f64,
    /// Minimum delay between an event and its successor, in model seconds.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    lookahead: f64,
    /// Mean of the exponential part of the delay, in model seconds.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    mean: f64,
    /// Total events to process.
    #[arg(long, default_value_t = 5_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    events: u64,
    /// Run seed (the same seed gives the same run, bit for bit).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also run the same PHOLD on a bare std BinaryHeap loop in this process and report the ratio.
    #[arg(long)]
    baseline: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BenchFormat::Table)]
    format: BenchFormat,
}

/// Runs `kubetwin bench`.
pub(crate) fn cmd(args: BenchArgs) -> anyhow::Result<()> {
    match args.which {
        BenchKind::Phold(a) => phold(a),
    }
}

fn phold(a: PholdArgs) -> anyhow::Result<()> {
    let cfg = PholdConfig {
        lps: a.lps,
        events_per_lp: a.events_per_lp,
        remote: a.remote,
        lookahead: a.lookahead,
        mean: a.mean,
        events: a.events,
        seed: a.seed,
    };
    cfg.validate().map_err(|e: PholdError| UsageError(e.to_string()))?;
    let engine = run_engine(&cfg)?;
    let baseline = if a.baseline { Some(run_baseline(&cfg)?) } else { None };
    if let Some(b) = &baseline {
        anyhow::ensure!(
            b.checksum == engine.checksum,
            "internal error: the engine and the bare-heap loop handled different events (checksums {:#x} vs {:#x})",
            engine.checksum,
            b.checksum
        );
    }
    match a.format {
        BenchFormat::Json => {
            let mut v = json!({
                "benchmark": "phold",
                "lps": cfg.lps,
                "events_per_lp": cfg.events_per_lp,
                "remote": cfg.remote,
                "lookahead": cfg.lookahead,
                "mean": cfg.mean,
                "seed": cfg.seed,
                "events": engine.events,
                "sim_end_s": engine.sim_end_s,
                "checksum": format!("{:#018x}", engine.checksum),
                "wall_s": engine.wall_s,
                "events_per_s": engine.events_per_s(),
            });
            if let Some(b) = &baseline {
                v["baseline_wall_s"] = json!(b.wall_s);
                v["baseline_events_per_s"] = json!(b.events_per_s());
                v["ratio"] = json!(engine.events_per_s() / b.events_per_s());
            }
            println!("{v}");
        }
        BenchFormat::Table => {
            println!(
                "PHOLD  lps={} events/lp={} remote={} lookahead={} mean={} seed={}",
                cfg.lps, cfg.events_per_lp, cfg.remote, cfg.lookahead, cfg.mean, cfg.seed
            );
            println!(
                "engine        {:>12} events in {:>8.3} s = {:>12.0} events/s  (simulated to {:.3} s)",
                engine.events,
                engine.wall_s,
                engine.events_per_s(),
                engine.sim_end_s
            );
            if let Some(b) = &baseline {
                println!(
                    "bare heap     {:>12} events in {:>8.3} s = {:>12.0} events/s",
                    b.events,
                    b.wall_s,
                    b.events_per_s()
                );
                println!(
                    "ratio engine/bare heap: {:.3}",
                    engine.events_per_s() / b.events_per_s()
                );
            }
        }
    }
    Ok(())
}
