//! A site's uplink to the image registry, which its nodes' image downloads share.
//!
//! # Mechanism
//!
//! A node's first pull of an image downloads its layers from the registry over TCP (Docker
//! 18.09's download manager, moby `distribution/xfer`). The downloads of a site's nodes leave
//! through the site's one internet uplink (`[[sites]] uplink`), and TCP flows through one
//! bottleneck converge to about equal shares of it (Chiu and Jain 1989, the
//! additive-increase/multiplicative-decrease argument; flows of one site have about the same
//! RTT to the registry, so the RTT bias of Reno/CUBIC does not tilt the shares). Each download
//! is also held to the node's own rate (`runtime.download_bandwidth`: its NIC, its disk, the
//! registry's per-connection rate). So, as a fluid: with `n` downloads in progress each moves
//! `min(download_bandwidth, uplink / n)` bits per second, and every start or end of a download
//! changes the rate of the others (processor sharing with a per-job cap). Downloads whose caps
//! differ (from a registry on the overlay, [`crate::registry`], a node's rate is also held to
//! its route's bottleneck) get max-min fair shares: one held below an equal share keeps its
//! cap, and the others share what it leaves. Downloads from a registry on the overlay cross
//! two uplinks, the registry site's and their own campus's: one component holds both as links
//! and each download's path through them, and the shares are max-min fair over all links
//! (progressive filling). A download's cap may change during it (a `degrade` fault on its
//! route holds it to TCP's rate under the fault's loss, [`crate::registry::RateWindows`]):
//! the component wakes at each change and shares again.
//!
//! While the site's way out is down (its router crashed, or the site isolated: `[[faults]]`)
//! the downloads make no progress. As TCP connections do ([`crate::pull_outages`]), they go on
//! where they stopped at the first resend after an isolation's repair, and all lose their
//! connections when the router comes back from a crash (its connection state is lost) or the
//! cut outlasts TCP's patience. Docker's download manager then tries again: a cut download
//! leaves the uplink and rejoins its share with the bits it still needs when its next attempt
//! has its connection and has asked for them ([`Outages::resume`]); after the fifth failed attempt its pull fails, and the
//! kubelet retries after its image back-off ([`crate::image_backoff`]).
//!
//! # Simplifications
//!
//! TCP slow start and the short unfairness after a flow joins are not modelled; a download's
//! bytes are the image's layers only (the registry round trips before it are the kubelet's,
//! [`crate::kubelet`], which meets the same [`Outages`]). A site without `uplink` has no shared
//! bottleneck: each node downloads at its own rate, whatever the others do.

use sim_core::{Component, ComponentId, Context, EventId, SimDuration, SimTime};

use crate::api::{Ev, Local};
use crate::pull_outages::{Outages, Transfer};
use crate::registry::RateWindows;

/// One download in progress.
#[derive(Debug, Clone)]
struct Download {
    /// The kubelet that waits for it.
    kubelet: ComponentId,
    /// The pod whose pull it is.
    pod: u32,
    /// Bits still to move.
    remaining: f64,
    /// The most it may take, bits per second (its node's own rate).
    cap: f64,
    /// When it began (its connection opened): outages that began earlier do not touch it.
    since: SimTime,
    /// Failed attempts before this one (Docker's download manager retries a cut download).
    failures: u32,
    /// When Docker's first progress message reached dockershim (its progress checks count
    /// from it).
    pull_start: SimTime,
    /// The outages as this pull meets them ([`Outages::for_pull`]).
    outages: Outages,
}

/// Bits by which two downloads' remainders may differ and still end at the same event: far
/// below one packet, far above the rounding of a nanosecond clock.
const SAME_END_BITS: f64 = 1.0;

