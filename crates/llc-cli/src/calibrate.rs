//! `llc calibrate dln|mlp`: short estimates over a grid of step sizes ε × nβ (or γ), a stability
//! flag per cell, each row's flat region (where λ̂ does not depend on ε), the recommended ε, a table
//! or JSON on stdout, and calibration.json and calibration.png in the output directory.
//!
//! The output directory is checked (a probe file written and removed) before any sampling, and both
//! files are written under temporary names and renamed into place only once everything is computed,
//! so that a failed run leaves neither behind. docs/calibration.md explains how to read the result.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use llc_estimators::{Estimator, EstimatorConfig, EstimatorError, LlcEstimate, Progress};
use serde::Serialize;

use crate::args::{
    AUTO_EPSILON_START, CalibrateDlnArgs, CalibrateMlpArgs, DeviceArg, EpsilonArg, EstimateArgs, GridArgs,
};
use crate::device::Cpu;
#[cfg(feature = "cuda")]
use crate::device::Gpu;
use crate::estimate::{Bar, Setup, dln_loss, dln_setup, estimator_config, estimator_failure, mlp_loss, mlp_setup};
use crate::exit::Failure;
use crate::heatmap::{ColorMap, HeatMap};
use crate::plateau::{self, CellValue, Instability};

/// The default ε grid: the estimate's default 2.5e-7 times 2^k for k = −4…2.
const DEFAULT_EPSILONS: [f64; 7] = [2.5e-7 / 16.0, 2.5e-7 / 8.0, 2.5e-7 / 4.0, 2.5e-7 / 2.0, 2.5e-7, 5e-7, 1e-6];

/// The default nβ rows, as multiples of nβ₀ (--nbeta or n/ln n).
const DEFAULT_NBETA_FACTORS: [f64; 3] = [0.5, 1.0, 2.0];

/// `llc calibrate dln` on the device that `--device` names.
pub(crate) fn run_dln(args: &CalibrateDlnArgs) -> Result<(), Failure> {
    match args.common.device {
        DeviceArg::Cpu => run_dln_on::<Cpu>(args, &Default::default()),
        #[cfg(feature = "cuda")]
        DeviceArg::Cuda => run_dln_on::<Gpu>(args, &crate::device::cuda_device()?),
        #[cfg(not(feature = "cuda"))]
        DeviceArg::Cuda => Err(crate::device::cuda_not_built("dln")),
    }
}

/// `llc calibrate mlp` on the device that `--device` names.
pub(crate) fn run_mlp(args: &CalibrateMlpArgs) -> Result<(), Failure> {
    match args.common.device {
        DeviceArg::Cpu => run_mlp_on::<Cpu>(args, &Default::default()),
        #[cfg(feature = "cuda")]
        DeviceArg::Cuda => run_mlp_on::<Gpu>(args, &crate::device::cuda_device()?),
        #[cfg(not(feature = "cuda"))]
        DeviceArg::Cuda => Err(crate::device::cuda_not_built("mlp")),
    }
}

fn run_dln_on<B: AutodiffBackend>(args: &CalibrateDlnArgs, device: &B::Device) -> Result<(), Failure> {
    let widths = &args.network.widths.0;
    llc_theory::validate(widths, args.network.rank.unwrap_or(0))
        .map_err(|e| Failure::usage(format!("invalid network: {e}")))?;
    let grid = Grid::new(&args.grid, &args.common)?;
    grid.check_memory(widths, false, &args.common)?;
    let (Setup { model, data, materialized, init }, rank, lambda) =
        dln_setup::<B>(widths, args.network.rank, args.network.teacher, &args.common, device)?;
    let out = OutDir::check(&args.grid.out)?;
    let network = Network { model: "dln", widths: widths.clone(), biases: false, theory: Some((rank, lambda)) };
    let run = grid.run(&args.common, |config, progress| {
        Estimator::new(&model, &data, dln_loss)
            .with_config(config.clone())
            .with_init_loss(init)
            .with_progress(progress)
            .run()
    })?;
    finish(&network, &grid, &args.common, materialized, run, &out)
}

