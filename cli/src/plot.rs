//! SVG figures with `plotters`: lines with confidence bands, optionally measured points.

use std::ops::Range;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One point of a line: x, mean, and the confidence interval if known.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    /// x value.
    pub(crate) x: f64,
    /// Mean.
    pub(crate) y: f64,
    /// 95 % confidence interval.
    pub(crate) ci: Option<(f64, f64)>,
}

/// One line of a figure.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// Legend label.
    pub(crate) label: String,
    /// Points in x order.
    pub(crate) points: Vec<Point>,
    /// Measured points drawn as markers with the same colour.
    pub(crate) measured: Vec<(f64, f64)>,
}

/// A figure.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    /// Title.
    pub(crate) title: String,
    /// x-axis label with unit.
    pub(crate) x_label: String,
    /// y-axis label with unit.
    pub(crate) y_label: String,
    /// The lines.
    pub(crate) series: Vec<Series>,
}

/// Okabe-Ito colours (colour-blind safe), in the order lines take them.
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// `text` with the characters XML 1.0 does not allow, escaped or not (control characters and
/// the noncharacters U+FFFE and U+FFFF), shown as U+FFFD, so any title or label makes a
/// well-formed SVG.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// Renders `fig` as SVG text.
pub(crate) fn render_svg(fig: &Figure) -> anyhow::Result<String> {
    let fig = &printable_figure(fig);
    let extent = data_extent(fig)?;
    let (legend, y_axis) = place_legend(fig, &extent.xr, y_axis(extent.y), extent.y.1);
    // On the axis as drawn: the legend's room may have raised its top past any number.
    check_scale(fig, &extent, y_axis)?;
    let xr = extent.xr;
    let columns = match legend {
        Legend::Inside(_) => 0,
        Legend::Beside { columns } => columns,
    };
    let column_width = legend_column_width(fig);
    let width = WIDTH + columns * column_width;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (plot_area, legend_area) = root.split_horizontally(WIDTH);
        let mut chart = draw_axes(&plot_area, fig, xr, y_axis)?;
        for (i, s) in fig.series.iter().enumerate() {
            draw_line(&mut chart, i, s)?;
        }
        match legend {
            Legend::Inside(at) => draw_legend_box(&mut chart, at, 14)?,
            Legend::Beside { .. } => draw_legend_beside(&legend_area, fig, column_width)?,
        }
        root.present()?;
    }
    Ok(svg)
}

/// Where a figure's legend goes.
#[derive(Debug, Clone, PartialEq)]
enum Legend {
    /// In this corner of the plotting area.
    Inside(SeriesLabelPosition),
    /// To the right of the figure, in this many columns: too many lines for a corner (more
    /// than [`MAX_LINES_INSIDE`]).
    Beside {
        /// Columns of [`LINES_PER_COLUMN`] entries.
        columns: u32,
    },
}

/// Most lines whose legend goes inside the plotting area: a legend of 10 lines takes half its
/// height, and raising the y axis to make room for a taller one would squash the data.
const MAX_LINES_INSIDE: usize = 9;

/// Legend entries per column beside the figure: its height, less the margins, at 19 pixels
/// an entry.
const LINES_PER_COLUMN: usize = ((HEIGHT - 60) / LEGEND_LINE_HEIGHT) as usize;

/// Height of a legend entry, pixels.
const LEGEND_LINE_HEIGHT: u32 = 19;

/// Width of one column of a legend beside the figure, pixels: its longest label and the line's
/// sample.
fn legend_column_width(fig: &Figure) -> u32 {
    let chars = fig.series.iter().map(|s| s.label.chars().count()).max().unwrap_or(0);
    // plotters writes a 14-point font as 11.3 pixels; sans-serif averages about 0.56 em a
    // character.
    (chars as f64 * 6.4).ceil() as u32 + 48
}

