//! Several deep linear networks of the same widths stacked along a leading dimension, so that C
//! SGLD chains run as one module (`llc_sampler::SgldChains`): one batched matmul per layer serves
//! all C networks.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::dln::Dln;
use crate::error::ModelError;
use crate::host::{tensor_from_f32, tensor_to_vec};

/// C deep linear networks `x·W_1⋯W_M` with the same widths, stored as one `[C, H_s, H_{s+1}]`
/// tensor per layer; copy c's matrices are at index c of the leading dimension.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use llc_models::{DlnTeacher, StackedDln};
///
/// let device = Default::default();
/// let dln = DlnTeacher::full_rank(&[3, 4, 2], 1)?.to_module::<NdArray>(&device);
/// let stacked = StackedDln::replicate(&dln, 5)?;
/// assert_eq!((stacked.copies(), stacked.num_params()), (5, 20));
/// // Five copies, each applied to its own batch of 7 inputs.
/// let y = stacked.forward(Tensor::zeros([5, 7, 3], &device));
/// assert_eq!(y.dims(), [5, 7, 2]);
/// # Ok::<(), llc_models::ModelError>(())
/// ```
#[derive(Module, Debug)]
pub struct StackedDln<B: Backend> {
    /// The weights in order from input to output; layer `s` has shape `[C, H_s, H_{s+1}]`.
    pub weights: Vec<Param<Tensor<B, 3>>>,
}

impl<B: Backend> StackedDln<B> {
    /// `copies` copies of `dln` (fresh parameters, the same values). Zero copies is an error.
    pub fn replicate(dln: &Dln<B>, copies: usize) -> Result<Self, ModelError> {
        if copies == 0 {
            return Err(ModelError::Empty { what: "the stack of networks" });
        }
        // Built from host data, so that each weight is a fresh leaf tensor (a tensor computed from a
        // tracked one, e.g. by `repeat_dim`, cannot become a parameter of an autodiff backend).
        let weights = dln
            .weights
            .iter()
            .map(|w| {
                let [fan_in, fan_out] = w.dims();
                let values = tensor_to_vec(w.val());
                let repeated: Vec<f32> = (0..copies).flat_map(|_| values.iter().copied()).collect();
                Param::from_tensor(tensor_from_f32(repeated, [copies, fan_in, fan_out], &w.device()))
            })
            .collect();
        Ok(Self { weights })
    }

    /// Applies copy c to block c of a `[C, batch, H_1]` input and returns the `[C, batch, H_{M+1}]`
    /// outputs.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.weights.iter().fold(x, |h, w| h.matmul(w.val()))
    }

    /// The number of copies C.
    pub fn copies(&self) -> usize {
        self.weights.first().map_or(0, |w| w.dims()[0])
    }

    /// The number of parameters of one copy, `d = Σ_s H_s·H_{s+1}`.
    pub fn num_params(&self) -> usize {
        self.weights.iter().map(|w| w.dims()[1] * w.dims()[2]).sum()
    }

    /// Copy `c` as a deep linear network of its own, or `None` if `c ≥ C`.
    pub fn copy(&self, c: usize) -> Option<Dln<B>> {
        if c >= self.copies() {
            return None;
        }
        let weights = self
            .weights
            .iter()
            .map(|w| {
                let [_, fan_in, fan_out] = w.dims();
                let block = tensor_to_vec(w.val().slice([c..c + 1, 0..fan_in, 0..fan_out]));
                Param::from_tensor(tensor_from_f32(block, [fan_in, fan_out], &w.device()))
            })
            .collect();
        Some(Dln { weights })
    }
}

/// Per copy, the mean squared error of docs/method.md §1 over its block: `[C, batch, H_out]`
/// predictions and targets give the `[C]` means of `(pred − target)²`.
pub fn mse_per_copy<B: Backend>(pred: Tensor<B, 3>, target: Tensor<B, 3>) -> Tensor<B, 1> {
    let [copies, batch, width] = pred.dims();
    let diff = pred - target;
    (diff.clone() * diff).reshape([copies, batch * width]).mean_dim(1).reshape([copies])
}

#[cfg(test)]
mod tests {
    use burn::backend::NdArray;
    use burn::tensor::{Distribution, Tensor};

    use super::*;
    use crate::{DlnTeacher, mse};

    #[test]
    fn each_copy_computes_the_network_on_its_own_block() {
        let device = Default::default();
        let dln = DlnTeacher::full_rank(&[4, 6, 3], 2).unwrap().to_module::<NdArray>(&device);
        let stacked = StackedDln::replicate(&dln, 3).unwrap();
        let x = Tensor::<NdArray, 3>::random([3, 5, 4], Distribution::Normal(0.0, 1.0), &device);
        let target = Tensor::<NdArray, 3>::random([3, 5, 3], Distribution::Normal(0.0, 1.0), &device);
        let y = stacked.forward(x.clone());
        let losses = mse_per_copy(y.clone(), target.clone()).into_data().to_vec::<f32>().unwrap();
        for (c, &loss) in losses.iter().enumerate() {
            let block = x.clone().slice([c..c + 1, 0..5, 0..4]).reshape([5, 4]);
            let own = dln.forward(block);
            let stacked_block = y.clone().slice([c..c + 1, 0..5, 0..3]).reshape([5, 3]);
            own.clone().into_data().assert_approx_eq::<f32>(&stacked_block.into_data(), Default::default());
            let t = target.clone().slice([c..c + 1, 0..5, 0..3]).reshape([5, 3]);
            let expected: f32 = mse(own, t).into_scalar();
            assert!((loss - expected).abs() <= 1e-5 * expected.abs().max(1.0), "copy {c}");
            assert_eq!(stacked.copy(c).unwrap().weights_host(), dln.weights_host());
        }
        assert!(stacked.copy(3).is_none());
        assert!(StackedDln::replicate(&dln, 0).is_err());
    }
}
