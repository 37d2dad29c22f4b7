//! The multi-chain estimator of the local learning coefficient, with SGLD or full-batch MALA.
//!
//! For each of C chains started at w*, the sampler draws w_1, w_2, … from the localized tempered
//! posterior; after burn-in the draw losses at the kept steps are averaged, and
//!
//! λ̂ = nβ·(mean_t L_t − L_n(w*))
//!
//! (paper, arXiv 2308.12108 v2, the λ̂ estimator). With the SGLD samplers L_t = L_B(w_t), the
//! minibatch loss of step t, as in the authors' DLN code, or, with [`DrawLoss::Full`], the full-data
//! loss L_n(w_t) at each kept draw, as in the paper's rescaling experiment (evaluated in chunks of
//! [`FULL_DRAW_LOSS_CHUNK`] samples, one pass over the data per kept draw, so thinning makes it
//! cheaper). With [`SamplerKind::Mala`] every step uses the whole data set (built once per estimate
//! and reused), so L_t = L_n(w_t), the full-data loss at the chain's point after step t, as in the
//! paper's SGLD-versus-MALA comparison (arXiv 2402.03698).
//! L_n(w*) is the full-data loss either way. The reported λ̂ is the mean over chains, with the
//! standard deviation across chains. Both samplers share the loop, burn-in, thinning, diagnostics and
//! result type.
//!
//! `mean_acceptance` means the same thing for both — the Metropolis–Hastings acceptance of the
//! moves — but is measured differently: for SGLD it is the mean MALA acceptance *probability* of the
//! SGLD moves, every `acceptance_every` steps after burn-in; for MALA it is the real acceptance
//! *rate*, the fraction of proposals after burn-in that were accepted.
//!
//! SGLD chains with acceptance measures also report `predicted_bias`, the relative bias of λ̂ that
//! their step size predicts from the curvature of the measured moves and from the minibatch
//! gradient noise, measured every fifth acceptance measure on minibatches of a stream of its own
//! (so the chain's path does not change); see [`EpsilonAdaptation`](crate::EpsilonAdaptation),
//! whose automatic step size caps the same prediction.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use llc_sampler::{DiagonalPreconditioner, MalaChain, NoiseSource, SgldChains};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::adapt::StepSizeAdaptation;
use crate::diagnostics::{effective_sample_size, mean_and_std, split_r_hat};
use crate::{DataSource, DrawLoss, EstimatorConfig, EstimatorError, FULL_DRAW_LOSS_CHUNK, NoisePlacement, SamplerKind};

/// A chain that produced a non-finite loss, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// The chain, counted from 0.
    pub chain_idx: usize,
    /// The step (counted from 1, burn-in included) whose loss was not finite: the step's own loss
    /// or, with [`DrawLoss::Full`], the full-data loss at a kept draw.
    pub step: usize,
    /// The loss value, as text ("NaN", "inf"), since JSON has no non-finite numbers.
    pub loss: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chain {} diverged at step {} (loss {})", self.chain_idx, self.step, self.loss)
    }
}

/// A chain put back at w* with a smaller ε after its loss diverged (see
/// [`EstimatorConfig::max_restarts`]). The chain then starts over: burn-in, adaptation (with
/// `--epsilon auto`, from the halved ε) and draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restart {
    /// The chain, counted from 0.
    pub chain_idx: usize,
    /// The step (counted from 1 since the chain's last start) whose loss diverged.
    pub step: usize,
    /// The loss value, as text ("NaN", "inf", or a number past the explosion limit).
    pub loss: String,
    /// The chain's ε when it diverged.
    pub epsilon_before: f64,
    /// The ε it restarted with (half of `epsilon_before`).
    pub epsilon_after: f64,
}

impl std::fmt::Display for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "chain {} diverged at step {} (loss {}) with ε = {:.3e}; restarted from w* with ε = {:.3e}",
            self.chain_idx, self.step, self.loss, self.epsilon_before, self.epsilon_after
        )
    }
}

