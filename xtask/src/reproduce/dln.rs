//! Suite `dln` (method.md §4): λ̂ against Aoyagi's exact λ on random deep linear networks, at the
//! teacher and at an SGD-trained point.
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

use std::fmt;
use std::path::Path;

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use llc_estimators::{
    EpsilonAdaptation, EstimatorConfig, InitLoss, LlcEstimate, MIN_ADAPTATION_MEASURES, SamplerKind, estimate_llc,
};
use llc_models::{DataForm, Dln, DlnTeacher, RegressionData, SgdTraining, SyntheticInputs, mse, train_sgd};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::config::{Span, SuiteFile, require};
use super::records::Record;
use super::report::{Claim, SuiteReport, fmt_sig, median};
use super::runner::RunProgress;
use super::{Regression, Suite};
use crate::figures::{ColorScale, Figure, Panel, Point, Series, Style, write_figure};

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

/// The step size the start ε of `epsilon = "auto"` defaults to: the CLI's fixed default
/// (`EstimatorConfig::default().epsilon`, 2.5e-7), which is also where `llc estimate --epsilon auto`
/// starts.
const AUTO_EPSILON_START: f64 = 2.5e-7;

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
    teacher: TeacherKind,
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
                target_acceptance: self
                    .target_acceptance
                    .or(scale.target_acceptance)
                    .unwrap_or(default.target_acceptance),
                ..default
            }
        })
    }
}

/// Which teacher the networks get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum TeacherKind {
    /// The paper's procedure (`DlnTeacher::random`).
    PaperRandom,
    /// Every layer full rank (`DlnTeacher::full_rank`).
    FullRank,
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
    teacher: TeacherKind,
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

impl DlnSuite {
    /// Reads `experiments/dln.toml` at `scale` and checks its settings.
    pub(crate) fn load(experiments: &Path, scale: &str) -> Result<Self, String> {
        let path = experiments.join("dln.toml");
        let file = SuiteFile::<DlnClaims, DlnScale>::load(&path)?;
        let s = file.scale(&path, scale)?;
        let at = |what: &str| format!("{} [scales.{scale}]: {what}", path.display());
        require(s.gamma.is_finite() && s.gamma >= 0.0, || at("gamma must be finite and ≥ 0"))?;
        require(s.batch > 0 && s.chains > 0, || at("batch and chains must be positive"))?;
        require((0.0..1.0).contains(&s.burn_in_fraction), || at("burn_in_fraction must lie in [0, 1)"))?;
        require(s.sgd.learning_rate > 0.0 && (0.0..1.0).contains(&s.sgd.momentum) && s.sgd.batch > 0, || {
            at("sgd needs learning_rate > 0, momentum in [0, 1), batch > 0")
        })?;
        require(!s.sweeps.is_empty(), || at("no sweeps"))?;
        if let Some(target) = s.target_acceptance {
            require(target > 0.0 && target < 1.0, || at("target_acceptance must lie strictly between 0 and 1"))?;
            require(s.sweeps.iter().any(|w| w.epsilon == EpsilonSetting::Auto), || {
                at("target_acceptance only applies to sweeps with epsilon = \"auto\", and there are none")
            })?;
        }
        for w in &s.sweeps {
            let at = |what: &str| at(&format!("sweep '{}': {what}", w.name));
            require(w.nets > 0 && w.steps > 0, || at("nets and steps must be positive"))?;
            require(w.widths.low >= 1 && w.matrices.low >= 1, || at("widths and matrices start at 1"))?;
            require(w.n >= s.batch && w.n >= s.sgd.batch, || at("n must be at least the batch sizes"))?;
            require(w.chains.is_none_or(|c| c > 0), || at("chains must be positive"))?;
            match w.epsilon {
                EpsilonSetting::Fixed(e) => {
                    require(e > 0.0 && e.is_finite(), || at("epsilon must be a number > 0 or \"auto\""))?;
                    require(w.epsilon_start.is_none() && w.target_acceptance.is_none(), || {
                        at("epsilon_start and target_acceptance only apply with epsilon = \"auto\"")
                    })?;
                }
                EpsilonSetting::Auto => {
                    let start = w.start_epsilon();
                    require(start > 0.0 && start.is_finite(), || at("epsilon_start must be a number > 0"))?;
                    if let Some(target) = w.target_acceptance {
                        require(target > 0.0 && target < 1.0, || {
                            at("target_acceptance must lie strictly between 0 and 1")
                        })?;
                    }
                }
            }
            let largest = w.widths.high * w.widths.high * w.matrices.high;
            let smallest = w.widths.low * w.widths.low * w.matrices.low;
            if let Some(cap) = w.max_params {
                require(cap >= smallest, || at(&format!("max_params {cap} is below the smallest net ({smallest})")))?;
            }
            if let Some(floor) = w.min_params {
                require(floor <= largest, || at(&format!("min_params {floor} is above the largest net ({largest})")))?;
                require(w.max_params.is_none_or(|cap| floor <= cap), || at("min_params is above max_params"))?;
            }
        }
        let names: std::collections::HashSet<&String> = s.sweeps.iter().map(|w| &w.name).collect();
        require(names.len() == s.sweeps.len(), || at("two sweeps share a name"))?;
        let plan = plan_runs(&s).map_err(|(sweep, what)| at(&format!("sweep '{sweep}': {what}")))?;
        // The estimator's own checks (the adaptation's burn-in above all), once per sweep, so that a
        // setting it refuses fails here rather than in every run.
        for w in &s.sweeps {
            let Some(spec) = plan.iter().find(|p| p.sweep == w.name) else { continue };
            let config = estimator_config(spec, llc_estimators::NoisePlacement::Host);
            if let Some(adapt) = spec.epsilon_adaptation {
                let measures = config.adaptation_steps() / adapt.every;
                require(measures >= MIN_ADAPTATION_MEASURES, || {
                    at(&format!(
                        "sweep '{}': epsilon = \"auto\" adapts over the first {:.0}% of burn-in with an acceptance \
                         measure every {} steps, so it needs at least {MIN_ADAPTATION_MEASURES} measures, but {} steps \
                         with burn_in_fraction {} give a burn-in of {} steps and {measures} measures; use more steps \
                         or a larger burn_in_fraction",
                        w.name,
                        100.0 * adapt.fraction,
                        adapt.every,
                        spec.steps,
                        s.burn_in_fraction,
                        spec.burn_in
                    ))
                })?;
            }
            config.validate(spec.n).map_err(|e| at(&format!("sweep '{}': {e}", w.name)))?;
        }
        let mut claims = file.claims;
        if let Some(o) = &s.claims {
            claims.median_relative_error = o.median_relative_error.unwrap_or(claims.median_relative_error);
            claims.max_diverged_fraction = o.max_diverged_fraction.unwrap_or(claims.max_diverged_fraction);
        }
        require(claims.median_relative_error > 0.0 && (0.0..=1.0).contains(&claims.max_diverged_fraction), || {
            at("claims need median_relative_error > 0 and max_diverged_fraction in [0, 1]")
        })?;
        Ok(Self { description: file.description, claims, scale: s, plan })
    }
}

