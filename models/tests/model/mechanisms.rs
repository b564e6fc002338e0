//! Each mechanism against a hand-computed case.

use models::cluster::run;

use crate::fixture::{cell, pulls_by_node};

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

/// The status syncs of each pod in a traced run: (pod, phase, GET sent, PATCH answered).
fn status_syncs(out: &models::cluster::RunOutcome) -> Vec<(u32, models::api::Phase, f64, f64)> {
    use models::api::Phase;
    use models::kubelet::status_span_name;
    use models::status_manager::Sync;
    let trace = out.trace.as_ref().expect("traced run");
    let mut syncs = Vec::new();
    for r in trace.records().iter().filter(|r| r.track.thread == "status manager") {
        let Some(pod) = r.name.strip_prefix("pod-").and_then(|s| s.split(' ').next()) else {
            continue; // a hostNetwork pod's resync
        };
        let pod: u32 = pod.parse().unwrap();
        let phase = [Phase::Pending, Phase::Running]
            .into_iter()
            .find(|&p| status_span_name(Sync::Pod(pod, p)) == r.name)
            .unwrap();
        syncs.push((pod, phase, r.start.as_secs_f64(), r.end.unwrap().as_secs_f64()));
    }
    syncs
}

/// v1.16's status goroutine syncs the status a channel request (or a batch's list) carries even
/// when a newer one exists (`needsUpdate` compares versions), and its 10 s `syncBatch` syncs
/// pods in Go's map order. With default parameters, delay both ways and 100 pods, the goroutine
/// falls behind: some Pending statuses go out after their pod's container started (stale),
/// Running statuses go out of start order (batches), and no pod's status is sent twice.
#[test]
fn a_backed_up_status_goroutine_sends_stale_statuses_and_batches_skip_ahead() {
    use models::api::Phase;
    use std::collections::HashMap;
    let mut s = cell(100, 500);
    s.netem.placement = models::spec::NetemPlacement::Both;
    let out = run(&s, 3, true).unwrap();
    let syncs = status_syncs(&out);
    assert_stale_pending_syncs(&out, &syncs);
    let mut per_pod: HashMap<u32, Vec<Phase>> = HashMap::new();
    for &(pod, phase, _, _) in &syncs {
        per_pod.entry(pod).or_default().push(phase);
    }
    for p in &out.pods {
        let phases = per_pod.get(&p.pod).map(Vec::as_slice).unwrap_or_default();
        let running = phases.iter().filter(|&&ph| ph == Phase::Running).count();
        assert!(running <= 1 && phases.len() <= 2, "pod {}: {phases:?}", p.pod);
        if running == 0 {
            assert!(reply_in_flight_at_end(&out, p), "pod {}: {phases:?}", p.pod);
        }
    }
    let started: HashMap<u32, f64> = out.pods.iter().map(|p| (p.pod, p.started.unwrap())).collect();
    // The channel carries a node's Running statuses in PLEG order (containers' start order); a
    // batch lists them in Go's random map order. Out-of-order Running syncs on a node show that
    // batches took part.
    let node: HashMap<u32, u32> = out.pods.iter().map(|p| (p.pod, p.node.unwrap())).collect();
    let mut running: Vec<(u32, f64, f64)> = syncs
        .iter()
        .filter(|s| s.1 == Phase::Running)
        .map(|&(pod, _, get, _)| (node[&pod], get, started[&pod]))
        .collect();
    running.sort_by(|a, b| (a.0, a.1).partial_cmp(&(b.0, b.1)).unwrap());
    let out_of_order = running
        .windows(2)
        .filter(|w| w[0].0 == w[1].0 && w[1].2 < w[0].2)
        .count();
    assert!(out_of_order > 0, "Running statuses all synced in start order");
}

/// With short round trips the goroutine keeps up: every pod's Pending then Running, in order.
#[test]
fn a_status_goroutine_that_keeps_up_sends_each_status_once_in_order() {
    use models::api::Phase;
    let out = run(&cell(20, 100), 4, true).unwrap();
    let syncs = status_syncs(&out);
    for p in &out.pods {
        let phases: Vec<Phase> = syncs.iter().filter(|s| s.0 == p.pod).map(|s| s.1).collect();
        if phases == [Phase::Pending] {
            assert!(reply_in_flight_at_end(&out, p), "pod {}", p.pod);
        } else {
            assert_eq!(phases, [Phase::Pending, Phase::Running], "pod {}", p.pod);
        }
    }
}

