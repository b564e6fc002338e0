//! Mapping between byte offsets, lines and field paths of a scenario's TOML text.
//!
//! Semantic checks run on the parsed [`models::spec::Scenario`], which has forgotten where each
//! value was written. To still name a line, the text is parsed a second time with `toml_edit`,
//! which keeps the span of every key, and the finding's field path (`hosts[4].site`) is walked
//! down that document. A field left to its default has no key: the nearest written ancestor
//! (the `[[hosts]]` header, the `[kubernetes.kubelet]` table) is named instead, and line 1 when
//! nothing is written at all.

use std::collections::HashMap;
use std::ops::Range;

use toml_edit::{Array, ArrayOfTables, ImDocument, InlineTable, Item, Table, Value};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Splits `a.b[3].c` into its steps. Keys are not quoted in kubetwin's paths.
pub(crate) fn parse_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            let key = &rest[..open];
            if !key.is_empty() {
                out.push(Seg::Key(key.to_owned()));
            }
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(close) = stripped.find(']') else { break };
                if let Ok(i) = stripped[..close].parse() {
                    out.push(Seg::Index(i));
                }
                rest = &stripped[close + 1..];
            }
        } else if !rest.is_empty() {
            out.push(Seg::Key(rest.to_owned()));
        }
    }
    out
}

/// 1-based line and column (in characters) of byte `offset` in `text`. Offsets past the end
/// name the end; offsets inside a multi-byte character name that character.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

enum Node<'a> {
    Table(&'a Table),
    Inline(&'a InlineTable),
    Array(&'a Array),
    Tables(&'a ArrayOfTables),
    Leaf,
}

fn node_of_item(item: &Item) -> Node<'_> {
    match item {
        Item::Table(t) => Node::Table(t),
        Item::ArrayOfTables(a) => Node::Tables(a),
        Item::Value(v) => node_of_value(v),
        Item::None => Node::Leaf,
    }
}

fn node_of_value(v: &Value) -> Node<'_> {
    match v {
        Value::Array(a) => Node::Array(a),
        Value::InlineTable(t) => Node::Inline(t),
        _ => Node::Leaf,
    }
}

/// Finds fields of one scenario text.
pub(crate) struct Locator<'a> {
    text: &'a str,
    doc: Option<ImDocument<&'a str>>,
}

impl<'a> Locator<'a> {
    /// Parses `text` once for its spans (a text that is not TOML locates everything at line 1).
    pub(crate) fn new(text: &'a str) -> Self {
        Locator {
            text,
            doc: ImDocument::parse(text).ok(),
        }
    }

    /// Line and column of `path`'s key (or array element), or of its nearest written ancestor.
    pub(crate) fn locate(&self, path: &str) -> (usize, usize) {
        self.find(path).unwrap_or((1, 1))
    }

    /// Line and column of `path` (or of its nearest written ancestor), if the text writes any
    /// part of it.
    pub(crate) fn find(&self, path: &str) -> Option<(usize, usize)> {
        self.span_of(path).map(|span| line_col(self.text, span.start))
    }

    /// Whether the text writes `path` itself (not only an ancestor of it).
    pub(crate) fn writes(&self, path: &str) -> bool {
        self.walk(path).is_some_and(|(_, whole)| whole)
    }

    /// The fields the text sets, as paths (`vpn.enabled`, `faults[0]`) with the line of each, in
    /// file order: the values under its tables, and each table of an array of tables as one
    /// field (an overlay's array replaces the base's whole), as is an inline table or an array.
    pub(crate) fn written_fields(&self) -> Vec<(String, usize)> {
        fn table(prefix: &str, t: &Table, text: &str, out: &mut Vec<(String, usize)>) {
            for (k, item) in t.iter() {
                let path = if prefix.is_empty() {
                    k.to_owned()
                } else {
                    format!("{prefix}.{k}")
                };
                match item {
                    Item::Table(t) => table(&path, t, text, out),
                    Item::ArrayOfTables(a) => {
                        for (i, t) in a.iter().enumerate() {
                            let line = t.span().map_or(1, |s| line_col(text, s.start).0);
                            out.push((format!("{path}[{i}]"), line));
                        }
                    }
                    Item::Value(v) => {
                        let span = t.key(k).and_then(toml_edit::Key::span).or_else(|| v.span());
                        out.push((path, span.map_or(1, |s| line_col(text, s.start).0)));
                    }
                    Item::None => {}
                }
            }
        }
        let mut out = Vec::new();
        if let Some(doc) = &self.doc {
            table("", doc.as_table(), self.text, &mut out);
        }
        out.sort_by_key(|&(_, line)| line);
        out
    }

    fn span_of(&self, path: &str) -> Option<Range<usize>> {
        self.walk(path).and_then(|(span, _)| span)
    }

