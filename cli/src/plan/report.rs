//! The report as Markdown: the same text goes to the terminal and to `plan.md`.

use std::fmt::Write as _;

use models::spec::{Role, VpnTopology};

use super::fmt::{ci, dur, dur_ms, s2};
use super::net::verdict_text;
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

macro_rules! w {
    ($dst:expr) => {
        $dst.push('\n')
    };
    ($dst:expr, $($arg:tt)*) => {
        let _ = writeln!($dst, $($arg)*);
    };
}

/// The report.
pub(crate) fn markdown(p: &Plan) -> String {
    let mut o = String::new();
    let s = &p.scenario;
    let cur = &p.options[0];
    let st = &cur.startup;
    let n = p.pods;
    let workers = p.workers();

    // ------------------------------------------------------------------------------------------
    w!(o, "# kubetwin plan: `{}`, {} pods", s.name, n);
    w!(o);
    w!(o, "- Scenario: `{}`. {}", p.origin, s.description.trim());
    w!(
        o,
        "- {} sites, {} workers; masters ({}) {}; HAProxy (`{}`) at {}; VPN {}; netem {}.",
        s.sites.len(),
        workers,
        super::net::masters(s).join(", "),
        cur.placement.label(),
        s.haproxy.host,
        s.hosts
            .iter()
            .find(|h| h.name == s.haproxy.host)
            .map_or("?", |h| h.site.as_str()),
        if !s.vpn.enabled {
            "off".to_owned()
        } else {
            match &s.vpn.topology {
                VpnTopology::FullMesh => "full mesh".to_owned(),
                VpnTopology::HubAndSpoke { hub } => format!("hub-and-spoke at {hub}"),
            }
        },
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
        "- Method: {} replications of the whole start-up (`kubectl create deployment`, then `kubectl scale` to {} pods), run seeds derived from `--seed {}`; every placement option uses the same seeds (common random numbers), so differences between options are paired. Times are simulated seconds from the `kubectl create deployment` request. The model and its defaults: `docs/model.md`, `docs/sources.md`.",
        p.reps, n, p.seed
    );
    w!(o);

    // ------------------------------------------------------------------------------------------
    w!(o, "{} {} pods run", HEADINGS[0], n);
    w!(o);
    if st.finished < st.reps {
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
        w!(o, "| figure | value | what it is |");
        w!(o, "|---|---:|---|");
        w!(
            o,
            "| **mean** | **{}** | mean over {} replications of the exact time until kubectl's watch (`kubectl get -w`) saw the {} pod Running |",
            s2(t.mean),
            st.finished,
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
                "| as the thesis's observer reads it | {} | mean of whole seconds read from a clock of random phase, as `kubectl get -w` timestamps show them (`docs/model.md`) |",
                s2(obs)
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
            w!(
                o,
                "| last pod object created | {} | mean time the {} pod was committed: the ReplicaSet controller's slow-start batches (1, 2, 4, ...) through its client limiter ({} QPS, burst {}), which its first {} SuccessfulCreate events share: about (N + events - burst) / QPS = {} for N = {} (`docs/sources.md` §2 \"API QPS / burst\", \"Slow-start initial batch\", \"ReplicaSet events\") |",
                s2(lc),
                ordinal(n),
                cm.kube_api_qps,
                cm.kube_api_burst,
                events,
                dur((f64::from(n) + f64::from(events) - f64::from(cm.kube_api_burst)).max(0.0) / cm.kube_api_qps),
                n
            );
        }
        w!(o);
    } else {
        w!(
            o,
            "No replication finished within `workload.timeout` ({}).",
            s.workload.timeout
        );
        w!(o);
    }
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

    // ------------------------------------------------------------------------------------------
    w!(o, "{}", HEADINGS[1]);
    w!(o);
    w!(
        o,
        "A site's pods are those that ran on its workers (each worker's site from the scenario's `[[hosts]]`); its **last pod** is the one kubectl saw Running last, and the time is the mean over replications. The last pod's time splits into nine parts from its timeline (see the figure); the *dominant phase* is the ClusterLoader2 phase with the largest mean over the site's pods. Waits per pod at the site: the **serialized image puller queue** is exact (pull start − sandbox ready); the **Docker runtime queue (est.)** is sandbox and create + start minus their mean service times ({} + {}, `runtime.sandbox_time`, `runtime.container_start_time`); the **status goroutine + kubelet 5 QPS limiter (est.)** is container started → Running committed, minus half a PLEG period and the unloaded GET + PATCH (1.5 round trips to the apiserver, two apiserver service times, a read index and a commit). `RunOutcome.waits` gives these per cluster only, hence the estimates (`docs/sources.md` §1 \"Serialize image pulls\", \"Status manager concurrency\", \"API QPS\").",
        dur(s.runtime.sandbox_time.secs_f64()),
        dur(s.runtime.container_start_time.secs_f64())
    );
    w!(o);
    let site_api = site_api_rtt(p);
    let site_reg = site_registry(s);
    let reg = |site: &str| site_reg.get(site).map_or(f64::NAN, |r| r.0);
    // The site whose uplink a download crosses: its own for Docker Hub; the registry's for a
    // registry on the overlay (none for the registry's own site, which pulls over its LAN).
    let registry_site = s
        .runtime
        .registry_host
        .as_deref()
        .and_then(|r| s.hosts.iter().find(|h| h.name == r))
        .map(|h| h.site.as_str());
    let uplink_site = |site: &'_ str| -> Option<String> {
        match registry_site {
            Some(rs) if rs == site => None,
            Some(rs) => Some(rs.to_owned()),
            None => Some(site.to_owned()),
        }
    };
    let sharing = |site: &str| -> usize {
        match registry_site {
            Some(rs) => s
                .hosts
                .iter()
                .filter(|h| h.role == Role::Worker && h.site != rs)
                .count(),
            None => s
                .hosts
                .iter()
                .filter(|h| h.role == Role::Worker && h.site == site)
                .count(),
        }
    };
    w!(
        o,
        "| rank | site | workers | pods | last pod Running, mean (95 % CI) | slowest rep | its largest part | dominant phase, mean per pod | largest wait, per pod | RTT to apiserver | registry RTT |"
    );
    w!(o, "|---:|---|---:|---:|---|---:|---|---|---|---:|---:|");
    for (i, r) in cur.sites.iter().enumerate() {
        let (ph, pv) = r.dominant_phase();
        let (wn, wv) = r.top_wait();
        let (si, sv) = r.top_segment();
        let last = match r.last {
            Some(m) => format!("{} ({})", s2(m.mean), ci(m.ci)),
            None if r.unfinished > 0 => format!("never ran in {} rep(s)", r.unfinished),
            None => "no pods".into(),
        };
        w!(
            o,
            "| {} | {} | {} | {:.1} | {} | {} | {} {} | {} {} | {} {} | {} | {} |",
            i + 1,
            r.site,
            r.workers,
            r.pods,
            last,
            s2(r.last_max),
            SEGMENTS[si].0,
            s2(sv),
            ph,
            s2(pv),
            wn,
            s2(wv),
            site_api.get(&r.site).map_or("n/a".into(), |v| dur_ms(*v)),
            dur_ms(reg(&r.site))
        );
    }
    w!(o);
    let fastest = cur.sites.iter().rev().find(|r| r.last.is_some());
    for r in cur.sites.iter().filter(|r| r.last.is_some()).take(3) {
        let parts: Vec<String> = SEGMENTS
            .iter()
            .zip(r.last_segments)
            .map(|((name, _), v)| format!("{name} {}", s2(v)))
            .collect();
        let (wn, wv) = r.top_wait();
        let (si, sv) = r.top_segment();
        w!(
            o,
            "- **{}** (last pod at {}): {}. Its largest part is **{}** ({}: {}); per pod here the largest wait is the {} ({}), and an image pull takes {} on average (a cached pull is {} round trips × registry RTT {} = {}; {}).{}",
            r.site,
            s2(r.last.map_or(f64::NAN, |m| m.mean)),
            parts.join(", "),
            SEGMENTS[si].0,
            s2(sv),
            SEGMENTS[si].1,
            wn,
            s2(wv),
            s2(r.pull),
            s.runtime.registry_round_trips,
            dur_ms(reg(&r.site)),
            s2(f64::from(s.runtime.registry_round_trips) * reg(&r.site)),
            if s.runtime.image_cached {
                "the image is on every node when the run starts (`runtime.image_cached`), so no pull downloads it".to_owned()
            } else {
                let bits = s.runtime.image_bytes as f64 * 8.0;
                let up_site = uplink_site(&r.site);
                let uplink = s
                    .sites
                    .iter()
                    .find(|x| Some(&x.name) == up_site.as_ref())
                    .and_then(|x| x.uplink);
                // Alone on its uplink a download still gets no more than the uplink has, nor
                // (from a registry on the overlay) than its route and campus allow.
                // From a registry on the overlay, a node's own campus uplink is on its path too.
                let campus = registry_site
                    .filter(|rs| *rs != r.site)
                    .and_then(|_| s.sites.iter().find(|x| x.name == r.site))
                    .and_then(|x| x.uplink)
                    .map_or(f64::INFINITY, |b| b.bits_per_s);
                let own = models::units::Bandwidth {
                    bits_per_s: site_reg
                        .get(&r.site)
                        .map_or(s.runtime.download_bandwidth.bits_per_s, |r| r.1)
                        .min(campus),
                };
                let alone = match uplink {
                    Some(u) if u.bits_per_s < own.bits_per_s => u,
                    _ => own,
                };
                // Its own campus's workers downloading at once from the overlay registry.
                let here = s
                    .hosts
                    .iter()
                    .filter(|h| h.role == Role::Worker && h.site == r.site)
                    .count();
                let campus_clause = if campus.is_finite() && here as f64 * campus.min(own.bits_per_s) > campus {
                    format!(
                        "; its {here} workers share their own {} uplink, so all downloading at once take {}",
                        models::units::Bandwidth { bits_per_s: campus },
                        s2(bits * here as f64 / campus)
                    )
                } else {
                    String::new()
                };
                format!(
                    "a node's first pull also downloads the image, {} MB at {} = {}{}{campus_clause}",
                    s.runtime.image_bytes as f64 / 1e6,
                    alone,
                    s2(bits / alone.bits_per_s),
                    match uplink {
                        // The site's uplink is shared (models/src/uplink.rs): it binds when its
                        // workers downloading at once would need more than it has.
                        Some(u) if sharing(&r.site) as f64 * own.bits_per_s > u.bits_per_s => {
                            let n = sharing(&r.site);
                            let whose = match registry_site {
                                Some(rs) => format!("the {n} workers outside {rs} share the registry site's"),
                                None => format!("its {n} workers share the site's"),
                            };
                            format!(" alone; {whose} {u} uplink, so all downloading at once take {}", s2(bits * n as f64 / u.bits_per_s))
                        }
                        _ => String::new(),
                    }
                )
            },
            match fastest {
                Some(f) if f.site != r.site => format!(
                    " The fastest site, {}, saw its last pod at {} (pull {}, registry RTT {}, RTT to the apiserver {} vs {} here).",
                    f.site,
                    s2(f.last.map_or(f64::NAN, |m| m.mean)),
                    s2(f.pull),
                    dur_ms(reg(&f.site)),
                    site_api.get(&f.site).map_or("n/a".into(), |v| dur_ms(*v)),
                    site_api.get(&r.site).map_or("n/a".into(), |v| dur_ms(*v)),
                ),
                _ => String::new(),
            }
        );
    }
    w!(o);

    // ------------------------------------------------------------------------------------------
    let e = &cur.net.etcd;
    w!(o, "{}", HEADINGS[2]);
    w!(o);
    w!(
        o,
        "Round-trip times between the etcd members (one stacked member per master; `Network::base_one_way` there and back, mean; p99 in brackets where netem's jitter or loss applies):"
    );
    w!(o);
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
    let (vname, vwhy) = verdict_text(e.verdict);
    let (vname99, vwhy99) = verdict_text(e.verdict_p99);
    w!(o, "| figure | value | what it is, and the rule |");
    w!(o, "|---|---:|---|");
    w!(
        o,
        "| raft leader | {} | `kubernetes.etcd.leader` (else the first master) |",
        e.members[e.leader]
    );
    w!(
        o,
        "| largest member RTT | {} mean, {} p99 | the largest of the table above; p99 adds 2.326 σ of netem jitter and a TCP retransmission (200 ms) per loss of at least 1 % chance |",
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
        "| `timer_health` verdict | **{}** at the mean RTT, **{}** at p99 | `models::etcd::timer_health`: unstable if election ≤ RTT + heartbeat/2 (a new leader checks its quorum before the first answers come back), at risk if election < 10 x RTT or heartbeat < RTT |",
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

    // ------------------------------------------------------------------------------------------
    w!(o, "{}", HEADINGS[3]);
    w!(o);
    if p.options.len() == 1 {
        w!(
            o,
            "No options were given: pass `--placements 'A,B,C;D,E,F'` (one site per master, `master01`..; HAProxy moves with the first) to compare placements. The scenario as given:"
        );
    } else {
        w!(
            o,
            "Each option moves the masters ({}) to the sites listed, in that order, and HAProxy with the first, relinking each moved host to its new site's router with its old LAN link's delay; workers, WAN links and tunnels stay. Ranked by the mean time until {n} pods run; Δ is the paired difference to the scenario as given over the same seeds.",
            super::net::masters(s).join(", ")
        );
    }
    w!(o);
    w!(
        o,
        "| rank | masters at | mean time | 95 % CI | p90 | Δ vs as given (95 % CI) | slowest site (last pod) | worst worker↔apiserver RTT | etcd largest RTT | etcd commit | etcd timers (p99); simulated elections, failover |"
    );
    w!(o, "|---:|---|---:|---|---:|---|---|---:|---:|---:|---|");
    let order = ranked(p);
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
    if p.options.len() > 1 {
        let best = &p.options[recommended(p, &order)];
        if best.is_current && !p.options[order[0]].is_current {
            let fastest = &p.options[order[0]];
            w!(
                o,
                "**Best: the scenario as given ({})**, mean {}. The fastest option, masters {}, is {}: not worth moving the masters for.",
                best.placement.label(),
                best.startup.time.map_or("n/a".into(), |t| s2(t.mean)),
                fastest.placement.label(),
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
                            "different by {:+.3} s over {} replication(s), with no interval to tell it from noise",
                            d.mean, p.reps
                        ),
                    },
                    None => "not comparable (no replication finished in both)".into(),
                }
            );
        } else if best.is_current {
            w!(
                o,
                "**Best: the scenario as given ({})**, mean {}. {}",
                best.placement.label(),
                best.startup.time.map_or("n/a".into(), |t| s2(t.mean)),
                significance_of_runner_up(p, &order)
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
                if best.net.etcd.verdict_p99 == models::etcd::TimerHealth::Healthy {
                    String::new()
                } else {
                    let (hb, el) = super::timeouts::etcd_recommendation(&best.net.etcd);
                    format!(
                        " Its etcd timers are **{}** at its member RTTs (largest {} at p99): set `--heartbeat-interval={:.0}` and `--election-timeout={:.0}` (milliseconds; the rule in (e)) before moving the masters.",
                        verdict_text(best.net.etcd.verdict_p99).0,
                        dur_ms(best.net.etcd.max_rtt_p99_s),
                        hb * 1e3,
                        el * 1e3
                    )
                }
            );
        }
        w!(o);
    }

    // ------------------------------------------------------------------------------------------
    w!(o, "{}", HEADINGS[4]);
    w!(o);
    w!(
        o,
        "Each timer against what it guards at the scenario's round trips (p99: mean + 2.326 σ of netem jitter, plus a TCP retransmission timeout, Linux's `TCP_RTO_MIN` 200 ms doubling, per loss of at least 1 % chance). Recommendations never go below the current value; the rule and its source are in the last column. Apart from the kubelets' node-status updates, the model does not send this periodic traffic during a run (`docs/model.md`, \"Simplifications\"): these rows are computed from the round trips, not simulated."
    );
    w!(o);
    timeout_table(&mut o, &cur.timeouts);
    if let Some(best) = Some(&p.options[recommended(p, &order)]).filter(|b| !b.is_current) {
        w!(
            o,
            "With the masters {} (the best option in (d)), the same timers at that placement's round trips:",
            best.placement.label()
        );
        w!(o);
        timeout_table(&mut o, &best.timeouts);
    }

    if let Some(d) = &p.drills {
        drills_section(&mut o, p, d);
    }
    if let Some(t) = &p.tuning {
        tuning_section(&mut o, p, t);
    }

    // ------------------------------------------------------------------------------------------
    w!(o, "## The figure (`startup.svg`)");
    w!(o);
    w!(
        o,
        "Top: pods seen Running against time, the mean over replications (band: fastest to slowest replication) for the scenario as given and the mean for each placement option. Bottom: for the slowest {} sites, when the last pod ran, as stacked bars of its nine parts ({}).",
        cur.sites.iter().filter(|r| r.last.is_some()).count().min(40),
        SEGMENTS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    );
    w!(o);
    w!(o, "## Limits of this report");
    w!(o);
    w!(o, "- Round trips are the scenario's propagation delays (for generated consortia: great-circle fibre, `docs/sources.md` §11) plus netem; there is no queueing in routers or the internet.");
    w!(o, "- Per-site waits for the Docker queue and the status path are estimates (see (b)); `RunOutcome.waits` is per cluster.");
    w!(o, "- A placement moves hosts in the scenario; it cannot re-generate WAN delays or registry RTTs, and the kubectl host moves only if it is a master.");
    w!(o, "- Leader election, HAProxy checks and OpenVPN keepalives are not simulated as traffic in a run (the kubelets' node-status updates are); (e) is arithmetic on the round trips.");
    o
}