/// Draws the legend of every line of `fig` into `area`, beside the figure: each line's sample
/// and label, top to bottom in columns of [`LINES_PER_COLUMN`] `column_width` pixels wide.
fn draw_legend_beside(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    fig: &Figure,
    column_width: u32,
) -> anyhow::Result<()> {
    let top = 44;
    for (i, s) in fig.series.iter().enumerate() {
        let (column, row) = (i / LINES_PER_COLUMN, i % LINES_PER_COLUMN);
        let x = (column as u32 * column_width) as i32 + 8;
        let y = top + (row as u32 * LEGEND_LINE_HEIGHT) as i32;
        let (c, marker, stroke) = line_style(i);
        for (from, to) in stroke.dashes(24) {
            area.draw(&PathElement::new(vec![(x + from, y), (x + to, y)], c.stroke_width(2)))?;
        }
        area.draw(&(EmptyElement::at((x, y)) + Polygon::new(marker_shape(marker, (12, 0)), c.filled())))?;
        area.draw(&Text::new(
            s.label.clone(),
            (x + 32, y - 8),
            ("sans-serif", 14).into_font().color(&BLACK),
        ))?;
    }
    Ok(())
}

/// A line's sample in a legend: two dashes and a marker, on an anchor.
type LineSample<DB> = plotters::element::ComposedElement<
    (i32, i32),
    DB,
    PathElement<(i32, i32)>,
    plotters::element::ComposedElement<(i32, i32), DB, PathElement<(i32, i32)>, Polygon<(i32, i32)>>,
>;

/// Line `i`'s sample in a legend, at `(x, y)` pixels: its colour, its dash and its marker.
fn line_sample<DB: DrawingBackend>(i: usize, (x, y): (i32, i32)) -> LineSample<DB> {
    let (c, cycle, stroke) = line_style(i);
    let dash = if stroke == Stroke::Solid { 12 } else { 8 };
    EmptyElement::at((x, y))
        + PathElement::new(vec![(0, 0), (dash, 0)], c.stroke_width(2))
        + PathElement::new(vec![(24 - dash, 0), (24, 0)], c.stroke_width(2))
        + Polygon::new(marker_shape(cycle, (12, 0)), c.filled())
}

/// Line `i`'s colour, marker and stroke: past the palette's 6 colours markers change shape (and
/// lines are dashed); past 18 lines the dashes change (dotted, then long), so 54 lines are told
/// apart.
fn line_style(i: usize) -> (RGBColor, usize, Stroke) {
    let marker = (i / PALETTE.len()) % 3;
    let stroke = match (i / (3 * PALETTE.len())) % 3 {
        0 if marker == 0 => Stroke::Solid,
        0 => Stroke::Dashed { size: 8, gap: 5 },
        1 => Stroke::Dashed { size: 2, gap: 4 },
        _ => Stroke::Dashed { size: 16, gap: 5 },
    };
    (PALETTE[i % PALETTE.len()], marker, stroke)
}

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stroke {
    /// One unbroken line.
    Solid,
    /// Dashes of `size` pixels, `gap` pixels apart.
    Dashed {
        /// Dash length, pixels.
        size: u32,
        /// Gap length, pixels.
        gap: u32,
    },
}

impl Stroke {
    /// The dashes of a sample `width` pixels long, (from, to) pixels.
    fn dashes(self, width: i32) -> Vec<(i32, i32)> {
        match self {
            Stroke::Solid => vec![(0, width)],
            Stroke::Dashed { size, gap } => (0..width)
                .step_by((size + gap) as usize)
                .map(|from| (from, (from + size as i32).min(width)))
                .collect(),
        }
    }
}

/// A chart with `f64` on both axes, drawn into an SVG string: what every figure of the cli draws
/// on.
pub(crate) type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// `fig` with its title, axis labels and legend labels made [`printable`].
fn printable_figure(fig: &Figure) -> Figure {
    let mut fig = fig.clone();
    fig.title = printable(&fig.title);
    fig.x_label = printable(&fig.x_label);
    fig.y_label = printable(&fig.y_label);
    for s in &mut fig.series {
        s.label = printable(&s.label);
    }
    fig
}

/// Where a figure's values lie.
struct Extent {
    /// The smallest and largest finite x values.
    x: (f64, f64),
    /// The x range to draw: `x` padded by 5 % of its span and at least 1 on each side.
    xr: Range<f64>,
    /// The smallest and largest finite y values (means, interval ends, measured points; +inf
    /// and -inf if none).
    y: (f64, f64),
}

