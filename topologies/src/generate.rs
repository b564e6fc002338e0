//! Scenario generators: a consortium of real sites from a CSV of coordinates, and a uniform scale
//! scenario; [`to_toml`] writes either as a scenario file that [`crate::load`] reads back.
//!
//! # Consortium
//!
//! [`consortium`] reads one row per site (`name,latitude,longitude,workers[,access_bandwidth]`)
//! and builds, per site, a router `<site>-gw` and `workers` workers `<site>-w01`, ... attached
//! to it by LAN links ([`LAN_DELAY`], [`LAN_BANDWIDTH`]); the routers meet on a full mesh of WAN
//! underlay links whose one-way delay comes from the great-circle distance:
//!
//! ```text
//! delay = haversine(a, b) / FIBRE_SPEED_M_PER_S x path_inflation + per_link_delay
//!       = d / (2 x 10^8 m/s) x 2.1 + 0
//! ```
//!
//! [`PATH_INFLATION`] is the published "fibre path vs line of sight" factor (see its
//! documentation); the RTT is twice the one-way delay, so a 1,000 km pair gets
//! 2 x 1000 km / 200 km/ms x 2.1 = 21 ms RTT. The WAN link's bandwidth is the smaller of the two
//! sites' access bandwidths. Each site's `registry_rtt` is the same formula's round trip to one
//! registry location ([`ConsortiumOptions::registry`], default [`ASHBURN`]). The control plane
//! (`lb`, `master01`..`master03`) sits at one site or is spread over three; etcd's leader and the
//! kubectl host are `master01`.
//!
//! # Uniform
//!
//! [`uniform`] builds `sites` sites `s00`, `s01`, ... with workers spread evenly (`s03-w0042`),
//! the control plane at `s00` and a full-mesh VPN. By default every pair of routers has a WAN
//! link of the same delay ([`WanLayout::AllPairs`]), so every worker site is equally far from the
//! control plane; [`WanLayout::Ring`] joins only ring neighbours instead, so tunnels between
//! distant sites ride several underlay hops.
//!
//! ```
//! use topologies::generate::{self, ConsortiumOptions};
//!
//! let csv = "name,latitude,longitude,workers\n\
//!            Tokyo,35.6762,139.6503,2\n\
//!            London,51.5074,-0.1278,2\n";
//! let s = generate::consortium(csv, "sites.csv", &ConsortiumOptions::default()).unwrap();
//! assert_eq!(s.sites[0].router, "tokyo-gw");
//! let text = generate::to_toml(&s);
//! assert_eq!(topologies::load::load_str(&text, "gen.toml").unwrap(), s);
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;

use models::spec::{
    Haproxy, Host, Kubernetes, Link, LinkKind, Netem, Role, Runtime, Scenario, Site, Vpn, VpnTopology, Workload,
};
use models::units::{Bandwidth, Dur};
use sim_core::SimDuration;

use crate::check::{self, Finding};
use crate::error::Severity;

/// Mean Earth radius used by the haversine formula, km (the IUGG mean radius, 6371.0 km).
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// Speed of light in optical fibre, m/s: about c / 1.47 ("~2/3 c"), the textbook value that
/// Singla et al., "The Internet at the Speed of Light" (HotNets 2014), also use
/// (`docs/sources.md` §11).
pub const FIBRE_SPEED_M_PER_S: f64 = 2.0e8;

/// Path inflation of internet fibre over the great-circle (line-of-sight) distance: **2.1**.
///
/// Bozkurt et al., "Dissecting Latency in the Internet's Fiber Infrastructure" (arXiv:1811.10737,
/// 2018): to estimate latency, "multiply line-of-sight distance by 2.1, then divide by the speed
/// of light in fiber". Relative to c-latency (line of sight at the speed of light in vacuum) this
/// is 2.1 x 1.47 ≈ 3.1, consistent with the roughly 3x minimum-ping inflation over c-latency that
/// Singla et al., "The Internet at the Speed of Light" (HotNets 2014) and Bozkurt et al., "Why is
/// the Internet so Slow?!" (PAM 2017) report. See `docs/sources.md` §11, which recommends this
/// default. The factor applies to [`FIBRE_SPEED_M_PER_S`], not to c.
pub const PATH_INFLATION: f64 = 2.1;

