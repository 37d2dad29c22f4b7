//! Teachers: the true networks that generate the noiseless targets, built on the host in f64
//! from a seed (docs/method.md §3, §5, §6).

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dln::{Dln, chain_widths, check_layer_count};
use crate::error::ModelError;
use crate::host::{check_len, matrix_to_tensor, validate_widths, vector_to_tensor};
use crate::linalg::{gaussian_matrix, numerical_rank, truncate_rank};
use crate::mlp::Mlp;

/// How many fresh draws [`DlnTeacher::with_rank`] tries before it reports that the rank was not
/// reached (a failure has probability zero in exact arithmetic).
const RANK_ATTEMPTS: usize = 8;

/// The standard deviation `1/√fan_in` of the paper's weight initialization (docs/method.md §3).
fn init_std(fan_in: usize) -> f64 {
    1.0 / (fan_in as f64).sqrt()
}

/// Fails unless every entry of every matrix and vector is finite.
fn check_finite<'a>(values: impl IntoIterator<Item = &'a f64>) -> Result<(), ModelError> {
    match values.into_iter().find(|v| !v.is_finite()) {
        Some(&value) => Err(ModelError::InvalidValue { what: "a teacher parameter", value, requirement: "finite" }),
        None => Ok(()),
    }
}

/// A deep linear network teacher in f64 (docs/method.md §3): the weights `W_1, …, W_M` (matrix `s` of
/// shape `[H_s, H_{s+1}]`, so that `y = x·W_1⋯W_M`) and the numerical rank `r` of their product,
/// the quantity Aoyagi's formula for lambda needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DlnTeacher {
    weights: Vec<DMatrix<f64>>,
    widths: Vec<usize>,
    true_rank: usize,
}

