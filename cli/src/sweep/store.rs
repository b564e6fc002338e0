//! A sweep directory: `sweep.json`, `scenario.toml`, `points/<key>.json`, results files.
//!
//! Every file is written whole or not at all ([`validate::atomic_file`]: a temporary file in the
//! same directory, synced, renamed over the target, then the directory synced), so a sweep killed
//! at any instant leaves only complete point files behind, and a rerun of the same command picks up
//! where it stopped. A rerun with a larger `--reps` extends every point in place
//! ([`SweepDir::init_or_extend`], [`StoredPoint::Prefix`]). A run holds advisory locks on the
//! directory while it computes ([`SweepDir::lock`]). Temporary files are named
//! `.<name>.tmp-<pid>-<nanos>-<n>` (a name taken by a process of the same pid in another container
//! sharing the volume is skipped, never reused or removed). A sweep interrupted by Ctrl-C, SIGTERM
//! or SIGHUP removes its own
//! ([`crate::interrupt`]); ones older than a minute are left-overs of a run killed outright
//! (`kill -9`, a crash) and are removed when a sweep starts.

use std::path::{Path, PathBuf};

use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::point::PointRecord;
use super::spec::SweepSpec;
use crate::output::UsageError;

/// Identifies the layout of sweep files.
pub(crate) const FORMAT: &str = "kubetwin-sweep/1";

/// The seed rule, stored in `sweep.json` for readers of the results.
pub(crate) const SEED_RULE: &str = "every point uses the experiment seed (common random numbers): replication r \
    runs with replication_seed(seed, r), as kubetwin run and validate do; see cli/src/sweep/spec.rs";

/// The content of `sweep.json`, also the header of `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SweepFile {
    /// [`FORMAT`].
    pub(crate) format: String,
    /// [`SweepSpec::hash`].
    pub(crate) spec_hash: String,
    /// Number of points of the whole sweep.
    pub(crate) points: usize,
    /// How seeds are derived.
    pub(crate) seeds: String,
    /// The spec.
    pub(crate) spec: SweepSpec,
}

impl SweepFile {
    /// Reads the JSON of a `sweep.json` (or the `sweep` header of `results.json`) of
    /// [`FORMAT`].
    ///
    /// # Errors
    ///
    /// Why it cannot be read, for a message that names the file: another format than
    /// [`FORMAT`] (with the kubetwin version that wrote it, if it says), none, or content that is
    /// not a sweep file's.
    pub(crate) fn from_json(v: &serde_json::Value) -> Result<SweepFile, String> {
        match v.get("format").and_then(serde_json::Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                let by = v
                    .pointer("/spec/kubetwin_version")
                    .and_then(serde_json::Value::as_str)
                    .map(|w| format!(" (written by kubetwin {w})"))
                    .unwrap_or_default();
                return Err(format!(
                    "format {other}{by}, but this kubetwin ({}) reads only format {FORMAT}",
                    env!("CARGO_PKG_VERSION")
                ));
            }
            None => {
                return Err(format!(
                    "no \"format\" (a kubetwin sweep file has \"format\": \"{FORMAT}\")"
                ))
            }
        }
        serde_json::from_value(v.clone()).map_err(|e| format!("not a kubetwin sweep file: {e}"))
    }

    /// The file of `spec`.
    pub(crate) fn new(spec: SweepSpec, points: usize) -> Self {
        SweepFile {
            format: FORMAT.to_owned(),
            spec_hash: spec.hash(),
            points,
            seeds: SEED_RULE.to_owned(),
            spec,
        }
    }
}

pub(crate) use crate::output::write_atomic;

/// A sweep directory.
#[derive(Debug, Clone)]
pub(crate) struct SweepDir {
    root: PathBuf,
}

impl SweepDir {
    /// The directory at `root` (not touched yet).
    pub(crate) fn new(root: &Path) -> Self {
        SweepDir { root: root.to_owned() }
    }

    /// The directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/points`.
    pub(crate) fn points_dir(&self) -> PathBuf {
        self.root.join("points")
    }

    /// `DIR/points/<key>.json`.
    pub(crate) fn point_path(&self, key: &str) -> PathBuf {
        self.points_dir().join(format!("{key}.json"))
    }

    /// `DIR/sweep.json`.
    pub(crate) fn sweep_path(&self) -> PathBuf {
        self.root.join("sweep.json")
    }

    /// `DIR/scenario.toml`: the scenario the points are computed from, for the record.
    pub(crate) fn scenario_path(&self) -> PathBuf {
        self.root.join("scenario.toml")
    }

