//! Suite `sgld-vs-mala` (docs/method.md §5): SGLD against full-batch MALA on a small ReLU network over
//! a range of data-set sizes n: the same λ̂, but SGLD's cost is flat in n while MALA's grows.
//!
//! One teacher (fixed seed) for every n; the data sets nest (sample i is a function of the seed
//! and i only). Each run is one chain with its own seed; λ̂ per (n, sampler) is the mean ± sd over
//! runs, as in the paper's table.

use std::path::Path;

use llc_app::plot::{Figure, Panel, Point, Series, Style, write_figure};
use llc_app::{AppBackend, Synthetic, mlp_loss, mlp_point, mlp_teacher};
use llc_estimators::{EstimatorConfig, NoisePlacement, SamplerKind};
use llc_models::DataForm;
use serde::{Deserialize, Serialize};

use super::config::{Scale, SuiteSettings, require};
use super::records::Record;
use super::report::{Claim, SuiteReport, fmt_sig, mean_sd};
use super::runner::Context;
use super::{ChainOutcome, Suite};

/// The claims' thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MalaClaims {
    /// SGLD and MALA agree at every n within this many combined standard errors.
    agreement_standard_errors: f64,
    /// "Flat": SGLD's slowest n takes at most this many times its fastest (per step).
    sgld_time_max_ratio: f64,
    /// "Growing": MALA's time per step at the largest n is at least this many times that at the smallest.
    mala_time_min_growth: f64,
}

/// Settings of one scale.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MalaScale {
    seed: u64,
    widths: Vec<usize>,
    hidden_bias_std: f64,
    ns: Vec<usize>,
    runs: usize,
    epsilon: f64,
    gamma: f64,
    /// SGLD's minibatch size (MALA always uses all n samples).
    sgld_batch: usize,
    /// Steps per chain, the same for both samplers: at the paper's ε the chains are still drifting
    /// after 10,000 steps, so λ̂ depends on the step count and only equal counts compare.
    steps: usize,
    /// Steps discarded at the start of each chain.
    burn_in: usize,
}

impl Scale for MalaScale {
    const FILE: &'static str = "sgld-vs-mala.toml";

    fn check(&self, at: &dyn Fn(&str) -> String) -> Result<(), String> {
        require(self.widths.len() >= 3 && self.widths.iter().all(|&w| w > 0), || {
            at("widths: at least 3, all positive")
        })?;
        require(!self.ns.is_empty() && self.runs >= 2, || at("need at least one n and 2 runs (for a standard error)"))?;
        require(self.epsilon > 0.0 && self.gamma >= 0.0, || at("epsilon must be positive and gamma ≥ 0"))?;
        require(self.sgld_batch > 0, || at("sgld_batch must be positive"))?;
        require(self.ns.iter().all(|&n| n >= self.sgld_batch), || at("every n must be at least sgld_batch"))?;
        require(self.steps > self.burn_in, || at("steps must exceed burn_in"))?;
        Ok(())
    }
}

/// Which sampler a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Sampler {
    /// Minibatch SGLD.
    Sgld,
    /// Full-batch MALA.
    Mala,
}

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MalaSpec {
    n: usize,
    sampler: Sampler,
    run: usize,
    widths: Vec<usize>,
    hidden_bias_std: f64,
    teacher_seed: u64,
    seed: u64,
    epsilon: f64,
    gamma: f64,
    batch: usize,
    steps: usize,
    burn_in: usize,
}

/// The suite: its config at one scale.
pub(crate) type MalaSuite = SuiteSettings<MalaClaims, MalaScale>;

fn sampler_name(s: Sampler) -> &'static str {
    match s {
        Sampler::Sgld => "SGLD",
        Sampler::Mala => "MALA",
    }
}

impl Suite for MalaSuite {
    const NAME: &'static str = "sgld-vs-mala";
    type Spec = MalaSpec;
    type Outcome = ChainOutcome;

