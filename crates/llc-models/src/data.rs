//! Regression data sets with noiseless targets `y = teacher(x)`, materialized on the device or
//! streamed batch by batch, and the mean squared error of docs/method.md §1.

use std::sync::Arc;

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::error::ModelError;
use crate::host::{matrix_to_tensor, tensor_from_f32};
use crate::inputs::SyntheticInputs;
use crate::mlp::Mlp;
use crate::teacher::{DlnTeacher, MlpTeacher};

/// The largest data set, in bytes of f32 inputs plus targets, that [`DataForm::Auto`] keeps on the
/// device (256 MiB).
pub const AUTO_MATERIALIZE_BYTES: u128 = 256 * 1024 * 1024;

/// How a [`RegressionData`] holds its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataForm {
    /// Generate all inputs and targets once and keep them on the device.
    Materialized,
    /// Keep only the seed and the teacher; generate each minibatch's inputs and targets on request.
    Streaming,
    /// Materialize when `n·(H_1 + H_out)·4` bytes is at most [`AUTO_MATERIALIZE_BYTES`], stream
    /// otherwise.
    Auto,
}

/// The map from inputs to targets that a streaming data set applies to each batch.
#[derive(Debug, Clone)]
pub enum TeacherMap<B: Backend> {
    /// A deep linear teacher, applied as one matmul `y = x·P` with the f32 `[H_1, H_{M+1}]` product
    /// `P = W_1⋯W_M` (computed in f64 on the host, then rounded).
    Linear(Tensor<B, 2>),
    /// A ReLU teacher, applied as `y = teacher.forward(x)`.
    Mlp(Mlp<B>),
}

impl<B: Backend> TeacherMap<B> {
    /// Applies the teacher to a `[batch, H_1]` input.
    pub fn apply(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Self::Linear(product) => x.matmul(product.clone()),
            Self::Mlp(mlp) => mlp.forward(x),
        }
    }

    /// The input width `H_1` the teacher expects.
    pub fn input_width(&self) -> usize {
        match self {
            Self::Linear(product) => product.dims()[0],
            Self::Mlp(mlp) => mlp.widths().first().copied().unwrap_or(0),
        }
    }

    /// The output width `H_{M+1}` of the teacher.
    pub fn output_width(&self) -> usize {
        match self {
            Self::Linear(product) => product.dims()[1],
            Self::Mlp(mlp) => mlp.widths().last().copied().unwrap_or(0),
        }
    }
}

/// A regression data set of `n` samples with noiseless targets `y = teacher(x)` (docs/method.md §3,
/// §5), in one of two forms that give the same minibatches.
#[derive(Debug, Clone)]
pub enum RegressionData<B: Backend> {
    /// The whole data set in memory. It is kept on the host as well as on the device: on the CPU a
    /// minibatch is gathered row by row on the host and uploaded, which measured about 1.5× faster
    /// per SGLD step than burn-ndarray's `select` on a 100,000-row tensor.
    Materialized {
        /// The `[n, H_1]` inputs.
        x: Tensor<B, 2>,
        /// The `[n, H_out]` targets.
        y: Tensor<B, 2>,
        /// The inputs, row-major on the host.
        x_host: Arc<[f32]>,
        /// The targets, row-major on the host.
        y_host: Arc<[f32]>,
    },
    /// Only the input generator and the teacher; a minibatch's inputs are generated from
    /// `(seed, index)` and its targets computed on the device.
    Streaming {
        /// The counter-based input generator.
        inputs: SyntheticInputs,
        /// The teacher applied to each generated batch.
        teacher: TeacherMap<B>,
        /// The device on which batches are built.
        device: B::Device,
    },
}

impl<B: Backend> RegressionData<B> {
    /// A data set for a deep linear teacher: inputs from `inputs`, targets `y = x·P` with the f32
    /// product `P` of the teacher's weights. The input width must equal the teacher's `H_1`.
    pub fn dln(
        teacher: &DlnTeacher,
        inputs: SyntheticInputs,
        form: DataForm,
        device: &B::Device,
    ) -> Result<Self, ModelError> {
        let product = matrix_to_tensor::<B>(&teacher.product(), device);
        Self::with_teacher(TeacherMap::Linear(product), inputs, form, device)
    }

    /// A data set for a ReLU teacher: inputs from `inputs`, targets `y = teacher(x)` computed by the
    /// teacher's f32 module. The input width must equal the teacher's `H_1`.
    pub fn mlp(
        teacher: &MlpTeacher,
        inputs: SyntheticInputs,
        form: DataForm,
        device: &B::Device,
    ) -> Result<Self, ModelError> {
        Self::with_teacher(TeacherMap::Mlp(teacher.to_module(device)), inputs, form, device)
    }

