//! The wall clock behind a measurement, so that tests can run without sleeping.

use std::time::{Duration, Instant};

/// A source of elapsed time and of waiting, so tests can run without sleeping.
pub trait Clock {
    /// Time elapsed since some fixed start; never goes backwards.
    fn now(&self) -> Duration;
    /// Waits for `duration` (a test clock just advances).
    fn sleep(&mut self, duration: Duration);
    /// What this clock read at `instant`, a moment of the system's monotonic clock now past
    /// (when a watch entry was read, [`crate::kubectl::WatchedChange::received`]).
    ///
    /// The default, for a clock that is not the system's (a test's), reads it as now: entries
    /// count as arriving when they are taken.
    fn at(&self, instant: Instant) -> Duration {
        let _ = instant;
        self.now()
    }
}

/// The real clock: [`Instant`] and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A clock starting now.
    pub fn new() -> Self {
        Self { start: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn at(&self, instant: Instant) -> Duration {
        instant.saturating_duration_since(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system clock reads a past instant as it was then, not when it is asked: an entry
    /// read 1.5 s after the clock started is stamped 1.5 s, however late it is taken.
    #[test]
    fn the_system_clock_reads_a_past_instant_as_it_was() {
        let clock = SystemClock::new();
        let read = clock.start + Duration::from_millis(1500);
        assert_eq!(clock.at(read), Duration::from_millis(1500));
        assert_eq!(clock.at(clock.start), Duration::ZERO);
    }
}
