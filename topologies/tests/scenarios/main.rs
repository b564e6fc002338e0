//! Integration tests of scenario loading, one module per concern.

mod broken;
mod fuzz;
mod generate;
mod reach;
mod registry;
mod thesis;

/// The built-in thesis scenario's text.
pub(crate) fn thesis_text() -> &'static str {
    topologies::load::builtin("thesis-2019").expect("thesis-2019 is built in")
}

/// The thesis text with the first occurrence of `from` replaced by `to`.
///
/// # Panics
///
/// When `from` does not occur (a test that no longer matches the file).
pub(crate) fn edit(from: &str, to: &str) -> String {
    let t = thesis_text();
    assert!(t.contains(from), "`{from}` is not in thesis-2019.toml");
    t.replacen(from, to, 1)
}

/// 1-based line of the first line of `text` that contains `needle`.
pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not found"))
        + 1
}
mod faults;
mod numeric;
mod scale;
