//! The heat map of `llc calibrate`: one column per step size ε, one row per nβ (or γ), each cell
//! coloured by its value, unstable cells hatched, each row's flat region outlined in black and the
//! recommended cell in red, with a colour bar and a title. Written as a PNG with plotters.
//!
//! Text is drawn with DejaVu Sans, bundled with the repository (the file of `xtask/assets`, shared
//! with the reproduce figures), so that the PNG renders on a machine without system fonts.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

/// DejaVu Sans (Bitstream Vera license, see `xtask/assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../../../xtask/assets/DejaVuSans.ttf");

/// The family name the bundled font is registered under.
const FONT_FAMILY: &str = "sans-serif";

/// Space left of the grid, for the row labels and the rotated axis label.
const LEFT: i32 = 112;
/// Height of the title band.
const TOP: i32 = 58;
/// Space below the grid: ε labels, the axis label and the key.
const BOTTOM: i32 = 92;
/// Gap between the grid and the colour bar.
const BAR_GAP: i32 = 26;
/// Width of the colour strip.
const BAR_W: i32 = 20;
/// Space right of the strip for its tick labels.
const BAR_LABELS: i32 = 64;
/// Space right of everything.
const RIGHT: i32 = 12;
/// Spacing of the hatch lines of an unstable cell.
const HATCH: i32 = 7;

/// How values map to colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ColorMap {
    /// Viridis from the smallest to the largest value.
    Sequential,
    /// Blue below `centre`, white at it, red above it, symmetric around it (for λ̂/λ around 1).
    Diverging {
        /// The value drawn white.
        centre: f64,
    },
}

/// Everything the heat map shows. Rows are listed bottom to top, columns left to right.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HeatMap {
    /// The title over the map.
    pub(crate) title: String,
    /// The label under the columns (e.g. "step size ε").
    pub(crate) x_label: String,
    /// The label beside the rows (e.g. "nβ").
    pub(crate) y_label: String,
    /// One label per column.
    pub(crate) columns: Vec<String>,
    /// One label per row.
    pub(crate) rows: Vec<String>,
    /// `values[row][column]`: the value that colours the cell, if any (grey without one).
    pub(crate) values: Vec<Vec<Option<f64>>>,
    /// `text[row][column]`: up to two lines written in the cell.
    pub(crate) text: Vec<Vec<[String; 2]>>,
    /// `unstable[row][column]`: hatched cells.
    pub(crate) unstable: Vec<Vec<bool>>,
    /// Per row, the columns of its flat region (outlined), if it has one.
    pub(crate) flat: Vec<Option<std::ops::Range<usize>>>,
    /// The recommended cell (row, column), outlined in red.
    pub(crate) recommended: Option<(usize, usize)>,
    /// The colour bar's title.
    pub(crate) color_label: String,
    /// How values map to colours.
    pub(crate) color_map: ColorMap,
}

/// The outline colour of the recommended cell.
const RECOMMENDED: RGBColor = RGBColor(214, 39, 40);
/// The fill of a cell without a value.
const NO_VALUE: RGBColor = RGBColor(205, 205, 205);

/// Writes the heat map as a PNG at `path` (whose name must end in `.png`).
pub(crate) fn write_png(map: &HeatMap, path: &Path) -> Result<(), String> {
    register_bundled_font()?;
    let (columns, rows) = (map.columns.len().max(1), map.rows.len().max(1));
    let cell_w = (640 / columns).clamp(74, 140);
    let cell_h = (330 / rows).clamp(56, 110);
    let grid_w = pixels(cell_w * columns);
    let grid_h = pixels(cell_h * rows);
    let width = LEFT + grid_w + BAR_GAP + BAR_W + BAR_LABELS + RIGHT;
    let height = TOP + grid_h + BOTTOM;
    let size = (u32::try_from(width.max(480)).unwrap_or(480), u32::try_from(height).unwrap_or(400));
    let root = BitMapBackend::new(path, size).into_drawing_area();
    let cannot = |e: String| format!("cannot draw {}: {e}", path.display());
    draw(&root, map, (pixels(cell_w), pixels(cell_h))).map_err(cannot)?;
    root.present().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

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

/// A count of pixels as a coordinate.
fn pixels(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX / 4)
}

