//! The shape of the file: indentation as CPython's tokenizer measures it,
//! a line continuation at the very end, and the nesting limits of its
//! tokenizer and compiler.
//!
//! Indentation: the first token of every logical line (a statement, a
//! clause such as `else:`, a decorator) that starts its physical line and
//! does not follow a `\` continuation is measured twice, with tabs to the
//! next multiple of 8 and with tabs as one column, exactly as
//! `Parser/tokenizer.c` does. The first must match a level on the stack of
//! open indents ("unindent does not match any outer indentation level"),
//! and both measures must order the lines the same way ("inconsistent use
//! of tabs and spaces in indentation").
//!
//! Limits (CPython 3.11): 100 levels of indentation, 200 nested brackets,
//! 20 statically nested blocks (each `for`, `while` and `with` item counts
//! one; a `try` body one per `except` and `finally` it has, an `except`
//! body two plus the `finally`, a `finally` body one; a `def` or `class`
//! starts again at zero), and about 3,000 levels of nested expressions,
//! past which the compiler stops with a RecursionError.

use tree_sitter::Node;

use super::{Rejection, reject};
use crate::python::extract::{kind_of, kind_table};

/// `MAXINDENT` in CPython's tokenizer.
const MAX_INDENT_LEVELS: usize = 100;
/// `MAXLEVEL` in CPython's tokenizer.
const MAX_BRACKETS: usize = 200;
/// `CO_MAXBLOCKS` in CPython's compiler.
pub(super) const MAX_STATIC_BLOCKS: u32 = 20;
/// The deepest tree CPython 3.11 compiles, counted as its `ast` nests
/// (measured: `x = 1+1+...` with 2,990 terms compiles, 2,991 do not).
const MAX_AST_DEPTH: usize = 2992;

/// Kinds with no node of their own in Python's `ast` (a block is a list of
/// statements, a parenthesized expression is the expression): not counted
/// in the nesting depth. Counting too few only makes the check more lenient.
const TRANSPARENT: [&str; 17] = [
    "block",
    "expression_statement",
    "parenthesized_expression",
    "argument_list",
    "pair",
    "decorated_definition",
    "else_clause",
    "finally_clause",
    "with_clause",
    "type",
    "if_clause",
    "default_parameter",
    "typed_default_parameter",
    "string_content",
    "interpolation",
    "comment",
    "line_continuation",
];

/// Whether a kind (by id) has no node of its own in Python's `ast`.
pub(super) fn transparent(kind: u16) -> bool {
    static TABLE: std::sync::OnceLock<Vec<bool>> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| kind_table(&TRANSPARENT))
        .get(usize::from(kind))
        .copied()
        .unwrap_or(false)
}

/// Indentation and nesting state during one walk.
pub(super) struct Layout {
    /// Open indents: (columns with tabs to multiples of 8, columns with tabs as 1).
    indents: Vec<(usize, usize)>,
    /// Start of the last physical line measured.
    last_line: Option<usize>,
    /// End of the last comment the walk saw (a `\` ending it continues nothing).
    last_comment_end: usize,
    /// End of the last expression whose nesting was measured.
    measured_until: usize,
}

impl Layout {
    pub(super) fn new() -> Layout {
        Layout {
            indents: vec![(0, 0)],
            last_line: None,
            last_comment_end: usize::MAX,
            measured_until: 0,
        }
    }