/// The run stops when kubectl has seen every pod Running: the reply to a pod's last PATCH
/// (which the trace records) may still be on its way back to the kubelet.
fn reply_in_flight_at_end(out: &models::cluster::RunOutcome, p: &models::cluster::PodTimeline) -> bool {
    p.running.is_some_and(|committed| out.sim_end_s - committed < 1.5)
}

/// Asserts that some Pending status was synced after its pod's Running status existed: the
/// Running status is set at the first relist (1 s grid) after the container started.
fn assert_stale_pending_syncs(out: &models::cluster::RunOutcome, syncs: &[(u32, models::api::Phase, f64, f64)]) {
    use std::collections::HashMap;
    let started: HashMap<u32, f64> = out.pods.iter().map(|p| (p.pod, p.started.unwrap())).collect();
    let stale = syncs
        .iter()
        .filter(|&&(pod, phase, get, _)| phase == models::api::Phase::Pending && get > started[&pod] + 1.0)
        .count();
    assert!(stale > 0, "no stale Pending status was synced");
}

/// The image's download: a node's first pull pays it unless the run starts with the image in
/// the node's store (`runtime.image_cached`); every later pull (`Always`) costs the registry's
/// round trips alone.
#[test]
fn a_node_downloads_the_image_on_its_first_pull_unless_it_is_cached() {
    let cold = cell(8, 100);
    let download = cold.runtime.image_bytes as f64 * 8.0 / cold.runtime.download_bandwidth.bits_per_s;
    let round_trips = cold.runtime.registry_rtt.get().as_secs_f64() * f64::from(cold.runtime.registry_round_trips);
    assert!(download > 5.0 * round_trips, "the fixture must tell the two apart");
    let mut warm = cold.clone();
    warm.runtime.image_cached = true;
    let (cold_out, warm_out) = (run(&cold, 4, false).unwrap(), run(&warm, 4, false).unwrap());
    for (node, pulls) in pulls_by_node(&cold_out).iter().enumerate() {
        assert_eq!(pulls.len(), 2, "node {node}: {pulls:?}");
        // Service-time noise (CV 0.2) moves each pull by well under a half.
        assert!(pulls[0].1 > 0.5 * (download + round_trips), "node {node}: {pulls:?}");
        assert!(pulls[1].1 < 2.0 * round_trips, "node {node}: {pulls:?}");
    }
    for (node, pulls) in pulls_by_node(&warm_out).iter().enumerate() {
        assert_eq!(pulls.len(), 2, "node {node}: {pulls:?}");
        assert!(pulls.iter().all(|p| p.1 < 2.0 * round_trips), "node {node}: {pulls:?}");
    }
    let last = |o: &models::cluster::RunOutcome| o.pods.iter().filter_map(|p| p.watched).fold(0.0, f64::max);
    assert!(
        last(&cold_out) - last(&warm_out) > 0.5 * download,
        "cold {} s, warm {} s",
        last(&cold_out),
        last(&warm_out)
    );
}

/// `IfNotPresent`: a pod that reaches the image check while its node's first download is still
/// running finds no image and queues a pull of its own; with the image cached from the start
/// no pod pulls.
#[test]
fn if_not_present_pulls_until_the_image_is_in_the_store() {
    let mut cold = cell(8, 100);
    cold.runtime.pull_policy = models::spec::PullPolicy::IfNotPresent;
    let out = run(&cold, 5, false).unwrap();
    for (node, pulls) in pulls_by_node(&out).iter().enumerate() {
        // The node's second sandbox is ready seconds into the first pull's download.
        assert_eq!(pulls.len(), 2, "node {node}: {pulls:?}");
    }
    for p in &out.pods {
        assert!(
            p.started.unwrap() >= p.pulled.unwrap(),
            "pod {} started before its image was there",
            p.pod
        );
    }
    let mut warm = cold.clone();
    warm.runtime.image_cached = true;
    let out = run(&warm, 5, false).unwrap();
    for p in &out.pods {
        assert_eq!(p.pull_start, None, "pod {} pulled a cached image", p.pod);
        assert_eq!(p.pulled, p.sandbox, "pod {}", p.pod);
    }
}