/// The largest path inflation accepted, about five times the default. A route ten times longer than
/// the great circle would circle the planet between neighbours; a larger factor is a typo.
pub const MAX_PATH_INFLATION: f64 = 10.0;

/// One-way delay of a LAN attachment (host to its site router): 0.1 ms, the value the thesis
/// testbed uses for a virtual-switch hop (`scenarios/thesis-2019.toml`).
pub const LAN_DELAY: Dur = Dur(SimDuration::from_micros(100));

/// Capacity of a LAN attachment: 10 Gbit/s, the scenario format's link default.
pub const LAN_BANDWIDTH: Bandwidth = Bandwidth { bits_per_s: 10e9 };

/// Default access (uplink) bandwidth of a consortium site when its CSV row gives none: 1 Gbit/s.
pub const DEFAULT_ACCESS_BANDWIDTH: Bandwidth = Bandwidth { bits_per_s: 1e9 };

/// A point on the Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    /// Latitude, -90..=90.
    pub latitude: f64,
    /// Longitude, -180..=180.
    pub longitude: f64,
}

/// Ashburn, Virginia (US East), 39.04 N 77.49 W: the default image-registry location. Many
/// clouds' US-East regions, and so many registries' front ends, are there.
pub const ASHBURN: GeoPoint = GeoPoint {
    latitude: 39.04,
    longitude: -77.49,
};

/// Great-circle distance in km between two points given in degrees (haversine formula, sphere of
/// radius [`EARTH_RADIUS_KM`]).
pub fn haversine_km(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la1, la2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// One-way fibre delay over `distance_km` of great-circle distance: `distance /
/// FIBRE_SPEED_M_PER_S x inflation + fixed`, rounded to the microsecond (so scenario files show
/// `"105079us"` rather than nanoseconds).
pub fn fibre_one_way(distance_km: f64, inflation: f64, fixed: Dur) -> Dur {
    let secs = distance_km * 1e3 / FIBRE_SPEED_M_PER_S * inflation;
    Dur(round_to_micros(secs) + fixed.get())
}

fn round_to_micros(secs: f64) -> SimDuration {
    if secs.is_finite() && secs > 0.0 {
        SimDuration::from_micros((secs * 1e6).round() as u64)
    } else {
        SimDuration::ZERO
    }
}

/// A DNS-label-like name from free text: lower-case ASCII letters and digits, common Latin
/// accents folded (`é` → `e`, `ß` → `ss`), every other run of characters turned into one `-`,
/// no `-` at either end. `"Keio University (Tokyo)"` → `keio-university-tokyo`. Empty when the
/// text has no letter or digit.
pub fn sanitize_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut dash = false;
    for c in raw.chars().flat_map(char::to_lowercase) {
        let folded: Option<&str> = match c {
            'a'..='z' | '0'..='9' => None,
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => Some("a"),
            'æ' => Some("ae"),
            'ç' | 'č' | 'ć' => Some("c"),
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => Some("e"),
            'ì' | 'í' | 'î' | 'ï' | 'ī' => Some("i"),
            'ł' => Some("l"),
            'ñ' | 'ń' => Some("n"),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => Some("o"),
            'œ' => Some("oe"),
            'ß' => Some("ss"),
            'š' | 'ś' => Some("s"),
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ű' => Some("u"),
            'ý' | 'ÿ' => Some("y"),
            'ž' | 'ź' | 'ż' => Some("z"),
            _ => Some(""),
        };
        match folded {
            None => {
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push(c);
            }
            Some("") => dash = true,
            Some(s) => {
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push_str(s);
            }
        }
    }
    out
}

/// Why a scenario could not be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// A problem in the sites CSV, placed at its line and column.
    #[error("{origin}: line {line}, column {column}: `{field}`: {message}")]
    Csv {
        /// The CSV's name (usually its path).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, counted in characters.
        column: usize,
        /// The CSV column concerned (`latitude`), or `header`.
        field: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// An option does not fit the sites (an unknown control-plane site, a bad factor).
    #[error("{origin}: option `{option}`: {message}")]
    Option {
        /// The CSV's name.
        origin: String,
        /// The option (`control_plane`, `vpn.hub`, `path_inflation`, `registry`).
        option: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// The generated scenario fails the checks of [`crate::check`]. A generator bug or an input
    /// the generator did not foresee (two site names whose host names collide).
    #[error("{origin}: the generated scenario fails its checks: {}", findings.iter().map(|f| format!("[{}] `{}`: {}", f.code, f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The CSV's name.
        origin: String,
        /// The error findings.
        findings: Vec<Finding>,
    },
}

