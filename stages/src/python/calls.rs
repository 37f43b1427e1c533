//! What each definition of a module calls, and what the module imports, read
//! from its tokens: the facts dependency-ordered generation resolves into a
//! call graph of the repository.
//!
//! This is a lexical scan, not a parse: one pass over the text that knows
//! strings, comments, brackets, line continuations and indentation, and
//! nothing of expressions. It finds every `def`/`class` with its qualified
//! name (nested definitions as `f.g`, as the extractor names them), the
//! summary of its docstring, its byte span, and the dotted names it calls
//! (`f(`, `self.m(`, `Class.m(`, `module.f(`); and every `import` and
//! `from ... import` binding. It runs only where generation needs it, at a
//! fraction of a tree-sitter parse's cost, and a file with a syntax error
//! still gives what it can (the extractor reports the error).

use std::collections::HashMap;
use std::ops::Range;

/// The longest summary kept, in characters: a prompt shows it whole.
const SUMMARY_CHARS: usize = 200;

/// Words that look like a call before `(` and never name a definition.
const KEYWORDS: [&str; 22] = [
    "and", "assert", "await", "class", "def", "del", "elif", "else", "except", "for", "from",
    "global", "if", "import", "in", "is", "lambda", "not", "or", "return", "while", "yield",
];

/// A `def` or a `class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    /// `def` or `async def`.
    Function,
    /// `class`.
    Class,
}

/// One definition of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// Dotted path inside the module (`Outer.method`, `f.g`).
    pub qualname: String,
    /// `def` or `class`.
    pub kind: DefKind,
    /// The first paragraph of its docstring on one line, when it has one with text.
    pub summary: Option<String>,
    /// The byte span of its docstring's text (inside the quotes, escapes
    /// as written), when it has one with text.
    pub docstring: Option<Range<usize>>,
    /// Byte span from the `def`/`class` keyword to the end of its body.
    pub span: Range<usize>,
    /// The dotted names called in its body, each once, in order of
    /// appearance (calls inside a nested definition are that definition's).
    pub calls: Vec<String>,
}

/// One name an import statement binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The name bound in the module (`np` of `import numpy as np`, `a` of `import a.b`).
    pub local: String,
    /// The module as written, leading dots of a relative import included (`.util`, `..`).
    pub module: String,
    /// The name imported from the module (`from m import f`), or `None` for `import m`.
    pub name: Option<String>,
}

/// The definitions and imports of one module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleIndex {
    /// Every definition, in source order.
    pub definitions: Vec<Definition>,
    /// Every name bound by an import, in source order (a later binding wins).
    pub imports: Vec<Import>,
    /// The byte span of the module docstring's text, when it has one with text.
    pub docstring: Option<Range<usize>>,
    by_qualname: HashMap<String, usize>,
}

impl ModuleIndex {
    /// Scans `text`, a module's source.
    pub fn scan(text: &str) -> ModuleIndex {
        let mut scan = Scan::new(text);
        scan.run();
        // The index lives as long as the run: cut what grew by doubling to
        // its length (a big module's definitions, each one's calls).
        scan.defs.shrink_to_fit();
        for d in &mut scan.defs {
            d.calls.shrink_to_fit();
        }
        let mut index = ModuleIndex {
            docstring: scan.module_doc,
            definitions: scan.defs,
            imports: scan.imports,
            by_qualname: HashMap::new(),
        };
        for (i, d) in index.definitions.iter().enumerate() {
            // The last definition of a name wins, as at run time.
            index.by_qualname.insert(d.qualname.clone(), i);
        }
        index
    }

    /// The definition named `qualname`.
    pub fn get(&self, qualname: &str) -> Option<&Definition> {
        self.by_qualname
            .get(qualname)
            .map(|&i| &self.definitions[i])
    }

    /// What the import binding `local` refers to, the last binding winning.
    pub fn binding(&self, local: &str) -> Option<&Import> {
        self.imports.iter().rev().find(|i| i.local == local)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Name,
    Str,
    Other,
    Dot,
    Open,
    Colon,
    Comma,
}

struct Scan<'a> {
    text: &'a str,
    defs: Vec<Definition>,
    imports: Vec<Import>,
    /// Open definitions: (indentation, index in `defs`).
    scopes: Vec<(usize, usize)>,
    /// The tokens of the logical line so far.
    line: Vec<(Tok, Range<usize>)>,
    line_start: usize,
    line_indent: usize,
    depth: usize,
    /// The definition whose header ended the previous logical line with `:`.
    wants_docstring: Option<usize>,
    /// The definition the current logical line may be the docstring of.
    docstring_for: Option<usize>,
    /// No logical line has ended yet: the current one may be the module's docstring.
    first_line: bool,
    /// The byte span of the module docstring's text.
    module_doc: Option<Range<usize>>,
}

