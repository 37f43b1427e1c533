//! Python's tokens as CPython's tokenizer makes them: names, numbers,
//! operators, strings, comments, the ends of logical lines and the changes
//! of indentation. The writer's safety check compares the tokens of a file
//! before and after a rewrite with it (see `writer::tokens`); it is a second
//! reading of the file, independent of tree-sitter's grammar.
//!
//! It follows CPython 3.12's rules where they decide where a token starts
//! and ends: string prefixes, triple quotes, backslash escapes and
//! continuation lines, brackets that join lines, blank and comment-only
//! lines that have no indentation of their own, tabs (to the next multiple
//! of 8, with the same consistency check as CPython's `TabError`), form
//! feeds, `\r\n` and lone `\r` line breaks, and f-strings whose replacement
//! fields hold strings and brackets of their own (PEP 701). An f-string is
//! one token here, as it was before 3.12. Operators are Python's (`==` is
//! one token, `= =` two), and so are numbers' extents (`1e-5` is one). It
//! does not tell valid tokens from invalid ones (`0x` or `1if` are read
//! whole); what it is for is to be exact about which bytes belong to which
//! token, string, comment and line, so that two texts it reads as the same
//! tokens are the same tokens to Python.
//! Anything it cannot read as Python (an unterminated string, a dedent to a
//! level never opened, inconsistent tabs) is an error, and a caller falls
//! back on a slower, stricter check.

use std::ops::Range;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An identifier or keyword.
    Name,
    /// A numeric literal (digits and the letters and dots that follow them).
    Number,
    /// One character of an operator or delimiter.
    Op,
    /// A string literal, prefix and quotes included; an f-string is one token.
    String,
    /// A comment, from `#` to the end of its line.
    Comment,
    /// The end of a logical line.
    Newline,
    /// A deeper indentation than the block's; the span is the line's indentation.
    Indent,
    /// The end of an indented block (empty span).
    Dedent,
}

/// One token: its kind and its bytes in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// Where it is.
    pub span: Range<usize>,
}

/// Why a text is not read as Python.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    /// A string literal that does not end.
    #[error("a string that starts at byte {0} does not end")]
    Unterminated(usize),
    /// A dedent to a column no enclosing block has.
    #[error("the indentation at byte {0} matches no outer block")]
    Dedent(usize),
    /// Tabs and spaces mixed so that the meaning depends on the tab size.
    #[error("the indentation at byte {0} mixes tabs and spaces inconsistently")]
    Tabs(usize),
    /// A line continuation that is not followed by a line break.
    #[error("a backslash at byte {0} is not followed by a line break")]
    Backslash(usize),
}

/// The tokens of `text`. Blank lines, comment-only lines' line breaks and
/// whitespace are not tokens; comments are.
pub fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let mut lexer = Lexer::new(text, usize::MAX);
    lexer.out.reserve(text.len() / 4);
    lexer.run()?;
    Ok(lexer.out)
}

/// The tokens of a text in batches, each ending where a statement at the
/// module's top level starts (after the DEDENTs that close the blocks
/// before it), so that a reader holds one batch at a time, not the whole
/// file's tokens.
///
/// The batches are exactly [`tokenize`]'s tokens, cut into pieces: a
/// batch holds at least `at_least` tokens (the last one may hold fewer),
/// and every batch after the first starts with the first token of a
/// logical line at column 0, which is never a comment, an INDENT or a
/// DEDENT. A logical line, and so a block's header with its indented body,
/// is never cut.
pub struct Batches<'a> {
    lexer: Lexer<'a>,
    finished: bool,
}

/// One batch of [`Batches`].
pub struct Batch {
    /// Its tokens.
    pub tokens: Vec<Token>,
    /// The byte offset where the next batch starts (the text's length for the last).
    pub end: usize,
}

