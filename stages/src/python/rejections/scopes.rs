//! Rules that depend on where a statement or expression stands: CPython's
//! symbol table and compiler reject `return` outside a function, `yield`
//! outside one (or in a comprehension), `await` and asynchronous
//! constructs outside a coroutine, `break`/`continue` outside a loop,
//! `nonlocal` at module level; its parser rejects an unparenthesized `:=`
//! in most places and Python 2's statements.

use tree_sitter::Node;

use super::{Comprehension, Frame, Scope};
use crate::python::extract::{kind_name, kind_of, named_children};

/// The innermost definition-like scope (comprehensions included), or `None` at module level.
fn innermost(stack: &[Frame]) -> Option<Scope> {
    Frame::scopes(stack).next()
}

/// The innermost function, lambda or class (comprehensions skipped).
fn enclosing_definition(stack: &[Frame]) -> Option<Scope> {
    Frame::scopes(stack).find(|s| !matches!(s, Scope::Comprehension(_)))
}

fn in_loop(stack: &[Frame]) -> bool {
    for f in stack.iter().rev() {
        if f.loop_body {
            return true;
        }
        if matches!(
            f.scope,
            Some(Scope::Function { .. } | Scope::Lambda | Scope::Class)
        ) {
            return false;
        }
    }
    false
}

/// Where an asynchronous construct stands: allowed, or why not.
enum Asynchrony {
    Allowed,
    /// Inside a list, set or dict comprehension that is not in a coroutine.
    Comprehension,
    /// In a function or lambda that is not `async`.
    SyncFunction,
    /// At module or class level.
    Outside,
}

/// Whether an `await` (or an `async for` in a comprehension, `in_comprehension`)
/// may stand at the top of `stack`: a generator expression may become
/// asynchronous anywhere; other comprehensions only inside a coroutine.
fn asynchrony(stack: &[Frame], mut in_comprehension: bool) -> Asynchrony {
    for scope in Frame::scopes(stack) {
        match scope {
            Scope::Comprehension(Comprehension::Generator) => return Asynchrony::Allowed,
            Scope::Comprehension(_) => in_comprehension = true,
            Scope::Function { is_async: true } => return Asynchrony::Allowed,
            Scope::Function { is_async: false } | Scope::Lambda => {
                return if in_comprehension {
                    Asynchrony::Comprehension
                } else {
                    Asynchrony::SyncFunction
                };
            }
            Scope::Class => break,
        }
    }
    if in_comprehension {
        Asynchrony::Comprehension
    } else {
        Asynchrony::Outside
    }
}

const ASYNC_COMPREHENSION: &str = "asynchronous comprehension outside of an asynchronous function";

/// `async for` and `async with` statements outside a coroutine.
pub(super) fn async_statement(node: Node<'_>, kind: &str, stack: &[Frame]) -> Option<String> {
    if node.child(0).is_none_or(|c| kind_of(c) != "async") {
        return None;
    }
    let what = match kind {
        "for_statement" => "for",
        "with_statement" => "with",
        _ => return None,
    };
    match enclosing_definition(stack) {
        Some(Scope::Function { is_async: true }) => None,
        _ => Some(format!("'async {what}' outside async function")),
    }
}

/// Kinds whose direct child may not be an unparenthesized `:=`.
const NO_WALRUS: [&str; 12] = [
    "expression_statement",
    "assignment",
    "augmented_assignment",
    "assert_statement",
    "default_parameter",
    "typed_default_parameter",
    "keyword_argument",
    "lambda",
    "raise_statement",
    "return_statement",
    "with_item",
    "yield",
];

