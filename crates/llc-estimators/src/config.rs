//! The estimator's configuration: a serde type validated before any work starts.

use llc_sampler::{MalaConfig, NoisePlacement, RmsPropConfig, RmsPropVariant, SgldConfig, default_n_beta};
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Which sampler draws from the localized tempered posterior.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerKind {
    /// Plain SGLD (the paper's sampler).
    Sgld,
    /// RMSprop-preconditioned SGLD in devinterp's variant (V₀ = 0, no bias correction).
    RmspropSgld,
    /// RMSprop-preconditioned SGLD as in Hitchcock & Hoogland 2025 (V₀ = 1, bias-corrected).
    RmspropSgldBiasCorrected,
    /// Full-batch MALA (Metropolis-adjusted Langevin, `llc_sampler::MalaChain`): every step uses
    /// the whole data set, each draw is the full-data loss L_n(w_t), and the result carries the
    /// real acceptance rate. Exact for every ε (no discretization bias) but a step costs a pass
    /// over all n samples; `batch_size` and `acceptance_every` are ignored.
    Mala,
}

impl SamplerKind {
    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgld => "sgld",
            Self::RmspropSgld => "rmsprop-sgld",
            Self::RmspropSgldBiasCorrected => "rmsprop-sgld-bias-corrected",
            Self::Mala => "mala",
        }
    }
}

/// Which loss each kept SGLD draw contributes to the mean in λ̂ = nβ·(mean draw loss − L_n(w*)).
///
/// The paper's DLN experiments average the minibatch loss of each step (docs/method.md §1 and §4),
/// which is free; its rescaling experiment averages the full-data loss L_n(w_t) at each draw
/// (docs/method.md §6), which removes the minibatch noise from the trace at
/// the cost of a pass over all n samples per kept draw (use `thinning` to keep fewer). Both have
/// the same expectation, since a minibatch drawn uniformly with replacement gives an unbiased
/// estimate of L_n(w_t).
///
/// [`SamplerKind::Mala`] always records the full-data loss (it computes it at every step anyway),
/// so this setting changes nothing there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrawLoss {
    /// The minibatch loss L_B(w_t) of the step that produced the draw (the default).
    #[default]
    Minibatch,
    /// The full-data loss L_n(w_t) at the draw, averaged over chunks of [`FULL_DRAW_LOSS_CHUNK`]
    /// samples.
    Full,
}

impl DrawLoss {
    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Minibatch => "minibatch",
            Self::Full => "full",
        }
    }
}

