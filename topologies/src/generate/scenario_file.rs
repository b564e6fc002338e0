//! Writing a generated scenario as a scenario file.

use std::fmt::Write as _;

use models::spec::Scenario;

/// The scenario as a scenario file: a header comment (the name, and the description, which the
/// generators fill with the command line from their options), then `toml::to_string_pretty` of
/// the scenario with every field written out. [`crate::load::load_str`] reads it back to an equal
/// scenario.
pub fn to_toml(s: &Scenario) -> String {
    let mut out = String::new();
    // TOML comments may hold no control character but tab: a name or description with a line
    // break (or any other) is shown on one comment line here, and kept whole in the fields below.
    let printable = |t: &str| t.replace(|c: char| c.is_control() && c != '\n', " ");
    let _ = writeln!(
        out,
        "# {}: a generated kubetwin scenario.",
        printable(&s.name).replace('\n', " ")
    );
    for line in wrap(&printable(&s.description), 94) {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("#\n# Format: topologies/README.md. Generated files write every field out, defaults included.\n\n");
    // Scenario holds only strings, numbers, booleans, arrays and tables, with tables after plain
    // values, so serializing cannot fail.
    out.push_str(&toml::to_string_pretty(s).expect("a Scenario serializes to TOML"));
    out
}

/// Splits `text` into lines of at most `width` characters at spaces (longer words stay whole);
/// existing line breaks are kept.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut cur = String::new();
        for word in para.split_whitespace() {
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        lines.push(cur);
    }
    lines
}
