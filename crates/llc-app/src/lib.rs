//! # llc-app: what the `llc` command and `cargo xtask` share
//!
//! The two binaries of the workspace, the `llc` command (crates/llc-cli) and the project's
//! automation (`cargo xtask reproduce`, `gpu-check`, `bench`), set up the same estimates and
//! report them the same way. This crate holds what they would otherwise each hold a copy of, so
//! that they keep only their argument handling, output and orchestration:
//!
//! - [`backend`]: the backends (burn-ndarray on the CPU, burn-cuda with the `cuda` feature), the
//!   `--device` value and [`on_backend`], which runs generic work on the backend a value names,
//!   after the probe that turns an unusable GPU into an error instead of a panic;
//! - [`point`]: the measured point w* (a random deep linear or ReLU teacher with its noiseless
//!   synthetic data, as a [`Point`] whose [`Point::estimator`] is ready to run), the losses, and
//!   the adapter [`Regression`] from the models crate's data to the estimator's `DataSource`;
//! - [`parse`]: the value parsers of both command lines (widths, counts written `1e5`, reals that
//!   f32 can hold);
//! - [`plot`]: SVG and PNG figures with a bundled font: the charts of the reproduce report and the
//!   heat map of `llc calibrate`;
//! - [`report`]: clap's errors as one line with exit status 2;
//! - `blas` (with the `blas` feature): the restart with OpenBLAS's settings in the environment.
//!
//! It is an application crate: nothing in the library crates depends on it, and it depends on
//! all of them. An estimate of λ̂ at a deep linear teacher, beside Aoyagi's exact λ:
//!
//! ```
//! use llc_app::{Cpu, Synthetic, Teacher, dln_loss, dln_point, dln_teacher};
//! use llc_estimators::EstimatorConfig;
//! use llc_models::DataForm;
//!
//! // 5 → 8 → 30 with a rank-0 teacher: λ = 20 exactly.
//! let teacher = dln_teacher(&[5, 8, 30], Teacher::FullRank, Some(0), 3)?;
//! let data = Synthetic { n: 2_000, seed: 3, form: DataForm::Auto };
//! let dln = dln_point::<Cpu>(&teacher, data, &Default::default())?;
//! let config =
//!     EstimatorConfig::default().with_chains(2).with_steps(2_000).with_burn_in(500).with_batch_size(100).with_seed(3);
//! let estimate = dln.point.estimator(dln_loss).with_config(config.with_auto_epsilon()).run()?;
//! assert_eq!(dln.lambda, 20.0);
//! assert!((estimate.lambda_hat / dln.lambda - 1.0).abs() < 0.25, "λ̂ = {}", estimate.lambda_hat);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backend;
#[cfg(feature = "blas")]
pub mod blas;
pub mod parse;
pub mod plot;
pub mod point;
pub mod report;

pub use backend::{AppBackend, Cpu, Device, DeviceError, OnBackend, on_backend};
#[cfg(feature = "cuda")]
pub use backend::{Gpu, cuda_device};

/// The step every chain starts adapting from with the automatic step size, in `llc estimate
/// --epsilon auto` and in the DLN suite's `epsilon = "auto"`: the estimator's default fixed ε.
pub const AUTO_EPSILON_START: f64 = 2.5e-7;
pub use point::{
    Batch, DlnPoint, Point, Regression, SetupError, Synthetic, Teacher, dln_loss, dln_point, dln_teacher, mlp_loss,
    mlp_point, mlp_teacher, parameter_count, rescaled_mlp, stacked_dln_loss,
};
