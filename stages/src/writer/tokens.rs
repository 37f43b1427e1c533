//! The safety check: a rewritten file must have the same syntax tree as the
//! original once the docstrings the writer replaced or inserted are set aside.
//!
//! [`check_rewrite`] first asks [`super::lexical`] whether CPython's tokens
//! prove it (the common case, at the cost of two linear scans); only when
//! they do not does the tree comparison below decide.
//!
//! Both texts are parsed with tree-sitter-python and flattened into a sequence
//! of events: entering a named node, a leaf token with its text (strings and
//! comments count as one token each), leaving the node. Docstring statements
//! the writer touched are left out on both sides. Any difference in the rest
//! (a token, a comment, the nesting of blocks) or a new syntax error means the
//! rewrite is refused.
//!
//! The rewritten text is parsed incrementally: the original's tree is edited
//! with the writer's [`Change`]s and tree-sitter reparses only around them,
//! reusing every subtree the changes did not touch. Such a subtree is the
//! same object in both trees (its children are at the same addresses), so
//! its events are equal on both sides by construction and the comparison
//! steps over it; what is compared is the spine down to each change. Before
//! it relies on that, the check makes sure the texts are byte for byte equal
//! outside the changes; when they are not, or the original does not parse
//! cleanly, both texts are parsed and compared whole, as before. This made
//! the check a fraction of the writer's time instead of a quarter of it.

use std::ops::Range;

use tree_sitter::{InputEdit, Node, Point, Tree, TreeCursor};

/// Why a rewrite was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenMismatch {
    /// tree-sitter could not parse one of the texts at all.
    #[error("tree-sitter could not parse the {0} text")]
    Unparsable(&'static str),
    /// The rewritten text has a syntax error the original did not have.
    #[error("the rewritten file would have a syntax error at line {line}")]
    NewSyntaxError {
        /// 1-based line in the rewritten text.
        line: usize,
    },
    /// A written literal is not parsed as the docstring of its definition.
    #[error("the docstring written at line {line} would not be read as a docstring ({why})")]
    NotADocstring {
        /// 1-based line in the rewritten text.
        line: usize,
        /// What the parser saw instead.
        why: String,
    },
    /// A replaced docstring's span does not match a string in the original.
    #[error("the existing docstring at line {line} is not where the extractor said it is")]
    StaleSpan {
        /// 1-based line in the original text.
        line: usize,
    },
    /// Code, a comment or the block structure would change.
    #[error("the code would change near line {line} (was {expected}, would be {found})")]
    CodeChanged {
        /// 1-based line in the original text.
        line: usize,
        /// What the original has there.
        expected: String,
        /// What the rewrite has there.
        found: String,
    },
}

/// Events with the byte offset each starts at.
type Events<'a> = Vec<(Event<'a>, usize)>;

/// One step of the flattened tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event<'a> {
    Enter(u16),
    Leaf(u16, &'a str),
    Exit,
}

/// Parses `text` as Python.
pub fn parse(text: &str) -> Option<Tree> {
    crate::python::parse_tree(text)
}

/// One change a rewrite made: bytes `old` of the original became bytes
/// `new` of the rewritten text. A rewrite's changes are in order and do not
/// overlap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The bytes replaced, in the original (empty for an insertion).
    pub old: Range<usize>,
    /// What replaced them, in the rewritten text.
    pub new: Range<usize>,
}

/// Checks that `rewritten` differs from `original` only in docstrings:
/// `replaced` are the byte spans of the original docstring literals that were
/// replaced, `written` the spans of every literal written into `rewritten`.
/// Each written literal must be read back as the first statement of its
/// module, class or function body.
///
/// `changes` say where the texts differ (see the module documentation);
/// wrong ones cost time, never a wrong answer.
pub fn check_rewrite(
    original: &str,
    rewritten: &str,
    replaced: &[Range<usize>],
    written: &[Range<usize>],
    changes: &[Change],
) -> Result<Proof, TokenMismatch> {
    if super::lexical::proven(original, rewritten, replaced, written) {
        return Ok(Proof::Tokens);
    }
    check_trees_of(original, rewritten, replaced, written, changes).map(|()| Proof::Trees)
}

/// How a rewrite was found safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// CPython's tokens are the same but for docstrings in docstring places
    /// ([`super::lexical`]): Python accepts the new text exactly when it
    /// accepts the original.
    Tokens,
    /// tree-sitter's trees are the same but for the docstring statements.
    Trees,
}

