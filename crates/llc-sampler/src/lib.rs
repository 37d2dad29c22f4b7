//! # llc-sampler: Langevin samplers for localized tempered posteriors
//!
//! This crate draws from the localized tempered posterior of the paper (arXiv 2308.12108 v2, the
//! SGLD section)
//!
//! p(w) ∝ exp(−nβ·L_n(w) − (γ/2)‖w − w*‖²),
//!
//! over the parameters of any burn module, with stochastic-gradient Langevin dynamics:
//! w ← w − (εP/2)(nβ∇L_B(w) + γ(w − w*)) + √(εP)·ξ. Symbols are spelled out in the API: `epsilon`
//! (ε), `gamma` (γ), `n_beta` (nβ). P is 1 (plain SGLD), a fixed [`DiagonalPreconditioner`], or
//! RMSprop's adaptive factor in either published variant ([`RmsPropVariant`]). A step can also
//! report the MALA acceptance probability of its move, the usual health check.
//!
//! [`MalaChain`] is the exact reference sampler of the same posterior: full-batch Langevin
//! proposals w' = w − (εP/2)∇U(w) + √(εP)·ξ with U(w) = nβ·L_n(w) + (γ/2)‖w − w*‖², accepted or
//! rejected by Metropolis–Hastings, so it has no discretization bias (settings: [`MalaConfig`]).
//!
//! The crate depends on burn only; it knows nothing of the models or the estimator. Noise comes
//! from a per-chain ChaCha8 stream on the host ([`NoiseSource::host`]), so a chain is reproducible
//! bit for bit on the CPU.
//!
//! ```
//! use burn::backend::{Autodiff, NdArray};
//! use burn::module::{Module, Param};
//! use burn::tensor::Tensor;
//! use llc_sampler::{NoiseSource, SgldChain, SgldConfig};
//!
//! type B = Autodiff<NdArray>;
//!
//! // A "model" with one parameter vector w and the loss L(w) = ‖w‖²/2 (a regular model).
//! #[derive(Module, Debug)]
//! struct Quadratic<B: burn::tensor::backend::Backend> {
//!     w: Param<Tensor<B, 1>>,
//! }
//!
//! let device = Default::default();
//! let model = Quadratic::<B> { w: Param::from_tensor(Tensor::zeros([3], &device)) };
//! let config = SgldConfig { epsilon: 1e-3, gamma: 1.0, n_beta: 100.0, rmsprop: None };
//! let mut chain = SgldChain::new(model, config, NoiseSource::host(42, 0)).unwrap();
//! for _ in 0..100 {
//!     let report = chain.step(|m: &Quadratic<B>| m.w.val().square().sum().div_scalar(2.0), false);
//!     assert!(report.loss.is_finite());
//! }
//! assert_eq!(chain.steps_taken(), 100);
//! ```

mod config;
mod error;
mod mala;
mod noise;
mod normal;
mod params;
mod preconditioner;
mod sampler;
mod sgld;

pub use config::{MalaConfig, RmsPropConfig, RmsPropVariant, SgldConfig, default_n_beta};
pub use error::{ChainMismatch, PreconditionerMismatch, SamplerError};
pub use mala::{MalaChain, MalaStepReport};
pub use noise::{HostNormal, NoiseHome, NoisePlacement, NoiseSource};
pub use preconditioner::DiagonalPreconditioner;
pub use sampler::Sampler;
pub use sgld::{ChainsStepReport, GradientNoise, SgldChain, SgldChains, StepReport};
