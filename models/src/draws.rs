//! Keyed random draws: common random numbers for what a kubelet samples per pod.
//!
//! A kubelet used to take every draw (Docker's operation times, pull times, the pod worker's
//! requeue jitter, the status goroutine's `select`) from its one stream in the order the
//! events came. Anything that changed the order or the number of draws, such as a longer delay
//! adding status syncs, then shifted every later pod's Docker and pull times. Two runs with the
//! same seed at 100 ms and 500 ms then differed by more than the delay. Calibration, sweeps
//! and fault-versus-baseline comparisons lose most of what common random numbers give them.
//!
//! Here each pod's draw comes from a stream of its own, keyed by (run seed, node, pod,
//! purpose, attempt) through [`sim_core::Context::keyed_rng`]; the apiserver's service time of
//! a request is keyed by (client's name, request); the network's jitter and loss on each
//! message are keyed by what the message is: a request by its call id (drawn at the client), a
//! reply by client and call, a watch event by its watcher and what it says, a pull's round
//! trips by the node's pull sequence ([`pull_key`]). Pod `k`'s sandbox time on a node is then
//! the same number whatever the other pods or the network did, as long as the pod lands on the
//! same node, and so are the node's `n`-th pull's draws, whichever pod makes it.

use sim_core::rng::mix64;

use crate::api::{Phase, WatchEvent};

/// What a per-pod draw is for; with the attempt, it keys the draw's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Docker creating the pod's sandbox (pause container and CNI set-up).
    Sandbox,
    /// Docker creating and starting the pod's container.
    ContainerStart,
    /// The pod worker's `n`-th requeue after a failed pull (0 first).
    Requeue(u32),
}

impl Purpose {
    fn key(self) -> u64 {
        let (tag, n): (u64, u32) = match self {
            Purpose::Sandbox => (1, 0),
            Purpose::ContainerStart => (2, 0),
            Purpose::Requeue(n) => (4, n),
        };
        (tag << 32) | u64::from(n)
    }
}

/// The key of `pod`'s draw for `purpose`, for [`sim_core::Context::keyed_rng`]: the same
/// number for the same run seed, node, pod and purpose, whatever else happened in the run.
pub fn pod_key(pod: u32, purpose: Purpose) -> u64 {
    mix64(u64::from(pod) ^ mix64(purpose.key()))
}

/// The key of the draws of a node's `nth` image pull (0 first; every attempt Docker is asked
/// for counts, a failed one too, not one the kubelet's registry limiter refused, which draws
/// nothing): the pull's registry time and a first pull's download factor, or, with `network`,
/// the network's draws (jitter and loss) for its round trips to a registry on the overlay,
/// apart from the pull's own so that a jitter changes no other draw.
///
/// Keyed by the puller's sequence, not by the pod: the puller takes pods in the order their
/// image checks come, which a delay can change (a pod that waited for the Secret's LIST, a
/// volume manager loop missed). Keyed by the pod, the pod that came first would download the
/// image with its own draw and the one that came first before would make a cached pull with
/// its own: the node's pull times would change by the difference of two unrelated draws. Keyed
/// by the sequence, the node's pulls make the same draws in the same order (and take the same
/// times, unless what the draws apply to changed: an outage, a pull sharing a download).
pub fn pull_key(nth: u32, network: bool) -> u64 {
    mix64(mix64(0x5055_4c4c ^ (u64::from(network) << 40)) ^ u64::from(nth)) // "PULL"
}

/// The key of the kubelet's status goroutine's stream (Go's `select` and map order).
pub const STATUS_GOROUTINE: u64 = 0x5354_4154_5553; // "STATUS"

/// The key of the apiserver's service-time draw for call `id` of the client whose stable key
/// (the hash of its component's name) is `client`.
pub fn call_key(client: u64, id: u32) -> u64 {
    mix64(mix64(client) ^ u64::from(id))
}

/// The key of the network's draws (netem's jitter and loss, a degradation's) for the request of
/// call `id`, drawn at the client: the same for the same call whatever the client's other
/// messages drew.
pub fn request_key(id: u32) -> u64 {
    mix64(0x5245_5155_4553_5400 ^ u64::from(id)) // "REQUEST"
}

/// The key of the network's draws for the reply to call `id` of the client whose stable key is
/// `client`, drawn at the control plane.
pub fn reply_key(client: u64, id: u32) -> u64 {
    mix64(call_key(client, id) ^ 0x5245_504C_5900) // "REPLY"
}

