//! Data-set files: the thesis summary, atomic writes, raw rows measured from the captures.

use validate::atomic_file::write_atomic;
use validate::dataset::{
    read_cells, read_raw, summarize, write_cells, write_raw, DatasetError, MeasuredCell, Observed, RawPodRow,
};
use validate::kubectl::{Deployment, EventList, PodList};
use validate::measure::pod_timings;

use crate::support::{capture, thesis_dir, TempDir};

#[test]
fn reads_the_thesis_calibration_file() {
    let cells = read_cells(thesis_dir().join("pod-startup-calibration.csv")).unwrap();
    let expected = [(4, 100, 24.9), (4, 500, 25.5), (100, 100, 125.4), (100, 500, 141.0)];
    assert_eq!(cells.len(), expected.len());
    for (cell, (pods, delay_ms, mean_s)) in cells.iter().zip(expected) {
        assert_eq!(
            *cell,
            MeasuredCell {
                pods,
                delay_ms,
                mean_s,
                runs: 5,
                resolution_s: 1.0,
                observed: Observed::KubectlWatch,
            }
        );
    }
}

#[test]
fn errors_count_the_comment_lines_of_the_file() {
    let dir = TempDir::new("lines");
    let path = dir.path().join("bad.csv");
    let thesis = std::fs::read_to_string(thesis_dir().join("pod-startup-calibration.csv")).unwrap();
    std::fs::write(&path, thesis.replace("100,500,141.0", "100,500,fast")).unwrap();
    let err = read_cells(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:7: column `mean_s`: mean_s must be a start-up time in seconds, at least 0.001 (errors are relative to it) and at most 2592000 (30 days), got fast",
            path.display()
        )
    );
    let missing = read_cells(dir.path().join("nope.csv")).unwrap_err();
    assert!(matches!(missing, DatasetError::Io { .. }), "{missing}");
}

/// A line of spaces or tabs only is blank, as an empty line is, wherever it stands; the line
/// numbers of the errors after it stay right.
#[test]
fn a_whitespace_only_line_is_blank() {
    let dir = TempDir::new("blank");
    let thesis = std::fs::read_to_string(thesis_dir().join("pod-startup-calibration.csv")).unwrap();
    let path = dir.path().join("spaces.csv");
    std::fs::write(&path, format!("{thesis}   \n\t\n")).unwrap();
    assert_eq!(read_cells(&path).unwrap().len(), 4);
    let bad = thesis.replacen("4,100,24.9", "  \n4,100,fast", 1);
    std::fs::write(&path, &bad).unwrap();
    let line = bad.lines().position(|l| l.starts_with("4,100,fast")).unwrap() + 1;
    let err = read_cells(&path).unwrap_err().to_string();
    assert!(err.contains(&format!("spaces.csv:{line}: column `mean_s`")), "{err}");
}

/// Two files joined with `cat`, and a file of the other format, are named for what they are.
#[test]
fn a_repeated_header_and_the_other_format_are_named() {
    let dir = TempDir::new("formats");
    let thesis = std::fs::read_to_string(thesis_dir().join("pod-startup-calibration.csv")).unwrap();
    let joined = dir.path().join("joined.csv");
    std::fs::write(&joined, format!("{thesis}{thesis}")).unwrap();
    let err = read_cells(&joined).unwrap_err().to_string();
    assert!(err.contains("got the column's own name: a header line again"), "{err}");

    let row = RawPodRow {
        run: 1,
        pod: "web-1".into(),
        node: "node01".into(),
        delay_ms: 0,
        pods: 1,
        created_s: 0.0,
        scheduled_s: 0.0,
        started_s: 2.0,
        running_s: 3.0,
        watch_running_s: None,
    };
    let raw = dir.path().join("raw.csv");
    write_raw(&raw, &[row], &[]).unwrap();
    let err = read_cells(&raw).unwrap_err().to_string();
    assert!(err.contains("this header is the raw per-pod format's"), "{err}");
    let cells = dir.path().join("cells.csv");
    std::fs::copy(thesis_dir().join("pod-startup-calibration.csv"), &cells).unwrap();
    let err = read_raw(&cells).unwrap_err().to_string();
    assert!(err.contains("this header is the per-cell summary's"), "{err}");
}

#[test]
fn writes_are_atomic_and_leave_no_temporary_files() {
    let dir = TempDir::new("atomic");
    let path = dir.path().join("cells.csv");
    let cells = [MeasuredCell {
        pods: 4,
        delay_ms: 100,
        mean_s: 24.9,
        runs: 5,
        resolution_s: 1.0,
        observed: Observed::KubectlWatch,
    }];
    write_cells(&path, &cells, &["first"]).unwrap();
    // No cells would not read back: refused, and the old file stays.
    let err = write_cells(&path, &cells[..0], &["second, empty"]).unwrap_err();
    assert!(matches!(err, DatasetError::NoRows { .. }), "{err}");
    assert_eq!(read_cells(&path).unwrap(), cells);
    write_cells(&path, &cells, &[]).unwrap();
    assert_eq!(read_cells(&path).unwrap(), cells);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["cells.csv"]);
    // A bad cell writes nothing and keeps the old file.
    let bad = [MeasuredCell { pods: 0, ..cells[0] }];
    let err = write_cells(&path, &bad, &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("pods must be a whole number in 1..=1000000, got 0"),
        "{err}"
    );
    assert_eq!(read_cells(&path).unwrap(), cells);
    // An unwritable target fails without creating anything.
    let err = write_atomic(dir.path().join("no/such/dir/x.csv"), b"x").unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }), "{err}");
}