/// Parallel pulls (`--serialize-image-pulls=false`) of an image being downloaded share the
/// download, as Docker's download manager does: a node's pulls all end about when its one
/// download does, not one download time after each starts. The same through a site uplink
/// (`[[sites]] uplink`, wide enough not to bind): the later pulls wait for the node's download.
#[test]
fn parallel_pulls_share_the_download_in_progress() {
    let mut s = cell(12, 100);
    s.kubernetes.kubelet.serialize_image_pulls = false;
    assert_later_pulls_end_with_the_first(&s);
    for site in &mut s.sites {
        site.uplink = Some(models::units::Bandwidth { bits_per_s: 1e9 });
    }
    assert_later_pulls_end_with_the_first(&s);
}

/// Each node's first pull downloads; the pulls that start during it end with it, or their own
/// registry round trips later at most.
fn assert_later_pulls_end_with_the_first(s: &models::spec::Scenario) {
    let download = s.runtime.image_bytes as f64 * 8.0 / s.runtime.download_bandwidth.bits_per_s;
    let round_trips = s.runtime.registry_rtt.get().as_secs_f64() * f64::from(s.runtime.registry_round_trips);
    let out = run(s, 6, false).unwrap();
    for node in 0..4 {
        let mut pulls: Vec<(f64, f64)> = out
            .pods
            .iter()
            .filter(|p| p.node == Some(node))
            .map(|p| (p.pull_start.unwrap(), p.pulled.unwrap()))
            .collect();
        pulls.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(pulls.len(), 3, "node {node}: {pulls:?}");
        let (first_start, first_end) = pulls[0];
        assert!(first_end - first_start > 0.5 * download, "node {node}: {pulls:?}");
        for &(start, end) in &pulls[1..] {
            // Started during the download (the sandboxes are ready seconds apart) ...
            assert!(start < first_end, "node {node}: {pulls:?}");
            // ... and ended with it, or its own round trips later at most.
            assert!(end >= first_end - 1e-9, "node {node}: {pulls:?}");
            assert!(end - first_end < 2.0 * round_trips, "node {node}: {pulls:?}");
        }
    }
}

/// A site's uplink (`[[sites]] uplink`) is shared by its nodes' first downloads. With an uplink
/// of twice one node's rate nothing is shared: every pull takes what it takes without an uplink
/// (the same draws of noise, so the same durations). With an uplink no faster than one node,
/// the two workers of each thesis site download at once at half speed: each first pull is
/// longer by about the other's download, less the seconds by which the two started apart.
#[test]
fn a_site_uplink_is_shared_by_its_nodes_first_downloads() {
    let base = cell(4, 100);
    let with_uplink = |factor: f64| {
        let mut s = base.clone();
        let per_node = s.runtime.download_bandwidth;
        for site in s.sites.iter_mut().filter(|x| x.name != "vlan10") {
            site.uplink = Some(models::units::Bandwidth {
                bits_per_s: per_node.bits_per_s * factor,
            });
        }
        s
    };
    let download = base.runtime.image_bytes as f64 * 8.0 / base.runtime.download_bandwidth.bits_per_s;
    let alone = pulls_by_node(&run(&base, 7, false).unwrap());
    let own = pulls_by_node(&run(&with_uplink(2.0), 7, false).unwrap());
    let shared = pulls_by_node(&run(&with_uplink(1.0), 7, false).unwrap());
    for node in 0..4 {
        assert_eq!(alone[node].len(), 1, "node {node}: {:?}", alone[node]);
        let (pod, t) = alone[node][0];
        assert_eq!(own[node][0].0, pod);
        assert!((own[node][0].1 - t).abs() < 1e-6, "node {node}: {:?} vs {t}", own[node]);
        assert!(
            shared[node][0].1 > t + 0.3 * download,
            "node {node}: shared {:?}, alone {t} s, download alone {download} s",
            shared[node]
        );
    }
}

