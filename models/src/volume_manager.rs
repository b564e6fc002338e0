//! When the kubelet's volume manager has mounted a pod's service-account token volume (v1.16).
//!
//! # Mechanism
//!
//! In v1.16 the ServiceAccount admission plugin gives every pod a Secret volume with its
//! service account's token (`default-token-xxxxx`; the projected token volume,
//! `BoundServiceAccountTokenVolume`, is alpha and off). Before the pod worker asks Docker for
//! the sandbox, `syncPod` waits for the pod's volumes (`WaitForAttachAndMount`), and for a
//! Secret volume the mount reads the Secret through the kubelet's watch-based Secret manager
//! (the default `configMapAndSecretChangeDetectionStrategy: Watch`):
//!
//! 1. When the pod is added (`HandlePodAdditions` → pod manager → `RegisterPod`), the first pod
//!    on the node that refers to the Secret starts a reflector for it alone: a LIST (served
//!    from the apiserver's watch cache) and a WATCH, through the kubelet's main client, over
//!    the link to the control plane. Later pods reuse it. When the last pod referring to it is
//!    gone the reflector stops, so each experiment run starts a new one on every node.
//! 2. The desired-state populator (every [`POPULATOR_PERIOD`]) adds the pod's volumes. The
//!    reconciler (every [`RECONCILER_PERIOD`]) first finds the new volume absent from the actual
//!    state of the world and only verifies that it is attached (`VerifyControllerAttachedVolume`,
//!    which for a Secret volume, not attachable, just marks it attached, in a goroutine of its
//!    own that is done long before the next pass); the mount starts at its next pass, 100 ms
//!    later (`reconciler.go` `reconcile`, read in the code index). A retried mount skips the
//!    verification: the volume stays attached after a failed mount.
//! 3. The Secret volume's `SetUp` gets the Secret from the manager's cache, which polls every
//!    [`CACHE_SYNC_POLL`] for the reflector's first LIST and gives up after
//!    [`CACHE_SYNC_TIMEOUT`]. A failed mount may be retried only after the operation
//!    executor's exponential back-off ([`RETRY_BACKOFF_INITIAL`], doubling).
//! 4. `WaitForAttachAndMount` checks every [`MOUNT_WAIT_POLL`] whether the volumes are mounted.
//!
//! So the first pod on each node waits for one round trip to the apiserver (the LIST) before
//! its sandbox starts. With 500 ms added each way the LIST takes about a second, at the edge of
//! the cache's one-second patience: the cache starts waiting two or three 100 ms loop ticks
//! after the LIST went out (populator, verification, mount), so the LIST arrives in time; with
//! 1,000 ms each way it does not, the mount fails and is retried after the back-off. For every
//! later pod the 300 ms poll hides the loops: the mount is done within 300 ms of the pod's
//! addition whether or not the verification pass is counted (leaving it out changed no
//! thesis-2019 figure below 1,000 ms each way). Writing the token's files (a tmpfs mount) takes
//! milliseconds and is folded into the sandbox time.
//!
//! Sources: `pkg/kubelet/volumemanager/volume_manager.go` (`podAttachAndMountRetryInterval`,
//! `reconcilerLoopSleepPeriod`, `desiredStateOfWorldPopulatorLoopSleepPeriod`),
//! `pkg/kubelet/util/manager/watch_based_manager.go` (`objectCache.Get`:
//! `wait.PollImmediate(10*time.Millisecond, time.Second, item.hasSynced)`; `AddReference`
//! starts the reflector), `pkg/util/goroutinemap/exponentialbackoff` (`initialDurationBeforeRetry
//! = 500 * time.Millisecond`, `maxDurationBeforeRetry = 2*time.Minute + 2*time.Second`);
//! `docs/research-kubelet-startup.md` §2.

use sim_core::{SimDuration, SimTime};

/// `desiredStateOfWorldPopulatorLoopSleepPeriod = 100 * time.Millisecond` (v1.16).
pub const POPULATOR_PERIOD: SimDuration = SimDuration::from_millis(100);
/// `reconcilerLoopSleepPeriod = 100 * time.Millisecond` (v1.16).
pub const RECONCILER_PERIOD: SimDuration = SimDuration::from_millis(100);
/// `podAttachAndMountRetryInterval = 300 * time.Millisecond` (v1.16).
pub const MOUNT_WAIT_POLL: SimDuration = SimDuration::from_millis(300);
/// The Secret cache's poll for its reflector's first LIST: 10 ms (`objectCache.Get`).
pub const CACHE_SYNC_POLL: SimDuration = SimDuration::from_millis(10);
/// How long the Secret cache waits for that LIST before the mount fails: 1 s
/// (`objectCache.Get`).
pub const CACHE_SYNC_TIMEOUT: SimDuration = SimDuration::from_secs(1);
/// The operation executor's first back-off after a failed mount: `initialDurationBeforeRetry`,
/// 500 ms, doubling after each failure.
pub const RETRY_BACKOFF_INITIAL: SimDuration = SimDuration::from_millis(500);
/// The back-off's ceiling: `maxDurationBeforeRetry = 2*time.Minute + 2*time.Second`, 122 s
/// ("slightly offset from 2 minutes to make timeouts due to this constant recognizable";
/// pkg/util/goroutinemap/exponentialbackoff/exponential_backoff.go).
pub const RETRY_BACKOFF_MAX: SimDuration = SimDuration::from_secs(122);