#[test]
fn raw_rows_from_the_namespace_run_capture_round_trip_and_summarize() {
    let t0 = Deployment::from_json(&capture("namespace-run/deployment.json"))
        .unwrap()
        .metadata
        .creation_timestamp;
    let pods = PodList::from_json(&capture("namespace-run/pods.json")).unwrap();
    let events = EventList::from_json(&capture("namespace-run/events.json")).unwrap();
    let timings = pod_timings(t0.unwrap(), &pods, &events).unwrap();
    let rows: Vec<RawPodRow> = timings
        .into_iter()
        .map(|t| RawPodRow {
            run: 1,
            pod: t.pod,
            node: t.node,
            delay_ms: 0,
            pods: 20,
            created_s: t.created_s,
            scheduled_s: t.scheduled_s,
            started_s: t.started_s,
            running_s: t.running_s,
            watch_running_s: None,
        })
        .collect();
    let dir = TempDir::new("raw");
    let path = dir.path().join("raw.csv");
    write_raw(&path, &rows, &["namespace-run capture"]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(
        "# namespace-run capture\nrun,pod,node,delay_ms,pods,created_s,scheduled_s,started_s,running_s\n\
         1,web-64c966cf88-26sws,kwok-node-0,0,20,0,0,2,7\n"
    ));
    assert_eq!(read_raw(&path).unwrap(), rows);
    let cells = summarize(&rows).unwrap();
    assert_eq!(
        cells,
        [MeasuredCell {
            pods: 20,
            delay_ms: 0,
            mean_s: 8.0,
            runs: 1,
            resolution_s: 1.0,
            observed: Observed::ContainerStart,
        }]
    );
}

/// The raw files' order check (a pod's containers running after its kubelet took it) and
/// one-row-per-pod check refuse none of the real captures: both, timed as `measure` times them,
/// write and read back unchanged. (They are timed with their events and without; both captures'
/// pods carry every condition and container start, which take precedence, so the events'
/// fallbacks are not exercised here.)
#[test]
fn no_captured_pod_is_refused_by_the_raw_files_checks() {
    let namespace_run = (
        Deployment::from_json(&capture("namespace-run/deployment.json"))
            .unwrap()
            .metadata
            .creation_timestamp
            .unwrap(),
        PodList::from_json(&capture("namespace-run/pods.json")).unwrap(),
        EventList::from_json(&capture("namespace-run/events.json")).unwrap(),
    );
    let watch_pods = PodList::from_json(&capture("watch-20-pods/pods-final.json")).unwrap();
    let watch_t0 = watch_pods
        .items
        .iter()
        .filter_map(|p| p.metadata.creation_timestamp)
        .min()
        .unwrap();
    let watch = (
        watch_t0,
        watch_pods,
        EventList::from_json(&capture("watch-20-pods/events.json")).unwrap(),
    );
    let dir = TempDir::new("captured-order");
    for (name, (t0, pods, events)) in [("namespace-run", namespace_run), ("watch-20-pods", watch)] {
        for events in [events, EventList::default()] {
            let rows: Vec<RawPodRow> = pod_timings(t0, &pods, &events)
                .unwrap()
                .into_iter()
                .map(|t| RawPodRow {
                    run: 1,
                    pod: t.pod,
                    node: t.node,
                    delay_ms: 0,
                    pods: 20,
                    created_s: t.created_s,
                    scheduled_s: t.scheduled_s,
                    started_s: t.started_s,
                    running_s: t.running_s,
                    watch_running_s: None,
                })
                .collect();
            assert_eq!(rows.len(), 20, "{name}");
            let path = dir.path().join(format!("{name}.pods.csv"));
            write_raw(&path, &rows, &[name]).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(read_raw(&path).unwrap(), rows, "{name}");
        }
    }
}

/// The optional `observed` column: absent means a kubectl watch (the thesis file); a summary of
/// raw rows says `container-start` and reads back the same; anything else names file, line and
/// column.
#[test]
fn the_observed_column_is_optional_and_checked() {
    let dir = TempDir::new("observed");
    let path = dir.path().join("cells.csv");
    let cell = MeasuredCell {
        pods: 20,
        delay_ms: 100,
        mean_s: 8.0,
        runs: 2,
        resolution_s: 1.0,
        observed: Observed::ContainerStart,
    };
    write_cells(&path, &[cell], &[]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("pods,delay_ms,mean_s,runs,resolution_s,observed\n"),
        "{text}"
    );
    assert_eq!(read_cells(&path).unwrap(), [cell]);
    let watch = MeasuredCell {
        observed: Observed::KubectlWatch,
        ..cell
    };
    write_cells(&path, &[watch], &[]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("pods,delay_ms,mean_s,runs,resolution_s\n"), "{text}");
    std::fs::write(
        &path,
        "pods,delay_ms,mean_s,runs,resolution_s,observed\n20,100,8,2,1,kubectl-watch\n4,100,25,5,1,ready\n",
    )
    .unwrap();
    let err = read_cells(&path).unwrap_err().to_string();
    assert!(
        err.contains(":3:") && err.contains("`observed`") && err.contains("container-start"),
        "{err}"
    );
}
