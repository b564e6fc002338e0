//! Section (d) of the report: the control-plane placement options ranked by their mean time,
//! and which one to take: the fastest only if the gain is real and visible, else the scenario as
//! given.

use std::fmt::Write as _;

use crate::plan::fmt::{ci, dur_ms, s2};
use crate::plan::net::verdict_text;
use crate::plan::{OptionResult, Plan};

use super::HEADINGS;

/// Section (d): which control-plane placement is best, of the options in `order` (the options by
/// mean time, [`ranked`]).
pub(super) fn placements_section(o: &mut String, p: &Plan, order: &[usize]) {
    let s = &p.scenario;
    let n = p.pods;
    w!(o, "{}", HEADINGS[3]);
    w!(o);
    if p.options.len() == 1 && !p.as_given.is_empty() {
        w!(
            o,
            "The option given ({}) is where the masters already are: the scenario as given, below. Pass other sites with `--placements 'A,B,C;D,E,F'` (one site per master, `master01`..; HAProxy moves with the first) to compare placements.",
            p.as_given.join("; ")
        );
    } else if p.options.len() == 1 {
        w!(
            o,
            "No options were given: pass `--placements 'A,B,C;D,E,F'` (one site per master, `master01`..; HAProxy moves with the first) to compare placements. The scenario as given:"
        );
    } else {
        w!(
            o,
            "Each option moves the masters ({}) to the sites listed, in that order, and HAProxy with the first, relinking each moved host to its new site's router with its old LAN link's delay; workers, WAN links and tunnels stay. Ranked by the mean time until {n} pods run; Δ is the paired difference to the scenario as given over the same seeds.{}",
            crate::plan::net::masters(s).join(", "),
            if p.as_given.is_empty() {
                String::new()
            } else {
                format!(" The option {} is where the masters already are: the row marked as given.", p.as_given.join("; "))
            }
        );
    }
    w!(o);
    placements_table(o, p, order);
    if p.options.len() > 1 {
        best_option_paragraph(o, p, order);
    }
}

/// The options, fastest first: mean time, CI, p90, the paired difference to the scenario as
/// given, the slowest site, the round trips, and etcd at that placement.
fn placements_table(o: &mut String, p: &Plan, order: &[usize]) {
    w!(
        o,
        "| rank | masters at | mean time | 95 % CI | p90 | Δ vs as given (95 % CI) | slowest site (last pod) | worst worker↔apiserver RTT | etcd largest RTT | etcd commit | etcd timers (p99); simulated elections, failover |"
    );
    w!(o, "|---:|---|---:|---|---:|---|---|---:|---:|---:|---|");
    for (rank, &i) in order.iter().enumerate() {
        let op = &p.options[i];
        let t = op.startup.time;
        w!(
            o,
            "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            rank + 1,
            op.placement.label().trim_start_matches("at "),
            if op.is_current { " (as given)" } else { "" },
            t.map_or("n/a".into(), |t| s2(t.mean)),
            t.map_or("n/a (no replication finished)".into(), |t| ci(t.ci)),
            s2(op.startup.p90),
            match (op.is_current, op.diff) {
                (true, _) => "—".into(),
                (false, Some(d)) => format!(
                    "{:+.3} s ({})",
                    d.mean,
                    d.ci.map_or("n/a".into(), |(lo, hi)| format!("[{lo:.3}, {hi:.3}] s"))
                ),
                (false, None) => "n/a".into(),
            },
            op.sites
                .iter()
                .find(|r| r.last.is_some())
                .map_or("n/a".into(), |r| format!(
                    "{} {}",
                    r.site,
                    s2(r.last.map_or(f64::NAN, |m| m.mean))
                )),
            dur_ms(op.net.worker_api.rtt.base_s),
            dur_ms(op.net.etcd.max_rtt_s),
            dur_ms(op.net.etcd.commit_s),
            etcd_cell(&op.net.etcd)
        );
    }
    w!(o);
}

/// The option recommended, with why: the scenario as given when the fastest option is not worth
/// the move, else the move with its gain and the etcd timers it would need.
fn best_option_paragraph(o: &mut String, p: &Plan, order: &[usize]) {
    let best = &p.options[recommended(p, order)];
    if best.is_current && !p.options[order[0]].is_current {
        let fastest = &p.options[order[0]];
        w!(
            o,
            "**Best: the scenario as given ({})**, mean {}. The fastest option, masters {}, is {}: not worth moving the masters for.",
            best.placement.label(),
            best.startup.time.map_or("n/a".into(), |t| s2(t.mean)),
            fastest.placement.label(),
            fastest_not_worth_text(p, fastest)
        );
    } else if best.is_current {
        w!(
            o,
            "**Best: the scenario as given ({})**, mean {}. {}",
            best.placement.label(),
            best.startup.time.map_or("n/a".into(), |t| s2(t.mean)),
            significance_of_runner_up(p, order)
        );
    } else {
        let d = best.diff;
        w!(
            o,
            "**Best: masters {}**, mean {}, {}{}.{}",
            best.placement.label(),
            best.startup.time.map_or("n/a".into(), |t| s2(t.mean)),
            match (d, p.options.iter().find(|o| o.is_current).and_then(|o| o.startup.time)) {
                (Some(d), _) => format!("{:.2} s faster than the scenario as given", -d.mean),
                (None, None) => format!(
                    "where the scenario as given did not finish in any of {} replications",
                    p.reps
                ),
                (None, Some(_)) => "not comparable (no replication finished in both)".into(),
            },
            match d.and_then(|d| d.ci) {
                Some((lo, hi)) if hi < 0.0 =>
                    format!(" (paired 95 % CI [{lo:.2}, {hi:.2}] s: the difference is significant)"),
                Some((lo, hi)) => format!(
                    " (paired 95 % CI [{lo:.2}, {hi:.2}] s includes 0: not significant with {} replications)",
                    p.reps
                ),
                None => String::new(),
            },
            etcd_timers_before_moving(best)
        );
    }
    w!(o);
}

