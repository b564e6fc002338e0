//! Loading scenarios from TOML: parse, check, and say where any problem is.
//!
//! Every error names the file (or the origin given), the 1-based line and column, the field path
//! (`kubernetes.kubelet.kube_api_qps`, `links[3].delay`) and what is expected. Parse errors take
//! their position from the TOML parser's span and their path from `serde_path_to_error`; the
//! semantic checks of [`crate::check`] are placed by finding the field's key in the text
//! (the crate-private `locate` module). No input makes these functions panic.
//!
//! ```
//! let (scenario, origin) = topologies::load::by_name_or_path("thesis-2019").unwrap();
//! assert_eq!(scenario.hosts.len(), 11);
//! assert!(origin.contains("thesis-2019"));
//!
//! let err = topologies::load::load_str("name = 3", "mine.toml").unwrap_err().to_string();
//! assert!(err.starts_with("mine.toml: line 1, column 8: `name`"), "{err}");
//! ```

use std::path::Path;

use models::spec::Scenario;
use serde_path_to_error::Segment;

use crate::check;
use crate::error::{Diagnostic, ScenarioError};
use crate::locate::{line_col, path_at_line, Locator};

/// The built-in scenarios: (name, TOML text).
pub const BUILTINS: &[(&str, &str)] = &[("thesis-2019", include_str!("../scenarios/thesis-2019.toml"))];

/// A scenario that passed every check, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The scenario.
    pub scenario: Scenario,
    /// Where it came from: the path as given, or `NAME (built-in)`.
    pub origin: String,
    /// Findings of warning checks (`W…` codes), in file order.
    pub warnings: Vec<Diagnostic>,
}

/// The TOML text of the built-in scenario `name`.
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The names of the built-in scenarios.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _)| *n).collect()
}

/// Parses and checks `text`; `origin` names it in errors (usually the file name).
///
/// # Errors
///
/// [`ScenarioError::Parse`] for TOML that does not parse or does not fit the scenario's fields,
/// [`ScenarioError::Invalid`] with every finding when semantic checks fail.
pub fn load_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    load_str_with_warnings(text, origin).map(|l| l.scenario)
}

/// [`load_str`], keeping the warnings.
///
/// # Errors
///
/// As [`load_str`].
pub fn load_str_with_warnings(text: &str, origin: &str) -> Result<Loaded, ScenarioError> {
    load_str_at(text, origin, check::Size::OfTheFile)
}

/// [`load_str_with_warnings`], judging the workload's size only at `size`
/// [`check::Size::OfTheFile`].
fn load_str_at(text: &str, origin: &str, size: check::Size) -> Result<Loaded, ScenarioError> {
    let scenario = parse_str(text, origin)?;
    let (errors, warnings) = check::located(&scenario, text, origin, size);
    if !errors.is_empty() {
        let mut diagnostics = errors;
        diagnostics.extend(warnings);
        return Err(ScenarioError::Invalid {
            origin: origin.to_owned(),
            diagnostics,
        });
    }
    Ok(Loaded {
        scenario,
        origin: origin.to_owned(),
        warnings,
    })
}

/// Reads and checks the scenario file at `path`.
///
/// # Errors
///
/// [`ScenarioError::Read`] when the file cannot be read, else as [`load_str`] (a file that is
/// not UTF-8 is a [`ScenarioError::Parse`] at the first bad byte).
pub fn load_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
    load_file_with_warnings(path).map(|l| l.scenario)
}

/// [`load_file`], keeping the warnings.
///
/// # Errors
///
/// As [`load_file`].
pub fn load_file_with_warnings(path: impl AsRef<Path>) -> Result<Loaded, ScenarioError> {
    load_file_at(path.as_ref(), check::Size::OfTheFile)
}

/// [`load_file_with_warnings`], judging the workload's size only at `size`
/// [`check::Size::OfTheFile`].
fn load_file_at(path: &Path, size: check::Size) -> Result<Loaded, ScenarioError> {
    let origin = path.display().to_string();
    let bytes = crate::file::read_capped(path, crate::file::SCENARIO).map_err(|source| ScenarioError::Read {
        path: origin.clone(),
        source,
    })?;
    let text = utf8(&bytes, &origin)?;
    load_str_at(text, &origin, size)
}

/// The 1-based line where the scenario text `text` writes `field` (a path such as `faults[0]` or
/// `netem.far`), if it writes it.
pub fn line_of(text: &str, field: &str) -> Option<usize> {
    let loc = crate::locate::Locator::new(text);
    loc.writes(field).then(|| loc.locate(field).0)
}

