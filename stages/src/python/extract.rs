//! Extraction of [`CodeUnit`]s from a [`SourceFile`] with tree-sitter-python.
//!
//! One pass over the syntax tree with a cursor (no recursion, so deeply nested
//! expressions cannot overflow the stack) finds every module, class, function,
//! method and nested definition, exactly the nodes Python's `ast` calls
//! `Module`, `ClassDef`, `FunctionDef` and `AsyncFunctionDef`. Facts about a
//! body (`raise`, `yield`, `return <value>`, branches) are attributed to the
//! innermost enclosing definition while the same pass goes on; lambdas and
//! nested definitions shield their own bodies.

use std::cell::RefCell;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use docpipe_core::model::{
    CodeUnit, Constructor, Docstring, Excerpt, Finding, Insertion, Param, ParamKind, RaiseMessage,
    Severity, SharedText, SourceFile, UnitKind,
};
use tree_sitter::{Node, Parser, Point, Tree};

use super::brackets;
use super::codes;
use super::literal;
use super::rejections::{self, Rejections};
use super::signature;
use super::tokenize::{Batches, Kind as TokenKind};

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// `text` as tree-sitter must see it: a lone CR (old Mac line endings, which
/// Python reads as line breaks) made a LF. One byte for one byte, so every
/// offset into the result is the same offset into `text`.
pub fn for_parsing(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    if !memchr::memchr_iter(b'\r', bytes).any(lone) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = text.as_bytes().to_vec();
    for i in memchr::memchr_iter(b'\r', bytes) {
        if lone(i) {
            out[i] = b'\n';
        }
    }
    // Replacing one ASCII byte by another keeps the text UTF-8.
    std::borrow::Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Parses `text` with this thread's tree-sitter-python parser (created on first use).
pub fn parse_tree(text: &str) -> Option<Tree> {
    with_parser(|parser| parser.parse(for_parsing(text).as_ref(), None))
}

/// Parses `text` incrementally: `edited` is the tree of an earlier text,
/// edited (`Tree::edit`) to describe how `text` differs from it.
pub fn reparse_tree(text: &str, edited: &Tree) -> Option<Tree> {
    with_parser(|parser| parser.parse(for_parsing(text).as_ref(), Some(edited)))
}

fn with_parser(parse: impl FnOnce(&mut Parser) -> Option<Tree>) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_python::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        parse(slot.as_mut()?)
    })
}

/// Every documentable definition of `file`: the module first, then classes,
/// functions and methods at any depth in source order.
///
/// A file that does not parse as Python 3 gives `Err` with one `DP003`
/// finding located at the first error, and no units.
pub fn extract(file: &SourceFile) -> Result<Vec<CodeUnit>, Finding> {
    extract_with(file, Arc::new(file.text.clone()))
}

/// [`extract`] of a shared file: the units' sources point into it instead
/// of into a copy of its text.
pub fn extract_shared(file: &Arc<SourceFile>) -> Result<Vec<CodeUnit>, Finding> {
    extract_with(file, file.clone())
}

/// Files larger than this are parsed a piece at a time (see [`pieces`]).
const PIECE_BYTES: usize = 1 << 18;

fn extract_with(file: &SourceFile, shared: Arc<dyn SharedText>) -> Result<Vec<CodeUnit>, Finding> {
    extract_pieces_with(file, shared, PIECE_BYTES).0
}

/// [`extract`], parsing a file larger than `piece_bytes` in pieces of
/// about that size (whole top-level statements) when it can: the units are
/// the same as [`extract`]'s for every piece size, and the syntax trees
/// held at once are those of one piece instead of the whole file's (a tree
/// takes about 35 times the bytes of the code it holds). Also says how many
/// pieces the file was parsed in (1: whole). Public so that the tests can
/// compare the two over real code with tiny pieces.
pub fn extract_in_pieces(
    file: &SourceFile,
    piece_bytes: usize,
) -> (Result<Vec<CodeUnit>, Finding>, usize) {
    extract_pieces_with(file, Arc::new(file.text.clone()), piece_bytes)
}

fn extract_pieces_with(
    file: &SourceFile,
    shared: Arc<dyn SharedText>,
    piece_bytes: usize,
) -> (Result<Vec<CodeUnit>, Finding>, usize) {
    let text = file.text.as_str();
    if text.len() > piece_bytes
        && let Some(cuts) = pieces(text, piece_bytes)
        && cuts.len() > 1
        && let Some(units) = extract_by_piece(file, shared.clone(), &cuts)
    {
        return (units, cuts.len());
    }
    (extract_whole(file, shared), 1)
}

