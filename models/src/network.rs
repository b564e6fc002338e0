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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use sim_core::{SimDuration, SimTime};

use crate::faults::Outages;
use crate::spec::Fault;
use crate::spec::{LinkKind, NetemPlacement, Role, Scenario};
use crate::units::Bandwidth;
use crate::vpn::{tunnel_pairs, Tunnel};

/// Linux `TCP_RTO_MIN` (200 ms, include/net/tcp.h): the least variance term of the
/// retransmission timeout.
pub const TCP_RTO_MIN: SimDuration = SimDuration::from_millis(200);

/// Round trips of a new TCP + TLS connection before its first request, for a connection whose
/// ends are the two hosts a message takes the route between: TCP's handshake (1) and a full TLS
/// 1.2 handshake (2). Kubernetes v1.16.3 is built with Go 1.12.12 (CHANGELOG-1.16, kubernetes
/// PR #84064), whose `crypto/tls` offers TLS 1.3 only on opt-in (`GODEBUG=tls13=1`), and
/// client-go's `transport.TLSConfigFor` sets no session cache, so every new connection pays the
/// full handshake. Through HAProxy the two handshakes have different ends:
/// [`apiserver_connect_time`].
pub const CONNECT_ROUND_TRIPS: u64 = 3;

/// What a Kubernetes client's new connection through HAProxy in TCP mode costs before its first
/// request: TCP's handshake ends at HAProxy (one round trip `to_lb`), while TLS is end to end,
/// passed through to the apiserver, so its two round trips each go the whole way (`to_lb` and
/// `lb_to_apiserver`). HAProxy dials the apiserver as it accepts the client, which overlaps the
/// client's first TLS flight.
pub fn apiserver_connect_time(to_lb: SimDuration, lb_to_apiserver: SimDuration) -> SimDuration {
    to_lb + (to_lb + lb_to_apiserver) * (CONNECT_ROUND_TRIPS - 1)
}

/// Linux `TCP_RTO_MAX` (120 s, include/net/tcp.h): the retransmission timeout stops doubling
/// here, and retransmissions go on every 120 s.
pub const TCP_RTO_MAX: SimDuration = SimDuration::from_secs(120);

/// What `n` consecutive losses of one message cost TCP on a connection of round-trip time
/// `srtt`: a retransmission timeout each, the first `srtt + TCP_RTO_MIN` (Linux's `tcp_set_rto`
/// is the smoothed RTT plus `max(4 x mean deviation, TCP_RTO_MIN)`, and a steady path has
/// little deviation), doubling up to [`TCP_RTO_MAX`] and then staying there (`tcp_retransmit_timer`).
/// The resent copy travels like the first, so the timeouts are the whole cost. Saturates rather
/// than overflows for absurd counts (a loss near 100 % never delivers within any run's timeout).
pub fn retransmission_cost(n: u64, srtt: SimDuration) -> SimDuration {
    let mut rto = (srtt + TCP_RTO_MIN).min(TCP_RTO_MAX);
    let mut total = SimDuration::ZERO;
    let mut k = 0;
    // At most 10 doublings from 200 ms reach the cap; then every timeout is 120 s. (`+` and `*`
    // of `SimDuration` saturate.)
    while k < n && rto < TCP_RTO_MAX {
        total += rto;
        rto = (rto * 2).min(TCP_RTO_MAX);
        k += 1;
    }
    total + TCP_RTO_MAX * (n - k)
}

/// TCP's first resend at or after `end` of a segment first sent at `start` and lost: resends
/// go out `first_rto` after the send, the timeout doubling up to [`TCP_RTO_MAX`] and then
/// staying there (`tcp_retransmit_timer`). [`SimTime::MAX`] if `end` is.
pub fn first_resend_at_or_after(start: SimTime, end: SimTime, first_rto: SimDuration) -> SimTime {
    if end == SimTime::MAX {
        return SimTime::MAX;
    }
    let mut t = start;
    let mut rto = first_rto.min(TCP_RTO_MAX);
    while t < end {
        if rto == TCP_RTO_MAX {
            // The rest at the cap: whole 120-s steps.
            let steps = end.saturating_since(t).as_nanos().div_ceil(TCP_RTO_MAX.as_nanos());
            return t.checked_add(TCP_RTO_MAX * steps).unwrap_or(SimTime::MAX);
        }
        t = t.checked_add(rto).unwrap_or(SimTime::MAX);
        rto = (rto * 2).min(TCP_RTO_MAX);
    }
    t
}