/// The automatic step size (`--epsilon auto`): during burn-in each chain adapts its own ε towards a
/// target acceptance, then keeps it fixed, so that the draws come from an ordinary chain with a
/// constant step. docs/method.md §7 has the algorithm, the bias cap's derivation and the
/// measurements behind the defaults.
///
/// The adaptation is dual averaging on log ε (Hoffman & Gelman 2014, "The No-U-Turn Sampler",
/// Algorithm 5), per chain: after the m-th measured acceptance probability α_m,
///
/// H̄_m = (1 − 1/(m + t₀))·H̄_{m−1} + (δ − α_m)/(m + t₀),
/// log ε_m = μ − (√m/γ_da)·H̄_m,
/// log ε̄_m = m^(−κ)·log ε_m + (1 − m^(−κ))·log ε̄_{m−1},
///
/// with δ the target, μ = log ε₀ (the configured starting ε), γ_da = 0.05, t₀ = 10 and κ = 0.75.
/// ε_m drives the chain while it adapts; the averaged ε̄ is the step the chain keeps. The rest of
/// burn-in runs at the kept ε, so the chain settles to it before any draw is recorded. ε stays
/// within a factor 10⁴ of ε₀ either way.
///
/// **What is measured.** For the SGLD samplers α_m is the MALA acceptance probability of the SGLD
/// move just made, measured every `every` steps over the first `fraction` of burn-in, and the
/// target is [`SGLD_TARGET_ACCEPTANCE`]. For MALA α_m is the acceptance probability of each
/// proposal, known at every step, and the target is the optimal-scaling rate
/// [`MALA_TARGET_ACCEPTANCE`] (Roberts & Rosenthal 1998). `target_acceptance` overrides either.
///
/// **The bias cap (SGLD).** A high acceptance does not make an SGLD λ̂ accurate: the Euler
/// discretization and the minibatch gradient noise both widen the chain's stationary law, which
/// biases λ̂ by about ε·(K_step + K_noise) with
///
/// K_step = tr(P·nβ∇²L)/8,   K_noise = (nβ)²·tr(P·Σ_B)/8.
///
/// Both are measured along the chain while it adapts: K_step from the curvature of every measured
/// move (`move_curvature`, about ε·tr(P·∇²U_B)), K_noise from two extra minibatch gradients at the
/// same point every `noise_every` steps ([`llc_sampler::SgldChains::gradient_noise`]). With λ̂ taken
/// as nβ·(L − L_n(w*)) at the same points, all three as moving averages over the chain's recent
/// points, the step in use and the step kept are capped at max_bias·λ̂/(K_step + K_noise). The cap
/// applies once each kind has 20 measures, and not while the chain's loss is below L_n(w*) on
/// average. MALA has no step bias (its accept/reject step removes it), so it has no cap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EpsilonAdaptation {
    /// The acceptance the adaptation aims for; `None` means the sampler's own default
    /// ([`SGLD_TARGET_ACCEPTANCE`] for the MALA acceptance probability of SGLD moves,
    /// [`MALA_TARGET_ACCEPTANCE`] for MALA).
    pub target_acceptance: Option<f64>,
    /// The fraction of burn-in spent adapting (in (0, 1]).
    pub fraction: f64,
    /// Measure the acceptance probability every this many steps while adapting (each measure
    /// costs one extra gradient for SGLD; MALA knows it at every step).
    pub every: usize,
    /// The largest predicted relative bias b of λ̂ that the step size may cause (SGLD): ε is capped
    /// at the largest value whose predicted bias ε·(K_step + K_noise)/λ̂ is at most b (`inf`: no
    /// cap). See the type's docs.
    pub max_bias: f64,
    /// Measure the gradient noise every this many steps while adapting (SGLD; each measure costs
    /// two extra gradients).
    pub noise_every: usize,
}

/// The default target of the automatic step size for the SGLD samplers: a MALA acceptance
/// probability of 0.9 for their moves (docs/method.md §7 has the measurements behind it).
pub const SGLD_TARGET_ACCEPTANCE: f64 = 0.9;

/// The default target of the automatic step size for MALA: the acceptance rate 0.574 that
/// maximizes the efficiency of MALA in high dimensions (Roberts & Rosenthal 1998, "Optimal
/// scaling of discrete approximations to Langevin diffusions").
pub const MALA_TARGET_ACCEPTANCE: f64 = 0.574;

impl Default for EpsilonAdaptation {
    /// The sampler's own target, adapting over the first three quarters of burn-in with an
    /// acceptance measure every 2 steps, and a predicted step-size bias of at most 2% with a
    /// gradient-noise measure every 10 steps (docs/method.md §7).
    fn default() -> Self {
        Self { target_acceptance: None, fraction: 0.75, every: 2, max_bias: 0.02, noise_every: 10 }
    }
}

impl EpsilonAdaptation {
    /// The acceptance this adaptation aims for with a sampler that has (`true`, SGLD) or has not
    /// (`false`, MALA) a step-size bias.
    pub fn target_for(&self, step_bias: bool) -> f64 {
        self.target_acceptance.unwrap_or(if step_bias { SGLD_TARGET_ACCEPTANCE } else { MALA_TARGET_ACCEPTANCE })
    }
}

/// The fewest acceptance measures an adaptation may have: dual averaging needs a few dozen
/// iterations to settle (Hoffman & Gelman's own runs adapt for hundreds).
pub const MIN_ADAPTATION_MEASURES: usize = 50;

