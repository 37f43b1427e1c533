//! Placing docstring literals into a file's text: replacing an existing
//! literal, inserting a new line at the start of a body, or turning a one-line
//! definition (`def f(x): return x`) into a block. Only whitespace, line
//! endings and the literals themselves are added; code is never touched.

use std::borrow::Cow;
use std::ops::Range;

use docpipe_core::model::{CodeUnit, SourceFile, UnitKind};

use super::escape::docstring_literal;

/// One docstring to put into a file.
#[derive(Debug, Clone)]
pub struct DocEdit<'a> {
    /// The unit it documents.
    pub unit: &'a CodeUnit,
    /// The docstring text (its lines, not yet indented).
    pub body: Cow<'a, str>,
    /// A whole literal to put in place of the unit's docstring instead of one
    /// made from `body` (a person's docstring completed line by line).
    pub literal: Option<Cow<'a, str>>,
}

/// A change to the text: `range` of the original becomes `replacement`, in
/// which the literal sits at `literal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    /// Bytes of the original text that are replaced (empty for an insertion).
    pub range: Range<usize>,
    /// The new text.
    pub replacement: String,
    /// Where the literal is inside `replacement`.
    pub literal: Range<usize>,
    /// The span of the original docstring literal this replaces, when there
    /// was one (inside `range`, which may take more: the `;` after a
    /// docstring on the `def` line).
    pub replaces_docstring: Option<Range<usize>>,
}

/// A file's text after its edits.
#[derive(Debug, Clone)]
pub struct Rewrite {
    /// The new text.
    pub text: String,
    /// Spans of the replaced docstring literals in the original text.
    pub replaced: Vec<Range<usize>>,
    /// Spans of the written literals in the new text, in the order of the edits given.
    pub written: Vec<Range<usize>>,
    /// Every change from the original to the new text, in order.
    pub changes: Vec<super::tokens::Change>,
}

/// Two edits would touch the same place, or an edit points outside the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// Two edits overlap.
    #[error("`{first}` and `{second}` would both write at byte {at}")]
    Overlap {
        /// The first unit.
        first: String,
        /// The second unit.
        second: String,
        /// Byte offset of the conflict.
        at: usize,
    },
    /// An offset from the extractor is not in the text (the file changed?).
    #[error("`{unit}`: position {at} is outside the file or inside a character")]
    OutOfRange {
        /// The unit.
        unit: String,
        /// The offset.
        at: usize,
    },
    /// A one-line body has no colon before it.
    #[error("`{unit}`: no `:` before its one-line body")]
    NoColon {
        /// The unit.
        unit: String,
    },
}

