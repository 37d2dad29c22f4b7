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

/// The repository's own text files (sources, manifests, docs, settings, scripts), without build
/// outputs, results and binary assets.
fn text_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.expect("readable entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_dir() {
                if !matches!(name, "target" | "results" | ".git") {
                    walk(&path, out);
                }
            } else if ["rs", "md", "toml", "sh", "yml", "yaml"].iter().any(|ext| name.ends_with(&format!(".{ext}")))
                || name == "run"
            {
                out.push(path);
            }
        }
    }
    let root = root();
    let mut files = vec![root.join("README.md"), root.join("Cargo.toml")];
    for dir in ["crates", "xtask", "docs", "experiments", "scripts", ".ci", ".github"] {
        walk(&root.join(dir), &mut files);
    }
    files.sort();
    files
}

/// Every `something.md` named in `text`, as written (letters, digits and `_ . / -` before `.md`).
fn markdown_names(text: &str) -> Vec<&str> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || "_./-".contains(c);
    let mut names = Vec::new();
    for (at, _) in text.match_indices(".md") {
        let after = text[at + 3..].chars().next();
        if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let start = text[..at]
            .rfind(|c: char| !is_name(c))
            .map_or(0, |i| i + text[..at][i..].chars().next().unwrap().len_utf8());
        let name = text[start..at + 3].trim_start_matches("./");
        if name.len() > 3 && !name.starts_with('/') {
            names.push(name);
        }
    }
    names
}

/// The repository is self-contained: no file cites a document that is not in it (a name or path is
/// taken from the root or from the citing file's folder), a machine path, or the tracker's issue
/// numbers.
#[test]
fn nothing_cites_a_file_outside_the_repository() {
    let root = root();
    let mut problems = Vec::new();
    let files = text_files();
    assert!(files.len() > 50, "only {} files found", files.len());
    // This file names the markers it looks for.
    for path in files.into_iter().filter(|p| !p.ends_with("xtask/tests/tidy.rs")) {
        let text = read(&path);
        let shown = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
        let dir = path.parent().expect("a file has a folder");
        // `REPORT.md` is the name of a file that `cargo xtask reproduce` writes.
        for name in markdown_names(&text).into_iter().filter(|n| !n.ends_with("REPORT.md") || n.contains('/')) {
            if !(root.join(name).exists() || dir.join(name).exists()) {
                problems.push(format!("{shown}: cites `{name}`, which is not in the repository"));
            }
        }
        let lower = text.to_lowercase();
        // Spelled in pieces, so that this file does not name them itself.
        for marker in [["..", "/shared"], ["/wo", "rk/"], ["/ho", "me/"], ["/ro", "ot/"], ["developers", ".md"]] {
            let marker = marker.concat();
            if lower.contains(&marker) {
                problems.push(format!("{shown}: names `{marker}`"));
            }
        }
        for (at, _) in lower.match_indices("issue") {
            let rest = lower[at + 5..].trim_start_matches(['s', ' ', '#']);
            if rest.starts_with(|c: char| c.is_ascii_digit()) {
                problems.push(format!("{shown}: cites an issue number (`{}`)", &text[at..(at + 12).min(text.len())]));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// No crate reaches into another crate's files: `#[path]` modules and `include_*!` macros stay
/// inside the crate that holds them (files at the workspace root, such as README.md, are not a
/// crate's).
#[test]
fn no_crate_reaches_into_another_crates_files() {
    let root = root();
    let crate_roots: Vec<PathBuf> = member_manifests().iter().map(|m| m.parent().unwrap().to_path_buf()).collect();
    let mut problems = Vec::new();
    for path in text_files().into_iter().filter(|p| p.extension().is_some_and(|e| e == "rs")) {
        let Some(own) = crate_roots.iter().find(|r| path.starts_with(r)) else { continue };
        let text = read(&path);
        for marker in ["#[path = \"", "include_bytes!(\"", "include_str!(\""] {
            for (at, _) in text.match_indices(marker) {
                let rest = &text[at + marker.len()..];
                let target = &rest[..rest.find('"').unwrap_or(0)];
                let resolved = normalize(&path.parent().unwrap().join(target));
                let other = crate_roots.iter().any(|r| r != own && resolved.starts_with(r));
                if other || !resolved.starts_with(&root) {
                    problems.push(format!("{}: `{marker}{target}` reaches outside its crate", path.display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The README's "Your own model" code is exactly the code that `crates/llc-estimators/tests/readme.rs`
/// compiles and runs between its two marker comments.
#[test]
fn the_readme_example_is_the_tested_one() {
    let readme = read(&root().join("README.md"));
    let section = &readme[readme.find("## Your own model").expect("README has a \"Your own model\" section")..];
    let start = section.find("```rust\n").expect("the section shows Rust code") + "```rust\n".len();
    let shown = &section[start..start + section[start..].find("```").expect("the code block ends")];
    let test = read(&root().join("crates/llc-estimators/tests/readme.rs"));
    let (begin, end) = ("// README: your own model (begin)\n", "// README: your own model (end)");
    let from = test.find(begin).expect("the test marks where the README code begins") + begin.len();
    let tested = &test[from..test.find(end).expect("the test marks where the README code ends")];
    assert_eq!(shown, tested, "README.md's example and crates/llc-estimators/tests/readme.rs differ");
}
