//! docpipe's tokenizer (`python::tokenize`, on which the writer's fast
//! safety check rests) against Python's own `tokenize` module, token by
//! token, over every file of the CPython standard library: the same kinds
//! at the same byte spans, line ends and indentation changes included.
//! (Files that are not Python 3, the test suites' bad-syntax samples, are
//! left out, and one file where the `tokenize` module and CPython's
//! compiler disagree.)

mod stdlib_support;

use stdlib_support::{python_files, run_python, stdlib};

use docpipe_stages::python::read_source;
use docpipe_stages::python::tokenize::{Batches, Kind, Token, tokenize};

/// For each file, Python's tokens as [kind, start byte, end byte] of the
/// UTF-8 text (BOM removed), in docpipe's kinds; files Python's tokenize
/// cannot read are left out (`null`).
const PYTHON_TOKENS: &str = r#"
import io, json, sys, tokenize

KINDS = {tokenize.NAME: "Name", tokenize.NUMBER: "Number", tokenize.OP: "Op",
         tokenize.STRING: "String", tokenize.COMMENT: "Comment",
         tokenize.NEWLINE: "Newline", tokenize.INDENT: "Indent", tokenize.DEDENT: "Dedent"}
# Where the `tokenize` module is not CPython: it reads U+E0100 (a variation
# selector, which NFKC removes) as not part of a name, the compiler does.
KNOWN = ("test/test_unicode_identifiers.py",)
out = {}
for path in json.load(open(sys.argv[1], encoding="utf-8")):
    raw = open(path, "rb").read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding).lstrip("\ufeff")
    except (SyntaxError, UnicodeDecodeError, LookupError):
        out[path] = None
        continue
    if "\r" in text.replace("\r\n", "") or path.endswith(KNOWN):
        out[path] = None
        continue
    try:
        compile(raw, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        # Not Python 3 (the test suites' bad-syntax samples): no question of agreeing.
        out[path] = None
        continue
    lines = text.splitlines(keepends=True)
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line.encode("utf-8"))
    starts.append(at)
    def offset(row, col):
        if row - 1 >= len(lines):
            return at
        return starts[row - 1] + len(lines[row - 1][:col].encode("utf-8"))
    tokens = []
    try:
        for t in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = KINDS.get(t.type)
            if kind is None:
                continue
            start, end = offset(*t.start), offset(*t.end)
            if kind == "Dedent":
                start = end = None
            if kind == "Newline" and t.string == "":
                start = end = at
            tokens.append([kind, start, end])
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out[path] = None
        continue
    out[path] = tokens
print(json.dumps(out))
"#;

#[test]
fn the_tokens_are_pythons_over_the_standard_library() {
    let root = stdlib();
    let files = python_files(&root);
    assert!(files.len() > 1000, "too few files under {}", root.display());
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();

    let python: serde_json::Map<String, serde_json::Value> = run_python(PYTHON_TOKENS, &names);

    let (mut compared, mut tokens) = (0, 0);
    let mut differences = Vec::new();
    for (path, name) in files.iter().zip(&names) {
        let Some(theirs) = python.get(name).and_then(|v| v.as_array()) else {
            continue;
        };
        let Ok(file) = read_source(path) else {
            continue;
        };
        let Ok(ours) = tokenize(&file.text) else {
            differences.push(format!("{name}: Python tokenizes it, docpipe does not"));
            continue;
        };
        compared += 1;
        tokens += ours.len();
        if let Err(e) = same_in_batches(&file.text, &ours) {
            differences.push(format!("{name}: {e}"));
        }
        let ours: Vec<serde_json::Value> = ours
            .iter()
            .map(|t| match t.kind {
                Kind::Dedent => serde_json::json!([format!("{:?}", t.kind), null, null]),
                _ => serde_json::json!([format!("{:?}", t.kind), t.span.start, t.span.end]),
            })
            .collect();
        if let Some(i) = (0..ours.len().max(theirs.len())).find(|&i| ours.get(i) != theirs.get(i)) {
            let at = |v: Option<&serde_json::Value>| {
                v.and_then(|t| t.get(1))
                    .and_then(|o| o.as_u64())
                    .map(|o| o as usize)
            };
            let around = at(theirs.get(i))
                .or(at(ours.get(i)))
                .unwrap_or(0)
                .min(file.text.len());
            let from = file.text.floor_char_boundary(around.saturating_sub(30));
            let to = file
                .text
                .ceil_char_boundary((around + 30).min(file.text.len()));
            differences.push(format!(
                "{name}: token {i}: Python {:?}, docpipe {:?}, near {:?}",
                theirs.get(i),
                ours.get(i),
                &file.text[from..to]
            ));
        }
    }
    eprintln!("{compared} files, {tokens} tokens compared");
    assert!(compared > 1000, "too few files compared: {compared}");
    assert!(
        differences.is_empty(),
        "{} file(s) differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Whether the tokens of `text` read in batches of a single top-level
/// statement each (the smallest batches) are `whole`, cut only where a
/// line at column 0 starts with a token that is no comment or indentation.
fn same_in_batches(text: &str, whole: &[Token]) -> Result<(), String> {
    let mut joined: Vec<Token> = Vec::with_capacity(whole.len());
    let mut start = 0;
    for batch in Batches::new(text, 1) {
        let batch = batch.map_err(|e| format!("in batches: {e}"))?;
        if start > 0
            && let Some(first) = batch.tokens.first()
        {
            // What precedes the token on its line: nothing, or form feeds
            // that bring the column back to 0.
            let line = &text[text[..first.span.start]
                .rfind(['\n', '\r'])
                .map_or(0, |k| k + 1)..first.span.start];
            let at_column_0 = line.trim_start_matches([' ', '\t', '\x0c']).is_empty()
                && line.rsplit('\x0c').next().is_some_and(str::is_empty);
            if !at_column_0
                || first.span.start != start
                || matches!(first.kind, Kind::Comment | Kind::Indent | Kind::Dedent)
            {
                return Err(format!("a batch starts with {first:?}, at byte {start}"));
            }
        }
        start = batch.end;
        joined.extend(batch.tokens);
    }
    (joined == whole)
        .then_some(())
        .ok_or_else(|| "the batches joined are not the whole file's tokens".to_string())
}
