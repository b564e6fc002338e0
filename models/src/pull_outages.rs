//! What an image pull meets when its site's way out to the registry goes down.
//!
//! # Mechanism (Linux TCP, Docker 18.09)
//!
//! A site's way out is down while its router is crashed or the site is isolated (`[[faults]]`).
//!
//! - **A pull that starts while it is down** cannot connect. The kernel resends the SYN 1, 3, 7,
//!   15 s after the first (`TCP_TIMEOUT_INIT` = 1 s, doubling: include/net/tcp.h), and Docker's
//!   registry dialer gives up after 30 s (moby `distribution/registry.go` `NewV2Repository`:
//!   `net.Dialer{Timeout: 30 * time.Second}`). A way out back within that connects at the next
//!   SYN; otherwise the pull fails when the dialer gives up.
//! - **A transfer under way** when the way out goes down stalls. The registry resends what goes
//!   unacknowledged after the connection's retransmission timeout (its RTT plus `TCP_RTO_MIN`,
//!   as in [`crate::network::retransmission_cost`]), doubling up to `TCP_RTO_MAX`. The node,
//!   hearing nothing, sends keepalive probes: Docker's dialer sets `KeepAlive: 30 *
//!   time.Second`, which Go uses as both the idle time and the interval, and Linux gives up
//!   after `tcp_keepalive_probes` = 9 unanswered probes (`man 7 tcp`): 300 s after the cut
//!   the node drops the connection.
//!   - An isolated site keeps its router's state: the registry's first resend after the
//!     repair gets through and the transfer goes on where it stopped.
//!   - A crashed router comes back without its connection-tracking (NAT) state: the
//!     registry's resends meet a router that knows nothing of them, and the node's first
//!     keepalive probe after the restart is answered with a reset, which fails the
//!     connection: the pull, if it was still making the registry's requests; Docker's next
//!     attempt at the layers, if they were under way (below). (It
//!     could survive if the router's NAT picked the same port again and the node spoke before
//!     the registry did; kubetwin takes the reset, as [`crate::faults`] does for a crashed
//!     element's connections.)
//!
//! - **A layer download that fails is retried by Docker**, not by the kubelet: Docker's download
//!   manager makes up to [`MAX_DOWNLOAD_ATTEMPTS`] attempts at a layer, waiting
//!   [`DOWNLOAD_RETRY_STEP`] times the failures so far before the next (5, 10, 15, 20 s; moby
//!   `distribution/xfer/download.go`, `maxDownloadAttempts`, `delay := retries * 5`), and each
//!   new attempt resumes at the offset the last one reached: `v2LayerDescriptor.Download` seeks
//!   to the end of its temporary file and asks the registry for the rest
//!   (`distribution/pull_v2.go`). A new attempt dials again (a dial that gives up is a failed
//!   attempt too) and pays [`RESUME_ROUND_TRIPS`] before the bytes flow. A failure during the
//!   registry's requests before the layers (ping, token, manifest) is not retried: the pull
//!   fails.
//!
//! - **A download silent for more than a minute is cancelled by the kubelet.** dockershim
//!   reads Docker's progress messages (a layer's bytes, "Retrying in N seconds", ...) from
//!   the first, which Docker sends once it has the manifest ("Pulling from ..."), and every
//!   [`PULL_PROGRESS_CHECK`] from then checks when the last came; one more than
//!   [`PULL_PROGRESS_DEADLINE`] old (`--image-pull-progress-deadline`) cancels the pull
//!   (`newProgressReporter` and `PullImage` in
//!   `pkg/kubelet/dockershim/libdocker/kube_docker_client.go`), and Docker drops what it
//!   downloaded. So a download that stalls for longer than about a minute (an isolation, or a
//!   crash the node's keepalive has not yet found) fails the pull before TCP or Docker would
//!   ([`Outages::for_pull`]). The registry's requests before the manifest have no such
//!   deadline: only TCP's keepalive ends their stall.
//!
//! A failed pull reaches the kubelet as `ErrImagePull`; it retries after its image back-off
//! ([`crate::image_backoff`]).
//!
//! # Simplifications
//!
//! For outages a pull is one connection: it dials once, at its start, and its registry
//! round trips and download are one transfer (Docker opens a connection per request; an outage
//! that falls between two of them would fail the next dial instead of stalling a transfer,
//! which differs only in when the failure shows). DNS answers are assumed cached. The
//! progress deadline counts a stall's silence from its start; one that begins while a resumed
//! attempt is still dialling was silent since Docker's last "Retrying in" message, up to a
//! few seconds earlier, so its cancel can come a check or two late. The layers
//! download as one: their attempts fail and resume together (Docker counts each layer's
//! attempts on its own; the layers of one pull share the route, so they meet the same outages).

