//! When parts of the testbed are down, and what a message crossing them waits for.
//!
//! Faults are known in advance (the scenario's `[[faults]]`), so availability is a function of
//! time: a message sent across a failed element is *held* until the element is back, then pays
//! the cost of getting going again. That is what TCP does across the testbed's failures:
//!
//! - **A crashed load balancer** loses the connections it proxies (HAProxy in TCP mode ends
//!   each client's connection); after the restart the client's next segment is answered with a
//!   reset and it reconnects: a TCP handshake and a TLS 1.2 handshake, 3 round trips of the
//!   route.
//! - **A crashed router** is a routed hop and OpenVPN endpoint holding no TCP state of the
//!   connections it carries (the tunnels are routed, no NAT): to their ends it looks like a
//!   partition. They resume at the first retransmission after the restart, and not before the
//!   restarted OpenVPN has renegotiated its tunnels (about 4 round trips of the underlay).
//! - **A partitioned tunnel** (or an isolated site) keeps TCP connections open; the sender
//!   retransmits with exponential back-off from Linux's `TCP_RTO_MIN` (200 ms, doubling, capped
//!   at `TCP_RTO_MAX` = 120 s: include/net/tcp.h), so data resumes at the first retransmission
//!   after the repair. A partition longer than OpenVPN's `ping-restart` also restarts the tunnel:
//!   a TLS renegotiation of about 4 round trips on the underlay before anything passes.
//!
//! - **A degraded tunnel** (a `degrade` fault) adds its own netem rule (delay, normal jitter,
//!   loss) to every message that enters it while the fault lasts; an image download from a
//!   registry on the overlay that crosses it is held, while it lasts, to TCP's rate at the
//!   degraded round trip and loss ([`crate::registry`]).
//!
//! Masters are not handled here: a dead apiserver is the control plane's business
//! ([`crate::control_plane`]), because clients notice it by their own timers, not by TCP.

use std::collections::HashMap;

/// Round trips of the underlay a restarted OpenVPN tunnel needs before it carries data again.
/// Derived from OpenVPN's TLS mode (2.3.4 on the thesis's VyOS routers), not measured: the reliability layer's reset exchange
/// (`P_CONTROL_HARD_RESET_CLIENT_V2` and its answer, 1 round trip), a full TLS 1.2 handshake
/// over the control channel (2), and the key-method-2 exchange of key material and options (1);
/// the ACKs ride on these. The steps are those of "OpenVPN Protocol"
/// (<https://openvpn.net/community-resources/openvpn-protocol/>, taken from `ssl.h`:
/// `P_CONTROL_HARD_RESET_CLIENT_V2` / `_SERVER_V2`, the TLS handshake in `P_CONTROL` messages,
/// then key method 2); site to site there is no `PUSH_REQUEST` to add.
pub const OPENVPN_RENEGOTIATION_ROUND_TRIPS: u64 = 4;

use sim_core::{SimDuration, SimTime};

use crate::network::{NetemRule, TCP_RTO_MIN};

/// A window `[start, end)` during which a tunnel carries an extra netem rule.
pub type Degradation = (SimTime, SimTime, NetemRule);

/// Down windows `[start, end)` of the elements a message may cross.
#[derive(Debug, Clone, Default)]
pub struct Outages {
    /// Per host id: windows when the load balancer is down.
    pub hosts: HashMap<u32, Vec<(SimTime, SimTime)>>,
    /// Per router host id: windows when it is crashed.
    pub routers: HashMap<u32, Vec<(SimTime, SimTime)>>,
    /// Per site pair (smaller index first): windows when their tunnel carries nothing.
    pub tunnels: HashMap<(u32, u32), Vec<(SimTime, SimTime)>>,
    /// Per site: windows when its uplink is down (every tunnel to it).
    pub sites: HashMap<u32, Vec<(SimTime, SimTime)>>,
    /// OpenVPN's `ping-restart`: partitions at least this long restart the tunnel.
    pub ping_restart: SimDuration,
    /// Per site pair: windows when the tunnel carries an extra netem rule (a `degrade` fault).
    pub degraded: HashMap<(u32, u32), Vec<Degradation>>,
}

/// The window of `windows` that contains `t`, if any.
pub fn covering(windows: &[(SimTime, SimTime)], t: SimTime) -> Option<(SimTime, SimTime)> {
    windows.iter().copied().find(|&(s, e)| s <= t && t < e)
}

