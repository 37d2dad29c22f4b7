//! The two measures behind the automatic step size's bias cap, against their exact values on toy
//! models: `gradient_noise` estimates tr(P·Σ_B) without bias, and `move_curvature` has mean
//! ε·tr(P·∇²U) (up to O(ε²)), for stacked chains, with and without a fixed preconditioner, on the
//! host and device update paths.

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use llc_sampler::{DiagonalPreconditioner, NoiseSource, SgldChains, SgldConfig};
use rand::{RngExt, SeedableRng, rngs::StdRng};

type B = Autodiff<NdArray>;

/// C parameter vectors of length K stacked as one `[C, K]` parameter.
#[derive(Module, Debug)]
struct Stacked<B: Backend> {
    w: Param<Tensor<B, 2>>,
}

const C: usize = 2;
const K: usize = 4;
/// Per coordinate weights a_i of the losses below.
const A: [f32; K] = [1.0, 2.0, 3.0, 4.0];
/// The fixed preconditioner used where one is.
const P: [f32; K] = [0.5, 1.0, 2.0, 0.25];

fn model() -> Stacked<B> {
    let values: Vec<f32> = (0..C * K).map(|i| 0.1 * i as f32 - 0.3).collect();
    Stacked { w: Param::from_tensor(Tensor::from_data(TensorData::new(values, [C, K]), &Default::default())) }
}

fn weights() -> Tensor<B, 1> {
    Tensor::from_data(TensorData::new(A.to_vec(), [K]), &Default::default())
}

fn chains(precondition: bool, device_update: bool, config: SgldConfig) -> SgldChains<B, Stacked<B>> {
    let module = model();
    let noise = (0..C).map(|c| NoiseSource::host(7, c as u64)).collect();
    let mut chains = SgldChains::new(module.clone(), C, config, noise).unwrap();
    if precondition {
        let p = DiagonalPreconditioner::in_visit_order(&module, vec![(0..C).flat_map(|_| P).collect()]).unwrap();
        chains = chains.with_diagonal_preconditioner(p).unwrap();
    }
    if device_update { chains.with_device_update() } else { chains }
}

/// The data set of the noise test: N points z_j ∈ R^K, a fixed irregular pattern.
fn data() -> Vec<[f32; K]> {
    (0..200).map(|j| std::array::from_fn(|i| ((j * (i + 3)) % 17) as f32 / 4.0 - 2.0 + (i as f32))).collect()
}

/// The minibatch loss of every chain, mean over the batch of ½ Σ_i a_i (w_{c,i} − z_{j,i})², for
/// a batch tensor of shape `[C, m, K]`. Its gradient is a ⊙ (w_c − z̄_B), so Σ_B = diag(a²·Var z)/m.
fn batch_loss(m: &Stacked<B>, batch: &Tensor<B, 3>) -> Tensor<B, 1> {
    let diff = m.w.val().reshape([C, 1, K]) - batch.clone();
    (diff.square() * weights().reshape([1, 1, K])).sum_dim(2).mean_dim(1).reshape([C]).mul_scalar(0.5)
}

/// A batch of `m` points per chain, drawn with replacement.
fn draw(rng: &mut StdRng, points: &[[f32; K]], m: usize) -> Tensor<B, 3> {
    let values: Vec<f32> = (0..C * m).flat_map(|_| points[rng.random_range(0..points.len())]).collect();
    Tensor::from_data(TensorData::new(values, [C, m, K]), &Default::default())
}

