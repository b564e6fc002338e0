//! OpenVPN 2.3 site-to-site tunnels between site routers.
//!
//! # Mechanism
//!
//! OpenVPN runs only on the routers (thesis §4.1.6), routed (`dev tun`), one process per tunnel,
//! single-threaded. Each tunnel:
//!
//! - runs in static-key mode (a shared secret: VyOS 1.2's site-to-site mode writes `--secret`,
//!   its Perl `vyatta-openvpn` `lib/Vyatta/OpenVPN/Config.pm`, as vyos-1x's later
//!   `interface-openvpn.py` template does), so no TLS handshake ever stands between a restart
//!   and the data;
//! - adds a fixed overhead to every packet it carries ([`crate::spec::Vpn::overhead_bytes`]:
//!   outer IP and UDP headers, packet id with time, HMAC, IV and CBC padding of the default
//!   `BF-CBC`/`SHA1` suite of OpenVPN 2.3, per the openvpn(8) manual; no opcode in static-key
//!   mode);
//! - carries at most what one core can encrypt ([`crate::spec::Vpn::crypto_throughput`]);
//! - detects a dead peer only through keepalives: with `--ping P --ping-restart R` a peer that
//!   goes silent is declared dead `R` after its last packet, and the tunnel restarts, pausing
//!   2 s first ([`crate::faults::OPENVPN_RESTART_PAUSE`]). The cluster's traffic keeps every
//!   tunnel busy, so the last packet is taken to come at the fault's start;
//!   [`crate::faults::vpn_carries_again`] gives when a restarted tunnel carries again.
//!
//! Layouts: a full mesh has a tunnel per router pair (n(n-1)/2 tunnels, one hop between any two
//! sites); hub-and-spoke has a tunnel from the hub to every other site (n-1 tunnels, two hops and
//! the hub's crypto twice between two spokes).

use sim_core::SimDuration;

use crate::spec::{Vpn, VpnTopology};
use crate::units::Bandwidth;

/// One tunnel, as the routing graph sees it.
#[derive(Debug, Clone)]
pub struct Tunnel {
    /// Site index of one end.
    pub site_a: u32,
    /// Site index of the other end.
    pub site_b: u32,
    /// One-way delay of the underlay path.
    pub delay: SimDuration,
    /// Capacity: the smaller of the underlay bottleneck and the crypto throughput.
    pub capacity: Bandwidth,
    /// Loss probability per packet on the underlay.
    pub loss: f64,
    /// Bytes added per packet.
    pub overhead_bytes: u32,
    /// The largest IP packet a TCP connection sends through the tunnel: the tun MTU, or less
    /// where `--mssfix` clamps the segments ([`crate::spec::Vpn::mssfix`]).
    pub mtu: u32,
}

impl Tunnel {
    /// A tunnel between sites `a` and `b` over an underlay of `delay`, `bw` and `loss`.
    pub fn new(vpn: &Vpn, a: u32, b: u32, delay: SimDuration, bw: Bandwidth, loss: f64) -> Tunnel {
        Tunnel {
            site_a: a,
            site_b: b,
            delay,
            capacity: Bandwidth {
                bits_per_s: bw.bits_per_s.min(vpn.crypto_throughput.bits_per_s),
            },
            loss,
            overhead_bytes: vpn.overhead_bytes,
            mtu: clamped_mtu(vpn),
        }
    }
}

/// Bytes of the per-packet overhead outside OpenVPN's UDP payload: the outer IPv4 (20) and UDP
/// (8) headers, which `--mssfix` does not count.
const OUTER_IP_UDP_BYTES: u32 = 28;

/// The largest IP packet a TCP connection puts through the tunnel: `--mssfix` sizes the MSS so
/// that a full segment's UDP payload (the packet plus OpenVPN's own overhead inside UDP) is at
/// most `mssfix`; never above the tun MTU; the tun MTU alone when `mssfix` is 0 (off). OpenVPN
/// raises a smaller `mssfix` to leave packets of at least its smallest tun MTU, 100
/// (`frame_set_mtu_dynamic` constrains it to `EXPANDED_SIZE_MIN`, `TUN_MTU_MIN` plus the
/// link's overhead).
pub fn clamped_mtu(vpn: &Vpn) -> u32 {
    if vpn.mssfix == 0 {
        return vpn.tun_mtu;
    }
    let inside_udp = vpn.overhead_bytes.saturating_sub(OUTER_IP_UDP_BYTES);
    vpn.tun_mtu.min(vpn.mssfix.saturating_sub(inside_udp).max(TUN_MTU_MIN))
}

/// OpenVPN's smallest tun MTU (`TUN_MTU_MIN` in its mtu.h), the least `--mssfix` leaves.
pub const TUN_MTU_MIN: u32 = 100;

/// The site pairs that get a tunnel, as indices into `sites`.
pub fn tunnel_pairs(topology: &VpnTopology, sites: &[String]) -> Vec<(usize, usize)> {
    match topology {
        VpnTopology::FullMesh {} => {
            let n = sites.len();
            (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).collect()
        }
        VpnTopology::HubAndSpoke { hub } => match sites.iter().position(|s| s == hub) {
            Some(h) => (0..sites.len())
                .filter(|&s| s != h)
                .map(|s| (h.min(s), h.max(s)))
                .collect(),
            None => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_the_right_tunnel_counts() {
        let sites: Vec<String> = (0..5).map(|i| format!("s{i}")).collect();
        assert_eq!(tunnel_pairs(&VpnTopology::FullMesh {}, &sites).len(), 10);
        let hub = tunnel_pairs(&VpnTopology::HubAndSpoke { hub: "s2".into() }, &sites);
        assert_eq!(hub.len(), 4);
        assert!(hub.iter().all(|&(a, b)| a == 2 || b == 2));
    }

    #[test]
    fn crypto_caps_capacity() {
        let vpn = Vpn::default();
        let t = Tunnel::new(&vpn, 0, 1, SimDuration::from_millis(1), Bandwidth::mbit(1000.0), 0.0);
        assert_eq!(t.capacity.bits_per_s, vpn.crypto_throughput.bits_per_s);
    }

    /// `--mssfix 1450` (the default) leaves a 1,410-byte IP packet, so 1,370-byte segments, at
    /// 68 bytes of overhead (40 of them inside UDP); `--mssfix 0` leaves the tun MTU, and a
    /// clamp above the tun MTU changes nothing.
    #[test]
    fn mssfix_clamps_the_packets_of_tcp_connections() {
        let vpn = Vpn::default();
        assert_eq!(clamped_mtu(&vpn), 1410);
        let t = Tunnel::new(&vpn, 0, 1, SimDuration::from_millis(1), Bandwidth::mbit(100.0), 0.0);
        assert_eq!(t.mtu, 1410);
        assert_eq!(
            clamped_mtu(&Vpn {
                mssfix: 0,
                ..Vpn::default()
            }),
            1500
        );
        assert_eq!(
            clamped_mtu(&Vpn {
                mssfix: 9000,
                ..Vpn::default()
            }),
            1500
        );
        assert_eq!(
            clamped_mtu(&Vpn {
                overhead_bytes: 84,
                ..Vpn::default()
            }),
            1394
        );
        // OpenVPN raises a small mssfix to leave 100-byte packets.
        assert_eq!(
            clamped_mtu(&Vpn {
                mssfix: 120,
                ..Vpn::default()
            }),
            100
        );
    }
}
