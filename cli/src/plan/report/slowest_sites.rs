//! Section (b) of the report: the sites ranked by when their last pod ran, and for the three
//! slowest, what that time is made of (its nine parts, the waits, the image pull and its
//! download) beside the fastest site.

use std::collections::HashMap;
use std::fmt::Write as _;

use models::spec::{Role, Scenario};

use crate::plan::fmt::{ci, dur, dur_ms, s2};
use crate::plan::net::{site_api_rtt, site_registry};
use crate::plan::stats::{SiteRow, SEGMENTS};
use crate::plan::Plan;

use super::HEADINGS;

/// Section (b): the slowest sites and why.
pub(super) fn slowest_sites_section(o: &mut String, p: &Plan) {
    let s = &p.scenario;
    let cur = &p.options[0];
    w!(o, "{}", HEADINGS[1]);
    w!(o);
    w!(
        o,
        "A site's pods are those that ran on its workers (each worker's site from the scenario's `[[hosts]]`); its **last pod** is the one kubectl saw Running last, and the time is the mean over replications. The last pod's time splits into nine parts from its timeline (see the figure); the *dominant phase* is the ClusterLoader2 phase with the largest mean over the site's pods. Waits per pod at the site: the **serialized image puller queue** is exact (pull start − sandbox ready); the **Docker runtime queue (est.)** is sandbox and create + start minus their mean service times ({} + {}, `runtime.sandbox_time`, `runtime.container_start_time`); the **status goroutine + kubelet 5 QPS limiter (est.)** is container started → Running committed, minus half a PLEG period and the unloaded GET + PATCH (1.5 round trips to the apiserver, two apiserver service times, a read index and a commit). `RunOutcome.waits` gives these per cluster only, hence the estimates (`docs/sources.md` §1 \"Serialize image pulls\", \"Status manager concurrency\", \"API QPS\").",
        dur(s.runtime.sandbox_time.secs_f64()),
        dur(s.runtime.container_start_time.secs_f64())
    );
    w!(o);
    let st = &cur.startup;
    if st.finished < st.reps {
        w!(
            o,
            "Unlike (a), this section covers all {} replications, the {} that did not finish included up to `workload.timeout`: a site's last pod is over the replications in which every pod of the site ran, and a site some of whose pods never ran says in how many.",
            st.reps,
            st.reps - st.finished
        );
        w!(o);
    }
    let net = SiteNetwork::new(p);
    sites_table(o, &cur.sites, st.reps, &net);
    let fastest = cur.sites.iter().rev().find(|r| r.last.is_some());
    for r in cur.sites.iter().filter(|r| r.last.is_some()).take(3) {
        slow_site_note(o, r, fastest, &net);
    }
    w!(o);
    docker_hub_limit_note(o, p, &cur.sites, &net);
}

/// Docker Hub's pull limits, which the model does not simulate, said when they could bite: the
/// image on Docker Hub, pulled at every pod start (`imagePullPolicy: Always`, each start's
/// manifest check counting as a pull), so the busiest site's pulls per run are its pods.
fn docker_hub_limit_note(o: &mut String, p: &Plan, sites: &[SiteRow], net: &SiteNetwork<'_>) {
    use models::spec::PullPolicy;
    if net.registry_site.is_some() || p.scenario.runtime.pull_policy != PullPolicy::Always {
        return;
    }
    let Some(busiest) = sites.iter().max_by(|a, b| a.pods.total_cmp(&b.pods)) else {
        return;
    };
    w!(
        o,
        "**Docker Hub's pull limits are not simulated.** The image comes from Docker Hub with `imagePullPolicy: Always`, so every pod start checks its manifest, which Docker Hub counts as a pull: {:.0} per run at the busiest site ({}), {} in all. Docker Hub has limited anonymous pulls per IP address since November 2020, to 100 per 6 hours then and to 10 per hour since 2025 (Docker's \"Docker Hub usage and limits\" page; docker/docs pull requests #20788 and #22134); the model, like the 2019 testbed the thesis measured, assumes no limit. Past the limit a pull fails with `toomanyrequests` and the pod meets image back-off. A site whose workers share one public address and start more pods than the limit, within its window, would do worse than this plan says; a registry or pull-through mirror on the overlay (`generate consortium --registry-at SITE`, `runtime.registry_host`) or authenticated pulls take the limit away.",
        busiest.pods,
        busiest.site,
        p.pods
    );
    w!(o);
}

