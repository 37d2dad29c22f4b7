//! The learning coefficient of deep linear networks (Aoyagi 2024, Theorem 1) and its special
//! cases: one weight matrix (a regular model) and two weight matrices (reduced-rank regression,
//! Aoyagi & Watanabe 2005).
//!
//! Notation follows the paper (arXiv 2308.12108 v2, the DLN section): a network with widths
//! `H_1` (input), …, `H_{M+1}` (output) computes `f(x) = W_M ⋯ W_1 x`; `r` is the rank of the
//! true product, `Δ_s = H_s − r`, and `d = Σ_s H_s·H_{s+1}` is the number of parameters.

use crate::{Rational, TheoryError};

/// The largest width the exact arithmetic accepts (2²⁴). With at most [`MAX_WIDTHS`] widths every
/// intermediate of the theorem, and the parameter count, fit comfortably in 128 (and 64) bits.
pub const MAX_WIDTH: usize = 1 << 24;

/// The largest number of widths (layers + 1) the exact arithmetic accepts (2¹⁵).
pub const MAX_WIDTHS: usize = 1 << 15;

/// A closed-form learning coefficient: λ (the real log canonical threshold) and its multiplicity m.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearningCoefficient {
    /// λ, exactly.
    pub lambda: Rational,
    /// The multiplicity m ≥ 1 (the order of the pole; it enters the free energy as −(m−1)·ln ln n).
    pub multiplicity: u64,
}

impl LearningCoefficient {
    /// λ as a floating-point number.
    pub fn lambda_f64(&self) -> f64 {
        self.lambda.to_f64()
    }
}

/// Aoyagi's learning coefficient of a deep linear network, with the intermediate quantities of the
/// theorem so that a reader can check it by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlnCoefficient {
    /// λ and m.
    pub coefficient: LearningCoefficient,
    /// The index set Σ of the theorem, as 0-based positions in the width list, ascending.
    pub index_set: Vec<usize>,
    /// ℓ = |Σ| − 1.
    pub ell: usize,
    /// d, the number of weights of the network.
    pub params: u64,
}

impl DlnCoefficient {
    /// λ as a floating-point number.
    pub fn lambda(&self) -> f64 {
        self.coefficient.lambda_f64()
    }

    /// The multiplicity m.
    pub fn multiplicity(&self) -> u64 {
        self.coefficient.multiplicity
    }
}

/// Which regime of the reduced-rank-regression formula applies (Aoyagi & Watanabe 2005).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RrrCase {
    /// `N+r ≤ M+H`, `M+r ≤ N+H` and `H+r ≤ M+N`: the generic, balanced case.
    Balanced,
    /// `M+H < N+r`: the input side is the bottleneck.
    InputBound,
    /// `N+H < M+r`: the output side is the bottleneck.
    OutputBound,
    /// `M+N < H+r`: the hidden layer is wider than needed; the model is effectively one matrix.
    HiddenBound,
}

/// Checks a width list and rank; returns the narrowest width.
pub fn validate(widths: &[usize], rank: usize) -> Result<usize, TheoryError> {
    match widths.len() {
        0 => return Err(TheoryError::NoWidths),
        1 => return Err(TheoryError::TooFewWidths { got: 1 }),
        n if n > MAX_WIDTHS => {
            return Err(TheoryError::TooLarge { what: "the number of widths", value: n, max: MAX_WIDTHS });
        }
        _ => {}
    }
    if let Some(index) = widths.iter().position(|&h| h == 0) {
        return Err(TheoryError::ZeroWidth { index });
    }
    if let Some(&h) = widths.iter().find(|&&h| h > MAX_WIDTH) {
        return Err(TheoryError::TooLarge { what: "width", value: h, max: MAX_WIDTH });
    }
    let narrowest = *widths.iter().min().expect("at least two widths");
    if rank > narrowest {
        return Err(TheoryError::RankTooLarge { rank, narrowest });
    }
    Ok(narrowest)
}