impl<'a> Batches<'a> {
    /// Batches of `text`'s tokens of at least `at_least` tokens each.
    pub fn new(text: &'a str, at_least: usize) -> Batches<'a> {
        Batches {
            lexer: Lexer::new(text, at_least.max(1)),
            finished: false,
        }
    }
}

impl Iterator for Batches<'_> {
    type Item = Result<Batch, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let lexer = &mut self.lexer;
        match lexer.run() {
            Ok(done) => {
                self.finished = done;
                let room = lexer.out.capacity().min(lexer.batch);
                let tokens = std::mem::replace(&mut lexer.out, Vec::with_capacity(room));
                Some(Ok(Batch {
                    tokens,
                    end: lexer.i,
                }))
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}

struct Lexer<'a> {
    b: &'a [u8],
    i: usize,
    out: Vec<Token>,
    /// Open brackets: line breaks inside them do not end the logical line.
    depth: usize,
    /// The indentation of each open block: (column with tabs to multiples
    /// of 8, column with tabs as 1), as CPython keeps `indstack`/`altindstack`.
    indents: Vec<(usize, usize)>,
    /// At the start of a logical line (not inside brackets, not after a continuation).
    line_start: bool,
    /// [`Lexer::run`] pauses at the first top-level statement after this many tokens.
    batch: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str, batch: usize) -> Lexer<'a> {
        Lexer {
            b: text.as_bytes(),
            i: 0,
            out: Vec::with_capacity(batch.min(text.len() / 4).min(1 << 16)),
            depth: 0,
            indents: vec![(0, 0)],
            line_start: true,
            batch,
        }
    }
}

impl Lexer<'_> {
    fn push(&mut self, kind: Kind, span: Range<usize>) {
        self.out.push(Token { kind, span });
    }

    /// Reads tokens into `out` up to the end of the text (`Ok(true)`) or,
    /// once `out` holds `batch` tokens, up to the first token of a logical
    /// line at column 0 (`Ok(false)`; the next call goes on from there).
    fn run(&mut self) -> Result<bool, LexError> {
        let n = self.b.len();
        while self.i < n {
            if self.line_start && self.depth == 0 {
                if !self.indentation()? {
                    continue;
                }
                if self.i >= n {
                    break;
                }
                if self.indents.len() == 1 && self.out.len() >= self.batch {
                    return Ok(false);
                }
            }
            let c = self.b[self.i];
            match c {
                b' ' | b'\t' | b'\x0c' => self.i += 1,
                b'\n' | b'\r' => {
                    let start = self.i;
                    self.i = newline_end(self.b, self.i);
                    if self.depth == 0 {
                        self.push(Kind::Newline, start..self.i);
                        self.line_start = true;
                    }
                }
                b'#' => {
                    let end = line_end(self.b, self.i);
                    self.push(Kind::Comment, self.i..end);
                    self.i = end;
                }
                b'\\' => {
                    let next = self.i + 1;
                    // A continuation joins the next line; at the end of the
                    // text there is none, and CPython sees an unexpected end.
                    if next < n && (self.b[next] == b'\n' || self.b[next] == b'\r') {
                        self.i = newline_end(self.b, next);
                        if self.i >= n {
                            return Err(LexError::Backslash(next - 1));
                        }
                    } else {
                        return Err(LexError::Backslash(self.i));
                    }
                }
                b'"' | b'\'' => {
                    let start = self.i;
                    self.i = string_end(self.b, start, start)?;
                    self.push(Kind::String, start..self.i);
                }
                b'0'..=b'9' => {
                    let start = self.i;
                    self.i = number_end(self.b, self.i);
                    self.push(Kind::Number, start..self.i);
                }
                b'.' if self.b.get(self.i + 1).is_some_and(u8::is_ascii_digit) => {
                    let start = self.i;
                    self.i = number_end(self.b, self.i);
                    self.push(Kind::Number, start..self.i);
                }
                _ if is_name_byte(c) => {
                    let start = self.i;
                    let end = name_end(self.b, self.i);
                    if is_string_prefix(&self.b[start..end])
                        && matches!(self.b.get(end), Some(b'"' | b'\''))
                    {
                        self.i = string_end(self.b, start, end)?;
                        self.push(Kind::String, start..self.i);
                    } else {
                        self.i = end;
                        self.push(Kind::Name, start..end);
                    }
                }
                _ => {
                    match c {
                        b'(' | b'[' | b'{' => self.depth += 1,
                        b')' | b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                        _ => {}
                    }
                    let len = operator_len(&self.b[self.i..]);
                    self.push(Kind::Op, self.i..self.i + len);
                    self.i += len;
                }
            }
        }
        // The last line may have no line break; its logical line ends anyway.
        if !self.line_start {
            self.push(Kind::Newline, n..n);
        }
        for _ in 1..self.indents.len() {
            self.push(Kind::Dedent, n..n);
        }
        self.indents.truncate(1);
        self.line_start = true;
        self.i = n;
        Ok(true)
    }

    /// Reads the indentation at the start of a line. A blank or
    /// comment-only line is consumed whole (its comment a token) and
    /// `false` returned; otherwise the indentation is compared with the
    /// open blocks', INDENT or DEDENTs pushed, and `true` returned.
    fn indentation(&mut self) -> Result<bool, LexError> {
        let start = self.i;
        let mut j = self.i;
        while j < self.b.len() && matches!(self.b[j], b' ' | b'\t' | b'\x0c') {
            j += 1;
        }
        let (col, alt) = columns(&self.b[start..j]);
        match self.b.get(j) {
            None => {
                self.i = j;
                return Ok(true);
            }
            Some(b'#') => {
                let end = line_end(self.b, j);
                self.push(Kind::Comment, j..end);
                self.i = newline_end(self.b, end);
                return Ok(false);
            }
            Some(b'\n' | b'\r') => {
                self.i = newline_end(self.b, j);
                return Ok(false);
            }
            Some(b'\\') => {
                // A continuation right after the indentation: CPython's
                // rules here are subtle; leave such a file to the slow check.
                return Err(LexError::Backslash(j));
            }
            Some(_) => {}
        }
        let (top_col, top_alt) = self.indents.last().copied().unwrap_or((0, 0));
        if col > top_col {
            if alt <= top_alt {
                return Err(LexError::Tabs(start));
            }
            self.indents.push((col, alt));
            self.push(Kind::Indent, start..j);
        } else {
            while self.indents.len() > 1 && col < self.indents.last().map_or(0, |t| t.0) {
                self.indents.pop();
                self.push(Kind::Dedent, j..j);
            }
            let (top_col, top_alt) = self.indents.last().copied().unwrap_or((0, 0));
            if col != top_col {
                return Err(LexError::Dedent(start));
            }
            if alt != top_alt {
                return Err(LexError::Tabs(start));
            }
        }
        self.i = j;
        self.line_start = false;
        Ok(true)
    }
}

