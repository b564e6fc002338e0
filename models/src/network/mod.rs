//! The network: sites, hosts, routers and links as a graph; routes; per-message delay.
//!
//! # Mechanism
//!
//! Hosts attach to their site's router over LAN links. Routers are joined by a WAN underlay
//! (the thesis's VLAN 0, or the internet), but a host's packet may cross to another site only
//! inside an OpenVPN tunnel between two routers ([`crate::vpn`]): without tunnels each host
//! reaches only its own segment (thesis table 4.6); with them every host reaches every other
//! (table 4.7). A tunnel's delay is the underlay's shortest-path delay between its routers;
//! its capacity is the smaller of the underlay's bottleneck and the router's crypto throughput.
//!
//! Routes are shortest paths by propagation delay (Dijkstra) over LAN links and tunnels. A
//! message of `b` bytes along a route takes the sum of the links' propagation delays, plus its
//! serialization at the route's bottleneck (with OpenVPN's per-packet overhead when the route
//! crosses a tunnel), plus what `tc netem` adds on the directed tunnels it is placed on: a
//! delay, a normal jitter (truncated so a message never arrives before it was sent), and loss.
//! A lost message costs TCP a retransmission timeout per loss, since every Kubernetes message
//! rides TCP: Linux's timeout of the smoothed RTT plus `TCP_RTO_MIN` (200 ms) on a steady path,
//! doubling up to `TCP_RTO_MAX`, 120 s (include/net/tcp.h), until a copy gets through
//! ([`retransmission_cost`]).
//!
//! Routes are computed from a few *source* hosts (the load balancer, the masters, the kubectl
//! host) to every host, because all Kubernetes traffic goes through those: O(sources x (V + E)
//! log V) at build time, O(1) lookup per message.

use std::collections::HashMap;

use petgraph::graph::{NodeIndex, UnGraph};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use sim_core::{SimDuration, SimTime};

use crate::faults::Outages;
use crate::spec::Role;
use crate::units::Bandwidth;
use crate::vpn::Tunnel;

mod build;
mod tcp;

pub use tcp::{
    apiserver_connect_time, copies_lost, dial_syns, first_periodic_syn_at_or_after, first_resend_at_or_after,
    first_syn_at_or_after, resend_wait, retransmission_cost, syn_resends, CLIENT_DIAL_TIMEOUT, CONNECT_ROUND_TRIPS,
    ETHERNET_MTU, IP_TCP_HEADERS, SYN_RTO, TCP_RETRIES2_TIMEOUT, TCP_RTO_MAX, TCP_RTO_MIN,
};

/// How many times a message's route is checked again after an element on it was down when the
/// message got there (each check moves the time forward to that element's return). A model
/// bound, not a network figure: it only matters on a route whose elements keep failing in turn.
const ROUTE_RECHECKS: usize = 64;

/// Dense index of a host.
pub type HostId = u32;

/// One edge of the routing graph.
#[derive(Debug, Clone)]
enum Edge {
    /// A LAN link or a host's attachment.
    Lan {
        delay: SimDuration,
        bandwidth: Bandwidth,
        loss: f64,
    },
    /// A WAN underlay link between routers (not usable by hosts' traffic directly).
    Wan {
        delay: SimDuration,
        bandwidth: Bandwidth,
        loss: f64,
    },
    /// An OpenVPN tunnel between two routers.
    Tunnel(Tunnel),
}

/// A route between two hosts, in the direction it was computed.
#[derive(Debug, Clone, Default)]
pub struct Route {
    /// Sum of propagation delays.
    pub propagation: SimDuration,
    /// Smallest capacity along the route.
    pub bottleneck: Option<Bandwidth>,
    /// Tunnels crossed (each adds OpenVPN's per-packet overhead).
    pub tunnels: u32,
    /// Per-packet overhead of the tunnels crossed, bytes.
    pub overhead_bytes: u32,
    /// Tunnel MTU of the route (smallest crossed), bytes.
    pub mtu: u32,
    /// Loss probability per packet along the route (links' own loss).
    pub loss: f64,
    /// How many netem-delayed tunnel directions the forward direction crosses (2 for a route
    /// between two far sites through a hub at the near site with the delay both ways).
    pub netem_forward: u8,
    /// The same for the reverse direction.
    pub netem_reverse: u8,
    /// Hosts along the route, both ends included (for traces and reports).
    pub hops: Vec<HostId>,
    /// Tunnels crossed, as (site, site) pairs.
    pub tunnel_sites: Vec<(u32, u32)>,
}

