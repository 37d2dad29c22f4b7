//! Figures of the reproduce task: panels of markers, lines and error bars, written side by side as
//! SVG and PNG with plotters.
//!
//! The caller describes a [`Figure`] literally (panels, series, points) and [`write_figure`] does the
//! rest: axis ranges from the data, linear or logarithmic ticks, a legend placed where it hides the
//! fewest points, optional y = x diagonal and horizontal reference line, and markers coloured by a
//! value with a colour bar. Text in the PNG is drawn with the bundled DejaVu Sans (registered once
//! with plotters' `ab_glyph` support), so it renders on a machine without system fonts; the SVG
//! names the generic `sans-serif` family and does not depend on the font file.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, KeyPointWeight, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

/// DejaVu Sans (Bitstream Vera license, see `xtask/assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The font family every text of a figure uses; the bundled font is registered under this name.
const FONT_FAMILY: &str = "sans-serif";

/// Width of one panel in pixels.
const PANEL_W: u32 = 600;
/// Height of a panel in pixels.
const PANEL_H: u32 = 480;
/// Height of the figure's title band, when the figure has a title.
const TITLE_H: u32 = 40;
/// Space above the plotting area (below the panel title).
const MARGIN_TOP: u32 = 8;
/// Height of the x tick labels plus the x axis label.
const X_LABEL_AREA: u32 = 52;
/// Space below the x label area.
const MARGIN_BOTTOM: u32 = 6;
/// Radius of a marker in pixels.
const MARKER_R: i32 = 4;
/// Gap between the chart and the colour bar.
const COLOR_BAR_LEFT: u32 = 12;
/// Width of the colour strip itself.
const COLOR_BAR_STRIP: u32 = 16;
/// Width of the colour bar's (rotated) label.
const COLOR_BAR_TITLE: u32 = 24;
/// Height of a panel's title band.
const PANEL_TITLE_H: u32 = 28;

/// How one series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// Markers only (a scatter plot).
    Markers,
    /// A line through the points in their order, broken where a point cannot be drawn.
    #[allow(dead_code, reason = "part of the figure vocabulary even while no suite draws bare lines")]
    Line,
    /// Both a line and markers.
    LineMarkers,
}

/// One data point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Point {
    /// Position on the x axis.
    pub(crate) x: f64,
    /// Position on the y axis.
    pub(crate) y: f64,
    /// Half-length of a vertical error bar (y ± y_err), if any.
    pub(crate) y_err: Option<f64>,
    /// Value that colours the marker when the panel has a [`ColorScale`].
    pub(crate) color_value: Option<f64>,
}

impl Point {
    /// A point without error bar or colour value.
    #[allow(dead_code, reason = "a convenience for callers; not every caller needs it")]
    pub(crate) fn new(x: f64, y: f64) -> Self {
        Self { x, y, y_err: None, color_value: None }
    }
}

/// One labelled series of a panel.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    /// Legend label; an empty label keeps the series out of the legend.
    pub(crate) label: String,
    /// How the series is drawn.
    pub(crate) style: Style,
    /// The points, in drawing order.
    pub(crate) points: Vec<Point>,
}

/// Colouring of markers by each point's `color_value`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ColorScale {
    /// Label of the colour bar.
    pub(crate) label: String,
    /// Whether the colour map is logarithmic in the value.
    pub(crate) log: bool,
}

/// One chart of a figure.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Panel {
    /// Title drawn above the chart.
    pub(crate) title: String,
    /// Label of the x axis.
    pub(crate) x_label: String,
    /// Label of the y axis.
    pub(crate) y_label: String,
    /// Logarithmic x axis (non-positive x values are skipped).
    pub(crate) x_log: bool,
    /// Logarithmic y axis (non-positive y values are skipped).
    pub(crate) y_log: bool,
    /// The series, drawn in order; each gets its own colour (or marker shape, with a colour scale).
    pub(crate) series: Vec<Series>,
    /// Draw the y = x diagonal (dashed grey) across the panel. When both axes have the same scale
    /// (both linear or both logarithmic), they then also share one range, so that the diagonal runs
    /// corner to corner.
    pub(crate) diagonal: bool,
    /// Draw a horizontal reference line at this y (dashed), e.g. 0 % error.
    pub(crate) h_line: Option<f64>,
    /// When set, markers are coloured by each point's `color_value` (viridis-like map, log or
    /// linear), and a small colour bar with this label is drawn.
    pub(crate) color_scale: Option<ColorScale>,
}

