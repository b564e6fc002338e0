//! The `--fault` syntax of `run`: reading a fault from it, writing a fault back in it, and what
//! a run that never finished may owe to faults never repaired.

/// Parses a `--fault` description.
pub(crate) fn parse_fault(text: &str) -> Result<models::spec::Fault, String> {
    use models::spec::Fault;
    let words: Vec<&str> = text.split_whitespace().collect();
    let usage = "expected `crash HOST at T [repair T2]`, `crash-etcd-leader at T [repair T2]`, \
                 `partition SITE_A SITE_B at T [repair T2]`, `isolate-site SITE at T [repair T2]` or \
                 `degrade SITE_A SITE_B [delay D [J]] [loss P%] at T [repair T2]`";
    let (head, rest) = match words.iter().position(|w| *w == "at") {
        Some(i) => (&words[..i], &words[i + 1..]),
        None => return Err(format!("`{text}`: no `at TIME`; {usage}")),
    };
    let dur = |w: &str| w.parse::<models::units::Dur>().map_err(|e| format!("`{text}`: {e}"));
    let (at, repair) = match rest {
        [t] => (dur(t)?, None),
        [t, "repair", r] => (dur(t)?, Some(dur(r)?)),
        _ => return Err(format!("`{text}`: {usage}")),
    };
    match head {
        ["crash", host] => Ok(Fault::Crash {
            host: (*host).to_owned(),
            at,
            repair,
        }),
        ["crash-etcd-leader"] => Ok(Fault::CrashEtcdLeader { at, repair }),
        ["partition", a, b] => Ok(Fault::Partition {
            a: (*a).to_owned(),
            b: (*b).to_owned(),
            at,
            repair,
        }),
        ["isolate-site", site] => Ok(Fault::IsolateSite {
            site: (*site).to_owned(),
            at,
            repair,
        }),
        ["degrade", a, b, rest @ ..] => {
            let mut netem = models::spec::Netem::default();
            netem.parse_tc(&rest.join(" ")).map_err(|e| format!("`{text}`: {e}"))?;
            Ok(Fault::Degrade {
                a: (*a).to_owned(),
                b: (*b).to_owned(),
                delay: netem.delay,
                jitter: netem.jitter,
                loss_pct: netem.loss_pct,
                at,
                repair,
            })
        }
        _ => Err(format!("`{text}`: {usage}")),
    }
}

