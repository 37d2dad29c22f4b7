//! # llc-models: the networks whose learning coefficients the workspace measures
//!
//! This crate will own the burn modules of the paper's experiments and everything needed to set
//! up a measurement on them (arXiv 2308.12108 v2, the DLN and ReLU-network sections):
//!
//! - deep linear networks (bias-free linear layers) and ReLU MLPs with biases, generic over
//!   `B: burn::tensor::backend::Backend`;
//! - teacher construction (random init with std 1/√fan_in and random rank reduction, or a product
//!   of exactly rank r), with the true rank computed in f64;
//! - synthetic data sets x ~ U[−10, 10], either materialized or generated sample by sample from
//!   `(seed, index)` so that paper-scale data sets need no memory;
//! - the per-neuron rescaling symmetry of ReLU networks.
//!
//! It may depend on burn and on nothing else of the workspace. Nothing is implemented yet; the
//! example below shows the backend it will default to.
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::tensor::Tensor;
//!
//! let device = Default::default();
//! let x = Tensor::<NdArray, 2>::ones([2, 3], &device);
//! assert_eq!(x.sum().into_scalar(), 6.0);
//! ```
