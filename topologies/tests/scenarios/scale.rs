//! The whole model on a generated uniform scenario: every pod runs, and the watch fan-out sends
//! one message per interested watcher, not one per watcher. The 5,000-node run is `#[ignore]`d
//! (see `BENCHMARKS.md`, `kubetwin bench scale`).

use models::cluster;
use sim_core::SimDuration;
use topologies::generate::{uniform, UniformOptions};

/// A density run; kubelets with the hostNetwork PodIPs fix (no 10 s status resync), as
/// `kubetwin bench scale` runs by default.
fn scale_run(nodes: usize, pods: u32) -> (cluster::RunOutcome, std::time::Duration) {
    let mut s = uniform(nodes, 10, &UniformOptions::default());
    s.kubernetes.kubelet.host_network_status_resync = false;
    s.workload.replicas = pods;
    s.workload.timeout = models::units::Dur(SimDuration::from_secs(6 * 3600));
    let t = std::time::Instant::now();
    let out = cluster::run(&s, 1, false).unwrap();
    (out, t.elapsed())
}

#[test]
fn every_pod_of_a_density_run_starts() {
    // 30 pods per node, as ClusterLoader2's density test; more than BurstReplicas (500), so the
    // ReplicaSet controller needs several syncs.
    let (out, _) = scale_run(40, 1200);
    assert_eq!(out.pods.len(), 1200);
    assert!(out.startup_exact_s.is_some(), "not every pod ran");
    let mut per_node = [0u32; 40];
    for p in &out.pods {
        per_node[p.node.unwrap() as usize] += 1;
    }
    // Even up to what the default priorities' 0..=10 scores tell apart (a few pods per node).
    assert_eq!(per_node.iter().sum::<u32>(), 1200);
    assert!(per_node.iter().all(|&n| (26..=34).contains(&n)), "{per_node:?}");
    // Events per pod stay bounded (watch fan-out per interested watcher, not per watcher).
    let per_pod = out.events as f64 / 1200.0;
    assert!(per_pod < 60.0, "{per_pod} events per pod");
}

#[test]
#[ignore = "scale benchmark: run with --release --ignored; figures in BENCHMARKS.md"]
fn five_thousand_nodes_150k_pods() {
    let (out, wall) = scale_run(5000, 150_000);
    assert!(out.startup_exact_s.is_some(), "not every pod ran");
    assert_eq!(out.pods.len(), 150_000);
    // 30 pods per node on average; none is left without, none is far past the average.
    let mut per_node = vec![0u32; 5000];
    for p in &out.pods {
        per_node[p.node.unwrap() as usize] += 1;
    }
    let (least, most) = (per_node.iter().min(), per_node.iter().max());
    assert!(
        per_node.iter().all(|&n| (20..=40).contains(&n)),
        "{least:?}..{most:?} pods per node"
    );
    eprintln!(
        "5000 nodes, 150000 pods: {} events in {:?}, simulated {:.0} s",
        out.events, wall, out.sim_end_s
    );
}