/// A built-in scenario by name (`thesis-2019`), else the file at that path; returns the scenario
/// and its origin.
///
/// # Errors
///
/// [`ScenarioError::NotFound`] when `s` is neither a built-in name nor an existing file, else as
/// [`load_file`].
pub fn by_name_or_path(s: &str) -> Result<(Scenario, String), ScenarioError> {
    by_name_or_path_with_warnings(s).map(|l| (l.scenario, l.origin))
}

/// [`by_name_or_path`], keeping the warnings.
///
/// # Errors
///
/// As [`by_name_or_path`].
pub fn by_name_or_path_with_warnings(s: &str) -> Result<Loaded, ScenarioError> {
    by_name_or_path_at(s, check::Size::OfTheFile)
}

/// [`by_name_or_path_with_warnings`], judging the workload's size (E021, E034) only at `size`
/// [`check::Size::OfTheFile`]: a command that runs sizes of its own passes
/// [`check::Size::Given`] and judges them with [`check::workload_fits`].
///
/// # Errors
///
/// As [`by_name_or_path`].
pub fn by_name_or_path_at(s: &str, size: check::Size) -> Result<Loaded, ScenarioError> {
    if let Some(text) = builtin(s) {
        return load_str_at(text, &format!("{s} (built-in)"), size);
    }
    match load_file_at(s.as_ref(), size) {
        Err(ScenarioError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Err(ScenarioError::NotFound {
                name: s.to_owned(),
                builtins: builtin_names().join(", "),
                source,
            })
        }
        other => other,
    }
}

/// [`by_name_or_path_with_warnings`], except that a scenario whose only errors are E014 (hosts
/// that cannot reach the load balancer or the masters) loads anyway, with those errors: what
/// `kubetwin reach` needs to show who reaches whom in exactly such a scenario.
///
/// # Errors
///
/// As [`by_name_or_path_with_warnings`], for every other error.
pub fn by_name_or_path_despite_unreachable(s: &str) -> Result<(Loaded, Vec<Diagnostic>), ScenarioError> {
    let e = match by_name_or_path_with_warnings(s) {
        Ok(loaded) => return Ok((loaded, Vec::new())),
        Err(e) => e,
    };
    let errors: Vec<Diagnostic> = e
        .diagnostics()
        .iter()
        .filter(|d| d.severity == crate::error::Severity::Error)
        .cloned()
        .collect();
    if errors.is_empty() || errors.iter().any(|d| d.code != "E014") {
        return Err(e);
    }
    let (text, origin) = match builtin(s) {
        Some(text) => (text.to_owned(), format!("{s} (built-in)")),
        None => {
            let bytes = crate::file::read_capped(s.as_ref(), crate::file::SCENARIO)
                .map_err(|source| ScenarioError::Read { path: s.into(), source })?;
            (utf8(&bytes, s)?.to_owned(), s.to_owned())
        }
    };
    let scenario = parse_str(&text, &origin)?;
    Ok((
        Loaded {
            scenario,
            warnings: Vec::new(),
            origin,
        },
        errors,
    ))
}

/// `bytes` as text, or a [`ScenarioError::Parse`] at the first byte that is not UTF-8 (its line,
/// column and the field it falls in).
pub(crate) fn utf8<'a>(bytes: &'a [u8], origin: &str) -> Result<&'a str, ScenarioError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        // The prefix is valid UTF-8 by construction.
        let prefix = std::str::from_utf8(good).unwrap_or_default();
        let (line, column) = line_col(prefix, prefix.len());
        ScenarioError::Parse {
            origin: origin.to_owned(),
            line,
            column,
            field: path_at_line(prefix, line),
            message: "the file is not UTF-8 text; expected a UTF-8 TOML file".to_owned(),
        }
    })
}

/// The scenario's sections that are one table each (`[vpn]`, not `[[vpn]]`).
const ONE_TABLE_SECTIONS: &[&str] = &[
    "vpn",
    "vpn.topology",
    "haproxy",
    "kubernetes",
    "kubernetes.apiserver",
    "kubernetes.etcd",
    "kubernetes.controller_manager",
    "kubernetes.scheduler",
    "kubernetes.kubelet",
    "kubernetes.node",
    "runtime",
    "workload",
    "netem",
];

/// The dotted field path (`hosts[4].site`) of a deserialization error.
pub(crate) fn field_path(path: &serde_path_to_error::Path) -> String {
    let mut field = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => field.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(key);
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    field
}