    /// A data set whose targets come from any [`TeacherMap`] (for example a trained [`Mlp`] used as
    /// a teacher).
    pub fn with_teacher(
        teacher: TeacherMap<B>,
        inputs: SyntheticInputs,
        form: DataForm,
        device: &B::Device,
    ) -> Result<Self, ModelError> {
        if teacher.input_width() != inputs.width() {
            return Err(ModelError::ShapeMismatch {
                what: "input width of the data set".to_owned(),
                expected: vec![teacher.input_width()],
                got: vec![inputs.width()],
            });
        }
        let bytes = inputs.n() as u128 * (inputs.width() + teacher.output_width()) as u128 * 4;
        let materialize = match form {
            DataForm::Materialized => true,
            DataForm::Streaming => false,
            DataForm::Auto => bytes <= AUTO_MATERIALIZE_BYTES,
        };
        if materialize {
            let x = tensor_from_f32(inputs.materialize(), [inputs.n(), inputs.width()], device);
            let y = teacher.apply(x.clone());
            Ok(Self::materialized(x, y))
        } else {
            Ok(Self::Streaming { inputs, teacher, device: device.clone() })
        }
    }

    /// A materialized data set from given `[n, H_1]` inputs and `[n, H_out]` targets (for data that
    /// do not come from this crate's generators). Both must have the same positive number of rows.
    pub fn from_tensors(x: Tensor<B, 2>, y: Tensor<B, 2>) -> Result<Self, ModelError> {
        let ([nx, hx], [ny, hy]) = (x.dims(), y.dims());
        if nx == 0 {
            return Err(ModelError::Empty { what: "the data set (n = 0)" });
        }
        if nx != ny {
            return Err(ModelError::ShapeMismatch {
                what: "targets".to_owned(),
                expected: vec![nx, hy],
                got: vec![ny, hy],
            });
        }
        if hx == 0 || hy == 0 {
            return Err(ModelError::ZeroWidth { index: if hx == 0 { 0 } else { 1 } });
        }
        Ok(Self::materialized(x, y))
    }

    fn materialized(x: Tensor<B, 2>, y: Tensor<B, 2>) -> Self {
        let x_host: Arc<[f32]> = crate::host::tensor_to_vec(x.clone()).into();
        let y_host: Arc<[f32]> = crate::host::tensor_to_vec(y.clone()).into();
        Self::Materialized { x, y, x_host, y_host }
    }

    /// The number of samples `n`.
    pub fn n(&self) -> usize {
        match self {
            Self::Materialized { x, .. } => x.dims()[0],
            Self::Streaming { inputs, .. } => inputs.n(),
        }
    }

    /// The input width `H_1`.
    pub fn input_width(&self) -> usize {
        match self {
            Self::Materialized { x, .. } => x.dims()[1],
            Self::Streaming { inputs, .. } => inputs.width(),
        }
    }

    /// The target width `H_out`.
    pub fn output_width(&self) -> usize {
        match self {
            Self::Materialized { y, .. } => y.dims()[1],
            Self::Streaming { teacher, .. } => teacher.output_width(),
        }
    }

    /// Whether the whole data set lives on the device.
    pub fn is_materialized(&self) -> bool {
        matches!(self, Self::Materialized { .. })
    }

    /// The minibatch of the samples at `indices` (repeats allowed, any order), as
    /// `[indices.len(), H_1]` inputs and `[indices.len(), H_out]` targets. An empty list or an
    /// index `≥ n` is an error.
    ///
    /// Both forms give the same inputs bit for bit; the targets agree up to the f32 rounding of
    /// the teacher's matmuls on different batch shapes.
    pub fn batch(&self, indices: &[usize]) -> Result<(Tensor<B, 2>, Tensor<B, 2>), ModelError> {
        if indices.is_empty() {
            return Err(ModelError::Empty { what: "the minibatch" });
        }
        let n = self.n();
        if let Some(&index) = indices.iter().find(|&&i| i >= n) {
            return Err(ModelError::IndexOutOfRange { index, n });
        }
        match self {
            Self::Materialized { x, y, x_host, y_host } => {
                let gather = |host: &[f32], width: usize| {
                    let mut rows = Vec::with_capacity(indices.len() * width);
                    for &i in indices {
                        rows.extend_from_slice(&host[i * width..(i + 1) * width]);
                    }
                    tensor_from_f32(rows, [indices.len(), width], &x.device())
                };
                Ok((gather(x_host, x.dims()[1]), gather(y_host, y.dims()[1])))
            }
            Self::Streaming { inputs, teacher, device } => {
                let rows = inputs.rows(indices)?;
                let x = tensor_from_f32(rows, [indices.len(), inputs.width()], device);
                let y = teacher.apply(x.clone());
                Ok((x, y))
            }
        }
    }

    /// The whole data set as `[n, H_1]` inputs and `[n, H_out]` targets (for full-batch samplers
    /// such as MALA). A streaming data set generates it, which needs the memory it was avoiding.
    pub fn full(&self) -> (Tensor<B, 2>, Tensor<B, 2>) {
        match self {
            Self::Materialized { x, y, .. } => (x.clone(), y.clone()),
            Self::Streaming { inputs, teacher, device } => {
                let x = tensor_from_f32(inputs.materialize(), [inputs.n(), inputs.width()], device);
                let y = teacher.apply(x.clone());
                (x, y)
            }
        }
    }
}

/// The mean squared error of docs/method.md §1: the mean of `(pred − target)²` over all samples and all
/// output coordinates, with no factor 1/2. Returns a one-element tensor.
pub fn mse<B: Backend>(pred: Tensor<B, 2>, target: Tensor<B, 2>) -> Tensor<B, 1> {
    let diff = pred - target;
    (diff.clone() * diff).mean()
}