impl<'a> Scan<'a> {
    fn new(text: &'a str) -> Scan<'a> {
        Scan {
            text,
            defs: Vec::new(),
            imports: Vec::new(),
            scopes: Vec::new(),
            line: Vec::new(),
            line_start: 0,
            line_indent: 0,
            depth: 0,
            wants_docstring: None,
            docstring_for: None,
            first_line: true,
            module_doc: None,
        }
    }

    fn run(&mut self) {
        let bytes = self.text.as_bytes();
        let mut i = 0;
        let mut at_line_start = true;
        while i < bytes.len() {
            if at_line_start && self.depth == 0 {
                // Indentation of a new logical line; blank and comment lines do not count.
                let (indent, next) = indentation(bytes, i);
                match bytes.get(next) {
                    None => break,
                    Some(b'\n' | b'\r' | b'#') => {
                        i = skip_line(bytes, next);
                        continue;
                    }
                    Some(_) => {
                        self.begin_line(indent, next);
                        at_line_start = false;
                        i = next;
                        continue;
                    }
                }
            }
            let b = bytes[i];
            match b {
                b'\n' | b'\r' => {
                    i += 1;
                    if self.depth == 0 {
                        self.end_line();
                        at_line_start = true;
                    }
                }
                b'#' => i = skip_comment(bytes, i),
                b'\\' => {
                    // A continuation joins the next line to this one.
                    i += 1;
                    if bytes.get(i) == Some(&b'\r') {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                }
                b' ' | b'\t' | b'\x0c' => i += 1,
                b'"' | b'\'' => i = self.string(i, i),
                b'(' | b'[' | b'{' => {
                    if b == b'(' {
                        self.note_call();
                    }
                    self.depth += 1;
                    self.push(Tok::Open, i..i + 1);
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.push(Tok::Other, i..i + 1);
                    i += 1;
                }
                b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                    self.push(Tok::Dot, i..i + 1);
                    i += 1;
                }
                b':' => {
                    self.push(Tok::Colon, i..i + 1);
                    i += 1;
                }
                b',' => {
                    self.push(Tok::Comma, i..i + 1);
                    i += 1;
                }
                _ if is_name_start(b) => {
                    let end = name_end(bytes, i);
                    if matches!(bytes.get(end), Some(b'"' | b'\''))
                        && is_string_prefix(&self.text[i..end])
                    {
                        i = self.string(i, end);
                    } else {
                        self.push(Tok::Name, i..end);
                        i = end;
                    }
                }
                b'0'..=b'9' => {
                    let mut j = i + 1;
                    while j < bytes.len()
                        && (bytes[j].is_ascii_alphanumeric()
                            || bytes[j] == b'.'
                            || bytes[j] == b'_')
                    {
                        j += 1;
                    }
                    self.push(Tok::Other, i..j);
                    i = j;
                }
                _ => {
                    self.push(Tok::Other, i..i + 1);
                    i += 1;
                }
            }
        }
        self.end_line();
        let end = self.text.len();
        while let Some((_, d)) = self.scopes.pop() {
            self.defs[d].span.end = end;
        }
    }

    /// A string literal from `start` (its prefix) with its quote at `quote`;
    /// returns the offset after it.
    fn string(&mut self, start: usize, quote: usize) -> usize {
        let bytes = self.text.as_bytes();
        let q = bytes[quote];
        let triple = bytes.get(quote + 1) == Some(&q) && bytes.get(quote + 2) == Some(&q);
        let open = if triple { 3 } else { 1 };
        let raw = self.text[start..quote].contains(['r', 'R']);
        let mut i = quote + open;
        let content_start = i;
        let mut content_end = bytes.len();
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'\\' {
                i += 2;
                continue;
            }
            if !triple && (b == b'\n' || b == b'\r') {
                content_end = i;
                break;
            }
            if b == q && (!triple || (bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q)))
            {
                content_end = i;
                i += open;
                break;
            }
            i += 1;
        }
        let end = i.min(bytes.len());
        self.push(Tok::Str, start..end);
        if self.line.len() == 1 && self.first_line && self.scopes.is_empty() {
            let content = content_start..content_end.min(bytes.len());
            if !self.text[content.clone()].trim().is_empty() {
                self.module_doc = Some(content);
            }
        }
        if self.line.len() == 1 && self.docstring_for.is_some() {
            let content = &self.text[content_start..content_end.min(bytes.len())];
            let summary = summary_of(content, raw);
            if let Some(d) = self.docstring_for
                && self.defs[d].summary.is_none()
                && !summary.is_empty()
            {
                self.defs[d].summary = Some(summary);
                self.defs[d].docstring = Some(content_start..content_end.min(bytes.len()));
            }
        }
        end
    }

    fn push(&mut self, tok: Tok, range: Range<usize>) {
        if self.line.len() == 1 && tok != Tok::Str {
            if self.first_line {
                self.module_doc = None;
            }
            // Only a statement made of string literals is a docstring.
            if let Some(d) = self.docstring_for.take() {
                self.defs[d].summary = None;
                self.defs[d].docstring = None;
            }
        }
        let is_name = tok == Tok::Name;
        self.line.push((tok, range));
        if is_name && self.line.len() <= 3 {
            self.open_definition();
        }
    }

    fn begin_line(&mut self, indent: usize, at: usize) {
        self.line.clear();
        self.line_start = at;
        self.line_indent = indent;
        while let Some(&(scope_indent, d)) = self.scopes.last() {
            if scope_indent < indent {
                break;
            }
            self.defs[d].span.end = line_start(self.text, at);
            self.scopes.pop();
        }
        self.docstring_for = self.wants_docstring.take();
    }

    fn end_line(&mut self) {
        let first = self.line.first().map(|(t, r)| (*t, r.clone()));
        let header_of = self.scopes.last().map(|&(_, d)| d).filter(|&d| {
            first
                .as_ref()
                .is_some_and(|f| f.1.start == self.defs[d].span.start)
        });
        if let Some(d) = header_of {
            // Only a header ending with `:` has its body, and a docstring, below.
            if self.line.last().is_some_and(|(t, _)| *t == Tok::Colon) {
                self.wants_docstring = Some(d);
            }
        } else if let Some((Tok::Name, r)) = first
            && matches!(&self.text[r], "import" | "from")
        {
            let line = std::mem::take(&mut self.line);
            self.note_imports(&line);
            self.line = line;
        }
        self.docstring_for = None;
        self.first_line &= self.line.is_empty();
        self.line.clear();
    }

    /// At `(`: records the dotted name before it as a call of the innermost
    /// definition, or opens a definition at `def NAME(` / `class NAME(`.
    fn note_call(&mut self) {
        let n = self.line.len();
        let mut start = n;
        while start > 0 && self.line[start - 1].0 == Tok::Name {
            start -= 1;
            if start > 0 && self.line[start - 1].0 == Tok::Dot {
                start -= 1;
            } else {
                break;
            }
        }
        if start == n || self.line[start].0 != Tok::Name {
            return;
        }
        let before = start
            .checked_sub(1)
            .map(|p| &self.text[self.line[p].1.clone()]);
        if matches!(before, Some("def" | "class")) {
            return;
        }
        let chain: String = self.line[start..n]
            .iter()
            .map(|(_, r)| &self.text[r.clone()])
            .collect();
        if KEYWORDS.contains(&chain.as_str()) {
            return;
        }
        if let Some(&(_, d)) = self.scopes.last()
            && !self.defs[d].calls.contains(&chain)
        {
            self.defs[d].calls.push(chain);
        }
    }

    fn note_imports(&mut self, line: &[(Tok, Range<usize>)]) {
        let text = self.text;
        let word = |i: usize| line.get(i).map(|(_, r)| &text[r.clone()]);
        if word(0) == Some("import") {
            // import a.b.c [as d], e
            let mut i = 1;
            while i < line.len() {
                let (module, next) = dotted(text, line, i);
                if module.is_empty() {
                    break;
                }
                i = next;
                let local = if word(i) == Some("as") {
                    i += 1;
                    let l = word(i).unwrap_or_default().to_string();
                    i += 1;
                    l
                } else {
                    module.split('.').next().unwrap_or_default().to_string()
                };
                let module = if local == module.split('.').next().unwrap_or_default() {
                    module.split('.').next().unwrap_or_default().to_string()
                } else {
                    module
                };
                self.imports.push(Import {
                    local,
                    module,
                    name: None,
                });
                if line.get(i).is_some_and(|(t, _)| *t == Tok::Comma) {
                    i += 1;
                } else {
                    break;
                }
            }
            return;
        }
        // from [.]*module import (a [as b], c)
        let mut i = 1;
        let mut module = String::new();
        while line.get(i).is_some_and(|(t, _)| *t == Tok::Dot) {
            module.push('.');
            i += 1;
        }
        if word(i) != Some("import") {
            let (name, next) = dotted(text, line, i);
            module.push_str(&name);
            i = next;
        }
        if word(i) != Some("import") || module.is_empty() {
            return;
        }
        i += 1;
        while i < line.len() {
            match line[i].0 {
                Tok::Name => {
                    let name = word(i).unwrap_or_default().to_string();
                    i += 1;
                    let local = if word(i) == Some("as") {
                        i += 1;
                        let l = word(i).unwrap_or_default().to_string();
                        i += 1;
                        l
                    } else {
                        name.clone()
                    };
                    if !local.is_empty() {
                        self.imports.push(Import {
                            local,
                            module: module.clone(),
                            name: Some(name),
                        });
                    }
                }
                _ => i += 1,
            }
        }
    }
}