use sim_core::{SimDuration, SimTime};

use crate::network::{first_resend_at_or_after, SYN_RTO, TCP_RTO_MIN};
use crate::spec::{Fault, Site};

/// Docker's registry dialer timeout: `net.Dialer{Timeout: 30 * time.Second}` in the transport
/// Docker 18.09's pull builds (moby `distribution/registry.go`, `NewV2Repository`; the same
/// dialer as `registry/registry.go` `NewTransport`).
pub const DIAL_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// Docker's registry dialer `KeepAlive: 30 * time.Second` (moby `distribution/registry.go`,
/// `NewV2Repository`): Go sets both `TCP_KEEPIDLE` and `TCP_KEEPINTVL` to it.
pub const KEEPALIVE: SimDuration = SimDuration::from_secs(30);

/// Linux `tcp_keepalive_probes` (default 9, `man 7 tcp`): unanswered probes before the kernel
/// drops the connection.
pub const KEEPALIVE_PROBES: u32 = 9;

/// dockershim's `--image-pull-progress-deadline` (v1.16 default 1 m): a pull whose progress
/// messages stop for longer is cancelled by the kubelet.
pub const PULL_PROGRESS_DEADLINE: SimDuration = SimDuration::from_secs(60);

/// How often dockershim's progress reporter looks at a pull's last message:
/// `defaultImagePullingProgressReportInterval = 10 * time.Second`
/// (`pkg/kubelet/dockershim/libdocker/kube_docker_client.go`).
pub const PULL_PROGRESS_CHECK: SimDuration = SimDuration::from_secs(10);

/// When dockershim cancels a pull started at `pull_start` whose last progress message came at
/// `last`, if none comes after: at the first of the reporter's checks (every
/// [`PULL_PROGRESS_CHECK`] from the start) that finds it silent for more than
/// [`PULL_PROGRESS_DEADLINE`] (`time.Since(timestamp) > imagePullProgressDeadline`).
pub fn progress_cancel_at(pull_start: SimTime, last: SimTime) -> SimTime {
    let due = last.checked_add(PULL_PROGRESS_DEADLINE).unwrap_or(SimTime::MAX);
    if due == SimTime::MAX {
        return SimTime::MAX;
    }
    let checks = due.saturating_since(pull_start).as_nanos() / PULL_PROGRESS_CHECK.as_nanos() + 1;
    pull_start
        .checked_add(PULL_PROGRESS_CHECK * checks)
        .unwrap_or(SimTime::MAX)
}

/// Attempts Docker's download manager makes at a layer before the pull fails:
/// `maxDownloadAttempts = 5` (moby `distribution/xfer/download.go`, Docker 18.09).
pub const MAX_DOWNLOAD_ATTEMPTS: u32 = 5;

/// Docker's wait before a layer's next attempt, per failure so far: `delay := retries * 5`
/// seconds (moby `distribution/xfer/download.go`).
pub const DOWNLOAD_RETRY_STEP: SimDuration = SimDuration::from_secs(5);

/// Round trips to the registry before a resumed layer download moves bytes again: a new TCP
/// connection (1), a full TLS 1.2 handshake (2) and the blob GET from the offset reached (1),
/// one of the four requests that `runtime.registry_round_trips` counts for a pull.
pub const RESUME_ROUND_TRIPS: u64 = 4;

/// Why a site's way out is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutageKind {
    /// The site is cut off (`isolate-site`): its router keeps its connections' state.
    Isolation,
    /// The site's router crashed: it comes back without its connections' state.
    RouterCrash,
    /// The registry host on the overlay crashed: it comes back without the connection, and the
    /// node's first keepalive probe after the restart is answered with a reset, as after a
    /// router's crash.
    RegistryCrash,
}

/// What happens to a connection that meets an outage: it stalls from `start` to `end`, then
/// goes on, or fails at `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    /// When the outage began.
    pub start: SimTime,
    /// When the connection's first resend after the repair gets through, or when it fails.
    pub end: SimTime,
    /// Whether the connection fails at `end` instead of going on.
    pub fails: bool,
    /// Whether what fails at `end` is the whole pull, cancelled by the kubelet for want of
    /// progress ([`Outages::for_pull`]): Docker does not try it again.
    pub cancels: bool,
}