impl Panel {
    /// A panel with linear axes, no series and no reference lines.
    #[allow(dead_code, reason = "a convenience for callers; not every caller needs it")]
    pub(crate) fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_log: false,
            y_log: false,
            series: Vec::new(),
            diagonal: false,
            h_line: None,
            color_scale: None,
        }
    }
}

/// A figure: panels side by side under an optional title.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Figure {
    /// Title over all panels; empty for none.
    pub(crate) title: String,
    /// The panels, left to right.
    pub(crate) panels: Vec<Panel>,
}

/// Writes `<dir>/<stem>.svg` and `<dir>/<stem>.png` (panels side by side, ~600 px wide each, ~480
/// high; PNG at the same size) and returns both paths. Creates `dir` if it does not exist.
pub(crate) fn write_figure(figure: &Figure, dir: &Path, stem: &str) -> Result<[PathBuf; 2], String> {
    register_bundled_font()?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    let size = figure_size(figure);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw_figure(&root, Canvas::Svg, figure).map_err(|e| format!("cannot draw {}: {e}", svg_path.display()))?;
        root.present().map_err(|e| format!("cannot draw {}: {e}", svg_path.display()))?;
    }
    std::fs::write(&svg_path, svg).map_err(|e| format!("cannot write {}: {e}", svg_path.display()))?;

    {
        let root = BitMapBackend::new(&png_path, size).into_drawing_area();
        draw_figure(&root, Canvas::Bitmap, figure).map_err(|e| format!("cannot draw {}: {e}", png_path.display()))?;
        root.present().map_err(|e| format!("cannot write {}: {e}", png_path.display()))?;
    }
    Ok([svg_path, png_path])
}

/// Registers the bundled DejaVu Sans as plotters' `sans-serif`, once per process.
fn register_bundled_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FONT_FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "the bundled font xtask/assets/DejaVuSans.ttf cannot be read".to_string())
        })
        .clone()
}

/// Pixel size of the whole figure.
fn figure_size(figure: &Figure) -> (u32, u32) {
    let panels = u32::try_from(figure.panels.len().max(1)).unwrap_or(u32::MAX / PANEL_W);
    let title = if figure.title.trim().is_empty() { 0 } else { TITLE_H };
    (PANEL_W.saturating_mul(panels), PANEL_H + title)
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

/// Draws the whole figure on `root`.
fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    canvas: Canvas,
    figure: &Figure,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let body = if figure.title.trim().is_empty() {
        root.clone()
    } else {
        let (band, body) = root.split_vertically(TITLE_H);
        let centre = (pixels(band.dim_in_pixel().0) / 2, pixels(TITLE_H) / 2 + 2);
        put_text(&band, canvas, &figure.title, centre, (20.0, HPos::Center), false)?;
        body
    };
    if figure.panels.is_empty() {
        return Ok(());
    }
    for (area, panel) in body.split_evenly((1, figure.panels.len())).iter().zip(&figure.panels) {
        draw_panel(area, canvas, panel)?;
    }
    Ok(())
}

/// A pixel count as a coordinate.
fn pixels(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A text style of the figure's font at `size` pixels, black.
fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT_FAMILY, size).into_font()).color(&BLACK)
}

/// Whether `c` is a combining diacritical mark (U+0300 to U+036F).
fn is_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// Draws `text` centred vertically on `at`, anchored horizontally by `h`, at `size` pixels; rotated
/// to read upwards when `rotated`. On the bitmap, combining marks are placed over their base letter.
fn put_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    canvas: Canvas,
    text: &str,
    at: (i32, i32),
    (size, h): (f64, HPos),
    rotated: bool,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut style = font(size).pos(Pos::new(h, VPos::Center));
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

