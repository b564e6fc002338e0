//! The steps that assemble one replication's simulation ([`super::build`] runs them in order):
//! the network and the hosts the parts sit on, the control plane, its clients (the
//! controller-manager, the scheduler, the kubelets with their image sources, kubectl), then
//! etcd's elections, the faults and the first events.
//!
//! The order of the steps is part of the model's output: it is the order in which components
//! are created (their ids, and the names their random streams are derived from), in which the
//! balancer hands out connections, and in which events are scheduled.

use std::sync::Arc;

use sim_core::limiter::TokenBucket;
use sim_core::{Component, ComponentId, SimDuration, SimTime, Simulation};

use super::{incomplete, ModelError, SERVICE_TIME_CV};
use crate::api::{Conn, Ev, FailoverBook, Local};
use crate::client::Client;
use crate::control_plane::{ControlPlane, Watcher};
use crate::controllers::ControllerManager;
use crate::failover::{ClientRole, Timers};
use crate::haproxy::Balancer;
use crate::kubelet::Kubelet;
use crate::network::{HostId, Network};
use crate::observer::Kubectl;
use crate::registry::{NodePull, OverlayRegistry, SitePaths};
use crate::scheduler::Scheduler;
use crate::spec::{Role, Scenario};
use crate::uplink::SiteUplink;

/// Host `n` of the scenario's network.
fn host_id(s: &Scenario, net: &Network, n: &str) -> Result<HostId, ModelError> {
    net.host(n)
        .ok_or_else(|| incomplete(s, format!("host `{n}` is not defined")))
}

/// Whether `a` and `b` differ at most in their faults as far as their network and placement go:
/// the same sites, hosts, links, VPN, netem, balancer and backends, registry host, kubectl host
/// and first etcd leader.
pub(super) fn same_but_faults(a: &Scenario, b: &Scenario) -> bool {
    a.sites == b.sites
        && a.hosts == b.hosts
        && a.links == b.links
        && a.vpn == b.vpn
        && a.netem == b.netem
        && a.haproxy == b.haproxy
        && a.runtime.registry_host == b.runtime.registry_host
        && a.workload.kubectl_host == b.workload.kubectl_host
        && a.kubernetes.etcd.leader == b.kubernetes.etcd.leader
}

/// Where the run's parts sit: the scenario's network, and the hosts resolved in it.
pub(super) struct Placement<'a> {
    /// The network, with routes from the hosts all Kubernetes traffic goes through.
    pub(super) net: Arc<Network>,
    /// HAProxy's host.
    pub(super) lb: HostId,
    /// The apiservers' hosts, in `haproxy.backends` order.
    pub(super) masters: Vec<HostId>,
    /// Where kubectl runs (`workload.kubectl_host`, by default the first master).
    pub(super) kubectl_host: &'a str,
    /// The workers, in the scenario's order.
    pub(super) workers: Vec<&'a str>,
    /// The etcd member leading at the start, as an index into the masters.
    pub(super) etcd_leader: usize,
}

impl<'a> Placement<'a> {
    /// Builds the network of `s`, with routes from the load balancer, kubectl's host, the
    /// masters and the registry's host, and finds the hosts in it.
    pub(super) fn resolve(s: &'a Scenario) -> Result<Placement<'a>, ModelError> {
        let (masters, kubectl_host) = Self::apiservers_and_kubectl(s)?;
        let mut sources = vec![s.haproxy.host.as_str(), kubectl_host];
        sources.extend(masters.iter().copied());
        sources.extend(s.runtime.registry_host.as_deref());
        Self::on(s, Arc::new(Network::build(s, &sources)?))
    }

    /// `base`'s placement for `variant`, a scenario that differs from `base`'s only in its
    /// faults ([`same_but_faults`]): its network is `base`'s under `variant`'s faults
    /// ([`Network::with_faults`]).
    pub(super) fn for_variant(base: &Placement<'_>, variant: &'a Scenario) -> Result<Placement<'a>, ModelError> {
        Self::on(variant, Arc::new(base.net.with_faults(&variant.faults)))
    }

    /// The apiservers' hosts (`haproxy.backends`) and kubectl's.
    fn apiservers_and_kubectl(s: &Scenario) -> Result<(Vec<&str>, &str), ModelError> {
        let masters: Vec<&str> = s.haproxy.backends.iter().map(String::as_str).collect();
        if masters.is_empty() {
            return Err(incomplete(s, "haproxy.backends is empty: there is no apiserver"));
        }
        let kubectl_host = s.kubectl_host().unwrap_or(masters[0]);
        Ok((masters, kubectl_host))
    }

