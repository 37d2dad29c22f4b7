//! The command-line grammar, declared with clap's derive API.
//!
//! Value parsers (most of them from `llc_app::parse`, shared with `cargo xtask`) check syntax only
//! (is it a list of integers?); the meaning (is the rank at most the narrowest width?) is checked
//! by the library that owns it, so that the CLI and the crates reject the same inputs with the
//! same words.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use llc_app::parse::{
    Widths, parse_count, parse_count_or_zero, parse_distinct_reals, parse_non_negative, parse_positive,
    parse_probability, parse_real, parse_widths,
};
use llc_app::{Device, Teacher};
use llc_estimators::{DrawLoss, SamplerKind};
use llc_models::DataForm;

use crate::config;
use crate::exit::Failure;

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
    /// Estimate λ̂ with multi-chain SGLD at a random teacher network (noiseless synthetic data).
    #[command(subcommand, after_help = CONFIG_HELP)]
    Estimate(EstimateCommand),
    /// Choose the step size ε: λ̂ over a grid of ε × nβ (or γ), with a stability flag per cell, the
    /// flat region where λ̂ does not depend on ε, and a heat map (docs/calibration.md).
    #[command(subcommand, after_help = CONFIG_HELP)]
    Calibrate(CalibrateCommand),
}

/// How `--config FILE` works, with an example, after the help of `llc estimate` and `llc calibrate`.
const CONFIG_HELP: &str = "\
Settings can also come from a TOML file, `--config FILE`: its keys are the long flags without `--`, \
spelled as on the command line (burn-in, target-acceptance, nbeta), and flags given on the command \
line override it. For example, `llc estimate dln --config run.toml --seed 4` with run.toml:

    widths = [20, 30, 25, 10]
    epsilon = \"auto\"        # or a number: 2.5e-7
    steps = 12000
    n = 1e5
    sampler = \"sgld\"
    seed = 3
    json = true

A value is the flag's text as a string, or a number, an array for a list, true or false for a switch. \
Unknown keys, wrong types and bad values are refused, with the line and the key.";

/// Why the command line (with its config file) was not accepted.
#[derive(Debug)]
pub(crate) enum ParseError {
    /// clap's own error, or a help or version request (`llc_app::report::report_clap_error` prints it).
    Clap(clap::Error),
    /// A problem clap cannot see, such as a bad config file.
    Refused(Failure),
}

impl From<clap::Error> for ParseError {
    fn from(err: clap::Error) -> Self {
        Self::Clap(err)
    }
}

impl Cli {
    /// Parses the process's arguments, with the settings of `--config FILE` (see `config.rs`).
    pub(crate) fn parse_args() -> Result<Self, ParseError> {
        Self::parse_from(std::env::args_os().collect(), &config::read_file)
    }

