//! Teachers: exact ranks, the paper's random procedure, the initialization scale, determinism.

use llc_models::{DlnTeacher, MlpTeacher, numerical_rank};
use nalgebra::{DMatrix, SVD};

use crate::common::mean_std;

/// The rank of a matrix computed without the crate's code path: nalgebra's own `SVD::rank` with
/// the usual tolerance `max(rows, cols)·sigma_max·epsilon`.
fn independent_rank(m: &DMatrix<f64>) -> usize {
    let svd = SVD::new(m.clone(), false, false);
    let sigma_max = svd.singular_values.max();
    if sigma_max == 0.0 {
        return 0;
    }
    svd.rank(m.nrows().max(m.ncols()) as f64 * sigma_max * f64::EPSILON)
}

/// The product multiplied right to left (`W_1·(W_2·(⋯W_M))`), a different rounding path from the
/// crate's left-to-right product.
fn product_right_to_left(weights: &[DMatrix<f64>]) -> DMatrix<f64> {
    let mut iter = weights.iter().rev();
    let last = iter.next().expect("at least one matrix").clone();
    iter.fold(last, |acc, w| w * acc)
}

#[test]
fn with_rank_reaches_every_rank_from_zero_to_the_narrowest_width() {
    let shapes: [&[usize]; 6] =
        [&[6, 4], &[5, 3, 5], &[7, 4, 9, 6], &[10, 10, 10, 10], &[3, 12, 8, 12, 3], &[20, 15, 30, 12, 25]];
    for widths in shapes {
        let narrowest = *widths.iter().min().unwrap();
        for rank in 0..=narrowest {
            for seed in [0, 1, 2] {
                let teacher = DlnTeacher::with_rank(widths, rank, seed).unwrap();
                assert_eq!(teacher.true_rank(), rank, "widths {widths:?}, rank {rank}, seed {seed}");
                assert_eq!(independent_rank(&teacher.product()), rank, "widths {widths:?}, rank {rank}");
                assert_eq!(teacher.widths(), widths);
            }
        }
    }
}

#[test]
fn with_rank_zero_is_the_zero_map() {
    let teacher = DlnTeacher::with_rank(&[4, 6, 3], 0, 9).unwrap();
    assert!(teacher.product().iter().all(|&v| v == 0.0));
    assert_eq!(teacher.true_rank(), 0);
    // Only the first factor is zero; the others are random.
    assert!(teacher.weights()[1].iter().any(|&v| v != 0.0));
}

#[test]
fn random_teacher_rank_matches_an_independent_computation() {
    let shapes: [&[usize]; 4] = [&[8, 8, 8], &[5, 9, 3, 7], &[12, 6, 10, 6, 12], &[30, 25, 40, 20]];
    let mut below_narrowest = 0;
    let mut total = 0;
    for widths in shapes {
        for seed in 0..25 {
            let teacher = DlnTeacher::random(widths, seed).unwrap();
            let rank = independent_rank(&product_right_to_left(teacher.weights()));
            assert_eq!(teacher.true_rank(), rank, "widths {widths:?}, seed {seed}");
            // The rank of a product is at most the rank of each factor.
            for w in teacher.weights() {
                assert!(rank <= independent_rank(w));
            }
            total += 1;
            if rank < *widths.iter().min().unwrap() {
                below_narrowest += 1;
            }
        }
    }
    // With each layer cut with probability 0.5·(rank−1)/rank, most random teachers lose rank; a
    // procedure that never cut would leave all 100 at the narrowest width.
    assert!(below_narrowest > total / 4, "only {below_narrowest} of {total} teachers were rank-deficient");
}

