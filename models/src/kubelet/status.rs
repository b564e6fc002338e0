//! The kubelet's side of the status manager ([`crate::status_manager`]): one goroutine that
//! syncs one status at a time, each a GET of the pod and then a PATCH of its status through the
//! kubelet's client, woken by new statuses and by the 10-s `syncBatch` ticker.
//!
//! A sync whose GET or PATCH is lost (with its connection, or to an etcd time-out) fails as
//! `syncPod` does in v1.16 ("Failed to update status for pod"): it returns without recording
//! the version sent, so the status stays unsent, and the goroutine goes on with its next sync. Nothing retries
//! that one status but the next `syncBatch`, which lists every status not yet sent. Which
//! losses a call survives is [`Obj::fails_with`]'s: client-go retries a GET after a reset, and
//! the kubelet takes an apiserver's error for an etcd time-out as final. While a balancer
//! outage has closed the kubelet's connections, a sync's dial fails instead
//! ([`super::balancer_outage`]).

use sim_core::trace::Track;
use sim_core::{Context, SimTime};

use super::{status_span_name, Kubelet, Pending};
use crate::api::{CallLoss, Ev, Local, Obj, Phase};
use crate::status_manager::{Sync, STATUS_SYNC_PERIOD};

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
                Some(CallLoss::TooManyRequests) => "429 too many requests",
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
