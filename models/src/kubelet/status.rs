//! The kubelet's side of the status manager ([`crate::status_manager`]): one goroutine that
//! syncs one status at a time, each a GET of the pod and then a PATCH of its status through the
//! kubelet's client, woken by new statuses and by the 10-s `syncBatch` ticker.

use sim_core::Context;

use super::{Kubelet, Pending};
use crate::api::{Ev, Local, Obj, Phase};
use crate::status_manager::{Sync, STATUS_SYNC_PERIOD};

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

    /// syncPod: GET the pod; the PATCH follows the reply.
    pub(super) fn start_sync(&mut self, sync: Sync, ctx: &mut Context<'_, Ev>) {
        self.status_busy = true;
        let obj = match sync {
            Sync::Pod(pod, _) => Obj::GetPod(pod),
            Sync::HostNetwork(_) => Obj::GetHostNetworkPod,
        };
        let id = self.client.send(obj, ctx);
        let now = ctx.now();
        self.pending.insert(id, Pending::StatusGet(sync, now));
        if let Sync::Pod(pod, Phase::Running) = sync {
            self.times(pod).running_sync_start = Some(now);
        }
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
