//! Suite `rescaling` (docs/method.md §6): λ̂ at a ReLU teacher rescaled by α (every hidden neuron's
//! incoming weights and bias × α, outgoing weights ÷ α: the same function), across α, with the
//! matched diagonal preconditioner and without any.
//!
//! With the matched preconditioner (α² on the first layer's weights and biases, 1/α² on the second
//! layer's weights) SGLD is equivariant, so λ̂ must not depend on α; plain SGLD at the rescaled point
//! is a different sampler and is expected to drift or diverge.

use std::path::Path;

use llc_app::plot::{Figure, Panel, Point, Series, Style, write_figure};
use llc_app::{AppBackend, Synthetic, mlp_loss, mlp_point, mlp_teacher, parameter_count, rescaled_mlp};
use llc_estimators::{DrawLoss, EstimatorConfig, NoisePlacement};
use llc_models::DataForm;
use llc_sampler::DiagonalPreconditioner;
use serde::{Deserialize, Serialize};

use super::config::{Scale, SuiteSettings, logspace, require};
use super::records::Record;
use super::report::{Claim, SuiteReport, fmt_sig, mean_sd};
use super::runner::Context;
use super::{ChainOutcome, Suite};

/// The claims' thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RescalingClaims {
    /// With the matched preconditioner, every α's λ̂ lies within this fraction of the mean over α.
    max_relative_spread: f64,
}

/// Settings of one scale.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RescalingScale {
    seed: u64,
    nets: Vec<Vec<usize>>,
    hidden_bias_std: f64,
    /// Neurons of the hidden layer that copy neuron `plant_source` (the paper: 1, 2, 3, 4, 5, 8 copy 0).
    plant_source: usize,
    plant_copies: Vec<usize>,
    /// α = 10^e for `alpha_count` exponents e evenly spaced over `alpha_exponents`.
    alpha_exponents: [f64; 2],
    alpha_count: usize,
    runs: usize,
    /// The chains' settings (keys of the scale's table beside the others).
    #[serde(flatten)]
    chain: Chain,
}

impl Scale for RescalingScale {
    const FILE: &'static str = "rescaling.toml";

    fn check(&self, at: &dyn Fn(&str) -> String) -> Result<(), String> {
        require(!self.nets.is_empty(), || at("no nets"))?;
        for net in &self.nets {
            require(net.len() == 3 && net.iter().all(|&w| w > 0), || {
                at(&format!("net {net:?}: one hidden layer (3 positive widths) expected"))
            })?;
            require(std::iter::once(&self.plant_source).chain(&self.plant_copies).all(|&j| j < net[1]), || {
                at(&format!("net {net:?}: planted neuron index beyond the hidden width {}", net[1]))
            })?;
        }
        require(self.alpha_count >= 2 && self.alpha_exponents.iter().all(|e| e.is_finite()), || {
            at("alpha_count ≥ 2 and finite alpha_exponents")
        })?;
        require(self.runs >= 1 && self.chain.thinning >= 1 && self.chain.steps > self.chain.burn_in, || {
            at("runs ≥ 1, thinning ≥ 1, steps > burn_in")
        })?;
        require(
            self.chain.epsilon > 0.0
                && self.chain.gamma >= 0.0
                && self.chain.batch >= 1
                && self.chain.batch <= self.chain.n,
            || at("epsilon > 0, gamma ≥ 0, 1 ≤ batch ≤ n"),
        )?;
        Ok(())
    }
}

/// The settings of every chain of a scale: one SGLD chain per run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Chain {
    n: usize,
    epsilon: f64,
    gamma: f64,
    batch: usize,
    steps: usize,
    burn_in: usize,
    /// Keep every this-many-th draw; each kept draw costs a full-data loss evaluation.
    thinning: usize,
}

/// With or without the matched preconditioner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Preconditioning {
    /// P matched to the rescaling.
    Matched,
    /// Plain SGLD.
    None,
}

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RescalingSpec {
    widths: Vec<usize>,
    alpha_index: usize,
    alpha: f64,
    preconditioning: Preconditioning,
    run: usize,
    hidden_bias_std: f64,
    plant_source: usize,
    plant_copies: Vec<usize>,
    teacher_seed: u64,
    seed: u64,
    /// The scale's chain settings (flat in the record, as the scale's keys are in the file).
    #[serde(flatten)]
    chain: Chain,
}