/// Samples per chunk when [`DrawLoss::Full`] evaluates L_n(w_t) at a draw: 10,000, so that a
/// chunk's activations stay small at every width of the paper's experiments, while a data set of
/// the rescaling experiment's size (n = 10,000, docs/method.md §6) is a single pass.
pub const FULL_DRAW_LOSS_CHUNK: usize = 10_000;

/// Everything that defines an estimate besides the model and the data.
///
/// Symbols (paper, arXiv 2308.12108 v2): `epsilon` ε, `gamma` γ, `n_beta` nβ (default n/ln n).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EstimatorConfig {
    /// Number of independent chains C.
    pub n_chains: usize,
    /// Steps per chain, burn-in included.
    pub n_steps: usize,
    /// Steps discarded at the start of each chain.
    pub n_burnin: usize,
    /// Keep every `thinning`-th draw after burn-in.
    pub thinning: usize,
    /// Minibatch size m (SGLD samplers; MALA always uses the whole data set and ignores it, but it
    /// is still validated to lie in 1..=n).
    pub batch_size: usize,
    /// Step size ε (with `epsilon_adaptation`, the step every chain starts adapting from).
    pub epsilon: f64,
    /// Adapt ε per chain during burn-in (`--epsilon auto`); `None` keeps `epsilon` fixed.
    pub epsilon_adaptation: Option<EpsilonAdaptation>,
    /// How many times a chain whose loss diverges (NaN, ∞, or past the explosion limit) is put back
    /// at w* with its ε halved before it counts as lost.
    pub max_restarts: usize,
    /// The explosion limit F: a step's loss L counts as diverged when
    /// L > (1 + F)·L_n(w*) + F·(d/2)/nβ, i.e. when it exceeds F times the data's own loss plus
    /// F times the loss excess that the regular bound λ ≤ d/2 allows (nβ·(E[L] − L_n(w*)) ≈ λ).
    /// `None` stops chains only on NaN or ∞.
    pub explosion_factor: Option<f64>,
    /// Localization strength γ.
    pub gamma: f64,
    /// Inverse temperature times n; `None` means the paper's nβ = n/ln n.
    pub n_beta: Option<f64>,
    /// The sampler.
    pub sampler: SamplerKind,
    /// Seed of every random stream (chain c uses stream c of this seed).
    pub seed: u64,
    /// Report the MALA acceptance probability of the SGLD move every this many steps (0: never).
    /// MALA itself ignores it: its accept/reject outcome is known at every step for free.
    pub acceptance_every: usize,
    /// Which loss each kept draw records: the step's minibatch loss (the default, as in the
    /// paper's DLN runs) or the full-data loss at the draw (as in its rescaling experiment). MALA
    /// records the full-data loss either way.
    pub draw_loss: DrawLoss,
    /// Where the noise is drawn and the update computed: on the host (the default, for CPU
    /// backends) or on the model's device (for accelerators).
    pub noise: NoisePlacement,
}

impl Default for EstimatorConfig {
    /// The paper's DLN settings (γ = 1, batch 500, nβ = n/ln n) with a fixed ε = 2.5e-7 (half the
    /// paper's 5e-7, which is too large for some networks), 4 chains of 12,000 steps and a
    /// 2,400-step burn-in. docs/estimator-defaults.md has the measurements behind these numbers;
    /// [`EstimatorConfig::with_auto_epsilon`] turns on the automatic step size.
    fn default() -> Self {
        Self {
            n_chains: 4,
            n_steps: 12_000,
            n_burnin: 2_400,
            thinning: 1,
            batch_size: 500,
            epsilon: 2.5e-7,
            epsilon_adaptation: None,
            max_restarts: 5,
            explosion_factor: Some(100.0),
            gamma: 1.0,
            n_beta: None,
            sampler: SamplerKind::Sgld,
            seed: 0,
            acceptance_every: 20,
            draw_loss: DrawLoss::Minibatch,
            noise: NoisePlacement::Host,
        }
    }
}

