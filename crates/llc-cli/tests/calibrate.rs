//! Tests of `llc calibrate`: small real grids end to end (one cell per grid point, both files
//! written, acceptance falling with ε), bad input refused with one line and status 2 and no files,
//! and no files from a run stopped midway. (The flat-region rules are tested on hand-made cells in
//! `src/plateau/tests.rs`.)

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{assert_refused, json, llc};

/// A fresh, not yet existing path under the system's temp directory.
fn temp_path(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("llc-calibrate-{name}-{}-{nanos}", std::process::id()))
}

/// Neither output file exists in `dir` (which may not exist at all).
fn assert_no_outputs(dir: &Path, context: &str) {
    for name in ["calibration.json", "calibration.png"] {
        assert!(!dir.join(name).exists(), "{context}: {name} was left in {}", dir.display());
    }
}

/// A 5→4→3 linear network (d = 32, λ = 7.5) with n = 2,000 and 2 chains per cell.
const NETWORK: &[&str] = &["calibrate", "dln", "--widths", "5,4,3", "--n", "2000", "--chains", "2"];

/// [`NETWORK`] with 600 steps per chain (a few milliseconds per cell) and `extra`.
fn tiny(extra: &[&str]) -> Vec<String> {
    [NETWORK, &["--steps", "600"], extra].concat().into_iter().map(String::from).collect()
}

fn llc_tiny(extra: &[&str]) -> Output {
    llc(&tiny(extra))
}