/// The length of the operator at the start of `b`: the longest of
/// Python's operators and delimiters (`**=`, `==`, `->`, `...`) that it
/// starts with, else one character.
fn operator_len(b: &[u8]) -> usize {
    const THREE: [&[u8]; 5] = [b"**=", b"...", b"//=", b"<<=", b">>="];
    const TWO: [&[u8]; 20] = [
        b"!=", b"%=", b"&=", b"**", b"*=", b"+=", b"-=", b"->", b"//", b"/=", b":=", b"<<", b"<=",
        b"<>", b"==", b">=", b">>", b"@=", b"^=", b"|=",
    ];
    if THREE.iter().any(|op| b.starts_with(op)) {
        3
    } else if TWO.iter().any(|op| b.starts_with(op)) {
        2
    } else {
        1
    }
}

/// The columns of an indentation, as CPython counts them: (tabs to the
/// next multiple of 8, tabs as one column); a form feed resets both.
pub(crate) fn columns(prefix: &[u8]) -> (usize, usize) {
    let (mut col, mut alt) = (0, 0);
    for &b in prefix {
        match b {
            b' ' => {
                col += 1;
                alt += 1;
            }
            b'\t' => {
                col = (col / 8 + 1) * 8;
                alt += 1;
            }
            _ => {
                col = 0;
                alt = 0;
            }
        }
    }
    (col, alt)
}

/// The end of the line break at `i` (`\r\n` is one), or `i` at the end of the text.
fn newline_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'\r') if b.get(i + 1) == Some(&b'\n') => i + 2,
        Some(b'\r' | b'\n') => i + 1,
        _ => i,
    }
}

/// The offset of the line break at or after `i`, or the end of the text.
fn line_end(b: &[u8], i: usize) -> usize {
    memchr::memchr2(b'\n', b'\r', &b[i..]).map_or(b.len(), |k| i + k)
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn name_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_name_byte(b[i]) {
        i += 1;
    }
    i
}

/// The end of the number that starts at `start`: its digits, letters,
/// underscores and dots, and the sign of a decimal exponent (`1e-5` is one
/// token; `1e - 5` is three).
fn number_end(b: &[u8], start: usize) -> usize {
    let radix = b[start] == b'0'
        && matches!(
            b.get(start + 1),
            Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
        );
    // One dot, before any exponent: `1.5e100.real` is a number, a dot and a name.
    let (mut dot, mut exponent) = (false, false);
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        let sign = matches!(c, b'+' | b'-')
            && !radix
            && i > start
            && matches!(b[i - 1], b'e' | b'E')
            && b.get(i + 1).is_some_and(u8::is_ascii_digit);
        let point = c == b'.' && !radix && !dot && !exponent;
        if !(is_name_byte(c) || point || sign) {
            break;
        }
        dot |= point;
        exponent |= !radix && matches!(c, b'e' | b'E');
        i += 1;
    }
    i
}