fn extract_whole(file: &SourceFile, shared: Arc<dyn SharedText>) -> Result<Vec<CodeUnit>, Finding> {
    let text = file.text.as_str();
    let Some(tree) = parse_tree(text) else {
        return Err(syntax_finding(
            "the parser gave up on this file".into(),
            1,
            1,
        ));
    };
    let root = tree.root_node();
    if root.has_error() {
        // Lines inside brackets that dedent confuse tree-sitter's scanner: retry with them joined.
        if let Some((joined, _)) = brackets::join_bracketed_lines(text)
            && let Some(retry) = parse_tree(&joined)
            && !retry.root_node().has_error()
        {
            let mut extractor = Extractor::new(file, shared);
            extractor.add_tree(retry.root_node(), true);
            return extractor.finish(retry.root_node());
        }
        let bad = first_error(root);
        let (line, column) = position(text, bad);
        let message = if bad.is_missing() {
            format!("syntax error: expected `{}`", kind_of(bad))
        } else {
            let snippet: String = text
                .get(bad.start_byte()..bad.end_byte())
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(30)
                .collect();
            if snippet.trim().is_empty() {
                "syntax error: invalid syntax".to_string()
            } else {
                format!("syntax error: invalid syntax at `{}`", snippet.trim())
            }
        };
        return Err(syntax_finding(message, line, column));
    }
    let mut extractor = Extractor::new(file, shared);
    extractor.add_tree(root, true);
    extractor.finish(root)
}

/// Where to cut `text` into pieces of at least `piece_bytes` that parse on
/// their own as they parse in the whole: the start offsets of the pieces
/// (0 first), each (after the first) where a top-level statement starts,
/// as CPython's tokens say (outside brackets, strings and continuation
/// lines), but never before an `else`, `elif`, `except` or `finally` that
/// continues the statement before it, nor between a decorator and what it
/// decorates. Each piece holds code, not only comments, so the first one
/// holds the module's first statement. `None` when the text does not read
/// as tokens (the whole file is parsed then, and tree-sitter reports).
fn pieces(text: &str, piece_bytes: usize) -> Option<Vec<usize>> {
    let mut cuts = vec![0];
    let mut start = 0;
    let mut code = false;
    let mut after_decorator = false;
    // One batch per top-level statement (with the comments before it).
    for batch in Batches::new(text, 1) {
        let batch = batch.ok()?;
        let opener = batch.tokens.iter().find(|t| t.kind != TokenKind::Comment);
        let word = opener.map_or("", |t| &text[t.span.clone()]);
        if code
            && start - cuts.last().copied().unwrap_or(0) >= piece_bytes
            && !after_decorator
            && !matches!(word, "else" | "elif" | "except" | "finally")
        {
            cuts.push(start);
            code = false;
        }
        code |= opener.is_some();
        after_decorator = word == "@";
        start = batch.end;
    }
    Some(cuts)
}

/// The units of a file parsed piece by piece at `cuts` (see [`pieces`]),
/// one tree at a time; `None` when a piece does not parse cleanly, for the
/// whole file to decide (and to report the error as it always does).
fn extract_by_piece(
    file: &SourceFile,
    shared: Arc<dyn SharedText>,
    cuts: &[usize],
) -> Option<Result<Vec<CodeUnit>, Finding>> {
    let text = file.text.as_str();
    let parsed = for_parsing(text);
    let mut extractor = Extractor::new(file, shared);
    for (i, &start) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).copied().unwrap_or(text.len());
        let tree = parse_range(&parsed, &extractor.lines, start..end)?;
        let root = tree.root_node();
        if root.has_error() {
            return None;
        }
        extractor.add_tree(root, i == 0);
        if end == text.len() {
            return Some(extractor.finish(root));
        }
    }
    None
}

/// Parses bytes `range` of `text` alone (tree-sitter's included ranges):
/// the tree's offsets are offsets into `text`.
fn parse_range(text: &str, lines: &LineIndex, range: Range<usize>) -> Option<Tree> {
    let point = |offset: usize| {
        let line = lines.line(offset);
        Point {
            row: line - 1,
            column: offset - lines.starts[line - 1],
        }
    };
    let included = tree_sitter::Range {
        start_byte: range.start,
        end_byte: range.end,
        start_point: point(range.start),
        end_point: point(range.end),
    };
    with_parser(|parser| {
        parser.set_included_ranges(&[included]).ok()?;
        let tree = parser.parse(text, None);
        // The parser is this thread's for every later parse: whole again.
        let whole = parser.set_included_ranges(&[]);
        tree.filter(|_| whole.is_ok())
    })
}

fn syntax_finding(message: String, line: usize, column: usize) -> Finding {
    Finding {
        code: codes::SYNTAX_ERROR.into(),
        message,
        line,
        column,
        fix: Some("fix the syntax error; docpipe does not touch a file that does not parse".into()),
        severity: Severity::Error,
    }
}

/// The first ERROR or MISSING node in document order.
fn first_error(root: Node<'_>) -> Node<'_> {
    let mut node = root;
    'descend: loop {
        if node.is_missing() {
            return node;
        }
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.is_error() || child.is_missing() || child.has_error() {
                node = child;
                continue 'descend;
            }
        }
        return node;
    }
}

