//! Where things are: sites, hosts and their roles, links, the OpenVPN overlay and the HAProxy
//! load balancer in front of the apiservers.

use serde::{Deserialize, Serialize};

use crate::units::{Bandwidth, Dur};

/// A network segment with its router.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Name, e.g. `vlan10`.
    pub name: String,
    /// The router host of this site (also its OpenVPN endpoint).
    pub router: String,
    /// Address prefix, informational (e.g. `192.168.10.0/24`).
    #[serde(default)]
    pub prefix: String,
    /// Round-trip time from this site to the image registry (Docker Hub), over the site's own
    /// internet uplink (not through the tunnels), where it differs from the scenario-wide
    /// `runtime.registry_rtt` (unset: that one). Set per site by hand or by `generate` (from
    /// distance); `calibrate` fits only the scenario-wide value (no source gives the testbed's
    /// RTT to Docker Hub; range 5 ms .. 300 ms there).
    #[serde(default)]
    pub registry_rtt: Option<Dur>,
    /// The site's internet uplink, which its nodes' image downloads share (fair shares, each
    /// download also held to `runtime.download_bandwidth`; [`crate::uplink`]). Unset: no shared
    /// bottleneck, each node downloads at its own rate. The thesis does not give its uplinks, so
    /// `thesis-2019` leaves it unset; `kubetwin generate consortium` sets the site's access
    /// bandwidth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink: Option<Bandwidth>,
    /// Latitude in degrees, for geographic scenarios.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude in degrees, for geographic scenarios.
    #[serde(default)]
    pub longitude: Option<f64>,
}

impl Role {
    /// The name scenario files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::LoadBalancer => "load-balancer",
            Role::Master => "master",
            Role::Worker => "worker",
            Role::Router => "router",
            Role::Client => "client",
        }
    }
}

/// The part a host plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// HAProxy in front of the apiservers.
    LoadBalancer,
    /// Control-plane node: apiserver, etcd member, scheduler, controller-manager.
    Master,
    /// Worker node: kubelet and Docker.
    Worker,
    /// Site router and OpenVPN endpoint.
    Router,
    /// The operator's machine running kubectl.
    Client,
}

/// A machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Unique name, e.g. `master01`.
    pub name: String,
    /// The site it sits in.
    pub site: String,
    /// Its role.
    pub role: Role,
    /// Address, informational.
    #[serde(default)]
    pub address: String,
}

/// What kind of medium a link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// A LAN or a host's attachment to its site router.
    #[default]
    Lan,
    /// The underlay between routers (the "internet" VLAN 0 in the thesis). Hosts behind
    /// different routers cannot use it directly: only routers' tunnels cross it.
    Wan,
}

/// A bidirectional link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// One end (host or router name).
    pub a: String,
    /// The other end.
    pub b: String,
    /// One-way propagation delay.
    pub delay: Dur,
    /// Capacity.
    #[serde(default = "default_link_bandwidth")]
    pub bandwidth: Bandwidth,
    /// Packet loss in percent (each direction).
    #[serde(default)]
    pub loss_pct: f64,
    /// LAN or WAN underlay.
    #[serde(default)]
    pub kind: LinkKind,
}

fn default_link_bandwidth() -> Bandwidth {
    // The thesis's VMs share one ESXi host's virtual switch; vmxnet3 advertises 10 Gbit/s.
    Bandwidth { bits_per_s: 10e9 }
}

/// Which router pairs have tunnels. The default, a full mesh, is a scenario choice: the thesis
/// shows its tunnels only in a figure (testbed.md: "treat it as a scenario choice"), and a mesh
/// gives master01 -> node01 the two routed hops its ping's TTL of 62 shows (so would a hub at the
/// control plane's site; the layouts differ only between worker sites).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum VpnTopology {
    /// A tunnel between every pair of site routers. (A struct variant, empty, so that serde's
    /// `deny_unknown_fields` refuses a stray key under it, such as a `hub`: a unit variant of an
    /// internally tagged enum ignores them.)
    FullMesh {},
    /// Tunnels only between the hub site's router and every other router.
    HubAndSpoke {
        /// The hub site's name.
        hub: String,
    },
}

impl Default for VpnTopology {
    /// A full mesh (the type's comment says why).
    fn default() -> Self {
        VpnTopology::FullMesh {}
    }
}

