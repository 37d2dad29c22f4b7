//! Fixtures shared by the estimator's integration tests: a linear-regression model whose λ is
//! known (λ = d/2, and the exact λ̂ of its Gaussian posterior), and the adapter from the models
//! crate's regression data to the estimator's `DataSource`.
//!
//! Each test binary uses part of this module, so unused items are expected in every one of them.
#![allow(dead_code, unreachable_pub)]

use std::cell::RefCell;

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use llc_estimators::DataSource;
use llc_models::RegressionData;

/// The CPU autodiff backend all these tests run on.
pub type B = Autodiff<NdArray>;

/// A minibatch of inputs and targets.
pub type Batch = (Tensor<B, 2>, Tensor<B, 2>);

/// The models crate's regression data as a `DataSource`.
pub struct ModelData(pub RegressionData<B>);

impl DataSource for ModelData {
    type Batch = Batch;
    fn len(&self) -> usize {
        self.0.n()
    }
    fn batch(&self, indices: &[usize]) -> Batch {
        self.0.batch(indices).expect("the estimator draws indices below n")
    }
}

/// Linear regression y = x·W (no bias): a regular model, so λ = d/2 at any W.
#[derive(Module, Debug)]
pub struct Linear<B: Backend> {
    pub w: Param<Tensor<B, 2>>,
}

/// Inputs uniform in [−1, 1] from a fixed generator and noiseless targets from W*; counts the
/// batches asked for and their sizes.
pub struct Regression {
    x: Vec<f32>,
    y: Vec<f32>,
    d_in: usize,
    d_out: usize,
    pub batch_sizes: RefCell<Vec<usize>>,
}

impl Regression {
    pub fn new(n: usize, d_in: usize, w_star: &[f32], d_out: usize) -> Self {
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
    pub fn exact_lambda_hat(&self, n_beta: f64, gamma: f64) -> f64 {
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

/// The mean squared error of the linear model on a batch.
pub fn mse(m: &Linear<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)) -> Tensor<B, 1> {
    (x.clone().matmul(m.w.val()) - y.clone()).square().mean()
}

/// A 4 → 3 linear model at W* and 2,000 noiseless samples from it (d = 12, λ = 6).
pub fn setup() -> (Linear<B>, Regression) {
    let (d_in, d_out) = (4, 3);
    let w_star: Vec<f32> = (0..d_in * d_out).map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.5).collect();
    let device = Default::default();
    let model =
        Linear { w: Param::from_tensor(Tensor::from_data(TensorData::new(w_star.clone(), [d_in, d_out]), &device)) };
    (model, Regression::new(2_000, d_in, &w_star, d_out))
}