/// A point that can be drawn: finite, and positive on a log axis.
fn drawable(p: &Point, x_log: bool, y_log: bool) -> bool {
    valid(p.x, x_log) && valid(p.y, y_log)
}

/// Whether `v` can be placed on an axis (finite, and positive on a log axis).
fn valid(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

/// A finite, positive error half-length, if any.
fn error_of(p: &Point) -> Option<f64> {
    p.y_err.filter(|e| e.is_finite() && *e > 0.0)
}

/// The plotting area of a chart relative to the area it was built on: left, top, width, height.
type PlotRect = (i32, i32, i32, i32);

/// Draws one panel (title, chart, legend, colour bar) in `area`.
fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, canvas: Canvas, panel: &Panel) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let area = area.margin(4, 4, 8, 10);
    let body = if panel.title.trim().is_empty() {
        area
    } else {
        let (band, body) = area.split_vertically(PANEL_TITLE_H);
        let centre = (pixels(band.dim_in_pixel().0) / 2, pixels(PANEL_TITLE_H) / 2);
        put_text(&band, canvas, &panel.title, centre, (16.0, HPos::Center), false)?;
        body
    };

    let (x_axis, y_axis) = panel_axes(panel);
    let color_axis = panel.color_scale.as_ref().map(|scale| color_axis(panel, scale.log));
    let (chart_area, bar_area) = match &color_axis {
        Some(axis) => {
            let w = body.dim_in_pixel().0;
            let (c, b) = body.split_horizontally(w.saturating_sub(color_bar_width(axis)));
            (c, Some(b))
        }
        None => (body, None),
    };

    let mut chart = ChartBuilder::on(&chart_area)
        .margin_top(MARGIN_TOP)
        .margin_bottom(MARGIN_BOTTOM)
        .margin_right(if bar_area.is_some() { 4 } else { 14 })
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(tick_label_width(&y_axis) + 34)
        .build_cartesian_2d(x_axis.clone(), y_axis.clone())
        .map_err(err)?;

    chart
        .configure_mesh()
        .label_style(font(13.0))
        .bold_line_style(RGBColor(218, 218, 218).stroke_width(1))
        .light_line_style(RGBColor(242, 242, 242).stroke_width(1))
        .axis_style(RGBColor(60, 60, 60).stroke_width(1))
        .set_all_tick_mark_size(4)
        .draw()
        .map_err(err)?;

    let plot = {
        let (base, outer) = (chart.plotting_area().get_base_pixel(), chart_area.get_base_pixel());
        let (w, h) = chart.plotting_area().dim_in_pixel();
        (base.0 - outer.0, base.1 - outer.1, pixels(w), pixels(h))
    };
    let label_size = (15.0, HPos::Center);
    put_text(&chart_area, canvas, &panel.x_label, (plot.0 + plot.2 / 2, plot.1 + plot.3 + 38), label_size, false)?;
    put_text(&chart_area, canvas, &panel.y_label, (11, plot.1 + plot.3 / 2), label_size, true)?;

    let mut obstacles: Vec<(f64, f64)> = Vec::new();
    // Reference lines first, so that the data is drawn over them.
    let reference = RGBColor(120, 120, 120).stroke_width(1);
    if panel.diagonal {
        let lo = x_axis.lo.max(y_axis.lo);
        let hi = x_axis.hi.min(y_axis.hi);
        if lo < hi {
            let (t0, t1) = (x_axis.to_t(lo), x_axis.to_t(hi));
            let line: Vec<(f64, f64)> = (0..=200)
                .map(|i| {
                    let v = x_axis.inverse(t0 + (t1 - t0) * f64::from(i) / 200.0).clamp(lo, hi);
                    (v, v)
                })
                .collect();
            obstacles.extend(line.iter().map(|&(x, y)| (x_axis.frac(x), y_axis.frac(y))));
            chart.draw_series(DashedLineSeries::new(line, 7, 5, reference)).map_err(err)?;
        }
    }
    if let Some(y) = panel.h_line.filter(|&y| valid(y, y_axis.log) && y >= y_axis.lo && y <= y_axis.hi) {
        obstacles.extend((0..=40).map(|i| (f64::from(i) / 40.0, y_axis.frac(y))));
        chart.draw_series(DashedLineSeries::new([(x_axis.lo, y), (x_axis.hi, y)], 7, 5, reference)).map_err(err)?;
    }

    let mut legend: Vec<(Glyph, &str)> = Vec::new();
    for (index, series) in panel.series.iter().enumerate() {
        let color = PALETTE[index % PALETTE.len()];
        let shape = if color_axis.is_some() { SHAPES[index % SHAPES.len()] } else { Shape::Circle };
        let points: Vec<&Point> = series.points.iter().filter(|p| drawable(p, x_axis.log, y_axis.log)).collect();
        obstacles.extend(points.iter().map(|p| (x_axis.frac(p.x), y_axis.frac(p.y))));

        let line_color = if color_axis.is_some() { RGBColor(90, 90, 90) } else { color };
        let with_line = matches!(series.style, Style::Line | Style::LineMarkers);
        let with_markers = matches!(series.style, Style::Markers | Style::LineMarkers);
        if with_line {
            for segment in line_segments(&series.points, x_axis.log, y_axis.log) {
                obstacles.extend(segment.iter().map(|&(x, y)| (x_axis.frac(x), y_axis.frac(y))));
                chart.draw_series(LineSeries::new(segment, line_color.stroke_width(2))).map_err(err)?;
            }
        }
        let bar_color = if color_axis.is_some() { RGBColor(70, 70, 70) } else { color };
        chart
            .draw_series(points.iter().filter_map(|p| {
                let e = error_of(p)?;
                let lo = if valid(p.y - e, y_axis.log) { p.y - e } else { y_axis.lo };
                Some(ErrorBar::new_vertical(p.x, lo, p.y, p.y + e.min(f64::MAX / 4.0), bar_color.stroke_width(1), 8))
            }))
            .map_err(err)?;
        if with_markers {
            chart
                .draw_series(points.iter().map(|p| {
                    let fill = match &color_axis {
                        Some(axis) => match p.color_value.filter(|&v| valid(v, axis.log)) {
                            Some(v) => viridis(axis.frac(v)),
                            None => RGBColor(170, 170, 170),
                        },
                        None => color,
                    };
                    let (_, body, edge) = Glyph::marker(shape, fill, color_axis.is_some()).parts();
                    EmptyElement::at((p.x, p.y)) + body + edge
                }))
                .map_err(err)?;
        }
        if !series.label.is_empty() {
            let mut entry = match &color_axis {
                Some(_) => Glyph::marker(shape, RGBColor(200, 200, 200), true),
                None => Glyph::marker(shape, color, false),
            };
            if !with_markers {
                entry.marker = None;
            }
            if with_line {
                entry.line = Some(line_color);
            }
            legend.push((entry, series.label.as_str()));
        }
    }
    draw_legend(&chart_area, canvas, plot, &legend, &obstacles)?;

    if let (Some(bar_area), Some(axis), Some(scale)) = (bar_area, color_axis, panel.color_scale.as_ref()) {
        draw_color_bar(&bar_area, canvas, axis, &scale.label)?;
    }
    Ok(())
}

