//! End-to-end checks of the estimator on models whose λ is known, its reproducibility, what each
//! kept draw records, and the settings it refuses before any step.

use std::cell::RefCell;

use burn::module::AutodiffModule;
use burn::tensor::{ElementConversion, Tensor};
use llc_estimators::{
    ConfigError, DrawLoss, Estimator, EstimatorConfig, EstimatorError, FULL_DRAW_LOSS_CHUNK, FnDataSource, InitLoss,
    LlcEstimate, SamplerKind, full_data_loss,
};
use llc_models::{Dln, StackedDln};
use llc_sampler::{ChainMismatch, DiagonalPreconditioner, PreconditionerMismatch, SamplerError};

mod common;

use common::{
    B, Batch, CountingLoss, Linear, ModelData, Recorder, chains, dln, dln_loss, estimate, mala, mse, setup,
    stacked_dln_loss,
};

/// A regular model has λ = d/2 = 6. The Hessian of L_n is (2/3)·E[xxᵀ] per output, eigenvalues
/// h ≈ 2/9, so with n = 2000 (nβ ≈ 263) each direction has precision k = nβh ≈ 58 and εk ≈ 0.06:
/// the chains decorrelate in ~30 steps. The estimate carries three small errors: the prior
/// (λ̂ → ½Σ nβh/(nβh + γ), about −1.7% here), the SGLD discretization (variance × 1/(1 − εk/4),
/// about +1.5%), and chain noise (4 × 6,000 draws, a few hundred effective draws of a loss whose
/// relative sd is √(2/d) ≈ 0.58, so ~3% standard error). 10% covers them with margin.
#[test]
fn a_regular_model_gives_half_its_dimension() {
    let (model, data) = setup();
    let config = chains(4, 8_000, 2_000).with_batch_size(100).with_epsilon(1e-3);
    let estimate = Estimator::new(&model, &data, mse)
        .with_config(config)
        .with_init_loss(InitLoss::Compute { chunk: 512 })
        .run()
        .unwrap();
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

/// The same seed gives the same estimate bit for bit, another seed another one, and the chains of
/// one run use different streams, with either sampler.
#[test]
fn same_seed_same_estimate_other_seed_other_estimate() {
    let (model, data) = setup();
    for config in [chains(2, 600, 100).with_batch_size(50).with_epsilon(2e-5), mala(2, 300, 100)] {
        let run = |seed: u64| estimate(&model, &data, mse, config.clone().with_seed(seed));
        let (a, b) = (run(9), run(9));
        let what = config.sampler.name();
        assert_eq!(a.lambda_hat.to_bits(), b.lambda_hat.to_bits(), "{what}");
        assert_eq!(a.per_chain, b.per_chain, "{what}");
        assert_ne!(a.lambda_hat, run(10).lambda_hat, "{what}");
        assert_ne!(a.per_chain[0].loss_trace, a.per_chain[1].loss_trace, "{what}");
    }
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

/// What `run` answers for `model` holding `copies` stacked chains, with `config` and an optional
/// fixed preconditioner. It must refuse before any work: the loss is never called (not even for
/// L_n(w*), which is computed here) and the progress observer never hears a start.
fn refusal<M: AutodiffModule<B>>(
    (model, copies): (&M, usize),
    loss: impl Fn(&M, &Batch) -> Tensor<B, 1>,
    data: &ModelData,
    config: EstimatorConfig,
    preconditioner: Option<DiagonalPreconditioner<B>>,
) -> EstimatorError {
    let counting = CountingLoss::new();
    let mut recorder = Recorder::default();
    let mut estimator = Estimator::new(model, data, counting.wrap(loss))
        .with_config(config)
        .with_stacked_chains(copies)
        .with_progress(&mut recorder);
    if let Some(p) = preconditioner {
        estimator = estimator.with_preconditioner(p);
    }
    let validated = estimator.validate().map_err(|e| e.to_string());
    let error = estimator.run().expect_err("the combination must be refused");
    assert_eq!(validated, Err(error.to_string()), "`validate` names the same problem as `run`");
    assert_eq!((counting.calls(), recorder.started), (0, 0), "{error}: the refusal came after some work");
    assert!(error.is_input_error(), "{error}");
    error
}

/// Every combination that cannot work is a typed error from `run`, before any step: settings out
/// of range, MALA with stacked chains, chains that do not split into stacked groups, a module that
/// does not hold the stack it is said to hold, a fixed preconditioner with an RMSprop sampler, and
/// a preconditioner built for another module.
#[test]
fn impossible_combinations_are_refused_before_any_step() {
    let (model, data) = dln();
    let stacked = StackedDln::replicate(&model, 3).unwrap();
    let ones: Vec<Vec<f32>> = model.weights_host().iter().map(|w| vec![1.0; w.len()]).collect();
    let own = || DiagonalPreconditioner::in_visit_order(&model, ones.clone()).unwrap();
    let config = chains(3, 10, 0).with_batch_size(10);
    let (one, three) = ((&model, 1), (&stacked, 3));
    let invalid = |error: EstimatorError| match error {
        EstimatorError::InvalidConfig(why) => why,
        other => panic!("not a configuration error: {other}"),
    };
    let foreign = |error: EstimatorError| {
        let expected = SamplerError::Preconditioner(PreconditionerMismatch::OtherModule);
        assert!(matches!(&error, EstimatorError::Sampler(why) if *why == expected), "{error}");
    };

    let error = refusal(one, dln_loss, &data, config.clone().with_batch_size(6_000), None);
    assert!(error.to_string().contains("batch size"), "the message names the setting: {error}");
    assert_eq!(invalid(error), ConfigError::BatchSize { batch_size: 6_000, n: 5_000 });
    let mala = config.clone().with_sampler(SamplerKind::Mala);
    assert_eq!(invalid(refusal(three, stacked_dln_loss, &data, mala, None)), ConfigError::StackedMala);
    let uneven = config.clone().with_chains(4);
    let error = invalid(refusal(three, stacked_dln_loss, &data, uneven, None));
    assert_eq!(error, ConfigError::StackedGroups { chains: 4, copies: 3 });
    let error = invalid(refusal((&model, 0), dln_loss, &data, config.clone(), None));
    assert_eq!(error, ConfigError::Zero { name: "stacked chains" });
    for sampler in [SamplerKind::RmspropSgld, SamplerKind::RmspropSgldBiasCorrected] {
        let error = refusal(one, dln_loss, &data, config.clone().with_sampler(sampler), Some(own()));
        assert_eq!(invalid(error), ConfigError::PreconditionerWithRmsprop);
    }
    // Preconditioners for other modules: a network with the same values but parameters of its own
    // (a clone of w* would keep w*'s parameter ids), and the unstacked network's for the stack.
    let other = Dln::<B>::from_host_f32(&model.widths(), &model.weights_host(), &Default::default()).unwrap();
    let theirs = DiagonalPreconditioner::in_visit_order(&other, ones.clone()).unwrap();
    for sampler in [SamplerKind::Sgld, SamplerKind::Mala] {
        foreign(refusal(one, dln_loss, &data, config.clone().with_sampler(sampler), Some(theirs.clone())));
    }
    foreign(refusal(three, stacked_dln_loss, &data, config.clone(), Some(own())));
    // A module that does not hold the stack it is said to hold (its parameters' first dimension is
    // not the number of stacked chains).
    let error = refusal((&model, 3), dln_loss, &data, config.clone(), None);
    let leading = |why: &ChainMismatch| matches!(why, ChainMismatch::LeadingDimension { copies: 3, parameter: 0, .. });
    assert!(matches!(&error, EstimatorError::Sampler(SamplerError::Chains(why)) if leading(why)), "{error}");
    // The control: the same fixtures run once nothing is wrong.
    let matched = DiagonalPreconditioner::in_visit_order_stacked(&stacked, ones, 3).unwrap();
    let estimator = Estimator::new(&stacked, &data, stacked_dln_loss).with_config(config).with_stacked_chains(3);
    assert!(estimator.with_preconditioner(matched).run().is_ok());
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
    let config = chains(2, 600, 100).with_thinning(7).with_batch_size(100).with_epsilon(1e-3);
    let config = config.with_acceptance_every(0).with_draw_loss(DrawLoss::Full).with_seed(4);
    let full_calls = RefCell::new(Vec::new());
    let logging = |m: &Linear<B>, batch: &Batch| {
        let loss = mse(m, batch);
        if batch.0.dims()[0] == n {
            full_calls.borrow_mut().push(loss.clone().into_scalar().elem::<f64>());
        }
        loss
    };
    let estimate = estimate(&model, &data, logging, config.clone());
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
    let minibatch = chains(4, 8_000, 2_000).with_thinning(5).with_batch_size(5).with_epsilon(1e-3);
    let minibatch = minibatch.with_acceptance_every(0).with_seed(11);
    let run = |draw_loss| estimate(&model, &data, mse, minibatch.clone().with_draw_loss(draw_loss));
    let (a, b) = (run(DrawLoss::Minibatch), run(DrawLoss::Full));
    let exact = data.exact_lambda_hat(a.n_beta, minibatch.gamma);
    let variance = |e: &LlcEstimate| {
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

/// MALA records the full-data loss at every draw already, so `DrawLoss::Full` changes nothing.
#[test]
fn the_draw_loss_does_not_change_mala() {
    let (model, data) = setup();
    let config = mala(2, 300, 100).with_seed(3);
    let minibatch = estimate(&model, &data, mse, config.clone());
    let full = estimate(&model, &data, mse, config.with_draw_loss(DrawLoss::Full));
    assert_eq!(minibatch.per_chain, full.per_chain);
    assert_eq!(minibatch.lambda_hat.to_bits(), full.lambda_hat.to_bits());
}