/// The suite: its config at one scale.
pub(crate) type RescalingSuite = SuiteSettings<RescalingClaims, RescalingScale>;

impl RescalingSuite {
    fn alphas(&self) -> Vec<f64> {
        let [from, to] = self.scale.alpha_exponents;
        logspace(from, to, self.scale.alpha_count)
    }
}

impl Suite for RescalingSuite {
    const NAME: &'static str = "rescaling";
    type Spec = RescalingSpec;
    type Outcome = ChainOutcome;

    fn plan(&self) -> Vec<RescalingSpec> {
        let alphas = self.alphas();
        let s = &self.scale;
        let mut plan = Vec::new();
        for (net_idx, widths) in s.nets.iter().enumerate() {
            for (alpha_index, &alpha) in alphas.iter().enumerate() {
                for preconditioning in [Preconditioning::Matched, Preconditioning::None] {
                    for run in 0..s.runs {
                        plan.push(RescalingSpec {
                            widths: widths.clone(),
                            alpha_index,
                            alpha,
                            preconditioning,
                            run,
                            hidden_bias_std: s.hidden_bias_std,
                            plant_source: s.plant_source,
                            plant_copies: s.plant_copies.clone(),
                            teacher_seed: s.seed.wrapping_add(net_idx as u64),
                            // The same chain seed at every α: with P the trajectories are then images
                            // of each other, so λ̂ agrees to rounding.
                            seed: s.seed.wrapping_add(1000 + run as u64),
                            chain: s.chain.clone(),
                        });
                    }
                }
            }
        }
        plan
    }

    fn id(&self, spec: &RescalingSpec) -> String {
        let net: Vec<String> = spec.widths.iter().map(usize::to_string).collect();
        let p = match spec.preconditioning {
            Preconditioning::Matched => "matched",
            Preconditioning::None => "plain",
        };
        format!("net{}-alpha{:02}-{p}-run{}", net.join("x"), spec.alpha_index, spec.run)
    }

    fn total_steps(&self, spec: &RescalingSpec) -> u64 {
        spec.chain.steps as u64
    }

    fn cost_per_step(&self, spec: &RescalingSpec) -> u64 {
        // A step at batch 500 plus, every `thinning` steps, a full-data forward pass (≈ n/batch
        // forward passes of a third of a step's cost each).
        let d = parameter_count(&spec.widths, true) as u64;
        let step = 150 + d * spec.chain.batch as u64 / 20_000;
        step + step * spec.chain.n as u64 / (3 * spec.chain.batch as u64 * spec.chain.thinning as u64)
    }

    fn run<B: AppBackend>(&self, spec: &RescalingSpec, on: Context<'_, B>) -> Result<ChainOutcome, String> {
        let mut teacher =
            mlp_teacher(&spec.widths, spec.teacher_seed, spec.hidden_bias_std).map_err(|e| e.to_string())?;
        teacher.plant_copies(0, spec.plant_source, &spec.plant_copies).map_err(|e| format!("planting: {e}"))?;
        let data = Synthetic { n: spec.chain.n, seed: spec.teacher_seed, form: DataForm::Materialized };
        let mut point = mlp_point::<B>(&teacher, data, on.device).map_err(|e| e.to_string())?;
        let (model, factors) = rescaled_mlp(&point.model, spec.alpha as f32).map_err(|e| e.to_string())?;
        point.model = model;
        // The paper's plain fixed-ε SGLD: a chain that diverges is lost, not restarted with a
        // smaller ε, since "without P some α diverges" is part of what this suite shows.
        let config = EstimatorConfig::default()
            .with_chains(1)
            .with_steps(spec.chain.steps)
            .with_burn_in(spec.chain.burn_in)
            .with_thinning(spec.chain.thinning)
            .with_batch_size(spec.chain.batch)
            .with_epsilon(spec.chain.epsilon)
            .with_max_restarts(0)
            .with_explosion_factor(None)
            .with_gamma(spec.chain.gamma)
            .with_seed(spec.seed)
            .with_acceptance_every(0)
            .with_draw_loss(DrawLoss::Full)
            .with_noise(NoisePlacement::of::<B>());
        let estimator = point.estimator(mlp_loss).with_config(config).with_progress(on.progress);
        let estimate = match spec.preconditioning {
            Preconditioning::Matched => estimator.with_preconditioner(
                DiagonalPreconditioner::in_visit_order(&point.model, factors)
                    .map_err(|e| format!("matched preconditioner: {e}"))?,
            ),
            Preconditioning::None => estimator,
        }
        .run()
        .map_err(|e| e.to_string())?;
        Ok(ChainOutcome::of(&estimate))
    }

