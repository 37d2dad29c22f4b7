//! End-to-end checks of the estimator on models whose λ is known, plus reproducibility and
//! divergence handling.

use std::cell::{Cell, RefCell};

use burn::tensor::{ElementConversion, Tensor};
use llc_estimators::{
    DrawLoss, EstimatorConfig, FULL_DRAW_LOSS_CHUNK, FnDataSource, InitLoss, NoProgress, SamplerKind, estimate_llc,
    full_data_loss,
};

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
        // No restarts: the chain is lost at its first divergence (tests/recovery.rs has restarts).
        max_restarts: 0,
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

/// With `DrawLoss::Full` each kept SGLD draw records L_n at the chain's point: here n = 2,000 is
/// below the chunk, so every full-data evaluation is one call of the loss on all n samples, and the
/// values of those calls, in order, are exactly the chains' traces (one call per kept draw, none
/// during burn-in or at thinned-out steps). λ̂ of each chain is nβ·(mean of them − L_n(w*)).
#[test]
fn full_draw_loss_records_the_full_data_loss_at_each_kept_draw() {
    let (model, data) = setup();
    let n = 2_000;
    assert!(n < FULL_DRAW_LOSS_CHUNK);
    let config = EstimatorConfig {
        n_chains: 2,
        n_steps: 600,
        n_burnin: 100,
        thinning: 7,
        batch_size: 100,
        epsilon: 1e-3,
        acceptance_every: 0,
        draw_loss: DrawLoss::Full,
        seed: 4,
        ..Default::default()
    };
    let full_calls = RefCell::new(Vec::new());
    let logging = |m: &Linear<B>, batch: &(Tensor<B, 2>, Tensor<B, 2>)| {
        let loss = mse(m, batch);
        if batch.0.dims()[0] == n {
            full_calls.borrow_mut().push(loss.clone().into_scalar().elem::<f64>());
        }
        loss
    };
    let estimate = estimate_llc(&model, &data, logging, &config, InitLoss::Known(0.0), &mut NoProgress).unwrap();
    let draws = config.draws_per_chain();
    assert_eq!(draws, 72, "500 post-burn-in steps thinned by 7");
    let traces: Vec<f64> = estimate.per_chain.iter().flat_map(|c| c.loss_trace.clone()).collect();
    assert_eq!(traces, *full_calls.borrow(), "the traces are the full-data losses, in order");
    for chain in &estimate.per_chain {
        assert_eq!(chain.n_draws, draws);
        let mean = chain.loss_trace.iter().sum::<f64>() / draws as f64;
        let lambda_hat = chain.lambda_hat.unwrap();
        assert!((lambda_hat - estimate.n_beta * mean).abs() <= 1e-12 * lambda_hat.abs(), "chain {}", chain.chain_idx);
    }
    // The minibatches are still drawn at every step; the full passes come on top of them.
    let sizes = data.batch_sizes.borrow();
    assert_eq!(sizes.iter().filter(|&&m| m == 100).count(), 2 * 600);
    assert_eq!(sizes.iter().filter(|&&m| m == n).count(), 2 * draws);
}

