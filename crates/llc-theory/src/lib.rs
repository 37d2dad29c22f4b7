//! # llc-theory: closed-form learning coefficients
//!
//! The learning coefficient λ (the real log canonical threshold, RLCT) of singular learning theory
//! measures a model's effective complexity: the Bayesian free energy grows as
//! `n·L_n(w₀) + λ·ln n − (m − 1)·ln ln n`, with λ ≤ d/2 and equality for regular models. For a few
//! model classes λ is known in closed form, and those exact values are what the rest of the
//! workspace checks its SGLD estimates λ̂ against (arXiv 2308.12108 v2, the DLN experiments).
//!
//! This crate is pure integer and rational arithmetic: it never depends on burn or on any other
//! crate of the workspace, so anyone can use it to get λ for a deep linear network.
//!
//! - [`dln_learning_coefficient`]: Aoyagi's theorem for deep linear networks of any depth;
//! - [`single_matrix`]: one weight matrix, a regular model with λ = d/2;
//! - [`reduced_rank_regression`]: two weight matrices (Aoyagi & Watanabe 2005), the case the
//!   general theorem must agree with.
//!
//! ```
//! use llc_theory::dln_learning_coefficient;
//!
//! // A 10→10→10→10 deep linear network whose true product has rank 2.
//! let c = dln_learning_coefficient(&[10, 10, 10, 10], 2)?;
//! assert_eq!(c.lambda(), 39.5);
//! assert_eq!(c.multiplicity(), 3);
//! assert_eq!(c.params, 300); // λ = 39.5 is far below the regular value d/2 = 150.
//! # Ok::<(), llc_theory::TheoryError>(())
//! ```

mod dln;
mod error;
mod rational;

pub use dln::{
    DlnCoefficient, LearningCoefficient, MAX_WIDTH, MAX_WIDTHS, RrrCase, all_valid_prefix_sizes,
    dln_learning_coefficient, dln_params, reduced_rank_regression, single_matrix, validate,
};
pub use error::TheoryError;
pub use rational::Rational;
