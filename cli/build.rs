//! Digests the source that decides what a simulation computes, so that `kubetwin sweep` can
//! tell points computed by another build from its own: the package version is the same across
//! builds whose results differ (a model change shifts every run's draws), so a sweep resumed, or
//! shards merged, after a rebuild would otherwise mix them without a word.
//!
//! The digest covers the engine, the model, the scenarios and their shipped parameters, this
//! crate's own source (the sweep computes its points here) and `Cargo.lock` (the random number
//! generators' crates). It is FNV-1a over each file's path relative to the workspace and its
//! bytes, in path order: the same checkout gives the same digest on every machine. A directory
//! that is not there (a crate packaged alone) is left out.

use std::path::{Path, PathBuf};

/// The inputs, relative to the workspace root.
const INPUTS: &[&str] = &[
    "sim-core/src",
    "models/src",
    "topologies/src",
    "topologies/scenarios",
    "topologies/params",
    "cli/src",
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
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap_or(file);
        hash.write(rel.to_string_lossy().replace('\\', "/").as_bytes());
        hash.write(&[0]);
        hash.write(&std::fs::read(file).unwrap_or_default());
        hash.write(&[0]);
    }
    println!("cargo:rustc-env=KUBETWIN_MODEL_DIGEST={:016x}", hash.0);
}

/// Every file under `path` (or `path` itself, a file), recursively.
fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
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