/// Width in pixels of the widest tick label of `axis` (estimated, at 13 px).
fn tick_label_width(axis: &Axis) -> u32 {
    let widest = axis.major.iter().map(|v| axis.label(*v).chars().count()).max().unwrap_or(1);
    u32::try_from(widest).unwrap_or(12).min(12) * 8
}

/// Width of a colour bar with its ticks and label.
fn color_bar_width(axis: &Axis) -> u32 {
    COLOR_BAR_LEFT + COLOR_BAR_STRIP + tick_label_width(axis) + 10 + COLOR_BAR_TITLE
}

/// Draws the legend in the corner of the plotting area `plot` (of `area`) that hides the fewest
/// `obstacles` (points as fractions of the plotting area), if any series has a label.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    canvas: Canvas,
    plot: PlotRect,
    entries: &[(Glyph, &str)],
    obstacles: &[(f64, f64)],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    if entries.is_empty() {
        return Ok(());
    }
    let (pad, row, glyph_w, inset) = (8, 20, 28, 10);
    let mut text_w = 0;
    for (_, label) in entries {
        text_w = text_w.max(area.estimate_text_size(label, &font(13.0)).map_err(err)?.0);
    }
    let w = pad + glyph_w + 6 + pixels(text_w) + pixels(text_w) / 16 + pad;
    let h = pad + row * i32::try_from(entries.len()).unwrap_or(i32::MAX / row) + pad - 4;
    let (x0, y0, pw, ph) = plot;
    let corners = [
        (x0 + inset, y0 + inset),
        (x0 + pw - inset - w, y0 + inset),
        (x0 + pw - inset - w, y0 + ph - inset - h),
        (x0 + inset, y0 + ph - inset - h),
    ];
    let covered = |&(bx, by): &(i32, i32)| {
        // The box with a little room around it, as fractions of the plotting area (y up).
        let fx = |x: i32| f64::from(x - x0) / f64::from(pw.max(1));
        let fy = |y: i32| 1.0 - f64::from(y - y0) / f64::from(ph.max(1));
        let (ax, bx2, ay, by2) = (fx(bx - 6), fx(bx + w + 6), fy(by + h + 6), fy(by - 6));
        obstacles.iter().filter(|&&(x, y)| x >= ax && x <= bx2 && y >= ay && y <= by2).count()
    };
    let (bx, by) = corners.iter().min_by_key(|c| covered(c)).copied().unwrap_or(corners[0]);
    area.draw(&Rectangle::new([(bx, by), (bx + w, by + h)], WHITE.mix(0.9).filled())).map_err(err)?;
    area.draw(&Rectangle::new([(bx, by), (bx + w, by + h)], RGBColor(190, 190, 190).stroke_width(1))).map_err(err)?;
    for (i, (glyph, label)) in entries.iter().enumerate() {
        let y = by + pad + row * i32::try_from(i).unwrap_or(0) + row / 2 - 2;
        let (line, body, edge) = glyph.parts();
        area.draw(&(EmptyElement::at((bx + pad + glyph_w / 2, y)) + line + body + edge)).map_err(err)?;
        put_text(area, canvas, label, (bx + pad + glyph_w + 6, y), (13.0, HPos::Left), false)?;
    }
    Ok(())
}

