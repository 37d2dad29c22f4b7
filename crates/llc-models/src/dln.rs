//! Deep linear networks: a product of weight matrices with no biases and no nonlinearity
//! (docs/method.md §3).

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::ModelError;
use crate::host::{check_len, matrix_to_tensor, tensor_from_f32, tensor_to_vec, validate_widths};

/// A deep linear network `f(x) = x·W_1·W_2⋯W_M` with widths `H_1, …, H_{M+1}` (docs/method.md §3).
///
/// The paper writes the network as `W_M⋯W_1·x` on column vectors; this crate works with row
/// vectors (a batch is a `[batch, H_1]` tensor), so weight `s` is stored as an
/// `[H_s, H_{s+1}]` (fan-in × fan-out) matrix, the transpose of the paper's. The function and the
/// learning coefficient are the same. The number of parameters is `d = Σ_s H_s·H_{s+1}`.
#[derive(Module, Debug)]
pub struct Dln<B: Backend> {
    /// The weight matrices in order from input to output; matrix `s` has shape `[H_s, H_{s+1}]`.
    pub weights: Vec<Param<Tensor<B, 2>>>,
}

impl<B: Backend> Dln<B> {
    /// Builds a network whose weights are the given f64 matrices rounded to f32.
    ///
    /// Matrix `s` must have shape `[H_s, H_{s+1}]`, so consecutive matrices must chain (the
    /// column count of one equals the row count of the next). An empty list, a matrix with a zero
    /// dimension or a broken chain is an error.
    pub fn from_matrices(matrices: &[DMatrix<f64>], device: &B::Device) -> Result<Self, ModelError> {
        let widths = chain_widths(matrices)?;
        validate_widths(&widths)?;
        let weights = matrices.iter().map(|m| Param::from_tensor(matrix_to_tensor(m, device))).collect();
        Ok(Self { weights })
    }

    /// Builds a network from the widths `H_1, …, H_{M+1}` and row-major f32 weight buffers, one per
    /// layer, buffer `s` holding the `[H_s, H_{s+1}]` matrix.
    pub fn from_host_f32(widths: &[usize], weights: &[Vec<f32>], device: &B::Device) -> Result<Self, ModelError> {
        validate_widths(widths)?;
        check_layer_count(widths, weights.len())?;
        let mut params = Vec::with_capacity(weights.len());
        for (s, values) in weights.iter().enumerate() {
            let shape = [widths[s], widths[s + 1]];
            check_len(|| format!("weight of layer {}", s + 1), values.len(), &shape)?;
            params.push(Param::from_tensor(tensor_from_f32(values.clone(), shape, device)));
        }
        Ok(Self { weights: params })
    }

    /// Builds a network from the widths and row-major f64 weight buffers (rounded to f32); see
    /// [`Dln::from_host_f32`] for the layout.
    pub fn from_host_f64(widths: &[usize], weights: &[Vec<f64>], device: &B::Device) -> Result<Self, ModelError> {
        let as_f32: Vec<Vec<f32>> = weights.iter().map(|w| w.iter().map(|&v| v as f32).collect()).collect();
        Self::from_host_f32(widths, &as_f32, device)
    }

    /// A freshly initialized student network: PyTorch's default `nn.Linear` initialization, every
    /// entry of weight `s` uniform on `[−1/√H_s, 1/√H_s]` (`H_s` its fan-in), the starting point of
    /// the paper's SGD-trained DLN estimates (docs/method.md §4; [`crate::train_sgd`] trains it).
    ///
    /// The entries are drawn in f64 from one `ChaCha8Rng::seed_from_u64(seed)` stream, layer by
    /// layer and row-major within a layer (the `[H_s, H_{s+1}]` layout of this crate), then rounded
    /// to f32, so the same widths and seed give the same network. The draw does not involve any
    /// teacher. A width list with fewer than two widths or a zero width is an error.
    ///
    /// (PyTorch draws `kaiming_uniform_` with `a = √5`, whose bound `gain·√(3/fan_in)` with
    /// `gain = √(2/(1 + a²))` is exactly `1/√fan_in`; its random stream is of course different.)
    pub fn init_random(widths: &[usize], seed: u64, device: &B::Device) -> Result<Self, ModelError> {
        validate_widths(widths)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weights: Vec<Vec<f64>> = widths
            .windows(2)
            .map(|pair| {
                let bound = 1.0 / (pair[0] as f64).sqrt();
                (0..pair[0] * pair[1]).map(|_| rng.random_range(-bound..=bound)).collect()
            })
            .collect();
        Self::from_host_f64(widths, &weights, device)
    }

    /// Applies the network to a `[batch, H_1]` input and returns the `[batch, H_{M+1}]` output
    /// `x·W_1⋯W_M`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.weights.iter().fold(x, |h, w| h.matmul(w.val()))
    }

    /// The widths `H_1, …, H_{M+1}` (input first, output last); empty for a network without
    /// layers.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(self.weights.len() + 1);
        for (s, w) in self.weights.iter().enumerate() {
            let [fan_in, fan_out] = w.dims();
            if s == 0 {
                widths.push(fan_in);
            }
            widths.push(fan_out);
        }
        widths
    }

    /// The number of parameters `d = Σ_s H_s·H_{s+1}`.
    pub fn num_params(&self) -> usize {
        self.weights.iter().map(|w| w.dims().iter().product::<usize>()).sum()
    }

    /// The weights copied to the host, one row-major f32 buffer per layer.
    pub fn weights_host(&self) -> Vec<Vec<f32>> {
        self.weights.iter().map(|w| tensor_to_vec(w.val())).collect()
    }
}

/// The widths `H_1, …, H_{M+1}` of a chain of matrices, or an error if they do not chain.
pub(crate) fn chain_widths(matrices: &[DMatrix<f64>]) -> Result<Vec<usize>, ModelError> {
    let Some(first) = matrices.first() else {
        return Err(ModelError::TooFewWidths { got: 0 });
    };
    let mut widths = vec![first.nrows()];
    for (s, m) in matrices.iter().enumerate() {
        let expected_rows = widths[s];
        if m.nrows() != expected_rows {
            return Err(ModelError::ShapeMismatch {
                what: format!("weight of layer {}", s + 1),
                expected: vec![expected_rows, m.ncols()],
                got: vec![m.nrows(), m.ncols()],
            });
        }
        widths.push(m.ncols());
    }
    Ok(widths)
}

/// Checks that there is one weight buffer per pair of consecutive widths.
pub(crate) fn check_layer_count(widths: &[usize], layers: usize) -> Result<(), ModelError> {
    let expected = widths.len() - 1;
    if layers == expected {
        Ok(())
    } else {
        Err(ModelError::ShapeMismatch {
            what: "list of layers".to_owned(),
            expected: vec![expected],
            got: vec![layers],
        })
    }
}