    /// Writes `text` to [`Self::scenario_path`] unless it holds it already.
    pub(crate) fn write_scenario(&self, text: &str) -> anyhow::Result<()> {
        let path = self.scenario_path();
        if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
            return Ok(());
        }
        write_atomic(&path, text.as_bytes()).with_context(|| format!("--out {}", self.root.display()))
    }

    /// Reads `DIR/sweep.json`, `None` if absent.
    pub(crate) fn read_sweep(&self) -> anyhow::Result<Option<SweepFile>> {
        let path = self.sweep_path();
        let text = match topologies::file::read_capped_to_string(&path, topologies::file::RESULTS) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                let e = anyhow::Error::from(e).context(format!("cannot read {}", path.display()));
                return Err(crate::output::input_error(e));
            }
        };
        let not_a_sweep =
            |why: String| crate::output::InputError(format!("{} is not a kubetwin sweep file: {why}", path.display()));
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| not_a_sweep(e.to_string()))?;
        let file = SweepFile::from_json(&value)
            .map_err(|why| crate::output::InputError(format!("{}: {why}", path.display())))?;
        // A spec without the model's digest was written before it was recorded: by an earlier
        // build, whose points this one may not compute alike (its hash, of a spec that now has
        // the field, would read as an edit).
        if value.pointer("/spec/model_digest").is_none() {
            return Err(crate::output::InputError(format!(
                "{}: written by an earlier build of kubetwin (its spec records no model_digest), whose points this \
                 build may not compute alike; use another --out directory, or remove that one to start over",
                path.display()
            ))
            .into());
        }
        // The hash is of the spec: one that does not match was edited by hand, and would let
        // points of another sweep in.
        let hash = file.spec.hash();
        if hash != file.spec_hash {
            return Err(crate::output::InputError(format!(
                "{}: its spec_hash {} is not the hash of the spec it holds ({hash}): the file was edited; \
                 restore it, or rerun the sweep into a new directory",
                path.display(),
                file.spec_hash
            ))
            .into());
        }
        Ok(Some(file))
    }

    /// Makes the directory hold `file`'s sweep: creates it, or checks that the sweep already in
    /// it is the same (a different one is a usage error naming both).
    ///
    /// Before any point is computed or copied, it checks that the directory and `points/` can be
    /// created and `sweep.json` written ([`SweepDir::check_points_writable`] checks `points/`):
    /// a directory that cannot take them is a usage error of `--out` (exit code 2), as an
    /// output file that cannot be written is for the other commands, not a failure found after
    /// the work.
    pub(crate) fn init(&self, file: &SweepFile) -> anyhow::Result<()> {
        self.init_with(file, None).map(|_| ())
    }

    /// [`SweepDir::init`] for a run of the sweep (or of its `shard`) that computes points: it
    /// takes the directory ([`SweepLock`]) before it writes anything, and a directory holding the
    /// same sweep with another number of replications per point takes `file` in its place when no
    /// point holds more replications than `file` asks for. The replications a point holds are
    /// then the first ones of `file`'s (replication r always runs with `replication_seed(seed,
    /// r)`), and its file is read as a prefix to extend ([`StoredPoint::Prefix`]). A shard changes
    /// the number only while no other shard runs. Returns the number of replications per point
    /// the directory's sweep had, when it differs, and the lock.
    ///
    /// # Errors
    ///
    /// Those of [`SweepDir::init`]; a usage error when some point holds more replications than
    /// `file` asks for (it says how many); [`SweepDir::lock`]'s.
    pub(crate) fn init_or_extend(
        &self,
        file: &SweepFile,
        shard: Option<super::axes::Shard>,
    ) -> anyhow::Result<(Option<u64>, SweepLock)> {
        let (held_before, lock) = self.init_with(file, Some(shard))?;
        Ok((held_before, lock.unwrap_or_default()))
    }

    /// [`SweepDir::init`], locking for a run of the sweep or of a shard (`Some(shard)`) and then
    /// letting it change the number of replications ([`SweepDir::init_or_extend`]).
    fn init_with(
        &self,
        file: &SweepFile,
        run: Option<Option<super::axes::Shard>>,
    ) -> anyhow::Result<(Option<u64>, Option<SweepLock>)> {
        let may_extend = run.is_some();
        // Refused before anything is created, so a directory of another sweep is left as it was.
        self.same_sweep(file, may_extend)?;
        let unusable = |why: String| UsageError(format!("--out {}: {why}", self.root.display()));
        let new_root = !self.root.exists();
        std::fs::create_dir_all(self.points_dir())
            .map_err(|e| unusable(format!("cannot create {}: {e}", self.points_dir().display())))?;
        // A run refused for a lock leaves everything as it found it: another run, which may
        // have made the directory a moment ago, is using it.
        let lock = match run {
            Some(shard) => Some(self.lock(shard)?),
            None => None,
        };
        // Nothing of a sweep that never began is left behind (by the run that holds it).
        let forget = || {
            if new_root {
                for shard in [None].into_iter().chain(run.flatten().map(Some)) {
                    let _ = std::fs::remove_file(self.lock_path(shard));
                }
                let _ = std::fs::remove_dir(self.points_dir());
                let _ = std::fs::remove_dir(&self.root);
            }
        };
        if let Err(e) = validate::atomic_file::check_writable(self.sweep_path()) {
            forget();
            return Err(unusable(e.to_string()).into());
        }
        // Again under the lock: a run that held it may have changed sweep.json meanwhile.
        let held_before = self.same_sweep(file, may_extend)?;
        let existing = self.read_sweep()?;
        if existing.as_ref() != Some(file) {
            // A shard shares the directory with the other shards: it changes their sweep's
            // replications only when none of them runs.
            if let (Some(existing), Some(Some(shard)), Some(lock)) = (&existing, run, &lock) {
                if !lock.sole_holder() {
                    return Err(UsageError(format!(
                        "another shard of this sweep is computing in {} with --reps {}; run shard {shard} with \
                         --reps {} too, or wait for the others to end before changing it",
                        self.root.display(),
                        existing.spec.reps,
                        existing.spec.reps
                    ))
                    .into());
                }
            }
            // It could be written a moment ago: a failure now (a full disk) is the machine's,
            // not the command line's.
            if let Err(e) = write_atomic(&self.sweep_path(), &to_json_bytes(file)) {
                forget();
                return Err(e.context(format!("--out {}", self.root.display())));
            }
        }
        Ok((held_before, lock))
    }

    /// Checks that the directory holds no sweep or `file`'s, or, if `may_extend`, `file`'s with
    /// another number of replications per point and no point holding more than `file` asks for;
    /// returns that number when it differs.
    fn same_sweep(&self, file: &SweepFile, may_extend: bool) -> anyhow::Result<Option<u64>> {
        let Some(existing) = self.read_sweep()? else {
            return Ok(None);
        };
        if existing.spec_hash == file.spec_hash {
            return Ok(None);
        }
        let only_reps_differ = existing.spec == file.spec.with_reps(existing.spec.reps);
        if !(may_extend && only_reps_differ) {
            return Err(UsageError(format!(
                "{} holds another sweep (spec {}) than this one (spec {}); differences: {}. \
                 Use another --out directory, or remove that one to start over",
                self.root.display(),
                existing.spec_hash,
                file.spec_hash,
                existing.spec.differences(&file.spec).join("; ")
            ))
            .into());
        }
        if existing.spec.reps > file.spec.reps {
            // A run with more replications may have stopped before it extended any point.
            let held = self.most_replications_held()?;
            if held > file.spec.reps {
                return Err(UsageError(format!(
                    "{} holds this sweep with points of up to {} each, more than --reps {} asks for (their first {} \
                     are the same: replication r always runs with the same seed); rerun with --reps {held} or more, \
                     or use another --out directory",
                    self.root.display(),
                    crate::output::count(held as usize, "replication"),
                    file.spec.reps,
                    file.spec.reps,
                ))
                .into());
            }
        }
        Ok(Some(existing.spec.reps))
    }

    /// The most replications a point file of the directory holds (0 without any); a file that
    /// does not parse counts for none (reading it as a point refuses it, naming it).
    fn most_replications_held(&self) -> anyhow::Result<u64> {
        let mut most = 0;
        for path in self.point_files()? {
            let Ok(text) = topologies::file::read_capped_to_string(&path, topologies::file::RESULTS) else {
                continue;
            };
            if let Ok(rec) = serde_json::from_str::<PointRecord>(&text) {
                most = most.max(rec.replications() as u64);
            }
        }
        Ok(most)
    }

    /// The record in `points/<key>.json`, `None` if there is none; checks that it holds every
    /// replication of the sweep `file` ([`parse_point`]).
    pub(crate) fn read_point(&self, key: &str, file: &SweepFile) -> anyhow::Result<Option<PointRecord>> {
        let path = self.point_path(key);
        self.read_point_text(key)?
            .map(|text| parse_point(&path, &text, file).map_err(crate::output::input_error))
            .transpose()
    }

    /// What `points/<key>.json` holds for the sweep `file`: the whole point, or the first
    /// replications of it ([`parse_stored_point`]); `None` if there is no such file.
    pub(crate) fn read_stored_point(&self, key: &str, file: &SweepFile) -> anyhow::Result<Option<StoredPoint>> {
        let path = self.point_path(key);
        self.read_point_text(key)?
            .map(|text| parse_stored_point(&path, &text, file).map_err(crate::output::input_error))
            .transpose()
    }

    /// The text of `points/<key>.json`, `None` if there is none.
    fn read_point_text(&self, key: &str) -> anyhow::Result<Option<String>> {
        let path = self.point_path(key);
        match topologies::file::read_capped_to_string(&path, topologies::file::RESULTS) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e)
                .with_context(|| format!("cannot read {}", path.display()))
                .map_err(crate::output::input_error),
        }
    }

    /// Checks, before points are computed or copied into `points/`, that it can take them (the
    /// point `key` first): a usage error of `--out` otherwise (as [`SweepDir::init`]).
    pub(crate) fn check_points_writable(&self, key: &str) -> Result<(), UsageError> {
        validate::atomic_file::check_writable(self.point_path(key))
            .map_err(|e| UsageError(format!("--out {}: {e}", self.root.display())))
    }

    /// Writes a point file.
    pub(crate) fn write_point(&self, rec: &PointRecord) -> anyhow::Result<()> {
        write_atomic(&self.point_path(&rec.key), &to_json_bytes(rec))
    }

    /// Every `points/*.json` file, sorted by name.
    pub(crate) fn point_files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let dir = self.points_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
        };
        let mut out = Vec::new();
        for e in entries {
            let p = e?.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".json") && !name.starts_with('.') {
                out.push(p);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The `points/*.json` files named after one of `keys` (the points of a sweep), and the others,
    /// which neither `sweep` nor `merge` reads, each sorted by name.
    pub(crate) fn point_files_of(
        &self,
        keys: &std::collections::BTreeSet<String>,
    ) -> anyhow::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
        Ok(self.point_files()?.into_iter().partition(|p| {
            p.file_stem()
                .is_some_and(|s| keys.contains(s.to_string_lossy().as_ref()))
        }))
    }

    /// Takes the directory for one run of the sweep, or of its `shard`: advisory locks held until
    /// the returned [`SweepLock`] is dropped and released by the system when the process ends,
    /// however it ends. A run of the whole sweep holds `DIR/.lock` alone; a run of shard K/N shares
    /// `DIR/.lock` with the other shards and holds `DIR/.lock-shard-K-of-N` alone. So a second run of
    /// the sweep, or of the same shard, or the whole sweep beside a shard (which would compute the
    /// same points twice) is refused, and the shards of one sweep share a directory. (Shards of
    /// different N overlap unguarded.) A file system without locks (some network mounts) runs
    /// unguarded, with a warning.
    ///
    /// # Errors
    ///
    /// When another run holds a lock (it names the lock file); a usage error when a lock file
    /// cannot be created (a read-only directory).
    pub(crate) fn lock(&self, shard: Option<super::axes::Shard>) -> anyhow::Result<SweepLock> {
        let take = |path: PathBuf, shared: bool| -> anyhow::Result<Option<std::fs::File>> {
            // Read-only is enough to lock, and lets a lock file another user made be shared.
            let file = std::fs::File::open(&path)
                .or_else(|_| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&path)
                })
                .map_err(|e| {
                    UsageError(format!(
                        "--out {}: cannot create the lock file {}: {e}",
                        self.root.display(),
                        path.display()
                    ))
                })?;
            let got = if shared {
                file.try_lock_shared()
            } else {
                file.try_lock()
            };
            match got {
                Ok(()) => Ok(Some(file)),
                Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                    "{} is in use: a kubetwin sweep {} is computing its points there now (it holds {}); wait for \
                     it to end, or stop it, and rerun this command, which then resumes where it stopped",
                    self.root.display(),
                    match (shard, shared) {
                        (None, _) => "of the whole sweep, or of a shard of it,".to_owned(),
                        (Some(s), false) => format!("of shard {s}"),
                        (Some(_), true) => "of the whole sweep".to_owned(),
                    },
                    path.display()
                ),
                Err(std::fs::TryLockError::Error(e)) => {
                    eprintln!(
                        "warning: cannot lock {} ({e}): a second run into this directory at once would not be refused",
                        path.display()
                    );
                    Ok(None)
                }
            }
        };
        let whole = take(self.lock_path(None), shard.is_some())?;
        let shard = match shard {
            Some(s) => take(self.lock_path(Some(s)), false)?,
            None => None,
        };
        Ok(SweepLock { whole, _shard: shard })
    }

    /// The lock file of a run of the sweep, or of its `shard` ([`SweepDir::lock`]).
    pub(crate) fn lock_path(&self, shard: Option<super::axes::Shard>) -> PathBuf {
        self.root
            .join(shard.map_or_else(|| ".lock".to_owned(), |s| format!(".lock-shard-{}-of-{}", s.k, s.n)))
    }

    /// Removes temporary files older than a minute (left by a killed run) from the directory and
    /// `points/`; returns how many.
    pub(crate) fn remove_stale_temporaries(&self) -> usize {
        let mut removed = 0;
        for dir in [self.root.clone(), self.points_dir()] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !validate::atomic_file::is_temporary_name(&name) {
                    continue;
                }
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(60));
                if old && std::fs::remove_file(e.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        removed
    }
}

