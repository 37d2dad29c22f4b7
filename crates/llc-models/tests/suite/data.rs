//! Synthetic inputs and regression data sets: range, determinism, streaming against
//! materialized, and the loss.

use burn::tensor::Tensor;
use llc_models::{DataForm, DlnTeacher, MlpTeacher, RegressionData, SyntheticInputs, TeacherMap, mse, tensor_to_vec};
use nalgebra::DMatrix;

use crate::common::{B, UNIT_ROUNDOFF, abs_chain, abs_mlp, assert_within, mean_std, tensor_to_matrix};

#[test]
fn inputs_lie_in_the_range_and_look_uniform() {
    let inputs = SyntheticInputs::new(1, 20_000, 5).unwrap();
    let values: Vec<f64> = inputs.materialize().iter().map(|&v| f64::from(v)).collect();
    assert_eq!(values.len(), 100_000);
    assert!(values.iter().all(|v| (-10.0..=10.0).contains(v)));
    // U[−10, 10] has mean 0 and standard deviation 20/√12 ≈ 5.774. With N = 10⁵ values the mean
    // has standard error 0.018 and the sample std a relative standard error of about 0.0014
    // (√(Var(X²))/(2sigma²√N) = √0.8/(2√N) for a uniform); both checked to 5 standard errors.
    let (mean, std, _) = mean_std(&values);
    let sigma = 20.0 / 12.0_f64.sqrt();
    assert!(mean.abs() < 5.0 * sigma / 1e5_f64.sqrt(), "mean {mean}");
    assert!((std / sigma - 1.0).abs() < 5.0 * 0.8_f64.sqrt() / (2.0 * 1e5_f64.sqrt()), "std {std}");
    // Each tenth of the range holds about a tenth of the values (binomial sd ≈ 95, 5 sd allowed).
    for bin in 0..10 {
        let low = -10.0 + 2.0 * bin as f64;
        let count = values.iter().filter(|&&v| v >= low && v < low + 2.0).count() as f64;
        assert!((count - 10_000.0).abs() < 5.0 * 94.9, "bin {bin} holds {count}");
    }

    let custom = SyntheticInputs::with_range(1, 1000, 3, 2.0, 3.0).unwrap();
    assert!(custom.materialize().iter().all(|v| (2.0..=3.0).contains(v)));
    assert_eq!(custom.range(), (2.0, 3.0));
}

#[test]
fn streamed_rows_equal_the_materialized_rows() {
    for width in [1, 3, 16, 17, 250] {
        let inputs = SyntheticInputs::new(77, 300, width).unwrap();
        let all = inputs.materialize();
        assert_eq!(all.len(), 300 * width);
        let indices = [299, 0, 5, 5, 6, 7, 150, 1, 298, 42];
        let rows = inputs.rows(&indices).unwrap();
        for (r, &i) in indices.iter().enumerate() {
            assert_eq!(&rows[r * width..(r + 1) * width], &all[i * width..(i + 1) * width], "width {width}, index {i}");
        }
        let every: Vec<usize> = (0..300).collect();
        assert_eq!(inputs.rows(&every).unwrap(), all);
    }
}

#[test]
fn fill_rows_reuses_the_buffer() {
    let inputs = SyntheticInputs::new(3, 10, 4).unwrap();
    let mut buffer = vec![123.0; 99];
    inputs.fill_rows(&[2, 9], &mut buffer).unwrap();
    assert_eq!(buffer.len(), 8);
    assert_eq!(buffer, inputs.rows(&[2, 9]).unwrap());
    assert!(inputs.fill_rows(&[1, 10], &mut buffer).is_err());
    assert!(buffer.is_empty(), "a failed fill leaves the buffer empty");
}

#[test]
fn same_seed_gives_the_same_data_and_another_seed_different_data() {
    let a = SyntheticInputs::new(5, 100, 8).unwrap();
    let b = SyntheticInputs::new(5, 100, 8).unwrap();
    let c = SyntheticInputs::new(6, 100, 8).unwrap();
    assert_eq!(a.materialize(), b.materialize());
    let (va, vc) = (a.materialize(), c.materialize());
    let equal = va.iter().zip(&vc).filter(|(x, y)| x == y).count();
    assert!(equal < 5, "{equal} of 800 values coincide between seeds");
    // Sample i depends only on (seed, i): a longer data set starts with the same samples.
    let longer = SyntheticInputs::new(5, 1000, 8).unwrap();
    assert_eq!(&longer.materialize()[..800], &va[..]);

    let device = Default::default();
    let teacher = DlnTeacher::random(&[8, 4, 3], 1).unwrap();
    let d1 = RegressionData::<B>::dln(&teacher, a, DataForm::Materialized, &device).unwrap();
    let d2 = RegressionData::<B>::dln(&teacher, b, DataForm::Materialized, &device).unwrap();
    let (x1, y1) = d1.full();
    let (x2, y2) = d2.full();
    assert_eq!(tensor_to_vec(x1), tensor_to_vec(x2));
    assert_eq!(tensor_to_vec(y1), tensor_to_vec(y2));
}

