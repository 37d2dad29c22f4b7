//! `cargo xtask`: the project's automation, following the cargo-xtask convention.
//!
//! ```text
//! cargo xtask reproduce                  # the paper's three suites at the default scale (≤ 30 min, 2 cores)
//! cargo xtask reproduce --scale quick    # the CI-sized run (≤ 5 min)
//! cargo xtask reproduce --suite rescaling --scale paper --shard 3/10
//! cargo xtask help                       # list the tasks
//! ```
//!
//! `reproduce` reads the suite settings from `experiments/*.toml`, writes one record per finished
//! run under `experiments/results/<scale>/` (so an interrupted run resumes), and, once a suite is
//! complete, its figures (SVG and PNG), `REPORT.md` and `summary.json`. Each task is plain Rust, so
//! a fresh machine with only the Rust toolchain can run it.

mod figures;
mod reproduce;

use std::process::ExitCode;

const HELP: &str = "\
usage: cargo xtask <TASK> [OPTIONS]

tasks:
  reproduce   re-run the paper's three experiment suites and write figures and a report
              (`cargo xtask reproduce --help` lists its options)
  help        print this message";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reproduce") => reproduce::main(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            println!("{HELP}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown task '{other}'; run `cargo xtask help` for the list");
            ExitCode::from(2)
        }
    }
}
