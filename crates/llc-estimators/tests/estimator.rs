//! End-to-end checks of the estimator on models whose λ is known, plus reproducibility and
//! divergence handling.

use std::cell::Cell;

use burn::tensor::Tensor;
use llc_estimators::{EstimatorConfig, FnDataSource, InitLoss, NoProgress, estimate_llc, full_data_loss};

mod common;

use common::{B, Linear, mse, setup};

/// A regular model has λ = d/2 = 6. The Hessian of L_n is (2/3)·E[xxᵀ] per output, eigenvalues
/// h ≈ 2/9, so with n = 2000 (nβ ≈ 263) each direction has precision k = nβh ≈ 58 and εk ≈ 0.06:
/// the chains decorrelate in ~30 steps. The estimate carries three small errors: the prior
/// (λ̂ → ½Σ nβh/(nβh + γ), about −1.7% here), the SGLD discretization (variance × 1/(1 − εk/4),
/// about +1.5%), and chain noise (4 × 6,000 draws, a few hundred effective draws of a loss whose
/// relative sd is √(2/d) ≈ 0.58, so ~3% standard error). 10% covers them with margin.
#[test]
fn a_regular_model_gives_half_its_dimension() {
    let (model, data) = setup();
    let config = EstimatorConfig {
        n_chains: 4,
        n_steps: 8_000,
        n_burnin: 2_000,
        batch_size: 100,
        epsilon: 1e-3,
        ..Default::default()
    };
    let estimate =
        estimate_llc(&model, &data, mse, &config, InitLoss::Compute { chunk: 512 }, &mut NoProgress).unwrap();
    assert!(estimate.init_loss < 1e-10, "the teacher fits exactly: {}", estimate.init_loss);
    assert!(
        (estimate.lambda_hat / 6.0 - 1.0).abs() < 0.10,
        "λ̂ = {} ± {}",
        estimate.lambda_hat,
        estimate.lambda_hat_std
    );
    assert!(estimate.diagnostics.diverged.is_empty());
    let r_hat = estimate.diagnostics.r_hat.expect("R̂ is defined for 4 finished chains");
    assert!(r_hat < 1.05, "R̂ = {r_hat}");
    assert!(estimate.diagnostics.ess.unwrap() > 100.0);
    let acceptance = estimate.diagnostics.mean_acceptance.unwrap();
    assert!(acceptance > 0.9 && acceptance <= 1.0, "acceptance {acceptance}");
    assert_eq!(estimate.per_chain.len(), 4);
    assert!(estimate.per_chain.iter().all(|c| c.n_draws == 6_000 && c.loss_trace.len() == 6_000));
}

#[test]
fn same_seed_same_estimate_other_seed_other_estimate() {
    let (model, data) = setup();
    let config = EstimatorConfig {
        n_chains: 2,
        n_steps: 600,
        n_burnin: 100,
        batch_size: 50,
        epsilon: 2e-5,
        seed: 9,
        ..Default::default()
    };
    let run = |config: &EstimatorConfig| {
        estimate_llc(&model, &data, mse, config, InitLoss::Known(0.0), &mut NoProgress).unwrap()
    };
    let (a, b) = (run(&config), run(&config));
    assert_eq!(a.lambda_hat.to_bits(), b.lambda_hat.to_bits());
    assert_eq!(a.per_chain, b.per_chain);
    let c = run(&EstimatorConfig { seed: 10, ..config.clone() });
    assert_ne!(a.lambda_hat, c.lambda_hat);
    // Chains within one run use different streams.
    assert_ne!(a.per_chain[0].loss_trace, a.per_chain[1].loss_trace);
}

#[test]
fn a_diverging_chain_is_named_and_the_others_are_kept() {
    let (model, data) = setup();
    let config = EstimatorConfig {
        n_chains: 3,
        n_steps: 500,
        n_burnin: 100,
        batch_size: 50,
        epsilon: 2e-5,
        acceptance_every: 0,
        ..Default::default()
    };
    // The loss is evaluated once per step without the acceptance check; poison call 500 + 237,
    // i.e. chain 1 at step 237.
    let calls = Cell::new(0usize);
    let poisoned = |m: &Linear<B>, batch: &(Tensor<B, 2>, Tensor<B, 2>)| {
        calls.set(calls.get() + 1);
        let loss = mse(m, batch);
        if calls.get() == 500 + 237 { loss.mul_scalar(f32::NAN) } else { loss }
    };
    let estimate = estimate_llc(&model, &data, poisoned, &config, InitLoss::Known(0.0), &mut NoProgress).unwrap();
    assert_eq!(estimate.diagnostics.diverged.len(), 1);
    let d = &estimate.diagnostics.diverged[0];
    assert_eq!((d.chain_idx, d.step, d.loss.as_str()), (1, 237, "NaN"));
    assert_eq!(estimate.per_chain[1].lambda_hat, None);
    assert!(estimate.per_chain[0].lambda_hat.is_some() && estimate.per_chain[2].lambda_hat.is_some());
    let mean = (estimate.per_chain[0].lambda_hat.unwrap() + estimate.per_chain[2].lambda_hat.unwrap()) / 2.0;
    assert!((estimate.lambda_hat - mean).abs() < 1e-12, "λ̂ averages the finished chains only");
    assert!(d.to_string().contains("chain 1 diverged at step 237"));
}

#[test]
fn full_data_loss_weights_chunks_by_size() {
    let data = FnDataSource::new(10, |idx: &[usize]| idx.to_vec());
    let device = Default::default();
    let (model, _) = setup();
    // Loss of a batch = mean of its indices; over chunks of 4 (4 + 4 + 2) the weighted mean is 4.5.
    let loss = |_: &Linear<B>, idx: &Vec<usize>| {
        let mean = idx.iter().sum::<usize>() as f32 / idx.len() as f32;
        Tensor::<B, 1>::from_floats([mean], &device)
    };
    assert!((full_data_loss(&model, &data, &loss, 4) - 4.5).abs() < 1e-6);
}

#[test]
fn an_invalid_config_is_refused_before_any_work() {
    let (model, data) = setup();
    let config = EstimatorConfig { batch_size: 5_000, ..Default::default() };
    let calls = Cell::new(0usize);
    let counting = |m: &Linear<B>, batch: &(Tensor<B, 2>, Tensor<B, 2>)| {
        calls.set(calls.get() + 1);
        mse(m, batch)
    };
    let err =
        estimate_llc(&model, &data, counting, &config, InitLoss::Compute { chunk: 100 }, &mut NoProgress).unwrap_err();
    assert!(err.to_string().contains("batch size"), "{err}");
    assert_eq!(calls.get(), 0);
}
