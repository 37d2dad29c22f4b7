//! The sampler's error type.

use std::fmt;

/// Why a sampler could not be built or could not take a step. Every variant carries the values
/// that make up its message, so that callers can match on what went wrong.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
    /// The module has no float parameters to sample.
    NoParameters,
    /// A preconditioner does not fit the module it is used with.
    Preconditioner(PreconditionerMismatch),
    /// The stacked chains do not fit the module, or their noise sources do not fit the chains.
    Chains(ChainMismatch),
}

/// How a fixed diagonal preconditioner fails to fit a module or a sampler.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PreconditionerMismatch {
    /// It has a different number of factor vectors than the module has float parameters.
    ParameterCount {
        /// Factor vectors given.
        factors: usize,
        /// Float parameters of the module.
        parameters: usize,
    },
    /// One factor vector has the wrong length.
    ParameterLength {
        /// The parameter, in visit order.
        parameter: usize,
        /// Its number of elements.
        elements: usize,
        /// The number of factors given for it.
        factors: usize,
    },
    /// A factor is not finite and positive.
    BadFactor {
        /// The parameter, in visit order.
        parameter: usize,
        /// The factor.
        value: f32,
    },
    /// It was built for another module (its parameter ids are not the module's).
    OtherModule,
    /// The sampler adapts its own preconditioner (RMSprop), which a fixed one cannot join.
    WithRmsprop,
}

/// How stacked chains fail to fit their module or their noise sources.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChainMismatch {
    /// Zero chains were asked for.
    NoChains,
    /// A parameter's leading dimension is not the number of stacked chains.
    LeadingDimension {
        /// The number of stacked chains C.
        copies: usize,
        /// The parameter, in visit order.
        parameter: usize,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// The noise sources are not one host stream per chain, nor backend noise.
    NoiseSources {
        /// The number of chains.
        copies: usize,
        /// The number of sources given.
        given: usize,
        /// Whether host and backend sources were mixed.
        mixed: bool,
    },
}

impl fmt::Display for SamplerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSetting { name, value, expected } => {
                write!(f, "{name} = {value} is invalid; it must be {expected}")
            }
            Self::NoParameters => write!(f, "the module has no float parameters to sample"),
            Self::Preconditioner(why) => write!(f, "the preconditioner does not fit the model: {why}"),
            Self::Chains(why) => write!(f, "the chains do not fit the model: {why}"),
        }
    }
}

impl fmt::Display for PreconditionerMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ParameterCount { factors, parameters } => {
                write!(f, "{factors} factor vectors for {parameters} parameters")
            }
            Self::ParameterLength { parameter, elements, factors } => {
                write!(f, "parameter {parameter} has {elements} elements but {factors} factors")
            }
            Self::BadFactor { parameter, value } => {
                write!(f, "parameter {parameter} has the factor {value}; factors must be finite and > 0")
            }
            Self::OtherModule => write!(f, "it was built for another module"),
            Self::WithRmsprop => write!(f, "a fixed diagonal preconditioner cannot be combined with RMSprop"),
        }
    }
}

impl fmt::Display for ChainMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoChains => write!(f, "there must be at least one chain"),
            Self::LeadingDimension { copies, parameter, shape } => write!(
                f,
                "{copies} stacked chains need every parameter's first dimension to be {copies}, but parameter \
                 {parameter} has shape {shape:?}"
            ),
            Self::NoiseSources { copies, given, mixed } => write!(
                f,
                "{copies} chains need {copies} host noise streams or backend noise, got {given} sources{}",
                if *mixed { " of both kinds" } else { "" }
            ),
        }
    }
}

impl std::error::Error for SamplerError {}
impl std::error::Error for PreconditionerMismatch {}
impl std::error::Error for ChainMismatch {}
