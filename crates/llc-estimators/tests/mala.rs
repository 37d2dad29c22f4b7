//! The estimator with full-batch MALA (`SamplerKind::Mala`): λ̂ on a regular model against the exact
//! value of its Gaussian posterior, agreement with SGLD, acceptance in the diagnostics, one full
//! batch per estimate, and divergence handling.

use std::cell::{Cell, RefCell};

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use llc_estimators::diagnostics::monte_carlo_standard_error;
use llc_estimators::{DataSource, EstimatorConfig, InitLoss, LlcEstimate, NoProgress, SamplerKind, estimate_llc};

type B = Autodiff<NdArray>;

/// Linear regression y = x·W (no bias): a regular model, so λ = d/2 at any W.
#[derive(Module, Debug)]
struct Linear<B: Backend> {
    w: Param<Tensor<B, 2>>,
}

/// Inputs uniform in [−1, 1] from a fixed generator and noiseless targets from W*; counts the
/// batches asked for and their sizes.
struct Regression {
    x: Vec<f32>,
    y: Vec<f32>,
    d_in: usize,
    d_out: usize,
    batch_sizes: RefCell<Vec<usize>>,
}

impl Regression {
    fn new(n: usize, d_in: usize, w_star: &[f32], d_out: usize) -> Self {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut uniform = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let x: Vec<f32> = (0..n * d_in).map(|_| uniform()).collect();
        let mut y = vec![0.0f32; n * d_out];
        for i in 0..n {
            for j in 0..d_out {
                y[i * d_out + j] = (0..d_in).map(|k| x[i * d_in + k] * w_star[k * d_out + j]).sum();
            }
        }
        Self { x, y, d_in, d_out, batch_sizes: RefCell::new(Vec::new()) }
    }

    /// The exact λ̂ of the localized tempered posterior. L_n(W) is the quadratic
    /// (1/d_out)·Σ_j v_jᵀ Σ̂ v_j with v_j = (W − W*)_j and Σ̂ = XᵀX/n, so per output the Hessian is
    /// A = 2Σ̂/d_out, the posterior is Gaussian with precision nβA + γI, and
    /// λ̂ = nβ·E[L_n] = ½·d_out·tr(nβA(nβA + γI)⁻¹) = ½·d_out·(d_in − γ·tr((nβA + γI)⁻¹)).
    /// As γ → 0 this is d/2; the prior lowers it slightly.
    fn exact_lambda_hat(&self, n_beta: f64, gamma: f64) -> f64 {
        let (n, d) = (self.len(), self.d_in);
        let mut m = vec![vec![0.0f64; d]; d];
        for x in self.x.chunks(d) {
            for (m_row, &x_r) in m.iter_mut().zip(x) {
                for (value, &x_c) in m_row.iter_mut().zip(x) {
                    *value += x_r as f64 * x_c as f64;
                }
            }
        }
        for (r, row) in m.iter_mut().enumerate() {
            for (c, value) in row.iter_mut().enumerate() {
                *value = n_beta * 2.0 * *value / (n as f64 * self.d_out as f64) + if r == c { gamma } else { 0.0 };
            }
        }
        0.5 * self.d_out as f64 * (d as f64 - gamma * trace_of_inverse(m))
    }
}

/// tr(M⁻¹) of a small symmetric positive definite matrix, by Gauss–Jordan elimination.
fn trace_of_inverse(mut m: Vec<Vec<f64>>) -> f64 {
    let d = m.len();
    let mut inv: Vec<Vec<f64>> = (0..d).map(|r| (0..d).map(|c| if r == c { 1.0 } else { 0.0 }).collect()).collect();
    for col in 0..d {
        let pivot = m[col][col];
        let pivot_row: Vec<f64> = m[col].iter().map(|v| v / pivot).collect();
        let pivot_inv: Vec<f64> = inv[col].iter().map(|v| v / pivot).collect();
        for (r, (m_row, inv_row)) in m.iter_mut().zip(inv.iter_mut()).enumerate() {
            if r == col {
                m_row.clone_from(&pivot_row);
                inv_row.clone_from(&pivot_inv);
            } else {
                let factor = m_row[col];
                m_row.iter_mut().zip(&pivot_row).for_each(|(value, p)| *value -= factor * p);
                inv_row.iter_mut().zip(&pivot_inv).for_each(|(value, p)| *value -= factor * p);
            }
        }
    }
    inv.iter().enumerate().map(|(i, row)| row[i]).sum()
}

impl DataSource for Regression {
    type Batch = (Tensor<B, 2>, Tensor<B, 2>);
    fn len(&self) -> usize {
        self.x.len() / self.d_in
    }
    fn batch(&self, indices: &[usize]) -> Self::Batch {
        self.batch_sizes.borrow_mut().push(indices.len());
        let device = Default::default();
        let gather = |src: &[f32], width: usize| {
            let rows: Vec<f32> =
                indices.iter().flat_map(|&i| src[i * width..(i + 1) * width].iter().copied()).collect();
            Tensor::<B, 2>::from_data(TensorData::new(rows, [indices.len(), width]), &device)
        };
        (gather(&self.x, self.d_in), gather(&self.y, self.d_out))
    }
}

fn mse(m: &Linear<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)) -> Tensor<B, 1> {
    (x.clone().matmul(m.w.val()) - y.clone()).square().mean()
}

fn setup() -> (Linear<B>, Regression) {
    let (d_in, d_out) = (4, 3);
    let w_star: Vec<f32> = (0..d_in * d_out).map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.5).collect();
    let device = Default::default();
    let model =
        Linear { w: Param::from_tensor(Tensor::from_data(TensorData::new(w_star.clone(), [d_in, d_out]), &device)) };
    (model, Regression::new(2_000, d_in, &w_star, d_out))
}

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
