//! The same scenario and seed give the same run, to the byte of its Chrome trace (every pod's
//! phases, every API call, with simulated times), faults and etcd's elections included; another
//! seed gives another run.

use models::cluster::run;
use models::spec::Fault;
use models::units::Dur;

use crate::fixture::cell;

/// The run's trace as the bytes `kubetwin run --trace` would write.
fn trace_bytes(s: &models::spec::Scenario, seed: u64) -> Vec<u8> {
    let out = run(s, seed, true).expect("the cell runs");
    let trace = out.trace.expect("tracing was asked for");
    assert!(!trace.records().is_empty());
    serde_json::to_vec(&trace.to_chrome_json()).expect("a trace serializes")
}

#[test]
fn the_same_seed_gives_a_byte_identical_trace_and_another_seed_another() {
    // With faults: a master crash (failover, etcd's simulated elections) and a site cut off and
    // repaired (held messages, the node lifecycle controller).
    let mut s = cell(20, 100);
    s.faults.push(Fault::Crash {
        host: "master02".into(),
        at: Dur::secs(3),
        repair: Some(Dur::secs(30)),
    });
    s.faults.push(Fault::IsolateSite {
        site: "vlan30".into(),
        at: Dur::secs(8),
        repair: Some(Dur::secs(60)),
    });
    let a = trace_bytes(&s, 11);
    assert_eq!(a, trace_bytes(&s, 11), "same seed, same bytes");
    assert_ne!(a, trace_bytes(&s, 12), "another seed, another run");
    // And without faults.
    let plain = cell(20, 100);
    assert_eq!(trace_bytes(&plain, 11), trace_bytes(&plain, 11));
}
