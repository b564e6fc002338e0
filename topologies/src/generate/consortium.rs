//! A consortium of real sites, from their coordinates.

use models::spec::{LinkKind, Role, Scenario, Site, VpnTopology};
use models::units::Dur;

use crate::check::{self, Finding};
use crate::error::Severity;

use super::pieces::{add_control_plane, description, digits, empty_scenario, host, link};
use super::sites_csv::{parse_sites, Row};
use super::{
    fibre_one_way, haversine_km, sanitize_name, ConsortiumOptions, ControlPlane, GenerateError, LAN_BANDWIDTH,
    LAN_DELAY, MAX_PATH_INFLATION, PATH_INFLATION,
};

/// The name of the registry host that [`ConsortiumOptions::registry_site`] adds (worker names
/// end in `-wNN`, routers in `-gw`, so it meets no other).
pub const REGISTRY_HOST: &str = "registry";

/// A consortium scenario from a sites CSV (see the [module documentation](super)).
///
/// The CSV has a header naming the columns `name,latitude,longitude,workers` and optionally
/// `access_bandwidth` (any order, case-insensitive); then one row per site. Lines whose first
/// non-blank character is `#` are comments; blank lines are skipped; a field may be quoted with
/// `"`. Latitude and longitude are decimal degrees; `workers` is a whole number, 0 only for a
/// site that hosts part of the control plane; `access_bandwidth` is like `"1Gbit"`, empty or
/// absent for [`ConsortiumOptions::access_bandwidth`]. Site names are sanitized with
/// [`sanitize_name`] and must stay unique, and short enough that the host names built from them
/// (`<site>-gw`, `<site>-w01`) are node names of at most 253 characters.
///
/// # Errors
///
/// [`GenerateError::Csv`] names `origin`, the line, the column and what is expected;
/// [`GenerateError::Option`] for an option that does not fit the sites;
/// [`GenerateError::Invalid`] if the result fails [`crate::check::run`].
pub fn consortium(sites_csv: &str, origin: &str, opts: &ConsortiumOptions) -> Result<Scenario, GenerateError> {
    let rows = parse_sites(sites_csv, origin)?;
    check_geography(opts, origin)?;
    let placement = Placement::resolve(&rows, opts, origin)?;
    let total = check_workers(&rows, &placement, origin)?;
    let summary = summary(&rows, opts, &placement, total);
    let mut s = empty_scenario(
        &opts.name,
        description(summary, &opts.command_line),
        &opts.kubernetes,
        &opts.runtime,
        &opts.workload,
    );
    if let Some(v) = opts.master_vcpus {
        s.kubernetes.apiserver.workers = v;
    }
    let Placement {
        lb_site,
        master_sites,
        registry_site,
        vpn_topology,
    } = placement;
    s.vpn.topology = vpn_topology;
    let routers: Vec<String> = rows.iter().map(|r| router_name(&r.name)).collect();
    add_sites(&mut s, &rows, &routers, opts);
    let site_pair = |i: usize| (rows[i].name.as_str(), routers[i].as_str());
    add_control_plane(
        &mut s,
        [
            site_pair(master_sites[0]),
            site_pair(master_sites[1]),
            site_pair(master_sites[2]),
        ],
        site_pair(lb_site),
    );
    add_workers(&mut s, &rows, &routers);
    if let Some(i) = registry_site {
        add_registry(&mut s, &rows[i].name, &routers[i]);
    }
    add_routers(&mut s, &rows, &routers);
    add_wan_links(&mut s, &rows, &routers, opts);
    checked(s, origin)
}

/// [`GenerateError::Option`] for `option`, from a sites CSV read from `origin`.
fn option_error(origin: &str, option: &str, message: String) -> GenerateError {
    GenerateError::Option {
        origin: origin.to_owned(),
        option: option.to_owned(),
        message,
    }
}

/// The options that place the sites on the planet: the path inflation and the registry's
/// location.
fn check_geography(opts: &ConsortiumOptions, origin: &str) -> Result<(), GenerateError> {
    if !(opts.path_inflation.is_finite() && (1.0..=MAX_PATH_INFLATION).contains(&opts.path_inflation)) {
        return Err(option_error(
            origin,
            "path_inflation",
            format!(
                "{} is not a path inflation; expected a factor in 1..={MAX_PATH_INFLATION} (fibre is never shorter than the great circle), default {PATH_INFLATION}",
                sim_core::display::number(opts.path_inflation)
            ),
        ));
    }
    let r = opts.registry;
    if !(r.latitude.is_finite()
        && r.longitude.is_finite()
        && (-90.0..=90.0).contains(&r.latitude)
        && (-180.0..=180.0).contains(&r.longitude))
    {
        return Err(option_error(
            origin,
            "registry",
            format!(
                "({}, {}) is not a place; expected latitude in -90..=90 and longitude in -180..=180",
                r.latitude, r.longitude
            ),
        ));
    }
    Ok(())
}