/// A site's shared uplink: the image downloads of its nodes in progress and their fair shares.
#[derive(Debug)]
pub struct SiteUplink {
    /// The site's name (for traces and errors).
    pub site: String,
    /// Capacity of the uplink, bits per second.
    capacity: f64,
    downloads: Vec<Download>,
    /// When `downloads`' remainders were last brought up to date.
    updated: SimTime,
    /// The scheduled end of the download that ends first, if any.
    due: Option<EventId>,
    /// When the site's way out is down.
    outages: Outages,
    /// What each kubelet's own route meets, for downloads from a registry on the overlay
    /// ([`crate::registry`]); a kubelet without an entry meets `outages`.
    route_outages: rustc_hash::FxHashMap<ComponentId, Outages>,
    /// Other sites' uplinks, bits per second, that downloads from a registry on the overlay
    /// also cross (their own campus's): links 1, 2, ... of a path, this uplink being link 0.
    others: Vec<f64>,
    /// The links each kubelet's downloads cross, when not this uplink alone (`[0]`).
    paths: rustc_hash::FxHashMap<ComponentId, Vec<usize>>,
    /// When each kubelet's downloads are held below their cap, and to what (the `degrade`
    /// faults on its route to a registry on the overlay, [`crate::registry`]); a kubelet
    /// without an entry keeps its cap.
    cap_windows: rustc_hash::FxHashMap<ComponentId, RateWindows>,
    /// Downloads finished.
    pub finished: u64,
    /// Downloads that failed for good (their last attempt cut by an outage).
    pub failed: u64,
    /// Attempts an outage cut that Docker then resumed.
    pub resumed: u64,
    /// The most downloads ever in progress at once.
    pub peak: usize,
}

impl SiteUplink {
    /// An idle uplink of `capacity_bps`.
    pub fn new(site: String, capacity_bps: f64) -> SiteUplink {
        SiteUplink {
            site,
            capacity: capacity_bps,
            downloads: Vec::new(),
            updated: SimTime::ZERO,
            due: None,
            outages: Outages::default(),
            route_outages: rustc_hash::FxHashMap::default(),
            others: Vec::new(),
            paths: rustc_hash::FxHashMap::default(),
            cap_windows: rustc_hash::FxHashMap::default(),
            finished: 0,
            failed: 0,
            resumed: 0,
            peak: 0,
        }
    }

    /// The same uplink, down during `outages`.
    pub fn with_outages(mut self, outages: Outages) -> SiteUplink {
        self.outages = outages;
        self
    }

    /// Downloads for `kubelet` meet `outages` (its route to a registry on the overlay, the
    /// registry's own crashes included) instead of the uplink's.
    pub fn set_route_outages(&mut self, kubelet: ComponentId, outages: Outages) {
        self.route_outages.insert(kubelet, outages);
    }

    /// Adds another site's uplink, of `capacity_bps`, that some downloads also cross; returns
    /// its link number for [`SiteUplink::set_path`].
    pub fn add_link(&mut self, capacity_bps: f64) -> usize {
        self.others.push(capacity_bps);
        self.others.len()
    }

    /// Downloads for `kubelet` cross `links` (0: this uplink; others from
    /// [`SiteUplink::add_link`]) instead of this uplink alone.
    pub fn set_path(&mut self, kubelet: ComponentId, links: Vec<usize>) {
        self.paths.insert(kubelet, links);
    }

    /// Downloads for `kubelet` are held to each of `windows`' rates while it is in force (and
    /// to their cap outside them): the shares are recomputed at each window's start and end.
    pub fn set_cap_windows(&mut self, kubelet: ComponentId, windows: RateWindows) {
        if !windows.is_empty() {
            self.cap_windows.insert(kubelet, windows);
        }
    }

    /// The cap of each download in progress at `t`, in their order.
    fn caps_at(&self, t: SimTime) -> Vec<f64> {
        self.downloads
            .iter()
            .map(|d| match self.cap_windows.get(&d.kubelet) {
                Some(w) => w.rate_at(t, d.cap),
                None => d.cap,
            })
            .collect()
    }

    /// What a download of `kubelet` meets.
    fn outages_for(&self, kubelet: ComponentId) -> &Outages {
        self.route_outages.get(&kubelet).unwrap_or(&self.outages)
    }

    /// The rate of each download in progress since the last update of their remainders (until
    /// the next event: caps change only at events), bits per second, in their order: max-min
    /// fair shares of the capacity, each held to its own cap then. Progressive filling: in
    /// order of cap, a download whose cap is below an equal share of what is left takes its
    /// cap, and the rest share the remainder. With equal caps, `min(cap, capacity / n)` for
    /// each.
    pub fn rates(&self) -> Vec<f64> {
        let caps = self.caps_at(self.updated);
        if !self.paths.is_empty() && self.downloads.iter().any(|d| self.paths.contains_key(&d.kubelet)) {
            return self.rates_over_paths(&caps);
        }
        let n = self.downloads.len();
        let Some(&first) = caps.first() else {
            return Vec::new();
        };
        if caps.iter().all(|&c| c == first) {
            return vec![first.min(self.capacity / n as f64); n];
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| caps[a].total_cmp(&caps[b]));
        let mut rates = vec![0.0; n];
        let mut left = self.capacity;
        for (k, &i) in order.iter().enumerate() {
            let r = caps[i].min(left / (n - k) as f64);
            rates[i] = r;
            left -= r;
        }
        rates
    }

