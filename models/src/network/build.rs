//! Building a scenario's [`Network`]: its hosts, LAN and WAN links, OpenVPN tunnels over the
//! underlay, the faults' outages, and the routes from the source hosts (Dijkstra over LAN links
//! and tunnels, netem placed on the tunnel directions between the near and the far sites).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use petgraph::graph::{EdgeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use sim_core::SimDuration;

use super::{Edge, HostId, NetemRule, Network, NetworkError, Route, ETHERNET_MTU};
use crate::faults::Outages;
use crate::spec::Fault;
use crate::spec::{LinkKind, NetemPlacement, Role, Scenario};
use crate::units::Bandwidth;
use crate::vpn::{tunnel_pairs, Tunnel};

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
            net.source_slot[s as usize] = Some(slot);
            let r = net.routes_from(s, cp_site, &far, scenario.netem.placement);
            net.routes.push(r);
        }
        Ok(net)
    }

    /// The same network under `faults` instead of the ones it was built with. No fault changes
    /// a link, a tunnel or a route (faults only add outages, which the routes meet as they are
    /// used), so only the outages are redone: for scenarios that differ only in their faults,
    /// such as `plan --drills`' variants, without Dijkstra again.
    pub fn with_faults(&self, faults: &[Fault]) -> Network {
        let mut net = self.clone();
        net.outages = Outages {
            ping_restart: self.outages.ping_restart,
            ..Outages::default()
        };
        net.add_fault_outages(faults);
        net
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
            source_slot: vec![None; scenario.hosts.len()],
            netem: NetemRule::default(),
            outages: Outages {
                // Without the tunnels no OpenVPN restarts, whatever a crash's length.
                ping_restart: if scenario.vpn.enabled {
                    scenario.vpn.ping_restart.get()
                } else {
                    SimDuration::MAX
                },
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
    pub(super) fn dijkstra(
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
                            r.overhead_bytes = r.overhead_bytes.saturating_add(t.overhead_bytes);
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
}