/// Where `fig`'s values lie.
///
/// # Errors
///
/// When no point has a finite x: there is nothing to plot.
fn data_extent(fig: &Figure) -> anyhow::Result<Extent> {
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for s in &fig.series {
        for &Point { x, y, ci } in &s.points {
            xs.push(x);
            ys.push(y);
            if let Some((lo, hi)) = ci {
                ys.push(lo);
                ys.push(hi);
            }
        }
        for &(x, y) in &s.measured {
            xs.push(x);
            ys.push(y);
        }
    }
    let finite = |v: &Vec<f64>| v.iter().copied().filter(|x| x.is_finite()).collect::<Vec<_>>();
    let (xs, ys) = (finite(&xs), finite(&ys));
    anyhow::ensure!(!xs.is_empty(), "nothing to plot");
    let (x0, x1) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let y0 = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let y1 = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let xpad = ((x1 - x0) * 0.05).max(1.0);
    Ok(Extent {
        x: (x0, x1),
        xr: (x0 - xpad)..(x1 + xpad),
        y: (y0, y1),
    })
}

/// The y axis for values from `y_min` to `y_max`: from 0, or 8 % of the span below the least
/// value when one is negative, to 8 % of the span above the largest (above 0 when all are
/// negative); 0 to 1 when every value is 0 or there is none. It scales to the data: sub-second
/// values are not drawn flat on an axis to 1.
fn y_axis((y_min, y_max): (f64, f64)) -> (f64, f64) {
    if !(y_min.is_finite() && y_max.is_finite()) {
        return (0.0, 1.0);
    }
    let (lo, hi) = (y_min.min(0.0), y_max.max(0.0));
    let span = hi - lo;
    if span == 0.0 {
        return (0.0, 1.0);
    }
    let bottom = if lo < 0.0 { lo - 0.08 * span } else { 0.0 };
    (bottom, hi + 0.08 * span)
}

/// Refuses a figure that `plotters` cannot draw: an x range or a y axis (`y_axis`, bottom to
/// top) too wide to be a finite number, where it would search for tick marks forever.
///
/// # Errors
///
/// A [`UsageError`](crate::output::UsageError) naming the axis and the value: the values come
/// from the file plotted.
fn check_scale(fig: &Figure, extent: &Extent, (y_bottom, y_top): (f64, f64)) -> anyhow::Result<()> {
    let ((x0, x1), xr, (y_min, y_max)) = (extent.x, &extent.xr, extent.y);
    let refuse = |why: String| Err(crate::output::UsageError(format!("cannot draw the figure: {why}")).into());
    if !(xr.end - xr.start).is_finite() {
        return refuse(format!(
            "the x values ({}) run from {} to {}, a span too wide to draw; check that column of the file",
            fig.x_label,
            sim_core::display::number(x0),
            sim_core::display::number(x1)
        ));
    }
    if !(y_top - y_bottom).is_finite() {
        let v = if y_max.abs() >= y_min.abs() { y_max } else { y_min };
        return refuse(format!(
            "the y value {} ({}) is too large to draw: the axis around it would not be a finite number",
            sim_core::display::number(v),
            fig.y_label
        ));
    }
    Ok(())
}

