//! End-to-end tests of `llc estimate`: a small real run with the documented JSON keys, the same seed
//! giving the same λ̂, and bad input refused with one line and status 2 before any sampling.

mod common;

use common::{SMALL, assert_refused, json, llc};

#[test]
fn a_small_estimate_reports_every_documented_key() {
    let value = json(&llc(SMALL));
    for key in [
        "lambda_hat",
        "lambda_hat_std",
        "per_chain",
        "lambda",
        "rank",
        "params",
        "seconds",
        "steps_per_second",
        "diagnostics",
        "relative_error",
        "config",
    ] {
        assert!(value.get(key).is_some(), "missing key {key}: {value}");
    }
    for key in ["acceptance", "r_hat", "ess", "diverged_chains"] {
        assert!(value["diagnostics"].get(key).is_some(), "missing diagnostics.{key}");
    }
    assert_eq!(value["lambda"], 20.0);
    assert_eq!(value["rank"], 0);
    assert_eq!(value["params"], 280);
    assert_eq!(value["per_chain"].as_array().unwrap().len(), 2);
    // A short run: 10% is loose enough for 2 × 2,400 draws (chain spread ~2% of λ here).
    let hat = value["lambda_hat"].as_f64().unwrap();
    assert!((hat / 20.0 - 1.0).abs() < 0.10, "λ̂ = {hat}");
    assert_eq!(value["diagnostics"]["diverged_chains"].as_array().unwrap().len(), 0);
}

#[test]
fn the_same_seed_gives_the_same_lambda_hat() {
    let a = json(&llc(SMALL));
    let b = json(&llc(SMALL));
    assert_eq!(a["lambda_hat"], b["lambda_hat"]);
    assert_eq!(a["per_chain"], b["per_chain"]);
}

/// `--stack 2` steps the two chains as one stacked network: the same chains up to f32 rounding, so
/// each chain's λ̂ agrees to 1e-4 relative (far below the spread between chains).
#[test]
fn stacked_chains_give_the_same_estimate() {
    let separate = json(&llc(SMALL));
    let stacked = json(&llc(&[SMALL, &["--stack", "2"]].concat()));
    let chains = |v: &serde_json::Value| -> Vec<f64> {
        v["per_chain"].as_array().unwrap().iter().map(|c| c["lambda_hat"].as_f64().unwrap()).collect()
    };
    for (a, b) in chains(&separate).iter().zip(chains(&stacked)) {
        assert!((a - b).abs() <= 1e-4 * a.abs(), "{a} vs {b}");
    }
    // Chains that do not split into stacks, or MALA, are refused with one line.
    for (extra, fragment) in [(&["--stack", "3"][..], "groups of 3"), (&["--stack", "2", "--sampler", "mala"], "MALA")]
    {
        assert_refused(&llc(&[SMALL, extra].concat()), fragment, &format!("{extra:?}"));
    }
}

/// `--draw-loss` reaches the estimator (the JSON config says which loss the draws recorded) and
/// defaults to the minibatch loss; the full-data loss gives a λ̂ of the same size.
#[test]
fn the_draw_loss_flag_reaches_the_config() {
    let base = ["estimate", "dln", "--widths", "5,8,30", "--rank", "0", "--steps", "1000", "--chains", "1"];
    let tail = ["--n", "2000", "--json", "--seed", "3"];
    let minibatch = json(&llc(&[&base[..], &tail[..]].concat()));
    assert_eq!(minibatch["config"]["draw_loss"], "minibatch");
    let full = json(&llc(&[&base[..], &["--draw-loss", "full"], &tail[..]].concat()));
    assert_eq!(full["config"]["draw_loss"], "full");
    let (a, b) = (minibatch["lambda_hat"].as_f64().unwrap(), full["lambda_hat"].as_f64().unwrap());
    assert!(b.is_finite() && b > 0.0 && a != b, "minibatch λ̂ = {a}, full λ̂ = {b}");
}

