//! The quadratic target shared by the sampler's tests: L(w) = ½ Σ a_i w_i², whose localized
//! tempered posterior is exactly Gaussian.
//!
//! Each test binary uses part of this module, so unused items are expected in some of them.
#![allow(dead_code, unreachable_pub)]

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// The CPU autodiff backend the tests run on.
pub type B = Autodiff<NdArray>;

/// A parameter vector w with the loss L(w) = ½ Σ a_i w_i², a regular model whose tempered
/// posterior is Gaussian.
#[derive(Module, Debug)]
pub struct Quadratic<B: Backend> {
    pub w: Param<Tensor<B, 1>>,
}

/// The model at the point `start`.
pub fn quadratic(start: &[f32]) -> Quadratic<B> {
    let device = Default::default();
    Quadratic { w: Param::from_tensor(Tensor::from_data(TensorData::new(start.to_vec(), [start.len()]), &device)) }
}

/// The loss ½ Σ a_i w_i² with the given curvatures a.
pub fn quadratic_loss(curvature: &[f32]) -> impl Fn(&Quadratic<B>) -> Tensor<B, 1> + '_ {
    move |m: &Quadratic<B>| {
        let device = Default::default();
        let a = Tensor::<B, 1>::from_data(TensorData::new(curvature.to_vec(), [curvature.len()]), &device);
        (m.w.val().square() * a).sum().mul_scalar(0.5)
    }
}

/// The current point as host values.
pub fn values(m: &Quadratic<B>) -> Vec<f32> {
    m.w.val().into_data().to_vec::<f32>().unwrap()
}