/// Where the consortium's control plane runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ControlPlane {
    /// `lb` and `master01`..`master03` at the CSV's first site.
    #[default]
    FirstSite,
    /// `lb` and `master01`..`master03` at this site (its CSV name or its sanitized name).
    Single(String),
    /// `master01` at the first site, `master02` at the second, `master03` at the third, `lb` at
    /// the first. The three must be different sites.
    Spread([String; 3]),
}

/// Options of [`consortium`].
#[derive(Debug, Clone)]
pub struct ConsortiumOptions {
    /// Scenario name. Default `consortium`.
    pub name: String,
    /// How the scenario was generated (the command line), written into the description and so
    /// into [`to_toml`]'s header. Default empty.
    pub command_line: String,
    /// VPN layout; a hub-and-spoke hub is a site's CSV name or sanitized name. Default full mesh.
    pub vpn: VpnTopology,
    /// Where the control plane runs. Default the first site.
    pub control_plane: ControlPlane,
    /// Where the image registry is, for each site's `registry_rtt`. Default [`ASHBURN`].
    pub registry: GeoPoint,
    /// Fibre path over great-circle distance. Default [`PATH_INFLATION`] (2.1); at least 1.
    pub path_inflation: f64,
    /// Added to every WAN link's one-way delay (routers, queueing); twice to each registry RTT.
    /// Default 0: no source gives one value for it.
    pub per_link_delay: Dur,
    /// Access bandwidth of sites whose row gives none. Default [`DEFAULT_ACCESS_BANDWIDTH`].
    pub access_bandwidth: Bandwidth,
    /// Kubernetes settings. Default v1.16's (`models::spec`).
    pub kubernetes: Kubernetes,
    /// Runtime settings (its `registry_rtt` is overridden per site). Default `models::spec`'s.
    pub runtime: Runtime,
    /// Workload (nginx by default). `kubectl_host` left empty becomes `master01`.
    pub workload: Workload,
}

impl Default for ConsortiumOptions {
    fn default() -> Self {
        ConsortiumOptions {
            name: "consortium".into(),
            command_line: String::new(),
            vpn: VpnTopology::FullMesh,
            control_plane: ControlPlane::FirstSite,
            registry: ASHBURN,
            path_inflation: PATH_INFLATION,
            per_link_delay: Dur::default(),
            access_bandwidth: DEFAULT_ACCESS_BANDWIDTH,
            kubernetes: Kubernetes::default(),
            runtime: Runtime::default(),
            workload: Workload::default(),
        }
    }
}

/// How [`uniform`] joins its sites' routers on the WAN underlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WanLayout {
    /// A WAN link between every pair of routers, all of [`UniformOptions::wan_delay`]: every
    /// site is equally far from every other, the control plane's included.
    #[default]
    AllPairs,
    /// WAN links only between ring neighbours (`s00`-`s01`, ..., last-`s00`), each of
    /// `wan_delay`; a tunnel between sites k hops apart on the ring costs k x `wan_delay`.
    Ring,
}

/// Options of [`uniform`].
#[derive(Debug, Clone)]
pub struct UniformOptions {
    /// Scenario name. Default `uniform`.
    pub name: String,
    /// How the scenario was generated (the command line), written into the description.
    pub command_line: String,
    /// How the routers are joined. Default [`WanLayout::AllPairs`].
    pub layout: WanLayout,
    /// One-way delay of each WAN link. Default 10 ms.
    pub wan_delay: Dur,
    /// Bandwidth of each WAN link. Default [`DEFAULT_ACCESS_BANDWIDTH`] (1 Gbit/s).
    pub wan_bandwidth: Bandwidth,
    /// Kubernetes settings. Default v1.16's.
    pub kubernetes: Kubernetes,
    /// Runtime settings (every site uses `runtime.registry_rtt`).
    pub runtime: Runtime,
    /// Workload. `kubectl_host` left empty becomes `master01`.
    pub workload: Workload,
}

