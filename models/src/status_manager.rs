//! The kubelet's status manager goroutine (pkg/kubelet/status/status_manager.go, v1.16): which
//! status it syncs next. The kubelet does the I/O (GET, then PATCH); this module decides.
//!
//! The goroutine loops on a Go `select` over two cases:
//!
//! - `podStatusChannel` (buffer 1000): every status change the pod workers report
//!   (`SetPodStatus`) enqueues the new status version. A request syncs the status *it carries*,
//!   even if a newer one exists, unless a version at least as new was already sent
//!   (`needsUpdate` compares versions).
//! - `syncTicker` (10 s, [`STATUS_SYNC_PERIOD`]): `syncBatch` lists every pod whose latest
//!   status is not yet sent, with that status, in Go map order (random), then syncs the listed
//!   statuses one by one, each checked again with `needsUpdate`.
//!
//! A sync that fails (its connection lost, [`crate::api::Obj::fails_with`]) records no version
//! sent ([`StatusManager::sent`] is not called): the status stays unsent, and the request that
//! carried it is used up, so the next `syncBatch` lists it again.
//!
//! When both are ready Go picks one uniformly at random. A `time.Tick` channel holds one tick:
//! ticks that come while the goroutine is busy collapse into one.
//!
//! `syncBatch` also re-syncs every pod for which `needsReconcile` finds the kubelet's watch copy
//! different from the status it sent:
//!
//! - For the workload's pods the window is empty: the watch echo of a PATCH arrives with the
//!   PATCH's reply. Not modelled.
//! - For hostNetwork pods (kubeadm's kube-proxy and the CNI agent, e.g. weave-net, on every
//!   node) it never closes in v1.16.3: the kubelet sets a hostNetwork pod's `PodIP` but leaves
//!   `PodIPs` empty, the apiserver's conversion fills `PodIPs` in, and the two copies differ at
//!   every tick, so every batch sends each such pod's status again (GET + a PATCH that changes
//!   nothing). Fixed by kubernetes PR #88988 (March 2020; cherry-pick #88992 to release-1.16).
//!   Modelled as [`Sync::HostNetwork`] when the kubelet is configured to have the bug.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;

use rand::seq::SliceRandom;
use rand::Rng;
use sim_core::SimDuration;

use crate::api::Phase;

/// `syncPeriod = 10 * time.Second` in pkg/kubelet/status/status_manager.go (v1.16; a constant,
/// no flag): the period of the status manager's `syncTicker`.
pub const STATUS_SYNC_PERIOD: SimDuration = SimDuration::from_secs(10);

/// One `syncPod`: a GET of the pod, then a PATCH of its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sync {
    /// A workload pod's status: (pod index, the status sent).
    Pod(u32, Phase),
    /// The status of the node's `k`-th hostNetwork DaemonSet pod, re-sent by `syncBatch`'s
    /// reconcile; it changes nothing on the apiserver.
    HostNetwork(u32),
}

/// The status goroutine's queues and versions on one kubelet. Phases stand for versions: a
/// pod's Running status is always newer than its Pending one.
#[derive(Debug, Default)]
pub struct StatusManager {
    /// `podStatusChannel`: (pod, the status it carries).
    channel: VecDeque<(u32, Phase)>,
    /// What a running `syncBatch` listed and has still to sync.
    batch: VecDeque<Sync>,
    /// hostNetwork pods that every `syncBatch` re-syncs (0 without the PodIPs bug).
    host_network_resyncs: u32,
    /// A `syncTicker` tick is waiting to be taken.
    tick_due: bool,
    /// `podStatuses`, restricted to the pods whose latest status is not yet sent (what a
    /// `syncBatch` would list); a pod leaves it once its latest status is sent.
    unsent: HashMap<u32, Phase>,
    /// `apiStatusVersions`: the newest status sent for each pod.
    sent: HashMap<u32, Phase>,
}

impl StatusManager {
    /// An idle status manager with nothing to sync, on a node where every `syncBatch` re-syncs
    /// `host_network_resyncs` hostNetwork pods (0: none, or a kubelet without the bug).
    pub fn new(host_network_resyncs: u32) -> StatusManager {
        StatusManager {
            host_network_resyncs,
            ..StatusManager::default()
        }
    }