    fn plan(&self) -> Vec<MalaSpec> {
        let s = &self.scale;
        let mut plan = Vec::new();
        for &n in &s.ns {
            for sampler in [Sampler::Sgld, Sampler::Mala] {
                for run in 0..s.runs {
                    plan.push(MalaSpec {
                        n,
                        sampler,
                        run,
                        widths: s.widths.clone(),
                        hidden_bias_std: s.hidden_bias_std,
                        teacher_seed: s.seed,
                        seed: s.seed.wrapping_add(100 + run as u64),
                        epsilon: s.epsilon,
                        gamma: s.gamma,
                        batch: if sampler == Sampler::Sgld { s.sgld_batch } else { n },
                        steps: s.steps,
                        burn_in: s.burn_in,
                    });
                }
            }
        }
        plan
    }

    fn id(&self, spec: &MalaSpec) -> String {
        format!("n{}-{}-run{}", spec.n, sampler_name(spec.sampler).to_lowercase(), spec.run)
    }

    fn total_steps(&self, spec: &MalaSpec) -> u64 {
        spec.steps as u64
    }

    fn cost_per_step(&self, spec: &MalaSpec) -> u64 {
        // Measured on one core for d = 850: SGLD at batch 32 ≈ 130 µs a step, MALA ≈ 100 µs + 1 µs per sample.
        match spec.sampler {
            Sampler::Sgld => 100 + spec.batch as u64,
            Sampler::Mala => 100 + spec.n as u64,
        }
    }

    fn run<B: AppBackend>(&self, spec: &MalaSpec, on: Context<'_, B>) -> Result<ChainOutcome, String> {
        let teacher = mlp_teacher(&spec.widths, spec.teacher_seed, spec.hidden_bias_std).map_err(|e| e.to_string())?;
        let data = Synthetic { n: spec.n, seed: spec.teacher_seed, form: DataForm::Materialized };
        let point = mlp_point::<B>(&teacher, data, on.device).map_err(|e| e.to_string())?;
        let sampler = match spec.sampler {
            Sampler::Sgld => SamplerKind::Sgld,
            Sampler::Mala => SamplerKind::Mala,
        };
        let config = EstimatorConfig::default()
            .with_chains(1)
            .with_steps(spec.steps)
            .with_burn_in(spec.burn_in)
            .with_batch_size(spec.batch)
            .with_epsilon(spec.epsilon)
            .with_gamma(spec.gamma)
            .with_sampler(sampler)
            .with_seed(spec.seed)
            .with_acceptance_every(0)
            .with_noise(NoisePlacement::of::<B>());
        let estimate = point.estimate(mlp_loss, config, on.progress).map_err(|e| e.to_string())?;
        Ok(ChainOutcome::of(&estimate))
    }

    fn describe(&self, record: &Record<MalaSpec, ChainOutcome>) -> Option<String> {
        let r = &record.result;
        Some(format!(
            "{}: λ̂ = {}, {:.1} s",
            record.id,
            r.lambda_hat.map_or_else(|| "diverged".into(), fmt_sig),
            r.sampling_seconds
        ))
    }

