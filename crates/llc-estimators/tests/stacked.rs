//! Stacked chains (`estimate_llc_stacked`) against chains run one at a time (`estimate_llc`): chain
//! k uses the same noise and minibatch streams either way, so the estimates agree chain by chain.

use burn::tensor::Tensor;
use llc_estimators::{
    DrawLoss, EstimatorConfig, InitLoss, NoProgress, SamplerKind, estimate_llc, estimate_llc_stacked,
};
use llc_models::{DataForm, Dln, DlnTeacher, RegressionData, StackedDln, SyntheticInputs, mse, mse_per_copy};

mod common;

use common::{B, ModelData};

fn setup() -> (Dln<B>, ModelData) {
    let device = Default::default();
    let widths = [6, 8, 5];
    let teacher = DlnTeacher::full_rank(&widths, 3).unwrap();
    let data = RegressionData::<B>::dln(
        &teacher,
        SyntheticInputs::new(2, 5_000, widths[0]).unwrap(),
        DataForm::Materialized,
        &device,
    )
    .unwrap();
    (teacher.to_module(&device), ModelData(data))
}

fn single_loss(m: &Dln<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)) -> Tensor<B, 1> {
    mse(m.forward(x.clone()), y.clone())
}

/// The loss of C stacked copies: the batch holds the C chains' minibatches one after another.
fn stacked_loss(m: &StackedDln<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)) -> Tensor<B, 1> {
    let copies = m.copies();
    let [rows, width_in] = x.dims();
    let width_out = y.dims()[1];
    let batch = rows / copies;
    let x = x.clone().reshape([copies, batch, width_in]);
    let y = y.clone().reshape([copies, batch, width_out]);
    mse_per_copy(m.forward(x), y)
}

#[test]
fn stacked_chains_reproduce_separate_chains() {
    let (model, data) = setup();
    for (sampler, draw_loss) in [
        (SamplerKind::Sgld, DrawLoss::Minibatch),
        (SamplerKind::Sgld, DrawLoss::Full),
        (SamplerKind::RmspropSgld, DrawLoss::Minibatch),
    ] {
        let config = EstimatorConfig {
            n_chains: 6,
            n_steps: 400,
            n_burnin: 100,
            thinning: 3,
            batch_size: 50,
            epsilon: 1e-5,
            sampler,
            draw_loss,
            acceptance_every: 10,
            seed: 21,
            ..Default::default()
        };
        let separate =
            estimate_llc(&model, &data, single_loss, &config, InitLoss::Compute { chunk: 1_000 }, &mut NoProgress)
                .unwrap();
        // Two groups of three stacked chains.
        let stacked = StackedDln::replicate(&model, 3).unwrap();
        let together = estimate_llc_stacked(
            &stacked,
            3,
            &data,
            stacked_loss,
            &config,
            InitLoss::Compute { chunk: 1_000 },
            &mut NoProgress,
        )
        .unwrap();
        let what = format!("{} with {} draws", sampler.name(), draw_loss.name());
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
    }
}

#[test]
fn a_diverging_stacked_chain_is_named_and_the_others_finish() {
    let (model, data) = setup();
    // ε far too large for this network: every chain blows up, each at its own step.
    let config = EstimatorConfig {
        n_chains: 4,
        n_steps: 300,
        n_burnin: 50,
        batch_size: 50,
        epsilon: 5e-2,
        acceptance_every: 0,
        ..Default::default()
    };
    let stacked = StackedDln::replicate(&model, 4).unwrap();
    let together =
        estimate_llc_stacked(&stacked, 4, &data, stacked_loss, &config, InitLoss::Known(0.0), &mut NoProgress).unwrap();
    let separate = estimate_llc(&model, &data, single_loss, &config, InitLoss::Known(0.0), &mut NoProgress).unwrap();
    assert_eq!(together.diagnostics.diverged.len(), 4, "{:?}", together.diagnostics.diverged);
    // Each chain diverges at the same step as its separate twin.
    for (a, b) in separate.diagnostics.diverged.iter().zip(&together.diagnostics.diverged) {
        assert_eq!((a.chain_idx, a.step), (b.chain_idx, b.step));
    }
}

#[test]
fn stacking_refuses_mala_and_uneven_groups() {
    let (model, data) = setup();
    let stacked = StackedDln::replicate(&model, 3).unwrap();
    let run = |config: &EstimatorConfig| {
        estimate_llc_stacked(&stacked, 3, &data, stacked_loss, config, InitLoss::Known(0.0), &mut NoProgress)
            .unwrap_err()
            .to_string()
    };
    let uneven = EstimatorConfig { n_chains: 4, n_steps: 10, n_burnin: 0, batch_size: 10, ..Default::default() };
    assert!(run(&uneven).contains("groups of 3"), "{}", run(&uneven));
    let mala = EstimatorConfig { sampler: SamplerKind::Mala, n_chains: 3, ..uneven };
    assert!(run(&mala).contains("MALA"), "{}", run(&mala));
}
