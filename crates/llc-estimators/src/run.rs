//! The one chain loop: every sampler (SGLD, its preconditioned and RMSprop variants, stacked or
//! not, and MALA) is driven through [`llc_sampler::Sampler`] by [`Run::group`], which does burn-in
//! with step-size adaptation, divergence restarts, bias measures, draws, thinning and progress.
//!
//! For each of C chains started at w*, the sampler draws w_1, w_2, … from the localized tempered
//! posterior; after burn-in the draw losses at the kept steps are averaged, and
//! λ̂ = nβ·(mean_t L_t − L_n(w*)) (docs/method.md §1). With the SGLD samplers L_t = L_B(w_t), the
//! minibatch loss of step t, or with [`DrawLoss::Full`] the full-data loss L_n(w_t) at each kept
//! draw (evaluated in chunks of [`FULL_DRAW_LOSS_CHUNK`] samples). With MALA every step uses the
//! whole data set (built once per estimate and reused), so L_t = L_n(w_t) at the chain's point
//! after step t. The reported λ̂ is the mean over chains, with the standard deviation across
//! chains.
//!
//! `mean_acceptance` means the same thing for every sampler, the Metropolis–Hastings acceptance
//! of the moves, but is measured differently: for SGLD it is the mean MALA acceptance
//! *probability* of the SGLD moves, every `acceptance_every` steps after burn-in; for MALA it is
//! the real acceptance *rate*, the fraction of proposals after burn-in that were accepted.
//!
//! Samplers with a step-size bias (SGLD) also report `predicted_bias`, from the curvature of the
//! measured moves and from the minibatch gradient noise, measured every fifth acceptance measure
//! on minibatches of a stream of their own (so the chain's path does not change;
//! docs/method.md §7).

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use llc_sampler::{DiagonalPreconditioner, MalaChain, NoisePlacement, NoiseSource, Sampler, SgldChains};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::adapt::StepSizeAdaptation;
use crate::diagnostics::{effective_sample_size, mean_and_std, split_r_hat};
use crate::{
    ChainResult, DataSource, Diagnostics, Divergence, DrawLoss, EpsilonAdaptation, EstimatorConfig, EstimatorError,
    FULL_DRAW_LOSS_CHUNK, InitLoss, LlcEstimate, Progress, Restart, SamplerKind,
};

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