    /// The hosts of `s` found in `net`, its network.
    fn on(s: &'a Scenario, net: Arc<Network>) -> Result<Placement<'a>, ModelError> {
        let (masters, kubectl_host) = Self::apiservers_and_kubectl(s)?;
        let host = |n: &str| host_id(s, &net, n);
        let lb = host(&s.haproxy.host)?;
        let master_ids: Vec<_> = masters.iter().map(|m| host(m)).collect::<Result<_, _>>()?;
        let workers: Vec<&str> = s
            .hosts
            .iter()
            .filter(|h| h.role == Role::Worker)
            .map(|h| h.name.as_str())
            .collect();
        if workers.is_empty() {
            return Err(incomplete(s, "no host has role worker"));
        }
        unreachable_parts(&net, lb, &master_ids, kubectl_host, &workers)?;
        let leader = match &s.kubernetes.etcd.leader {
            Some(l) => masters
                .iter()
                .position(|m| m == l)
                .ok_or_else(|| incomplete(s, format!("etcd.leader `{l}` is not a backend")))?,
            None => 0,
        };
        Ok(Placement {
            net,
            lb,
            masters: master_ids,
            kubectl_host,
            workers,
            etcd_leader: leader,
        })
    }
}

/// Refuses a network in which a part that must talk has no route: every client (the workers'
/// kubelets, kubectl, the masters' own components) to the balancer, the balancer to every
/// apiserver, and every etcd member to every other. `topologies` checks this with the sites'
/// names first; here it keeps the model from meeting a missing route mid-run.
fn unreachable_parts(
    net: &Network,
    lb: HostId,
    masters: &[HostId],
    kubectl_host: &str,
    workers: &[&str],
) -> Result<(), ModelError> {
    let named = workers
        .iter()
        .chain(std::iter::once(&kubectl_host))
        .filter_map(|w| net.host(w));
    let pairs = named
        .chain(masters.iter().copied())
        .map(|c| (c, lb))
        .chain(masters.iter().flat_map(|&m| masters.iter().map(move |&o| (m, o))))
        .filter(|&(a, b)| a != b && net.route(a, b).is_none())
        .map(|(a, b)| (net.name(a).to_owned(), net.name(b).to_owned()))
        .collect::<Vec<_>>();
    if pairs.is_empty() {
        Ok(())
    } else {
        Err(ModelError::Network(crate::network::NetworkError::Unreachable(pairs)))
    }
}

/// A client component and its connection through the balancer.
pub(super) struct Attached {
    /// The component.
    pub(super) id: ComponentId,
    /// Its connection.
    pub(super) conn: Conn,
}

impl Attached {
    /// How the control plane sees it as a watcher.
    fn watcher(&self, role: ClientRole) -> Watcher {
        Watcher {
            id: self.id,
            host: self.conn.host,
            master: self.conn.master,
            role,
        }
    }
}

/// Where the workers' images come from: a registry on the overlay (each worker's pull from it,
/// and one component for the links its downloads cross), or Docker Hub through each site's
/// shared uplink, for the sites that declare one.
pub(super) struct ImageSources<'a> {
    /// The registry on the overlay, if the scenario places one (`runtime.registry_host`).
    registry: Option<OverlayRegistry>,
    /// How each worker pulls from it: round trip, download rate, outages on its route.
    overlay_pulls: Vec<NodePull>,
    /// One shared uplink per site that declares one; its nodes' image downloads go through it.
    uplinks: Vec<(&'a str, ComponentId)>,
    /// With a registry on the overlay, one component for the links its downloads cross, and
    /// each site's path through them (`OverlayRegistry::links`).
    overlay_links: Option<(ComponentId, SitePaths)>,
}

impl ImageSources<'_> {
    /// The path of downloads from the overlay registry to `site`: the shared links' component,
    /// and the links crossed.
    fn overlay_path(&self, site: &str) -> Option<(ComponentId, &[usize])> {
        self.overlay_links.as_ref().and_then(|(id, paths)| {
            paths
                .iter()
                .find(|(name, _)| name == site)
                .map(|(_, p)| (*id, p.as_slice()))
        })
    }
}