/// How a pull's transfer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// It completes at this time.
    Done(SimTime),
    /// An outage cut it at `cut`; the pull fails at `at`.
    Failed {
        /// When the outage that kills it began (the transfer makes no progress after it).
        cut: SimTime,
        /// When Docker reports the failure.
        at: SimTime,
    },
}

impl Transfer {
    /// When the transfer completes or fails.
    pub fn at(self) -> SimTime {
        match self {
            Transfer::Done(at) | Transfer::Failed { at, .. } => at,
        }
    }
}

/// When a site's way out to the internet (and the registry) is down: intervals `[from, to)`
/// with their cause, `to` = [`SimTime::MAX`] for an outage never repaired; and what they do to
/// a connection of the site's round-trip time to the registry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outages {
    /// The outages, sorted by start.
    windows: Vec<(SimTime, SimTime, OutageKind)>,
    /// What each does to a transfer under way, sorted by start.
    stalls: Vec<Stall>,
    /// What a resumed layer download's new connection and request cost before bytes flow.
    resume: SimDuration,
}

/// A layer download's next attempt after a failure ([`Outages::resume`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resumed {
    /// When its new connection opened.
    pub connected: SimTime,
    /// When bytes flow again (the connection's handshakes and the blob request done).
    pub at: SimTime,
    /// Failed attempts so far.
    pub failures: u32,
}

impl Outages {
    /// The outages in `windows` (any order), for connections whose round trip to the registry
    /// takes `rtt`.
    pub fn new(mut windows: Vec<(SimTime, SimTime, OutageKind)>, rtt: SimDuration) -> Outages {
        windows.sort_unstable();
        let first_rto = rtt + TCP_RTO_MIN;
        let stalls = windows
            .iter()
            .map(|&(start, end, kind)| {
                let after = |d: SimDuration| start.checked_add(d).unwrap_or(SimTime::MAX);
                // The node drops the connection after its last unanswered probe.
                let dropped = after(KEEPALIVE * u64::from(KEEPALIVE_PROBES + 1));
                let (end, fails) = match kind {
                    OutageKind::Isolation => (first_resend_at_or_after(start, end, first_rto), false),
                    OutageKind::RouterCrash | OutageKind::RegistryCrash => {
                        // The node's probes go out every 30 s once it has heard nothing for 30 s.
                        let probes = end
                            .saturating_since(start)
                            .as_nanos()
                            .div_ceil(KEEPALIVE.as_nanos())
                            .max(1);
                        let probe = if end == SimTime::MAX {
                            SimTime::MAX
                        } else {
                            after(KEEPALIVE * probes)
                        };
                        (probe, true)
                    }
                };
                if end > dropped {
                    Stall {
                        start,
                        end: dropped,
                        fails: true,
                        cancels: false,
                    }
                } else {
                    Stall {
                        start,
                        end,
                        fails,
                        cancels: false,
                    }
                }
            })
            .collect();
        Outages {
            windows,
            stalls,
            resume: rtt * RESUME_ROUND_TRIPS,
        }
    }

    /// Whether the way out is never down.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// A pull dials the registry at `at`: [`Transfer::Done`] with the time it connects (`at` if
    /// the way out is up then), or [`Transfer::Failed`] when the dialer gives up.
    pub fn connect(&self, at: SimTime) -> Transfer {
        let give_up = at.checked_add(DIAL_TIMEOUT).unwrap_or(SimTime::MAX);
        let mut syn = at;
        let mut rto = SYN_RTO;
        while syn <= give_up {
            if !self.windows.iter().any(|w| w.0 <= syn && syn < w.1) {
                return Transfer::Done(syn);
            }
            syn = syn.checked_add(rto).unwrap_or(SimTime::MAX);
            rto = rto * 2;
        }
        Transfer::Failed { cut: at, at: give_up }
    }

    /// A transfer on a connection opened at `from` (when the way out is up, as
    /// [`Outages::connect`] leaves it) that needs `work` of time with the way out up.
    pub fn transfer(&self, from: SimTime, work: SimDuration) -> Transfer {
        self.transfer_since(from, from, work)
    }

    /// A transfer on a connection opened at `since`, going on from `from` with `work` of time
    /// with the way out up left. Only outages that begin while the connection is open touch it:
    /// one opened after an outage's repair is not held by the resends of older connections.
    pub fn transfer_since(&self, since: SimTime, from: SimTime, work: SimDuration) -> Transfer {
        let mut t = from;
        let mut left = work;
        for s in self.stalls.iter().filter(|s| s.start >= since) {
            if s.end <= t {
                continue;
            }
            if s.start > t {
                let gap = s.start.saturating_since(t);
                if gap >= left {
                    break;
                }
                left = left.saturating_sub(gap);
            }
            if s.fails {
                return Transfer::Failed {
                    cut: s.start.max(t),
                    at: s.end,
                };
            }
            t = t.max(s.end);
        }
        Transfer::Done(t.checked_add(left).unwrap_or(SimTime::MAX))
    }

