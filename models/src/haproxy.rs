//! HAProxy 1.8 in TCP mode in front of the apiservers: how it hands out connections.
//!
//! # Mechanism
//!
//! - `balance roundrobin`: each new TCP connection goes to the next server that is up, in
//!   configuration order. HAProxy in TCP mode does not look inside the stream, so a client's
//!   long-lived HTTP/2 connection (and every watch on it) stays on the server it was opened to
//!   until the connection breaks.
//! - Its health checks (`check` with `inter`, `rise`, `fall`) and what a server marked down
//!   does to the connections already made to it are the fault plan's
//!   ([`crate::failover::Plan`]), and the round robin's turns after a fault are the client
//!   failovers' ([`crate::control_plane`]); this balancer hands out the connections the
//!   clients make when the run starts, when every server is up.
//! - The balancer itself is a single host: when it is down, no request reaches any apiserver.

/// The round robin over the backends, as the run's clients connect at its start.
#[derive(Debug, Clone)]
pub struct Balancer {
    /// Backends (`haproxy.backends` entries).
    servers: usize,
    /// The backend the next connection goes to.
    next: usize,
}

impl Balancer {
    /// A balancer over `n` servers, all up.
    pub fn new(n: usize) -> Balancer {
        Balancer { servers: n, next: 0 }
    }

    /// Picks the server for a new connection, in configuration order, or `None` when there is
    /// no backend.
    pub fn connect(&mut self) -> Option<usize> {
        if self.servers == 0 {
            return None;
        }
        let i = self.next;
        self.next = (i + 1) % self.servers;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundrobin_spreads_connections() {
        let mut b = Balancer::new(3);
        let picks: Vec<usize> = (0..6).filter_map(|_| b.connect()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn no_backend_means_no_connection() {
        assert_eq!(Balancer::new(0).connect(), None);
    }
}