/// What (b) says of each site's round trips and registry, worked out once for the table and the
/// notes.
struct SiteNetwork<'a> {
    /// The scenario as simulated.
    s: &'a Scenario,
    /// Mean RTT from each site's workers to the apiservers through HAProxy, seconds.
    api: HashMap<String, f64>,
    /// Per site, (mean registry RTT of its workers, s; the least download rate they get, bits per
    /// second): [`site_registry`].
    registry: HashMap<String, (f64, f64)>,
    /// The site of a registry on the overlay (`runtime.registry_host`); `None` for Docker Hub.
    registry_site: Option<&'a str>,
}

impl<'a> SiteNetwork<'a> {
    /// The round trips and registry figures of `p`'s scenario as given.
    fn new(p: &'a Plan) -> Self {
        let s = &p.scenario;
        let api = site_api_rtt(s, &p.options[0].net.worker_api_mean_s);
        let registry = site_registry(s);
        let registry_site = s
            .runtime
            .registry_host
            .as_deref()
            .and_then(|r| s.hosts.iter().find(|h| h.name == r))
            .map(|h| h.site.as_str());
        SiteNetwork {
            s,
            api,
            registry,
            registry_site,
        }
    }

    /// Mean registry RTT of the site's workers, seconds (NaN for a site without workers).
    fn registry_rtt(&self, site: &str) -> f64 {
        self.registry.get(site).map_or(f64::NAN, |r| r.0)
    }

    /// Mean RTT from the site's workers to the apiservers, in milliseconds, or `n/a`.
    fn api_rtt_text(&self, site: &str) -> String {
        self.api.get(site).map_or("n/a".into(), |v| dur_ms(*v))
    }

    /// The site whose uplink a download crosses: its own for Docker Hub; the registry's for a
    /// registry on the overlay (none for the registry's own site, which pulls over its LAN).
    fn uplink_site(&self, site: &str) -> Option<String> {
        match self.registry_site {
            Some(rs) if rs == site => None,
            Some(rs) => Some(rs.to_owned()),
            None => Some(site.to_owned()),
        }
    }

    /// The workers downloading through the uplink of [`Self::uplink_site`]: every worker outside
    /// the registry's site for a registry on the overlay, the site's own for Docker Hub.
    fn sharing(&self, site: &str) -> usize {
        let s = self.s;
        match self.registry_site {
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
    }
}

/// The sites, slowest first: when the last pod ran, its largest part, the dominant phase, the
/// largest wait, and the round trips to the apiserver and the registry.
fn sites_table(o: &mut String, sites: &[SiteRow], reps: usize, net: &SiteNetwork<'_>) {
    w!(
        o,
        "| rank | site | workers | pods | last pod Running, mean (95 % CI) | slowest rep | its largest part | dominant phase, mean per pod | largest wait, per pod | RTT to apiserver | registry RTT |"
    );
    w!(o, "|---:|---|---:|---:|---|---:|---|---|---|---:|---:|");
    for (i, r) in sites.iter().enumerate() {
        let (ph, pv) = r.dominant_phase();
        let (wn, wv) = r.top_wait();
        let (si, sv) = r.top_segment();
        let last = match r.last {
            Some(m) if r.unfinished > 0 => format!(
                "{} ({}); a pod never ran in {}",
                s2(m.mean),
                ci(m.ci),
                crate::output::count(r.unfinished, "rep")
            ),
            // Over the replications that placed pods here, when not all did.
            Some(m) if r.reps_all_ran < reps => format!(
                "{} ({}); over the {} of {reps} reps with pods here",
                s2(m.mean),
                ci(m.ci),
                r.reps_all_ran
            ),
            Some(m) => format!("{} ({})", s2(m.mean), ci(m.ci)),
            None if r.unfinished > 0 => format!("never ran in {}", crate::output::count(r.unfinished, "rep")),
            None => "no pods".into(),
        };
        // A site that never had a pod has no parts, phases or waits to show.
        let shown = |name: &str, v: f64| {
            if r.had_pods() {
                format!("{name} {}", s2(v))
            } else {
                "n/a".into()
            }
        };
        w!(
            o,
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            r.site,
            r.workers,
            r.pods,
            last,
            if r.last.is_some() { s2(r.last_max) } else { "n/a".into() },
            if r.last.is_some() {
                format!("{} {}", SEGMENTS[si].0, s2(sv))
            } else {
                "n/a".into()
            },
            shown(ph, pv),
            shown(wn, wv),
            net.api_rtt_text(&r.site),
            dur_ms(net.registry_rtt(&r.site))
        );
    }
    w!(o);
}

/// One slow site's note: its last pod's nine parts, the largest of them, its largest wait, its
/// image pull (and download), and how the fastest site compares.
fn slow_site_note(o: &mut String, r: &SiteRow, fastest: Option<&SiteRow>, net: &SiteNetwork<'_>) {
    let s = net.s;
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
        dur_ms(net.registry_rtt(&r.site)),
        s2(f64::from(s.runtime.registry_round_trips) * net.registry_rtt(&r.site)),
        image_download_text(r, net),
        fastest_site_text(r, fastest, net)
    );
}