/// Every run of a scale, in a fixed order; or the sweep whose nets cannot be drawn, and why.
fn plan_runs(s: &DlnScale) -> Result<Vec<DlnSpec>, (String, String)> {
    let mut plan = Vec::new();
    for sweep in &s.sweeps {
        for net in 0..sweep.nets {
            let widths = draw_widths(s.seed, sweep, net).ok_or_else(|| {
                (
                    sweep.name.clone(),
                    format!(
                        "no net with parameters in [{}, {}] after {DRAW_ATTEMPTS} draws; widen widths or the bounds",
                        sweep.min_params.unwrap_or(0),
                        sweep.max_params.map_or_else(|| "∞".to_owned(), |c| c.to_string())
                    ),
                )
            })?;
            let points: &[PointKind] =
                if s.trained_point { &[PointKind::Teacher, PointKind::Trained] } else { &[PointKind::Teacher] };
            for &point in points {
                let burn_in = ((sweep.steps as f64) * s.burn_in_fraction).round() as usize;
                plan.push(DlnSpec {
                    sweep: sweep.name.clone(),
                    net,
                    point,
                    widths: widths.clone(),
                    teacher: s.teacher,
                    seed: s.seed.wrapping_mul(1_000_003).wrapping_add(name_hash(&sweep.name)).wrapping_add(net as u64),
                    n: sweep.n,
                    epsilon: sweep.start_epsilon(),
                    gamma: s.gamma,
                    batch: s.batch,
                    chains: sweep.chains.unwrap_or(s.chains),
                    steps: sweep.steps,
                    burn_in: burn_in.min(sweep.steps - 1),
                    acceptance_every: s.acceptance_every,
                    sgd: (point == PointKind::Trained).then_some(s.sgd),
                    epsilon_adaptation: sweep.adaptation(s),
                    max_restarts: s.max_restarts,
                });
            }
        }
    }
    Ok(plan)
}

