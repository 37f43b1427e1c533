//! Code that tree-sitter's grammar accepts and CPython rejects.
//!
//! tree-sitter-python is a forgiving grammar: it parses `return` at module
//! level, `def g(x=1, y)`, `0777`, `"\N{NO SUCH NAME}"`, a tab/space mix or
//! an unindent to no outer level without an error. CPython's tokenizer,
//! parser, symbol table and compiler reject all of them. A file Python
//! rejects must be reported (`DP003`) and never rewritten, so the
//! extractor runs these checks on every file that parses (the writer also
//! asks the user's own Python when there is one: [`super::verdict`]).
//!
//! The checks, by where CPython makes them (messages as CPython 3.11 words them):
//!
//! - [`layout`]: an unindent that matches no outer level, tabs and spaces
//!   mixed inconsistently, 100 levels of indentation, a `\` continuation
//!   at the end of the file, more than 200 nested brackets, more than 20
//!   statically nested blocks, expressions nested past the compiler's
//!   recursion limit;
//! - [`scopes`]: `return`, `yield`, `await`, `break`, `continue`,
//!   `async for`/`async with` and asynchronous comprehensions where they
//!   are not allowed, `nonlocal` at module level, an unparenthesized `:=`
//!   where an expression statement, assignment, `return` and the like take
//!   none, Python 2's `print` and `exec` statements, misplaced or unknown
//!   `from __future__` imports;
//! - [`signature`]: a bare `*` without keyword-only parameters, a parameter
//!   without default after one with, duplicate parameter names,
//!   parenthesized (Python 2 tuple) parameters;
//! - [`literals`]: decimal integers with leading zeros (`0777`), Python 2
//!   `L` suffixes, unknown string prefixes, invalid `\x`, `\u`, `\U` and
//!   `\N{...}` escapes, non-ASCII characters in bytes, an f-string
//!   conversion other than `!s`, `!r`, `!a`.
//!
//! They run inside the extractor's single walk: [`Rejections::enter`] and
//! [`Rejections::leave`] see every node the walk visits. The walk skips
//! expressions that cannot hold anything it acts on; [`triggers`] lists the
//! byte offsets of the words and characters that make an expression worth
//! descending into, so the checks see every node they need.

mod layout;
mod literals;
mod scopes;
mod signature;

use tree_sitter::Node;

use super::extract::{containers, kind_in, kind_of, kind_table};

/// The first construct CPython rejects: where it starts and Python's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    /// Byte offset in the text.
    pub offset: usize,
    /// What is wrong, in CPython's words where it has them.
    pub message: String,
}

/// What a scope frame is, for the rules that depend on the enclosing definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Function { is_async: bool },
    Lambda,
    Class,
    Comprehension(Comprehension),
}

/// The comprehension kinds, named as CPython's messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comprehension {
    List,
    Set,
    Dict,
    Generator,
}

impl Comprehension {
    fn noun(self) -> &'static str {
        match self {
            Comprehension::List => "list comprehension",
            Comprehension::Set => "set comprehension",
            Comprehension::Dict => "dict comprehension",
            Comprehension::Generator => "generator expression",
        }
    }
}

/// One node the walk is inside of.
#[derive(Debug, Clone, Copy)]
struct Frame {
    id: usize,
    kind: u16,
    container: bool,
    scope: Option<Scope>,
    /// The body of a `for` or `while` (not its `else`).
    loop_body: bool,
    /// Statically nested blocks in effect inside this node (CPython's limit is 20).
    blocks: u32,
    /// About how deep Python's tree is inside this node: the statements and
    /// definitions around it (blocks have no node of their own there).
    depth: usize,
    /// The first iterable of a comprehension: it is evaluated in the scope
    /// around the comprehension, not in it.
    outer: bool,
}

impl Frame {
    /// The scopes in effect at the top of `stack`, innermost first.
    fn scopes(stack: &[Frame]) -> impl Iterator<Item = Scope> + '_ {
        let mut skip = 0usize;
        stack.iter().rev().filter_map(move |f| {
            let mut scope = f.scope;
            if let Some(Scope::Comprehension(_)) = scope
                && skip > 0
            {
                skip -= 1;
                scope = None;
            }
            if f.outer {
                skip += 1;
            }
            scope
        })
    }
}

