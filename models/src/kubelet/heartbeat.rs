//! A kubelet's two heartbeat loops in v1.16, with the `NodeLease` feature (beta, on by default):
//!
//! - **The Lease controller** (pkg/kubelet/nodelease/controller.go) renews the node's Lease in
//!   `kube-node-lease` every quarter of `nodeLeaseDurationSeconds` (10 s) with one PUT (an etcd
//!   write) of the Lease it last wrote: since kubernetes PR #81174, in v1.16.0 ("Kubelet now
//!   will try to update lease using cached one instead of get from API Server every time"), it
//!   GETs the Lease only when it has none or an update failed, which a kubelet that has run
//!   before the experiment does not meet; since PR #81663, also in v1.16.0, that PUT is
//!   `retryUpdateLease`'s, up to five tries, the second failure calling the kubelet's
//!   `onRepeatedHeartbeatFailure`. The node lifecycle controller takes the renewal as
//!   the node's heartbeat.
//! - **The node status loop** (`syncNodeStatus`, pkg/kubelet/kubelet_node_status.go) runs every
//!   `--node-status-update-frequency` (10 s): it reads the Node from the apiserver's cache
//!   (`resourceVersion=0` on the first try) and PATCHes its status only if the status changed
//!   or `nodeStatusReportFrequency` (1 min in v1.16) has passed. While pods start, the one change
//!   is the node's image list, after its first download, as the image manager's cache shows it:
//!   the cache is refreshed from the runtime every 30 s ([`IMAGE_LIST_REFRESH`]), so a new image
//!   is written at the first status round after the first refresh after its download.
//!
//! Both run on the unthrottled heartbeat client, each one request at a time (`wait.Until` does
//! not start a loop's next round before the last returned): a tick that finds its loop's last
//! request still out is skipped, and the ticks stay on their grid. A simplification: v1.16's
//! `wait.Until` is sliding (`JitterUntil(f, period, 0.0, true, ...)`: "the period is computed
//! after f runs"), so each round starts a period after the last one ended, and the loops drift
//! later by a round's length each period (about 1 s a round with 500 ms each way; apimachinery
//! `pkg/util/wait/wait.go`). No pod waits for either loop; the grid only makes their load on
//! the apiserver, and the node lifecycle controller's view of the renewals, a few % denser.

use sim_core::rng::uniform_within;
use sim_core::trace::Track;
use sim_core::{Context, SimDuration, SimTime};

use crate::api::{Ev, Local, Obj};
use crate::client::Client;
use crate::spec::Kubelet as KubeletCfg;

/// The key of the stream the heartbeat loops' phases are drawn from (apart from the kubelet's
/// other draws, so that they move none of them).
const HEARTBEAT_PHASES: u64 = 0x004c_4541_5345; // "LEASE"

/// How often the kubelet's image manager refreshes the image list that the node status reports:
/// v1.16 pkg/kubelet/images/image_gc_manager.go, `realImageGCManager.Start`, a goroutine
/// `wait.Until(... im.runtime.ListImages() ... im.imageCache.set(images), 30*time.Second, ...)`;
/// `GetImageList`, which the node status's image setter calls, returns that cache. A constant in
/// the kubelet, not a flag.
pub(super) const IMAGE_LIST_REFRESH: SimDuration = SimDuration::from_secs(30);

/// One of a kubelet's two heartbeat loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Loop {
    /// The node status loop (`syncNodeStatus`).
    NodeStatus,
    /// The Lease controller.
    Lease,
}

impl Loop {
    /// The name of the loop's track in a trace, under its node.
    pub(super) fn track(self) -> &'static str {
        match self {
            Loop::NodeStatus => "node status",
            Loop::Lease => "node lease",
        }
    }
}

