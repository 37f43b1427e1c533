//! The writer's promises around a rewrite: a unit whose text the file's
//! encoding cannot hold fails alone, a file changed on disk is left alone, an
//! interrupted run writes only whole files, units without a draft pass
//! through, and a file with nothing to change is not touched.

mod writer_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use docpipe_core::model::{DocModel, Envelope, UnitState};
use docpipe_core::stage::{Sink, WriteMode};
use docpipe_stages::writer::PythonWriter;
use writer_support::{PlainStyle, context, copy_fixture, drafted, run_writer};

fn read_file(path: &std::path::Path) -> Arc<docpipe_core::model::SourceFile> {
    Arc::new(docpipe_stages::python::read_source(path).unwrap_or_else(|e| panic!("{e}")))
}

fn mtime(path: &std::path::Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_character_the_encoding_cannot_hold_fails_only_its_unit() {
    let (_dir, path) = copy_fixture("latin1.py");
    let file = read_file(&path);
    let mut envs = drafted(&file);
    let target = envs
        .iter_mut()
        .find(|e| e.unit.name == "café_price")
        .unwrap_or_else(|| panic!("no café_price unit"));
    target.draft = Some(Box::new(DocModel {
        summary: "Price → with VAT.".into(),
        ..DocModel::default()
    }));
    let (released, summary) = run_writer(WriteMode::InPlace, envs);
    let failed: Vec<(&str, &str)> = released
        .iter()
        .filter_map(|e| e.state.reason().map(|r| (e.unit.name.as_str(), r)))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "café_price");
    assert!(
        failed[0].1.contains("U+2192") && failed[0].1.contains("latin-1"),
        "{}",
        failed[0].1
    );
    assert_eq!(
        summary.files_written, 1,
        "the module docstring is still written"
    );
    let bytes = std::fs::read(&path).unwrap_or_default();
    assert!(
        bytes
            .windows(23)
            .any(|w| w == b"\"\"\"TODO: Latin1 module.")
    );
    assert!(bytes.contains(&0xe9), "still Latin-1");
}

#[test]
fn a_file_changed_since_it_was_read_is_left_alone() {
    let (_dir, path) = copy_fixture("class.py");
    let file = read_file(&path);
    let changed = "class UserAccount:\n    limit = 4\n";
    std::fs::write(&path, changed).unwrap_or_else(|e| panic!("{e}"));
    let (released, summary) = run_writer(WriteMode::InPlace, drafted(&file));
    assert_eq!(summary.files_written, 0);
    assert!(released.iter().all(|e| {
        e.state
            .reason()
            .is_some_and(|r| r.contains("file changed since it was read"))
    }));
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), changed);
}

#[test]
fn units_without_a_draft_pass_through_and_an_unchanged_file_is_not_touched() {
    let (_dir, path) = copy_fixture("class.py");
    let file = read_file(&path);
    std::thread::sleep(Duration::from_millis(20));
    let before = mtime(&path);
    let envs: Vec<Envelope> = drafted(&file)
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.draft = None;
            e.state = if i == 0 {
                UnitState::Kept
            } else {
                UnitState::Pending
            };
            e
        })
        .collect();
    let states: Vec<UnitState> = envs.iter().map(|e| e.state.clone()).collect();
    let (released, summary) = run_writer(WriteMode::InPlace, envs);
    assert_eq!(
        released.iter().map(|e| e.state.clone()).collect::<Vec<_>>(),
        states
    );
    assert_eq!(summary.files_written, 0);
    assert_eq!(mtime(&path), before);
}

#[test]
fn a_second_write_of_the_same_docstrings_changes_nothing() {
    let (_dir, path) = copy_fixture("method.py");
    let (_, first) = run_writer(WriteMode::InPlace, drafted(&read_file(&path)));
    assert_eq!(first.files_written, 1);
    let after_first = std::fs::read(&path).unwrap_or_default();
    let before = mtime(&path);
    let (released, second) = run_writer(WriteMode::InPlace, drafted(&read_file(&path)));
    assert!(released.iter().all(|e| e.state.reason().is_none()));
    assert_eq!(
        second.files_written, 0,
        "the same docstrings are already there"
    );
    assert_eq!(std::fs::read(&path).unwrap_or_default(), after_first);
    assert_eq!(mtime(&path), before);
}

#[tokio::test]
async fn an_interrupted_run_writes_only_whole_files() {
    let (_a_dir, whole) = copy_fixture("class.py");
    let (_b_dir, partial) = copy_fixture("method.py");
    let partial_before = std::fs::read(&partial).unwrap_or_default();
    let ctx = context(WriteMode::InPlace);
    let mut writer = PythonWriter::new(Arc::new(PlainStyle), 88, WriteMode::InPlace);
    let mut released = Vec::new();
    for env in drafted(&read_file(&whole)) {
        released.extend(
            writer
                .consume(env, &ctx)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let mut partial_units = drafted(&read_file(&partial));
    partial_units.truncate(2);
    for env in partial_units {
        released.extend(
            writer
                .consume(env, &ctx)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let finish = writer
        .finish(&ctx, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        finish.summary.files_written, 1,
        "the whole file was written as soon as it was complete"
    );
    let cancelled: Vec<&Envelope> = finish.released.iter().collect();
    assert_eq!(cancelled.len(), 2);
    assert!(cancelled.iter().all(|e| e.state == UnitState::Cancelled));
    assert_eq!(std::fs::read(&partial).unwrap_or_default(), partial_before);
    assert!(
        std::fs::read_to_string(&whole)
            .unwrap_or_default()
            .contains("\"\"\"TODO: User account class.\"\"\"")
    );
    assert_eq!(released.len(), 3);
}

#[test]
fn diff_headers_name_both_sides() {
    let diff = docpipe_stages::writer::unified_diff(
        std::path::Path::new("./pkg/m.py"),
        "a\nb\n",
        "a\nc\n",
    );
    assert!(
        diff.starts_with("--- a/pkg/m.py\n+++ b/pkg/m.py\n@@"),
        "{diff}"
    );
    assert!(diff.contains("-b\n+c\n"), "{diff}");
}
