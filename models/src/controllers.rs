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
//! - Each controller has a client, and so a limiter, of its own
//!   (cmd/kube-controller-manager/app: `ctx.ClientBuilder.ClientOrDie("deployment-controller")`,
//!   `...("replicaset-controller")`), each `--kube-api-qps 20 --kube-api-burst 30` (v1.16
//!   defaults).
//! - The ReplicaSet controller records a `SuccessfulCreate` event on the ReplicaSet for every pod
//!   it creates (`RealPodControl.createPods`); its event broadcaster writes them one at a time,
//!   through the same client, so they take tokens the creates need. client-go's spam filter
//!   passes at most 25 events per object and then one per 5 minutes
//!   (tools/record/events_cache.go `defaultSpamBurst = 25`, `defaultSpamQPS = 1/300`); the rest
//!   are dropped. The deployment controller records one `ScalingReplicaSet` event per scale.

use rustc_hash::FxHashSet as HashSet;

use sim_core::limiter::TokenBucket;
use sim_core::{Component, Context, SimDuration, SimTime};

use crate::api::{Ev, Obj, WatchEvent};
use crate::client::Client;
use crate::spec::ControllerManager as Cfg;

/// Events client-go's spam filter passes per object before it rations them
/// (`defaultSpamBurst`).
pub const EVENT_SPAM_BURST: u32 = 25;
/// How often the spam filter passes one more event per object afterwards: `defaultSpamQPS =
/// 1/300`.
pub const EVENT_SPAM_PERIOD: SimDuration = SimDuration::from_secs(300);
/// Call ids of the deployment controller's client start here, so that they never collide with
/// the ReplicaSet controller's.
const DEPLOYMENT_CLIENT_IDS: u32 = 1 << 31;

/// The controller-manager's two controllers that matter for a Deployment's start-up.
#[derive(Debug)]
pub struct ControllerManager {
    /// The deployment controller's client.
    deployment: Client,
    /// The ReplicaSet controller's client: pod creates, its status writes and its events.
    replicaset: Client,
    /// `SuccessfulCreate` events waiting for the broadcaster's sink.
    events_queued: u32,
    /// The call id of the event the sink is writing, if any (it writes one at a time).
    event_in_flight: Option<u32>,
    /// The spam filter's tokens left for the ReplicaSet's events.
    spam_tokens: u32,
    /// When the spam filter last added a token.
    spam_refilled: SimTime,
    initial_batch: u32,
    burst_replicas: u32,
    /// Whether the ReplicaSet has been created.
    rs_created: bool,
    /// The deployment controller's create or update of the ReplicaSet awaiting its reply: it
    /// syncs a Deployment one at a time (its work queue hands a key to one worker), so the
    /// next write waits for it.
    rs_write_in_flight: Option<u32>,
    /// The Deployment's latest size seen while a write was in flight: the next sync writes it
    /// (a queued key is synced once, from the informer's latest state).
    rs_wanted: Option<u32>,
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
    /// A controller-manager whose controllers talk through copies of `client`, each with a
    /// limiter of the configured QPS/burst.
    ///
    /// # Panics
    ///
    /// If the configured QPS or burst is invalid; scenario checks reject those first.
    pub fn new(client: Client, cfg: &Cfg) -> ControllerManager {
        let limited = |mut c: Client| {
            c.limiter =
                TokenBucket::new(cfg.kube_api_qps, cfg.kube_api_burst).expect("checked controller-manager QPS/burst");
            c
        };
        ControllerManager {
            deployment: limited(client.clone().with_id_base(DEPLOYMENT_CLIENT_IDS)),
            replicaset: limited(client),
            events_queued: 0,
            event_in_flight: None,
            spam_tokens: EVENT_SPAM_BURST,
            spam_refilled: SimTime::ZERO,
            initial_batch: cfg.slow_start_initial_batch.max(1),
            burst_replicas: cfg.burst_replicas.max(1),
            rs_created: false,
            rs_write_in_flight: None,
            rs_wanted: None,
            rs_replicas: 0,
            observed_pods: 0,
            expected: 0,
            remaining: 0,
            in_flight: HashSet::default(),
            next_batch: 0,
            syncing: false,
            dirty: false,
            batches: Vec::new(),
        }
    }

