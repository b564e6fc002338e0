//! The node lifecycle controller: nodes that stop reporting are marked NotReady, tainted, and
//! their pods evicted (kube-controller-manager, Kubernetes v1.16, `TaintBasedEvictions` on).
//!
//! # Mechanism
//!
//! - Every `--node-monitor-period` (5 s) the controller looks at each node's last heartbeat
//!   (its node status or its Lease; the kubelet sends one every 10 s). A node silent for
//!   longer than `--node-monitor-grace-period` (40 s) is marked `Ready=Unknown` (NotReady) and
//!   given the `node.kubernetes.io/unreachable` taint: `NoSchedule` at once (the scheduler
//!   places nothing there), `NoExecute` through a rate-limited queue
//!   (pkg/controller/nodelifecycle/node_lifecycle_controller.go).
//! - The queue taints at most `--node-eviction-rate` (0.1) nodes per second, burst 1, while
//!   the zone is healthy. A zone (the testbed's nodes carry no zone label: one zone) with more
//!   than 2 NotReady nodes making at least `--unhealthy-zone-threshold` (55 %) of them is in
//!   partial disruption: the rate drops to `--secondary-node-eviction-rate` (0.01) in a cluster
//!   above `--large-cluster-size-threshold` (50 nodes) and to 0 below it. A zone with no Ready
//!   node at all is fully disrupted, which the controller reads as its own cut from the nodes:
//!   it evicts nothing.
//! - The zone's nodes are every registered node whose name `system.IsMasterNode` does not take
//!   for a master's ([`is_master_node`]): kubeadm registers the control-plane hosts as nodes
//!   too, and names such as `master01` do not end in `master` or `master-` plus three
//!   characters, so they count (the thesis's three masters make its zone seven nodes, four of
//!   them workers). Such a node is NotReady when its own kubelet falls silent (its host down,
//!   or no apiserver reachable through the load balancer); it is tainted like any other but
//!   runs none of the workload's pods.
//! - A pod tolerates `unreachable:NoExecute` for 300 s (the `DefaultTolerationSeconds`
//!   admission plugin, `--default-unreachable-toleration-seconds`); then the taint manager
//!   deletes it. The ReplicaSet controller replaces a deleted pod, and the scheduler places the
//!   replacement on a Ready node.
//! - A node heard from again is Ready: its taints go, and pods not yet deleted stay.
//! - When every node the zone counts is NotReady the controller assumes the fault is its own (master
//!   disruption): it removes every `NoExecute` taint, which cancels the pending evictions, and
//!   evicts nothing until a node is Ready again; then the NotReady nodes queue for the taint
//!   anew (`handleDisruption`).
//! - The controller-manager writes through etcd: while etcd has no quorum it cannot work. A
//!   short stretch without writes leaves it leading, and it goes on with what it knew; a
//!   longer one costs it its lease, and the next leader takes over.
//! - It runs only in the controller-manager that leads. A new leader's controller takes over
//!   what etcd holds ([`NodeLifecycle::take_over`]): marked nodes stay NotReady with their
//!   taints, the others get a grace period from the takeover, and its taint manager evicts a
//!   toleration after its own start.
//! - Every write of the controller waits for its client's limiter (`--kube-api-qps 20`,
//!   `--kube-api-burst 30`), node after node as v1.16's `monitorNodeHealth` makes them: the
//!   status update that marks a silent node NotReady; the `NoSchedule` taint
//!   (`doNoScheduleTaintingPass`, on its own worker but the same client: a GET, then a PATCH);
//!   the `NodeNotReady` event (the event sink writes on the same client);
//!   `MarkAllPodsNotReady`'s LIST and a status update of each of the node's pods whose `Ready`
//!   condition was true (a condition kubectl's STATUS column does not show); then the
//!   `NoExecute` taint (a GET and a PATCH), from whose write the toleration counts; the taint
//!   manager's event and DELETE for each evicted pod; and, when the node is heard from again,
//!   the taints' removal (the `NoSchedule` taint's as soon as its status arrives, the
//!   `NoExecute` taint's at the next check). These writes queue behind the tainting queue's
//!   own pace (one node per 10 s, above): a site of 10 workers with 31 running pods each
//!   needs about 35 writes per node, under 2 s of the client's tokens, and has its last node
//!   tainted 90 s after its first.
//!
//! # Simplifications
//!
//! None of the controller's requests waits for its etcd commit or its round trip on the
//! masters' LAN (milliseconds). A deleted pod's kubelet, cut off, never learns of it (it would
//! kill the container after the repair).

