//! Charts: panels of markers, lines and error bars side by side, written as SVG and PNG.
//!
//! The caller describes a [`Figure`] literally (panels, series, points) and [`write_figure`] does the
//! rest: axis ranges from the data, linear or logarithmic ticks, a legend placed where it hides the
//! fewest points, optional y = x diagonal and horizontal reference line, and markers coloured by a
//! value with a colour bar.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::axis::Axis;
use super::{Canvas, font, pixels, put_text, register_bundled_font, valid, viridis};

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
pub enum Style {
    /// Markers only (a scatter plot).
    Markers,
    /// A line through the points in their order, broken where a point cannot be drawn.
    Line,
    /// Both a line and markers.
    LineMarkers,
}

/// One data point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Position on the x axis.
    pub x: f64,
    /// Position on the y axis.
    pub y: f64,
    /// Half-length of a vertical error bar (y ± y_err), if any.
    pub y_err: Option<f64>,
    /// Value that colours the marker when the panel has a [`ColorScale`].
    pub color_value: Option<f64>,
}

impl Point {
    /// A point without error bar or colour value.
    pub fn new(x: f64, y: f64) -> Self {
        Self { x, y, y_err: None, color_value: None }
    }
}

/// One labelled series of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label; an empty label keeps the series out of the legend.
    pub label: String,
    /// How the series is drawn.
    pub style: Style,
    /// The points, in drawing order.
    pub points: Vec<Point>,
}

/// Colouring of markers by each point's `color_value`.
#[derive(Clone, Debug, PartialEq)]
pub struct ColorScale {
    /// Label of the colour bar.
    pub label: String,
    /// Whether the colour map is logarithmic in the value.
    pub log: bool,
}

/// One chart of a figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Title drawn above the chart.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Logarithmic x axis (non-positive x values are skipped).
    pub x_log: bool,
    /// Logarithmic y axis (non-positive y values are skipped).
    pub y_log: bool,
    /// The series, drawn in order; each gets its own colour (or marker shape, with a colour scale).
    pub series: Vec<Series>,
    /// Draw the y = x diagonal (dashed grey) across the panel. When both axes have the same scale
    /// (both linear or both logarithmic), they then also share one range, so that the diagonal runs
    /// corner to corner.
    pub diagonal: bool,
    /// Draw a horizontal reference line at this y (dashed), e.g. 0 % error.
    pub h_line: Option<f64>,
    /// When set, markers are coloured by each point's `color_value` (viridis-like map, log or
    /// linear), and a small colour bar with this label is drawn.
    pub color_scale: Option<ColorScale>,
}

impl Panel {
    /// A panel with linear axes, no series and no reference lines.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
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
pub struct Figure {
    /// Title over all panels; empty for none.
    pub title: String,
    /// The panels, left to right.
    pub panels: Vec<Panel>,
}

/// Writes `<dir>/<stem>.svg` and `<dir>/<stem>.png` (panels side by side, ~600 px wide each, ~480
/// high; PNG at the same size) and returns both paths. Creates `dir` if it does not exist.
pub fn write_figure(figure: &Figure, dir: &Path, stem: &str) -> Result<[PathBuf; 2], String> {
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

/// Pixel size of the whole figure.
fn figure_size(figure: &Figure) -> (u32, u32) {
    let panels = u32::try_from(figure.panels.len().max(1)).unwrap_or(u32::MAX / PANEL_W);
    let title = if figure.title.trim().is_empty() { 0 } else { TITLE_H };
    (PANEL_W.saturating_mul(panels), PANEL_H + title)
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
        put_text(&band, canvas, &figure.title, centre, (20.0, BLACK, HPos::Center), false)?;
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

/// A point that can be drawn: finite, and positive on a log axis.
fn drawable(p: &Point, x_log: bool, y_log: bool) -> bool {
    valid(p.x, x_log) && valid(p.y, y_log)
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
        put_text(&band, canvas, &panel.title, centre, (16.0, BLACK, HPos::Center), false)?;
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
    let label_size = (15.0, BLACK, HPos::Center);
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
        put_text(area, canvas, label, (bx + pad + glyph_w + 6, y), (13.0, BLACK, HPos::Left), false)?;
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
    put_text(area, canvas, label, (x, middle), (14.0, BLACK, HPos::Center), true)
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
}
