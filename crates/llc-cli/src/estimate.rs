//! `llc estimate dln|mlp`: λ̂ by multi-chain SGLD at a random teacher, with the exact λ beside it
//! where theory has it.

use std::io::Write;
use std::time::{Duration, Instant};

use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use llc_estimators::{
    DataSource, Divergence, EpsilonAdaptation, Estimator, EstimatorConfig, InitLoss, LlcEstimate, NoisePlacement,
    Progress, Restart, SamplerKind,
};
use llc_models::{DataForm, DlnTeacher, MlpTeacher, RegressionData, StackedDln, SyntheticInputs, mse, mse_per_copy};
use llc_sampler::DiagonalPreconditioner;
use serde::Serialize;

use crate::args::{
    AUTO_EPSILON_START, DataFormArg, DeviceArg, EpsilonArg, EstimateArgs, EstimateDlnArgs, EstimateMlpArgs,
    PreconditionerArg, TeacherArg,
};
use crate::device::Cpu;
#[cfg(feature = "cuda")]
use crate::device::Gpu;
use crate::exit::Failure;

/// Adapts the models crate's regression data to the estimator's [`DataSource`].
pub(crate) struct Regression<B: Backend>(RegressionData<B>);

impl<B: Backend> DataSource for Regression<B> {
    type Batch = (Tensor<B, 2>, Tensor<B, 2>);

    fn len(&self) -> usize {
        self.0.n()
    }

    fn batch(&self, indices: &[usize]) -> Self::Batch {
        // The estimator only asks for indices below n, the one condition `batch` checks.
        self.0.batch(indices).expect("the estimator draws indices below n")
    }
}

/// The JSON form of `llc estimate … --json`.
#[derive(Debug, Serialize)]
struct EstimateReport {
    model: &'static str,
    widths: Vec<usize>,
    params: usize,
    /// Rank of the teacher's product (DLN only).
    rank: Option<usize>,
    /// Aoyagi's λ (DLN only).
    lambda: Option<f64>,
    /// d/2, the bound every λ satisfies.
    regular_lambda: f64,
    lambda_hat: Option<f64>,
    lambda_hat_std: Option<f64>,
    /// (λ̂ − λ)/λ where λ is known and nonzero.
    relative_error: Option<f64>,
    per_chain: Vec<ChainReport>,
    n: usize,
    n_beta: f64,
    init_loss: f64,
    data_form: &'static str,
    seconds: f64,
    steps_per_second: f64,
    /// `cpu` or `cuda`.
    device: &'static str,
    diagnostics: DiagnosticsReport,
    config: EstimatorConfig,
}

#[derive(Debug, Serialize)]
struct ChainReport {
    chain: usize,
    lambda_hat: Option<f64>,
    mean_acceptance: Option<f64>,
    draws: usize,
    diverged_at_step: Option<usize>,
    /// The ε of its draws (with --epsilon auto, the one it chose; halved once per restart).
    epsilon: f64,
    /// How many times it was restarted from w* after diverging.
    restarts: usize,
    /// The relative bias of its λ̂ that its step size predicts (SGLD with acceptance measures).
    predicted_bias: Option<f64>,
}

#[derive(Debug, Serialize)]
struct DiagnosticsReport {
    acceptance: Option<f64>,
    r_hat: Option<f64>,
    ess: Option<f64>,
    diverged_chains: Vec<Divergence>,
    /// Recovered divergences: each restart from w* with a halved ε.
    restarts: Vec<Restart>,
    /// The mean over chains of their predicted step-size bias.
    predicted_bias: Option<f64>,
}

