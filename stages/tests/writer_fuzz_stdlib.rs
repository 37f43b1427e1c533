//! Property test on real code: random docstrings (quotes, triple quotes,
//! backslashes, a backslash at the end, unicode, NUL and other control
//! characters) are written into every definition of a copy of part of the
//! CPython standard library. Every file must still parse without errors
//! (tree-sitter, and python3's `compile`), its code and comments must be
//! unchanged (python3 compares the ASTs without docstrings; the writer's own
//! check compares tokens and comments), and each docstring's value as Python
//! reads it must be exactly the text written.

mod stdlib_support;
mod writer_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::Arc;
use stdlib_support::{AST_WITHOUT_DOCSTRINGS, python_files, run_python, stdlib};

use docpipe_core::model::{DocModel, Envelope, UnitState};
use docpipe_core::stage::{Sink, WriteMode};
use docpipe_core::style::{RenderOptions, Style};
use docpipe_stages::writer::escape::{docstring_value, normalize_body};
use docpipe_stages::writer::{PythonWriter, body_indent};

/// Renders the summary verbatim: the fuzz text is the docstring.
struct Verbatim;

impl Style for Verbatim {
    fn name(&self) -> &str {
        "verbatim"
    }
    fn render(&self, doc: &DocModel, _options: &RenderOptions) -> String {
        doc.summary.clone()
    }
    fn parse(&self, text: &str) -> DocModel {
        DocModel {
            summary: text.to_string(),
            ..DocModel::default()
        }
    }
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "Word",
    " text ",
    "\"",
    "'",
    "\\",
    "\"\"\"",
    "'''",
    "é",
    "中文",
    "😀",
    "\u{2028}",
    "\0",
    "\u{1}",
    "\u{b}",
    "\u{c}",
    "\r",
    "\r\n",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\u{feff}",
    "\t",
    "\n",
    "\n\n",
    "    ",
    "\\n",
    "\\x",
    "\\N{",
    "{}",
    "#",
    "r\"",
    "b'",
    "\\\"",
    "\"\"",
    "\\\n",
    ">>> x = 1",
    "    indented",
];

fn random_docstring(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..1 + rng.below(12) {
        s.push_str(PIECES[rng.below(PIECES.len())]);
    }
    match rng.below(4) {
        0 => s.push('\\'),
        1 => s.push('"'),
        _ => {}
    }
    s
}

/// Python checks each file compiles, that its AST without docstrings equals
/// the original's, and that its docstrings have the expected values.
const CHECK_PY: &str = r#"
import json, sys

def docstrings(tree):
    found, seen = {}, set()
    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                q = prefix + child.name
                if q in seen:
                    found.pop(q, None)
                else:
                    seen.add(q)
                    found[q] = ast.get_docstring(child, clean=False)
                visit(child, q + ".")
            else:
                visit(child, prefix)
    found[""] = ast.get_docstring(tree, clean=False)
    visit(tree, "")
    return found

jobs = json.load(open(sys.argv[1], encoding="utf-8"))
problems = []
for job in jobs:
    try:
        new_src = open(job["new"], "rb").read()
        compile(new_src, job["new"], "exec", dont_inherit=True)
        new_tree = ast.parse(new_src)
        old_tree = ast.parse(open(job["old"], "rb").read())
    except SyntaxError as e:
        problems.append(f"{job['new']}: does not compile: {e}")
        continue
    values = docstrings(new_tree)
    if strip(old_tree) != strip(new_tree):
        problems.append(f"{job['new']}: code changed (AST without docstrings differs)")
    for qualname, expected in job["expected"].items():
        if qualname in values and values[qualname] != expected:
            problems.append(f"{job['new']}: `{qualname}` docstring is {values[qualname]!r}, expected {expected!r}")
print(json.dumps(problems))
"#;

struct Totals {
    files: usize,
    units: usize,
    written: usize,
    encoding_failures: usize,
}

