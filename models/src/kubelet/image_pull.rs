//! The kubelet's image pulls (v1.16, Docker 18.09): `EnsureImageExists` under the pull policy,
//! the serial puller (`--serialize-image-pulls`), the `--registry-qps` limiter, Docker's
//! registry round trips and the node's first download (alone or through the site's uplink),
//! pulls cut by outages, and the image back-off that paces the pod's retries.

use rand::Rng;
use rand_distr::Distribution;
use sim_core::{Context, SimDuration, SimTime};

use super::{Kubelet, Op, SYNC_LOOP_PERIOD};
use crate::api::{Ev, Local, Phase};
use crate::control_plane::sample;
use crate::draws::{pod_key, pull_key, Purpose};
use crate::image_backoff::{Decision, PullRetry};
use crate::pull_outages::{Outages, Transfer};
use crate::spec::PullPolicy;

impl Kubelet {
    /// The pod's container needs its image (`EnsureImageExists`): a pull through the node's
    /// puller, unless the policy lets a present image be used as it is. The "Pulling" event is
    /// recorded here, before the pull joins the serial puller's queue (v1.16
    /// `pkg/kubelet/images/image_manager.go`: `m.logIt(... events.PullingImage ...)`, then
    /// `m.puller.pullImage(...)`, then the wait on `pullChan`; docs/research-kubelet-startup.md
    /// §1), so a node's queued pods have all announced their pulls.
    pub(super) fn ensure_image(&mut self, pod: u32, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        if self.pull_policy == PullPolicy::Always || !self.image_present {
            self.post_event(ctx); // Pulling
            if let Some(p) = self.puller.arrive(now, pod) {
                self.run_pull(p, ctx);
            }
        } else {
            self.times(pod).pulled = Some(now);
            if let Some(op) = self.runtime.arrive(now, Op::Start(pod)) {
                self.run_op(op, ctx);
            }
        }
    }

