//! Common random numbers: a pod's draws (Docker, pulls) depend on the run seed, its node and
//! itself, not on what else happened in the run ([`models::draws`]). Two runs with the same
//! seed at different delays differ by what the delay does, not by reshuffled Docker and pull
//! times.

use models::cluster::run;

use crate::fixture::cell;

/// (node, seconds its image pull took) of each pod, by pod index; `None` for a node's first
/// pull, which downloads the image (which pod that is may change with the delay).
fn pulls(out: &models::cluster::RunOutcome) -> Vec<(Option<u32>, Option<f64>)> {
    let mut pods: Vec<_> = out.pods.iter().collect();
    pods.sort_by_key(|p| p.pod);
    let first_on_node = |node: Option<u32>| {
        pods.iter()
            .filter(|q| q.node == node)
            .min_by(|a, b| a.pull_start.unwrap().total_cmp(&b.pull_start.unwrap()))
            .map(|q| q.pod)
    };
    pods.iter()
        .map(|p| {
            let took = p.pulled.unwrap() - p.pull_start.unwrap();
            (p.node, (first_on_node(p.node) != Some(p.pod)).then_some(took))
        })
        .collect()
}

#[test]
fn a_pods_pull_takes_the_same_time_whatever_the_delay() {
    // 60 pods: 15 per node, so that a longer delay adds status syncs (and, before keyed draws,
    // draws of the status goroutine between the pods' Docker and pull draws).
    for seed in [1, 2] {
        let near = run(&cell(60, 100), seed, false).unwrap();
        let far = run(&cell(60, 500), seed, false).unwrap();
        assert_ne!(
            near.startup_exact_s, far.startup_exact_s,
            "seed {seed}: the delay changed nothing, so the test shows nothing"
        );
        let (a, b) = (pulls(&near), pulls(&far));
        assert_eq!(a.len(), 60);
        let mut compared = 0;
        for (pod, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x.0, y.0, "seed {seed}: pod {pod} moved to another node");
            if let (Some(x), Some(y)) = (x.1, y.1) {
                assert!(
                    (x - y).abs() < 1e-6,
                    "seed {seed}: pod {pod}'s pull took {x} s at 100 ms and {y} s at 500 ms"
                );
                compared += 1;
            }
        }
        assert!(compared >= 50, "seed {seed}: only {compared} cached pulls compared");
    }
}

/// The apiserver keys a request's service time by its client's name, not by the client's place
/// among the run's components: uplinks so wide that they never bind add components ahead of the
/// kubelets and change nothing else, so every pod runs at the same instant with and without them.
#[test]
fn components_that_change_nothing_leave_every_draw_as_it_was() {
    for seed in [1, 4] {
        let plain = cell(40, 300);
        let mut wide = plain.clone();
        for site in &mut wide.sites {
            site.uplink = Some(models::units::Bandwidth { bits_per_s: 1e12 });
        }
        let (a, b) = (run(&plain, seed, false).unwrap(), run(&wide, seed, false).unwrap());
        for (p, q) in a.pods.iter().zip(&b.pods) {
            assert_eq!(p.pod, q.pod);
            let (x, y) = (p.running.unwrap(), q.running.unwrap());
            assert!(
                (x - y).abs() < 1e-6,
                "seed {seed}: pod {} Running at {x} s without uplinks, {y} s with them",
                p.pod
            );
        }
    }
}