/// A block whose role its statement decided when the walk entered the statement.
#[derive(Debug, Clone, Copy)]
struct PendingBlock {
    id: usize,
    loop_body: bool,
    adds: u32,
    /// Where the statement that opens the block starts (for the message).
    statement: usize,
}

/// The checks' state during one walk over a file's tree.
pub(crate) struct Rejections<'a> {
    text: &'a str,
    stack: Vec<Frame>,
    pending: Vec<PendingBlock>,
    /// (comprehension, its first iterable) for the comprehensions being walked.
    outer_iterables: Vec<(usize, usize)>,
    layout: layout::Layout,
    /// `from __future__` imports at the top of the module, where they are
    /// allowed, in the tree being walked.
    allowed_future: Vec<usize>,
    /// How far the top of the module is behind the trees walked so far.
    future_prefix: scopes::FuturePrefix,
    first: Option<Rejection>,
}

impl<'a> Rejections<'a> {
    /// Checks for `text`.
    pub(crate) fn new(text: &'a str) -> Rejections<'a> {
        Rejections {
            text,
            stack: Vec::new(),
            pending: Vec::new(),
            outer_iterables: Vec::new(),
            layout: layout::Layout::new(),
            allowed_future: Vec::new(),
            future_prefix: scopes::FuturePrefix::default(),
            first: None,
        }
    }

    /// The walk is about to enter the tree at `root`: the whole file's, or
    /// that of the file's next piece (pieces come in order, each made of
    /// whole top-level statements).
    pub(crate) fn begin_tree(&mut self, root: Node<'_>) {
        self.allowed_future = scopes::allowed_future_imports(root, &mut self.future_prefix);
    }

    /// The walk entered `node` (in document order).
    pub(crate) fn enter(&mut self, node: Node<'_>) {
        let parent = self.stack.last().copied();
        let parent_is_container = parent.is_none_or(|p| p.container);
        let container = kind_in(containers(), node);
        let mut frame = Frame {
            id: node.id(),
            kind: node.kind_id(),
            container,
            scope: None,
            loop_body: false,
            blocks: parent.map_or(0, |p| p.blocks),
            depth: parent.map_or(1, |p| p.depth)
                + usize::from(container && !layout::transparent(node.kind_id())),
            outer: false,
        };
        if let Some(i) = self
            .outer_iterables
            .iter()
            .position(|&(_, id)| id == node.id())
        {
            self.outer_iterables.swap_remove(i);
            frame.outer = true;
        }
        if parent_is_container {
            self.layout
                .statement_start(self.text, node, &mut self.first);
            if !container {
                let depth = parent.map_or(1, |p| p.depth);
                self.layout
                    .expression(self.text, node, depth, &mut self.first);
            }
        }
        if kind_in(relevant(), node) {
            self.act(node, &mut frame);
        }
        self.stack.push(frame);
    }

    /// The walk left `node`.
    pub(crate) fn leave(&mut self, node: Node<'_>) {
        if self.stack.last().is_some_and(|f| f.id == node.id())
            && let Some(frame) = self.stack.pop()
            && let Some(Scope::Comprehension(_)) = frame.scope
        {
            self.outer_iterables.retain(|&(c, _)| c != frame.id);
        }
    }

    /// The first rejection found, after the checks that need the end of
    /// the file: `root` is the tree that ends it.
    pub(crate) fn finish(mut self, root: Node<'_>) -> Option<Rejection> {
        if let Some(r) = layout::continuation_at_end(self.text, root) {
            self.reject(r.offset, r.message);
        }
        self.first
    }

    fn reject(&mut self, offset: usize, message: String) {
        reject(&mut self.first, offset, message);
    }

    fn act(&mut self, node: Node<'_>, frame: &mut Frame) {
        let kind = kind_of(node);
        if matches!(
            kind,
            "list_comprehension"
                | "set_comprehension"
                | "dictionary_comprehension"
                | "generator_expression"
        ) && let Some(iterable) = node
            .named_children(&mut node.walk())
            .find(|c| kind_of(*c) == "for_in_clause")
            .and_then(|clause| clause.child_by_field_name("right"))
        {
            self.outer_iterables.push((node.id(), iterable.id()));
        }
        match kind {
            "function_definition" => {
                let is_async = node.child(0).is_some_and(|c| kind_of(c) == "async");
                frame.scope = Some(Scope::Function { is_async });
                frame.blocks = 0;
                if let Some(params) = node.child_by_field_name("parameters")
                    && let Some((at, message)) = signature::check(params, self.text, false)
                {
                    self.reject(at, message);
                }
            }
            "class_definition" => {
                frame.scope = Some(Scope::Class);
                frame.blocks = 0;
            }
            "lambda" => {
                frame.scope = Some(Scope::Lambda);
                if let Some(params) = node.child_by_field_name("parameters")
                    && let Some((at, message)) = signature::check(params, self.text, true)
                {
                    self.reject(at, message);
                }
            }
            "list_comprehension" => frame.scope = Some(Scope::Comprehension(Comprehension::List)),
            "set_comprehension" => frame.scope = Some(Scope::Comprehension(Comprehension::Set)),
            "dictionary_comprehension" => {
                frame.scope = Some(Scope::Comprehension(Comprehension::Dict))
            }
            "generator_expression" => {
                frame.scope = Some(Scope::Comprehension(Comprehension::Generator))
            }
            "block" => {
                if let Some(i) = self.pending.iter().position(|p| p.id == node.id()) {
                    let p = self.pending.swap_remove(i);
                    frame.loop_body = p.loop_body;
                    frame.blocks += p.adds;
                    if frame.blocks > layout::MAX_STATIC_BLOCKS {
                        self.reject(p.statement, "too many statically nested blocks".into());
                    }
                }
            }
            "for_statement" | "while_statement" | "with_statement" | "try_statement" => {
                self.blocks_of(node, kind);
                if let Some(message) = scopes::async_statement(node, kind, &self.stack) {
                    self.reject(node.start_byte(), message);
                }
            }
            "string" => {
                if let Some((at, message)) = literals::string(node, self.text) {
                    self.reject(at, message);
                }
            }
            "integer" => {
                if let Some(message) = literals::integer(&self.text[node.byte_range()]) {
                    self.reject(node.start_byte(), message);
                }
            }
            "interpolation" => {
                if let Some((at, message)) = literals::conversion(node, self.text) {
                    self.reject(at, message);
                }
            }
            _ => {
                let parent = self.stack.last().map(|f| f.kind);
                if let Some(message) = scopes::check(
                    node,
                    kind,
                    parent,
                    self.text,
                    &self.stack,
                    &self.allowed_future,
                ) {
                    self.reject(node.start_byte(), message);
                }
            }
        }
    }

    /// Records how the blocks of a compound statement nest (see [`layout`]).
    fn blocks_of(&mut self, node: Node<'_>, kind: &str) {
        let statement = node.start_byte();
        let mut add = |block: Option<Node<'_>>, loop_body: bool, adds: u32| {
            if let Some(block) = block {
                self.pending.push(PendingBlock {
                    id: block.id(),
                    loop_body,
                    adds,
                    statement,
                });
            }
        };
        match kind {
            "for_statement" | "while_statement" => {
                add(node.child_by_field_name("body"), true, 1);
            }
            "with_statement" => {
                let items = node
                    .named_children(&mut node.walk())
                    .find(|c| kind_of(*c) == "with_clause")
                    .map_or(1, |clause| {
                        clause
                            .named_children(&mut clause.walk())
                            .filter(|c| kind_of(*c) == "with_item")
                            .count()
                    });
                add(
                    node.child_by_field_name("body"),
                    false,
                    u32::try_from(items).unwrap_or(u32::MAX),
                );
            }
            "try_statement" => {
                let children: Vec<Node<'_>> = node.named_children(&mut node.walk()).collect();
                let handles = children
                    .iter()
                    .any(|c| matches!(kind_of(*c), "except_clause" | "except_group_clause"));
                let finally = children.iter().any(|c| kind_of(*c) == "finally_clause");
                let (h, f) = (u32::from(handles), u32::from(finally));
                add(node.child_by_field_name("body"), false, h + f);
                for c in &children {
                    let adds = match kind_of(*c) {
                        "except_clause" | "except_group_clause" => 2 + f,
                        "else_clause" => f,
                        "finally_clause" => 1,
                        _ => continue,
                    };
                    add(last_block(*c), false, adds);
                }
            }
            _ => {}
        }
    }
}