/// The observer reads the start-up off a clock of `workload.resolution` (whole seconds in the
/// thesis): a multiple of the tick, within one tick of the exact time; a fine clock gives the
/// exact time.
#[test]
fn the_observed_start_up_is_read_at_the_workloads_resolution() {
    for (tick, seed) in [(10.0, 1), (10.0, 2), (7.0, 3), (0.001, 4)] {
        let mut s = cell(4, 100);
        s.workload.resolution = models::units::Dur(sim_core::SimDuration::from_secs_f64(tick));
        let out = run(&s, seed, false).unwrap();
        let (seen, exact) = (out.startup_observed_s.unwrap(), out.startup_exact_s.unwrap());
        let ticks = seen / tick;
        assert!(
            (ticks - ticks.round()).abs() < 1e-6,
            "{seen} s is not a multiple of {tick} s"
        );
        assert!(
            (seen - exact).abs() <= tick + 1e-9,
            "{seen} s read for {exact} s at {tick} s"
        );
    }
}

/// The ReplicaSet controller writes one SuccessfulCreate event per pod through its own client
/// until client-go's spam filter has passed 25 for the ReplicaSet; later ones are dropped.
#[test]
fn replicaset_events_stop_at_the_spam_filters_burst() {
    let calls = |pods: u32| {
        let out = run(&cell(pods, 100), 1, false).unwrap();
        out.waits
            .iter()
            .find(|w| w.name.starts_with("controller-manager clients"))
            .expect("the controller-manager's clients are reported")
            .count
    };
    // Below the burst each more pod costs a create and an event; above it, only the create.
    assert_eq!(calls(20) - calls(10), 2 * 10);
    assert_eq!(calls(60) - calls(40), 20);
}

/// A kubelet has one node-status update out at a time (`wait.Until`'s sliding period): with
/// updates due every millisecond from four kubelets (4,000/s) at apiservers that serve 150/s,
/// the updates are skipped while one is out instead of piling up without bound, and the pods
/// still start, a little later than with the default 10 s.
#[test]
fn node_status_updates_never_overlap_so_a_short_period_cannot_flood_the_apiservers() {
    let mut s = cell(4, 100);
    s.kubernetes.apiserver.workers = 1;
    s.kubernetes.apiserver.service_time = models::units::Dur::millis(20);
    s.workload.timeout = models::units::Dur::secs(600);
    let normal = run(&s, 3, false)
        .unwrap()
        .startup_exact_s
        .expect("runs at the default period");
    s.kubernetes.kubelet.node_status_update = models::units::Dur::millis(1);
    let busy = run(&s, 3, false).unwrap();
    let t = busy.startup_exact_s.expect("the pods start despite the 1 ms period");
    assert!(t < 2.0 * normal, "{t} s with 1 ms updates, {normal} s with 10 s");
}

