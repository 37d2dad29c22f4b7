//! ReLU MLP modules: parameter counts, host round trips and the forward pass against the f64
//! teacher.

use burn::tensor::{Tensor, TensorData};
use llc_models::{HostLayer, Mlp, MlpTeacher, SyntheticInputs};

use crate::common::{B, UNIT_ROUNDOFF, abs_mlp, assert_within, matrix_from_rows, tensor_to_matrix};

#[test]
fn parameter_counts_match_the_paper() {
    let device = Default::default();
    // docs/method.md §5: 10→20→20→10 has d = 850; §6: 430, 1250 and 2470.
    for (widths, d) in
        [(&[10, 20, 20, 10][..], 850), (&[10, 20, 10][..], 430), (&[20, 30, 20][..], 1250), (&[30, 40, 30][..], 2470)]
    {
        let teacher = MlpTeacher::random(widths, 0, 1.0).unwrap();
        let module = teacher.to_module::<B>(&device);
        assert_eq!(module.num_params(), d, "{widths:?}");
        assert_eq!(teacher.num_params(), d, "{widths:?}");
        assert_eq!(burn::module::Module::num_params(&module), d, "burn counts the same parameters");
        assert_eq!(module.widths(), widths.to_vec());
        assert_eq!(module.hidden_layers(), widths.len() - 2);
    }
}

#[test]
fn forward_equals_the_host_f64_teacher() {
    let device = Default::default();
    let widths = [10, 20, 20, 10];
    let teacher = MlpTeacher::random(&widths, 8, 1.0).unwrap();
    let module = teacher.to_module::<B>(&device);
    let rows = SyntheticInputs::new(3, 128, 10).unwrap().materialize();
    let x_host = matrix_from_rows(&rows, 128, 10);
    let actual = tensor_to_matrix(module.forward(Tensor::from_data(TensorData::new(rows, [128, 10]), &device)));
    let expected = teacher.forward(&x_host).unwrap();
    // Each layer's f32 error is at most (fan_in + 2)·u relative to h·|W| + |b| (fan_in roundings in
    // the dot product, one for adding the bias, one for rounding the parameters to f32); ReLU is
    // 1-Lipschitz, so the errors propagate through the magnitudes of `abs_mlp`. Doubled for safety.
    let factor = 2.0 * (widths[..3].iter().sum::<usize>() + 2 * 3) as f64 * UNIT_ROUNDOFF;
    let bound = abs_mlp(&x_host, teacher.weights(), teacher.biases()) * factor;
    assert_within(&actual, &expected, &bound, "MLP forward");
    // The ReLU matters: a network without it would give a different function.
    let linear: nalgebra::DMatrix<f64> =
        teacher.weights().iter().zip(teacher.biases()).fold(x_host.clone(), |h, (w, b)| {
            let mut z = h * w;
            for mut row in z.row_iter_mut() {
                row += b.transpose();
            }
            z
        });
    assert!((linear - &expected).amax() > 1.0);
}

#[test]
fn host_constructors_round_trip() {
    let device = Default::default();
    let widths = [3, 4, 2];
    let weights = vec![
        (0..12).map(|v| v as f32 * 0.1 - 0.6).collect::<Vec<f32>>(),
        (0..8).map(|v| 1.0 - v as f32 * 0.3).collect(),
    ];
    let biases = vec![vec![0.5, -0.5, 1.0, -1.0], vec![0.25, -0.25]];
    let module = Mlp::<B>::from_host(&widths, &weights, &biases, &device).unwrap();
    let expected: Vec<HostLayer> =
        weights.iter().zip(&biases).map(|(w, b)| HostLayer { weight: w.clone(), bias: b.clone() }).collect();
    assert_eq!(module.layers_host(), expected);

    let teacher = MlpTeacher::random(&[4, 6, 3], 2, 1.0).unwrap();
    let from_matrices = Mlp::<B>::from_matrices(teacher.weights(), teacher.biases(), &device).unwrap();
    assert_eq!(from_matrices.layers_host(), teacher.to_module::<B>(&device).layers_host());

    // A hand-checked forward pass: x = [1, 0, 0] gives z_1 = row 0 of W_1 + b_1 =
    // [−0.6 + 0.5, −0.5 − 0.5, −0.4 + 1, −0.3 − 1] = [−0.1, −1, 0.6, −1.3], ReLU keeps [0, 0, 0.6, 0],
    // and the output is 0.6·row 2 of W_2 + b_2 = 0.6·[−0.2, −0.5] + [0.25, −0.25] = [0.13, −0.55].
    let y = module.forward(Tensor::<B, 2>::from_floats([[1.0, 0.0, 0.0]], &device));
    let y = llc_models::tensor_to_vec(y);
    assert!((y[0] - 0.13).abs() < 1e-6 && (y[1] + 0.55).abs() < 1e-6, "{y:?}");
}
