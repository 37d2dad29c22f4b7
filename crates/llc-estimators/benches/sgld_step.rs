//! Chain-steps per second of SGLD on the three deep linear networks of the speed baselines
//! (20,30,25,10; 100,200,150,100; 500,800,600,400), f32, batch 500, n = 100,000 materialized, on
//! burn-ndarray: one chain per size, and for the two small sizes also 8 chains stacked into one
//! module (`SgldChains` over a `StackedDln`, as `Estimator::with_stacked_chains` runs them).
//!
//! One iteration is one full step as the estimator runs it: draw 500 indices per chain, gather the
//! minibatch, forward, backward, and the SGLD update of every chain with host-side noise. The
//! throughput is declared as C elements per iteration, so criterion's throughput line reads in
//! chain-steps per second for every layout. Run with `cargo bench -p llc-estimators --bench
//! sgld_step` (about two minutes); `cargo xtask bench` measures the same steps against a GEMM
//! roofline, with peak memory, and is what docs/performance.md reports.

use std::hint::black_box;
use std::time::Duration;

use burn::backend::{Autodiff, NdArray};
use burn::module::Module;
use burn::tensor::Tensor;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use llc_models::{DataForm, Dln, DlnTeacher, RegressionData, StackedDln, SyntheticInputs, mse, mse_per_copy};
use llc_sampler::{NoiseSource, SgldChain, SgldChains, SgldConfig};

type B = Autodiff<NdArray>;

/// Samples n, minibatch size per chain, and the chains of the stacked layout.
const N: usize = 100_000;
const BATCH: usize = 500;
const STACKED: usize = 8;

/// A fast deterministic stream of minibatch indices (xorshift64).
struct Indices {
    state: u64,
    indices: Vec<usize>,
}

impl Indices {
    fn new(len: usize) -> Self {
        Self { state: 0x2545_f491_4f6c_dd1d, indices: vec![0; len] }
    }

    fn draw(&mut self) -> &[usize] {
        for i in self.indices.iter_mut() {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *i = (self.state % N as u64) as usize;
        }
        &self.indices
    }
}

fn bench_sizes(c: &mut Criterion) {
    let device = Default::default();
    let config = SgldConfig::new(1e-7, 1.0, N);
    let mut group = c.benchmark_group("sgld_step");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    for widths in [&[20usize, 30, 25, 10][..], &[100, 200, 150, 100], &[500, 800, 600, 400]] {
        let teacher = DlnTeacher::full_rank(widths, 0).expect("valid widths");
        let inputs = SyntheticInputs::new(1, N, widths[0]).expect("valid data");
        let data = RegressionData::<B>::dln(&teacher, inputs, DataForm::Materialized, &device).expect("data");
        let model = teacher.to_module::<B>(&device);
        let params = teacher.num_params();
        let label = format!("{} ({params} params)", widths.iter().map(usize::to_string).collect::<Vec<_>>().join(","));
        group.sample_size(if params > 500_000 { 10 } else { 30 });

        let mut chain = SgldChain::new(model.clone(), config, NoiseSource::host(0, 0)).expect("valid config");
        let mut indices = Indices::new(BATCH);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("1 chain", &label), |b| {
            b.iter(|| {
                let (x, y) = data.batch(indices.draw()).expect("indices below n");
                let report = chain.step(|m: &Dln<B>| mse(m.forward(x.clone()), y.clone()), false);
                black_box(report.loss)
            })
        });

        if params < 100_000 {
            // Replicated from an untracked copy, so that the stacked parameters are new leaves of
            // the autodiff graph.
            let stacked = StackedDln::replicate(&model.clone().no_grad(), STACKED).expect("at least one copy");
            let noise = (0..STACKED as u64).map(|c| NoiseSource::host(0, c)).collect();
            let mut chains = SgldChains::new(stacked, STACKED, config, noise).expect("valid config");
            let mut indices = Indices::new(STACKED * BATCH);
            let (width_in, width_out) = (widths[0], widths[widths.len() - 1]);
            group.throughput(Throughput::Elements(STACKED as u64));
            group.bench_function(BenchmarkId::new(format!("{STACKED} stacked chains"), &label), |b| {
                b.iter(|| {
                    let (x, y) = data.batch(indices.draw()).expect("indices below n");
                    let x: Tensor<B, 3> = x.reshape([STACKED, BATCH, width_in]);
                    let y: Tensor<B, 3> = y.reshape([STACKED, BATCH, width_out]);
                    let report = chains.step(|m: &StackedDln<B>| mse_per_copy(m.forward(x.clone()), y.clone()), false);
                    black_box(report.losses)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_sizes);
criterion_main!(benches);