/// Where the options put things, as indices into the CSV's rows.
#[derive(Debug)]
struct Placement {
    /// The load balancer's site.
    lb_site: usize,
    /// The sites of master01..master03.
    master_sites: [usize; 3],
    /// The registry host's site, if the consortium runs its own.
    registry_site: Option<usize>,
    /// The VPN layout, its hub named by the site's sanitized name.
    vpn_topology: VpnTopology,
}

impl Placement {
    /// Finds the sites the options name (control plane, registry, VPN hub) among `rows`.
    fn resolve(rows: &[Row], opts: &ConsortiumOptions, origin: &str) -> Result<Placement, GenerateError> {
        let find = |option: &str, wanted: &str| find_site(rows, origin, option, wanted);
        // Control plane: the site index of lb and of each master.
        let (lb_site, master_sites) = match &opts.control_plane {
            ControlPlane::FirstSite => (0, [0; 3]),
            ControlPlane::Single(site) => {
                let i = find("control_plane", site)?;
                (i, [i; 3])
            }
            ControlPlane::Spread(three) => {
                let mut idx = [0; 3];
                for (k, s) in three.iter().enumerate() {
                    idx[k] = find("control_plane", s)?;
                }
                if idx[0] == idx[1] || idx[0] == idx[2] || idx[1] == idx[2] {
                    return Err(option_error(
                        origin,
                        "control_plane",
                        format!(
                            "a spread control plane needs three different sites, got `{}`, `{}`, `{}`; expected three distinct sites of the CSV",
                            three[0], three[1], three[2]
                        ),
                    ));
                }
                (idx[0], idx)
            }
        };
        let registry_site = match &opts.registry_site {
            Some(site) => Some(find("registry_site", site)?),
            None => None,
        };
        let vpn_topology = match &opts.vpn {
            VpnTopology::FullMesh {} => VpnTopology::FullMesh {},
            VpnTopology::HubAndSpoke { hub } => {
                let i = find("vpn.hub", hub)?;
                VpnTopology::HubAndSpoke {
                    hub: rows[i].name.clone(),
                }
            }
        };
        Ok(Placement {
            lb_site,
            master_sites,
            registry_site,
            vpn_topology,
        })
    }
}

/// The row of the site `wanted` (its CSV name, its sanitized name, or a name that sanitizes to
/// it), or an error for `option` that lists the first sites.
fn find_site(rows: &[Row], origin: &str, option: &str, wanted: &str) -> Result<usize, GenerateError> {
    let clean = sanitize_name(wanted);
    rows.iter()
        .position(|r| r.raw_name == wanted || r.name == wanted || (!clean.is_empty() && r.name == clean))
        .ok_or_else(|| {
            option_error(
                origin,
                option,
                format!(
                    "site `{wanted}` is not in the CSV; expected one of: {}",
                    known_sites(rows)
                ),
            )
        })
}

/// The first 12 sites' names, for "expected one of" lists.
fn known_sites(rows: &[Row]) -> String {
    let mut names: Vec<&str> = rows.iter().take(12).map(|r| r.name.as_str()).collect();
    if rows.len() > 12 {
        names.push("...");
    }
    names.join(", ")
}

/// Every site has a worker or part of the control plane, and the consortium has a worker.
/// Returns the number of workers.
fn check_workers(rows: &[Row], placement: &Placement, origin: &str) -> Result<u64, GenerateError> {
    // A site with no workers must host part of the control plane.
    for (i, row) in rows.iter().enumerate() {
        if row.workers == 0 && i != placement.lb_site && !placement.master_sites.contains(&i) {
            return Err(GenerateError::Csv {
                origin: origin.to_owned(),
                line: row.line,
                column: row.columns[3],
                field: "workers".into(),
                message: format!(
                    "site `{}` has 0 workers and no part of the control plane; expected at least 1 worker (0 is allowed only at a control-plane site)",
                    row.raw_name
                ),
            });
        }
    }
    let total: u64 = rows.iter().map(|r| u64::from(r.workers)).sum();
    if let (0, Some(first)) = (total, rows.first()) {
        // The column, at its first row: no one row is wrong.
        return Err(GenerateError::Csv {
            origin: origin.to_owned(),
            line: first.line,
            column: first.columns[3],
            field: "workers".into(),
            message: "every site has 0 workers; expected at least one worker in the consortium".into(),
        });
    }
    Ok(total)
}

