//! Section (e) of the report: each timer against what it guards at the round trips of the
//! scenario as given (and of the placement recommended in (d), if that moves the masters).

use std::fmt::Write as _;

use crate::plan::timeouts::TimeoutRow;
use crate::plan::Plan;

use super::placements::recommended;
use super::HEADINGS;

/// Section (e): timeouts that would misfire at these round-trip times, of the options in `order`
/// (the options by mean time, as (d) ranks them).
pub(super) fn timeouts_section(o: &mut String, p: &Plan, order: &[usize]) {
    let cur = &p.options[0];
    w!(o, "{}", HEADINGS[4]);
    w!(o);
    w!(
        o,
        "Each timer against what it guards at the scenario's round trips (p99: mean + 2.326 σ of netem jitter, plus a TCP retransmission timeout, the round trip plus Linux's `TCP_RTO_MIN` 200 ms, doubling, per loss of at least 1 % chance). Recommendations never go below the current value; the rule and its source are in the last column. Apart from the kubelets' node-status updates and Lease renewals, the model does not send this periodic traffic as messages during a run; under a fault it times what the timers decide from their values and the round trips (`docs/model.md`, \"Simplifications\"). These rows are computed from the round trips, not simulated."
    );
    w!(o);
    timeout_table(o, &cur.timeouts);
    if let Some(best) = Some(&p.options[recommended(p, order)]).filter(|b| !b.is_current) {
        w!(
            o,
            "With the masters {} (the best option in (d)), the same timers at that placement's round trips:",
            best.placement.label()
        );
        w!(o);
        timeout_table(o, &best.timeouts);
    }
}

/// The timer rows as a table: setting, value now, what it guards, verdict, recommendation, rule.
fn timeout_table(o: &mut String, rows: &[TimeoutRow]) {
    w!(
        o,
        "| setting | now | at these RTTs | verdict | recommended | rule (source) |"
    );
    w!(o, "|---|---|---|---|---|---|");
    for r in rows {
        w!(
            o,
            "| {} | {} | {} | **{}**: {} | **{}** | {} |",
            r.setting,
            r.current,
            r.observed,
            r.verdict.name(),
            r.why,
            r.recommended,
            r.rule
        );
    }
    w!(o);
}
