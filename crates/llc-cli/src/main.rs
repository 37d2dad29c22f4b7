//! The `llc` command-line tool: exact learning coefficients from theory, and SGLD estimates λ̂.
//!
//! ```text
//! $ llc theory dln --widths 5,3,5 --rank 1
//! $ llc theory dln --widths 5,3,5 --rank 1 --json
//! $ llc estimate dln --widths 20,30,25,10
//! $ llc estimate mlp --widths 10,20,20,10 --json
//! $ llc calibrate dln --widths 20,30,25,10
//! $ llc estimate dln --config run.toml --seed 4
//! ```
//!
//! Every problem with the user's input is reported as one line on stderr that names it, with exit
//! status 2 ([`exit::USAGE`]); the tool never panics on bad input.
//!
//! Features: `cuda` adds `--device cuda` (burn-cuda); `blas` sends burn-ndarray's matrix products
//! to the system's OpenBLAS (`openblas.rs`). Neither is part of the default build.

mod args;
mod calibrate;
mod config;
mod device;
mod estimate;
mod exit;
mod heatmap;
mod memory;
#[cfg(feature = "blas")]
mod openblas;
mod plateau;
mod theory;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The `blas` build first restarts itself with OpenBLAS's settings in the environment (see
    // `openblas.rs` for why that cannot wait).
    #[cfg(feature = "blas")]
    if let Some(status) = openblas::reexec_with_settings() {
        return status;
    }
    let cli = match args::Cli::parse_args() {
        Ok(cli) => cli,
        Err(args::ParseError::Clap(err)) => return exit::report_clap_error(err),
        Err(args::ParseError::Refused(failure)) => return failure.report(),
    };
    let outcome = match cli.command {
        args::Command::Theory(args::TheoryCommand::Dln(dln)) => theory::run_dln(&dln),
        args::Command::Estimate(args::EstimateCommand::Dln(dln)) => estimate::run_dln(&dln),
        args::Command::Estimate(args::EstimateCommand::Mlp(mlp)) => estimate::run_mlp(&mlp),
        args::Command::Calibrate(args::CalibrateCommand::Dln(dln)) => calibrate::run_dln(&dln),
        args::Command::Calibrate(args::CalibrateCommand::Mlp(mlp)) => calibrate::run_mlp(&mlp),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