    /// The deployment and ReplicaSet controllers' clients (for limiter statistics).
    pub fn clients(&self) -> [&Client; 2] {
        [&self.deployment, &self.replicaset]
    }

    /// Records a `SuccessfulCreate` event: queued for the broadcaster if the spam filter lets it
    /// through, dropped otherwise.
    fn record_create_event(&mut self, ctx: &mut Context<'_, Ev>) {
        let refills = (ctx.now() - self.spam_refilled).as_nanos() / EVENT_SPAM_PERIOD.as_nanos();
        if refills > 0 {
            let refills = u32::try_from(refills).unwrap_or(u32::MAX);
            self.spam_tokens = self.spam_tokens.saturating_add(refills).min(EVENT_SPAM_BURST);
            self.spam_refilled += EVENT_SPAM_PERIOD * u64::from(refills);
        }
        if self.spam_tokens == 0 {
            return;
        }
        self.spam_tokens -= 1;
        self.events_queued += 1;
        self.write_next_event(ctx);
    }

    /// The broadcaster's sink writes one event at a time.
    fn write_next_event(&mut self, ctx: &mut Context<'_, Ev>) {
        if self.event_in_flight.is_none() && self.events_queued > 0 {
            self.events_queued -= 1;
            self.event_in_flight = Some(self.replicaset.send(Obj::Event, ctx));
        }
    }

    /// The deployment controller's sync: creates the ReplicaSet with `n` replicas, or scales it
    /// to `n`, unless a write is in flight, after which it writes the latest size.
    fn write_replicaset(&mut self, n: u32, ctx: &mut Context<'_, Ev>) {
        if self.rs_write_in_flight.is_some() {
            self.rs_wanted = Some(n);
            return;
        }
        let obj = if self.rs_created {
            Obj::UpdateReplicaSet(n)
        } else {
            self.rs_created = true;
            Obj::CreateReplicaSet(n)
        };
        self.rs_write_in_flight = Some(self.deployment.send(obj, ctx));
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
            let id = self.replicaset.send(Obj::CreatePod, ctx);
            self.in_flight.insert(id);
        }
    }
}

impl Component<Ev> for ControllerManager {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        match event {
            Ev::Watch(WatchEvent::Deployment(n)) => {
                self.write_replicaset(n, ctx);
                // The deployment controller also writes the Deployment's status, and records
                // a ScalingReplicaSet event.
                self.deployment.send(Obj::ControllerStatus, ctx);
                self.deployment.send(Obj::Event, ctx);
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
            Ev::Watch(WatchEvent::PodDeleted(_)) => {
                // An evicted pod is no longer active: the ReplicaSet is synced again and
                // replaces it.
                self.observed_pods = self.observed_pods.saturating_sub(1);
                if self.expected == 0 && !self.syncing {
                    self.sync_replicaset(ctx);
                }
            }
            Ev::Reply { id, .. } if self.rs_write_in_flight == Some(id) => {
                self.rs_write_in_flight = None;
                if let Some(n) = self.rs_wanted.take() {
                    self.write_replicaset(n, ctx);
                }
            }
            Ev::Reply { id, .. } if self.event_in_flight == Some(id) => {
                self.event_in_flight = None;
                self.write_next_event(ctx);
            }
            Ev::Reply { id, .. } if self.in_flight.contains(&id) => {
                self.in_flight.remove(&id);
                self.record_create_event(ctx);
                if !self.in_flight.is_empty() {
                    return;
                }
                if self.remaining > 0 {
                    self.start_batch(ctx);
                } else {
                    self.syncing = false;
                    // manageReplicas done: the ReplicaSet's status is written, and that update
                    // requeues the ReplicaSet.
                    self.replicaset.send(Obj::ControllerStatus, ctx);
                    if self.expected == 0 {
                        self.sync_replicaset(ctx);
                    }
                }
            }
            Ev::Rebind { master, host, from } => {
                self.deployment.rebind(master, host, from);
                self.replicaset.rebind(master, host, from);
            }
            // The deployment controller's calls are numbered from `DEPLOYMENT_CLIENT_IDS`.
            Ev::TooManyRequests(call) if call.id >= DEPLOYMENT_CLIENT_IDS => self.deployment.send_again(call, ctx),
            Ev::TooManyRequests(call) => self.replicaset.send_again(call, ctx),
            _ => {}
        }
    }
}