/// The range of values the colours span: the finite values of the map, padded when they are all
/// equal, and symmetric around the centre of a diverging map (at most ±1 around it, so that one
/// runaway cell does not wash out the others).
fn color_range(map: &HeatMap) -> (f64, f64) {
    let finite: Vec<f64> = map.values.iter().flatten().filter_map(|v| *v).filter(|v| v.is_finite()).collect();
    match map.color_map {
        ColorMap::Diverging { centre } => {
            let half = finite.iter().map(|v| (v - centre).abs()).fold(0.0, f64::max).clamp(0.05, 1.0);
            (centre - half, centre + half)
        }
        ColorMap::Sequential => {
            let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            if !(lo.is_finite() && hi.is_finite()) {
                (0.0, 1.0)
            } else if hi - lo <= 1e-12 * hi.abs().max(1.0) {
                let pad = 0.05 * lo.abs().max(1.0);
                (lo - pad, hi + pad)
            } else {
                (lo, hi)
            }
        }
    }
}

/// The colour of `t` ∈ [0, 1] on the map.
fn color_at(map: ColorMap, t: f64) -> RGBColor {
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
    const BLUE_WHITE_RED: [(u8, u8, u8); 5] =
        [(49, 54, 149), (116, 173, 209), (247, 247, 247), (244, 109, 67), (165, 0, 38)];
    let stops: &[(u8, u8, u8)] = match map {
        ColorMap::Sequential => &VIRIDIS,
        ColorMap::Diverging { .. } => &BLUE_WHITE_RED,
    };
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let scaled = t * (stops.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(stops.len() - 2);
    let f = scaled - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads better on `background`.
fn ink_on(background: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = background;
    let luma = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    if luma < 130.0 { WHITE } else { BLACK }
}

/// A text style of the bundled font at `size` pixels in `color`, anchored by `h` and centred
/// vertically.
fn font(size: f64, color: RGBColor, h: HPos) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&color).pos(Pos::new(h, VPos::Center))
}

/// Whether `c` is a combining diacritical mark (U+0300 to U+036F).
fn is_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// Draws `text` centred vertically on `at`, anchored horizontally by `h`. plotters' glyph renderer
/// would put a combining circumflex (the hat of λ̂) after its letter; it is drawn here as a small
/// chevron over the letter instead. Returns the text's width in pixels.
fn text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    at: (i32, i32),
    (size, color, h): (f64, RGBColor, HPos),
) -> Result<i32, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let base: Vec<char> = text.chars().filter(|c| !is_mark(*c)).collect();
    let base_text: String = base.iter().collect();
    let style = font(size, color, h);
    // The renderer sets glyphs a little high; lower them so that the text looks centred.
    let drop = (0.12 * size).round() as i32;
    area.draw_text(&base_text, &style, (at.0, at.1 + drop)).map_err(err)?;
    let width_of = |chars: &[char]| -> Result<i32, String> {
        let s: String = chars.iter().collect();
        Ok(pixels(area.estimate_text_size(&s, &style).map_err(err)?.0 as usize))
    };
    let total = width_of(&base)?;
    let left = match h {
        HPos::Left => at.0,
        HPos::Center => at.0 - total / 2,
        HPos::Right => at.0 - total,
    };
    let mut seen = 0usize;
    for c in text.chars() {
        if !is_mark(c) {
            seen += 1;
            continue;
        }
        let Some(j) = seen.checked_sub(1) else { continue };
        if c != '\u{302}' {
            continue;
        }
        let centre = left + (width_of(&base[..j])? + width_of(&base[..=j])?) / 2;
        let tall = base[j].is_uppercase() || "bdfhklλβδ".contains(base[j]);
        let top = at.1 + drop - (if tall { 0.58 } else { 0.40 } * size).round() as i32;
        let half = (0.17 * size).round() as i32;
        let rise = (0.14 * size).round() as i32;
        let chevron = vec![(centre - half, top), (centre, top - rise), (centre + half, top)];
        area.draw(&PathElement::new(chevron, color.stroke_width(1 + (size / 14.0) as u32))).map_err(err)?;
    }
    Ok(total)
}

