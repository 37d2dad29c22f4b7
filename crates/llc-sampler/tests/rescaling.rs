//! The ReLU rescaling symmetry (paper, the rescaling-invariance experiment; docs/method.md §6):
//! with the matched diagonal preconditioner, SGLD started from the rescaled teacher with the same
//! seed follows the image of the original trajectory under the rescaling map.
//!
//! Why it holds exactly in real arithmetic: rescaling hidden neuron j by α_j is a linear map w ↦ Tw
//! with T diagonal (α_j on the neuron's incoming weights and bias, 1/α_j on its outgoing weights),
//! and L(Tw) = L(w). Hence ∇L at Tw is T⁻¹∇L(w), and with P = T² and γ = 0 the update
//! Tw − (εT²/2)·nβ·T⁻¹∇L(w) + √ε·T·ξ = T·(w − (ε/2)·nβ·∇L(w) + √ε·ξ) is the image of the original
//! update driven by the same ξ. (With γ > 0 the prior term γT²(w − w*) breaks it, which is why the
//! paper's experiment uses γ = 0.)

use burn::backend::{Autodiff, NdArray};
use llc_models::{DataForm, Mlp, MlpTeacher, RegressionData, SyntheticInputs, mse};
use llc_sampler::{DiagonalPreconditioner, MalaChain, MalaConfig, NoiseSource, SgldChain, SgldConfig};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

type B = Autodiff<NdArray>;

/// Parameters layer by layer, as (weight, bias) host vectors.
type Layers = Vec<(Vec<f32>, Vec<f32>)>;

/// Runs `steps` SGLD steps from `model` on fixed minibatches; returns the per-step losses and the
/// final parameters, layer by layer, as (weight, bias) host vectors.
fn run(model: Mlp<B>, precond: Option<Vec<Vec<f32>>>, data: &RegressionData<B>, steps: usize) -> (Vec<f64>, Layers) {
    let config = SgldConfig { epsilon: 1e-5, gamma: 0.0, n_beta: 50.0, rmsprop: None };
    let mut chain = SgldChain::new(model, config, NoiseSource::host(17, 0)).unwrap();
    if let Some(factors) = precond {
        let p = DiagonalPreconditioner::in_visit_order(chain.module(), factors).unwrap();
        chain = chain.with_diagonal_preconditioner(p).unwrap();
    }
    let mut losses = Vec::new();
    for step in 0..steps {
        let indices: Vec<usize> = (0..16).map(|i| (step * 16 + i * 7) % data.n()).collect();
        let (x, y) = data.batch(&indices).unwrap();
        losses.push(chain.step(|m: &Mlp<B>| mse(m.forward(x.clone()), y.clone()), false).loss);
    }
    let layers = chain.into_module().layers_host().into_iter().map(|l| (l.weight, l.bias)).collect();
    (losses, layers)
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 24, rng_seed: RngSeed::Fixed(0x5ca1e), ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Random 3-layer ReLU nets and random per-neuron α in [1e-4, 1e4] (log-uniform). After 40
    /// steps the rescaled chain's parameters equal the rescaled original's to a relative 1e-3 and
    /// the losses agree step by step to a relative 1e-3. The differences come only from f32
    /// rounding (relative 6e-8 per operation), amplified by the few hundred operations of 40 steps
    /// and by α spanning eight decades; 1e-3 leaves a wide margin and still fails at once if the
    /// preconditioner is left out (the trajectories then differ at order one, see
    /// `without_the_preconditioner_the_trajectory_is_not_the_image`).
    #[test]
    fn sgld_with_the_matched_preconditioner_is_equivariant(
        (d_in, hidden, d_out, seed, log_alphas) in (2usize..6, 2usize..8, 1usize..4, 0u64..1000)
            .prop_flat_map(|(i, h, o, s)| (Just(i), Just(h), Just(o), Just(s), prop::collection::vec(-4.0f32..4.0, h)))
    ) {
        let device = Default::default();
        let widths = [d_in, hidden, d_out];
        let teacher = MlpTeacher::random(&widths, seed, 1.0).unwrap();
        let data = RegressionData::<B>::mlp(&teacher, SyntheticInputs::new(seed + 1, 64, d_in).unwrap(), DataForm::Materialized, &device).unwrap();
        let alphas: Vec<f32> = log_alphas.iter().map(|l| 10f32.powf(*l)).collect();
        let original = teacher.to_module::<B>(&device);
        let rescaled = original.rescale_hidden(0, &alphas).unwrap();
        let factors: Vec<Vec<f32>> = rescaled.rescale_preconditioner(0, &alphas).unwrap().into_iter().map(|p| p.factors).collect();

        let (losses_a, params_a) = run(original, None, &data, 40);
        let (losses_b, params_b) = run(rescaled, Some(factors), &data, 40);
        for (step, (a, b)) in losses_a.iter().zip(&losses_b).enumerate() {
            prop_assert!((a - b).abs() <= 1e-3 * a.abs().max(1e-6), "step {}: loss {} vs {}", step, a, b);
        }
        // Map the original end point through the rescaling and compare with the rescaled chain.
        let (w1, b1) = &params_a[0];
        let (w2, b2) = &params_a[1];
        let check = |expected: f32, got: f32, what: &str| -> Result<(), TestCaseError> {
            prop_assert!((expected - got).abs() <= 1e-3 * expected.abs().max(1e-3), "{}: {} vs {}", what, expected, got);
            Ok(())
        };
        for i in 0..d_in {
            for j in 0..hidden {
                check(w1[i * hidden + j] * alphas[j], params_b[0].0[i * hidden + j], "layer-1 weight")?;
            }
        }
        for j in 0..hidden {
            check(b1[j] * alphas[j], params_b[0].1[j], "layer-1 bias")?;
            for k in 0..d_out {
                check(w2[j * d_out + k] / alphas[j], params_b[1].0[j * d_out + k], "layer-2 weight")?;
            }
        }
        for (k, &bias) in b2.iter().enumerate() {
            check(bias, params_b[1].1[k], "layer-2 bias")?;
        }
    }
}

