//! How the kubelet retries a pod whose image pull failed (Kubernetes v1.16).
//!
//! # Mechanism
//!
//! - A failed pull ends the pod worker's sync with `ErrImagePull`, and the pod worker requeues
//!   the pod after `backOffPeriod` (10 s, pkg/kubelet/kubelet.go) jittered by
//!   `workerBackOffPeriodJitterFactor` (0.5, pkg/kubelet/pod_workers.go `wait.Jitter`): 10 to
//!   15 s later, read from the work queue on the sync loop's 1-s ticker. After the pod's first
//!   failure a sync comes sooner: the sandbox's PLEG event, which arrived during the failed sync
//!   and waits in `lastUndeliveredWorkUpdate`, is delivered by `wrapUp`, and the new sync starts
//!   at the first relist after the failed one ended (`podCache.GetNewerThan`); still in
//!   back-off, it fails with `ImagePullBackOff` and is requeued in turn ([`crate::kubelet`]).
//! - The image manager keeps a back-off per pod and image (pkg/kubelet/images/image_manager.go;
//!   `flowcontrol.NewBackOff(backOffPeriod, MaxContainerBackOff)` in pkg/kubelet/kubelet.go:
//!   10 s, doubling at each failure up to 300 s, and back to 10 s when the last failure is
//!   more than twice that maximum ago: client-go `util/flowcontrol/backoff.go`). A sync that
//!   finds the pod still in back-off (`IsInBackOffSinceUpdate`, measured from the last failure)
//!   fails with `ImagePullBackOff` without pulling, and is requeued the same way.
//! - Each sync begins by reporting the pod's status, which shows the reason the previous sync
//!   ended with: the container waiting with `ErrImagePull`, then `ImagePullBackOff`. A status
//!   equal to the last one reported is dropped (`updateStatusInternal` in
//!   pkg/kubelet/status/status_manager.go), so each change of reason is a new status to send.

use rand::Rng;
use sim_core::{SimDuration, SimTime};

/// `backOffPeriod = time.Second * 10` (pkg/kubelet/kubelet.go): the pod worker's requeue delay
/// after a failed sync, and the image back-off's first step.
pub const BACKOFF_PERIOD: SimDuration = SimDuration::from_secs(10);

/// `MaxContainerBackOff = 300 * time.Second` (pkg/kubelet/kubelet.go): the longest image
/// back-off.
pub const MAX_BACKOFF: SimDuration = SimDuration::from_secs(300);

/// `workerBackOffPeriodJitterFactor = 0.5` (pkg/kubelet/pod_workers.go): the requeue delay is
/// `wait.Jitter(backOffPeriod, 0.5)`, uniform in `[10 s, 15 s)`.
pub const REQUEUE_JITTER: f64 = 0.5;

/// Why a pod's last sync failed, as its next status shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The pull failed.
    ErrImagePull,
    /// The sync found the image back-off still running and did not pull.
    ImagePullBackOff,
}

/// What a requeued sync does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Pull again (wait for the node's puller).
    Pull,
    /// Still in back-off: fail with `ImagePullBackOff` and requeue.
    BackOff,
}

/// One pod's failed pulls: the image back-off and what its statuses have shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PullRetry {
    /// The current back-off step.
    backoff: SimDuration,
    /// When the last pull failed (`lastUpdate`).
    last_failure: SimTime,
    /// How the last sync ended.
    last_result: Reason,
    /// The reason the last reported status showed, if any has shown one.
    shown: Option<Reason>,
    /// Statuses reported since the first failure: the version of the next one.
    versions: u16,
    /// Pulls that failed.
    pub failures: u32,
    /// Time from each failure to the sync that pulled again.
    pub waited: SimDuration,
    /// Requeues drawn so far (keys the next one's draw, [`crate::draws::Purpose::Requeue`]).
    pub requeues: u32,
}

