//! The heat map of `llc calibrate`: one column per step size ε, one row per nβ (or γ), each cell
//! coloured by its value, unstable cells hatched, each row's flat region outlined in black and the
//! recommended cell in red, with a colour bar and a title. Written as a PNG.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::{Canvas, gradient, pixels, put_text, register_bundled_font, text_width, viridis};

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
pub enum ColorMap {
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
pub struct HeatMap {
    /// The title over the map.
    pub title: String,
    /// The label under the columns (e.g. "step size ε").
    pub x_label: String,
    /// The label beside the rows (e.g. "nβ").
    pub y_label: String,
    /// One label per column.
    pub columns: Vec<String>,
    /// One label per row.
    pub rows: Vec<String>,
    /// `values[row][column]`: the value that colours the cell, if any (grey without one).
    pub values: Vec<Vec<Option<f64>>>,
    /// `text[row][column]`: up to two lines written in the cell.
    pub text: Vec<Vec<[String; 2]>>,
    /// `unstable[row][column]`: hatched cells.
    pub unstable: Vec<Vec<bool>>,
    /// Per row, the columns of its flat region (outlined), if it has one.
    pub flat: Vec<Option<std::ops::Range<usize>>>,
    /// The recommended cell (row, column), outlined in red.
    pub recommended: Option<(usize, usize)>,
    /// The colour bar's title.
    pub color_label: String,
    /// How values map to colours.
    pub color_map: ColorMap,
}

/// The outline colour of the recommended cell.
const RECOMMENDED: RGBColor = RGBColor(214, 39, 40);
/// The fill of a cell without a value.
const NO_VALUE: RGBColor = RGBColor(205, 205, 205);

/// Writes the heat map as a PNG at `path` (whose name must end in `.png`).
pub fn write_png(map: &HeatMap, path: &Path) -> Result<(), String> {
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
    match map {
        ColorMap::Sequential => viridis(t),
        ColorMap::Diverging { .. } => gradient(&BLUE_WHITE_RED, t),
    }
}

/// The diverging map: blue, white in the middle, red.
const BLUE_WHITE_RED: [(u8, u8, u8); 5] =
    [(49, 54, 149), (116, 173, 209), (247, 247, 247), (244, 109, 67), (165, 0, 38)];

/// Black or white, whichever reads better on `background`.
fn ink_on(background: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = background;
    let luma = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    if luma < 130.0 { WHITE } else { BLACK }
}

/// Draws `text` on the PNG centred vertically on `at`, anchored horizontally by `h`, at `size`
/// pixels in `color`.
fn text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    at: (i32, i32),
    style: (f64, RGBColor, HPos),
) -> Result<(), String> {
    put_text(area, Canvas::Bitmap, text, at, style, false)
}

/// Draws the whole map on `root`; `cell` is a cell's size in pixels.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, map: &HeatMap, cell: (i32, i32)) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (width, _) = root.dim_in_pixel();
    let (columns, rows) = (pixels(map.columns.len()), pixels(map.rows.len()));
    let (cw, ch) = cell;
    let (grid_w, grid_h) = (cw * columns, ch * rows);
    text(root, &map.title, (pixels(width) / 2, TOP / 2 - 4), (17.0, BLACK, HPos::Center))?;

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
                let w = text_width(root, line, size)?;
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
    put_text(root, Canvas::Bitmap, &map.y_label, (16, TOP + grid_h / 2), (14.0, BLACK, HPos::Center), true)?;

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
        text(root, label, (x + 20, key_y), (12.0, BLACK, HPos::Left))?;
        x += 20 + text_width(root, label, 12.0)? + 18;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2 × 3 map with every feature: values on both sides of the centre, a missing value, hatched
    /// cells, a flat region and a recommended cell, and λ̂ in the labels.
    fn sample(color_map: ColorMap) -> HeatMap {
        let cell = |v: f64| [format!("{v:.3}"), "accept 0.93".to_string()];
        HeatMap {
            title: "λ̂/λ over ε × nβ: deep linear network 5→4→3, λ = 7.5".into(),
            x_label: "step size ε".into(),
            y_label: "nβ".into(),
            columns: vec!["1e-6".into(), "1e-5".into(), "1e-4".into()],
            rows: vec!["131.5".into(), "263.1".into()],
            values: vec![vec![Some(0.8), Some(1.0), None], vec![Some(1.02), Some(1.1), Some(f64::NAN)]],
            text: vec![
                vec![cell(0.8), cell(1.0), ["none".into(), String::new()]],
                vec![cell(1.02), cell(1.1), cell(0.0)],
            ],
            unstable: vec![vec![false, false, true], vec![false, false, true]],
            flat: vec![Some(0..2), None],
            recommended: Some((0, 1)),
            color_label: "λ̂ / λ".into(),
            color_map,
        }
    }

    #[test]
    fn heat_maps_write_a_png_with_either_colour_map() {
        let dir = std::env::temp_dir().join(format!("llc-heatmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, map) in [("diverging", ColorMap::Diverging { centre: 1.0 }), ("sequential", ColorMap::Sequential)] {
            let path = dir.join(format!("{name}.png"));
            write_png(&sample(map), &path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000, "{name}: {} bytes", bytes.len());
        }
        let error = write_png(&sample(ColorMap::Sequential), &dir.join("missing/x.png")).unwrap_err();
        assert!(error.contains("missing/x.png") && !error.contains('\n'), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn colours_span_the_values_and_stay_centred() {
        let map = sample(ColorMap::Diverging { centre: 1.0 });
        let (lo, hi) = color_range(&map);
        assert!((lo - 0.8).abs() < 1e-12 && (hi - 1.2).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(color_at(ColorMap::Diverging { centre: 1.0 }, 0.5), RGBColor(247, 247, 247));
        assert_eq!(color_at(ColorMap::Sequential, f64::NAN), RGBColor(68, 1, 84));
    }
}