/// What a run that never finished may owe to the faults still in force when it gave up (never
/// repaired, or repaired only after `workload.timeout`): they are named, and for a worker site
/// cut off for good, the recovery that Kubernetes would make (eviction from unreachable
/// nodes); for a registry on the overlay that never comes back, that no pull from it can
/// succeed; for masters crashed for good beyond etcd's quorum, that nothing commits; for the
/// observing kubectl or a registry cut off then, that nothing could see the pods run, or pull.
pub(crate) fn never_repaired_hint(scenario: &models::spec::Scenario) -> String {
    use models::spec::Fault;
    let timeout = scenario.workload.timeout;
    let open: Vec<&Fault> = scenario
        .faults
        .iter()
        .filter(|f| f.at() < timeout && f.repair().is_none_or(|r| r > timeout))
        .collect();
    if open.is_empty() {
        return String::new();
    }
    let names: Vec<String> = open.iter().map(|f| format!("`{}`", fault_text(f))).collect();
    // How long what they took lasts: for good, or past the timeout (repaired after it).
    let never = open.iter().all(|f| f.repair().is_none());
    let (names, for_good, never_back) = if never {
        (
            format!("never repaired: {}", names.join(", ")),
            "for good",
            "never comes back",
        )
    } else {
        (
            format!("in force at the timeout ({timeout}): {}", names.join(", ")),
            "until after the timeout",
            "is not back before the timeout",
        )
    };
    let registry = scenario.runtime.registry_host.as_deref();
    if open
        .iter()
        .any(|f| matches!(f, Fault::Crash { host, .. } if Some(host.as_str()) == registry))
    {
        return format!(
            "\n{}; the registry (runtime.registry_host) {never_back}, so every pull from it fails into the image back-off: a pod starts only on a node that has the image with runtime.pull_policy = \"IfNotPresent\"; repair the registry",
            names
        );
    }
    if open
        .iter()
        .any(|f| matches!(f, Fault::Crash { host, .. } if *host == scenario.haproxy.host))
    {
        return format!(
            "\n{}; every client (kubelets, controllers, scheduler, kubectl) reaches the apiservers through the load balancer, the single point of failure of this control plane: nothing goes on until it is repaired",
            names
        );
    }
    let masters = &scenario.haproxy.backends;
    let mut gone: Vec<&str> = open
        .iter()
        .filter_map(|f| match f {
            Fault::Crash { host, .. } if masters.contains(host) => Some(host.as_str()),
            _ => None,
        })
        .collect();
    gone.sort_unstable();
    gone.dedup();
    // A `crash-etcd-leader` stops a running member: one that no master crash before it
    // stopped. Those at or after every such crash are surely members of their own (one before
    // a master's crash may have hit that master's member).
    let last_crash = open
        .iter()
        .filter(|f| matches!(f, Fault::Crash { host, .. } if masters.contains(host)))
        .map(|f| f.window().0)
        .max();
    let leaders = open
        .iter()
        .filter(|f| matches!(f, Fault::CrashEtcdLeader { .. }) && last_crash.is_none_or(|c| f.window().0 >= c))
        .count();
    let stopped = (gone.len() + leaders).min(masters.len());
    if !masters.is_empty() && masters.len() - stopped < masters.len() / 2 + 1 {
        return format!(
            "\n{}; {} of the {} etcd members are gone {for_good}, so etcd has no quorum: no write commits (no pod is created, bound or reported Running) while the surviving apiservers answer reads from their caches; repair enough masters for a quorum of {}",
            names,
            stopped,
            masters.len(),
            masters.len() / 2 + 1
        );
    }
    if let Some(cut) = cut_off_at_timeout(scenario) {
        return format!("\n{names}; {cut}");
    }
    let cuts = open.iter().any(|f| {
        matches!(
            f,
            Fault::IsolateSite { .. } | Fault::Partition { .. } | Fault::Crash { .. }
        )
    });
    let eviction = if cuts {
        format!(
            "; pods on workers cut off {for_good} run again only once the node lifecycle controller has evicted them (node_monitor_grace_period, {}, then the {}-s toleration for an unreachable node), and it evicts nothing while no node of the zone is Ready, or while more than 2 nodes making at least 55 % of a cluster of at most 50 are NotReady; otherwise it takes the nodes one at a time, one every {} s (--node-eviction-rate {}), or one every {} s while more than 55 % of a cluster of over 50 nodes are NotReady (--secondary-node-eviction-rate {}): a hundred such nodes take hours; the masters count as nodes unless their names end in `master`, or in `master-` and three characters (docs/model.md)",
            scenario.kubernetes.controller_manager.node_monitor_grace_period,
            models::node_lifecycle::UNREACHABLE_TOLERATION.as_secs_f64(),
            1.0 / models::node_lifecycle::NODE_EVICTION_RATE,
            models::node_lifecycle::NODE_EVICTION_RATE,
            1.0 / models::node_lifecycle::SECONDARY_NODE_EVICTION_RATE,
            models::node_lifecycle::SECONDARY_NODE_EVICTION_RATE,
        )
    } else {
        String::new()
    };
    format!("\n{names}{eviction}")
}