/// When TCP's next retransmission after a loss starting at `start` falls at or after `end`:
/// retransmissions at `start + RTO_MIN x (2^k - 1)`, the interval doubling up to `TCP_RTO_MAX`
/// ([`crate::network::first_resend_at_or_after`] from `TCP_RTO_MIN`).
pub fn next_retransmission(start: SimTime, end: SimTime) -> SimTime {
    crate::network::first_resend_at_or_after(start, end, TCP_RTO_MIN)
}

/// Two netem rules one after the other, as stacked qdiscs apply them: their delays add, their
/// jitters (independent normals) add in quadrature, and a packet survives only if it survives
/// each loss.
pub fn stack(sum: NetemRule, r: NetemRule) -> NetemRule {
    let jitter = (sum.jitter.as_secs_f64().powi(2) + r.jitter.as_secs_f64().powi(2)).sqrt();
    NetemRule {
        delay: sum.delay + r.delay,
        jitter: SimDuration::from_secs_f64(jitter),
        loss: 1.0 - (1.0 - sum.loss) * (1.0 - r.loss),
    }
}

impl Outages {
    /// The extra rule on the tunnel between sites `a` and `b` at `t`, if it is degraded then.
    /// Overlapping degradations add up, as stacked netem qdiscs would: their delays add, their
    /// jitters (independent normals) add in quadrature, and a packet survives only if it
    /// survives each loss.
    pub fn degradation(&self, a: u32, b: u32, t: SimTime) -> Option<NetemRule> {
        let mut active = self
            .degraded
            .get(&(a.min(b), a.max(b)))?
            .iter()
            .filter(|w| w.0 <= t && t < w.1)
            .map(|w| w.2);
        let first = active.next()?;
        Some(active.fold(first, stack))
    }

    /// When every lossy degradation of the tunnel between sites `a` and `b` in force at `t` has
    /// ended ([`SimTime::MAX`] if one never does), if one is in force.
    pub fn lossy_degradation_end(&self, a: u32, b: u32, t: SimTime) -> Option<SimTime> {
        self.degraded
            .get(&(a.min(b), a.max(b)))?
            .iter()
            .filter(|w| w.0 <= t && t < w.1 && w.2.loss > 0.0)
            .map(|w| w.1)
            .max()
    }

