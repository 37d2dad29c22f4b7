//! The estimator's error type.

use std::fmt;

/// Why an estimate could not start. (Divergent chains are not errors: they are reported in the
/// result, next to the chains that finished.)
#[derive(Debug, Clone, PartialEq)]
pub enum EstimatorError {
    /// The configuration is invalid for this data set.
    InvalidConfig(String),
    /// The sampler refused the model (e.g. it has no float parameters).
    Sampler(String),
    /// The loss at w* over the full data set is not finite.
    InitialLoss(f64),
}

impl fmt::Display for EstimatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(why) => write!(f, "invalid estimator configuration: {why}"),
            Self::Sampler(why) => write!(f, "the sampler cannot start: {why}"),
            Self::InitialLoss(value) => write!(f, "the full-data loss at w* is {value}, not a finite number"),
        }
    }
}

impl std::error::Error for EstimatorError {}