/// The estimator settings from the flags, with the documented defaults. On a GPU the noise is
/// drawn on the device, so that no d-sized buffer crosses the bus at each step.
///
/// Flags that only mean something together (--target-acceptance or --max-bias without --epsilon
/// auto) are refused here; everything else is checked by `EstimatorConfig::validate`.
pub(crate) fn estimator_config(args: &EstimateArgs) -> Result<EstimatorConfig, Failure> {
    let epsilon = args.epsilon();
    if args.target_acceptance.is_some() && epsilon != EpsilonArg::Auto {
        return Err(Failure::usage("--target-acceptance only applies with --epsilon auto, not with a fixed ε"));
    }
    if args.max_bias.is_some() && epsilon != EpsilonArg::Auto {
        return Err(Failure::usage("--max-bias only applies with --epsilon auto, not with a fixed ε"));
    }
    let default = EpsilonAdaptation::default();
    let sampler = args.sampler.kind();
    let target_acceptance = Some(args.target_acceptance.unwrap_or(default.target_for(sampler != SamplerKind::Mala)));
    let max_bias = args.max_bias.unwrap_or(default.max_bias);
    let burn_in = args.burn_in.unwrap_or(args.steps / 5);
    Ok(EstimatorConfig {
        n_chains: args.chains,
        n_steps: args.steps,
        n_burnin: burn_in,
        thinning: 1,
        batch_size: args.batch,
        epsilon: match epsilon {
            EpsilonArg::Fixed(epsilon) => epsilon,
            EpsilonArg::Auto => AUTO_EPSILON_START,
        },
        epsilon_adaptation: (epsilon == EpsilonArg::Auto).then_some(EpsilonAdaptation {
            target_acceptance,
            max_bias,
            ..default
        }),
        max_restarts: args.max_restarts,
        explosion_factor: EstimatorConfig::default().explosion_factor,
        gamma: args.gamma,
        n_beta: args.n_beta,
        sampler,
        seed: args.seed,
        acceptance_every: args.acceptance_every,
        draw_loss: args.draw_loss.kind(),
        noise: match args.device {
            DeviceArg::Cpu => NoisePlacement::Host,
            DeviceArg::Cuda => NoisePlacement::Device,
        },
    })
}

fn data_form(arg: DataFormArg) -> DataForm {
    match arg {
        DataFormArg::Auto => DataForm::Auto,
        DataFormArg::Materialized => DataForm::Materialized,
        DataFormArg::Streaming => DataForm::Streaming,
    }
}

/// `llc estimate dln` on the device that `--device` names.
pub(crate) fn run_dln(args: &EstimateDlnArgs) -> Result<(), Failure> {
    match args.common.device {
        DeviceArg::Cpu => run_dln_on::<Cpu>(args, &Default::default()),
        #[cfg(feature = "cuda")]
        DeviceArg::Cuda => run_dln_on::<Gpu>(args, &crate::device::cuda_device()?),
        #[cfg(not(feature = "cuda"))]
        DeviceArg::Cuda => Err(crate::device::cuda_not_built("dln")),
    }
}

/// `llc estimate mlp` on the device that `--device` names.
pub(crate) fn run_mlp(args: &EstimateMlpArgs) -> Result<(), Failure> {
    match args.common.device {
        DeviceArg::Cpu => run_mlp_on::<Cpu>(args, &Default::default()),
        #[cfg(feature = "cuda")]
        DeviceArg::Cuda => run_mlp_on::<Gpu>(args, &crate::device::cuda_device()?),
        #[cfg(not(feature = "cuda"))]
        DeviceArg::Cuda => Err(crate::device::cuda_not_built("mlp")),
    }
}

/// A teacher network with its data set: the point w* an estimate measures, and what it needs.
pub(crate) struct Setup<M, B: Backend> {
    /// The teacher as a module: w*.
    pub(crate) model: M,
    /// The noiseless data set y = teacher(x).
    pub(crate) data: Regression<B>,
    /// Whether the data set is held in memory (else generated per minibatch).
    pub(crate) materialized: bool,
    /// How the estimator obtains L_n(w*).
    pub(crate) init: InitLoss,
}

