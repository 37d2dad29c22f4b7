//! `cargo xtask`: the project's automation, following the cargo-xtask convention.
//!
//! ```text
//! cargo xtask reproduce   # re-run the paper's experiment suites (lands with the estimators)
//! cargo xtask help        # list the tasks
//! ```
//!
//! Each task is plain Rust with few dependencies, so that a fresh machine with only the Rust
//! toolchain can run it.

use std::process::ExitCode;

const HELP: &str = "\
usage: cargo xtask <TASK>

tasks:
  reproduce   re-run the paper's three experiment suites and write figures and a report
  help        print this message";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reproduce") => reproduce(&args[1..]),
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

/// `cargo xtask reproduce`. The experiment suites need the SGLD estimator, which is not built yet;
/// until then the task says so and checks what it can already check: the closed-form λ values
/// that the DLN suite will compare its estimates against.
fn reproduce(args: &[String]) -> ExitCode {
    if let Some(arg) = args.first() {
        eprintln!("error: reproduce takes no options yet, got '{arg}'");
        return ExitCode::from(2);
    }
    println!("reproduce: the experiment suites are not implemented yet (they need the SGLD estimator).");
    println!("Closed-form learning coefficients the DLN suite will check its estimates against:");
    let cases: [(&[usize], usize); 4] =
        [(&[5, 3, 5], 1), (&[10, 10, 10, 10], 2), (&[20, 30, 25, 10], 5), (&[455, 395, 125, 350, 277, 261, 297], 28)];
    for (widths, rank) in cases {
        match llc_theory::dln_learning_coefficient(widths, rank) {
            Ok(c) => println!(
                "  widths {widths:?}, r = {rank}: λ = {}, m = {}, d = {}",
                c.lambda(),
                c.multiplicity(),
                c.params
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
