//! The pending-event set: a d-ary min-heap keyed by (time, sequence number).
//!
//! # Ordering
//!
//! Entries leave in increasing time; entries with equal time leave in the order they were pushed
//! (the sequence number is a counter incremented by every push), so a run is a pure function of
//! its inputs.
//!
//! # Cost
//!
//! With `n` pending entries and arity `D`: [`DaryHeap::push`] is O(log_D n) (sift-up compares one
//! parent per level), [`DaryHeap::pop`] is O(D log_D n) (sift-down compares up to `D` children per
//! level), [`DaryHeap::peek_time`] is O(1). Storage is a `Vec` of packed keys plus payloads in a slab whose free slots are reused, so the steady state allocates nothing once both have grown to
//! the peak size.
//!
//! # Why a 4-ary heap
//!
//! Chosen by measurement (`cargo bench -p kubetwin-sim-core --bench engine -- queue`, figures in
//! `BENCHMARKS.md`): against `std::collections::BinaryHeap` and d-ary heaps of arity 2, 4 and 8 on
//! the PHOLD hold pattern, the 4-ary heap was fastest at 16,000 pending (about 1.3x std's binary
//! heap) and at 1,000,000 (about 1.3-1.6x). It halves a binary heap's depth, its four children
//! sit in one or two cache lines, and the branchless choice among them avoids the mispredictions
//! that made a first, branchy version slower than std. A calendar queue, an aligned-line layout,
//! a replace-top pass and a radix-heap hybrid were measured too and not kept (`BENCHMARKS.md`).

/// The ordering key of an entry: time first, then the sequence number of the push.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Nanoseconds on the simulated clock.
    pub time: u64,
    /// Push order, unique per queue.
    pub seq: u64,
}

/// Bits of the packed key that hold the payload's slot; the rest of the low word is the sequence.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// The most entries that may be pending at once (2^24 = 16,777,216).
pub const MAX_PENDING: usize = 1 << SLOT_BITS;
/// The most pushes over the life of one queue (2^40, about 1.1e12).
pub const MAX_PUSHES: u64 = 1 << (64 - SLOT_BITS);

/// A min-heap of arity `D` ordered by [`Key`]; see the module documentation for costs.
///
/// The heap array holds only packed 16-byte keys `time << 64 | seq << 24 | slot`, which compare
/// as one `u128` and move as plain copies (sifting moves a "hole" instead of swapping); payloads
/// sit in a slab indexed by `slot` and are touched once on push and once on pop. The packing
/// bounds a queue to [`MAX_PENDING`] pending entries and [`MAX_PUSHES`] pushes in its life.
#[derive(Debug, Clone)]
pub struct DaryHeap<T, const D: usize = 4> {
    heap: Vec<u128>,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<T, const D: usize> Default for DaryHeap<T, D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const D: usize> DaryHeap<T, D> {
    /// An empty heap.
    ///
    /// # Panics
    ///
    /// At compile time of the instantiation if `D < 2`.
    pub fn new() -> Self {
        const { assert!(D >= 2, "a d-ary heap needs D >= 2") };
        DaryHeap {
            heap: Vec::new(),
            slab: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
        }
    }

    /// An empty heap with room for `cap` entries before it reallocates.
    pub fn with_capacity(cap: usize) -> Self {
        let mut h = Self::new();
        h.heap.reserve(cap);
        h.slab.reserve(cap);
        h
    }

    /// Makes room for `additional` more pending entries than are pending now, keeping every
    /// pending entry and the sequence numbers already given.
    pub fn reserve(&mut self, additional: usize) {
        self.heap.reserve(additional);
        let free_slots = self.free.len();
        self.slab.reserve(additional.saturating_sub(free_slots));
    }

    /// Number of pending entries.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no entry is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The sequence number the next push will receive.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Uses up the next sequence number without queueing anything, for an entry the caller
    /// decided never to deliver: its key stays unique, and later entries keep their order.
    ///
    /// # Panics
    ///
    /// If [`MAX_PUSHES`] sequence numbers were used.
    pub fn skip_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        assert!(
            seq < MAX_PUSHES,
            "event queue: more than 2^40 events scheduled in one run"
        );
        self.next_seq += 1;
        seq
    }

