//! The estimator with full-batch MALA (`SamplerKind::Mala`): λ̂ on a regular model against the exact
//! value of its Gaussian posterior, agreement with SGLD, acceptance in the diagnostics, one full
//! batch per estimate, and divergence handling.

use std::cell::Cell;

use burn::tensor::Tensor;
use llc_estimators::diagnostics::monte_carlo_standard_error;
use llc_estimators::{EstimatorConfig, InitLoss, LlcEstimate, NoProgress, SamplerKind, estimate_llc};

mod common;

use common::{B, Linear, mse, setup};

/// nβ times the Monte Carlo standard error of the pooled draws (from the multi-chain ESS).
fn lambda_hat_standard_error(estimate: &LlcEstimate) -> f64 {
    let traces: Vec<Vec<f64>> = estimate.per_chain.iter().map(|c| c.loss_trace.clone()).collect();
    estimate.n_beta * monte_carlo_standard_error(&traces).expect("finished chains with finite draws")
}

/// MALA with ε = 0.01 on d = 12, n = 2,000 (nβ ≈ 263): the posterior precision is k ≈ nβ·(2/9) + 1
/// ≈ 60 in every direction, so εk ≈ 0.6: acceptance stays high and the loss decorrelates within a
/// few steps. MALA samples the posterior exactly, so λ̂ must match the closed form including the
/// prior's shrinkage (½Σ nβh/(nβh + γ), about 1.7% below d/2 = 6), within 4 Monte Carlo standard
/// errors (nβ·sd(L)/√ESS; sd(nβL) ≈ √(d/2) ≈ 2.4 and the ESS is several thousand, so about 4%).
#[test]
fn mala_gives_the_exact_lambda_hat_of_a_regular_model() {
    let (model, data) = setup();
    let config = EstimatorConfig {
        n_chains: 4,
        n_steps: 3_500,
        n_burnin: 500,
        epsilon: 1e-2,
        sampler: SamplerKind::Mala,
        seed: 1,
        ..Default::default()
    };
    let estimate = estimate_llc(&model, &data, mse, &config, InitLoss::Known(0.0), &mut NoProgress).unwrap();
    // The whole data set is gathered once per estimate, whatever batch_size says (500 here).
    assert_eq!(*data.batch_sizes.borrow(), vec![2_000]);

    let exact = data.exact_lambda_hat(estimate.n_beta, config.gamma);
    let se = lambda_hat_standard_error(&estimate);
    let acceptance = estimate.diagnostics.mean_acceptance.expect("MALA always reports its acceptance rate");
    eprintln!(
        "MALA λ̂ = {:.4} ± {se:.4} (sd over chains {:.4}), exact {exact:.4}, d/2 = 6, acceptance {acceptance:.4}, \
         R̂ {:?}, ESS {:?}, {:.1} s",
        estimate.lambda_hat,
        estimate.lambda_hat_std,
        estimate.diagnostics.r_hat,
        estimate.diagnostics.ess,
        estimate.seconds
    );
    assert!((exact / 6.0 - 0.983).abs() < 0.01, "the prior's shrinkage is as computed by hand: {exact}");
    assert!((estimate.lambda_hat - exact).abs() < 4.0 * se, "λ̂ = {} vs {exact} ± {}", estimate.lambda_hat, 4.0 * se);
    assert!(se < 0.3, "the tolerance is meaningful: 4·se = {}", 4.0 * se);

    assert!(estimate.diagnostics.diverged.is_empty());
    assert!(estimate.diagnostics.r_hat.unwrap() < 1.05);
    assert!(estimate.diagnostics.ess.unwrap() > 1_000.0);
    assert!(acceptance > 0.7 && acceptance < 1.0, "acceptance {acceptance}");
    for chain in &estimate.per_chain {
        assert_eq!(chain.n_draws, 3_000);
        // The acceptance rate is a fraction of the 3,000 post-burn-in proposals.
        let accepted = chain.mean_acceptance.unwrap() * 3_000.0;
        assert!((accepted - accepted.round()).abs() < 1e-6, "{accepted}");
    }
}

