//! # llc-sampler: Langevin samplers for localized tempered posteriors
//!
//! This crate will own the update rules that draw from the localized tempered posterior
//! p(w) ∝ exp(−nβ·L_n(w) − (γ/2)‖w − w*‖²) of the paper (arXiv 2308.12108 v2, the SGLD section):
//!
//! - SGLD, w ← w − (ε/2)(nβ∇L_B(w) + γ(w − w*)) + √ε·ξ, with a fixed per-tensor diagonal
//!   preconditioner and an RMSprop-preconditioned variant;
//! - full-batch MALA (the Metropolis-adjusted proposal and its acceptance ratio);
//! - the per-step diagnostics (minibatch loss, MALA acceptance probability of an SGLD move).
//!
//! Samplers act on any burn module through `B: burn::tensor::backend::AutodiffBackend`; the crate
//! depends on burn only, never on the models or estimators crates. Nothing is implemented yet; the
//! example shows the autodiff backend the samplers will run on by default.
//!
//! ```
//! use burn::backend::{Autodiff, NdArray};
//! use burn::tensor::Tensor;
//!
//! let device = Default::default();
//! let w = Tensor::<Autodiff<NdArray>, 1>::from_floats([1.0, 2.0], &device).require_grad();
//! let grads = (w.clone() * w.clone()).sum().backward();
//! let g = w.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap();
//! assert_eq!(g, vec![2.0, 4.0]);
//! ```
