//! Simulated time: an integer count of nanoseconds, never a float.
//!
//! [`SimTime`] is an instant on the virtual clock (nanoseconds since the start of the run) and
//! [`SimDuration`] a span between two instants. Both are `u64` newtypes, so ordering is exact,
//! nothing drifts however long a run is, and the largest representable instant is about 584 years.
//! Arithmetic that would overflow saturates at [`SimTime::MAX`] (an instant "never"), which the
//! engine treats as an event that never fires; checked variants exist for code that must reject it.

use std::fmt;
use std::ops::{Add, AddAssign, Mul, Sub, SubAssign};

use serde::{Deserialize, Serialize};

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant on the simulated clock, in nanoseconds since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest instant; also used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// An instant `nanos` nanoseconds after the start.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }

    /// An instant `secs` whole seconds after the start (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        SimTime(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// An instant `ms` milliseconds after the start (saturating).
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms.saturating_mul(NANOS_PER_MILLI))
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start, as a float (for reports only; never feed it back into the clock).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The span since the start of the run.
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    /// `self - earlier`, or zero if `earlier` is later than `self`.
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, or `None` on overflow.
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(n) => Some(SimTime(n)),
            None => None,
        }
    }

    /// The instant rounded down to whole seconds, as `kubectl get -w` and API timestamps show it.
    pub const fn floor_secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }

    /// The first tick strictly after `self` of a periodic timer that ticks at
    /// `phase + k · period` (k ≥ 0): the next relist, resync or poll of a loop that started at
    /// `phase`. [`SimTime::MAX`] if that is past the end of time. A zero period counts as one
    /// nanosecond.
    pub const fn next_tick(self, phase: SimDuration, period: SimDuration) -> SimTime {
        let period = if period.0 == 0 { 1 } else { period.0 };
        if self.0 < phase.0 {
            return SimTime(phase.0);
        }
        let ticks = (self.0 - phase.0) / period + 1;
        match ticks.checked_mul(period) {
            Some(d) => match phase.0.checked_add(d) {
                Some(t) => SimTime(t),
                None => SimTime::MAX,
            },
            None => SimTime::MAX,
        }
    }

    /// The first tick at or after `self` of a periodic timer that ticks at `phase + k · period`
    /// (k ≥ 0): when a loop next runs, counting a tick at `self` itself. [`SimTime::MAX`] if
    /// that is past the end of time (and for `self` at `MAX`). A zero period counts as one
    /// nanosecond.
    pub const fn tick_at_or_after(self, phase: SimDuration, period: SimDuration) -> SimTime {
        let period = if period.0 == 0 { 1 } else { period.0 };
        if self.0 <= phase.0 {
            return SimTime(phase.0);
        }
        if self.0 == u64::MAX {
            return SimTime::MAX;
        }
        let ticks = (self.0 - phase.0).div_ceil(period);
        match ticks.checked_mul(period) {
            Some(d) => match phase.0.checked_add(d) {
                Some(t) => SimTime(t),
                None => SimTime::MAX,
            },
            None => SimTime::MAX,
        }
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest span.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }

    /// A span of `us` microseconds (saturating).
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us.saturating_mul(NANOS_PER_MICRO))
    }

    /// A span of `ms` milliseconds (saturating).
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(NANOS_PER_MILLI))
    }

    /// A span of `secs` seconds (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// A span from a float number of seconds, rounded to the nearest nanosecond.
    ///
    /// Negative and NaN inputs give zero; values beyond the range saturate. This is the one door
    /// through which sampled (floating-point) durations enter the integer clock.
    pub fn from_secs_f64(secs: f64) -> Self {
        if secs.is_nan() || secs <= 0.0 {
            return SimDuration(0);
        }
        let nanos = (secs * NANOS_PER_SEC as f64).round();
        if nanos >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration(nanos as u64)
        }
    }

    /// Nanoseconds in this span.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds in this span, as a float (for reports and sampling only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// Milliseconds in this span, as a float.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_MILLI as f64
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: SimDuration) -> Option<SimDuration> {
        match self.0.checked_add(other.0) {
            Some(n) => Some(SimDuration(n)),
            None => None,
        }
    }

    /// `self - other`, or zero.
    pub const fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }

    /// Whether the span is empty.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl From<std::time::Duration> for SimDuration {
    fn from(d: std::time::Duration) -> Self {
        SimDuration(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates at [`SimTime::MAX`].
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates at zero.
    fn sub(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(rhs.0))
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// Saturates at zero when `rhs` is later than `self`.
    fn sub(self, rhs: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(rhs.0))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    /// Saturates at [`SimDuration::MAX`].
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    /// Saturates at zero.
    fn sub(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(rhs.0))
    }
}

impl SubAssign for SimDuration {
    fn sub_assign(&mut self, rhs: SimDuration) {
        *self = *self - rhs;
    }
}

impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    /// Saturates at [`SimDuration::MAX`].
    fn mul(self, rhs: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(rhs))
    }
}

impl std::iter::Sum for SimDuration {
    fn sum<I: Iterator<Item = SimDuration>>(iter: I) -> SimDuration {
        iter.fold(SimDuration::ZERO, |a, b| a + b)
    }
}

