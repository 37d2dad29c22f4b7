//! The "Your own model" example of the workspace README, compiled and run as a test (in release
//! mode, unlike a doctest). `xtask/tests/tidy.rs` checks that the README shows exactly the code
//! between the two marker comments.

// README: your own model (begin)
use burn::backend::{Autodiff, NdArray};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Distribution, Int, Tensor, activation::tanh, backend::Backend};
use llc_estimators::{Estimator, EstimatorConfig, FnDataSource};

type B = Autodiff<NdArray>;

#[derive(Module, Debug)]
struct Net<B: Backend> {
    hidden: Linear<B>,
    out: Linear<B>,
}

fn main() {
    let device = Default::default();
    B::seed(&device, 0);
    let net = Net::<B> { hidden: LinearConfig::new(2, 8).init(&device), out: LinearConfig::new(8, 1).init(&device) };
    let forward = |m: &Net<B>, x: Tensor<B, 2>| m.out.forward(tanh(m.hidden.forward(x)));
    // 1,000 inputs labelled by the network itself, so that the point w* fits them exactly.
    let x = Tensor::<B, 2>::random([1_000, 2], Distribution::Uniform(-2.0, 2.0), &device);
    let y = forward(&net, x.clone()).detach();
    let data = FnDataSource::new(1_000, |idx: &[usize]| {
        let rows: Vec<i32> = idx.iter().map(|&i| i as i32).collect();
        let rows = Tensor::<B, 1, Int>::from_ints(rows.as_slice(), &device);
        (x.clone().select(0, rows.clone()), y.clone().select(0, rows))
    });
    let loss = |m: &Net<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)| (forward(m, x.clone()) - y.clone()).square().mean();
    let config = EstimatorConfig::default().with_auto_epsilon();
    let estimate = Estimator::new(&net, &data, loss).with_config(config).run().expect("valid settings");
    let (r_hat, half_d) = (estimate.diagnostics.r_hat.unwrap_or(f64::NAN), net.num_params() as f64 / 2.0);
    println!("λ̂ = {:.2} ± {:.2} (d/2 = {half_d}), R̂ = {r_hat:.3}", estimate.lambda_hat, estimate.lambda_hat_std);
    assert!(estimate.lambda_hat > 0.0 && estimate.lambda_hat <= half_d, "λ̂ lies between 0 and d/2");
}
// README: your own model (end)

#[test]
fn the_readme_example_runs() {
    main();
}