/// A run's hold on its sweep directory ([`SweepDir::lock`]): released when dropped.
#[derive(Debug, Default)]
pub(crate) struct SweepLock {
    /// `DIR/.lock`, held alone by a run of the whole sweep, shared by a shard's (`None` on a
    /// file system without locks).
    whole: Option<std::fs::File>,
    /// `DIR/.lock-shard-K-of-N`, held alone by a shard's run.
    _shard: Option<std::fs::File>,
}

impl SweepLock {
    /// Whether no other run shares the directory now: a shard's shared hold on `DIR/.lock` is
    /// turned into a sole one for the moment (true on a file system without locks, which cannot
    /// tell).
    fn sole_holder(&self) -> bool {
        let Some(whole) = &self.whole else { return true };
        let sole = whole.try_lock().is_ok();
        if sole {
            // Back to shared, for the other shards: a lock held alone always turns into a
            // shared one.
            let _ = whole.try_lock_shared();
        }
        sole
    }
}

/// What a point file holds for a sweep.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StoredPoint {
    /// Every replication of the point.
    Whole(PointRecord),
    /// Its first replications, written when the sweep had fewer per point (under the hash of
    /// the sweep's spec with that many): a sweep extended with a larger `--reps` computes the
    /// others and appends them.
    Prefix(PointRecord),
}