/// Netem rule in force (one for the whole scenario, placed on tunnel directions).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NetemRule {
    /// Added delay.
    pub delay: SimDuration,
    /// Jitter (standard deviation).
    pub jitter: SimDuration,
    /// Loss probability per packet (0..1).
    pub loss: f64,
}

/// Errors in building the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// A link or site names a host that does not exist.
    #[error("{what} names host `{host}`, which is not defined")]
    UnknownHost {
        /// Where the name appears.
        what: String,
        /// The missing name.
        host: String,
    },
    /// A host names a site that does not exist.
    #[error("host `{host}` is in site `{site}`, which is not defined")]
    UnknownSite {
        /// The host.
        host: String,
        /// The missing site.
        site: String,
    },
    /// Two hosts share a name.
    #[error("host name `{0}` is used twice")]
    DuplicateHost(String),
    /// Hosts that must talk cannot reach each other.
    #[error("unreachable: {}", .0.iter().map(|(a, b)| format!("{a} cannot reach {b}")).collect::<Vec<_>>().join("; "))]
    Unreachable(Vec<(String, String)>),
}

/// The built network of a scenario.
#[derive(Debug, Clone)]
pub struct Network {
    names: Vec<String>,
    index: HashMap<String, HostId>,
    site_of: Vec<u32>,
    site_names: Vec<String>,
    roles: Vec<Role>,
    graph: UnGraph<HostId, Edge>,
    nodes: Vec<NodeIndex>,
    /// routes[source slot][dest host]
    routes: Vec<Vec<Option<Route>>>,
    /// Per host: its slot in `routes` if it is a route source (a plain vector: every message
    /// looks its route up, most often the kubelets' towards the load balancer).
    source_slot: Vec<Option<usize>>,
    netem: NetemRule,
    outages: Outages,
}

impl Network {
    /// The id of a host by name.
    pub fn host(&self, name: &str) -> Option<HostId> {
        self.index.get(name).copied()
    }

    /// The name of a host.
    pub fn name(&self, h: HostId) -> &str {
        &self.names[h as usize]
    }

    /// The site name of a host.
    pub fn site_name(&self, h: HostId) -> &str {
        &self.site_names[self.site_of[h as usize] as usize]
    }

    /// The site index of a host.
    pub fn site(&self, h: HostId) -> u32 {
        self.site_of[h as usize]
    }

    /// OpenVPN's `--ping-restart`: a tunnel silent for this long restarts
    /// ([`crate::faults::vpn_carries_again`]); 0 when no tunnel restarts.
    pub fn ping_restart(&self) -> SimDuration {
        self.outages.ping_restart
    }

    /// The route from `a` to `b`, if one of them is a route source and `b` is reachable.
    /// The boolean is true when the route was stored in the other direction (b to a).
    pub fn route(&self, a: HostId, b: HostId) -> Option<(&Route, bool)> {
        if let Some(&Some(s)) = self.source_slot.get(a as usize) {
            return self.routes[s][b as usize].as_ref().map(|r| (r, false));
        }
        let s = (*self.source_slot.get(b as usize)?)?;
        self.routes[s][a as usize].as_ref().map(|r| (r, true))
    }

    /// One-way latency of a `bytes`-long message from `a` to `b`, sampled (jitter, loss).
    /// `None` if there is no route.
    pub fn one_way(&self, a: HostId, b: HostId, bytes: u64, rng: &mut impl Rng) -> Option<SimDuration> {
        if a == b {
            return Some(SimDuration::ZERO);
        }
        let (r, reversed) = self.route(a, b)?;
        let netem = if reversed { r.netem_reverse } else { r.netem_forward };
        Some(self.sample(r, netem, &[], bytes, rng))
    }

