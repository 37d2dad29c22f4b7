//! `llc estimate … --device cuda` on a real GPU: these tests exist only with the `cuda` feature and
//! need an NVIDIA GPU (`cargo xtask gpu-check` runs them); without one they fail with the CLI's
//! one-line "no usable CUDA device" error.
#![cfg(feature = "cuda")]

mod common;

use common::{SMALL, json, llc};

#[test]
fn a_dln_estimate_on_the_gpu_draws_noise_there_and_matches_lambda() {
    let value = json(&llc(&[SMALL, &["--device", "cuda"]].concat()));
    assert_eq!(value["device"], "cuda");
    assert_eq!(value["config"]["noise"], "device");
    assert_eq!(value["lambda"], 20.0);
    // The GPU's noise is another stream than the CPU's, so only the tolerance of the CPU test holds.
    let hat = value["lambda_hat"].as_f64().unwrap();
    assert!((hat / 20.0 - 1.0).abs() < 0.10, "λ̂ = {hat}");
    assert_eq!(value["diagnostics"]["diverged_chains"].as_array().unwrap().len(), 0);
}

#[test]
fn an_mlp_estimate_runs_on_the_gpu() {
    let value = json(&llc(&[
        "estimate", "mlp", "--widths", "4,6,3", "--steps", "600", "--chains", "1", "--n", "2000", "--json", "--device",
        "cuda",
    ]));
    assert_eq!(value["device"], "cuda");
    let hat = value["lambda_hat"].as_f64().unwrap();
    assert!(hat.is_finite() && hat > 0.0 && hat <= value["regular_lambda"].as_f64().unwrap() * 1.5, "λ̂ = {hat}");
}
