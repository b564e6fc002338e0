//! What `cluster::prepare` refuses when a scenario reaches the model without `topologies`'
//! checks: settings the model's parts cannot be built from, and parts with no route between
//! them. Each would otherwise stop the model half-built (a panic), not name the setting.

use models::cluster::{prepare, ModelError};

use crate::fixture::thesis;

/// A client with no rate at all, and a zero count the model divides work among, are named.
#[test]
fn a_limiter_or_count_the_model_cannot_run_with_is_an_error() {
    let mut s = thesis();
    s.kubernetes.kubelet.kube_api_qps = 0.0;
    let err = prepare(&s).map(|_| ()).unwrap_err();
    assert!(matches!(err, ModelError::Limiter(_)), "{err}");

    let mut s = thesis();
    s.runtime.slots = 0;
    let err = prepare(&s).map(|_| ()).unwrap_err();
    assert!(
        err.to_string().contains("`runtime.slots` is 0; expected at least 1"),
        "{err}"
    );

    let mut s = thesis();
    s.haproxy.fall = 0;
    let err = prepare(&s).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("`haproxy.fall` is 0"), "{err}");
    // The model numbers apiservers in a byte: a 257th backend would alias the first.
    let mut s = thesis();
    s.haproxy.backends = vec!["master01".into(); 257];
    let err = prepare(&s).map(|_| ()).unwrap_err();
    assert!(
        err.to_string()
            .contains("`haproxy.backends` is 257; expected at most 256"),
        "{err}"
    );
    assert!(prepare(&thesis()).is_ok());
}

/// Without the tunnels, the workers' sites reach neither the balancer nor the masters
/// (thesis table 4.6): every worker is named with the balancer it cannot reach.
#[test]
fn parts_with_no_route_between_them_are_named() {
    let mut s = thesis();
    s.vpn.enabled = false;
    let err = prepare(&s).map(|_| ()).unwrap_err();
    let text = err.to_string();
    for w in ["node01", "node02", "node03", "node04"] {
        assert!(text.contains(&format!("{w} cannot reach lb")), "{text}");
    }
    assert!(
        !text.contains("master01 cannot reach"),
        "the masters share a site: {text}"
    );
}
