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
//! The binary holds the grammar (`args.rs`, `config.rs`), the checks of a run's settings and
//! memory, and the reports; the set-up of a teacher and its data, the backends and the heat map
//! come from the `llc-app` crate, which `cargo xtask` shares. Features: `cuda` adds
//! `--device cuda` (burn-cuda); `blas` sends burn-ndarray's matrix products to the system's
//! OpenBLAS (`llc_app::blas`). Neither is part of the default build.

mod args;
mod calibrate;
mod config;
mod estimate;
mod exit;
mod memory;
mod plateau;
mod progress;
mod theory;

use std::process::ExitCode;

use args::{
    CalibrateCommand, CalibrateDlnArgs, CalibrateMlpArgs, Command, EstimateArgs, EstimateCommand, EstimateDlnArgs,
    EstimateMlpArgs, TheoryCommand,
};
use exit::Failure;
use llc_app::{AppBackend, OnBackend};

fn main() -> ExitCode {
    // The `blas` build first restarts itself with OpenBLAS's settings in the environment (see
    // `llc_app::blas` for why that cannot wait).
    #[cfg(feature = "blas")]
    if let Some(status) = llc_app::blas::reexec_with_settings() {
        return status;
    }
    let cli = match args::Cli::parse_args() {
        Ok(cli) => cli,
        Err(args::ParseError::Clap(err)) => return llc_app::report::report_clap_error(&err),
        Err(args::ParseError::Refused(failure)) => return failure.report(),
    };
    let outcome = match &cli.command {
        Command::Theory(TheoryCommand::Dln(dln)) => theory::run_dln(dln),
        Command::Estimate(EstimateCommand::Dln(a)) => sample(Sampling::EstimateDln(a), "estimate dln", &a.common),
        Command::Estimate(EstimateCommand::Mlp(a)) => sample(Sampling::EstimateMlp(a), "estimate mlp", &a.common),
        Command::Calibrate(CalibrateCommand::Dln(a)) => sample(Sampling::CalibrateDln(a), "calibrate dln", &a.common),
        Command::Calibrate(CalibrateCommand::Mlp(a)) => sample(Sampling::CalibrateMlp(a), "calibrate mlp", &a.common),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Runs a command that samples (`words`, such as `estimate dln`) on the backend its `--device`
/// names; a device that this build or machine cannot use is the input's fault.
fn sample(command: Sampling<'_>, words: &str, common: &EstimateArgs) -> Result<(), Failure> {
    llc_app::on_backend(common.device, command).unwrap_or_else(|e| Err(Failure::usage(e.message("llc-cli", words))))
}

/// A command that samples, with its arguments.
enum Sampling<'a> {
    EstimateDln(&'a EstimateDlnArgs),
    EstimateMlp(&'a EstimateMlpArgs),
    CalibrateDln(&'a CalibrateDlnArgs),
    CalibrateMlp(&'a CalibrateMlpArgs),
}

impl OnBackend for Sampling<'_> {
    type Output = Result<(), Failure>;

    fn run<B: AppBackend>(self, device: &B::Device) -> Self::Output {
        match self {
            Self::EstimateDln(args) => estimate::run_dln::<B>(args, device),
            Self::EstimateMlp(args) => estimate::run_mlp::<B>(args, device),
            Self::CalibrateDln(args) => calibrate::run_dln::<B>(args, device),
            Self::CalibrateMlp(args) => calibrate::run_mlp::<B>(args, device),
        }
    }
}