    pub(super) fn run_pull(&mut self, pod: u32, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        self.times(pod).pull_start = Some(now);
        if !self.registry.try_accept(now) {
            // `throttledImageService.PullImage`: "pull QPS exceeded", without asking Docker
            // (and without a draw, so without a place in the node's pulls).
            return self.schedule_pull_end(pod, Transfer::Failed { cut: now, at: now }, ctx);
        }
        let nth = self.pulls_started;
        self.pulls_started += 1;
        let mut rng = ctx.keyed_rng(pull_key(nth, false));
        // Docker dials the registry first. While the site's way out is down the dial waits
        // for it or gives up, and a transfer under way stalls or fails ([`crate::pull_outages`]).
        // Once the manifest is in, Docker's first progress message reaches dockershim, whose
        // reporter then cancels a download that stalls too long without one (`for_pull`).
        let outages = &self.outages;
        let connected = outages.connect(now);
        // The registry's round trips, made once the connection is up.
        let cached_pull = match connected {
            Transfer::Done(from) => {
                let mut net_rng = ctx.keyed_rng(pull_key(nth, true));
                self.registry_work(from, &mut net_rng)
            }
            Transfer::Failed { .. } => self.cached_pull,
        };
        if let (Some(uplink), false) = (self.uplink, self.image_present) {
            // The registry round trips first (manifest, then the layers' requests), then the
            // layers through the site's uplink, which answers with PullDone or PullFailed. One
            // draw of the service-time noise scales both, as it scales the whole first pull
            // without an uplink: alone on its uplink the pull takes what it would take without
            // one.
            let factor = self.noise.as_ref().map_or(1.0, |n| n.sample(&mut rng));
            let own = SimDuration::from_secs_f64(cached_pull.as_secs_f64() * factor);
            match transfer(outages, connected, own) {
                Transfer::Done(own_end) if self.downloading_pod.is_some() => {
                    self.download_waiters.push((pod, own_end));
                }
                Transfer::Done(own_end) => {
                    self.downloading_pod = Some(pod);
                    let kubelet = ctx.me();
                    let bits = (self.image_bits as f64 * factor).round() as u64;
                    let cap_bps = self.download_bps;
                    ctx.send_at(
                        uplink,
                        own_end,
                        Ev::DownloadStart {
                            kubelet,
                            pod,
                            bits,
                            cap_bps,
                            failures: 0,
                            pull_start: own_end,
                        },
                    );
                }
                failed => self.schedule_pull_end(pod, failed, ctx),
            }
            return;
        }
        let downloading = self.download.filter(|d| d.at() > now);
        let end = if self.image_present {
            let own = sample(cached_pull, self.noise.as_ref(), &mut rng);
            transfer(outages, connected, own)
        } else if let Some(download) = downloading {
            // Docker's download manager shares a layer's transfer between the pulls that want
            // it (moby `distribution/xfer`): a pull that starts during the download (parallel
            // pulls, `--serialize-image-pulls=false`) ends with it, after its own registry
            // round trips at the least, and fails with it.
            let own = sample(cached_pull, self.noise.as_ref(), &mut rng);
            match (transfer(outages, connected, own), download) {
                (Transfer::Done(a), Transfer::Done(b)) => Transfer::Done(a.max(b)),
                (Transfer::Done(_), failed) | (failed, Transfer::Done(_)) => failed,
                (a, b) => {
                    if a.at() <= b.at() {
                        a
                    } else {
                        b
                    }
                }
            }
        } else if self.download_windows.is_empty() {
            // The first pull: the round trips, then the layers at the node's own rate (one
            // draw of the service-time noise scales both); Docker retries a cut download.
            let first_pull = cached_pull + self.download_time;
            let total = sample(first_pull, self.noise.as_ref(), &mut rng);
            let share = cached_pull.as_secs_f64() / first_pull.as_secs_f64().max(f64::MIN_POSITIVE);
            let requests = SimDuration::from_secs_f64(total.as_secs_f64() * share);
            let end = match connected {
                Transfer::Done(from) => outages.first_pull(from, requests, total),
                failed => failed,
            };
            self.download = Some(end);
            end
        } else {
            // The same, with the download's rate changing over time: the round trips, then the
            // layers at the rate in force at each moment. One draw of the service-time noise
            // scales both (the round trips and the layers' bits), as through an uplink.
            let factor = self.noise.as_ref().map_or(1.0, |n| n.sample(&mut rng));
            let own = SimDuration::from_secs_f64(cached_pull.as_secs_f64() * factor);
            let end = match (connected, transfer(outages, connected, own)) {
                (Transfer::Done(since), Transfer::Done(from)) => {
                    let bits = self.image_bits as f64 * factor;
                    self.download_windows
                        .download(&outages.for_pull(from), since, from, bits, self.download_bps)
                }
                (_, failed) => failed,
            };
            self.download = Some(end);
            end
        };
        self.schedule_pull_end(pod, end, ctx);
    }

    /// The registry round trips of a pull whose connection is up at `from`: the mean
    /// `registry_rtt` each for Docker Hub; drawn over the route for a registry on the overlay,
    /// from the stream `rng` of the pull's own ([`pull_key`]).
    pub(super) fn registry_work(&self, from: SimTime, rng: &mut impl Rng) -> SimDuration {
        self.overlay_route
            .and_then(|(node, registry)| {
                self.client
                    .conn
                    .net
                    .round_trips_at(node, registry, self.registry_round_trips, from, rng)
            })
            .unwrap_or(self.cached_pull)
    }

    /// Tells this kubelet when `pod`'s pull ends, unless it never does.
    pub(super) fn schedule_pull_end(&mut self, pod: u32, end: Transfer, ctx: &mut Context<'_, Ev>) {
        let (at, ev) = match end {
            Transfer::Done(at) => (at, Local::PullDone(pod)),
            Transfer::Failed { at, .. } => (at, Local::PullFailed(pod)),
        };
        if at != SimTime::MAX {
            ctx.send_at(ctx.me(), at, Ev::Local(ev));
        }
    }

    /// `pod`'s image pull succeeded: the pulls waiting on its download finish, the serial puller
    /// takes the next, and the container's create and start queue for the runtime.
    pub(super) fn pull_done(&mut self, pod: u32, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        // The image is in Docker's store once a pull ends, not when it starts: with
        // `IfNotPresent` a pod that reaches the image check during the first download
        // queues a pull of its own (a cached one when its turn comes). A new image changes the
        // node's status (its image list) once the image manager's cache shows it, and the node
        // status loop then writes it.
        if !self.image_present {
            self.heartbeats.images_changed(now);
        }
        self.image_present = true;
        if self.downloading_pod == Some(pod) {
            self.downloading_pod = None;
            let me = ctx.me();
            for (waiter, own_end) in std::mem::take(&mut self.download_waiters) {
                ctx.send_at(me, own_end.max(now), Ev::Local(Local::PullDone(waiter)));
            }
        }
        self.times(pod).pulled = Some(now);
        let start = self.times(pod).pull_start;
        self.trace_span(pod, "image pull", start, now, ctx);
        self.post_event(ctx); // Pulled
        if let Some(next) = self.puller.complete(now) {
            self.run_pull(next, ctx);
        }
        if let Some(op) = self.runtime.arrive(now, Op::Start(pod)) {
            self.run_op(op, ctx);
        }
    }