/// About the number of definitions in `text`, for the unit vector's
/// capacity: `def ` and `class ` wherever they occur, plus the module. Only
/// a hint: a `def` followed by a tab is missed and the vector grows.
/// (Counting every `def` made words like `default` inflate it threefold.)
fn definitions_estimate(text: &str) -> usize {
    let bytes = text.as_bytes();
    1 + memchr::memmem::find_iter(bytes, b"def ").count()
        + memchr::memmem::find_iter(bytes, b"class ").count()
}

/// Start offsets of the lines of a text (`\n`, `\r\n` and a lone `\r` end a line, as in Python).
pub(crate) struct LineIndex {
    pub(crate) starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub(crate) fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n') {
                starts.push(i + 1);
            }
        }
        LineIndex { starts }
    }

    /// 1-based line of byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }

    /// 1-based line and column (in characters) of byte `offset` in `text`.
    pub(crate) fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line(offset);
        let start = self.starts[line - 1];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, column)
    }
}

/// 1-based line and column (in characters) of a node's start.
fn position(text: &str, node: Node<'_>) -> (usize, usize) {
    LineIndex::new(text).position(text, node.start_byte())
}

/// Cuts a finished unit's lists to their length. They grew by pushes, and
/// a list that grows from empty makes room for four: a function with one
/// parameter held 320 bytes of parameters, one that raises one exception 96
/// bytes of names. Every unit of a big file is held at once downstream.
fn compact(unit: &mut CodeUnit) {
    unit.params.shrink_to_fit();
    unit.decorators.shrink_to_fit();
    unit.raises.shrink_to_fit();
    unit.raise_messages.shrink_to_fit();
}

#[derive(Debug, Clone, Copy)]
enum Scope {
    Module,
    Function(usize),
    Class(usize),
    Lambda,
}

struct Extractor<'a> {
    file: &'a SourceFile,
    text: &'a str,
    units: Vec<CodeUnit>,
    /// Open scopes with the id of the node that closes them.
    scopes: Vec<(Scope, usize)>,
    /// Decorators waiting for their definition: (definition node id, start byte, decorators).
    pending: Option<(usize, usize, Vec<String>)>,
    module_summary: String,
    lines: LineIndex,
    /// The file, shared by every unit's [`CodeUnit::source`].
    shared: Arc<dyn SharedText>,
    /// Byte offsets of what makes an expression worth descending into
    /// (every `yield`, and what the rejections check; in code, strings or comments alike).
    triggers: Vec<usize>,
    /// The constructs that parse but that CPython rejects.
    rejections: Rejections<'a>,
    /// (class unit, its `__init__` unit) by index, in source order.
    inits: Vec<(usize, usize)>,
}

