//! Snapshots of the writer's rewrites, one per construct: the fixture before
//! and after, with carriage returns, BOM and a missing final newline shown.
//! Every rewritten file must still compile with python3 when it is present.

mod writer_support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use docpipe_core::model::UnitState;
use docpipe_core::stage::WriteMode;
use writer_support::{copy_fixture, drafted, run_writer, show};

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
