//! The library's `EstimatorConfig` read from arbitrary JSON and TOML: deserializing never panics,
//! and neither does validating whatever deserializes.

use llc_estimators::EstimatorConfig;
use proptest::prelude::*;

/// A JSON value of any type, for any field.
fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_filter("JSON has no NaN or ∞", |x| x.is_finite()).prop_map(|x| format!("{x:e}")),
        Just("1e400".to_string()),
        Just("-0".to_string()),
        "\"[a-z-]{0,12}\"",
        Just("\"sgld\"".to_string()),
        Just("\"mala\"".to_string()),
        Just("\"full\"".to_string()),
        Just("{\"target_acceptance\": 0.5, \"fraction\": 0.0, \"every\": 0}".to_string()),
        Just("{\"target_acceptance\": 2}".to_string()),
        Just("[1, 2]".to_string()),
        Just("{}".to_string()),
    ]
}

/// Field names of the config, and some that are not.
fn field() -> impl Strategy<Value = String> {
    let fields = [
        "n_chains",
        "n_steps",
        "n_burnin",
        "thinning",
        "batch_size",
        "epsilon",
        "epsilon_adaptation",
        "max_restarts",
        "explosion_factor",
        "gamma",
        "n_beta",
        "sampler",
        "seed",
        "acceptance_every",
        "draw_loss",
        "noise",
    ];
    prop_oneof![proptest::sample::select(fields.to_vec()).prop_map(String::from), "[a-z_]{1,10}"]
}

/// A JSON object of config fields with values of any type.
fn json_object() -> impl Strategy<Value = String> {
    proptest::collection::vec((field(), json_value()), 0..10).prop_map(|pairs| {
        let body: Vec<String> = pairs.into_iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
        format!("{{{}}}", body.join(", "))
    })
}

/// Validates a config that deserialized, for several data set sizes.
fn validate_all(config: &EstimatorConfig) {
    for n in [0, 1, 10, 100_000, usize::MAX] {
        let _ = config.validate(n);
        let _ = config.n_beta_for(n.max(1));
    }
    let _ = config.adaptation_steps();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(config) = serde_json::from_str::<EstimatorConfig>(&text) {
            validate_all(&config);
        }
        if let Ok(config) = toml::from_str::<EstimatorConfig>(&text) {
            validate_all(&config);
        }
    }

    #[test]
    fn arbitrary_objects_never_panic(object in json_object()) {
        if let Ok(config) = serde_json::from_str::<EstimatorConfig>(&object) {
            validate_all(&config);
            // What deserialized serializes again and reads back as a config.
            let again = serde_json::to_string(&config).expect("a config serializes");
            prop_assert!(serde_json::from_str::<EstimatorConfig>(&again).is_ok(), "{}", again);
        }
    }

    #[test]
    fn arbitrary_toml_documents_never_panic(
        pairs in proptest::collection::vec((field(), proptest::sample::select(vec![
            "1", "-1", "0", "nan", "inf", "-inf", "1.5", "1e300", "18446744073709551615", "9223372036854775807",
            "\"sgld\"", "\"x\"", "true", "[1]", "{ target_acceptance = 0.5, every = 0 }", "1979-05-27",
        ])), 0..10)
    ) {
        let text: String = pairs.into_iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        if let Ok(config) = toml::from_str::<EstimatorConfig>(&text) {
            validate_all(&config);
        }
    }
}
