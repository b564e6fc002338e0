//! The `--fault` syntax of `run`: reading a fault from it, writing a fault back in it, and what
//! a run that never finished may owe to faults never repaired.

/// A `--fault` of `run`: the fault, and the text the user wrote for it (for errors).
#[derive(Debug, Clone)]
pub(crate) struct FlagFault {
    /// The text as given.
    pub(crate) text: String,
    /// The fault it describes.
    pub(crate) fault: models::spec::Fault,
}

/// Parses a `--fault` description, keeping its text.
pub(crate) fn parse_flag_fault(text: &str) -> Result<FlagFault, String> {
    Ok(FlagFault {
        text: text.to_owned(),
        fault: parse_fault(text)?,
    })
}

/// How errors name the faults of a scenario with `--fault`s added: `faults[i]` of the scenario
/// file, or of the parameter file when that writes the faults (it replaces the scenario's), with
/// its file and line, then each `--fault` by its text.
pub(crate) struct FaultNames {
    /// `faults[i]`'s name, in the scenario's order.
    names: Vec<String>,
}

impl FaultNames {
    /// The names of the `in_file` faults of the scenario `scenario` (a built-in name or a path,
    /// loaded from `origin`, with the parameter file `params` laid over it if one is given) and
    /// of the `--fault`s (`flags`, their texts) added after them.
    pub(crate) fn new(
        scenario: &str,
        origin: &str,
        params: Option<&std::path::Path>,
        in_file: usize,
        flags: impl Iterator<Item = String>,
    ) -> FaultNames {
        use topologies::file::{read_capped_to_string, PARAMS, SCENARIO};
        let params_text = params.and_then(|p| Some((p, read_capped_to_string(p, PARAMS).ok()?)));
        // A parameter file that writes `faults` replaces the scenario's.
        let (file, text, what) = match params_text {
            Some((p, t)) if topologies::load::line_of(&t, "faults").is_some() => {
                (p.display().to_string(), Some(t), "parameter file")
            }
            _ => {
                let text = match topologies::load::builtin(scenario) {
                    Some(t) => Some(t.to_owned()),
                    None => read_capped_to_string(std::path::Path::new(scenario), SCENARIO).ok(),
                };
                (origin.to_owned(), text, "scenario file")
            }
        };
        let file_fault = |i: usize| {
            let line = text
                .as_deref()
                .and_then(|t| topologies::load::line_of(t, &format!("faults[{i}]")));
            match line {
                Some(line) => format!("the {what}'s faults[{i}] ({file}, line {line})"),
                None => format!("the scenario's faults[{i}] ({origin})"),
            }
        };
        FaultNames {
            names: (0..in_file)
                .map(file_fault)
                .chain(flags.map(|text| format!("--fault '{text}'")))
                .collect(),
        }
    }

    /// The error of `finding` if it is about a fault (`faults[i].FIELD`): `NAME: `FIELD`:
    /// MESSAGE`, every fault in it named as the user knows it.
    pub(crate) fn finding(&self, finding: &topologies::check::Finding) -> Option<String> {
        let (i, rest) = finding.field.strip_prefix("faults[")?.split_once(']')?;
        let name = self.names.get(i.parse::<usize>().ok()?)?;
        let field = rest.strip_prefix('.').unwrap_or(rest);
        // From the last: a name put in is not renamed again (`faults[1]` is not part of
        // `faults[10]` either way).
        let message = (0..self.names.len()).rev().fold(finding.message.clone(), |m, j| {
            m.replace(&format!("faults[{j}]"), &self.names[j])
        });
        Some(format!("{name}: `{field}`: {message}"))
    }
}