    /// One-way latency of a message from `a` to `b` sent at `at`, including any wait for failed
    /// elements along the route to come back ([`crate::faults`]). `SimDuration::MAX` if it never
    /// gets through; `None` if there is no route.
    pub fn one_way_at(&self, a: HostId, b: HostId, bytes: u64, at: SimTime, rng: &mut impl Rng) -> Option<SimDuration> {
        if a == b {
            return Some(SimDuration::ZERO);
        }
        let (r, reversed) = self.route(a, b)?;
        let flight = self.flight_at(r, reversed, bytes, at, rng);
        if self.outages.is_empty() {
            return Some(flight);
        }
        let t = self.held_until(a, b, r, at);
        if t == SimTime::MAX {
            return Some(SimDuration::MAX);
        }
        Some((t - at) + flight)
    }

    /// `n` round trips of a small request and its reply between `a` and `b`, one after the
    /// other from `at`, as drawn: each message's mean delay ([`Network::base_one_way`]: the
    /// message sizes are folded into it), netem's jitter and loss on each delayed tunnel
    /// direction it crosses, the degradations in force on its tunnels when it leaves, and the
    /// resends of the copies it loses. Nothing here waits for an element that is down: the
    /// caller meets the route's outages ([`Network::route_down_windows`]). Without jitter, loss
    /// or degradations it is exactly `n` times the mean round trip. `None` if there is no route.
    pub fn round_trips_at(&self, a: HostId, b: HostId, n: u32, at: SimTime, rng: &mut impl Rng) -> Option<SimDuration> {
        if a == b {
            return Some(SimDuration::ZERO);
        }
        let (r, reversed) = self.route(a, b)?;
        let mut t = at;
        for _ in 0..n {
            t += self.flight_at(r, reversed, 0, t, rng);
            t += self.flight_at(r, !reversed, 0, t, rng);
        }
        Some(t.saturating_since(at))
    }

    /// The flight of a `bytes`-long message along `r` (backwards when `reversed`) leaving at
    /// `at`, with the degradations then in force and the resends of its lost copies; no wait for
    /// an element that is down. `bytes` 0 is a small message whose size is folded into the
    /// route's delays (no serialization).
    fn flight_at(&self, r: &Route, reversed: bool, bytes: u64, at: SimTime, rng: &mut impl Rng) -> SimDuration {
        let netem = if reversed { r.netem_reverse } else { r.netem_forward };
        // Degradations in force on the route's tunnels when the message leaves (at most four
        // tunnels on a route; kept on the stack).
        let mut extra = [NetemRule::default(); 4];
        let mut n_extra = 0;
        // When the last lossy one ends: a copy resent after that is not lost to it.
        let mut lossy_until: Option<SimTime> = None;
        if !self.outages.degraded.is_empty() {
            for &(x, y) in &r.tunnel_sites {
                if let Some(rule) = self.outages.degradation(x, y, at) {
                    if n_extra < extra.len() {
                        extra[n_extra] = rule;
                        n_extra += 1;
                    }
                    if let Some(end) = self.outages.lossy_degradation_end(x, y, at) {
                        lossy_until = Some(lossy_until.map_or(end, |u| u.max(end)));
                    }
                }
            }
        }
        let (base, losses, srtt) = self.sample_parts(r, netem, &extra[..n_extra], bytes, rng);
        let mut resends = if losses == 0 {
            SimDuration::ZERO
        } else {
            retransmission_cost(losses, srtt)
        };
        if let Some(until) = lossy_until.filter(|&u| u != SimTime::MAX) {
            // The degradations' loss holds only until their repair: the first resend after it
            // gets through (the route's own loss, if any, is not drawn again).
            resends = resends.min(resend_wait(until.saturating_since(at), srtt));
        }
        base + resends
    }

