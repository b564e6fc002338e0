//! The node lifecycle controller inside the control plane: the nodes' heartbeats as the
//! controller sees them (the workers' status posts, and the masters' own kubelets'), its checks
//! every `--node-monitor-period`, and the taint manager's evictions through the controller's
//! client limiter. The controller's own logic is [`crate::node_lifecycle`].

use sim_core::limiter::TokenBucket;
use sim_core::{Context, SimDuration, SimTime};

use super::ControlPlane;
use crate::api::{Ev, Local, WatchEvent};

impl ControlPlane {
    /// Runs the node lifecycle controller ([`crate::node_lifecycle`]): nodes silent for
    /// `grace` are marked NotReady, and their pods evicted after their toleration. Its writes
    /// wait for `client`, the controller's client limiter: the NotReady status, the taints,
    /// `MarkAllPodsNotReady`'s updates of the node's pods (the workload's, and `system_pods`:
    /// the others on a worker and on a master), and each eviction (an event, then the pod's
    /// DELETE). The nodes are the workers, `names[..workers]` in the kubelets' order, then the
    /// masters, in backend order, whose kubelets renew their Lease every `post_period` from
    /// `post_phase[m]`. Call after the kubelets' watchers are set; the caller schedules the
    /// first [`Local::NodeMonitor`].
    #[allow(clippy::too_many_arguments)] // the controller's settings, each from the scenario
    pub fn enable_node_lifecycle(
        &mut self,
        grace: SimDuration,
        client: TokenBucket,
        names: &[&str],
        post_period: SimDuration,
        post_phase: Vec<SimDuration>,
        system_pods: (u32, u32),
    ) {
        self.system_pods = system_pods;
        self.lifecycle = Some(crate::node_lifecycle::NodeLifecycle::named(names, grace));
        let to_lb_down = self
            .masters
            .iter()
            .map(|&m| self.net.route_down_windows(m, self.lb))
            .collect();
        self.master_nodes = crate::node_lifecycle::ControlPlaneNodes::new(
            self.kubelets.len() as u32,
            post_period,
            post_phase,
            to_lb_down,
        );
        self.lifecycle_client = client;
        self.kubelet_index = self
            .kubelets
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id, i as u32))
            .collect();
    }

    /// The node lifecycle controller's check: marks, taints, and arms evictions.
    pub(super) fn monitor_nodes(&mut self, ctx: &mut Context<'_, Ev>) {
        use crate::node_lifecycle::{Action, Mark, NODE_MONITOR_PERIOD, UNREACHABLE_TOLERATION};
        let now = ctx.now();
        ctx.send_self(NODE_MONITOR_PERIOD, Ev::Local(Local::NodeMonitor));
        // The controller writes through etcd: without a quorum it does nothing until writes
        // commit again. It runs inside the controller-manager, and only in the one that leads:
        // while no leader is connected nothing checks the nodes, and the next leader's
        // controller takes over what etcd holds (v1.16 starts the controllers in
        // `OnStartedLeading`; a new `NodeLifecycleController` has no health data and takes a
        // node's first observation as its probe time, "Missing timestamp for Node ... Assuming
        // now as a timestamp").
        if self.write_ready(now) != now {
            return;
        }
        if !self.controller_manager_leads(now) {
            self.lifecycle_leaderless = true;
            return;
        }
        let Some(lifecycle) = self.lifecycle.as_mut() else {
            return;
        };
        // The masters' own kubelets: the latest of their status posts since the last check
        // that got through counts (the host up, the balancer reached, an apiserver serving
        // behind it).
        let plan = &self.plan;
        let since = now - NODE_MONITOR_PERIOD; // saturates at time zero
        for m in 0..self.master_nodes.len() {
            let through = |&post: &SimTime| {
                let served = (0..self.masters.len()).any(|j| plan.haproxy_up(j, post) && plan.serves(j, post));
                plan.apiserver_up(m, post) && self.master_nodes.reaches_lb(m, post) && served
            };
            if let Some(post) = self.master_nodes.posts_between(m, since, now).find(through) {
                lifecycle.heartbeat(self.master_nodes.node(m), post);
            }
        }
        // A stretch without writes alone changes nothing: a controller-manager that kept its
        // lease through it goes on with what it knew (one that lost it is followed by a
        // takeover, below).
        if std::mem::take(&mut self.lifecycle_leaderless) {
            // The new leader's controller started at its connection; its taint manager
            // evicts the pods of the nodes still tainted `NoExecute` a toleration from then.
            let started = lease_failovers(&self.failovers, self.kcm.as_ref())
                .map(|f| f.reconnect_at)
                .filter(|&t| t <= now)
                .max()
                .unwrap_or(now);
            for (node, generation) in lifecycle.take_over(started) {
                let evict = (started + UNREACHABLE_TOLERATION).saturating_since(now);
                ctx.send_self(evict, Ev::Local(Local::Evict(node, generation)));
            }
        }
        for a in lifecycle.tick(now) {
            match a {
                Action::NotReady(node) => {
                    let tainted = self.write_not_ready(node, now);
                    self.node_marks.push((now, node, Mark::NotReady));
                    // A master's node runs none of the workload: the scheduler never places
                    // there.
                    if !self.master_nodes.is_master(node) {
                        self.node_taint_written(node, false, tainted, ctx);
                    }
                }
                // Its kubelet writes its Ready status; the controller removes the `NoExecute`
                // taint at this check, and the `NoSchedule` taint if its removal is not under
                // way since the status arrived ([`ControlPlane::node_heard`]).
                Action::Ready(node) if self.master_nodes.is_master(node) => {
                    self.node_marks.push((now, node, Mark::Ready));
                    let _ = self.remove_taints(node, now);
                    // A master's taints are not followed for the scheduler: its `NoSchedule`
                    // removal is taken here.
                    let _patch = self.taint_write(now);
                }
                Action::Ready(node) => {
                    self.node_marks.push((now, node, Mark::Ready));
                    // Heard from again, the kubelet confirms its evicted pods' deletion: their
                    // room on the node is free.
                    let (gone, kept): (Vec<_>, Vec<_>) =
                        self.evicted_unconfirmed.iter().partition(|&&(_, n)| n == node);
                    self.evicted_unconfirmed = kept;
                    for _ in gone {
                        self.notify(self.scheduler, WatchEvent::PodGone { node }, ctx);
                    }
                    if let Some(untainted) = self.remove_taints(node, now) {
                        self.node_taint_written(node, true, untainted, ctx);
                    }
                }
                Action::NoExecute { node, generation } => {
                    // `SwapNodeControllerTaint`: a GET and a PATCH. The taint manager counts
                    // the pods' toleration from the taint's write.
                    let tainted = self.taint_write(now);
                    self.node_marks.push((now, node, Mark::NoExecute));
                    self.no_execute_written.insert(node);
                    let evict = UNREACHABLE_TOLERATION + tainted.saturating_since(now);
                    ctx.send_self(evict, Ev::Local(Local::Evict(node, generation)));
                }
            }
        }
    }

    /// Whether a controller-manager leads and is connected at `t`: outside every failover of
    /// its lease, from the loss that set one off to the new leader's connection.
    fn controller_manager_leads(&self, t: SimTime) -> bool {
        !lease_failovers(&self.failovers, self.kcm.as_ref()).any(|f| f.lost_at <= t && t < f.reconnect_at)
    }

    /// One write of the node lifecycle controller (or of its taint manager, or its event
    /// sink): when its client limiter lets it go, from `now`.
    fn lifecycle_write(&mut self, now: SimTime) -> SimTime {
        let at = self.lifecycle_client.reserve(now);
        self.lifecycle_waited += at.saturating_since(now);
        self.lifecycle_writes += 1;
        at
    }

    /// The node lifecycle controller's writes and their wait at its client limiter, if it
    /// runs (seconds, writes).
    pub fn lifecycle_client_wait(&self) -> Option<(f64, u64)> {
        self.lifecycle
            .as_ref()
            .map(|_| (self.lifecycle_waited.as_secs_f64(), self.lifecycle_writes))
    }

    /// A taint's write or removal (`AddOrUpdateTaintOnNode`, `RemoveTaintOffNode`): a GET of
    /// the node (`resourceVersion: "0"`), then a PATCH, both through the controller's limiter.
    /// Returns when the PATCH goes.
    fn taint_write(&mut self, now: SimTime) -> SimTime {
        let _get = self.lifecycle_write(now);
        self.lifecycle_write(now)
    }

    /// v1.16 `monitorNodeHealth`'s writes for a node it finds silent, through the controller's
    /// client limiter: the status update that marks the node `Ready=Unknown`; the `NoSchedule`
    /// taint, which `doNoScheduleTaintingPass` writes (a GET, then a PATCH) once that update
    /// comes back through its node informer, on its own worker, so its requests interleave
    /// with the monitor's next ones (modelled as taken next); the `NodeNotReady` event (the
    /// controller's event sink writes on the same client); and `MarkAllPodsNotReady`'s LIST of
    /// the node's pods and a status update of each whose `Ready` condition was true (the
    /// workload's pods whose Running status committed, and the node's system pods). Returns
    /// when the `NoSchedule` taint is written. The writes' round trips on the masters' LAN
    /// (milliseconds) are left out.
    fn write_not_ready(&mut self, node: u32, now: SimTime) -> SimTime {
        let (workers_system, masters_system) = self.system_pods;
        let ready_pods = if self.master_nodes.is_master(node) {
            masters_system
        } else {
            let running = (0..self.store.pods.len())
                .filter(|&i| {
                    self.store.pods[i].0 == Some(node)
                        && self.store.running_at[i].is_some()
                        && self.store.deleted_at[i].is_none()
                })
                .count();
            workers_system + running as u32
        };
        let _status = self.lifecycle_write(now);
        let tainted = self.taint_write(now);
        // The event, the LIST, and the ready pods' status updates.
        for _ in 0..2 + ready_pods {
            let _write = self.lifecycle_write(now);
        }
        tainted
    }

    /// The controller's writes at the check that finds a node heard from again: the
    /// `NoExecute` taint's removal (`markNodeAsReachable`: a GET, then a PATCH) if it was
    /// written, and the `NoSchedule` taint's (`doNoScheduleTaintingPass`) if its removal is
    /// not already under way ([`ControlPlane::node_heard`]). Returns when the `NoSchedule`
    /// taint is gone, if this check removes it.
    fn remove_taints(&mut self, node: u32, now: SimTime) -> Option<SimTime> {
        if self.no_execute_written.remove(&node) {
            let _patch = self.taint_write(now);
        }
        if !self.no_schedule_to_remove(node) {
            return None;
        }
        Some(self.taint_write(now))
    }

    /// Whether worker `node` carries a `NoSchedule` taint, written or on its way, that no
    /// removal already under way will take off.
    fn no_schedule_to_remove(&self, node: u32) -> bool {
        (self.no_schedule_written.contains(&node) || self.taint_pending.contains(&node))
            && !self.untaint_pending.contains(&node)
    }

    /// The scheduler learns that worker `node` is (`schedulable`) or is not schedulable once
    /// the taint's write, granted by the client limiter at `at`, is made.
    fn node_taint_written(&mut self, node: u32, schedulable: bool, at: SimTime, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        if schedulable {
            self.untaint_pending.insert(node);
        } else {
            self.taint_pending.insert(node);
        }
        if at == now {
            self.taint_write_made(node, schedulable, ctx);
        } else {
            ctx.send_self(at - now, Ev::Local(Local::NodeTaintWritten { node, schedulable }));
        }
    }

    /// A `NoSchedule` taint's write (or its removal's) on worker `node` reaches the apiserver:
    /// made once etcd commits (without a quorum it waits for the next commit, as the taint
    /// manager's deletions do), and the scheduler sees it.
    pub(super) fn taint_write_made(&mut self, node: u32, schedulable: bool, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        let ready = self.write_ready(now);
        if ready != now && ready != SimTime::MAX {
            ctx.send_self(ready - now, Ev::Local(Local::NodeTaintWritten { node, schedulable }));
            return;
        }
        if schedulable {
            self.untaint_pending.remove(&node);
        } else {
            self.taint_pending.remove(&node);
        }
        if ready != now {
            return;
        }
        if schedulable {
            self.no_schedule_written.remove(&node);
        } else {
            self.no_schedule_written.insert(node);
        }
        let ev = WatchEvent::NodeSchedulable { node, schedulable };
        self.notify(self.scheduler, ev, ctx);
    }

    /// A status post of worker `node` reached the apiserver: if the node carries the
    /// `NoSchedule` taint, `doNoScheduleTaintingPass`, woken by the node informer's update,
    /// removes it at once (a GET, then a PATCH), without waiting for the monitor's next check.
    pub(super) fn node_heard(&mut self, node: u32, ctx: &mut Context<'_, Ev>) {
        if self.no_schedule_to_remove(node) {
            let now = ctx.now();
            let untainted = self.taint_write(now);
            self.node_taint_written(node, true, untainted, ctx);
        }
    }

    /// The taint manager deletes the pods of `node`, if it still carries the taint of
    /// `generation`; the ReplicaSet controller and kubectl see them go.
    pub(super) fn evict(&mut self, node: u32, generation: u32, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        if !self
            .lifecycle
            .as_ref()
            .is_some_and(|l| l.still_tainted(node, generation))
        {
            return;
        }
        // A deletion is a write: without a quorum it waits for the next commit, as every
        // request does (if the controller-manager loses its lease meanwhile, the check below
        // drops it then).
        let ready = self.write_ready(now);
        if ready != now {
            if ready != SimTime::MAX {
                ctx.send_self(ready - now, Ev::Local(Local::Evict(node, generation)));
            }
            return;
        }
        // The taint manager runs in the controller-manager that leads: one armed by a leader
        // that has since lost its lease is gone with it, and the next leader's arms its own
        // eviction when it takes over ([`crate::node_lifecycle::NodeLifecycle::take_over`]).
        if self.lifecycle_leaderless || !self.controller_manager_leads(now) {
            self.lifecycle_leaderless = true;
            return;
        }
        let doomed: Vec<u32> = (0..self.store.pods.len())
            .filter(|&i| self.store.pods[i].0 == Some(node) && self.store.deleted_at[i].is_none())
            .map(|i| i as u32)
            .collect();
        for pod in doomed {
            // `deletePodHandler` (pkg/controller/nodelifecycle/scheduler/taint_manager.go)
            // records a "TaintManagerEviction" event, then sends the DELETE. Both go through
            // the node controller's client (`ClientBuilder.ClientOrDie("node-controller")`,
            // the controller-manager's `--kube-api-qps 20`, `--kube-api-burst 30`); its event
            // sink writes on the same client. Modelled as one token for the event, then one
            // for the deletion, pod after pod.
            let _event_sent_at = self.lifecycle_write(now);
            let at = self.lifecycle_write(now);
            if at == now {
                self.delete_pod(pod, node, ctx);
            } else {
                ctx.send_self(at - now, Ev::Local(Local::DeletePod(pod, node)));
            }
        }
    }

    /// The taint manager's DELETE of `pod` (on worker `node`) is applied: the ReplicaSet
    /// controller and kubectl see it go.
    pub(super) fn delete_pod(&mut self, pod: u32, node: u32, ctx: &mut Context<'_, Ev>) {
        if self.store.deleted_at[pod as usize].is_some() {
            return;
        }
        self.store.deleted_at[pod as usize] = Some(ctx.now());
        self.evicted_unconfirmed.push((pod, node));
        self.notify(self.kcm, WatchEvent::PodDeleted(pod), ctx);
        self.notify(self.observer, WatchEvent::PodDeleted(pod), ctx);
    }
}

/// The failovers of the controller-manager `kcm`'s lease among `failovers` (none without one).
fn lease_failovers<'a>(
    failovers: &'a [super::Failover],
    kcm: Option<&super::Watcher>,
) -> impl Iterator<Item = &'a super::Failover> {
    let kcm = kcm.map(|w| w.id);
    failovers.iter().filter(move |f| Some(f.client) == kcm)
}
