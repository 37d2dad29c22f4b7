//! `--config FILE`: the settings of `llc estimate` and `llc calibrate` from a TOML file.
//!
//! A key is a long flag of the command without its `--`, spelled exactly as on the command line
//! (`burn-in`, `target-acceptance`, `nbeta`, `max-restarts`; an underscore spelling is refused with
//! a hint). The file is turned into flags: each value becomes its flag's text (a string as it is,
//! an integer in decimal, a float in Rust's shortest round-trip form, an array as a comma-separated
//! list, `true` as the bare switch and `false` as nothing), is checked alone by that flag's own
//! value parser, and is placed before the command line's flags unless the command line gives the
//! flag too (the command line overrides the file). clap then parses the merged command line as
//! usual, so a file accepts exactly the values the command line accepts and the estimator
//! validates them the same way.
//!
//! ```toml
//! widths = [20, 30, 25, 10]
//! epsilon = "auto"        # or a number: 2.5e-7
//! steps = 12000
//! n = 1e5
//! sampler = "sgld"
//! seed = 3
//! ```
//!
//! Every problem with the file is refused with one line that names the file, and the line and the
//! key where there is one: `error: run.toml: line 3: key 'steps': invalid value '0' for '--steps
//! <T>': expected a whole number ≥ 1, got '0'`.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Arg, CommandFactory};
use llc_app::parse::Widths;
use llc_app::report::one_line;
use toml::{Spanned, Value};

use crate::args::{Cli, GridValues, ParseError};
use crate::exit::Failure;

/// Reads a config file's bytes: [`read_file`], or a stand-in in tests.
pub(crate) type ReadFile<'a> = dyn Fn(&Path) -> std::io::Result<Vec<u8>> + 'a;

/// The commands that take `--config`, each with the models of [`MODELS`].
const CONFIGURABLE: [&str; 2] = ["estimate", "calibrate"];
const MODELS: [&str; 2] = ["dln", "mlp"];

/// A config file larger than this is refused unread (a settings file has a few hundred bytes).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Reads a config file: a regular file of at most [`MAX_FILE_BYTES`] (not a directory, a device or
/// a pipe, which could be endless).
pub(crate) fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    if !meta.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let too_large = || std::io::Error::other(format!("it is larger than {} KiB", MAX_FILE_BYTES / 1024));
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The command line with the settings of its `--config` file added as flags (unchanged when there
/// is none). The command line's own mistakes are reported first, as clap reports them; the file's
/// as one line naming the file.
pub(crate) fn merge(argv: Vec<OsString>, read: &ReadFile<'_>) -> Result<Vec<OsString>, ParseError> {
    let Some((top, model)) = configurable(&argv) else {
        return Ok(argv);
    };
    // The command line alone, with no argument required (the file may give them): this finds the
    // file and tells which flags the command line sets.
    let mut lenient =
        Cli::command().mut_subcommand(top, |c| c.mut_subcommand(model, |c| c.mut_args(|a| a.required(false))));
    let matches = match lenient.try_get_matches_from_mut(&argv) {
        Ok(matches) => matches,
        // The same mistake (or help request) from the real grammar, whose usage and help show
        // what is required.
        Err(e) => return Err(Cli::command().try_get_matches_from(&argv).err().unwrap_or(e).into()),
    };
    let Some(given) = matches.subcommand_matches(top).and_then(|m| m.subcommand_matches(model)) else {
        return Ok(argv);
    };
    let Some(path) = given.get_one::<PathBuf>("config").cloned() else {
        return Ok(argv);
    };
    let refuse = |message: String| ParseError::Refused(Failure::usage(format!("{}: {message}", path.display())));
    let bytes = read(&path).map_err(|e| refuse(format!("cannot read the config file: {e}")))?;
    let entries = parse(&bytes).map_err(refuse)?;
    let flags: Vec<Arg> = lenient
        .find_subcommand(top)
        .and_then(|c| c.find_subcommand(model))
        .map(|c| c.get_arguments().cloned().collect())
        .unwrap_or_default();
    let mut tokens = Vec::new();
    for entry in &entries {
        let at = |message: String| refuse(format!("line {}: key '{}': {message}", entry.line, entry.key));
        let flag = find_flag(&flags, &entry.key, top, model).map_err(at)?;
        let Some(token) = token(flag, &entry.value).map_err(at)? else {
            continue;
        };
        // The value alone, through its flag's own parser.
        let alone = [argv[0].clone(), top.into(), model.into(), token.clone()];
        if let Err(e) = lenient.try_get_matches_from_mut(alone) {
            return Err(at(clap_message(&e)));
        }
        if given.value_source(flag.get_id().as_str()) != Some(ValueSource::CommandLine) {
            tokens.push(token);
        }
    }
    let mut merged = argv[..3].to_vec();
    merged.extend(tokens);
    merged.extend_from_slice(&argv[3..]);
    // What only the whole can show: settings that exclude each other (the file's --rank with a
    // --teacher), or a required flag that neither gives.
    match Cli::command().try_get_matches_from(&merged) {
        Ok(_) => Ok(merged),
        Err(e) if e.kind() == ErrorKind::MissingRequiredArgument => Err(e.into()),
        Err(e) => Err(refuse(clap_message(&e))),
    }
}

/// `(command, model)` when `argv` runs one of the commands that take `--config`.
fn configurable(argv: &[OsString]) -> Option<(&'static str, &'static str)> {
    let word = |i: usize| argv.get(i).and_then(|w| w.to_str());
    let top = CONFIGURABLE.into_iter().find(|&c| word(1) == Some(c))?;
    let model = MODELS.into_iter().find(|&m| word(2) == Some(m))?;
    Some((top, model))
}

/// One `key = value` of the file, with the line it is on.
#[derive(Debug)]
struct Entry {
    key: String,
    line: usize,
    value: Value,
}

/// The entries of a config file, in the order of the file.
fn parse(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("the config file is not UTF-8 text (from byte {})", e.valid_up_to()))?;
    let table: BTreeMap<Spanned<String>, Spanned<Value>> = toml::from_str(text).map_err(|e| {
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        match e.span() {
            Some(span) => {
                let (line, column) = position(text, span.start);
                format!("line {line}, column {column}: {message}")
            }
            None => message,
        }
    })?;
    let mut entries: Vec<(usize, Entry)> = table
        .into_iter()
        .map(|(key, value)| {
            let start = key.span().start;
            (start, Entry { line: position(text, start).0, key: key.into_inner(), value: value.into_inner() })
        })
        .collect();
    entries.sort_by_key(|(start, _)| *start);
    Ok(entries.into_iter().map(|(_, entry)| entry).collect())
}

