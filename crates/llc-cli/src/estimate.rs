//! `llc estimate dln|mlp`: λ̂ by multi-chain SGLD (or MALA) at a random teacher, with the exact λ
//! beside it where theory has it.

use std::io::Write;

use llc_app::{
    AUTO_EPSILON_START, AppBackend, DlnPoint, Synthetic, dln_loss, dln_point, dln_teacher, mlp_loss, mlp_point,
    mlp_teacher, parameter_count, rescaled_mlp, stacked_dln_loss,
};
use llc_estimators::{
    Divergence, EpsilonAdaptation, Estimator, EstimatorConfig, EstimatorError, LlcEstimate, NoiseHome, NoisePlacement,
    Progress, Restart, SamplerKind,
};
use llc_models::StackedDln;
use llc_sampler::DiagonalPreconditioner;
use serde::Serialize;

use crate::args::{EpsilonArg, EstimateArgs, EstimateDlnArgs, EstimateMlpArgs, PreconditionerArg};
use crate::exit::Failure;
use crate::progress::Bar;

/// The JSON form of `llc estimate … --json`.
#[derive(Debug, Serialize)]
struct EstimateReport {
    #[serde(flatten)]
    network: NetworkReport,
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

/// The estimator settings from the flags, with the documented defaults, for chains on backend `B`
/// (which says where the noise is drawn: on a GPU on the device, so that no d-sized buffer crosses
/// the bus at each step).
///
/// Flags that only mean something together (--target-acceptance or --max-bias without --epsilon
/// auto, --max-bias with MALA) are refused here; everything else is checked by
/// `EstimatorConfig::validate`.
pub(crate) fn estimator_config<B: NoiseHome>(args: &EstimateArgs) -> Result<EstimatorConfig, Failure> {
    let epsilon = args.epsilon();
    if args.target_acceptance.is_some() && epsilon != EpsilonArg::Auto {
        return Err(Failure::usage("--target-acceptance only applies with --epsilon auto, not with a fixed ε"));
    }
    if args.max_bias.is_some() && epsilon != EpsilonArg::Auto {
        return Err(Failure::usage("--max-bias only applies with --epsilon auto, not with a fixed ε"));
    }
    let sampler = args.sampler.kind();
    let step_bias = sampler != SamplerKind::Mala;
    if args.max_bias.is_some() && !step_bias {
        return Err(Failure::usage("--max-bias does not apply to --sampler mala, which has no step-size bias to cap"));
    }
    let config = EstimatorConfig::default()
        .with_chains(args.chains)
        .with_steps(args.steps)
        .with_burn_in(args.burn_in.unwrap_or(args.steps / 5))
        .with_batch_size(args.batch)
        .with_max_restarts(args.max_restarts)
        .with_gamma(args.gamma)
        .with_sampler(sampler)
        .with_seed(args.seed)
        .with_acceptance_every(args.acceptance_every)
        .with_draw_loss(args.draw_loss.kind())
        .with_noise(NoisePlacement::of::<B>());
    let config = EstimatorConfig { n_beta: args.n_beta, ..config };
    Ok(match epsilon {
        EpsilonArg::Fixed(epsilon) => config.with_epsilon(epsilon),
        EpsilonArg::Auto => {
            let default = EpsilonAdaptation::default();
            config.with_epsilon(AUTO_EPSILON_START).with_epsilon_adaptation(EpsilonAdaptation {
                target_acceptance: Some(args.target_acceptance.unwrap_or(default.target_for(step_bias))),
                max_bias: args.max_bias.unwrap_or(default.max_bias),
                ..default
            })
        }
    })
}

impl EstimateArgs {
    /// The data set of the teacher the flags describe.
    pub(crate) fn synthetic(&self) -> Synthetic {
        Synthetic { n: self.n, seed: self.seed, form: self.data.form() }
    }
}

/// Validates a network's widths (and a DLN teacher's rank) with the theory crate, whose messages
/// name the problem.
pub(crate) fn check_network(widths: &[usize], rank: Option<usize>) -> Result<(), Failure> {
    llc_theory::validate(widths, rank.unwrap_or(0)).map_err(|e| Failure::usage(format!("invalid network: {e}")))?;
    Ok(())
}

/// `llc estimate dln` on backend `B`.
pub(crate) fn run_dln<B: AppBackend>(args: &EstimateDlnArgs, device: &B::Device) -> Result<(), Failure> {
    let widths = &args.network.widths.0;
    check_network(widths, args.network.rank)?;
    let common = &args.common;
    let config = estimator_config::<B>(common)?;
    config.validate(common.n).map_err(EstimatorError::from)?;
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
    let teacher = dln_teacher(widths, args.network.teacher, args.network.rank, common.seed)?;
    let DlnPoint { point, rank, lambda } = dln_point::<B>(&teacher, common.synthetic(), device)?;
    let estimate = run_with_progress(common, |progress| {
        if args.stack == 1 {
            return point.estimate(dln_loss, config.clone(), progress);
        }
        let copies = args.stack;
        let stacked = StackedDln::replicate(&point.model, copies).map_err(EstimatorError::model)?;
        Estimator::new(&stacked, &point.data, stacked_dln_loss(copies))
            .with_config(config.clone())
            .with_stacked_chains(copies)
            .with_init_loss(point.init)
            .with_progress(progress)
            .run()
    })?;
    let network = Network { model: Model::Dln, widths: widths.clone(), theory: Some((rank, lambda)) };
    emit(&build_report::<B>(&network, point.data_form(), estimate), common.json)
}

/// `llc estimate mlp` on backend `B`.
pub(crate) fn run_mlp<B: AppBackend>(args: &EstimateMlpArgs, device: &B::Device) -> Result<(), Failure> {
    let widths = &args.network.widths.0;
    check_network(widths, None)?;
    let common = &args.common;
    let mut config = estimator_config::<B>(common)?;
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
    config.validate(common.n).map_err(EstimatorError::from)?;
    crate::memory::check(&crate::memory::Run {
        widths,
        biases: true,
        common,
        config: &config,
        copies: 1,
        estimates: 1,
    })?;
    let teacher = mlp_teacher(widths, common.seed, 1.0)?;
    let mut point = mlp_point::<B>(&teacher, common.synthetic(), device)?;

    // The measured point: the teacher, with every hidden neuron rescaled by α if asked (the same
    // function, so the same data and the same true λ), and the preconditioner matched to it.
    let mut preconditioner = None;
    if let Some(alpha) = args.rescale {
        let (model, matched) = rescaled_mlp(&point.model, alpha as f32)
            .map_err(|e| Failure::usage(format!("invalid --rescale {alpha:?}: {e}")))?;
        point.model = model;
        if args.preconditioner == PreconditionerArg::Matched && !matched.is_empty() {
            let matched = DiagonalPreconditioner::in_visit_order(&point.model, matched)
                .map_err(|e| Failure::other(format!("cannot build the matched preconditioner: {e}")))?;
            preconditioner = Some(matched);
        }
    }
    let estimate = run_with_progress(common, |progress| {
        let estimator = point.estimator(mlp_loss).with_config(config.clone()).with_progress(progress);
        match preconditioner {
            Some(p) => estimator.with_preconditioner(p).run(),
            None => estimator.run(),
        }
    })?;
    let network = Network { model: Model::Mlp, widths: widths.clone(), theory: None };
    emit(&build_report::<B>(&network, point.data_form(), estimate), common.json)
}

/// Runs the estimate with a progress bar on stderr that appears only if the run lasts over a
/// second and stderr is a terminal.
fn run_with_progress(
    args: &EstimateArgs,
    run: impl FnOnce(&mut dyn Progress) -> Result<LlcEstimate, EstimatorError>,
) -> Result<LlcEstimate, Failure> {
    let mut progress = Bar::new(args.quiet);
    Ok(run(&mut progress)?)
}

/// The kind of network an estimate measures (`model` in the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Model {
    /// A deep linear network (no biases).
    Dln,
    /// A ReLU network with biases.
    Mlp,
}