/// The maximal runs of consecutive drawable points of a series, for its line.
fn line_segments(points: &[Point], x_log: bool, y_log: bool) -> Vec<Vec<(f64, f64)>> {
    let mut segments = vec![Vec::new()];
    for p in points {
        if drawable(p, x_log, y_log) {
            if let Some(segment) = segments.last_mut() {
                segment.push((p.x, p.y));
            }
        } else if segments.last().is_some_and(|s| !s.is_empty()) {
            segments.push(Vec::new());
        }
    }
    segments.retain(|s| s.len() > 1);
    segments
}

/// The x and y axes of a panel, from its drawable points, error bars and reference line.
fn panel_axes(panel: &Panel) -> (Axis, Axis) {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for p in panel.series.iter().flat_map(|s| &s.points).filter(|p| drawable(p, panel.x_log, panel.y_log)) {
        xs.push(p.x);
        ys.push(p.y);
        if let Some(e) = error_of(p) {
            ys.extend([p.y - e, p.y + e].into_iter().filter(|v| valid(*v, panel.y_log)));
        }
    }
    if let Some(y) = panel.h_line.filter(|y| valid(*y, panel.y_log)) {
        ys.push(y);
    }
    if panel.diagonal && panel.x_log == panel.y_log && !xs.is_empty() {
        let both: Vec<f64> = xs.iter().chain(&ys).copied().collect();
        let axis = Axis::from_values(&both, panel.x_log);
        return (axis.clone(), axis);
    }
    (Axis::from_values(&xs, panel.x_log), Axis::from_values(&ys, panel.y_log))
}

/// The colour axis of a panel, from the colour values of its drawable points.
fn color_axis(panel: &Panel, log: bool) -> Axis {
    let values: Vec<f64> = panel
        .series
        .iter()
        .flat_map(|s| &s.points)
        .filter(|p| drawable(p, panel.x_log, panel.y_log))
        .filter_map(|p| p.color_value)
        .collect();
    Axis::from_values_with_margin(&values, log, 0.0)
}

