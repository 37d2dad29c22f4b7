//! Checks of the closed-form learning coefficients: the published worked values, the error cases,
//! the general theorem against its special cases, and properties every λ must have.

use llc_theory::{
    Rational, RrrCase, TheoryError, all_valid_prefix_sizes, dln_learning_coefficient, dln_params,
    reduced_rank_regression, single_matrix,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// Property tests run from a fixed seed so that CI is reproducible; 2,000 cases each take
/// milliseconds in release mode.
fn config() -> ProptestConfig {
    ProptestConfig { cases: 2_000, rng_seed: RngSeed::Fixed(0x11c_2024), ..ProptestConfig::default() }
}

/// One worked value: widths, rank, expected λ (exact, as numerator over denominator) and m.
fn check(widths: &[usize], rank: usize, lambda: (i128, i128), multiplicity: u64) {
    let c = dln_learning_coefficient(widths, rank).unwrap();
    assert_eq!(c.coefficient.lambda, Rational::new(lambda.0, lambda.1), "λ of {widths:?}, r = {rank}");
    assert_eq!(c.multiplicity(), multiplicity, "m of {widths:?}, r = {rank}");
}

#[test]
fn lambda_and_multiplicity_match_worked_values() {
    check(&[5, 3, 5], 1, (8, 1), 1);
    check(&[5, 3, 5], 0, (13, 2), 2);
    check(&[10, 10, 10], 0, (75, 2), 1);
    check(&[10, 10, 10, 10], 2, (79, 2), 3);
    // The paper authors' own example, a 6-matrix network of about 510K weights.
    check(&[455, 395, 125, 350, 277, 261, 297], 28, (41093, 2), 3);
}

#[test]
fn worked_values_have_the_expected_index_set_and_parameter_count() {
    let c = dln_learning_coefficient(&[10, 10, 10, 10], 2).unwrap();
    // All Δ are equal (8), so no proper prefix can be Σ without splitting a tie.
    assert_eq!(c.index_set, vec![0, 1, 2, 3]);
    assert_eq!(c.ell, 3);
    assert_eq!(c.params, 300);
    let big = dln_learning_coefficient(&[455, 395, 125, 350, 277, 261, 297], 28).unwrap();
    assert_eq!(big.params, dln_params(&[455, 395, 125, 350, 277, 261, 297]));
    assert_eq!(big.lambda(), 20546.5);
}

#[test]
fn invalid_input_is_a_typed_error() {
    assert_eq!(dln_learning_coefficient(&[], 0), Err(TheoryError::NoWidths));
    assert_eq!(dln_learning_coefficient(&[7], 0), Err(TheoryError::TooFewWidths { got: 1 }));
    assert_eq!(dln_learning_coefficient(&[5, 0, 5], 0), Err(TheoryError::ZeroWidth { index: 1 }));
    assert_eq!(dln_learning_coefficient(&[5, 3, 5], 4), Err(TheoryError::RankTooLarge { rank: 4, narrowest: 3 }));
    assert!(matches!(dln_learning_coefficient(&[5, 1 << 25], 0), Err(TheoryError::TooLarge { .. })));
    assert!(matches!(reduced_rank_regression(2, 3, 4, 3), Err(TheoryError::RankTooLarge { .. })));
    assert!(matches!(single_matrix(0, 3), Err(TheoryError::ZeroWidth { index: 0 })));
    // The messages name the problem.
    assert!(TheoryError::RankTooLarge { rank: 4, narrowest: 3 }.to_string().contains("rank 4"));
    assert!(TheoryError::ZeroWidth { index: 1 }.to_string().contains("width number 2"));
}

#[test]
fn full_rank_is_the_regular_count_of_a_rank_r_matrix() {
    // When every Δ_s but the input's and output's is 0 the product is an unconstrained matrix of
    // rank r = hidden width: λ = r(H_1 + H_{M+1} − r)/2, the dimension of rank-r matrices over 2.
    for (widths, r) in [(vec![5, 3, 5], 3), (vec![7, 2, 2, 9], 2), (vec![4, 4], 4)] {
        let c = dln_learning_coefficient(&widths, r).unwrap();
        let (h_in, h_out) = (widths[0] as f64, *widths.last().unwrap() as f64);
        let r = r as f64;
        assert_eq!(c.lambda(), r * (h_in + h_out - r) / 2.0, "{widths:?}");
    }
}

/// The general theorem must reproduce both special cases: one matrix (λ = d/2 for every rank) and
/// two matrices (reduced-rank regression) on every 3-width network with widths ≤ 12 and every
/// valid rank. This enumerates all 12³ shapes, about 7,000 cases, exhaustively.
#[test]
fn general_theorem_equals_two_layer_formulas_exhaustively() {
    let mut cases = 0;
    let mut seen = [false; 4];
    for m in 1..=12 {
        for h in 1..=12 {
            for n in 1..=12 {
                for r in 0..=m.min(h).min(n) {
                    let general = dln_learning_coefficient(&[m, h, n], r).unwrap();
                    let (rrr, case) = reduced_rank_regression(m, h, n, r).unwrap();
                    assert_eq!(general.coefficient, rrr, "[{m},{h},{n}] r = {r} ({case:?})");
                    seen[case as usize] = true;
                    cases += 1;
                }
            }
        }
        for n in 1..=12 {
            for r in 0..=m.min(n) {
                let general = dln_learning_coefficient(&[m, n], r).unwrap();
                assert_eq!(general.coefficient, single_matrix(m, n).unwrap(), "[{m},{n}] r = {r}");
            }
        }
    }
    assert!(cases > 6_000, "enumerated {cases} cases");
    assert_eq!(seen, [true; 4], "every regime of the two-layer formula was exercised: {seen:?}");
    let _ = RrrCase::Balanced;
}

fn widths_and_rank(max_len: usize, max_width: usize) -> impl Strategy<Value = (Vec<usize>, usize)> {
    prop::collection::vec(1..=max_width, 2..=max_len).prop_flat_map(|widths| {
        let narrowest = *widths.iter().min().unwrap();
        (Just(widths), 0..=narrowest)
    })
}

proptest! {
    #![proptest_config(config())]

    /// 0 ≤ λ ≤ d/2: a learning coefficient never exceeds the regular value.
    #[test]
    fn lambda_is_between_zero_and_half_the_parameter_count((widths, rank) in widths_and_rank(12, 60)) {
        let c = dln_learning_coefficient(&widths, rank).unwrap();
        prop_assert!(c.coefficient.lambda >= Rational::from_integer(0));
        prop_assert!(c.coefficient.lambda <= Rational::new(c.params as i128, 2), "λ = {} > d/2 = {}/2", c.coefficient.lambda, c.params);
        prop_assert!(c.multiplicity() >= 1);
        prop_assert!(c.index_set.len() == c.ell + 1 && c.ell >= 1);
    }

    /// Reversing the network (transposing every matrix) leaves λ and m unchanged.
    #[test]
    fn reversing_the_widths_changes_nothing((widths, rank) in widths_and_rank(12, 60)) {
        let forward = dln_learning_coefficient(&widths, rank).unwrap();
        let reversed: Vec<usize> = widths.iter().rev().copied().collect();
        let backward = dln_learning_coefficient(&reversed, rank).unwrap();
        prop_assert_eq!(forward.coefficient, backward.coefficient);
    }

    /// The theorem's index set exists and is unique.
    #[test]
    fn exactly_one_index_set_is_valid((widths, rank) in widths_and_rank(16, 40)) {
        let sizes = all_valid_prefix_sizes(&widths, rank).unwrap();
        prop_assert_eq!(sizes.len(), 1, "valid prefix sizes {:?}", sizes);
    }

    /// λ is a multiple of 1/(4ℓ), as the theorem's form says.
    #[test]
    fn lambda_is_a_multiple_of_one_over_four_ell((widths, rank) in widths_and_rank(12, 60)) {
        let c = dln_learning_coefficient(&widths, rank).unwrap();
        prop_assert_eq!((4 * c.ell as i128) % c.coefficient.lambda.denom(), 0);
    }

    /// λ grows with the true rank: a more complex truth costs more (checked on larger shapes than
    /// the exhaustive test below).
    #[test]
    fn lambda_grows_with_the_rank((widths, rank) in widths_and_rank(8, 30)) {
        prop_assume!(rank >= 1);
        let lower = dln_learning_coefficient(&widths, rank - 1).unwrap();
        let higher = dln_learning_coefficient(&widths, rank).unwrap();
        prop_assert!(lower.coefficient.lambda <= higher.coefficient.lambda,
            "λ(r={}) = {} > λ(r={}) = {}", rank - 1, lower.coefficient.lambda, rank, higher.coefficient.lambda);
    }
}

/// Every network with 2 to 5 widths, each at most 7, and every rank: the index set is unique and λ
/// does not decrease as the rank grows (about 100,000 cases, under a second in release mode).
#[test]
fn every_small_network_has_one_index_set_and_lambda_grows_with_the_rank() {
    let mut cases = 0;
    let mut stack: Vec<Vec<usize>> = (1..=7).map(|w| vec![w]).collect();
    while let Some(widths) = stack.pop() {
        if widths.len() >= 2 {
            let narrowest = *widths.iter().min().unwrap();
            let mut previous = Rational::from_integer(0);
            for rank in 0..=narrowest {
                assert_eq!(all_valid_prefix_sizes(&widths, rank).unwrap().len(), 1, "{widths:?} r = {rank}");
                let lambda = dln_learning_coefficient(&widths, rank).unwrap().coefficient.lambda;
                assert!(previous <= lambda, "{widths:?}: λ fell from {previous} to {lambda} at r = {rank}");
                previous = lambda;
                cases += 1;
            }
        }
        if widths.len() < 5 {
            stack.extend((1..=7).map(|w| [widths.as_slice(), &[w]].concat()));
        }
    }
    assert!(cases > 50_000, "enumerated {cases} cases");
}
