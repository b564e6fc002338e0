//! The container runtime (Docker 18.09 through dockershim), the registry and the image.

use serde::{Deserialize, Serialize};

use crate::units::{Bandwidth, Dur};

/// Docker, the registry and the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Runtime {
    /// Docker operations (sandbox, create, start) that run at once on a node. dockerd itself runs
    /// them all at once; they share the node's CPUs, which the model approximates as this many
    /// parallel slots, one per vCPU. Assumed 2, like [`Node::cpu_millis`](super::Node::cpu_millis): the thesis does not
    /// give the worker VMs' size.
    pub slots: u32,
    /// Creating the pod sandbox: pause container and CNI (Weave) set-up. Calibratable
    /// (`calibrate --free`, range 0.2 s .. 5 s). Default 1.5 s, **assumed**: no measurement of
    /// the testbed gives it, and the thesis cells cannot identify it (freed, the fit trades it
    /// against the download rate and picks an implausible 0.31 s; `docs/validation.md`, whose
    /// sensitivity table moves every prediction by at most 0.4 s between 0.8 s and 3 s). The
    /// published figures for kubelet's `run_podsandbox` come from other clusters: 2.6 s mean
    /// (kwok issue #199) and 4.8 s under a density test's load (kubernetes issue #66672).
    pub sandbox_time: Dur,
    /// Creating and starting the nginx container. Calibratable (`calibrate --free`, range
    /// 0.2 s .. 5 s); the shipped calibration leaves it at its default, 1.0 s: kubelet's
    /// `create_container` p50 0.36 s (kubernetes issue #22585) and `start_container` mean 0.47 s
    /// (v1.13, kubelet-exporter issue #5), 0.8 s together, rounded up for a shared ESXi host.
    pub container_start_time: Dur,
    /// Size of the image's layers to download on a node's first pull. nginx:latest (Debian
    /// based, 2019) is about 51 MB compressed on Docker Hub.
    pub image_bytes: u64,
    /// Download throughput from the registry on a first pull. Calibrated (range 1 .. 1000
    /// Mbit): `thesis-2019` runs with the fitted value of `topologies/params/thesis-2019.toml`.
    /// This default, 20 Mbit/s, is no measurement: it is what a scenario without a parameter
    /// file runs with, and where `calibrate` starts its search.
    pub download_bandwidth: Bandwidth,
    /// TCP connections a first pull downloads over at once: Docker 18.09 fetches up to
    /// `--max-concurrent-downloads` layers at once (dockerd default 3), one connection each, and
    /// nginx:1.17 (2019) has two large layers (the debian:buster-slim base and the nginx
    /// install) and a small one, so 2. On a lossy route to a registry on the overlay each
    /// connection moves at most what TCP moves at that loss and round trip
    /// ([`crate::registry::tcp_rate_under_loss`]).
    pub layer_connections: u32,
    /// Registry round trips per pull when the image is cached: Docker 18.09 opens a new TCP+TLS
    /// connection per request (keep-alive off for registry traffic) and makes 4 requests (ping,
    /// token, manifest HEAD/GET): 4 x (1 TCP + 2 TLS 1.2 + 1 request) = 16 (docs/sources.md §10).
    pub registry_round_trips: u32,
    /// Registry RTT for sites that do not set their own. Calibrated (range 5 ms .. 300 ms):
    /// `thesis-2019` runs with the fitted value of `topologies/params/thesis-2019.toml`. This
    /// default, 100 ms, is no measurement: it is what a scenario without a parameter file runs
    /// with, and where `calibrate` starts its search.
    pub registry_rtt: Dur,
    /// A host of the scenario that serves the image: a private registry or a pull-through
    /// mirror on the overlay (`docker run registry:2`), reached through the simulated network.
    /// Each node's registry RTT is then its route's round trip, netem included, instead of
    /// `registry_rtt`; its download rate is held to the route's bottleneck; the registry
    /// site's `uplink`, if declared, is shared by the downloads of every node outside that
    /// site; and a pull meets the faults on its route ([`crate::pull_outages::overlay`]).
    /// Unset or `""` (the default): Docker Hub, over each site's own internet uplink (`""` lets
    /// a sweep compare the two: `--set 'runtime.registry_host="",master01'`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "empty_is_none")]
    pub registry_host: Option<String>,
    /// `imagePullPolicy`: `Always` for a `latest` tag (the apiserver's defaulting).
    pub pull_policy: PullPolicy,
    /// The image is already in every worker's image store when a run starts (pre-pulled, or
    /// left by an earlier run: kubelet image GC only removes images above
    /// `--image-gc-high-threshold`, 85 % disk, so a repeated experiment finds it there unless
    /// the operator removed it). Default false, a fresh node whose first pull downloads the
    /// layers: the thesis does not say, and its 4-pod start-up needs a download per node in
    /// every run (`docs/validation.md`, "The data").
    pub image_cached: bool,
}

/// An optional name where `""` also means none.
fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name: Option<String> = Option::deserialize(d)?;
    Ok(name.filter(|n| !n.is_empty()))
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            slots: 2,
            sandbox_time: Dur::millis(1500),
            container_start_time: Dur::millis(1000),
            image_bytes: 51_000_000,
            download_bandwidth: Bandwidth { bits_per_s: 20e6 },
            layer_connections: 2,
            registry_round_trips: 16,
            registry_rtt: Dur::millis(100),
            registry_host: None,
            pull_policy: PullPolicy::Always,
            image_cached: false,
        }
    }
}

/// When the kubelet asks the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum PullPolicy {
    /// Every pod start contacts the registry.
    Always,
    /// Only when the image is absent.
    IfNotPresent,
}