fn fuzz(files: &[PathBuf], root: &Path, seed: u64) -> Totals {
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let ctx = writer_support::context(WriteMode::InPlace);
    let mut rng = Rng(seed);
    let mut jobs = Vec::new();
    let mut totals = Totals {
        files: 0,
        units: 0,
        written: 0,
        encoding_failures: 0,
    };
    let mut writer = PythonWriter::new(Arc::new(Verbatim), 88, WriteMode::InPlace);
    for (n, src) in files.iter().enumerate() {
        let rel = src.strip_prefix(root).unwrap_or(src);
        let copy = work.path().join(format!("{n}_new.py"));
        let original = work.path().join(format!("{n}_old.py"));
        if std::fs::copy(src, &copy).is_err() || std::fs::copy(src, &original).is_err() {
            continue;
        }
        let Ok(file) = docpipe_stages::python::read_source(&copy) else {
            continue;
        };
        let file = Arc::new(file);
        let Ok(units) = docpipe_stages::python::extract(&file) else {
            continue;
        };
        let had_errors = docpipe_stages::writer::tokens::parse(&file.text)
            .is_none_or(|t| t.root_node().has_error());
        totals.files += 1;
        let count = units.len();
        // What each unit is given to write, by unit id (the writer lets a
        // draft go once it has rendered it).
        let mut drafts = std::collections::HashMap::new();
        let envelopes: Vec<Envelope> = units
            .into_iter()
            .enumerate()
            .map(|(i, unit)| {
                let mut env = Envelope::new(file.clone(), count, unit);
                env.id = i as u64 + 1;
                let summary = random_docstring(&mut rng);
                drafts.insert(env.id, summary.clone());
                env.draft = Some(Box::new(DocModel {
                    summary,
                    ..DocModel::default()
                }));
                env.state = UnitState::Generated;
                env
            })
            .collect();
        totals.units += count;
        let released: Vec<Envelope> = rt.block_on(async {
            let mut released = Vec::new();
            for env in envelopes {
                released.extend(
                    writer
                        .consume(env, &ctx)
                        .await
                        .unwrap_or_else(|e| panic!("consume: {e}")),
                );
            }
            released
        });
        assert_eq!(
            released.len(),
            count,
            "{}: every unit is released once",
            rel.display()
        );
        let mut expected = BTreeMap::new();
        for env in &released {
            match &env.state {
                UnitState::Failed { reason } if reason.contains("cannot hold") => {
                    totals.encoding_failures += 1
                }
                UnitState::Failed { reason } => {
                    panic!(
                        "{} `{}` failed: {reason}",
                        rel.display(),
                        env.unit.display_name()
                    )
                }
                _ => {
                    let body = normalize_body(drafts.get(&env.id).map_or("", String::as_str));
                    expected.insert(
                        env.unit.qualname.clone(),
                        docstring_value(&body, body_indent(&env.unit)),
                    );
                    totals.written += 1;
                }
            }
        }
        let new_text = std::fs::read(&copy).unwrap_or_default();
        if !had_errors {
            let decoded = docpipe_stages::python::read_source(&copy).unwrap_or_else(|e| {
                panic!("{}: the rewrite cannot be read back: {e}", rel.display())
            });
            let tree = docpipe_stages::writer::tokens::parse(&decoded.text);
            assert!(
                tree.is_some_and(|t| !t.root_node().has_error()),
                "{}: tree-sitter finds an error after the rewrite",
                rel.display()
            );
        }
        assert!(!new_text.is_empty() || std::fs::metadata(src).map(|m| m.len()).unwrap_or(0) == 0);
        jobs.push(serde_json::json!({
            "old": original.to_string_lossy(),
            "new": copy.to_string_lossy(),
            "expected": expected,
        }));
    }
    let problems: Vec<String> = run_python(&format!("{AST_WITHOUT_DOCSTRINGS}{CHECK_PY}"), &jobs);
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    totals
}

#[test]
fn random_docstrings_in_150_stdlib_files_keep_code_and_read_back_exactly() {
    let root = stdlib();
    let files = python_files(&root);
    assert!(
        files.len() > 150,
        "the stdlib at {} has too few files",
        root.display()
    );
    // DOCPIPE_FUZZ_FILES=all (or a number) widens the sample; DOCPIPE_FUZZ_SEED varies the text.
    let wanted = match std::env::var("DOCPIPE_FUZZ_FILES").ok().as_deref() {
        Some("all") => files.len(),
        Some(n) => n.parse().unwrap_or(150),
        None => 150,
    };
    let seed = std::env::var("DOCPIPE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15_u64);
    let step = (files.len() / wanted.max(1)).max(1);
    let sample: Vec<PathBuf> = files.iter().step_by(step).take(wanted).cloned().collect();
    let started = std::time::Instant::now();
    let totals = fuzz(&sample, &root, seed);
    eprintln!(
        "fuzzed {} files, {} units: {} docstrings written, {} refused by the encoding, in {:.1?}",
        totals.files,
        totals.units,
        totals.written,
        totals.encoding_failures,
        started.elapsed()
    );
    assert!(
        totals.files * 100 >= sample.len() * 95,
        "too few files could be read: {}",
        totals.files
    );
    assert!(
        totals.written > 1000,
        "too few docstrings written: {}",
        totals.written
    );
}
