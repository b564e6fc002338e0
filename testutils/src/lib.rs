//! Dev-only helpers shared by kubetwin's test suites (as simkube's `testutils`): a scratch
//! directory, the real kubectl output captured in `shared/data/kubectl-captures/`, and a stand-in
//! `kubectl` script that replays it.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The captures directory: `shared/` sits beside the repository checkout.
pub fn captures_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/kubectl-captures"
    ))
}

/// A scratch directory, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new, empty directory under the system's temporary directory, named after `tag`.
    ///
    /// # Panics
    ///
    /// If the directory cannot be created.
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "kubetwin-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `name` inside the directory, as a string for a command line.
    ///
    /// # Panics
    ///
    /// If the temporary directory's path is not UTF-8.
    pub fn file(&self, name: &str) -> String {
        self.path.join(name).to_str().expect("UTF-8 temp path").to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The stand-in script; `@CAPS@` and `@STATE@` are filled in by [`StandInKubectl::new`].
const SCRIPT: &str = include_str!("../stand-in-kubectl.sh");

/// A scratch directory holding a stand-in `kubectl` (a shell script replaying the captures of
/// `namespace-run/`), its state and an unused kubeconfig file.
///
/// The script logs every command line to `state/calls.log` and keeps the namespaces it "created"
/// as directories under `state/ns/`. `state/fail` (`VERB KIND FILE`) makes the first such command
/// fail with a captured error; `state/down` (`FROM TO`) makes calls FROM..TO (1-based) meet an API
/// server that is down; `state/already-exists` (a count) makes that many namespace creations meet
/// "already exists"; `state/hang` (`VERB KIND`) makes every such command hang.
///
/// `kubectl get pods -w` replays `watch-20-pods/watch-events-json.txt` (the namespace put in) and
/// ends; `state/fail-watch` (a capture's path) makes it fail with that captured error instead.
/// With `state/watch-20` it is paced by the receive times captured with it (divided by the
/// number in `state/watch-pace`, if any), writes its pid to `state/watch.pid` and then waits as a
/// real watch does; `get pods`, `get events` and `get deployment` then answer from the run that
/// stream was captured in (`watch-20-pods/`), so the watch and the pods agree. The watch is a
/// call like any other: it is logged (by its own process, beside the run's calls, in no set
/// order), it counts in `state/down`'s numbering, and `state/fail` or `state/hang` for `get
/// pods` catch it too.
#[derive(Debug)]
pub struct StandInKubectl {
    dir: TempDir,
}

impl StandInKubectl {
    /// Writes the script and its state under a new scratch directory named after `tag`.
    ///
    /// # Panics
    ///
    /// If the captures are missing or the script cannot be written or run.
    pub fn new(tag: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;

        let dir = TempDir::new(tag);
        let caps = captures_dir()
            .canonicalize()
            .expect("shared/data/kubectl-captures beside the checkout");
        let state = dir.path().join("state");
        std::fs::create_dir_all(state.join("ns")).unwrap();
        std::fs::write(dir.path().join("kubeconfig"), "apiVersion: v1\nkind: Config\n").unwrap();
        let script = SCRIPT
            .replace("@CAPS@", caps.to_str().unwrap())
            .replace("@STATE@", state.to_str().unwrap());
        let path = dir.path().join("kubectl");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Another test thread may fork while the script is open for writing; its child holds the
        // file open until it execs, which makes running the script fail with ETXTBSY for that
        // instant. Wait it out.
        for _ in 0..100 {
            match std::process::Command::new(&path).arg("--probe").status() {
                Ok(status) if status.success() => break,
                Err(e) if e.raw_os_error() == Some(26) => std::thread::sleep(Duration::from_millis(20)),
                other => panic!("stand-in kubectl does not run: {other:?}"),
            }
        }
        Self { dir }
    }

    /// The scratch directory (room for a test's own output files).
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }

    /// The script.
    pub fn program(&self) -> PathBuf {
        self.dir.path().join("kubectl")
    }

    /// The (unused) kubeconfig file.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// The script's state directory.
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Writes a state file (`fail`, `down`, `already-exists`, `hang`).
    ///
    /// # Panics
    ///
    /// If the file cannot be written.
    pub fn set(&self, file: &str, content: &str) {
        std::fs::write(self.state().join(file), content).unwrap();
    }

    /// Every command line the script saw, as (`--request-timeout=...` flag, the words after the
    /// connection flags); the `--kubeconfig` flag is checked to name [`Self::kubeconfig`].
    ///
    /// # Panics
    ///
    /// If a command line lacks the connection flags or names another kubeconfig.
    pub fn calls_with_timeout(&self) -> Vec<(String, Vec<String>)> {
        let log = std::fs::read_to_string(self.state().join("calls.log")).unwrap_or_default();
        let kubeconfig = self.kubeconfig();
        log.lines()
            .map(|line| {
                let words: Vec<String> = line.split(' ').map(str::to_string).collect();
                assert_eq!(words[0], "--kubeconfig", "{line}");
                assert_eq!(Path::new(&words[1]), kubeconfig, "{line}");
                assert!(words[2].starts_with("--request-timeout="), "{line}");
                (words[2].clone(), words[3..].to_vec())
            })
            .collect()
    }

    /// Every command line the script saw, without the connection flags.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls_with_timeout().into_iter().map(|(_, c)| c).collect()
    }

    /// Namespaces still on the "cluster", sorted.
    ///
    /// # Panics
    ///
    /// If the state directory cannot be read.
    pub fn remaining(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.state().join("ns"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}
