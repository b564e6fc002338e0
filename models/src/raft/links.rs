//! How messages travel between etcd's members: the [`Links`] a raft simulation draws each
//! message's flight from, the scenario's network as rafthttp uses it ([`NetworkLinks`]), and
//! one uniform path between every two members ([`UniformLinks`]).

use std::sync::Arc;

use rand_distr::{Distribution, StandardNormal};
use sim_core::rng::SimRng;
use sim_core::{SimDuration, SimTime};

use crate::network::{copies_lost, retransmission_cost, HostId, Network, TCP_RTO_MIN};

/// The mean absolute deviation of a normal variable per standard deviation: √(2/π) = 0.798,
/// rounded (Linux's `rttvar` tracks the mean deviation of the RTT samples, `tcp_rtt_estimator`).
const MEAN_DEVIATION_PER_SIGMA: f64 = 0.8;

/// How messages travel between members `from` and `to`: the one-way time of a small message
/// sent at `at` (its resends included), or `None` if it never arrives.
pub trait Links {
    /// Draws one message's flight.
    fn flight(&self, from: usize, to: usize, at: SimTime, rng: &mut SimRng) -> Option<SimDuration>;

    /// The flight of a message that is neither late nor lost (no jitter, no loss, no fault),
    /// if these links know it: bounds the warm-up of a run ([`steady_state`]).
    ///
    /// [`steady_state`]: super::steady_state
    fn mean_flight(&self, _from: usize, _to: usize) -> Option<SimDuration> {
        None
    }
}

/// Round trips to open a connection between members: TCP's handshake, then TLS 1.2's full
/// handshake (two). kubeadm's etcd talks to its peers over https (`--peer-cert-file`,
/// `--peer-client-cert-auth`), and etcd 3.3.15 is built with Go 1.12.9 (etcd CHANGELOG-3.3),
/// whose TLS 1.3 is opt-in only (Go 1.12 release notes), so TLS 1.2 it is.
pub(super) const CONNECT_ROUND_TRIPS: u32 = 3;

/// rafthttp's read deadline on a peer's stream (`ConnReadTimeout`, 5 s; etcd 3.3
/// `rafthttp/peer.go`): a stream that delivers nothing for this long is closed.
const CONN_READ_TIMEOUT: SimDuration = SimDuration::from_secs(5);

/// The scenario's network between the members' hosts, as rafthttp uses it. A message crosses
/// the route as `run` draws it; through an outage of its route, TCP holds it and resends it
/// after the repair, unless that comes after the stream's 5-s read deadline
/// (`ConnReadTimeout`): etcd then closes the stream, what it held is lost (raft resends
/// nothing, its next heartbeats replace it), and after the repair the next messages go on a new
/// connection (the pipeline's, until the peer dials a new stream), three round trips for TCP's
/// and TLS 1.2's handshakes before they leave.
#[derive(Debug, Clone)]
pub struct NetworkLinks {
    net: Arc<Network>,
    hosts: Vec<HostId>,
    /// `down[i][j]`: the windows when the route between members `i` and `j` carries nothing.
    down: Vec<Vec<Vec<(SimTime, SimTime)>>>,
}

impl NetworkLinks {
    /// Member `i` runs on `hosts[i]`.
    pub fn new(net: Arc<Network>, hosts: Vec<HostId>) -> NetworkLinks {
        let down = hosts
            .iter()
            .map(|&a| hosts.iter().map(|&b| net.route_down_windows(a, b)).collect())
            .collect();
        NetworkLinks { net, hosts, down }
    }

    /// Whether an outage `(s, e)` outlasts the stream between `a` and `b`: TCP's first resend
    /// after the repair comes after the read deadline of a stream last read at `s`.
    fn breaks_stream(&self, a: HostId, b: HostId, s: SimTime, e: SimTime) -> bool {
        e == SimTime::MAX || crate::faults::next_retransmission(s, e, self.net.base_rtt(a, b)) > s + CONN_READ_TIMEOUT
    }
}

impl Links for NetworkLinks {
    fn flight(&self, from: usize, to: usize, at: SimTime, rng: &mut SimRng) -> Option<SimDuration> {
        let (a, b) = (self.hosts[from], self.hosts[to]);
        let windows = &self.down[from][to];
        if let Some((s, e)) = crate::faults::covering(windows, at) {
            // Held by TCP: it arrives only if the stream outlives the outage.
            return self
                .net
                .one_way_at(a, b, 0, at, rng)
                .filter(|_| !self.breaks_stream(a, b, s, e))
                .filter(|d| *d != SimDuration::MAX);
        }
        let d = self
            .net
            .one_way_at(a, b, 0, at, rng)
            .filter(|d| *d != SimDuration::MAX)?;
        // Just after an outage that closed the stream: a new connection first.
        match windows.iter().rev().find(|w| w.1 <= at) {
            Some(&(s, e)) if self.breaks_stream(a, b, s, e) => {
                let rtt = self.net.base_one_way(a, b)? + self.net.base_one_way(b, a)?;
                let connected = e + rtt * u64::from(CONNECT_ROUND_TRIPS);
                Some(if at < connected { (connected - at) + d } else { d })
            }
            _ => Some(d),
        }
    }

    fn mean_flight(&self, from: usize, to: usize) -> Option<SimDuration> {
        self.net.base_one_way(self.hosts[from], self.hosts[to])
    }
}

/// The same path between every two members: a one-way delay with a normal jitter (truncated at
/// zero) and a loss rate, each lost copy costing TCP a retransmission timeout
/// ([`retransmission_cost`] at twice the delay). For studies of the timers alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniformLinks {
    /// Mean one-way delay.
    pub one_way: SimDuration,
    /// Standard deviation of the jitter.
    pub jitter: SimDuration,
    /// Probability that a copy is lost.
    pub loss: f64,
}

impl Links for UniformLinks {
    fn flight(&self, _from: usize, _to: usize, _at: SimTime, rng: &mut SimRng) -> Option<SimDuration> {
        let mut d = self.one_way;
        if !self.jitter.is_zero() {
            let z: f64 = StandardNormal.sample(rng);
            d = SimDuration::from_secs_f64((d.as_secs_f64() + z * self.jitter.as_secs_f64()).max(0.0));
        }
        let losses = if self.loss > 0.0 {
            copies_lost(self.loss, rng)
        } else {
            0
        };
        if losses == u64::MAX {
            // Certain loss, or a count past 10^15 copies: never through.
            return None;
        }
        // Linux's timeout is the smoothed RTT plus max(4 x mean deviation, TCP_RTO_MIN); a
        // normal jitter of σ each way gives the round trip a mean deviation of about
        // MEAN_DEVIATION_PER_SIGMA x √2 σ.
        let deviation = (4.0 * MEAN_DEVIATION_PER_SIGMA * std::f64::consts::SQRT_2 * self.jitter.as_secs_f64()
            - TCP_RTO_MIN.as_secs_f64())
        .max(0.0);
        let srtt = self.one_way * 2 + SimDuration::from_secs_f64(deviation);
        Some(d + retransmission_cost(losses, srtt))
    }

    fn mean_flight(&self, _from: usize, _to: usize) -> Option<SimDuration> {
        Some(self.one_way)
    }
}
