//! Snapshots of extraction (every CodeUnit field but `source`) on fixtures
//! covering the constructs docpipe must understand, plus invariants that
//! hold for every unit: spans point at the right text.

use std::path::Path;

use docpipe_core::model::{CodeUnit, SourceFile};
use docpipe_stages::python::{decode_source, extract};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/python")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Units as JSON without `source` (the snapshot shows spans instead).
fn snapshot_value(file: &SourceFile, units: &[CodeUnit]) -> serde_json::Value {
    let units: Vec<serde_json::Value> = units
        .iter()
        .map(|u| {
            let mut v = serde_json::to_value(u).unwrap();
            if let Some(o) = v.as_object_mut() {
                o.remove("source");
                o.remove("path");
            }
            v
        })
        .collect();
    serde_json::json!({
        "encoding": file.encoding,
        "bom": file.bom,
        "newline": file.newline,
        "final_newline": file.final_newline,
        "units": units,
    })
}

/// What must hold for every unit of every file.
fn check_invariants(file: &SourceFile, units: &[CodeUnit]) {
    let text = &file.text;
    assert_eq!(units[0].kind, docpipe_core::model::UnitKind::Module);
    for u in units {
        let head = &text[u.span.clone()];
        assert!(
            u.qualname.is_empty()
                || head.starts_with('@')
                || head.starts_with("def")
                || head.starts_with("class")
                || head.starts_with("async"),
            "{}: span starts with {:?}",
            u.qualname,
            head.get(..10)
        );
        assert_eq!(&text[u.span.clone()], u.source);
        if let Some(d) = &u.docstring {
            let lit = &text[d.span.clone()];
            let lit = lit.trim_start_matches('(');
            assert!(
                lit.starts_with(&format!("{}{}", d.prefix, d.quote.as_str())),
                "{}: literal {lit:?}",
                u.qualname
            );
        }
        let ins = &u.insertion;
        if ins.inline_body.is_none() {
            let at_line_start = ins.offset == 0
                || ins.offset == text.len()
                || matches!(text.as_bytes()[ins.offset - 1], b'\n' | b'\r');
            assert!(
                at_line_start,
                "{}: insertion at {} is not at a line start",
                u.qualname, ins.offset
            );
        }
    }
}

fn snapshot_file(name: &str, bytes: &[u8]) {
    let file = decode_source(Path::new(name), bytes).unwrap();
    let units = extract(&file).unwrap_or_else(|f| panic!("{name}: {f:?}"));
    check_invariants(&file, &units);
    insta::assert_json_snapshot!(format!("extract_{name}"), snapshot_value(&file, &units));
}

#[test]
fn one_line_defs() {
    snapshot_file("one_line_defs.py", &fixture("one_line_defs.py"));
}

#[test]
fn multiline_signature() {
    snapshot_file("multiline_signature.py", &fixture("multiline_signature.py"));
}

#[test]
fn comments_after_colon() {
    snapshot_file(
        "comments_after_colon.py",
        &fixture("comments_after_colon.py"),
    );
}

#[test]
fn decorators_with_comments() {
    snapshot_file(
        "decorators_with_comments.py",
        &fixture("decorators_with_comments.py"),
    );
}

#[test]
fn nested_classes() {
    snapshot_file("nested_classes.py", &fixture("nested_classes.py"));
}

#[test]
fn constructors_and_reraises() {
    snapshot_file("constructors.py", &fixture("constructors.py"));
}

#[test]
fn async_generators() {
    snapshot_file("async_generators.py", &fixture("async_generators.py"));
}

#[test]
fn crlf() {
    snapshot_file(
        "crlf.py",
        b"\"\"\"Module\r\nwith CRLF.\"\"\"\r\n\r\nclass A:\r\n    def m(self, x):\r\n        return x\r\n",
    );
}

#[test]
fn bom() {
    snapshot_file(
        "bom.py",
        b"\xEF\xBB\xBF\"\"\"Caf\xC3\xA9.\"\"\"\ndef f():\n    '''\xC3\xA9t\xC3\xA9'''\n",
    );
}

#[test]
fn tabs() {
    snapshot_file(
        "tabs.py",
        b"class T:\n\tdef m(self):\n\t\tpass\n\n\tdef n(self): return 1\n",
    );
}

#[test]
fn no_trailing_newline() {
    snapshot_file("no_trailing_newline.py", b"def last():\n    return 1");
}

