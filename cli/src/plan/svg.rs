//! `startup.svg`: how many pods run over time (the scenario and each placement option), and per
//! site when its last pod ran with the parts of that pod's time as stacked bars.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::stats::{CurvePoint, SiteRow, SEGMENTS};
use crate::plot::{draw_band, draw_legend_box, Chart, EdgePoints};

/// Sites drawn at most (the slowest).
const MAX_SITES: usize = 40;

/// Okabe-Ito colours (colour-blind safe) and grey.
const PALETTE: [RGBColor; 9] = [
    RGBColor(153, 153, 153),
    RGBColor(0, 114, 178),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(230, 159, 0),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// Line colours of the start-up curves (the scenario first): the figures' shared palette.
const LINES: [RGBColor; 6] = crate::plot::PALETTE;

/// One start-up curve.
#[derive(Debug, Clone)]
pub(crate) struct Curve {
    /// Legend label.
    pub(crate) label: String,
    /// Points; the band (fastest to slowest replication) is drawn for the first curve only.
    pub(crate) points: Vec<CurvePoint>,
}

/// Renders the figure as SVG text.
pub(crate) fn render(title: &str, pods: u32, curves: &[Curve], sites: &[SiteRow]) -> anyhow::Result<String> {
    // Names come from the scenario: keep them to characters XML allows.
    let title = &crate::plot::printable(title);
    let sites: Vec<&SiteRow> = sites.iter().filter(|r| r.last.is_some()).take(MAX_SITES).collect();
    let width = 1000u32;
    let top_h = 470u32;
    // Room for the sites' rows, and at least for the key of the nine parts (about 175 pixels
    // inside the plotting area, which the caption, margins and axis leave 100 pixels short of).
    let bottom_h = (110 + 20 * sites.len() as u32).max(300);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, top_h + bottom_h)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, bottom) = root.split_vertically(top_h);
        draw_curves(&top, title, pods, curves)?;
        draw_site_bars(&bottom, &sites)?;
        root.present()?;
    }
    Ok(svg)
}

/// The upper panel: pods running over time, one line per curve, with the first curve's band.
fn draw_curves(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    pods: u32,
    curves: &[Curve],
) -> anyhow::Result<()> {
    let x_max = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.hi))
        .filter(|x| x.is_finite())
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(
            0.0..x_max * 1.05,
            0.0..f64::from(pods) * 1.05 / (1.0 - legend_room(curves.len())),
        )?;
    chart
        .configure_mesh()
        .x_desc("time since `kubectl create deployment` (s)")
        .y_desc("pods seen Running by kubectl")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    // The scenario as given last, so its line is on top where options coincide.
    let order = (1..curves.len())
        .chain(std::iter::once(0))
        .filter(|&i| i < curves.len());
    for i in order {
        draw_curve(&mut chart, i, &curves[i])?;
    }
    // Above the curves: the y axis reaches past the pod count by the legend's height, so a
    // wide legend (long placement labels) covers no curve, whichever way they run.
    draw_legend_box(&mut chart, SeriesLabelPosition::UpperLeft, 13)
}

/// The legend's share of the upper panel's height, for `entries` lines: about 18 pixels a line
/// and 20 of border and margin, against a plotting area of about 360 pixels (at most 0.8). The y
/// axis's top is the pods' top over one minus it, so the legend fits above the curves.
fn legend_room(entries: usize) -> f64 {
    ((entries as f64 * 18.0 + 24.0) / 360.0).min(0.8)
}

/// Draws curve `i` (its colour is the `i`th) with its legend entry; the first curve also gets its
/// band, fastest to slowest replication.
fn draw_curve<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, i: usize, c: &Curve) -> anyhow::Result<()> {
    let col = LINES[i % LINES.len()];
    if i == 0 {
        let band: Vec<EdgePoints> = c
            .points
            .iter()
            .map(|p| ((p.lo, f64::from(p.k)), (p.hi, f64::from(p.k))))
            .collect();
        draw_band(chart, &band, col)?;
    }
    chart
        .draw_series(LineSeries::new(
            c.points.iter().map(|p| (p.mean, f64::from(p.k))),
            col.stroke_width(2),
        ))?
        .label(crate::plot::printable(&c.label))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
    Ok(())
}

/// The lower panel: per site, when its last pod ran, as a bar stacked from the parts of that pod's
/// time ([`SEGMENTS`]), labelled with the site and the time, and a legend of the parts.
fn draw_site_bars(area: &DrawingArea<SVGBackend<'_>, Shift>, sites: &[&SiteRow]) -> anyhow::Result<()> {
    let bar_max = sites
        .iter()
        .map(|r| r.last_segments.iter().map(|v| v.max(0.0)).sum::<f64>())
        .filter(|x| x.is_finite())
        .fold(1.0, f64::max);
    let n = sites.len().max(1) as f64;
    let mut bars = ChartBuilder::on(area)
        .caption(
            "per site: when its last pod ran (mean over replications), and where that pod's time went",
            ("sans-serif", 16),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(8)
        .build_cartesian_2d(0.0..bar_max * 1.7, 0.0..n)?;
    bars.configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("seconds")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .axis_desc_style(("sans-serif", 14))
        .label_style(("sans-serif", 12))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    for (i, r) in sites.iter().enumerate() {
        // Row i from the top, 0.76 rows high.
        let y1 = n - i as f64 - 0.12;
        let y0 = n - i as f64 - 0.88;
        draw_site_bar(&mut bars, r, (y0, y1), bar_max)?;
    }
    for (k, (name, _)) in SEGMENTS.iter().enumerate() {
        let col = PALETTE[k];
        bars.draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], col.filled()));
    }
    draw_legend_box(&mut bars, SeriesLabelPosition::LowerRight, 12)
}

/// Draws one site's stacked bar between `y0` and `y1`, and after it the site's name and the mean
/// time its last pod ran; `bar_max` is the longest bar (the label keeps 1 % of it from the bar).
fn draw_site_bar<'a, 'b: 'a>(
    bars: &mut Chart<'a, 'b>,
    r: &SiteRow,
    (y0, y1): (f64, f64),
    bar_max: f64,
) -> anyhow::Result<()> {
    let mut x = 0.0;
    for (k, &v) in r.last_segments.iter().enumerate() {
        let v = v.max(0.0);
        bars.draw_series(std::iter::once(Rectangle::new(
            [(x, y0), (x + v, y1)],
            PALETTE[k].filled(),
        )))?;
        x += v;
    }
    let mean = r.last.map_or(f64::NAN, |m| m.mean);
    let style = TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    // A site some of whose pods never ran in a replication: its time is over the others only.
    let unfinished = match r.unfinished {
        0 => String::new(),
        n => format!(" (a pod never ran in {n} rep{})", if n == 1 { "" } else { "s" }),
    };
    bars.draw_series(std::iter::once(Text::new(
        format!("{} {:.1} s{unfinished}", crate::plot::printable(&r.site), mean),
        (x + bar_max * 0.01, (y0 + y1) / 2.0),
        style,
    )))?;
    Ok(())
}
