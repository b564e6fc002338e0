//! Per-pod start-up times from the pods and events kubectl returned.

use crate::kubectl::{EventList, Pod, PodConditionType, PodList, Timestamp};

use super::TimingError;

/// Start-up times of one pod, in seconds since the deployment was created (see [`crate::dataset`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PodTiming {
    /// Pod name.
    pub pod: String,
    /// Node it runs on.
    pub node: String,
    /// `metadata.creationTimestamp`.
    pub created_s: f64,
    /// `PodScheduled` condition, else the `Scheduled` event.
    pub scheduled_s: f64,
    /// `Initialized` condition, else `status.startTime`, else the first `Pulling` event.
    pub started_s: f64,
    /// Latest container `state.running.startedAt`, else the first `Started` event.
    pub running_s: f64,
}

/// Times every running pod of `pods` relative to `deployment_created`, sorted by pod name.
///
/// Pods being deleted are skipped. Conditions and container states come first, events second (see the
/// table in [`crate::dataset`]).
///
/// # Errors
/// [`TimingError`] for the first pod that is not running or lacks a node or a time.
pub fn pod_timings(
    deployment_created: Timestamp,
    pods: &PodList,
    events: &EventList,
) -> Result<Vec<PodTiming>, TimingError> {
    let lifecycles = events.pod_lifecycles();
    let mut out = Vec::new();
    for pod in pods.items.iter().filter(|p| !p.is_terminating()) {
        let missing = |missing| TimingError {
            object: format!("pod {}", pod.name()),
            missing,
        };
        let life = lifecycles.get(pod.name()).copied().unwrap_or_default();
        let since = |t: Timestamp| t.seconds_since(deployment_created);
        let node = pod
            .node()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing("node (spec.nodeName)"))?;
        let created = pod
            .metadata
            .creation_timestamp
            .ok_or_else(|| missing("metadata.creationTimestamp"))?;
        let scheduled = pod
            .condition_true_since(PodConditionType::PodScheduled)
            .or(life.scheduled)
            .ok_or_else(|| missing("PodScheduled condition or Scheduled event"))?;
        let started = pod
            .condition_true_since(PodConditionType::Initialized)
            .or(pod.status.start_time)
            .or(life.pulling)
            .ok_or_else(|| missing("Initialized condition, status.startTime or Pulling event"))?;
        let running = running_since(pod)
            .or(life.started)
            .ok_or_else(|| missing("running container (state.running.startedAt) or Started event"))?;
        out.push(PodTiming {
            pod: pod.name().to_string(),
            node: node.to_string(),
            created_s: since(created),
            scheduled_s: since(scheduled),
            started_s: since(started),
            running_s: since(running),
        });
    }
    out.sort_by(|a, b| a.pod.cmp(&b.pod));
    Ok(out)
}

fn running_since(pod: &Pod) -> Option<Timestamp> {
    if pod.is_running() {
        pod.all_containers_running_since()
    } else {
        None
    }
}