#[test]
fn a_small_grid_writes_one_cell_per_point_and_both_files() {
    let dir = temp_path("grid");
    let out_dir = dir.to_str().expect("utf-8 temp path");
    let value = json(&llc_tiny(&["--epsilons", "1e-5,1e-6,1e-4", "--json", "--quiet", "--out", out_dir]));

    // The ε axis comes back sorted; the rows are the default n/ln n × {0.5, 1, 2}.
    assert_eq!(value["epsilons"], serde_json::json!([1e-6, 1e-5, 1e-4]));
    assert_eq!(value["rows_are"], "n_beta");
    let rows = value["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    let n_beta = 2000.0 / 2000f64.ln();
    for (row, factor) in rows.iter().zip([0.5, 1.0, 2.0]) {
        assert!((row["value"].as_f64().unwrap() / (factor * n_beta) - 1.0).abs() < 1e-12, "{row}");
    }
    assert_eq!(value["reference_row"], 1);
    assert_eq!(value["lambda"], 7.5);

    let cells = value["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 9, "one cell per (ε, nβ)");
    let mut seen = std::collections::BTreeSet::new();
    for cell in cells {
        for key in [
            "epsilon",
            "n_beta",
            "gamma",
            "lambda_hat",
            "lambda_hat_std",
            "standard_error",
            "relative_error",
            "acceptance",
            "diverged_chains",
            "r_hat",
            "stable",
            "unstable_because",
            "in_flat_region",
        ] {
            assert!(cell.get(key).is_some(), "cell lacks {key}: {cell}");
        }
        let (row, column) = (cell["row"].as_u64().unwrap() as usize, cell["column"].as_u64().unwrap() as usize);
        assert!(seen.insert((row, column)), "cell ({row}, {column}) twice");
        assert_eq!(cell["epsilon"], value["epsilons"][column]);
        assert_eq!(cell["n_beta"], rows[row]["value"]);
        assert_eq!(cell["gamma"], 1.0);
        // The flag is exactly the documented rule.
        let stable = cell["diverged_chains"] == 0
            && cell["lambda_hat"].as_f64().is_some_and(|h| h.is_finite() && h > 0.0)
            && cell["acceptance"].as_f64().is_some_and(|a| a >= 0.5);
        assert_eq!(cell["stable"].as_bool(), Some(stable), "{cell}");
        assert_eq!(cell["unstable_because"].as_array().unwrap().is_empty(), stable, "{cell}");
    }

    // The recommendation is a grid value of the reference row's flat region, or nothing.
    let recommendation = &value["recommendation"];
    if !recommendation.is_null() {
        let epsilon = recommendation["epsilon"].as_f64().unwrap();
        assert!(value["epsilons"].as_array().unwrap().iter().any(|e| e.as_f64() == Some(epsilon)));
        assert_eq!(recommendation["row"], 1);
        assert_eq!(rows[1]["recommended_epsilon"].as_f64(), Some(epsilon));
        assert_eq!(rows[1]["flat_region"]["last_epsilon"].as_f64(), Some(epsilon));
    }

    // Both files, and nothing else (no probe or temporary file left behind).
    let written = std::fs::read_to_string(dir.join("calibration.json")).expect("calibration.json");
    let file: serde_json::Value = serde_json::from_str(&written).expect("calibration.json is JSON");
    assert_eq!(file["cells"], value["cells"]);
    let png = std::fs::read(dir.join("calibration.png")).expect("calibration.png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 10_000, "a PNG of only {} bytes", png.len());
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["calibration.json", "calibration.png"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The MALA acceptance of an SGLD move falls as ε grows: the Metropolis–Hastings correction
/// measures the discretization error of the Langevin step, which grows with the step (its log-ratio
/// is of order ε^{3/2} per coordinate for smooth potentials). The grid spans a factor 150 on a
/// network small enough that the largest ε still runs without diverging (acceptance ≈ 0.6 there;
/// 4e-4 diverges), so the fall (≈ 1.00, 0.98, 0.8, 0.6) is far larger than the noise of the 2 × 24
/// measurements per cell.
#[test]
fn acceptance_falls_as_epsilon_grows() {
    let dir = temp_path("acceptance");
    let grid = ["--epsilons", "1e-6,1e-5,5e-5,1.5e-4", "--nbetas", "263", "--json", "--quiet"];
    let value = json(&llc_tiny(&[&grid[..], &["--out", dir.to_str().unwrap()]].concat()));
    let acceptance: Vec<f64> = value["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["acceptance"].as_f64().expect("every cell measured its acceptance"))
        .collect();
    assert_eq!(acceptance.len(), 4);
    assert!(acceptance.windows(2).all(|w| w[1] < w[0]), "acceptance does not fall with ε: {acceptance:?}");
    assert!(acceptance[0] > 0.95 && acceptance[3] < 0.9, "{acceptance:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `llc calibrate mlp` with γ as the rows: nβ is fixed, λ unknown, and the human table says so.
#[test]
fn an_mlp_grid_over_gamma_runs() {
    let dir = temp_path("mlp");
    let base = ["calibrate", "mlp", "--widths", "3,4,2", "--n", "1000", "--steps", "600", "--quiet"];
    let grid = ["--epsilons", "1e-5,1e-4", "--gammas", "10,0", "--out", dir.to_str().unwrap()];
    let value = json(&llc(&[&base[..], &grid[..], &["--json"]].concat()));
    assert_eq!(value["rows_are"], "gamma");
    assert_eq!(value["params"], 3 * 4 + 4 + 4 * 2 + 2);
    assert!(value["lambda"].is_null());
    assert_eq!(value["settings"]["n_beta"].as_f64(), Some(1000.0 / 1000f64.ln()));
    let cells = value["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    assert_eq!((cells[0]["gamma"].as_f64(), cells[3]["gamma"].as_f64()), (Some(0.0), Some(10.0)));
    assert!(cells.iter().all(|c| c["relative_error"].is_null()));
    // The default γ = 1 is nearest to 0 of {0, 10}: the reference row is the first.
    assert_eq!(value["reference_row"], 0);

    let out = llc(&[&base[..], &grid[..]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ReLU network 3 → 4 → 2") && text.contains("recommended ε"), "{text}");
    assert!(dir.join("calibration.png").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_grids_get_one_line_status_2_and_no_files() {
    let dir = temp_path("bad");
    let out_dir = dir.to_str().unwrap().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["--epsilons", ""], "empty list"),
        (&["--epsilons", "1e-7,x"], "item 2 ('x')"),
        (&["--epsilons", "nan"], "finite number > 0"),
        (&["--epsilons", "-1e-7"], "finite number > 0"),
        (&["--epsilons", "0"], "finite number > 0"),
        (&["--epsilons", "1e-7,,2e-7"], "item 2 of the list is empty"),
        (&["--epsilons", "1e-7,2e-7,1e-7"], "repeats item 1"),
        (&["--nbetas", "100,0"], "--nbetas"),
        (&["--gammas", "-1"], "--gammas"),
        (&["--nbetas", "100,200", "--gammas", "0,1"], "cannot be used with"),
        (&["--nbetas", "100,200", "--nbeta", "100"], "cannot be used with"),
        (&["--epsilon", "1e-7"], "no --epsilon"),
        (&["--acceptance-every", "0"], "--acceptance-every"),
        (&["--burn-in", "600"], "burn-in"),
    ];
    for (extra, fragment) in cases {
        let out = llc_tiny(&[extra, &["--out", &out_dir][..]].concat());
        assert_refused(&out, fragment, &format!("{extra:?}"));
        assert_no_outputs(&dir, &format!("{extra:?}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An output directory that cannot be created (a path under a regular file) is refused before any
/// sampling: with 200,000 steps per chain the grid would take minutes, the refusal takes well under
/// a few seconds.
#[test]
fn an_unwritable_output_directory_is_refused_before_sampling() {
    let parent = temp_path("unwritable");
    std::fs::create_dir_all(&parent).unwrap();
    let file = parent.join("plain-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let target = file.join("sub");
    let started = Instant::now();
    let out = llc(&[NETWORK, &["--steps", "200000", "--out", target.to_str().unwrap()]].concat());
    assert_refused(&out, "plain-file/sub", "an unwritable directory");
    assert!(started.elapsed() < Duration::from_secs(10), "refused only after {:?}", started.elapsed());
    assert_no_outputs(&target, "unwritable");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
    let _ = std::fs::remove_dir_all(&parent);
}

/// A run stopped while it samples leaves neither file: both are written only at the end.
#[test]
fn a_run_stopped_midway_leaves_no_files() {
    let dir = temp_path("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_llc"))
        .args([NETWORK, &["--steps", "200000", "--quiet", "--out", dir.to_str().unwrap()]].concat())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the llc binary starts");
    // The directory is checked (and created) before sampling starts.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "the run finished too early to test anything");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(dir.is_dir(), "the output directory should have been created before sampling");
    assert_no_outputs(&dir, "killed midway");
    let _ = std::fs::remove_dir_all(&dir);
}