/// Runs `steps` full-batch MALA steps; returns the accept decisions, the draws' losses and the final
/// parameters.
fn run_mala(
    model: Mlp<B>,
    precond: Option<Vec<Vec<f32>>>,
    data: &RegressionData<B>,
    steps: usize,
) -> (Vec<bool>, Vec<f64>, Layers) {
    let config = MalaConfig { epsilon: 5e-4, gamma: 0.0, n_beta: 50.0 };
    let mut chain = MalaChain::new(model, config, NoiseSource::host(23, 0)).unwrap();
    if let Some(factors) = precond {
        let p = DiagonalPreconditioner::in_visit_order(chain.module(), factors).unwrap();
        chain = chain.with_diagonal_preconditioner(p).unwrap();
    }
    let (x, y) = data.full();
    let (mut accepted, mut losses) = (Vec::new(), Vec::new());
    for _ in 0..steps {
        let report = chain.step(|m: &Mlp<B>| mse(m.forward(x.clone()), y.clone()));
        accepted.push(report.accepted);
        losses.push(report.loss);
    }
    let layers = chain.into_module().layers_host().into_iter().map(|l| (l.weight, l.bias)).collect();
    (accepted, losses, layers)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..config() })]

    /// MALA with the matched preconditioner is equivariant too: the Metropolis–Hastings ratio is
    /// invariant (U(Tw) = U(w), and the Jacobian of T cancels between the two proposal densities),
    /// so the same noise and the same uniform draws give the same accept decisions, the same losses
    /// and the image of the original end point. Tolerances as in the SGLD test. ε = 5e-4 makes a
    /// good share of the proposals be rejected, so the decisions are a real check.
    #[test]
    fn mala_with_the_matched_preconditioner_is_equivariant(
        (seed, log_alphas) in (0u64..1000).prop_flat_map(|s| (Just(s), prop::collection::vec(-4.0f32..4.0, 6)))
    ) {
        let device = Default::default();
        let widths = [3, 6, 2];
        let teacher = MlpTeacher::random(&widths, seed, 1.0).unwrap();
        let data = RegressionData::<B>::mlp(&teacher, SyntheticInputs::new(seed + 1, 64, 3).unwrap(), DataForm::Materialized, &device).unwrap();
        let alphas: Vec<f32> = log_alphas.iter().map(|l| 10f32.powf(*l)).collect();
        let original = teacher.to_module::<B>(&device);
        let rescaled = original.rescale_hidden(0, &alphas).unwrap();
        let factors: Vec<Vec<f32>> = rescaled.rescale_preconditioner(0, &alphas).unwrap().into_iter().map(|p| p.factors).collect();
        let (acc_a, losses_a, params_a) = run_mala(original, None, &data, 30);
        let (acc_b, losses_b, params_b) = run_mala(rescaled, Some(factors), &data, 30);
        prop_assert_eq!(&acc_a, &acc_b);
        // Both decisions occur (measured: 3 to 14 of the 30 proposals rejected per case).
        prop_assert!(acc_a.iter().any(|a| !a) && acc_a.iter().any(|a| *a), "decisions {:?}", acc_a);
        for (a, b) in losses_a.iter().zip(&losses_b) {
            prop_assert!((a - b).abs() <= 1e-3 * a.abs().max(1e-6), "loss {} vs {}", a, b);
        }
        for (j, &alpha) in alphas.iter().enumerate() {
            let expected = params_a[0].1[j] * alpha;
            prop_assert!((expected - params_b[0].1[j]).abs() <= 1e-3 * expected.abs().max(1e-3), "bias {}: {} vs {}", j, expected, params_b[0].1[j]);
            for k in 0..2 {
                let expected = params_a[1].0[j * 2 + k] / alpha;
                let got = params_b[1].0[j * 2 + k];
                prop_assert!((expected - got).abs() <= 1e-3 * expected.abs().max(1e-3), "outgoing {}: {} vs {}", j, expected, got);
            }
        }
    }
}

/// The contrast: without the preconditioner the rescaled chain at α = 100 is not the image of the
/// original (its steps in the downscaled outgoing weights are 10⁴ times too large relative to their
/// size), so the equivariance test above can fail.
#[test]
fn without_the_preconditioner_the_trajectory_is_not_the_image() {
    let device = Default::default();
    let widths = [3, 5, 2];
    let teacher = MlpTeacher::random(&widths, 4, 1.0).unwrap();
    let data =
        RegressionData::<B>::mlp(&teacher, SyntheticInputs::new(5, 64, 3).unwrap(), DataForm::Materialized, &device)
            .unwrap();
    let alphas = vec![100.0f32; 5];
    let original = teacher.to_module::<B>(&device);
    let rescaled = original.rescale_hidden(0, &alphas).unwrap();
    let (_, params_a) = run(original, None, &data, 40);
    let (_, params_b) = run(rescaled, None, &data, 40);
    let max_rel = (0..5 * 2)
        .map(|i| {
            let expected = params_a[1].0[i] / 100.0;
            ((params_b[1].0[i] - expected) / expected).abs()
        })
        .fold(0.0f32, f32::max);
    assert!(max_rel > 0.1, "outgoing weights stayed within {max_rel} of the image");
}
