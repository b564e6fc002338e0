//! `kubetwin`: a digital twin of a geographically distributed Kubernetes testbed.
//!
//! `main` only parses the command line and dispatches to one module per subcommand; each module
//! has a clap `Args` struct and a `cmd(args)` function.

mod commands;
mod interrupt;
mod output;
mod plan;
mod plot;
mod progress;
mod scenario;
mod sweep;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// kubetwin: predict how a geo-distributed Kubernetes testbed behaves before you build or change it.
///
/// A discrete-event simulator of sites joined by OpenVPN tunnels, an HAProxy-fronted Kubernetes
/// v1.16 control plane and kubelets, calibrated against measured pod start-up times.
#[derive(Debug, Parser)]
#[command(name = "kubetwin", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run replications of a scenario (e.g. the 2019 thesis testbed) and report pod start-up.
    Run(commands::run::RunArgs),
    /// Compare simulated with measured pod start-up, cell by cell.
    Validate(commands::validate::ValidateArgs),
    /// Fit the model's unknown parameters to measured cells and write them as a parameter file.
    Calibrate(commands::calibrate::CalibrateArgs),
    /// Print which hosts reach which, with or without the VPN tunnels.
    Reach(commands::reach::ReachArgs),
    /// Check a scenario file without running it, or list every check (`--codes`).
    Check(commands::check::CheckArgs),
    /// Measure the engine (PHOLD against a bare heap), the whole model at scale, and etcd's
    /// election simulation.
    Bench(commands::bench::BenchArgs),
    /// Measure pod start-up on a real cluster through kubectl, cleaning up every namespace it creates.
    Measure(commands::measure::MeasureArgs),
    /// Sweep pods, delay and scenario parameters: every combination, resumable, shardable.
    Sweep(commands::sweep::SweepArgs),
    /// Join the directories of a sharded sweep into the results of the whole sweep.
    Merge(commands::merge::MergeArgs),
    /// Plot a sweep's results (SVG): one column against another, lines with 95 % CI bands.
    Plot(commands::plot::PlotArgs),
    /// Write a scenario file: a consortium from a sites CSV, or a uniform scale scenario.
    Generate(commands::generate::GenerateArgs),
    /// A planner's report: time until N pods run, slowest sites, etcd health, control-plane
    /// placements, timeouts to change.
    Plan(commands::plan::PlanArgs),
}

/// Ends cleanly when the terminal's output cannot be written, where `println!` would panic.
///
/// Standard output closed early (`kubetwin ... | head`) exits quietly, as Unix tools do: Rust
/// ignores SIGPIPE, and a broken pipe is not an error of the user's input. Any other failure to
/// print (`> /dev/full`, a full disk) is reported on standard error, if it can be, and exits
/// with code 1. Files are written before their report is printed, whole or not at all
/// (`validate::atomic_file`), so neither case loses a finished output. Either stops the kubectl
/// commands `measure` has running (its watch runs until stopped, in a process group of its own
/// that the exit would leave). Every other panic keeps the default report.
fn end_cleanly_when_output_fails() {
    fn quit(code: i32) -> ! {
        validate::kubectl::stop_running_commands();
        validate::atomic_file::remove_temporaries_and_exit(code)
    }
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            // 128 + SIGPIPE, what a shell reports for a process killed by it; an output being
            // written leaves no temporary file.
            quit(141);
        }
        if let Some((_, stream)) = [("stdout", "output"), ("stderr", "error")]
            .into_iter()
            .find(|(name, _)| msg.starts_with(&format!("failed printing to {name}")))
        {
            use std::io::Write as _;
            let cause = msg.split_once(": ").map_or(msg, |(_, cause)| cause);
            let _ = writeln!(std::io::stderr(), "error: cannot write to standard {stream}: {cause}");
            quit(1);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    end_cleanly_when_output_fails();
    let cli = Cli::parse();
    // `measure` installs its own handler, which deletes its namespace first.
    if !matches!(cli.command, Command::Measure(_)) {
        if let Err(err) = interrupt::install_default() {
            return output::report_error(&err);
        }
    }
    let result = match cli.command {
        Command::Run(args) => commands::run::cmd(args),
        Command::Reach(args) => commands::reach::cmd(args),
        Command::Check(args) => commands::check::cmd(args),
        Command::Validate(args) => commands::validate::cmd(args),
        Command::Calibrate(args) => commands::calibrate::cmd(args),
        Command::Bench(args) => commands::bench::cmd(args),
        Command::Measure(args) => commands::measure::cmd(args),
        Command::Sweep(args) => commands::sweep::cmd(args),
        Command::Merge(args) => commands::merge::cmd(args),
        Command::Plot(args) => commands::plot::cmd(args),
        Command::Generate(args) => commands::generate::cmd(args),
        Command::Plan(args) => commands::plan::cmd(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => output::report_error(&err),
    }
}
