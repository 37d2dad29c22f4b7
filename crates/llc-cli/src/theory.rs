//! `llc theory dln`: Aoyagi's exact learning coefficient of a deep linear network.

use std::io::Write;

use serde::Serialize;

use crate::args::DlnTheoryArgs;
use crate::exit::Failure;

/// The JSON form of `llc theory dln --json`.
#[derive(Debug, Serialize)]
struct DlnTheoryReport<'a> {
    /// Widths H_1 … H_{M+1}, input first.
    widths: &'a [usize],
    /// Rank r of the true product.
    rank: usize,
    /// λ as a number.
    lambda: f64,
    /// λ exactly, as "p/q" or "p".
    lambda_exact: String,
    /// The multiplicity m.
    multiplicity: u64,
    /// d, the number of weights.
    params: u64,
    /// d/2, the learning coefficient of a regular model of the same size.
    regular_lambda: f64,
    /// Σ of Aoyagi's theorem, as 1-based positions in the width list (the paper's numbering).
    index_set: Vec<usize>,
    /// ℓ = |Σ| − 1.
    ell: usize,
}

pub(crate) fn run_dln(args: &DlnTheoryArgs) -> Result<(), Failure> {
    let widths = &args.widths.0;
    let c = llc_theory::dln_learning_coefficient(widths, args.rank)
        .map_err(|e| Failure::usage(format!("invalid network: {e}")))?;
    let report = DlnTheoryReport {
        widths,
        rank: args.rank,
        lambda: c.lambda(),
        lambda_exact: c.coefficient.lambda.to_string(),
        multiplicity: c.multiplicity(),
        params: c.params,
        regular_lambda: c.params as f64 / 2.0,
        index_set: c.index_set.iter().map(|i| i + 1).collect(),
        ell: c.ell,
    };
    let text = if args.json {
        serde_json::to_string(&report).map_err(|e| Failure::other(format!("could not encode JSON: {e}")))?
    } else {
        human(&report)
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}").map_err(|e| Failure::other(format!("could not write to stdout: {e}")))
}

fn human(r: &DlnTheoryReport<'_>) -> String {
    let arrows = r.widths.iter().map(usize::to_string).collect::<Vec<_>>().join(" → ");
    let set = r.index_set.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
    format!(
        "deep linear network {arrows}  ({} weight matrices, d = {} weights), true rank r = {}\n\
         \x20 learning coefficient   λ = {}{}\n\
         \x20 multiplicity           m = {}\n\
         \x20 regular model's value  d/2 = {}\n\
         \x20 Aoyagi's index set     Σ = {{{set}}}, ℓ = {}",
        r.widths.len() - 1,
        r.params,
        r.rank,
        r.lambda,
        if r.lambda_exact.contains('/') { format!(" (exactly {})", r.lambda_exact) } else { String::new() },
        r.multiplicity,
        r.regular_lambda,
        r.ell,
    )
}
