//! Tests of the DLN suite's config: the step size setting, refusals by name, parameter bounds,
//! claims per scale, and the `auto` scale's plan.

use super::*;
use llc_estimators::EstimatorConfig;

use crate::reproduce::config::experiments_dir;

/// A `dln.toml` with one scale `t` whose scale table gets `scale_extra` and whose one sweep gets
/// `sweep_extra`, in a fresh directory.
fn suite_file(name: &str, scale_extra: &str, sweep_extra: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("llc-xtask-dln-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "description = \"t\"\n[claims]\nmedian_relative_error = 0.1\nmax_diverged_fraction = 0.1\n\
         [scales.t]\nseed = 1\nteacher = \"full-rank\"\ngamma = 1.0\nbatch = 500\nchains = 1\n\
         burn_in_fraction = 0.5\nacceptance_every = 20\ntrained_point = false\n\
         sgd = {{ learning_rate = 0.01, momentum = 0.9, batch = 500, steps = 10 }}\n{scale_extra}\n\
         [[scales.t.sweeps]]\nname = \"w\"\nnets = 2\nwidths = [5, 20]\nmatrices = [2, 3]\nn = 1000\n\
         {sweep_extra}\n{}\n",
        if sweep_extra.contains("steps") { "" } else { "steps = 1000" }
    );
    std::fs::write(dir.join("dln.toml"), text).unwrap();
    dir
}

fn load_error(name: &str, scale_extra: &str, sweep_extra: &str) -> String {
    let dir = suite_file(name, scale_extra, sweep_extra);
    let result = DlnSuite::load(&dir, "t");
    std::fs::remove_dir_all(&dir).unwrap();
    result.err().unwrap_or_else(|| panic!("{name}: expected an error"))
}

#[test]
fn epsilon_is_a_number_or_auto() {
    let dir = suite_file("auto", "target_acceptance = 0.95", "epsilon = \"auto\"\nepsilon_start = 1e-7");
    let suite = DlnSuite::load(&dir, "t").unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let spec = &suite.plan()[0];
    assert_eq!(spec.epsilon, 1e-7);
    let adapt = spec.epsilon_adaptation.unwrap();
    assert_eq!(adapt.target_acceptance, Some(0.95));
    assert_eq!((adapt.fraction, adapt.every), (0.75, 2));
    let config = estimator_config(spec, llc_estimators::NoisePlacement::Host);
    assert_eq!(config.epsilon_adaptation, Some(adapt));

    // Without a start ε, auto starts where `llc estimate --epsilon auto` does.
    let dir = suite_file("auto-default", "", "epsilon = \"auto\"\ntarget_acceptance = 0.8");
    let suite = DlnSuite::load(&dir, "t").unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(suite.plan()[0].epsilon, EstimatorConfig::default().epsilon);
    assert_eq!(suite.plan()[0].epsilon_adaptation.unwrap().target_acceptance, Some(0.8));

    // A number is a fixed ε, and its spec's JSON is what it was before the adaptation existed
    // (so that records of fixed-ε runs keep their fingerprints).
    let dir = suite_file("fixed", "", "epsilon = 5e-7");
    let suite = DlnSuite::load(&dir, "t").unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let spec = &suite.plan()[0];
    assert_eq!((spec.epsilon, spec.epsilon_adaptation), (5e-7, None));
    let json = serde_json::to_string(spec).unwrap();
    assert!(!json.contains("adaptation") && !json.contains("max_restarts"), "{json}");

    let err = load_error("bad", "", "epsilon = \"automatic\"");
    assert!(err.contains("\"auto\""), "{err}");
    let err = load_error("negative", "", "epsilon = -1e-7");
    assert!(err.contains("sweep 'w'") && err.contains("epsilon"), "{err}");
}

#[test]
fn auto_settings_without_auto_and_a_short_burn_in_are_refused_by_name() {
    let err = load_error("start", "", "epsilon = 5e-7\nepsilon_start = 1e-7");
    assert!(err.contains("[scales.t]") && err.contains("sweep 'w'") && err.contains("only apply"), "{err}");
    let err = load_error("scale-target", "target_acceptance = 0.9", "epsilon = 5e-7");
    assert!(err.contains("[scales.t]") && err.contains("target_acceptance"), "{err}");
    let err = load_error("target", "", "epsilon = \"auto\"\ntarget_acceptance = 1.0");
    assert!(err.contains("sweep 'w'") && err.contains("target_acceptance"), "{err}");
    // 1,000 steps at burn_in_fraction 0.5: 500 burn-in steps, 375 adapting, 187 measures: fine.
    // 100 steps: 50 burn-in steps, 37 adapting, 18 measures: refused, naming file, scale and sweep.
    let err = load_error("short", "", "epsilon = \"auto\"\nsteps = 100").replace('\n', " ");
    for word in ["dln.toml", "[scales.t]", "sweep 'w'", "at least 50", "18 measures", "burn-in of 50 steps"] {
        assert!(err.contains(word), "expected {word:?} in {err:?}");
    }
}

#[test]
fn parameter_bounds_fill_a_size_class_and_impossible_ones_are_refused() {
    let dir = suite_file("bounds", "", "epsilon = 5e-7\nmin_params = 300\nmax_params = 600\nchains = 3");
    let suite = DlnSuite::load(&dir, "t").unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    for spec in suite.plan() {
        assert!((300..=600).contains(&parameter_count(&spec.widths, false)), "{:?}", spec.widths);
        assert_eq!(spec.chains, 3, "the sweep's chains win over the scale's");
    }
    let err = load_error("too-big", "", "epsilon = 5e-7\nmin_params = 5000");
    assert!(err.contains("min_params 5000 is above the largest net (1200)"), "{err}");
    let err = load_error("crossed", "", "epsilon = 5e-7\nmin_params = 600\nmax_params = 500");
    assert!(err.contains("min_params is above max_params"), "{err}");
}

#[test]
fn a_scale_can_tighten_the_claims() {
    let dir = suite_file("claims", "claims = { median_relative_error = 0.05 }", "epsilon = 5e-7");
    let suite = DlnSuite::load(&dir, "t").unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(suite.claims.median_relative_error, 0.05);
    assert_eq!(suite.claims.max_diverged_fraction, 0.1, "the file's threshold where the scale has none");
}

#[test]
fn the_auto_scale_has_three_size_classes_of_full_rank_teachers() {
    let suite = DlnSuite::load(&experiments_dir(), "auto").unwrap();
    assert_eq!(suite.scale.teacher, Teacher::FullRank);
    assert_eq!(suite.claims.median_relative_error, 0.05);
    let plan = suite.plan();
    assert!(plan.iter().all(|s| s.point == PointKind::Teacher && s.epsilon_adaptation.is_some()));
    let mut per_decade = std::collections::BTreeMap::new();
    for spec in &plan {
        let decade = (parameter_count(&spec.widths, false) as f64).log10().floor() as u32;
        *per_decade.entry(decade).or_insert(0) += 1;
    }
    assert_eq!(per_decade.keys().copied().collect::<Vec<_>>(), [3, 4, 5], "{per_decade:?}");
    assert!(per_decade.values().all(|&nets| nets >= 3), "{per_decade:?}");
}
