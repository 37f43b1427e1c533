//! Placing docstring literals into a file's text: replacing an existing
//! literal, inserting a new line at the start of a body, or turning a one-line
//! definition (`def f(x): return x`) into a block. Only whitespace, line
//! endings and the literals themselves are added; code is never touched.

use std::ops::Range;

use docpipe_core::model::{CodeUnit, SourceFile, UnitKind};

use super::escape::docstring_literal;

/// One docstring to put into a file.
#[derive(Debug, Clone)]
pub struct DocEdit<'a> {
    /// The unit it documents.
    pub unit: &'a CodeUnit,
    /// The docstring text (its lines, not yet indented).
    pub body: String,
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
    /// The original docstring literal this replaces, when there was one.
    pub replaces_docstring: bool,
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
        let literal = docstring_literal(&edit.body, indent, newline);
        return Ok(Splice {
            range: doc.span.clone(),
            literal: 0..literal.len(),
            replacement: literal,
            replaces_docstring: true,
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
            replaces_docstring: false,
        });
    }

    let mut offset = check(unit.insertion.offset.min(text.len()))?;
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
    // A blank line between a module or class docstring and the code after it
    // (PEP 257; ruff D204 for a class).
    let rest = &text[offset..];
    if matches!(unit.kind, UnitKind::Module | UnitKind::Class)
        && !rest.is_empty()
        && !starts_with_blank_line(rest)
    {
        replacement.push_str(newline);
    }
    Ok(Splice {
        range: offset..offset,
        replacement,
        literal: start..end,
        replaces_docstring: false,
    })
}

/// Applies `edits` to `file`'s text.
pub fn apply(file: &SourceFile, edits: &[DocEdit<'_>]) -> Result<Rewrite, PlaceError> {
    let mut splices = Vec::with_capacity(edits.len());
    for (i, edit) in edits.iter().enumerate() {
        splices.push((splice_for(file, edit)?, i));
    }
    splices.sort_by_key(|(s, _)| (s.range.start, s.range.end));
    for pair in splices.windows(2) {
        let (a, ia) = &pair[0];
        let (b, ib) = &pair[1];
        if b.range.start < a.range.end || b.range.start == a.range.start {
            return Err(PlaceError::Overlap {
                first: edits[*ia].unit.display_name(),
                second: edits[*ib].unit.display_name(),
                at: b.range.start,
            });
        }
    }
    let text = file.text.as_str();
    let mut out = String::with_capacity(
        text.len()
            + splices
                .iter()
                .map(|(s, _)| s.replacement.len())
                .sum::<usize>(),
    );
    let mut written = vec![0..0; edits.len()];
    let mut replaced = Vec::new();
    let mut cursor = 0;
    for (splice, i) in &splices {
        out.push_str(&text[cursor..splice.range.start]);
        let base = out.len();
        out.push_str(&splice.replacement);
        written[*i] = base + splice.literal.start..base + splice.literal.end;
        if splice.replaces_docstring {
            replaced.push(splice.range.clone());
        }
        cursor = splice.range.end;
    }
    out.push_str(&text[cursor..]);
    Ok(Rewrite {
        text: out,
        replaced,
        written,
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

fn starts_with_blank_line(rest: &str) -> bool {
    let line_len = rest.find(['\n', '\r']).unwrap_or(rest.len());
    rest[..line_len].trim().is_empty()
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