    /// Parses `argv`, reading a config file with `read`. `llc calibrate` shares the flags of
    /// `llc estimate` but sets ε from its grid, so an explicit `--epsilon` is refused there rather
    /// than silently ignored.
    pub(crate) fn parse_from(argv: Vec<OsString>, read: &config::ReadFile<'_>) -> Result<Self, ParseError> {
        let argv = config::merge(argv, read)?;
        let mut command = Self::command();
        let matches = command.try_get_matches_from_mut(argv)?;
        if let Some(("calibrate", calibrate)) = matches.subcommand()
            && let Some((_, model)) = calibrate.subcommand()
            && model.value_source("epsilon") == Some(ValueSource::CommandLine)
        {
            return Err(command
                .error(
                    ErrorKind::ArgumentConflict,
                    "llc calibrate has no --epsilon: it tries every step size of --epsilons",
                )
                .into());
        }
        Ok(Self::from_arg_matches(&matches)?)
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum EstimateCommand {
    /// λ̂ of a deep linear network at a random teacher, beside Aoyagi's exact λ.
    ///
    /// The teacher follows the paper: entries N(0, 1/fan_in), each layer's rank cut at random with
    /// probability 1/2 (or, with --rank, a product of exactly that rank). Inputs x ~ U[−10, 10],
    /// targets y = teacher(x); λ̂ = nβ·(mean draw loss − L_n(w*)) with nβ = n/ln n.
    Dln(EstimateDlnArgs),
    /// λ̂ of a ReLU MLP (with biases) at a random teacher; no closed form, d/2 is the bound.
    ///
    /// The teacher has weights N(0, 1/fan_in) and hidden biases N(0, 1), as in the paper's
    /// SGLD-vs-MALA experiment.
    Mlp(EstimateMlpArgs),
}

/// The deep linear network and its teacher, shared by `llc estimate dln` and `llc calibrate dln`.
#[derive(Debug, Args)]
pub(crate) struct DlnNetworkArgs {
    /// Layer widths H_1,…,H_{M+1}, input first (e.g. 20,30,25,10).
    #[arg(long, value_name = "H1,H2,...", value_parser = parse_widths)]
    pub(crate) widths: Widths,

    /// Cut the teacher's first layer to rank r, so that its product has rank exactly r (other
    /// layers full rank). Without it the teacher is chosen by --teacher.
    #[arg(long, value_name = "R", allow_hyphen_values = true, value_parser = parse_rank)]
    pub(crate) rank: Option<usize>,

    /// The teacher when --rank is not given: full-rank (every layer full rank, where λ̂ should match
    /// Aoyagi's λ) or paper-random (the paper's random rank cuts, where λ̂ estimates the local
    /// coefficient, which can exceed Aoyagi's global λ; see docs/dln-teachers.md).
    #[arg(long, value_enum, default_value_t = Teacher::FullRank, conflicts_with = "rank")]
    pub(crate) teacher: Teacher,
}

/// Arguments of `llc estimate dln`.
#[derive(Debug, Args)]
pub(crate) struct EstimateDlnArgs {
    #[command(flatten)]
    pub(crate) network: DlnNetworkArgs,

    /// Step C chains at a time as one stacked network (a leading chain dimension and batched
    /// matmuls; SGLD samplers only; --chains must be a multiple of C). The chains are the same as
    /// with 1, up to f32 rounding; only the speed changes (docs/performance.md).
    #[arg(long, value_name = "C", default_value = "1", value_parser = parse_count)]
    pub(crate) stack: usize,

    #[command(flatten)]
    pub(crate) common: EstimateArgs,
}

/// The ReLU network, shared by `llc estimate mlp` and `llc calibrate mlp`.
#[derive(Debug, Args)]
pub(crate) struct MlpNetworkArgs {
    /// Layer widths, input first (e.g. 10,20,20,10); ReLU after every layer but the last.
    #[arg(long, value_name = "H1,H2,...", value_parser = parse_widths)]
    pub(crate) widths: Widths,
}

/// Arguments of `llc estimate mlp`.
#[derive(Debug, Args)]
pub(crate) struct EstimateMlpArgs {
    #[command(flatten)]
    pub(crate) network: MlpNetworkArgs,

    /// Rescale every hidden neuron of the teacher by ALPHA before estimating: incoming weights and
    /// bias × ALPHA, outgoing weights ÷ ALPHA. The function, and so the true λ, is unchanged.
    #[arg(long, value_name = "ALPHA", allow_hyphen_values = true, value_parser = parse_positive)]
    pub(crate) rescale: Option<f64>,

    /// Preconditioner P of the SGLD step: none (P = 1), matched (P = ALPHA² on a rescaled neuron's
    /// incoming weights and bias, 1/ALPHA² on its outgoing weights, which makes SGLD exactly
    /// equivariant under the rescaling when γ = 0), or rmsprop (RMSprop-SGLD, devinterp's variant).
    #[arg(long, value_enum, default_value_t = PreconditionerArg::None)]
    pub(crate) preconditioner: PreconditionerArg,

    #[command(flatten)]
    pub(crate) common: EstimateArgs,
}

/// The sampler and data flags shared by every `llc estimate` model.
///
/// The defaults come from the paper's DLN settings (γ = 1, batch 500, nβ = n/ln n) and from
/// measurements on random DLNs (the automatic ε, 12,000 steps; docs/estimator-defaults.md).
#[derive(Debug, Clone, Args)]
pub(crate) struct EstimateArgs {
    /// Read settings from a TOML file: its keys are the long flags without `--`, spelled as on the
    /// command line (`burn-in`, `target-acceptance`, `nbeta`); flags given on the command line
    /// override it. A value is the flag's text as a string, or a number (`steps = 12000`,
    /// `epsilon = 2.5e-7`, `epsilon = "auto"`), an array for a list (`widths = [20, 30, 25, 10]`)
    /// and true or false for a switch (`json = true`). Unknown keys, wrong types and bad values
    /// are refused.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Seed of the teacher, the data and every chain.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,

    /// Number of samples n in the data set (scientific notation such as 1e5 is accepted).
    #[arg(long, value_name = "N", default_value = "100000", value_parser = parse_count)]
    pub(crate) n: usize,

    /// SGLD steps per chain, burn-in included.
    #[arg(long, value_name = "T", default_value = "12000", value_parser = parse_count)]
    pub(crate) steps: usize,

    /// Steps discarded at the start of each chain (default: a fifth of --steps).
    #[arg(long, value_name = "B", allow_hyphen_values = true, value_parser = parse_count_or_zero)]
    pub(crate) burn_in: Option<usize>,

    /// Step size ε of w ← w − (ε/2)(nβ∇L_B + γ(w − w*)) + √ε·ξ, or `auto`: each chain adapts its
    /// own ε during burn-in (starting from 2.5e-7) towards --target-acceptance, for the SGLD
    /// samplers capped so that the predicted step-size bias of λ̂ stays within --max-bias, then
    /// keeps it for the draws; the chosen ε is reported per chain. (Default: auto, for every
    /// sampler.)
    #[arg(long, value_name = "E|auto", allow_hyphen_values = true, value_parser = parse_epsilon)]
    pub(crate) epsilon: Option<EpsilonArg>,

    /// With --epsilon auto: the acceptance to aim for: the MALA acceptance probability of the SGLD
    /// move, or with --sampler mala its own acceptance rate. (Default 0.9 for the SGLD samplers,
    /// 0.574 for MALA.)
    #[arg(long, value_name = "P", allow_hyphen_values = true, value_parser = parse_probability)]
    pub(crate) target_acceptance: Option<f64>,

    /// With --epsilon auto and an SGLD sampler: the largest relative bias of λ̂ the step size may
    /// cause, as predicted from the curvature and the minibatch gradient noise the chain meets
    /// while it adapts; ε is capped to keep it (docs/estimator-defaults.md). MALA has no
    /// step-size bias, so it takes no cap. (Default 0.02.)
    #[arg(long, value_name = "B", allow_hyphen_values = true, value_parser = parse_positive)]
    pub(crate) max_bias: Option<f64>,

    /// A chain whose loss becomes NaN, ∞ or explodes is restarted from w* with ε halved, at most
    /// this many times (0: it is lost at once); every restart is reported.
    #[arg(long, value_name = "K", default_value = "5", value_parser = parse_count_or_zero)]
    pub(crate) max_restarts: usize,

    /// Localization γ of the prior (γ/2)‖w − w*‖² around the measured point w*.
    #[arg(long, value_name = "G", default_value = "1", allow_hyphen_values = true, value_parser = parse_non_negative)]
    pub(crate) gamma: f64,

    /// Inverse temperature times n, nβ (default: n/ln n, i.e. β = 1/ln n).
    #[arg(long = "nbeta", value_name = "NBETA", allow_hyphen_values = true, value_parser = parse_positive)]
    pub(crate) n_beta: Option<f64>,

    /// Minibatch size m (at most n).
    #[arg(long, value_name = "M", default_value = "500", value_parser = parse_count)]
    pub(crate) batch: usize,

    /// Number of independent chains C.
    #[arg(long, value_name = "C", default_value = "4", value_parser = parse_count)]
    pub(crate) chains: usize,

    /// The sampler.
    #[arg(long, value_enum, default_value_t = SamplerArg::Sgld)]
    pub(crate) sampler: SamplerArg,

    /// The loss each kept draw contributes to λ̂: minibatch (the step's minibatch loss, as in the
    /// paper's DLN runs; free) or full (the full-data loss L_n at the draw, as in the paper's
    /// rescaling experiment; one pass over the n samples per kept draw). MALA always uses the
    /// full-data loss.
    #[arg(long, value_enum, default_value_t = DrawLossArg::Minibatch)]
    pub(crate) draw_loss: DrawLossArg,

    /// Measure the MALA acceptance probability of the SGLD move every K steps (0: never).
    #[arg(long, value_name = "K", default_value = "20", value_parser = parse_count_or_zero)]
    pub(crate) acceptance_every: usize,

    /// Hold the data set in memory, or generate each minibatch from (seed, index); auto holds it
    /// when it takes at most 256 MiB.
    #[arg(long, value_enum, default_value_t = DataFormArg::Auto)]
    pub(crate) data: DataFormArg,

    /// Where the chains run: cpu (burn-ndarray) or cuda (burn-cuda on the first NVIDIA GPU, with
    /// the noise drawn on the GPU; needs a build with `--features cuda`).
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub(crate) device: Device,

    /// Print one JSON object (lambda_hat, lambda_hat_std, per_chain, lambda, rank, params,
    /// seconds, steps_per_second, device, diagnostics, config, …) instead of the table.
    #[arg(long)]
    pub(crate) json: bool,

    /// Never draw a progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CalibrateCommand {
    /// Calibrate ε for a deep linear network at a random teacher, where Aoyagi's exact λ is known.
    ///
    /// Every cell of the grid is a short estimate (by default 2 chains × 4,000 steps) with the flags
    /// of `llc estimate dln`; the table and the heat map show λ̂/λ per cell.
    Dln(CalibrateDlnArgs),
    /// Calibrate ε for a ReLU MLP (with biases) at a random teacher.
    Mlp(CalibrateMlpArgs),
}

/// Arguments of `llc calibrate dln|mlp`: the network of `llc estimate` (`N`), the grid, and the
/// sampler and data flags of `llc estimate` with cheaper defaults per cell.
#[derive(Debug, Args)]
#[command(
    mut_arg("steps", |a| a.default_value("4000")),
    mut_arg("chains", |a| a.default_value("2")),
    mut_arg("epsilon", |a| a.hide(true)),
    mut_arg("json", |a| a.help("Print one JSON object (the content of calibration.json) instead of the table")),
)]
pub(crate) struct CalibrateArgs<N: Args> {
    #[command(flatten)]
    pub(crate) network: N,

