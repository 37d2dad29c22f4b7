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

/// The posterior precisions k_i = nβ·a_i + γ of the quadratic loss with curvatures a: the
/// localized tempered posterior at w* = 0 is the Gaussian with these precisions per coordinate.
pub fn precisions(a: &[f32], n_beta: f64, gamma: f64) -> Vec<f64> {
    a.iter().map(|&ai| n_beta * f64::from(ai) + gamma).collect()
}

/// Takes `burn_in` steps with `step`, then `draws` more, and returns what those report.
pub fn after_burn_in<T>(burn_in: usize, draws: usize, mut step: impl FnMut() -> T) -> Vec<T> {
    (0..burn_in).for_each(|_| drop(step()));
    (0..draws).map(|_| step()).collect()
}

/// The traces of the coordinates of a list of points, one trace per coordinate.
pub fn coordinates(points: &[Vec<f32>]) -> Vec<Vec<f64>> {
    let d = points.first().map_or(0, Vec::len);
    (0..d).map(|i| points.iter().map(|p| f64::from(p[i])).collect()).collect()
}