/// The phases of one node's two volume-manager loops (each ticks on its own grid, started at
/// an arbitrary moment relative to the experiment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loops {
    /// Offset of the populator's grid from time zero.
    pub populator_phase: SimDuration,
    /// Offset of the reconciler's grid.
    pub reconciler_phase: SimDuration,
}

/// `d` rounded up to a whole number of `step`s.
fn ceil_to(d: SimDuration, step: SimDuration) -> SimDuration {
    let (d, step) = (d.as_nanos(), step.as_nanos().max(1));
    SimDuration::from_nanos(d.div_ceil(step) * step)
}

/// When a pod added at `added` has its Secret volume mounted, if the node's Secret cache got
/// its first LIST at `synced`: the reconciler verifies the volume attached at its first tick
/// after the populator's next one, and its first mount attempt is the tick after that;
/// an attempt that starts before `synced` succeeds at the cache's next 10 ms poll if `synced`
/// comes within its one-second patience, and otherwise fails and is retried after the back-off.
pub fn mounted_at(added: SimTime, synced: SimTime, loops: Loops) -> SimTime {
    let populated = added.next_tick(loops.populator_phase, POPULATOR_PERIOD);
    let verified = populated.next_tick(loops.reconciler_phase, RECONCILER_PERIOD);
    let mut attempt = verified + RECONCILER_PERIOD;
    let mut backoff = RETRY_BACKOFF_INITIAL;
    loop {
        if synced <= attempt {
            return attempt;
        }
        let waited = synced - attempt;
        if waited <= CACHE_SYNC_TIMEOUT {
            return attempt + ceil_to(waited, CACHE_SYNC_POLL);
        }
        let failed = attempt + CACHE_SYNC_TIMEOUT;
        attempt = (failed + backoff).next_tick(loops.reconciler_phase, RECONCILER_PERIOD);
        backoff = (backoff * 2).min(RETRY_BACKOFF_MAX);
    }
}

/// When `WaitForAttachAndMount`, started at `added` and polling every 300 ms from then on,
/// sees volumes mounted at `mounted` and lets `syncPod` go on to the sandbox.
pub fn wait_returns(added: SimTime, mounted: SimTime) -> SimTime {
    if mounted <= added {
        return added;
    }
    added + ceil_to(mounted - added, MOUNT_WAIT_POLL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> SimTime {
        SimTime::from_nanos(x * 1_000_000)
    }

    const LOOPS: Loops = Loops {
        populator_phase: SimDuration::from_millis(30),
        reconciler_phase: SimDuration::from_millis(70),
    };

    #[test]
    fn with_the_cache_already_synced_the_pod_waits_for_the_loops_and_one_poll() {
        // Added at 1000 ms: populator at 1030, reconciler verifies attached at 1070 and mounts
        // at 1170; the 300 ms poll sees it at 1300.
        let m = mounted_at(ms(1000), ms(10), LOOPS);
        assert_eq!(m, ms(1170));
        assert_eq!(wait_returns(ms(1000), m), ms(1300));
    }

    #[test]
    fn a_list_that_answers_within_a_second_mounts_at_the_next_10_ms_poll() {
        // Attempt at 1170; the LIST answers at 1805: mounted at 1810, seen by the poll at 1900.
        let m = mounted_at(ms(1000), ms(1805), LOOPS);
        assert_eq!(m, ms(1810));
        assert_eq!(wait_returns(ms(1000), m), ms(1900));
        // The same LIST at 2165 is 995 ms into the attempt's patience: still in time.
        assert_eq!(mounted_at(ms(1000), ms(2165), LOOPS), ms(2170));
    }

    #[test]
    fn a_list_slower_than_the_cache_s_patience_fails_the_mount_and_waits_out_the_back_off() {
        // Attempt at 1170 gives up at 2170; a retry is refused until 500 ms have passed
        // (`time.Since(lastErrorTime) <= durationBeforeRetry`), so the reconciler's tick at
        // 2670 is too early and the one at 2770 mounts (the LIST came at 2200). The retry
        // mounts at once: the volume is already marked attached.
        let m = mounted_at(ms(1000), ms(2200), LOOPS);
        assert_eq!(m, ms(2770));
        assert_eq!(wait_returns(ms(1000), m), ms(2800));
        // Compared with an answer just in time (2160): 0.6 s more for 40 ms more round trip.
        assert_eq!(mounted_at(ms(1000), ms(2160), LOOPS), ms(2160));
        // Second failure: attempt 2770 gives up at 3770, back-off 1 s, next tick after 4770.
        assert_eq!(mounted_at(ms(1000), ms(3800), LOOPS), ms(4870));
    }

    #[test]
    fn the_wait_is_monotone_in_the_list_time() {
        let mut last = SimTime::ZERO;
        for t in (0..6000).step_by(7) {
            let w = wait_returns(ms(1000), mounted_at(ms(1000), ms(t), LOOPS));
            assert!(w >= last, "{t} ms");
            assert!(w > ms(1000));
            last = w;
        }
    }
}
