//! `REPORT.md` and `summary.json`: each suite's numbers beside the paper's, and a verdict per claim.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// One checked claim, as it appears in `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Claim {
    /// The suite that checks it.
    pub(crate) suite: &'static str,
    /// What is claimed, in words, with its threshold.
    pub(crate) claim: String,
    /// Whether our runs support it.
    pub(crate) holds: bool,
    /// The measured value it was judged on.
    pub(crate) value: serde_json::Value,
}

/// What a suite's analysis produced.
pub(crate) struct SuiteReport {
    /// The suite's name.
    pub(crate) suite: &'static str,
    /// Its claims with verdicts.
    pub(crate) claims: Vec<Claim>,
    /// Its section of REPORT.md (Markdown, starting with a `##` heading).
    pub(crate) markdown: String,
    /// A few lines for the summary screen.
    pub(crate) screen: Vec<String>,
    /// The figures written (SVG and PNG paths).
    pub(crate) figures: Vec<PathBuf>,
}

/// The whole of `summary.json`.
#[derive(Serialize)]
struct Summary<'a> {
    scale: &'a str,
    device: &'a str,
    suites: Vec<&'static str>,
    claims: Vec<&'a Claim>,
    all_hold: bool,
}

/// Writes `REPORT.md` and `summary.json` into `out` for the suites in `reports`.
pub(crate) fn write(out: &Path, scale: &str, device: &str, reports: &[SuiteReport]) -> Result<[PathBuf; 2], String> {
    let claims: Vec<&Claim> = reports.iter().flat_map(|r| &r.claims).collect();
    let summary = Summary {
        scale,
        device,
        suites: reports.iter().map(|r| r.suite).collect(),
        all_hold: claims.iter().all(|c| c.holds),
        claims,
    };
    let json = serde_json::to_string_pretty(&summary).map_err(|e| format!("cannot encode summary.json: {e}"))?;

    let mut md = String::new();
    md.push_str("# Reproduction report\n\n");
    md.push_str(&format!(
        "Written by `cargo xtask reproduce --scale {scale}` on {device}. Paper: Lau et al., *Quantifying degeneracy \
         in singular models via the learning coefficient* (arXiv 2308.12108 v2, which absorbed Furman & Lau, \
         arXiv 2402.03698). Settings: `experiments/*.toml`, scale `{scale}`; the run records are the \
         `runs*.jsonl` files beside this report.\n\n"
    ));
    md.push_str("## Verdicts\n\n| suite | claim | holds | value |\n|---|---|---|---|\n");
    for c in &summary.claims {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.suite,
            c.claim.replace('|', "\\|"),
            if c.holds { "yes" } else { "**no**" },
            compact(&c.value)
        ));
    }
    md.push('\n');
    for r in reports {
        md.push_str(&r.markdown);
        if !r.markdown.ends_with('\n') {
            md.push('\n');
        }
        md.push('\n');
    }

    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let report_path = out.join("REPORT.md");
    let summary_path = out.join("summary.json");
    write_atomically(&report_path, md.as_bytes())?;
    write_atomically(&summary_path, json.as_bytes())?;
    Ok([report_path, summary_path])
}

/// A JSON value on one line for a table cell: numbers with four significant digits, objects as
/// `key: value` lists, and no `|` left unescaped.
fn compact(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), fmt_sig),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{k}: {}", compact(v))).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    };
    text.replace('|', "\\|")
}

/// `x` with four significant digits, without exponent notation for ordinary magnitudes.
pub(crate) fn fmt_sig(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so that a reader
/// (or an interruption) never sees a half-written report.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Median of the finite values (None when there are none).
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 })
}

/// Mean and sample standard deviation (n − 1) of the finite values; sd is 0 for one value.
pub(crate) fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    Some((mean, var.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_means() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(m, 2.0);
        assert!((s - 1.0).abs() < 1e-12);
    }

    #[test]
    fn table_cells_escape_pipes_and_round_numbers() {
        let value = serde_json::json!({ "a|b": 0.123456, "c": { "d": 2 } });
        assert_eq!(compact(&value), "a\\|b: 0.1235, c: d: 2");
    }

    #[test]
    fn numbers_print_with_four_significant_digits() {
        assert_eq!(fmt_sig(194.2914), "194.3");
        assert_eq!(fmt_sig(0.012345), "0.01235");
        assert_eq!(fmt_sig(12345.6), "12346");
        assert_eq!(fmt_sig(2.5e-7), "2.500e-7");
    }
}