impl Default for UniformOptions {
    fn default() -> Self {
        UniformOptions {
            name: "uniform".into(),
            command_line: String::new(),
            layout: WanLayout::AllPairs,
            wan_delay: Dur::millis(10),
            wan_bandwidth: DEFAULT_ACCESS_BANDWIDTH,
            kubernetes: Kubernetes::default(),
            runtime: Runtime::default(),
            workload: Workload::default(),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The sites CSV.
// ------------------------------------------------------------------------------------------------

/// The most workers a generated scenario may have (`consortium` over all its rows, `uniform`'s
/// `--nodes`): 200 times the 5,000 nodes Kubernetes v1.16 is tested to (its scalability
/// thresholds), so a bound only a typo reaches, well before the generator's loops take minutes.
pub const MAX_WORKERS: u64 = 1_000_000;

const COLUMNS: [&str; 5] = ["name", "latitude", "longitude", "workers", "access_bandwidth"];
const REQUIRED: usize = 4;
const HEADER_HELP: &str = "a header `name,latitude,longitude,workers[,access_bandwidth]`";

/// One parsed row, with where its fields are.
#[derive(Debug, Clone)]
struct Row {
    raw_name: String,
    name: String,
    point: GeoPoint,
    workers: u32,
    access: Option<Bandwidth>,
    line: usize,
    /// Column of each field, in COLUMNS order (0 when absent).
    columns: [usize; 5],
}

/// Splits one CSV line into (1-based column of the value's first character, value) pairs.
/// Fields may be quoted with `"` (a doubled `""` inside is a quote); spaces around a field are
/// ignored. Err((column, message)) on an unterminated quote or text after a closing quote.
fn split_line(line: &str) -> Result<Vec<(usize, String)>, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let start = i + 1;
        let mut value = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err((start, "unterminated quoted field; expected a closing `\"`".into()));
                    }
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        value.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if i < chars.len() && chars[i] != ',' {
                return Err((
                    i + 1,
                    "text after a closing quote; expected `,` or the end of the line".into(),
                ));
            }
        } else {
            while i < chars.len() && chars[i] != ',' {
                value.push(chars[i]);
                i += 1;
            }
            value.truncate(value.trim_end().len());
        }
        fields.push((start, value));
        if i >= chars.len() {
            return Ok(fields);
        }
        i += 1; // the comma
    }
}

