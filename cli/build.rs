//! Digests the source that decides what a simulation computes, so that `kubetwin sweep` can
//! tell points computed by another build from its own: the package version is the same across
//! builds whose results differ (a model change shifts every run's draws), so a sweep resumed, or
//! shards merged, after a rebuild would otherwise mix them without a word.
//!
//! The digest covers the engine, the model, the scenarios and their shipped parameters, this
//! crate's own source (the sweep computes its points here), the manifests (features) and
//! `Cargo.lock` (the random number generators' crates). It is FNV-1a over each `.rs`, `.toml` and
//! `.lock` file's path relative to the workspace and its bytes with CRLF read as LF, in path
//! order, hidden files left out: the same commit gives the same digest on every machine and
//! checkout, whatever an editor or the OS leaves beside the sources. Without any of them (a
//! crate packaged alone) the build says so, and the digest is of the version alone.

use std::path::{Path, PathBuf};

/// The inputs, relative to the workspace root.
const INPUTS: &[&str] = &[
    "sim-core/src",
    "sim-core/Cargo.toml",
    "models/src",
    "models/Cargo.toml",
    "topologies/src",
    "topologies/scenarios",
    "topologies/params",
    "topologies/Cargo.toml",
    "cli/src",
    "cli/Cargo.toml",
    "Cargo.toml",
    "Cargo.lock",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.parent().unwrap_or(&manifest).to_path_buf();
    let mut files = Vec::new();
    for input in INPUTS {
        let path = root.join(input);
        println!("cargo:rerun-if-changed={}", path.display());
        collect(&path, &mut files);
    }
    files.sort();
    let mut hash = Fnv::new();
    if files.is_empty() {
        println!(
            "cargo:warning=kubetwin's sources are not beside this crate: sweep's model_digest is of the version alone"
        );
        hash.write(std::env::var("CARGO_PKG_VERSION").unwrap_or_default().as_bytes());
    }
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap_or(file);
        hash.write(rel.to_string_lossy().replace('\\', "/").as_bytes());
        hash.write(&[0]);
        let bytes = std::fs::read(file).unwrap_or_default();
        // A checkout that writes CRLF (git's autocrlf on Windows) holds the same source.
        let mut prev_cr = false;
        for &b in &bytes {
            if prev_cr && b != b'\n' {
                hash.write(b"\r");
            }
            prev_cr = b == b'\r';
            if !prev_cr {
                hash.write(&[b]);
            }
        }
        if prev_cr {
            hash.write(b"\r");
        }
        hash.write(&[0]);
    }
    println!("cargo:rustc-env=KUBETWIN_MODEL_DIGEST={:016x}", hash.0);
}

/// Every `.rs`, `.toml` or `.lock` file under `path` (or `path` itself, such a file),
/// recursively, hidden files and directories (an editor's swap file, `.DS_Store`) left out.
fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    if hidden {
        return;
    }
    if path.is_file() {
        let source = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "rs" | "toml" | "lock"));
        if source {
            out.push(path.to_path_buf());
        }
    } else if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            collect(&entry.path(), out);
        }
    }
}

/// 64-bit FNV-1a (as `sweep` digests a scenario).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