    fn analyze(&self, records: &[Record<MalaSpec, ChainOutcome>], dir: &Path) -> Result<SuiteReport, String> {
        let s = &self.scale;
        // Per (n, sampler): mean ± sd of λ̂, seconds per 10,000 steps (the fastest run's: the
        // minimum is the statistic least disturbed by other load on the machine), acceptance.
        struct Cell {
            mean: f64,
            sd: f64,
            finished: usize,
            runs: usize,
            seconds_per_10k: f64,
            acceptance: Option<f64>,
        }
        let cell = |n: usize, sampler: Sampler| -> Cell {
            let rs: Vec<&Record<MalaSpec, ChainOutcome>> =
                records.iter().filter(|r| r.spec.n == n && r.spec.sampler == sampler).collect();
            let hats: Vec<f64> = rs.iter().filter_map(|r| r.result.lambda_hat).collect();
            let (mean, sd) = mean_sd(&hats).unwrap_or((f64::NAN, f64::NAN));
            let secs: Vec<f64> =
                rs.iter().map(|r| r.result.sampling_seconds * 10_000.0 / r.spec.steps.max(1) as f64).collect();
            let acc: Vec<f64> = rs.iter().filter_map(|r| r.result.acceptance).collect();
            Cell {
                mean,
                sd,
                finished: hats.len(),
                runs: rs.len(),
                seconds_per_10k: secs.iter().copied().fold(f64::INFINITY, f64::min),
                acceptance: mean_sd(&acc).map(|m| m.0),
            }
        };
        let table: Vec<(usize, Cell, Cell)> =
            s.ns.iter().map(|&n| (n, cell(n, Sampler::Sgld), cell(n, Sampler::Mala))).collect();

        let mut figures = Vec::new();
        let pick = |row: &'_ (usize, Cell, Cell), sampler: Sampler| -> (f64, f64, f64) {
            let c = if sampler == Sampler::Sgld { &row.1 } else { &row.2 };
            (c.mean, c.sd, c.seconds_per_10k)
        };
        let lambda_series = |sampler: Sampler| Series {
            label: sampler_name(sampler).into(),
            style: Style::LineMarkers,
            points: table
                .iter()
                .map(|row| {
                    let (mean, sd, _) = pick(row, sampler);
                    Point { x: row.0 as f64, y: mean, y_err: Some(sd), color_value: None }
                })
                .collect(),
        };
        let time_series = |sampler: Sampler| Series {
            label: sampler_name(sampler).into(),
            style: Style::LineMarkers,
            points: table
                .iter()
                .map(|row| Point { x: row.0 as f64, y: pick(row, sampler).2, y_err: None, color_value: None })
                .collect(),
        };
        figures.extend(write_figure(
            &Figure {
                title: format!("SGLD vs MALA, ReLU net {:?}", s.widths),
                panels: vec![
                    Panel {
                        title: format!("λ̂ (mean ± sd over {} runs)", s.runs),
                        x_label: "n".into(),
                        y_label: "λ̂".into(),
                        x_log: true,
                        y_log: false,
                        series: vec![lambda_series(Sampler::Sgld), lambda_series(Sampler::Mala)],
                        diagonal: false,
                        h_line: None,
                        color_scale: None,
                    },
                    Panel {
                        title: "wall time per 10,000 steps (one CPU core)".into(),
                        x_label: "n".into(),
                        y_label: "seconds".into(),
                        x_log: true,
                        y_log: true,
                        series: vec![time_series(Sampler::Sgld), time_series(Sampler::Mala)],
                        diagonal: false,
                        h_line: None,
                        color_scale: None,
                    },
                ],
            },
            dir,
            "sgld_vs_mala",
        )?);

        // Claims.
        let k = self.claims.agreement_standard_errors;
        let z_scores: Vec<(usize, f64)> = table
            .iter()
            .map(|(n, a, b)| {
                let se = (a.sd.powi(2) / a.finished.max(1) as f64 + b.sd.powi(2) / b.finished.max(1) as f64).sqrt();
                (*n, (a.mean - b.mean).abs() / se)
            })
            .collect();
        let worst = z_scores.iter().map(|z| z.1).fold(0.0f64, |m, z| if z.is_nan() { f64::INFINITY } else { m.max(z) });
        let sgld_times: Vec<f64> = table.iter().map(|r| r.1.seconds_per_10k).collect();
        let mala_times: Vec<f64> = table.iter().map(|r| r.2.seconds_per_10k).collect();
        let ratio = |v: &[f64]| {
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let min = v.iter().copied().fold(f64::INFINITY, f64::min);
            max / min
        };
        let sgld_ratio = ratio(&sgld_times);
        let mala_growth =
            mala_times.last().copied().unwrap_or(f64::NAN) / mala_times.first().copied().unwrap_or(f64::NAN);
        let claims = vec![
            Claim {
                suite: Self::NAME,
                claim: format!("SGLD and MALA agree within {k} combined standard errors at every n"),
                holds: worst <= k,
                value: serde_json::json!(worst),
            },
            Claim {
                suite: Self::NAME,
                claim: format!(
                    "SGLD's time per step is flat in n (slowest/fastest ≤ {})",
                    self.claims.sgld_time_max_ratio
                ),
                holds: sgld_ratio <= self.claims.sgld_time_max_ratio,
                value: serde_json::json!(sgld_ratio),
            },
            Claim {
                suite: Self::NAME,
                claim: format!(
                    "MALA's time per step grows with n (largest n / smallest n ≥ {})",
                    self.claims.mala_time_min_growth
                ),
                holds: mala_growth >= self.claims.mala_time_min_growth,
                value: serde_json::json!(mala_growth),
            },
        ];

