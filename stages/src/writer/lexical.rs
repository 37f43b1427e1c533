//! The fast half of the safety check: CPython's tokens (as
//! [`crate::python::tokenize`] reads them) of the original and of the
//! rewritten text are the same once the docstrings the writer replaced or
//! inserted are set aside, and each written docstring is where Python reads
//! a docstring.
//!
//! It only ever says "proven": when the tokens differ, or the tokenizer
//! cannot read a text, or a docstring is anywhere but right after the
//! indentation that opens a `def` or `class` body (or first in the module),
//! the tree-sitter comparison in [`super::tokens`] decides, as it did for
//! every file before. What passes here is the common case (a line inserted
//! at the start of an indented body, a literal replaced in place) and costs
//! two linear scans instead of two parses and a tree walk. One-line bodies
//! turned into blocks, docstrings after a comment at the start of a body
//! and the like go the slow way.
//!
//! When the tokens prove the rewrite, Python accepts the new text exactly
//! when it accepts the original: a docstring statement at the start of a
//! block or module is always grammatical, the outside tokens are the same,
//! and [`plain_literal`] makes sure each written literal is one Python
//! compiles (no `\N{...}` name it would have to look up, no truncated
//! escape, no NUL). The one exception, a module docstring put in front of
//! a string statement before `from __future__`, is left to the slow way
//! too: a module-level insertion in a file that names `__future__` is not
//! proven here.

use std::collections::VecDeque;
use std::ops::Range;

use crate::python::tokenize::{Batches, Kind, Token};

/// Tokens per batch: the proof holds about this many tokens of each text
/// at a time (under a MB), whatever the size of the file.
const BATCH_TOKENS: usize = 1 << 14;

/// Whether the tokens prove that `rewritten` differs from `original` only
/// in the docstring literals at `replaced` (in the original) and `written`
/// (in the rewritten text), each written one a docstring Python compiles.
pub fn proven(
    original: &str,
    rewritten: &str,
    replaced: &[Range<usize>],
    written: &[Range<usize>],
) -> bool {
    proven_in_batches(original, rewritten, replaced, written, BATCH_TOKENS)
}

/// [`proven`], reading each text in batches of at least `batch` tokens
/// cut at the module's top-level statements. Everything the proof looks
/// at around a token (its logical line, a docstring's block header, a
/// one-line block's end) lies inside the top-level statement it belongs
/// to, so the answer is the same for every batch size; the smaller the
/// batches, the less memory a big file costs. Public so that the tests
/// can prove it over real code with batches of one statement.
pub fn proven_in_batches(
    original: &str,
    rewritten: &str,
    replaced: &[Range<usize>],
    written: &[Range<usize>],
    batch: usize,
) -> bool {
    if !written
        .iter()
        .all(|span| rewritten.get(span.clone()).is_some_and(plain_literal))
    {
        return false;
    }
    let mut old = Kept::new(original, replaced, false, batch);
    let mut new = Kept::new(rewritten, written, true, batch);
    let (mut a, mut b) = (VecDeque::new(), VecDeque::new());
    loop {
        let (Some(x), Some(y)) = (old.next_into(&mut a), new.next_into(&mut b)) else {
            return false;
        };
        match (x, y) {
            (None, None) => return old.complete() && new.complete(),
            (Some(x), Some(y)) if same(&x, original, &y, rewritten) => {}
            _ => return false,
        }
    }
}

/// One text's tokens without its docstrings, normalised (see [`without`]),
/// read a batch at a time.
struct Kept<'t> {
    text: &'t str,
    batches: Batches<'t>,
    /// The docstring spans, in order; those before `next_span` are behind.
    spans: Vec<Range<usize>>,
    next_span: usize,
    /// The spans are written docstrings, which must be in docstring places.
    placed: bool,
    /// A token other than a comment is behind (so the module's first
    /// statement is).
    code_seen: bool,
    /// A docstring was written first in the module, which a `__future__`
    /// import anywhere in the text would break.
    module_docstring: bool,
    /// The text names `__future__`.
    future: bool,
}

