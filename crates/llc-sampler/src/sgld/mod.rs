//! SGLD over any burn module: one chain ([`SgldChain`]) or C chains stacked along a leading
//! dimension of every parameter ([`SgldChains`]).
//!
//! The update (paper, arXiv 2308.12108 v2, the SGLD step with a diagonal preconditioner P) is
//!
//! w ← w − (εP/2)·(nβ·∇L_B(w) + γ·(w − w*)) + √(εP)·ξ,   ξ ~ N(0, I),
//!
//! with P = 1 (plain SGLD), a fixed [`DiagonalPreconditioner`], or RMSprop's G = 1/(√V + a).
//!
//! **Stacked chains.** A small network spends most of a step in per-operation overhead, not in
//! arithmetic. [`SgldChains`] runs C chains as one module whose parameters all carry a leading
//! chain dimension of size C (e.g. C weight matrices as one `[C, fan_in, fan_out]` tensor, applied
//! with a batched matmul), so that one forward, one backward and one update serve all C chains.
//! The loss closure returns the C chains' minibatch losses as a `[C]` tensor; the step
//! differentiates their sum, whose gradient restricted to chain c's slice is chain c's own
//! gradient, since the chains share no parameters. Each chain keeps its own noise stream, step size
//! and divergence state, so stacked chain c draws exactly the noise that an unstacked chain c would.
//!
//! **Where the update runs.** With host noise ([`NoiseSource::host`], the CPU default) the update
//! is one fused pass over each parameter on the host: the parameter, its gradient, w* and the
//! preconditioner are read once and the noise is drawn inside the loop, instead of a dozen tensor
//! operations that each allocate and traverse d values. With backend noise
//! ([`NoiseSource::Backend`], for accelerators) the update is a short sequence of tensor operations
//! on the device, which a fusing backend compiles into one kernel. Both compute the same rule
//! ([`SgldChains::with_device_update`] forces the second with host noise, e.g. to compare them).
//! Either way the result is re-wrapped as a fresh leaf tensor, so the autodiff graph never grows
//! across steps and memory stays flat.
//!
//! On request a step also reports the Metropolis–Hastings acceptance probability that MALA would
//! give the move (the authors' health check): with U(w) = nβ·L_B(w) + (γ/2)‖w − w*‖² on the same
//! minibatch and the Gaussian proposal q(w'|w) = N(w − (εP/2)∇U(w), εP),
//! a = min(1, exp(U(w) − U(w') + ln q(w|w') − ln q(w'|w))), evaluated per chain in the
//! cancellation-free form of [`crate::MalaChain`]. With RMSprop the reverse proposal uses the
//! forward step's G (an approximation; the exact MALA sampler with a fixed P is
//! [`crate::MalaChain`]).
//!
//! Two more measures serve the step-size bias (see `EpsilonAdaptation` in the estimators crate):
//! with the acceptance, a step reports its move's curvature Δᵀ(∇U(w') − ∇U(w)) ≈ ε·tr(P·∇²U)
//! ([`ChainsStepReport::move_curvature`]), and [`SgldChains::gradient_noise`] estimates
//! tr(P·Σ_B), the minibatch gradient noise at the current point, from two independent minibatches.

mod device;
mod host;
mod measure;

use std::collections::HashMap;

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};

use self::device::{DeviceMapper, DeviceParam, DeviceStart, keep_unmoved};
use self::host::{HostMapper, HostParam, HostStart};
use crate::error::{ChainMismatch, PreconditionerMismatch};
use crate::noise::HostNormal;
use crate::params::{Inner, collect_params};
use crate::{DiagonalPreconditioner, NoiseSource, RmsPropVariant, Sampler, SamplerError, SgldConfig};

/// What one step of a single chain observed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// The minibatch loss L_B(w) at the point the step started from (NaN or ∞ if it diverged; the
    /// chain then does not move).
    pub loss: f64,
    /// The MALA acceptance probability of this move, when it was asked for.
    pub mala_acceptance: Option<f64>,
}