/// How long after its first send a lost message's first resend at or after `after` goes out,
/// on a connection of round-trip time `srtt` (the timeouts of [`retransmission_cost`]).
pub fn resend_wait(after: SimDuration, srtt: SimDuration) -> SimDuration {
    first_resend_at_or_after(SimTime::ZERO, SimTime::ZERO + after, srtt + TCP_RTO_MIN).saturating_since(SimTime::ZERO)
}

/// MTU of a route that crosses no tunnel: Ethernet's 1500 bytes.
pub const ETHERNET_MTU: u32 = 1500;

/// IPv4 and TCP headers without options (20 + 20 bytes, RFC 791 and RFC 9293): what a packet of
/// an MTU-sized route carries besides data.
pub const IP_TCP_HEADERS: u32 = 40;

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
    source_slot: HashMap<HostId, usize>,
    netem: NetemRule,
    outages: Outages,
}

/// Dijkstra's result from one source: distance and predecessor (node, edge) of every node.
type UnderlayTree = (Vec<Option<SimDuration>>, Vec<Option<(HostId, EdgeIndex)>>);

impl Network {
    /// Builds the network of `scenario`, with routes from `sources` (host names) to every host.
    ///
    /// # Errors
    ///
    /// [`NetworkError`] for unknown or duplicate names.
    pub fn build(scenario: &Scenario, sources: &[&str]) -> Result<Network, NetworkError> {
        let mut net = Network::with_hosts(scenario)?;
        net.add_links(scenario)?;
        let routers = net.site_routers(scenario)?;
        // Tunnels ride the WAN underlay between routers.
        if scenario.vpn.enabled {
            net.add_tunnels(scenario, &routers);
        }
        // Netem between the near site (by default the control plane's) and the far ones.
        let (cp_site, far) = net.netem_sites(scenario);
        net.netem = NetemRule {
            delay: scenario.netem.delay.get(),
            jitter: scenario.netem.jitter.get(),
            loss: (scenario.netem.loss_pct / 100.0).clamp(0.0, 1.0),
        };
        net.add_fault_outages(&scenario.faults);
        let srcs = net.route_sources(sources)?;
        for (slot, &s) in srcs.iter().enumerate() {
            net.source_slot.insert(s, slot);
            let r = net.routes_from(s, cp_site, &far, scenario.netem.placement);
            net.routes.push(r);
        }
        Ok(net)
    }

    /// The scenario's hosts, each a node of the graph, in the scenario's order; no links, no
    /// routes, no netem, no fault yet.
    fn with_hosts(scenario: &Scenario) -> Result<Network, NetworkError> {
        let mut names = Vec::new();
        let mut index = HashMap::new();
        let mut site_of = Vec::new();
        let mut roles = Vec::new();
        let site_names: Vec<String> = scenario.sites.iter().map(|s| s.name.clone()).collect();
        let mut graph: UnGraph<HostId, Edge> = UnGraph::default();
        let mut nodes = Vec::new();
        for h in &scenario.hosts {
            let id = names.len() as HostId;
            if index.insert(h.name.clone(), id).is_some() {
                return Err(NetworkError::DuplicateHost(h.name.clone()));
            }
            let site = site_names
                .iter()
                .position(|s| *s == h.site)
                .ok_or_else(|| NetworkError::UnknownSite {
                    host: h.name.clone(),
                    site: h.site.clone(),
                })?;
            names.push(h.name.clone());
            site_of.push(site as u32);
            roles.push(h.role);
            nodes.push(graph.add_node(id));
        }
        Ok(Network {
            names,
            index,
            site_of,
            site_names,
            roles,
            graph,
            nodes,
            routes: Vec::new(),
            source_slot: HashMap::new(),
            netem: NetemRule::default(),
            outages: Outages {
                ping_restart: scenario.vpn.ping_restart.get(),
                ..Outages::default()
            },
        })
    }

    /// Host `n`, named in `what`.
    fn lookup(&self, what: String, n: &str) -> Result<HostId, NetworkError> {
        self.index.get(n).copied().ok_or_else(|| NetworkError::UnknownHost {
            what,
            host: n.to_owned(),
        })
    }

    /// The index of the site named `name`.
    fn site_index(&self, name: &str) -> Option<u32> {
        self.site_names.iter().position(|s| s == name).map(|i| i as u32)
    }

