//! A Kubernetes client: one connection through HAProxy and a client-go token bucket.
//!
//! client-go's `rest.Config{QPS, Burst}` builds `flowcontrol.NewTokenBucketRateLimiter`; every
//! request waits for a token (`Wait`), in the order requests were made
//! (k8s.io/client-go/rest/request.go `tryThrottle`). [`sim_core::limiter::TokenBucket::reserve`]
//! gives the instant the request may leave; the call then crosses the network to its apiserver.

use sim_core::limiter::TokenBucket;
use sim_core::{ComponentId, Context, SimDuration};

use crate::api::{ApiCall, Conn, Ev, Obj};

/// A rate-limited API client.
#[derive(Debug, Clone)]
pub struct Client {
    /// The connection.
    pub conn: Conn,
    /// The control-plane component.
    pub cp: ComponentId,
    /// The limiter (`TokenBucket::unlimited()` for heartbeat clients).
    pub limiter: TokenBucket,
    next_id: u32,
    /// Requests sent.
    pub sent: u64,
}

impl Client {
    /// A client on `conn` limited by `limiter`.
    pub fn new(conn: Conn, cp: ComponentId, limiter: TokenBucket) -> Client {
        Client {
            conn,
            cp,
            limiter,
            next_id: 0,
            sent: 0,
        }
    }

    /// The same client numbering its calls from `base`, so that two clients of one component
    /// (the kubelet's main and heartbeat clients) never share a call id.
    pub fn with_id_base(mut self, base: u32) -> Client {
        self.next_id = base;
        self
    }

    /// Sends `obj` as soon as the limiter allows; returns the call id the reply will carry.
    pub fn send(&mut self, obj: Obj, ctx: &mut Context<'_, Ev>) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.sent += 1;
        let now = ctx.now();
        let at = self.limiter.reserve(now);
        // The network's draws keyed by the call: another call's jitter or loss does not move them.
        let mut rng = ctx.keyed_rng(crate::draws::request_key(id));
        let (due, call) = self.conn.deliver(ctx.me(), id, obj, at, &mut rng);
        ctx.send_at(self.cp, due, Ev::ApiArrive(call));
        id
    }

    /// Sends `call` again after its apiserver refused it with `429 Too Many Requests` and the
    /// client slept the answer's `Retry-After` ([`Ev::TooManyRequests`]): through the limiter
    /// again, as client-go v1.16 throttles every retry (`rest/request.go`: "This request should
    /// also be throttled with the client-internal throttler").
    pub fn send_again(&mut self, call: ApiCall, ctx: &mut Context<'_, Ev>) {
        self.sent += 1;
        send_again(&self.conn, self.cp, &mut self.limiter, call, ctx);
    }

    /// Follows a failover of the connection.
    pub fn rebind(&mut self, master: u8, host: crate::network::HostId, from: crate::network::HostId) {
        self.conn.rebind(master, host, from);
    }

    /// Total time requests spent waiting for the limiter.
    pub fn throttled(&self) -> SimDuration {
        self.limiter.total_delay()
    }
}

/// Sends `call`, refused with `429 Too Many Requests`, again on `conn` to the control plane
/// `cp` once `limiter` lets it go: the same request (its id and what it does) with its count of
/// refusals, on the connection as it is now.
pub fn send_again(conn: &Conn, cp: ComponentId, limiter: &mut TokenBucket, call: ApiCall, ctx: &mut Context<'_, Ev>) {
    let at = limiter.reserve(ctx.now());
    let mut rng = ctx.keyed_rng(crate::draws::resend_key(call.id, call.refused));
    let (due, again) = conn.deliver(ctx.me(), call.id, call.obj, at, &mut rng);
    let again = ApiCall {
        refused: call.refused,
        ..again
    };
    ctx.send_at(cp, due, Ev::ApiArrive(again));
}
