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
//!   partition. They resume at the first retransmission after the restart. The restarted
//!   OpenVPN starts afresh and, in static-key mode, sends at once; its peers restart their
//!   ends as after a partition (next item).
//! - **A partitioned tunnel** (or an isolated site) keeps TCP connections open; the sender
//!   retransmits with exponential back-off from the connection's round trip plus Linux's
//!   `TCP_RTO_MIN` (200 ms; `tcp_set_rto` on a steady path), doubling, capped at `TCP_RTO_MAX`
//!   = 120 s (include/net/tcp.h), so data resumes at the first retransmission
//!   after the repair. A cut of at least `ping-restart` also restarts the tunnel's ends, and
//!   each restart pauses for [`OPENVPN_RESTART_PAUSE`], during which the tunnel carries nothing
//!   ([`vpn_carries_again`]).
//!
//! - **A degraded tunnel** (a `degrade` fault) adds its own netem rule (delay, normal jitter,
//!   loss) to every message that enters it while the fault lasts; an image download from a
//!   registry on the overlay that crosses it is held, while it lasts, to TCP's rate at the
//!   degraded round trip and loss ([`crate::registry`]).
//!
//! Masters are not handled here: a dead apiserver is the control plane's business
//! ([`crate::control_plane`]), because clients notice it by their own timers, not by TCP.

use std::collections::HashMap;

use sim_core::{SimDuration, SimTime};

use crate::network::{NetemRule, TCP_RTO_MIN};

/// How long a restarting OpenVPN 2.3 tunnel over UDP (no proxy) pauses before it opens its
/// socket again: `socket_restart_pause` starts from `int sec = 2` and changes it only for TCP
/// or a proxy ("Restart pause, 2 second(s)"; OpenVPN 2.3 `src/openvpn/init.c`, read in the code
/// index). A first start does not pause (`do_startup_pause`). VyOS's site-to-site mode uses a
/// shared secret (`--secret` in VyOS 1.2's Perl `vyatta-openvpn` `lib/Vyatta/OpenVPN/Config.pm`,
/// as in vyos-1x's later `interface-openvpn.py` template), OpenVPN's static-key mode: no handshake, so the tunnel carries data as soon as the pause is over.
pub const OPENVPN_RESTART_PAUSE: SimDuration = SimDuration::from_secs(2);

/// When an OpenVPN tunnel whose peer fell silent at `start` carries packets again, if the cause
/// ends at `end`: at `end`, unless an end of the tunnel is then in a restart pause. A peer
/// silent for `ping_restart` makes OpenVPN restart (taking the silence to begin at `start`, a
/// keepalive before it at worst); after the [`OPENVPN_RESTART_PAUSE`] the restarted tunnel
/// waits another `ping_restart` for a packet, and so on: pauses start at
/// `start + ping_restart + k (ping_restart + pause)`. A `ping_restart` of 0 turns the restart off,
/// as `--ping-restart 0` does (OpenVPN arms the timer only `if (c->options.ping_rec_timeout)`):
/// the tunnel carries again at `end`.
pub fn vpn_carries_again(start: SimTime, end: SimTime, ping_restart: SimDuration) -> SimTime {
    if ping_restart.is_zero() || end == SimTime::MAX || end.saturating_since(start) < ping_restart {
        return end;
    }
    let cycle = (ping_restart + OPENVPN_RESTART_PAUSE).as_nanos();
    let into = (end.saturating_since(start) - ping_restart).as_nanos();
    let pause_start = start + ping_restart + SimDuration::from_nanos(into / cycle * cycle);
    end.max(pause_start + OPENVPN_RESTART_PAUSE)
}

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

/// `windows` as the fewest windows covering the same instants: sorted, and those that overlap
/// or touch joined (a crash repaired as the next begins is one outage).
pub fn merged(mut windows: Vec<(SimTime, SimTime)>) -> Vec<(SimTime, SimTime)> {
    windows.sort_unstable();
    let mut out: Vec<(SimTime, SimTime)> = Vec::with_capacity(windows.len());
    for w in windows {
        match out.last_mut() {
            Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
            _ => out.push(w),
        }
    }
    out
}

/// The window of `windows` that contains `t`, if any.
pub fn covering(windows: &[(SimTime, SimTime)], t: SimTime) -> Option<(SimTime, SimTime)> {
    windows.iter().copied().find(|&(s, e)| s <= t && t < e)
}

