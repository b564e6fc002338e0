//! When a leader-election candidate tries to take a lease.
//!
//! client-go v1.16's `LeaderElector.acquire` (tools/leaderelection/leaderelection.go) calls
//! `tryAcquireOrRenew` at once and then again through
//! `wait.JitterUntil(..., RetryPeriod, JitterFactor, true, ...)` with `JitterFactor = 1.2`: each
//! wait is `--leader-elect-retry-period` plus a uniform draw of up to 1.2 periods
//! (`wait.Jitter`), so 2 to 4.4 s, 3.2 s on average, at the v1.16 default of 2 s. (The leader's
//! own renewals use `wait.Until`, without jitter: every retry period.) The wait starts when a
//! try returns; the model starts it when the try is made (a try's request takes milliseconds
//! against waits of seconds).

use rand::Rng;
use sim_core::rng::{seeded, SimRng};
use sim_core::{SimDuration, SimTime};

/// client-go v1.16 `leaderelection.JitterFactor`: a candidate waits between one and 2.2 retry
/// periods between tries, and `NewLeaderElector` refuses a renew deadline not above 1.2 retry
/// periods.
pub const JITTER_FACTOR: f64 = 1.2;

/// Beyond this many waits past the tries drawn so far, a candidate's tries have forgotten their
/// phase: the next is drawn afresh ([`CandidateTries::at_or_after`]). Keeps a query far ahead
/// (a fault repaired days later under a millisecond retry period) from drawing every try on
/// the way. A model bound, not a Kubernetes one.
const FORGETS_PHASE_AFTER: u64 = 4096;

/// One candidate's tries, drawn as they are needed: the instants at which its leader-election
/// loop asks the apiserver for the lease. Its own random stream, so the same candidate's tries
/// do not depend on the order they are asked for in.
#[derive(Debug, Clone)]
pub(crate) struct CandidateTries {
    /// The tries drawn so far, in order; never empty.
    tries: Vec<SimTime>,
    /// `--leader-elect-retry-period`.
    retry: SimDuration,
    rng: SimRng,
    /// When the candidate's program started, if during the run (`None`: running since before
    /// the instants asked about): before that it held no connection.
    since: Option<SimTime>,
    /// The round trip between its master and the load balancer: the first retransmission
    /// timeout of its connection less `TCP_RTO_MIN` ([`crate::faults::next_retransmission`]).
    pub(crate) balancer_rtt: SimDuration,
}

impl CandidateTries {
    /// A candidate whose program starts at `start` (a restarted leader; a standby whose master
    /// came back): `acquire` tries at once.
    pub(crate) fn starting(start: SimTime, retry: SimDuration, rng: &mut impl Rng) -> CandidateTries {
        CandidateTries {
            tries: vec![start],
            retry: retry.max(SimDuration::from_nanos(1)),
            rng: seeded(rng.random()),
            since: Some(start),
            balancer_rtt: SimDuration::ZERO,
        }
    }

    /// The same tries, on a connection whose round trip to the load balancer is `rtt`.
    pub(crate) fn with_balancer_rtt(mut self, rtt: SimDuration) -> CandidateTries {
        self.balancer_rtt = rtt;
        self
    }

    /// Whether the candidate's program was running, and so held its connection through the
    /// balancer, before `t`.
    pub(crate) fn connected_before(&self, t: SimTime) -> bool {
        self.since.is_none_or(|s| s < t)
    }

    /// A candidate that has been trying since long before `t` (a standby): its first try after
    /// `t` comes a stationary forward-recurrence time of its jittered waits after `t`.
    pub(crate) fn running_at(t: SimTime, retry: SimDuration, rng: &mut impl Rng) -> CandidateTries {
        let mut tries = CandidateTries::starting(t, retry, rng);
        let first = t + next_try_in(tries.retry, &mut tries.rng);
        tries.tries[0] = first;
        tries.since = None;
        tries
    }

    /// The candidate's first try at or after `t` ([`SimTime::MAX`] stays [`SimTime::MAX`]).
    pub(crate) fn at_or_after(&mut self, t: SimTime) -> SimTime {
        let longest = SimDuration::from_secs_f64(self.retry.as_secs_f64() * (1.0 + JITTER_FACTOR));
        loop {
            let last = *self.tries.last().expect("never empty");
            if last >= t {
                break;
            }
            let behind = t.saturating_since(last).as_nanos();
            let next = if behind / longest.as_nanos().max(1) > FORGETS_PHASE_AFTER {
                t + next_try_in(self.retry, &mut self.rng)
            } else {
                last + jittered_wait(self.retry, &mut self.rng)
            };
            self.tries.push(next);
        }
        let i = self.tries.partition_point(|&a| a < t);
        self.tries[i]
    }
}

