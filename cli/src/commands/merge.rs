//! `kubetwin merge`: joins the directories of a sharded sweep into what the unsharded sweep
//! writes (`sweep.json`, `points/`, `results.csv`, `results.json`), refusing directories of
//! different sweeps, missing points and points computed twice with different results.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::output::UsageError;
use crate::sweep::point::PointRecord;
use crate::sweep::store::{self, SweepDir, SweepFile};
use crate::sweep::{note_stray_files, rows_from_dir, write_results};

/// Arguments of `kubetwin merge`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  kubetwin merge /results/shard-* --out /results/merged")]
pub(crate) struct MergeArgs {
    /// Sweep directories (written by `kubetwin sweep --shard K/N --out DIR`).
    #[arg(required = true, num_args = 1..)]
    dirs: Vec<PathBuf>,
    /// The merged sweep directory.
    #[arg(long)]
    out: PathBuf,
    /// Also write startup.svg, as `sweep --plot` does.
    #[arg(long)]
    plot: bool,
}

/// Runs `kubetwin merge`.
pub(crate) fn cmd(a: MergeArgs) -> anyhow::Result<()> {
    crate::output::check_output_dir("--out", &a.out, "the merged sweep.json, points/ and results")?;
    let mut first: Option<(PathBuf, SweepFile)> = None;
    for d in &a.dirs {
        let dir = SweepDir::new(d);
        let file = dir.read_sweep()?.ok_or_else(|| {
            UsageError(format!(
                "{} is not a sweep directory: it has no sweep.json (written by `kubetwin sweep --out {}`)",
                d.display(),
                d.display()
            ))
        })?;
        match &first {
            None => first = Some((d.clone(), file)),
            Some((fd, ff)) if ff.spec_hash != file.spec_hash => {
                return Err(UsageError(format!(
                    "{} and {} are from different sweeps (spec {} vs {}); differences: {}",
                    fd.display(),
                    d.display(),
                    ff.spec_hash,
                    file.spec_hash,
                    ff.spec.differences(&file.spec).join("; ")
                ))
                .into())
            }
            Some(_) => {}
        }
    }
    let (_, file) = first.expect("clap requires a directory");
    let points = file.spec.points()?;
    let keys: BTreeMap<String, &crate::sweep::spec::Point> =
        points.iter().map(|p| (file.spec.point_key(p), p)).collect();

    let names: BTreeSet<String> = keys.keys().cloned().collect();
    let mut found: BTreeMap<String, (PointRecord, String, PathBuf)> = BTreeMap::new();
    for d in &a.dirs {
        let dir = SweepDir::new(d);
        // As `sweep` does, only the files named after a point of the sweep are read.
        let (files, stray) = dir.point_files_of(&names)?;
        note_stray_files(&dir, &stray);
        for path in files {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            // The file's name is a key of the sweep, and parse_point checks that its record is.
            let rec = store::parse_point(&path, &text, &file.spec_hash)?;
            let point = keys[&rec.key];
            rec.check_against(&file.spec, point).map_err(|why| {
                anyhow::anyhow!(
                    "{} does not hold point {}: {why}; delete it to have that point computed again",
                    path.display(),
                    file.spec.describe(point)
                )
            })?;
            match found.get(&rec.key) {
                Some((other, _, other_path)) if *other != rec => anyhow::bail!(
                    "point {} was computed twice with different results: {} and {} differ",
                    rec.key,
                    other_path.display(),
                    path.display()
                ),
                Some(_) => {}
                None => {
                    found.insert(rec.key.clone(), (rec, text, path));
                }
            }
        }
    }
    let missing: Vec<String> = points
        .iter()
        .filter(|p| !found.contains_key(&file.spec.point_key(p)))
        .map(|p| format!("  #{} {} ({})", p.index, file.spec.describe(p), file.spec.point_key(p)))
        .collect();
    if !missing.is_empty() {
        let shown = missing.iter().take(50).cloned().collect::<Vec<_>>().join("\n");
        let more = if missing.len() > 50 {
            format!("\n  ... and {} more", missing.len() - 50)
        } else {
            String::new()
        };
        anyhow::bail!(
            "{} of {} points are missing from {} (did every shard finish?):\n{shown}{more}",
            missing.len(),
            points.len(),
            a.dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }

    let out = SweepDir::new(&a.out);
    out.init(&file)?;
    let mut copied = 0;
    for (key, (rec, text, from)) in &found {
        match out.read_point(key, &file.spec_hash)? {
            Some(existing) if existing == *rec => {}
            Some(_) => anyhow::bail!(
                "point {key} in {} differs from {}",
                out.point_path(key).display(),
                from.display()
            ),
            None => {
                store::write_atomic(&out.point_path(key), text.as_bytes()).with_context(|| {
                    format!(
                        "merge stopped after copying {copied} point files into {}: every file it wrote is whole, \
                         and the same command, run again, copies the rest and writes the results",
                        a.out.display()
                    )
                })?;
                copied += 1;
            }
        }
    }
    let rows = rows_from_dir(&out, &file, &points)?;
    let written = write_results(&out, &file, None, &rows, a.plot)?;
    eprintln!(
        "merged {} points of sweep {} from {} directories ({copied} copied); wrote {}",
        points.len(),
        file.spec_hash,
        a.dirs.len(),
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