fn reject(first: &mut Option<Rejection>, offset: usize, message: String) {
    if first.as_ref().is_none_or(|r| offset < r.offset) {
        *first = Some(Rejection { offset, message });
    }
}

/// The last `block` child of a clause (its body).
fn last_block(node: Node<'_>) -> Option<Node<'_>> {
    node.named_children(&mut node.walk())
        .filter(|c| kind_of(*c) == "block")
        .last()
}

/// Node kinds [`Rejections::act`] looks at.
const RELEVANT: [&str; 28] = [
    "function_definition",
    "class_definition",
    "lambda",
    "list_comprehension",
    "set_comprehension",
    "dictionary_comprehension",
    "generator_expression",
    "block",
    "for_statement",
    "while_statement",
    "with_statement",
    "try_statement",
    "string",
    "integer",
    "interpolation",
    "return_statement",
    "yield",
    "await",
    "break_statement",
    "continue_statement",
    "nonlocal_statement",
    "for_in_clause",
    "named_expression",
    "print_statement",
    "exec_statement",
    "future_import_statement",
    "except_clause",
    "raise_statement",
];

fn relevant() -> &'static [bool] {
    static TABLE: std::sync::OnceLock<Vec<bool>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| kind_table(&RELEVANT))
}

/// Byte offsets where an expression holds something the checks (or the
/// extractor's `yield` attribution) act on: the walk descends into an
/// expression only when one lies inside it. Sorted.
pub(crate) fn triggers(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let word = |at: usize, w: &[u8]| {
        bytes[at..].starts_with(w)
            && bytes
                .get(at + w.len())
                .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_')
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hit = match b {
            b'y' => word(i, b"yield"),
            b'a' => word(i, b"await") || word(i, b"async"),
            b'l' => word(i, b"lambda"),
            b':' => bytes.get(i + 1) == Some(&b'='),
            b'\\' => matches!(bytes.get(i + 1), Some(b'x' | b'u' | b'U' | b'N')),
            b'!' => bytes.get(i + 1).is_some_and(|&n| n != b'='),
            b'0' => {
                bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                    && (i == 0 || !is_identifier_or_dot(bytes[i - 1]))
            }
            b'"' | b'\'' => {
                // A prefix with `b` or `u`: bytes (ASCII only) or a prefix Python 3 may reject.
                let start = i.saturating_sub(2);
                bytes[start..i]
                    .iter()
                    .any(|c| matches!(c, b'b' | b'B' | b'u' | b'U'))
            }
            _ => false,
        };
        if hit || python2_long(bytes, i) {
            out.push(i);
        }
        i += 1;
    }
    out
}