    /// [`SiteUplink::rates`] when downloads cross several links: max-min fair shares by
    /// progressive filling (Bertsekas & Gallager, "Data Networks", 1992, §6.5.2): every
    /// download's rate grows at the same pace until it reaches its cap or a link on its path
    /// is full; those are frozen, and the others grow on. `caps`: each download's cap now.
    fn rates_over_paths(&self, caps: &[f64]) -> Vec<f64> {
        let n = self.downloads.len();
        let capacity: Vec<f64> = std::iter::once(self.capacity)
            .chain(self.others.iter().copied())
            .collect();
        let paths: Vec<&[usize]> = self
            .downloads
            .iter()
            .map(|d| self.paths.get(&d.kubelet).map_or(&[0usize][..], Vec::as_slice))
            .collect();
        let mut left = capacity.clone();
        let mut rates = vec![0.0; n];
        let mut frozen = vec![false; n];
        // Each round freezes at least one download, so n rounds at most.
        for _ in 0..n {
            let mut users = vec![0usize; capacity.len()];
            for (i, path) in paths.iter().enumerate() {
                if !frozen[i] {
                    for &l in *path {
                        users[l] += 1;
                    }
                }
            }
            let step = (0..n)
                .filter(|&i| !frozen[i])
                .map(|i| caps[i] - rates[i])
                .chain(
                    (0..capacity.len())
                        .filter(|&l| users[l] > 0)
                        .map(|l| left[l] / users[l] as f64),
                )
                .fold(f64::INFINITY, f64::min)
                .max(0.0);
            if !step.is_finite() {
                break;
            }
            for i in (0..n).filter(|&i| !frozen[i]) {
                rates[i] += step;
                for &l in paths[i] {
                    left[l] -= step;
                }
            }
            // Full to within a part in 10^9: what rounding leaves of a link or a cap.
            let full = |l: usize| left[l] <= capacity[l] * 1e-9;
            let mut any = false;
            for i in 0..n {
                if !frozen[i] && (rates[i] >= caps[i] * (1.0 - 1e-9) || paths[i].iter().any(|&l| full(l))) {
                    frozen[i] = true;
                    any = true;
                }
            }
            if !any || frozen.iter().all(|&f| f) {
                break;
            }
        }
        rates
    }

    /// Moves every download on by what it transferred since the last update.
    fn advance(&mut self, now: SimTime) {
        let rates = self.rates();
        let updated = self.updated;
        for (d, rate) in self.downloads.iter_mut().zip(rates) {
            d.remaining -= rate * d.outages.up_seconds_since(d.since, updated, now);
        }
        self.updated = now;
    }

    /// When download `d`, moving at `rate`, ends ([`Transfer::Done`]), or the outage that cuts
    /// it begins ([`Transfer::Failed`]), from `now`.
    fn outcome(&self, d: &Download, rate: f64, now: SimTime) -> Transfer {
        let work = SimDuration::from_secs_f64(d.remaining.max(0.0) / rate);
        d.outages.transfer_since(d.since, now, work)
    }

    /// (Re)schedules the first end of a download, the first outage that cuts one, or the first
    /// change of a download's cap, whichever comes first.
    fn reschedule(&mut self, ctx: &mut Context<'_, Ev>) {
        if let Some(id) = self.due.take() {
            ctx.cancel(id);
        }
        let now = ctx.now();
        let rates = self.rates();
        let cap_change = self
            .downloads
            .iter()
            .filter_map(|d| self.cap_windows.get(&d.kubelet)?.next_change(now))
            .min();
        let next = self
            .downloads
            .iter()
            .zip(rates)
            .map(|(d, rate)| match self.outcome(d, rate, now) {
                Transfer::Done(at) => at,
                Transfer::Failed { cut, .. } => cut,
            })
            .chain(cap_change)
            .min();
        if let Some(at) = next.filter(|&at| at != SimTime::MAX) {
            self.due = Some(ctx.send_at(ctx.me(), at, Ev::Local(Local::UplinkDue)));
        }
    }

