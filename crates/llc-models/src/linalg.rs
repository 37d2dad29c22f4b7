//! Host-side f64 linear algebra for teachers: Gaussian matrices, rank truncation by SVD and the
//! numerical rank.

use nalgebra::{DMatrix, SVD};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A `rows × cols` matrix of i.i.d. `N(0, std²)` entries, drawn in row-major order.
pub(crate) fn gaussian_matrix(rng: &mut ChaCha8Rng, rows: usize, cols: usize, std: f64) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(rows, cols);
    for i in 0..rows {
        for j in 0..cols {
            let z: f64 = rng.sample(StandardNormal);
            m[(i, j)] = std * z;
        }
    }
    m
}

/// The best rank-`keep` approximation of `m`: its SVD with all but the `keep` largest singular
/// values set to zero. `keep = 0` gives the exact zero matrix.
pub(crate) fn truncate_rank(m: &DMatrix<f64>, keep: usize) -> DMatrix<f64> {
    let (rows, cols) = m.shape();
    if keep == 0 {
        return DMatrix::zeros(rows, cols);
    }
    if keep >= rows.min(cols) {
        return m.clone();
    }
    // `SVD::new` sorts the singular values in descending order.
    let svd = SVD::new(m.clone(), true, true);
    let (Some(u), Some(v_t)) = (svd.u, svd.v_t) else {
        unreachable!("the SVD was asked for both U and V^T");
    };
    let mut out = DMatrix::zeros(rows, cols);
    for k in 0..keep {
        let sigma = svd.singular_values[k];
        out += u.column(k) * v_t.row(k) * sigma;
    }
    out
}

/// The numerical rank of `m`: the number of singular values above
/// `max(rows, cols)·sigma_max·f64::EPSILON` (the usual matrix-rank tolerance), and 0 for a matrix
/// that is exactly zero or empty.
///
/// Every entry must be finite; a matrix with a NaN or an infinity has no meaningful rank and gives
/// 0 here.
pub fn numerical_rank(m: &DMatrix<f64>) -> usize {
    let (rows, cols) = m.shape();
    if rows == 0 || cols == 0 || m.iter().any(|v| !v.is_finite()) || m.iter().all(|&v| v == 0.0) {
        return 0;
    }
    let singular_values = SVD::new(m.clone(), false, false).singular_values;
    let sigma_max = singular_values.iter().fold(0.0_f64, |a, &b| a.max(b));
    let tolerance = rows.max(cols) as f64 * sigma_max * f64::EPSILON;
    singular_values.iter().filter(|&&s| s > tolerance).count()
}
