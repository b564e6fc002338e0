//! Terminal output helpers shared by the subcommands: error reporting and exit codes.

use std::io::Write;
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

/// Writes `bytes` to `path` whole or not at all: a temporary file in the same directory, synced,
/// then renamed over the target.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