impl Scan<'_> {
    /// Opens a definition when the line so far is `def NAME`, `async def
    /// NAME` or `class NAME` (called before the name's `(` or `:`).
    fn open_definition(&mut self) {
        let text = self.text;
        let words: Vec<&str> = self
            .line
            .iter()
            .map(|(t, r)| {
                if *t == Tok::Name {
                    &text[r.clone()]
                } else {
                    ""
                }
            })
            .collect();
        let (kind, name) = match words.as_slice() {
            ["def", name] | ["async", "def", name] => (DefKind::Function, *name),
            ["class", name] => (DefKind::Class, *name),
            _ => return,
        };
        if name.is_empty() {
            return;
        }
        let qualname = match self.scopes.last() {
            Some(&(_, parent)) => format!("{}.{name}", self.defs[parent].qualname),
            None => name.to_string(),
        };
        let start = self.line[0].1.start;
        self.defs.push(Definition {
            qualname,
            kind,
            summary: None,
            docstring: None,
            span: start..self.text.len(),
            calls: Vec::new(),
        });
        self.scopes.push((self.line_indent, self.defs.len() - 1));
    }
}

/// The dotted name of `line` from token `i`, and the token after it.
fn dotted(text: &str, line: &[(Tok, Range<usize>)], mut i: usize) -> (String, usize) {
    let mut out = String::new();
    while let Some((Tok::Name, r)) = line.get(i) {
        out.push_str(&text[r.clone()]);
        i += 1;
        if line.get(i).is_some_and(|(t, _)| *t == Tok::Dot)
            && line.get(i + 1).is_some_and(|(t, _)| *t == Tok::Name)
        {
            out.push('.');
            i += 1;
        } else {
            break;
        }
    }
    (out, i)
}