impl DlnTeacher {
    /// Draws a teacher with the paper's procedure (docs/method.md §3).
    ///
    /// For each layer `s` in order, the `[H_s, H_{s+1}]` matrix gets i.i.d. `N(0, 1/H_s)` entries
    /// (standard deviation `1/√fan_in`, drawn in row-major order); then, with probability 0.5, its
    /// rank `min(H_s, H_{s+1})` is cut by an amount `k` drawn uniformly from `{0, …, rank − 1}`:
    /// the `k` smallest singular values are set to zero. All draws come from one
    /// `ChaCha8Rng::seed_from_u64(seed)` stream, so the same widths and seed give the same teacher.
    pub fn random(widths: &[usize], seed: u64) -> Result<Self, ModelError> {
        validate_widths(widths)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut weights = Vec::with_capacity(widths.len() - 1);
        for pair in widths.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let mut w = gaussian_matrix(&mut rng, fan_in, fan_out, init_std(fan_in));
            if rng.random_bool(0.5) {
                let rank = fan_in.min(fan_out);
                let cut = rng.random_range(0..rank);
                w = truncate_rank(&w, rank - cut);
            }
            weights.push(w);
        }
        Ok(Self::from_checked(weights, widths.to_vec()))
    }

    /// Draws a teacher whose product `W_1⋯W_M` has rank exactly `rank` (as measured by
    /// [`DlnTeacher::true_rank`]).
    ///
    /// All matrices are drawn as in [`DlnTeacher::random`] without the random cut; the first one is
    /// then truncated to its `rank` largest singular values. The other factors are full rank with
    /// probability one and `rank` is at most every width, so the product has rank `rank`; this is
    /// checked, and in the probability-zero event that it fails a fresh draw from the same stream
    /// is tried. `rank = 0` gives the zero map. A rank above the narrowest width is an error.
    ///
    /// Note that λ̂ at a teacher estimates the *local* learning coefficient there, which equals
    /// Aoyagi's (global) λ only at some teachers: docs/dln-teachers.md explains which.
    pub fn with_rank(widths: &[usize], rank: usize, seed: u64) -> Result<Self, ModelError> {
        validate_widths(widths)?;
        let narrowest = widths.iter().copied().min().unwrap_or(0);
        if rank > narrowest {
            return Err(ModelError::RankTooLarge { rank, narrowest });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut last_rank = 0;
        for _ in 0..RANK_ATTEMPTS {
            let mut weights: Vec<DMatrix<f64>> =
                widths.windows(2).map(|p| gaussian_matrix(&mut rng, p[0], p[1], init_std(p[0]))).collect();
            weights[0] = truncate_rank(&weights[0], rank);
            let teacher = Self::from_checked(weights, widths.to_vec());
            if teacher.true_rank == rank {
                return Ok(teacher);
            }
            last_rank = teacher.true_rank;
        }
        Err(ModelError::RankNotReached { wanted: rank, got: last_rank })
    }

    /// Draws a teacher with every matrix full rank (entries N(0, 1/fan_in), no cut), so that its
    /// product has the rank of the narrowest width. At such a teacher the local learning
    /// coefficient equals Aoyagi's λ (docs/dln-teachers.md).
    pub fn full_rank(widths: &[usize], seed: u64) -> Result<Self, ModelError> {
        let narrowest = widths.iter().copied().min().unwrap_or(0);
        validate_widths(widths)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut last_rank = 0;
        for _ in 0..RANK_ATTEMPTS {
            let weights: Vec<DMatrix<f64>> =
                widths.windows(2).map(|p| gaussian_matrix(&mut rng, p[0], p[1], init_std(p[0]))).collect();
            let teacher = Self::from_checked(weights, widths.to_vec());
            if teacher.true_rank == narrowest {
                return Ok(teacher);
            }
            last_rank = teacher.true_rank;
        }
        Err(ModelError::RankNotReached { wanted: narrowest, got: last_rank })
    }

    /// Wraps given f64 weight matrices (matrix `s` of shape `[H_s, H_{s+1}]`) as a teacher.
    ///
    /// The matrices must chain, have no zero dimension and hold only finite values.
    pub fn from_matrices(weights: Vec<DMatrix<f64>>) -> Result<Self, ModelError> {
        let widths = chain_widths(&weights)?;
        validate_widths(&widths)?;
        check_finite(weights.iter().flat_map(|w| w.iter()))?;
        Ok(Self::from_checked(weights, widths))
    }

    fn from_checked(weights: Vec<DMatrix<f64>>, widths: Vec<usize>) -> Self {
        let true_rank = numerical_rank(&product_of(&weights));
        Self { weights, widths, true_rank }
    }

    /// The widths `H_1, …, H_{M+1}`.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// The weight matrices `W_1, …, W_M`, matrix `s` of shape `[H_s, H_{s+1}]`.
    pub fn weights(&self) -> &[DMatrix<f64>] {
        &self.weights
    }

    /// The number of parameters `d = Σ_s H_s·H_{s+1}`.
    pub fn num_params(&self) -> usize {
        self.weights.iter().map(|w| w.len()).sum()
    }

    /// The `H_1 × H_{M+1}` product `W_1⋯W_M` in f64, so that the teacher maps `x` to
    /// `x·product()`.
    pub fn product(&self) -> DMatrix<f64> {
        product_of(&self.weights)
    }

    /// The rank `r` of the product `W_1⋯W_M`, computed once in f64 by SVD with the tolerance
    /// `max(rows, cols)·sigma_max·f64::EPSILON` (0 for an all-zero product); see
    /// [`numerical_rank`](crate::numerical_rank).
    pub fn true_rank(&self) -> usize {
        self.true_rank
    }

    /// The teacher as an f32 burn module on `device`.
    pub fn to_module<B: Backend>(&self, device: &B::Device) -> Dln<B> {
        Dln { weights: self.weights.iter().map(|w| Param::from_tensor(matrix_to_tensor(w, device))).collect() }
    }
}

/// The product of a non-empty chain of matrices, left to right.
fn product_of(weights: &[DMatrix<f64>]) -> DMatrix<f64> {
    let mut iter = weights.iter();
    let first = iter.next().cloned().unwrap_or_else(|| DMatrix::zeros(0, 0));
    iter.fold(first, |acc, w| acc * w)
}

/// A ReLU network teacher in f64 (docs/method.md §5, §6): weights `W_k` of shape `[H_k, H_{k+1}]` and
/// biases `b_k`, with the paper's random initialization and an optional planted degeneracy.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpTeacher {
    weights: Vec<DMatrix<f64>>,
    biases: Vec<DVector<f64>>,
    widths: Vec<usize>,
}