/// Draws a vertical colour bar with ticks and a label in `area`, aligned with the plotting area.
fn draw_color_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    canvas: Canvas,
    axis: Axis,
    label: &str,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut bar = ChartBuilder::on(area)
        .margin_top(MARGIN_TOP)
        .margin_bottom(MARGIN_BOTTOM + X_LABEL_AREA)
        .margin_left(COLOR_BAR_LEFT)
        .margin_right(COLOR_BAR_TITLE)
        .right_y_label_area_size(tick_label_width(&axis) + 10)
        .build_cartesian_2d(Axis::unit(), axis.clone())
        .map_err(err)?;
    let steps = 96;
    let (t0, t1) = (axis.to_t(axis.lo), axis.to_t(axis.hi));
    bar.draw_series((0..steps).map(|i| {
        let a = axis.inverse(t0 + (t1 - t0) * f64::from(i) / f64::from(steps));
        let b = axis.inverse(t0 + (t1 - t0) * f64::from(i + 1) / f64::from(steps));
        let color = viridis((f64::from(i) + 0.5) / f64::from(steps));
        Rectangle::new([(0.0, a), (1.0, b)], color.filled())
    }))
    .map_err(err)?;
    bar.draw_series(std::iter::once(Rectangle::new(
        [(0.0, axis.lo), (1.0, axis.hi)],
        RGBColor(60, 60, 60).stroke_width(1),
    )))
    .map_err(err)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .label_style(font(12.0))
        .axis_style(RGBColor(60, 60, 60).stroke_width(1))
        .set_all_tick_mark_size(3)
        .draw()
        .map_err(err)?;
    let (base, outer) = (bar.plotting_area().get_base_pixel(), area.get_base_pixel());
    let middle = base.1 - outer.1 + pixels(bar.plotting_area().dim_in_pixel().1) / 2;
    let x = pixels(area.dim_in_pixel().0) - pixels(COLOR_BAR_TITLE) / 2;
    put_text(area, canvas, label, (x, middle), (14.0, HPos::Center), true)
}

/// Marker shapes, used to tell series apart when colour encodes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled upward triangle.
    Triangle,
    /// A filled diamond.
    Diamond,
    /// A filled downward triangle.
    TriangleDown,
}

/// Shapes in the order series get them (with a colour scale).
const SHAPES: [Shape; 5] = [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Diamond, Shape::TriangleDown];

/// Distinct series colours (the Tableau 10 palette).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The outline of a marker of `shape` around the origin, in pixels.
fn shape_outline(shape: Shape) -> Vec<(i32, i32)> {
    let r = MARKER_R;
    match shape {
        Shape::Circle => (0..16)
            .map(|i| {
                let a = std::f64::consts::TAU * f64::from(i) / 16.0;
                let (s, c) = a.sin_cos();
                ((f64::from(r) * 1.1 * c).round() as i32, (f64::from(r) * 1.1 * s).round() as i32)
            })
            .collect(),
        Shape::Square => vec![(-r, -r), (r, -r), (r, r), (-r, r)],
        Shape::Triangle => vec![(0, -r - 1), (r + 1, r), (-r - 1, r)],
        Shape::TriangleDown => vec![(0, r + 1), (r + 1, -r), (-r - 1, -r)],
        Shape::Diamond => vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
    }
}

/// How a glyph (a data marker or a legend entry) is drawn: an optional marker and an optional short
/// horizontal line through its centre.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Glyph {
    /// The marker, if any: its shape, fill and edge colour.
    marker: Option<(Shape, RGBColor, RGBColor)>,
    /// A horizontal line through the centre (legend entries of line series), if any.
    line: Option<RGBColor>,
}

/// The parts of a glyph, in pixels around the origin, for composing onto `EmptyElement::at`: the
/// line, the marker's body and its edge. Absent parts are transparent, which both backends skip.
type GlyphParts = (PathElement<(i32, i32)>, Polygon<(i32, i32)>, PathElement<(i32, i32)>);