/// A simulation being assembled, and what its steps share.
pub(super) struct Assembly<'a> {
    s: &'a Scenario,
    seed: u64,
    net: Arc<Network>,
    lb: HostId,
    masters: Vec<HostId>,
    /// HAProxy's splice time per message.
    proxy: SimDuration,
    sim: Simulation<Ev>,
    /// HAProxy's choice of an apiserver for each new connection.
    balancer: Balancer,
    /// The connections' copy of the clients' failovers, filled in when the faults are planned.
    failover_book: FailoverBook,
    /// The control plane component.
    pub(super) cp: ComponentId,
}

impl<'a> Assembly<'a> {
    /// A simulation of `s` seeded with `seed`, with HAProxy and the control plane (apiservers
    /// and etcd) on the hosts of `place`.
    pub(super) fn new(s: &'a Scenario, seed: u64, trace: bool, place: &Placement<'a>) -> Result<Self, ModelError> {
        let proxy = s.haproxy.proxy_time.get();
        let mut sim: Simulation<Ev> = Simulation::new(seed);
        sim.set_tracing(trace);
        let balancer = Balancer::new(place.masters.len());
        let cp_comp = ControlPlane::new(
            place.net.clone(),
            place.lb,
            place.masters.clone(),
            place.etcd_leader,
            &s.kubernetes.apiserver,
            &s.kubernetes.etcd,
            proxy,
            SERVICE_TIME_CV,
        );
        let cp = sim
            .add_component("control-plane", cp_comp)
            .map_err(|e| incomplete(s, e.to_string()))?;
        Ok(Assembly {
            s,
            seed,
            net: place.net.clone(),
            lb: place.lb,
            masters: place.masters.clone(),
            proxy,
            sim,
            balancer,
            failover_book: FailoverBook::default(),
            cp,
        })
    }

    /// Registers a component under `name`.
    fn add(&mut self, name: impl Into<String>, component: impl Component<Ev>) -> Result<ComponentId, ModelError> {
        self.sim
            .add_component(name, component)
            .map_err(|e| incomplete(self.s, e.to_string()))
    }

    /// Schedules `event` for `to` at `at`.
    fn schedule(&mut self, to: ComponentId, at: SimTime, event: Ev) -> Result<(), ModelError> {
        self.sim
            .schedule(to, at, event)
            .map_err(|e| incomplete(self.s, e.to_string()))?;
        Ok(())
    }

    /// A new connection from host `h` to the apiserver the balancer picks.
    fn connect(&mut self, h: HostId) -> Result<Conn, ModelError> {
        let m = self
            .balancer
            .connect()
            .ok_or_else(|| incomplete(self.s, "every apiserver is down"))?;
        Ok(Conn {
            net: self.net.clone(),
            host: h,
            lb: self.lb,
            master_host: self.masters[m],
            master: m as u8,
            proxy_time: self.proxy,
            failovers: self.failover_book.clone(),
        })
    }

    /// An API client on `conn` without a client-side rate limit.
    fn client(&self, conn: &Conn) -> Client {
        Client::new(conn.clone(), self.cp, TokenBucket::unlimited())
    }

    /// The kube-controller-manager leader, on the first master.
    pub(super) fn add_controller_manager(&mut self) -> Result<Attached, ModelError> {
        let conn = self.connect(self.masters[0])?;
        let kcm = ControllerManager::new(self.client(&conn), &self.s.kubernetes.controller_manager);
        let id = self.add(super::CONTROLLER_MANAGER, kcm)?;
        Ok(Attached { id, conn })
    }

    /// The kube-scheduler leader, on the first master, scheduling onto `workers` nodes.
    pub(super) fn add_scheduler(&mut self, workers: usize) -> Result<Attached, ModelError> {
        let conn = self.connect(self.masters[0])?;
        let k = &self.s.kubernetes;
        let scheduler = Scheduler::new(
            self.client(&conn),
            &k.scheduler,
            workers as u32,
            &k.node,
            k.kubelet.host_network_pods,
            k.kubelet.max_pods,
        );
        let id = self.add(super::SCHEDULER, scheduler)?;
        Ok(Attached { id, conn })
    }