/// OpenVPN 2.3 site-to-site settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Vpn {
    /// Whether the tunnels are up (tables 4.6 vs 4.7 of the thesis). Default true, the testbed as
    /// the thesis ran its experiment (table 4.7: every machine reaches every other).
    pub enabled: bool,
    /// Tunnel layout.
    #[serde(default)]
    pub topology: VpnTopology,
    /// Bytes added to each packet: outer IPv4 (20) + UDP (8) + packet id and time (8, static-key
    /// mode, which VyOS's `mode site-to-site` uses) + HMAC-SHA1 (20) + BF-CBC IV (8) + 1-8
    /// bytes of CBC padding (4.5 on average); OpenVPN 2.3's defaults `--cipher BF-CBC --auth
    /// SHA1` (openvpn(8) manual). Default 68 (`docs/sources.md` §9).
    pub overhead_bytes: u32,
    /// Tunnel MTU: OpenVPN's default `--tun-mtu 1500` (openvpn(8)).
    pub tun_mtu: u32,
    /// `--mssfix`: OpenVPN rewrites the MSS of TCP connections through the tunnel so that a
    /// full segment, once encapsulated, makes a UDP payload of at most this many bytes. Default
    /// 1450, on in UDP mode without the option (`init_options`: `o->ce.mssfix =
    /// MSSFIX_DEFAULT`, 1450, in OpenVPN 2.3's options.c; the manual: "The default value is
    /// 1450"); 0 turns it off, as `--mssfix 0` does. A TCP segment through the tunnel then
    /// carries `mssfix - (overhead_bytes - 28) - 40` bytes (1370 at the defaults) instead of
    /// `tun_mtu - 40`; OpenVPN raises a value that would leave packets under 100 bytes
    /// ([`crate::vpn::clamped_mtu`]).
    pub mssfix: u32,
    /// Throughput of the router's single-threaded crypto (OpenVPN runs in one thread). Default
    /// 200 Mbit/s, assumed from a published measurement (not of the testbed): 213 Mbit/s for
    /// BF-CBC through OpenVPN in a KVM VM with one core
    /// saturated (cubewerk.de, "OpenVPN cipher performance benchmark", 2018; about 300 Mbit/s
    /// with AES-NI and AES-256-CBC). Pod start-up data cannot identify it (the control plane's
    /// messages are small); an `iperf3` through the tunnel measures it.
    pub crypto_throughput: Bandwidth,
    /// `--ping`: keepalive interval. Default 10 s, what VyOS 1.2 (the thesis's 1.2.1) writes
    /// for a site-to-site tunnel: its Perl `vyatta-openvpn` (`lib/Vyatta/OpenVPN/Config.pm`:
    /// `my $ping_itvl = 10`, written as `--ping $ping_itvl`); vyos-1x's later Python
    /// `interface-openvpn.py` keeps the same default.
    pub ping: Dur,
    /// `--ping-restart`: the tunnel restarts after this long without a packet. Default 60 s,
    /// VyOS 1.2's site-to-site default (`my $ping_restart = 60`, same file); 0 turns the restart
    /// off, as in OpenVPN. OpenVPN does not
    /// check it against `--ping` (only `--keepalive`'s pair, helper.c); W005 warns when it is no
    /// longer than the ping.
    pub ping_restart: Dur,
}

impl Default for Vpn {
    fn default() -> Self {
        Vpn {
            enabled: true,
            topology: VpnTopology::FullMesh {},
            overhead_bytes: 68,
            tun_mtu: 1500,
            mssfix: 1450,
            crypto_throughput: Bandwidth { bits_per_s: 200e6 },
            ping: Dur::secs(10),
            ping_restart: Dur::secs(60),
        }
    }
}

/// HAProxy 1.8 in TCP mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Haproxy {
    /// The host running HAProxy (the kubeadm control-plane endpoint).
    pub host: String,
    /// Backend servers (masters), in configuration order; `balance roundrobin` walks them.
    pub backends: Vec<String>,
    /// `inter`: time between health checks; HAProxy's default 2000 ms (configuration manual 5.2).
    #[serde(default = "default_inter")]
    pub inter: Dur,
    /// `rise`: consecutive successful checks to mark a server up; default 2.
    #[serde(default = "default_rise")]
    pub rise: u32,
    /// `fall`: consecutive failed checks to mark a server down; default 3.
    #[serde(default = "default_fall")]
    pub fall: u32,
    /// Time HAProxy spends splicing one message through (TCP mode, no parsing). Default 50 µs:
    /// HAProxy's sizing guide (doc/intro.txt §3.6) gives 83,000 TCP connections/s on one core,
    /// about 12 µs of CPU each with 85 % of it in the kernel; rounded up for a VM's virtual NIC.
    /// Too small to matter next to the network, and not identifiable from pod start-up data.
    #[serde(default = "default_proxy_time")]
    pub proxy_time: Dur,
    /// `timeout server`: how long HAProxy lets the server side of a session go without
    /// activity before it closes the session; `"0s"` writes none (HAProxy's own default: an
    /// unset timeout is infinite, with a warning at startup, configuration manual 4.2). Default
    /// 50 s, assumed: Debian's and Ubuntu's stock `/etc/haproxy/haproxy.cfg` (`timeout server
    /// 50000`), to which the thesis probably appended its sections; read in verbatim public copies
    /// of that file, not in the package (docs/sources.md §8). The same file's `timeout client
    /// 50000` is not modelled apart: without `option independent-streams` traffic either way
    /// refreshes both sides' timeouts, so two of the same length expire together. By default sending to a server counts as activity
    /// ([`Haproxy::independent_streams`]), so it ends a session to a dead server only when
    /// the client falls silent for that long ([`crate::control_plane`]'s standby
    /// connections).
    #[serde(default = "default_timeout_server")]
    pub timeout_server: Dur,
    /// `option independent-streams`: whether data HAProxy sends to a server leaves the
    /// server side's read timeout alone (then `timeout server` counts from the server's last
    /// data). Default false, HAProxy's: "By default, when data is sent over a socket, both the
    /// write timeout and the read timeout for that socket are refreshed" (configuration
    /// manual 4.2, `option independent-streams`).
    #[serde(default)]
    pub independent_streams: bool,
}

fn default_inter() -> Dur {
    Dur::millis(2000)
}
fn default_rise() -> u32 {
    2
}
fn default_fall() -> u32 {
    3
}
fn default_proxy_time() -> Dur {
    Dur(sim_core::SimDuration::from_micros(50))
}
fn default_timeout_server() -> Dur {
    Dur::secs(50)
}