/// Writes nanoseconds with the largest unit that keeps it readable: `0s`, `750ns`, `12.5µs`,
/// `1.25ms`, `3.000000001s`, `2m05.5s`, `1h02m03s`.
fn fmt_nanos(n: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if n == 0 {
        return f.write_str("0s");
    }
    if n < NANOS_PER_MICRO {
        return write!(f, "{n}ns");
    }
    if n < NANOS_PER_MILLI {
        return write!(f, "{}µs", trim_frac(n, NANOS_PER_MICRO, 3));
    }
    if n < NANOS_PER_SEC {
        return write!(f, "{}ms", trim_frac(n, NANOS_PER_MILLI, 6));
    }
    let secs = n / NANOS_PER_SEC;
    let sub = n % NANOS_PER_SEC;
    if secs < 60 {
        return write!(f, "{}s", trim_frac(n, NANOS_PER_SEC, 9));
    }
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let s_str = trim_frac(s * NANOS_PER_SEC + sub, NANOS_PER_SEC, 9);
    let pad = if s < 10 { "0" } else { "" };
    if h > 0 {
        write!(f, "{h}h{m:02}m{pad}{s_str}s")
    } else {
        write!(f, "{m}m{pad}{s_str}s")
    }
}

/// `n / unit` with up to `digits` decimals, trailing zeros removed.
fn trim_frac(n: u64, unit: u64, digits: usize) -> String {
    let whole = n / unit;
    let frac = n % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let s = format!("{frac:0digits$}");
    format!("{whole}.{}", s.trim_end_matches('0'))
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == SimTime::MAX {
            return f.write_str("never");
        }
        fmt_nanos(self.0, f)
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimTime({self})")
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_nanos(self.0, f)
    }
}

impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimDuration({self})")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_tick_is_strictly_after_on_the_grid() {
        let t = |ms: u64| SimTime::from_nanos(ms * 1_000_000);
        let (phase, period) = (SimDuration::from_millis(300), SimDuration::from_secs(1));
        assert_eq!(t(0).next_tick(phase, period), t(300));
        assert_eq!(t(300).next_tick(phase, period), t(1300));
        assert_eq!(t(1299).next_tick(phase, period), t(1300));
        assert_eq!(
            t(5).next_tick(SimDuration::ZERO, SimDuration::ZERO),
            SimTime::from_nanos(5_000_001)
        );
        // A tick past the end of time is the end of time, not a wrapped-around early instant.
        assert_eq!(SimTime::MAX.next_tick(phase, period), SimTime::MAX);
        assert_eq!(
            SimTime::from_nanos(u64::MAX - 10).next_tick(SimDuration::ZERO, period),
            SimTime::MAX
        );
    }

    #[test]
    fn tick_at_or_after_counts_a_tick_at_the_instant_itself() {
        let t = |ms: u64| SimTime::from_nanos(ms * 1_000_000);
        let (phase, period) = (SimDuration::from_millis(300), SimDuration::from_secs(1));
        assert_eq!(t(0).tick_at_or_after(phase, period), t(300));
        assert_eq!(t(300).tick_at_or_after(phase, period), t(300));
        assert_eq!(t(301).tick_at_or_after(phase, period), t(1300));
        assert_eq!(t(1300).tick_at_or_after(phase, period), t(1300));
        assert_eq!(SimTime::MAX.tick_at_or_after(phase, period), SimTime::MAX);
        let late = SimTime::from_nanos(u64::MAX - 10);
        assert_eq!(late.tick_at_or_after(phase, period), SimTime::MAX);
    }

    use super::*;

    #[test]
    fn arithmetic_is_exact_and_saturating() {
        let t = SimTime::from_millis(1500) + SimDuration::from_micros(250);
        assert_eq!(t.as_nanos(), 1_500_250_000);
        assert_eq!(t - SimTime::from_secs(1), SimDuration::from_nanos(500_250_000));
        assert_eq!(SimTime::from_secs(1) - t, SimDuration::ZERO);
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(SimTime::MAX.checked_add(SimDuration::from_nanos(1)), None);
        assert_eq!(SimDuration::from_secs(3) * 4, SimDuration::from_secs(12));
    }

    #[test]
    fn float_conversion_rounds_and_clamps() {
        assert_eq!(SimDuration::from_secs_f64(0.1).as_nanos(), 100_000_000);
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e30), SimDuration::MAX);
    }

    #[test]
    fn display_is_human() {
        assert_eq!(SimDuration::ZERO.to_string(), "0s");
        assert_eq!(SimDuration::from_nanos(750).to_string(), "750ns");
        assert_eq!(SimDuration::from_nanos(12_500).to_string(), "12.5µs");
        assert_eq!(SimDuration::from_micros(1250).to_string(), "1.25ms");
        assert_eq!(SimDuration::from_millis(2500).to_string(), "2.5s");
        assert_eq!(SimDuration::from_millis(125_500).to_string(), "2m05.5s");
        assert_eq!(SimDuration::from_secs(3723).to_string(), "1h02m03s");
        assert_eq!(SimTime::MAX.to_string(), "never");
        assert_eq!(SimTime::from_secs(24).floor_secs(), 24);
    }
}