/// One chain's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainResult {
    /// The chain, counted from 0.
    pub chain_idx: usize,
    /// λ̂ of this chain; `None` if it diverged.
    pub lambda_hat: Option<f64>,
    /// The mean draw loss over its kept draws (for SGLD the minibatch losses, or the full-data
    /// losses with [`DrawLoss::Full`]; for MALA the full-data losses); `None` if it diverged.
    pub mean_draw_loss: Option<f64>,
    /// Draws kept (after burn-in and thinning) before it stopped.
    pub n_draws: usize,
    /// SGLD: the mean MALA acceptance probability of its moves, where measured. MALA: its
    /// acceptance rate, the fraction of its proposals after burn-in that were accepted.
    pub mean_acceptance: Option<f64>,
    /// Where it diverged for good (after its restarts ran out), if it did.
    pub divergence: Option<Divergence>,
    /// The step size ε its draws were made with: the configured ε, halved once per restart, or
    /// with the automatic step size the ε its adaptation chose.
    #[serde(default)]
    pub epsilon: f64,
    /// Every restart of this chain, in order.
    #[serde(default)]
    pub restarts: Vec<Restart>,
    /// SGLD: the relative bias of its λ̂ that its step size predicts, from the curvature and the
    /// minibatch gradient noise measured along its draws:
    /// (mean Δᵀ(∇U(w') − ∇U(w)) + ε·(nβ)²·mean tr(P·Σ_B))/(8·λ̂) (see
    /// [`EpsilonAdaptation`](crate::EpsilonAdaptation) for the derivation). A first-order
    /// prediction: positive, and too small once it passes about 10%. `None` without acceptance
    /// measures after burn-in, for MALA, or when the chain diverged or its λ̂ is not positive.
    #[serde(default)]
    pub predicted_bias: Option<f64>,
    /// The kept draws' losses, in order (for SGLD the minibatch losses, or the full-data losses
    /// with [`DrawLoss::Full`]; for MALA the full-data losses).
    pub loss_trace: Vec<f64>,
}

/// Diagnostics across chains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Split-R̂ of the loss traces of the chains that finished (None when undefined).
    pub r_hat: Option<f64>,
    /// Multi-chain effective sample size of those loss traces.
    pub ess: Option<f64>,
    /// The mean over finished chains of their `mean_acceptance`: for SGLD the MALA acceptance
    /// probability of the SGLD moves, for MALA the real acceptance rate.
    pub mean_acceptance: Option<f64>,
    /// Every chain that diverged for good.
    pub diverged: Vec<Divergence>,
    /// Every restart of every chain (recovered divergences).
    #[serde(default)]
    pub restarts: Vec<Restart>,
    /// The mean over finished chains of their `predicted_bias` (SGLD with acceptance measures).
    #[serde(default)]
    pub predicted_bias: Option<f64>,
}

/// The result of an estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlcEstimate {
    /// λ̂, the mean of the finished chains' estimates (NaN if none finished).
    pub lambda_hat: f64,
    /// Standard deviation of λ̂ across finished chains (0 with one chain).
    pub lambda_hat_std: f64,
    /// Per-chain results, diverged chains included.
    pub per_chain: Vec<ChainResult>,
    /// L_n(w*), the full-data loss at the measured point.
    pub init_loss: f64,
    /// Sample size n.
    pub n: usize,
    /// The inverse temperature times n used.
    pub n_beta: f64,
    /// Diagnostics across chains.
    pub diagnostics: Diagnostics,
    /// Wall-clock seconds of sampling (the initial loss excluded).
    pub seconds: f64,
    /// Chain-steps per second.
    pub steps_per_second: f64,
    /// The configuration used.
    pub config: EstimatorConfig,
}

/// How L_n(w*) is obtained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InitLoss {
    /// Average the loss over the whole data set, in chunks of this many samples.
    Compute {
        /// Samples per chunk.
        chunk: usize,
    },
    /// Known exactly (e.g. 0 at a noiseless teacher), so the full pass is skipped.
    Known(f64),
}

/// Receives progress while an estimate runs; every method has a no-op default.
pub trait Progress {
    /// Sampling starts; `total_steps` is chains × steps.
    fn start(&mut self, _total_steps: u64) {}
    /// `steps` more chain-steps are done.
    fn advance(&mut self, _steps: u64) {}
    /// A chain diverged for good (it stops; the others go on).
    fn diverged(&mut self, _divergence: &Divergence) {}
    /// A chain diverged and starts over from w* with a smaller ε; the `restart.step` steps it
    /// had taken will be taken again.
    fn restarted(&mut self, _restart: &Restart) {}
    /// Sampling finished.
    fn finish(&mut self) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// The mean of `loss` over the whole data set, evaluated in chunks of `chunk` samples (each chunk's
/// mean weighted by its size).
pub fn full_data_loss<B, M, D, L>(model: &M, data: &D, loss: &L, chunk: usize) -> f64
where
    B: AutodiffBackend,
    D: DataSource,
    L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
{
    full_data_losses(model, 1, data, loss, chunk)[0]
}

/// Per copy of a stacked module, the mean of `loss` over the whole data set: each chunk's indices
/// are repeated once per copy (copy c sees block c of the batch), and `loss` returns one mean per
/// copy. With one copy this is [`full_data_loss`].
fn full_data_losses<B, M, D, L>(model: &M, copies: usize, data: &D, loss: &L, chunk: usize) -> Vec<f64>
where
    B: AutodiffBackend,
    D: DataSource,
    L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
{
    let n = data.len();
    let chunk = chunk.max(1);
    let mut totals = vec![0.0; copies];
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let indices: Vec<usize> = (0..copies).flat_map(|_| start..end).collect();
        let values = loss(model, &data.batch(&indices)).into_data();
        for (total, value) in totals.iter_mut().zip(values.iter::<f64>()) {
            *total += value * (end - start) as f64;
        }
        start = end;
    }
    totals.iter().map(|total| total / n as f64).collect()
}

