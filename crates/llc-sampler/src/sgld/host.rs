//! The fused host update: with host noise, each parameter's whole SGLD step (and the reverse-move
//! terms of its acceptance probability) is one pass over its values on the host.

use std::collections::HashMap;

use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};

use super::{Rule, host_vec};
use crate::noise::HostNormal;
use crate::params::Inner;

/// A parameter's state for the fused host update, flattened row-major.
pub(super) struct HostParam {
    pub(super) anchor: Vec<f32>,
    pub(super) diagonal: Option<Vec<f32>>,
    pub(super) mean_square: Option<Vec<f32>>,
}

pub(super) struct HostStart {
    pub(super) w: Vec<f32>,
    pub(super) grad_u: Vec<f32>,
    pub(super) precond: Option<Vec<f32>>,
}

/// The fused host update: one pass per parameter and chain.
pub(super) struct HostMapper<'a, B: AutodiffBackend> {
    pub(super) grads: &'a mut B::Gradients,
    pub(super) params: &'a mut HashMap<ParamId, HostParam>,
    pub(super) rule: &'a Rule<'a>,
    pub(super) streams: &'a mut [HostNormal],
    pub(super) moved: &'a [bool],
    pub(super) copies: usize,
    pub(super) records: Option<Vec<HostStart>>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for HostMapper<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(state) = self.params.get_mut(&id).filter(|_| tensor.is_require_grad()) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let dims = tensor.dims();
        let device = tensor.device();
        let grad = tensor.grad_remove(self.grads).map(host_vec);
        let mut w = host_vec(tensor.inner());
        let per_chain = w.len() / self.copies;
        let rule = self.rule;
        let mut record = self.records.as_ref().map(|_| HostStart {
            w: w.clone(),
            grad_u: vec![0.0; w.len()],
            precond: (rule.rms.is_some() || state.diagonal.is_some()).then(|| vec![1.0; w.len()]),
        });
        for chain in (0..self.copies).filter(|&c| self.moved[c]) {
            let range = chain * per_chain..(chain + 1) * per_chain;
            let slices = Slices {
                w: &mut w[range.clone()],
                grad: grad.as_ref().map(|g| &g[range.clone()]),
                anchor: &state.anchor[range.clone()],
                diagonal: state.diagonal.as_ref().map(|p| &p[range.clone()]),
                mean_square: state.mean_square.as_mut().map(|v| &mut v[range.clone()]),
                record: record
                    .as_mut()
                    .map(|r| (&mut r.grad_u[range.clone()], r.precond.as_mut().map(|p| &mut p[range.clone()]))),
            };
            fused_update(slices, rule, chain, &mut self.streams[chain]);
        }
        if let (Some(records), Some(record)) = (self.records.as_mut(), record) {
            records.push(record);
        }
        let next = Tensor::<Inner<B>, D>::from_data(TensorData::new(w, dims), &device);
        Param::from_mapped_value(id, Tensor::from_inner(next).require_grad(), mapper)
    }
}

/// One chain's slice of one parameter and its state.
pub(super) struct Slices<'a> {
    pub(super) w: &'a mut [f32],
    pub(super) grad: Option<&'a [f32]>,
    pub(super) anchor: &'a [f32],
    pub(super) diagonal: Option<&'a [f32]>,
    pub(super) mean_square: Option<&'a mut [f32]>,
    /// Where to record ∇U(w) and the effective P, for the acceptance probability.
    pub(super) record: Option<(&'a mut [f32], Option<&'a mut [f32]>)>,
}

