//! Terminal output helpers shared by the subcommands: error reporting and exit codes.

use std::path::Path;
use std::process::ExitCode;

/// A command-line value that parsed but makes no sense (e.g. `--remote 1.5`): reported like
/// clap's own usage errors, with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// Prints `err` with its chain of causes and picks the exit code: 2 for usage errors, 1 otherwise.
pub(crate) fn report_error(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if err.downcast_ref::<UsageError>().is_some() {
        eprintln!("\nFor more information, try '--help'.");
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

/// Writes `bytes` to `path` whole or not at all (a temporary file in the same directory, synced,
/// then renamed over the target), with the path in the error: the one atomic writer of the
/// project, `validate::dataset::write_atomic`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    validate::dataset::write_atomic(path, bytes)?;
    Ok(())
}

/// Checks, before a long command runs, that `path` can be written at its end: not a directory,
/// and in a directory that exists. `flag` names the option in the message; `example` is a file
/// name to suggest.
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
        return Err(UsageError(format!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}
