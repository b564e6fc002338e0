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
    /// PHOLD, the standard discrete-event benchmark (as the shared SimPy PHOLD defines it): N logical processes,
    /// E initial events each; each event schedules one successor at now + lookahead + Exp(mean),
    /// at a random other process with probability --remote, else at itself.
    #[command(
        after_help = "Example:\n  kubetwin bench phold --lps 100000 --events-per-lp 10 --events 5000000 --baseline --format json"
    )]
    Phold(PholdArgs),
    /// The whole model at scale: a generated uniform scenario (N workers over S sites, control
    /// plane at site 0) starting P pods through controllers, scheduler, kubelets and watches.
    #[command(
        after_help = "Example:\n  kubetwin bench scale --nodes 5000 --pods 150000 --sites 10 --format json\n\n\
Times are wall-clock: build_s from generating the scenario until the simulation is assembled,\n\
wall_s for running it; peak_rss_bytes is the process's high-water mark (Linux only)."
    )]
    Scale(ScaleArgs),
    /// etcd's raft elections (`models::raft`, `plan` section (c)): M members with the same path
    /// between every two, simulated for H hours of steady state.
    #[command(
        after_help = "Example:\n  kubetwin bench raft --members 3 --hours 24 --one-way 113ms --loss 1 --format json"
    )]
    Raft(RaftArgs),
}

#[derive(Debug, Args)]
struct RaftArgs {
    /// etcd members (etcd's FAQ advises at most 7).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=15))]
    members: u32,
    /// Simulated hours (a thousand take about 8 s for 3 members).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=1000))]
    hours: u64,
    /// One-way delay between two members.
    #[arg(long, default_value = "113ms", value_parser = parse_path_delay, value_name = "DURATION")]
    one_way: models::units::Dur,
    /// Standard deviation of a normal jitter on it.
    #[arg(long, default_value = "0ms", value_parser = parse_path_delay, value_name = "DURATION")]
    jitter: models::units::Dur,
    /// Loss in percent, each direction, below 100 (100 % is a partition).
    #[arg(long, default_value_t = 1.0, value_parser = parse_loss_pct)]
    loss: f64,
    /// etcd `--heartbeat-interval`.
    #[arg(long, default_value = "100ms", value_parser = parse_path_delay, value_name = "DURATION")]
    heartbeat: models::units::Dur,
    /// etcd `--election-timeout`.
    #[arg(long, default_value = "1000ms", value_parser = parse_path_delay, value_name = "DURATION")]
    election: models::units::Dur,
    /// Run seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BenchFormat::Table)]
    format: BenchFormat,
}

/// A duration of at most a minute, for the raft benchmark's paths and timers.
fn parse_path_delay(s: &str) -> Result<models::units::Dur, String> {
    let d = s.parse::<models::units::Dur>().map_err(|e| e.to_string())?;
    if d.secs_f64() > 60.0 {
        return Err(format!(
            "`{s}` is more than 60 s; expected a duration such as 100ms (check the unit)"
        ));
    }
    Ok(d)
}

/// A time in model seconds (PHOLD's `--lookahead` and `--mean`): a bare number of seconds, as
/// PHOLD's parameters are given in the literature and in `BENCHMARKS.md`, or a duration with a
/// unit, as every other duration flag takes. The range is checked with the other parameters
/// ([`PholdConfig::validate`]).
fn parse_seconds(s: &str) -> Result<f64, String> {
    if let Ok(x) = s.trim().parse::<f64>() {
        return Ok(x);
    }
    s.parse::<models::units::Dur>().map(|d| d.secs_f64()).map_err(|_| {
        format!("`{s}` is not a time: expected seconds, as a number (e.g. 0.5), or a duration with a unit (e.g. 500ms)")
    })
}

/// A loss in percent, 0 up to 100, 100 excluded: 100 % loss is a partition, refused as the
/// scenario's losses are (E010).
fn parse_loss_pct(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number; expected a loss in percent such as 0.5"))?;
    if x == 100.0 {
        return Err(format!(
            "`{s}`: 100 % loss carries nothing: that is a partition, in which no member hears another and none is elected; expected a loss below 100"
        ));
    }
    if !(0.0..100.0).contains(&x) {
        return Err(format!("`{s}` is not a percentage from 0 to 100 (100 excluded)"));
    }
    Ok(x)
}

