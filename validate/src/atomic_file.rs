//! Writing output files whole or not at all: the one writer every kubetwin output goes through.
//!
//! A regular file is replaced atomically: the contents go to a temporary file in the same directory
//! (named `.<name>.tmp-<pid>-<nanos>-<n>`, see [`is_temporary_name`]), which is synced, given the
//! permissions of the file it replaces, renamed over it, and the directory synced. A reader sees the
//! old file or the new one, never a mix, and a process killed at any instant leaves at most a
//! temporary file beside an intact target.
//!
//! What is not a regular file is not replaced:
//! * a symbolic link is followed, and the file it points to is replaced (the link stays);
//! * a device, FIFO or socket (`--out /dev/null`, `--trace /dev/stdout`) is written through, as a
//!   shell redirection would; there is nothing to make atomic; so is a name of one of the
//!   process's open streams (`/dev/stdout`, `/dev/fd/1`), whatever it leads to
//!   ([`names_an_open_stream`]);
//! * a directory is an error.
//!
//! [`write_atomic_set`] writes several files as one output: every temporary file is written and
//! synced before the first rename, so a full disk or a read-only directory leaves all the old files
//! in place rather than some old and some new.
//!
//! A process interrupted while it writes removes its temporary files with [`remove_temporaries`],
//! which its signal handler calls before it ends: the module keeps the paths of the temporary
//! files it has created and not yet renamed or removed.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use crate::dataset::DatasetError;

/// Distinguishes the temporary files of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);
/// The temporary files this process has created and not yet renamed or removed. A file is
/// created and registered under the lock, and a set renamed under it, so
/// [`remove_temporaries`], whose guard holds the lock until the process ends, leaves none behind.
static LIVE_TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Output directories this process created for outputs not yet written
/// ([`created_output_dir`]): [`remove_temporaries`] removes those still empty.
static CREATED_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// What every temporary file name contains after its leading dot and target name.
const TEMP_MARKER: &str = ".tmp-";
/// Attempts at a fresh temporary name before giving up (a name is taken only if another process
/// with the same pid wrote the same file in the same nanosecond).
const TEMP_ATTEMPTS: u32 = 16;
/// Symbolic links followed before giving up, as Linux's `MAXSYMLINKS` (40).
const MAX_SYMLINKS: u32 = 40;

/// Whether `file_name` is the name of one of this module's temporary files (for clean-ups of files
/// a killed process left behind).
pub fn is_temporary_name(file_name: &str) -> bool {
    file_name.starts_with('.') && file_name.contains(TEMP_MARKER)
}

