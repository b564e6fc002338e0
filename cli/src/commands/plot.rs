//! `kubetwin plot`: an SVG figure of a sweep's results: one column against another, one line per
//! value of a third, with 95 % confidence bands where the results have them.

use std::path::PathBuf;

use clap::Args;

use crate::output::UsageError;
use crate::sweep::figure::{self, PlotRequest};
use crate::sweep::results::Table;

/// Arguments of `kubetwin plot`.
#[derive(Debug, Args)]
#[command(after_help = "\
Columns are those of results.csv; aliases: delay (delay_ms), startup (startup_mean_s, drawn with its
95 % CI band), exact, effect (delay_effect_mean_s, the paired effect of the delay over the
sweep's smallest, with its band), p50, p90, p95, min, max, and a --set or --fault axis's last
part. An axis's paired effect, <path>_effect_mean_s (alias <last part>_effect), is drawn with
its band too.

Examples:
  kubetwin plot delay-sweep/results.json --x delay --y startup --series pods --out fig.svg
  kubetwin plot rtt-sweep/results.csv --x registry_rtt --y p95 --series pods --where delay=500 --out rtt.svg")]
pub(crate) struct PlotArgs {
    /// results.json or results.csv of a sweep (or a shard's file).
    results: PathBuf,
    /// Column on the x axis.
    #[arg(long, default_value = "delay")]
    x: String,
    /// Column on the y axis.
    #[arg(long, default_value = "startup")]
    y: String,
    /// Column(s) whose values make one line each, comma-separated (default: one line).
    #[arg(long, value_delimiter = ',')]
    series: Vec<String>,
    /// Keep only rows where COLUMN has VALUE (repeatable), e.g. --where pods=100.
    #[arg(long = "where", value_name = "COLUMN=VALUE", value_parser = parse_filter)]
    filters: Vec<(String, String)>,
    /// Figure title (default: the scenario and the replications).
    #[arg(long)]
    title: Option<String>,
    /// The SVG file to write.
    #[arg(long)]
    out: PathBuf,
}

fn parse_filter(s: &str) -> Result<(String, String), String> {
    let (c, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not COLUMN=VALUE, e.g. pods=100"))?;
    Ok((c.trim().to_owned(), v.trim().to_owned()))
}

/// Runs `kubetwin plot`.
pub(crate) fn cmd(a: PlotArgs) -> anyhow::Result<()> {
    crate::output::check_not_an_input("--out", &a.out, &[("the plot", &a.results)])?;
    crate::output::check_figure_file("--out", &a.out, "fig.svg")?;
    let table = Table::read(&a.results).map_err(crate::output::input_error)?;
    let req = PlotRequest {
        x: a.x,
        y: a.y,
        series: a.series,
        filters: a.filters,
        title: a.title,
    };
    let (fig, left_out) = figure::figure(&table, &req).map_err(UsageError)?;
    if let Some(note) = figure::left_out_note(left_out, &req.y) {
        eprintln!("{note}");
    }
    crate::plot::write_svg(&fig, &a.out)?;
    eprintln!("wrote {}", a.out.display());
    Ok(())
}
