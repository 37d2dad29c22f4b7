//! # llc-estimators: the local learning coefficient λ̂ from posterior samples
//!
//! The estimator of the local learning coefficient at a point w* of a model trained on n data
//! (docs/method.md §1):
//!
//! λ̂(w*) = nβ·(E_w[L_n(w)] − L_n(w*)),   β = 1/ln n,
//!
//! where the expectation is over the localized tempered posterior, sampled by SGLD chains or, as
//! the exact reference, full-batch MALA chains (the `llc-sampler` crate; [`SamplerKind`]).
//! [`Estimator`] is the one entry point: it runs C chains through one loop (burn-in with the
//! automatic step size, divergence restarts, draws, thinning) and reports λ̂ per chain, its mean
//! and standard deviation, R̂ and the effective sample size of the loss traces, the acceptance
//! of the moves, the step-size bias SGLD predicts for itself, and every chain that diverged (by
//! chain and step, keeping the others).
//!
//! It takes any burn module, a loss closure over a minibatch and a [`DataSource`], so it is not
//! tied to the workspace's own models. A regular model with d parameters has λ = d/2:
//!
//! ```
//! use burn::backend::{Autodiff, NdArray};
//! use burn::module::{Module, Param};
//! use burn::tensor::Tensor;
//! use llc_estimators::{Estimator, EstimatorConfig, FnDataSource};
//!
//! type B = Autodiff<NdArray>;
//!
//! // y = a·x + b fitted to y = 0 on x in [−1, 1]: two regular parameters, so λ = 1.
//! #[derive(Module, Debug)]
//! struct Affine<B: burn::tensor::backend::Backend> {
//!     ab: Param<Tensor<B, 1>>,
//! }
//!
//! let device = Default::default();
//! let model = Affine::<B> { ab: Param::from_tensor(Tensor::zeros([2], &device)) };
//! let data = FnDataSource::new(2_000, |idx: &[usize]| {
//!     let x: Vec<f32> = idx.iter().map(|&i| i as f32 / 1_000.0 - 1.0).collect();
//!     Tensor::<B, 1>::from_floats(x.as_slice(), &device)
//! });
//! let loss = |m: &Affine<B>, x: &Tensor<B, 1>| {
//!     let ab = m.ab.val();
//!     (x.clone() * ab.clone().slice(0..1) + ab.slice(1..2)).square().mean()
//! };
//! let config = EstimatorConfig::default().with_steps(3_000).with_burn_in(1_000).with_batch_size(200);
//! let estimate = Estimator::new(&model, &data, loss).with_config(config.with_auto_epsilon()).run().unwrap();
//! assert!((estimate.lambda_hat - 1.0).abs() < 0.2, "λ̂ = {}", estimate.lambda_hat);
//! ```

mod adapt;
mod config;
mod data;
pub mod diagnostics;
mod error;
mod estimator;
mod progress;
mod result;
mod run;

pub use config::{
    DrawLoss, EpsilonAdaptation, EstimatorConfig, FULL_DRAW_LOSS_CHUNK, MALA_TARGET_ACCEPTANCE,
    MIN_ADAPTATION_MEASURES, SGLD_TARGET_ACCEPTANCE, SamplerKind,
};
pub use data::{DataSource, FnDataSource};
pub use error::{ConfigError, EstimatorError};
pub use estimator::{Estimator, InitLoss};
pub use llc_sampler::{NoiseHome, NoisePlacement};
pub use progress::{NoProgress, Progress};
pub use result::{ChainResult, Diagnostics, Divergence, LlcEstimate, Restart};
pub use run::full_data_loss;