/// What every chain of an estimate shares: the data, the loss, the settings and L_n(w*).
pub(crate) struct Run<'a, D, L> {
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
    /// Computes L_n(w*) (at copy 0 of a stacked module); the settings are already validated.
    pub(crate) fn start<B, M>(
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

    /// Runs every chain, group by group, and gathers the estimate.
    pub(crate) fn all_chains<B, M>(
        &self,
        model: &M,
        preconditioner: Option<&DiagonalPreconditioner<B>>,
        progress: &mut dyn Progress,
    ) -> Result<LlcEstimate, EstimatorError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
    {
        let config = self.config;
        progress.start((config.n_chains * config.n_steps) as u64);
        let started = Instant::now();
        let mut per_chain = Vec::with_capacity(config.n_chains);
        let mut steps_done = 0usize;
        // MALA's whole data set, built once and reused by every step of every chain.
        let full_batch =
            (config.sampler == SamplerKind::Mala).then(|| self.data.batch(&(0..self.n).collect::<Vec<_>>()));
        for first_chain in (0..config.n_chains).step_by(self.copies) {
            let noise = self.noise(model, first_chain);
            let group = if config.sampler == SamplerKind::Mala {
                let mut chain = MalaChain::new(
                    model.clone(),
                    config.mala_config(self.n),
                    noise.into_iter().next().expect("one source"),
                )?;
                if let Some(p) = preconditioner {
                    chain = chain.with_diagonal_preconditioner(p.clone())?;
                }
                self.group(chain, first_chain, full_batch.as_ref(), progress, &mut steps_done)?
            } else {
                let mut chains = SgldChains::new(model.clone(), self.copies, config.sgld_config(self.n), noise)?;
                if let Some(p) = preconditioner {
                    chains = chains.with_diagonal_preconditioner(p.clone())?;
                }
                self.group(chains, first_chain, None, progress, &mut steps_done)?
            };
            per_chain.extend(group);
        }
        progress.finish();
        Ok(self.finish(per_chain, started, steps_done))
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

    /// Runs the chains `first_chain..first_chain + C` of one sampler (C stacked chains, or one).
    ///
    /// Each chain keeps its own step count, so that a chain restarted after a divergence (back at
    /// w*, ε halved) redoes its burn-in and draws while the others go on; a chain that has taken
    /// all its steps, or is lost, is frozen until the group is done. With the automatic step size
    /// each chain adapts its own ε over the first part of its burn-in. `full_batch` is the whole
    /// data set, for a sampler that [uses it](Sampler::uses_full_data) at every step.
    fn group<B, M, S>(
        &self,
        mut sampler: S,
        first_chain: usize,
        full_batch: Option<&D::Batch>,
        progress: &mut dyn Progress,
        steps_done: &mut usize,
    ) -> Result<Vec<ChainResult>, EstimatorError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        S: Sampler<B, M>,
        L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
    {
        let (config, n) = (self.config, self.n);
        let copies = sampler.chains();
        let biased = sampler.has_step_bias();
        let full_batch = full_batch.filter(|_| sampler.uses_full_data());
        let full_draws = config.draw_loss == DrawLoss::Full && full_batch.is_none();
        let adapt_steps = config.adaptation_steps();
        let adaptation = config.epsilon_adaptation.map(|a| adaptation_for(a, biased));
        let mut batch_rngs: Vec<ChaCha8Rng> = (0..copies).map(|c| batch_stream(config.seed, first_chain + c)).collect();
        let mut noise_rngs: Vec<ChaCha8Rng> =
            (0..copies).map(|c| noise_batch_stream(config.seed, first_chain + c)).collect();
        let mut indices = vec![0usize; copies * config.batch_size];
        let start = |epsilon| ChainRun::new(config, adaptation, epsilon, self.n_beta, self.init_loss);
        let mut runs: Vec<ChainRun> = (0..copies).map(|_| start(config.epsilon)).collect();
        let mut since_report = 0u64;
        loop {
            let running: Vec<usize> = (0..copies).filter(|&c| runs[c].is_running(config.n_steps)).collect();
            if running.is_empty() {
                break;
            }
            for &c in &running {
                runs[c].step += 1;
            }
            let minibatch;
            let batch = match full_batch {
                Some(full) => full,
                None => {
                    for &c in &running {
                        let block = &mut indices[c * config.batch_size..(c + 1) * config.batch_size];
                        block.iter_mut().for_each(|i| *i = batch_rngs[c].random_range(0..n));
                    }
                    minibatch = self.data.batch(&indices);
                    &minibatch
                }
            };
            let measure = running.iter().any(|&c| runs[c].measures_acceptance(config, adapt_steps));
            let report = sampler.step(|m: &M| (self.loss)(m, batch), measure);
            *steps_done += running.len();
            since_report += running.len() as u64;
            // What a kept draw records: the sampler's own full-data draw (MALA), the step's loss,
            // or with `DrawLoss::Full` the full-data loss at the new point (not evaluated when no
            // kept chain's step loss is finite).
            let full = (full_draws
                && running.iter().any(|&c| runs[c].keeps_draw(config) && report.losses[c].is_finite()))
            .then(|| full_data_losses(sampler.module(), copies, self.data, self.loss, FULL_DRAW_LOSS_CHUNK));
            for &c in &running {
                let run = &mut runs[c];
                let step = run.step;
                let kept = run.keeps_draw(config);
                let recorded = match (&report.full_data_draws, &full) {
                    (Some(draws), _) => draws[c],
                    (None, Some(values)) if kept => values[c],
                    _ => report.losses[c],
                };
                match run.check(
                    first_chain + c,
                    [report.losses[c], recorded],
                    self.loss_limit,
                    config,
                    sampler.epsilon(c),
                ) {
                    Verdict::Healthy => {}
                    Verdict::Restart(restart) => {
                        progress.restarted(&restart);
                        sampler.restart(c);
                        sampler.set_epsilon(c, restart.epsilon_after)?;
                        let mut restarts = std::mem::take(&mut run.restarts);
                        restarts.push(restart);
                        *run = ChainRun { restarts, ..start(sampler.epsilon(c)) };
                        continue;
                    }
                    Verdict::Lost(divergence) => {
                        progress.diverged(&divergence);
                        run.divergence = Some(divergence);
                        sampler.freeze(c);
                        // A lost chain's remaining steps count as done for the progress display.
                        since_report += (config.n_steps - step) as u64;
                        continue;
                    }
                }
                if kept {
                    run.trace.push(recorded);
                }
                let measured = report.mala_acceptance.as_ref().map(|a| a[c]);
                if let Some(accepted) = &report.accepted {
                    // An exact sampler's acceptance rate: every proposal after burn-in counts.
                    if step > config.n_burnin {
                        run.acceptance.push(if accepted[c] { 1.0 } else { 0.0 });
                    }
                } else if step > config.n_burnin
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
                        let next = adapter.update(a, curvature, sampler.epsilon(c), report.losses[c]);
                        sampler.set_epsilon(c, next)?;
                    }
                    if step == adapt_steps {
                        // Adaptation ends: the chain keeps the averaged, capped step from here on.
                        sampler.set_epsilon(c, adapter.chosen())?;
                        run.adapter = None;
                    }
                }
                if step == config.n_steps {
                    run.epsilon = sampler.epsilon(c);
                    sampler.freeze(c);
                }
            }
            // Gradient-noise measures at the chains' new points (for the adaptation's cap, and for
            // the predicted bias of the draws), each from two minibatches of a stream of their own,
            // so that measuring leaves the chains' own minibatches as they would be without it.
            let noisy: Vec<usize> =
                running.iter().copied().filter(|&c| biased && runs[c].measures_noise(config, adapt_steps)).collect();
            if !noisy.is_empty() {
                let mut draw = || {
                    for &c in &noisy {
                        let block = &mut indices[c * config.batch_size..(c + 1) * config.batch_size];
                        block.iter_mut().for_each(|i| *i = noise_rngs[c].random_range(0..n));
                    }
                    self.data.batch(&indices)
                };
                let (batch_a, batch_b) = (draw(), draw());
                if let Some(noise) =
                    sampler.gradient_noise(|m: &M| (self.loss)(m, &batch_a), |m: &M| (self.loss)(m, &batch_b))
                {
                    for &c in &noisy {
                        let run = &mut runs[c];
                        if run.step > config.n_burnin && noise.trace[c].is_finite() {
                            run.bias.noise.push(noise.trace[c]);
                        }
                        if let Some(adapter) = run.adapter.as_mut() {
                            sampler.set_epsilon(c, adapter.observe_noise(noise.trace[c]))?;
                        }
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
                    run.epsilon = sampler.epsilon(c);
                }
                self.chain_result(first_chain + c, run)
            })
            .collect())
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

/// The adaptation settings for a sampler with (SGLD) or without (MALA) a step-size bias: the
/// target resolved for it, and no bias cap where there is no bias to cap.
fn adaptation_for(settings: EpsilonAdaptation, step_bias: bool) -> EpsilonAdaptation {
    EpsilonAdaptation {
        target_acceptance: Some(settings.target_for(step_bias)),
        max_bias: if step_bias { settings.max_bias } else { f64::INFINITY },
        ..settings
    }
}

/// What a chain's step means for the chain: go on, restart it, or give it up.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    /// Its losses are finite and within the explosion limit.
    Healthy,
    /// It diverged and has restarts left: back to w* with ε halved.
    Restart(Restart),
    /// It diverged with no restarts left: it stops here.
    Lost(Divergence),
}

