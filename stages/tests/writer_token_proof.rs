//! The writer's fast safety check (`writer::lexical`, CPython's tokens)
//! against the tree-sitter comparison it stands in for, and against Python
//! itself, on real code: docstrings are written into every definition of a
//! sample of the CPython standard library, and each rewrite is then mutated
//! at random places outside the docstrings (a character inserted or
//! deleted). Whatever the tokens prove safe, Python must compile and read
//! as the same code with the docstrings set aside. An unmutated rewrite the
//! tokens prove, the tree comparison must accept too. The unmutated rewrites must nearly all be proven: the fast
//! check is what keeps `generate` fast.

mod stdlib_support;

use std::ops::Range;
use std::path::{Path, PathBuf};

use stdlib_support::{AST_WITHOUT_DOCSTRINGS, python_files, run_python, stdlib};

use docpipe_stages::python::{extract, read_source};
use docpipe_stages::writer::insert::{DocEdit, apply};
use docpipe_stages::writer::lexical::proven_in_batches;
use docpipe_stages::writer::tokens::check_trees_of;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What is inserted (before the char at the position) or, for `None`, deleted.
const MUTATIONS: &[Option<&str>] = &[
    Some(" "),
    Some("\t"),
    Some("\n"),
    Some("\n    "),
    Some("x"),
    Some("("),
    Some(")"),
    Some(":"),
    Some("#"),
    Some("'"),
    Some("\""),
    Some("\\"),
    Some("\\\n"),
    Some("\"\"\""),
    None,
];

/// Python reads each pair (original, mutated) and says whether the mutated
/// text compiles and has the original's code once the docstrings of the
/// module, classes and functions are set aside.
const ORACLE_PY: &str = r#"
import json, sys

problems = []
for job in json.load(open(sys.argv[1], encoding="utf-8")):
    try:
        old = ast.parse(job["old"])
    except SyntaxError:
        continue
    try:
        compile(job["new"], "<mutated>", "exec", dont_inherit=True)
        new = ast.parse(job["new"])
    except SyntaxError as e:
        problems.append(f"{job['path']}: proven, but Python rejects it: {e} ({job['what']})")
        continue
    if strip(old) != strip(new):
        problems.append(f"{job['path']}: proven, but Python reads other code ({job['what']})")
print(json.dumps(problems))
"#;