impl Model {
    /// Whether its layers have biases.
    pub(crate) fn biases(self) -> bool {
        self == Self::Mlp
    }

    /// Its name in a sentence.
    fn kind(self) -> &'static str {
        match self {
            Self::Dln => "deep linear network",
            Self::Mlp => "ReLU network",
        }
    }
}

/// The network an estimate or a calibration measures.
pub(crate) struct Network {
    pub(crate) model: Model,
    /// Layer widths, input first.
    pub(crate) widths: Vec<usize>,
    /// The teacher's rank and Aoyagi's λ (DLN only).
    pub(crate) theory: Option<(usize, f64)>,
}

impl Network {
    /// Aoyagi's λ, where known.
    pub(crate) fn lambda(&self) -> Option<f64> {
        self.theory.map(|t| t.1)
    }

    /// The network as reports give it.
    pub(crate) fn report(&self) -> NetworkReport {
        let params = parameter_count(&self.widths, self.model.biases());
        NetworkReport {
            model: self.model,
            widths: self.widths.clone(),
            params,
            rank: self.theory.map(|t| t.0),
            lambda: self.lambda(),
            regular_lambda: params as f64 / 2.0,
        }
    }
}

/// The network of a report: the first keys of the JSON of `llc estimate` and `llc calibrate`.
#[derive(Debug, Serialize)]
pub(crate) struct NetworkReport {
    pub(crate) model: Model,
    pub(crate) widths: Vec<usize>,
    pub(crate) params: usize,
    /// Rank of the teacher's product (DLN only).
    pub(crate) rank: Option<usize>,
    /// Aoyagi's λ (DLN only).
    pub(crate) lambda: Option<f64>,
    /// d/2, the bound every λ satisfies.
    pub(crate) regular_lambda: f64,
}

