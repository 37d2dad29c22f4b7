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
//! Features: `cuda` adds `--device cuda` to `reproduce` (burn-cuda); `blas` sends burn-ndarray's
//! matrix products to the system's OpenBLAS (`openblas.rs`). Neither is part of the default build.

mod bench;
mod device;
mod figures;
mod gpu_check;
// The same restart as the `llc` binary's, from the one source file (both binaries are leaves, with
// no library crate between them where it could live).
#[cfg(feature = "blas")]
#[path = "../../crates/llc-cli/src/openblas.rs"]
mod openblas;
mod reproduce;

use std::process::ExitCode;

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
    // `openblas.rs` for why that cannot wait).
    #[cfg(feature = "blas")]
    if let Some(status) = openblas::reexec_with_settings() {
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