/// A site's router crash cuts its way to the registry and loses its NAT state: its workers'
/// downloads are cut when their keepalive probe finds the restarted router (`crash vyos02 at
/// 5s repair 65s`: the probe at 65 s), and Docker's download manager dials again 5 s later and
/// resumes them, with or without a site uplink, while the other worker site's pulls go on;
/// no pull fails, so the kubelet's image back-off never starts. An isolation of the same site
/// instead stalls them, silently, until the registry's first resend after the repair (past
/// 65 s): dockershim's progress check cancels each pull first, at its first check more than
/// 60 s after the cut, and the pod pulls again from scratch after the image back-off.
#[test]
fn a_crashed_site_router_cuts_its_downloads_and_docker_resumes_them_an_isolation_stalls_them() {
    for uplink in [false, true] {
        for crash in [true, false] {
            let mut s = cell(4, 100);
            if uplink {
                for site in &mut s.sites {
                    site.uplink = Some(models::units::Bandwidth { bits_per_s: 1e9 });
                }
            }
            let download = s.runtime.image_bytes as f64 * 8.0 / s.runtime.download_bandwidth.bits_per_s;
            let (at, repair) = (models::units::Dur::secs(5), Some(models::units::Dur::secs(65)));
            s.faults.push(if crash {
                models::spec::Fault::Crash {
                    host: "vyos02".into(),
                    at,
                    repair,
                }
            } else {
                models::spec::Fault::IsolateSite {
                    site: "vlan20".into(),
                    at,
                    repair,
                }
            });
            let out = run(&s, 2, false).unwrap();
            let mut clean = s.clone();
            clean.faults.clear();
            let clean = run(&clean, 2, false).unwrap();
            let case = format!("uplink {uplink}, crash {crash}");
            // node01 and node02 are at vlan20, behind vyos02.
            for p in &out.pods {
                let (node, start, pulled) = (p.node.unwrap(), p.pull_start.unwrap(), p.pulled.unwrap());
                let took = pulled - start;
                match (node < 2, crash) {
                    (true, true) => {
                        assert_eq!(p.pull_failures, 0, "{case}: {p:?}");
                        // Under way at the cut (a cached pull's requests take 1.6 s): Docker
                        // dials again at 70 s and asks for the rest (4 round trips of 100 ms),
                        // so the pull ends what it lost later than without the crash, 65.4 s,
                        // not a whole download more.
                        assert!(start < 5.0, "{case}: {p:?}");
                        let q = clean.pods.iter().find(|q| q.pod == p.pod).unwrap();
                        assert_eq!(q.pull_start, p.pull_start, "{case}");
                        let lost = pulled - q.pulled.unwrap();
                        assert!(
                            (lost - 65.4).abs() < 1e-3,
                            "{case}: {lost} s later than without the crash"
                        );
                    }
                    (true, false) => {
                        assert_eq!(p.pull_failures, 1, "{case}: {p:?}");
                        // The first pull's layers were under way at the cut (a cached pull's
                        // requests take 1.6 s), and dockershim checks every 10 s from the
                        // first progress message: cancelled at the first check past 65 s (at
                        // most 75 s), so the pull again after the 10-s back-off, not at the
                        // resend after the repair.
                        let q = clean.pods.iter().find(|q| q.pod == p.pod).unwrap();
                        assert!(q.pull_start.unwrap() < 5.0, "{case}: {q:?}");
                        assert!(start > 75.0, "{case}: pulled again at {start}");
                        assert!(took > download / 2.0, "{case}: a first pull again: {took} s");
                    }
                    (false, _) => {
                        assert_eq!(p.pull_failures, 0, "{case}: {p:?}");
                        assert!(took < download + 10.0, "{case}: {took} s, download {download} s");
                    }
                }
            }
            let backoff = out.waits.iter().find(|w| w.name.starts_with("image back-off")).unwrap();
            assert_eq!(backoff.count, if crash { 0 } else { 2 }, "{case}");
        }
    }
}

/// `--registry-qps` / `--registry-burst`: the kubelet's pull limiter does not wait, it fails the
/// pull ("pull QPS exceeded"), and the pod retries after its back-off. With parallel pulls and
/// a limiter of one pull per 2 s, burst 1, a node's 5 pods cannot all pull as their sandboxes
/// come up: some fail and pull again 10-15 s later; all end up Running. Unlimited, none fail.
#[test]
fn the_registry_limiter_fails_pulls_beyond_it_into_the_back_off() {
    for limited in [true, false] {
        let mut s = cell(20, 100);
        s.kubernetes.kubelet.serialize_image_pulls = false;
        s.kubernetes.kubelet.registry_qps = if limited { 0.5 } else { 0.0 };
        s.kubernetes.kubelet.registry_burst = 1;
        let out = run(&s, 3, false).unwrap();
        assert!(out.pods.iter().all(|p| p.watched.is_some()), "limited {limited}");
        let failed: Vec<_> = out.pods.iter().filter(|p| p.pull_failures > 0).collect();
        if limited {
            assert!(failed.len() >= 4, "{} pulls failed", failed.len());
            for p in failed {
                // The retry came after the pod worker's 10-s requeue at the least.
                assert!(p.pull_start.unwrap() - p.sandbox.unwrap() >= 10.0, "{p:?}");
            }
        } else {
            assert!(failed.is_empty(), "{failed:?}");
        }
    }
}

