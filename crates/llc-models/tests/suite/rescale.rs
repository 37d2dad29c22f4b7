//! The per-neuron rescaling symmetry of ReLU networks and its matched preconditioner.

use burn::backend::Autodiff;
use burn::module::list_param_ids;
use burn::tensor::{Tensor, TensorData};
use llc_models::{Mlp, MlpTeacher, ModelError, SyntheticInputs, rescale_factors};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

use crate::common::{B, UNIT_ROUNDOFF, abs_mlp, assert_within, matrix_from_rows, tensor_to_matrix};

/// Checks that rescaling hidden layer `layer` of `teacher` by `alphas` leaves the outputs on a
/// batch of inputs unchanged up to f32 rounding.
///
/// Error model: both networks are evaluated in f32. With `alpha` applied, the pre-activation of
/// neuron j is computed from weights `fl(alpha_j·w)` (one extra rounding) and equals
/// `alpha_j·z_j·(1 + theta)` with `|theta| ≤ (fan_in + 3)·u` relative to `alpha_j·(|h||W| + |b|)_j`; ReLU
/// commutes with `alpha_j > 0`; the outgoing weights `fl(w/alpha_j)` carry one more rounding, and
/// the `alpha_j` cancel exactly in the products. So each evaluation is within
/// `(Σ fan_in + 3·layers)·u` of the exact function relative to the magnitudes `abs_mlp` (which
/// are themselves invariant under the rescaling), and the two evaluations within twice that. A
/// further factor 2 gives headroom; the bound does not depend on alpha, which is the point.
fn assert_rescaling_preserves_outputs(teacher: &MlpTeacher, layer: usize, alphas: &[f32]) {
    let device = Default::default();
    let module = teacher.to_module::<B>(&device);
    let rescaled = module.rescale_hidden(layer, alphas).unwrap();
    let widths = teacher.widths();
    let rows = SyntheticInputs::new(5, 64, widths[0]).unwrap().materialize();
    let x_host = matrix_from_rows(&rows, 64, widths[0]);
    let x = Tensor::<B, 2>::from_data(TensorData::new(rows, [64, widths[0]]), &device);
    let before = tensor_to_matrix(module.forward(x.clone()));
    let after = tensor_to_matrix(rescaled.forward(x));
    let layers = widths.len() - 1;
    let inner: usize = widths[..layers].iter().sum();
    let factor = 4.0 * (inner + 3 * layers) as f64 * UNIT_ROUNDOFF;
    let bound = abs_mlp(&x_host, teacher.weights(), teacher.biases()) * factor;
    assert_within(&after, &before, &bound, &format!("layer {layer}, alphas {alphas:?}"));
}

/// The paper's degenerate teacher (docs/method.md §6): hidden neurons 1, 2, 3, 4, 5 and 8 copy
/// neuron 0.
fn planted_teacher(widths: &[usize], seed: u64) -> MlpTeacher {
    let mut teacher = MlpTeacher::random(widths, seed, 1.0).unwrap();
    teacher.plant_copies(0, 0, &[1, 2, 3, 4, 5, 8]).unwrap();
    teacher
}

#[test]
fn uniform_rescaling_leaves_outputs_unchanged_from_1e_minus_2_to_1e2() {
    let teacher = planted_teacher(&[10, 20, 10], 1);
    for step in 0..=8 {
        // alpha = 10^(−2 + step/2): 1e-2, 3.2e-2, …, 1e2.
        let alpha = 10f32.powf(-2.0 + step as f32 * 0.5);
        assert_rescaling_preserves_outputs(&teacher, 0, &[alpha; 20]);
    }
    let deep = MlpTeacher::random(&[10, 20, 20, 10], 2, 1.0).unwrap();
    for layer in 0..2 {
        for alpha in [1e-2_f32, 0.5, 7.0, 1e2] {
            assert_rescaling_preserves_outputs(&deep, layer, &[alpha; 20]);
        }
    }
}