    /// Adds `item` at `time`; returns its key. O(log_D n).
    ///
    /// # Panics
    ///
    /// If [`MAX_PENDING`] entries are already pending or [`MAX_PUSHES`] pushes were made: limits
    /// of the packed key, far above what a kubetwin run needs.
    #[inline]
    pub fn push(&mut self, time: u64, item: T) -> Key {
        match self.try_push(time, item, MAX_PENDING) {
            Ok(key) => key,
            Err(_) => panic!("event queue: more than 2^24 events pending at once"),
        }
    }

    /// As [`DaryHeap::push`], but hands `item` back, using no sequence number, when `max_pending`
    /// (at most [`MAX_PENDING`]) entries are pending. The bound is checked only when the slab
    /// grows, so the common push (reusing a freed slot) pays nothing for it.
    ///
    /// # Errors
    ///
    /// `Err(item)` when the queue is full.
    ///
    /// # Panics
    ///
    /// If [`MAX_PUSHES`] pushes were made.
    #[inline]
    pub fn try_push(&mut self, time: u64, item: T, max_pending: usize) -> Result<Key, T> {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(item);
                s as u64
            }
            None => {
                if self.slab.len() >= max_pending.min(MAX_PENDING) {
                    return Err(item);
                }
                self.slab.push(Some(item));
                (self.slab.len() - 1) as u64
            }
        };
        let seq = self.next_seq;
        assert!(
            seq < MAX_PUSHES,
            "event queue: more than 2^40 events scheduled in one run"
        );
        self.next_seq += 1;
        let packed = (u128::from(time) << 64) | u128::from((seq << SLOT_BITS) | slot);
        self.heap.push(packed);
        self.sift_up(self.heap.len() - 1, packed);
        Ok(Key { time, seq })
    }

    /// The time of the earliest entry, if any. O(1).
    #[inline]
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.first().map(|&k| (k >> 64) as u64)
    }

    /// The key of the earliest entry, if any. O(1).
    pub fn peek_key(&self) -> Option<Key> {
        self.heap.first().map(|&k| unpack(k))
    }

    /// Removes and returns the earliest entry (ties: the first pushed). O(D log_D n).
    #[inline]
    pub fn pop(&mut self) -> Option<(Key, T)> {
        let last = self.heap.pop()?;
        let top = if self.heap.is_empty() {
            last
        } else {
            let top = self.heap[0];
            self.sift_down(0, last);
            top
        };
        let slot = (top as u64 & SLOT_MASK) as usize;
        let item = self.slab[slot].take().expect("a pending key always has its payload");
        self.free.push(slot as u32);
        Some((unpack(top), item))
    }

    /// Keeps only the entries whose sequence number satisfies `keep`, dropping the others'
    /// payloads, then restores the heap order. O(n).
    pub fn retain_seq(&mut self, mut keep: impl FnMut(u64) -> bool) {
        let (slab, free) = (&mut self.slab, &mut self.free);
        self.heap.retain(|&k| {
            let seq = (k as u64) >> SLOT_BITS;
            if keep(seq) {
                return true;
            }
            let slot = (k as u64 & SLOT_MASK) as usize;
            slab[slot] = None;
            free.push(slot as u32);
            false
        });
        let n = self.heap.len();
        if n > 1 {
            for i in (0..=(n - 2) / D).rev() {
                self.sift_down_classic(i);
            }
        }
    }

    /// Restores the order below `i` by the textbook top-down sift (for [`Self::retain_seq`]'s
    /// bottom-up heap construction, where entries above `i` are not ordered yet).
    fn sift_down_classic(&mut self, mut i: usize) {
        let h = &mut self.heap;
        let n = h.len();
        let k = h[i];
        loop {
            let first = i * D + 1;
            if first >= n {
                break;
            }
            let best = min_child_partial(h, first, (first + D).min(n));
            if h[best] >= k {
                break;
            }
            h[i] = h[best];
            i = best;
        }
        h[i] = k;
    }

    /// Drops every entry (keeps the allocations and the sequence counter).
    pub fn clear(&mut self) {
        self.heap.clear();
        self.slab.clear();
        self.free.clear();
    }

    /// Moves the hole at `i` up until `k` fits, then writes `k` there.
    #[inline]
    fn sift_up(&mut self, mut i: usize, k: u128) {
        let h = &mut self.heap;
        while i > 0 {
            let parent = (i - 1) / D;
            let pk = h[parent];
            if k >= pk {
                break;
            }
            h[i] = pk;
            i = parent;
        }
        h[i] = k;
    }

    /// Removes the root's hole by Floyd's bottom-up method: the hole descends to a leaf, always
    /// pulling up the smallest child (D - 1 comparisons per level, none against `k`), then `k`
    /// sifts up from there. `k` is the last entry, usually late, so it rarely climbs far; this
    /// is what `std::collections::BinaryHeap::pop` does for D = 2.
    #[inline]
    fn sift_down(&mut self, mut i: usize, k: u128) {
        let n = self.heap.len();
        {
            let h = &mut self.heap;
            loop {
                let first = i * D + 1;
                if first >= n {
                    break;
                }
                let best = if first + D <= n {
                    min_child_full::<D>(h, first)
                } else {
                    min_child_partial(h, first, n)
                };
                h[i] = h[best];
                i = best;
            }
        }
        self.sift_up(i, k);
    }
}

