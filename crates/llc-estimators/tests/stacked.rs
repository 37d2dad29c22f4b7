//! Stacked chains (`Estimator::with_stacked_chains`) against chains run one at a time: chain k
//! uses the same noise and minibatch streams either way, so the estimates agree chain by chain,
//! with or without a fixed diagonal preconditioner.

use llc_estimators::{DrawLoss, Estimator, EstimatorConfig, InitLoss, LlcEstimate, SamplerKind};
use llc_models::{Dln, StackedDln};
use llc_sampler::DiagonalPreconditioner;

mod common;

use common::{B, ModelData, chains, dln, dln_loss, estimate, random_factors, stacked_dln_loss};

/// The same estimate twice: chains one at a time at `model`, and in groups of `copies` stacked
/// chains; with `factors`, both under the diagonal preconditioner they give (one chain's factors,
/// repeated for every copy of the stack).
fn separate_and_stacked(
    (model, data): (&Dln<B>, &ModelData),
    config: &EstimatorConfig,
    copies: usize,
    factors: Option<Vec<Vec<f32>>>,
) -> (LlcEstimate, LlcEstimate) {
    let stacked = StackedDln::replicate(model, copies).unwrap();
    let init = InitLoss::Compute { chunk: 1_000 };
    let mut separate = Estimator::new(model, data, dln_loss).with_config(config.clone()).with_init_loss(init);
    let mut together = Estimator::new(&stacked, data, stacked_dln_loss)
        .with_config(config.clone())
        .with_stacked_chains(copies)
        .with_init_loss(init);
    if let Some(factors) = factors {
        separate =
            separate.with_preconditioner(DiagonalPreconditioner::in_visit_order(model, factors.clone()).unwrap());
        let p = DiagonalPreconditioner::in_visit_order_stacked(&stacked, factors, copies).unwrap();
        together = together.with_preconditioner(p);
    }
    (separate.run().unwrap(), together.run().unwrap())
}

/// Six chains as two groups of three stacked chains reproduce the six chains run one at a time,
/// for plain SGLD (recording minibatch or full-data draws), RMSprop-SGLD, and SGLD under a fixed
/// random diagonal preconditioner (factors between 1/2 and 2, which must change the chains:
/// their λ̂ differ from the unpreconditioned ones of the same seed by far more than the rounding).
#[test]
fn stacked_chains_reproduce_separate_chains() {
    let (model, data) = dln();
    let factors = random_factors(&model, 17);
    let cases = [
        (SamplerKind::Sgld, DrawLoss::Minibatch, None),
        (SamplerKind::Sgld, DrawLoss::Full, None),
        (SamplerKind::RmspropSgld, DrawLoss::Minibatch, None),
        (SamplerKind::Sgld, DrawLoss::Minibatch, Some(factors.clone())),
        (SamplerKind::Sgld, DrawLoss::Full, Some(factors)),
    ];
    let mut plain: Vec<LlcEstimate> = Vec::new();
    for (sampler, draw_loss, factors) in cases {
        let config = chains(6, 400, 100).with_thinning(3).with_batch_size(50).with_epsilon(1e-5);
        let config = config.with_sampler(sampler).with_draw_loss(draw_loss).with_acceptance_every(10).with_seed(21);
        let preconditioned = factors.is_some();
        let (separate, together) = separate_and_stacked((&model, &data), &config, 3, factors);
        let what = format!("{} with {} draws, preconditioned: {preconditioned}", sampler.name(), draw_loss.name());
        assert!((separate.init_loss - together.init_loss).abs() <= 1e-6 * separate.init_loss.abs().max(1e-6), "{what}");
        assert_eq!(together.per_chain.len(), 6);
        // The same chains up to f32 rounding (the stacked loss reduces rows in another order):
        // relative 1e-4 on each chain's λ̂ and acceptance, far below the chains' spread.
        for (a, b) in separate.per_chain.iter().zip(&together.per_chain) {
            assert_eq!((a.chain_idx, a.n_draws), (b.chain_idx, b.n_draws), "{what}");
            let (x, y) = (a.lambda_hat.unwrap(), b.lambda_hat.unwrap());
            assert!((x - y).abs() <= 1e-4 * x.abs(), "{what}, chain {}: λ̂ {x} vs {y}", a.chain_idx);
            let (p, q) = (a.mean_acceptance.unwrap(), b.mean_acceptance.unwrap());
            assert!((p - q).abs() <= 1e-4, "{what}, chain {}: acceptance {p} vs {q}", a.chain_idx);
        }
        assert!(separate.lambda_hat_std > 0.0);
        assert!((separate.lambda_hat - together.lambda_hat).abs() <= 1e-4 * separate.lambda_hat, "{what}");
        if !preconditioned {
            plain.push(separate);
        } else {
            let reference = plain.iter().find(|e| e.config.draw_loss == draw_loss && e.config.sampler == sampler);
            let reference = reference.expect("the unpreconditioned run of the same settings comes first");
            for (a, b) in reference.per_chain.iter().zip(&separate.per_chain) {
                let (x, y) = (a.lambda_hat.unwrap(), b.lambda_hat.unwrap());
                assert!(
                    (x - y).abs() > 1e-2 * x.abs(),
                    "{what}, chain {}: P changed nothing ({x} vs {y})",
                    a.chain_idx
                );
            }
        }
    }
}

/// With ε far too large for this network every chain blows up, each at its own step, restarts
/// with ε halved until its restarts run out, and is lost; each stacked chain does so at the same
/// steps as its separate twin.
#[test]
fn a_diverging_stacked_chain_is_named_and_the_others_finish() {
    let (model, data) = dln();
    let config = chains(4, 300, 50).with_batch_size(50).with_epsilon(5e-2).with_acceptance_every(0);
    let stacked = StackedDln::replicate(&model, 4).unwrap();
    let run = Estimator::new(&stacked, &data, stacked_dln_loss).with_config(config.clone()).with_stacked_chains(4);
    let together = run.with_init_loss(InitLoss::Known(0.0)).run().unwrap();
    let separate = estimate(&model, &data, dln_loss, config);
    assert_eq!(together.diagnostics.diverged.len(), 4, "{:?}", together.diagnostics.diverged);
    assert_eq!(together.diagnostics.restarts.len(), 4 * 5, "{:?}", together.diagnostics.restarts);
    let steps = |e: &LlcEstimate| {
        let restarts = e.diagnostics.restarts.iter().map(|r| (r.chain_idx, r.step));
        restarts.chain(e.diagnostics.diverged.iter().map(|d| (d.chain_idx, d.step))).collect::<Vec<_>>()
    };
    assert_eq!(steps(&separate), steps(&together));
}
