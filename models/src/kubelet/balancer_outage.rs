//! A load balancer outage as a kubelet lives it: v1.16's kubelet closes all its connections
//! (`closeAllConns`) when a round of its node status loop or of its Lease controller has failed
//! twice, and from then until the
//! balancer is back each status sync's dial fails, when the router on the balancer's LAN has
//! given up the dead balancer's address, or at the dial timeout ([`super::status`]).

use sim_core::trace::Track;
use sim_core::{Context, SimDuration, SimTime};

use super::heartbeat::Reckoning;
use super::{Kubelet, Pending};
use crate::api::{CallLoss, Ev, Local};

/// How long after the balancer's crash the router of its LAN goes on using its neighbour (ARP)
/// entry for the dead balancer, on average, by Linux's defaults (VyOS runs Linux;
/// Documentation/networking/ip-sysctl.txt). The router forwards the kubelets' traffic, and
/// forwarded traffic confirms no entry (only a local socket's ACKs do, `dst_confirm`), so the
/// entry cycles: usable for the reachable time, drawn from `base_reachable_time_ms` (30 s)
/// times 0.5 to 1.5, then `delay_first_probe_time` (5 s), then a unicast probe that the live
/// balancer answered, which confirms it again. Linux draws the reachable time for the whole
/// table every 300 s (`neigh_periodic_work`), so the cycle C is one length, uniform over 20 to
/// 50 s, for many cycles, and a crash at a uniform instant of it meets the next probe C / 2
/// later: E[C] / 2 = 17.5 s on average (derived; the model used 35 s, the wait of an entry
/// confirmed at the crash, until a review). Until it fails, the router sends SYNs to the dead
/// host's address and they vanish.
const NEIGHBOUR_USED_AFTER_CRASH: SimDuration = SimDuration::from_millis(17_500);

/// An address resolution that fails: `ucast_solicit` or `mcast_solicit` (3) probes
/// `retrans_time_ms` (1000 ms) apart; then the router answers what waited for it with ICMP host
/// unreachable, which fails a connect in SYN-SENT (`tcp_v4_err`: "connect: no route to host").
const RESOLUTION_FAILS: SimDuration = SimDuration::from_secs(3);

/// The kubelet's dial timeout: `net.Dialer{Timeout: 30 * time.Second}` under its
/// connection-tracking dialer, client-go's. kubeadm turns certificate rotation on, so the dialer
/// is the one pkg/kubelet/certificate/transport.go `updateTransport` builds; without rotation
/// cmd/kubelet/app/server.go `updateDialer` builds the same (kubernetes PR #78016 copied it).
const DIAL_TIMEOUT: SimDuration = crate::network::CLIENT_DIAL_TIMEOUT;

/// A stretch in which a kubelet has closed its connections and the balancer is still down.
#[derive(Debug, Clone, Copy)]
pub(super) struct Closed {
    /// When the kubelet closes them, and the heartbeat request whose try fails first: if that
    /// is answered after all (its reply already past the balancer at the crash), the kubelet
    /// reckons again.
    reckoning: Reckoning,
    /// When the balancer crashed.
    crash: SimTime,
    /// When it is back.
    back: SimTime,
}