/// What a node's first pull downloads at the site (nothing if the image is cached): the image
/// at the rate a download alone gets, and how long all downloading at once take where an uplink
/// is shared.
fn image_download_text(r: &SiteRow, net: &SiteNetwork<'_>) -> String {
    let s = net.s;
    if s.runtime.image_cached {
        return "the image is on every node when the run starts (`runtime.image_cached`), so no pull downloads it"
            .to_owned();
    }
    let bits = s.runtime.image_bytes as f64 * 8.0;
    let up_site = net.uplink_site(&r.site);
    let uplink = s
        .sites
        .iter()
        .find(|x| Some(&x.name) == up_site.as_ref())
        .and_then(|x| x.uplink);
    // Alone on its uplink a download still gets no more than the uplink has, nor
    // (from a registry on the overlay) than its route and campus allow.
    // From a registry on the overlay, a node's own campus uplink is on its path too.
    let campus = net
        .registry_site
        .filter(|rs| *rs != r.site)
        .and_then(|_| s.sites.iter().find(|x| x.name == r.site))
        .and_then(|x| x.uplink)
        .map_or(f64::INFINITY, |b| b.bits_per_s);
    let own = models::units::Bandwidth {
        bits_per_s: net
            .registry
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
            Some(u) if net.sharing(&r.site) as f64 * own.bits_per_s > u.bits_per_s => {
                let n = net.sharing(&r.site);
                let whose = match net.registry_site {
                    Some(rs) => format!("the {n} workers outside {rs} share the registry site's"),
                    None => format!("its {n} workers share the site's"),
                };
                format!(
                    " alone; {whose} {u} uplink, so all downloading at once take {}",
                    s2(bits * n as f64 / u.bits_per_s)
                )
            }
            _ => String::new(),
        }
    )
}

/// The fastest site beside a slow one (nothing if it is the same site, or none finished).
fn fastest_site_text(r: &SiteRow, fastest: Option<&SiteRow>, net: &SiteNetwork<'_>) -> String {
    match fastest {
        Some(f) if f.site != r.site => format!(
            " The fastest site, {}, saw its last pod at {} (pull {}, registry RTT {}, RTT to the apiserver {} vs {} here).",
            f.site,
            s2(f.last.map_or(f64::NAN, |m| m.mean)),
            s2(f.pull),
            dur_ms(net.registry_rtt(&f.site)),
            net.api_rtt_text(&f.site),
            net.api_rtt_text(&r.site),
        ),
        _ => String::new(),
    }
}