/// The estimator's settings for a run.
fn estimator_config(spec: &DlnSpec, noise: llc_estimators::NoisePlacement) -> EstimatorConfig {
    let defaults = EstimatorConfig::default();
    EstimatorConfig {
        n_chains: spec.chains,
        n_steps: spec.steps,
        n_burnin: spec.burn_in,
        thinning: 1,
        batch_size: spec.batch,
        epsilon: spec.epsilon,
        epsilon_adaptation: spec.epsilon_adaptation,
        max_restarts: spec.max_restarts.unwrap_or(defaults.max_restarts),
        gamma: spec.gamma,
        n_beta: None,
        sampler: SamplerKind::Sgld,
        seed: spec.seed,
        acceptance_every: spec.acceptance_every,
        noise,
        ..defaults
    }
}

/// How many times a net is redrawn to fit `min_params`/`max_params` before the sweep is refused.
const DRAW_ATTEMPTS: usize = 100_000;

/// The widths of net `net` of `sweep`: a pure function of the seed, sweep and index (None when no
/// draw fits the parameter bounds).
fn draw_widths(seed: u64, sweep: &Sweep, net: usize) -> Option<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ name_hash(&sweep.name));
    rng.set_stream(net as u64);
    for _ in 0..DRAW_ATTEMPTS {
        let matrices = rng.random_range(sweep.matrices.low..=sweep.matrices.high);
        let widths: Vec<usize> =
            (0..=matrices).map(|_| rng.random_range(sweep.widths.low..=sweep.widths.high)).collect();
        let params: usize = widths.windows(2).map(|w| w[0] * w[1]).sum();
        if sweep.max_params.is_none_or(|cap| params <= cap) && sweep.min_params.is_none_or(|floor| params >= floor) {
            return Some(widths);
        }
    }
    None
}