    /// The downloads that end now, and those an outage cuts now.
    fn settle(&mut self, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        // Without outages or cap changes the event is for the least remainder: it and any
        // within a bit of it end now (so a nanosecond's rounding can never leave a sliver
        // behind). With them each download has its own: those whose outcome is to end now (or
        // that have less than a bit left) end, and those an outage cuts now fail when it shows.
        let least = self.downloads.iter().map(|d| d.remaining).fold(f64::INFINITY, f64::min);
        let mut k = 0;
        // The rates of the downloads left, computed when first needed and again after a
        // download leaves (its share goes to the others).
        let mut rates: Option<Vec<f64>> = None;
        while k < self.downloads.len() {
            let steady = self.route_outages.is_empty() && self.cap_windows.is_empty();
            let d = &self.downloads[k];
            let ends = if d.outages.is_empty() && steady {
                d.remaining <= least + SAME_END_BITS
            } else {
                let rate = rates.get_or_insert_with(|| self.rates())[k];
                let d = &self.downloads[k];
                d.remaining <= SAME_END_BITS || self.outcome(d, rate, now) == Transfer::Done(now)
            };
            let d = &self.downloads[k];
            let fails = d.outages.fails_at_since(d.since, now);
            if ends {
                rates = None;
                let d = self.downloads.remove(k);
                self.finished += 1;
                ctx.send(d.kubelet, SimDuration::ZERO, Ev::Local(Local::PullDone(d.pod)));
            } else if let Some(at) = fails {
                rates = None;
                let d = self.downloads.remove(k);
                match d.outages.resume(at, d.failures + 1) {
                    Ok(r) => {
                        // Docker's next attempt asks for the rest of the layers: the download
                        // rejoins the uplink's share when the bytes flow again.
                        self.resumed += 1;
                        let ev = Ev::DownloadStart {
                            kubelet: d.kubelet,
                            pod: d.pod,
                            bits: d.remaining.max(0.0).round() as u64,
                            cap_bps: d.cap,
                            failures: r.failures,
                            pull_start: d.pull_start,
                        };
                        ctx.send_at(ctx.me(), r.at, ev);
                    }
                    Err(at) => {
                        self.failed += 1;
                        ctx.send_at(d.kubelet, at, Ev::Local(Local::PullFailed(d.pod)));
                    }
                }
            } else {
                k += 1;
            }
        }
    }
}

impl Component<Ev> for SiteUplink {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        match event {
            Ev::DownloadStart {
                kubelet,
                pod,
                bits,
                cap_bps,
                failures,
                pull_start,
            } => {
                self.advance(now);
                let outages = self.outages_for(kubelet).for_pull(pull_start);
                self.downloads.push(Download {
                    kubelet,
                    pod,
                    remaining: bits as f64,
                    cap: cap_bps,
                    since: now,
                    failures,
                    pull_start,
                    outages,
                });
                self.peak = self.peak.max(self.downloads.len());
                self.reschedule(ctx);
            }
            Ev::Local(Local::UplinkDue) => {
                self.due = None;
                self.advance(now);
                self.settle(ctx);
                self.reschedule(ctx);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull_outages::OutageKind;
    use sim_core::engine::Simulation;

    /// Records when each pod's download ended, or failed.
    #[derive(Debug, Default)]
    struct Sink {
        ended: Vec<(u32, f64)>,
        failed: Vec<(u32, f64)>,
    }

    impl Component<Ev> for Sink {
        fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
            match event {
                Ev::Local(Local::PullDone(pod)) => self.ended.push((pod, ctx.now().as_secs_f64())),
                Ev::Local(Local::PullFailed(pod)) => self.failed.push((pod, ctx.now().as_secs_f64())),
                _ => {}
            }
        }
    }

    /// Downloads of `bits` starting at the given seconds through an uplink of `capacity` whose
    /// downloads take at most `per`; returns (pod, end) in order of ending.
    fn ends(capacity: f64, per: f64, starts: &[(u32, f64, u64)]) -> Vec<(u32, f64)> {
        ends_with_outages(capacity, per, starts, Vec::new()).0
    }

    /// (pod, seconds) of each download that ended (or failed), in order.
    type Ends = Vec<(u32, f64)>;

