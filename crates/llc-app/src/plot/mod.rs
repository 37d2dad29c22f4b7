//! Figures as SVG and PNG with plotters: the charts of `cargo xtask reproduce` ([`Figure`]) and
//! the heat map of `llc calibrate` ([`HeatMap`]), with what they share: the bundled font, text
//! with combining marks, and colour maps.
//!
//! Text in a PNG is drawn with DejaVu Sans, bundled in this crate (`assets/DejaVuSans.ttf`,
//! registered once with plotters' `ab_glyph` support), so that it renders on a machine without
//! system fonts; an SVG names the generic `sans-serif` family and does not depend on the font
//! file.

mod axis;
mod chart;
mod heatmap;

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

pub use chart::{ColorScale, Figure, Panel, Point, Series, Style, write_figure};
pub use heatmap::{ColorMap, HeatMap, write_png};

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The font family every text of a figure uses; the bundled font is registered under this name.
const FONT_FAMILY: &str = "sans-serif";

/// Registers the bundled DejaVu Sans as plotters' `sans-serif`, once per process.
fn register_bundled_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FONT_FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "the bundled font DejaVuSans.ttf cannot be read".to_string())
        })
        .clone()
}

/// The backend a figure is drawn on. Text on the bitmap needs help: plotters' `ab_glyph` renderer
/// sets the baseline higher than SVG viewers do, and draws a combining mark (the hat of λ̂) after its
/// base letter instead of over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Canvas {
    /// SVG: text is written as is and laid out by the viewer.
    Svg,
    /// PNG: text is rasterized with the bundled font.
    Bitmap,
}

/// A pixel count as a coordinate (absurd counts are capped far beyond any canvas).
fn pixels<N: TryInto<i32>>(n: N) -> i32 {
    n.try_into().unwrap_or(i32::MAX / 4)
}

/// A text style of the bundled font at `size` pixels, black.
fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT_FAMILY, size).into_font()).color(&BLACK)
}

/// Whether `c` is a combining diacritical mark (U+0300 to U+036F).
fn is_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// Draws `text` centred vertically on `at`, anchored horizontally by `h`, at `size` pixels in
/// `color`; rotated to read upwards when `rotated`. On the bitmap, combining marks are placed over
/// their base letter.
fn put_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    canvas: Canvas,
    text: &str,
    at: (i32, i32),
    (size, color, h): (f64, RGBColor, HPos),
    rotated: bool,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut style = font(size).color(&color).pos(Pos::new(h, VPos::Center));
    if rotated {
        style = style.transform(FontTransform::Rotate270);
    }
    if canvas == Canvas::Svg {
        return area.draw_text(text, &style, at).map_err(err);
    }
    // An offset along and across the text (down is positive) in pixels of the area.
    let frame = |along: f64, across: f64| {
        let (dx, dy) = if rotated { (across, -along) } else { (along, across) };
        (at.0 + dx.round() as i32, at.1 + dy.round() as i32)
    };
    let drop = 0.12 * size;
    let base: Vec<char> = text.chars().filter(|c| !is_mark(*c)).collect();
    let base_text: String = base.iter().collect();
    area.draw_text(&base_text, &style, frame(0.0, drop)).map_err(err)?;
    if base.len() == text.chars().count() {
        return Ok(());
    }
    let flat = font(size);
    let width = |chars: &[char]| -> Result<f64, String> {
        let s: String = chars.iter().collect();
        Ok(f64::from(area.estimate_text_size(&s, &flat).map_err(err)?.0))
    };
    let total = width(&base)?;
    let start = match h {
        HPos::Left => 0.0,
        HPos::Center => -(total / 2.0).floor(),
        HPos::Right => -total,
    };
    let mark_style = style.pos(Pos::new(HPos::Left, VPos::Center));
    let mut seen: usize = 0;
    for c in text.chars() {
        if !is_mark(c) {
            seen += 1;
            continue;
        }
        let Some(j) = seen.checked_sub(1) else { continue };
        let centre = start + (width(&base[..j])? + width(&base[..=j])?) / 2.0;
        let ink = match c {
            '\u{307}' | '\u{308}' => 0.1,
            _ => 0.27,
        };
        let tall = base[j].is_uppercase() || base[j].is_ascii_digit() || "bdfhklλβδζθξ".contains(base[j]);
        let raise = if tall { 0.19 * size } else { 0.0 };
        area.draw_text(&c.to_string(), &mark_style, frame(centre - ink * size / 2.0, drop - raise)).map_err(err)?;
    }
    Ok(())
}

/// Whether `v` can be placed on an axis (finite, and positive on a log axis).
fn valid(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

/// The width in pixels of `text` as [`put_text`] draws it at `size` (combining marks take no room).
fn text_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: f64) -> Result<i32, String> {
    let base: String = text.chars().filter(|c| !is_mark(*c)).collect();
    Ok(pixels(area.estimate_text_size(&base, &font(size)).map_err(|e| e.to_string())?.0))
}

/// The viridis colour map at `t` in [0, 1] (piecewise-linear through nine of its colours).
fn viridis(t: f64) -> RGBColor {
    gradient(&VIRIDIS, t)
}

/// Nine colours of viridis, from dark purple to yellow.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (72, 40, 120),
    (62, 73, 137),
    (49, 104, 142),
    (38, 130, 142),
    (31, 158, 137),
    (53, 183, 121),
    (110, 206, 88),
    (253, 231, 37),
];

/// The colour at `t` in [0, 1] of the piecewise-linear map through `stops` (at least two), evenly
/// spaced; a `t` outside [0, 1] is clamped, and NaN is 0.
fn gradient(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let scaled = t * (stops.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(stops.len() - 2);
    let f = scaled - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}