#[test]
fn gradient_noise_estimates_the_trace_of_the_minibatch_covariance() {
    let points = data();
    let m = 5;
    // Population variance of each coordinate (batches are drawn with replacement, so Σ_B is
    // exactly the population covariance over m).
    let variance: Vec<f64> = (0..K)
        .map(|i| {
            let mean = points.iter().map(|z| f64::from(z[i])).sum::<f64>() / points.len() as f64;
            points.iter().map(|z| (f64::from(z[i]) - mean).powi(2)).sum::<f64>() / points.len() as f64
        })
        .collect();
    let config = SgldConfig { epsilon: 1e-3, gamma: 1.0, n_beta: 10.0, rmsprop: None };
    for (precondition, device_update) in [(false, false), (true, false), (false, true), (true, true)] {
        let p = |i: usize| if precondition { f64::from(P[i]) } else { 1.0 };
        let exact: f64 = (0..K).map(|i| p(i) * f64::from(A[i]).powi(2) * variance[i] / m as f64).sum();
        let chains = chains(precondition, device_update, config);
        let mut rng = StdRng::seed_from_u64(11);
        let reps = 3000;
        let mut sums = [0.0f64; C];
        for _ in 0..reps {
            let (a, b) = (draw(&mut rng, &points, m), draw(&mut rng, &points, m));
            let noise = chains.gradient_noise(|x: &Stacked<B>| batch_loss(x, &a), |x: &Stacked<B>| batch_loss(x, &b));
            assert_eq!(noise.trace.len(), C);
            for (sum, t) in sums.iter_mut().zip(&noise.trace) {
                *sum += t;
            }
        }
        // Each measure is a weighted sum of K squared Gaussian-like differences, relative sd about
        // 0.8 here; over 3,000 measures the mean's relative SE is about 1.5%. 6% is 4 SE.
        for (c, sum) in sums.iter().enumerate() {
            let mean = sum / reps as f64;
            assert!(
                (mean / exact - 1.0).abs() < 0.06,
                "chain {c} (P: {precondition}, device update: {device_update}): mean {mean}, exact {exact}"
            );
        }
    }
}

#[test]
fn gradient_noise_is_zero_for_identical_minibatches() {
    let points = data();
    let chains = chains(false, false, SgldConfig { epsilon: 1e-3, gamma: 1.0, n_beta: 10.0, rmsprop: None });
    let batch = draw(&mut StdRng::seed_from_u64(3), &points, 7);
    let noise = chains.gradient_noise(|x: &Stacked<B>| batch_loss(x, &batch), |x: &Stacked<B>| batch_loss(x, &batch));
    assert!(noise.trace.iter().all(|&t| t == 0.0), "{:?}", noise.trace);
    // The reported loss is the minibatch loss at the chains' point.
    let direct: Vec<f32> = batch_loss(chains.module(), &batch).into_data().to_vec().unwrap();
    for (reported, direct) in noise.loss.iter().zip(direct) {
        assert!((reported - f64::from(direct)).abs() < 1e-5, "{reported} vs {direct}");
    }
}

#[test]
fn move_curvature_measures_the_step_times_the_trace_of_the_hessian() {
    // U = nβ·½ Σ a_i w_i² + (γ/2)‖w − w*‖², so ∇²U = diag(nβ·a_i + γ) and (with P) the mean of
    // Δᵀ(∇U(w') − ∇U(w)) = Δᵀ∇²U·Δ is ε·Σ P_i(nβ·a_i + γ) times 1 + O(ε·nβ·a): here
    // ε·nβ·a ≤ 0.01·P_i, well inside the tolerance.
    let (n_beta, gamma, epsilon) = (50.0, 1.0, 5e-5);
    let config = SgldConfig { epsilon, gamma, n_beta, rmsprop: None };
    let loss =
        |m: &Stacked<B>| (m.w.val().square() * weights().reshape([1, K])).sum_dim(1).reshape([C]).mul_scalar(0.5);
    for (precondition, device_update) in [(false, false), (true, false), (false, true), (true, true)] {
        let p = |i: usize| if precondition { f64::from(P[i]) } else { 1.0 };
        let exact: f64 = epsilon * (0..K).map(|i| p(i) * (n_beta * f64::from(A[i]) + gamma)).sum::<f64>();
        let mut chains = chains(precondition, device_update, config);
        let steps = 4000;
        let mut sums = [0.0f64; C];
        for _ in 0..steps {
            let report = chains.step(loss, true);
            let curvature = report.move_curvature.expect("asked for with the acceptance");
            for (sum, q) in sums.iter_mut().zip(curvature) {
                *sum += q;
            }
        }
        // q = Σ h_i·Δ_i² is a weighted sum of 4 scaled χ²₁ variables: relative sd about 1.1, so
        // the mean of 4,000 has a relative SE of about 1.8%. 7% is about 4 SE.
        for (c, sum) in sums.iter().enumerate() {
            let mean = sum / steps as f64;
            assert!(
                (mean / exact - 1.0).abs() < 0.07,
                "chain {c} (P: {precondition}, device update: {device_update}): mean {mean:e}, exact {exact:e}"
            );
        }
        assert!(chains.step(loss, false).move_curvature.is_none(), "only measured with the acceptance");
    }
}