fn run_mlp_on<B: AutodiffBackend>(args: &CalibrateMlpArgs, device: &B::Device) -> Result<(), Failure> {
    let widths = &args.widths.0;
    llc_theory::validate(widths, 0).map_err(|e| Failure::usage(format!("invalid network: {e}")))?;
    let grid = Grid::new(&args.grid, &args.common)?;
    grid.check_memory(widths, true, &args.common)?;
    let Setup { model, data, materialized, init } = mlp_setup::<B>(widths, &args.common, device)?;
    let out = OutDir::check(&args.grid.out)?;
    let network = Network { model: "mlp", widths: widths.clone(), biases: true, theory: None };
    let run = grid.run(&args.common, |config, progress| {
        Estimator::new(&model, &data, mlp_loss)
            .with_config(config.clone())
            .with_init_loss(init)
            .with_progress(progress)
            .run()
    })?;
    finish(&network, &grid, &args.common, materialized, run, &out)
}

/// The network being calibrated.
struct Network {
    model: &'static str,
    widths: Vec<usize>,
    biases: bool,
    /// The teacher's rank and Aoyagi's λ (DLN only).
    theory: Option<(usize, f64)>,
}

impl Network {
    fn lambda(&self) -> Option<f64> {
        self.theory.map(|t| t.1)
    }
}

/// What the rows of the grid vary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum RowAxis {
    /// nβ (γ fixed).
    NBeta,
    /// γ (nβ fixed).
    Gamma,
}

impl RowAxis {
    fn symbol(self) -> &'static str {
        match self {
            Self::NBeta => "nβ",
            Self::Gamma => "γ",
        }
    }
}

/// The grid: ε columns and nβ or γ rows, both increasing, with every cell's estimator settings
/// checked before any sampling.
struct Grid {
    epsilons: Vec<f64>,
    axis: RowAxis,
    rows: Vec<f64>,
    /// The row the recommendation is read from (nearest nβ₀, or nearest --gamma).
    reference: usize,
    /// `configs[row][column]`.
    configs: Vec<Vec<EstimatorConfig>>,
}

impl Grid {
    fn new(grid: &GridArgs, common: &EstimateArgs) -> Result<Self, Failure> {
        // Every cell has a fixed ε, the grid's: the automatic step size does not apply.
        let fixed = EstimateArgs { epsilon: Some(EpsilonArg::Fixed(AUTO_EPSILON_START)), ..common.clone() };
        let base = estimator_config(&fixed)?;
        if base.acceptance_every == 0 {
            return Err(Failure::usage(
                "llc calibrate needs the MALA acceptance of each cell: --acceptance-every must be at least 1",
            ));
        }
        let sorted = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v
        };
        let epsilons = sorted(grid.epsilons.as_ref().map_or_else(|| DEFAULT_EPSILONS.to_vec(), |e| e.0.clone()));
        let n_beta = base.n_beta_for(common.n);
        let (axis, rows, reference) = match (&grid.nbetas, &grid.gammas) {
            (_, Some(gammas)) => {
                let rows = sorted(gammas.0.clone());
                let reference = plateau::reference_row(&rows, base.gamma, false);
                (RowAxis::Gamma, rows, reference)
            }
            (nbetas, None) => {
                let rows = sorted(
                    nbetas
                        .as_ref()
                        .map_or_else(|| DEFAULT_NBETA_FACTORS.iter().map(|f| f * n_beta).collect(), |v| v.0.clone()),
                );
                let reference = plateau::reference_row(&rows, n_beta, true);
                (RowAxis::NBeta, rows, reference)
            }
        };
        let mut configs = Vec::with_capacity(rows.len());
        for &row in &rows {
            let mut line = Vec::with_capacity(epsilons.len());
            for &epsilon in &epsilons {
                let mut config = base.clone();
                config.epsilon = epsilon;
                match axis {
                    RowAxis::NBeta => config.n_beta = Some(row),
                    RowAxis::Gamma => {
                        config.n_beta = Some(n_beta);
                        config.gamma = row;
                    }
                }
                config.validate(common.n).map_err(|e| estimator_failure(e.into()))?;
                line.push(config);
            }
            configs.push(line);
        }
        Ok(Self { epsilons, axis, rows, reference, configs })
    }

    /// Refuses a grid whose cells, all kept, could not fit in the machine's memory.
    fn check_memory(&self, widths: &[usize], biases: bool, common: &EstimateArgs) -> Result<(), Failure> {
        let Some(config) = self.configs.first().and_then(|row| row.first()) else {
            return Ok(());
        };
        crate::memory::check(&crate::memory::Run { widths, biases, common, config, copies: 1, estimates: self.cells() })
    }

    fn cells(&self) -> usize {
        self.rows.len() * self.epsilons.len()
    }

    /// Runs every cell, row by row and ε by ε, with one progress bar over all of them.
    fn run(
        &self,
        common: &EstimateArgs,
        mut estimate: impl FnMut(&EstimatorConfig, &mut dyn Progress) -> Result<LlcEstimate, EstimatorError>,
    ) -> Result<GridRun, Failure> {
        let started = Instant::now();
        let per_cell = self.configs.first().and_then(|r| r.first()).map_or(0, |c| c.n_chains * c.n_steps);
        let mut bar = Bar::spanning(common.quiet, (self.cells() * per_cell) as u64);
        let mut estimates = Vec::with_capacity(self.rows.len());
        let mut index = 0;
        for (row, configs) in self.rows.iter().zip(&self.configs) {
            let mut line = Vec::with_capacity(configs.len());
            for config in configs {
                index += 1;
                bar.set_message(format!(
                    "cell {index}/{} (ε = {}, {} = {})",
                    self.cells(),
                    epsilon_label(config.epsilon),
                    self.axis.symbol(),
                    row_label(self.axis, *row)
                ));
                match estimate(config, &mut bar) {
                    Ok(e) => line.push(e),
                    Err(e) => {
                        bar.done();
                        return Err(estimator_failure(e));
                    }
                }
            }
            estimates.push(line);
        }
        bar.done();
        Ok(GridRun { estimates, seconds: started.elapsed().as_secs_f64() })
    }
}

