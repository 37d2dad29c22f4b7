//! Suite `dln` (method.md §4): λ̂ against Aoyagi's exact λ on random deep linear networks, at the
//! teacher and at an SGD-trained point.
//!
//! Each sweep draws `nets` networks: a number of weight matrices M uniform in `matrices`, each of
//! the M + 1 widths uniform in `widths` (redrawn while the parameter count exceeds `max_params`).
//! The teacher is the paper's random one (each layer's rank cut at random with probability 1/2) or
//! a full-rank one, per the config. λ is Aoyagi's λ at the rank of the teacher's product. At the
//! trained point, a fresh student (PyTorch's default init) is trained by SGD with momentum on the
//! teacher's data and λ̂ is measured where training ended.

use std::path::Path;

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use llc_estimators::{EstimatorConfig, InitLoss, LlcEstimate, SamplerKind, estimate_llc};
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
    n: usize,
    epsilon: f64,
    steps: usize,
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
    epsilon: f64,
    gamma: f64,
    batch: usize,
    chains: usize,
    steps: usize,
    burn_in: usize,
    acceptance_every: usize,
    sgd: Option<SgdSettings>,
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
    /// "chain C diverged at step S (loss …)", for every diverged chain; or the training's divergence.
    diverged: Vec<String>,
    acceptance: Option<f64>,
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
    claims: DlnClaims,
    scale: DlnScale,
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
        for w in &s.sweeps {
            let at = |what: &str| at(&format!("sweep '{}': {what}", w.name));
            require(w.nets > 0 && w.steps > 0, || at("nets and steps must be positive"))?;
            require(w.widths.low >= 1 && w.matrices.low >= 1, || at("widths and matrices start at 1"))?;
            require(w.epsilon > 0.0 && w.epsilon.is_finite(), || at("epsilon must be positive"))?;
            require(w.n >= s.batch && w.n >= s.sgd.batch, || at("n must be at least the batch sizes"))?;
            if let Some(cap) = w.max_params {
                let smallest = w.widths.low * w.widths.low * w.matrices.low;
                require(cap >= smallest, || at(&format!("max_params {cap} is below the smallest net ({smallest})")))?;
            }
        }
        let names: std::collections::HashSet<&String> = s.sweeps.iter().map(|w| &w.name).collect();
        require(names.len() == s.sweeps.len(), || at("two sweeps share a name"))?;
        Ok(Self { description: file.description, claims: file.claims, scale: s })
    }
}