/// How many tries a round makes before it gives up: `nodeStatusUpdateRetry` (5,
/// pkg/kubelet/kubelet.go, v1.16) for the node status loop, `maxUpdateRetries` (5,
/// pkg/kubelet/nodelease/controller.go) for the Lease controller's `retryUpdateLease`.
const ROUND_TRIES: u64 = 5;

/// When a kubelet that hears nothing more from some instant on closes all its connections, and
/// the round that decides it: the first of its two loops to fail twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reckoning {
    /// The loop whose round fails twice first.
    pub(super) by: Loop,
    /// When that round's request whose try fails first was sent.
    pub(super) first_try: SimTime,
    /// When the kubelet closes its connections: that round's second failure.
    pub(super) closed: SimTime,
}

/// A kubelet's Lease controller and node status loop: their periods and their requests out.
#[derive(Debug)]
pub(super) struct Heartbeats {
    status_period: SimDuration,
    /// The node status loop's ticks fall at `status_phase + k · status_period`.
    status_phase: SimDuration,
    /// The heartbeat client's timeout per request ([`KubeletCfg::heartbeat_timeout`]).
    timeout: SimDuration,
    /// When the node status loop's request now out (its GET or its PATCH) was sent.
    out_since: Option<SimTime>,
    /// When the node status round now out began (its tick).
    round_started: SimTime,
    report_period: SimDuration,
    lease_period: SimDuration,
    /// The Lease controller's ticks fall at `lease_phase + k · lease_period`.
    lease_phase: SimDuration,
    /// The node status loop's GET of the Node, if out.
    node_get: Option<u32>,
    /// Its PATCH of the node status, if out.
    node_patch: Option<u32>,
    /// The Lease controller's PUT, if out: its call and when it was sent.
    lease_put: Option<(u32, SimTime)>,
    /// When an unchanged status is next due to be reported.
    next_report: SimTime,
    /// When the image cache first shows an image downloaded since the status was last written
    /// (`None`: no such image).
    images_shown_at: Option<SimTime>,
    /// The phase of the image cache's refreshes: they run at `image_refresh_phase + k · 30 s`.
    image_refresh_phase: SimDuration,
}

impl Heartbeats {
    /// The loops of a kubelet configured as `cfg`, not yet started.
    pub(super) fn new(cfg: &KubeletCfg) -> Heartbeats {
        Heartbeats {
            status_period: cfg.node_status_update.get(),
            status_phase: SimDuration::ZERO,
            timeout: cfg.heartbeat_timeout(),
            out_since: None,
            round_started: SimTime::ZERO,
            report_period: cfg.node_status_report.get(),
            lease_period: cfg.lease_renew_interval(),
            lease_phase: SimDuration::ZERO,
            node_get: None,
            node_patch: None,
            lease_put: None,
            next_report: SimTime::ZERO,
            images_shown_at: None,
            image_refresh_phase: SimDuration::ZERO,
        }
    }

    /// Arms both loops' first ticks, and draws when an unchanged status is first due and when
    /// the image cache refreshes, all at a random phase (the kubelet has run long before the
    /// experiment). The node status loop's
    /// phase comes from the kubelet's own stream, at the place in it the node status always
    /// drew from; the others from a stream of their own.
    pub(super) fn start(&mut self, ctx: &mut Context<'_, Ev>) {
        let status_phase = uniform_within(ctx.rng(), self.status_period);
        self.status_phase = status_phase;
        ctx.send_self(status_phase, Ev::Local(Local::NodeStatus));
        let mut rng = ctx.keyed_rng(HEARTBEAT_PHASES);
        self.lease_phase = uniform_within(&mut rng, self.lease_period);
        ctx.send_self(self.lease_phase, Ev::Local(Local::LeaseRenew));
        self.next_report = SimTime::ZERO + uniform_within(&mut rng, self.report_period);
        self.image_refresh_phase = uniform_within(&mut rng, IMAGE_LIST_REFRESH);
    }

