//! Fixed diagonal preconditioners: one positive factor per parameter element.
//!
//! With a diagonal P the SGLD update becomes w ← w − (εP/2)(nβ∇L_B + γ(w − w*)) + √(εP)·ξ (the
//! paper's preconditioned SGLD). The ReLU-rescaling experiment uses P = α² on a hidden neuron's
//! incoming weights and bias and 1/α² on its outgoing weights, which makes SGLD exactly equivariant
//! under the rescaling.

use std::collections::HashMap;

use burn::module::{AutodiffModule, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};

use crate::SamplerError;
use crate::error::PreconditionerMismatch;
use crate::params::{Inner, collect_params};

/// A fixed diagonal preconditioner for one module: positive factors per parameter element.
#[derive(Debug, Clone)]
pub struct DiagonalPreconditioner<B: AutodiffBackend> {
    pub(crate) factors: HashMap<ParamId, Tensor<Inner<B>, 1>>,
}

impl<B: AutodiffBackend> DiagonalPreconditioner<B> {
    /// Builds the preconditioner from one factor vector per float parameter, given in the order in
    /// which the module visits its parameters (field order; for a `Vec` of layers, layer order), each
    /// flattened row-major in the parameter's own layout.
    pub fn in_visit_order<M: AutodiffModule<B>>(module: &M, factors: Vec<Vec<f32>>) -> Result<Self, SamplerError> {
        let params = collect_params::<B, M>(module);
        if params.len() != factors.len() {
            return Err(SamplerError::Preconditioner(PreconditionerMismatch::ParameterCount {
                factors: factors.len(),
                parameters: params.len(),
            }));
        }
        let mut map = HashMap::new();
        for (idx, ((id, value), factor)) in params.into_iter().zip(factors).enumerate() {
            let numel = value.shape().num_elements();
            if factor.len() != numel {
                return Err(SamplerError::Preconditioner(PreconditionerMismatch::ParameterLength {
                    parameter: idx,
                    elements: numel,
                    factors: factor.len(),
                }));
            }
            if let Some(bad) = factor.iter().find(|f| !(f.is_finite() && **f > 0.0)) {
                return Err(SamplerError::Preconditioner(PreconditionerMismatch::BadFactor {
                    parameter: idx,
                    value: *bad,
                }));
            }
            map.insert(id, Tensor::from_data(TensorData::new(factor, [numel]), &value.device()));
        }
        Ok(Self { factors: map })
    }

    /// The preconditioner of C stacked chains ([`crate::SgldChains`]): `factors` are one chain's,
    /// in the visit order of the unstacked module, and each is repeated for the C copies that
    /// `stacked` holds along the leading dimension of every parameter, so that every chain is
    /// preconditioned as it would be alone.
    pub fn in_visit_order_stacked<M: AutodiffModule<B>>(
        stacked: &M,
        factors: Vec<Vec<f32>>,
        copies: usize,
    ) -> Result<Self, SamplerError> {
        let repeated = factors.into_iter().map(|f| f.repeat(copies)).collect();
        Self::in_visit_order(stacked, repeated)
    }

    /// Checks that this preconditioner was built for `module` (the same parameters, by id), as
    /// every sampler does when it is given one.
    pub fn check_fits<M: AutodiffModule<B>>(&self, module: &M) -> Result<(), SamplerError> {
        let params = collect_params::<B, M>(module);
        if params.len() != self.factors.len() || !params.iter().all(|(id, _)| self.factors.contains_key(id)) {
            return Err(SamplerError::Preconditioner(PreconditionerMismatch::OtherModule));
        }
        Ok(())
    }
}
