//! Measures that do not move the chains: the MALA acceptance probability of the move just made
//! (with the move's curvature) and the minibatch gradient noise at the current point.

use std::borrow::Cow;

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::device::DeviceReverse;
use super::host::HostReverse;
use super::{GradientNoise, Records, Rule, SgldChains, State, host_f64, host_vec};
use crate::RmsPropVariant;

impl<B: AutodiffBackend, M: AutodiffModule<B>> SgldChains<B, M> {
    /// Measures, per chain, the noise that minibatch gradients add to a step at the current point,
    /// without moving: `loss_a` and `loss_b` must be the C chains' losses on two *independent*
    /// minibatches of the same size as the steps' (each returns a `[C]` tensor, like the loss of
    /// [`step`](Self::step)).
    ///
    /// The result's `trace` estimates tr(P·Σ_B), with Σ_B the covariance of the minibatch loss
    /// gradient ∇L_B(w) and P the preconditioner the next step would use (RMSprop's current G,
    /// a fixed P, or 1). In a step the gradient noise enters as (εP/2)·nβ·(∇L_B − ∇L_n), so it adds
    /// ε²(nβ)²·tr(P·Σ_B)/4 to the variance of the move, next to the injected ε·tr P: this is what
    /// heats a chain beyond the tempered posterior, and what the MALA acceptance probability, taken
    /// on the step's own minibatch, cannot see. It costs two gradients.
    pub fn gradient_noise<F, G>(&self, loss_a: F, loss_b: G) -> GradientNoise
    where
        F: Fn(&M) -> Tensor<B, 1>,
        G: Fn(&M) -> Tensor<B, 1>,
    {
        let module = self.module();
        let (tensor_a, tensor_b) = (loss_a(module), loss_b(module));
        let (losses_a, losses_b) = (host_f64(tensor_a.clone()), host_f64(tensor_b.clone()));
        assert!(
            losses_a.len() == self.copies && losses_b.len() == self.copies,
            "the loss closures must return one loss per chain"
        );
        let grads_a = tensor_a.sum().backward();
        let grads_b = tensor_b.sum().backward();
        // RMSprop's bias correction 1 − αᵗ as the next step would apply it (t ≥ 1).
        let corrections: Vec<f64> = match self.config.rmsprop {
            Some(rms) if rms.variant == RmsPropVariant::BiasCorrected => {
                self.chain_steps.iter().map(|&t| 1.0 - rms.alpha.powi((t + 1).min(i32::MAX as u64) as i32)).collect()
            }
            _ => vec![1.0; self.copies],
        };
        let mut visitor = NoiseVisitor::<B> {
            grads: [&grads_a, &grads_b],
            state: &self.state,
            rms: self.config.rmsprop.map(|rms| rms.stabilizer),
            corrections: &corrections,
            traces: vec![0.0; self.copies],
        };
        module.visit(&mut visitor);
        GradientNoise {
            trace: visitor.traces,
            loss: losses_a.iter().zip(&losses_b).map(|(a, b)| 0.5 * (a + b)).collect(),
        }
    }

