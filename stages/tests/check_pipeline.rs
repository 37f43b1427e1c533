//! The check graph (python-source -> python-extract -> docstring-analyze ->
//! check-report) run end to end with the core executor on small projects.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use docpipe_core::config::validate::validate;
use docpipe_core::config::{Config, ConfigSource, Document, EnvVars};
use docpipe_core::executor::{ExecOptions, RunHandles, RunOutcome, build_stages, execute};
use docpipe_core::stage::RunOptions;

const CHECK: &str = r#"
[stages.source]
type = "python-source"

[stages.extract]
type = "python-extract"
inputs = ["source"]

[stages.analyze]
type = "docstring-analyze"
inputs = ["extract"]
ignore_private = true

[stages.report]
type = "check-report"
inputs = ["analyze.complete", "analyze.incomplete"]
"#;

async fn run_check(root: &Path, format: &str) -> RunOutcome {
    let registry = docpipe_stages::builtin_registry();
    let source = ConfigSource::new("pipeline.toml", CHECK);
    let env = EnvVars::default();
    let doc = Document::parse(source, &env).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let config = Config::from_document(doc, env, &registry.section_names());
    let run = Arc::new(RunOptions {
        paths: vec![root.to_path_buf()],
        format: Some(format.to_string()),
        jobs: 2,
        ..RunOptions::default()
    });
    let validated =
        validate(config, &registry, run.clone()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let plan = validated.plan(None).unwrap().clone();
    let stages = build_stages(&validated, &plan, &registry, run.clone())
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let handles = RunHandles::new(run);
    let options = ExecOptions {
        channel_capacity: 8,
        jobs: 2,
        ..ExecOptions::default()
    };
    tokio::time::timeout(
        Duration::from_secs(60),
        execute(&plan, stages, handles, options),
    )
    .await
    .expect("the check pipeline did not finish within 60 s")
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &[u8]| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("pkg/__init__.py", b"\"\"\"Package.\"\"\"\n");
    write(
        "pkg/core.py",
        b"\"\"\"Core.\"\"\"\n\n\ndef add(a, b):\n    \"\"\"Add.\n\n    Args:\n        a: First.\n    \"\"\"\n    return a + b\n\n\ndef _hidden(x):\n    return x\n\n\nclass Box:\n    def get(self):\n        return 1\n",
    );
    write("pkg/broken.py", b"def f(:\n    pass\n");
    write("pkg/ignored.py", b"def nope(): pass\n");
    write(".gitignore", b"ignored.py\n");
    write("notes.txt", b"not python\n");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_findings_coverage_and_syntax_errors_as_json() {
    let dir = project();
    let outcome = run_check(dir.path(), "json").await;
    assert!(outcome.fatal.is_none(), "{:?}", outcome.fatal);
    assert!(outcome.invariant.is_none(), "{:?}", outcome.invariant);
    // pkg/__init__ (1) + core: module, add, _hidden, Box, Box.get (5); broken.py has no units; ignored.py is skipped.
    assert_eq!(outcome.report.units, 6);
    assert_eq!(outcome.report.file_errors.len(), 1);
    assert_eq!(outcome.report.file_errors[0].finding.code, "DP003");
    // DOC101 (b), DOC201 (add), DP101 (Box), DP102 (Box.get), plus the syntax error.
    assert_eq!(outcome.problems(), 5);
}