/// What one step of stacked chains observed, chain by chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainsStepReport {
    /// Each chain's minibatch loss L_B(w) at the point the step started from.
    pub losses: Vec<f64>,
    /// Whether each chain moved: not frozen and with a finite loss (a chain with a NaN or ∞ loss
    /// stays where it is and draws no noise).
    pub moved: Vec<bool>,
    /// When asked for: each chain's MALA acceptance probability of its move (NaN for a chain that
    /// did not move).
    pub mala_acceptance: Option<Vec<f64>>,
    /// With the acceptance: each chain's Δᵀ(∇U_B(w') − ∇U_B(w)) for its move Δ = w' − w, on the
    /// step's minibatch. Since the move is mostly its injected noise √(εP)·ξ, this is about
    /// ε·tr(P·∇²U_B): the curvature the step sees, in units of the step (NaN for a chain that did
    /// not move).
    pub move_curvature: Option<Vec<f64>>,
    /// For a sampler with an exact accept/reject step (MALA): whether each chain's proposal was
    /// accepted. `None` for SGLD.
    pub accepted: Option<Vec<bool>>,
    /// For a sampler whose steps use the whole data set (MALA): each chain's full-data loss L_n at
    /// its point after the step, its draw. `None` for SGLD, whose draw is its step's minibatch
    /// loss.
    pub full_data_draws: Option<Vec<f64>>,
}

/// What [`SgldChains::gradient_noise`] measured at the chains' current point, chain by chain.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientNoise {
    /// ½·Σᵢ Pᵢ·(g_a,i − g_b,i)², where g_a and g_b are the gradients of two independent minibatch
    /// losses at the same point and P is the step's current preconditioner (1 for plain SGLD). Since
    /// E‖g_a − g_b‖² = 2·tr Σ_B for independent minibatches, this is an unbiased estimate of
    /// tr(P·Σ_B), the minibatch gradient noise that a step feeds into the chain.
    pub trace: Vec<f64>,
    /// The mean of the two minibatch losses at the point (an unbiased estimate of L_n(w)).
    pub loss: Vec<f64>,
}

/// One SGLD chain: the current module, the anchor w*, preconditioner state and a noise stream.
///
/// This is [`SgldChains`] with one chain and no stacking: the module is used as it is and the loss
/// closure returns a one-element tensor, as burn's `mean()` does.
pub struct SgldChain<B: AutodiffBackend, M: AutodiffModule<B>> {
    chains: SgldChains<B, M>,
}

impl<B: AutodiffBackend, M: AutodiffModule<B>> SgldChain<B, M> {
    /// Starts a chain at `module`, which is also the anchor w* of the localizing prior.
    pub fn new(module: M, config: SgldConfig, noise: NoiseSource) -> Result<Self, SamplerError> {
        Ok(Self { chains: SgldChains::new(module, 1, config, vec![noise])? })
    }

    /// Uses a fixed diagonal preconditioner P (not combinable with RMSprop).
    pub fn with_diagonal_preconditioner(self, p: DiagonalPreconditioner<B>) -> Result<Self, SamplerError> {
        Ok(Self { chains: self.chains.with_diagonal_preconditioner(p)? })
    }

    /// Computes the update with tensor operations on the module's device even with host noise
    /// (see the module docs).
    pub fn with_device_update(self) -> Self {
        Self { chains: self.chains.with_device_update() }
    }

    /// The current point w of the chain.
    pub fn module(&self) -> &M {
        self.chains.module()
    }

    /// Ends the chain and returns its current point.
    pub fn into_module(self) -> M {
        self.chains.into_module()
    }

    /// Steps taken so far (divergent steps, which do not move, included).
    pub fn steps_taken(&self) -> u64 {
        self.chains.steps_taken()
    }

    /// The sampler's settings.
    pub fn config(&self) -> &SgldConfig {
        self.chains.config()
    }