    /// `pod`'s image pull failed: the pulls waiting on its download fail too, and the pod's next
    /// sync is scheduled as v1.16's image back-off has it.
    pub(super) fn pull_failed(&mut self, pod: u32, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        if self.downloading_pod == Some(pod) {
            // The layers it was downloading are lost: the pulls waiting for them fail.
            self.downloading_pod = None;
            let me = ctx.me();
            for (waiter, own_end) in std::mem::take(&mut self.download_waiters) {
                ctx.send_at(me, own_end.max(now), Ev::Local(Local::PullFailed(waiter)));
            }
        }
        let start = self.times(pod).pull_start;
        self.trace_span(pod, "image pull failed", start, now, ctx);
        self.times(pod).pull_failures += 1;
        self.post_event(ctx); // Failed: "Failed to pull image"
        self.post_event(ctx); // Failed: "Error: ErrImagePull"
        let first = !self.retries.contains_key(&pod);
        let retry = self
            .retries
            .entry(pod)
            .and_modify(|r| r.failed(now))
            .or_insert_with(|| PullRetry::first(now));
        let at = if first {
            // The sync that failed created the pod's sandbox, whose PLEG event waits in
            // `lastUndeliveredWorkUpdate` (pod_workers.go): `wrapUp` delivers it at
            // once, and the new sync starts at the first relist after this one ended
            // (`podCache.GetNewerThan`). It reports ErrImagePull and meets the back-off.
            now.next_tick(self.pleg_phase, self.pleg_period)
        } else {
            let requeue = retry.requeue_delay(&mut ctx.keyed_rng(pod_key(pod, Purpose::Requeue(retry.requeues))));
            self.requeued_sync(now + requeue)
        };
        ctx.send_at(ctx.me(), at, Ev::Local(Local::PodResync(pod)));
        if let Some(next) = self.puller.complete(now) {
            self.run_pull(next, ctx);
        }
    }

    /// A sync of `pod` after a failed pull: it reports the waiting status, then pulls again or
    /// meets the back-off and is requeued.
    pub(super) fn pod_resync(&mut self, pod: u32, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        let Some(retry) = self.retries.get_mut(&pod) else {
            return;
        };
        let (version, decision) = retry.sync(now);
        if let Some(v) = version {
            self.set_status(pod, Phase::Waiting(v), ctx);
        }
        match decision {
            Decision::Pull => self.ensure_image(pod, ctx),
            Decision::BackOff => {
                self.post_event(ctx); // BackOff: "Back-off pulling image"
                let retry = self.retries.get_mut(&pod).expect("a pod in back-off has its retry");
                let requeue = retry.requeue_delay(&mut ctx.keyed_rng(pod_key(pod, Purpose::Requeue(retry.requeues))));
                let at = self.requeued_sync(now + requeue);
                ctx.send_at(ctx.me(), at, Ev::Local(Local::PodResync(pod)));
            }
        }
    }

    /// When a pod requeued for `due` syncs: at the sync loop's first tick at or after it (the
    /// pod workers' work queue is read by `syncLoopIteration` on its 1-s `syncTicker`,
    /// pkg/kubelet/kubelet.go).
    pub(super) fn requeued_sync(&self, due: SimTime) -> SimTime {
        SimTime::from_nanos(due.as_nanos().saturating_sub(1)).next_tick(self.sync_tick_phase, SYNC_LOOP_PERIOD)
    }
}

/// `work` of transfer after the dial `connected`, through a pull's `outages`.
fn transfer(outages: &Outages, connected: Transfer, work: SimDuration) -> Transfer {
    match connected {
        Transfer::Done(from) => outages.transfer(from, work),
        failed => failed,
    }
}