/// A Python 2 long (`7L`, `0xFFL`): a number token ending in `L` at `i`.
fn python2_long(bytes: &[u8], i: usize) -> bool {
    if !matches!(bytes[i], b'l' | b'L')
        || bytes
            .get(i + 1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return false;
    }
    let token = bytes[..i]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    token > 0 && bytes[i - token].is_ascii_digit()
}

fn is_identifier_or_dot(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// The first CPython-only rejection in `text`, as (1-based line, column,
/// message), or `None`; a text tree-sitter cannot parse gives `None` (the
/// caller reports that itself). For the writer, on the text it is about to
/// write, when no interpreter can be asked.
pub(crate) fn check_text(text: &str) -> Option<(usize, usize, String)> {
    let tree = super::extract::parse_tree(text)?;
    let root = tree.root_node();
    if root.has_error() {
        return None;
    }
    let mut checks = Rejections::new(text);
    checks.begin_tree(root);
    let mut cursor = root.walk();
    if cursor.goto_first_child() {
        'walk: loop {
            checks.enter(cursor.node());
            if cursor.goto_first_child() {
                continue;
            }
            loop {
                checks.leave(cursor.node());
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() || cursor.node().id() == root.id() {
                    break 'walk;
                }
            }
        }
    }
    let r = checks.finish(root)?;
    let (line, column) = super::extract::LineIndex::new(text).position(text, r.offset);
    Some((line, column, r.message))
}

#[cfg(test)]
mod tests;
