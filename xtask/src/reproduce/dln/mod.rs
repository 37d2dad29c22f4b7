//! Suite `dln` (docs/method.md §4): λ̂ against Aoyagi's exact λ on random deep linear networks,
//! at the teacher and at an SGD-trained point.
//!
//! Each sweep draws `nets` networks: a number of weight matrices M uniform in `matrices`, each of
//! the M + 1 widths uniform in `widths` (redrawn while the parameter count exceeds `max_params`).
//! The teacher is the paper's random one (each layer's rank cut at random with probability 1/2) or
//! a full-rank one, per the config. λ is Aoyagi's λ at the rank of the teacher's product. At the
//! trained point, a fresh student (PyTorch's default init) is trained by SGD with momentum on the
//! teacher's data and λ̂ is measured where training ended.
//!
//! A sweep's `epsilon` is a number (the paper's fixed step) or `"auto"`: each chain then adapts its
//! own ε during burn-in (`llc_estimators::EpsilonAdaptation`) and keeps it for its draws. Either
//! way a chain whose loss diverges is put back at w* with its ε halved (`max_restarts` times at
//! most); each run records the ε of every chain's draws, its restarts and its lost chains, and the
//! report counts them per size class.
//!
//! This file holds the settings and the runs; `load.rs` reads and checks the config and draws the
//! plan, `analysis.rs` turns the records into figures, claims and the report section.

mod analysis;
mod load;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

use llc_app::{
    AUTO_EPSILON_START, AppBackend, DlnPoint, Point, Synthetic, Teacher, dln_loss, dln_point, dln_teacher,
    parameter_count,
};
use llc_estimators::{EpsilonAdaptation, InitLoss, NoisePlacement, SGLD_TARGET_ACCEPTANCE};
use llc_models::{DataForm, Dln, SgdTraining, train_sgd};
use serde::{Deserialize, Serialize};

use super::Suite;
use super::config::Span;
use super::records::Record;
use super::report::{SuiteReport, fmt_sig};
use super::runner::Context;
use analysis::epsilon_text;
use load::estimator_config;

/// The claims' thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DlnClaims {
    /// "Accurate": the median |λ̂ − λ|/λ of every size class (a decade of parameter count) at most this.
    median_relative_error: f64,
    /// The paper lost 40 of 593 runs to divergence; we claim at most this fraction of runs diverge.
    max_diverged_fraction: f64,
}

/// A scale's own thresholds, replacing the file's `[claims]` where given (e.g. the `auto` scale
/// claims a tighter median error than the paper's settings).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DlnClaimsOverride {
    #[serde(default)]
    median_relative_error: Option<f64>,
    #[serde(default)]
    max_diverged_fraction: Option<f64>,
}

/// A sweep's step size: a fixed ε (a number) or `"auto"` (each chain adapts its own during burn-in).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum EpsilonSetting {
    /// This ε for every chain (halved at each restart).
    Fixed(f64),
    /// `EstimatorConfig::epsilon_adaptation`, starting from `epsilon_start`.
    Auto,
}