use std::collections::VecDeque;

use sim_core::{SimDuration, SimTime};

/// The static pods kubeadm (v1.16) writes on every control-plane node, in
/// `/etc/kubernetes/manifests`: etcd, kube-apiserver, kube-controller-manager, kube-scheduler.
pub const KUBEADM_STATIC_PODS: u32 = 4;

/// `--node-monitor-period` (v1.16 default 5 s): how often the controller checks the nodes.
pub const NODE_MONITOR_PERIOD: SimDuration = SimDuration::from_secs(5);

/// `--default-unreachable-toleration-seconds` (v1.16 default 300): how long a pod tolerates
/// its node's `unreachable:NoExecute` taint before it is evicted.
pub const UNREACHABLE_TOLERATION: SimDuration = SimDuration::from_secs(300);

/// `--node-eviction-rate` (v1.16 default 0.1): nodes tainted `NoExecute` per second in a
/// healthy zone.
pub const NODE_EVICTION_RATE: f64 = 0.1;

/// `--secondary-node-eviction-rate` (v1.16 default 0.01): the same in a partly disrupted zone
/// of a large cluster.
pub const SECONDARY_NODE_EVICTION_RATE: f64 = 0.01;

/// `--large-cluster-size-threshold` (v1.16 default 50): a cluster of at most this many nodes
/// evicts nothing from a partly disrupted zone.
pub const LARGE_CLUSTER_SIZE_THRESHOLD: usize = 50;

/// `--unhealthy-zone-threshold` (v1.16 default 0.55): the share of NotReady nodes (more than
/// 2 of them) that makes a zone partly disrupted.
pub const UNHEALTHY_ZONE_THRESHOLD: f64 = 0.55;

/// `system.IsMasterNode` (Kubernetes v1.16, `pkg/util/system/system_utils.go`): whether the
/// node lifecycle controller leaves node `name` out of its zones' disruption counts. It
/// captures `master(-...)?$` by hand: a name ending in `master`, or in `master-` followed by
/// any three characters.
pub fn is_master_node(name: &str) -> bool {
    let b = name.as_bytes();
    b.ends_with(b"master") || (b.len() >= 10 && b[..b.len() - 3].ends_with(b"master-"))
}

/// A change the controller wrote to a node, for the run's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Marked NotReady (`Ready=Unknown`, tainted `unreachable:NoSchedule`).
    NotReady,
    /// Tainted `unreachable:NoExecute`: its pods are evicted after their toleration.
    NoExecute,
    /// Heard from again: Ready, its taints removed.
    Ready,
}

/// What the controller does to a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Marked NotReady: tainted `unreachable:NoSchedule`.
    NotReady(u32),
    /// Tainted `unreachable:NoExecute`: its pods are evicted after their toleration, unless it
    /// is Ready again first (`generation` tells a later taint apart).
    NoExecute {
        /// The node.
        node: u32,
        /// Its taint count so far: an eviction is for this taint only.
        generation: u32,
    },
    /// Heard from again: its taints are removed.
    Ready(u32),
}

