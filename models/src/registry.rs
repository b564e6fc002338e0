//! A private registry or pull-through mirror on the overlay (`runtime.registry_host`).
//!
//! # Mechanism
//!
//! Without it, every node pulls from Docker Hub over its own site's internet uplink at the
//! site's `registry_rtt` ([`crate::kubelet`], [`crate::pull_outages::outages_of`]). A
//! consortium may instead run a registry (`docker run registry:2`, or one configured as a
//! pull-through cache) on one of its hosts; the nodes then reach it like any other host, through
//! the LAN and the OpenVPN tunnels:
//!
//! - **Round trips.** A pull makes the same `runtime.registry_round_trips` round trips (Docker
//!   18.09 opens a connection per request whatever the registry), each of the node's route to
//!   the registry and back: propagation both ways and the scenario's netem delay on each
//!   direction it applies to ([`Network::base_one_way`]). A delay placed between the sites
//!   therefore lengthens every pull that crosses it. Each round trip is drawn as the network
//!   carries it when it is made ([`Network::round_trips_at`]): netem's jitter and loss on the
//!   delayed directions, and the `degrade` faults then in force on the route's tunnels (their
//!   delay, jitter and loss, a lost message costing TCP's resends).
//! - **Download.** A first pull downloads the layers at `runtime.download_bandwidth`, held to
//!   the route's bottleneck (the slowest link or tunnel on it) and, on a lossy route (its links'
//!   loss, netem's on the directions toward the node), to what its `layer_connections` TCP
//!   connections move at that loss and round trip ([`tcp_rate_under_loss`]: 1 % loss at
//!   200 ms, about 0.7 Mbit/s each with 1,460-byte segments). While a `degrade` fault is in
//!   force on one of the route's tunnels ([`Network::route_degradations`]), the same rate at
//!   the degraded round trip (the fault's delay added each way) and loss (the fault's on top
//!   of the route's) holds the download, and only then ([`RateWindows`]: piecewise constant,
//!   changing at the faults' starts and repairs). Without a shared link the download's end
//!   is integrated over those stretches ([`RateWindows::download`]); through one, the
//!   stretches' rates are the download's cap, and the shares are recomputed at each change
//!   ([`crate::uplink::SiteUplink::set_cap_windows`]). Nodes outside the registry's
//!   site share that site's `uplink`, if it declares one: every download leaves the registry
//!   through it ([`crate::uplink`], max-min fair shares, each held to its node's own rate);
//!   nodes of the registry's own site download over their LAN. A node outside it also crosses
//!   its own site's `uplink`, which that site's downloads share: the two uplinks are links of
//!   one fluid ([`crate::uplink::SiteUplink::set_path`]), and every download gets its max-min
//!   fair share of the links on its path.
//! - **Faults.** A pull meets what is down on its route as TCP does
//!   ([`Network::route_down_windows`], [`crate::pull_outages::overlay`]): a crashed router, a
//!   partitioned tunnel or an isolated site stalls it until the route carries again, since the
//!   routed overlay keeps no connection state on the way; a crash of the registry host itself
//!   loses the connection at the node's first keepalive probe after the restart, which fails
//!   the pull during the registry's requests (then the image back-off,
//!   [`crate::image_backoff`]), or during the layers the attempt that Docker then resumes
//!   ([`crate::pull_outages`]).
//!
//! # Simplifications
//!
//! The registry serves every request at once (no queue of its own; `registry:2` is a Go HTTP
//! server whose per-request work is small beside a round trip over the overlay). A `degrade`
//! fault's jitter does not enter the download's rate (Mathis's formula takes the mean round
//! trip), and a rate change takes effect at once (TCP's window needs a few round trips to
//! shrink, or to grow back after a repair). Tunnels and WAN links are not shared between
//! downloads: each download is held to its route's bottleneck on its own; only the uplinks
//! are shared. The campus uplinks carry only these downloads (the rest of a
//! campus's traffic is not modelled). A download through the shared links meets, there, the
//! outages of its own route to the registry.

