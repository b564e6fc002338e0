//! kubeadm's liveness probe on an apiserver whose etcd member has stopped: the kubelet on its
//! master kills it, and HAProxy, whose checks the closed port now refuses, marks it down.
//!
//! # Mechanism (Kubernetes v1.16, kubeadm's stacked control plane)
//!
//! - kubeadm gives the apiserver's static pod an HTTPS liveness probe on `/healthz`
//!   (`ComponentProbe`, cmd/kubeadm/app/util/staticpod/utils.go: `InitialDelaySeconds: 15`,
//!   `TimeoutSeconds: 15`, `FailureThreshold: 8`; the period is the probe's default, 10 s).
//! - `/healthz` includes the etcd check, a `Get` of `<prefix>/health` through the apiserver's
//!   etcd client with a 2-s timeout (k8s.io/apiserver storagebackend/factory/etcd3.go,
//!   `newETCD3HealthCheck`). With the local member stopped, each probe fails when that timeout
//!   ends; the eighth failure in a row kills the container. A member back before the eighth
//!   probe starts answers it, and the count starts again.
//! - The restarted apiserver cannot build its storage without its one etcd endpoint
//!   (`--etcd-servers=https://127.0.0.1:2379`), so its port stays closed: HAProxy's TCP checks
//!   are refused at once (one round trip), each `inter` after the last, and the `fall`-th marks
//!   it down. It listens again once its member is back; `rise` checks, each `inter` plus a round
//!   trip apart, mark it up.
//! - A master back from a crash while its member is still stopped cannot start its apiserver
//!   either: HAProxy keeps it marked down until the member is back
//!   ([`crate::failover::Plan::kill_apiservers_without_their_member`]).
//!
//! # Simplifications
//!
//! - The apiserver is taken to listen again as soon as its member is back. v1.16's kubelet
//!   restarts a container that keeps exiting after a crash-loop back-off (10 s doubling to
//!   300 s), and the apiserver needs some seconds to start: it comes back later than this.
//! - Only HAProxy's view changes: clients pinned to it at the kill notice by their own timers
//!   ([`crate::failover`]), where the kill resets their connections at once. By the kill (more
//!   than 70 s after the member stopped) the kubelets and the leaders have left it; what the
//!   kill changes is that HAProxy no longer hands reconnecting clients back to it.
//! - An apiserver whose member runs but outside a quorum fails the same etcd check, and v1.16
//!   restarts it too; that case is left out (its clients stay, [`crate::failover`]).

use sim_core::{SimDuration, SimTime};

/// kubeadm v1.16 `ComponentProbe` leaves `PeriodSeconds` unset: the probe API's default, 10 s.
pub const PROBE_PERIOD: SimDuration = SimDuration::from_secs(10);

/// kubeadm v1.16 `ComponentProbe`: `FailureThreshold: 8`.
pub const FAILURE_THRESHOLD: u64 = 8;

/// The apiserver's etcd health check gives up after 2 s (k8s.io/apiserver v1.16
/// `newETCD3HealthCheck`: `context.WithTimeout(context.Background(), 2*time.Second)`); the
/// probe (timeout 15 s) fails then.
pub const ETCD_CHECK_TIMEOUT: SimDuration = SimDuration::from_secs(2);

/// When the kubelet kills an apiserver whose etcd member stops at `stopped` and is back at
/// `back` (`SimTime::MAX`: never), its liveness probes running at `phase + k x 10 s`: at the
/// eighth failure in a row, if the member is still stopped when that probe starts.
pub fn killed_at(stopped: SimTime, back: SimTime, phase: SimDuration) -> Option<SimTime> {
    let first = stopped.tick_at_or_after(phase, PROBE_PERIOD);
    let last = first + PROBE_PERIOD * (FAILURE_THRESHOLD - 1);
    (last < back).then(|| last + ETCD_CHECK_TIMEOUT)
}

/// HAProxy's view of an apiserver killed at `killed` whose member is back at `back`: marked down
/// at the `fall`-th refused check from the first at or after the kill (checks every `inter`
/// from `check_phase`, each failing after one round trip `rtt`), and up after `rise` checks
/// from the first at or after `back` ([`SimTime::MAX`]: never). `None` if the member is back
/// before the apiserver is marked down.
pub fn marked_down(
    killed: SimTime,
    back: SimTime,
    check_phase: SimDuration,
    inter: SimDuration,
    rtt: SimDuration,
    (fall, rise): (u32, u32),
) -> Option<(SimTime, SimTime)> {
    let inter = inter.max(SimDuration::from_nanos(1));
    let first = killed.tick_at_or_after(check_phase, inter);
    let down = first + inter * u64::from(fall.max(1) - 1) + rtt;
    if down >= back {
        return None;
    }
    let up = if back == SimTime::MAX {
        SimTime::MAX
    } else {
        back.tick_at_or_after(check_phase, inter) + rtt + (inter + rtt) * u64::from(rise.max(1) - 1)
    };
    Some((down, up))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: f64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs_f64(x)
    }

    /// Eight probes 10 s apart from the first after the member stops, the last failing 2 s in:
    /// 72 to 82 s after, whatever the phase; a member back before the eighth starts is never
    /// killed for.
    #[test]
    fn the_eighth_failed_probe_kills_it() {
        let phase = SimDuration::from_secs(3);
        assert_eq!(killed_at(s(10.0), SimTime::MAX, phase), Some(s(13.0 + 70.0 + 2.0)));
        assert_eq!(killed_at(s(13.0), SimTime::MAX, phase), Some(s(85.0)));
        assert_eq!(
            killed_at(s(10.0), s(83.0), phase),
            None,
            "back as the eighth probe starts"
        );
        assert_eq!(killed_at(s(10.0), s(83.5), phase), Some(s(85.0)));
    }

    /// Refused checks `inter` apart: the third marks it down 4 s after the first; back, the
    /// first check after the repair and one more mark it up.
    #[test]
    fn refused_checks_mark_it_down_and_rise_checks_up() {
        let (inter, rtt) = (SimDuration::from_secs(2), SimDuration::from_millis(1));
        let phase = SimDuration::from_millis(500);
        let (down, up) = marked_down(s(85.0), s(200.0), phase, inter, rtt, (3, 2)).unwrap();
        assert_eq!(down, s(86.5 + 4.0 + 0.001));
        assert_eq!(up, s(200.5 + 0.001 + 2.001));
        assert_eq!(marked_down(s(85.0), s(90.0), phase, inter, rtt, (3, 2)), None);
        assert_eq!(
            marked_down(s(85.0), SimTime::MAX, phase, inter, rtt, (3, 2)).unwrap().1,
            SimTime::MAX
        );
    }
}