/// Why the fastest option, when not the scenario as given, is still not worth moving the masters
/// for: its gain is below what kubectl shows, or not significant, or not comparable.
fn fastest_not_worth_text(p: &Plan, fastest: &OptionResult) -> String {
    let s = &p.scenario;
    match fastest.diff {
        Some(d) => match d.ci {
            Some((lo, hi)) if hi < 0.0 => format!(
                "{:.3} s faster (paired 95 % CI [{lo:.3}, {hi:.3}] s), less than the {} resolution of what kubectl shows",
                -d.mean, s.workload.resolution
            ),
            Some((lo, hi)) => format!(
                "different by {:+.3} s (paired 95 % CI [{lo:.3}, {hi:.3}] s includes 0: not significant with {} replications)",
                d.mean, p.reps
            ),
            None => format!(
                "different by {:+.3} s over {}, with no interval to tell it from noise",
                d.mean,
                crate::output::count(p.reps as usize, "replication")
            ),
        },
        None => "not comparable (no replication finished in both)".into(),
    }
}

/// The etcd timers to set before moving the masters to `best`, if they are not healthy there
/// (nothing if they are).
fn etcd_timers_before_moving(best: &OptionResult) -> String {
    if best.net.etcd.verdict_p99 == models::etcd::TimerHealth::Healthy {
        String::new()
    } else {
        let (hb, el) = crate::plan::timeouts::etcd_recommendation(&best.net.etcd);
        format!(
            " Its etcd timers are **{}** at its member RTTs (largest {} at p99): set `--heartbeat-interval={:.0}` and `--election-timeout={:.0}` (milliseconds; the rule in (e)) before moving the masters.",
            verdict_text(best.net.etcd.verdict_p99).0,
            dur_ms(best.net.etcd.max_rtt_p99_s),
            hb * 1e3,
            el * 1e3
        )
    }
}

/// The etcd verdict at p99, with the recommended timers when it is not healthy.
fn etcd_cell(e: &crate::plan::net::EtcdHealth) -> String {
    let name = verdict_text(e.verdict_p99).0;
    let timers = if e.verdict_p99 == models::etcd::TimerHealth::Healthy {
        name.to_owned()
    } else {
        let (hb, el) = crate::plan::timeouts::etcd_recommendation(e);
        format!("{name}: set {} / {}", dur_ms(hb), dur_ms(el))
    };
    format!("{timers}; {}", e.raft.brief())
}

/// The options by mean time, fastest first (those with no finished replication last).
pub(crate) fn ranked(p: &Plan) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.options.len()).collect();
    let mean_of = |i: usize| p.options[i].startup.time.map_or(f64::INFINITY, |t| t.mean);
    order.sort_by(|&a, &b| mean_of(a).total_cmp(&mean_of(b)));
    order
}

/// The option [`markdown`](super::markdown) recommends, by index.
pub(crate) fn recommended_option(p: &Plan) -> usize {
    recommended(p, &ranked(p))
}

/// The option to recommend, of `order` (the options by mean time): the fastest, if it is the
/// scenario as given, or if it finishes where the scenario as given does not, or if it is
/// faster by at least the observer's resolution (what kubectl shows: a smaller gain would not be
/// seen) with a paired 95 % CI below 0; otherwise the scenario as given.
pub(super) fn recommended(p: &Plan, order: &[usize]) -> usize {
    let fastest = order[0];
    let current = p.options.iter().position(|o| o.is_current).unwrap_or(fastest);
    let op = &p.options[fastest];
    let resolution = p.scenario.workload.resolution.secs_f64();
    let worth = match (p.options[current].startup.time, op.diff) {
        (None, _) => op.startup.time.is_some(),
        (Some(_), Some(d)) => -d.mean >= resolution && d.ci.is_some_and(|(_, hi)| hi < 0.0),
        (Some(_), None) => false,
    };
    if worth {
        fastest
    } else {
        current
    }
}

/// The sentence on the runner-up to the scenario as given, when that is the best: how much slower
/// it is, and whether that is significant (nothing without a runner-up or an interval).
fn significance_of_runner_up(p: &Plan, order: &[usize]) -> String {
    let Some(&second) = order.get(1) else {
        return String::new();
    };
    let o = &p.options[second];
    match o.diff.and_then(|d| d.ci.map(|c| (d.mean, c))) {
        Some((m, (lo, hi))) if lo > 0.0 => format!(
            "The next option, masters {}, is {:.3} s slower (paired 95 % CI [{lo:.3}, {hi:.3}] s: significant).",
            o.placement.label(),
            m
        ),
        Some((m, (lo, hi))) => format!(
            "The next option, masters {}, differs by {:+.3} s (paired 95 % CI [{lo:.3}, {hi:.3}] s includes 0: not significant with {} replications).",
            o.placement.label(),
            m,
            p.reps
        ),
        None => String::new(),
    }
}