    /// Takes one SGLD step. `loss` evaluates the mean minibatch loss L_B of a module (a
    /// one-element tensor); it is called once (twice with `with_acceptance`, on the same
    /// minibatch) and must be deterministic.
    ///
    /// If L_B(w) is not finite the chain stays where it is and the report carries the bad value.
    pub fn step<F>(&mut self, loss: F, with_acceptance: bool) -> StepReport
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        let report = self.chains.step(loss, with_acceptance);
        StepReport {
            loss: report.losses[0],
            mala_acceptance: if report.moved[0] { report.mala_acceptance.map(|a| a[0]) } else { None },
        }
    }

    /// Measures the minibatch gradient noise at the chain's current point from two independent
    /// minibatch losses (see [`SgldChains::gradient_noise`]); returns (tr(P·Σ_B), loss).
    pub fn gradient_noise<F, G>(&self, loss_a: F, loss_b: G) -> (f64, f64)
    where
        F: Fn(&M) -> Tensor<B, 1>,
        G: Fn(&M) -> Tensor<B, 1>,
    {
        let noise = self.chains.gradient_noise(loss_a, loss_b);
        (noise.trace[0], noise.loss[0])
    }
}

/// C SGLD chains stacked along the leading dimension of every parameter of one module.
///
/// Every trainable float parameter of the module must have C as its first dimension; chain c owns
/// index c of that dimension in every parameter. All chains start at the module given to
/// [`SgldChains::new`], which is also their anchor w* (so its C slices are normally C copies of
/// the same point).
pub struct SgldChains<B: AutodiffBackend, M: AutodiffModule<B>> {
    module: Option<M>,
    copies: usize,
    config: SgldConfig,
    /// Per chain: its step size ε (all `config.epsilon` at the start).
    epsilons: Vec<f64>,
    /// Per chain: frozen chains neither move nor draw noise.
    frozen: Vec<bool>,
    /// Per chain: steps since it started or was last restarted (RMSprop's bias correction 1 − αᵗ
    /// counts these).
    chain_steps: Vec<u64>,
    /// Per chain, for host noise: its stream. Empty with backend noise.
    streams: Vec<HostNormal>,
    /// Per parameter: w*, the fixed preconditioner and RMSprop's running mean square, on the host
    /// or on the device, whichever the update runs on.
    state: State<B>,
    device: burn::tensor::Device<Inner<B>>,
    steps_taken: u64,
}

/// Per-parameter sampler state, kept where the update runs.
enum State<B: AutodiffBackend> {
    Host(HashMap<ParamId, HostParam>),
    Device(HashMap<ParamId, DeviceParam<B>>),
}

impl<B: AutodiffBackend, M: AutodiffModule<B>> SgldChains<B, M> {
    /// Checks that `module` can hold `copies` stacked chains: at least one chain, and every
    /// trainable float parameter with `copies` as its first dimension (any module holds one
    /// chain). [`SgldChains::new`] runs the same check.
    pub fn check_stack(module: &M, copies: usize) -> Result<(), SamplerError> {
        if copies == 0 {
            return Err(SamplerError::Chains(ChainMismatch::NoChains));
        }
        if copies > 1 {
            let shapes = leading_dims::<B, M>(module);
            if let Some((idx, dims)) = shapes.iter().enumerate().find(|(_, dims)| dims.first() != Some(&copies)) {
                let shape = dims.clone();
                return Err(SamplerError::Chains(ChainMismatch::LeadingDimension { copies, parameter: idx, shape }));
            }
        }
        Ok(())
    }