    /// [`ends`] through an uplink down during `outages` (seconds; `None`: never repaired),
    /// for connections of a negligible RTT (resends 0.2 s after a loss, then 0.4 s, ...);
    /// returns the downloads ended and the downloads failed.
    fn ends_with_outages(
        capacity: f64,
        per: f64,
        starts: &[(u32, f64, u64)],
        outages: Vec<(f64, Option<f64>, OutageKind)>,
    ) -> (Ends, Ends) {
        let at = |s: f64| SimTime::from_nanos((s * 1e9) as u64);
        let outages = Outages::new(
            outages
                .into_iter()
                .map(|(a, b, kind)| (at(a), b.map_or(SimTime::MAX, at), kind))
                .collect(),
            SimDuration::ZERO,
        );
        let mut sim: Simulation<Ev> = Simulation::new(1);
        let up = sim
            .add_component("uplink", SiteUplink::new("s".into(), capacity).with_outages(outages))
            .unwrap();
        let sink = sim.add_component("sink", Sink::default()).unwrap();
        for &(pod, at, bits) in starts {
            sim.schedule(
                up,
                SimTime::from_nanos((at * 1e9) as u64),
                Ev::DownloadStart {
                    kubelet: sink,
                    pod,
                    bits,
                    cap_bps: per,
                    failures: 0,
                    pull_start: SimTime::ZERO,
                },
            )
            .unwrap();
        }
        sim.run();
        let sink = sim.component_mut::<Sink>(sink).unwrap();
        (std::mem::take(&mut sink.ended), std::mem::take(&mut sink.failed))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn one_download_moves_at_its_own_cap() {
        // 100 Mbit at most 20 Mbit/s: 5 s, whatever the uplink's spare capacity.
        let e = ends(1e9, 20e6, &[(0, 0.0, 100_000_000)]);
        assert!(close(e[0].1, 5.0), "{e:?}");
    }

    /// Caps that differ: the slow download keeps its cap and the others share what it leaves
    /// (max-min fairness). 30 Mbit/s for caps 5, 20, 20: 5, 12.5, 12.5. Each of 100 Mbit.
    #[test]
    fn a_download_held_below_its_share_leaves_the_rest_to_the_others() {
        let at = |s: f64| SimTime::from_nanos((s * 1e9) as u64);
        let mut sim: Simulation<Ev> = Simulation::new(1);
        let up = sim.add_component("uplink", SiteUplink::new("s".into(), 30e6)).unwrap();
        let sink = sim.add_component("sink", Sink::default()).unwrap();
        for (pod, cap) in [(0, 5e6), (1, 20e6), (2, 20e6)] {
            let ev = Ev::DownloadStart {
                kubelet: sink,
                pod,
                bits: 100_000_000,
                cap_bps: cap,
                failures: 0,
                pull_start: SimTime::ZERO,
            };
            sim.schedule(up, at(0.0), ev).unwrap();
        }
        sim.run();
        let e = &sim.component::<Sink>(sink).unwrap().ended;
        // 1 and 2 at 12.5 Mbit/s end at 8 s; 0 stays at its 5 Mbit/s cap: 20 s.
        assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2, 0], "{e:?}");
        assert!(close(e[0].1, 8.0) && close(e[1].1, 8.0) && close(e[2].1, 20.0), "{e:?}");
    }

    /// Downloads that also cross their own campus's uplink: two behind a 10 Mbit/s campus
    /// get 5 Mbit/s each, and the third, on the 30 Mbit/s registry uplink alone, the 20 they
    /// leave (max-min). 100 Mbit each: the third ends at 5 s; the two stay held by their
    /// campus and end at 20 s.
    #[test]
    fn downloads_across_two_links_get_max_min_fair_shares() {
        let at = |s: f64| SimTime::from_nanos((s * 1e9) as u64);
        let mut sim: Simulation<Ev> = Simulation::new(1);
        let mut uplink = SiteUplink::new("registry".into(), 30e6);
        let campus = uplink.add_link(10e6);
        let up_id = sim.add_component("uplink", uplink).unwrap();
        let sinks: Vec<ComponentId> = (0..3)
            .map(|i| sim.add_component(format!("sink{i}"), Sink::default()).unwrap())
            .collect();
        {
            let up = sim.component_mut::<SiteUplink>(up_id).unwrap();
            up.set_path(sinks[0], vec![0, campus]);
            up.set_path(sinks[1], vec![0, campus]);
        }
        for (pod, &k) in sinks.iter().enumerate() {
            let ev = Ev::DownloadStart {
                kubelet: k,
                pod: pod as u32,
                bits: 100_000_000,
                cap_bps: 100e6,
                failures: 0,
                pull_start: SimTime::ZERO,
            };
            sim.schedule(up_id, at(0.0), ev).unwrap();
        }
        sim.run();
        let end = |k: ComponentId| sim.component::<Sink>(k).unwrap().ended[0].1;
        assert!(close(end(sinks[2]), 5.0), "{}", end(sinks[2]));
        assert!(
            close(end(sinks[0]), 20.0) && close(end(sinks[1]), 20.0),
            "{} {}",
            end(sinks[0]),
            end(sinks[1])
        );
    }