/// The control-plane hosts as registered nodes, numbered after the workers. Their kubelets
/// renew their node Lease through the load balancer like the workers' do (kubeadm's
/// `kubelet.conf` on a control-plane node names the control-plane endpoint), every quarter of
/// `nodeLeaseDurationSeconds` ([`crate::spec::Kubelet::lease_renew_interval`]) from a phase of
/// their own: the heartbeat the node controller reads with the NodeLease feature, on in v1.16.
/// They are not simulated as traffic: a renewal counts when it gets through, which the control
/// plane judges from its fault plan.
#[derive(Debug, Clone, Default)]
pub struct ControlPlaneNodes {
    /// Node number of the first master.
    first: u32,
    /// Between two Lease renewals.
    period: SimDuration,
    /// Per master: its first renewal after time zero.
    phase: Vec<SimDuration>,
    /// Per master: when its route to the load balancer carries nothing.
    to_lb_down: Vec<Vec<(SimTime, SimTime)>>,
}

impl ControlPlaneNodes {
    /// Masters numbered from `first`, renewing every `period` from `phase[m]`, their routes to
    /// the balancer down over `to_lb_down[m]`.
    pub fn new(
        first: u32,
        period: SimDuration,
        phase: Vec<SimDuration>,
        to_lb_down: Vec<Vec<(SimTime, SimTime)>>,
    ) -> ControlPlaneNodes {
        ControlPlaneNodes {
            first,
            period: period.max(SimDuration::from_millis(1)),
            phase,
            to_lb_down,
        }
    }

    /// How many masters.
    pub fn len(&self) -> usize {
        self.phase.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.phase.is_empty()
    }

    /// Master `m`'s node number.
    pub fn node(&self, m: usize) -> u32 {
        self.first + m as u32
    }

    /// Whether node `n` is a master's.
    pub fn is_master(&self, n: u32) -> bool {
        n >= self.first && ((n - self.first) as usize) < self.len()
    }

    /// Master `m`'s Lease renewals after `after` and at or before `until`, the latest first.
    pub fn posts_between(&self, m: usize, after: SimTime, until: SimTime) -> impl Iterator<Item = SimTime> {
        let first = self.phase.get(m).map(|&phase| SimTime::ZERO + phase);
        let p = self.period.as_nanos();
        let made = first
            .filter(|&f| until >= f)
            .map_or(0, |f| until.saturating_since(f).as_nanos() / p + 1);
        let first = first.unwrap_or(SimTime::ZERO);
        (0..made)
            .rev()
            .map(move |k| first + SimDuration::from_nanos(k * p))
            .take_while(move |&t| t > after)
    }

    /// Whether master `m`'s route to the balancer carries packets at `t`.
    pub fn reaches_lb(&self, m: usize, t: SimTime) -> bool {
        self.to_lb_down
            .get(m)
            .is_none_or(|w| crate::faults::covering(w, t).is_none())
    }
}

/// The controller's view of the nodes.
#[derive(Debug, Clone)]
pub struct NodeLifecycle {
    grace: SimDuration,
    /// Whether the node counts in its zone's state ([`is_master_node`] says no for some).
    in_zone: Vec<bool>,
    last_heartbeat: Vec<SimTime>,
    not_ready: Vec<bool>,
    /// Whether the node carries `NoExecute`, and its taint generation.
    no_execute: Vec<bool>,
    generation: Vec<u32>,
    /// NotReady nodes waiting for the rate-limited `NoExecute` taint, in order.
    queue: VecDeque<u32>,
    /// When the queue's token bucket (burst 1) last gave a token.
    last_taint: Option<SimTime>,
    /// Every node NotReady: the controller suspects itself and evicts nothing.
    master_disruption: bool,
}

impl NodeLifecycle {
    /// `nodes` nodes, all counted in the zone, all heard from at time zero, marked NotReady
    /// after `grace` of silence.
    pub fn new(nodes: usize, grace: SimDuration) -> NodeLifecycle {
        NodeLifecycle::with_zone(vec![true; nodes], grace)
    }

    /// The nodes `names`, each counted in the zone unless [`is_master_node`] says it is a
    /// master's; otherwise as [`NodeLifecycle::new`].
    pub fn named<S: AsRef<str>>(names: &[S], grace: SimDuration) -> NodeLifecycle {
        NodeLifecycle::with_zone(names.iter().map(|n| !is_master_node(n.as_ref())).collect(), grace)
    }

