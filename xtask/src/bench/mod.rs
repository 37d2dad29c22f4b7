//! `cargo xtask bench`: SGLD throughput against a measured GEMM roofline, and the memory of a long
//! streamed estimate.
//!
//! ```text
//! cargo xtask bench                                   # the three sizes of the speed baselines, 5 rounds of 3 s
//! cargo xtask bench --sizes 20,30,25,10 --chains 1,8 --rounds 3 --seconds 2 --markdown
//! cargo xtask bench memory                            # 50,000 steps of the 1.12M-parameter DLN, n = 10⁶ streamed
//! cargo xtask bench memory --steps 200 --n 100000     # a smoke run
//! ```
//!
//! **Throughput** (`throughput.rs`). Each size runs in a child process (this executable again, with
//! the hidden subcommand `measure-size`), so that one size's allocations do not inflate the next
//! one's peak memory. The child builds the teacher, the materialized data and one chain layout per
//! entry of `--chains` (one chain; or C chains stacked into one module, for sizes under
//! `--stack-below` parameters), and then runs `--rounds` rounds. In each round, for each layout in
//! turn, it measures the GEMM roofline (`Tensor::matmul` of two random 1024 × 1024 f32 matrices on
//! the inner backend) and right after it the layout's SGLD step rate for `--seconds` seconds (after
//! a short warm-up), so that every ratio compares two measurements taken seconds apart: on a shared
//! machine the GEMM rate itself moves by a factor of 3 within minutes. The parent reports the
//! median over rounds of the step rate, of the roofline and of the per-round ratio, and the min–max
//! of the ratio.
//!
//! **Memory** (`memory.rs`). One real estimate (`llc_estimators::Estimator`, one chain, data
//! streamed so that it is never held in memory) at the teacher, with the resident set size sampled
//! every 1% of the steps through a `Progress` implementation: peak, the RSS at 10%, 50% and 100%,
//! and the least-squares slope over the second half, which is what a leak would show.
//!
//! Bad options give one line on stderr and exit status 2, as for `reproduce`.

mod machine;
pub(crate) mod memory;
pub(crate) mod throughput;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use llc_app::parse::{Widths, parse_widths};
use serde::Serialize;

/// Measures SGLD throughput (chain-steps/s, GFLOP/s, share of a measured GEMM roofline, peak
/// memory) on deep linear networks; `memory` measures the memory of a long streamed estimate.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask bench", disable_help_subcommand = true, args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    throughput: throughput::Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The memory of one long estimate with streamed data: peak RSS, RSS at 10%, 50% and 100% of
    /// the steps, and its slope over the second half.
    Memory(memory::Args),
    /// Measures one size in this process and prints one JSON line (what `bench` runs in a child
    /// process per size).
    #[command(hide = true)]
    MeasureSize(throughput::ChildArgs),
}

/// Entry point of `cargo xtask bench`.
pub(crate) fn main(raw: &[String]) -> ExitCode {
    let args = match crate::parse_options::<Args>("cargo xtask bench", raw) {
        Ok(args) => args,
        Err(status) => return status,
    };
    crate::exit_status(match &args.command {
        None => throughput::run(&args.throughput),
        Some(Command::Memory(memory)) => memory::run(memory),
        Some(Command::MeasureSize(child)) => throughput::run_child(child),
    })
}

/// Parses `H1,H2,...`: at least two widths, each ≥ 1, within the theory crate's limits.
fn parse_network(text: &str) -> Result<Widths, String> {
    let widths = parse_widths(text)?;
    llc_theory::validate(&widths.0, 0).map_err(|e| format!("'{text}': {e}"))?;
    Ok(widths)
}

/// Checks, before any measurement, that `path` can be written: creates its directory and opens it
/// for appending (an existing file is left as it is until the results replace it).
fn check_writable(path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map(drop)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes `value` as pretty JSON to `path`.
fn write_json<T: Serialize>(path: &PathBuf, value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| format!("cannot encode the results: {e}"))?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[mid] } else { 0.5 * (sorted[mid - 1] + sorted[mid]) }
}

/// `value` with thousands separators (`12,345`), rounded to a whole number.
fn grouped(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if value < 0.0 && digits != "0" { format!("-{out}") } else { out }
}

/// A rate with three significant digits, and thousands separators from 1,000 up.
fn rate(value: f64) -> String {
    match value {
        v if !v.is_finite() => "n/a".into(),
        v if v.abs() >= 1000.0 => grouped(v),
        v if v.abs() >= 100.0 => format!("{v:.0}"),
        v if v.abs() >= 10.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

/// Mebibytes with one decimal, or `n/a`.
fn mib(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.1} MiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_or_name_the_problem() {
        assert_eq!(parse_network("20,30,25,10").unwrap(), Widths(vec![20, 30, 25, 10]));
        assert!(parse_network("20,x,25").unwrap_err().contains("item 2 ('x')"));
        assert!(parse_network("20").is_err());
        assert!(parse_network("20,0,5").is_err());
    }

    #[test]
    fn medians_and_number_formats() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(grouped(1_234_567.4), "1,234,567");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(rate(2539.2), "2,539");
        assert_eq!(rate(20.34), "20.3");
        assert_eq!(rate(0.5), "0.50");
    }

    #[test]
    fn bad_options_are_one_line_and_status_two() {
        let parse = |args: &[&str]| {
            Args::try_parse_from(std::iter::once("cargo xtask bench").chain(args.iter().copied())).map(|_| ())
        };
        assert!(parse(&[]).is_ok());
        assert!(parse(&["memory", "--steps", "200", "--n", "100000"]).is_ok());
        assert!(parse(&["--sizes", "20,30", "--sizes", "5,6,7", "--chains", "1,8"]).is_ok());
        assert!(parse(&["memory", "--steps", "0"]).is_err());
        assert!(parse(&["--sizes", "20,,30"]).is_err());
        assert!(parse(&["frobnicate"]).is_err());
        assert_eq!(main(&["frobnicate".to_owned()]), ExitCode::from(2));
        assert_eq!(main(&["--chains".to_owned(), "0".to_owned()]), ExitCode::from(2));
    }
}