    /// Starts `copies` chains at `module`, whose trainable parameters all have `copies` as their
    /// first dimension. `noise` holds one host stream per chain (chain c uses `noise[c]`), or
    /// [`NoiseSource::Backend`] sources only (the backend has one generator; one entry suffices).
    pub fn new(module: M, copies: usize, config: SgldConfig, noise: Vec<NoiseSource>) -> Result<Self, SamplerError> {
        config.validate()?;
        let mismatch = |why: ChainMismatch| Err(SamplerError::Chains(why));
        if copies == 0 {
            return mismatch(ChainMismatch::NoChains);
        }
        let params = collect_params::<B, M>(&module);
        let device = match params.first() {
            Some((_, t)) => t.device(),
            None => return Err(SamplerError::NoParameters),
        };
        Self::check_stack(&module, copies)?;
        let host = noise.iter().all(NoiseSource::is_host);
        let backend = noise.iter().all(|n| !n.is_host());
        let streams: Vec<HostNormal> = if host && noise.len() == copies {
            noise
                .into_iter()
                .map(|n| match n {
                    NoiseSource::Host(stream) => *stream,
                    NoiseSource::Backend => unreachable!("checked above"),
                })
                .collect()
        } else if backend && !noise.is_empty() {
            Vec::new()
        } else {
            return mismatch(ChainMismatch::NoiseSources { copies, given: noise.len(), mixed: !(host || backend) });
        };
        let start_mean_square = config.rmsprop.map(|rms| match rms.variant {
            RmsPropVariant::BiasCorrected => 1.0f32,
            RmsPropVariant::Devinterp => 0.0,
        });
        let state = if host {
            State::Host(
                params
                    .into_iter()
                    .map(|(id, value)| {
                        let anchor = host_vec(value);
                        let mean_square = start_mean_square.map(|v0| vec![v0; anchor.len()]);
                        (id, HostParam { anchor, diagonal: None, mean_square })
                    })
                    .collect(),
            )
        } else {
            State::Device(
                params
                    .into_iter()
                    .map(|(id, value)| {
                        let mean_square = start_mean_square.map(|v0| value.zeros_like().add_scalar(v0));
                        (id, DeviceParam { anchor: value, diagonal: None, mean_square })
                    })
                    .collect(),
            )
        };
        Ok(Self {
            module: Some(module),
            copies,
            epsilons: vec![config.epsilon; copies],
            frozen: vec![false; copies],
            chain_steps: vec![0; copies],
            streams,
            state,
            config,
            device,
            steps_taken: 0,
        })
    }

    /// Uses a fixed diagonal preconditioner P (not combinable with RMSprop). It must have been
    /// built for this module (stacked, if the chains are).
    pub fn with_diagonal_preconditioner(mut self, p: DiagonalPreconditioner<B>) -> Result<Self, SamplerError> {
        if self.config.rmsprop.is_some() {
            return Err(SamplerError::Preconditioner(PreconditionerMismatch::WithRmsprop));
        }
        let ids: Vec<ParamId> = match &self.state {
            State::Host(map) => map.keys().copied().collect(),
            State::Device(map) => map.keys().copied().collect(),
        };
        if p.factors.len() != ids.len() || !ids.iter().all(|id| p.factors.contains_key(id)) {
            return Err(SamplerError::Preconditioner(PreconditionerMismatch::OtherModule));
        }
        for (id, factor) in p.factors {
            match &mut self.state {
                State::Host(map) => map.get_mut(&id).expect("checked above").diagonal = Some(host_vec(factor)),
                State::Device(map) => map.get_mut(&id).expect("checked above").diagonal = Some(factor),
            }
        }
        Ok(self)
    }

    /// Computes the update with tensor operations on the module's device even though the noise is
    /// drawn on the host (each chain's draws are copied to the device). Mostly for comparing the
    /// two update paths; with backend noise this is already the case.
    pub fn with_device_update(mut self) -> Self {
        if let State::Host(map) = &mut self.state {
            let device = self.device.clone();
            let to_device = |v: Vec<f32>| {
                let len = v.len();
                Tensor::<Inner<B>, 1>::from_data(TensorData::new(v, [len]), &device)
            };
            let moved = std::mem::take(map)
                .into_iter()
                .map(|(id, p)| {
                    let param = DeviceParam {
                        anchor: to_device(p.anchor),
                        diagonal: p.diagonal.map(to_device),
                        mean_square: p.mean_square.map(to_device),
                    };
                    (id, param)
                })
                .collect();
            self.state = State::Device(moved);
        }
        self
    }

