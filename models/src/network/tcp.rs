//! What TCP and TLS cost a Kubernetes message: a new connection's handshakes through HAProxy,
//! the retransmission timeouts a lost segment waits out (Linux's `tcp_set_rto` and
//! `tcp_retransmit_timer`), and the packet sizes that serialization counts.

use rand::Rng;
use sim_core::{SimDuration, SimTime};

/// Linux `TCP_RTO_MIN` (200 ms, include/net/tcp.h): the least variance term of the
/// retransmission timeout.
pub const TCP_RTO_MIN: SimDuration = SimDuration::from_millis(200);

/// How long Linux keeps resending unacknowledged data before it gives the connection up
/// (`ETIMEDOUT`): `tcp_retries2` = 15, "a hypothetical timeout of 924.6 seconds", the back-off
/// from `TCP_RTO_MIN` (0.2 s x (2^10 - 1) = 204.6 s, then 6 timeouts at `TCP_RTO_MAX`), and
/// "a lower bound for the effective timeout" (Linux `Documentation/networking/ip-sysctl.txt`,
/// `tcp_retries2`, as the `linux-support` crate's docs quote it; kubernetes PR #95981: "a broken
/// TCP connection can linger for 15 minutes"). The model takes the bound.
pub const TCP_RETRIES2_TIMEOUT: SimDuration = SimDuration::from_millis(924_600);

/// Linux's first SYN retransmission timeout (`TCP_TIMEOUT_INIT`, 1 s since kernel 3.1,
/// RFC 6298 §2.1); each resend doubles it.
pub const SYN_RTO: SimDuration = SimDuration::from_secs(1);

/// When a SYN is sent again, from the first: 1, 3, 7, 15, ... s ([`SYN_RTO`] doubling), those
/// before `within`.
pub fn syn_resends(within: SimDuration) -> impl Iterator<Item = SimDuration> {
    std::iter::successors(Some(SYN_RTO), |&d| Some(d + d + SYN_RTO))
        .take_while(move |&d| d < within && d != SimDuration::MAX)
}

/// Round trips of a new TCP + TLS connection before its first request, for a connection whose
/// ends are the two hosts a message takes the route between: TCP's handshake (1) and a full TLS
/// 1.2 handshake (2). Kubernetes v1.16.3 is built with Go 1.12.12 (CHANGELOG-1.16, kubernetes
/// PR #84064), whose `crypto/tls` offers TLS 1.3 only on opt-in (`GODEBUG=tls13=1`), and
/// client-go's `transport.TLSConfigFor` sets no session cache, so every new connection pays the
/// full handshake. Through HAProxy the two handshakes have different ends:
/// [`apiserver_connect_time`].
pub const CONNECT_ROUND_TRIPS: u64 = 3;

/// What a Kubernetes client's new connection through HAProxy in TCP mode costs before its first
/// request: TCP's handshake ends at HAProxy (one round trip `to_lb`), while TLS is end to end,
/// passed through to the apiserver, so its two round trips each go the whole way (`to_lb` and
/// `lb_to_apiserver`). HAProxy dials the apiserver as it accepts the client, which overlaps the
/// client's first TLS flight.
pub fn apiserver_connect_time(to_lb: SimDuration, lb_to_apiserver: SimDuration) -> SimDuration {
    to_lb + (to_lb + lb_to_apiserver) * (CONNECT_ROUND_TRIPS - 1)
}

/// Linux `TCP_RTO_MAX` (120 s, include/net/tcp.h): the retransmission timeout stops doubling
/// here, and retransmissions go on every 120 s.
pub const TCP_RTO_MAX: SimDuration = SimDuration::from_secs(120);

/// What `n` consecutive losses of one message cost TCP on a connection of round-trip time
/// `srtt`: a retransmission timeout each, the first `srtt + TCP_RTO_MIN` (Linux's `tcp_set_rto`
/// is the smoothed RTT plus `max(4 x mean deviation, TCP_RTO_MIN)`, and a steady path has
/// little deviation), doubling up to [`TCP_RTO_MAX`] and then staying there (`tcp_retransmit_timer`).
/// The resent copy travels like the first, so the timeouts are the whole cost. Saturates rather
/// than overflows for absurd counts (a loss near 100 % never delivers within any run's timeout).
pub fn retransmission_cost(n: u64, srtt: SimDuration) -> SimDuration {
    let mut rto = (srtt + TCP_RTO_MIN).min(TCP_RTO_MAX);
    let mut total = SimDuration::ZERO;
    let mut k = 0;
    // At most 10 doublings from 200 ms reach the cap; then every timeout is 120 s. (`+` and `*`
    // of `SimDuration` saturate.)
    while k < n && rto < TCP_RTO_MAX {
        total += rto;
        rto = (rto * 2).min(TCP_RTO_MAX);
        k += 1;
    }
    total + TCP_RTO_MAX * (n - k)
}

