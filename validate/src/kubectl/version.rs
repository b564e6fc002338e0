//! `kubectl version -o json`, as in `shared/data/kubectl-captures/namespace-run/version.json`.

use serde::Deserialize;

use super::objects::from_json;
use super::KubectlError;

/// Output of `kubectl version -o json`.
///
/// When the API server cannot be reached, kubectl still prints the client part (and exits with 1), so
/// `server_version` is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionInfo {
    /// kubectl's own version.
    pub client_version: Option<BuildInfo>,
    /// The kustomize built into kubectl.
    pub kustomize_version: Option<String>,
    /// The API server's version.
    pub server_version: Option<BuildInfo>,
}

/// One side of [`VersionInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BuildInfo {
    /// Major version, e.g. `1`.
    pub major: String,
    /// Minor version, e.g. `35` (may carry a `+`).
    pub minor: String,
    /// Full version, e.g. `v1.35.0`.
    pub git_version: String,
    /// Source commit.
    pub git_commit: String,
    /// When it was built.
    pub build_date: String,
    /// Go toolchain.
    pub go_version: String,
    /// `os/arch`.
    pub platform: String,
}

impl VersionInfo {
    /// Parses the output of `kubectl version -o json`.
    ///
    /// # Errors
    /// [`KubectlError::Json`] when it is not a version document.
    pub fn from_json(json: &str) -> Result<Self, KubectlError> {
        from_json("version -o json", json)
    }
}
