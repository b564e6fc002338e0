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

use models::spec::{Kubernetes, Runtime, VpnTopology, Workload};
use models::units::{Bandwidth, Dur};
use sim_core::SimDuration;

use crate::check::Finding;

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

/// One-way delay of a LAN attachment (host to its site router): 0.1 ms, assumed, as
/// `scenarios/thesis-2019.toml` assumes it for a virtual-switch hop (the thesis measured only
/// whole routes; `docs/sources.md` §13).
pub const LAN_DELAY: Dur = Dur(SimDuration::from_micros(100));

/// Capacity of a LAN attachment: 10 Gbit/s, the scenario format's link default.
pub const LAN_BANDWIDTH: Bandwidth = Bandwidth { bits_per_s: 10e9 };

/// Default access (uplink) bandwidth of a consortium site when its CSV row gives none: 1 Gbit/s.
/// Assumed, a round figure for a university's campus link (a planner gives each site's own in
/// the CSV's `access_bandwidth`).
pub const DEFAULT_ACCESS_BANDWIDTH: Bandwidth = Bandwidth { bits_per_s: 1e9 };

/// A point on the Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    /// Latitude, -90..=90.
    pub latitude: f64,
    /// Longitude, -180..=180.
    pub longitude: f64,
}

/// Ashburn, Virginia (US East), 39.04 N 77.49 W: the default image-registry location. Docker
/// Hub's registry and token front ends (`registry-1.docker.io`, `auth.docker.io`) are AWS
/// us-east-1 load balancers (docker/hub-feedback issue #842; docker/for-win issue #540). Its
/// layer blobs come from Cloudflare's nearest edge (docker/hub-feedback issue #2218), which is
/// why only the round trips, not the download, are priced at the RTT to this point.
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
    /// A registry (or pull-through mirror) of the consortium's own, on a host `registry` at
    /// this site (CSV name or sanitized name), which every node pulls from over the overlay
    /// instead of Docker Hub (`runtime.registry_host`, `models::registry`). Default none.
    pub registry_site: Option<String>,
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
    /// vCPUs of each master, which set its apiserver's `workers` (requests handled at once).
    /// `None`, the default: `kubernetes.apiserver.workers` as given (v1.16's model default, 2:
    /// kubeadm's minimum, the thesis's masters), whatever the consortium's size; kube-up would
    /// size them for its nodes ([`kube_up_master_vcpus`]).
    pub master_vcpus: Option<u32>,
}

impl Default for ConsortiumOptions {
    fn default() -> Self {
        ConsortiumOptions {
            name: "consortium".into(),
            command_line: String::new(),
            vpn: VpnTopology::FullMesh {},
            control_plane: ControlPlane::FirstSite,
            registry: ASHBURN,
            registry_site: None,
            path_inflation: PATH_INFLATION,
            per_link_delay: Dur::default(),
            access_bandwidth: DEFAULT_ACCESS_BANDWIDTH,
            kubernetes: Kubernetes::default(),
            runtime: Runtime::default(),
            workload: Workload::default(),
            master_vcpus: None,
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
    /// One-way delay of each WAN link. Default 10 ms, assumed: a uniform scale test's sites a
    /// region apart (about 1,000 km of fibre at the geographic generator's rule); `--wan-delay`
    /// sets it.
    pub wan_delay: Dur,
    /// Bandwidth of each WAN link. Default [`DEFAULT_ACCESS_BANDWIDTH`] (1 Gbit/s).
    pub wan_bandwidth: Bandwidth,
    /// Kubernetes settings. Default v1.16's, but for `kubernetes.apiserver.workers`, which
    /// [`UniformOptions::master_vcpus`] sets.
    pub kubernetes: Kubernetes,
    /// Runtime settings (every site uses `runtime.registry_rtt`).
    pub runtime: Runtime,
    /// Workload. `kubectl_host` left empty becomes `master01`.
    pub workload: Workload,
    /// vCPUs of each master, which set its apiserver's `workers` (requests handled at once).
    /// `None`, the default: as Kubernetes' kube-up sizes a master for the cluster's nodes
    /// ([`kube_up_master_vcpus`]), but at least kubeadm's minimum of 2, so that a generated
    /// scale scenario has a control plane its nodes' routine requests do not swamp (5,000
    /// v1.16.3 kubelets send 1,000 heartbeat requests a second and 2,000 hostNetwork status
    /// resyncs, more than three 2-vCPU masters serve at 5 ms each, 1,200).
    pub master_vcpus: Option<u32>,
}

/// The vCPUs Kubernetes' kube-up gives a master for a cluster of `nodes` nodes:
/// `get-master-size` in cluster/gce/config-common.sh (v1.14 to v1.16): 1 up to 5 nodes, 2 above
/// 5, 4 above 10, 8 above 100, 16 above 250, 32 above 500, 64 above 3,000.
pub fn kube_up_master_vcpus(nodes: usize) -> u32 {
    match nodes {
        0..=5 => 1,
        6..=10 => 2,
        11..=100 => 4,
        101..=250 => 8,
        251..=500 => 16,
        501..=3000 => 32,
        _ => 64,
    }
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
            master_vcpus: None,
        }
    }
}

mod consortium;
mod pieces;
mod scenario_file;
mod sites_csv;
mod uniform;

pub use consortium::*;
pub use scenario_file::*;
pub use sites_csv::*;
pub use uniform::*;