/// Whether `word` is a string prefix: `r`, `u`, `b`, `f`, `t` and the
/// two-letter combinations Python allows, in any case.
fn is_string_prefix(word: &[u8]) -> bool {
    let lower: Vec<u8> = word.iter().map(u8::to_ascii_lowercase).collect();
    matches!(
        lower.as_slice(),
        b"r" | b"u" | b"b" | b"f" | b"t" | b"br" | b"rb" | b"fr" | b"rf" | b"tr" | b"rt"
    )
}

/// The end of the string literal whose prefix starts at `start` and whose
/// opening quote is at `quote`.
fn string_end(b: &[u8], start: usize, quote: usize) -> Result<usize, LexError> {
    let prefix = &b[start..quote];
    let formatted = prefix
        .iter()
        .any(|c| matches!(c.to_ascii_lowercase(), b'f' | b't'));
    let raw = prefix.iter().any(|c| c.eq_ignore_ascii_case(&b'r'));
    let q = b[quote];
    let triple = b.get(quote + 1) == Some(&q) && b.get(quote + 2) == Some(&q);
    let mut i = quote + if triple { 3 } else { 1 };
    loop {
        let Some(&c) = b.get(i) else {
            return Err(LexError::Unterminated(start));
        };
        match c {
            b'\\' => {
                let next = b.get(i + 1).copied();
                if formatted && matches!(next, Some(b'{' | b'}')) {
                    // `\{` is a backslash, then a brace that still opens a field.
                    i += 1;
                } else if formatted && !raw && next == Some(b'N') && b.get(i + 2) == Some(&b'{') {
                    // `\N{NAME}`: the braces are the escape's, not a field's.
                    i = memchr::memchr(b'}', &b[i..]).map_or(b.len(), |k| i + k + 1);
                } else {
                    i = match next {
                        Some(b'\r' | b'\n') => newline_end(b, i + 1),
                        Some(_) => i + 2,
                        None => return Err(LexError::Unterminated(start)),
                    };
                }
            }
            b'\n' | b'\r' if !triple => return Err(LexError::Unterminated(start)),
            _ if c == q && (!triple || (b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q))) => {
                return Ok(i + if triple { 3 } else { 1 });
            }
            b'{' if formatted => {
                if b.get(i + 1) == Some(&b'{') {
                    i += 2;
                } else {
                    i = field_end(b, i + 1, start)?;
                }
            }
            _ => i += 1,
        }
    }
}

/// The end of an f-string's replacement field whose expression starts at
/// `i` (after its `{`): past its `}`, with strings, brackets, comments and a
/// format spec (which may hold fields of its own) inside. `start` is where
/// the enclosing string starts, for the error.
fn field_end(b: &[u8], mut i: usize, start: usize) -> Result<usize, LexError> {
    let mut depth = 0usize;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(LexError::Unterminated(start));
        };
        match c {
            b'"' | b'\'' => i = string_end(b, i, i)?,
            _ if is_name_byte(c) && !c.is_ascii_digit() => {
                let end = name_end(b, i);
                i = if is_string_prefix(&b[i..end]) && matches!(b.get(end), Some(b'"' | b'\'')) {
                    string_end(b, i, end)?
                } else {
                    end
                };
            }
            b'#' => i = line_end(b, i),
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b'}' => return Ok(i + 1),
            b':' if depth == 0 => return spec_end(b, i + 1, start),
            _ => i += 1,
        }
    }
}

