//! The generate pipeline end to end with the offline template model, built
//! with the core API from a pipeline.toml string: every undocumented
//! definition gets a docstring, code stays byte for byte, CRLF, tabs and BOM
//! stay, `--check` fails before and passes after, `--diff` and `--check`
//! write nothing, and a second run changes nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::SystemTime;

use docpipe_core::config::validate::validate;
use docpipe_core::config::{EnvVars, LoadOptions, load};
use docpipe_core::executor::{ExecOptions, RunHandles, RunOutcome, build_stages, execute};
use docpipe_core::stage::{RunOptions, WriteMode};

const PIPELINE: &str = r#"
[model]
provider = "template"

[style]
name = "google"

[stages.source]
type = "python-source"

[stages.extract]
type = "python-extract"
inputs = ["source"]

[stages.analyze]
type = "docstring-analyze"
inputs = ["extract"]

[stages.budget]
type = "token-budget"
inputs = ["analyze.incomplete"]

[stages.generate]
type = "llm-generate"
inputs = ["budget"]

[stages.parse]
type = "reply-parse"
inputs = ["generate"]

[stages.write]
type = "python-writer"
inputs = ["analyze.complete", "parse"]
"#;

async fn run(paths: &[PathBuf], mode: WriteMode) -> RunOutcome {
    let registry = docpipe_stages::builtin_registry();
    let options = LoadOptions {
        explicit: None,
        cwd: std::env::temp_dir().join("docpipe-writer-pipeline-no-config"),
        overrides: Vec::new(),
        embedded: PIPELINE,
        sections: registry.section_names(),
        env: Some(EnvVars::from_map(HashMap::new())),
    };
    let (config, _) = load(&options).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let run = Arc::new(RunOptions {
        paths: paths.to_vec(),
        write_mode: mode,
        jobs: 2,
        ..RunOptions::default()
    });
    let validated =
        validate(config, &registry, run.clone()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let plan = validated
        .plan(None)
        .unwrap_or_else(|e| panic!("{e}"))
        .clone();
    let stages = build_stages(&validated, &plan, &registry, run.clone())
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let outcome = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        execute(
            &plan,
            stages,
            RunHandles::new(run),
            ExecOptions {
                channel_capacity: 8,
                jobs: 2,
                ..ExecOptions::default()
            },
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("the {mode:?} run did not finish within two minutes"));
    assert!(outcome.fatal.is_none(), "fatal: {:?}", outcome.fatal);
    assert!(
        outcome.invariant.is_none(),
        "invariant: {:?}",
        outcome.invariant
    );
    outcome
}

/// A copy of the sample project in a temporary directory.
fn project() -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/writer/project");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    copy_dir(&src, dir.path());
    let root = dir.path().to_path_buf();
    (dir, root)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap_or_else(|e| panic!("{e}"));
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// Every file's bytes and mtime, by path.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
        {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let meta = std::fs::metadata(&p).unwrap_or_else(|e| panic!("{e}"));
                let modified = meta.modified().unwrap_or_else(|e| panic!("{e}"));
                files.push((p.clone(), std::fs::read(&p).unwrap_or_default(), modified));
            }
        }
    }
    files.sort();
    files
}

fn compiles(path: &Path) -> bool {
    match Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(path)
        .output()
    {
        Ok(out) => out.status.success(),
        Err(_) => true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_documents_everything_once_and_then_changes_nothing() {
    let (_dir, root) = project();
    let paths = vec![root.clone()];
    let before = snapshot(&root);

    // --check and --diff write nothing; --check counts the files that would change.
    let check = run(&paths, WriteMode::Check).await;
    assert_eq!(
        check.problems(),
        4,
        "every file but documented.py would change"
    );
    let diff = run(&paths, WriteMode::Diff).await;
    assert_eq!(diff.problems(), 0);
    assert_eq!(diff.report.files_written, 0);
    assert_eq!(
        snapshot(&root),
        before,
        "check and diff modes must not touch a file"
    );

    let first = run(&paths, WriteMode::InPlace).await;
    let r = &first.report;
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert_eq!(r.files_written, 4);
    assert_eq!(
        r.by_state.kept, 4,
        "documented.py's module and `add`, and two module docstrings are kept"
    );
    assert_eq!(r.units, r.by_state.kept + r.by_state.generated);

    let shapes = std::fs::read_to_string(root.join("pkg/shapes.py")).unwrap_or_default();
    assert!(
        shapes.contains("    def area(self) -> float:\n        \"\"\"TODO: Return the area.\n"),
        "{shapes}"
    );
    assert!(
        shapes.contains("shapes: The shapes, as I wrote it."),
        "the person's words stay: {shapes}"
    );
    assert!(
        !shapes.contains("removed"),
        "a parameter that left the signature goes: {shapes}"
    );
    assert!(shapes.contains("def square(x):\n    \"\"\""), "{shapes}");
    assert!(
        shapes.contains("    return x * x  # one line\n"),
        "{shapes}"
    );
    let crlf = std::fs::read(root.join("pkg/crlf_tabs.py")).unwrap_or_default();
    let text = String::from_utf8_lossy(&crlf);
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "only CRLF endings: {text:?}"
    );
    assert!(
        text.contains("\r\n\t\"\"\"TODO: Join the words."),
        "tab indentation: {text:?}"
    );
    let bom = std::fs::read(root.join("pkg/bom_no_newline.py")).unwrap_or_default();
    assert!(
        bom.starts_with(b"\xef\xbb\xbf\"\"\""),
        "{:?}",
        String::from_utf8_lossy(&bom)
    );
    assert!(bom.ends_with(b"    return value"), "no final newline added");
    for (path, _, _) in snapshot(&root) {
        assert!(compiles(&path), "{} does not compile", path.display());
    }

    // Idempotence: nothing left to do, nothing touched.
    let after_first = snapshot(&root);
    let again = run(&paths, WriteMode::Check).await;
    assert_eq!(again.problems(), 0, "--check passes after generate");
    let second = run(&paths, WriteMode::InPlace).await;
    assert_eq!(second.report.files_written, 0);
    assert_eq!(second.report.by_state.generated, 0);
    assert_eq!(
        second.report.by_state.kept, second.report.units,
        "{:#?}",
        second.report.by_state
    );
    assert_eq!(snapshot(&root), after_first);
}
