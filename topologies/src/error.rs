//! The crate's error type and the located findings of the checks.

use std::fmt;

/// Whether a finding stops the scenario from loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The scenario is rejected.
    Error,
    /// The scenario loads; the finding is returned beside it ([`crate::load::Loaded::warnings`]).
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding of a check, placed in the scenario file.
///
/// Displays as ``ORIGIN: line L, column C: error[E007] `haproxy.backends[1]`: MESSAGE``
/// followed by an indented `help:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The check's stable code (`E007`, `W001`); see [`crate::check::checks_table`].
    pub code: &'static str,
    /// The check's short name (`backend-points-nowhere`).
    pub name: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The file name (or the origin given to [`crate::load::load_str`]).
    pub origin: String,
    /// 1-based line of the offending field (of its nearest written ancestor when the field was
    /// left to its default); 0 when no line of the file writes it (a parameter file whose
    /// overlay makes a scenario field elsewhere wrong).
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Field path, e.g. `kubernetes.kubelet.kube_api_qps` or `hosts[4].site`.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
    /// How to fix it (the check's help text).
    pub help: &'static str,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not in any file line: a finding of a scenario assembled from several sources.
            return write!(
                f,
                "{}: {}[{}] `{}`: {}\n    help: {}",
                self.origin, self.severity, self.code, self.field, self.message, self.help
            );
        }
        write!(
            f,
            "{}: line {}, column {}: {}[{}] `{}`: {}\n    help: {}",
            self.origin, self.line, self.column, self.severity, self.code, self.field, self.message, self.help
        )
    }
}

/// Why a scenario could not be loaded. Every variant is fatal: no scenario comes out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read. Fatal.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The path as given.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The parameter file (`--params`) could not be read. Fatal.
    #[error("cannot read parameter file {path}: {source}")]
    ReadParams {
        /// The path as given.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Neither a built-in scenario name nor a readable file. Fatal.
    #[error("`{name}` is neither a built-in scenario ({builtins}) nor a readable scenario file: {source}")]
    NotFound {
        /// The name or path as given.
        name: String,
        /// The built-in names, comma-separated.
        builtins: String,
        /// Why it could not be read as a file.
        source: std::io::Error,
    },
    /// The text is not valid TOML, or does not fit the scenario's fields (unknown field, wrong
    /// type, a duration without a unit, a missing required field). Fatal.
    #[error("{origin}: line {line}, column {column}: `{field}`: {message}")]
    Parse {
        /// The file name or origin.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// Field path (`links[3].delay`), or the nearest table when the TOML itself is broken.
        field: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// The scenario parsed but failed semantic checks; every error found is listed (warnings
    /// found at the same time are kept too). Fatal.
    #[error("{origin}: {} in the scenario:\n{}", count_errors(.diagnostics), render(.diagnostics))]
    Invalid {
        /// The file name or origin.
        origin: String,
        /// Errors first, then warnings, each in file order.
        diagnostics: Vec<Diagnostic>,
    },
}

/// "1 error", "2 errors".
fn count_errors(ds: &[Diagnostic]) -> String {
    match ds.iter().filter(|d| d.severity == Severity::Error).count() {
        1 => "1 error".to_owned(),
        n => format!("{n} errors"),
    }
}

fn render(ds: &[Diagnostic]) -> String {
    ds.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
}

impl ScenarioError {
    /// The errors of an [`ScenarioError::Invalid`] (empty for the other variants).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ScenarioError::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }

    /// Whether any finding (or the parse error) carries `code`; parse errors have code `PARSE`.
    pub fn has_code(&self, code: &str) -> bool {
        match self {
            ScenarioError::Parse { .. } => code == "PARSE",
            _ => self.diagnostics().iter().any(|d| d.code == code),
        }
    }
}