/// Estimates λ̂ at the point `model` (which is w*) with multi-chain SGLD or full-batch MALA
/// (`config.sampler`).
///
/// `loss(model, batch)` must return the mean loss over the batch (shape `[1]`). Chains run one after
/// another, each with its own noise and minibatch streams derived from `config.seed`, so the same
/// seed on the same backend gives the same result. A chain whose loss becomes NaN or ∞ stops; it is
/// named in the result and every other chain is kept. (A MALA proposal with a non-finite loss is
/// simply rejected; only a non-finite loss at the chain's own point is a divergence.)
///
/// With `config.draw_loss == DrawLoss::Full` an SGLD chain records, at each kept draw, the
/// full-data loss `full_data_loss(chain's module, data, &loss, FULL_DRAW_LOSS_CHUNK)` instead of the
/// step's minibatch loss; the minibatch loss of every step is still checked for divergence, and a
/// non-finite full-data loss is a divergence too. MALA records the full-data loss either way.
///
/// For [`SamplerKind::Mala`] the batch of all n samples is built once, with
/// `data.batch(&[0, 1, …, n − 1])`, and every step evaluates the loss and its gradient on it; it must
/// fit in memory. `batch_size` and `acceptance_every` are ignored.
///
/// For small models, [`estimate_llc_stacked`] runs several chains as one stacked module, which is
/// several times faster on the CPU.
pub fn estimate_llc<B, M, D, L>(
    model: &M,
    data: &D,
    loss: L,
    config: &EstimatorConfig,
    init_loss: InitLoss,
    progress: &mut dyn Progress,
) -> Result<LlcEstimate, EstimatorError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + Clone,
    D: DataSource,
    L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
{
    estimate_llc_preconditioned(model, data, loss, config, init_loss, None, progress)
}

/// [`estimate_llc`] with a fixed diagonal preconditioner P in every chain's update (SGLD or MALA),
/// e.g. the preconditioner matched to a ReLU rescaling, which makes both samplers equivariant under
/// it. P must have been built for `model` (it is keyed by parameter ids, which clones keep); it
/// cannot be combined with the RMSprop samplers.
pub fn estimate_llc_preconditioned<B, M, D, L>(
    model: &M,
    data: &D,
    loss: L,
    config: &EstimatorConfig,
    init_loss: InitLoss,
    preconditioner: Option<&DiagonalPreconditioner<B>>,
    progress: &mut dyn Progress,
) -> Result<LlcEstimate, EstimatorError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + Clone,
    D: DataSource,
    L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
{
    if preconditioner.is_some()
        && matches!(config.sampler, SamplerKind::RmspropSgld | SamplerKind::RmspropSgldBiasCorrected)
    {
        return Err(EstimatorError::InvalidConfig(
            "a fixed diagonal preconditioner cannot be combined with an RMSprop sampler".into(),
        ));
    }
    let run = Run::start(model, 1, data, &loss, config, init_loss)?;
    progress.start((config.n_chains * config.n_steps) as u64);
    let started = Instant::now();
    let mut per_chain = Vec::with_capacity(config.n_chains);
    let mut steps_done = 0usize;
    if config.sampler == SamplerKind::Mala {
        // The whole data set, built once and reused by every step of every chain.
        let full_batch = data.batch(&(0..run.n).collect::<Vec<_>>());
        for chain_idx in 0..config.n_chains {
            let result = run.mala_chain(model, chain_idx, &full_batch, preconditioner, progress, &mut steps_done)?;
            per_chain.push(result);
        }
    } else {
        for chain_idx in 0..config.n_chains {
            let group = run.sgld_group(model, chain_idx, preconditioner, progress, &mut steps_done)?;
            per_chain.extend(group);
        }
    }
    progress.finish();
    Ok(run.finish(per_chain, started, steps_done))
}