    /// Where the `workers` pull their images from, with the uplink components that downloads
    /// share.
    pub(super) fn add_image_sources(&mut self, workers: &[&str]) -> Result<ImageSources<'a>, ModelError> {
        let (s, net) = (self.s, &self.net);
        let registry = match s.runtime.registry_host.as_deref() {
            Some(name) => Some(OverlayRegistry::new(s, net, name)?),
            None => None,
        };
        let overlay_pulls: Vec<NodePull> = match &registry {
            Some(reg) => workers
                .iter()
                .map(|w| reg.pull_from(s, net, host_id(s, net, w)?))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let mut uplinks: Vec<(&str, ComponentId)> = Vec::new();
        let mut overlay_links: Option<(ComponentId, SitePaths)> = None;
        if let Some(reg) = &registry {
            if let Some(links) = reg.links(s) {
                let id = self.add(format!("uplink/{}", reg.site), links.uplink)?;
                overlay_links = Some((id, links.paths));
            }
        } else {
            for site in &s.sites {
                if let Some(capacity) = site.uplink {
                    let up = SiteUplink::new(site.name.clone(), capacity.bits_per_s).with_outages(
                        crate::pull_outages::outages_of(
                            site,
                            &s.faults,
                            site.registry_rtt.unwrap_or(s.runtime.registry_rtt).get(),
                        ),
                    );
                    let id = self.add(format!("uplink/{}", site.name), up)?;
                    uplinks.push((site.name.as_str(), id));
                }
            }
        }
        Ok(ImageSources {
            registry,
            overlay_pulls,
            uplinks,
            overlay_links,
        })
    }

    /// A kubelet on each of the `workers`, in order: the components, and how the control plane
    /// sees them as watchers.
    pub(super) fn add_kubelets(
        &mut self,
        workers: &[&str],
        images: &ImageSources<'_>,
    ) -> Result<(Vec<ComponentId>, Vec<Watcher>), ModelError> {
        let mut kubelets = Vec::new();
        let mut kubelet_watch = Vec::new();
        // Looked up once per worker: by name, not by a scan (a scan per worker made building a
        // scenario of 50,000 workers take seconds).
        let site_of: std::collections::HashMap<&str, &str> = self
            .s
            .hosts
            .iter()
            .map(|x| (x.name.as_str(), x.site.as_str()))
            .collect();
        for (i, w) in workers.iter().enumerate() {
            let site = site_of.get(w).copied().unwrap_or_default();
            let kubelet = self.add_kubelet(i, w, site, images)?;
            kubelets.push(kubelet.id);
            kubelet_watch.push(kubelet.watcher(ClientRole::Kubelet));
        }
        Ok((kubelets, kubelet_watch))
    }

    /// The kubelet of worker `i`, `w` at `site`, with its image source.
    fn add_kubelet(
        &mut self,
        i: usize,
        w: &str,
        site: &str,
        images: &ImageSources<'_>,
    ) -> Result<Attached, ModelError> {
        let s = self.s;
        let h = host_id(s, &self.net, w)?;
        let conn = self.connect(h)?;
        // Where this node pulls from: the overlay registry over its route (and the shared
        // links on its site's path), or Docker Hub over its site's own uplink.
        let path = images.overlay_path(site);
        let (runtime, rtt, uplink, outages) = if let Some(pull) = images.overlay_pulls.get(i) {
            (
                &pull.runtime,
                pull.rtt,
                path.map(|(id, _)| id),
                Some(pull.outages.clone()),
            )
        } else {
            let own = s.sites.iter().find(|x| x.name == site);
            let rtt = own.and_then(|x| x.registry_rtt).unwrap_or(s.runtime.registry_rtt).get();
            let uplink = images.uplinks.iter().find(|(name, _)| *name == site).map(|&(_, u)| u);
            let outages = own.map(|x| crate::pull_outages::outages_of(x, &s.faults, rtt));
            (&s.runtime, rtt, uplink, outages)
        };
        let k = Kubelet::new(
            w.to_owned(),
            self.client(&conn),
            self.client(&conn).with_id_base(crate::kubelet::HEARTBEAT_ID_BASE),
            &s.kubernetes.kubelet,
            runtime,
            rtt,
            SERVICE_TIME_CV,
        );
        let k = match uplink {
            Some(u) => k.with_uplink(u),
            None => k,
        };
        let k = match &images.registry {
            Some(reg) => k.with_overlay_route(h, reg.host),
            None => k,
        };
        let k = match images.overlay_pulls.get(i) {
            Some(pull) if !pull.download_windows.is_empty() => k.with_download_windows(pull.download_windows.clone()),
            _ => k,
        };
        let k = match outages {
            Some(o) => k.with_outages(o),
            None => k,
        };
        let id = self.add(format!("kubelet/{w}"), k)?;
        if let (Some(pull), Some((up, path))) = (images.overlay_pulls.get(i), path) {
            let links = self.sim.component_mut::<SiteUplink>(up).expect("uplink registered");
            if !pull.outages.is_empty() {
                links.set_route_outages(id, pull.outages.clone());
            }
            links.set_cap_windows(id, pull.download_windows.clone());
            // This uplink alone is every download's path unless told otherwise.
            if path != [0] {
                links.set_path(id, path.to_vec());
            }
        }
        Ok(Attached { id, conn })
    }