/// A DLN teacher's [`Setup`], the rank of its product and Aoyagi's λ for that rank.
pub(crate) type DlnSetup<B> = (Setup<llc_models::Dln<B>, B>, usize, f64);

/// A DLN teacher and its data set, with the teacher's rank and Aoyagi's λ for it. Callers validate
/// the widths and the rank with `llc_theory::validate` first, whose messages name the problem.
pub(crate) fn dln_setup<B: AutodiffBackend>(
    widths: &[usize],
    rank: Option<usize>,
    teacher: TeacherArg,
    common: &EstimateArgs,
    device: &B::Device,
) -> Result<DlnSetup<B>, Failure> {
    let teacher = match (rank, teacher) {
        (Some(rank), _) => DlnTeacher::with_rank(widths, rank, common.seed),
        (None, TeacherArg::FullRank) => DlnTeacher::full_rank(widths, common.seed),
        (None, TeacherArg::PaperRandom) => DlnTeacher::random(widths, common.seed),
    }
    .map_err(|e| Failure::usage(format!("cannot build the teacher: {e}")))?;
    let rank = teacher.true_rank();
    let theory = llc_theory::dln_learning_coefficient(widths, rank)
        .map_err(|e| Failure::other(format!("theory failed for the teacher's rank {rank}: {e}")))?;
    let inputs = SyntheticInputs::new(common.seed.wrapping_add(1), common.n, widths[0])
        .map_err(|e| Failure::usage(format!("cannot define the data set: {e}")))?;
    let data = RegressionData::<B>::dln(&teacher, inputs, data_form(common.data), device)
        .map_err(|e| Failure::usage(format!("cannot build the data set: {e}")))?;
    let model = teacher.to_module::<B>(device);
    Ok((setup(model, data), rank, theory.lambda()))
}

/// An MLP teacher (hidden biases N(0, 1)) and its data set.
pub(crate) fn mlp_setup<B: AutodiffBackend>(
    widths: &[usize],
    common: &EstimateArgs,
    device: &B::Device,
) -> Result<Setup<llc_models::Mlp<B>, B>, Failure> {
    let teacher = MlpTeacher::random(widths, common.seed, 1.0)
        .map_err(|e| Failure::usage(format!("cannot build the teacher: {e}")))?;
    let inputs = SyntheticInputs::new(common.seed.wrapping_add(1), common.n, widths[0])
        .map_err(|e| Failure::usage(format!("cannot define the data set: {e}")))?;
    let data = RegressionData::<B>::mlp(&teacher, inputs, data_form(common.data), device)
        .map_err(|e| Failure::usage(format!("cannot build the data set: {e}")))?;
    Ok(setup(teacher.to_module::<B>(device), data))
}

/// The [`Setup`] of a teacher module and its data.
fn setup<M, B: Backend>(model: M, data: RegressionData<B>) -> Setup<M, B> {
    let materialized = data.is_materialized();
    // A noiseless teacher has L_n(w*) = 0 exactly; with data in memory it is also checked.
    let init = if materialized { InitLoss::Compute { chunk: 4096 } } else { InitLoss::Known(0.0) };
    Setup { model, data: Regression(data), materialized, init }
}

/// The mean squared error of a DLN on a minibatch.
pub(crate) fn dln_loss<B: Backend>(m: &llc_models::Dln<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)) -> Tensor<B, 1> {
    mse(m.forward(x.clone()), y.clone())
}

/// The mean squared error of an MLP on a minibatch.
pub(crate) fn mlp_loss<B: Backend>(m: &llc_models::Mlp<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)) -> Tensor<B, 1> {
    mse(m.forward(x.clone()), y.clone())
}