    /// A node that starts a statement or clause (its parent holds statements).
    pub(super) fn statement_start(
        &mut self,
        text: &str,
        node: Node<'_>,
        first: &mut Option<Rejection>,
    ) {
        match kind_of(node) {
            "comment" => {
                self.last_comment_end = node.end_byte();
                return;
            }
            "block" | "line_continuation" => return,
            _ => {}
        }
        let offset = node.start_byte();
        let line = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        if self.last_line == Some(line) {
            return;
        }
        let prefix = &text[line..offset];
        if !prefix.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\x0c')) {
            return;
        }
        self.last_line = Some(line);
        if self.continued(text, line) {
            return;
        }
        let (col, alt) = crate::python::tokenize::columns(prefix.as_bytes());
        let inconsistent = "inconsistent use of tabs and spaces in indentation";
        let &(top, top_alt) = self.indents.last().unwrap_or(&(0, 0));
        if col == top {
            if alt != top_alt {
                reject(first, offset, inconsistent.into());
            }
        } else if col > top {
            if self.indents.len() >= MAX_INDENT_LEVELS {
                reject(first, offset, "too many levels of indentation".into());
                return;
            }
            if alt <= top_alt {
                reject(first, offset, inconsistent.into());
            }
            self.indents.push((col, alt));
        } else {
            while self.indents.len() > 1 && self.indents.last().is_some_and(|&(c, _)| col < c) {
                self.indents.pop();
            }
            let &(top, top_alt) = self.indents.last().unwrap_or(&(0, 0));
            if col != top {
                reject(
                    first,
                    offset,
                    "unindent does not match any outer indentation level".into(),
                );
            } else if alt != top_alt {
                reject(first, offset, inconsistent.into());
            }
        }
    }

    /// Whether the physical line starting at `line` continues the one
    /// before it (that line ends with a `\` outside a comment).
    fn continued(&self, text: &str, line: usize) -> bool {
        let bytes = text.as_bytes();
        let Some(mut end) = line.checked_sub(1) else {
            return false;
        };
        if bytes[end] == b'\n' && end > 0 && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        if end == 0 || bytes[end - 1] != b'\\' {
            return false;
        }
        // A comment's last character, as the walk saw it or as the line reads.
        if self.last_comment_end == end {
            return false;
        }
        let start = text[..end].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        !has_comment(&bytes[start..end])
    }

    /// A node that is an expression or simple statement directly in a
    /// statement container, at `depth` (Python's tree depth around it):
    /// large ones are measured for nesting.
    pub(super) fn expression(
        &mut self,
        text: &str,
        node: Node<'_>,
        depth: usize,
        first: &mut Option<Rejection>,
    ) {
        let (start, end) = (node.start_byte(), node.end_byte());
        if start < self.measured_until {
            return;
        }
        let len = end - start;
        // Each level of nesting takes a byte at least, each bracket level two.
        let deep_enough = len + depth > MAX_AST_DEPTH;
        let bracketed = len > 2 * MAX_BRACKETS
            && text.as_bytes()[start..end]
                .iter()
                .filter(|&&b| matches!(b, b'(' | b'[' | b'{'))
                .count()
                > MAX_BRACKETS;
        if !deep_enough && !bracketed {
            return;
        }
        self.measured_until = end;
        if let Some((at, message)) = nesting(node, depth) {
            reject(first, at, message);
        }
    }
}

/// Whether a physical line (without its line break) has a comment: a `#`
/// outside a string that opens on the line. A heuristic for the rare line
/// ending in `\` whose comment the walk did not see.
fn has_comment(line: &[u8]) -> bool {
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < line.len() {
        match (quote, line[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(line[i]),
            (None, b'#') => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// The brackets and the expression depth inside `node`, which starts at
/// Python tree depth `depth` outside any bracket: the first place past a
/// limit, as (offset, message).
fn nesting(node: Node<'_>, depth: usize) -> Option<(usize, String)> {
    let mut cursor = node.walk();
    // The nodes above the cursor, below `node`: whether each counts as a level, and its kind.
    let mut path: Vec<(bool, &str)> = Vec::new();
    let mut level = depth;
    let mut brackets = 0usize;
    loop {
        let n = cursor.node();
        let kind = kind_of(n);
        let parent_kind = path.last().map_or("", |p| p.1);
        let counts = n.is_named()
            && !transparent(n.kind_id())
            // Python's `a and b and c` is one node, tree-sitter's a chain.
            && !(kind == "boolean_operator" && parent_kind == "boolean_operator");
        level += usize::from(counts);
        if level > MAX_AST_DEPTH {
            return Some((
                n.start_byte(),
                "too deeply nested: Python's compiler stops with \"maximum recursion depth exceeded during compilation\""
                    .into(),
            ));
        }
        if !n.is_named() {
            match kind {
                "(" | "[" | "{" => {
                    brackets += 1;
                    if brackets > MAX_BRACKETS {
                        return Some((n.start_byte(), "too many nested parentheses".into()));
                    }
                }
                ")" | "]" | "}" => brackets = brackets.saturating_sub(1),
                _ => {}
            }
        }
        // Strings are one token to the tokenizer: their braces are not brackets.
        if kind != "string" && cursor.goto_first_child() {
            path.push((counts, kind));
            continue;
        }
        if n.id() == node.id() {
            return None;
        }
        level -= usize::from(counts);
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
            let (counted, _) = path.pop().unwrap_or((false, ""));
            level -= usize::from(counted);
            if cursor.node().id() == node.id() {
                return None;
            }
        }
    }
}

/// A `\` continuation as the last thing in the file (at most a line break
/// after it): CPython's tokenizer reads past the end ("unexpected EOF while
/// parsing"); one inside a comment or a string is just a character.
pub(super) fn continuation_at_end(text: &str, root: Node<'_>) -> Option<Rejection> {
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .or_else(|| text.strip_suffix('\r'))
        .unwrap_or(text);
    if !body.ends_with('\\') {
        return None;
    }
    let at = body.len() - 1;
    let mut node = root.descendant_for_byte_range(at, at + 1);
    while let Some(n) = node {
        if matches!(kind_of(n), "comment" | "string") {
            return None;
        }
        node = n.parent();
    }
    Some(Rejection {
        offset: at,
        message: "unexpected EOF while parsing".into(),
    })
}