    /// When the kubelet closes all its connections if every request from `lost` on goes
    /// unanswered, and which round decides it. Both loops call `onRepeatedHeartbeatFailure`,
    /// v1.16's `closeAllConns`, at the second failed try of a round, each try timing out after
    /// the heartbeat client's timeout: the node status loop's round tries up to
    /// `nodeStatusUpdateRetry` (5) times (pkg/kubelet/kubelet_node_status.go `updateNodeStatus`,
    /// `if i > 0`), the Lease controller's up to `maxUpdateRetries` (5) times
    /// (pkg/kubelet/nodelease/controller.go `retryUpdateLease`, `if i > 0`, kubernetes PR
    /// #81663). The first of the two loops to fail twice closes them.
    /// ([`crate::failover::Plan::detection`] draws the same for clients it cannot time so.)
    pub(super) fn connections_closed_after(&self, lost: SimTime) -> Reckoning {
        let status = self
            .reckon(Loop::NodeStatus, lost)
            .expect("the node status loop closes them at a round, if not this one then the next");
        match self.reckon(Loop::Lease, lost) {
            Some(lease) if lease.closed < status.closed => lease,
            _ => status,
        }
    }

    /// When loop `by` closes the connections, if nothing is answered from `lost` on: at the
    /// second failed try of its round out at `lost`, or of its next round (two timeouts after
    /// its tick), its round's later tries closing them again. A round out since before `lost`
    /// (held by a cut) closes them at the first of its tries to fail from `lost` on; one that
    /// has made all its tries by then has given up: the node status loop starts its next round
    /// at its next tick, and the Lease controller falls back to `backoffEnsureLease`, whose
    /// GETs of the Lease call no hook (`None`).
    fn reckon(&self, by: Loop, lost: SimTime) -> Option<Reckoning> {
        let (phase, period) = match by {
            Loop::NodeStatus => (self.status_phase, self.status_period),
            Loop::Lease => (self.lease_phase, self.lease_period),
        };
        let timeout = self.timeout.max(SimDuration::from_nanos(1));
        let Some(sent) = self.out_since(by) else {
            let tick = lost.tick_at_or_after(phase, period);
            return Some(Reckoning {
                by,
                first_try: tick,
                closed: tick + timeout * 2,
            });
        };
        let try_fails = |k: u64| sent + timeout * k;
        if lost <= try_fails(ROUND_TRIES) {
            let k = lost
                .saturating_since(sent)
                .as_nanos()
                .div_ceil(timeout.as_nanos())
                .max(2);
            return Some(Reckoning {
                by,
                first_try: sent,
                closed: try_fails(k),
            });
        }
        match by {
            Loop::NodeStatus => {
                let tick = lost.tick_at_or_after(phase, period);
                Some(Reckoning {
                    by,
                    first_try: sent,
                    closed: tick + timeout * 2,
                })
            }
            Loop::Lease => None,
        }
    }

    /// When loop `by`'s request now out was sent, if one is.
    fn out_since(&self, by: Loop) -> Option<SimTime> {
        match by {
            Loop::NodeStatus => self.out_since,
            Loop::Lease => self.lease_put.map(|(_, sent)| sent),
        }
    }

    /// Whether the request that `r` counted on is still out, unanswered.
    pub(super) fn still_out(&self, r: &Reckoning) -> bool {
        self.out_since(r.by) == Some(r.first_try)
    }

    /// The node's image list changed at `now` (a pull downloaded an image): the first status
    /// round after the image cache's next refresh writes it.
    pub(super) fn images_changed(&mut self, now: SimTime) {
        let shown = now.tick_at_or_after(self.image_refresh_phase, IMAGE_LIST_REFRESH);
        self.images_shown_at = Some(self.images_shown_at.map_or(shown, |t| t.min(shown)));
    }