/// The key of the network's draws for the request of call `id` sent again after its
/// `refused`-th `429 Too Many Requests` (1 first), drawn at the client.
pub fn resend_key(id: u32, refused: u8) -> u64 {
    mix64(request_key(id) ^ (u64::from(refused) << 48) ^ 0x0034_3239) // "429"
}

/// The key of the network's draws for the `refused`-th `429 Too Many Requests` answer (1 first)
/// to call `id` of the client whose stable key is `client`, drawn at the control plane.
pub fn refusal_key(client: u64, id: u32, refused: u8) -> u64 {
    mix64(reply_key(client, id) ^ (u64::from(refused) << 48) ^ 0x0034_3239) // "429"
}

/// The key of the network's draws for watch event `ev` to the watcher whose stable key is
/// `watcher`, drawn at the control plane: keyed by what the event says (which object, which
/// change), not by how many events went before it.
pub fn watch_key(watcher: u64, ev: &WatchEvent) -> u64 {
    let (tag, a, b): (u64, u32, u32) = match *ev {
        WatchEvent::Deployment(n) => (1, n, 0),
        WatchEvent::ReplicaSet(n) => (2, n, 0),
        WatchEvent::PodAdded(pod) => (3, pod, 0),
        WatchEvent::PodBound { pod, node } => (4, pod, node),
        WatchEvent::PodPhase { pod, phase } => (
            5,
            pod,
            match phase {
                Phase::Pending => 0,
                Phase::Waiting(n) => 1 + u32::from(n),
                Phase::Running => u32::MAX,
            },
        ),
        WatchEvent::PodDeleted(pod) => (6, pod, 0),
        WatchEvent::PodGone { node } => (7, node, 0),
        WatchEvent::NodeSchedulable { node, schedulable } => (8, node, u32::from(schedulable)),
    };
    mix64(mix64(watcher ^ 0x5741_5443_4800) ^ (tag << 56) ^ (u64::from(a) << 24) ^ u64::from(b))
    // "WATCH"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_purposes_and_attempts_give_distinct_keys() {
        let keys = [
            pod_key(7, Purpose::Requeue(0)),
            pod_key(7, Purpose::Requeue(1)),
            pod_key(8, Purpose::Requeue(0)),
            pod_key(7, Purpose::Sandbox),
            pod_key(7, Purpose::ContainerStart),
            pull_key(0, false),
            pull_key(1, false),
            pull_key(0, true),
            pull_key(7, false),
            STATUS_GOROUTINE,
        ];
        for i in 0..keys.len() {
            for j in 0..i {
                assert_ne!(keys[i], keys[j], "keys {i} and {j} coincide");
            }
        }
        assert_ne!(call_key(1, 2), call_key(2, 1));
        assert_ne!(request_key(1), request_key(2));
        assert_ne!(resend_key(1, 1), resend_key(1, 2));
        assert_ne!(resend_key(1, 1), request_key(1));
        assert_ne!(refusal_key(3, 1, 1), refusal_key(3, 1, 2));
        assert_ne!(refusal_key(3, 1, 1), reply_key(3, 1));
        assert_ne!(reply_key(1, 2), reply_key(2, 1));
        assert_ne!(reply_key(1, 2), call_key(1, 2));
        let events = [
            WatchEvent::PodAdded(3),
            WatchEvent::PodDeleted(3),
            WatchEvent::PodBound { pod: 3, node: 1 },
            WatchEvent::PodBound { pod: 3, node: 2 },
            WatchEvent::PodPhase {
                pod: 3,
                phase: Phase::Pending,
            },
            WatchEvent::PodPhase {
                pod: 3,
                phase: Phase::Waiting(0),
            },
            WatchEvent::PodPhase {
                pod: 3,
                phase: Phase::Running,
            },
            WatchEvent::NodeSchedulable {
                node: 3,
                schedulable: true,
            },
            WatchEvent::NodeSchedulable {
                node: 3,
                schedulable: false,
            },
        ];
        let keys: Vec<u64> = events.iter().map(|e| watch_key(9, e)).collect();
        for i in 0..keys.len() {
            for j in 0..i {
                assert_ne!(keys[i], keys[j], "{:?} and {:?}", events[i], events[j]);
            }
        }
        assert_ne!(watch_key(9, &events[0]), watch_key(10, &events[0]));
    }
}