fn parse_sites(text: &str, origin: &str) -> Result<Vec<Row>, GenerateError> {
    let csv_err = |line: usize, column: usize, field: &str, message: String| GenerateError::Csv {
        origin: origin.to_owned(),
        line,
        column,
        field: field.to_owned(),
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((hline, header)) = lines.next() else {
        return Err(csv_err(
            text.lines().count().max(1),
            1,
            "header",
            format!("no header and no sites; expected {HEADER_HELP} and one row per site"),
        ));
    };
    // Header: which CSV field holds which column.
    let fields = split_line(header).map_err(|(c, m)| csv_err(hline, c, "header", m))?;
    let mut slot_of: [Option<usize>; 5] = [None; 5];
    for (k, (col, value)) in fields.iter().enumerate() {
        let v = value.trim().to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == v) {
            Some(p) if slot_of[p].is_some() => {
                return Err(csv_err(
                    hline,
                    *col,
                    "header",
                    format!("column `{v}` appears twice; expected {HEADER_HELP}"),
                ));
            }
            Some(p) => slot_of[p] = Some(k),
            None => {
                return Err(csv_err(
                    hline,
                    *col,
                    "header",
                    format!("unknown column `{}`; expected {HEADER_HELP}", value.trim()),
                ));
            }
        }
    }
    if let Some(missing) = (0..REQUIRED).find(|&p| slot_of[p].is_none()) {
        return Err(csv_err(
            hline,
            header.chars().count() + 1,
            "header",
            format!("missing column `{}`; expected {HEADER_HELP}", COLUMNS[missing]),
        ));
    }
    let width = fields.len();
    let mut rows: Vec<Row> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut total_workers = 0u64;
    for (line, text) in lines {
        let fields = split_line(text).map_err(|(c, m)| csv_err(line, c, "row", m))?;
        if fields.len() > width {
            return Err(csv_err(
                line,
                fields[width].0,
                "row",
                format!(
                    "{} values where the header has {width} columns; expected {width} comma-separated values",
                    fields.len()
                ),
            ));
        }
        let mut columns = [0usize; 5];
        let mut value = |p: usize| -> Result<Option<(usize, &str)>, GenerateError> {
            let Some(k) = slot_of[p] else { return Ok(None) };
            match fields.get(k) {
                Some((col, v)) => {
                    columns[p] = *col;
                    Ok(Some((*col, v.as_str())))
                }
                None if p < REQUIRED => Err(csv_err(
                    line,
                    text.chars().count() + 1,
                    COLUMNS[p],
                    format!(
                        "missing value for `{}`: the row has {} values; expected {width} comma-separated values",
                        COLUMNS[p],
                        fields.len()
                    ),
                )),
                None => Ok(None),
            }
        };
        let (name_col, raw_name) = value(0)?.unwrap_or((1, ""));
        let raw_name = raw_name.to_owned();
        let (lat_col, lat) = value(1)?.unwrap_or((1, ""));
        let lat = lat.to_owned();
        let (lon_col, lon) = value(2)?.unwrap_or((1, ""));
        let lon = lon.to_owned();
        let (w_col, workers) = value(3)?.unwrap_or((1, ""));
        let workers = workers.to_owned();
        let access = value(4)?.map(|(c, v)| (c, v.to_owned()));

        let name = sanitize_name(&raw_name);
        if name.is_empty() {
            return Err(csv_err(
                line,
                name_col,
                "name",
                if raw_name.chars().any(char::is_alphanumeric) {
                    format!(
                        "site name `{raw_name}` has no Latin letter or digit, and host names are built from those; expected a name with a Latin part, such as `University of Tokyo ({raw_name})`"
                    )
                } else {
                    format!("site name `{raw_name}` has no letter or digit; expected a name such as `Keio University`")
                },
            ));
        }
        if let Some(first) = seen.get(&name) {
            return Err(csv_err(
                line,
                name_col,
                "name",
                format!(
                    "site name `{raw_name}` (`{name}`) is already used on line {first}; expected a name unique after lower-casing and replacing punctuation with `-`"
                ),
            ));
        }
        let degrees = |v: &str, col: usize, field: &str, limit: f64| -> Result<f64, GenerateError> {
            match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && (-limit..=limit).contains(&x) => Ok(x),
                Ok(x) => Err(csv_err(
                    line,
                    col,
                    field,
                    format!("{field} {x} is out of range; expected decimal degrees in -{limit}..={limit}"),
                )),
                Err(_) => Err(csv_err(
                    line,
                    col,
                    field,
                    format!("`{v}` is not a number; expected decimal degrees in -{limit}..={limit}, such as 35.68"),
                )),
            }
        };
        let latitude = degrees(&lat, lat_col, "latitude", 90.0)?;
        let longitude = degrees(&lon, lon_col, "longitude", 180.0)?;
        let workers: u32 = workers.trim().parse().map_err(|_| {
            csv_err(
                line,
                w_col,
                "workers",
                format!("`{workers}` is not a worker count; expected a whole number >= 0, such as 10"),
            )
        })?;
        total_workers += u64::from(workers);
        if total_workers > MAX_WORKERS {
            return Err(csv_err(
                line,
                w_col,
                "workers",
                format!(
                    "{workers} brings the consortium to {total_workers} workers; expected at most {MAX_WORKERS} in all"
                ),
            ));
        }
        let access = match access {
            Some((_, v)) if v.trim().is_empty() => None,
            Some((col, v)) => Some(v.parse::<Bandwidth>().map_err(|e| {
                csv_err(
                    line,
                    col,
                    "access_bandwidth",
                    format!("{e}; expected a bandwidth such as \"1Gbit\" or an empty field for the default"),
                )
            })?),
            None => None,
        };
        seen.insert(name.clone(), line);
        rows.push(Row {
            raw_name,
            name,
            point: GeoPoint { latitude, longitude },
            workers,
            access,
            line,
            columns,
        });
    }
    if rows.is_empty() {
        return Err(csv_err(
            hline,
            1,
            "header",
            format!("no site rows after the header; expected one row per site under {HEADER_HELP}"),
        ));
    }
    Ok(rows)
}

// ------------------------------------------------------------------------------------------------
// Shared scenario pieces.
// ------------------------------------------------------------------------------------------------

const MASTERS: [&str; 3] = ["master01", "master02", "master03"];

