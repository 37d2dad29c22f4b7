//! End-to-end tests of the `llc` binary: output for a person, JSON for a program, and one clear
//! line with exit status 2 for every kind of bad input.

use std::process::{Command, Output};

fn llc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_llc")).args(args).output().expect("the llc binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 stderr")
}

#[test]
fn theory_dln_prints_lambda_for_a_person() {
    let out = llc(&["theory", "dln", "--widths", "5,3,5", "--rank", "1"]);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("λ = 8"), "{text}");
    assert!(text.contains("m = 1"), "{text}");
    assert!(text.contains("d = 30"), "{text}");
}

#[test]
fn theory_dln_json_has_the_documented_keys() {
    let out = llc(&["theory", "dln", "--widths", "10,10,10,10", "--rank", "2", "--json"]);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let value: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(value["lambda"], 39.5);
    assert_eq!(value["lambda_exact"], "79/2");
    assert_eq!(value["multiplicity"], 3);
    assert_eq!(value["params"], 300);
    assert_eq!(value["widths"], serde_json::json!([10, 10, 10, 10]));
    assert_eq!(value["rank"], 2);
    assert_eq!(value["regular_lambda"], 150.0);
    assert_eq!(value["ell"], 3);
    assert_eq!(value["index_set"], serde_json::json!([1, 2, 3, 4]));
}

#[test]
fn rank_defaults_to_zero() {
    let out = llc(&["theory", "dln", "--widths", "5,3,5", "--json"]);
    let value: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!((value["rank"].as_u64(), value["lambda"].as_f64()), (Some(0), Some(6.5)));
}

/// Each bad invocation, and a fragment its one-line message must contain.
const BAD_INPUT: &[(&[&str], &str)] = &[
    (&["theory", "dln", "--widths", "5,x,5"], "'x'"),
    (&["theory", "dln", "--widths", ""], "empty list"),
    (&["theory", "dln", "--widths", "5,,5"], "item 2"),
    (&["theory", "dln", "--widths", "5,3,5", "--rank", "-1"], "non-negative integer"),
    (&["theory", "dln", "--widths", "5,3,5", "--rank", "two"], "non-negative integer"),
    (&["theory", "dln", "--widths", "5,3,5", "--rank", "4"], "rank 4 exceeds the narrowest width 3"),
    (&["theory", "dln", "--widths", "5,0,5"], "width number 2 is 0"),
    (&["theory", "dln", "--widths", "5"], "at least 2 widths"),
    (&["theory", "dln", "--widths", "5,99999999999,5"], "too large"),
    (&["theory", "dln"], "--widths"),
    (&["theory", "dln", "--widths", "5,3,5", "--bogus"], "--bogus"),
    (&["theory", "mlp", "--widths", "5,3,5"], "mlp"),
    (&["frobnicate"], "frobnicate"),
];

#[test]
fn bad_input_gets_one_line_and_status_2() {
    for (args, fragment) in BAD_INPUT {
        let out = llc(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "llc {args:?} exited with {:?}; stderr: {err}", out.status);
        assert_eq!(err.trim_end().lines().count(), 1, "llc {args:?} must print exactly one line, got:\n{err}");
        assert!(err.starts_with("error: "), "llc {args:?}: {err}");
        assert!(err.contains(fragment), "llc {args:?}: message {err:?} should mention {fragment:?}");
        assert!(!err.contains("panicked"), "llc {args:?} panicked: {err}");
        assert!(stdout(&out).is_empty(), "llc {args:?} printed to stdout on error");
    }
}

#[test]
fn help_explains_the_flags_in_the_papers_terms() {
    let out = llc(&["theory", "dln", "--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for phrase in ["H_1", "rank r", "--json", "Aoyagi"] {
        assert!(text.contains(phrase), "`llc theory dln --help` should mention {phrase}:\n{text}");
    }
    let top = stdout(&llc(&["--help"]));
    assert!(top.contains("theory"), "{top}");
}