    /// Whether nothing is ever down.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.routers.is_empty() && self.tunnels.is_empty() && self.sites.is_empty()
    }

    /// The window of router `h`'s crash that covers `t`.
    fn router_window(&self, h: u32, t: SimTime) -> Option<(SimTime, SimTime)> {
        covering(self.routers.get(&h)?, t)
    }

    /// The window that cuts the tunnel between sites `a` and `b` at `t`: its own partition, or
    /// the isolation of a site at one of its ends.
    fn tunnel_window(&self, a: u32, b: u32, t: SimTime) -> Option<(SimTime, SimTime)> {
        self.tunnels
            .get(&(a.min(b), a.max(b)))
            .and_then(|w| covering(w, t))
            .or_else(|| self.sites.get(&a).and_then(|w| covering(w, t)))
            .or_else(|| self.sites.get(&b).and_then(|w| covering(w, t)))
    }

    /// When a connection's data, held by an outage `[start, end)` that the route carries
    /// packets again after at `back`, gets through: at TCP's first retransmission after that.
    fn resend_after(start: SimTime, end: SimTime, back: SimTime) -> SimTime {
        if back == SimTime::MAX {
            SimTime::MAX
        } else {
            next_retransmission(start, end).max(back)
        }
    }

    /// When a message that reaches router `h` at `t` gets through, if `h` is crashed then: at
    /// TCP's first retransmission after the restart, once the restarted OpenVPN has renegotiated
    /// ([`OPENVPN_RENEGOTIATION_ROUND_TRIPS`] of `underlay_rtt`).
    pub fn router_hold(&self, h: u32, t: SimTime, underlay_rtt: SimDuration) -> Option<SimTime> {
        let (start, end) = self.router_window(h, t)?;
        Some(Self::resend_after(start, end, self.router_back(h, t, underlay_rtt)?))
    }

    /// When crashed router `h`, down at `t`, carries packets again: at its restart, once the
    /// restarted OpenVPN has renegotiated ([`OPENVPN_RENEGOTIATION_ROUND_TRIPS`] of
    /// `underlay_rtt`). Unlike
    /// [`Outages::router_hold`], without the first TCP resend after it, which is each
    /// connection's own.
    pub fn router_back(&self, h: u32, t: SimTime, underlay_rtt: SimDuration) -> Option<SimTime> {
        let (_, end) = self.router_window(h, t)?;
        Some(if end == SimTime::MAX {
            SimTime::MAX
        } else {
            end + underlay_rtt * OPENVPN_RENEGOTIATION_ROUND_TRIPS
        })
    }

    /// When the tunnel between sites `a` and `b`, down at `t`, carries packets again: at the
    /// repair, after OpenVPN's restart if the cut outlasted `ping-restart`. Unlike
    /// [`Outages::tunnel_hold`], without the first TCP resend after it.
    pub fn tunnel_back(&self, a: u32, b: u32, t: SimTime, underlay_rtt: SimDuration) -> Option<SimTime> {
        let (start, end) = self.tunnel_window(a, b, t)?;
        Some(if end == SimTime::MAX {
            SimTime::MAX
        } else if end - start >= self.ping_restart {
            end + underlay_rtt * OPENVPN_RENEGOTIATION_ROUND_TRIPS
        } else {
            end
        })
    }

    /// When host `h` (the load balancer), down at `t`, is back.
    pub fn host_back(&self, h: u32, t: SimTime) -> Option<SimTime> {
        covering(self.hosts.get(&h)?, t).map(|(_, end)| end)
    }

    /// When a message that reaches host `h` at `t` can go on, if `h` is down then: the end of
    /// the outage plus a reconnection of `reconnect`.
    pub fn host_hold(&self, h: u32, t: SimTime, reconnect: SimDuration) -> Option<SimTime> {
        Some(self.host_back(h, t)? + reconnect)
    }

    /// When a message entering the tunnel between sites `a` and `b` at `t` gets through, if the
    /// tunnel is down then: at TCP's first retransmission after the tunnel carries again.
    /// `underlay_rtt` prices the OpenVPN restart after a long partition.
    pub fn tunnel_hold(&self, a: u32, b: u32, t: SimTime, underlay_rtt: SimDuration) -> Option<SimTime> {
        let (start, end) = self.tunnel_window(a, b, t)?;
        Some(Self::resend_after(start, end, self.tunnel_back(a, b, t, underlay_rtt)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two degradations of one tunnel at once add up, whichever was listed first.
    #[test]
    fn overlapping_degradations_add_up_in_any_order() {
        let rule = |ms: u64, jitter_ms: u64, loss: f64| NetemRule {
            delay: SimDuration::from_millis(ms),
            jitter: SimDuration::from_millis(jitter_ms),
            loss,
        };
        let (a, b) = (rule(100, 30, 0.5), rule(5000, 40, 0.5));
        let at = |rules: [NetemRule; 2]| {
            let mut o = Outages::default();
            o.degraded.insert(
                (0, 1),
                vec![
                    (SimTime::ZERO, SimTime::from_secs(20), rules[0]),
                    (SimTime::ZERO, SimTime::MAX, rules[1]),
                ],
            );
            o
        };
        let t = SimTime::from_secs(10);
        let both = at([a, b]).degradation(1, 0, t).unwrap();
        assert_eq!(both, at([b, a]).degradation(0, 1, t).unwrap());
        assert_eq!(both.delay, SimDuration::from_millis(5100));
        assert_eq!(both.jitter, SimDuration::from_millis(50));
        assert!((both.loss - 0.75).abs() < 1e-12);
        // After the first ends, the second alone.
        assert_eq!(at([a, b]).degradation(0, 1, SimTime::from_secs(30)), Some(b));
    }

    #[test]
    fn retransmissions_back_off_from_200ms() {
        let s = SimTime::from_secs(10);
        // 0.2, 0.6, 1.4, 3.0, 6.2 s after the start.
        assert_eq!(
            next_retransmission(s, s + SimDuration::from_millis(500)),
            s + SimDuration::from_millis(600)
        );
        assert_eq!(
            next_retransmission(s, s + SimDuration::from_secs(5)),
            s + SimDuration::from_millis(6200)
        );
    }

    #[test]
    fn long_partitions_restart_the_tunnel() {
        let mut o = Outages {
            ping_restart: SimDuration::from_secs(60),
            ..Outages::default()
        };
        o.tunnels
            .insert((0, 1), vec![(SimTime::from_secs(10), SimTime::from_secs(100))]);
        let rtt = SimDuration::from_millis(50);
        let t = o.tunnel_hold(1, 0, SimTime::from_secs(20), rtt).unwrap();
        assert!(t >= SimTime::from_secs(100) + rtt * OPENVPN_RENEGOTIATION_ROUND_TRIPS);
        assert_eq!(o.tunnel_hold(0, 1, SimTime::from_secs(100), rtt), None);
        assert_eq!(o.tunnel_hold(0, 2, SimTime::from_secs(20), rtt), None);
    }
}
