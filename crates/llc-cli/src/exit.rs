//! Exit statuses and the one-line error reports the CLI prints (clap's own errors are folded onto
//! one line by `llc_app::report`).

use std::process::ExitCode;

pub(crate) use llc_app::report::USAGE;
use llc_app::report::escape_controls;

/// Exit status for failures that are not the input's fault (e.g. stdout closed).
pub(crate) const FAILURE: u8 = 1;

/// A command that could not finish, with the status it should exit with.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: u8,
    pub(crate) message: String,
}

impl Failure {
    /// The user's input was refused.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self { status: USAGE, message: message.into() }
    }

    /// Something else went wrong.
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self { status: FAILURE, message: message.into() }
    }

    /// The input's fault when `input` is true, else another failure.
    pub(crate) fn new(input: bool, message: impl Into<String>) -> Self {
        if input { Self::usage(message) } else { Self::other(message) }
    }

    /// The line [`Failure::report`] prints: `error: ` and the message, with any control character
    /// (a newline in a file name or a config key, say) escaped so that it stays one line.
    pub(crate) fn line(&self) -> String {
        format!("error: {}", escape_controls(&self.message))
    }

    /// Prints the one-line report on stderr and returns the exit status.
    pub(crate) fn report(self) -> ExitCode {
        eprintln!("{}", self.line());
        ExitCode::from(self.status)
    }
}

impl From<llc_app::SetupError> for Failure {
    fn from(e: llc_app::SetupError) -> Self {
        Self::new(e.is_input_error(), e.to_string())
    }
}

impl From<llc_estimators::EstimatorError> for Failure {
    /// An estimator error as the CLI reports it: a bad configuration is the input's fault.
    fn from(e: llc_estimators::EstimatorError) -> Self {
        Self::new(e.is_input_error(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::Failure;

    #[test]
    fn reports_stay_on_one_line() {
        let failure = Failure::usage("cannot read dir\nname/x: denied\r");
        assert_eq!(failure.line(), "error: cannot read dir\\nname/x: denied\\r");
    }
}
