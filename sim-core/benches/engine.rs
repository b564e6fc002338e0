//! Criterion benchmarks of the engine: the event-queue structure, the random generator, and
//! PHOLD on the engine against a bare `BinaryHeap` loop. Figures are recorded in `BENCHMARKS.md`.
//!
//! Run: `cargo bench -p kubetwin-sim-core --bench engine` (add a filter such as `queue`).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::{Distribution, Exp1};
use sim_core::phold::{run_baseline, run_engine, PholdConfig};
use sim_core::queue::DaryHeap;

/// The hold model: pop the earliest entry, push one at `now + Exp(1)`; the queue size stays `n`.
fn hold_dary<const D: usize>(n: usize, ops: usize, seed: u64) -> u64 {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let mut h: DaryHeap<u32, D> = DaryHeap::with_capacity(n + 1);
    for i in 0..n {
        let e: f64 = Exp1.sample(&mut rng);
        h.push((e * 1e9) as u64, i as u32);
    }
    let mut acc = 0u64;
    for _ in 0..ops {
        let (k, v) = h.pop().unwrap();
        acc = acc.wrapping_add(k.time ^ u64::from(v));
        let e: f64 = Exp1.sample(&mut rng);
        h.push(k.time + (e * 1e9) as u64, v);
    }
    acc
}

fn hold_std(n: usize, ops: usize, seed: u64) -> u64 {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let mut h: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::with_capacity(n + 1);
    let mut seq = 0u64;
    for i in 0..n {
        let e: f64 = Exp1.sample(&mut rng);
        h.push(Reverse(((e * 1e9) as u64, seq, i as u32)));
        seq += 1;
    }
    let mut acc = 0u64;
    for _ in 0..ops {
        let Reverse((t, _, v)) = h.pop().unwrap();
        acc = acc.wrapping_add(t ^ u64::from(v));
        let e: f64 = Exp1.sample(&mut rng);
        h.push(Reverse((t + (e * 1e9) as u64, seq, v)));
        seq += 1;
    }
    acc
}

fn queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue-hold");
    g.sample_size(10);
    for &n in &[16_000usize, 1_000_000] {
        let ops = 1_000_000;
        g.throughput(Throughput::Elements(ops as u64));
        g.bench_with_input(BenchmarkId::new("std-binary-heap", n), &n, |b, &n| {
            b.iter(|| black_box(hold_std(n, ops, 1)))
        });
        g.bench_with_input(BenchmarkId::new("dary-2", n), &n, |b, &n| {
            b.iter(|| black_box(hold_dary::<2>(n, ops, 1)))
        });
        g.bench_with_input(BenchmarkId::new("dary-4", n), &n, |b, &n| {
            b.iter(|| black_box(hold_dary::<4>(n, ops, 1)))
        });
        g.bench_with_input(BenchmarkId::new("dary-8", n), &n, |b, &n| {
            b.iter(|| black_box(hold_dary::<8>(n, ops, 1)))
        });
    }
    g.finish();
}

fn draws<R: RngCore>(mut r: R, n: usize) -> f64 {
    let mut acc = 0.0;
    for _ in 0..n {
        let e: f64 = Exp1.sample(&mut r);
        acc += e + (r.random::<u64>() >> 60) as f64;
    }
    acc
}

fn rng(c: &mut Criterion) {
    let mut g = c.benchmark_group("rng-u64+exp");
    let n = 1_000_000;
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("chacha8", |b| {
        b.iter(|| black_box(draws(rand_chacha::ChaCha8Rng::seed_from_u64(1), n)))
    });
    g.bench_function("pcg64mcg", |b| {
        b.iter(|| black_box(draws(rand_pcg::Pcg64Mcg::seed_from_u64(1), n)))
    });
    g.bench_function("xoshiro256pp", |b| {
        b.iter(|| black_box(draws(rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1), n)))
    });
    g.finish();
}

fn phold(c: &mut Criterion) {
    let mut g = c.benchmark_group("phold");
    g.sample_size(10);
    for &(lps, epl) in &[(1000u32, 16u32), (100_000, 10)] {
        let cfg = PholdConfig {
            lps,
            events_per_lp: epl,
            events: 2_000_000,
            ..PholdConfig::default()
        };
        g.throughput(Throughput::Elements(cfg.events));
        let id = format!("{lps}x{epl}");
        g.bench_with_input(BenchmarkId::new("engine", &id), &cfg, |b, cfg| {
            b.iter(|| black_box(run_engine(cfg).unwrap()))
        });
        g.bench_with_input(BenchmarkId::new("bare-binary-heap", &id), &cfg, |b, cfg| {
            b.iter(|| black_box(run_baseline(cfg).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, queue, rng, phold);
criterion_main!(benches);
