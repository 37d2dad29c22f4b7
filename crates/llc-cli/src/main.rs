//! The `llc` command-line tool: closed-form learning coefficients today, SGLD estimates as the
//! estimator crates land.
//!
//! ```text
//! $ llc theory dln --widths 5,3,5 --rank 1
//! $ llc theory dln --widths 5,3,5 --rank 1 --json
//! ```
//!
//! Every problem with the user's input is reported as one line on stderr that names it, with exit
//! status 2 ([`exit::USAGE`]); the tool never panics on bad input.

mod args;
mod exit;
mod theory;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::report_clap_error(err),
    };
    let outcome = match cli.command {
        args::Command::Theory(args::TheoryCommand::Dln(dln)) => theory::run_dln(&dln),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