/// The first paragraph of a docstring's text on one line, bounded.
fn summary_of(content: &str, raw: bool) -> String {
    let mut out = String::new();
    for line in content.lines().map(str::trim) {
        if line.is_empty() {
            if out.is_empty() {
                continue;
            }
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
        if out.chars().count() > SUMMARY_CHARS {
            break;
        }
    }
    let mut out = if raw {
        out
    } else {
        out.replace("\\n", " ")
            .replace("\\\"", "\"")
            .replace("\\'", "'")
    };
    if out.chars().count() > SUMMARY_CHARS {
        out = out.chars().take(SUMMARY_CHARS - 3).collect::<String>() + "...";
    }
    out
}

fn indentation(bytes: &[u8], mut i: usize) -> (usize, usize) {
    let mut col = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' => col += 1,
            b'\t' => col = (col / 8 + 1) * 8,
            b'\x0c' => col = 0,
            _ => break,
        }
        i += 1;
    }
    (col, i)
}

fn skip_comment(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
        i += 1;
    }
    i
}

fn skip_line(bytes: &[u8], i: usize) -> usize {
    let mut i = skip_comment(bytes, i);
    if bytes.get(i) == Some(&b'\r') {
        i += 1;
    }
    if bytes.get(i) == Some(&b'\n') {
        i += 1;
    }
    i
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn name_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
    {
        i += 1;
    }
    i
}