impl<'t> Kept<'t> {
    fn new(text: &'t str, spans: &[Range<usize>], placed: bool, batch: usize) -> Kept<'t> {
        let mut spans = spans.to_vec();
        spans.sort_by_key(|s| s.start);
        Kept {
            text,
            batches: Batches::new(text, batch),
            spans,
            next_span: 0,
            placed,
            code_seen: false,
            module_docstring: false,
            future: false,
        }
    }

    /// The next kept token, through `queue`: `Some(None)` at the end,
    /// `None` when the text does not read as tokens or a span is no
    /// docstring (nothing is proven then).
    fn next_into(&mut self, queue: &mut VecDeque<Token>) -> Option<Option<Token>> {
        while queue.is_empty() {
            let Some(batch) = self.batches.next() else {
                return Some(None);
            };
            let batch = batch.ok()?;
            let first = !self.code_seen;
            self.code_seen |= batch.tokens.iter().any(|t| t.kind != Kind::Comment);
            // The spans up to where the next batch starts are this batch's.
            let from = self.next_span;
            self.next_span += self.spans[from..].partition_point(|s| s.start < batch.end);
            let spans = &self.spans[from..self.next_span];
            self.future |= batch
                .tokens
                .iter()
                .any(|t| t.kind == Kind::Name && &self.text[t.span.clone()] == "__future__");
            let kept = without(&batch.tokens, spans, self.text, self.placed, first)?;
            self.module_docstring |= kept.module_docstring;
            queue.extend(kept.tokens);
        }
        Some(queue.pop_front())
    }

    /// Whether every span was met and no docstring written first in the
    /// module is broken by a `__future__` import.
    fn complete(&self) -> bool {
        self.next_span == self.spans.len() && !(self.module_docstring && self.future)
    }
}

/// What [`without`] keeps of a batch.
struct Without {
    tokens: Vec<Token>,
    /// A docstring was found (and set aside) first in the module.
    module_docstring: bool,
}

/// `tokens` without the docstring literals at `spans` and the line breaks
/// that end their statements (a comment between stays), normalised by
/// [`comments_after_indentation`] and [`one_line_blocks_inline`]. `None`
/// when a span is not exactly one string token ending its statement, or
/// (with `placed`) not where Python reads a docstring. `first`: only
/// comments come before `tokens` in the module.
fn without(
    tokens: &[Token],
    spans: &[Range<usize>],
    text: &str,
    placed: bool,
    first: bool,
) -> Option<Without> {
    let mut spans = spans.iter().peekable();
    let mut out = Vec::with_capacity(tokens.len());
    let mut module_docstring = false;
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if let Some(span) = spans.peek()
            && token.span.start >= span.start
        {
            if token.kind != Kind::String || token.span != **span {
                return None;
            }
            if placed {
                match docstring_place(tokens, i, text, first)? {
                    Place::Module => module_docstring = true,
                    Place::Body => {}
                }
            }
            spans.next();
            let mut j = i + 1;
            if tokens.get(j).is_some_and(|t| t.kind == Kind::Comment) {
                out.push(tokens[j].clone());
                j += 1;
            }
            if tokens.get(j).is_none_or(|t| t.kind != Kind::Newline) {
                return None;
            }
            i = j + 1;
            continue;
        }
        out.push(token.clone());
        i += 1;
    }
    if spans.next().is_some() {
        return None;
    }
    Some(Without {
        tokens: one_line_blocks_inline(comments_after_indentation(out), text),
        module_docstring,
    })
}

/// The words that start the header of a block that may be a one-line
/// body (`match` and `case` are left out: as soft keywords they may start
/// an annotation too).
const HEADERS: [&str; 12] = [
    "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "def", "class",
    "async",
];

/// Whether `word` may start a compound statement: a header word, or a
/// soft keyword that may start one (and a simple one too). A line starting
/// with one is never inlined.
fn compound(word: &str) -> bool {
    HEADERS.contains(&word) || matches!(word, "match" | "case")
}