    /// kubectl, on `kubectl_host`, which creates the Deployment and scales it.
    pub(super) fn add_kubectl(&mut self, kubectl_host: &str) -> Result<Attached, ModelError> {
        let kubectl_h = host_id(self.s, &self.net, kubectl_host)?;
        let conn = self.connect(kubectl_h)?;
        let (net, lb) = (&self.net, self.lb);
        let one_way = |a, b| net.base_one_way(a, b).unwrap_or(SimDuration::ZERO);
        let kubectl_connect = crate::network::apiserver_connect_time(
            one_way(kubectl_h, lb) + one_way(lb, kubectl_h),
            one_way(lb, conn.master_host) + one_way(conn.master_host, lb),
        );
        // kubectl's client limit (5 QPS, burst 10 in v1.16) never binds for two requests.
        let kubectl = Kubectl::new(
            self.client(&conn),
            self.s.workload.replicas,
            self.s.workload.scale_gap.get(),
            kubectl_connect,
        );
        let id = self.add("kubectl", kubectl)?;
        Ok(Attached { id, conn })
    }

    /// Tells the control plane its clients: their keys, and where each watches from.
    pub(super) fn register_clients(
        &mut self,
        kcm: &Attached,
        scheduler: &Attached,
        kubectl: &Attached,
        kubelets: &[ComponentId],
        kubelet_watch: Vec<Watcher>,
    ) {
        let sim = &mut self.sim;
        // The apiserver's clients keyed by their names (kubelet/node01, kubectl, ...).
        let mut keys: Vec<u64> = (0..sim.component_count() as u64).collect();
        for id in [kcm.id, scheduler.id, kubectl.id]
            .into_iter()
            .chain(kubelets.iter().copied())
        {
            if let Some(name) = sim.name(id) {
                keys[id.index()] = sim_core::rng::stable_key(name);
            }
        }
        let c = sim
            .component_mut::<ControlPlane>(self.cp)
            .expect("control plane registered");
        c.set_client_keys(keys);
        c.kcm = Some(kcm.watcher(ClientRole::Leader));
        c.scheduler = Some(scheduler.watcher(ClientRole::Leader));
        c.observer = Some(kubectl.watcher(ClientRole::Operator));
        c.kubelets = kubelet_watch;
    }

    /// etcd's elections, simulated from a stream of their own when anything can change who
    /// leads (faults, or jitter or loss between the masters).
    pub(super) fn set_up_etcd(&mut self) {
        let s = self.s;
        let timers = crate::raft::RaftTimers {
            heartbeat: s.kubernetes.etcd.heartbeat.get(),
            election: s.kubernetes.etcd.election_timeout.get(),
        };
        let horizon = SimTime::ZERO + s.workload.timeout.get();
        let raft_seed = sim_core::rng::keyed_seed(self.seed, sim_core::rng::stable_key("etcd-raft"));
        let c = self
            .sim
            .component_mut::<ControlPlane>(self.cp)
            .expect("control plane registered");
        c.set_etcd(&s.faults, &s.haproxy.backends, timers, horizon, raft_seed);
    }