    #[command(flatten)]
    pub(crate) grid: GridArgs,

    #[command(flatten)]
    pub(crate) common: EstimateArgs,
}

/// Arguments of `llc calibrate dln`.
pub(crate) type CalibrateDlnArgs = CalibrateArgs<DlnNetworkArgs>;

/// Arguments of `llc calibrate mlp`.
pub(crate) type CalibrateMlpArgs = CalibrateArgs<MlpNetworkArgs>;

/// The grid of `llc calibrate` and where its files go.
#[derive(Debug, Args)]
pub(crate) struct GridArgs {
    /// Step sizes ε to try, comma-separated, each a finite number > 0 (default: 2.5e-7 × 2^k for
    /// k = −4…2, i.e. 1.5625e-8 to 1e-6).
    #[arg(long, value_name = "E1,E2,...", allow_hyphen_values = true, value_parser = parse_epsilons)]
    pub(crate) epsilons: Option<GridValues>,

    /// The rows of the grid: values of nβ, each > 0 (default: nβ₀ × 0.5, 1, 2, where nβ₀ is --nbeta
    /// or n/ln n).
    #[arg(long, value_name = "NB1,NB2,...", allow_hyphen_values = true, value_parser = parse_nbetas, conflicts_with_all = ["gammas", "n_beta"])]
    pub(crate) nbetas: Option<GridValues>,

