//! Steps per second of one SGLD chain on the three deep linear networks of the speed baselines
//! (20,30,25,10; 100,200,150,100; 500,800,600,400), f32, batch 500, n = 100,000, on burn-ndarray.
//!
//! One iteration is one full step as the estimator runs it: draw 500 indices, gather the minibatch,
//! forward, backward, and the SGLD update with host-side noise. Criterion's throughput line gives
//! the steps per second. Run with `cargo bench -p llc-estimators --bench sgld_step`.

use std::hint::black_box;
use std::time::Duration;

use burn::backend::{Autodiff, NdArray};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use llc_models::{DataForm, Dln, DlnTeacher, RegressionData, SyntheticInputs, mse};
use llc_sampler::{NoiseSource, SgldChain, SgldConfig};

type B = Autodiff<NdArray>;

fn bench_sizes(c: &mut Criterion) {
    let device = Default::default();
    let n = 100_000;
    let batch = 500;
    let mut group = c.benchmark_group("sgld_step");
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for widths in [&[20usize, 30, 25, 10][..], &[100, 200, 150, 100], &[500, 800, 600, 400]] {
        let teacher = DlnTeacher::full_rank(widths, 0).expect("valid widths");
        let inputs = SyntheticInputs::new(1, n, widths[0]).expect("valid data");
        let data = RegressionData::<B>::dln(&teacher, inputs, DataForm::Materialized, &device).expect("data");
        let model = teacher.to_module::<B>(&device);
        let config = SgldConfig::new(1e-7, 1.0, n);
        let mut chain = SgldChain::new(model, config, NoiseSource::host(0, 0)).expect("valid config");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut indices = vec![0usize; batch];
        let label = widths.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        group.sample_size(if teacher.num_params() > 500_000 { 10 } else { 30 });
        group.bench_function(format!("{label} ({} params)", teacher.num_params()), |b| {
            b.iter(|| {
                for i in indices.iter_mut() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    *i = (state % n as u64) as usize;
                }
                let (x, y) = data.batch(&indices).expect("indices below n");
                let report = chain.step(|m: &Dln<B>| mse(m.forward(x.clone()), y.clone()), false);
                black_box(report.loss)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sizes);
criterion_main!(benches);
