//! The device update: with backend noise (or when asked), each parameter's SGLD step and the
//! reverse-move terms of its acceptance probability are a few tensor operations on the module's
//! device, which a fusing backend compiles into one kernel.

use std::collections::HashMap;

use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};

use super::{Rule, host_f64};
use crate::noise::HostNormal;
use crate::params::Inner;

/// A parameter's state for the device update, flattened.
pub(super) struct DeviceParam<B: AutodiffBackend> {
    pub(super) anchor: Tensor<Inner<B>, 1>,
    pub(super) diagonal: Option<Tensor<Inner<B>, 1>>,
    pub(super) mean_square: Option<Tensor<Inner<B>, 1>>,
}

pub(super) struct DeviceStart<B: AutodiffBackend> {
    pub(super) w: Tensor<Inner<B>, 1>,
    pub(super) grad_u: Tensor<Inner<B>, 1>,
    pub(super) precond: Option<Tensor<Inner<B>, 1>>,
}

/// The update as tensor operations on the device (backend noise, or host noise copied over).
pub(super) struct DeviceMapper<'a, B: AutodiffBackend> {
    pub(super) grads: &'a mut B::Gradients,
    pub(super) params: &'a mut HashMap<ParamId, DeviceParam<B>>,
    pub(super) rule: &'a Rule<'a>,
    /// Host streams, one per chain; empty for backend noise.
    pub(super) streams: &'a mut [HostNormal],
    pub(super) moved: &'a [bool],
    pub(super) copies: usize,
    pub(super) device: &'a burn::tensor::Device<Inner<B>>,
    pub(super) records: Option<HashMap<ParamId, DeviceStart<B>>>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for DeviceMapper<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(state) = self.params.get_mut(&id).filter(|_| tensor.is_require_grad()) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let dims = tensor.dims();
        let numel: usize = dims.iter().product();
        let grad = tensor.grad_remove(self.grads).map(|g| g.reshape([numel]));
        let w = tensor.inner().reshape([numel]);
        let rule = self.rule;
        let (copies, moved) = (self.copies, self.moved);

        // ∇U(w) = nβ∇L_B(w) + γ(w − w*), with the loss gradient taken as 0 if the loss ignores w.
        let mut grad_u = (w.clone() - state.anchor.clone()).mul_scalar(rule.gamma);
        if let Some(g) = &grad {
            grad_u = grad_u + g.clone().mul_scalar(rule.n_beta);
        }
        // The effective preconditioner P for this parameter (None means 1).
        let precond = match (rule.rms, state.mean_square.take()) {
            (Some(rms), Some(v)) => {
                let g = grad.clone().unwrap_or_else(|| w.zeros_like());
                let next = v.clone().mul_scalar(rms.alpha) + g.square().mul_scalar(1.0 - rms.alpha);
                let next = keep_unmoved(next, &v, moved, copies);
                let inverse: Vec<f64> = rule.corrections.iter().map(|c| 1.0 / c).collect();
                let factor =
                    per_chain_scale(next.clone(), &inverse, self.device).sqrt().add_scalar(rms.stabilizer).recip();
                state.mean_square = Some(next);
                Some(factor)
            }
            (_, v) => {
                state.mean_square = v;
                state.diagonal.clone()
            }
        };
        let xi = if self.streams.is_empty() {
            Tensor::random([numel], burn::tensor::Distribution::Normal(0.0, 1.0), self.device)
        } else {
            let per_chain = numel / copies;
            let mut values = vec![0f32; numel];
            for (chain, block) in values.chunks_mut(per_chain).enumerate().filter(|(c, _)| moved[*c]) {
                self.streams[chain].fill(block);
            }
            Tensor::from_data(TensorData::new(values, [numel]), self.device)
        };
        let half_eps: Vec<f64> = rule.epsilons.iter().map(|e| 0.5 * e).collect();
        let sqrt_eps: Vec<f64> = rule.epsilons.iter().map(|e| e.sqrt()).collect();
        let (drift, diffusion) = match &precond {
            None => (grad_u.clone(), xi),
            Some(p) => (grad_u.clone() * p.clone(), xi * p.clone().sqrt()),
        };
        let next = w.clone() - per_chain_scale(drift, &half_eps, self.device)
            + per_chain_scale(diffusion, &sqrt_eps, self.device);
        let next = keep_unmoved(next, &w, moved, copies);
        if let Some(records) = self.records.as_mut() {
            records.insert(id, DeviceStart { w, grad_u, precond });
        }
        Param::from_mapped_value(id, Tensor::from_inner(next.reshape(dims)).require_grad(), mapper)
    }
}

