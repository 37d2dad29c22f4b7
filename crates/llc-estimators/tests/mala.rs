//! The estimator with full-batch MALA (`SamplerKind::Mala`): λ̂ on a regular model against the
//! exact value of its Gaussian posterior, agreement with SGLD, acceptance in the diagnostics, one
//! full batch per estimate, rejected proposals, and the automatic step size towards MALA's own
//! target. (Its restarts after a divergence are tested with SGLD's, in tests/recovery.rs.)

use llc_estimators::{Estimator, InitLoss, MALA_TARGET_ACCEPTANCE};

mod common;

use common::{CountingLoss, Poison, chains, estimate, lambda_hat_standard_error, mala, mse, setup};

/// MALA with ε = 0.01 on d = 12, n = 2,000 (nβ ≈ 263): the posterior precision is k ≈ nβ·(2/9) + 1
/// ≈ 60 in every direction, so εk ≈ 0.6: acceptance stays high and the loss decorrelates within a
/// few steps. MALA samples the posterior exactly, so λ̂ must match the closed form including the
/// prior's shrinkage (½Σ nβh/(nβh + γ), about 1.7% below d/2 = 6), within 4 Monte Carlo standard
/// errors (nβ·sd(L)/√ESS; sd(nβL) ≈ √(d/2) ≈ 2.4 and the ESS is several thousand, so about 4%).
#[test]
fn mala_gives_the_exact_lambda_hat_of_a_regular_model() {
    let (model, data) = setup();
    let estimate = estimate(&model, &data, mse, mala(4, 3_500, 500).with_seed(1));
    // The whole data set is gathered once per estimate, whatever batch_size says (500 here).
    assert_eq!(*data.batch_sizes.borrow(), vec![2_000]);

    let exact = data.exact_lambda_hat(estimate.n_beta, estimate.config.gamma);
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
    let run = |config| {
        Estimator::new(&model, &data, mse)
            .with_config(config)
            .with_init_loss(InitLoss::Compute { chunk: 1_000 })
            .run()
            .unwrap()
    };
    let sgld = run(chains(4, 8_000, 2_000).with_batch_size(100).with_epsilon(1e-3).with_seed(2));
    let mala = run(mala(4, 3_500, 500).with_seed(2));
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

/// A non-finite loss at a proposal is a rejection, not a divergence: the chain stays where it is
/// and goes on, with no restart. Each chain evaluates its start once and then one proposal per
/// step, 201 calls for 200 steps; call 100 is chain 0's 99th proposal and call 201 + 150 chain 1's
/// 150th.
#[test]
fn mala_rejects_a_proposal_whose_loss_is_not_finite() {
    let (model, data) = setup();
    let counting = CountingLoss::new().poison(100, Poison::Times(f32::NAN)).poison(351, Poison::Times(f32::INFINITY));
    let estimate = estimate(&model, &data, counting.wrap(mse), mala(3, 200, 50));
    assert!(estimate.diagnostics.diverged.is_empty(), "{:?}", estimate.diagnostics.diverged);
    assert!(estimate.diagnostics.restarts.is_empty(), "{:?}", estimate.diagnostics.restarts);
    assert!(estimate.per_chain.iter().all(|c| c.lambda_hat.is_some_and(f64::is_finite) && c.n_draws == 150));
    assert_eq!(counting.calls(), 3 * 201, "no step was taken again");
}

/// The automatic step size with MALA, on the regular model whose exact λ̂ is known. Started at
/// ε₀ = 10⁻⁴, a hundred times below the ε = 10⁻² that MALA accepts 85% of the time here
/// (εk ≈ 0.6), every chain must adapt to a step whose acceptance rate over its 3,000 draws lies
/// within 0.08 of the target 0.574: dual averaging keeps the average of its log-steps, which lands
/// a few points above the target (measured: 0.579 to 0.614 at ε ≈ 1.9e-2), and the rate of 3,000
/// correlated accept/reject outcomes has a standard error of about 0.015. The chosen ε must lie
/// between 10⁻² and 4·10⁻² (εk between 0.6 and 2.4, a factor 2 either way around the εk ≈ 1.15
/// where the rate passes the target on this model), and λ̂ must still be the exact one within 4
/// Monte Carlo standard errors (measured: 5.841 ± 0.045 against 5.898): MALA has no step-size
/// bias, so nothing caps its step.
#[test]
fn mala_adapts_its_step_to_its_own_target_and_stays_exact() {
    let (model, data) = setup();
    let config = mala(4, 4_000, 1_000).with_epsilon(1e-4).with_auto_epsilon().with_seed(5);
    let estimate = estimate(&model, &data, mse, config);
    let exact = data.exact_lambda_hat(estimate.n_beta, estimate.config.gamma);
    let se = lambda_hat_standard_error(&estimate);
    for chain in &estimate.per_chain {
        let rate = chain.mean_acceptance.unwrap();
        eprintln!(
            "chain {}: ε = {:.3e}, acceptance rate {rate:.3}, λ̂ = {:?}",
            chain.chain_idx, chain.epsilon, chain.lambda_hat
        );
        assert!((rate - MALA_TARGET_ACCEPTANCE).abs() < 0.08, "chain {}: acceptance rate {rate}", chain.chain_idx);
        assert!(chain.epsilon > 1e-2 && chain.epsilon < 4e-2, "chain {}: ε = {:e}", chain.chain_idx, chain.epsilon);
        assert!(chain.predicted_bias.is_none(), "MALA predicts no step bias");
    }
    eprintln!("MALA with the automatic step: λ̂ = {:.4} ± {se:.4}, exact {exact:.4}", estimate.lambda_hat);
    assert!(estimate.diagnostics.diverged.is_empty() && estimate.diagnostics.restarts.is_empty());
    assert!((estimate.lambda_hat - exact).abs() < 4.0 * se, "λ̂ = {} vs {exact} ± {}", estimate.lambda_hat, 4.0 * se);
    assert_eq!(estimate.config.epsilon, 1e-4, "the configured starting ε is kept in the config");
}
