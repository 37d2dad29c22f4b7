//! Tidy checks of the repository itself, run as ordinary tests (the rust-analyzer habit): crate
//! roots are documented, README and CI agree on the test command, versions are declared once.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace root").to_path_buf()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every member's manifest path: `crates/*/Cargo.toml` and `xtask/Cargo.toml`.
fn member_manifests() -> Vec<PathBuf> {
    let mut manifests: Vec<PathBuf> = fs::read_dir(root().join("crates"))
        .expect("crates/ exists")
        .map(|entry| entry.expect("readable entry").path().join("Cargo.toml"))
        .filter(|p| p.exists())
        .collect();
    manifests.push(root().join("xtask/Cargo.toml"));
    manifests.sort();
    manifests
}

#[test]
fn every_crate_root_opens_with_a_module_doc() {
    let mut checked = 0;
    for manifest in member_manifests() {
        let src = manifest.parent().unwrap().join("src");
        for file in ["lib.rs", "main.rs"] {
            let path = src.join(file);
            if path.exists() {
                let text = read(&path);
                assert!(text.starts_with("//!"), "{} must open with a `//!` doc comment", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "only {checked} crate roots found");
}

#[test]
fn every_member_inherits_workspace_lints_and_versions() {
    for manifest in member_manifests() {
        let text = read(&manifest);
        assert!(
            text.contains("[lints]\nworkspace = true"),
            "{} must say `[lints] workspace = true`",
            manifest.display()
        );
        let mut in_deps = false;
        for line in text.lines() {
            if line.starts_with('[') {
                in_deps = line.contains("dependencies");
                continue;
            }
            if in_deps && !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                assert!(
                    line.contains(".workspace = true") || line.contains("workspace = true"),
                    "{}: dependency `{line}` must come from [workspace.dependencies]",
                    manifest.display()
                );
            }
        }
    }
}

#[test]
fn burn_is_pinned_exactly() {
    let text = read(&root().join("Cargo.toml"));
    for krate in ["burn", "burn-ndarray", "burn-cuda"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{krate} =")))
            .unwrap_or_else(|| panic!("{krate} missing from [workspace.dependencies]"));
        assert!(line.contains("\"=0.21.0\""), "{krate} must be pinned at =0.21.0: {line}");
    }
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = read(&root().join("README.md"));
    let mut lines = readme.lines().skip_while(|l| !l.starts_with("<!-- test-command"));
    assert!(lines.next().is_some(), "README.md lacks the test-command marker that .ci/run looks for");
    let command = lines.find(|l| l.starts_with("cargo ")).expect("a cargo command follows the marker");
    assert!(command.starts_with("cargo test"), "the README's test command should run cargo test: {command}");
    assert!(command.contains("--release"), "numerical tests must run optimized: {command}");
    let ci = read(&root().join(".ci/run"));
    assert!(
        ci.contains("<!-- test-command") && ci.contains("eval \"$test_command\""),
        ".ci/run must run the README's command"
    );
    let workflow = read(&root().join(".github/workflows/ci.yml"));
    assert!(workflow.contains("bash .ci/run"), "GitHub CI must run the same script as .ci/run");
}
