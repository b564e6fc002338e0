//! Parameter files: a partial scenario in TOML laid over a scenario.
//!
//! `kubetwin calibrate` writes the values it fitted as a parameter file, for example
//!
//! ```toml
//! [runtime]
//! download_bandwidth = "23.4Mbit"
//! registry_rtt = "181ms"
//! ```
//!
//! and `run`, `validate` and `sweep` accept one with `--params FILE`. Tables merge key by key;
//! any other value (arrays included) replaces the scenario's. A built-in scenario may ship
//! calibrated parameters (`topologies/params/<name>.toml`), used unless `--params` names another
//! file.

use std::path::Path;

use models::spec::Scenario;

use crate::check::Size;
use crate::error::{Diagnostic, ScenarioError};
use crate::load::{name_field_from_message, one_line, Loaded};
use crate::locate::{line_col, Locator};

/// Calibrated parameters shipped with built-in scenarios.
pub const BUILTIN_PARAMS: &[(&str, &str)] = &[("thesis-2019", include_str!("../params/thesis-2019.toml"))];

/// The shipped parameter file of a built-in scenario, if it has one.
pub fn builtin_params(name: &str) -> Option<&'static str> {
    BUILTIN_PARAMS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Lays `params_text` (read from `origin`) over `base` and checks the result.
///
/// # Errors
///
/// [`ScenarioError::Parse`] for a file that is not TOML or names a field the scenario does not
/// have or gives it a wrong value (line, column and field in the parameter file), and
/// [`ScenarioError::Invalid`] when the result fails the scenario checks.
pub fn apply(base: &Scenario, params_text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    apply_with_warnings(base, params_text, origin).map(|(s, _)| s)
}

/// [`apply`], keeping the warnings of the resulting scenario, placed in the parameter file when
/// it writes the field (line 0 otherwise).
///
/// # Errors
///
/// As [`apply`].
pub fn apply_with_warnings(
    base: &Scenario,
    params_text: &str,
    origin: &str,
) -> Result<(Scenario, Vec<Diagnostic>), ScenarioError> {
    apply_overlay(base, params_text, origin, Overlay::File, Size::OfTheFile)
}

/// [`apply_with_warnings`] for an overlay a program wrote (a sweep's `--set` values), whose
/// lines point nowhere a user can look: a finding its text does not write is placed in "the
/// scenario with `origin` laid over it" without naming the fields the text sets. The workload's
/// size is judged only at `size` [`Size::OfTheFile`].
///
/// # Errors
///
/// As [`apply`].
pub fn apply_generated_with_warnings(
    base: &Scenario,
    text: &str,
    origin: &str,
    size: Size,
) -> Result<(Scenario, Vec<Diagnostic>), ScenarioError> {
    apply_overlay(base, text, origin, Overlay::Generated, size)
}

fn apply_overlay(
    base: &Scenario,
    params_text: &str,
    origin: &str,
    kind: Overlay,
    size: Size,
) -> Result<(Scenario, Vec<Diagnostic>), ScenarioError> {
    let overlay: toml::Table = toml::from_str(params_text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(params_text, s.start));
        ScenarioError::Parse {
            origin: origin.to_owned(),
            line,
            column,
            // Named as a scenario file's syntax error is: by the table and key at that line.
            field: crate::locate::path_at_line(params_text, line),
            message: crate::load::explained(
                crate::load::plain_numbers(&one_line(e.message())),
                e.span().and_then(|s| params_text.get(s.start..)),
            ),
        }
    })?;
    let mut merged = toml::Value::try_from(base).map_err(|e| ScenarioError::Parse {
        origin: origin.to_owned(),
        line: 1,
        column: 1,
        field: String::new(),
        message: format!("internal error: the base scenario does not serialize: {e}"),
    })?;
    merge(&mut merged, toml::Value::Table(overlay));
    let scenario: Scenario = serde_path_to_error::deserialize(merged).map_err(|e| {
        let mut field = crate::load::field_path(e.path());
        // The message alone: the error's Display appends where it was ("\nin `runtime`\n"),
        // which the field path already says.
        let mut message = one_line(e.into_inner().message());
        name_field_from_message(&mut field, &mut message);
        let message = crate::load::plain_numbers(&message);
        let (line, column) = Locator::new(params_text).locate(&field);
        // At the value, as a scenario file's own error is (serde read the merged tables, which
        // keep no spans): past the key's `=`.
        let column = params_text
            .lines()
            .nth(line.saturating_sub(1))
            .and_then(|l| {
                let key = field.rsplit('.').next()?;
                // The locator counts characters; the line is indexed in bytes.
                let at = l.char_indices().nth(column.saturating_sub(1))?.0;
                let rest = l.get(at..)?.strip_prefix(key)?;
                let after_eq = rest.trim_start().strip_prefix('=')?;
                let value_at = l.len() - after_eq.trim_start().len();
                Some(l[..value_at].chars().count() + 1)
            })
            .unwrap_or(column);
        ScenarioError::Parse {
            origin: origin.to_owned(),
            line,
            column,
            field,
            message,
        }
    })?;
    let (errors, warnings) =
        crate::check::located_in_overlay(&scenario, params_text, origin, kind == Overlay::File, size);
    if !errors.is_empty() {
        let mut diagnostics = errors;
        diagnostics.extend(warnings);
        return Err(ScenarioError::Invalid {
            origin: origin.to_owned(),
            diagnostics,
        });
    }
    Ok((scenario, warnings))
}