impl MlpTeacher {
    /// Draws a teacher: weights i.i.d. `N(0, 1/fan_in)`, hidden-layer biases i.i.d.
    /// `N(0, hidden_bias_std²)` (the paper uses 1.0), output biases zero.
    ///
    /// Layer by layer, the weight entries are drawn in row-major order and then the biases of a
    /// hidden layer, all from one `ChaCha8Rng::seed_from_u64(seed)` stream. `hidden_bias_std`
    /// must be finite and non-negative.
    pub fn random(widths: &[usize], seed: u64, hidden_bias_std: f64) -> Result<Self, ModelError> {
        validate_widths(widths)?;
        if !(hidden_bias_std.is_finite() && hidden_bias_std >= 0.0) {
            return Err(ModelError::InvalidValue {
                what: "the hidden bias standard deviation",
                value: hidden_bias_std,
                requirement: "finite and non-negative",
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let layers = widths.len() - 1;
        let mut weights = Vec::with_capacity(layers);
        let mut biases = Vec::with_capacity(layers);
        for (k, pair) in widths.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            weights.push(gaussian_matrix(&mut rng, fan_in, fan_out, init_std(fan_in)));
            let bias = if k + 1 < layers {
                gaussian_matrix(&mut rng, 1, fan_out, hidden_bias_std).row(0).transpose()
            } else {
                DVector::zeros(fan_out)
            };
            biases.push(bias);
        }
        Ok(Self { weights, biases, widths: widths.to_vec() })
    }

    /// Wraps given f64 weights (matrix `k` of shape `[H_k, H_{k+1}]`) and biases (length
    /// `H_{k+1}`) as a teacher. The shapes must chain and every value must be finite.
    pub fn from_parts(weights: Vec<DMatrix<f64>>, biases: Vec<DVector<f64>>) -> Result<Self, ModelError> {
        let widths = chain_widths(&weights)?;
        validate_widths(&widths)?;
        check_layer_count(&widths, biases.len())?;
        for (k, b) in biases.iter().enumerate() {
            check_len(|| format!("bias of layer {}", k + 1), b.len(), &[widths[k + 1]])?;
        }
        check_finite(weights.iter().flat_map(|w| w.iter()).chain(biases.iter().flat_map(|b| b.iter())))?;
        Ok(Self { weights, biases, widths })
    }

    /// Plants a degeneracy (docs/method.md §6): each neuron in `copies` of hidden layer `layer` gets the
    /// incoming weights and the bias of neuron `source` of the same layer, so those neurons compute
    /// the same function. Outgoing weights are left as they are. Hidden layers and neurons are
    /// numbered from 0; the paper makes neurons 1, 2, 3, 4, 5 and 8 copies of neuron 0.
    ///
    /// All indices are checked before anything is changed.
    pub fn plant_copies(&mut self, layer: usize, source: usize, copies: &[usize]) -> Result<(), ModelError> {
        let hidden_layers = self.weights.len() - 1;
        if layer >= hidden_layers {
            return Err(ModelError::LayerOutOfRange { layer, hidden_layers });
        }
        let width = self.widths[layer + 1];
        if let Some(&neuron) = std::iter::once(&source).chain(copies).find(|&&j| j >= width) {
            return Err(ModelError::NeuronOutOfRange { layer, neuron, width });
        }
        let w = &mut self.weights[layer];
        let b = &mut self.biases[layer];
        let incoming = w.column(source).clone_owned();
        for &j in copies {
            w.set_column(j, &incoming);
            b[j] = b[source];
        }
        Ok(())
    }

    /// The widths `H_1, …, H_{M+1}`.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// The weight matrices, matrix `k` of shape `[H_k, H_{k+1}]`.
    pub fn weights(&self) -> &[DMatrix<f64>] {
        &self.weights
    }

    /// The bias vectors, vector `k` of length `H_{k+1}`.
    pub fn biases(&self) -> &[DVector<f64>] {
        &self.biases
    }

    /// The number of parameters: all weights plus all biases.
    pub fn num_params(&self) -> usize {
        self.weights.iter().map(|w| w.len()).sum::<usize>() + self.biases.iter().map(|b| b.len()).sum::<usize>()
    }

    /// Applies the teacher in f64 to the rows of `x` (`[samples, H_1]`) and returns the
    /// `[samples, H_{M+1}]` outputs, with a ReLU after every layer but the last.
    pub fn forward(&self, x: &DMatrix<f64>) -> Result<DMatrix<f64>, ModelError> {
        if x.ncols() != self.widths[0] {
            return Err(ModelError::ShapeMismatch {
                what: "teacher input".to_owned(),
                expected: vec![x.nrows(), self.widths[0]],
                got: vec![x.nrows(), x.ncols()],
            });
        }
        let last = self.weights.len() - 1;
        let mut h = x.clone();
        for (k, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let mut z = &h * w;
            for mut row in z.row_iter_mut() {
                row += b.transpose();
            }
            if k < last {
                z.apply(|v| *v = v.max(0.0));
            }
            h = z;
        }
        Ok(h)
    }

    /// The teacher as an f32 burn module on `device`.
    pub fn to_module<B: Backend>(&self, device: &B::Device) -> Mlp<B> {
        let layers = self
            .weights
            .iter()
            .zip(&self.biases)
            .map(|(w, b)| Linear {
                weight: Param::from_tensor(matrix_to_tensor(w, device)),
                bias: Some(Param::from_tensor(vector_to_tensor(b, device))),
            })
            .collect();
        Mlp { layers }
    }
}
