//! `kubetwin generate`: scenario files from a sites CSV (a consortium of real places) or from a
//! size (a uniform scale scenario), through `topologies::generate`.
//!
//! The file is written atomically (a temporary file renamed over the target) and records, in its
//! header comment and description, the command line that made it. Problems in the input (a CSV
//! line and column, an unknown control-plane site, a bad option) exit with code 2.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use models::spec::{Role, Scenario, VpnTopology};
use models::units::Dur;
use topologies::generate::{self, ConsortiumOptions, ControlPlane, GenerateError, UniformOptions, WanLayout};

use crate::output::{write_atomic, UsageError};

/// Arguments of `kubetwin generate`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    kubetwin generate consortium --sites examples/consortium-32/sites.csv --out consortium-32.toml \\\n      --control-plane \"Keio University (Tokyo)\"\n  \
    kubetwin generate uniform --nodes 5000 --sites 10 --out scale-5000.toml --wan-delay 10ms")]
pub(crate) struct GenerateArgs {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Debug, Subcommand)]
enum Kind {
    /// A consortium of real sites from a CSV of coordinates: WAN delays from great-circle
    /// distances (topologies/README.md, "Generating scenarios").
    Consortium(ConsortiumArgs),
    /// A scale scenario: N workers spread evenly over S sites at one WAN delay.
    Uniform(UniformArgs),
}

/// Arguments of `kubetwin generate consortium`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    kubetwin generate consortium --sites examples/consortium-32/sites.csv --out consortium-32.toml \\\n      \
    --control-plane \"Keio University (Tokyo)\" --vpn full-mesh --name consortium-32\n\n\
    The CSV has a header `name,latitude,longitude,workers[,access_bandwidth]` and one row per site;\n\
    lines starting with '#' are comments. Errors name the line and column and exit with code 2.")]
struct ConsortiumArgs {
    /// The sites CSV: name, latitude, longitude (decimal degrees), workers[, access_bandwidth].
    #[arg(long, value_name = "FILE.csv")]
    sites: PathBuf,
    /// Where to write the scenario TOML (written atomically).
    #[arg(long, value_name = "SCENARIO.toml")]
    out: PathBuf,
    /// VPN layout: `full-mesh` (a tunnel between every pair of sites) or `hub:SITE`
    /// (hub-and-spoke at SITE, its CSV name or sanitized name).
    #[arg(long, default_value = "full-mesh", value_parser = parse_vpn, value_name = "full-mesh|hub:SITE")]
    vpn: VpnTopology,
    /// Put lb and master01..03 at this site (CSV name or sanitized name); default the CSV's first
    /// site.
    #[arg(long, value_name = "SITE", conflicts_with = "control_plane_spread")]
    control_plane: Option<String>,
    /// Spread the masters over three sites: master01 at A (with lb), master02 at B, master03 at C.
    #[arg(long, value_name = "A,B,C", value_parser = parse_three)]
    control_plane_spread: Option<[String; 3]>,
    /// Fibre path length over great-circle distance (default 2.1, Bozkurt et al. 2018; at least 1).
    #[arg(long, value_name = "F", default_value_t = generate::PATH_INFLATION)]
    path_inflation: f64,
    /// Added to every WAN link's one-way delay (routers, queueing), with a unit; default 0.
    #[arg(long, value_name = "DURATION", value_parser = parse_dur)]
    per_link_delay: Option<Dur>,
    /// Run the consortium's own registry (or pull-through mirror) on a host `registry` at this
    /// site (CSV name or sanitized name): every node pulls from it over the tunnels instead of
    /// from Docker Hub over its campus uplink (`runtime.registry_host`).
    #[arg(long, value_name = "SITE")]
    registry_at: Option<String>,
    /// vCPUs of each master, one apiserver worker each (`kubernetes.apiserver.workers`).
    /// Default 2, kubeadm's minimum and the thesis's masters, whatever the consortium's size
    /// (a note says what kube-up's `get-master-size` would give its nodes when that is more).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024), allow_negative_numbers = true)]
    master_vcpus: Option<u32>,
    /// Scenario name (default: the output file's stem).
    #[arg(long, value_name = "N", value_parser = parse_name)]
    name: Option<String>,
}