    fn describe(&self, record: &Record<RescalingSpec, ChainOutcome>) -> Option<String> {
        Some(format!(
            "{} (α = {}): λ̂ = {}",
            record.id,
            fmt_sig(record.spec.alpha),
            record.result.lambda_hat.map_or_else(|| "diverged".into(), fmt_sig)
        ))
    }

    fn analyze(&self, records: &[Record<RescalingSpec, ChainOutcome>], dir: &Path) -> Result<SuiteReport, String> {
        let s = &self.scale;
        let alphas = self.alphas();
        // λ̂(α) per net and preconditioning: mean over runs, None if every run diverged.
        let curve = |widths: &Vec<usize>, p: Preconditioning| -> Vec<(f64, Option<(f64, f64)>)> {
            (0..alphas.len())
                .map(|i| {
                    let hats: Vec<f64> = records
                        .iter()
                        .filter(|r| &r.spec.widths == widths && r.spec.preconditioning == p && r.spec.alpha_index == i)
                        .filter_map(|r| r.result.lambda_hat)
                        .collect();
                    (alphas[i], mean_sd(&hats))
                })
                .collect()
        };
        let mut panels = Vec::new();
        let mut matched_spread = serde_json::Map::new();
        let mut plain_spread = serde_json::Map::new();
        let mut matched_holds = true;
        let mut plain_differs = true;
        let mut md = format!("## Suite rescaling: invariance of λ̂ under ReLU rescaling\n\n{}\n\n", self.description);
        md.push_str(&format!(
            "Teachers: ReLU nets with biases, hidden biases ~ N(0, {}²), hidden neurons {:?} copy neuron {}'s incoming \
             weights and bias; n = {}, x ~ U[−10, 10]. SGLD ε = {:e}, γ = {}, batch {}, {} steps ({} burn-in), every {}-th \
             draw's full-data loss averaged, {} run(s) per α; α = 10^e for {} exponents from {} to {}.\n\n",
            s.hidden_bias_std,
            s.plant_copies,
            s.plant_source,
            s.chain.n,
            s.chain.epsilon,
            s.chain.gamma,
            s.chain.batch,
            s.chain.steps,
            s.chain.burn_in,
            s.chain.thinning,
            s.runs,
            s.alpha_count,
            s.alpha_exponents[0],
            s.alpha_exponents[1],
        ));
        md.push_str(
            "| net | d | d/2 | λ̂ with P (mean over α) | max deviation with P | paper (flat at) | without P: α diverged | without P: λ̂ range |\n\
             |---|---|---|---|---|---|---|---|\n",
        );
        let mut screen = Vec::new();
        for widths in &s.nets {
            let name = format!("{widths:?}");
            let matched = curve(widths, Preconditioning::Matched);
            let plain = curve(widths, Preconditioning::None);
            let matched_values: Vec<f64> = matched.iter().filter_map(|c| c.1.map(|m| m.0)).collect();
            let (mean, _) = mean_sd(&matched_values).unwrap_or((f64::NAN, 0.0));
            let spread = if matched_values.len() < alphas.len() {
                f64::INFINITY
            } else {
                matched_values.iter().map(|v| (v - mean).abs() / mean).fold(0.0, f64::max)
            };
            matched_holds &= spread <= self.claims.max_relative_spread;
            matched_spread
                .insert(name.clone(), serde_json::json!(if spread.is_finite() { Some(spread) } else { None }));
            let plain_values: Vec<f64> = plain.iter().filter_map(|c| c.1.map(|m| m.0)).collect();
            let plain_lost = alphas.len() - plain_values.len();
            let plain_dev = plain_values.iter().map(|v| (v - mean).abs() / mean).fold(0.0, f64::max);
            plain_differs &= plain_lost > 0 || plain_dev > self.claims.max_relative_spread;
            plain_spread
                .insert(name.clone(), serde_json::json!({ "diverged_alphas": plain_lost, "max_deviation": plain_dev }));
            let lo = plain_values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = plain_values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let d = parameter_count(widths, true);
            md.push_str(&format!(
                "| {name} | {d} | {} | {} | {:.2e} | {} | {plain_lost} of {} | {} |\n",
                fmt_sig(d as f64 / 2.0),
                fmt_sig(mean),
                spread,
                PAPER.iter().find(|p| p.0 == widths.as_slice()).map_or("–".into(), |p| p.1.to_string()),
                alphas.len(),
                if plain_values.is_empty() { "–".into() } else { format!("{} – {}", fmt_sig(lo), fmt_sig(hi)) },
            ));
            screen.push(format!(
                "{name}: with P λ̂ = {} (max deviation {:.1e}); without P {plain_lost} of {} α diverged",
                fmt_sig(mean),
                spread,
                alphas.len()
            ));
            let series = |label: String, c: &[(f64, Option<(f64, f64)>)]| Series {
                label,
                style: Style::LineMarkers,
                points: c
                    .iter()
                    .filter_map(|(a, m)| {
                        m.map(|(mean, sd)| Point { x: *a, y: mean, y_err: Some(sd), color_value: None })
                    })
                    .collect(),
            };
            panels.push(Panel {
                title: format!("{name}, d = {d}"),
                x_label: "α".into(),
                y_label: "λ̂".into(),
                x_log: true,
                y_log: true,
                series: vec![
                    series("matched preconditioner".into(), &matched),
                    series(format!("plain SGLD ({plain_lost} of {} α diverged)", alphas.len()), &plain),
                ],
                diagonal: false,
                h_line: Some(d as f64 / 2.0),
                color_scale: None,
            });
        }
        let figures = write_figure(
            &Figure { title: "λ̂ under ReLU rescaling by α (dashed: d/2)".into(), panels },
            dir,
            "rescaling",
        )?
        .to_vec();
        md.push_str(
            "\nThe paper's teachers differ from ours, so only the flatness is expected to reproduce, not the level. \
             With P the sampler is exactly equivariant in real arithmetic, so the deviation is f32 rounding.\n\n\
             ![rescaling](rescaling.svg)\n",
        );
        let claims = vec![
            Claim {
                suite: Self::NAME,
                claim: format!(
                    "with the matched preconditioner λ̂ lies within {:.0}% of its mean across α, for every net",
                    100.0 * self.claims.max_relative_spread
                ),
                holds: matched_holds,
                value: serde_json::Value::Object(matched_spread),
            },
            Claim {
                suite: Self::NAME,
                claim: format!(
                    "without it plain SGLD is not invariant (some α diverges or deviates by more than {:.0}%)",
                    100.0 * self.claims.max_relative_spread
                ),
                holds: plain_differs,
                value: serde_json::Value::Object(plain_spread),
            },
        ];
        Ok(SuiteReport { suite: Self::NAME, claims, markdown: md, screen, figures })
    }
}

/// The paper's flat λ̂ per net (docs/method.md §6).
const PAPER: [(&[usize], f64); 3] = [(&[10, 20, 10], 166.0), (&[20, 30, 20], 537.0), (&[30, 40, 30], 1110.0)];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::config::experiments_dir;

    /// A run's record lists the chain settings flat, in the order of the scale's table, so that
    /// its fingerprint is the one these settings had before they were grouped in `Chain`.
    #[test]
    fn a_runs_chain_settings_are_recorded_flat() {
        let suite = RescalingSuite::load(&experiments_dir(), "quick").unwrap();
        let text = serde_json::to_string(&suite.plan()[0]).unwrap();
        let keys = ["teacher_seed", "seed", "n", "epsilon", "gamma", "batch", "steps", "burn_in", "thinning"];
        let at: Vec<Option<usize>> = keys.iter().map(|k| text.find(&format!("\"{k}\":"))).collect();
        assert!(at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(!text.contains("\"chain\""), "{text}");
    }
}
