//! Numbers out of range (E010-E013, E021, E027-E029, E031, E033): coordinates, loss percentages,
//! client rates, counts, the node's size, the tunnel MTU and packet, the informational addresses
//! (and W008, their clashes) and the room the workers have for the workload (with E034, the
//! other check of its size).

use models::scheduler::EVICTION_HARD_MIB;
use models::spec::{Role, Scenario};

use super::Finding;

/// E010-E013, E021, E027-E029, E031, E033: numbers.
pub(super) fn numbers(s: &Scenario, f: &mut Vec<Finding>) {
    coordinates(s, f);
    losses(s, f);
    client_rates(s, f);
    counts(s, f);
    node_size(&s.kubernetes.node, f);
    tun_mtu(s, f);
    tunnel_packet(s, f);
    addresses(s, f);
    address_clashes(s, f);
    replicas(s, f);
    room(s, f);
}

/// E010: a site's latitude or longitude out of range.
fn coordinates(s: &Scenario, f: &mut Vec<Finding>) {
    for (i, site) in s.sites.iter().enumerate() {
        if let Some(lat) = site.latitude {
            if !(-90.0..=90.0).contains(&lat) {
                f.push(Finding::new(
                    "E010",
                    format!("sites[{i}].latitude"),
                    format!("latitude {lat} is out of range; expected degrees in -90..=90"),
                ));
            }
        }
        if let Some(lon) = site.longitude {
            if !(-180.0..=180.0).contains(&lon) {
                f.push(Finding::new(
                    "E010",
                    format!("sites[{i}].longitude"),
                    format!("longitude {lon} is out of range; expected degrees in -180..=180"),
                ));
            }
        }
    }
}

/// E010: the links' and netem's loss percentages.
fn losses(s: &Scenario, f: &mut Vec<Finding>) {
    for (i, l) in s.links.iter().enumerate() {
        pct(f, &format!("links[{i}].loss_pct"), l.loss_pct);
    }
    pct(f, "netem.loss_pct", s.netem.loss_pct);
}

/// A loss percentage: 0 up to, but not including, 100 (see [`LOSS_IS_A_PARTITION`]).
fn pct(f: &mut Vec<Finding>, field: &str, v: f64) {
    if !(0.0..100.0).contains(&v) {
        f.push(Finding::new("E010", field, loss_message(v)));
    }
}

/// Why 100 % loss is refused: nothing gets through, which the model expresses as a partition
/// (a fault with a time and a repair) rather than as TCP retransmitting for ever.
const LOSS_IS_A_PARTITION: &str =
    "100 % loss carries nothing: that is a partition, a [[faults]] entry of kind `partition` or `isolate-site`";

/// The message of a loss percentage out of range (E010, and E020 for a degradation's loss).
pub(super) fn loss_message(v: f64) -> String {
    if v == 100.0 {
        format!("{LOSS_IS_A_PARTITION}; expected a loss below 100")
    } else {
        format!(
            "{} is not a loss percentage; expected a number in 0..100 (100 excluded)",
            sim_core::display::number(v)
        )
    }
}

/// E011: the Kubernetes clients' QPS.
fn client_rates(s: &Scenario, f: &mut Vec<Finding>) {
    let k = &s.kubernetes;
    qps(
        f,
        "kubernetes.controller_manager.kube_api_qps",
        k.controller_manager.kube_api_qps,
        None,
    );
    qps(f, "kubernetes.scheduler.kube_api_qps", k.scheduler.kube_api_qps, None);
    qps(f, "kubernetes.kubelet.kube_api_qps", k.kubelet.kube_api_qps, None);
    // kubelet --event-qps: 0 is client-go's default, 5 (`Kubelet::event_limits`), though the
    // v1.16 flag's help says unlimited.
    qps(
        f,
        "kubernetes.kubelet.event_qps",
        k.kubelet.event_qps,
        Some("client-go's default, 5"),
    );
    // kubelet --registry-qps: "If > 0, limit registry pull QPS to this value. If 0, unlimited."
    qps(
        f,
        "kubernetes.kubelet.registry_qps",
        k.kubelet.registry_qps,
        Some("unlimited"),
    );
}