/// The index of the smallest of the `D` children starting at `first`, chosen without branches
/// (a tournament of pairs whose winners are picked with arithmetic on the comparison result):
/// the heap's order is random, so a branch per comparison would be mispredicted half the time.
#[inline(always)]
fn min_child_full<const D: usize>(h: &[u128], first: usize) -> usize {
    let kids = &h[first..first + D];
    if D == 4 {
        let a = usize::from(kids[1] < kids[0]);
        let b = 2 + usize::from(kids[3] < kids[2]);
        let w = if kids[b] < kids[a] { b } else { a };
        return first + w;
    }
    let mut best = 0;
    for c in 1..D {
        best += usize::from(kids[c] < kids[best]) * (c - best);
    }
    first + best
}

/// The index of the smallest child among `first..n` (the last, incomplete family).
#[inline]
fn min_child_partial(h: &[u128], first: usize, n: usize) -> usize {
    let mut best = first;
    for c in first + 1..n {
        if h[c] < h[best] {
            best = c;
        }
    }
    best
}

#[inline]
fn unpack(k: u128) -> Key {
    Key {
        time: (k >> 64) as u64,
        seq: (k as u64) >> SLOT_BITS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain<const D: usize>(h: &mut DaryHeap<u32, D>) -> Vec<(Key, u32)> {
        std::iter::from_fn(|| h.pop()).collect()
    }

    #[test]
    fn equal_times_leave_in_push_order() {
        let mut h: DaryHeap<u32> = DaryHeap::new();
        for i in 0..10 {
            h.push(5, i);
        }
        h.push(1, 100);
        let out: Vec<u32> = drain(&mut h).into_iter().map(|(_, v)| v).collect();
        assert_eq!(out, vec![100, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    proptest! {
        #[test]
        fn pops_in_key_order_like_a_sort(times in proptest::collection::vec(0u64..50, 0..300)) {
            let mut h4: DaryHeap<u32, 4> = DaryHeap::new();
            let mut h2: DaryHeap<u32, 2> = DaryHeap::new();
            for (i, &t) in times.iter().enumerate() {
                h4.push(t, i as u32);
                h2.push(t, i as u32);
            }
            let mut expected: Vec<(u64, u32)> = times.iter().enumerate().map(|(i, &t)| (t, i as u32)).collect();
            expected.sort();
            let got4: Vec<(u64, u32)> = drain(&mut h4).into_iter().map(|(k, v)| (k.time, v)).collect();
            let got2: Vec<(u64, u32)> = drain(&mut h2).into_iter().map(|(k, v)| (k.time, v)).collect();
            prop_assert_eq!(&got4, &expected);
            let mut h: DaryHeap<u32, 4> = DaryHeap::new();
            for (i, &t) in times.iter().enumerate() {
                h.push(t, i as u32);
            }
            h.retain_seq(|seq| seq % 3 != 0);
            let kept: Vec<(u64, u32)> = expected.iter().copied().filter(|&(_, i)| i % 3 != 0).collect();
            let got: Vec<(u64, u32)> = drain(&mut h).into_iter().map(|(k, v)| (k.time, v)).collect();
            prop_assert_eq!(&got, &kept);
            prop_assert_eq!(&got2, &expected);
        }
    }
}