    /// The number of stacked chains C.
    pub fn copies(&self) -> usize {
        self.copies
    }

    /// The current point of all chains, as the stacked module.
    pub fn module(&self) -> &M {
        self.module.as_ref().expect("the module is only absent during a step")
    }

    /// Ends the chains and returns their current point.
    pub fn into_module(mut self) -> M {
        self.module.take().expect("the module is only absent during a step")
    }

    /// Steps taken so far (divergent steps, which do not move, included).
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// The sampler's settings (`epsilon` is the starting step size of every chain).
    pub fn config(&self) -> &SgldConfig {
        &self.config
    }

    /// Chain `chain`'s current step size ε.
    pub fn epsilon(&self, chain: usize) -> f64 {
        self.epsilons[chain]
    }

    /// Sets chain `chain`'s step size ε for its next steps (finite and > 0).
    pub fn set_epsilon(&mut self, chain: usize, epsilon: f64) -> Result<(), SamplerError> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(SamplerError::InvalidSetting { name: "epsilon", value: epsilon, expected: "finite and > 0" });
        }
        self.epsilons[chain] = epsilon;
        Ok(())
    }

    /// Stops chain `chain` for good: it no longer moves or draws noise (e.g. after it diverged),
    /// while the others go on.
    pub fn freeze(&mut self, chain: usize) {
        self.frozen[chain] = true;
    }

    /// Whether chain `chain` was frozen.
    pub fn is_frozen(&self, chain: usize) -> bool {
        self.frozen[chain]
    }

    /// Puts chain `chain` back at its anchor w*, as if it had just started: its slice of every
    /// parameter is set to w*'s, its RMSprop mean square to the starting value and its step count
    /// to 0, and it is unfrozen. Its step size and noise stream carry on (the stream is not
    /// rewound, so the restarted chain takes a new path); the other chains are untouched.
    ///
    /// This is how an estimate recovers a chain that diverged: restart it with a smaller ε
    /// ([`set_epsilon`](Self::set_epsilon)).
    pub fn restart(&mut self, chain: usize) {
        assert!(chain < self.copies, "chain {chain} of {} chains", self.copies);
        self.frozen[chain] = false;
        self.chain_steps[chain] = 0;
        let start_mean_square = self.config.rmsprop.map(|rms| match rms.variant {
            RmsPropVariant::BiasCorrected => 1.0f32,
            RmsPropVariant::Devinterp => 0.0,
        });
        let module = self.module.take().expect("the module is only absent during a step");
        let mut mapper = Restart::<B> { state: &mut self.state, chain, copies: self.copies, start_mean_square };
        self.module = Some(module.map(&mut mapper));
    }

    /// Takes one SGLD step of every chain that is not frozen. `loss` returns the C chains' mean
    /// minibatch losses as a `[C]` tensor (chain c's loss must depend on chain c's slice only); it
    /// is called once (twice with `with_acceptance`, on the same minibatches) and must be
    /// deterministic.
    ///
    /// A chain whose loss is not finite stays where it is, draws no noise, and is reported with
    /// `moved = false`; it is not frozen, so the caller decides what a divergence means.
    ///
    /// # Panics
    ///
    /// If `loss` does not return C values.
    pub fn step<F>(&mut self, loss: F, with_acceptance: bool) -> ChainsStepReport
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        self.steps_taken += 1;
        self.chain_steps.iter_mut().for_each(|t| *t += 1);
        let module = self.module.take().expect("the module is only absent during a step");
        let loss_tensor = loss(&module);
        let losses = host_f64(loss_tensor.clone());
        assert_eq!(losses.len(), self.copies, "the loss closure must return one loss per chain");
        let moved: Vec<bool> = (0..self.copies).map(|c| !self.frozen[c] && losses[c].is_finite()).collect();
        if !moved.iter().any(|&m| m) {
            self.module = Some(module);
            return ChainsStepReport {
                losses,
                moved,
                mala_acceptance: None,
                move_curvature: None,
                accepted: None,
                full_data_draws: None,
            };
        }
        // The chains share no parameters, so the gradient of the sum restricted to chain c's slice
        // is chain c's own gradient; a chain with a non-finite loss gets a non-finite gradient in
        // its own slice only, and that slice is not updated.
        let mut grads = loss_tensor.sum().backward();
        let rms = self.config.rmsprop.map(|rms| RmsStep { alpha: rms.alpha, stabilizer: rms.stabilizer });
        // RMSprop's bias correction 1 − αᵗ, per chain, t counted from the chain's (re)start.
        let corrections: Vec<f64> = match self.config.rmsprop {
            Some(rms) if rms.variant == RmsPropVariant::BiasCorrected => {
                self.chain_steps.iter().map(|&t| 1.0 - rms.alpha.powi(t.min(i32::MAX as u64) as i32)).collect()
            }
            _ => vec![1.0; self.copies],
        };
        let rule = Rule {
            n_beta: self.config.n_beta,
            gamma: self.config.gamma,
            epsilons: &self.epsilons,
            rms,
            corrections: &corrections,
        };
        let (next, records) = match &mut self.state {
            State::Host(params) => {
                let mut mapper = HostMapper::<B> {
                    grads: &mut grads,
                    params,
                    rule: &rule,
                    streams: &mut self.streams,
                    moved: &moved,
                    copies: self.copies,
                    records: with_acceptance.then(Vec::new),
                };
                let next = module.map(&mut mapper);
                (next, mapper.records.map(Records::Host))
            }
            State::Device(params) => {
                let mut mapper = DeviceMapper::<B> {
                    grads: &mut grads,
                    params,
                    rule: &rule,
                    streams: &mut self.streams,
                    moved: &moved,
                    copies: self.copies,
                    device: &self.device,
                    records: with_acceptance.then(HashMap::new),
                };
                let next = module.map(&mut mapper);
                (next, mapper.records.map(Records::Device))
            }
        };
        drop(grads);
        let measured = records.map(|records| self.acceptance(&next, &loss, &losses, &moved, records));
        self.module = Some(next);
        let (mala_acceptance, move_curvature) = match measured {
            Some((acceptance, curvature)) => (Some(acceptance), Some(curvature)),
            None => (None, None),
        };
        ChainsStepReport { losses, moved, mala_acceptance, move_curvature, accepted: None, full_data_draws: None }
    }
}

