//! Sampler settings and their validation.
//!
//! Symbols (paper, arXiv 2308.12108 v2, the SGLD update): `epsilon` is the step size ε, `gamma` the
//! localization strength γ, `n_beta` the inverse temperature times the sample size, nβ (the paper
//! uses β = 1/ln n, so nβ = n/ln n).

use serde::{Deserialize, Serialize};

use crate::SamplerError;

/// Which RMSprop-preconditioned SGLD to run. Both scale drift and prior terms by
/// G = 1/(√V + a) and the noise by √G, where V is a running mean of the squared minibatch-loss
/// gradient ∇L_B (not scaled by nβ), elementwise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum RmsPropVariant {
    /// The devinterp library's rule: V₀ = 0, V ← αV + (1−α)g², no bias correction.
    Devinterp,
    /// Hitchcock & Hoogland (2025, arXiv 2507.21449): V₀ = 1 and the bias-corrected
    /// V̂ = V/(1 − αᵗ) in place of V.
    BiasCorrected,
}

/// Settings of RMSprop-SGLD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmsPropConfig {
    /// The published rule to follow.
    pub variant: RmsPropVariant,
    /// Decay α of the running mean of squared gradients (default 0.99).
    pub alpha: f64,
    /// The additive stabilizer a in G = 1/(√V + a) (default 0.1).
    pub stabilizer: f64,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self { variant: RmsPropVariant::Devinterp, alpha: 0.99, stabilizer: 0.1 }
    }
}

/// The settings of one SGLD chain: w ← w − (εP/2)(nβ∇L_B(w) + γ(w − w*)) + √(εP)·ξ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgldConfig {
    /// Step size ε > 0.
    pub epsilon: f64,
    /// Localization strength γ ≥ 0 (the Gaussian prior (γ/2)‖w − w*‖² centred at w*).
    pub gamma: f64,
    /// nβ > 0, the inverse temperature times n.
    pub n_beta: f64,
    /// RMSprop preconditioning; `None` means plain SGLD (or a fixed diagonal preconditioner given
    /// to the chain separately).
    pub rmsprop: Option<RmsPropConfig>,
}

impl SgldConfig {
    /// Plain SGLD with the paper's inverse temperature nβ = n/ln n.
    pub fn new(epsilon: f64, gamma: f64, n: usize) -> Self {
        Self { epsilon, gamma, n_beta: default_n_beta(n), rmsprop: None }
    }

    /// Checks every setting, naming the first that is out of range.
    pub fn validate(&self) -> Result<(), SamplerError> {
        positive("epsilon", self.epsilon)?;
        positive("n_beta", self.n_beta)?;
        if !self.gamma.is_finite() || self.gamma < 0.0 {
            return Err(SamplerError::InvalidSetting {
                name: "gamma", value: self.gamma, expected: "finite and ≥ 0"
            });
        }
        if let Some(rms) = self.rmsprop {
            if !(0.0..1.0).contains(&rms.alpha) {
                return Err(SamplerError::InvalidSetting {
                    name: "rmsprop alpha",
                    value: rms.alpha,
                    expected: "in [0, 1)",
                });
            }
            positive("rmsprop stabilizer", rms.stabilizer)?;
        }
        Ok(())
    }
}

/// The settings of one MALA chain (full-batch Metropolis-adjusted Langevin, [`crate::MalaChain`]):
/// the proposal w' = w − (εP/2)∇U(w) + √(εP)·ξ with U(w) = nβ·L_n(w) + (γ/2)‖w − w*‖², then a
/// Metropolis–Hastings accept/reject. The same three numbers as [`SgldConfig`], without RMSprop
/// (an adaptive P would break detailed balance).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MalaConfig {
    /// Step size ε > 0 of the Langevin proposal.
    pub epsilon: f64,
    /// Localization strength γ ≥ 0 (the Gaussian prior (γ/2)‖w − w*‖² centred at w*).
    pub gamma: f64,
    /// nβ > 0, the inverse temperature times n.
    pub n_beta: f64,
}

impl MalaConfig {
    /// MALA with the paper's inverse temperature nβ = n/ln n.
    pub fn new(epsilon: f64, gamma: f64, n: usize) -> Self {
        Self { epsilon, gamma, n_beta: default_n_beta(n) }
    }

    /// Checks every setting, naming the first that is out of range (the same rules as
    /// [`SgldConfig::validate`]).
    pub fn validate(&self) -> Result<(), SamplerError> {
        SgldConfig { epsilon: self.epsilon, gamma: self.gamma, n_beta: self.n_beta, rmsprop: None }.validate()
    }
}

/// The paper's default inverse temperature, nβ = n/ln n (β = 1/ln n). For n ≤ 2, where ln n ≤ ln 2
/// makes the formula degenerate, nβ = n.
pub fn default_n_beta(n: usize) -> f64 {
    let n = n as f64;
    if n <= 2.0 { n } else { n / n.ln() }
}

fn positive(name: &'static str, value: f64) -> Result<(), SamplerError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SamplerError::InvalidSetting { name, value, expected: "finite and > 0" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_beta_is_n_over_log_n() {
        assert!((default_n_beta(100_000) - 100_000.0 / 100_000f64.ln()).abs() < 1e-9);
        assert_eq!(default_n_beta(1), 1.0);
    }

    #[test]
    fn validation_names_the_bad_setting() {
        let good = SgldConfig::new(1e-5, 1.0, 1000);
        assert!(good.validate().is_ok());
        for (bad, name) in [
            (SgldConfig { epsilon: 0.0, ..good }, "epsilon"),
            (SgldConfig { epsilon: -1e-3, ..good }, "epsilon"),
            (SgldConfig { epsilon: f64::NAN, ..good }, "epsilon"),
            (SgldConfig { gamma: -1.0, ..good }, "gamma"),
            (SgldConfig { n_beta: f64::INFINITY, ..good }, "n_beta"),
            (SgldConfig { rmsprop: Some(RmsPropConfig { alpha: 1.0, ..Default::default() }), ..good }, "rmsprop alpha"),
        ] {
            let err = bad.validate().unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn mala_validation_follows_sgld() {
        let good = MalaConfig::new(1e-5, 1.0, 1000);
        assert!(good.validate().is_ok());
        assert_eq!(good.n_beta, default_n_beta(1000));
        for (bad, name) in [
            (MalaConfig { epsilon: 0.0, ..good }, "epsilon"),
            (MalaConfig { gamma: f64::NAN, ..good }, "gamma"),
            (MalaConfig { n_beta: -1.0, ..good }, "n_beta"),
        ] {
            let err = bad.validate().unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
