//! The axes of a chart: range from the data, linear or logarithmic ticks, and tick labels, as a
//! plotters coordinate.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, KeyPointWeight, NoDefaultFormatting, Ranged, ValueFormatter};

use super::valid;

/// How the tick labels of an axis are written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum TickFormat {
    /// Fixed-point with this many decimals.
    Fixed(usize),
    /// Scientific (`2.5e-7`) with this many mantissa decimals.
    Scientific(usize),
    /// Powers of ten written `10⁻⁴`.
    Power,
    /// Each value with as few digits as it needs (1-2-5 ticks on a log axis).
    Shortest,
}

/// One axis of a chart: its range, scale, ticks and tick labels (a plotters coordinate).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Axis {
    /// Lower end of the range (positive on a log axis).
    pub(super) lo: f64,
    /// Upper end of the range, above `lo`.
    pub(super) hi: f64,
    /// Logarithmic scale.
    pub(super) log: bool,
    /// Labelled ticks and grid lines.
    pub(super) major: Vec<f64>,
    /// Unlabelled light grid lines.
    minor: Vec<f64>,
    /// How the major ticks are labelled.
    format: TickFormat,
}

impl Axis {
    /// The [0, 1] axis without ticks (the colour bar's width).
    pub(super) fn unit() -> Self {
        Self { lo: 0.0, hi: 1.0, log: false, major: Vec::new(), minor: Vec::new(), format: TickFormat::Fixed(0) }
    }

    /// An axis covering `values` (those that fit the scale) with a 5 % margin each side.
    pub(super) fn from_values(values: &[f64], log: bool) -> Self {
        Self::from_values_with_margin(values, log, 0.05)
    }

    /// An axis covering `values` with the given margin, a fraction of the span (in log space on a
    /// log axis), each side.
    pub(super) fn from_values_with_margin(values: &[f64], log: bool, margin: f64) -> Self {
        let t = |v: f64| if log { v.log10() } else { v };
        let usable = values.iter().copied().filter(|&v| valid(v, log)).map(t).filter(|v| v.is_finite());
        let (mut lo, mut hi) = usable.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        if lo > hi {
            (lo, hi) = (0.0, 1.0);
        } else if hi - lo <= 1e-9 * if log { 1.0 } else { lo.abs().max(hi.abs()) } {
            let half = if log {
                0.5
            } else if lo == 0.0 {
                1.0
            } else {
                0.1 * lo.abs()
            };
            (lo, hi) = (lo - half, hi + half);
        } else {
            let pad = (hi - lo) * margin;
            (lo, hi) = (lo - pad, hi + pad);
        }
        // Keep the range representable.
        let limit = if log { 300.0 } else { f64::MAX / 4.0 };
        let (lo, hi) = (lo.max(-limit), hi.min(limit));
        let (lo, hi) = if log { (10f64.powf(lo), 10f64.powf(hi)) } else { (lo, hi) };
        let (lo, hi) = if lo < hi && lo.is_finite() && hi.is_finite() { (lo, hi) } else { (1.0, 10.0) };
        let mut axis = Self { lo, hi, log, major: Vec::new(), minor: Vec::new(), format: TickFormat::Fixed(0) };
        axis.place_ticks();
        axis
    }

