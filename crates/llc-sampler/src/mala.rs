//! One full-batch MALA chain (Metropolis-adjusted Langevin algorithm) over any burn module.
//!
//! MALA is the exact counterpart of SGLD that the paper uses as its reference sampler (arXiv
//! 2402.03698, merged into arXiv 2308.12108 v2: the SGLD-versus-MALA experiment; docs/method.md §2, MALA).
//! It targets the same localized tempered posterior p(w) ∝ exp(−U(w)), with the potential
//!
//! U(w) = nβ·L_n(w) + (γ/2)·‖w − w*‖²,
//!
//! where L_n is the mean loss over the *whole* data set (no minibatches), w* the anchor (the point
//! the chain starts from), `n_beta` the inverse temperature times n (nβ), `gamma` the localization
//! strength (γ) and `epsilon` the step size (ε). One step
//!
//! 1. proposes w' = w − (εP/2)·∇U(w) + √(εP)·ξ, ξ ~ N(0, I), with P a fixed
//!    [`DiagonalPreconditioner`] (P = 1 when none is given);
//! 2. accepts w' with probability a = min(1, exp(U(w) − U(w') + ln q(w|w') − ln q(w'|w))), where
//!    q(y|x) = N(y; x − (εP/2)∇U(x), εP) is the Gaussian proposal density, so that
//!    ln q(w'|w) = −‖ξ‖²/2 and ln q(w|w') = −Σ (w − w' + (εP/2)∇U(w'))² / (2εP) up to the same
//!    constant; otherwise the chain stays at w (the old module is kept).
//!
//! Unlike SGLD, the chain's stationary law is the posterior itself for every ε: there is no
//! discretization bias, only slower mixing (more rejections) when ε is large.
//!
//! **Numerics.** The two proposal densities and the two potentials are each of size O(d) while the
//! log-ratio that decides the move is O(1), so the ratio is evaluated in a cancellation-free form
//! that is algebraically identical to the formula above. With δ = w' − w (the move actually made, in
//! the parameters' own precision), g = ∇U(w) and g' = ∇U(w'):
//!
//! ln q(w|w') − ln q(w'|w) = Σ [ δ·(g + g')/2 + (εP/8)·(g² − g'²) ],
//! (γ/2)(‖w − w*‖² − ‖w' − w*‖²) = −Σ (γ/2)·δ·(w + w' − 2w*),
//!
//! and U(w) − U(w') = nβ·(L_n(w) − L_n(w')) plus the second line. The elementwise terms are computed
//! on the backend and summed on the host in `f64`, parameter by parameter. What remains is the
//! precision of the loss values themselves: with d = 10⁶ parameters in f32, nβ·(L_n(w) − L_n(w'))
//! is off by about 10⁻³, whereas evaluating the two densities separately in f32 (each about
//! ‖ξ‖²/2 = 5·10⁵) leaves errors of order 1 in the log-ratio.
//!
//! **Cost.** The chain caches L_n(w) and ∇U(w) at its current point, so each step costs one forward
//! and one backward pass (at the proposal); only the first step evaluates the starting point too.
//! The loss closure must therefore be the same deterministic function at every step. Updates run on
//! the inner backend and are re-wrapped as fresh leaf tensors, so the autodiff graph never grows.
//!
//! **Failures.** A proposal whose loss is NaN or ∞ is rejected (the report carries its loss). If the
//! loss at the current point is not finite (possible only at the start, since the chain only moves
//! to points with a finite loss), the step reports that value as its loss and the chain stays, as
//! [`crate::SgldChain`] does; the caller treats it as a divergence.

use std::collections::HashMap;

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

use crate::error::PreconditionerMismatch;
use crate::params::{Inner, ParamMap, collect_params};
use crate::{ChainsStepReport, DiagonalPreconditioner, GradientNoise, MalaConfig, NoiseSource, Sampler, SamplerError};

/// What one MALA step observed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MalaStepReport {
    /// The full-data loss L_n at the chain's point after the step: the draw (L_n(w') if the proposal
    /// was accepted, L_n(w) otherwise). NaN or ∞ only when the current point itself diverged; the
    /// chain then did not move and made no proposal.
    pub loss: f64,
    /// Whether the proposal was accepted.
    pub accepted: bool,
    /// The Metropolis–Hastings acceptance probability of the proposal (0 when it was not finite, or
    /// when no proposal was made).
    pub acceptance_probability: f64,
    /// L_n(w') at the proposal (NaN or ∞ if it blew up, which rejects it; NaN when no proposal was
    /// made).
    pub proposal_loss: f64,
}

