//! Helpers shared by the tests: host copies of tensors and the forward-error bounds of f32
//! arithmetic.

use burn::backend::NdArray;
use burn::tensor::Tensor;
use llc_models::tensor_to_vec;
use nalgebra::{DMatrix, DVector};

/// The backend of every test.
pub(crate) type B = NdArray;

/// The unit roundoff of f32, `u = 2⁻²⁴`: one rounding changes a value by a factor `1 + delta` with
/// `|delta| ≤ u`.
pub(crate) const UNIT_ROUNDOFF: f64 = 1.0 / 16_777_216.0;

/// An f64 matrix from row-major f32 values (exact: every f32 is an f64).
pub(crate) fn matrix_from_rows(values: &[f32], rows: usize, cols: usize) -> DMatrix<f64> {
    assert_eq!(values.len(), rows * cols, "buffer length");
    DMatrix::from_fn(rows, cols, |i, j| f64::from(values[i * cols + j]))
}

/// The host copy of a rank-2 tensor as an f64 matrix.
pub(crate) fn tensor_to_matrix(t: Tensor<B, 2>) -> DMatrix<f64> {
    let [rows, cols] = t.dims();
    matrix_from_rows(&tensor_to_vec(t), rows, cols)
}

/// `|x|·|W_1|⋯|W_M|`: the magnitude that bounds the rounding error of an f32 evaluation of
/// `x·W_1⋯W_M` entry by entry (the standard bound `|fl(AB) − AB| ≤ gamma_k·|A|·|B|`).
pub(crate) fn abs_chain(x: &DMatrix<f64>, weights: &[DMatrix<f64>]) -> DMatrix<f64> {
    weights.iter().fold(x.abs(), |h, w| h * w.abs())
}

/// The same magnitude for a ReLU network with biases: `|x|`, then `h·|W_k| + |b_k|` layer by
/// layer. ReLU is 1-Lipschitz and never increases a magnitude, so it can be dropped here.
pub(crate) fn abs_mlp(x: &DMatrix<f64>, weights: &[DMatrix<f64>], biases: &[DVector<f64>]) -> DMatrix<f64> {
    let mut h = x.abs();
    for (w, b) in weights.iter().zip(biases) {
        h = &h * w.abs();
        for mut row in h.row_iter_mut() {
            row += b.abs().transpose();
        }
    }
    h
}

/// Asserts `|actual − expected| ≤ bound` entry by entry, reporting the first entry that is off.
pub(crate) fn assert_within(actual: &DMatrix<f64>, expected: &DMatrix<f64>, bound: &DMatrix<f64>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shapes differ");
    for i in 0..actual.nrows() {
        for j in 0..actual.ncols() {
            let err = (actual[(i, j)] - expected[(i, j)]).abs();
            assert!(
                err <= bound[(i, j)],
                "{what}: entry ({i}, {j}) is {} instead of {} (error {err:e} > bound {:e})",
                actual[(i, j)],
                expected[(i, j)],
                bound[(i, j)]
            );
        }
    }
}

/// The sample mean and the sample standard deviation (with Bessel's correction) of `values`.
pub(crate) fn mean_std<'a>(values: impl IntoIterator<Item = &'a f64>) -> (f64, f64, usize) {
    let values: Vec<f64> = values.into_iter().copied().collect();
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n as f64 - 1.0);
    (mean, var.sqrt(), n)
}
