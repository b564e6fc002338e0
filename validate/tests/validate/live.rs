//! Tests that need a real kubectl or a real cluster; `#[ignore]`d, run them by hand.
//!
//! # Against a real cluster
//!
//! Any cluster whose nodes can pull `nginx` (or set `KUBETWIN_IMAGE`) works; the test creates and deletes
//! its own `kubetwin-test-…` namespace. With [kind](https://kind.sigs.k8s.io):
//!
//! ```text
//! kind create cluster --name kubetwin --kubeconfig /tmp/kubetwin-kind.yaml
//! KUBECONFIG=/tmp/kubetwin-kind.yaml cargo test -p kubetwin-validate --test validate -- --ignored live_
//! kind delete cluster --name kubetwin
//! ```
//!
//! With k3s: `KUBECONFIG=/etc/rancher/k3s/k3s.yaml cargo test … -- --ignored live_` (the file must be
//! readable by the user running the test).
//!
//! With kwok (fake nodes, pods "run" without pulling anything; what the captures were made with):
//!
//! ```text
//! kwokctl create cluster --name kubetwin
//! kwokctl scale node --replicas 3 --name kubetwin
//! kwokctl get kubeconfig --name kubetwin > /tmp/kubetwin-kwok.yaml
//! KUBECONFIG=/tmp/kubetwin-kwok.yaml cargo test -p kubetwin-validate --test validate -- --ignored live_
//! ```
//!
//! `KUBECTL` overrides the kubectl program (default `kubectl` on `PATH`).
//!
//! # Against the real kubectl without a cluster
//!
//! `live_kubectl_error_shapes` only needs `kubectl` on `PATH`: it checks the classifier on what this
//! kubectl prints for a missing kubeconfig and for an API server that refuses connections.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use validate::kubectl::{Kubectl, KubectlConfig, KubectlError, KubectlRunner, WatchNext};
use validate::measure::{measure_live, MeasureOptions};

use crate::support::TempDir;

fn kubectl_program() -> PathBuf {
    std::env::var_os("KUBECTL").map_or_else(|| PathBuf::from("kubectl"), PathBuf::from)
}

#[test]
#[ignore = "needs a cluster: set KUBECONFIG (see the module docs for kind, k3s or kwok)"]
fn live_cluster_measure() {
    let kubeconfig = std::env::var_os("KUBECONFIG").expect("set KUBECONFIG to the test cluster's kubeconfig");
    let mut opts = MeasureOptions::new(3);
    opts.runs = 1;
    opts.namespace_prefix = "kubetwin-test-".into();
    opts.run_timeout = Duration::from_secs(300);
    opts.image = std::env::var("KUBETWIN_IMAGE").unwrap_or_else(|_| "nginx".into());
    opts.kubectl = KubectlConfig {
        program: kubectl_program(),
        kubeconfig: Some(PathBuf::from(kubeconfig)),
        ..KubectlConfig::default()
    };
    let report = measure_live(&opts, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!(report.rows.len(), 3);
    assert_eq!(report.cells.len(), 1);
    assert!(report.runs[0].startup_s >= 0.0);
    for row in &report.rows {
        assert!(row.created_s <= row.running_s, "{row:?}");
        assert!(!row.node.is_empty());
        // The watch showed it Running: the thesis's observation.
        assert!(row.watch_running_s.is_some_and(|t| t > 0.0), "{row:?}");
    }
    assert_eq!(report.cells[0].observed, validate::dataset::Observed::KubectlWatch);
    // The namespace is gone or going.
    let mut kubectl = Kubectl::new(opts.kubectl.clone());
    match kubectl.run_ok(&["get", "namespace", &report.runs[0].namespace, "-o", "json"]) {
        Err(KubectlError::NotFound { .. }) => {}
        Ok(json) => assert!(validate::kubectl::Namespace::from_json(&json).unwrap().is_terminating()),
        Err(other) => panic!("{other}"),
    }
}

#[test]
#[ignore = "needs kubectl on PATH (or KUBECTL)"]
fn live_kubectl_error_shapes() {
    let dir = TempDir::new("live-kubectl");
    let mut missing = Kubectl::new(KubectlConfig {
        program: kubectl_program(),
        kubeconfig: Some(dir.path().join("absent.yaml")),
        request_timeout: Some(Duration::from_secs(5)),
        ..KubectlConfig::default()
    });
    let err = missing.run_ok(&["get", "namespaces"]).unwrap_err();
    assert!(matches!(err, KubectlError::Kubeconfig { .. }), "{err:?}");

    // Port 1 on loopback refuses connections.
    let kubeconfig = dir.path().join("refused.yaml");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: \"https://127.0.0.1:1\"}\n  name: c\n\
         contexts:\n- context: {cluster: c, user: u}\n  name: x\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let mut refused = Kubectl::new(KubectlConfig {
        program: kubectl_program(),
        kubeconfig: Some(kubeconfig),
        request_timeout: Some(Duration::from_secs(5)),
        ..KubectlConfig::default()
    });
    let err = refused.run_ok(&["get", "namespaces"]).unwrap_err();
    assert!(matches!(err, KubectlError::ServerUnreachable { .. }), "{err:?}");
    assert!(err.is_transient());

    // The measurement's watch: this kubectl takes its flags (`-w --output-watch-events -o json`,
    // `--request-timeout=0s`), tries the server, ends, and the watch reports what it printed.
    let mut watch = refused
        .watch_pods(&["get", "pods", "-n", "x", "-w", "--output-watch-events", "-o", "json"])
        .unwrap()
        .expect("the real runner keeps a watch");
    let ended = (0..300).any(|_| matches!(watch.next_within(Duration::from_millis(100)), WatchNext::Ended));
    assert!(ended, "the watch of a refused server did not end within 30 s");
    let said = watch.stderr_tail();
    assert!(
        said.contains("The connection to the server 127.0.0.1:1 was refused"),
        "{said}"
    );
}