#[test]
fn latin1() {
    snapshot_file(
        "latin1.py",
        b"# -*- coding: latin-1 -*-\n\"\"\"Modul f\xFCr \xC4rger.\"\"\"\n\ndef gr\xFC\xDF(name='\xE9'):\n    pass\n",
    );
}

#[test]
fn syntax_error_gives_one_finding_and_no_units() {
    let file = decode_source(Path::new("syntax_error.py"), &fixture("syntax_error.py")).unwrap();
    let finding = extract(&file).unwrap_err();
    insta::assert_json_snapshot!("extract_syntax_error.py", finding);
}

#[test]
fn python2_print_statement_is_a_syntax_error_but_chevron_expression_is_not() {
    let py2 = SourceFile::from_text("p.py", "print 'hello'\n");
    assert_eq!(extract(&py2).unwrap_err().code, "DP003");
    let py3 = SourceFile::from_text("p.py", "import sys\nprint >> sys.stderr, 'x'\n");
    assert!(extract(&py3).is_ok());
}

#[test]
fn dedented_line_inside_brackets_parses_like_python() {
    let file = SourceFile::from_text(
        "b.py",
        "def f():\n    (bar.\nbaz)\n    def g():\n        pass\n",
    );
    let units = extract(&file).unwrap();
    assert_eq!(
        units
            .iter()
            .map(|u| u.qualname.as_str())
            .collect::<Vec<_>>(),
        vec!["", "f", "f.g"]
    );
    assert_eq!(units[2].line, 4);
}

#[test]
fn misplaced_future_import_is_rejected_like_the_compiler_does() {
    let ok = SourceFile::from_text(
        "f.py",
        "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\n",
    );
    assert!(extract(&ok).is_ok());
    let late = SourceFile::from_text("f.py", "import os\nfrom __future__ import annotations\n");
    assert_eq!(extract(&late).unwrap_err().line, 2);
    let unknown = SourceFile::from_text("f.py", "from __future__ import braces\n");
    assert!(
        extract(&unknown)
            .unwrap_err()
            .message
            .contains("not a chance")
    );
}

/// A file parsed a statement at a time gives what the whole file gives,
/// where a piece alone would read otherwise: a decorator apart from its
/// definition, an `else` apart from its `if`, the `from __future__`
/// imports allowed only at the top, a syntax error in a later piece and a
/// continuation at the very end.
#[test]
fn pieces_give_what_the_whole_file_gives() {
    use docpipe_stages::python::extract_in_pieces;
    let cases = [
        (
            "decorated",
            "\"\"\"Doc.\"\"\"\n@dec\ndef f():\n    pass\n@dec\n\nclass C:\n    def m(self): pass\n",
        ),
        (
            "else",
            "if a:\n    def f(): pass\nelse:\n    def g(): pass\ntry:\n    x\nexcept E:\n    def h(): pass\nfinally:\n    y\n",
        ),
        (
            "future_allowed",
            "\"\"\"Doc.\"\"\"\n# c\nfrom __future__ import annotations\nfrom __future__ import division\ndef f(): pass\n",
        ),
        (
            "future_late",
            "\"\"\"Doc.\"\"\"\nimport os\nfrom __future__ import annotations\ndef f(): pass\n",
        ),
        (
            "error_later",
            "def f(): pass\ndef g(): pass\ndef h(:\n    pass\ndef i(): pass\n",
        ),
        ("continuation_at_end", "def f(): pass\nx = 1 + \\\n"),
        (
            "comments_between",
            "def f():\n    pass\n# about g\n\n# more\ndef g():\n    x = 1\n    # inside\n# outside\nclass C: pass\n",
        ),
    ];
    for (name, text) in cases {
        let file = SourceFile::from_text(format!("{name}.py"), text);
        let whole = extract(&file);
        let (pieces, n) = extract_in_pieces(&file, 1);
        assert_eq!(pieces, whole, "{name}: parsed in {n} pieces");
        if whole.is_ok() {
            assert!(n > 1, "{name}: not parsed in pieces");
        }
    }
    // The late import is refused, the early ones are not.
    let late = SourceFile::from_text("m.py", cases[3].1);
    let err = extract_in_pieces(&late, 1)
        .0
        .expect_err("a late future import");
    assert!(err.message.contains("__future__"), "{}", err.message);
    let early = SourceFile::from_text("m.py", cases[2].1);
    assert!(extract_in_pieces(&early, 1).0.is_ok());
}
