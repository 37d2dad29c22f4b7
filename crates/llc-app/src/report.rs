//! One-line error reports for the command lines: clap's messages folded onto one line, and text
//! from the user (a path, a config key) kept from breaking a line.

use std::process::ExitCode;

use clap::error::ErrorKind;

/// Exit status for input a tool refuses: bad flags, bad values, impossible networks.
pub const USAGE: u8 = 2;

/// `text` with every control character written as an escape (`\n`, `\u{1b}`), so that text from
/// the user (paths, config keys) cannot break a one-line message.
pub fn escape_controls(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// Prints a clap error the way the tools report errors: one line on stderr, naming the problem,
/// and exit status 2 ([`USAGE`]).
///
/// Help and version requests are printed in full on stdout and succeed; a command given without
/// its subcommand or arguments prints its help and is a usage error.
pub fn report_clap_error(err: &clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
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
pub fn one_line(rendered: &str) -> String {
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
    use super::{escape_controls, one_line};

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
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("a\nb\tc λ '"), "a\\nb\\tc λ '");
    }
}