/// The estimates of every cell, `estimates[row][column]`, and the wall time of all of them.
struct GridRun {
    estimates: Vec<Vec<LlcEstimate>>,
    seconds: f64,
}

/// ε as the table and the figure write it: the shortest scientific form (1.5625e-8, 2.5e-7).
fn epsilon_label(epsilon: f64) -> String {
    format!("{epsilon:e}")
}

/// A row's value as the table writes it.
fn row_label(axis: RowAxis, value: f64) -> String {
    match axis {
        RowAxis::NBeta => format!("{value:.1}"),
        RowAxis::Gamma => format!("{value}"),
    }
}

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
struct CalibrationReport {
    model: &'static str,
    widths: Vec<usize>,
    params: usize,
    /// Rank of the teacher's product (DLN only).
    rank: Option<usize>,
    /// Aoyagi's λ (DLN only).
    lambda: Option<f64>,
    regular_lambda: f64,
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
    fn cell(&self, row: usize, column: usize) -> &CellReport {
        &self.cells[row * self.epsilons.len() + column]
    }
}

/// Builds the report from the finished grid: stability, flat regions, recommendation.
fn build_report(
    network: &Network,
    grid: &Grid,
    common: &EstimateArgs,
    materialized: bool,
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
        data_form: if materialized { "materialized" } else { "streaming" },
        device: match common.device {
            DeviceArg::Cpu => "cpu",
            DeviceArg::Cuda => "cuda",
        },
    };
    let params = crate::estimate::model_params(&network.widths, network.biases);
    let mut report = CalibrationReport {
        model: network.model,
        widths: network.widths.clone(),
        params,
        rank: network.theory.map(|t| t.0),
        lambda,
        regular_lambda: params as f64 / 2.0,
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
        relative_error: match (lambda_hat, lambda) {
            (Some(hat), Some(l)) if l > 0.0 => Some((hat - l) / l),
            _ => None,
        },
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

/// Writes the files, then prints the report; warns on stderr when nothing can be recommended.
fn finish(
    network: &Network,
    grid: &Grid,
    common: &EstimateArgs,
    materialized: bool,
    run: GridRun,
    out: &OutDir,
) -> Result<(), Failure> {
    let files = vec![out.dir.join("calibration.json"), out.dir.join("calibration.png")];
    let report = build_report(network, grid, common, materialized, run, files);
    let json =
        serde_json::to_string_pretty(&report).map_err(|e| Failure::other(format!("could not encode JSON: {e}")))?;
    out.write(&json, &heat_map(&report, grid))?;
    let text = if common.json {
        serde_json::to_string(&report).map_err(|e| Failure::other(format!("could not encode JSON: {e}")))?
    } else {
        human(&report, grid)
    };
    writeln!(std::io::stdout().lock(), "{text}")
        .map_err(|e| Failure::other(format!("could not write to stdout: {e}")))?;
    if report.recommendation.is_none() {
        let row = &report.rows[grid.reference];
        eprintln!(
            "warning: no flat region in the {} = {} row (no two neighbouring stable cells agree), so no ε is \
             recommended; try more --steps or a wider --epsilons",
            grid.axis.symbol(),
            row_label(grid.axis, row.value)
        );
    }
    Ok(())
}

/// The heat map of the report: λ̂/λ around 1 where λ is known, λ̂ otherwise.
fn heat_map(report: &CalibrationReport, grid: &Grid) -> HeatMap {
    let lambda = report.lambda.filter(|l| *l > 0.0);
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
    let arrows = report.widths.iter().map(usize::to_string).collect::<Vec<_>>().join("→");
    let (title, color_label, color_map) = match lambda {
        Some(l) => (
            format!("λ̂/λ over ε × {}: deep linear network {arrows}, λ = {l}", grid.axis.symbol()),
            "λ̂ / λ".to_string(),
            ColorMap::Diverging { centre: 1.0 },
        ),
        None => (
            format!("λ̂ over ε × {}: ReLU network {arrows}, d = {}", grid.axis.symbol(), report.params),
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
fn human(r: &CalibrationReport, grid: &Grid) -> String {
    let arrows = r.widths.iter().map(usize::to_string).collect::<Vec<_>>().join(" → ");
    let kind = if r.model == "dln" { "deep linear network" } else { "ReLU network" };
    let mut out = format!("calibration of the {kind} {arrows}  (d = {} parameters", r.params);
    if let (Some(rank), Some(lambda)) = (r.rank, r.lambda) {
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
    let known = r.lambda.is_some();
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

/// The output directory, checked to be writable before any sampling.
struct OutDir {
    dir: PathBuf,
}

impl OutDir {
    /// Creates `dir` if needed and writes and removes a probe file in it.
    fn check(dir: &Path) -> Result<Self, Failure> {
        let refuse = |what: &str, e: std::io::Error| {
            Failure::usage(format!("cannot {what} the output directory {}: {e}", dir.display()))
        };
        std::fs::create_dir_all(dir).map_err(|e| refuse("create", e))?;
        let probe = dir.join(format!(".llc-calibrate-probe-{}", std::process::id()));
        std::fs::write(&probe, b"probe").map_err(|e| refuse("write in", e))?;
        std::fs::remove_file(&probe).map_err(|e| refuse("remove a probe file from", e))?;
        Ok(Self { dir: dir.to_path_buf() })
    }

    /// Writes calibration.json and calibration.png under temporary names, then renames both into
    /// place; on any failure the temporary files are removed and neither final name is touched
    /// (unless the second rename fails after the first).
    fn write(&self, json: &str, map: &HeatMap) -> Result<(), Failure> {
        let pid = std::process::id();
        let temp_json = self.dir.join(format!(".calibration-{pid}.tmp.json"));
        let temp_png = self.dir.join(format!(".calibration-{pid}.tmp.png"));
        let result = (|| {
            std::fs::write(&temp_json, json).map_err(|e| format!("cannot write {}: {e}", temp_json.display()))?;
            crate::heatmap::write_png(map, &temp_png)?;
            for (from, name) in [(&temp_png, "calibration.png"), (&temp_json, "calibration.json")] {
                let to = self.dir.join(name);
                std::fs::rename(from, &to)
                    .map_err(|e| format!("cannot rename {} to {}: {e}", from.display(), to.display()))?;
            }
            Ok::<(), String>(())
        })();
        result.map_err(|message| {
            let _ = std::fs::remove_file(&temp_json);
            let _ = std::fs::remove_file(&temp_png);
            Failure::other(message)
        })
    }
}