/// [`estimate_llc`] for C chains stacked into one module (SGLD samplers only): `stacked` holds C
/// copies of w* along the leading dimension of every parameter (e.g.
/// `llc_models::StackedDln::replicate(&dln, C)`), and `loss(stacked, batch)` returns the C copies'
/// mean losses as a `[C]` tensor, where the batch holds the C chains' minibatches one after another
/// (the indices given to `data.batch` are chain 0's, then chain 1's, …), so copy c must take block c
/// of the batch.
///
/// `config.n_chains` must be a multiple of C; groups of C chains run one after another. Chain k of
/// the estimate uses the same noise and minibatch streams as chain k of [`estimate_llc`], so the two
/// agree chain by chain up to f32 rounding (and exactly in distribution). One forward, backward and
/// update then serve C chains, which is several times faster for small models, whose steps are
/// dominated by per-operation overhead (docs/performance.md has the measurements).
///
/// L_n(w*) (with [`InitLoss::Compute`]) and, with [`DrawLoss::Full`], the full-data loss at a kept
/// draw are evaluated with every chunk's indices repeated for each copy.
pub fn estimate_llc_stacked<B, S, D, L>(
    stacked: &S,
    copies: usize,
    data: &D,
    loss: L,
    config: &EstimatorConfig,
    init_loss: InitLoss,
    progress: &mut dyn Progress,
) -> Result<LlcEstimate, EstimatorError>
where
    B: AutodiffBackend,
    S: AutodiffModule<B> + Clone,
    D: DataSource,
    L: Fn(&S, &D::Batch) -> Tensor<B, 1>,
{
    if config.sampler == SamplerKind::Mala {
        return Err(EstimatorError::InvalidConfig(
            "MALA runs its chains one at a time on the full data set; use estimate_llc".into(),
        ));
    }
    if copies == 0 || !config.n_chains.is_multiple_of(copies) {
        return Err(EstimatorError::InvalidConfig(format!(
            "{} chains cannot be split into groups of {copies} stacked chains",
            config.n_chains
        )));
    }
    let run = Run::start(stacked, copies, data, &loss, config, init_loss)?;
    progress.start((config.n_chains * config.n_steps) as u64);
    let started = Instant::now();
    let mut per_chain = Vec::with_capacity(config.n_chains);
    let mut steps_done = 0usize;
    for first_chain in (0..config.n_chains).step_by(copies) {
        per_chain.extend(run.sgld_group(stacked, first_chain, None, progress, &mut steps_done)?);
    }
    progress.finish();
    Ok(run.finish(per_chain, started, steps_done))
}

/// What every chain of an estimate shares: the data, the loss, the settings and L_n(w*).
struct Run<'a, D, L> {
    data: &'a D,
    loss: &'a L,
    config: &'a EstimatorConfig,
    /// Chains stepped together in one module (1 unless stacked).
    copies: usize,
    n: usize,
    n_beta: f64,
    init_loss: f64,
    /// A step's loss above this counts as diverged ([`EstimatorConfig::explosion_factor`]).
    loss_limit: f64,
}

impl<'a, D: DataSource, L> Run<'a, D, L> {
    /// Validates the settings and computes L_n(w*) (at copy 0 of a stacked module).
    fn start<B, M>(
        model: &M,
        copies: usize,
        data: &'a D,
        loss: &'a L,
        config: &'a EstimatorConfig,
        init_loss: InitLoss,
    ) -> Result<Self, EstimatorError>
    where
        B: AutodiffBackend,
        M: burn::module::Module<B>,
        L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
    {
        let n = data.len();
        config.validate(n)?;
        let init_loss = match init_loss {
            InitLoss::Known(value) => value,
            InitLoss::Compute { chunk } => full_data_losses(model, copies, data, loss, chunk)[0],
        };
        if !init_loss.is_finite() {
            return Err(EstimatorError::InitialLoss(init_loss));
        }
        let n_beta = config.n_beta_for(n);
        // d of one chain: the stacked module holds `copies` chains' parameters.
        let d = model.num_params() / copies.max(1);
        let loss_limit = config
            .explosion_factor
            .map_or(f64::INFINITY, |factor| (1.0 + factor) * init_loss.max(0.0) + factor * (d as f64 / 2.0) / n_beta);
        Ok(Self { data, loss, config, copies, n, n_beta, init_loss, loss_limit })
    }

