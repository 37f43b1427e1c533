//! Snapshots of the writer's rewrites, one per construct: the fixture before
//! and after, with carriage returns, BOM and a missing final newline shown.
//! Every rewritten file must still compile with python3 when it is present.

mod writer_support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use docpipe_core::model::UnitState;
use docpipe_core::stage::WriteMode;
use writer_support::{copy_fixture, drafted, run_writer, run_writer_early, show};

/// Rewrites fixture `name` and returns the before/after text for a snapshot.
fn rewrite(name: &str) -> String {
    let (_dir, path) = copy_fixture(name);
    let before = std::fs::read(&path).unwrap_or_else(|e| panic!("read: {e}"));
    let file =
        Arc::new(docpipe_stages::python::read_source(&path).unwrap_or_else(|e| panic!("{e}")));
    let (released, summary) = run_writer(WriteMode::InPlace, drafted(&file));
    let failures: Vec<String> = released
        .iter()
        .filter_map(|e| {
            e.state
                .reason()
                .map(|r| format!("{}: {r}", e.unit.display_name()))
        })
        .collect();
    assert!(failures.is_empty(), "units failed: {failures:#?}");
    // A unit whose docstring the rewrite leaves exactly as it was is kept.
    assert!(released.iter().all(|e| e.state == UnitState::Generated
        || (e.state == UnitState::Kept && e.unit.docstring.is_some())));
    assert!(released.iter().any(|e| e.state == UnitState::Generated));
    assert_eq!(summary.files_written, 1, "the fixture should have changed");
    let after = std::fs::read(&path).unwrap_or_else(|e| panic!("read: {e}"));
    assert_compiles(&path);
    format!(
        "----- before\n{}\n----- after\n{}",
        show(&before),
        show(&after)
    )
}

/// `python3 -m py_compile` accepts the file (skipped without python3).
fn assert_compiles(path: &Path) {
    let Ok(out) = Command::new("python3")
        .arg("-m")
        .arg("py_compile")
        .arg(path)
        .output()
    else {
        eprintln!("python3 not found; skipping the compile check");
        return;
    };
    assert!(
        out.status.success(),
        "{} does not compile: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

macro_rules! rewrite_snapshot {
    ($test:ident, $fixture:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(concat!("rewrite_", $fixture), rewrite($fixture));
        }
    };
}

rewrite_snapshot!(
    inserts_a_module_docstring_below_shebang_and_comments,
    "module_without_docstring.py"
);
rewrite_snapshot!(documents_a_class_and_its_method, "class.py");
rewrite_snapshot!(documents_methods_with_raises_and_staticmethod, "method.py");
rewrite_snapshot!(documents_a_nested_def, "nested_def.py");
rewrite_snapshot!(
    keeps_comments_between_decorators,
    "decorators_with_comments.py"
);
rewrite_snapshot!(
    inserts_below_a_multi_line_signature,
    "multiline_signature.py"
);
rewrite_snapshot!(
    inserts_below_a_comment_after_the_colon,
    "comment_after_colon.py"
);
rewrite_snapshot!(
    inserts_above_a_body_that_starts_with_a_comment,
    "body_starts_with_comment.py"
);
rewrite_snapshot!(turns_one_line_defs_into_blocks, "one_line_def.py");
rewrite_snapshot!(indents_with_tabs, "tabs.py");
rewrite_snapshot!(keeps_crlf_line_endings, "crlf.py");
rewrite_snapshot!(keeps_the_byte_order_mark, "bom.py");
rewrite_snapshot!(keeps_a_missing_final_newline, "no_trailing_newline.py");
rewrite_snapshot!(merges_an_incomplete_docstring, "incomplete_docstring.py");
rewrite_snapshot!(re_encodes_latin1, "latin1.py");
rewrite_snapshot!(writes_a_body_after_a_backslash, "backslash_body.py");
rewrite_snapshot!(
    completes_a_parenthesized_docstring,
    "parenthesized_docstring.py"
);
rewrite_snapshot!(keeps_lone_carriage_returns, "cr_only.py");
rewrite_snapshot!(
    moves_a_docstring_on_the_def_line_into_a_block,
    "inline_docstring.py"
);

/// A file of more units than [`EARLY_RENDER_UNITS`] is rendered as its
/// units arrive, and what the writer writes is byte for byte what it
/// writes when it renders them all once the file is whole: the fixtures
/// with one-line bodies, decorators, nested definitions, classes and a
/// person's docstrings to complete, one after the other, many times over.
#[test]
fn a_file_rendered_as_its_units_arrive_is_written_as_one_rendered_whole() {
    let parts = [
        "class.py",
        "method.py",
        "nested_def.py",
        "one_line_def.py",
        "incomplete_docstring.py",
        "decorators_with_comments.py",
        "multiline_signature.py",
        "comment_after_colon.py",
        "body_starts_with_comment.py",
        "inline_docstring.py",
        "parenthesized_docstring.py",
    ];
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/writer");
    let mut one = String::new();
    for part in parts {
        let text =
            std::fs::read_to_string(fixtures.join(part)).unwrap_or_else(|e| panic!("{part}: {e}"));
        one.push_str(&text);
        if !one.ends_with('\n') {
            one.push('\n');
        }
    }
    let units_in_one = docpipe_stages::python::extract(
        &docpipe_core::model::SourceFile::from_text("one.py", one.as_str()),
    )
    .unwrap_or_else(|f| panic!("the fixtures joined do not extract: {f:?}"))
    .len();
    // The module is one unit however many copies there are.
    let copies = docpipe_stages::writer::EARLY_RENDER_UNITS / (units_in_one - 1).max(1) + 2;
    let text = one.repeat(copies);

    let written = |early: usize| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let path = dir.path().join("big.py");
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("write: {e}"));
        let file =
            Arc::new(docpipe_stages::python::read_source(&path).unwrap_or_else(|e| panic!("{e}")));
        let envelopes = drafted(&file);
        let n = envelopes.len();
        let (released, summary) = run_writer_early(WriteMode::InPlace, envelopes, early);
        assert_eq!(released.len(), n);
        assert_eq!(summary.files_written, 1);
        let mut states: Vec<(u64, usize, UnitState)> = released
            .iter()
            .map(|e| (e.id, e.unit.line, e.state.clone()))
            .collect();
        states.sort_by_key(|s| (s.1, s.0));
        let states: Vec<(usize, UnitState)> = states.into_iter().map(|s| (s.1, s.2)).collect();
        assert_compiles(&path);
        (
            std::fs::read(&path).unwrap_or_else(|e| panic!("read: {e}")),
            states,
            n,
        )
    };
    let (whole, whole_states, n) = written(usize::MAX);
    assert!(
        n >= docpipe_stages::writer::EARLY_RENDER_UNITS,
        "only {n} units"
    );
    let (early, early_states, _) = written(1);
    if let Some(i) = (0..n).find(|&i| early_states.get(i) != whole_states.get(i)) {
        panic!(
            "unit {i} ends {:?} rendered as it arrived, {:?} rendered whole",
            early_states.get(i),
            whole_states.get(i)
        );
    }
    assert!(whole_states.iter().any(|(_, s)| *s == UnitState::Generated));
    assert!(
        early == whole,
        "the file rendered as its units arrived differs from the one rendered whole"
    );
}