/// What the scenario's faults still cut off when the run gave up (`workload.timeout`) that no
/// recovery of the cluster's can make up for: the observing kubectl from the load balancer (it
/// cannot see the pods run, whatever they do), or a registry on the overlay from workers
/// (their pulls fail into the image back-off). `None` if neither; if the load balancer is cut
/// off from every worker (the deeper cause, whose eviction rules the caller gives); or if the
/// network cannot be built (the scenario's checks say why).
fn cut_off_at_timeout(scenario: &models::spec::Scenario) -> Option<String> {
    use models::network::Network;
    let lb = scenario.haproxy.host.as_str();
    let kubectl = scenario.workload.kubectl_host.as_deref().or(scenario
        .haproxy
        .backends
        .first()
        .map(String::as_str))?;
    let registry = scenario.runtime.registry_host.as_deref().filter(|r| !r.is_empty());
    let mut sources = vec![lb, kubectl];
    sources.extend(registry);
    let net = Network::build(scenario, &sources).ok()?;
    let timeout = sim_core::SimTime::ZERO + scenario.workload.timeout.get();
    let (b, k) = (net.host(lb)?, net.host(kubectl)?);
    // The control plane cut off from every worker is the deeper cause, wherever kubectl runs:
    // the eviction rules that follow say what Kubernetes would do about it.
    let workers: Vec<&str> = scenario
        .hosts
        .iter()
        .filter(|h| h.role == models::spec::Role::Worker)
        .map(|h| h.name.as_str())
        .collect();
    let every_worker_cut = !workers.is_empty()
        && workers
            .iter()
            .all(|w| net.host(w).is_some_and(|w| net.cut_at(b, w, timeout)));
    if every_worker_cut {
        return None;
    }
    if net.cut_at(k, b, timeout) || net.cut_at(b, k, timeout) {
        return Some(format!(
            "they still cut the observing kubectl on {kubectl} (workload.kubectl_host) off from the load balancer {lb} at the timeout, so it could not see the rollout through, whatever the pods did: repair the fault sooner, or run kubectl on a host it leaves connected"
        ));
    }
    let r = net.host(registry?)?;
    // Routes are built from the sources only; a tunnel or router that a fault holds stops both
    // directions.
    let workers: Vec<&str> = workers
        .into_iter()
        .filter(|w| net.host(w).is_some_and(|w| net.cut_at(r, w, timeout)))
        .collect();
    (!workers.is_empty()).then(|| {
        format!(
            "they still cut the registry on {} (runtime.registry_host) off from {} at the timeout, whose pulls from it fail into the image back-off: a pod starts there only if the node has the image and runtime.pull_policy = \"IfNotPresent\"; repair the fault",
            registry.unwrap_or_default(),
            workers.join(", ")
        )
    })
}

/// How `run` and `plan` name a fault to the user (the models' reports carry Rust's Debug form,
/// `Crash { host: "master02", .. }`): in the `--fault` syntax, which [`parse_fault`] reads back,
/// e.g. `crash master02 at 5s repair 60s`.
pub(crate) fn fault_text(f: &models::spec::Fault) -> String {
    use models::spec::Fault;
    let head = match f {
        Fault::Crash { host, .. } => format!("crash {host}"),
        Fault::CrashEtcdLeader { .. } => "crash-etcd-leader".to_owned(),
        Fault::Partition { a, b, .. } => format!("partition {a} {b}"),
        Fault::IsolateSite { site, .. } => format!("isolate-site {site}"),
        Fault::Degrade {
            a,
            b,
            delay,
            jitter,
            loss_pct,
            ..
        } => {
            let mut t = format!("degrade {a} {b}");
            if !delay.get().is_zero() || !jitter.get().is_zero() {
                t.push_str(&format!(" delay {delay}"));
                if !jitter.get().is_zero() {
                    t.push_str(&format!(" {jitter}"));
                }
            }
            if *loss_pct != 0.0 {
                t.push_str(&format!(" loss {loss_pct}%"));
            }
            t
        }
    };
    let repair = f.repair().map_or(String::new(), |r| format!(" repair {r}"));
    format!("{head} at {}{repair}", f.at())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Faults are shown in the `--fault` syntax (not Rust's Debug form), and that text reads back
    /// as the same fault.
    #[test]
    fn a_fault_is_shown_as_the_fault_flag_writes_it() {
        for text in [
            "crash master02 at 5s",
            "crash lb at 5s repair 60s",
            "crash-etcd-leader at 1500ms repair 100s",
            "partition vlan10 vlan20 at 0s repair 30s",
            "isolate-site vlan30 at 3s",
            "degrade vlan10 vlan20 delay 300ms 50ms loss 5% at 10s repair 40s",
            "degrade vlan10 vlan20 loss 0.1% at 0s",
            "degrade vlan10 vlan20 delay 2s at 0s repair 10s",
        ] {
            let fault = parse_fault(text).unwrap();
            assert_eq!(fault_text(&fault), text);
            assert_eq!(parse_fault(&fault_text(&fault)).unwrap(), fault);
        }
    }
}