/// Where the legend goes, and the y axis (bottom, top) with room for it.
///
/// Up to [`MAX_LINES_INSIDE`] lines, the legend goes into the corner of the plotting area with
/// the least drawn there; when every corner is taken, the top of the y axis rises until the
/// legend fits above the data (`y_max`, the largest value). With more lines it goes beside the
/// figure, and the axis stays the data's.
fn place_legend(fig: &Figure, xr: &Range<f64>, (y_bottom, y_top): (f64, f64), y_max: f64) -> (Legend, (f64, f64)) {
    if fig.series.is_empty() {
        return (Legend::Inside(SeriesLabelPosition::UpperLeft), (y_bottom, y_top));
    }
    if fig.series.len() > MAX_LINES_INSIDE {
        let columns = fig.series.len().div_ceil(LINES_PER_COLUMN) as u32;
        return (Legend::Beside { columns }, (y_bottom, y_top));
    }
    let legend = legend_size(fig);
    let samples = drawn_samples(fig);
    // (position, on the right, in the upper half), in order of preference.
    let corners = [
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let (hits, corner) = corners
        .iter()
        .map(|(pos, right, upper)| {
            (
                corner_hits(&samples, xr, (y_bottom, y_top), legend, *right, *upper),
                pos,
            )
        })
        .min_by_key(|(n, _)| *n)
        .expect("four corners");
    if hits == 0 {
        (Legend::Inside(corner.clone()), (y_bottom, y_top))
    } else {
        let highest = if y_max.is_finite() { y_max.max(y_bottom) } else { y_top };
        let top = y_bottom + (highest - y_bottom) / (1.0 - legend.1 - 0.03);
        (
            Legend::Inside(SeriesLabelPosition::UpperLeft),
            (y_bottom, top.max(y_top)),
        )
    }
}

/// How many of `samples` a legend of size `(w, h)` (fractions of the plotting area) would cover
/// in the corner on the `right` (else left) and `upper` (else lower) side, with the y axis from
/// `bottom` to `top`.
fn corner_hits(
    samples: &[(f64, f64)],
    xr: &Range<f64>,
    (bottom, top): (f64, f64),
    (w, h): (f64, f64),
    right: bool,
    upper: bool,
) -> usize {
    let (xw, yh) = ((xr.end - xr.start) * w, (top - bottom) * h);
    samples
        .iter()
        .filter(|&&(x, y)| {
            let in_x = if right { x >= xr.end - xw } else { x <= xr.start + xw };
            let in_y = if upper { y >= top - yh } else { y <= bottom + yh };
            in_x && in_y
        })
        .count()
}

/// Sets up the chart on `root`: the caption, the axes with their labels and the grid, x over `xr`
/// and y from `y_bottom` to `y_top`.
fn draw_axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    fig: &Figure,
    xr: Range<f64>,
    (y_bottom, y_top): (f64, f64),
) -> anyhow::Result<Chart<'a, 'b>> {
    let (x_span, y_span) = (xr.end - xr.start, y_top - y_bottom);
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(xr, y_bottom..y_top)?;
    chart
        .configure_mesh()
        .x_desc(&fig.x_label)
        .y_desc(&fig.y_label)
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 14))
        .x_label_formatter(&|v| tick(*v, x_span))
        .y_label_formatter(&|v| tick(*v, y_span))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(245, 245, 245))
        .max_light_lines(1)
        .draw()?;
    Ok(chart)
}

/// Draws line `i` of the figure: its confidence band, the line itself with its legend entry, a
/// marker at each point, and the measured points as black crosses.
fn draw_line<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, i: usize, s: &Series) -> anyhow::Result<()> {
    let (c, cycle, stroke) = line_style(i);
    let band: Vec<EdgePoints> = s
        .points
        .iter()
        .filter_map(|p| p.ci.map(|(lo, hi)| ((p.x, hi), (p.x, lo))))
        .collect();
    draw_band(chart, &band, c)?;
    let line: Vec<(f64, f64)> = s.points.iter().map(|p| (p.x, p.y)).collect();
    let legend = move |at: (i32, i32)| line_sample(i, at);
    let anno = match stroke {
        Stroke::Solid => chart.draw_series(LineSeries::new(line.iter().copied(), c.stroke_width(2)))?,
        Stroke::Dashed { size, gap } => chart.draw_series(DashedLineSeries::new(
            line.iter().copied(),
            size,
            gap,
            c.stroke_width(2),
        ))?,
    };
    anno.label(&s.label).legend(legend);
    chart.draw_series(
        line.iter()
            .map(|&p| EmptyElement::at(p) + Polygon::new(marker_shape(cycle, (0, 0)), c.filled())),
    )?;
    if !s.measured.is_empty() {
        chart.draw_series(
            s.measured
                .iter()
                .map(|&(x, y)| Cross::new((x, y), 7, ShapeStyle::from(&BLACK).stroke_width(2))),
        )?;
    }
    Ok(())
}

