//! The one interface through which an estimator drives any sampler of this crate.
//!
//! [`SgldChains`](crate::SgldChains) (plain, preconditioned, RMSprop, one chain or C stacked
//! chains) and [`MalaChain`](crate::MalaChain) both implement [`Sampler`], so that a single chain
//! loop (burn-in with step-size adaptation, divergence restarts, bias measures, draws, thinning)
//! serves them all. What differs between them is stated by the trait itself: whether a step's
//! loss is taken on a minibatch or on the whole data set ([`Sampler::uses_full_data`]), and whether
//! the step size biases the stationary law ([`Sampler::has_step_bias`]).

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use crate::{ChainsStepReport, GradientNoise, SamplerError};

/// C chains of one sampler that step together: each chain has its own step size, can be
/// restarted at w* or frozen, and reports what its step observed.
pub trait Sampler<B: AutodiffBackend, M: AutodiffModule<B>> {
    /// The number of chains C that each step moves.
    fn chains(&self) -> usize;

    /// The current point of all chains (the stacked module when C > 1).
    fn module(&self) -> &M;

    /// Whether a step evaluates its loss on the whole data set (MALA) rather than on a minibatch
    /// (SGLD). The caller then passes the full data set to every step, and each step's
    /// [`ChainsStepReport::full_data_draws`] already holds L_n at the chain's new point.
    fn uses_full_data(&self) -> bool;

    /// Whether the stationary law of the chains depends on the step size, as for every
    /// discretized Langevin sampler without a Metropolis–Hastings correction (SGLD). Such
    /// samplers report their moves' curvature with the acceptance and measure their minibatch
    /// gradient noise ([`Sampler::gradient_noise`]), from which the step-size bias is predicted.
    fn has_step_bias(&self) -> bool;

    /// Takes one step of every chain that is not frozen. `loss` returns the C chains' mean losses
    /// as a `[C]` tensor (on a minibatch, or on the whole data set when
    /// [`uses_full_data`](Self::uses_full_data)); it must be deterministic. With
    /// `measure_acceptance` the report carries each move's Metropolis–Hastings acceptance
    /// probability (a sampler that knows it anyway may report it at every step).
    fn step<F>(&mut self, loss: F, measure_acceptance: bool) -> ChainsStepReport
    where
        F: Fn(&M) -> Tensor<B, 1>;

    /// Chain `chain`'s current step size ε.
    fn epsilon(&self, chain: usize) -> f64;

    /// Sets chain `chain`'s step size ε for its next steps (finite and > 0).
    fn set_epsilon(&mut self, chain: usize, epsilon: f64) -> Result<(), SamplerError>;

    /// Puts chain `chain` back at w*, as if it had just started (its noise stream carries on).
    fn restart(&mut self, chain: usize);

    /// Stops chain `chain` for good: it no longer moves or draws noise, while the others go on.
    fn freeze(&mut self, chain: usize);

    /// The minibatch gradient noise tr(P·Σ_B) at the chains' current point, from two independent
    /// minibatch losses; `None` for a sampler without step bias, whose steps use no minibatches.
    fn gradient_noise<F, G>(&self, loss_a: F, loss_b: G) -> Option<GradientNoise>
    where
        F: Fn(&M) -> Tensor<B, 1>,
        G: Fn(&M) -> Tensor<B, 1>;
}