/// The widths of net `net` of `sweep`: a pure function of the seed, sweep and index.
fn draw_widths(seed: u64, sweep: &Sweep, net: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ name_hash(&sweep.name));
    rng.set_stream(net as u64);
    loop {
        let matrices = rng.random_range(sweep.matrices.low..=sweep.matrices.high);
        let widths: Vec<usize> =
            (0..=matrices).map(|_| rng.random_range(sweep.widths.low..=sweep.widths.high)).collect();
        let params: usize = widths.windows(2).map(|w| w[0] * w[1]).sum();
        if sweep.max_params.is_none_or(|cap| params <= cap) {
            return widths;
        }
    }
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
        let s = &self.scale;
        let mut plan = Vec::new();
        for sweep in &s.sweeps {
            for net in 0..sweep.nets {
                let widths = draw_widths(s.seed, sweep, net);
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
                        seed: s
                            .seed
                            .wrapping_mul(1_000_003)
                            .wrapping_add(name_hash(&sweep.name))
                            .wrapping_add(net as u64),
                        n: sweep.n,
                        epsilon: sweep.epsilon,
                        gamma: s.gamma,
                        batch: s.batch,
                        chains: s.chains,
                        steps: sweep.steps,
                        burn_in: burn_in.min(sweep.steps - 1),
                        acceptance_every: s.acceptance_every,
                        sgd: (point == PointKind::Trained).then_some(s.sgd),
                    });
                }
            }
        }
        plan
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
        let config = EstimatorConfig {
            n_chains: spec.chains,
            n_steps: spec.steps,
            n_burnin: spec.burn_in,
            thinning: 1,
            batch_size: spec.batch,
            epsilon: spec.epsilon,
            gamma: spec.gamma,
            n_beta: None,
            sampler: SamplerKind::Sgld,
            seed: spec.seed,
            acceptance_every: spec.acceptance_every,
            noise: crate::device::noise_placement::<B>(),
            ..EstimatorConfig::default()
        };
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
                        acceptance: None,
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
        Ok(DlnOutcome {
            params: params_of(widths),
            rank,
            lambda,
            lambda_hat,
            lambda_hat_std: lambda_hat.map(|_| estimate.lambda_hat_std),
            relative_error: lambda_hat.filter(|_| lambda > 0.0).map(|h| (h - lambda) / lambda),
            diverged,
            acceptance: estimate.diagnostics.mean_acceptance,
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
        Some(format!(
            "{} {:?} d={} r={}: λ̂ = {hat} vs λ = {}{err}, {:.0} s",
            record.id,
            record.spec.widths,
            r.params,
            r.rank,
            fmt_sig(r.lambda),
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

        // Claims.
        let mut claims = Vec::new();
        let limit = self.claims.median_relative_error;
        let mut table = String::from(
            "| size class (d) | point | nets | median (λ̂−λ)/λ | median abs. rel. error | diverged |\n|---|---|---|---|---|---|\n",
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
                let lost = in_class.iter().filter(|r| r.result.lambda_hat.is_none()).count();
                table.push_str(&format!(
                    "| {label} | {} | {} | {} | {} | {lost} |\n",
                    point_name(p),
                    in_class.len(),
                    med.map_or("–".into(), |m| format!("{:+.1}%", 100.0 * m)),
                    med_abs.map_or("–".into(), |m| format!("{:.1}%", 100.0 * m)),
                ));
                per_class.insert(label.clone(), med_abs.map_or(serde_json::Value::Null, |m| serde_json::json!(m)));
                holds &= med_abs.is_some_and(|m| m <= limit);
                screen.push(format!(
                    "{:<8} d {label:<12} {} nets, median |rel. error| {}",
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
        let fraction = lost as f64 / records.len().max(1) as f64;
        claims.push(Claim {
            suite: Self::NAME,
            claim: format!(
                "runs lost to divergence ≤ {:.1}% (the paper: 40 of 593 = 6.7%)",
                100.0 * self.claims.max_diverged_fraction
            ),
            holds: fraction <= self.claims.max_diverged_fraction,
            value: serde_json::json!(format!("{lost} of {}", records.len())),
        });

        let mut md = format!("## Suite dln: λ̂ vs Aoyagi's λ on deep linear networks\n\n{}\n\n", self.description);
        md.push_str(&format!(
            "Teachers: {}. Sweeps at this scale:\n\n| sweep | nets | widths | matrices | n | ε | steps |\n|---|---|---|---|---|---|---|\n",
            match self.scale.teacher {
                TeacherKind::PaperRandom => "the paper's random procedure (each layer's rank cut with probability 1/2)",
                TeacherKind::FullRank => "every layer full rank",
            }
        ));
        for w in &self.scale.sweeps {
            md.push_str(&format!(
                "| {} | {} | {}–{} | {}–{} | {} | {:e} | {} |\n",
                w.name, w.nets, w.widths.low, w.widths.high, w.matrices.low, w.matrices.high, w.n, w.epsilon, w.steps
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
             40 of 593 runs to NaN; here {lost} of {} runs diverged.\n\n",
            records.len()
        ));
        md.push_str(
            "How to read the errors. λ̂ estimates the *local* coefficient at its point, and Aoyagi's λ is the \
             minimum of the local coefficient over the set of true parameters, so the local value can only be \
             larger. Where λ̂ exceeds λ at a paper-random teacher, the likely cause is that: the local coefficient \
             at the teacher is larger than λ when a rank-cut layer sits between full-rank ones \
             (docs/dln-teachers.md); SGD from a small initialization tends to end nearer the most degenerate \
             points, where local and global agree. An estimate *below* λ cannot come from that; it means the \
             chain had not risen to equilibrium in its steps (slow mixing near degenerate points, or a step size \
             too small for the net).\n\n",
        );
        md.push_str("![λ̂ vs λ](dln_lambda.svg)\n\n![relative error](dln_error.svg)\n\n");
        md.push_str("<details><summary>Every run</summary>\n\n| run | widths | d | r | λ | λ̂ | error | acceptance | R̂ | note |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for r in records {
            let o = &r.result;
            md.push_str(&format!(
                "| {} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.id,
                r.spec.widths,
                o.params,
                o.rank,
                fmt_sig(o.lambda),
                o.lambda_hat.map_or("–".into(), fmt_sig),
                o.relative_error.map_or("–".into(), |e| format!("{:+.1}%", 100.0 * e)),
                o.acceptance.map_or("–".into(), |a| format!("{a:.3}")),
                o.r_hat.map_or("–".into(), |a| format!("{a:.3}")),
                o.diverged.join("; "),
            ));
        }
        md.push_str("\n</details>\n");
        screen.push(format!("{lost} of {} runs diverged", records.len()));
        Ok(SuiteReport { suite: Self::NAME, claims, markdown: md, screen, figures })
    }
}

fn point_name(p: PointKind) -> &'static str {
    match p {
        PointKind::Teacher => "teacher",
        PointKind::Trained => "trained point",
    }
}

/// The decades of parameter count the records fall in, as (label, low, high).
fn size_classes(records: &[Record<DlnSpec, DlnOutcome>]) -> Vec<(String, usize, usize)> {
    let mut decades: Vec<u32> =
        records.iter().map(|r| (r.result.params.max(1) as f64).log10().floor() as u32).collect();
    decades.sort_unstable();
    decades.dedup();
    decades.into_iter().map(|k| (format!("10^{k}–10^{}", k + 1), 10usize.pow(k), 10usize.pow(k + 1))).collect()
}