/// A band's width at one point, in data coordinates: the point on one edge and on the other.
pub(crate) type EdgePoints = ((f64, f64), (f64, f64));

/// Fills a band in `colour` at 18 % opacity: `edges` gives, point by point, a point of one edge and
/// of the other; the outline runs along the first edges and back along the second. A band of one
/// point, which has no area, is drawn as an error bar with caps.
pub(crate) fn draw_band<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    edges: &[EdgePoints],
    colour: RGBColor,
) -> anyhow::Result<()> {
    match edges {
        [] => {}
        [(a, b)] => {
            let style = colour.stroke_width(2);
            chart.draw_series(std::iter::once(PathElement::new(vec![*a, *b], style)))?;
            if a == b {
                // No width: nothing to show beyond the point itself.
                return Ok(());
            }
            // Caps across the bar: horizontal on a vertical bar, vertical on a horizontal one.
            let cap = if a.0 == b.0 {
                [(-6, 0), (6, 0)]
            } else {
                [(0, -6), (0, 6)]
            };
            for end in [*a, *b] {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(end) + PathElement::new(cap.to_vec(), style),
                ))?;
            }
        }
        _ => {
            let mut poly: Vec<(f64, f64)> = edges.iter().map(|&(there, _)| there).collect();
            poly.extend(edges.iter().rev().map(|&(_, back)| back));
            chart.draw_series(std::iter::once(Polygon::new(poly, colour.mix(0.18).filled())))?;
        }
    }
    Ok(())
}

/// Draws the legend of the lines labelled so far at `position`: a white, slightly transparent box
/// with a black border, labels in sans-serif of `font_size` pixels.
pub(crate) fn draw_legend_box<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    position: SeriesLabelPosition,
    font_size: i32,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", font_size))
        .draw()?;
    Ok(())
}

/// Width and height of the SVG, pixels.
const WIDTH: u32 = 900;
/// Height.
const HEIGHT: u32 = 560;

/// A marker's outline around `(cx, cy)` in pixels: a disc, a triangle, a square.
fn marker_shape(cycle: usize, (cx, cy): (i32, i32)) -> Vec<(i32, i32)> {
    match cycle {
        0 => (0..12)
            .map(|k| {
                let a = f64::from(k) * std::f64::consts::PI / 6.0;
                (cx + (3.5 * a.cos()).round() as i32, cy + (3.5 * a.sin()).round() as i32)
            })
            .collect(),
        1 => vec![(cx, cy - 5), (cx + 5, cy + 4), (cx - 5, cy + 4)],
        _ => vec![(cx - 4, cy - 4), (cx + 4, cy - 4), (cx + 4, cy + 4), (cx - 4, cy + 4)],
    }
}

/// The legend's size as fractions of the plotting area (about 800 x 440 pixels).
fn legend_size(fig: &Figure) -> (f64, f64) {
    let chars = fig.series.iter().map(|s| s.label.chars().count()).max().unwrap_or(0);
    let w = (chars as f64 * 7.6 + 60.0) / 800.0;
    let h = (fig.series.len() as f64 * f64::from(LEGEND_LINE_HEIGHT) + 16.0) / 440.0;
    (w.min(1.0), h.min(0.9))
}

/// Points along everything drawn (lines, bands, markers), in data coordinates.
fn drawn_samples(fig: &Figure) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut along = |pts: &[(f64, f64)]| {
        for w in pts.windows(2) {
            for k in 0..=24 {
                let t = f64::from(k) / 24.0;
                out.push((w[0].0 + t * (w[1].0 - w[0].0), w[0].1 + t * (w[1].1 - w[0].1)));
            }
        }
        if pts.len() == 1 {
            out.push(pts[0]);
        }
    };
    for s in &fig.series {
        let line: Vec<(f64, f64)> = s.points.iter().map(|p| (p.x, p.y)).collect();
        along(&line);
        let lo: Vec<(f64, f64)> = s.points.iter().filter_map(|p| p.ci.map(|c| (p.x, c.0))).collect();
        let hi: Vec<(f64, f64)> = s.points.iter().filter_map(|p| p.ci.map(|c| (p.x, c.1))).collect();
        along(&lo);
        along(&hi);
    }
    for s in &fig.series {
        out.extend(s.measured.iter().copied());
    }
    out.retain(|(x, y)| x.is_finite() && y.is_finite());
    out
}