/// HAProxy in front of the three masters, every other field at `models::spec`'s defaults
/// (deserialized, so the defaults live in one place).
fn haproxy() -> Haproxy {
    toml::from_str("host = \"lb\"\nbackends = [\"master01\", \"master02\", \"master03\"]\n")
        .expect("a constant HAProxy table with only the required fields parses")
}

fn host(name: String, site: &str, role: Role) -> Host {
    Host {
        name,
        site: site.to_owned(),
        role,
        address: String::new(),
    }
}

fn link(a: &str, b: &str, delay: Dur, bandwidth: Bandwidth, kind: LinkKind) -> Link {
    Link {
        a: a.to_owned(),
        b: b.to_owned(),
        delay,
        bandwidth,
        loss_pct: 0.0,
        kind,
    }
}

fn digits(n: usize) -> usize {
    n.max(1).to_string().len()
}

fn description(summary: String, command_line: &str) -> String {
    if command_line.trim().is_empty() {
        format!("{summary}; generated by kubetwin (topologies::generate)")
    } else {
        format!("{summary}; generated by `{}`", command_line.trim())
    }
}

/// Adds the control plane hosts (lb at `sites[0]`, master0k at `sites[k]`) and their LAN links.
fn add_control_plane(s: &mut Scenario, sites: [(&str, &str); 3], lb: (&str, &str)) {
    s.hosts.push(host("lb".into(), lb.0, Role::LoadBalancer));
    s.links.push(link("lb", lb.1, LAN_DELAY, LAN_BANDWIDTH, LinkKind::Lan));
    for (m, (site, router)) in MASTERS.iter().zip(sites) {
        s.hosts.push(host((*m).to_owned(), site, Role::Master));
        s.links.push(link(m, router, LAN_DELAY, LAN_BANDWIDTH, LinkKind::Lan));
    }
}

fn empty_scenario(
    name: &str,
    description: String,
    kubernetes: &Kubernetes,
    runtime: &Runtime,
    workload: &Workload,
) -> Scenario {
    let mut kubernetes = kubernetes.clone();
    kubernetes.etcd.leader = Some("master01".into());
    let mut workload = workload.clone();
    if workload.kubectl_host.is_none() {
        workload.kubectl_host = Some("master01".into());
    }
    Scenario {
        name: name.to_owned(),
        description,
        sites: Vec::new(),
        hosts: Vec::new(),
        links: Vec::new(),
        vpn: Vpn::default(),
        haproxy: haproxy(),
        kubernetes,
        runtime: runtime.clone(),
        workload,
        netem: Netem::default(),
        faults: Vec::new(),
    }
}

// ------------------------------------------------------------------------------------------------
// Consortium.
// ------------------------------------------------------------------------------------------------