/// The indices of a few minibatches: repeats, arbitrary order, the ends of the data set.
fn sample_batches(n: usize) -> Vec<Vec<usize>> {
    vec![vec![0], vec![n - 1, 0, 17, 17, 3], (0..32).map(|i| (i * 37 + 11) % n).collect(), (0..n).collect()]
}

#[test]
fn streaming_and_materialized_dln_batches_agree() {
    let device = Default::default();
    let teacher = DlnTeacher::with_rank(&[12, 9, 7, 5], 3, 4).unwrap();
    let inputs = SyntheticInputs::new(10, 500, 12).unwrap();
    let mat = RegressionData::<B>::dln(&teacher, inputs, DataForm::Materialized, &device).unwrap();
    let stream = RegressionData::<B>::dln(&teacher, inputs, DataForm::Streaming, &device).unwrap();
    assert!(mat.is_materialized() && !stream.is_materialized());
    assert_eq!((mat.n(), stream.n()), (500, 500));
    assert_eq!((mat.input_width(), mat.output_width()), (12, 5));
    assert_eq!((stream.input_width(), stream.output_width()), (12, 5));
    let product = teacher.product();
    for indices in sample_batches(500) {
        let (xm, ym) = mat.batch(&indices).unwrap();
        let (xs, ys) = stream.batch(&indices).unwrap();
        let xm = tensor_to_matrix(xm);
        assert_eq!(xm, tensor_to_matrix(xs), "inputs are generated identically");
        assert_eq!(xm.nrows(), indices.len());
        // Both targets are the f32 matmul x·P with P = fl32(W_1⋯W_M); they may differ only by the
        // summation order of the 12-term dot products, so each deviates from the exact x·P by at
        // most gamma_12·|x||P| and from each other by twice that. Then both are compared with the f64
        // teacher, which adds the rounding of P to f32 (one more u).
        let bound = abs_chain(&xm, std::slice::from_ref(&product)) * (2.0 * 13.0 * UNIT_ROUNDOFF);
        let (ym, ys) = (tensor_to_matrix(ym), tensor_to_matrix(ys));
        assert_within(&ys, &ym, &bound, "streaming against materialized targets");
        assert_within(&ym, &(&xm * &product), &bound, "materialized targets against the f64 teacher");
    }
}

#[test]
fn streaming_and_materialized_mlp_batches_agree() {
    let device = Default::default();
    let mut teacher = MlpTeacher::random(&[10, 20, 20, 10], 2, 1.0).unwrap();
    teacher.plant_copies(0, 0, &[1, 2, 3]).unwrap();
    let inputs = SyntheticInputs::new(12, 400, 10).unwrap();
    let mat = RegressionData::<B>::mlp(&teacher, inputs, DataForm::Materialized, &device).unwrap();
    let stream = RegressionData::<B>::mlp(&teacher, inputs, DataForm::Streaming, &device).unwrap();
    for indices in sample_batches(400) {
        let (xm, ym) = mat.batch(&indices).unwrap();
        let (xs, ys) = stream.batch(&indices).unwrap();
        let xm = tensor_to_matrix(xm);
        assert_eq!(xm, tensor_to_matrix(xs));
        // Same error model as the MLP forward test: (fan_in + 2)·u per layer relative to the
        // magnitudes of `abs_mlp`, for each of the two evaluations.
        let factor = 2.0 * (10 + 20 + 20 + 6) as f64 * UNIT_ROUNDOFF;
        let bound = abs_mlp(&xm, teacher.weights(), teacher.biases()) * factor;
        let expected = teacher.forward(&xm).unwrap();
        assert_within(&tensor_to_matrix(ym), &expected, &bound, "materialized MLP targets");
        assert_within(&tensor_to_matrix(ys), &expected, &bound, "streaming MLP targets");
    }
}