    /// `SetPodStatus`: a pod worker reports `pod`'s new status.
    pub fn set(&mut self, pod: u32, phase: Phase) {
        self.unsent.insert(pod, phase);
        self.channel.push_back((pod, phase));
    }

    /// The `syncTicker` ticked.
    pub fn tick(&mut self) {
        self.tick_due = true;
    }

    /// `needsUpdate`: no status at least as new as `phase` has been sent for `pod`.
    pub fn needs_update(&self, pod: u32, phase: Phase) -> bool {
        self.sent.get(&pod).is_none_or(|&sent| sent < phase)
    }

    /// Whether a tick can find work: a request queued, a pod's latest status unsent, or
    /// hostNetwork pods to re-sync (then always: the ticker never idles).
    pub fn has_work(&self) -> bool {
        self.host_network_resyncs > 0 || !self.channel.is_empty() || !self.batch.is_empty() || !self.unsent.is_empty()
    }

    /// The idle goroutine's next sync, or `None` when it blocks in `select` with nothing
    /// ready. Requests and listed statuses that no longer need an update are passed over on
    /// the way.
    pub fn next(&mut self, rng: &mut impl Rng) -> Option<Sync> {
        loop {
            match self.batch.pop_front() {
                Some(Sync::Pod(pod, phase)) if !self.needs_update(pod, phase) => continue,
                Some(sync) => return Some(sync),
                None => {}
            }
            let take_tick = match (!self.channel.is_empty(), self.tick_due) {
                (false, false) => return None,
                (true, false) => false,
                (false, true) => true,
                (true, true) => rng.random::<bool>(),
            };
            if take_tick {
                self.tick_due = false;
                let mut listed: Vec<Sync> = self
                    .unsent
                    .iter()
                    .map(|(&pod, &phase)| Sync::Pod(pod, phase))
                    .chain((0..self.host_network_resyncs).map(Sync::HostNetwork))
                    .collect();
                // Sorted first so that the shuffle, not the hash map, decides the order.
                listed.sort_unstable();
                listed.shuffle(rng);
                self.batch = listed.into();
            } else if let Some((pod, phase)) = self.channel.pop_front() {
                if self.needs_update(pod, phase) {
                    return Some(Sync::Pod(pod, phase));
                }
            }
        }
    }

