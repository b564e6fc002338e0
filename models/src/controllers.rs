//! kube-controller-manager: the deployment and ReplicaSet controllers.
//!
//! # Mechanism (Kubernetes v1.16)
//!
//! - The deployment controller (pkg/controller/deployment) sees the Deployment through its
//!   watch, creates the ReplicaSet on first sync and updates its `spec.replicas` on a scale.
//! - The ReplicaSet controller (pkg/controller/replicaset/replica_set.go `manageReplicas`) sees
//!   the ReplicaSet, computes `diff = replicas - active pods` (at most `BurstReplicas` = 500),
//!   raises its expectations, and creates pods with `slowStartBatch`
//!   (pkg/controller/controller_utils.go): batches of 1, 2, 4, ... pods
//!   (`SlowStartInitialBatchSize` = 1), each batch's POSTs in parallel, the next batch only when
//!   the whole batch returned. It does not sync that ReplicaSet again until the watch has shown
//!   it every pod it created (expectations).
//! - Every call goes through the controller-manager's one client limiter:
//!   `--kube-api-qps 20 --kube-api-burst 30` (v1.16 defaults).

use std::collections::HashSet;

use sim_core::limiter::TokenBucket;
use sim_core::{Component, Context, SimTime};

use crate::api::{Ev, Obj, WatchEvent};
use crate::client::Client;
use crate::spec::ControllerManager as Cfg;

/// The controller-manager's two controllers that matter for a Deployment's start-up.
#[derive(Debug)]
pub struct ControllerManager {
    client: Client,
    initial_batch: u32,
    burst_replicas: u32,
    /// Whether the ReplicaSet has been created.
    rs_created: bool,
    rs_replicas: u32,
    /// Pods this ReplicaSet owns (created and observed).
    observed_pods: u32,
    /// Pods created but not yet observed through the watch.
    expected: u32,
    /// Pods still to create in the running slow-start sequence.
    remaining: u32,
    /// Call ids of the current batch's POSTs still awaiting replies.
    in_flight: HashSet<u32>,
    next_batch: u32,
    syncing: bool,
    dirty: bool,
    /// When each slow-start batch started: (time, size).
    pub batches: Vec<(SimTime, u32)>,
}

impl ControllerManager {
    /// A controller-manager talking through `client` (whose limiter is replaced by the
    /// configured QPS/burst).
    ///
    /// # Panics
    ///
    /// If the configured QPS or burst is invalid; scenario checks reject those first.
    pub fn new(mut client: Client, cfg: &Cfg) -> ControllerManager {
        client.limiter =
            TokenBucket::new(cfg.kube_api_qps, cfg.kube_api_burst).expect("checked controller-manager QPS/burst");
        ControllerManager {
            client,
            initial_batch: cfg.slow_start_initial_batch.max(1),
            burst_replicas: cfg.burst_replicas.max(1),
            rs_created: false,
            rs_replicas: 0,
            observed_pods: 0,
            expected: 0,
            remaining: 0,
            in_flight: HashSet::new(),
            next_batch: 0,
            syncing: false,
            dirty: false,
            batches: Vec::new(),
        }
    }

    /// The client (for limiter statistics).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn sync_replicaset(&mut self, ctx: &mut Context<'_, Ev>) {
        if self.syncing || self.expected > 0 {
            self.dirty = true;
            return;
        }
        self.dirty = false;
        let active = self.observed_pods;
        if self.rs_replicas > active {
            let diff = (self.rs_replicas - active).min(self.burst_replicas);
            self.expected = diff;
            self.remaining = diff;
            self.next_batch = self.initial_batch;
            self.syncing = true;
            self.start_batch(ctx);
        }
    }

    fn start_batch(&mut self, ctx: &mut Context<'_, Ev>) {
        let size = self.next_batch.min(self.remaining);
        self.batches.push((ctx.now(), size));
        self.remaining -= size;
        self.next_batch = self.next_batch.saturating_mul(2);
        for _ in 0..size {
            let id = self.client.send(Obj::CreatePod, ctx);
            self.in_flight.insert(id);
        }
    }
}

impl Component<Ev> for ControllerManager {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        match event {
            Ev::Watch(WatchEvent::Deployment(n)) => {
                if self.rs_created {
                    self.client.send(Obj::UpdateReplicaSet(n), ctx);
                } else {
                    self.rs_created = true;
                    self.client.send(Obj::CreateReplicaSet(n), ctx);
                }
                // The deployment controller also writes the Deployment's status.
                self.client.send(Obj::ControllerStatus, ctx);
            }
            Ev::Watch(WatchEvent::ReplicaSet(n)) => {
                self.rs_replicas = n;
                self.sync_replicaset(ctx);
            }
            Ev::Watch(WatchEvent::PodAdded(_)) => {
                self.observed_pods += 1;
                self.expected = self.expected.saturating_sub(1);
                // Every pod add requeues its ReplicaSet; once the expectations are met, the next
                // sync creates what is still missing (beyond `BurstReplicas` per sync).
                if self.expected == 0 && !self.syncing {
                    self.sync_replicaset(ctx);
                }
            }
            Ev::Reply { id, .. } if self.in_flight.remove(&id) && self.in_flight.is_empty() => {
                if self.remaining > 0 {
                    self.start_batch(ctx);
                } else {
                    self.syncing = false;
                    // manageReplicas done: the ReplicaSet's status is written, and that update
                    // requeues the ReplicaSet.
                    self.client.send(Obj::ControllerStatus, ctx);
                    if self.expected == 0 {
                        self.sync_replicaset(ctx);
                    }
                }
            }
            Ev::Rebind { master, host } => self.client.rebind(master, host),
            _ => {}
        }
    }
}
