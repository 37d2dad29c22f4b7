//! The stability and flat-region rules on hand-made cells.

use super::*;

/// A stable cell with λ̂ = `hat` and standard error `se`.
fn ok(hat: f64, se: f64) -> CellValue {
    CellValue { lambda_hat: hat, standard_error: se, stable: true, acceptance: 0.95 }
}

/// An unstable cell.
fn bad(hat: f64) -> CellValue {
    CellValue { lambda_hat: hat, standard_error: 0.0, stable: false, acceptance: 0.3 }
}

#[test]
fn stability_follows_the_documented_rule() {
    assert!(instabilities(Some(10.0), Some(0.9), 0).is_empty());
    assert!(instabilities(Some(10.0), Some(0.5), 0).is_empty(), "0.5 itself is enough");
    assert_eq!(instabilities(Some(10.0), Some(0.49), 0), [Instability::LowAcceptance]);
    assert_eq!(instabilities(Some(10.0), Some(0.9), 1), [Instability::Diverged]);
    assert_eq!(instabilities(Some(-1.0), Some(0.9), 0), [Instability::NotPositive]);
    assert_eq!(instabilities(Some(0.0), Some(0.9), 0), [Instability::NotPositive]);
    assert_eq!(instabilities(Some(f64::NAN), Some(0.9), 0), [Instability::NoEstimate]);
    assert_eq!(
        instabilities(None, None, 2),
        [Instability::Diverged, Instability::NoEstimate, Instability::NoAcceptance]
    );
}

#[test]
fn neighbours_agree_within_ten_percent_or_two_standard_errors() {
    // 10% of the mean (105) is 10.5: 100 and 110 agree, 100 and 112 do not.
    assert!(agree(&ok(100.0, 0.0), &ok(110.0, 0.0)));
    assert!(!agree(&ok(100.0, 0.0), &ok(112.0, 0.0)));
    // With standard errors 6 and 8, 2·√(36 + 64) = 20 > 10% of the mean: 100 and 119 agree.
    assert!(agree(&ok(100.0, 6.0), &ok(119.0, 8.0)));
    assert!(!agree(&ok(100.0, 6.0), &ok(121.0, 8.0)));
    // An unstable cell agrees with nothing, even with an equal value.
    assert!(!agree(&ok(100.0, 1.0), &bad(100.0)));
    assert!(!agree(&ok(f64::NAN, 1.0), &ok(100.0, 1.0)));
}

#[test]
fn the_flat_region_is_the_longest_run_of_agreeing_stable_cells() {
    // Too small ε biased low (60, 80), a plateau at ~100, then drift (140) and divergence.
    let row =
        [ok(60.0, 1.0), ok(80.0, 1.0), ok(97.0, 1.0), ok(100.0, 1.0), ok(103.0, 1.0), ok(140.0, 1.0), bad(f64::NAN)];
    assert_eq!(flat_region(&row), Some(2..5));
    assert_eq!(recommended_column(&row), Some(4), "the largest ε of the plateau");

    // No two neighbours agree: no flat region, nothing recommended.
    let row = [ok(50.0, 1.0), ok(70.0, 1.0), ok(95.0, 1.0), ok(130.0, 1.0)];
    assert_eq!(flat_region(&row), None);
    assert_eq!(recommended_column(&row), None);
    // One cell is not a plateau, nor is an empty row.
    assert_eq!(flat_region(&[ok(100.0, 1.0)]), None);
    assert_eq!(flat_region(&[]), None);

    // An unstable cell breaks a run even when its value would agree: two runs of 2 remain, and the
    // one at larger ε wins the tie.
    let row = [ok(100.0, 1.0), ok(101.0, 1.0), bad(100.0), ok(100.0, 1.0), ok(99.0, 1.0)];
    assert_eq!(flat_region(&row), Some(3..5));
    assert_eq!(recommended_column(&row), Some(4));
    // A longer run at smaller ε beats a shorter one at larger ε.
    let row = [ok(100.0, 1.0), ok(101.0, 1.0), ok(102.0, 1.0), bad(100.0), ok(100.0, 1.0), ok(99.0, 1.0)];
    assert_eq!(flat_region(&row), Some(0..3));
    // A drift: every cell within 10% of its neighbour, but none within 10% of the cell two steps
    // away (106 − 90 = 16 > 9.8, …). Chaining neighbours would call the whole row flat; every
    // stretch whose cells all agree is two cells long, and the one at the largest ε wins.
    let row = [ok(90.0, 0.5), ok(98.0, 0.5), ok(106.0, 0.5), ok(115.0, 0.5), ok(124.0, 0.5)];
    assert!(row.windows(2).all(|w| agree(&w[0], &w[1])), "each neighbour agrees");
    assert_eq!(flat_region(&row), Some(3..5));
    // Every cell unstable: nothing.
    assert_eq!(flat_region(&[bad(100.0), bad(100.0), bad(100.0)]), None);
}

#[test]
fn the_recommendation_is_the_largest_plateau_step_that_reaches_the_target_acceptance() {
    let with = |cell: CellValue, acceptance: f64| CellValue { acceptance, ..cell };
    // A plateau over columns 1..5 whose acceptance falls with ε: 0.99, 0.97, 0.92, 0.85.
    let row = [
        with(ok(80.0, 1.0), 0.999),
        with(ok(98.0, 1.0), 0.99),
        with(ok(100.0, 1.0), 0.97),
        with(ok(101.0, 1.0), 0.92),
        with(ok(104.0, 1.0), 0.85),
    ];
    assert_eq!(flat_region(&row), Some(1..5));
    assert_eq!(recommended_column(&row), Some(3), "0.92 ≥ 0.9 at column 3; column 4 accepts 0.85");
    // No plateau cell reaches 0.9: the plateau's smallest ε.
    let low: Vec<CellValue> = row.iter().map(|c| with(*c, 0.8)).collect();
    assert_eq!(recommended_column(&low), Some(1));
}

#[test]
fn the_reference_row_is_the_nearest_value() {
    // nβ by ratio: 8000 is nearer to 10,000 than 13,000 is (ratios 1.25 and 1.3).
    assert_eq!(reference_row(&[4000.0, 8000.0, 13000.0], 10000.0, true), 1);
    assert_eq!(reference_row(&[5000.0, 10000.0, 20000.0], 10000.0, true), 1);
    // γ by difference, 0 allowed.
    assert_eq!(reference_row(&[0.0, 10.0], 1.0, false), 0);
    assert_eq!(reference_row(&[0.0, 1.0, 10.0], 1.0, false), 1);
}
