//! Conversions between host data (row-major `Vec`s, nalgebra matrices) and burn tensors, and the
//! width-list check shared by every constructor.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use nalgebra::{DMatrix, DVector};

use crate::error::ModelError;

/// Checks that a width list describes a network: at least two widths, none of them zero.
pub(crate) fn validate_widths(widths: &[usize]) -> Result<(), ModelError> {
    if widths.len() < 2 {
        return Err(ModelError::TooFewWidths { got: widths.len() });
    }
    if let Some(index) = widths.iter().position(|&w| w == 0) {
        return Err(ModelError::ZeroWidth { index });
    }
    Ok(())
}

/// Checks that a host buffer holds exactly `expected` elements (the product of `shape`).
pub(crate) fn check_len(what: impl FnOnce() -> String, len: usize, shape: &[usize]) -> Result<(), ModelError> {
    let expected: usize = shape.iter().product();
    if len == expected {
        Ok(())
    } else {
        Err(ModelError::ShapeMismatch { what: what(), expected: shape.to_vec(), got: vec![len] })
    }
}

/// The entries of a matrix in row-major order, as f32 (the layout burn tensors use).
pub(crate) fn matrix_row_major_f32(m: &DMatrix<f64>) -> Vec<f32> {
    let mut out = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            out.push(m[(i, j)] as f32);
        }
    }
    out
}

/// A rank-2 f32 tensor on `device` holding the f64 matrix `m` rounded to f32.
pub(crate) fn matrix_to_tensor<B: Backend>(m: &DMatrix<f64>, device: &B::Device) -> Tensor<B, 2> {
    let data = TensorData::new(matrix_row_major_f32(m), [m.nrows(), m.ncols()]);
    Tensor::from_data(data, device)
}

/// A rank-1 f32 tensor on `device` holding the f64 vector `v` rounded to f32.
pub(crate) fn vector_to_tensor<B: Backend>(v: &DVector<f64>, device: &B::Device) -> Tensor<B, 1> {
    let values: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let len = values.len();
    Tensor::from_data(TensorData::new(values, [len]), device)
}

/// A tensor of any rank on `device` from row-major f32 values.
pub(crate) fn tensor_from_f32<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// The values of a float tensor, copied to the host as f32 in row-major order.
///
/// The tensor's data are converted to f32 first, so this also works on backends whose float
/// element is not f32.
pub fn tensor_to_vec<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Vec<f32> {
    let data = tensor.into_data().convert::<f32>();
    match data.as_slice::<f32>() {
        Ok(values) => values.to_vec(),
        Err(_) => data.iter::<f32>().collect(),
    }
}
