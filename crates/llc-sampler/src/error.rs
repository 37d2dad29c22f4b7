//! The sampler's error type.

use std::fmt;

/// Why a sampler could not be built or could not take a step.
#[derive(Debug, Clone, PartialEq)]
pub enum SamplerError {
    /// A setting is out of its valid range.
    InvalidSetting {
        /// The setting's name, as the user would write it.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What would have been valid.
        expected: &'static str,
    },
    /// A preconditioner does not fit the module it is used with.
    PreconditionerMismatch(String),
    /// The stacked chains do not fit the module, or their noise sources do not fit the chains.
    ChainMismatch(String),
}

impl fmt::Display for SamplerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSetting { name, value, expected } => {
                write!(f, "{name} = {value} is invalid; it must be {expected}")
            }
            Self::PreconditionerMismatch(why) => write!(f, "the preconditioner does not fit the model: {why}"),
            Self::ChainMismatch(why) => write!(f, "the chains do not fit the model: {why}"),
        }
    }
}

impl std::error::Error for SamplerError {}
