//! Terminal output helpers shared by the subcommands: error reporting and exit codes.

use std::path::Path;
use std::process::ExitCode;

/// A command-line value that parsed but makes no sense (e.g. `--remote 1.5`): reported like
/// clap's own usage errors, with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// An input the command was given that it cannot use: a file a flag or argument names that is
/// missing or unreadable, or whose contents are malformed (a scenario, a data CSV, a sweep's
/// results). Exit code 2, as for a usage error, but without clap's pointer to `--help`: the
/// message says what in the file is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct InputError(pub(crate) String);

/// `err`, with its causes, as an [`InputError`].
pub(crate) fn input_error(err: impl Into<anyhow::Error>) -> anyhow::Error {
    InputError(error_text(&err.into())).into()
}

/// `n` and `noun`, plural unless `n` is 1: `1 site`, `3 sites` ([`topologies::count`]).
pub(crate) fn count(n: usize, noun: &str) -> String {
    topologies::count(n as u64, noun)
}

/// Prints `err` with its chain of causes and picks the exit code: 2 for usage errors and
/// unusable inputs, 1 otherwise (the command ran and failed). A cause whose text was already
/// printed (an error that quotes its source) is not repeated.
pub(crate) fn report_error(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", error_text(err));
    if err.downcast_ref::<UsageError>().is_some() {
        eprintln!("\nFor more information, try '--help'.");
        ExitCode::from(2)
    } else if err.downcast_ref::<InputError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

/// `err` and the causes that add something to it, one per line.
fn error_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str("\n  caused by: ");
            text.push_str(&cause);
        }
    }
    text
}

/// Writes `bytes` to `path` whole or not at all, with the path in the error: the one atomic
/// writer of the project, [`validate::atomic_file`].
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    validate::atomic_file::write_atomic(path, bytes)?;
    Ok(())
}

/// Writes several files as one output: all are replaced, or (on any failure) none is
/// ([`validate::atomic_file::write_atomic_set`]).
pub(crate) fn write_atomic_set(files: &[(&Path, &[u8])]) -> anyhow::Result<()> {
    validate::atomic_file::write_atomic_set(files)?;
    Ok(())
}

/// Refuses an output that is one of the command's inputs (after following links), so that a slip
/// such as `plot results.json --out results.json` cannot destroy the data the command reads.
/// `inputs` are (flag, path) pairs; an input that does not exist is skipped (it cannot be read
/// either, and the command says so).
pub(crate) fn check_not_an_input(out_flag: &str, out: &Path, inputs: &[(&str, &Path)]) -> Result<(), UsageError> {
    let Ok(target) = std::fs::canonicalize(out) else {
        return Ok(());
    };
    for (flag, input) in inputs {
        if std::fs::canonicalize(input).is_ok_and(|i| i == target) {
            return Err(UsageError(format!(
                "{out_flag} {} is the file {flag} reads; writing it would destroy that input: give another file",
                out.display()
            )));
        }
    }
    Ok(())
}

/// [`check_not_an_input`] for the files `names` that a command writes into the directory `dir`
/// (given with `dir_flag`): none of them may be one of its `inputs`.
pub(crate) fn check_dir_outputs_not_inputs(
    dir_flag: &str,
    dir: &Path,
    names: &[&str],
    inputs: &[(&str, &Path)],
) -> Result<(), UsageError> {
    names
        .iter()
        .try_for_each(|name| check_not_an_input(dir_flag, &dir.join(name), inputs))
}

/// [`check_output_file`] for a figure, which is SVG text whatever its name: a file `path` must
/// end in `.svg` (a `fig.png` would not open as a PNG); a device, a pipe or an open stream
/// (`/dev/stdout`, `>(…)`) has no name to check. `example` is a file name to suggest.
pub(crate) fn check_figure_file(flag: &str, path: &Path, example: &str) -> Result<(), UsageError> {
    check_output_file(flag, path, example)?;
    let special = path.metadata().is_ok_and(|m| !m.is_file()) || validate::atomic_file::names_an_open_stream(path);
    if !special && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg")) {
        return Err(UsageError(format!(
            "{flag} {}: the figure is written as SVG, so its name must end in .svg (such as {example})",
            path.display()
        )));
    }
    Ok(())
}