/// v1.16's pod worker after a pod's first failed pull (pkg/kubelet/pod_workers.go): the
/// sandbox's PLEG event, queued during the failed sync, starts a new sync at the first relist
/// after it, which reports `ErrImagePull` (status 1) and meets the image back-off; the work
/// queue's requeue, 10-15 s later and read on the sync loop's 1-s ticker, starts the next,
/// which reports `ImagePullBackOff` (status 2) and pulls again.
#[test]
fn after_a_first_failed_pull_the_pod_worker_syncs_at_the_next_relist_then_at_the_requeue() {
    use models::api::Phase;
    use models::kubelet::status_span_name;
    use models::status_manager::Sync;
    let mut s = cell(20, 100);
    s.kubernetes.kubelet.serialize_image_pulls = false;
    s.kubernetes.kubelet.registry_qps = 0.5;
    s.kubernetes.kubelet.registry_burst = 1;
    let out = run(&s, 3, true).unwrap();
    let trace = out.trace.as_ref().expect("traced run");
    // (start, end) of the first span named `name` on pod `pod`'s track or the status manager's
    // (whose span names carry the pod).
    let at = |pod: u32, name: &str| -> Option<(f64, f64)> {
        let pod_track = format!("pod-{pod}");
        trace
            .records()
            .iter()
            .find(|r| r.name == name && (r.track.thread == pod_track || r.track.thread == "status manager"))
            .map(|r| (r.start.as_secs_f64(), r.end.map_or(f64::NAN, |e| e.as_secs_f64())))
    };
    let mut checked = 0;
    for p in out.pods.iter().filter(|p| p.pull_failures == 1) {
        let failed = at(p.pod, "image pull failed").expect("the failure is traced").1;
        let first = at(p.pod, &status_span_name(Sync::Pod(p.pod, Phase::Waiting(1))))
            .expect("ErrImagePull is reported")
            .0;
        let second = at(p.pod, &status_span_name(Sync::Pod(p.pod, Phase::Waiting(2))))
            .expect("ImagePullBackOff is reported")
            .0;
        // The statuses go out when the status goroutine gets to them, at or after their sync.
        let retry = p.pull_start.unwrap();
        assert!(
            first > failed && first < retry,
            "pod {}: failed at {failed}, ErrImagePull at {first}",
            p.pod
        );
        assert!(
            first <= failed + 1.0 + 0.5,
            "pod {}: failed at {failed}, ErrImagePull only at {first}, not after the next relist",
            p.pod
        );
        // The requeue: 10-15 s after a sync within a relist of the failure, on a 1-s ticker.
        assert!(
            retry >= failed + 10.0 && retry <= failed + 17.0 + 1e-9,
            "pod {}: failed at {failed}, pulled again at {retry}",
            p.pod
        );
        assert!(
            second >= retry - 1e-9,
            "pod {}: ImagePullBackOff at {second}, pull at {retry}",
            p.pod
        );
        checked += 1;
    }
    assert!(checked >= 4, "{checked} pods failed their first pull once");
}

/// A kubelet's events go to the apiserver one at a time (client-go `recordToSink`): with a
/// second's round trip (500 ms both ways) a pod's Pulled, Created and Started, recorded within
/// moments, wait for each other's replies; without delay they hardly wait. The pods do not wait
/// for their events.
#[test]
fn a_kubelets_events_are_written_one_at_a_time() {
    let per_event = |delay_ms: u64| {
        let mut s = cell(20, delay_ms);
        s.netem.placement = models::spec::NetemPlacement::Both;
        let out = run(&s, 2, false).unwrap();
        let w = out
            .waits
            .iter()
            .find(|w| w.name.starts_with("kubelet event sinks"))
            .unwrap();
        assert!(w.count >= 60, "{} events sent", w.count);
        (w.total_s / w.count as f64, out.startup_exact_s.unwrap())
    };
    let (slow, _) = per_event(500);
    let (fast, _) = per_event(0);
    assert!(slow > 0.3, "at 500 ms both ways an event waited {slow:.3} s on average");
    assert!(fast < 0.05, "without delay an event waited {fast:.3} s on average");
}

