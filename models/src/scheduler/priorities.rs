//! The v1.16 default priority functions that tell a Deployment's identical pods apart, with
//! their integer arithmetic, which decides how evenly pods spread.
//!
//! The v1.16 default provider scores every feasible node with `SelectorSpreadPriority`,
//! `InterPodAffinityPriority`, `LeastRequestedPriority`, `BalancedResourceAllocation`,
//! `NodePreferAvoidPodsPriority` (weight 10,000), `NodeAffinityPriority`,
//! `TaintTolerationPriority` and `ImageLocalityPriority` (weight 1 each; pkg/scheduler/
//! algorithmprovider/defaults). For a Deployment's pods with no affinity on untainted workers,
//! all but three give every node the same score (image locality scores the image's size as the
//! node status reports it, uncompressed, about 126 MB for nginx in 2019, times the share of
//! nodes that hold it, at most 4/7 here: about 72 MB, which rounds to 0 on its 23 MB-1,000 MB
//! scale; `ImageLocalityPriorityMap`, `scaledImageScore`), so only these three decide, and
//! each is an integer in 0..=10 (`schedulerapi.MaxPriority = 10`; the 0..=100 range came with
//! v1.17, PR #83522). A one-pod
//! difference scores 0 once a node holds more than ten of the Deployment's pods, and the resource
//! scores move in steps of a few pods, so ties are common and `selectHost` breaks them at random:
//! the spread is even only up to a pod or two.
//!
//! Requests are counted as the priorities count them: a container without a request counts
//! 100 millicores and 200 MiB (`GetNonzeroRequests`, priorities/util/non_zero.go).

/// The highest score of a priority function in v1.16 (`schedulerapi.MaxPriority`).
pub const MAX_PRIORITY: i64 = 10;
/// CPU a container without a request counts for, millicores (`DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory a container without a request counts for, bytes (`DefaultMemoryRequest`).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// `SelectorSpreadPriority` of a node holding `count` of the Deployment's pods (the assumed ones
/// included) when the fullest node scored holds `max`: `int(10 x (max - count) / max)`, 10 while
/// no node has one (selector_spreading.go `CalculateSpreadPriorityReduce`, nodes without zone
/// labels).
pub fn selector_spread_of(count: i64, max: i64) -> i64 {
    if max > 0 {
        (MAX_PRIORITY as f64 * ((max - count) as f64 / max as f64)) as i64
    } else {
        MAX_PRIORITY
    }
}

/// `LeastRequestedPriority` for a node with `requested` (the pod being scheduled included) of
/// `allocatable` CPU and memory: the mean, in integers, of `(allocatable - requested) x 10 /
/// allocatable` per resource, 0 for a resource over-requested (least_requested.go).
pub fn least_requested(requested: Resources, allocatable: Resources) -> i64 {
    let score = |req: i64, cap: i64| {
        if cap == 0 || req > cap {
            0
        } else {
            (cap - req) * MAX_PRIORITY / cap
        }
    };
    (score(requested.milli_cpu, allocatable.milli_cpu) + score(requested.memory, allocatable.memory)) / 2
}

/// `BalancedResourceAllocation` for the same node: `int((1 - |cpu fraction - memory fraction|) x
/// 10)`, 0 once either fraction reaches 1 (balanced_resource_allocation.go).
pub fn balanced_allocation(requested: Resources, allocatable: Resources) -> i64 {
    let fraction = |req: i64, cap: i64| if cap == 0 { 1.0 } else { req as f64 / cap as f64 };
    let cpu = fraction(requested.milli_cpu, allocatable.milli_cpu);
    let memory = fraction(requested.memory, allocatable.memory);
    if cpu >= 1.0 || memory >= 1.0 {
        return 0;
    }
    ((1.0 - (cpu - memory).abs()) * MAX_PRIORITY as f64) as i64
}

/// CPU (millicores) and memory (bytes), as the priorities count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    /// Millicores.
    pub milli_cpu: i64,
    /// Bytes.
    pub memory: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: i64 = 1024 * 1024;

    /// [`selector_spread_of`] for every node of a cycle.
    fn selector_spread(counts: &[i64]) -> Vec<i64> {
        let max = counts.iter().copied().max().unwrap_or(0);
        counts.iter().map(|&c| selector_spread_of(c, max)).collect()
    }

    #[test]
    fn spreading_cannot_tell_one_pod_apart_above_ten() {
        assert_eq!(selector_spread(&[0, 0, 0]), [10, 10, 10]);
        assert_eq!(selector_spread(&[1, 0, 0]), [0, 10, 10]);
        assert_eq!(selector_spread(&[5, 4, 5]), [0, 2, 0]);
        // 10 x (11 - 10) / 11 = 0.9, truncated to 0: 10 and 11 pods score alike.
        assert_eq!(selector_spread(&[11, 10, 11]), [0, 0, 0]);
        assert_eq!(selector_spread(&[25, 23, 24]), [0, 0, 0]);
    }

    #[test]
    fn resource_scores_move_in_steps_of_pods() {
        let alloc = Resources {
            milli_cpu: 2000,
            memory: 3996 * MIB,
        };
        let with = |pods: i64| Resources {
            milli_cpu: 120 + DEFAULT_MILLI_CPU_REQUEST * pods,
            memory: 600 * MIB + DEFAULT_MEMORY_REQUEST * pods,
        };
        // CPU: (2000 - 220) x 10 / 2000 = 8; memory: (3996 - 800) x 10 / 3996 = 7; mean 7.
        assert_eq!(least_requested(with(1), alloc), 7);
        assert_eq!(least_requested(with(2), alloc), 7);
        assert_eq!(least_requested(with(4), alloc), 6);
        // Over the CPU and the memory: both score 0.
        assert_eq!(least_requested(with(20), alloc), 0);
        // Fractions 0.11 and 0.2002: int((1 - 0.0902) x 10) = 9.
        assert_eq!(balanced_allocation(with(1), alloc), 9);
        assert_eq!(balanced_allocation(with(19), alloc), 0);
        let zero = Resources::default();
        assert_eq!(least_requested(with(1), zero), 0);
        assert_eq!(balanced_allocation(with(1), zero), 0);
    }
}