    /// Downloads of 100 Mbit each, capped at `per`, starting at 0 through an uplink of
    /// `capacity`, each held to its `windows` (seconds, rate) while they are in force; returns
    /// each one's end, in pod order.
    fn ends_with_windows(capacity: f64, per: f64, windows: &[Vec<(f64, f64, f64)>]) -> Vec<f64> {
        let at = |s: f64| SimTime::from_nanos((s * 1e9) as u64);
        let mut sim: Simulation<Ev> = Simulation::new(1);
        let up = sim
            .add_component("uplink", SiteUplink::new("s".into(), capacity))
            .unwrap();
        let sinks: Vec<ComponentId> = (0..windows.len())
            .map(|i| sim.add_component(format!("sink{i}"), Sink::default()).unwrap())
            .collect();
        for (pod, (&sink, w)) in sinks.iter().zip(windows).enumerate() {
            let w = RateWindows::new(w.iter().map(|&(a, b, r)| (at(a), at(b), r)).collect());
            sim.component_mut::<SiteUplink>(up).unwrap().set_cap_windows(sink, w);
            let ev = Ev::DownloadStart {
                kubelet: sink,
                pod: pod as u32,
                bits: 100_000_000,
                cap_bps: per,
                failures: 0,
                pull_start: SimTime::ZERO,
            };
            sim.schedule(up, at(0.0), ev).unwrap();
        }
        sim.run();
        sinks
            .iter()
            .map(|&k| sim.component::<Sink>(k).unwrap().ended[0].1)
            .collect()
    }

    /// A download held to 5 Mbit/s from 1 s to 3 s, 20 Mbit/s otherwise: 20 Mbit by 1 s, 10
    /// more by 3 s, the 70 left at 20 Mbit/s: ends at 6.5 s (5 s unheld).
    #[test]
    fn a_download_is_held_to_its_window_only_while_it_lasts() {
        let e = ends_with_windows(1e9, 20e6, &[vec![(1.0, 3.0, 5e6)]]);
        assert!(close(e[0], 6.5), "{e:?}");
    }

    /// Two downloads share 20 Mbit/s; one is held to 2 Mbit/s until 4 s, and the other takes
    /// the 18 it leaves (max-min), then both get 10: the free one has 72 Mbit by 4 s and ends at
    /// 6.8 s; the held one has 8 Mbit by 4 s, 28 more by 6.8 s, and the 64 left alone at 20
    /// Mbit/s: it ends at 10 s. Unheld, both would end at 10 s.
    #[test]
    fn the_shares_are_recomputed_when_a_cap_changes() {
        let e = ends_with_windows(20e6, 20e6, &[Vec::new(), vec![(0.0, 4.0, 2e6)]]);
        assert!(close(e[0], 6.8) && close(e[1], 10.0), "{e:?}");
    }

    #[test]
    fn simultaneous_downloads_share_the_uplink_equally() {
        // Four downloads of 100 Mbit on a 40 Mbit/s uplink, each capable of 20: 10 Mbit/s each,
        // all end at 10 s (alone they would take 5 s).
        let starts: Vec<_> = (0..4).map(|p| (p, 0.0, 100_000_000)).collect();
        let e = ends(40e6, 20e6, &starts);
        assert_eq!(e.len(), 4);
        assert!(e.iter().all(|&(_, t)| close(t, 10.0)), "{e:?}");
    }