impl NetworkReport {
    /// What it is, with its widths joined by `separator`: "deep linear network 20 → 30 → 10".
    pub(crate) fn name(&self, separator: &str) -> String {
        format!(
            "{} {}",
            self.model.kind(),
            self.widths.iter().map(usize::to_string).collect::<Vec<_>>().join(separator)
        )
    }
}

/// (λ̂ − λ)/λ where λ̂ and a positive λ are known.
pub(crate) fn relative_error(lambda_hat: Option<f64>, lambda: Option<f64>) -> Option<f64> {
    match (lambda_hat, lambda) {
        (Some(hat), Some(l)) if l > 0.0 => Some((hat - l) / l),
        _ => None,
    }
}

/// The report of a finished estimate on backend `B`.
fn build_report<B: AppBackend>(network: &Network, data_form: &'static str, e: LlcEstimate) -> EstimateReport {
    let lambda = network.lambda();
    let finished = e.lambda_hat.is_finite();
    let lambda_hat = finished.then_some(e.lambda_hat);
    EstimateReport {
        network: network.report(),
        lambda_hat,
        lambda_hat_std: finished.then_some(e.lambda_hat_std),
        relative_error: relative_error(lambda_hat, lambda),
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
        data_form,
        seconds: e.seconds,
        steps_per_second: e.steps_per_second,
        device: B::DEVICE.name(),
        diagnostics: DiagnosticsReport {
            acceptance: e.diagnostics.mean_acceptance,
            r_hat: e.diagnostics.r_hat,
            ess: e.diagnostics.ess,
            diverged_chains: e.diagnostics.diverged.clone(),
            restarts: e.diagnostics.restarts.clone(),
            predicted_bias: e.diagnostics.predicted_bias,
        },
        config: e.config,
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
    let Some(adapt) = r.config.epsilon_adaptation else {
        return format!("ε = {range}");
    };
    let over = format!("over the first {} burn-in steps", r.config.adaptation_steps());
    if r.config.sampler == SamplerKind::Mala {
        // MALA's accept/reject step removes the step-size bias, so nothing caps its ε.
        format!("ε = auto: {range}, adapted towards an acceptance rate of {} {over}", adapt.target_for(false))
    } else {
        format!(
            "ε = auto: {range}, adapted towards MALA acceptance {} with a predicted bias of at most {}% {over}",
            adapt.target_for(true),
            adapt.max_bias * 100.0
        )
    }
}

fn human(r: &EstimateReport) -> String {
    let network = &r.network;
    let mut out = format!("{}  (d = {} parameters", network.name(" → "), network.params);
    if let Some(rank) = network.rank {
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
    if let Some(lambda) = network.lambda {
        out.push_str(&format!("  exact         λ = {lambda} (Aoyagi)"));
        if let Some(rel) = r.relative_error {
            out.push_str(&format!(", relative error {:+.1}%", 100.0 * rel));
        }
        out.push('\n');
    }
    out.push_str(&format!("  regular bound d/2 = {}\n", network.regular_lambda));
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