#[test]
fn random_teacher_cuts_each_layer_with_the_papers_probability() {
    // An 8×8 layer is cut (to rank 8 − k, k uniform on {0, …, 7}) with probability 0.5, and the cut
    // lowers its rank when k ≥ 1: P(rank < 8) = 0.5·7/8 = 0.4375, and given that, the rank is
    // uniform on {1, …, 7} with mean 4. Over 400 layers the count of rank-deficient layers has
    // standard deviation √(400·0.4375·0.5625) ≈ 9.9; we allow 5 standard deviations.
    let mut deficient = Vec::new();
    let mut layers = 0;
    for seed in 0..200 {
        let teacher = DlnTeacher::random(&[8, 8, 8], 1000 + seed).unwrap();
        for w in teacher.weights() {
            layers += 1;
            let rank = numerical_rank(w);
            assert!((1..=8).contains(&rank), "a cut keeps at least rank 1, got {rank}");
            if rank < 8 {
                deficient.push(rank as f64);
            }
        }
    }
    let expected = 0.4375 * layers as f64;
    let sd = (layers as f64 * 0.4375 * 0.5625).sqrt();
    let count = deficient.len() as f64;
    assert!((count - expected).abs() <= 5.0 * sd, "{count} rank-deficient layers, expected {expected} ± {sd}");
    // The mean of a uniform rank on {1, …, 7} is 4 with standard deviation 2; the standard error of
    // the mean of ~175 of them is about 0.15, and 5 of those is 0.75.
    let (mean, _, _) = mean_std(&deficient);
    assert!((mean - 4.0).abs() < 0.75, "mean rank of cut layers {mean}");
}

/// Checks that the entries of `m` look like i.i.d. `N(0, std²)`: the sample standard deviation of
/// N entries has relative standard error `1/√(2N)` and the sample mean has standard error
/// `std/√N`; both must be within 5 standard errors.
fn assert_gaussian_scale(values: &[f64], std: f64, what: &str) {
    let (mean, sample_std, n) = mean_std(values);
    let n = n as f64;
    assert!(mean.abs() <= 5.0 * std / n.sqrt(), "{what}: mean {mean} too far from 0");
    let relative = (sample_std / std - 1.0).abs();
    assert!(relative <= 5.0 / (2.0 * n).sqrt(), "{what}: std {sample_std}, expected {std} (relative error {relative})");
}

#[test]
fn init_entries_have_std_one_over_sqrt_fan_in() {
    // The rank equals the input width, the narrowest, so the first layer keeps all its singular
    // values and every entry is a raw N(0, 1/fan_in) draw (80,000 and 120,000 entries: tolerances
    // of 1.3% and 1.0% on the std).
    let teacher = DlnTeacher::with_rank(&[200, 400, 300], 200, 5).unwrap();
    for (s, w) in teacher.weights().iter().enumerate() {
        let fan_in = w.nrows() as f64;
        assert_gaussian_scale(w.as_slice(), 1.0 / fan_in.sqrt(), &format!("DLN layer {s}"));
    }
    let mlp = MlpTeacher::random(&[50, 2000, 10], 3, 1.0).unwrap();
    for (k, w) in mlp.weights().iter().enumerate() {
        let fan_in = w.nrows() as f64;
        assert_gaussian_scale(w.as_slice(), 1.0 / fan_in.sqrt(), &format!("MLP layer {k}"));
    }
    // 2000 hidden biases with std 1: tolerance 7.9% on the std.
    assert_gaussian_scale(mlp.biases()[0].as_slice(), 1.0, "hidden biases");
    assert!(mlp.biases()[1].iter().all(|&b| b == 0.0), "the output bias is zero");

    let scaled = MlpTeacher::random(&[50, 2000, 10], 3, 0.25).unwrap();
    assert_gaussian_scale(scaled.biases()[0].as_slice(), 0.25, "hidden biases with std 0.25");
    let no_bias = MlpTeacher::random(&[5, 7, 3], 3, 0.0).unwrap();
    assert!(no_bias.biases().iter().all(|b| b.iter().all(|&v| v == 0.0)));
}

