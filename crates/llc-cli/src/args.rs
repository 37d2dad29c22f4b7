//! The command-line grammar, declared with clap's derive API.
//!
//! Value parsers here check syntax only (is it a list of integers?); the meaning (is the rank at
//! most the narrowest width?) is checked by the library that owns it, so that the CLI and the
//! crates reject the same inputs with the same words.

use clap::{Args, Parser, Subcommand};

/// Local learning coefficients (LLC, λ) of neural networks, from singular learning theory.
///
/// λ measures a model's effective complexity: the Bayesian free energy grows as n·L_n + λ·ln n, and
/// λ ≤ d/2 with equality only for regular models. `llc theory` gives exact values where they are
/// known in closed form.
#[derive(Debug, Parser)]
#[command(name = "llc", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Exact learning coefficients from closed-form theorems (no sampling).
    #[command(subcommand)]
    Theory(TheoryCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum TheoryCommand {
    /// Aoyagi's exact λ and multiplicity m for a deep linear network f(x) = W_M ⋯ W_1 x.
    ///
    /// The network has widths H_1 (input), H_2, …, H_{M+1} (output) and no biases; the true
    /// parameter's product W_M ⋯ W_1 has rank r. λ is exact (a multiple of 1/(4ℓ)); d is the number
    /// of weights, and d/2 the value a regular model would have.
    Dln(DlnTheoryArgs),
}

/// Arguments of `llc theory dln`.
#[derive(Debug, Args)]
pub(crate) struct DlnTheoryArgs {
    /// Layer widths H_1,…,H_{M+1}, input first and output last, comma-separated (e.g. 5,3,5 is a
    /// 5→3→5 network with two weight matrices).
    #[arg(long, value_name = "H1,H2,...", value_parser = parse_widths)]
    pub(crate) widths: Widths,

    /// Rank r of the true product W_M ⋯ W_1, between 0 (the zero map) and the narrowest width.
    #[arg(long, value_name = "R", default_value = "0", allow_hyphen_values = true, value_parser = parse_rank)]
    pub(crate) rank: usize,

    /// Print one JSON object (keys: lambda, lambda_exact, multiplicity, params, regular_lambda,
    /// widths, rank, index_set, ell) instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// A parsed `--widths` list. A newtype, because clap treats a bare `Vec<T>` as a repeated flag.
#[derive(Debug, Clone)]
pub(crate) struct Widths(pub(crate) Vec<usize>);

/// Parses `5,3,5` into widths; checks only that every item is a non-negative integer.
fn parse_widths(text: &str) -> Result<Widths, String> {
    if text.trim().is_empty() {
        return Err("expected a comma-separated list of widths such as 5,3,5, got an empty list".into());
    }
    text.split(',')
        .enumerate()
        .map(|(i, item)| {
            let item = item.trim();
            item.parse::<usize>().map_err(|_| {
                if item.is_empty() {
                    format!("item {} of the list is empty; expected widths such as 5,3,5", i + 1)
                } else {
                    format!("item {} ('{item}') is not a positive integer", i + 1)
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Widths)
}

/// Parses a rank: a non-negative integer.
fn parse_rank(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| format!("the rank must be a non-negative integer (0 for a zero teacher), got '{text}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_parse_and_reject() {
        assert_eq!(parse_widths("5,3,5").unwrap().0, vec![5, 3, 5]);
        assert_eq!(parse_widths(" 5, 3 ,5 ").unwrap().0, vec![5, 3, 5]);
        assert!(parse_widths("").unwrap_err().contains("empty list"));
        assert!(parse_widths("5,x,5").unwrap_err().contains("item 2 ('x')"));
        assert!(parse_widths("5,,5").unwrap_err().contains("item 2 of the list is empty"));
        assert!(parse_widths("5,-3").unwrap_err().contains("item 2 ('-3')"));
    }

    #[test]
    fn ranks_parse_and_reject() {
        assert_eq!(parse_rank("3"), Ok(3));
        assert!(parse_rank("-1").unwrap_err().contains("non-negative integer"));
        assert!(parse_rank("1.5").is_err());
    }

    #[test]
    fn the_grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