/// When TCP's next retransmission after a loss starting at `start` falls at or after `end`, on
/// a connection whose smoothed round trip is `srtt`: retransmissions at `start + RTO x (2^k -
/// 1)`, the first timeout `RTO = srtt + TCP_RTO_MIN` (Linux's `tcp_set_rto` on a steady path,
/// as [`crate::network::retransmission_cost`] takes it), the interval doubling up to
/// `TCP_RTO_MAX` ([`crate::network::first_resend_at_or_after`]); [`SimTime::MAX`] if `end` is
/// (a loss never repaired).
pub fn next_retransmission(start: SimTime, end: SimTime, srtt: SimDuration) -> SimTime {
    crate::network::first_resend_at_or_after(start, end, srtt + TCP_RTO_MIN)
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

    /// The silence that covers `t` among `windows`: its start, and when the tunnels carry again
    /// (the window's end, or a restart pause's end after it: [`vpn_carries_again`]).
    fn silencing(&self, windows: &[(SimTime, SimTime)], t: SimTime) -> Option<(SimTime, SimTime)> {
        windows
            .iter()
            .map(|&(s, e)| (s, vpn_carries_again(s, e, self.ping_restart)))
            .find(|&(s, back)| s <= t && t < back)
    }

    /// The silence of router `h`'s crash that covers `t`: its start, and when it ends.
    fn router_window(&self, h: u32, t: SimTime) -> Option<(SimTime, SimTime)> {
        self.silencing(self.routers.get(&h)?, t)
    }

    /// The silence that covers the tunnel between sites `a` and `b` at `t` (its own partition,
    /// or the isolation of a site at one of its ends): its start, and when it ends.
    fn tunnel_window(&self, a: u32, b: u32, t: SimTime) -> Option<(SimTime, SimTime)> {
        self.tunnels
            .get(&(a.min(b), a.max(b)))
            .and_then(|w| self.silencing(w, t))
            .or_else(|| self.sites.get(&a).and_then(|w| self.silencing(w, t)))
            .or_else(|| self.sites.get(&b).and_then(|w| self.silencing(w, t)))
    }

    /// When a connection's data, held by an outage that began at `start` and carrying again at
    /// `back`, gets through: at TCP's first retransmission at or after `back`, on the back-off
    /// schedule begun at `start` (a segment resent before `back`, in the outage or in a restart
    /// pause after it, is lost too). A message sent during the outage or the pause queues
    /// behind the connection's unacknowledged data, so it keeps that schedule as well.
    fn resend_after(start: SimTime, back: SimTime, srtt: SimDuration) -> SimTime {
        if back == SimTime::MAX {
            SimTime::MAX
        } else {
            next_retransmission(start, back, srtt)
        }
    }

    /// When a message that reaches router `h` at `t` gets through, if `h` is crashed then: at
    /// TCP's first retransmission after its tunnels carry again ([`Outages::router_back`]), on
    /// a connection of smoothed round trip `srtt`.
    pub fn router_hold(&self, h: u32, t: SimTime, srtt: SimDuration) -> Option<SimTime> {
        let (start, back) = self.router_window(h, t)?;
        Some(Self::resend_after(start, back, srtt))
    }

    /// When crashed router `h`, down at `t`, carries packets again: at its restart (its fresh
    /// OpenVPN sends at once), unless its peers, silent towards it since the crash, are then
    /// in a restart pause ([`vpn_carries_again`]). Unlike [`Outages::router_hold`], without the
    /// first TCP resend after it, which is each connection's own.
    pub fn router_back(&self, h: u32, t: SimTime) -> Option<SimTime> {
        self.router_window(h, t).map(|(_, back)| back)
    }

    /// When the tunnel between sites `a` and `b`, down at `t`, carries packets again: at the
    /// repair, unless its ends are then in a restart pause ([`vpn_carries_again`]). Unlike
    /// [`Outages::tunnel_hold`], without the first TCP resend after it.
    pub fn tunnel_back(&self, a: u32, b: u32, t: SimTime) -> Option<SimTime> {
        self.tunnel_window(a, b, t).map(|(_, back)| back)
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
    pub fn tunnel_hold(&self, a: u32, b: u32, t: SimTime, srtt: SimDuration) -> Option<SimTime> {
        let (start, back) = self.tunnel_window(a, b, t)?;
        Some(Self::resend_after(start, back, srtt))
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

    /// The first timeout is the round trip plus 200 ms, then it doubles: on a LAN, 0.2, 0.6,
    /// 1.4, 3.0, 6.2 s after the start; over a 300-ms round trip, 0.5, 1.5, 3.5, 7.5 s (the
    /// model started every connection from 200 ms until a review).
    #[test]
    fn retransmissions_back_off_from_the_round_trip_plus_200ms() {
        let s = SimTime::from_secs(10);
        let lan = SimDuration::ZERO;
        assert_eq!(
            next_retransmission(s, s + SimDuration::from_millis(500), lan),
            s + SimDuration::from_millis(600)
        );
        assert_eq!(
            next_retransmission(s, s + SimDuration::from_secs(5), lan),
            s + SimDuration::from_millis(6200)
        );
        let wan = SimDuration::from_millis(300);
        assert_eq!(
            next_retransmission(s, s + SimDuration::from_secs(5), wan),
            s + SimDuration::from_millis(7500)
        );
    }

    #[test]
    fn a_tunnel_carries_again_at_the_repair_unless_a_restart_pause_holds_it() {
        let s = SimTime::from_secs;
        let restart = SimDuration::from_secs(60);
        // Shorter than ping-restart: no restart.
        assert_eq!(vpn_carries_again(s(10), s(69), restart), s(69));
        // Restarts at 70 (pause to 72), 132 (to 134), 194 (to 196), ...
        assert_eq!(vpn_carries_again(s(10), s(70), restart), s(72));
        assert_eq!(vpn_carries_again(s(10), s(71), restart), s(72));
        assert_eq!(vpn_carries_again(s(10), s(72), restart), s(72));
        assert_eq!(vpn_carries_again(s(10), s(100), restart), s(100));
        // 0: no restart, however long the silence.
        assert_eq!(vpn_carries_again(s(10), s(100), SimDuration::ZERO), s(100));
        assert_eq!(vpn_carries_again(s(10), s(133), restart), s(134));
        assert_eq!(vpn_carries_again(s(10), s(150), restart), s(150));
        assert_eq!(vpn_carries_again(s(10), SimTime::MAX, restart), SimTime::MAX);
    }

    #[test]
    fn long_partitions_and_router_crashes_restart_the_tunnel() {
        let mut o = Outages {
            ping_restart: SimDuration::from_secs(60),
            ..Outages::default()
        };
        o.tunnels
            .insert((0, 1), vec![(SimTime::from_secs(10), SimTime::from_secs(71))]);
        o.routers
            .insert(7, vec![(SimTime::from_secs(10), SimTime::from_secs(30))]);
        // The repair falls in the pause of the restart at 70: carried from 72, then TCP's
        // first resend after it.
        assert_eq!(
            o.tunnel_back(1, 0, SimTime::from_secs(20)),
            Some(SimTime::from_secs(72))
        );
        let lan = SimDuration::ZERO;
        let held = o.tunnel_hold(1, 0, SimTime::from_secs(20), lan).unwrap();
        assert_eq!(
            held,
            next_retransmission(SimTime::from_secs(10), SimTime::from_secs(72), lan)
        );
        // A retransmission that falls in the pause is lost: the next one after it gets through.
        let mut short = Outages {
            ping_restart: SimDuration::from_secs(12),
            ..Outages::default()
        };
        short.tunnels.insert(
            (0, 1),
            vec![(SimTime::ZERO, SimTime::from_secs(12) + SimDuration::from_millis(300))],
        );
        // Resends at 0.2, 0.6, 1.4, 3.0, 6.2, 12.6, 25.4 s; the pause holds the tunnel until 14 s.
        assert_eq!(
            short.tunnel_hold(0, 1, SimTime::from_secs(5), lan),
            Some(SimTime::from_secs(25) + SimDuration::from_millis(400))
        );
        // A message sent after the repair but in the pause waits for it too, behind the
        // connection's unacknowledged data: the same retransmission.
        let in_pause = SimTime::from_secs(71) + SimDuration::from_millis(500);
        assert_eq!(o.tunnel_hold(0, 1, in_pause, lan), Some(held));
        assert_eq!(o.tunnel_hold(0, 1, SimTime::from_secs(72), lan), None);
        assert_eq!(o.tunnel_hold(0, 2, SimTime::from_secs(20), lan), None);
        // A 20-s router crash restarts nothing: carried at the restart.
        assert_eq!(o.router_back(7, SimTime::from_secs(15)), Some(SimTime::from_secs(30)));
    }
}