/// The table names λ̂, Aoyagi's λ, the automatic step size (the default) and its predicted bias.
#[test]
fn the_human_report_names_both_lambdas() {
    let out = llc(&["estimate", "dln", "--widths", "5,8,30", "--rank", "0", "--steps", "1000", "--chains", "1"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("λ̂ = ") && text.contains("λ = 20 (Aoyagi)"), "{text}");
    assert!(text.contains("ε = auto: ") && text.contains("step bias"), "{text}");
    assert!(text.contains("with a predicted bias of at most 2%"), "{text}");
    // MALA adapts towards its own acceptance rate, and has no step-size bias to cap or predict.
    let out = llc(&["estimate", "mlp", "--widths", "3,4,2", "--n", "200", "--sampler", "mala", "--steps", "1000"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ε = auto: ") && text.contains("towards an acceptance rate of 0.574"), "{text}");
    assert!(!text.contains("bias"), "{text}");
}

/// Without --epsilon, every sampler adapts ε (each chain reports its own): SGLD towards a MALA
/// acceptance of 0.9 under the bias cap, MALA towards its own acceptance rate of 0.574 with no cap;
/// a fixed --epsilon turns the adaptation off.
#[test]
fn the_step_size_defaults_to_auto_for_every_sampler() {
    let base = ["estimate", "dln", "--widths", "5,8,30", "--rank", "0", "--steps", "1000", "--chains", "2"];
    let tail = ["--n", "2000", "--json", "--seed", "5"];
    let auto = json(&llc(&[&base[..], &tail[..]].concat()));
    assert!(auto["config"]["epsilon_adaptation"].is_object(), "{}", auto["config"]);
    let chosen: Vec<f64> =
        auto["per_chain"].as_array().unwrap().iter().map(|c| c["epsilon"].as_f64().unwrap()).collect();
    assert!(chosen.iter().all(|&e| e > 0.0 && e != 2.5e-7) && chosen[0] != chosen[1], "{chosen:?}");
    assert_eq!(auto["config"]["epsilon_adaptation"]["target_acceptance"], 0.9);
    let mala = json(&llc(&[&base[..], &["--sampler", "mala"], &tail[..]].concat()));
    assert_eq!(mala["config"]["epsilon_adaptation"]["target_acceptance"], 0.574, "{}", mala["config"]);
    let chosen: Vec<f64> =
        mala["per_chain"].as_array().unwrap().iter().map(|c| c["epsilon"].as_f64().unwrap()).collect();
    assert!(chosen.iter().all(|&e| e > 0.0 && e != 2.5e-7), "{chosen:?}");
    let acceptance = mala["diagnostics"]["acceptance"].as_f64().unwrap();
    assert!((0.3..0.9).contains(&acceptance), "MALA's acceptance {acceptance} after adapting towards 0.574");
    let fixed = json(&llc(&[&base[..], &["--epsilon", "1e-6"], &tail[..]].concat()));
    assert!(fixed["config"]["epsilon_adaptation"].is_null());
    assert!(fixed["per_chain"].as_array().unwrap().iter().all(|c| c["epsilon"] == 1e-6));
}

#[test]
fn an_mlp_estimate_runs_and_reports_the_bound() {
    let value = json(&llc(&[
        "estimate", "mlp", "--widths", "3,4,2", "--steps", "1000", "--chains", "1", "--n", "1000", "--json",
    ]));
    assert_eq!(value["params"], 3 * 4 + 4 + 4 * 2 + 2);
    assert_eq!(value["regular_lambda"], 13.0);
    assert!(value["lambda"].is_null());
    assert!(value["lambda_hat"].as_f64().unwrap().is_finite());
}

/// Each bad invocation and a fragment its one-line message must contain. All are refused before
/// any sampling starts.
const BAD: &[(&[&str], &str)] = &[
    (&["estimate", "dln", "--widths", "5,x,5"], "'x'"),
    (&["estimate", "dln", "--widths", "5,0,5"], "width number 2 is 0"),
    (&["estimate", "dln", "--widths", "5,3,5", "--rank", "4"], "rank 4 exceeds"),
    (&["estimate", "dln", "--widths", "5,3,5", "--epsilon", "0"], "--epsilon"),
    (&["estimate", "dln", "--widths", "5,3,5", "--epsilon", "-1e-5"], "--epsilon"),
    (&["estimate", "dln", "--widths", "5,3,5", "--epsilon", "NaN"], "--epsilon"),
    (&["estimate", "dln", "--widths", "5,3,5", "--gamma", "inf"], "--gamma"),
    (&["estimate", "dln", "--widths", "5,3,5", "--n", "100", "--batch", "500"], "batch size"),
    (&["estimate", "dln", "--widths", "5,3,5", "--chains", "0"], "--chains"),
    (&["estimate", "dln", "--widths", "5,3,5", "--steps", "100", "--burn-in", "100"], "burn-in"),
    (&["estimate", "dln", "--widths", "5,3,5", "--sampler", "hmc"], "hmc"),
    (&["estimate", "dln", "--widths", "5,3,5", "--draw-loss", "average"], "average"),
    (&["estimate", "dln", "--widths", "5,3,5", "--n", "1.5"], "--n"),
    (&["estimate", "dln", "--widths", "5,3,5", "--rank", "1", "--teacher", "paper-random"], "--teacher"),
    (&["estimate", "mlp", "--widths", "7"], "at least 2 widths"),
    (&["estimate", "dln", "--widths", "5,3,5", "--device", "tpu"], "tpu"),
];

#[test]
fn bad_estimate_input_gets_one_line_and_status_2() {
    for (args, fragment) in BAD {
        assert_refused(&llc(args), fragment, &format!("llc {args:?}"));
    }
}

/// Without the `cuda` feature, `--device cuda` is refused with one line that says how to build it.
#[cfg(not(feature = "cuda"))]
#[test]
fn device_cuda_without_the_feature_says_how_to_build_it() {
    for model in ["dln", "mlp"] {
        let out = llc(&["estimate", model, "--widths", "5,3,5", "--device", "cuda"]);
        let command = format!("--features cuda -- estimate {model} --device cuda");
        assert_refused(&out, &command, model);
    }
}

/// `--rescale` with the matched preconditioner gives the same λ̂ as the unscaled teacher (the
/// sampler is equivariant; only f32 rounding differs, far below the 1e-3 relative tolerance), and
/// MALA's JSON carries its acceptance rate.
#[test]
fn matched_rescaling_leaves_lambda_hat_unchanged() {
    let run = |alpha: &str, extra: &[&str]| {
        let mut args = vec![
            "estimate",
            "mlp",
            "--widths",
            "3,4,2",
            "--n",
            "1000",
            "--gamma",
            "0",
            "--epsilon",
            "1e-5",
            "--steps",
            "600",
            "--chains",
            "2",
            "--json",
            "--rescale",
            alpha,
        ];
        args.extend_from_slice(extra);
        json(&llc(&args))["lambda_hat"].as_f64().unwrap()
    };
    let base = run("1", &[]);
    for alpha in ["0.01", "100"] {
        let scaled = run(alpha, &["--preconditioner", "matched"]);
        assert!((scaled / base - 1.0).abs() < 1e-3, "α = {alpha}: λ̂ {scaled} vs {base}");
    }
    let mala = json(&llc(&[
        "estimate",
        "mlp",
        "--widths",
        "3,4,2",
        "--n",
        "200",
        "--sampler",
        "mala",
        "--epsilon",
        "1e-4",
        "--steps",
        "300",
        "--chains",
        "1",
        "--json",
    ]));
    let acceptance = mala["diagnostics"]["acceptance"].as_f64().unwrap();
    assert!(acceptance > 0.0 && acceptance <= 1.0, "acceptance {acceptance}");
}

#[test]
fn bad_rescaling_input_is_refused() {
    for (args, fragment) in [
        (&["estimate", "mlp", "--widths", "3,4,2", "--rescale", "0"][..], "--rescale"),
        (&["estimate", "mlp", "--widths", "3,4,2", "--rescale", "-2"][..], "--rescale"),
        (&["estimate", "mlp", "--widths", "3,4,2", "--rescale", "1e30"][..], "--rescale"),
        (&["estimate", "mlp", "--widths", "3,4,2", "--preconditioner", "rmsprop", "--sampler", "mala"][..], "mala"),
        (&["estimate", "mlp", "--widths", "3,4,2", "--preconditioner", "fisher"][..], "fisher"),
    ] {
        assert_refused(&llc(args), fragment, &format!("llc {args:?}"));
    }
}
