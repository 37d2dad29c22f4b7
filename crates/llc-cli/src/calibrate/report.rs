//! What `llc calibrate` reports: calibration.json (and the JSON of `--json`) with a stability flag
//! per cell, each row's flat region and the recommended ε; the table for a person; and the heat
//! map.

use std::path::PathBuf;

use llc_app::plot::{ColorMap, HeatMap};
use llc_estimators::LlcEstimate;
use serde::Serialize;

use super::{Grid, GridRun, RowAxis, epsilon_label, row_label};
use crate::args::EstimateArgs;
use crate::estimate::{Network, NetworkReport, relative_error};
use crate::plateau::{self, CellValue, Instability};

/// One cell of calibration.json.
#[derive(Debug, Serialize)]
struct CellReport {
    row: usize,
    column: usize,
    epsilon: f64,
    n_beta: f64,
    gamma: f64,
    /// Mean λ̂ over the chains that finished (null if none did).
    lambda_hat: Option<f64>,
    /// Standard deviation of λ̂ across those chains.
    lambda_hat_std: Option<f64>,
    /// lambda_hat_std / √(chains that finished).
    standard_error: Option<f64>,
    /// (λ̂ − λ)/λ where λ is known.
    relative_error: Option<f64>,
    /// Mean MALA acceptance of the SGLD moves (MALA: its acceptance rate).
    acceptance: Option<f64>,
    chains: usize,
    diverged_chains: usize,
    r_hat: Option<f64>,
    stable: bool,
    /// Why the cell is not stable (empty when it is).
    unstable_because: Vec<&'static str>,
    in_flat_region: bool,
    seconds: f64,
}

/// A row's flat region.
#[derive(Debug, Serialize)]
struct FlatRegion {
    /// The columns it spans, first and last included.
    first_column: usize,
    last_column: usize,
    first_epsilon: f64,
    last_epsilon: f64,
    /// Mean of λ̂ over its cells.
    mean_lambda_hat: f64,
}

/// One row of calibration.json.
#[derive(Debug, Serialize)]
struct RowReport {
    row: usize,
    /// The value of nβ or γ (see `rows_are`).
    value: f64,
    flat_region: Option<FlatRegion>,
    /// The largest ε of the flat region.
    recommended_epsilon: Option<f64>,
}

/// The recommended cell.
#[derive(Debug, Serialize)]
struct Recommendation {
    epsilon: f64,
    n_beta: f64,
    gamma: f64,
    row: usize,
    column: usize,
    lambda_hat: Option<f64>,
    lambda_hat_std: Option<f64>,
    relative_error: Option<f64>,
    acceptance: Option<f64>,
}

/// The settings shared by every cell.
#[derive(Debug, Serialize)]
struct Settings {
    chains: usize,
    steps: usize,
    burn_in: usize,
    batch: usize,
    seed: u64,
    sampler: &'static str,
    draw_loss: &'static str,
    acceptance_every: usize,
    /// γ, when the rows vary nβ.
    gamma: Option<f64>,
    /// nβ, when the rows vary γ.
    n_beta: Option<f64>,
    data_form: &'static str,
    device: &'static str,
}

/// The thresholds of the stability flag and of the flat region.
#[derive(Debug, Serialize)]
struct Thresholds {
    min_acceptance: f64,
    relative_tolerance: f64,
    standard_errors: f64,
}

/// calibration.json, and the JSON of `--json`.
#[derive(Debug, Serialize)]
pub(super) struct CalibrationReport {
    #[serde(flatten)]
    network: NetworkReport,
    n: usize,
    /// `n_beta` or `gamma`: what the rows vary.
    rows_are: RowAxis,
    epsilons: Vec<f64>,
    rows: Vec<RowReport>,
    /// The row the recommendation comes from.
    reference_row: usize,
    recommendation: Option<Recommendation>,
    /// Every cell, row by row, ε increasing within a row.
    cells: Vec<CellReport>,
    settings: Settings,
    thresholds: Thresholds,
    seconds: f64,
    /// The files written.
    files: Vec<PathBuf>,
}