impl<'a> Extractor<'a> {
    fn new(file: &'a SourceFile, shared: Arc<dyn SharedText>) -> Extractor<'a> {
        Extractor {
            file,
            text: file.text.as_str(),
            // Sized once: a unit is large, and growing the vector by doubling
            // copied every unit and faulted in fresh pages several times per file.
            units: Vec::with_capacity(definitions_estimate(&file.text)),
            scopes: Vec::new(),
            pending: None,
            module_summary: String::new(),
            lines: LineIndex::new(&file.text),
            shared,
            triggers: rejections::triggers(&file.text),
            rejections: Rejections::new(&file.text),
            inits: Vec::new(),
        }
    }

    /// Walks the tree of the whole file, or of its next piece (`first`:
    /// the piece that starts the module).
    fn add_tree(&mut self, root: Node<'_>, first: bool) {
        if first {
            let module = self.module_unit(root);
            self.units.push(module);
        }
        self.rejections.begin_tree(root);
        self.scopes.clear();
        self.scopes.push((Scope::Module, root.id()));
        self.pending = None;
        let mut cursor = root.walk();
        if cursor.goto_first_child() {
            self.walk(&mut cursor, root.id());
        }
    }

    /// The units, once every tree is walked; `last_root` is the tree that
    /// ends the file.
    fn finish(mut self, last_root: Node<'_>) -> Result<Vec<CodeUnit>, Finding> {
        self.link_constructors();
        if let Some(r) = self.rejections.finish(last_root) {
            let (line, column) = self.lines.position(self.text, r.offset);
            let message = r.message;
            return Err(syntax_finding(
                format!("syntax error: {message}"),
                line,
                column,
            ));
        }
        Ok(self.units)
    }

    /// The pre-order walk from the cursor's node: enter a node, descend, and
    /// leave it on the way up, until the walk is back at the root (`root`).
    fn walk(&mut self, cursor: &mut tree_sitter::TreeCursor<'_>, root: usize) {
        loop {
            let node = cursor.node();
            self.enter(node);
            if self.worth_descending(node) && cursor.goto_first_child() {
                continue;
            }
            loop {
                self.leave(cursor.node());
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() || cursor.node().id() == root {
                    return;
                }
            }
        }
    }

    /// Gives each class with its own `__init__`, and that `__init__`, the
    /// constructor's parameters and both docstrings. The last `__init__` of a
    /// class body wins, as it does at run time; `@overload` stubs are not
    /// the constructor.
    fn link_constructors(&mut self) {
        for &(class, init) in &self.inits {
            let init_unit = &self.units[init];
            let constructor = Box::new(Constructor {
                params: signature::signature_params(init_unit).to_vec(),
                class_doc: self.units[class]
                    .docstring
                    .as_ref()
                    .map(|d| d.value.clone()),
                init_doc: init_unit.docstring.as_ref().map(|d| d.value.clone()),
                documented_on: None,
            });
            self.units[init].constructor = Some(constructor.clone());
            self.units[class].constructor = Some(constructor);
        }
    }

    /// Whether anything [`Extractor::enter`] acts on can lie below `node`.
    ///
    /// Definitions and statements only live in statement containers; inside an
    /// expression the only fact that matters is a `yield` (and the lambdas that
    /// shield one). Most of a tree is expressions, so skipping those without the
    /// word `yield` in their text halves the nodes the walk visits.
    fn worth_descending(&self, node: Node<'_>) -> bool {
        if kind_in(containers(), node) {
            return true;
        }
        let start = node.start_byte();
        let first = self.triggers.partition_point(|&at| at < start);
        self.triggers
            .get(first)
            .is_some_and(|&at| at < node.end_byte())
    }

    fn text_of(&self, node: Node<'_>) -> &'a str {
        &self.text[node.start_byte()..node.end_byte()]
    }

    /// The innermost scope that is a definition (lambdas and the module count too).
    fn current(&self) -> Scope {
        self.scopes.last().map_or(Scope::Module, |s| s.0)
    }

    fn enter(&mut self, node: Node<'_>) {
        self.rejections.enter(node);
        // Most nodes matter to nobody: a table lookup by kind id skips them
        // without comparing kind names.
        if !kind_in(interesting(), node) {
            return;
        }
        match kind_of(node) {
            "function_definition" | "class_definition" => self.enter_definition(node),
            "decorated_definition" => {
                let decorators = named_children(node)
                    .filter(|c| kind_of(*c) == "decorator")
                    .filter_map(|d| named_children(d).next())
                    .map(|e| self.text_of(e).to_string())
                    .collect();
                if let Some(def) = node.child_by_field(Field::Definition) {
                    self.pending = Some((def.id(), node.start_byte(), decorators));
                }
            }
            "lambda" => self.scopes.push((Scope::Lambda, node.id())),
            "raise_statement" => {
                if let Scope::Function(i) = self.current() {
                    self.note_raise(i, node);
                }
            }
            "yield" => {
                if let Scope::Function(i) = self.current() {
                    self.units[i].yields = true;
                }
            }
            "return_statement" => {
                if let Scope::Function(i) = self.current() {
                    match named_children(node).next() {
                        Some(v) if kind_of(v) == "none" => self.units[i].returns_none = true,
                        Some(_) => self.units[i].returns_value = true,
                        None => {}
                    }
                }
            }
            "if_statement" | "elif_clause" | "for_statement" | "while_statement"
            | "except_clause" | "case_clause" => {
                if let Scope::Function(i) = self.current() {
                    self.units[i].complexity += 1;
                }
            }
            _ => {}
        }
    }

    /// Records what `raise` statement `node` raises on unit `i`: the
    /// exception it names, or, for a bare `raise` (or `raise e` of the name
    /// an `except ... as e` bound) inside an `except` clause, the exceptions
    /// that clause catches, as pydoclint reads them. Anything else (`raise
    /// err` of another variable, `raise self.error()`, a bare `except:`) is
    /// an exception no name tells: the unit re-raises.
    fn note_raise(&mut self, i: usize, node: Node<'_>) {
        let text = self.text;
        let named = raised_name(node, text);
        let variable = named.filter(|n| {
            !n.rsplit('.')
                .next()
                .unwrap_or(n)
                .starts_with(|c: char| c.is_uppercase())
        });
        let caught = match (named, variable) {
            (None, _) => caught_by_handler(node, text, None),
            (Some(_), Some(var)) => caught_by_handler(node, text, Some(var)),
            _ => None,
        };
        let message = named.filter(|_| variable.is_none()).and_then(|name| {
            raise_message(node, text).map(|message| RaiseMessage {
                exception: name.to_string(),
                message,
            })
        });
        let unit = &mut self.units[i];
        if let Some(m) = message
            && !unit
                .raise_messages
                .iter()
                .any(|r| r.exception == m.exception)
        {
            unit.raise_messages.push(m);
        }
        let names: Vec<&str> = match (named, caught) {
            (_, Some(types)) => types,
            (Some(name), None) => {
                if variable.is_some() {
                    unit.reraises = true;
                }
                vec![name]
            }
            (None, None) => {
                unit.reraises = true;
                Vec::new()
            }
        };
        for name in names {
            if !unit.raises.iter().any(|r| r == name) {
                unit.raises.push(name.to_string());
            }
        }
    }

    fn leave(&mut self, node: Node<'_>) {
        self.rejections.leave(node);
        if self.scopes.last().is_some_and(|s| s.1 == node.id())
            && let Some((Scope::Function(i) | Scope::Class(i), _)) = self.scopes.pop()
        {
            compact(&mut self.units[i]);
        }
    }

    fn module_unit(&mut self, root: Node<'_>) -> CodeUnit {
        let text = self.text;
        let docstring = docstring(text, &self.lines, root);
        self.module_summary = docstring
            .as_ref()
            .map(|d| summary_line(&d.value))
            .unwrap_or_default();
        let name = self
            .file
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        CodeUnit {
            path: self.file.path.clone(),
            qualname: String::new(),
            name,
            kind: UnitKind::Module,
            is_async: false,
            nested: false,
            class_name: None,
            decorators: Vec::new(),
            params: Vec::new(),
            returns: None,
            raises: Vec::new(),
            yields: false,
            returns_value: false,
            raise_messages: Vec::new(),
            returns_none: false,
            reraises: false,
            complexity: 1,
            docstring: docstring.map(Box::new),
            insertion: Insertion {
                offset: module_insertion(text),
                indent: String::new(),
                inline_body: None,
            },
            line: 1,
            column: 1,
            span: 0..text.len(),
            signature: String::new(),
            source: Excerpt::new(self.shared.clone(), 0..text.len()).unwrap_or_default(),
            context: String::new(),
            constructor: None,
        }
    }

    fn enter_definition(&mut self, node: Node<'_>) {
        let text = self.text;
        let is_class = kind_of(node) == "class_definition";
        let name = node
            .child_by_field(Field::Name)
            .map_or("", |n| self.text_of(n))
            .to_string();
        // The innermost enclosing definition decides qualname, kind and class.
        let parent = self
            .scopes
            .iter()
            .rev()
            .find(|s| !matches!(s.0, Scope::Lambda))
            .map_or(Scope::Module, |s| s.0);
        let nested = self
            .scopes
            .iter()
            .any(|s| matches!(s.0, Scope::Function(_)));
        let (qualname, class_name) = match parent {
            Scope::Function(i) => (format!("{}.{name}", self.units[i].qualname), None),
            Scope::Class(i) => (
                format!("{}.{name}", self.units[i].qualname),
                Some(self.units[i].qualname.clone()),
            ),
            Scope::Module | Scope::Lambda => (name.clone(), None),
        };
        let kind = match (is_class, &parent) {
            (true, _) => UnitKind::Class,
            (false, Scope::Class(_)) => UnitKind::Method,
            (false, _) => UnitKind::Function,
        };
        let (start, decorators) = match self.pending.take() {
            Some((id, start, decorators)) if id == node.id() => (start, decorators),
            other => {
                self.pending = other;
                (node.start_byte(), Vec::new())
            }
        };
        let is_async = !is_class && node.child(0).is_some_and(|c| kind_of(c) == "async");
        let params = node
            .child_by_field(Field::Parameters)
            .map(|p| parameters(p, text))
            .unwrap_or_default();
        let returns = node
            .child_by_field(Field::ReturnType)
            .map(|r| self.text_of(r).to_string());
        let body = node.child_by_field(Field::Body);
        let colon_end =
            colon_end(node).unwrap_or_else(|| body.map_or(node.end_byte(), |b| b.start_byte()));
        let (line, column) = self.lines.position(text, node.start_byte());
        let def_indent = line_indent(text, node.start_byte()).to_string();
        let docstring = body.and_then(|b| docstring(text, &self.lines, b));
        let insertion = match body {
            Some(b) => block_insertion(text, colon_end, b, &def_indent),
            None => Insertion {
                offset: node.end_byte(),
                indent: format!("{def_indent}    "),
                inline_body: None,
            },
        };
        let context = match parent {
            Scope::Class(i) => {
                let class = &self.units[i];
                let summary = class
                    .docstring
                    .as_ref()
                    .map(|d| summary_line(&d.value))
                    .unwrap_or_default();
                if summary.is_empty() {
                    class.signature.clone()
                } else {
                    format!("{}\n    \"\"\"{summary}\"\"\"", class.signature)
                }
            }
            _ => self.module_summary.clone(),
        };
        let end = node.end_byte();
        let index = self.units.len();
        if let Scope::Class(class) = parent
            && kind == UnitKind::Method
            && name == "__init__"
            && !decorators
                .iter()
                .any(|d| d == "overload" || d.ends_with(".overload"))
        {
            self.inits.retain(|&(c, _)| c != class);
            self.inits.push((class, index));
        }
        self.units.push(CodeUnit {
            path: self.file.path.clone(),
            qualname,
            name,
            kind,
            is_async,
            nested,
            class_name,
            decorators,
            params,
            returns,
            raises: Vec::new(),
            yields: false,
            returns_value: false,
            raise_messages: Vec::new(),
            returns_none: false,
            reraises: false,
            complexity: 1,
            docstring: docstring.map(Box::new),
            insertion,
            line,
            column,
            span: start..end,
            signature: text[node.start_byte()..colon_end].to_string(),
            // Node boundaries are character boundaries, so this is never empty by mistake.
            source: Excerpt::new(self.shared.clone(), start..end).unwrap_or_default(),
            context,
            constructor: None,
        });
        let scope = if is_class {
            Scope::Class(index)
        } else {
            Scope::Function(index)
        };
        self.scopes.push((scope, node.id()));
    }
}

/// Named node kinds [`Extractor::enter`] acts on.
const INTERESTING: [&str; 13] = [
    "function_definition",
    "class_definition",
    "decorated_definition",
    "lambda",
    "raise_statement",
    "yield",
    "return_statement",
    "if_statement",
    "elif_clause",
    "for_statement",
    "while_statement",
    "except_clause",
    "case_clause",
];

/// The grammar's fields the extractor reads.
///
/// `Node::child_by_field_name` looks the name up among all the grammar's
/// field names with `strncmp` on every call; the ids are looked up once.
#[derive(Debug, Clone, Copy)]
enum Field {
    Alias,
    Argument,
    Arguments,
    Body,
    Cause,
    Definition,
    Function,
    Name,
    Parameters,
    ReturnType,
    Type,
    Value,
}

impl Field {
    const ALL: [(Field, &'static str); 12] = [
        (Field::Alias, "alias"),
        (Field::Argument, "argument"),
        (Field::Arguments, "arguments"),
        (Field::Body, "body"),
        (Field::Cause, "cause"),
        (Field::Definition, "definition"),
        (Field::Function, "function"),
        (Field::Name, "name"),
        (Field::Parameters, "parameters"),
        (Field::ReturnType, "return_type"),
        (Field::Type, "type"),
        (Field::Value, "value"),
    ];
}

/// Field lookups by precomputed id.
trait ChildByField<'t> {
    fn child_by_field(&self, field: Field) -> Option<Node<'t>>;
}

impl<'t> ChildByField<'t> for Node<'t> {
    fn child_by_field(&self, field: Field) -> Option<Node<'t>> {
        static IDS: std::sync::OnceLock<Vec<u16>> = std::sync::OnceLock::new();
        let ids = IDS.get_or_init(|| {
            let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
            Field::ALL
                .iter()
                .map(|(_, name)| language.field_id_for_name(name).map_or(0, |id| id.get()))
                .collect()
        });
        match ids.get(field as usize) {
            Some(&id) if id != 0 => self.child_by_field_id(id),
            _ => None,
        }
    }
}