/// The splice that writes `body` as the docstring of `unit` in `file`.
pub fn splice_for(file: &SourceFile, edit: &DocEdit<'_>) -> Result<Splice, PlaceError> {
    let text = file.text.as_str();
    let unit = edit.unit;
    let newline = file.newline.as_str();
    let out_of_range = |at: usize| PlaceError::OutOfRange {
        unit: unit.display_name(),
        at,
    };
    let check = |at: usize| {
        if text.is_char_boundary(at) {
            Ok(at)
        } else {
            Err(out_of_range(at))
        }
    };

    if let Some(doc) = &unit.docstring {
        check(doc.span.start)?;
        check(doc.span.end)?;
        if doc.span.start > doc.span.end {
            return Err(out_of_range(doc.span.start));
        }
        let indent = super::body_indent(unit);
        let literal = edit
            .literal
            .as_deref()
            .map(String::from)
            .unwrap_or_else(|| docstring_literal(&edit.body, indent, newline));
        if let Some(body) = &unit.insertion.inline_body
            && body.start == doc.span.start
        {
            return block_from_inline_docstring(text, unit, &doc.span, literal, indent, newline);
        }
        return Ok(Splice {
            range: doc.span.clone(),
            literal: 0..literal.len(),
            replacement: literal,
            replaces_docstring: Some(doc.span.clone()),
        });
    }

    let indent = unit.insertion.indent.as_str();
    let literal = docstring_literal(&edit.body, indent, newline);

    if let Some(body) = &unit.insertion.inline_body {
        check(body.start)?;
        let before = &text[..body.start];
        let colon = before.trim_end_matches([' ', '\t']);
        if !colon.ends_with(':') {
            return Err(PlaceError::NoColon {
                unit: unit.display_name(),
            });
        }
        let mut replacement = String::with_capacity(literal.len() + 2 * (indent.len() + 2));
        replacement.push_str(newline);
        replacement.push_str(indent);
        let start = replacement.len();
        replacement.push_str(&literal);
        let end = replacement.len();
        replacement.push_str(newline);
        if unit.kind == UnitKind::Class {
            // PEP 257: a blank line between a class docstring and the class body.
            replacement.push_str(newline);
        }
        replacement.push_str(indent);
        return Ok(Splice {
            range: colon.len()..body.start,
            replacement,
            literal: start..end,
            replaces_docstring: None,
        });
    }

    let mut offset = check(unit.insertion.offset.min(text.len()))?;
    // `def g(x):\` then the body on the next line: the backslash would join
    // the docstring line to the `def` line; it goes, the line break stays.
    let before = &text[..offset];
    let continued = before
        .strip_suffix("\r\n")
        .or_else(|| before.strip_suffix('\n'))
        .or_else(|| before.strip_suffix('\r'))
        .and_then(|b| b.strip_suffix('\\'));
    if let Some(head) = continued
        && unit.kind != UnitKind::Module
    {
        let start = head.trim_end_matches([' ', '\t']).len();
        let mut replacement = String::with_capacity(literal.len() + indent.len() + 4);
        replacement.push_str(newline);
        replacement.push_str(indent);
        let literal_start = replacement.len();
        replacement.push_str(&literal);
        let literal_end = replacement.len();
        replacement.push_str(newline);
        return Ok(Splice {
            range: start..offset,
            replacement,
            literal: literal_start..literal_end,
            replaces_docstring: None,
        });
    }
    if unit.kind == UnitKind::Module {
        offset = offset.max(header_end(text));
    }
    let at_line_start = offset == 0 || text[..offset].ends_with(['\n', '\r']);
    let mut replacement = String::with_capacity(literal.len() + indent.len() + 4);
    if !at_line_start {
        replacement.push_str(newline);
    }
    replacement.push_str(indent);
    let start = replacement.len();
    replacement.push_str(&literal);
    let end = replacement.len();
    // At the very end of a file without a final newline, keep it without one.
    if at_line_start || offset < text.len() {
        replacement.push_str(newline);
    }
    // Blank lines between a module or class docstring and the code after
    // it: one (PEP 257; ruff D204 for a class), two before a top-level
    // `def` or `class` (PEP 8; ruff E302).
    let rest = &text[offset..];
    if matches!(unit.kind, UnitKind::Module | UnitKind::Class) && !rest.is_empty() {
        let (blank, next) = blank_lines_before_code(rest);
        let wanted = if unit.kind == UnitKind::Module && starts_definition(past_comments(next)) {
            2
        } else {
            1
        };
        for _ in blank..wanted {
            replacement.push_str(newline);
        }
    }
    Ok(Splice {
        range: offset..offset,
        replacement,
        literal: start..end,
        replaces_docstring: None,
    })
}

