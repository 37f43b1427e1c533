//! Where a part of a unit's docstring is written in the file, so that a
//! finding about one entry or section points at its own line, as ruff's do.
//!
//! The literal's source lines are searched (not its value, so a line number
//! stays right whatever escapes the literal holds). A part that cannot be
//! found (a generated docstring being checked, an unusual layout) falls back
//! to the docstring's first line.

use docpipe_core::model::CodeUnit;

/// The source lines of a unit's docstring literal.
pub struct DocLocator<'a> {
    lines: Vec<&'a str>,
    /// 1-based line and column of the literal's start.
    start: (usize, usize),
}

impl<'a> DocLocator<'a> {
    /// The locator of `unit`'s docstring (or of its definition when it has none).
    pub fn new(unit: &'a CodeUnit) -> DocLocator<'a> {
        let Some(ds) = &unit.docstring else {
            return DocLocator {
                lines: Vec::new(),
                start: (unit.line, unit.column),
            };
        };
        let literal = ds
            .span
            .start
            .checked_sub(unit.span.start)
            .zip(ds.span.end.checked_sub(unit.span.start))
            .and_then(|(from, to)| unit.source.get(from..to))
            .unwrap_or("");
        DocLocator {
            lines: split_lines(literal),
            start: (ds.line, ds.indent.chars().count() + 1),
        }
    }

    /// The docstring's first line and column.
    pub fn start(&self) -> (usize, usize) {
        self.start
    }

    /// The first line after the opening one that `wanted` accepts (given
    /// the line without its indentation), with the column of its first
    /// character; the docstring's start when none does.
    fn find(&self, wanted: impl Fn(&str) -> bool) -> (usize, usize) {
        self.lines
            .iter()
            .enumerate()
            .skip(1)
            .find_map(|(i, line)| {
                let text = line.trim_start();
                let indent = line.len() - text.len();
                wanted(text).then(|| (self.start.0 + i, line[..indent].chars().count() + 1))
            })
            .unwrap_or(self.start)
    }

    /// The entry documenting parameter `name`: `name:`, `name (type):`,
    /// `*name:`, `name : type`, `x, name : type`, or a Sphinx field naming it
    /// (`:param name:`, `:param int name:`, `:keyword name:`).
    pub fn param(&self, name: &str) -> (usize, usize) {
        self.find(|line| {
            if let Some(spec) = sphinx_spec(line) {
                let mut words = spec.split_whitespace();
                let kind = words.next().unwrap_or("");
                return PARAM_FIELDS.contains(&kind)
                    && spec
                        .split_whitespace()
                        .last()
                        .is_some_and(|n| bare_name(n) == name);
            }
            entry_head(line).split(',').any(|n| bare_name(n) == name)
        })
    }

    /// The entry documenting exception `name` (or its last dotted component).
    pub fn exception(&self, name: &str) -> (usize, usize) {
        let last = name.rsplit('.').next().unwrap_or(name);
        let matches = |n: &str| n == name || n.rsplit('.').next() == Some(last);
        self.find(|line| {
            if let Some(spec) = sphinx_spec(line) {
                let mut words = spec.split_whitespace();
                return RAISES_FIELDS.contains(&words.next().unwrap_or(""))
                    && words.next().is_some_and(matches);
            }
            let head = line.split(':').next().unwrap_or("").trim();
            (line.contains(':') && matches(head)) || line == name
        })
    }

    /// The header of a section with one of `titles` (Google `Returns:`,
    /// NumPy `Returns` over dashes) or a Sphinx field of one of `fields`.
    pub fn section(&self, titles: &[&str], fields: &[&str]) -> (usize, usize) {
        self.find(|line| {
            if let Some(spec) = sphinx_spec(line) {
                return fields.contains(&spec.split_whitespace().next().unwrap_or(""));
            }
            let title = line.strip_suffix(':').unwrap_or(line).trim();
            titles.iter().any(|t| t.eq_ignore_ascii_case(title))
        })
    }
}

/// Sphinx field markers that document a parameter.
const PARAM_FIELDS: [&str; 11] = [
    "param",
    "parameter",
    "arg",
    "argument",
    "key",
    "keyword",
    "kwarg",
    "kwparam",
    "type",
    "ptype",
    "kwtype",
];

/// Sphinx field markers that document an exception.
const RAISES_FIELDS: [&str; 4] = ["raises", "raise", "except", "exception"];

/// Google's and NumPy's titles of a Returns section.
pub const RETURNS_TITLES: [&str; 2] = ["Returns", "Return"];
/// Sphinx fields of a return value.
pub const RETURNS_FIELDS: [&str; 3] = ["returns", "return", "rtype"];
/// Google's and NumPy's titles of a Yields section.
pub const YIELDS_TITLES: [&str; 2] = ["Yields", "Yield"];
/// Sphinx fields of yielded values.
pub const YIELDS_FIELDS: [&str; 3] = ["yields", "yield", "ytype"];

/// A documented name without its stars, escaped (`\*\*kwargs`) or not.
fn bare_name(name: &str) -> &str {
    name.trim().trim_start_matches(['*', '\\'])
}

/// `spec` of a line `:spec: ...`.
fn sphinx_spec(line: &str) -> Option<&str> {
    let inner = line.strip_prefix(':')?;
    let end = inner.find(':')?;
    Some(&inner[..end])
}

/// The names part of an entry's first line: before ` (`, `:` or ` :`; the
/// whole line when it is a bare name (a NumPy entry without a type). Empty
/// when the line reads as prose.
fn entry_head(line: &str) -> &str {
    let end = line.find([':', '(']).unwrap_or(line.len());
    let head = line[..end].trim_end();
    let is_names = !head.is_empty()
        && head.split(',').all(|n| {
            let n = bare_name(n);
            !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    if is_names { head } else { "" }
}

/// Lines as Python splits them (`\n`, `\r\n` or a lone `\r`).
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    lines.push(&text[start..]);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locator(literal: &str) -> DocLocator<'_> {
        DocLocator {
            lines: split_lines(literal),
            start: (10, 5),
        }
    }

    #[test]
    fn entries_are_found_in_each_style() {
        let google = locator(
            "\"\"\"Do it.\n\n    Args:\n        x (int): The x.\n        *rest: More.\n    \"\"\"",
        );
        assert_eq!(google.param("x"), (13, 9));
        assert_eq!(google.param("rest"), (14, 9));
        assert_eq!(google.param("missing"), (10, 5));
        let numpy = locator(
            "\"\"\"Do it.\n\nParameters\n----------\nx, y : int\n    Both.\nz\n    Alone.\n\"\"\"",
        );
        assert_eq!(numpy.param("y"), (14, 1));
        assert_eq!(numpy.param("z"), (16, 1));
        let sphinx = locator("'''Do it.\n\r\n:param int x: The x.\r\n:keyword y: The y.\r\n'''");
        assert_eq!(sphinx.param("x"), (12, 1));
        assert_eq!(sphinx.param("y"), (13, 1));
    }

    #[test]
    fn prose_that_starts_with_a_name_is_not_an_entry() {
        let doc = locator("\"\"\"Do it.\n\nx is scaled first.\n\nArgs:\n    x: The x.\n\"\"\"");
        assert_eq!(doc.param("x"), (15, 5));
    }

    #[test]
    fn sections_and_exceptions_are_found() {
        let doc = locator(
            "\"\"\"Do it.\n\nReturns:\n    int: One.\n\nRaises:\n    errors.ParseError: Bad.\n\"\"\"",
        );
        assert_eq!(doc.section(&RETURNS_TITLES, &RETURNS_FIELDS), (12, 1));
        assert_eq!(doc.exception("ParseError"), (16, 5));
        let sphinx = locator("\"\"\"Do it.\n\n:returns: One.\n:raises ValueError: Bad.\n\"\"\"");
        assert_eq!(sphinx.section(&RETURNS_TITLES, &RETURNS_FIELDS), (12, 1));
        assert_eq!(sphinx.exception("ValueError"), (13, 1));
    }
}