impl CalibrationReport {
    /// Whether an ε is recommended (the reference row has a flat region).
    pub(super) fn recommends(&self) -> bool {
        self.recommendation.is_some()
    }

    fn cell(&self, row: usize, column: usize) -> &CellReport {
        &self.cells[row * self.epsilons.len() + column]
    }
}

/// Builds the report from the finished grid: stability, flat regions, recommendation.
pub(super) fn build_report(
    network: &Network,
    grid: &Grid,
    common: &EstimateArgs,
    data_form: &'static str,
    run: GridRun,
    files: Vec<PathBuf>,
) -> CalibrationReport {
    let lambda = network.lambda();
    let mut cells = Vec::with_capacity(grid.cells());
    let mut rows = Vec::with_capacity(grid.rows.len());
    for (row, (estimates, &value)) in run.estimates.iter().zip(&grid.rows).enumerate() {
        let mut line: Vec<CellReport> =
            estimates.iter().enumerate().map(|(column, e)| cell(row, column, e, lambda)).collect();
        let values: Vec<CellValue> = line
            .iter()
            .map(|c| CellValue {
                lambda_hat: c.lambda_hat.unwrap_or(f64::NAN),
                standard_error: c.standard_error.unwrap_or(0.0),
                stable: c.stable,
                acceptance: c.acceptance.unwrap_or(f64::NAN),
            })
            .collect();
        let region = plateau::flat_region(&values);
        let flat_region = region.clone().map(|span| {
            line[span.clone()].iter_mut().for_each(|c| c.in_flat_region = true);
            FlatRegion {
                first_column: span.start,
                last_column: span.end - 1,
                first_epsilon: grid.epsilons[span.start],
                last_epsilon: grid.epsilons[span.end - 1],
                mean_lambda_hat: values[span.clone()].iter().map(|v| v.lambda_hat).sum::<f64>() / span.len() as f64,
            }
        });
        let recommended = plateau::recommended_column(&values);
        rows.push(RowReport { row, value, flat_region, recommended_epsilon: recommended.map(|c| grid.epsilons[c]) });
        cells.extend(line);
    }
    let base = &grid.configs[0][0];
    let settings = Settings {
        chains: base.n_chains,
        steps: base.n_steps,
        burn_in: base.n_burnin,
        batch: base.batch_size,
        seed: base.seed,
        sampler: base.sampler.name(),
        draw_loss: base.draw_loss.name(),
        acceptance_every: base.acceptance_every,
        gamma: (grid.axis == RowAxis::NBeta).then_some(base.gamma),
        n_beta: (grid.axis == RowAxis::Gamma).then(|| base.n_beta_for(common.n)),
        data_form,
        device: common.device.name(),
    };
    let mut report = CalibrationReport {
        network: network.report(),
        n: common.n,
        rows_are: grid.axis,
        epsilons: grid.epsilons.clone(),
        rows,
        reference_row: grid.reference,
        recommendation: None,
        cells,
        settings,
        thresholds: Thresholds {
            min_acceptance: plateau::MIN_ACCEPTANCE,
            relative_tolerance: plateau::RELATIVE_TOLERANCE,
            standard_errors: plateau::STANDARD_ERRORS,
        },
        seconds: run.seconds,
        files,
    };
    let chosen =
        report.rows[grid.reference].recommended_epsilon.and_then(|e| grid.epsilons.iter().position(|&x| x == e));
    report.recommendation = chosen.map(|column| {
        let c = report.cell(grid.reference, column);
        Recommendation {
            epsilon: c.epsilon,
            n_beta: c.n_beta,
            gamma: c.gamma,
            row: grid.reference,
            column,
            lambda_hat: c.lambda_hat,
            lambda_hat_std: c.lambda_hat_std,
            relative_error: c.relative_error,
            acceptance: c.acceptance,
        }
    });
    report
}

