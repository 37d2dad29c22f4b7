//! The decisions of `llc calibrate`, apart from any sampling: when a cell of the (ε, row) grid is
//! stable, when two neighbouring cells agree, and which run of cells is a row's flat region.
//!
//! Pure functions of the cells' numbers, tested on hand-made cells (`plateau/tests.rs`).
//! docs/calibration.md explains the thresholds.

use std::ops::Range;

/// The smallest mean MALA acceptance of a stable cell. A healthy SGLD run sits near 0.9 (the
/// authors' observation); below one half, an exact sampler would reject most of the proposed moves,
/// so the discretization error of the step is of the order of the move itself and λ̂ drifts.
pub(crate) const MIN_ACCEPTANCE: f64 = 0.5;

/// The acceptance a recommended cell should reach: the target of `--epsilon auto`. On the paper's
/// 12,50,80,8 network an acceptance of 0.86 still overshot λ by 7.7% (docs/estimator-defaults.md),
/// while the plateau's tolerance is 10%, so the recommendation prefers cells at or above it.
pub(crate) const RECOMMENDED_ACCEPTANCE: f64 = 0.9;

/// Two neighbouring cells agree when their λ̂ differ by at most this fraction of their mean…
pub(crate) const RELATIVE_TOLERANCE: f64 = 0.10;

/// … or by at most this many combined standard errors, whichever is larger.
pub(crate) const STANDARD_ERRORS: f64 = 2.0;

/// Why a cell is not stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Instability {
    /// At least one chain's loss became NaN or infinite.
    Diverged,
    /// No λ̂ (every chain diverged) or a non-finite one.
    NoEstimate,
    /// λ̂ ≤ 0: the chains sat below the loss of w*, which a sampler localized at a minimum does
    /// not do once it mixes.
    NotPositive,
    /// The mean MALA acceptance is below [`MIN_ACCEPTANCE`].
    LowAcceptance,
    /// No acceptance was measured (too few steps after burn-in for one measurement).
    NoAcceptance,
}

impl Instability {
    /// A short description, for the table and the JSON.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Diverged => "a chain diverged",
            Self::NoEstimate => "no finite estimate",
            Self::NotPositive => "estimate not positive",
            Self::LowAcceptance => "acceptance below 0.5",
            Self::NoAcceptance => "acceptance not measured",
        }
    }
}

/// The reasons a cell is unstable (empty: stable). A cell is stable when no chain diverged, λ̂ is
/// finite and positive, and the mean MALA acceptance is at least [`MIN_ACCEPTANCE`].
pub(crate) fn instabilities(lambda_hat: Option<f64>, acceptance: Option<f64>, diverged: usize) -> Vec<Instability> {
    let mut reasons = Vec::new();
    if diverged > 0 {
        reasons.push(Instability::Diverged);
    }
    match lambda_hat {
        Some(hat) if hat.is_finite() && hat > 0.0 => {}
        Some(hat) if hat.is_finite() => reasons.push(Instability::NotPositive),
        _ => reasons.push(Instability::NoEstimate),
    }
    match acceptance {
        Some(a) if a >= MIN_ACCEPTANCE => {}
        Some(_) => reasons.push(Instability::LowAcceptance),
        None => reasons.push(Instability::NoAcceptance),
    }
    reasons
}

/// What the flat-region search needs of one cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct CellValue {
    /// λ̂, the mean over the chains that finished.
    pub(crate) lambda_hat: f64,
    /// The standard error of that mean: the sd across chains over √(chains that finished).
    pub(crate) standard_error: f64,
    /// Whether the cell is stable ([`instabilities`] is empty).
    pub(crate) stable: bool,
    /// The mean MALA acceptance (NaN when not measured).
    pub(crate) acceptance: f64,
}

/// Whether two neighbouring cells agree: both stable, and
/// |λ̂_a − λ̂_b| ≤ max(10% of (λ̂_a + λ̂_b)/2, 2·√(se_a² + se_b²)).
pub(crate) fn agree(a: &CellValue, b: &CellValue) -> bool {
    if !(a.stable && b.stable && a.lambda_hat.is_finite() && b.lambda_hat.is_finite()) {
        return false;
    }
    let se = |c: &CellValue| if c.standard_error.is_finite() { c.standard_error } else { 0.0 };
    let relative = RELATIVE_TOLERANCE * (a.lambda_hat.abs() + b.lambda_hat.abs()) / 2.0;
    let statistical = STANDARD_ERRORS * (se(a).powi(2) + se(b).powi(2)).sqrt();
    (a.lambda_hat - b.lambda_hat).abs() <= relative.max(statistical)
}

/// The flat region of one row, whose cells are in increasing ε: the longest run of at least two
/// consecutive cells in which every two cells agree ([`agree`], which needs both stable). Each cell
/// then agrees with its neighbour, and, beyond that, the ends of the run agree with each other, so
/// that a slow drift of λ̂ with ε (each step within the tolerance, the whole run not) is not taken
/// for a plateau. Of two runs of the same length the one at larger ε wins (it mixes more within the
/// step budget). `None` when no two neighbouring cells agree.
pub(crate) fn flat_region(row: &[CellValue]) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    for start in 0..row.len() {
        // Sub-runs of a flat run are flat, so the longest run from `start` grows one cell at a time.
        let mut end = start + 1;
        while end < row.len() && row[start..end].iter().all(|cell| agree(cell, &row[end])) {
            end += 1;
        }
        if end - start >= 2 && best.as_ref().is_none_or(|b| end - start >= b.len()) {
            best = Some(start..end);
        }
    }
    best
}

/// The recommended column of a row: the largest ε inside its flat region whose acceptance reaches
/// [`RECOMMENDED_ACCEPTANCE`] (the fastest mixing step that is on the plateau and accepted as often
/// as `--epsilon auto` aims for); if no cell of the plateau reaches it, the plateau's smallest ε
/// (its most accurate step). `None` without a flat region.
pub(crate) fn recommended_column(row: &[CellValue]) -> Option<usize> {
    let region = flat_region(row)?;
    region.clone().rev().find(|&c| row[c].acceptance >= RECOMMENDED_ACCEPTANCE).or(Some(region.start))
}

/// The row the recommendation is read from: the one whose value is nearest to `target` (by ratio
/// when `by_ratio`, for nβ; by difference otherwise, for γ, which may be 0). The first of equals wins.
pub(crate) fn reference_row(values: &[f64], target: f64, by_ratio: bool) -> usize {
    let distance = |v: f64| if by_ratio { (v / target).ln().abs() } else { (v - target).abs() };
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if distance(v) < distance(values[best]) {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests;
