//! The safety check: a rewritten file must have the same syntax tree as the
//! original once the docstrings the writer replaced or inserted are set aside.
//!
//! Both texts are parsed with tree-sitter-python and flattened into a sequence
//! of events: entering a named node, a leaf token with its text (strings and
//! comments count as one token each), leaving the node. Docstring statements
//! the writer touched are left out on both sides. Any difference in the rest
//! (a token, a comment, the nesting of blocks) or a new syntax error means the
//! rewrite is refused.

use std::ops::Range;

use tree_sitter::{Node, Parser, Tree};

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
    let text = crate::python::for_parsing(text);
    let text = text.as_ref();
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .ok()?;
    parser.parse(text, None)
}

/// Checks that `rewritten` differs from `original` only in docstrings:
/// `replaced` are the byte spans of the original docstring literals that were
/// replaced, `written` the spans of every literal written into `rewritten`.
/// Each written literal must be read back as the first statement of its
/// module, class or function body.
pub fn check_rewrite(
    original: &str,
    rewritten: &str,
    replaced: &[Range<usize>],
    written: &[Range<usize>],
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
        return check_trees(&tree, &old_joined, &new_joined, replaced, written);
    }
    check_trees(&old_tree, original, rewritten, replaced, written)
}

fn check_trees(
    old_tree: &Tree,
    original: &str,
    rewritten: &str,
    replaced: &[Range<usize>],
    written: &[Range<usize>],
) -> Result<(), TokenMismatch> {
    let new_tree = parse(rewritten).ok_or(TokenMismatch::Unparsable("rewritten"))?;
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

    let (old_events, old_comments) = flatten(old_root, original, &old_skip);
    let (new_events, new_comments) = flatten(new_root, rewritten, &new_skip);
    compare(&old_events, &new_events, original)?;
    compare(&old_comments, &new_comments, original)
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

/// The tree as events with the byte offset each starts at, skipping the
/// subtrees whose ranges are in `skip`, and the comments apart: tree-sitter
/// attaches a comment to whichever node is open around it, so a comment that
/// opened a body sits outside the body's block until a docstring precedes it.
fn flatten<'a>(root: Node<'_>, text: &'a str, skip: &[Range<usize>]) -> (Events<'a>, Events<'a>) {
    let mut events = Vec::new();
    let mut comments = Vec::new();
    let mut cursor = root.walk();
    let mut descend = true;
    // The module is always one node, even when empty.
    events.push((Event::Enter(root.kind_id()), 0));
    if !cursor.goto_first_child() {
        events.push((Event::Exit, text.len()));
        return (events, comments);
    }
    loop {
        let node = cursor.node();
        if descend {
            let range = node.byte_range();
            // A skipped docstring statement, and the `;` that followed it
            // on a `def` line when the body became a block.
            let skipped = (node.kind() == "expression_statement"
                && skip.iter().any(|r| r.start == range.start))
                || (node.kind() == ";" && skip.iter().any(|r| r.end == range.end));
            if skipped {
                // Leave the subtree out entirely.
            } else if node.kind() == "line_continuation" {
                // A backslash continuation is layout: the writer removes the
                // one between a `def` line and its body when it inserts a
                // docstring there.
            } else if node.kind() == "comment" {
                let token = text.get(range.clone()).unwrap_or("");
                comments.push((Event::Leaf(node.kind_id(), token), range.start));
            } else if node.child_count() == 0 || node.kind() == "string" {
                let token = text.get(range.clone()).unwrap_or("");
                events.push((Event::Leaf(node.kind_id(), token), range.start));
            } else {
                if node.is_named() {
                    events.push((Event::Enter(node.kind_id()), range.start));
                }
                if cursor.goto_first_child() {
                    continue;
                }
            }
        } else if cursor.node().is_named() && cursor.node().child_count() > 0 {
            events.push((Event::Exit, cursor.node().end_byte()));
        }
        if cursor.goto_next_sibling() {
            descend = true;
            continue;
        }
        if !cursor.goto_parent() || cursor.node().id() == root.id() {
            break;
        }
        descend = false;
    }
    events.push((Event::Exit, text.len()));
    (events, comments)
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

    fn one(span: Range<usize>) -> Vec<Range<usize>> {
        vec![span]
    }

    #[test]
    fn an_inserted_docstring_passes() {
        let old = "def f(x):\n    return x\n";
        let new = "def f(x):\n    \"\"\"Doc.\"\"\"\n    return x\n";
        let lit = new.find("\"\"\"").unwrap_or(0);
        assert_eq!(check_rewrite(old, new, &[], &one(lit..lit + 10)), Ok(()));
    }

    #[test]
    fn a_changed_token_is_refused() {
        let old = "def f(x):\n    return x\n";
        let new = "def f(x):\n    \"\"\"Doc.\"\"\"\n    return y\n";
        let lit = new.find("\"\"\"").unwrap_or(0);
        let err = check_rewrite(old, new, &[], &one(lit..lit + 10));
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
        assert!(check_rewrite(old, new, &[], &one(lit..lit + 10)).is_err());
    }

    #[test]
    fn a_changed_block_structure_is_refused() {
        let old = "if a:\n    x = 1\ny = 2\n";
        let new = "if a:\n    x = 1\n    y = 2\n";
        assert!(matches!(
            check_rewrite(old, new, &[], &[]),
            Err(TokenMismatch::CodeChanged { .. })
        ));
    }

    #[test]
    fn a_literal_that_ends_early_is_refused() {
        let old = "def f():\n    pass\n";
        let new = "def f():\n    \"\"\"a\"\"\" b \"\"\"\"\n    pass\n";
        let err = check_rewrite(old, new, &[], &one(13..27));
        assert!(err.is_err(), "{err:?}");
    }

    #[test]
    fn a_string_that_is_not_first_is_not_a_docstring() {
        let old = "def f():\n    pass\n";
        let new = "def f():\n    pass\n    \"\"\"Doc.\"\"\"\n";
        let lit = new.find("\"\"\"").unwrap_or(0);
        assert!(matches!(
            check_rewrite(old, new, &[], &one(lit..lit + 10)),
            Err(TokenMismatch::NotADocstring { .. })
        ));
    }
}
