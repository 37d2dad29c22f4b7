//! # llc-models: the networks whose learning coefficients the workspace measures
//!
//! This crate holds the models of the paper's experiments (arXiv 2308.12108 v2; see docs/method.md
//! §3, §5 and §6) and everything needed to set up a measurement on them. It knows nothing of
//! sampling or estimation: it hands a burn module, a point w* and a data set to the sampler.
//!
//! - [`Dln`]: deep linear networks `x·W_1⋯W_M` (no biases) and [`Mlp`]: ReLU networks with
//!   biases, both burn modules generic over `B: burn::tensor::backend::Backend`;
//! - [`DlnTeacher`] and [`MlpTeacher`]: teachers built on the host in f64 from a seed, with the
//!   paper's initialization (std `1/√fan_in`), random rank reduction or an exact rank `r` for deep
//!   linear networks ([`DlnTeacher::true_rank`] is what Aoyagi's formula needs), and a planted
//!   degeneracy for ReLU networks;
//! - [`SyntheticInputs`] and [`RegressionData`]: inputs `x ~ U[−10, 10]` generated from
//!   `(seed, index)` alone, with noiseless targets `y = teacher(x)`, either materialized on the
//!   device or generated per minibatch so that paper-scale data sets need no memory; [`mse`] is
//!   the loss of docs/method.md §1;
//! - [`Mlp::rescale_hidden`] and [`rescale_factors`]: the per-neuron rescaling symmetry of ReLU
//!   networks and the diagonal preconditioner that makes SGLD equivariant under it (docs/method.md §6).
//! - [`StackedDln`] and [`mse_per_copy`]: C copies of a deep linear network as one module with a
//!   leading chain dimension, so that C SGLD chains share each batched matmul;
//! - [`Dln::init_random`] and [`train_sgd`]: a fresh student with PyTorch's default
//!   initialization, trained by minibatch SGD with momentum ([`SgdTraining::paper`]: learning rate
//!   0.01, momentum 0.9, batch 500, 50,000 steps) to the SGD-trained point at which the paper also
//!   measures λ̂ (docs/method.md §4).
//!
//! Bad input (a zero width, a rank above the narrowest width, an index out of range, a
//! non-positive alpha, a learning rate or batch size SGD cannot use) is reported as a
//! [`ModelError`], never as a panic.
//!
//! ```
//! use burn::backend::NdArray;
//! use llc_models::{DataForm, DlnTeacher, RegressionData, SyntheticInputs, mse};
//!
//! let device = Default::default();
//! // A 5→3→5 deep linear teacher whose product has rank 1, and 1000 inputs from U[−10, 10]^5.
//! let teacher = DlnTeacher::with_rank(&[5, 3, 5], 1, 42)?;
//! assert_eq!(teacher.true_rank(), 1);
//! let data = RegressionData::<NdArray>::dln(&teacher, SyntheticInputs::new(7, 1000, 5)?, DataForm::Auto, &device)?;
//!
//! // The teacher fits its own noiseless data: the loss at w* is zero up to f32 rounding.
//! let model = teacher.to_module::<NdArray>(&device);
//! assert_eq!(model.num_params(), 30);
//! let (x, y) = data.batch(&[0, 10, 999])?;
//! let loss: f32 = mse(model.forward(x), y).into_scalar();
//! assert!(loss < 1e-8);
//! # Ok::<(), llc_models::ModelError>(())
//! ```

mod data;
mod dln;
mod error;
mod host;
mod inputs;
mod linalg;
mod mlp;
mod rescale;
mod stacked;
mod teacher;
mod train;

pub use data::{AUTO_MATERIALIZE_BYTES, DataForm, RegressionData, TeacherMap, mse};
pub use dln::Dln;
pub use error::ModelError;
pub use host::tensor_to_vec;
pub use inputs::{PAPER_INPUT_RANGE, SyntheticInputs};
pub use linalg::numerical_rank;
pub use mlp::{HostLayer, Mlp};
pub use rescale::{LayerFactors, ParamFactors, rescale_factors};
pub use stacked::{StackedDln, mse_per_copy};
pub use teacher::{DlnTeacher, MlpTeacher};
pub use train::{SgdTraining, TRAINING_LOSS_CHUNK, TrainingOutcome, full_data_mse, train_sgd};