/// Per chain, the reverse-move terms of the acceptance probability (see [`HostReverse`]), as
/// tensor operations summed per chain on the device.
pub(super) struct DeviceReverse<'a, B: AutodiffBackend> {
    pub(super) grads: &'a B::Gradients,
    pub(super) params: &'a HashMap<ParamId, DeviceParam<B>>,
    pub(super) rule: &'a Rule<'a>,
    pub(super) records: &'a HashMap<ParamId, DeviceStart<B>>,
    pub(super) copies: usize,
    pub(super) device: &'a burn::tensor::Device<Inner<B>>,
    pub(super) terms: &'a mut [f64],
    /// Per chain, Σ δ·(g' − g).
    pub(super) curvature: &'a mut [f64],
}

impl<B: AutodiffBackend> ModuleVisitor<B> for DeviceReverse<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let (Some(start), Some(state)) = (self.records.get(&param.id), self.params.get(&param.id)) else { return };
        let tensor = param.val();
        let numel = tensor.shape().num_elements();
        let grad = tensor.grad(self.grads).map(|g| g.reshape([numel]));
        let moved = tensor.inner().reshape([numel]);
        let (n_beta, gamma) = (self.rule.n_beta, self.rule.gamma);
        let mut grad_u_next = (moved.clone() - state.anchor.clone()).mul_scalar(gamma);
        if let Some(g) = grad {
            grad_u_next = grad_u_next + g.mul_scalar(n_beta);
        }
        let delta = moved.clone() - start.w.clone();
        let g = start.grad_u.clone();
        let bend = (delta.clone() * (grad_u_next.clone() - g.clone())).reshape([self.copies, numel / self.copies]);
        for (total, sum) in self.curvature.iter_mut().zip(host_f64(bend.sum_dim(1).reshape([self.copies]))) {
            *total += sum;
        }
        let curvature = g.clone().square() - grad_u_next.clone().square();
        let curvature = match &start.precond {
            None => curvature,
            Some(p) => curvature * p.clone(),
        };
        let eps_over_8: Vec<f64> = self.rule.epsilons.iter().map(|e| e / 8.0).collect();
        let terms = (delta.clone() * (g + grad_u_next)).mul_scalar(0.5)
            + per_chain_scale(curvature, &eps_over_8, self.device)
            - (delta * (start.w.clone() + moved - state.anchor.clone().mul_scalar(2.0))).mul_scalar(0.5 * gamma);
        let sums = host_f64(terms.reshape([self.copies, numel / self.copies]).sum_dim(1).reshape([self.copies]));
        for (total, sum) in self.terms.iter_mut().zip(sums) {
            *total += sum;
        }
    }
}

/// Multiplies chain c's slice of a flattened parameter by `factors[c]` (one scalar multiply when
/// all chains share the factor).
pub(super) fn per_chain_scale<I: burn::tensor::backend::Backend>(
    t: Tensor<I, 1>,
    factors: &[f64],
    device: &I::Device,
) -> Tensor<I, 1> {
    if factors.iter().all(|&f| f == factors[0]) {
        return t.mul_scalar(factors[0]);
    }
    let numel = t.dims()[0];
    let copies = factors.len();
    let column: Vec<f32> = factors.iter().map(|&f| f as f32).collect();
    let column = Tensor::<I, 1>::from_data(TensorData::new(column, [copies]), device).reshape([copies, 1]);
    (t.reshape([copies, numel / copies]) * column).reshape([numel])
}

/// `next`, with the slices of the chains that did not move put back to `previous`.
pub(super) fn keep_unmoved<I: burn::tensor::backend::Backend>(
    next: Tensor<I, 1>,
    previous: &Tensor<I, 1>,
    moved: &[bool],
    copies: usize,
) -> Tensor<I, 1> {
    let per_chain = next.dims()[0] / copies;
    (0..copies).filter(|&c| !moved[c]).fold(next, |next, c| {
        let range = c * per_chain..(c + 1) * per_chain;
        next.slice_assign([range.clone()], previous.clone().slice([range]))
    })
}