/// Named node kinds that hold statements: the walk always descends into them.
const CONTAINERS: [&str; 17] = [
    "module",
    "block",
    "class_definition",
    "function_definition",
    "decorated_definition",
    "if_statement",
    "elif_clause",
    "else_clause",
    "for_statement",
    "while_statement",
    "try_statement",
    "except_clause",
    "except_group_clause",
    "finally_clause",
    "with_statement",
    "match_statement",
    "case_clause",
];

/// For each kind id of the grammar, whether it is one of [`INTERESTING`] (named).
fn interesting() -> &'static [bool] {
    static TABLE: std::sync::OnceLock<Vec<bool>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| kind_table(&INTERESTING))
}

/// For each kind id of the grammar, whether it is one of [`CONTAINERS`] (named).
pub(super) fn containers() -> &'static [bool] {
    static TABLE: std::sync::OnceLock<Vec<bool>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| kind_table(&CONTAINERS))
}

/// A lookup by kind id, so the walk never compares kind names.
pub(super) fn kind_table(names: &[&str]) -> Vec<bool> {
    let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
    kind_names()
        .iter()
        .enumerate()
        .map(|(id, kind)| {
            u16::try_from(id).is_ok_and(|id| language.node_kind_is_named(id))
                && names.contains(&kind.as_str())
        })
        .collect()
}

