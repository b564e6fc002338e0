//! Which of a run's faults each failover and node mark is listed under, when several faults
//! could have set it off: a rule, not a trace of causes (README, "Faults"). Single-fault runs
//! list everything under their one fault. With several, the rule follows the mechanism (the
//! fault that took the client's apiserver out, cut the client off long enough to be noticed,
//! or silenced the node first) and does not depend on the order the faults are written in.

use sim_core::{SimDuration, SimTime};

use crate::control_plane::ControlPlane;
use crate::network::HostId;
use crate::node_lifecycle::Mark;
use crate::spec::Scenario;

/// The faults of one finished run, ordered for attribution, with what each took out.
pub(super) struct Attribution<'a> {
    scenario: &'a Scenario,
    cp: &'a ControlPlane,
    /// Per fault, the masters it takes out (crashes, stops the etcd member of, cuts off).
    taken_out: &'a [Vec<usize>],
    /// The faults by start, then the longer lasting first (its effect outlasts the other's),
    /// then by what each is: where two faults starting together could claim the same thing,
    /// the first in this order does, not the one written first.
    order: Vec<usize>,
    /// A network cut shorter than this (two heartbeat timeouts) is over before a kubelet
    /// notices it (`closeAllConns` after the second failed try), so it moves nobody.
    noticed_after: SimDuration,
}

impl<'a> Attribution<'a> {
    /// The attribution of `scenario`'s faults in the run `cp` finished; `taken_out[i]` are the
    /// masters fault `i` takes out.
    pub(super) fn new(scenario: &'a Scenario, cp: &'a ControlPlane, taken_out: &'a [Vec<usize>]) -> Attribution<'a> {
        let text: Vec<String> = scenario.faults.iter().map(|f| format!("{f:?}")).collect();
        let key = |j: usize| {
            let (start, end) = scenario.faults[j].window();
            (start, std::cmp::Reverse(end))
        };
        let mut order: Vec<usize> = (0..scenario.faults.len()).collect();
        order.sort_by(|&a, &b| (key(a), &text[a], a).cmp(&(key(b), &text[b], b)));
        Attribution {
            scenario,
            cp,
            taken_out,
            order,
            noticed_after: scenario.kubernetes.kubelet.heartbeat_timeout() * 2,
        }
    }

    fn started(&self, j: usize) -> SimTime {
        self.scenario.faults[j].window().0
    }

    fn ends(&self, j: usize) -> SimTime {
        self.scenario.faults[j].window().1
    }

    /// The last begun of the faults that `claims`, if any (of those begun together, the first
    /// in [`Attribution::order`]).
    fn last_begun(&self, claims: &dyn Fn(usize) -> bool) -> Option<usize> {
        let latest = self
            .order
            .iter()
            .copied()
            .filter(|&j| claims(j))
            .map(|j| self.started(j))
            .max()?;
        self.order
            .iter()
            .copied()
            .find(|&j| self.started(j) == latest && claims(j))
    }

    /// The fault a failover is listed under: its client, on `host`, lost apiserver `from` at
    /// `lost`. Of the faults starting then: the one that takes that apiserver out, else the
    /// one that takes out the master the client ran on (a leader-elected controller's), else
    /// one that cuts the client itself off from the balancer long enough to be noticed or
    /// crashes the balancer (a kubelet's cut, a reset connection), else one that takes a
    /// master out (a survivor's loss of its quorum), else any. For a loss that no fault starts
    /// (the clients of a member outside the quorum move once a quorum serves elsewhere; a cut
    /// that begins when a crashed balancer comes back): the last fault begun before it and
    /// still in force that takes its apiserver out, else the last such one, in force or not,
    /// else the last in force that cuts the client off, else the last in force, else the last
    /// begun before it.
    pub(super) fn failover_owner(&self, lost: SimTime, from: usize, host: HostId) -> Option<usize> {
        let (faults, cp, taken_out) = (&self.scenario.faults, self.cp, self.taken_out);
        let together = || self.order.iter().copied().filter(move |&j| self.started(j) == lost);
        let cuts_off = |j: usize| {
            let long_enough = self.ends(j).saturating_since(self.started(j)) >= self.noticed_after;
            (cp.fault_cuts_host_off(&faults[j], host) && long_enough) || cp.fault_crashes_balancer(&faults[j])
        };
        together()
            .find(|&j| taken_out[j].contains(&from))
            .or_else(|| together().find(|&j| taken_out[j].iter().any(|&m| cp.master_host(m as u8) == host)))
            .or_else(|| together().find(|&j| cuts_off(j)))
            .or_else(|| together().find(|&j| !taken_out[j].is_empty()))
            .or_else(|| together().next())
            .or_else(|| {
                let before = |j: usize| self.started(j) < lost;
                let in_force = |j: usize| before(j) && self.ends(j) > lost;
                let takes_it = |j: usize| taken_out[j].contains(&from);
                self.last_begun(&|j| in_force(j) && takes_it(j))
                    .or_else(|| self.last_begun(&|j| before(j) && takes_it(j)))
                    .or_else(|| self.last_begun(&|j| in_force(j) && cp.fault_cuts_host_off(&faults[j], host)))
                    .or_else(|| self.last_begun(&in_force))
                    .or_else(|| self.last_begun(&before))
            })
    }

    /// The fault each of the node lifecycle controller's marks (`ControlPlane::node_marks`, in
    /// order) is listed under. A node's NotReady belongs to the fault that silenced it: of those
    /// in force at the latest its last heartbeat can have been sent (the grace period before
    /// the mark, a renewal interval later) that silence its host (crash it or the balancer,
    /// cut it off, lose its packets), the first begun (the node went silent when it began; one
    /// begun later only kept it so); else the last begun of those that silence it, repaired
    /// or not (a node can stay silent a while after a lossy tunnel's repair, its TCP timers
    /// backed off); else the last begun of those in force then; else of those begun by then.
    /// Its taint and its return to Ready belong to the same fault. (By the mark's own time, a
    /// later fault elsewhere would claim it.)
    pub(super) fn mark_owners(&self) -> Vec<Option<usize>> {
        let (scenario, cp) = (self.scenario, self.cp);
        let silence = scenario.kubernetes.controller_manager.node_monitor_grace_period.get();
        let renewal = scenario.kubernetes.kubelet.lease_renew_interval();
        let mut node_owner: std::collections::HashMap<u32, Option<usize>> = std::collections::HashMap::new();
        cp.node_marks
            .iter()
            .map(|&(t, node, mark)| match mark {
                Mark::NotReady => {
                    let by = SimTime::ZERO + (t + renewal).since_start().saturating_sub(silence);
                    let silences = |j: usize| {
                        cp.node_host(node)
                            .is_some_and(|h| cp.fault_silences_host(&scenario.faults[j], h))
                    };
                    let begun = |j: usize| self.started(j) <= by;
                    let in_force = |j: usize| begun(j) && self.ends(j) > by;
                    let owner = self
                        .order
                        .iter()
                        .copied()
                        .find(|&j| in_force(j) && silences(j))
                        .or_else(|| self.last_begun(&|j| begun(j) && silences(j)))
                        .or_else(|| self.last_begun(&in_force))
                        .or_else(|| self.last_begun(&begun));
                    node_owner.insert(node, owner);
                    owner
                }
                _ => node_owner.get(&node).copied().flatten(),
            })
            .collect()
    }
}
