//! SGD with momentum from a freshly initialized student to a trained point (docs/method.md §4: besides
//! the teacher, the paper measures λ̂ at the point SGD reaches on the teacher's data).

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::{RegressionData, mse};
use crate::error::ModelError;

/// The number of samples per chunk when [`train_sgd`] evaluates the full-data loss at its end
/// (10,000: a `[10⁴, H]` batch per forward pass keeps the memory small at every width of the
/// paper's sweeps).
pub const TRAINING_LOSS_CHUNK: usize = 10_000;

/// The settings of SGD with momentum, in PyTorch's convention (`torch.optim.SGD` with dampening 0
/// and no Nesterov term):
///
/// `v_1 = g_1`, `v_t = μ·v_{t−1} + g_t`, `w_t = w_{t−1} − η·v_t`,
///
/// where `g_t` is the gradient of the minibatch MSE ([`mse`]) at step `t`, `η` the learning rate
/// and `μ` the momentum. [`SgdTraining::paper`] gives the paper's settings (docs/method.md §4).
#[derive(Debug, Clone, PartialEq)]
pub struct SgdTraining {
    /// The learning rate η (finite and > 0).
    pub learning_rate: f64,
    /// The momentum μ, in `[0, 1)` (0 is plain SGD).
    pub momentum: f64,
    /// Samples per minibatch, drawn uniformly with replacement; between 1 and n.
    pub batch_size: usize,
    /// Number of SGD steps (0 returns the starting point with its loss).
    pub steps: usize,
    /// Seed of the minibatch index stream (`ChaCha8Rng::seed_from_u64(seed)`).
    pub seed: u64,
}

impl SgdTraining {
    /// The paper's training run for the SGD-trained point of its DLN experiment (docs/method.md §4):
    /// learning rate 0.01, momentum 0.9, batch 500, 50,000 steps, with the given seed.
    pub fn paper(seed: u64) -> Self {
        Self { learning_rate: 0.01, momentum: 0.9, batch_size: 500, steps: 50_000, seed }
    }

    /// Checks the settings against a data set of `n` samples, naming the first problem: the
    /// learning rate must be finite and positive, the momentum in `[0, 1)`, and the batch size
    /// between 1 and `n`.
    pub fn validate(&self, n: usize) -> Result<(), ModelError> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(ModelError::InvalidValue {
                what: "the learning rate",
                value: self.learning_rate,
                requirement: "finite and > 0",
            });
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(ModelError::InvalidValue {
                what: "the momentum",
                value: self.momentum,
                requirement: "in [0, 1)",
            });
        }
        if self.batch_size == 0 || self.batch_size > n {
            return Err(ModelError::BatchSizeOutOfRange { batch_size: self.batch_size, n });
        }
        Ok(())
    }
}

impl Default for SgdTraining {
    /// [`SgdTraining::paper`] with seed 0.
    fn default() -> Self {
        Self::paper(0)
    }
}

/// What [`train_sgd`] returns: the trained model and how the run went.
#[derive(Debug, Clone)]
pub struct TrainingOutcome<M> {
    /// The model after the last step; after a divergence, the model before the step whose
    /// minibatch loss was not finite (its weights may already be huge).
    pub model: M,
    /// The full-data MSE `L_n` of `model`, averaged over chunks of [`TRAINING_LOSS_CHUNK`]
    /// samples; NaN after a divergence (it is not evaluated then).
    pub final_loss: f64,
    /// The step, counted from 1, whose minibatch loss was NaN or infinite; training stops there.
    /// `None` when every step had a finite loss.
    pub diverged_at: Option<usize>,
    /// Wall-clock seconds of the whole run, the final full-data loss included.
    pub seconds: f64,
}

/// The full-data MSE `L_n` of `forward(model, ·)` on `data` (docs/method.md §1), evaluated in chunks of
/// `chunk` consecutive samples (at least 1) and averaged with each chunk weighted by its size, so
/// that the result does not depend on the chunking beyond f32 rounding. A streaming data set
/// generates each chunk.
pub fn full_data_mse<B: Backend, M>(
    model: &M,
    data: &RegressionData<B>,
    forward: impl Fn(&M, Tensor<B, 2>) -> Tensor<B, 2>,
    chunk: usize,
) -> Result<f64, ModelError> {
    let n = data.n();
    let chunk = chunk.max(1);
    let mut total = 0.0;
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let indices: Vec<usize> = (start..end).collect();
        let (x, y) = data.batch(&indices)?;
        let value: f64 = mse(forward(model, x), y).into_scalar().elem();
        total += value * (end - start) as f64;
        start = end;
    }
    Ok(total / n as f64)
}

/// Trains `model` by minibatch SGD with momentum on the MSE of `forward(model, x)` against the
/// targets of `data` (docs/method.md §4: the paper's SGD-trained point uses [`SgdTraining::paper`]).
///
/// Step `t` draws `batch_size` indices uniformly from `0..n` with replacement from one
/// `ChaCha8Rng::seed_from_u64(seed)` stream, evaluates the minibatch [`mse`], and applies burn's
/// `Sgd` optimizer with `MomentumConfig { momentum, dampening: 0, nesterov: false }`, which is
/// PyTorch's `torch.optim.SGD(lr, momentum)` (see [`SgdTraining`]). The same model, data, seed and
/// backend therefore give the same trained weights.
///
/// A minibatch loss that is NaN or infinite stops the run without applying that step: the outcome
/// is still `Ok`, with `diverged_at` naming the step and `final_loss` NaN. Bad settings (see
/// [`SgdTraining::validate`]) are an error before any work.
pub fn train_sgd<B: AutodiffBackend, M: AutodiffModule<B> + Clone>(
    model: M,
    data: &RegressionData<B>,
    forward: impl Fn(&M, Tensor<B, 2>) -> Tensor<B, 2>,
    config: &SgdTraining,
) -> Result<TrainingOutcome<M>, ModelError> {
    let n = data.n();
    config.validate(n)?;
    let started = Instant::now();
    let momentum = MomentumConfig { momentum: config.momentum, dampening: 0.0, nesterov: false };
    let mut optimizer = SgdConfig::new().with_momentum(Some(momentum)).init::<B, M>();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut indices = vec![0usize; config.batch_size];
    let mut model = model;
    let mut diverged_at = None;
    for step in 1..=config.steps {
        indices.iter_mut().for_each(|i| *i = rng.random_range(0..n));
        let (x, y) = data.batch(&indices)?;
        let loss = mse(forward(&model, x), y);
        let value: f64 = loss.clone().into_scalar().elem();
        if !value.is_finite() {
            diverged_at = Some(step);
            break;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(config.learning_rate, model, grads);
    }
    let final_loss = match diverged_at {
        Some(_) => f64::NAN,
        None => full_data_mse(&model, data, &forward, TRAINING_LOSS_CHUNK)?,
    };
    Ok(TrainingOutcome { model, final_loss, diverged_at, seconds: started.elapsed().as_secs_f64() })
}