/// The grammar's kind names by kind id (empty where it has none).
fn kind_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        (0..language.node_kind_count())
            .map(|id| {
                u16::try_from(id)
                    .ok()
                    .and_then(|id| language.node_kind_for_id(id))
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    })
}

pub(super) fn kind_in(table: &[bool], node: Node<'_>) -> bool {
    table
        .get(usize::from(node.kind_id()))
        .copied()
        .unwrap_or(false)
}

/// `node.kind()`, looked up in a table by kind id. tree-sitter's own looks
/// the name up and checks its UTF-8 on every call: about 200 instructions,
/// and the walk asks for hundreds of thousands of kinds.
pub(super) fn kind_of<'t>(node: Node<'t>) -> &'t str {
    match kind_names().get(usize::from(node.kind_id())) {
        Some(name) if !name.is_empty() => name,
        // ERROR and anything else outside the table.
        _ => node.kind(),
    }
}

/// The name of kind id `kind` (empty for an id outside the grammar).
pub(super) fn kind_name(kind: u16) -> &'static str {
    kind_names()
        .get(usize::from(kind))
        .map_or("", String::as_str)
}

/// Named children of `node` without comments.
pub(super) fn named_children<'t>(node: Node<'t>) -> impl Iterator<Item = Node<'t>> {
    (0..node.named_child_count() as u32)
        .filter_map(move |i| node.named_child(i))
        .filter(|c| kind_of(*c) != "comment")
}