#[test]
fn rescaling_changes_the_parameters_as_specified() {
    let device = Default::default();
    let teacher = MlpTeacher::random(&[3, 4, 2], 7, 1.0).unwrap();
    let module = teacher.to_module::<B>(&device);
    let alphas = [0.5_f32, 2.0, 4.0, 0.125];
    let rescaled = module.rescale_hidden(0, &alphas).unwrap();
    let (old, new) = (module.layers_host(), rescaled.layers_host());
    // Powers of two make the products exact in f32.
    for i in 0..3 {
        for (j, alpha) in alphas.iter().enumerate() {
            assert_eq!(new[0].weight[i * 4 + j], old[0].weight[i * 4 + j] * alpha);
        }
    }
    for (j, alpha) in alphas.iter().enumerate() {
        assert_eq!(new[0].bias[j], old[0].bias[j] * alpha);
        for k in 0..2 {
            assert_eq!(new[1].weight[j * 2 + k], old[1].weight[j * 2 + k] / alpha);
        }
    }
    assert_eq!(new[1].bias, old[1].bias, "the output bias is not touched");
    assert_eq!(list_param_ids(&rescaled), list_param_ids(&module), "parameter ids are kept");

    // On an autodiff backend the rescaled parameters are fresh trainable leaves.
    let autodiff = teacher.to_module::<Autodiff<B>>(&device);
    let rescaled = autodiff.rescale_hidden(0, &alphas).unwrap();
    assert!(rescaled.layers.iter().all(|l| l.weight.is_require_grad()), "rescaled parameters stay trainable");
    let loss = rescaled.forward(Tensor::ones([2, 3], &device)).sum();
    let grads = loss.backward();
    assert!(rescaled.layers[0].weight.grad(&grads).is_some(), "gradients reach the rescaled weights");
}

#[test]
fn preconditioner_factors_match_the_paper_for_a_uniform_alpha() {
    // docs/method.md §6: P = alpha² on the first layer's W and b, 1/alpha² on the second layer's
    // W, 1 on its b.
    let alpha = 10f32.powi(2);
    let factors = rescale_factors(&[10, 20, 10], 0, &[alpha; 20]).unwrap();
    assert_eq!(factors.len(), 2);
    assert!(factors[0].weight.iter().all(|&p| p == 1e4));
    assert!(factors[0].bias.iter().all(|&p| p == 1e4));
    assert!(factors[1].weight.iter().all(|&p| p == 1e-4));
    assert!(factors[1].bias.iter().all(|&p| p == 1.0));
    assert_eq!((factors[0].weight.len(), factors[1].weight.len()), (200, 200));
}

#[test]
fn preconditioner_factors_per_neuron_follow_the_parameter_layout() {
    let widths = [2, 3, 3, 1];
    let alphas = [2.0_f32, 0.5, 3.0];
    let factors = rescale_factors(&widths, 1, &alphas).unwrap();
    // Layer 0 is untouched; layer 1's weight is [3, 3] with column j scaled by alpha_j²; layer 2's
    // weight is [3, 1] with row j scaled by 1/alpha_j².
    assert!(factors[0].weight.iter().chain(&factors[0].bias).all(|&p| p == 1.0));
    assert_eq!(factors[1].weight, vec![4.0, 0.25, 9.0, 4.0, 0.25, 9.0, 4.0, 0.25, 9.0]);
    assert_eq!(factors[1].bias, vec![4.0, 0.25, 9.0]);
    assert_eq!(factors[2].weight, vec![0.25, 4.0, 1.0 / 9.0]);
    assert_eq!(factors[2].bias, vec![1.0]);

    let device = Default::default();
    let module = MlpTeacher::random(&widths, 0, 1.0).unwrap().to_module::<B>(&device);
    let per_param = module.rescale_preconditioner(1, &alphas).unwrap();
    let ids = list_param_ids(&module);
    assert_eq!(per_param.iter().map(|p| p.id).collect::<Vec<_>>(), ids, "one entry per parameter, in order");
    let shapes: Vec<Vec<usize>> = per_param.iter().map(|p| p.shape.clone()).collect();
    assert_eq!(shapes, vec![vec![2, 3], vec![3], vec![3, 3], vec![3], vec![3, 1], vec![1]]);
    assert_eq!(per_param[2].factors, factors[1].weight);
    assert_eq!(per_param[4].factors, factors[2].weight);
    for p in &per_param {
        assert_eq!(p.factors.len(), p.shape.iter().product::<usize>());
    }
}