/// Section (f): what each single failure costs, worst first.
fn drills_section(o: &mut String, p: &Plan, d: &super::Drills) {
    w!(o, "{}", DRILLS_HEADING);
    w!(o);
    w!(
        o,
        "The scenario as given, run again with one failure at {} {}, over the same {} as (a); ranked worst first (fewest replications in which every pod ran before `workload.timeout`, {}, then the largest cost). Δ is the paired difference to (a). What each failure sets off follows v1.16 and TCP (`docs/model.md`, \"Simplifications\"): HAProxy's checks, the clients' failovers, etcd's elections (simulated message by message: the last column is the time without writes), pulls into the image back-off, the node lifecycle controller's evictions from nodes silent for good. Kinds of failure with more than two drills are summed up first.",
        d.at,
        d.lasting.map_or("lasting for the rest of the run".to_owned(), |l| format!("lasting {l}")),
        if p.reps == 1 {
            "replication seed".to_owned()
        } else {
            format!("{} replication seeds", p.reps)
        },
        p.scenario.workload.timeout,
    );
    w!(o);
    // By kind first: a consortium's 31 sites cut off one by one are one answer, not 31.
    let mut kinds: Vec<(&str, Vec<&super::drills::DrillResult>)> = Vec::new();
    for r in &d.results {
        let kind = r.drill.label.split(' ').next().unwrap_or_default();
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, rows)) => rows.push(r),
            None => kinds.push((kind, vec![r])),
        }
    }
    for (kind, rows) in kinds.iter().filter(|(_, rows)| rows.len() > 2) {
        let stopped = rows.iter().filter(|r| r.finished == 0).count();
        let costs: Vec<f64> = rows.iter().filter_map(|r| r.diff.map(|m| m.mean)).collect();
        let (lo, hi) = costs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &c| (l.min(c), h.max(c)));
        w!(
            o,
            "- `{kind}`, {} drills: {}{}.",
            rows.len(),
            match stopped {
                0 => String::new(),
                1 => "1 stops the rollout; ".to_owned(),
                n => format!("{n} stop the rollout; "),
            },
            match (costs.is_empty(), stopped > 0) {
                (true, _) => "none finished".to_owned(),
                (false, true) => format!("the others cost {lo:+.2} to {hi:+.2} s (mean Δ)"),
                (false, false) => format!("they cost {lo:+.2} to {hi:+.2} s (mean Δ)"),
            }
        );
    }
    if kinds.iter().any(|(_, rows)| rows.len() > 2) {
        w!(o);
    }
    w!(o, "| rank | failure | replications finished | mean time | 95 % CI | Δ vs no failure (95 % CI) | pods evicted (mean) | etcd without writes (mean, simulated) |");
    w!(o, "|---:|---|---:|---:|---|---|---:|---:|");
    for (rank, r) in d.results.iter().enumerate() {
        w!(
            o,
            "| {} | `{}` | {} | {:.1} | {} |",
            rank + 1,
            r.drill.label,
            versus_cells(r.finished, r.reps, r.time, r.diff),
            r.evicted,
            r.etcd_stalled.map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2} s"))
        );
    }
    w!(o);
    // A failure after every replication had ended drilled nothing.
    let late: Vec<&str> = d
        .results
        .iter()
        .filter(|r| r.after_run == r.reps)
        .map(|r| r.drill.label.as_str())
        .collect();
    let fatal: Vec<&str> = d
        .results
        .iter()
        .filter(|r| r.finished == 0 && r.after_run < r.reps)
        .map(|r| r.drill.label.as_str())
        .collect();
    if !late.is_empty() {
        w!(
            o,
            "{} of the {} failures came after every replication had ended (at {} the rollout was over): they changed nothing; give `--drill-at` a time within the rollout.",
            late.len(),
            d.results.len(),
            d.at
        );
        w!(o);
    }
    if p.options[0].startup.finished == 0 {
        w!(
            o,
            "**The scenario as given finished in no replication** within {}: the drills cannot single out a failure that stops the rollout.",
            p.scenario.workload.timeout
        );
    } else if late.len() == d.results.len() {
        w!(o, "**No failure took effect**: nothing was drilled.");
    } else if fatal.is_empty() {
        w!(
            o,
            "**No single failure drilled here stops the rollout**: in each, every pod ran in at least one replication."
        );
    } else {
        w!(
            o,
            "**Single points of failure of the rollout** (no replication finished within {}): {}.",
            p.scenario.workload.timeout,
            fatal.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        );
    }
    for s in &d.skipped {
        w!(o);
        w!(o, "Not drilled: `{}`: {}", s.label, s.reason);
    }
    w!(o);
}

