//! The one error type of the models crate.

use std::fmt;

/// Why a network, a teacher, a data set or a rescaling could not be built from the given input.
///
/// Every variant describes a problem with the caller's input (a width list, a rank, an index, a
/// scale factor); the crate returns these instead of panicking.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// A network needs at least an input and an output width.
    TooFewWidths {
        /// How many widths were given.
        got: usize,
    },
    /// A layer has width zero.
    ZeroWidth {
        /// Position of the offending width in the list (0 = input).
        index: usize,
    },
    /// The requested rank exceeds the narrowest width, so no product of this shape has it.
    RankTooLarge {
        /// The rank asked for.
        rank: usize,
        /// The smallest width of the network, an upper bound on the rank of its product.
        narrowest: usize,
    },
    /// A host buffer or matrix has the wrong number of elements or the wrong shape.
    ShapeMismatch {
        /// What was being checked, for the message (for example "weight of layer 2").
        what: String,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape (or length) that was given.
        got: Vec<usize>,
    },
    /// A hidden-layer index is out of range.
    LayerOutOfRange {
        /// The hidden layer asked for (0 = the output of the first linear layer).
        layer: usize,
        /// How many hidden layers the network has.
        hidden_layers: usize,
    },
    /// A neuron index is out of range for its hidden layer.
    NeuronOutOfRange {
        /// The hidden layer.
        layer: usize,
        /// The neuron asked for.
        neuron: usize,
        /// The width of that hidden layer.
        width: usize,
    },
    /// A rescaling factor alpha is not a finite positive number.
    InvalidAlpha {
        /// The neuron whose factor is invalid.
        neuron: usize,
        /// The factor that was given.
        value: f32,
    },
    /// A numeric setting (a standard deviation, a range bound) is not usable.
    InvalidValue {
        /// What the value is, for the message.
        what: &'static str,
        /// The value that was given.
        value: f64,
        /// What it should satisfy.
        requirement: &'static str,
    },
    /// The sampling range of the synthetic inputs is empty or not finite.
    InvalidRange {
        /// The lower bound that was given.
        low: f32,
        /// The upper bound that was given.
        high: f32,
    },
    /// A sample index is not smaller than the number of samples.
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// The number of samples.
        n: usize,
    },
    /// A minibatch or a data set with no samples was requested.
    Empty {
        /// What was empty, for the message.
        what: &'static str,
    },
    /// The data set is too large to be addressed (n times the width overflows).
    TooLarge {
        /// What overflowed, for the message.
        what: &'static str,
    },
    /// A random construction did not reach the requested rank after several attempts.
    RankNotReached {
        /// The rank asked for.
        wanted: usize,
        /// The rank of the last attempt.
        got: usize,
    },
    /// A minibatch size is zero or larger than the data set.
    BatchSizeOutOfRange {
        /// The batch size that was given.
        batch_size: usize,
        /// The number of samples in the data set.
        n: usize,
    },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewWidths { got } => write!(f, "a network needs at least 2 widths (input and output), got {got}"),
            Self::ZeroWidth { index } => write!(f, "width number {} is 0; every width must be at least 1", index + 1),
            Self::RankTooLarge { rank, narrowest } => write!(
                f,
                "rank {rank} exceeds the narrowest width {narrowest}; the rank must be between 0 and {narrowest}"
            ),
            Self::ShapeMismatch { what, expected, got } => {
                write!(f, "{what} has shape {got:?}, expected {expected:?}")
            }
            Self::LayerOutOfRange { layer, hidden_layers } => write!(
                f,
                "hidden layer {layer} does not exist; the network has {hidden_layers} hidden layer(s), numbered from 0"
            ),
            Self::NeuronOutOfRange { layer, neuron, width } => write!(
                f,
                "neuron {neuron} does not exist in hidden layer {layer}, which has {width} neuron(s), numbered from 0"
            ),
            Self::InvalidAlpha { neuron, value } => {
                write!(f, "the rescaling factor alpha of neuron {neuron} is {value}; it must be finite and positive")
            }
            Self::InvalidValue { what, value, requirement } => write!(f, "{what} is {value}; it must be {requirement}"),
            Self::InvalidRange { low, high } => {
                write!(f, "the input range [{low}, {high}] is invalid; the bounds must be finite with low < high")
            }
            Self::IndexOutOfRange { index, n } => {
                write!(f, "sample index {index} is out of range for a data set of {n} sample(s)")
            }
            Self::Empty { what } => write!(f, "{what} is empty"),
            Self::TooLarge { what } => write!(f, "{what} is too large to be addressed"),
            Self::RankNotReached { wanted, got } => {
                write!(f, "could not build a teacher of rank {wanted} (the last attempt had rank {got})")
            }
            Self::BatchSizeOutOfRange { batch_size, n } => {
                write!(f, "the batch size is {batch_size}; it must be between 1 and n = {n}")
            }
        }
    }
}

impl std::error::Error for ModelError {}
