//! The kubelet's side of the status manager ([`crate::status_manager`]): one goroutine that
//! syncs one status at a time, each a GET of the pod and then a PATCH of its status through the
//! kubelet's client, woken by new statuses and by the 10-s `syncBatch` ticker.
//!
//! A sync whose connection is lost while its GET or PATCH is out fails as `syncPod` does in
//! v1.16 ("Failed to update status for pod"): it returns without recording the version sent,
//! so the status stays unsent, and the goroutine goes on with its next sync. Nothing retries
//! that one status but the next `syncBatch`, which lists every status not yet sent. Which
//! losses a call survives is [`Obj::fails_with`]'s: client-go retries a GET after a reset.

use sim_core::trace::Track;
use sim_core::{Context, SimDuration, SimTime};

use super::{status_span_name, Kubelet, Pending};
use crate::api::{CallLoss, Ev, Local, Obj, Phase};
use crate::status_manager::{Sync, STATUS_SYNC_PERIOD};

/// Linux's neighbour (ARP) defaults on the router of the balancer's LAN (VyOS runs Linux;
/// Documentation/networking/ip-sysctl.txt): an entry confirmed by traffic stays usable for the
/// reachable time, drawn from `base_reachable_time_ms` (30 s) times 0.5 to 1.5 (here its mean),
/// then waits `delay_first_probe_time` (5 s) before it probes. Until it fails, the router sends
/// SYNs to the dead host's address and they vanish.
const NEIGHBOUR_USED_AFTER_CRASH: SimDuration = SimDuration::from_secs(35);

/// An address resolution that fails: `ucast_solicit` or `mcast_solicit` (3) probes
/// `retrans_time_ms` (1000 ms) apart; then the router answers what waited for it with ICMP host
/// unreachable, which fails a connect in SYN-SENT (`tcp_v4_err`: "connect: no route to host").
const RESOLUTION_FAILS: SimDuration = SimDuration::from_secs(3);

/// When a SYN leaves after a dial starts: at once, then at Linux's retransmissions (initial
/// RTO `TCP_TIMEOUT_INIT`, 1 s, doubling) within client-go's dial timeout.
const SYN_TIMES: [SimDuration; 5] = [
    SimDuration::from_secs(0),
    SimDuration::from_secs(1),
    SimDuration::from_secs(3),
    SimDuration::from_secs(7),
    SimDuration::from_secs(15),
];

/// The kubelet's dial timeout: `net.Dialer{Timeout: 30 * time.Second}` under its
/// connection-tracking dialer (cmd/kubelet/app/server.go `updateDialer`, v1.16).
const DIAL_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// A stretch in which a kubelet has closed its connections and the balancer is still down.
#[derive(Debug, Clone, Copy)]
pub(super) struct Closed {
    /// When the kubelet closes them.
    closed: SimTime,
    /// When the node status request whose try fails first was sent: if it is answered after
    /// all (its reply already past the balancer at the crash), the kubelet reckons again.
    first_try: SimTime,
    /// When the balancer crashed.
    crash: SimTime,
    /// When it is back.
    back: SimTime,
}

/// The GET that starts `sync`.
pub(super) fn get_of(sync: Sync) -> Obj {
    match sync {
        Sync::Pod(pod, _) => Obj::GetPod(pod),
        Sync::HostNetwork(_) => Obj::GetHostNetworkPod,
    }
}

/// The PATCH that ends `sync`.
pub(super) fn patch_of(sync: Sync) -> Obj {
    match sync {
        Sync::Pod(pod, phase) => Obj::PatchStatus { pod, phase },
        Sync::HostNetwork(_) => Obj::PatchHostNetworkStatus,
    }
}

/// Whether two syncs are of the same pod, whatever status they carry.
fn same_pod(a: Sync, b: Sync) -> bool {
    match (a, b) {
        (Sync::Pod(x, _), Sync::Pod(y, _)) | (Sync::HostNetwork(x), Sync::HostNetwork(y)) => x == y,
        _ => false,
    }
}

impl Kubelet {
    pub(super) fn set_status(&mut self, pod: u32, phase: Phase, ctx: &mut Context<'_, Ev>) {
        self.status.set(pod, phase);
        self.arm_status_tick(ctx);
        self.next_status(ctx);
    }

    /// If the status goroutine is idle, starts its next sync.
    pub(super) fn next_status(&mut self, ctx: &mut Context<'_, Ev>) {
        if self.status_busy {
            return;
        }
        if let Some(sync) = self.status.next(&mut self.status_rng) {
            self.start_sync(sync, ctx);
        }
    }

    /// syncPod: GET the pod; the PATCH follows the reply. While the kubelet's connections are
    /// closed and the balancer is down, the GET's dial fails instead.
    pub(super) fn start_sync(&mut self, sync: Sync, ctx: &mut Context<'_, Ev>) {
        self.status_busy = true;
        let now = ctx.now();
        if let Sync::Pod(pod, Phase::Running) = sync {
            self.times(pod).running_sync_start = Some(now);
        }
        if let Some(i) = self
            .status_failed
            .iter()
            .position(|&(failed, _)| same_pod(failed, sync))
        {
            let (_, at) = self.status_failed.swap_remove(i);
            self.status_failure_wait += now - at;
        }
        // client-go's limiter lets the request go before it dials.
        if let Some(fails_at) = self.dial_fails(self.client.limiter.ready_at(now)) {
            // The try takes its token: it leaves when `ready_at` said.
            let _ = self.client.limiter.reserve(now);
            self.status_dialing = Some((sync, now));
            ctx.send_at(ctx.me(), fails_at, Ev::Local(Local::StatusDialFailed));
            return;
        }
        let id = self.client.send(get_of(sync), ctx);
        self.pending.insert(id, Pending::StatusGet(sync, now));
    }