/// The splice for a docstring written on the `def` (or `class`) line
/// (`def f(): "doc"; return 1`): the body becomes a block, the docstring on
/// a line of its own and the statements after it on the next (the `;` that
/// separated them goes, as a line break does its work).
fn block_from_inline_docstring(
    text: &str,
    unit: &CodeUnit,
    span: &Range<usize>,
    literal: String,
    indent: &str,
    newline: &str,
) -> Result<Splice, PlaceError> {
    let before = &text[..span.start];
    let colon = before.trim_end_matches([' ', '\t']);
    if !colon.ends_with(':') {
        return Err(PlaceError::NoColon {
            unit: unit.display_name(),
        });
    }
    let mut end = span.end;
    let after = &text[end..];
    let spaced = after.trim_start_matches([' ', '\t']);
    if let Some(rest) = spaced.strip_prefix(';') {
        end += after.len() - rest.len();
        end += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }
    let more = !text[end..].starts_with(['\n', '\r']) && end < text.len();
    let mut replacement = String::with_capacity(literal.len() + 2 * (indent.len() + 2));
    replacement.push_str(newline);
    replacement.push_str(indent);
    let start = replacement.len();
    replacement.push_str(&literal);
    let literal_end = replacement.len();
    if more {
        replacement.push_str(newline);
        if unit.kind == UnitKind::Class {
            replacement.push_str(newline);
        }
        replacement.push_str(indent);
    }
    Ok(Splice {
        range: colon.len()..end,
        replacement,
        literal: start..literal_end,
        replaces_docstring: Some(span.clone()),
    })
}

/// The number of blank lines at the start of `rest`, and the text after them.
fn blank_lines_before_code(rest: &str) -> (usize, &str) {
    let mut count = 0;
    let mut at = rest;
    loop {
        let line_len = at.find(['\n', '\r']).unwrap_or(at.len());
        if !at[..line_len].trim().is_empty() || line_len == at.len() {
            return (count, at);
        }
        count += 1;
        let skip = if at[line_len..].starts_with("\r\n") {
            2
        } else {
            1
        };
        at = &at[line_len + skip..];
    }
}

/// `text` after the comment lines and blank lines it starts with (ruff and
/// pycodestyle count the blank lines above a definition's comments).
fn past_comments(text: &str) -> &str {
    let mut at = text;
    loop {
        let line_len = at.find(['\n', '\r']).unwrap_or(at.len());
        let line = at[..line_len].trim();
        if !(line.is_empty() || line.starts_with('#')) || line_len == at.len() {
            return at;
        }
        let skip = if at[line_len..].starts_with("\r\n") {
            2
        } else {
            1
        };
        at = &at[line_len + skip..];
    }
}

/// Whether `code` starts with a top-level definition (`def`, `async def`,
/// `class`, or a decorator).
fn starts_definition(code: &str) -> bool {
    code.starts_with('@')
        || ["def ", "class ", "async def "]
            .iter()
            .any(|k| code.starts_with(k))
}

