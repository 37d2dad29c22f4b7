//! What the end-to-end tests share: running the `llc` binary, reading its JSON, and the checks of a
//! refusal.

#![allow(dead_code, reason = "each test binary uses the helpers it needs")]

use std::ffi::OsStr;
use std::process::{Command, Output};

/// Runs `llc args` and waits for it.
pub(crate) fn llc<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_llc")).args(args).output().expect("the llc binary runs")
}

/// The one JSON object a successful run printed.
pub(crate) fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("one JSON object on stdout")
}

/// Checks that a run was refused as bad input: exit status 2, nothing on stdout, and one line on
/// stderr, `error: …`, that contains `fragment`. `context` names the case in a failure.
pub(crate) fn assert_refused(out: &Output, fragment: &str, context: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{context}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{context} must print one line:\n{err}");
    assert!(err.starts_with("error: ") && err.contains(fragment), "{context}: {err:?} should mention {fragment:?}");
    assert!(out.stdout.is_empty(), "{context} printed to stdout");
}

/// A 5→8→30 network with a rank-0 teacher: λ = 20 exactly, and the local coefficient at this
/// teacher equals it (input-bound regime). 2 chains × 3,000 steps take about a second.
pub(crate) const SMALL: &[&str] = &[
    "estimate", "dln", "--widths", "5,8,30", "--rank", "0", "--steps", "3000", "--chains", "2", "--json", "--seed", "3",
];