/// The first token of the logical line that `tokens[end]` is in (comments,
/// indents and dedents before it aside).
fn line_opener(tokens: &[Token], end: usize) -> Option<&Token> {
    let mut start = end;
    while start > 0 && tokens[start - 1].kind != Kind::Newline {
        start -= 1;
    }
    tokens[start..end]
        .iter()
        .find(|t| !matches!(t.kind, Kind::Indent | Kind::Dedent | Kind::Comment))
}

/// `tokens` (of `text`) with each block of one simple logical line written
/// as a one-line body: the line break and indent after its header's `:` and
/// its dedent left out, so that `def f(): return a` and the block the writer
/// makes of it to hold a docstring compare equal. The two are the same
/// statement to Python. A compound statement cannot be a one-line body
/// (`try: for x in y: ...` is not Python), so a block whose line starts one
/// is left as it is.
fn one_line_blocks_inline(tokens: Vec<Token>, text: &str) -> Vec<Token> {
    let mut drop = vec![false; tokens.len()];
    for j in 2..tokens.len() {
        if tokens[j].kind != Kind::Indent
            || tokens[j - 1].kind != Kind::Newline
            || !(tokens[j - 2].kind == Kind::Op && &text[tokens[j - 2].span.clone()] == ":")
        {
            continue;
        }
        let Some(end) = tokens[j + 1..]
            .iter()
            .position(|t| matches!(t.kind, Kind::Newline | Kind::Indent))
            .map(|p| j + 1 + p)
        else {
            continue;
        };
        // The header is a compound statement's: `x:` then `int = 5` on the
        // next line is no block but an annotation broken in two.
        let header = line_opener(&tokens, j - 2)
            .is_some_and(|t| t.kind == Kind::Name && HEADERS.contains(&&text[t.span.clone()]));
        let simple = header
            && tokens.get(j + 1).is_some_and(|t| {
                !(t.kind == Kind::Op && &text[t.span.clone()] == "@"
                    || t.kind == Kind::Name && compound(&text[t.span.clone()]))
            });
        if simple
            && tokens[end].kind == Kind::Newline
            && tokens.get(end + 1).is_some_and(|t| t.kind == Kind::Dedent)
        {
            drop[j - 1] = true;
            drop[j] = true;
            drop[end + 1] = true;
        }
    }
    tokens
        .into_iter()
        .zip(drop)
        .filter_map(|(t, d)| (!d).then_some(t))
        .collect()
}

/// `tokens` with each indent and dedent moved ahead of the comments right
/// before it. CPython puts the comment lines at the start of a block
/// before its INDENT (a comment line has no indentation of its own), so a
/// docstring inserted above such comments moves the INDENT from after them
/// to before them; the code and the comments' order are the same.
fn comments_after_indentation(tokens: Vec<Token>) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut comments = Vec::new();
    for token in tokens {
        match token.kind {
            Kind::Comment => comments.push(token),
            Kind::Indent | Kind::Dedent => out.push(token),
            _ => {
                out.append(&mut comments);
                out.push(token);
            }
        }
    }
    out.append(&mut comments);
    out
}

/// Where a docstring is.
enum Place {
    /// First in the module.
    Module,
    /// First in the body of a `def` or `class`.
    Body,
}

/// Whether the string token at `i` is where Python reads a docstring: the
/// first token of the module (comments aside; `first` says that only
/// comments come before `tokens`), or the first token of the indented body of a `def`
/// or `class`. `None` when it is neither.
fn docstring_place(tokens: &[Token], i: usize, text: &str, first: bool) -> Option<Place> {
    let word = |t: &Token| &text[t.span.clone()];
    if tokens[..i].iter().all(|t| t.kind == Kind::Comment) {
        return first.then_some(Place::Module);
    }
    if i < 3 || tokens[i - 1].kind != Kind::Indent {
        return None;
    }
    // Back over comment lines at the start of the body, the header's line
    // break and the comments on the header's line, to its `:`.
    let mut k = i - 2;
    let mut newline = false;
    loop {
        match tokens[k].kind {
            Kind::Comment => {}
            Kind::Newline if !newline => newline = true,
            _ => break,
        }
        if k == 0 {
            return None;
        }
        k -= 1;
    }
    if !(newline && tokens[k].kind == Kind::Op && word(&tokens[k]) == ":") {
        return None;
    }
    line_opener(tokens, k)
        .is_some_and(|t| t.kind == Kind::Name && matches!(word(t), "def" | "class" | "async"))
        .then_some(Place::Body)
}