/// The first part of the scenario's description: sites, workers, control plane, VPN, delays.
fn summary(rows: &[Row], opts: &ConsortiumOptions, placement: &Placement, total: u64) -> String {
    let master_sites = placement.master_sites;
    let cp_where = match &opts.control_plane {
        ControlPlane::Spread(_) => format!(
            "control plane spread over {}, {}, {}",
            rows[master_sites[0]].name, rows[master_sites[1]].name, rows[master_sites[2]].name
        ),
        _ => format!("control plane at {}", rows[placement.lb_site].name),
    };
    format!(
        "{}, {}, {cp_where}, {} VPN; WAN delay = great-circle distance / 2e8 m/s x {}{}",
        crate::count(rows.len() as u64, "site"),
        crate::count(total, "worker"),
        match &placement.vpn_topology {
            VpnTopology::FullMesh {} => "full-mesh".to_owned(),
            VpnTopology::HubAndSpoke { hub } => format!("hub-and-spoke (hub {hub})"),
        },
        opts.path_inflation,
        if opts.per_link_delay.get().is_zero() {
            String::new()
        } else {
            format!(" + {}", opts.per_link_delay)
        },
    )
}

/// One `[[sites]]` entry per row: its router, its registry round trip from the great-circle
/// distance to [`ConsortiumOptions::registry`], its uplink and its coordinates.
fn add_sites(s: &mut Scenario, rows: &[Row], routers: &[String], opts: &ConsortiumOptions) {
    for (row, router) in rows.iter().zip(routers) {
        let registry_one_way = fibre_one_way(
            haversine_km(row.point, opts.registry),
            opts.path_inflation,
            opts.per_link_delay,
        );
        s.sites.push(Site {
            name: row.name.clone(),
            router: router.clone(),
            prefix: String::new(),
            registry_rtt: Some(Dur(registry_one_way.get() * 2)),
            // The campus's access link is its uplink to the registry too: its nodes' first
            // pulls share it.
            uplink: Some(row.access.unwrap_or(opts.access_bandwidth)),
            latitude: Some(row.point.latitude),
            longitude: Some(row.point.longitude),
        });
    }
}

/// Each site's workers `<site>-wNN`, each on a LAN link to the site's router.
fn add_workers(s: &mut Scenario, rows: &[Row], routers: &[String]) {
    for (row, router) in rows.iter().zip(routers) {
        for w in 1..=row.workers {
            let name = worker_name(&row.name, w, row.workers);
            s.links
                .push(link(&name, router, LAN_DELAY, LAN_BANDWIDTH, LinkKind::Lan));
            s.hosts.push(host(name, &row.name, Role::Worker));
        }
    }
}

/// The router of the site `site` (a sanitized name): `<site>-gw`.
pub(super) fn router_name(site: &str) -> String {
    format!("{site}-gw")
}

/// The `w`th of the `workers` workers of the site `site` (a sanitized name): `<site>-wNN`, its
/// number zero-padded to the digits of `workers`, at least two.
pub(super) fn worker_name(site: &str, w: u32, workers: u32) -> String {
    let width = digits(workers as usize).max(2);
    format!("{site}-w{w:0width$}")
}

/// The consortium's own registry host [`REGISTRY_HOST`] at `site`, which every node pulls from.
fn add_registry(s: &mut Scenario, site: &str, router: &str) {
    s.links
        .push(link(REGISTRY_HOST, router, LAN_DELAY, LAN_BANDWIDTH, LinkKind::Lan));
    s.hosts.push(host(REGISTRY_HOST.to_owned(), site, Role::Client));
    s.runtime.registry_host = Some(REGISTRY_HOST.to_owned());
}

/// Each site's router, a host of the site.
fn add_routers(s: &mut Scenario, rows: &[Row], routers: &[String]) {
    for (row, router) in rows.iter().zip(routers) {
        s.hosts.push(host(router.clone(), &row.name, Role::Router));
    }
}

/// A WAN link between every pair of routers: the fibre delay of their great-circle distance, the
/// smaller of the two sites' access bandwidths.
fn add_wan_links(s: &mut Scenario, rows: &[Row], routers: &[String], opts: &ConsortiumOptions) {
    for a in 0..rows.len() {
        for b in a + 1..rows.len() {
            let delay = fibre_one_way(
                haversine_km(rows[a].point, rows[b].point),
                opts.path_inflation,
                opts.per_link_delay,
            );
            let bw_a = rows[a].access.unwrap_or(opts.access_bandwidth);
            let bw_b = rows[b].access.unwrap_or(opts.access_bandwidth);
            let bandwidth = if bw_a.bits_per_s <= bw_b.bits_per_s { bw_a } else { bw_b };
            s.links
                .push(link(&routers[a], &routers[b], delay, bandwidth, LinkKind::Wan));
        }
    }
}

/// `s`, or [`GenerateError::Invalid`] with its errors if it fails [`check::run`].
fn checked(s: Scenario, origin: &str) -> Result<Scenario, GenerateError> {
    let errors: Vec<Finding> = check::run(&s)
        .into_iter()
        .filter(|f| f.severity() == Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Err(GenerateError::Invalid {
            origin: origin.to_owned(),
            findings: errors,
        });
    }
    Ok(s)
}