fn run_dln_on<B: AutodiffBackend>(args: &EstimateDlnArgs, device: &B::Device) -> Result<(), Failure> {
    let widths = &args.network.widths.0;
    // Validate the shape and rank with the theory crate first: its messages name the problem.
    llc_theory::validate(widths, args.network.rank.unwrap_or(0))
        .map_err(|e| Failure::usage(format!("invalid network: {e}")))?;
    let common = &args.common;
    let config = estimator_config(common)?;
    config.validate(common.n).map_err(|e| estimator_failure(e.into()))?;
    // What the stacked estimator would refuse, refused before the teacher and the data are built.
    if args.stack > 1 && config.sampler == SamplerKind::Mala {
        return Err(Failure::usage("--stack needs an SGLD sampler: MALA runs its chains one at a time"));
    }
    if !config.n_chains.is_multiple_of(args.stack) {
        return Err(Failure::usage(format!(
            "{} chains cannot be split into groups of {} stacked chains: --chains must be a multiple of --stack",
            config.n_chains, args.stack
        )));
    }
    crate::memory::check(&crate::memory::Run {
        widths,
        biases: false,
        common,
        config: &config,
        copies: args.stack,
        estimates: 1,
    })?;
    let (Setup { model, data, materialized, init }, rank, lambda) =
        dln_setup::<B>(widths, args.network.rank, args.network.teacher, common, device)?;

    let estimate = run_with_progress(common, |progress| {
        if args.stack == 1 {
            return Estimator::new(&model, &data, dln_loss)
                .with_config(config.clone())
                .with_init_loss(init)
                .with_progress(progress)
                .run();
        }
        let copies = args.stack;
        let stacked = StackedDln::replicate(&model, copies).map_err(llc_estimators::EstimatorError::model)?;
        // The batch holds the C chains' minibatches one after another: block c is chain c's.
        let stacked_loss = |m: &StackedDln<B>, (x, y): &(Tensor<B, 2>, Tensor<B, 2>)| {
            let ([rows, width_in], width_out) = (x.dims(), y.dims()[1]);
            let x = x.clone().reshape([copies, rows / copies, width_in]);
            let y = y.clone().reshape([copies, rows / copies, width_out]);
            mse_per_copy(m.forward(x), y)
        };
        Estimator::new(&stacked, &data, stacked_loss)
            .with_config(config.clone())
            .with_stacked_chains(copies)
            .with_init_loss(init)
            .with_progress(progress)
            .run()
    })?;
    let report = build_report(
        "dln",
        widths.clone(),
        model_params(widths, false),
        Some((rank, lambda)),
        materialized,
        common.device,
        estimate,
    );
    emit(&report, common.json)
}