/// Parses a `--fault` description.
pub(crate) fn parse_fault(text: &str) -> Result<models::spec::Fault, String> {
    use models::spec::Fault;
    let words: Vec<&str> = text.split_whitespace().collect();
    let usage = "expected `crash HOST at T [repair T2]`, `crash-etcd-leader at T [repair T2]`, \
                 `partition SITE_A SITE_B at T [repair T2]`, `isolate-site SITE at T [repair T2]` or \
                 `degrade SITE_A SITE_B [delay D [J]] [loss P%] at T [repair T2]`";
    let (head, rest) = match words.iter().position(|w| *w == "at") {
        Some(i) => (&words[..i], &words[i + 1..]),
        None if words.iter().any(|w| w.eq_ignore_ascii_case("at")) => {
            return Err(format!(
                "`{text}`: the keywords are lower-case (`at`, `repair`, `crash`, ...); {usage}"
            ))
        }
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
        .filter(|f| f.at() < timeout && f.repair().is_none_or(|r| r >= timeout))
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
    let cut = cut_off_at_timeout(scenario);
    match &cut {
        // kubectl the only thing cut off: moving it is the fix.
        Some(CutAtTimeout {
            kubectl: Some(k),
            workers_cut: false,
            ..
        }) => return format!("\n{names}; {k}"),
        Some(CutAtTimeout {
            kubectl: None,
            registry: Some(r),
            ..
        }) => return format!("\n{names}; {r}"),
        _ => {}
    }
    // Without the network (the checks say why), any fault that can cut a worker off counts.
    let cuts = cut.as_ref().map_or_else(
        || {
            open.iter().any(|f| {
                matches!(
                    f,
                    Fault::IsolateSite { .. } | Fault::Partition { .. } | Fault::Crash { .. }
                )
            })
        },
        |c| c.workers_cut,
    );
    // kubectl cut off as well as workers: the evictions would not be seen either.
    let blind = cut
        .and_then(|c| c.kubectl)
        .map_or_else(String::new, |_| {
            "; the observing kubectl is cut off from the load balancer too, so it could not see even a rollout the evictions let through".to_owned()
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
    format!("\n{names}{eviction}{blind}")
}

/// What the faults still cut off at the run's last instant before `workload.timeout`
/// ([`cut_off_at_timeout`]).
struct CutAtTimeout {
    /// The observing kubectl off from the load balancer: it cannot see the rollout through,
    /// whatever the pods do (what to say).
    kubectl: Option<String>,
    /// Some worker off from the load balancer: its pods wait for the node lifecycle
    /// controller's evictions, whether or not they come.
    workers_cut: bool,
    /// A registry on the overlay off from workers: their pulls fail into the image back-off
    /// (what to say).
    registry: Option<String>,
}

/// What the scenario's faults still cut off at the run's last instant before
/// `workload.timeout`, read on its network: `None` if the network cannot be built (the
/// scenario's checks say why).
fn cut_off_at_timeout(scenario: &models::spec::Scenario) -> Option<CutAtTimeout> {
    use models::network::Network;
    let lb = scenario.haproxy.host.as_str();
    let kubectl = scenario.kubectl_host()?;
    let registry = scenario.runtime.registry_host.as_deref().filter(|r| !r.is_empty());
    let mut sources = vec![lb, kubectl];
    sources.extend(registry);
    let net = Network::build(scenario, &sources).ok()?;
    // A fault repaired at the timeout itself held for the whole run.
    let last = sim_core::SimTime::ZERO
        + scenario
            .workload
            .timeout
            .get()
            .saturating_sub(sim_core::SimDuration::from_nanos(1));
    let (b, k) = (net.host(lb)?, net.host(kubectl)?);
    let workers: Vec<&str> = scenario
        .hosts
        .iter()
        .filter(|h| h.role == models::spec::Role::Worker)
        .map(|h| h.name.as_str())
        .collect();
    // Routes are built from the sources only; a tunnel or router that a fault holds stops
    // both directions.
    let cut_from = |src, w: &str| net.host(w).is_some_and(|w| net.cut_at(src, w, last));
    let kubectl_cut = net.cut_between(k, b, last);
    let registry_cut: Vec<&str> = match registry.and_then(|r| net.host(r)) {
        Some(r) => workers.iter().copied().filter(|w| cut_from(r, w)).collect(),
        None => Vec::new(),
    };
    let cut_workers = workers.iter().filter(|w| cut_from(b, w)).count();
    Some(CutAtTimeout {
        kubectl: kubectl_cut.then(|| {
            format!(
                "they still cut the observing kubectl on {kubectl} (workload.kubectl_host) off from the load balancer {lb} at the timeout, so it could not see the rollout through, whatever the pods did: repair the fault sooner, or run kubectl on a host it leaves connected"
            )
        }),
        workers_cut: cut_workers > 0,
        registry: (!registry_cut.is_empty()).then(|| {
            format!(
                "they still cut the registry on {} (runtime.registry_host) off from {} at the timeout, whose pulls from it fail into the image back-off: a pod starts there only if the node has the image and runtime.pull_policy = \"IfNotPresent\"; repair the fault",
                registry.unwrap_or_default(),
                registry_cut.join(", ")
            )
        }),
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
