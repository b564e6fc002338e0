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
//! changes the rate of the others (processor sharing with a per-job cap).
//!
//! While the site's way out is down (its router crashed, or the site isolated: `[[faults]]`)
//! the downloads make no progress, and resume where they stopped at the repair.
//!
//! # Simplifications
//!
//! TCP slow start and the short unfairness after a flow joins are not modelled; a download's
//! bytes are the image's layers only (the registry round trips before it are the kubelet's,
//! [`crate::kubelet`], which also pauses them during [`Outages`]). A pull cut by an outage
//! resumes at the repair; Docker would fail it and the kubelet retry it after its image
//! back-off (10 s, doubling). A site without `uplink` has no shared bottleneck: each node
//! downloads at its own rate, whatever the others do.

use sim_core::{Component, ComponentId, Context, EventId, SimDuration, SimTime};

use crate::api::{Ev, Local};
use crate::spec::{Fault, Site};

/// When a site's way out to the internet (and the registry) is down: intervals `[from, to)`,
/// sorted, `to` = [`SimTime::MAX`] for an outage never repaired.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outages(Vec<(SimTime, SimTime)>);

impl Outages {
    /// The outages in `intervals`, in any order.
    pub fn new(mut intervals: Vec<(SimTime, SimTime)>) -> Outages {
        intervals.sort_unstable();
        Outages(intervals)
    }

    /// Seconds of `[from, to)` during which the way out is up.
    pub fn up_seconds(&self, from: SimTime, to: SimTime) -> f64 {
        let mut up = to.saturating_since(from).as_secs_f64();
        for &(a, b) in &self.0 {
            let (a, b) = (a.max(from), b.min(to));
            if a < b {
                up -= b.saturating_since(a).as_secs_f64();
            }
        }
        up.max(0.0)
    }

    /// The instant by which `work` of up time has passed from `from`: `from + work` without
    /// outages; [`SimTime::MAX`] if an outage that is never repaired comes first.
    pub fn after(&self, from: SimTime, work: SimDuration) -> SimTime {
        let mut t = from;
        let mut left = work;
        for &(a, b) in &self.0 {
            if b <= t {
                continue;
            }
            if a > t {
                let gap = a.saturating_since(t);
                if gap >= left {
                    break;
                }
                left = left.saturating_sub(gap);
            }
            if b == SimTime::MAX {
                return SimTime::MAX;
            }
            t = t.max(b);
        }
        t.checked_add(left).unwrap_or(SimTime::MAX)
    }
}

/// When `site`'s way out is down, from `faults`: its router crashed, or the site isolated.
pub fn outages_of(site: &Site, faults: &[Fault]) -> Outages {
    let at = |d: crate::units::Dur| SimTime::ZERO + d.get();
    Outages::new(
        faults
            .iter()
            .filter_map(|f| match f {
                Fault::Crash { host, at: a, repair } if *host == site.router => {
                    Some((at(*a), repair.map_or(SimTime::MAX, at)))
                }
                Fault::IsolateSite { site: x, at: a, repair } if *x == site.name => {
                    Some((at(*a), repair.map_or(SimTime::MAX, at)))
                }
                _ => None,
            })
            .collect(),
    )
}

/// One download in progress.
#[derive(Debug, Clone, Copy)]
struct Download {
    /// The kubelet that waits for it.
    kubelet: ComponentId,
    /// The pod whose pull it is.
    pod: u32,
    /// Bits still to move.
    remaining: f64,
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
    /// The most one download may take, bits per second (`runtime.download_bandwidth`).
    per_download: f64,
    downloads: Vec<Download>,
    /// When `downloads`' remainders were last brought up to date.
    updated: SimTime,
    /// The scheduled end of the download that ends first, if any.
    due: Option<EventId>,
    /// When the site's way out is down.
    outages: Outages,
    /// Downloads finished.
    pub finished: u64,
    /// The most downloads ever in progress at once.
    pub peak: usize,
}

impl SiteUplink {
    /// An idle uplink of `capacity_bps` whose downloads each take at most `per_download_bps`.
    pub fn new(site: String, capacity_bps: f64, per_download_bps: f64) -> SiteUplink {
        SiteUplink {
            site,
            capacity: capacity_bps,
            per_download: per_download_bps,
            downloads: Vec::new(),
            updated: SimTime::ZERO,
            due: None,
            outages: Outages::default(),
            finished: 0,
            peak: 0,
        }
    }

    /// The same uplink, down during `outages`.
    pub fn with_outages(mut self, outages: Outages) -> SiteUplink {
        self.outages = outages;
        self
    }

    /// The rate of each download in progress now, bits per second.
    pub fn rate(&self) -> f64 {
        match self.downloads.len() {
            0 => self.per_download,
            n => self.per_download.min(self.capacity / n as f64),
        }
    }

