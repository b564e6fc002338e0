//! What is started (the Deployment) and how its start-up is observed.

use serde::{Deserialize, Serialize};

use crate::units::Dur;

/// What is started and how it is watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    /// Image, for reports (`nginx`).
    pub image: String,
    /// Pods after `kubectl scale`. A scenario choice (`--pods` sets it); default 4, the thesis's
    /// smallest cell.
    pub replicas: u32,
    /// Host where the operator runs kubectl (the observer); the first `haproxy.backends` entry
    /// if empty.
    pub kubectl_host: Option<String>,
    /// Time between the `create deployment` reply and the start of `kubectl scale`'s
    /// connection (a new kubectl process, [`crate::observer`]). Assumed 0.3 s: a cached `kubectl
    /// get` takes 0.04 s on a local cluster (kubernetes issue #73570), so most of this is the
    /// operator or script starting the next command; not identifiable from whole-second data.
    pub scale_gap: Dur,
    /// Resolution of the observation: `kubectl get -w` timestamps read in whole seconds.
    pub resolution: Dur,
    /// Give up after this much simulated time. A run-control limit, not part of the model:
    /// default 1 h, far past the few minutes the shipped scenarios take, so only a run that
    /// cannot finish (a fault that stops the rollout) meets it.
    pub timeout: Dur,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            image: "nginx".into(),
            replicas: 4,
            kubectl_host: None,
            scale_gap: Dur::millis(300),
            resolution: Dur::secs(1),
            timeout: Dur::secs(3600),
        }
    }
}