/// Holds the registry of temporary files, emptied: while it lives no temporary file is created,
/// renamed or removed (writers wait), so a process that ends holding it leaves none behind.
#[must_use = "dropping it lets writers create temporary files again"]
#[derive(Debug)]
pub struct TemporariesRemoved(#[allow(dead_code)] MutexGuard<'static, Vec<PathBuf>>);

/// Removes every temporary file this process has created and not yet renamed or removed, and
/// keeps any from being created until the returned guard is dropped. For a signal handler that
/// is about to end the process: whatever the other threads were writing, no partial file is
/// left behind, and an output set ([`write_atomic_set`]) is renamed whole or not at all.
pub fn remove_temporaries() -> TemporariesRemoved {
    let mut live = live_temporaries();
    for temp in live.drain(..) {
        let _ = fs::remove_file(temp);
    }
    let mut dirs = CREATED_DIRS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for dir in dirs.drain(..).rev() {
        // Fails harmlessly if anything is in it.
        let _ = fs::remove_dir(dir);
    }
    TemporariesRemoved(live)
}

/// Records that this process created the directory `dir` for outputs it has not written yet
/// (`written` false), so that an interrupt leaves no empty directory behind; or that they are
/// written (`written` true), so that it stays.
pub fn created_output_dir(dir: &Path, written: bool) {
    let mut dirs = CREATED_DIRS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    dirs.retain(|d| d != dir);
    if !written {
        dirs.push(dir.to_path_buf());
    }
}

/// [`remove_temporaries`], then exits with `code`, the registry still held.
pub fn remove_temporaries_and_exit(code: i32) -> ! {
    let _held = remove_temporaries();
    std::process::exit(code)
}

/// The registry of live temporary files; a panic elsewhere while it was held leaves it usable.
fn live_temporaries() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE_TEMPORARIES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes the temporary file `temp` and takes it off the registry, both under its lock.
fn discard(temp: &Path) {
    let mut live = live_temporaries();
    let _ = fs::remove_file(temp);
    live.retain(|p| p != temp);
}

/// Replaces `path` with `contents` whole or not at all (see the [module docs](self)).
///
/// # Errors
/// [`DatasetError::Io`] naming `path` when its directory is missing or not writable, the disk is
/// full, `path` is a directory or names no file; `path` is then left as it was.
pub fn write_atomic(path: impl AsRef<Path>, contents: &[u8]) -> Result<(), DatasetError> {
    write_atomic_set(&[(path.as_ref(), contents)])
}

/// Replaces every `(path, contents)` of `files` as one output: if any cannot be written, none is
/// replaced (see the [module docs](self)).
///
/// # Errors
/// As [`write_atomic`], for the first file that fails.
pub fn write_atomic_set(files: &[(&Path, &[u8])]) -> Result<(), DatasetError> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut write_through: Vec<(PathBuf, &[u8])> = Vec::new();
    let remove_staged = |staged: &[(PathBuf, PathBuf)]| {
        for (temp, _) in staged {
            discard(temp);
        }
    };
    for &(path, contents) in files {
        let staging = resolve(path).and_then(|target| match target {
            Target::Special(device) => {
                write_through.push((device, contents));
                Ok(None)
            }
            Target::Regular {
                path: file,
                permissions,
            } => stage(&file, contents, permissions).map(|temp| Some((temp, file))),
        });
        match staging {
            Ok(Some(pair)) => staged.push(pair),
            Ok(None) => {}
            Err(source) => {
                remove_staged(&staged);
                return Err(io_error(path, source));
            }
        }
    }
    // The renames under the registry's lock: a process ended by a signal meanwhile
    // ([`remove_temporaries`]) renames all of the set or none of it.
    let mut live = live_temporaries();
    for (i, (temp, file)) in staged.iter().enumerate() {
        if let Err(source) = fs::rename(temp, file) {
            for (temp, _) in &staged[i..] {
                let _ = fs::remove_file(temp);
            }
            live.retain(|p| !staged.iter().any(|(t, _)| t == p));
            return Err(io_error(file, source));
        }
    }
    live.retain(|p| !staged.iter().any(|(t, _)| t == p));
    drop(live);
    for (_, file) in &staged {
        sync_directory(file);
    }
    for (device, contents) in write_through {
        write_to_stream(&device, contents).map_err(|source| io_error(&device, source))?;
    }
    Ok(())
}

/// Writes `contents` to the device, FIFO or socket `device`, or to the process's own standard
/// output or error when it names one (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/2`...): through
/// the open stream, at its offset (after what the process printed, or at the end of a file the
/// shell opened for `>>`), not through a new open of the path at offset 0. Another open stream
/// (`/dev/fd/3`) is opened to append.
fn write_to_stream(device: &Path, contents: &[u8]) -> io::Result<()> {
    let stream = names_an_open_stream(device);
    let name = device.file_name().and_then(|n| n.to_str()).filter(|_| stream);
    match name {
        Some("stdout" | "1") => {
            let mut out = io::stdout().lock();
            out.write_all(contents)?;
            out.flush()
        }
        Some("stderr" | "2") => io::stderr().lock().write_all(contents),
        _ => OpenOptions::new()
            .append(stream)
            .write(true)
            .open(device)
            .and_then(|mut f| f.write_all(contents)),
    }
}

/// Checks, before a long computation, that `path` can be written when it ends: creates and removes
/// a temporary file beside its target (devices, FIFOs and sockets are not opened).
///
/// # Errors
/// As [`write_atomic`].
pub fn check_writable(path: impl AsRef<Path>) -> Result<(), DatasetError> {
    let path = path.as_ref();
    match resolve(path) {
        Ok(Target::Special(_)) => Ok(()),
        Ok(Target::Regular { path: file, .. }) => stage(&file, b"", None)
            .map(|temp| discard(&temp))
            .map_err(|source| io_error(path, source)),
        Err(source) => Err(io_error(path, source)),
    }
}