/// L_n and ∇U = nβ∇L_n + γ(w − w*) at one point, per parameter (flattened, inner backend).
struct PointState<B: AutodiffBackend> {
    loss: f64,
    grad_u: ParamMap<Inner<B>>,
}

/// A MALA chain: the current module, the anchor w*, an optional fixed preconditioner, a noise
/// stream and the cached state at the current point.
pub struct MalaChain<B: AutodiffBackend, M: AutodiffModule<B>> {
    module: M,
    /// The starting point w*, where [`MalaChain::restart`] puts the chain back.
    origin: M,
    /// A frozen chain makes no more proposals.
    frozen: bool,
    anchor: ParamMap<Inner<B>>,
    diagonal: Option<DiagonalPreconditioner<B>>,
    config: MalaConfig,
    noise: NoiseSource,
    device: burn::tensor::Device<Inner<B>>,
    current: Option<PointState<B>>,
    steps_taken: u64,
    proposals: u64,
    accepted: u64,
}

impl<B: AutodiffBackend, M: AutodiffModule<B>> MalaChain<B, M> {
    /// Starts a chain at `module`, which is also the anchor w* of the localizing prior.
    pub fn new(module: M, config: MalaConfig, noise: NoiseSource) -> Result<Self, SamplerError> {
        config.validate()?;
        let params = collect_params::<B, M>(&module);
        let device = match params.first() {
            Some((_, t)) => t.device(),
            None => return Err(SamplerError::NoParameters),
        };
        Ok(Self {
            origin: module.clone(),
            module,
            frozen: false,
            anchor: params.into_iter().collect(),
            diagonal: None,
            config,
            noise,
            device,
            current: None,
            steps_taken: 0,
            proposals: 0,
            accepted: 0,
        })
    }

    /// Uses a fixed diagonal preconditioner P in the proposal (and in its density).
    pub fn with_diagonal_preconditioner(mut self, p: DiagonalPreconditioner<B>) -> Result<Self, SamplerError> {
        if p.factors.len() != self.anchor.len() || !p.factors.keys().all(|id| self.anchor.contains_key(id)) {
            return Err(SamplerError::Preconditioner(PreconditionerMismatch::OtherModule));
        }
        self.diagonal = Some(p);
        Ok(self)
    }

    /// The current point w of the chain.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// Ends the chain and returns its current point.
    pub fn into_module(self) -> M {
        self.module
    }

    /// Steps taken so far (steps at a divergent point, which make no proposal, included).
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// Proposals made so far (one per step, except at a divergent point).
    pub fn proposals(&self) -> u64 {
        self.proposals
    }

    /// Proposals accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// The fraction of proposals accepted so far; `None` before the first proposal.
    pub fn acceptance_rate(&self) -> Option<f64> {
        (self.proposals > 0).then(|| self.accepted as f64 / self.proposals as f64)
    }

    /// The sampler's settings (`epsilon` is the current step size).
    pub fn config(&self) -> &MalaConfig {
        &self.config
    }