/// SGLD (the settings of the estimator's own regular-model test) and MALA estimate the same λ̂:
/// their difference is within 3 combined standard errors √(se_SGLD² + se_MALA²). SGLD's own
/// discretization bias at εk ≈ 0.06 is about +1.5% (≈ 0.09), below that bound (≈ 0.3).
#[test]
fn mala_and_sgld_agree_on_a_regular_model() {
    let (model, data) = setup();
    let sgld_config = EstimatorConfig {
        n_chains: 4,
        n_steps: 8_000,
        n_burnin: 2_000,
        batch_size: 100,
        epsilon: 1e-3,
        seed: 2,
        ..Default::default()
    };
    let mala_config = EstimatorConfig {
        n_steps: 3_500,
        n_burnin: 500,
        epsilon: 1e-2,
        sampler: SamplerKind::Mala,
        ..sgld_config.clone()
    };
    let run = |config: &EstimatorConfig| {
        estimate_llc(&model, &data, mse, config, InitLoss::Compute { chunk: 1_000 }, &mut NoProgress).unwrap()
    };
    let (sgld, mala) = (run(&sgld_config), run(&mala_config));
    let (se_sgld, se_mala) = (lambda_hat_standard_error(&sgld), lambda_hat_standard_error(&mala));
    let combined = (se_sgld * se_sgld + se_mala * se_mala).sqrt();
    eprintln!(
        "SGLD λ̂ = {:.4} ± {se_sgld:.4} ({:.1} s, acceptance prob. {:?}); MALA λ̂ = {:.4} ± {se_mala:.4} ({:.1} s, \
         acceptance rate {:?}); difference {:.4}, 3 combined se = {:.4}",
        sgld.lambda_hat,
        sgld.seconds,
        sgld.diagnostics.mean_acceptance,
        mala.lambda_hat,
        mala.seconds,
        mala.diagnostics.mean_acceptance,
        mala.lambda_hat - sgld.lambda_hat,
        3.0 * combined
    );
    assert!(
        (mala.lambda_hat - sgld.lambda_hat).abs() < 3.0 * combined,
        "SGLD {} vs MALA {} (3 combined se = {})",
        sgld.lambda_hat,
        mala.lambda_hat,
        3.0 * combined
    );
    assert!(combined < 0.2, "the comparison is meaningful: combined se = {combined}");
    assert!(sgld.diagnostics.mean_acceptance.is_some() && mala.diagnostics.mean_acceptance.is_some());
}

#[test]
fn mala_estimates_are_reproducible() {
    let (model, data) = setup();
    let config = EstimatorConfig {
        n_chains: 2,
        n_steps: 300,
        n_burnin: 100,
        epsilon: 1e-2,
        sampler: SamplerKind::Mala,
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
    assert_ne!(a.per_chain[0].loss_trace, a.per_chain[1].loss_trace);
}

/// A non-finite loss at a proposal is a rejection, not a divergence; a non-finite loss at a chain's
/// own point (its start) is a divergence that names the chain and step and keeps the others.
#[test]
fn mala_rejects_bad_proposals_and_reports_divergent_chains() {
    let (model, data) = setup();
    let config = EstimatorConfig {
        n_chains: 3,
        n_steps: 200,
        n_burnin: 50,
        epsilon: 1e-2,
        sampler: SamplerKind::Mala,
        ..Default::default()
    };
    // Each chain evaluates its start once and then one proposal per step: 201 calls per chain.
    // Call 100 is a proposal of chain 0; call 201 + 1 is the start of chain 1.
    let calls = Cell::new(0usize);
    let poisoned = |m: &Linear<B>, batch: &(Tensor<B, 2>, Tensor<B, 2>)| {
        calls.set(calls.get() + 1);
        let loss = mse(m, batch);
        if calls.get() == 100 || calls.get() == 202 { loss.mul_scalar(f32::NAN) } else { loss }
    };
    let estimate = estimate_llc(&model, &data, poisoned, &config, InitLoss::Known(0.0), &mut NoProgress).unwrap();
    assert_eq!(estimate.diagnostics.diverged.len(), 1, "{:?}", estimate.diagnostics.diverged);
    let d = &estimate.diagnostics.diverged[0];
    assert_eq!((d.chain_idx, d.step, d.loss.as_str()), (1, 1, "NaN"));
    assert_eq!(estimate.per_chain[1].lambda_hat, None);
    assert!(estimate.per_chain[0].lambda_hat.is_some() && estimate.per_chain[2].lambda_hat.is_some());
    assert_eq!(calls.get(), 201 + 1 + 201);
}
