//! The scenario: everything a run needs, as plain data (loaded from TOML by `topologies`).
//!
//! Every default names its source: a Kubernetes v1.16 flag default (see `docs/sources.md` for
//! the file in the Kubernetes tree), another software's documentation, a measurement of the
//! testbed, or "calibrated" (a parameter no source gives, which `kubetwin calibrate` fits within
//! the stated range).

use serde::{Deserialize, Serialize};

mod fault;
mod kubernetes;
mod netem;
mod runtime;
mod topology;
mod workload;

pub use fault::Fault;
pub use kubernetes::{
    Apiserver, ControllerManager, Etcd, Kubelet, Kubernetes, Node, Scheduler, CLIENT_GO_DEFAULT_BURST,
    CLIENT_GO_DEFAULT_QPS,
};
pub use netem::{Netem, NetemPlacement};
pub use runtime::{PullPolicy, Runtime};
pub use topology::{Haproxy, Host, Link, LinkKind, Role, Site, Vpn, VpnTopology};
pub use workload::Workload;

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name shown in reports.
    pub name: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Network segments (universities, or VLANs of one testbed).
    pub sites: Vec<Site>,
    /// Machines.
    pub hosts: Vec<Host>,
    /// Physical or virtual links between hosts and routers.
    pub links: Vec<Link>,
    /// The OpenVPN site-to-site overlay.
    #[serde(default)]
    pub vpn: Vpn,
    /// The load balancer in front of the apiservers.
    pub haproxy: Haproxy,
    /// Kubernetes component settings.
    #[serde(default)]
    pub kubernetes: Kubernetes,
    /// Container runtime, registry and image.
    #[serde(default)]
    pub runtime: Runtime,
    /// What is started and how it is observed.
    #[serde(default)]
    pub workload: Workload,
    /// Delay injected with `tc netem`.
    #[serde(default)]
    pub netem: Netem,
    /// Faults injected during the run, turmoil-style: something fails at `at` and, optionally,
    /// is repaired at `repair`.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

impl Scenario {
    /// The host the observing kubectl runs on: `workload.kubectl_host`, or the first
    /// `haproxy.backends` entry when it names none (`None` if neither is given).
    pub fn kubectl_host(&self) -> Option<&str> {
        self.workload
            .kubectl_host
            .as_deref()
            .or(self.haproxy.backends.first().map(String::as_str))
    }
}
