//! Each mechanism against a hand-computed case.

use models::cluster::run;

use crate::fixture::cell;

#[test]
fn every_pod_runs_and_is_spread_evenly() {
    let out = run(&cell(20, 100), 1, false).unwrap();
    assert_eq!(out.pods.len(), 20);
    let mut per_node = [0; 4];
    for p in &out.pods {
        per_node[p.node.unwrap() as usize] += 1;
        assert!(p.watched.is_some(), "pod {} never seen Running", p.pod);
    }
    assert_eq!(per_node, [5, 5, 5, 5]);
    // Slow start: 1 pod at create, then 19 after the scale in batches 1, 2, 4, 8, 4.
    let sizes: Vec<u32> = out.batches.iter().map(|b| b.1).collect();
    assert_eq!(sizes, vec![1, 1, 2, 4, 8, 4]);
}

#[test]
fn phases_happen_in_order() {
    let out = run(&cell(8, 300), 2, false).unwrap();
    for p in &out.pods {
        let seq = [
            Some(p.created),
            p.bound,
            p.kubelet_seen,
            p.sandbox,
            p.pull_start,
            p.pulled,
            p.started,
            p.running,
            p.watched,
        ];
        let v: Vec<f64> = seq.iter().map(|x| x.unwrap()).collect();
        assert!(v.windows(2).all(|w| w[0] <= w[1]), "pod {}: {v:?}", p.pod);
        // The kubelet learns of the binding at least one delayed one-way trip later.
        assert!(p.kubelet_seen.unwrap() - p.bound.unwrap() >= 0.3);
    }
}

/// Netem restricted to the tunnel towards one site delays only that site's workers.
#[test]
fn netem_on_one_far_site_delays_only_its_workers() {
    use models::network::Network;
    let mut s = cell(4, 500);
    s.netem.far = vec!["vlan20".into()];
    let net = Network::build(&s, &["lb"]).unwrap();
    let lb = net.host("lb").unwrap();
    let d = |n: &str| net.base_one_way(lb, net.host(n).unwrap()).unwrap().as_millis_f64();
    assert!(
        d("node01") > 500.0 && d("node02") > 500.0,
        "{} {}",
        d("node01"),
        d("node02")
    );
    assert!(
        d("node03") < 5.0 && d("node04") < 5.0,
        "{} {}",
        d("node03"),
        d("node04")
    );
}