impl PullRetry {
    /// The pod's first pull failed at `at`.
    pub fn first(at: SimTime) -> PullRetry {
        PullRetry {
            backoff: BACKOFF_PERIOD,
            last_failure: at,
            last_result: Reason::ErrImagePull,
            shown: None,
            versions: 0,
            failures: 1,
            waited: SimDuration::ZERO,
            requeues: 0,
        }
    }

    /// Another pull failed at `at` (`Backoff.Next`).
    pub fn failed(&mut self, at: SimTime) {
        self.backoff = if at.saturating_since(self.last_failure) > MAX_BACKOFF * 2 {
            BACKOFF_PERIOD
        } else {
            (self.backoff * 2).min(MAX_BACKOFF)
        };
        self.last_failure = at;
        self.last_result = Reason::ErrImagePull;
        self.failures += 1;
    }

    /// The pod worker's delay before the next sync: `wait.Jitter(backOffPeriod, 0.5)`.
    pub fn requeue_delay(&mut self, rng: &mut impl Rng) -> SimDuration {
        self.requeues += 1;
        BACKOFF_PERIOD + SimDuration::from_secs_f64(BACKOFF_PERIOD.as_secs_f64() * REQUEUE_JITTER * rng.random::<f64>())
    }

    /// A requeued sync at `now`: the version of the status it reports, if that status is new,
    /// and whether it pulls.
    pub fn sync(&mut self, now: SimTime) -> (Option<u16>, Decision) {
        let version = if self.shown != Some(self.last_result) {
            self.shown = Some(self.last_result);
            self.versions += 1;
            Some(self.versions)
        } else {
            None
        };
        let since = now.saturating_since(self.last_failure);
        let in_backoff = since <= MAX_BACKOFF * 2 && since < self.backoff;
        if in_backoff {
            self.last_result = Reason::ImagePullBackOff;
            (version, Decision::BackOff)
        } else {
            self.waited += since;
            (version, Decision::Pull)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use sim_core::rng::SimRng;

    fn s(x: f64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs_f64(x)
    }

    #[test]
    fn the_requeue_delay_is_10_to_15_s() {
        let mut rng = SimRng::seed_from_u64(3);
        let mut retry = PullRetry::first(s(0.0));
        let delays: Vec<f64> = (0..1000).map(|_| retry.requeue_delay(&mut rng).as_secs_f64()).collect();
        assert_eq!(retry.requeues, 1000);
        assert!(delays.iter().all(|&d| (10.0..15.0).contains(&d)));
        let mean = delays.iter().sum::<f64>() / 1000.0;
        assert!((mean - 12.5).abs() < 0.2, "{mean}");
    }

    #[test]
    fn the_first_retry_pulls_after_10_s_and_shows_err_image_pull() {
        let mut r = PullRetry::first(s(100.0));
        assert_eq!(r.sync(s(111.0)), (Some(1), Decision::Pull));
    }

    #[test]
    fn a_second_failure_doubles_the_back_off_and_a_sync_inside_it_backs_off() {
        let mut r = PullRetry::first(s(100.0));
        r.sync(s(111.0));
        r.failed(s(112.0)); // back-off 20 s from 112 s
        assert_eq!(
            r.sync(s(124.0)),
            (None, Decision::BackOff),
            "ErrImagePull again: no new status"
        );
        assert_eq!(
            r.sync(s(136.0)),
            (Some(2), Decision::Pull),
            "now ImagePullBackOff shows"
        );
        assert_eq!(r.failures, 2);
    }

    #[test]
    fn the_back_off_doubles_to_300_s_and_resets_after_600_s_without_failure() {
        let mut r = PullRetry::first(s(0.0));
        let mut t = 0.0;
        for _ in 0..10 {
            t += 1.0;
            r.failed(s(t));
        }
        assert_eq!(r.backoff, MAX_BACKOFF);
        assert_eq!(r.sync(s(t + 299.0)).1, Decision::BackOff);
        assert_eq!(r.sync(s(t + 300.0)).1, Decision::Pull);
        r.failed(s(t + 901.0));
        assert_eq!(r.backoff, BACKOFF_PERIOD);
    }
}
