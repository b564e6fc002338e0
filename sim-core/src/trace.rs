//! Spans and instants on the simulated clock, written as Chrome trace-event JSON.
//!
//! Off by default. When off, [`Tracer::span`] and [`Tracer::instant`] return after one branch
//! and never run the closure that would build the record, so tracing costs nothing in a run that
//! does not ask for it. When on, each record is appended to a vector; [`Tracer::write_chrome_json`]
//! writes the [Trace Event Format] that Perfetto and `chrome://tracing` open: complete events
//! (`"ph":"X"`) for spans, instant events (`"ph":"i"`), and metadata events naming each process
//! (a host) and thread (a track on that host, such as one pod or one component). Timestamps are
//! simulated microseconds.
//!
//! [Trace Event Format]: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNkn8U

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use crate::time::SimTime;

/// Where a record is drawn: a process (for kubetwin, a host) and a thread within it (a pod, a
/// component, a connection).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Track {
    /// The process row, e.g. `node01`.
    pub process: Cow<'static, str>,
    /// The thread row within the process, e.g. `pod web-7f9c-abcde`.
    pub thread: Cow<'static, str>,
}

impl Track {
    /// A track `thread` within `process`.
    pub fn new(process: impl Into<Cow<'static, str>>, thread: impl Into<Cow<'static, str>>) -> Self {
        Track {
            process: process.into(),
            thread: thread.into(),
        }
    }
}

/// One span (an interval) or instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Where it is drawn.
    pub track: Track,
    /// What it is, e.g. `image pull` or `PATCH pods/status`.
    pub name: Cow<'static, str>,
    /// A category for filtering, e.g. `phase` or `api`.
    pub category: &'static str,
    /// Start (or the instant).
    pub start: SimTime,
    /// End; `None` for an instant.
    pub end: Option<SimTime>,
    /// Extra key/value pairs shown in the viewer.
    pub args: Vec<(&'static str, Value)>,
}

/// Records spans and instants when enabled; see the module documentation.
#[derive(Debug, Default, Clone)]
pub struct Tracer {
    enabled: bool,
    records: Vec<Record>,
}

impl Tracer {
    /// A tracer that records nothing.
    pub fn disabled() -> Self {
        Tracer::default()
    }

    /// A tracer that records.
    pub fn enabled_tracer() -> Self {
        Tracer {
            enabled: true,
            records: Vec::new(),
        }
    }

    /// Whether records are kept.
    #[inline]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Turns recording on or off.
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// Records the span that `make` builds, if tracing is on. O(1) amortised.
    #[inline]
    pub fn span(&mut self, make: impl FnOnce() -> (Track, Cow<'static, str>, &'static str, SimTime, SimTime)) {
        if self.enabled {
            let (track, name, category, start, end) = make();
            self.records.push(Record {
                track,
                name,
                category,
                start,
                end: Some(end),
                args: Vec::new(),
            });
        }
    }

    /// Records the instant that `make` builds, if tracing is on. O(1) amortised.
    #[inline]
    pub fn instant(&mut self, make: impl FnOnce() -> (Track, Cow<'static, str>, &'static str, SimTime)) {
        if self.enabled {
            let (track, name, category, at) = make();
            self.records.push(Record {
                track,
                name,
                category,
                start: at,
                end: None,
                args: Vec::new(),
            });
        }
    }

    /// Records a fully built record (with arguments), if tracing is on.
    #[inline]
    pub fn record(&mut self, make: impl FnOnce() -> Record) {
        if self.enabled {
            self.records.push(make());
        }
    }

    /// The records so far, in the order they were made.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The trace as a Chrome trace-event JSON value.
    pub fn to_chrome_json(&self) -> Value {
        let mut pids: HashMap<&str, u64> = HashMap::new();
        let mut tids: HashMap<(&str, &str), u64> = HashMap::new();
        let mut meta = Vec::new();
        let mut events = Vec::with_capacity(self.records.len());
        for r in &self.records {
            let next_pid = pids.len() as u64 + 1;
            let pid = *pids.entry(&r.track.process).or_insert_with(|| {
                meta.push(json!({"ph": "M", "name": "process_name", "pid": next_pid, "tid": 0,
                    "args": {"name": r.track.process}}));
                next_pid
            });
            let next_tid = tids.len() as u64 + 1;
            let tid = *tids.entry((&r.track.process, &r.track.thread)).or_insert_with(|| {
                meta.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": next_tid,
                    "args": {"name": r.track.thread}}));
                next_tid
            });
            let ts = r.start.as_nanos() as f64 / 1e3;
            let args: serde_json::Map<String, Value> =
                r.args.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
            let ev = match r.end {
                Some(end) => json!({"name": r.name, "cat": r.category, "ph": "X", "ts": ts,
                    "dur": (end.as_nanos().saturating_sub(r.start.as_nanos())) as f64 / 1e3,
                    "pid": pid, "tid": tid, "args": args}),
                None => json!({"name": r.name, "cat": r.category, "ph": "i", "s": "t", "ts": ts,
                    "pid": pid, "tid": tid, "args": args}),
            };
            events.push(ev);
        }
        meta.extend(events);
        json!({"traceEvents": meta, "displayTimeUnit": "ms", "otherData": {"clock": "simulated"}})
    }

    /// Writes the trace as Chrome trace-event JSON.
    ///
    /// # Errors
    ///
    /// Whatever the writer returns.
    pub fn write_chrome_json(&self, mut out: impl Write) -> io::Result<()> {
        serde_json::to_writer(&mut out, &self.to_chrome_json())?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_tracer_never_builds_records() {
        let mut t = Tracer::disabled();
        t.span(|| panic!("must not be called when tracing is off"));
        t.instant(|| panic!("must not be called when tracing is off"));
        assert!(t.records().is_empty());
    }

    #[test]
    fn chrome_json_has_metadata_spans_and_instants() {
        let mut t = Tracer::enabled_tracer();
        t.span(|| {
            (
                Track::new("node01", "pod a"),
                "pull".into(),
                "phase",
                SimTime::from_millis(1),
                SimTime::from_millis(3),
            )
        });
        t.instant(|| {
            (
                Track::new("node01", "pod a"),
                "running".into(),
                "phase",
                SimTime::from_millis(3),
            )
        });
        t.span(|| {
            (
                Track::new("master01", "apiserver"),
                "POST pods".into(),
                "api",
                SimTime::ZERO,
                SimTime::from_nanos(5_000),
            )
        });
        let v = t.to_chrome_json();
        let evs = v["traceEvents"].as_array().unwrap();
        let phases: Vec<&str> = evs.iter().map(|e| e["ph"].as_str().unwrap()).collect();
        assert_eq!(phases, vec!["M", "M", "M", "M", "X", "i", "X"]);
        assert_eq!(evs[4]["ts"], 1000.0);
        assert_eq!(evs[4]["dur"], 2000.0);
        assert_eq!(evs[6]["pid"], 2);
        let mut buf = Vec::new();
        t.write_chrome_json(&mut buf).unwrap();
        let back: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(back, v);
    }
}