/// w ← w − (εP/2)·(nβ·g + γ·(w − w*)) + √(εP)·ξ over one slice, ξ drawn from `stream` in order.
pub(super) fn fused_update(s: Slices<'_>, rule: &Rule<'_>, chain: usize, stream: &mut HostNormal) {
    let epsilon = rule.epsilons[chain];
    let n_beta = rule.n_beta as f32;
    let gamma = rule.gamma as f32;
    let half_eps = (0.5 * epsilon) as f32;
    let sqrt_eps = epsilon.sqrt() as f32;
    let len = s.w.len();
    let grad_at = |i: usize| s.grad.map_or(0.0, |g| g[i]);
    match (s.mean_square, s.diagonal, s.record) {
        // Plain SGLD without a record: the hot loop of every CPU estimate.
        (None, None, None) => {
            for ((w, &a), i) in s.w.iter_mut().zip(s.anchor).zip(0..len) {
                let grad_u = n_beta * grad_at(i) + gamma * (*w - a);
                *w = *w - half_eps * grad_u + sqrt_eps * stream.next();
            }
        }
        (mean_square, diagonal, mut record) => {
            let rms = rule.rms;
            let correction = rule.corrections.get(chain).copied().unwrap_or(1.0) as f32;
            let mut mean_square = mean_square;
            for i in 0..len {
                let g = grad_at(i);
                let w = s.w[i];
                let grad_u = n_beta * g + gamma * (w - s.anchor[i]);
                let p = match (rms, mean_square.as_deref_mut(), diagonal) {
                    (Some(rms), Some(v), _) => {
                        let next = rms.alpha as f32 * v[i] + (1.0 - rms.alpha as f32) * g * g;
                        v[i] = next;
                        1.0 / ((next / correction).sqrt() + rms.stabilizer as f32)
                    }
                    (_, _, Some(p)) => p[i],
                    _ => 1.0,
                };
                if let Some((grad_u_out, precond_out)) = record.as_mut() {
                    grad_u_out[i] = grad_u;
                    if let Some(precond_out) = precond_out.as_deref_mut() {
                        precond_out[i] = p;
                    }
                }
                s.w[i] = w - half_eps * p * grad_u + sqrt_eps * p.sqrt() * stream.next();
            }
        }
    }
}

/// Per chain, Σ[δ(g + g')/2 + (εP/8)(g² − g'²) − (γ/2)δ(w + w' − 2w*)] on the host, in f64: the
/// proposal-density ratio plus the prior's part of U(w) − U(w'), in a form without cancellation.
pub(super) struct HostReverse<'a, B: AutodiffBackend> {
    pub(super) grads: &'a B::Gradients,
    pub(super) params: &'a HashMap<ParamId, HostParam>,
    pub(super) rule: &'a Rule<'a>,
    pub(super) records: &'a [HostStart],
    pub(super) terms: &'a mut [f64],
    /// Per chain, Σ δ·(g' − g).
    pub(super) curvature: &'a mut [f64],
    /// Parameters with state visited so far (the index of the next record).
    pub(super) seen: usize,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for HostReverse<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(state) = self.params.get(&param.id) else { return };
        // Records are pushed in visit order, one per parameter that had state.
        let start = &self.records[self.seen];
        let tensor = param.val();
        let grad = tensor.grad(self.grads).map(host_vec);
        let moved = host_vec(tensor.inner());
        let copies = self.terms.len();
        let per_chain = moved.len() / copies;
        let (n_beta, gamma) = (self.rule.n_beta, self.rule.gamma);
        for (chain, (total, curvature)) in self.terms.iter_mut().zip(self.curvature.iter_mut()).enumerate() {
            let eps_over_8 = self.rule.epsilons[chain] / 8.0;
            let mut sum = 0.0f64;
            let mut bend = 0.0f64;
            for i in chain * per_chain..(chain + 1) * per_chain {
                let (w0, w1, a) = (f64::from(start.w[i]), f64::from(moved[i]), f64::from(state.anchor[i]));
                let g = f64::from(start.grad_u[i]);
                let g_next = n_beta * grad.as_ref().map_or(0.0, |g| f64::from(g[i])) + gamma * (w1 - a);
                let p = start.precond.as_ref().map_or(1.0, |p| f64::from(p[i]));
                let delta = w1 - w0;
                sum += 0.5 * delta * (g + g_next) + eps_over_8 * p * (g * g - g_next * g_next)
                    - 0.5 * gamma * delta * (w0 + w1 - 2.0 * a);
                bend += delta * (g_next - g);
            }
            *total += sum;
            *curvature += bend;
        }
        self.seen += 1;
    }
}