#[test]
fn bad_alphas_and_layers_are_errors() {
    let device = Default::default();
    let module: Mlp<B> = MlpTeacher::random(&[3, 4, 2], 0, 1.0).unwrap().to_module(&device);
    for bad in [0.0_f32, -1.0, f32::NAN, f32::INFINITY, 1e30, 1e-30] {
        let alphas = [1.0, bad, 1.0, 1.0];
        assert!(
            matches!(module.rescale_hidden(0, &alphas), Err(ModelError::InvalidAlpha { neuron: 1, .. })),
            "alpha {bad} must be rejected"
        );
        assert!(module.rescale_preconditioner(0, &alphas).is_err());
    }
    assert!(matches!(
        module.rescale_hidden(1, &[1.0; 2]),
        Err(ModelError::LayerOutOfRange { layer: 1, hidden_layers: 1 })
    ));
    assert!(matches!(module.rescale_hidden(0, &[1.0; 3]), Err(ModelError::ShapeMismatch { .. })));
    assert!(rescale_factors(&[3, 4], 0, &[1.0; 4]).is_err(), "a network without hidden layers");
    assert!(rescale_factors(&[3, 0, 2], 0, &[]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: RngSeed::Fixed(0x11c_5eed),
        cases: 32,
        ..ProptestConfig::default()
    })]

    /// Any per-neuron alphas in [1e-4, 1e4] (log-uniform) on any hidden layer leave the function
    /// unchanged.
    #[test]
    fn per_neuron_rescaling_preserves_the_function(
        seed in 0u64..1000,
        layer in 0usize..2,
        exponents in proptest::collection::vec(-4.0f32..=4.0, 8),
    ) {
        let teacher = MlpTeacher::random(&[6, 8, 8, 4], seed, 1.0).unwrap();
        let alphas: Vec<f32> = exponents.iter().map(|e| 10f32.powf(*e)).collect();
        assert_rescaling_preserves_outputs(&teacher, layer, &alphas);
    }

    /// Rescaling by alpha and then by 1/alpha returns the parameters up to three f32 roundings
    /// (the first product or quotient, the rounding of 1/alpha, the second product or quotient),
    /// a relative error of at most 3u + O(u²); we allow 4u.
    #[test]
    fn rescaling_back_recovers_the_parameters(
        seed in 0u64..1000,
        exponents in proptest::collection::vec(-4.0f32..=4.0, 5),
    ) {
        let device = Default::default();
        let module = MlpTeacher::random(&[3, 5, 2], seed, 1.0).unwrap().to_module::<B>(&device);
        let alphas: Vec<f32> = exponents.iter().map(|e| 10f32.powf(*e)).collect();
        let inverse: Vec<f32> = alphas.iter().map(|a| 1.0 / a).collect();
        let round_trip = module.rescale_hidden(0, &alphas).unwrap().rescale_hidden(0, &inverse).unwrap();
        for (a, b) in module.layers_host().iter().zip(round_trip.layers_host()) {
            for (x, y) in a.weight.iter().chain(&a.bias).zip(b.weight.iter().chain(&b.bias)) {
                let tolerance = 4.0 * UNIT_ROUNDOFF as f32 * x.abs();
                prop_assert!((x - y).abs() <= tolerance, "{} became {}", x, y);
            }
        }
    }
}
