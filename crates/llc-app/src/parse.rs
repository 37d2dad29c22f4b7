//! Value parsers for the command lines of `llc` and `cargo xtask` (clap's `value_parser`): layer
//! widths, counts with scientific notation, and real numbers that the chains' f32 arithmetic can
//! hold.
//!
//! They check syntax only (is it a list of integers?); the meaning (is the rank at most the
//! narrowest width?) is checked by the library that owns it, so that both binaries and the crates
//! reject the same inputs with the same words. Every error is one line that names the value.

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

/// A parsed `--widths` list, input first. A newtype, because clap treats a bare `Vec<T>` as a
/// repeated flag; it prints as it is written (`20,30,25,10`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Widths(pub Vec<usize>);

impl fmt::Display for Widths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: Vec<String> = self.0.iter().map(usize::to_string).collect();
        f.write_str(&text.join(","))
    }
}

/// Parses `5,3,5` into widths; checks only that every item is a non-negative integer.
pub fn parse_widths(text: &str) -> Result<Widths, String> {
    if text.trim().is_empty() {
        return Err("expected a comma-separated list of widths such as 5,3,5, got an empty list".into());
    }
    text.split(',')
        .enumerate()
        .map(|(i, item)| {
            let item = item.trim();
            item.parse::<usize>().map_err(|_| {
                if item.is_empty() {
                    format!("item {} of the list is empty; expected widths such as 5,3,5", i + 1)
                } else {
                    format!("item {} ('{item}') is not a positive integer", i + 1)
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Widths)
}

/// Parses a count ≥ 1, accepting scientific notation for whole numbers (1e5).
pub fn parse_count(text: &str) -> Result<usize, String> {
    match parse_count_or_zero(text)? {
        0 => Err(format!("expected a whole number ≥ 1, got '{text}'")),
        n => Ok(n),
    }
}

/// Parses a count ≥ 0, accepting scientific notation for whole numbers (1e5).
pub fn parse_count_or_zero(text: &str) -> Result<usize, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<usize>() {
        return Ok(n);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 1e15 => Ok(x as usize),
        _ => Err(format!("expected a whole number ≥ 0, got '{text}'")),
    }
}

/// The range of magnitudes the chains' f32 arithmetic holds at full precision: a real-valued
/// setting outside it would overflow to ∞ or vanish to 0 once the chains use it.
pub const F32_RANGE: RangeInclusive<f64> = (f32::MIN_POSITIVE as f64)..=(f32::MAX as f64);

/// How the parsers name that range.
const OUTSIDE_F32: &str = "outside the range of f32, in which the chains compute (1.2e-38 to 3.4e38)";

/// Whether a nonzero `x` lies outside [`F32_RANGE`].
fn outside_f32(x: f64) -> bool {
    x != 0.0 && !F32_RANGE.contains(&x.abs())
}

/// Parses a finite number that `valid` accepts (`wanted` says which, e.g. "a finite number > 0")
/// and that f32 holds.
pub fn parse_real(text: &str, wanted: &str, valid: fn(f64) -> bool) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && valid(x) && outside_f32(x) => Err(format!("'{text}' is {OUTSIDE_F32}")),
        Ok(x) if x.is_finite() && valid(x) => Ok(x),
        _ => Err(format!("expected {wanted}, got '{text}'")),
    }
}

/// Parses a finite number > 0 within f32's range.
pub fn parse_positive(text: &str) -> Result<f64, String> {
    parse_real(text, "a finite number > 0", |x| x > 0.0)
}

/// Parses a finite number ≥ 0 within f32's range.
pub fn parse_non_negative(text: &str) -> Result<f64, String> {
    parse_real(text, "a finite number ≥ 0", |x| x >= 0.0)
}

/// Parses a probability strictly between 0 and 1.
pub fn parse_probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!("expected a number strictly between 0 and 1, got '{text}'")),
    }
}

/// Parses a comma-separated list of distinct finite numbers within f32's range, each accepted by
/// `valid` (whose requirement `wanted` names), in the order given; `example` shows a good list.
pub fn parse_distinct_reals(
    text: &str,
    example: &str,
    wanted: &str,
    valid: fn(f64) -> bool,
) -> Result<Vec<f64>, String> {
    if text.trim().is_empty() {
        return Err(format!("expected a comma-separated list such as {example}, got an empty list"));
    }
    let mut values: Vec<f64> = Vec::new();
    for (i, item) in text.split(',').enumerate() {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("item {} of the list is empty; expected a list such as {example}", i + 1));
        }
        let value = match item.parse::<f64>() {
            Ok(v) if v.is_finite() && valid(v) && outside_f32(v) => {
                return Err(format!("item {} ('{item}') is {OUTSIDE_F32}", i + 1));
            }
            Ok(v) if v.is_finite() && valid(v) => v,
            _ => return Err(format!("item {} ('{item}') is not {wanted}", i + 1)),
        };
        if let Some(j) = values.iter().position(|&v| v == value) {
            return Err(format!("item {} ('{item}') repeats item {}", i + 1, j + 1));
        }
        values.push(value);
    }
    Ok(values)
}

#[cfg(test)]
mod tests;