#[test]
fn auto_form_materializes_small_data_and_streams_large_data() {
    let device = Default::default();
    let teacher = DlnTeacher::random(&[10, 10, 10], 0).unwrap();
    let small = RegressionData::<B>::dln(&teacher, SyntheticInputs::new(0, 1000, 10).unwrap(), DataForm::Auto, &device);
    assert!(small.unwrap().is_materialized());
    // 10⁷ samples of 10 inputs and 10 targets take 800 MB in f32: above the 256 MiB limit, so the
    // data set streams and nothing of that size is ever allocated.
    let inputs = SyntheticInputs::new(0, 10_000_000, 10).unwrap();
    let large = RegressionData::<B>::dln(&teacher, inputs, DataForm::Auto, &device).unwrap();
    assert!(!large.is_materialized());
    assert_eq!(large.n(), 10_000_000);
    let (x, y) = large.batch(&[9_999_999, 0]).unwrap();
    assert_eq!(x.dims(), [2, 10]);
    assert_eq!(y.dims(), [2, 10]);
    assert_eq!(tensor_to_vec(x), inputs.rows(&[9_999_999, 0]).unwrap());
}

#[test]
fn a_teacher_has_zero_loss_on_its_own_data() {
    let device = Default::default();
    let teacher = DlnTeacher::with_rank(&[6, 5, 4], 2, 1).unwrap();
    let data =
        RegressionData::<B>::dln(&teacher, SyntheticInputs::new(2, 256, 6).unwrap(), DataForm::Auto, &device).unwrap();
    let (x, y) = data.full();
    let loss: f32 = mse(teacher.to_module::<B>(&device).forward(x.clone()), y.clone()).into_scalar();
    // Targets are ~10 in size and both sides carry f32 rounding of relative ~1e-6: squared errors
    // of order 1e-10.
    assert!(loss < 1e-8, "loss at the teacher {loss}");
    // A different network does not fit.
    let other = DlnTeacher::with_rank(&[6, 5, 4], 2, 99).unwrap().to_module::<B>(&device);
    let loss_other: f32 = mse(other.forward(x), y).into_scalar();
    assert!(loss_other > 1.0, "loss of another network {loss_other}");
}

#[test]
fn mse_is_the_plain_mean_over_samples_and_outputs() {
    let device = Default::default();
    let pred = Tensor::<B, 2>::from_floats([[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]], &device);
    let target = Tensor::<B, 2>::from_floats([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], &device);
    // Squared errors 1, 4, 4, 9, 0, 4: sum 22 over 6 entries, no factor 1/2.
    let loss = mse(pred, target);
    assert_eq!(loss.dims(), [1]);
    assert!((loss.into_scalar() - 22.0 / 6.0).abs() < 1e-6);
}

#[test]
fn data_sets_come_from_tensors_or_from_a_trained_network_as_teacher() {
    let device = Default::default();
    let x = Tensor::<B, 2>::from_floats([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], &device);
    let y = Tensor::<B, 2>::from_floats([[1.0], [2.0], [3.0]], &device);
    let data = RegressionData::from_tensors(x, y).unwrap();
    let (xb, yb) = data.batch(&[2, 0]).unwrap();
    assert_eq!(tensor_to_vec(xb), vec![5.0, 6.0, 1.0, 2.0]);
    assert_eq!(tensor_to_vec(yb), vec![3.0, 1.0]);

    // A trained network can serve as a teacher through `TeacherMap`.
    let teacher = MlpTeacher::random(&[3, 4, 2], 0, 1.0).unwrap();
    let map = TeacherMap::Mlp(teacher.to_module::<B>(&device));
    assert_eq!((map.input_width(), map.output_width()), (3, 2));
    let data = RegressionData::with_teacher(map, SyntheticInputs::new(1, 50, 3).unwrap(), DataForm::Streaming, &device)
        .unwrap();
    let (xb, yb) = data.batch(&[4, 5]).unwrap();
    let expected = teacher.forward(&tensor_to_matrix(xb)).unwrap();
    // Outputs of size ~10 evaluated in f32 through 7 inner products: errors ~1e-5 at most.
    assert!((tensor_to_matrix(yb) - expected).amax() < 1e-4);
    let full: DMatrix<f64> = tensor_to_matrix(data.full().1);
    assert_eq!(full.shape(), (50, 2));
    let single = tensor_to_matrix(data.batch(&[4]).unwrap().1);
    assert!((full.row(4) - single.row(0)).amax() < 1e-4);
}