    /// When a dial begun at `at` fails, while the kubelet's connections are closed, unless the
    /// balancer is back first (then it goes through, held until the balancer takes
    /// connections, [`crate::faults`]). A SYN fails once the router has given up the dead
    /// balancer's address: at the first SYN after its neighbour entry failed, another
    /// resolution later. One that no ICMP can reach (the kubelet's own route to the
    /// balancer cut) waits out the dial timeout.
    fn dial_fails(&self, at: SimTime) -> Option<SimTime> {
        let w = self.conns_closed.iter().find(|w| w.closed <= at && at < w.back)?;
        let conn = &self.client.conn;
        let cut = |t| conn.net.cut_at(conn.host, conn.lb, t) || conn.net.cut_at(conn.lb, conn.host, t);
        let entry_failed = w.crash + NEIGHBOUR_USED_AFTER_CRASH + RESOLUTION_FAILS;
        // The SYN must reach the router, and its ICMP come back.
        let answered = SYN_TIMES
            .iter()
            .map(|&d| at + d)
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
    /// try of its node status round ([`super::heartbeat`]), if the balancer is not back by then.
    /// A crash shorter than that leaves the connections to the reset after the restart.
    pub(super) fn balancer_crashed(&mut self, ctx: &mut Context<'_, Ev>) {
        let crash = ctx.now();
        let net = &self.client.conn.net;
        let Some(&(_, back)) = net.host_down_windows(self.client.conn.lb).iter().find(|w| w.0 == crash) else {
            return;
        };
        let (first_try, closed) = self.heartbeats.connections_closed_after(crash);
        if closed < back {
            self.conns_closed.push(Closed {
                closed,
                first_try,
                crash,
                back,
            });
            ctx.send_at(ctx.me(), closed, Ev::Local(Local::ConnectionsClosed));
        }
    }

    /// `closeAllConns` while the balancer is down: the status sync out (held by the crashed
    /// balancer) fails with its connection; its reply, if one comes, is ignored.
    /// If the node status request it counted on was answered after all, the kubelet reckons
    /// again from now (and closes nothing if the balancer is back first).
    pub(super) fn connections_closed(&mut self, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        let Some(i) = self.conns_closed.iter().position(|w| w.closed == now) else {
            return;
        };
        if !self.heartbeats.still_out(self.conns_closed[i].first_try) {
            let (first_try, closed) = self.heartbeats.connections_closed_after(now);
            let w = &mut self.conns_closed[i];
            if closed < w.back {
                w.first_try = first_try;
                w.closed = closed;
                ctx.send_at(ctx.me(), closed, Ev::Local(Local::ConnectionsClosed));
            } else {
                self.conns_closed.swap_remove(i);
            }
            return;
        }
        if ctx.tracer().enabled() {
            let host = self.name.clone();
            ctx.tracer()
                .instant(|| (Track::new(host, "node status"), "closeAllConns".into(), "api", now));
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

    /// The sync `sync`, begun at `sent`, failed (its call lost as `lost` says): its status stays
    /// unsent for the next `syncBatch`, and the goroutine takes its next sync.
    pub(super) fn status_sync_failed(
        &mut self,
        sync: Sync,
        sent: SimTime,
        lost: Option<CallLoss>,
        ctx: &mut Context<'_, Ev>,
    ) {
        let now = ctx.now();
        if ctx.tracer().enabled() {
            let host = self.name.clone();
            let why = match lost {
                Some(CallLoss::EtcdTimedOut) => "etcd timed out",
                _ => "connection lost",
            };
            let name = format!("{} failed: {why}", status_span_name(sync));
            ctx.tracer()
                .span(|| (Track::new(host, "status manager"), name.into(), "api", sent, now));
        }
        self.status_failures += 1;
        if !self.status_failed.iter().any(|&(failed, _)| same_pod(failed, sync)) {
            self.status_failed.push((sync, now));
        }
        self.status_busy = false;
        // The ticker keeps running while a status is unsent.
        self.arm_status_tick(ctx);
        self.next_status(ctx);
    }

    /// Schedules the next `syncTicker` tick if none is pending. The ticker runs for the
    /// kubelet's whole life; the model schedules only the ticks that can find work (while
    /// statuses are outstanding), which gives the same times without idle events.
    pub(super) fn arm_status_tick(&mut self, ctx: &mut Context<'_, Ev>) {
        if self.status_tick_armed {
            return;
        }
        self.status_tick_armed = true;
        let next = ctx.now().next_tick(self.status_tick_phase, STATUS_SYNC_PERIOD);
        ctx.send_at(ctx.me(), next, Ev::Local(Local::StatusTick));
    }
}