/// TCP's first resend at or after `end` of a segment first sent at `start` and lost: resends
/// go out `first_rto` after the send, the timeout doubling up to [`TCP_RTO_MAX`] and then
/// staying there (`tcp_retransmit_timer`). [`SimTime::MAX`] if `end` is.
pub fn first_resend_at_or_after(start: SimTime, end: SimTime, first_rto: SimDuration) -> SimTime {
    if end == SimTime::MAX {
        return SimTime::MAX;
    }
    let mut t = start;
    let mut rto = first_rto.min(TCP_RTO_MAX);
    while t < end {
        if rto == TCP_RTO_MAX {
            // The rest at the cap: whole 120-s steps.
            let steps = end.saturating_since(t).as_nanos().div_ceil(TCP_RTO_MAX.as_nanos());
            return t.checked_add(TCP_RTO_MAX * steps).unwrap_or(SimTime::MAX);
        }
        t = t.checked_add(rto).unwrap_or(SimTime::MAX);
        rto = (rto * 2).min(TCP_RTO_MAX);
    }
    t
}

/// When a dial's SYN leaves, from the dial's start: at once, then at [`syn_resends`] within
/// the dial's time-out `dial_timeout` (0, 1, 3, 7 and 15 s within 30 s).
pub fn dial_syns(dial_timeout: SimDuration) -> impl Iterator<Item = SimDuration> {
    std::iter::once(SimDuration::ZERO).chain(syn_resends(dial_timeout))
}

/// client-go's dial timeout: `net.Dialer{Timeout: 30 * time.Second}` (client-go
/// `transport/cache.go`, v1.16; the kubelet's own dialer has the same: with kubeadm's certificate
/// rotation pkg/kubelet/certificate/transport.go `updateTransport`, else cmd/kubelet/app/server.go
/// `updateDialer`).
pub const CLIENT_DIAL_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// The first SYN at or after `end` among the dials of a loop that dials at each of its ticks
/// (`phase + k · period`) from `from` on, each dial sending its SYN at once and again
/// [`syn_resends`] later within its time-out `dial_timeout` (for a request with a time-out of
/// its own, that one: the dial runs under the request's context).
/// [`SimTime::MAX`] if `end` is, or if the period is zero.
pub fn first_periodic_syn_at_or_after(
    from: SimTime,
    (phase, period): (SimDuration, SimDuration),
    end: SimTime,
    dial_timeout: SimDuration,
) -> SimTime {
    if end == SimTime::MAX || period.is_zero() {
        return SimTime::MAX;
    }
    // Dials begun within a time-out before `end` may still send; the first begun at or after
    // `end` sends at once.
    let earliest = SimTime::from_nanos(end.as_nanos().saturating_sub(dial_timeout.as_nanos())).max(from);
    let mut tick = earliest.tick_at_or_after(phase, period);
    let mut first = SimTime::MAX;
    while tick < end {
        if let Some(syn) = dial_syns(dial_timeout)
            .filter_map(|d| tick.checked_add(d))
            .find(|&t| t >= end)
        {
            first = first.min(syn);
        }
        tick = tick.checked_add(period).unwrap_or(SimTime::MAX);
    }
    first.min(tick)
}

/// The first SYN at or after `end` of a client that starts dialling at `start` and dials again
/// each time a dial times out after `dial_timeout`: each dial sends its SYN at once and again
/// [`syn_resends`] later within the time-out. [`SimTime::MAX`] if `end` is, or if the time-out
/// is zero.
pub fn first_syn_at_or_after(start: SimTime, end: SimTime, dial_timeout: SimDuration) -> SimTime {
    if end == SimTime::MAX || dial_timeout.is_zero() {
        return SimTime::MAX;
    }
    if end <= start {
        return start;
    }
    // The dial under way at `end`, then the next, which sends its first SYN at once.
    let k = end.saturating_since(start).as_nanos() / dial_timeout.as_nanos();
    let Some(dial) = start.checked_add(dial_timeout * k) else {
        return SimTime::MAX;
    };
    dial_syns(dial_timeout)
        .filter_map(|d| dial.checked_add(d))
        .find(|&t| t >= end)
        .unwrap_or_else(|| dial.checked_add(dial_timeout).unwrap_or(SimTime::MAX))
}

