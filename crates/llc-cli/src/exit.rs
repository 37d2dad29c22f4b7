//! Exit statuses and the one-line error reports the CLI prints.

use std::process::ExitCode;

use clap::error::ErrorKind;

/// Exit status for input the tool refuses: bad flags, bad values, impossible networks.
pub(crate) const USAGE: u8 = 2;

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

/// `text` with every control character written as an escape (`\n`, `\u{1b}`), so that text from
/// the user (paths, config keys) cannot break a one-line message.
pub(crate) fn escape_controls(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// Prints a clap error the way the rest of the tool reports errors: one line, naming the problem.
///
/// Help and version requests are printed in full on stdout and succeed.
pub(crate) fn report_clap_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        // `llc` or `llc theory` alone: show what can follow, but as a usage error.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(USAGE)
        }
        _ => {
            eprintln!("{}", escape_controls(&one_line(&err.to_string())));
            ExitCode::from(USAGE)
        }
    }
}

/// Folds clap's multi-line message into its first paragraph on one line, dropping the usage
/// reminder and tips.
pub(crate) fn one_line(rendered: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() || line.starts_with("tip:") {
            continue;
        }
        parts.push(line);
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::{Failure, escape_controls, one_line};

    #[test]
    fn folds_clap_messages() {
        let rendered = "error: the following required arguments were not provided:\n  --widths <H1,H2,...>\n\nUsage: llc theory dln --widths <H1,H2,...>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "error: the following required arguments were not provided: --widths <H1,H2,...>"
        );
        let rendered = "error: unrecognized subcommand 'foo'\n\n  tip: a similar subcommand exists: 'dln'\n\nUsage: llc theory <COMMAND>\n";
        assert_eq!(one_line(rendered), "error: unrecognized subcommand 'foo'");
    }

    #[test]
    fn reports_stay_on_one_line() {
        assert_eq!(escape_controls("a\nb\tc λ '"), "a\\nb\\tc λ '");
        let failure = Failure::usage("cannot read dir\nname/x: denied\r");
        assert_eq!(failure.line(), "error: cannot read dir\\nname/x: denied\\r");
    }
}