/// A stable hash of a sweep name (FNV-1a), so that sweeps draw different nets.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn params_of(widths: &[usize]) -> usize {
    widths.windows(2).map(|w| w[0] * w[1]).sum()
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
        220 + (params_of(&spec.widths) as u64 * 43 * spec.batch as u64) / 500_000
    }

    fn run<B: AutodiffBackend>(
        &self,
        spec: &DlnSpec,
        device: &B::Device,
        progress: &mut RunProgress,
    ) -> Result<DlnOutcome, String> {
        let started = std::time::Instant::now();
        let widths = &spec.widths;
        let teacher = match spec.teacher {
            TeacherKind::PaperRandom => DlnTeacher::random(widths, spec.seed),
            TeacherKind::FullRank => DlnTeacher::full_rank(widths, spec.seed),
        }
        .map_err(|e| format!("teacher: {e}"))?;
        let rank = teacher.true_rank();
        let lambda = llc_theory::dln_learning_coefficient(widths, rank)
            .map_err(|e| format!("theory at rank {rank}: {e}"))?
            .lambda();
        let inputs = SyntheticInputs::new(spec.seed.wrapping_add(1), spec.n, widths[0]).map_err(|e| e.to_string())?;
        let data = RegressionData::<B>::dln(&teacher, inputs, DataForm::Auto, device).map_err(|e| e.to_string())?;
        let materialized = data.is_materialized();
        let config = estimator_config(spec, crate::device::noise_placement::<B>());
        let mut diverged = Vec::new();
        let (model, init, train_loss) = match spec.sgd {
            None => {
                // A noiseless teacher has L_n(w*) = 0; with data in memory it is computed (f32 rounding).
                let init = if materialized { InitLoss::Compute { chunk: 4096 } } else { InitLoss::Known(0.0) };
                (teacher.to_module::<B>(device), init, None)
            }
            Some(sgd) => {
                let student =
                    Dln::<B>::init_random(widths, spec.seed.wrapping_add(2), device).map_err(|e| e.to_string())?;
                let training = SgdTraining {
                    learning_rate: sgd.learning_rate,
                    momentum: sgd.momentum,
                    batch_size: sgd.batch,
                    steps: sgd.steps,
                    seed: spec.seed.wrapping_add(3),
                };
                let outcome = train_sgd(student, &data, |m: &Dln<B>, x| m.forward(x), &training)
                    .map_err(|e| format!("training: {e}"))?;
                progress.add_steps(sgd.steps as u64);
                if let Some(step) = outcome.diverged_at {
                    diverged.push(format!("SGD training diverged at step {step}"));
                    return Ok(DlnOutcome {
                        params: params_of(widths),
                        rank,
                        lambda,
                        lambda_hat: None,
                        lambda_hat_std: None,
                        relative_error: None,
                        diverged,
                        epsilons: Vec::new(),
                        epsilon_mean: None,
                        epsilon_min: None,
                        epsilon_max: None,
                        restart_count: 0,
                        restarts: Vec::new(),
                        acceptance: None,
                        predicted_bias: None,
                        r_hat: None,
                        init_loss: f64::NAN,
                        train_loss: Some(outcome.final_loss),
                        materialized,
                        sampling_seconds: 0.0,
                        total_seconds: started.elapsed().as_secs_f64(),
                        steps_per_second: 0.0,
                    });
                }
                (outcome.model, InitLoss::Compute { chunk: 4096 }, Some(outcome.final_loss))
            }
        };
        let data = Regression(data);
        let estimate: LlcEstimate = estimate_llc(
            &model,
            &data,
            |m: &Dln<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)| mse(m.forward(x.clone()), y.clone()),
            &config,
            init,
            progress,
        )
        .map_err(|e| e.to_string())?;
        diverged.extend(estimate.diagnostics.diverged.iter().map(|d| d.to_string()));
        let lambda_hat = estimate.lambda_hat.is_finite().then_some(estimate.lambda_hat);
        let finished: Vec<f64> =
            estimate.per_chain.iter().filter(|c| c.lambda_hat.is_some()).map(|c| c.epsilon).collect();
        let restarts: Vec<String> = estimate.diagnostics.restarts.iter().map(|r| r.to_string()).collect();
        Ok(DlnOutcome {
            params: params_of(widths),
            rank,
            lambda,
            lambda_hat,
            lambda_hat_std: lambda_hat.map(|_| estimate.lambda_hat_std),
            relative_error: lambda_hat.filter(|_| lambda > 0.0).map(|h| (h - lambda) / lambda),
            diverged,
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
        let points: Vec<PointKind> = if self.scale.trained_point {
            vec![PointKind::Teacher, PointKind::Trained]
        } else {
            vec![PointKind::Teacher]
        };
        let of = |p: PointKind| records.iter().filter(move |r| r.spec.point == p);
        let classes = size_classes(records);

        // Figures: λ̂ vs λ per point, coloured by parameter count; relative error vs size.
        let lambda_panels: Vec<Panel> = points
            .iter()
            .map(|&p| Panel {
                title: format!("at the {}", point_name(p)),
                x_label: "λ (Aoyagi)".into(),
                y_label: "λ̂ (SGLD)".into(),
                x_log: true,
                y_log: true,
                series: vec![Series {
                    label: format!("{} nets", of(p).count()),
                    style: Style::Markers,
                    points: of(p)
                        .filter_map(|r| {
                            r.result.lambda_hat.map(|hat| Point {
                                x: r.result.lambda,
                                y: hat,
                                y_err: None,
                                color_value: Some(r.result.params as f64),
                            })
                        })
                        .collect(),
                }],
                diagonal: true,
                h_line: None,
                color_scale: Some(ColorScale { label: "parameters d".into(), log: true }),
            })
            .collect();
        let mut figures = Vec::new();
        figures.extend(write_figure(
            &Figure { title: "DLN: estimated vs exact learning coefficient".into(), panels: lambda_panels },
            dir,
            "dln_lambda",
        )?);
        let error_panel = Panel {
            title: "relative error vs size".into(),
            x_label: "parameters d".into(),
            y_label: "(λ̂ − λ)/λ  [%]".into(),
            x_log: true,
            y_log: false,
            series: points
                .iter()
                .map(|&p| Series {
                    label: format!("at the {}", point_name(p)),
                    style: Style::Markers,
                    points: of(p)
                        .filter_map(|r| {
                            r.result.relative_error.map(|e| Point {
                                x: r.result.params as f64,
                                y: 100.0 * e,
                                y_err: None,
                                color_value: None,
                            })
                        })
                        .collect(),
                })
                .collect(),
            diagonal: false,
            h_line: Some(0.0),
            color_scale: None,
        };
        figures.extend(write_figure(
            &Figure { title: "DLN: relative error of λ̂".into(), panels: vec![error_panel] },
            dir,
            "dln_error",
        )?);

        // With ε = auto: the step each chain chose against the net's size.
        let auto_runs: Vec<&Record<DlnSpec, DlnOutcome>> =
            records.iter().filter(|r| r.spec.epsilon_adaptation.is_some()).collect();
        if !auto_runs.is_empty() {
            let panel = Panel {
                title: "step size chosen by the adaptation".into(),
                x_label: "parameters d".into(),
                y_label: "ε (per chain)".into(),
                x_log: true,
                y_log: true,
                series: vec![Series {
                    label: format!("{} chains", auto_runs.iter().map(|r| r.result.epsilons.len()).sum::<usize>()),
                    style: Style::Markers,
                    points: auto_runs
                        .iter()
                        .filter(|r| r.result.lambda_hat.is_some())
                        .flat_map(|r| {
                            r.result.epsilons.iter().filter(|e| e.is_finite() && **e > 0.0).map(|&e| Point {
                                x: r.result.params as f64,
                                y: e,
                                y_err: None,
                                color_value: None,
                            })
                        })
                        .collect(),
                }],
                diagonal: false,
                h_line: None,
                color_scale: None,
            };
            figures.extend(write_figure(
                &Figure { title: "DLN: automatic step size".into(), panels: vec![panel] },
                dir,
                "dln_epsilon",
            )?);
        }

        // Claims.
        let mut claims = Vec::new();
        let limit = self.claims.median_relative_error;
        let mut table = String::from(
            "| size class (d) | point | runs | median (λ̂−λ)/λ | median abs. rel. error | median acceptance | \
             median predicted step bias | restarts (recovered) | lost runs | ε of the draws |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
        );
        let mut screen = Vec::new();
        for &p in &points {
            let mut per_class = serde_json::Map::new();
            let mut holds = true;
            for (label, lo, hi) in &classes {
                let in_class: Vec<&Record<DlnSpec, DlnOutcome>> =
                    of(p).filter(|r| (*lo..*hi).contains(&r.result.params)).collect();
                let errors: Vec<f64> = in_class.iter().filter_map(|r| r.result.relative_error).collect();
                let abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
                let med_abs = median(&abs);
                let med = median(&errors);
                let lost = in_class.iter().filter(|r| !r.result.diverged.is_empty()).count();
                let restarts: usize = in_class.iter().map(|r| r.result.restart_count).sum();
                let with_restarts = in_class.iter().filter(|r| r.result.restart_count > 0).count();
                let epsilons = epsilon_range(&in_class);
                let acceptance: Vec<f64> = in_class.iter().filter_map(|r| r.result.acceptance).collect();
                let bias: Vec<f64> = in_class.iter().filter_map(|r| r.result.predicted_bias).collect();
                table.push_str(&format!(
                    "| {label} | {} | {} | {} | {} | {} | {} | {restarts} (in {with_restarts} runs) | {lost} | {epsilons} |\n",
                    point_name(p),
                    in_class.len(),
                    med.map_or("–".into(), |m| format!("{:+.1}%", 100.0 * m)),
                    med_abs.map_or("–".into(), |m| format!("{:.1}%", 100.0 * m)),
                    median(&acceptance).map_or("–".into(), |a| format!("{a:.3}")),
                    median(&bias).map_or("–".into(), |b| format!("{:+.1}%", 100.0 * b)),
                ));
                per_class.insert(label.clone(), med_abs.map_or(serde_json::Value::Null, |m| serde_json::json!(m)));
                holds &= med_abs.is_some_and(|m| m <= limit);
                screen.push(format!(
                    "{:<8} d {label:<12} {} runs, median |rel. error| {}, {restarts} restarts, {lost} lost, ε {epsilons}",
                    point_name(p),
                    in_class.len(),
                    med_abs.map_or("–".into(), |m| format!("{:.1}%", 100.0 * m))
                ));
            }
            claims.push(Claim {
                suite: Self::NAME,
                claim: format!(
                    "at the {}: median |λ̂ − λ|/λ ≤ {:.0}% in every size class",
                    point_name(p),
                    100.0 * limit
                ),
                holds,
                value: serde_json::Value::Object(per_class),
            });
        }
        let lost = records.iter().filter(|r| !r.result.diverged.is_empty()).count();
        let restarts: usize = records.iter().map(|r| r.result.restart_count).sum();
        let fraction = lost as f64 / records.len().max(1) as f64;
        claims.push(Claim {
            suite: Self::NAME,
            claim: format!(
                "runs lost to divergence ≤ {:.1}% (the paper: 40 of 593 = 6.7%)",
                100.0 * self.claims.max_diverged_fraction
            ),
            holds: fraction <= self.claims.max_diverged_fraction,
            value: serde_json::json!(format!(
                "{lost} of {} ({restarts} divergences recovered by restarts)",
                records.len()
            )),
        });

        let mut md = format!("## Suite dln: λ̂ vs Aoyagi's λ on deep linear networks\n\n{}\n\n", self.description);
        md.push_str(&format!(
            "Teachers: {}. Sweeps at this scale:\n\n| sweep | nets | widths | matrices | parameters | n | ε | chains × steps |\n\
             |---|---|---|---|---|---|---|---|\n",
            match self.scale.teacher {
                TeacherKind::PaperRandom => "the paper's random procedure (each layer's rank cut with probability 1/2)",
                TeacherKind::FullRank => "every layer full rank",
            }
        ));
        for w in &self.scale.sweeps {
            let epsilon = match w.adaptation(&self.scale) {
                None => format!("{:e}", w.start_epsilon()),
                Some(a) => format!("auto (from {:e}, target acceptance {})", w.start_epsilon(), a.target_acceptance),
            };
            let params = match (w.min_params, w.max_params) {
                (None, None) => "any".to_owned(),
                (lo, hi) => format!(
                    "{}–{}",
                    lo.map_or_else(|| "…".to_owned(), |v| v.to_string()),
                    hi.map_or_else(|| "…".to_owned(), |v| v.to_string())
                ),
            };
            md.push_str(&format!(
                "| {} | {} | {}–{} | {}–{} | {params} | {} | {epsilon} | {} × {} |\n",
                w.name,
                w.nets,
                w.widths.low,
                w.widths.high,
                w.matrices.low,
                w.matrices.high,
                w.n,
                w.chains.unwrap_or(self.scale.chains),
                w.steps
            ));
        }
        md.push_str(&format!(
            "\nγ = {}, batch {}, {} chain(s) per estimate, nβ = n/ln n, the last {:.0}% of the draws averaged{}.\n\n",
            self.scale.gamma,
            self.scale.batch,
            self.scale.chains,
            100.0 * (1.0 - self.scale.burn_in_fraction),
            if self.scale.trained_point {
                format!(
                    "; trained point: SGD lr {}, momentum {}, batch {}, {} steps from PyTorch's default init",
                    self.scale.sgd.learning_rate, self.scale.sgd.momentum, self.scale.sgd.batch, self.scale.sgd.steps
                )
            } else {
                String::new()
            }
        ));
        md.push_str(&table);
        md.push_str(&format!(
            "\nThe paper published no numeric error, only the log-log plot (\"accurate up to 100M parameters\"), and lost \
             40 of 593 runs to NaN; here {lost} of {} runs lost a chain for good, and {restarts} divergences were \
             recovered by restarting the chain from w* with ε halved (at most {} times per chain). \"ε of the draws\" is \
             the range over the finished chains of the step their draws were made with: with ε = auto the step each \
             chain chose during burn-in, else the fixed ε (halved once per restart). \"Median acceptance\" is the MALA \
             acceptance probability of the SGLD moves after burn-in (every {} steps), which ε = auto aims at during \
             burn-in.\n\n",
            records.len(),
            self.scale.max_restarts.unwrap_or(EstimatorConfig::default().max_restarts),
            self.scale.acceptance_every
        ));
        md.push_str(match self.scale.teacher {
            TeacherKind::PaperRandom => {
                "How to read the errors. λ̂ estimates the *local* coefficient at its point, and Aoyagi's λ is the \
                 minimum of the local coefficient over the set of true parameters, so the local value can only be \
                 larger. Where λ̂ exceeds λ at a paper-random teacher, the likely cause is that: the local coefficient \
                 at the teacher is larger than λ when a rank-cut layer sits between full-rank ones \
                 (docs/dln-teachers.md); SGD from a small initialization tends to end nearer the most degenerate \
                 points, where local and global agree. An estimate *below* λ cannot come from that; it means the \
                 chain had not risen to equilibrium in its steps (slow mixing near degenerate points, or a step size \
                 too small for the net).\n\n"
            }
            TeacherKind::FullRank => {
                "How to read the errors. At a full-rank teacher the local coefficient equals Aoyagi's λ \
                 (docs/dln-teachers.md), so the errors are the sampler's own: an estimate above λ is the \
                 discretization bias of a step that is too large (it grows as the MALA acceptance of the SGLD moves \
                 falls), one below λ a chain that had not risen to equilibrium in its steps.\n\n"
            }
        });
        md.push_str("![λ̂ vs λ](dln_lambda.svg)\n\n![relative error](dln_error.svg)\n\n");
        if !auto_runs.is_empty() {
            md.push_str("![chosen ε](dln_epsilon.svg)\n\n");
        }
        md.push_str(
            "<details><summary>Every run</summary>\n\n| run | widths | d | r | λ | λ̂ | error | ε | acceptance | R̂ | \
             seconds | note |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for r in records {
            let o = &r.result;
            let notes: Vec<&str> = o.restarts.iter().chain(&o.diverged).map(String::as_str).collect();
            md.push_str(&format!(
                "| {} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} |\n",
                r.id,
                r.spec.widths,
                o.params,
                o.rank,
                fmt_sig(o.lambda),
                o.lambda_hat.map_or("–".into(), fmt_sig),
                o.relative_error.map_or("–".into(), |e| format!("{:+.1}%", 100.0 * e)),
                epsilon_text(r),
                o.acceptance.map_or("–".into(), |a| format!("{a:.3}")),
                o.r_hat.map_or("–".into(), |a| format!("{a:.3}")),
                o.total_seconds,
                notes.join("; ").replace('|', "\\|"),
            ));
        }
        md.push_str("\n</details>\n");
        screen.push(format!(
            "{lost} of {} runs lost a chain; {restarts} divergences recovered by restarts",
            records.len()
        ));
        Ok(SuiteReport { suite: Self::NAME, claims, markdown: md, screen, figures })
    }
}