/// Checks, before a long command runs, that `path` can be written at its end: not a directory,
/// in a directory that exists, and writable now. `flag` names the option in the message; `example`
/// is a file name to suggest.
pub(crate) fn check_output_file(flag: &str, path: &Path, example: &str) -> Result<(), UsageError> {
    if path.is_dir() {
        return Err(UsageError(format!(
            "{flag} {} is a directory; give a file name such as {}",
            path.display(),
            path.join(example).display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        // A file where the path needs a directory, or nothing there at all.
        let file = dir.ancestors().find(|p| !p.as_os_str().is_empty() && p.is_file());
        return Err(UsageError(match file {
            Some(file) => format!(
                "{flag} {}: {} is a file, not a directory",
                path.display(),
                file.display()
            ),
            None => format!(
                "{flag} {}: the directory {} does not exist",
                path.display(),
                dir.display()
            ),
        }));
    }
    validate::atomic_file::check_writable(path).map_err(|e| UsageError(format!("{flag} {e}")))
}

/// What the existing `path`, not a directory, is, for a message: `a file`, or on Unix a device,
/// a named pipe or a socket (`sweep --out /dev/null` called the device a file).
fn what_is(path: &Path) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if let Ok(t) = std::fs::metadata(path).map(|m| m.file_type()) {
            if t.is_char_device() {
                return "a character device";
            } else if t.is_block_device() {
                return "a block device";
            } else if t.is_fifo() {
                return "a named pipe";
            } else if t.is_socket() {
                return "a socket";
            }
        }
    }
    let _ = path;
    "a file"
}

/// Checks, before any work, that `dir` can be the output directory given by `flag`: a directory,
/// or a path that can be created as one (the nearest part of it that exists is a directory).
/// `contents` says what goes in it, for the message.
pub(crate) fn check_output_dir(flag: &str, dir: &Path, contents: &str) -> Result<(), UsageError> {
    if dir.is_dir() {
        return Ok(());
    }
    if dir.exists() {
        return Err(UsageError(format!(
            "{flag} {} is {}, not a directory; give a directory for {contents}",
            dir.display(),
            what_is(dir)
        )));
    }
    if let Some(file) = dir
        .ancestors()
        .skip(1)
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .filter(|p| !p.is_dir())
    {
        return Err(UsageError(format!(
            "{flag} {}: {} is a file, not a directory; give a directory for {contents}",
            dir.display(),
            file.display()
        )));
    }
    Ok(())
}

/// A reported 95 % interval of a start-up time (the CI of a mean, or the PI of a future mean),
/// `(lo, hi)`, with its lower bound clamped at 0 s. A start-up cannot be negative, but the
/// symmetric Student-t interval over few, spread replications can reach below 0 (`[-5.27, 58.27]`
/// with 2 replications). The statistic itself ([`sim_core::stats::OnlineStats`]) stays symmetric;
/// only what is shown is clamped, and every reporting site of start-up intervals (`run`, `sweep`,
/// `validate`, `plan`) goes through here. Not for differences (`plan`'s paired Δ), which may be
/// negative.
pub(crate) fn startup_interval((lo, hi): (f64, f64)) -> (f64, f64) {
    (lo.max(0.0), hi)
}

/// `text` as one CSV field (RFC 4180): quoted, with its quotes doubled, when it holds a comma,
/// a quote or a line break; as is otherwise.
pub(crate) fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `a` as one shell word: as it is when it needs no quotes, else in single quotes.
pub(crate) fn shell_quote(a: &str) -> String {
    let plain = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        a.to_owned()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

/// `; ` and [`topologies::check::late_scale`]'s words when kubectl's scale comes late in the
/// timeout, for the message of a command in which nothing finished; empty otherwise.
pub(crate) fn late_scale_hint(scenario: &models::spec::Scenario) -> String {
    topologies::check::late_scale(scenario).map_or_else(String::new, |h| format!("; {h}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Quoting {
        path: String,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_quoted_is_not_repeated() {
        let quoting = Quoting {
            path: "out.csv".into(),
            source: std::io::Error::other("disk full"),
        };
        let err = anyhow::Error::new(quoting).context("cannot write the plan");
        assert_eq!(
            error_text(&err),
            "cannot write the plan\n  caused by: out.csv: disk full"
        );
        let plain = anyhow::Error::new(std::io::Error::other("disk full")).context("cannot write x");
        assert_eq!(error_text(&plain), "cannot write x\n  caused by: disk full");
    }

    /// A start-up interval never shows a negative lower bound; the upper bound is kept.
    #[test]
    fn a_start_up_interval_is_clamped_at_0() {
        assert_eq!(startup_interval((-5.27, 58.27)), (0.0, 58.27));
        assert_eq!(startup_interval((21.8, 28.4)), (21.8, 28.4));
        assert_eq!(startup_interval((0.0, 1.0)), (0.0, 1.0));
    }

    #[test]
    fn csv_fields_read_back_whole() {
        let names = ["plain", "a,b\"c", "two\nlines", ""];
        let line: Vec<String> = names.iter().map(|n| csv_field(n).into_owned()).collect();
        let text = format!("{}\n", line.join(","));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(record.iter().collect::<Vec<_>>(), names);
        assert_eq!(csv_field("plain"), "plain");
    }
}
