//! Flattened views of a module's float parameters, keyed by burn's `ParamId`.

use std::collections::HashMap;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

/// The inner (non-autodiff) backend of `B`, where every update is computed.
pub(crate) type Inner<B> = <B as AutodiffBackend>::InnerBackend;

/// One 1-D tensor per float parameter of a module, keyed by the parameter's id.
pub(crate) type ParamMap<B> = HashMap<ParamId, Tensor<B, 1>>;

/// Copies every float parameter of `module` (flattened, on the inner backend), in visit order.
pub(crate) fn collect_params<B: AutodiffBackend, M: Module<B>>(module: &M) -> Vec<(ParamId, Tensor<Inner<B>, 1>)> {
    struct Collect<B: AutodiffBackend> {
        out: Vec<(ParamId, Tensor<Inner<B>, 1>)>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Collect<B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let value = param.val().inner();
            let numel = value.shape().num_elements();
            self.out.push((param.id, value.reshape([numel])));
        }
    }
    let mut collect = Collect { out: Vec::new() };
    module.visit(&mut collect);
    collect.out
}