        let mut md = format!("## Suite sgld-vs-mala: SGLD against full-batch MALA\n\n{}\n\n", self.description);
        md.push_str(&format!(
            "ReLU network {:?} with biases, teacher hidden biases ~ N(0, {}²), x ~ U[−10, 10], no noise; ε = {:e}, γ = {}, \
             nβ = n/ln n; {} steps per chain ({} burn-in) for both samplers, SGLD with batch {}, MALA on all n samples; \
             {} runs (chains) per n and sampler. Times are sampling only, the fastest run's, one CPU core per run, \
             per 10,000 steps.\n\n",
            s.widths,
            s.hidden_bias_std,
            s.epsilon,
            s.gamma,
            s.steps,
            s.burn_in,
            s.sgld_batch,
            s.runs
        ));
        md.push_str(
            "| n | SGLD λ̂ | MALA λ̂ | gap / SE | SGLD s/10k | MALA s/10k | MALA accept | paper SGLD | paper MALA | paper SGLD s | paper MALA s |\n\
             |---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for ((n, a, b), (_, z)) in table.iter().zip(&z_scores) {
            let paper = PAPER.iter().find(|p| p.0 == *n);
            md.push_str(&format!(
                "| {n} | {} ± {} | {} ± {} | {z:.2} | {:.1} | {:.1} | {} | {} | {} | {} | {} |\n",
                fmt_sig(a.mean),
                fmt_sig(a.sd),
                fmt_sig(b.mean),
                fmt_sig(b.sd),
                a.seconds_per_10k,
                b.seconds_per_10k,
                b.acceptance.map_or("–".into(), |x| format!("{x:.3}")),
                paper.map_or("–", |p| p.1),
                paper.map_or("–", |p| p.2),
                paper.map_or("–".into(), |p| p.3.to_string()),
                paper.map_or("–".into(), |p| p.4.to_string()),
            ));
            if a.finished < a.runs || b.finished < b.runs {
                md.push_str(&format!(
                    "| | ({} of {} SGLD and {} of {} MALA runs finished) | | | | | | | | | |\n",
                    a.finished, a.runs, b.finished, b.runs
                ));
            }
        }
        md.push_str(
            "\nThe paper's numbers are for its own random teacher (and a GPU), so λ̂ values are not expected to match \
             ours; the claims are what must reproduce.\n\n![SGLD vs MALA](sgld_vs_mala.svg)\n",
        );
        let screen = table
            .iter()
            .zip(&z_scores)
            .map(|((n, a, b), (_, z))| {
                format!(
                    "n = {n:>6}: SGLD {} ± {}, MALA {} ± {} (gap {z:.2} SE); s/10k steps {:.1} vs {:.1}",
                    fmt_sig(a.mean),
                    fmt_sig(a.sd),
                    fmt_sig(b.mean),
                    fmt_sig(b.sd),
                    a.seconds_per_10k,
                    b.seconds_per_10k
                )
            })
            .collect();
        Ok(SuiteReport { suite: Self::NAME, claims, markdown: md, screen, figures })
    }
}

/// The paper's published table (docs/method.md §5): n, SGLD λ̂, MALA λ̂, SGLD seconds, MALA seconds (GPU).
const PAPER: [(usize, &str, &str, f64, f64); 7] = [
    (100, "54.9 ± 2.5", "54.3 ± 3.2", 32.4, 321.5),
    (316, "86.7 ± 2.3", "86.4 ± 3.3", 32.3, 213.2),
    (1000, "136.9 ± 2.4", "140.0 ± 2.5", 32.1, 214.6),
    (3162, "211.2 ± 3.0", "215.4 ± 4.1", 32.8, 228.8),
    (10000, "294.9 ± 4.5", "296.2 ± 11.3", 32.6, 272.3),
    (31623, "349.3 ± 4.9", "359.1 ± 9.7", 32.5, 382.5),
    (100000, "355.8 ± 5.1", "349.1 ± 4.1", 33.0, 1060.6),
];