    /// The scenario's LAN and WAN links, as edges of the graph.
    fn add_links(&mut self, scenario: &Scenario) -> Result<(), NetworkError> {
        for (i, l) in scenario.links.iter().enumerate() {
            let a = self.lookup(format!("links[{i}].a"), &l.a)?;
            let b = self.lookup(format!("links[{i}].b"), &l.b)?;
            let loss = (l.loss_pct / 100.0).clamp(0.0, 1.0);
            let e = match l.kind {
                LinkKind::Lan => Edge::Lan {
                    delay: l.delay.get(),
                    bandwidth: l.bandwidth,
                    loss,
                },
                LinkKind::Wan => Edge::Wan {
                    delay: l.delay.get(),
                    bandwidth: l.bandwidth,
                    loss,
                },
            };
            self.graph.add_edge(self.nodes[a as usize], self.nodes[b as usize], e);
        }
        Ok(())
    }

    /// Each site's router, by site index.
    fn site_routers(&self, scenario: &Scenario) -> Result<Vec<HostId>, NetworkError> {
        let mut routers = Vec::new();
        for (i, s) in scenario.sites.iter().enumerate() {
            routers.push(self.lookup(format!("sites[{i}].router"), &s.router)?);
        }
        Ok(routers)
    }

    /// The VPN's tunnels between the sites' `routers`, each over its shortest underlay path
    /// (pairs the underlay does not join get none).
    fn add_tunnels(&mut self, scenario: &Scenario, routers: &[HostId]) {
        // One shortest-path tree per router that starts tunnels, not one per tunnel: a
        // full mesh of N sites costs N runs of Dijkstra, not N²/2.
        // Every tunnel is routed before any is added, so no search walks the tunnels.
        let mut trees: HashMap<HostId, UnderlayTree> = HashMap::new();
        let mut tunnels = Vec::new();
        for (sa, sb) in tunnel_pairs(&scenario.vpn.topology, &self.site_names) {
            let (ra, rb) = (routers[sa], routers[sb]);
            let tree = trees.entry(ra).or_insert_with(|| self.underlay_tree(ra));
            if let Some((delay, bw, loss)) = self.underlay(tree, ra, rb) {
                tunnels.push((
                    ra,
                    rb,
                    Tunnel::new(&scenario.vpn, sa as u32, sb as u32, delay, bw, loss),
                ));
            }
        }
        drop(trees);
        for (ra, rb, t) in tunnels {
            self.graph
                .add_edge(self.nodes[ra as usize], self.nodes[rb as usize], Edge::Tunnel(t));
        }
    }

    /// Where netem sits: the near site (`netem.near`, by default the first master's) and the
    /// far ones, by index.
    fn netem_sites(&self, scenario: &Scenario) -> (Option<u32>, Vec<u32>) {
        let cp_site = match &scenario.netem.near {
            Some(n) => self.site_index(n),
            None => scenario
                .hosts
                .iter()
                .find(|h| h.role == Role::Master)
                .and_then(|h| self.site_index(&h.site)),
        };
        let far: Vec<u32> = scenario.netem.far.iter().filter_map(|n| self.site_index(n)).collect();
        (cp_site, far)
    }

    /// The network's share of the scenario's faults: the load balancer's and routers' crashes,
    /// partitions, isolated sites and degraded tunnels.
    fn add_fault_outages(&mut self, faults: &[Fault]) {
        for f in faults {
            let w = f.window();
            match f {
                Fault::Crash { host, .. } => {
                    if let Some(&h) = self.index.get(host) {
                        match self.roles[h as usize] {
                            Role::LoadBalancer => self.outages.hosts.entry(h).or_default().push(w),
                            Role::Router => self.outages.routers.entry(h).or_default().push(w),
                            _ => {}
                        }
                    }
                }
                Fault::Partition { a, b, .. } => {
                    if let (Some(x), Some(y)) = (self.site_index(a), self.site_index(b)) {
                        self.outages.tunnels.entry((x.min(y), x.max(y))).or_default().push(w);
                    }
                }
                Fault::IsolateSite { site, .. } => {
                    if let Some(x) = self.site_index(site) {
                        self.outages.sites.entry(x).or_default().push(w);
                    }
                }
                Fault::Degrade {
                    a,
                    b,
                    delay,
                    jitter,
                    loss_pct,
                    ..
                } => {
                    if let (Some(x), Some(y)) = (self.site_index(a), self.site_index(b)) {
                        let rule = NetemRule {
                            delay: delay.get(),
                            jitter: jitter.get(),
                            loss: (loss_pct / 100.0).clamp(0.0, 1.0),
                        };
                        self.outages
                            .degraded
                            .entry((x.min(y), x.max(y)))
                            .or_default()
                            .push((w.0, w.1, rule));
                    }
                }
                Fault::CrashEtcdLeader { .. } => {}
            }
        }
    }