/// The number of weights d = Σ_s H_s·H_{s+1} of a bias-free network with these widths.
///
/// Saturates at `u64::MAX`, which no width list accepted by [`validate`] reaches.
pub fn dln_params(widths: &[usize]) -> u64 {
    widths.windows(2).fold(0u64, |acc, w| acc.saturating_add((w[0] as u64).saturating_mul(w[1] as u64)))
}

/// λ and m of a deep linear network with the given widths `[H_1, …, H_{M+1}]` whose true product
/// has rank `rank` (Aoyagi 2024, Theorem 1; method summary in the paper's DLN section).
///
/// The index set Σ is the unique prefix of the Δ's sorted ascending, of size ℓ+1 ≥ 2, with
/// 1. max_{Σ} Δ < min_{∉Σ} Δ,
/// 2. Σ_{Σ} Δ ≥ ℓ·max_{Σ} Δ,
/// 3. Σ_{Σ} Δ < ℓ·min_{∉Σ} Δ;
///
/// then, with S = Σ_{Σ} Δ and a = S − ℓ(⌈S/ℓ⌉ − 1) ∈ {1, …, ℓ},
///
/// λ = (−r² + r(H_1 + H_{M+1}))/2 + a(ℓ−a)/(4ℓ) − (ℓ(ℓ−1)/4)(S/ℓ)² + ½ Σ_{i<j∈Σ} Δ_i Δ_j,
/// m = a(ℓ−a) + 1.
///
/// Every term times 4ℓ is an integer, so λ is computed exactly as a multiple of 1/(4ℓ).
///
/// ```
/// let c = llc_theory::dln_learning_coefficient(&[5, 3, 5], 1).unwrap();
/// assert_eq!(c.lambda(), 8.0);
/// assert_eq!(c.multiplicity(), 1);
/// assert_eq!(c.params, 30);
/// ```
pub fn dln_learning_coefficient(widths: &[usize], rank: usize) -> Result<DlnCoefficient, TheoryError> {
    validate(widths, rank)?;
    let delta: Vec<i128> = widths.iter().map(|&h| (h - rank) as i128).collect();
    let (index_set, ell, sum) = find_index_set(&delta)
        .expect("Aoyagi's Theorem 1 guarantees a valid index set for every valid width list and rank");

    let ell_i = ell as i128;
    let r = rank as i128;
    let h_in = widths[0] as i128;
    let h_out = widths[widths.len() - 1] as i128;
    // a = S − ℓ(⌈S/ℓ⌉ − 1); S ≥ 0, so the ceiling is an integer division rounded up.
    let a = sum - ell_i * ((sum + ell_i - 1) / ell_i - 1);
    debug_assert!((1..=ell_i).contains(&a));
    let sum_sq: i128 = index_set.iter().map(|&i| delta[i] * delta[i]).sum();
    // Σ_{i<j} Δ_i Δ_j = (S² − Σ Δ_i²)/2, so 4ℓ · ½ Σ_{i<j} Δ_i Δ_j = ℓ(S² − Σ Δ_i²).
    let numer = 2 * ell_i * (r * (h_in + h_out) - r * r) + a * (ell_i - a) - (ell_i - 1) * sum * sum
        + ell_i * (sum * sum - sum_sq);
    let coefficient =
        LearningCoefficient { lambda: Rational::new(numer, 4 * ell_i), multiplicity: (a * (ell_i - a) + 1) as u64 };
    Ok(DlnCoefficient { coefficient, index_set, ell, params: dln_params(widths) })
}

/// Finds Σ as a prefix of the Δ's sorted ascending; returns (Σ as sorted positions, ℓ, S).
fn find_index_set(delta: &[i128]) -> Option<(Vec<usize>, usize, i128)> {
    let order = sorted_order(delta);
    let mut sum = delta[order[0]];
    for k in 2..=order.len() {
        sum += delta[order[k - 1]];
        if index_set_conditions_hold(delta, &order, k, sum) {
            let mut set = order[..k].to_vec();
            set.sort_unstable();
            return Some((set, k - 1, sum));
        }
    }
    None
}