    /// These outages as a pull's download meets them, dockershim's progress checks counting
    /// from `pull_start` (Docker's first progress message, once it has the manifest): a stall
    /// in which Docker
    /// sends no progress message for longer than [`PULL_PROGRESS_DEADLINE`] (bytes stopped,
    /// no failure yet for its download manager to announce a retry) ends at the progress
    /// reporter's check that cancels the whole pull ([`progress_cancel_at`]), unless it ends
    /// before. A cancelled pull fails at once, with nothing for Docker to retry.
    pub fn for_pull(&self, pull_start: SimTime) -> Outages {
        // A stall that begins while an earlier one still holds the connection adds to the
        // same silence: it counts from the earliest of them (the stalls are sorted by start).
        let mut silent_since = SimTime::ZERO;
        let mut held_until = SimTime::ZERO;
        let stalls = self
            .stalls
            .iter()
            .map(|&s| {
                if s.start >= held_until {
                    silent_since = s.start;
                }
                held_until = held_until.max(s.end);
                let cancel = progress_cancel_at(pull_start, silent_since.max(pull_start));
                if cancel < s.end {
                    Stall {
                        end: cancel,
                        fails: true,
                        cancels: true,
                        ..s
                    }
                } else {
                    s
                }
            })
            .collect();
        Outages {
            windows: self.windows.clone(),
            stalls,
            resume: self.resume,
        }
    }

    /// Whether a failure at `at` is the kubelet's cancel of the whole pull ([`Outages::for_pull`]).
    fn cancels(&self, at: SimTime) -> bool {
        self.stalls.iter().any(|s| s.cancels && s.end == at)
    }

    /// Docker's next attempt at a layer download whose attempt failed at `failed_at`, the
    /// `failures`-th failure: it waits `failures` x [`DOWNLOAD_RETRY_STEP`], dials, and asks
    /// for the rest of the layer ([`RESUME_ROUND_TRIPS`]); a dial that gives up, or a new
    /// connection an outage kills before its request is answered, is a failed attempt too.
    /// `Err(at)`: the last of [`MAX_DOWNLOAD_ATTEMPTS`] failed at `at`, and the pull with it.
    pub fn resume(&self, failed_at: SimTime, failures: u32) -> Result<Resumed, SimTime> {
        if self.cancels(failed_at) {
            // The kubelet gave up on the pull: nothing waits for the layers any more.
            return Err(failed_at);
        }
        let (mut failed_at, mut failures) = (failed_at, failures);
        while failures < MAX_DOWNLOAD_ATTEMPTS {
            let retry = failed_at
                .checked_add(DOWNLOAD_RETRY_STEP * u64::from(failures))
                .unwrap_or(SimTime::MAX);
            if retry == SimTime::MAX {
                // Never tried again within the clock's range: the pull never ends.
                return Err(SimTime::MAX);
            }
            let attempt = match self.connect(retry) {
                Transfer::Done(connected) => match self.transfer(connected, self.resume) {
                    Transfer::Done(at) => {
                        return Ok(Resumed {
                            connected,
                            at,
                            failures,
                        })
                    }
                    failed => failed,
                },
                failed => failed,
            };
            failed_at = attempt.at();
            if self.cancels(failed_at) {
                // The kubelet gave up during the new attempt's set-up.
                return Err(failed_at);
            }
            failures += 1;
        }
        Err(failed_at)
    }

    /// A layer download on a connection opened at `since`, going on from `from` with `work` of
    /// time with the way out up left, as Docker's download manager makes it: an outage that
    /// kills the connection fails the attempt, and the next attempt resumes where it stopped
    /// ([`Outages::resume`]). [`Transfer::Failed`] when the last attempt fails, with the cut
    /// after which it made no progress.
    pub fn download_since(&self, since: SimTime, from: SimTime, work: SimDuration) -> Transfer {
        let (mut since, mut from, mut left) = (since, from, work);
        let mut failures = 0;
        loop {
            let (cut, at) = match self.transfer_since(since, from, left) {
                Transfer::Failed { cut, at } => (cut, at),
                done => return done,
            };
            let done = SimDuration::from_secs_f64(self.up_seconds_since(since, from, cut));
            left = left.saturating_sub(done);
            match self.resume(at, failures + 1) {
                Ok(r) => (since, from, failures) = (r.connected, r.at, r.failures),
                Err(at) => return Transfer::Failed { cut, at },
            }
        }
    }