/// One chain's bookkeeping within a group: its own step count (since its last start), kept
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
    fn new(
        config: &EstimatorConfig,
        adaptation: Option<EpsilonAdaptation>,
        epsilon: f64,
        n_beta: f64,
        init_loss: f64,
    ) -> Self {
        Self {
            step: 0,
            trace: Vec::with_capacity(config.draws_per_chain()),
            acceptance: Vec::new(),
            restarts: Vec::new(),
            divergence: None,
            adapter: adaptation.map(|settings| StepSizeAdaptation::new(&settings, epsilon, n_beta, init_loss)),
            epsilon,
            bias: BiasMeasures::default(),
        }
    }

    /// The restart policy: whether the losses of its current step (the step's own and the draw
    /// it records) are healthy, or, when one is not finite or exceeds `limit`, whether the chain
    /// (number `chain_idx`, at step size `epsilon`) restarts or is lost.
    fn check(&self, chain_idx: usize, losses: [f64; 2], limit: f64, config: &EstimatorConfig, epsilon: f64) -> Verdict {
        let Some(value) = losses.into_iter().find(|v| !v.is_finite() || *v > limit) else {
            return Verdict::Healthy;
        };
        let (step, loss) = (self.step, format!("{value}"));
        if self.restarts.len() < config.max_restarts {
            Verdict::Restart(Restart { chain_idx, step, loss, epsilon_before: epsilon, epsilon_after: epsilon / 2.0 })
        } else {
            Verdict::Lost(Divergence { chain_idx, step, loss })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The restart policy on its own: healthy losses pass, a NaN, ∞ or exploded loss restarts the
    /// chain with ε halved while restarts remain, and is a divergence after that.
    #[test]
    fn the_restart_policy_restarts_until_the_restarts_run_out() {
        let config = EstimatorConfig { max_restarts: 1, ..Default::default() };
        let mut run = ChainRun::new(&config, None, 1e-6, 100.0, 0.0);
        run.step = 7;
        assert_eq!(run.check(3, [0.5, 0.5], 10.0, &config, 1e-6), Verdict::Healthy);
        for bad in [[f64::NAN, 0.5], [0.5, f64::INFINITY], [11.0, 0.5]] {
            match run.check(3, bad, 10.0, &config, 1e-6) {
                Verdict::Restart(r) => {
                    assert_eq!((r.chain_idx, r.step, r.epsilon_before, r.epsilon_after), (3, 7, 1e-6, 5e-7));
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        run.restarts.push(Restart {
            chain_idx: 3,
            step: 7,
            loss: "NaN".into(),
            epsilon_before: 1e-6,
            epsilon_after: 5e-7,
        });
        assert_eq!(
            run.check(3, [f64::NAN, 0.5], 10.0, &config, 5e-7),
            Verdict::Lost(Divergence { chain_idx: 3, step: 7, loss: "NaN".into() })
        );
    }
}