/// End of the `:` that opens a definition's body.
fn colon_end(node: Node<'_>) -> Option<usize> {
    (0..node.child_count())
        .filter_map(|i| node.child(i))
        .find(|c| kind_of(*c) == ":")
        .map(|c| c.end_byte())
}

/// The first argument of `raise X("message")` when it is one string literal:
/// its value (an f-string's text as written, braces and all).
fn raise_message(node: Node<'_>, text: &str) -> Option<String> {
    let cause = node.child_by_field(Field::Cause).map(|c| c.id());
    let exc = named_children(node).find(|c| Some(c.id()) != cause)?;
    if kind_of(exc) != "call" {
        return None;
    }
    let args = exc.child_by_field(Field::Arguments)?;
    let first = named_children(args).next()?;
    if kind_of(first) != "string" {
        return None;
    }
    let start = first.child(0)?;
    let end = first.child(first.child_count().checked_sub(1)?)?;
    let opening = literal::opening(text.get(start.start_byte()..start.end_byte())?)?;
    let mut value = String::new();
    literal::value(
        text.get(start.end_byte()..end.start_byte())?,
        opening.prefix.trim_matches(|c| c == 'f' || c == 'F'),
        &mut value,
    );
    let value = value.trim().to_string();
    (!value.is_empty()).then_some(value)
}

/// The exception types of the `except` clause a `raise` re-raises from: the
/// nearest clause around `raise_node` in the same function, for a bare
/// `raise` (`variable` is `None`) or for `raise e` where the clause binds
/// `as e`. `None` when there is no such clause, it catches everything
/// (`except:`), or its types are not plain names.
fn caught_by_handler<'t>(
    raise_node: Node<'_>,
    text: &'t str,
    variable: Option<&str>,
) -> Option<Vec<&'t str>> {
    let mut node = raise_node.parent()?;
    while kind_of(node) != "except_clause" {
        if matches!(
            kind_of(node),
            "function_definition" | "class_definition" | "lambda" | "module"
        ) {
            return None;
        }
        node = node.parent()?;
    }
    let value = node.child_by_field(Field::Value)?;
    let (types, alias) = if kind_of(value) == "as_pattern" {
        let alias = value
            .child_by_field(Field::Alias)
            .and_then(|a| named_children(a).next())
            .map(|a| &text[a.start_byte()..a.end_byte()]);
        (named_children(value).next()?, alias)
    } else {
        (value, None)
    };
    if variable.is_some() && variable != alias {
        return None;
    }
    let parts: Vec<Node<'_>> = match kind_of(types) {
        "tuple" | "parenthesized_expression" => named_children(types).collect(),
        _ => vec![types],
    };
    parts
        .into_iter()
        .map(|t| {
            matches!(kind_of(t), "identifier" | "attribute")
                .then(|| &text[t.start_byte()..t.end_byte()])
        })
        .collect()
}

/// The exception name of `raise X`, `raise X(...)` or `raise X from e`; `None` for a bare `raise`.
fn raised_name<'t>(node: Node<'_>, text: &'t str) -> Option<&'t str> {
    let cause = node.child_by_field(Field::Cause).map(|c| c.id());
    let exc = named_children(node).find(|c| Some(c.id()) != cause)?;
    let exc = if kind_of(exc) == "call" {
        exc.child_by_field(Field::Function).unwrap_or(exc)
    } else {
        exc
    };
    Some(text[exc.start_byte()..exc.end_byte()].trim())
}

fn parameters(node: Node<'_>, text: &str) -> Vec<Param> {
    let src = |n: Node<'_>| text[n.start_byte()..n.end_byte()].to_string();
    let mut params: Vec<Param> = Vec::new();
    let mut next_kind = ParamKind::Normal;
    for child in named_children(node) {
        let param = |name: String,
                     kind: ParamKind,
                     annotation: Option<String>,
                     default: Option<String>| Param {
            name,
            kind,
            annotation,
            default,
        };
        match kind_of(child) {
            "identifier" | "tuple_pattern" => params.push(param(src(child), next_kind, None, None)),
            "default_parameter" | "typed_default_parameter" => params.push(param(
                child
                    .child_by_field(Field::Name)
                    .map(src)
                    .unwrap_or_default(),
                next_kind,
                child.child_by_field(Field::Type).map(src),
                child.child_by_field(Field::Value).map(src),
            )),
            "typed_parameter" => {
                let annotation = child.child_by_field(Field::Type).map(src);
                let Some(inner) = named_children(child).find(|c| kind_of(*c) != "type") else {
                    continue;
                };
                let (name, kind) = splat(inner, text, &mut next_kind);
                params.push(param(name, kind, annotation, None));
            }
            "list_splat_pattern" | "dictionary_splat_pattern" => {
                let (name, kind) = splat(child, text, &mut next_kind);
                params.push(param(name, kind, None, None));
            }
            "keyword_separator" => next_kind = ParamKind::KeywordOnly,
            "positional_separator" => {
                for p in params.iter_mut().filter(|p| p.kind == ParamKind::Normal) {
                    p.kind = ParamKind::PositionalOnly;
                }
            }
            _ => {}
        }
    }
    params
}

