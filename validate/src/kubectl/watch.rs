//! The JSON streams of `kubectl get pods -w -o json` and `kubectl get pods -w --output-watch-events -o json`.
//!
//! Both are a concatenation of JSON objects with no separator other than whitespace, as in
//! `shared/data/kubectl-captures/watch-20-pods/watch-json.txt` (one pretty-printed pod per change) and
//! `watch-events-json.txt` (one `{"type": "ADDED"|"MODIFIED"|"DELETED", "object": {…pod…}}` per line).
//! Both are read incrementally with [`serde_json::StreamDeserializer`], so a live `kubectl` pipe can be fed
//! in as it prints.

use std::io::Read;

use serde::Deserialize;

use super::{KubectlError, Pod};

/// One entry of the `--output-watch-events` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The pod appeared (or was there when the watch started).
    Added(Pod),
    /// The pod changed.
    Modified(Pod),
    /// The pod is gone.
    Deleted(Pod),
    /// A progress marker without a pod (`BOOKMARK`).
    Bookmark,
    /// The server ended the watch with an error (`ERROR`, e.g. `410 Gone` for an expired resource
    /// version); the message is the `Status` object's.
    Error(String),
}

impl WatchEvent {
    /// The pod, for `Added`, `Modified` and `Deleted`.
    pub fn pod(&self) -> Option<&Pod> {
        match self {
            WatchEvent::Added(p) | WatchEvent::Modified(p) | WatchEvent::Deleted(p) => Some(p),
            WatchEvent::Bookmark | WatchEvent::Error(_) => None,
        }
    }
}

#[derive(Deserialize)]
struct RawWatchEvent {
    #[serde(rename = "type")]
    type_: String,
    #[serde(default)]
    object: serde_json::Value,
}

const PODS_WHAT: &str = "get pods -w -o json";
const EVENTS_WHAT: &str = "get pods -w --output-watch-events -o json";

fn json_error(what: &str, source: serde_json::Error) -> KubectlError {
    KubectlError::Json {
        what: what.to_string(),
        source,
    }
}

/// Reads the stream of `kubectl get pods -w -o json`: one pod object per change.
///
/// The iterator yields an error and then stops at the first object that does not parse (a truncated
/// stream ends with an EOF error).
pub fn pod_watch_stream<R: Read>(reader: R) -> impl Iterator<Item = Result<Pod, KubectlError>> {
    let mut failed = false;
    serde_json::Deserializer::from_reader(reader)
        .into_iter::<Pod>()
        .map_while(move |item| {
            if failed {
                return None;
            }
            failed = item.is_err();
            Some(item.map_err(|e| json_error(PODS_WHAT, e)))
        })
}

/// Reads the stream of `kubectl get pods -w --output-watch-events -o json`.
///
/// The iterator yields an error and then stops at the first entry that does not parse.
pub fn watch_event_stream<R: Read>(reader: R) -> impl Iterator<Item = Result<WatchEvent, KubectlError>> {
    let mut failed = false;
    serde_json::Deserializer::from_reader(reader)
        .into_iter::<RawWatchEvent>()
        .map_while(move |item| {
            if failed {
                return None;
            }
            let event = item.map_err(|e| json_error(EVENTS_WHAT, e)).and_then(convert);
            failed = event.is_err();
            Some(event)
        })
}

fn convert(raw: RawWatchEvent) -> Result<WatchEvent, KubectlError> {
    let pod = |value: serde_json::Value| serde_json::from_value::<Pod>(value).map_err(|e| json_error(EVENTS_WHAT, e));
    Ok(match raw.type_.as_str() {
        "ADDED" => WatchEvent::Added(pod(raw.object)?),
        "MODIFIED" => WatchEvent::Modified(pod(raw.object)?),
        "DELETED" => WatchEvent::Deleted(pod(raw.object)?),
        "BOOKMARK" => WatchEvent::Bookmark,
        "ERROR" => WatchEvent::Error(
            raw.object
                .get("message")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("unknown watch error")
                .to_string(),
        ),
        other => {
            return Err(json_error(
                EVENTS_WHAT,
                serde::de::Error::custom(format!("unknown watch event type {other:?}")),
            ))
        }
    })
}

/// Reads a whole `kubectl get pods -w -o json` capture.
///
/// # Errors
/// The first [`KubectlError::Json`].
pub fn parse_pod_watch(text: &str) -> Result<Vec<Pod>, KubectlError> {
    pod_watch_stream(text.as_bytes()).collect()
}

/// Reads a whole `kubectl get pods -w --output-watch-events -o json` capture.
///
/// # Errors
/// The first [`KubectlError::Json`].
pub fn parse_watch_events(text: &str) -> Result<Vec<WatchEvent>, KubectlError> {
    watch_event_stream(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bookmark_and_garbage() {
        let text = r#"{"type":"BOOKMARK","object":{}} {"type":"ERROR","object":{"kind":"Status","message":"too old resource version"}}"#;
        let events = parse_watch_events(text).unwrap();
        assert_eq!(
            events,
            [
                WatchEvent::Bookmark,
                WatchEvent::Error("too old resource version".into())
            ]
        );
        assert!(parse_watch_events(r#"{"type":"RENAMED","object":{}}"#).is_err());
        let mut stream = pod_watch_stream(r#"{"metadata":{"name":"a"}} {"metadata": [1] } {}"#.as_bytes());
        assert_eq!(stream.next().unwrap().unwrap().name(), "a");
        assert!(stream.next().unwrap().is_err());
        assert!(stream.next().is_none(), "stops after the first error");
        assert!(parse_pod_watch(r#"{"metadata":{"name":"a"}} {"metad"#).is_err());
    }
}