fn point_name(p: PointKind) -> &'static str {
    match p {
        PointKind::Teacher => "teacher",
        PointKind::Trained => "trained point",
    }
}

/// The ε of a run's draws in a few characters: the fixed ε, or the chosen ε (one chain) or the
/// range over its chains, marked "auto".
fn epsilon_text(record: &Record<DlnSpec, DlnOutcome>) -> String {
    let o = &record.result;
    let auto = record.spec.epsilon_adaptation.is_some();
    let range = match (o.epsilon_min, o.epsilon_max) {
        (Some(lo), Some(hi)) if lo == hi => format!("{lo:.2e}"),
        (Some(lo), Some(hi)) => format!("{lo:.2e}–{hi:.2e}"),
        _ if auto => "–".to_owned(),
        // Records of fixed-ε runs written before the ε was recorded.
        _ => format!("{:.2e}", record.spec.epsilon),
    };
    if auto { format!("auto → {range}") } else { range }
}

/// The range of the ε of the finished chains' draws over some runs (for the per-class table).
fn epsilon_range(records: &[&Record<DlnSpec, DlnOutcome>]) -> String {
    let auto = records.iter().any(|r| r.spec.epsilon_adaptation.is_some());
    let (lo, hi) = records
        .iter()
        .flat_map(|r| match (r.result.epsilon_min, r.result.epsilon_max) {
            (Some(lo), Some(hi)) => vec![lo, hi],
            _ if r.spec.epsilon_adaptation.is_none() && r.result.lambda_hat.is_some() => vec![r.spec.epsilon],
            _ => Vec::new(),
        })
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), e| (lo.min(e), hi.max(e)));
    let range = if lo > hi {
        "–".to_owned()
    } else if lo == hi {
        format!("{lo:.2e}")
    } else {
        format!("{lo:.2e}–{hi:.2e}")
    };
    if auto { format!("auto → {range}") } else { range }
}

