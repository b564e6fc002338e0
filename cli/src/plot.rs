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

const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// Renders `fig` as SVG text.
pub(crate) fn render_svg(fig: &Figure) -> anyhow::Result<String> {
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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&fig.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d((x0 - xpad)..(x1 + xpad), 0.0..(y1 * 1.08).max(1.0))?;
        chart
            .configure_mesh()
            .x_desc(&fig.x_label)
            .y_desc(&fig.y_label)
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 14))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (i, s) in fig.series.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
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
            chart
                .draw_series(LineSeries::new(s.points.iter().map(|p| (p.x, p.y)), c.stroke_width(2)))?
                .label(&s.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
            chart.draw_series(s.points.iter().map(|p| Circle::new((p.x, p.y), 3, c.filled())))?;
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
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// Renders `fig` and writes it atomically to `path`.
pub(crate) fn write_svg(fig: &Figure, path: &Path) -> anyhow::Result<()> {
    let svg = render_svg(fig)?;
    crate::output::write_atomic(path, svg.as_bytes())?;
    Ok(())
}
