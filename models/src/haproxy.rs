//! HAProxy 1.8 in TCP mode in front of the apiservers.
//!
//! # Mechanism
//!
//! - `balance roundrobin`: each new TCP connection goes to the next server that is up, in
//!   configuration order. HAProxy in TCP mode does not look inside the stream, so a client's
//!   long-lived HTTP/2 connection (and every watch on it) stays on the server it was opened to
//!   until the connection breaks.
//! - `check` with `inter`, `rise`, `fall` (defaults 2000 ms, 2, 3: HAProxy 1.8 configuration
//!   manual, section 5.2): a server is marked down after `fall` consecutive failed checks and up
//!   again after `rise` successful ones. Established connections to a server marked down are
//!   left alone (`on-marked-down` unset), so clients notice only when their connection breaks.
//! - The balancer itself is a single host: when it is down, no request reaches any apiserver.

use sim_core::{SimDuration, SimTime};

use crate::spec::Haproxy;

/// Health of one backend as HAProxy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Receiving new connections.
    Up,
    /// Taken out of rotation.
    Down,
}

#[derive(Debug, Clone)]
struct Server {
    state: ServerState,
    /// Consecutive checks against the current state.
    streak: u32,
    /// Whether the server really answers (the fault model sets this).
    alive: bool,
}

/// The balancer's state: rotation and health checks.
#[derive(Debug, Clone)]
pub struct Balancer {
    servers: Vec<Server>,
    next: usize,
    rise: u32,
    fall: u32,
    inter: SimDuration,
    /// When each server was last marked down (for failover reports).
    pub marked_down_at: Vec<Option<SimTime>>,
}

impl Balancer {
    /// A balancer over `n` servers, all up, with the checks of `cfg`.
    pub fn new(cfg: &Haproxy, n: usize) -> Balancer {
        Balancer {
            servers: vec![
                Server {
                    state: ServerState::Up,
                    streak: 0,
                    alive: true
                };
                n
            ],
            next: 0,
            rise: cfg.rise.max(1),
            fall: cfg.fall.max(1),
            inter: cfg.inter.get(),
            marked_down_at: vec![None; n],
        }
    }

    /// Picks the server for a new connection (round robin over servers that are up), or `None`
    /// when every server is down. O(n).
    pub fn connect(&mut self) -> Option<usize> {
        let n = self.servers.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if self.servers[i].state == ServerState::Up {
                self.next = (i + 1) % n;
                return Some(i);
            }
        }
        None
    }

    /// Sets whether server `i` really answers (a fault or its repair).
    pub fn set_alive(&mut self, i: usize, alive: bool) {
        self.servers[i].alive = alive;
    }

    /// Runs one health check of server `i` at `now`; returns the new state if it changed.
    pub fn check(&mut self, i: usize, now: SimTime) -> Option<ServerState> {
        let s = &mut self.servers[i];
        let ok = s.alive;
        match (s.state, ok) {
            (ServerState::Up, true) | (ServerState::Down, false) => {
                s.streak = 0;
                None
            }
            (ServerState::Up, false) => {
                s.streak += 1;
                (s.streak >= self.fall).then(|| {
                    s.state = ServerState::Down;
                    s.streak = 0;
                    self.marked_down_at[i] = Some(now);
                    ServerState::Down
                })
            }
            (ServerState::Down, true) => {
                s.streak += 1;
                (s.streak >= self.rise).then(|| {
                    s.state = ServerState::Up;
                    s.streak = 0;
                    ServerState::Up
                })
            }
        }
    }

    /// State of server `i`.
    pub fn state(&self, i: usize) -> ServerState {
        self.servers[i].state
    }

    /// The check interval.
    pub fn inter(&self) -> SimDuration {
        self.inter
    }

    /// Worst-case time from a server's death to its removal: `fall` checks `inter` apart, the
    /// first up to `inter` after the death, each taking up to a check timeout of one RTT.
    pub fn worst_detection(&self, rtt: SimDuration) -> SimDuration {
        self.inter * u64::from(self.fall) + rtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Haproxy {
        Haproxy {
            host: "lb".into(),
            backends: vec!["m1".into(), "m2".into(), "m3".into()],
            inter: crate::units::Dur::millis(2000),
            rise: 2,
            fall: 3,
            proxy_time: crate::units::Dur::millis(0),
            timeout_server: crate::units::Dur::secs(50),
            independent_streams: false,
        }
    }

    #[test]
    fn roundrobin_spreads_connections() {
        let mut b = Balancer::new(&cfg(), 3);
        let picks: Vec<usize> = (0..6).filter_map(|_| b.connect()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn killed_server_is_marked_down_after_fall_checks_and_skipped() {
        let mut b = Balancer::new(&cfg(), 3);
        b.set_alive(1, false);
        // Killed just after a check at t = 0: checks at 2, 4, 6 s fail; the third marks it down.
        let mut down_at = None;
        for k in 1..=5u64 {
            let t = SimTime::from_secs(2 * k);
            if b.check(1, t) == Some(ServerState::Down) {
                down_at = Some(t);
                break;
            }
        }
        assert_eq!(down_at, Some(SimTime::from_secs(6)), "fall x inter = 3 x 2 s");
        let picks: Vec<usize> = (0..4).filter_map(|_| b.connect()).collect();
        assert!(!picks.contains(&1));
        // Repaired: two good checks bring it back.
        b.set_alive(1, true);
        assert_eq!(b.check(1, SimTime::from_secs(8)), None);
        assert_eq!(b.check(1, SimTime::from_secs(10)), Some(ServerState::Up));
    }

    #[test]
    fn all_down_means_no_connection() {
        let mut b = Balancer::new(&cfg(), 2);
        for i in 0..2 {
            b.set_alive(i, false);
            for k in 0..3 {
                b.check(i, SimTime::from_secs(k));
            }
        }
        assert_eq!(b.connect(), None);
    }
}