#[derive(Debug, Args)]
struct ScaleArgs {
    /// Worker nodes.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    nodes: u32,
    /// Pods to start (ClusterLoader2's density test runs 30 per node).
    #[arg(long, default_value_t = 150_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pods: u32,
    /// Sites the workers are spread over; at most 1000, as for `generate uniform`
    /// (`topologies::generate::MAX_SITES`).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=topologies::generate::MAX_SITES as i64))]
    sites: u32,
    /// Run seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep v1.16.3's hostNetwork status resync on every kubelet (the scenarios' default:
    /// `kubernetes.kubelet.host_network_status_resync`). Off here unless given, so that the
    /// benchmark runs the workload BENCHMARKS.md's table measures (kubelets with the fix): at
    /// 5,000 nodes the resync adds 2,000 requests/s, more than doubling the events and the
    /// wall time (BENCHMARKS.md, "Scale: 30 pods per node").
    #[arg(long)]
    host_network_resync: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BenchFormat::Table)]
    format: BenchFormat,
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
    /// Minimum delay between an event and its successor, in model seconds (a number such as
    /// 0.1, or a duration with a unit such as 100ms).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true, value_parser = parse_seconds)]
    lookahead: f64,
    /// Mean of the exponential part of the delay, in model seconds (a number such as 1, or a
    /// duration with a unit such as 1s).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = parse_seconds)]
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
        BenchKind::Scale(a) => scale(a),
        BenchKind::Raft(a) => raft(a),
    }
}