/// One cell's report from its estimate.
fn cell(row: usize, column: usize, e: &LlcEstimate, lambda: Option<f64>) -> CellReport {
    let finished = e.per_chain.iter().filter(|c| c.lambda_hat.is_some()).count();
    let lambda_hat = (finished > 0 && e.lambda_hat.is_finite()).then_some(e.lambda_hat);
    let lambda_hat_std = lambda_hat.map(|_| e.lambda_hat_std);
    let acceptance = e.diagnostics.mean_acceptance;
    let diverged = e.diagnostics.diverged.len();
    let reasons = plateau::instabilities(lambda_hat, acceptance, diverged);
    CellReport {
        row,
        column,
        epsilon: e.config.epsilon,
        n_beta: e.n_beta,
        gamma: e.config.gamma,
        lambda_hat,
        lambda_hat_std,
        standard_error: lambda_hat_std.map(|sd| sd / (finished as f64).sqrt()),
        relative_error: relative_error(lambda_hat, lambda),
        acceptance,
        chains: e.per_chain.len(),
        diverged_chains: diverged,
        r_hat: e.diagnostics.r_hat,
        stable: reasons.is_empty(),
        unstable_because: reasons.into_iter().map(Instability::describe).collect(),
        in_flat_region: false,
        seconds: e.seconds,
    }
}

/// The heat map of the report: λ̂/λ around 1 where λ is known, λ̂ otherwise.
pub(super) fn heat_map(report: &CalibrationReport, grid: &Grid) -> HeatMap {
    let lambda = report.network.lambda.filter(|l| *l > 0.0);
    let shown = |c: &CellReport| match lambda {
        Some(l) => c.lambda_hat.map(|h| h / l),
        None => c.lambda_hat,
    };
    let rows = grid.rows.len();
    let columns = grid.epsilons.len();
    let values = (0..rows).map(|r| (0..columns).map(|c| shown(report.cell(r, c))).collect()).collect();
    let text = (0..rows)
        .map(|r| {
            (0..columns)
                .map(|c| {
                    let cell = report.cell(r, c);
                    let value = match (shown(cell), lambda) {
                        (Some(v), Some(_)) => format!("{v:.3}"),
                        (Some(v), None) => format!("{v:.1}"),
                        (None, _) => "none".to_string(),
                    };
                    let acceptance = cell.acceptance.map_or(String::new(), |a| format!("accept {a:.2}"));
                    [value, acceptance]
                })
                .collect()
        })
        .collect();
    let unstable = (0..rows).map(|r| (0..columns).map(|c| !report.cell(r, c).stable).collect()).collect();
    let flat = report.rows.iter().map(|r| r.flat_region.as_ref().map(|f| f.first_column..f.last_column + 1)).collect();
    let name = report.network.name("→");
    let (title, color_label, color_map) = match lambda {
        Some(l) => (
            format!("λ̂/λ over ε × {}: {name}, λ = {l}", grid.axis.symbol()),
            "λ̂ / λ".to_string(),
            ColorMap::Diverging { centre: 1.0 },
        ),
        None => (
            format!("λ̂ over ε × {}: {name}, d = {}", grid.axis.symbol(), report.network.params),
            "λ̂".to_string(),
            ColorMap::Sequential,
        ),
    };
    HeatMap {
        title,
        x_label: format!(
            "step size ε   ({} chains × {} steps per cell, n = {})",
            report.settings.chains, report.settings.steps, report.n
        ),
        y_label: grid.axis.symbol().to_string(),
        columns: grid.epsilons.iter().map(|&e| short_epsilon(e)).collect(),
        rows: grid.rows.iter().map(|&v| row_label(grid.axis, v)).collect(),
        values,
        text,
        unstable,
        flat,
        recommended: report.recommendation.as_ref().map(|r| (r.row, r.column)),
        color_label,
        color_map,
    }
}

/// ε for the figure's column labels: as the table writes it when that is short, else with three
/// significant digits.
fn short_epsilon(epsilon: f64) -> String {
    let full = epsilon_label(epsilon);
    if full.len() <= 9 {
        return full;
    }
    let s = format!("{epsilon:.2e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => format!("{}e{exp}", mantissa.trim_end_matches('0').trim_end_matches('.')),
        None => s,
    }
}