    /// Per chain, the MH acceptance probability of the move just made (see the module docs) and
    /// the move's curvature Δᵀ(∇U(w') − ∇U(w)).
    pub(super) fn acceptance<F>(
        &self,
        moved_module: &M,
        loss: &F,
        before: &[f64],
        moved: &[bool],
        records: Records<B>,
    ) -> (Vec<f64>, Vec<f64>)
    where
        F: Fn(&M) -> Tensor<B, 1>,
    {
        let loss_tensor = loss(moved_module);
        let after = host_f64(loss_tensor.clone());
        let grads = loss_tensor.sum().backward();
        let mut terms = vec![0.0f64; self.copies];
        let mut curvature = vec![0.0f64; self.copies];
        let rule = Rule {
            n_beta: self.config.n_beta,
            gamma: self.config.gamma,
            epsilons: &self.epsilons,
            rms: None,
            corrections: &[],
        };
        match (&records, &self.state) {
            (Records::Host(records), State::Host(params)) => {
                let mut visitor = HostReverse::<B> {
                    grads: &grads,
                    params,
                    rule: &rule,
                    records,
                    terms: &mut terms,
                    curvature: &mut curvature,
                    seen: 0,
                };
                moved_module.visit(&mut visitor);
            }
            (Records::Device(records), State::Device(params)) => {
                let mut visitor = DeviceReverse::<B> {
                    grads: &grads,
                    params,
                    rule: &rule,
                    records,
                    copies: self.copies,
                    device: &self.device,
                    terms: &mut terms,
                    curvature: &mut curvature,
                };
                moved_module.visit(&mut visitor);
            }
            _ => unreachable!("the records come from the same state"),
        }
        let acceptance = (0..self.copies)
            .map(|c| {
                if !moved[c] {
                    return f64::NAN;
                }
                if !after[c].is_finite() {
                    return 0.0;
                }
                let log_ratio = self.config.n_beta * (before[c] - after[c]) + terms[c];
                if log_ratio.is_nan() { 0.0 } else { log_ratio.exp().min(1.0) }
            })
            .collect();
        let curvature = curvature.into_iter().zip(moved).map(|(q, &m)| if m { q } else { f64::NAN }).collect();
        (acceptance, curvature)
    }
}

/// A parameter's state values on the host, borrowed or copied; `None` where it has none.
type HostValues<'a> = Option<Cow<'a, [f32]>>;

/// Per chain, ½·Σᵢ Pᵢ·(g_a,i − g_b,i)² over every parameter with sampler state, on the host.
pub(super) struct NoiseVisitor<'a, B: AutodiffBackend> {
    pub(super) grads: [&'a B::Gradients; 2],
    pub(super) state: &'a State<B>,
    /// RMSprop's stabilizer a, when the preconditioner is RMSprop's G = 1/(√(V/(1 − αᵗ)) + a).
    pub(super) rms: Option<f64>,
    /// Per chain, RMSprop's bias correction (1 without it).
    pub(super) corrections: &'a [f64],
    pub(super) traces: Vec<f64>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for NoiseVisitor<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        // The preconditioner's inputs on the host: a fixed P, or RMSprop's running mean square V
        // (borrowed from the host state, copied from the device state).
        let (diagonal, mean_square): (HostValues<'_>, HostValues<'_>) = match self.state {
            State::Host(map) => match map.get(&param.id) {
                Some(s) => (s.diagonal.as_deref().map(Cow::Borrowed), s.mean_square.as_deref().map(Cow::Borrowed)),
                None => return,
            },
            State::Device(map) => match map.get(&param.id) {
                Some(s) => (
                    s.diagonal.clone().map(|t| Cow::Owned(host_vec(t))),
                    s.mean_square.clone().map(|t| Cow::Owned(host_vec(t))),
                ),
                None => return,
            },
        };
        let tensor = param.val();
        let (Some(a), Some(b)) = (tensor.grad(self.grads[0]), tensor.grad(self.grads[1])) else { return };
        let (a, b) = (host_vec(a), host_vec(b));
        let copies = self.traces.len();
        let per_chain = a.len() / copies;
        for (chain, total) in self.traces.iter_mut().enumerate() {
            let correction = self.corrections[chain];
            let mut sum = 0.0f64;
            for i in chain * per_chain..(chain + 1) * per_chain {
                let diff = f64::from(a[i]) - f64::from(b[i]);
                let p = match (self.rms, &mean_square, &diagonal) {
                    (Some(stabilizer), Some(v), _) => 1.0 / ((f64::from(v[i]) / correction).sqrt() + stabilizer),
                    (_, _, Some(p)) => f64::from(p[i]),
                    _ => 1.0,
                };
                sum += p * diff * diff;
            }
            *total += 0.5 * sum;
        }
    }
}