    /// Sets the step size ε of the next proposals (finite and > 0).
    pub fn set_epsilon(&mut self, epsilon: f64) -> Result<(), SamplerError> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(SamplerError::InvalidSetting { name: "epsilon", value: epsilon, expected: "finite and > 0" });
        }
        self.config.epsilon = epsilon;
        Ok(())
    }

    /// Puts the chain back at its starting point w*, as if it had just started (the cached state
    /// is dropped; the noise stream carries on, so the chain takes a new path), and unfreezes it.
    pub fn restart(&mut self) {
        self.module = self.origin.clone();
        self.current = None;
        self.frozen = false;
    }

    /// Stops the chain for good: its later steps make no proposal, draw no noise and do not count
    /// as steps taken (a [`MalaChain::restart`] resumes it).
    pub fn freeze(&mut self) {
        self.frozen = true;
    }

    /// Takes one MALA step. `loss` evaluates the full-data mean loss L_n of a module; it must be the
    /// same deterministic function at every step of the chain (its value and gradient at the current
    /// point are cached). It is called once per step (twice on the first).
    pub fn step<F>(&mut self, loss: F) -> MalaStepReport
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        if self.frozen {
            // No proposal and no draw: the chain stays, and reports its point's loss if known.
            let loss = self.current.as_ref().map_or(f64::NAN, |state| state.loss);
            return MalaStepReport { loss, accepted: false, acceptance_probability: 0.0, proposal_loss: f64::NAN };
        }
        self.steps_taken += 1;
        let current = match self.current.take() {
            Some(state) => state,
            None => match self.evaluate(&self.module, &loss) {
                Ok(state) => state,
                Err(bad) => {
                    return MalaStepReport {
                        loss: bad,
                        accepted: false,
                        acceptance_probability: 0.0,
                        proposal_loss: f64::NAN,
                    };
                }
            },
        };

        let mut mapper = ProposalMapper::<B> {
            grad_u: &current.grad_u,
            diagonal: self.diagonal.as_ref(),
            epsilon: self.config.epsilon,
            noise: &mut self.noise,
            device: &self.device,
            moves: Vec::new(),
        };
        let proposal = self.module.clone().map(&mut mapper);
        let moves = mapper.moves;
        let coin = self.noise.uniform::<Inner<B>>(&self.device);
        self.proposals += 1;

        let (proposal_loss, acceptance_probability, next) = match self.evaluate(&proposal, &loss) {
            Err(bad) => (bad, 0.0, None),
            Ok(next) => {
                let log_ratio = self.log_ratio(&current, &next, &moves);
                let probability = if log_ratio.is_nan() { 0.0 } else { log_ratio.exp().min(1.0) };
                (next.loss, probability, Some(next))
            }
        };
        // coin ∈ [0, 1): a probability of 1 always accepts and 0 never does.
        let accepted = coin < acceptance_probability;
        let state = match next {
            Some(next) if accepted => {
                self.module = proposal;
                self.accepted += 1;
                next
            }
            _ => current,
        };
        let report = MalaStepReport { loss: state.loss, accepted, acceptance_probability, proposal_loss };
        self.current = Some(state);
        report
    }

    /// L_n and ∇U at `module`, or the loss value if it is not finite.
    fn evaluate<F>(&self, module: &M, loss: &F) -> Result<PointState<B>, f64>
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        let loss_tensor = loss(module);
        let value: f64 = loss_tensor.clone().into_scalar().elem();
        if !value.is_finite() {
            return Err(value);
        }
        let grads = loss_tensor.backward();
        let mut visitor =
            GradVisitor::<B> { grads: &grads, anchor: &self.anchor, config: &self.config, out: HashMap::new() };
        module.visit(&mut visitor);
        Ok(PointState { loss: value, grad_u: visitor.out })
    }

    /// ln of the MH ratio, U(w) − U(w') + ln q(w|w') − ln q(w'|w), in the cancellation-free form of
    /// the module docs, summed in f64.
    fn log_ratio(&self, current: &PointState<B>, next: &PointState<B>, moves: &[(ParamId, Move<B>)]) -> f64 {
        let MalaConfig { epsilon, gamma, n_beta } = self.config;
        let mut total = n_beta * (current.loss - next.loss);
        for (id, (start, moved, precond)) in moves {
            let g = current.grad_u.get(id).expect("a moved parameter has a gradient at its start").clone();
            let g_next = next.grad_u.get(id).expect("a moved parameter has a gradient at the proposal").clone();
            let anchor = self.anchor.get(id).expect("every parameter has an anchor").clone();
            let delta = moved.clone() - start.clone();
            let curvature = g.clone().square() - g_next.clone().square();
            let curvature = match precond {
                None => curvature,
                Some(p) => curvature * p.clone(),
            };
            let terms = (delta.clone() * (g + g_next)).mul_scalar(0.5) + curvature.mul_scalar(epsilon / 8.0)
                - (delta * (start.clone() + moved.clone() - anchor.mul_scalar(2.0))).mul_scalar(0.5 * gamma);
            total += terms.into_data().iter::<f64>().sum::<f64>();
        }
        total
    }
}

/// MALA as one chain of the common [`Sampler`] interface: every step uses the whole data set, its
/// draw is L_n at the chain's point after the step, and the acceptance probability (and outcome)
/// is known at every step. A frozen chain reports a NaN loss and does not move.
impl<B: AutodiffBackend, M: AutodiffModule<B>> Sampler<B, M> for MalaChain<B, M> {
    fn chains(&self) -> usize {
        1
    }

    fn module(&self) -> &M {
        &self.module
    }

    fn uses_full_data(&self) -> bool {
        true
    }

    fn has_step_bias(&self) -> bool {
        false
    }