    /// The noise sources of chains `first_chain..first_chain + copies`.
    fn noise<B: AutodiffBackend, M: AutodiffModule<B>>(&self, model: &M, first_chain: usize) -> Vec<NoiseSource> {
        let seed = self.config.seed;
        match self.config.noise {
            NoisePlacement::Host => {
                (0..self.copies).map(|c| NoiseSource::host(seed, (first_chain + c) as u64)).collect()
            }
            NoisePlacement::Device => {
                let device = model.devices().into_iter().next().unwrap_or_default();
                vec![NoiseSource::backend::<B::InnerBackend>(&device, seed, first_chain as u64)]
            }
        }
    }

    /// Runs chains `first_chain..first_chain + copies` of an SGLD sampler, as one stacked module
    /// when `copies > 1`.
    ///
    /// Each chain keeps its own step count, so that a chain restarted after a divergence (back at
    /// w*, ε halved) redoes its burn-in and draws while the others go on; a chain that has taken
    /// all its steps, or is lost, is frozen until the group is done. With the automatic step size
    /// each chain adapts its own ε over the first part of its burn-in.
    fn sgld_group<B, M>(
        &self,
        model: &M,
        first_chain: usize,
        preconditioner: Option<&DiagonalPreconditioner<B>>,
        progress: &mut dyn Progress,
        steps_done: &mut usize,
    ) -> Result<Vec<ChainResult>, EstimatorError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B> + Clone,
        L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
    {
        let (config, copies, n) = (self.config, self.copies, self.n);
        let refused = |e: llc_sampler::SamplerError| EstimatorError::Sampler(e.to_string());
        let noise = self.noise(model, first_chain);
        let mut chains = SgldChains::new(model.clone(), copies, config.sgld_config(n), noise).map_err(refused)?;
        if let Some(p) = preconditioner {
            chains = chains.with_diagonal_preconditioner(p.clone()).map_err(refused)?;
        }
        let full_draws = config.draw_loss == DrawLoss::Full;
        let adapt_steps = config.adaptation_steps();
        let mut batch_rngs: Vec<ChaCha8Rng> = (0..copies).map(|c| batch_stream(config.seed, first_chain + c)).collect();
        let mut noise_rngs: Vec<ChaCha8Rng> =
            (0..copies).map(|c| noise_batch_stream(config.seed, first_chain + c)).collect();
        let mut indices = vec![0usize; copies * config.batch_size];
        let mut runs: Vec<ChainRun> =
            (0..copies).map(|_| ChainRun::new(config, config.epsilon, self.n_beta, self.init_loss)).collect();
        let mut since_report = 0u64;
        loop {
            let running: Vec<usize> = (0..copies).filter(|&c| runs[c].is_running(config.n_steps)).collect();
            if running.is_empty() {
                break;
            }
            for &c in &running {
                runs[c].step += 1;
                let block = &mut indices[c * config.batch_size..(c + 1) * config.batch_size];
                block.iter_mut().for_each(|i| *i = batch_rngs[c].random_range(0..n));
            }
            let batch = self.data.batch(&indices);
            let measure = running.iter().any(|&c| runs[c].measures_acceptance(config, adapt_steps));
            let report = chains.step(|m: &M| (self.loss)(m, &batch), measure);
            drop(batch);
            *steps_done += running.len();
            since_report += running.len() as u64;
            // What a kept draw records: the step's loss, or with `DrawLoss::Full` the full-data loss
            // at the new point (not evaluated when no kept chain's step loss is finite).
            let full = (full_draws
                && running.iter().any(|&c| runs[c].keeps_draw(config) && report.losses[c].is_finite()))
            .then(|| full_data_losses(chains.module(), copies, self.data, self.loss, FULL_DRAW_LOSS_CHUNK));
            for &c in &running {
                let run = &mut runs[c];
                let step = run.step;
                let kept = run.keeps_draw(config);
                let recorded = full.as_ref().filter(|_| kept).map_or(report.losses[c], |values| values[c]);
                let bad = [report.losses[c], recorded].into_iter().find(|v| !v.is_finite() || *v > self.loss_limit);
                if let Some(value) = bad {
                    let chain_idx = first_chain + c;
                    if run.restarts.len() < config.max_restarts {
                        let before = chains.epsilon(c);
                        let restart = Restart {
                            chain_idx,
                            step,
                            loss: format!("{value}"),
                            epsilon_before: before,
                            epsilon_after: before / 2.0,
                        };
                        progress.restarted(&restart);
                        chains.restart(c);
                        chains.set_epsilon(c, restart.epsilon_after).map_err(refused)?;
                        let mut restarts = std::mem::take(&mut run.restarts);
                        restarts.push(restart);
                        *run =
                            ChainRun { restarts, ..ChainRun::new(config, before / 2.0, self.n_beta, self.init_loss) };
                    } else {
                        let d = Divergence { chain_idx, step, loss: format!("{value}") };
                        progress.diverged(&d);
                        run.divergence = Some(d);
                        chains.freeze(c);
                        // A lost chain's remaining steps count as done for the progress display.
                        since_report += (config.n_steps - step) as u64;
                    }
                    continue;
                }
                if kept {
                    run.trace.push(recorded);
                }
                let measured = report.mala_acceptance.as_ref().map(|a| a[c]);
                if step > config.n_burnin
                    && config.acceptance_every > 0
                    && step.is_multiple_of(config.acceptance_every)
                    && let Some(a) = measured
                {
                    run.acceptance.push(a);
                    if let Some(q) = report.move_curvature.as_ref().map(|q| q[c]).filter(|q| q.is_finite()) {
                        run.bias.curvature.push(q);
                    }
                }
                if let Some(adapter) = run.adapter.as_mut() {
                    if let Some(a) = measured.filter(|_| step <= adapt_steps) {
                        let curvature = report.move_curvature.as_ref().map_or(f64::NAN, |q| q[c]);
                        let next = adapter.update(a, curvature, chains.epsilon(c), report.losses[c]);
                        chains.set_epsilon(c, next).map_err(refused)?;
                    }
                    if step == adapt_steps {
                        // Adaptation ends: the chain keeps the averaged, capped step from here on.
                        chains.set_epsilon(c, adapter.chosen()).map_err(refused)?;
                        run.adapter = None;
                    }
                }
                if step == config.n_steps {
                    run.epsilon = chains.epsilon(c);
                    chains.freeze(c);
                }
            }
            // Gradient-noise measures at the chains' new points (for the adaptation's cap, and for
            // the predicted bias of the draws), each from two minibatches of a stream of their own,
            // so that measuring leaves the chains' own minibatches as they would be without it.
            let noisy: Vec<usize> =
                running.iter().copied().filter(|&c| runs[c].measures_noise(config, adapt_steps)).collect();
            if !noisy.is_empty() {
                let mut draw = || {
                    for &c in &noisy {
                        let block = &mut indices[c * config.batch_size..(c + 1) * config.batch_size];
                        block.iter_mut().for_each(|i| *i = noise_rngs[c].random_range(0..n));
                    }
                    self.data.batch(&indices)
                };
                let (batch_a, batch_b) = (draw(), draw());
                let noise = chains.gradient_noise(|m: &M| (self.loss)(m, &batch_a), |m: &M| (self.loss)(m, &batch_b));
                for &c in &noisy {
                    let run = &mut runs[c];
                    if run.step > config.n_burnin && noise.trace[c].is_finite() {
                        run.bias.noise.push(noise.trace[c]);
                    }
                    if let Some(adapter) = run.adapter.as_mut() {
                        chains.set_epsilon(c, adapter.observe_noise(noise.trace[c])).map_err(refused)?;
                    }
                }
            }
            if since_report >= 64 {
                progress.advance(since_report);
                since_report = 0;
            }
        }
        progress.advance(since_report);
        Ok(runs
            .into_iter()
            .enumerate()
            .map(|(c, mut run)| {
                if run.divergence.is_some() {
                    run.epsilon = chains.epsilon(c);
                }
                self.chain_result(first_chain + c, run)
            })
            .collect())
    }