#[test]
fn what_the_tokens_prove_the_trees_and_python_accept() {
    let root = stdlib();
    let files = python_files(&root);
    assert!(files.len() > 100, "too few files under {}", root.display());
    // DOCPIPE_PROOF_FILES=all (or a number) widens the sample,
    // DOCPIPE_PROOF_SEED varies the mutations.
    let wanted = match std::env::var("DOCPIPE_PROOF_FILES").ok().as_deref() {
        Some("all") => files.len(),
        Some(n) => n.parse().unwrap_or(100),
        None => 100,
    };
    let seed = std::env::var("DOCPIPE_PROOF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2545_f491_4f6c_dd1d_u64);
    let step = (files.len() / wanted.max(1)).max(1);
    let sample: Vec<&PathBuf> = files.iter().step_by(step).take(wanted).collect();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let (mut rewrites, mut proofs, mut mutants, mut mutants_proven) = (0, 0, 0, 0);
    let mut trees_refused = 0;
    let mut oracle = Vec::new();
    for path in &sample {
        let Ok(file) = read_source(path) else {
            continue;
        };
        let Ok(units) = extract(&file) else {
            continue;
        };
        // A new docstring for every definition; an existing one replaced.
        let mut edits: Vec<DocEdit<'_>> = units
            .iter()
            .map(|unit| DocEdit {
                unit,
                body: format!("Doc of {}.", unit.display_name()).into(),
                literal: None,
            })
            .collect();
        let Ok(rewrite) = apply(&file, &mut edits) else {
            continue;
        };
        rewrites += 1;
        let original = file.text.as_str();
        if !proven(
            original,
            &rewrite.text,
            &rewrite.replaced,
            &rewrite.written,
            path,
            "unmutated",
        ) {
            continue;
        }
        proofs += 1;
        assert_eq!(
            check_trees_of(
                original,
                &rewrite.text,
                &rewrite.replaced,
                &rewrite.written,
                &rewrite.changes
            ),
            Ok(()),
            "{}: proven by the tokens, refused by the trees",
            path.display()
        );
        for _ in 0..30 {
            let (mutated, written, what) = mutate(&rewrite.text, &rewrite.written, &mut rng);
            mutants += 1;
            if !proven(original, &mutated, &rewrite.replaced, &written, path, &what) {
                continue;
            }
            mutants_proven += 1;
            // tree-sitter refuses some code Python reads (a line inside
            // brackets indented less than its block): there Python decides.
            if check_trees_of(original, &mutated, &rewrite.replaced, &written, &[]).is_err() {
                trees_refused += 1;
            }
            oracle.push(serde_json::json!({
                "path": path.display().to_string(),
                "what": what,
                "old": original,
                "new": mutated,
            }));
        }
    }
    eprintln!(
        "{rewrites} rewrites, {proofs} proven; {mutants} mutants, {mutants_proven} proven and checked by Python ({trees_refused} of them refused by tree-sitter)"
    );
    assert!(
        rewrites * 100 >= sample.len() * 95,
        "too few files rewritten: {rewrites}"
    );
    assert!(
        proofs * 100 >= rewrites * 90,
        "the tokens proved only {proofs} of {rewrites} rewrites"
    );
    // Some mutations (a space between tokens, a blank line) change no token:
    // the test must see both kinds.
    assert!(
        mutants_proven > 50 && mutants_proven < mutants / 2,
        "{mutants_proven} of {mutants} mutants proven"
    );

    let problems: Vec<String> =
        run_python(&format!("{AST_WITHOUT_DOCSTRINGS}{ORACLE_PY}"), &oracle);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `text` with one random insertion or deletion outside the `written`
/// spans, the spans moved to match, and what was done.
fn mutate(
    text: &str,
    written: &[Range<usize>],
    rng: &mut Rng,
) -> (String, Vec<Range<usize>>, String) {
    loop {
        let at = rng.below(text.len() + 1);
        if !text.is_char_boundary(at) || written.iter().any(|s| s.start < at && at < s.end) {
            continue;
        }
        let mutation = MUTATIONS[rng.below(MUTATIONS.len())];
        let (mutated, delta): (String, isize) = match mutation {
            Some(insert) => (
                format!("{}{insert}{}", &text[..at], &text[at..]),
                insert.len() as isize,
            ),
            None => {
                let Some(c) = text[at..].chars().next() else {
                    continue;
                };
                let end = at + c.len_utf8();
                if written.iter().any(|s| s.start < end && at < s.end) {
                    continue;
                }
                (
                    format!("{}{}", &text[..at], &text[end..]),
                    -(c.len_utf8() as isize),
                )
            }
        };
        let spans = written
            .iter()
            .map(|s| {
                if s.start >= at {
                    let shift = |x: usize| (x as isize + delta) as usize;
                    shift(s.start)..shift(s.end)
                } else {
                    s.clone()
                }
            })
            .collect();
        let mut from = at.saturating_sub(60);
        while !mutated.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (at + 60).min(mutated.len());
        while !mutated.is_char_boundary(to) {
            to += 1;
        }
        let what = match mutation {
            Some(insert) => format!("{insert:?} inserted at byte {at}"),
            None => format!("byte {at} deleted"),
        } + &format!(", giving {:?}", &mutated[from..to]);
        return (mutated, spans, what);
    }
}

/// The proof of the whole texts at once, which the proof in batches of one
/// top-level statement each must equal.
fn proven(
    old: &str,
    new: &str,
    replaced: &[Range<usize>],
    written: &[Range<usize>],
    path: &Path,
    what: &str,
) -> bool {
    let whole = proven_in_batches(old, new, replaced, written, usize::MAX);
    let pieces = proven_in_batches(old, new, replaced, written, 1);
    assert_eq!(
        whole,
        pieces,
        "{}: proven whole {whole}, in pieces {pieces} ({what})",
        path.display()
    );
    whole
}