fn io_error(path: &Path, source: io::Error) -> DatasetError {
    DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a path names once symbolic links are followed.
enum Target {
    /// A regular file, existing (with its permissions) or not.
    Regular {
        path: PathBuf,
        permissions: Option<Permissions>,
    },
    /// A device, FIFO or socket: written through.
    Special(PathBuf),
}

/// Whether `path` names one of the process's open streams (`/dev/stdout`, `/dev/stderr`,
/// `/dev/fd/N`, `/proc/self/fd/N`, `/proc/thread-self/fd/N`, `/proc/<its pid>/fd/N`), which is
/// written through whatever it leads to: a pipe names no file to follow (`/proc/self/fd/1 ->
/// pipe:[N]`), and a file the shell opened for `>` must be written through the open stream, not
/// replaced under it.
pub fn names_an_open_stream(path: &Path) -> bool {
    let own = format!("/proc/{}/fd", std::process::id());
    ["/dev/stdout", "/dev/stderr"].iter().any(|s| path == Path::new(s))
        || ["/dev/fd", "/proc/self/fd", "/proc/thread-self/fd", own.as_str()]
            .iter()
            .any(|d| path.parent() == Some(Path::new(d)))
}

fn resolve(path: &Path) -> io::Result<Target> {
    if path.file_name().is_none() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"));
    }
    if names_an_open_stream(path) {
        return Ok(Target::Special(path.to_path_buf()));
    }
    let mut p = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        let meta = match fs::symlink_metadata(&p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Target::Regular {
                    path: p,
                    permissions: None,
                })
            }
            other => other?,
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let link = fs::read_link(&p)?;
            p = match p.parent() {
                Some(dir) if link.is_relative() => dir.join(link),
                _ => link,
            };
        } else if kind.is_file() {
            return Ok(Target::Regular {
                path: p,
                permissions: Some(meta.permissions()),
            });
        } else if kind.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory; give a file name",
            ));
        } else {
            return Ok(Target::Special(p));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("more than {MAX_SYMLINKS} symbolic links to follow"),
    ))
}

/// Writes `contents` to a fresh temporary file beside `file`, synced and with `permissions`;
/// returns its path. Removes it again on failure; never touches a file it did not create.
fn stage(file: &Path, contents: &[u8], permissions: Option<Permissions>) -> io::Result<PathBuf> {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let dir = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut attempt = 0;
    let (temp, mut handle) = loop {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let temp = dir.join(format!(
            ".{name}{TEMP_MARKER}{}-{nanos}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut live = live_temporaries();
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(handle) => {
                live.push(temp.clone());
                break (temp, handle);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt + 1 < TEMP_ATTEMPTS => attempt += 1,
            Err(e) => {
                // Say that the file beside the target failed, not the target: `/proc/version`
                // exists, but nothing can be created in /proc.
                let what = format!("cannot create a file in {} to write {name} whole: {e}", dir.display());
                return Err(io::Error::new(e.kind(), what));
            }
        }
    };
    let written = (|| {
        handle.write_all(contents)?;
        if let Some(permissions) = permissions {
            handle.set_permissions(permissions)?;
        }
        handle.sync_all()
    })();
    drop(handle);
    match written {
        Ok(()) => Ok(temp),
        Err(e) => {
            discard(&temp);
            Err(e)
        }
    }
}

/// Makes a rename in `file`'s directory durable; best effort (not every file system allows it).
fn sync_directory(file: &Path) {
    let dir = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that exists in a directory where nothing can be created: the error names the
    /// directory, not the file (it said "No such file or directory" of `/proc/version`).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_directory_that_takes_no_new_file_is_named() {
        let e = check_writable("/proc/version").unwrap_err().to_string();
        assert!(e.contains("cannot create a file in /proc"), "{e}");
    }

    /// The names of the process's own streams are written through; other paths under /dev and
    /// /proc, and files, are not (another process's descriptors are not this one's streams).
    #[test]
    fn the_process_s_own_streams_are_recognised() {
        let own = format!("/proc/{}/fd/1", std::process::id());
        for p in [
            "/dev/stdout",
            "/dev/stderr",
            "/dev/fd/1",
            "/dev/fd/3",
            "/proc/self/fd/1",
            "/proc/thread-self/fd/2",
            &own,
        ] {
            assert!(names_an_open_stream(Path::new(p)), "{p}");
        }
        let other = format!("/proc/{}/fd/1", std::process::id() + 1);
        for p in [
            "/dev/null",
            "/tmp/stdout",
            "/dev/fd",
            "/proc/self/fd",
            &other,
            "fig.svg",
        ] {
            assert!(!names_an_open_stream(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn the_writer_names_its_temporaries_as_clean_ups_recognise_them() {
        let dir = std::env::temp_dir().join(format!("kubetwin-atomic-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("results.csv");
        let first = stage(&file, b"a", None).unwrap();
        let second = stage(&file, b"b", None).unwrap();
        for temp in [&first, &second] {
            let name = temp.file_name().unwrap().to_string_lossy();
            assert!(is_temporary_name(&name), "{name}");
            assert!(name.starts_with(".results.csv.tmp-"), "{name}");
        }
        assert_ne!(first, second);
        fs::remove_dir_all(&dir).unwrap();
    }
}