use sim_core::{SimDuration, SimTime};

use crate::cluster::ModelError;
use crate::network::{HostId, Network};
use crate::pull_outages::{Outages, Transfer};
use crate::spec::{Runtime, Scenario};
use crate::units::Bandwidth;
use crate::uplink::SiteUplink;

/// The rate, bits per second, at which one TCP connection in congestion avoidance moves data
/// over a path of round trip `rtt_s` that loses a fraction `loss` of its packets of `mss_bytes`:
/// `MSS / RTT x sqrt(3 / (2 p))` (Mathis, Semke, Mahdavi and Ott, "The macroscopic behavior of
/// the TCP congestion avoidance algorithm", SIGCOMM CCR 27(3), 1997). That is Reno's rate;
/// Linux's default CUBIC moves at least as much (its TCP-friendly region, RFC 8312 §4.2) and
/// more on paths of large bandwidth-delay product, so on those this is a floor. Infinite
/// without loss or without a round trip.
pub fn tcp_rate_under_loss(mss_bytes: f64, rtt_s: f64, loss: f64) -> f64 {
    if loss <= 0.0 || rtt_s <= 0.0 {
        return f64::INFINITY;
    }
    mss_bytes * 8.0 / rtt_s * (1.5 / loss).sqrt()
}

/// The windows `[start, end)` during which a node's download from the overlay registry is held
/// below its steady rate (by the `degrade` faults then in force on its route), each with the
/// rate, bits per second, it is held to then. Outside them the download moves at its steady
/// rate. Sorted, disjoint; empty when no degradation slows the download.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateWindows {
    windows: Vec<(SimTime, SimTime, f64)>,
}

impl RateWindows {
    /// The windows `windows` (sorted, disjoint), each with its rate, bits per second.
    pub fn new(windows: Vec<(SimTime, SimTime, f64)>) -> RateWindows {
        RateWindows { windows }
    }

    /// Whether the download always moves at its steady rate.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// The windows, in order.
    pub fn windows(&self) -> &[(SimTime, SimTime, f64)] {
        &self.windows
    }

    /// The rate at `t` of a download whose steady rate is `steady_bps`.
    pub fn rate_at(&self, t: SimTime, steady_bps: f64) -> f64 {
        self.windows
            .iter()
            .find(|w| w.0 <= t && t < w.1)
            .map_or(steady_bps, |w| w.2.min(steady_bps))
    }

    /// The first start or end of a window strictly after `t`, if any.
    pub fn next_change(&self, t: SimTime) -> Option<SimTime> {
        self.windows
            .iter()
            .flat_map(|w| [w.0, w.1])
            .find(|&e| e > t && e != SimTime::MAX)
    }

    /// A download of `bits` at `steady_bps` outside the windows (each window's rate in it) on
    /// a connection opened at `since`, going on from `from`, through `outages` (it makes no
    /// progress while stalled; an outage that kills the connection fails the attempt, and
    /// Docker's next one resumes where it stopped, [`Outages::resume`]): the rate is constant
    /// between two changes, so each stretch is the transfer of [`Outages::transfer_since`] at
    /// that stretch's rate, and the next stretch starts with what is left.
    pub fn download(&self, outages: &Outages, since: SimTime, from: SimTime, bits: f64, steady_bps: f64) -> Transfer {
        let (mut since, mut t, mut left) = (since, from, bits);
        let mut failures = 0;
        loop {
            let rate = self.rate_at(t, steady_bps);
            let next = self.next_change(t).unwrap_or(SimTime::MAX);
            let work = SimDuration::from_secs_f64(left.max(0.0) / rate);
            match outages.transfer_since(since, t, work) {
                done @ Transfer::Done(at) if at <= next => return done,
                Transfer::Failed { cut, at } if cut <= next => {
                    left -= rate * outages.up_seconds_since(since, t, cut);
                    match outages.resume(at, failures + 1) {
                        Ok(r) => (since, t, failures) = (r.connected, r.at, r.failures),
                        Err(at) => return Transfer::Failed { cut, at },
                    }
                }
                _ => {
                    left -= rate * outages.up_seconds_since(since, t, next);
                    t = next;
                }
            }
        }
    }
}

