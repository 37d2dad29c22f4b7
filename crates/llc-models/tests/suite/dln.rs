//! Deep linear network modules: shapes, parameter counts, host round trips and the forward pass.

use burn::tensor::{Tensor, TensorData};
use llc_models::{Dln, DlnTeacher, SyntheticInputs};
use nalgebra::DMatrix;

use crate::common::{B, UNIT_ROUNDOFF, abs_chain, assert_within, matrix_from_rows, tensor_to_matrix};

#[test]
fn forward_equals_the_host_f64_product() {
    let device = Default::default();
    for (widths, rank, seed) in [(&[10, 20, 15, 5][..], 3, 1), (&[7, 7][..], 7, 2), (&[4, 30, 2, 30, 6][..], 2, 3)] {
        let teacher = DlnTeacher::with_rank(widths, rank, seed).unwrap();
        let module = teacher.to_module::<B>(&device);
        let inputs = SyntheticInputs::new(seed, 64, widths[0]).unwrap();
        let rows = inputs.materialize();
        let x_host = matrix_from_rows(&rows, 64, widths[0]);
        let x = Tensor::<B, 2>::from_data(TensorData::new(rows, [64, widths[0]]), &device);
        let actual = tensor_to_matrix(module.forward(x));
        let expected = &x_host * teacher.product();
        // Error model for the f32 evaluation of x·W_1⋯W_M against the exact product (x is exact in
        // f32): rounding the M weight matrices to f32 costs a relative u each, and each matmul with
        // inner dimension H_s costs at most gamma_{H_s} ≈ H_s·u, both relative to |x|·|W_1|⋯|W_M|
        // entry by entry. The bound is (Σ H_s + M)·u·|x||W_1|⋯|W_M|, doubled for safety.
        let m = widths.len() - 1;
        let inner: usize = widths[..m].iter().sum();
        let factor = 2.0 * (inner + m) as f64 * UNIT_ROUNDOFF;
        let bound = abs_chain(&x_host, teacher.weights()) * factor;
        assert_within(&actual, &expected, &bound, &format!("DLN {widths:?}"));
    }
}

#[test]
fn the_module_has_the_teachers_widths_and_parameter_count() {
    let device = Default::default();
    let teacher = DlnTeacher::random(&[5, 9, 4, 7], 0).unwrap();
    let module = teacher.to_module::<B>(&device);
    assert_eq!(module.widths(), vec![5, 9, 4, 7]);
    assert_eq!(module.num_params(), 45 + 36 + 28);
    assert_eq!(module.num_params(), teacher.num_params());
    assert_eq!(burn::module::Module::num_params(&module), 109, "burn counts the same parameters");
    for (s, w) in module.weights.iter().enumerate() {
        assert_eq!(w.dims(), [teacher.widths()[s], teacher.widths()[s + 1]], "layer {s} is fan_in × fan_out");
    }
}

#[test]
fn host_constructors_round_trip() {
    let device = Default::default();
    let widths = [3, 2, 4];
    let w1: Vec<f32> = (0..6).map(|v| v as f32 * 0.5 - 1.0).collect();
    let w2: Vec<f32> = (0..8).map(|v| 2.0 - v as f32 * 0.25).collect();
    let module = Dln::<B>::from_host_f32(&widths, &[w1.clone(), w2.clone()], &device).unwrap();
    assert_eq!(module.widths(), widths.to_vec());
    assert_eq!(module.weights_host(), vec![w1.clone(), w2.clone()]);

    let as_f64: Vec<Vec<f64>> = [&w1, &w2].iter().map(|w| w.iter().map(|&v| f64::from(v)).collect()).collect();
    let from_f64 = Dln::<B>::from_host_f64(&widths, &as_f64, &device).unwrap();
    assert_eq!(from_f64.weights_host(), vec![w1.clone(), w2.clone()]);

    let matrices = [matrix_from_rows(&w1, 3, 2), matrix_from_rows(&w2, 2, 4)];
    let from_matrices = Dln::<B>::from_matrices(&matrices, &device).unwrap();
    assert_eq!(from_matrices.weights_host(), vec![w1, w2]);

    // A hand-checked forward pass: x = [1, 0, 0] picks the first row of W_1 = [−1, −0.5], then
    // (−1)·[2, 1.75, 1.5, 1.25] + (−0.5)·[1, 0.75, 0.5, 0.25] = [−2.5, −2.125, −1.75, −1.375].
    let x = Tensor::<B, 2>::from_floats([[1.0, 0.0, 0.0]], &device);
    let y = tensor_to_matrix(from_matrices.forward(x));
    let expected = DMatrix::from_row_slice(1, 4, &[-2.5, -2.125, -1.75, -1.375]);
    assert_eq!(y, expected);
}