/// Draws the whole map on `root`; `cell` is a cell's size in pixels.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, map: &HeatMap, cell: (i32, i32)) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (width, _) = root.dim_in_pixel();
    let (columns, rows) = (pixels(map.columns.len()), pixels(map.rows.len()));
    let (cw, ch) = cell;
    let (grid_w, grid_h) = (cw * columns, ch * rows);
    text(root, &map.title, (pixels(width as usize) / 2, TOP / 2 - 4), (17.0, BLACK, HPos::Center))?;

    // Cell (row, column) spans [x0, x0 + cw) × [y0, y0 + ch); row 0 is at the bottom.
    let corner = |row: i32, column: i32| (LEFT + column * cw, TOP + (rows - 1 - row) * ch);
    let range = color_range(map);
    let fraction = |v: f64| (v - range.0) / (range.1 - range.0);
    for (row, values) in map.values.iter().enumerate() {
        for (column, value) in values.iter().enumerate() {
            let (x0, y0) = corner(pixels(row), pixels(column));
            let fill = match value.filter(|v| v.is_finite()) {
                Some(v) => color_at(map.color_map, fraction(v)),
                None => NO_VALUE,
            };
            root.draw(&Rectangle::new([(x0, y0), (x0 + cw, y0 + ch)], fill.filled())).map_err(err)?;
            let ink = ink_on(fill);
            if map.unstable.get(row).and_then(|r| r.get(column)).copied().unwrap_or(false) {
                // Lines of slope 1 (y = x + c in pixels, y down), clipped to the cell.
                let hatch = ink.mix(0.45).stroke_width(1);
                let mut c = y0 - (x0 + cw);
                while c <= y0 + ch - x0 {
                    let (xa, xb) = ((y0 - c).max(x0), (y0 + ch - c).min(x0 + cw));
                    if xa < xb {
                        root.draw(&PathElement::new(vec![(xa, xa + c), (xb, xb + c)], hatch)).map_err(err)?;
                    }
                    c += HATCH;
                }
            }
            let lines = map.text.get(row).and_then(|r| r.get(column)).cloned().unwrap_or_default();
            let centre = x0 + cw / 2;
            for (k, (line, size)) in lines.iter().zip([14.0, 11.0]).enumerate() {
                if line.is_empty() {
                    continue;
                }
                let y = y0 + ch / 2 + if k == 0 { -9 } else { 10 };
                // A patch of the cell's colour under the text keeps it legible over the hatching.
                let w = pixels(root.estimate_text_size(line, &font(size, ink, HPos::Center)).map_err(err)?.0 as usize);
                let h = (size * 0.62).round() as i32;
                let patch = [(centre - w / 2 - 3, y - h), (centre + w / 2 + 3, y + h + 1)];
                root.draw(&Rectangle::new(patch, fill.filled())).map_err(err)?;
                text(root, line, (centre, y), (size, ink, HPos::Center))?;
            }
        }
    }
    // Thin white lines between cells, then the outlines over them.
    let grid_line = WHITE.stroke_width(1);
    for column in 0..=columns {
        let x = LEFT + column * cw;
        root.draw(&PathElement::new(vec![(x, TOP), (x, TOP + grid_h)], grid_line)).map_err(err)?;
    }
    for row in 0..=rows {
        let y = TOP + row * ch;
        root.draw(&PathElement::new(vec![(LEFT, y), (LEFT + grid_w, y)], grid_line)).map_err(err)?;
    }
    let outline = |area: &DrawingArea<DB, Shift>, (x0, y0, x1, y1): (i32, i32, i32, i32), color: RGBColor, w: i32| {
        (0..w).try_for_each(|k| {
            let rect = [(x0 + k, y0 + k), (x1 - k, y1 - k)];
            area.draw(&Rectangle::new(rect, color.stroke_width(1))).map_err(err)
        })
    };
    for (row, flat) in map.flat.iter().enumerate() {
        if let Some(span) = flat.as_ref().filter(|s| !s.is_empty()) {
            let (x0, y0) = corner(pixels(row), pixels(span.start));
            outline(root, (x0, y0, x0 + cw * pixels(span.len()), y0 + ch), BLACK, 2)?;
        }
    }
    if let Some((row, column)) = map.recommended {
        let (x0, y0) = corner(pixels(row), pixels(column));
        outline(root, (x0 + 2, y0 + 2, x0 + cw - 2, y0 + ch - 2), RECOMMENDED, 4)?;
    }

    // Axes: column labels under the grid, row labels left of it, both axis labels.
    let tick = (12.0, BLACK, HPos::Center);
    for (column, label) in map.columns.iter().enumerate() {
        text(root, label, (LEFT + pixels(column) * cw + cw / 2, TOP + grid_h + 14), tick)?;
    }
    text(root, &map.x_label, (LEFT + grid_w / 2, TOP + grid_h + 40), (14.0, BLACK, HPos::Center))?;
    for (row, label) in map.rows.iter().enumerate() {
        let (_, y0) = corner(pixels(row), 0);
        text(root, label, (LEFT - 8, y0 + ch / 2), (12.0, BLACK, HPos::Right))?;
    }
    let axis_label = font(14.0, BLACK, HPos::Center).transform(FontTransform::Rotate270);
    root.draw_text(&map.y_label, &axis_label, (16, TOP + grid_h / 2)).map_err(err)?;

    // The key: what hatching and the two outlines mean.
    let key_y = TOP + grid_h + 70;
    let mut x = LEFT;
    let swatch = |x: i32, color: RGBColor, w: i32, hatched: bool| -> Result<(), String> {
        let (x0, y0) = (x, key_y - 7);
        root.draw(&Rectangle::new([(x0, y0), (x0 + 14, y0 + 14)], RGBColor(235, 235, 235).filled())).map_err(err)?;
        if hatched {
            for k in [4, 9, 14] {
                let line = vec![(x0, y0 + k), (x0 + k.min(14), y0 + k - k.min(14))];
                root.draw(&PathElement::new(line, BLACK.mix(0.45).stroke_width(1))).map_err(err)?;
            }
        }
        outline(root, (x0, y0, x0 + 14, y0 + 14), color, w)
    };
    for (color, w, hatched, label) in [
        (RGBColor(160, 160, 160), 1, true, "unstable (diverged, λ̂ ≤ 0 or acceptance < 0.5)"),
        (BLACK, 2, false, "flat region"),
        (RECOMMENDED, 3, false, "recommended ε"),
    ] {
        swatch(x, color, w, hatched)?;
        x += 20 + text(root, label, (x + 20, key_y), (12.0, BLACK, HPos::Left))? + 18;
    }

    draw_color_bar(root, map, range, (LEFT + grid_w + BAR_GAP, TOP, grid_h))
}