impl<'de> Deserialize<'de> for EpsilonSetting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = EpsilonSetting;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a step size (a number > 0) or \"auto\"")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<EpsilonSetting, E> {
                Ok(EpsilonSetting::Fixed(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EpsilonSetting, E> {
                Ok(EpsilonSetting::Fixed(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EpsilonSetting, E> {
                Ok(EpsilonSetting::Fixed(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EpsilonSetting, E> {
                if v == "auto" {
                    Ok(EpsilonSetting::Auto)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Settings of one scale.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DlnScale {
    /// Seed of the network draws, teachers, data and chains.
    seed: u64,
    /// `paper-random` or `full-rank`.
    teacher: Teacher,
    /// Localization γ.
    gamma: f64,
    /// SGLD minibatch size.
    batch: usize,
    /// Chains per estimate (the paper: 1).
    chains: usize,
    /// Fraction of each chain's steps discarded as burn-in (the paper averages the last 10%: 0.9).
    burn_in_fraction: f64,
    /// MALA-acceptance diagnostic every this many steps (0: never).
    acceptance_every: usize,
    /// Also estimate at an SGD-trained point.
    trained_point: bool,
    /// SGD settings for the trained point.
    sgd: SgdSettings,
    /// With `epsilon = "auto"`: the MALA acceptance the adaptation aims for (default 0.9); a
    /// sweep's own `target_acceptance` wins.
    #[serde(default)]
    target_acceptance: Option<f64>,
    /// Restarts from w* (ε halved) a diverging chain gets before it is lost (default: the
    /// estimator's, 5).
    #[serde(default)]
    max_restarts: Option<usize>,
    /// This scale's own claim thresholds, where they differ from the file's `[claims]`.
    #[serde(default)]
    claims: Option<DlnClaimsOverride>,
    /// The sweeps.
    sweeps: Vec<Sweep>,
}

/// SGD for the trained point (the paper: lr 0.01, momentum 0.9, batch 500, 50,000 steps).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SgdSettings {
    learning_rate: f64,
    momentum: f64,
    batch: usize,
    steps: usize,
}

/// One sweep of random networks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sweep {
    name: String,
    nets: usize,
    widths: Span,
    matrices: Span,
    #[serde(default)]
    max_params: Option<usize>,
    /// Nets are redrawn while their parameter count is below this (to fill a size class).
    #[serde(default)]
    min_params: Option<usize>,
    n: usize,
    /// A number, or `"auto"`.
    epsilon: EpsilonSetting,
    /// With `epsilon = "auto"`: the ε every chain starts adapting from (default 2.5e-7).
    #[serde(default)]
    epsilon_start: Option<f64>,
    /// With `epsilon = "auto"`: the target MALA acceptance (default: the scale's, else 0.9).
    #[serde(default)]
    target_acceptance: Option<f64>,
    /// Chains per estimate for this sweep (default: the scale's `chains`).
    #[serde(default)]
    chains: Option<usize>,
    steps: usize,
}

impl Sweep {
    /// The ε its chains start from: the fixed ε, or the start of the adaptation.
    fn start_epsilon(&self) -> f64 {
        match self.epsilon {
            EpsilonSetting::Fixed(e) => e,
            EpsilonSetting::Auto => self.epsilon_start.unwrap_or(AUTO_EPSILON_START),
        }
    }

    /// The adaptation of `epsilon = "auto"` (None for a fixed ε).
    fn adaptation(&self, scale: &DlnScale) -> Option<EpsilonAdaptation> {
        (self.epsilon == EpsilonSetting::Auto).then(|| {
            let default = EpsilonAdaptation::default();
            EpsilonAdaptation {
                target_acceptance: Some(
                    self.target_acceptance.or(scale.target_acceptance).unwrap_or(SGLD_TARGET_ACCEPTANCE),
                ),
                ..default
            }
        })
    }
}

/// Where λ̂ is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PointKind {
    /// At the teacher itself.
    Teacher,
    /// At the end of SGD training from a fresh student.
    Trained,
}

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DlnSpec {
    sweep: String,
    net: usize,
    point: PointKind,
    widths: Vec<usize>,
    teacher: Teacher,
    seed: u64,
    n: usize,
    /// The fixed ε, or with `epsilon_adaptation` the ε the chains start adapting from.
    epsilon: f64,
    gamma: f64,
    batch: usize,
    chains: usize,
    steps: usize,
    burn_in: usize,
    acceptance_every: usize,
    sgd: Option<SgdSettings>,
    /// `epsilon = "auto"`: the adaptation (absent from the JSON otherwise, so that records of fixed-ε
    /// runs keep their fingerprints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epsilon_adaptation: Option<EpsilonAdaptation>,
    /// Restarts per chain, where the scale sets it (absent: the estimator's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_restarts: Option<usize>,
}

/// What one run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct DlnOutcome {
    params: usize,
    rank: usize,
    lambda: f64,
    lambda_hat: Option<f64>,
    lambda_hat_std: Option<f64>,
    relative_error: Option<f64>,
    /// "chain C diverged at step S (loss …)", for every chain lost after all its restarts; or the
    /// training's divergence.
    diverged: Vec<String>,
    /// The ε of each chain's draws (with `epsilon = "auto"` the one it chose; halved once per
    /// restart); for a lost chain, its ε when it was lost.
    #[serde(default)]
    epsilons: Vec<f64>,
    /// Mean, smallest and largest ε of the chains that finished.
    #[serde(default)]
    epsilon_mean: Option<f64>,
    #[serde(default)]
    epsilon_min: Option<f64>,
    #[serde(default)]
    epsilon_max: Option<f64>,
    /// How many times a chain diverged and was restarted from w* with ε halved (recovered divergences).
    #[serde(default)]
    restart_count: usize,
    /// Each restart, as text (`llc_estimators::Restart`'s display: chain, step, loss, ε before/after).
    #[serde(default)]
    restarts: Vec<String>,
    acceptance: Option<f64>,
    /// The relative bias of λ̂ its step size predicts (mean over chains; `Diagnostics::predicted_bias`).
    #[serde(default)]
    predicted_bias: Option<f64>,
    r_hat: Option<f64>,
    init_loss: f64,
    /// Full-data loss at the end of SGD (trained point only).
    train_loss: Option<f64>,
    materialized: bool,
    sampling_seconds: f64,
    total_seconds: f64,
    steps_per_second: f64,
}

/// The suite with its config at one scale.
pub(crate) struct DlnSuite {
    description: String,
    /// The file's thresholds with the scale's overrides applied.
    claims: DlnClaims,
    scale: DlnScale,
    /// Every run, drawn (and checked) when the file is loaded.
    plan: Vec<DlnSpec>,
}

impl Suite for DlnSuite {
    const NAME: &'static str = "dln";
    type Spec = DlnSpec;
    type Outcome = DlnOutcome;

    fn plan(&self) -> Vec<DlnSpec> {
        self.plan.clone()
    }

    fn id(&self, spec: &DlnSpec) -> String {
        let point = match spec.point {
            PointKind::Teacher => "teacher",
            PointKind::Trained => "trained",
        };
        format!("{}-net{:03}-{point}", spec.sweep, spec.net)
    }

    fn total_steps(&self, spec: &DlnSpec) -> u64 {
        (spec.steps * spec.chains + spec.sgd.map_or(0, |s| s.steps)) as u64
    }

    fn cost_per_step(&self, spec: &DlnSpec) -> u64 {
        // Measured on one core at batch 500: ≈ 0.22 ms per step plus ≈ 43 ns per parameter.
        220 + (parameter_count(&spec.widths, false) as u64 * 43 * spec.batch as u64) / 500_000
    }

    fn run<B: AppBackend>(&self, spec: &DlnSpec, on: Context<'_, B>) -> Result<DlnOutcome, String> {
        let started = std::time::Instant::now();
        let widths = &spec.widths;
        let teacher = dln_teacher(widths, spec.teacher, None, spec.seed).map_err(|e| e.to_string())?;
        let data = Synthetic { n: spec.n, seed: spec.seed, form: DataForm::Auto };
        let DlnPoint { point, rank, lambda } = dln_point::<B>(&teacher, data, on.device).map_err(|e| e.to_string())?;
        let materialized = point.materialized();
        let config = estimator_config(spec, NoisePlacement::of::<B>());
        let (point, train_loss) = match spec.sgd {
            None => (point, None),
            Some(sgd) => {
                let student =
                    Dln::<B>::init_random(widths, spec.seed.wrapping_add(2), on.device).map_err(|e| e.to_string())?;
                let training = SgdTraining {
                    learning_rate: sgd.learning_rate,
                    momentum: sgd.momentum,
                    batch_size: sgd.batch,
                    steps: sgd.steps,
                    seed: spec.seed.wrapping_add(3),
                };
                let outcome = train_sgd(student, &point.data.0, |m: &Dln<B>, x| m.forward(x), &training)
                    .map_err(|e| format!("training: {e}"))?;
                on.progress.add_steps(sgd.steps as u64);
                if let Some(step) = outcome.diverged_at {
                    return Ok(DlnOutcome {
                        params: parameter_count(widths, false),
                        rank,
                        lambda,
                        diverged: vec![format!("SGD training diverged at step {step}")],
                        init_loss: f64::NAN,
                        train_loss: Some(outcome.final_loss),
                        materialized,
                        total_seconds: started.elapsed().as_secs_f64(),
                        ..DlnOutcome::default()
                    });
                }
                // The trained point's loss is not known: it is computed over the data.
                let trained = Point { model: outcome.model, init: InitLoss::Compute { chunk: 4096 }, ..point };
                (trained, Some(outcome.final_loss))
            }
        };
        let estimate = point.estimate(dln_loss, config, on.progress).map_err(|e| e.to_string())?;
        let lambda_hat = estimate.lambda_hat.is_finite().then_some(estimate.lambda_hat);
        let finished: Vec<f64> =
            estimate.per_chain.iter().filter(|c| c.lambda_hat.is_some()).map(|c| c.epsilon).collect();
        let restarts: Vec<String> = estimate.diagnostics.restarts.iter().map(|r| r.to_string()).collect();
        Ok(DlnOutcome {
            params: parameter_count(widths, false),
            rank,
            lambda,
            lambda_hat,
            lambda_hat_std: lambda_hat.map(|_| estimate.lambda_hat_std),
            relative_error: lambda_hat.filter(|_| lambda > 0.0).map(|h| (h - lambda) / lambda),
            diverged: estimate.diagnostics.diverged.iter().map(|d| d.to_string()).collect(),
            epsilons: estimate.per_chain.iter().map(|c| c.epsilon).collect(),
            epsilon_mean: (!finished.is_empty()).then(|| finished.iter().sum::<f64>() / finished.len() as f64),
            epsilon_min: finished.iter().copied().reduce(f64::min),
            epsilon_max: finished.iter().copied().reduce(f64::max),
            restart_count: restarts.len(),
            restarts,
            acceptance: estimate.diagnostics.mean_acceptance,
            predicted_bias: estimate.diagnostics.predicted_bias,
            r_hat: estimate.diagnostics.r_hat,
            init_loss: estimate.init_loss,
            train_loss,
            materialized,
            sampling_seconds: estimate.seconds,
            total_seconds: started.elapsed().as_secs_f64(),
            steps_per_second: estimate.steps_per_second,
        })
    }

    fn describe(&self, record: &Record<DlnSpec, DlnOutcome>) -> Option<String> {
        let r = &record.result;
        let hat = r.lambda_hat.map_or_else(|| "diverged".to_owned(), fmt_sig);
        let err = r.relative_error.map_or_else(String::new, |e| format!(" ({:+.1}%)", 100.0 * e));
        let restarts = match r.restart_count {
            0 => String::new(),
            1 => ", 1 restart".to_owned(),
            k => format!(", {k} restarts"),
        };
        Some(format!(
            "{} {:?} d={} r={}: λ̂ = {hat} vs λ = {}{err}, ε {}{restarts}, {:.0} s",
            record.id,
            record.spec.widths,
            r.params,
            r.rank,
            fmt_sig(r.lambda),
            epsilon_text(record),
            r.total_seconds
        ))
    }

    fn analyze(&self, records: &[Record<DlnSpec, DlnOutcome>], dir: &Path) -> Result<SuiteReport, String> {
        self.report(records, dir)
    }
}