    fn with_zone(in_zone: Vec<bool>, grace: SimDuration) -> NodeLifecycle {
        let nodes = in_zone.len();
        NodeLifecycle {
            grace,
            in_zone,
            last_heartbeat: vec![SimTime::ZERO; nodes],
            not_ready: vec![false; nodes],
            no_execute: vec![false; nodes],
            generation: vec![0; nodes],
            queue: VecDeque::new(),
            last_taint: None,
            master_disruption: false,
        }
    }

    /// A new controller-manager leading from `t` (v1.16 starts its controllers in
    /// `OnStartedLeading`, with no state but what etcd holds). A node the old leader marked
    /// NotReady is still `Ready=Unknown` with its taints, and goes on as such until its kubelet
    /// is heard from; a node it had not marked gets a full grace period from `t`, the new
    /// controller's first sight of it ("Missing timestamp for Node ... Assuming now as a
    /// timestamp"). The new taint manager counts every pod's toleration from its own start:
    /// returns each `NoExecute` node with its new taint generation (an eviction the old leader
    /// armed is dropped), for the caller to arm from `t`. The `NoExecute` queue starts over
    /// with the NotReady nodes not yet tainted, its rate limiter fresh.
    pub fn take_over(&mut self, t: SimTime) -> Vec<(u32, u32)> {
        let n = self.not_ready.len();
        for i in 0..n {
            if !self.not_ready[i] {
                self.last_heartbeat[i] = self.last_heartbeat[i].max(t);
            }
        }
        self.queue = (0..n)
            .filter(|&i| self.not_ready[i] && !self.no_execute[i])
            .map(|i| i as u32)
            .collect();
        self.last_taint = None;
        (0..n)
            .filter(|&i| self.no_execute[i])
            .map(|i| {
                self.generation[i] += 1;
                (i as u32, self.generation[i])
            })
            .collect()
    }

    /// Node `n`'s heartbeat reached the control plane at `t`.
    pub fn heartbeat(&mut self, n: u32, t: SimTime) {
        if let Some(h) = self.last_heartbeat.get_mut(n as usize) {
            *h = (*h).max(t);
        }
    }

    /// Whether node `n` carries the `NoExecute` taint of generation `generation` now.
    pub fn still_tainted(&self, n: u32, generation: u32) -> bool {
        let i = n as usize;
        self.no_execute.get(i) == Some(&true) && self.generation.get(i) == Some(&generation)
    }

    /// The zone's nodes, and how many of them are NotReady (`ComputeZoneState`'s counts).
    fn zone_counts(&self) -> (usize, usize) {
        let counted = || (0..self.in_zone.len()).filter(|&i| self.in_zone[i]);
        (counted().count(), counted().filter(|&i| self.not_ready[i]).count())
    }

    /// The rate at which the zone's NotReady nodes are tainted `NoExecute` now.
    fn eviction_rate(&self) -> f64 {
        let (total, not_ready) = self.zone_counts();
        if total == 0 {
            // No node in the zone's counts: its state stays initial, at the normal rate.
            NODE_EVICTION_RATE
        } else if not_ready == total {
            0.0 // full disruption
        } else if not_ready > 2 && not_ready as f64 / total as f64 >= UNHEALTHY_ZONE_THRESHOLD {
            if total > LARGE_CLUSTER_SIZE_THRESHOLD {
                SECONDARY_NODE_EVICTION_RATE
            } else {
                0.0
            }
        } else {
            NODE_EVICTION_RATE
        }
    }