/// Who wrote an overlay's text: a user's file, whose lines a finding may point at, or a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overlay {
    File,
    Generated,
}

/// Lays `overlay` over `base`, table by table. A table whose `kind` the overlay changes (the
/// tagged `[vpn.topology]`) is replaced whole: its other keys belong to the old kind, which
/// the new may refuse (a `hub` left under a `full-mesh`; found by a review).
fn merge(base: &mut toml::Value, overlay: toml::Value) {
    match (base, overlay) {
        (toml::Value::Table(b), toml::Value::Table(o)) if o.get("kind").is_some_and(|k| b.get("kind") != Some(k)) => {
            *b = o;
        }
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Loads a scenario by built-in name or path, then lays parameters over it: the file `params`
/// if given, else the built-in scenario's shipped parameters, else none. Returns the scenario
/// and a description of where it came from.
///
/// # Errors
///
/// As [`crate::load::by_name_or_path`] and [`apply`]; [`ScenarioError::ReadParams`] when the
/// parameter file cannot be read.
pub fn resolve(scenario: &str, params: Option<&Path>) -> Result<(Scenario, String), ScenarioError> {
    resolve_with_warnings(scenario, params).map(|l| (l.scenario, l.origin))
}

/// [`resolve`], keeping the warnings of the scenario it returns: those of the scenario file (at
/// its lines), then any the parameters bring (at the parameter file's lines).
///
/// # Errors
///
/// As [`resolve`].
pub fn resolve_with_warnings(scenario: &str, params: Option<&Path>) -> Result<Loaded, ScenarioError> {
    resolve_at(scenario, params, Size::OfTheFile)
}

/// [`resolve_with_warnings`], judging the workload's size (E021, E034) only at `size`
/// [`Size::OfTheFile`]: a command that runs sizes of its own passes [`Size::Given`] and judges
/// them with [`crate::check::workload_fits`].
///
/// # Errors
///
/// As [`resolve`].
pub fn resolve_at(scenario: &str, params: Option<&Path>, size: Size) -> Result<Loaded, ScenarioError> {
    let base = crate::load::by_name_or_path_at(scenario, size)?;
    let (text, po) = match params {
        Some(p) => {
            let po = p.display().to_string();
            let bytes =
                crate::file::read_capped(p, crate::file::PARAMS).map_err(|source| ScenarioError::ReadParams {
                    path: po.clone(),
                    source,
                })?;
            // Not UTF-8: the line and column of the first bad byte, as for a scenario.
            let text = crate::load::utf8(&bytes, &po)?.to_owned();
            (std::borrow::Cow::Owned(text), po)
        }
        None => match builtin_params(scenario) {
            Some(text) => (
                std::borrow::Cow::Borrowed(text),
                format!("topologies/params/{scenario}.toml (shipped)"),
            ),
            None => return Ok(base),
        },
    };
    let (merged, overlay_warnings) = apply_overlay(&base.scenario, &text, &po, Overlay::File, size)?;
    // The merged scenario's warnings, each placed where it is written: in the parameter file
    // when that writes the field itself, else in the scenario file.
    let base_text = match crate::load::builtin(scenario) {
        Some(t) => std::borrow::Cow::Borrowed(t),
        None => std::borrow::Cow::Owned(
            crate::file::read_capped_to_string(scenario.as_ref(), crate::file::SCENARIO).unwrap_or_default(),
        ),
    };
    // `apply` ran the checks once; its warnings are only moved, not found again.
    let in_params = Locator::new(&text);
    let in_scenario = Locator::new(&base_text);
    let warnings = overlay_warnings
        .into_iter()
        .map(|w| {
            if in_params.writes(&w.field) {
                w
            } else {
                let (line, column) = in_scenario.locate(&w.field);
                Diagnostic {
                    origin: base.origin.clone(),
                    line,
                    column,
                    ..w
                }
            }
        })
        .collect();
    Ok(Loaded {
        scenario: merged,
        origin: format!("{} + {po}", base.origin),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thesis() -> Scenario {
        crate::load::by_name_or_path("thesis-2019").unwrap().0
    }

    #[test]
    fn overlay_changes_only_what_it_names() {
        let base = thesis();
        let s = apply(
            &base,
            "[runtime]\nregistry_rtt = \"42ms\"\n[netem]\nplacement = \"both\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(s.runtime.registry_rtt, models::units::Dur::millis(42));
        assert_eq!(s.netem.placement, models::spec::NetemPlacement::Both);
        assert_eq!(s.runtime.sandbox_time, base.runtime.sandbox_time);
        assert_eq!(s.hosts, base.hosts);
    }

    /// An overlay that changes the VPN's layout replaces the `[vpn.topology]` table: a hub left
    /// under a full mesh was refused as an unknown field once full-mesh refused them (found by
    /// a review: `sweep --set vpn.topology.kind=hub-and-spoke,full-mesh` on a hub scenario).
    #[test]
    fn an_overlay_that_changes_the_vpn_layout_replaces_its_table() {
        use models::spec::VpnTopology;
        let mut hub = thesis();
        hub.vpn.topology = VpnTopology::HubAndSpoke { hub: "vlan10".into() };
        let mesh = apply(&hub, "[vpn.topology]\nkind = \"full-mesh\"\n", "p.toml").unwrap();
        assert_eq!(mesh.vpn.topology, VpnTopology::FullMesh {});
        let back = apply(
            &mesh,
            "[vpn.topology]\nkind = \"hub-and-spoke\"\nhub = \"vlan20\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(back.vpn.topology, VpnTopology::HubAndSpoke { hub: "vlan20".into() });
        // The same kind merges: the overlay may change the hub alone.
        let moved = apply(&hub, "[vpn.topology]\nhub = \"vlan30\"\n", "p.toml").unwrap();
        assert_eq!(moved.vpn.topology, VpnTopology::HubAndSpoke { hub: "vlan30".into() });
    }

    /// A warning the parameters bring is placed where its field is written: in the parameter
    /// file when it writes the field, else in the scenario file.
    #[test]
    fn warnings_are_placed_where_their_field_is_written() {
        let dir = std::env::temp_dir().join(format!("kubetwin-params-warn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fast = dir.join("fast.toml");
        std::fs::write(&fast, "[kubernetes.kubelet]\nnode_status_update = \"1ms\"\n").unwrap();
        let l = resolve_with_warnings("thesis-2019", Some(&fast)).unwrap();
        let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(l.warnings.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with(&format!("{}: line 2, column 1: warning[W003]", fast.display())),
            "{}",
            w[0]
        );
        // Slow apiservers overload them with the scenario's own resync: the warning names the
        // scenario file's line of `host_network_status_resync`.
        let slow = dir.join("slow.toml");
        std::fs::write(&slow, "[kubernetes.apiserver]\nservice_time = \"5s\"\nworkers = 1\n").unwrap();
        let l = resolve_with_warnings("thesis-2019", Some(&slow)).unwrap();
        let text = crate::load::builtin("thesis-2019").unwrap();
        let line = text
            .lines()
            .position(|l| l.starts_with("host_network_status_resync"))
            .unwrap()
            + 1;
        let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(l.warnings.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with(&format!("thesis-2019 (built-in): line {line}, column 1: warning[W003]")),
            "{}",
            w[0]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A parameter file that is not UTF-8 is refused at the line and column of its first bad
    /// byte, and the field it falls in, as a scenario is.
    #[test]
    fn a_parameter_file_not_utf8_names_line_and_column() {
        let dir = std::env::temp_dir().join(format!("kubetwin-params-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("latin1.toml");
        std::fs::write(&bad, b"# fitted\n[runtime]\nregistry_rtt = \"42ms\" # \xb5s\n").unwrap();
        let e = resolve("thesis-2019", Some(&bad)).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "{}: line 3, column 25: `runtime.registry_rtt`: the file is not UTF-8 text",
                bad.display()
            )),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_parameter_file_is_called_one() {
        let e = resolve("thesis-2019", Some(Path::new("/nonexistent/params.toml")))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cannot read parameter file /nonexistent/params.toml"),
            "{e}"
        );
    }

    #[test]
    fn bad_parameters_name_file_line_and_field() {
        let base = thesis();
        let e = apply(&base, "# fitted\n[runtime]\nregistry_rt = \"42ms\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.toml") && e.contains("line 3") && e.contains("runtime.registry_rt"),
            "{e}"
        );
        let e = apply(&base, "[runtime]\nregistry_rtt = 42\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("registry_rtt"), "{e}");
        let e = apply(&base, "[runtime\n", "p.toml").unwrap_err().to_string();
        assert!(e.contains("p.toml") && e.contains("line 1"), "{e}");
        let e = apply(&base, "[runtime]\nslots = 0\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("slots"), "{e}");
        // An unknown key is named once.
        let e = apply(&base, "[runtime]\nnope = 1\n", "p.toml").unwrap_err().to_string();
        assert!(e.contains("`runtime.nope`") && !e.contains("nope.nope"), "{e}");
    }

    /// Syntax errors name the field at their line, as a scenario file's do (they printed an
    /// empty ``), and an unknown field's message has no "\nin `runtime`\n\n" tail.
    #[test]
    fn params_file_errors_name_the_field_on_one_line() {
        let base = thesis();
        let parse = |text: &str| match apply(&base, text, "p.toml").unwrap_err() {
            ScenarioError::Parse {
                line, field, message, ..
            } => (line, field, message),
            other => panic!("{other}"),
        };
        let (line, field, _) = parse("[runtime]\nregistry_rtt = \n");
        assert_eq!((line, field.as_str()), (2, "runtime.registry_rtt"));
        let (line, field, message) = parse("[runtime]\nregistry_rtt = \"1ms\"\nregistry_rtt = \"2ms\"\n");
        assert_eq!((line, field.as_str()), (3, "runtime.registry_rtt"), "{message}");
        // Rust's type names are said as what the field takes, as in a scenario.
        let (_, field, message) = parse("[kubernetes.kubelet]\nmax_pods = -1\n");
        assert_eq!(field, "kubernetes.kubelet.max_pods");
        // A wrong value is placed at the value, as in a scenario file (it was the key's column).
        let e = apply(&base, "[workload]\n  replicas = \"four\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml: line 2, column 14: `workload.replicas`"), "{e}");
        // Columns count characters, not bytes.
        let e = apply(&base, "workload = { image = \"ñññ\", replicas = \"four\" }\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml: line 1, column 40: `workload.replicas`"), "{e}");
        assert!(
            message.ends_with("expected a whole number from 0 to 4294967295"),
            "{message}"
        );
        let (line, field, message) = parse("[runtime]\nnope = 1\n");
        assert_eq!((line, field.as_str()), (2, "runtime.nope"));
        assert!(message.starts_with("unknown field `nope`"), "{message}");
        assert!(
            !message.contains('\n') && !message.contains("in `runtime`"),
            "{message:?}"
        );
        for text in [
            "x = \n",
            "[runtime]\nregistry_rtt = \"1ms\"\nregistry_rtt = \"2ms\"\n",
            "[runtime]\nnope = 1\n",
        ] {
            let e = apply(&base, text, "p.toml").unwrap_err().to_string();
            assert!(!e.contains("``") && !e.contains('\n'), "{e:?}");
        }
    }

    /// A parameter that makes a field the file does not write wrong (turning the VPN off leaves
    /// workers unreachable) is reported against the combination, not against line 1 of the file.
    #[test]
    fn a_finding_outside_the_file_is_not_given_a_line_of_it() {
        // It names what the file sets instead, where a cause of it is likely to be.
        let e = apply(&thesis(), "[vpn]\nenabled = false\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the scenario with p.toml laid over it (p.toml sets vpn.enabled at line 2): error[E014]"),
            "{e}"
        );
        assert!(!e.contains("line 1, column 1"), "{e}");
        let many = "[vpn]\nenabled = false\nping = \"10s\"\n[runtime]\nsandbox_time = \"1s\"\ncontainer_start_time = \"1s\"\nslots = 1\n";
        let e = apply(&thesis(), many, "p.toml").unwrap_err().to_string();
        assert!(
            e.contains("(p.toml sets vpn.enabled at line 2, vpn.ping at line 3, runtime.sandbox_time at line 5, runtime.container_start_time at line 6, 1 more)"),
            "{e}"
        );
        // A table of an array of tables is one field, at its header.
        let faults = "[vpn]\nenabled = false\n\n[[faults]]\nkind = \"crash\"\nhost = \"lb\"\nat = \"5s\"\n";
        let e = apply(&thesis(), faults, "p.toml").unwrap_err().to_string();
        assert!(
            e.contains("(p.toml sets vpn.enabled at line 2, faults[0] at line 4)"),
            "{e}"
        );
    }
}
