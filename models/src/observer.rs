//! The operator: `kubectl create deployment`, `kubectl scale`, and `kubectl get pods -w`.
//!
//! # What the thesis measured
//!
//! The experiment ran `kubectl create deployment --image nginx`, then scaled it to N, and
//! watched the pods with `kubectl get pods -w` at the control-plane site until every pod was
//! Running, reading the times in whole seconds. This component does the same: its watch is
//! open before the create, it records when each pod's Running status reaches it, and it stops
//! the run when all N are Running. The observed start-up is read off a wall clock of
//! `workload.resolution` (one second in the thesis) whose phase relative to the experiment is
//! random: `floor(phase + t_last) - floor(phase)` in ticks, with `phase ~ U(0, 1 tick)`.

use rustc_hash::FxHashSet as HashSet;

use rand::Rng;
use sim_core::{Component, Context, SimDuration, SimTime};

use crate::api::{Ev, Local, Obj, Phase, WatchEvent};
use crate::client::Client;

/// How much longer than `workload.scale_gap` the gap between `kubectl create` and `kubectl
/// scale` may be, as a fraction of it, drawn uniformly each run. Assumed, like the gap itself:
/// nothing published measures it, and whole-second readings cannot tell.
pub const SCALE_GAP_JITTER: f64 = 0.1;

/// The operator's kubectl.
#[derive(Debug)]
pub struct Kubectl {
    client: Client,
    replicas: u32,
    scale_gap: SimDuration,
    /// What the `kubectl scale` process's new connection costs before its first request.
    connect: SimDuration,
    step: u8,
    running: HashSet<u32>,
    /// Pods deleted (Terminating): never counted as running again.
    deleted: HashSet<u32>,
    /// When each pod's Running status reached the watch, by pod index.
    pub running_seen: Vec<Option<SimTime>>,
    /// When the last pod was seen Running.
    pub done_at: Option<SimTime>,
    /// When each pod's creation reached the watch.
    pub added_seen: Vec<Option<SimTime>>,
}

impl Kubectl {
    /// An operator creating a deployment and scaling it to `replicas`, starting `kubectl scale`
    /// `scale_gap` after `kubectl create` returned. The scale process opens a new connection,
    /// which takes `connect` before its first request
    /// ([`crate::network::apiserver_connect_time`]); the create's own connection is made before
    /// the experiment's clock starts.
    pub fn new(client: Client, replicas: u32, scale_gap: SimDuration, connect: SimDuration) -> Kubectl {
        Kubectl {
            client,
            replicas,
            scale_gap,
            connect,
            step: 0,
            running: HashSet::default(),
            deleted: HashSet::default(),
            running_seen: Vec::new(),
            done_at: None,
            added_seen: Vec::new(),
        }
    }

    /// The start-up time as read off a clock that ticks every `resolution` seconds (the thesis:
    /// kubectl's whole seconds, `workload.resolution`), whose phase relative to the experiment
    /// is `phase` in [0, 1) of a tick: `resolution x (floor(phase + t / resolution) -
    /// floor(phase))`.
    pub fn observed_at_resolution(&self, phase: f64, resolution: f64) -> Option<f64> {
        let t = self.done_at?.as_secs_f64();
        Some(resolution * ((phase + t / resolution).floor() - phase.floor()))
    }
}

fn slot(v: &mut Vec<Option<SimTime>>, i: u32) -> &mut Option<SimTime> {
    let i = i as usize;
    if v.len() <= i {
        v.resize(i + 1, None);
    }
    &mut v[i]
}

impl Component<Ev> for Kubectl {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        match event {
            Ev::Local(Local::Start) => {
                self.step = 1;
                self.client.send(Obj::CreateDeployment, ctx);
            }
            Ev::Reply { .. } => match self.step {
                1 => {
                    // `kubectl create` returned; the operator runs `kubectl scale`.
                    self.step = 2;
                    let gap = self.scale_gap;
                    let jitter =
                        SimDuration::from_secs_f64(ctx.rng().random::<f64>() * SCALE_GAP_JITTER * gap.as_secs_f64());
                    // The new process then connects (TCP + TLS) before it reads the scale.
                    ctx.send_self(gap + jitter + self.connect, Ev::Local(Local::Kubectl));
                }
                3 => {
                    // `kubectl scale`'s resource builder read the deployment; the scaler reads
                    // the scale subresource (kubectl `genericScaler.ScaleSimple`).
                    self.step = 4;
                    self.client.send(Obj::GetScale, ctx);
                }
                4 => {
                    // It read the scale; now it writes it.
                    self.step = 5;
                    self.client.send(Obj::Scale(self.replicas), ctx);
                }
                _ => {}
            },
            // kubeadm's admin kubectl is in `system:masters`, which the max-in-flight filter
            // never refuses; a kubectl of another user would be.
            Ev::TooManyRequests(call) => self.client.send_again(call, ctx),
            Ev::Local(Local::Kubectl) if self.step == 2 => {
                self.step = 3;
                self.client.send(Obj::GetDeployment, ctx);
            }
            Ev::Watch(WatchEvent::PodAdded(pod)) => {
                *slot(&mut self.added_seen, pod) = Some(now);
            }
            Ev::Watch(WatchEvent::PodPhase {
                pod,
                phase: Phase::Running,
            }) => {
                if self.deleted.contains(&pod) {
                    return;
                }
                *slot(&mut self.running_seen, pod) = Some(now);
                self.running.insert(pod);
                if self.running.len() as u32 >= self.replicas && self.done_at.is_none() {
                    self.done_at = Some(now);
                    ctx.stop();
                }
            }
            Ev::Watch(WatchEvent::PodDeleted(pod)) => {
                // `kubectl get pods -w` shows it Terminating from now on, whatever its status:
                // it no longer counts as running.
                self.running.remove(&pod);
                self.deleted.insert(pod);
            }
            Ev::Rebind { master, host, from } => self.client.rebind(master, host, from),
            _ => {}
        }
    }
}
