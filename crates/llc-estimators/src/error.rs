//! The estimator's error types.
//!
//! Every message is one line that names the problem. [`EstimatorError`]'s `Display` is complete
//! on its own, and where a failure has a cause of its own type (the sampler's [`SamplerError`], a
//! model's error), `source()` returns it as well, so that callers can match on it.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use llc_sampler::SamplerError;

/// Why an estimate could not start. (Divergent chains are not errors: they are reported in the
/// result, next to the chains that finished.)
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EstimatorError {
    /// The settings are invalid for this data set, or do not work together.
    InvalidConfig(ConfigError),
    /// The sampler refused the model or the preconditioner (e.g. the model has no float
    /// parameters, or the preconditioner was built for another module).
    Sampler(SamplerError),
    /// The loss at w* over the full data set is not finite.
    InitialLoss(f64),
    /// The model could not be prepared for the estimate (for example, replicated into stacked
    /// copies); the source is the model's own error.
    Model(Arc<dyn Error + Send + Sync + 'static>),
}

impl EstimatorError {
    /// Wraps a model's error (see [`EstimatorError::Model`]).
    pub fn model(error: impl Error + Send + Sync + 'static) -> Self {
        Self::Model(Arc::new(error))
    }

    /// Whether the error is the caller's input (settings that are out of range or do not fit
    /// together, or a model or preconditioner that does not fit the sampler), as opposed to a
    /// failure of the computation itself (a non-finite loss at w*).
    pub fn is_input_error(&self) -> bool {
        matches!(self, Self::InvalidConfig(_) | Self::Sampler(_) | Self::Model(_))
    }
}

impl fmt::Display for EstimatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(why) => write!(f, "invalid estimator configuration: {why}"),
            Self::Sampler(why) => write!(f, "the sampler cannot start: {why}"),
            Self::InitialLoss(value) => write!(f, "the full-data loss at w* is {value}, not a finite number"),
            Self::Model(why) => write!(f, "the model cannot be prepared: {why}"),
        }
    }
}

impl Error for EstimatorError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::InvalidConfig(why) => Some(why),
            Self::Sampler(why) => Some(why),
            Self::Model(why) => Some(why.as_ref()),
            Self::InitialLoss(_) => None,
        }
    }
}

impl From<ConfigError> for EstimatorError {
    fn from(error: ConfigError) -> Self {
        Self::InvalidConfig(error)
    }
}

impl From<SamplerError> for EstimatorError {
    fn from(error: SamplerError) -> Self {
        Self::Sampler(error)
    }
}

/// What is wrong with an estimator's settings: checked before any step runs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The data set has no samples.
    EmptyData,
    /// A count that must be at least 1 is 0 (`name` is "chains", "steps", "thinning" or
    /// "stacked chains").
    Zero {
        /// The setting.
        name: &'static str,
    },
    /// Burn-in leaves no draws.
    BurnIn {
        /// The burn-in steps.
        burn_in: usize,
        /// The steps per chain.
        steps: usize,
    },
    /// The minibatch is empty or larger than the data set.
    BatchSize {
        /// The batch size.
        batch_size: usize,
        /// The number of samples.
        n: usize,
    },
    /// A real-valued setting is out of range.
    OutOfRange {
        /// The setting, as the user would write it.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What it must satisfy, as a verb phrase ("be finite and > 0").
        requirement: &'static str,
    },
    /// The automatic step size would never measure what it adapts on (`what` is "the
    /// acceptance" or "the gradient noise").
    NeverMeasures {
        /// What it would not measure.
        what: &'static str,
    },
    /// Burn-in is too short for the automatic step size to settle.
    ShortAdaptation {
        /// The burn-in steps.
        burn_in: usize,
        /// The acceptance measures they give.
        measures: usize,
        /// The fewest allowed.
        needed: usize,
    },
    /// The chains cannot be split into groups of stacked chains.
    StackedGroups {
        /// The number of chains.
        chains: usize,
        /// The chains per stacked group.
        copies: usize,
    },
    /// MALA was asked to run stacked chains.
    StackedMala,
    /// A fixed preconditioner was given to an RMSprop sampler, which adapts its own.
    PreconditionerWithRmsprop,
    /// The per-chain sampler settings (ε, γ, nβ) are invalid.
    Sampler(SamplerError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyData => write!(f, "the data set is empty (n = 0)"),
            Self::Zero { name } => write!(f, "{name} must be at least 1"),
            Self::BurnIn { burn_in, steps } => {
                write!(f, "burn-in ({burn_in}) must be smaller than the number of steps ({steps}) so that draws remain")
            }
            Self::BatchSize { batch_size, n } => {
                write!(f, "batch size must be between 1 and n = {n}, got {batch_size}")
            }
            Self::OutOfRange { name, value, requirement } => write!(f, "{name} must {requirement}, got {value}"),
            Self::NeverMeasures { what } => {
                write!(f, "the adaptation must measure {what} every 1 or more steps, got 0")
            }
            Self::ShortAdaptation { burn_in, measures, needed } => write!(
                f,
                "the automatic step size needs at least {needed} acceptance measures during burn-in, but {burn_in} \
                 burn-in steps give {measures}; use a longer burn-in or a fixed ε"
            ),
            Self::StackedGroups { chains, copies } => {
                write!(f, "{chains} chains cannot be split into groups of {copies} stacked chains")
            }
            Self::StackedMala => {
                write!(f, "MALA cannot run stacked chains: it steps one chain at a time on the full data set")
            }
            Self::PreconditionerWithRmsprop => {
                write!(f, "a fixed diagonal preconditioner cannot be combined with an RMSprop sampler")
            }
            Self::Sampler(why) => write!(f, "{why}"),
        }
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Sampler(why) => Some(why),
            _ => None,
        }
    }
}
