//! Section (a) of the report: the time until N pods run, over the replications, the phases per pod
//! (ClusterLoader2's) and where the run waited (limiters and queues).

use std::fmt::Write as _;

use crate::plan::fmt::{ci, dur, s2};
use crate::plan::stats::{MeanCi, Startup};
use crate::plan::Plan;

use super::HEADINGS;

/// Section (a): the time until N pods run, the phases per pod and the waits.
pub(super) fn startup_section(o: &mut String, p: &Plan) {
    let s = &p.scenario;
    let st = &p.options[0].startup;
    let n = p.pods;
    w!(o, "{} {} run", HEADINGS[0], crate::output::count(n as usize, "pod"));
    w!(o);
    if 0 < st.finished && st.finished < st.reps {
        w!(
            o,
            "**{} of {} replications did not finish** within `workload.timeout` ({}): the figures below use the {} that did.",
            st.reps - st.finished,
            st.reps,
            s.workload.timeout,
            st.finished
        );
        w!(o);
    }
    if let Some(t) = st.time {
        figures_table(o, p, t);
    } else {
        w!(
            o,
            "No replication finished within `workload.timeout` ({}): the tables below cover all {} replications up to it.",
            s.workload.timeout,
            st.reps
        );
        w!(o);
    }
    phases_table(o, st);
    waits_table(o, st, n);
    in_flight_line(o, p, st);
}

/// How near the apiservers came to their max-in-flight limits, and whether they refused.
fn in_flight_line(o: &mut String, p: &Plan, st: &Startup) {
    let api = &p.scenario.kubernetes.apiserver;
    let limit = |n: u32| {
        if n == 0 {
            "no limit".to_owned()
        } else {
            format!("limit {n}")
        }
    };
    let refused = if st.refused > 0.0 {
        format!(
            "**they refused {:.0} requests per replication with `429 Too Many Requests`**, which their clients sent again a second later (`run` names the apiservers)",
            st.refused
        )
    } else {
        "none was refused".to_owned()
    };
    w!(
        o,
        "The apiservers held at most {} read-only and {} mutating requests at once, each from its arrival to its answer (`--max-requests-inflight`: {}; `--max-mutating-requests-inflight`: {}); {refused}.",
        st.peak_in_flight[0],
        st.peak_in_flight[1],
        limit(api.max_requests_inflight),
        limit(api.max_mutating_requests_inflight)
    );
    w!(o);
}

/// The time until N pods run, as figures over the finished replications (mean `t` and its CI,
/// quantiles, the observer's reading, half and 90 % of the pods, the last pod object created).
fn figures_table(o: &mut String, p: &Plan, t: MeanCi) {
    let s = &p.scenario;
    let st = &p.options[0].startup;
    let n = p.pods;
    w!(o, "| figure | value | what it is |");
    w!(o, "|---|---:|---|");
    w!(
        o,
        "| **mean** | **{}** | mean over {} of the exact time until kubectl's watch (`kubectl get -w`) saw the {} pod Running |",
        s2(t.mean),
        crate::output::count(st.finished, "replication"),
        ordinal(n)
    );
    w!(
        o,
        "| 95 % CI of the mean | {} | Student-t interval over the replications (`sim_core::stats::OnlineStats::ci95`) |",
        ci(t.ci)
    );
    w!(
        o,
        "| p50 / p90 / max | {} / {} / {} | quantiles over the replications' times (type 7, interpolated) |",
        s2(st.p50),
        s2(st.p90),
        s2(st.max)
    );
    w!(
        o,
        "| fastest replication | {} | the smallest of the replications' times |",
        s2(st.min)
    );
    if let Some(obs) = st.observed {
        w!(
            o,
            "| as the thesis's observer reads it | {} | {} |",
            s2(obs),
            observer_reading(s, st)
        );
    }
    if let (Some(h), Some(t90)) = (st.half, st.ninety) {
        w!(
            o,
            "| half / 90 % of the pods | {} / {} | mean time until {} and {} pods ran |",
            s2(h),
            s2(t90),
            (f64::from(n) * 0.5).ceil(),
            (f64::from(n) * 0.9).ceil()
        );
    }
    if let Some(lc) = st.last_created {
        let cm = &s.kubernetes.controller_manager;
        let events = n.min(models::controllers::EVENT_SPAM_BURST);
        let over_burst = f64::from(n) + f64::from(events) - f64::from(cm.kube_api_burst);
        let limiter = over_burst.max(0.0) / cm.kube_api_qps;
        // The broadcaster's sink writes the events one at a time (models::controllers), each
        // after the last one's reply, so they lag the creates: the last create waits for the
        // tokens of those written before it, anywhere from none to all of them.
        let creates_only = (f64::from(n) - f64::from(cm.kube_api_burst)).max(0.0) / cm.kube_api_qps;
        let wait = if over_burst > 0.0 {
            let least = if creates_only > 0.0 {
                format!("(N - burst) / QPS = {}", dur(creates_only))
            } else {
                "no wait".to_owned()
            };
            format!(
                "from {least}, when the events, which the broadcaster writes one at a time after the creates, take their tokens after the last create, to (N + events - burst) / QPS = {} when they all take theirs before it, for N = {n}",
                dur(limiter)
            )
        } else {
            format!(
                "the burst holds all N + events = {} requests for N = {n}: no wait",
                u64::from(n) + u64::from(events)
            )
        };
        w!(
            o,
            "| last pod object created | {} | mean time the {} pod was committed: the ReplicaSet controller's slow-start batches (1, 2, 4, ...) through its client limiter ({} QPS, burst {}), which its first {} SuccessfulCreate events share: {wait} (`docs/sources.md` §2 \"API QPS / burst\", \"Slow-start initial batch\", \"ReplicaSet events\"){} |",
            s2(lc),
            ordinal(n),
            cm.kube_api_qps,
            cm.kube_api_burst,
            events,
            beyond_limiter(lc, limiter, st.batches.unwrap_or_default())
        );
    }
    w!(o);
}

