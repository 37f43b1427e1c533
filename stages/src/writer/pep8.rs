//! The blank lines PEP 8 wants around a definition that a docstring turned
//! from one line (`def f(x): return x`) into a block.
//!
//! Consecutive one-line definitions need no blank lines between them (ruff and
//! pycodestyle exempt them, as E704 allows them), but a block does: two
//! around a top-level definition (E302 before it, E305 after it), one before
//! a method or nested definition that follows other code (E301, E306). Only
//! blank lines are added, never more than the rule asks for, never where a
//! line ends in a backslash continuation, and never at the start of a body.

use std::collections::BTreeMap;
use std::ops::Range;

/// Where blank lines go: byte offset of a line start in the original text,
/// and how many blank lines must stand before that line.
pub type BlankLines = BTreeMap<usize, usize>;

/// The blank lines to add around `expanded` (the spans of definitions,
/// decorators included, written as blocks that were one line) in `text`:
/// offset of a line start, number of blank lines to insert there.
pub fn around_expanded(text: &str, expanded: &[Range<usize>]) -> Vec<(usize, usize)> {
    let lines = Lines::new(text);
    // For each line start: the blank lines wanted before it, and the blank
    // lines it has.
    let mut wanted: BlankLines = BTreeMap::new();
    for span in expanded {
        let Some(first) = lines.index_of(span.start) else {
            continue;
        };
        let indent = lines.indent(first);
        let need = if indent == 0 { 2 } else { 1 };
        // Before: above the comments that sit on the definition.
        let mut top = first;
        while top > 0 && lines.is_comment(top - 1) && lines.indent(top - 1) >= indent {
            top -= 1;
        }
        if let Some(prev) = lines.previous_code(top)
            && lines.indent(prev) >= indent
            && !lines.continues(prev)
        {
            let at = lines.start(top);
            let slot = wanted.entry(at).or_default();
            *slot = (*slot).max(need);
        }
        // After: before the next line of code at the same level.
        let Some(last) = lines.index_of(span.end.saturating_sub(1)) else {
            continue;
        };
        if lines.continues(last) {
            continue;
        }
        let Some(next) = lines.next_code(last + 1) else {
            continue;
        };
        if lines.indent(next) != indent {
            continue;
        }
        let starts_definition = lines.starts_definition(next);
        if indent == 0 || starts_definition {
            let at = lines.start(next);
            let slot = wanted.entry(at).or_default();
            *slot = (*slot).max(need);
        }
    }
    wanted
        .into_iter()
        .filter_map(|(at, need)| {
            let index = lines.index_of(at)?;
            let have = lines.blank_before(index);
            (need > have).then_some((at, need - have))
        })
        .collect()
}

/// The lines of a text, split as Python splits them.
struct Lines<'a> {
    text: &'a str,
    /// Byte ranges of the lines, line endings excluded.
    ranges: Vec<(usize, usize)>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let bytes = text.as_bytes();
        let mut ranges = Vec::new();
        let (mut start, mut i) = (0, 0);
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    ranges.push((start, i));
                    start = i + 1;
                }
                b'\r' => {
                    ranges.push((start, i));
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        if start < bytes.len() {
            ranges.push((start, bytes.len()));
        }
        Lines { text, ranges }
    }

    /// The line holding byte `at`.
    fn index_of(&self, at: usize) -> Option<usize> {
        let i = self.ranges.partition_point(|&(s, _)| s <= at);
        i.checked_sub(1)
    }

    fn start(&self, i: usize) -> usize {
        self.ranges[i].0
    }

    fn line(&self, i: usize) -> &'a str {
        let (s, e) = self.ranges[i];
        &self.text[s..e]
    }

    fn is_blank(&self, i: usize) -> bool {
        self.line(i).trim().is_empty()
    }

    /// A comment line (one that could close a string literal is not taken
    /// for one: no blank line may go into a string).
    fn is_comment(&self, i: usize) -> bool {
        let line = self.line(i);
        line.trim_start().starts_with('#') && !line.contains("\"\"\"") && !line.contains("'''")
    }

    /// Indentation in columns (a tab to the next multiple of 8, as Python).
    fn indent(&self, i: usize) -> usize {
        let mut col = 0;
        for c in self.line(i).chars() {
            match c {
                ' ' => col += 1,
                '\t' => col = (col / 8 + 1) * 8,
                '\x0c' => col = 0,
                _ => break,
            }
        }
        col
    }

    /// The line ends in a backslash continuation: no line may be put after it.
    fn continues(&self, i: usize) -> bool {
        self.line(i).trim_end_matches([' ', '\t']).ends_with('\\')
    }

    fn starts_definition(&self, i: usize) -> bool {
        let code = self.line(i).trim_start();
        code.starts_with('@')
            || ["def ", "class ", "async def "]
                .iter()
                .any(|k| code.starts_with(k))
    }

    /// The nearest line above `i` that is neither blank nor a comment.
    fn previous_code(&self, i: usize) -> Option<usize> {
        (0..i)
            .rev()
            .find(|&j| !self.is_blank(j) && !self.is_comment(j))
    }

    /// The first line from `i` on that is not blank (a comment counts: blank
    /// lines go above it).
    fn next_code(&self, i: usize) -> Option<usize> {
        (i..self.ranges.len()).find(|&j| !self.is_blank(j))
    }

    /// Blank lines directly above line `i`.
    fn blank_before(&self, i: usize) -> usize {
        (0..i).rev().take_while(|&j| self.is_blank(j)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, def: &str) -> Range<usize> {
        let start = text.find(def).unwrap_or_else(|| panic!("{def}"));
        let end = start + text[start..].find('\n').unwrap_or(text.len() - start);
        start..end
    }

    fn blanks(text: &str, defs: &[&str]) -> Vec<(usize, usize)> {
        let spans: Vec<Range<usize>> = defs.iter().map(|d| span(text, d)).collect();
        around_expanded(text, &spans)
            .into_iter()
            .map(|(at, n)| (text[..at].lines().count() + 1, n))
            .collect()
    }

    #[test]
    fn consecutive_top_level_one_liners_get_two_blank_lines() {
        let text = "x = 1\ndef a(): return 1\ndef b(): return 2\nprint(a())\n";
        assert_eq!(
            blanks(text, &["def a", "def b"]),
            vec![(2, 2), (3, 2), (4, 2)]
        );
    }

    #[test]
    fn nested_definitions_get_one_before_and_none_before_other_code() {
        let text = "def f():\n    x = 1\n    def g(): return x\n    return g\n";
        assert_eq!(blanks(text, &["def g"]), vec![(3, 1)]);
    }

    #[test]
    fn nothing_at_the_start_of_a_body_or_after_a_continuation() {
        let text = "class A:\n    def m(self): return 1\nx = 1 + \\\n    2\ndef b(): return 2\n";
        assert_eq!(blanks(text, &["def m"]), vec![]);
        assert_eq!(blanks(text, &["def b"]), vec![(5, 2)]);
    }

    #[test]
    fn blank_lines_already_there_count_and_comments_stay_on_their_def() {
        let text = "import os\n\n# about a\ndef a(): return 1\n\n\nb = 2\n";
        assert_eq!(blanks(text, &["def a"]), vec![(3, 1)]);
    }
}
