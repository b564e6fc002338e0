//! Criterion benchmark of the whole model on thesis cells: one replication of the 2019 testbed
//! (the scenario of the model tests' fixture, built in code) at +100 ms, from `kubectl create
//! deployment` until kubectl sees the last pod Running, for 4, 20 and 100 pods. It times what
//! `run`, `validate` and `calibrate` repeat for every replication: building the simulation and
//! running it. Figures are recorded in `BENCHMARKS.md`.
//!
//! Run: `cargo bench -p kubetwin-models --bench thesis_cell`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "../tests/model/fixture.rs"]
#[allow(dead_code)] // the bench uses `cell` only
mod fixture;

fn thesis_cell(c: &mut Criterion) {
    let mut g = c.benchmark_group("thesis-cell");
    for pods in [4u32, 20, 100] {
        let s = fixture::cell(pods, 100);
        g.throughput(Throughput::Elements(u64::from(pods)));
        g.bench_with_input(BenchmarkId::new("pods", pods), &s, |b, s| {
            let mut seed = 0u64;
            b.iter(|| {
                seed += 1;
                let out = models::cluster::run(black_box(s), seed, false).expect("the thesis cell runs");
                out.startup_exact_s
            })
        });
    }
    g.finish();
}

criterion_group!(benches, thesis_cell);
criterion_main!(benches);