    /// Coordinate in which the axis is linear (log10 on a log axis).
    pub(super) fn to_t(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    /// Inverse of [`Axis::to_t`].
    pub(super) fn inverse(&self, t: f64) -> f64 {
        if self.log { 10f64.powf(t) } else { t }
    }

    /// Position of `v` along the axis, 0 at `lo` and 1 at `hi`, clamped to [0, 1].
    pub(super) fn frac(&self, v: f64) -> f64 {
        let (a, b) = (self.to_t(self.lo), self.to_t(self.hi));
        let f = (self.to_t(v) - a) / (b - a);
        if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) }
    }

    /// Chooses major and minor ticks and their label format for the range.
    fn place_ticks(&mut self) {
        if self.log {
            let (a, b) = (self.lo.log10(), self.hi.log10());
            let (first, last) = (a.ceil() as i32, b.floor() as i32);
            let decades = last - first + 1;
            if decades >= 3 {
                let stride = (decades + 6) / 7;
                let first_major = first + (stride - first.rem_euclid(stride)) % stride;
                self.major = (first_major..=last).step_by(stride as usize).map(|k| 10f64.powi(k)).collect();
                self.minor = if stride == 1 {
                    (first - 1..=last)
                        .flat_map(|k| (2..10).map(move |m| f64::from(m) * 10f64.powi(k)))
                        .filter(|v| *v >= self.lo && *v <= self.hi)
                        .collect()
                } else {
                    (first..=last)
                        .filter(|k| (k - first_major).rem_euclid(stride) != 0)
                        .map(|k| 10f64.powi(k))
                        .collect()
                };
                let plain = self.major.iter().all(|v| (1e-2..=1e4).contains(v));
                self.format = if plain { TickFormat::Shortest } else { TickFormat::Power };
                return;
            }
            let candidates: Vec<f64> = (a.floor() as i32..=b.ceil() as i32)
                .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
                .filter(|v| *v >= self.lo && *v <= self.hi)
                .collect();
            if candidates.len() >= 3 {
                self.major = candidates;
                self.minor = (a.floor() as i32..=b.ceil() as i32)
                    .flat_map(|k| [3.0, 4.0, 6.0, 7.0, 8.0, 9.0].map(|m| m * 10f64.powi(k)))
                    .filter(|v| *v >= self.lo && *v <= self.hi)
                    .collect();
                self.format = TickFormat::Shortest;
                return;
            }
        }
        // Linear ticks (also on a log axis spanning less than about half a decade).
        let span = self.hi - self.lo;
        let raw = span / 6.0;
        if !(raw.is_finite() && raw > 0.0) {
            return;
        }
        let base = 10f64.powf(raw.log10().floor());
        // The 1-2-5 step giving closest to six ticks (the larger step on a tie).
        let distance = |m: f64| (span / (m * base) - 6.0).abs();
        let mantissa =
            [10.0, 5.0, 2.0, 1.0].into_iter().fold(10.0, |best, m| if distance(m) < distance(best) { m } else { best });
        let step = mantissa * base;
        let ticks = |step: f64| -> Vec<f64> {
            let (i0, i1) = ((self.lo / step).ceil(), (self.hi / step).floor());
            if !(i0.is_finite() && i1.is_finite()) || i1 - i0 > 200.0 {
                return Vec::new();
            }
            // Counted in integers: at i0 ≈ 1e16, i0 + 1.0 == i0.
            let count = (i1 - i0).max(-1.0) as i64 + 1;
            (0..count)
                .map(|k| {
                    let v = (i0 + k as f64) * step;
                    if v.abs() < step * 1e-9 { 0.0 } else { v }
                })
                .collect()
        };
        self.major = ticks(step);
        let minor_step = step / if mantissa == 2.0 { 4.0 } else { 5.0 };
        self.minor = ticks(minor_step)
            .into_iter()
            .filter(|v| !self.major.iter().any(|m| (m - v).abs() < minor_step * 1e-6))
            .collect();
        let step_exponent = step.log10().floor() as i32;
        let magnitude = self.lo.abs().max(self.hi.abs()).log10().floor() as i32;
        self.format = if magnitude >= 6 || step_exponent <= -5 {
            TickFormat::Scientific(usize::try_from((magnitude - step_exponent).max(0)).unwrap_or(0))
        } else {
            TickFormat::Fixed(usize::try_from(-step_exponent).unwrap_or(0))
        };
    }

    /// The tick label of `v`.
    pub(super) fn label(&self, v: f64) -> String {
        match self.format {
            TickFormat::Fixed(decimals) => format!("{v:.decimals$}"),
            TickFormat::Scientific(decimals) => {
                if v == 0.0 {
                    "0".to_string()
                } else {
                    trim_scientific(&format!("{v:.decimals$e}"))
                }
            }
            TickFormat::Power => power_of_ten(v.log10().round() as i32),
            TickFormat::Shortest => shortest(v),
        }
    }
}

/// Drops trailing zeros of a scientific mantissa: `2.50e5` → `2.5e5`, `1.00e-7` → `1e-7`.
fn trim_scientific(s: &str) -> String {
    match s.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exp}")
        }
        _ => s.to_string(),
    }
}

/// `10` with `k` as a superscript: `10⁻⁴`, `10⁵`.
fn power_of_ten(k: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::from("10");
    if k < 0 {
        s.push('⁻');
    }
    for c in k.unsigned_abs().to_string().chars() {
        s.push(c.to_digit(10).map_or(c, |d| DIGITS[d as usize]));
    }
    s
}

/// A tick value with as few digits as it needs: `0.02`, `5`, `2000`, or `2e-5` outside 1e-3..1e5.
fn shortest(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e5).contains(&v.abs()) {
        return trim_scientific(&format!("{v:.3e}"));
    }
    for decimals in 0..=6 {
        let s = format!("{v:.decimals$}");
        if s.parse::<f64>().is_ok_and(|p| (p - v).abs() <= v.abs() * 1e-9) {
            return s;
        }
    }
    format!("{v}")
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = if valid(*value, self.log) {
            let (a, b) = (self.to_t(self.lo), self.to_t(self.hi));
            ((self.to_t(*value) - a) / (b - a)).clamp(-0.01, 1.01)
        } else {
            0.0
        };
        (f64::from(limit.0) + f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match hint.weight() {
            KeyPointWeight::Bold => self.major.clone(),
            KeyPointWeight::Any => self.minor.clone(),
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        // A typographic minus sign, as in print.
        self.label(*value).replace('-', "\u{2212}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_log_ticks_span_many_decades() {
        let axis = Axis::from_values(&[1e-4, 1e4], true);
        let labels: Vec<String> = axis.major.iter().map(|v| axis.label(*v)).collect();
        assert_eq!(labels, ["10⁻⁴", "10⁻²", "10⁰", "10²", "10⁴"]);
        let lambda = Axis::from_values(&[5.0, 1e5], true);
        assert!(lambda.major.len() >= 3 && lambda.major.len() <= 8, "{:?}", lambda.major);
        let narrow = Axis::from_values(&[2.0, 2.5], true);
        assert!(narrow.major.len() >= 3, "{:?}", narrow.major);
        for (values, log) in [([1.0, 1.0 + 1e-15], true), ([1e16, 1e16 + 4.0], false), ([-1e308, 1e308], false)] {
            let axis = Axis::from_values(&values, log);
            assert!(axis.lo < axis.hi && axis.major.len() <= 200, "{values:?}: {axis:?}");
        }
        let linear = Axis::from_values(&[-0.3, 0.7], false);
        assert!(linear.major.iter().any(|v| linear.label(*v) == "0.0"), "{:?}", linear.major);
    }
}