    /// Make γ the rows instead, each ≥ 0; nβ is then fixed to --nbeta or n/ln n.
    #[arg(long, value_name = "G1,G2,...", allow_hyphen_values = true, value_parser = parse_gammas, conflicts_with = "gamma")]
    pub(crate) gammas: Option<GridValues>,

    /// Directory for calibration.json and calibration.png (created if missing; checked before any
    /// sampling, and the files appear only when the whole grid is done).
    #[arg(long, value_name = "DIR", default_value = "calibration")]
    pub(crate) out: PathBuf,
}

/// A parsed grid axis: distinct finite numbers, in the order given.
#[derive(Debug, Clone)]
pub(crate) struct GridValues(pub(crate) Vec<f64>);

/// A parsed `--epsilon`: a fixed step or the automatic one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum EpsilonArg {
    /// Adapt ε per chain during burn-in.
    Auto,
    /// This ε for every chain.
    Fixed(f64),
}

impl EstimateArgs {
    /// `--epsilon` as given, or its default: automatic for every sampler (docs/method.md §7).
    pub(crate) fn epsilon(&self) -> EpsilonArg {
        self.epsilon.unwrap_or(EpsilonArg::Auto)
    }
}

/// `--preconditioner` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PreconditionerArg {
    /// P = 1.
    None,
    /// The diagonal preconditioner matched to --rescale.
    Matched,
    /// RMSprop's adaptive preconditioner (same as --sampler rmsprop-sgld).
    Rmsprop,
}