/// The table for a person.
pub(super) fn human(r: &CalibrationReport, grid: &Grid) -> String {
    let network = &r.network;
    let mut out = format!("calibration of the {}  (d = {} parameters", network.name(" → "), network.params);
    if let (Some(rank), Some(lambda)) = (network.rank, network.lambda) {
        out.push_str(&format!(", teacher rank r = {rank}, exact λ = {lambda} (Aoyagi)"));
    }
    out.push_str(&format!("), n = {}\n", r.n));
    let s = &r.settings;
    let fixed = match (s.gamma, s.n_beta) {
        (Some(g), _) => format!("γ = {g}"),
        (_, Some(nb)) => format!("nβ = {nb:.1}"),
        _ => String::new(),
    };
    out.push_str(&format!(
        "{} ε × {} {} = {} cells, each {} chains × {} steps (burn-in {}), {fixed}, batch {}, {}\n\n",
        r.epsilons.len(),
        r.rows.len(),
        grid.axis.symbol(),
        r.cells.len(),
        s.chains,
        s.steps,
        s.burn_in,
        s.batch,
        s.sampler
    ));
    let known = network.lambda.is_some();
    let mut header = format!("{:>11}  {:>9}  {:>5}  {:>9}  {:>7}", "ε", "nβ", "γ", "λ̂", "sd");
    if known {
        header.push_str(&format!("  {:>7}", "λ̂/λ−1"));
    }
    header.push_str(&format!("  {:>6}  {:>4}  {:>6}  {}", "accept", "div", "R̂", "stable"));
    out.push_str(&header);
    out.push('\n');
    let fmt = |x: Option<f64>, p: usize| x.map_or("—".to_string(), |v| format!("{v:.p$}"));
    for row in 0..r.rows.len() {
        if row > 0 {
            out.push('\n');
        }
        for column in 0..r.epsilons.len() {
            let c = r.cell(row, column);
            let mut line = format!(
                "{:>11}  {:>9.1}  {:>5}  {:>9}  {:>7}",
                epsilon_label(c.epsilon),
                c.n_beta,
                format!("{}", c.gamma),
                fmt(c.lambda_hat, 2),
                fmt(c.lambda_hat_std, 2)
            );
            if known {
                line.push_str(&format!(
                    "  {:>7}",
                    c.relative_error.map_or("—".into(), |e| format!("{:+.1}%", 100.0 * e))
                ));
            }
            line.push_str(&format!(
                "  {:>6}  {:>4}  {:>6}  {}",
                fmt(c.acceptance, 3),
                c.diverged_chains,
                fmt(c.r_hat, 3),
                if c.stable { "yes".to_string() } else { format!("no: {}", c.unstable_because.join(", ")) }
            ));
            if c.in_flat_region {
                line.push_str("  flat");
            }
            if r.recommendation.as_ref().is_some_and(|rec| rec.row == row && rec.column == column) {
                line.push_str("  ← recommended");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.push('\n');
    for row in &r.rows {
        let name = format!("{} = {}", grid.axis.symbol(), row_label(grid.axis, row.value));
        match &row.flat_region {
            Some(f) => out.push_str(&format!(
                "flat region ({name}): ε = {} … {} ({} cells, mean λ̂ = {:.2})\n",
                epsilon_label(f.first_epsilon),
                epsilon_label(f.last_epsilon),
                f.last_column - f.first_column + 1,
                f.mean_lambda_hat
            )),
            None => out.push_str(&format!("flat region ({name}): none\n")),
        }
    }
    match &r.recommendation {
        Some(rec) => {
            out.push_str(&format!(
                "recommended ε = {} (nβ = {:.1}, γ = {}): λ̂ = {} ± {}",
                epsilon_label(rec.epsilon),
                rec.n_beta,
                rec.gamma,
                fmt(rec.lambda_hat, 2),
                fmt(rec.lambda_hat_std, 2)
            ));
            if let Some(e) = rec.relative_error {
                out.push_str(&format!(" ({:+.1}% from λ)", 100.0 * e));
            }
            out.push_str(&format!(", acceptance {}\n", fmt(rec.acceptance, 3)));
        }
        None => out.push_str("recommended ε: none (no flat region in the reference row)\n"),
    }
    let files = r.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and ");
    out.push_str(&format!("{} cells in {:.1} s; wrote {files}", r.cells.len(), r.seconds));
    out
}