/// The tree-sitter comparison alone (see the module documentation): what
/// [`check_rewrite`] decides with when the tokens prove nothing.
pub fn check_trees_of(
    original: &str,
    rewritten: &str,
    replaced: &[Range<usize>],
    written: &[Range<usize>],
    changes: &[Change],
) -> Result<(), TokenMismatch> {
    let old_tree = parse(original).ok_or(TokenMismatch::Unparsable("original"))?;
    // tree-sitter's indentation scanner trips on lines inside brackets that
    // dedent below their block (the extractor retries the same way): compare
    // copies with those lines joined, and the comments they held apart.
    if old_tree.root_node().has_error()
        && let (Some((old_joined, old_bracket_comments)), Some((new_joined, new_bracket_comments))) = (
            crate::python::brackets::join_bracketed_lines(original),
            crate::python::brackets::join_bracketed_lines(rewritten),
        )
        && let Some(tree) = parse(&old_joined)
        && !tree.root_node().has_error()
    {
        let as_events = |comments: &[(usize, usize)], text: &'_ str| -> Vec<(usize, String)> {
            comments
                .iter()
                .map(|&(a, b)| (a, text[a..b].to_string()))
                .collect()
        };
        let old_c = as_events(&old_bracket_comments, original);
        let new_c = as_events(&new_bracket_comments, rewritten);
        if let Some(i) = (0..old_c.len().max(new_c.len()))
            .find(|&i| old_c.get(i).map(|c| &c.1) != new_c.get(i).map(|c| &c.1))
        {
            return Err(TokenMismatch::CodeChanged {
                line: old_c.get(i).map_or_else(
                    || line_of(original, original.len()),
                    |c| line_of(original, c.0),
                ),
                expected: old_c.get(i).map_or_else(
                    || "the end of the file".to_string(),
                    |c| format!("`{}`", c.1.escape_debug()),
                ),
                found: new_c.get(i).map_or_else(
                    || "the end of the file".to_string(),
                    |c| format!("`{}`", c.1.escape_debug()),
                ),
            });
        }
        let new_tree = parse(&new_joined).ok_or(TokenMismatch::Unparsable("rewritten"))?;
        return check_trees(
            &tree,
            &new_tree,
            &old_joined,
            &new_joined,
            replaced,
            written,
        );
    }
    let new_tree =
        if !old_tree.root_node().has_error() && only_changes(original, rewritten, changes) {
            reparse(&old_tree, original, rewritten, changes)
        } else {
            parse(rewritten)
        }
        .ok_or(TokenMismatch::Unparsable("rewritten"))?;
    check_trees(&old_tree, &new_tree, original, rewritten, replaced, written)
}

/// Whether `original` and `rewritten` are equal outside `changes`, which are
/// in order, within both texts and on character boundaries.
fn only_changes(original: &str, rewritten: &str, changes: &[Change]) -> bool {
    let (mut old_at, mut new_at) = (0, 0);
    for change in changes {
        if change.old.start < old_at
            || change.new.start < new_at
            || change.old.start > change.old.end
            || change.new.start > change.new.end
            || original.get(change.old.clone()).is_none()
            || rewritten.get(change.new.clone()).is_none()
            || original[old_at..change.old.start] != rewritten[new_at..change.new.start]
        {
            return false;
        }
        old_at = change.old.end;
        new_at = change.new.end;
    }
    original[old_at..] == rewritten[new_at..]
}

/// `rewritten` parsed incrementally from `old_tree`, the tree of `original`.
fn reparse(old_tree: &Tree, original: &str, rewritten: &str, changes: &[Change]) -> Option<Tree> {
    let original = crate::python::for_parsing(original);
    let rewritten = crate::python::for_parsing(rewritten);
    // Positions of each change's ends in the original, in one pass.
    let mut ends = Vec::with_capacity(changes.len());
    let mut at = (0, Point::new(0, 0));
    for change in changes {
        let start = advance(at.1, &original.as_bytes()[at.0..change.old.start]);
        let end = advance(start, &original.as_bytes()[change.old.clone()]);
        ends.push((start, end));
        at = (change.old.end, end);
    }
    let mut edited = old_tree.clone();
    // Last first, so that each edit's offsets are still the original's.
    for (change, (start, old_end)) in changes.iter().zip(ends).rev() {
        edited.edit(&InputEdit {
            start_byte: change.old.start,
            old_end_byte: change.old.end,
            new_end_byte: change.old.start + change.new.len(),
            start_position: start,
            old_end_position: old_end,
            new_end_position: advance(start, &rewritten.as_bytes()[change.new.clone()]),
        });
    }
    crate::python::reparse_tree(&rewritten, &edited)
}

