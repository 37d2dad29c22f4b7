//! The DLN suite's analysis: λ̂ against λ and the relative error by size as figures, the claims per
//! size class, and the report section with every run.

use std::path::Path;

use llc_app::Teacher;
use llc_app::plot::{ColorScale, Figure, Panel, Point, Series, Style, write_figure};
use llc_estimators::EstimatorConfig;

use super::{DlnOutcome, DlnSpec, DlnSuite, PointKind};
use crate::reproduce::Suite;
use crate::reproduce::records::Record;
use crate::reproduce::report::{Claim, SuiteReport, fmt_sig, median};

impl DlnSuite {
    /// Figures, claims and the report section from the complete records (in plan order).
    pub(super) fn report(&self, records: &[Record<DlnSpec, DlnOutcome>], dir: &Path) -> Result<SuiteReport, String> {
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
                suite: DlnSuite::NAME,
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
            suite: DlnSuite::NAME,
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
                Teacher::PaperRandom => "the paper's random procedure (each layer's rank cut with probability 1/2)",
                Teacher::FullRank => "every layer full rank",
            }
        ));
        for w in &self.scale.sweeps {
            let epsilon = match w.adaptation(&self.scale) {
                None => format!("{:e}", w.start_epsilon()),
                Some(a) => format!("auto (from {:e}, target acceptance {})", w.start_epsilon(), a.target_for(true)),
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
            Teacher::PaperRandom => {
                "How to read the errors. λ̂ estimates the *local* coefficient at its point, and Aoyagi's λ is the \
                 minimum of the local coefficient over the set of true parameters, so the local value can only be \
                 larger. Where λ̂ exceeds λ at a paper-random teacher, the likely cause is that: the local coefficient \
                 at the teacher is larger than λ when a rank-cut layer sits between full-rank ones \
                 (docs/dln-teachers.md); SGD from a small initialization tends to end nearer the most degenerate \
                 points, where local and global agree. An estimate *below* λ cannot come from that; it means the \
                 chain had not risen to equilibrium in its steps (slow mixing near degenerate points, or a step size \
                 too small for the net).\n\n"
            }
            Teacher::FullRank => {
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
        Ok(SuiteReport { suite: DlnSuite::NAME, claims, markdown: md, screen, figures })
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
pub(super) fn epsilon_text(record: &Record<DlnSpec, DlnOutcome>) -> String {
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
