//! The faults a scenario injects, turmoil-style: what fails, when, and when it is repaired.

use serde::{Deserialize, Serialize};

use crate::units::Dur;

/// One fault: what fails, when, and when (if ever) it is repaired. The verbs follow turmoil's:
/// a host *crashes*, a tunnel is *partitioned*, a site is *isolated*; each may be repaired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    rename_all = "kebab-case",
    tag = "kind",
    deny_unknown_fields,
    try_from = "crate::fault_toml::FaultRecord"
)]
pub enum Fault {
    /// A host stops: the load balancer (no request reaches any apiserver), a master (its
    /// apiserver and etcd member), or a router (its site is cut off).
    Crash {
        /// The host's name.
        host: String,
        /// When, from the start of the run (the `kubectl create`).
        at: Dur,
        /// When it is back; never if absent.
        #[serde(default)]
        repair: Option<Dur>,
    },
    /// The etcd member that leads raft stops; its apiserver stays up but cannot serve.
    CrashEtcdLeader {
        /// When.
        at: Dur,
        /// When it is back.
        #[serde(default)]
        repair: Option<Dur>,
    },
    /// The OpenVPN tunnel between two sites stops carrying packets.
    Partition {
        /// One site.
        a: String,
        /// The other site.
        b: String,
        /// When.
        at: Dur,
        /// When it carries packets again.
        #[serde(default)]
        repair: Option<Dur>,
    },
    /// The tunnel between two sites gets worse: extra delay, jitter and loss, as `tc netem`
    /// would add them, while the fault lasts.
    Degrade {
        /// One site.
        a: String,
        /// The other site.
        b: String,
        /// Extra one-way delay (both directions).
        #[serde(default)]
        delay: Dur,
        /// Extra jitter (standard deviation, normal).
        #[serde(default)]
        jitter: Dur,
        /// Extra loss in percent.
        #[serde(default)]
        loss_pct: f64,
        /// When.
        at: Dur,
        /// When it is back to normal.
        #[serde(default)]
        repair: Option<Dur>,
    },
    /// A site's uplink fails: every tunnel to it stops.
    IsolateSite {
        /// The site.
        site: String,
        /// When.
        at: Dur,
        /// When it is back.
        #[serde(default)]
        repair: Option<Dur>,
    },
}

impl Fault {
    /// When the fault starts.
    pub fn at(&self) -> Dur {
        match self {
            Fault::Crash { at, .. }
            | Fault::CrashEtcdLeader { at, .. }
            | Fault::Partition { at, .. }
            | Fault::Degrade { at, .. }
            | Fault::IsolateSite { at, .. } => *at,
        }
    }

    /// When it is repaired, if ever.
    pub fn repair(&self) -> Option<Dur> {
        match self {
            Fault::Crash { repair, .. }
            | Fault::CrashEtcdLeader { repair, .. }
            | Fault::Partition { repair, .. }
            | Fault::Degrade { repair, .. }
            | Fault::IsolateSite { repair, .. } => *repair,
        }
    }

    /// The fault's window on the simulated clock: `[at, repair)`, open-ended if never repaired.
    pub fn window(&self) -> (sim_core::SimTime, sim_core::SimTime) {
        let start = sim_core::SimTime::ZERO + self.at().get();
        let end = self
            .repair()
            .map_or(sim_core::SimTime::MAX, |r| sim_core::SimTime::ZERO + r.get());
        (start, end)
    }
}