/// A tick label on an axis spanning `span`: with the digits that tell ticks about a tenth of the
/// span apart (plotters draws about ten), and one more, trailing zeros dropped; in scientific notation from a
/// million up and below a thousandth, where plain digits would run over the axis's title or
/// show none (`3e8`, `1.005e8`, `1.5e-4`). A value within a billionth of the span of 0 (rounding
/// noise of the tick search) is 0.
fn tick(v: f64, span: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    let step = span.abs() / 10.0;
    if v == 0.0 || (step > 0.0 && v.abs() < step * 1e-8) || !v.is_finite() {
        return if v.is_finite() { "0".to_owned() } else { format!("{v}") };
    }
    // The decimal place of the step's leading digit: -3 for 0.00025, 5 for 440,000.
    let step_place = if step > 0.0 && step.is_finite() {
        step.log10().floor() as i32
    } else {
        v.abs().log10().floor() as i32 - 2
    };
    if !(1e-3..1e6).contains(&v.abs()) {
        // One digit past the step's, for steps of 2 or 5 tenths of a power of ten.
        let digits = (v.abs().log10().floor() as i32 - step_place + 1).clamp(0, 15) as usize;
        let s = format!("{v:.digits$e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{exponent}", trim(mantissa.to_owned()))
    } else {
        let decimals = (1 - step_place).clamp(0, 15) as usize;
        trim(format!("{v:.decimals$}"))
    }
}