fn run_mlp_on<B: AutodiffBackend>(args: &EstimateMlpArgs, device: &B::Device) -> Result<(), Failure> {
    let widths = &args.widths.0;
    llc_theory::validate(widths, 0).map_err(|e| Failure::usage(format!("invalid network: {e}")))?;
    let common = &args.common;
    let mut config = estimator_config(common)?;
    match (args.preconditioner, config.sampler) {
        (PreconditionerArg::Rmsprop, SamplerKind::Sgld | SamplerKind::RmspropSgld) => {
            config.sampler = SamplerKind::RmspropSgld
        }
        (PreconditionerArg::Rmsprop, SamplerKind::RmspropSgldBiasCorrected) => {}
        (PreconditionerArg::Rmsprop, other) => {
            return Err(Failure::usage(format!(
                "--preconditioner rmsprop cannot be used with --sampler {}",
                other.name()
            )));
        }
        (PreconditionerArg::Matched, SamplerKind::RmspropSgld | SamplerKind::RmspropSgldBiasCorrected) => {
            return Err(Failure::usage("--preconditioner matched cannot be combined with an RMSprop sampler"));
        }
        _ => {}
    }
    config.validate(common.n).map_err(|e| estimator_failure(e.into()))?;
    crate::memory::check(&crate::memory::Run {
        widths,
        biases: true,
        common,
        config: &config,
        copies: 1,
        estimates: 1,
    })?;
    let Setup { mut model, data, materialized, init } = mlp_setup::<B>(widths, common, device)?;

    // The measured point: the teacher, with every hidden neuron rescaled by α if asked (the same
    // function, so the same data and the same true λ), and the preconditioner matched to it.
    let mut matched: Vec<Vec<f32>> = Vec::new();
    if let Some(alpha) = args.rescale {
        let bad = |e: llc_models::ModelError| Failure::usage(format!("invalid --rescale {alpha:?}: {e}"));
        for layer in 0..model.hidden_layers() {
            let alphas = vec![alpha as f32; widths[layer + 1]];
            let factors = model.rescale_preconditioner(layer, &alphas).map_err(bad)?;
            model = model.rescale_hidden(layer, &alphas).map_err(bad)?;
            if matched.is_empty() {
                matched = factors.into_iter().map(|p| p.factors).collect();
            } else {
                for (acc, p) in matched.iter_mut().zip(factors) {
                    acc.iter_mut().zip(p.factors).for_each(|(a, f)| *a *= f);
                }
            }
        }
    }
    let preconditioner = match (args.preconditioner, matched.is_empty()) {
        (PreconditionerArg::Matched, false) => Some(
            DiagonalPreconditioner::in_visit_order(&model, matched)
                .map_err(|e| Failure::other(format!("cannot build the matched preconditioner: {e}")))?,
        ),
        _ => None,
    };
    let estimate = run_with_progress(common, |progress| {
        let estimator = Estimator::new(&model, &data, mlp_loss)
            .with_config(config.clone())
            .with_init_loss(init)
            .with_progress(progress);
        match preconditioner {
            Some(p) => estimator.with_preconditioner(p).run(),
            None => estimator.run(),
        }
    })?;
    let report =
        build_report("mlp", widths.clone(), model_params(widths, true), None, materialized, common.device, estimate);
    emit(&report, common.json)
}

/// The number of parameters d of a network with these widths (with or without biases).
pub(crate) fn model_params(widths: &[usize], biases: bool) -> usize {
    widths.windows(2).map(|w| w[0] * w[1] + if biases { w[1] } else { 0 }).sum()
}

/// Runs the estimate with a progress bar on stderr that appears only if the run lasts over a
/// second and stderr is a terminal.
fn run_with_progress(
    args: &EstimateArgs,
    run: impl FnOnce(&mut dyn Progress) -> Result<LlcEstimate, llc_estimators::EstimatorError>,
) -> Result<LlcEstimate, Failure> {
    let mut progress = Bar::new(args.quiet);
    run(&mut progress).map_err(estimator_failure)
}

/// An estimator error as the CLI reports it: a bad configuration is the input's fault.
pub(crate) fn estimator_failure(e: llc_estimators::EstimatorError) -> Failure {
    match e {
        e if e.is_input_error() => Failure::usage(e.to_string()),
        other => Failure::other(other.to_string()),
    }
}

/// An indicatif bar that stays hidden for the first second.
pub(crate) struct Bar {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
    quiet: bool,
    /// A bar over several estimates (`llc calibrate`): its length is set once, the estimates'
    /// start and finish leave it alone, and divergences are left to the caller to report.
    spanning: bool,
}

impl Bar {
    /// A bar for one estimate.
    pub(crate) fn new(quiet: bool) -> Self {
        let bar = ProgressBar::hidden();
        bar.set_message("sampling");
        Self { bar, started: Instant::now(), shown: false, quiet, spanning: false }
    }

    /// A bar over several estimates of `total_steps` chain-steps in all; [`Bar::set_message`] names
    /// the current one and [`Bar::done`] clears it.
    pub(crate) fn spanning(quiet: bool, total_steps: u64) -> Self {
        let bar = Self { spanning: true, ..Self::new(quiet) };
        bar.bar.set_length(total_steps);
        bar
    }

    /// The text before the bar.
    pub(crate) fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Clears the bar from the terminal.
    pub(crate) fn done(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&mut self, total_steps: u64) {
        if !self.spanning {
            self.bar.set_length(total_steps);
            self.started = Instant::now();
        }
    }

