//! One SGLD chain over any burn module.
//!
//! The update (paper, arXiv 2308.12108 v2, the SGLD step with a diagonal preconditioner P) is
//!
//! w ← w − (εP/2)·(nβ·∇L_B(w) + γ·(w − w*)) + √(εP)·ξ,   ξ ~ N(0, I),
//!
//! with P = 1 (plain SGLD), a fixed [`DiagonalPreconditioner`], or RMSprop's G = 1/(√V + a). Every
//! step computes the update on the inner (non-autodiff) backend and re-wraps the result as a fresh
//! leaf tensor, so the autodiff graph never grows across steps and memory stays flat.
//!
//! On request a step also reports the Metropolis–Hastings acceptance probability that MALA would
//! give the move (the authors' health check): with U(w) = nβ·L_B(w) + (γ/2)‖w − w*‖² on the same
//! minibatch and the Gaussian proposal q(w'|w) = N(w − (εP/2)∇U(w), εP),
//! a = min(1, exp(U(w) − U(w') + ln q(w|w') − ln q(w'|w))).
//! With RMSprop the reverse proposal uses the forward step's G (an approximation; the exact MALA
//! sampler with a fixed P is [`crate::MalaChain`]).

use std::collections::HashMap;

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

use crate::params::{Inner, ParamMap, collect_params};
use crate::{DiagonalPreconditioner, NoiseSource, RmsPropVariant, SamplerError, SgldConfig};

/// What one step observed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// The minibatch loss L_B(w) at the point the step started from (NaN or ∞ if it diverged; the
    /// chain then does not move).
    pub loss: f64,
    /// The MALA acceptance probability of this move, when it was asked for.
    pub mala_acceptance: Option<f64>,
}

/// An SGLD chain: the current module, the anchor w*, preconditioner state and a noise stream.
pub struct SgldChain<B: AutodiffBackend, M: AutodiffModule<B>> {
    module: Option<M>,
    anchor: ParamMap<Inner<B>>,
    diagonal: Option<DiagonalPreconditioner<B>>,
    rms_mean_square: ParamMap<Inner<B>>,
    config: SgldConfig,
    noise: NoiseSource,
    device: burn::tensor::Device<Inner<B>>,
    steps_taken: u64,
}

impl<B: AutodiffBackend, M: AutodiffModule<B>> SgldChain<B, M> {
    /// Starts a chain at `module`, which is also the anchor w* of the localizing prior.
    pub fn new(module: M, config: SgldConfig, noise: NoiseSource) -> Result<Self, SamplerError> {
        config.validate()?;
        let params = collect_params::<B, M>(&module);
        let device = match params.first() {
            Some((_, t)) => t.device(),
            None => return Err(SamplerError::PreconditionerMismatch("the module has no float parameters".into())),
        };
        let rms_mean_square = match config.rmsprop {
            Some(rms) => {
                let start = if rms.variant == RmsPropVariant::BiasCorrected { 1.0 } else { 0.0 };
                params.iter().map(|(id, t)| (*id, t.zeros_like().add_scalar(start))).collect()
            }
            None => HashMap::new(),
        };
        Ok(Self {
            module: Some(module),
            anchor: params.into_iter().collect(),
            diagonal: None,
            rms_mean_square,
            config,
            noise,
            device,
            steps_taken: 0,
        })
    }

    /// Uses a fixed diagonal preconditioner P (not combinable with RMSprop).
    pub fn with_diagonal_preconditioner(mut self, p: DiagonalPreconditioner<B>) -> Result<Self, SamplerError> {
        if self.config.rmsprop.is_some() {
            return Err(SamplerError::PreconditionerMismatch(
                "a fixed diagonal preconditioner cannot be combined with RMSprop".into(),
            ));
        }
        if p.factors.len() != self.anchor.len() || !p.factors.keys().all(|id| self.anchor.contains_key(id)) {
            return Err(SamplerError::PreconditionerMismatch("it was built for another module".into()));
        }
        self.diagonal = Some(p);
        Ok(self)
    }

    /// The current point w of the chain.
    pub fn module(&self) -> &M {
        self.module.as_ref().expect("the module is only absent during a step")
    }