/// Arguments of `kubetwin generate uniform`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    kubetwin generate uniform --nodes 5000 --sites 10 --out scale-5000.toml --wan-delay 10ms --layout ring")]
struct UniformArgs {
    /// Workers in all, spread evenly over the sites.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=topologies::generate::MAX_WORKERS as i64))]
    nodes: u32,
    /// Sites (`s00`, `s01`, ...); the control plane is at `s00`. At most 1000
    /// (`topologies::generate::MAX_SITES`: the VPN's tunnels grow as the square of the sites).
    /// Sites beyond `--nodes` get no worker: they still cost their tunnels, which is what a
    /// scale test of the VPN (`--nodes 4 --sites 200`) wants.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=topologies::generate::MAX_SITES as i64))]
    sites: u32,
    /// Where to write the scenario TOML (written atomically).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// One-way delay of each WAN link, with a unit.
    #[arg(long, default_value = "10ms", value_parser = parse_dur, value_name = "DURATION")]
    wan_delay: Dur,
    /// How routers are joined: every pair directly, or only ring neighbours.
    #[arg(long, value_enum, default_value_t = Layout::AllPairs)]
    layout: Layout,
    /// vCPUs of each master, one apiserver worker each (`kubernetes.apiserver.workers`).
    /// Default: as Kubernetes' kube-up sizes a master for --nodes (2 vCPUs, kubeadm's minimum,
    /// up to 10 nodes, then 4, 8, 16, 32, and 64 above 3,000: `get-master-size`,
    /// cluster/gce/config-common.sh); `2` gives the thesis's masters.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    master_vcpus: Option<u32>,
    /// Scenario name (default: the output file's stem).
    #[arg(long, value_name = "N", value_parser = parse_name)]
    name: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Layout {
    /// A WAN link between every pair of routers.
    AllPairs,
    /// WAN links only between ring neighbours.
    Ring,
}

/// A one-way link delay: a duration of at most [`MAX_LINK_DELAY_S`].
fn parse_dur(s: &str) -> Result<Dur, String> {
    let d = s.parse::<Dur>().map_err(|e| e.to_string())?;
    if d.secs_f64() > MAX_LINK_DELAY_S {
        return Err(format!(
            "`{s}` is more than {MAX_LINK_DELAY_S} s of one-way delay on one link; expected a delay such as 10ms (check the unit)"
        ));
    }
    Ok(d)
}

/// The longest one-way delay `--per-link-delay` and `--wan-delay` accept: a geostationary
/// satellite hop is about 0.25 s; ten seconds is no network, only a unit slip.
const MAX_LINK_DELAY_S: f64 = 10.0;

fn parse_vpn(s: &str) -> Result<VpnTopology, String> {
    match s.trim() {
        "full-mesh" => Ok(VpnTopology::FullMesh {}),
        other => match other.strip_prefix("hub:") {
            Some(hub) if !hub.trim().is_empty() => Ok(VpnTopology::HubAndSpoke {
                hub: hub.trim().to_owned(),
            }),
            _ => Err(format!("expected `full-mesh` or `hub:SITE`, got `{s}`")),
        },
    }
}

fn parse_three(s: &str) -> Result<[String; 3], String> {
    let parts: Vec<String> = s.split(',').map(|p| p.trim().to_owned()).collect();
    match <[String; 3]>::try_from(parts) {
        Ok(three) if three.iter().all(|p| !p.is_empty()) => Ok(three),
        _ => Err(format!("expected three comma-separated sites `A,B,C`, got `{s}`")),
    }
}

/// The command line as typed, with `kubetwin` for the program and quotes where a shell needs them.
pub(crate) fn command_line() -> String {
    let mut words = vec!["kubetwin".to_owned()];
    words.extend(std::env::args().skip(1).map(|a| crate::output::shell_quote(&a)));
    words.join(" ")
}

fn default_name(out: &std::path::Path, fallback: &str) -> String {
    out.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| fallback.to_owned())
}

/// A `--name`: what the scenario is called, and the stem of `plan`'s default directory.
fn parse_name(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("a scenario name cannot be empty; expected a name such as consortium-32".into())
    } else {
        Ok(s.to_owned())
    }
}

/// Refuses a `--name` with a control character, which would break the report lines it heads
/// (check E030). Checked after parsing, not in the parser: clap would echo the value as given,
/// a terminal escape included.
fn check_name(name: Option<&str>) -> Result<(), UsageError> {
    match name {
        Some(n) if n.chars().any(char::is_control) => Err(UsageError(format!(
            "--name {n:?} holds a control character (a line break, a tab or a terminal escape); expected one line, such as consortium-32"
        ))),
        _ => Ok(()),
    }
}