/// What the last pod's creation time owes to more than the controller's limiter, when that is
/// more than a second (a review found 5.1 s of 54.9 unexplained under the old bar of a tenth of
/// the time, with the masters on three continents): each slow-start batch waits for all of its
/// creates to return, so each pays a create's round trip and etcd commit, and the Deployment
/// and the ReplicaSet are written before the first pod. `batches` is the batches the runs made
/// (mean per replication), replacements of evicted pods included.
fn beyond_limiter(last_created: f64, limiter: f64, batches: f64) -> String {
    let rest = last_created - limiter;
    if rest <= 1.0 {
        return String::new();
    }
    format!(
        ". Here the limiter explains only {}: the other {} are the writes the controllers wait for, the Deployment and the ReplicaSet before the first pod, then each of the {} slow-start batches for all of its creates (the apiserver's etcd commits between the masters)",
        dur(limiter),
        dur(rest),
        if batches.fract() == 0.0 { format!("{batches:.0}") } else { format!("{batches:.1}") }
    )
}

/// ClusterLoader2's phases per pod, mean over pods and replications.
fn phases_table(o: &mut String, st: &Startup) {
    w!(
        o,
        "Per pod, mean over pods and replications (ClusterLoader2's phases, from the per-pod timelines):"
    );
    w!(o);
    w!(o, "| phase | mean per pod | from → to |");
    w!(o, "|---|---:|---|");
    let phase_rows = [
        ("create_to_schedule", "pod object committed → binding committed (scheduler cycle, bind)"),
        (
            "schedule_to_run",
            "binding committed → container started (watch to the kubelet, sandbox, serialized image puller, pull, create + start)",
        ),
        (
            "run_to_watch",
            "container started → kubectl saw Running (PLEG relist, status manager with the kubelet's 5 QPS client, GET + PATCH, watch)",
        ),
        ("pod_startup", "pod object committed → kubectl saw Running"),
    ];
    for ((name, what), v) in phase_rows.iter().zip(st.phases) {
        w!(o, "| {name} | {} | {what} |", v.map_or("n/a".into(), s2));
    }
    w!(o);
}

/// The waits per limiter and queue, largest first, and the largest named.
fn waits_table(o: &mut String, st: &Startup, n: u32) {
    w!(
        o,
        "Waiting per limiter and queue (`RunOutcome.waits`: summed over every request or job that went through it, mean per replication), largest first:"
    );
    w!(o);
    w!(o, "| limiter / queue | waiting, total | per pod | requests or jobs |");
    w!(o, "|---|---:|---:|---:|");
    for wr in &st.waits {
        w!(
            o,
            "| {} | {} | {} | {:.0} |",
            wr.name,
            s2(wr.total_s),
            s2(wr.total_s / f64::from(n)),
            wr.count
        );
    }
    if let Some(top) = st.waits.first().filter(|w| w.total_s > 0.0) {
        w!(o);
        w!(
            o,
            "The most waiting is in the **{}**: {} summed over the run, {} per pod on average.",
            top.name,
            s2(top.total_s),
            s2(top.total_s / f64::from(n))
        );
    }
    w!(o);
}

/// `n` as an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 432nd.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// What the observer's reading is, on the scenario's clock (`workload.resolution`): kubectl's
/// whole seconds as the thesis read them, or another tick; and a warning when the clock ticks
/// less often than the pods start, so that every reading is 0 s or one tick (E026 lets the
/// clock be as coarse as the timeout; `run` and `sweep` warn of it on stderr).
fn observer_reading(s: &models::spec::Scenario, st: &Startup) -> String {
    let tick = s.workload.resolution;
    let mut text = if tick.get() == sim_core::SimDuration::from_secs(1) {
        "mean of whole seconds read from a clock of random phase, as `kubectl get -w` timestamps show them (`docs/model.md`)".to_owned()
    } else {
        // kubectl shows whole seconds; another tick is the scenario's own observer.
        format!("mean of {tick} ticks (workload.resolution) read from a clock of random phase (`docs/model.md`)")
    };
    if let Some(t) = st.time.as_ref().filter(|t| t.mean < tick.secs_f64()) {
        text.push_str(&format!(
            "; **the clock ticks less often than the pods start** (exact mean {:.3} s): each reading is 0 s or one tick, by the clock's phase, and says next to nothing; {}",
            t.mean,
            crate::commands::run::finer_clock_advice(t.mean)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{beyond_limiter, ordinal};

    #[test]
    fn the_limiter_alone_is_named_only_when_it_explains_the_time() {
        assert_eq!(beyond_limiter(49.73, 49.75, 18.0), "");
        let text = beyond_limiter(27.1, 9.8, 8.0);
        assert!(text.contains("only 9.8 s"), "{text}");
        assert!(text.contains("other 17.3 s"), "{text}");
        assert!(text.contains("8 slow-start batches"), "{text}");
        // Masters on three continents: 5.1 s of 54.9 s beyond the limiter is named too.
        let text = beyond_limiter(54.92, 49.8, 10.0);
        assert!(text.contains("other 5.1 s"), "{text}");
    }

    #[test]
    fn ordinals_follow_english() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111, 432, 1000]
            .map(ordinal)
            .to_vec();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th", "432nd", "1000th"]
        );
    }
}
