//! `kubetwin merge`: joins the directories of a sharded sweep into what the unsharded sweep
//! writes (`sweep.json`, `scenario.toml`, `points/`, `results.csv`, `results.json`), refusing directories of
//! different sweeps, missing points and points computed twice with different results.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::output::UsageError;
use crate::sweep::point::PointRecord;
use crate::sweep::spec::Point;
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
    check_out_not_inside_an_input(&a.out, &a.dirs)?;
    let file = common_sweep(&a.dirs)?;
    let points = file.spec.points()?;
    let found = gather_points(&a.dirs, &file, &points)?;
    ensure_none_missing(&a.dirs, &file, &points, &found)?;
    let out = SweepDir::new(&a.out);
    out.init(&file)?;
    let copied = copy_points(&out, &file, &found)?;
    // The scenario record of the first input that has one (every shard writes the same).
    if let Some(text) = a
        .dirs
        .iter()
        .find_map(|d| std::fs::read_to_string(SweepDir::new(d).scenario_path()).ok())
    {
        out.write_scenario(&text)?;
    }
    let rows = rows_from_dir(&out, &file, &points)?;
    let written = write_results(&out, &file, None, &rows, a.plot)?;
    eprintln!(
        "merged {} of sweep {} from {} ({copied} copied); wrote {}",
        crate::output::count(points.len(), "point"),
        file.spec_hash,
        if a.dirs.len() == 1 {
            "1 directory".to_owned()
        } else {
            format!("{} directories", a.dirs.len())
        },
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// Refuses an `--out` inside one of the input directories (`shard-1/points`): the merged
/// sweep.json and results would land among that sweep's own files. `--out` naming an input
/// itself merges into it, which is allowed.
fn check_out_not_inside_an_input(out: &Path, dirs: &[PathBuf]) -> Result<(), UsageError> {
    // `out` need not exist: its nearest existing ancestor, resolved, with the rest appended.
    let mut existing = out;
    let mut rest = Vec::new();
    while !existing.exists() {
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
            return Ok(());
        };
        rest.push(name);
        existing = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
    }
    let Ok(mut resolved) = std::fs::canonicalize(existing) else {
        return Ok(());
    };
    resolved.extend(rest.iter().rev());
    for d in dirs {
        let Ok(input) = std::fs::canonicalize(d) else {
            continue;
        };
        if resolved != input && resolved.starts_with(&input) {
            return Err(UsageError(format!(
                "--out {} is inside the input sweep directory {}: the merged sweep.json and results would land among its files; give a directory outside it",
                out.display(),
                d.display()
            )));
        }
    }
    Ok(())
}

/// The sweep of `dirs` (the first one's `sweep.json`), refusing a directory without one and
/// directories of different sweeps.
fn common_sweep(dirs: &[PathBuf]) -> anyhow::Result<SweepFile> {
    let mut first: Option<(PathBuf, SweepFile)> = None;
    for d in dirs {
        if d.exists() && !d.is_dir() {
            return Err(crate::output::InputError(format!(
                "{} is not a directory: merge takes the sweep directories of the shards (a shell pattern such as \
                 shard-* may also have matched files)",
                d.display()
            ))
            .into());
        }
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
    Ok(file)
}

/// A point file found in one of the directories merged.
struct FoundPoint {
    /// Its record.
    rec: PointRecord,
    /// Its text, copied as it is.
    text: String,
    /// The file.
    from: PathBuf,
}

/// The point files of `dirs` that hold a point of `points`, by key, each checked against its
/// point; a point found in several directories must have the same record in each (the first
/// is kept).
fn gather_points(dirs: &[PathBuf], file: &SweepFile, points: &[Point]) -> anyhow::Result<BTreeMap<String, FoundPoint>> {
    let keys: BTreeMap<String, &Point> = points.iter().map(|p| (file.spec.point_key(p), p)).collect();

    let names: BTreeSet<String> = keys.keys().cloned().collect();
    let mut found: BTreeMap<String, FoundPoint> = BTreeMap::new();
    for d in dirs {
        let dir = SweepDir::new(d);
        // As `sweep` does, only the files named after a point of the sweep are read.
        let (files, stray) = dir.point_files_of(&names)?;
        note_stray_files(&dir, &stray);
        for path in files {
            let text = topologies::file::read_capped_to_string(&path, topologies::file::RESULTS)
                .with_context(|| format!("cannot read {}", path.display()))
                .map_err(crate::output::input_error)?;
            // The file's name is a key of the sweep, and parse_point checks that its record is.
            let rec = store::parse_point(&path, &text, file).map_err(crate::output::input_error)?;
            let point = keys[&rec.key];
            rec.check_file(&path, &file.spec, point)?;
            match found.get(&rec.key) {
                // Inputs merge cannot use: exit code 2, as for shards of another sweep.
                Some(other) if other.rec != rec => {
                    return Err(crate::output::InputError(format!(
                        "point {} was computed twice with different results: {} and {} differ",
                        rec.key,
                        other.from.display(),
                        path.display()
                    ))
                    .into())
                }
                Some(_) => {}
                None => {
                    found.insert(rec.key.clone(), FoundPoint { rec, text, from: path });
                }
            }
        }
    }
    Ok(found)
}

/// Fails, listing them (the first 50), when some of `points` were `found` in none of `dirs`.
fn ensure_none_missing(
    dirs: &[PathBuf],
    file: &SweepFile,
    points: &[Point],
    found: &BTreeMap<String, FoundPoint>,
) -> anyhow::Result<()> {
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
        // Inputs merge cannot use: exit code 2, as for shards of another sweep.
        return Err(crate::output::InputError(format!(
            "{} of {} points are missing from {} (did every shard finish?):\n{shown}{more}",
            missing.len(),
            points.len(),
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ))
        .into());
    }
    Ok(())
}

/// Copies the `found` point files that `out` does not hold yet, refusing one it holds with
/// another record; returns how many it copied.
fn copy_points(out: &SweepDir, file: &SweepFile, found: &BTreeMap<String, FoundPoint>) -> anyhow::Result<usize> {
    let mut copied = 0;
    for (key, FoundPoint { rec, text, from }) in found {
        match out.read_point(key, file)? {
            Some(existing) if existing == *rec => {}
            Some(_) => anyhow::bail!(
                "point {key} in {} differs from {}",
                out.point_path(key).display(),
                from.display()
            ),
            None => {
                if copied == 0 {
                    out.check_points_writable(key)?;
                }
                store::write_atomic(&out.point_path(key), text.as_bytes()).with_context(|| {
                    format!(
                        "merge stopped after copying {copied} point files into {}: every file it wrote is whole, \
                         and the same command, run again, copies the rest and writes the results",
                        out.root().display()
                    )
                })?;
                copied += 1;
            }
        }
    }
    Ok(copied)
}