/// `kubetwin generate`: writes a generated scenario (whole or not at all) and says what it holds.
pub(crate) fn cmd(a: GenerateArgs) -> anyhow::Result<()> {
    let command_line = command_line();
    let (scenario, out, consortium) = match a.kind {
        Kind::Consortium(c) => {
            check_name(c.name.as_deref())?;
            crate::output::check_not_an_input("--out", &c.out, &[("--sites", &c.sites)])?;
            crate::output::check_output_file("--out", &c.out, "consortium.toml")?;
            let origin = c.sites.display().to_string();
            let csv = topologies::file::read_capped_to_string(&c.sites, topologies::file::SITES_CSV)
                .map_err(|e| crate::output::InputError(format!("cannot read the sites CSV {origin}: {e}")))?;
            let control_plane = match (c.control_plane, c.control_plane_spread) {
                (Some(site), _) => ControlPlane::Single(site),
                (None, Some(three)) => ControlPlane::Spread(three),
                (None, None) => ControlPlane::FirstSite,
            };
            let opts = ConsortiumOptions {
                name: c.name.unwrap_or_else(|| default_name(&c.out, "consortium")),
                command_line,
                vpn: c.vpn,
                control_plane,
                path_inflation: c.path_inflation,
                per_link_delay: c.per_link_delay.unwrap_or_default(),
                registry_site: c.registry_at,
                master_vcpus: c.master_vcpus,
                ..ConsortiumOptions::default()
            };
            // A generated scenario that fails its checks is made from the CSV and the flags
            // (the generator is deterministic): an input the command cannot use, exit 2.
            let s = generate::consortium(&csv, &origin, &opts).map_err(|e| match e {
                GenerateError::Invalid { .. } => crate::output::input_error(e),
                other => anyhow::Error::new(UsageError(other.to_string())),
            })?;
            (s, c.out, true)
        }
        Kind::Uniform(u) => {
            check_name(u.name.as_deref())?;
            crate::output::check_output_file("--out", &u.out, "uniform.toml")?;
            let opts = UniformOptions {
                name: u.name.unwrap_or_else(|| default_name(&u.out, "uniform")),
                command_line,
                layout: match u.layout {
                    Layout::AllPairs => WanLayout::AllPairs,
                    Layout::Ring => WanLayout::Ring,
                },
                wan_delay: u.wan_delay,
                master_vcpus: u.master_vcpus,
                ..UniformOptions::default()
            };
            let s = generate::uniform(u.nodes as usize, u.sites as usize, &opts);
            let errors: Vec<String> = topologies::check::run(&s)
                .into_iter()
                .filter(|f| f.severity() == topologies::Severity::Error)
                .map(|f| format!("[{}] `{}`: {}", f.code, f.field, f.message))
                .collect();
            anyhow::ensure!(
                errors.is_empty(),
                "the generated scenario fails its checks: {}",
                errors.join("; ")
            );
            (s, u.out, false)
        }
    };
    write(&scenario, &out)?;
    let count = |r: Role| scenario.hosts.iter().filter(|h| h.role == r).count();
    let empty = scenario
        .sites
        .iter()
        .filter(|x| {
            !scenario
                .hosts
                .iter()
                .any(|h| h.site == x.name && h.role != Role::Router)
        })
        .count();
    if empty > 0 {
        let (sites, have) = if empty == 1 {
            ("1 site", "has")
        } else {
            (&*format!("{empty} sites"), "have")
        };
        eprintln!("note: {sites} {have} no worker and no part of the control plane: they add tunnels only");
    }
    // A consortium keeps the thesis's 2-vCPU masters unless told: say what kube-up would give.
    let workers = count(Role::Worker);
    let kube_up = generate::kube_up_master_vcpus(workers).max(2);
    if consortium && kube_up > scenario.kubernetes.apiserver.workers {
        eprintln!(
            "note: masters of {} (kubernetes.apiserver.workers); kube-up's get-master-size gives a cluster of {workers} \
             nodes {kube_up} vCPUs (kubeadm's minimum is 2): generate again with --master-vcpus {kube_up} to plan with those (smaller \
             masters queue the kubelets' routine requests, most of all with a master lost: see `plan --drills`)",
            crate::output::count(scenario.kubernetes.apiserver.workers as usize, "vCPU")
        );
    }
    println!(
        "wrote {}: scenario `{}`, {}, {}, {}, {}",
        out.display(),
        scenario.name,
        crate::output::count(scenario.sites.len(), "site"),
        crate::output::count(count(Role::Worker), "worker"),
        crate::output::count(count(Role::Master), "master"),
        crate::output::count(scenario.links.len(), "link")
    );
    println!("  {}", scenario.description);
    Ok(())
}

fn write(s: &Scenario, out: &std::path::Path) -> anyhow::Result<()> {
    let text = generate::to_toml(s);
    // The error names the path.
    write_atomic(out, text.as_bytes())
}
