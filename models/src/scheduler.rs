//! kube-scheduler: a queue of pending pods, one scheduling cycle at a time, asynchronous binds.
//!
//! # Mechanism (Kubernetes v1.16, pkg/scheduler/scheduler.go `scheduleOne`)
//!
//! The scheduler's pod informer adds each new unscheduled pod to the active queue (FIFO for pods
//! of equal priority). One cycle at a time, it filters and scores the nodes (all of them below
//! 100 nodes; `percentageOfNodesToScore` trims larger clusters, adaptively from 50 % in v1.16)
//! and assumes the pod on the best node, then binds it in a goroutine (`POST pods/binding`)
//! through its client limiter (`clientConnection.qps 50, burst 100`), so the next cycle does not
//! wait for the bind. The default priorities (`SelectorSpreadPriority`, `LeastRequestedPriority`,
//! `BalancedResourceAllocation`) spread a Deployment's identical pods evenly; ties go to a random
//! node among the best (`selectHost`).
//!
//! A cycle costs `cycle_base + cycle_per_node x nodes scored`.

use std::collections::VecDeque;

use rand::Rng;
use sim_core::limiter::TokenBucket;
use sim_core::{Component, Context, SimDuration, SimTime};

use crate::api::{Ev, Local, Obj, WatchEvent};
use crate::client::Client;
use crate::spec::Scheduler as Cfg;

/// Nodes scored per cycle in v1.16: all nodes below 100, else the adaptive percentage
/// `max(5, 50 - nodes/125)` % of them, at least 100 (pkg/scheduler/core/generic_scheduler.go
/// `numFeasibleNodesToFind`).
pub fn nodes_scored(nodes: u32) -> u32 {
    if nodes < 100 {
        return nodes;
    }
    let pct = (50i64 - i64::from(nodes) / 125).max(5) as u64;
    ((u64::from(nodes) * pct / 100) as u32).max(100)
}

/// The scheduler.
#[derive(Debug)]
pub struct Scheduler {
    client: Client,
    queue: VecDeque<u32>,
    busy: bool,
    cycle: SimDuration,
    /// Pods assumed per worker.
    pub assigned: Vec<u32>,
    /// The workers holding the fewest pods, and that count: the spreading priorities' best
    /// nodes for a Deployment's identical pods. Kept incrementally so that a cycle costs O(1)
    /// here; the cost the real scheduler pays per node is in `cycle`.
    least: Vec<u32>,
    least_count: u32,
    /// When each pod's scheduling decision was made (by pod index).
    pub decided_at: Vec<Option<SimTime>>,
}

impl Scheduler {
    /// A scheduler over `workers` nodes talking through `client`.
    ///
    /// # Panics
    ///
    /// If the configured QPS or burst is invalid; scenario checks reject those first.
    pub fn new(mut client: Client, cfg: &Cfg, workers: u32) -> Scheduler {
        client.limiter = TokenBucket::new(cfg.kube_api_qps, cfg.kube_api_burst).expect("checked scheduler QPS/burst");
        let cycle = cfg.cycle_base.get() + cfg.cycle_per_node.get() * u64::from(nodes_scored(workers));
        Scheduler {
            client,
            queue: VecDeque::new(),
            busy: false,
            cycle,
            assigned: vec![0; workers as usize],
            least: (0..workers).collect(),
            least_count: 0,
            decided_at: Vec::new(),
        }
    }

    /// The client (for limiter statistics).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn next_cycle(&mut self, ctx: &mut Context<'_, Ev>) {
        if self.busy {
            return;
        }
        if let Some(pod) = self.queue.pop_front() {
            self.busy = true;
            ctx.send_self(self.cycle, Ev::Local(Local::Scheduled(pod)));
        }
    }

    /// Picks a random node among those with the fewest pods and assumes the pod on it.
    /// O(1) amortised: the list of least-loaded nodes is rebuilt once per load level.
    fn pick_node(&mut self, rng: &mut impl Rng) -> u32 {
        if self.least.is_empty() {
            self.least_count += 1;
            let c = self.least_count;
            self.least = (0..self.assigned.len() as u32)
                .filter(|&n| self.assigned[n as usize] == c)
                .collect();
        }
        let i = rng.random_range(0..self.least.len());
        let node = self.least.swap_remove(i);
        self.assigned[node as usize] += 1;
        node
    }
}

impl Component<Ev> for Scheduler {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        match event {
            Ev::Watch(WatchEvent::PodAdded(pod)) => {
                self.queue.push_back(pod);
                self.next_cycle(ctx);
            }
            Ev::Local(Local::Scheduled(pod)) => {
                self.busy = false;
                if self.assigned.is_empty() {
                    return;
                }
                let node = self.pick_node(ctx.rng());
                let i = pod as usize;
                if self.decided_at.len() <= i {
                    self.decided_at.resize(i + 1, None);
                }
                self.decided_at[i] = Some(ctx.now());
                self.client.send(Obj::Bind { pod, node }, ctx);
                self.next_cycle(ctx);
            }
            Ev::Rebind { master, host } => self.client.rebind(master, host),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_nodes_scored_below_100_then_adaptive() {
        assert_eq!(nodes_scored(4), 4);
        assert_eq!(nodes_scored(99), 99);
        assert_eq!(nodes_scored(1000), 420);
        assert_eq!(nodes_scored(5000), 500);
    }
}