fn raft(a: RaftArgs) -> anyhow::Result<()> {
    use models::raft::{steady_state, RaftTimers, UniformLinks};
    let timers = RaftTimers {
        heartbeat: a.heartbeat.get(),
        election: a.election.get(),
    };
    // etcd's own bounds (`embed.Config.Validate`), as the scenario checks apply them.
    if timers.heartbeat < sim_core::SimDuration::from_millis(1) || timers.election < timers.heartbeat * 5 {
        return Err(UsageError(format!(
            "--heartbeat {} / --election {}: etcd wants a heartbeat of at least 1ms and an election timeout of at least 5 x the heartbeat",
            a.heartbeat, a.election
        ))
        .into());
    }
    let links = UniformLinks {
        one_way: a.one_way.get(),
        jitter: a.jitter.get(),
        loss: a.loss / 100.0,
    };
    let span = sim_core::SimDuration::from_secs(a.hours * 3600);
    let start = std::time::Instant::now();
    let l = steady_state(Box::new(links), a.members as usize, 0, timers, span, a.seed);
    let wall_s = start.elapsed().as_secs_f64();
    let hours = a.hours as f64;
    match a.format {
        BenchFormat::Json => {
            let v = json!({
                "benchmark": "raft",
                "members": a.members,
                "hours": a.hours,
                "one_way_s": a.one_way.secs_f64(),
                "jitter_s": a.jitter.secs_f64(),
                "loss_pct": a.loss,
                "seed": a.seed,
                "events": l.events,
                "wall_s": wall_s,
                "events_per_s": l.events as f64 / wall_s.max(1e-9),
                "campaigns": l.campaigns,
                "elections": l.elections,
                "depositions_per_hour_at_least": l.gaps_must_elect as f64 / hours,
                "depositions_per_hour_at_most": l.expected_campaigns / hours,
                "heartbeat_gaps_may_elect": l.gaps_may_elect,
                "stalled_s": l.stalled.as_secs_f64(),
            });
            println!("{v}");
        }
        BenchFormat::Table => {
            println!(
                "raft: {} members, {} ms one way (jitter {} ms, loss {} %), {} simulated hours, seed {}",
                a.members,
                a.one_way.get().as_millis_f64(),
                a.jitter.get().as_millis_f64(),
                a.loss,
                a.hours,
                a.seed
            );
            println!(
                "  run {wall_s:.3} s wall, {} events = {:.0} events/s",
                l.events,
                l.events as f64 / wall_s.max(1e-9)
            );
            // The depositions are counted from gaps in a leader's heartbeats: with no leader for
            // most of the run there are none to count, and "0 to 0" would read as stable (found
            // by a robustness audit at 99.999 % loss).
            if l.stalled.as_secs_f64() > 0.5 * l.span.as_secs_f64() {
                println!(
                    "  {} elections started, {} leaders elected, writes stalled {:.1} s: no leader held for most of the run, so there are no heartbeat gaps to rate depositions by",
                    l.campaigns,
                    l.elections,
                    l.stalled.as_secs_f64()
                );
            } else {
                println!(
                    "  {} elections started, {:.2} to {:.2} depositions of the leader per hour from the heartbeat gaps, {} leaders elected, writes stalled {:.1} s",
                    l.campaigns,
                    l.gaps_must_elect as f64 / hours,
                    l.expected_campaigns / hours,
                    l.elections,
                    l.stalled.as_secs_f64()
                );
            }
        }
    }
    Ok(())
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

/// Peak resident memory of this process so far, bytes (Linux `VmHWM`), if known.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn scale(a: ScaleArgs) -> anyhow::Result<()> {
    let opts = topologies::generate::UniformOptions {
        command_line: format!(
            "kubetwin bench scale --nodes {} --pods {} --sites {}",
            a.nodes, a.pods, a.sites
        ),
        ..Default::default()
    };
    let build_start = std::time::Instant::now();
    let mut scenario = topologies::generate::uniform(a.nodes as usize, a.sites as usize, &opts);
    scenario.workload.replicas = a.pods;
    scenario.workload.timeout = models::units::Dur(sim_core::SimDuration::from_secs(6 * 3600));
    scenario.kubernetes.kubelet.host_network_status_resync = a.host_network_resync;
    // The checks of the workload's size every other command makes (E031, E021, E034): pods the
    // workers cannot hold would simulate six hours of a cluster that never finishes, reported
    // as a benchmark.
    if let Some(f) = topologies::check::workload_fits(&scenario) {
        return Err(UsageError(format!("--pods {}: `{}`: {}", a.pods, f.field, f.message)).into());
    }
    let (mut sim, parts) = models::cluster::build(&scenario, a.seed, false)?;
    let build_s = build_start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    sim.run_until(sim_core::SimTime::ZERO + scenario.workload.timeout.get());
    let wall_s = start.elapsed().as_secs_f64();
    models::cluster::check_flood(&sim, &scenario)?;
    let events = sim.events_processed();
    let kubectl = sim
        .component::<models::observer::Kubectl>(parts.kubectl)
        .expect("kubectl registered");
    let done = kubectl.done_at.map(|t| t.as_secs_f64());
    let rss = peak_rss_bytes();
    match a.format {
        BenchFormat::Json => {
            let v = json!({
                "benchmark": "scale",
                "nodes": a.nodes,
                "pods": a.pods,
                "sites": a.sites,
                "seed": a.seed,
                "events": events,
                "build_s": build_s,
                "wall_s": wall_s,
                "events_per_s": events as f64 / wall_s.max(1e-9),
                "simulated_s": sim.now().as_secs_f64(),
                "all_running_s": done,
                "host_network_resync": a.host_network_resync,
                "peak_rss_bytes": rss,
            });
            println!("{v}");
        }
        BenchFormat::Table => {
            println!(
                "scale: {} over {}, {}, seed {}",
                crate::output::count(a.nodes as usize, "node"),
                crate::output::count(a.sites as usize, "site"),
                crate::output::count(a.pods as usize, "pod"),
                a.seed
            );
            println!(
                "  build {build_s:.3} s wall, run {wall_s:.3} s wall, {events} events = {:.0} events/s",
                events as f64 / wall_s.max(1e-9)
            );
            println!(
                "  simulated {:.1} s; all pods Running at {}",
                sim.now().as_secs_f64(),
                done.map_or("never".into(), |d| format!("{d:.1} s"))
            );
            if let Some(r) = rss {
                println!("  peak RSS {:.1} MiB", r as f64 / (1024.0 * 1024.0));
            }
        }
    }
    Ok(())
}