/// `from` moved past `bytes` (rows at `\n`, columns in bytes, as tree-sitter counts).
fn advance(from: Point, bytes: &[u8]) -> Point {
    match memchr::memrchr(b'\n', bytes) {
        Some(last) => Point::new(
            from.row + memchr::memchr_iter(b'\n', bytes).count(),
            bytes.len() - last - 1,
        ),
        None => Point::new(from.row, from.column + bytes.len()),
    }
}

fn check_trees(
    old_tree: &Tree,
    new_tree: &Tree,
    original: &str,
    rewritten: &str,
    replaced: &[Range<usize>],
    written: &[Range<usize>],
) -> Result<(), TokenMismatch> {
    let old_root = old_tree.root_node();
    let new_root = new_tree.root_node();
    if new_root.has_error() && !old_root.has_error() {
        return Err(TokenMismatch::NewSyntaxError {
            line: first_error_line(new_root),
        });
    }

    let mut old_skip = Vec::with_capacity(replaced.len());
    for span in replaced {
        let statement =
            docstring_statement(old_root, span).map_err(|_| TokenMismatch::StaleSpan {
                line: line_of(original, span.start),
            })?;
        // A `;` after a docstring on the `def` line goes with it when the
        // body becomes a block.
        let mut range = statement.byte_range();
        if let Some(next) = statement.next_sibling()
            && next.kind() == ";"
        {
            range.end = next.end_byte();
        }
        old_skip.push(range);
    }
    let mut new_skip = Vec::with_capacity(written.len());
    for span in written {
        let statement =
            docstring_statement(new_root, span).map_err(|why| TokenMismatch::NotADocstring {
                line: line_of(rewritten, span.start),
                why,
            })?;
        new_skip.push(statement.byte_range());
    }

    let mut old = Walk::new(old_root, original, &old_skip);
    let mut new = Walk::new(new_root, rewritten, &new_skip);
    // Step the side that is behind; when both stand at the same place of
    // their event streams, a subtree both trees share is stepped over.
    // Events are compared as soon as both sides have them, and dropped.
    let (mut old_events, mut new_events) = (Vec::new(), Vec::new());
    while !(old.done && new.done) {
        if old_events.is_empty()
            && new_events.is_empty()
            && let (Some(a), Some(b)) = (old.next_node(), new.next_node())
            && same_subtree(a, b)
        {
            old.step_over(&mut old_events);
            new.step_over(&mut new_events);
        } else if !old.done && (new.done || old_events.len() <= new_events.len()) {
            old.step(&mut old_events);
        } else {
            new.step(&mut new_events);
        }
        let ready = old_events.len().min(new_events.len());
        if ready > 0 {
            compare(&old_events[..ready], &new_events[..ready], original)?;
            old_events.drain(..ready);
            new_events.drain(..ready);
        }
    }
    compare(&old_events, &new_events, original)?;
    compare(&old.comments, &new.comments, original)
}

/// Whether `a` (of the original's tree) and `b` (of the rewritten one's)
/// are one subtree the incremental parse reused: their children are the
/// same memory. A node's id is the address of its slot in its parent's
/// children, so two distinct subtrees alive at once never share a first
/// child's id.
fn same_subtree(a: Node<'_>, b: Node<'_>) -> bool {
    a.kind_id() == b.kind_id()
        && a.child_count() > 0
        && a.child_count() == b.child_count()
        && a.byte_range().len() == b.byte_range().len()
        && a.child(0).map(|c| c.id()) == b.child(0).map(|c| c.id())
}

