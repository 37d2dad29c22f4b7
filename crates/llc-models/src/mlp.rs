//! ReLU multilayer perceptrons with biases (docs/method.md §5 and §6).

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use nalgebra::{DMatrix, DVector};

use crate::dln::{chain_widths, check_layer_count};
use crate::error::ModelError;
use crate::host::{check_len, matrix_to_tensor, tensor_from_f32, tensor_to_vec, validate_widths, vector_to_tensor};

/// A ReLU network with biases: `h_0 = x`, `h_k = ReLU(h_{k−1}·W_k + b_k)` for the hidden layers and
/// `f(x) = h_{M−1}·W_M + b_M` (no ReLU after the last layer), as in the paper's MLP experiments
/// (docs/method.md §5, §6).
///
/// Layer `k` is a burn [`Linear`] whose weight is stored as `[d_input, d_output]` (fan-in ×
/// fan-out) and whose bias has `d_output` entries. Hidden layer `k` (numbered from 0) is the output
/// of `layers[k]`; a network with widths `[10, 20, 20, 10]` has two hidden layers of 20 neurons
/// and `d = 10·20 + 20 + 20·20 + 20 + 20·10 + 10 = 850` parameters.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    /// The affine layers from input to output.
    pub layers: Vec<Linear<B>>,
}

/// The weights and biases of one affine layer, copied to the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostLayer {
    /// The `[d_input, d_output]` weight in row-major order.
    pub weight: Vec<f32>,
    /// The `d_output` biases (empty if the layer has none).
    pub bias: Vec<f32>,
}

impl<B: Backend> Mlp<B> {
    /// Builds a network whose layer `k` has weight `weights[k]` (shape `[H_k, H_{k+1}]`) and bias
    /// `biases[k]` (length `H_{k+1}`), rounded to f32.
    pub fn from_matrices(
        weights: &[DMatrix<f64>],
        biases: &[DVector<f64>],
        device: &B::Device,
    ) -> Result<Self, ModelError> {
        let widths = chain_widths(weights)?;
        validate_widths(&widths)?;
        check_layer_count(&widths, biases.len())?;
        let mut layers = Vec::with_capacity(weights.len());
        for (k, (w, b)) in weights.iter().zip(biases).enumerate() {
            check_len(|| format!("bias of layer {}", k + 1), b.len(), &[widths[k + 1]])?;
            layers.push(Linear {
                weight: Param::from_tensor(matrix_to_tensor(w, device)),
                bias: Some(Param::from_tensor(vector_to_tensor(b, device))),
            });
        }
        Ok(Self { layers })
    }

    /// Builds a network from the widths `H_1, …, H_{M+1}` and row-major f32 host buffers: weight
    /// `k` holds the `[H_k, H_{k+1}]` matrix, bias `k` its `H_{k+1}` biases.
    pub fn from_host(
        widths: &[usize],
        weights: &[Vec<f32>],
        biases: &[Vec<f32>],
        device: &B::Device,
    ) -> Result<Self, ModelError> {
        validate_widths(widths)?;
        check_layer_count(widths, weights.len())?;
        check_layer_count(widths, biases.len())?;
        let mut layers = Vec::with_capacity(weights.len());
        for (k, (w, b)) in weights.iter().zip(biases).enumerate() {
            let shape = [widths[k], widths[k + 1]];
            check_len(|| format!("weight of layer {}", k + 1), w.len(), &shape)?;
            check_len(|| format!("bias of layer {}", k + 1), b.len(), &[widths[k + 1]])?;
            layers.push(Linear {
                weight: Param::from_tensor(tensor_from_f32(w.clone(), shape, device)),
                bias: Some(Param::from_tensor(tensor_from_f32(b.clone(), [widths[k + 1]], device))),
            });
        }
        Ok(Self { layers })
    }

    /// Applies the network to a `[batch, H_1]` input and returns the `[batch, H_{M+1}]` output,
    /// with a ReLU after every layer except the last.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len().saturating_sub(1);
        self.layers.iter().enumerate().fold(x, |h, (k, layer)| {
            let z = layer.forward(h);
            if k < last { relu(z) } else { z }
        })
    }

    /// The widths `H_1, …, H_{M+1}` (input first, output last); empty for a network without
    /// layers.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(self.layers.len() + 1);
        for (k, layer) in self.layers.iter().enumerate() {
            let [fan_in, fan_out] = layer.weight.dims();
            if k == 0 {
                widths.push(fan_in);
            }
            widths.push(fan_out);
        }
        widths
    }

    /// The number of hidden layers (one less than the number of affine layers).
    pub fn hidden_layers(&self) -> usize {
        self.layers.len().saturating_sub(1)
    }

    /// The number of parameters: all weights plus all biases.
    pub fn num_params(&self) -> usize {
        self.layers
            .iter()
            .map(|layer| {
                let weights: usize = layer.weight.dims().iter().product();
                let biases = layer.bias.as_ref().map_or(0, |b| b.dims()[0]);
                weights + biases
            })
            .sum()
    }

    /// The weights and biases copied to the host, one [`HostLayer`] per affine layer.
    pub fn layers_host(&self) -> Vec<HostLayer> {
        self.layers
            .iter()
            .map(|layer| HostLayer {
                weight: tensor_to_vec(layer.weight.val()),
                bias: layer.bias.as_ref().map_or_else(Vec::new, |b| tensor_to_vec(b.val())),
            })
            .collect()
    }
}