    /// The span of `path`'s deepest written part, and whether every segment of it was found.
    fn walk(&self, path: &str) -> Option<(Option<Range<usize>>, bool)> {
        let doc = self.doc.as_ref()?;
        let mut node = Node::Table(doc.as_table());
        let mut found = None;
        for seg in parse_path(path) {
            let next = match (&node, &seg) {
                (Node::Table(t), Seg::Key(k)) => t
                    .get_key_value(k)
                    .map(|(key, item)| (key.span().or_else(|| item.span()), node_of_item(item))),
                (Node::Inline(t), Seg::Key(k)) => t
                    .get_key_value(k)
                    .map(|(key, item)| (key.span().or_else(|| item.span()), node_of_item(item))),
                (Node::Tables(a), Seg::Index(i)) => a.get(*i).map(|t| (t.span(), Node::Table(t))),
                (Node::Array(a), Seg::Index(i)) => a.get(*i).map(|v| (v.span(), node_of_value(v))),
                _ => None,
            };
            let Some((span, n)) = next else {
                return Some((found, false));
            };
            if span.is_some() {
                found = span;
            }
            node = n;
        }
        Some((found, true))
    }
}

/// A best guess at the field path written on `line` (1-based), for errors of a text that is not
/// valid TOML, where no parser can say which field it was reading: the last table header at or
/// above the line (`[[links]]` headers counted, so the third is `links[2]`), then the key whose
/// value the line is in. That is the key on the line, or, when the line continues a value left
/// open above it (an array not yet closed, a multi-line string), the key that opened it: a parser
/// stopping at `download_bandwidth = ...` under `registry_rtt = [1,` blames the unclosed array.
pub(crate) fn path_at_line(text: &str, line: usize) -> String {
    let mut header = String::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut key = String::new();
    let mut value = OpenValue::default();
    for (i, l) in text.lines().enumerate().take(line.max(1)) {
        let this_line = i + 1 == line;
        if value.is_open() {
            value.scan(l);
            continue;
        }
        key.clear();
        let t = l.trim();
        if let Some(inner) = t.strip_prefix("[[") {
            if let Some(end) = inner.find("]]") {
                let name = inner[..end].trim().to_owned();
                let n = counts.entry(name.clone()).or_insert(0);
                header = format!("{name}[{n}]");
                *n += 1;
            }
        } else if let Some(inner) = t.strip_prefix('[') {
            if let Some(end) = inner.find(']') {
                header = inner[..end].trim().to_owned();
            }
        } else if !t.starts_with('#') {
            if let Some(eq) = key_value_separator(t) {
                let k = t[..eq].trim();
                let plausible = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'' | ' '));
                if plausible {
                    key = k.replace(['"', '\'', ' '], "");
                }
                value.scan(&t[eq + 1..]);
            }
        }
        if this_line {
            break;
        }
    }
    match (header.is_empty(), key.is_empty()) {
        (true, true) => "(top level)".to_owned(),
        (true, false) => key,
        (false, true) => header,
        (false, false) => format!("{header}.{key}"),
    }
}

/// Where the `=` between a line's key and its value is: the first one outside a quoted key
/// (`"a=b" = 1`).
fn key_value_separator(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) => {
                if !escaped && c == q {
                    quote = None;
                }
                escaped = q == '"' && !escaped && c == '\\';
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '=' => return Some(i),
            None => {}
        }
    }
    None
}

/// Where `delim` (`\"\"\"` or `'''`) closes a multi-line string in `text`; a basic string's
/// escaped quote (`\\"`) does not close it.
fn closing(text: &str, delim: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if !escaped && text[i..].starts_with(delim) {
            return Some(i);
        }
        escaped = delim == "\"\"\"" && !escaped && c == '\\';
    }
    None
}

/// What of a TOML value is still open at the end of a line: brackets and braces, or a
/// multi-line string. Brackets inside strings and comments do not count.
#[derive(Debug, Default)]
struct OpenValue {
    /// Arrays and inline tables opened and not closed.
    depth: usize,
    /// The delimiter of the multi-line string the line ends in, if any.
    multi_line: Option<&'static str>,
}

impl OpenValue {
    /// Whether the next line continues this value.
    fn is_open(&self) -> bool {
        self.depth > 0 || self.multi_line.is_some()
    }