#[test]
fn same_seed_gives_the_same_teacher_and_another_seed_a_different_one() {
    let widths = [6, 9, 4, 7];
    assert_eq!(DlnTeacher::random(&widths, 11).unwrap(), DlnTeacher::random(&widths, 11).unwrap());
    assert_ne!(DlnTeacher::random(&widths, 11).unwrap().weights(), DlnTeacher::random(&widths, 12).unwrap().weights());
    assert_eq!(DlnTeacher::with_rank(&widths, 2, 11).unwrap(), DlnTeacher::with_rank(&widths, 2, 11).unwrap());
    assert_ne!(
        DlnTeacher::with_rank(&widths, 2, 11).unwrap().weights(),
        DlnTeacher::with_rank(&widths, 2, 12).unwrap().weights()
    );
    assert_eq!(MlpTeacher::random(&widths, 11, 1.0).unwrap(), MlpTeacher::random(&widths, 11, 1.0).unwrap());
    assert_ne!(
        MlpTeacher::random(&widths, 11, 1.0).unwrap().weights(),
        MlpTeacher::random(&widths, 12, 1.0).unwrap().weights()
    );
}

#[test]
fn product_and_parameter_count_follow_the_widths() {
    let teacher = DlnTeacher::random(&[5, 9, 4, 7], 3).unwrap();
    assert_eq!(teacher.num_params(), 5 * 9 + 9 * 4 + 4 * 7);
    let w = teacher.weights();
    let direct = &w[0] * &w[1] * &w[2];
    assert_eq!(teacher.product().shape(), (5, 7));
    assert!((teacher.product() - direct).amax() < 1e-12);

    let from = DlnTeacher::from_matrices(teacher.weights().to_vec()).unwrap();
    assert_eq!(from, teacher);
}

#[test]
fn the_numerical_rank_of_known_matrices_is_their_rank() {
    assert_eq!(numerical_rank(&DMatrix::zeros(4, 3)), 0);
    assert_eq!(numerical_rank(&DMatrix::identity(5, 5)), 5);
    let u = DMatrix::from_fn(6, 2, |i, j| (i + 2 * j) as f64 + 1.0);
    let v = DMatrix::from_fn(2, 5, |i, j| ((i * 5 + j) as f64).sin());
    assert_eq!(numerical_rank(&(u * v)), 2);
    // A singular value at the f64 noise level relative to sigma_max does not count.
    let mut d = DMatrix::zeros(3, 3);
    d[(0, 0)] = 1.0;
    d[(1, 1)] = 1e-20;
    assert_eq!(numerical_rank(&d), 1);
}

#[test]
fn planted_copies_share_incoming_weights_and_bias() {
    let mut teacher = MlpTeacher::random(&[10, 20, 10], 4, 1.0).unwrap();
    let before = teacher.clone();
    let copies = [1, 2, 3, 4, 5, 8];
    teacher.plant_copies(0, 0, &copies).unwrap();
    let (w, b) = (&teacher.weights()[0], &teacher.biases()[0]);
    for j in 0..20 {
        if copies.contains(&j) {
            assert_eq!(w.column(j), w.column(0));
            assert_eq!(b[j], b[0]);
        } else {
            assert_eq!(w.column(j), before.weights()[0].column(j), "neuron {j} must be untouched");
            assert_eq!(b[j], before.biases()[0][j]);
        }
    }
    assert_eq!(teacher.weights()[1], before.weights()[1], "outgoing weights are not changed");
    // The copies compute the same hidden activations as neuron 0 on any input.
    let x = DMatrix::from_fn(7, 10, |i, j| ((i * 10 + j) as f64 * 0.37).sin() * 10.0);
    let hidden = MlpTeacher::from_parts(vec![w.clone()], vec![b.clone()]).unwrap().forward(&x).unwrap();
    for &j in &copies {
        assert_eq!(hidden.column(j), hidden.column(0));
    }
}