    /// Ends the chain and returns its current point.
    pub fn into_module(mut self) -> M {
        self.module.take().expect("the module is only absent during a step")
    }

    /// Steps taken so far (divergent steps, which do not move, included).
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// The sampler's settings.
    pub fn config(&self) -> &SgldConfig {
        &self.config
    }

    /// Takes one SGLD step. `loss` evaluates the mean minibatch loss L_B of a module; it is called
    /// once (twice with `with_acceptance`, on the same minibatch) and must be deterministic.
    ///
    /// If L_B(w) is not finite the chain stays where it is and the report carries the bad value.
    pub fn step<F>(&mut self, loss: F, with_acceptance: bool) -> StepReport
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        self.steps_taken += 1;
        let module = self.module.take().expect("the module is only absent during a step");
        let loss_tensor = loss(&module);
        let loss_value: f64 = loss_tensor.clone().into_scalar().elem();
        if !loss_value.is_finite() {
            self.module = Some(module);
            return StepReport { loss: loss_value, mala_acceptance: None };
        }
        let grads = loss_tensor.backward();
        let rms = self.config.rmsprop.map(|rms| {
            let t = self.steps_taken as i32;
            let correction = match rms.variant {
                RmsPropVariant::Devinterp => 1.0,
                RmsPropVariant::BiasCorrected => 1.0 - rms.alpha.powi(t),
            };
            (rms.alpha, rms.stabilizer, correction)
        });
        let mut mapper = StepMapper::<B> {
            grads: &grads,
            anchor: &self.anchor,
            diagonal: self.diagonal.as_ref(),
            rms_mean_square: &mut self.rms_mean_square,
            rms,
            config: &self.config,
            noise: &mut self.noise,
            device: &self.device,
            record: with_acceptance.then(MoveRecord::default),
        };
        let moved = module.map(&mut mapper);
        let record = mapper.record.take();
        drop(grads);

        let mala_acceptance = record.map(|record| self.acceptance(&moved, &loss, loss_value, record));
        self.module = Some(moved);
        StepReport { loss: loss_value, mala_acceptance }
    }

    /// MH acceptance probability of the move just made (see the module docs).
    fn acceptance<F>(&self, moved: &M, loss: &F, loss_before: f64, record: MoveRecord<B>) -> f64
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        let loss_tensor = loss(moved);
        let loss_after: f64 = loss_tensor.clone().into_scalar().elem();
        if !loss_after.is_finite() {
            return 0.0;
        }
        let grads = loss_tensor.backward();
        let mut reverse = ReverseVisitor::<B> {
            grads: &grads,
            anchor: &self.anchor,
            config: &self.config,
            record: &record,
            log_ratio_terms: 0.0,
        };
        moved.visit(&mut reverse);
        let log_ratio = self.config.n_beta * (loss_before - loss_after) + reverse.log_ratio_terms;
        if log_ratio.is_nan() { 0.0 } else { log_ratio.exp().min(1.0) }
    }
}

/// Where a parameter's move started: w, ∇U(w), and the effective preconditioner P (None: P = 1).
struct StartPoint<B: AutodiffBackend> {
    w: Tensor<Inner<B>, 1>,
    grad_u: Tensor<Inner<B>, 1>,
    precond: Option<Tensor<Inner<B>, 1>>,
}

/// What the forward move needs to remember for the acceptance probability.
struct MoveRecord<B: AutodiffBackend> {
    /// Per parameter: where the move started.
    start: HashMap<ParamId, StartPoint<B>>,
}

impl<B: AutodiffBackend> Default for MoveRecord<B> {
    fn default() -> Self {
        Self { start: HashMap::new() }
    }
}