    /// Reads one line (or the part after `=`) of the value.
    fn scan(&mut self, line: &str) {
        let mut rest = line;
        loop {
            if let Some(delim) = self.multi_line {
                match closing(rest, delim) {
                    Some(end) => {
                        self.multi_line = None;
                        rest = &rest[end + delim.len()..];
                    }
                    None => return,
                }
            }
            let Some(at) = rest.find(['#', '"', '\'', '[', ']', '{', '}']) else {
                return;
            };
            let c = rest.as_bytes()[at];
            let after = &rest[at + 1..];
            match c {
                b'#' => return,
                b'[' | b'{' => {
                    self.depth += 1;
                    rest = after;
                }
                b']' | b'}' => {
                    self.depth = self.depth.saturating_sub(1);
                    rest = after;
                }
                quote => {
                    let triple = if quote == b'"' { "\"\"\"" } else { "'''" };
                    if rest[at..].starts_with(triple) {
                        self.multi_line = Some(triple);
                        rest = &rest[at + 3..];
                    } else {
                        // A one-line string: to its closing quote, past escapes in a basic one.
                        let mut escaped = false;
                        let close = after.char_indices().find(|&(_, ch)| {
                            let closes = !escaped && ch == char::from(quote);
                            escaped = quote == b'"' && !escaped && ch == '\\';
                            closes
                        });
                        match close {
                            Some((end, _)) => rest = &after[end + 1..],
                            None => return,
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            parse_path("hosts[4].site"),
            vec![Seg::Key("hosts".into()), Seg::Index(4), Seg::Key("site".into())]
        );
        assert_eq!(
            parse_path("a[1][2]"),
            vec![Seg::Key("a".into()), Seg::Index(1), Seg::Index(2)]
        );
        assert!(parse_path("").is_empty());
    }

    #[test]
    fn line_and_column_count_characters() {
        let t = "a = 1\nµb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 8), (2, 2)); // after the two-byte µ
        assert_eq!(line_col(t, 7), (2, 1)); // inside µ
        assert_eq!(line_col(t, 999), (3, 1));
    }

    #[test]
    fn locator_finds_keys_elements_and_ancestors() {
        let t = "name = \"x\"\n[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"b\"\nsite = \"s\"\n\
                 [haproxy]\nbackends = [\"m1\",\n  \"m2\"]\n[kubernetes]\nkubelet.kube_api_qps = 3\n";
        let l = Locator::new(t);
        assert_eq!(l.locate("hosts[1].site"), (6, 1));
        assert_eq!(l.locate("hosts[1].role"), (4, 1)); // not written: the header
        assert_eq!(l.locate("haproxy.backends[1]"), (9, 3));
        assert_eq!(l.locate("kubernetes.kubelet.kube_api_qps"), (11, 9));
        assert_eq!(l.locate("kubernetes.kubelet.event_qps"), (11, 1));
        assert_eq!(l.locate("nothing.here"), (1, 1));
    }

    #[test]
    fn path_guess_uses_headers_and_keys() {
        let t = "name = \"x\"\n[[links]]\na = \"p\"\n[[links]]\ndelay = \"1\n[vpn]\n";
        assert_eq!(path_at_line(t, 1), "name");
        assert_eq!(path_at_line(t, 5), "links[1].delay");
        assert_eq!(path_at_line(t, 6), "vpn");
        assert_eq!(path_at_line("", 1), "(top level)");
    }

    #[test]
    fn path_guess_blames_the_key_whose_value_is_left_open() {
        // An unclosed array: the parser stops at the next key, the guess names the array's.
        let t = "[runtime]\nregistry_rtt = [1,\ndownload_bandwidth = \"31Mbit\"\n";
        assert_eq!(path_at_line(t, 3), "runtime.registry_rtt");
        // A closed multi-line array, a multi-line string, brackets in strings and comments.
        let t = "a = [\n 1,\n]\nb = \"\"\"x [\ny\"\"\"\nc = \"[\" # [\nd = 1\n";
        assert_eq!(path_at_line(t, 2), "a");
        assert_eq!(path_at_line(t, 4), "b");
        assert_eq!(path_at_line(t, 5), "b");
        assert_eq!(path_at_line(t, 6), "c");
        assert_eq!(path_at_line(t, 7), "d");
        // An escaped quote does not end a basic string; a literal string has no escapes.
        let t = "e = \"a\\\" [\"\nf = 'a\\' \ng = 1\n";
        assert_eq!(path_at_line(t, 2), "f");
        assert_eq!(path_at_line(t, 3), "g");
        // An `=` inside a quoted key (a key kubetwin's paths cannot name: only its table is
        // named, not the next line's `c`), an escaped quote inside a multi-line basic string.
        assert_eq!(path_at_line("[s]\n\"a=b\" = [1,\nc = 2\n", 3), "s");
        let t = "a = \"\"\"x \\\"\"\" y\nz = 1\"\"\"\nb = [1,\nc = 2\n";
        assert_eq!(path_at_line(t, 2), "a");
        assert_eq!(path_at_line(t, 4), "b");
    }
}