    /// The node status loop's tick: read the Node, unless the last round is still out.
    pub(super) fn status_tick(&mut self, client: &mut Client, ctx: &mut Context<'_, Ev>) {
        if self.node_get.is_none() && self.node_patch.is_none() {
            self.node_get = Some(client.send(Obj::GetNode, ctx));
            self.out_since = Some(ctx.now());
            self.round_started = ctx.now();
        }
        ctx.send_self(self.status_period, Ev::Local(Local::NodeStatus));
    }

    /// The Lease controller's tick: PUT the Lease, unless the last renewal is still out.
    pub(super) fn lease_tick(&mut self, client: &mut Client, ctx: &mut Context<'_, Ev>) {
        if self.lease_put.is_none() {
            self.lease_put = Some((client.send(Obj::RenewLease, ctx), ctx.now()));
        }
        ctx.send_self(self.lease_period, Ev::Local(Local::LeaseRenew));
    }

    /// Handles the reply to call `id` if it is one of the loops'; `false` if it is not. A node
    /// status round that ends is traced on `host`'s "node status" track, a Lease renewal on its
    /// "node lease" track.
    pub(super) fn reply(&mut self, id: u32, host: &str, client: &mut Client, ctx: &mut Context<'_, Ev>) -> bool {
        let now = ctx.now();
        let lease = self.lease_put.filter(|&(call, _)| call == id);
        if let Some((_, sent)) = lease {
            self.lease_put = None;
            if ctx.tracer().enabled() {
                let host = host.to_owned();
                ctx.tracer().span(|| {
                    (
                        Track::new(host, Loop::Lease.track()),
                        "PUT lease".into(),
                        "api",
                        sent,
                        now,
                    )
                });
            }
        } else if self.node_get == Some(id) {
            self.node_get = None;
            self.out_since = None;
            let images_shown = self.images_shown_at.is_some_and(|t| t <= now);
            if images_shown || now >= self.next_report {
                if images_shown {
                    self.images_shown_at = None;
                }
                self.next_report = now + self.report_period;
                self.node_patch = Some(client.send(Obj::NodeStatus, ctx));
                self.out_since = Some(now);
            }
        } else if self.node_patch == Some(id) {
            self.node_patch = None;
            self.out_since = None;
        } else {
            return false;
        }
        let round_ended = self.node_get.is_none() && self.node_patch.is_none();
        if round_ended && lease.is_none() && ctx.tracer().enabled() {
            let (host, start) = (host.to_owned(), self.round_started);
            let name = "GET node (+ PATCH status)";
            ctx.tracer().span(|| {
                (
                    Track::new(host, Loop::NodeStatus.track()),
                    name.into(),
                    "api",
                    start,
                    now,
                )
            });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Dur;

    fn t(s: f64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs_f64(s)
    }

    /// The loops of a default kubelet with their ticks at these phases.
    fn loops(cfg: &KubeletCfg, status_phase_s: f64, lease_phase_s: f64) -> Heartbeats {
        let mut h = Heartbeats::new(cfg);
        h.status_phase = SimDuration::from_secs_f64(status_phase_s);
        h.lease_phase = SimDuration::from_secs_f64(lease_phase_s);
        h
    }

    fn reckoning(by: Loop, first_try: f64, closed: f64) -> Reckoning {
        Reckoning {
            by,
            first_try: t(first_try),
            closed: t(closed),
        }
    }

    /// `closeAllConns` comes at the second failed try of a round: the next round's if none is
    /// out, or the round out at the loss, timed from its request.
    #[test]
    fn connections_close_two_timeouts_into_the_round_that_meets_the_loss() {
        let cfg = KubeletCfg::default();
        // The Lease's next round (30.1 s) comes after the node status's (30.019 s).
        let mut h = loops(&cfg, 0.019, 0.1);
        assert_eq!(
            h.connections_closed_after(t(20.15)),
            reckoning(Loop::NodeStatus, 30.019, 50.019)
        );
        h.out_since = Some(t(20.019)); // the round's GET was out at the crash
        let r = h.connections_closed_after(t(20.15));
        assert_eq!(r, reckoning(Loop::NodeStatus, 20.019, 40.019));
        assert!(h.still_out(&r));
        h.out_since = Some(t(30.019));
        assert!(!h.still_out(&r));
        // A round held since 6.95 s (a cut) has failed twice by 26.95 s: after a loss at 30 s
        // it closes them again when its next try fails.
        h.out_since = Some(t(6.95));
        assert_eq!(
            h.connections_closed_after(t(30.0)),
            reckoning(Loop::NodeStatus, 6.95, 36.95)
        );
    }

    /// The Lease controller's round closes them when it fails twice first (v1.16
    /// `retryUpdateLease`): its next tick, or its PUT out at the loss.
    #[test]
    fn the_first_loop_to_fail_twice_closes_them() {
        let cfg = KubeletCfg::default();
        let mut h = loops(&cfg, 0.019, 0.010);
        assert_eq!(
            h.connections_closed_after(t(20.15)),
            reckoning(Loop::Lease, 30.010, 50.010)
        );
        h.lease_put = Some((0, t(20.010)));
        let r = h.connections_closed_after(t(20.15));
        assert_eq!(r, reckoning(Loop::Lease, 20.010, 40.010));
        assert!(h.still_out(&r));
        // The node status's GET out is not the Lease's PUT.
        h.lease_put = None;
        h.out_since = Some(t(20.010));
        assert!(!h.still_out(&r));
        // A node status round out since before the Lease's next tick decides it.
        h.out_since = Some(t(25.0));
        assert_eq!(
            h.connections_closed_after(t(26.0)),
            reckoning(Loop::NodeStatus, 25.0, 45.0)
        );
    }

    /// A round makes five tries: one held for longer has given up. The Lease controller then
    /// GETs the Lease with back-off and calls no hook; the node status loop starts its next
    /// round at its next tick.
    #[test]
    fn a_round_that_made_all_its_tries_has_given_up() {
        let cfg = KubeletCfg::default();
        let mut h = loops(&cfg, 0.019, 0.010);
        // The Lease's PUT held since 2 s (by a cut): its fifth try failed at 52 s.
        h.lease_put = Some((0, t(2.0)));
        assert_eq!(h.connections_closed_after(t(50.0)), reckoning(Loop::Lease, 2.0, 52.0));
        assert_eq!(h.connections_closed_after(t(52.0)), reckoning(Loop::Lease, 2.0, 52.0));
        assert_eq!(
            h.connections_closed_after(t(100.0)),
            reckoning(Loop::NodeStatus, 100.019, 120.019)
        );
        // The node status round held since 3 s too: its next round is the tick after 100 s.
        h.out_since = Some(t(3.0));
        assert_eq!(
            h.connections_closed_after(t(100.0)),
            reckoning(Loop::NodeStatus, 3.0, 120.019)
        );
        // Given up at 53 s, before a loss at 54 s: its next round ticks at 60.019 s.
        assert_eq!(
            h.connections_closed_after(t(54.0)),
            reckoning(Loop::NodeStatus, 3.0, 80.019)
        );
    }

    /// The heartbeat client's timeout is the node status period, capped at the Lease's
    /// duration (v1.16 `heartbeatClientConfig.Timeout`).
    #[test]
    fn the_heartbeat_timeout_is_capped_at_the_lease_duration() {
        let cfg = KubeletCfg {
            node_status_update: Dur::secs(30),
            node_lease_duration: Dur::secs(20),
            ..KubeletCfg::default()
        };
        // The Lease renews every 5 s here; its round at 9.9 s fails twice first.
        let h = loops(&cfg, 0.0, 4.9);
        assert_eq!(
            h.connections_closed_after(t(5.0)),
            reckoning(Loop::Lease, 9.9, 9.9 + 40.0)
        );
    }
}