/// The colour bar: a strip of `height` pixels at (x, top), ticks and labels on its right, its title
/// above it.
fn draw_color_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    map: &HeatMap,
    (lo, hi): (f64, f64),
    (x, top, height): (i32, i32, i32),
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let steps = height.max(1);
    for i in 0..steps {
        let t = 1.0 - (f64::from(i) + 0.5) / f64::from(steps);
        let color = color_at(map.color_map, t);
        root.draw(&Rectangle::new([(x, top + i), (x + BAR_W, top + i + 1)], color.filled())).map_err(err)?;
    }
    root.draw(&Rectangle::new([(x, top), (x + BAR_W, top + height)], RGBColor(60, 60, 60).stroke_width(1)))
        .map_err(err)?;
    let ticks = 5;
    let decimals = decimals_for((hi - lo) / f64::from(ticks - 1));
    for k in 0..ticks {
        let value = lo + (hi - lo) * f64::from(k) / f64::from(ticks - 1);
        let y = top + height - (f64::from(height) * f64::from(k) / f64::from(ticks - 1)).round() as i32;
        let line = vec![(x + BAR_W, y), (x + BAR_W + 4, y)];
        root.draw(&PathElement::new(line, RGBColor(60, 60, 60).stroke_width(1))).map_err(err)?;
        let label = format!("{value:.decimals$}").replace('-', "\u{2212}");
        text(root, &label, (x + BAR_W + 7, y), (11.0, BLACK, HPos::Left))?;
    }
    text(root, &map.color_label, (x + BAR_W / 2, top - 14), (13.0, BLACK, HPos::Center))?;
    Ok(())
}

/// Decimals that tell apart ticks `step` apart.
fn decimals_for(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    usize::try_from((-step.log10().floor() as i64 + 1).max(0)).unwrap_or(0).min(6)
}