/// The first difference between two event sequences, as an error.
fn compare(
    old_events: &[(Event<'_>, usize)],
    new_events: &[(Event<'_>, usize)],
    original: &str,
) -> Result<(), TokenMismatch> {
    let mut old_iter = old_events.iter();
    let mut new_iter = new_events.iter();
    loop {
        match (old_iter.next(), new_iter.next()) {
            (None, None) => return Ok(()),
            (a, b) if a.map(|x| &x.0) == b.map(|x| &x.0) => {}
            (a, b) => {
                let line = a.map_or_else(
                    || line_of(original, original.len()),
                    |x| line_of(original, x.1),
                );
                return Err(TokenMismatch::CodeChanged {
                    line,
                    expected: describe(a.map(|x| &x.0)),
                    found: describe(b.map(|x| &x.0)),
                });
            }
        }
    }
}

/// The expression statement holding the docstring literal at `span`, checked
/// to be the first statement of a module or of a class or function body.
fn docstring_statement<'t>(root: Node<'t>, span: &Range<usize>) -> Result<Node<'t>, String> {
    let node = root
        .descendant_for_byte_range(span.start, span.end)
        .ok_or_else(|| "nothing there".to_string())?;
    if node.byte_range() != *span
        || !matches!(
            node.kind(),
            "string" | "concatenated_string" | "parenthesized_expression"
        )
    {
        return Err(format!("found `{}` instead of one string", node.kind()));
    }
    let statement = node
        .parent()
        .filter(|p| p.kind() == "expression_statement" && p.named_child_count() == 1)
        .ok_or_else(|| "the string is part of a larger expression".to_string())?;
    let body = statement
        .parent()
        .ok_or_else(|| "the string is not inside a body".to_string())?;
    let is_body = match body.kind() {
        "module" => true,
        "block" => body
            .parent()
            .is_some_and(|d| matches!(d.kind(), "function_definition" | "class_definition")),
        _ => false,
    };
    if !is_body {
        return Err(format!("the string sits in a `{}`", body.kind()));
    }
    let mut cursor = body.walk();
    let first = body
        .named_children(&mut cursor)
        .find(|c| c.kind() != "comment")
        .map(|c| c.id());
    if first != Some(statement.id()) {
        return Err("the string is not the first statement of its body".to_string());
    }
    Ok(statement)
}

/// A walk over a tree that gives its events (entering a named node, a
/// leaf token with its text, leaving the node) with the byte offset each
/// starts at, one node at a time, skipping the subtrees whose ranges are in
/// `skip`, with the comments apart: tree-sitter attaches a comment to
/// whichever node is open around it, so a comment that opened a body sits
/// outside the body's block until a docstring precedes it.
struct Walk<'a, 't> {
    cursor: TreeCursor<'t>,
    root: Node<'t>,
    text: &'a str,
    skip: &'a [Range<usize>],
    /// The cursor's node is still to be entered (else it was left).
    descend: bool,
    /// The root's first event is given.
    started: bool,
    done: bool,
    comments: Events<'a>,
}

impl<'a, 't> Walk<'a, 't> {
    fn new(root: Node<'t>, text: &'a str, skip: &'a [Range<usize>]) -> Walk<'a, 't> {
        Walk {
            cursor: root.walk(),
            root,
            text,
            skip,
            descend: true,
            started: false,
            done: false,
            comments: Vec::new(),
        }
    }

    /// The node the next step enters, if it enters one.
    fn next_node(&self) -> Option<Node<'t>> {
        (self.started && self.descend && !self.done).then(|| self.cursor.node())
    }

    /// Leaves out the node the next step would enter, and all it holds.
    fn step_over(&mut self, events: &mut Events<'a>) {
        if self.advance() {
            events.push((Event::Exit, self.text.len()));
        }
    }

    /// One step: enters or leaves one node, adding its events to `events`.
    fn step(&mut self, events: &mut Events<'a>) {
        if self.done {
            return;
        }
        if !self.started {
            self.started = true;
            // The module is always one node, even when empty.
            events.push((Event::Enter(self.root.kind_id()), 0));
            if !self.cursor.goto_first_child() {
                events.push((Event::Exit, self.text.len()));
                self.done = true;
            }
            return;
        }
        let node = self.cursor.node();
        if self.descend {
            let range = node.byte_range();
            // A skipped docstring statement, and the `;` that followed it
            // on a `def` line when the body became a block.
            let skipped = (node.kind() == "expression_statement"
                && self.skip.iter().any(|r| r.start == range.start))
                || (node.kind() == ";" && self.skip.iter().any(|r| r.end == range.end));
            if skipped {
                // Leave the subtree out entirely.
            } else if node.kind() == "line_continuation" {
                // A backslash continuation is layout: the writer removes the
                // one between a `def` line and its body when it inserts a
                // docstring there.
            } else if node.kind() == "comment" {
                let token = self.text.get(range.clone()).unwrap_or("");
                self.comments
                    .push((Event::Leaf(node.kind_id(), token), range.start));
            } else if node.child_count() == 0 || node.kind() == "string" {
                let token = self.text.get(range.clone()).unwrap_or("");
                events.push((Event::Leaf(node.kind_id(), token), range.start));
            } else {
                if node.is_named() {
                    events.push((Event::Enter(node.kind_id()), range.start));
                }
                if self.cursor.goto_first_child() {
                    return;
                }
            }
        } else if node.is_named() && node.child_count() > 0 {
            events.push((Event::Exit, node.end_byte()));
        }
        if self.advance() {
            events.push((Event::Exit, self.text.len()));
        }
    }

    /// Moves to the next sibling, or up to the parent to leave it; returns
    /// true when the walk just ended.
    fn advance(&mut self) -> bool {
        if self.cursor.goto_next_sibling() {
            self.descend = true;
            return false;
        }
        if !self.cursor.goto_parent() || self.cursor.node().id() == self.root.id() {
            self.done = true;
            return true;
        }
        self.descend = false;
        false
    }
}

fn describe(event: Option<&Event<'_>>) -> String {
    let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
    let kind = |id: u16| language.node_kind_for_id(id).unwrap_or("?").to_string();
    match event {
        None => "the end of the file".to_string(),
        Some(Event::Enter(id)) => format!("the start of a `{}`", kind(*id)),
        Some(Event::Exit) => "the end of a block".to_string(),
        Some(Event::Leaf(_, text)) => {
            let shown: String = text.chars().take(40).collect();
            format!("`{}`", shown.escape_debug())
        }
    }
}

fn first_error_line(root: Node<'_>) -> usize {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            return node.start_position().row + 1;
        }
        let child = (0..node.child_count())
            .filter_map(|i| node.child(i))
            .find(|c| c.has_error());
        match child {
            Some(c) => cursor.reset(c),
            None => return node.start_position().row + 1,
        }
    }
}