    fn step<F>(&mut self, loss: F, _measure_acceptance: bool) -> ChainsStepReport
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        if self.frozen {
            return ChainsStepReport {
                losses: vec![f64::NAN],
                moved: vec![false],
                mala_acceptance: None,
                move_curvature: None,
                accepted: None,
                full_data_draws: None,
            };
        }
        let report = MalaChain::step(self, loss);
        // A proposal was made unless the chain's own point diverged (a non-finite loss), in which
        // case the probability carries no information.
        let proposed = report.loss.is_finite();
        ChainsStepReport {
            losses: vec![report.loss],
            moved: vec![proposed],
            mala_acceptance: Some(vec![if proposed { report.acceptance_probability } else { f64::NAN }]),
            move_curvature: None,
            accepted: Some(vec![report.accepted]),
            full_data_draws: Some(vec![report.loss]),
        }
    }

    fn epsilon(&self, _chain: usize) -> f64 {
        self.config.epsilon
    }

    fn set_epsilon(&mut self, _chain: usize, epsilon: f64) -> Result<(), SamplerError> {
        MalaChain::set_epsilon(self, epsilon)
    }

    fn restart(&mut self, _chain: usize) {
        MalaChain::restart(self);
    }

    fn freeze(&mut self, _chain: usize) {
        MalaChain::freeze(self);
    }

    fn gradient_noise<F, G>(&self, _loss_a: F, _loss_b: G) -> Option<GradientNoise>
    where
        F: Fn(&M) -> Tensor<B, 1>,
        G: Fn(&M) -> Tensor<B, 1>,
    {
        None
    }
}

/// One parameter's move: where it started, where it was proposed to go, and its preconditioner
/// (None means P = 1).
type Move<B> = (Tensor<Inner<B>, 1>, Tensor<Inner<B>, 1>, Option<Tensor<Inner<B>, 1>>);

/// Collects ∇U = nβ∇L_n + γ(w − w*) for every trainable parameter (the loss gradient taken as 0 for
/// a parameter the loss ignores).
struct GradVisitor<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    anchor: &'a ParamMap<Inner<B>>,
    config: &'a MalaConfig,
    out: ParamMap<Inner<B>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for GradVisitor<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let tensor = param.val();
        if !tensor.is_require_grad() {
            return;
        }
        let numel = tensor.shape().num_elements();
        let grad = tensor.grad(self.grads).map(|g| g.reshape([numel]));
        let w = tensor.inner().reshape([numel]);
        let anchor = self.anchor.get(&param.id).expect("every parameter of the chain's module has an anchor");
        let mut grad_u = (w - anchor.clone()).mul_scalar(self.config.gamma);
        if let Some(g) = grad {
            grad_u = grad_u + g.mul_scalar(self.config.n_beta);
        }
        self.out.insert(param.id, grad_u);
    }
}

/// Builds the proposal w' = w − (εP/2)∇U(w) + √(εP)·ξ from the cached ∇U(w), as fresh leaves.
struct ProposalMapper<'a, B: AutodiffBackend> {
    grad_u: &'a ParamMap<Inner<B>>,
    diagonal: Option<&'a DiagonalPreconditioner<B>>,
    epsilon: f64,
    noise: &'a mut NoiseSource,
    device: &'a burn::tensor::Device<Inner<B>>,
    /// In visit order, so that the f64 sum of the log-ratio is the same on every run.
    moves: Vec<(ParamId, Move<B>)>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for ProposalMapper<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad_u) = self.grad_u.get(&id).filter(|_| tensor.is_require_grad()) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let dims = tensor.dims();
        let numel: usize = dims.iter().product();
        let w = tensor.inner().reshape([numel]);
        let precond = self.diagonal.and_then(|d| d.factors.get(&id).cloned());
        let xi = self.noise.normal::<Inner<B>>(numel, self.device);
        let (half_eps, sqrt_eps) = (0.5 * self.epsilon, self.epsilon.sqrt());
        let moved = match &precond {
            None => w.clone() - grad_u.clone().mul_scalar(half_eps) + xi.mul_scalar(sqrt_eps),
            Some(p) => {
                w.clone() - (grad_u.clone() * p.clone()).mul_scalar(half_eps)
                    + (xi * p.clone().sqrt()).mul_scalar(sqrt_eps)
            }
        };
        self.moves.push((id, (w, moved.clone(), precond)));
        Param::from_mapped_value(id, Tensor::from_inner(moved.reshape(dims)).require_grad(), mapper)
    }
}
