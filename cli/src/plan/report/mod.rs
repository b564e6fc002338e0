//! The report as Markdown: the same text goes to the terminal and to `plan.md`.
//!
//! [`markdown`] writes the header, then one section after another, each from its own module:
//!
//! - [`startup`]: (a), the time until N pods run, the phases per pod and the waits;
//! - [`slowest_sites`]: (b), the slowest sites and why;
//! - [`etcd_health`]: (c), etcd at the members' round trips;
//! - [`placements`]: (d), the placement options ranked, and which one to recommend;
//! - [`misfiring_timeouts`]: (e), the timers against what they guard;
//! - [`drills_and_tuning`]: (f) and (g), the scenario again with one failure or one setting;
//!
//! and closes with the figure's legend and the report's limits.

use std::fmt::Write as _;

use models::spec::VpnTopology;

use super::fmt::dur_ms;
use super::stats::SEGMENTS;
use super::Plan;

/// The heading of section (f), present with `--drills`.
pub(crate) const DRILLS_HEADING: &str = "## (f) What one failure costs";

/// The heading of section (g), present with `--tuning`.
pub(crate) const TUNING_HEADING: &str = "## (g) What each setting would buy";

/// Section headings (a) to (e), in order (tests look for them).
pub(crate) const HEADINGS: [&str; 5] = [
    "## (a) Time until",
    "## (b) The slowest sites and why",
    "## (c) etcd health at these round-trip times",
    "## (d) Which control-plane placement is best",
    "## (e) Timeouts that would misfire at these round-trip times",
];

/// `w!(o)` ends a line (a blank one after a line ended); `w!(o, ...)` writes a line.
///
/// Defined above the section modules, which use it: a `macro_rules!` is in scope only after its
/// definition.
macro_rules! w {
    ($dst:expr) => {
        $dst.push('\n')
    };
    ($dst:expr, $($arg:tt)*) => {
        let _ = writeln!($dst, $($arg)*);
    };
}

mod drills_and_tuning;
mod etcd_health;
mod misfiring_timeouts;
mod placements;
mod slowest_sites;
mod startup;

pub(crate) use self::placements::{ranked, recommended_option};

/// The report.
pub(crate) fn markdown(p: &Plan) -> String {
    let mut o = String::new();
    header(&mut o, p);
    startup::startup_section(&mut o, p);
    slowest_sites::slowest_sites_section(&mut o, p);
    etcd_health::etcd_health_section(&mut o, p);
    let order = ranked(p);
    placements::placements_section(&mut o, p, &order);
    misfiring_timeouts::timeouts_section(&mut o, p, &order);
    if let Some(d) = &p.drills {
        drills_and_tuning::drills_section(&mut o, p, d);
    }
    if let Some(t) = &p.tuning {
        drills_and_tuning::tuning_section(&mut o, p, t);
    }
    figure_section(&mut o, p);
    limits_section(&mut o);
    o
}

/// The title, and what was simulated: the scenario, its sites, masters, load balancer, VPN and
/// netem, the faults it injects, and the method.
fn header(o: &mut String, p: &Plan) {
    let s = &p.scenario;
    let cur = &p.options[0];
    let n = p.pods;
    let workers = p.workers();
    w!(
        o,
        "# kubetwin plan: `{}`, {}",
        s.name,
        crate::output::count(n as usize, "pod")
    );
    w!(o);
    w!(o, "- Scenario: `{}`. {}", p.origin, s.description.trim());
    w!(
        o,
        "- {}, {}; masters ({}) {}; HAProxy (`{}`) at {}; VPN {}; netem {}.",
        crate::output::count(s.sites.len(), "site"),
        crate::output::count(workers, "worker"),
        super::net::masters(s).join(", "),
        cur.placement.label(),
        s.haproxy.host,
        s.hosts
            .iter()
            .find(|h| h.name == s.haproxy.host)
            .map_or("?", |h| h.site.as_str()),
        vpn_text(s),
        netem_text(s)
    );
    if !s.faults.is_empty() {
        let faults: Vec<String> = s
            .faults
            .iter()
            .map(|f| format!("`{}`", crate::commands::run::fault_text(f)))
            .collect();
        w!(
            o,
            "- Faults: the scenario's `[[faults]]` are injected in every replication of every placement option, so every time below includes them: {}.",
            faults.join("; ")
        );
    }
    w!(
        o,
        "- Method: {} of the whole start-up (`kubectl create deployment`, then `kubectl scale` to {}), run seeds derived from `--seed {}`; every placement option uses the same seeds (common random numbers), so differences between options are paired. Times are simulated seconds from the `kubectl create deployment` request. The model and its defaults: `docs/model.md`, `docs/sources.md`.",
        crate::output::count(p.reps as usize, "replication"),
        crate::output::count(n as usize, "pod"),
        p.seed
    );
    w!(o);
}

/// The VPN as the header names it: `off`, `full mesh` or `hub-and-spoke at HUB`.
fn vpn_text(s: &models::spec::Scenario) -> String {
    if !s.vpn.enabled {
        "off".to_owned()
    } else {
        match &s.vpn.topology {
            VpnTopology::FullMesh {} => "full mesh".to_owned(),
            VpnTopology::HubAndSpoke { hub } => format!("hub-and-spoke at {hub}"),
        }
    }
}

/// netem as the header names it: `none`, or its delay, jitter, loss and placement.
fn netem_text(s: &models::spec::Scenario) -> String {
    if s.netem.delay.get().is_zero() && s.netem.jitter.get().is_zero() && s.netem.loss_pct == 0.0 {
        "none".to_owned()
    } else {
        format!(
            "{} delay, {} jitter, {} % loss, {}",
            dur_ms(s.netem.delay.secs_f64()),
            dur_ms(s.netem.jitter.secs_f64()),
            s.netem.loss_pct,
            s.netem.placement.as_str()
        )
    }
}

/// The legend of `startup.svg`.
fn figure_section(o: &mut String, p: &Plan) {
    let cur = &p.options[0];
    w!(o, "## The figure (`startup.svg`)");
    w!(o);
    w!(
        o,
        "Top: pods seen Running against time, the mean over replications (band: fastest to slowest replication) for the scenario as given and the mean for each placement option. Bottom: for the slowest {} sites, when the last pod ran, as stacked bars of its nine parts ({}).",
        cur.sites.iter().filter(|r| r.last.is_some()).count().min(40),
        SEGMENTS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    );
    w!(o);
}

/// What the report cannot say, and why.
fn limits_section(o: &mut String) {
    w!(o, "## Limits of this report");
    w!(o);
    w!(o, "- Round trips are the scenario's propagation delays (for generated consortia: great-circle fibre, `docs/sources.md` §11) plus netem; there is no queueing in routers or the internet.");
    w!(o, "- Per-site waits for the Docker queue and the status path are estimates (see (b)); `RunOutcome.waits` is per cluster.");
    w!(o, "- A placement moves hosts in the scenario; it cannot re-generate WAN delays or registry RTTs, and the kubectl host moves only if it is a master.");
    w!(o, "- The controllers' lease renewals, HAProxy's checks and OpenVPN's keepalives are not sent as messages in a run (the kubelets' node-status updates and Lease renewals are); under a fault, what they decide (HAProxy's mark-down, a lease's expiry and takeover, a tunnel's restart) is timed from their timers and the round trips, as `run --fault` reports it; (e) is arithmetic on the round trips.");
}