/// Renders `fig` and writes it atomically to `path`.
pub(crate) fn write_svg(fig: &Figure, path: &Path) -> anyhow::Result<()> {
    let svg = render_svg(fig)?;
    crate::output::write_atomic(path, svg.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vertical segments drawn in the first line's colour: (x, y from, y to) in pixels.
    fn vertical_segments(svg: &str) -> Vec<(i32, i32, i32)> {
        let colour = format!(
            "stroke=\"#{:02X}{:02X}{:02X}\"",
            PALETTE[0].0, PALETTE[0].1, PALETTE[0].2
        );
        svg.split("<polyline")
            .filter(|e| e.contains(&colour))
            .filter_map(|e| {
                let points = e.split("points=\"").nth(1)?.split('"').next()?;
                let p: Vec<(i32, i32)> = points
                    .split_whitespace()
                    .filter_map(|xy| {
                        let (x, y) = xy.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect();
                match p[..] {
                    [(x0, y0), (x1, y1)] if x0 == x1 && y0 != y1 => Some((x0, y0, y1)),
                    _ => None,
                }
            })
            .collect()
    }

    fn one_point(ci: Option<(f64, f64)>) -> Figure {
        Figure {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![Series {
                label: "a".into(),
                points: vec![Point { x: 100.0, y: 40.0, ci }],
                measured: Vec::new(),
            }],
        }
    }

    /// A line of one point has no band to fill: its interval is drawn as an error bar (it was
    /// not drawn at all), and a point without one gets none.
    #[test]
    fn a_lone_points_interval_is_an_error_bar() {
        let with = render_svg(&one_point(Some((38.0, 44.0)))).unwrap();
        assert_eq!(vertical_segments(&with).len(), 1, "{with}");
        let without = render_svg(&one_point(None)).unwrap();
        assert!(vertical_segments(&without).is_empty(), "{without}");
    }

    /// `n` flat lines at 10, 11, ... s over x from 0 to 100, each with a narrow band.
    fn lines(n: usize) -> Figure {
        Figure {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: (0..n)
                .map(|i| Series {
                    label: format!("line {i}"),
                    points: [0.0, 100.0]
                        .map(|x| {
                            let y = 10.0 + i as f64;
                            Point {
                                x,
                                y,
                                ci: Some((y - 0.5, y + 0.5)),
                            }
                        })
                        .to_vec(),
                    measured: Vec::new(),
                })
                .collect(),
        }
    }

    /// The figure's width, and the largest y tick it labels, from its SVG.
    fn width_and_top_tick(svg: &str) -> (u32, f64) {
        let width = svg
            .split("width=\"")
            .nth(1)
            .and_then(|w| w.split('"').next())
            .and_then(|w| w.parse().ok())
            .expect("an svg width");
        // Tick labels are the texts that are numbers; the y axis's reach past the x axis's 100.
        let top = svg
            .split("<text")
            .filter_map(|t| t.split('>').nth(1)?.split('<').next()?.trim().parse::<f64>().ok())
            .fold(0.0, f64::max);
        (width, top)
    }

    /// Past nine lines the legend goes beside the figure, in columns, and the y axis stays the
    /// data's: a legend of 18 lines had raised the axis of data up to 28 s to 400 s, and one of
    /// 101 ran off the figure. Up to nine it stays in a corner, in a figure of the usual width.
    #[test]
    fn a_legend_of_many_lines_goes_beside_the_figure_and_leaves_the_axis_alone() {
        for (n, columns) in [(9, 0), (10, 1), (18, 1), (101, 4)] {
            let svg = render_svg(&lines(n)).unwrap();
            let (width, top) = width_and_top_tick(&svg);
            assert_eq!(width, WIDTH + columns * legend_column_width(&lines(n)), "{n} lines");
            let highest = 10.0 + (n - 1) as f64 + 0.5;
            // Beside: at most the 8 % headroom and a tick; inside: room for the legend as well.
            let most = if columns > 0 { highest * 1.2 } else { highest * 2.5 };
            assert!(
                top >= highest.min(100.0) && top <= most.max(100.0),
                "{n} lines: top tick {top}"
            );
            for i in 0..n {
                assert!(
                    svg.contains(&format!(">\nline {i}\n<")),
                    "{n} lines: no legend entry for line {i}"
                );
            }
        }
    }

    /// Lines 0 to 53 each have a style of their own (colour, marker, stroke): lines i and i + 18
    /// used to look alike.
    #[test]
    fn fifty_four_lines_are_told_apart() {
        let styles: std::collections::BTreeSet<String> = (0..54)
            .map(|i| {
                let (c, marker, stroke) = line_style(i);
                format!("{:?} {marker} {stroke:?}", (c.0, c.1, c.2))
            })
            .collect();
        assert_eq!(styles.len(), 54);
        assert_eq!(Stroke::Dashed { size: 8, gap: 5 }.dashes(24), [(0, 8), (13, 21)]);
    }

    /// Ticks show the digits that tell them apart, no more: the span sets them.
    #[test]
    fn ticks_are_short_and_distinct_at_every_scale() {
        let labels = |span: f64, vs: &[f64]| vs.iter().map(|&v| tick(v, span)).collect::<Vec<_>>();
        assert_eq!(labels(140.0, &[0.0, 20.0, 140.0]), ["0", "20", "140"]);
        assert_eq!(labels(10.0, &[2.5, 5.0]), ["2.5", "5"]);
        // Sub-second values 0.0012 to 0.0023 (0.0015 used to read 0.002).
        assert_eq!(labels(0.0025, &[0.0012, 0.0015, 0.002]), ["0.0012", "0.0015", "0.002"]);
        // Large values, and a narrow range of them (1e8 to 1.04e8 used to repeat 1e8, 1.02e8).
        assert_eq!(labels(4e8, &[3e8, 1.5e8]), ["3e8", "1.5e8"]);
        assert_eq!(labels(4.4e6, &[1e8, 1.005e8, 1.01e8]), ["1e8", "1.005e8", "1.01e8"]);
        assert_eq!(labels(1e301, &[1e300]), ["1e300"]);
        assert_eq!(labels(2e7, &[-1e7]), ["-1e7"]);
        assert_eq!(labels(3e-4, &[1.5e-4, 2.5e-4]), ["1.5e-4", "2.5e-4"]);
        // Rounding noise at zero (an effect's axis from -0.3 to 0.7) is 0.
        assert_eq!(labels(1.0, &[-5.55e-17, 0.1]), ["0", "0.1"]);
    }
}