    /// Faults: availability over time, and every client's failover, drawn from a stream of
    /// their own, so that adding a fault leaves every other random draw of the run as it was
    /// (a fault after the run ends changes nothing; with and without a fault compare under
    /// common random numbers). `workers` are the worker nodes' names, in the kubelets' order.
    pub(super) fn plan_faults(&mut self, workers: &[&str]) -> Result<(), ModelError> {
        let s = self.s;
        if s.faults.is_empty() {
            return Ok(());
        }
        let kubelet = &s.kubernetes.kubelet;
        let timers = Timers {
            heartbeat: kubelet.node_status_update.get(),
            node_lease_renew: kubelet.lease_renew_interval(),
            heartbeat_timeout: kubelet.heartbeat_timeout(),
            etcd_request_timeout: crate::etcd::request_timeout(s.kubernetes.etcd.election_timeout.get()),
            lease: s.kubernetes.controller_manager.lease_duration.get(),
            renew_deadline: s.kubernetes.controller_manager.renew_deadline.get(),
            retry: s.kubernetes.controller_manager.retry_period.get(),
        };
        let sched = &s.kubernetes.scheduler;
        let scheduler_timers = Timers {
            lease: sched.lease_duration.get(),
            renew_deadline: sched.renew_deadline.get(),
            retry: sched.retry_period.get(),
            ..timers
        };
        let names: Vec<String> = s.haproxy.backends.clone();
        let mut rng = sim_core::rng::named_stream(self.seed, "fault plan");
        let cp = self.cp;
        let c = self
            .sim
            .component_mut::<ControlPlane>(cp)
            .expect("control plane registered");
        // The connections' copy of the failovers, filled in by `set_faults`.
        c.failover_book = self.failover_book.clone();
        let failovers = c.set_faults(&s.faults, &names, &s.haproxy, timers, scheduler_timers, &mut rng);
        // Faults may silence nodes: the node lifecycle controller watches their heartbeats and
        // evicts the pods of nodes silent for good (runs without faults never need it).
        let cm = &s.kubernetes.controller_manager;
        let client =
            TokenBucket::new(cm.kube_api_qps, cm.kube_api_burst).expect("checked controller-manager QPS/burst");
        // The masters are registered nodes too, whose kubelets renew their Lease as the workers'
        // do, each from a phase of its own.
        let post_period = s.kubernetes.kubelet.lease_renew_interval();
        let mut phases = sim_core::rng::named_stream(self.seed, "control-plane kubelets");
        let post_phase = names
            .iter()
            .map(|_| SimDuration::from_secs_f64(rand::Rng::random::<f64>(&mut phases) * post_period.as_secs_f64()))
            .collect();
        let nodes: Vec<&str> = workers
            .iter()
            .copied()
            .chain(names.iter().map(String::as_str))
            .collect();
        // Besides the workload: a worker's DaemonSet pods (kube-proxy, weave-net); a master's
        // too, and kubeadm's four static pods (etcd, kube-apiserver, kube-controller-manager,
        // kube-scheduler, from /etc/kubernetes/manifests).
        let daemon_pods = s.kubernetes.kubelet.host_network_pods;
        let system_pods = (daemon_pods, daemon_pods + crate::node_lifecycle::KUBEADM_STATIC_PODS);
        c.enable_node_lifecycle(
            cm.node_monitor_grace_period.get(),
            client,
            &nodes,
            post_period,
            post_phase,
            system_pods,
        );
        self.schedule(
            cp,
            SimTime::ZERO + crate::node_lifecycle::NODE_MONITOR_PERIOD,
            Ev::Local(crate::api::Local::NodeMonitor),
        )?;
        for f in failovers {
            let host = self
                .sim
                .component::<ControlPlane>(cp)
                .expect("control plane registered")
                .master_host(f.to_master);
            self.schedule(
                f.client,
                f.reconnect_at,
                Ev::Rebind {
                    master: f.to_master,
                    host,
                    from: f.host,
                },
            )?;
        }
        Ok(())
    }

    /// The first events: every kubelet starts, then kubectl.
    pub(super) fn schedule_starts(&mut self, kubelets: &[ComponentId], kubectl: ComponentId) -> Result<(), ModelError> {
        for &k in kubelets {
            self.schedule(k, SimTime::ZERO, Ev::Local(Local::Start))?;
        }
        self.schedule(kubectl, SimTime::ZERO, Ev::Local(Local::Start))
    }

    /// The assembled simulation.
    pub(super) fn into_simulation(mut self) -> Simulation<Ev> {
        // A replication ends by `workload.timeout`: messages held past it (behind a balancer or
        // tunnel that is never repaired) need not wait in the queue.
        self.sim.set_horizon(SimTime::ZERO + self.s.workload.timeout.get());
        self.sim
    }
}