/// A paired difference with its CI, as the drills and tuning tables show it.
fn diff_text(d: Option<super::stats::MeanCi>) -> String {
    match d {
        Some(m) => format!(
            "{:+.2} s ({})",
            m.mean,
            m.ci.map_or("n/a".into(), |(lo, hi)| format!("[{lo:.2}, {hi:.2}] s"))
        ),
        None => "n/a".into(),
    }
}

/// The cells a variant of the scenario (a drill, a setting) shares in its table: replications
/// finished of run, mean time, its 95 % CI, and the paired difference to the scenario as given.
fn versus_cells(
    finished: usize,
    reps: usize,
    time: Option<super::stats::MeanCi>,
    diff: Option<super::stats::MeanCi>,
) -> String {
    format!(
        "{finished} of {reps} | {} | {} | {}",
        time.map_or("n/a".into(), |t| s2(t.mean)),
        time.map_or("n/a".into(), |t| ci(t.ci)),
        diff_text(diff)
    )
}

/// Section (g): what each setting would buy, the largest saving first, all at once last.
fn tuning_section(o: &mut String, p: &Plan, rows: &[super::tuning::TuningResult]) {
    w!(o, "{}", TUNING_HEADING);
    w!(o);
    if rows.is_empty() {
        w!(o, "The scenario already has every setting this section tries (client QPS and burst of at least 100/100, parallel image pulls, `IfNotPresent`, the image pre-pulled): nothing to compare.");
        w!(o);
        return;
    }
    w!(
        o,
        "The scenario as given, run again with one setting changed at a time, over the same {} as (a); the settings under which the most replications finish first, then the largest saving{}. Δ is the paired difference to (a) over the replications that finish in both, negative when faster. The last but one column gives the change as `kubetwin sweep` takes it (`kubetwin sweep SCENARIO --pods {} --set PATH=A,B` explores one setting further). A pinned tag saves nothing for the pods that reach their image check while their node's first download is still under way: the image is not there yet, so they pull too (v1.16 `EnsureImageExists`).",
        if p.reps == 1 {
            "replication seed".to_owned()
        } else {
            format!("{} replication seeds", p.reps)
        },
        if rows.iter().any(|r| r.tuning.combined) {
            ", then all of them at once"
        } else {
            ""
        },
        p.pods,
    );
    w!(o);
    w!(o, "| rank | change | replications finished | mean time | 95 % CI | Δ vs as given (95 % CI) | as options | why (source) |");
    w!(o, "|---:|---|---:|---:|---|---|---|---|");
    for (rank, r) in rows.iter().enumerate() {
        w!(
            o,
            "| {} | {} | {} | {} | {} |",
            if r.tuning.combined {
                "—".to_owned()
            } else {
                (rank + 1).to_string()
            },
            r.tuning.change,
            versus_cells(r.finished, r.reps, r.time, r.diff),
            if r.tuning.combined {
                "every row's above".to_owned()
            } else {
                // Single-quoted where a shell would eat a TOML string's double quotes.
                let arg = |v: &String| if v.contains('"') { format!("'{v}'") } else { v.clone() };
                r.tuning
                    .set
                    .iter()
                    .map(|v| format!("`--set {}`", arg(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            r.tuning.source,
        );
    }
    w!(o);
    let given = &p.options[0].startup;
    let single = || rows.iter().filter(|r| !r.tuning.combined);
    // A setting under which more replications finish than as given rescues a rollout.
    if let Some(r) = single().find(|r| r.finished > given.finished) {
        w!(
            o,
            "With **{}**, {} of {} replications finish within {}; as given, {}.",
            r.tuning.change,
            r.finished,
            r.reps,
            p.scenario.workload.timeout,
            given.finished
        );
        w!(o);
    }
    // A saving counts when its whole CI is below zero (with one replication, when its value is),
    // and only for a setting that finishes at least as often as the scenario as given.
    let saves = |r: &&super::tuning::TuningResult| {
        r.finished >= given.finished && r.diff.is_some_and(|d| d.ci.map_or(d.mean, |c| c.1) < 0.0)
    };
    let key = |r: &&super::tuning::TuningResult| r.diff.map_or(f64::INFINITY, |d| d.mean);
    match single().filter(saves).min_by(|a, b| key(a).total_cmp(&key(b))) {
        Some(best) => {
            w!(
                o,
                "The largest saving beyond the replications' noise{} is **{}**: {}, from the {} of (a).",
                if p.reps == 1 {
                    " (one replication: no interval)"
                } else {
                    ""
                },
                best.tuning.change,
                diff_text(best.diff),
                given.time.map_or("n/a".into(), |t| s2(t.mean)),
            );
        }
        None => {
            w!(
                o,
                "**No single setting saves time beyond the replications' noise**: this rollout is bound by what these settings do not touch (the network's round trips, the registry, Docker's own times)."
            );
        }
    }
    w!(o);
}

fn timeout_table(o: &mut String, rows: &[super::timeouts::TimeoutRow]) {
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

/// The etcd verdict at p99, with the recommended timers when it is not healthy.
fn etcd_cell(e: &super::net::EtcdHealth) -> String {
    let name = verdict_text(e.verdict_p99).0;
    let timers = if e.verdict_p99 == models::etcd::TimerHealth::Healthy {
        name.to_owned()
    } else {
        let (hb, el) = super::timeouts::etcd_recommendation(e);
        format!("{name}: set {} / {}", dur_ms(hb), dur_ms(el))
    };
    format!("{timers}; {}", e.raft.brief())
}

/// Per site, (mean registry RTT of its workers, s; the least download rate they get, bits per
/// second). For Docker Hub, the site's or the runtime's `registry_rtt` and
/// `runtime.download_bandwidth`; for a registry on the overlay (`runtime.registry_host`), the
/// route's round trip, netem included, and the rate held to the route's bottleneck, as
/// `models::registry` gives each node.
fn site_registry(s: &models::spec::Scenario) -> std::collections::HashMap<String, (f64, f64)> {
    let hub = |site: &str| {
        s.sites
            .iter()
            .find(|x| x.name == site)
            .and_then(|x| x.registry_rtt)
            .unwrap_or(s.runtime.registry_rtt)
            .secs_f64()
    };
    let overlay = s.runtime.registry_host.as_deref().and_then(|r| {
        let net = models::network::Network::build(s, &[r]).ok()?;
        let reg = models::registry::OverlayRegistry::new(s, &net, r).ok()?;
        Some((reg, net))
    });
    let own = s.runtime.download_bandwidth.bits_per_s;
    let mut sum: std::collections::HashMap<String, (f64, usize, f64)> = std::collections::HashMap::new();
    for h in s.hosts.iter().filter(|h| h.role == Role::Worker) {
        let pull = overlay
            .as_ref()
            .and_then(|(reg, net)| reg.pull_from(s, net, net.host(&h.name)?).ok());
        let e = sum.entry(h.site.clone()).or_insert((0.0, 0, own));
        match pull {
            Some(p) => {
                e.0 += p.rtt.as_secs_f64();
                e.2 = e.2.min(p.runtime.download_bandwidth.bits_per_s);
            }
            None => e.0 += hub(&h.site),
        }
        e.1 += 1;
    }
    sum.into_iter()
        .map(|(k, (t, c, bps))| (k, (t / c as f64, bps)))
        .collect()
}

/// Mean RTT from each site's workers to the apiservers through HAProxy, seconds.
fn site_api_rtt(p: &Plan) -> std::collections::HashMap<String, f64> {
    let s = &p.scenario;
    let mut sum: std::collections::HashMap<String, (f64, usize)> = std::collections::HashMap::new();
    for (h, r) in s
        .hosts
        .iter()
        .filter(|h| h.role == Role::Worker)
        .zip(&p.options[0].net.worker_api_mean_s)
    {
        let e = sum.entry(h.site.clone()).or_insert((0.0, 0));
        e.0 += r;
        e.1 += 1;
    }
    sum.into_iter().map(|(k, (t, c))| (k, t / c as f64)).collect()
}

/// The options by mean time, fastest first (those with no finished replication last).
pub(crate) fn ranked(p: &Plan) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.options.len()).collect();
    let mean_of = |i: usize| p.options[i].startup.time.map_or(f64::INFINITY, |t| t.mean);
    order.sort_by(|&a, &b| mean_of(a).total_cmp(&mean_of(b)));
    order
}

/// The option [`markdown`] recommends, by index.
pub(crate) fn recommended_option(p: &Plan) -> usize {
    recommended(p, &ranked(p))
}

/// The option to recommend, of `order` (the options by mean time): the fastest, if it is the
/// scenario as given, or if it finishes where the scenario as given does not, or if it is
/// faster by at least the observer's resolution (what kubectl shows: a smaller gain would not be
/// seen) with a paired 95 % CI below 0; otherwise the scenario as given.
fn recommended(p: &Plan, order: &[usize]) -> usize {
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

#[cfg(test)]
mod tests {
    use super::ordinal;

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
