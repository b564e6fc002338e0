//! `kubectl get events -o json`: what the scheduler and the kubelet reported about each pod.
//!
//! Events come in two shapes, both in `shared/data/kubectl-captures/*/events.json`:
//!
//! * new-style (`events.k8s.io`, e.g. the scheduler's `Scheduled`): `eventTime` with microseconds,
//!   `firstTimestamp` and `lastTimestamp` are `null`;
//! * old-style (the kubelet's `Pulling`/`Pulled`/`Created`/`Started`, controllers' `SuccessfulCreate`):
//!   `firstTimestamp`/`lastTimestamp` in whole seconds and `eventTime` `null`, with a `count`.
//!
//! [`Event::first_seen`] and [`Event::last_seen`] pick whichever is there.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::objects::{from_json, ObjectMeta};
use super::{KubectlError, Timestamp};

/// Output of `kubectl get events -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct EventList {
    /// The events, in the order kubectl printed them.
    pub items: Vec<Event>,
}

impl EventList {
    /// Parses the output of `kubectl get events -o json`.
    ///
    /// # Errors
    /// [`KubectlError::Json`] when it is not an event list.
    pub fn from_json(json: &str) -> Result<Self, KubectlError> {
        from_json("get events -o json", json)
    }

    /// The first time each pod-lifecycle reason was seen, per pod name.
    pub fn pod_lifecycles(&self) -> BTreeMap<String, PodLifecycle> {
        let mut out: BTreeMap<String, PodLifecycle> = BTreeMap::new();
        for event in &self.items {
            if event.involved_object.kind != "Pod" {
                continue;
            }
            let (Some(reason), Some(at)) = (PodEventReason::from_reason(&event.reason), event.first_seen()) else {
                continue;
            };
            let entry = out.entry(event.involved_object.name.clone()).or_default();
            let slot = entry.slot(reason);
            *slot = Some(slot.map_or(at, |t| t.min(at)));
        }
        out
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Event {
    /// `metadata`; its `creation_timestamp` is a last resort for when the event happened.
    pub metadata: ObjectMeta,
    /// Short machine-readable reason, e.g. `Scheduled`, `Pulling`, `Started`.
    pub reason: String,
    /// Human-readable text.
    pub message: String,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The object the event is about.
    pub involved_object: ObjectReference,
    /// New-style time with microseconds (`events.k8s.io`).
    pub event_time: Option<Timestamp>,
    /// Old-style first occurrence (whole seconds).
    pub first_timestamp: Option<Timestamp>,
    /// Old-style last occurrence (whole seconds).
    pub last_timestamp: Option<Timestamp>,
    /// How often it happened (old-style).
    pub count: Option<u32>,
}

impl Event {
    /// When it first happened: `eventTime`, else `firstTimestamp`, else `lastTimestamp`, else the
    /// event object's `creationTimestamp`.
    pub fn first_seen(&self) -> Option<Timestamp> {
        self.event_time
            .or(self.first_timestamp)
            .or(self.last_timestamp)
            .or(self.metadata.creation_timestamp)
    }

    /// When it last happened: `lastTimestamp`, else `eventTime`, else `firstTimestamp`, else `creationTimestamp`.
    pub fn last_seen(&self) -> Option<Timestamp> {
        self.last_timestamp
            .or(self.event_time)
            .or(self.first_timestamp)
            .or(self.metadata.creation_timestamp)
    }
}

/// `involvedObject` of an event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct ObjectReference {
    /// Kind, e.g. `Pod`, `ReplicaSet`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: Option<String>,
    /// UID.
    pub uid: Option<String>,
}

/// The event reasons along a pod's start-up, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodEventReason {
    /// The scheduler bound the pod to a node.
    Scheduled,
    /// The kubelet started pulling an image.
    Pulling,
    /// The image is there.
    Pulled,
    /// The container was created.
    Created,
    /// The container was started.
    Started,
}

impl PodEventReason {
    /// The reason with this `reason` string, if it is one of the five.
    pub fn from_reason(reason: &str) -> Option<Self> {
        Some(match reason {
            "Scheduled" => PodEventReason::Scheduled,
            "Pulling" => PodEventReason::Pulling,
            "Pulled" => PodEventReason::Pulled,
            "Created" => PodEventReason::Created,
            "Started" => PodEventReason::Started,
            _ => return None,
        })
    }
}

/// When each start-up event was first seen for one pod; `None` where there was no such event (kwok's fake
/// kubelet, for instance, only reports `Created`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PodLifecycle {
    /// First `Scheduled`.
    pub scheduled: Option<Timestamp>,
    /// First `Pulling`.
    pub pulling: Option<Timestamp>,
    /// First `Pulled`.
    pub pulled: Option<Timestamp>,
    /// First `Created`.
    pub created: Option<Timestamp>,
    /// First `Started`.
    pub started: Option<Timestamp>,
}

impl PodLifecycle {
    /// The time recorded for `reason`.
    pub fn get(&self, reason: PodEventReason) -> Option<Timestamp> {
        match reason {
            PodEventReason::Scheduled => self.scheduled,
            PodEventReason::Pulling => self.pulling,
            PodEventReason::Pulled => self.pulled,
            PodEventReason::Created => self.created,
            PodEventReason::Started => self.started,
        }
    }

    fn slot(&mut self, reason: PodEventReason) -> &mut Option<Timestamp> {
        match reason {
            PodEventReason::Scheduled => &mut self.scheduled,
            PodEventReason::Pulling => &mut self.pulling,
            PodEventReason::Pulled => &mut self.pulled,
            PodEventReason::Created => &mut self.created,
            PodEventReason::Started => &mut self.started,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_occurrence_wins_and_other_kinds_are_ignored() {
        let json = r#"{"items":[
            {"reason":"Pulling","involvedObject":{"kind":"Pod","name":"p"},"firstTimestamp":"2026-11-25T12:00:09Z"},
            {"reason":"Pulling","involvedObject":{"kind":"Pod","name":"p"},"firstTimestamp":"2026-11-25T12:00:03Z"},
            {"reason":"Started","involvedObject":{"kind":"Pod","name":"p"},"eventTime":"2026-11-25T12:00:10.25Z"},
            {"reason":"Started","involvedObject":{"kind":"Node","name":"n"},"firstTimestamp":"2026-11-25T12:00:00Z"},
            {"reason":"Killing","involvedObject":{"kind":"Pod","name":"p"},"firstTimestamp":"2026-11-25T12:00:00Z"}
        ]}"#;
        let lifecycles = EventList::from_json(json).unwrap().pod_lifecycles();
        assert_eq!(lifecycles.len(), 1);
        let p = lifecycles["p"];
        assert_eq!(p.pulling.unwrap().to_string(), "2026-11-25T12:00:03Z");
        assert_eq!(
            p.get(PodEventReason::Started).unwrap().to_string(),
            "2026-11-25T12:00:10.25Z"
        );
        assert_eq!(p.scheduled, None);
    }
}