/// 1-based line of byte `offset` in `text` (any line ending counts).
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let bytes = &text.as_bytes()[..offset.min(text.len())];
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => line += 1,
            _ => {}
        }
        i += 1;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokens_prove_the_common_case_and_the_trees_decide_the_rest() {
        let old = "def f(a):\n    return a\n";
        let new = "def f(a):\n    \"\"\"Doc.\"\"\"\n    return a\n";
        let lit = new.find("\"\"\"").expect("literal");
        assert_eq!(
            check_rewrite(old, new, &[], &one(lit..lit + 10), &[]),
            Ok(Proof::Tokens)
        );
        let future = "from __future__ import annotations\n";
        let documented = "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\n";
        assert_eq!(
            check_rewrite(future, documented, &[], &one(0..10), &[]),
            Ok(Proof::Trees)
        );
        let new = "def f(a):\n    \"\"\"Doc.\"\"\"\n    return b\n";
        assert!(check_rewrite(old, new, &[], &one(lit..lit + 10), &[]).is_err());
    }

    fn one(span: Range<usize>) -> Vec<Range<usize>> {
        vec![span]
    }

    #[test]
    fn an_inserted_docstring_passes() {
        let old = "def f(x):\n    return x\n";
        let new = "def f(x):\n    \"\"\"Doc.\"\"\"\n    return x\n";
        let lit = new.find("\"\"\"").unwrap_or(0);
        assert_eq!(
            check_trees_of(old, new, &[], &one(lit..lit + 10), &[]),
            Ok(())
        );
    }

    #[test]
    fn a_changed_token_is_refused() {
        let old = "def f(x):\n    return x\n";
        let new = "def f(x):\n    \"\"\"Doc.\"\"\"\n    return y\n";
        let lit = new.find("\"\"\"").unwrap_or(0);
        let err = check_trees_of(old, new, &[], &one(lit..lit + 10), &[]);
        assert!(
            matches!(err, Err(TokenMismatch::CodeChanged { line: 2, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn a_changed_comment_is_refused() {
        let old = "def f(x):\n    # keep\n    return x\n";
        let new = "def f(x):\n    \"\"\"Doc.\"\"\"\n    # kept\n    return x\n";
        let lit = new.find("\"\"\"").unwrap_or(0);
        assert!(check_trees_of(old, new, &[], &one(lit..lit + 10), &[]).is_err());
    }

    #[test]
    fn a_changed_block_structure_is_refused() {
        let old = "if a:\n    x = 1\ny = 2\n";
        let new = "if a:\n    x = 1\n    y = 2\n";
        assert!(matches!(
            check_trees_of(old, new, &[], &[], &[]),
            Err(TokenMismatch::CodeChanged { .. })
        ));
    }

    #[test]
    fn a_literal_that_ends_early_is_refused() {
        let old = "def f():\n    pass\n";
        let new = "def f():\n    \"\"\"a\"\"\" b \"\"\"\"\n    pass\n";
        let err = check_trees_of(old, new, &[], &one(13..27), &[]);
        assert!(err.is_err(), "{err:?}");
    }

    #[test]
    fn a_string_that_is_not_first_is_not_a_docstring() {
        let old = "def f():\n    pass\n";
        let new = "def f():\n    pass\n    \"\"\"Doc.\"\"\"\n";
        let lit = new.find("\"\"\"").unwrap_or(0);
        assert!(matches!(
            check_trees_of(old, new, &[], &one(lit..lit + 10), &[]),
            Err(TokenMismatch::NotADocstring { .. })
        ));
    }

    /// `old` with `edits` (original range, replacement) applied, and the changes.
    fn rewrite(old: &str, edits: &[(Range<usize>, &str)]) -> (String, Vec<Change>) {
        let mut new = String::new();
        let mut changes = Vec::new();
        let mut at = 0;
        for (range, replacement) in edits {
            new.push_str(&old[at..range.start]);
            let start = new.len();
            new.push_str(replacement);
            changes.push(Change {
                old: range.clone(),
                new: start..new.len(),
            });
            at = range.end;
        }
        new.push_str(&old[at..]);
        (new, changes)
    }

    /// A module of `n` functions, each with a comment and nested blocks.
    fn module(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "def f{i}(a, b=[{i}]):\n    # note {i}\n    if a:\n        return (a,\n  b)\n    return {{'k': b}}\n\n\n"
                )
            })
            .collect()
    }

    #[test]
    fn incremental_check_accepts_docstrings_and_finds_any_other_change() {
        let old = module(50);
        let body = |i: usize| {
            old.find(&format!("def f{i}("))
                .map(|d| d + old[d..].find('\n').unwrap_or(0) + 1)
                .unwrap_or(0)
        };
        let (a, b) = (body(3), body(40));
        let doc = "    \"\"\"Doc.\"\"\"\n";
        let (new, changes) = rewrite(&old, &[(a..a, doc), (b..b, doc)]);
        let lit = |at: usize| at + 4..at + 4 + 10;
        let written = vec![lit(a), lit(b + doc.len())];
        assert!(only_changes(&old, &new, &changes));
        assert_eq!(check_trees_of(&old, &new, &[], &written, &changes), Ok(()));

        // A changed token inside a change, in code, in a comment, in the block structure.
        for (bad, what) in [
            ("    \"\"\"Doc.\"\"\"\n    x = 1\n", "code"),
            ("    \"\"\"Doc.\"\"\"\n    # new comment\n", "comment"),
        ] {
            let (new, changes) = rewrite(&old, &[(a..a, doc), (b..b, bad)]);
            assert!(
                check_trees_of(&old, &new, &[], &written, &changes).is_err(),
                "{what} added inside a change was not seen"
            );
        }
        let dedent = old[b..].find("    return {").map_or(0, |i| b + i);
        let (new, changes) = rewrite(&old, &[(a..a, doc), (dedent..dedent + 4, "")]);
        assert!(check_trees_of(&old, &new, &[], &[lit(a)], &changes).is_err());
    }

    #[test]
    fn changes_that_do_not_describe_the_texts_fall_back_on_a_whole_comparison() {
        let old = module(20);
        let a = old.find("def f5(").unwrap_or(0);
        let a = a + old[a..].find('\n').unwrap_or(0) + 1;
        let doc = "    \"\"\"Doc.\"\"\"\n";
        let (mut new, changes) = rewrite(&old, &[(a..a, doc)]);
        // A token changed outside every change: the changes no longer tell the truth.
        let far = new.rfind("return {'k': b}").unwrap_or(0);
        new.replace_range(far + 9..far + 10, "j");
        assert!(!only_changes(&old, &new, &changes));
        let err = check_trees_of(&old, &new, &[], &one(a + 4..a + 14), &changes);
        assert!(
            matches!(err, Err(TokenMismatch::CodeChanged { .. })),
            "{err:?}"
        );
    }
}