/// The same seed gives the same chain with either draw loss (they differ only in what a kept draw
/// records), so the two λ̂ are a paired comparison on a regular model (λ = d/2 = 6): both record
/// an unbiased estimate of L_n near the same points, and their difference is only the minibatch
/// noise averaged over the draws. The full-data trace lacks that noise, so its variance is lower.
///
/// Sizes, with batch 5 to make the minibatch noise visible: nβ·L_n at the draws spreads like
/// ½χ²₁₂ (relative variance 2/d = 1/6), while a per-sample loss (one third of a sum of 3 squared
/// residuals, relative sd ≈ √(2/3) ≈ 0.8) averaged over 5 samples adds a relative variance of about
/// 0.8²/5 ≈ 0.13. So the minibatch trace's variance should be about 1.8× the full trace's (batch 20
/// measured 1.22×, as this predicts for it); asserting 1.4× leaves room for the ~10% sampling error
/// of variances over a few hundred effective draws. The paired λ̂ difference has a standard error
/// of about 0.36/√(4 × 1,200) ≈ 0.5% of λ̂ (draws 5 steps apart have independent minibatches); 3%
/// also allows for the full loss being taken after the step and the minibatch loss before it. Each
/// λ̂ is also within 10% of the exact λ̂ of the Gaussian posterior, as in
/// `a_regular_model_gives_half_its_dimension` (with batch 5 the extra gradient noise per step is
/// about 1% of the injected noise, negligible).
#[test]
fn full_and_minibatch_draw_losses_agree_and_the_full_trace_is_less_noisy() {
    let (model, data) = setup();
    let minibatch = EstimatorConfig {
        n_chains: 4,
        n_steps: 8_000,
        n_burnin: 2_000,
        thinning: 5,
        batch_size: 5,
        epsilon: 1e-3,
        acceptance_every: 0,
        seed: 11,
        ..Default::default()
    };
    let full = EstimatorConfig { draw_loss: DrawLoss::Full, ..minibatch.clone() };
    let run = |config: &EstimatorConfig| {
        estimate_llc(&model, &data, mse, config, InitLoss::Known(0.0), &mut NoProgress).unwrap()
    };
    let (a, b) = (run(&minibatch), run(&full));
    let exact = data.exact_lambda_hat(a.n_beta, minibatch.gamma);
    let variance = |e: &llc_estimators::LlcEstimate| {
        let values: Vec<f64> = e.per_chain.iter().flat_map(|c| c.loss_trace.iter().copied()).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (values.len() - 1) as f64
    };
    let (var_a, var_b) = (variance(&a), variance(&b));
    eprintln!(
        "exact λ̂ {exact:.3}; minibatch draws λ̂ = {:.3} ± {:.3}, trace variance {var_a:.3e}; full draws λ̂ = {:.3} ± \
         {:.3}, trace variance {var_b:.3e} (ratio {:.2})",
        a.lambda_hat,
        a.lambda_hat_std,
        b.lambda_hat,
        b.lambda_hat_std,
        var_a / var_b
    );
    for e in [&a, &b] {
        assert!(e.diagnostics.diverged.is_empty());
        assert!((e.lambda_hat / exact - 1.0).abs() < 0.10, "λ̂ = {} vs exact {exact}", e.lambda_hat);
    }
    assert!((a.lambda_hat / b.lambda_hat - 1.0).abs() < 0.03, "paired λ̂ {} vs {}", a.lambda_hat, b.lambda_hat);
    assert!(var_a > 1.4 * var_b, "minibatch trace variance {var_a:e} vs full {var_b:e}");
}

/// A non-finite full-data loss at a kept draw stops the chain like a non-finite minibatch loss:
/// the full pass of the third kept draw (step 103 after a 100-step burn-in) is poisoned.
#[test]
fn a_non_finite_full_draw_loss_is_a_divergence() {
    let (model, data) = setup();
    let config = EstimatorConfig {
        n_chains: 2,
        n_steps: 300,
        n_burnin: 100,
        batch_size: 50,
        epsilon: 2e-5,
        acceptance_every: 0,
        draw_loss: DrawLoss::Full,
        max_restarts: 0,
        ..Default::default()
    };
    let full_calls = Cell::new(0usize);
    let poisoned = |m: &Linear<B>, batch: &(Tensor<B, 2>, Tensor<B, 2>)| {
        let loss = mse(m, batch);
        if batch.0.dims()[0] == 2_000 {
            full_calls.set(full_calls.get() + 1);
            if full_calls.get() == 3 {
                return loss.mul_scalar(f32::INFINITY);
            }
        }
        loss
    };
    let estimate = estimate_llc(&model, &data, poisoned, &config, InitLoss::Known(0.0), &mut NoProgress).unwrap();
    assert_eq!(estimate.diagnostics.diverged.len(), 1);
    let d = &estimate.diagnostics.diverged[0];
    assert_eq!((d.chain_idx, d.step, d.loss.as_str()), (0, 103, "inf"));
    assert_eq!(estimate.per_chain[0].n_draws, 2, "two draws were kept before the third failed");
    assert!(estimate.per_chain[1].lambda_hat.is_some());
}

/// MALA records the full-data loss at every draw already, so `DrawLoss::Full` changes nothing.
#[test]
fn the_draw_loss_does_not_change_mala() {
    let (model, data) = setup();
    let config = EstimatorConfig {
        n_chains: 2,
        n_steps: 300,
        n_burnin: 100,
        epsilon: 1e-2,
        sampler: SamplerKind::Mala,
        seed: 3,
        ..Default::default()
    };
    let run = |config: &EstimatorConfig| {
        estimate_llc(&model, &data, mse, config, InitLoss::Known(0.0), &mut NoProgress).unwrap()
    };
    let minibatch = run(&config);
    let full = run(&EstimatorConfig { draw_loss: DrawLoss::Full, ..config.clone() });
    assert_eq!(minibatch.per_chain, full.per_chain);
    assert_eq!(minibatch.lambda_hat.to_bits(), full.lambda_hat.to_bits());
}