    /// The PATCH of `sync` succeeded.
    pub fn sent(&mut self, sync: Sync) {
        if let Sync::Pod(pod, phase) = sync {
            let sent = self.sent.entry(pod).or_insert(phase);
            *sent = (*sent).max(phase);
            let sent = *sent;
            if self.unsent.get(&pod).is_some_and(|&latest| latest <= sent) {
                self.unsent.remove(&pod);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use sim_core::rng::SimRng as Pcg64Mcg;

    use super::*;
    use Phase::{Pending, Running};

    fn rng() -> Pcg64Mcg {
        Pcg64Mcg::seed_from_u64(1)
    }

    /// Runs the goroutine until it blocks, each sync succeeding at once.
    fn drain(m: &mut StatusManager, rng: &mut Pcg64Mcg) -> Vec<Sync> {
        let mut out = Vec::new();
        while let Some(sync) = m.next(rng) {
            m.sent(sync);
            out.push(sync);
        }
        out
    }

    #[test]
    fn a_queued_request_syncs_the_status_it_carries_even_when_superseded() {
        let mut m = StatusManager::new(0);
        m.set(7, Pending);
        m.set(7, Running); // the pod moved on before the goroutine got to the first request
        assert_eq!(
            drain(&mut m, &mut rng()),
            vec![Sync::Pod(7, Pending), Sync::Pod(7, Running)]
        );
        assert!(!m.has_work());
    }

    #[test]
    fn a_request_older_than_what_was_sent_is_passed_over() {
        let mut m = StatusManager::new(0);
        m.set(1, Pending);
        m.set(1, Running);
        m.sent(Sync::Pod(1, Running)); // e.g. a batch got there first
        assert_eq!(m.next(&mut rng()), None);
    }

    #[test]
    fn a_batch_lists_latest_statuses_and_the_channel_then_has_nothing_left() {
        let mut m = StatusManager::new(0);
        for pod in 0..5 {
            m.set(pod, Pending);
            m.set(pod, Running);
        }
        m.channel.clear(); // only the ticker is ready
        m.tick();
        let mut synced = drain(&mut m, &mut rng());
        assert_eq!(synced.len(), 5, "{synced:?}");
        synced.sort_unstable();
        assert_eq!(synced, (0..5).map(|p| Sync::Pod(p, Running)).collect::<Vec<_>>());
    }

    #[test]
    fn a_batch_syncs_each_status_as_listed() {
        let mut m = StatusManager::new(0);
        m.set(3, Pending);
        m.channel.clear();
        m.tick();
        let mut r = rng();
        assert_eq!(m.next(&mut r), Some(Sync::Pod(3, Pending)));
        // While that GET + PATCH is out, the pod moves on: the batch is done, the channel has it.
        m.set(3, Running);
        m.sent(Sync::Pod(3, Pending));
        assert_eq!(m.next(&mut r), Some(Sync::Pod(3, Running)));
    }

    /// A sync that failed (`syncPod` returned before recording the version sent) leaves the
    /// status unsent: the channel request was used up, so only the next batch syncs it again.
    #[test]
    fn a_failed_sync_waits_for_the_next_batch() {
        let mut m = StatusManager::new(0);
        let mut r = rng();
        m.set(4, Running);
        assert_eq!(m.next(&mut r), Some(Sync::Pod(4, Running)));
        // The PATCH failed: `sent` is not called.
        assert_eq!(m.next(&mut r), None, "nothing retries it before a tick");
        assert!(m.has_work(), "the ticker keeps ticking for the unsent status");
        m.tick();
        assert_eq!(m.next(&mut r), Some(Sync::Pod(4, Running)));
        m.sent(Sync::Pod(4, Running));
        assert!(!m.has_work());
    }

    #[test]
    fn a_batch_order_is_a_shuffle_of_the_pods() {
        let mut m = StatusManager::new(0);
        for pod in 0..20 {
            m.set(pod, Pending);
        }
        m.channel.clear();
        m.tick();
        let order: Vec<u32> = drain(&mut m, &mut rng())
            .into_iter()
            .map(|s| match s {
                Sync::Pod(pod, _) => pod,
                Sync::HostNetwork(_) => unreachable!("none configured"),
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        assert_ne!(order, sorted, "Go's map order is not the pods' order");
    }

    #[test]
    fn ticks_collapse_into_one_and_select_picks_either_ready_case() {
        let mut m = StatusManager::new(0);
        m.set(0, Pending);
        m.tick();
        m.tick();
        assert!(m.tick_due);
        // Over seeds, both cases get picked first when both are ready.
        let firsts: std::collections::HashSet<bool> = (0..32)
            .map(|seed| {
                let mut m = StatusManager::new(0);
                m.set(0, Pending);
                m.set(1, Pending);
                m.channel.pop_back(); // channel: pod 0 only; a batch would list 0 and 1
                m.tick();
                let mut r = Pcg64Mcg::seed_from_u64(seed);
                m.next(&mut r);
                m.batch.is_empty() // true: the channel was taken first
            })
            .collect();
        assert_eq!(firsts.len(), 2);
    }

    #[test]
    fn every_batch_resyncs_the_host_network_pods_and_nothing_else_when_idle() {
        let mut m = StatusManager::new(2);
        let mut r = rng();
        assert!(m.has_work(), "the ticker never idles with the PodIPs bug");
        for _ in 0..3 {
            m.tick();
            let mut synced = drain(&mut m, &mut r);
            synced.sort_unstable();
            assert_eq!(synced, vec![Sync::HostNetwork(0), Sync::HostNetwork(1)]);
        }
        // Between ticks the goroutine blocks.
        assert_eq!(m.next(&mut r), None);
        assert!(!StatusManager::new(0).has_work());
    }

    #[test]
    fn host_network_resyncs_share_the_batch_with_pods_in_random_order() {
        let positions: std::collections::HashSet<usize> = (0..32)
            .map(|seed| {
                let mut m = StatusManager::new(1);
                for pod in 0..3 {
                    m.set(pod, Pending);
                }
                m.channel.clear();
                m.tick();
                let order = drain(&mut m, &mut Pcg64Mcg::seed_from_u64(seed));
                assert_eq!(order.len(), 4);
                order.iter().position(|s| *s == Sync::HostNetwork(0)).unwrap()
            })
            .collect();
        assert!(positions.len() > 1, "{positions:?}");
    }
}