/// The line and column (both from 1, the column in characters) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    (line, String::from_utf8_lossy(&before[line_start..]).chars().count() + 1)
}

/// The flag that `key` names, or why there is none.
fn find_flag<'a>(flags: &'a [Arg], key: &str, top: &str, model: &str) -> Result<&'a Arg, String> {
    let named = |long: &str| flags.iter().find(|f| f.get_long() == Some(long) && !matches!(long, "help" | "version"));
    match named(key) {
        Some(_) if key == "config" => Err("a config file cannot name another config file".into()),
        Some(flag) if flag.is_hide_set() && key == "epsilon" => {
            Err(format!("llc {top} has no --epsilon: it tries every step size of 'epsilons'"))
        }
        Some(flag) if !flag.is_hide_set() => Ok(flag),
        _ => {
            let spelled = key.trim_start_matches('-').replace('_', "-");
            let hint = match named(&spelled) {
                Some(flag) if spelled != key && !flag.is_hide_set() => {
                    format!("; keys are spelled as the flags: '{spelled}'")
                }
                _ => format!("; the keys are the long flags of `llc {top} {model} --help`, without '--'"),
            };
            Err(format!("unknown key{hint}"))
        }
    }
}

/// What a flag's value is written as in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `true` or `false` (`--json`, `--quiet`).
    Switch,
    /// An array of numbers, or the flag's comma-separated text (`--widths`, `--epsilons`).
    List,
    /// A string only: a name (`--sampler`) or a path (`--out`).
    Word,
    /// A number, or the flag's text as a string (`--steps`, `--epsilon`, where `"auto"` is a string).
    Number,
}

fn kind(flag: &Arg) -> Kind {
    let parsed = flag.get_value_parser().type_id();
    if !flag.get_action().takes_values() {
        Kind::Switch
    } else if parsed == TypeId::of::<Widths>() || parsed == TypeId::of::<GridValues>() {
        Kind::List
    } else if parsed == TypeId::of::<PathBuf>() || !flag.get_possible_values().is_empty() {
        Kind::Word
    } else {
        Kind::Number
    }
}

/// The command-line token for `value` as the setting `flag` (`None` for a switch set to false).
fn token(flag: &Arg, value: &Value) -> Result<Option<OsString>, String> {
    let long = flag.get_long().unwrap_or_default();
    let kind = kind(flag);
    let number = |v: &Value| match v {
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(x) => Some(format!("{x:?}")),
        _ => None,
    };
    let text = match (kind, value) {
        (Kind::Switch, Value::Boolean(on)) => return Ok(on.then(|| format!("--{long}").into())),
        (Kind::Switch, other) => return Err(format!("expected true or false, got {}", a(other))),
        (_, Value::String(text)) => text.clone(),
        (Kind::Number, other) => number(other).ok_or_else(|| format!("expected a number, got {}", a(other)))?,
        (Kind::List, Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| number(item).ok_or_else(|| format!("item {} is {}; expected numbers", i + 1, a(item))))
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        (Kind::List, other) => {
            return Err(format!("expected an array of numbers such as [20, 30, 25, 10], got {}", a(other)));
        }
        (Kind::Word, other) => return Err(format!("expected a string, got {}", a(other))),
    };
    Ok(Some(format!("--{long}={text}").into()))
}

/// A TOML value's type with its article: "an integer", "a table".
fn a(value: &Value) -> String {
    let name = value.type_str();
    let article = if name.starts_with(['a', 'i']) { "an" } else { "a" };
    format!("{article} {name}")
}

/// A clap error's message on one line, without its `error: `.
fn clap_message(err: &clap::Error) -> String {
    let line = one_line(&err.to_string());
    line.strip_prefix("error: ").unwrap_or(&line).to_string()
}

#[cfg(test)]
mod tests;