/// The registry host on the overlay that every node pulls from.
#[derive(Debug, Clone)]
pub struct OverlayRegistry {
    /// The registry's host.
    pub host: HostId,
    /// Its name in the scenario.
    pub name: String,
    /// Its site's name.
    pub site: String,
}

/// Per site whose downloads cross a shared link, the links it crosses, in
/// [`SiteUplink::set_path`]'s numbering.
pub type SitePaths = Vec<(String, Vec<usize>)>;

/// The shared links that downloads from the overlay registry cross: one
/// [`SiteUplink`] component holding the registry site's uplink as link 0 (unbounded if it
/// declares none) and every other site's as a further link, with each site's path.
#[derive(Debug)]
pub struct OverlayLinks {
    /// The component to add to the simulation.
    pub uplink: SiteUplink,
    /// Each site's path through them.
    pub paths: SitePaths,
}

/// How one node pulls from the overlay registry.
#[derive(Debug, Clone)]
pub struct NodePull {
    /// The node's round trip to the registry and back, mean delays.
    pub rtt: SimDuration,
    /// The runtime settings with the download rate held to the route's bottleneck and, on a
    /// lossy route, to `layer_connections` connections' TCP rate (the uplinks' shares are applied
    /// during the run by the [`SiteUplink`] component).
    pub runtime: Runtime,
    /// What the faults on the node's route, and the registry's crashes, do to its pulls.
    pub outages: Outages,
    /// When the `degrade` faults on the node's route hold its download below
    /// `runtime.download_bandwidth`, and to what: `layer_connections` connections' TCP rate
    /// at the degraded round trip and loss ([`tcp_rate_under_loss`]).
    pub download_windows: RateWindows,
}

impl OverlayRegistry {
    /// The registry host `name` of `scenario`, located in `net`.
    ///
    /// # Errors
    ///
    /// [`ModelError::Incomplete`] when `name` is not a host of the scenario.
    pub fn new(scenario: &Scenario, net: &Network, name: &str) -> Result<OverlayRegistry, ModelError> {
        let incomplete = |message: String| ModelError::Incomplete {
            scenario: scenario.name.clone(),
            message,
        };
        let host = net
            .host(name)
            .ok_or_else(|| incomplete(format!("runtime.registry_host `{name}` is not a defined host")))?;
        Ok(OverlayRegistry {
            host,
            name: name.to_owned(),
            site: net.site_name(host).to_owned(),
        })
    }

    /// The shared links downloads from the registry cross: from every other site, the
    /// registry site's uplink if it declares one and the site's own if it does. `None` when no
    /// download crosses one.
    pub fn links(&self, scenario: &Scenario) -> Option<OverlayLinks> {
        let own = scenario
            .sites
            .iter()
            .find(|x| x.name == self.site)
            .and_then(|x| x.uplink);
        let mut uplink = SiteUplink::new(self.site.clone(), own.map_or(f64::INFINITY, |b| b.bits_per_s));
        let paths: SitePaths = scenario
            .sites
            .iter()
            .filter(|x| x.name != self.site)
            .filter_map(|x| {
                let path: Vec<usize> = own
                    .map(|_| 0)
                    .into_iter()
                    .chain(x.uplink.map(|b| uplink.add_link(b.bits_per_s)))
                    .collect();
                (!path.is_empty()).then(|| (x.name.clone(), path))
            })
            .collect();
        (!paths.is_empty()).then_some(OverlayLinks { uplink, paths })
    }