    /// The monitor's check at `t`: what changes.
    pub fn tick(&mut self, t: SimTime) -> Vec<Action> {
        let mut out = Vec::new();
        for i in 0..self.not_ready.len() {
            let silent = t.saturating_since(self.last_heartbeat[i]) > self.grace;
            match (silent, self.not_ready[i]) {
                (true, false) => {
                    self.not_ready[i] = true;
                    self.queue.push_back(i as u32);
                    out.push(Action::NotReady(i as u32));
                }
                (false, true) => {
                    self.not_ready[i] = false;
                    self.no_execute[i] = false;
                    self.queue.retain(|&n| n as usize != i);
                    out.push(Action::Ready(i as u32));
                }
                _ => {}
            }
        }
        // Every node of the zone NotReady: master disruption, every NoExecute taint removed.
        // Leaving it, the NotReady nodes queue for the taint again.
        let (total, not_ready) = self.zone_counts();
        let all = total > 0 && not_ready == total;
        if all && !self.master_disruption {
            self.master_disruption = true;
            self.no_execute.iter_mut().for_each(|x| *x = false);
            self.queue.clear();
        } else if !all && self.master_disruption {
            self.master_disruption = false;
            for i in 0..self.not_ready.len() {
                if self.not_ready[i] && !self.no_execute[i] {
                    self.queue.push_back(i as u32);
                }
            }
        }
        // The NoExecute queue, through its token bucket of burst 1.
        let rate = self.eviction_rate();
        if rate <= 0.0 {
            return out;
        }
        while let Some(&n) = self.queue.front() {
            let interval = SimDuration::from_secs_f64(1.0 / rate);
            if self.last_taint.is_some_and(|last| t.saturating_since(last) < interval) {
                break;
            }
            self.queue.pop_front();
            self.last_taint = Some(t);
            let i = n as usize;
            self.no_execute[i] = true;
            self.generation[i] += 1;
            out.push(Action::NoExecute {
                node: n,
                generation: self.generation[i],
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    /// Runs the monitor every 5 s up to `until`, with nodes in `silent` quiet from `from` and
    /// the others beating every 10 s; returns what happened, with times.
    fn run(nodes: usize, silent: &[u32], from: u64, until: u64) -> Vec<(u64, Action)> {
        run_named(&vec![""; nodes], silent, from, until)
    }

    /// As [`run`], with the nodes `names` (those [`is_master_node`] takes for masters' left out
    /// of the zone; an empty name counts).
    fn run_named(names: &[&str], silent: &[u32], from: u64, until: u64) -> Vec<(u64, Action)> {
        let nodes = names.len();
        let mut c = NodeLifecycle::named(names, SimDuration::from_secs(40));
        let mut out = Vec::new();
        let mut t = 0;
        while t <= until {
            if t % 10 == 0 {
                for n in 0..nodes as u32 {
                    if !(silent.contains(&n) && t >= from) {
                        c.heartbeat(n, s(t));
                    }
                }
            }
            out.extend(c.tick(s(t)).into_iter().map(|a| (t, a)));
            t += 5;
        }
        out
    }

    #[test]
    fn a_silent_node_is_not_ready_after_the_grace_period_and_tainted_then() {
        // Last heard at 0 s (silent from 10 s): NotReady at the first check past 40 s.
        let a = run(4, &[1], 10, 60);
        assert_eq!(
            a,
            vec![
                (45, Action::NotReady(1)),
                (45, Action::NoExecute { node: 1, generation: 1 })
            ]
        );
    }

    #[test]
    fn nodes_are_tainted_one_per_10_s() {
        let a = run(6, &[0, 1], 10, 70);
        let taints: Vec<u64> = a
            .iter()
            .filter(|(_, x)| matches!(x, Action::NoExecute { .. }))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(taints, vec![45, 55]);
    }

    #[test]
    fn a_zone_with_no_ready_node_evicts_nothing() {
        let a = run(4, &[0, 1, 2, 3], 10, 200);
        assert!(a.iter().all(|(_, x)| matches!(x, Action::NotReady(_))), "{a:?}");
        assert_eq!(a.len(), 4);
    }

    #[test]
    fn a_partly_disrupted_small_cluster_evicts_nothing_a_large_one_slowly() {
        // 3 of 4 NotReady: more than 2 and over 55 %: partial disruption; 4 nodes are a small
        // cluster, so nothing is tainted.
        let a = run(4, &[0, 1, 2], 10, 200);
        assert!(!a.iter().any(|(_, x)| matches!(x, Action::NoExecute { .. })), "{a:?}");
        // 60 of 100: a large cluster: one node per 100 s.
        let silent: Vec<u32> = (0..60).collect();
        let a = run(100, &silent, 10, 300);
        let taints: Vec<u64> = a
            .iter()
            .filter(|(_, x)| matches!(x, Action::NoExecute { .. }))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(taints, vec![45, 145, 245]);
    }

    #[test]
    fn every_node_not_ready_removes_the_taints_already_placed() {
        // Node 0 silent from 10 s, tainted at 45 s; the others silent from 50 s: all NotReady at
        // 95 s, master disruption: node 0's taint goes (its eviction is cancelled).
        let mut c = NodeLifecycle::new(3, SimDuration::from_secs(40));
        let mut t = 0;
        let mut tainted_gen = None;
        while t <= 100 {
            if t % 10 == 0 {
                for n in 0..3 {
                    if (n == 0 && t < 10) || (n > 0 && t < 50) {
                        c.heartbeat(n, s(t));
                    }
                }
            }
            for a in c.tick(s(t)) {
                if let Action::NoExecute { node: 0, generation } = a {
                    tainted_gen = Some(generation);
                }
            }
            t += 5;
        }
        let g = tainted_gen.expect("node 0 was tainted before the others went quiet");
        assert!(!c.still_tainted(0, g), "master disruption removes the taint");
        // Node 1 back: out of disruption, nodes 0 and 2 queue for the taint again.
        c.heartbeat(1, s(110));
        let a = c.tick(s(110));
        assert!(a.contains(&Action::Ready(1)), "{a:?}");
        assert!(
            a.iter().any(|x| matches!(x, Action::NoExecute { node: 0, .. })),
            "{a:?}"
        );
    }

    /// A new controller-manager keeps what etcd holds: the tainted node stays NotReady with a
    /// new taint generation to evict from (the old one's eviction is dropped); the node heard
    /// from has its grace period from the takeover.
    #[test]
    fn a_takeover_keeps_the_taints_and_gives_the_others_a_fresh_grace_period() {
        let mut c = NodeLifecycle::new(3, SimDuration::from_secs(40));
        c.heartbeat(0, s(100));
        c.heartbeat(2, s(70));
        c.tick(s(100)); // node 1, silent since 0 s, goes NotReady and is tainted
        assert!(c.still_tainted(1, 1));
        assert_eq!(c.take_over(s(105)), vec![(1, 2)]);
        assert!(!c.still_tainted(1, 1) && c.still_tainted(1, 2));
        // Node 2, last heard at 70 s, is given 40 s from the takeover, not from 70 s.
        assert!(c.tick(s(140)).is_empty());
        c.heartbeat(0, s(145));
        assert_eq!(
            c.tick(s(150)),
            vec![Action::NotReady(2), Action::NoExecute { node: 2, generation: 1 }]
        );
        // Heard from again, node 1 is Ready.
        c.heartbeat(1, s(152));
        assert!(c.tick(s(155)).contains(&Action::Ready(1)));
    }

    #[test]
    fn a_control_plane_nodes_posts_keep_their_period_from_its_phase() {
        let ms = SimDuration::from_millis;
        let down = vec![vec![], vec![(s(30), s(60))]];
        let c = ControlPlaneNodes::new(4, SimDuration::from_secs(10), vec![ms(2500), ms(7000)], down);
        let posts =
            |m: usize, after: u64, until: SimTime| -> Vec<SimTime> { c.posts_between(m, s(after), until).collect() };
        assert_eq!(posts(0, 0, s(2)), vec![], "before its first post");
        assert_eq!(
            posts(0, 0, s(25)),
            vec![
                SimTime::ZERO + ms(22_500),
                SimTime::ZERO + ms(12_500),
                SimTime::ZERO + ms(2_500)
            ]
        );
        assert_eq!(posts(0, 20, s(25)), vec![SimTime::ZERO + ms(22_500)]);
        assert_eq!(posts(0, 23, s(25)), vec![], "none in (23 s, 25 s]");
        assert_eq!(
            posts(1, 20, SimTime::ZERO + ms(27_000)),
            vec![SimTime::ZERO + ms(27_000)]
        );
        assert_eq!((c.node(0), c.node(1)), (4, 5));
        assert!(!c.is_master(3) && c.is_master(4) && c.is_master(5) && !c.is_master(6));
        assert!(c.reaches_lb(1, s(29)) && !c.reaches_lb(1, s(30)) && c.reaches_lb(1, s(60)));
    }

    #[test]
    fn kubeadm_master_names_are_not_taken_for_masters() {
        for name in ["master", "k8s-master", "master-abc", "kube-master-x1z"] {
            assert!(is_master_node(name), "{name}");
        }
        // v1.16 wants `master-` and exactly three more characters, and at least 10 in all.
        for name in [
            "master01",
            "master02",
            "node01",
            "master-a",
            "master-abcd",
            "mastery",
            "",
        ] {
            assert!(!is_master_node(name), "{name}");
        }
    }

    #[test]
    fn masters_counted_in_the_zone_keep_three_silent_workers_of_four_evictable() {
        // Three of the four workers silent from 10 s; the masters keep beating.
        let taints = |masters: [&str; 3]| -> Vec<(u64, u32)> {
            let names = [
                "node01", "node02", "node03", "node04", masters[0], masters[1], masters[2],
            ];
            run_named(&names, &[0, 1, 2], 10, 80)
                .into_iter()
                .filter_map(|(t, a)| match a {
                    Action::NoExecute { node, .. } => Some((t, node)),
                    _ => None,
                })
                .collect()
        };
        // 3 of 7 NotReady: under 55 %, a normal zone: one taint per 10 s.
        assert_eq!(
            taints(["master01", "master02", "master03"]),
            vec![(45, 0), (55, 1), (65, 2)]
        );
        // Had the masters been named so that `IsMasterNode` leaves them out, 3 of 4 would be a
        // partly disrupted small zone: nothing tainted.
        assert_eq!(taints(["k8s-master", "a-master", "b-master"]), vec![]);
    }

    #[test]
    fn a_zone_whose_counted_nodes_are_all_not_ready_is_fully_disrupted_though_masters_beat() {
        // The two workers silent; the one node left out of the zone keeps beating: the zone
        // (the two workers) is fully disrupted, nothing is tainted.
        let mut c = NodeLifecycle::named(&["w1", "w2", "k8s-master"], SimDuration::from_secs(40));
        for t in (0..=100).step_by(5) {
            if t % 10 == 0 {
                c.heartbeat(2, s(t));
            }
            assert!(
                !c.tick(s(t)).iter().any(|a| matches!(a, Action::NoExecute { .. })),
                "{t}"
            );
        }
    }

    #[test]
    fn a_node_heard_again_is_ready_and_loses_its_taint() {
        let mut c = NodeLifecycle::new(4, SimDuration::from_secs(40));
        for n in 0..4 {
            c.heartbeat(n, s(50));
        }
        let a = c.tick(s(45));
        assert!(a.is_empty());
        c.heartbeat(0, s(100));
        c.heartbeat(2, s(100));
        c.heartbeat(3, s(100));
        let a = c.tick(s(100));
        assert_eq!(
            a,
            vec![Action::NotReady(1), Action::NoExecute { node: 1, generation: 1 }]
        );
        assert!(c.still_tainted(1, 1));
        c.heartbeat(1, s(120));
        assert_eq!(c.tick(s(120)), vec![Action::Ready(1)]);
        assert!(!c.still_tainted(1, 1));
    }
}