    /// Moves every download on by what it transferred since the last update.
    fn advance(&mut self, now: SimTime) {
        let moved = self.rate() * self.outages.up_seconds(self.updated, now);
        for d in &mut self.downloads {
            d.remaining -= moved;
        }
        self.updated = now;
    }

    /// (Re)schedules the end of the download with the least left.
    fn reschedule(&mut self, ctx: &mut Context<'_, Ev>) {
        if let Some(id) = self.due.take() {
            ctx.cancel(id);
        }
        let least = self.downloads.iter().map(|d| d.remaining).fold(f64::INFINITY, f64::min);
        if least.is_finite() {
            let work = SimDuration::from_secs_f64(least.max(0.0) / self.rate());
            let at = self.outages.after(ctx.now(), work);
            if at != SimTime::MAX {
                self.due = Some(ctx.send_at(ctx.me(), at, Ev::Local(Local::UplinkDue)));
            }
        }
    }
}

impl Component<Ev> for SiteUplink {
    fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
        let now = ctx.now();
        match event {
            Ev::DownloadStart { kubelet, pod, bits } => {
                self.advance(now);
                self.downloads.push(Download {
                    kubelet,
                    pod,
                    remaining: bits as f64,
                });
                self.peak = self.peak.max(self.downloads.len());
                self.reschedule(ctx);
            }
            Ev::Local(Local::UplinkDue) => {
                self.due = None;
                self.advance(now);
                // The event was scheduled for the least remainder: it and any within a bit of
                // it end now (so a nanosecond's rounding can never leave a sliver behind).
                let least = self.downloads.iter().map(|d| d.remaining).fold(f64::INFINITY, f64::min);
                let mut k = 0;
                while k < self.downloads.len() {
                    if self.downloads[k].remaining <= least + SAME_END_BITS {
                        let d = self.downloads.remove(k);
                        self.finished += 1;
                        ctx.send(d.kubelet, SimDuration::ZERO, Ev::Local(Local::PullDone(d.pod)));
                    } else {
                        k += 1;
                    }
                }
                self.reschedule(ctx);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::engine::Simulation;

    /// Records when each pod's download ended.
    #[derive(Debug, Default)]
    struct Sink {
        ended: Vec<(u32, f64)>,
    }

    impl Component<Ev> for Sink {
        fn on_event(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
            if let Ev::Local(Local::PullDone(pod)) = event {
                self.ended.push((pod, ctx.now().as_secs_f64()));
            }
        }
    }

    /// Downloads of `bits` starting at the given seconds through an uplink of `capacity` whose
    /// downloads take at most `per`; returns (pod, end) in order of ending.
    fn ends(capacity: f64, per: f64, starts: &[(u32, f64, u64)]) -> Vec<(u32, f64)> {
        ends_with_outages(capacity, per, starts, Vec::new())
    }

    /// [`ends`] through an uplink down during `outages` (seconds; `None`: never repaired).
    fn ends_with_outages(
        capacity: f64,
        per: f64,
        starts: &[(u32, f64, u64)],
        outages: Vec<(f64, Option<f64>)>,
    ) -> Vec<(u32, f64)> {
        let at = |s: f64| SimTime::from_nanos((s * 1e9) as u64);
        let outages = Outages::new(
            outages
                .into_iter()
                .map(|(a, b)| (at(a), b.map_or(SimTime::MAX, at)))
                .collect(),
        );
        let mut sim: Simulation<Ev> = Simulation::new(1);
        let up = sim
            .add_component(
                "uplink",
                SiteUplink::new("s".into(), capacity, per).with_outages(outages),
            )
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
                },
            )
            .unwrap();
        }
        sim.run();
        std::mem::take(&mut sim.component_mut::<Sink>(sink).unwrap().ended)
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
    fn an_outage_pauses_the_downloads_until_the_repair() {
        // 100 Mbit at 20 Mbit/s is 5 s of transfer; down from 2 s to 12 s: ends at 15 s.
        let e = ends_with_outages(1e9, 20e6, &[(0, 0.0, 100_000_000)], vec![(2.0, Some(12.0))]);
        assert!(close(e[0].1, 15.0), "{e:?}");
        // Started during the outage: waits for the repair, then 5 s.
        let e = ends_with_outages(1e9, 20e6, &[(0, 3.0, 100_000_000)], vec![(2.0, Some(12.0))]);
        assert!(close(e[0].1, 17.0), "{e:?}");
        // Two outages in one download: 1 s up, 1 s down, ... 5 s of transfer end at 7 s.
        let e = ends_with_outages(
            1e9,
            20e6,
            &[(0, 0.0, 100_000_000)],
            vec![(1.0, Some(2.0)), (3.0, Some(4.0))],
        );
        assert!(close(e[0].1, 7.0), "{e:?}");
        // Never repaired: never ends.
        let e = ends_with_outages(1e9, 20e6, &[(0, 0.0, 100_000_000)], vec![(1.0, None)]);
        assert!(e.is_empty(), "{e:?}");
    }
}