    /// Runs chain `chain_idx` of full-batch MALA.
    fn mala_chain<B, M>(
        &self,
        model: &M,
        chain_idx: usize,
        full_batch: &D::Batch,
        preconditioner: Option<&DiagonalPreconditioner<B>>,
        progress: &mut dyn Progress,
        steps_done: &mut usize,
    ) -> Result<ChainResult, EstimatorError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B> + Clone,
        L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
    {
        let config = self.config;
        let refused = |e: llc_sampler::SamplerError| EstimatorError::Sampler(e.to_string());
        let noise = self.noise(model, chain_idx).remove(0);
        let mut chain = MalaChain::new(model.clone(), config.mala_config(self.n), noise).map_err(refused)?;
        if let Some(p) = preconditioner {
            chain = chain.with_diagonal_preconditioner(p.clone()).map_err(refused)?;
        }
        let mut trace = Vec::with_capacity(config.draws_per_chain());
        let mut acceptance = Vec::new();
        let mut divergence = None;
        let mut since_report = 0u64;
        for step in 1..=config.n_steps {
            // The draw is the full-data loss at the chain's point after the step; the acceptance
            // measure is 1 if the proposal was accepted, else 0.
            let report = chain.step(|m: &M| (self.loss)(m, full_batch));
            *steps_done += 1;
            since_report += 1;
            if !report.loss.is_finite() {
                let d = Divergence { chain_idx, step, loss: format!("{}", report.loss) };
                progress.diverged(&d);
                divergence = Some(d);
                since_report += (config.n_steps - step) as u64;
                break;
            }
            if step > config.n_burnin && (step - config.n_burnin - 1).is_multiple_of(config.thinning) {
                trace.push(report.loss);
            }
            if step > config.n_burnin {
                acceptance.push(if report.accepted { 1.0 } else { 0.0 });
            }
            if since_report >= 64 {
                progress.advance(since_report);
                since_report = 0;
            }
        }
        progress.advance(since_report);
        let run = ChainRun {
            trace,
            acceptance,
            divergence,
            ..ChainRun::new(config, config.epsilon, self.n_beta, self.init_loss)
        };
        Ok(self.chain_result(chain_idx, run))
    }

