//! # kubetwin models: the testbed's parts as simulation components
//!
//! One module per mechanism; each says which Kubernetes v1.16 (or OpenVPN, HAProxy, etcd,
//! Docker) behaviour it follows and where every default comes from. `docs/model.md` walks
//! through the whole chain from `kubectl scale` to a pod seen Running.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_code)]

pub mod api;
pub mod client;
pub mod cluster;
pub mod control_plane;
pub mod controllers;
pub mod cut_off;
pub mod draws;
pub mod etcd;
pub mod failover;
mod fault_toml;
pub mod faults;
pub mod haproxy;
pub mod image_backoff;
pub mod kubelet;
pub mod liveness;
pub mod network;
pub mod node_lifecycle;
pub mod observer;
pub mod pull_outages;
pub mod raft;
pub mod registry;
pub mod scheduler;
pub mod spec;
pub mod status_manager;
pub mod units;
pub mod uplink;
pub mod volume_manager;
pub mod vpn;