/// `--sampler` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SamplerArg {
    /// Plain SGLD.
    Sgld,
    /// RMSprop-SGLD as in devinterp (V₀ = 0, no bias correction).
    RmspropSgld,
    /// RMSprop-SGLD as in Hitchcock & Hoogland 2025 (V₀ = 1, bias-corrected).
    RmspropSgldBiasCorrected,
    /// Full-batch Metropolis-adjusted Langevin (every step uses all n samples; --batch is ignored).
    Mala,
}

impl SamplerArg {
    /// The estimator's name for it.
    pub(crate) fn kind(self) -> SamplerKind {
        match self {
            Self::Sgld => SamplerKind::Sgld,
            Self::RmspropSgld => SamplerKind::RmspropSgld,
            Self::RmspropSgldBiasCorrected => SamplerKind::RmspropSgldBiasCorrected,
            Self::Mala => SamplerKind::Mala,
        }
    }
}

/// `--draw-loss` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DrawLossArg {
    /// The minibatch loss of the step that produced the draw.
    Minibatch,
    /// The full-data loss at the draw.
    Full,
}

impl DrawLossArg {
    /// The estimator's name for it.
    pub(crate) fn kind(self) -> DrawLoss {
        match self {
            Self::Minibatch => DrawLoss::Minibatch,
            Self::Full => DrawLoss::Full,
        }
    }
}

/// `--data` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DataFormArg {
    /// Materialize when it fits in 256 MiB, stream otherwise.
    Auto,
    /// Hold every sample in memory.
    Materialized,
    /// Generate each minibatch from (seed, index).
    Streaming,
}

