//! The one error type of the theory crate.

use std::fmt;

/// Why a closed-form learning coefficient could not be computed for the given architecture.
///
/// Every variant is a problem with the caller's input; none of them is a bug in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TheoryError {
    /// The width list is empty.
    NoWidths,
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
    /// The true rank exceeds the narrowest width, so no network of this shape has it.
    RankTooLarge {
        /// The rank asked for.
        rank: usize,
        /// The smallest width of the network, an upper bound on the rank of its product.
        narrowest: usize,
    },
    /// A width or the number of layers is beyond what the exact arithmetic supports.
    TooLarge {
        /// What was too large, for the message.
        what: &'static str,
        /// The value that was given.
        value: usize,
        /// The largest supported value.
        max: usize,
    },
}

impl fmt::Display for TheoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoWidths => write!(f, "the width list is empty; give at least an input and an output width"),
            Self::TooFewWidths { got } => write!(f, "a network needs at least 2 widths (input and output), got {got}"),
            Self::ZeroWidth { index } => write!(f, "width number {} is 0; every width must be at least 1", index + 1),
            Self::RankTooLarge { rank, narrowest } => write!(
                f,
                "rank {rank} exceeds the narrowest width {narrowest}; the rank must be between 0 and {narrowest}"
            ),
            Self::TooLarge { what, value, max } => {
                write!(f, "{what} {value} is too large (at most {max} is supported)")
            }
        }
    }
}

impl std::error::Error for TheoryError {}