/// Whether two tokens are the same: of one kind and, but for line breaks
/// and dedents (which have no text of their own), the same text.
fn same(a: &Token, a_text: &str, b: &Token, b_text: &str) -> bool {
    a.kind == b.kind
        && (matches!(a.kind, Kind::Newline | Kind::Dedent)
            || a_text[a.span.clone()] == b_text[b.span.clone()])
}

/// Whether `literal` is a `str` literal Python compiles without looking
/// anything up: no bytes or f-string prefix, no NUL, and, unless raw, only
/// escapes that are complete (`\N{...}` is not accepted here: only Python
/// knows the names).
pub fn plain_literal(literal: &str) -> bool {
    let quote = literal.find(['"', '\'']).unwrap_or(literal.len());
    let prefix = literal[..quote].to_ascii_lowercase();
    if !matches!(prefix.as_str(), "" | "r" | "u") || literal.contains('\0') {
        return false;
    }
    if prefix == "r" {
        return true;
    }
    let bytes = literal.as_bytes();
    let hex = |from: usize, count: usize| {
        bytes
            .get(from..from + count)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    };
    let mut i = quote;
    while let Some(k) = memchr::memchr(b'\\', &bytes[i..]) {
        let at = i + k;
        i = match bytes.get(at + 1) {
            Some(b'x') if hex(at + 2, 2) => at + 4,
            Some(b'u') if hex(at + 2, 4) => at + 6,
            Some(b'U') if hex(at + 2, 8) => {
                let value = u32::from_str_radix(&literal[at + 2..at + 10], 16).unwrap_or(u32::MAX);
                if value > 0x10FFFF {
                    return false;
                }
                at + 10
            }
            Some(b'x' | b'u' | b'U' | b'N') | None => return false,
            Some(_) => at + 2,
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_of(text: &str, needle: &str) -> Range<usize> {
        let at = text.find(needle).expect("needle in text");
        at..at + needle.len()
    }

    #[test]
    fn an_inserted_and_a_replaced_docstring_are_proven() {
        let old = "\"\"\"Old.\"\"\"\ndef f(a):  # note\n    return a\n\nclass C:\n    x = 1\n";
        let new = "\"\"\"New.\"\"\"\ndef f(a):  # note\n    \"\"\"Doc.\"\"\"\n    return a\n\nclass C:\n    \"\"\"Class.\"\"\"\n\n    x = 1\n";
        let replaced = [span_of(old, "\"\"\"Old.\"\"\"")];
        let written = [
            span_of(new, "\"\"\"New.\"\"\""),
            span_of(new, "\"\"\"Doc.\"\"\""),
            span_of(new, "\"\"\"Class.\"\"\""),
        ];
        assert!(proven(old, new, &replaced, &written));
    }

    #[test]
    fn a_changed_token_or_a_misplaced_docstring_is_not_proven() {
        let old = "def f(a):\n    return a\n";
        let doc = "\"\"\"Doc.\"\"\"";
        // A token changed beside the docstring.
        let new = format!("def f(a):\n    {doc}\n    return b\n");
        assert!(!proven(old, &new, &[], &[span_of(&new, doc)]));
        // The docstring is not the first statement of a def's body.
        let old = "if x:\n    y = 1\n";
        let new = format!("if x:\n    {doc}\n    y = 1\n");
        assert!(!proven(old, &new, &[], &[span_of(&new, doc)]));
        // Written where a statement goes on: `"""Doc.""".strip()`.
        let old = "def f(a):\n    .strip()\n";
        let new = format!("def f(a):\n    {doc}.strip()\n");
        assert!(!proven(old, &new, &[], &[span_of(&new, doc)]));
        // A span that is not exactly one string token.
        let old = "def f(a):\n    return a\n";
        let new = format!("def f(a):\n    {doc}\n    return a\n");
        let span = span_of(&new, doc);
        let short: Range<usize> = span.start..span.end - 1;
        assert!(!proven(old, &new, &[], std::slice::from_ref(&short)));
        // Indented deeper than the statements after it.
        let new = format!("def f(a):\n        {doc}\n    return a\n");
        assert!(!proven(old, &new, &[], &[span_of(&new, doc)]));
        // A module docstring in a file with a `__future__` import.
        let old = "from __future__ import annotations\n";
        let new = format!("{doc}\nfrom __future__ import annotations\n");
        assert!(!proven(old, &new, &[], &[span_of(&new, doc)]));
    }

    #[test]
    fn a_one_line_body_made_a_block_is_proven_and_its_statement_kept() {
        let old = "class C:\n    def f(a): return a  # c\n    x = 1\n";
        let doc = "\"\"\"Doc.\"\"\"";
        let new =
            format!("class C:\n    def f(a):\n        {doc}\n        return a  # c\n    x = 1\n");
        assert!(proven(old, &new, &[], &[span_of(&new, doc)]));
        let changed =
            format!("class C:\n    def f(a):\n        {doc}\n        return b  # c\n    x = 1\n");
        assert!(!proven(old, &changed, &[], &[span_of(&changed, doc)]));
        // The next statement pulled into the new block.
        let swallowed = format!(
            "class C:\n    def f(a):\n        {doc}\n        return a  # c\n        x = 1\n"
        );
        assert!(!proven(old, &swallowed, &[], &[span_of(&swallowed, doc)]));
    }

    #[test]
    fn code_python_reads_otherwise_is_not_proven_though_its_characters_are_close() {
        // Each pair was found by tests/writer_token_proof.rs: the second
        // text is not the first to Python (or not Python at all).
        let pairs = [
            ("if a == b:\n    pass\n", "if a = = b:\n    pass\n"),
            ("f(*args, **kw)\n", "f(*args, *\\\n*kw)\n"),
            ("x = 1\n", "x = 1\\\n"),
            ("x = 1e-12\n", "x = 1e\\\n-12\n"),
            ("import a.b\n", "import\n    a.b\n"),
            ("x: int = 5\n", "x:\n int = 5\n"),
            (
                "try:\n    for c in d:\n        e\nexcept E:\n    pass\n",
                "try:    for c in d:\n        e\nexcept E:\n    pass\n",
            ),
            (
                "class C:\n    def f(self): pass\n",
                "class C: def f(self): pass\n",
            ),
        ];
        for (old, new) in pairs {
            assert!(
                !proven(old, new, &[], &[]),
                "{new:?} proven the same as {old:?}"
            );
        }
        // What is the same to Python is proven.
        assert!(proven("if a:\n    b = 1\n", "if a: b = 1\n", &[], &[]));
        assert!(proven("x = (1,\n  2)\n", "x = (1,\n2)\n", &[], &[]));
    }

    #[test]
    fn only_literals_python_compiles_without_a_lookup_are_plain() {
        assert!(plain_literal(
            "\"\"\"A \\\\ b \\x41 \\u0041 \\U0001F600 \\q.\"\"\""
        ));
        assert!(plain_literal("r\"\"\"\\N{DASH} \\x\"\"\""));
        assert!(!plain_literal("\"\"\"\\N{DASH}\"\"\""));
        assert!(!plain_literal("\"\"\"\\x4\"\"\""));
        assert!(!plain_literal("\"\"\"\\U00110000\"\"\""));
        assert!(!plain_literal("b\"\"\"x\"\"\""));
        assert!(!plain_literal("f\"\"\"{x}\"\"\""));
        assert!(!plain_literal("\"\"\"a\0b\"\"\""));
    }
}