impl EstimatorConfig {
    /// The number of independent chains C (default 4).
    pub fn with_chains(mut self, n_chains: usize) -> Self {
        self.n_chains = n_chains;
        self
    }

    /// Steps per chain, burn-in included (default 12,000).
    pub fn with_steps(mut self, n_steps: usize) -> Self {
        self.n_steps = n_steps;
        self
    }

    /// Steps discarded at the start of each chain (default 2,400).
    pub fn with_burn_in(mut self, n_burnin: usize) -> Self {
        self.n_burnin = n_burnin;
        self
    }

    /// Keep every `thinning`-th draw after burn-in (default 1).
    pub fn with_thinning(mut self, thinning: usize) -> Self {
        self.thinning = thinning;
        self
    }

    /// The minibatch size m of the SGLD samplers (default 500).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// A fixed step size ε (default 2.5e-7); turns the automatic step size off.
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self.epsilon_adaptation = None;
        self
    }

    /// The automatic step size with its default settings ([`EpsilonAdaptation::default`]),
    /// starting from the current `epsilon`.
    pub fn with_auto_epsilon(self) -> Self {
        self.with_epsilon_adaptation(EpsilonAdaptation::default())
    }

    /// The automatic step size with these settings, starting from the current `epsilon`.
    pub fn with_epsilon_adaptation(mut self, adaptation: EpsilonAdaptation) -> Self {
        self.epsilon_adaptation = Some(adaptation);
        self
    }

    /// How many times a diverging chain restarts at w* with ε halved (default 5).
    pub fn with_max_restarts(mut self, max_restarts: usize) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// The explosion limit F (default 100); `None` counts only NaN and ∞ as divergences.
    pub fn with_explosion_factor(mut self, factor: Option<f64>) -> Self {
        self.explosion_factor = factor;
        self
    }

    /// The localization strength γ (default 1).
    pub fn with_gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }

    /// The inverse temperature times n, nβ (default n/ln n).
    pub fn with_n_beta(mut self, n_beta: f64) -> Self {
        self.n_beta = Some(n_beta);
        self
    }

    /// The sampler (default plain SGLD).
    pub fn with_sampler(mut self, sampler: SamplerKind) -> Self {
        self.sampler = sampler;
        self
    }

    /// The seed of every random stream (default 0).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Measure the MALA acceptance probability of SGLD moves every this many steps after burn-in
    /// (default 20; 0: never).
    pub fn with_acceptance_every(mut self, every: usize) -> Self {
        self.acceptance_every = every;
        self
    }

    /// Which loss each kept draw records (default the step's minibatch loss).
    pub fn with_draw_loss(mut self, draw_loss: DrawLoss) -> Self {
        self.draw_loss = draw_loss;
        self
    }

    /// Where the noise is drawn (default the host; `NoisePlacement::of::<B>()` asks the backend).
    pub fn with_noise(mut self, noise: NoisePlacement) -> Self {
        self.noise = noise;
        self
    }

    /// Checks the configuration against a data set of `n` samples, naming the first problem.
    pub fn validate(&self, n: usize) -> Result<(), ConfigError> {
        let positive = |name, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange { name, value, requirement: "be finite and > 0" })
            }
        };
        if n == 0 {
            return Err(ConfigError::EmptyData);
        }
        for (name, value) in [("chains", self.n_chains), ("steps", self.n_steps), ("thinning", self.thinning)] {
            if value == 0 {
                return Err(ConfigError::Zero { name });
            }
        }
        if self.n_burnin >= self.n_steps {
            return Err(ConfigError::BurnIn { burn_in: self.n_burnin, steps: self.n_steps });
        }
        // MALA uses the full data set at every step, so its batch size is not used.
        if self.sampler != SamplerKind::Mala && (self.batch_size == 0 || self.batch_size > n) {
            return Err(ConfigError::BatchSize { batch_size: self.batch_size, n });
        }
        if let Some(n_beta) = self.n_beta {
            positive("n_beta", n_beta)?;
        }
        if let Some(factor) = self.explosion_factor {
            positive("explosion_factor", factor)?;
        }
        if let Some(adapt) = self.epsilon_adaptation {
            if let Some(target) = adapt.target_acceptance
                && !(target > 0.0 && target < 1.0)
            {
                return Err(ConfigError::OutOfRange {
                    name: "target_acceptance",
                    value: target,
                    requirement: "lie strictly between 0 and 1",
                });
            }
            if !(adapt.fraction > 0.0 && adapt.fraction <= 1.0) {
                return Err(ConfigError::OutOfRange {
                    name: "the adaptation fraction",
                    value: adapt.fraction,
                    requirement: "lie in (0, 1]",
                });
            }
            if adapt.every == 0 {
                return Err(ConfigError::NeverMeasures { what: "the acceptance" });
            }
            if adapt.max_bias.is_nan() || adapt.max_bias <= 0.0 {
                return Err(ConfigError::OutOfRange {
                    name: "max_bias",
                    value: adapt.max_bias,
                    requirement: "be > 0 (inf for no cap)",
                });
            }
            if adapt.noise_every == 0 {
                return Err(ConfigError::NeverMeasures { what: "the gradient noise" });
            }
            let measures = self.adaptation_steps() / adapt.every;
            if measures < MIN_ADAPTATION_MEASURES {
                return Err(ConfigError::ShortAdaptation {
                    burn_in: self.n_burnin,
                    measures,
                    needed: MIN_ADAPTATION_MEASURES,
                });
            }
        }
        self.sgld_config(n).validate().map_err(ConfigError::Sampler)
    }

    /// nβ for a data set of `n` samples.
    pub fn n_beta_for(&self, n: usize) -> f64 {
        self.n_beta.unwrap_or_else(|| default_n_beta(n))
    }

    /// The per-chain sampler settings of the SGLD samplers (for [`SamplerKind::Mala`], plain SGLD
    /// with the same ε, γ and nβ; it is what `validate` checks).
    pub fn sgld_config(&self, n: usize) -> SgldConfig {
        let rmsprop = match self.sampler {
            SamplerKind::Sgld | SamplerKind::Mala => None,
            SamplerKind::RmspropSgld => {
                Some(RmsPropConfig { variant: RmsPropVariant::Devinterp, ..Default::default() })
            }
            SamplerKind::RmspropSgldBiasCorrected => {
                Some(RmsPropConfig { variant: RmsPropVariant::BiasCorrected, ..Default::default() })
            }
        };
        SgldConfig { epsilon: self.epsilon, gamma: self.gamma, n_beta: self.n_beta_for(n), rmsprop }
    }

    /// The per-chain settings of [`SamplerKind::Mala`] (the same ε, γ and nβ).
    pub fn mala_config(&self, n: usize) -> MalaConfig {
        MalaConfig { epsilon: self.epsilon, gamma: self.gamma, n_beta: self.n_beta_for(n) }
    }

    /// The burn-in steps over which ε adapts (0 without adaptation).
    pub fn adaptation_steps(&self) -> usize {
        self.epsilon_adaptation.map_or(0, |a| (a.fraction * self.n_burnin as f64).floor() as usize)
    }

    /// Draws kept per chain.
    pub fn draws_per_chain(&self) -> usize {
        (self.n_steps - self.n_burnin).div_ceil(self.thinning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        let ok = EstimatorConfig::default();
        assert!(ok.validate(10_000).is_ok());
        let cases: Vec<(EstimatorConfig, usize, &str)> = vec![
            (EstimatorConfig { epsilon: 0.0, ..ok.clone() }, 10_000, "epsilon"),
            (EstimatorConfig { epsilon: f64::NAN, ..ok.clone() }, 10_000, "epsilon"),
            (EstimatorConfig { gamma: -1.0, ..ok.clone() }, 10_000, "gamma"),
            (EstimatorConfig { batch_size: 20_000, ..ok.clone() }, 10_000, "batch size"),
            (EstimatorConfig { batch_size: 0, ..ok.clone() }, 10_000, "batch size"),
            (EstimatorConfig { n_chains: 0, ..ok.clone() }, 10_000, "chains"),
            (EstimatorConfig { n_burnin: ok.n_steps, ..ok.clone() }, 10_000, "burn-in"),
            (EstimatorConfig { thinning: 0, ..ok.clone() }, 10_000, "thinning"),
            (EstimatorConfig { n_beta: Some(-3.0), ..ok.clone() }, 10_000, "n_beta"),
            (ok.clone(), 0, "empty"),
        ];
        for (config, n, word) in cases {
            let err = config.validate(n).unwrap_err().to_string();
            assert!(err.contains(word), "expected {word:?} in {err:?}");
        }
    }

    #[test]
    fn configs_round_trip_and_reject_unknown_keys() {
        let config = EstimatorConfig { sampler: SamplerKind::RmspropSgld, n_beta: Some(12.5), ..Default::default() };
        let text = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<EstimatorConfig>(&text).unwrap(), config);
        assert!(serde_json::from_str::<EstimatorConfig>(r#"{"epsilom": 1e-5}"#).is_err());
        let partial: EstimatorConfig = serde_json::from_str(r#"{"epsilon": 1e-5, "sampler": "sgld"}"#).unwrap();
        assert_eq!((partial.epsilon, partial.n_chains), (1e-5, 4));
        assert_eq!(partial.draw_loss, DrawLoss::Minibatch, "the default draw loss is the minibatch loss");
    }

    #[test]
    fn the_draw_loss_is_named_in_kebab_case_and_round_trips() {
        let config: EstimatorConfig = serde_json::from_str(r#"{"draw_loss": "full", "thinning": 5}"#).unwrap();
        assert_eq!((config.draw_loss, config.thinning), (DrawLoss::Full, 5));
        let text = serde_json::to_string(&config).unwrap();
        assert!(text.contains(r#""draw_loss":"full""#), "{text}");
        assert_eq!(serde_json::from_str::<EstimatorConfig>(&text).unwrap(), config);
        let minibatch: EstimatorConfig = serde_json::from_str(r#"{"draw_loss": "minibatch"}"#).unwrap();
        assert_eq!(minibatch, EstimatorConfig::default());
        for (kind, name) in [(DrawLoss::Minibatch, "minibatch"), (DrawLoss::Full, "full")] {
            assert_eq!(kind.name(), name);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
        }
        for bad in [r#"{"draw_loss": "Full"}"#, r#"{"draw_loss": "full-data"}"#, r#"{"draw_loss": 1}"#] {
            assert!(serde_json::from_str::<EstimatorConfig>(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn mala_is_named_mala_and_shares_the_settings() {
        let config: EstimatorConfig = serde_json::from_str(r#"{"sampler": "mala", "epsilon": 1e-4}"#).unwrap();
        assert_eq!(config.sampler, SamplerKind::Mala);
        assert_eq!(SamplerKind::Mala.name(), "mala");
        assert_eq!(serde_json::to_string(&SamplerKind::Mala).unwrap(), r#""mala""#);
        // batch_size is ignored by MALA but validated as for SGLD: the default 500 is fine for n ≥ 500.
        assert!(config.validate(1_000).is_ok());
        let mala = config.mala_config(1_000);
        assert_eq!((mala.epsilon, mala.gamma, mala.n_beta), (1e-4, 1.0, default_n_beta(1_000)));
        let err = EstimatorConfig { epsilon: -1.0, ..config }.validate(1_000).unwrap_err();
        assert!(err.to_string().contains("epsilon"), "{err}");
    }
}