/// E011: a client QPS must be one the token bucket accepts
/// ([`sim_core::limiter::MIN_QPS`]..=[`sim_core::limiter::MAX_QPS`]), or 0 where the flag
/// gives 0 a meaning (`zero`: what it means).
fn qps(f: &mut Vec<Finding>, field: &str, v: f64, zero: Option<&str>) {
    use sim_core::limiter::{MAX_QPS, MIN_QPS};
    let ok = (MIN_QPS..=MAX_QPS).contains(&v) || (zero.is_some() && v == 0.0);
    if !ok {
        let expected = match zero {
            Some(meaning) => format!("a number in {MIN_QPS}..={MAX_QPS}, or 0 ({meaning})"),
            None => format!("a number in {MIN_QPS}..={MAX_QPS}"),
        };
        f.push(Finding::new(
            "E011",
            field,
            format!(
                "QPS {} is out of range; expected {expected}",
                sim_core::display::number(v)
            ),
        ));
    }
}

/// E012: bursts, worker and slot counts, batch sizes, rise/fall, the tunnel MTU, the layer
/// connections and the node's capacity, each at least 1.
fn counts(s: &Scenario, f: &mut Vec<Finding>) {
    let k = &s.kubernetes;
    count(
        f,
        "kubernetes.controller_manager.kube_api_burst",
        k.controller_manager.kube_api_burst,
    );
    count(f, "kubernetes.scheduler.kube_api_burst", k.scheduler.kube_api_burst);
    count(f, "kubernetes.kubelet.kube_api_burst", k.kubelet.kube_api_burst);
    if k.kubelet.registry_qps > 0.0 {
        count(f, "kubernetes.kubelet.registry_burst", k.kubelet.registry_burst);
    }
    count(f, "kubernetes.apiserver.workers", k.apiserver.workers);
    count(
        f,
        "kubernetes.controller_manager.slow_start_initial_batch",
        k.controller_manager.slow_start_initial_batch,
    );
    count(
        f,
        "kubernetes.controller_manager.burst_replicas",
        k.controller_manager.burst_replicas,
    );
    count(f, "runtime.slots", s.runtime.slots);
    count(f, "runtime.layer_connections", s.runtime.layer_connections);
    count(f, "haproxy.rise", s.haproxy.rise);
    count(f, "haproxy.fall", s.haproxy.fall);
    count(f, "kubernetes.node.cpu_millis", k.node.cpu_millis);
    count(f, "kubernetes.node.memory_mib", k.node.memory_mib);
}

/// E012: a count that must be at least 1.
fn count(f: &mut Vec<Finding>, field: &str, v: u32) {
    if v == 0 {
        f.push(Finding::new("E012", field, "0 is out of range; expected at least 1"));
    }
}

/// E027: the node's capacity holds its DaemonSet pods' requests.
fn node_size(n: &models::spec::Node, f: &mut Vec<Finding>) {
    if n.memory_mib > 0 && n.memory_mib <= EVICTION_HARD_MIB {
        f.push(Finding::new(
            "E027",
            "kubernetes.node.memory_mib",
            format!(
                "{} MiB is all kept back by the default --eviction-hard (memory.available<100Mi); expected more than {EVICTION_HARD_MIB}",
                n.memory_mib
            ),
        ));
    }
    if n.cpu_millis > 0 && n.daemonset_cpu_millis > n.cpu_millis {
        f.push(Finding::new(
            "E027",
            "kubernetes.node.daemonset_cpu_millis",
            format!(
                "the DaemonSet pods request {} millicores of a node's {} (kubernetes.node.cpu_millis); expected at most {}",
                n.daemonset_cpu_millis, n.cpu_millis, n.cpu_millis
            ),
        ));
    }
    let allocatable = n.memory_mib.saturating_sub(EVICTION_HARD_MIB);
    if allocatable > 0 && n.daemonset_memory_mib > allocatable {
        f.push(Finding::new(
            "E027",
            "kubernetes.node.daemonset_memory_mib",
            format!(
                "the DaemonSet pods request {} MiB of a node's {allocatable} MiB allocatable (memory_mib {} less 100 MiB for --eviction-hard); expected at most {allocatable}",
                n.daemonset_memory_mib, n.memory_mib
            ),
        ));
    }
}