impl DataFormArg {
    /// The models crate's name for it.
    pub(crate) fn form(self) -> DataForm {
        match self {
            Self::Auto => DataForm::Auto,
            Self::Materialized => DataForm::Materialized,
            Self::Streaming => DataForm::Streaming,
        }
    }
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

/// Parses a grid axis: distinct finite numbers, each accepted by `valid` (whose requirement
/// `wanted` names).
fn parse_grid(text: &str, example: &str, wanted: &str, valid: fn(f64) -> bool) -> Result<GridValues, String> {
    parse_distinct_reals(text, example, wanted, valid).map(GridValues)
}

/// Parses `--epsilons`: distinct finite numbers > 0.
fn parse_epsilons(text: &str) -> Result<GridValues, String> {
    parse_grid(text, "1e-7,2e-7,4e-7", "a finite number > 0", |v| v > 0.0)
}

/// Parses `--nbetas`: distinct finite numbers > 0.
fn parse_nbetas(text: &str) -> Result<GridValues, String> {
    parse_grid(text, "4000,8000,16000", "a finite number > 0", |v| v > 0.0)
}

/// Parses `--gammas`: distinct finite numbers ≥ 0.
fn parse_gammas(text: &str) -> Result<GridValues, String> {
    parse_grid(text, "0.1,1,10", "a finite number ≥ 0", |v| v >= 0.0)
}

/// Parses a rank: a non-negative integer.
fn parse_rank(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| format!("the rank must be a non-negative integer (0 for a zero teacher), got '{text}'"))
}

/// Parses `--epsilon`: `auto` or a finite number > 0 within f32's range.
fn parse_epsilon(text: &str) -> Result<EpsilonArg, String> {
    if text.trim().eq_ignore_ascii_case("auto") {
        return Ok(EpsilonArg::Auto);
    }
    parse_real(text, "'auto' or a finite number > 0", |x| x > 0.0).map(EpsilonArg::Fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_parse_and_reject() {
        assert_eq!(parse_rank("3"), Ok(3));
        assert!(parse_rank("-1").unwrap_err().contains("non-negative integer"));
        assert!(parse_rank("1.5").is_err());
    }

    #[test]
    fn grids_parse_and_reject() {
        assert_eq!(parse_epsilons("1e-7, 2e-7,4e-7").unwrap().0, vec![1e-7, 2e-7, 4e-7]);
        for bad in ["nan", "-1e-7", "0", "inf"] {
            assert!(parse_epsilons(bad).unwrap_err().contains("finite number > 0"), "{bad}");
        }
        assert!(parse_epsilons("1e-7,1.0e-7").unwrap_err().contains("repeats item 1"));
        assert_eq!(parse_gammas("0,1").unwrap().0, vec![0.0, 1.0]);
        assert!(parse_gammas("-1").is_err());
        assert!(parse_nbetas("0").is_err());
    }

    #[test]
    fn epsilons_parse_and_reject() {
        assert_eq!(parse_epsilon("auto"), Ok(EpsilonArg::Auto));
        assert_eq!(parse_epsilon(" AUTO "), Ok(EpsilonArg::Auto));
        assert_eq!(parse_epsilon("1e-7"), Ok(EpsilonArg::Fixed(1e-7)));
        for bad in ["0", "-1e-7", "NaN", "inf", "automatic", ""] {
            assert!(parse_epsilon(bad).unwrap_err().contains("'auto' or a finite number > 0"), "{bad}");
        }
        for bad in ["1e-320", "1e39", "3.5e38"] {
            assert!(parse_epsilon(bad).unwrap_err().contains("outside the range of f32"), "{bad}");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

            /// (d) The CLI's own value parsers never panic, and `--epsilon` takes `auto` or what
            /// `parse_positive` takes.
            #[test]
            fn epsilons_are_auto_or_positive_reals(text in prop_oneof!["[-+0-9.eE, ]{0,16}", "[-+0-9a-zA-Z.,_ ]{0,16}", any::<String>()]) {
                match parse_epsilon(&text) {
                    Ok(EpsilonArg::Auto) => prop_assert!(text.trim().eq_ignore_ascii_case("auto")),
                    Ok(EpsilonArg::Fixed(x)) => prop_assert_eq!(Ok(x), parse_positive(&text)),
                    Err(_) => prop_assert!(parse_positive(&text).is_err()),
                }
                let _ = parse_rank(&text);
                let _ = parse_epsilons(&text);
                let _ = parse_gammas(&text);
                let _ = parse_nbetas(&text);
            }

            #[test]
            fn every_rank_round_trips(n in any::<usize>()) {
                prop_assert_eq!(parse_rank(&n.to_string()), Ok(n));
            }
        }
    }

    #[test]
    fn the_grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
