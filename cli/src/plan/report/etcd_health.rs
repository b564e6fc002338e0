//! Section (c) of the report: etcd at the members' round trips: the RTT between members, the
//! commit and read latencies, the raft timers against the tuning guide's rules, and the
//! elections simulated message by message.

use std::fmt::Write as _;

use crate::plan::fmt::dur_ms;
use crate::plan::net::{verdict_text, EtcdHealth};
use crate::plan::Plan;

use super::HEADINGS;

/// Section (c): etcd health at these round-trip times.
pub(super) fn etcd_health_section(o: &mut String, p: &Plan) {
    let e = &p.options[0].net.etcd;
    w!(o, "{}", HEADINGS[2]);
    w!(o);
    w!(
        o,
        "Round-trip times between the etcd members (one stacked member per master; `Network::base_one_way` there and back, mean; p99 in brackets where netem's jitter or loss applies):"
    );
    w!(o);
    member_rtt_table(o, e);
    figures_table(o, e);
    elections_paragraphs(o, e);
}

/// The round trips between the etcd members, mean (p99 in brackets where netem changes it).
fn member_rtt_table(o: &mut String, e: &EtcdHealth) {
    let mut head = String::from("| member (site) |");
    let mut rule = String::from("|---|");
    for (m, site) in e.members.iter().zip(&e.sites) {
        let _ = write!(head, " {m} ({site}) |");
        rule.push_str("---:|");
    }
    w!(o, "{head}");
    w!(o, "{rule}");
    for (i, (m, site)) in e.members.iter().zip(&e.sites).enumerate() {
        let mut line = format!("| {m} ({site}){} |", if i == e.leader { ", leader" } else { "" });
        for r in &e.rtt[i] {
            if (r.p99_s() - r.base_s).abs() > 1e-9 {
                let _ = write!(line, " {} ({}) |", dur_ms(r.base_s), dur_ms(r.p99_s()));
            } else {
                let _ = write!(line, " {} |", dur_ms(r.base_s));
            }
        }
        w!(o, "{line}");
    }
    w!(o);
}

/// etcd's figures with what each is and the rule behind it: leader, largest RTT, fsync, commit
/// and read latencies, the timers against the RTT, the verdict and the simulated elections.
fn figures_table(o: &mut String, e: &EtcdHealth) {
    let vname = verdict_text(e.verdict).0;
    let vname99 = verdict_text(e.verdict_p99).0;
    w!(o, "| figure | value | what it is, and the rule |");
    w!(o, "|---|---:|---|");
    w!(
        o,
        "| raft leader | {} | `kubernetes.etcd.leader` (else the first master) |",
        e.members[e.leader]
    );
    w!(
        o,
        "| largest member RTT | {} mean, {} p99 | the largest of the table above; p99 adds 2.326 σ of netem jitter and a TCP retransmission timeout (the RTT + 200 ms, doubling) per loss of at least 1 % chance |",
        dur_ms(e.max_rtt_s),
        dur_ms(e.max_rtt_p99_s)
    );
    w!(
        o,
        "| WAL fsync | {} | `kubernetes.etcd.fsync`; the default, 2 ms, is the 500 sequential IOPS etcd's hardware guide recommends, and its FAQ asks for a p99 under 10 ms (`docs/sources.md` §7 \"Disk guidance\") |",
        dur_ms(e.fsync_s)
    );
    w!(
        o,
        "| commit latency at the leader | {} | `models::etcd::commit_latency`: max(leader fsync, RTT to the nearest follower of a quorum + its fsync) (`docs/sources.md` §7 \"Commit rule\", \"Write latency model\") |",
        dur_ms(e.commit_s)
    );
    w!(
        o,
        "| commit latency of a write entering at each apiserver | {} | a follower's apiserver adds its RTT to the leader (forwarding) |",
        e.members
            .iter()
            .zip(&e.commit_at_s)
            .map(|(m, c)| format!("{m} {}", dur_ms(*c)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    w!(
        o,
        "| linearizable read at the leader | {} | read index: one heartbeat round to a quorum; the kubelet's status GET is such a read (`docs/sources.md` §7 \"Read (quorum GET)\") |",
        dur_ms(e.read_index_s)
    );
    w!(
        o,
        "| heartbeat vs largest RTT | {} vs {} (p99 {}): {:.1} x | the tuning guide: heartbeat ≈ the largest member RTT, \"normally around 0.5-1.5x\" (`docs/sources.md` §7 \"Heartbeat interval\", \"Tuning guidance\") |",
        dur_ms(e.heartbeat_s),
        dur_ms(e.max_rtt_s),
        dur_ms(e.max_rtt_p99_s),
        e.heartbeat_s / e.max_rtt_p99_s.max(1e-9)
    );
    w!(
        o,
        "| election timeout vs 10 x largest RTT | {} vs {} | the tuning guide: election timeout at least 10 x the RTT (`docs/sources.md` §7 \"Election timeout\", \"Tuning guidance\") |",
        dur_ms(e.election_s),
        dur_ms(10.0 * e.max_rtt_p99_s)
    );
    w!(
        o,
        "| `timer_health` verdict | **{}** at the mean RTT, **{}** at p99 | `models::etcd::timer_health`: unstable if election ≤ RTT + heartbeat/2 (a new leader checks its quorum before the first answers come back), at risk if election < 10 x RTT or heartbeat < RTT/2 (the tuning guide's 10x and 0.5-1.5x) |",
        vname,
        vname99
    );
    w!(
        o,
        "| elections in steady state (simulated) | {} | `models::raft::steady_state`: etcd 3.3's raft message by message over these routes (a heartbeat every tick, randomized election timeouts, CheckQuorum and its lease, no pre-vote), each message drawn as `run` draws it (netem's jitter and loss, TCP's resends and in-order delivery, the scenario's network faults: partitions, isolated sites, crashed routers, degradations) (`docs/sources.md` §7, \"Raft liveness in etcd 3.3\") |",
        e.raft.steady_text()
    );
    w!(
        o,
        "| a crashed leader replaced after (simulated) | {} | `models::raft::leader_failover`: the leader's member stops; until a new leader hears from a quorum at its term, no write commits |",
        e.raft.failover_text()
    );
    w!(o);
}

/// The risk of spurious elections, the simulated elections' summary, and the elections at the
/// recommended timers.
fn elections_paragraphs(o: &mut String, e: &EtcdHealth) {
    let (vname, vwhy) = verdict_text(e.verdict);
    let (vname99, vwhy99) = verdict_text(e.verdict_p99);
    w!(
        o,
        "Risk of spurious elections: {}{}",
        vwhy99,
        if vname != vname99 {
            format!(" (at the mean RTT alone: {vwhy})")
        } else {
            String::new()
        }
    );
    w!(o);
    w!(o, "{}", e.raft.summary(e.election_s, e.max_rtt_s));
    w!(o);
    if let Some(((hb, el), r)) = &e.raft_recommended {
        w!(
            o,
            "At the recommended timers, `--heartbeat-interval={:.0}` and `--election-timeout={:.0}` ((e)), simulated over the same routes and seeds: {}.",
            hb * 1e3,
            el * 1e3,
            r.brief()
        );
        w!(o);
    }
}