    /// The hosts named in `sources`, each once, in order of first mention.
    fn route_sources(&self, sources: &[&str]) -> Result<Vec<HostId>, NetworkError> {
        let mut srcs: Vec<HostId> = Vec::new();
        for s in sources {
            let id = self.lookup("a route source".into(), s)?;
            if !srcs.contains(&id) {
                srcs.push(id);
            }
        }
        Ok(srcs)
    }

    /// Shortest paths from router `a` over the physical links, through routers only.
    fn underlay_tree(&self, a: HostId) -> UnderlayTree {
        self.dijkstra(
            a,
            |e| matches!(e, Edge::Wan { .. } | Edge::Lan { .. }),
            |id| id == a || self.roles[id as usize] == Role::Router,
        )
    }

    /// The underlay path from router `a` to router `b` in `a`'s tree: delay, bottleneck
    /// bandwidth and loss.
    fn underlay(&self, tree: &UnderlayTree, a: HostId, b: HostId) -> Option<(SimDuration, Bandwidth, f64)> {
        let (dist, prev) = tree;
        dist[b as usize]?;
        let mut bw = f64::INFINITY;
        let mut keep = 1.0;
        let mut at = b;
        while at != a {
            let (p, e) = prev[at as usize]?;
            if let Edge::Wan { bandwidth, loss, .. } | Edge::Lan { bandwidth, loss, .. } = &self.graph[e] {
                bw = bw.min(bandwidth.bits_per_s);
                keep *= 1.0 - loss;
            }
            at = p;
        }
        Some((dist[b as usize]?, Bandwidth { bits_per_s: bw }, 1.0 - keep))
    }