/// Parses a point file of the sweep `file` and checks its name; a point of the sweep with fewer
/// replications is an error that says to rerun the sweep, which extends it.
pub(crate) fn parse_point(path: &Path, text: &str, file: &SweepFile) -> anyhow::Result<PointRecord> {
    match parse_stored_point(path, text, file)? {
        StoredPoint::Whole(rec) => Ok(rec),
        StoredPoint::Prefix(rec) => Err(UsageError(format!(
            "{} holds the first {} of the sweep's {} per point (the sweep was extended to --reps {}, and this \
             point not yet): rerun that sweep command (or its shard), which extends it",
            path.display(),
            rec.replications(),
            crate::output::count(file.spec.reps as usize, "replication"),
            file.spec.reps
        ))
        .into()),
    }
}

/// Parses a point file and checks its sweep (`file`, or `file` with fewer replications: a
/// [`StoredPoint::Prefix`]) and its name.
pub(crate) fn parse_stored_point(path: &Path, text: &str, file: &SweepFile) -> anyhow::Result<StoredPoint> {
    let rec: PointRecord = serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a point file ({e}); delete it, and rerunning the sweep (or its shard) computes that point again",
            path.display()
        )
    })?;
    let have = rec.replications() as u64;
    let prefix = rec.spec_hash != file.spec_hash
        && (1..file.spec.reps).contains(&have)
        && rec.spec_hash == file.spec.with_reps(have).hash();
    if rec.spec_hash != file.spec_hash && !prefix {
        return Err(UsageError(format!(
            "{} belongs to another sweep (spec {}) than this one (spec {}); points of different sweeps are never mixed",
            path.display(),
            rec.spec_hash,
            file.spec_hash
        ))
        .into());
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    anyhow::ensure!(
        stem == rec.key,
        "{} holds point {}, not the point its name says; delete it, and rerunning the sweep (or its shard) computes it again",
        path.display(),
        rec.key
    );
    Ok(if prefix {
        StoredPoint::Prefix(rec)
    } else {
        StoredPoint::Whole(rec)
    })
}

/// Pretty JSON with a final newline.
pub(crate) fn to_json_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).expect("serializes");
    b.push(b'\n');
    b
}
