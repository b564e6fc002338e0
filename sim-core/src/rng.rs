//! Per-component random streams.
//!
//! Every component draws from its own generator, seeded from the run seed and a *stable key* of
//! the component (a 64-bit FNV-1a hash of its unique name), not from its registration index. So:
//!
//! - adding, removing or reordering components never shifts another component's numbers;
//! - a run's numbers do not depend on how many threads run replications side by side;
//! - replication `r` of a scenario uses run seed [`replication_seed`]`(seed, r)`.
//!
//! # Generator
//!
//! [`SimRng`] is `rand_pcg::Pcg64Mcg` (PCG with 128-bit multiplicative congruential state and
//! XSL-RR output, O'Neill 2014). The `rand_pcg` crate documents its generators as portable and
//! value-stable: the same seed gives the same numbers on every platform and in every release
//! that does not bump the crate's major version. It was chosen by measurement against
//! `rand_chacha::ChaCha8Rng` and `rand_xoshiro::Xoshiro256PlusPlus` (see `BENCHMARKS.md`): on one
//! stream it is within a few percent of Xoshiro256++ (which is 2-7 % faster) and twice as fast as
//! ChaCha8; with 100,000 streams drawn at random, as a large scenario does, its 16-byte state
//! makes it the fastest (1.27x Xoshiro256++'s 32 bytes, 4.8x ChaCha8Rng's 320).

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// The generator every component draws from; see the module documentation for why.
pub type SimRng = Pcg64Mcg;

/// A 64-bit FNV-1a hash: a stable key for a component name (unlike `std`'s `DefaultHasher`,
/// whose output may change between Rust releases).
pub fn stable_key(name: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    name.bytes().fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// SplitMix64's finalizer (Steele, Lea and Flood 2014): a bijective 64-bit mixer.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator of the component with stable key `key` in a run seeded with `seed`.
pub fn stream(seed: u64, key: u64) -> SimRng {
    let hi = mix64(seed ^ mix64(key));
    let lo = mix64(hi ^ key.rotate_left(32) ^ 0x6a09_e667_f3bc_c909);
    Pcg64Mcg::new((u128::from(hi) << 64) | u128::from(lo))
}

/// The seed of the keyed streams ([`crate::Context::keyed_rng`]) of the component with stable
/// key `key` in a run seeded with `seed`; [`stream`]`(keyed_seed(seed, key), k)` is its stream
/// `k`, distinct from its main stream [`stream`]`(seed, key)`.
pub fn keyed_seed(seed: u64, key: u64) -> u64 {
    mix64(mix64(seed ^ 0x243f_6a88_85a3_08d3) ^ key)
}

/// The generator of the component named `name` in a run seeded with `seed`.
pub fn named_stream(seed: u64, name: &str) -> SimRng {
    stream(seed, stable_key(name))
}

/// The run seed of replication `rep` of an experiment seeded with `seed`: replications are
/// independent of each other and of the order in which threads pick them up.
pub fn replication_seed(seed: u64, rep: u64) -> u64 {
    mix64(seed ^ mix64(rep.wrapping_add(0x5851_f42d_4c95_7f2d)))
}

/// A generator for code outside any component (set-up, sampling a topology), seeded directly.
pub fn seeded(seed: u64) -> SimRng {
    SimRng::seed_from_u64(seed)
}

/// A duration drawn uniformly in `[0, period)`: the phase of a periodic loop that has run for
/// long at an unknown offset (one `f64` draw from `rng`).
pub fn uniform_within(rng: &mut (impl rand::Rng + ?Sized), period: crate::SimDuration) -> crate::SimDuration {
    crate::SimDuration::from_secs_f64(rng.random::<f64>() * period.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        // Reference values of 64-bit FNV-1a (Fowler/Noll/Vo test suite).
        assert_eq!(stable_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_key("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_key("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(named_stream(7, "kubelet/node01"), |r, _| Some(r.random()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(named_stream(7, "kubelet/node01"), |r, _| Some(r.random()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(named_stream(7, "kubelet/node02"), |r, _| Some(r.random()))
            .collect();
        let d: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(named_stream(8, "kubelet/node01"), |r, _| Some(r.random()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn output_is_value_stable() {
        // Pinned output: if this changes, every published result changes with it. A failure here
        // means the generator or the seeding changed and must be announced as a breaking change.
        let mut r = named_stream(1, "lp-0");
        let first: u64 = r.random();
        let mut again = named_stream(1, "lp-0");
        assert_eq!(first, again.random::<u64>());
        assert_eq!(first, PINNED_LP0_SEED1);
    }

    /// First `u64` of `named_stream(1, "lp-0")`, recorded when the generator was chosen.
    const PINNED_LP0_SEED1: u64 = 972_336_237_922_612_008;
}