    /// Dijkstra from `src` over edges accepted by `edge_ok`, through nodes accepted by
    /// `transit_ok` (the ends always pass).
    #[allow(clippy::type_complexity)] // (distance, predecessor) per node, local to routing.
    fn dijkstra(
        &self,
        src: HostId,
        edge_ok: impl Fn(&Edge) -> bool,
        transit_ok: impl Fn(HostId) -> bool,
    ) -> (Vec<Option<SimDuration>>, Vec<Option<(HostId, EdgeIndex)>>) {
        let n = self.names.len();
        let mut dist: Vec<Option<SimDuration>> = vec![None; n];
        let mut prev: Vec<Option<(HostId, EdgeIndex)>> = vec![None; n];
        let mut heap = BinaryHeap::new();
        dist[src as usize] = Some(SimDuration::ZERO);
        heap.push(Reverse((SimDuration::ZERO, src)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if dist[u as usize].is_some_and(|best| d > best) {
                continue;
            }
            if u != src && !transit_ok(u) {
                continue;
            }
            for e in self.graph.edges(self.nodes[u as usize]) {
                if !edge_ok(e.weight()) {
                    continue;
                }
                let v = *self
                    .graph
                    .node_weight(if e.source() == self.nodes[u as usize] {
                        e.target()
                    } else {
                        e.source()
                    })
                    .expect("edge ends exist");
                let w = match e.weight() {
                    Edge::Lan { delay, .. } | Edge::Wan { delay, .. } => *delay,
                    Edge::Tunnel(t) => t.delay,
                };
                let nd = d + w;
                // Ties break on the lower host index, so routes never depend on hash order.
                if dist[v as usize].is_none_or(|best| nd < best) {
                    dist[v as usize] = Some(nd);
                    prev[v as usize] = Some((u, e.id()));
                    heap.push(Reverse((nd, v)));
                }
            }
        }
        (dist, prev)
    }

    fn routes_from(
        &self,
        src: HostId,
        cp_site: Option<u32>,
        far: &[u32],
        placement: NetemPlacement,
    ) -> Vec<Option<Route>> {
        // Hosts' traffic uses LAN links and tunnels, and only routers forward it.
        let (dist, prev) = self.dijkstra(
            src,
            |e| !matches!(e, Edge::Wan { .. }),
            |id| self.roles[id as usize] == Role::Router,
        );
        (0..self.names.len() as HostId)
            .map(|dst| {
                let propagation = dist[dst as usize]?;
                let mut r = Route {
                    propagation,
                    mtu: u32::MAX,
                    ..Route::default()
                };
                let mut bw = f64::INFINITY;
                let mut keep = 1.0;
                let mut at = dst;
                let mut hops = vec![dst];
                while at != src {
                    let (p, e) = prev[at as usize]?;
                    match &self.graph[e] {
                        Edge::Lan { bandwidth, loss, .. } | Edge::Wan { bandwidth, loss, .. } => {
                            bw = bw.min(bandwidth.bits_per_s);
                            keep *= 1.0 - loss;
                        }
                        Edge::Tunnel(t) => {
                            bw = bw.min(t.capacity.bits_per_s);
                            keep *= 1.0 - t.loss;
                            r.tunnels += 1;
                            r.tunnel_sites.push((t.site_a, t.site_b));
                            r.overhead_bytes += t.overhead_bytes;
                            r.mtu = r.mtu.min(t.mtu);
                            let (sp, sa) = (self.site_of[p as usize], self.site_of[at as usize]);
                            let other = if Some(sp) == cp_site { sa } else { sp };
                            let far_ok = far.is_empty() || far.contains(&other);
                            if let (Some(cp), true) = (cp_site, far_ok) {
                                // Direction of travel on this tunnel: from p's site to at's site.
                                let from_cp = sp == cp;
                                let to_cp = sa == cp;
                                let (fwd, rev) = match placement {
                                    NetemPlacement::MastersEgress => (from_cp, to_cp),
                                    NetemPlacement::WorkersEgress => (to_cp, from_cp),
                                    NetemPlacement::Both => (from_cp || to_cp, from_cp || to_cp),
                                };
                                r.netem_forward += u8::from(fwd);
                                r.netem_reverse += u8::from(rev);
                            }
                        }
                    }
                    hops.push(p);
                    at = p;
                }
                hops.reverse();
                r.hops = hops;
                r.bottleneck = bw.is_finite().then_some(Bandwidth { bits_per_s: bw });
                r.loss = 1.0 - keep;
                if r.mtu == u32::MAX {
                    r.mtu = ETHERNET_MTU;
                }
                Some(r)
            })
            .collect()
    }

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

    /// Number of hosts.
    pub fn host_count(&self) -> usize {
        self.names.len()
    }

    /// The route from `a` to `b`, if one of them is a route source and `b` is reachable.
    /// The boolean is true when the route was stored in the other direction (b to a).
    pub fn route(&self, a: HostId, b: HostId) -> Option<(&Route, bool)> {
        if let Some(&s) = self.source_slot.get(&a) {
            return self.routes[s][b as usize].as_ref().map(|r| (r, false));
        }
        let &s = self.source_slot.get(&b)?;
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
        // A router's crash stops what it routes between sites; within a site the hosts are
        // switched (the scenario's star of links around the router stands for the site's LAN).
        let crosses_sites = self.site_of[a as usize] != self.site_of[b as usize];
        let mut t = at;
        // Re-check until no element on the route is down at the moment the message reaches it
        // (approximated by the moment it can leave); each pass only moves time forward.
        for _ in 0..64 {
            let mut moved = false;
            for &h in &r.hops {
                let held = self
                    .outages
                    .host_hold(h, t, rtt * CONNECT_ROUND_TRIPS)
                    .or_else(|| crosses_sites.then(|| self.outages.router_hold(h, t, rtt)).flatten());
                if let Some(next) = held {
                    t = next;
                    moved = true;
                }
            }
            for &(x, y) in &r.tunnel_sites {
                if let Some(next) = self.outages.tunnel_hold(x, y, t, rtt) {
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
        let rtt = r.propagation * 2;
        let o = &self.outages;
        let mut t = at;
        for _ in 0..64 {
            let mut moved = false;
            for &h in &r.hops {
                let back = o
                    .host_back(h, t)
                    .or_else(|| crosses_sites.then(|| o.router_back(h, t, rtt)).flatten());
                if let Some(next) = back.filter(|&n| n > t) {
                    t = next;
                    moved = true;
                }
            }
            for &(x, y) in &r.tunnel_sites {
                if let Some(next) = o.tunnel_back(x, y, t, rtt).filter(|&n| n > t) {
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
    /// the route carries packets again (after OpenVPN's renegotiation where a router restarted
    /// or a tunnel outlasted `ping-restart`; TCP's first resend after that is the connection's
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
        (crosses_sites
            && r.hops
                .iter()
                .any(|&h| self.outages.router_hold(h, t, SimDuration::ZERO).is_some()))
            || r.tunnel_sites
                .iter()
                .any(|&(x, y)| self.outages.tunnel_hold(x, y, t, SimDuration::ZERO).is_some())
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
            let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
            let losses = if p_any >= 1.0 {
                u64::MAX
            } else {
                let n = (u.ln() / p_any.ln()).floor();
                if n.is_finite() && n < 1e15 {
                    n as u64
                } else {
                    u64::MAX
                }
            };
            // The connection's RTT: this direction as drawn, and the way back at its propagation
            // (netem on the way back, if any, is not known here).
            return (d, losses, d + r.propagation);
        }
        (d, 0, SimDuration::ZERO)
    }

    /// Which hosts reach which: `matrix[a][b]` is true when `a` can send to `b` (LAN or tunnel),
    /// computed over every pair (O(V (V + E) log V)); for reports and checks on small scenarios.
    pub fn reachability(&self) -> Vec<Vec<bool>> {
        (0..self.names.len() as HostId)
            .map(|a| {
                let (dist, _) = self.dijkstra(
                    a,
                    |e| !matches!(e, Edge::Wan { .. }),
                    |id| self.roles[id as usize] == Role::Router,
                );
                dist.iter().map(Option::is_some).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Through HAProxy in TCP mode, TCP's handshake ends at the load balancer but TLS goes on to
    /// the apiserver: a kubectl next to the load balancer whose apiserver is 250 ms away pays
    /// the two TLS round trips to that apiserver, not three round trips to the balancer.
    #[test]
    fn a_new_connection_pays_tls_to_the_apiserver_behind_haproxy() {
        let ms = SimDuration::from_millis;
        assert_eq!(apiserver_connect_time(ms(1), ms(250)), ms(1 + 2 * 251));
        // Load balancer and apiserver on one host's LAN: three round trips to the balancer.
        assert_eq!(apiserver_connect_time(ms(40), ms(0)), ms(120));
    }

    #[test]
    fn the_first_resend_after_a_time_falls_on_the_doubling_schedule() {
        let ms = SimDuration::from_millis;
        // RTT 0: resends 200, 600, 1400, 3000 ms after the first send.
        assert_eq!(resend_wait(ms(0), ms(0)), ms(0));
        assert_eq!(resend_wait(ms(150), ms(0)), ms(200));
        assert_eq!(resend_wait(ms(600), ms(0)), ms(600));
        assert_eq!(resend_wait(ms(601), ms(0)), ms(1400));
        // Past the cap: 204.6 s of doubling timeouts, then 120-s steps.
        assert_eq!(resend_wait(ms(250_000), ms(0)), ms(204_600 + 120_000));
        assert!(resend_wait(SimDuration::from_secs(86_400 * 30), ms(0)) >= SimDuration::from_secs(86_400 * 30));
    }

    #[test]
    fn losses_cost_doubling_timeouts_then_flat_ones() {
        let ms = SimDuration::from_millis;
        // A LAN-like RTT of 0: timeouts of 200 ms, doubling.
        assert_eq!(retransmission_cost(0, ms(0)), SimDuration::ZERO);
        assert_eq!(retransmission_cost(1, ms(0)), ms(200));
        assert_eq!(retransmission_cost(3, ms(0)), ms(200 + 400 + 800));
        // Ten doubling timeouts (200 ms .. 102.4 s), then 120 s each.
        assert_eq!(retransmission_cost(12, ms(0)), ms(204_600) + ms(240_000));
        assert_eq!(retransmission_cost(u64::MAX, ms(0)), SimDuration::MAX);
        // 500 ms each way: the first timeout is the RTT plus 200 ms, then 2.4 s, 4.8 s.
        assert_eq!(retransmission_cost(1, ms(1000)), ms(1200));
        assert_eq!(retransmission_cost(3, ms(1000)), ms(1200 + 2400 + 4800));
        // An RTT beyond the cap times out at 120 s from the first loss.
        assert_eq!(retransmission_cost(2, ms(200_000)), ms(240_000));
    }
}