    fn advance(&mut self, steps: u64) {
        self.bar.inc(steps);
        if !self.shown && !self.quiet && self.started.elapsed() > Duration::from_secs(1) {
            self.shown = true;
            self.bar.set_style(
                ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} chain-steps  {elapsed} elapsed, ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn diverged(&mut self, divergence: &Divergence) {
        if !self.spanning {
            self.bar.suspend(|| eprintln!("warning: {divergence}; the other chains go on"));
        }
    }

    fn restarted(&mut self, restart: &Restart) {
        // The chain redoes the steps it had taken.
        self.bar.inc_length(restart.step as u64);
        if !self.spanning {
            self.bar.suspend(|| eprintln!("warning: {restart}"));
        }
    }

    fn finish(&mut self) {
        if !self.spanning {
            self.bar.finish_and_clear();
        }
    }
}

/// The report of a finished estimate; `theory` is the teacher's rank and Aoyagi's λ, where known.
fn build_report(
    model: &'static str,
    widths: Vec<usize>,
    params: usize,
    theory: Option<(usize, f64)>,
    materialized: bool,
    device: DeviceArg,
    e: LlcEstimate,
) -> EstimateReport {
    let (rank, lambda) = (theory.map(|t| t.0), theory.map(|t| t.1));
    let finished = e.lambda_hat.is_finite();
    let lambda_hat = finished.then_some(e.lambda_hat);
    EstimateReport {
        model,
        params,
        rank,
        lambda,
        regular_lambda: params as f64 / 2.0,
        lambda_hat,
        lambda_hat_std: finished.then_some(e.lambda_hat_std),
        relative_error: match (lambda_hat, lambda) {
            (Some(hat), Some(l)) if l > 0.0 => Some((hat - l) / l),
            _ => None,
        },
        per_chain: e
            .per_chain
            .iter()
            .map(|c| ChainReport {
                chain: c.chain_idx,
                lambda_hat: c.lambda_hat,
                mean_acceptance: c.mean_acceptance,
                draws: c.n_draws,
                diverged_at_step: c.divergence.as_ref().map(|d| d.step),
                epsilon: c.epsilon,
                restarts: c.restarts.len(),
                predicted_bias: c.predicted_bias,
            })
            .collect(),
        n: e.n,
        n_beta: e.n_beta,
        init_loss: e.init_loss,
        data_form: if materialized { "materialized" } else { "streaming" },
        seconds: e.seconds,
        steps_per_second: e.steps_per_second,
        device: match device {
            DeviceArg::Cpu => "cpu",
            DeviceArg::Cuda => "cuda",
        },
        diagnostics: DiagnosticsReport {
            acceptance: e.diagnostics.mean_acceptance,
            r_hat: e.diagnostics.r_hat,
            ess: e.diagnostics.ess,
            diverged_chains: e.diagnostics.diverged.clone(),
            restarts: e.diagnostics.restarts.clone(),
            predicted_bias: e.diagnostics.predicted_bias,
        },
        config: e.config,
        widths,
    }
}

/// Prints the report (JSON or a table) and turns divergence into the exit status: some chains lost
/// is a warning, all chains lost is a failure (the report is printed either way).
fn emit(report: &EstimateReport, json: bool) -> Result<(), Failure> {
    let text = if json {
        serde_json::to_string(report).map_err(|e| Failure::other(format!("could not encode JSON: {e}")))?
    } else {
        human(report)
    };
    writeln!(std::io::stdout().lock(), "{text}")
        .map_err(|e| Failure::other(format!("could not write to stdout: {e}")))?;
    let lost = report.diagnostics.diverged_chains.len();
    if report.lambda_hat.is_none() {
        return Err(Failure::other(format!(
            "all {lost} chains diverged (first: {}); try a smaller --epsilon",
            report.diagnostics.diverged_chains.first().map(|d| d.to_string()).unwrap_or_default()
        )));
    }
    if lost > 0 {
        eprintln!("warning: {lost} of {} chains diverged; λ̂ uses the others", report.per_chain.len());
    }
    Ok(())
}

/// The step size line: the fixed ε, or the range the chains chose (and the ε of restarted chains).
fn step_sizes(r: &EstimateReport) -> String {
    let finished: Vec<f64> = r.per_chain.iter().filter(|c| c.lambda_hat.is_some()).map(|c| c.epsilon).collect();
    let (lo, hi) = finished.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &e| (lo.min(e), hi.max(e)));
    let range = if finished.is_empty() {
        "none (no chain finished)".to_string()
    } else if lo == hi {
        format!("{lo:.3e}")
    } else {
        format!("{lo:.3e} … {hi:.3e} (per chain)")
    };
    match r.config.epsilon_adaptation {
        Some(adapt) => format!(
            "ε = auto: {range}, adapted towards MALA acceptance {} with a predicted bias of at most {}% over the \
             first {} burn-in steps",
            adapt.target_for(r.config.sampler != SamplerKind::Mala),
            adapt.max_bias * 100.0,
            r.config.adaptation_steps()
        ),
        None => format!("ε = {range}"),
    }
}

fn human(r: &EstimateReport) -> String {
    let arrows = r.widths.iter().map(usize::to_string).collect::<Vec<_>>().join(" → ");
    let mut out = String::new();
    let kind = if r.model == "dln" { "deep linear network" } else { "ReLU network" };
    out.push_str(&format!("{kind} {arrows}  (d = {} parameters", r.params));
    if let Some(rank) = r.rank {
        out.push_str(&format!(", teacher rank r = {rank}"));
    }
    out.push_str(&format!("), n = {}, nβ = {:.1}\n", r.n, r.n_beta));
    match (r.lambda_hat, r.lambda_hat_std) {
        (Some(hat), Some(sd)) => out.push_str(&format!(
            "  estimated     λ̂ = {hat:.2} ± {sd:.2}  (mean ± sd over {} chains)\n",
            r.per_chain.iter().filter(|c| c.lambda_hat.is_some()).count()
        )),
        _ => out.push_str("  estimated     λ̂ = none: every chain diverged\n"),
    }
    if let Some(lambda) = r.lambda {
        out.push_str(&format!("  exact         λ = {lambda} (Aoyagi)"));
        if let Some(rel) = r.relative_error {
            out.push_str(&format!(", relative error {:+.1}%", 100.0 * rel));
        }
        out.push('\n');
    }
    out.push_str(&format!("  regular bound d/2 = {}\n", r.regular_lambda));
    let d = &r.diagnostics;
    let fmt = |x: Option<f64>, p: usize| x.map_or("n/a".to_string(), |v| format!("{v:.p$}"));
    out.push_str(&format!(
        "  diagnostics   R̂ = {}, ESS = {}, MALA acceptance = {}, diverged chains = {}, restarts = {}\n",
        fmt(d.r_hat, 3),
        fmt(d.ess, 0),
        fmt(d.acceptance, 3),
        d.diverged_chains.len(),
        d.restarts.len()
    ));
    out.push_str(&format!("  step size     {}\n", step_sizes(r)));
    if let Some(bias) = d.predicted_bias {
        out.push_str(&format!(
            "  step bias     {:+.1}% of λ̂ predicted from the curvature and gradient noise along the draws{}\n",
            100.0 * bias,
            if bias > 0.05 { " (large: a smaller ε, or --epsilon auto, would be more accurate)" } else { "" }
        ));
    }
    out.push_str(&format!(
        "  {} chains × {} steps in {:.1} s ({:.0} chain-steps/s) on {}, {} data",
        r.config.n_chains,
        r.config.n_steps,
        r.seconds,
        r.steps_per_second,
        if r.device == "cuda" { "the GPU" } else { "the CPU" },
        r.data_form
    ));
    out
}