/// How long after its first send a lost message's first resend at or after `after` goes out,
/// on a connection of round-trip time `srtt` (the timeouts of [`retransmission_cost`]).
pub fn resend_wait(after: SimDuration, srtt: SimDuration) -> SimDuration {
    first_resend_at_or_after(SimTime::ZERO, SimTime::ZERO + after, srtt + TCP_RTO_MIN).saturating_since(SimTime::ZERO)
}

/// MTU of a route that crosses no tunnel: Ethernet's 1500 bytes.
pub const ETHERNET_MTU: u32 = 1500;

/// IPv4 and TCP headers without options (20 + 20 bytes, RFC 791 and RFC 9293): what a packet of
/// an MTU-sized route carries besides data.
pub const IP_TCP_HEADERS: u32 = 40;

/// How many copies of a message are lost before one gets through, each lost with probability
/// `p` on its own: geometric, drawn at once from one uniform (so 99 % and 99.999 % cost the same
/// one draw); [`u64::MAX`] for a loss that is certain, or so near it that the count passes
/// 10^15. The caller turns the count into TCP's resend time ([`retransmission_cost`]).
pub fn copies_lost(p: f64, rng: &mut impl Rng) -> u64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
    if p >= 1.0 {
        return u64::MAX;
    }
    let n = (u.ln() / p.ln()).floor();
    if n.is_finite() && n < 1e15 {
        n as u64
    } else {
        u64::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dial's SYNs go out at 0, 1, 3, 7 and 15 s; the next dial starts at 30 s.
    #[test]
    fn a_client_dialling_again_gets_through_at_its_first_syn_after_the_repair() {
        let s = |x: u64| SimTime::ZERO + SimDuration::from_secs(x);
        let t = CLIENT_DIAL_TIMEOUT;
        assert_eq!(first_syn_at_or_after(s(10), s(5), t), s(10));
        assert_eq!(first_syn_at_or_after(s(10), s(10), t), s(10));
        assert_eq!(first_syn_at_or_after(s(10), s(12), t), s(13));
        assert_eq!(
            first_syn_at_or_after(s(10), s(26), t),
            s(40),
            "after the 15-s resend: the next dial"
        );
        assert_eq!(first_syn_at_or_after(s(10), s(44), t), s(47));
        assert_eq!(
            first_syn_at_or_after(s(10), s(3_600), t),
            s(3_610),
            "past the dial at 3,580 s: the next"
        );
        assert_eq!(first_syn_at_or_after(s(10), SimTime::MAX, t), SimTime::MAX);
    }

    /// A loop that dials at each 10-s tick, each dial sending SYNs at 0, 1, 3, 7 and 15 s: the
    /// first SYN after an instant is the earliest among the dials still under way and the next.
    #[test]
    fn a_loop_dialling_at_each_tick_gets_through_at_the_first_of_its_dials_syns() {
        let s = |x: f64| SimTime::ZERO + SimDuration::from_secs_f64(x);
        let ten = (SimDuration::ZERO, SimDuration::from_secs(10));
        let t = CLIENT_DIAL_TIMEOUT;
        assert_eq!(
            first_periodic_syn_at_or_after(s(0.0), ten, s(24.0), t),
            s(25.0),
            "the 10-s dial's 15-s resend"
        );
        assert_eq!(
            first_periodic_syn_at_or_after(s(0.0), ten, s(25.5), t),
            s(27.0),
            "the 20-s dial's 7-s resend"
        );
        assert_eq!(
            first_periodic_syn_at_or_after(s(15.0), ten, s(24.0), t),
            s(27.0),
            "no dial before 15 s"
        );
        assert_eq!(
            first_periodic_syn_at_or_after(s(0.0), ten, s(30.0), t),
            s(30.0),
            "a tick at the instant"
        );
        let phased = (SimDuration::from_secs(4), SimDuration::from_secs(10));
        assert_eq!(first_periodic_syn_at_or_after(s(0.0), phased, s(29.5), t), s(31.0));
        assert_eq!(
            first_periodic_syn_at_or_after(s(0.0), ten, SimTime::MAX, t),
            SimTime::MAX
        );
        let first_tick = first_periodic_syn_at_or_after(s(15.0), ten, s(12.0), t);
        assert_eq!(first_tick, s(20.0), "the first tick from 15 s");
        let never = (SimDuration::ZERO, SimDuration::ZERO);
        assert_eq!(first_periodic_syn_at_or_after(s(0.0), never, s(12.0), t), SimTime::MAX);
        // Dials that end at a 10-s request time-out send no 15-s SYN.
        let short = SimDuration::from_secs(10);
        assert_eq!(first_periodic_syn_at_or_after(s(0.0), ten, s(24.0), short), s(27.0));
    }

    /// The copies lost before one gets through are geometric: a mean of p / (1 - p), one draw
    /// each however near 1 the loss (so `bench raft --loss 99.99999` takes no longer than at
    /// 1 %); a certain loss is never through.
    #[test]
    fn copies_lost_are_geometric_from_one_draw() {
        let mut rng = sim_core::rng::seeded(7);
        let n = 200_000;
        let mean = (0..n).map(|_| copies_lost(0.5, &mut rng) as f64).sum::<f64>() / f64::from(n);
        assert!((mean - 1.0).abs() < 0.02, "mean {mean} at 50 %");
        let mean = (0..n).map(|_| copies_lost(0.01, &mut rng) as f64).sum::<f64>() / f64::from(n);
        assert!((mean - 0.01 / 0.99).abs() < 0.002, "mean {mean} at 1 %");
        let (mut a, mut b) = (sim_core::rng::seeded(3), sim_core::rng::seeded(3));
        let near_certain = copies_lost(1.0 - 1e-7, &mut a);
        assert!((1..u64::MAX).contains(&near_certain), "{near_certain}");
        let _: f64 = b.random();
        assert_eq!(a.random::<u64>(), b.random::<u64>(), "one draw per message");
        assert_eq!(copies_lost(1.0, &mut a), u64::MAX);
        assert_eq!(copies_lost(0.0, &mut a), 0);
    }

    /// Through HAProxy in TCP mode, TCP's handshake ends at the load balancer but TLS goes on to
    /// the apiserver: a kubectl next to the load balancer whose apiserver is 250 ms away pays
    /// the two TLS round trips to that apiserver, not three round trips to the balancer.
    #[test]
    fn a_new_connection_pays_tls_to_the_apiserver_behind_haproxy() {
        let ms = SimDuration::from_millis;
        assert_eq!(apiserver_connect_time(ms(1), ms(250)), ms(1 + 2 * 251));
        // Load balancer and apiserver on one host's LAN: three round trips to the balancer.
        assert_eq!(apiserver_connect_time(ms(40), ms(0)), ms(120));
    }

    #[test]
    fn the_first_resend_after_a_time_falls_on_the_doubling_schedule() {
        let ms = SimDuration::from_millis;
        // RTT 0: resends 200, 600, 1400, 3000 ms after the first send.
        assert_eq!(resend_wait(ms(0), ms(0)), ms(0));
        assert_eq!(resend_wait(ms(150), ms(0)), ms(200));
        assert_eq!(resend_wait(ms(600), ms(0)), ms(600));
        assert_eq!(resend_wait(ms(601), ms(0)), ms(1400));
        // Past the cap: 204.6 s of doubling timeouts, then 120-s steps.
        assert_eq!(resend_wait(ms(250_000), ms(0)), ms(204_600 + 120_000));
        assert!(resend_wait(SimDuration::from_secs(86_400 * 30), ms(0)) >= SimDuration::from_secs(86_400 * 30));
    }

    #[test]
    fn losses_cost_doubling_timeouts_then_flat_ones() {
        let ms = SimDuration::from_millis;
        // A LAN-like RTT of 0: timeouts of 200 ms, doubling.
        assert_eq!(retransmission_cost(0, ms(0)), SimDuration::ZERO);
        assert_eq!(retransmission_cost(1, ms(0)), ms(200));
        assert_eq!(retransmission_cost(3, ms(0)), ms(200 + 400 + 800));
        // Ten doubling timeouts (200 ms .. 102.4 s), then 120 s each.
        assert_eq!(retransmission_cost(12, ms(0)), ms(204_600) + ms(240_000));
        assert_eq!(retransmission_cost(u64::MAX, ms(0)), SimDuration::MAX);
        // 500 ms each way: the first timeout is the RTT plus 200 ms, then 2.4 s, 4.8 s.
        assert_eq!(retransmission_cost(1, ms(1000)), ms(1200));
        assert_eq!(retransmission_cost(3, ms(1000)), ms(1200 + 2400 + 4800));
        // An RTT beyond the cap times out at 120 s from the first loss.
        assert_eq!(retransmission_cost(2, ms(200_000)), ms(240_000));
    }
}