/// Parses `text` into a [`Scenario`] without the semantic checks.
///
/// # Errors
///
/// [`ScenarioError::Parse`], placed at the parser's span and named by the field being read.
pub fn parse_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let de = toml::Deserializer::new(text);
    let err = match serde_path_to_error::deserialize::<_, Scenario>(de) {
        Ok(s) => return Ok(s),
        Err(e) => e,
    };
    let mut field = field_path(err.path());
    let inner = err.into_inner();
    let mut message = one_line(inner.message());
    // A TOML date or time where the field takes something else reaches serde as a table with
    // a private key: say what it is.
    const DATETIME_KEY: &str = "$__toml_private_datetime";
    let datetime_here = inner
        .span()
        .and_then(|span| text.get(span.start..))
        .is_some_and(starts_with_a_date);
    if field.contains(DATETIME_KEY)
        || message.contains(DATETIME_KEY)
        || (datetime_here && message.starts_with("invalid type: map"))
    {
        field = field.replace(&format!(".{DATETIME_KEY}"), "");
        message = "a TOML date or time is not a value here; expected what the field takes (durations and names are quoted strings, such as \"30s\")".into();
    }
    name_field_from_message(&mut field, &mut message);
    let mut message = plain_numbers(&message);
    if message.starts_with(WANTED_NAME) && field.starts_with("faults[") && field.ends_with(".kind") {
        message =
            format!("{WANTED_NAME}: \"crash\", \"crash-etcd-leader\", \"partition\", \"isolate-site\" or \"degrade\"");
    }
    // `[[haproxy]]` for `[haproxy]`: serde reads the array as the struct's fields in order and
    // complains about the first one's type, which says nothing of the real mistake.
    // The error may sit deeper (`[[kubernetes]]` then `[kubernetes.apiserver]` fails at
    // `kubernetes[0].apiserver`): the longest section whose `[0]` starts the path.
    let misplaced = ONE_TABLE_SECTIONS
        .iter()
        .filter(|s| {
            field
                .strip_prefix(**s)
                .and_then(|rest| rest.strip_prefix("[0]"))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
        .max_by_key(|s| s.len())
        .copied();
    if let Some(section) = misplaced {
        message = format!(
            "`{section}` is one table: write [{section}], not [[{section}]] (an array of tables); serde said: {message}"
        );
        field = section.to_owned();
    }
    let (line, column) = match inner.span() {
        Some(span) => line_col(text, span.start),
        None if !field.is_empty() => Locator::new(text).locate(&field),
        None => (1, 1),
    };
    // toml gives no reason, or a misleading one ("expected newline, `#`" beside a `#`), for a
    // control character where none may be (a comment, a string, a lone CR of old Mac line
    // endings); say what is there.
    let message = explained(message, inner.span().and_then(|span| text.get(span.start..)));
    let message = with_value_line(message, text);
    if field.is_empty() {
        field = path_at_line(text, line);
    }
    Err(ScenarioError::Parse {
        origin: origin.to_owned(),
        line,
        column,
        field,
        message,
    })
}

/// Whether `t` begins with a TOML local date, `YYYY-MM-DD`.
fn starts_with_a_date(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// toml reports a table header that extends a key given a plain value (`kubernetes = 5`, then
/// `[kubernetes.apiserver]`) at the header; says where the value was given, the line to fix.
fn with_value_line(message: String, text: &str) -> String {
    let Some(key) = message
        .split_once("dotted key `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(key, _)| key.to_owned())
        .filter(|_| message.contains("attempted to extend non-table type"))
    else {
        return message;
    };
    // A top-level key: before the first table header, outside multi-line strings (a value
    // inside a table would be a dotted key of that table, whose line this does not guess).
    let mut in_string = false;
    let mut given = None;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start().trim_start_matches('\u{feff}');
        if !in_string && t.starts_with('[') {
            break;
        }
        if !in_string
            && t.strip_prefix(key.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            given = Some(i);
            break;
        }
        if (l.matches("\"\"\"").count() + l.matches("'''").count()) % 2 == 1 {
            in_string = !in_string;
        }
    }
    match given {
        Some(i) => format!(
            "{message}: `{key}` was given a value at line {}; expected a table there ([{key}] or {key} = {{ ... }})",
            i + 1
        ),
        None => message,
    }
}

/// A toml or serde message on one line: its non-empty lines, trimmed, joined with "; " (toml's
/// may run over several: "invalid table header\nexpected newline").
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// serde names an unknown or a missing field only in its message ("unknown field `x`, expected
/// one of ..."): carries the name into `field` (once: the path may already end with it), and
/// says of a missing one that it has no default.
pub(crate) fn name_field_from_message(field: &mut String, message: &mut String) {
    for (prefix, extra) in [
        ("unknown field `", ""),
        ("missing field `", "; expected it in this table (it has no default)"),
    ] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        if let Some(end) = rest.find('`') {
            let name = &rest[..end];
            if field != name && !field.ends_with(&format!(".{name}")) {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(name);
            }
            message.push_str(extra);
        }
        return;
    }
}

/// toml's `message` for a syntax error at `here` (the text from the error's span on), or what
/// is there where toml gives no reason, or a misleading one ("expected newline, `#`" beside a
/// `#`), for a control character where none may be (a comment, a string, a lone CR of old Mac
/// line endings).
pub(crate) fn explained(message: String, here: Option<&str>) -> String {
    if message.is_empty() || here.is_some_and(starts_with_forbidden_control) {
        unexplained_parse_error(here.and_then(|t| t.chars().next()))
    } else {
        message
    }
}

/// What an enum field given another type than a string is told (toml: "wanted string or table").
const WANTED_NAME: &str = "expected one of the names this field takes, as a quoted string";

/// serde's messages name Rust's number types at their end ("invalid value: integer `-1`,
/// expected u32") and its structs ("expected struct FaultRecord"), and TOML's overflow names
/// none ("number too large to fit in target type"), nor does an unclosed string say it is one;
/// say what the field takes instead. Only the end is rewritten: text before it may quote the
/// user's own value.
pub fn plain_numbers(message: &str) -> String {
    const TYPES: [(&str, &str); 6] = [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number from 0 to 4294967295"),
        (
            "expected u64",
            "expected a whole number from 0 to 9223372036854775807 (TOML's largest)",
        ),
        (
            "expected usize",
            "expected a whole number from 0 to 9223372036854775807 (TOML's largest)",
        ),
        ("expected f64", "expected a number"),
    ];
    // serde names the Rust struct a table was expected for: say "a table" (and for a fault,
    // what one looks like).
    if let Some(head) = message.strip_suffix("expected struct FaultRecord") {
        return format!(
            "{head}expected a fault table, such as {{ kind = \"crash\", host = \"master02\", at = \"30s\" }} or a [[faults]] section (topologies/README.md, `[[faults]]`)"
        );
    }
    // The one table whose variant takes no field (`[vpn.topology]` of kind "full-mesh").
    if let Some(head) = message.strip_suffix(", there are no fields") {
        return format!("{head}; this kind takes no other field (\"hub-and-spoke\" takes `hub`)");
    }
    if let Some((head, _)) = message.rsplit_once("expected struct ") {
        return format!("{head}expected a table (a [section] or {{ key = value, ... }})");
    }
    if let Some(head) = message.strip_suffix("expected a sequence") {
        return format!("{head}expected an array: [ ... ] (or, for a list of tables, [[section]] entries)");
    }
    if message == "wanted string or table" {
        return format!("{WANTED_NAME} (topologies/README.md lists them)");
    }
    if message == "invalid basic string" || message == "invalid literal string" {
        return format!(
            "{message}: expected its closing quote on the same line (a string spanning lines takes triple quotes)"
        );
    }
    if message.ends_with("number too large to fit in target type") {
        return format!(
            "{message}; expected a whole number of at most 9223372036854775807 (TOML's largest integer; counts take at most 4294967295)"
        );
    }
    for (rust, plain) in TYPES {
        if let Some(head) = message.strip_suffix(rust) {
            return format!("{head}{plain}");
        }
    }
    message.to_owned()
}

/// Whether `t` starts with a control character TOML allows nowhere: any but tab and line feed,
/// and a carriage return not followed by a line feed.
pub(crate) fn starts_with_forbidden_control(t: &str) -> bool {
    let mut chars = t.chars();
    match chars.next() {
        Some('\t' | '\n') | None => false,
        Some('\r') => chars.next() != Some('\n'),
        Some(c) => c.is_control(),
    }
}

/// What to say where TOML does not parse, from the character there (`None`: the end of the
/// text): a control character is named; else the parser gave no reason.
pub(crate) fn unexplained_parse_error(here: Option<char>) -> String {
    match here {
        Some('\r') => "a carriage return not followed by a line feed: TOML lines end with LF or CRLF (a file saved with old Mac line endings? convert them with `tr '\\r' '\\n'`)".into(),
        Some(c) if c.is_control() && c != '\t' => format!(
            "control character U+{:04X} is not allowed here: TOML allows only tab among control characters, in comments and strings alike; expected it removed",
            u32::from(c)
        ),
        Some(c) => format!("TOML does not parse at `{}`; expected a key, a value or a [section] here", c.escape_debug()),
        None => "TOML does not parse at the end of the file; expected a value or a closing bracket or quote".into(),
    }
}
