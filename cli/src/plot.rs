//! SVG figures with `plotters`: lines with confidence bands, optionally measured points.

use std::path::Path;

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
    let mut fig = fig.clone();
    fig.title = printable(&fig.title);
    fig.x_label = printable(&fig.x_label);
    fig.y_label = printable(&fig.y_label);
    for s in &mut fig.series {
        s.label = printable(&s.label);
    }
    let fig = &fig;
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
    let y1 = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let xpad = ((x1 - x0) * 0.05).max(1.0);
    let (xr, mut y_top) = ((x0 - xpad)..(x1 + xpad), (y1 * 1.08).max(1.0));
    // The legend goes into the corner of the plotting area with the least drawn there; when
    // every corner is taken, the y axis grows until the legend fits above the data.
    let (legend_w, legend_h) = legend_size(fig);
    let mut legend_at = SeriesLabelPosition::UpperLeft;
    if !fig.series.is_empty() {
        let samples = drawn_samples(fig);
        let corners = [(0, false, true), (1, true, true), (2, true, false), (3, false, false)];
        let hits = |right: bool, upper: bool, top: f64| {
            let (xw, yh) = ((xr.end - xr.start) * legend_w, top * legend_h);
            samples
                .iter()
                .filter(|&&(x, y)| {
                    let in_x = if right { x >= xr.end - xw } else { x <= xr.start + xw };
                    let in_y = if upper { y >= top - yh } else { y <= yh };
                    in_x && in_y
                })
                .count()
        };
        let best = corners
            .iter()
            .map(|&(pos, right, upper)| (hits(right, upper, y_top), pos))
            .min_by_key(|(n, _)| *n)
            .expect("four corners");
        if best.0 == 0 {
            legend_at = match best.1 {
                0 => SeriesLabelPosition::UpperLeft,
                1 => SeriesLabelPosition::UpperRight,
                2 => SeriesLabelPosition::LowerRight,
                _ => SeriesLabelPosition::LowerLeft,
            };
        } else {
            y_top = (y1 / (1.0 - legend_h - 0.03)).max(y_top);
        }
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&fig.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(xr, 0.0..y_top)?;
        chart
            .configure_mesh()
            .x_desc(&fig.x_label)
            .y_desc(&fig.y_label)
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 14))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(RGBColor(245, 245, 245))
            .max_light_lines(1)
            .draw()?;
        for (i, s) in fig.series.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            // Past the palette, lines are dashed and markers change shape.
            let cycle = (i / PALETTE.len()) % 3;
            let band: Vec<(f64, f64, f64)> = s
                .points
                .iter()
                .filter_map(|p| p.ci.map(|(lo, hi)| (p.x, lo, hi)))
                .collect();
            if band.len() >= 2 {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|&(x, _, hi)| (x, hi)).collect();
                poly.extend(band.iter().rev().map(|&(x, lo, _)| (x, lo)));
                chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled())))?;
            }
            let line: Vec<(f64, f64)> = s.points.iter().map(|p| (p.x, p.y)).collect();
            let dash = if cycle == 0 { 12 } else { 8 };
            let legend = move |(x, y): (i32, i32)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (dash, 0)], c.stroke_width(2))
                    + PathElement::new(vec![(24 - dash, 0), (24, 0)], c.stroke_width(2))
                    + Polygon::new(marker_shape(cycle, (12, 0)), c.filled())
            };
            let anno = if cycle == 0 {
                chart.draw_series(LineSeries::new(line.iter().copied(), c.stroke_width(2)))?
            } else {
                chart.draw_series(DashedLineSeries::new(line.iter().copied(), 8, 5, c.stroke_width(2)))?
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
        }
        chart
            .configure_series_labels()
            .position(legend_at)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
        root.present()?;
    }
    Ok(svg)
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
    let h = (fig.series.len() as f64 * 19.0 + 16.0) / 440.0;
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

/// A tick label: whole numbers without decimals, others with as few as show the value.
fn tick(v: f64) -> String {
    if v == v.round() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Renders `fig` and writes it atomically to `path`.
pub(crate) fn write_svg(fig: &Figure, path: &Path) -> anyhow::Result<()> {
    let svg = render_svg(fig)?;
    crate::output::write_atomic(path, svg.as_bytes())?;
    Ok(())
}