/// OpenVPN's smallest tun MTU: `TUN_MTU_MIN` in its `mtu.h` ("It is a fatal error if mtu is
/// less than this value for tun device"), 100 in 2.3 and since.
const OPENVPN_TUN_MTU_MIN: u32 = models::vpn::TUN_MTU_MIN;

/// E028: a tun MTU that OpenVPN refuses, 0 included (one error that names the least it takes,
/// rather than E012's "at least 1" and then this one).
fn tun_mtu(s: &Scenario, f: &mut Vec<Finding>) {
    if s.vpn.tun_mtu < OPENVPN_TUN_MTU_MIN {
        f.push(Finding::new(
            "E028",
            "vpn.tun_mtu",
            format!(
                "OpenVPN refuses a tun MTU of {} bytes; expected at least {OPENVPN_TUN_MTU_MIN} (TUN_MTU_MIN; its default is 1500)",
                s.vpn.tun_mtu
            ),
        ));
    }
}

/// The largest IPv4 datagram (its 16-bit total length), which a tunnel's UDP packet, a full
/// tun packet with OpenVPN's overhead added, must fit in.
const IPV4_DATAGRAM_MAX: u64 = 65_535;

/// E033: with the VPN on, a full tun packet with OpenVPN's overhead added must fit one IPv4
/// datagram (a larger `overhead_bytes` describes no cipher, and would overflow the model's
/// per-route sums).
fn tunnel_packet(s: &Scenario, f: &mut Vec<Finding>) {
    let packet = u64::from(s.vpn.tun_mtu) + u64::from(s.vpn.overhead_bytes);
    if s.vpn.enabled && packet > IPV4_DATAGRAM_MAX {
        // Named at the larger of the two, the likelier mistake.
        let field = if s.vpn.tun_mtu > s.vpn.overhead_bytes {
            "vpn.tun_mtu"
        } else {
            "vpn.overhead_bytes"
        };
        f.push(Finding::new(
            "E033",
            field,
            format!(
                "a {}-byte tun packet with {} bytes of overhead makes a {packet}-byte UDP packet, more than an IPv4 datagram holds; expected tun_mtu + overhead_bytes at most {IPV4_DATAGRAM_MAX} (OpenVPN 2.3's BF-CBC + HMAC-SHA1 overhead is 68 bytes)",
                s.vpn.tun_mtu, s.vpn.overhead_bytes
            ),
        ));
    }
}

/// E029: the informational addresses are well formed.
fn addresses(s: &Scenario, f: &mut Vec<Finding>) {
    for (i, h) in s.hosts.iter().enumerate() {
        if !h.address.is_empty() && h.address.parse::<std::net::Ipv4Addr>().is_err() {
            f.push(Finding::new(
                "E029",
                format!("hosts[{i}].address"),
                format!(
                    "`{}` (host `{}`) is not an IPv4 address; expected four numbers 0-255 such as 192.168.10.101, or nothing",
                    h.address, h.name
                ),
            ));
        }
    }
    for (i, site) in s.sites.iter().enumerate() {
        if site.prefix.is_empty() {
            continue;
        }
        let ok = site.prefix.split_once('/').is_some_and(|(ip, len)| {
            ip.parse::<std::net::Ipv4Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 32)
        });
        if !ok {
            f.push(Finding::new(
                "E029",
                format!("sites[{i}].prefix"),
                format!(
                    "`{}` (site `{}`) is not an IPv4 prefix; expected an address and a length 0-32 such as 192.168.10.0/24, or nothing",
                    site.prefix, site.name
                ),
            ));
        }
    }
}

