//! Fixtures shared by the estimator's integration tests: a linear-regression model whose λ is
//! known (λ = d/2, and the exact λ̂ of its Gaussian posterior), a small deep linear network with
//! its stacked copies, the adapter from the models crate's regression data to the estimator's
//! `DataSource`, the settings and runs the tests start from, a loss that counts (and poisons) its
//! calls, and a progress observer that records what it hears.
//!
//! Each test binary uses part of this module, so unused items are expected in every one of them.
#![allow(dead_code, unreachable_pub)]

use std::cell::{Cell, RefCell};

use burn::backend::{Autodiff, NdArray};
use burn::module::{AutodiffModule, Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use llc_estimators::diagnostics::monte_carlo_standard_error;
use llc_estimators::{
    DataSource, Divergence, Estimator, EstimatorConfig, InitLoss, LlcEstimate, Progress, Restart, SamplerKind,
};
use llc_models::{DataForm, Dln, DlnTeacher, Mlp, RegressionData, StackedDln, SyntheticInputs, mse_per_copy};

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

/// A fixed stream of numbers uniform in [−1, 1) (a 64-bit linear congruential generator), so that
/// the fixtures do not depend on any random number crate.
pub fn uniform_stream(seed: u64) -> impl FnMut() -> f32 {
    let mut state = seed;
    move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
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
        let x: Vec<f32> = std::iter::repeat_with(uniform_stream(0x1234_5678_9abc_def0)).take(n * d_in).collect();
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
    type Batch = Batch;
    fn len(&self) -> usize {
        self.x.len() / self.d_in
    }
    fn batch(&self, indices: &[usize]) -> Batch {
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
pub fn mse(m: &Linear<B>, (x, y): &Batch) -> Tensor<B, 1> {
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

/// A full-rank deep linear network 6 → 8 → 5 at its teacher (d = 88) and 5,000 noiseless samples
/// from it, held in memory.
pub fn dln() -> (Dln<B>, ModelData) {
    let device = Default::default();
    let widths = [6, 8, 5];
    let teacher = DlnTeacher::full_rank(&widths, 3).unwrap();
    let inputs = SyntheticInputs::new(2, 5_000, widths[0]).unwrap();
    let data = RegressionData::<B>::dln(&teacher, inputs, DataForm::Materialized, &device).unwrap();
    (teacher.to_module(&device), ModelData(data))
}

/// The mean squared error of a deep linear network on a batch.
pub fn dln_loss(m: &Dln<B>, (x, y): &Batch) -> Tensor<B, 1> {
    llc_models::mse(m.forward(x.clone()), y.clone())
}

/// The mean squared error of a ReLU network on a batch.
pub fn mlp_loss(m: &Mlp<B>, (x, y): &Batch) -> Tensor<B, 1> {
    llc_models::mse(m.forward(x.clone()), y.clone())
}

/// The C losses of C stacked deep linear networks: the batch holds the C chains' minibatches one
/// after another, and copy c takes block c.
pub fn stacked_dln_loss(m: &StackedDln<B>, (x, y): &Batch) -> Tensor<B, 1> {
    let copies = m.copies();
    let ([rows, width_in], width_out) = (x.dims(), y.dims()[1]);
    let x = x.clone().reshape([copies, rows / copies, width_in]);
    let y = y.clone().reshape([copies, rows / copies, width_out]);
    mse_per_copy(m.forward(x), y)
}

/// Positive diagonal preconditioner factors for `dln`, one vector per weight matrix in visit
/// order, log-uniform in [1/2, 2] from a fixed stream.
pub fn random_factors(dln: &Dln<B>, seed: u64) -> Vec<Vec<f32>> {
    let mut uniform = uniform_stream(seed);
    dln.weights.iter().map(|w| (0..w.val().shape().num_elements()).map(|_| 2f32.powf(uniform())).collect()).collect()
}

/// `n_chains` chains of `steps` steps each, the first `burn_in` of them discarded; every other
/// setting at its default.
pub fn chains(n_chains: usize, steps: usize, burn_in: usize) -> EstimatorConfig {
    EstimatorConfig::default().with_chains(n_chains).with_steps(steps).with_burn_in(burn_in)
}

/// Short runs on the linear model: 3 chains of 500 steps (100 of burn-in), batch 50 and a small
/// fixed ε = 2e-5, without acceptance measures, so that SGLD calls the loss exactly once per step.
pub fn short() -> EstimatorConfig {
    chains(3, 500, 100).with_batch_size(50).with_epsilon(2e-5).with_acceptance_every(0)
}

/// MALA on the linear model with ε = 0.01, where it accepts most proposals and decorrelates within
/// a few steps (tests/mala.rs).
pub fn mala(n_chains: usize, steps: usize, burn_in: usize) -> EstimatorConfig {
    chains(n_chains, steps, burn_in).with_sampler(SamplerKind::Mala).with_epsilon(1e-2)
}

/// The estimate at `model` with L_n(w*) = 0 known: every model of these tests is a noiseless
/// teacher, so the full pass over the data is skipped.
pub fn estimate<M, D, L>(model: &M, data: &D, loss: L, config: EstimatorConfig) -> LlcEstimate
where
    M: AutodiffModule<B>,
    D: DataSource,
    L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
{
    Estimator::new(model, data, loss).with_config(config).with_init_loss(InitLoss::Known(0.0)).run().unwrap()
}

/// nβ times the Monte Carlo standard error of the pooled draws (from the multi-chain ESS).
pub fn lambda_hat_standard_error(estimate: &LlcEstimate) -> f64 {
    let traces: Vec<Vec<f64>> = estimate.per_chain.iter().map(|c| c.loss_trace.clone()).collect();
    estimate.n_beta * monte_carlo_standard_error(&traces).expect("finished chains with finite draws")
}

/// What a poisoned call does to the loss it returns.
#[derive(Debug, Clone, Copy)]
pub enum Poison {
    /// Multiplies it (by NaN or ∞).
    Times(f32),
    /// Adds to it (a finite explosion).
    Plus(f32),
}

/// A loss that counts its calls (all of them, or only those on batches of a given number of rows)
/// and poisons the calls it is told to, by their number counted from 1.
#[derive(Default)]
pub struct CountingLoss {
    calls: Cell<usize>,
    rows: Option<usize>,
    poisoned: Vec<(usize, Poison)>,
}

impl CountingLoss {
    /// Counts every call and poisons none.
    pub fn new() -> Self {
        Self::default()
    }

    /// Poisons call number `call`.
    pub fn poison(mut self, call: usize, poison: Poison) -> Self {
        self.poisoned.push((call, poison));
        self
    }

    /// Counts (and poisons) only the calls on batches of `rows` rows, e.g. the full passes.
    pub fn only_rows(mut self, rows: usize) -> Self {
        self.rows = Some(rows);
        self
    }

    /// The calls counted so far.
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    /// `loss`, counted and poisoned.
    pub fn wrap<'a, M: 'a>(
        &'a self,
        loss: impl Fn(&M, &Batch) -> Tensor<B, 1> + 'a,
    ) -> impl Fn(&M, &Batch) -> Tensor<B, 1> + 'a {
        move |m: &M, batch: &Batch| {
            let value = loss(m, batch);
            if self.rows.is_some_and(|rows| rows != batch.0.dims()[0]) {
                return value;
            }
            self.calls.set(self.calls.get() + 1);
            match self.poisoned.iter().find(|(call, _)| *call == self.calls.get()) {
                Some((_, Poison::Times(factor))) => value.mul_scalar(*factor),
                Some((_, Poison::Plus(term))) => value.add_scalar(*term),
                None => value,
            }
        }
    }
}

/// A progress observer that records what it is told.
#[derive(Debug, Default)]
pub struct Recorder {
    /// How many times sampling started.
    pub started: usize,
    /// Every restart, in order.
    pub restarts: Vec<Restart>,
    /// Every chain lost for good, in order.
    pub diverged: Vec<Divergence>,
}

impl Progress for Recorder {
    fn start(&mut self, _total_steps: u64) {
        self.started += 1;
    }
    fn restarted(&mut self, restart: &Restart) {
        self.restarts.push(restart.clone());
    }
    fn diverged(&mut self, divergence: &Divergence) {
        self.diverged.push(divergence.clone());
    }
}