    /// How the node `node` pulls: its round trip, its download rate, its outages.
    ///
    /// # Errors
    ///
    /// [`ModelError::Network`] (unreachable) when no route joins the node and the registry (the
    /// scenario checks report it first, naming the sites).
    pub fn pull_from(&self, scenario: &Scenario, net: &Network, node: HostId) -> Result<NodePull, ModelError> {
        let (rt, faults) = (&scenario.runtime, &scenario.faults);
        let unreachable = || {
            ModelError::Network(crate::network::NetworkError::Unreachable(vec![(
                net.name(node).to_owned(),
                self.name.clone(),
            )]))
        };
        let there = net.base_one_way(node, self.host).ok_or_else(unreachable)?;
        let back = net.base_one_way(self.host, node).ok_or_else(unreachable)?;
        let rtt = there + back;
        let mut runtime = rt.clone();
        let mut rate = rt.download_bandwidth.bits_per_s;
        let route = net.route(node, self.host).map(|(r, _)| r);
        if let Some(bottleneck) = route.and_then(|r| r.bottleneck) {
            rate = rate.min(bottleneck.bits_per_s);
        }
        // The layers flow from the registry to the node: what that direction loses holds one
        // TCP connection's rate down.
        let loss = net.packet_loss(self.host, node).unwrap_or(0.0);
        let mss = route.map(|r| f64::from(r.mtu.saturating_sub(crate::network::IP_TCP_HEADERS).max(1)));
        let connections = f64::from(rt.layer_connections.max(1));
        if let (Some(mss), true) = (mss, loss > 0.0) {
            rate = rate.min(connections * tcp_rate_under_loss(mss, rtt.as_secs_f64(), loss));
        }
        // While a `degrade` is in force on the route, its delay lengthens the round trip (once
        // each way) and its loss adds to the route's on the way to the node: Mathis's rate at
        // those holds the download then, and only then.
        let download_windows = RateWindows::new(
            net.route_degradations(self.host, node)
                .into_iter()
                .filter_map(|(start, end, rule)| {
                    let rtt_s = (rtt + rule.delay * 2).as_secs_f64();
                    let lossy = 1.0 - (1.0 - loss) * (1.0 - rule.loss);
                    let held = rate.min(connections * tcp_rate_under_loss(mss?, rtt_s, lossy));
                    (held < rate).then_some((start, end, held))
                })
                .collect(),
        );
        runtime.download_bandwidth = Bandwidth { bits_per_s: rate };
        let outages = crate::pull_outages::overlay(&net.route_down_windows(node, self.host), &self.name, faults, rtt);
        Ok(NodePull {
            rtt,
            runtime,
            outages,
            download_windows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull_outages::OutageKind;

    fn s(x: f64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs_f64(x)
    }

    #[test]
    fn a_cut_download_resumes_with_the_bits_left_at_the_rate_then_in_force() {
        // 10 Mbit/s until 50 s, 20 Mbit/s after. A router crash at 10 s (repaired at 20 s)
        // cuts the download after 100 of its 200 Mbit; the probe at 40 s fails the attempt,
        // Docker dials at 45 s and the 4 round trips of 300 ms end at 46.2 s. The 100 Mbit
        // left: 38 at 10 Mbit/s to 50 s, the other 62 at 20 Mbit/s, to 53.1 s.
        let windows = RateWindows::new(vec![(s(0.0), s(50.0), 10e6)]);
        let outages = Outages::new(
            vec![(s(10.0), s(20.0), OutageKind::RouterCrash)],
            SimDuration::from_millis(300),
        );
        match windows.download(&outages, s(0.0), s(0.0), 200e6, 20e6) {
            Transfer::Done(t) => assert!((t.as_secs_f64() - 53.1).abs() < 1e-6, "{t:?}"),
            failed => panic!("{failed:?}"),
        }
    }
}