struct StepMapper<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    anchor: &'a ParamMap<Inner<B>>,
    diagonal: Option<&'a DiagonalPreconditioner<B>>,
    rms_mean_square: &'a mut ParamMap<Inner<B>>,
    /// (α, a, bias correction 1 − αᵗ or 1) when RMSprop is on.
    rms: Option<(f64, f64, f64)>,
    config: &'a SgldConfig,
    noise: &'a mut NoiseSource,
    device: &'a burn::tensor::Device<Inner<B>>,
    record: Option<MoveRecord<B>>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for StepMapper<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        if !tensor.is_require_grad() {
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let dims = tensor.dims();
        let numel: usize = dims.iter().product();
        let grad = tensor.grad(self.grads).map(|g| g.reshape([numel]));
        let w = tensor.inner().reshape([numel]);
        let anchor = self.anchor.get(&id).expect("every parameter of the chain's module has an anchor");
        let cfg = self.config;

        // ∇U(w) = nβ∇L_B(w) + γ(w − w*), with the loss gradient taken as 0 if the loss ignores w.
        let diff = w.clone() - anchor.clone();
        let mut grad_u = diff.clone().mul_scalar(cfg.gamma);
        if let Some(g) = &grad {
            grad_u = grad_u + g.clone().mul_scalar(cfg.n_beta);
        }

        // The effective preconditioner P for this parameter (None means 1).
        let precond = if let Some((alpha, stabilizer, correction)) = self.rms {
            let g = grad.clone().unwrap_or_else(|| w.zeros_like());
            let v = self.rms_mean_square.remove(&id).unwrap_or_else(|| w.zeros_like());
            let v = v.mul_scalar(alpha) + g.square().mul_scalar(1.0 - alpha);
            let g_factor = v.clone().div_scalar(correction).sqrt().add_scalar(stabilizer).recip();
            self.rms_mean_square.insert(id, v);
            Some(g_factor)
        } else {
            self.diagonal.and_then(|d| d.factors.get(&id).cloned())
        };

        let xi = self.noise.normal::<Inner<B>>(numel, self.device);
        let half_eps = 0.5 * cfg.epsilon;
        let sqrt_eps = cfg.epsilon.sqrt();
        let moved = match &precond {
            None => w.clone() - grad_u.clone().mul_scalar(half_eps) + xi.clone().mul_scalar(sqrt_eps),
            Some(p) => {
                w.clone() - (grad_u.clone() * p.clone()).mul_scalar(half_eps)
                    + (xi.clone() * p.clone().sqrt()).mul_scalar(sqrt_eps)
            }
        };

        if let Some(record) = self.record.as_mut() {
            record.start.insert(id, StartPoint { w, grad_u, precond });
        }
        Param::from_mapped_value(id, Tensor::from_inner(moved.reshape(dims)).require_grad(), mapper)
    }
}

/// Accumulates, over parameters, Σ[δ(g + g')/2 + (εP/8)(g² − g'²) − (γ/2)δ(w + w' − 2w*)]: the
/// proposal-density ratio plus the prior's part of U(w) − U(w'), in a form without cancellation.
struct ReverseVisitor<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    anchor: &'a ParamMap<Inner<B>>,
    config: &'a SgldConfig,
    record: &'a MoveRecord<B>,
    log_ratio_terms: f64,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for ReverseVisitor<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(start) = self.record.start.get(&param.id) else { return };
        let tensor = param.val();
        let numel = tensor.shape().num_elements();
        let grad = tensor.grad(self.grads).map(|g| g.reshape([numel]));
        let moved = tensor.inner().reshape([numel]);
        let anchor = self.anchor.get(&param.id).expect("every parameter has an anchor");
        let cfg = self.config;
        let mut grad_u_next = (moved.clone() - anchor.clone()).mul_scalar(cfg.gamma);
        if let Some(g) = grad {
            grad_u_next = grad_u_next + g.mul_scalar(cfg.n_beta);
        }
        let delta = moved.clone() - start.w.clone();
        let g = start.grad_u.clone();
        let curvature = g.clone().square() - grad_u_next.clone().square();
        let curvature = match &start.precond {
            None => curvature,
            Some(p) => curvature * p.clone(),
        };
        let terms = (delta.clone() * (g + grad_u_next)).mul_scalar(0.5) + curvature.mul_scalar(cfg.epsilon / 8.0)
            - (delta * (start.w.clone() + moved - anchor.clone().mul_scalar(2.0))).mul_scalar(0.5 * cfg.gamma);
        self.log_ratio_terms += terms.sum().into_scalar().elem::<f64>();
    }
}
