//! What an estimate returns: λ̂ per chain and overall, the diagnostics, and every divergence and
//! restart, all serializable.

use serde::{Deserialize, Serialize};

use crate::EstimatorConfig;

/// A chain that produced a non-finite loss, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// The chain, counted from 0.
    pub chain_idx: usize,
    /// The step (counted from 1, burn-in included) whose loss was not finite: the step's own loss
    /// or, with [`DrawLoss::Full`](crate::DrawLoss::Full), the full-data loss at a kept draw.
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
    /// losses with [`DrawLoss::Full`](crate::DrawLoss::Full); for MALA the full-data losses); `None` if it diverged.
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
    /// with [`DrawLoss::Full`](crate::DrawLoss::Full); for MALA the full-data losses).
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