/// Name and kind of a possibly starred parameter; after `*args` parameters are keyword-only.
fn splat(node: Node<'_>, text: &str, next_kind: &mut ParamKind) -> (String, ParamKind) {
    let name = |n: Node<'_>| {
        named_children(n)
            .next()
            .map_or_else(
                || text[n.start_byte()..n.end_byte()].trim_start_matches('*'),
                |i| &text[i.start_byte()..i.end_byte()],
            )
            .to_string()
    };
    match kind_of(node) {
        "list_splat_pattern" => {
            *next_kind = ParamKind::KeywordOnly;
            (name(node), ParamKind::VarPositional)
        }
        "dictionary_splat_pattern" => (name(node), ParamKind::VarKeyword),
        _ => (
            text[node.start_byte()..node.end_byte()].to_string(),
            *next_kind,
        ),
    }
}

/// The docstring of a module or block: its first statement when that is a
/// plain string literal (or an implicit concatenation of them).
fn docstring(text: &str, lines: &LineIndex, body: Node<'_>) -> Option<Docstring> {
    let first = named_children(body).next()?;
    if kind_of(first) != "expression_statement" {
        return None;
    }
    let mut exprs = named_children(first);
    let outer = exprs.next()?;
    if exprs.next().is_some() {
        return None;
    }
    let mut expr = outer;
    while kind_of(expr) == "parenthesized_expression" {
        expr = named_children(expr).next()?;
    }
    let parts: Vec<Node<'_>> = match kind_of(expr) {
        "string" => vec![expr],
        "concatenated_string" => named_children(expr).collect(),
        _ => return None,
    };
    let mut value = String::new();
    let mut first_opening = None;
    for part in &parts {
        if kind_of(*part) != "string" {
            return None;
        }
        let start = part.child(0)?;
        let end = part.child(part.child_count().checked_sub(1)?)?;
        let opening = literal::opening(text.get(start.start_byte()..start.end_byte())?)?;
        if !literal::is_plain_str(opening.prefix) {
            return None;
        }
        literal::value(
            text.get(start.end_byte()..end.start_byte())?,
            opening.prefix,
            &mut value,
        );
        first_opening.get_or_insert(opening);
    }
    let opening = first_opening?;
    let span = outer.start_byte()..outer.end_byte();
    Some(Docstring {
        value,
        prefix: opening.prefix.to_string(),
        quote: opening.quote,
        indent: line_indent(text, span.start).to_string(),
        line: lines.line(outer.start_byte()),
        span,
    })
}

/// The first line of a docstring's value with text, trimmed.
pub(crate) fn summary_line(value: &str) -> String {
    value
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Leading whitespace of the line containing `offset`.
fn line_indent(text: &str, offset: usize) -> &str {
    let start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let line = &text[start..];
    let len = line.len() - line.trim_start_matches([' ', '\t', '\x0c']).len();
    &line[..len]
}

/// Offset just after the line ending that follows `offset` (or the text's end).
fn next_line_start(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    match bytes[offset..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
    {
        Some(i) => {
            let at = offset + i;
            if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            }
        }
        None => text.len(),
    }
}

/// Where a docstring goes in a definition whose body is `body`.
fn block_insertion(text: &str, colon_end: usize, body: Node<'_>, def_indent: &str) -> Insertion {
    let first = named_children(body).next();
    let body_start = first.map_or(body.start_byte(), |f| f.start_byte());
    let line_end = text[colon_end..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| colon_end + i);
    if body_start < line_end {
        // `def f(x): return x`: the writer turns the inline body into a block.
        let unit = if def_indent.contains('\t') {
            "\t"
        } else {
            "    "
        };
        return Insertion {
            offset: body_start,
            indent: format!("{def_indent}{unit}"),
            inline_body: Some(body_start..body.end_byte()),
        };
    }
    Insertion {
        offset: next_line_start(text, colon_end),
        indent: line_indent(text, body_start).to_string(),
        inline_body: None,
    }
}

/// After the shebang, coding cookie and header comments at the top of a module.
fn module_insertion(text: &str) -> usize {
    let mut offset = 0;
    while offset < text.len() && text[offset..].starts_with('#') {
        offset = next_line_start(text, offset);
    }
    offset
}

/// Extraction of one file given by path, for tools and tests.
pub fn extract_path(path: &Path) -> Result<Vec<CodeUnit>, String> {
    let file = super::read_source(path)?;
    extract(&file).map_err(|f| format!("{}:{}:{}: {}", path.display(), f.line, f.column, f.message))
}