fn is_string_prefix(word: &str) -> bool {
    word.len() <= 2
        && word
            .chars()
            .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f' | 't'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = r#"'The module.'
import os.path
import numpy as np
from .util import helper as h, other
from . import sibling
from pkg.sub import (Thing,
                     thing_factory)


def a(x):
    """Add things.

    More text.
    """
    s = "b(not a call)"  # c(not a call either)
    return b(x) + self_free(x) + os.path.join(x) + h(x).strip() + sibling.f()


async def b(x): return a(x)


class K(Base):
    r'''Hold K.'''

    def m(self):
        def inner():
            return helper2()
        return self.n() + K.n(self) + inner() + \
            Thing.make()

    def n(self):
        pass
"#;

    #[test]
    fn finds_definitions_with_qualnames_summaries_and_spans() {
        let index = ModuleIndex::scan(MODULE);
        let names: Vec<&str> = index
            .definitions
            .iter()
            .map(|d| d.qualname.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "K", "K.m", "K.m.inner", "K.n"]);
        assert_eq!(
            index.get("a").and_then(|d| d.summary.as_deref()),
            Some("Add things.")
        );
        assert_eq!(
            index.get("K").and_then(|d| d.summary.as_deref()),
            Some("Hold K.")
        );
        assert_eq!(index.get("b").and_then(|d| d.summary.as_deref()), None);
        assert_eq!(index.get("K.n").and_then(|d| d.summary.as_deref()), None);
        let a = index
            .get("a")
            .map(|d| &MODULE[d.span.clone()])
            .unwrap_or_default();
        assert!(
            a.starts_with("def a(x):") && a.trim_end().ends_with("sibling.f()"),
            "{a:?}"
        );
        assert_eq!(index.get("K").map(|d| d.kind), Some(DefKind::Class));
    }

    #[test]
    fn finds_calls_outside_strings_and_comments() {
        let index = ModuleIndex::scan(MODULE);
        let calls = |q: &str| index.get(q).map(|d| d.calls.clone()).unwrap_or_default();
        assert_eq!(
            calls("a"),
            ["b", "self_free", "os.path.join", "h", "sibling.f"]
        );
        assert_eq!(calls("b"), ["a"]);
        assert_eq!(calls("K.m"), ["self.n", "K.n", "inner", "Thing.make"]);
        assert_eq!(calls("K.m.inner"), ["helper2"]);
    }

    #[test]
    fn finds_import_bindings() {
        let index = ModuleIndex::scan(MODULE);
        let bound = |local: &str| {
            index
                .binding(local)
                .map(|i| (i.module.clone(), i.name.clone()))
        };
        assert_eq!(bound("os"), Some(("os".into(), None)));
        assert_eq!(bound("np"), Some(("numpy".into(), None)));
        assert_eq!(bound("h"), Some((".util".into(), Some("helper".into()))));
        assert_eq!(bound("other"), Some((".util".into(), Some("other".into()))));
        assert_eq!(bound("sibling"), Some((".".into(), Some("sibling".into()))));
        assert_eq!(
            bound("thing_factory"),
            Some(("pkg.sub".into(), Some("thing_factory".into())))
        );
        assert_eq!(bound("path"), None);
    }

    #[test]
    fn a_string_that_is_not_the_first_statement_is_no_docstring() {
        let index = ModuleIndex::scan(
            "def f():\n    x = 1\n    \"\"\"Not a docstring.\"\"\"\n\ndef g():\n    \"\"\"Doc\"\"\".strip()\n",
        );
        assert_eq!(index.get("f").and_then(|d| d.summary.clone()), None);
        assert_eq!(index.get("g").and_then(|d| d.summary.clone()), None);
    }

    #[test]
    fn the_module_docstring_is_the_first_statement_made_of_a_string() {
        let text = "#!/usr/bin/env python3\n# comment\n\n\"\"\"Module.\n\nNotes\n-----\nText.\n\"\"\"\nx = 1\n";
        let index = ModuleIndex::scan(text);
        let span = index.docstring.clone().unwrap_or_default();
        assert_eq!(&text[span], "Module.\n\nNotes\n-----\nText.\n");
        assert_eq!(
            ModuleIndex::scan("x = 1\n\"\"\"Not a docstring.\"\"\"\n").docstring,
            None
        );
        assert_eq!(ModuleIndex::scan("\"\"\"a\"\"\" + b\n").docstring, None);
        let text = "def f():\n    \"\"\"F.\n\n    Args:\n        x: X.\n    \"\"\"\n";
        let f = ModuleIndex::scan(text);
        let span = f
            .get("f")
            .and_then(|d| d.docstring.clone())
            .unwrap_or_default();
        assert!(text[span].contains("Args:"));
        assert_eq!(f.docstring, None);
    }
}