/// RMSprop's settings: α and the stabilizer a (the bias corrections are per chain, in [`Rule`]).
#[derive(Clone, Copy)]
struct RmsStep {
    alpha: f64,
    stabilizer: f64,
}

/// The constants of one step's update rule.
struct Rule<'a> {
    n_beta: f64,
    gamma: f64,
    /// Per chain.
    epsilons: &'a [f64],
    rms: Option<RmsStep>,
    /// Per chain, RMSprop's bias correction 1 − αᵗ (1 without it); empty where unused.
    corrections: &'a [f64],
}

/// Where each parameter's move started, for the acceptance probability.
enum Records<B: AutodiffBackend> {
    /// In visit order: w, ∇U(w) and the effective P (None: 1), flattened over all chains.
    Host(Vec<HostStart>),
    /// By parameter.
    Device(HashMap<ParamId, DeviceStart<B>>),
}

/// A tensor's values on the host as `f32`, flattened (no copy when the backend can hand over its
/// buffer, as burn-ndarray does for a tensor nothing else holds).
fn host_vec<I: burn::tensor::backend::Backend, const D: usize>(t: Tensor<I, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().into_vec::<f32>().expect("converted to f32")
}

/// A tensor's values on the host as `f64`.
fn host_f64<I: burn::tensor::backend::Backend, const D: usize>(t: Tensor<I, D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

/// The shape of every trainable float parameter, in visit order.
fn leading_dims<B: AutodiffBackend, M: AutodiffModule<B>>(module: &M) -> Vec<Vec<usize>> {
    struct Shapes(Vec<Vec<usize>>);
    impl<B: AutodiffBackend> ModuleVisitor<B> for Shapes {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.val().dims().to_vec());
        }
    }
    let mut shapes = Shapes(Vec::new());
    module.visit(&mut shapes);
    shapes.0
}