/// A consortium scenario from a sites CSV (see the [module documentation](self)).
///
/// The CSV has a header naming the columns `name,latitude,longitude,workers` and optionally
/// `access_bandwidth` (any order, case-insensitive); then one row per site. Lines whose first
/// non-blank character is `#` are comments; blank lines are skipped; a field may be quoted with
/// `"`. Latitude and longitude are decimal degrees; `workers` is a whole number, 0 only for a
/// site that hosts part of the control plane; `access_bandwidth` is like `"1Gbit"`, empty or
/// absent for [`ConsortiumOptions::access_bandwidth`]. Site names are sanitized with
/// [`sanitize_name`] and must stay unique.
///
/// # Errors
///
/// [`GenerateError::Csv`] names `origin`, the line, the column and what is expected;
/// [`GenerateError::Option`] for an option that does not fit the sites;
/// [`GenerateError::Invalid`] if the result fails [`crate::check::run`].
pub fn consortium(sites_csv: &str, origin: &str, opts: &ConsortiumOptions) -> Result<Scenario, GenerateError> {
    let rows = parse_sites(sites_csv, origin)?;
    let opt_err = |option: &str, message: String| GenerateError::Option {
        origin: origin.to_owned(),
        option: option.to_owned(),
        message,
    };
    if !(opts.path_inflation.is_finite() && (1.0..=MAX_PATH_INFLATION).contains(&opts.path_inflation)) {
        return Err(opt_err(
            "path_inflation",
            format!(
                "{} is not a path inflation; expected a factor in 1..={MAX_PATH_INFLATION} (fibre is never shorter than the great circle), default {PATH_INFLATION}",
                opts.path_inflation
            ),
        ));
    }
    let r = opts.registry;
    if !(r.latitude.is_finite()
        && r.longitude.is_finite()
        && (-90.0..=90.0).contains(&r.latitude)
        && (-180.0..=180.0).contains(&r.longitude))
    {
        return Err(opt_err(
            "registry",
            format!(
                "({}, {}) is not a place; expected latitude in -90..=90 and longitude in -180..=180",
                r.latitude, r.longitude
            ),
        ));
    }
    let known = || {
        let mut names: Vec<&str> = rows.iter().take(12).map(|r| r.name.as_str()).collect();
        if rows.len() > 12 {
            names.push("...");
        }
        names.join(", ")
    };
    let find = |option: &str, wanted: &str| -> Result<usize, GenerateError> {
        let clean = sanitize_name(wanted);
        rows.iter()
            .position(|r| r.raw_name == wanted || r.name == wanted || (!clean.is_empty() && r.name == clean))
            .ok_or_else(|| {
                opt_err(
                    option,
                    format!("site `{wanted}` is not in the CSV; expected one of: {}", known()),
                )
            })
    };
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
                return Err(opt_err(
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
    let vpn_topology = match &opts.vpn {
        VpnTopology::FullMesh => VpnTopology::FullMesh,
        VpnTopology::HubAndSpoke { hub } => {
            let i = find("vpn.hub", hub)?;
            VpnTopology::HubAndSpoke {
                hub: rows[i].name.clone(),
            }
        }
    };
    // A site with no workers must host part of the control plane.
    for (i, row) in rows.iter().enumerate() {
        if row.workers == 0 && i != lb_site && !master_sites.contains(&i) {
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
    if total == 0 {
        return Err(opt_err(
            "workers",
            "every site has 0 workers; expected at least one worker in the consortium".into(),
        ));
    }

    let cp_where = match &opts.control_plane {
        ControlPlane::Spread(_) => format!(
            "control plane spread over {}, {}, {}",
            rows[master_sites[0]].name, rows[master_sites[1]].name, rows[master_sites[2]].name
        ),
        _ => format!("control plane at {}", rows[lb_site].name),
    };
    let summary = format!(
        "{} sites, {total} workers, {cp_where}, {} VPN; WAN delay = great-circle distance / 2e8 m/s x {}{}",
        rows.len(),
        match &vpn_topology {
            VpnTopology::FullMesh => "full-mesh".to_owned(),
            VpnTopology::HubAndSpoke { hub } => format!("hub-and-spoke (hub {hub})"),
        },
        opts.path_inflation,
        if opts.per_link_delay.get().is_zero() {
            String::new()
        } else {
            format!(" + {}", opts.per_link_delay)
        },
    );
    let mut s = empty_scenario(
        &opts.name,
        description(summary, &opts.command_line),
        &opts.kubernetes,
        &opts.runtime,
        &opts.workload,
    );
    s.vpn.topology = vpn_topology;
    let routers: Vec<String> = rows.iter().map(|r| format!("{}-gw", r.name)).collect();
    for (row, router) in rows.iter().zip(&routers) {
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
            latitude: Some(row.point.latitude),
            longitude: Some(row.point.longitude),
        });
    }
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
    for (row, router) in rows.iter().zip(&routers) {
        let width = digits(row.workers as usize).max(2);
        for w in 1..=row.workers {
            let name = format!("{}-w{w:0width$}", row.name);
            s.links
                .push(link(&name, router, LAN_DELAY, LAN_BANDWIDTH, LinkKind::Lan));
            s.hosts.push(host(name, &row.name, Role::Worker));
        }
    }
    for (row, router) in rows.iter().zip(&routers) {
        s.hosts.push(host(router.clone(), &row.name, Role::Router));
    }
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

// ------------------------------------------------------------------------------------------------
// Uniform.
// ------------------------------------------------------------------------------------------------

/// A scale scenario: `sites` sites (`s00`, `s01`, ...; at least 1), `nodes` workers spread evenly
/// over them (the first `nodes % sites` sites get one more), named `s03-w0042` (1-based within
/// the site), the control plane (`lb`, `master01`..`master03`) at `s00`, a full-mesh VPN, WAN
/// links as [`UniformOptions::layout`] says. Builds only the struct: 5,000 nodes take
/// milliseconds.
///
/// `nodes = 0` gives a scenario without workers, which the checks reject (E009).
pub fn uniform(nodes: usize, sites: usize, opts: &UniformOptions) -> Scenario {
    let sites = sites.max(1);
    let sw = digits(sites - 1).max(2);
    let per_site_max = nodes.div_ceil(sites);
    let ww = digits(per_site_max).max(4);
    let names: Vec<String> = (0..sites).map(|i| format!("s{i:0sw$}")).collect();
    let routers: Vec<String> = names.iter().map(|n| format!("{n}-gw")).collect();
    let layout = match opts.layout {
        WanLayout::AllPairs => "every pair of sites",
        WanLayout::Ring => "ring neighbours",
    };
    let summary = format!(
        "{nodes} workers evenly over {sites} sites, control plane at {}, full-mesh VPN, WAN links of {} one way between {layout}",
        names[0], opts.wan_delay
    );
    let mut s = empty_scenario(
        &opts.name,
        description(summary, &opts.command_line),
        &opts.kubernetes,
        &opts.runtime,
        &opts.workload,
    );
    s.hosts.reserve(nodes + sites + 4);
    s.links.reserve(nodes + 4 + sites * sites.saturating_sub(1) / 2);
    for (name, router) in names.iter().zip(&routers) {
        s.sites.push(Site {
            name: name.clone(),
            router: router.clone(),
            prefix: String::new(),
            registry_rtt: None,
            latitude: None,
            longitude: None,
        });
    }
    add_control_plane(&mut s, [(&names[0], &routers[0]); 3], (&names[0], &routers[0]));
    for (i, (name, router)) in names.iter().zip(&routers).enumerate() {
        let count = nodes / sites + usize::from(i < nodes % sites);
        for w in 1..=count {
            let host_name = format!("{name}-w{w:0ww$}");
            s.links
                .push(link(&host_name, router, LAN_DELAY, LAN_BANDWIDTH, LinkKind::Lan));
            s.hosts.push(host(host_name, name, Role::Worker));
        }
    }
    for (name, router) in names.iter().zip(&routers) {
        s.hosts.push(host(router.clone(), name, Role::Router));
    }
    let wan = |a: usize, b: usize| {
        link(
            &routers[a],
            &routers[b],
            opts.wan_delay,
            opts.wan_bandwidth,
            LinkKind::Wan,
        )
    };
    match opts.layout {
        WanLayout::AllPairs => {
            for a in 0..sites {
                for b in a + 1..sites {
                    s.links.push(wan(a, b));
                }
            }
        }
        WanLayout::Ring => {
            for a in 0..sites {
                let b = (a + 1) % sites;
                // Two sites share one link; one site has none.
                if a < b || (b == 0 && sites > 2) {
                    s.links.push(wan(a.min(b), a.max(b)));
                }
            }
        }
    }
    s
}

// ------------------------------------------------------------------------------------------------
// TOML.
// ------------------------------------------------------------------------------------------------

/// The scenario as a scenario file: a header comment (the name, and the description, which the
/// generators fill with the command line from their options), then `toml::to_string_pretty` of
/// the scenario with every field written out. [`crate::load::load_str`] reads it back to an equal
/// scenario.
pub fn to_toml(s: &Scenario) -> String {
    let mut out = String::new();
    // TOML comments may hold no control character but tab: a name or description with a line
    // break (or any other) is shown on one comment line here, and kept whole in the fields below.
    let printable = |t: &str| t.replace(|c: char| c.is_control() && c != '\n', " ");
    let _ = writeln!(
        out,
        "# {}: a generated kubetwin scenario.",
        printable(&s.name).replace('\n', " ")
    );
    for line in wrap(&printable(&s.description), 94) {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("#\n# Format: topologies/README.md. Generated files write every field out, defaults included.\n\n");
    // Scenario holds only strings, numbers, booleans, arrays and tables, with tables after plain
    // values, so serializing cannot fail.
    out.push_str(&toml::to_string_pretty(s).expect("a Scenario serializes to TOML"));
    out
}

/// Splits `text` into lines of at most `width` characters at spaces (longer words stay whole);
/// existing line breaks are kept.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut cur = String::new();
        for word in para.split_whitespace() {
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        lines.push(cur);
    }
    lines
}
