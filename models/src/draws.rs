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
//! a request is keyed by (client's name, request). Pod `k`'s sandbox time on a node is then the same number whatever the other pods
//! or the network did, as long as the pod lands on the same node.

use sim_core::rng::mix64;

/// What a per-pod draw is for; with the attempt, it keys the draw's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Docker creating the pod's sandbox (pause container and CNI set-up).
    Sandbox,
    /// Docker creating and starting the pod's container.
    ContainerStart,
    /// The `n`-th pull the pod makes (0 first).
    Pull(u32),
    /// The pod worker's `n`-th requeue after a failed pull (0 first).
    Requeue(u32),
    /// The network's draws for the round trips of the pod's `n`-th pull from a registry on the
    /// overlay (jitter and loss; 0 first), apart from the pull's own so that a jitter changes
    /// no other draw.
    PullNetwork(u32),
}

impl Purpose {
    fn key(self) -> u64 {
        let (tag, n): (u64, u32) = match self {
            Purpose::Sandbox => (1, 0),
            Purpose::ContainerStart => (2, 0),
            Purpose::Pull(n) => (3, n),
            Purpose::Requeue(n) => (4, n),
            Purpose::PullNetwork(n) => (5, n),
        };
        (tag << 32) | u64::from(n)
    }
}

/// The key of `pod`'s draw for `purpose`, for [`sim_core::Context::keyed_rng`]: the same
/// number for the same run seed, node, pod and purpose, whatever else happened in the run.
pub fn pod_key(pod: u32, purpose: Purpose) -> u64 {
    mix64(u64::from(pod) ^ mix64(purpose.key()))
}

/// The key of the kubelet's status goroutine's stream (Go's `select` and map order).
pub const STATUS_GOROUTINE: u64 = 0x5354_4154_5553; // "STATUS"

/// The key of the apiserver's service-time draw for call `id` of the client whose stable key
/// (the hash of its component's name) is `client`.
pub fn call_key(client: u64, id: u32) -> u64 {
    mix64(mix64(client) ^ u64::from(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_purposes_and_attempts_give_distinct_keys() {
        let keys = [
            pod_key(7, Purpose::Pull(0)),
            pod_key(7, Purpose::Pull(1)),
            pod_key(8, Purpose::Pull(0)),
            pod_key(7, Purpose::Sandbox),
            pod_key(7, Purpose::ContainerStart),
            pod_key(7, Purpose::Requeue(0)),
            pod_key(7, Purpose::PullNetwork(0)),
            STATUS_GOROUTINE,
        ];
        for i in 0..keys.len() {
            for j in 0..i {
                assert_ne!(keys[i], keys[j], "keys {i} and {j} coincide");
            }
        }
        assert_ne!(call_key(1, 2), call_key(2, 1));
    }
}