/// Every prefix size k = ℓ+1 ≥ 2 that satisfies the three conditions of the theorem. The theorem
/// says there is exactly one; the tests check that this holds for our implementation.
pub fn all_valid_prefix_sizes(widths: &[usize], rank: usize) -> Result<Vec<usize>, TheoryError> {
    validate(widths, rank)?;
    let delta: Vec<i128> = widths.iter().map(|&h| (h - rank) as i128).collect();
    let order = sorted_order(&delta);
    let mut sum = delta[order[0]];
    let mut sizes = Vec::new();
    for k in 2..=order.len() {
        sum += delta[order[k - 1]];
        if index_set_conditions_hold(&delta, &order, k, sum) {
            sizes.push(k);
        }
    }
    Ok(sizes)
}

fn sorted_order(delta: &[i128]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..delta.len()).collect();
    order.sort_by_key(|&i| delta[i]);
    order
}

/// Conditions (1)–(3) of Theorem 1 for the prefix of size `k` (ℓ = k − 1) whose Δ's sum to `sum`.
fn index_set_conditions_hold(delta: &[i128], order: &[usize], k: usize, sum: i128) -> bool {
    let ell = (k - 1) as i128;
    let max_in = delta[order[k - 1]];
    let condition2 = sum >= ell * max_in;
    match order.get(k) {
        // Σ is everything: (1) and (3) are vacuous.
        None => condition2,
        Some(&next) => {
            let min_out = delta[next];
            max_in < min_out && condition2 && sum < ell * min_out
        }
    }
}

/// λ and m of a single weight matrix `input → output`: a regular model, so λ = d/2 and m = 1
/// whatever the true matrix is.
///
/// ```
/// let c = llc_theory::single_matrix(4, 3).unwrap();
/// assert_eq!(c.lambda_f64(), 6.0);
/// ```
pub fn single_matrix(input: usize, output: usize) -> Result<LearningCoefficient, TheoryError> {
    validate(&[input, output], 0)?;
    Ok(LearningCoefficient { lambda: Rational::new(input as i128 * output as i128, 2), multiplicity: 1 })
}

/// λ, m and the regime of two-layer reduced-rank regression `x ↦ B A x` with input width `m_in`
/// (M), hidden width `h` (H), output width `n_out` (N) and true rank `r` (Aoyagi & Watanabe 2005):
///
/// - Balanced (`N+r ≤ M+H`, `M+r ≤ N+H`, `H+r ≤ M+N`):
///   λ = [2(H+r)(M+N) − (M−N)² − (H+r)² + ((M+H+N+r) mod 2)]/8, m = 1 + ((M+H+N+r) mod 2);
/// - `M+H < N+r`: λ = (HM − Hr + Nr)/2; `N+H < M+r`: λ = (HN − Hr + Mr)/2; `M+N < H+r`: λ = MN/2;
///   m = 1 in these three.
///
/// ```
/// use llc_theory::{reduced_rank_regression, RrrCase};
/// let (c, case) = reduced_rank_regression(5, 3, 5, 0).unwrap();
/// assert_eq!((c.lambda_f64(), c.multiplicity, case), (6.5, 2, RrrCase::Balanced));
/// ```
pub fn reduced_rank_regression(
    m_in: usize,
    h: usize,
    n_out: usize,
    r: usize,
) -> Result<(LearningCoefficient, RrrCase), TheoryError> {
    validate(&[m_in, h, n_out], r)?;
    let (m, h, n, r) = (m_in as i128, h as i128, n_out as i128, r as i128);
    let (numer8, multiplicity, case) = if m + h < n + r {
        (4 * (h * m - h * r + n * r), 1, RrrCase::InputBound)
    } else if n + h < m + r {
        (4 * (h * n - h * r + m * r), 1, RrrCase::OutputBound)
    } else if m + n < h + r {
        (4 * m * n, 1, RrrCase::HiddenBound)
    } else {
        let parity = (m + h + n + r) % 2;
        (2 * (h + r) * (m + n) - (m - n) * (m - n) - (h + r) * (h + r) + parity, 1 + parity as u64, RrrCase::Balanced)
    };
    Ok((LearningCoefficient { lambda: Rational::new(numer8, 8), multiplicity }, case))
}
