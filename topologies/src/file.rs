//! Reading an input file whole, with a cap on its size: a device such as `/dev/zero`, a pipe
//! that never ends or a wrong file of gigabytes is refused with a message rather than read
//! until the operating system kills the process.
//!
//! The caps are generous: each is far above the largest file of its kind the project writes or
//! reads, so that only a wrong file reaches it.

use std::io::{self, Read};
use std::path::Path;

/// A cap on the size of one kind of input file, and what such a file usually weighs (for the
/// error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeCap {
    /// The most bytes read.
    pub bytes: u64,
    /// What a file of this kind usually weighs, as the error says it: `a scenario is a few KiB`.
    pub typical: &'static str,
}

const MIB: u64 = 1 << 20;

/// A scenario file: 256 MiB. The largest generated scenario, 1,000 sites with every pair of
/// routers linked (`generate::MAX_SITES`), is a 53 MB file.
pub const SCENARIO: SizeCap = SizeCap {
    bytes: 256 * MIB,
    typical: "a scenario is a few KiB (a generated 1,000-site one about 53 MB)",
};

/// A parameter file (`--params`), an overlay of a scenario: as a scenario.
pub const PARAMS: SizeCap = SizeCap {
    bytes: SCENARIO.bytes,
    typical: "a parameter file is a few hundred bytes",
};

/// A sites CSV (`generate consortium --sites`): 64 MiB. It has at most 1,000 rows
/// (`generate::MAX_SITES`) of a name, two coordinates and a count, a few hundred KiB even with
/// long names.
pub const SITES_CSV: SizeCap = SizeCap {
    bytes: 64 * MIB,
    typical: "a sites CSV has one short line per site, at most 1,000",
};

/// A measurement CSV (`validate --data`, `calibrate --data`): 1 GiB. The thesis's per-pod data
/// is a few hundred KiB; a campaign a thousand times larger still fits.
pub const DATA_CSV: SizeCap = SizeCap {
    bytes: 1024 * MIB,
    typical: "a measurement CSV is a few MiB",
};

/// A sweep's results (`results.csv`, `results.json`, `sweep.json`, a point file): 1 GiB. A
/// point is about a KiB, so a million-point sweep fits.
pub const RESULTS: SizeCap = SizeCap {
    bytes: 1024 * MIB,
    typical: "a sweep's results are about a KiB per point",
};

/// The error of a file larger than `cap`: its text reads after `cannot read FILE: ` or `FILE: `.
#[derive(Debug, thiserror::Error)]
#[error("the file is larger than {}; {}", mib(.0.bytes), .0.typical)]
pub struct TooLarge(pub SizeCap);

/// `bytes` as GiB or MiB, whichever is whole (bytes below a MiB).
fn mib(bytes: u64) -> String {
    if bytes < MIB {
        format!("{bytes} bytes")
    } else if bytes.is_multiple_of(1024 * MIB) {
        format!("{} GiB", bytes / (1024 * MIB))
    } else {
        format!("{} MiB", bytes / MIB)
    }
}

/// Reads what `reader` gives, up to `cap`: an [`io::ErrorKind::InvalidData`] error holding
/// [`TooLarge`] if it gives more.
///
/// # Errors
///
/// The reader's, or [`TooLarge`].
pub fn read_capped_from(reader: impl Read, cap: SizeCap) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(cap.bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap.bytes {
        return Err(io::Error::new(io::ErrorKind::InvalidData, TooLarge(cap)));
    }
    Ok(bytes)
}

/// The file at `path`, opened for reading, unless it is a regular file larger than `cap` (a
/// device or a pipe has no size to check: read it with [`read_capped_from`]).
///
/// # Errors
///
/// The operating system's, or [`TooLarge`] (as [`read_capped_from`]).
pub fn open_capped(path: &Path, cap: SizeCap) -> io::Result<std::fs::File> {
    let file = std::fs::File::open(path)?;
    if file.metadata().is_ok_and(|m| m.is_file() && m.len() > cap.bytes) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, TooLarge(cap)));
    }
    Ok(file)
}

/// The file at `path`, whole, if it is at most `cap` ([`open_capped`], then
/// [`read_capped_from`]).
///
/// # Errors
///
/// As [`open_capped`] and [`read_capped_from`].
pub fn read_capped(path: &Path, cap: SizeCap) -> io::Result<Vec<u8>> {
    read_capped_from(open_capped(path, cap)?, cap)
}

/// [`read_capped`] as UTF-8 text.
///
/// # Errors
///
/// As [`read_capped`], and [`io::ErrorKind::InvalidData`] for text that is not UTF-8, naming
/// the line and column of the first byte that is not ([`NotUtf8`]).
pub fn read_capped_to_string(path: &Path, cap: SizeCap) -> io::Result<String> {
    String::from_utf8(read_capped(path, cap)?).map_err(|e| {
        let bytes = e.as_bytes();
        let good = &bytes[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Characters, not bytes, before the bad byte on its line (the prefix is valid UTF-8).
        let column = std::str::from_utf8(&good[line_start..]).map_or(1, |t| t.chars().count() + 1);
        io::Error::new(io::ErrorKind::InvalidData, NotUtf8 { line, column })
    })
}

/// Text that is not UTF-8: where its first bad byte is ([`read_capped_to_string`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8 {
    /// Its line, from 1.
    pub line: usize,
    /// Its column on that line, in characters, from 1.
    pub column: usize,
}

impl std::fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: a byte that is not UTF-8; expected UTF-8 text",
            self.line, self.column
        )
    }
}

impl std::error::Error for NotUtf8 {}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: SizeCap = SizeCap {
        bytes: 4,
        typical: "a test file is 4 bytes",
    };

    /// Text that is not UTF-8 is refused at the line and column of its first bad byte (the
    /// sites CSV's error named a byte offset only: found by a robustness audit).
    #[test]
    fn text_that_is_not_utf8_is_refused_at_its_line_and_column() {
        let dir = std::env::temp_dir().join(format!("kubetwin-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sites.csv");
        std::fs::write(&path, b"name,latitude\n\xc3\xa9t\xff,35.6\n").unwrap();
        let big = SizeCap {
            bytes: 1000,
            typical: "a test file is small",
        };
        let e = read_capped_to_string(&path, big).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            e.to_string(),
            "line 2, column 3: a byte that is not UTF-8; expected UTF-8 text"
        );
    }

    #[test]
    fn a_stream_beyond_the_cap_is_refused_and_one_at_it_is_read() {
        assert_eq!(read_capped_from(&b"abcd"[..], TINY).unwrap(), b"abcd");
        let err = read_capped_from(&b"abcde"[..], TINY).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            err.to_string(),
            "the file is larger than 4 bytes; a test file is 4 bytes"
        );
        assert_eq!(mib(SCENARIO.bytes), "256 MiB");
        assert_eq!(mib(RESULTS.bytes), "1 GiB");
    }

    #[test]
    fn an_endless_device_is_refused() {
        let zero = Path::new("/dev/zero");
        if zero.exists() {
            let err = read_capped(zero, TINY).unwrap_err();
            assert!(err.to_string().contains("larger than"), "{err}");
        }
    }
}