/// The decades of parameter count the records fall in, as (label, low, high).
fn size_classes(records: &[Record<DlnSpec, DlnOutcome>]) -> Vec<(String, usize, usize)> {
    let mut decades: Vec<u32> =
        records.iter().map(|r| (r.result.params.max(1) as f64).log10().floor() as u32).collect();
    decades.sort_unstable();
    decades.dedup();
    decades.into_iter().map(|k| (format!("10^{k}–10^{}", k + 1), 10usize.pow(k), 10usize.pow(k + 1))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::config::experiments_dir;

    /// A `dln.toml` with one scale `t` whose scale table gets `scale_extra` and whose one sweep gets
    /// `sweep_extra`, in a fresh directory.
    fn suite_file(name: &str, scale_extra: &str, sweep_extra: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("llc-xtask-dln-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(
            "description = \"t\"\n[claims]\nmedian_relative_error = 0.1\nmax_diverged_fraction = 0.1\n\
             [scales.t]\nseed = 1\nteacher = \"full-rank\"\ngamma = 1.0\nbatch = 500\nchains = 1\n\
             burn_in_fraction = 0.5\nacceptance_every = 20\ntrained_point = false\n\
             sgd = {{ learning_rate = 0.01, momentum = 0.9, batch = 500, steps = 10 }}\n{scale_extra}\n\
             [[scales.t.sweeps]]\nname = \"w\"\nnets = 2\nwidths = [5, 20]\nmatrices = [2, 3]\nn = 1000\n\
             {sweep_extra}\n{}\n",
            if sweep_extra.contains("steps") { "" } else { "steps = 1000" }
        );
        std::fs::write(dir.join("dln.toml"), text).unwrap();
        dir
    }

    fn load_error(name: &str, scale_extra: &str, sweep_extra: &str) -> String {
        let dir = suite_file(name, scale_extra, sweep_extra);
        let result = DlnSuite::load(&dir, "t");
        std::fs::remove_dir_all(&dir).unwrap();
        result.err().unwrap_or_else(|| panic!("{name}: expected an error"))
    }

    #[test]
    fn epsilon_is_a_number_or_auto() {
        let dir = suite_file("auto", "target_acceptance = 0.95", "epsilon = \"auto\"\nepsilon_start = 1e-7");
        let suite = DlnSuite::load(&dir, "t").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let spec = &suite.plan()[0];
        assert_eq!(spec.epsilon, 1e-7);
        let adapt = spec.epsilon_adaptation.unwrap();
        assert_eq!(adapt.target_acceptance, 0.95);
        assert_eq!((adapt.fraction, adapt.every), (0.75, 2));
        let config = estimator_config(spec, llc_estimators::NoisePlacement::Host);
        assert_eq!(config.epsilon_adaptation, Some(adapt));

        // Without a start ε, auto starts where `llc estimate --epsilon auto` does.
        let dir = suite_file("auto-default", "", "epsilon = \"auto\"\ntarget_acceptance = 0.8");
        let suite = DlnSuite::load(&dir, "t").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(suite.plan()[0].epsilon, EstimatorConfig::default().epsilon);
        assert_eq!(suite.plan()[0].epsilon_adaptation.unwrap().target_acceptance, 0.8);

        // A number is a fixed ε, and its spec's JSON is what it was before the adaptation existed
        // (so that records of fixed-ε runs keep their fingerprints).
        let dir = suite_file("fixed", "", "epsilon = 5e-7");
        let suite = DlnSuite::load(&dir, "t").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let spec = &suite.plan()[0];
        assert_eq!((spec.epsilon, spec.epsilon_adaptation), (5e-7, None));
        let json = serde_json::to_string(spec).unwrap();
        assert!(!json.contains("adaptation") && !json.contains("max_restarts"), "{json}");

        let err = load_error("bad", "", "epsilon = \"automatic\"");
        assert!(err.contains("\"auto\""), "{err}");
        let err = load_error("negative", "", "epsilon = -1e-7");
        assert!(err.contains("sweep 'w'") && err.contains("epsilon"), "{err}");
    }

    #[test]
    fn auto_settings_without_auto_and_a_short_burn_in_are_refused_by_name() {
        let err = load_error("start", "", "epsilon = 5e-7\nepsilon_start = 1e-7");
        assert!(err.contains("[scales.t]") && err.contains("sweep 'w'") && err.contains("only apply"), "{err}");
        let err = load_error("scale-target", "target_acceptance = 0.9", "epsilon = 5e-7");
        assert!(err.contains("[scales.t]") && err.contains("target_acceptance"), "{err}");
        let err = load_error("target", "", "epsilon = \"auto\"\ntarget_acceptance = 1.0");
        assert!(err.contains("sweep 'w'") && err.contains("target_acceptance"), "{err}");
        // 1,000 steps at burn_in_fraction 0.5: 500 burn-in steps, 375 adapting, 187 measures: fine.
        // 100 steps: 50 burn-in steps, 37 adapting, 18 measures: refused, naming file, scale and sweep.
        let err = load_error("short", "", "epsilon = \"auto\"\nsteps = 100").replace('\n', " ");
        for word in ["dln.toml", "[scales.t]", "sweep 'w'", "at least 50", "18 measures", "burn-in of 50 steps"] {
            assert!(err.contains(word), "expected {word:?} in {err:?}");
        }
    }

    #[test]
    fn parameter_bounds_fill_a_size_class_and_impossible_ones_are_refused() {
        let dir = suite_file("bounds", "", "epsilon = 5e-7\nmin_params = 300\nmax_params = 600\nchains = 3");
        let suite = DlnSuite::load(&dir, "t").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        for spec in suite.plan() {
            assert!((300..=600).contains(&params_of(&spec.widths)), "{:?}", spec.widths);
            assert_eq!(spec.chains, 3, "the sweep's chains win over the scale's");
        }
        let err = load_error("too-big", "", "epsilon = 5e-7\nmin_params = 5000");
        assert!(err.contains("min_params 5000 is above the largest net (1200)"), "{err}");
        let err = load_error("crossed", "", "epsilon = 5e-7\nmin_params = 600\nmax_params = 500");
        assert!(err.contains("min_params is above max_params"), "{err}");
    }

    #[test]
    fn a_scale_can_tighten_the_claims() {
        let dir = suite_file("claims", "claims = { median_relative_error = 0.05 }", "epsilon = 5e-7");
        let suite = DlnSuite::load(&dir, "t").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(suite.claims.median_relative_error, 0.05);
        assert_eq!(suite.claims.max_diverged_fraction, 0.1, "the file's threshold where the scale has none");
    }

    #[test]
    fn the_auto_scale_has_three_size_classes_of_full_rank_teachers() {
        let suite = DlnSuite::load(&experiments_dir(), "auto").unwrap();
        assert_eq!(suite.scale.teacher, TeacherKind::FullRank);
        assert_eq!(suite.claims.median_relative_error, 0.05);
        let plan = suite.plan();
        assert!(plan.iter().all(|s| s.point == PointKind::Teacher && s.epsilon_adaptation.is_some()));
        let mut per_decade = std::collections::BTreeMap::new();
        for spec in &plan {
            let decade = (params_of(&spec.widths) as f64).log10().floor() as u32;
            *per_decade.entry(decade).or_insert(0) += 1;
        }
        assert_eq!(per_decade.keys().copied().collect::<Vec<_>>(), [3, 4, 5], "{per_decade:?}");
        assert!(per_decade.values().all(|&nets| nets >= 3), "{per_decade:?}");
    }
}