/// A pod's "Pulling" event is recorded when its pull joins the node's serial puller
/// (`EnsureImageExists` logs it before `pullImage` queues the pull), not when the puller takes
/// it. With a slow registry (16 round trips of 5 s a pull) every pod has asked for its pull
/// long before the first pull on any node ends, so by then the apiserver has taken every
/// pod's Pulling event, besides the ReplicaSet controller's SuccessfulCreate events (one per
/// pod below the spam filter's burst of 25) and the deployment controller's two
/// ScalingReplicaSet events (the create, the scale), and no Pulled, Created or Started event.
/// Recorded as the puller takes each pull, only the four pulls under way would have announced
/// themselves (26 events).
#[test]
fn every_queued_pod_announces_its_pull_before_the_first_ends() {
    let mut s = cell(20, 0);
    s.runtime.registry_rtt = models::units::Dur::secs(5);
    let out = run(&s, 1, true).unwrap();
    let first_pulled = out.pods.iter().filter_map(|p| p.pulled).fold(f64::MAX, f64::min);
    let last_asked = out.pods.iter().filter_map(|p| p.sandbox).fold(0.0, f64::max);
    assert!(last_asked + 10.0 < first_pulled, "{last_asked} s, {first_pulled} s");
    let trace = out.trace.as_ref().expect("traced run");
    let events = trace
        .records()
        .iter()
        .filter(|r| r.track.thread == "apiserver" && r.name == "POST events")
        .filter(|r| r.start.as_secs_f64() < first_pulled)
        .count();
    assert_eq!(
        events,
        2 + 20 + 20,
        "events written before the first pull ended at {first_pulled} s"
    );
}

/// `kubectl scale` is a new process: it opens a new connection (TCP + TLS 1.2, three round
/// trips), reads the deployment (its resource builder) and the scale, then writes the scale.
/// From a worker's site, 1 s of netem each way: the create's reply comes back (1 trip), the new
/// connection (3 round trips), the two GETs (2 round trips) and the PUT (1 trip) put the scale's
/// batch at least 12 s after the create's, plus the operator's gap (0.3 s, up to 10 % more).
#[test]
fn kubectl_scale_opens_a_new_connection_first() {
    let mut s = cell(4, 1000);
    s.netem.placement = models::spec::NetemPlacement::Both;
    s.workload.kubectl_host = Some("node01".into());
    let out = run(&s, 1, false).unwrap();
    let after_create = out.batches[1].0 - out.batches[0].0;
    assert!((12.3..12.6).contains(&after_create), "{after_create} s");
}

/// A wait of nothing reports 0, not -0.0 (Rust's float sum of an empty iterator), which a
/// report prints as "-0.00": here no pod reaches a volume manager, the load balancer being down
/// from the start.
#[test]
fn a_wait_of_nothing_is_zero_not_negative_zero() {
    let mut s = cell(4, 100);
    s.faults.push(models::spec::Fault::Crash {
        host: "lb".into(),
        at: models::units::Dur::secs(0),
        repair: None,
    });
    s.workload.timeout = models::units::Dur::secs(60);
    let out = run(&s, 1, false).unwrap();
    assert!(out.startup_exact_s.is_none());
    let volumes = out.waits.iter().find(|w| w.name.starts_with("kubelet volume")).unwrap();
    assert_eq!(volumes.count, 0);
    for w in &out.waits {
        assert!(
            w.total_s >= 0.0 && w.total_s.is_sign_positive(),
            "{}: {}",
            w.name,
            w.total_s
        );
    }
}

/// The heartbeats of v1.16 with NodeLease: every 10 s each kubelet PUTs its Lease (never a
/// GET: it renews the Lease it last wrote) and reads its Node from the apiserver's cache; it PATCHes the node status only after its
/// image list changed (the first download) and once a minute. Counted over a 100-pod run of
/// about two minutes on 4 workers.
#[test]
fn kubelets_renew_leases_and_write_node_status_only_on_change_or_once_a_minute() {
    let out = run(&cell(100, 100), 3, true).unwrap();
    let trace = out.trace.expect("traced");
    let count = |label: &str| trace.records().iter().filter(|r| r.name == label).count() as f64;
    let (workers, minutes) = (4.0, out.sim_end_s / 60.0);
    let per_10s = workers * out.sim_end_s / 10.0;
    for label in ["PUT leases", "GET nodes (watch cache)"] {
        let n = count(label);
        assert!(
            (n - per_10s).abs() <= workers + 1.0,
            "{label}: {n}, about {per_10s} expected"
        );
    }
    assert!(!trace
        .records()
        .iter()
        .any(|r| r.name.starts_with("GET") && r.name.contains("leases")));
    // One write per node after its first download, and one a minute per node besides.
    let patches = count("PATCH nodes/status");
    let most = workers * (1.0 + minutes.ceil());
    assert!(
        patches >= workers && patches <= most,
        "{patches} node status writes, 4 to {most} expected"
    );
    assert!(patches < per_10s / 3.0, "{patches} node status writes: not every 10 s");
}