/// One of client-go's jittered waits: `wait.Jitter(retry, 1.2)`, uniform in
/// `[retry, 2.2 x retry]`.
fn jittered_wait(retry: SimDuration, rng: &mut impl Rng) -> SimDuration {
    SimDuration::from_secs_f64(retry.as_secs_f64() * (1.0 + rng.random::<f64>() * JITTER_FACTOR))
}

/// How long after an instant, unrelated to its loop, a candidate that has been trying for long
/// makes its next try: the stationary forward-recurrence time of waits uniform in `[a, b]`
/// (`a` = retry, `b` = 2.2 x retry), a uniform fraction of a length-biased wait (density
/// proportional to `x` on `[a, b]`, drawn by inverting its CDF `(x² − a²) / (b² − a²)`).
pub(crate) fn next_try_in(retry: SimDuration, rng: &mut impl Rng) -> SimDuration {
    let a = retry.as_secs_f64();
    let b = a * (1.0 + JITTER_FACTOR);
    let biased = (a * a + rng.random::<f64>() * (b * b - a * a)).sqrt();
    SimDuration::from_secs_f64(rng.random::<f64>() * biased)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::rng::seeded;

    const RETRY: SimDuration = SimDuration::from_secs(2);

    #[test]
    fn a_started_candidate_tries_at_once_then_every_2_to_4_4_s() {
        let mut rng = seeded(1);
        let start = SimTime::from_secs(100);
        let mut tries = CandidateTries::starting(start, RETRY, &mut rng);
        assert_eq!(tries.at_or_after(SimTime::ZERO), start);
        let mut last = tries.at_or_after(start);
        let mut gaps = Vec::new();
        for _ in 0..2000 {
            let next = tries.at_or_after(last + SimDuration::from_nanos(1));
            gaps.push(next.saturating_since(last).as_secs_f64());
            last = next;
        }
        assert!(gaps.iter().all(|&g| (2.0..=4.4).contains(&g)), "{gaps:?}");
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        // Uniform on [2, 4.4]: mean 3.2 s, standard error 0.69 / sqrt(2000) = 0.015 s.
        assert!((mean - 3.2).abs() < 0.06, "mean wait {mean}");
    }

    #[test]
    fn the_same_tries_whatever_order_they_are_asked_in() {
        let ask = |order: &[u64]| {
            let mut tries = CandidateTries::starting(SimTime::ZERO, RETRY, &mut seeded(7));
            let mut got: Vec<(u64, SimTime)> = order
                .iter()
                .map(|&s| (s, tries.at_or_after(SimTime::from_secs(s))))
                .collect();
            got.sort_unstable();
            got
        };
        assert_eq!(ask(&[3, 50, 20, 7]), ask(&[50, 7, 3, 20]));
    }

    #[test]
    fn a_running_standby_tries_within_one_longest_wait_and_on_average_as_renewal_theory_says() {
        // Forward recurrence of waits uniform on [2, 4.4]: E[X²] / (2 E[X]) = (a² + ab + b²) /
        // (3 (a + b)) = 32.16 / 19.2 = 1.675 s; never beyond b = 4.4 s.
        let mut rng = seeded(3);
        let t = SimTime::from_secs(10);
        let n = 4000;
        let mut sum = 0.0;
        for _ in 0..n {
            let first = CandidateTries::running_at(t, RETRY, &mut rng).at_or_after(t);
            let d = first.saturating_since(t).as_secs_f64();
            assert!((0.0..=4.4).contains(&d), "{d}");
            sum += d;
        }
        let mean = sum / n as f64;
        assert!((mean - 1.675).abs() < 0.05, "mean {mean}");
    }

    #[test]
    fn a_query_days_ahead_draws_a_bounded_number_of_tries() {
        let mut tries = CandidateTries::starting(SimTime::ZERO, SimDuration::from_millis(1), &mut seeded(2));
        let far = SimTime::from_secs(30 * 24 * 3600);
        let at = tries.at_or_after(far);
        assert!(at >= far && at.saturating_since(far) <= SimDuration::from_micros(2200));
        assert!(tries.tries.len() < 3, "{}", tries.tries.len());
        assert_eq!(tries.at_or_after(SimTime::MAX), SimTime::MAX);
    }
}
