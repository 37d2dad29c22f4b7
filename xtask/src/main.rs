//! `cargo xtask`: the project's automation, following the cargo-xtask convention.
//!
//! ```text
//! cargo xtask reproduce                  # the paper's three suites at the default scale (≤ 30 min, 2 cores)
//! cargo xtask reproduce --scale quick    # the CI-sized run (≤ 5 min)
//! cargo xtask reproduce --suite rescaling --scale paper --shard 3/10
//! cargo xtask gpu-check                  # on a machine with an NVIDIA GPU: tests, then a 100M-parameter point
//! cargo xtask bench                      # SGLD throughput against a measured GEMM roofline (`bench/`)
//! cargo xtask bench memory               # the memory of one long streamed estimate
//! cargo xtask help                       # list the tasks
//! ```
//!
//! `reproduce` reads the suite settings from `experiments/*.toml`, writes one record per finished
//! run under `experiments/results/<scale>/` (so an interrupted run resumes), and, once a suite is
//! complete, its figures (SVG and PNG), `REPORT.md` and `summary.json`. Each task is plain Rust, so
//! a fresh machine with only the Rust toolchain can run it. `gpu-check` (in `gpu_check.rs`) is the
//! prepared check for a machine with one NVIDIA GPU; without the `cuda` feature it runs itself again
//! through cargo with it.
//!
//! The tasks hold their options, plans and reports; the teachers and data, the backends, the value
//! parsers and the figures come from the `llc-app` crate, which the `llc` command shares.
//! Features: `cuda` adds `--device cuda` to the tasks (burn-cuda); `blas` sends burn-ndarray's
//! matrix products to the system's OpenBLAS (`llc_app::blas`). Neither is part of the default
//! build.

mod bench;
mod gpu_check;
mod reproduce;

use std::process::ExitCode;

use clap::Parser;
use llc_app::{AppBackend, Device, OnBackend};

const HELP: &str = "\
usage: cargo xtask <TASK> [OPTIONS]

tasks:
  reproduce   re-run the paper's three experiment suites and write figures and a report
              (`cargo xtask reproduce --help` lists its options)
  gpu-check   on a machine with an NVIDIA GPU: the tests with the `cuda` feature, then one
              100M-parameter DLN point on the GPU (`cargo xtask gpu-check --help`)
  bench       SGLD chain-steps/s, GFLOP/s, share of a measured GEMM roofline and peak memory
              per size; `bench memory`: the memory of one long estimate (`cargo xtask bench --help`)
  help        print this message";

fn main() -> ExitCode {
    // The `blas` build first restarts itself with OpenBLAS's settings in the environment (see
    // `llc_app::blas` for why that cannot wait).
    #[cfg(feature = "blas")]
    if let Some(status) = llc_app::blas::reexec_with_settings() {
        return status;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reproduce") => reproduce::main(&args[1..]),
        Some("gpu-check") => gpu_check::main(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
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

/// Parses a task's options (`name` is how its usage names it, e.g. `cargo xtask bench`); a bad one
/// is reported on one line with exit status 2, and `--help` prints the help and succeeds.
fn parse_options<P: Parser>(name: &str, args: &[String]) -> Result<P, ExitCode> {
    P::try_parse_from(std::iter::once(name.to_owned()).chain(args.iter().cloned()))
        .map_err(|e| llc_app::report::report_clap_error(&e))
}

/// A task's outcome as its exit status: 0 when it succeeded, 1 when it ran but found a failure
/// (`Ok(false)`), 2 with the error on one line when it could not run.
fn exit_status(outcome: Result<bool, String>) -> ExitCode {
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The work of a task that runs estimates, on the backend its `--device` names.
enum OnDevice<'a> {
    /// `reproduce`: the suites.
    Reproduce(&'a reproduce::Args),
    /// `gpu-check`: the tests, then the point.
    GpuCheck(&'a gpu_check::Check),
    /// `bench memory`: one long estimate.
    BenchMemory(&'a bench::memory::Args),
    /// `bench measure-size`: one size of the throughput benchmark.
    BenchSize(&'a bench::throughput::ChildArgs),
}

impl OnDevice<'_> {
    /// Runs the work on `device`, the value of the `--device` of `command` (e.g. `reproduce`).
    fn run_on(self, device: Device, command: &str) -> Result<bool, String> {
        llc_app::on_backend(device, self).unwrap_or_else(|e| Err(e.message("xtask", command)))
    }
}

impl OnBackend for OnDevice<'_> {
    type Output = Result<bool, String>;

    fn run<B: AppBackend>(self, device: &B::Device) -> Self::Output {
        match self {
            Self::Reproduce(args) => reproduce::run_on::<B>(args, device),
            Self::GpuCheck(check) => gpu_check::run_on::<B>(check, device),
            Self::BenchMemory(args) => bench::memory::measure::<B>(args, device),
            Self::BenchSize(args) => bench::throughput::measure_size::<B>(args, device),
        }
    }
}
