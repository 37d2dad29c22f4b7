//! # llc-estimators: the local learning coefficient λ̂ from posterior samples
//!
//! This crate will own the estimator λ̂(w*) = nβ·(E_w[L_n(w)] − L_n(w*)) of the paper
//! (arXiv 2308.12108 v2, the definition of λ̂ with β = 1/ln n) and the machinery around it:
//!
//! - C chains with burn-in, draws and thinning, one λ̂ per chain, mean and standard deviation;
//! - one interface over two samplers: stochastic-gradient (SGLD) and full-batch (MALA);
//! - diagnostics across chains (R̂, effective sample size, acceptance) and divergence reports that
//!   name the chain and step while keeping every other chain;
//! - serde configuration and result types, validated before any work starts.
//!
//! It depends on the sampler crate and burn, and takes any burn module with a loss closure, so
//! it is not tied to the models crate. Nothing is implemented yet; the example shows the quantity
//! it will compute, for a chain of losses already drawn.
//!
//! ```
//! // λ̂ = nβ·(mean draw loss − L_n(w*)), with nβ = n/ln n.
//! let n = 1000.0_f64;
//! let n_beta = n / n.ln();
//! let draws = [0.012, 0.010, 0.011];
//! let lambda_hat = n_beta * (draws.iter().sum::<f64>() / 3.0 - 0.0);
//! assert!((lambda_hat - 1.5924).abs() < 1e-3);
//! ```