impl<B: AutodiffBackend, M: AutodiffModule<B>> Sampler<B, M> for SgldChains<B, M> {
    fn chains(&self) -> usize {
        self.copies
    }

    fn module(&self) -> &M {
        SgldChains::module(self)
    }

    fn uses_full_data(&self) -> bool {
        false
    }

    fn has_step_bias(&self) -> bool {
        true
    }

    fn step<F>(&mut self, loss: F, measure_acceptance: bool) -> ChainsStepReport
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        SgldChains::step(self, loss, measure_acceptance)
    }

    fn epsilon(&self, chain: usize) -> f64 {
        SgldChains::epsilon(self, chain)
    }

    fn set_epsilon(&mut self, chain: usize, epsilon: f64) -> Result<(), SamplerError> {
        SgldChains::set_epsilon(self, chain, epsilon)
    }

    fn restart(&mut self, chain: usize) {
        SgldChains::restart(self, chain);
    }

    fn freeze(&mut self, chain: usize) {
        SgldChains::freeze(self, chain);
    }

    fn gradient_noise<F, G>(&self, loss_a: F, loss_b: G) -> Option<GradientNoise>
    where
        F: Fn(&M) -> Tensor<B, 1>,
        G: Fn(&M) -> Tensor<B, 1>,
    {
        Some(SgldChains::gradient_noise(self, loss_a, loss_b))
    }
}

/// Puts one chain's slice of every parameter back at w* and resets its RMSprop state.
struct Restart<'a, B: AutodiffBackend> {
    state: &'a mut State<B>,
    chain: usize,
    copies: usize,
    start_mean_square: Option<f32>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Restart<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let (chain, copies) = (self.chain, self.copies);
        let dims = tensor.dims();
        let device = tensor.device();
        let restarted = match &mut *self.state {
            State::Host(params) => {
                let Some(state) = params.get_mut(&id) else {
                    return Param::from_mapped_value(id, tensor, mapper);
                };
                let mut w = host_vec(tensor.inner());
                let per_chain = w.len() / copies;
                let range = chain * per_chain..(chain + 1) * per_chain;
                w[range.clone()].copy_from_slice(&state.anchor[range.clone()]);
                if let (Some(v), Some(v0)) = (state.mean_square.as_mut(), self.start_mean_square) {
                    v[range].fill(v0);
                }
                Tensor::<Inner<B>, D>::from_data(TensorData::new(w, dims), &device)
            }
            State::Device(params) => {
                let Some(state) = params.get_mut(&id) else {
                    return Param::from_mapped_value(id, tensor, mapper);
                };
                let numel: usize = dims.iter().product();
                let others: Vec<bool> = (0..copies).map(|c| c != chain).collect();
                let w = keep_unmoved(tensor.inner().reshape([numel]), &state.anchor, &others, copies);
                if let Some(v0) = self.start_mean_square {
                    state.mean_square = state.mean_square.take().map(|v| {
                        let start = v.zeros_like().add_scalar(v0);
                        keep_unmoved(v, &start, &others, copies)
                    });
                }
                w.reshape(dims)
            }
        };
        Param::from_mapped_value(id, Tensor::from_inner(restarted).require_grad(), mapper)
    }
}