    /// When a message from `a` to `b` along `r`, ready to leave at `at`, can go: `at` unless an
    /// element on the route is down then ([`SimTime::MAX`] if one never comes back).
    fn held_until(&self, a: HostId, b: HostId, r: &Route, at: SimTime) -> SimTime {
        let rtt = r.propagation * 2;
        let srtt = self.base_rtt(a, b);
        // A router's crash stops what it routes between sites; within a site the hosts are
        // switched (the scenario's star of links around the router stands for the site's LAN).
        let crosses_sites = self.site_of[a as usize] != self.site_of[b as usize];
        let mut t = at;
        // Re-check until no element on the route is down at the moment the message reaches it
        // (approximated by the moment it can leave); each pass only moves time forward.
        for _ in 0..ROUTE_RECHECKS {
            let mut moved = false;
            for &h in &r.hops {
                let held = self
                    .outages
                    .host_hold(h, t, rtt * CONNECT_ROUND_TRIPS)
                    .or_else(|| crosses_sites.then(|| self.outages.router_hold(h, t, srtt)).flatten());
                if let Some(next) = held {
                    t = next;
                    moved = true;
                }
            }
            for &(x, y) in &r.tunnel_sites {
                if let Some(next) = self.outages.tunnel_hold(x, y, t, srtt) {
                    t = next;
                    moved = true;
                }
            }
            if !moved || t == SimTime::MAX {
                break;
            }
        }
        t
    }

    /// When route `r` carries packets again if one of its elements is down at `at` (`at`
    /// otherwise; [`SimTime::MAX`] if one never comes back). `crosses_sites`: whether its ends
    /// are in different sites (a router's crash stops only what it routes between sites).
    fn carries_again(&self, crosses_sites: bool, r: &Route, at: SimTime) -> SimTime {
        let o = &self.outages;
        let mut t = at;
        for _ in 0..ROUTE_RECHECKS {
            let mut moved = false;
            for &h in &r.hops {
                let back = o
                    .host_back(h, t)
                    .or_else(|| crosses_sites.then(|| o.router_back(h, t)).flatten());
                if let Some(next) = back.filter(|&n| n > t) {
                    t = next;
                    moved = true;
                }
            }
            for &(x, y) in &r.tunnel_sites {
                if let Some(next) = o.tunnel_back(x, y, t).filter(|&n| n > t) {
                    t = next;
                    moved = true;
                }
            }
            if !moved || t == SimTime::MAX {
                break;
            }
        }
        t
    }

