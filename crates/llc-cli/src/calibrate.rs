//! `llc calibrate dln|mlp`: short estimates over a grid of step sizes ε × nβ (or γ), a stability
//! flag per cell, each row's flat region (where λ̂ does not depend on ε), the recommended ε, a table
//! or JSON on stdout, and calibration.json and calibration.png in the output directory.
//!
//! The output directory is checked (a probe file written and removed) before any sampling, and both
//! files are written under temporary names and renamed into place only once everything is computed,
//! so that a failed run leaves neither behind. docs/calibration.md explains how to read the result.
//!
//! This file runs the grid and writes the files; `calibrate/report.rs` builds what they hold.

mod report;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use llc_app::plot::HeatMap;
use llc_app::{
    AUTO_EPSILON_START, AppBackend, Batch, DlnPoint, Point, dln_loss, dln_point, dln_teacher, mlp_loss, mlp_point,
    mlp_teacher,
};
use llc_estimators::{EstimatorConfig, EstimatorError, LlcEstimate, NoiseHome, Progress};
use serde::Serialize;

use crate::args::{CalibrateArgs, CalibrateDlnArgs, CalibrateMlpArgs, EpsilonArg, EstimateArgs, GridArgs};
use crate::estimate::{Model, Network, check_network, estimator_config};
use crate::exit::Failure;
use crate::plateau;
use crate::progress::Bar;
use report::{build_report, heat_map, human};

/// The default ε grid: the estimate's default 2.5e-7 times 2^k for k = −4…2.
const DEFAULT_EPSILONS: [f64; 7] = [2.5e-7 / 16.0, 2.5e-7 / 8.0, 2.5e-7 / 4.0, 2.5e-7 / 2.0, 2.5e-7, 5e-7, 1e-6];

/// The default nβ rows, as multiples of nβ₀ (--nbeta or n/ln n).
const DEFAULT_NBETA_FACTORS: [f64; 3] = [0.5, 1.0, 2.0];

/// `llc calibrate dln` on backend `B`.
pub(crate) fn run_dln<B: AppBackend>(args: &CalibrateDlnArgs, device: &B::Device) -> Result<(), Failure> {
    let widths = &args.network.widths.0;
    check_network(widths, args.network.rank)?;
    let network = Network { model: Model::Dln, widths: widths.clone(), theory: None };
    let grid = Grid::new::<B>(&args.grid, &args.common, &network)?;
    let teacher = dln_teacher(widths, args.network.teacher, args.network.rank, args.common.seed)?;
    let DlnPoint { point, rank, lambda } = dln_point::<B>(&teacher, args.common.synthetic(), device)?;
    let network = Network { theory: Some((rank, lambda)), ..network };
    calibrate(args, &network, &grid, &point, dln_loss)
}

/// `llc calibrate mlp` on backend `B`.
pub(crate) fn run_mlp<B: AppBackend>(args: &CalibrateMlpArgs, device: &B::Device) -> Result<(), Failure> {
    let widths = &args.network.widths.0;
    check_network(widths, None)?;
    let network = Network { model: Model::Mlp, widths: widths.clone(), theory: None };
    let grid = Grid::new::<B>(&args.grid, &args.common, &network)?;
    let point = mlp_point::<B>(&mlp_teacher(widths, args.common.seed, 1.0)?, args.common.synthetic(), device)?;
    calibrate(args, &network, &grid, &point, mlp_loss)
}

/// Checks the output directory, runs every cell of the grid at `point` with `loss`, and writes and
/// prints the result.
fn calibrate<B: AppBackend, N: clap::Args, M: AutodiffModule<B>>(
    args: &CalibrateArgs<N>,
    network: &Network,
    grid: &Grid,
    point: &Point<M, B>,
    loss: fn(&M, &Batch<B>) -> Tensor<B, 1>,
) -> Result<(), Failure> {
    let out = OutDir::check(&args.grid.out)?;
    let run = grid.run(&args.common, |config, progress| point.estimate(loss, config.clone(), progress))?;
    finish(network, grid, &args.common, point.data_form(), run, &out)
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
    /// The grid of `grid` with the settings of `common`, refused before any work if it could not
    /// fit in memory.
    fn new<B: NoiseHome>(grid: &GridArgs, common: &EstimateArgs, network: &Network) -> Result<Self, Failure> {
        // Every cell has a fixed ε, the grid's: the automatic step size does not apply.
        let fixed = EstimateArgs { epsilon: Some(EpsilonArg::Fixed(AUTO_EPSILON_START)), ..common.clone() };
        let base = estimator_config::<B>(&fixed)?;
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
                config.validate(common.n).map_err(EstimatorError::from)?;
                line.push(config);
            }
            configs.push(line);
        }
        let grid = Self { epsilons, axis, rows, reference, configs };
        // Every cell's results are kept until the end: they must all fit in memory.
        crate::memory::check(&crate::memory::Run {
            widths: &network.widths,
            biases: network.model.biases(),
            common,
            config: &grid.configs[0][0],
            copies: 1,
            estimates: grid.cells(),
        })?;
        Ok(grid)
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
                        return Err(e.into());
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

/// Writes the files, then prints the report; warns on stderr when nothing can be recommended.
fn finish(
    network: &Network,
    grid: &Grid,
    common: &EstimateArgs,
    data_form: &'static str,
    run: GridRun,
    out: &OutDir,
) -> Result<(), Failure> {
    let files = vec![out.dir.join("calibration.json"), out.dir.join("calibration.png")];
    let report = build_report(network, grid, common, data_form, run, files);
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
    if !report.recommends() {
        eprintln!(
            "warning: no flat region in the {} = {} row (no two neighbouring stable cells agree), so no ε is \
             recommended; try more --steps or a wider --epsilons",
            grid.axis.symbol(),
            row_label(grid.axis, grid.rows[grid.reference])
        );
    }
    Ok(())
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
            llc_app::plot::write_png(map, &temp_png)?;
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