impl Kubelet {
    /// When a dial begun at `at` fails, while the kubelet's connections are closed, unless the
    /// balancer is back first (then it goes through, held until the balancer takes
    /// connections, [`crate::faults`]). A SYN fails once the router has given up the dead
    /// balancer's address: at the first SYN after its neighbour entry failed, another
    /// resolution later. One that no ICMP can reach (the kubelet's own route to the
    /// balancer cut) waits out the dial timeout.
    pub(super) fn dial_fails(&self, at: SimTime) -> Option<SimTime> {
        let w = self
            .conns_closed
            .iter()
            .find(|w| w.reckoning.closed <= at && at < w.back)?;
        let conn = &self.client.conn;
        let cut = |t| conn.net.cut_between(conn.host, conn.lb, t);
        let entry_failed = w.crash + NEIGHBOUR_USED_AFTER_CRASH + RESOLUTION_FAILS;
        // The SYN must reach the router, and its ICMP come back. A SYN leaves at once, then at
        // Linux's retransmissions (initial RTO `TCP_TIMEOUT_INIT`, 1 s, doubling) within the
        // dial timeout.
        let answered = crate::network::dial_syns(DIAL_TIMEOUT)
            .map(|d| at + d)
            .find(|&syn| syn >= entry_failed && !cut(syn) && !cut(syn + RESOLUTION_FAILS))
            .map(|syn| syn + RESOLUTION_FAILS);
        let fails_at = answered.map_or(at + DIAL_TIMEOUT, |t| t.min(at + DIAL_TIMEOUT));
        (fails_at < w.back).then_some(fails_at)
    }

    /// Arms, for each crash of the load balancer, the kubelet's reckoning of when it will close
    /// its connections ([`Kubelet::balancer_crashed`]).
    pub(super) fn plan_closed_connections(&mut self, ctx: &mut Context<'_, Ev>) {
        let net = &self.client.conn.net;
        let crashes: Vec<SimTime> = net.host_down_windows(self.client.conn.lb).iter().map(|w| w.0).collect();
        for crash in crashes {
            ctx.send_at(ctx.me(), crash, Ev::Local(Local::BalancerCrashed));
        }
    }

    /// The balancer crashed now: the kubelet will close its connections at the second failed
    /// try of a heartbeat round, the first of its two loops' ([`super::heartbeat`]), if the
    /// balancer is not back by then.
    /// A crash shorter than that leaves the connections to the reset after the restart.
    pub(super) fn balancer_crashed(&mut self, ctx: &mut Context<'_, Ev>) {
        let crash = ctx.now();
        let net = &self.client.conn.net;
        let Some(&(_, back)) = net.host_down_windows(self.client.conn.lb).iter().find(|w| w.0 == crash) else {
            return;
        };
        let reckoning = self.heartbeats.connections_closed_after(crash);
        if reckoning.closed < back {
            self.conns_closed.push(Closed { reckoning, crash, back });
            ctx.send_at(ctx.me(), reckoning.closed, Ev::Local(Local::ConnectionsClosed));
        }
    }

    /// `closeAllConns` while the balancer is down: the status sync out (held by the crashed
    /// balancer) fails with its connection; its reply, if one comes, is ignored.
    /// If the heartbeat request it counted on was answered after all, the kubelet reckons
    /// again from now (and closes nothing if the balancer is back first).
    pub(super) fn connections_closed(&mut self, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        let Some(i) = self.conns_closed.iter().position(|w| w.reckoning.closed == now) else {
            return;
        };
        if !self.heartbeats.still_out(&self.conns_closed[i].reckoning) {
            let reckoning = self.heartbeats.connections_closed_after(now);
            let w = &mut self.conns_closed[i];
            if reckoning.closed < w.back {
                w.reckoning = reckoning;
                ctx.send_at(ctx.me(), reckoning.closed, Ev::Local(Local::ConnectionsClosed));
            } else {
                self.conns_closed.swap_remove(i);
            }
            return;
        }
        if ctx.tracer().enabled() {
            let host = self.name.clone();
            let track = self.conns_closed[i].reckoning.by.track();
            ctx.tracer()
                .instant(|| (Track::new(host, track), "closeAllConns".into(), "api", now));
        }
        let out = self.pending.iter().find_map(|(&id, p)| match *p {
            Pending::StatusGet(sync, sent) | Pending::StatusPatch(sync, sent) => Some((id, sync, sent)),
            Pending::SecretList => None,
        });
        if let Some((id, sync, sent)) = out {
            self.pending.remove(&id);
            self.status_sync_failed(sync, sent, Some(CallLoss::Closed), ctx);
        }
    }
}