/// The rules for statements and expressions checked by kind.
pub(super) fn check(
    node: Node<'_>,
    kind: &str,
    parent: Option<u16>,
    text: &str,
    stack: &[Frame],
    allowed_future: &[usize],
) -> Option<String> {
    match kind {
        "return_statement" => match enclosing_definition(stack) {
            Some(Scope::Function { .. } | Scope::Lambda) => None,
            _ => Some("'return' outside function".into()),
        },
        "yield" => match innermost(stack) {
            Some(Scope::Comprehension(c)) => Some(format!("'yield' inside {}", c.noun())),
            Some(Scope::Function { .. } | Scope::Lambda) => None,
            _ => Some("'yield' outside function".into()),
        },
        "await" => match asynchrony(stack, false) {
            Asynchrony::Allowed => None,
            Asynchrony::Comprehension => Some(ASYNC_COMPREHENSION.into()),
            Asynchrony::SyncFunction => Some("'await' outside async function".into()),
            Asynchrony::Outside => Some("'await' outside function".into()),
        },
        "for_in_clause" => {
            let is_async = has_token(node, "async");
            // The clause's comprehension is the innermost scope.
            (is_async && !matches!(asynchrony(stack, false), Asynchrony::Allowed))
                .then(|| ASYNC_COMPREHENSION.into())
        }
        "break_statement" => (!in_loop(stack)).then(|| "'break' outside loop".into()),
        "continue_statement" => (!in_loop(stack)).then(|| "'continue' not properly in loop".into()),
        "nonlocal_statement" => innermost(stack)
            .is_none()
            .then(|| "nonlocal declaration not allowed at module level".into()),
        "named_expression" => parent
            .map(kind_name)
            .filter(|p| NO_WALRUS.contains(p))
            .map(|_| {
                "invalid syntax: an assignment expression (`:=`) must be in parentheses here".into()
            }),
        // tree-sitter-python still knows Python 2's statements; `print >>f, x` is also a Python 3 expression.
        "print_statement"
            if node.child_by_field_name("argument").is_some()
                && !named_children(node).any(|c| kind_of(c) == "chevron") =>
        {
            Some("Python 2 `print` statement; call `print(...)`".into())
        }
        "exec_statement" => Some("Python 2 `exec` statement; call `exec(...)`".into()),
        // Python 2's `except X, e:` and `raise X, message`.
        "except_clause" if has_token(node, ",") => {
            Some("multiple exception types must be parenthesized".into())
        }
        "raise_statement" if named_children(node).any(|c| kind_of(c) == "expression_list") => {
            Some("invalid syntax: Python 2 `raise X, message`; raise `X(message)`".into())
        }
        "future_import_statement" => {
            if !allowed_future.contains(&node.id()) {
                Some("`from __future__` imports must occur at the beginning of the file".into())
            } else {
                unknown_future_feature(node, text)
            }
        }
        _ => None,
    }
}

/// Whether `node` has the anonymous token `token` as a direct child.
fn has_token(node: Node<'_>, token: &str) -> bool {
    (0..node.child_count())
        .filter_map(|i| node.child(i))
        .any(|c| !c.is_named() && kind_of(c) == token)
}

/// How much of the top of a module the trees walked so far covered, for
/// a file parsed in pieces: how many statements, and whether all of them
/// were where a `from __future__` import may follow.
#[derive(Debug, Clone, Copy)]
pub(super) struct FuturePrefix {
    statements: usize,
    open: bool,
}

impl Default for FuturePrefix {
    fn default() -> FuturePrefix {
        FuturePrefix {
            statements: 0,
            open: true,
        }
    }
}

/// Ids of the `from __future__` imports that Python allows in the tree at
/// `root`: at the top of the module, after at most a docstring and other
/// future imports (`prefix` says what the trees before it held).
pub(super) fn allowed_future_imports(root: Node<'_>, prefix: &mut FuturePrefix) -> Vec<usize> {
    let mut allowed = Vec::new();
    if !prefix.open {
        return allowed;
    }
    for stmt in named_children(root) {
        let first = prefix.statements == 0;
        prefix.statements += 1;
        match kind_of(stmt) {
            "future_import_statement" => allowed.push(stmt.id()),
            // The module docstring.
            "expression_statement"
                if first
                    && named_children(stmt)
                        .all(|c| matches!(kind_of(c), "string" | "concatenated_string")) => {}
            _ => {
                prefix.open = false;
                break;
            }
        }
    }
    allowed
}

/// Python's compiler refuses a future feature it does not know.
fn unknown_future_feature(node: Node<'_>, text: &str) -> Option<String> {
    const FEATURES: [&str; 10] = [
        "nested_scopes",
        "generators",
        "division",
        "absolute_import",
        "with_statement",
        "print_function",
        "unicode_literals",
        "barry_as_FLUFL",
        "generator_stop",
        "annotations",
    ];
    for child in named_children(node) {
        let name = match kind_of(child) {
            "aliased_import" => child.child_by_field_name("name"),
            "dotted_name" => Some(child),
            _ => None,
        };
        let Some(name) = name else { continue };
        let name = &text[name.start_byte()..name.end_byte()];
        if name == "braces" {
            return Some("not a chance (`from __future__ import braces`)".into());
        }
        if !FEATURES.contains(&name) {
            return Some(format!("future feature `{name}` is not defined"));
        }
    }
    None
}
