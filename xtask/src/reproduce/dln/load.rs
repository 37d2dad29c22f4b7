//! Reading `experiments/dln.toml` at one scale: every setting checked by name, and the plan of runs
//! drawn (each net's widths a pure function of the seed, the sweep and its index).

use std::path::Path;

use llc_estimators::{EstimatorConfig, MIN_ADAPTATION_MEASURES, NoisePlacement};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{DlnClaims, DlnScale, DlnSpec, DlnSuite, EpsilonSetting, PointKind, Sweep};
use crate::reproduce::config::{SuiteSettings, require};

impl DlnSuite {
    /// Reads `experiments/dln.toml` at `scale` and checks its settings.
    pub(crate) fn load(experiments: &Path, scale: &str) -> Result<Self, String> {
        let file = SuiteSettings::<DlnClaims, DlnScale>::read(experiments, "dln.toml", scale)?;
        let s = &file.scale;
        let at = |what: &str| file.at(what);
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
        let plan = plan_runs(s).map_err(|(sweep, what)| at(&format!("sweep '{sweep}': {what}")))?;
        // The estimator's own checks (the adaptation's burn-in above all), once per sweep, so that a
        // setting it refuses fails here rather than in every run.
        for w in &s.sweeps {
            let Some(spec) = plan.iter().find(|p| p.sweep == w.name) else { continue };
            let config = estimator_config(spec, NoisePlacement::Host);
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
        let mut claims = file.claims.clone();
        if let Some(o) = &s.claims {
            claims.median_relative_error = o.median_relative_error.unwrap_or(claims.median_relative_error);
            claims.max_diverged_fraction = o.max_diverged_fraction.unwrap_or(claims.max_diverged_fraction);
        }
        require(claims.median_relative_error > 0.0 && (0.0..=1.0).contains(&claims.max_diverged_fraction), || {
            at("claims need median_relative_error > 0 and max_diverged_fraction in [0, 1]")
        })?;
        Ok(Self { description: file.description.clone(), claims, scale: s.clone(), plan })
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

/// The estimator's settings for a run: SGLD with the estimator's defaults for everything the
/// spec does not set.
pub(super) fn estimator_config(spec: &DlnSpec, noise: NoisePlacement) -> EstimatorConfig {
    let defaults = EstimatorConfig::default();
    let max_restarts = spec.max_restarts.unwrap_or(defaults.max_restarts);
    let config = defaults
        .with_chains(spec.chains)
        .with_steps(spec.steps)
        .with_burn_in(spec.burn_in)
        .with_batch_size(spec.batch)
        .with_epsilon(spec.epsilon)
        .with_max_restarts(max_restarts)
        .with_gamma(spec.gamma)
        .with_seed(spec.seed)
        .with_acceptance_every(spec.acceptance_every)
        .with_noise(noise);
    EstimatorConfig { epsilon_adaptation: spec.epsilon_adaptation, ..config }
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