    /// One chain's result from its bookkeeping: kept draws, acceptance measures, restarts, final
    /// ε and bias measures.
    fn chain_result(&self, chain_idx: usize, run: ChainRun) -> ChainResult {
        let ChainRun { trace, acceptance, restarts, divergence, epsilon, bias, .. } = run;
        let finished = divergence.is_none();
        let mean_draw_loss = finished.then(|| trace.iter().sum::<f64>() / trace.len() as f64);
        let lambda_hat = mean_draw_loss.map(|mean| self.n_beta * (mean - self.init_loss));
        ChainResult {
            chain_idx,
            lambda_hat,
            predicted_bias: lambda_hat.and_then(|l| bias.relative(l, epsilon, self.n_beta)),
            mean_draw_loss,
            n_draws: trace.len(),
            mean_acceptance: (!acceptance.is_empty()).then(|| acceptance.iter().sum::<f64>() / acceptance.len() as f64),
            divergence,
            epsilon,
            restarts,
            loss_trace: trace,
        }
    }

    /// The estimate from every chain's result.
    fn finish(&self, per_chain: Vec<ChainResult>, started: Instant, steps_done: usize) -> LlcEstimate {
        let seconds = started.elapsed().as_secs_f64();
        let estimates: Vec<f64> = per_chain.iter().filter_map(|c| c.lambda_hat).collect();
        let (lambda_hat, lambda_hat_std) = mean_and_std(&estimates);
        let finished_traces: Vec<Vec<f64>> =
            per_chain.iter().filter(|c| c.divergence.is_none()).map(|c| c.loss_trace.clone()).collect();
        let acceptances: Vec<f64> = per_chain.iter().filter_map(|c| c.mean_acceptance).collect();
        let biases: Vec<f64> = per_chain.iter().filter_map(|c| c.predicted_bias).collect();
        let diagnostics = Diagnostics {
            predicted_bias: (!biases.is_empty()).then(|| biases.iter().sum::<f64>() / biases.len() as f64),
            r_hat: split_r_hat(&finished_traces),
            ess: effective_sample_size(&finished_traces),
            mean_acceptance: (!acceptances.is_empty())
                .then(|| acceptances.iter().sum::<f64>() / acceptances.len() as f64),
            diverged: per_chain.iter().filter_map(|c| c.divergence.clone()).collect(),
            restarts: per_chain.iter().flat_map(|c| c.restarts.iter().cloned()).collect(),
        };
        LlcEstimate {
            lambda_hat,
            lambda_hat_std: if estimates.len() == 1 { 0.0 } else { lambda_hat_std },
            per_chain,
            init_loss: self.init_loss,
            n: self.n,
            n_beta: self.n_beta,
            diagnostics,
            seconds,
            steps_per_second: steps_done as f64 / seconds.max(1e-9),
            config: self.config.clone(),
        }
    }
}

