//! The paper's first claim at test scale: on random deep linear networks with d ≤ 10K, SGLD's λ̂ at
//! the teacher matches Aoyagi's exact λ.
//!
//! λ̂(w*) estimates the *local* learning coefficient at the teacher, and Aoyagi's λ is the global one
//! (its minimum over all true parameters), so the two are comparable only at teachers where they
//! coincide (docs/dln-teachers.md). Two families qualify, and the test uses both:
//! 1. every layer full rank: the product has the rank of the narrowest width;
//! 2. two weight matrices in Aoyagi & Watanabe's input-bound regime (M + H < N + r, H ≤ N) with the
//!    first layer cut to rank r (r = 0 included) and the second full rank; there the local
//!    coefficient is (HM − Hr + Nr)/2, which the test checks equals Aoyagi's λ before sampling.

use llc_estimators::EstimatorConfig;
use llc_models::{DataForm, DlnTeacher, RegressionData, SyntheticInputs};

mod common;

use common::{B, ModelData, dln_loss, estimate};

/// One network of the test: widths and, for family 2, the rank of the first layer.
struct Case {
    widths: &'static [usize],
    first_layer_rank: Option<usize>,
}

const CASES: &[Case] = &[
    // Family 1: full-rank teachers, 2 to 4 weight matrices.
    Case { widths: &[10, 10, 10], first_layer_rank: None },
    Case { widths: &[20, 30, 25, 10], first_layer_rank: None },
    Case { widths: &[30, 30, 30, 30], first_layer_rank: None },
    Case { widths: &[40, 20, 30], first_layer_rank: None },
    Case { widths: &[15, 40, 40, 15], first_layer_rank: None },
    Case { widths: &[60, 50, 40], first_layer_rank: None },
    Case { widths: &[12, 50, 80, 8], first_layer_rank: None },
    Case { widths: &[25, 25, 25, 25, 25], first_layer_rank: None },
    // Family 2: rank-0 and rank-deficient teachers in the input-bound regime.
    Case { widths: &[5, 8, 30], first_layer_rank: Some(0) },
    Case { widths: &[8, 10, 50], first_layer_rank: Some(0) },
    Case { widths: &[6, 8, 30], first_layer_rank: Some(2) },
    Case { widths: &[10, 12, 60], first_layer_rank: Some(4) },
];

#[test]
fn lambda_hat_matches_aoyagi_on_random_dlns() {
    let device = Default::default();
    let n = 100_000;
    let mut rows = Vec::new();
    for (case_idx, case) in CASES.iter().enumerate() {
        let seed = 1000 + case_idx as u64;
        let teacher = match case.first_layer_rank {
            None => DlnTeacher::full_rank(case.widths, seed).unwrap(),
            Some(r) => DlnTeacher::with_rank(case.widths, r, seed).unwrap(),
        };
        let rank = teacher.true_rank();
        let lambda = llc_theory::dln_learning_coefficient(case.widths, rank).unwrap().lambda();
        if case.first_layer_rank.is_some() {
            let [m, h, n_out] = case.widths else { panic!("family 2 has two weight matrices") };
            let (m, h, n_out, r) = (*m as f64, *h as f64, *n_out as f64, rank as f64);
            assert!(m + h < n_out + r && h <= n_out, "{:?} is not input-bound", case.widths);
            assert_eq!(lambda, (h * m - h * r + n_out * r) / 2.0, "local and global λ differ for {:?}", case.widths);
        }
        let inputs = SyntheticInputs::new(seed + 1, n, case.widths[0]).unwrap();
        let data = ModelData(RegressionData::dln(&teacher, inputs, DataForm::Auto, &device).unwrap());
        let model = teacher.to_module::<B>(&device);
        // The library's defaults (γ = 1, batch 500, nβ = n/ln n, ε = 2.5e-7, 12,000 steps with a
        // 2,400-step burn-in), with 2 chains instead of 4 to halve the test's time.
        let e = estimate(&model, &data, dln_loss, EstimatorConfig::default().with_chains(2).with_seed(seed));
        assert!(e.diagnostics.diverged.is_empty(), "{:?}: {:?}", case.widths, e.diagnostics.diverged);
        let rel = (e.lambda_hat - lambda) / lambda;
        let acceptance = e.diagnostics.mean_acceptance.unwrap_or(f64::NAN);
        rows.push((case.widths, rank, teacher.num_params(), lambda, e.lambda_hat, e.lambda_hat_std, rel, acceptance));
    }
    println!("{:<22} {:>4} {:>6} {:>9} {:>16} {:>8} {:>11}", "widths", "r", "d", "λ", "λ̂ ± sd", "error", "acceptance");
    for (w, r, d, l, hat, sd, rel, acceptance) in &rows {
        println!(
            "{:<22} {r:>4} {d:>6} {l:>9.1} {:>16} {:>+7.1}% {acceptance:>11.3}",
            format!("{w:?}"),
            format!("{hat:.1} ± {sd:.1}"),
            100.0 * rel
        );
    }
    let mut errors: Vec<f64> = rows.iter().map(|row| row.6.abs()).collect();
    errors.sort_by(f64::total_cmp);
    let median = (errors[errors.len() / 2 - 1] + errors[errors.len() / 2]) / 2.0;
    let worst = errors[errors.len() - 1];
    println!("median |error| {:.1}%, worst {:.1}%", 100.0 * median, 100.0 * worst);
    // The bar: a median error within 5% and none beyond 15%. Measured with these seeds: median
    // 1.6%, worst 7.9% ([12,50,80,8], whose MALA acceptance of 0.86 shows the step is on the large
    // side for it); across seeds the chains' spread is 0.1–6% of λ, so the bar leaves room for
    // noise without hiding a real bias.
    assert!(median <= 0.05, "median relative error {median}");
    assert!(worst <= 0.15, "worst relative error {worst}");
}