    #[test]
    fn a_late_download_slows_the_first_and_speeds_up_when_it_ends() {
        // Uplink 20 Mbit/s, per download 20. Pod 0 (100 Mbit) alone from 0 to 2 s moves 40 Mbit;
        // pod 1 (20 Mbit) joins at 2 s: 10 Mbit/s each, pod 1 ends at 4 s (pod 0 has 40 Mbit
        // left); then pod 0 alone at 20 Mbit/s ends at 6 s.
        let e = ends(20e6, 20e6, &[(0, 0.0, 100_000_000), (1, 2.0, 20_000_000)]);
        assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 0]);
        assert!(close(e[0].1, 4.0) && close(e[1].1, 6.0), "{e:?}");
    }

    #[test]
    fn spare_capacity_is_not_given_beyond_the_cap() {
        // Two downloads on a 100 Mbit/s uplink, each capped at 20: both at 20, no sharing.
        let e = ends(100e6, 20e6, &[(0, 0.0, 100_000_000), (1, 0.0, 100_000_000)]);
        assert!(e.iter().all(|&(_, t)| close(t, 5.0)), "{e:?}");
    }

    #[test]
    fn an_isolation_pauses_the_downloads_until_the_first_resend_after_the_repair() {
        use OutageKind::Isolation;
        // 100 Mbit at 20 Mbit/s is 5 s of transfer; cut from 2 s to 12 s, TCP resends at 2.2,
        // 2.6, 3.4, 5.0, 8.2 and 14.6 s: goes on at 14.6 s, ends at 17.6 s.
        let (e, f) = ends_with_outages(1e9, 20e6, &[(0, 0.0, 100_000_000)], vec![(2.0, Some(12.0), Isolation)]);
        assert!(close(e[0].1, 17.6) && f.is_empty(), "{e:?} {f:?}");
        // Started after the repair on a connection of its own (the kubelet dials first), while
        // the older connections still wait for their resend: not held, 5 s.
        let (e, _) = ends_with_outages(1e9, 20e6, &[(0, 13.0, 100_000_000)], vec![(2.0, Some(12.0), Isolation)]);
        assert!(close(e[0].1, 18.0), "{e:?}");
        // Two cuts in one download: stalled 1 to 2.4 s and 3 to 4.4 s; 5 s of transfer end at 7.8 s.
        let (e, _) = ends_with_outages(
            1e9,
            20e6,
            &[(0, 0.0, 100_000_000)],
            vec![(1.0, Some(2.0), Isolation), (3.0, Some(4.0), Isolation)],
        );
        assert!(close(e[0].1, 7.8), "{e:?}");
        // Never repaired: no byte and no message after the cut at 1 s, so dockershim's
        // progress check at 70 s (every 10 s from the pull's start; more than 60 s silent)
        // cancels the pull, long before the node's keepalive would give up (301 s).
        let (e, f) = ends_with_outages(1e9, 20e6, &[(0, 0.0, 100_000_000)], vec![(1.0, None, Isolation)]);
        assert!(e.is_empty() && f.len() == 1 && close(f[0].1, 70.0), "{e:?} {f:?}");
    }

    #[test]
    fn a_router_crash_cuts_every_download_under_way_and_docker_resumes_them() {
        // Pod 2's 10 Mbit end at 1 s (10 Mbit/s each while three share 30 Mbit/s), before the
        // crash at 2 s; pods 0 and 1 (25 Mbit in, at 15 Mbit/s from 1 s) are cut at the
        // nodes' first keepalive probe after the restart at 12 s, 30 s after the cut. Docker
        // tries again 5 s later (37 s) and asks for the 75 Mbit left of each: at 15 Mbit/s
        // each, they end at 42 s, and no pull fails.
        let starts = [(0, 0.0, 100_000_000), (1, 0.0, 100_000_000), (2, 0.0, 10_000_000)];
        let (e, f) = ends_with_outages(30e6, 20e6, &starts, vec![(2.0, Some(12.0), OutageKind::RouterCrash)]);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2, 0, 1], "{e:?}");
        assert!(close(e[0].1, 1.0), "{e:?}");
        assert!(e[1..].iter().all(|x| close(x.1, 42.0)), "{e:?}");
        // Never repaired: silent from the crash at 2 s, both pulls are cancelled by
        // dockershim's progress check at 70 s, before any keepalive probe fails them.
        let (e, f) = ends_with_outages(30e6, 20e6, &starts, vec![(2.0, None, OutageKind::RouterCrash)]);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|x| close(x.1, 70.0)), "{f:?}");
    }
}