impl Glyph {
    /// A marker of `shape` filled with `fill`, edged in dark grey when `outlined`, else in a darker
    /// shade of `fill`.
    fn marker(shape: Shape, fill: RGBColor, outlined: bool) -> Self {
        let edge = if outlined { RGBColor(40, 40, 40) } else { darker(fill) };
        Self { marker: Some((shape, fill, edge)), line: None }
    }

    /// The drawable parts of the glyph.
    fn parts(&self) -> GlyphParts {
        let line = match self.line {
            Some(color) => color.stroke_width(2),
            None => TRANSPARENT.stroke_width(0),
        };
        let (shape, fill, edge) = match self.marker {
            Some((shape, fill, edge)) => (shape, fill.filled(), edge.stroke_width(1)),
            None => (Shape::Square, TRANSPARENT.filled(), TRANSPARENT.stroke_width(0)),
        };
        let outline = shape_outline(shape);
        let closed: Vec<(i32, i32)> = outline.iter().chain(outline.first()).copied().collect();
        (PathElement::new(vec![(-11, 0), (11, 0)], line), Polygon::new(outline, fill), PathElement::new(closed, edge))
    }
}

/// A slightly darker shade of `c`, for marker edges.
fn darker(c: RGBColor) -> RGBColor {
    let f = |v: u8| (f64::from(v) * 0.7).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// The viridis colour map at `t` in [0, 1] (piecewise-linear through nine of its colours).
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
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
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let scaled = t * (STOPS.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(STOPS.len() - 2);
    let f = scaled - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

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
struct Axis {
    /// Lower end of the range (positive on a log axis).
    lo: f64,
    /// Upper end of the range, above `lo`.
    hi: f64,
    /// Logarithmic scale.
    log: bool,
    /// Labelled ticks and grid lines.
    major: Vec<f64>,
    /// Unlabelled light grid lines.
    minor: Vec<f64>,
    /// How the major ticks are labelled.
    format: TickFormat,
}

impl Axis {
    /// The [0, 1] axis without ticks (the colour bar's width).
    fn unit() -> Self {
        Self { lo: 0.0, hi: 1.0, log: false, major: Vec::new(), minor: Vec::new(), format: TickFormat::Fixed(0) }
    }

    /// An axis covering `values` (those that fit the scale) with a 5 % margin each side.
    fn from_values(values: &[f64], log: bool) -> Self {
        Self::from_values_with_margin(values, log, 0.05)
    }

    /// An axis covering `values` with the given margin, a fraction of the span (in log space on a
    /// log axis), each side.
    fn from_values_with_margin(values: &[f64], log: bool, margin: f64) -> Self {
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
    fn to_t(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    /// Inverse of [`Axis::to_t`].
    fn inverse(&self, t: f64) -> f64 {
        if self.log { 10f64.powf(t) } else { t }
    }

    /// Position of `v` along the axis, 0 at `lo` and 1 at `hi`, clamped to [0, 1].
    fn frac(&self, v: f64) -> f64 {
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
    fn label(&self, v: f64) -> String {
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

    /// A fresh directory under the system temp dir.
    fn temp_dir(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!("llc-figures-{name}-{}-{nanos}", std::process::id()))
    }

    /// Two panels: log-log with diagonal and colour scale, and errors with a log x axis.
    fn sample_figure() -> Figure {
        let truth: Vec<f64> = vec![5.0, 20.0, 80.0, 400.0, 2000.0, 1e4, 5e4, 1e5];
        let estimate = |scale: f64| -> Vec<Point> {
            truth
                .iter()
                .enumerate()
                .map(|(i, &l)| Point {
                    x: l,
                    y: l * scale * (1.0 + 0.05 * (i as f64).sin()),
                    y_err: Some(0.1 * l),
                    color_value: Some(10f64.powi(i as i32 % 5) * 3.0),
                })
                .collect()
        };
        let mut llc = Panel::new("λ̂ against the exact λ", "λ (Aoyagi)", "λ̂ (mean ± sd over chains)");
        llc.x_log = true;
        llc.y_log = true;
        llc.diagonal = true;
        llc.color_scale = Some(ColorScale { label: "parameters d".into(), log: true });
        llc.series.push(Series { label: "SGLD, β = 1/ln n".into(), style: Style::Markers, points: estimate(0.9) });
        llc.series.push(Series { label: "RMSprop-SGLD ±".into(), style: Style::Markers, points: estimate(1.1) });

        let mut err = Panel::new("Relative error against ε", "step size ε", "relative error of λ̂ (%)");
        err.x_log = true;
        err.h_line = Some(0.0);
        for (k, label) in ["α = 0.5", "α = 1 (λ̂)"].iter().enumerate() {
            err.series.push(Series {
                label: (*label).into(),
                style: Style::LineMarkers,
                points: (0..9)
                    .map(|i| {
                        let eps = 10f64.powi(i - 4);
                        Point {
                            x: eps,
                            y: (k as f64 + 1.0) * 8.0 * (i as f64 - 4.0),
                            y_err: Some(4.0),
                            color_value: None,
                        }
                    })
                    .collect(),
            });
        }
        Figure { title: "Deep linear networks: λ̂ against theory".into(), panels: vec![llc, err] }
    }

    #[test]
    fn figures_write_svg_and_png_with_legends() {
        let dir = temp_dir("sample");
        let [svg, png] = write_figure(&sample_figure(), &dir, "dln").expect("figure written");
        assert_eq!(svg, dir.join("dln.svg"));
        assert_eq!(png, dir.join("dln.png"));
        let text = std::fs::read_to_string(&svg).expect("svg readable");
        assert!(text.contains("<svg"));
        for label in ["SGLD, β = 1/ln n", "RMSprop-SGLD ±", "α = 0.5", "α = 1 (λ̂)", "parameters d"] {
            assert!(text.contains(label), "{label} missing from the SVG");
        }
        let bytes = std::fs::read(&png).expect("png readable");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(bytes.len() > 8_000, "PNG of {} bytes", bytes.len());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn figures_empty_and_non_finite_data_still_write() {
        let mut nan = Panel::new("", "x", "y");
        nan.x_log = true;
        nan.y_log = true;
        nan.diagonal = true;
        nan.h_line = Some(-1.0);
        nan.color_scale = Some(ColorScale { label: "c".into(), log: true });
        nan.series.push(Series {
            label: "all NaN".into(),
            style: Style::LineMarkers,
            points: vec![
                Point { x: f64::NAN, y: f64::NAN, y_err: Some(f64::NAN), color_value: Some(f64::NAN) },
                Point { x: -1.0, y: 0.0, y_err: Some(f64::INFINITY), color_value: Some(-3.0) },
                Point::new(f64::INFINITY, 1.0),
            ],
        });
        let mut empty = Panel::new("empty", "x", "y");
        empty.series.push(Series { label: String::new(), style: Style::Line, points: Vec::new() });
        empty.series.push(Series { label: "nothing".into(), style: Style::Markers, points: Vec::new() });
        let mut constant = Panel::new("constant", "x", "y");
        constant.series.push(Series { label: "one".into(), style: Style::Markers, points: vec![Point::new(3.0, 3.0)] });
        let figure = Figure { title: String::new(), panels: vec![nan, empty, constant, Panel::new("", "", "")] };
        let dir = temp_dir("empty");
        let [svg, png] = write_figure(&figure, &dir, "empty").expect("figure written");
        assert!(std::fs::read_to_string(svg).expect("svg").contains("<svg"));
        assert!(std::fs::read(png).expect("png").starts_with(b"\x89PNG"));
        let no_panels = Figure { title: "no panels".into(), panels: Vec::new() };
        assert!(write_figure(&no_panels, &dir, "none").is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn figures_unwritable_directory_is_an_error() {
        let dir = temp_dir("file");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("plain-file");
        std::fs::write(&file, b"not a directory").expect("file written");
        let error = write_figure(&sample_figure(), &file.join("sub"), "x").expect_err("a file is not a directory");
        assert!(error.contains("plain-file"), "{error}");
        assert!(!error.contains('\n'), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

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