    /// The windows `[start, end)` during which the route between `a` and `b` carries nothing
    /// because of a fault on it (a crashed router when the route crosses sites, a partitioned
    /// tunnel, an isolated site at an end of one of its tunnels, a crashed load balancer on
    /// it): each fault that touches the route opens a window at its start, which lasts until
    /// the route carries packets again (after an OpenVPN restart pause where the repair falls in
    /// one: [`crate::faults::vpn_carries_again`]; TCP's first resend after that is the connection's
    /// own, as [`crate::pull_outages::Outages`] prices it). Overlapping windows are merged;
    /// sorted. Empty without faults on the route, or without a route.
    pub fn route_down_windows(&self, a: HostId, b: HostId) -> Vec<(SimTime, SimTime)> {
        let Some((r, _)) = self.route(a, b) else {
            return Vec::new();
        };
        if a == b || self.outages.is_empty() {
            return Vec::new();
        }
        let crosses_sites = self.site_of[a as usize] != self.site_of[b as usize];
        let o = &self.outages;
        let mut starts: Vec<SimTime> = Vec::new();
        for h in &r.hops {
            starts.extend(o.hosts.get(h).into_iter().flatten().map(|w| w.0));
            if crosses_sites {
                starts.extend(o.routers.get(h).into_iter().flatten().map(|w| w.0));
            }
        }
        for &(x, y) in &r.tunnel_sites {
            starts.extend(o.tunnels.get(&(x.min(y), x.max(y))).into_iter().flatten().map(|w| w.0));
            for site in [x, y] {
                starts.extend(o.sites.get(&site).into_iter().flatten().map(|w| w.0));
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut windows: Vec<(SimTime, SimTime)> = Vec::new();
        for start in starts {
            let end = self.carries_again(crosses_sites, r, start);
            if end <= start {
                continue;
            }
            match windows.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => windows.push((start, end)),
            }
        }
        windows
    }

    /// The windows in which host `h` (the load balancer) is down, in the order the scenario
    /// gives them.
    pub fn host_down_windows(&self, h: HostId) -> &[(SimTime, SimTime)] {
        self.outages.hosts.get(&h).map_or(&[], Vec::as_slice)
    }

    /// Whether host `h` (the load balancer, the one host whose crash the network models) is
    /// down at `t`: a message reaching it then is held until it is back ([`crate::faults`]).
    pub fn host_down_at(&self, h: HostId, t: SimTime) -> bool {
        // Asked of every API message: a run without faults looks nothing up.
        !self.outages.is_empty() && self.outages.host_back(h, t).is_some()
    }

    /// Whether a fault stops the traffic between `a` and `b` at `t` in either direction
    /// ([`Network::cut_at`] each way).
    pub fn cut_between(&self, a: HostId, b: HostId, t: SimTime) -> bool {
        self.cut_at(a, b, t) || self.cut_at(b, a, t)
    }

    /// Whether a fault stops all traffic from `a` to `b` at `t`: a crashed router on their route,
    /// a partitioned tunnel on it, or an isolated site at an end of one of its tunnels (a crashed
    /// load balancer is the control plane's business). Without a route: cut.
    pub fn cut_at(&self, a: HostId, b: HostId, t: SimTime) -> bool {
        if a == b {
            return false;
        }
        let Some((r, _)) = self.route(a, b) else {
            return true;
        };
        let crosses_sites = self.site_of[a as usize] != self.site_of[b as usize];
        (crosses_sites && r.hops.iter().any(|&h| self.outages.router_back(h, t).is_some()))
            || r.tunnel_sites
                .iter()
                .any(|&(x, y)| self.outages.tunnel_back(x, y, t).is_some())
    }

    /// Whether fault `f` stops what carries the traffic between `a` and `b`, whenever it
    /// happens: a router on their route (when it crosses sites), a tunnel on it partitioned, or
    /// a site at an end of one of its tunnels isolated. This fault's share of a cut that
    /// [`Network::cut_between`] sees with every fault together. Faults that stop no traffic
    /// (a crash of another host, `degrade`, `crash-etcd-leader`) never do; nor does anything
    /// without a route.
    pub fn fault_on_route(&self, f: &crate::spec::Fault, a: HostId, b: HostId) -> bool {
        use crate::spec::Fault;
        if a == b {
            return false;
        }
        let Some((r, _)) = self.route(a, b) else {
            return false;
        };
        let site = |name: &str| self.site_names.iter().position(|s| s == name).map(|i| i as u32);
        match f {
            Fault::Crash { host, .. } => self.host(host).is_some_and(|h| {
                self.roles[h as usize] == Role::Router
                    && self.site_of[a as usize] != self.site_of[b as usize]
                    && r.hops.contains(&h)
            }),
            Fault::Partition { a: x, b: y, .. } => self.tunnel_on_route(x, y, a, b),
            Fault::IsolateSite { site: s, .. } => {
                site(s).is_some_and(|s| r.tunnel_sites.iter().any(|&(p, q)| p == s || q == s))
            }
            Fault::Degrade { .. } | Fault::CrashEtcdLeader { .. } => false,
        }
    }

    /// Whether the route between hosts `a` and `b` crosses the tunnel between sites `x` and `y`
    /// (either way round); `false` without a route or for an unknown site.
    pub fn tunnel_on_route(&self, x: &str, y: &str, a: HostId, b: HostId) -> bool {
        let site = |name: &str| self.site_names.iter().position(|s| s == name).map(|i| i as u32);
        let (Some(x), Some(y)) = (site(x), site(y)) else {
            return false;
        };
        if a == b {
            return false;
        }
        self.route(a, b).is_some_and(|(r, _)| {
            r.tunnel_sites
                .iter()
                .any(|&(p, q)| (p, q) == (x, y) || (p, q) == (y, x))
        })
    }

    /// Whether every small message from `a` to `b` takes the route's mean time: no loss on
    /// it, and no netem jitter on a tunnel direction it crosses (faults, which come and go,
    /// left out). `true` without a route (nothing travels).
    pub fn steady(&self, a: HostId, b: HostId) -> bool {
        if a == b {
            return true;
        }
        let Some((r, reversed)) = self.route(a, b) else {
            return true;
        };
        let netem = if reversed { r.netem_reverse } else { r.netem_forward };
        let jittery = netem > 0 && !self.netem.jitter.is_zero();
        self.packet_loss(a, b).is_none_or(|p| p == 0.0) && !jittery
    }

    /// The chance that a packet from `a` to `b` is lost: the route's links' own loss and the
    /// netem rule's on each delayed tunnel direction it crosses (degradations, which come and
    /// go, left out: [`Network::route_degradations`] gives them). `None` if there is no route.
    pub fn packet_loss(&self, a: HostId, b: HostId) -> Option<f64> {
        if a == b {
            return Some(0.0);
        }
        let (r, reversed) = self.route(a, b)?;
        let netem = if reversed { r.netem_reverse } else { r.netem_forward };
        Some(1.0 - (1.0 - r.loss) * (1.0 - self.netem.loss).powi(i32::from(netem)))
    }

    /// The `degrade` faults in force on the route between `a` and `b` over time: the
    /// intervals `[start, end)` between consecutive starts and repairs of the degradations of
    /// the route's tunnels during which at least one is in force, each with the rule a message
    /// crossing the route meets then (the tunnels' degradations stacked, [`crate::faults::stack`];
    /// a degradation applies to both directions of its tunnel, so each direction meets the same
    /// rule). Sorted; `end` is [`SimTime::MAX`] after a degradation never repaired. Empty
    /// without a degradation on the route, or without a route.
    pub fn route_degradations(&self, a: HostId, b: HostId) -> Vec<(SimTime, SimTime, NetemRule)> {
        let Some((r, _)) = self.route(a, b) else {
            return Vec::new();
        };
        if a == b || self.outages.degraded.is_empty() {
            return Vec::new();
        }
        let mut edges: Vec<SimTime> = r
            .tunnel_sites
            .iter()
            .filter_map(|&(x, y)| self.outages.degraded.get(&(x.min(y), x.max(y))))
            .flatten()
            .flat_map(|w| [w.0, w.1])
            .collect();
        edges.sort_unstable();
        edges.dedup();
        edges
            .windows(2)
            .filter_map(|e| {
                let rule = r
                    .tunnel_sites
                    .iter()
                    .filter_map(|&(x, y)| self.outages.degradation(x, y, e[0]))
                    .reduce(crate::faults::stack)?;
                Some((e[0], e[1], rule))
            })
            .collect()
    }

    /// The round trip between `a` and `b` at the mean one-way latencies, netem's delay included
    /// (a direction without a route counts as zero): a connection's smoothed round trip, which
    /// sets TCP's first retransmission timeout.
    pub fn base_rtt(&self, a: HostId, b: HostId) -> SimDuration {
        let one = |x, y| self.base_one_way(x, y).unwrap_or(SimDuration::ZERO);
        one(a, b) + one(b, a)
    }

    /// Mean one-way latency of a small message from `a` to `b` (no jitter, no loss).
    pub fn base_one_way(&self, a: HostId, b: HostId) -> Option<SimDuration> {
        if a == b {
            return Some(SimDuration::ZERO);
        }
        let (r, reversed) = self.route(a, b)?;
        let netem = if reversed { r.netem_reverse } else { r.netem_forward };
        Some(r.propagation + self.netem.delay * u64::from(netem))
    }

    fn sample(&self, r: &Route, netem: u8, extra: &[NetemRule], bytes: u64, rng: &mut impl Rng) -> SimDuration {
        let (d, losses, srtt) = self.sample_parts(r, netem, extra, bytes, rng);
        if losses == 0 {
            d
        } else {
            d + retransmission_cost(losses, srtt)
        }
    }

    /// A message's flight without its resends, how many copies it loses before one gets
    /// through whole, and the connection's RTT that prices each resend (zero when it loses
    /// none).
    fn sample_parts(
        &self,
        r: &Route,
        netem: u8,
        extra: &[NetemRule],
        bytes: u64,
        rng: &mut impl Rng,
    ) -> (SimDuration, u64, SimDuration) {
        let mut d = r.propagation;
        let payload = u64::from(r.mtu.saturating_sub(IP_TCP_HEADERS).max(1));
        let packets = bytes.div_ceil(payload).max(1);
        if let (Some(bw), true) = (r.bottleneck, bytes > 0) {
            d += bw.serialize(bytes + packets * u64::from(r.overhead_bytes));
        }
        let mut loss = r.loss;
        // The scenario's rule once per delayed tunnel direction crossed, then the degradations.
        let global = std::iter::repeat_n(&self.netem, usize::from(netem));
        for rule in global.chain(extra) {
            d += if rule.jitter.is_zero() {
                rule.delay
            } else {
                let z: f64 = StandardNormal.sample(rng);
                SimDuration::from_secs_f64((rule.delay.as_secs_f64() + z * rule.jitter.as_secs_f64()).max(0.0))
            };
            loss = 1.0 - (1.0 - loss) * (1.0 - rule.loss);
        }
        if loss > 0.0 {
            // The message is resent until one copy gets through whole: the losses before that
            // are geometric, drawn at once (one uniform, so 99 % and 99.999 % differ).
            let p_any = 1.0 - (1.0 - loss).powi(i32::try_from(packets).unwrap_or(i32::MAX));
            let losses = copies_lost(p_any, rng);
            // The connection's RTT: this direction as drawn, and the way back at its propagation
            // (netem on the way back, if any, is not known here).
            return (d, losses, d + r.propagation);
        }
        (d, 0, SimDuration::ZERO)
    }

    /// Which hosts reach which: `matrix[a][b]` is true when `a` can send to `b` (LAN or tunnel,
    /// forwarded only by routers); [`Network::reachability_among`] every host.
    pub fn reachability(&self) -> Vec<Vec<bool>> {
        let all: Vec<HostId> = (0..self.names.len() as HostId).collect();
        self.reachability_among(&all)
    }

    /// Which of `hosts` reach which: `matrix[i][j]` is true when `hosts[i]` can send to
    /// `hosts[j]` (LAN or tunnel, forwarded only by routers).
    ///
    /// Two hosts that are not routers and have the same neighbours over LAN links and tunnels
    /// (the machines of one site, as scenarios build them) reach alike: swapping them leaves the
    /// graph as it was, so one's row is the other's with their two entries swapped. A path
    /// search runs once per such class and once per router: a consortium of 20,000 machines at
    /// ten sites takes a few dozen searches, not 20,000.
    pub fn reachability_among(&self, hosts: &[HostId]) -> Vec<Vec<bool>> {
        use petgraph::visit::EdgeRef;
        let lan_or_tunnel = |e: &Edge| !matches!(e, Edge::Wan { .. });
        let search = |a: HostId| -> Vec<bool> {
            let (dist, _) = self.dijkstra(a, lan_or_tunnel, |id| self.roles[id as usize] == Role::Router);
            dist.iter().map(Option::is_some).collect()
        };
        let mut classes: std::collections::HashMap<Vec<HostId>, (HostId, Vec<bool>)> = Default::default();
        hosts
            .iter()
            .map(|&a| {
                let row = if self.roles[a as usize] == Role::Router {
                    search(a)
                } else {
                    let node = self.nodes[a as usize];
                    let mut neighbours: Vec<HostId> = self
                        .graph
                        .edges(node)
                        .filter(|e| lan_or_tunnel(e.weight()))
                        .map(|e| self.graph[if e.source() == node { e.target() } else { e.source() }])
                        .collect();
                    neighbours.sort_unstable();
                    match classes.get(&neighbours) {
                        Some((rep, row)) => {
                            let mut row = row.clone();
                            row.swap(a as usize, *rep as usize);
                            row
                        }
                        None => {
                            let row = search(a);
                            classes.insert(neighbours, (a, row.clone()));
                            row
                        }
                    }
                };
                hosts.iter().map(|&b| row[b as usize]).collect()
            })
            .collect()
    }

    /// The role of a host.
    pub fn role(&self, h: HostId) -> Role {
        self.roles[h as usize]
    }

    /// The netem rule in force.
    pub fn netem(&self) -> NetemRule {
        self.netem
    }
}