    /// A first pull on a connection opened at `since` that needs `total` of time with the way
    /// out up: `requests` of it the registry's requests before the layers (ping, token,
    /// manifest), the rest the layers' download. An outage that kills the connection during
    /// the requests fails the pull; during the download, Docker retries it
    /// ([`Outages::download_since`]), and dockershim, which hears Docker's first progress
    /// message once the manifest is in, cancels it if it stalls for too long
    /// ([`Outages::for_pull`]).
    pub fn first_pull(&self, since: SimTime, requests: SimDuration, total: SimDuration) -> Transfer {
        match self.transfer_since(since, since, requests) {
            Transfer::Done(layers) => {
                let rest = total.saturating_sub(requests);
                self.for_pull(layers).download_since(since, layers, rest)
            }
            failed => failed,
        }
    }

    /// If an outage that kills the transfers of a connection opened at `since` has begun by
    /// `t` and they are still stalled in it: when they fail.
    pub fn fails_at_since(&self, since: SimTime, t: SimTime) -> Option<SimTime> {
        self.stalls
            .iter()
            .find(|s| s.fails && s.start >= since && s.start <= t && t < s.end)
            .map(|s| s.end)
    }

    /// Seconds of `[from, to)` during which a transfer on a connection opened at `since` makes
    /// progress.
    pub fn up_seconds_since(&self, since: SimTime, from: SimTime, to: SimTime) -> f64 {
        let mut up = to.saturating_since(from).as_secs_f64();
        let mut counted = from;
        for s in self.stalls.iter().filter(|s| s.start >= since) {
            let (a, b) = (s.start.max(counted), s.end.min(to));
            if a < b {
                up -= b.saturating_since(a).as_secs_f64();
                counted = b;
            }
        }
        up.max(0.0)
    }
}

/// When `site`'s way out is down, from `faults`: its router crashed, or the site isolated; for
/// connections of round-trip time `rtt` to the registry.
pub fn outages_of(site: &Site, faults: &[Fault], rtt: SimDuration) -> Outages {
    let at = |d: crate::units::Dur| SimTime::ZERO + d.get();
    let windows = faults
        .iter()
        .filter_map(|f| match f {
            Fault::Crash { host, at: a, repair } if *host == site.router => {
                Some((at(*a), repair.map_or(SimTime::MAX, at), OutageKind::RouterCrash))
            }
            Fault::IsolateSite { site: x, at: a, repair } if *x == site.name => {
                Some((at(*a), repair.map_or(SimTime::MAX, at), OutageKind::Isolation))
            }
            _ => None,
        })
        .collect();
    Outages::new(windows, rtt)
}

