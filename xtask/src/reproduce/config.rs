//! The suite configuration files in `experiments/`: one TOML file per suite, one table per scale.
//!
//! Every table denies unknown keys, so a typo in a config file is an error that names the key
//! instead of a silently ignored setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A suite file: the claims the report checks (the same at every scale) and the scales.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuiteFile<C, S> {
    /// One line on what the suite measures (shown in the report).
    pub(crate) description: String,
    /// Thresholds of the claims.
    pub(crate) claims: C,
    /// Settings per scale name (`quick`, `default`, `paper`).
    pub(crate) scales: BTreeMap<String, S>,
}

impl<C: DeserializeOwned, S: DeserializeOwned + Clone> SuiteFile<C, S> {
    /// Reads and parses `path`; errors name the file and the problem in one line.
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| format!("{}: {}", path.display(), e.to_string().replace('\n', " ").trim().to_owned()))
    }

    /// The settings of one scale, or an error listing the scales the file has.
    pub(crate) fn scale(&self, path: &Path, name: &str) -> Result<S, String> {
        self.scales.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.scales.keys().map(String::as_str).collect();
            format!("{} has no scale '{name}' (it has: {})", path.display(), known.join(", "))
        })
    }
}

/// A suite's settings at one scale, with its file's description and claims, and the place they
/// came from, which every complaint about them names. A suite that needs nothing else is this
/// type (`MalaSuite`, `RescalingSuite`).
pub(crate) struct SuiteSettings<C, S> {
    /// One line on what the suite measures.
    pub(crate) description: String,
    /// Thresholds of the claims.
    pub(crate) claims: C,
    /// The scale's settings.
    pub(crate) scale: S,
    /// `<path> [scales.<name>]`.
    place: String,
}

impl<C: DeserializeOwned, S: DeserializeOwned + Clone> SuiteSettings<C, S> {
    /// Reads `file` of the `experiments` directory at `scale`.
    pub(crate) fn read(experiments: &Path, file: &str, scale: &str) -> Result<Self, String> {
        let path = experiments.join(file);
        let suite = SuiteFile::<C, S>::load(&path)?;
        let settings = suite.scale(&path, scale)?;
        let place = format!("{} [scales.{scale}]", path.display());
        Ok(Self { description: suite.description, claims: suite.claims, scale: settings, place })
    }

    /// A complaint about the scale's settings, naming the file and the scale.
    pub(crate) fn at(&self, what: &str) -> String {
        format!("{}: {what}", self.place)
    }
}

/// The settings of one scale of a suite whose file needs nothing but its own checks.
pub(crate) trait Scale: DeserializeOwned + Clone {
    /// The suite's file in `experiments/`.
    const FILE: &'static str;

    /// Checks the settings; `at(what)` is a complaint that names the file and the scale.
    fn check(&self, at: &dyn Fn(&str) -> String) -> Result<(), String>;
}

impl<C: DeserializeOwned, S: Scale> SuiteSettings<C, S> {
    /// Reads the suite's file at `scale` and checks the scale's settings.
    pub(crate) fn load(experiments: &Path, scale: &str) -> Result<Self, String> {
        let suite = Self::read(experiments, S::FILE, scale)?;
        suite.scale.check(&|what| suite.at(what))?;
        Ok(suite)
    }
}

/// Whether the suite file at `path` has a table `[scales.<scale>]` (some scales exist for one
/// suite only, e.g. the DLN suite's `auto`); a file that is not valid TOML is an error.
pub(crate) fn has_scale(path: &Path, scale: &str) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| format!("{}: {}", path.display(), e.to_string().replace('\n', " ").trim().to_owned()))?;
    Ok(table.get("scales").and_then(|s| s.as_table()).is_some_and(|s| s.contains_key(scale)))
}

/// The directory of the suite files: `experiments/` at the workspace root.
pub(crate) fn experiments_dir() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.join("experiments"))
        .unwrap_or_else(|| "experiments".into())
}

/// A closed integer range `[low, high]`, written `[low, high]` in the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "[usize; 2]", into = "[usize; 2]")]
pub(crate) struct Span {
    /// Smallest value.
    pub(crate) low: usize,
    /// Largest value.
    pub(crate) high: usize,
}

impl TryFrom<[usize; 2]> for Span {
    type Error = String;

    fn try_from([low, high]: [usize; 2]) -> Result<Self, String> {
        if low > high {
            return Err(format!("range [{low}, {high}] is empty (low > high)"));
        }
        Ok(Self { low, high })
    }
}

impl From<Span> for [usize; 2] {
    fn from(s: Span) -> Self {
        [s.low, s.high]
    }
}

/// Checks a setting and names it when it is out of range.
pub(crate) fn require(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// `10^e` for `count` exponents evenly spaced from `from` to `to` (like numpy's logspace).
pub(crate) fn logspace(from: f64, to: f64, count: usize) -> Vec<f64> {
    match count {
        0 => Vec::new(),
        1 => vec![10f64.powf(from)],
        _ => (0..count).map(|i| 10f64.powf(from + (to - from) * i as f64 / (count - 1) as f64)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logspace_matches_the_papers_alpha_grid() {
        let alphas = logspace(-4.0, 4.0, 17);
        assert_eq!(alphas.len(), 17);
        assert!((alphas[0] - 1e-4).abs() < 1e-12);
        assert!((alphas[8] - 1.0).abs() < 1e-12);
        assert!((alphas[16] - 1e4).abs() < 1e-6);
        assert!((alphas[1] - 10f64.powf(-3.5)).abs() < 1e-12);
    }

    #[test]
    fn a_reversed_span_is_rejected() {
        assert!(Span::try_from([5, 3]).is_err());
        assert_eq!(Span::try_from([3, 5]), Ok(Span { low: 3, high: 5 }));
    }
}