/// W008: two hosts given one address, or a host's address outside its site's prefix. Both
/// are informational, so a typo in them changes nothing the model does; it is still one.
fn address_clashes(s: &Scenario, f: &mut Vec<Finding>) {
    let mut first_with: std::collections::HashMap<std::net::Ipv4Addr, &str> = std::collections::HashMap::new();
    let prefixes: std::collections::HashMap<&str, (u32, u32)> = s
        .sites
        .iter()
        .filter_map(|site| {
            let (ip, len) = site.prefix.split_once('/')?;
            let (ip, len) = (ip.parse::<std::net::Ipv4Addr>().ok()?, len.parse::<u32>().ok()?);
            let mask = u32::MAX.checked_shl(32u32.checked_sub(len)?).unwrap_or(0);
            Some((site.name.as_str(), (u32::from(ip) & mask, mask)))
        })
        .collect();
    for (i, h) in s.hosts.iter().enumerate() {
        let Ok(ip) = h.address.parse::<std::net::Ipv4Addr>() else {
            continue;
        };
        if let Some(other) = first_with.insert(ip, &h.name) {
            f.push(Finding::new(
                "W008",
                format!("hosts[{i}].address"),
                format!(
                    "host `{}` has the address {ip}, as host `{other}` has; expected each host's own address",
                    h.name
                ),
            ));
            // Keep the first holder named for a third.
            first_with.insert(ip, other);
        }
        if let Some(&(net, mask)) = prefixes.get(h.site.as_str()) {
            if u32::from(ip) & mask != net {
                let prefix = &s
                    .sites
                    .iter()
                    .find(|x| x.name == h.site)
                    .map_or("", |x| x.prefix.as_str());
                f.push(Finding::new(
                    "W008",
                    format!("hosts[{i}].address"),
                    format!(
                        "host `{}` has the address {ip}, outside its site `{}`'s prefix {prefix}; expected an address in it",
                        h.name, h.site
                    ),
                ));
            }
        }
    }
}

/// E013: a workload of no pod.
fn replicas(s: &Scenario, f: &mut Vec<Finding>) {
    if s.workload.replicas == 0 {
        f.push(Finding::new(
            "E013",
            "workload.replicas",
            "replicas = 0 starts no pod; expected at least 1",
        ));
    }
}

/// E031, else E021: the workers' `--max-pods` leaves room beside the DaemonSet pods, and holds
/// the workload; E034: the scale to the workload's size comes before the timeout.
fn room(s: &Scenario, f: &mut Vec<Finding>) {
    f.extend(fits_the_workers(s));
    f.extend(super::timings::scale_before_timeout(s));
}

/// The checks that depend on the workload's size, for callers that change only that (a sweep's
/// pods axis, `plan --pods`, `validate`'s cells, `bench scale`) and need not re-run every
/// check: the first finding of E031, E021
/// (the workers' `--max-pods` cannot hold `workload.replicas`) and E034 (the scale to them
/// would come as the run gives up).
pub fn workload_fits(s: &Scenario) -> Option<Finding> {
    fits_the_workers(s).or_else(|| super::timings::scale_before_timeout(s))
}

/// E021: the workers' `--max-pods` cannot hold `workload.replicas`. A `--max-pods` that leaves
/// no room at all beside the DaemonSet pods is E031's finding instead, whatever the workload's
/// size.
fn fits_the_workers(s: &Scenario) -> Option<Finding> {
    let kubelet = &s.kubernetes.kubelet;
    // The DaemonSet pods count against --max-pods (the scheduler places them in v1.16): a
    // worker whose max_pods they fill holds no workload pod, and "expected at most 0 replicas"
    // would contradict E013.
    if kubelet.max_pods <= kubelet.host_network_pods {
        return Some(Finding::new(
            "E031",
            "kubernetes.kubelet.max_pods",
            format!(
                "max_pods {} leaves no room beside the {} DaemonSet pods (host_network_pods) every worker runs: no workload pod could be placed; expected at least {}",
                kubelet.max_pods,
                kubelet.host_network_pods,
                u64::from(kubelet.host_network_pods) + 1
            ),
        ));
    }
    let workers = s.hosts.iter().filter(|h| h.role == Role::Worker).count() as u64;
    let per_worker = u64::from(kubelet.max_pods.saturating_sub(kubelet.host_network_pods));
    let room = workers * per_worker;
    (workers > 0 && u64::from(s.workload.replicas) > room).then(|| {
        Finding::new(
            "E021",
            "workload.replicas",
            format!(
                "{} do not fit: {} x ({} max_pods - {} DaemonSet pods) hold {room}; expected at most {room} replicas, more workers, or a higher kubernetes.kubelet.max_pods",
                crate::count(s.workload.replicas, "pod"),
                crate::count(workers, "worker"),
                kubelet.max_pods,
                kubelet.host_network_pods
            ),
        )
    })
}
