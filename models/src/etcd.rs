//! etcd raft: commit latency of a write and health of the cluster at given round-trip times.
//!
//! # Mechanism
//!
//! kubeadm stacks an etcd member on each master; each apiserver talks to its local member
//! (`--etcd-servers=https://127.0.0.1:2379`). A write is proposed to the leader (forwarded by a
//! follower, one extra one-way trip each way), which appends it to its WAL and fsyncs while it
//! replicates to the followers; each follower appends, fsyncs and acknowledges. The entry
//! commits when a majority (the leader included) has it durable:
//!
//! `commit = max(fsync_leader, k-th smallest over followers of (RTT(leader, f) + fsync_f))`
//!
//! with `k = quorum - 1`. For three members on one LAN that is about one fsync plus one LAN
//! round trip. A linearizable read (the kubelet's GET of its pod in v1.16 is a quorum read)
//! needs the leader to confirm leadership with a heartbeat round to a quorum: the same k-th
//! smallest RTT, without fsync.
//!
//! Timing health: followers expect a heartbeat every `--heartbeat-interval` (100 ms) and start
//! an election after `--election-timeout` (1000 ms) of silence (etcd tuning guide; the guide
//! recommends a heartbeat near the largest member RTT and an election timeout of at least
//! ten times it).

use sim_core::SimDuration;

/// Commit latency of a write proposed at the leader. `follower_rtts[i]` is the round-trip time
/// from the leader to follower `i`; `members` is the cluster size (followers + 1).
pub fn commit_latency(fsync: SimDuration, follower_rtts: &[SimDuration]) -> SimDuration {
    let members = follower_rtts.len() + 1;
    let quorum = members / 2 + 1;
    let acks_needed = quorum - 1;
    if acks_needed == 0 {
        return fsync;
    }
    let mut acks: Vec<SimDuration> = follower_rtts.iter().map(|&r| r + fsync).collect();
    acks.sort_unstable();
    fsync.max(acks[acks_needed - 1])
}

/// Latency of a linearizable read at the leader: one heartbeat round to a quorum.
pub fn read_index_latency(follower_rtts: &[SimDuration]) -> SimDuration {
    let members = follower_rtts.len() + 1;
    let acks_needed = members / 2;
    if acks_needed == 0 {
        return SimDuration::ZERO;
    }
    let mut r = follower_rtts.to_vec();
    r.sort_unstable();
    r[acks_needed - 1]
}

/// How an etcd cluster's timers fare at a given largest member RTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerHealth {
    /// Heartbeat at least half the RTT and election timeout at least 10x the RTT.
    Healthy,
    /// Works, but outside the tuning guide's advice (etcd `Documentation/tuning.md`: heartbeat
    /// "normally around 0.5-1.5x the round-trip time", election timeout "at least 10 times the
    /// round-trip time"): a heartbeat interval under half the RTT, or an election timeout
    /// under 10 RTTs (spurious elections under jitter or load).
    AtRisk,
    /// The election timeout is at most the RTT plus half a heartbeat interval: a new leader steps
    /// down before it hears from a quorum, so a lost leader is replaced late or never
    /// (`crate::raft` simulates it).
    Unstable,
}

/// How long etcd lets a request wait before it answers "request timed out": etcd 3.3
/// etcdserver/config.go `ReqTimeout`, 5 s "for queue waiting, computation and disk IO delay"
/// plus twice the election timeout "for possible leader election" (7 s at the default 1 s).
pub fn request_timeout(election: SimDuration) -> SimDuration {
    SimDuration::from_secs(5) + election * 2
}

/// Classifies etcd's timers against the largest round trip between members.
///
/// Unstable: a new leader starts with every follower inactive and checks its quorum on its
/// `e`-th tick after it won, `e - 1` to `e` heartbeat intervals later (`becomeLeader`,
/// `tickHeartbeat`); its first answers come a round trip after its first append. With steady
/// round trips the check passes only if the round trip ends in the first half of a tick, so when
/// it is longer than the election timeout less half a heartbeat interval a new leader steps down
/// before it has heard from anyone, and a lost leader is replaced late (jitter moving the
/// phase) or never (`crate::raft`; at the defaults, 100 ms / 1000 ms, elections finish at a
/// 0.90-0.948 s round trip, and none does from 0.96 s without jitter).
pub fn timer_health(heartbeat: SimDuration, election: SimDuration, max_rtt: SimDuration) -> TimerHealth {
    if election <= max_rtt + SimDuration::from_nanos(heartbeat.as_nanos() / 2) {
        TimerHealth::Unstable
    } else if election < max_rtt * 10 || heartbeat * 2 < max_rtt {
        TimerHealth::AtRisk
    } else {
        TimerHealth::Healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_needs_the_nearest_majority() {
        let ms = SimDuration::from_millis;
        // Three members, quorum 2: the nearer follower 50 ms away decides, plus its fsync.
        assert_eq!(commit_latency(ms(2), &[ms(50), ms(200)]), ms(52));
        // Five members, quorum 3: the second-nearest follower decides.
        assert_eq!(commit_latency(ms(2), &[ms(10), ms(80), ms(30), ms(300)]), ms(32));
        // One member: only the local fsync.
        assert_eq!(commit_latency(ms(2), &[]), ms(2));
        // A slow disk dominates a fast LAN.
        assert_eq!(commit_latency(ms(20), &[ms(1), ms(1)]), ms(21));
        assert_eq!(read_index_latency(&[ms(50), ms(200)]), ms(50));
    }

    #[test]
    fn timer_health_follows_the_tuning_guide() {
        let ms = SimDuration::from_millis;
        assert_eq!(timer_health(ms(100), ms(1000), ms(1)), TimerHealth::Healthy);
        assert_eq!(timer_health(ms(100), ms(1000), ms(150)), TimerHealth::AtRisk);
        // The guide's heartbeat of 0.5-1.5x the RTT: 100 ms suits a 150-ms RTT once the
        // election timeout is 10 RTTs, not a 250-ms one.
        assert_eq!(timer_health(ms(100), ms(1500), ms(150)), TimerHealth::Healthy);
        assert_eq!(timer_health(ms(100), ms(2500), ms(200)), TimerHealth::Healthy);
        assert_eq!(timer_health(ms(100), ms(2500), ms(250)), TimerHealth::AtRisk);
        assert_eq!(timer_health(ms(100), ms(1000), ms(2000)), TimerHealth::Unstable);
        // The edge the raft simulation finds: 0.948 s of round trip still elects, 0.96 s not.
        assert_eq!(timer_health(ms(100), ms(1000), ms(948)), TimerHealth::AtRisk);
        assert_eq!(timer_health(ms(100), ms(1000), ms(960)), TimerHealth::Unstable);
    }
}
