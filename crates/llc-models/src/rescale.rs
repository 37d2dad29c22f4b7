//! The per-neuron rescaling symmetry of ReLU networks and the preconditioner that matches it
//! (docs/method.md §6).
//!
//! Because `ReLU(alpha·z) = alpha·ReLU(z)` for `alpha > 0`, multiplying the incoming weights and
//! the bias of a hidden neuron by `alpha` and dividing its outgoing weights by `alpha` leaves the
//! network's function unchanged. The sampler is equivariant under this map when each parameter's
//! step is preconditioned by the square of the factor the parameter was scaled by.

use burn::module::{Param, ParamId};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::error::ModelError;
use crate::host::{tensor_from_f32, validate_widths};
use crate::mlp::Mlp;

/// The diagonal preconditioner factors of one affine layer, in the layout of its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerFactors {
    /// One factor per weight entry, row-major `[d_input, d_output]`.
    pub weight: Vec<f32>,
    /// One factor per bias entry (`d_output` of them).
    pub bias: Vec<f32>,
}

/// The diagonal preconditioner factors of one parameter tensor of a module, identified by its
/// burn [`ParamId`].
#[derive(Debug, Clone, PartialEq)]
pub struct ParamFactors {
    /// The parameter the factors belong to.
    pub id: ParamId,
    /// The shape of the parameter tensor.
    pub shape: Vec<usize>,
    /// One factor per element, row-major in the parameter's shape.
    pub factors: Vec<f32>,
}

/// Checks the scale factors of hidden layer `layer` of a network with `widths`: the layer must
/// exist, there must be one factor per neuron, and every factor `alpha` must be finite and positive
/// with `alpha²` and `1/alpha²` finite and non-zero in f32.
fn check_alphas(widths: &[usize], layer: usize, alphas: &[f32]) -> Result<(), ModelError> {
    validate_widths(widths)?;
    let hidden_layers = widths.len() - 2;
    if layer >= hidden_layers {
        return Err(ModelError::LayerOutOfRange { layer, hidden_layers });
    }
    let width = widths[layer + 1];
    if alphas.len() != width {
        return Err(ModelError::ShapeMismatch {
            what: format!("list of rescaling factors of hidden layer {layer}"),
            expected: vec![width],
            got: vec![alphas.len()],
        });
    }
    let representable = |x: f64| x.is_finite() && x >= f64::from(f32::MIN_POSITIVE) && x <= f64::from(f32::MAX);
    for (neuron, &value) in alphas.iter().enumerate() {
        let square = f64::from(value) * f64::from(value);
        if !(value.is_finite() && value > 0.0 && representable(square) && representable(1.0 / square)) {
            return Err(ModelError::InvalidAlpha { neuron, value });
        }
    }
    Ok(())
}

/// The preconditioner factors that make SGLD equivariant under rescaling hidden layer `layer` of
/// a ReLU network with `widths` by `alphas` (docs/method.md §6): `alpha_j²` on the incoming weights and
/// the bias of neuron `j`, `1/alpha_j²` on its outgoing weights, and 1 on every other parameter.
///
/// One [`LayerFactors`] per affine layer, in order. With a single `alpha` for all neurons this is
/// the paper's `P = alpha²` for the first layer, `1/alpha²` for the second layer's weights and 1
/// for its bias.
pub fn rescale_factors(widths: &[usize], layer: usize, alphas: &[f32]) -> Result<Vec<LayerFactors>, ModelError> {
    check_alphas(widths, layer, alphas)?;
    let mut factors: Vec<LayerFactors> =
        widths.windows(2).map(|p| LayerFactors { weight: vec![1.0; p[0] * p[1]], bias: vec![1.0; p[1]] }).collect();
    let squares: Vec<f64> = alphas.iter().map(|&a| f64::from(a) * f64::from(a)).collect();
    let (fan_in, width, fan_out) = (widths[layer], widths[layer + 1], widths[layer + 2]);
    let incoming = &mut factors[layer];
    for i in 0..fan_in {
        for (j, square) in squares.iter().enumerate() {
            incoming.weight[i * width + j] = *square as f32;
        }
    }
    for (j, square) in squares.iter().enumerate() {
        incoming.bias[j] = *square as f32;
    }
    let outgoing = &mut factors[layer + 1];
    for (j, square) in squares.iter().enumerate() {
        for k in 0..fan_out {
            outgoing.weight[j * fan_out + k] = (1.0 / square) as f32;
        }
    }
    Ok(factors)
}

/// Replaces a parameter's value by `func(value)`, keeping its id and making the result a fresh
/// leaf that requires gradients.
fn remap<B: Backend, const D: usize>(
    param: &Param<Tensor<B, D>>,
    func: impl FnOnce(Tensor<B, D>) -> Tensor<B, D>,
) -> Param<Tensor<B, D>> {
    let (id, value, mapper) = param.clone().consume();
    Param::from_mapped_value(id, func(value.detach()).detach().require_grad(), mapper)
}

impl<B: Backend> Mlp<B> {
    /// The same function with hidden layer `layer` (numbered from 0) rescaled neuron by neuron
    /// (docs/method.md §6): neuron `j` gets its incoming weights and bias multiplied by `alphas[j]` and
    /// its outgoing weights divided by `alphas[j]`.
    ///
    /// There must be one factor per neuron of the layer, each finite and positive (a negative or
    /// zero factor would change the function); the parameters keep their ids.
    pub fn rescale_hidden(&self, layer: usize, alphas: &[f32]) -> Result<Mlp<B>, ModelError> {
        check_alphas(&self.widths(), layer, alphas)?;
        let width = alphas.len();
        let incoming = &self.layers[layer];
        let outgoing = &self.layers[layer + 1];
        let device = incoming.weight.device();
        let alpha: Tensor<B, 1> = tensor_from_f32(alphas.to_vec(), [width], &device);
        let mut result = self.clone();
        let row = alpha.clone().reshape([1, width]);
        result.layers[layer].weight = remap(&incoming.weight, |w| w * row);
        result.layers[layer].bias = incoming.bias.as_ref().map(|b| remap(b, |b| b * alpha.clone()));
        let column = alpha.reshape([width, 1]);
        result.layers[layer + 1].weight = remap(&outgoing.weight, |w| w / column);
        Ok(result)
    }

    /// The preconditioner factors of [`rescale_factors`] for this network, one [`ParamFactors`]
    /// per parameter tensor in the module's visiting order (each layer's weight, then its bias).
    ///
    /// The factors are for sampling the rescaled network [`Mlp::rescale_hidden`] returns, which
    /// keeps this network's parameter ids.
    pub fn rescale_preconditioner(&self, layer: usize, alphas: &[f32]) -> Result<Vec<ParamFactors>, ModelError> {
        let factors = rescale_factors(&self.widths(), layer, alphas)?;
        let mut out = Vec::with_capacity(2 * factors.len());
        for (linear, layer_factors) in self.layers.iter().zip(factors) {
            out.push(ParamFactors {
                id: linear.weight.id,
                shape: linear.weight.dims().to_vec(),
                factors: layer_factors.weight,
            });
            if let Some(bias) = &linear.bias {
                out.push(ParamFactors { id: bias.id, shape: bias.dims().to_vec(), factors: layer_factors.bias });
            }
        }
        Ok(out)
    }
}
