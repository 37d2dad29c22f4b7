//! # llc-estimators: the local learning coefficient λ̂ from posterior samples
//!
//! The estimator of the paper (arXiv 2308.12108 v2), for a model at a point w* with n data:
//!
//! λ̂(w*) = nβ·(E_w[L_n(w)] − L_n(w*)),   β = 1/ln n,
//!
//! where the expectation is over the localized tempered posterior, approximated by SGLD chains or,
//! as the exact reference, full-batch MALA chains (the `llc-sampler` crate; [`SamplerKind`]). This
//! crate runs C chains with burn-in and thinning, reports λ̂ per chain, its mean and standard
//! deviation, R̂ and the effective sample size of the loss traces, the MALA acceptance of the moves
//! (for SGLD the acceptance probability MALA would give its moves, for MALA the real acceptance
//! rate), and any chain that diverged (by chain and step, keeping the others). Each kept SGLD draw
//! contributes its step's minibatch loss, as in the paper's DLN runs, or, with [`DrawLoss::Full`],
//! the full-data loss at the draw, as in its rescaling experiment.
//!
//! It takes any burn module, a loss closure over a minibatch and a [`DataSource`], so it is not tied
//! to the workspace's own models:
//!
//! ```
//! use burn::backend::{Autodiff, NdArray};
//! use burn::module::{Module, Param};
//! use burn::tensor::Tensor;
//! use llc_estimators::{EstimatorConfig, FnDataSource, InitLoss, NoProgress, estimate_llc};
//!
//! type B = Autodiff<NdArray>;
//!
//! // A one-parameter model y = a·x fitted to y = 0: a regular model, so λ = d/2 = 1/2.
//! #[derive(Module, Debug)]
//! struct Line<B: burn::tensor::backend::Backend> {
//!     a: Param<Tensor<B, 1>>,
//! }
//!
//! let device = Default::default();
//! let model = Line::<B> { a: Param::from_tensor(Tensor::zeros([1], &device)) };
//! let xs: Vec<f32> = (0..1000).map(|i| (i as f32 / 500.0) - 1.0).collect();
//! let data = FnDataSource::new(xs.len(), |idx: &[usize]| {
//!     let x: Vec<f32> = idx.iter().map(|&i| xs[i]).collect();
//!     Tensor::<B, 1>::from_floats(x.as_slice(), &device)
//! });
//! let loss = |m: &Line<B>, x: &Tensor<B, 1>| (x.clone() * m.a.val()).square().mean();
//! let config = EstimatorConfig { n_chains: 2, n_steps: 2_000, n_burnin: 500, batch_size: 100, epsilon: 1e-3, ..Default::default() };
//! let estimate = estimate_llc(&model, &data, loss, &config, InitLoss::Known(0.0), &mut NoProgress).unwrap();
//! assert!((estimate.lambda_hat - 0.5).abs() < 0.15, "λ̂ = {}", estimate.lambda_hat);
//! ```

mod adapt;
mod config;
mod data;
pub mod diagnostics;
mod error;
mod estimate;

pub use config::{
    DrawLoss, EpsilonAdaptation, EstimatorConfig, FULL_DRAW_LOSS_CHUNK, MIN_ADAPTATION_MEASURES, NoisePlacement,
    SamplerKind,
};
pub use data::{DataSource, FnDataSource};
pub use error::EstimatorError;
pub use estimate::{
    ChainResult, Diagnostics, Divergence, InitLoss, LlcEstimate, NoProgress, Progress, Restart, estimate_llc,
    estimate_llc_preconditioned, estimate_llc_stacked, full_data_loss,
};