/// When a node's pulls from a registry host on the overlay (`runtime.registry_host`) meet an
/// outage, for connections of round-trip time `rtt` to it: the windows `route_down` when their
/// route carries nothing ([`crate::network::Network::route_down_windows`]), which stall a
/// transfer as an isolation does (the overlay is routed, without NAT: the routers on the way
/// keep no state of the connection, its ends keep all of it), and the crashes of the registry
/// host `registry` itself in `faults`, after which the connection is gone.
pub fn overlay(route_down: &[(SimTime, SimTime)], registry: &str, faults: &[Fault], rtt: SimDuration) -> Outages {
    let at = |d: crate::units::Dur| SimTime::ZERO + d.get();
    let crashes = faults.iter().filter_map(|f| match f {
        Fault::Crash { host, at: a, repair } if host == registry => {
            Some((at(*a), repair.map_or(SimTime::MAX, at), OutageKind::RegistryCrash))
        }
        _ => None,
    });
    let windows = route_down
        .iter()
        .map(|&(start, end)| (start, end, OutageKind::Isolation))
        .chain(crashes)
        .collect();
    Outages::new(windows, rtt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OutageKind::{Isolation, RouterCrash};

    fn s(x: f64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs_f64(x)
    }

    fn one(a: f64, b: Option<f64>, kind: OutageKind) -> Outages {
        many(vec![(s(a), b.map_or(SimTime::MAX, s), kind)])
    }

    /// Outages over `windows` on connections of RTT 300 ms: the first resend comes 0.5 s after
    /// the loss, then 1 s, 2 s, ... later.
    fn many(windows: Vec<(SimTime, SimTime, OutageKind)>) -> Outages {
        Outages::new(windows, SimDuration::from_millis(300))
    }

    #[test]
    fn without_outages_a_transfer_takes_its_work() {
        let o = Outages::new(Vec::new(), SimDuration::from_millis(100));
        assert!(o.is_empty());
        assert_eq!(o.connect(s(3.0)), Transfer::Done(s(3.0)));
        assert_eq!(o.transfer(s(3.0), SimDuration::from_secs(4)), Transfer::Done(s(7.0)));
    }

    #[test]
    fn an_isolation_stalls_a_transfer_until_the_first_resend_after_the_repair() {
        // Lost at 10 s; resends at 10.5, 11.5, 13.5, 17.5, 25.5: the repair at 20 s lets the
        // one at 25.5 s through. 2 s of work were done before the cut, 3 s remain.
        let o = one(10.0, Some(20.0), Isolation);
        assert_eq!(o.transfer(s(8.0), SimDuration::from_secs(5)), Transfer::Done(s(28.5)));
        // Work that ends before the cut never meets it.
        assert_eq!(o.transfer(s(1.0), SimDuration::from_secs(9)), Transfer::Done(s(10.0)));
    }

    #[test]
    fn a_router_crash_fails_the_transfer_at_the_first_keepalive_probe_after_the_restart() {
        // Probes at 40, 70, ... s: the restart at 20 s is found at 40 s, one at 45 s at 70 s.
        for (repair, fails) in [(20.0, 40.0), (45.0, 70.0), (40.0, 40.0)] {
            let o = one(10.0, Some(repair), RouterCrash);
            assert_eq!(
                o.transfer(s(8.0), SimDuration::from_secs(5)),
                Transfer::Failed {
                    cut: s(10.0),
                    at: s(fails)
                },
                "repair {repair}"
            );
        }
    }

    #[test]
    fn a_cut_longer_than_the_keepalive_gives_fails_even_an_isolation() {
        // Nine unanswered probes, at 40 s to 280 s: dropped at 310 s.
        for (b, kind) in [
            (Some(300.0), Isolation),
            (None, Isolation),
            (None, RouterCrash),
            (Some(290.0), RouterCrash),
        ] {
            let o = one(10.0, b, kind);
            assert_eq!(
                o.transfer(s(8.0), SimDuration::from_secs(5)),
                Transfer::Failed {
                    cut: s(10.0),
                    at: s(310.0)
                },
                "{b:?} {kind:?}"
            );
        }
        // The registry's resend after a repair at 200 s comes at 257.5 s (the timeout has
        // reached its 120-s cap): in time.
        let o = one(10.0, Some(200.0), Isolation);
        assert_eq!(o.transfer(s(8.0), SimDuration::from_secs(5)), Transfer::Done(s(260.5)));
    }

    #[test]
    fn docker_resumes_a_cut_layer_download_where_it_stopped() {
        // The crash at 10 s cuts the download after 2 s of its 5; the probe at 40 s finds the
        // restarted router and fails the attempt. Docker waits 5 s, dials at 45 s (up), and
        // its new connection and blob request take 4 round trips of 300 ms: the 3 s left flow
        // from 46.2 s to 49.2 s.
        let o = one(10.0, Some(20.0), RouterCrash);
        let resumed = o.resume(s(40.0), 1).unwrap();
        assert_eq!((resumed.connected, resumed.at, resumed.failures), (s(45.0), s(46.2), 1));
        assert_eq!(
            o.download_since(s(8.0), s(8.0), SimDuration::from_secs(5)),
            Transfer::Done(s(49.2))
        );
        // A stall alone (an isolation) is not a failure: nothing to resume.
        let o = one(10.0, Some(20.0), Isolation);
        assert_eq!(
            o.download_since(s(8.0), s(8.0), SimDuration::from_secs(5)),
            o.transfer(s(8.0), SimDuration::from_secs(5))
        );
    }

    #[test]
    fn the_fifth_failed_attempt_fails_the_pull() {
        // Never repaired: the node drops the connection at 310 s (first failure); Docker dials
        // at 315, 355, 400 and 450 s, and each dial gives up after 30 s: 480 s.
        let o = one(10.0, None, RouterCrash);
        assert_eq!(o.resume(s(310.0), 1), Err(s(480.0)));
        assert_eq!(
            o.download_since(s(8.0), s(8.0), SimDuration::from_secs(5)),
            Transfer::Failed {
                cut: s(10.0),
                at: s(480.0)
            }
        );
        // Repaired at 330 s: the dial at 315 s gets through at its SYN of 330 s (15 s after
        // the first, `TCP_TIMEOUT_INIT` doubling), one failure so far.
        let o = one(10.0, Some(330.0), RouterCrash);
        assert_eq!(
            o.resume(s(310.0), 1).map(|r| (r.connected, r.failures)),
            Ok((s(330.0), 1))
        );
    }

    #[test]
    fn dockershim_cancels_a_pull_silent_for_more_than_a_minute_at_its_next_check() {
        // Checks every 10 s from the pull's start: silent since 5 s, the check at 73 s finds
        // 68 s; silent since 10 s, the one at 70 s finds exactly 60 s, not more: 80 s.
        assert_eq!(progress_cancel_at(s(3.0), s(5.0)), s(73.0));
        assert_eq!(progress_cancel_at(s(0.0), s(10.0)), s(80.0));
        // An isolation from 10 s to 100 s would hold a connection until the resend at 137.5 s:
        // the pull started at 8 s is cancelled at 78 s, and Docker does not try again.
        let o = one(10.0, Some(100.0), Isolation);
        let work = SimDuration::from_secs(5);
        assert_eq!(o.transfer(s(8.0), work), Transfer::Done(s(140.5)));
        let pull = o.for_pull(s(8.0));
        let cancelled = Transfer::Failed {
            cut: s(10.0),
            at: s(78.0),
        };
        assert_eq!(pull.transfer(s(8.0), work), cancelled);
        assert_eq!(pull.download_since(s(8.0), s(8.0), work), cancelled);
        // A shorter one (repaired at 20 s, the resend at 25.5 s) is no matter for the check.
        let o = one(10.0, Some(20.0), Isolation);
        assert_eq!(o.for_pull(s(8.0)), o);
    }

    #[test]
    fn a_cancel_during_a_resumed_attempts_set_up_ends_the_pull() {
        // Crash 10-12 s: the probe at 40 s fails the attempt, Docker dials at 45 s and asks for
        // the rest; an isolation from 45.5 s to 130 s holds that request silent until a check
        // (every 10 s from 8 s) cancels the pull, before the resend after the repair: no
        // further attempt.
        let o = many(vec![(s(10.0), s(12.0), RouterCrash), (s(45.5), s(130.0), Isolation)]).for_pull(s(8.0));
        match o.download_since(s(8.0), s(8.0), SimDuration::from_secs(10)) {
            Transfer::Failed { at, .. } => assert!(at < s(120.0), "cancelled at {at:?}"),
            done => panic!("{done:?}"),
        }
    }

    #[test]
    fn overlapping_stalls_make_one_silence() {
        // Isolations 10-30 s and 20-90 s hold a connection silent from 10 s: the check at 78 s
        // (every 10 s from 8 s) cancels the pull, not the one at 88 s that the second alone
        // would give.
        let o = many(vec![(s(10.0), s(30.0), Isolation), (s(20.0), s(90.0), Isolation)]).for_pull(s(8.0));
        let end = o.transfer(s(8.0), SimDuration::from_secs(5));
        assert!(matches!(end, Transfer::Failed { .. }), "{end:?}");
        assert_eq!(end.at(), s(78.0));
    }

    #[test]
    fn the_failures_before_a_resumed_attempt_still_count() {
        // Cut at 10 s (2 s of 10 done), failed at the probe at 40 s, resumed at 46.2 s; cut
        // again at 47 s for good: dropped at 347 s, the second failure, so Docker waits 10 s
        // (not 5) and its dials give up at 387, 432 and 482 s: the fifth failure.
        let o = many(vec![
            (s(10.0), s(20.0), RouterCrash),
            (s(47.0), SimTime::MAX, RouterCrash),
        ]);
        assert_eq!(
            o.download_since(s(8.0), s(8.0), SimDuration::from_secs(10)),
            Transfer::Failed {
                cut: s(47.0),
                at: s(482.0)
            }
        );
    }

    #[test]
    fn a_cut_during_the_registry_requests_fails_the_pull_one_during_the_layers_does_not() {
        let o = one(10.0, Some(20.0), RouterCrash);
        let secs = SimDuration::from_secs;
        // From 8 s, 10 s of pull of which the first 4 s are requests: cut 2 s in, a request.
        assert_eq!(
            o.first_pull(s(8.0), secs(4), secs(10)),
            Transfer::Failed {
                cut: s(10.0),
                at: s(40.0)
            }
        );
        // Requests of 1 s: the layers were under way, Docker resumes them (8 s left at 46.2 s).
        assert_eq!(o.first_pull(s(8.0), secs(1), secs(10)), Transfer::Done(s(54.2)));
        // Without a failure it is the transfer.
        assert_eq!(o.first_pull(s(21.0), secs(1), secs(10)), Transfer::Done(s(31.0)));
    }

    #[test]
    fn a_dial_during_an_outage_connects_at_the_next_syn_or_gives_up_after_30_s() {
        // SYNs at 12, 13, 15, 19, 27 s; the dialer gives up at 42 s.
        let o = one(10.0, Some(14.0), RouterCrash);
        assert_eq!(o.connect(s(12.0)), Transfer::Done(s(15.0)));
        let o = one(10.0, Some(30.0), Isolation);
        assert_eq!(
            o.connect(s(12.0)),
            Transfer::Failed {
                cut: s(12.0),
                at: s(42.0)
            }
        );
        assert_eq!(o.connect(s(30.0)), Transfer::Done(s(30.0)), "the repair is exclusive");
    }

    #[test]
    fn a_connection_opened_after_a_repair_is_not_held_by_older_ones_resends() {
        // Isolation 10-20 s: older connections resume at 25.5 s; a new one at 21 s goes at once.
        let o = one(10.0, Some(20.0), Isolation);
        assert_eq!(o.transfer(s(21.0), SimDuration::from_secs(2)), Transfer::Done(s(23.0)));
        // A crash 10-20 s fails the old ones at their probe (40 s), not a new one.
        let o = one(10.0, Some(20.0), RouterCrash);
        assert_eq!(o.transfer(s(21.0), SimDuration::from_secs(2)), Transfer::Done(s(23.0)));
        assert_eq!(o.fails_at_since(s(21.0), s(22.0)), None);
        assert_eq!(o.fails_at_since(s(5.0), s(22.0)), Some(s(40.0)));
    }

    #[test]
    fn progress_counts_only_outside_the_stalls() {
        let o = one(10.0, Some(20.0), Isolation); // stalls 10 s to 25.5 s
        assert!((o.up_seconds_since(SimTime::ZERO, s(0.0), s(30.0)) - 14.5).abs() < 1e-9);
        assert!((o.up_seconds_since(SimTime::ZERO, s(12.0), s(20.0))).abs() < 1e-9);
        // Overlapping outages are not counted twice.
        let both = many(vec![(s(10.0), s(20.0), Isolation), (s(15.0), s(22.0), RouterCrash)]);
        // (the isolation stalls from 10 s to 25.5 s, the crash from 15 s to its probe at 45 s)
        assert!((both.up_seconds_since(SimTime::ZERO, s(0.0), s(40.0)) - 10.0).abs() < 1e-9);
    }

    /// An outage 10..12 s that stalls, then one 20..21 s that kills, at RTT 300 ms: stalled
    /// from 10 s to 13.5 s, the crash at 20 s finds 3.5 s of 15 s of work left and fails it at
    /// the first keepalive probe after the restart, 50 s; 9 s of work finish between them.
    fn assert_stall_then_kill(o: &Outages) {
        assert_eq!(
            o.transfer(s(5.0), SimDuration::from_secs(15)),
            Transfer::Failed {
                cut: s(20.0),
                at: s(50.0)
            }
        );
        assert_eq!(o.transfer(s(5.0), SimDuration::from_secs(9)), Transfer::Done(s(17.5)));
    }

    #[test]
    fn the_second_outage_of_two_can_fail_a_transfer_the_first_only_stalled() {
        let o = many(vec![(s(10.0), s(12.0), Isolation), (s(20.0), s(21.0), RouterCrash)]);
        assert_stall_then_kill(&o);
    }

    #[test]
    fn on_the_overlay_a_route_outage_stalls_and_a_registry_crash_fails() {
        use crate::units::Dur;
        let crash = |host: &str| Fault::Crash {
            host: host.into(),
            at: Dur::secs(20),
            repair: Some(Dur::secs(21)),
        };
        // The route is down 10..12 s; the registry crashes 20..21 s; a crash of another host
        // is not the registry's.
        let o = overlay(
            &[(s(10.0), s(12.0))],
            "mirror",
            &[crash("mirror"), crash("master02")],
            SimDuration::from_millis(300),
        );
        // The same as an isolation then a crash on a site's way out (the test above).
        assert_stall_then_kill(&o);
        let other = overlay(&[], "mirror", &[crash("master02")], SimDuration::from_millis(300));
        assert!(other.is_empty());
    }
}