/// Applies `edits` to `file`'s text.
///
/// The splices are placed first and their texts made again as the new text
/// is written, and each edit's text is let go (left empty) once written:
/// a big file's replacements held together weighed about as much as the
/// new text itself.
pub fn apply(file: &SourceFile, edits: &mut [DocEdit<'_>]) -> Result<Rewrite, PlaceError> {
    // Where each edit goes (the range it replaces) and the edit's index.
    let mut placed: Vec<(Range<usize>, usize)> = Vec::with_capacity(edits.len());
    let mut added = 0;
    for (i, edit) in edits.iter().enumerate() {
        let splice = splice_for(file, edit)?;
        added += splice.replacement.len();
        placed.push((splice.range, i));
    }
    placed.sort_by_key(|(r, _)| (r.start, r.end));
    for pair in placed.windows(2) {
        let (a, ia) = &pair[0];
        let (b, ib) = &pair[1];
        if b.start < a.end || b.start == a.start {
            return Err(PlaceError::Overlap {
                first: edits[*ia].unit.display_name(),
                second: edits[*ib].unit.display_name(),
                at: b.start,
            });
        }
    }
    let text = file.text.as_str();
    let newline = file.newline.as_str();
    // Blank lines around definitions that became blocks, where no splice
    // starts or runs: (offset, lines), in order.
    let expanded: Vec<Range<usize>> = edits
        .iter()
        .map(|e| e.unit)
        .filter(|u| u.insertion.inline_body.is_some() && u.kind != UnitKind::Module)
        .map(|u| u.span.clone())
        .collect();
    let mut blanks: Vec<(usize, usize)> = Vec::new();
    if !expanded.is_empty() {
        let mut seen = std::collections::HashSet::new();
        for (at, count) in super::pep8::around_expanded(text, &expanded) {
            // The splices are sorted and apart: the one that could hold
            // `at` is the last to start at or before it.
            let before = placed.partition_point(|(r, _)| r.start <= at);
            let inside = before > 0 && {
                let r = &placed[before - 1].0;
                at < r.end.max(r.start + 1)
            };
            if !inside && seen.insert(at) {
                blanks.push((at, count));
            }
        }
        blanks.sort_unstable();
    }
    let blank_bytes: usize = blanks.iter().map(|(_, n)| n * newline.len()).sum();
    let mut out = String::with_capacity(text.len() + added + blank_bytes);
    let mut written = vec![0..0; edits.len()];
    let mut replaced = Vec::new();
    let mut changes = Vec::with_capacity(placed.len() + blanks.len());
    let mut cursor = 0;
    let mut blanks = blanks.into_iter().peekable();
    let mut edits_in_order = placed.into_iter().peekable();
    loop {
        // The next change in the text (no blank line is where a splice starts).
        let blank_first = match (blanks.peek(), edits_in_order.peek()) {
            (Some(&(at, _)), Some((range, _))) => at < range.start,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if blank_first {
            let Some((at, count)) = blanks.next() else {
                break;
            };
            out.push_str(&text[cursor..at]);
            let base = out.len();
            out.push_str(&newline.repeat(count));
            changes.push(super::tokens::Change {
                old: at..at,
                new: base..out.len(),
            });
            cursor = at;
            continue;
        }
        let Some((_, i)) = edits_in_order.next() else {
            break;
        };
        // Made again, as it was placed: `splice_for` depends on its arguments alone.
        let splice = splice_for(file, &edits[i])?;
        edits[i].body = Cow::Borrowed("");
        edits[i].literal = None;
        out.push_str(&text[cursor..splice.range.start]);
        let base = out.len();
        out.push_str(&splice.replacement);
        changes.push(super::tokens::Change {
            old: splice.range.clone(),
            new: base..out.len(),
        });
        written[i] = base + splice.literal.start..base + splice.literal.end;
        if let Some(span) = splice.replaces_docstring {
            replaced.push(span);
        }
        cursor = splice.range.end;
    }
    out.push_str(&text[cursor..]);
    Ok(Rewrite {
        text: out,
        replaced,
        written,
        changes,
    })
}

/// End of the lines a module docstring must not go above: a `#!` line and a
/// PEP 263 coding declaration, which Python only reads on the first two lines.
fn header_end(text: &str) -> usize {
    let mut end = 0;
    for line_no in 0..2 {
        let rest = &text[end..];
        let line_len = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..line_len];
        let is_header = (line_no == 0 && line.starts_with("#!")) || is_coding_line(line);
        if !is_header {
            // A coding line may only follow a comment or blank first line.
            if line_no == 0 && (line.trim_start().starts_with('#') || line.trim().is_empty()) {
                let after = next_line(text, end);
                let second_len = text[after..]
                    .find(['\n', '\r'])
                    .unwrap_or(text.len() - after);
                if is_coding_line(&text[after..after + second_len]) {
                    return next_line(text, after);
                }
            }
            break;
        }
        end = next_line(text, end);
    }
    end
}

fn is_coding_line(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('#')
        && line.contains("coding")
        && (line.contains("coding:") || line.contains("coding="))
}

fn next_line(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    match bytes[from..].iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(i) => {
            let at = from + i;
            if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            }
        }
        None => text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_end_skips_shebang_and_coding() {
        let text = "#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nimport os\n";
        assert_eq!(&text[header_end(text)..], "import os\n");
        let text = "# comment\n# coding=utf-8\nx = 1\n";
        assert_eq!(&text[header_end(text)..], "x = 1\n");
        let text = "# comment\nx = 1\n";
        assert_eq!(header_end(text), 0);
    }
}