/// The end of a format spec starting at `i`: past the `}` that closes its
/// field; `{` in it opens a nested field.
fn spec_end(b: &[u8], mut i: usize, start: usize) -> Result<usize, LexError> {
    loop {
        match b.get(i) {
            None | Some(b'\n' | b'\r') => return Err(LexError::Unterminated(start)),
            Some(b'{') => i = field_end(b, i + 1, start)?,
            Some(b'}') => return Ok(i + 1),
            Some(_) => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokenize(text)
            .expect("tokenizes")
            .into_iter()
            .map(|t| (t.kind, &text[t.span]))
            .collect()
    }

    #[test]
    fn blocks_open_and_close_with_indent_and_dedent() {
        use Kind::*;
        let text = "def f(a):\n    # c\n\n    return a\nx = 1";
        assert_eq!(
            kinds(text),
            vec![
                (Name, "def"),
                (Name, "f"),
                (Op, "("),
                (Name, "a"),
                (Op, ")"),
                (Op, ":"),
                (Newline, "\n"),
                (Comment, "# c"),
                (Indent, "    "),
                (Name, "return"),
                (Name, "a"),
                (Newline, "\n"),
                (Dedent, ""),
                (Name, "x"),
                (Op, "="),
                (Number, "1"),
                (Newline, ""),
            ]
        );
    }

    #[test]
    fn brackets_and_continuations_join_lines() {
        let text = "x = (1,\n  2)\ny = 1 + \\\n 2\n";
        let newlines = kinds(text)
            .iter()
            .filter(|(k, _)| *k == Kind::Newline)
            .count();
        assert_eq!(newlines, 2);
        assert!(!kinds(text).iter().any(|(k, _)| *k == Kind::Indent));
    }

    #[test]
    fn strings_are_one_token_each_whatever_their_quotes_and_prefixes() {
        let text = concat!(
            "a = rb'\\'' + '''x\n'''\n",
            "b = f\"{x[\"k\"]!r:>{w}} {{}}\" + F'{\"}\"}'\n",
            "c = '\\N{DASH}' + f'\\N{DASH}{y}'\n",
        );
        let strings: Vec<&str> = kinds(text)
            .into_iter()
            .filter(|(k, _)| *k == Kind::String)
            .map(|(_, s)| s)
            .collect();
        assert_eq!(
            strings,
            vec![
                "rb'\\''",
                "'''x\n'''",
                "f\"{x[\"k\"]!r:>{w}} {{}}\"",
                "F'{\"}\"}'",
                "'\\N{DASH}'",
                "f'\\N{DASH}{y}'",
            ]
        );
    }

    #[test]
    fn operators_and_numbers_are_whole() {
        let got = kinds("a **= 1e-5 + 0x1e-2 ... b->c != .5j 1.5e1.real\n");
        let texts: Vec<&str> = got.iter().map(|t| t.1).collect();
        assert_eq!(
            texts,
            vec![
                "a", "**=", "1e-5", "+", "0x1e", "-", "2", "...", "b", "->", "c", "!=", ".5j",
                "1.5e1", ".", "real", "\n"
            ]
        );
    }

    #[test]
    fn a_name_before_a_quote_is_a_prefix_only_when_python_says_so() {
        let got = kinds("print'x'\nrf'y'\n");
        assert_eq!(got[0], (Kind::Name, "print"));
        assert_eq!(got[1], (Kind::String, "'x'"));
        assert_eq!(got[3], (Kind::String, "rf'y'"));
    }

    #[test]
    fn what_python_would_not_tokenize_is_an_error() {
        assert!(matches!(
            tokenize("x = 'abc\n"),
            Err(LexError::Unterminated(4))
        ));
        assert!(matches!(
            tokenize("x = '''abc\n"),
            Err(LexError::Unterminated(4))
        ));
        assert!(matches!(
            tokenize("if x:\n        a\n    b\n"),
            Err(LexError::Dedent(_))
        ));
        // A tab is 8 columns or 1: only consistent mixtures are allowed.
        assert!(matches!(
            tokenize("if x:\n        a\n\tb\n"),
            Err(LexError::Tabs(_))
        ));
        assert!(tokenize("if x:\n\ta\n\tb\n").is_ok());
        assert!(matches!(
            tokenize("x = 1 \\ 2\n"),
            Err(LexError::Backslash(6))
        ));
        // A continuation with no line to join.
        assert!(matches!(
            tokenize("x = 1 \\\n"),
            Err(LexError::Backslash(6))
        ));
    }

    #[test]
    fn lone_carriage_returns_and_form_feeds_are_line_breaks_and_resets() {
        use Kind::*;
        let got = kinds("if x:\r    a\r\x0cb\r\n");
        let ks: Vec<Kind> = got.iter().map(|t| t.0).collect();
        assert_eq!(
            ks,
            vec![
                Name, Name, Op, Newline, Indent, Name, Newline, Dedent, Name, Newline
            ]
        );
    }
}