/// One SGLD chain's bookkeeping within a group: its own step count (since its last start), kept
/// draws, acceptance measures, restarts, and its step-size adaptation while that runs.
struct ChainRun {
    step: usize,
    trace: Vec<f64>,
    acceptance: Vec<f64>,
    restarts: Vec<Restart>,
    divergence: Option<Divergence>,
    adapter: Option<StepSizeAdaptation>,
    /// The ε of its draws, set when it finishes.
    epsilon: f64,
    /// Its curvature and gradient-noise measures after burn-in.
    bias: BiasMeasures,
}

impl ChainRun {
    /// A chain (re)starting at w* with step size `epsilon`, for a posterior with inverse
    /// temperature `n_beta` around an anchor of loss `init_loss`.
    fn new(config: &EstimatorConfig, epsilon: f64, n_beta: f64, init_loss: f64) -> Self {
        Self {
            step: 0,
            trace: Vec::with_capacity(config.draws_per_chain()),
            acceptance: Vec::new(),
            restarts: Vec::new(),
            divergence: None,
            adapter: config
                .epsilon_adaptation
                .map(|settings| StepSizeAdaptation::new(&settings, epsilon, n_beta, init_loss)),
            epsilon,
            bias: BiasMeasures::default(),
        }
    }

    /// Whether it still takes steps.
    fn is_running(&self, n_steps: usize) -> bool {
        self.divergence.is_none() && self.step < n_steps
    }

    /// Whether its current step is a kept draw (after burn-in, every `thinning`-th).
    fn keeps_draw(&self, config: &EstimatorConfig) -> bool {
        self.step > config.n_burnin && (self.step - config.n_burnin - 1).is_multiple_of(config.thinning)
    }

    /// Whether it measures the gradient noise after its current step: for its step-size
    /// adaptation, or after burn-in at every [`NOISE_PER_ACCEPTANCE`]-th acceptance measure.
    fn measures_noise(&self, config: &EstimatorConfig, adapt_steps: usize) -> bool {
        let adapting = self.adapter.is_some()
            && self.step > 0
            && self.step < adapt_steps
            && config.epsilon_adaptation.is_some_and(|a| self.step.is_multiple_of(a.noise_every));
        let drawing = config.acceptance_every > 0
            && self.step > config.n_burnin
            && self.step.is_multiple_of(config.acceptance_every * NOISE_PER_ACCEPTANCE);
        self.divergence.is_none() && (adapting || drawing)
    }

    /// Whether its current step needs the MALA acceptance probability: for the diagnostics after
    /// burn-in, or for its step-size adaptation.
    fn measures_acceptance(&self, config: &EstimatorConfig, adapt_steps: usize) -> bool {
        let diagnostic = config.acceptance_every > 0
            && self.step > config.n_burnin
            && self.step.is_multiple_of(config.acceptance_every);
        let adapting = self.adapter.is_some()
            && self.step <= adapt_steps
            && config.epsilon_adaptation.is_some_and(|a| self.step.is_multiple_of(a.every));
        diagnostic || adapting
    }
}

/// After burn-in, the gradient noise is measured at every this many acceptance measures (every
/// 100 steps at the default spacing of 20; each costs two gradients, about 2% of the run).
const NOISE_PER_ACCEPTANCE: usize = 5;

/// A chain's measures for its predicted bias, over its draws.
#[derive(Debug, Default)]
struct BiasMeasures {
    /// Δᵀ(∇U(w') − ∇U(w)) of its moves where the acceptance was measured.
    curvature: Vec<f64>,
    /// tr(P·Σ_B) where the gradient noise was measured.
    noise: Vec<f64>,
}

impl BiasMeasures {
    /// The predicted relative bias of a chain with estimate `lambda_hat` and step `epsilon`:
    /// (mean curvature + ε·(nβ)²·mean tr(P·Σ_B))/(8·λ̂), the noise term counted once measured.
    fn relative(&self, lambda_hat: f64, epsilon: f64, n_beta: f64) -> Option<f64> {
        if self.curvature.is_empty() || lambda_hat.is_nan() || lambda_hat <= 0.0 {
            return None;
        }
        let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
        let absolute = (mean(&self.curvature) + epsilon * n_beta * n_beta * mean(&self.noise)) / 8.0;
        Some(absolute / lambda_hat)
    }
}

/// The minibatch index stream of one chain: independent of its noise stream.
fn batch_stream(seed: u64, chain_idx: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_BA7C_0000_0000);
    rng.set_stream(chain_idx as u64);
    rng
}

/// The index stream of one chain's gradient-noise measures: independent of its minibatches.
fn noise_batch_stream(seed: u64, chain_idx: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0015_E0BA_7C00_0000);
    rng.set_stream(chain_idx as u64);
    rng
}
